/* mail-store.c: users, folders and messages of a mail store. */
#include "nodes/mail-store.h"

#include <string.h>

G_DEFINE_QUARK (mail-store-error-quark, mail_store_error)

typedef struct
{
  char *name;
  guint32 uid_validity;
  guint32 uid_next;
  GPtrArray *messages;     /* of MailStoreMessage*, ascending UID */
} MailFolder;

typedef struct
{
  char *address;           /* normalised: domain in lower case */
  char *password;
  gsize quota;             /* 0 = none */
  gsize usage;
  gboolean locked;
  GPtrArray *folders;      /* of MailFolder* */
  GHashTable *subscriptions;
} MailUser;

typedef struct
{
  guint id;
  MailStoreObserverFunc func;
  gpointer user_data;
} MailObserver;

struct _MailStore
{
  GHashTable *users;       /* normalised address -> MailUser* */
  /* RFC 3501 2.3.1.1: a folder created again under an old name must get a
   * new UIDVALIDITY, so one counter serves every folder of the store. */
  guint32 next_uid_validity;
  guint next_session_number;
  GArray *observers;       /* of MailObserver */
  guint next_observer_id;
  GPtrArray *removed_users; /* of MailUser*, kept until the store is freed */
};

static const char *const default_folders[] = { MAIL_STORE_INBOX, "Sent", "Junk", "Trash" };

/* ---- messages and folders ---- */

static void
mail_store_message_free (MailStoreMessage *message)
{
  g_bytes_unref (message->data);
  g_free (message);
}

static void
mail_folder_free (MailFolder *folder)
{
  g_free (folder->name);
  g_ptr_array_unref (folder->messages);
  g_free (folder);
}

static void
mail_user_free (MailUser *user)
{
  g_free (user->address);
  g_free (user->password);
  g_ptr_array_unref (user->folders);
  g_hash_table_unref (user->subscriptions);
  g_free (user);
}

/* "bob@Example.ORG" -> "bob@example.org": RFC 5321 2.4 leaves the local
 * part to the receiving host; domains are case-insensitive. */
static char *
normalise_address (const char *address)
{
  const char *at = strrchr (address, '@');
  if (at == NULL)
    return g_strdup (address);
  g_autofree char *domain = g_ascii_strdown (at + 1, -1);
  return g_strdup_printf ("%.*s@%s", (int) (at - address), address, domain);
}

static gboolean
is_inbox (const char *name)
{
  return g_ascii_strcasecmp (name, MAIL_STORE_INBOX) == 0;
}

static gboolean
folder_name_equal (const char *a, const char *b)
{
  if (is_inbox (a) || is_inbox (b))
    return is_inbox (a) && is_inbox (b);
  return strcmp (a, b) == 0;
}

static MailFolder *
mail_folder_new (MailStore *self, const char *name)
{
  MailFolder *folder = g_new0 (MailFolder, 1);
  folder->name = g_strdup (is_inbox (name) ? MAIL_STORE_INBOX : name);
  folder->uid_validity = self->next_uid_validity++;
  folder->uid_next = 1;
  folder->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) mail_store_message_free);
  return folder;
}

static MailUser *
find_user (MailStore *self, const char *address, GError **error)
{
  g_autofree char *key = normalise_address (address);
  MailUser *user = g_hash_table_lookup (self->users, key);
  if (user == NULL)
    g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_USER,
                 "no mailbox for '%s' in this store", address);
  return user;
}

static MailFolder *
find_folder (MailUser *user, const char *name, guint *index_out)
{
  for (guint i = 0; i < user->folders->len; i++)
    {
      MailFolder *folder = g_ptr_array_index (user->folders, i);
      if (folder_name_equal (folder->name, name))
        {
          if (index_out != NULL)
            *index_out = i;
          return folder;
        }
    }
  return NULL;
}

static MailFolder *
find_user_folder (MailStore *self, const char *address, const char *name,
                  MailUser **user_out, GError **error)
{
  MailUser *user = find_user (self, address, error);
  if (user == NULL)
    return NULL;
  MailFolder *folder = find_folder (user, name, NULL);
  if (folder == NULL)
    g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_FOLDER,
                 "'%s' has no folder named '%s'", user->address, name);
  if (user_out != NULL)
    *user_out = user;
  return folder;
}

