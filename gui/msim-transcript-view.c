/* msim-transcript-view.c: a connection's dialogue as a chat. */
#include "msim-transcript-view.h"

#include "trace/sim-narration.h"

struct _MsimTranscriptView
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkTextView *text_view;
  GtkTextBuffer *buffer;
};

G_DEFINE_FINAL_TYPE (MsimTranscriptView, msim_transcript_view, GTK_TYPE_WIDGET)

static void
msim_transcript_view_dispose (GObject *object)
{
  MsimTranscriptView *self = MSIM_TRANSCRIPT_VIEW (object);

  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  G_OBJECT_CLASS (msim_transcript_view_parent_class)->dispose (object);
}

static void
msim_transcript_view_class_init (MsimTranscriptViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = msim_transcript_view_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
msim_transcript_view_init (MsimTranscriptView *self)
{
  self->scroller = gtk_scrolled_window_new ();
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  self->text_view = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), GTK_WIDGET (self->text_view));
  gtk_text_view_set_editable (self->text_view, FALSE);
  gtk_text_view_set_monospace (self->text_view, TRUE);
  gtk_text_view_set_wrap_mode (self->text_view, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (self->text_view, 8);
  gtk_text_view_set_right_margin (self->text_view, 8);
  gtk_text_view_set_top_margin (self->text_view, 8);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Transcript of the current connection", -1);
  self->buffer = gtk_text_view_get_buffer (self->text_view);
  /* Translucent tints read on light and dark themes alike; the C:/S:
   * prefixes and the indentation carry the meaning without colour. */
  gtk_text_buffer_create_tag (self->buffer, "heading", "weight", PANGO_WEIGHT_BOLD, "family", "sans",
                              "scale", 1.1, "pixels-below-lines", 6, NULL);
  gtk_text_buffer_create_tag (self->buffer, "client", "right-margin", 64, "paragraph-background-rgba",
                              &(GdkRGBA) { 0.21, 0.52, 0.89, 0.16 }, NULL);
  gtk_text_buffer_create_tag (self->buffer, "server", "left-margin", 64, "paragraph-background-rgba",
                              &(GdkRGBA) { 0.15, 0.64, 0.41, 0.16 }, NULL);
  gtk_text_buffer_create_tag (self->buffer, "note", "style", PANGO_STYLE_ITALIC, "family", "sans", NULL);
  gtk_text_buffer_create_tag (self->buffer, "current", "weight", PANGO_WEIGHT_BOLD, NULL);
  gtk_text_buffer_create_tag (self->buffer, "gap", "pixels-above-lines", 6, NULL);
  GtkTextIter start;
  gtk_text_buffer_get_start_iter (self->buffer, &start);
  gtk_text_buffer_create_mark (self->buffer, "current", &start, TRUE);
}

static gboolean
same_conversation (const SimEvent *event, const SimEvent *current)
{
  if (current->connection != 0)
    return event->connection == current->connection;
  if (current->kind != SIM_EVENT_DATAGRAM && current->kind != SIM_EVENT_LOST)
    return event == current;
  /* A datagram exchange: the same two endpoints, either way round. */
  if (event->kind != SIM_EVENT_DATAGRAM && event->kind != SIM_EVENT_LOST)
    return FALSE;
  return (event->from_address == current->from_address && event->from_port == current->from_port
          && event->to_address == current->to_address && event->to_port == current->to_port)
         || (event->from_address == current->to_address && event->from_port == current->to_port
             && event->to_address == current->from_address && event->to_port == current->from_port);
}

static void
append_event (MsimTranscriptView *self, const SimEvent *event, gboolean is_current)
{
  g_autoptr (GPtrArray) lines = sim_event_describe (event);
  GtkTextIter end;
  const char *side;
  char clock[32];

  if (event->kind == SIM_EVENT_DATA)
    side = event->from_client ? "client" : "server";
  else if (event->kind == SIM_EVENT_DATAGRAM)
    side = g_str_has_prefix (g_ptr_array_index (lines, 0), "query") ? "client" : "server";
  else
    side = "note";
  for (guint i = 0; i < lines->len; i++)
    {
      g_autofree char *line = i == 0 ? g_strdup_printf ("%s  %s", g_strstrip ((char *) sim_time_format_clock (event->time, clock)),
                                                        (char *) g_ptr_array_index (lines, i))
                                     : g_strdup_printf ("%s", (char *) g_ptr_array_index (lines, i));
      gtk_text_buffer_get_end_iter (self->buffer, &end);
      gtk_text_buffer_insert_with_tags_by_name (self->buffer, &end, line, -1, side, is_current ? "current" : NULL,
                                                i == 0 ? "gap" : NULL, NULL);
      gtk_text_buffer_get_end_iter (self->buffer, &end);
      gtk_text_buffer_insert (self->buffer, &end, "\n", 1);
    }
}

void
msim_transcript_view_show_event (MsimTranscriptView *self, MsimRun *run, gint index)
{
  GtkTextIter end;

  gtk_text_buffer_set_text (self->buffer, "", 0);
  gtk_text_buffer_get_end_iter (self->buffer, &end);
  if (run == NULL || index < 0)
    {
      gtk_text_buffer_insert_with_tags_by_name (self->buffer, &end,
                                                "Step or play: the dialogue of the current connection appears here, "
                                                "the client's lines (C:) on the left, the server's (S:) on the right.",
                                                -1, "note", NULL);
      return;
    }
  GPtrArray *events = msim_run_get_events (run);
  const SimEvent *current = g_ptr_array_index (events, index);
  g_autofree char *heading = NULL;
  if (current->connection != 0)
    heading = g_strdup_printf ("Connection %" G_GUINT64_FORMAT " (%s)\n", current->connection, current->protocol);
  else if (current->kind == SIM_EVENT_DATAGRAM || current->kind == SIM_EVENT_LOST)
    heading = g_strdup_printf ("Datagrams between %s and %s (%s)\n", current->from, current->to, current->protocol);
  else
    heading = g_strdup_printf ("%s\n", current->from);
  gtk_text_buffer_insert_with_tags_by_name (self->buffer, &end, heading, -1, "heading", NULL);

  gboolean found = FALSE;
  for (gint i = 0; i <= index; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (!same_conversation (event, current))
        continue;
      if (i == index)
        {
          gtk_text_buffer_get_end_iter (self->buffer, &end);
          gtk_text_buffer_move_mark_by_name (self->buffer, "current", &end);
          found = TRUE;
        }
      append_event (self, event, i == index);
    }
  /* The mark survives until the view is allocated: scrolling may wait. */
  if (found)
    gtk_text_view_scroll_to_mark (self->text_view, gtk_text_buffer_get_mark (self->buffer, "current"), 0.05, FALSE, 0, 0);
}

char *
msim_transcript_view_get_text (MsimTranscriptView *self)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (self->buffer, &start, &end);
  return gtk_text_buffer_get_text (self->buffer, &start, &end, FALSE);
}
