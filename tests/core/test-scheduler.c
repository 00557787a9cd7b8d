/* test-scheduler.c: the virtual clock, the event queue and the run's PRNG. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/sim-scheduler.h"

/* What the events of a test did, in order. */
typedef struct
{
  SimScheduler *scheduler;
  GString *order;        /* one letter per event run */
  GArray *times;         /* SimTime seen by each event */
  guint destroyed;
} Log;

typedef struct
{
  Log *log;
  char name;
} Tag;

static void
log_init (Log *log, SimScheduler *scheduler)
{
  log->scheduler = scheduler;
  log->order = g_string_new (NULL);
  log->times = g_array_new (FALSE, FALSE, sizeof (SimTime));
  log->destroyed = 0;
}

static void
log_clear (Log *log)
{
  g_string_free (log->order, TRUE);
  g_array_unref (log->times);
}

static Tag *
tag_new (Log *log, char name)
{
  Tag *tag = g_new (Tag, 1);
  tag->log = log;
  tag->name = name;
  return tag;
}

static void
tag_run (gpointer data)
{
  Tag *tag = data;
  SimTime now = sim_scheduler_now (tag->log->scheduler);

  g_string_append_c (tag->log->order, tag->name);
  g_array_append_val (tag->log->times, now);
}

static void
tag_free (gpointer data)
{
  Tag *tag = data;
  tag->log->destroyed++;
  g_free (tag);
}

static SimEventId
schedule_tag (Log *log, SimTime at, char name)
{
  return sim_scheduler_at (log->scheduler, at, tag_run, tag_new (log, name), tag_free);
}

static void
test_new_scheduler_is_empty_at_time_zero (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);

  assert_int_equal (sim_scheduler_now (scheduler), 0);
  assert_int_equal (sim_scheduler_pending (scheduler), 0);
  assert_true (sim_scheduler_next_time (scheduler) == SIM_TIME_NEVER);
  assert_false (sim_scheduler_step (scheduler));
}

static void
test_events_run_in_time_order_whatever_the_scheduling_order (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  schedule_tag (&log, 30, 'c');
  schedule_tag (&log, 10, 'a');
  schedule_tag (&log, 40, 'd');
  schedule_tag (&log, 20, 'b');
  assert_int_equal (sim_scheduler_pending (scheduler), 4);
  assert_int_equal (sim_scheduler_next_time (scheduler), 10);

  assert_int_equal (sim_scheduler_run_until (scheduler, SIM_TIME_NEVER), 4);
  assert_string_equal (log.order->str, "abcd");
  assert_int_equal (g_array_index (log.times, SimTime, 0), 10);
  assert_int_equal (g_array_index (log.times, SimTime, 3), 40);
  assert_int_equal (sim_scheduler_now (scheduler), 40);
  assert_int_equal (log.destroyed, 4);
  log_clear (&log);
}

static void
test_equal_times_run_in_insertion_order (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  const char *names = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  Log log;

  log_init (&log, scheduler);
  /* Interleave two due times so ties sit at many heap positions. */
  for (const char *p = names; *p != '\0'; p++)
    schedule_tag (&log, (p - names) % 2 == 0 ? 500 : 100, *p);
  sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);

  GString *expected = g_string_new (NULL);
  for (const char *p = names; *p != '\0'; p++)
    if ((p - names) % 2 == 1)
      g_string_append_c (expected, *p);
  for (const char *p = names; *p != '\0'; p++)
    if ((p - names) % 2 == 0)
      g_string_append_c (expected, *p);
  assert_string_equal (log.order->str, expected->str);
  g_string_free (expected, TRUE);
  log_clear (&log);
}

static void
test_event_scheduled_in_the_past_runs_now (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  sim_scheduler_run_until (scheduler, 1000);
  schedule_tag (&log, 5, 'p');
  assert_int_equal (sim_scheduler_next_time (scheduler), 1000);
  assert_true (sim_scheduler_step (scheduler));
  assert_int_equal (g_array_index (log.times, SimTime, 0), 1000);
  log_clear (&log);
}

typedef struct
{
  Log *log;
  int depth;
} Chain;

static void
chain_run (gpointer data)
{
  Chain *chain = data;

  g_string_append_c (chain->log->order, (char) ('0' + chain->depth));
  if (chain->depth < 3)
    {
      Chain *next = g_new (Chain, 1);
      next->log = chain->log;
      next->depth = chain->depth + 1;
      /* A zero delay runs after every event already due now. */
      sim_scheduler_after (chain->log->scheduler, 0, chain_run, next, g_free);
    }
}

