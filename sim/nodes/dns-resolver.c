/* dns-resolver.c: recursive resolver with a cache (RFC 1034 5.3.3).
 *
 * One Resolution follows one question.  A client's question may start
 * nested resolutions for the addresses of name servers that came without
 * glue; those report to their parent instead of a client.  Every step that
 * may end a resolution frees it, so no function touches a resolution after
 * calling finish().
 *
 * The cache is a hash table used for lookups only: nothing iterates it, so
 * its order never reaches the trace.
 */
#include "nodes/dns-resolver.h"

#include "nodes/dns-server.h"
#include "proto/dns/dns-zone.h"

/* RFC 2181 5.4.1: data from a referral (NS in authority, glue in
 * additional) is good enough to choose servers but not to answer a client,
 * and never replaces data from an authoritative answer. */
typedef enum
{
  CACHE_TRUST_REFERRAL,
  CACHE_TRUST_ANSWER,
} CacheTrust;

typedef struct
{
  CacheTrust trust;
  SimTime expires;
  GPtrArray *records;  /* DnsRecord *, the RRset; NULL for a negative entry */
  guint8 rcode;        /* negative: NXDOMAIN, or NOERROR for NODATA */
  DnsRecord *soa;      /* negative: the SOA that proves it (RFC 2308 6) */
} CacheEntry;

/* NXDOMAIN denies every type of a name (RFC 2308 5): it is cached under
 * this pseudo-type. */
#define CACHE_TYPE_NXDOMAIN 0

typedef struct
{
  char *name;        /* the NS target */
  guint32 address;   /* 0 while unknown */
  gboolean tried;
} ResolverServer;

typedef struct _Resolution Resolution;

struct _Resolution
{
  DnsResolver *resolver;
  Resolution *parent;  /* NULL for a client's question */
  guint depth;
  guint queries_sent;  /* on the client's resolution: the whole tree's work */
  guint referrals;

  /* A client's question: a stub's address and port over UDP, or a
   * reply function (a TCP connection of the server node). */
  guint32 client_address;
  guint16 client_port;
  DnsResolverReplyFunc reply;
  gpointer reply_data;
  gboolean client_gone;  /* the reply client went away: answer nobody */
  DnsMessage *response;  /* id, flags, question and OPT of the reply to come */
  gsize max_response_size;

  char *name;            /* the name asked, then each CNAME target in turn */
  guint16 type;
  GPtrArray *chain;      /* DnsRecord *, the CNAMEs followed, for the answer */

  char *zone;            /* the zone whose servers are being asked */
  GPtrArray *servers;    /* ResolverServer * */
  ResolverServer *waiting_for;  /* the server a nested resolution looks up */

  /* The query in flight: 0 port and timer when none. */
  guint16 id;
  guint16 port;
  guint32 asked_address;
  ResolverServer *asked;  /* also after the reply, to name it in notes */
  SimEventId timer;
  /* The same query retried over TCP after a truncated answer: the
   * connection while it is open, the bytes received on it so far. */
  SimStream *stream;
  GByteArray *tcp_input;
  gboolean answered_over_tcp;
};

struct _DnsResolver
{
  SimNode *node;
  guint32 root_address;
  guint16 next_id;
  GHashTable *cache;        /* "type/lowercase name" -> CacheEntry * */
  GPtrArray *resolutions;   /* Resolution *, in the order started */
};

static void resolve (Resolution *r);
static void ask_next_server (Resolution *r);

/* ---- names ---- */

/* The parent of an absolute name ("org." for "example.org.", "." for
 * "org."), or NULL for the root.  Escaped dots ("\.") are not separators. */
static const char *
name_parent (const char *name)
{
  if (g_str_equal (name, "."))
    return NULL;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        {
          p++;
          continue;
        }
      if (*p == '.')
        return p[1] == '\0' ? "." : p + 1;
    }
  return ".";
}

/* ---- the cache ---- */

static void
cache_entry_free (CacheEntry *entry)
{
  g_clear_pointer (&entry->records, g_ptr_array_unref);
  g_clear_pointer (&entry->soa, dns_record_free);
  g_free (entry);
}

static char *
cache_key (const char *name, guint16 type)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  return g_strdup_printf ("%u/%s", type, lower);
}

static SimTime
now (DnsResolver *self)
{
  return sim_network_now (sim_node_get_network (self->node));
}

static guint32
remaining_ttl (DnsResolver *self, const CacheEntry *entry)
{
  return (guint32) ((entry->expires - now (self)) / SIM_TIME_SECOND);
}

/* RFC 2181 8: a TTL with the top bit set counts as 0. */
static guint32
sane_ttl (guint32 ttl, guint32 limit)
{
  if (ttl & 0x80000000u)
    return 0;
  return MIN (ttl, limit);
}

/* The live entry for @name/@type with at least @trust, or NULL.  An expired
 * entry is dropped; when @announce, the drop is narrated. */
