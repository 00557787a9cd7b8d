/* mail-store.h: the mailboxes of a mail store, as data, with no networking.
 *
 * A store holds users (addresses with a password and an optional quota);
 * each user owns folders (INBOX, Sent, Junk and Trash from the start, more
 * through IMAP CREATE); each folder holds messages in UID order.  The POP3
 * and IMAP servers (sim/proto/pop3, sim/proto/imap) are views over this
 * model, and the scenario's expectations read it directly.
 *
 * Folder names follow IMAP (RFC 3501 5.1): "INBOX" is case-insensitive,
 * every other name is case-sensitive, and "/" separates levels.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"

G_BEGIN_DECLS

typedef struct _MailStore MailStore;

#define MAIL_STORE_ERROR (mail_store_error_quark ())
typedef enum
{
  MAIL_STORE_ERROR_NO_SUCH_USER,
  MAIL_STORE_ERROR_NO_SUCH_FOLDER,
  MAIL_STORE_ERROR_QUOTA,
  MAIL_STORE_ERROR_EXISTS,
  MAIL_STORE_ERROR_LOCKED,
  MAIL_STORE_ERROR_NO_SUCH_MESSAGE,
  MAIL_STORE_ERROR_INVALID,      /* a name the store refuses, or deleting INBOX */
} MailStoreError;
GQuark mail_store_error_quark (void);

/* The system flags of RFC 3501 2.3.2 (\Recent is a session flag, kept apart). */
typedef enum
{
  MAIL_FLAG_SEEN = 1 << 0,
  MAIL_FLAG_ANSWERED = 1 << 1,
  MAIL_FLAG_FLAGGED = 1 << 2,
  MAIL_FLAG_DELETED = 1 << 3,
  MAIL_FLAG_DRAFT = 1 << 4,
} MailFlags;

#define MAIL_FLAGS_ALL (MAIL_FLAG_SEEN | MAIL_FLAG_ANSWERED | MAIL_FLAG_FLAGGED \
                        | MAIL_FLAG_DELETED | MAIL_FLAG_DRAFT)

#define MAIL_STORE_INBOX "INBOX"
#define MAIL_STORE_HIERARCHY_DELIMITER '/'

typedef struct
{
  guint32 uid;
  GBytes *data;            /* the whole message as delivered */
  guint flags;             /* MailFlags */
  SimTime internal_date;   /* when the store received it (RFC 3501 2.3.3) */
  gboolean recent;         /* no IMAP session has seen it yet (RFC 3501 2.3.2 \Recent) */
} MailStoreMessage;

typedef struct
{
  guint messages;
  guint recent;
  guint unseen;
  guint32 uid_validity;
  guint32 uid_next;
  guint first_unseen;      /* sequence number of the first unseen message, 0 when none */
  gsize size;              /* octets of every message together */
} MailStoreFolderStatus;

MailStore *mail_store_new (void);
void mail_store_free (MailStore *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MailStore, mail_store_free)

/* ---- users ---- */

/* @quota_bytes is the most the user's folders may hold together; 0 = none. */
gboolean mail_store_add_user (MailStore *self, const char *address, const char *password,
                              gsize quota_bytes, GError **error);
/* The domain compares case-insensitively, the local part exactly. */
gboolean mail_store_has_user (MailStore *self, const char *address);
gboolean mail_store_check_password (MailStore *self, const char *address, const char *password);
/* The user's password, for APOP (RFC 1939 7), or NULL. (transfer none) */
const char *mail_store_get_password (MailStore *self, const char *address);
gsize mail_store_get_usage (MailStore *self, const char *address);
/* Changes the user's quota (0 = none), for timeline faults; FALSE for an
 * unknown user.  Mail already held stays, even over the new quota. */
gboolean mail_store_set_quota (MailStore *self, const char *address, gsize quota_bytes);
/* Removes a user's mailbox, for timeline faults (an account closed).  The
 * user's messages stay allocated until the store is freed, so a POP3 or
 * IMAP session still holding them reads valid memory; every later lookup
 * of the address fails with _NO_SUCH_USER.  FALSE for an unknown user. */
gboolean mail_store_remove_user (MailStore *self, const char *address);

/* The POP3 maildrop lock (RFC 1939 4): one POP3 session at a time. */
gboolean mail_store_lock (MailStore *self, const char *address, GError **error);
void mail_store_unlock (MailStore *self, const char *address);
gboolean mail_store_is_locked (MailStore *self, const char *address);

/* A number unique within this store, for POP3 APOP timestamps. */
guint mail_store_next_session_number (MailStore *self);

/* ---- folders ---- */

