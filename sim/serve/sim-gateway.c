/* sim-gateway.c: bridges real TCP/UDP sockets to simulated nodes. */
#include "serve/sim-gateway.h"

#include <string.h>

#include "net/sim-network.h"
#include "nodes/sim-external.h"
#include "trace/sim-explain.h"

#define GATEWAY_LINK_LATENCY SIM_TIME_MSEC
#define GATEWAY_READ_CHUNK 16384
#define DNS_PORT 53
/* A DNS query from outside that gets no answer is forgotten after this. */
#define GATEWAY_DNS_TIMEOUT (30 * SIM_TIME_SECOND)

struct _SimGateway
{
  SimWorld *world;
  SimNetwork *network;
  SimLive *live;
  GInetAddress *bind_address;
  SimNode *router;
  SimNode *dns_client;
  GPtrArray *services;      /* GSocketService* */
  GPtrArray *udp_sockets;   /* UdpEndpoint* */
  GPtrArray *connections;   /* GatewayConnection* */
  GPtrArray *free_nodes;    /* SimNode*: client nodes whose connection ended, for reuse */
  guint next_client;
  guint total_connections;
  SimExternal *external;
  GString *topology;        /* recorded node and link declarations, or NULL */
  GPtrArray *exchanges;     /* DnsExchange* waiting for an answer */
};

typedef struct
{
  SimGateway *gateway;
  const char *protocol;   /* "smtp", "pop3", "imap", "dns" (static) */
  SimNode *target;
  guint16 target_port;
} StreamService;

typedef struct
{
  SimGateway *gateway;
  const StreamService *service;
  guint id;                  /* the outside client's number in SimExternal */
  GSocketConnection *connection;
  GSocket *socket;
  GSource *read_source;
  GSource *write_source;
  GByteArray *pending_out;   /* to the real client */
  GByteArray *pending_in;    /* DNS over TCP: bytes of an incomplete frame */
  SimNode *node;
  gboolean sim_closed;       /* the simulated side is gone */
  gboolean dns;              /* DNS over TCP: framed queries become datagrams */
  GPtrArray *exchanges;      /* DnsExchange* answered over this connection */
} GatewayConnection;

typedef struct
{
  SimGateway *gateway;
  GSocket *socket;
  GSource *source;
  SimNode *target;
} UdpEndpoint;

/* ---- helpers ---- */

static void connection_close (GatewayConnection *conn);

static SimNode *
ensure_router (SimGateway *self)
{
  if (self->router == NULL)
    {
      guint32 address;
      sim_address_parse ("198.18.0.1", &address);
      /* 198.18.0.0/15 is reserved for benchmarking (RFC 2544): it never
       * collides with a scenario's documentation addresses. */
      self->router = sim_network_add_node (self->network, "gateway", address, NULL);
      sim_world_add_router (self->world, self->router);
      if (self->topology != NULL)
        g_string_append (self->topology, "node gateway { kind router; address 198.18.0.1 }\n");
    }
  return self->router;
}

static void
link_to_target (SimGateway *self, SimNode *target)
{
  SimNode *router = ensure_router (self);

  if (sim_network_find_link (self->network, router, target) == NULL)
    {
      sim_network_add_link (self->network, router, target, GATEWAY_LINK_LATENCY, NULL);
      if (self->topology != NULL)
        g_string_append_printf (self->topology, "link gateway %s latency 1ms\n", sim_node_get_name (target));
    }
}

static SimNode *
take_client_node (SimGateway *self)
{
  SimNode *node;
  g_autofree char *name = NULL;
  guint n;

  if (self->free_nodes->len > 0)
    return g_ptr_array_steal_index (self->free_nodes, self->free_nodes->len - 1);
  n = ++self->next_client;
  name = g_strdup_printf ("real-client-%u", n);
  /* 198.18.1.0 onwards, one address per client node. */
  node = sim_network_add_node (self->network, name, (198u << 24) | (18u << 16) | (256u + n), NULL);
  ensure_router (self);
  if (self->topology != NULL)
    {
      char address[16];
      g_string_append_printf (self->topology, "node %s { kind external; address %s }\nlink %s gateway latency 1ms\n",
                              name, sim_address_to_string (sim_node_get_address (node), address), name);
    }
  sim_network_add_link (self->network, node, self->router, GATEWAY_LINK_LATENCY, NULL);
  return node;
}

