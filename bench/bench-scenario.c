/* bench-scenario: wall time of whole scenario runs, end to end.
 *
 *   bench-scenario FILE [RUNS]
 *
 * Each run loads nothing from disk again: the scenario is parsed once, then
 * each repetition builds its world, runs it to the end and checks the
 * expectations, as `mailsim run --quiet` does minus the file read and the
 * summary printing.  A separate figure times the whole of it, parse
 * included.  Only bench/ reads the wall clock. */
#include <stdio.h>
#include <stdlib.h>

#include "scenario/scenario.h"

static int
compare_times (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  guint64 runs = 200;
  g_autoptr (GError) error = NULL;

  if (argc < 2 || (argc > 2 && !g_ascii_string_to_unsigned (argv[2], 10, 1, 1000000, &runs, NULL)))
    {
      fprintf (stderr, "usage: bench-scenario FILE [RUNS]\n");
      return 2;
    }
  g_autofree gint64 *run_us = g_new (gint64, runs);
  g_autofree gint64 *full_us = g_new (gint64, runs);
  guint64 events = 0;
  for (guint64 r = 0; r < runs; r++)
    {
      gint64 started = g_get_monotonic_time ();
      g_autoptr (Scenario) scenario = scenario_load (argv[1], &error);
      if (scenario == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 2;
        }
      gint64 loaded = g_get_monotonic_time ();
      g_autoptr (SimWorld) world = scenario_build (scenario, scenario_get_seed (scenario), &error);
      sim_trace_set_keep (sim_world_get_trace (world), TRUE);
      ScenarioVerdict verdict = scenario_run (scenario, world);
      events = sim_trace_count (sim_world_get_trace (world));
      g_clear_pointer (&world, sim_world_free);
      gint64 done = g_get_monotonic_time ();
      if (verdict.failed > 0)
        {
          fprintf (stderr, "an expectation failed: the bench measures only passing runs\n");
          return 1;
        }
      run_us[r] = done - loaded;
      full_us[r] = done - started;
    }
  qsort (run_us, runs, sizeof (gint64), compare_times);
  qsort (full_us, runs, sizeof (gint64), compare_times);
  printf ("%s: %" G_GUINT64_FORMAT " runs, %" G_GUINT64_FORMAT " trace events each\n", argv[1], runs, events);
  printf ("  build+run+check: best %.3f ms, median %.3f ms, worst %.3f ms\n", run_us[0] / 1e3,
          run_us[runs / 2] / 1e3, run_us[runs - 1] / 1e3);
  printf ("  parse+build+run+check: best %.3f ms, median %.3f ms, worst %.3f ms\n", full_us[0] / 1e3,
          full_us[runs / 2] / 1e3, full_us[runs - 1] / 1e3);
  return 0;
}
