/* test-imap-client.c: the scripted IMAP client (sim/proto/imap/imap-client.c)
 * against the IMAP server, through two fake transports wired back to back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proto/imap/imap-client.h"
#include "proto/imap/imap-parser.h"
#include "proto/imap/imap-server.h"
#include "trace/sim-explain.h"

extern const SimExplanation sim_explain_imap[];
extern const gsize sim_explain_imap_count;

#define ALICE "alice@example.org"

typedef struct _Wire Wire;

/* One direction of the connection: bytes written wait here until pumped. */
typedef struct
{
  Wire *wire;
  GByteArray *in_flight;
  gboolean closed;
  GString *transcript;
} Side;

struct _Wire
{
  MailStore *store;
  Side client_side;
  Side server_side;
  SimTransport client_transport;
  SimTransport server_transport;
  ImapServer *server;
  ImapClient *client;
  guint done_calls;
  gboolean ok;
  char *error;
  GPtrArray *fetched;      /* copies of what done() saw */
};

static gboolean
is_catalogued (const char *key)
{
  for (gsize i = 0; i < sim_explain_imap_count; i++)
    if (g_strcmp0 (sim_explain_imap[i].key, key) == 0)
      return TRUE;
  return FALSE;
}

static void
side_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  Side *side = impl;
  if (!is_catalogued (explain_key))
    fail_msg ("explain key '%s' is not in sim_explain_imap", explain_key);
  g_byte_array_append (side->in_flight, data, (guint) len);
  g_string_append_len (side->transcript, (const char *) data, (gssize) len);
}

static void
side_close (gpointer impl)
{
  ((Side *) impl)->closed = TRUE;
}

static void
on_done (gpointer user_data, gboolean ok, const char *error_text, GPtrArray *fetched)
{
  Wire *wire = user_data;
  wire->done_calls++;
  wire->ok = ok;
  wire->error = g_strdup (error_text);
  for (guint i = 0; i < fetched->len; i++)
    {
      const MailFetched *original = g_ptr_array_index (fetched, i);
      MailFetched *copy = g_new0 (MailFetched, 1);
      *copy = *original;
      copy->data = g_bytes_ref (original->data);
      g_ptr_array_add (wire->fetched, copy);
    }
}

static void
deliver (MailStore *store, const char *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  assert_true (mail_store_deliver (store, ALICE, "INBOX", bytes, 0, NULL, NULL));
}

static int
setup (void **state)
{
  Wire *wire = g_new0 (Wire, 1);
  wire->store = mail_store_new ();
  assert_true (mail_store_add_user (wire->store, ALICE, "secret", 0, NULL));
  wire->client_side = (Side) { wire, g_byte_array_new (), FALSE, g_string_new (NULL) };
  wire->server_side = (Side) { wire, g_byte_array_new (), FALSE, g_string_new (NULL) };
  wire->client_transport = (SimTransport) { side_write, side_close, &wire->client_side };
  wire->server_transport = (SimTransport) { side_write, side_close, &wire->server_side };
  wire->fetched = g_ptr_array_new_with_free_func ((GDestroyNotify) mail_fetched_free);
  *state = wire;
  return 0;
}

static int
teardown (void **state)
{
  Wire *wire = *state;
  imap_client_free (wire->client);
  imap_server_free (wire->server);
  mail_store_free (wire->store);
  for (Side *side = &wire->client_side; side <= &wire->server_side; side++)
    {
      g_byte_array_unref (side->in_flight);
      g_string_free (side->transcript, TRUE);
    }
  g_ptr_array_unref (wire->fetched);
  g_free (wire->error);
  g_free (wire);
  return 0;
}

static void
move (Side *from, void (*feed) (gpointer, const guint8 *, gsize), gpointer to)
{
  g_autoptr(GByteArray) bytes = from->in_flight;
  from->in_flight = g_byte_array_new ();
  feed (to, bytes->data, bytes->len);
}

/* Carries bytes both ways until neither side has anything left to say. */
static void
pump (Wire *wire)
{
  while (wire->client_side.in_flight->len > 0 || wire->server_side.in_flight->len > 0)
    {
      if (wire->server_side.in_flight->len > 0)
        move (&wire->server_side, (void (*) (gpointer, const guint8 *, gsize)) imap_client_feed, wire->client);
      if (wire->client_side.in_flight->len > 0)
        move (&wire->client_side, (void (*) (gpointer, const guint8 *, gsize)) imap_server_feed, wire->server);
    }
}

static void
run_session (Wire *wire, const char *user, const char *password, const char *folder, gboolean mark_seen)
{
  wire->server = imap_server_new (wire->store, "imap.example.org", &wire->server_transport);
  wire->client = imap_client_new (user, password, folder, mark_seen, &wire->client_transport, on_done, wire);
  imap_server_start (wire->server);
  pump (wire);
}

static void
test_client_fetches_every_message_and_marks_them_seen (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  deliver (wire->store, "Subject: two\r\n\r\nsecond\r\n");
  run_session (wire, ALICE, "secret", "INBOX", TRUE);

  assert_int_equal (wire->done_calls, 1);
  assert_true (wire->ok);
  assert_int_equal (wire->fetched->len, 2);
  const MailFetched *second = g_ptr_array_index (wire->fetched, 1);
  assert_int_equal (second->uid, 2);
  assert_memory_equal (g_bytes_get_data (second->data, NULL), "Subject: two\r\n\r\nsecond\r\n", 24);
  assert_int_equal (mail_store_get_message (wire->store, ALICE, "INBOX", 1)->flags, MAIL_FLAG_SEEN);
  assert_true (wire->client_side.closed);
  assert_true (imap_server_is_finished (wire->server));
  assert_string_equal (wire->client_side.transcript->str,
                       "a1 LOGIN alice@example.org secret\r\na2 SELECT INBOX\r\n"
                       "a3 UID FETCH 1:* (UID FLAGS BODY[])\r\na4 LOGOUT\r\n");
}

