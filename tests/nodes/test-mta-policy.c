/* test-mta-policy.c: an MTA's policies and faults, driven through scenarios.
 *
 * Each test runs a small world (alice's provider example.com sends to
 * bob's example.org, whose MTA carries the policy under test) and checks
 * the trace and the accounting: the reply codes on the wire, the notes
 * that explain them, and where every recipient copy ended.  The first
 * tests check the policy data structures on their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <string.h>

#include "nodes/mail-store.h"
#include "nodes/mta-policy.h"
#include "proto/message/mail-message.h"
#include "scenario/scenario.h"
#include "trace/sim-explain.h"

/* ---- the policy pieces on their own ---- */

static void
test_greylist_defers_new_triplet_until_delay_passes (void **state)
{
  g_autoptr (MtaGreylist) greylist = mta_greylist_new (5 * SIM_TIME_MINUTE);
  SimTime remaining = 0;

  assert_int_equal (mta_greylist_check (greylist, 0xC000021A, "a@x.example", "b@y.example", 0, &remaining),
                    MTA_GREYLIST_NEW);
  assert_int_equal (remaining, 5 * SIM_TIME_MINUTE);
  assert_int_equal (mta_greylist_check (greylist, 0xC000021A, "a@x.example", "b@y.example", SIM_TIME_MINUTE,
                                        &remaining), MTA_GREYLIST_TOO_EARLY);
  assert_int_equal (remaining, 4 * SIM_TIME_MINUTE);
  /* Another recipient is another triplet. */
  assert_int_equal (mta_greylist_check (greylist, 0xC000021A, "a@x.example", "c@y.example", SIM_TIME_MINUTE, NULL),
                    MTA_GREYLIST_NEW);
  assert_int_equal (mta_greylist_check (greylist, 0xC000021A, "A@X.example", "b@Y.EXAMPLE", 5 * SIM_TIME_MINUTE,
                                        NULL), MTA_GREYLIST_PASS);
}

static void
test_rate_limit_is_a_sliding_window (void **state)
{
  g_autoptr (MtaRateLimit) limit = mta_rate_limit_new (2, SIM_TIME_MINUTE);

  assert_true (mta_rate_limit_allows (limit, "192.0.2.25", 0));
  mta_rate_limit_record (limit, "192.0.2.25", 0);
  mta_rate_limit_record (limit, "192.0.2.25", 10 * SIM_TIME_SECOND);
  assert_false (mta_rate_limit_allows (limit, "192.0.2.25", 30 * SIM_TIME_SECOND));
  assert_true (mta_rate_limit_allows (limit, "192.0.2.26", 30 * SIM_TIME_SECOND));
  /* The first recipient leaves the window after one minute. */
  assert_true (mta_rate_limit_allows (limit, "192.0.2.25", SIM_TIME_MINUTE));
}

static void
test_dnsbl_query_name_reverses_the_octets (void **state)
{
  g_autofree char *name = mta_dnsbl_query_name (0xC6336442, "bl.example.net");
  g_autofree char *dotted = mta_dnsbl_query_name (0xC6336442, "bl.example.net.");

  assert_string_equal (name, "66.100.51.198.bl.example.net.");
  assert_string_equal (dotted, name);
}

static void
test_spam_score_follows_the_documented_rules (void **state)
{
  g_autoptr (GBytes) spam = mail_message_compose ("x@example.com", "bob@example.org", "WIN A FREE PRIZE!!!",
                                                  "Click now, free cash!");
  g_autoptr (GBytes) ham = mail_message_compose ("alice@example.com", "bob@example.org", "Lunch on Friday?",
                                                 "Are you free for lunch?");
  g_autofree char *tests = NULL;
  g_autofree char *ham_tests = NULL;

  /* click, free, prize, cash: 4 words x 2; capitals 3; four '!' 2. */
  assert_int_equal (mta_spam_score (spam, &tests), 13);
  assert_string_equal (tests, "SPAM_WORD(cash) SPAM_WORD(click) SPAM_WORD(free) SPAM_WORD(prize) CAPS_SUBJECT "
                              "MANY_EXCLAMATIONS");
  assert_int_equal (mta_spam_score (ham, &ham_tests), 2);
  assert_string_equal (ham_tests, "SPAM_WORD(free)");
}

/* ---- scenarios ---- */

