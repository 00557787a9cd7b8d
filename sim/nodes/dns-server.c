/* dns-server.c: authoritative name server node (and recursive resolver). */
#include "nodes/dns-server.h"


struct _DnsServer
{
  SimNode *node;
  GPtrArray *zones;
  DnsResolver *resolver;  /* NULL: authoritative only */
};

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

DnsServer *
dns_server_new (SimNode *node)
{
  DnsServer *self = g_new0 (DnsServer, 1);

  self->node = node;
  self->zones = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_zone_free);
  sim_node_bind_datagram (node, DNS_SERVER_PORT, "dns", receive_query, self);
  return self;
}

void
dns_server_free (DnsServer *self)
{
  if (self == NULL)
    return;
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
}

DnsResolver *
dns_server_get_resolver (DnsServer *self)
{
  return self->resolver;
}
