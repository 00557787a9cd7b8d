/* test-pop3-server.c: the POP3 server session (sim/proto/pop3/pop3-server.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proto/pop3/pop3-server.h"
#include "trace/sim-explain.h"

extern const SimExplanation sim_explain_pop3[];
extern const gsize sim_explain_pop3_count;

#define MROSE "mrose@dewey"

/* Two messages of 120 and 200 octets, the sizes of the RFC 1939 section
 * 10 example; the first has a line starting with "." to show byte-stuffing. */
#define MESSAGE_1_HEAD "From: Marshall Rose <mrose@dewey>\r\nSubject: first\r\n\r\n"
#define MESSAGE_1_BODY "The first message.\r\n.A line that starts with a dot.\r\nxxxxxxxxxxxx\r\n"
#define MESSAGE_1_STUFFED "The first message.\r\n..A line that starts with a dot.\r\nxxxxxxxxxxxx"
#define MESSAGE_2 "From: Dave Crocker <dcrocker@dewey>\r\nSubject: second\r\n\r\n" \
  "The second message is longer than the first one.\r\n" \
  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n"

typedef struct
{
  GString *output;
  gboolean closed;
  SimTransport transport;
  Pop3Server *server;
} Connection;

typedef struct
{
  MailStore *store;
  Connection main;
} Fixture;

static gboolean
is_catalogued (const char *key)
{
  for (gsize i = 0; i < sim_explain_pop3_count; i++)
    if (g_strcmp0 (sim_explain_pop3[i].key, key) == 0)
      return TRUE;
  return FALSE;
}

static void
fake_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  Connection *c = impl;
  if (!is_catalogued (explain_key))
    fail_msg ("explain key '%s' is not in sim_explain_pop3", explain_key);
  g_string_append_len (c->output, (const char *) data, (gssize) len);
}

static void
fake_close (gpointer impl)
{
  ((Connection *) impl)->closed = TRUE;
}

static void
connection_open (Connection *c, MailStore *store)
{
  c->output = g_string_new (NULL);
  c->transport = (SimTransport) { fake_write, fake_close, c };
  c->server = pop3_server_new (store, "dewey", &c->transport);
  pop3_server_start (c->server);
}

static void
connection_clear (Connection *c)
{
  pop3_server_free (c->server);
  g_string_free (c->output, TRUE);
}

static void
deliver (MailStore *store, const char *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  assert_true (mail_store_deliver (store, MROSE, "INBOX", bytes, 0, NULL, NULL));
}

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  f->store = mail_store_new ();
  assert_true (mail_store_add_user (f->store, MROSE, "tanstaaf", 0, NULL));
  deliver (f->store, MESSAGE_1_HEAD MESSAGE_1_BODY);
  deliver (f->store, MESSAGE_2);
  connection_open (&f->main, f->store);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;
  connection_clear (&f->main);
  mail_store_free (f->store);
  g_free (f);
  return 0;
}

static const char *
send_on (Connection *c, const char *input)
{
  g_string_truncate (c->output, 0);
  pop3_server_feed (c->server, (const guint8 *) input, strlen (input));
  return c->output->str;
}

static const char *
send (Fixture *f, const char *input)
{
  return send_on (&f->main, input);
}

static void
log_in (Fixture *f)
{
  send (f, "USER " MROSE "\r\n");
  assert_string_equal (send (f, "PASS tanstaaf\r\n"), "+OK maildrop has 2 messages (320 octets)\r\n");
}

typedef struct
{
  char who;
  const char *line;
} DialogLine;

static void
run_dialog (Connection *c, const DialogLine *dialog, gsize n_lines)
{
  g_autoptr(GString) expected = g_string_new (NULL);
  for (gsize i = 0; i <= n_lines; i++)
    {
      if (i < n_lines && dialog[i].who == 'S')
        {
          g_string_append_printf (expected, "%s\r\n", dialog[i].line);
          continue;
        }
      assert_string_equal (c->output->str, expected->str);
      g_string_truncate (expected, 0);
      g_string_truncate (c->output, 0);
      if (i < n_lines)
        {
          g_autofree char *input = g_strconcat (dialog[i].line, "\r\n", NULL);
          pop3_server_feed (c->server, (const guint8 *) input, strlen (input));
        }
    }
}

