/* test-scenario-run.c: scenarios given meaning, run, and checked.
 *
 * The first tests run the flagship scenario and hold it to its promises:
 * expectations pass, the accounting balances, the same seed gives the same
 * trace byte for byte.  The rest feed broken scenarios and check that each
 * error names FILE:LINE:COLUMN, what was expected and the likely fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <string.h>

#include "scenario/scenario.h"
#include "trace/sim-explain.h"
#include "trace/sim-narration.h"

static char *
scenario_path (const char *name)
{
  return g_build_filename (MAILSIM_SOURCE_ROOT, "scenarios", name, NULL);
}

/* Runs @scenario once and returns its JSON Lines trace. */
static char *
run_to_json (const Scenario *scenario, guint64 seed, ScenarioVerdict *verdict, SimAccounting *accounting)
{
  char *buffer = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&buffer, &size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SimWorld) world = scenario_build (scenario, seed, &error);

  assert_non_null (world);
  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  sim_json_attach (sim_world_get_trace (world), out);
  *verdict = scenario_run (scenario, world);
  if (accounting != NULL)
    *accounting = sim_world_get_accounting (world);
  fclose (out);
  return buffer;
}

static void
test_first_email_expectations_hold (void **state)
{
  g_autofree char *path = scenario_path ("first-email.mailsim");
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = scenario_load (path, &error);
  ScenarioVerdict verdict;
  SimAccounting accounting;

  assert_null (error);
  assert_non_null (scenario);
  g_autofree char *json = run_to_json (scenario, scenario_get_seed (scenario), &verdict, &accounting);
  assert_int_equal (verdict.failed, 0);
  assert_int_equal (verdict.passed, 7);
  assert_int_equal (accounting.accepted, 1);
  assert_int_equal (accounting.delivered, 1);
  assert_int_equal (accounting.bounced, 0);
  assert_int_equal (accounting.queued, 0);
  /* The whole dialogue is in the trace, in order. */
  const char *ehlo = strstr (json, "C: EHLO laptop.example.com");
  const char *auth = strstr (json, "C: AUTH PLAIN");
  const char *mx = strstr (json, "query MX? example.org.");
  const char *lhlo = strstr (json, "C: LHLO mx.example.org");
  const char *fetch = strstr (json, "UID FETCH 1:*");
  assert_non_null (ehlo);
  assert_non_null (auth);
  assert_non_null (mx);
  assert_non_null (lhlo);
  assert_non_null (fetch);
  assert_true (ehlo < auth && auth < mx && mx < lhlo && lhlo < fetch);
  /* Dot-stuffing on the wire: the lone dot of the body travels as "..". */
  assert_non_null (strstr (json, "\"C: ..\""));
}

static void
test_same_seed_gives_identical_trace (void **state)
{
  g_autofree char *path = scenario_path ("first-email.mailsim");
  g_autoptr (Scenario) scenario = scenario_load (path, NULL);
  ScenarioVerdict verdict;

  assert_non_null (scenario);
  g_autofree char *first = run_to_json (scenario, 7, &verdict, NULL);
  g_autofree char *second = run_to_json (scenario, 7, &verdict, NULL);
  assert_true (strlen (first) > 10000);
  assert_string_equal (first, second);
}

static void
test_every_explain_key_is_in_the_catalogue (void **state)
{
  g_autofree char *path = scenario_path ("first-email.mailsim");
  g_autoptr (Scenario) scenario = scenario_load (path, NULL);
  g_autoptr (SimWorld) world = scenario_build (scenario, 1, NULL);
  GPtrArray *events;

  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  scenario_run (scenario, world);
  events = sim_trace_get_events (sim_world_get_trace (world));
  assert_true (events->len > 50);
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->explain != NULL && sim_explain_lookup (event->explain) == NULL)
        fail_msg ("event %u uses explanation key '%s', which the catalogue lacks", i, event->explain);
    }
}

/* ---- a small world for the failure cases ---- */

