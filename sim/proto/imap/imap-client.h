/* imap-client.h: the scripted IMAP4rev1 session a simulated mail client
 * runs (RFC 3501): wait for the greeting, LOGIN, SELECT the folder, UID
 * FETCH 1:* (UID FLAGS BODY.PEEK[]) (or BODY[] to mark the messages
 * \Seen), LOGOUT.
 *
 * In IDLE mode (RFC 2177) the session does not log out after the first
 * fetch: it sends IDLE and waits.  When the server pushes "* N EXISTS" it
 * sends DONE, fetches the messages whose UIDs are above the highest it has
 * seen (UID FETCH n:*), reports them as one batch and IDLEs again.
 */
#pragma once

#include <glib.h>

#include "net/sim-transport.h"
#include "nodes/mail-store.h"

G_BEGIN_DECLS

typedef struct _ImapClient ImapClient;

/* IDLE mode: called once per completed UID FETCH, with the messages it
 * brought in UID order.  The first call (@pushed FALSE) comes after SELECT
 * with what the mailbox held then, possibly nothing: from then on the
 * session idles.  Each later call (@pushed TRUE) is mail the server
 * announced while the client idled.  @fetched belongs to the client and is
 * emptied after the call (ref what you keep); the callback must not free
 * the client. */
typedef void (*ImapClientBatchFunc) (gpointer user_data, gboolean pushed,
                                     GPtrArray *fetched /* of MailFetched*, transfer none */);

/* @done is called exactly once, when the session ends for any reason,
 * after the transport was closed; it must not free the client.  In IDLE
 * mode the session ends only by failure (a BYE such as the server's
 * autologout, a lost connection, a refused command), so @ok is FALSE and
 * @fetched holds only the messages of a batch that did not complete. */
ImapClient *imap_client_new (const char *user, const char *password, const char *folder,
                             gboolean mark_seen, SimTransport *transport,
                             MailFetchDone done, gpointer user_data);
void imap_client_free (ImapClient *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImapClient, imap_client_free)

/* Switches the session to IDLE mode; call before feeding any bytes.
 * @batch receives @user_data of imap_client_new(). */
void imap_client_set_idle (ImapClient *self, ImapClientBatchFunc batch);
/* RFC 2177 3: a client re-issues IDLE at least every 29 minutes
 * (IMAP_IDLE_REFRESH) so the server's autologout timer never fires.  The
 * owner's timer calls this: while idling it sends DONE and, after the
 * tagged OK, IDLE again.  Otherwise (not idling yet, fetching, finished)
 * it does nothing, as the session is about to send IDLE anyway. */
void imap_client_idle_refresh (ImapClient *self);
/* TRUE while IDLE is in progress and the server accepted it ("+ idling"). */
gboolean imap_client_is_idling (ImapClient *self);

void imap_client_feed (ImapClient *self, const guint8 *data, gsize len);
void imap_client_connection_lost (ImapClient *self);
gboolean imap_client_is_finished (ImapClient *self);
/* (transfer none) of MailFetched*: in one-shot mode everything fetched; in
 * IDLE mode the batch in progress. */
GPtrArray *imap_client_get_fetched (ImapClient *self);

G_END_DECLS
