/* sim-scheduler.h: the virtual clock and the event queue of one run.
 *
 * Events are kept in a heap ordered by (time, insertion sequence):
 * two events due at the same microsecond run in the order they were
 * scheduled, so a run never depends on memory addresses or hash order.
 * The run's pseudo-random generator lives here too, seeded by the scenario,
 * so every random choice (link loss, retry jitter) is reproducible.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"

G_BEGIN_DECLS

typedef struct _SimScheduler SimScheduler;
typedef void (*SimEventFunc) (gpointer data);

/* 0 is never a valid event id, so it can mean "no timer". */
typedef guint64 SimEventId;

SimScheduler *sim_scheduler_new (guint64 seed);
void sim_scheduler_free (SimScheduler *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimScheduler, sim_scheduler_free)

SimTime sim_scheduler_now (const SimScheduler *self);

/* Runs @func (@data) at absolute time @at (never earlier than now).
 * @destroy, if not NULL, frees @data after the event ran, was cancelled or
 * was still pending when the scheduler is freed. */
SimEventId sim_scheduler_at (SimScheduler *self, SimTime at, SimEventFunc func,
                             gpointer data, GDestroyNotify destroy);
SimEventId sim_scheduler_after (SimScheduler *self, SimTime delay, SimEventFunc func,
                                gpointer data, GDestroyNotify destroy);

/* Cancels a pending event and destroys its data at once; cancelling an
 * event that already ran, is running or was already cancelled does
 * nothing.  Resets *id to 0. */
void sim_scheduler_cancel (SimScheduler *self, SimEventId *id);

/* Time of the next pending event, or SIM_TIME_NEVER. */
SimTime sim_scheduler_next_time (SimScheduler *self);
gsize sim_scheduler_pending (const SimScheduler *self);

/* Runs the next event; FALSE when none is pending. */
gboolean sim_scheduler_step (SimScheduler *self);

/* Runs every event due at or before @limit, then sets the clock to @limit
 * (when it is not SIM_TIME_NEVER).  Returns the number of events run. */
guint64 sim_scheduler_run_until (SimScheduler *self, SimTime limit);

/* The run's seeded generator: a uniform integer in [begin, end). */
gint32 sim_scheduler_random_range (SimScheduler *self, gint32 begin, gint32 end);
gdouble sim_scheduler_random_double (SimScheduler *self);

G_END_DECLS
