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
  GPtrArray *fetched;      /* copies of what done() and batch() saw */
  guint batches;           /* batch() calls */
  guint pushed_batches;    /* of which with pushed TRUE */
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
keep_copies (Wire *wire, GPtrArray *fetched)
{
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
on_done (gpointer user_data, gboolean ok, const char *error_text, GPtrArray *fetched)
{
  Wire *wire = user_data;
  wire->done_calls++;
  wire->ok = ok;
  g_free (wire->error);
  wire->error = g_strdup (error_text);
  keep_copies (wire, fetched);
}

static void
on_batch (gpointer user_data, gboolean pushed, GPtrArray *fetched)
{
  Wire *wire = user_data;
  assert_true (pushed == (wire->batches > 0));
  wire->batches++;
  wire->pushed_batches += pushed ? 1 : 0;
  keep_copies (wire, fetched);
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

/* The same session in IDLE mode: it stops once the client idles. */
static void
run_idle_session (Wire *wire)
{
  wire->server = imap_server_new (wire->store, "imap.example.org", &wire->server_transport);
  wire->client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport, on_done, wire);
  imap_client_set_idle (wire->client, on_batch);
  imap_server_start (wire->server);
  pump (wire);
}

static void
feed_text (ImapClient *client, const char *text)
{
  imap_client_feed (client, (const guint8 *) text, strlen (text));
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

/* ---- IDLE mode (RFC 2177) ---- */

static void
test_idle_client_idles_after_the_first_fetch (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  run_idle_session (wire);

  assert_int_equal (wire->batches, 1);
  assert_int_equal (wire->pushed_batches, 0);
  assert_int_equal (wire->fetched->len, 1);
  assert_int_equal (wire->done_calls, 0);
  assert_true (imap_client_is_idling (wire->client));
  assert_false (wire->client_side.closed);
  assert_string_equal (wire->client_side.transcript->str,
                       "a1 LOGIN alice@example.org secret\r\na2 SELECT INBOX\r\n"
                       "a3 UID FETCH 1:* (UID FLAGS BODY[])\r\na4 IDLE\r\n");
  assert_true (g_str_has_suffix (wire->server_side.transcript->str, "+ idling\r\n"));
}

static void
test_idle_client_on_empty_mailbox_reports_an_empty_first_batch (void **state)
{
  Wire *wire = *state;
  run_idle_session (wire);

  assert_int_equal (wire->batches, 1);
  assert_int_equal (wire->fetched->len, 0);
  assert_true (imap_client_is_idling (wire->client));
  assert_string_equal (wire->client_side.transcript->str,
                       "a1 LOGIN alice@example.org secret\r\na2 SELECT INBOX\r\na3 IDLE\r\n");
}

static void
test_idle_client_receives_delivered_mail_without_polling (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  run_idle_session (wire);
  g_string_truncate (wire->client_side.transcript, 0);

  /* The delivery alone makes the server push "* 2 EXISTS". */
  deliver (wire->store, "Subject: two\r\n\r\nsecond\r\n");
  assert_non_null (strstr ((const char *) wire->server_side.in_flight->data, "* 2 EXISTS\r\n"));
  pump (wire);

  assert_int_equal (wire->batches, 2);
  assert_int_equal (wire->pushed_batches, 1);
  assert_int_equal (wire->fetched->len, 2);
  const MailFetched *pushed = g_ptr_array_index (wire->fetched, 1);
  assert_int_equal (pushed->uid, 2);
  assert_memory_equal (g_bytes_get_data (pushed->data, NULL), "Subject: two\r\n\r\nsecond\r\n", 24);
  assert_true (imap_client_is_idling (wire->client));
  assert_string_equal (wire->client_side.transcript->str,
                       "DONE\r\na5 UID FETCH 2:* (UID FLAGS BODY[])\r\na6 IDLE\r\n");
  assert_int_equal (wire->done_calls, 0);
}

static void
test_idle_client_fetches_again_when_mail_arrives_during_a_fetch (void **state)
{
  Wire *wire = *state;
  void (*to_client) (gpointer, const guint8 *, gsize) = (void (*) (gpointer, const guint8 *, gsize)) imap_client_feed;
  void (*to_server) (gpointer, const guint8 *, gsize) = (void (*) (gpointer, const guint8 *, gsize)) imap_server_feed;
  run_idle_session (wire);
  g_string_truncate (wire->client_side.transcript, 0);

  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  move (&wire->server_side, to_client, wire->client);    /* * 1 EXISTS */
  move (&wire->client_side, to_server, wire->server);    /* DONE */
  move (&wire->server_side, to_client, wire->client);    /* a3 OK IDLE terminated */
  assert_true (g_str_has_suffix (wire->client_side.transcript->str, "a4 UID FETCH 1:* (UID FLAGS BODY[])\r\n"));
  /* Not idling now: this delivery waits for the end of the next command. */
  deliver (wire->store, "Subject: two\r\n\r\nsecond\r\n");
  assert_int_equal (wire->server_side.in_flight->len, 0);
  pump (wire);

  assert_int_equal (wire->pushed_batches, 2);
  assert_int_equal (wire->fetched->len, 2);
  assert_string_equal (wire->client_side.transcript->str,
                       "DONE\r\na4 UID FETCH 1:* (UID FLAGS BODY[])\r\n"
                       "a5 UID FETCH 2:* (UID FLAGS BODY[])\r\na6 IDLE\r\n");
  assert_true (imap_client_is_idling (wire->client));
}

static void
test_idle_refresh_sends_done_and_idle_again (void **state)
{
  Wire *wire = *state;
  run_idle_session (wire);
  g_string_truncate (wire->client_side.transcript, 0);

  imap_client_idle_refresh (wire->client);
  assert_false (imap_client_is_idling (wire->client));
  pump (wire);
  imap_client_idle_refresh (wire->client);
  pump (wire);

  assert_string_equal (wire->client_side.transcript->str, "DONE\r\na4 IDLE\r\nDONE\r\na5 IDLE\r\n");
  assert_true (imap_client_is_idling (wire->client));
  assert_int_equal (wire->batches, 1);
  assert_int_equal (wire->done_calls, 0);
}

static void
test_idle_refresh_does_nothing_unless_idling (void **state)
{
  Wire *wire = *state;
  wire->client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport, on_done, wire);
  imap_client_set_idle (wire->client, on_batch);
  imap_client_idle_refresh (wire->client);
  feed_text (wire->client, "* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\na1 OK in\r\n* 0 EXISTS\r\na2 OK sel\r\n");
  imap_client_idle_refresh (wire->client);   /* IDLE sent, no "+" yet */
  assert_string_equal (wire->client_side.transcript->str,
                       "a1 LOGIN alice@example.org secret\r\na2 SELECT INBOX\r\na3 IDLE\r\n");
}

static void
test_idle_client_ends_cleanly_on_autologout (void **state)
{
  Wire *wire = *state;
  run_idle_session (wire);
  g_string_truncate (wire->client_side.transcript, 0);

  imap_server_idle_timeout (wire->server);
  pump (wire);

  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "the server closed the session: Autologout; idle for too long");
  assert_true (imap_client_is_finished (wire->client));
  assert_true (wire->client_side.closed);
  /* Nothing is written after the BYE, not even by a late refresh. */
  imap_client_idle_refresh (wire->client);
  imap_client_connection_lost (wire->client);
  assert_string_equal (wire->client_side.transcript->str, "");
  assert_int_equal (wire->done_calls, 1);
}