static CacheEntry *
cache_find (DnsResolver *self, const char *name, guint16 type, CacheTrust trust, gboolean announce)
{
  g_autofree char *key = cache_key (name, type);
  CacheEntry *entry = g_hash_table_lookup (self->cache, key);

  if (entry == NULL)
    return NULL;
  if (entry->expires <= now (self))
    {
      if (announce && entry->trust == CACHE_TRUST_ANSWER)
        {
          const char *what = type == CACHE_TYPE_NXDOMAIN ? "NXDOMAIN" : dns_type_to_string (type);
          sim_node_emit (self->node, SIM_EVENT_NOTE, "", "dns", "dns.cache.expired", "expired", NULL,
                         "cached %s %s expired: asking again", what, name);
        }
      g_hash_table_remove (self->cache, key);
      return NULL;
    }
  return entry->trust >= trust ? entry : NULL;
}

static void
cache_store (DnsResolver *self, const char *name, guint16 type, CacheEntry *entry)
{
  CacheEntry *existing = cache_find (self, name, type, CACHE_TRUST_REFERRAL, FALSE);

  if (entry->expires <= now (self) || (existing != NULL && existing->trust > entry->trust))
    {
      cache_entry_free (entry);
      return;
    }
  g_hash_table_replace (self->cache, cache_key (name, type), entry);
}

/* Cache the records of @section owned by @name with @type as one RRset.
 * RFC 2181 5.2: its members share one TTL; the smallest is kept. */
static void
cache_rrset (DnsResolver *self, const GPtrArray *section, const char *name, guint16 type, CacheTrust trust)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  guint32 ttl = DNS_RESOLVER_MAX_CACHE_TTL;

  for (guint i = 0; i < section->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (section, i);
      if (record->type == type && record->klass == DNS_CLASS_IN && dns_name_equal (record->name, name))
        {
          g_ptr_array_add (records, dns_record_copy (record));
          ttl = MIN (ttl, sane_ttl (record->ttl, DNS_RESOLVER_MAX_CACHE_TTL));
        }
    }
  if (records->len == 0)
    {
      g_ptr_array_unref (records);
      return;
    }

  CacheEntry *entry = g_new0 (CacheEntry, 1);
  entry->trust = trust;
  entry->expires = now (self) + (SimTime) ttl * SIM_TIME_SECOND;
  entry->records = records;
  cache_store (self, name, type, entry);
}

/* RFC 2308 5: a negative answer lives for the smaller of the SOA's TTL and
 * its minimum field; without a SOA it is not cached at all. */
static void
cache_negative (DnsResolver *self, const char *name, guint16 type, guint8 rcode, const DnsRecord *soa)
{
  if (soa == NULL)
    return;

  CacheEntry *entry = g_new0 (CacheEntry, 1);
  guint32 ttl = MIN (sane_ttl (soa->ttl, DNS_RESOLVER_MAX_NEGATIVE_TTL),
                     sane_ttl (soa->soa.minimum, DNS_RESOLVER_MAX_NEGATIVE_TTL));
  entry->trust = CACHE_TRUST_ANSWER;
  entry->expires = now (self) + (SimTime) ttl * SIM_TIME_SECOND;
  entry->rcode = rcode;
  entry->soa = dns_record_copy (soa);
  cache_store (self, name, rcode == DNS_RCODE_NXDOMAIN ? CACHE_TYPE_NXDOMAIN : type, entry);
}

static DnsRecord *
copy_with_ttl (const DnsRecord *record, guint32 ttl)
{
  DnsRecord *copy = dns_record_copy (record);
  copy->ttl = ttl;
  return copy;
}

/* The address of @name known from any cached A record, or 0. */
static guint32
cache_address (DnsResolver *self, const char *name)
{
  CacheEntry *entry = cache_find (self, name, DNS_TYPE_A, CACHE_TRUST_REFERRAL, FALSE);
  return entry != NULL ? dns_record_get_ipv4 (g_ptr_array_index (entry->records, 0)) : 0;
}

/* ---- resolutions ---- */

static Resolution *
top_of (Resolution *r)
{
  while (r->parent != NULL)
    r = r->parent;
  return r;
}

static void
server_free (ResolverServer *server)
{
  g_free (server->name);
  g_free (server);
}

static void
stop_query (Resolution *r)
{
  DnsResolver *self = r->resolver;

  sim_scheduler_cancel (sim_network_get_scheduler (sim_node_get_network (self->node)), &r->timer);
  if (r->port != 0)
    sim_node_unbind_datagram (self->node, r->port);
  r->port = 0;
  if (r->stream != NULL)
    sim_stream_close (g_steal_pointer (&r->stream));
  g_clear_pointer (&r->tcp_input, g_byte_array_unref);
}

static void
resolution_free (Resolution *r)
{
  /* Freed with the resolver (the run ends, or a new root hint replaces
   * it): an open connection is let go without a FIN, as the node's other
   * programs do, so nothing reaches the trace after the run. */
  if (r->stream != NULL)
    sim_stream_set_handler (g_steal_pointer (&r->stream), NULL, NULL);
  stop_query (r);
  g_clear_pointer (&r->response, dns_message_free);
  g_clear_pointer (&r->servers, g_ptr_array_unref);
  g_ptr_array_unref (r->chain);
  g_free (r->name);
  g_free (r->zone);
  g_free (r);
}