gboolean mail_store_has_folder (MailStore *self, const char *address, const char *folder);
/* The folder names of a user, INBOX first, the rest sorted. (transfer full) of char* */
GPtrArray *mail_store_list_folders (MailStore *self, const char *address);
gboolean mail_store_create_folder (MailStore *self, const char *address, const char *folder, GError **error);
/* Deleting INBOX fails (RFC 3501 6.3.4). */
gboolean mail_store_delete_folder (MailStore *self, const char *address, const char *folder, GError **error);
/* Renames inferior folders too; renaming INBOX moves its messages to a new
 * folder and leaves INBOX empty (RFC 3501 6.3.5). */
gboolean mail_store_rename_folder (MailStore *self, const char *address, const char *from,
                                   const char *to, GError **error);
gboolean mail_store_get_status (MailStore *self, const char *address, const char *folder,
                                MailStoreFolderStatus *status, GError **error);

/* Subscriptions (RFC 3501 6.3.6): names, which need not exist. */
void mail_store_subscribe (MailStore *self, const char *address, const char *folder, gboolean subscribed);
/* (transfer full) of char*, sorted */
GPtrArray *mail_store_list_subscriptions (MailStore *self, const char *address);

/* ---- messages ---- */

/* Files a message (INBOX for normal delivery, "Junk" for spam), assigning
 * the next UID; fails with _QUOTA when the user's quota would be exceeded.
 * Notifies observers. */
gboolean mail_store_deliver (MailStore *self, const char *address, const char *folder,
                             GBytes *message, SimTime internal_date, guint32 *uid_out,
                             GError **error);
/* The same with initial flags, for IMAP APPEND (RFC 3501 6.3.11). */
gboolean mail_store_append (MailStore *self, const char *address, const char *folder,
                            GBytes *message, guint flags, SimTime internal_date,
                            guint32 *uid_out, GError **error);

guint mail_store_count (MailStore *self, const char *address, const char *folder);
/* Messages of a folder in UID order. (transfer container) of const MailStoreMessage*,
 * valid until the folder next changes; NULL for an unknown user or folder. */
GPtrArray *mail_store_list (MailStore *self, const char *address, const char *folder);
/* (transfer none), or NULL */
const MailStoreMessage *mail_store_get_message (MailStore *self, const char *address,
                                                const char *folder, guint32 uid);

gboolean mail_store_set_flags (MailStore *self, const char *address, const char *folder,
                               guint32 uid, guint flags, GError **error);
/* Clears the \Recent mark of one message and says whether it was set: the
 * first IMAP session to see a message claims it (RFC 3501 2.3.2). */
gboolean mail_store_take_recent (MailStore *self, const char *address, const char *folder,
                                 guint32 uid);
/* Copies messages, keeping their flags and dates; all or nothing: the quota
 * is checked for the whole set first.  @uids_out, if not NULL, receives
 * the new UIDs (RFC 3501 6.4.7). */
gboolean mail_store_copy (MailStore *self, const char *address, const char *from,
                          const guint32 *uids, guint n_uids, const char *to,
                          GArray *uids_out, GError **error);
/* Removes every message flagged \Deleted (RFC 3501 6.4.3); @expunged, if not
 * NULL, receives their UIDs in ascending order. */
gboolean mail_store_expunge (MailStore *self, const char *address, const char *folder,
                             GArray *expunged, GError **error);
/* Removes the given messages whatever their flags (POP3 UPDATE, RFC 1939 6). */
gboolean mail_store_remove (MailStore *self, const char *address, const char *folder,
                            const guint32 *uids, guint n_uids, GError **error);

/* ---- observers ---- */

typedef enum
{
  MAIL_STORE_CHANGE_ADDED,
  MAIL_STORE_CHANGE_REMOVED,
  MAIL_STORE_CHANGE_FLAGS,
} MailStoreChange;

/* Called after the change; may not add or remove observers of the store
 * other than itself. */
typedef void (*MailStoreObserverFunc) (MailStore *store, const char *address, const char *folder,
                                       MailStoreChange change, guint32 uid, gpointer user_data);

/* Returns an id > 0 for mail_store_remove_observer(). */
guint mail_store_add_observer (MailStore *self, MailStoreObserverFunc func, gpointer user_data);
void mail_store_remove_observer (MailStore *self, guint id);

/* ---- what a client fetched ---- */

/* One message as a POP3 or IMAP client fetched it (sim/proto/{pop3,imap}). */
typedef struct
{
  guint32 uid;       /* the IMAP UID, or the POP3 message number */
  GBytes *data;
  guint flags;       /* MailFlags as the server reported them; 0 for POP3 */
} MailFetched;

void mail_fetched_free (MailFetched *fetched);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MailFetched, mail_fetched_free)

/* Called once when a client session ends.  @fetched holds what was fetched
 * before the end, even on failure. */
typedef void (*MailFetchDone) (gpointer user_data, gboolean ok, const char *error_text,
                               GPtrArray *fetched /* of MailFetched*, transfer none */);

G_END_DECLS
