/* sim-scheduler.c: heap-ordered event queue and virtual clock.
 *
 * The heap holds only what ordering needs (time, sequence) and the index
 * of a slot that carries the event's function and data.  A slot is freed
 * when its event leaves the heap, and its generation is bumped, so an
 * event id (slot and generation) that already ran, was cancelled or was
 * never issued matches no live slot: cancelling it does nothing.
 */
#include "core/sim-scheduler.h"

#include <stdlib.h>

/* 16 bytes, four to a cache line.  @order is the insertion sequence in
 * its high 32 bits (it breaks ties between equal times) and the slot in
 * its low 32 bits; sequences are renumbered before they would overflow,
 * see renumber_sequences(). */
typedef struct
{
  SimTime time;
  guint64 order;
} SimHeapEntry;

#define ENTRY_SLOT(entry) ((guint32) ((entry).order & 0xffffffffu))

/* Tests lower it to exercise renumbering. */
#ifndef SIM_SCHEDULER_SEQUENCE_LIMIT
#define SIM_SCHEDULER_SEQUENCE_LIMIT G_MAXUINT32
#endif

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
  guint64 next_sequence;    /* at most SIM_SCHEDULER_SEQUENCE_LIMIT */
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

/* (time, sequence) order.  Times are never negative (the clock starts at
 * 0 and events are never scheduled before now), so the pair compares as
 * one unsigned 128-bit number where the compiler has one: a compare and a
 * subtract-with-borrow, no branch for heap order to mispredict. */
#ifdef __SIZEOF_INT128__
static inline unsigned __int128
entry_key (const SimHeapEntry *entry)
{
  return (unsigned __int128) (guint64) entry->time << 64 | entry->order;
}
#endif

static inline gsize
entry_before (const SimHeapEntry *a, const SimHeapEntry *b)
{
#ifdef __SIZEOF_INT128__
  return entry_key (a) < entry_key (b);
#else
  return (gsize) ((a->time < b->time) | ((a->time == b->time) & (a->order < b->order)));
#endif
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
      SimSlot *slot = &self->slots[ENTRY_SLOT (self->heap[i])];
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

/* The heap is 4-ary: a node's children are 4i+1 .. 4i+4.  Half the
 * levels of a binary heap, so half the dependent loads on the way down,
 * and the four children (64 bytes) sit next to each other in memory. */
#define HEAP_ARITY 4

static void
heap_sift_up (SimScheduler *self, gsize index)
{
  SimHeapEntry *heap = self->heap;
  SimHeapEntry entry = heap[index];

  while (index > 0)
    {
      gsize parent = (index - 1) / HEAP_ARITY;
      if (!entry_before (&entry, &heap[parent]))
        break;
      heap[index] = heap[parent];
      index = parent;
    }
  heap[index] = entry;
}

/* Index of the earliest of the @count (1 to 4) entries from @first. */
static inline gsize
heap_earliest (const SimHeapEntry *heap, gsize first, gsize count)
{
  gsize best = first;

  for (gsize i = first + 1; i < first + count; i++)
    best += (i - best) * entry_before (&heap[i], &heap[best]);
  return best;
}

static void
heap_sift_down (SimScheduler *self, gsize index)
{
  SimHeapEntry *heap = self->heap;
  SimHeapEntry entry = heap[index];

  for (;;)
    {
      gsize first = HEAP_ARITY * index + 1;
      if (first >= self->length)
        break;
      gsize child = heap_earliest (heap, first, MIN (HEAP_ARITY, self->length - first));
      if (!entry_before (&heap[child], &entry))
        break;
      heap[index] = heap[child];
      index = child;
    }
  heap[index] = entry;
}

/* Removes the top entry of a non-empty heap.  Floyd's method: the hole at
 * the root walks down to a leaf along the earliest child, and the last
 * entry (which usually belongs near the bottom) fills it and rises.  The
 * textbook sift-down also compares with the moving entry at every level.
 * This is the hot path of every run; see bench/README.md. */
static void
heap_remove_top (SimScheduler *self)
{
  SimHeapEntry *heap = self->heap;
  gsize length = --self->length;
  gsize hole = 0;
  gsize first;

  if (length == 0)
    return;
  while ((first = HEAP_ARITY * hole + 1) + HEAP_ARITY <= length)
    {
      /* Two independent pairs, then their winners: the four loads go out
       * together, the last round compares values already loaded, and the
       * choice is arithmetic, not a branch (heap order would make a branch
       * mispredict half the time). */
#ifdef __SIZEOF_INT128__
      unsigned __int128 k0 = entry_key (&heap[first]);
      unsigned __int128 k1 = entry_key (&heap[first + 1]);
      unsigned __int128 k2 = entry_key (&heap[first + 2]);
      unsigned __int128 k3 = entry_key (&heap[first + 3]);
      gsize x = k1 < k0;
      gsize y = k3 < k2;
      unsigned __int128 ka = x ? k1 : k0;
      unsigned __int128 kb = y ? k3 : k2;
      gsize z = kb < ka;
      gsize child = first + x + ((2 + y - x) & -z);
#else
      gsize a = first + entry_before (&heap[first + 1], &heap[first]);
      gsize b = first + 2 + entry_before (&heap[first + 3], &heap[first + 2]);
      gsize child = a + (b - a) * entry_before (&heap[b], &heap[a]);
#endif
      heap[hole] = heap[child];
      hole = child;
    }
  if (first < length)
    {
      gsize child = heap_earliest (heap, first, length - first);
      heap[hole] = heap[child];
      hole = child;
    }
  heap[hole] = heap[length];
  heap_sift_up (self, hole);
}

static int
entry_compare (gconstpointer a, gconstpointer b)
{
  return entry_before (a, b) ? -1 : entry_before (b, a) ? 1 : 0;
}

/* The 32-bit sequence ran out (once every four billion events): sort the
 * pending entries, which keeps their order and is a valid heap, and number
 * them again from 1. */
static void
renumber_sequences (SimScheduler *self)
{
  qsort (self->heap, self->length, sizeof (SimHeapEntry), entry_compare);
  for (gsize i = 0; i < self->length; i++)
    self->heap[i].order = (guint64) (i + 1) << 32 | ENTRY_SLOT (self->heap[i]);
  self->next_sequence = self->length + 1;
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
  if (self->next_sequence > SIM_SCHEDULER_SEQUENCE_LIMIT)
    renumber_sequences (self);
  self->heap[self->length] = (SimHeapEntry) { at, self->next_sequence++ << 32 | index };
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
      if (self->slots[ENTRY_SLOT (entry)].func == NULL)
        slot_release (self, ENTRY_SLOT (entry));
      else
        self->heap[kept++] = entry;
    }
  self->length = kept;
  self->cancelled = 0;
  /* Heapify bottom-up from the last node that can have children. */
  for (gsize i = self->length / HEAP_ARITY + 1; i-- > 0;)
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
  while (self->cancelled > 0 && self->length > 0 && self->slots[ENTRY_SLOT (self->heap[0])].func == NULL)
    {
      slot_release (self, ENTRY_SLOT (self->heap[0]));
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
  slot = &self->slots[ENTRY_SLOT (top)];
  func = slot->func;
  data = slot->data;
  destroy = slot->destroy;
  /* Freed before the call: the event may schedule others (which may reuse
   * the slot), and cancelling its own id from inside is then a no-op. */
  slot_release (self, ENTRY_SLOT (top));
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
