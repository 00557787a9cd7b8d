/* test-smtp-client.c: the client side of one SMTP/LMTP transaction.
 *
 * Most tests wire an SmtpClient to an SmtpServer through two fake
 * transports back to back: what one writes is queued and fed to the other,
 * so neither machine is re-entered from inside its own feed().  Tests of
 * behaviour our server never shows (EHLO refused, a dropped connection)
 * play the server's side by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto/smtp/smtp-client.h"
#include "proto/smtp/smtp-server.h"

/* ---- the client's outcome ---- */

typedef struct
{
  guint reports;
  SmtpOutcome outcome;
  GPtrArray *recipient_replies;   /* copies, NULL where the client had none */
  SmtpReply *data_reply;
  gboolean dot_sent;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  if (outcome->recipient_replies != NULL)
    g_ptr_array_unref (outcome->recipient_replies);
  smtp_reply_free (outcome->data_reply);
}

static void
on_done (SmtpClient *client, const SmtpClientResult *result, gpointer user_data)
{
  Outcome *outcome = user_data;

  outcome->reports++;
  outcome->outcome = result->outcome;
  outcome->dot_sent = result->dot_sent;
  if (outcome->recipient_replies != NULL)
    g_ptr_array_unref (outcome->recipient_replies);
  outcome->recipient_replies = g_ptr_array_new_with_free_func ((GDestroyNotify) smtp_reply_free);
  for (guint i = 0; i < result->recipient_replies->len; i++)
    {
      const SmtpReply *reply = g_ptr_array_index (result->recipient_replies, i);
      g_ptr_array_add (outcome->recipient_replies, reply != NULL ? smtp_reply_copy (reply) : NULL);
    }
  smtp_reply_free (outcome->data_reply);
  outcome->data_reply = result->data_reply != NULL ? smtp_reply_copy (result->data_reply) : NULL;
}

static guint
recipient_code (const Outcome *outcome, guint index)
{
  const SmtpReply *reply = g_ptr_array_index (outcome->recipient_replies, index);
  return reply != NULL ? reply->code : 0;
}

/* ---- client and server back to back ---- */

typedef struct _Wire Wire;

typedef struct
{
  SimTransport transport;
  Wire *wire;
  gboolean to_server;     /* this end is the client's: its bytes go to the server */
  gboolean closed;
} WireEnd;

struct _Wire
{
  WireEnd client_end;
  WireEnd server_end;
  GQueue to_server;       /* GBytes */
  GQueue to_client;
  GString *client_wrote;  /* everything on the wire, client to server */
  GString *server_wrote;
  SmtpServer *server;
  SmtpClient *client;
  Outcome outcome;
  /* Server policy and what it received. */
  GHashTable *unknown_users;
  GHashTable *full_users;
  guint messages;
  GString *content;
  GPtrArray *recipients;
};

static void
wire_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  WireEnd *end = impl;
  Wire *wire = end->wire;

  if (end->closed)
    return;
  g_string_append_len (end->to_server ? wire->client_wrote : wire->server_wrote, (const char *) data,
                       (gssize) len);
  g_queue_push_tail (end->to_server ? &wire->to_server : &wire->to_client, g_bytes_new (data, len));
}

static void
wire_close (gpointer impl)
{
  WireEnd *end = impl;
  end->closed = TRUE;
}

static void
server_check_recipient (SmtpServer *server, const char *reverse_path, const char *forward_path,
                        SmtpReply *reply, gpointer user_data)
{
  Wire *wire = user_data;

  if (g_hash_table_contains (wire->unknown_users, forward_path))
    {
      reply->code = 550;
      reply->enhanced = g_strdup ("5.1.1");
      reply->text = g_strdup ("No such user here");
    }
}

static gboolean
server_authenticate (SmtpServer *server, const char *user, const char *password, gpointer user_data)
{
  return g_str_equal (user, "alice") && g_str_equal (password, "secret");
}

