/* msim-window.c: the main window: playback, time travel, and the panes.
 *
 * The window holds one recorded run and a position in it: a simulated time
 * and the index of the current event.  Everything on screen is a function
 * of that position, so stepping back is as exact as stepping forward.
 * Playback advances "show time" (msim-timeline.h), in which idle gaps are
 * shortened, by the wall time of each frame times the speed.
 *
 * Interventions change the scenario, not the recorded run: the window
 * keeps the file's text and the list of interventions, and each change
 * runs the text with the interventions appended from zero, then comes back
 * to the same instant (msim-intervention.h).
 */
#include "msim-window.h"

#include <math.h>
#include <string.h>

#include "msim-compose-dialog.h"
#include "msim-dns-record-dialog.h"
#include "msim-explanation-view.h"
#include "msim-inspector.h"
#include "msim-timeline.h"
#include "msim-transcript-view.h"

struct _MsimWindow
{
  GtkApplicationWindow parent_instance;

  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  MsimMapView *map_view;
  MsimEventList *event_list;
  MsimExplanationView *explanation_view;
  MsimTranscriptView *transcript_view;
  MsimInspector *inspector;
  GtkToggleButton *play_button;
  GtkScale *scrubber;
  GtkScale *speed_scale;
  GtkLabel *time_label;
  GtkLabel *gap_label;
  GtkRevealer *note_revealer;
  GtkLabel *note_label;
  GtkWidget *note_undo_button;

  MsimRun *run;
  MsimTimeline *timeline;
  SimTime time;
  gint current;
  gboolean playing;
  guint tick_id;
  gint64 last_frame_time;
  gboolean moving_scrubber;   /* set while the program moves the scrubber */

  char *base_text;              /* the scenario file's text, as loaded */
  GPtrArray *interventions;     /* MsimIntervention*, oldest first */
  GtkFileChooserNative *save_chooser;
};

G_DEFINE_FINAL_TYPE (MsimWindow, msim_window, GTK_TYPE_APPLICATION_WINDOW)

static double
seconds (SimTime time)
{
  return (double) time / SIM_TIME_SECOND;
}

static void
update_time_label (MsimWindow *self)
{
  g_autofree char *text = NULL;
  double now = seconds (self->time), end = self->run != NULL ? seconds (msim_run_get_end_time (self->run)) : 0;

  if (self->timeline != NULL && msim_timeline_in_gap (self->timeline, self->time))
    text = g_strdup_printf ("%.3f s / %.1f s (idle)", now, end);
  else
    text = g_strdup_printf ("%.3f s / %.1f s", now, end);
  gtk_label_set_text (self->time_label, text);
}

/* Moves to (@time, @current) and brings every view along.  @from_list is
 * TRUE when the event list asked, so it is not selected again. */
static void
set_position (MsimWindow *self, SimTime time, gint current, gboolean from_scrubber)
{
  gboolean event_changed = current != self->current;

  self->time = time;
  self->current = current;
  msim_map_view_set_time (self->map_view, time);
  msim_map_view_set_current_event (self->map_view, current);
  if (!from_scrubber && self->timeline != NULL)
    {
      self->moving_scrubber = TRUE;
      gtk_range_set_value (GTK_RANGE (self->scrubber), seconds (msim_timeline_to_show (self->timeline, time)));
      self->moving_scrubber = FALSE;
    }
  update_time_label (self);
  if (!event_changed)
    return;
  msim_event_list_select (self->event_list, current);
  msim_explanation_view_show_event (self->explanation_view, self->run, current);
  msim_transcript_view_show_event (self->transcript_view, self->run, current);
  msim_inspector_show_event (self->inspector, self->run, current);
}

static void
go_to_event (MsimWindow *self, gint index)
{
  if (self->run == NULL)
    return;
  index = CLAMP (index, -1, (gint) msim_run_get_n_events (self->run) - 1);
  set_position (self, index >= 0 ? msim_run_get_event (self->run, index)->time : 0, index, FALSE);
}

static void set_playing (MsimWindow *self, gboolean playing);

static double
get_speed (MsimWindow *self)
{
  return pow (10.0, gtk_range_get_value (GTK_RANGE (self->speed_scale)));
}

