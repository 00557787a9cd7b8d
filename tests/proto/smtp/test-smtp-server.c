/* test-smtp-server.c: the SMTP/LMTP server state machine, fed bytes.
 *
 * The server talks through a fake SimTransport that appends what it writes
 * to a string and records the close.  Transcript tests hold the dialog as
 * data, one "C: ..." or "S: ..." line per entry, so a reader sees the
 * conversation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto/smtp/smtp-server.h"

/* ---- fake transport and policy ---- */

typedef struct
{
  SimTransport transport;
  SmtpServer *server;
  GString *written;        /* every byte the server sent */
  gsize read;              /* how far the transcript checker has read */
  GPtrArray *keys;         /* explain key of each write */
  guint closes;
  /* Policy. */
  GHashTable *unknown_users;  /* forward-paths answered 550 */
  GHashTable *full_users;     /* LMTP: forward-paths answered 452 at the dot */
  /* What the server delivered. */
  guint messages;
  char *reverse_path;
  GPtrArray *recipients;
  GString *content;
} Session;

static void
fake_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  Session *session = impl;

  g_string_append_len (session->written, (const char *) data, (gssize) len);
  g_ptr_array_add (session->keys, g_strdup (explain_key));
}

static void
fake_close (gpointer impl)
{
  Session *session = impl;
  session->closes++;
}

static void
check_recipient (SmtpServer *server, const char *reverse_path, const char *forward_path, SmtpReply *reply,
                 gpointer user_data)
{
  Session *session = user_data;

  if (g_hash_table_contains (session->unknown_users, forward_path))
    {
      reply->code = 550;
      reply->enhanced = g_strdup ("5.1.1");
      reply->text = g_strdup ("No such user here");
    }
}

static gboolean
authenticate (SmtpServer *server, const char *user, const char *password, gpointer user_data)
{
  return g_str_equal (user, "alice") && g_str_equal (password, "secret");
}

static void
deliver_message (SmtpServer *server, const SmtpEnvelope *envelope, GBytes *content, GPtrArray *replies,
                 gpointer user_data)
{
  Session *session = user_data;
  gsize len;
  const char *data = g_bytes_get_data (content, &len);

  session->messages++;
  g_free (session->reverse_path);
  session->reverse_path = g_strdup (envelope->reverse_path);
  g_ptr_array_set_size (session->recipients, 0);
  for (guint i = 0; i < envelope->recipients->len; i++)
    g_ptr_array_add (session->recipients, g_strdup (g_ptr_array_index (envelope->recipients, i)));
  g_string_assign (session->content, "");
  g_string_append_len (session->content, data, (gssize) len);

  if (smtp_server_get_service (server) != SMTP_SERVICE_LMTP)
    {
      g_autofree char *text = g_strdup_printf ("Ok: queued as Q%u", session->messages);
      g_ptr_array_add (replies, smtp_reply_new (250, "2.0.0", text));
      return;
    }
  /* RFC 2033 4.2: one reply per accepted recipient, in order. */
  for (guint i = 0; i < envelope->recipients->len; i++)
    {
      const char *rcpt = g_ptr_array_index (envelope->recipients, i);
      if (g_hash_table_contains (session->full_users, rcpt))
        g_ptr_array_add (replies, smtp_reply_new (452, "4.2.2", "Mailbox full"));
      else
        g_ptr_array_add (replies, smtp_reply_new (250, "2.1.5", "Delivered"));
    }
}

static const SmtpServerHandler handler = { check_recipient, authenticate, deliver_message, NULL };

static Session *
session_new (SmtpService service)
{
  Session *session = g_new0 (Session, 1);

  session->transport.write = fake_write;
  session->transport.close = fake_close;
  session->transport.impl = session;
  session->written = g_string_new (NULL);
  session->keys = g_ptr_array_new_with_free_func (g_free);
  session->unknown_users = g_hash_table_new (g_str_hash, g_str_equal);
  session->full_users = g_hash_table_new (g_str_hash, g_str_equal);
  session->recipients = g_ptr_array_new_with_free_func (g_free);
  session->content = g_string_new (NULL);
  session->server = smtp_server_new (service, "foo.example", &session->transport, &handler, session);
  return session;
}

static void
session_free (Session *session)
{
  smtp_server_free (session->server);
  g_string_free (session->written, TRUE);
  g_ptr_array_unref (session->keys);
  g_hash_table_destroy (session->unknown_users);
  g_hash_table_destroy (session->full_users);
  g_free (session->reverse_path);
  g_ptr_array_unref (session->recipients);
  g_string_free (session->content, TRUE);
  g_free (session);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_free)

static void
feed (Session *session, const char *text)
{
  smtp_server_feed (session->server, (const guint8 *) text, strlen (text));
}

static void
feed_bytes (Session *session, const void *data, gsize len)
{
  smtp_server_feed (session->server, data, len);
}

