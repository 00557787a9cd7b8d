/* test-trace.c: the event stream of a run and the sinks that read it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "trace/sim-trace.h"

/* A sink that writes "<name>:<seq>:<kind> " for each event it sees. */
typedef struct
{
  GString *log;
  char name;
  guint destroyed;
} Recorder;

static void
record_event (const SimEvent *event, gpointer user_data)
{
  Recorder *recorder = user_data;

  g_string_append_printf (recorder->log, "%c:%" G_GUINT64_FORMAT ":%s ", recorder->name, event->seq,
                          sim_event_kind_to_string (event->kind));
}

static void
recorder_destroyed (gpointer user_data)
{
  Recorder *recorder = user_data;
  recorder->destroyed++;
}

static void
emit_kind (SimTrace *trace, SimEventKind kind)
{
  SimEvent event = { 0 };
  event.kind = kind;
  sim_trace_emit (trace, &event);
}

static void
test_sinks_are_called_in_the_order_they_were_added (void **state)
{
  SimTrace *trace = sim_trace_new ();
  GString *log = g_string_new (NULL);
  Recorder first = { log, 'a', 0 };
  Recorder second = { log, 'b', 0 };
  Recorder third = { log, 'c', 0 };

  sim_trace_add_sink (trace, record_event, &first, recorder_destroyed);
  sim_trace_add_sink (trace, record_event, &second, NULL);
  sim_trace_add_sink (trace, record_event, &third, recorder_destroyed);
  emit_kind (trace, SIM_EVENT_CONNECT);
  emit_kind (trace, SIM_EVENT_DATA);
  assert_string_equal (log->str, "a:1:connect b:1:connect c:1:connect a:2:data b:2:data c:2:data ");

  sim_trace_free (trace);
  /* Each sink's destroy runs once, at free; NULL destroy is allowed. */
  assert_int_equal (first.destroyed, 1);
  assert_int_equal (second.destroyed, 0);
  assert_int_equal (third.destroyed, 1);
  g_string_free (log, TRUE);
}

static void
test_seq_numbers_events_from_one_in_emission_order (void **state)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  SimEvent event = { 0 };

  assert_int_equal (sim_trace_count (trace), 0);
  sim_trace_set_keep (trace, TRUE);
  /* Whatever seq the caller leaves in the event is overwritten. */
  event.seq = 999;
  for (int i = 0; i < 5; i++)
    sim_trace_emit (trace, &event);
  assert_int_equal (sim_trace_count (trace), 5);
  GPtrArray *events = sim_trace_get_events (trace);
  assert_int_equal (events->len, 5);
  for (guint i = 0; i < events->len; i++)
    assert_int_equal (((SimEvent *) g_ptr_array_index (events, i))->seq, i + 1);
  assert_int_equal (event.seq, 999);
}

static void
test_events_are_not_kept_unless_asked (void **state)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();

  emit_kind (trace, SIM_EVENT_NOTE);
  assert_int_equal (sim_trace_get_events (trace)->len, 0);
  assert_int_equal (sim_trace_count (trace), 1);
  sim_trace_set_keep (trace, TRUE);
  emit_kind (trace, SIM_EVENT_MAIL);
  sim_trace_set_keep (trace, FALSE);
  emit_kind (trace, SIM_EVENT_NOTE);
  assert_int_equal (sim_trace_get_events (trace)->len, 1);
  SimEvent *kept = g_ptr_array_index (sim_trace_get_events (trace), 0);
  assert_int_equal (kept->kind, SIM_EVENT_MAIL);
  assert_int_equal (kept->seq, 2);
}