/* alice@example.com (192.0.2.10) submits to smtp.example.com
 * (192.0.2.25), which relays to mx.example.org (203.0.113.25); its policy
 * lines come from the test.  ns.example.org serves example.org,
 * example.com (with SPF "v=spf1 mx -all") and the blocklist bl.example.net. */
static const char *const world_head =
  "title \"policy\"\n"
  "node laptop { kind client; address 192.0.2.10\n"
  "  account alice@example.com password secret submit smtp.example.com store mail.example.com\n"
  "}\n"
  "node smtp.example.com { kind mta; address 192.0.2.25; submission\n"
  "  user alice@example.com password secret\n"
  "  local-domain example.com store mail.example.com\n"
  "  resolver ns.example.org\n"
  "  retry 1m lifetime 30m\n"
  "  %s\n"
  "}\n"
  "node mail.example.com { kind mailstore; address 192.0.2.110; mailbox alice@example.com password secret }\n"
  "node ns.example.org { kind dns; address 203.0.113.53\n"
  "  zone example.org. {\n"
  "    record \"@ SOA ns.example.org. hostmaster.example.org. 1 7200 900 1209600 300\"\n"
  "    record \"@ NS ns.example.org.\"\n"
  "    record \"@ MX 10 mx.example.org.\"\n"
  "    record \"mx A 203.0.113.25\"\n"
  "  }\n"
  "  zone example.com. {\n"
  "    record \"@ SOA ns.example.org. hostmaster.example.org. 1 7200 900 1209600 300\"\n"
  "    record \"@ NS ns.example.org.\"\n"
  "    record \"@ MX 10 smtp.example.com.\"\n"
  "    record \"smtp A 192.0.2.25\"\n"
  "    record \"@ TXT \\\"v=spf1 mx -all\\\"\"\n"
  "  }\n"
  "  zone bl.example.net. {\n"
  "    record \"@ SOA ns.example.org. hostmaster.example.org. 1 7200 900 1209600 300\"\n"
  "    record \"@ NS ns.example.org.\"\n"
  "    record \"25.2.0.192 A 127.0.0.2\"\n"
  "    record \"25.2.0.192 TXT \\\"Listed for sending spam\\\"\"\n"
  "  }\n"
  "}\n"
  "node mx.example.org { kind mta; address 203.0.113.25; local-domain example.org store mail.example.org\n"
  "  resolver ns.example.org\n"
  "  %s\n"
  "}\n"
  "node mail.example.org { kind mailstore; address 203.0.113.110\n"
  "  mailbox bob@example.org password secret\n"
  "  mailbox carol@example.org password secret\n"
  "}\n"
  "link laptop smtp.example.com latency 10ms\n"
  "link smtp.example.com mail.example.com latency 1ms\n"
  "link smtp.example.com ns.example.org latency 10ms\n"
  "link smtp.example.com mx.example.org latency 10ms\n"
  "link mx.example.org ns.example.org latency %s\n"
  "link mx.example.org mail.example.org latency 1ms\n";

typedef struct
{
  Scenario *scenario;
  SimWorld *world;
  ScenarioVerdict verdict;
  SimAccounting accounting;
} Run;

static void
run_clear (Run *run)
{
  sim_world_free (run->world);
  scenario_free (run->scenario);
}

/* Loads and runs a world; @sender and @receiver are settings of
 * smtp.example.com and mx.example.org. */
static void
run_world (Run *run, const char *sender, const char *receiver, const char *dns_latency, const char *rest)
{
  g_autofree char *head = g_strdup_printf (world_head, sender, receiver, dns_latency);
  g_autofree char *text = g_strconcat (head, rest, NULL);
  g_autoptr (GError) error = NULL;

  run->scenario = scenario_load_from_text ("policy.mailsim", text, strlen (text), &error);
  if (run->scenario == NULL)
    fail_msg ("%s", error->message);
  run->world = scenario_build (run->scenario, 1, &error);
  assert_non_null (run->world);
  sim_trace_set_keep (sim_world_get_trace (run->world), TRUE);
  run->verdict = scenario_run (run->scenario, run->world);
  run->accounting = sim_world_get_accounting (run->world);
}