/* The next line the server wrote (without CRLF), or NULL when none. */
static char *
next_reply_line (Session *session)
{
  const char *start = session->written->str + session->read;
  gsize available = session->written->len - session->read;
  /* memchr, not strstr: ASan's strstr measures the whole haystack on
   * every call, which makes reading a long session quadratic. */
  const char *end = memchr (start, '\n', available);

  if (end == NULL || end == start || end[-1] != '\r')
    return NULL;
  end--;
  session->read += (gsize) (end - start) + 2;
  return g_strndup (start, (gsize) (end - start));
}

static char *
unread_output (Session *session)
{
  return g_strdup (session->written->str + session->read);
}

/* Replies since the last check, one per line, joined by '\n'. */
static char *
take_output (Session *session)
{
  g_autoptr(GString) lines = g_string_new (NULL);
  char *line;

  while ((line = next_reply_line (session)) != NULL)
    {
      g_string_append_printf (lines, "%s%s", lines->len > 0 ? "\n" : "", line);
      g_free (line);
    }
  return g_strdup (lines->str);
}

static void
assert_reply (Session *session, const char *expected)
{
  g_autofree char *got = take_output (session);
  assert_string_equal (got, expected);
}

/* Plays a dialog: "C: " lines are fed with CRLF (all the C: lines in a row
 * go in one chunk, as a pipelining client sends them), "S: " lines must be
 * exactly the next lines the server wrote.  Nothing may be left unread. */
static void
play (Session *session, const char *const *transcript)
{
  g_autoptr(GString) pending = g_string_new (NULL);

  for (gsize i = 0; transcript[i] != NULL; i++)
    {
      const char *entry = transcript[i];
      if (g_str_has_prefix (entry, "C: "))
        {
          g_string_append_printf (pending, "%s\r\n", entry + 3);
          continue;
        }
      assert_true (g_str_has_prefix (entry, "S: "));
      if (pending->len > 0)
        {
          feed (session, pending->str);
          g_string_truncate (pending, 0);
        }
      g_autofree char *line = next_reply_line (session);
      if (line == NULL)
        fail_msg ("transcript line %" G_GSIZE_FORMAT ": expected '%s', the server said nothing", i, entry + 3);
      if (!g_str_equal (line, entry + 3))
        fail_msg ("transcript line %" G_GSIZE_FORMAT ": expected '%s', got '%s'", i, entry + 3, line);
    }
  if (pending->len > 0)
    feed (session, pending->str);
  g_autofree char *rest = unread_output (session);
  assert_string_equal (rest, "");
}

/* Greeting and EHLO, checked, for tests about what comes after. */
static Session *
greeted_session (SmtpService service)
{
  Session *session = session_new (service);

  smtp_server_start (session->server);
  feed (session, service == SMTP_SERVICE_LMTP ? "LHLO bar.example\r\n" : "EHLO bar.example\r\n");
  g_autofree char *greeting = next_reply_line (session);
  assert_true (g_str_has_prefix (greeting, "220 "));
  g_autofree char *rest = take_output (session);
  assert_true (g_str_has_prefix (rest, "250-foo.example Hello bar.example"));
  return session;
}

/* ---- transcripts ---- */

/* RFC 5321 Appendix D.1, a typical SMTP transaction, with the example's
 * names moved to .example.  The client lines are the RFC's; the server
 * lines are what this server sends: same reply codes, but our texts
 * differ from the RFC's sample texts (the RFC says any text will do) and
 * carry RFC 3463 enhanced codes, since the client used EHLO. */
static const char *const rfc5321_d1[] = {
  "S: 220 foo.example ESMTP mailsim",
  "C: EHLO bar.example",
  "S: 250-foo.example Hello bar.example",
  "S: 250-PIPELINING",
  "S: 250-SIZE 10485760",
  "S: 250-8BITMIME",
  "S: 250 ENHANCEDSTATUSCODES",
  "C: MAIL FROM:<Smith@bar.example>",
  "S: 250 2.1.0 Ok",
  "C: RCPT TO:<Jones@foo.example>",
  "S: 250 2.1.5 Ok",
  "C: RCPT TO:<Green@foo.example>",
  "S: 550 5.1.1 No such user here",
  "C: RCPT TO:<Brown@foo.example>",
  "S: 250 2.1.5 Ok",
  "C: DATA",
  "S: 354 End data with <CR><LF>.<CR><LF>",
  "C: Blah blah blah...",
  "C: ...etc. etc. etc.",
  "C: .",
  "S: 250 2.0.0 Ok: queued as Q1",
  "C: QUIT",
  "S: 221 2.0.0 foo.example closing connection",
  NULL,
};

