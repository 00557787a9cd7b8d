/* test-imap-server.c: the IMAP4rev1 server session (sim/proto/imap/imap-server.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proto/imap/imap-parser.h"
#include "proto/imap/imap-server.h"
#include "trace/sim-explain.h"

extern const SimExplanation sim_explain_imap[];
extern const gsize sim_explain_imap_count;

#define ALICE "alice@example.org"

/* The message of the RFC 3501 section 8 sample: 342 octets of header, as
 * in the RFC, and a shorter body. */
#define MINUTES_HEADER \
  "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n" \
  "From: Terry Gray <gray@cac.washington.edu>\r\n" \
  "Subject: IMAP4rev1 WG mtg summary and minutes\r\n" \
  "To: imap@cac.washington.edu\r\n" \
  "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n" \
  "Message-Id: <B27397-0100000@cac.washington.edu>\r\n" \
  "MIME-Version: 1.0\r\n" \
  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n" \
  "\r\n"
#define MINUTES_BODY "Minutes of the meeting follow.\r\nAttendance was good.\r\n"

#define HELLO "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: hello\r\n\r\nHi Alice!\r\n"
#define LUNCH "From: Carol <carol@example.com>\r\nTo: alice@example.org\r\nSubject: lunch?\r\n\r\nNoon?\r\n"

typedef struct
{
  MailStore *store;
  GString *output;
  gboolean closed;
  SimTransport transport;
  ImapServer *server;
} Fixture;

static gboolean
is_catalogued (const char *key)
{
  for (gsize i = 0; i < sim_explain_imap_count; i++)
    if (g_strcmp0 (sim_explain_imap[i].key, key) == 0)
      return TRUE;
  return FALSE;
}

static void
fake_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  Fixture *f = impl;
  /* Every line the server writes must be explained in the catalogue. */
  if (!is_catalogued (explain_key))
    fail_msg ("explain key '%s' is not in sim_explain_imap", explain_key);
  g_string_append_len (f->output, (const char *) data, (gssize) len);
}

static void
fake_close (gpointer impl)
{
  ((Fixture *) impl)->closed = TRUE;
}

static void
deliver (MailStore *store, const char *text, SimTime when)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  assert_true (mail_store_deliver (store, ALICE, "INBOX", bytes, when, NULL, NULL));
}

/* INBOX holds three messages; 1 and 2 are \Seen, 3 is not; message 1
 * was already seen by an earlier session, so 2 and 3 are \Recent. */
static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  f->store = mail_store_new ();
  assert_true (mail_store_add_user (f->store, ALICE, "secret", 0, NULL));
  deliver (f->store, HELLO, 0);
  deliver (f->store, MINUTES_HEADER MINUTES_BODY, SIM_TIME_MINUTE);
  deliver (f->store, LUNCH, 2 * SIM_TIME_MINUTE);
  mail_store_set_flags (f->store, ALICE, "INBOX", 1, MAIL_FLAG_SEEN, NULL);
  mail_store_set_flags (f->store, ALICE, "INBOX", 2, MAIL_FLAG_SEEN, NULL);
  mail_store_take_recent (f->store, ALICE, "INBOX", 1);
  f->output = g_string_new (NULL);
  f->transport = (SimTransport) { fake_write, fake_close, f };
  f->server = imap_server_new (f->store, "imap.example.org", &f->transport);
  imap_server_start (f->server);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;
  imap_server_free (f->server);
  mail_store_free (f->store);
  g_string_free (f->output, TRUE);
  g_free (f);
  return 0;
}

/* Feeds @input and returns what the server answered to it. */
static const char *
send (Fixture *f, const char *input)
{
  g_string_truncate (f->output, 0);
  imap_server_feed (f->server, (const guint8 *) input, strlen (input));
  return f->output->str;
}

static void
log_in (Fixture *f)
{
  assert_string_equal (send (f, "L1 LOGIN alice@example.org secret\r\n"), "L1 OK LOGIN completed\r\n");
}

static void
log_in_and_select (Fixture *f)
{
  log_in (f);
  assert_non_null (strstr (send (f, "L2 SELECT INBOX\r\n"), "L2 OK [READ-WRITE] SELECT completed\r\n"));
}

/* ---- transcripts ---- */

typedef struct
{
  char who;             /* 'C' client, 'S' server */
  const char *line;     /* without the final CRLF */
} DialogLine;

/* Plays the dialog: before each client line, everything the server said
 * since the previous one must equal the server lines in between. */
static void
run_dialog (Fixture *f, const DialogLine *dialog, gsize n_lines)
{
  g_autoptr(GString) expected = g_string_new (NULL);
  for (gsize i = 0; i <= n_lines; i++)
    {
      if (i < n_lines && dialog[i].who == 'S')
        {
          g_string_append_printf (expected, "%s\r\n", dialog[i].line);
          continue;
        }
      assert_string_equal (f->output->str, expected->str);
      g_string_truncate (expected, 0);
      g_string_truncate (f->output, 0);
      if (i < n_lines)
        {
          g_autofree char *input = g_strconcat (dialog[i].line, "\r\n", NULL);
          imap_server_feed (f->server, (const guint8 *) input, strlen (input));
        }
    }
}

