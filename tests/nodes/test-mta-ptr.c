/* test-mta-ptr.c: the client's reverse name in the Received field.
 *
 * RFC 5321 4.4: the TCP-info of a Received field holds the client's
 * address and, when it resolves, its reverse name.  The MTA asks its
 * resolver for the PTR record when a client connects and writes
 * `from HELO (NAME [ADDRESS])`, NAME being "unknown" when there is no
 * PTR or it has not arrived by the time the message is accepted, as
 * Postfix does.
 *
 * The world: alice on laptop (192.0.2.10, with a PTR) and bob on tablet
 * (192.0.2.11, without one) submit to smtp.example.com, which files mail
 * for example.com in mail.example.com.  Its resolver walks from a root
 * server that also serves the reverse zone 2.0.192.in-addr.arpa.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nodes/mail-store.h"
#include "proto/message/mail-message.h"
#include "scenario/scenario.h"

static const char *const world_format =
  "title \"ptr\"\n"
  "node laptop.example.com { kind client; address 192.0.2.10\n"
  "  account alice@example.com password secret submit smtp.example.com store mail.example.com\n"
  "}\n"
  "node tablet { kind client; address 192.0.2.11\n"
  "  account bob@example.com password secret submit smtp.example.com store mail.example.com\n"
  "}\n"
  "node smtp.example.com { kind mta; address 192.0.2.25; submission\n"
  "  user alice@example.com password secret\n"
  "  user bob@example.com password secret\n"
  "  local-domain example.com store mail.example.com\n"
  "  resolver resolver.example.com\n"
  "}\n"
  "node mail.example.com { kind mailstore; address 192.0.2.110\n"
  "  mailbox alice@example.com password secret\n"
  "  mailbox bob@example.com password secret\n"
  "}\n"
  "node resolver.example.com { kind dns; address 192.0.2.53; root-hint root }\n"
  "node root { kind dns; address 198.41.0.4\n"
  "  zone . {\n"
  "    record \". SOA root. nstld.example. 1 1800 900 604800 86400\"\n"
  "    record \". NS root.\"\n"
  "    record \"root. A 198.41.0.4\"\n"
  "  }\n"
  "  zone 2.0.192.in-addr.arpa. {\n"
  "    record \"@ SOA root. hostmaster.example.com. 1 7200 900 1209600 300\"\n"
  "    record \"@ NS root.\"\n"
  "    record \"10 PTR laptop.example.com.\"\n"
  "  }\n"
  "}\n"
  "link laptop.example.com smtp.example.com latency 10ms\n"
  "link tablet smtp.example.com latency 10ms\n"
  "link smtp.example.com mail.example.com latency 1ms\n"
  "link smtp.example.com resolver.example.com latency %s\n"
  "link resolver.example.com root latency 10ms\n"
  "timeline { at 1s send %s to %s subject \"Hello\" body \"Hi.\" }\n";

typedef struct
{
  Scenario *scenario;
  SimWorld *world;
} Run;

static void
run_clear (Run *run)
{
  sim_world_free (run->world);
  scenario_free (run->scenario);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs the world: @sender writes to @recipient, the resolver @latency away
 * from the MTA. */
static void
run_world (Run *run, const char *sender, const char *recipient, const char *latency)
{
  g_autofree char *text = g_strdup_printf (world_format, latency, sender, recipient);
  g_autoptr (GError) error = NULL;

  run->scenario = scenario_load_from_text ("ptr.mailsim", text, strlen (text), &error);
  if (run->scenario == NULL)
    fail_msg ("%s", error->message);
  run->world = scenario_build (run->scenario, 1, &error);
  if (run->world == NULL)
    fail_msg ("%s", error->message);
  sim_trace_set_keep (sim_world_get_trace (run->world), TRUE);
  scenario_run (run->scenario, run->world);
}

/* (transfer full) The first line of the Received field of the one message
 * in @recipient's INBOX. */
static char *
received_first_line (Run *run, const char *recipient)
{
  MailStore *store = sim_world_find_store_for (run->world, recipient);
  assert_non_null (store);
  g_autoptr (GPtrArray) inbox = mail_store_list (store, recipient, "INBOX");
  assert_int_equal (inbox->len, 1);
  GBytes *message = ((const MailStoreMessage *) g_ptr_array_index (inbox, 0))->data;
  g_autofree char *received = mail_message_get_header (message, "Received");
  assert_non_null (received);
  /* The field comes unfolded: the tab of each fold marks a line's end. */
  return g_strndup (received, strcspn (received, "\t\r\n"));
}

static guint
count_notes (Run *run, const char *key, const char *status)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (run->world));
  guint count = 0;

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind == SIM_EVENT_NOTE && g_strcmp0 (event->explain, key) == 0
          && g_strcmp0 (event->status, status) == 0)
        count++;
    }
  return count;
}

static void
test_client_with_ptr_is_named_in_received (void **state)
{
  g_auto (Run) run = { 0 };

  run_world (&run, "alice@example.com", "bob@example.com", "1ms");
  g_autofree char *line = received_first_line (&run, "bob@example.com");
  assert_string_equal (line, "from laptop.example.com (laptop.example.com [192.0.2.10])");
  assert_int_equal (count_notes (&run, "dns.ptr.lookup", "reverse-lookup"), 1);
  assert_int_equal (count_notes (&run, "dns.ptr.lookup", "found"), 1);
}

static void
test_client_without_ptr_is_unknown_in_received (void **state)
{
  g_auto (Run) run = { 0 };

  run_world (&run, "bob@example.com", "alice@example.com", "1ms");
  g_autofree char *line = received_first_line (&run, "alice@example.com");
  assert_string_equal (line, "from tablet (unknown [192.0.2.11])");
  /* 11.2.0.192.in-addr.arpa. does not exist: NXDOMAIN. */
  assert_int_equal (count_notes (&run, "dns.ptr.lookup", "unknown"), 1);
}

/* The answer comes after the message was accepted and the session ended:
 * the Received field already says "unknown", and the late answer reaches
 * nobody (the lookup was cancelled with the session). */
static void
test_ptr_answer_too_late_leaves_unknown (void **state)
{
  g_auto (Run) run = { 0 };

  run_world (&run, "alice@example.com", "bob@example.com", "5s");
  g_autofree char *line = received_first_line (&run, "bob@example.com");
  assert_string_equal (line, "from laptop.example.com (unknown [192.0.2.10])");
  assert_int_equal (count_notes (&run, "dns.ptr.lookup", "reverse-lookup"), 1);
  assert_int_equal (count_notes (&run, "dns.ptr.lookup", "found"), 0);
  assert_int_equal (count_notes (&run, "dns.ptr.lookup", "unknown"), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_client_with_ptr_is_named_in_received),
    cmocka_unit_test (test_client_without_ptr_is_unknown_in_received),
    cmocka_unit_test (test_ptr_answer_too_late_leaves_unknown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
