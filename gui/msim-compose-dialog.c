/* msim-compose-dialog.c: the send intervention as a form. */
#include "msim-compose-dialog.h"

#include <string.h>

#include "msim-intervention.h"

struct _MsimComposeDialog
{
  GtkWindow parent_instance;

  GtkLabel *intro_label;
  GtkDropDown *from_drop_down;
  GtkEntry *to_entry;
  GtkEntry *subject_entry;
  GtkTextView *body_view;
  GtkLabel *error_label;
  GtkButton *send_button;

  MsimWindow *window;
  SimTime time;
};

G_DEFINE_FINAL_TYPE (MsimComposeDialog, msim_compose_dialog, GTK_TYPE_WINDOW)

static void
show_error (MsimComposeDialog *self, const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

/* "bob@example.org, carol@example.net" as the scenario writes it: one
 * word, commas and no spaces. */
static char *
recipients_word (const char *text)
{
  GString *word = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      g_string_append_c (word, *p);
  return g_string_free (word, FALSE);
}

static gboolean
send (MsimComposeDialog *self)
{
  GtkStringObject *from = gtk_drop_down_get_selected_item (self->from_drop_down);
  g_autofree char *to = recipients_word (gtk_editable_get_text (GTK_EDITABLE (self->to_entry)));
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  GtkTextIter start, end;
  g_autofree char *body = NULL;
  g_autoptr (GError) error = NULL;

  if (from == NULL)
    return FALSE;
  if (to[0] == '\0')
    {
      show_error (self, "Write at least one recipient's address, for example bob@example.org.");
      return FALSE;
    }
  /* These would end the word, or start a comment, in the scenario text. */
  if (strpbrk (to, "\"{};#\\") != NULL)
    {
      show_error (self, "An address cannot hold \" { } ; # or \\; separate recipients with commas.");
      return FALSE;
    }
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  body = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  if (!msim_window_intervene (self->window,
                              msim_intervention_new_send (gtk_string_object_get_string (from), to,
                                                          gtk_editable_get_text (GTK_EDITABLE (self->subject_entry)), body,
                                                          self->time),
                              &error))
    {
      g_autofree char *message = g_strdup_printf ("The changed scenario does not load, so nothing was sent (lines past the end of the file are the interventions):\n%s",
                                                  error->message);
      show_error (self, message);
      return FALSE;
    }
  gtk_window_destroy (GTK_WINDOW (self));
  return TRUE;
}

static void
on_send_clicked (GtkButton *button, gpointer user_data)
{
  send (MSIM_COMPOSE_DIALOG (user_data));
}

static void
msim_compose_dialog_dispose (GObject *object)
{
  MsimComposeDialog *self = MSIM_COMPOSE_DIALOG (object);

  g_clear_object (&self->window);
  G_OBJECT_CLASS (msim_compose_dialog_parent_class)->dispose (object);
}

static void
msim_compose_dialog_class_init (MsimComposeDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = msim_compose_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/mailsim/Mailsim/msim-compose-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, MsimComposeDialog, intro_label);
  gtk_widget_class_bind_template_child (widget_class, MsimComposeDialog, from_drop_down);
  gtk_widget_class_bind_template_child (widget_class, MsimComposeDialog, to_entry);
  gtk_widget_class_bind_template_child (widget_class, MsimComposeDialog, subject_entry);
  gtk_widget_class_bind_template_child (widget_class, MsimComposeDialog, body_view);
  gtk_widget_class_bind_template_child (widget_class, MsimComposeDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, MsimComposeDialog, send_button);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
msim_compose_dialog_init (MsimComposeDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->send_button, "clicked", G_CALLBACK (on_send_clicked), self);
}

MsimComposeDialog *
msim_compose_dialog_new (MsimWindow *window, const char *node)
{
  MsimComposeDialog *self = g_object_new (MSIM_TYPE_COMPOSE_DIALOG, "transient-for", window, NULL);
  MsimRun *run = msim_window_get_run (window);
  g_autoptr (GtkStringList) accounts = gtk_string_list_new (NULL);
  g_autofree char *when = NULL;
  g_autofree char *intro = NULL;

  self->window = g_object_ref (window);
  self->time = msim_window_get_time (window);
  when = sim_time_to_string (self->time);
  intro = g_strdup_printf ("%s sends this message at %s. The run is replayed from the start with it.", node, when);
  gtk_label_set_text (self->intro_label, intro);
  if (run != NULL)
    {
      g_autoptr (GPtrArray) addresses = msim_run_get_accounts (run, node);
      for (guint i = 0; i < addresses->len; i++)
        gtk_string_list_append (accounts, g_ptr_array_index (addresses, i));
    }
  gtk_drop_down_set_model (self->from_drop_down, G_LIST_MODEL (accounts));
  gtk_widget_grab_focus (GTK_WIDGET (self->to_entry));
  return self;
}

gboolean
msim_compose_dialog_send (MsimComposeDialog *self, const char *from, const char *to, const char *subject,
                          const char *body)
{
  GListModel *model = gtk_drop_down_get_model (self->from_drop_down);

  for (guint i = 0; from != NULL && i < g_list_model_get_n_items (model); i++)
    if (g_strcmp0 (gtk_string_list_get_string (GTK_STRING_LIST (model), i), from) == 0)
      gtk_drop_down_set_selected (self->from_drop_down, i);
  gtk_editable_set_text (GTK_EDITABLE (self->to_entry), to);
  gtk_editable_set_text (GTK_EDITABLE (self->subject_entry), subject);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->body_view), body, -1);
  return send (self);
}

const char *
msim_compose_dialog_get_error (MsimComposeDialog *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label)) ? gtk_label_get_text (self->error_label) : NULL;
}
