/* test-pop3-client.c: the scripted POP3 client (sim/proto/pop3/pop3-client.c)
 * against the POP3 server, through two fake transports wired back to back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proto/pop3/pop3-client.h"
#include "proto/pop3/pop3-server.h"
#include "trace/sim-explain.h"

extern const SimExplanation sim_explain_pop3[];
extern const gsize sim_explain_pop3_count;

#define BOB "bob@example.net"

typedef struct
{
  GByteArray *in_flight;
  gboolean closed;
  GString *transcript;
} Side;

typedef struct
{
  MailStore *store;
  Side client_side;
  Side server_side;
  SimTransport client_transport;
  SimTransport server_transport;
  Pop3Server *server;
  Pop3Client *client;
  guint done_calls;
  gboolean ok;
  char *error;
  GPtrArray *fetched;
} Wire;

static gboolean
is_catalogued (const char *key)
{
  for (gsize i = 0; i < sim_explain_pop3_count; i++)
    if (g_strcmp0 (sim_explain_pop3[i].key, key) == 0)
      return TRUE;
  return FALSE;
}

static void
side_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  Side *side = impl;
  if (!is_catalogued (explain_key))
    fail_msg ("explain key '%s' is not in sim_explain_pop3", explain_key);
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
  g_free (wire->error);
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
  assert_true (mail_store_deliver (store, BOB, "INBOX", bytes, 0, NULL, NULL));
}

static int
setup (void **state)
{
  Wire *wire = g_new0 (Wire, 1);
  wire->store = mail_store_new ();
  assert_true (mail_store_add_user (wire->store, BOB, "hunter2", 0, NULL));
  wire->client_side = (Side) { g_byte_array_new (), FALSE, g_string_new (NULL) };
  wire->server_side = (Side) { g_byte_array_new (), FALSE, g_string_new (NULL) };
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
  pop3_client_free (wire->client);
  pop3_server_free (wire->server);
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

static GByteArray *
take (Side *side)
{
  GByteArray *bytes = side->in_flight;
  side->in_flight = g_byte_array_new ();
  return bytes;
}

/* Carries bytes both ways; stops early when @limit exchanges have passed. */
static void
pump (Wire *wire, guint limit)
{
  for (guint round = 0; round < limit
       && (wire->client_side.in_flight->len > 0 || wire->server_side.in_flight->len > 0); round++)
    {
      g_autoptr(GByteArray) to_client = take (&wire->server_side);
      pop3_client_feed (wire->client, to_client->data, to_client->len);
      g_autoptr(GByteArray) to_server = take (&wire->client_side);
      pop3_server_feed (wire->server, to_server->data, to_server->len);
    }
}

static void
start_session (Wire *wire, const char *user, const char *password, gboolean delete_after_retrieve)
{
  wire->server = pop3_server_new (wire->store, "pop.example.net", &wire->server_transport);
  wire->client = pop3_client_new (user, password, delete_after_retrieve, &wire->client_transport, on_done, wire);
  pop3_server_start (wire->server);
}

static void
test_client_retrieves_and_deletes_every_message (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\n.dot line\r\n");
  deliver (wire->store, "Subject: two\r\n\r\nsecond\r\n");
  start_session (wire, BOB, "hunter2", TRUE);
  pump (wire, G_MAXUINT);

  assert_int_equal (wire->done_calls, 1);
  assert_true (wire->ok);
  assert_int_equal (wire->fetched->len, 2);
  const MailFetched *first = g_ptr_array_index (wire->fetched, 0);
  /* Byte-stuffing is undone: the line starts with a single dot again. */
  assert_int_equal (g_bytes_get_size (first->data), 27);
  assert_memory_equal (g_bytes_get_data (first->data, NULL), "Subject: one\r\n\r\n.dot line\r\n", 27);
  assert_int_equal (first->uid, 1);
  assert_int_equal (mail_store_count (wire->store, BOB, "INBOX"), 0);
  assert_string_equal (wire->client_side.transcript->str,
                       "CAPA\r\nUSER bob@example.net\r\nPASS hunter2\r\nSTAT\r\nUIDL\r\n"
                       "RETR 1\r\nDELE 1\r\nRETR 2\r\nDELE 2\r\nQUIT\r\n");
  assert_true (wire->client_side.closed);
}

