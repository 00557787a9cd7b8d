/* bench-queue.c: schedule+dispatch pairs per second of SimScheduler.
 *
 * The queue holds a steady population of pending events (1000 by
 * default); every dispatched event schedules one more a pseudo-random
 * delay ahead, so each dispatch is one pop and one push on a heap of that
 * size, the pattern of a busy run.  The best of several repetitions is
 * reported, since the slower ones measure the machine's other work.
 *
 *   bench-queue [pending] [pairs per repetition] [repetitions]
 *
 * Wall-clock reads belong here, never in sim/: the simulation itself only
 * knows virtual time.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/sim-scheduler.h"

typedef struct
{
  SimScheduler *scheduler;
  guint64 dispatched;
  guint64 remaining;
  guint32 lcg;          /* cheap generator, so the bench measures the queue and not GRand */
  SimTime max_delay;    /* a power of two, or 0 for "all at the same time" */
} BenchState;

static void
bench_event (gpointer data)
{
  BenchState *state = data;

  state->dispatched++;
  if (state->remaining == 0)
    return;
  state->remaining--;
  state->lcg = state->lcg * 1664525u + 1013904223u;
  /* A mask, not a modulo: a 64-bit division would cost as much as the
   * queue operation being measured. */
  SimTime delay = state->max_delay > 0 ? 1 + (SimTime) ((state->lcg >> 8) & (guint32) (state->max_delay - 1)) : 0;
  sim_scheduler_after (state->scheduler, delay, bench_event, state, NULL);
}

typedef enum
{
  DRIVE_STEP,       /* sim_scheduler_step() until the queue is empty */
  DRIVE_RUN_UNTIL,  /* sim_scheduler_run_until (NEVER), as the batch driver does */
} BenchDrive;

/* Returns pairs per second for one repetition. */
static double
bench_once (guint pending, guint64 pairs, SimTime max_delay, BenchDrive drive)
{
  BenchState state = { 0 };
  gint64 start, elapsed;

  state.scheduler = sim_scheduler_new (42);
  state.remaining = pairs;
  state.lcg = 12345;
  state.max_delay = max_delay;
  for (guint i = 0; i < pending; i++)
    {
      state.lcg = state.lcg * 1664525u + 1013904223u;
      SimTime at = max_delay > 0 ? (SimTime) ((state.lcg >> 8) & (guint32) (max_delay - 1)) : 0;
      sim_scheduler_at (state.scheduler, at, bench_event, &state, NULL);
    }

  start = g_get_monotonic_time ();
  if (drive == DRIVE_STEP)
    while (sim_scheduler_step (state.scheduler))
      ;
  else
    sim_scheduler_run_until (state.scheduler, SIM_TIME_NEVER);
  elapsed = g_get_monotonic_time () - start;

  if (state.dispatched != pairs + pending)
    {
      fprintf (stderr, "bench-queue: dispatched %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT "\n",
               state.dispatched, pairs + pending);
      exit (1);
    }
  sim_scheduler_free (state.scheduler);
  return (double) state.dispatched / ((double) MAX (elapsed, 1) / 1e6);
}

static void
bench_report (const char *name, guint pending, guint64 pairs, guint repetitions,
              SimTime max_delay, BenchDrive drive)
{
  double best = 0, worst = 0;

  for (guint r = 0; r < repetitions; r++)
    {
      double rate = bench_once (pending, pairs, max_delay, drive);
      if (rate > best)
        best = rate;
      if (r == 0 || rate < worst)
        worst = rate;
    }
  printf ("%-34s pending=%-6u best %6.2f M pairs/s   (worst %6.2f)\n",
          name, pending, best / 1e6, worst / 1e6);
}

int
main (int argc, char **argv)
{
  guint pending = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 1000;
  guint64 pairs = argc > 2 ? strtoull (argv[2], NULL, 10) : 20000000;
  guint repetitions = argc > 3 ? (guint) strtoul (argv[3], NULL, 10) : 5;

  if (pending == 0 || pairs == 0 || repetitions == 0)
    {
      fprintf (stderr, "usage: bench-queue [pending>0] [pairs>0] [repetitions>0]\n");
      return 2;
    }
  printf ("bench-queue: %" G_GUINT64_FORMAT " pairs per repetition, best of %u\n", pairs, repetitions);
  bench_report ("step, random delays 1..1024us", pending, pairs, repetitions, 1024, DRIVE_STEP);
  bench_report ("run_until, random delays 1..1024us", pending, pairs, repetitions, 1024, DRIVE_RUN_UNTIL);
  bench_report ("step, all at the same time (FIFO)", pending, pairs, repetitions, 0, DRIVE_STEP);
  return 0;
}
