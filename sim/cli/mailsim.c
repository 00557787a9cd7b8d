/* mailsim: the command-line front end.
 *
 *   mailsim run FILE      narrate one scenario
 *   mailsim check FILE... run scenarios and check their expectations (CI)
 *   mailsim serve FILE    run a scenario live, with real sockets
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "diagram.h"
#include "scenario/scenario.h"
#include "serve/sim-gateway.h"
#include "trace/sim-fingerprint.h"
#include "trace/sim-narration.h"
#include "trace/sim-pcap.h"

/* Exit codes: 0 all expectations held, 1 an expectation failed,
 * 2 a file could not be read or understood. */
enum
{
  EXIT_PASSED = 0,
  EXIT_EXPECTATION_FAILED = 1,
  EXIT_BAD_INPUT = 2,
};

static void
print_summary (FILE *out, SimWorld *world, const ScenarioVerdict *verdict, gboolean with_expectations)
{
  SimAccounting a = sim_world_get_accounting (world);
  guint entered = a.accepted + a.dsn_generated;
  guint ended = a.delivered + a.bounced + a.queued;
  g_autofree char *now = sim_time_to_string (sim_world_now (world));

  fprintf (out, "\nSummary at %s\n", now);
  fprintf (out, "  recipient copies accepted:       %u  (from clients, each recipient counted)\n", a.accepted);
  fprintf (out, "  bounce reports generated:        %u\n", a.dsn_generated);
  fprintf (out, "  delivered to mailboxes:          %u  (bounce reports included)\n", a.delivered);
  fprintf (out, "  bounced:                         %u\n", a.bounced);
  fprintf (out, "  still queued:                    %u\n", a.queued);
  if (entered != ended)
    fprintf (out, "  NOTE: %u accepted but %u accounted for (a duplicate or a loss, see the trace)\n", entered, ended);
  if (with_expectations)
    fprintf (out, "  expectations: %u passed, %u failed\n", verdict->passed, verdict->failed);
}