/* Binary search: messages are kept in ascending UID order. */
static gboolean
find_message_index (MailFolder *folder, guint32 uid, guint *index_out)
{
  guint low = 0;
  guint high = folder->messages->len;
  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      const MailStoreMessage *message = g_ptr_array_index (folder->messages, middle);
      if (message->uid == uid)
        {
          *index_out = middle;
          return TRUE;
        }
      if (message->uid < uid)
        low = middle + 1;
      else
        high = middle;
    }
  return FALSE;
}

static void
notify (MailStore *self, MailUser *user, MailFolder *folder, MailStoreChange change, guint32 uid)
{
  /* Observers may remove themselves while being called: walk by index over
   * the array as it is now and skip entries that were cleared. */
  for (guint i = 0; i < self->observers->len; i++)
    {
      MailObserver observer = g_array_index (self->observers, MailObserver, i);
      if (observer.func != NULL)
        observer.func (self, user->address, folder->name, change, uid, observer.user_data);
    }
}

static gboolean
check_quota (MailUser *user, gsize extra, GError **error)
{
  if (user->quota != 0 && (extra > user->quota || user->usage > user->quota - extra))
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_QUOTA,
                   "'%s' is over quota: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                   " octets used, %" G_GSIZE_FORMAT " more do not fit",
                   user->address, user->usage, user->quota, extra);
      return FALSE;
    }
  return TRUE;
}

/* Folder names become IMAP mailbox names: printable ASCII, no empty levels. */
static gboolean
check_folder_name (const char *name, GError **error)
{
  gsize len = strlen (name);
  gboolean ok = len > 0 && name[0] != MAIL_STORE_HIERARCHY_DELIMITER
                && name[len - 1] != MAIL_STORE_HIERARCHY_DELIMITER
                && strstr (name, "//") == NULL;
  for (const char *p = name; ok && *p != '\0'; p++)
    if ((guchar) *p < 0x20 || (guchar) *p > 0x7e || *p == '*' || *p == '%')
      ok = FALSE;
  if (!ok)
    g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_INVALID,
                 "'%s' is not a usable folder name: use printable ASCII without * or %%, "
                 "and '/' only between levels", name);
  return ok;
}

/* ---- the store ---- */

MailStore *
mail_store_new (void)
{
  MailStore *self = g_new0 (MailStore, 1);
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) mail_user_free);
  self->next_uid_validity = 1;
  self->next_session_number = 1;
  self->observers = g_array_new (FALSE, FALSE, sizeof (MailObserver));
  self->next_observer_id = 1;
  self->removed_users = g_ptr_array_new_with_free_func ((GDestroyNotify) mail_user_free);
  return self;
}

void
mail_store_free (MailStore *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->users);
  g_ptr_array_unref (self->removed_users);
  g_array_unref (self->observers);
  g_free (self);
}

gboolean
mail_store_add_user (MailStore *self, const char *address, const char *password,
                     gsize quota_bytes, GError **error)
{
  g_autofree char *key = normalise_address (address);
  if (g_hash_table_contains (self->users, key))
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_EXISTS,
                   "the store already has a mailbox for '%s'", address);
      return FALSE;
    }
  MailUser *user = g_new0 (MailUser, 1);
  user->address = g_steal_pointer (&key);
  user->password = g_strdup (password != NULL ? password : "");
  user->quota = quota_bytes;
  user->folders = g_ptr_array_new_with_free_func ((GDestroyNotify) mail_folder_free);
  user->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (default_folders); i++)
    {
      g_ptr_array_add (user->folders, mail_folder_new (self, default_folders[i]));
      g_hash_table_add (user->subscriptions, g_strdup (default_folders[i]));
    }
  g_hash_table_insert (self->users, user->address, user);
  return TRUE;
}

gboolean
mail_store_has_user (MailStore *self, const char *address)
{
  return find_user (self, address, NULL) != NULL;
}

gboolean
mail_store_check_password (MailStore *self, const char *address, const char *password)
{
  MailUser *user = find_user (self, address, NULL);
  return user != NULL && password != NULL && strcmp (user->password, password) == 0;
}

const char *
mail_store_get_password (MailStore *self, const char *address)
{
  MailUser *user = find_user (self, address, NULL);
  return user != NULL ? user->password : NULL;
}

