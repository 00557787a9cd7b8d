/* sim-network.c: the virtual network. */
#include "net/sim-network.h"

#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (sim-network-error-quark, sim_network_error)

typedef struct
{
  guint16 port;
  const char *protocol;
  SimAcceptFunc accept;
  SimDatagramFunc receive;
  gpointer user_data;
} SimListener;

struct _SimNode
{
  SimNetwork *network;
  guint index;
  char *name;
  guint32 address;
  gboolean up;
  guint16 next_port;
  GArray *listeners;   /* SimListener, streams */
  GArray *bindings;    /* SimListener, datagrams */
  GPtrArray *streams;  /* open SimStream endpoints on this node (weak) */
};

typedef struct
{
  SimLinkTapFunc func;
  gpointer user_data;
} SimLinkTap;

struct _SimLink
{
  SimNetwork *network;
  SimNode *a;
  SimNode *b;
  SimTime latency;
  gboolean up;
  double loss;    /* chance that one packet is lost crossing the link, 0..1 */
  GArray *taps;   /* SimLinkTap */
};

typedef struct _SimConnection SimConnection;

struct _SimStream
{
  gint refcount;
  SimConnection *connection;
  SimNode *node;
  guint16 port;
  gboolean is_client;
  gboolean open;          /* handshake done on this side */
  gboolean closed_local;  /* this side sent FIN or failed */
  gboolean finished;      /* no callback will reach this side any more */
  gboolean encrypted;     /* this side's bytes travel under (simulated) TLS */
  SimTime last_arrival;   /* keeps bytes from this side in order */
  SimStreamCallbacks callbacks;
  gpointer user_data;
  SimTransport transport;
  SimStream *peer;
};

struct _SimConnection
{
  guint64 id;
  const char *protocol;
  SimNode *server_node;
  guint16 server_port;
  GPtrArray *path;        /* node names, client first */
  GPtrArray *back_path;   /* node names, server first */
  GPtrArray *links;       /* SimLink* along the path */
  SimTime latency;
};

struct _SimNetwork
{
  SimScheduler *scheduler;
  SimTrace *trace;
  GPtrArray *nodes;
  GPtrArray *links;
  GHashTable *nodes_by_name;    /* lookups only, never iterated */
  GHashTable *nodes_by_address; /* lookups only, never iterated */
  guint64 next_connection;
};

/* ---- addresses ---- */

gboolean
sim_address_parse (const char *text, guint32 *address)
{
  guint32 value = 0;
  const char *p = text;

  for (int part = 0; part < 4; part++)
    {
      guint octet = 0;
      int digits = 0;
      while (g_ascii_isdigit (*p) && digits < 4)
        {
          octet = octet * 10 + (guint) (*p - '0');
          p++;
          digits++;
        }
      if (digits == 0 || digits > 3 || octet > 255)
        return FALSE;
      value = (value << 8) | octet;
      if (part < 3)
        {
          if (*p != '.')
            return FALSE;
          p++;
        }
    }
  if (*p != '\0')
    return FALSE;
  *address = value;
  return TRUE;
}

const char *
sim_address_to_string (guint32 address, char buffer[16])
{
  g_snprintf (buffer, 16, "%u.%u.%u.%u", address >> 24, (address >> 16) & 0xff,
              (address >> 8) & 0xff, address & 0xff);
  return buffer;
}

/* ---- network, nodes, links ---- */

static void sim_stream_unref (SimStream *stream);

static void
sim_node_free (SimNode *node)
{
  g_free (node->name);
  g_array_unref (node->listeners);
  g_array_unref (node->bindings);
  g_ptr_array_unref (node->streams);
  g_free (node);
}

static void
sim_link_free (SimLink *link)
{
  g_array_unref (link->taps);
  g_free (link);
}

SimNetwork *
sim_network_new (SimScheduler *scheduler, SimTrace *trace)
{
  SimNetwork *self = g_new0 (SimNetwork, 1);

  self->scheduler = scheduler;
  self->trace = trace;
  self->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_node_free);
  self->links = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_link_free);
  self->nodes_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->nodes_by_address = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->next_connection = 1;
  return self;
}

void
sim_network_free (SimNetwork *self)
{
  if (self == NULL)
    return;
  /* Streams still open at the end of a run belong to no one else. */
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);
      while (node->streams->len > 0)
        {
          SimStream *stream = g_ptr_array_steal_index (node->streams, node->streams->len - 1);
          sim_stream_unref (stream);
        }
    }
  g_hash_table_destroy (self->nodes_by_name);
  g_hash_table_destroy (self->nodes_by_address);
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->nodes);
  g_free (self);
}

SimScheduler *
sim_network_get_scheduler (SimNetwork *self)
{
  return self->scheduler;
}

SimTrace *
sim_network_get_trace (SimNetwork *self)
{
  return self->trace;
}