static void
server_message (SmtpServer *server, const SmtpEnvelope *envelope, GBytes *content, GPtrArray *replies,
                gpointer user_data)
{
  Wire *wire = user_data;
  gsize len;
  const char *data = g_bytes_get_data (content, &len);

  wire->messages++;
  g_string_append_len (wire->content, data, (gssize) len);
  for (guint i = 0; i < envelope->recipients->len; i++)
    g_ptr_array_add (wire->recipients, g_strdup (g_ptr_array_index (envelope->recipients, i)));
  if (smtp_server_get_service (server) != SMTP_SERVICE_LMTP)
    {
      g_ptr_array_add (replies, smtp_reply_new (250, "2.0.0", "Ok: queued as Q1"));
      return;
    }
  for (guint i = 0; i < envelope->recipients->len; i++)
    {
      const char *rcpt = g_ptr_array_index (envelope->recipients, i);
      if (g_hash_table_contains (wire->full_users, rcpt))
        g_ptr_array_add (replies, smtp_reply_new (452, "4.2.2", "Mailbox full"));
      else
        g_ptr_array_add (replies, smtp_reply_new (250, "2.1.5", "Delivered"));
    }
}

static const SmtpServerHandler server_handler = {
  server_check_recipient, server_authenticate, server_message, NULL,
};

static Wire *
wire_new (SmtpService service)
{
  Wire *wire = g_new0 (Wire, 1);

  wire->client_end = (WireEnd) { { wire_write, wire_close, &wire->client_end, NULL }, wire, TRUE, FALSE };
  wire->server_end = (WireEnd) { { wire_write, wire_close, &wire->server_end, NULL }, wire, FALSE, FALSE };
  g_queue_init (&wire->to_server);
  g_queue_init (&wire->to_client);
  wire->client_wrote = g_string_new (NULL);
  wire->server_wrote = g_string_new (NULL);
  wire->unknown_users = g_hash_table_new (g_str_hash, g_str_equal);
  wire->full_users = g_hash_table_new (g_str_hash, g_str_equal);
  wire->content = g_string_new (NULL);
  wire->recipients = g_ptr_array_new_with_free_func (g_free);
  wire->server = smtp_server_new (service, "mx.foo.example", &wire->server_end.transport, &server_handler, wire);
  return wire;
}

static void
wire_free (Wire *wire)
{
  g_queue_clear_full (&wire->to_server, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&wire->to_client, (GDestroyNotify) g_bytes_unref);
  smtp_client_free (wire->client);
  smtp_server_free (wire->server);
  g_string_free (wire->client_wrote, TRUE);
  g_string_free (wire->server_wrote, TRUE);
  g_hash_table_destroy (wire->unknown_users);
  g_hash_table_destroy (wire->full_users);
  g_string_free (wire->content, TRUE);
  g_ptr_array_unref (wire->recipients);
  outcome_clear (&wire->outcome);
  g_free (wire);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wire, wire_free)

static void
wire_start_client (Wire *wire, const SmtpClientConfig *config)
{
  wire->client = smtp_client_new (config, &wire->client_end.transport, on_done, &wire->outcome);
}

/* Delivers queued bytes, one write at a time, until both directions are quiet. */
static void
wire_run (Wire *wire)
{
  smtp_server_start (wire->server);
  for (int guard = 0; guard < 100000; guard++)
    {
      GBytes *bytes;
      gsize len;
      const guint8 *data;

      if ((bytes = g_queue_pop_head (&wire->to_server)) != NULL)
        {
          data = g_bytes_get_data (bytes, &len);
          smtp_server_feed (wire->server, data, len);
        }
      else if ((bytes = g_queue_pop_head (&wire->to_client)) != NULL)
        {
          data = g_bytes_get_data (bytes, &len);
          smtp_client_feed (wire->client, data, len);
        }
      else
        return;
      g_bytes_unref (bytes);
    }
  fail_msg ("the client and server never stopped talking");
}