gsize
mail_store_get_usage (MailStore *self, const char *address)
{
  MailUser *user = find_user (self, address, NULL);
  return user != NULL ? user->usage : 0;
}

gboolean
mail_store_set_quota (MailStore *self, const char *address, gsize quota_bytes)
{
  MailUser *user = find_user (self, address, NULL);
  if (user == NULL)
    return FALSE;
  user->quota = quota_bytes;
  return TRUE;
}

gboolean
mail_store_remove_user (MailStore *self, const char *address)
{
  MailUser *user = find_user (self, address, NULL);
  if (user == NULL)
    return FALSE;
  g_hash_table_steal (self->users, user->address);
  g_ptr_array_add (self->removed_users, user);
  return TRUE;
}

gboolean
mail_store_lock (MailStore *self, const char *address, GError **error)
{
  MailUser *user = find_user (self, address, error);
  if (user == NULL)
    return FALSE;
  if (user->locked)
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_LOCKED,
                   "the maildrop of '%s' is locked by another POP3 session", user->address);
      return FALSE;
    }
  user->locked = TRUE;
  return TRUE;
}

void
mail_store_unlock (MailStore *self, const char *address)
{
  MailUser *user = find_user (self, address, NULL);
  if (user != NULL)
    user->locked = FALSE;
}

gboolean
mail_store_is_locked (MailStore *self, const char *address)
{
  MailUser *user = find_user (self, address, NULL);
  return user != NULL && user->locked;
}

guint
mail_store_next_session_number (MailStore *self)
{
  return self->next_session_number++;
}

/* ---- folders ---- */

gboolean
mail_store_has_folder (MailStore *self, const char *address, const char *folder)
{
  return find_user_folder (self, address, folder, NULL, NULL) != NULL;
}

static gint
compare_folder_names (gconstpointer a, gconstpointer b)
{
  const char *name_a = *(const char *const *) a;
  const char *name_b = *(const char *const *) b;
  if (is_inbox (name_a) != is_inbox (name_b))
    return is_inbox (name_a) ? -1 : 1;
  return strcmp (name_a, name_b);
}

GPtrArray *
mail_store_list_folders (MailStore *self, const char *address)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  MailUser *user = find_user (self, address, NULL);
  if (user == NULL)
    return names;
  for (guint i = 0; i < user->folders->len; i++)
    g_ptr_array_add (names, g_strdup (((MailFolder *) g_ptr_array_index (user->folders, i))->name));
  g_ptr_array_sort (names, compare_folder_names);
  return names;
}

gboolean
mail_store_create_folder (MailStore *self, const char *address, const char *folder, GError **error)
{
  MailUser *user = find_user (self, address, error);
  if (user == NULL || !check_folder_name (folder, error))
    return FALSE;
  if (find_folder (user, folder, NULL) != NULL)
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_EXISTS,
                   "'%s' already has a folder named '%s'", user->address, folder);
      return FALSE;
    }
  g_ptr_array_add (user->folders, mail_folder_new (self, folder));
  return TRUE;
}

static gsize
folder_size (MailFolder *folder)
{
  gsize size = 0;
  for (guint i = 0; i < folder->messages->len; i++)
    size += g_bytes_get_size (((MailStoreMessage *) g_ptr_array_index (folder->messages, i))->data);
  return size;
}

gboolean
mail_store_delete_folder (MailStore *self, const char *address, const char *folder, GError **error)
{
  MailUser *user = find_user (self, address, error);
  if (user == NULL)
    return FALSE;
  if (is_inbox (folder))
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_INVALID,
                   "INBOX cannot be deleted (RFC 3501 6.3.4)");
      return FALSE;
    }
  guint index;
  MailFolder *found = find_folder (user, folder, &index);
  if (found == NULL)
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_FOLDER,
                   "'%s' has no folder named '%s'", user->address, folder);
      return FALSE;
    }
  user->usage -= folder_size (found);
  g_ptr_array_remove_index (user->folders, index);
  return TRUE;
}

/* "a/b" renamed to "x" also renames "a/b/c" to "x/c" (RFC 3501 6.3.5). */
static gboolean
is_inferior (const char *name, const char *parent)
{
  gsize len = strlen (parent);
  return strncmp (name, parent, len) == 0 && name[len] == MAIL_STORE_HIERARCHY_DELIMITER;
}