/* ---- simulated side ---- */

static gboolean flush_out (GatewayConnection *conn);

static gboolean
on_socket_writable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  GatewayConnection *conn = user_data;

  g_source_unref (conn->write_source);
  conn->write_source = NULL;
  flush_out (conn);
  return G_SOURCE_REMOVE;
}

/* Sends what the real client can take now; TRUE while the connection lives. */
static gboolean
flush_out (GatewayConnection *conn)
{
  while (conn->pending_out->len > 0)
    {
      g_autoptr (GError) error = NULL;
      gssize sent = g_socket_send (conn->socket, (const char *) conn->pending_out->data,
                                   conn->pending_out->len, NULL, &error);
      if (sent < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          if (conn->write_source == NULL)
            {
              conn->write_source = g_socket_create_source (conn->socket, G_IO_OUT, NULL);
              g_source_set_callback (conn->write_source, (GSourceFunc) (GCallback) on_socket_writable, conn, NULL);
              g_source_attach (conn->write_source, g_main_context_get_thread_default ());
            }
          return TRUE;
        }
      if (sent <= 0)
        {
          connection_close (conn);
          return FALSE;
        }
      g_byte_array_remove_range (conn->pending_out, 0, (guint) sent);
    }
  if (conn->sim_closed)
    {
      connection_close (conn);
      return FALSE;
    }
  return TRUE;
}

static void
external_output (gpointer user_data, const guint8 *data, gsize len)
{
  GatewayConnection *conn = user_data;

  if (conn->pending_out->len + len > SIM_GATEWAY_MAX_PENDING)
    {
      /* The real client does not read: drop it, keep serving the others. */
      connection_close (conn);
      return;
    }
  g_byte_array_append (conn->pending_out, data, (guint) len);
  flush_out (conn);
}

static void
external_ended (gpointer user_data)
{
  GatewayConnection *conn = user_data;

  conn->sim_closed = TRUE;
  flush_out (conn);
}

/* ---- real side ---- */

static void dns_forward_tcp (GatewayConnection *conn);

static gboolean
on_socket_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  GatewayConnection *conn = user_data;
  SimGateway *self = conn->gateway;
  guint8 buffer[GATEWAY_READ_CHUNK];
  g_autoptr (GError) error = NULL;
  gssize received;

  sim_live_sync (self->live);
  received = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);
  if (received < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (received <= 0 || (conn->dns && conn->pending_in->len + (gsize) received > SIM_GATEWAY_MAX_PENDING))
    {
      /* The real client closed, vanished mid-command, or flooded us. */
      connection_close (conn);
      sim_live_sync (self->live);
      return G_SOURCE_REMOVE;
    }
  if (conn->dns)
    {
      g_byte_array_append (conn->pending_in, buffer, (guint) received);
      dns_forward_tcp (conn);
    }
  else
    sim_external_input (self->external, conn->id, buffer, (gsize) received);
  sim_live_sync (self->live);
  return G_SOURCE_CONTINUE;
}

static void dns_exchange_detach (gpointer exchange, gpointer unused);

