/* mailsim: the command-line front end.
 *
 *   mailsim run FILE      narrate one scenario
 *   mailsim check FILE... run scenarios and check their expectations (CI)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario/scenario.h"
#include "trace/sim-narration.h"

/* Exit codes: 0 all expectations held, 1 an expectation failed,
 * 2 a file could not be read or understood. */
enum
{
  EXIT_PASSED = 0,
  EXIT_EXPECTATION_FAILED = 1,
  EXIT_BAD_INPUT = 2,
};

static void
print_summary (FILE *out, SimWorld *world, const ScenarioVerdict *verdict)
{
  SimAccounting a = sim_world_get_accounting (world);
  guint entered = a.accepted + a.dsn_generated;
  guint ended = a.delivered + a.bounced + a.queued;
  g_autofree char *now = sim_time_to_string (sim_world_now (world));

  fprintf (out, "\nSummary at %s\n", now);
  fprintf (out, "  recipients accepted from users:  %u\n", a.accepted);
  fprintf (out, "  bounce reports generated:        %u\n", a.dsn_generated);
  fprintf (out, "  delivered to mailboxes:          %u\n", a.delivered);
  fprintf (out, "  bounced:                         %u\n", a.bounced);
  fprintf (out, "  still queued:                    %u\n", a.queued);
  if (entered != ended)
    fprintf (out, "  NOTE: %u accepted but %u accounted for (a duplicate or a loss, see the trace)\n", entered, ended);
  fprintf (out, "  expectations: %u passed, %u failed\n", verdict->passed, verdict->failed);
}

static int
command_run (int argc, char **argv)
{
  gint64 seed = -1;
  g_autofree char *json_path = NULL;
  gboolean quiet = FALSE;
  gboolean no_explain = FALSE;
  GOptionEntry entries[] = {
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the run (default: the scenario's)", "N" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Write the trace as JSON Lines to FILE ('-' for stdout)", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the summary", NULL },
    { "no-explain", 0, 0, G_OPTION_ARG_NONE, &no_explain, "Leave out the explanation under each line", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO - narrate the journey of the mail in a scenario");
  g_autoptr (GError) error = NULL;
  FILE *json = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "mailsim run: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  if (argc != 2)
    {
      fprintf (stderr, "mailsim run: give one scenario file, for example: mailsim run scenarios/first-email.mailsim\n");
      return EXIT_BAD_INPUT;
    }
  g_autoptr (Scenario) scenario = scenario_load (argv[1], &error);
  if (scenario == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  g_autoptr (SimWorld) world = scenario_build (scenario, seed >= 0 ? (guint64) seed : scenario_get_seed (scenario), &error);
  if (world == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  FILE *narration_out = json_path != NULL && g_str_equal (json_path, "-") ? stderr : stdout;
  if (json_path != NULL)
    {
      json = g_str_equal (json_path, "-") ? stdout : fopen (json_path, "w");
      if (json == NULL)
        {
          fprintf (stderr, "mailsim run: cannot write %s\n", json_path);
          return EXIT_BAD_INPUT;
        }
      sim_json_attach (sim_world_get_trace (world), json);
    }
  if (!quiet)
    {
      SimNarrationOptions options = { narration_out, !no_explain, FALSE };
      fprintf (narration_out, "%s\n", scenario_get_title (scenario));
      if (scenario_get_description (scenario)[0] != '\0')
        fprintf (narration_out, "%s\n", scenario_get_description (scenario));
      fprintf (narration_out, "\n");
      sim_narration_attach (sim_world_get_trace (world), &options);
    }
  ScenarioVerdict verdict = scenario_run (scenario, world);
  print_summary (narration_out, world, &verdict);
  if (json != NULL && json != stdout)
    fclose (json);
  return verdict.failed > 0 ? EXIT_EXPECTATION_FAILED : EXIT_PASSED;
}

static int
command_check (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO... - run scenarios and check their expectations");
  g_autoptr (GError) error = NULL;
  guint passed = 0, failed = 0;
  gboolean unreadable = FALSE;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "mailsim check: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  if (argc < 2)
    {
      fprintf (stderr, "mailsim check: give one or more scenario files\n");
      return EXIT_BAD_INPUT;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (Scenario) scenario = scenario_load (argv[i], &local);
      g_autoptr (SimWorld) world = scenario != NULL ? scenario_build (scenario, scenario_get_seed (scenario), &local) : NULL;
      if (world == NULL)
        {
          printf ("ERROR %s\n  %s\n", argv[i], local->message);
          unreadable = TRUE;
          failed++;
          continue;
        }
      sim_trace_set_keep (sim_world_get_trace (world), TRUE);
      ScenarioVerdict verdict = scenario_run (scenario, world);
      printf ("%s %s (%u expectations)\n", verdict.failed == 0 ? "PASS" : "FAIL", argv[i], verdict.passed + verdict.failed);
      if (verdict.failed == 0)
        {
          passed++;
          continue;
        }
      failed++;
      GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
      for (guint e = 0; e < events->len; e++)
        {
          const SimEvent *event = g_ptr_array_index (events, e);
          if (event->kind == SIM_EVENT_EXPECT && g_strcmp0 (event->status, "fail") == 0)
            printf ("  %s: %s\n", event->message, event->text);
        }
    }
  printf ("%u passed, %u failed\n", passed, failed);
  if (unreadable)
    return EXIT_BAD_INPUT;
  return failed > 0 ? EXIT_EXPECTATION_FAILED : EXIT_PASSED;
}

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: mailsim COMMAND [OPTIONS] FILE...\n\n"
           "Commands:\n"
           "  run SCENARIO        narrate the journey of the mail, step by step\n"
           "  check SCENARIO...   run scenarios and check their expectations\n\n"
           "Run 'mailsim COMMAND --help' for the options of a command.\n");
}

int
main (int argc, char **argv)
{
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? EXIT_BAD_INPUT : EXIT_PASSED;
    }
  if (g_str_equal (argv[1], "run"))
    return command_run (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "check"))
    return command_check (argc - 1, argv + 1);
  fprintf (stderr, "mailsim: unknown command '%s'\n", argv[1]);
  usage (stderr);
  return EXIT_BAD_INPUT;
}
