/* sim-live.h: the paced driver.
 *
 * Batch runs execute events as fast as possible.  A live run (mailsim
 * serve, the GUI's live mode) paces the virtual clock to the wall clock, so
 * a real client waiting for a reply gets it after the simulated latency.
 * This is the only place in sim/ that reads the wall clock; what enters a
 * live run from outside is recorded as timeline actions (see sim-gateway.h)
 * so the run can be replayed exactly.
 */
#pragma once

#include <glib.h>

#include "core/sim-scheduler.h"

G_BEGIN_DECLS

typedef struct _SimLive SimLive;

/* Starts pacing @scheduler on the thread-default main context; @speed is
 * simulated seconds per wall second (1.0 is real time). */
SimLive *sim_live_new (SimScheduler *scheduler, gdouble speed);
void sim_live_free (SimLive *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLive, sim_live_free)

/* Runs every event due by the current wall time and re-arms the timer.
 * Call it before feeding outside input, so the input enters at "now". */
void sim_live_sync (SimLive *self);

G_END_DECLS
