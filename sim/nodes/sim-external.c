/* sim-external.c: outside clients inside the simulated network. */
#include "nodes/sim-external.h"

#include <string.h>

#include "net/sim-network.h"
#include "trace/sim-explain.h"

#define EXTERNAL_DATA_KEY "mailsim-external"
/* Complete lines are sent as they arrive; a partial line is held back
 * until its end comes, or until it is this long. */
#define EXTERNAL_MAX_PARTIAL 16384

typedef struct
{
  SimExternal *owner;
  guint id;
  const char *protocol;
  SimStream *stream;
  gboolean open;            /* the simulated handshake completed */
  gboolean client_closed;
  GByteArray *pending;      /* from the client, not yet sent */
  gboolean smtp_in_data;    /* after a 354, until the final dot */
  SimExternalOutput output;
  SimExternalEnded ended;
  gpointer user_data;
} ExternalConnection;

struct _SimExternal
{
  SimWorld *world;
  GHashTable *connections;  /* id -> ExternalConnection; lookups only */
  GString *recorder;
};

static void
connection_free (gpointer data)
{
  ExternalConnection *conn = data;

  if (conn->stream != NULL)
    {
      sim_stream_set_handler (conn->stream, NULL, NULL);
      if (conn->open)
        sim_stream_close (conn->stream);
    }
  g_byte_array_unref (conn->pending);
  g_free (conn);
}

static void
external_free (gpointer data)
{
  SimExternal *self = data;

  g_hash_table_destroy (self->connections);
  g_free (self);
}

SimExternal *
sim_external_get (SimWorld *world)
{
  SimExternal *self = sim_world_get_data (world, EXTERNAL_DATA_KEY);

  if (self == NULL)
    {
      self = g_new0 (SimExternal, 1);
      self->world = world;
      self->connections = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, connection_free);
      sim_world_set_data (world, EXTERNAL_DATA_KEY, self, external_free);
    }
  return self;
}

void
sim_external_set_recorder (SimExternal *self, GString *timeline)
{
  self->recorder = timeline;
}

static void
record (SimExternal *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
record (SimExternal *self, const char *format, ...)
{
  va_list args;
  g_autofree char *when = NULL;

  if (self->recorder == NULL)
    return;
  when = sim_time_to_string (sim_world_now (self->world));
  g_string_append_printf (self->recorder, "  at %s ", when);
  va_start (args, format);
  g_string_append_vprintf (self->recorder, format, args);
  va_end (args);
  g_string_append_c (self->recorder, '\n');
}

/* The catalogue key for a line the outside client sent. */
static const char *
client_line_key (ExternalConnection *conn, const char *line, gsize len)
{
  g_autofree char *word = NULL;
  g_autofree char *key = NULL;
  const char *start = line;
  gsize word_length;
  const SimExplanation *entry;

  /* IMAP commands follow their tag: "a1 LOGIN ...". */
  if (g_str_equal (conn->protocol, "imap"))
    {
      const char *space = memchr (line, ' ', len);
      if (space != NULL)
        {
          start = space + 1;
          len -= (gsize) (start - line);
        }
    }
  for (word_length = 0; word_length < len && g_ascii_isalpha (start[word_length]); word_length++)
    ;
  word = g_ascii_strdown (start, (gssize) word_length);
  key = g_strdup_printf ("%s.cmd.%s", conn->protocol, word);
  entry = sim_explain_lookup (key);
  if (entry != NULL)
    return entry->key;
  g_free (key);
  key = g_strdup_printf ("%s.cmd.unknown", conn->protocol);
  entry = sim_explain_lookup (key);
  return entry != NULL ? entry->key : NULL;
}

/* Sends what the client has sent so far: one write per command line, so
 * each is narrated with its own explanation; SMTP content as one write up
 * to and including the final dot, as a real client sends it. */
static void
send_pending (ExternalConnection *conn, gboolean flush_partial)
{
  gsize start = 0;

  if (!conn->open || conn->stream == NULL)
    return;
  while (start < conn->pending->len)
    {
      const char *data = (const char *) conn->pending->data + start;
      gsize available = conn->pending->len - start;
      const char *newline = memchr (data, '\n', available);
      gsize length;

      if (conn->smtp_in_data)
        {
          const char *end = g_strstr_len (data, (gssize) available, "\r\n.\r\n");
          gboolean dot_first = available >= 3 && memcmp (data, ".\r\n", 3) == 0;
          if (dot_first || end != NULL)
            {
              length = dot_first ? 3 : (gsize) (end - data) + 5;
              conn->smtp_in_data = FALSE;
            }
          else
            {
              const char *last = g_strrstr_len (data, (gssize) available, "\n");
              if (last == NULL && !flush_partial && available < EXTERNAL_MAX_PARTIAL)
                break;
              length = last != NULL ? (gsize) (last - data) + 1 : available;
            }
          sim_stream_write (conn->stream, (const guint8 *) data, length, "smtp.data.content");
          start += length;
          continue;
        }
      if (newline == NULL && !flush_partial && available < EXTERNAL_MAX_PARTIAL)
        break;
      length = newline != NULL ? (gsize) (newline - data) + 1 : available;
      sim_stream_write (conn->stream, (const guint8 *) data, length, client_line_key (conn, data, length));
      start += length;
    }
  g_byte_array_remove_range (conn->pending, 0, (guint) start);
}

static void
stream_connected (SimStream *stream, gpointer user_data)
{
  ExternalConnection *conn = user_data;

  conn->open = TRUE;
  send_pending (conn, conn->client_closed);
  if (conn->client_closed)
    {
      sim_stream_close (stream);
      conn->stream = NULL;
    }
}

static void
stream_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  ExternalConnection *conn = user_data;

  /* RFC 5321 4.1.1.4: after 354 the client sends content until the dot. */
  if (g_str_equal (conn->protocol, "smtp") && len >= 4 && memcmp (data, "354 ", 4) == 0)
    conn->smtp_in_data = TRUE;
  if (conn->output != NULL)
    conn->output (conn->user_data, data, len);
}