static void
connection_free (GatewayConnection *conn)
{
  if (conn->read_source != NULL)
    {
      g_source_destroy (conn->read_source);
      g_source_unref (conn->read_source);
    }
  if (conn->write_source != NULL)
    {
      g_source_destroy (conn->write_source);
      g_source_unref (conn->write_source);
    }
  if (!conn->dns)
    {
      /* Tell the simulated server, with a FIN, that its client left. */
      sim_external_close (conn->gateway->external, conn->id);
    }
  g_ptr_array_foreach (conn->exchanges, dns_exchange_detach, NULL);
  g_ptr_array_unref (conn->exchanges);
  g_io_stream_close (G_IO_STREAM (conn->connection), NULL, NULL);
  g_object_unref (conn->connection);
  g_byte_array_unref (conn->pending_out);
  g_byte_array_unref (conn->pending_in);
  g_free (conn);
}

static void
connection_close (GatewayConnection *conn)
{
  SimGateway *self = conn->gateway;

  if (!g_ptr_array_remove (self->connections, conn))
    return;
  if (conn->node != NULL)
    g_ptr_array_add (self->free_nodes, conn->node);
  connection_free (conn);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source_object, gpointer user_data)
{
  StreamService *info = user_data;
  SimGateway *self = info->gateway;
  GatewayConnection *conn;

  if (self->connections->len >= SIM_GATEWAY_MAX_CONNECTIONS)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  sim_live_sync (self->live);
  conn = g_new0 (GatewayConnection, 1);
  conn->gateway = self;
  conn->service = info;
  conn->connection = g_object_ref (connection);
  conn->socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (conn->socket, FALSE);
  conn->pending_out = g_byte_array_new ();
  conn->pending_in = g_byte_array_new ();
  conn->exchanges = g_ptr_array_new ();
  conn->dns = g_str_equal (info->protocol, "dns");
  g_ptr_array_add (self->connections, conn);
  self->total_connections++;
  conn->read_source = g_socket_create_source (conn->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (conn->read_source, (GSourceFunc) (GCallback) on_socket_readable, conn, NULL);
  g_source_attach (conn->read_source, g_main_context_get_thread_default ());
  if (!conn->dns)
    {
      conn->node = take_client_node (self);
      conn->id = self->total_connections;
      sim_external_connect (self->external, conn->id, conn->node, info->target, info->target_port, info->protocol,
                            external_output, external_ended, conn);
    }
  sim_live_sync (self->live);
  return TRUE;
}

static GSocketService *
listen_on (SimGateway *self, guint16 port, guint16 *bound_port, GError **error)
{
  g_autoptr (GSocketService) service = g_socket_service_new ();
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (self->bind_address, port);
  g_autoptr (GSocketAddress) effective = NULL;

  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    return NULL;
  *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  return g_steal_pointer (&service);
}

gboolean
sim_gateway_add_stream (SimGateway *self, const char *protocol, guint16 port, SimNode *target,
                        guint16 target_port, guint16 *bound_port, GError **error)
{
  StreamService *info = g_new0 (StreamService, 1);
  GSocketService *service = listen_on (self, port, bound_port, error);

  if (service == NULL)
    {
      g_free (info);
      return FALSE;
    }
  info->gateway = self;
  info->protocol = g_intern_string (protocol);
  info->target = target;
  info->target_port = target_port;
  link_to_target (self, target);
  g_signal_connect_data (service, "incoming", G_CALLBACK (on_incoming), info, (GClosureNotify) (GCallback) g_free, 0);
  g_socket_service_start (service);
  g_ptr_array_add (self->services, service);
  return TRUE;
}

/* ---- DNS ---- */

typedef struct
{
  SimGateway *gateway;
  guint16 sim_port;
  GSocket *udp_socket;             /* answer over UDP to reply_address... */
  GSocketAddress *reply_address;
  GatewayConnection *tcp;          /* ...or over this TCP connection */
  SimEventId timeout;
} DnsExchange;

static void
dns_exchange_detach (gpointer data, gpointer unused)
{
  DnsExchange *exchange = data;
  exchange->tcp = NULL;
}

static void
dns_exchange_free (DnsExchange *exchange)
{
  SimScheduler *scheduler = sim_world_get_scheduler (exchange->gateway->world);

  if (exchange->tcp != NULL)
    g_ptr_array_remove (exchange->tcp->exchanges, exchange);
  g_ptr_array_remove (exchange->gateway->exchanges, exchange);
  sim_scheduler_cancel (scheduler, &exchange->timeout);
  sim_node_unbind_datagram (exchange->gateway->dns_client, exchange->sim_port);
  g_clear_object (&exchange->reply_address);
  g_clear_object (&exchange->udp_socket);
  g_free (exchange);
}

static void
dns_exchange_expired (gpointer data)
{
  DnsExchange *exchange = data;

  exchange->timeout = 0;
  dns_exchange_free (exchange);
}

static void
dns_answer (SimNode *node, guint32 from_address, guint16 from_port, guint16 to_port,
            GBytes *payload, gpointer user_data)
{
  DnsExchange *exchange = user_data;
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  GatewayConnection *tcp = exchange->tcp;

  if (exchange->udp_socket != NULL)
    g_socket_send_to (exchange->udp_socket, exchange->reply_address, data, len, NULL, NULL);
  dns_exchange_free (exchange);
  if (tcp != NULL && len <= G_MAXUINT16)
    {
      /* RFC 1035 4.2.2: over TCP each message is prefixed by its length. */
      guint8 prefix[2] = { (guint8) (len >> 8), (guint8) (len & 0xff) };
      g_byte_array_append (tcp->pending_out, prefix, 2);
      g_byte_array_append (tcp->pending_out, (const guint8 *) data, (guint) len);
      flush_out (tcp);
    }
}

static void
dns_forward (SimGateway *self, SimNode *target, GSocket *socket, GSocketAddress *from,
             GatewayConnection *tcp, const guint8 *data, gsize len)
{
  DnsExchange *exchange = g_new0 (DnsExchange, 1);
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);

  exchange->gateway = self;
  exchange->sim_port = sim_node_allocate_port (self->dns_client);
  exchange->udp_socket = socket != NULL ? g_object_ref (socket) : NULL;
  exchange->reply_address = from != NULL ? g_object_ref (from) : NULL;
  exchange->tcp = tcp;
  if (tcp != NULL)
    g_ptr_array_add (tcp->exchanges, exchange);
  g_ptr_array_add (self->exchanges, exchange);
  sim_node_bind_datagram (self->dns_client, exchange->sim_port, "dns", dns_answer, exchange);
  exchange->timeout = sim_scheduler_after (sim_world_get_scheduler (self->world), GATEWAY_DNS_TIMEOUT,
                                           dns_exchange_expired, exchange, NULL);
  sim_external_datagram (self->external, self->dns_client, exchange->sim_port, target, DNS_PORT, bytes);
}