gboolean
mail_store_rename_folder (MailStore *self, const char *address, const char *from,
                          const char *to, GError **error)
{
  MailUser *user = find_user (self, address, error);
  if (user == NULL || !check_folder_name (to, error))
    return FALSE;
  MailFolder *source = find_folder (user, from, NULL);
  if (source == NULL)
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_FOLDER,
                   "'%s' has no folder named '%s'", user->address, from);
      return FALSE;
    }
  if (find_folder (user, to, NULL) != NULL)
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_EXISTS,
                   "'%s' already has a folder named '%s'", user->address, to);
      return FALSE;
    }
  if (is_inbox (from))
    {
      /* RFC 3501 6.3.5: renaming INBOX moves its messages to the new name
       * and leaves an empty INBOX behind; inferiors stay where they are. */
      MailFolder *target = mail_folder_new (self, to);
      GPtrArray *swap = target->messages;
      target->messages = source->messages;
      source->messages = swap;
      target->uid_next = source->uid_next;
      g_ptr_array_add (user->folders, target);
      return TRUE;
    }
  if (is_inferior (to, source->name))
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_INVALID,
                   "'%s' cannot be moved inside itself", from);
      return FALSE;
    }
  g_autofree char *old_name = g_strdup (source->name);
  for (guint i = 0; i < user->folders->len; i++)
    {
      MailFolder *folder = g_ptr_array_index (user->folders, i);
      if (folder == source)
        {
          g_free (folder->name);
          folder->name = g_strdup (to);
        }
      else if (is_inferior (folder->name, old_name))
        {
          char *renamed = g_strconcat (to, folder->name + strlen (old_name), NULL);
          g_free (folder->name);
          folder->name = renamed;
        }
    }
  return TRUE;
}

gboolean
mail_store_get_status (MailStore *self, const char *address, const char *folder_name,
                       MailStoreFolderStatus *status, GError **error)
{
  MailFolder *folder = find_user_folder (self, address, folder_name, NULL, error);
  if (folder == NULL)
    return FALSE;
  memset (status, 0, sizeof *status);
  status->messages = folder->messages->len;
  status->uid_validity = folder->uid_validity;
  status->uid_next = folder->uid_next;
  for (guint i = 0; i < folder->messages->len; i++)
    {
      const MailStoreMessage *message = g_ptr_array_index (folder->messages, i);
      if (message->recent)
        status->recent++;
      if (!(message->flags & MAIL_FLAG_SEEN))
        {
          status->unseen++;
          if (status->first_unseen == 0)
            status->first_unseen = i + 1;
        }
      status->size += g_bytes_get_size (message->data);
    }
  return TRUE;
}

void
mail_store_subscribe (MailStore *self, const char *address, const char *folder, gboolean subscribed)
{
  MailUser *user = find_user (self, address, NULL);
  if (user == NULL)
    return;
  const char *name = is_inbox (folder) ? MAIL_STORE_INBOX : folder;
  if (subscribed)
    g_hash_table_add (user->subscriptions, g_strdup (name));
  else
    g_hash_table_remove (user->subscriptions, name);
}

GPtrArray *
mail_store_list_subscriptions (MailStore *self, const char *address)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  MailUser *user = find_user (self, address, NULL);
  if (user == NULL)
    return names;
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, user->subscriptions);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_ptr_array_sort (names, compare_folder_names);
  return names;
}

/* ---- messages ---- */

static MailStoreMessage *
folder_add (MailUser *user, MailFolder *folder, GBytes *data, guint flags, SimTime internal_date)
{
  MailStoreMessage *message = g_new0 (MailStoreMessage, 1);
  message->uid = folder->uid_next++;
  message->data = g_bytes_ref (data);
  message->flags = flags & MAIL_FLAGS_ALL;
  message->internal_date = internal_date;
  message->recent = TRUE;
  g_ptr_array_add (folder->messages, message);
  user->usage += g_bytes_get_size (data);
  return message;
}

