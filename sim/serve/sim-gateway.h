/* sim-gateway.h: where real sockets meet the simulated network.
 *
 * `mailsim serve` binds chosen simulated servers to local ports.  Each real
 * client connection enters the simulated network as a node of its own
 * ("real-client-N"), linked through a "gateway" router to the server it
 * asked for, so its commands travel, are narrated and traced exactly like
 * simulated traffic, and the same protocol state machines answer it.  DNS
 * queries (UDP, and TCP with its two-octet length prefix) enter from a
 * "real-dns-client" node.
 */
#pragma once

#include <gio/gio.h>

#include "core/sim-live.h"
#include "nodes/sim-world.h"

G_BEGIN_DECLS

typedef struct _SimGateway SimGateway;

/* Connections served at once; more are accepted and closed at once, so one
 * client cannot exhaust the process. */
#define SIM_GATEWAY_MAX_CONNECTIONS 1024
/* Bytes waiting for a slow reader before its connection is dropped. */
#define SIM_GATEWAY_MAX_PENDING (4 * 1024 * 1024)

SimGateway *sim_gateway_new (SimWorld *world, SimLive *live, GInetAddress *bind_address);
void sim_gateway_free (SimGateway *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimGateway, sim_gateway_free)

/* Serves @target's @target_port (SMTP 25, POP3 110, IMAP 143...) on local
 * @port (0 picks a free port); *bound_port receives the port. */
gboolean sim_gateway_add_stream (SimGateway *self, const char *protocol, guint16 port,
                                 SimNode *target, guint16 target_port, guint16 *bound_port, GError **error);

/* Serves the name server @target on local @port, over UDP and TCP. */
gboolean sim_gateway_add_dns (SimGateway *self, guint16 port, SimNode *target,
                              guint16 *bound_port, GError **error);

/* From now on, writes the nodes and links the gateway adds to @topology
 * as scenario statements, and what the outside clients do to @timeline as
 * timeline lines, so the session can be saved as a scenario. */
void sim_gateway_record (SimGateway *self, GString *topology, GString *timeline);

/* Connections open now and ever accepted (for tests and the summary). */
guint sim_gateway_get_open_connections (SimGateway *self);
guint sim_gateway_get_total_connections (SimGateway *self);

G_END_DECLS
