/* test-dns-resolver.c: the recursive resolver walking a small DNS tree.
 *
 * The world, built by hand:
 *
 *   client --1ms-- resolver --10ms-- root      zone .            org. -> tld
 *                           --10ms-- tld       zone org.         example.org. -> ns1, ns2
 *                           --10ms-- ns1, ns2  zone example.org. lame.org. -> ns1 (lame)
 *                           --10ms-- nsother   zones other.org., sub.example.org.,
 *                                              and a rogue org. that refers loop.org. to itself
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "nodes/dns-server.h"
#include "nodes/dns-stub.h"

typedef struct
{
  SimScheduler *scheduler;
  SimTrace *trace;
  SimNetwork *network;
  SimNode *client;
  SimNode *resolver_node;
  SimNode *ns1_node;
  SimNode *ns2_node;
  GPtrArray *servers;  /* DnsServer * */
  DnsServer *resolver;
  DnsStub *stub;
} World;

typedef struct
{
  gboolean done;
  DnsStubStatus status;
  guint8 rcode;
  gboolean ra;
  GPtrArray *answers;      /* DnsRecord * */
  GPtrArray *authorities;  /* DnsRecord * */
} Result;

static const char *const ROOT_ZONE[] = {
  ". 86400 IN SOA a.root-servers.net. nstld.example. 1 1800 900 604800 86400",
  ". 518400 IN NS a.root-servers.net.",
  "a.root-servers.net. 518400 IN A 198.41.0.4",
  "org. 172800 IN NS a0.org-servers.net.",
  "a0.org-servers.net. 172800 IN A 199.19.56.1",
  NULL,
};

static const char *const ORG_ZONE[] = {
  "org. 3600 IN SOA a0.org-servers.net. noc.org. 1 1800 900 604800 3600",
  "org. 86400 IN NS a0.org-servers.net.",
  "example.org. 86400 IN NS ns1.example.org.",
  "example.org. 86400 IN NS ns2.example.org.",
  "ns1.example.org. 86400 IN A 192.0.2.1",
  "ns2.example.org. 86400 IN A 192.0.2.2",
  "other.org. 86400 IN NS ns.other.org.",
  "ns.other.org. 86400 IN A 192.0.2.99",
  "lame.org. 86400 IN NS ns1.example.org.",
  "loop.org. 86400 IN NS ns.other.org.",
  NULL,
};

static const char *const EXAMPLE_ZONE[] = {
  "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300",
  "example.org. 86400 IN NS ns1.example.org.",
  "example.org. 86400 IN NS ns2.example.org.",
  "ns1.example.org. 86400 IN A 192.0.2.1",
  "ns2.example.org. 86400 IN A 192.0.2.2",
  "example.org. 3600 IN MX 10 mx.example.org.",
  "mx.example.org. 3600 IN A 192.0.2.25",
  "www.example.org. 600 IN CNAME web.example.org.",
  "web.example.org. 600 IN A 192.0.2.80",
  "mail-alias.example.org. 600 IN CNAME mail.other.org.",
  "ring1.example.org. 600 IN CNAME ring2.example.org.",
  "ring2.example.org. 600 IN CNAME ring1.example.org.",
  "sub.example.org. 86400 IN NS ns.other.org.",
  NULL,
};

static const char *const OTHER_ZONE[] = {
  "other.org. 3600 IN SOA ns.other.org. hostmaster.other.org. 1 7200 3600 1209600 300",
  "other.org. 86400 IN NS ns.other.org.",
  "ns.other.org. 86400 IN A 192.0.2.99",
  "mail.other.org. 600 IN A 192.0.2.100",
  NULL,
};

static const char *const SUB_ZONE[] = {
  "sub.example.org. 3600 IN SOA ns.other.org. hostmaster.other.org. 1 7200 3600 1209600 300",
  "sub.example.org. 86400 IN NS ns.other.org.",
  "www.sub.example.org. 600 IN A 192.0.2.111",
  NULL,
};

/* A server that wrongly believes it is authoritative for org. and refers
 * loop.org. back to itself. */
static const char *const ROGUE_ORG_ZONE[] = {
  "org. 3600 IN SOA ns.other.org. hostmaster.other.org. 1 1800 900 604800 3600",
  "org. 86400 IN NS ns.other.org.",
  "loop.org. 86400 IN NS ns.other.org.",
  NULL,
};

