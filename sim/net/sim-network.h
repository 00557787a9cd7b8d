/* sim-network.h: nodes, links, routes, virtual streams and datagrams.
 *
 * A node has a name and an IPv4 address.  Links join two nodes with a
 * latency and can go down and come up.  A transmission between two nodes
 * follows the route of least total latency over links that are up; its
 * arrival time is its departure time plus that latency.  Streams behave
 * like TCP connections as a student sees them (handshake, ordered bytes,
 * orderly close, refused, unreachable, reset); datagrams like UDP.  Every
 * transmission is a trace event with departure and arrival time.
 */
#pragma once

#include <glib.h>

#include "core/sim-scheduler.h"
#include "net/sim-transport.h"
#include "trace/sim-trace.h"

G_BEGIN_DECLS

typedef struct _SimNetwork SimNetwork;
typedef struct _SimNode SimNode;
typedef struct _SimLink SimLink;
typedef struct _SimStream SimStream;

#define SIM_NETWORK_ERROR (sim_network_error_quark ())
typedef enum
{
  SIM_NETWORK_ERROR_DUPLICATE,
  SIM_NETWORK_ERROR_ADDRESS,
  SIM_NETWORK_ERROR_LINK,
} SimNetworkError;
GQuark sim_network_error_quark (void);

/* How long a connection attempt over a broken path waits before giving up,
 * and how long unacknowledged data waits before the connection is declared
 * dead.  Real stacks retransmit for minutes; these keep lessons short. */
#define SIM_TCP_CONNECT_TIMEOUT (30 * SIM_TIME_SECOND)
#define SIM_TCP_RETRANSMIT_TIMEOUT (15 * SIM_TIME_SECOND)
#define SIM_EPHEMERAL_PORT_FIRST 49152
/* RFC 6298 2.1 and 5.5: the first retransmission waits 1 s, each further
 * one twice as long; a lesson gives up after a few. */
#define SIM_TCP_RETRANSMIT_FIRST SIM_TIME_SECOND
#define SIM_TCP_MAX_RETRANSMITS 5

SimNetwork *sim_network_new (SimScheduler *scheduler, SimTrace *trace);
void sim_network_free (SimNetwork *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimNetwork, sim_network_free)

SimScheduler *sim_network_get_scheduler (SimNetwork *self);
SimTrace *sim_network_get_trace (SimNetwork *self);
SimTime sim_network_now (SimNetwork *self);

/* Addresses are IPv4 in host byte order. */
gboolean sim_address_parse (const char *text, guint32 *address);
const char *sim_address_to_string (guint32 address, char buffer[16]);

SimNode *sim_network_add_node (SimNetwork *self, const char *name, guint32 address, GError **error);
SimNode *sim_network_find_node (SimNetwork *self, const char *name);
SimNode *sim_network_find_node_by_address (SimNetwork *self, guint32 address);
/* Nodes in the order they were added. (transfer none) */
GPtrArray *sim_network_get_nodes (SimNetwork *self);

const char *sim_node_get_name (const SimNode *node);
guint32 sim_node_get_address (const SimNode *node);
gboolean sim_node_is_up (const SimNode *node);
/* A node going down resets every connection it has and stops answering:
 * its own stream owners get failed(RESET) at once, its peers one path
 * latency later.  Its listeners stay registered and answer again once it
 * is up. */
void sim_node_set_up (SimNode *node, gboolean up);
SimNetwork *sim_node_get_network (SimNode *node);
guint16 sim_node_allocate_port (SimNode *node);

SimLink *sim_network_add_link (SimNetwork *self, SimNode *a, SimNode *b, SimTime latency, GError **error);
SimLink *sim_network_find_link (SimNetwork *self, SimNode *a, SimNode *b);
GPtrArray *sim_network_get_links (SimNetwork *self);
SimNode *sim_link_get_a (const SimLink *link);
SimNode *sim_link_get_b (const SimLink *link);
SimTime sim_link_get_latency (const SimLink *link);
void sim_link_set_latency (SimLink *link, SimTime latency);
gboolean sim_link_is_up (const SimLink *link);
/* The chance (0..1) that a packet is lost crossing the link.  Datagrams are
 * then lost; stream segments arrive late, after TCP's retransmissions. */
void sim_link_set_loss (SimLink *link, double loss);
double sim_link_get_loss (const SimLink *link);
void sim_link_set_up (SimLink *link, gboolean up);