static void
test_rfc5321_d1_typical_transaction (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_RELAY);

  g_hash_table_add (session->unknown_users, "Green@foo.example");
  smtp_server_start (session->server);
  play (session, rfc5321_d1);

  assert_int_equal (session->messages, 1);
  assert_string_equal (session->reverse_path, "Smith@bar.example");
  assert_int_equal (session->recipients->len, 2);
  assert_string_equal (g_ptr_array_index (session->recipients, 0), "Jones@foo.example");
  assert_string_equal (g_ptr_array_index (session->recipients, 1), "Brown@foo.example");
  /* The RFC's "...etc." line is dot-stuffed on the wire: one dot goes. */
  assert_string_equal (session->content->str, "Blah blah blah...\r\n..etc. etc. etc.\r\n");
  assert_int_equal (session->closes, 1);
  assert_true (smtp_server_is_finished (session->server));
  assert_string_equal (smtp_server_get_helo (session->server), "bar.example");
  assert_true (smtp_server_get_esmtp (session->server));
}

/* RFC 5321 Appendix D.2, an aborted transaction: RSET drops the envelope. */
static const char *const rfc5321_d2[] = {
  "S: 220 foo.example ESMTP mailsim",
  "C: EHLO bar.example",
  "S: 250-foo.example Hello bar.example",
  "S: 250-PIPELINING",
  "S: 250-SIZE 10485760",
  "S: 250-8BITMIME",
  "S: 250 ENHANCEDSTATUSCODES",
  "C: MAIL FROM:<Smith@bar.example>",
  "S: 250 2.1.0 Ok",
  "C: RCPT TO:<Jones@foo.example>",
  "S: 250 2.1.5 Ok",
  "C: RCPT TO:<Green@foo.example>",
  "S: 550 5.1.1 No such user here",
  "C: RSET",
  "S: 250 2.0.0 Ok",
  "C: QUIT",
  "S: 221 2.0.0 foo.example closing connection",
  NULL,
};

static void
test_rfc5321_d2_aborted_transaction_with_rset (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_RELAY);

  g_hash_table_add (session->unknown_users, "Green@foo.example");
  smtp_server_start (session->server);
  play (session, rfc5321_d2);
  assert_int_equal (session->messages, 0);
  assert_int_equal (session->closes, 1);
}

/* After RSET the next transaction starts clean: DATA needs MAIL again. */
static const char *const rset_then_new_transaction[] = {
  "S: 220 foo.example ESMTP mailsim",
  "C: HELO bar.example",
  "S: 250 foo.example",
  "C: MAIL FROM:<a@bar.example>",
  "S: 250 Ok",
  "C: RCPT TO:<b@foo.example>",
  "S: 250 Ok",
  "C: RSET",
  "S: 250 Ok",
  "C: DATA",
  "S: 503 Error: need MAIL command",
  "C: MAIL FROM:<c@bar.example>",
  "S: 250 Ok",
  "C: DATA",
  "S: 503 Error: need RCPT command",
  "C: RCPT TO:<d@foo.example>",
  "S: 250 Ok",
  "C: DATA",
  "S: 354 End data with <CR><LF>.<CR><LF>",
  "C: Subject: second",
  "C: ",
  "C: body",
  "C: .",
  "S: 250 Ok: queued as Q1",
  NULL,
};

static void
test_helo_session_has_no_enhanced_codes_and_rset_restarts (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_RELAY);

  smtp_server_start (session->server);
  play (session, rset_then_new_transaction);
  assert_false (smtp_server_get_esmtp (session->server));
  assert_string_equal (session->reverse_path, "c@bar.example");
  assert_int_equal (session->recipients->len, 1);
  assert_string_equal (g_ptr_array_index (session->recipients, 0), "d@foo.example");
  assert_string_equal (session->content->str, "Subject: second\r\n\r\nbody\r\n");
}

static void
test_transcript_fed_one_byte_at_a_time_gives_the_same_dialog (void **state)
{
  g_autoptr(Session) whole = session_new (SMTP_SERVICE_RELAY);
  g_autoptr(Session) bytes = session_new (SMTP_SERVICE_RELAY);
  g_autoptr(GString) client = g_string_new (NULL);

  for (gsize i = 0; rfc5321_d1[i] != NULL; i++)
    if (g_str_has_prefix (rfc5321_d1[i], "C: "))
      g_string_append_printf (client, "%s\r\n", rfc5321_d1[i] + 3);
  g_hash_table_add (whole->unknown_users, "Green@foo.example");
  g_hash_table_add (bytes->unknown_users, "Green@foo.example");
  smtp_server_start (whole->server);
  smtp_server_start (bytes->server);
  feed (whole, client->str);
  for (gsize i = 0; i < client->len; i++)
    feed_bytes (bytes, client->str + i, 1);

  assert_string_equal (bytes->written->str, whole->written->str);
  assert_string_equal (bytes->content->str, "Blah blah blah...\r\n..etc. etc. etc.\r\n");
  assert_int_equal (bytes->messages, 1);
}

