/* tests/gui/test-gui-library.c: every scenario of the classroom library in
 * mailsim-gtk, and the window rendered to a PNG as --screenshot does.
 *
 *   xvfb-run -a tests/gui/test-gui-library SCENARIO...
 *
 * meson passes the library (scenarios/meson.build's scenario_files).  Each
 * scenario is opened in a window, played to its end at 100x, and its event
 * list must hold one row per event of the same run made the way the
 * command line makes it (scenario_load, scenario_build with the scenario's
 * seed, the trace kept, scenario_run): the GUI shows the run `mailsim run`
 * narrates, no more, no less.  Without a display the test is skipped
 * (exit status 77), not failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "msim-screenshot.h"
#include "msim-window.h"

#define FIRST_EMAIL MAILSIM_SOURCE_ROOT "/scenarios/first-email.mailsim"
/* Exit status meson reads as "skipped". */
#define EXIT_SKIP 77
/* Playback frames at 60 Hz before giving up on reaching the end: at 100x a
 * frame plays 1.7 s of show time, and idle gaps show as 1 s at most. */
#define MAX_PLAYBACK_FRAMES 100000

static void
process_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The number of events of @path's run made as `mailsim run` makes it. */
static guint
count_cli_events (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = scenario_load (path, &error);

  assert_non_null (scenario);
  g_autoptr (SimWorld) world = scenario_build (scenario, scenario_get_seed (scenario), &error);
  assert_non_null (world);
  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  scenario_run (scenario, world);
  return sim_trace_get_events (sim_world_get_trace (world))->len;
}

static MsimWindow *
open_window (const char *path)
{
  g_autoptr (GError) error = NULL;
  MsimWindow *window = msim_window_new (NULL);

  g_object_ref_sink (window);
  if (!msim_window_open (window, path, &error))
    fail_msg ("%s: %s", path, error->message);
  gtk_window_present (GTK_WINDOW (window));
  process_pending ();
  return window;
}

static void
close_window (MsimWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
  process_pending ();
}

static gboolean
is_playing (MsimWindow *window)
{
  g_autoptr (GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (window), "play");
  return g_variant_get_boolean (state);
}

/* The state of each test is the scenario's path. */
static void
test_playing_to_the_end_lists_every_event_of_the_cli_run (void **state)
{
  const char *path = *state;
  guint expected = count_cli_events (path);
  MsimWindow *window = open_window (path);
  MsimEventList *list = msim_window_get_event_list (window);

  assert_true (expected > 0);
  assert_int_equal (msim_window_get_current_event (window), -1);
  msim_window_set_speed (window, 100.0);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.play", NULL);
  assert_true (is_playing (window));
  /* The frames of the frame clock, without waiting for them. */
  for (int frame = 0; frame < MAX_PLAYBACK_FRAMES && is_playing (window); frame++)
    msim_window_advance (window, G_USEC_PER_SEC / 60);
  assert_false (is_playing (window));
  process_pending ();

  assert_int_equal (msim_event_list_get_n_rows (list), expected);
  assert_int_equal (msim_run_get_n_events (msim_window_get_run (window)), expected);
  assert_int_equal (msim_window_get_current_event (window), (gint) expected - 1);
  assert_int_equal (msim_event_list_get_selected (list), (gint) expected - 1);
  assert_true (msim_window_get_time (window) == msim_run_get_end_time (msim_window_get_run (window)));
  close_window (window);
}

typedef struct
{
  gboolean done;
  gboolean saved;
  GError *error;
} Wait;

static void
on_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  wait->saved = msim_screenshot_save_finish (GTK_WIDGET (source), result, &wait->error);
  wait->done = TRUE;
}

static gboolean
save_and_wait (MsimWindow *window, const char *path, GError **error)
{
  Wait wait = { 0 };

  msim_screenshot_save_async (GTK_WIDGET (window), path, 3, NULL, on_saved, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  if (wait.error != NULL)
    g_propagate_error (error, wait.error);
  return wait.saved;
}

static void
test_screenshot_writes_the_whole_window_as_a_png (void **state)
{
  static const guint8 png_signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-gui-library-XXXXXX", &error);
  g_autofree char *png = g_build_filename (dir, "first-email.png", NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  MsimWindow *window = open_window (FIRST_EMAIL);

  assert_non_null (dir);
  msim_window_go_to_time (window, 1250 * SIM_TIME_MSEC);
  if (!save_and_wait (window, png, &error))
    fail_msg ("%s", error->message);
  assert_true (g_file_get_contents (png, &contents, &length, NULL));
  assert_true (length > 10000);
  assert_memory_equal (contents, png_signature, sizeof png_signature);

  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (png, &error);
  assert_non_null (texture);
  assert_int_equal (gdk_texture_get_width (texture), gtk_widget_get_width (GTK_WIDGET (window)));
  assert_int_equal (gdk_texture_get_height (texture), gtk_widget_get_height (GTK_WIDGET (window)));
  /* Not one flat colour: the map, the list and the panes are in it. */
  int width = gdk_texture_get_width (texture), height = gdk_texture_get_height (texture);
  g_autofree guint32 *pixels = g_new (guint32, (gsize) width * height);
  gdk_texture_download (texture, (guint8 *) pixels, (gsize) width * 4);
  g_autoptr (GHashTable) colours = g_hash_table_new (NULL, NULL);
  for (gsize i = 0; i < (gsize) width * height && g_hash_table_size (colours) < 64; i += 7)
    g_hash_table_add (colours, GUINT_TO_POINTER (pixels[i]));
  assert_true (g_hash_table_size (colours) >= 64);

  g_unlink (png);
  g_rmdir (dir);
  close_window (window);
}

static void
test_screenshot_to_a_missing_folder_fails_with_the_reason (void **state)
{
  g_autoptr (GError) error = NULL;
  MsimWindow *window = open_window (FIRST_EMAIL);

  assert_false (save_and_wait (window, "/nonexistent-folder/shot.png", &error));
  assert_true (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT));
  assert_non_null (strstr (error->message, "cannot write the screenshot"));
  close_window (window);
}

int
main (int argc, char **argv)
{
  g_autoptr (GArray) tests = g_array_new (FALSE, TRUE, sizeof (struct CMUnitTest));
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (!gtk_init_check ())
    {
      g_print ("SKIP: test-gui-library needs a display; run it under xvfb-run -a\n");
      return EXIT_SKIP;
    }
  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *base = g_path_get_basename (argv[i]);
      char *name = g_strdup_printf ("playing_to_the_end_lists_every_event_of_the_cli_run:%s", base);
      struct CMUnitTest test = cmocka_unit_test_prestate (test_playing_to_the_end_lists_every_event_of_the_cli_run, argv[i]);

      test.name = name;
      g_ptr_array_add (names, name);
      g_array_append_val (tests, test);
    }
  const struct CMUnitTest screenshot_tests[] = {
    cmocka_unit_test (test_screenshot_writes_the_whole_window_as_a_png),
    cmocka_unit_test (test_screenshot_to_a_missing_folder_fails_with_the_reason),
  };
  g_array_append_vals (tests, screenshot_tests, G_N_ELEMENTS (screenshot_tests));
  return _cmocka_run_group_tests ("gui-library", (const struct CMUnitTest *) tests->data, tests->len, NULL, NULL);
}