/* RFC 3501 section 8, adapted: three messages instead of eighteen, so
 * message 2 plays the part of message 12; our greeting, our completion
 * texts, the UIDNEXT and PERMANENTFLAGS lines of SELECT and our internal
 * date (the simulated calendar) differ from the RFC's. */
static const DialogLine rfc3501_sample[] = {
  { 'S', "* OK [CAPABILITY " IMAP_SERVER_CAPABILITIES "] imap.example.org IMAP4rev1 ready" },
  { 'C', "a001 login alice@example.org secret" },
  { 'S', "a001 OK LOGIN completed" },
  { 'C', "a002 select inbox" },
  { 'S', "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)" },
  { 'S', "* 3 EXISTS" },
  { 'S', "* 2 RECENT" },
  { 'S', "* OK [UNSEEN 3] Message 3 is first unseen" },
  { 'S', "* OK [UIDVALIDITY 1] UIDs valid" },
  { 'S', "* OK [UIDNEXT 4] Predicted next UID" },
  { 'S', "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited" },
  { 'S', "a002 OK [READ-WRITE] SELECT completed" },
  { 'C', "a003 fetch 2 full" },
  { 'S', "* 2 FETCH (FLAGS (\\Seen \\Recent) INTERNALDATE \"05-Jan-2026 09:01:00 +0000\" RFC822.SIZE 396 "
         "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
         "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
         "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
         "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
         "((NIL NIL \"imap\" \"cac.washington.edu\")) "
         "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
         "\"<B27397-0100000@cac.washington.edu>\") "
         "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 54 2))" },
  { 'S', "a003 OK FETCH completed" },
  { 'C', "a004 fetch 2 body[header]" },
  { 'S', "* 2 FETCH (BODY[HEADER] {342}\r\n" MINUTES_HEADER ")" },
  { 'S', "a004 OK FETCH completed" },
  { 'C', "a005 store 2 +flags \\deleted" },
  { 'S', "* 2 FETCH (FLAGS (\\Seen \\Deleted \\Recent))" },
  { 'S', "a005 OK STORE completed" },
  { 'C', "a006 logout" },
  { 'S', "* BYE imap.example.org IMAP4rev1 server logging out" },
  { 'S', "a006 OK LOGOUT completed" },
};

static void
test_rfc3501_section8_sample_session (void **state)
{
  Fixture *f = *state;
  run_dialog (f, rfc3501_sample, G_N_ELEMENTS (rfc3501_sample));
  assert_true (f->closed);
  assert_true (imap_server_is_finished (f->server));
  /* LOGOUT does not expunge: the \Deleted message stays. */
  assert_int_equal (mail_store_count (f->store, ALICE, "INBOX"), 3);
}

static void
test_sample_session_fed_one_octet_at_a_time (void **state)
{
  Fixture *f = *state;
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(GString) expected = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (rfc3501_sample); i++)
    g_string_append_printf (rfc3501_sample[i].who == 'C' ? input : expected, "%s\r\n", rfc3501_sample[i].line);
  for (gsize i = 0; i < input->len; i++)
    imap_server_feed (f->server, (const guint8 *) input->str + i, 1);
  assert_string_equal (f->output->str, expected->str);
}

/* RFC 3501 6.4.3: each EXPUNGE renumbers the rest, hence "3, 3, 5, 8" for
 * messages 3, 4, 7 and 11. */
static void
test_expunge_reports_sequence_numbers_as_they_shift (void **state)
{
  Fixture *f = *state;
  for (int i = 0; i < 8; i++)
    deliver (f->store, HELLO, 0);
  log_in_and_select (f);
  assert_non_null (strstr (send (f, "A1 STORE 3,4,7,11 +FLAGS.SILENT (\\Deleted)\r\n"), "A1 OK"));
  assert_string_equal (send (f, "A202 EXPUNGE\r\n"),
                       "* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n* 5 EXPUNGE\r\n* 8 EXPUNGE\r\nA202 OK EXPUNGE completed\r\n");
  assert_int_equal (mail_store_count (f->store, ALICE, "INBOX"), 7);
}

/* ---- states (RFC 3501 3) ---- */

static void
test_capability_and_noop_work_before_login (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "c1 CAPABILITY\r\n"),
                       "* CAPABILITY " IMAP_SERVER_CAPABILITIES "\r\nc1 OK CAPABILITY completed\r\n");
  assert_string_equal (send (f, "c2 NOOP\r\n"), "c2 OK NOOP completed\r\n");
}