/* How many events have @explain (or any, when NULL) and a text containing @needle. */
static guint
count_events (Run *run, const char *explain, const char *needle)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (run->world));
  guint count = 0;

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      g_autofree char *bytes = NULL;
      const char *text = event->text;
      if (explain != NULL && g_strcmp0 (event->explain, explain) != 0)
        continue;
      if (text == NULL && event->bytes != NULL)
        text = bytes = g_strndup (g_bytes_get_data (event->bytes, NULL), g_bytes_get_size (event->bytes));
      if (needle == NULL || (text != NULL && strstr (text, needle) != NULL))
        count++;
    }
  return count;
}

/* How many replies sent by servers (SMTP or LMTP) start with @prefix. */
static guint
count_replies (Run *run, const char *prefix)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (run->world));
  guint count = 0;

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      gsize length = 0;
      const char *data;
      if (event->kind != SIM_EVENT_DATA || event->from_client || event->bytes == NULL)
        continue;
      data = g_bytes_get_data (event->bytes, &length);
      if (length >= strlen (prefix) && memcmp (data, prefix, strlen (prefix)) == 0)
        count++;
    }
  return count;
}

static void
assert_every_key_explained (Run *run)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (run->world));

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->explain != NULL && sim_explain_lookup (event->explain) == NULL)
        fail_msg ("explanation key '%s' is not in the catalogue", event->explain);
    }
}

/* The first message of @address's @folder, or NULL. */
static GBytes *
first_message (Run *run, const char *address, const char *folder)
{
  MailStore *store = sim_world_find_store_for (run->world, address);
  g_autoptr (GPtrArray) messages = store != NULL ? mail_store_list (store, address, folder) : NULL;

  if (messages == NULL || messages->len == 0)
    return NULL;
  return ((const MailStoreMessage *) g_ptr_array_index (messages, 0))->data;
}

static const char *const send_to_bob =
  "timeline { at 1s send alice@example.com to bob@example.org subject \"Hello\" body \"See you soon.\" }\n";

static void
test_greylisting_delays_the_first_delivery_by_the_delay (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "greylist 3m", "10ms", send_to_bob);
  assert_int_equal (run.accounting.delivered, 1);
  assert_int_equal (run.accounting.queued, 0);
  assert_int_equal (count_events (&run, "mail.greylist", "is new: deferred"), 1);
  /* Retries back off exponentially (1m, then 2m more): too early at 1m,
   * through at 3m, when the greylisting delay has passed. */
  assert_int_equal (count_events (&run, "mail.greylist", "retried too early"), 1);
  assert_int_equal (count_events (&run, "mail.greylist", "was seen before and waited: accepted"), 1);
  assert_int_equal (count_replies (&run, "450 4.7.1 <bob@example.org>: Recipient address rejected: Greylisted"), 2);
  GBytes *message = first_message (&run, "bob@example.org", "INBOX");
  assert_non_null (message);
  assert_every_key_explained (&run);
  run_clear (&run);
}

static void
test_a_policy_switched_off_on_the_timeline_stops_applying (void **state)
{
  Run run = { 0 };

  /* Greylisting for 10 minutes from the start, switched off at 30s: the
   * first attempt is greylisted, the retry a minute later goes through. */
  run_world (&run, "", "", "10ms",
             "timeline { at 0s policy mx.example.org greylist 10m\n"
             "  at 1s send alice@example.com to bob@example.org subject \"Hello\" body \"Hi\"\n"
             "  at 30s policy mx.example.org greylist off }\n");
  assert_int_equal (count_replies (&run, "450 4.7.1 <bob@example.org>: Recipient address rejected: Greylisted"), 1);
  assert_int_equal (count_events (&run, "action.policy", "greylist off"), 1);
  assert_int_equal (run.accounting.delivered, 1);
  MailStore *store = sim_world_find_store_for (run.world, "bob@example.org");
  g_autoptr (GPtrArray) inbox = mail_store_list (store, "bob@example.org", "INBOX");
  const MailStoreMessage *message = g_ptr_array_index (inbox, 0);
  assert_true (message->internal_date < 2 * SIM_TIME_MINUTE);
  run_clear (&run);
}

