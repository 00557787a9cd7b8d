/* msim-run.h: one recorded run of a scenario, the model every view reads.
 *
 * The GUI never steps a live simulation while it plays.  It runs the
 * scenario once, to the end, keeping every trace event; the picture at any
 * time t is then derived from the events with time <= t (a token is in
 * flight when time <= t < arrival).  Scrubbing back is free and exact, and
 * the simulation stays a pure function of (scenario, seed).
 */
#pragma once

#include <glib.h>

#include "scenario/scenario.h"

G_BEGIN_DECLS

typedef struct _MsimRun MsimRun;

/* (transfer full) Loads @path, builds its world with the scenario's seed and
 * runs it to the end with the trace kept. */
MsimRun *msim_run_load (const char *path, GError **error);
/* (transfer full) The same for a scenario's @text, named @path in messages:
 * an intervention is the file's text with timeline blocks appended. */
MsimRun *msim_run_load_from_text (const char *path, const char *text, GError **error);
MsimRun *msim_run_ref (MsimRun *self);
void msim_run_unref (MsimRun *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsimRun, msim_run_unref)

const Scenario *msim_run_get_scenario (MsimRun *self);
SimWorld *msim_run_get_world (MsimRun *self);
const char *msim_run_get_path (MsimRun *self);
/* The scenario text the run was built from. */
const char *msim_run_get_text (MsimRun *self);
ScenarioVerdict msim_run_get_verdict (MsimRun *self);

/* Every event of the run in emission order: (transfer none) of SimEvent*. */
GPtrArray *msim_run_get_events (MsimRun *self);
guint msim_run_get_n_events (MsimRun *self);
const SimEvent *msim_run_get_event (MsimRun *self, guint index);

/* The last moment anything happens: the latest time or arrival. */
SimTime msim_run_get_end_time (MsimRun *self);

/* The index of the last event with time <= @time, or -1 before the first. */
gint msim_run_find_event_at (MsimRun *self, SimTime time);

/* The node of the first client that sends or fetches: the sender's side of
 * the map.  NULL when the scenario has no client. */
const char *msim_run_get_sender (MsimRun *self);

/* Whether the link @a - @b, or the node @a when @b is NULL, is up at
 * @time: the scenario's faults are ACTION events in the trace. */
gboolean msim_run_link_is_up_at (MsimRun *self, const char *a, const char *b, SimTime time);
gboolean msim_run_node_is_up_at (MsimRun *self, const char *node, SimTime time);

/* What the scenario text declares for the node @node, for the
 * intervention dialogs: (transfer full) of char*, possibly empty.
 * The addresses of its `account` lines (a client's users): */
GPtrArray *msim_run_get_accounts (MsimRun *self, const char *node);
/* The origins of its zones (a name server): */
GPtrArray *msim_run_get_zones (MsimRun *self, const char *node);
/* The `record` lines of its zone @zone, as written: */
GPtrArray *msim_run_get_zone_records (MsimRun *self, const char *node, const char *zone);

/* Whether @event shows something going wrong: a refused, unreachable or
 * reset connection, a lost datagram, a 4xx/5xx reply, a deferred or
 * bounced message, a failed expectation. */
gboolean msim_event_is_failure (const SimEvent *event);

/* (transfer full) The one line a token or a list row shows for @event:
 * the first line of its narration without the C:/S: prefix. */
char *msim_event_summary (const SimEvent *event);

/* The domain of a node: its name without the first label, or "" for a
 * single-label name such as "internet". */
const char *msim_node_domain (const char *node_name);

G_END_DECLS