void
msim_window_set_speed (MsimWindow *self, double speed)
{
  gtk_range_set_value (GTK_RANGE (self->speed_scale), log10 (CLAMP (speed, 0.1, 100.0)));
}

void
msim_window_advance (MsimWindow *self, gint64 elapsed_us)
{
  if (self->run == NULL || self->timeline == NULL)
    return;
  SimTime length = msim_timeline_get_show_length (self->timeline);
  SimTime show = msim_timeline_to_show (self->timeline, self->time) + (SimTime) (elapsed_us * get_speed (self));
  if (show >= length)
    {
      show = length;
      set_playing (self, FALSE);
    }
  SimTime time = msim_timeline_to_simulated (self->timeline, show);
  set_position (self, time, msim_run_find_event_at (self->run, time), FALSE);
}

static gboolean
on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  /* A long stall (the window was hidden) does not jump the run ahead. */
  gint64 elapsed = self->last_frame_time != 0 ? MIN (now - self->last_frame_time, G_USEC_PER_SEC / 10) : 0;

  self->last_frame_time = now;
  msim_window_advance (self, elapsed);
  return self->playing ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
set_playing (MsimWindow *self, gboolean playing)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "play");

  if (playing && self->run == NULL)
    playing = FALSE;
  if (playing == self->playing)
    return;
  self->playing = playing;
  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_boolean (playing));
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  playing ? "Pause" : "Play", -1);
  if (playing && self->tick_id == 0)
    {
      /* Play from the start again once the end is reached. */
      if (self->timeline != NULL
          && msim_timeline_to_show (self->timeline, self->time) >= msim_timeline_get_show_length (self->timeline))
        go_to_event (self, -1);
      self->last_frame_time = 0;
      self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), on_tick, NULL, NULL);
    }
  else if (!playing && self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

/* ---- actions ---- */

static void
change_play_state (GSimpleAction *action, GVariant *state, gpointer user_data)
{
  set_playing (MSIM_WINDOW (user_data), g_variant_get_boolean (state));
}

static void
activate_play (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);
  set_playing (self, !self->playing);
}

static void
activate_step_forward (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  set_playing (self, FALSE);
  if (self->run != NULL && self->current + 1 < (gint) msim_run_get_n_events (self->run))
    go_to_event (self, self->current + 1);
}

static void
activate_step_back (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  set_playing (self, FALSE);
  if (self->current >= 0)
    go_to_event (self, self->current - 1);
}

static void
activate_go_to_start (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  set_playing (self, FALSE);
  go_to_event (self, -1);
}

static void
activate_go_to_end (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  set_playing (self, FALSE);
  if (self->run != NULL)
    set_position (self, msim_run_get_end_time (self->run), (gint) msim_run_get_n_events (self->run) - 1, FALSE);
}

static void
activate_go_to_event (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  set_playing (self, FALSE);
  go_to_event (self, (gint) g_variant_get_uint32 (parameter));
}

static void
activate_reload (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);
  g_autoptr (GError) error = NULL;

  if (self->run == NULL)
    return;
  g_autofree char *path = g_strdup (msim_run_get_path (self->run));
  if (!msim_window_open (self, path, &error))
    gtk_label_set_text (self->gap_label, error->message);
}

/* ---- interventions ---- */

static void describe_run (MsimWindow *self);
static void show_run (MsimWindow *self, MsimRun *run, gboolean keep_time);

static void
update_intervention_actions (MsimWindow *self)
{
  GAction *undo = g_action_map_lookup_action (G_ACTION_MAP (self), "undo-intervention");
  GAction *save_as = g_action_map_lookup_action (G_ACTION_MAP (self), "save-as");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (undo), self->interventions->len > 0);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (save_as), self->run != NULL);
}

static void
show_note (MsimWindow *self, const char *text, gboolean is_error)
{
  gtk_label_set_text (self->note_label, text);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->note_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->note_label), "error");
  gtk_widget_set_visible (self->note_undo_button, !is_error && self->interventions->len > 0);
  gtk_revealer_set_reveal_child (self->note_revealer, TRUE);
}

/* Runs the file's text with the interventions from zero and shows the new
 * run at the same instant.  On error the window keeps the run it had. */