static void
test_bare_lf_line_endings_are_accepted (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "MAIL FROM:<a@bar.example>\nRCPT TO:<b@foo.example>\nDATA\nhello\n.\n");
  assert_reply (session, "250 2.1.0 Ok\n250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>\n"
                         "250 2.0.0 Ok: queued as Q1");
  assert_string_equal (session->content->str, "hello\r\n");
}

/* ---- error paths ---- */

static void
test_rcpt_before_mail_gets_503 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "RCPT TO:<b@foo.example>\r\n");
  assert_reply (session, "503 5.5.1 Error: need MAIL command");
  /* The session goes on. */
  feed (session, "MAIL FROM:<a@bar.example>\r\n");
  assert_reply (session, "250 2.1.0 Ok");
}

static void
test_mail_before_helo_gets_503 (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_RELAY);

  smtp_server_start (session->server);
  g_free (next_reply_line (session));
  feed (session, "MAIL FROM:<a@bar.example>\r\n");
  assert_reply (session, "503 Error: send HELO/EHLO first");
}

static void
test_nested_mail_gets_503 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "MAIL FROM:<a@bar.example>\r\nMAIL FROM:<a@bar.example>\r\n");
  assert_reply (session, "250 2.1.0 Ok\n503 5.5.1 Error: nested MAIL command");
}

static void
test_unknown_command_gets_500 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "WHAT is this\r\nNOOP\r\n");
  assert_reply (session, "500 5.5.2 Error: command not recognized\n250 2.0.0 Ok");
}

static void
test_mail_without_brackets_gets_501 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "MAIL FROM:alice@bar.example\r\n");
  assert_reply (session, "501 5.5.4 the address must be in angle brackets, like <alice@example.com>");
  feed (session, "MAIL TO:<alice@bar.example>\r\n");
  assert_reply (session, "501 5.5.4 Syntax: MAIL FROM:<address>");
}

static void
test_mail_with_unknown_parameter_gets_555 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "MAIL FROM:<a@bar.example> SMTPUTF8\r\nMAIL FROM:<a@bar.example> SIZE=12x\r\n");
  assert_reply (session, "555 5.5.4 Unsupported option in MAIL parameters\n501 5.5.4 Bad SIZE parameter");
  feed (session, "MAIL FROM:<a@bar.example> BODY=8BITMIME SIZE=100\r\n");
  assert_reply (session, "250 2.1.0 Ok");
}

static void
test_ehlo_without_hostname_gets_501 (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_RELAY);

  smtp_server_start (session->server);
  g_free (next_reply_line (session));
  feed (session, "EHLO\r\nLHLO bar.example\r\n");
  assert_reply (session, "501 Syntax: EHLO hostname\n500 Error: LHLO is LMTP, this is an SMTP server");
}

static void
test_command_line_over_512_gets_500_and_session_continues (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);
  /* RFC 5321 4.5.3.1.4: 512 octets including CRLF is the limit. */
  g_autofree char *padding_ok = g_strnfill (512 - 2 - strlen ("NOOP "), 'x');
  g_autofree char *padding_long = g_strnfill (600, 'x');
  g_autofree char *at_limit = g_strdup_printf ("NOOP %s\r\n", padding_ok);
  g_autofree char *too_long = g_strdup_printf ("NOOP %s\r\n", padding_long);

  assert_int_equal (strlen (at_limit), 512);
  feed (session, at_limit);
  assert_reply (session, "250 2.0.0 Ok");
  feed (session, too_long);
  assert_reply (session, "500 5.5.2 Error: line too long");
  feed (session, "NOOP\r\n");
  assert_reply (session, "250 2.0.0 Ok");
}

static void
test_long_command_line_in_small_chunks_gets_one_500 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);
  g_autofree char *chunk = g_strnfill (100, 'y');

  feed (session, "MAIL FROM:<");
  for (int i = 0; i < 50; i++)
    feed (session, chunk);
  feed (session, "@bar.example>\r\nNOOP\r\n");
  /* One complaint, the tail of the long line skipped, then NOOP answered;
   * nothing of the long line was taken as a MAIL command. */
  assert_reply (session, "500 5.5.2 Error: line too long\n250 2.0.0 Ok");
  feed (session, "RCPT TO:<b@foo.example>\r\n");
  assert_reply (session, "503 5.5.1 Error: need MAIL command");
}

static void
start_data (Session *session)
{
  feed (session, "MAIL FROM:<a@bar.example>\r\nRCPT TO:<b@foo.example>\r\nDATA\r\n");
  assert_reply (session, "250 2.1.0 Ok\n250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>");
}