static Resolution *
resolution_new (DnsResolver *self, Resolution *parent, const char *name, guint16 type)
{
  Resolution *r = g_new0 (Resolution, 1);

  r->resolver = self;
  r->parent = parent;
  r->depth = parent != NULL ? parent->depth + 1 : 0;
  r->name = g_strdup (name);
  r->type = type;
  r->chain = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  g_ptr_array_add (self->resolutions, r);
  return r;
}

static void
send_to_client (DnsResolver *self, guint32 address, guint16 port, const DnsMessage *response, gsize max_size)
{
  SimNetwork *network = sim_node_get_network (self->node);
  g_autoptr (GBytes) bytes = dns_message_encode (response, max_size);
  g_autoptr (DnsMessage) sent = dns_message_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL);

  sim_network_send_datagram (network, self->node, DNS_SERVER_PORT, address, port, "dns", bytes,
                             dns_message_explain_key (sent != NULL ? sent : response));
}

/* The answer to a client's question, over the transport it asked on. */
static void
reply_to_client (Resolution *r, const DnsMessage *response)
{
  if (r->reply == NULL)
    send_to_client (r->resolver, r->client_address, r->client_port, response, r->max_response_size);
  else if (!r->client_gone)
    r->reply (response, r->reply_data);
}

static void server_address_found (Resolution *r, guint32 address);

/* Ends @r with @rcode: the CNAMEs followed, then @records (their TTLs as
 * given) in the answer, @soa in authority.  Frees @r. */
static void
finish (Resolution *r, guint8 rcode, const GPtrArray *records, const DnsRecord *soa)
{
  DnsResolver *self = r->resolver;

  if (r->parent != NULL)
    {
      Resolution *parent = r->parent;
      guint32 address = 0;
      for (guint i = 0; rcode == DNS_RCODE_NOERROR && records != NULL && i < records->len; i++)
        {
          const DnsRecord *record = g_ptr_array_index (records, i);
          if (record->type == DNS_TYPE_A)
            {
              address = dns_record_get_ipv4 (record);
              break;
            }
        }
      g_ptr_array_remove (self->resolutions, r);
      server_address_found (parent, address);
      return;
    }

  DnsMessage *response = r->response;
  response->rcode = rcode;
  response->ra = TRUE;
  response->aa = FALSE;
  for (guint i = 0; i < r->chain->len; i++)
    g_ptr_array_add (response->answers, dns_record_copy (g_ptr_array_index (r->chain, i)));
  for (guint i = 0; records != NULL && i < records->len; i++)
    g_ptr_array_add (response->answers, dns_record_copy (g_ptr_array_index (records, i)));
  if (soa != NULL)
    g_ptr_array_add (response->authorities, dns_record_copy (soa));
  reply_to_client (r, response);
  g_ptr_array_remove (self->resolutions, r);
}

static void
finish_servfail (Resolution *r, const char *reason)
{
  sim_node_emit (r->resolver->node, SIM_EVENT_NOTE, "", "dns", "dns.response.servfail", "servfail", NULL,
                 "cannot resolve %s %s: %s", dns_type_to_string (r->type), r->name, reason);
  finish (r, DNS_RCODE_SERVFAIL, NULL, NULL);
}

/* Follow @cname (RFC 1034 3.6.2): keep it for the answer and go on with
 * its target.  FALSE, and @r is finished, when the chain is too long. */
static gboolean
follow_cname (Resolution *r, const DnsRecord *cname)
{
  if (r->chain->len >= DNS_MAX_CNAME_CHAIN || cname->target == NULL)
    {
      finish_servfail (r, "the CNAME chain is too long or loops");
      return FALSE;
    }
  g_ptr_array_add (r->chain, dns_record_copy (cname));
  g_free (r->name);
  r->name = g_strdup (cname->target);
  return TRUE;
}

/* RFC 1034 5.3.3 step 1: answer from the cache when it holds the answer.
 * TRUE when @r was finished. */