static void
test_rate_limit_throttles_a_bulk_message (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "rate-limit 2 per 1m", "10ms",
             "timeline { at 1s send alice@example.com to bob@example.org,carol@example.org,bob@example.org,carol@example.org"
             " subject \"News\" }\n");
  /* Two recipients per minute: two now, two at the retry a minute later. */
  assert_int_equal (run.accounting.accepted, 4);
  assert_int_equal (run.accounting.delivered, 4);
  assert_int_equal (run.accounting.queued, 0);
  assert_int_equal (count_events (&run, "mail.rate-limit", "already sent 2 recipients"), 2);
  assert_int_equal (count_events (&run, "mail.deferred", "too many recipients from [192.0.2.25]"), 2);
  assert_every_key_explained (&run);
  run_clear (&run);
}

static void
test_blocklisted_client_refused_with_the_lists_reason (void **state)
{
  Run run = { 0 };

  /* A slow path to DNS: the RCPT arrives before the blocklist answers and
   * waits for it (smtp_server_resume). */
  run_world (&run, "", "dnsbl bl.example.net", "200ms", send_to_bob);
  assert_int_equal (run.accounting.bounced, 1);
  assert_int_equal (run.accounting.delivered, 1);   /* the bounce, in alice's INBOX */
  assert_int_equal (count_events (&run, "mail.dnsbl", "asking DNS for 25.2.0.192.bl.example.net."), 1);
  assert_int_equal (count_replies (&run,
                                   "554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using bl.example.net; "
                                  "Listed for sending spam"), 1);
  assert_every_key_explained (&run);
  run_clear (&run);
}

static void
test_unlisted_client_passes_the_blocklist (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "dnsbl bl.example.net", "10ms",
             "timeline { at 0s dns-remove ns.example.org bl.example.net. 25.2.0.192 A\n"
             "  at 1s send alice@example.com to bob@example.org }\n");
  assert_int_equal (run.accounting.delivered, 1);
  assert_int_equal (run.accounting.bounced, 0);
  assert_int_equal (count_events (&run, "mail.dnsbl", "the client is not listed"), 1);
  run_clear (&run);
}

static void
test_spam_is_filed_in_junk_with_its_score (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "spam-threshold 5", "10ms",
             "timeline { at 1s send alice@example.com to bob@example.org subject \"FREE LOTTERY WINNER!!!\" body \"x\"\n"
             "  at 2s send alice@example.com to carol@example.org subject \"Minutes\" body \"Attached.\" }\n");
  GBytes *junk = first_message (&run, "bob@example.org", "Junk");
  GBytes *ham = first_message (&run, "carol@example.org", "INBOX");
  assert_non_null (junk);
  assert_non_null (ham);
  assert_null (first_message (&run, "bob@example.org", "INBOX"));
  g_autofree char *flag = mail_message_get_header (junk, "X-Spam-Flag");
  g_autofree char *status = mail_message_get_header (junk, "X-Spam-Status");
  g_autofree char *ham_status = mail_message_get_header (ham, "X-Spam-Status");
  assert_string_equal (flag, "YES");
  assert_string_equal (status, "Yes, score=11 required=5 tests=SPAM_WORD(free) SPAM_WORD(lottery) SPAM_WORD(winner) "
                               "CAPS_SUBJECT MANY_EXCLAMATIONS");
  assert_string_equal (ham_status, "No, score=0 required=5 tests=none");
  assert_int_equal (count_events (&run, "mail.junk", "filed in bob@example.org's Junk"), 1);
  assert_every_key_explained (&run);
  run_clear (&run);
}

static void
test_spf_pass_is_recorded_in_received_spf (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "spf check", "10ms", send_to_bob);
  GBytes *message = first_message (&run, "bob@example.org", "INBOX");
  assert_non_null (message);
  g_autofree char *spf = mail_message_get_header (message, "Received-SPF");
  assert_non_null (spf);
  assert_true (g_str_has_prefix (spf, "pass (mx.example.org: 192.0.2.25 is a permitted sender: 'mx' in example.com's record"));
  assert_non_null (strstr (spf, "client-ip=192.0.2.25; envelope-from=\"alice@example.com\""));
  assert_int_equal (count_events (&run, "mail.spf.pass", NULL), 1);
  run_clear (&run);
}

static void
test_spf_fail_is_refused_with_550_5_7_23 (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "spf reject-fail", "10ms",
             "timeline { at 0s dns-set ns.example.org example.com. \"@ TXT \\\"v=spf1 ip4:198.51.100.0/24 -all\\\"\"\n"
             "  at 1s send alice@example.com to bob@example.org }\n");
  assert_int_equal (run.accounting.bounced, 1);
  assert_int_equal (count_events (&run, "mail.spf.fail", "'-all' in example.com's record"), 1);
  assert_int_equal (count_replies (&run, "550 5.7.23 SPF: 192.0.2.25 is not allowed to send mail from example.com"), 1);
  run_clear (&run);
}