static void
test_select_before_login_gets_bad (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "s1 SELECT INBOX\r\n"),
                       "s1 BAD SELECT is not valid now: log in first (RFC 3501 3)\r\n");
}

static void
test_fetch_before_select_gets_bad (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "f1 FETCH 1 FLAGS\r\n"),
                       "f1 BAD FETCH is not valid now: select a mailbox first (RFC 3501 3)\r\n");
  assert_string_equal (send (f, "f2 UID FETCH 1 FLAGS\r\n"),
                       "f2 BAD FETCH is not valid now: select a mailbox first (RFC 3501 3)\r\n");
}

static void
test_login_when_logged_in_gets_bad (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "x LOGIN alice@example.org secret\r\n"),
                       "x BAD LOGIN is not valid now: already authenticated (RFC 3501 3)\r\n");
}

static void
test_close_returns_to_authenticated_state (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "c CLOSE\r\n"), "c OK CLOSE completed\r\n");
  assert_int_equal (imap_server_get_state (f->server), IMAP_STATE_AUTHENTICATED);
  assert_non_null (strstr (send (f, "d FETCH 1 FLAGS\r\n"), "d BAD"));
}

static void
test_failed_select_leaves_the_selected_state (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "s SELECT Nowhere\r\n"),
                       "s NO [NONEXISTENT] 'alice@example.org' has no folder named 'Nowhere'\r\n");
  assert_int_equal (imap_server_get_state (f->server), IMAP_STATE_AUTHENTICATED);
}

/* ---- authentication ---- */

static void
test_wrong_password_gets_no_authenticationfailed (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "a LOGIN alice@example.org wrong\r\n"),
                       "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
  assert_string_equal (send (f, "b LOGIN nobody@example.org secret\r\n"),
                       "b NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
  assert_int_equal (imap_server_get_state (f->server), IMAP_STATE_NOT_AUTHENTICATED);
}

static void
test_login_accepts_quoted_strings_and_literals (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "a LOGIN \"alice@example.org\" {6}\r\n"), "+ Ready for literal data\r\n");
  assert_string_equal (send (f, "secret\r\n"), "a OK LOGIN completed\r\n");
  assert_string_equal (imap_server_get_user (f->server), ALICE);
}

static void
test_authenticate_plain_with_continuation (void **state)
{
  Fixture *f = *state;
  g_autofree char *response = g_base64_encode ((const guchar *) "\0alice@example.org\0secret", 25);
  g_autofree char *line = g_strconcat (response, "\r\n", NULL);
  assert_string_equal (send (f, "a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  assert_string_equal (send (f, line), "a OK AUTHENTICATE completed\r\n");
  assert_int_equal (imap_server_get_state (f->server), IMAP_STATE_AUTHENTICATED);
}

static void
test_authenticate_plain_with_initial_response (void **state)
{
  Fixture *f = *state;
  g_autofree char *response = g_base64_encode ((const guchar *) "\0alice@example.org\0wrong", 24);
  g_autofree char *line = g_strconcat ("a AUTHENTICATE PLAIN ", response, "\r\n", NULL);
  assert_string_equal (send (f, line), "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
}

static void
test_authenticate_can_be_cancelled (void **state)
{
  Fixture *f = *state;
  send (f, "a AUTHENTICATE PLAIN\r\n");
  assert_string_equal (send (f, "*\r\n"), "a BAD AUTHENTICATE cancelled\r\n");
  assert_string_equal (send (f, "b NOOP\r\n"), "b OK NOOP completed\r\n");
}

static void
test_authenticate_rejects_garbage_and_unknown_mechanisms (void **state)
{
  Fixture *f = *state;
  send (f, "a AUTHENTICATE PLAIN\r\n");
  assert_string_equal (send (f, "not base64!\r\n"),
                       "a BAD AUTHENTICATE: the response is not base64 (RFC 3501 6.2.2)\r\n");
  assert_string_equal (send (f, "b AUTHENTICATE PLAIN YWJj\r\n"),
                       "b BAD AUTHENTICATE PLAIN: expected authzid NUL authcid NUL password (RFC 4616 2)\r\n");
  assert_string_equal (send (f, "c AUTHENTICATE CRAM-MD5\r\n"),
                       "c NO Unsupported authentication mechanism CRAM-MD5; this server offers AUTH=PLAIN\r\n");
}

/* ---- syntax ---- */

static void
test_unknown_command_gets_bad (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "z1 FROBNICATE\r\n"), "z1 BAD Unknown command FROBNICATE\r\n");
}

static void
test_line_without_tag_gets_untagged_bad (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "NOOP\r\n"),
                       "* BAD Every command starts with a tag, a space and a command name (RFC 3501 2.2.1)\r\n");
  assert_string_equal (send (f, "\r\n"),
                       "* BAD Every command starts with a tag, a space and a command name (RFC 3501 2.2.1)\r\n");
}