static gboolean
answer_from_cache (Resolution *r)
{
  DnsResolver *self = r->resolver;

  for (;;)
    {
      CacheEntry *entry = cache_find (self, r->name, r->type, CACHE_TRUST_ANSWER, TRUE);
      if (entry != NULL && entry->records != NULL)
        {
          guint32 ttl = remaining_ttl (self, entry);
          g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
          for (guint i = 0; i < entry->records->len; i++)
            g_ptr_array_add (records, copy_with_ttl (g_ptr_array_index (entry->records, i), ttl));
          sim_node_emit (self->node, SIM_EVENT_NOTE, "", "dns", "dns.cache.hit", "hit", NULL,
                         "%s %s answered from the cache: %u record%s, %u s of TTL left",
                         dns_type_to_string (r->type), r->name, records->len, records->len == 1 ? "" : "s",
                         ttl);
          finish (r, DNS_RCODE_NOERROR, records, NULL);
          return TRUE;
        }
      if (entry == NULL)
        entry = cache_find (self, r->name, CACHE_TYPE_NXDOMAIN, CACHE_TRUST_ANSWER, TRUE);
      if (entry != NULL)
        {
          guint32 ttl = remaining_ttl (self, entry);
          g_autoptr (DnsRecord) soa = copy_with_ttl (entry->soa, ttl);
          sim_node_emit (self->node, SIM_EVENT_NOTE, "", "dns", "dns.cache.negative", "negative", NULL,
                         "%s %s answered from the cache: %s, %u s of TTL left", dns_type_to_string (r->type),
                         r->name, entry->rcode == DNS_RCODE_NXDOMAIN ? "no such name" : "no such record",
                         ttl);
          finish (r, entry->rcode, NULL, soa);
          return TRUE;
        }
      if (r->type == DNS_TYPE_CNAME || r->type == DNS_TYPE_ANY)
        return FALSE;
      entry = cache_find (self, r->name, DNS_TYPE_CNAME, CACHE_TRUST_ANSWER, TRUE);
      if (entry == NULL)
        return FALSE;
      guint32 ttl = remaining_ttl (self, entry);
      g_autoptr (DnsRecord) cname = copy_with_ttl (g_ptr_array_index (entry->records, 0), ttl);
      sim_node_emit (self->node, SIM_EVENT_NOTE, "", "dns", "dns.cache.hit", "hit", NULL,
                     "%s is an alias of %s, from the cache: %u s of TTL left", r->name, cname->target, ttl);
      if (!follow_cname (r, cname))
        return TRUE;
    }
}

static void
set_servers (Resolution *r, const char *zone, GPtrArray *servers)
{
  g_free (r->zone);
  r->zone = g_strdup (zone);
  g_clear_pointer (&r->servers, g_ptr_array_unref);
  r->servers = servers;
  r->asked = NULL;
  r->waiting_for = NULL;
}

static GPtrArray *
servers_from_ns (DnsResolver *self, const GPtrArray *ns_records, const GPtrArray *glue, const char *bailiwick,
                 guint *known)
{
  GPtrArray *servers = g_ptr_array_new_with_free_func ((GDestroyNotify) server_free);

  *known = 0;
  for (guint i = 0; i < ns_records->len; i++)
    {
      const DnsRecord *ns = g_ptr_array_index (ns_records, i);
      if (ns->type != DNS_TYPE_NS || ns->target == NULL)
        continue;
      ResolverServer *server = g_new0 (ResolverServer, 1);
      server->name = g_strdup (ns->target);
      for (guint j = 0; glue != NULL && j < glue->len && server->address == 0; j++)
        {
          const DnsRecord *record = g_ptr_array_index (glue, j);
          if (record->type == DNS_TYPE_A && dns_name_equal (record->name, ns->target)
              && dns_name_is_subdomain (record->name, bailiwick))
            server->address = dns_record_get_ipv4 (record);
        }
      if (server->address == 0)
        server->address = cache_address (self, ns->target);
      if (server->address != 0)
        (*known)++;
      g_ptr_array_add (servers, server);
    }
  return servers;
}

/* RFC 1034 5.3.3 step 2: the servers of the closest enclosing zone whose
 * delegation is cached with at least one address, else the root hint. */
static void
choose_servers (Resolution *r)
{
  DnsResolver *self = r->resolver;

  for (const char *zone = r->name; zone != NULL && !g_str_equal (zone, "."); zone = name_parent (zone))
    {
      CacheEntry *entry = cache_find (self, zone, DNS_TYPE_NS, CACHE_TRUST_REFERRAL, FALSE);
      if (entry == NULL)
        continue;
      guint known;
      GPtrArray *servers = servers_from_ns (self, entry->records, NULL, zone, &known);
      if (known == 0)
        {
          g_ptr_array_unref (servers);
          continue;
        }
      sim_node_emit (self->node, SIM_EVENT_NOTE, "", "dns", "dns.cache.hit", "hit", NULL,
                     "the name servers of %s are cached: asking them about %s %s directly", zone,
                     dns_type_to_string (r->type), r->name);
      set_servers (r, zone, servers);
      return;
    }

  GPtrArray *servers = g_ptr_array_new_with_free_func ((GDestroyNotify) server_free);
  ResolverServer *root = g_new0 (ResolverServer, 1);
  root->name = g_strdup ("root hint");
  root->address = self->root_address;
  g_ptr_array_add (servers, root);
  set_servers (r, ".", servers);
}

static void
resolve (Resolution *r)
{
  if (answer_from_cache (r))
    return;
  choose_servers (r);
  ask_next_server (r);
}

/* ---- talking to name servers ---- */

/* What the resolver does after a server failed it, in words: there may be
 * another server of the set to ask, or none. */
static const char *
next_step (Resolution *r)
{
  for (guint i = 0; i < r->servers->len; i++)
    {
      ResolverServer *server = g_ptr_array_index (r->servers, i);
      if (!server->tried && server != r->asked)
        return "trying the next server";
    }
  return "no other server to ask";
}