static GBytes *
content_of (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* ---- tests over the wire ---- */

static void
test_client_sends_a_message_and_reports_sent (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_RELAY);
  g_autoptr(GBytes) content = content_of ("Subject: hi\r\n\r\nHello Bob\r\n");
  const char *recipients[] = { "bob@foo.example", "carol@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };

  wire_start_client (wire, &config);
  wire_run (wire);

  assert_int_equal (wire->outcome.reports, 1);
  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_SENT);
  assert_true (wire->outcome.dot_sent);
  assert_non_null (wire->outcome.data_reply);
  assert_int_equal (wire->outcome.data_reply->code, 250);
  assert_string_equal (wire->outcome.data_reply->enhanced, "2.0.0");
  assert_string_equal (wire->outcome.data_reply->text, "Ok: queued as Q1");
  assert_int_equal (wire->outcome.recipient_replies->len, 2);
  assert_int_equal (recipient_code (&wire->outcome, 0), 250);
  assert_int_equal (recipient_code (&wire->outcome, 1), 250);
  assert_true (smtp_client_is_done (wire->client));

  assert_int_equal (wire->messages, 1);
  assert_string_equal (wire->content->str, "Subject: hi\r\n\r\nHello Bob\r\n");
  assert_int_equal (wire->recipients->len, 2);
  /* The whole dialog, as the client wrote it: EHLO, then SIZE declared
   * because the server speaks ESMTP (RFC 1870), then QUIT after the dot. */
  assert_string_equal (wire->client_wrote->str,
                       "EHLO bar.example\r\n"
                       "MAIL FROM:<alice@bar.example> SIZE=26\r\n"
                       "RCPT TO:<bob@foo.example>\r\n"
                       "RCPT TO:<carol@foo.example>\r\n"
                       "DATA\r\n"
                       "Subject: hi\r\n\r\nHello Bob\r\n.\r\n"
                       "QUIT\r\n");
  /* Both sides hung up: the server after 221, the client on reading it. */
  assert_true (wire->server_end.closed);
  assert_true (wire->client_end.closed);
  assert_true (smtp_server_is_finished (wire->server));
}

static void
test_client_reports_each_recipients_reply (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_RELAY);
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", "ghost@foo.example", "carol@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };

  g_hash_table_add (wire->unknown_users, "ghost@foo.example");
  wire_start_client (wire, &config);
  wire_run (wire);

  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_SENT);
  assert_int_equal (recipient_code (&wire->outcome, 0), 250);
  const SmtpReply *ghost = g_ptr_array_index (wire->outcome.recipient_replies, 1);
  assert_int_equal (ghost->code, 550);
  assert_string_equal (ghost->enhanced, "5.1.1");
  assert_string_equal (ghost->text, "No such user here");
  assert_int_equal (recipient_code (&wire->outcome, 2), 250);
  assert_int_equal (wire->recipients->len, 2);
}

static void
test_client_with_every_recipient_refused_sends_no_content (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_RELAY);
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "ghost@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };

  g_hash_table_add (wire->unknown_users, "ghost@foo.example");
  wire_start_client (wire, &config);
  wire_run (wire);

  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_REJECTED);
  assert_false (wire->outcome.dot_sent);
  assert_null (wire->outcome.data_reply);
  assert_int_equal (recipient_code (&wire->outcome, 0), 550);
  /* No recipient was accepted, so no DATA: straight to QUIT. */
  assert_non_null (strstr (wire->client_wrote->str, "RCPT TO:<ghost@foo.example>\r\nQUIT\r\n"));
  assert_null (strstr (wire->client_wrote->str, "x\r\n.\r\n"));
  assert_int_equal (wire->messages, 0);
}