static void
test_client_with_peek_leaves_messages_unseen (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  mail_store_set_flags (wire->store, ALICE, "INBOX", 1, MAIL_FLAG_FLAGGED, NULL);
  run_session (wire, ALICE, "secret", "inbox", FALSE);

  assert_true (wire->ok);
  assert_int_equal (wire->fetched->len, 1);
  assert_int_equal (((MailFetched *) g_ptr_array_index (wire->fetched, 0))->flags, MAIL_FLAG_FLAGGED);
  assert_int_equal (mail_store_get_message (wire->store, ALICE, "INBOX", 1)->flags, MAIL_FLAG_FLAGGED);
}

static void
test_client_sends_awkward_strings_quoted_or_as_literals (void **state)
{
  Wire *wire = *state;
  mail_store_add_user (wire->store, "odd@example.org", "a \"quoted\" \\ pass", 0, NULL);
  mail_store_add_user (wire->store, "utf8@example.org", "p\xc3\xa4ss", 0, NULL);
  run_session (wire, "odd@example.org", "a \"quoted\" \\ pass", "INBOX", TRUE);
  assert_true (wire->ok);
  assert_non_null (strstr (wire->client_side.transcript->str,
                           "a1 LOGIN odd@example.org \"a \\\"quoted\\\" \\\\ pass\"\r\n"));

  imap_client_free (g_steal_pointer (&wire->client));
  imap_server_free (g_steal_pointer (&wire->server));
  g_string_truncate (wire->client_side.transcript, 0);
  run_session (wire, "utf8@example.org", "p\xc3\xa4ss", "INBOX", TRUE);
  assert_int_equal (wire->done_calls, 2);
  assert_true (wire->ok);
  assert_non_null (strstr (wire->client_side.transcript->str, "a1 LOGIN utf8@example.org {5}\r\np\xc3\xa4ss\r\n"));
}

static void
test_client_reports_wrong_password (void **state)
{
  Wire *wire = *state;
  run_session (wire, ALICE, "wrong", "INBOX", TRUE);
  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "LOGIN failed: NO [AUTHENTICATIONFAILED] Invalid credentials");
  assert_true (wire->client_side.closed);
}

static void
test_client_reports_missing_folder_after_logging_out (void **state)
{
  Wire *wire = *state;
  run_session (wire, ALICE, "secret", "Archive", TRUE);
  assert_false (wire->ok);
  assert_non_null (strstr (wire->error, "SELECT failed: NO [NONEXISTENT]"));
  assert_non_null (strstr (wire->client_side.transcript->str, "a3 LOGOUT\r\n"));
}

static void
test_client_skips_fetch_on_empty_mailbox (void **state)
{
  Wire *wire = *state;
  run_session (wire, ALICE, "secret", "INBOX", TRUE);
  assert_true (wire->ok);
  assert_int_equal (wire->fetched->len, 0);
  assert_null (strstr (wire->client_side.transcript->str, "FETCH"));
}

static void
test_client_reports_lost_connection_once (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  wire->client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport, on_done, wire);
  const char *greeting = "* OK ready\r\n";
  imap_client_feed (wire->client, (const guint8 *) greeting, strlen (greeting));
  imap_client_connection_lost (wire->client);
  imap_client_connection_lost (wire->client);
  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "the connection was lost before LOGOUT completed");
}

static void
test_client_rejects_what_it_cannot_read (void **state)
{
  Wire *wire = *state;
  static const char *const replies[] = {
    "* BAD go away\r\n",
    "* BYE shutting down\r\n",
    "* OK hi\r\nzz OK who asked\r\n",
    "* OK hi\r\na1 OK in\r\n* 1 FETCH (UID 1 BODY[] {99999999}\r\n",
    "* OK hi\r\na1 OK in\r\n* 1 FETCH (UID (((\r\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      g_autoptr(ImapClient) client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport,
                                                      on_done, wire);
      imap_client_feed (client, (const guint8 *) replies[i], strlen (replies[i]));
      assert_true (imap_client_is_finished (client));
      assert_int_equal (wire->done_calls, i + 1);
      assert_false (wire->ok);
      g_clear_pointer (&wire->error, g_free);
    }
  g_autoptr(GString) long_line = g_string_new ("* OK ");
  while (long_line->len <= IMAP_MAX_LINE + 1)
    g_string_append_c (long_line, 'x');
  g_autoptr(ImapClient) client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport,
                                                  on_done, wire);
  imap_client_feed (client, (const guint8 *) long_line->str, long_line->len);
  assert_true (imap_client_is_finished (client));
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_client_fetches_every_message_and_marks_them_seen),
    T (test_client_with_peek_leaves_messages_unseen),
    T (test_client_sends_awkward_strings_quoted_or_as_literals),
    T (test_client_reports_wrong_password),
    T (test_client_reports_missing_folder_after_logging_out),
    T (test_client_skips_fetch_on_empty_mailbox),
    T (test_client_reports_lost_connection_once),
    T (test_client_rejects_what_it_cannot_read),
  };
#undef T
  return cmocka_run_group_tests (tests, NULL, NULL);
}
