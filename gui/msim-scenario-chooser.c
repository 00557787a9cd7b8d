/* msim-scenario-chooser.c: the classroom library as a list. */
#include "msim-scenario-chooser.h"

#include "scenario/scenario.h"

struct _MsimScenarioChooser
{
  GtkWindow parent_instance;

  GtkLabel *folder_label;
  GtkListBox *list_box;
};

G_DEFINE_FINAL_TYPE (MsimScenarioChooser, msim_scenario_chooser, GTK_TYPE_WINDOW)

char *
msim_scenario_library_dir (void)
{
  const char *candidates[] = {
    g_getenv ("MAILSIM_SCENARIO_DIR"),
    MAILSIM_INSTALLED_SCENARIO_DIR,
    MAILSIM_SOURCE_SCENARIO_DIR,
  };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (candidates[i] != NULL && g_file_test (candidates[i], G_FILE_TEST_IS_DIR))
      return g_strdup (candidates[i]);
  return NULL;
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
msim_scenario_library_list (const char *dir)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) folder = dir != NULL ? g_dir_open (dir, 0, NULL) : NULL;
  const char *name;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    if (g_str_has_suffix (name, ".mailsim"))
      g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (paths, compare_paths);
  return paths;
}

static GtkWidget *
make_row (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = scenario_load (path, &error);
  g_autofree char *basename = g_path_get_basename (path);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *title = gtk_label_new (scenario != NULL ? scenario_get_title (scenario) : basename);
  GtkWidget *description = gtk_label_new (scenario != NULL ? scenario_get_description (scenario) : error->message);
  GtkWidget *file = gtk_label_new (basename);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_widget_add_css_class (title, "heading");
  gtk_widget_add_css_class (file, "dim-label");
  for (GtkWidget *label = title; label != NULL; label = label == title ? description : label == description ? file : NULL)
    {
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_box_append (GTK_BOX (box), label);
    }
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_sensitive (row, scenario != NULL);
  g_object_set_data_full (G_OBJECT (row), "path", g_strdup (path), g_free);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  scenario != NULL ? scenario_get_title (scenario) : basename, -1);
  return row;
}

static void
on_row_activated (GtkListBox *list_box, GtkListBoxRow *row, gpointer user_data)
{
  MsimScenarioChooser *self = user_data;
  const char *path = g_object_get_data (G_OBJECT (row), "path");
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));

  if (application != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (application), "open-path", g_variant_new_string (path));
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
msim_scenario_chooser_class_init (MsimScenarioChooserClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/mailsim/Mailsim/msim-scenario-chooser.ui");
  gtk_widget_class_bind_template_child (widget_class, MsimScenarioChooser, folder_label);
  gtk_widget_class_bind_template_child (widget_class, MsimScenarioChooser, list_box);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
msim_scenario_chooser_init (MsimScenarioChooser *self)
{
  g_autofree char *dir = msim_scenario_library_dir ();
  g_autoptr (GPtrArray) paths = msim_scenario_library_list (dir);
  g_autofree char *folder = dir != NULL ? g_strdup_printf ("Scenarios in %s", dir)
                                        : g_strdup ("No scenario library found: set MAILSIM_SCENARIO_DIR, or use Open.");

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_label_set_text (self->folder_label, folder);
  for (guint i = 0; i < paths->len; i++)
    gtk_list_box_append (self->list_box, make_row (g_ptr_array_index (paths, i)));
  g_signal_connect (self->list_box, "row-activated", G_CALLBACK (on_row_activated), self);
}

MsimScenarioChooser *
msim_scenario_chooser_new (GtkWindow *parent)
{
  return g_object_new (MSIM_TYPE_SCENARIO_CHOOSER, "transient-for", parent,
                       "application", parent != NULL ? gtk_window_get_application (parent) : NULL, NULL);
}
