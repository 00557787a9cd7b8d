/* msim-map-view.h: the network map, with messages travelling on it.
 *
 * The view only reads state: the recorded run, its layout and the current
 * time.  Everything it shows at time t follows from the events with
 * time <= t: which links and nodes are down, which transmissions are in
 * flight (time <= t < arrival) and where along their path, which failures
 * just happened.
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-run.h"

G_BEGIN_DECLS

#define MSIM_TYPE_MAP_VIEW (msim_map_view_get_type ())
G_DECLARE_FINAL_TYPE (MsimMapView, msim_map_view, MSIM, MAP_VIEW, GtkWidget)

GtkWidget *msim_map_view_new (void);

void msim_map_view_set_run (MsimMapView *self, MsimRun *run);
void msim_map_view_set_time (MsimMapView *self, SimTime time);
/* The event the student is looking at (-1 for none): its nodes are marked. */
void msim_map_view_set_current_event (MsimMapView *self, gint index);
/* How many transmissions are drawn in flight at the current time. */
guint msim_map_view_count_in_flight (MsimMapView *self);

/* Draws the map into @cr, @width x @height device units, background
 * included.  The widget's snapshot uses it; so do tests and PNG export. */
void msim_map_view_draw (MsimMapView *self, cairo_t *cr, int width, int height, gboolean paint_background);

G_END_DECLS