static int
command_run (int argc, char **argv)
{
  gint64 seed = -1;
  g_autofree char *json_path = NULL;
  g_autofree char *pcap_path = NULL;
  gboolean quiet = FALSE;
  gboolean no_explain = FALSE;
  GOptionEntry entries[] = {
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the run (default: the scenario's)", "N" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Write the trace as JSON Lines to FILE ('-' for stdout)", "FILE" },
    { "pcap", 'p', 0, G_OPTION_ARG_FILENAME, &pcap_path, "Write the traffic as a pcap capture to FILE for Wireshark ('-' for stdout)", "FILE" },
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
  gboolean json_stdout = json_path != NULL && g_str_equal (json_path, "-");
  gboolean pcap_stdout = pcap_path != NULL && g_str_equal (pcap_path, "-");
  if (json_stdout && pcap_stdout)
    {
      fprintf (stderr, "mailsim run: --json and --pcap cannot both write to standard output\n");
      return EXIT_BAD_INPUT;
    }
  FILE *narration_out = json_stdout || pcap_stdout ? stderr : stdout;
  if (pcap_path != NULL && !sim_pcap_attach (sim_world_get_trace (world), pcap_path, &error))
    {
      fprintf (stderr, "mailsim run: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
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
  print_summary (narration_out, world, &verdict, TRUE);
  if (json != NULL && json != stdout)
    fclose (json);
  return verdict.failed > 0 ? EXIT_EXPECTATION_FAILED : EXIT_PASSED;
}

/* ---- check ---- */

typedef struct
{
  const char *path;
  gint64 seed;             /* -1: the scenario's own */
  char *json_path;         /* where to write the trace, or NULL */
  gboolean unreadable;
  char *error;             /* load/build error */
  ScenarioVerdict verdict;
  GPtrArray *expectations; /* SimEvent copies' texts: "pass\tFILE:LINE\ttext" */
  gint64 wall_us;          /* how long the run took, for the JUnit report */
  char *fingerprint;       /* of this run */
  char *pinned;            /* what the scenario pins, or NULL */
  GPtrArray *event_lines;  /* one line per event, for diffs and --update-fingerprints */
  char *fingerprint_failure;
} CheckJob;

static void
g_set_str_compat (char **where, const char *value)
{
  char *copy = g_strdup (value);
  g_free (*where);
  *where = copy;
}

static void
check_job_free (CheckJob *job)
{
  g_free (job->json_path);
  g_free (job->error);
  if (job->expectations != NULL)
    g_ptr_array_unref (job->expectations);
  g_free (job->fingerprint);
  g_free (job->pinned);
  if (job->event_lines != NULL)
    g_ptr_array_unref (job->event_lines);
  g_free (job->fingerprint_failure);
}

/* Where the event lines of a pinned fingerprint are kept, for diffs:
 * DIR/fingerprints/NAME.events next to DIR/NAME.mailsim. */
static char *
events_path_for (const char *scenario_path)
{
  g_autofree char *folder = g_path_get_dirname (scenario_path);
  g_autofree char *base = g_path_get_basename (scenario_path);
  g_autofree char *name = g_strconcat (base, ".events", NULL);
  return g_build_filename (folder, "fingerprints", name, NULL);
}

/* A short diff: the first events that differ from the lines kept when the
 * fingerprint was pinned. */
static char *
describe_change (CheckJob *job)
{
  g_autofree char *path = events_path_for (job->path);
  g_autofree char *old_text = NULL;
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "behaviour changed: the run's fingerprint is %s, the scenario pins %s",
                          job->fingerprint, job->pinned);
  if (!g_file_get_contents (path, &old_text, NULL, NULL))
    {
      g_string_append_printf (out, " (no %s to compare events with)", path);
      return g_string_free (out, FALSE);
    }
  g_auto (GStrv) old_lines = g_strsplit (old_text, "\n", -1);
  guint old_count = g_strv_length (old_lines);
  if (old_count > 0 && old_lines[old_count - 1][0] == '\0')
    old_count--;
  guint shown = 0;
  for (guint i = 0; shown < 3 && (i < old_count || i < job->event_lines->len); i++)
    {
      const char *was = i < old_count ? old_lines[i] : "(no event)";
      const char *now = i < job->event_lines->len ? (const char *) g_ptr_array_index (job->event_lines, i) : "(no event)";
      if (g_str_equal (was, now))
        continue;
      g_string_append_printf (out, "\n      event %u was: %s\n      event %u now: %s", i + 1, was, i + 1, now);
      shown++;
    }
  if (shown == 0)
    g_string_append (out, "\n      the events read the same; their bytes or ports differ");
  g_string_append (out, "\n      if the change is intended: mailsim check --update-fingerprints FILE");
  return g_string_free (out, FALSE);
}

/* Writes the run's fingerprint into the scenario (replacing the pinned
 * line, or after the seed or title line) and its event lines beside it. */
static gboolean
update_fingerprint (CheckJob *job, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *events_path = events_path_for (job->path);
  g_autofree char *events_folder = g_path_get_dirname (events_path);
  g_autoptr (GString) out = g_string_new (NULL);

  if (!g_file_get_contents (job->path, &text, NULL, error))
    return FALSE;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gint replace_at = -1, insert_after = -1;
  for (gint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "fingerprint ") && replace_at < 0)
        replace_at = i;
      if (g_str_has_prefix (lines[i], "seed ") || g_str_has_prefix (lines[i], "title "))
        insert_after = i;
    }
  g_autofree char *pin = g_strdup_printf ("fingerprint %s", job->fingerprint);
  if (replace_at < 0 && insert_after < 0)
    g_string_append_printf (out, "%s\n", pin);
  for (gint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "fingerprint ") && i != replace_at)
        continue;   /* one pin only */
      g_string_append (out, i == replace_at ? pin : lines[i]);
      if (lines[i + 1] != NULL)
        g_string_append_c (out, '\n');
      if (replace_at < 0 && i == insert_after)
        g_string_append_printf (out, "%s\n", pin);
    }
  if (!g_file_set_contents (job->path, out->str, (gssize) out->len, error))
    return FALSE;
  g_autoptr (GString) events = g_string_new (NULL);
  for (guint i = 0; i < job->event_lines->len; i++)
    g_string_append_printf (events, "%s\n", (const char *) g_ptr_array_index (job->event_lines, i));
  if (g_mkdir_with_parents (events_folder, 0755) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot create %s", events_folder);
      return FALSE;
    }
  return g_file_set_contents (events_path, events->str, (gssize) events->len, error);
}

