/* msim-window.h: one scenario on screen, its map, timeline and panes.
 *
 * Actions (all on the window):
 *   win.play            stateful boolean: playing or paused
 *   win.step-forward    the next event
 *   win.step-back       the previous event
 *   win.go-to-start, win.go-to-end
 *   win.go-to-event(u)  the event with that index (the event list uses it)
 *   win.reload          load the scenario file again and replay it
 *
 * Interventions (the map's right-click menu activates them), each at the
 * current time, re-running the scenario from zero (msim-intervention.h):
 *   win.link-down((ss)), win.link-up((ss))   the link between two nodes
 *   win.node-down(s), win.node-up(s)         a node crashes / comes back
 *   win.edit-dns-record(s)  a dialog for a dns-set on that name server
 *   win.compose-email(s)    a dialog for a send from that client
 *   win.undo-intervention   drop the last intervention and re-run
 *   win.save-as             save the changed scenario (Ctrl+Shift+S)
 *   win.dismiss-note        hide the note saying what changed
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-event-list.h"
#include "msim-intervention.h"
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

/* Adds @intervention (taking it) to the scenario, runs the changed
 * scenario from zero and shows it at the same time, with a note saying
 * what changed.  When the changed scenario does not load (a malformed DNS
 * record), sets @error to the loader's FILE:LINE:COLUMN message and keeps
 * the run it showed. */
gboolean msim_window_intervene (MsimWindow *self, MsimIntervention *intervention, GError **error);
/* Drops the last intervention and re-runs; FALSE when there was none. */
gboolean msim_window_undo_intervention (MsimWindow *self);
guint msim_window_get_n_interventions (MsimWindow *self);
/* (transfer full) The scenario as shown: the file's text and the
 * interventions' timeline blocks; NULL with no scenario. */
char *msim_window_get_scenario_text (MsimWindow *self);
/* Writes msim_window_get_scenario_text() to @file (what win.save-as does
 * with the file chosen). */
gboolean msim_window_save_to (MsimWindow *self, GFile *file, GError **error);
/* The note shown over the map, or NULL when it is hidden. */
const char *msim_window_get_note (MsimWindow *self);

G_END_DECLS
