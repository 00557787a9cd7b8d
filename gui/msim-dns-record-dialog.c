/* msim-dns-record-dialog.c: the dns-set intervention as a form. */
#include "msim-dns-record-dialog.h"

#include "msim-intervention.h"

struct _MsimDnsRecordDialog
{
  GtkWindow parent_instance;

  GtkLabel *intro_label;
  GtkDropDown *server_drop_down;
  GtkDropDown *zone_drop_down;
  GtkLabel *records_label;
  GtkEntry *record_entry;
  GtkLabel *error_label;
  GtkButton *apply_button;

  MsimWindow *window;
  SimTime time;
};

G_DEFINE_FINAL_TYPE (MsimDnsRecordDialog, msim_dns_record_dialog, GTK_TYPE_WINDOW)

static const char *
selected_string (GtkDropDown *drop_down)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (drop_down);
  return item != NULL ? gtk_string_object_get_string (item) : NULL;
}

static void
select_string (GtkDropDown *drop_down, const char *text)
{
  GListModel *model = gtk_drop_down_get_model (drop_down);

  for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
    if (g_strcmp0 (gtk_string_list_get_string (GTK_STRING_LIST (model), i), text) == 0)
      gtk_drop_down_set_selected (drop_down, i);
}

static void
on_zone_selected (MsimDnsRecordDialog *self)
{
  MsimRun *run = msim_window_get_run (self->window);
  const char *server = selected_string (self->server_drop_down), *zone = selected_string (self->zone_drop_down);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GString) text = g_string_new (NULL);

  if (run == NULL || server == NULL || zone == NULL)
    return;
  records = msim_run_get_zone_records (run, server, zone);
  for (guint i = 0; i < records->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? "\n" : "", (const char *) g_ptr_array_index (records, i));
  gtk_label_set_text (self->records_label, text->str);
}

static void
on_server_selected (MsimDnsRecordDialog *self)
{
  MsimRun *run = msim_window_get_run (self->window);
  const char *server = selected_string (self->server_drop_down);
  g_autoptr (GPtrArray) zones = NULL;
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);

  if (run == NULL || server == NULL)
    return;
  zones = msim_run_get_zones (run, server);
  for (guint i = 0; i < zones->len; i++)
    gtk_string_list_append (list, g_ptr_array_index (zones, i));
  gtk_drop_down_set_model (self->zone_drop_down, G_LIST_MODEL (list));
  gtk_drop_down_set_selected (self->zone_drop_down, 0);
  on_zone_selected (self);
}

static void
show_error (MsimDnsRecordDialog *self, const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static gboolean
apply (MsimDnsRecordDialog *self)
{
  const char *server = selected_string (self->server_drop_down), *zone = selected_string (self->zone_drop_down);
  g_autofree char *record = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->record_entry))));
  g_autoptr (GError) error = NULL;

  if (server == NULL || zone == NULL)
    return FALSE;
  if (record[0] == '\0')
    {
      show_error (self, "Type a record first, for example: mx 3600 A 203.0.113.99");
      return FALSE;
    }
  if (!msim_window_intervene (self->window, msim_intervention_new_dns_set (server, zone, record, self->time), &error))
    {
      g_autofree char *message = g_strdup_printf ("The changed scenario does not load, so nothing was changed (lines past the end of the file are the interventions):\n%s",
                                                  error->message);
      show_error (self, message);
      return FALSE;
    }
  gtk_window_destroy (GTK_WINDOW (self));
  return TRUE;
}

static void
on_apply_clicked (GtkButton *button, gpointer user_data)
{
  apply (MSIM_DNS_RECORD_DIALOG (user_data));
}

static void
msim_dns_record_dialog_dispose (GObject *object)
{
  MsimDnsRecordDialog *self = MSIM_DNS_RECORD_DIALOG (object);

  g_clear_object (&self->window);
  G_OBJECT_CLASS (msim_dns_record_dialog_parent_class)->dispose (object);
}

static void
msim_dns_record_dialog_class_init (MsimDnsRecordDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = msim_dns_record_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/mailsim/Mailsim/msim-dns-record-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, MsimDnsRecordDialog, intro_label);
  gtk_widget_class_bind_template_child (widget_class, MsimDnsRecordDialog, server_drop_down);
  gtk_widget_class_bind_template_child (widget_class, MsimDnsRecordDialog, zone_drop_down);
  gtk_widget_class_bind_template_child (widget_class, MsimDnsRecordDialog, records_label);
  gtk_widget_class_bind_template_child (widget_class, MsimDnsRecordDialog, record_entry);
  gtk_widget_class_bind_template_child (widget_class, MsimDnsRecordDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, MsimDnsRecordDialog, apply_button);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
msim_dns_record_dialog_init (MsimDnsRecordDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->apply_button, "clicked", G_CALLBACK (on_apply_clicked), self);
  g_signal_connect_swapped (self->server_drop_down, "notify::selected", G_CALLBACK (on_server_selected), self);
  g_signal_connect_swapped (self->zone_drop_down, "notify::selected", G_CALLBACK (on_zone_selected), self);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->apply_button));
}

MsimDnsRecordDialog *
msim_dns_record_dialog_new (MsimWindow *window, const char *node)
{
  MsimDnsRecordDialog *self = g_object_new (MSIM_TYPE_DNS_RECORD_DIALOG, "transient-for", window, NULL);
  MsimRun *run = msim_window_get_run (window);
  g_autoptr (GtkStringList) servers = gtk_string_list_new (NULL);
  g_autofree char *when = NULL;
  g_autofree char *intro = NULL;

  self->window = g_object_ref (window);
  self->time = msim_window_get_time (window);
  when = sim_time_to_string (self->time);
  intro = g_strdup_printf ("From %s on, the name server answers with this record. "
                           "The run is replayed from the start with the change.", when);
  gtk_label_set_text (self->intro_label, intro);
  if (run != NULL)
    {
      GPtrArray *names = sim_world_get_role_names (msim_run_get_world (run));
      for (guint i = 0; i < names->len; i++)
        {
          const char *name = g_ptr_array_index (names, i);
          SimRoleKind kind;
          if (sim_world_find_role (msim_run_get_world (run), name, &kind) == NULL || kind != SIM_ROLE_DNS)
            continue;
          g_autoptr (GPtrArray) zones = msim_run_get_zones (run, name);
          if (zones->len > 0)
            gtk_string_list_append (servers, name);
        }
    }
  gtk_drop_down_set_model (self->server_drop_down, G_LIST_MODEL (servers));
  select_string (self->server_drop_down, node);
  on_server_selected (self);
  return self;
}

gboolean
msim_dns_record_dialog_apply (MsimDnsRecordDialog *self, const char *zone, const char *record)
{
  if (zone != NULL)
    select_string (self->zone_drop_down, zone);
  gtk_editable_set_text (GTK_EDITABLE (self->record_entry), record);
  return apply (self);
}

const char *
msim_dns_record_dialog_get_error (MsimDnsRecordDialog *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label)) ? gtk_label_get_text (self->error_label) : NULL;
}