static void
check_one (gpointer data, gpointer unused)
{
  CheckJob *job = data;
  g_autoptr (GError) error = NULL;
  gint64 started = g_get_monotonic_time ();
  g_autoptr (Scenario) scenario = scenario_load (job->path, &error);
  g_autoptr (SimWorld) world = scenario != NULL
                                 ? scenario_build (scenario, job->seed >= 0 ? (guint64) job->seed : scenario_get_seed (scenario),
                                                   &error)
                                 : NULL;
  FILE *json = NULL;

  job->expectations = g_ptr_array_new_with_free_func (g_free);
  if (world == NULL)
    {
      job->unreadable = TRUE;
      job->error = g_strdup (error->message);
      return;
    }
  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  SimFingerprint *fingerprint = sim_fingerprint_attach (sim_world_get_trace (world));
  job->pinned = g_strdup (scenario_get_fingerprint (scenario));
  if (job->json_path != NULL && (json = fopen (job->json_path, "w")) != NULL)
    sim_json_attach (sim_world_get_trace (world), json);
  job->verdict = scenario_run (scenario, world);
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  for (guint e = 0; e < events->len; e++)
    {
      const SimEvent *event = g_ptr_array_index (events, e);
      if (event->kind == SIM_EVENT_EXPECT)
        g_ptr_array_add (job->expectations, g_strdup_printf ("%s\t%s\t%s", event->status, event->message, event->text));
    }
  if (json != NULL)
    fclose (json);
  job->fingerprint = sim_fingerprint_get_hex (fingerprint);
  job->event_lines = g_ptr_array_ref (sim_fingerprint_get_lines (fingerprint));
  if (job->pinned != NULL && !g_str_equal (job->pinned, job->fingerprint))
    job->fingerprint_failure = describe_change (job);
  job->wall_us = g_get_monotonic_time () - started;
}

static void
xml_attribute (GString *out, const char *name, const char *value)
{
  g_autofree char *escaped = g_markup_escape_text (value, -1);
  g_string_append_printf (out, " %s=\"%s\"", name, escaped);
}

/* JUnit XML as GitLab and GitHub Actions read it: one testsuite per
 * scenario, one testcase per expectation. */
static gboolean
write_junit (const char *path, CheckJob *jobs, guint n, GError **error)
{
  g_autoptr (GString) out = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  guint tests = 0, failures = 0, errors = 0;

  for (guint i = 0; i < n; i++)
    {
      tests += jobs[i].unreadable ? 1 : jobs[i].expectations->len;
      failures += jobs[i].verdict.failed;
      errors += jobs[i].unreadable;
    }
  g_string_append_printf (out, "<testsuites name=\"mailsim check\" tests=\"%u\" failures=\"%u\" errors=\"%u\">\n",
                          tests, failures, errors);
  for (guint i = 0; i < n; i++)
    {
      CheckJob *job = &jobs[i];
      g_autofree char *base = g_path_get_basename (job->path);
      g_string_append (out, "  <testsuite");
      xml_attribute (out, "name", job->path);
      g_string_append_printf (out, " tests=\"%u\" failures=\"%u\" errors=\"%u\" time=\"%.3f\">\n",
                              job->unreadable ? 1 : job->expectations->len, job->verdict.failed, job->unreadable ? 1 : 0,
                              (double) job->wall_us / 1e6);
      if (job->unreadable)
        {
          g_string_append (out, "    <testcase");
          xml_attribute (out, "classname", base);
          xml_attribute (out, "name", "load");
          g_string_append (out, ">\n      <error");
          xml_attribute (out, "message", job->error);
          g_string_append (out, "/>\n    </testcase>\n");
        }
      for (guint e = 0; !job->unreadable && e < job->expectations->len; e++)
        {
          g_auto (GStrv) parts = g_strsplit (g_ptr_array_index (job->expectations, e), "\t", 3);
          g_autofree char *first_line = g_strdup (parts[2]);
          char *cut = strchr (first_line, '\n');
          if (cut != NULL)
            *cut = '\0';
          g_string_append (out, "    <testcase");
          xml_attribute (out, "classname", base);
          xml_attribute (out, "name", parts[1]);
          if (g_str_equal (parts[0], "pass"))
            {
              g_string_append (out, "/>\n");
              continue;
            }
          g_autofree char *escaped = g_markup_escape_text (parts[2], -1);
          g_string_append (out, ">\n      <failure");
          xml_attribute (out, "message", first_line);
          g_string_append_printf (out, ">%s</failure>\n    </testcase>\n", escaped);
        }
      g_string_append (out, "  </testsuite>\n");
    }
  g_string_append (out, "</testsuites>\n");
  return g_file_set_contents (path, out->str, (gssize) out->len, error);
}

