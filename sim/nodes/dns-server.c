/* dns-server.c: authoritative name server node (and recursive resolver). */
#include "nodes/dns-server.h"


struct _DnsServer
{
  SimNode *node;
  GPtrArray *zones;
  DnsResolver *resolver;   /* NULL: authoritative only */
  GPtrArray *connections;  /* DnsServerConnection *, the TCP clients */
};

/* One TCP client (RFC 7766 6.2.1: it may send several queries, and get
 * the answers in any order). */
typedef struct
{
  DnsServer *server;
  SimStream *stream;       /* NULL once this side closed or the stream failed */
  GByteArray *input;       /* received bytes not yet making a whole message */
  guint answers_pending;   /* questions handed to the resolver, not answered yet */
  gboolean peer_closed;
} DnsServerConnection;

GBytes *
dns_server_frame_tcp (GBytes *message)
{
  gsize len = g_bytes_get_size (message);
  GByteArray *framed = g_byte_array_sized_new ((guint) (len + DNS_TCP_LENGTH_SIZE));
  guint8 prefix[DNS_TCP_LENGTH_SIZE] = { (guint8) (len >> 8), (guint8) len };

  g_return_val_if_fail (len <= DNS_MAX_MESSAGE, NULL);
  g_byte_array_append (framed, prefix, sizeof prefix);
  g_byte_array_append (framed, g_bytes_get_data (message, NULL), (guint) len);
  return g_byte_array_free_to_bytes (framed);
}

GBytes *
dns_server_take_tcp_message (GByteArray *input)
{
  if (input->len < DNS_TCP_LENGTH_SIZE)
    return NULL;
  gsize len = ((gsize) input->data[0] << 8) | input->data[1];
  if (input->len - DNS_TCP_LENGTH_SIZE < len)
    return NULL;
  GBytes *message = g_bytes_new (input->data + DNS_TCP_LENGTH_SIZE, len);
  g_byte_array_remove_range (input, 0, (guint) (len + DNS_TCP_LENGTH_SIZE));
  return message;
}

static void
answer_query (DnsServer *self, guint32 from_address, guint16 from_port, const DnsMessage *query)
{
  SimNetwork *network = sim_node_get_network (self->node);
  g_autoptr (DnsMessage) response = dns_zones_answer (self->zones, query);
  g_autoptr (GBytes) bytes = dns_message_encode (response, dns_message_max_udp_response (query));
  g_autoptr (DnsMessage) sent = dns_message_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL);

  sim_network_send_datagram (network, self->node, DNS_SERVER_PORT, from_address, from_port, "dns", bytes,
                             dns_message_explain_key (sent != NULL ? sent : response));
}

static void
receive_query (SimNode *node, guint32 from_address, guint16 from_port, guint16 to_port,
               GBytes *payload, gpointer user_data)
{
  DnsServer *self = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  g_autoptr (GError) error = NULL;
  g_autoptr (DnsMessage) query = dns_message_decode (data, len, &error);
  guint16 id, flags;

  if (query == NULL)
    {
      /* RFC 1035 4.1.1: FORMERR to a query whose header can be read; the
       * rest is dropped. */
      if (dns_message_peek_header (data, len, &id, &flags) && !(flags & 0x8000))
        {
          g_autoptr (DnsMessage) response = dns_message_new ();
          response->id = id;
          response->qr = TRUE;
          response->rcode = DNS_RCODE_FORMERR;
          g_autoptr (GBytes) bytes = dns_message_encode (response, DNS_UDP_MAX_PLAIN);
          sim_network_send_datagram (sim_node_get_network (node), node, DNS_SERVER_PORT, from_address,
                                     from_port, "dns", bytes, "dns.response.formerr");
        }
      return;
    }
  if (query->qr)
    return;
  /* RFC 1034 4.3.1: recursion is offered to those who ask for it (RD). */
  if (query->rd && self->resolver != NULL)
    {
      dns_resolver_handle_query (self->resolver, from_address, from_port, query);
      return;
    }
  answer_query (self, from_address, from_port, query);
}

/* ---- TCP (RFC 1035 4.2.2, RFC 7766) ---- */

static void
connection_free (DnsServerConnection *connection)
{
  DnsServer *self = connection->server;

  /* Freed with the server at the end of the run: let the stream go
   * without a FIN, and tell the resolver nobody waits any more. */
  if (connection->stream != NULL)
    sim_stream_set_handler (connection->stream, NULL, NULL);
  if (self->resolver != NULL)
    dns_resolver_forget_client (self->resolver, connection);
  g_byte_array_unref (connection->input);
  g_free (connection);
}

static void
connection_close (DnsServerConnection *connection)
{
  if (connection->stream != NULL)
    sim_stream_close (g_steal_pointer (&connection->stream));
  g_ptr_array_remove (connection->server->connections, connection);
}