/* RFC 1939 section 10, adapted: the user is the address mrose@dewey, so
 * the greeting's timestamp and the APOP digest (MD5 of "<1@dewey>tanstaaf")
 * differ from the RFC's; sizes are the RFC's. */
static const DialogLine rfc1939_sample[] = {
  { 'S', "+OK POP3 server ready <1@dewey>" },
  { 'C', "APOP mrose@dewey 749a40e0a4a9462e6de1a58cd8b4a172" },
  { 'S', "+OK maildrop has 2 messages (320 octets)" },
  { 'C', "STAT" },
  { 'S', "+OK 2 320" },
  { 'C', "LIST" },
  { 'S', "+OK 2 messages (320 octets)" },
  { 'S', "1 120" },
  { 'S', "2 200" },
  { 'S', "." },
  { 'C', "RETR 1" },
  { 'S', "+OK 120 octets" },
  { 'S', MESSAGE_1_HEAD MESSAGE_1_STUFFED },
  { 'S', "." },
  { 'C', "DELE 1" },
  { 'S', "+OK message 1 deleted" },
  { 'C', "RETR 2" },
  { 'S', "+OK 200 octets" },
  { 'S', MESSAGE_2 "." },
  { 'C', "DELE 2" },
  { 'S', "+OK message 2 deleted" },
  { 'C', "QUIT" },
  { 'S', "+OK dewey POP3 server signing off (maildrop empty)" },
};

static void
test_rfc1939_section10_sample_session (void **state)
{
  Fixture *f = *state;
  run_dialog (&f->main, rfc1939_sample, G_N_ELEMENTS (rfc1939_sample));
  assert_true (f->main.closed);
  assert_true (pop3_server_is_finished (f->main.server));
  assert_int_equal (mail_store_count (f->store, MROSE, "INBOX"), 0);
  assert_false (mail_store_is_locked (f->store, MROSE));
}

static void
test_dele_is_undone_when_connection_drops (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "DELE 1\r\n"), "+OK message 1 deleted\r\n");
  pop3_server_connection_lost (f->main.server);
  assert_int_equal (mail_store_count (f->store, MROSE, "INBOX"), 2);
  assert_false (mail_store_is_locked (f->store, MROSE));
  assert_string_equal (send (f, "QUIT\r\n"), "");
}

static void
test_idle_timeout_closes_silently_without_update (void **state)
{
  Fixture *f = *state;
  log_in (f);
  send (f, "DELE 2\r\n");
  g_string_truncate (f->main.output, 0);
  pop3_server_idle_timeout (f->main.server);
  assert_string_equal (f->main.output->str, "");
  assert_true (f->main.closed);
  assert_int_equal (mail_store_count (f->store, MROSE, "INBOX"), 2);
  assert_false (mail_store_is_locked (f->store, MROSE));
}

static void
test_rset_unmarks_deleted_messages (void **state)
{
  Fixture *f = *state;
  log_in (f);
  send (f, "DELE 1\r\n");
  assert_string_equal (send (f, "STAT\r\n"), "+OK 1 200\r\n");
  assert_string_equal (send (f, "RETR 1\r\n"), "-ERR message 1 already deleted\r\n");
  assert_string_equal (send (f, "DELE 1\r\n"), "-ERR message 1 already deleted\r\n");
  assert_string_equal (send (f, "LIST\r\n"), "+OK 1 messages (200 octets)\r\n2 200\r\n.\r\n");
  assert_string_equal (send (f, "RSET\r\n"), "+OK maildrop has 2 messages (320 octets)\r\n");
  assert_string_equal (send (f, "QUIT\r\n"), "+OK dewey POP3 server signing off (2 messages left)\r\n");
  assert_int_equal (mail_store_count (f->store, MROSE, "INBOX"), 2);
}

static void
test_second_session_finds_the_maildrop_locked (void **state)
{
  Fixture *f = *state;
  Connection second = { 0 };
  log_in (f);
  connection_open (&second, f->store);
  send_on (&second, "USER " MROSE "\r\n");
  assert_string_equal (send_on (&second, "PASS tanstaaf\r\n"),
                       "-ERR [IN-USE] maildrop already locked by another session\r\n");
  assert_int_equal (pop3_server_get_state (second.server), POP3_STATE_AUTHORIZATION);
  send (f, "QUIT\r\n");
  send_on (&second, "USER " MROSE "\r\n");
  assert_string_equal (send_on (&second, "PASS tanstaaf\r\n"), "+OK maildrop has 2 messages (320 octets)\r\n");
  connection_clear (&second);
  /* Freeing a session releases its lock. */
  assert_false (mail_store_is_locked (f->store, MROSE));
}

