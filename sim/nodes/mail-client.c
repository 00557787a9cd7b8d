/* mail-client.c: submission and retrieval sessions of a user's device. */
#include "nodes/mail-client.h"

#include "nodes/mail-store.h"
#include "nodes/mta.h"
#include "nodes/sim-world.h"
#include "nodes/store-node.h"
#include "proto/imap/imap-client.h"
#include "proto/imap/imap-server.h"
#include "proto/message/mail-message.h"
#include "proto/pop3/pop3-client.h"
#include "proto/smtp/smtp-client.h"

typedef struct
{
  char *address;
  char *password;
  guint32 submission_address;
  guint32 store_address;
  MailClientProtocol protocol;
  gboolean keep_on_server;
  GPtrArray *messages;      /* GBytes*, downloaded */
  GHashTable *seen_uids;    /* UIDs already downloaded (IMAP keeps mail); lookups only */
  gboolean starttls;
  SimTime poll_interval;    /* 0: only when the timeline says so */
  SimEventId poll_timer;
  gboolean idle;            /* IMAP IDLE: keep a session open for pushes */
  struct _ClientSession *idle_session;  /* the open IDLE session, or NULL */
  MailClient *client;
} MailAccount;

struct _MailClient
{
  SimWorld *world;
  SimNode *node;
  GPtrArray *accounts;   /* MailAccount* */
  GPtrArray *sessions;   /* ClientSession* */
};

typedef enum
{
  SESSION_SUBMIT,
  SESSION_IMAP,
  SESSION_POP3,
} SessionKind;

typedef struct _ClientSession
{
  MailClient *client;
  MailAccount *account;
  SessionKind kind;
  SimStream *stream;
  SimTransport transport;
  gpointer protocol;     /* SmtpClient*, ImapClient* or Pop3Client* */
  gboolean closed;
  guint recipients;
  SimEventId idle_refresh_timer;   /* IMAP IDLE sessions: re-issue IDLE (RFC 2177 3) */
  gboolean idle_started;           /* the first batch came: the session idles */
} ClientSession;

static void
account_free (MailAccount *account)
{
  sim_scheduler_cancel (sim_world_get_scheduler (account->client->world), &account->poll_timer);
  g_free (account->address);
  g_free (account->password);
  g_ptr_array_unref (account->messages);
  g_hash_table_destroy (account->seen_uids);
  g_free (account);
}

static void
session_free (ClientSession *session)
{
  sim_scheduler_cancel (sim_world_get_scheduler (session->client->world), &session->idle_refresh_timer);
  if (session->account->idle_session == session)
    session->account->idle_session = NULL;
  /* Freed with its stream still open (the device is being freed): no
   * callback may reach this session any more. */
  if (!session->closed)
    sim_stream_set_handler (session->stream, NULL, NULL);
  switch (session->kind)
    {
    case SESSION_SUBMIT:
      smtp_client_free (session->protocol);
      break;
    case SESSION_IMAP:
      imap_client_free (session->protocol);
      break;
    case SESSION_POP3:
      pop3_client_free (session->protocol);
      break;
    }
  g_free (session);
}

static void
session_release (ClientSession *session)
{
  g_ptr_array_remove (session->client->sessions, session);
}

static void
session_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  ClientSession *session = impl;
  sim_stream_write (session->stream, data, len, explain_key);
}

static void
session_close (gpointer impl)
{
  ClientSession *session = impl;

  session->closed = TRUE;
  sim_stream_close (session->stream);
}

static void
session_start_tls (gpointer impl)
{
  ClientSession *session = impl;
  sim_stream_start_tls (session->stream);
}

static void
session_feed (ClientSession *session, const guint8 *data, gsize len)
{
  switch (session->kind)
    {
    case SESSION_SUBMIT:
      smtp_client_feed (session->protocol, data, len);
      break;
    case SESSION_IMAP:
      imap_client_feed (session->protocol, data, len);
      break;
    case SESSION_POP3:
      pop3_client_feed (session->protocol, data, len);
      break;
    }
}