static guint32
address (const char *text)
{
  guint32 value = 0;
  assert_true (sim_address_parse (text, &value));
  return value;
}

static DnsZone *
zone_from_lines (const char *origin, const char *const *lines)
{
  DnsZone *zone = dns_zone_new (origin);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      if (!dns_zone_add_from_text (zone, lines[i], 3600, NULL, &error))
        fail_msg ("%s: %s", lines[i], error->message);
    }
  return zone;
}

static SimNode *
add_node (World *w, const char *name, const char *ip)
{
  g_autoptr (GError) error = NULL;
  SimNode *node = sim_network_add_node (w->network, name, address (ip), &error);

  assert_non_null (node);
  return node;
}

static void
add_link (World *w, SimNode *a, SimNode *b, SimTime latency)
{
  g_autoptr (GError) error = NULL;
  assert_non_null (sim_network_add_link (w->network, a, b, latency, &error));
}

static DnsServer *
add_server (World *w, SimNode *node)
{
  DnsServer *server = dns_server_new (node);
  g_ptr_array_add (w->servers, server);
  return server;
}

static World *
world_new (void)
{
  World *w = g_new0 (World, 1);

  w->scheduler = sim_scheduler_new (1);
  w->trace = sim_trace_new ();
  sim_trace_set_keep (w->trace, TRUE);
  w->network = sim_network_new (w->scheduler, w->trace);
  w->servers = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_server_free);

  w->client = add_node (w, "client", "10.0.0.10");
  w->resolver_node = add_node (w, "resolver", "10.0.0.53");
  SimNode *root = add_node (w, "root", "198.41.0.4");
  SimNode *tld = add_node (w, "tld", "199.19.56.1");
  w->ns1_node = add_node (w, "ns1", "192.0.2.1");
  w->ns2_node = add_node (w, "ns2", "192.0.2.2");
  SimNode *nsother = add_node (w, "nsother", "192.0.2.99");

  add_link (w, w->client, w->resolver_node, SIM_TIME_MSEC);
  add_link (w, w->resolver_node, root, 10 * SIM_TIME_MSEC);
  add_link (w, w->resolver_node, tld, 10 * SIM_TIME_MSEC);
  add_link (w, w->resolver_node, w->ns1_node, 10 * SIM_TIME_MSEC);
  add_link (w, w->resolver_node, w->ns2_node, 10 * SIM_TIME_MSEC);
  add_link (w, w->resolver_node, nsother, 10 * SIM_TIME_MSEC);

  dns_server_add_zone (add_server (w, root), zone_from_lines (".", ROOT_ZONE));
  dns_server_add_zone (add_server (w, tld), zone_from_lines ("org.", ORG_ZONE));
  dns_server_add_zone (add_server (w, w->ns1_node), zone_from_lines ("example.org.", EXAMPLE_ZONE));
  dns_server_add_zone (add_server (w, w->ns2_node), zone_from_lines ("example.org.", EXAMPLE_ZONE));
  DnsServer *other = add_server (w, nsother);
  dns_server_add_zone (other, zone_from_lines ("other.org.", OTHER_ZONE));
  dns_server_add_zone (other, zone_from_lines ("sub.example.org.", SUB_ZONE));
  dns_server_add_zone (other, zone_from_lines ("org.", ROGUE_ORG_ZONE));

  w->resolver = add_server (w, w->resolver_node);
  dns_server_set_root_hint (w->resolver, address ("198.41.0.4"));
  w->stub = dns_stub_new (w->client, sim_node_get_address (w->resolver_node));
  return w;
}

static void
world_free (World *w)
{
  dns_stub_free (w->stub);
  g_ptr_array_unref (w->servers);
  sim_network_free (w->network);
  sim_scheduler_free (w->scheduler);
  sim_trace_free (w->trace);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (World, world_free)

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->answers, g_ptr_array_unref);
  g_clear_pointer (&result->authorities, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static GPtrArray *
copy_records (const GPtrArray *records)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  for (guint i = 0; i < records->len; i++)
    g_ptr_array_add (copy, dns_record_copy (g_ptr_array_index (records, i)));
  return copy;
}

static void
lookup_done (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  Result *result = user_data;

  result->done = TRUE;
  result->status = status;
  if (response != NULL)
    {
      result->rcode = response->rcode;
      result->ra = response->ra;
      result->answers = copy_records (response->answers);
      result->authorities = copy_records (response->authorities);
    }
}

