/* msim-timeline.c: show time, simulated time with idle gaps shortened. */
#include "msim-timeline.h"

#include "trace/sim-trace.h"

typedef struct
{
  SimTime simulated;
  SimTime show;
} Breakpoint;

struct _MsimTimeline
{
  GArray *points;   /* Breakpoint, both members increasing */
  SimTime skipped;
};

static void
add_point (MsimTimeline *self, SimTime simulated, SimTime show)
{
  Breakpoint point = { simulated, show };
  g_array_append_val (self->points, point);
}

MsimTimeline *
msim_timeline_new (GPtrArray *events)
{
  MsimTimeline *self = g_new0 (MsimTimeline, 1);
  SimTime busy_until = 0, shift = 0;

  self->points = g_array_new (FALSE, FALSE, sizeof (Breakpoint));
  add_point (self, 0, 0);
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->time - busy_until > MSIM_TIMELINE_MAX_GAP)
        {
          /* The gap [busy_until, event->time] plays as MAX_GAP: half a
           * gap of pause after the burst, half before the next one. */
          SimTime gap = event->time - busy_until;
          add_point (self, busy_until, busy_until - shift);
          shift += gap - MSIM_TIMELINE_MAX_GAP;
          add_point (self, event->time, event->time - shift);
        }
      busy_until = MAX (busy_until, MAX (event->time, event->arrival));
    }
  add_point (self, busy_until, busy_until - shift);
  self->skipped = shift;
  return self;
}

void
msim_timeline_free (MsimTimeline *self)
{
  g_array_unref (self->points);
  g_free (self);
}

static SimTime
interpolate (SimTime x, SimTime x0, SimTime x1, SimTime y0, SimTime y1)
{
  if (x1 == x0)
    return y0;
  return y0 + (SimTime) ((double) (x - x0) * (double) (y1 - y0) / (double) (x1 - x0));
}

SimTime
msim_timeline_to_show (const MsimTimeline *self, SimTime time)
{
  const Breakpoint *p = (const Breakpoint *) self->points->data;
  guint n = self->points->len;

  if (time <= p[0].simulated)
    return p[0].show;
  for (guint i = 1; i < n; i++)
    if (time <= p[i].simulated)
      return interpolate (time, p[i - 1].simulated, p[i].simulated, p[i - 1].show, p[i].show);
  return p[n - 1].show + (time - p[n - 1].simulated);
}

SimTime
msim_timeline_to_simulated (const MsimTimeline *self, SimTime show)
{
  const Breakpoint *p = (const Breakpoint *) self->points->data;
  guint n = self->points->len;

  if (show <= p[0].show)
    return p[0].simulated;
  for (guint i = 1; i < n; i++)
    if (show <= p[i].show)
      return interpolate (show, p[i - 1].show, p[i].show, p[i - 1].simulated, p[i].simulated);
  return p[n - 1].simulated + (show - p[n - 1].show);
}

SimTime
msim_timeline_get_show_length (const MsimTimeline *self)
{
  return g_array_index (self->points, Breakpoint, self->points->len - 1).show;
}

SimTime
msim_timeline_get_skipped (const MsimTimeline *self)
{
  return self->skipped;
}

gboolean
msim_timeline_in_gap (const MsimTimeline *self, SimTime time)
{
  const Breakpoint *p = (const Breakpoint *) self->points->data;

  for (guint i = 1; i < self->points->len; i++)
    if (time > p[i - 1].simulated && time < p[i].simulated)
      return p[i].simulated - p[i - 1].simulated != p[i].show - p[i - 1].show;
  return FALSE;
}