static void
query_timed_out (gpointer data)
{
  Resolution *r = data;
  char address[16];

  r->timer = 0;
  sim_node_emit (r->resolver->node, SIM_EVENT_NOTE, "", "dns", "dns.timeout", "timeout", NULL,
                 "no answer from %s (%s) about %s %s within %" G_GINT64_FORMAT " ms: %s",
                 r->asked->name, sim_address_to_string (r->asked_address, address), dns_type_to_string (r->type),
                 r->name, DNS_RESOLVER_QUERY_TIMEOUT / SIM_TIME_MSEC, next_step (r));
  stop_query (r);
  ask_next_server (r);
}

static void handle_response (Resolution *r, const DnsMessage *response);

/* RFC 5452 9.1: only the server asked, with the id and the question asked. */
static gboolean
response_matches (Resolution *r, const DnsMessage *response)
{
  const DnsQuestion *question = response->questions->len == 1 ? g_ptr_array_index (response->questions, 0) : NULL;

  return response->qr && response->id == r->id && question != NULL && question->type == r->type
         && dns_name_equal (question->name, r->name);
}

static void
receive_response (SimNode *node, guint32 from_address, guint16 from_port, guint16 to_port, GBytes *payload,
                  gpointer user_data)
{
  Resolution *r = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  g_autoptr (GError) error = NULL;
  g_autoptr (DnsMessage) response = dns_message_decode (data, len, &error);

  if (response == NULL)
    {
      sim_node_emit (node, SIM_EVENT_NOTE, "", "dns", "dns.response.malformed", "ignored", NULL,
                     "ignored a reply that does not decode: %s", error->message);
      return;
    }
  if (!response_matches (r, response) || from_address != r->asked_address || from_port != DNS_SERVER_PORT)
    {
      sim_node_emit (node, SIM_EVENT_NOTE, "", "dns", "dns.response.mismatch", "ignored", NULL,
                     "ignored a reply that does not match the query for %s %s", dns_type_to_string (r->type),
                     r->name);
      return;
    }
  stop_query (r);
  r->answered_over_tcp = FALSE;
  handle_response (r, response);
}

/* ---- the same question over TCP (RFC 1035 4.2.2, RFC 7766) ---- */

static void
tcp_give_up (Resolution *r, const char *why)
{
  char address[16];

  sim_node_emit (r->resolver->node, SIM_EVENT_NOTE, "", "dns", "dns.query.retry-tcp", "failed", NULL,
                 "%s (%s) %s: %s", r->asked != NULL ? r->asked->name : "the server",
                 sim_address_to_string (r->asked_address, address), why, next_step (r));
  stop_query (r);
  ask_next_server (r);
}

static void
tcp_timed_out (gpointer data)
{
  Resolution *r = data;

  r->timer = 0;
  tcp_give_up (r, "did not answer over TCP in time");
}

static void
tcp_connected (SimStream *stream, gpointer user_data)
{
  Resolution *r = user_data;
  g_autoptr (DnsMessage) query = dns_message_new_query (r->id, r->name, r->type, FALSE);
  g_autoptr (GBytes) message = dns_message_encode (query, 0);
  g_autoptr (GBytes) framed = dns_server_frame_tcp (message);

  sim_stream_write (stream, g_bytes_get_data (framed, NULL), g_bytes_get_size (framed), "dns.query");
}

static void
tcp_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  Resolution *r = user_data;
  g_autoptr (GError) error = NULL;

  g_byte_array_append (r->tcp_input, data, (guint) len);
  g_autoptr (GBytes) message = dns_server_take_tcp_message (r->tcp_input);
  if (message == NULL)
    return;
  g_autoptr (DnsMessage) response = dns_message_decode (g_bytes_get_data (message, NULL),
                                                       g_bytes_get_size (message), &error);
  if (response == NULL)
    {
      g_autofree char *why = g_strdup_printf ("sent a reply over TCP that does not decode (%s)", error->message);
      tcp_give_up (r, why);
      return;
    }
  if (!response_matches (r, response))
    {
      tcp_give_up (r, "answered over TCP with a reply that does not match the question");
      return;
    }
  /* One question per connection: closing at once frees the server's
   * resources (RFC 7766 6.2.3 lets either side close when idle). */
  stop_query (r);
  r->answered_over_tcp = TRUE;
  handle_response (r, response);
}

static void
tcp_closed (SimStream *stream, gpointer user_data)
{
  tcp_give_up (user_data, "closed the TCP connection without answering");
}

static void
tcp_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  Resolution *r = user_data;
  g_autofree char *why = g_strdup_printf ("could not be reached over TCP: %s", sim_stream_error_to_string (error));

  /* A failed stream is finished: it must not be closed again. */
  r->stream = NULL;
  tcp_give_up (r, why);
}

static const SimStreamCallbacks tcp_callbacks = {
  tcp_connected, tcp_received, tcp_closed, tcp_failed,
};

/* RFC 1035 4.2.1, RFC 7766 5: a truncated UDP answer is not an answer;
 * the same question goes to the same server over TCP, where a message may
 * be up to 65535 octets. */
