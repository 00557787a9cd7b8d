/* dns-stub.c: stub resolver over virtual UDP, and TCP for long answers. */
#include "nodes/dns-stub.h"

#include "nodes/dns-server.h"

#define DNS_PORT DNS_SERVER_PORT

typedef struct
{
  DnsStub *stub;
  guint16 id;
  guint16 port;
  char *name;
  guint16 type;
  guint attempts;
  SimEventId timer;
  DnsStubCallback callback;
  gpointer user_data;
  /* After a truncated answer: the TCP connection to the resolver while it
   * is open, and the bytes received on it so far. */
  SimStream *stream;
  GByteArray *tcp_input;
} DnsStubQuery;

struct _DnsStub
{
  SimNode *node;
  guint32 resolver_address;
  guint16 next_id;
  GPtrArray *pending;   /* DnsStubQuery*, in the order asked */
};

const char *
dns_stub_status_to_string (DnsStubStatus status)
{
  switch (status)
    {
    case DNS_STUB_ANSWER:
      return "answer";
    case DNS_STUB_NODATA:
      return "no data";
    case DNS_STUB_NXDOMAIN:
      return "NXDOMAIN";
    case DNS_STUB_SERVFAIL:
      return "SERVFAIL";
    case DNS_STUB_TIMEOUT:
      return "timeout";
    default:
      return "unknown";
    }
}

static void
query_free (DnsStubQuery *query)
{
  SimScheduler *scheduler = sim_network_get_scheduler (sim_node_get_network (query->stub->node));

  sim_scheduler_cancel (scheduler, &query->timer);
  sim_node_unbind_datagram (query->stub->node, query->port);
  /* Freed with the stub (the run ends, the node crashed): the stream is
   * let go without a FIN. */
  if (query->stream != NULL)
    sim_stream_set_handler (query->stream, NULL, NULL);
  g_clear_pointer (&query->tcp_input, g_byte_array_unref);
  g_free (query->name);
  g_free (query);
}

DnsStub *
dns_stub_new (SimNode *node, guint32 resolver_address)
{
  DnsStub *self = g_new0 (DnsStub, 1);

  self->node = node;
  self->resolver_address = resolver_address;
  /* Query ids come from a counter seeded by the node's address: unique per
   * stub and identical on every run. */
  self->next_id = (guint16) (0x1000 + (sim_node_get_address (node) & 0x0fff) * 7);
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) query_free);
  return self;
}

void
dns_stub_free (DnsStub *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->pending);
  g_free (self);
}

static void send_query (DnsStubQuery *query);

static void
finish (DnsStubQuery *query, DnsStubStatus status, const DnsMessage *response)
{
  DnsStub *self = query->stub;
  DnsStubCallback callback = query->callback;
  gpointer user_data = query->user_data;

  /* Remove first: the callback may start another lookup. */
  g_ptr_array_ref (self->pending);
  g_ptr_array_remove (self->pending, query);
  g_ptr_array_unref (self->pending);
  callback (status, response, user_data);
}

static void
query_timed_out (gpointer data)
{
  DnsStubQuery *query = data;

  query->timer = 0;
  if (query->attempts >= DNS_STUB_ATTEMPTS)
    {
      sim_node_emit (query->stub->node, SIM_EVENT_NOTE, "", "dns", "dns.timeout", "timeout", NULL,
                     "no answer for %s %s after %u tries", dns_type_to_string (query->type), query->name,
                     query->attempts);
      finish (query, DNS_STUB_TIMEOUT, NULL);
      return;
    }
  send_query (query);
}

/* RFC 5452 9.1: accept only an answer with the id and question asked. */
static gboolean
response_matches (DnsStubQuery *query, const DnsMessage *response)
{
  if (response == NULL || !response->qr || response->id != query->id || response->questions->len != 1)
    return FALSE;
  DnsQuestion *question = g_ptr_array_index (response->questions, 0);
  return question->type == query->type && dns_name_equal (question->name, query->name);
}

static void
finish_with_response (DnsStubQuery *query, const DnsMessage *response)
{
  switch (response->rcode)
    {
    case DNS_RCODE_NOERROR:
      finish (query, response->answers->len > 0 ? DNS_STUB_ANSWER : DNS_STUB_NODATA, response);
      break;
    case DNS_RCODE_NXDOMAIN:
      finish (query, DNS_STUB_NXDOMAIN, response);
      break;
    default:
      finish (query, DNS_STUB_SERVFAIL, response);
      break;
    }
}

/* ---- the same question over TCP (RFC 1035 4.2.2, RFC 7766) ---- */

static void
tcp_stop (DnsStubQuery *query)
{
  sim_scheduler_cancel (sim_network_get_scheduler (sim_node_get_network (query->stub->node)), &query->timer);
  if (query->stream != NULL)
    sim_stream_close (g_steal_pointer (&query->stream));
}

static void
tcp_give_up (DnsStubQuery *query, const char *why)
{
  sim_node_emit (query->stub->node, SIM_EVENT_NOTE, "", "dns", "dns.query.retry-tcp", "failed", NULL,
                 "no answer over TCP for %s %s: %s", dns_type_to_string (query->type), query->name, why);
  tcp_stop (query);
  finish (query, DNS_STUB_TIMEOUT, NULL);
}

