/* test-smtp-server-pending.c: MAIL and RCPT answered later.
 *
 * An MTA that must ask DNS before answering (SPF at MAIL, a blocklist at
 * RCPT) leaves the reply pending and resumes the server when the answer
 * comes.  Meanwhile pipelined commands (RFC 2920) wait, and are answered
 * in order once the pending reply has gone out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proto/smtp/smtp-server.h"

typedef struct
{
  GString *written;
  guint mail_checks;
  guint rcpt_checks;
  gboolean hold_mail;
  gboolean hold_rcpt;
} Fixture;

static void
fake_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  Fixture *fixture = impl;
  g_string_append_len (fixture->written, (const char *) data, (gssize) len);
}

static void
fake_close (gpointer impl)
{
}

static void
check_sender (SmtpServer *server, const char *reverse_path, SmtpReply *reply, gpointer user_data)
{
  Fixture *fixture = user_data;
  fixture->mail_checks++;
  if (fixture->hold_mail)
    reply->code = SMTP_REPLY_PENDING;
}

static void
check_recipient (SmtpServer *server, const char *reverse_path, const char *forward_path, SmtpReply *reply,
                 gpointer user_data)
{
  Fixture *fixture = user_data;
  fixture->rcpt_checks++;
  if (fixture->hold_rcpt)
    reply->code = SMTP_REPLY_PENDING;
}

static gboolean
authenticate (SmtpServer *server, const char *user, const char *password, gpointer user_data)
{
  return FALSE;
}

static void
message (SmtpServer *server, const SmtpEnvelope *envelope, GBytes *content, GPtrArray *replies, gpointer user_data)
{
  g_ptr_array_add (replies, smtp_reply_new (250, "2.0.0", "Ok: queued as TEST"));
}

static const SmtpServerHandler handler = { check_recipient, authenticate, message, check_sender };

static void
feed (SmtpServer *server, const char *text)
{
  smtp_server_feed (server, (const guint8 *) text, strlen (text));
}

/* A greeted server whose output so far is discarded. */
static SmtpServer *
greeted_server (Fixture *fixture, SimTransport *transport)
{
  SmtpServer *server;

  fixture->written = g_string_new (NULL);
  transport->write = fake_write;
  transport->close = fake_close;
  transport->impl = fixture;
  transport->start_tls = NULL;
  server = smtp_server_new (SMTP_SERVICE_RELAY, "mx.example.org", transport, &handler, fixture);
  smtp_server_start (server);
  feed (server, "EHLO client.example.com\r\n");
  g_string_truncate (fixture->written, 0);
  return server;
}

static void
test_pending_mail_holds_pipelined_commands_until_resumed (void **state)
{
  Fixture fixture = { 0 };
  SimTransport transport;
  SmtpServer *server = greeted_server (&fixture, &transport);
  SmtpReply pass = { 250, NULL, NULL };

  fixture.hold_mail = TRUE;
  feed (server, "MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
  assert_true (smtp_server_is_pending (server));
  assert_string_equal (fixture.written->str, "");
  assert_int_equal (fixture.rcpt_checks, 0);
  /* More pipelined input still waits. */
  feed (server, "Subject: hi\r\n\r\nhello\r\n.\r\n");
  assert_string_equal (fixture.written->str, "");

  smtp_server_resume (server, &pass);
  assert_false (smtp_server_is_pending (server));
  assert_int_equal (fixture.rcpt_checks, 1);
  assert_string_equal (fixture.written->str,
                       "250 2.1.0 Ok\r\n"
                       "250 2.1.5 Ok\r\n"
                       "354 End data with <CR><LF>.<CR><LF>\r\n"
                       "250 2.0.0 Ok: queued as TEST\r\n");
  smtp_server_free (server);
  g_string_free (fixture.written, TRUE);
}

static void
test_pending_mail_refused_with_550_5_7_23 (void **state)
{
  Fixture fixture = { 0 };
  SimTransport transport;
  SmtpServer *server = greeted_server (&fixture, &transport);
  SmtpReply fail = { 550, (char *) "5.7.23", (char *) "SPF check failed" };

  fixture.hold_mail = TRUE;
  feed (server, "MAIL FROM:<ceo@example.com>\r\nRCPT TO:<bob@example.org>\r\n");
  smtp_server_resume (server, &fail);
  /* RFC 7208 8.4; the pipelined RCPT then meets no transaction. */
  assert_string_equal (fixture.written->str,
                       "550 5.7.23 SPF check failed\r\n"
                       "503 5.5.1 Error: need MAIL command\r\n");
  assert_int_equal (fixture.rcpt_checks, 0);
  smtp_server_free (server);
  g_string_free (fixture.written, TRUE);
}

static void
test_pending_rcpt_answered_in_order (void **state)
{
  Fixture fixture = { 0 };
  SimTransport transport;
  SmtpServer *server = greeted_server (&fixture, &transport);
  SmtpReply listed = { 554, (char *) "5.7.1", (char *) "Service unavailable; client host blocked" };

  feed (server, "MAIL FROM:<alice@example.com>\r\n");
  fixture.hold_rcpt = TRUE;
  feed (server, "RCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\n");
  assert_int_equal (fixture.rcpt_checks, 1);
  assert_string_equal (fixture.written->str, "250 2.1.0 Ok\r\n");
  fixture.hold_rcpt = FALSE;
  smtp_server_resume (server, &listed);
  assert_int_equal (fixture.rcpt_checks, 2);
  assert_string_equal (fixture.written->str,
                       "250 2.1.0 Ok\r\n"
                       "554 5.7.1 Service unavailable; client host blocked\r\n"
                       "250 2.1.5 Ok\r\n");
  smtp_server_free (server);
  g_string_free (fixture.written, TRUE);
}

static void
test_resume_after_connection_lost_does_nothing (void **state)
{
  Fixture fixture = { 0 };
  SimTransport transport;
  SmtpServer *server = greeted_server (&fixture, &transport);
  SmtpReply pass = { 250, NULL, NULL };

  fixture.hold_mail = TRUE;
  feed (server, "MAIL FROM:<alice@example.com>\r\n");
  smtp_server_connection_lost (server);
  assert_false (smtp_server_is_pending (server));
  smtp_server_resume (server, &pass);
  assert_string_equal (fixture.written->str, "");
  smtp_server_free (server);
  g_string_free (fixture.written, TRUE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pending_mail_holds_pipelined_commands_until_resumed),
    cmocka_unit_test (test_pending_mail_refused_with_550_5_7_23),
    cmocka_unit_test (test_pending_rcpt_answered_in_order),
    cmocka_unit_test (test_resume_after_connection_lost_does_nothing),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