SimTime
sim_network_now (SimNetwork *self)
{
  return sim_scheduler_now (self->scheduler);
}

SimNode *
sim_network_add_node (SimNetwork *self, const char *name, guint32 address, GError **error)
{
  SimNode *node;
  char text[16];

  if (g_hash_table_contains (self->nodes_by_name, name))
    {
      g_set_error (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_DUPLICATE,
                   "a node named '%s' already exists", name);
      return NULL;
    }
  if (address != 0 && g_hash_table_contains (self->nodes_by_address, GUINT_TO_POINTER (address)))
    {
      SimNode *other = g_hash_table_lookup (self->nodes_by_address, GUINT_TO_POINTER (address));
      g_set_error (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_ADDRESS,
                   "address %s is already used by '%s'",
                   sim_address_to_string (address, text), other->name);
      return NULL;
    }
  node = g_new0 (SimNode, 1);
  node->network = self;
  node->index = self->nodes->len;
  node->name = g_strdup (name);
  node->address = address;
  node->up = TRUE;
  node->next_port = SIM_EPHEMERAL_PORT_FIRST;
  node->listeners = g_array_new (FALSE, FALSE, sizeof (SimListener));
  node->bindings = g_array_new (FALSE, FALSE, sizeof (SimListener));
  node->streams = g_ptr_array_new ();
  g_ptr_array_add (self->nodes, node);
  g_hash_table_insert (self->nodes_by_name, node->name, node);
  if (address != 0)
    g_hash_table_insert (self->nodes_by_address, GUINT_TO_POINTER (address), node);
  return node;
}

SimNode *
sim_network_find_node (SimNetwork *self, const char *name)
{
  return g_hash_table_lookup (self->nodes_by_name, name);
}

SimNode *
sim_network_find_node_by_address (SimNetwork *self, guint32 address)
{
  return g_hash_table_lookup (self->nodes_by_address, GUINT_TO_POINTER (address));
}

GPtrArray *
sim_network_get_nodes (SimNetwork *self)
{
  return self->nodes;
}

const char *
sim_node_get_name (const SimNode *node)
{
  return node->name;
}

guint32
sim_node_get_address (const SimNode *node)
{
  return node->address;
}

gboolean
sim_node_is_up (const SimNode *node)
{
  return node->up;
}

SimNetwork *
sim_node_get_network (SimNode *node)
{
  return node->network;
}

guint16
sim_node_allocate_port (SimNode *node)
{
  guint16 port = node->next_port;

  node->next_port = node->next_port == G_MAXUINT16 ? SIM_EPHEMERAL_PORT_FIRST : node->next_port + 1;
  return port;
}

SimLink *
sim_network_add_link (SimNetwork *self, SimNode *a, SimNode *b, SimTime latency, GError **error)
{
  SimLink *link;

  if (a == b)
    {
      g_set_error (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_LINK,
                   "a link needs two different nodes, '%s' is given twice", a->name);
      return NULL;
    }
  if (sim_network_find_link (self, a, b) != NULL)
    {
      g_set_error (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_DUPLICATE,
                   "'%s' and '%s' are already linked", a->name, b->name);
      return NULL;
    }
  link = g_new0 (SimLink, 1);
  link->network = self;
  link->a = a;
  link->b = b;
  link->latency = latency;
  link->up = TRUE;
  link->taps = g_array_new (FALSE, FALSE, sizeof (SimLinkTap));
  g_ptr_array_add (self->links, link);
  return link;
}

SimLink *
sim_network_find_link (SimNetwork *self, SimNode *a, SimNode *b)
{
  for (guint i = 0; i < self->links->len; i++)
    {
      SimLink *link = g_ptr_array_index (self->links, i);
      if ((link->a == a && link->b == b) || (link->a == b && link->b == a))
        return link;
    }
  return NULL;
}

GPtrArray *
sim_network_get_links (SimNetwork *self)
{
  return self->links;
}

SimNode *
sim_link_get_a (const SimLink *link)
{
  return link->a;
}

SimNode *
sim_link_get_b (const SimLink *link)
{
  return link->b;
}

SimTime
sim_link_get_latency (const SimLink *link)
{
  return link->latency;
}

void
sim_link_set_latency (SimLink *link, SimTime latency)
{
  link->latency = latency;
}

gboolean
sim_link_is_up (const SimLink *link)
{
  return link->up;
}

void
sim_link_set_loss (SimLink *link, double loss)
{
  link->loss = CLAMP (loss, 0.0, 1.0);
}

double
sim_link_get_loss (const SimLink *link)
{
  return link->loss;
}

/* The link of @links on which one packet is lost now, or NULL.  The draw
 * uses the run's seeded generator, and is made only on lossy links, so a
 * run without loss never consumes random numbers. */