/* Ask through the stub and run until every event has happened.  Returns
 * the index of the first trace event of this lookup. */
static guint
lookup (World *w, const char *name, guint16 type, Result *result)
{
  guint mark = sim_trace_get_events (w->trace)->len;

  result_clear (result);
  memset (result, 0, sizeof *result);
  dns_stub_lookup (w->stub, name, type, lookup_done, result);
  sim_scheduler_run_until (w->scheduler, SIM_TIME_NEVER);
  assert_true (result->done);
  return mark;
}

/* The transmissions since @mark as "from->to", lost ones marked. */
static char *
datagrams_since (World *w, guint mark)
{
  GPtrArray *events = sim_trace_get_events (w->trace);
  GString *text = g_string_new (NULL);

  for (guint i = mark; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind != SIM_EVENT_DATAGRAM && event->kind != SIM_EVENT_LOST)
        continue;
      g_string_append_printf (text, "%s%s->%s%s", text->len > 0 ? " " : "", event->from, event->to,
                              event->kind == SIM_EVENT_LOST ? "(lost)" : "");
    }
  return g_string_free (text, FALSE);
}

static guint
count_notes (World *w, guint mark, const char *key)
{
  GPtrArray *events = sim_trace_get_events (w->trace);
  guint count = 0;

  for (guint i = mark; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind == SIM_EVENT_NOTE && g_strcmp0 (event->explain, key) == 0)
        count++;
    }
  return count;
}

static char *
record_text (const GPtrArray *records, guint index)
{
  assert_true (index < records->len);
  return dns_record_to_string (g_ptr_array_index (records, index));
}

static void
assert_record (const GPtrArray *records, guint index, const char *expected)
{
  g_autofree char *text = record_text (records, index);
  assert_string_equal (text, expected);
}

static void
test_first_lookup_walks_root_tld_domain (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  guint mark = lookup (w, "example.org", DNS_TYPE_MX, &result);
  g_autofree char *path = datagrams_since (w, mark);

  assert_string_equal (path, "client->resolver resolver->root root->resolver resolver->tld tld->resolver "
                             "resolver->ns1 ns1->resolver resolver->client");
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_true (result.ra);
  assert_int_equal (result.answers->len, 1);
  assert_record (result.answers, 0, "example.org. 3600 IN MX 10 mx.example.org.");
  assert_int_equal (count_notes (w, mark, "dns.cache.hit"), 0);

  /* The servers asked got RD clear: the resolver does the work itself. */
  GPtrArray *events = sim_trace_get_events (w->trace);
  for (guint i = mark; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind != SIM_EVENT_DATAGRAM || !g_str_equal (event->from, "resolver")
          || g_str_equal (event->to, "client"))
        continue;
      g_autoptr (DnsMessage) query = dns_message_decode (g_bytes_get_data (event->bytes, NULL),
                                                         g_bytes_get_size (event->bytes), NULL);
      assert_non_null (query);
      assert_false (query->rd);
      assert_int_equal (event->to_port, DNS_SERVER_PORT);
      assert_true (event->from_port >= SIM_EPHEMERAL_PORT_FIRST);
    }
}

static void
test_second_lookup_within_ttl_is_cache_hit (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  lookup (w, "example.org", DNS_TYPE_MX, &result);
  sim_scheduler_run_until (w->scheduler, sim_scheduler_now (w->scheduler) + 10 * SIM_TIME_SECOND);
  guint mark = lookup (w, "example.org", DNS_TYPE_MX, &result);
  g_autofree char *path = datagrams_since (w, mark);

  assert_string_equal (path, "client->resolver resolver->client");
  assert_int_equal (count_notes (w, mark, "dns.cache.hit"), 1);
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_int_equal (result.answers->len, 1);
  assert_int_equal (((DnsRecord *) g_ptr_array_index (result.answers, 0))->preference, 10);
}

static guint32
first_ttl (const Result *result)
{
  assert_true (result->answers->len > 0);
  return ((DnsRecord *) g_ptr_array_index (result->answers, 0))->ttl;
}