static void
session_lost (ClientSession *session)
{
  switch (session->kind)
    {
    case SESSION_SUBMIT:
      smtp_client_connection_lost (session->protocol);
      break;
    case SESSION_IMAP:
      imap_client_connection_lost (session->protocol);
      break;
    case SESSION_POP3:
      pop3_client_connection_lost (session->protocol);
      break;
    }
}

static void
stream_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  ClientSession *session = user_data;

  session_feed (session, data, len);
  if (session->closed)
    session_release (session);
}

static void
stream_closed (SimStream *stream, gpointer user_data)
{
  ClientSession *session = user_data;

  session_lost (session);
  if (!session->closed)
    {
      session->closed = TRUE;
      sim_stream_close (stream);
    }
  session_release (session);
}

static void
stream_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  ClientSession *session = user_data;

  sim_node_emit (session->client->node, SIM_EVENT_NOTE, "", "mail", "tcp.reset", "failed", NULL,
                 "%s: %s", session->kind == SESSION_SUBMIT ? "sending failed" : "checking mail failed",
                 sim_stream_error_to_string (error));
  session->closed = TRUE;
  session_lost (session);
  session_release (session);
}

static const SimStreamCallbacks session_callbacks = {
  NULL, stream_received, stream_closed, stream_failed,
};

static ClientSession *
session_open (MailClient *self, MailAccount *account, SessionKind kind, guint32 address, guint16 port)
{
  ClientSession *session = g_new0 (ClientSession, 1);

  session->client = self;
  session->account = account;
  session->kind = kind;
  session->transport.write = session_write;
  session->transport.close = session_close;
  session->transport.impl = session;
  session->transport.start_tls = session_start_tls;
  g_ptr_array_add (self->sessions, session);
  session->stream = sim_network_connect (sim_world_get_network (self->world), self->node, address, port,
                                         &session_callbacks, session);
  return session;
}

static MailAccount *
find_account (MailClient *self, const char *address)
{
  for (guint i = 0; i < self->accounts->len; i++)
    {
      MailAccount *account = g_ptr_array_index (self->accounts, i);
      if (g_ascii_strcasecmp (account->address, address) == 0)
        return account;
    }
  return NULL;
}

/* ---- sending ---- */

static void
submit_done (SmtpClient *client, const SmtpClientResult *result, gpointer user_data)
{
  ClientSession *session = user_data;
  MailClient *self = session->client;
  g_autofree char *reply = result->data_reply != NULL ? smtp_reply_to_string (result->data_reply) : NULL;

  if (result->outcome == SMTP_OUTCOME_SENT)
    sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.submitted", "sent", NULL,
                   "%s's message was accepted by the submission server: %s", session->account->address, reply);
  else
    {
      g_autofree char *why = NULL;
      for (guint i = 0; i < result->recipient_replies->len && why == NULL; i++)
        {
          SmtpReply *r = g_ptr_array_index (result->recipient_replies, i);
          if (r != NULL)
            why = smtp_reply_to_string (r);
        }
      sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.submitted", "not-sent", NULL,
                     "%s's message was not sent: %s", session->account->address,
                     why != NULL ? why : "the connection was lost");
    }
}

void
mail_client_send (MailClient *self, const char *from, const char *const *to,
                  const char *subject, const char *body)
{
  MailAccount *account = find_account (self, from);
  g_autoptr (GString) to_header = g_string_new (NULL);
  SmtpClientConfig config = { 0 };
  ClientSession *session;

  if (account == NULL)
    return;
  for (guint i = 0; to[i] != NULL; i++)
    g_string_append_printf (to_header, "%s%s", i > 0 ? ", " : "", to[i]);
  g_autoptr (GBytes) content = mail_message_compose (from, to_header->str, subject, body);
  sim_node_emit (self->node, SIM_EVENT_ACTION, "", "mail", "action.send", "send", NULL,
                 "%s writes to %s: \"%s\"", from, to_header->str, subject != NULL ? subject : "");
  session = session_open (self, account, SESSION_SUBMIT, account->submission_address, MTA_PORT_SUBMISSION);
  config.helo_name = sim_node_get_name (self->node);
  config.auth_user = account->address;
  config.auth_password = account->password;
  config.reverse_path = from;
  config.recipients = to;
  config.content = content;
  config.starttls = account->starttls;
  session->protocol = smtp_client_new (&config, &session->transport, submit_done, session);
}

