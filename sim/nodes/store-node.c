/* store-node.c: wires LMTP, IMAP and POP3 sessions to a MailStore. */
#include "nodes/store-node.h"

#include "nodes/sim-world.h"
#include "proto/imap/imap-server.h"
#include "proto/message/mail-message.h"
#include "proto/pop3/pop3-server.h"
#include "proto/smtp/smtp-server.h"

struct _StoreNode
{
  SimWorld *world;
  SimNode *node;
  MailStore *store;
  GPtrArray *sessions;
};

/* One session of any of the three protocols, behind a small table of
 * functions so the stream plumbing is written once. */
typedef struct
{
  void (*feed) (gpointer server, const guint8 *data, gsize len);
  void (*lost) (gpointer server);
  void (*timeout) (gpointer server);
  gboolean (*finished) (gpointer server);
  void (*free) (gpointer server);
  void (*set_now) (gpointer server, SimTime now);   /* optional */
  SimTime idle_timeout;
} ProtocolOps;

/* Typed wrappers, so each call goes through a function of the right type. */
#define DEFINE_PROTOCOL_OPS(name, prefix, Type, set_now_func, timeout)                                   \
  static void name##_feed (gpointer server, const guint8 *data, gsize len) { prefix##_feed ((Type *) server, data, len); } \
  static void name##_lost (gpointer server) { prefix##_connection_lost ((Type *) server); }              \
  static void name##_timeout (gpointer server) { prefix##_idle_timeout ((Type *) server); }              \
  static gboolean name##_finished (gpointer server) { return prefix##_is_finished ((Type *) server); }   \
  static void name##_free (gpointer server) { prefix##_free ((Type *) server); }                         \
  static const ProtocolOps name##_ops = {                                                                \
    name##_feed, name##_lost, name##_timeout, name##_finished, name##_free, set_now_func, timeout,       \
  };

static void
imap_set_now (gpointer server, SimTime now)
{
  imap_server_set_now (server, now);
}

DEFINE_PROTOCOL_OPS (lmtp, smtp_server, SmtpServer, NULL, 5 * SIM_TIME_MINUTE)
DEFINE_PROTOCOL_OPS (imap, imap_server, ImapServer, imap_set_now, STORE_IMAP_IDLE_TIMEOUT)
DEFINE_PROTOCOL_OPS (pop3, pop3_server, Pop3Server, NULL, STORE_POP3_IDLE_TIMEOUT)

typedef struct
{
  StoreNode *owner;
  SimStream *stream;
  const ProtocolOps *ops;
  gpointer server;
  SimEventId idle_timer;
} StoreSession;

static void
session_free (StoreSession *session)
{
  sim_scheduler_cancel (sim_world_get_scheduler (session->owner->world), &session->idle_timer);
  session->ops->free (session->server);
  g_free (session);
}

static void
session_release (StoreSession *session)
{
  g_ptr_array_remove (session->owner->sessions, session);
}

static void
session_idle (gpointer data)
{
  StoreSession *session = data;

  session->idle_timer = 0;
  session->ops->timeout (session->server);
  session_release (session);
}

static void
session_touch (StoreSession *session)
{
  SimScheduler *scheduler = sim_world_get_scheduler (session->owner->world);

  sim_scheduler_cancel (scheduler, &session->idle_timer);
  session->idle_timer = sim_scheduler_after (scheduler, session->ops->idle_timeout, session_idle, session, NULL);
}

static void
session_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  StoreSession *session = user_data;

  session_touch (session);
  if (session->ops->set_now != NULL)
    session->ops->set_now (session->server, sim_world_now (session->owner->world));
  session->ops->feed (session->server, data, len);
  if (session->ops->finished (session->server))
    session_release (session);
}

static void
session_closed (SimStream *stream, gpointer user_data)
{
  StoreSession *session = user_data;

  session->ops->lost (session->server);
  sim_stream_close (stream);
  session_release (session);
}

static void
session_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  StoreSession *session = user_data;

  session->ops->lost (session->server);
  session_release (session);
}

static const SimStreamCallbacks session_callbacks = {
  NULL, session_received, session_closed, session_failed,
};

static StoreSession *
session_new (StoreNode *self, SimStream *stream, const ProtocolOps *ops, gpointer server)
{
  StoreSession *session = g_new0 (StoreSession, 1);

  session->owner = self;
  session->stream = stream;
  session->ops = ops;
  session->server = server;
  g_ptr_array_add (self->sessions, session);
  sim_stream_set_handler (stream, &session_callbacks, session);
  session_touch (session);
  return session;
}

/* ---- LMTP ---- */