static int
command_check (int argc, char **argv)
{
  g_autofree char *junit_path = NULL;
  g_autofree char *json_folder = NULL;
  gint jobs_wanted = 0;
  gint64 seed = -1;
  gboolean update = FALSE;
  GOptionEntry entries[] = {
    { "junit", 0, 0, G_OPTION_ARG_FILENAME, &junit_path, "Write a JUnit XML report (GitLab, GitHub Actions)", "FILE" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_folder, "Write each run's trace as FOLDER/NAME.jsonl", "FOLDER" },
    { "jobs", 0, 0, G_OPTION_ARG_INT, &jobs_wanted, "Scenarios run at once (default: one per processor)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Run every scenario with this seed instead of its own", "N" },
    { "update-fingerprints", 0, 0, G_OPTION_ARG_NONE, &update, "Pin each scenario's current fingerprint (a deliberate change of behaviour)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO... - run scenarios and check their expectations");
  g_autoptr (GError) error = NULL;
  guint passed = 0, failed = 0;
  gboolean unreadable = FALSE;

  g_option_context_add_main_entries (context, entries, NULL);
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
  if (json_folder != NULL && g_mkdir_with_parents (json_folder, 0755) != 0)
    {
      fprintf (stderr, "mailsim check: cannot create %s\n", json_folder);
      return EXIT_BAD_INPUT;
    }
  guint n = (guint) argc - 1;
  g_autofree CheckJob *jobs = g_new0 (CheckJob, n);
  for (guint i = 0; i < n; i++)
    {
      jobs[i].path = argv[i + 1];
      jobs[i].seed = seed;
      if (json_folder != NULL)
        {
          g_autofree char *base = g_path_get_basename (argv[i + 1]);
          g_autofree char *name = g_strconcat (base, ".jsonl", NULL);
          jobs[i].json_path = g_build_filename (json_folder, name, NULL);
        }
    }
  /* GLib builds its C locale on the first number parsed, and that first
   * call can leave errno set in its thread, failing the parse; do it once
   * here, before the worker threads start. */
  guint64 warm_up = 0;
  g_ascii_string_to_unsigned ("0", 10, 0, 1, &warm_up, NULL);
  /* Runs share nothing, so they can run in parallel; reports come out in
   * the order the files were given. */
  GThreadPool *pool = g_thread_pool_new (check_one, NULL, jobs_wanted > 0 ? jobs_wanted : (gint) g_get_num_processors (),
                                         TRUE, NULL);
  for (guint i = 0; i < n; i++)
    g_thread_pool_push (pool, &jobs[i], NULL);
  g_thread_pool_free (pool, FALSE, TRUE);

  for (guint i = 0; i < n; i++)
    {
      CheckJob *job = &jobs[i];
      if (job->unreadable)
        {
          printf ("ERROR %s\n  %s\n", job->path, job->error);
          unreadable = TRUE;
          failed++;
          continue;
        }
      if (update && job->verdict.failed == 0)
        {
          g_autoptr (GError) update_error = NULL;
          if (!update_fingerprint (job, &update_error))
            {
              printf ("ERROR %s\n  %s\n", job->path, update_error->message);
              unreadable = TRUE;
              failed++;
              continue;
            }
          g_clear_pointer (&job->fingerprint_failure, g_free);
          g_set_str_compat (&job->pinned, job->fingerprint);
        }
      if (job->fingerprint_failure != NULL)
        job->verdict.failed++;
      printf ("%s %s (%u expectations%s%s)\n", job->verdict.failed == 0 ? "PASS" : "FAIL", job->path,
              job->verdict.passed + job->verdict.failed - (job->fingerprint_failure != NULL),
              job->pinned != NULL ? ", fingerprint " : "", job->pinned != NULL ? job->fingerprint : "");
      if (job->fingerprint_failure != NULL)
        printf ("  %s\n", job->fingerprint_failure);
      if (job->verdict.failed == 0)
        {
          passed++;
          continue;
        }
      failed++;
      for (guint e = 0; e < job->expectations->len; e++)
        {
          g_auto (GStrv) parts = g_strsplit (g_ptr_array_index (job->expectations, e), "\t", 3);
          if (g_str_equal (parts[0], "fail"))
            printf ("  %s: %s\n", parts[1], parts[2]);
        }
    }
  if (junit_path != NULL && !write_junit (junit_path, jobs, n, &error))
    {
      fprintf (stderr, "mailsim check: %s\n", error->message);
      unreadable = TRUE;
    }
  for (guint i = 0; i < n; i++)
    check_job_free (&jobs[i]);
  printf ("%u passed, %u failed\n", passed, failed);
  if (unreadable)
    return EXIT_BAD_INPUT;
  return failed > 0 ? EXIT_EXPECTATION_FAILED : EXIT_PASSED;
}


/* ---- diagram ---- */

static int
command_diagram (int argc, char **argv)
{
  g_autofree char *output = NULL;
  g_autofree char *from_text = NULL;
  g_autofree char *to_text = NULL;
  g_autofree char *only = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the diagram to FILE (.svg, .pdf or .png)", "FILE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from_text, "Start at this simulated time (e.g. 1s)", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to_text, "End at this simulated time (e.g. 3s)", "TIME" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, "Only this protocol: smtp, lmtp, dns, imap, pop3, mail", "PROTOCOL" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO - draw the run as a sequence diagram");
  g_autoptr (GError) error = NULL;
  DiagramOptions options = { 0, SIM_TIME_NEVER, NULL, NULL };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "mailsim diagram: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  if (argc != 2 || output == NULL)
    {
      fprintf (stderr, "mailsim diagram: give a scenario and -o FILE, for example:\n"
                       "  mailsim diagram scenarios/first-email.mailsim -o flow.svg --to 3s\n");
      return EXIT_BAD_INPUT;
    }
  if ((from_text != NULL && !sim_time_parse (from_text, &options.from, &error))
      || (to_text != NULL && !sim_time_parse (to_text, &options.to, &error)))
    {
      fprintf (stderr, "mailsim diagram: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  g_autoptr (Scenario) scenario = scenario_load (argv[1], &error);
  g_autoptr (SimWorld) world = scenario != NULL ? scenario_build (scenario, scenario_get_seed (scenario), &error) : NULL;
  if (world == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  scenario_run (scenario, world);
  options.only = only;
  options.title = scenario_get_title (scenario);
  if (!diagram_write (world, &options, output, &error))
    {
      fprintf (stderr, "mailsim diagram: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  return EXIT_PASSED;
}

/* ---- fingerprint ---- */

static int
command_fingerprint (int argc, char **argv)
{
  gint64 seed = -1;
  GOptionEntry entries[] = {
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the run (default: the scenario's)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO... - print a hash of each scenario's trace");
  g_autoptr (GError) error = NULL;
  int status = EXIT_PASSED;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2)
    {
      fprintf (stderr, "mailsim fingerprint: %s\n", error != NULL ? error->message : "give one or more scenario files");
      return EXIT_BAD_INPUT;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (Scenario) scenario = scenario_load (argv[i], &local);
      g_autoptr (SimWorld) world = scenario != NULL
                                     ? scenario_build (scenario, seed >= 0 ? (guint64) seed : scenario_get_seed (scenario), &local)
                                     : NULL;
      if (world == NULL)
        {
          fprintf (stderr, "%s\n", local->message);
          status = EXIT_BAD_INPUT;
          continue;
        }
      SimFingerprint *fingerprint = sim_fingerprint_attach (sim_world_get_trace (world));
      scenario_run (scenario, world);
      g_autofree char *hex = sim_fingerprint_get_hex (fingerprint);
      printf ("%s  %s\n", hex, argv[i]);
    }
  return status;
}

/* ---- serve ---- */

typedef struct
{
  const char *option;     /* "--smtp" */
  const char *protocol;   /* as the gateway names it */
  guint16 target_port;
  SimRoleKind role;       /* the role the node must have */
  const char *role_name;
} ServeKind;

static const ServeKind serve_kinds[] = {
  { "--smtp", "smtp", 25, SIM_ROLE_MTA, "an mta" },
  { "--submission", "smtp", 587, SIM_ROLE_MTA, "an mta with submission" },
  { "--pop3", "pop3", 110, SIM_ROLE_STORE, "a mailstore" },
  { "--imap", "imap", 143, SIM_ROLE_STORE, "a mailstore" },
  { "--dns", "dns", 53, SIM_ROLE_DNS, "a dns" },
};

static gboolean
serve_bind (SimGateway *gateway, SimWorld *world, const ServeKind *kind, const char *spec,
            const char *bind_text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, "=", 2);
  guint64 port = 0;
  SimRoleKind role;
  guint16 bound = 0;

  if (parts[0] == NULL || parts[1] == NULL
      || !g_ascii_string_to_unsigned (parts[0], 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s expects PORT=NODE, for example %s 2525=mx.example.org (port 0 picks a free one)", kind->option,
                   kind->option);
      return FALSE;
    }
  SimNode *node = sim_network_find_node (sim_world_get_network (world), parts[1]);
  if (node == NULL || sim_world_find_role (world, parts[1], &role) == NULL || role != kind->role)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s %s: '%s' is not %s node of this scenario",
                   kind->option, spec, parts[1], kind->role_name);
      return FALSE;
    }
  gboolean ok = kind->role == SIM_ROLE_DNS
                  ? sim_gateway_add_dns (gateway, (guint16) port, node, &bound, error)
                  : sim_gateway_add_stream (gateway, kind->protocol, (guint16) port, node, kind->target_port, &bound, error);
  if (!ok)
    return FALSE;
  /* Tests and scripts read this line to learn the port. */
  fprintf (stderr, "mailsim serve: %s of %s (port %u) on %s:%u\n", kind->option + 2, parts[1], kind->target_port,
           bind_text, bound);
  return TRUE;
}

/* The scenario as it was, then what the session added: the gateway's nodes
 * and links, the outside clients' actions, and the length of the session,
 * so `mailsim run FILE` replays the same trace. */
static gboolean
save_recording (const char *path, Scenario *scenario, SimWorld *world, GString *topology, GString *timeline,
                GError **error)
{
  g_autofree char *original = NULL;
  g_autofree char *duration = sim_time_to_string (sim_world_now (world));
  g_autoptr (GString) out = NULL;

  g_autoptr (GArray) expectations = scenario_get_statement_lines (scenario, "expect");

  if (!g_file_get_contents (scenario_get_filename (scenario), &original, NULL, error))
    return FALSE;
  /* The original expectations described the scenario, not this session:
   * they are kept, commented out, for the instructor to adapt. */
  out = g_string_new (NULL);
  g_auto (GStrv) lines = g_strsplit (original, "\n", -1);
  for (guint n = 0; lines[n] != NULL; n++)
    {
      gboolean in_expect = FALSE;
      for (guint e = 0; e + 1 < expectations->len; e += 2)
        in_expect |= n + 1 >= g_array_index (expectations, guint, e) && n + 1 <= g_array_index (expectations, guint, e + 1);
      if (lines[n + 1] == NULL && lines[n][0] == '\0')
        break;
      g_string_append_printf (out, "%s%s\n", in_expect ? "# (expectation of the original) " : "", lines[n]);
    }
  g_string_append (out, "\n# Recorded by mailsim serve: the real clients of a live session, as timeline\n"
                        "# actions. 'mailsim run' of this file replays the session's trace.\n");
  g_string_append (out, topology->str);
  g_string_append_printf (out, "duration %s\n", duration);
  if (timeline->len > 0)
    g_string_append_printf (out, "timeline {\n%s}\n", timeline->str);
  return g_file_set_contents (path, out->str, (gssize) out->len, error);
}

static gboolean
on_stop_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

static int
command_serve (int argc, char **argv)
{
  g_auto (GStrv) smtp = NULL, submission = NULL, pop3 = NULL, imap = NULL, dns = NULL;
  g_autofree char *bind_text = NULL;
  g_autofree char *json_path = NULL;
  g_autofree char *record_path = NULL;
  g_autofree char *pcap_path = NULL;
  gdouble speed = 1.0;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "record", 0, 0, G_OPTION_ARG_FILENAME, &record_path, "Save the session as a scenario: the real clients become timeline actions", "FILE" },
    { "pcap", 'p', 0, G_OPTION_ARG_FILENAME, &pcap_path, "Write the traffic as a pcap capture to FILE (complete when the server stops)", "FILE" },
    { "smtp", 0, 0, G_OPTION_ARG_STRING_ARRAY, &smtp, "Serve an MTA's SMTP (port 25) on local PORT", "PORT=NODE" },
    { "submission", 0, 0, G_OPTION_ARG_STRING_ARRAY, &submission, "Serve an MTA's submission (port 587)", "PORT=NODE" },
    { "pop3", 0, 0, G_OPTION_ARG_STRING_ARRAY, &pop3, "Serve a mail store's POP3", "PORT=NODE" },
    { "imap", 0, 0, G_OPTION_ARG_STRING_ARRAY, &imap, "Serve a mail store's IMAP", "PORT=NODE" },
    { "dns", 0, 0, G_OPTION_ARG_STRING_ARRAY, &dns, "Serve a name server over UDP and TCP", "PORT=NODE" },
    { "bind", 0, 0, G_OPTION_ARG_STRING, &bind_text, "Address to listen on (default 127.0.0.1; anything else is reachable from other machines)", "ADDR" },
    { "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed, "Simulated seconds per real second (default 1)", "X" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Write the trace as JSON Lines to FILE", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the summary", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO - run a scenario live and let real clients in");
  g_autoptr (GError) error = NULL;
  FILE *json = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "mailsim serve: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  if (argc != 2)
    {
      fprintf (stderr, "mailsim serve: give one scenario file, for example:\n"
                       "  mailsim serve scenarios/first-email.mailsim --smtp 2525=mx.example.org --imap 1143=mail.example.org\n");
      return EXIT_BAD_INPUT;
    }
  if (speed <= 0)
    {
      fprintf (stderr, "mailsim serve: --speed must be more than 0\n");
      return EXIT_BAD_INPUT;
    }
  g_autoptr (GInetAddress) bind_address = g_inet_address_new_from_string (bind_text != NULL ? bind_text : "127.0.0.1");
  if (bind_address == NULL)
    {
      fprintf (stderr, "mailsim serve: --bind %s is not an IP address\n", bind_text);
      return EXIT_BAD_INPUT;
    }
  if (!g_inet_address_get_is_loopback (bind_address))
    fprintf (stderr, "mailsim serve: WARNING: listening on %s, not loopback: other machines can reach this simulator.\n",
             bind_text);
  g_autoptr (Scenario) scenario = scenario_load (argv[1], &error);
  if (scenario == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  g_autoptr (SimWorld) world = scenario_build (scenario, scenario_get_seed (scenario), &error);
  if (world == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (json_path != NULL)
    {
      json = fopen (json_path, "w");
      if (json == NULL)
        {
          fprintf (stderr, "mailsim serve: cannot write %s\n", json_path);
          return EXIT_BAD_INPUT;
        }
      setvbuf (json, NULL, _IOLBF, 0);
      sim_json_attach (sim_world_get_trace (world), json);
    }
  if (pcap_path != NULL && !sim_pcap_attach (sim_world_get_trace (world), pcap_path, &error))
    {
      fprintf (stderr, "mailsim serve: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }
  if (!quiet)
    {
      SimNarrationOptions options = { stdout, FALSE, FALSE };
      sim_narration_attach (sim_world_get_trace (world), &options);
    }

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (SimLive) live = sim_live_new (sim_world_get_scheduler (world), speed);
  g_autoptr (SimGateway) gateway = sim_gateway_new (world, live, bind_address);
  g_autoptr (GString) recorded_topology = g_string_new (NULL);
  g_autoptr (GString) recorded_timeline = g_string_new (NULL);
  if (record_path != NULL)
    sim_gateway_record (gateway, recorded_topology, recorded_timeline);
  const char *bound_text = bind_text != NULL ? bind_text : "127.0.0.1";
  GStrv specs[] = { smtp, submission, pop3, imap, dns };
  guint served = 0;
  for (gsize k = 0; k < G_N_ELEMENTS (serve_kinds); k++)
    for (guint i = 0; specs[k] != NULL && specs[k][i] != NULL; i++)
      {
        if (!serve_bind (gateway, world, &serve_kinds[k], specs[k][i], bound_text, &error))
          {
            fprintf (stderr, "mailsim serve: %s\n", error->message);
            return EXIT_BAD_INPUT;
          }
        served++;
      }
  if (served == 0)
    {
      fprintf (stderr, "mailsim serve: nothing to serve; add --smtp, --submission, --pop3, --imap or --dns PORT=NODE\n");
      return EXIT_BAD_INPUT;
    }
  fprintf (stderr, "mailsim serve: running \"%s\"; press Ctrl-C to stop\n", scenario_get_title (scenario));
  guint interrupt = g_unix_signal_add (SIGINT, on_stop_signal, loop);
  guint terminate = g_unix_signal_add (SIGTERM, on_stop_signal, loop);
  g_main_loop_run (loop);
  g_source_remove (interrupt);
  g_source_remove (terminate);
  sim_live_sync (live);

  if (record_path != NULL && !save_recording (record_path, scenario, world, recorded_topology, recorded_timeline, &error))
    {
      fprintf (stderr, "mailsim serve: %s\n", error->message);
      return EXIT_BAD_INPUT;
    }

  ScenarioVerdict verdict = { 0, 0 };
  fprintf (stdout, "\nmailsim serve: stopped; %u real connection%s served\n", sim_gateway_get_total_connections (gateway),
           sim_gateway_get_total_connections (gateway) == 1 ? "" : "s");
  print_summary (stdout, world, &verdict, FALSE);
  g_clear_pointer (&gateway, sim_gateway_free);
  g_clear_pointer (&live, sim_live_free);
  if (json != NULL)
    fclose (json);
  return EXIT_PASSED;
}

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: mailsim COMMAND [OPTIONS] FILE...\n\n"
           "Commands:\n"
           "  run SCENARIO        narrate the journey of the mail, step by step\n"
           "  check SCENARIO...   run scenarios and check their expectations\n"
           "  serve SCENARIO      run a scenario live and let real clients in (swaks, curl, dig, Thunderbird)\n"
           "  fingerprint SCENARIO...  print a hash of each scenario's trace\n"
           "  diagram SCENARIO -o FILE  draw the run as a sequence diagram (.svg, .pdf, .png)\n\n"
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
  if (g_str_equal (argv[1], "serve"))
    return command_serve (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "fingerprint"))
    return command_fingerprint (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "diagram"))
    return command_diagram (argc - 1, argv + 1);
  fprintf (stderr, "mailsim: unknown command '%s'\n", argv[1]);
  usage (stderr);
  return EXIT_BAD_INPUT;
}