static gboolean
on_udp_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  UdpEndpoint *endpoint = user_data;
  guint8 buffer[65536];
  g_autoptr (GSocketAddress) from = NULL;
  gssize received;

  sim_live_sync (endpoint->gateway->live);
  received = g_socket_receive_from (socket, &from, (char *) buffer, sizeof buffer, NULL, NULL);
  if (received > 0)
    dns_forward (endpoint->gateway, endpoint->target, socket, from, NULL, buffer, (gsize) received);
  sim_live_sync (endpoint->gateway->live);
  return G_SOURCE_CONTINUE;
}

/* Forwards each whole length-prefixed query received over TCP. */
static void
dns_forward_tcp (GatewayConnection *conn)
{
  while (conn->pending_in->len >= 2)
    {
      gsize length = ((gsize) conn->pending_in->data[0] << 8) | conn->pending_in->data[1];
      if (conn->pending_in->len < 2 + length)
        return;
      if (length > 0)
        dns_forward (conn->gateway, conn->service->target, NULL, NULL, conn, conn->pending_in->data + 2, length);
      g_byte_array_remove_range (conn->pending_in, 0, (guint) (2 + length));
    }
}

gboolean
sim_gateway_add_dns (SimGateway *self, guint16 port, SimNode *target, guint16 *bound_port, GError **error)
{
  g_autoptr (GSocket) socket = g_socket_new (g_inet_address_get_family (self->bind_address), G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, error);
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  UdpEndpoint *endpoint;
  guint16 tcp_port;

  if (socket == NULL)
    return FALSE;
  address = g_inet_socket_address_new (self->bind_address, port);
  if (!g_socket_bind (socket, address, TRUE, error))
    return FALSE;
  local = g_socket_get_local_address (socket, error);
  if (local == NULL)
    return FALSE;
  *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_socket_set_blocking (socket, FALSE);
  if (self->dns_client == NULL)
    {
      guint32 client_address;
      sim_address_parse ("198.18.0.2", &client_address);
      self->dns_client = sim_network_add_node (self->network, "real-dns-client", client_address, NULL);
      ensure_router (self);
      if (self->topology != NULL)
        g_string_append (self->topology, "node real-dns-client { kind external; address 198.18.0.2 }\n"
                                         "link real-dns-client gateway latency 1ms\n");
      sim_network_add_link (self->network, self->dns_client, self->router, GATEWAY_LINK_LATENCY, NULL);
    }
  link_to_target (self, target);
  endpoint = g_new0 (UdpEndpoint, 1);
  endpoint->gateway = self;
  endpoint->socket = g_object_ref (socket);
  endpoint->target = target;
  endpoint->source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (endpoint->source, (GSourceFunc) (GCallback) on_udp_readable, endpoint, NULL);
  g_source_attach (endpoint->source, g_main_context_get_thread_default ());
  g_ptr_array_add (self->udp_sockets, endpoint);
  /* RFC 7766: DNS over TCP on the same port, two-octet length prefix. */
  return sim_gateway_add_stream (self, "dns", *bound_port, target, DNS_PORT, &tcp_port, error);
}

