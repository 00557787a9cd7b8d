/* msim-event-item.c: one trace event as a list item. */
#include "msim-event-item.h"

struct _MsimEventItem
{
  GObject parent_instance;

  MsimRun *run;
  guint index;
  char *time_text;
  char *summary;
};

G_DEFINE_FINAL_TYPE (MsimEventItem, msim_event_item, G_TYPE_OBJECT)

static void
msim_event_item_finalize (GObject *object)
{
  MsimEventItem *self = MSIM_EVENT_ITEM (object);

  g_free (self->time_text);
  g_free (self->summary);
  g_clear_pointer (&self->run, msim_run_unref);
  G_OBJECT_CLASS (msim_event_item_parent_class)->finalize (object);
}

static void
msim_event_item_class_init (MsimEventItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = msim_event_item_finalize;
}

static void
msim_event_item_init (MsimEventItem *self)
{
}

MsimEventItem *
msim_event_item_new (MsimRun *run, guint index)
{
  MsimEventItem *self = g_object_new (MSIM_TYPE_EVENT_ITEM, NULL);

  self->run = msim_run_ref (run);
  self->index = index;
  return self;
}

guint
msim_event_item_get_index (MsimEventItem *self)
{
  return self->index;
}

const SimEvent *
msim_event_item_get_event (MsimEventItem *self)
{
  return msim_run_get_event (self->run, self->index);
}

const char *
msim_event_item_get_time_text (MsimEventItem *self)
{
  /* Formatted on first use: a long run has thousands of rows, few shown. */
  if (self->time_text == NULL)
    {
      char clock[32];
      self->time_text = g_strdup (g_strstrip ((char *) sim_time_format_clock (msim_event_item_get_event (self)->time, clock)));
    }
  return self->time_text;
}

const char *
msim_event_item_get_summary (MsimEventItem *self)
{
  if (self->summary == NULL)
    {
      const SimEvent *event = msim_event_item_get_event (self);
      g_autofree char *summary = msim_event_summary (event);
      self->summary = msim_event_is_failure (event) ? g_strdup_printf ("\u26A0 %s", summary) : g_steal_pointer (&summary);
    }
  return self->summary;
}
