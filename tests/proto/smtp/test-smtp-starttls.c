/* test-smtp-starttls.c: STARTTLS (RFC 3207), simulated.
 *
 * The encryption is the transport's business (it only marks bytes); these
 * tests hold the protocol to RFC 3207: the offer, the 220, the fresh start
 * with EHLO, the refusal of input pipelined before the handshake, and the
 * client that upgrades when offered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proto/smtp/smtp-client.h"
#include "proto/smtp/smtp-server.h"

typedef struct
{
  GString *written;
  gsize tls_from;      /* offset in written where TLS began, or G_MAXSIZE */
  guint tls_calls;
  gboolean closed;
} FakeTransport;

static void
fake_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  FakeTransport *fake = impl;
  g_string_append_len (fake->written, (const char *) data, (gssize) len);
}

static void
fake_close (gpointer impl)
{
  ((FakeTransport *) impl)->closed = TRUE;
}

static void
fake_start_tls (gpointer impl)
{
  FakeTransport *fake = impl;
  fake->tls_calls++;
  if (fake->tls_from == G_MAXSIZE)
    fake->tls_from = fake->written->len;
}

static void
check_recipient (SmtpServer *server, const char *reverse_path, const char *forward_path, SmtpReply *reply,
                 gpointer user_data)
{
}

static gboolean
authenticate (SmtpServer *server, const char *user, const char *password, gpointer user_data)
{
  return g_str_equal (user, "alice@example.com") && g_str_equal (password, "secret");
}

static void
message (SmtpServer *server, const SmtpEnvelope *envelope, GBytes *content, GPtrArray *replies, gpointer user_data)
{
  g_ptr_array_add (replies, smtp_reply_new (250, "2.0.0", "Ok: queued as TEST"));
}

static const SmtpServerHandler handler = { check_recipient, authenticate, message };

static void
feed (SmtpServer *server, const char *text)
{
  smtp_server_feed (server, (const guint8 *) text, strlen (text));
}

static void
test_ehlo_offers_starttls_only_when_configured_and_not_yet_active (void **state)
{
  FakeTransport fake = { g_string_new (NULL), G_MAXSIZE, 0, FALSE };
  SimTransport transport = { fake_write, fake_close, &fake, fake_start_tls };
  g_autoptr (SmtpServer) plain = smtp_server_new (SMTP_SERVICE_RELAY, "mx.example.org", &transport, &handler, NULL);
  g_autoptr (SmtpServer) server = smtp_server_new (SMTP_SERVICE_RELAY, "mx.example.org", &transport, &handler, NULL);

  feed (plain, "EHLO client.example.net\r\n");
  assert_null (strstr (fake.written->str, "STARTTLS"));
  g_string_truncate (fake.written, 0);
  smtp_server_set_starttls (server, TRUE);
  feed (server, "EHLO client.example.net\r\n");
  /* The last extension line of a relay server. */
  assert_non_null (strstr (fake.written->str, "250 STARTTLS\r\n"));
  g_string_free (fake.written, TRUE);
}

static void
test_starttls_answers_220_then_the_session_starts_over (void **state)
{
  FakeTransport fake = { g_string_new (NULL), G_MAXSIZE, 0, FALSE };
  SimTransport transport = { fake_write, fake_close, &fake, fake_start_tls };
  g_autoptr (SmtpServer) server = smtp_server_new (SMTP_SERVICE_SUBMISSION, "smtp.example.com", &transport, &handler, NULL);

  smtp_server_set_starttls (server, TRUE);
  feed (server, "EHLO laptop\r\n");
  g_string_truncate (fake.written, 0);
  feed (server, "STARTTLS\r\n");
  assert_string_equal (fake.written->str, "220 2.0.0 Ready to start TLS (simulated)\r\n");
  assert_int_equal (fake.tls_calls, 1);
  assert_int_equal (fake.tls_from, fake.written->len);
  assert_true (smtp_server_get_tls (server));
  /* RFC 3207 4.2: the client must say EHLO again. */
  g_string_truncate (fake.written, 0);
  feed (server, "MAIL FROM:<alice@example.com>\r\n");
  assert_true (g_str_has_prefix (fake.written->str, "503 "));
  g_string_truncate (fake.written, 0);
  feed (server, "EHLO laptop\r\n");
  assert_null (strstr (fake.written->str, "STARTTLS"));
  assert_non_null (strstr (fake.written->str, "AUTH PLAIN LOGIN"));
  g_string_truncate (fake.written, 0);
  feed (server, "STARTTLS\r\n");
  assert_true (g_str_has_prefix (fake.written->str, "503 5.5.1"));
  assert_int_equal (fake.tls_calls, 1);
  g_string_free (fake.written, TRUE);
}

static void
test_input_pipelined_before_the_handshake_is_discarded (void **state)
{
  FakeTransport fake = { g_string_new (NULL), G_MAXSIZE, 0, FALSE };
  SimTransport transport = { fake_write, fake_close, &fake, fake_start_tls };
  g_autoptr (SmtpServer) server = smtp_server_new (SMTP_SERVICE_RELAY, "mx.example.org", &transport, &handler, NULL);

  smtp_server_set_starttls (server, TRUE);
  feed (server, "EHLO attacker\r\n");
  g_string_truncate (fake.written, 0);
  /* The classic STARTTLS command injection: a command sent in clear text
   * in the same packet must not be executed as if sent under TLS. */
  feed (server, "STARTTLS\r\nRSET\r\n");
  assert_string_equal (fake.written->str, "220 2.0.0 Ready to start TLS (simulated)\r\n");
  g_string_free (fake.written, TRUE);
}

