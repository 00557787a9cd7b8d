/* msim-timeline.h: the playback clock's view of simulated time.
 *
 * A run can sit idle for a simulated minute (Bob fetches his mail at 1m)
 * between bursts that last milliseconds.  Playback and the scrubber use
 * "show time": simulated time in which every idle gap longer than
 * MSIM_TIMELINE_MAX_GAP is shortened to that length.  Busy stretches keep
 * their true proportions.  The mapping is piecewise linear and monotonic,
 * so it converts both ways exactly at the breakpoints.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"

G_BEGIN_DECLS

#define MSIM_TIMELINE_MAX_GAP (1 * SIM_TIME_SECOND)

typedef struct _MsimTimeline MsimTimeline;

/* @events: SimEvent*, in time order. */
MsimTimeline *msim_timeline_new (GPtrArray *events);
void msim_timeline_free (MsimTimeline *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsimTimeline, msim_timeline_free)

SimTime msim_timeline_to_show (const MsimTimeline *self, SimTime time);
SimTime msim_timeline_to_simulated (const MsimTimeline *self, SimTime show);
SimTime msim_timeline_get_show_length (const MsimTimeline *self);
/* Simulated time skipped by the compression, in total. */
SimTime msim_timeline_get_skipped (const MsimTimeline *self);
/* Whether @time lies inside a shortened gap. */
gboolean msim_timeline_in_gap (const MsimTimeline *self, SimTime time);

G_END_DECLS