static void
tcp_timed_out (gpointer data)
{
  DnsStubQuery *query = data;

  query->timer = 0;
  tcp_give_up (query, "the resolver did not answer in time");
}

static void
tcp_connected (SimStream *stream, gpointer user_data)
{
  DnsStubQuery *query = user_data;
  g_autoptr (DnsMessage) message = dns_message_new_query (query->id, query->name, query->type, TRUE);
  g_autoptr (GBytes) bytes = dns_message_encode (message, 0);
  g_autoptr (GBytes) framed = dns_server_frame_tcp (bytes);

  sim_stream_write (stream, g_bytes_get_data (framed, NULL), g_bytes_get_size (framed), "dns.query");
}

static void
tcp_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  DnsStubQuery *query = user_data;

  g_byte_array_append (query->tcp_input, data, (guint) len);
  g_autoptr (GBytes) message = dns_server_take_tcp_message (query->tcp_input);
  if (message == NULL)
    return;
  g_autoptr (DnsMessage) response = dns_message_decode (g_bytes_get_data (message, NULL),
                                                       g_bytes_get_size (message), NULL);
  if (!response_matches (query, response))
    {
      tcp_give_up (query, "the resolver's reply does not match the question");
      return;
    }
  tcp_stop (query);
  finish_with_response (query, response);
}

static void
tcp_closed (SimStream *stream, gpointer user_data)
{
  tcp_give_up (user_data, "the resolver closed the connection without answering");
}

static void
tcp_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  DnsStubQuery *query = user_data;

  /* A failed stream is finished: it must not be closed again. */
  query->stream = NULL;
  tcp_give_up (query, sim_stream_error_to_string (error));
}

static const SimStreamCallbacks tcp_callbacks = {
  tcp_connected, tcp_received, tcp_closed, tcp_failed,
};

/* RFC 1035 4.2.1, RFC 7766 5: the answer did not fit in a datagram; ask
 * the same resolver the same question over TCP. */
static void
retry_over_tcp (DnsStubQuery *query)
{
  SimNetwork *network = sim_node_get_network (query->stub->node);
  char address[16];

  sim_scheduler_cancel (sim_network_get_scheduler (network), &query->timer);
  sim_node_emit (query->stub->node, SIM_EVENT_NOTE, "", "dns", "dns.query.retry-tcp", "retry-tcp", NULL,
                 "the answer for %s %s was truncated: asking %s again over TCP", dns_type_to_string (query->type),
                 query->name, sim_address_to_string (query->stub->resolver_address, address));
  query->tcp_input = g_byte_array_new ();
  query->timer = sim_scheduler_after (sim_network_get_scheduler (network), DNS_STUB_TCP_TIMEOUT, tcp_timed_out,
                                      query, NULL);
  query->stream = sim_network_connect (network, query->stub->node, query->stub->resolver_address, DNS_PORT,
                                       &tcp_callbacks, query);
}

static void
receive_response (SimNode *node, guint32 from_address, guint16 from_port, guint16 to_port,
                  GBytes *payload, gpointer user_data)
{
  DnsStubQuery *query = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  g_autoptr (DnsMessage) response = dns_message_decode (data, len, NULL);

  /* RFC 5452 9.1: and only from the server asked.  Once the question has
   * gone over TCP, late datagrams are ignored. */
  if (query->tcp_input != NULL || from_address != query->stub->resolver_address || from_port != DNS_PORT
      || !response_matches (query, response))
    return;
  if (response->tc)
    {
      retry_over_tcp (query);
      return;
    }
  finish_with_response (query, response);
}

static void
send_query (DnsStubQuery *query)
{
  SimNetwork *network = sim_node_get_network (query->stub->node);
  g_autoptr (DnsMessage) message = dns_message_new_query (query->id, query->name, query->type, TRUE);
  g_autoptr (GBytes) bytes = dns_message_encode (message, DNS_UDP_MAX_PLAIN);

  query->attempts++;
  sim_network_send_datagram (network, query->stub->node, query->port, query->stub->resolver_address,
                             DNS_PORT, "dns", bytes, "dns.query");
  query->timer = sim_scheduler_after (sim_network_get_scheduler (network), DNS_STUB_RETRY_INTERVAL,
                                      query_timed_out, query, NULL);
}

void
dns_stub_lookup (DnsStub *self, const char *name, guint16 type, DnsStubCallback callback, gpointer user_data)
{
  DnsStubQuery *query = g_new0 (DnsStubQuery, 1);

  query->stub = self;
  query->id = self->next_id++;
  query->port = sim_node_allocate_port (self->node);
  query->name = g_strdup (name);
  query->type = type;
  query->callback = callback;
  query->user_data = user_data;
  g_ptr_array_add (self->pending, query);
  sim_node_bind_datagram (self->node, query->port, "dns", receive_response, query);
  send_query (query);
}

void
dns_stub_cancel (DnsStub *self, gpointer user_data)
{
  for (guint i = self->pending->len; i > 0; i--)
    {
      DnsStubQuery *query = g_ptr_array_index (self->pending, i - 1);
      if (query->user_data != user_data)
        continue;
      /* The run goes on: a connection in use is closed properly. */
      tcp_stop (query);
      g_ptr_array_remove_index (self->pending, i - 1);
    }
}