static void
test_text_line_over_1000_refused_at_dot (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);
  g_autofree char *fits = g_strnfill (998, 'f');
  g_autofree char *long_line = g_strnfill (1200, 'z');

  /* 998 octets and CRLF make 1000: accepted (RFC 5321 4.5.3.1.6). */
  start_data (session);
  feed (session, fits);
  feed (session, "\r\n.\r\n");
  assert_reply (session, "250 2.0.0 Ok: queued as Q1");
  assert_int_equal (session->content->len, 1000);

  start_data (session);
  feed (session, "first line\r\n");
  feed (session, long_line);
  feed (session, "\r\nlast line\r\n");
  /* The server cannot answer in the middle of the message... */
  assert_reply (session, "");
  feed (session, ".\r\n");
  /* ...so it refuses the whole message at the dot, and delivers nothing. */
  assert_reply (session, "500 5.5.2 Error: message line longer than 1000 octets");
  assert_int_equal (session->messages, 1);
  /* The transaction is over; the session is not. */
  feed (session, "RCPT TO:<b@foo.example>\r\nNOOP\r\n");
  assert_reply (session, "503 5.5.1 Error: need MAIL command\n250 2.0.0 Ok");
}

static void
test_text_line_over_1000_in_chunks_refused_at_dot (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);
  g_autofree char *chunk = g_strnfill (300, 'c');

  start_data (session);
  for (int i = 0; i < 20; i++)
    feed (session, chunk);
  feed (session, "\r\n.\r\n");
  assert_reply (session, "500 5.5.2 Error: message line longer than 1000 octets");
  assert_int_equal (session->messages, 0);
}

static void
test_size_over_limit_gets_552 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);
  g_autofree char *line = g_strnfill (60, 'm');

  smtp_server_set_size_limit (session->server, 100);
  /* RFC 1870 6.1: a declared size over the limit is refused at MAIL. */
  feed (session, "MAIL FROM:<a@bar.example> SIZE=101\r\n");
  assert_reply (session, "552 5.3.4 Message size exceeds fixed limit");
  feed (session, "MAIL FROM:<a@bar.example> SIZE=100\r\n");
  assert_reply (session, "250 2.1.0 Ok");
  feed (session, "RCPT TO:<b@foo.example>\r\nDATA\r\n");
  assert_reply (session, "250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>");
  /* The declared size was a lie: the content itself is measured too. */
  feed (session, line);
  feed (session, "\r\n");
  feed (session, line);
  feed (session, "\r\n.\r\n");
  assert_reply (session, "552 5.3.4 Error: message file too big");
  assert_int_equal (session->messages, 0);
}

static void
test_101st_recipient_gets_452 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "MAIL FROM:<a@bar.example>\r\n");
  assert_reply (session, "250 2.1.0 Ok");
  for (int i = 1; i <= SMTP_MAX_RECIPIENTS; i++)
    {
      g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<user%d@foo.example>\r\n", i);
      feed (session, rcpt);
      assert_reply (session, "250 2.1.5 Ok");
    }
  /* RFC 5321 4.5.3.1.10: too many recipients is a temporary failure. */
  feed (session, "RCPT TO:<user101@foo.example>\r\n");
  assert_reply (session, "452 4.5.3 Error: too many recipients");
  feed (session, "DATA\r\nhi\r\n.\r\n");
  assert_reply (session, "354 End data with <CR><LF>.<CR><LF>\n250 2.0.0 Ok: queued as Q1");
  assert_int_equal (session->recipients->len, 100);
}

static void
test_submission_requires_auth_530 (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_SUBMISSION);

  smtp_server_start (session->server);
  feed (session, "EHLO laptop.example\r\n");
  g_autofree char *ehlo = take_output (session);
  /* Submission advertises AUTH (RFC 4954); relay does not. */
  assert_non_null (strstr (ehlo, "\n250 AUTH PLAIN LOGIN"));
  feed (session, "MAIL FROM:<alice@foo.example>\r\n");
  assert_reply (session, "530 5.7.0 Authentication required");
}

static void
test_auth_on_relay_port_gets_502 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed (session, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
  assert_reply (session, "502 5.5.1 Error: authentication not enabled");
}

static char *
plain_credentials (const char *user, const char *password)
{
  g_autoptr(GString) raw = g_string_new (NULL);

  g_string_append_c (raw, '\0');
  g_string_append (raw, user);
  g_string_append_c (raw, '\0');
  g_string_append (raw, password);
  return g_base64_encode ((const guchar *) raw->str, raw->len);
}

