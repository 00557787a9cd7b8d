/* test-mail-store.c: the mailbox data model behind POP3 and IMAP. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "nodes/mail-store.h"

#define ALICE "alice@example.org"

static MailStore *
store_with_alice (gsize quota)
{
  MailStore *store = mail_store_new ();
  g_autoptr(GError) error = NULL;
  assert_true (mail_store_add_user (store, ALICE, "secret", quota, &error));
  assert_null (error);
  return store;
}

static GBytes *
message_bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static void
test_new_user_has_the_four_standard_folders (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GPtrArray) folders = mail_store_list_folders (store, ALICE);

  assert_int_equal (folders->len, 4);
  assert_string_equal (g_ptr_array_index (folders, 0), "INBOX");
  assert_string_equal (g_ptr_array_index (folders, 1), "Junk");
  assert_string_equal (g_ptr_array_index (folders, 2), "Sent");
  assert_string_equal (g_ptr_array_index (folders, 3), "Trash");
}

static void
test_adding_a_user_twice_fails_with_exists (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GError) error = NULL;

  assert_false (mail_store_add_user (store, "alice@EXAMPLE.org", "x", 0, &error));
  assert_true (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_EXISTS));
}

static void
test_domain_is_case_insensitive_local_part_is_not (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);

  assert_true (mail_store_has_user (store, "alice@Example.ORG"));
  assert_false (mail_store_has_user (store, "Alice@example.org"));
  assert_true (mail_store_check_password (store, "alice@EXAMPLE.ORG", "secret"));
  assert_false (mail_store_check_password (store, ALICE, "Secret"));
  assert_false (mail_store_check_password (store, "bob@example.org", "secret"));
}

static void
test_delivery_assigns_increasing_uids (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GBytes) message = message_bytes ("Subject: hi\r\n\r\nhello\r\n");
  guint32 first = 0, second = 0;

  assert_true (mail_store_deliver (store, ALICE, "INBOX", message, 10, &first, NULL));
  assert_true (mail_store_deliver (store, ALICE, "inbox", message, 20, &second, NULL));
  assert_int_equal (first, 1);
  assert_int_equal (second, 2);
  assert_int_equal (mail_store_count (store, ALICE, "INBOX"), 2);

  g_autoptr(GPtrArray) list = mail_store_list (store, ALICE, "INBOX");
  const MailStoreMessage *m = g_ptr_array_index (list, 1);
  assert_int_equal (m->uid, 2);
  assert_int_equal (m->internal_date, 20);
  assert_int_equal (m->flags, 0);
  assert_true (m->recent);
}

static void
test_delivery_to_unknown_user_or_folder_fails (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GBytes) message = message_bytes ("x");
  g_autoptr(GError) user_error = NULL;
  g_autoptr(GError) folder_error = NULL;

  assert_false (mail_store_deliver (store, "bob@example.org", "INBOX", message, 0, NULL, &user_error));
  assert_true (g_error_matches (user_error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_USER));
  assert_false (mail_store_deliver (store, ALICE, "Archive", message, 0, NULL, &folder_error));
  assert_true (g_error_matches (folder_error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_FOLDER));
}

static void
test_delivery_over_quota_fails_and_files_nothing (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (10);
  g_autoptr(GBytes) six = message_bytes ("123456");
  g_autoptr(GError) error = NULL;

  assert_true (mail_store_deliver (store, ALICE, "INBOX", six, 0, NULL, NULL));
  assert_false (mail_store_deliver (store, ALICE, "Junk", six, 0, NULL, &error));
  assert_true (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_QUOTA));
  assert_int_equal (mail_store_count (store, ALICE, "Junk"), 0);
  assert_int_equal (mail_store_get_usage (store, ALICE), 6);
}

static void
test_expunge_removes_only_deleted_messages (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GBytes) message = message_bytes ("x");
  g_autoptr(GArray) expunged = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (int i = 0; i < 3; i++)
    mail_store_deliver (store, ALICE, "INBOX", message, 0, NULL, NULL);
  assert_true (mail_store_set_flags (store, ALICE, "INBOX", 2, MAIL_FLAG_DELETED | MAIL_FLAG_SEEN, NULL));
  assert_true (mail_store_expunge (store, ALICE, "INBOX", expunged, NULL));

  assert_int_equal (expunged->len, 1);
  assert_int_equal (g_array_index (expunged, guint32, 0), 2);
  assert_int_equal (mail_store_count (store, ALICE, "INBOX"), 2);
  assert_null (mail_store_get_message (store, ALICE, "INBOX", 2));
  assert_non_null (mail_store_get_message (store, ALICE, "INBOX", 3));
}

static void
test_copy_keeps_flags_and_is_all_or_nothing_under_quota (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (9);
  g_autoptr(GBytes) three = message_bytes ("abc");
  g_autoptr(GArray) new_uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GError) error = NULL;
  const guint32 one[] = { 1 };
  const guint32 both[] = { 1, 2 };

  mail_store_deliver (store, ALICE, "INBOX", three, 0, NULL, NULL);
  mail_store_deliver (store, ALICE, "INBOX", three, 0, NULL, NULL);
  mail_store_set_flags (store, ALICE, "INBOX", 1, MAIL_FLAG_FLAGGED, NULL);

  assert_false (mail_store_copy (store, ALICE, "INBOX", both, 2, "Trash", NULL, &error));
  assert_true (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_QUOTA));
  assert_int_equal (mail_store_count (store, ALICE, "Trash"), 0);

  assert_true (mail_store_copy (store, ALICE, "INBOX", one, 1, "Trash", new_uids, NULL));
  assert_int_equal (g_array_index (new_uids, guint32, 0), 1);
  assert_int_equal (mail_store_get_message (store, ALICE, "Trash", 1)->flags, MAIL_FLAG_FLAGGED);
}

static void
test_recreated_folder_gets_a_new_uidvalidity (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  MailStoreFolderStatus before, after;

  assert_true (mail_store_create_folder (store, ALICE, "Work", NULL));
  assert_true (mail_store_get_status (store, ALICE, "Work", &before, NULL));
  assert_true (mail_store_delete_folder (store, ALICE, "Work", NULL));
  assert_true (mail_store_create_folder (store, ALICE, "Work", NULL));
  assert_true (mail_store_get_status (store, ALICE, "Work", &after, NULL));
  assert_true (after.uid_validity != before.uid_validity);
}

static void
test_inbox_cannot_be_deleted (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GError) error = NULL;

  assert_false (mail_store_delete_folder (store, ALICE, "inbox", &error));
  assert_true (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_INVALID));
}

static void
test_rename_moves_inferior_folders (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);

  mail_store_create_folder (store, ALICE, "Projects", NULL);
  mail_store_create_folder (store, ALICE, "Projects/2026", NULL);
  assert_true (mail_store_rename_folder (store, ALICE, "Projects", "Archive", NULL));
  assert_true (mail_store_has_folder (store, ALICE, "Archive/2026"));
  assert_false (mail_store_has_folder (store, ALICE, "Projects/2026"));
}

static void
test_renaming_inbox_moves_its_messages_and_keeps_it (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GBytes) message = message_bytes ("x");

  mail_store_deliver (store, ALICE, "INBOX", message, 0, NULL, NULL);
  assert_true (mail_store_rename_folder (store, ALICE, "INBOX", "Old", NULL));
  assert_int_equal (mail_store_count (store, ALICE, "INBOX"), 0);
  assert_int_equal (mail_store_count (store, ALICE, "Old"), 1);
}

static void
test_maildrop_lock_is_exclusive (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GError) error = NULL;

  assert_true (mail_store_lock (store, ALICE, NULL));
  assert_false (mail_store_lock (store, ALICE, &error));
  assert_true (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_LOCKED));
  mail_store_unlock (store, ALICE);
  assert_true (mail_store_lock (store, ALICE, NULL));
}

typedef struct
{
  guint added;
  guint removed;
  guint id;
  MailStore *store;
} ObserverLog;

static void
record_change (MailStore *store, const char *address, const char *folder,
               MailStoreChange change, guint32 uid, gpointer user_data)
{
  ObserverLog *log = user_data;
  if (change == MAIL_STORE_CHANGE_ADDED)
    log->added++;
  if (change == MAIL_STORE_CHANGE_REMOVED)
    {
      log->removed++;
      mail_store_remove_observer (store, log->id);
    }
}

static void
test_observers_hear_deliveries_and_may_remove_themselves (void **state)
{
  g_autoptr(MailStore) store = store_with_alice (0);
  g_autoptr(GBytes) message = message_bytes ("x");
  ObserverLog log = { 0 };
  const guint32 uids[] = { 1, 2 };

  log.id = mail_store_add_observer (store, record_change, &log);
  mail_store_deliver (store, ALICE, "INBOX", message, 0, NULL, NULL);
  mail_store_deliver (store, ALICE, "INBOX", message, 0, NULL, NULL);
  assert_true (mail_store_remove (store, ALICE, "INBOX", uids, 2, NULL));
  mail_store_deliver (store, ALICE, "INBOX", message, 0, NULL, NULL);

  assert_int_equal (log.added, 2);
  assert_int_equal (log.removed, 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_new_user_has_the_four_standard_folders),
    cmocka_unit_test (test_adding_a_user_twice_fails_with_exists),
    cmocka_unit_test (test_domain_is_case_insensitive_local_part_is_not),
    cmocka_unit_test (test_delivery_assigns_increasing_uids),
    cmocka_unit_test (test_delivery_to_unknown_user_or_folder_fails),
    cmocka_unit_test (test_delivery_over_quota_fails_and_files_nothing),
    cmocka_unit_test (test_expunge_removes_only_deleted_messages),
    cmocka_unit_test (test_copy_keeps_flags_and_is_all_or_nothing_under_quota),
    cmocka_unit_test (test_recreated_folder_gets_a_new_uidvalidity),
    cmocka_unit_test (test_inbox_cannot_be_deleted),
    cmocka_unit_test (test_rename_moves_inferior_folders),
    cmocka_unit_test (test_renaming_inbox_moves_its_messages_and_keeps_it),
    cmocka_unit_test (test_maildrop_lock_is_exclusive),
    cmocka_unit_test (test_observers_hear_deliveries_and_may_remove_themselves),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