static SimLink *
draw_loss (SimNetwork *self, GPtrArray *links)
{
  for (guint i = 0; links != NULL && i < links->len; i++)
    {
      SimLink *link = g_ptr_array_index (links, i);
      if (link->loss > 0 && sim_scheduler_random_double (self->scheduler) < link->loss)
        return link;
    }
  return NULL;
}

void
sim_link_set_up (SimLink *link, gboolean up)
{
  link->up = up;
}

void
sim_link_add_tap (SimLink *link, SimLinkTapFunc func, gpointer user_data)
{
  SimLinkTap tap = { func, user_data };
  g_array_append_val (link->taps, tap);
}

/* Shows a transmission to whoever listens on the links it crosses. */
static void
notify_taps (SimNetwork *self, GPtrArray *links, SimNode *from, SimNode *to, const char *protocol,
             GBytes *bytes, gboolean encrypted)
{
  for (guint i = 0; links != NULL && i < links->len; i++)
    {
      SimLink *link = g_ptr_array_index (links, i);
      for (guint t = 0; t < link->taps->len; t++)
        {
          SimLinkTap *tap = &g_array_index (link->taps, SimLinkTap, t);
          tap->func (link, from, to, protocol, bytes, encrypted, tap->user_data);
        }
    }
}

/* Dijkstra over up links, ties broken by node index so the route never
 * depends on memory layout.  Networks in lessons have tens of nodes; the
 * quadratic scan is simpler than a heap and fast enough. */
static gboolean
compute_route (SimNetwork *self, SimNode *from, SimNode *to, GPtrArray **path_out,
               GPtrArray **links_out, SimTime *latency_out)
{
  guint n = self->nodes->len;
  g_autofree SimTime *distance = g_new (SimTime, n);
  g_autofree gint *previous = g_new (gint, n);
  g_autofree SimLink **previous_link = g_new0 (SimLink *, n);
  g_autofree gboolean *done = g_new0 (gboolean, n);

  if (!from->up || !to->up)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      distance[i] = SIM_TIME_NEVER;
      previous[i] = -1;
    }
  distance[from->index] = 0;
  for (;;)
    {
      gint best = -1;
      for (guint i = 0; i < n; i++)
        if (!done[i] && distance[i] != SIM_TIME_NEVER && (best < 0 || distance[i] < distance[best]))
          best = (gint) i;
      if (best < 0 || (guint) best == to->index)
        break;
      done[best] = TRUE;
      SimNode *node = g_ptr_array_index (self->nodes, best);
      /* Only the endpoints may be down; a node in the middle that is down
       * forwards nothing. */
      if (node != from && !node->up)
        continue;
      for (guint l = 0; l < self->links->len; l++)
        {
          SimLink *link = g_ptr_array_index (self->links, l);
          SimNode *other;
          if (!link->up)
            continue;
          if (link->a == node)
            other = link->b;
          else if (link->b == node)
            other = link->a;
          else
            continue;
          if (done[other->index])
            continue;
          SimTime candidate = distance[best] + link->latency;
          if (candidate < distance[other->index])
            {
              distance[other->index] = candidate;
              previous[other->index] = best;
              previous_link[other->index] = link;
            }
        }
    }
  if (distance[to->index] == SIM_TIME_NEVER)
    return FALSE;
  if (path_out != NULL || links_out != NULL)
    {
      GPtrArray *path = g_ptr_array_new ();
      GPtrArray *links = g_ptr_array_new ();
      for (gint i = (gint) to->index; i >= 0; i = previous[i])
        {
          SimNode *node = g_ptr_array_index (self->nodes, i);
          g_ptr_array_insert (path, 0, node->name);
          if (previous_link[i] != NULL)
            g_ptr_array_insert (links, 0, previous_link[i]);
        }
      if (path_out != NULL)
        *path_out = path;
      else
        g_ptr_array_unref (path);
      if (links_out != NULL)
        *links_out = links;
      else
        g_ptr_array_unref (links);
    }
  if (latency_out != NULL)
    *latency_out = distance[to->index];
  return TRUE;
}

gboolean
sim_network_route (SimNetwork *self, SimNode *from, SimNode *to, GPtrArray **path, SimTime *latency)
{
  return compute_route (self, from, to, path, NULL, latency);
}

static gboolean
links_all_up (GPtrArray *links)
{
  for (guint i = 0; i < links->len; i++)
    {
      SimLink *link = g_ptr_array_index (links, i);
      if (!link->up)
        return FALSE;
    }
  return TRUE;
}

/* Why nothing can reach @to from @from, in words a student can act on. */
static const char *
unreachable_reason (SimNetwork *self, SimNode *from, SimNode *to)
{
  if (to == NULL)
    return "no host has that address";
  if (!to->up)
    return "the host is down";
  if (!from->up)
    return "this host is down";
  /* With every link and machine up, is there a path at all? */
  gboolean any_down = FALSE;
  for (guint i = 0; i < self->links->len; i++)
    any_down |= !((SimLink *) g_ptr_array_index (self->links, i))->up;
  for (guint i = 0; i < self->nodes->len; i++)
    any_down |= !((SimNode *) g_ptr_array_index (self->nodes, i))->up;
  if (!any_down)
    return "no route: no chain of links joins the two hosts";
  return "no route: a link or a machine on the way is down";
}