static void
test_auth_plain_good_and_bad (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_SUBMISSION);
  g_autofree char *bad = plain_credentials ("alice", "guess");
  g_autofree char *good = plain_credentials ("alice", "secret");
  g_autofree char *bad_line = g_strdup_printf ("AUTH PLAIN %s\r\n", bad);
  g_autofree char *good_line = g_strdup_printf ("AUTH PLAIN %s\r\n", good);

  feed (session, bad_line);
  assert_reply (session, "535 5.7.8 Error: authentication failed");
  assert_null (smtp_server_get_auth_user (session->server));
  feed (session, "MAIL FROM:<alice@foo.example>\r\n");
  assert_reply (session, "530 5.7.0 Authentication required");
  /* Garbage that is not base64 of "\0user\0password" fails too. */
  feed (session, "AUTH PLAIN bm9udWxscw==\r\n");
  assert_reply (session, "535 5.7.8 Error: authentication failed");

  feed (session, good_line);
  assert_reply (session, "235 2.7.0 Authentication successful");
  assert_string_equal (smtp_server_get_auth_user (session->server), "alice");
  feed (session, good_line);
  assert_reply (session, "503 5.5.1 Error: already authenticated");
  feed (session, "MAIL FROM:<alice@foo.example>\r\n");
  assert_reply (session, "250 2.1.0 Ok");
}

static void
test_auth_plain_with_empty_initial_response_asks_for_it (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_SUBMISSION);
  g_autofree char *good = plain_credentials ("alice", "secret");
  g_autofree char *line = g_strdup_printf ("%s\r\n", good);

  feed (session, "AUTH PLAIN\r\n");
  assert_reply (session, "334 ");
  feed (session, line);
  assert_reply (session, "235 2.7.0 Authentication successful");
}

static void
test_auth_login (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_SUBMISSION);
  g_autofree char *user = g_base64_encode ((const guchar *) "alice", 5);
  g_autofree char *password = g_base64_encode ((const guchar *) "secret", 6);
  g_autofree char *user_line = g_strdup_printf ("%s\r\n", user);
  g_autofree char *password_line = g_strdup_printf ("%s\r\n", password);

  /* "Username:" and "Password:" in base64 (draft-murchison-sasl-login). */
  feed (session, "AUTH LOGIN\r\n");
  assert_reply (session, "334 VXNlcm5hbWU6");
  feed (session, user_line);
  assert_reply (session, "334 UGFzc3dvcmQ6");
  feed (session, password_line);
  assert_reply (session, "235 2.7.0 Authentication successful");
  assert_string_equal (smtp_server_get_auth_user (session->server), "alice");
}

static void
test_auth_login_with_wrong_password_and_cancel (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_SUBMISSION);
  g_autofree char *user = g_base64_encode ((const guchar *) "alice", 5);
  g_autofree char *wrong = g_base64_encode ((const guchar *) "secreT", 6);
  g_autofree char *first = g_strdup_printf ("AUTH LOGIN %s\r\n", user);
  g_autofree char *wrong_line = g_strdup_printf ("%s\r\n", wrong);

  feed (session, first);
  assert_reply (session, "334 UGFzc3dvcmQ6");
  feed (session, wrong_line);
  assert_reply (session, "535 5.7.8 Error: authentication failed");
  /* RFC 4954 4: "*" cancels the exchange. */
  feed (session, "AUTH LOGIN\r\n*\r\n");
  assert_reply (session, "334 VXNlcm5hbWU6\n501 5.7.0 Authentication aborted");
  assert_null (smtp_server_get_auth_user (session->server));
  feed (session, "AUTH CRAM-MD5\r\n");
  assert_reply (session, "504 5.5.4 Unrecognized authentication type");
}

static void
test_dot_stuffing_removed (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  start_data (session);
  feed (session, "..leading dot\r\n...\r\n. space\r\nnot.at.start\r\n.\r\n");
  assert_reply (session, "250 2.0.0 Ok: queued as Q1");
  assert_string_equal (session->content->str, ".leading dot\r\n..\r\n space\r\nnot.at.start\r\n");
}

static void
test_final_dot_split_across_chunks (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  start_data (session);
  feed (session, "body\r");
  feed (session, "\n.");
  assert_reply (session, "");
  feed (session, "\r");
  assert_reply (session, "");
  feed (session, "\n");
  assert_reply (session, "250 2.0.0 Ok: queued as Q1");
  assert_string_equal (session->content->str, "body\r\n");
}

static void
test_nul_byte_gets_500 (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  feed_bytes (session, "NO\0OP\r\nNOOP\r\n", sizeof "NO\0OP\r\nNOOP\r\n" - 1);
  assert_reply (session, "500 5.5.2 Error: command contains a NUL byte\n250 2.0.0 Ok");
}