static void
test_event_scheduled_now_from_an_event_runs_after_events_already_due (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;
  Chain *first = g_new (Chain, 1);

  log_init (&log, scheduler);
  first->log = &log;
  first->depth = 0;
  sim_scheduler_at (scheduler, 7, chain_run, first, g_free);
  schedule_tag (&log, 7, 'x');
  sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);
  assert_string_equal (log.order->str, "0x123");
  assert_int_equal (sim_scheduler_now (scheduler), 7);
  log_clear (&log);
}

static void
test_after_is_relative_to_now_and_clamps (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  sim_scheduler_run_until (scheduler, 100);
  sim_scheduler_after (scheduler, 50, tag_run, tag_new (&log, 'a'), tag_free);
  sim_scheduler_after (scheduler, -20, tag_run, tag_new (&log, 'n'), tag_free);
  sim_scheduler_after (scheduler, G_MAXINT64, tag_run, tag_new (&log, 'z'), tag_free);
  assert_int_equal (sim_scheduler_next_time (scheduler), 100);
  sim_scheduler_run_until (scheduler, 1000);
  assert_string_equal (log.order->str, "na");
  assert_int_equal (g_array_index (log.times, SimTime, 1), 150);
  /* The far event was clamped to SIM_TIME_NEVER, not wrapped to the past. */
  assert_int_equal (sim_scheduler_pending (scheduler), 1);
  assert_true (sim_scheduler_next_time (scheduler) == SIM_TIME_NEVER);
  log_clear (&log);
}

static void
test_event_ids_are_never_zero (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  for (int i = 0; i < 1000; i++)
    {
      SimEventId id = schedule_tag (&log, i % 7, 'e');
      assert_true (id != 0);
      if (i % 3 == 0)
        sim_scheduler_step (scheduler);
    }
  log_clear (&log);
}

static void
test_cancelled_event_does_not_run_and_is_destroyed (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  schedule_tag (&log, 10, 'a');
  SimEventId b = schedule_tag (&log, 20, 'b');
  schedule_tag (&log, 30, 'c');
  sim_scheduler_cancel (scheduler, &b);
  assert_true (b == 0);
  assert_int_equal (sim_scheduler_pending (scheduler), 2);
  sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);
  assert_string_equal (log.order->str, "ac");
  assert_int_equal (log.destroyed, 3);
  log_clear (&log);
}

static void
test_cancelling_the_next_event_updates_next_time (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  SimEventId first = schedule_tag (&log, 10, 'a');
  schedule_tag (&log, 25, 'b');
  sim_scheduler_cancel (scheduler, &first);
  assert_int_equal (sim_scheduler_next_time (scheduler), 25);
  assert_int_equal (sim_scheduler_pending (scheduler), 1);
  log_clear (&log);
}

static void
test_cancelling_an_event_that_already_ran_does_nothing (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  SimEventId ran = schedule_tag (&log, 10, 'a');
  SimEventId copy = ran;
  assert_true (sim_scheduler_step (scheduler));
  sim_scheduler_cancel (scheduler, &ran);
  assert_true (ran == 0);
  assert_int_equal (sim_scheduler_pending (scheduler), 0);

  /* The stale id must not cancel a later event either. */
  schedule_tag (&log, 20, 'b');
  sim_scheduler_cancel (scheduler, &copy);
  assert_int_equal (sim_scheduler_pending (scheduler), 1);
  sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);
  assert_string_equal (log.order->str, "ab");
  assert_int_equal (log.destroyed, 2);
  log_clear (&log);
}

static void
test_cancelling_twice_and_cancelling_zero_do_nothing (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;
  SimEventId none = 0;

  log_init (&log, scheduler);
  SimEventId id = schedule_tag (&log, 10, 'a');
  SimEventId copy = id;
  schedule_tag (&log, 20, 'b');
  sim_scheduler_cancel (scheduler, &none);
  sim_scheduler_cancel (scheduler, &id);
  sim_scheduler_cancel (scheduler, &copy);
  assert_int_equal (sim_scheduler_pending (scheduler), 1);
  assert_int_equal (log.destroyed, 1);
  sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);
  assert_string_equal (log.order->str, "b");
  assert_int_equal (log.destroyed, 2);
  log_clear (&log);
}

typedef struct
{
  SimScheduler *scheduler;
  SimEventId self_id;
  int runs;
} SelfCancel;

static void
cancel_own_timer (gpointer data)
{
  SelfCancel *timer = data;

  timer->runs++;
  /* A timer handler tidying up calls cancel on the id that just fired. */
  sim_scheduler_cancel (timer->scheduler, &timer->self_id);
}