static void
test_spf_include_then_softfail_is_delivered (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "spf reject-fail", "10ms",
             "timeline { at 0s dns-set ns.example.org example.com. \"@ TXT \\\"v=spf1 include:_spf.example.com ~all\\\"\"\n"
             "  at 0s dns-add ns.example.org example.com. \"_spf TXT \\\"v=spf1 ip4:198.51.100.0/24 -all\\\"\"\n"
             "  at 1s send alice@example.com to bob@example.org }\n");
  GBytes *message = first_message (&run, "bob@example.org", "INBOX");
  assert_non_null (message);
  g_autofree char *spf = mail_message_get_header (message, "Received-SPF");
  assert_true (g_str_has_prefix (spf, "softfail "));
  assert_int_equal (count_events (&run, "mail.spf.softfail", NULL), 1);
  run_clear (&run);
}

static void
test_spf_lookup_limit_is_a_permerror (void **state)
{
  Run run = { 0 };

  /* A record that includes itself recurses until the 10-lookup limit. */
  run_world (&run, "", "spf check", "10ms",
             "timeline { at 0s dns-set ns.example.org example.com. \"@ TXT \\\"v=spf1 include:example.com -all\\\"\"\n"
             "  at 1s send alice@example.com to bob@example.org }\n");
  assert_int_equal (run.accounting.delivered, 1);
  assert_int_equal (count_events (&run, "mail.spf.error", "more than 10 terms needing DNS lookups"), 1);
  run_clear (&run);
}

static void
test_size_limit_refuses_large_messages_with_552 (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "size-limit 300", "10ms",
             "timeline { at 1s send alice@example.com to bob@example.org subject \"Report\" body "
             "\"0123456789012345678901234567890123456789\" }\n");
  assert_int_equal (run.accounting.bounced, 1);
  assert_int_equal (count_events (&run, NULL, "250-SIZE 300"), 1);
  assert_int_equal (count_replies (&run, "552 5.3.4 Message size exceeds fixed limit"), 1);
  run_clear (&run);
}

static void
test_warn_after_sends_one_delay_warning_before_the_bounce (void **state)
{
  Run run = { 0 };

  run_world (&run, "warn-after 4m", "", "10ms",
             "timeline { at 0s node-down mx.example.org; at 1s send alice@example.com to bob@example.org }\n");
  assert_int_equal (run.accounting.bounced, 1);
  assert_int_equal (run.accounting.dsn_generated, 2);
  assert_int_equal (count_events (&run, "mail.delayed", NULL), 1);
  MailStore *store = sim_world_find_store_for (run.world, "alice@example.com");
  g_autoptr (GPtrArray) inbox = mail_store_list (store, "alice@example.com", "INBOX");
  assert_int_equal (inbox->len, 2);
  GBytes *warning = ((const MailStoreMessage *) g_ptr_array_index (inbox, 0))->data;
  g_autofree char *subject = mail_message_get_header (warning, "Subject");
  assert_string_equal (subject, "Delayed Mail (still being retried)");
  g_autofree char *text = g_strndup (g_bytes_get_data (warning, NULL), g_bytes_get_size (warning));
  assert_non_null (strstr (text, "Action: delayed"));
  run_clear (&run);
}

