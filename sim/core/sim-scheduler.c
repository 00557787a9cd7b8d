/* sim-scheduler.c: binary-heap event queue and virtual clock.
 *
 * The heap holds only what ordering needs (time, sequence) and the index
 * of a slot that carries the event's function and data.  A slot is freed
 * when its event leaves the heap, and its generation is bumped, so an
 * event id (slot and generation) that already ran, was cancelled or was
 * never issued matches no live slot: cancelling it does nothing.
 */
#include "core/sim-scheduler.h"

typedef struct
{
  SimTime time;
  guint64 sequence;     /* insertion order: breaks ties between equal times */
  guint32 slot;
} SimHeapEntry;

typedef struct
{
  SimEventFunc func;    /* NULL once the event is cancelled */
  gpointer data;
  GDestroyNotify destroy;
  guint32 generation;   /* bumped every time the slot is freed */
  guint32 next_free;    /* free list link while the slot is unused */
} SimSlot;

#define NO_SLOT G_MAXUINT32

struct _SimScheduler
{
  SimTime now;
  guint64 next_sequence;
  SimHeapEntry *heap;
  gsize length;
  gsize capacity;
  SimSlot *slots;
  guint32 slots_used;       /* slots ever handed out; the rest of the array is unused */
  guint32 slots_capacity;
  guint32 free_slot;        /* head of the free list, or NO_SLOT */
  gsize cancelled;          /* cancelled entries still in the heap */
  GRand *rand;
};

static inline gboolean
entry_before (const SimHeapEntry *a, const SimHeapEntry *b)
{
  return a->time < b->time || (a->time == b->time && a->sequence < b->sequence);
}

static inline SimEventId
event_id (guint32 slot, guint32 generation)
{
  /* slot + 1 keeps 0 free to mean "no event". */
  return ((SimEventId) generation << 32) | ((SimEventId) slot + 1);
}

SimScheduler *
sim_scheduler_new (guint64 seed)
{
  SimScheduler *self = g_new0 (SimScheduler, 1);
  guint32 seed_words[2] = { (guint32) (seed & 0xffffffffu), (guint32) (seed >> 32) };

  self->next_sequence = 1;
  self->capacity = 256;
  self->heap = g_new (SimHeapEntry, self->capacity);
  self->slots_capacity = 256;
  self->slots = g_new (SimSlot, self->slots_capacity);
  self->free_slot = NO_SLOT;
  self->rand = g_rand_new_with_seed_array (seed_words, 2);
  return self;
}

void
sim_scheduler_free (SimScheduler *self)
{
  if (self == NULL)
    return;
  /* Cancelled events were destroyed when they were cancelled. */
  for (gsize i = 0; i < self->length; i++)
    {
      SimSlot *slot = &self->slots[self->heap[i].slot];
      if (slot->func != NULL && slot->destroy != NULL)
        slot->destroy (slot->data);
    }
  g_free (self->heap);
  g_free (self->slots);
  g_rand_free (self->rand);
  g_free (self);
}

SimTime
sim_scheduler_now (const SimScheduler *self)
{
  return self->now;
}

static guint32
slot_allocate (SimScheduler *self)
{
  guint32 index;

  if (self->free_slot != NO_SLOT)
    {
      index = self->free_slot;
      self->free_slot = self->slots[index].next_free;
      return index;
    }
  if (self->slots_used == self->slots_capacity)
    {
      g_assert (self->slots_capacity < NO_SLOT / 2);
      self->slots_capacity *= 2;
      self->slots = g_renew (SimSlot, self->slots, self->slots_capacity);
    }
  index = self->slots_used++;
  self->slots[index].generation = 0;
  return index;
}

static void
slot_release (SimScheduler *self, guint32 index)
{
  SimSlot *slot = &self->slots[index];

  slot->generation++;
  slot->func = NULL;
  slot->next_free = self->free_slot;
  self->free_slot = index;
}