static void
test_bad_arguments_get_bad (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "a LOGIN alice@example.org\r\n"),
                       "a BAD LOGIN: syntax error, expected LOGIN user password (RFC 3501 9)\r\n");
  assert_string_equal (send (f, "b LOGIN \"unterminated secret\r\n"),
                       "b BAD LOGIN: syntax error, expected LOGIN user password (RFC 3501 9)\r\n");
  assert_string_equal (send (f, "c NOOP extra\r\n"),
                       "c BAD NOOP: syntax error, expected the end of the command (RFC 3501 9)\r\n");
  assert_string_equal (send (f, "d UID LOGOUT\r\n"),
                       "d BAD UID goes with FETCH, STORE, COPY or SEARCH (RFC 3501 6.4.8)\r\n");
}

static void
test_bad_sequence_sets_and_fetch_items_get_bad (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "a FETCH 0 FLAGS\r\n"),
                       "a BAD FETCH: syntax error, expected a sequence set such as 1:3,5,7:* (RFC 3501 9)\r\n");
  assert_string_equal (send (f, "b FETCH 1:4 FLAGS\r\n"),
                       "b BAD FETCH: message 1:4 does not exist; this mailbox has 3 messages\r\n");
  assert_string_equal (send (f, "c FETCH 1 (FLAGS BOGUS)\r\n"),
                       "c BAD FETCH: syntax error, expected fetch items such as (FLAGS BODY.PEEK[HEADER]) (RFC 3501 9)\r\n");
  assert_string_equal (send (f, "d FETCH 1 BODY[HEADER.FIELDS FROM]\r\n"),
                       "d BAD FETCH: syntax error, expected fetch items such as (FLAGS BODY.PEEK[HEADER]) (RFC 3501 9)\r\n");
  assert_string_equal (send (f, "e FETCH 1:99999999999 FLAGS\r\n"),
                       "e BAD FETCH: syntax error, expected a sequence set such as 1:3,5,7:* (RFC 3501 9)\r\n");
}

static void
test_oversize_line_gets_bad_and_session_goes_on (void **state)
{
  Fixture *f = *state;
  g_autoptr(GString) line = g_string_new ("t1 LOGIN ");
  while (line->len <= IMAP_MAX_LINE + 10)
    g_string_append_c (line, 'x');
  /* In one piece, then the same without a line end, in pieces. */
  g_string_append (line, "\r\n");
  assert_string_equal (send (f, line->str), "t1 BAD Command line too long: the limit is 8192 octets\r\n");
  g_string_truncate (line, line->len - 2);
  g_string_truncate (f->output, 0);
  imap_server_feed (f->server, (const guint8 *) line->str, 100);
  imap_server_feed (f->server, (const guint8 *) line->str + 100, line->len - 100);
  assert_string_equal (f->output->str, "t1 BAD Command line too long: the limit is 8192 octets\r\n");
  assert_string_equal (send (f, "xxxx rest of the long line\r\nt2 NOOP\r\n"), "t2 OK NOOP completed\r\n");
}

static void
test_oversize_literal_gets_bad_without_continuation (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "a APPEND INBOX {99999999}\r\n"),
                       "a BAD Literal of 99999999 octets refused: the limit is 4194304 octets\r\n");
  assert_string_equal (send (f, "b APPEND INBOX {4294967296}\r\n"),
                       "b BAD APPEND: syntax error, expected the message as a literal {size} (RFC 3501 9)\r\n");
  assert_string_equal (send (f, "c NOOP\r\n"), "c OK NOOP completed\r\n");
}

/* ---- SELECT, EXAMINE, FETCH ---- */

static void
test_examine_is_read_only (void **state)
{
  Fixture *f = *state;
  log_in (f);
  const char *reply = send (f, "e EXAMINE INBOX\r\n");
  assert_non_null (strstr (reply, "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n"));
  assert_non_null (strstr (reply, "e OK [READ-ONLY] EXAMINE completed\r\n"));
  assert_string_equal (send (f, "s STORE 3 +FLAGS (\\Seen)\r\n"),
                       "s NO [READ-ONLY] The mailbox was opened with EXAMINE\r\n");
  send (f, "f FETCH 3 BODY[]\r\n");
  assert_int_equal (mail_store_get_message (f->store, ALICE, "INBOX", 3)->flags, 0);
  /* EXAMINE leaves \Recent for the next SELECT to claim. */
  assert_true (mail_store_get_message (f->store, ALICE, "INBOX", 3)->recent);
}

static void
test_fetch_body_sets_seen_but_body_peek_does_not (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "p FETCH 3 BODY.PEEK[TEXT]\r\n"),
                       "* 3 FETCH (BODY[TEXT] {7}\r\nNoon?\r\n)\r\np OK FETCH completed\r\n");
  assert_int_equal (mail_store_get_message (f->store, ALICE, "INBOX", 3)->flags, 0);
  assert_string_equal (send (f, "b FETCH 3 BODY[TEXT]\r\n"),
                       "* 3 FETCH (BODY[TEXT] {7}\r\nNoon?\r\n FLAGS (\\Seen \\Recent))\r\nb OK FETCH completed\r\n");
  assert_int_equal (mail_store_get_message (f->store, ALICE, "INBOX", 3)->flags, MAIL_FLAG_SEEN);
}

