/* imap-client.h: the scripted IMAP4rev1 session a simulated mail client
 * runs (RFC 3501): wait for the greeting, LOGIN, SELECT the folder, UID
 * FETCH 1:* (UID FLAGS BODY.PEEK[]) (or BODY[] to mark the messages
 * \Seen), LOGOUT.
 */
#pragma once

#include <glib.h>

#include "net/sim-transport.h"
#include "nodes/mail-store.h"

G_BEGIN_DECLS

typedef struct _ImapClient ImapClient;

/* @done is called exactly once, when the session ends for any reason,
 * after the transport was closed; it must not free the client. */
ImapClient *imap_client_new (const char *user, const char *password, const char *folder,
                             gboolean mark_seen, SimTransport *transport,
                             MailFetchDone done, gpointer user_data);
void imap_client_free (ImapClient *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImapClient, imap_client_free)

void imap_client_feed (ImapClient *self, const guint8 *data, gsize len);
void imap_client_connection_lost (ImapClient *self);
gboolean imap_client_is_finished (ImapClient *self);
/* (transfer none) of MailFetched* */
GPtrArray *imap_client_get_fetched (ImapClient *self);

G_END_DECLS