static void
test_an_event_cancelling_itself_while_running_changes_nothing (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  SelfCancel timer = { scheduler, 0, 0 };

  timer.self_id = sim_scheduler_at (scheduler, 5, cancel_own_timer, &timer, NULL);
  sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);
  assert_int_equal (timer.runs, 1);
  assert_true (timer.self_id == 0);
  assert_int_equal (sim_scheduler_pending (scheduler), 0);
  assert_true (sim_scheduler_next_time (scheduler) == SIM_TIME_NEVER);
}

static void
test_many_cancelled_timers_leave_the_live_ones_in_order (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  /* An idle timer reset at every command: cancel and reschedule, a lot. */
  SimEventId idle = 0;
  for (int i = 0; i < 5000; i++)
    {
      sim_scheduler_cancel (scheduler, &idle);
      idle = schedule_tag (&log, 300 + i, 'i');
      if (i % 1000 == 0)
        schedule_tag (&log, 10 + i, 'k');
    }
  assert_int_equal (sim_scheduler_pending (scheduler), 6);
  assert_int_equal (log.destroyed, 4999);
  sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);
  assert_string_equal (log.order->str, "kkkkki");
  assert_int_equal (g_array_index (log.times, SimTime, 5), 300 + 4999);
  assert_int_equal (log.destroyed, 5005);
  log_clear (&log);
}

static void
test_run_until_runs_due_events_and_sets_the_clock (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  schedule_tag (&log, 10, 'a');
  schedule_tag (&log, 20, 'b');
  schedule_tag (&log, 21, 'c');
  assert_int_equal (sim_scheduler_run_until (scheduler, 20), 2);
  assert_string_equal (log.order->str, "ab");
  assert_int_equal (sim_scheduler_now (scheduler), 20);
  assert_int_equal (sim_scheduler_run_until (scheduler, 20), 0);
  assert_int_equal (sim_scheduler_run_until (scheduler, 1000), 1);
  assert_int_equal (sim_scheduler_now (scheduler), 1000);
  /* The clock never goes backwards. */
  assert_int_equal (sim_scheduler_run_until (scheduler, 500), 0);
  assert_int_equal (sim_scheduler_now (scheduler), 1000);
  log_clear (&log);
}

static void
test_run_until_never_returns_when_the_queue_empties (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  schedule_tag (&log, 3 * SIM_TIME_SECOND, 'a');
  assert_int_equal (sim_scheduler_run_until (scheduler, SIM_TIME_NEVER), 1);
  /* The clock stays at the last event, not at the end of time. */
  assert_int_equal (sim_scheduler_now (scheduler), 3 * SIM_TIME_SECOND);
  assert_int_equal (sim_scheduler_run_until (scheduler, SIM_TIME_NEVER), 0);
  log_clear (&log);
}

static void
test_pending_events_are_destroyed_with_the_scheduler (void **state)
{
  SimScheduler *scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  schedule_tag (&log, 10, 'a');
  schedule_tag (&log, 20, 'b');
  SimEventId c = schedule_tag (&log, 30, 'c');
  sim_scheduler_cancel (scheduler, &c);
  assert_true (sim_scheduler_step (scheduler));
  assert_int_equal (log.destroyed, 2);
  sim_scheduler_free (scheduler);
  /* One ran, one was cancelled, one was pending: each destroyed once. */
  assert_int_equal (log.destroyed, 3);
  assert_string_equal (log.order->str, "a");
  log_clear (&log);
}

static void
test_destroy_runs_after_the_event_function (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (1);
  Log log;

  log_init (&log, scheduler);
  schedule_tag (&log, 1, 'a');
  assert_true (sim_scheduler_step (scheduler));
  /* tag_run read the tag, tag_free freed it: under ASan a wrong order is a
   * use after free. */
  assert_string_equal (log.order->str, "a");
  assert_int_equal (log.destroyed, 1);
  log_clear (&log);
}

static void
test_same_seed_gives_the_same_random_sequence (void **state)
{
  g_autoptr(SimScheduler) a = sim_scheduler_new (20260105);
  g_autoptr(SimScheduler) b = sim_scheduler_new (20260105);
  g_autoptr(SimScheduler) c = sim_scheduler_new (20260106);
  gboolean differs = FALSE;

  for (int i = 0; i < 200; i++)
    {
      gint32 x = sim_scheduler_random_range (a, 0, 1000000);
      gint32 y = sim_scheduler_random_range (b, 0, 1000000);
      gint32 z = sim_scheduler_random_range (c, 0, 1000000);
      assert_int_equal (x, y);
      assert_in_range (x, 0, 999999);
      if (x != z)
        differs = TRUE;
      double dx = sim_scheduler_random_double (a);
      double dy = sim_scheduler_random_double (b);
      assert_true (dx == dy);
      assert_true (dx >= 0.0 && dx < 1.0);
    }
  assert_true (differs);
}