/* ---- reading ---- */

/* Keeps the messages the device does not hold yet; returns how many. */
static guint
keep_fresh (MailAccount *account, GPtrArray *fetched)
{
  guint fresh = 0;

  for (guint i = 0; i < fetched->len; i++)
    {
      MailFetched *message = g_ptr_array_index (fetched, i);
      /* An IMAP client keeps a local copy once; POP3 mail is deleted from
       * the server or, when kept, recognised by its UID (UIDL). */
      if (g_hash_table_contains (account->seen_uids, GUINT_TO_POINTER (message->uid)))
        continue;
      g_hash_table_add (account->seen_uids, GUINT_TO_POINTER (message->uid));
      g_ptr_array_add (account->messages, g_bytes_ref (message->data));
      fresh++;
    }
  return fresh;
}

static void
fetch_done (gpointer user_data, gboolean ok, const char *error_text, GPtrArray *fetched)
{
  ClientSession *session = user_data;
  MailAccount *account = session->account;
  guint fresh = keep_fresh (account, fetched);

  sim_node_emit (session->client->node, SIM_EVENT_MAIL, "", "mail", "mail.fetched", ok ? "fetched" : "fetch-failed", NULL,
                 "%s: %u new message%s downloaded over %s%s%s", account->address, fresh, fresh == 1 ? "" : "s",
                 session->kind == SESSION_IMAP ? "IMAP" : "POP3", ok ? "" : ", then: ",
                 ok ? "" : (error_text != NULL ? error_text : "failure"));
}

/* ---- reading with IMAP IDLE (RFC 2177) ---- */

static void idle_refresh_now (gpointer data);

/* RFC 2177 3: IDLE again within 29 minutes of the last one, which went
 * out just now (after a batch) or goes out after the refresh. */
static void
idle_refresh_schedule (ClientSession *session)
{
  SimScheduler *scheduler = sim_world_get_scheduler (session->client->world);

  sim_scheduler_cancel (scheduler, &session->idle_refresh_timer);
  session->idle_refresh_timer = sim_scheduler_after (scheduler, IMAP_IDLE_REFRESH, idle_refresh_now, session, NULL);
}

static void
idle_refresh_now (gpointer data)
{
  ClientSession *session = data;

  session->idle_refresh_timer = 0;
  idle_refresh_schedule (session);
  imap_client_idle_refresh (session->protocol);
}

static void
idle_batch (gpointer user_data, gboolean pushed, GPtrArray *fetched)
{
  ClientSession *session = user_data;
  MailAccount *account = session->account;
  guint fresh = keep_fresh (account, fetched);

  session->idle_started = TRUE;
  if (pushed)
    sim_node_emit (session->client->node, SIM_EVENT_MAIL, "", "mail", "mail.pushed", "pushed", NULL,
                   "%s: %u new message%s pushed over IMAP IDLE", account->address, fresh, fresh == 1 ? "" : "s");
  else
    sim_node_emit (session->client->node, SIM_EVENT_MAIL, "", "mail", "mail.fetched", "fetched", NULL,
                   "%s: %u new message%s downloaded over IMAP; the session stays open in IDLE to hear of new mail",
                   account->address, fresh, fresh == 1 ? "" : "s");
  idle_refresh_schedule (session);
}

static void
idle_done (gpointer user_data, gboolean ok, const char *error_text, GPtrArray *fetched)
{
  ClientSession *session = user_data;
  MailAccount *account = session->account;

  /* Failed before it could idle: an ordinary failed check for mail. */
  if (!session->idle_started)
    {
      fetch_done (user_data, ok, error_text, fetched);
      return;
    }
  guint fresh = keep_fresh (account, fetched);
  sim_node_emit (session->client->node, SIM_EVENT_MAIL, "", "mail", "mail.idle-ended", "idle-ended", NULL,
                 "%s: the IMAP IDLE session ended (%s)%s; new mail is no longer pushed until the next check",
                 account->address, error_text != NULL ? error_text : "logged out",
                 fresh > 0 ? ", after the last messages came in" : "");
  sim_scheduler_cancel (sim_world_get_scheduler (session->client->world), &session->idle_refresh_timer);
}