static void
connection_send (DnsServerConnection *connection, const DnsMessage *response, const char *explain_key)
{
  /* A TCP answer is never cut: it may be up to 65535 octets. */
  g_autoptr (GBytes) bytes = dns_message_encode (response, DNS_MAX_MESSAGE);
  g_autoptr (GBytes) framed = dns_server_frame_tcp (bytes);

  if (connection->stream != NULL)
    sim_stream_write (connection->stream, g_bytes_get_data (framed, NULL), g_bytes_get_size (framed),
                      explain_key != NULL ? explain_key : dns_message_explain_key (response));
}

static void
connection_resolver_reply (const DnsMessage *response, gpointer user_data)
{
  DnsServerConnection *connection = user_data;

  connection_send (connection, response, NULL);
  if (connection->answers_pending > 0)
    connection->answers_pending--;
  if (connection->peer_closed && connection->answers_pending == 0)
    connection_close (connection);
}

/* FALSE when the bytes make no sense and the connection was closed. */
static gboolean
connection_handle_message (DnsServerConnection *connection, GBytes *message)
{
  DnsServer *self = connection->server;
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  g_autoptr (DnsMessage) query = dns_message_decode (data, len, NULL);
  guint16 id, flags;

  if (query == NULL)
    {
      if (!dns_message_peek_header (data, len, &id, &flags) || (flags & 0x8000))
        {
          connection_close (connection);
          return FALSE;
        }
      g_autoptr (DnsMessage) response = dns_message_new ();
      response->id = id;
      response->qr = TRUE;
      response->rcode = DNS_RCODE_FORMERR;
      connection_send (connection, response, "dns.response.formerr");
      return TRUE;
    }
  if (query->qr)
    return TRUE;
  if (query->rd && self->resolver != NULL)
    {
      connection->answers_pending++;
      dns_resolver_handle_query_with_reply (self->resolver, query, connection_resolver_reply, connection);
      return TRUE;
    }
  g_autoptr (DnsMessage) response = dns_zones_answer (self->zones, query);
  connection_send (connection, response, NULL);
  return TRUE;
}

static void
connection_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  DnsServerConnection *connection = user_data;

  g_byte_array_append (connection->input, data, (guint) len);
  for (;;)
    {
      g_autoptr (GBytes) message = dns_server_take_tcp_message (connection->input);
      if (message == NULL || !connection_handle_message (connection, message))
        return;
    }
}

/* RFC 7766 6.2.3: the client closes when it has its answers; the server
 * closes too once the answers still being resolved have gone out. */
static void
connection_closed (SimStream *stream, gpointer user_data)
{
  DnsServerConnection *connection = user_data;

  connection->peer_closed = TRUE;
  if (connection->answers_pending == 0)
    connection_close (connection);
}

static void
connection_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  DnsServerConnection *connection = user_data;

  connection->stream = NULL;
  g_ptr_array_remove (connection->server->connections, connection);
}

static const SimStreamCallbacks connection_callbacks = {
  NULL, connection_received, connection_closed, connection_failed,
};

static void
accept_connection (SimStream *stream, gpointer user_data)
{
  DnsServer *self = user_data;
  DnsServerConnection *connection = g_new0 (DnsServerConnection, 1);

  connection->server = self;
  connection->stream = stream;
  connection->input = g_byte_array_new ();
  g_ptr_array_add (self->connections, connection);
  sim_stream_set_handler (stream, &connection_callbacks, connection);
}

DnsServer *
dns_server_new (SimNode *node)
{
  DnsServer *self = g_new0 (DnsServer, 1);

  self->node = node;
  self->zones = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_zone_free);
  self->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) connection_free);
  sim_node_bind_datagram (node, DNS_SERVER_PORT, "dns", receive_query, self);
  sim_node_listen (node, DNS_SERVER_PORT, "dns", accept_connection, self);
  return self;
}

void
dns_server_free (DnsServer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->connections, g_ptr_array_unref);
  g_clear_pointer (&self->resolver, dns_resolver_free);
  g_ptr_array_unref (self->zones);
  g_free (self);
}

SimNode *
dns_server_get_node (DnsServer *self)
{
  return self->node;
}

void
dns_server_add_zone (DnsServer *self, DnsZone *zone)
{
  g_ptr_array_add (self->zones, zone);
}

GPtrArray *
dns_server_get_zones (DnsServer *self)
{
  return self->zones;
}

DnsZone *
dns_server_find_zone (DnsServer *self, const char *origin)
{
  for (guint i = 0; i < self->zones->len; i++)
    {
      DnsZone *zone = g_ptr_array_index (self->zones, i);
      if (dns_name_equal (dns_zone_get_origin (zone), origin))
        return zone;
    }
  return NULL;
}

void
dns_server_set_root_hint (DnsServer *self, guint32 root_address)
{
  g_clear_pointer (&self->resolver, dns_resolver_free);
  self->resolver = dns_resolver_new (self->node, root_address);
  /* The old resolver's answers will never come. */
  for (guint i = self->connections->len; i > 0; i--)
    {
      DnsServerConnection *connection = g_ptr_array_index (self->connections, i - 1);
      connection->answers_pending = 0;
      if (connection->peer_closed)
        connection_close (connection);
    }
}

DnsResolver *
dns_server_get_resolver (DnsServer *self)
{
  return self->resolver;
}