/* ---- construction ---- */

static void
udp_endpoint_free (UdpEndpoint *endpoint)
{
  g_source_destroy (endpoint->source);
  g_source_unref (endpoint->source);
  g_object_unref (endpoint->socket);
  g_free (endpoint);
}

static void
service_free (GSocketService *service)
{
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_object_unref (service);
}

SimGateway *
sim_gateway_new (SimWorld *world, SimLive *live, GInetAddress *bind_address)
{
  SimGateway *self = g_new0 (SimGateway, 1);

  self->world = world;
  self->network = sim_world_get_network (world);
  self->live = live;
  self->bind_address = g_object_ref (bind_address);
  self->services = g_ptr_array_new_with_free_func ((GDestroyNotify) service_free);
  self->udp_sockets = g_ptr_array_new_with_free_func ((GDestroyNotify) udp_endpoint_free);
  self->connections = g_ptr_array_new ();
  self->free_nodes = g_ptr_array_new ();
  self->exchanges = g_ptr_array_new ();
  self->external = sim_external_get (world);
  return self;
}

void
sim_gateway_free (SimGateway *self)
{
  if (self == NULL)
    return;
  while (self->connections->len > 0)
    connection_close (g_ptr_array_index (self->connections, self->connections->len - 1));
  /* Queries still waiting for an answer when the server stops. */
  while (self->exchanges->len > 0)
    dns_exchange_free (g_ptr_array_index (self->exchanges, self->exchanges->len - 1));
  g_ptr_array_unref (self->exchanges);
  g_ptr_array_unref (self->connections);
  g_ptr_array_unref (self->free_nodes);
  g_ptr_array_unref (self->services);
  g_ptr_array_unref (self->udp_sockets);
  g_object_unref (self->bind_address);
  g_free (self);
}

void
sim_gateway_record (SimGateway *self, GString *topology, GString *timeline)
{
  self->topology = topology;
  sim_external_set_recorder (self->external, timeline);
}

guint
sim_gateway_get_open_connections (SimGateway *self)
{
  return self->connections->len;
}

guint
sim_gateway_get_total_connections (SimGateway *self)
{
  return self->total_connections;
}
