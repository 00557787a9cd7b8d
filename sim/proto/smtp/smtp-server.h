/* smtp-server.h: the server side of an SMTP or LMTP session.
 *
 * A state machine fed bytes (smtp_server_feed) that answers through a
 * SimTransport.  Policy (who may relay, which mailboxes exist, what happens
 * to an accepted message) belongs to the MTA that owns the session and is
 * asked through SmtpServerHandler.
 */
#pragma once

#include <glib.h>

#include "net/sim-transport.h"
#include "proto/smtp/smtp-protocol.h"

G_BEGIN_DECLS

typedef enum
{
  SMTP_SERVICE_RELAY,       /* port 25: mail for this server's own domains, between MTAs */
  SMTP_SERVICE_SUBMISSION,  /* port 587: users submit mail after AUTH (RFC 6409) */
  SMTP_SERVICE_LMTP,        /* LMTP (RFC 2033): final delivery into a mail store */
} SmtpService;

#define SMTP_DEFAULT_SIZE_LIMIT (10 * 1024 * 1024)

typedef struct _SmtpServer SmtpServer;

typedef struct
{
  char *reverse_path;     /* "" for the null reverse-path */
  GPtrArray *recipients;  /* char*, accepted forward-paths in order */
} SmtpEnvelope;

/* A handler that must look something up before answering (DNS for SPF or
 * a blocklist) sets reply->code to SMTP_REPLY_PENDING and later calls
 * smtp_server_resume() with the real answer.  Meanwhile the server reads
 * no further command: pipelined ones wait in its input buffer. */
#define SMTP_REPLY_PENDING 0

typedef struct
{
  /* RCPT TO: fill @reply with the answer (2xx accepts the recipient), or
   * SMTP_REPLY_PENDING. */
  void (*check_recipient) (SmtpServer *server, const char *reverse_path,
                           const char *forward_path, SmtpReply *reply, gpointer user_data);
  /* AUTH: TRUE when the credentials are right. */
  gboolean (*authenticate) (SmtpServer *server, const char *user, const char *password,
                            gpointer user_data);
  /* The final dot arrived.  @content is the message without dot-stuffing.
   * Append to @replies one SmtpReply* (SMTP) or one per recipient in order
   * (LMTP, RFC 2033 4.2).  A 2xx reply means responsibility for the
   * message has passed to the owner (RFC 5321 6.1). */
  void (*message) (SmtpServer *server, const SmtpEnvelope *envelope, GBytes *content,
                   GPtrArray *replies, gpointer user_data);
  /* MAIL FROM, optional (NULL accepts every sender): fill @reply as for
   * check_recipient, or SMTP_REPLY_PENDING. */
  void (*check_sender) (SmtpServer *server, const char *reverse_path, SmtpReply *reply,
                        gpointer user_data);
} SmtpServerHandler;

SmtpServer *smtp_server_new (SmtpService service, const char *hostname, SimTransport *transport,
                             const SmtpServerHandler *handler, gpointer user_data);
void smtp_server_free (SmtpServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpServer, smtp_server_free)

void smtp_server_set_size_limit (SmtpServer *self, gsize limit);
/* Offer STARTTLS (RFC 3207); the encryption itself is simulated by the
 * transport (sim_transport_start_tls). */
void smtp_server_set_starttls (SmtpServer *self, gboolean offer);
/* Whether the session runs under (simulated) TLS. */
gboolean smtp_server_get_tls (const SmtpServer *self);

/* Completes the MAIL or RCPT a handler left pending with @answer, then
 * reads the commands that arrived meanwhile.  Must not be called from the
 * handler itself. */
void smtp_server_resume (SmtpServer *self, const SmtpReply *answer);
/* Whether a MAIL or RCPT waits for smtp_server_resume(). */
gboolean smtp_server_is_pending (const SmtpServer *self);

/* Sends the 220 greeting. */
void smtp_server_start (SmtpServer *self);
/* Sends "421 ... Service not available" and closes (overload, shutdown). */
void smtp_server_refuse (SmtpServer *self, const char *text);
void smtp_server_feed (SmtpServer *self, const guint8 *data, gsize len);
/* RFC 5321 4.5.3.2: the owner's idle timer fired: 421 and close. */
void smtp_server_idle_timeout (SmtpServer *self);
void smtp_server_connection_lost (SmtpServer *self);
gboolean smtp_server_is_finished (const SmtpServer *self);

SmtpService smtp_server_get_service (const SmtpServer *self);
const char *smtp_server_get_hostname (const SmtpServer *self);
/* What the client said in EHLO/HELO/LHLO, or NULL. */
const char *smtp_server_get_helo (const SmtpServer *self);
gboolean smtp_server_get_esmtp (const SmtpServer *self);
/* The authenticated user, or NULL. */
const char *smtp_server_get_auth_user (const SmtpServer *self);

G_END_DECLS
