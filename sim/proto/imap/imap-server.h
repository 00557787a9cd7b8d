/* imap-server.h: one IMAP4rev1 server session (RFC 3501), with IDLE
 * (RFC 2177) and SASL PLAIN (RFC 4616, with RFC 4959 initial responses).
 *
 * The session is a state machine over a MailStore: its owner feeds it the
 * bytes the client sent and it answers through a SimTransport.  It never
 * reads a clock: the owner says what time it is with imap_server_set_now()
 * and calls imap_server_idle_timeout() when its autologout timer fires.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"
#include "net/sim-transport.h"
#include "nodes/mail-store.h"

G_BEGIN_DECLS

/* RFC 3501 5.4: the autologout timer is at least 30 minutes. */
#define IMAP_AUTOLOGOUT_TIMEOUT (30 * SIM_TIME_MINUTE)
/* RFC 2177 3: a client in IDLE re-issues it at least every 29 minutes. */
#define IMAP_IDLE_REFRESH (29 * SIM_TIME_MINUTE)

#define IMAP_SERVER_CAPABILITIES "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE"

typedef struct _ImapServer ImapServer;

typedef enum
{
  IMAP_STATE_NOT_AUTHENTICATED,
  IMAP_STATE_AUTHENTICATED,
  IMAP_STATE_SELECTED,
  IMAP_STATE_LOGOUT,
} ImapState;

/* @store and @transport must outlive the session. */
ImapServer *imap_server_new (MailStore *store, const char *hostname, SimTransport *transport);
void imap_server_free (ImapServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImapServer, imap_server_free)

/* Sends the greeting: "* OK [CAPABILITY ...] <hostname> IMAP4rev1 ready". */
void imap_server_start (ImapServer *self);
/* One call per chunk of received bytes; replies go out through the transport. */
void imap_server_feed (ImapServer *self, const guint8 *data, gsize len);
/* The current simulated time, for APPEND's internal date. */
void imap_server_set_now (ImapServer *self, SimTime now);
/* The client vanished: the session ends without expunging anything. */
void imap_server_connection_lost (ImapServer *self);
/* The owner's autologout timer fired: "* BYE", then close (RFC 3501 5.4). */
void imap_server_idle_timeout (ImapServer *self);
gboolean imap_server_is_finished (ImapServer *self);

ImapState imap_server_get_state (ImapServer *self);
/* The authenticated user, or NULL. (transfer none) */
const char *imap_server_get_user (ImapServer *self);
/* The selected mailbox, or NULL. (transfer none) */
const char *imap_server_get_mailbox (ImapServer *self);

G_END_DECLS
