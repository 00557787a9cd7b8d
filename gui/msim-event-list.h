/* msim-event-list.h: every event of the run, one row each.
 *
 * Selecting a row activates win.go-to-event with the event's index; the
 * window moves the timeline there.  Playback calls
 * msim_event_list_select() to keep the selection in step, which does not
 * activate the action again.
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-run.h"

G_BEGIN_DECLS

#define MSIM_TYPE_EVENT_LIST (msim_event_list_get_type ())
G_DECLARE_FINAL_TYPE (MsimEventList, msim_event_list, MSIM, EVENT_LIST, GtkWidget)

void msim_event_list_set_run (MsimEventList *self, MsimRun *run);
/* Selects (and scrolls to) @index, or clears the selection for -1. */
void msim_event_list_select (MsimEventList *self, gint index);
guint msim_event_list_get_n_rows (MsimEventList *self);
gint msim_event_list_get_selected (MsimEventList *self);

G_END_DECLS