/* ---- trace helpers ---- */

static void
emit_transmission_full (SimNetwork *self, SimEventKind kind, SimNode *from, guint16 from_port,
                        SimNode *to, guint32 to_address, guint16 to_port, SimTime arrival,
                        guint64 connection, gboolean from_client, const char *protocol,
                        const char *explain, GBytes *bytes, GPtrArray *path, const char *text,
                        gboolean encrypted);

static void
emit_transmission (SimNetwork *self, SimEventKind kind, SimNode *from, guint16 from_port,
                   SimNode *to, guint32 to_address, guint16 to_port, SimTime arrival,
                   guint64 connection, gboolean from_client, const char *protocol,
                   const char *explain, GBytes *bytes, GPtrArray *path, const char *text)
{
  emit_transmission_full (self, kind, from, from_port, to, to_address, to_port, arrival, connection,
                          from_client, protocol, explain, bytes, path, text, FALSE);
}

static void
emit_transmission_full (SimNetwork *self, SimEventKind kind, SimNode *from, guint16 from_port,
                        SimNode *to, guint32 to_address, guint16 to_port, SimTime arrival,
                        guint64 connection, gboolean from_client, const char *protocol,
                        const char *explain, GBytes *bytes, GPtrArray *path, const char *text,
                        gboolean encrypted)
{
  SimEvent event = { 0 };

  event.encrypted = encrypted;

  event.kind = kind;
  event.time = sim_scheduler_now (self->scheduler);
  event.arrival = arrival;
  event.from = from->name;
  event.to = to != NULL ? to->name : "";
  event.from_address = from->address;
  event.to_address = to != NULL ? to->address : to_address;
  event.from_port = from_port;
  event.to_port = to_port;
  event.connection = connection;
  event.from_client = from_client;
  event.protocol = protocol;
  event.explain = explain;
  event.bytes = bytes;
  event.path = path;
  event.text = (char *) text;
  sim_trace_emit (self->trace, &event);
}

void
sim_node_emit (SimNode *node, SimEventKind kind, const char *to, const char *protocol,
               const char *explain_key, const char *status, const char *message,
               const char *format, ...)
{
  SimNetwork *self = node->network;
  SimEvent event = { 0 };
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  event.kind = kind;
  event.time = sim_scheduler_now (self->scheduler);
  event.arrival = event.time;
  event.from = node->name;
  event.to = to != NULL ? to : "";
  event.from_address = node->address;
  event.protocol = protocol;
  event.explain = explain_key;
  event.status = status;
  event.message = message;
  event.text = text;
  sim_trace_emit (self->trace, &event);
}

/* ---- listeners ---- */

static SimListener *
find_listener (GArray *listeners, guint16 port)
{
  for (guint i = 0; i < listeners->len; i++)
    {
      SimListener *listener = &g_array_index (listeners, SimListener, i);
      if (listener->port == port)
        return listener;
    }
  return NULL;
}

void
sim_node_listen (SimNode *node, guint16 port, const char *protocol, SimAcceptFunc accept, gpointer user_data)
{
  SimListener listener = { port, protocol, accept, NULL, user_data };
  SimListener *existing = find_listener (node->listeners, port);

  if (existing != NULL)
    *existing = listener;
  else
    g_array_append_val (node->listeners, listener);
}

void
sim_node_unlisten (SimNode *node, guint16 port)
{
  for (guint i = 0; i < node->listeners->len; i++)
    if (g_array_index (node->listeners, SimListener, i).port == port)
      {
        g_array_remove_index (node->listeners, i);
        return;
      }
}

void
sim_node_bind_datagram (SimNode *node, guint16 port, const char *protocol, SimDatagramFunc receive, gpointer user_data)
{
  SimListener binding = { port, protocol, NULL, receive, user_data };
  SimListener *existing = find_listener (node->bindings, port);

  if (existing != NULL)
    *existing = binding;
  else
    g_array_append_val (node->bindings, binding);
}

void
sim_node_unbind_datagram (SimNode *node, guint16 port)
{
  for (guint i = 0; i < node->bindings->len; i++)
    if (g_array_index (node->bindings, SimListener, i).port == port)
      {
        g_array_remove_index (node->bindings, i);
        return;
      }
}

/* ---- streams ----
 *
 * A connection has two endpoints (SimStream), one per side.  Each endpoint
 * is referenced by its node's list while it can still get callbacks, and by
 * every scheduled delivery aimed at it; the connection record is freed with
 * the last endpoint. */

