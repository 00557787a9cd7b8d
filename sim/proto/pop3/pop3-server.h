/* pop3-server.h: one POP3 server session (RFC 1939, CAPA of RFC 2449,
 * response codes of RFC 2449 8 and RFC 3206).
 *
 * The session serves the INBOX of one user of a MailStore.  It locks the
 * maildrop on login, marks messages deleted during the TRANSACTION state
 * and removes them only in the UPDATE state that QUIT starts: a session
 * that ends any other way deletes nothing (RFC 1939 6).
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"
#include "net/sim-transport.h"
#include "nodes/mail-store.h"

G_BEGIN_DECLS

/* RFC 2449 4: a command line is at most 255 octets including CRLF. */
#define POP3_MAX_COMMAND_LINE 255
/* RFC 1939 3: each argument is at most 40 characters. */
#define POP3_MAX_ARGUMENT 40
/* RFC 1939 3: the autologout timer is at least 10 minutes. */
#define POP3_AUTOLOGOUT_TIMEOUT (10 * SIM_TIME_MINUTE)

typedef struct _Pop3Server Pop3Server;

typedef enum
{
  POP3_STATE_AUTHORIZATION,
  POP3_STATE_TRANSACTION,
  POP3_STATE_UPDATE,
  POP3_STATE_CLOSED,
} Pop3State;

/* @store and @transport must outlive the session. */
Pop3Server *pop3_server_new (MailStore *store, const char *hostname, SimTransport *transport);
void pop3_server_free (Pop3Server *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3Server, pop3_server_free)

/* Sends "+OK POP3 server ready <timestamp>"; the timestamp is what APOP
 * digests (RFC 1939 7). */
void pop3_server_start (Pop3Server *self);
void pop3_server_feed (Pop3Server *self, const guint8 *data, gsize len);
/* Dropped: deletions are not applied, the lock is released. */
void pop3_server_connection_lost (Pop3Server *self);
/* The owner's timer fired: RFC 1939 3 autologout, closing without UPDATE. */
void pop3_server_idle_timeout (Pop3Server *self);
gboolean pop3_server_is_finished (Pop3Server *self);

Pop3State pop3_server_get_state (Pop3Server *self);
/* The "<...>" timestamp of the greeting. (transfer none) */
const char *pop3_server_get_timestamp (Pop3Server *self);

G_END_DECLS