static void
test_client_dot_stuffs_on_the_wire (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_RELAY);
  g_autoptr(GBytes) content = content_of (".hidden\r\n.\r\nbetween\r\n..two\r\nend");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };

  wire_start_client (wire, &config);
  wire_run (wire);

  /* RFC 5321 4.5.2: a lone "." inside the message must not end it. */
  assert_non_null (strstr (wire->client_wrote->str,
                           "DATA\r\n..hidden\r\n..\r\nbetween\r\n...two\r\nend\r\n.\r\nQUIT\r\n"));
  /* The server removes the stuffing: the message arrives as it was. */
  assert_string_equal (wire->content->str, ".hidden\r\n.\r\nbetween\r\n..two\r\nend\r\n");
  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_SENT);
}

static void
test_client_null_reverse_path_for_bounces (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_RELAY);
  g_autoptr(GBytes) content = content_of ("bounce\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "", recipients, content, FALSE };

  wire_start_client (wire, &config);
  wire_run (wire);
  assert_non_null (strstr (wire->client_wrote->str, "MAIL FROM:<> SIZE=8\r\n"));
  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_SENT);
}

static void
test_client_refused_by_size_gives_up_at_mail (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_RELAY);
  g_autoptr(GBytes) content = content_of ("far too long for this server\r\n");
  const char *recipients[] = { "bob@foo.example", "carol@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };

  smtp_server_set_size_limit (wire->server, 10);
  wire_start_client (wire, &config);
  wire_run (wire);

  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_REJECTED);
  /* The MAIL refusal decides every recipient. */
  assert_int_equal (recipient_code (&wire->outcome, 0), 552);
  assert_int_equal (recipient_code (&wire->outcome, 1), 552);
  /* Pipelined, the RCPTs left with MAIL; no DATA followed. */
  assert_non_null (strstr (wire->client_wrote->str, "RCPT TO:<carol@foo.example>\r\nQUIT\r\n"));
  assert_int_equal (wire->messages, 0);
}

static void
test_client_authenticates_for_submission (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_SUBMISSION);
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "laptop.example", FALSE, "alice", "secret", "alice@bar.example", recipients,
                              content, FALSE };

  wire_start_client (wire, &config);
  wire_run (wire);
  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_SENT);
  assert_string_equal (smtp_server_get_auth_user (wire->server), "alice");
  assert_non_null (strstr (wire->client_wrote->str, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"));
}

static void
test_client_with_wrong_password_is_rejected (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_SUBMISSION);
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "laptop.example", FALSE, "alice", "wrong", "alice@bar.example", recipients,
                              content, FALSE };

  wire_start_client (wire, &config);
  wire_run (wire);
  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_REJECTED);
  assert_int_equal (recipient_code (&wire->outcome, 0), 535);
  assert_null (strstr (wire->client_wrote->str, "MAIL"));
}

static void
test_client_lmtp_per_recipient_outcomes (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_LMTP);
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "a@foo.example", "ghost@foo.example", "full@foo.example", "d@foo.example", NULL };
  SmtpClientConfig config = { "mta.foo.example", TRUE, NULL, NULL, "s@bar.example", recipients, content, FALSE };

  g_hash_table_add (wire->unknown_users, "ghost@foo.example");
  g_hash_table_add (wire->full_users, "full@foo.example");
  wire_start_client (wire, &config);
  wire_run (wire);

  assert_true (g_str_has_prefix (wire->client_wrote->str, "LHLO mta.foo.example\r\nMAIL FROM:<s@bar.example>\r\n"));
  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_SENT);
  /* Refused at RCPT, then one reply per accepted recipient after the dot
   * (RFC 2033 4.2), each matched to its recipient. */
  assert_int_equal (recipient_code (&wire->outcome, 0), 250);
  assert_int_equal (recipient_code (&wire->outcome, 1), 550);
  assert_int_equal (recipient_code (&wire->outcome, 2), 452);
  assert_int_equal (recipient_code (&wire->outcome, 3), 250);
  assert_string_equal (((SmtpReply *) g_ptr_array_index (wire->outcome.recipient_replies, 2))->text,
                       "Mailbox full");
  assert_int_equal (wire->outcome.data_reply->code, 250);
}