static void
test_wrong_password_gets_err_auth_and_needs_user_again (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "USER " MROSE "\r\n"), "+OK send PASS\r\n");
  assert_string_equal (send (f, "PASS wrong\r\n"), "-ERR [AUTH] invalid user name or password\r\n");
  assert_string_equal (send (f, "PASS tanstaaf\r\n"), "-ERR send USER first\r\n");
  assert_string_equal (send (f, "USER nobody@dewey\r\n"), "+OK send PASS\r\n");
  assert_string_equal (send (f, "PASS tanstaaf\r\n"), "-ERR [AUTH] invalid user name or password\r\n");
  assert_string_equal (send (f, "APOP mrose@dewey 00000000000000000000000000000000\r\n"),
                       "-ERR [AUTH] invalid user name or digest\r\n");
  assert_string_equal (send (f, "APOP mrose@dewey\r\n"), "-ERR usage: APOP name digest (32 hexadecimal digits)\r\n");
}

static void
test_password_may_contain_spaces (void **state)
{
  Fixture *f = *state;
  mail_store_add_user (f->store, "spacey@dewey", "open sesame", 0, NULL);
  send (f, "USER spacey@dewey\r\n");
  assert_string_equal (send (f, "PASS open sesame\r\n"), "+OK maildrop has 0 messages (0 octets)\r\n");
}

static void
test_commands_in_the_wrong_state_get_err (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "STAT\r\n"), "-ERR STAT is not valid in the AUTHORIZATION state\r\n");
  assert_string_equal (send (f, "RETR 1\r\n"), "-ERR RETR is not valid in the AUTHORIZATION state\r\n");
  log_in (f);
  assert_string_equal (send (f, "USER " MROSE "\r\n"), "-ERR USER is not valid in the TRANSACTION state\r\n");
  assert_string_equal (send (f, "APOP a b\r\n"), "-ERR APOP is not valid in the TRANSACTION state\r\n");
}

static void
test_unknown_and_malformed_commands_get_err (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "XYZZY\r\n"), "-ERR unknown command 'XYZZY'\r\n");
  assert_string_equal (send (f, "\r\n"), "-ERR empty or malformed command line\r\n");
  log_in (f);
  assert_string_equal (send (f, "RETR\r\n"), "-ERR RETR: wrong arguments (RFC 1939)\r\n");
  assert_string_equal (send (f, "STAT 1\r\n"), "-ERR STAT: wrong arguments (RFC 1939)\r\n");
  assert_string_equal (send (f, "RETR one\r\n"), "-ERR 'one' is not a message number\r\n");
  assert_string_equal (send (f, "RETR 3\r\n"), "-ERR no such message, only 2 messages in maildrop\r\n");
  assert_string_equal (send (f, "RETR 0\r\n"), "-ERR no such message, only 2 messages in maildrop\r\n");
  assert_string_equal (send (f, "RETR 99999999999999999999\r\n"), "-ERR '99999999999999999999' is not a message number\r\n");
  assert_string_equal (send (f, "TOP 1\r\n"), "-ERR usage: TOP msg n (RFC 1939 7)\r\n");
  assert_string_equal (send (f, "TOP 1 -1\r\n"), "-ERR usage: TOP msg n (RFC 1939 7)\r\n");
}

static void
test_oversize_line_gets_err_and_is_skipped (void **state)
{
  Fixture *f = *state;
  g_autoptr(GString) line = g_string_new ("USER ");
  while (line->len < 400)
    g_string_append_c (line, 'a');
  assert_string_equal (send (f, line->str), "-ERR command line too long (limit 255 octets)\r\n");
  assert_string_equal (send (f, "more of the same line\r\nNOOP\r\n"),
                       "-ERR NOOP is not valid in the AUTHORIZATION state\r\n");
  g_string_append (line, "\r\nQUIT\r\n");
  assert_string_equal (send (f, line->str),
                       "-ERR command line too long (limit 255 octets)\r\n+OK dewey POP3 server signing off\r\n");
}

