/* sim-live.c: pacing the virtual clock to the wall clock. */
#include "core/sim-live.h"

/* Never sleep longer than this, so a clock that was moved by outside input
 * is noticed promptly. */
#define SIM_LIVE_MAX_SLEEP_MS 250

struct _SimLive
{
  SimScheduler *scheduler;
  gdouble speed;
  gint64 wall_start;   /* monotonic microseconds */
  SimTime sim_start;
  GSource *timer;
};

static gboolean on_timer (gpointer data);

static SimTime
wall_now_as_sim (SimLive *self)
{
  gint64 elapsed = g_get_monotonic_time () - self->wall_start;
  return self->sim_start + (SimTime) ((gdouble) elapsed * self->speed);
}

static void
arm (SimLive *self, SimTime now)
{
  SimTime next = sim_scheduler_next_time (self->scheduler);
  guint delay_ms = SIM_LIVE_MAX_SLEEP_MS;

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  if (next != SIM_TIME_NEVER)
    {
      gdouble wait = (gdouble) (next - now) / self->speed / 1000.0;
      if (wait < 0)
        wait = 0;
      if (wait < SIM_LIVE_MAX_SLEEP_MS)
        delay_ms = (guint) wait + 1;
    }
  self->timer = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_attach (self->timer, g_main_context_get_thread_default ());
}

void
sim_live_sync (SimLive *self)
{
  SimTime now = wall_now_as_sim (self);

  if (now > sim_scheduler_now (self->scheduler))
    sim_scheduler_run_until (self->scheduler, now);
  arm (self, sim_scheduler_now (self->scheduler));
}

static gboolean
on_timer (gpointer data)
{
  SimLive *self = data;

  g_source_unref (self->timer);
  self->timer = NULL;
  sim_live_sync (self);
  return G_SOURCE_REMOVE;
}

SimLive *
sim_live_new (SimScheduler *scheduler, gdouble speed)
{
  SimLive *self = g_new0 (SimLive, 1);

  self->scheduler = scheduler;
  self->speed = speed > 0 ? speed : 1.0;
  self->wall_start = g_get_monotonic_time ();
  self->sim_start = sim_scheduler_now (scheduler);
  sim_live_sync (self);
  return self;
}

void
sim_live_free (SimLive *self)
{
  if (self == NULL)
    return;
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  g_free (self);
}