static void
retry_over_tcp (Resolution *r)
{
  DnsResolver *self = r->resolver;
  SimNetwork *network = sim_node_get_network (self->node);
  char address[16];

  if (top_of (r)->queries_sent >= DNS_RESOLVER_MAX_QUERIES)
    {
      finish_servfail (r, "too many queries for one question");
      return;
    }
  top_of (r)->queries_sent++;
  sim_node_emit (self->node, SIM_EVENT_NOTE, "", "dns", "dns.query.retry-tcp", "retry-tcp", NULL,
                 "%s (%s) truncated its answer about %s %s: asking again over TCP",
                 r->asked != NULL ? r->asked->name : "the server", sim_address_to_string (r->asked_address, address),
                 dns_type_to_string (r->type), r->name);
  r->tcp_input = g_byte_array_new ();
  r->timer = sim_scheduler_after (sim_network_get_scheduler (network), DNS_RESOLVER_TCP_TIMEOUT, tcp_timed_out, r,
                                  NULL);
  r->stream = sim_network_connect (network, self->node, r->asked_address, DNS_SERVER_PORT, &tcp_callbacks, r);
}

static void
send_query (Resolution *r, ResolverServer *server)
{
  DnsResolver *self = r->resolver;
  SimNetwork *network = sim_node_get_network (self->node);
  g_autoptr (DnsMessage) query = NULL;
  g_autoptr (GBytes) bytes = NULL;

  r->id = self->next_id++;
  r->port = sim_node_allocate_port (self->node);
  r->asked = server;
  r->asked_address = server->address;
  server->tried = TRUE;
  top_of (r)->queries_sent++;

  /* RFC 1034 5.3.3 step 3: the resolver does the work, so RD stays clear. */
  query = dns_message_new_query (r->id, r->name, r->type, FALSE);
  bytes = dns_message_encode (query, DNS_UDP_MAX_PLAIN);
  sim_node_bind_datagram (self->node, r->port, "dns", receive_response, r);
  r->timer = sim_scheduler_after (sim_network_get_scheduler (network), DNS_RESOLVER_QUERY_TIMEOUT, query_timed_out,
                                  r, NULL);
  sim_network_send_datagram (network, self->node, r->port, server->address, DNS_SERVER_PORT, "dns", bytes,
                             "dns.query");
}

/* RFC 1034 5.3.3 step 3 and 4d: send to the next untried server of the
 * set, those with a known address first; a server known only by name gets
 * its address looked up first.  SERVFAIL when none is left. */
static void
ask_next_server (Resolution *r)
{
  DnsResolver *self = r->resolver;

  if (top_of (r)->queries_sent >= DNS_RESOLVER_MAX_QUERIES)
    {
      finish_servfail (r, "too many queries for one question");
      return;
    }
  for (guint i = 0; i < r->servers->len; i++)
    {
      ResolverServer *server = g_ptr_array_index (r->servers, i);
      if (!server->tried && server->address != 0)
        {
          send_query (r, server);
          return;
        }
    }
  for (guint i = 0; i < r->servers->len; i++)
    {
      ResolverServer *server = g_ptr_array_index (r->servers, i);
      if (server->tried)
        continue;
      server->tried = TRUE;
      /* A server inside the zone it serves can only be reached through
       * glue; looking it up would lead back here. */
      if (r->depth >= DNS_RESOLVER_MAX_DEPTH || dns_name_is_subdomain (server->name, r->zone))
        continue;
      sim_node_emit (self->node, SIM_EVENT_NOTE, "", "dns", "dns.response.referral", "lookup", NULL,
                     "the referral for %s gave no address for %s: looking it up first", r->zone,
                     server->name);
      r->waiting_for = server;
      resolve (resolution_new (self, r, server->name, DNS_TYPE_A));
      return;
    }
  g_autofree char *reason = g_strdup_printf ("every name server of %s failed", r->zone);
  finish_servfail (r, reason);
}

/* A nested resolution ended: @address is the server's, or 0. */
static void
server_address_found (Resolution *r, guint32 address)
{
  ResolverServer *server = r->waiting_for;

  r->waiting_for = NULL;
  if (server != NULL && address != 0)
    {
      server->address = address;
      send_query (r, server);
      return;
    }
  ask_next_server (r);
}

static const DnsRecord *
find_soa (const DnsMessage *response, const char *name)
{
  for (guint i = 0; i < response->authorities->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (response->authorities, i);
      if (record->type == DNS_TYPE_SOA && dns_name_is_subdomain (name, record->name))
        return record;
    }
  return NULL;
}

static void
server_failed (Resolution *r, const DnsMessage *response, const char *why)
{
  char address[16];

  sim_node_emit (r->resolver->node, SIM_EVENT_NOTE, "", "dns", dns_message_explain_key (response), "failed", NULL,
                 "%s (%s) %s: %s", r->asked != NULL ? r->asked->name : "the server",
                 sim_address_to_string (r->asked_address, address), why, next_step (r));
  ask_next_server (r);
}

/* RFC 1034 5.3.3 step 4b: a referral must lead closer to the name, to a
 * zone below the one asked; otherwise the server is lame and a loop
 * begins. */
