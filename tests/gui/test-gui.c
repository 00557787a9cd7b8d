/* tests/gui/test-gui.c: mailsim-gtk's window on the first-email scenario.
 *
 * Runs under a display (xvfb-run -a, GTK_A11Y=none).  Drives the window
 * through its actions, as the keyboard and buttons do, and renders the map
 * into an image surface with the same draw function the widget uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <gtk/gtk.h>

#include "msim-inspector.h"
#include "msim-map-layout.h"
#include "msim-timeline.h"
#include "msim-window.h"

#define FIRST_EMAIL MAILSIM_SOURCE_ROOT "/scenarios/first-email.mailsim"

static void
process_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static int
open_window (void **state)
{
  g_autoptr (GError) error = NULL;
  MsimWindow *window = msim_window_new (NULL);

  g_object_ref_sink (window);
  assert_true (msim_window_open (window, FIRST_EMAIL, &error));
  assert_null (error);
  gtk_window_present (GTK_WINDOW (window));
  process_pending ();
  *state = window;
  return 0;
}

static int
close_window (void **state)
{
  MsimWindow *window = *state;

  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
  process_pending ();
  return 0;
}

static void
test_event_list_has_one_row_per_trace_event (void **state)
{
  MsimWindow *window = *state;
  MsimRun *run = msim_window_get_run (window);
  SimTrace *trace = sim_world_get_trace (msim_run_get_world (run));

  assert_true (sim_trace_count (trace) > 50);
  assert_int_equal (msim_event_list_get_n_rows (msim_window_get_event_list (window)), sim_trace_count (trace));
  assert_int_equal (msim_run_get_n_events (run), sim_trace_count (trace));
}

static void
test_stepping_forward_visits_every_event_and_moves_the_scrubber (void **state)
{
  MsimWindow *window = *state;
  guint n = msim_run_get_n_events (msim_window_get_run (window));
  double previous = msim_window_get_scrubber_value (window);
  gboolean moved = FALSE;

  assert_int_equal (msim_window_get_current_event (window), -1);
  for (guint i = 0; i < n; i++)
    {
      gtk_widget_activate_action (GTK_WIDGET (window), "win.step-forward", NULL);
      assert_int_equal (msim_window_get_current_event (window), (gint) i);
      assert_int_equal (msim_event_list_get_selected (msim_window_get_event_list (window)), (gint) i);
      double value = msim_window_get_scrubber_value (window);
      assert_true (value >= previous);
      moved |= value > previous;
      previous = value;
    }
  assert_true (moved);
  /* One more step at the end stays at the last event. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.step-forward", NULL);
  assert_int_equal (msim_window_get_current_event (window), (gint) n - 1);
}

static void
test_stepping_back_moves_the_scrubber_back (void **state)
{
  MsimWindow *window = *state;
  gint n = (gint) msim_run_get_n_events (msim_window_get_run (window));

  gtk_widget_activate_action (GTK_WIDGET (window), "win.go-to-end", NULL);
  double end = msim_window_get_scrubber_value (window);
  assert_int_equal (msim_window_get_current_event (window), n - 1);
  /* Back past the fetch at 1m to the end of the relay, before it. */
  while (msim_window_get_time (window) >= 60 * SIM_TIME_SECOND)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.step-back", NULL);
  assert_true (msim_window_get_scrubber_value (window) < end);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.go-to-start", NULL);
  assert_int_equal (msim_window_get_current_event (window), -1);
  assert_true (msim_window_get_scrubber_value (window) == 0.0);
}

static void
test_selecting_an_event_jumps_the_timeline_there (void **state)
{
  MsimWindow *window = *state;
  MsimRun *run = msim_window_get_run (window);
  guint target = msim_run_get_n_events (run) / 2;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.go-to-event", "u", target);
  assert_int_equal (msim_window_get_current_event (window), (gint) target);
  assert_true (msim_window_get_time (window) == msim_run_get_event (run, target)->time);
}

static void
test_playback_advances_and_shortens_the_idle_minute (void **state)
{
  MsimWindow *window = *state;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.go-to-start", NULL);
  msim_window_set_speed (window, 100.0);
  /* 100x for one wall second would be 100 s of simulated time; first-email
   * is 61 s long with a 57 s idle gap, so this reaches the end in well
   * under a wall second of frames. */
  for (int frame = 0; frame < 60; frame++)
    msim_window_advance (window, G_USEC_PER_SEC / 60);
  assert_int_equal (msim_window_get_current_event (window),
                    (gint) msim_run_get_n_events (msim_window_get_run (window)) - 1);
}