void
mail_client_fetch (MailClient *self, const char *address)
{
  MailAccount *account = find_account (self, address);
  ClientSession *session;

  if (account == NULL)
    return;
  if (account->idle_session != NULL)
    {
      sim_node_emit (self->node, SIM_EVENT_ACTION, "", "mail", "action.fetch", "fetch", NULL,
                     "%s checks for new mail: the IMAP IDLE session is open, new mail comes by itself", address);
      return;
    }
  sim_node_emit (self->node, SIM_EVENT_ACTION, "", "mail", "action.fetch", "fetch", NULL,
                 "%s checks for new mail over %s%s", address, account->protocol == MAIL_CLIENT_IMAP ? "IMAP" : "POP3",
                 account->idle ? " and stays connected in IDLE" : "");
  if (account->protocol == MAIL_CLIENT_IMAP)
    {
      session = session_open (self, account, SESSION_IMAP, account->store_address, STORE_PORT_IMAP);
      session->protocol = imap_client_new (account->address, account->password, "INBOX", TRUE,
                                           &session->transport, account->idle ? idle_done : fetch_done, session);
      if (account->idle)
        {
          imap_client_set_idle (session->protocol, idle_batch);
          account->idle_session = session;
        }
    }
  else
    {
      session = session_open (self, account, SESSION_POP3, account->store_address, STORE_PORT_POP3);
      session->protocol = pop3_client_new (account->address, account->password, !account->keep_on_server,
                                           &session->transport, fetch_done, session);
    }
}

/* ---- construction ---- */

MailClient *
mail_client_new (SimWorld *world, SimNode *node)
{
  MailClient *self = g_new0 (MailClient, 1);

  self->world = world;
  self->node = node;
  self->accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) account_free);
  self->sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) session_free);
  return self;
}

void
mail_client_free (MailClient *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->sessions);
  g_ptr_array_unref (self->accounts);
  g_free (self);
}

void
mail_client_add_account (MailClient *self, const char *address, const char *password,
                         guint32 submission_address, guint32 store_address,
                         MailClientProtocol protocol, gboolean keep_on_server)
{
  MailAccount *account = g_new0 (MailAccount, 1);

  account->address = g_strdup (address);
  account->password = g_strdup (password);
  account->submission_address = submission_address;
  account->store_address = store_address;
  account->protocol = protocol;
  account->keep_on_server = keep_on_server;
  account->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  account->seen_uids = g_hash_table_new (g_direct_hash, g_direct_equal);
  account->client = self;
  g_ptr_array_add (self->accounts, account);
}

void
mail_client_set_starttls (MailClient *self, const char *address, gboolean starttls)
{
  MailAccount *account = find_account (self, address);

  if (account != NULL)
    account->starttls = starttls;
}

void
mail_client_set_idle (MailClient *self, const char *address, gboolean idle)
{
  MailAccount *account = find_account (self, address);

  if (account != NULL && account->protocol == MAIL_CLIENT_IMAP)
    account->idle = idle;
}

static void
poll_now (gpointer data)
{
  MailAccount *account = data;
  SimScheduler *scheduler = sim_world_get_scheduler (account->client->world);

  account->poll_timer = sim_scheduler_after (scheduler, account->poll_interval, poll_now, account, NULL);
  if (sim_node_is_up (account->client->node))
    mail_client_fetch (account->client, account->address);
}

void
mail_client_set_poll (MailClient *self, const char *address, SimTime first, SimTime interval)
{
  MailAccount *account = find_account (self, address);
  SimScheduler *scheduler = sim_world_get_scheduler (self->world);

  if (account == NULL || interval <= 0)
    return;
  account->poll_interval = interval;
  sim_scheduler_cancel (scheduler, &account->poll_timer);
  account->poll_timer = sim_scheduler_at (scheduler, first, poll_now, account, NULL);
}

gboolean
mail_client_has_account (MailClient *self, const char *address)
{
  return find_account (self, address) != NULL;
}

GPtrArray *
mail_client_get_messages (MailClient *self, const char *address)
{
  MailAccount *account = find_account (self, address);
  return account != NULL ? account->messages : NULL;
}

SimNode *
mail_client_get_node (MailClient *self)
{
  return self->node;
}
