/* smtp-client.h: the client side of one SMTP or LMTP transaction.
 *
 * Used by mail clients (submission), by MTAs relaying to the next hop and by
 * MTAs handing mail to a mail store over LMTP.  The client sends one
 * message to its recipients and reports, once, what became of each.
 */
#pragma once

#include <glib.h>

#include "net/sim-transport.h"
#include "proto/smtp/smtp-protocol.h"

G_BEGIN_DECLS

typedef struct _SmtpClient SmtpClient;

typedef struct
{
  const char *helo_name;          /* our hostname for EHLO/LHLO */
  gboolean lmtp;                  /* speak LMTP (RFC 2033) */
  const char *auth_user;          /* AUTH PLAIN with these, or NULL */
  const char *auth_password;
  const char *reverse_path;       /* "" for a bounce's null reverse-path */
  const char *const *recipients;  /* NULL-terminated forward-paths */
  GBytes *content;                /* the message, not dot-stuffed */
  gboolean starttls;              /* use STARTTLS when the server offers it (RFC 3207) */
} SmtpClientConfig;

typedef enum
{
  SMTP_OUTCOME_SENT,        /* the final dot was acknowledged with 2xx for at least one recipient */
  SMTP_OUTCOME_REJECTED,    /* a reply refused the message or every recipient */
  SMTP_OUTCOME_LOST,        /* the connection failed before the outcome was known */
} SmtpOutcome;

typedef struct
{
  SmtpOutcome outcome;
  /* One reply per recipient, in the order of config.recipients: the reply
   * that decided its fate (RCPT refusal, final-dot answer, or the reply
   * that ended the session early). NULL when the connection was lost. */
  GPtrArray *recipient_replies;   /* SmtpReply* */
  /* The reply to the final dot (for SMTP; the first one for LMTP), or NULL. */
  SmtpReply *data_reply;
  /* Whether the final dot was sent: lost after it means a possible
   * duplicate (RFC 1047). */
  gboolean dot_sent;
} SmtpClientResult;

typedef void (*SmtpClientDone) (SmtpClient *client, const SmtpClientResult *result, gpointer user_data);

SmtpClient *smtp_client_new (const SmtpClientConfig *config, SimTransport *transport,
                             SmtpClientDone done, gpointer user_data);
void smtp_client_free (SmtpClient *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpClient, smtp_client_free)

void smtp_client_feed (SmtpClient *self, const guint8 *data, gsize len);
/* The connection broke or closed early: reports SMTP_OUTCOME_LOST (for
 * recipients not yet decided) unless the result was already reported. */
void smtp_client_connection_lost (SmtpClient *self);
gboolean smtp_client_is_done (const SmtpClient *self);

G_END_DECLS