const char *
sim_stream_error_to_string (SimStreamError error)
{
  switch (error)
    {
    case SIM_STREAM_REFUSED:
      return "connection refused";
    case SIM_STREAM_UNREACHABLE:
      return "connection timed out";
    case SIM_STREAM_RESET:
      return "connection reset";
    default:
      return "connection error";
    }
}

static void
connection_free (SimConnection *connection)
{
  g_ptr_array_unref (connection->path);
  g_ptr_array_unref (connection->back_path);
  g_ptr_array_unref (connection->links);
  g_free (connection);
}

static SimStream *
sim_stream_ref (SimStream *stream)
{
  stream->refcount++;
  return stream;
}

static void
sim_stream_unref (SimStream *stream)
{
  if (--stream->refcount > 0)
    return;
  if (stream->peer != NULL)
    stream->peer->peer = NULL;
  else
    connection_free (stream->connection);
  g_free (stream);
}

static void stream_transport_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key);
static void stream_transport_close (gpointer impl);
static void stream_transport_start_tls (gpointer impl);

static SimStream *
stream_new (SimConnection *connection, SimNode *node, guint16 port, gboolean is_client)
{
  SimStream *stream = g_new0 (SimStream, 1);

  stream->refcount = 1;  /* held by the node's list of live streams */
  stream->connection = connection;
  stream->node = node;
  stream->port = port;
  stream->is_client = is_client;
  stream->transport.write = stream_transport_write;
  stream->transport.close = stream_transport_close;
  stream->transport.impl = stream;
  stream->transport.start_tls = stream_transport_start_tls;
  g_ptr_array_add (node->streams, stream);
  return stream;
}

/* No callback will reach this side any more: drop it from its node. */
static void
stream_finish (SimStream *stream)
{
  if (stream->finished)
    return;
  stream->finished = TRUE;
  stream->closed_local = TRUE;
  if (g_ptr_array_remove_fast (stream->node->streams, stream))
    sim_stream_unref (stream);
}

typedef struct
{
  SimStream *stream;
  GBytes *bytes;
  SimStreamError error;
} StreamDelivery;

static StreamDelivery *
delivery_new (SimStream *stream, GBytes *bytes)
{
  StreamDelivery *delivery = g_new0 (StreamDelivery, 1);

  delivery->stream = sim_stream_ref (stream);
  delivery->bytes = bytes != NULL ? g_bytes_ref (bytes) : NULL;
  return delivery;
}

static void
delivery_free (gpointer data)
{
  StreamDelivery *delivery = data;

  sim_stream_unref (delivery->stream);
  if (delivery->bytes != NULL)
    g_bytes_unref (delivery->bytes);
  g_free (delivery);
}

static void
deliver_failure (gpointer data)
{
  StreamDelivery *delivery = data;
  SimStream *stream = delivery->stream;

  if (stream->finished)
    return;
  stream_finish (stream);
  if (stream->callbacks.failed != NULL)
    stream->callbacks.failed (stream, delivery->error, stream->user_data);
}

static void
schedule_failure (SimStream *stream, SimTime at, SimStreamError error)
{
  StreamDelivery *delivery = delivery_new (stream, NULL);

  delivery->error = error;
  sim_scheduler_at (stream->node->network->scheduler, at, deliver_failure, delivery, delivery_free);
}

static void
deliver_connected (gpointer data)
{
  StreamDelivery *delivery = data;
  SimStream *stream = delivery->stream;

  if (stream->finished)
    return;
  stream->open = TRUE;
  if (stream->callbacks.connected != NULL)
    stream->callbacks.connected (stream, stream->user_data);
}

static void
deliver_syn (gpointer data)
{
  StreamDelivery *delivery = data;
  SimStream *client = delivery->stream;
  SimConnection *connection = client->connection;
  SimNetwork *network = client->node->network;
  SimNode *server_node = connection->server_node;
  SimTime now = sim_scheduler_now (network->scheduler);
  SimListener *listener;
  SimStream *server;

  if (client->finished)
    return;
  if (!server_node->up || !links_all_up (connection->links))
    {
      /* The SYN never reached a live host: the client hears nothing and
       * gives up when its connect timer runs out. */
      emit_transmission (network, SIM_EVENT_LOST, client->node, client->port, server_node, 0,
                         connection->server_port, now, connection->id, TRUE, "tcp", "tcp.lost",
                         NULL, connection->path, "SYN lost: the host does not answer");
      schedule_failure (client, now + SIM_TCP_CONNECT_TIMEOUT - connection->latency, SIM_STREAM_UNREACHABLE);
      return;
    }
  listener = find_listener (server_node->listeners, connection->server_port);
  if (listener == NULL)
    {
      /* RFC 9293 3.10.7.1: a SYN to a closed port is answered with RST. */
      emit_transmission (network, SIM_EVENT_REFUSED, server_node, connection->server_port,
                         client->node, 0, client->port, now + connection->latency,
                         connection->id, FALSE, "tcp", "tcp.refused", NULL, connection->back_path,
                         "RST: nothing listens on that port");
      schedule_failure (client, now + connection->latency, SIM_STREAM_REFUSED);
      return;
    }
  server = stream_new (connection, server_node, connection->server_port, FALSE);
  server->peer = client;
  client->peer = server;
  server->open = TRUE;
  server->last_arrival = now;
  emit_transmission (network, SIM_EVENT_ACCEPT, server_node, connection->server_port, client->node, 0,
                     client->port, now + connection->latency, connection->id, FALSE, "tcp",
                     "tcp.accept", NULL, connection->back_path, "SYN-ACK: connection accepted");
  sim_scheduler_at (network->scheduler, now + connection->latency, deliver_connected,
                    delivery_new (client, NULL), delivery_free);
  listener->accept (server, listener->user_data);
}

