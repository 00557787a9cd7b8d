/* msim-event-item.h: one trace event as a list item.
 *
 * List models hold GObjects; a SimEvent is a plain struct owned by the
 * run's trace.  The item keeps the run alive and names its event by index.
 */
#pragma once

#include <glib-object.h>

#include "msim-run.h"

G_BEGIN_DECLS

#define MSIM_TYPE_EVENT_ITEM (msim_event_item_get_type ())
G_DECLARE_FINAL_TYPE (MsimEventItem, msim_event_item, MSIM, EVENT_ITEM, GObject)

MsimEventItem *msim_event_item_new (MsimRun *run, guint index);

guint msim_event_item_get_index (MsimEventItem *self);
const SimEvent *msim_event_item_get_event (MsimEventItem *self);
/* The texts of the list's columns. */
const char *msim_event_item_get_time_text (MsimEventItem *self);
const char *msim_event_item_get_summary (MsimEventItem *self);

G_END_DECLS