static void
test_retries_back_off_exponentially_up_to_the_maximum (void **state)
{
  Run run = { 0 };
  GPtrArray *events;
  g_autoptr (GArray) deferred = g_array_new (FALSE, FALSE, sizeof (SimTime));
  g_autoptr (GArray) started = g_array_new (FALSE, FALSE, sizeof (SimTime));

  /* The exchanger is down for good: every attempt fails and is deferred. */
  run_world (&run, "retry 1m max 4m lifetime 20m", "", "10ms",
             "duration 1h\ntimeline { at 0s node-down mx.example.org; at 1s send alice@example.com to bob@example.org }\n");
  events = sim_trace_get_events (sim_world_get_trace (run.world));
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (!g_str_equal (event->from, "smtp.example.com"))
        continue;
      if (event->kind == SIM_EVENT_MAIL && g_strcmp0 (event->status, "deferred") == 0)
        g_array_append_val (deferred, event->time);
      /* Each attempt starts by asking DNS where example.org takes mail. */
      if (event->kind == SIM_EVENT_NOTE && g_strcmp0 (event->status, "lookup") == 0)
        g_array_append_val (started, event->time);
    }
  /* From each deferral to the next attempt: 1m, 2m, 4m, then 4m again
   * (the maximum). */
  static const SimTime expected_waits[] = { 1, 2, 4, 4 };
  assert_true (deferred->len >= G_N_ELEMENTS (expected_waits));
  assert_true (started->len >= G_N_ELEMENTS (expected_waits) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (expected_waits); i++)
    {
      SimTime wait = g_array_index (started, SimTime, i + 1) - g_array_index (deferred, SimTime, i);
      assert_int_equal (wait, expected_waits[i] * SIM_TIME_MINUTE);
    }
  /* The queue lifetime ends it: one bounce, with a failure report. */
  assert_int_equal (run.accounting.bounced, 1);
  assert_int_equal (run.accounting.queued, 0);
  run_clear (&run);
}

static void
test_failure_report_is_a_multipart_report_with_the_original_headers (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "", "10ms",
             "timeline { at 1s send alice@example.com to nobody@example.org subject \"Lost\" }\n");
  GBytes *report = first_message (&run, "alice@example.com", "INBOX");
  assert_non_null (report);
  g_autofree char *text = g_strndup (g_bytes_get_data (report, NULL), g_bytes_get_size (report));
  g_autofree char *type = mail_message_get_header (report, "Content-Type");
  /* RFC 3462: multipart/report of type delivery-status. */
  assert_true (g_str_has_prefix (type, "multipart/report; report-type=delivery-status;"));
  /* RFC 3464 2.2 and 2.3: per-message and per-recipient fields. */
  assert_non_null (strstr (text, "Content-Type: message/delivery-status"));
  assert_non_null (strstr (text, "Reporting-MTA: dns; smtp.example.com"));
  assert_non_null (strstr (text, "Final-Recipient: rfc822; nobody@example.org"));
  assert_non_null (strstr (text, "Action: failed"));
  assert_non_null (strstr (text, "Status: 5.1.1"));
  assert_non_null (strstr (text, "Diagnostic-Code: smtp; 550 5.1.1"));
  /* The third part carries the original message's headers. */
  assert_non_null (strstr (text, "Content-Type: text/rfc822-headers"));
  assert_non_null (strstr (text, "Subject: Lost"));
  /* Sent with the null reverse-path, so it can never bounce in turn. */
  g_autofree char *return_path = mail_message_get_header (report, "Return-Path");
  assert_string_equal (return_path, "<>");
  run_clear (&run);
}

static void
test_queue_survives_a_crash_and_no_retry_runs_while_down (void **state)
{
  Run run = { 0 };

  /* At 1.2s smtp.example.com is in the middle of relaying to mx. */
  run_world (&run, "", "", "10ms",
             "timeline { at 1s send alice@example.com to bob@example.org\n"
             "  at 1.2s node-down smtp.example.com\n  at 10m node-up smtp.example.com }\n");
  assert_int_equal (run.accounting.accepted, 1);
  assert_int_equal (run.accounting.delivered, 1);
  assert_int_equal (run.accounting.queued, 0);
  assert_int_equal (count_events (&run, "mail.spool", "1 message kept in its queue on disk"), 1);
  assert_int_equal (count_events (&run, "mail.spool", "1 due for a retry now"), 1);
  /* The only MX lookups: the first attempt and the one after node-up. */
  assert_int_equal (count_events (&run, "mail.route.mx", "asking DNS for its MX records"), 2);
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (run.world));
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->time > 2 * SIM_TIME_SECOND && event->time < 10 * SIM_TIME_MINUTE
          && g_strcmp0 (event->from, "smtp.example.com") == 0)
        fail_msg ("smtp.example.com acted while down: %s", event->text != NULL ? event->text : event->explain);
    }
  run_clear (&run);
}