static const char *const small_world =
  "title \"test\"\n"
  "node laptop { kind client; address 192.0.2.10\n"
  "  account alice@example.com password secret submit smtp.example.com store mail.example.com\n"
  "}\n"
  "node smtp.example.com { kind mta; address 192.0.2.25; submission\n"
  "  user alice@example.com password secret\n"
  "  local-domain example.com store mail.example.com\n"
  "  resolver ns.example.org\n"
  "  retry 1m lifetime 5m\n"
  "}\n"
  "node mail.example.com { kind mailstore; address 192.0.2.110; mailbox alice@example.com password secret }\n"
  "node ns.example.org { kind dns; address 203.0.113.53\n"
  "  zone example.org. {\n"
  "    record \"@ SOA ns.example.org. hostmaster.example.org. 1 7200 900 1209600 300\"\n"
  "    record \"@ NS ns.example.org.\"\n"
  "    record \"@ MX 10 mx.example.org.\"\n"
  "    record \"ns A 203.0.113.53\"\n"
  "    record \"mx A 203.0.113.25\"\n"
  "  }\n"
  "}\n"
  "node mx.example.org { kind mta; address 203.0.113.25; local-domain example.org store mail.example.org }\n"
  "node mail.example.org { kind mailstore; address 203.0.113.110; mailbox bob@example.org password secret }\n"
  "link laptop smtp.example.com latency 10ms\n"
  "link smtp.example.com mail.example.com latency 1ms\n"
  "link smtp.example.com ns.example.org latency 10ms\n"
  "link smtp.example.com mx.example.org latency 10ms\n"
  "link mx.example.org mail.example.org latency 1ms\n";

static Scenario *
load_small_world (const char *timeline_and_expectations, GError **error)
{
  g_autofree char *text = g_strconcat (small_world, timeline_and_expectations, NULL);
  return scenario_load_from_text ("small.mailsim", text, strlen (text), error);
}

static void
test_unknown_recipient_is_refused_and_bounced_to_sender (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = load_small_world (
    "timeline { at 1s send alice@example.com to nobody@example.org subject \"Hi\" }\n"
    "expect {\n"
    "  reply 550 from mx.example.org\n"
    "  bounced 1\n"
    "  delivered alice@example.com subject \"Undelivered Mail Returned to Sender\"\n"
    "  queued none\n"
    "}\n", &error);
  ScenarioVerdict verdict;
  SimAccounting accounting;

  assert_null (error);
  g_autofree char *json = run_to_json (scenario, 1, &verdict, &accounting);
  assert_int_equal (verdict.failed, 0);
  assert_int_equal (accounting.accepted, 1);
  assert_int_equal (accounting.dsn_generated, 1);
  assert_int_equal (accounting.bounced, 1);
  assert_int_equal (accounting.delivered, 1);
  assert_non_null (strstr (json, "User unknown"));
}

static void
test_nxdomain_bounces_at_once (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = load_small_world (
    "timeline { at 1s send alice@example.com to bob@mistyped.example.org }\n"
    "expect { bounced 1; queued 0 }\n", &error);
  ScenarioVerdict verdict;

  assert_null (error);
  g_autofree char *json = run_to_json (scenario, 1, &verdict, NULL);
  assert_int_equal (verdict.failed, 0);
  assert_non_null (strstr (json, "NXDOMAIN"));
  assert_non_null (strstr (json, "5.1.2"));
}

static void
test_exchanger_down_defers_then_bounces_after_lifetime (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = load_small_world (
    "duration 1h\n"
    "timeline { at 0s node-down mx.example.org; at 1s send alice@example.com to bob@example.org }\n"
    "expect { bounced 1; queued 0; delivered alice@example.com subject \"Undelivered Mail Returned to Sender\" }\n",
    &error);
  ScenarioVerdict verdict;

  assert_null (error);
  g_autofree char *json = run_to_json (scenario, 1, &verdict, NULL);
  assert_int_equal (verdict.failed, 0);
  assert_non_null (strstr (json, "\"status\":\"deferred\""));
  assert_non_null (strstr (json, "connection timed out"));
}

static void
test_failed_expectation_explains_itself (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = load_small_world (
    "timeline { at 1s send alice@example.com to nobody@example.org subject \"Hi\" }\n"
    "expect { delivered bob@example.org subject \"Hi\" }\n", &error);
  ScenarioVerdict verdict;

  assert_null (error);
  g_autofree char *json = run_to_json (scenario, 1, &verdict, NULL);
  assert_int_equal (verdict.failed, 1);
  assert_non_null (strstr (json, "found 0 matching"));
}