static void
follow_referral (Resolution *r, const DnsMessage *response)
{
  DnsResolver *self = r->resolver;
  const char *zone = NULL;

  for (guint i = 0; i < response->authorities->len && zone == NULL; i++)
    {
      const DnsRecord *record = g_ptr_array_index (response->authorities, i);
      if (record->type == DNS_TYPE_NS)
        zone = record->name;
    }
  if (zone == NULL || !dns_name_is_subdomain (r->name, zone) || !dns_name_is_subdomain (zone, r->zone)
      || dns_name_equal (zone, r->zone))
    {
      server_failed (r, response, "sent a referral that does not lead closer (a lame delegation)");
      return;
    }
  if (++r->referrals > DNS_RESOLVER_MAX_REFERRALS)
    {
      finish_servfail (r, "too many referrals");
      return;
    }

  g_autofree char *zone_name = g_strdup (zone);
  g_autoptr (GPtrArray) ns_records = g_ptr_array_new ();
  for (guint i = 0; i < response->authorities->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (response->authorities, i);
      if (record->type == DNS_TYPE_NS && dns_name_equal (record->name, zone_name))
        g_ptr_array_add (ns_records, (gpointer) record);
    }
  cache_rrset (self, ns_records, zone_name, DNS_TYPE_NS, CACHE_TRUST_REFERRAL);
  /* RFC 2181 5.4.1: glue is believed only inside the zone of the server
   * that sent it, so a server cannot plant addresses for other zones. */
  for (guint i = 0; i < response->additionals->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (response->additionals, i);
      if (record->type != DNS_TYPE_A || !dns_name_is_subdomain (record->name, r->zone))
        continue;
      for (guint j = 0; j < ns_records->len; j++)
        {
          const DnsRecord *ns = g_ptr_array_index (ns_records, j);
          if (ns->target != NULL && dns_name_equal (ns->target, record->name))
            {
              cache_rrset (self, response->additionals, record->name, DNS_TYPE_A, CACHE_TRUST_REFERRAL);
              break;
            }
        }
    }

  guint known;
  GPtrArray *servers = servers_from_ns (self, ns_records, response->additionals, r->zone, &known);
  set_servers (r, zone_name, servers);
  ask_next_server (r);
}

/* Walk the answer section from r->name: its records end @r; CNAMEs move
 * r->name along.  Returns TRUE when @r was finished, and sets *@moved when
 * the chain advanced without reaching the data. */
static gboolean
take_answers (Resolution *r, const DnsMessage *response, gboolean *moved)
{
  DnsResolver *self = r->resolver;

  *moved = FALSE;
  for (;;)
    {
      g_autoptr (GPtrArray) records = g_ptr_array_new ();
      const DnsRecord *cname = NULL;
      for (guint i = 0; i < response->answers->len; i++)
        {
          const DnsRecord *record = g_ptr_array_index (response->answers, i);
          if (!dns_name_equal (record->name, r->name))
            continue;
          if (r->type == DNS_TYPE_ANY || record->type == r->type)
            g_ptr_array_add (records, (gpointer) record);
          else if (record->type == DNS_TYPE_CNAME)
            cname = record;
        }
      if (records->len > 0)
        {
          if (r->type != DNS_TYPE_ANY)
            cache_rrset (self, response->answers, r->name, r->type, CACHE_TRUST_ANSWER);
          finish (r, DNS_RCODE_NOERROR, records, NULL);
          return TRUE;
        }
      if (cname == NULL)
        return FALSE;
      cache_rrset (self, response->answers, r->name, DNS_TYPE_CNAME, CACHE_TRUST_ANSWER);
      if (!follow_cname (r, cname))
        return TRUE;
      *moved = TRUE;
    }
}

static void
handle_negative (Resolution *r, const DnsMessage *response, guint8 rcode)
{
  const DnsRecord *soa = find_soa (response, r->name);

  cache_negative (r->resolver, r->name, r->type, rcode, soa);
  finish (r, rcode, NULL, soa);
}

static void
handle_response (Resolution *r, const DnsMessage *response)
{
  DnsResponseKind kind = dns_message_classify (response);
  gboolean moved = FALSE;

  if ((response->rcode == DNS_RCODE_NOERROR || response->rcode == DNS_RCODE_NXDOMAIN) && !response->tc
      && response->answers->len > 0)
    {
      if (take_answers (r, response, &moved))
        return;
      if (moved)
        {
          /* The server followed the chain as far as its zone goes: a
           * denial for the target comes with its SOA (RFC 2308 2.1, 2.2);
           * otherwise the target lives elsewhere and resolution restarts
           * from it (RFC 1034 5.3.3 step 4c). */
          if (response->rcode == DNS_RCODE_NXDOMAIN)
            handle_negative (r, response, DNS_RCODE_NXDOMAIN);
          else if (response->aa && find_soa (response, r->name) != NULL)
            handle_negative (r, response, DNS_RCODE_NOERROR);
          else
            resolve (r);
          return;
        }
      server_failed (r, response, "answered with records that do not match the question");
      return;
    }

  switch (kind)
    {
    case DNS_RESPONSE_REFERRAL:
      follow_referral (r, response);
      break;
    case DNS_RESPONSE_NXDOMAIN:
    case DNS_RESPONSE_NODATA:
      /* Only an authoritative denial counts; anything else is a server
       * that does not know the zone it was named for. */
      if (!response->aa)
        server_failed (r, response, "answered without authority (a lame delegation)");
      else
        handle_negative (r, response, response->rcode);
      break;
    case DNS_RESPONSE_TRUNCATED:
      if (r->answered_over_tcp)
        server_failed (r, response, "truncated its answer even over TCP");
      else
        retry_over_tcp (r);
      break;
    default:
      server_failed (r, response, dns_rcode_to_string (response->rcode));
      break;
    }
}