static guint
count_painted_pixels (cairo_surface_t *surface)
{
  guint count = 0;
  int width = cairo_image_surface_get_width (surface), height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  const guint8 *data = cairo_image_surface_get_data (surface);
  guint32 background = *(const guint32 *) data;

  cairo_surface_flush (surface);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      count += *(const guint32 *) (data + y * stride + x * 4) != background;
  return count;
}

static void
test_map_draws_nodes_links_and_tokens_into_an_image (void **state)
{
  MsimWindow *window = *state;
  MsimMapView *map = msim_window_get_map_view (window);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1200, 700);
  cairo_t *cr = cairo_create (surface);

  /* 1.25 s: the message itself is on its way from the laptop. */
  msim_window_go_to_time (window, 1250 * SIM_TIME_MSEC);
  assert_true (msim_map_view_count_in_flight (map) >= 1);
  msim_map_view_draw (map, cr, 1200, 700, TRUE);
  assert_int_equal (cairo_status (cr), CAIRO_STATUS_SUCCESS);
  assert_true (count_painted_pixels (surface) > 1200 * 700 / 50);
  if (g_getenv ("MAILSIM_GUI_PNG") != NULL)
    cairo_surface_write_to_png (surface, g_getenv ("MAILSIM_GUI_PNG"));
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_layout_puts_the_sender_left_and_name_servers_on_top (void **state)
{
  MsimWindow *window = *state;
  MsimRun *run = msim_window_get_run (window);
  g_autoptr (MsimMapLayout) layout = msim_map_layout_new (msim_run_get_world (run), msim_run_get_sender (run));
  const MsimMapNode *laptop = msim_map_layout_find (layout, "laptop.example.com");
  const MsimMapNode *mx = msim_map_layout_find (layout, "mx.example.org");
  const MsimMapNode *internet = msim_map_layout_find (layout, "internet");
  const MsimMapNode *ns = msim_map_layout_find (layout, "ns.example.org");

  assert_string_equal (msim_run_get_sender (run), "laptop.example.com");
  assert_non_null (laptop);
  assert_true (laptop->x < internet->x && internet->x < mx->x);
  assert_true (ns->y < mx->y);
  assert_int_equal (laptop->distance, 0);
}

static void
test_timeline_shortens_gaps_and_converts_both_ways (void **state)
{
  MsimWindow *window = *state;
  g_autoptr (MsimTimeline) timeline = msim_timeline_new (msim_run_get_events (msim_window_get_run (window)));
  SimTime samples[] = { 0, SIM_TIME_SECOND, 1500 * SIM_TIME_MSEC, 60 * SIM_TIME_SECOND };

  assert_true (msim_timeline_get_skipped (timeline) > 50 * SIM_TIME_SECOND);
  assert_true (msim_timeline_in_gap (timeline, 30 * SIM_TIME_SECOND));
  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      SimTime show = msim_timeline_to_show (timeline, samples[i]);
      SimTime back = msim_timeline_to_simulated (timeline, show);
      assert_true (back >= samples[i] - 1 && back <= samples[i] + 1);
    }
}

static void
test_inspector_numbers_received_hops_oldest_first (void **state)
{
  static const char message[] = "Received: from smtp.example.com\r\n by mx.example.org\r\n"
                                "Received: from laptop.example.com\r\n by smtp.example.com\r\n"
                                "Subject: Lunch\r\n\r\nHi\r\n";
  g_autoptr (GBytes) bytes = g_bytes_new_static (message, sizeof message - 1);
  g_autofree char *text = msim_inspector_describe_headers (bytes);

  assert_non_null (strstr (text, "Hop 2 of 2"));
  assert_non_null (strstr (text, "Hop 1 of 2 (the first server the message reached)\n  from laptop.example.com by smtp.example.com"));
  assert_true (strstr (text, "Hop 2 of 2") < strstr (text, "Hop 1 of 2"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_event_list_has_one_row_per_trace_event, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_stepping_forward_visits_every_event_and_moves_the_scrubber, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_stepping_back_moves_the_scrubber_back, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_selecting_an_event_jumps_the_timeline_there, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_playback_advances_and_shortens_the_idle_minute, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_map_draws_nodes_links_and_tokens_into_an_image, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_layout_puts_the_sender_left_and_name_servers_on_top, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_timeline_shortens_gaps_and_converts_both_ways, open_window, close_window),
    cmocka_unit_test (test_inspector_numbers_received_hops_oldest_first),
  };

  gtk_init ();
  return cmocka_run_group_tests_name ("gui", tests, NULL, NULL);
}