static void
test_client_that_keeps_mail_reports_stable_uids (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  deliver (wire->store, "Subject: two\r\n\r\nsecond\r\n");
  const guint32 first_uid[] = { 1 };
  mail_store_remove (wire->store, BOB, "INBOX", first_uid, 1, NULL);
  start_session (wire, BOB, "hunter2", FALSE);
  pump (wire, G_MAXUINT);

  assert_true (wire->ok);
  assert_int_equal (wire->fetched->len, 1);
  /* Message number 1 now, but its UIDL unique-id still names UID 2. */
  assert_int_equal (((MailFetched *) g_ptr_array_index (wire->fetched, 0))->uid, 2);
  assert_int_equal (mail_store_count (wire->store, BOB, "INBOX"), 1);
}

static void
test_client_reports_wrong_password_and_quits (void **state)
{
  Wire *wire = *state;
  start_session (wire, BOB, "wrong", TRUE);
  pump (wire, G_MAXUINT);
  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "-ERR [AUTH] invalid user name or password");
  assert_true (g_str_has_suffix (wire->client_side.transcript->str, "PASS wrong\r\nQUIT\r\n"));
}

static void
test_client_reports_locked_maildrop (void **state)
{
  Wire *wire = *state;
  mail_store_lock (wire->store, BOB, NULL);
  start_session (wire, BOB, "hunter2", TRUE);
  pump (wire, G_MAXUINT);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "-ERR [IN-USE] maildrop already locked by another session");
}

static void
test_connection_lost_before_quit_leaves_messages_on_server (void **state)
{
  Wire *wire = *state;
  deliver (wire->store, "Subject: one\r\n\r\nfirst\r\n");
  start_session (wire, BOB, "hunter2", TRUE);
  /* Stop after DELE 1 was answered, before QUIT reaches the server. */
  pump (wire, 7);
  assert_non_null (strstr (wire->client_side.transcript->str, "DELE 1\r\n"));
  pop3_server_connection_lost (wire->server);
  pop3_client_connection_lost (wire->client);

  assert_int_equal (wire->done_calls, 1);
  assert_false (wire->ok);
  assert_string_equal (wire->error, "the connection was lost before QUIT completed");
  assert_int_equal (wire->fetched->len, 1);
  assert_int_equal (mail_store_count (wire->store, BOB, "INBOX"), 1);
}

static void
test_client_rejects_what_it_cannot_read (void **state)
{
  Wire *wire = *state;
  static const char *const replies[] = {
    "-ERR go away\r\n",
    "HELLO\r\n",
    "+OK hi\0there\r\n",
  };
  static const gsize lengths[] = { 14, 7, 15 };
  for (gsize i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      g_autoptr(Pop3Client) client = pop3_client_new (BOB, "x", TRUE, &wire->client_transport, on_done, wire);
      pop3_client_feed (client, (const guint8 *) replies[i], lengths[i]);
      assert_true (pop3_client_is_finished (client));
      assert_int_equal (wire->done_calls, i + 1);
      assert_false (wire->ok);
    }
  g_autoptr(GString) long_line = g_string_new ("+OK ");
  while (long_line->len <= POP3_CLIENT_MAX_LINE + 1)
    g_string_append_c (long_line, 'x');
  g_autoptr(Pop3Client) client = pop3_client_new (BOB, "x", TRUE, &wire->client_transport, on_done, wire);
  pop3_client_feed (client, (const guint8 *) long_line->str, long_line->len);
  assert_true (pop3_client_is_finished (client));
  assert_string_equal (wire->error, "the server sent a line that is too long");
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_client_retrieves_and_deletes_every_message),
    T (test_client_that_keeps_mail_reports_stable_uids),
    T (test_client_reports_wrong_password_and_quits),
    T (test_client_reports_locked_maildrop),
    T (test_connection_lost_before_quit_leaves_messages_on_server),
    T (test_client_rejects_what_it_cannot_read),
  };
#undef T
  return cmocka_run_group_tests (tests, NULL, NULL);
}