gboolean
mail_store_append (MailStore *self, const char *address, const char *folder_name,
                   GBytes *message, guint flags, SimTime internal_date,
                   guint32 *uid_out, GError **error)
{
  MailUser *user = NULL;
  MailFolder *folder = find_user_folder (self, address, folder_name, &user, error);
  if (folder == NULL || !check_quota (user, g_bytes_get_size (message), error))
    return FALSE;
  MailStoreMessage *added = folder_add (user, folder, message, flags, internal_date);
  if (uid_out != NULL)
    *uid_out = added->uid;
  notify (self, user, folder, MAIL_STORE_CHANGE_ADDED, added->uid);
  return TRUE;
}

gboolean
mail_store_deliver (MailStore *self, const char *address, const char *folder,
                    GBytes *message, SimTime internal_date, guint32 *uid_out, GError **error)
{
  return mail_store_append (self, address, folder, message, 0, internal_date, uid_out, error);
}

guint
mail_store_count (MailStore *self, const char *address, const char *folder_name)
{
  MailFolder *folder = find_user_folder (self, address, folder_name, NULL, NULL);
  return folder != NULL ? folder->messages->len : 0;
}

GPtrArray *
mail_store_list (MailStore *self, const char *address, const char *folder_name)
{
  MailFolder *folder = find_user_folder (self, address, folder_name, NULL, NULL);
  if (folder == NULL)
    return NULL;
  GPtrArray *list = g_ptr_array_sized_new (folder->messages->len);
  for (guint i = 0; i < folder->messages->len; i++)
    g_ptr_array_add (list, g_ptr_array_index (folder->messages, i));
  return list;
}

const MailStoreMessage *
mail_store_get_message (MailStore *self, const char *address, const char *folder_name, guint32 uid)
{
  MailFolder *folder = find_user_folder (self, address, folder_name, NULL, NULL);
  guint index;
  if (folder == NULL || !find_message_index (folder, uid, &index))
    return NULL;
  return g_ptr_array_index (folder->messages, index);
}

static MailStoreMessage *
find_message (MailStore *self, const char *address, const char *folder_name, guint32 uid,
              MailUser **user_out, MailFolder **folder_out, GError **error)
{
  MailFolder *folder = find_user_folder (self, address, folder_name, user_out, error);
  guint index;
  if (folder == NULL)
    return NULL;
  if (!find_message_index (folder, uid, &index))
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_MESSAGE,
                   "folder '%s' has no message with UID %u", folder->name, uid);
      return NULL;
    }
  if (folder_out != NULL)
    *folder_out = folder;
  return g_ptr_array_index (folder->messages, index);
}

gboolean
mail_store_set_flags (MailStore *self, const char *address, const char *folder_name,
                      guint32 uid, guint flags, GError **error)
{
  MailUser *user = NULL;
  MailFolder *folder = NULL;
  MailStoreMessage *message = find_message (self, address, folder_name, uid, &user, &folder, error);
  if (message == NULL)
    return FALSE;
  flags &= MAIL_FLAGS_ALL;
  if (message->flags != flags)
    {
      message->flags = flags;
      notify (self, user, folder, MAIL_STORE_CHANGE_FLAGS, uid);
    }
  return TRUE;
}

gboolean
mail_store_take_recent (MailStore *self, const char *address, const char *folder_name, guint32 uid)
{
  MailStoreMessage *message = find_message (self, address, folder_name, uid, NULL, NULL, NULL);
  if (message == NULL || !message->recent)
    return FALSE;
  message->recent = FALSE;
  return TRUE;
}