static void
test_store_crash_during_imap_session_ends_it_cleanly (void **state)
{
  g_autofree char *path = scenario_path ("first-email.mailsim");
  g_autofree char *text = NULL;
  ScenarioVerdict verdict;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* The phone's IMAP session starts at 60s; the store dies in the middle
   * of it.  Its sessions must let go of their streams (no use after free,
   * checked under AddressSanitizer) and the phone learns of the reset. */
  g_autoptr (GString) changed = g_string_new (text);
  g_string_replace (changed, "  at 1m fetch bob@example.org\n",
                    "  at 1m fetch bob@example.org\n  at 60.2s node-down mail.example.org\n", 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = scenario_load_from_text ("crash.mailsim", changed->str, changed->len, &error);
  assert_non_null (scenario);
  g_autofree char *json = run_to_json (scenario, 1, &verdict, NULL);
  assert_non_null (strstr (json, "mail.example.org goes down"));
  assert_non_null (strstr (json, "checking mail failed: connection reset"));
  assert_true (verdict.failed >= 1);   /* bob's phone never got the message */
}

static void
test_an_undeclared_duplicate_fails_the_accounting (void **state)
{
  g_autofree char *path = scenario_path ("lost-after-dot.mailsim");
  g_autofree char *text = NULL;
  ScenarioVerdict verdict;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* The RFC 1047 scenario declares its duplicate; without the declaration
   * the accounting invariant must fail the run, loudly. */
  g_autoptr (GString) changed = g_string_new (text);
  assert_true (g_string_replace (changed, "  duplicates 1\n", "", 1) == 1);
  g_autoptr (Scenario) scenario = scenario_load_from_text ("dup.mailsim", changed->str, changed->len, NULL);
  assert_non_null (scenario);
  g_autofree char *json = run_to_json (scenario, 1, &verdict, NULL);
  assert_int_equal (verdict.failed, 1);
  assert_non_null (strstr (json, "accounting: 1 recipient copies entered the world"));
  assert_non_null (strstr (json, "a message was duplicated"));
}

/* Words of a valid scenario replaced by others, a few thousand times:
 * loading must fail with FILE:LINE:COLUMN or succeed (and then run), never
 * crash.  Seeded, so a failure reproduces. */
static void
test_mutated_scenarios_fail_cleanly_or_run (void **state)
{
  static const char *const replacements[] = {
    "mailbox", "1", "0", "x@y", "@", "\"\"", "kind", "node", "at", "send", "-1s", "99999999999d", "10.0.0.256",
    "example.org.", "smtp.example.com", "fetch", "expect", "record", "\"@ MX\"", "on", "to", "subject", "seen",
    "dns.cache.hit", "duplicates", "fingerprint", "0123456789abcdef", "retry", "max", "link", "latency",
  };
  g_autofree char *path = scenario_path ("first-email.mailsim");
  g_autofree char *text = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261130);
  guint loaded = 0, refused = 0;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) words = g_strsplit_set (text, " \n", -1);
  guint n_words = g_strv_length (words);
  for (guint round = 0; round < 2000; round++)
    {
      g_auto (GStrv) mutated = g_strdupv (words);
      guint changes = (guint) g_rand_int_range (rand, 1, 4);
      for (guint c = 0; c < changes; c++)
        {
          guint at = (guint) g_rand_int_range (rand, 0, (gint32) n_words);
          g_free (mutated[at]);
          mutated[at] = g_strdup (replacements[g_rand_int_range (rand, 0, G_N_ELEMENTS (replacements))]);
        }
      /* Rejoin with the separators of the original, word by word. */
      GString *rebuilt = g_string_new (NULL);
      const char *cursor = text;
      for (guint w = 0; w < n_words; w++)
        {
          gsize original_length = strlen (words[w]);
          g_string_append (rebuilt, mutated[w]);
          cursor += original_length;
          if (*cursor != '\0')
            g_string_append_c (rebuilt, *cursor++);
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (Scenario) scenario = scenario_load_from_text ("mutant.mailsim", rebuilt->str, rebuilt->len, &error);
      if (scenario == NULL)
        {
          assert_non_null (error);
          if (!g_str_has_prefix (error->message, "mutant.mailsim:"))
            fail_msg ("round %u: error without a position: %s", round, error->message);
          refused++;
        }
      else
        {
          g_autoptr (SimWorld) world = scenario_build (scenario, 1, NULL);
          assert_non_null (world);
          scenario_run (scenario, world);
          loaded++;
        }
      g_string_free (rebuilt, TRUE);
    }
  /* Both paths were exercised. */
  assert_true (loaded > 0);
  assert_true (refused > 0);
}

/* ---- errors ---- */

typedef struct
{
  const char *text;
  const char *message;   /* the exact error */
} ErrorCase;

