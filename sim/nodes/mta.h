/* mta.h: a mail transfer agent node.
 *
 * It accepts mail over SMTP (port 25 for mail to its own domains, port 587
 * for its users' submissions after AUTH), keeps it in a queue, and moves
 * each recipient's copy on: to a mail store over LMTP for its own domains,
 * to the next MTA found through DNS MX records (or a smarthost) otherwise.
 * Temporary failures are retried on a schedule; permanent ones, and mail
 * too long in the queue, bounce back to the sender with a DSN.
 */
#pragma once

#include <glib.h>

#include "net/sim-network.h"

G_BEGIN_DECLS

typedef struct _Mta Mta;
typedef struct _SimWorld SimWorld;

#define MTA_PORT_SMTP 25
#define MTA_PORT_SUBMISSION 587
#define MTA_PORT_LMTP 24
/* RFC 5321 4.5.4.1: retry at least 30 minutes apart and give up after
 * 4-5 days.  Lessons use shorter, configurable values. */
#define MTA_DEFAULT_RETRY_INTERVAL (5 * SIM_TIME_MINUTE)
/* The longest wait between two attempts; Postfix's default is 4000 s. */
#define MTA_DEFAULT_MAX_BACKOFF (4000 * SIM_TIME_SECOND)
#define MTA_DEFAULT_QUEUE_LIFETIME (5 * SIM_TIME_DAY)
/* RFC 5321 6.3: a message with this many Received fields is looping. */
#define MTA_MAX_RECEIVED 30

Mta *mta_new (SimWorld *world, SimNode *node);
void mta_free (Mta *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mta, mta_free)

/* Configuration, before the run starts. */
void mta_set_resolver (Mta *self, guint32 resolver_address);
void mta_enable_submission (Mta *self);
void mta_add_user (Mta *self, const char *address, const char *password);
/* Mail for @domain is this MTA's to deliver, over LMTP to @store_address. */
void mta_add_local_domain (Mta *self, const char *domain, guint32 store_address);
/* Relay everything else through @address instead of using MX records. */
void mta_set_smarthost (Mta *self, guint32 address);
/* Relay mail to any domain for the client at @address, without AUTH: a
 * trusted network such as Postfix's mynetworks. */
void mta_add_relay_client (Mta *self, guint32 address);
/* Retry @interval after the first failure, doubling up to @max_backoff
 * (0: the default, 4000 s, or @interval if longer); bounce after @lifetime. */
void mta_set_retry (Mta *self, SimTime interval, SimTime max_backoff, SimTime lifetime);
/* Offer STARTTLS on its servers and use it when relaying (simulated TLS). */
void mta_set_starttls (Mta *self, gboolean starttls);
/* The largest message accepted (RFC 1870 SIZE); 0 keeps the default. */
void mta_set_size_limit (Mta *self, gsize limit);
/* Warn the sender (RFC 3464 Action: delayed) once mail waited @delay. */
void mta_set_warn_after (Mta *self, SimTime delay);

/* Policies for mail arriving on port 25 (mta-policy.h, spf.h). */
void mta_set_greylist (Mta *self, SimTime delay);
void mta_set_rate_limit (Mta *self, guint limit, SimTime window);
void mta_set_dnsbl (Mta *self, const char *zone);
void mta_set_spam_threshold (Mta *self, guint threshold);
void mta_disable_spam_scoring (Mta *self);
/* mta_set_greylist (0), mta_set_rate_limit (0, _) and mta_set_dnsbl (NULL)
 * switch those policies off, for changes on the timeline. */
void mta_set_spf (Mta *self, gboolean check, gboolean reject_fail);

/* The node crashed (after sim_node_set_up (node, FALSE)) or came back.
 * Sessions and delivery attempts in flight end (their recipients are
 * deferred); the queue survives, as a spool on disk does, and no retry runs
 * until the host is up again. */
void mta_host_down (Mta *self);
void mta_host_up (Mta *self);

SimNode *mta_get_node (Mta *self);
/* Recipients still waiting in the queue (for the run's accounting). */
guint mta_count_queued_recipients (Mta *self);

G_END_DECLS