static void
test_cached_ttl_counts_down (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  lookup (w, "example.org", DNS_TYPE_MX, &result);
  assert_int_equal (first_ttl (&result), 3600);

  sim_scheduler_run_until (w->scheduler, 100 * SIM_TIME_SECOND);
  lookup (w, "example.org", DNS_TYPE_MX, &result);
  /* Cached at about 61 ms, asked again at 100.001 s: 3500 whole seconds left. */
  assert_int_equal (first_ttl (&result), 3500);

  sim_scheduler_run_until (w->scheduler, 1000 * SIM_TIME_SECOND);
  lookup (w, "example.org", DNS_TYPE_MX, &result);
  assert_int_equal (first_ttl (&result), 2600);
}

static void
test_entry_expires_after_ttl (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  lookup (w, "example.org", DNS_TYPE_MX, &result);
  sim_scheduler_run_until (w->scheduler, 3601 * SIM_TIME_SECOND);
  guint mark = lookup (w, "example.org", DNS_TYPE_MX, &result);
  g_autofree char *path = datagrams_since (w, mark);

  /* The MX expired; the delegation to example.org. (TTL one day) did not,
   * so the resolver asks its server directly. */
  assert_string_equal (path, "client->resolver resolver->ns1 ns1->resolver resolver->client");
  assert_int_equal (count_notes (w, mark, "dns.cache.expired"), 1);
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_int_equal (first_ttl (&result), 3600);
}

static void
test_nxdomain_is_cached_negatively (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  lookup (w, "nope.example.org", DNS_TYPE_A, &result);
  assert_int_equal (result.status, DNS_STUB_NXDOMAIN);
  assert_int_equal (result.authorities->len, 1);
  /* RFC 2308 3: the SOA comes with the smaller of its TTL and minimum. */
  assert_int_equal (((DnsRecord *) g_ptr_array_index (result.authorities, 0))->ttl, 300);

  sim_scheduler_run_until (w->scheduler, 60 * SIM_TIME_SECOND);
  guint mark = lookup (w, "nope.example.org", DNS_TYPE_MX, &result);
  g_autofree char *path = datagrams_since (w, mark);
  assert_string_equal (path, "client->resolver resolver->client");
  assert_int_equal (count_notes (w, mark, "dns.cache.negative"), 1);
  assert_int_equal (result.status, DNS_STUB_NXDOMAIN);
  guint32 ttl = ((DnsRecord *) g_ptr_array_index (result.authorities, 0))->ttl;
  assert_true (ttl >= 239 && ttl <= 240);

  /* A name that exists without the type asked: NODATA, cached as well. */
  lookup (w, "mx.example.org", DNS_TYPE_MX, &result);
  assert_int_equal (result.status, DNS_STUB_NODATA);
  mark = lookup (w, "mx.example.org", DNS_TYPE_MX, &result);
  g_autofree char *again = datagrams_since (w, mark);
  assert_string_equal (again, "client->resolver resolver->client");
  assert_int_equal (result.status, DNS_STUB_NODATA);

  sim_scheduler_run_until (w->scheduler, 400 * SIM_TIME_SECOND);
  mark = lookup (w, "nope.example.org", DNS_TYPE_A, &result);
  g_autofree char *expired = datagrams_since (w, mark);
  assert_string_equal (expired, "client->resolver resolver->ns1 ns1->resolver resolver->client");
  assert_int_equal (result.status, DNS_STUB_NXDOMAIN);
}

static void
test_cname_chain_followed (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  /* Inside one zone the authoritative server follows the chain itself. */
  lookup (w, "www.example.org", DNS_TYPE_A, &result);
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_int_equal (result.answers->len, 2);
  assert_record (result.answers, 0, "www.example.org. 600 IN CNAME web.example.org.");
  assert_record (result.answers, 1, "web.example.org. 600 IN A 192.0.2.80");

  /* Across zones the resolver goes on from the target, starting at the
   * closest zone whose servers it knows (org.). */
  guint mark = lookup (w, "mail-alias.example.org", DNS_TYPE_A, &result);
  g_autofree char *path = datagrams_since (w, mark);
  assert_string_equal (path, "client->resolver resolver->ns1 ns1->resolver resolver->tld tld->resolver "
                             "resolver->nsother nsother->resolver resolver->client");
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_int_equal (result.answers->len, 2);
  assert_record (result.answers, 0, "mail-alias.example.org. 600 IN CNAME mail.other.org.");
  assert_record (result.answers, 1, "mail.other.org. 600 IN A 192.0.2.100");

  /* The whole chain now comes from the cache. */
  mark = lookup (w, "mail-alias.example.org", DNS_TYPE_A, &result);
  g_autofree char *cached = datagrams_since (w, mark);
  assert_string_equal (cached, "client->resolver resolver->client");
  assert_int_equal (result.answers->len, 2);
  assert_int_equal (count_notes (w, mark, "dns.cache.hit"), 2);
}