static void
heap_sift_up (SimScheduler *self, gsize index)
{
  SimHeapEntry entry = self->heap[index];

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
  SimHeapEntry entry = self->heap[index];

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

/* Removes the top entry of a non-empty heap. */
static void
heap_remove_top (SimScheduler *self)
{
  self->length--;
  if (self->length > 0)
    {
      self->heap[0] = self->heap[self->length];
      heap_sift_down (self, 0);
    }
}

SimEventId
sim_scheduler_at (SimScheduler *self, SimTime at, SimEventFunc func,
                  gpointer data, GDestroyNotify destroy)
{
  guint32 index;
  SimSlot *slot;

  g_return_val_if_fail (func != NULL, 0);
  if (at < self->now)
    at = self->now;
  if (self->length == self->capacity)
    {
      self->capacity *= 2;
      self->heap = g_renew (SimHeapEntry, self->heap, self->capacity);
    }
  index = slot_allocate (self);
  slot = &self->slots[index];
  slot->func = func;
  slot->data = data;
  slot->destroy = destroy;
  self->heap[self->length] = (SimHeapEntry) { at, self->next_sequence++, index };
  heap_sift_up (self, self->length);
  self->length++;
  return event_id (index, slot->generation);
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

/* Rebuilds the heap without its cancelled entries, so a run that cancels
 * far more timers than it fires keeps a heap the size of its live events. */
static void
heap_compact (SimScheduler *self)
{
  gsize kept = 0;

  for (gsize i = 0; i < self->length; i++)
    {
      SimHeapEntry entry = self->heap[i];
      if (self->slots[entry.slot].func == NULL)
        slot_release (self, entry.slot);
      else
        self->heap[kept++] = entry;
    }
  self->length = kept;
  self->cancelled = 0;
  for (gsize i = self->length / 2; i-- > 0;)
    heap_sift_down (self, i);
}

void
sim_scheduler_cancel (SimScheduler *self, SimEventId *id)
{
  guint64 index = (*id & 0xffffffffu) - 1;
  guint32 generation = (guint32) (*id >> 32);
  SimSlot *slot;
  gpointer data;
  GDestroyNotify destroy;

  if (*id == 0)
    return;
  *id = 0;
  if (index >= self->slots_used)
    return;
  slot = &self->slots[index];
  /* A slot whose generation moved on was freed: the event already ran or
   * was skipped.  A matching slot without a function is already cancelled. */
  if (slot->generation != generation || slot->func == NULL)
    return;
  /* Lazy deletion: the heap entry stays until it reaches the top (or the
   * next compaction); the data is released now. */
  data = slot->data;
  destroy = slot->destroy;
  slot->func = NULL;
  slot->data = NULL;
  slot->destroy = NULL;
  self->cancelled++;
  if (self->cancelled > 64 && self->cancelled > self->length / 2)
    heap_compact (self);
  if (destroy != NULL)
    destroy (data);
}

/* Frees the slots of cancelled entries at the top, so the top is live. */
static void
skip_cancelled_top (SimScheduler *self)
{
  while (self->cancelled > 0 && self->length > 0 && self->slots[self->heap[0].slot].func == NULL)
    {
      slot_release (self, self->heap[0].slot);
      heap_remove_top (self);
      self->cancelled--;
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
  return self->length - self->cancelled;
}

gboolean
sim_scheduler_step (SimScheduler *self)
{
  SimHeapEntry top;
  SimSlot *slot;
  SimEventFunc func;
  gpointer data;
  GDestroyNotify destroy;

  skip_cancelled_top (self);
  if (self->length == 0)
    return FALSE;
  top = self->heap[0];
  heap_remove_top (self);
  slot = &self->slots[top.slot];
  func = slot->func;
  data = slot->data;
  destroy = slot->destroy;
  /* Freed before the call: the event may schedule others (which may reuse
   * the slot), and cancelling its own id from inside is then a no-op. */
  slot_release (self, top.slot);
  self->now = top.time;
  func (data);
  if (destroy != NULL)
    destroy (data);
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
