/* dns-stub.h: the stub resolver every MTA and client carries.
 *
 * It sends one question at a time to its recursive resolver over a virtual
 * UDP datagram, waits for the answer, retries after a timeout, and hands
 * the decoded response (or the failure) to the caller (RFC 1034 5.3.1).
 * A truncated answer (TC) is asked again over a TCP connection to the
 * resolver's port 53 (RFC 1035 4.2.1, RFC 7766 5).
 */
#pragma once

#include <glib.h>

#include "net/sim-network.h"
#include "proto/dns/dns-message.h"

G_BEGIN_DECLS

typedef struct _DnsStub DnsStub;

/* RFC 1536 1 and common stub defaults, scaled for lessons. */
#define DNS_STUB_RETRY_INTERVAL (2 * SIM_TIME_SECOND)
#define DNS_STUB_ATTEMPTS 3
/* How long the retry over TCP of a truncated answer may take. */
#define DNS_STUB_TCP_TIMEOUT (2 * DNS_STUB_RETRY_INTERVAL)

typedef enum
{
  DNS_STUB_ANSWER,     /* NOERROR with records */
  DNS_STUB_NODATA,     /* the name exists without records of that type */
  DNS_STUB_NXDOMAIN,   /* the name does not exist */
  DNS_STUB_SERVFAIL,   /* the resolver could not find out */
  DNS_STUB_TIMEOUT,    /* no answer at all */
} DnsStubStatus;

const char *dns_stub_status_to_string (DnsStubStatus status);

/* @response is NULL on timeout. */
typedef void (*DnsStubCallback) (DnsStubStatus status, const DnsMessage *response, gpointer user_data);

DnsStub *dns_stub_new (SimNode *node, guint32 resolver_address);
void dns_stub_free (DnsStub *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsStub, dns_stub_free)

void dns_stub_lookup (DnsStub *self, const char *name, guint16 type, DnsStubCallback callback, gpointer user_data);
/* Forgets every pending lookup made with @user_data: its callback will not
 * run (the asker is going away). */
void dns_stub_cancel (DnsStub *self, gpointer user_data);

G_END_DECLS