static void
test_cname_loop_ends_in_servfail (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  lookup (w, "ring1.example.org", DNS_TYPE_A, &result);
  assert_int_equal (result.status, DNS_STUB_SERVFAIL);
  assert_int_equal (result.rcode, DNS_RCODE_SERVFAIL);
}

static void
test_server_down_moves_to_next_ns_then_servfail (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  sim_node_set_up (w->ns1_node, FALSE);
  guint mark = lookup (w, "example.org", DNS_TYPE_MX, &result);
  g_autofree char *path = datagrams_since (w, mark);
  assert_string_equal (path, "client->resolver resolver->root root->resolver resolver->tld tld->resolver "
                             "resolver->ns1(lost) resolver->ns2 ns2->resolver resolver->client");
  assert_int_equal (count_notes (w, mark, "dns.timeout"), 1);
  assert_int_equal (result.status, DNS_STUB_ANSWER);

  dns_resolver_flush_cache (dns_server_get_resolver (w->resolver));
  sim_node_set_up (w->ns2_node, FALSE);
  SimTime start = sim_scheduler_now (w->scheduler);
  mark = lookup (w, "example.org", DNS_TYPE_MX, &result);
  g_autofree char *failed = datagrams_since (w, mark);
  assert_int_equal (result.status, DNS_STUB_SERVFAIL);
  assert_int_equal (count_notes (w, mark, "dns.timeout"), 2);
  /* The stub retransmitted while the resolver waited; the resolver did
   * not start over, and answered once, after two timeouts. */
  assert_string_equal (failed, "client->resolver resolver->root root->resolver resolver->tld tld->resolver "
                               "resolver->ns1(lost) resolver->ns2(lost) client->resolver resolver->client");
  assert_true (sim_scheduler_now (w->scheduler) - start > 2 * DNS_RESOLVER_QUERY_TIMEOUT);
}

static void
test_lame_delegation_ends_in_servfail (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  /* org. names ns1 for lame.org., which ns1 does not serve: REFUSED. */
  guint mark = lookup (w, "www.lame.org", DNS_TYPE_A, &result);
  g_autofree char *path = datagrams_since (w, mark);
  assert_string_equal (path, "client->resolver resolver->root root->resolver resolver->tld tld->resolver "
                             "resolver->ns1 ns1->resolver resolver->client");
  assert_int_equal (result.status, DNS_STUB_SERVFAIL);

  /* loop.org.'s server refers back to loop.org. itself: no progress. */
  mark = lookup (w, "www.loop.org", DNS_TYPE_A, &result);
  g_autofree char *loop = datagrams_since (w, mark);
  assert_string_equal (loop, "client->resolver resolver->tld tld->resolver resolver->nsother nsother->resolver "
                             "resolver->client");
  assert_int_equal (result.status, DNS_STUB_SERVFAIL);
}

static void
test_referral_without_glue_looks_up_the_name_server (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  /* sub.example.org. is served by ns.other.org., outside ns1's zones, so
   * the referral carries no address and the resolver finds it first. */
  guint mark = lookup (w, "www.sub.example.org", DNS_TYPE_A, &result);
  g_autofree char *path = datagrams_since (w, mark);
  assert_string_equal (path, "client->resolver resolver->root root->resolver resolver->tld tld->resolver "
                             "resolver->ns1 ns1->resolver resolver->tld tld->resolver "
                             "resolver->nsother nsother->resolver "
                             "resolver->nsother nsother->resolver resolver->client");
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_record (result.answers, 0, "www.sub.example.org. 600 IN A 192.0.2.111");
}

