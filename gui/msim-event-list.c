/* msim-event-list.c: every event of the run in a GtkColumnView. */
#include "msim-event-list.h"

#include "msim-event-item.h"

typedef enum
{
  COLUMN_TIME,
  COLUMN_FROM,
  COLUMN_TO,
  COLUMN_PROTOCOL,
  COLUMN_SUMMARY,
} Column;

struct _MsimEventList
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkColumnView *column_view;
  GListStore *store;
  GtkSingleSelection *selection;
  gboolean selecting;   /* set while the program, not the user, selects */
  guint scroll_tick;
  guint scroll_position;
  gboolean scroll_ready;
};

G_DEFINE_FINAL_TYPE (MsimEventList, msim_event_list, GTK_TYPE_WIDGET)

static void
setup_label (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  Column column = GPOINTER_TO_INT (user_data);
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), column == COLUMN_TIME ? 1.0 : 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), column == COLUMN_SUMMARY ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_MIDDLE);
  if (column == COLUMN_TIME)
    gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (list_item, label);
}

static void
bind_label (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  MsimEventItem *item = gtk_list_item_get_item (list_item);
  const SimEvent *event = msim_event_item_get_event (item);
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  const char *text = "";

  switch ((Column) GPOINTER_TO_INT (user_data))
    {
    case COLUMN_TIME:
      text = msim_event_item_get_time_text (item);
      break;
    case COLUMN_FROM:
      text = event->from;
      break;
    case COLUMN_TO:
      text = event->to;
      break;
    case COLUMN_PROTOCOL:
      text = event->protocol;
      break;
    case COLUMN_SUMMARY:
      text = msim_event_item_get_summary (item);
      gtk_widget_set_tooltip_text (GTK_WIDGET (label), text);
      break;
    }
  gtk_label_set_text (label, text != NULL ? text : "");
}

static void
add_column (MsimEventList *self, const char *title, Column column, gboolean expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_label), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_label), GINT_TO_POINTER (column));
  g_autoptr (GtkColumnViewColumn) view_column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (view_column, expand);
  gtk_column_view_column_set_resizable (view_column, TRUE);
  gtk_column_view_append_column (self->column_view, view_column);
}

static void
on_selection_changed (GtkSelectionModel *model, guint position, guint n_items, gpointer user_data)
{
  MsimEventList *self = user_data;
  guint selected = gtk_single_selection_get_selected (self->selection);

  if (self->selecting || selected == GTK_INVALID_LIST_POSITION)
    return;
  gtk_widget_activate_action (GTK_WIDGET (self), "win.go-to-event", "u", selected);
}

static void
msim_event_list_dispose (GObject *object)
{
  MsimEventList *self = MSIM_EVENT_LIST (object);

  if (self->scroll_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->scroll_tick);
  self->scroll_tick = 0;
  gtk_widget_dispose_template (GTK_WIDGET (self), MSIM_TYPE_EVENT_LIST);
  g_clear_object (&self->selection);
  G_OBJECT_CLASS (msim_event_list_parent_class)->dispose (object);
}

static void
msim_event_list_class_init (MsimEventListClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = msim_event_list_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/mailsim/Mailsim/msim-event-list.ui");
  gtk_widget_class_bind_template_child (widget_class, MsimEventList, column_view);
  gtk_widget_class_bind_template_child (widget_class, MsimEventList, scroller);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
msim_event_list_init (MsimEventList *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->store = g_list_store_new (MSIM_TYPE_EVENT_ITEM);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->store));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect (self->selection, "selection-changed", G_CALLBACK (on_selection_changed), self);
  add_column (self, "Time", COLUMN_TIME, FALSE);
  add_column (self, "From", COLUMN_FROM, FALSE);
  add_column (self, "To", COLUMN_TO, FALSE);
  add_column (self, "Protocol", COLUMN_PROTOCOL, FALSE);
  add_column (self, "What happens", COLUMN_SUMMARY, TRUE);
}

void
msim_event_list_set_run (MsimEventList *self, MsimRun *run)
{
  guint n = run != NULL ? msim_run_get_n_events (run) : 0;
  g_autoptr (GPtrArray) items = g_ptr_array_new_full (n, g_object_unref);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, msim_event_item_new (run, i));
  self->selecting = TRUE;
  g_list_store_splice (self->store, 0, g_list_model_get_n_items (G_LIST_MODEL (self->store)), items->pdata, items->len);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  self->selecting = FALSE;
}

static gboolean
scroll_on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  MsimEventList *self = MSIM_EVENT_LIST (widget);

  /* Tick callbacks run before layout: wait for a frame after the first
   * allocation, or the list does not know where its rows are yet. */
  if (!self->scroll_ready)
    {
      self->scroll_ready = gtk_widget_get_mapped (widget) && gtk_widget_get_height (widget) > 0;
      return G_SOURCE_CONTINUE;
    }
  /* GTK 4.12 has gtk_column_view_scroll_to(); before it, the list view
   * inside the column view offers the same as its list.scroll-to-item. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->column_view)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_VIEW (child))
      gtk_widget_activate_action (child, "list.scroll-to-item", "u", self->scroll_position);
  self->scroll_tick = 0;
  return G_SOURCE_REMOVE;
}

static void
scroll_to (MsimEventList *self, guint position)
{
  /* On the next frame, once the list has its size: a window opened at a
   * given time scrolls too, and a burst of steps scrolls once. */
  self->scroll_position = position;
  if (self->scroll_tick == 0)
    self->scroll_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), scroll_on_tick, NULL, NULL);
}

void
msim_event_list_select (MsimEventList *self, gint index)
{
  guint position = index >= 0 ? (guint) index : GTK_INVALID_LIST_POSITION;

  if (gtk_single_selection_get_selected (self->selection) == position)
    return;
  self->selecting = TRUE;
  gtk_single_selection_set_selected (self->selection, position);
  self->selecting = FALSE;
  if (index >= 0)
    scroll_to (self, position);
}

guint
msim_event_list_get_n_rows (MsimEventList *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->selection));
}

gint
msim_event_list_get_selected (MsimEventList *self)
{
  guint selected = gtk_single_selection_get_selected (self->selection);
  return selected == GTK_INVALID_LIST_POSITION ? -1 : (gint) selected;
}