static void
test_fetch_header_fields_and_partial_body (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "h FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject from)]\r\n"),
                       "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {47}\r\n"
                       "From: Bob <bob@example.net>\r\nSubject: hello\r\n\r\n)\r\nh OK FETCH completed\r\n");
  assert_string_equal (send (f, "n FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT)]\r\n"),
                       "* 1 FETCH (BODY[HEADER.FIELDS.NOT (FROM SUBJECT)] {25}\r\n"
                       "To: alice@example.org\r\n\r\n)\r\nn OK FETCH completed\r\n");
  assert_string_equal (send (f, "p FETCH 1 BODY.PEEK[]<6.3>\r\n"),
                       "* 1 FETCH (BODY[]<6> {3}\r\nBob)\r\np OK FETCH completed\r\n");
  assert_string_equal (send (f, "q FETCH 1 BODY.PEEK[]<5000.10>\r\n"),
                       "* 1 FETCH (BODY[]<5000> {0}\r\n)\r\nq OK FETCH completed\r\n");
}

static void
test_fetch_rfc822_items_and_macros (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "a FETCH 3 (RFC822.SIZE INTERNALDATE UID)\r\n"),
                       "* 3 FETCH (RFC822.SIZE 82 INTERNALDATE \"05-Jan-2026 09:02:00 +0000\" UID 3)\r\n"
                       "a OK FETCH completed\r\n");
  assert_string_equal (send (f, "b FETCH 1 RFC822.HEADER\r\n"),
                       "* 1 FETCH (RFC822.HEADER {70}\r\nFrom: Bob <bob@example.net>\r\nTo: alice@example.org\r\n"
                       "Subject: hello\r\n\r\n)\r\nb OK FETCH completed\r\n");
  assert_string_equal (send (f, "c FETCH 1 FAST\r\n"),
                       "* 1 FETCH (FLAGS (\\Seen) INTERNALDATE \"05-Jan-2026 09:00:00 +0000\" RFC822.SIZE 81)\r\n"
                       "c OK FETCH completed\r\n");
  assert_string_equal (send (f, "d FETCH 3 RFC822\r\n"),
                       "* 3 FETCH (RFC822 {82}\r\n" LUNCH " FLAGS (\\Seen \\Recent))\r\nd OK FETCH completed\r\n");
}

static void
test_uid_fetch_answers_with_uids_and_skips_missing_ones (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "u UID FETCH 2:* FLAGS\r\n"),
                       "* 2 FETCH (FLAGS (\\Seen \\Recent) UID 2)\r\n* 3 FETCH (FLAGS (\\Recent) UID 3)\r\n"
                       "u OK UID FETCH completed\r\n");
  /* RFC 3501 6.4.8: 55:* includes the largest UID even when 55 is bigger. */
  assert_string_equal (send (f, "v UID FETCH 55:* (UID)\r\n"), "* 3 FETCH (UID 3)\r\nv OK UID FETCH completed\r\n");
  assert_string_equal (send (f, "w UID FETCH 7,9 FLAGS\r\n"), "w OK UID FETCH completed\r\n");
}

static void
test_sequence_sets_with_lists_ranges_and_star (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "a FETCH 3:1 (UID)\r\n"),
                       "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\na OK FETCH completed\r\n");
  assert_string_equal (send (f, "b FETCH 1,*,1 (UID)\r\n"),
                       "* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\nb OK FETCH completed\r\n");
}

/* ---- STORE, SEARCH, COPY, EXPUNGE ---- */

static void
test_store_replaces_adds_and_removes_flags (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "a STORE 1 FLAGS (\\Flagged \\Answered)\r\n"),
                       "* 1 FETCH (FLAGS (\\Answered \\Flagged))\r\na OK STORE completed\r\n");
  assert_string_equal (send (f, "b STORE 1 -FLAGS \\Flagged\r\n"),
                       "* 1 FETCH (FLAGS (\\Answered))\r\nb OK STORE completed\r\n");
  assert_string_equal (send (f, "c UID STORE 1 +FLAGS.SILENT (\\Draft)\r\n"), "c OK UID STORE completed\r\n");
  assert_int_equal (mail_store_get_message (f->store, ALICE, "INBOX", 1)->flags, MAIL_FLAG_ANSWERED | MAIL_FLAG_DRAFT);
  assert_string_equal (send (f, "d UID STORE 3 +FLAGS (\\Seen)\r\n"),
                       "* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent))\r\nd OK UID STORE completed\r\n");
  assert_non_null (strstr (send (f, "e STORE 1 +FLAGS (\\Recent)\r\n"), "e BAD"));
  assert_non_null (strstr (send (f, "f STORE 1 +KEYWORDS (\\Seen)\r\n"), "f BAD"));
}