/* ---- the public face ---- */

DnsResolver *
dns_resolver_new (SimNode *node, guint32 root_address)
{
  DnsResolver *self = g_new0 (DnsResolver, 1);

  self->node = node;
  self->root_address = root_address;
  /* Like the stub: a counter seeded by the node's address, the same on
   * every run (RFC 5452 asks for random ids; a lesson asks for repeatable
   * ones, and nothing here spoofs). */
  self->next_id = (guint16) (0x2000 + (sim_node_get_address (node) & 0x0fff) * 11);
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) cache_entry_free);
  self->resolutions = g_ptr_array_new_with_free_func ((GDestroyNotify) resolution_free);
  return self;
}

void
dns_resolver_free (DnsResolver *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->resolutions);
  g_hash_table_unref (self->cache);
  g_free (self);
}

void
dns_resolver_flush_cache (DnsResolver *self)
{
  g_hash_table_remove_all (self->cache);
}

static gboolean
is_retransmission (DnsResolver *self, guint32 client_address, guint16 client_port, DnsResolverReplyFunc reply,
                   gpointer reply_data, guint16 id)
{
  for (guint i = 0; i < self->resolutions->len; i++)
    {
      const Resolution *r = g_ptr_array_index (self->resolutions, i);
      if (r->parent != NULL || r->response->id != id || r->reply != reply)
        continue;
      if (reply != NULL ? r->reply_data == reply_data && !r->client_gone
                        : r->client_address == client_address && r->client_port == client_port)
        return TRUE;
    }
  return FALSE;
}

static void
handle_query (DnsResolver *self, guint32 client_address, guint16 client_port, DnsResolverReplyFunc reply,
              gpointer reply_data, const DnsMessage *query)
{
  if (query->qr || is_retransmission (self, client_address, client_port, reply, reply_data, query->id))
    return;

  /* RFC 7766 8: over TCP the whole answer fits, whatever the query said. */
  gsize max_size = reply != NULL ? DNS_MAX_MESSAGE : dns_message_max_udp_response (query);
  const DnsQuestion *question = query->questions->len == 1 ? g_ptr_array_index (query->questions, 0) : NULL;
  guint8 refusal = DNS_RCODE_NOERROR;
  if (query->opcode != DNS_OPCODE_QUERY)
    refusal = DNS_RCODE_NOTIMP;  /* RFC 1035 4.1.1 */
  else if (question == NULL || question->type == DNS_TYPE_OPT)
    refusal = DNS_RCODE_FORMERR;  /* RFC 9619: one question per query */
  else if (question->klass != DNS_CLASS_IN)
    refusal = DNS_RCODE_REFUSED;
  else if (query->has_edns && query->edns_version > 0)
    refusal = DNS_RCODE_BADVERS;  /* RFC 6891 6.1.3 */
  if (refusal != DNS_RCODE_NOERROR)
    {
      g_autoptr (DnsMessage) response = dns_message_new_response (query);
      response->rcode = refusal;
      response->ra = TRUE;
      if (reply != NULL)
        reply (response, reply_data);
      else
        send_to_client (self, client_address, client_port, response, max_size);
      return;
    }

  Resolution *r = resolution_new (self, NULL, question->name, question->type);
  r->client_address = client_address;
  r->client_port = client_port;
  r->reply = reply;
  r->reply_data = reply_data;
  r->response = dns_message_new_response (query);
  r->max_response_size = max_size;
  resolve (r);
}

void
dns_resolver_handle_query (DnsResolver *self, guint32 client_address, guint16 client_port,
                           const DnsMessage *query)
{
  g_return_if_fail (self != NULL && query != NULL);

  handle_query (self, client_address, client_port, NULL, NULL, query);
}

void
dns_resolver_handle_query_with_reply (DnsResolver *self, const DnsMessage *query, DnsResolverReplyFunc reply,
                                      gpointer user_data)
{
  g_return_if_fail (self != NULL && query != NULL && reply != NULL);

  handle_query (self, 0, 0, reply, user_data, query);
}

void
dns_resolver_forget_client (DnsResolver *self, gpointer user_data)
{
  for (guint i = 0; i < self->resolutions->len; i++)
    {
      Resolution *r = g_ptr_array_index (self->resolutions, i);
      if (r->parent == NULL && r->reply != NULL && r->reply_data == user_data)
        r->client_gone = TRUE;
    }
}