gboolean
mail_store_copy (MailStore *self, const char *address, const char *from,
                 const guint32 *uids, guint n_uids, const char *to,
                 GArray *uids_out, GError **error)
{
  MailUser *user = NULL;
  MailFolder *source = find_user_folder (self, address, from, &user, error);
  if (source == NULL)
    return FALSE;
  MailFolder *target = find_folder (user, to, NULL);
  if (target == NULL)
    {
      g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_FOLDER,
                   "'%s' has no folder named '%s'", user->address, to);
      return FALSE;
    }
  g_autoptr(GPtrArray) originals = g_ptr_array_new ();
  gsize total = 0;
  for (guint i = 0; i < n_uids; i++)
    {
      guint index;
      if (!find_message_index (source, uids[i], &index))
        {
          g_set_error (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_MESSAGE,
                       "folder '%s' has no message with UID %u", source->name, uids[i]);
          return FALSE;
        }
      MailStoreMessage *message = g_ptr_array_index (source->messages, index);
      g_ptr_array_add (originals, message);
      total += g_bytes_get_size (message->data);
    }
  /* RFC 3501 6.4.7: a COPY that cannot copy everything copies nothing. */
  if (!check_quota (user, total, error))
    return FALSE;
  g_autoptr(GArray) added = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < originals->len; i++)
    {
      MailStoreMessage *original = g_ptr_array_index (originals, i);
      MailStoreMessage *copy = folder_add (user, target, original->data, original->flags,
                                           original->internal_date);
      g_array_append_val (added, copy->uid);
      if (uids_out != NULL)
        g_array_append_val (uids_out, copy->uid);
    }
  for (guint i = 0; i < added->len; i++)
    notify (self, user, target, MAIL_STORE_CHANGE_ADDED, g_array_index (added, guint32, i));
  return TRUE;
}

static gboolean
remove_matching (MailStore *self, const char *address, const char *folder_name,
                 gboolean (*match) (const MailStoreMessage *, gconstpointer), gconstpointer match_data,
                 GArray *removed_out, GError **error)
{
  MailUser *user = NULL;
  MailFolder *folder = find_user_folder (self, address, folder_name, &user, error);
  if (folder == NULL)
    return FALSE;
  g_autoptr(GArray) removed = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < folder->messages->len;)
    {
      MailStoreMessage *message = g_ptr_array_index (folder->messages, i);
      if (match (message, match_data))
        {
          g_array_append_val (removed, message->uid);
          user->usage -= g_bytes_get_size (message->data);
          g_ptr_array_remove_index (folder->messages, i);
        }
      else
        i++;
    }
  for (guint i = 0; i < removed->len; i++)
    {
      guint32 uid = g_array_index (removed, guint32, i);
      if (removed_out != NULL)
        g_array_append_val (removed_out, uid);
      notify (self, user, folder, MAIL_STORE_CHANGE_REMOVED, uid);
    }
  return TRUE;
}

static gboolean
is_flagged_deleted (const MailStoreMessage *message, gconstpointer unused)
{
  return (message->flags & MAIL_FLAG_DELETED) != 0;
}

gboolean
mail_store_expunge (MailStore *self, const char *address, const char *folder,
                    GArray *expunged, GError **error)
{
  return remove_matching (self, address, folder, is_flagged_deleted, NULL, expunged, error);
}

typedef struct
{
  const guint32 *uids;
  guint n_uids;
} UidSet;

static gboolean
is_in_uid_set (const MailStoreMessage *message, gconstpointer data)
{
  const UidSet *set = data;
  for (guint i = 0; i < set->n_uids; i++)
    if (set->uids[i] == message->uid)
      return TRUE;
  return FALSE;
}

gboolean
mail_store_remove (MailStore *self, const char *address, const char *folder,
                   const guint32 *uids, guint n_uids, GError **error)
{
  UidSet set = { uids, n_uids };
  return remove_matching (self, address, folder, is_in_uid_set, &set, NULL, error);
}

/* ---- observers ---- */

guint
mail_store_add_observer (MailStore *self, MailStoreObserverFunc func, gpointer user_data)
{
  MailObserver observer = { self->next_observer_id++, func, user_data };
  /* Reuse a cleared slot so removals during notify() never shift entries. */
  for (guint i = 0; i < self->observers->len; i++)
    if (g_array_index (self->observers, MailObserver, i).func == NULL)
      {
        g_array_index (self->observers, MailObserver, i) = observer;
        return observer.id;
      }
  g_array_append_val (self->observers, observer);
  return observer.id;
}

void
mail_store_remove_observer (MailStore *self, guint id)
{
  for (guint i = 0; i < self->observers->len; i++)
    {
      MailObserver *observer = &g_array_index (self->observers, MailObserver, i);
      if (observer->id == id)
        {
          observer->func = NULL;
          observer->id = 0;
        }
    }
}

/* ---- fetched messages ---- */

void
mail_fetched_free (MailFetched *fetched)
{
  if (fetched == NULL)
    return;
  g_clear_pointer (&fetched->data, g_bytes_unref);
  g_free (fetched);
}