static void
test_client_lmtp_with_every_delivery_failing_is_rejected (void **state)
{
  g_autoptr(Wire) wire = wire_new (SMTP_SERVICE_LMTP);
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "full@foo.example", NULL };
  SmtpClientConfig config = { "mta.foo.example", TRUE, NULL, NULL, "s@bar.example", recipients, content, FALSE };

  g_hash_table_add (wire->full_users, "full@foo.example");
  wire_start_client (wire, &config);
  wire_run (wire);
  assert_int_equal (wire->outcome.outcome, SMTP_OUTCOME_REJECTED);
  assert_int_equal (recipient_code (&wire->outcome, 0), 452);
}

/* ---- tests against a scripted server ---- */

typedef struct
{
  SimTransport transport;
  GString *written;
  gsize read;
  gboolean closed;
  SmtpClient *client;
  Outcome outcome;
} Script;

static void
script_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  Script *script = impl;
  g_string_append_len (script->written, (const char *) data, (gssize) len);
}

static void
script_close (gpointer impl)
{
  Script *script = impl;
  script->closed = TRUE;
}

static Script *
script_new (const SmtpClientConfig *config)
{
  Script *script = g_new0 (Script, 1);

  script->transport = (SimTransport) { script_write, script_close, script, NULL };
  script->written = g_string_new (NULL);
  script->client = smtp_client_new (config, &script->transport, on_done, &script->outcome);
  return script;
}

static void
script_free (Script *script)
{
  smtp_client_free (script->client);
  g_string_free (script->written, TRUE);
  outcome_clear (&script->outcome);
  g_free (script);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Script, script_free)

/* The server says @reply; the client must answer exactly @expected. */
static void
script_step (Script *script, const char *reply, const char *expected)
{
  smtp_client_feed (script->client, (const guint8 *) reply, strlen (reply));
  const char *said = script->written->str + script->read;
  assert_string_equal (said, expected);
  script->read = script->written->len;
}

static void
test_client_falls_back_from_ehlo_to_helo (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@old.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "220 old.example SMTP ready\r\n", "EHLO bar.example\r\n");
  /* RFC 5321 3.2: a server that does not know EHLO says 500; try HELO. */
  script_step (script, "500 Command unrecognized\r\n", "HELO bar.example\r\n");
  /* No ESMTP, so no SIZE parameter. */
  script_step (script, "250 old.example\r\n", "MAIL FROM:<alice@bar.example>\r\n");
  script_step (script, "250 OK\r\n", "RCPT TO:<bob@old.example>\r\n");
  script_step (script, "250 OK\r\n", "DATA\r\n");
  script_step (script, "354 go ahead\r\n", "x\r\n.\r\n");
  assert_int_equal (script->outcome.reports, 0);
  script_step (script, "250 OK\r\n", "QUIT\r\n");
  assert_int_equal (script->outcome.reports, 1);
  assert_true (script->outcome.dot_sent);
  assert_int_equal (script->outcome.outcome, SMTP_OUTCOME_SENT);
  assert_null (script->outcome.data_reply->enhanced);
  script_step (script, "221 bye\r\n", "");
  assert_true (script->closed);
}

static void
test_client_reads_multiline_replies_and_replies_split_anywhere (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "220-first line\r\n220-second", "");
  script_step (script, " line\r\n220 ready\r", "");
  script_step (script, "\n", "EHLO bar.example\r\n");
  script_step (script, "250-mx.foo.example\r\n250-PIPELINING\r\n", "");
  /* RFC 2920: the server offers PIPELINING, so MAIL and RCPT go as one group. */
  script_step (script, "250 SIZE 1000\r\n",
               "MAIL FROM:<alice@bar.example> SIZE=3\r\nRCPT TO:<bob@foo.example>\r\n");
}

static void
test_client_without_recipients_quits_instead_of_mail (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "220 mx ready\r\n", "EHLO bar.example\r\n");
  script_step (script, "250 mx\r\n", "QUIT\r\n");
  assert_int_equal (script->outcome.reports, 1);
  assert_int_equal (script->outcome.outcome, SMTP_OUTCOME_REJECTED);
}

