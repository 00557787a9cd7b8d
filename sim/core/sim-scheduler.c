/* sim-scheduler.c: binary-heap event queue and virtual clock. */
#include "core/sim-scheduler.h"

typedef struct
{
  SimTime time;
  SimEventId id;        /* also the insertion sequence */
  SimEventFunc func;
  gpointer data;
  GDestroyNotify destroy;
} SimEntry;

struct _SimScheduler
{
  SimTime now;
  SimEventId next_id;
  SimEntry *heap;
  gsize length;
  gsize capacity;
  GHashTable *cancelled;  /* SimEventId set, only membership is ever asked */
  GRand *rand;
};

static inline gboolean
entry_before (const SimEntry *a, const SimEntry *b)
{
  return a->time < b->time || (a->time == b->time && a->id < b->id);
}

SimScheduler *
sim_scheduler_new (guint64 seed)
{
  SimScheduler *self = g_new0 (SimScheduler, 1);
  guint32 seed_words[2] = { (guint32) (seed & 0xffffffffu), (guint32) (seed >> 32) };

  self->next_id = 1;
  self->capacity = 256;
  self->heap = g_new (SimEntry, self->capacity);
  self->cancelled = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->rand = g_rand_new_with_seed_array (seed_words, 2);
  return self;
}

void
sim_scheduler_free (SimScheduler *self)
{
  if (self == NULL)
    return;
  for (gsize i = 0; i < self->length; i++)
    if (self->heap[i].destroy != NULL)
      self->heap[i].destroy (self->heap[i].data);
  g_free (self->heap);
  g_hash_table_destroy (self->cancelled);
  g_rand_free (self->rand);
  g_free (self);
}

SimTime
sim_scheduler_now (const SimScheduler *self)
{
  return self->now;
}

static void
heap_sift_up (SimScheduler *self, gsize index)
{
  SimEntry entry = self->heap[index];

  while (index > 0)
    {
      gsize parent = (index - 1) / 2;
      if (!entry_before (&entry, &self->heap[parent]))
        break;
      self->heap[index] = self->heap[parent];
      index = parent;
    }
  self->heap[index] = entry;
}

static void
heap_sift_down (SimScheduler *self, gsize index)
{
  SimEntry entry = self->heap[index];

  for (;;)
    {
      gsize child = 2 * index + 1;
      if (child >= self->length)
        break;
      if (child + 1 < self->length && entry_before (&self->heap[child + 1], &self->heap[child]))
        child++;
      if (!entry_before (&self->heap[child], &entry))
        break;
      self->heap[index] = self->heap[child];
      index = child;
    }
  self->heap[index] = entry;
}

SimEventId
sim_scheduler_at (SimScheduler *self, SimTime at, SimEventFunc func,
                  gpointer data, GDestroyNotify destroy)
{
  if (at < self->now)
    at = self->now;
  if (self->length == self->capacity)
    {
      self->capacity *= 2;
      self->heap = g_renew (SimEntry, self->heap, self->capacity);
    }
  self->heap[self->length] = (SimEntry) { at, self->next_id, func, data, destroy };
  heap_sift_up (self, self->length);
  self->length++;
  return self->next_id++;
}

SimEventId
sim_scheduler_after (SimScheduler *self, SimTime delay, SimEventFunc func,
                     gpointer data, GDestroyNotify destroy)
{
  if (delay < 0)
    delay = 0;
  if (delay > SIM_TIME_NEVER - self->now)
    delay = SIM_TIME_NEVER - self->now;
  return sim_scheduler_at (self, self->now + delay, func, data, destroy);
}

void
sim_scheduler_cancel (SimScheduler *self, SimEventId *id)
{
  if (*id == 0)
    return;
  /* Lazy deletion: the entry stays in the heap and is skipped (and its
   * data destroyed) when it reaches the top.  Scanning the heap here would
   * make cancellation linear; timers are cancelled far more often than not. */
  if (*id < self->next_id)
    {
      SimEventId *key = g_new (SimEventId, 1);
      *key = *id;
      g_hash_table_add (self->cancelled, key);
      /* Keys are freed when the entry is skipped; see pop_entry(). */
    }
  *id = 0;
}

static gboolean
pop_entry (SimScheduler *self, SimEntry *out)
{
  while (self->length > 0)
    {
      SimEntry top = self->heap[0];
      self->length--;
      if (self->length > 0)
        {
          self->heap[0] = self->heap[self->length];
          heap_sift_down (self, 0);
        }
      if (g_hash_table_size (self->cancelled) > 0)
        {
          gpointer stored_key = NULL;
          if (g_hash_table_steal_extended (self->cancelled, &top.id, &stored_key, NULL))
            {
              g_free (stored_key);
              if (top.destroy != NULL)
                top.destroy (top.data);
              continue;
            }
        }
      *out = top;
      return TRUE;
    }
  return FALSE;
}

/* Drops cancelled entries from the top so next_time() is truthful. */
static void
skip_cancelled_top (SimScheduler *self)
{
  while (self->length > 0 && g_hash_table_size (self->cancelled) > 0
         && g_hash_table_contains (self->cancelled, &self->heap[0].id))
    {
      SimEntry entry;
      /* pop_entry() discards the cancelled top; if the next one is live it
       * comes back out here, so push it back. */
      if (pop_entry (self, &entry))
        {
          self->heap[self->length] = entry;
          heap_sift_up (self, self->length);
          self->length++;
        }
    }
}

SimTime
sim_scheduler_next_time (SimScheduler *self)
{
  skip_cancelled_top (self);
  return self->length > 0 ? self->heap[0].time : SIM_TIME_NEVER;
}

gsize
sim_scheduler_pending (const SimScheduler *self)
{
  return self->length - g_hash_table_size (self->cancelled);
}

gboolean
sim_scheduler_step (SimScheduler *self)
{
  SimEntry entry;

  if (!pop_entry (self, &entry))
    return FALSE;
  self->now = entry.time;
  entry.func (entry.data);
  if (entry.destroy != NULL)
    entry.destroy (entry.data);
  return TRUE;
}

guint64
sim_scheduler_run_until (SimScheduler *self, SimTime limit)
{
  guint64 count = 0;

  /* An empty queue reports SIM_TIME_NEVER, which is not after a limit of
   * SIM_TIME_NEVER: stop when step() finds nothing rather than loop. */
  while (sim_scheduler_next_time (self) <= limit && sim_scheduler_step (self))
    count++;
  if (limit != SIM_TIME_NEVER && limit > self->now)
    self->now = limit;
  return count;
}

gint32
sim_scheduler_random_range (SimScheduler *self, gint32 begin, gint32 end)
{
  return g_rand_int_range (self->rand, begin, end);
}

gdouble
sim_scheduler_random_double (SimScheduler *self)
{
  return g_rand_double (self->rand);
}
