/* mail-client.h: a user's mail client (MUA) on a laptop or phone.
 *
 * It submits new mail to its provider's submission server (port 587, with
 * AUTH) and reads mail from the mail store over IMAP or POP3.
 */
#pragma once

#include <glib.h>

#include "net/sim-network.h"

G_BEGIN_DECLS

typedef struct _MailClient MailClient;
typedef struct _SimWorld SimWorld;

typedef enum
{
  MAIL_CLIENT_IMAP,
  MAIL_CLIENT_POP3,
} MailClientProtocol;

MailClient *mail_client_new (SimWorld *world, SimNode *node);
void mail_client_free (MailClient *self);

/* One account on this device. */
void mail_client_add_account (MailClient *self, const char *address, const char *password,
                              guint32 submission_address, guint32 store_address,
                              MailClientProtocol protocol, gboolean keep_on_server);
gboolean mail_client_has_account (MailClient *self, const char *address);
/* Use STARTTLS on submission when the server offers it (simulated TLS). */
void mail_client_set_starttls (MailClient *self, const char *address, gboolean starttls);
/* Check for mail every @interval from @first on, as a mail client set to
 * poll does (RFC 1939 and RFC 3501 leave the schedule to the client). */
void mail_client_set_poll (MailClient *self, const char *address, SimTime first, SimTime interval);
/* IMAP accounts only: a fetch opens a session that stays open and IDLEs
 * (RFC 2177), so new mail is pushed to the device as soon as it is filed
 * ("mail.pushed").  The device re-issues IDLE every IMAP_IDLE_REFRESH (29
 * minutes); a fetch while the session is open does nothing, and one after
 * the session ended (autologout, reset, the device going down) opens a
 * new one, so 'poll' on the same account reconnects. */
void mail_client_set_idle (MailClient *self, const char *address, gboolean idle);

/* Timeline actions. */
void mail_client_send (MailClient *self, const char *from, const char *const *to,
                       const char *subject, const char *body);
void mail_client_fetch (MailClient *self, const char *address);

/* Messages this device holds for @address (downloaded), in fetch order.
 * (transfer none) of GBytes*. */
GPtrArray *mail_client_get_messages (MailClient *self, const char *address);

SimNode *mail_client_get_node (MailClient *self);

G_END_DECLS