static void
test_search_by_flags_headers_and_uids (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "a SEARCH ALL\r\n"), "* SEARCH 1 2 3\r\na OK SEARCH completed\r\n");
  assert_string_equal (send (f, "b SEARCH UNSEEN\r\n"), "* SEARCH 3\r\nb OK SEARCH completed\r\n");
  assert_string_equal (send (f, "c SEARCH SEEN FROM \"terry\"\r\n"), "* SEARCH 2\r\nc OK SEARCH completed\r\n");
  assert_string_equal (send (f, "d SEARCH OR SUBJECT lunch TO imap@\r\n"), "* SEARCH 2 3\r\nd OK SEARCH completed\r\n");
  assert_string_equal (send (f, "e SEARCH NOT (UID 1:2)\r\n"), "* SEARCH 3\r\ne OK SEARCH completed\r\n");
  assert_string_equal (send (f, "f UID SEARCH 2:* BODY meeting\r\n"), "* SEARCH 2\r\nf OK UID SEARCH completed\r\n");
  assert_string_equal (send (f, "g SEARCH CHARSET UTF-8 SINCE 5-Jan-2026 BEFORE 6-Jan-2026 LARGER 81\r\n"),
                       "* SEARCH 2 3\r\ng OK SEARCH completed\r\n");
  assert_string_equal (send (f, "h SEARCH RECENT NEW\r\n"), "* SEARCH 3\r\nh OK SEARCH completed\r\n");
  assert_string_equal (send (f, "i SEARCH FROM nobody\r\n"), "* SEARCH\r\ni OK SEARCH completed\r\n");
  assert_string_equal (send (f, "j SEARCH CHARSET KOI8-R ALL\r\n"),
                       "j NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset\r\n");
  assert_non_null (strstr (send (f, "k SEARCH SINCE yesterday\r\n"), "k BAD"));
  assert_non_null (strstr (send (f, "l SEARCH (ALL\r\n"), "l BAD"));
}

static void
test_copy_and_uid_copy (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "a COPY 1:2 Trash\r\n"), "a OK COPY completed\r\n");
  assert_string_equal (send (f, "b UID COPY 3 Trash\r\n"), "b OK UID COPY completed\r\n");
  assert_int_equal (mail_store_count (f->store, ALICE, "Trash"), 3);
  assert_string_equal (send (f, "c COPY 1 Archive\r\n"),
                       "c NO [TRYCREATE] 'alice@example.org' has no folder named 'Archive'\r\n");
}

static void
test_close_expunges_silently (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  send (f, "a STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  assert_string_equal (send (f, "b CLOSE\r\n"), "b OK CLOSE completed\r\n");
  assert_int_equal (mail_store_count (f->store, ALICE, "INBOX"), 2);
}

static void
test_connection_lost_expunges_nothing (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  send (f, "a STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  imap_server_connection_lost (f->server);
  assert_true (imap_server_is_finished (f->server));
  assert_int_equal (mail_store_count (f->store, ALICE, "INBOX"), 3);
  assert_string_equal (send (f, "b NOOP\r\n"), "");
}

/* ---- mailboxes ---- */

static void
test_list_with_wildcards (void **state)
{
  Fixture *f = *state;
  log_in (f);
  send (f, "a CREATE Work/2026\r\n");
  assert_string_equal (send (f, "b LIST \"\" \"\"\r\n"), "* LIST (\\Noselect) \"/\" \"\"\r\nb OK LIST completed\r\n");
  assert_string_equal (send (f, "c LIST \"\" %\r\n"),
                       "* LIST () \"/\" INBOX\r\n* LIST () \"/\" Junk\r\n* LIST () \"/\" Sent\r\n"
                       "* LIST () \"/\" Trash\r\n* LIST () \"/\" Work\r\nc OK LIST completed\r\n");
  assert_string_equal (send (f, "d LIST Work/ *\r\n"), "* LIST () \"/\" Work/2026\r\nd OK LIST completed\r\n");
  assert_string_equal (send (f, "e LIST \"\" inbox\r\n"), "* LIST () \"/\" INBOX\r\ne OK LIST completed\r\n");
  assert_string_equal (send (f, "f LSUB \"\" T*\r\n"), "* LSUB () \"/\" Trash\r\nf OK LSUB completed\r\n");
}

static void
test_create_rename_delete_and_their_failures (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "a CREATE \"My Folder\"\r\n"), "a OK CREATE completed\r\n");
  assert_string_equal (send (f, "b CREATE \"My Folder\"\r\n"),
                       "b NO [ALREADYEXISTS] 'alice@example.org' already has a folder named 'My Folder'\r\n");
  assert_string_equal (send (f, "c CREATE inbox\r\n"), "c NO [ALREADYEXISTS] INBOX always exists (RFC 3501 6.3.3)\r\n");
  assert_string_equal (send (f, "d RENAME \"My Folder\" Archive\r\n"), "d OK RENAME completed\r\n");
  assert_true (mail_store_has_folder (f->store, ALICE, "Archive"));
  assert_string_equal (send (f, "e DELETE Archive\r\n"), "e OK DELETE completed\r\n");
  assert_string_equal (send (f, "f DELETE Archive\r\n"),
                       "f NO [NONEXISTENT] 'alice@example.org' has no folder named 'Archive'\r\n");
  assert_string_equal (send (f, "g DELETE INBOX\r\n"), "g NO [CANNOT] INBOX cannot be deleted (RFC 3501 6.3.4)\r\n");
}

