/* scenario.h: a scenario file given meaning: topology, timeline, expectations.
 *
 * scenario_load() reads and checks a file completely (every node name,
 * address, time and record), so errors surface before anything runs, each
 * as FILE:LINE:COLUMN with what was expected and a likely fix.  A loaded
 * scenario can build any number of identical worlds: the GUI replays from
 * zero to scrub time, CI runs it headless.
 */
#pragma once

#include <glib.h>

#include "nodes/sim-world.h"
#include "scenario/scenario-syntax.h"

G_BEGIN_DECLS

typedef struct _Scenario Scenario;

#define SCENARIO_DEFAULT_DURATION (1 * SIM_TIME_HOUR)

Scenario *scenario_load (const char *path, GError **error);
Scenario *scenario_load_from_text (const char *filename, const char *text, gsize length, GError **error);
void scenario_free (Scenario *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Scenario, scenario_free)

const char *scenario_get_title (const Scenario *self);
const char *scenario_get_description (const Scenario *self);
/* (transfer none) of char* */
GPtrArray *scenario_get_goals (const Scenario *self);
guint64 scenario_get_seed (const Scenario *self);
SimTime scenario_get_duration (const Scenario *self);
const char *scenario_get_filename (const Scenario *self);
/* The fingerprint the scenario pins ('fingerprint HEX'), or NULL. */
const char *scenario_get_fingerprint (const Scenario *self);

/* The first and last line (1-based) of each top-level statement starting
 * with @keyword, blocks included: pairs of guint in one array. */
GArray *scenario_get_statement_lines (const Scenario *self, const char *keyword);

/* Builds the world: nodes, links, zones, accounts, and the timeline as
 * scheduled events.  Sinks may be added to the world's trace before
 * running it. */
SimWorld *scenario_build (const Scenario *self, guint64 seed, GError **error);

typedef struct
{
  guint passed;
  guint failed;
} ScenarioVerdict;

/* Runs @world until the scenario's duration (or until nothing is left to
 * happen), then checks the expectations, each emitted as an EXPECT event. */
ScenarioVerdict scenario_run (const Scenario *self, SimWorld *world);

G_END_DECLS
