/* pop3-client.h: the scripted POP3 session a simulated mail client runs
 * (RFC 1939): wait for the greeting, CAPA, USER, PASS, STAT, UIDL, RETR
 * each message, DELE each when asked to, QUIT.
 */
#pragma once

#include <glib.h>

#include "net/sim-transport.h"
#include "nodes/mail-store.h"

G_BEGIN_DECLS

/* RFC 2449 4: a response line is at most 512 octets; lines of a message
 * may be up to 998 octets plus CRLF (RFC 5322 2.1.1).  This client
 * accepts lines up to the larger bound and no response over the total. */
#define POP3_CLIENT_MAX_LINE 1000
#define POP3_CLIENT_MAX_RESPONSE (8 * 1024 * 1024)

typedef struct _Pop3Client Pop3Client;

/* @done is called exactly once, when the session ends for any reason,
 * after the transport was closed; it must not free the client.
 * MailFetched.uid is the number after the last "." of the message's UIDL
 * unique-id when it has one (mailsim servers use UIDVALIDITY.UID), else
 * the message number. */
Pop3Client *pop3_client_new (const char *user, const char *password, gboolean delete_after_retrieve,
                             SimTransport *transport, MailFetchDone done, gpointer user_data);
void pop3_client_free (Pop3Client *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3Client, pop3_client_free)

void pop3_client_feed (Pop3Client *self, const guint8 *data, gsize len);
void pop3_client_connection_lost (Pop3Client *self);
gboolean pop3_client_is_finished (Pop3Client *self);
/* (transfer none) of MailFetched* */
GPtrArray *pop3_client_get_fetched (Pop3Client *self);

G_END_DECLS
