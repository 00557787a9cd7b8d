/* msim-application.c: the application, its actions and its windows. */
#include "msim-application.h"

#include "msim-color-scheme.h"
#include "msim-scenario-chooser.h"
#include "msim-screenshot.h"
#include "msim-window.h"

struct _MsimApplication
{
  GtkApplication parent_instance;

  GtkFileChooserNative *file_chooser;
  SimTime start_time;   /* --at: where a scenario opened from the command line starts */
  gboolean has_start_time;
  char *screenshot_path; /* --screenshot: render the window to this PNG and quit */
  int exit_status;
};

/* Frames the window draws before a screenshot: the first lays it out, the
 * next ones let the event list scroll to its selection. */
#define SCREENSHOT_FRAMES 3

G_DEFINE_FINAL_TYPE (MsimApplication, msim_application, GTK_TYPE_APPLICATION)

static MsimWindow *
get_window (MsimApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (MSIM_IS_WINDOW (window))
    return MSIM_WINDOW (window);
  return msim_window_new (GTK_APPLICATION (self));
}

static void
show_error (GtkWindow *parent, const char *message)
{
  /* GtkAlertDialog is GTK 4.10; GtkMessageDialog is what 4.8 has. */
  GtkWidget *dialog = gtk_message_dialog_new (parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "This scenario cannot be shown");
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", message);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
fail_screenshot (MsimApplication *self, int status, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Headless use (--screenshot) has no one to read a dialog: the message
 * goes to stderr and the exit status says it failed. */
static void
fail_screenshot (MsimApplication *self, int status, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("mailsim-gtk: %s\n", message);
  self->exit_status = status;
  g_application_quit (G_APPLICATION (self));
}

static gboolean
close_window_later (gpointer user_data)
{
  gtk_window_destroy (GTK_WINDOW (user_data));
  g_object_unref (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_screenshot_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MsimApplication *self = MSIM_APPLICATION (user_data);
  g_autoptr (GError) error = NULL;

  if (!msim_screenshot_save_finish (GTK_WIDGET (source), result, &error))
    fail_screenshot (self, 1, "--screenshot %s: %s", self->screenshot_path, error->message);
  /* Not from inside the frame clock's tick that rendered it. */
  g_idle_add (close_window_later, g_object_ref (source));
  g_object_unref (self);
}

static void
open_path_for_screenshot (MsimApplication *self, const char *path)
{
  MsimWindow *window = get_window (self);
  g_autoptr (GError) error = NULL;

  if (!msim_window_open (window, path, &error))
    {
      gtk_window_destroy (GTK_WINDOW (window));
      fail_screenshot (self, 1, "%s", error->message);
      return;
    }
  if (self->has_start_time)
    msim_window_go_to_time (window, self->start_time);
  gtk_window_present (GTK_WINDOW (window));
  msim_screenshot_save_async (GTK_WIDGET (window), self->screenshot_path, SCREENSHOT_FRAMES, NULL,
                              on_screenshot_saved, g_object_ref (self));
}

static void
open_path (MsimApplication *self, const char *path)
{
  MsimWindow *window;
  g_autoptr (GError) error = NULL;

  if (self->screenshot_path != NULL)
    {
      open_path_for_screenshot (self, path);
      return;
    }
  window = get_window (self);
  gtk_window_present (GTK_WINDOW (window));
  if (!msim_window_open (window, path, &error))
    show_error (GTK_WINDOW (window), error->message);
  else if (self->has_start_time)
    {
      msim_window_go_to_time (window, self->start_time);
      self->has_start_time = FALSE;
    }
}

static void
activate_open_path (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  open_path (MSIM_APPLICATION (user_data), g_variant_get_string (parameter, NULL));
}

static void
on_file_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  MsimApplication *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path != NULL)
        open_path (self, path);
    }
  g_clear_object (&self->file_chooser);
}

static void
activate_open (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimApplication *self = MSIM_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *dir = msim_scenario_library_dir ();

  if (self->file_chooser != NULL)
    return;
  /* GtkFileDialog is GTK 4.10; the native chooser works on 4.8 and uses
   * the desktop portal when there is one. */
  self->file_chooser = gtk_file_chooser_native_new ("Open a Scenario", parent, GTK_FILE_CHOOSER_ACTION_OPEN,
                                                    "_Open", "_Cancel");
  gtk_file_filter_set_name (filter, "mailsim scenarios");
  gtk_file_filter_add_pattern (filter, "*.mailsim");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->file_chooser), filter);
  if (dir != NULL)
    {
      g_autoptr (GFile) folder = g_file_new_for_path (dir);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->file_chooser), folder, NULL);
    }
  g_signal_connect (self->file_chooser, "response", G_CALLBACK (on_file_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->file_chooser));
}