static void
test_lmtp_gives_one_reply_per_recipient (void **state)
{
  static const char *const lmtp[] = {
    "S: 220 foo.example LMTP mailsim",
    "C: LHLO bar.example",
    "S: 250-foo.example Hello bar.example",
    "S: 250-PIPELINING",
    "S: 250-8BITMIME",
    "S: 250 ENHANCEDSTATUSCODES",
    "C: MAIL FROM:<Smith@bar.example>",
    "S: 250 2.1.0 Ok",
    "C: RCPT TO:<Jones@foo.example>",
    "S: 250 2.1.5 Ok",
    "C: RCPT TO:<Green@foo.example>",
    "S: 550 5.1.1 No such user here",
    "C: RCPT TO:<Brown@foo.example>",
    "S: 250 2.1.5 Ok",
    "C: RCPT TO:<White@foo.example>",
    "S: 250 2.1.5 Ok",
    "C: DATA",
    "S: 354 End data with <CR><LF>.<CR><LF>",
    "C: Hello",
    "C: .",
    /* RFC 2033 4.2: after the dot, one reply per accepted recipient, in
     * the order they were accepted (Green was refused at RCPT). */
    "S: 250 2.1.5 Delivered",
    "S: 452 4.2.2 Mailbox full",
    "S: 250 2.1.5 Delivered",
    "C: QUIT",
    "S: 221 2.0.0 foo.example closing connection",
    NULL,
  };
  g_autoptr(Session) session = session_new (SMTP_SERVICE_LMTP);

  g_hash_table_add (session->unknown_users, "Green@foo.example");
  g_hash_table_add (session->full_users, "Brown@foo.example");
  smtp_server_start (session->server);
  play (session, lmtp);
  assert_int_equal (session->recipients->len, 3);
}

static void
test_lmtp_refuses_helo_and_ehlo (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_LMTP);

  smtp_server_start (session->server);
  g_free (next_reply_line (session));
  feed (session, "EHLO bar.example\r\nHELO bar.example\r\n");
  assert_reply (session, "500 Error: this is an LMTP server, say LHLO\n"
                         "500 Error: this is an LMTP server, say LHLO");
}

static void
test_quit_closes (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  /* A pipelined command after QUIT is never answered. */
  feed (session, "QUIT\r\nNOOP\r\n");
  assert_reply (session, "221 2.0.0 foo.example closing connection");
  assert_int_equal (session->closes, 1);
  assert_true (smtp_server_is_finished (session->server));
  feed (session, "NOOP\r\n");
  assert_reply (session, "");
  assert_int_equal (session->closes, 1);
  assert_string_equal (g_ptr_array_index (session->keys, session->keys->len - 1), "smtp.reply.221");
}

static void
test_idle_timeout_and_refuse_send_421_and_close (void **state)
{
  g_autoptr(Session) idle = greeted_session (SMTP_SERVICE_RELAY);
  g_autoptr(Session) busy = session_new (SMTP_SERVICE_RELAY);

  smtp_server_idle_timeout (idle->server);
  assert_reply (idle, "421 4.4.2 foo.example Error: timeout exceeded");
  assert_int_equal (idle->closes, 1);

  smtp_server_refuse (busy->server, "Service not available, too busy");
  assert_reply (busy, "421 foo.example Service not available, too busy");
  assert_int_equal (busy->closes, 1);
  assert_true (smtp_server_is_finished (busy->server));
}

static void
test_connection_lost_mid_data_delivers_nothing (void **state)
{
  g_autoptr(Session) session = greeted_session (SMTP_SERVICE_RELAY);

  start_data (session);
  feed (session, "half a message\r\n");
  smtp_server_connection_lost (session->server);
  feed (session, ".\r\n");
  assert_reply (session, "");
  assert_int_equal (session->messages, 0);
  assert_true (smtp_server_is_finished (session->server));
  /* The server did not close: the connection was already gone. */
  assert_int_equal (session->closes, 0);
}

static void
test_replies_carry_explanation_keys (void **state)
{
  g_autoptr(Session) session = session_new (SMTP_SERVICE_RELAY);

  smtp_server_start (session->server);
  feed (session, "EHLO bar.example\r\nMAIL FROM:<a@bar.example>\r\nBOGUS\r\n");
  assert_int_equal (session->keys->len, 4);
  assert_string_equal (g_ptr_array_index (session->keys, 0), "smtp.reply.greeting");
  assert_string_equal (g_ptr_array_index (session->keys, 1), "smtp.reply.ehlo");
  assert_string_equal (g_ptr_array_index (session->keys, 2), "smtp.reply.mail");
  assert_string_equal (g_ptr_array_index (session->keys, 3), "smtp.reply.500");
}

/* Every line the server wrote is a well-formed reply line. */
static void
assert_output_is_replies (Session *session)
{
  char *line;

  while ((line = next_reply_line (session)) != NULL)
    {
      guint code;
      gboolean last;
      const char *text;
      if (!smtp_reply_line_parse (line, &code, &last, &text) && !g_str_has_prefix (line, "334 "))
        fail_msg ("the server wrote a line that is not a reply: '%s'", line);
      if (strlen (line) + 2 > SMTP_MAX_REPLY_LINE)
        fail_msg ("reply line of %" G_GSIZE_FORMAT " octets", strlen (line) + 2);
      g_free (line);
    }
  g_autofree char *rest = unread_output (session);
  assert_string_equal (rest, "");
}