static gboolean
replay (MsimWindow *self, GError **error)
{
  g_autofree char *text = msim_intervention_apply (self->base_text, self->interventions);
  MsimRun *run = msim_run_load_from_text (msim_run_get_path (self->run), text, error);

  if (run == NULL)
    return FALSE;
  show_run (self, run, TRUE);
  return TRUE;
}

static char *
describe_change (const char *what, ScenarioVerdict before, ScenarioVerdict after)
{
  return g_strdup_printf ("%s; the run was replayed from the start. Expectations: %u passed, %u failed (before: %u passed, %u failed).",
                          what, after.passed, after.failed, before.passed, before.failed);
}

gboolean
msim_window_intervene (MsimWindow *self, MsimIntervention *intervention, GError **error)
{
  g_autoptr (MsimIntervention) owned = intervention;

  g_return_val_if_fail (MSIM_IS_WINDOW (self), FALSE);
  if (self->run == NULL)
    return TRUE;
  ScenarioVerdict before = msim_run_get_verdict (self->run);
  g_ptr_array_add (self->interventions, g_steal_pointer (&owned));
  if (!replay (self, error))
    {
      g_ptr_array_remove_index (self->interventions, self->interventions->len - 1);
      return FALSE;
    }
  g_autofree char *note = describe_change (msim_intervention_get_description (intervention), before,
                                           msim_run_get_verdict (self->run));
  update_intervention_actions (self);
  show_note (self, note, FALSE);
  return TRUE;
}

guint
msim_window_get_n_interventions (MsimWindow *self)
{
  return self->interventions->len;
}

const char *
msim_window_get_note (MsimWindow *self)
{
  return gtk_revealer_get_reveal_child (self->note_revealer) ? gtk_label_get_text (self->note_label) : NULL;
}

static void
intervene_or_show_error (MsimWindow *self, MsimIntervention *intervention)
{
  g_autoptr (GError) error = NULL;

  if (!msim_window_intervene (self, intervention, &error))
    {
      g_autofree char *note = g_strdup_printf ("Nothing was changed: %s", error->message);
      show_note (self, note, TRUE);
    }
}

static void
activate_link_change (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);
  const char *a, *b;

  g_variant_get (parameter, "(&s&s)", &a, &b);
  intervene_or_show_error (self, msim_intervention_new_link (a, b, g_str_equal (g_action_get_name (G_ACTION (action)), "link-up"),
                                                             self->time));
}

static void
activate_node_change (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  intervene_or_show_error (self, msim_intervention_new_node (g_variant_get_string (parameter, NULL),
                                                             g_str_equal (g_action_get_name (G_ACTION (action)), "node-up"),
                                                             self->time));
}

static void
activate_edit_dns_record (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  if (self->run == NULL)
    return;
  set_playing (self, FALSE);
  gtk_window_present (GTK_WINDOW (msim_dns_record_dialog_new (self, g_variant_get_string (parameter, NULL))));
}

static void
activate_compose_email (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  if (self->run == NULL)
    return;
  set_playing (self, FALSE);
  gtk_window_present (GTK_WINDOW (msim_compose_dialog_new (self, g_variant_get_string (parameter, NULL))));
}

gboolean
msim_window_undo_intervention (MsimWindow *self)
{
  g_autoptr (GError) error = NULL;

  if (self->run == NULL || self->interventions->len == 0)
    return FALSE;
  ScenarioVerdict before = msim_run_get_verdict (self->run);
  MsimIntervention *last = g_ptr_array_steal_index (self->interventions, self->interventions->len - 1);
  /* The text without the last block loaded before, so this cannot fail
   * unless the file under it is gone; then the intervention stays. */
  if (!replay (self, &error))
    {
      g_ptr_array_add (self->interventions, last);
      g_autofree char *note = g_strdup_printf ("The last change could not be undone: %s", error->message);
      show_note (self, note, TRUE);
      return FALSE;
    }
  g_autofree char *what = g_strdup_printf ("Undone: %s", msim_intervention_get_description (last));
  g_autofree char *note = describe_change (what, before, msim_run_get_verdict (self->run));
  msim_intervention_free (last);
  update_intervention_actions (self);
  show_note (self, note, FALSE);
  return TRUE;
}

static void
activate_undo_intervention (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  msim_window_undo_intervention (MSIM_WINDOW (user_data));
}