static void
test_seeds_differing_only_in_the_high_word_differ (void **state)
{
  g_autoptr(SimScheduler) low = sim_scheduler_new (7);
  g_autoptr(SimScheduler) high = sim_scheduler_new (7 | (G_GUINT64_CONSTANT (1) << 32));
  gboolean differs = FALSE;

  for (int i = 0; i < 16; i++)
    if (sim_scheduler_random_range (low, 0, G_MAXINT32) != sim_scheduler_random_range (high, 0, G_MAXINT32))
      differs = TRUE;
  assert_true (differs);
}

/* A seeded random workload checked against a simple model: a sorted list
 * of (time, sequence) pairs. */
static void
test_random_schedule_and_cancel_matches_a_sorted_model (void **state)
{
  g_autoptr(SimScheduler) scheduler = sim_scheduler_new (3);
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  Log log;
  typedef struct { SimTime time; guint seq; SimEventId id; gboolean cancelled; } Planned;
  GArray *planned = g_array_new (FALSE, FALSE, sizeof (Planned));
  GString *expected = g_string_new (NULL);
  int ran;

  log_init (&log, scheduler);
  for (guint i = 0; i < 3000; i++)
    {
      Planned p = { g_rand_int_range (rand, 0, 400), i, 0, FALSE };
      /* The log letter encodes the sequence modulo a printable range. */
      p.id = schedule_tag (&log, p.time, (char) ('!' + i % 90));
      g_array_append_val (planned, p);
      if (i > 10 && g_rand_int_range (rand, 0, 4) == 0)
        {
          Planned *victim = &g_array_index (planned, Planned, g_rand_int_range (rand, 0, (gint32) i));
          if (!victim->cancelled)
            {
              SimEventId id = victim->id;
              sim_scheduler_cancel (scheduler, &id);
              victim->cancelled = TRUE;
            }
        }
    }
  /* Sorting by (time, seq) is what the heap must reproduce. */
  for (SimTime t = 0; t < 400; t++)
    for (guint i = 0; i < planned->len; i++)
      {
        Planned *p = &g_array_index (planned, Planned, i);
        if (p->time == t && !p->cancelled)
          g_string_append_c (expected, (char) ('!' + p->seq % 90));
      }
  ran = (int) sim_scheduler_run_until (scheduler, SIM_TIME_NEVER);
  assert_int_equal (ran, (int) expected->len);
  assert_string_equal (log.order->str, expected->str);
  assert_int_equal (log.destroyed, 3000);
  for (guint i = 1; i < log.times->len; i++)
    assert_true (g_array_index (log.times, SimTime, i - 1) <= g_array_index (log.times, SimTime, i));
  g_array_unref (planned);
  g_string_free (expected, TRUE);
  log_clear (&log);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_new_scheduler_is_empty_at_time_zero),
    cmocka_unit_test (test_events_run_in_time_order_whatever_the_scheduling_order),
    cmocka_unit_test (test_equal_times_run_in_insertion_order),
    cmocka_unit_test (test_event_scheduled_in_the_past_runs_now),
    cmocka_unit_test (test_event_scheduled_now_from_an_event_runs_after_events_already_due),
    cmocka_unit_test (test_after_is_relative_to_now_and_clamps),
    cmocka_unit_test (test_event_ids_are_never_zero),
    cmocka_unit_test (test_cancelled_event_does_not_run_and_is_destroyed),
    cmocka_unit_test (test_cancelling_the_next_event_updates_next_time),
    cmocka_unit_test (test_cancelling_an_event_that_already_ran_does_nothing),
    cmocka_unit_test (test_cancelling_twice_and_cancelling_zero_do_nothing),
    cmocka_unit_test (test_an_event_cancelling_itself_while_running_changes_nothing),
    cmocka_unit_test (test_many_cancelled_timers_leave_the_live_ones_in_order),
    cmocka_unit_test (test_run_until_runs_due_events_and_sets_the_clock),
    cmocka_unit_test (test_run_until_never_returns_when_the_queue_empties),
    cmocka_unit_test (test_pending_events_are_destroyed_with_the_scheduler),
    cmocka_unit_test (test_destroy_runs_after_the_event_function),
    cmocka_unit_test (test_same_seed_gives_the_same_random_sequence),
    cmocka_unit_test (test_seeds_differing_only_in_the_high_word_differ),
    cmocka_unit_test (test_random_schedule_and_cancel_matches_a_sorted_model),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