static void
test_replacing_the_resolver_mid_lookup_cancels_its_work (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  sim_node_set_up (w->ns1_node, FALSE);
  dns_stub_lookup (w->stub, "example.org", DNS_TYPE_MX, lookup_done, &result);
  /* At 0.5 s the resolver waits for ns1, which is down. */
  sim_scheduler_run_until (w->scheduler, 500 * SIM_TIME_MSEC);
  gsize pending = sim_scheduler_pending (w->scheduler);
  guint mark = sim_trace_get_events (w->trace)->len;

  dns_server_set_root_hint (w->resolver, address ("198.41.0.4"));
  assert_int_equal (sim_scheduler_pending (w->scheduler), pending - 1);

  /* The stub's retransmission at 2 s reaches the new resolver, which
   * starts from the root with an empty cache. */
  sim_scheduler_run_until (w->scheduler, SIM_TIME_NEVER);
  g_autofree char *path = datagrams_since (w, mark);
  assert_string_equal (path, "client->resolver resolver->root root->resolver resolver->tld tld->resolver "
                             "resolver->ns1(lost) resolver->ns2 ns2->resolver resolver->client");
  assert_true (result.done);
  assert_int_equal (result.status, DNS_STUB_ANSWER);
}

static char *
run_and_serialize (void)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };
  GString *text = g_string_new (NULL);

  sim_node_set_up (w->ns1_node, FALSE);
  lookup (w, "example.org", DNS_TYPE_MX, &result);
  lookup (w, "mail-alias.example.org", DNS_TYPE_A, &result);
  lookup (w, "www.sub.example.org", DNS_TYPE_A, &result);
  lookup (w, "www.loop.org", DNS_TYPE_A, &result);
  lookup (w, "example.org", DNS_TYPE_MX, &result);

  GPtrArray *events = sim_trace_get_events (w->trace);
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      g_autofree char *hex = NULL;
      if (event->bytes != NULL)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (event->bytes, &len);
          GString *h = g_string_new (NULL);
          for (gsize j = 0; j < len; j++)
            g_string_append_printf (h, "%02x", data[j]);
          hex = g_string_free (h, FALSE);
        }
      g_string_append_printf (text, "%" G_GUINT64_FORMAT " %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                              " %s:%u %s:%u %s %s %s\n",
                              event->seq, sim_event_kind_to_string (event->kind), event->time, event->arrival,
                              event->from, event->from_port, event->to, event->to_port,
                              event->explain != NULL ? event->explain : "-", event->text != NULL ? event->text : "-",
                              hex != NULL ? hex : "-");
    }
  return g_string_free (text, FALSE);
}

static void
test_resolution_is_deterministic (void **state)
{
  g_autofree char *first = run_and_serialize ();
  g_autofree char *second = run_and_serialize ();

  assert_true (strlen (first) > 0);
  assert_string_equal (first, second);
}

/* ---- truncated answers retried over TCP (RFC 1035 4.2.1, RFC 7766) ---- */

/* Gives @owner @count addresses in example.org., on both its servers:
 * 40 A records make an answer of about 690 octets, over the 512 a query
 * without EDNS accepts over UDP. */
static void
add_many_addresses (World *w, const char *owner, guint count)
{
  for (guint s = 0; s < w->servers->len; s++)
    {
      DnsServer *server = g_ptr_array_index (w->servers, s);
      SimNode *node = dns_server_get_node (server);
      if (node != w->ns1_node && node != w->ns2_node)
        continue;
      DnsZone *zone = dns_server_find_zone (server, "example.org.");
      for (guint i = 0; i < count; i++)
        {
          g_autoptr (GError) error = NULL;
          g_autofree char *line = g_strdup_printf ("%s 600 IN A 192.0.2.%u", owner, 100 + i);
          if (!dns_zone_add_from_text (zone, line, 3600, NULL, &error))
            fail_msg ("%s: %s", line, error->message);
        }
    }
}

/* The stream events since @mark, one per line: "KIND client->server:port
 * protocol" or "KIND server:port->client protocol", DATA events with the
 * DNS message they carry summarized (its two-octet length prefix checked
 * and removed). */
static char *
stream_events_since (World *w, guint mark)
{
  GPtrArray *events = sim_trace_get_events (w->trace);
  GString *text = g_string_new (NULL);

  for (guint i = mark; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind != SIM_EVENT_CONNECT && event->kind != SIM_EVENT_DATA)
        continue;
      if (event->kind == SIM_EVENT_CONNECT || event->from_client)
        g_string_append_printf (text, "%s %s->%s:%u %s", sim_event_kind_to_string (event->kind), event->from,
                                event->to, event->to_port, event->protocol);
      else
        g_string_append_printf (text, "%s %s:%u->%s %s", sim_event_kind_to_string (event->kind), event->from,
                                event->from_port, event->to, event->protocol);
      if (event->kind == SIM_EVENT_DATA)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (event->bytes, &len);
          assert_true (len > DNS_TCP_LENGTH_SIZE);
          assert_int_equal (((gsize) data[0] << 8 | data[1]), len - DNS_TCP_LENGTH_SIZE);
          g_autoptr (DnsMessage) message = dns_message_decode (data + DNS_TCP_LENGTH_SIZE,
                                                               len - DNS_TCP_LENGTH_SIZE, NULL);
          assert_non_null (message);
          g_autofree char *summary = dns_message_summary (message);
          g_string_append_printf (text, " [%s]", summary);
        }
      g_string_append_c (text, '\n');
    }
  return g_string_free (text, FALSE);
}