static void
test_errors_name_position_expectation_and_fix (void **state)
{
  static const ErrorCase cases[] = {
    { "timeline { at 1s send alice@example.com to bob@example.org }\nlink laptop smtp.exmple.com\n",
      "small.mailsim:29:13: unknown node 'smtp.exmple.com'; did you mean 'smtp.example.com'?" },
    { "timeline { at 1 send alice@example.com to bob@example.org }\n",
      "small.mailsim:28:15: '1' needs a unit: us, ms, s, m, h or d (for example 250ms or 1.5s)" },
    { "timeline { at 1s sned alice@example.com }\n",
      "small.mailsim:28:18: unknown timeline action 'sned'; did you mean 'send'?" },
    { "timeline { at 1s send carol@example.com to bob@example.org }\n",
      "small.mailsim:28:23: no client node has an account for carol@example.com; add 'account carol@example.com password ... submit ... store ...' to a client node" },
    { "node extra { kind mta; adress 10.0.0.1 }\n",
      "small.mailsim:28:6: node 'extra' needs an address: add 'address 192.0.2.10' (an IPv4 address) to its block" },
    { "node extra { kind mta; address 10.0.0.1; resolvr ns.example.org }\n",
      "small.mailsim:28:42: unknown setting for an mta node 'resolvr'; did you mean 'resolver'?" },
    { "node extra { kind mta; address 10.0.0.300 }\n",
      "small.mailsim:28:32: expected an IPv4 address such as 192.0.2.10, found '10.0.0.300'" },
    { "node extra { kind mta; address 192.0.2.25 }\n",
      "small.mailsim:28:32: address 192.0.2.25 is already used by 'smtp.example.com'" },
    { "expect { delivered bob@example.org by soon }\n",
      "small.mailsim:28:39: expected a time such as 250ms, 1.5s, 2m, 1h or 5d, found 'soon'" },
    { "expect { delivered carol@example.org }\n",
      "small.mailsim:28:20: no mailstore node has a mailbox for carol@example.org; add 'mailbox carol@example.org password ...' to one" },
    { "tittle \"x\"\n",
      "small.mailsim:28:1: unknown statement 'tittle'; did you mean 'title'?" },
    { "timeline { at 1s send alice@example.com to bob@example.org subject \"Hello\" }\n"
      "expect { delivered bob@example.org subject \"Helo\" }\n",
      "small.mailsim:29:44: no message with subject \"Helo\" is sent in this scenario; did you mean \"Hello\"?" },
    { "node extra { kind mailbox; address 10.0.0.1 }\n",
      "small.mailsim:28:19: unknown node kind 'mailbox'; expected one of: client, mta, mailstore, dns, router, external, eavesdropper" },
    { "link laptop moon\n",
      "small.mailsim:28:13: unknown node 'moon'; declare it with 'node moon { ... }'" },
    { "node laptop { kind router; address 10.9.9.9 }\n",
      "small.mailsim:28:6: a node named 'laptop' already exists" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (Scenario) scenario = load_small_world (cases[i].text, &error);
      assert_null (scenario);
      assert_non_null (error);
      if (g_strcmp0 (error->message, cases[i].message) != 0)
        fail_msg ("case %" G_GSIZE_FORMAT ":\n  expected: %s\n  got:      %s", i, cases[i].message, error->message);
    }
}

static void
test_zone_record_error_points_into_the_record (void **state)
{
  const char *text =
    "title \"t\"\n"
    "node ns { kind dns; address 192.0.2.53\n"
    "  zone example.org. { record \"@ MX ten mx\" }\n"
    "}\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = scenario_load_from_text ("zone.mailsim", text, strlen (text), &error);

  assert_null (scenario);
  assert_non_null (error);
  /* The quote is at column 30, so the record starts at 31 and "ten", its
   * sixth byte, at 36. */
  assert_true (g_str_has_prefix (error->message, "zone.mailsim:3:36: "));
}

static void
test_missing_file_is_an_io_error (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = scenario_load ("/nonexistent/none.mailsim", &error);

  assert_null (scenario);
  assert_true (g_error_matches (error, SCENARIO_ERROR, SCENARIO_ERROR_IO));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_first_email_expectations_hold),
    cmocka_unit_test (test_same_seed_gives_identical_trace),
    cmocka_unit_test (test_every_explain_key_is_in_the_catalogue),
    cmocka_unit_test (test_unknown_recipient_is_refused_and_bounced_to_sender),
    cmocka_unit_test (test_nxdomain_bounces_at_once),
    cmocka_unit_test (test_exchanger_down_defers_then_bounces_after_lifetime),
    cmocka_unit_test (test_failed_expectation_explains_itself),
    cmocka_unit_test (test_store_crash_during_imap_session_ends_it_cleanly),
    cmocka_unit_test (test_an_undeclared_duplicate_fails_the_accounting),
    cmocka_unit_test (test_mutated_scenarios_fail_cleanly_or_run),
    cmocka_unit_test (test_errors_name_position_expectation_and_fix),
    cmocka_unit_test (test_zone_record_error_points_into_the_record),
    cmocka_unit_test (test_missing_file_is_an_io_error),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