char *
msim_window_get_scenario_text (MsimWindow *self)
{
  if (self->run == NULL)
    return NULL;
  return msim_intervention_apply (self->base_text, self->interventions);
}

gboolean
msim_window_save_to (MsimWindow *self, GFile *file, GError **error)
{
  g_autofree char *text = msim_window_get_scenario_text (self);

  if (text == NULL)
    return TRUE;
  return g_file_replace_contents (file, text, strlen (text), NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL, error);
}

static void
on_save_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_file_get_parse_name (file);
      g_autofree char *note = NULL;

      if (!msim_window_save_to (self, file, &error))
        note = g_strdup_printf ("The scenario was not saved: %s", error->message);
      else if (self->interventions->len > 0)
        note = g_strdup_printf ("Saved the scenario with %u intervention%s as %s; open it to replay it, or send it to "
                                "your teacher.",
                                self->interventions->len, self->interventions->len == 1 ? "" : "s", name);
      else
        note = g_strdup_printf ("Saved the scenario, unchanged, as %s.", name);
      show_note (self, note, error != NULL);
    }
  g_clear_object (&self->save_chooser);
}

static void
activate_save_as (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);
  g_autofree char *basename = NULL, *stem = NULL, *name = NULL;
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->run == NULL || self->save_chooser != NULL)
    return;
  set_playing (self, FALSE);
  basename = g_path_get_basename (msim_run_get_path (self->run));
  stem = g_str_has_suffix (basename, ".mailsim") ? g_strndup (basename, strlen (basename) - strlen (".mailsim"))
                                                 : g_strdup (basename);
  name = g_strdup_printf (self->interventions->len > 0 ? "%s-changed.mailsim" : "%s.mailsim", stem);
  /* The classroom library is often installed read-only: offer the home
   * folder then. */
  g_autoptr (GFile) folder = g_file_new_for_path (msim_run_get_path (self->run));
  g_set_object (&folder, g_file_get_parent (folder));
  g_autoptr (GFileInfo) info = folder != NULL ? g_file_query_info (folder, G_FILE_ATTRIBUTE_ACCESS_CAN_WRITE,
                                                                   G_FILE_QUERY_INFO_NONE, NULL, NULL)
                                              : NULL;
  if (info == NULL || !g_file_info_get_attribute_boolean (info, G_FILE_ATTRIBUTE_ACCESS_CAN_WRITE))
    g_set_object (&folder, g_file_new_for_path (g_get_home_dir ()));
  /* GtkFileDialog is GTK 4.10; the native chooser works on 4.8. */
  self->save_chooser = gtk_file_chooser_native_new ("Save the Scenario As", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                                    "_Save", "_Cancel");
  gtk_file_filter_set_name (filter, "mailsim scenarios");
  gtk_file_filter_add_pattern (filter, "*.mailsim");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->save_chooser), filter);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->save_chooser), folder, NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->save_chooser), name);
  g_signal_connect (self->save_chooser, "response", G_CALLBACK (on_save_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->save_chooser));
}

static void
activate_dismiss_note (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  gtk_revealer_set_reveal_child (MSIM_WINDOW (user_data)->note_revealer, FALSE);
}

static const GActionEntry window_actions[] = {
  { "play", activate_play, NULL, "false", change_play_state },
  { "step-forward", activate_step_forward },
  { "step-back", activate_step_back },
  { "go-to-start", activate_go_to_start },
  { "go-to-end", activate_go_to_end },
  { "go-to-event", activate_go_to_event, "u" },
  { "reload", activate_reload },
  { "link-down", activate_link_change, "(ss)" },
  { "link-up", activate_link_change, "(ss)" },
  { "node-down", activate_node_change, "s" },
  { "node-up", activate_node_change, "s" },
  { "edit-dns-record", activate_edit_dns_record, "s" },
  { "compose-email", activate_compose_email, "s" },
  { "undo-intervention", activate_undo_intervention },
  { "save-as", activate_save_as },
  { "dismiss-note", activate_dismiss_note },
};

/* ---- controls ---- */

static void
on_scrubber_moved (GtkRange *range, gpointer user_data)
{
  MsimWindow *self = MSIM_WINDOW (user_data);

  if (self->moving_scrubber || self->run == NULL || self->timeline == NULL)
    return;
  SimTime time = msim_timeline_to_simulated (self->timeline, (SimTime) (gtk_range_get_value (range) * SIM_TIME_SECOND));
  set_position (self, time, msim_run_find_event_at (self->run, time), TRUE);
}

