/* dns-resolver.h: the recursive resolver of a name server node.
 *
 * A stub (dns-stub.h) asks it one question with RD set; it answers from
 * its cache or finds the answer itself by the RFC 1034 5.3.3 algorithm:
 * starting from the closest enclosing zone whose name servers it knows
 * (at first only the root hint), it asks with RD clear, follows referrals
 * down the tree and CNAME chains across it, caches what it learns for the
 * records' TTL counted in simulated time, caches negative answers
 * (RFC 2308), and answers SERVFAIL when every server of a zone failed or
 * the work budget of one question ran out.
 *
 * Each question to a name server leaves from its own ephemeral port with
 * an id from a counter, so a run is the same on every machine.  A server
 * that answers with TC set (the answer did not fit in 512 octets) is asked
 * the same question again over a TCP connection to its port 53
 * (RFC 1035 4.2.1, RFC 7766 5).
 */
#pragma once

#include <glib.h>

#include "net/sim-network.h"
#include "proto/dns/dns-message.h"

G_BEGIN_DECLS

typedef struct _DnsResolver DnsResolver;

/* How long the resolver waits for one name server before it tries the
 * next of the zone's servers.  RFC 1536 1 finds real defaults of 2 to 5
 * seconds; one second keeps lessons short and stays below the stub's
 * retry interval. */
#define DNS_RESOLVER_QUERY_TIMEOUT (1 * SIM_TIME_SECOND)
/* The same over TCP, where the handshake costs one more round trip. */
#define DNS_RESOLVER_TCP_TIMEOUT (2 * DNS_RESOLVER_QUERY_TIMEOUT)
/* Work bounds for one client question (RFC 1034 5.3.3 asks for "a bound on
 * the amount of work"; RFC 1035 7.2 too): queries sent in all, referrals
 * followed, and how deep the lookups of name server addresses may nest. */
#define DNS_RESOLVER_MAX_QUERIES 32
#define DNS_RESOLVER_MAX_REFERRALS 10
#define DNS_RESOLVER_MAX_DEPTH 3
/* Upper bounds on cached TTLs: one week for data (RFC 8767 4 suggests it),
 * three hours for negative answers (RFC 2308 5). */
#define DNS_RESOLVER_MAX_CACHE_TTL 604800
#define DNS_RESOLVER_MAX_NEGATIVE_TTL 10800

/* (transfer full) A resolver on @node, knowing one root server at
 * @root_address (host byte order).  It answers through the node's port 53,
 * which the caller (dns-server.c) has bound. */
DnsResolver *dns_resolver_new (SimNode *node, guint32 root_address);
/* Cancels every timer and unbinds every port of the questions in flight;
 * their clients get no answer. */
void dns_resolver_free (DnsResolver *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsResolver, dns_resolver_free)

/* A stub at @client_address:@client_port sent @query (RD set) to port 53:
 * answer it from the cache or after iterating, from port 53, RA set.  A
 * retransmission of a question still being resolved is ignored. */
void dns_resolver_handle_query (DnsResolver *self, guint32 client_address, guint16 client_port,
                                const DnsMessage *query);

/* Hands the answer to a client the caller talks to itself: dns-server.c
 * passes its TCP connections (RFC 7766), which frame and send @response. */
typedef void (*DnsResolverReplyFunc) (const DnsMessage *response, gpointer user_data);

/* Like dns_resolver_handle_query(), for a client reached through @reply:
 * called once, perhaps before this returns, with the response (never
 * truncated: @reply's transport carries up to DNS_MAX_MESSAGE octets). */
void dns_resolver_handle_query_with_reply (DnsResolver *self, const DnsMessage *query,
                                           DnsResolverReplyFunc reply, gpointer user_data);
/* The client @user_data is going away: its questions are still resolved
 * (what is learnt is cached) but @reply is not called for them. */
void dns_resolver_forget_client (DnsResolver *self, gpointer user_data);

/* Forget every cached record and negative answer. */
void dns_resolver_flush_cache (DnsResolver *self);

G_END_DECLS