SimStream *
sim_network_connect (SimNetwork *self, SimNode *from, guint32 address, guint16 port,
                     const SimStreamCallbacks *callbacks, gpointer user_data)
{
  SimConnection *connection = g_new0 (SimConnection, 1);
  SimNode *to = sim_network_find_node_by_address (self, address);
  SimStream *client;
  SimTime now = sim_scheduler_now (self->scheduler);
  SimListener *listener = to != NULL ? find_listener (to->listeners, port) : NULL;
  char text[16];

  connection->id = self->next_connection++;
  connection->protocol = listener != NULL ? listener->protocol : "tcp";
  connection->server_node = to;
  connection->server_port = port;
  client = stream_new (connection, from, sim_node_allocate_port (from), TRUE);
  sim_stream_set_handler (client, callbacks, user_data);
  client->last_arrival = now;

  if (to == NULL || !compute_route (self, from, to, &connection->path, &connection->links, &connection->latency))
    {
      connection->path = g_ptr_array_new ();
      g_ptr_array_add (connection->path, from->name);
      if (to != NULL)
        g_ptr_array_add (connection->path, to->name);
      connection->back_path = g_ptr_array_new ();
      connection->links = g_ptr_array_new ();
      emit_transmission (self, SIM_EVENT_UNREACHABLE, from, client->port, to, address, port, now,
                         connection->id, TRUE, "tcp", "tcp.unreachable", NULL, connection->path,
                         unreachable_reason (self, from, to));
      schedule_failure (client, now + SIM_TCP_CONNECT_TIMEOUT, SIM_STREAM_UNREACHABLE);
      return client;
    }
  connection->back_path = g_ptr_array_copy (connection->path, NULL, NULL);
  for (guint i = 0; i < connection->back_path->len / 2; i++)
    {
      gpointer *pdata = connection->back_path->pdata;
      guint j = connection->back_path->len - 1 - i;
      gpointer tmp = pdata[i];
      pdata[i] = pdata[j];
      pdata[j] = tmp;
    }
  emit_transmission (self, SIM_EVENT_CONNECT, from, client->port, to, 0, port, now + connection->latency,
                     connection->id, TRUE, connection->protocol, "tcp.connect", NULL, connection->path,
                     sim_address_to_string (address, text));
  sim_scheduler_at (self->scheduler, now + connection->latency, deliver_syn,
                    delivery_new (client, NULL), delivery_free);
  return client;
}

void
sim_stream_set_handler (SimStream *stream, const SimStreamCallbacks *callbacks, gpointer user_data)
{
  if (callbacks != NULL)
    stream->callbacks = *callbacks;
  else
    memset (&stream->callbacks, 0, sizeof stream->callbacks);
  stream->user_data = user_data;
}

static void
deliver_data (gpointer data)
{
  StreamDelivery *delivery = data;
  SimStream *stream = delivery->stream;
  gsize len;
  const guint8 *bytes;

  if (stream->finished || stream->callbacks.received == NULL)
    return;
  bytes = g_bytes_get_data (delivery->bytes, &len);
  stream->callbacks.received (stream, bytes, len, stream->user_data);
}

static void
deliver_fin (gpointer data)
{
  StreamDelivery *delivery = data;
  SimStream *stream = delivery->stream;

  if (stream->finished)
    return;
  if (stream->closed_local)
    {
      /* Both sides have now closed. */
      stream_finish (stream);
      return;
    }
  if (stream->callbacks.closed != NULL)
    stream->callbacks.closed (stream, stream->user_data);
}

/* Arrival time for the next segment from @stream: after the latency, and
 * never before an earlier segment of the same direction. */
static SimTime
next_arrival (SimStream *stream)
{
  SimTime arrival = sim_scheduler_now (stream->node->network->scheduler) + stream->connection->latency;

  if (arrival < stream->last_arrival)
    arrival = stream->last_arrival;
  stream->last_arrival = arrival;
  return arrival;
}

