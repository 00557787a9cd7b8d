/* dns-stub.c: stub resolver over virtual UDP. */
#include "nodes/dns-stub.h"

#define DNS_PORT 53

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

static void
receive_response (SimNode *node, guint32 from_address, guint16 from_port, guint16 to_port,
                  GBytes *payload, gpointer user_data)
{
  DnsStubQuery *query = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  g_autoptr (GError) error = NULL;
  g_autoptr (DnsMessage) response = dns_message_decode (data, len, &error);

  /* RFC 5452 9.1: accept only an answer from the server asked, with the
   * id and question asked. */
  if (response == NULL || !response->qr || response->id != query->id
      || from_address != query->stub->resolver_address || from_port != DNS_PORT)
    return;
  if (response->questions->len != 1)
    return;
  DnsQuestion *question = g_ptr_array_index (response->questions, 0);
  if (question->type != query->type || !dns_name_equal (question->name, query->name))
    return;
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
      if (query->user_data == user_data)
        g_ptr_array_remove_index (self->pending, i - 1);
    }
}
