/* mta-policy.h: the anti-spam policies a receiving MTA may apply.
 *
 * Each policy is a small piece of state with a check the MTA calls at the
 * right moment of the SMTP dialogue (sim/nodes/mta.c):
 *
 * - greylisting (RFC 6647): the first attempt of an unknown (client
 *   address, sender, recipient) triplet is deferred; a retry after the
 *   delay passes, and the triplet is remembered;
 * - a recipient rate limit: at most N recipients per time window from one
 *   client (Postfix's anvil); more get a temporary refusal;
 * - a DNS blocklist (RFC 5782): the name under which the client's address
 *   is listed;
 * - a content score: a few visible rules a student can reproduce by hand.
 *
 * SPF (RFC 7208) needs DNS lookups of its own and lives in spf.h.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"

G_BEGIN_DECLS

/* ---- greylisting ---- */

typedef struct _MtaGreylist MtaGreylist;

typedef enum
{
  MTA_GREYLIST_PASS,        /* known triplet, delay over: accept */
  MTA_GREYLIST_NEW,         /* first attempt: remembered, deferred */
  MTA_GREYLIST_TOO_EARLY,   /* retried before the delay passed: deferred again */
} MtaGreylistVerdict;

MtaGreylist *mta_greylist_new (SimTime delay);
void mta_greylist_free (MtaGreylist *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtaGreylist, mta_greylist_free)

SimTime mta_greylist_get_delay (const MtaGreylist *self);
/* @remaining (may be NULL) receives how long the sender must still wait. */
MtaGreylistVerdict mta_greylist_check (MtaGreylist *self, guint32 client, const char *sender,
                                       const char *recipient, SimTime now, SimTime *remaining);

/* ---- rate limit ---- */

typedef struct _MtaRateLimit MtaRateLimit;

MtaRateLimit *mta_rate_limit_new (guint limit, SimTime window);
void mta_rate_limit_free (MtaRateLimit *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtaRateLimit, mta_rate_limit_free)

guint mta_rate_limit_get_limit (const MtaRateLimit *self);
SimTime mta_rate_limit_get_window (const MtaRateLimit *self);
/* Whether @client may have one more recipient now (a sliding window:
 * recipients older than the window no longer count). */
gboolean mta_rate_limit_allows (MtaRateLimit *self, const char *client, SimTime now);
/* Counts one accepted recipient for @client. */
void mta_rate_limit_record (MtaRateLimit *self, const char *client, SimTime now);

/* ---- DNS blocklists ---- */

/* RFC 5782 2.1: the query name for IPv4 @client (host byte order) in
 * @zone: the address's octets reversed, then the zone ("66.100.51.198.
 * bl.example.net."). (transfer full) */
char *mta_dnsbl_query_name (guint32 client, const char *zone);

/* ---- content score ---- */

/* Points of the content rules (documented in docs/scenario-format.md). */
#define MTA_SPAM_POINTS_WORD 2         /* each listed word, once per word */
#define MTA_SPAM_POINTS_CAPITALS 3     /* a Subject in capitals */
#define MTA_SPAM_POINTS_EXCLAMATIONS 2 /* three or more '!' in Subject and body */
#define MTA_SPAM_POINTS_SPF_FAIL 3     /* added by the MTA when SPF said fail */
#define MTA_SPAM_POINTS_SPF_SOFTFAIL 1 /* ... or softfail */

/* Scores @message (RFC 5322 bytes); @tests (may be NULL) receives the
 * rules that matched, as "SPAM_WORD(free) CAPS_SUBJECT ..." (transfer full). */
guint mta_spam_score (GBytes *message, char **tests);

G_END_DECLS