/* The first datagram from @from to @to since @mark, decoded. */
static DnsMessage *
first_datagram (World *w, guint mark, const char *from, const char *to)
{
  GPtrArray *events = sim_trace_get_events (w->trace);

  for (guint i = mark; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind == SIM_EVENT_DATAGRAM && g_str_equal (event->from, from) && g_str_equal (event->to, to))
        return dns_message_decode (g_bytes_get_data (event->bytes, NULL), g_bytes_get_size (event->bytes), NULL);
    }
  fail_msg ("no datagram from %s to %s", from, to);
  return NULL;
}

static void
collect_bytes (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  g_byte_array_append (user_data, data, (guint) len);
}

static void
test_truncated_answer_is_retried_over_tcp (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  add_many_addresses (w, "big.example.org.", 40);
  guint mark = lookup (w, "big.example.org", DNS_TYPE_A, &result);

  /* ns1's UDP answer to a query without EDNS is cut at 512 octets: TC set
   * and the A RRset dropped whole (RFC 2181 9). */
  g_autoptr (DnsMessage) cut = first_datagram (w, mark, "ns1", "resolver");
  assert_true (cut->tc);
  assert_int_equal (cut->answers->len, 0);
  assert_string_equal (dns_message_explain_key (cut), "dns.response.truncated");

  /* The resolver asks ns1 again over TCP and gets all 40; its own UDP
   * answer to the stub is cut the same way, so the stub asks again over
   * TCP and the resolver answers from its cache. */
  g_autoptr (DnsMessage) cut_again = first_datagram (w, mark, "resolver", "client");
  assert_true (cut_again->tc);
  assert_int_equal (cut_again->answers->len, 0);
  g_autofree char *streams = stream_events_since (w, mark);
  assert_string_equal (streams,
                       "connect resolver->ns1:53 dns\n"
                       "data resolver->ns1:53 dns [query A? big.example.org.]\n"
                       "data ns1:53->resolver dns [answer NOERROR aa for A? big.example.org.: "
                       "40 answers, 0 authority, 0 additional]\n"
                       "connect client->resolver:53 dns\n"
                       "data client->resolver:53 dns [query A? big.example.org. rd]\n"
                       "data resolver:53->client dns [answer NOERROR for A? big.example.org.: "
                       "40 answers, 0 authority, 0 additional]\n");
  assert_int_equal (count_notes (w, mark, "dns.query.retry-tcp"), 2);
  assert_int_equal (count_notes (w, mark, "dns.cache.hit"), 1);

  /* The full answer reached the stub, from the cache a few milliseconds
   * after it was stored: 599 whole seconds of its TTL left. */
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_int_equal (result.answers->len, 40);
  assert_record (result.answers, 0, "big.example.org. 599 IN A 192.0.2.100");
  assert_record (result.answers, 39, "big.example.org. 599 IN A 192.0.2.139");
}

static void
test_stub_retries_over_tcp_when_its_resolver_truncates (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  add_many_addresses (w, "big.example.org.", 40);
  lookup (w, "big.example.org", DNS_TYPE_A, &result);

  /* Now cached: the resolver answers at once, too long for UDP. */
  guint mark = lookup (w, "big.example.org", DNS_TYPE_A, &result);
  g_autofree char *path = datagrams_since (w, mark);
  assert_string_equal (path, "client->resolver resolver->client");
  g_autoptr (DnsMessage) cut = first_datagram (w, mark, "resolver", "client");
  assert_true (cut->tc);
  assert_true (cut->ra);

  g_autofree char *streams = stream_events_since (w, mark);
  assert_string_equal (streams,
                       "connect client->resolver:53 dns\n"
                       "data client->resolver:53 dns [query A? big.example.org. rd]\n"
                       "data resolver:53->client dns [answer NOERROR for A? big.example.org.: "
                       "40 answers, 0 authority, 0 additional]\n");
  assert_int_equal (count_notes (w, mark, "dns.query.retry-tcp"), 1);
  assert_int_equal (result.status, DNS_STUB_ANSWER);
  assert_true (result.ra);
  assert_int_equal (result.answers->len, 40);

  /* Both sides closed: nothing is left waiting in the scheduler. */
  assert_int_equal (sim_scheduler_pending (w->scheduler), 0);
}