static void
activate_choose_scenario (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimApplication *self = MSIM_APPLICATION (user_data);
  MsimWindow *window = get_window (self);

  gtk_window_present (GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (msim_scenario_chooser_new (GTK_WINDOW (window))));
}

static void
activate_about (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  const char *authors[] = { "The mailsim authors", NULL };

  gtk_show_about_dialog (parent, "program-name", "mailsim", "logo-icon-name", MSIM_APPLICATION_ID,
                         "version", MAILSIM_VERSION, "comments", "Watch an email travel, step by step: SMTP, DNS, LMTP and IMAP in a simulated network.",
                         "license-type", GTK_LICENSE_GPL_3_0, "authors", authors, NULL);
}

static void
activate_quit (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "open", activate_open },
  { "open-path", activate_open_path, "s" },
  { "choose-scenario", activate_choose_scenario },
  { "about", activate_about },
  { "quit", activate_quit },
};

static void
msim_application_startup (GApplication *application)
{
  static const char *const open_accels[] = { "<Control>o", NULL };
  static const char *const choose_accels[] = { "<Control>l", NULL };
  static const char *const quit_accels[] = { "<Control>q", NULL };
  static const char *const reload_accels[] = { "<Control>r", NULL };
  static const char *const save_as_accels[] = { "<Control><Shift>s", NULL };
  static const char *const undo_accels[] = { "<Control>z", NULL };
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (msim_application_parent_class)->startup (application);
  g_action_map_add_action_entries (G_ACTION_MAP (application), app_actions, G_N_ELEMENTS (app_actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.open", open_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.choose-scenario", choose_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "win.reload", reload_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "win.save-as", save_as_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "win.undo-intervention", undo_accels);
  gtk_css_provider_load_from_resource (css, "/org/mailsim/Mailsim/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  msim_color_scheme_follow_desktop ();
}

static void
msim_application_activate (GApplication *application)
{
  MsimApplication *self = MSIM_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (self->screenshot_path != NULL)
    {
      fail_screenshot (self, 2, "--screenshot needs a SCENARIO file: mailsim-gtk SCENARIO --screenshot FILE.png");
      return;
    }
  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }
  activate_choose_scenario (NULL, NULL, self);
}

static void
msim_application_open (GApplication *application, GFile **files, int n_files, const char *hint)
{
  MsimApplication *self = MSIM_APPLICATION (application);

  if (self->screenshot_path != NULL && n_files != 1)
    {
      fail_screenshot (self, 2, "--screenshot takes one SCENARIO, not %d", n_files);
      return;
    }
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      if (path != NULL)
        open_path (MSIM_APPLICATION (application), path);
    }
}

static int
msim_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  MsimApplication *self = MSIM_APPLICATION (application);
  const char *at = NULL;
  const char *screenshot = NULL;
  g_autoptr (GError) error = NULL;

  if (g_variant_dict_lookup (options, "at", "&s", &at))
    {
      if (!sim_time_parse (at, &self->start_time, &error))
        {
          g_printerr ("mailsim-gtk: --at %s: %s\n", at, error->message);
          return 2;
        }
      self->has_start_time = TRUE;
    }
  if (g_variant_dict_lookup (options, "screenshot", "^&ay", &screenshot))
    {
      self->screenshot_path = g_strdup (screenshot);
      /* The cairo renderer draws the same pixels under any X server, and
       * needs no GL in xvfb-run; GSK_RENDERER set by the caller wins. */
      g_setenv ("GSK_RENDERER", "cairo", FALSE);
    }
  return -1;
}

static void
msim_application_dispose (GObject *object)
{
  MsimApplication *self = MSIM_APPLICATION (object);

  g_clear_object (&self->file_chooser);
  g_clear_pointer (&self->screenshot_path, g_free);
  G_OBJECT_CLASS (msim_application_parent_class)->dispose (object);
}

static void
msim_application_class_init (MsimApplicationClass *klass)
{
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = msim_application_dispose;
  application_class->startup = msim_application_startup;
  application_class->activate = msim_application_activate;
  application_class->open = msim_application_open;
  application_class->handle_local_options = msim_application_handle_local_options;
}

static void
msim_application_init (MsimApplication *self)
{
  static const GOptionEntry options[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, NULL, "Open the scenario paused at simulated time TIME (1.5s, 1m)", "TIME" },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      "Render the window (at --at TIME) to the PNG file FILE, then quit", "FILE" },
    { NULL },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), "[SCENARIO]");
  g_application_set_option_context_summary (G_APPLICATION (self), "Watch an email travel, step by step.");
}

int
msim_application_get_exit_status (MsimApplication *self)
{
  return self->exit_status;
}

MsimApplication *
msim_application_new (void)
{
  /* NON_UNIQUE: a teacher may compare two scenarios in two processes. */
  return g_object_new (MSIM_TYPE_APPLICATION, "application-id", MSIM_APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/mailsim/Mailsim", NULL);
}