static void
test_idle_client_reports_lost_connection_once (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  run_idle_session (wire);
  g_string_truncate (wire->client_side.transcript, 0);

  imap_client_connection_lost (wire->client);
  imap_server_connection_lost (wire->server);
  imap_client_connection_lost (wire->client);
  imap_client_idle_refresh (wire->client);
  feed_text (wire->client, "* 2 EXISTS\r\n");

  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "the connection was lost while idling");
  assert_int_equal (wire->fetched->len, 1);
  assert_string_equal (wire->client_side.transcript->str, "");
}

static void
test_idle_client_keeps_only_messages_above_the_highest_uid (void **state)
{
  Wire *wire = *state;
  wire->client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport, on_done, wire);
  imap_client_set_idle (wire->client, on_batch);
  feed_text (wire->client, "* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\na1 OK in\r\n* 1 EXISTS\r\na2 OK sel\r\n"
                           "* 1 FETCH (UID 7 FLAGS () BODY[] {3}\r\nabc)\r\na3 OK done\r\n"
                           "+ idling\r\n* 2 EXISTS\r\na4 OK IDLE terminated\r\n");
  /* RFC 3501 6.4.8: 8:* matches UID 7, the last one, when no UID is above it. */
  feed_text (wire->client, "* 1 FETCH (UID 7 FLAGS () BODY[] {3}\r\nabc)\r\na5 OK done\r\n");

  assert_int_equal (wire->batches, 1);
  assert_int_equal (wire->fetched->len, 1);
  assert_true (g_str_has_suffix (wire->client_side.transcript->str,
                                 "a4 IDLE\r\nDONE\r\na5 UID FETCH 8:* (UID FLAGS BODY[])\r\na6 IDLE\r\n"));
}

static void
test_idle_client_logs_out_when_the_server_does_not_announce_idle (void **state)
{
  Wire *wire = *state;
  wire->client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport, on_done, wire);
  imap_client_set_idle (wire->client, on_batch);
  feed_text (wire->client, "* OK [CAPABILITY IMAP4rev1] hi\r\na1 OK in\r\n* 0 EXISTS\r\na2 OK sel\r\n");
  assert_true (g_str_has_suffix (wire->client_side.transcript->str, "a3 LOGOUT\r\n"));
  feed_text (wire->client, "* BYE bye\r\na3 OK out\r\n");

  assert_int_equal (wire->batches, 1);
  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "the server does not announce IDLE (RFC 2177 3)");
  assert_null (strstr (wire->client_side.transcript->str, "IDLE"));
}

static void
test_idle_client_reports_a_refused_idle (void **state)
{
  Wire *wire = *state;
  wire->client = imap_client_new (ALICE, "secret", "INBOX", TRUE, &wire->client_transport, on_done, wire);
  imap_client_set_idle (wire->client, on_batch);
  feed_text (wire->client, "* OK hi\r\na1 OK in\r\n* 0 EXISTS\r\na2 OK sel\r\na3 BAD no IDLE here\r\n");
  feed_text (wire->client, "a4 OK out\r\n");

  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "IDLE failed: BAD no IDLE here");
  assert_true (wire->client_side.closed);
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
    T (test_idle_client_idles_after_the_first_fetch),
    T (test_idle_client_on_empty_mailbox_reports_an_empty_first_batch),
    T (test_idle_client_receives_delivered_mail_without_polling),
    T (test_idle_client_fetches_again_when_mail_arrives_during_a_fetch),
    T (test_idle_refresh_sends_done_and_idle_again),
    T (test_idle_refresh_does_nothing_unless_idling),
    T (test_idle_client_ends_cleanly_on_autologout),
    T (test_idle_client_reports_lost_connection_once),
    T (test_idle_client_keeps_only_messages_above_the_highest_uid),
    T (test_idle_client_logs_out_when_the_server_does_not_announce_idle),
    T (test_idle_client_reports_a_refused_idle),
  };
#undef T
  return cmocka_run_group_tests (tests, NULL, NULL);
}