static void
break_connection (SimStream *stream)
{
  SimNetwork *network = stream->node->network;
  SimTime now = sim_scheduler_now (network->scheduler);

  /* The segment is lost; retransmissions go unanswered until the sender
   * gives up.  The peer notices only through its own timers. */
  schedule_failure (stream, now + SIM_TCP_RETRANSMIT_TIMEOUT, SIM_STREAM_RESET);
}

void
sim_stream_write (SimStream *stream, const guint8 *data, gsize len, const char *explain_key)
{
  SimConnection *connection = stream->connection;
  SimNetwork *network = stream->node->network;
  GPtrArray *path = stream->is_client ? connection->path : connection->back_path;
  SimNode *to;
  g_autoptr (GBytes) bytes = NULL;
  SimTime arrival;

  if (stream->closed_local || stream->peer == NULL || len == 0)
    return;
  to = stream->peer->node;
  bytes = g_bytes_new (data, len);
  if (!links_all_up (connection->links) || !to->up || !stream->node->up)
    {
      emit_transmission (network, SIM_EVENT_LOST, stream->node, stream->port, to, 0, stream->peer->port,
                         sim_scheduler_now (network->scheduler), connection->id, stream->is_client,
                         connection->protocol, explain_key, bytes, path,
                         "segment lost: the path is broken");
      break_connection (stream);
      stream->closed_local = TRUE;
      return;
    }
  /* A segment lost on a lossy link is sent again after TCP's
   * retransmission timeout, doubled at each further loss (RFC 6298 5.5):
   * the bytes arrive late, never out of order and never twice. */
  SimTime delay = 0, timeout = SIM_TCP_RETRANSMIT_FIRST;
  for (guint tries = 0; tries < SIM_TCP_MAX_RETRANSMITS; tries++)
    {
      SimLink *lossy = draw_loss (network, connection->links);
      if (lossy == NULL)
        break;
      g_autofree char *wait = sim_time_to_string (timeout);
      g_autofree char *text = g_strdup_printf ("segment lost on the link %s - %s; TCP sends it again after %s",
                                               lossy->a->name, lossy->b->name, wait);
      emit_transmission_full (network, SIM_EVENT_LOST, stream->node, stream->port, to, 0, stream->peer->port,
                              sim_scheduler_now (network->scheduler) + delay, connection->id, stream->is_client,
                              connection->protocol, "tcp.retransmit", bytes, path, text, stream->encrypted);
      delay += timeout;
      timeout *= 2;
    }
  arrival = next_arrival (stream) + delay;
  if (delay > 0)
    stream->last_arrival = arrival;
  emit_transmission_full (network, SIM_EVENT_DATA, stream->node, stream->port, to, 0, stream->peer->port,
                          arrival, connection->id, stream->is_client, connection->protocol, explain_key,
                          bytes, path, NULL, stream->encrypted);
  notify_taps (network, connection->links, stream->node, to, connection->protocol, bytes, stream->encrypted);
  sim_scheduler_at (network->scheduler, arrival, deliver_data,
                    delivery_new (stream->peer, bytes), delivery_free);
}

void
sim_stream_close (SimStream *stream)
{
  SimConnection *connection = stream->connection;
  SimNetwork *network = stream->node->network;

  if (stream->closed_local)
    {
      if (!stream->finished && stream->peer == NULL)
        stream_finish (stream);
      return;
    }
  stream->closed_local = TRUE;
  memset (&stream->callbacks, 0, sizeof stream->callbacks);
  if (stream->peer == NULL || !stream->open)
    {
      stream_finish (stream);
      return;
    }
  SimTime arrival = next_arrival (stream);
  emit_transmission (network, SIM_EVENT_CLOSE, stream->node, stream->port, stream->peer->node, 0,
                     stream->peer->port, arrival, connection->id, stream->is_client, connection->protocol,
                     "tcp.close", NULL, stream->is_client ? connection->path : connection->back_path, "FIN");
  sim_scheduler_at (network->scheduler, arrival, deliver_fin, delivery_new (stream->peer, NULL), delivery_free);
  /* The peer's FIN (or the end of the run) finishes this side; if the peer
   * already closed, this side is done now. */
  if (stream->peer->closed_local)
    stream_finish (stream);
}

static void
stream_transport_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  sim_stream_write (impl, data, len, explain_key);
}

static void
stream_transport_close (gpointer impl)
{
  sim_stream_close (impl);
}

static void
stream_transport_start_tls (gpointer impl)
{
  sim_stream_start_tls (impl);
}

void
sim_stream_start_tls (SimStream *stream)
{
  stream->encrypted = TRUE;
}

gboolean
sim_stream_is_encrypted (SimStream *stream)
{
  return stream->encrypted;
}

