/* sim-trace.c: event emission and sinks. */
#include "trace/sim-trace.h"

typedef struct
{
  SimTraceSinkFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} SimSink;

struct _SimTrace
{
  guint64 count;
  GArray *sinks;
  GStringChunk *strings;
  GHashTable *interned;  /* lookups only */
  gboolean keep;
  GPtrArray *events;
};

static void
sim_event_free (SimEvent *event)
{
  if (event->bytes != NULL)
    g_bytes_unref (event->bytes);
  if (event->path != NULL)
    g_ptr_array_unref (event->path);
  g_free (event->text);
  g_free (event);
}

SimTrace *
sim_trace_new (void)
{
  SimTrace *self = g_new0 (SimTrace, 1);

  self->sinks = g_array_new (FALSE, FALSE, sizeof (SimSink));
  self->strings = g_string_chunk_new (4096);
  self->interned = g_hash_table_new (g_str_hash, g_str_equal);
  self->events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_free);
  return self;
}

void
sim_trace_free (SimTrace *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->sinks->len; i++)
    {
      SimSink *sink = &g_array_index (self->sinks, SimSink, i);
      if (sink->destroy != NULL)
        sink->destroy (sink->user_data);
    }
  g_array_unref (self->sinks);
  g_ptr_array_unref (self->events);
  g_hash_table_destroy (self->interned);
  g_string_chunk_free (self->strings);
  g_free (self);
}

void
sim_trace_add_sink (SimTrace *self, SimTraceSinkFunc func, gpointer user_data, GDestroyNotify destroy)
{
  SimSink sink = { func, user_data, destroy };

  g_array_append_val (self->sinks, sink);
}

void
sim_trace_set_keep (SimTrace *self, gboolean keep)
{
  self->keep = keep;
}

GPtrArray *
sim_trace_get_events (SimTrace *self)
{
  return self->events;
}

const char *
sim_trace_intern (SimTrace *self, const char *text)
{
  const char *stored;

  if (text == NULL)
    return NULL;
  stored = g_hash_table_lookup (self->interned, text);
  if (stored == NULL)
    {
      stored = g_string_chunk_insert (self->strings, text);
      g_hash_table_add (self->interned, (gpointer) stored);
    }
  return stored;
}

void
sim_trace_emit (SimTrace *self, const SimEvent *event)
{
  SimEvent *copy = g_new (SimEvent, 1);

  *copy = *event;
  copy->seq = ++self->count;
  copy->from = sim_trace_intern (self, event->from != NULL ? event->from : "");
  copy->to = sim_trace_intern (self, event->to != NULL ? event->to : "");
  copy->protocol = sim_trace_intern (self, event->protocol != NULL ? event->protocol : "");
  copy->explain = sim_trace_intern (self, event->explain);
  copy->status = sim_trace_intern (self, event->status);
  copy->message = sim_trace_intern (self, event->message);
  copy->bytes = event->bytes != NULL ? g_bytes_ref (event->bytes) : NULL;
  copy->text = g_strdup (event->text);
  copy->path = NULL;
  if (event->path != NULL)
    {
      copy->path = g_ptr_array_sized_new (event->path->len);
      for (guint i = 0; i < event->path->len; i++)
        g_ptr_array_add (copy->path, (gpointer) sim_trace_intern (self, g_ptr_array_index (event->path, i)));
    }
  for (guint i = 0; i < self->sinks->len; i++)
    {
      SimSink *sink = &g_array_index (self->sinks, SimSink, i);
      sink->func (copy, sink->user_data);
    }
  if (self->keep)
    g_ptr_array_add (self->events, copy);
  else
    sim_event_free (copy);
}

guint64
sim_trace_count (const SimTrace *self)
{
  return self->count;
}

const char *
sim_event_kind_to_string (SimEventKind kind)
{
  static const char *const names[] = {
    [SIM_EVENT_CONNECT] = "connect",
    [SIM_EVENT_ACCEPT] = "accept",
    [SIM_EVENT_REFUSED] = "refused",
    [SIM_EVENT_UNREACHABLE] = "unreachable",
    [SIM_EVENT_DATA] = "data",
    [SIM_EVENT_CLOSE] = "close",
    [SIM_EVENT_RESET] = "reset",
    [SIM_EVENT_DATAGRAM] = "datagram",
    [SIM_EVENT_LOST] = "lost",
    [SIM_EVENT_MAIL] = "mail",
    [SIM_EVENT_ACTION] = "action",
    [SIM_EVENT_NOTE] = "note",
    [SIM_EVENT_EXPECT] = "expect",
  };

  if ((guint) kind < G_N_ELEMENTS (names) && names[kind] != NULL)
    return names[kind];
  return "unknown";
}
