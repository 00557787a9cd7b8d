/* sim-external.h: clients from outside the simulation.
 *
 * A real client of `mailsim serve` and a scripted client of a scenario's
 * timeline (`connect`, `input`, `close`, `datagram`) are the same thing to
 * the simulated network: a node that opens a stream to a server and sends
 * it bytes.  Both go through this module, so a live session recorded as
 * timeline actions replays the same trace, byte for byte.
 */
#pragma once

#include <glib.h>

#include "nodes/sim-world.h"

G_BEGIN_DECLS

typedef struct _SimExternal SimExternal;

/* The simulated server sent @data to the outside client. */
typedef void (*SimExternalOutput) (gpointer user_data, const guint8 *data, gsize len);
/* The simulated side of the connection is gone (closed, refused, reset). */
typedef void (*SimExternalEnded) (gpointer user_data);

/* The world's registry of external clients, created on first use. */
SimExternal *sim_external_get (SimWorld *world);

/* Every later call is also written to @timeline as a scenario timeline
 * line ("  at 3.3056s connect 1 from real-client-1 to mx.example.org 25"). */
void sim_external_set_recorder (SimExternal *self, GString *timeline);

/* Opens a stream from @from to @to:@port for the outside client number
 * @id (unique in the run). @protocol names the lines' explanations
 * ("smtp", "pop3", "imap"). */
void sim_external_connect (SimExternal *self, guint id, SimNode *from, SimNode *to, guint16 port,
                           const char *protocol, SimExternalOutput output, SimExternalEnded ended,
                           gpointer user_data);
/* Bytes from the outside client, as they came. */
void sim_external_input (SimExternal *self, guint id, const guint8 *data, gsize len);
/* The outside client closed (or vanished). */
void sim_external_close (SimExternal *self, guint id);
/* Forgets the callbacks of @id: its outside end is gone. */
void sim_external_detach (SimExternal *self, guint id);

/* One datagram from outside, sent from @from:@from_port.  The port must
 * have been allocated with sim_node_allocate_port() just before, so a
 * replay allocates the same one. */
void sim_external_datagram (SimExternal *self, SimNode *from, guint16 from_port, SimNode *to, guint16 to_port,
                            GBytes *payload);

G_END_DECLS