static void
test_emit_copies_everything_the_caller_owns (void **state)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  char from[] = "mx1";
  char text[] = "queued as 4F2A";
  char hop[] = "router";
  g_autoptr(GPtrArray) path = g_ptr_array_new ();
  GBytes *bytes = g_bytes_new ("EHLO a\r\n", 8);
  SimEvent event = { 0 };

  sim_trace_set_keep (trace, TRUE);
  g_ptr_array_add (path, from);
  g_ptr_array_add (path, hop);
  event.kind = SIM_EVENT_DATA;
  event.time = 100;
  event.arrival = 250;
  event.from = from;
  event.to = NULL;
  event.protocol = "smtp";
  event.explain = "smtp.cmd.ehlo";
  event.text = text;
  event.bytes = bytes;
  event.path = path;
  sim_trace_emit (trace, &event);

  /* The caller reuses its buffers and drops its references. */
  strcpy (from, "xxx");
  strcpy (text, "overwritten!!!");
  strcpy (hop, "gone!!");
  g_ptr_array_set_size (path, 0);
  g_bytes_unref (bytes);

  const SimEvent *kept = g_ptr_array_index (sim_trace_get_events (trace), 0);
  assert_string_equal (kept->from, "mx1");
  assert_string_equal (kept->to, "");
  assert_string_equal (kept->protocol, "smtp");
  assert_string_equal (kept->explain, "smtp.cmd.ehlo");
  assert_null (kept->status);
  assert_null (kept->message);
  assert_string_equal (kept->text, "queued as 4F2A");
  assert_int_equal (kept->time, 100);
  assert_int_equal (kept->arrival, 250);
  assert_int_equal (kept->path->len, 2);
  assert_string_equal (g_ptr_array_index (kept->path, 0), "mx1");
  assert_string_equal (g_ptr_array_index (kept->path, 1), "router");
  gsize len = 0;
  const char *data = g_bytes_get_data (kept->bytes, &len);
  assert_int_equal (len, 8);
  assert_memory_equal (data, "EHLO a\r\n", 8);
}

static void
test_intern_returns_one_stable_copy_per_string (void **state)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  char buffer[16] = "mx.example";

  const char *first = sim_trace_intern (trace, buffer);
  assert_true (first != buffer);
  strcpy (buffer, "other");
  assert_string_equal (first, "mx.example");
  const char *again = sim_trace_intern (trace, "mx.example");
  assert_ptr_equal (first, again);
  const char *other = sim_trace_intern (trace, buffer);
  assert_true (other != first);
  assert_string_equal (other, "other");
  assert_null (sim_trace_intern (trace, NULL));
  /* Many strings: earlier pointers stay valid as the pool grows. */
  for (int i = 0; i < 2000; i++)
    {
      g_autofree char *name = g_strdup_printf ("node-%d-with-a-longish-name", i);
      sim_trace_intern (trace, name);
    }
  assert_string_equal (first, "mx.example");
  assert_ptr_equal (sim_trace_intern (trace, "mx.example"), first);
}

static void
test_kept_event_strings_are_interned (void **state)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  SimEvent event = { 0 };

  sim_trace_set_keep (trace, TRUE);
  event.from = "client";
  event.to = "mx";
  sim_trace_emit (trace, &event);
  event.from = "mx";
  event.to = "client";
  sim_trace_emit (trace, &event);
  const SimEvent *a = g_ptr_array_index (sim_trace_get_events (trace), 0);
  const SimEvent *b = g_ptr_array_index (sim_trace_get_events (trace), 1);
  assert_ptr_equal (a->from, b->to);
  assert_ptr_equal (a->to, b->from);
  assert_ptr_equal (a->from, sim_trace_intern (trace, "client"));
}

static void
test_sink_sees_the_same_event_that_is_kept (void **state)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  GString *log = g_string_new (NULL);
  Recorder recorder = { log, 's', 0 };

  sim_trace_set_keep (trace, TRUE);
  sim_trace_add_sink (trace, record_event, &recorder, NULL);
  emit_kind (trace, SIM_EVENT_EXPECT);
  assert_string_equal (log->str, "s:1:expect ");
  g_string_free (log, TRUE);
}

static void
test_every_kind_has_a_name (void **state)
{
  const char *names[] = { "connect", "accept", "refused", "unreachable", "data", "close", "reset",
                          "datagram", "lost", "mail", "action", "note", "expect" };

  for (guint kind = SIM_EVENT_CONNECT; kind <= SIM_EVENT_EXPECT; kind++)
    assert_string_equal (sim_event_kind_to_string ((SimEventKind) kind), names[kind]);
  assert_string_equal (sim_event_kind_to_string ((SimEventKind) 99), "unknown");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sinks_are_called_in_the_order_they_were_added),
    cmocka_unit_test (test_seq_numbers_events_from_one_in_emission_order),
    cmocka_unit_test (test_events_are_not_kept_unless_asked),
    cmocka_unit_test (test_emit_copies_everything_the_caller_owns),
    cmocka_unit_test (test_intern_returns_one_stable_copy_per_string),
    cmocka_unit_test (test_kept_event_strings_are_interned),
    cmocka_unit_test (test_sink_sees_the_same_event_that_is_kept),
    cmocka_unit_test (test_every_kind_has_a_name),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
