/* msim-window.h: one scenario on screen, its map, timeline and panes.
 *
 * Actions (all on the window):
 *   win.play            stateful boolean: playing or paused
 *   win.step-forward    the next event
 *   win.step-back       the previous event
 *   win.go-to-start, win.go-to-end
 *   win.go-to-event(u)  the event with that index (the event list uses it)
 *   win.reload          load the scenario file again and replay it
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-event-list.h"
#include "msim-map-view.h"
#include "msim-run.h"

G_BEGIN_DECLS

#define MSIM_TYPE_WINDOW (msim_window_get_type ())
G_DECLARE_FINAL_TYPE (MsimWindow, msim_window, MSIM, WINDOW, GtkApplicationWindow)

MsimWindow *msim_window_new (GtkApplication *application);

/* Loads, runs and shows @path; on error the window keeps what it showed. */
gboolean msim_window_open (MsimWindow *self, const char *path, GError **error);

MsimRun *msim_window_get_run (MsimWindow *self);
/* The index of the current event, -1 before the first. */
gint msim_window_get_current_event (MsimWindow *self);
SimTime msim_window_get_time (MsimWindow *self);
/* The timeline scrubber's value: show time in seconds. */
double msim_window_get_scrubber_value (MsimWindow *self);
MsimMapView *msim_window_get_map_view (MsimWindow *self);
MsimEventList *msim_window_get_event_list (MsimWindow *self);
/* Advances playback by @elapsed_us of wall time, as one frame would. */
void msim_window_advance (MsimWindow *self, gint64 elapsed_us);
/* Moves to simulated @time, paused; the current event is the last one
 * that happened by then. */
void msim_window_go_to_time (MsimWindow *self, SimTime time);
void msim_window_set_speed (MsimWindow *self, double speed);

G_END_DECLS