static void
test_binary_garbage_never_crashes (void **state)
{
  static const char *const fragments[] = {
    "\r\n", "\n", "\r", ".", "..", "\0", "MAIL FROM:<", "RCPT TO:<x@foo.example>\r\n", "DATA\r\n",
    "EHLO x\r\n", "AUTH LOGIN\r\n", "RSET\r\n", "BDAT 10\r\n", ">", "<", " ", "\xff\xfe", "\r\n.\r\n",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5321);

  for (int round = 0; round < 20; round++)
    {
      g_autoptr(Session) session = session_new (round % 3 == 0 ? SMTP_SERVICE_SUBMISSION
                                                : round % 3 == 1 ? SMTP_SERVICE_RELAY
                                                                 : SMTP_SERVICE_LMTP);
      smtp_server_start (session->server);
      for (int chunk = 0; chunk < 500; chunk++)
        {
          guint8 buffer[1500];
          gsize len = 0;
          gsize want = (gsize) g_rand_int_range (rand, 1, (gint32) sizeof buffer - 64);
          while (len < want)
            {
              if (g_rand_int_range (rand, 0, 4) == 0)
                {
                  const char *fragment = fragments[g_rand_int_range (rand, 0, G_N_ELEMENTS (fragments))];
                  gsize n = fragment[0] == '\0' ? 1 : strlen (fragment);
                  n = MIN (n, sizeof buffer - len);
                  memcpy (buffer + len, fragment, n);
                  len += n;
                }
              else
                buffer[len++] = (guint8) g_rand_int_range (rand, 0, 256);
            }
          feed_bytes (session, buffer, len);
        }
      assert_output_is_replies (session);
      /* Still sane: whatever state the garbage left, a clean ending gets
       * the session back to answering commands. */
      feed (session, "\r\n*\r\n\r\n.\r\nRSET\r\nNOOP\r\n");
      g_autofree char *ending = take_output (session);
      assert_true (g_str_has_suffix (ending, "250 2.0.0 Ok") || g_str_has_suffix (ending, "250 Ok"));
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_rfc5321_d1_typical_transaction),
    cmocka_unit_test (test_rfc5321_d2_aborted_transaction_with_rset),
    cmocka_unit_test (test_helo_session_has_no_enhanced_codes_and_rset_restarts),
    cmocka_unit_test (test_transcript_fed_one_byte_at_a_time_gives_the_same_dialog),
    cmocka_unit_test (test_bare_lf_line_endings_are_accepted),
    cmocka_unit_test (test_rcpt_before_mail_gets_503),
    cmocka_unit_test (test_mail_before_helo_gets_503),
    cmocka_unit_test (test_nested_mail_gets_503),
    cmocka_unit_test (test_unknown_command_gets_500),
    cmocka_unit_test (test_mail_without_brackets_gets_501),
    cmocka_unit_test (test_mail_with_unknown_parameter_gets_555),
    cmocka_unit_test (test_ehlo_without_hostname_gets_501),
    cmocka_unit_test (test_command_line_over_512_gets_500_and_session_continues),
    cmocka_unit_test (test_long_command_line_in_small_chunks_gets_one_500),
    cmocka_unit_test (test_text_line_over_1000_refused_at_dot),
    cmocka_unit_test (test_text_line_over_1000_in_chunks_refused_at_dot),
    cmocka_unit_test (test_size_over_limit_gets_552),
    cmocka_unit_test (test_101st_recipient_gets_452),
    cmocka_unit_test (test_submission_requires_auth_530),
    cmocka_unit_test (test_auth_on_relay_port_gets_502),
    cmocka_unit_test (test_auth_plain_good_and_bad),
    cmocka_unit_test (test_auth_plain_with_empty_initial_response_asks_for_it),
    cmocka_unit_test (test_auth_login),
    cmocka_unit_test (test_auth_login_with_wrong_password_and_cancel),
    cmocka_unit_test (test_dot_stuffing_removed),
    cmocka_unit_test (test_final_dot_split_across_chunks),
    cmocka_unit_test (test_nul_byte_gets_500),
    cmocka_unit_test (test_lmtp_gives_one_reply_per_recipient),
    cmocka_unit_test (test_lmtp_refuses_helo_and_ehlo),
    cmocka_unit_test (test_quit_closes),
    cmocka_unit_test (test_idle_timeout_and_refuse_send_421_and_close),
    cmocka_unit_test (test_connection_lost_mid_data_delivers_nothing),
    cmocka_unit_test (test_replies_carry_explanation_keys),
    cmocka_unit_test (test_binary_garbage_never_crashes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