static void
test_client_pipelines_and_reads_the_replies_in_order (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", "ghost@foo.example", "carol@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "220 mx.foo.example ready\r\n", "EHLO bar.example\r\n");
  script_step (script, "250-mx.foo.example\r\n250 PIPELINING\r\n",
               "MAIL FROM:<alice@bar.example>\r\nRCPT TO:<bob@foo.example>\r\n"
               "RCPT TO:<ghost@foo.example>\r\nRCPT TO:<carol@foo.example>\r\n");
  /* The replies come in order, one per command, possibly all at once;
   * DATA follows them, since two recipients were accepted. */
  script_step (script, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 No such user\r\n250 2.1.5 Ok\r\n", "DATA\r\n");
  script_step (script, "354 go ahead\r\n", "x\r\n.\r\n");
  script_step (script, "250 2.0.0 Ok: queued\r\n", "QUIT\r\n");
  assert_int_equal (script->outcome.outcome, SMTP_OUTCOME_SENT);
  assert_int_equal (recipient_code (&script->outcome, 0), 250);
  assert_int_equal (recipient_code (&script->outcome, 1), 550);
  assert_int_equal (recipient_code (&script->outcome, 2), 250);
}


static void
test_client_gives_up_on_421_greeting_and_quits_after_554 (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", "carol@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) busy = script_new (&config);
  g_autoptr(Script) hostile = script_new (&config);

  /* 421: the server is closing; the client hangs up without QUIT. */
  script_step (busy, "421 4.3.2 mx.foo.example too busy\r\n", "");
  assert_true (busy->closed);
  assert_int_equal (busy->outcome.outcome, SMTP_OUTCOME_REJECTED);
  assert_int_equal (recipient_code (&busy->outcome, 0), 421);
  assert_int_equal (recipient_code (&busy->outcome, 1), 421);
  assert_string_equal (((SmtpReply *) g_ptr_array_index (busy->outcome.recipient_replies, 0))->enhanced, "4.3.2");

  /* 554: no service here, but RFC 5321 3.1 still expects QUIT. */
  script_step (hostile, "554 5.7.1 go away\r\n", "QUIT\r\n");
  assert_int_equal (hostile->outcome.outcome, SMTP_OUTCOME_REJECTED);
  assert_int_equal (recipient_code (&hostile->outcome, 1), 554);
}

static void
test_client_connection_lost_after_the_dot_sets_dot_sent (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "220 mx\r\n", "EHLO bar.example\r\n");
  /* RFC 1870: no SIZE in the EHLO reply, so no SIZE parameter. */
  script_step (script, "250 mx\r\n", "MAIL FROM:<alice@bar.example>\r\n");
  script_step (script, "250 2.1.0 Ok\r\n", "RCPT TO:<bob@foo.example>\r\n");
  script_step (script, "250 2.1.5 Ok\r\n", "DATA\r\n");
  script_step (script, "354 go\r\n", "x\r\n.\r\n");
  /* The connection breaks before the server answers the dot: the message
   * may or may not have been taken (RFC 1047), and the client says so. */
  smtp_client_connection_lost (script->client);
  assert_int_equal (script->outcome.reports, 1);
  assert_int_equal (script->outcome.outcome, SMTP_OUTCOME_LOST);
  assert_true (script->outcome.dot_sent);
  assert_null (g_ptr_array_index (script->outcome.recipient_replies, 0));
  assert_null (script->outcome.data_reply);
  /* Reported once, whatever comes after. */
  smtp_client_connection_lost (script->client);
  smtp_client_feed (script->client, (const guint8 *) "250 Ok\r\n", 8);
  assert_int_equal (script->outcome.reports, 1);
}