static void
test_capa_lists_capabilities_in_both_states (void **state)
{
  Fixture *f = *state;
  static const char capa[] = "+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nRESP-CODES\r\n"
                             "AUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION mailsim\r\n.\r\n";
  assert_string_equal (send (f, "capa\r\n"), capa);
  log_in (f);
  assert_string_equal (send (f, "CAPA\r\n"), capa);
}

static void
test_uidl_ids_survive_deletion_of_other_messages (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "UIDL\r\n"), "+OK unique-id listing follows\r\n1 1.1\r\n2 1.2\r\n.\r\n");
  send (f, "DELE 1\r\n");
  send (f, "QUIT\r\n");
  Connection again = { 0 };
  connection_open (&again, f->store);
  send_on (&again, "USER " MROSE "\r\nPASS tanstaaf\r\n");
  assert_string_equal (send_on (&again, "UIDL 1\r\n"), "+OK 1 1.2\r\n");
  assert_string_equal (send_on (&again, "LIST 1\r\n"), "+OK 1 200\r\n");
  connection_clear (&again);
}

static void
test_top_sends_header_and_first_body_lines_stuffed (void **state)
{
  Fixture *f = *state;
  log_in (f);
  assert_string_equal (send (f, "TOP 1 0\r\n"), "+OK top of message follows\r\n" MESSAGE_1_HEAD ".\r\n");
  assert_string_equal (send (f, "TOP 1 2\r\n"),
                       "+OK top of message follows\r\n" MESSAGE_1_HEAD
                       "The first message.\r\n..A line that starts with a dot.\r\n.\r\n");
}

static void
test_bare_lf_messages_are_sent_with_crlf_and_counted_so (void **state)
{
  Fixture *f = *state;
  mail_store_add_user (f->store, "lf@dewey", "pw", 0, NULL);
  g_autoptr(GBytes) bytes = g_bytes_new_static ("Subject: lf\n\nbody", 17);
  mail_store_deliver (f->store, "lf@dewey", "INBOX", bytes, 0, NULL, NULL);
  send (f, "USER lf@dewey\r\n");
  assert_string_equal (send (f, "PASS pw\r\n"), "+OK maildrop has 1 message (21 octets)\r\n");
  assert_string_equal (send (f, "RETR 1\r\n"), "+OK 21 octets\r\nSubject: lf\r\n\r\nbody\r\n.\r\n");
}

static void
test_pipelined_commands_in_one_chunk_and_split_bytes (void **state)
{
  Fixture *f = *state;
  assert_string_equal (send (f, "USER " MROSE "\r\nPASS tanstaaf\r\nSTAT\r\nNOOP\r\n"),
                       "+OK send PASS\r\n+OK maildrop has 2 messages (320 octets)\r\n+OK 2 320\r\n+OK\r\n");
  const char *split = "LIST 2\r\n";
  g_string_truncate (f->main.output, 0);
  for (gsize i = 0; split[i] != '\0'; i++)
    pop3_server_feed (f->main.server, (const guint8 *) split + i, 1);
  assert_string_equal (f->main.output->str, "+OK 2 200\r\n");
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_rfc1939_section10_sample_session),
    T (test_dele_is_undone_when_connection_drops),
    T (test_idle_timeout_closes_silently_without_update),
    T (test_rset_unmarks_deleted_messages),
    T (test_second_session_finds_the_maildrop_locked),
    T (test_wrong_password_gets_err_auth_and_needs_user_again),
    T (test_password_may_contain_spaces),
    T (test_commands_in_the_wrong_state_get_err),
    T (test_unknown_and_malformed_commands_get_err),
    T (test_oversize_line_gets_err_and_is_skipped),
    T (test_capa_lists_capabilities_in_both_states),
    T (test_uidl_ids_survive_deletion_of_other_messages),
    T (test_top_sends_header_and_first_body_lines_stuffed),
    T (test_bare_lf_messages_are_sent_with_crlf_and_counted_so),
    T (test_pipelined_commands_in_one_chunk_and_split_bytes),
  };
#undef T
  return cmocka_run_group_tests (tests, NULL, NULL);
}