static void
lmtp_check_recipient (SmtpServer *server, const char *reverse_path, const char *forward_path,
                      SmtpReply *reply, gpointer user_data)
{
  StoreSession *session = user_data;

  if (!mail_store_has_user (session->owner->store, forward_path))
    {
      reply->code = 550;
      reply->enhanced = g_strdup ("5.1.1");
      reply->text = g_strdup_printf ("<%s>: no such mailbox here", forward_path);
    }
}

static gboolean
lmtp_authenticate (SmtpServer *server, const char *user, const char *password, gpointer user_data)
{
  return FALSE;
}

static void
lmtp_message (SmtpServer *server, const SmtpEnvelope *envelope, GBytes *content,
              GPtrArray *replies, gpointer user_data)
{
  StoreSession *session = user_data;
  StoreNode *self = session->owner;
  g_autofree char *return_path = g_strdup_printf ("<%s>", envelope->reverse_path);
  /* RFC 5321 4.4: final delivery records the reverse-path in Return-Path. */
  g_autoptr (GBytes) message = mail_message_prepend_header (content, "Return-Path", return_path);
  /* The MTA's content filter marked it as spam (SpamAssassin's header):
   * it goes to the Junk folder rather than the INBOX. */
  g_autofree char *spam_flag = mail_message_get_header (content, "X-Spam-Flag");
  const char *folder = spam_flag != NULL && g_ascii_strcasecmp (spam_flag, "YES") == 0 ? "Junk" : "INBOX";

  /* RFC 2033 4.2: one answer per recipient, each its own delivery. */
  for (guint i = 0; i < envelope->recipients->len; i++)
    {
      const char *recipient = g_ptr_array_index (envelope->recipients, i);
      g_autoptr (GError) error = NULL;
      guint32 uid = 0;

      if (!mail_store_deliver (self->store, recipient, folder, message, sim_world_now (self->world), &uid, &error))
        {
          gboolean quota = g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_QUOTA);
          g_autofree char *text = g_strdup_printf ("<%s>: %s", recipient, error->message);
          /* RFC 5321 4.2.2: 452 for a full mailbox, temporary; the sender retries. */
          g_ptr_array_add (replies, smtp_reply_new (quota ? 452 : 550, quota ? "4.2.2" : "5.1.1", text));
          continue;
        }
      sim_world_count_delivered (self->world, 1);
      g_autofree char *text = g_strdup_printf ("<%s> delivered to %s, uid %u", recipient, folder, uid);
      sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", folder[0] == 'J' ? "mail.junk" : "mail.delivered",
                     "delivered", NULL, "filed in %s's %s as uid %u", recipient, folder, uid);
      g_ptr_array_add (replies, smtp_reply_new (250, "2.0.0", text));
    }
}

static const SmtpServerHandler lmtp_handler = {
  lmtp_check_recipient, lmtp_authenticate, lmtp_message,
};

static void
accept_lmtp (SimStream *stream, gpointer user_data)
{
  StoreNode *self = user_data;
  StoreSession *session = session_new (self, stream, &lmtp_ops, NULL);

  session->server = smtp_server_new (SMTP_SERVICE_LMTP, sim_node_get_name (self->node),
                                     sim_stream_get_transport (stream), &lmtp_handler, session);
  smtp_server_start (session->server);
}

/* ---- IMAP and POP3 ---- */

static void
accept_imap (SimStream *stream, gpointer user_data)
{
  StoreNode *self = user_data;
  ImapServer *server = imap_server_new (self->store, sim_node_get_name (self->node), sim_stream_get_transport (stream));

  session_new (self, stream, &imap_ops, server);
  imap_server_set_now (server, sim_world_now (self->world));
  imap_server_start (server);
}

static void
accept_pop3 (SimStream *stream, gpointer user_data)
{
  StoreNode *self = user_data;
  Pop3Server *server = pop3_server_new (self->store, sim_node_get_name (self->node), sim_stream_get_transport (stream));

  session_new (self, stream, &pop3_ops, server);
  pop3_server_start (server);
}

StoreNode *
store_node_new (SimWorld *world, SimNode *node)
{
  StoreNode *self = g_new0 (StoreNode, 1);

  self->world = world;
  self->node = node;
  self->store = mail_store_new ();
  self->sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) session_free);
  sim_node_listen (node, STORE_PORT_LMTP, "lmtp", accept_lmtp, self);
  sim_node_listen (node, STORE_PORT_IMAP, "imap", accept_imap, self);
  sim_node_listen (node, STORE_PORT_POP3, "pop3", accept_pop3, self);
  return self;
}

void
store_node_free (StoreNode *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->sessions);
  mail_store_free (self->store);
  g_free (self);
}

MailStore *
store_node_get_store (StoreNode *self)
{
  return self->store;
}

SimNode *
store_node_get_node (StoreNode *self)
{
  return self->node;
}
