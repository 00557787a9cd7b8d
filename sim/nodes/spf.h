/* spf.h: Sender Policy Framework checks (RFC 7208), a documented subset.
 *
 * A receiving MTA asks whether the client's IPv4 address may send mail for
 * the domain of the MAIL FROM address.  The domain publishes its answer as
 * a TXT record starting "v=spf1"; the check reads it term by term through
 * the MTA's stub resolver, asynchronously.
 *
 * Understood: the qualifiers + - ~ ?, the mechanisms all, ip4:ADDRESS[/LEN],
 * a[:DOMAIN], mx[:DOMAIN] and include:DOMAIN, with the limit of 10 terms
 * that cause DNS lookups (RFC 7208 4.6.4).  Modifiers (name=value, such as
 * redirect= and exp=) are ignored; any other mechanism (ip6, ptr, exists,
 * macros) makes the record a permerror.
 */
#pragma once

#include <glib.h>

#include "nodes/dns-stub.h"

G_BEGIN_DECLS

/* RFC 7208 4.6.4: at most 10 DNS-querying terms per check. */
#define SPF_MAX_DNS_TERMS 10
/* RFC 7208 4.6.4: an mx mechanism looks at no more than 10 exchangers. */
#define SPF_MAX_MX_NAMES 10

/* RFC 7208 2.6 */
typedef enum
{
  SPF_RESULT_NONE,
  SPF_RESULT_NEUTRAL,
  SPF_RESULT_PASS,
  SPF_RESULT_FAIL,
  SPF_RESULT_SOFTFAIL,
  SPF_RESULT_TEMPERROR,
  SPF_RESULT_PERMERROR,
} SpfResult;

const char *spf_result_to_string (SpfResult result);

typedef struct _SpfCheck SpfCheck;

/* @reason says in one sentence why (which term matched, or what failed). */
typedef void (*SpfCheckDone) (SpfResult result, const char *reason, gpointer user_data);

/* Starts check_host() (RFC 7208 4) for @client (host byte order) and
 * @domain.  @done runs once, later, unless the check is freed first. */
SpfCheck *spf_check_new (DnsStub *stub, guint32 client, const char *domain, SpfCheckDone done,
                         gpointer user_data);
/* Cancels a check still running; no callback follows. */
void spf_check_free (SpfCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpfCheck, spf_check_free)

G_END_DECLS
