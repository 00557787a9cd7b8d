/* dns-server.h: a name server node.
 *
 * Authoritative for the zones it is given (a root, a TLD, a domain), it
 * answers queries on UDP port 53 with dns_zones_answer(), cut to what
 * the asker accepts over UDP (TC set when an answer RRset was dropped).
 * It also listens on TCP port 53, where each message is prefixed by its
 * length in two octets and answers are never cut (RFC 1035 4.2.2,
 * RFC 7766).  Given a root hint it is also a recursive resolver
 * (dns-resolver.h): queries with RD set go to the resolver, on either
 * transport, and the others get the authoritative answer.
 */
#pragma once

#include <glib.h>

#include "net/sim-network.h"
#include "nodes/dns-resolver.h"
#include "proto/dns/dns-zone.h"

G_BEGIN_DECLS

typedef struct _DnsServer DnsServer;

#define DNS_SERVER_PORT 53
/* RFC 1035 4.2.2: the length prefix of a DNS message over TCP. */
#define DNS_TCP_LENGTH_SIZE 2

/* (transfer full) @message with its two-octet length in front, for a TCP
 * stream.  @message is at most DNS_MAX_MESSAGE octets. */
GBytes *dns_server_frame_tcp (GBytes *message);
/* Takes the first whole message out of @input, the bytes a TCP stream
 * delivered so far: (transfer full) the message without its prefix, or
 * NULL while its last octet has not arrived (streams deliver in chunks
 * that need not match messages). */
GBytes *dns_server_take_tcp_message (GByteArray *input);

DnsServer *dns_server_new (SimNode *node);
void dns_server_free (DnsServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsServer, dns_server_free)

SimNode *dns_server_get_node (DnsServer *self);
/* Takes ownership of @zone. */
void dns_server_add_zone (DnsServer *self, DnsZone *zone);
/* (transfer none) of DnsZone*, for timeline changes to records. */
GPtrArray *dns_server_get_zones (DnsServer *self);
DnsZone *dns_server_find_zone (DnsServer *self, const char *origin);

/* Make the node a recursive resolver that starts from the root server at
 * @root_address (host byte order); replaces an earlier resolver and its
 * cache. */
void dns_server_set_root_hint (DnsServer *self, guint32 root_address);
/* (transfer none) The resolver, or NULL when no root hint was set. */
DnsResolver *dns_server_get_resolver (DnsServer *self);

G_END_DECLS