static void
test_starttls_refused_when_not_offered_or_with_an_argument (void **state)
{
  FakeTransport fake = { g_string_new (NULL), G_MAXSIZE, 0, FALSE };
  SimTransport transport = { fake_write, fake_close, &fake, fake_start_tls };
  g_autoptr (SmtpServer) plain = smtp_server_new (SMTP_SERVICE_RELAY, "mx.example.org", &transport, &handler, NULL);
  g_autoptr (SmtpServer) server = smtp_server_new (SMTP_SERVICE_RELAY, "mx.example.org", &transport, &handler, NULL);

  feed (plain, "EHLO a\r\nSTARTTLS\r\n");
  assert_non_null (strstr (fake.written->str, "502 5.5.1"));
  g_string_truncate (fake.written, 0);
  smtp_server_set_starttls (server, TRUE);
  feed (server, "EHLO a\r\nSTARTTLS now\r\n");
  assert_non_null (strstr (fake.written->str, "501 5.5.4"));
  assert_int_equal (fake.tls_calls, 0);
  g_string_free (fake.written, TRUE);
}

/* ---- the client, back to back with the server ---- */

typedef struct
{
  SmtpServer *server;
  SmtpClient *client;
  GQueue to_server;   /* GBytes */
  GQueue to_client;
  gboolean client_tls;
  gboolean server_tls;
  GString *client_wire;   /* what the client sent, for inspection */
  gboolean done;
  SmtpOutcome outcome;
} Wire;

static void
client_write (gpointer impl, const guint8 *data, gsize len, const char *key)
{
  Wire *wire = impl;
  g_string_append_len (wire->client_wire, (const char *) data, (gssize) len);
  if (wire->client_tls)
    g_string_append (wire->client_wire, "<tls>");
  g_queue_push_tail (&wire->to_server, g_bytes_new (data, len));
}

static void
server_write (gpointer impl, const guint8 *data, gsize len, const char *key)
{
  Wire *wire = impl;
  g_queue_push_tail (&wire->to_client, g_bytes_new (data, len));
}

static void
no_close (gpointer impl)
{
}

static void
client_tls (gpointer impl)
{
  ((Wire *) impl)->client_tls = TRUE;
}

static void
server_tls (gpointer impl)
{
  ((Wire *) impl)->server_tls = TRUE;
}

static void
client_done (SmtpClient *client, const SmtpClientResult *result, gpointer user_data)
{
  Wire *wire = user_data;
  wire->done = TRUE;
  wire->outcome = result->outcome;
}

static void
test_client_upgrades_when_offered_and_says_ehlo_again (void **state)
{
  Wire wire = { 0 };
  SimTransport to_server = { client_write, no_close, &wire, client_tls };
  SimTransport to_client = { server_write, no_close, &wire, server_tls };
  const char *recipients[] = { "bob@example.org", NULL };
  g_autoptr (GBytes) content = g_bytes_new_static ("Subject: hi\r\n\r\nhello\r\n", 23);
  SmtpClientConfig config = { "laptop.example.com", FALSE, "alice@example.com", "secret", "alice@example.com",
                              recipients, content, TRUE };

  wire.client_wire = g_string_new (NULL);
  wire.server = smtp_server_new (SMTP_SERVICE_SUBMISSION, "smtp.example.com", &to_client, &handler, NULL);
  smtp_server_set_starttls (wire.server, TRUE);
  wire.client = smtp_client_new (&config, &to_server, client_done, &wire);
  smtp_server_start (wire.server);
  for (guint round = 0; round < 100 && (wire.to_server.length > 0 || wire.to_client.length > 0); round++)
    {
      GBytes *bytes;
      while ((bytes = g_queue_pop_head (&wire.to_client)) != NULL)
        {
          smtp_client_feed (wire.client, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
          g_bytes_unref (bytes);
        }
      while ((bytes = g_queue_pop_head (&wire.to_server)) != NULL)
        {
          smtp_server_feed (wire.server, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
          g_bytes_unref (bytes);
        }
    }
  assert_true (wire.done);
  assert_int_equal (wire.outcome, SMTP_OUTCOME_SENT);
  assert_true (wire.client_tls);
  assert_true (wire.server_tls);
  /* STARTTLS went in clear; the second EHLO and the password under TLS. */
  const char *wire_text = wire.client_wire->str;
  const char *starttls = strstr (wire_text, "STARTTLS\r\n");
  const char *second_ehlo = starttls != NULL ? strstr (starttls, "EHLO laptop.example.com\r\n<tls>") : NULL;
  const char *auth = strstr (wire_text, "AUTH PLAIN ");
  assert_non_null (starttls);
  assert_non_null (second_ehlo);
  assert_non_null (auth);
  assert_true (auth > second_ehlo);
  g_string_free (wire.client_wire, TRUE);
  smtp_client_free (wire.client);
  smtp_server_free (wire.server);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ehlo_offers_starttls_only_when_configured_and_not_yet_active),
    cmocka_unit_test (test_starttls_answers_220_then_the_session_starts_over),
    cmocka_unit_test (test_input_pipelined_before_the_handshake_is_discarded),
    cmocka_unit_test (test_starttls_refused_when_not_offered_or_with_an_argument),
    cmocka_unit_test (test_client_upgrades_when_offered_and_says_ehlo_again),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
