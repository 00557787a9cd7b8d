/* msim-map-view.h: the network map, with messages travelling on it.
 *
 * The view only reads state: the recorded run, its layout and the current
 * time.  Everything it shows at time t follows from the events with
 * time <= t: which links and nodes are down, which transmissions are in
 * flight (time <= t < arrival) and where along their path, which failures
 * just happened.
 *
 * A right click on a link or a node opens a menu of interventions (take
 * it down, bring it up, edit a DNS record, write an email), which are
 * window actions: the window re-runs the changed scenario.
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

typedef enum
{
  MSIM_MAP_PICK_NONE,
  MSIM_MAP_PICK_NODE,
  MSIM_MAP_PICK_LINK,
} MsimMapPick;

/* What is drawn at (@x, @y) of a @width x @height map: a node (its name in
 * @a) or a link (its ends in @a and @b).  The names belong to the run. */
MsimMapPick msim_map_view_pick (MsimMapView *self, double x, double y, int width, int height,
                                const char **a, const char **b);

/* Opens the menu of what can be changed at (@x, @y) in the widget: a link
 * taken down or up, a node crashed or restarted, a DNS record edited, an
 * email written; each item activates a win. action (msim-window.h) at the
 * current time.  A right click on the map does this.  Returns FALSE when
 * nothing is there. */
gboolean msim_map_view_popup_menu_at (MsimMapView *self, double x, double y);
/* (transfer none) The popover of that menu. */
GtkPopoverMenu *msim_map_view_get_menu (MsimMapView *self);

G_END_DECLS
