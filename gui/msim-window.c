/* msim-window.c: the main window: playback, time travel, and the panes.
 *
 * The window holds one recorded run and a position in it: a simulated time
 * and the index of the current event.  Everything on screen is a function
 * of that position, so stepping back is as exact as stepping forward.
 * Playback advances "show time" (msim-timeline.h), in which idle gaps are
 * shortened, by the wall time of each frame times the speed.
 */
#include "msim-window.h"

#include <math.h>

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

  MsimRun *run;
  MsimTimeline *timeline;
  SimTime time;
  gint current;
  gboolean playing;
  guint tick_id;
  gint64 last_frame_time;
  gboolean moving_scrubber;   /* set while the program moves the scrubber */
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

static const GActionEntry window_actions[] = {
  { "play", activate_play, NULL, "false", change_play_state },
  { "step-forward", activate_step_forward },
  { "step-back", activate_step_back },
  { "go-to-start", activate_go_to_start },
  { "go-to-end", activate_go_to_end },
  { "go-to-event", activate_go_to_event, "u" },
  { "reload", activate_reload },
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
  gtk_widget_dispose_template (GTK_WIDGET (self), MSIM_TYPE_WINDOW);
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
}

static void
msim_window_init (MsimWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->current = -1;
  g_action_map_add_action_entries (G_ACTION_MAP (self), window_actions, G_N_ELEMENTS (window_actions), self);
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
  g_autofree char *subtitle = g_strdup_printf ("%s \u2014 %u events, expectations: %u passed, %u failed", basename,
                                               msim_run_get_n_events (self->run), verdict.passed, verdict.failed);
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

gboolean
msim_window_open (MsimWindow *self, const char *path, GError **error)
{
  g_autoptr (MsimRun) run = msim_run_load (path, error);

  if (run == NULL)
    return FALSE;
  set_playing (self, FALSE);
  g_clear_pointer (&self->timeline, msim_timeline_free);
  g_clear_pointer (&self->run, msim_run_unref);
  self->run = g_steal_pointer (&run);
  self->timeline = msim_timeline_new (msim_run_get_events (self->run));

  msim_map_view_set_run (self->map_view, self->run);
  msim_event_list_set_run (self->event_list, self->run);
  self->moving_scrubber = TRUE;
  gtk_range_set_range (GTK_RANGE (self->scrubber), 0, MAX (seconds (msim_timeline_get_show_length (self->timeline)), 0.001));
  self->moving_scrubber = FALSE;
  describe_run (self);
  self->current = G_MININT;
  go_to_event (self, -1);
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