static void
stream_gone (ExternalConnection *conn)
{
  SimExternalEnded ended = conn->ended;
  gpointer user_data = conn->user_data;

  conn->stream = NULL;
  conn->output = NULL;
  conn->ended = NULL;
  if (ended != NULL)
    ended (user_data);
}

static void
stream_closed (SimStream *stream, gpointer user_data)
{
  ExternalConnection *conn = user_data;

  sim_stream_close (stream);
  stream_gone (conn);
}

static void
stream_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  stream_gone (user_data);
}

static const SimStreamCallbacks stream_callbacks = {
  stream_connected, stream_received, stream_closed, stream_failed,
};

void
sim_external_connect (SimExternal *self, guint id, SimNode *from, SimNode *to, guint16 port,
                      const char *protocol, SimExternalOutput output, SimExternalEnded ended, gpointer user_data)
{
  ExternalConnection *conn = g_new0 (ExternalConnection, 1);

  record (self, "connect %u from %s to %s %u protocol %s", id, sim_node_get_name (from), sim_node_get_name (to),
          port, protocol);
  conn->owner = self;
  conn->id = id;
  conn->protocol = g_intern_string (protocol);
  conn->pending = g_byte_array_new ();
  conn->output = output;
  conn->ended = ended;
  conn->user_data = user_data;
  g_hash_table_replace (self->connections, GUINT_TO_POINTER (id), conn);
  conn->stream = sim_network_connect (sim_world_get_network (self->world), from, sim_node_get_address (to), port,
                                      &stream_callbacks, conn);
}

void
sim_external_input (SimExternal *self, guint id, const guint8 *data, gsize len)
{
  ExternalConnection *conn = g_hash_table_lookup (self->connections, GUINT_TO_POINTER (id));

  if (conn == NULL || len == 0)
    return;
  if (self->recorder != NULL)
    {
      g_autofree char *encoded = g_base64_encode (data, len);
      record (self, "input %u base64 \"%s\"", id, encoded);
    }
  g_byte_array_append (conn->pending, data, (guint) len);
  send_pending (conn, FALSE);
}

void
sim_external_close (SimExternal *self, guint id)
{
  ExternalConnection *conn = g_hash_table_lookup (self->connections, GUINT_TO_POINTER (id));

  if (conn == NULL)
    return;
  record (self, "close %u", id);
  conn->client_closed = TRUE;
  conn->output = NULL;
  conn->ended = NULL;
  if (!conn->open)
    return;   /* sent and closed once the handshake completes */
  send_pending (conn, TRUE);
  if (conn->stream != NULL)
    {
      sim_stream_close (conn->stream);
      conn->stream = NULL;
    }
  g_hash_table_remove (self->connections, GUINT_TO_POINTER (id));
}

void
sim_external_detach (SimExternal *self, guint id)
{
  ExternalConnection *conn = g_hash_table_lookup (self->connections, GUINT_TO_POINTER (id));

  if (conn != NULL)
    {
      conn->output = NULL;
      conn->ended = NULL;
    }
}

void
sim_external_datagram (SimExternal *self, SimNode *from, guint16 from_port, SimNode *to, guint16 to_port,
                       GBytes *payload)
{
  if (self->recorder != NULL)
    {
      g_autofree char *encoded = g_base64_encode (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
      record (self, "datagram from %s port %u to %s %u base64 \"%s\"", sim_node_get_name (from), from_port,
              sim_node_get_name (to), to_port, encoded);
    }
  sim_network_send_datagram (sim_world_get_network (self->world), from, from_port, sim_node_get_address (to), to_port,
                             "dns", payload, "dns.query");
}