static void
test_client_connection_lost_before_the_dot_leaves_dot_sent_false (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "220 mx\r\n", "EHLO bar.example\r\n");
  /* RFC 1870: no SIZE in the EHLO reply, so no SIZE parameter. */
  script_step (script, "250 mx\r\n", "MAIL FROM:<alice@bar.example>\r\n");
  smtp_client_connection_lost (script->client);
  assert_int_equal (script->outcome.outcome, SMTP_OUTCOME_LOST);
  assert_false (script->outcome.dot_sent);
}

static void
test_client_lost_after_the_outcome_keeps_the_outcome (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "220 mx\r\n", "EHLO bar.example\r\n");
  /* RFC 1870: no SIZE in the EHLO reply, so no SIZE parameter. */
  script_step (script, "250 mx\r\n", "MAIL FROM:<alice@bar.example>\r\n");
  script_step (script, "250 Ok\r\n", "RCPT TO:<bob@foo.example>\r\n");
  script_step (script, "250 Ok\r\n", "DATA\r\n");
  script_step (script, "354 go\r\n", "x\r\n.\r\n");
  script_step (script, "250 2.0.0 queued\r\n", "QUIT\r\n");
  /* The server drops the line instead of answering QUIT: the message was
   * already accepted, so the outcome stays SENT. */
  smtp_client_connection_lost (script->client);
  assert_int_equal (script->outcome.reports, 1);
  assert_int_equal (script->outcome.outcome, SMTP_OUTCOME_SENT);
}

static void
test_client_hangs_up_on_a_server_that_never_ends_its_line (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);
  g_autofree char *endless = g_strnfill (SMTP_MAX_REPLY_LINE * 5, '2');

  smtp_client_feed (script->client, (const guint8 *) endless, strlen (endless));
  assert_true (script->closed);
  assert_int_equal (script->outcome.outcome, SMTP_OUTCOME_LOST);
  assert_string_equal (script->written->str, "");
}

static void
test_client_ignores_lines_that_are_not_replies (void **state)
{
  g_autoptr(GBytes) content = content_of ("x\r\n");
  const char *recipients[] = { "bob@foo.example", NULL };
  SmtpClientConfig config = { "bar.example", FALSE, NULL, NULL, "alice@bar.example", recipients, content, FALSE };
  g_autoptr(Script) script = script_new (&config);

  script_step (script, "hello there\r\n\r\n999 nonsense\r\n", "");
  script_step (script, "220 mx\r\n", "EHLO bar.example\r\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_client_sends_a_message_and_reports_sent),
    cmocka_unit_test (test_client_reports_each_recipients_reply),
    cmocka_unit_test (test_client_with_every_recipient_refused_sends_no_content),
    cmocka_unit_test (test_client_pipelines_and_reads_the_replies_in_order),
    cmocka_unit_test (test_client_without_recipients_quits_instead_of_mail),
    cmocka_unit_test (test_client_dot_stuffs_on_the_wire),
    cmocka_unit_test (test_client_null_reverse_path_for_bounces),
    cmocka_unit_test (test_client_refused_by_size_gives_up_at_mail),
    cmocka_unit_test (test_client_authenticates_for_submission),
    cmocka_unit_test (test_client_with_wrong_password_is_rejected),
    cmocka_unit_test (test_client_lmtp_per_recipient_outcomes),
    cmocka_unit_test (test_client_lmtp_with_every_delivery_failing_is_rejected),
    cmocka_unit_test (test_client_falls_back_from_ehlo_to_helo),
    cmocka_unit_test (test_client_reads_multiline_replies_and_replies_split_anywhere),
    cmocka_unit_test (test_client_gives_up_on_421_greeting_and_quits_after_554),
    cmocka_unit_test (test_client_connection_lost_after_the_dot_sets_dot_sent),
    cmocka_unit_test (test_client_connection_lost_before_the_dot_leaves_dot_sent_false),
    cmocka_unit_test (test_client_lost_after_the_outcome_keeps_the_outcome),
    cmocka_unit_test (test_client_hangs_up_on_a_server_that_never_ends_its_line),
    cmocka_unit_test (test_client_ignores_lines_that_are_not_replies),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