SimTransport *
sim_stream_get_transport (SimStream *stream)
{
  return &stream->transport;
}

SimNode *
sim_stream_get_node (SimStream *stream)
{
  return stream->node;
}

SimNode *
sim_stream_get_peer_node (SimStream *stream)
{
  return stream->peer != NULL ? stream->peer->node : stream->connection->server_node;
}

guint32
sim_stream_get_peer_address (SimStream *stream)
{
  SimNode *peer = sim_stream_get_peer_node (stream);
  return peer != NULL ? peer->address : 0;
}

guint64
sim_stream_get_id (SimStream *stream)
{
  return stream->connection->id;
}

const char *
sim_stream_get_protocol (SimStream *stream)
{
  return stream->connection->protocol;
}

void
sim_node_set_up (SimNode *node, gboolean up)
{
  SimNetwork *network = node->network;
  SimTime now = sim_scheduler_now (network->scheduler);

  if (node->up == up)
    return;
  node->up = up;
  if (up)
    return;
  /* A crashed host loses every connection: its own side is gone at once and
   * each peer learns of it when it next hears from the host (modelled as a
   * reset after one path latency). */
  while (node->streams->len > 0)
    {
      SimStream *stream = sim_stream_ref (g_ptr_array_index (node->streams, node->streams->len - 1));
      SimStream *peer = stream->peer;
      SimStreamCallbacks callbacks = stream->callbacks;
      if (peer != NULL && !peer->finished)
        schedule_failure (peer, now + stream->connection->latency, SIM_STREAM_RESET);
      stream_finish (stream);
      /* The node's own programs lose the connection too: their session
       * objects must let go of the stream (a restarted MTA keeps its queue,
       * not its connections). */
      if (callbacks.failed != NULL)
        callbacks.failed (stream, SIM_STREAM_RESET, stream->user_data);
      sim_stream_unref (stream);
    }
}

/* ---- datagrams ---- */

typedef struct
{
  SimNode *to;
  guint32 from_address;
  guint16 from_port;
  guint16 to_port;
  GBytes *payload;
} DatagramDelivery;

static void
datagram_delivery_free (gpointer data)
{
  DatagramDelivery *delivery = data;

  g_bytes_unref (delivery->payload);
  g_free (delivery);
}

static void
deliver_datagram (gpointer data)
{
  DatagramDelivery *delivery = data;
  SimListener *binding;

  if (!delivery->to->up)
    return;
  binding = find_listener (delivery->to->bindings, delivery->to_port);
  if (binding == NULL)
    return;
  binding->receive (delivery->to, delivery->from_address, delivery->from_port, delivery->to_port,
                    delivery->payload, binding->user_data);
}

void
sim_network_send_datagram (SimNetwork *self, SimNode *from, guint16 from_port, guint32 to_address,
                           guint16 to_port, const char *protocol, GBytes *payload, const char *explain_key)
{
  SimNode *to = sim_network_find_node_by_address (self, to_address);
  SimTime now = sim_scheduler_now (self->scheduler);
  g_autoptr (GPtrArray) path = NULL;
  SimTime latency = 0;
  DatagramDelivery *delivery;

  g_autoptr (GPtrArray) links = NULL;

  if (to == NULL || !compute_route (self, from, to, &path, &links, &latency))
    {
      g_autoptr (GPtrArray) stub = g_ptr_array_new ();
      g_autofree char *datagram_reason = NULL;
      g_ptr_array_add (stub, from->name);
      emit_transmission (self, SIM_EVENT_LOST, from, from_port, to, to_address, to_port, now, 0, TRUE,
                         protocol, explain_key, payload, stub,
                         datagram_reason = g_strconcat ("datagram lost: ", unreachable_reason (self, from, to), NULL));
      return;
    }
  SimLink *lossy = draw_loss (self, links);
  if (lossy != NULL)
    {
      /* UDP does not retransmit: the sender's own timer must notice. */
      g_autofree char *text = g_strdup_printf ("datagram lost on the link %s - %s", lossy->a->name, lossy->b->name);
      emit_transmission (self, SIM_EVENT_LOST, from, from_port, to, to_address, to_port, now, 0, TRUE, protocol,
                         explain_key, payload, path, text);
      return;
    }
  emit_transmission (self, SIM_EVENT_DATAGRAM, from, from_port, to, to_address, to_port, now + latency, 0,
                     TRUE, protocol, explain_key, payload, path, NULL);
  notify_taps (self, links, from, to, protocol, payload, FALSE);
  delivery = g_new0 (DatagramDelivery, 1);
  delivery->to = to;
  delivery->from_address = from->address;
  delivery->from_port = from_port;
  delivery->to_port = to_port;
  delivery->payload = g_bytes_ref (payload);
  sim_scheduler_at (self->scheduler, now + latency, deliver_datagram, delivery, datagram_delivery_free);
}