/* Something listening on a link (an eavesdropper): called for every
 * transmission that crosses it, when it is sent. */
typedef void (*SimLinkTapFunc) (SimLink *link, SimNode *from, SimNode *to, const char *protocol,
                                GBytes *bytes, gboolean encrypted, gpointer user_data);
void sim_link_add_tap (SimLink *link, SimLinkTapFunc func, gpointer user_data);

/* The route from @from to @to: node names in order, both ends included.
 * FALSE when no route of up links exists. */
gboolean sim_network_route (SimNetwork *self, SimNode *from, SimNode *to,
                            GPtrArray **path, SimTime *latency);

/* ---- streams ---- */

typedef enum
{
  SIM_STREAM_REFUSED,      /* the peer answered RST: nothing listens on that port */
  SIM_STREAM_UNREACHABLE,  /* no route, or the peer is down: the attempt timed out */
  SIM_STREAM_RESET,        /* the open connection broke */
} SimStreamError;

const char *sim_stream_error_to_string (SimStreamError error);

typedef struct
{
  /* Client side: the handshake completed. */
  void (*connected) (SimStream *stream, gpointer user_data);
  void (*received) (SimStream *stream, const guint8 *data, gsize len, gpointer user_data);
  /* The peer closed its side (FIN).  The stream stays usable for writing
   * until this side closes too. */
  void (*closed) (SimStream *stream, gpointer user_data);
  /* The attempt or the connection failed; no callback follows. */
  void (*failed) (SimStream *stream, SimStreamError error, gpointer user_data);
} SimStreamCallbacks;

/* The acceptor sets the server side's callbacks with sim_stream_set_handler(). */
typedef void (*SimAcceptFunc) (SimStream *stream, gpointer user_data);

void sim_node_listen (SimNode *node, guint16 port, const char *protocol,
                      SimAcceptFunc accept, gpointer user_data);
void sim_node_unlisten (SimNode *node, guint16 port);

/* Opens a connection from @from to @address:@port.  The stream belongs to
 * the network: it stays valid until this side has closed it (or failed)
 * and the callbacks have returned. */
SimStream *sim_network_connect (SimNetwork *self, SimNode *from, guint32 address, guint16 port,
                                const SimStreamCallbacks *callbacks, gpointer user_data);

void sim_stream_set_handler (SimStream *stream, const SimStreamCallbacks *callbacks, gpointer user_data);
void sim_stream_write (SimStream *stream, const guint8 *data, gsize len, const char *explain_key);
/* Orderly close: a FIN after every written byte.  No callback reaches this
 * side afterwards. */
void sim_stream_close (SimStream *stream);
SimTransport *sim_stream_get_transport (SimStream *stream);
/* From now on this side's bytes travel under simulated TLS (RFC 3207). */
void sim_stream_start_tls (SimStream *stream);
gboolean sim_stream_is_encrypted (SimStream *stream);
SimNode *sim_stream_get_node (SimStream *stream);
SimNode *sim_stream_get_peer_node (SimStream *stream);
guint32 sim_stream_get_peer_address (SimStream *stream);
guint64 sim_stream_get_id (SimStream *stream);
const char *sim_stream_get_protocol (SimStream *stream);

/* ---- datagrams ---- */

typedef void (*SimDatagramFunc) (SimNode *node, guint32 from_address, guint16 from_port,
                                 guint16 to_port, GBytes *payload, gpointer user_data);

void sim_node_bind_datagram (SimNode *node, guint16 port, const char *protocol,
                             SimDatagramFunc receive, gpointer user_data);
void sim_node_unbind_datagram (SimNode *node, guint16 port);

/* Sends one datagram.  It is lost (a LOST event) when no route exists, the
 * destination is down or nothing is bound to the port. */
void sim_network_send_datagram (SimNetwork *self, SimNode *from, guint16 from_port,
                                guint32 to_address, guint16 to_port, const char *protocol,
                                GBytes *payload, const char *explain_key);

/* A trace event from a node that is not a transmission (MAIL, NOTE). */
void sim_node_emit (SimNode *node, SimEventKind kind, const char *to, const char *protocol,
                    const char *explain_key, const char *status, const char *message,
                    const char *format, ...) G_GNUC_PRINTF (8, 9);

G_END_DECLS
