/* test-scheduler-renumber.c: insertion order survives sequence renumbering.
 *
 * The scheduler keeps a 32-bit insertion sequence per pending event and
 * renumbers the pending ones when it would overflow, once every four
 * billion events.  This test builds the scheduler with a limit of 64 so
 * that renumbering happens all the time, and checks that ties still run in
 * insertion order and that a random workload matches a sorted model.  The
 * scheduler source is compiled into this test (its symbols then take the
 * place of the library's). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define SIM_SCHEDULER_SEQUENCE_LIMIT 64
#include "core/sim-scheduler.c"

typedef struct
{
  SimScheduler *scheduler;
  GArray *ran;          /* guint: the label of each event run, in order */
  GArray *times;        /* SimTime of each event run */
} Run;

typedef struct
{
  Run *run;
  guint label;
  guint children;       /* events this one schedules when it runs */
  GRand *rand;
} Job;

static guint next_label;

static void job_run (gpointer data);

static SimEventId
schedule_job (Run *run, SimTime at, guint children, GRand *rand)
{
  Job *job = g_new0 (Job, 1);

  job->run = run;
  job->label = next_label++;
  job->children = children;
  job->rand = rand;
  return sim_scheduler_at (run->scheduler, at, job_run, job, g_free);
}

static void
job_run (gpointer data)
{
  Job *job = data;
  SimTime now = sim_scheduler_now (job->run->scheduler);

  g_array_append_val (job->run->ran, job->label);
  g_array_append_val (job->run->times, now);
  for (guint i = 0; i < job->children; i++)
    schedule_job (job->run, now + g_rand_int_range (job->rand, 0, 3), job->children > 0 ? 1 : 0, job->rand);
}

static void
test_ties_keep_insertion_order_across_many_renumberings (void **state)
{
  Run run = { sim_scheduler_new (1), g_array_new (FALSE, FALSE, sizeof (guint)),
              g_array_new (FALSE, FALSE, sizeof (SimTime)) };

  next_label = 0;
  /* 1000 events at one instant, scheduled and run in waves of 30, so the
   * sequence passes the limit again and again with events pending. */
  for (int wave = 0; wave < 34; wave++)
    {
      for (int i = 0; i < 30; i++)
        schedule_job (&run, 100, 0, NULL);
      for (int i = 0; i < 25; i++)
        assert_true (sim_scheduler_step (run.scheduler));
    }
  sim_scheduler_run_until (run.scheduler, SIM_TIME_NEVER);
  assert_int_equal (run.ran->len, 34 * 30);
  for (guint i = 0; i < run.ran->len; i++)
    assert_int_equal (g_array_index (run.ran, guint, i), i);
  sim_scheduler_free (run.scheduler);
  g_array_unref (run.ran);
  g_array_unref (run.times);
}

static void
test_more_pending_events_than_the_limit_still_run_in_order (void **state)
{
  Run run = { sim_scheduler_new (1), g_array_new (FALSE, FALSE, sizeof (guint)),
              g_array_new (FALSE, FALSE, sizeof (SimTime)) };

  next_label = 0;
  for (int i = 0; i < 300; i++)
    schedule_job (&run, 7 - i % 2, 0, NULL);
  sim_scheduler_run_until (run.scheduler, SIM_TIME_NEVER);
  /* Odd labels were due at 6, even ones at 7; each group in order. */
  for (guint i = 0; i < 150; i++)
    {
      assert_int_equal (g_array_index (run.ran, guint, i), 2 * i + 1);
      assert_int_equal (g_array_index (run.ran, guint, 150 + i), 2 * i);
    }
  sim_scheduler_free (run.scheduler);
  g_array_unref (run.ran);
  g_array_unref (run.times);
}

static void
test_events_scheduling_events_run_by_time_then_label (void **state)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  Run run = { sim_scheduler_new (1), g_array_new (FALSE, FALSE, sizeof (guint)),
              g_array_new (FALSE, FALSE, sizeof (SimTime)) };
  GArray *cancelled = g_array_new (FALSE, FALSE, sizeof (guint));

  next_label = 0;
  for (int i = 0; i < 40; i++)
    {
      guint label = next_label;
      SimEventId id = schedule_job (&run, g_rand_int_range (rand, 0, 20), 1, rand);
      if (i % 7 == 3)
        {
          sim_scheduler_cancel (run.scheduler, &id);
          g_array_append_val (cancelled, label);
        }
    }
  /* Each job schedules one follow-up within 0..2 us: a long chain of ties
   * that crosses the sequence limit many times. */
  sim_scheduler_run_until (run.scheduler, 400);

  /* Labels grow with insertion, so within one instant they must increase. */
  assert_true (run.ran->len > 1000);
  for (guint i = 1; i < run.ran->len; i++)
    {
      SimTime before = g_array_index (run.times, SimTime, i - 1);
      SimTime after = g_array_index (run.times, SimTime, i);
      assert_true (before <= after);
      if (before == after)
        assert_true (g_array_index (run.ran, guint, i - 1) < g_array_index (run.ran, guint, i));
    }
  for (guint i = 0; i < run.ran->len; i++)
    for (guint c = 0; c < cancelled->len; c++)
      assert_true (g_array_index (run.ran, guint, i) != g_array_index (cancelled, guint, c));
  sim_scheduler_free (run.scheduler);
  g_array_unref (run.ran);
  g_array_unref (run.times);
  g_array_unref (cancelled);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ties_keep_insertion_order_across_many_renumberings),
    cmocka_unit_test (test_more_pending_events_than_the_limit_still_run_in_order),
    cmocka_unit_test (test_events_scheduling_events_run_by_time_then_label),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
