/* dns-zone.h: authoritative zone data and the authoritative answer.
 *
 * A zone is an origin and the records a server is authoritative for below
 * it (RFC 1034 4.2), including NS records that delegate subdomains and the
 * glue addresses of their name servers.  dns_zones_answer() is the
 * authoritative half of the RFC 1034 4.3.2 algorithm: the answer a name
 * server gives from its own zones, with no recursion and no cache.
 *
 * Not simulated: wildcards (RFC 1034 4.3.3), zone transfers, DNSSEC.
 */
#pragma once

#include <glib.h>

#include "dns-message.h"

G_BEGIN_DECLS

/* RFC 1034 3.6.2 allows chains; this bounds how many CNAMEs one answer
 * follows, so a loop in the data ends. */
#define DNS_MAX_CNAME_CHAIN 8

typedef struct _DnsZone DnsZone;

/* (transfer full) An empty zone.  @origin need not end with a dot; returns
 * NULL with a critical warning when it is not a valid name. */
DnsZone *dns_zone_new (const char *origin);
void dns_zone_free (DnsZone *zone);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsZone, dns_zone_free)

/* The origin, absolute with a trailing dot. */
const char *dns_zone_get_origin (const DnsZone *zone);
/* (transfer none) Every record, DnsRecord *, in the order added. */
const GPtrArray *dns_zone_get_records (const DnsZone *zone);
/* (transfer none) The SOA record owned by the origin, or NULL. */
const DnsRecord *dns_zone_get_soa (const DnsZone *zone);
/* (transfer container) The records owned by @name with @type
 * (DNS_TYPE_ANY: every type), in the order added; never NULL. */
GPtrArray *dns_zone_lookup (const DnsZone *zone, const char *name, guint16 type);

/* Add @record (transfer full).  A record with the same owner, type and
 * data as one already held is dropped: an RRset is a set (RFC 2181 5).
 * A record outside the zone is a programming error: it is dropped with a
 * critical warning. */
void dns_zone_add (DnsZone *zone, DnsRecord *record);
/* Remove the RRset @name/@type (DNS_TYPE_ANY: everything owned by @name),
 * for timeline faults.  FALSE when there was nothing to remove. */
gboolean dns_zone_remove (DnsZone *zone, const char *name, guint16 type);

/* (transfer full) Parse one record written as in a zone file (RFC 1035 5.1):
 *
 *   owner [ttl] [IN] type data...
 *
 * "@" is @origin and names without a trailing dot are relative to it; TTL
 * and class may come in either order; a ';' starts a comment; parentheses
 * are ignored so a SOA may keep them; "\# length hex" (RFC 3597 5) gives
 * the data of any type.  On error: NULL, DNS_ERROR_ZONE_SYNTAX with a
 * message saying what was expected, and *@error_column (may be NULL) set to
 * the 0-based byte offset in @text of the offending token. */
DnsRecord *dns_zone_parse_record (const char *text, const char *origin, guint32 default_ttl,
                                  gsize *error_column, GError **error);
/* Parse @text as dns_zone_parse_record() with the zone's origin and add it;
 * an owner outside the zone is an error too. */
gboolean dns_zone_add_from_text (DnsZone *zone, const char *text, guint32 default_ttl,
                                 gsize *error_column, GError **error);

/* Check the rules a zone must keep before it is served: one SOA, at the
 * origin (RFC 1035 5.2); NS at the origin (RFC 1034 4.2.1); a CNAME owner
 * holds nothing else (RFC 1034 3.6.2); NS and MX point at names, not
 * aliases (RFC 2181 10.3); a name server inside a delegated subdomain has
 * glue (RFC 1034 4.2.1).  The error names the first broken rule. */
gboolean dns_zone_check (const DnsZone *zone, GError **error);

/* (transfer full) The authoritative answer (RFC 1034 4.3.2, steps 2 to 6)
 * of a server hosting @zones (DnsZone *) to @query:
 *
 * - the zone with the longest origin containing the name answers;
 *   none: REFUSED;
 * - below a delegation: a referral, NS in authority and their glue
 *   A/AAAA in additional, AA clear;
 * - CNAMEs are followed while they stay inside that zone;
 * - data found: AA set; MX and NS answers bring their targets' addresses
 *   as additional data when a hosted zone holds them;
 * - no such name: NXDOMAIN; name without that type: NOERROR and no
 *   answer (NODATA); both with the SOA in authority, its TTL lowered to
 *   the SOA minimum for negative caching (RFC 2308 3);
 * - opcode other than QUERY: NOTIMP; not exactly one question, or a
 *   question for OPT: FORMERR; class other than IN: REFUSED; EDNS
 *   version above 0: BADVERS (RFC 6891 6.1.3).
 *
 * Returns NULL when @query is itself a response (QR set): a server never
 * answers one, or two servers could answer each other forever. */
DnsMessage *dns_zones_answer (GPtrArray *zones, const DnsMessage *query);

G_END_DECLS