static char *
format_speed (GtkScale *scale, double value, gpointer user_data)
{
  double speed = pow (10.0, value);
  return speed < 1 ? g_strdup_printf ("%.1f\u00D7", speed) : g_strdup_printf ("%.0f\u00D7", speed);
}

static void
on_speed_changed (GtkRange *range, gpointer user_data)
{
  g_autofree char *text = format_speed (GTK_SCALE (range), gtk_range_get_value (range), NULL);
  g_autofree char *label = g_strdup_printf ("Playback speed %s", text);

  gtk_accessible_update_property (GTK_ACCESSIBLE (range), GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, label, -1);
}

static void
add_key (GtkShortcutController *controller, guint key, GdkModifierType modifiers, const char *action)
{
  gtk_shortcut_controller_add_shortcut (controller,
                                        gtk_shortcut_new (gtk_keyval_trigger_new (key, modifiers),
                                                          gtk_named_action_new (action)));
}

static void
install_keys (MsimWindow *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();

  /* In the capture phase, so Space and the arrows drive the timeline even
   * when a button, the scrubber or a pane has the focus. */
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  add_key (GTK_SHORTCUT_CONTROLLER (controller), GDK_KEY_space, 0, "win.play");
  add_key (GTK_SHORTCUT_CONTROLLER (controller), GDK_KEY_Right, 0, "win.step-forward");
  add_key (GTK_SHORTCUT_CONTROLLER (controller), GDK_KEY_Left, 0, "win.step-back");
  add_key (GTK_SHORTCUT_CONTROLLER (controller), GDK_KEY_Home, 0, "win.go-to-start");
  add_key (GTK_SHORTCUT_CONTROLLER (controller), GDK_KEY_End, 0, "win.go-to-end");
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

/* ---- the object ---- */

static void
msim_window_dispose (GObject *object)
{
  MsimWindow *self = MSIM_WINDOW (object);

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  g_clear_object (&self->save_chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), MSIM_TYPE_WINDOW);
  g_clear_pointer (&self->interventions, g_ptr_array_unref);
  g_clear_pointer (&self->base_text, g_free);
  g_clear_pointer (&self->timeline, msim_timeline_free);
  g_clear_pointer (&self->run, msim_run_unref);
  G_OBJECT_CLASS (msim_window_parent_class)->dispose (object);
}

static void
msim_window_class_init (MsimWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = msim_window_dispose;
  g_type_ensure (MSIM_TYPE_MAP_VIEW);
  g_type_ensure (MSIM_TYPE_EVENT_LIST);
  g_type_ensure (MSIM_TYPE_EXPLANATION_VIEW);
  g_type_ensure (MSIM_TYPE_TRANSCRIPT_VIEW);
  g_type_ensure (MSIM_TYPE_INSPECTOR);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/mailsim/Mailsim/msim-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, map_view);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, event_list);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, explanation_view);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, transcript_view);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, inspector);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, scrubber);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, speed_scale);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, time_label);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, gap_label);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, note_revealer);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, note_label);
  gtk_widget_class_bind_template_child (widget_class, MsimWindow, note_undo_button);
}

static void
msim_window_init (MsimWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->current = -1;
  self->interventions = g_ptr_array_new_with_free_func ((GDestroyNotify) msim_intervention_free);
  g_action_map_add_action_entries (G_ACTION_MAP (self), window_actions, G_N_ELEMENTS (window_actions), self);
  update_intervention_actions (self);
  g_signal_connect (self->scrubber, "value-changed", G_CALLBACK (on_scrubber_moved), self);
  g_signal_connect (self->speed_scale, "value-changed", G_CALLBACK (on_speed_changed), self);
  gtk_scale_set_format_value_func (self->speed_scale, format_speed, NULL, NULL);
  on_speed_changed (GTK_RANGE (self->speed_scale), self);
  install_keys (self);
  msim_explanation_view_show_event (self->explanation_view, NULL, -1);
  msim_transcript_view_show_event (self->transcript_view, NULL, -1);
  msim_inspector_show_event (self->inspector, NULL, -1);
}