/* A short answer stays on UDP: TCP is only the fallback. */
static void
test_short_answer_stays_on_udp (void **state)
{
  g_autoptr (World) w = world_new ();
  g_auto (Result) result = { 0 };

  add_many_addresses (w, "big.example.org.", 40);
  guint mark = lookup (w, "example.org", DNS_TYPE_MX, &result);
  g_autofree char *streams = stream_events_since (w, mark);
  assert_string_equal (streams, "");
  assert_int_equal (count_notes (w, mark, "dns.query.retry-tcp"), 0);
}

/* The authoritative servers answer over TCP too, length-prefixed, even a
 * query that arrives in two pieces (RFC 7766 8: streams need not keep
 * message boundaries). */
static void
test_authoritative_server_answers_over_tcp (void **state)
{
  g_autoptr (World) w = world_new ();
  g_autoptr (DnsMessage) query = dns_message_new_query (0x4242, "example.org", DNS_TYPE_MX, FALSE);
  g_autoptr (GBytes) message = dns_message_encode (query, 0);
  g_autoptr (GBytes) framed = dns_server_frame_tcp (message);
  g_autoptr (GByteArray) received = g_byte_array_new ();
  const guint8 *bytes = g_bytes_get_data (framed, NULL);
  gsize len = g_bytes_get_size (framed);

  SimStream *stream = sim_network_connect (w->network, w->resolver_node, address ("192.0.2.1"), DNS_SERVER_PORT,
                                           &(SimStreamCallbacks) { NULL, NULL, NULL, NULL }, NULL);
  sim_scheduler_run_until (w->scheduler, 100 * SIM_TIME_MSEC);
  sim_stream_set_handler (stream, &(SimStreamCallbacks) { NULL, collect_bytes, NULL, NULL }, received);
  sim_stream_write (stream, bytes, 1, "dns.query");
  sim_stream_write (stream, bytes + 1, len - 1, "dns.query");
  sim_scheduler_run_until (w->scheduler, 200 * SIM_TIME_MSEC);

  g_autoptr (GBytes) answer_bytes = dns_server_take_tcp_message (received);
  assert_non_null (answer_bytes);
  assert_int_equal (received->len, 0);
  g_autoptr (DnsMessage) answer = dns_message_decode (g_bytes_get_data (answer_bytes, NULL),
                                                     g_bytes_get_size (answer_bytes), NULL);
  assert_non_null (answer);
  assert_int_equal (answer->id, 0x4242);
  assert_true (answer->aa);
  assert_int_equal (answer->answers->len, 1);
  assert_record (answer->answers, 0, "example.org. 3600 IN MX 10 mx.example.org.");
  sim_stream_close (stream);
  sim_scheduler_run_until (w->scheduler, SIM_TIME_NEVER);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_first_lookup_walks_root_tld_domain),
    cmocka_unit_test (test_second_lookup_within_ttl_is_cache_hit),
    cmocka_unit_test (test_cached_ttl_counts_down),
    cmocka_unit_test (test_entry_expires_after_ttl),
    cmocka_unit_test (test_nxdomain_is_cached_negatively),
    cmocka_unit_test (test_cname_chain_followed),
    cmocka_unit_test (test_cname_loop_ends_in_servfail),
    cmocka_unit_test (test_server_down_moves_to_next_ns_then_servfail),
    cmocka_unit_test (test_lame_delegation_ends_in_servfail),
    cmocka_unit_test (test_referral_without_glue_looks_up_the_name_server),
    cmocka_unit_test (test_replacing_the_resolver_mid_lookup_cancels_its_work),
    cmocka_unit_test (test_resolution_is_deterministic),
    cmocka_unit_test (test_truncated_answer_is_retried_over_tcp),
    cmocka_unit_test (test_stub_retries_over_tcp_when_its_resolver_truncates),
    cmocka_unit_test (test_short_answer_stays_on_udp),
    cmocka_unit_test (test_authoritative_server_answers_over_tcp),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