static void
test_status_counts_without_selecting (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "s STATUS inbox (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)\r\n"),
                       "* STATUS inbox (MESSAGES 3 UNSEEN 1 UIDNEXT 4 UIDVALIDITY 1 RECENT 2)\r\ns OK STATUS completed\r\n");
  assert_non_null (strstr (send (f, "t STATUS INBOX (SIZE)\r\n"), "t BAD STATUS: unknown item SIZE"));
  assert_non_null (strstr (send (f, "u STATUS Nowhere (MESSAGES)\r\n"), "u NO [NONEXISTENT]"));
}

/* ---- APPEND ---- */

static void
test_append_with_flags_date_and_literal (void **state)
{
  Fixture *f = *state;
  log_in (f);
  imap_server_set_now (f->server, SIM_TIME_HOUR);
  assert_string_equal (send (f, "a APPEND Sent (\\Seen) \" 7-Jan-2026 10:30:00 +0100\" {12}\r\n"),
                       "+ Ready for literal data\r\n");
  assert_string_equal (send (f, "Subject: x\r\n\r\n"), "a OK APPEND completed\r\n");
  const MailStoreMessage *m = mail_store_get_message (f->store, ALICE, "Sent", 1);
  assert_non_null (m);
  assert_int_equal (m->flags, MAIL_FLAG_SEEN);
  assert_int_equal (m->internal_date, 2 * SIM_TIME_DAY + SIM_TIME_MINUTE * 30);
  assert_int_equal (g_bytes_get_size (m->data), 12);

  send (f, "b APPEND Sent {3}\r\n");
  assert_string_equal (send (f, "abc\r\n"), "b OK APPEND completed\r\n");
  assert_int_equal (mail_store_get_message (f->store, ALICE, "Sent", 2)->internal_date, SIM_TIME_HOUR);
}

static void
test_append_to_selected_mailbox_announces_exists (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  send (f, "a APPEND INBOX {3}\r\n");
  assert_string_equal (send (f, "abc\r\n"), "* 4 EXISTS\r\n* 3 RECENT\r\na OK APPEND completed\r\n");
}

static void
test_append_failures (void **state)
{
  Fixture *f = *state;
  mail_store_add_user (f->store, "full@example.org", "pw", 5, NULL);
  assert_string_equal (send (f, "l LOGIN full@example.org pw\r\n"), "l OK LOGIN completed\r\n");
  send (f, "a APPEND Archive {3}\r\n");
  assert_string_equal (send (f, "abc\r\n"), "a NO [TRYCREATE] 'full@example.org' has no folder named 'Archive'\r\n");
  send (f, "b APPEND INBOX {6}\r\n");
  assert_string_equal (send (f, "abcdef\r\n"),
                       "b NO [OVERQUOTA] 'full@example.org' is over quota: 0 of 5 octets used, 6 more do not fit\r\n");
  assert_string_equal (send (f, "c APPEND INBOX {0}\r\n"), "+ Ready for literal data\r\n");
  assert_string_equal (send (f, "\r\n"), "c NO [CANNOT] An empty message cannot be appended\r\n");
  assert_non_null (strstr (send (f, "d APPEND INBOX \"yesterday\" {1}\r\n"), "+ Ready"));
  assert_non_null (strstr (send (f, "x\r\n"), "d BAD APPEND: syntax error, expected a date-time"));
  assert_non_null (strstr (send (f, "e APPEND INBOX (\\Recent) {1}\r\n"), "+ Ready"));
  assert_non_null (strstr (send (f, "x\r\n"), "e BAD APPEND: syntax error, expected a flag list"));
}

/* ---- IDLE and the end of a session ---- */

static void
test_idle_pushes_exists_when_mail_arrives (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  assert_string_equal (send (f, "i IDLE\r\n"), "+ idling\r\n");
  g_string_truncate (f->output, 0);
  deliver (f->store, HELLO, SIM_TIME_HOUR);
  assert_string_equal (f->output->str, "* 4 EXISTS\r\n* 3 RECENT\r\n");
  assert_string_equal (send (f, "DONE\r\n"), "i OK IDLE terminated\r\n");
}