MsimWindow *
msim_window_new (GtkApplication *application)
{
  return g_object_new (MSIM_TYPE_WINDOW, "application", application, NULL);
}

static void
describe_run (MsimWindow *self)
{
  const Scenario *scenario = msim_run_get_scenario (self->run);
  ScenarioVerdict verdict = msim_run_get_verdict (self->run);
  g_autofree char *basename = g_path_get_basename (msim_run_get_path (self->run));
  g_autofree char *changes = self->interventions->len == 0 ? g_strdup ("")
                             : g_strdup_printf (", changed by %u intervention%s", self->interventions->len,
                                                self->interventions->len == 1 ? "" : "s");
  g_autofree char *subtitle = g_strdup_printf ("%s%s \u2014 %u events, expectations: %u passed, %u failed", basename,
                                               changes, msim_run_get_n_events (self->run), verdict.passed, verdict.failed);
  SimTime skipped = msim_timeline_get_skipped (self->timeline);
  g_autofree char *gap = NULL;

  gtk_window_set_title (GTK_WINDOW (self), scenario_get_title (scenario));
  gtk_label_set_text (self->title_label, scenario_get_title (scenario));
  gtk_label_set_text (self->subtitle_label, subtitle);
  if (skipped > 0)
    gap = g_strdup_printf ("Waiting is shortened: idle gaps longer than %.0f s play as %.0f s "
                           "(%.1f s of simulated waiting skipped in this run). The clock on the map shows the true time.",
                           seconds (MSIM_TIMELINE_MAX_GAP), seconds (MSIM_TIMELINE_MAX_GAP), seconds (skipped));
  else
    gap = g_strdup ("The timeline shows simulated time; the speed scales it for watching.");
  gtk_label_set_text (self->gap_label, gap);
}

/* Shows @run (taking it): the map, the list and the timeline follow.  With
 * @keep_time the view stays at the same instant, else it starts before the
 * first event. */
static void
show_run (MsimWindow *self, MsimRun *run, gboolean keep_time)
{
  SimTime time = self->time;

  g_clear_pointer (&self->timeline, msim_timeline_free);
  g_clear_pointer (&self->run, msim_run_unref);
  self->run = run;
  self->timeline = msim_timeline_new (msim_run_get_events (self->run));

  msim_map_view_set_run (self->map_view, self->run);
  msim_event_list_set_run (self->event_list, self->run);
  self->moving_scrubber = TRUE;
  gtk_range_set_range (GTK_RANGE (self->scrubber), 0, MAX (seconds (msim_timeline_get_show_length (self->timeline)), 0.001));
  self->moving_scrubber = FALSE;
  describe_run (self);
  /* Another run: every pane shows its current event again. */
  self->current = G_MININT;
  if (keep_time)
    set_position (self, time, msim_run_find_event_at (self->run, time), FALSE);
  else
    go_to_event (self, -1);
}

gboolean
msim_window_open (MsimWindow *self, const char *path, GError **error)
{
  MsimRun *run = msim_run_load (path, error);

  if (run == NULL)
    return FALSE;
  set_playing (self, FALSE);
  g_ptr_array_set_size (self->interventions, 0);
  g_free (self->base_text);
  self->base_text = g_strdup (msim_run_get_text (run));
  gtk_revealer_set_reveal_child (self->note_revealer, FALSE);
  show_run (self, run, FALSE);
  update_intervention_actions (self);
  return TRUE;
}

void
msim_window_go_to_time (MsimWindow *self, SimTime time)
{
  set_playing (self, FALSE);
  if (self->run != NULL)
    set_position (self, time, msim_run_find_event_at (self->run, time), FALSE);
}

MsimRun *
msim_window_get_run (MsimWindow *self)
{
  return self->run;
}

gint
msim_window_get_current_event (MsimWindow *self)
{
  return self->current;
}

SimTime
msim_window_get_time (MsimWindow *self)
{
  return self->time;
}

double
msim_window_get_scrubber_value (MsimWindow *self)
{
  return gtk_range_get_value (GTK_RANGE (self->scrubber));
}

MsimMapView *
msim_window_get_map_view (MsimWindow *self)
{
  return self->map_view;
}

MsimEventList *
msim_window_get_event_list (MsimWindow *self)
{
  return self->event_list;
}