static void
test_mailbox_full_defers_and_user_delete_bounces (void **state)
{
  Run run = { 0 };

  run_world (&run, "", "", "10ms",
             "timeline { at 0s mailbox-full bob@example.org; at 0s link-latency smtp.example.com mx.example.org 50ms\n"
             "  at 1s send alice@example.com to bob@example.org\n  at 3m user-delete bob@example.org }\n");
  assert_int_equal (count_events (&run, "action.mailbox-full", NULL), 1);
  assert_int_equal (count_events (&run, "mail.deferred", "452 4.2.2"), 1);
  assert_int_equal (count_replies (&run, "550 5.1.1 <bob@example.org>: no such mailbox here"), 1);
  assert_int_equal (run.accounting.bounced, 1);
  assert_int_equal (run.accounting.queued, 0);
  /* The latency change shows in the SMTP exchange: 50ms each way. */
  assert_int_equal (count_events (&run, "action.fault", "now takes 50ms each way"), 1);
  run_clear (&run);
}

typedef struct
{
  const char *receiver;
  const char *timeline;
  const char *message;
} ErrorCase;

static void
test_policy_and_fault_errors_name_the_fix (void **state)
{
  static const ErrorCase cases[] = {
    { "rate-limit 5 each 1m", "", "policy.mailsim:36:16: expected 'per', as in: rate-limit 5 per 1m" },
    { "greylist soon", "", "policy.mailsim:36:12: expected a time such as 250ms, 1.5s, 2m, 1h or 5d, found 'soon'" },
    { "spf maybe", "", "policy.mailsim:36:7: unknown spf mode 'maybe'; expected one of: check, reject-fail" },
    { "", "timeline { at 1s dns-set ns.example.org example.net. \"@ A 192.0.2.1\" }\n",
      "policy.mailsim:48:41: ns.example.org serves no zone 'example.net.'" },
    { "", "timeline { at 1s mailbox-full dave@example.org }\n",
      "policy.mailsim:48:31: no mailstore node has a mailbox for dave@example.org" },
    { "", "timeline { at 1s dns-remove ns.example.org example.org. mx BOGUS }\n",
      "policy.mailsim:48:60: unknown record type 'BOGUS'; for example A, MX or TXT" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *head = g_strdup_printf (world_head, "", cases[i].receiver, "10ms");
      g_autofree char *text = g_strconcat (head, cases[i].timeline, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (Scenario) scenario = scenario_load_from_text ("policy.mailsim", text, strlen (text), &error);
      assert_null (scenario);
      if (g_strcmp0 (error->message, cases[i].message) != 0)
        fail_msg ("case %" G_GSIZE_FORMAT ":\n  expected: %s\n  got:      %s", i, cases[i].message, error->message);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_greylist_defers_new_triplet_until_delay_passes),
    cmocka_unit_test (test_rate_limit_is_a_sliding_window),
    cmocka_unit_test (test_dnsbl_query_name_reverses_the_octets),
    cmocka_unit_test (test_spam_score_follows_the_documented_rules),
    cmocka_unit_test (test_greylisting_delays_the_first_delivery_by_the_delay),
    cmocka_unit_test (test_rate_limit_throttles_a_bulk_message),
    cmocka_unit_test (test_a_policy_switched_off_on_the_timeline_stops_applying),
    cmocka_unit_test (test_blocklisted_client_refused_with_the_lists_reason),
    cmocka_unit_test (test_unlisted_client_passes_the_blocklist),
    cmocka_unit_test (test_spam_is_filed_in_junk_with_its_score),
    cmocka_unit_test (test_spf_pass_is_recorded_in_received_spf),
    cmocka_unit_test (test_spf_fail_is_refused_with_550_5_7_23),
    cmocka_unit_test (test_spf_include_then_softfail_is_delivered),
    cmocka_unit_test (test_spf_lookup_limit_is_a_permerror),
    cmocka_unit_test (test_size_limit_refuses_large_messages_with_552),
    cmocka_unit_test (test_warn_after_sends_one_delay_warning_before_the_bounce),
    cmocka_unit_test (test_retries_back_off_exponentially_up_to_the_maximum),
    cmocka_unit_test (test_failure_report_is_a_multipart_report_with_the_original_headers),
    cmocka_unit_test (test_queue_survives_a_crash_and_no_retry_runs_while_down),
    cmocka_unit_test (test_mailbox_full_defers_and_user_delete_bounces),
    cmocka_unit_test (test_policy_and_fault_errors_name_the_fix),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