static void
test_idle_ended_by_anything_but_done_gets_bad (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  send (f, "i IDLE\r\n");
  assert_string_equal (send (f, "j NOOP\r\n"), "i BAD Expected DONE to end IDLE (RFC 2177 3)\r\n");
  assert_string_equal (send (f, "k NOOP\r\n"), "k OK NOOP completed\r\n");
  g_autoptr(GString) long_line = g_string_new (NULL);
  while (long_line->len <= IMAP_MAX_LINE)
    g_string_append_c (long_line, 'x');
  send (f, "l IDLE\r\n");
  assert_string_equal (send (f, long_line->str), "l BAD Command line too long: the limit is 8192 octets\r\n");
  assert_string_equal (send (f, "\r\nm NOOP\r\n"), "m OK NOOP completed\r\n");
}

static void
test_noop_reports_changes_made_by_another_session (void **state)
{
  Fixture *f = *state;
  log_in_and_select (f);
  mail_store_set_flags (f->store, ALICE, "INBOX", 3, MAIL_FLAG_FLAGGED, NULL);
  const guint32 gone[] = { 1 };
  mail_store_remove (f->store, ALICE, "INBOX", gone, 1, NULL);
  /* RFC 3501 7.4.1: no EXPUNGE during FETCH; NOOP reports it. */
  assert_string_equal (send (f, "a FETCH 3 (UID)\r\n"),
                       "* 3 FETCH (UID 3)\r\n* 3 FETCH (FLAGS (\\Flagged \\Recent))\r\na OK FETCH completed\r\n");
  assert_string_equal (send (f, "b NOOP\r\n"), "* 1 EXPUNGE\r\nb OK NOOP completed\r\n");
}

static void
test_idle_timeout_says_bye_and_closes (void **state)
{
  Fixture *f = *state;
  g_string_truncate (f->output, 0);
  imap_server_idle_timeout (f->server);
  assert_string_equal (f->output->str, "* BYE Autologout; idle for too long\r\n");
  assert_true (f->closed);
  assert_true (imap_server_is_finished (f->server));
}

static void
test_input_after_logout_is_ignored (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "a LOGOUT\r\nb NOOP\r\n"),
                       "* BYE imap.example.org IMAP4rev1 server logging out\r\na OK LOGOUT completed\r\n");
  assert_string_equal (send (f, "c NOOP\r\n"), "");
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_rfc3501_section8_sample_session),
    T (test_sample_session_fed_one_octet_at_a_time),
    T (test_expunge_reports_sequence_numbers_as_they_shift),
    T (test_capability_and_noop_work_before_login),
    T (test_select_before_login_gets_bad),
    T (test_fetch_before_select_gets_bad),
    T (test_login_when_logged_in_gets_bad),
    T (test_close_returns_to_authenticated_state),
    T (test_failed_select_leaves_the_selected_state),
    T (test_wrong_password_gets_no_authenticationfailed),
    T (test_login_accepts_quoted_strings_and_literals),
    T (test_authenticate_plain_with_continuation),
    T (test_authenticate_plain_with_initial_response),
    T (test_authenticate_can_be_cancelled),
    T (test_authenticate_rejects_garbage_and_unknown_mechanisms),
    T (test_unknown_command_gets_bad),
    T (test_line_without_tag_gets_untagged_bad),
    T (test_bad_arguments_get_bad),
    T (test_bad_sequence_sets_and_fetch_items_get_bad),
    T (test_oversize_line_gets_bad_and_session_goes_on),
    T (test_oversize_literal_gets_bad_without_continuation),
    T (test_examine_is_read_only),
    T (test_fetch_body_sets_seen_but_body_peek_does_not),
    T (test_fetch_header_fields_and_partial_body),
    T (test_fetch_rfc822_items_and_macros),
    T (test_uid_fetch_answers_with_uids_and_skips_missing_ones),
    T (test_sequence_sets_with_lists_ranges_and_star),
    T (test_store_replaces_adds_and_removes_flags),
    T (test_search_by_flags_headers_and_uids),
    T (test_copy_and_uid_copy),
    T (test_close_expunges_silently),
    T (test_connection_lost_expunges_nothing),
    T (test_list_with_wildcards),
    T (test_create_rename_delete_and_their_failures),
    T (test_status_counts_without_selecting),
    T (test_append_with_flags_date_and_literal),
    T (test_append_to_selected_mailbox_announces_exists),
    T (test_append_failures),
    T (test_idle_pushes_exists_when_mail_arrives),
    T (test_idle_ended_by_anything_but_done_gets_bad),
    T (test_noop_reports_changes_made_by_another_session),
    T (test_idle_timeout_says_bye_and_closes),
    T (test_input_after_logout_is_ignored),
  };
#undef T
  return cmocka_run_group_tests (tests, NULL, NULL);
}
