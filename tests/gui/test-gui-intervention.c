/* tests/gui/test-gui-intervention.c: changing what happens in mailsim-gtk.
 *
 * Interventions from the map (a link taken down, a DNS record edited, an
 * email written) re-run first-email from zero with one timeline entry
 * added at the current time.  Runs under a display (xvfb-run -a).  With
 * MAILSIM_GUI_SCREENSHOT=FILE.png set, the right-click test also captures
 * the screen with xwd and ImageMagick's convert, for the student guide
 * (docs/screenshots/mailsim-gtk-intervention.png):
 *   MAILSIM_GUI_SCREENSHOT=$PWD/shot.png xvfb-run -a -s '-screen 0 1600x1000x24' \
 *     tests/gui/test-gui-intervention
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "msim-compose-dialog.h"
#include "msim-dns-record-dialog.h"
#include "msim-intervention.h"
#include "msim-window.h"

#define FIRST_EMAIL MAILSIM_SOURCE_ROOT "/scenarios/first-email.mailsim"
#define AT_1_2_S (1200 * SIM_TIME_MSEC)

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

/* The first event of @run explained by @explain at @time, or NULL. */
static const SimEvent *
find_event (MsimRun *run, const char *explain, SimTime time)
{
  for (guint i = 0; i < msim_run_get_n_events (run); i++)
    {
      const SimEvent *event = msim_run_get_event (run, i);
      if (event->time == time && g_strcmp0 (event->explain, explain) == 0)
        return event;
    }
  return NULL;
}

/* The EXPECT event of the first expectation starting with @kind: the one
 * whose "FILE:LINE" is that line of the scenario's text. */
static const SimEvent *
find_expectation (MsimRun *run, const char *kind)
{
  g_auto (GStrv) lines = g_strsplit (msim_run_get_text (run), "\n", -1);
  g_autofree char *where = NULL;

  for (guint line = 0; lines[line] != NULL && where == NULL; line++)
    if (g_str_has_prefix (g_strchug (lines[line]), kind))
      where = g_strdup_printf ("%s:%u", msim_run_get_path (run), line + 1);
  for (guint i = 0; where != NULL && i < msim_run_get_n_events (run); i++)
    {
      const SimEvent *event = msim_run_get_event (run, i);
      if (event->kind == SIM_EVENT_EXPECT && g_strcmp0 (event->message, where) == 0)
        return event;
    }
  return NULL;
}

static void
test_taking_the_only_internet_link_down_fails_delivery_and_undo_restores (void **state)
{
  MsimWindow *window = *state;
  MsimRun *original = msim_window_get_run (window);
  guint original_events = msim_run_get_n_events (original);

  assert_int_equal (msim_run_get_verdict (original).failed, 0);
  assert_string_equal (find_expectation (original, "delivered ")->status, "pass");
  msim_window_go_to_time (window, AT_1_2_S);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.link-down", "(ss)", "smtp.example.com", "internet");

  MsimRun *changed = msim_window_get_run (window);
  assert_ptr_not_equal (changed, original);
  assert_int_equal (msim_window_get_n_interventions (window), 1);
  assert_true (msim_window_get_time (window) == AT_1_2_S);
  assert_true (msim_run_get_verdict (changed).failed >= 1);
  const SimEvent *delivered = find_expectation (changed, "delivered ");
  assert_non_null (delivered);
  assert_string_equal (delivered->status, "fail");
  const SimEvent *down = find_event (changed, "action.fault", AT_1_2_S);
  assert_non_null (down);
  assert_string_equal (down->status, "link-down");
  /* The view stands at the intervention: on the last event by 1.2 s. */
  assert_true (msim_run_get_event (changed, msim_window_get_current_event (window))->time == AT_1_2_S);
  assert_true (msim_run_get_event (changed, msim_window_get_current_event (window))->seq >= down->seq);
  assert_false (msim_run_link_is_up_at (changed, "smtp.example.com", "internet", AT_1_2_S));
  assert_non_null (msim_window_get_note (window));
  assert_non_null (strstr (msim_window_get_note (window), "Link smtp.example.com \u2013 internet taken down at 1.2s"));
  assert_non_null (strstr (msim_window_get_note (window), "replayed from the start"));
  assert_non_null (strstr (gtk_window_get_title (GTK_WINDOW (window)), "The first email"));

  gtk_widget_activate_action (GTK_WIDGET (window), "win.undo-intervention", NULL);
  MsimRun *restored = msim_window_get_run (window);
  assert_int_equal (msim_window_get_n_interventions (window), 0);
  assert_int_equal (msim_run_get_verdict (restored).failed, 0);
  assert_int_equal (msim_run_get_n_events (restored), original_events);
  assert_true (msim_window_get_time (window) == AT_1_2_S);
  assert_non_null (strstr (msim_window_get_note (window), "Undone: "));
}

static void
test_save_as_writes_a_scenario_that_replays_the_same_trace (void **state)
{
  MsimWindow *window = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mailsim-gui-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "changed.mailsim", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *text = NULL;

  msim_window_go_to_time (window, AT_1_2_S);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.link-down", "(ss)", "smtp.example.com", "internet");
  assert_true (msim_window_save_to (window, file, &error));
  assert_null (error);
  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  assert_non_null (strstr (text, MSIM_INTERVENTION_COMMENT));
  assert_non_null (strstr (text, "timeline {\n  at 1.2s link-down smtp.example.com internet\n}\n"));

  g_autoptr (Scenario) scenario = scenario_load (path, &error);
  assert_non_null (scenario);
  g_autoptr (SimWorld) world = scenario_build (scenario, scenario_get_seed (scenario), &error);
  assert_non_null (world);
  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  ScenarioVerdict verdict = scenario_run (scenario, world);
  MsimRun *shown = msim_window_get_run (window);
  assert_int_equal (sim_trace_count (sim_world_get_trace (world)), msim_run_get_n_events (shown));
  assert_int_equal (verdict.failed, msim_run_get_verdict (shown).failed);
  assert_int_equal (verdict.passed, msim_run_get_verdict (shown).passed);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_composing_an_email_adds_a_send_at_the_current_time (void **state)
{
  MsimWindow *window = *state;
  static const char subject[] = "Quotes \" and a back\\slash";
  SimTime at = 2 * SIM_TIME_SECOND;

  msim_window_go_to_time (window, at);
  g_autoptr (MsimComposeDialog) dialog = g_object_ref_sink (msim_compose_dialog_new (window, "laptop.example.com"));
  assert_true (msim_compose_dialog_send (dialog, "alice@example.com", "bob@example.org", subject,
                                         "Line one\nLine two\twith a tab"));

  MsimRun *run = msim_window_get_run (window);
  const SimEvent *send = find_event (run, "action.send", at);
  assert_non_null (send);
  assert_string_equal (send->from, "laptop.example.com");
  assert_non_null (strstr (send->text, subject));
  assert_true (msim_window_get_time (window) == at);
  assert_int_equal (msim_window_get_n_interventions (window), 1);
  g_autofree char *text = msim_window_get_scenario_text (window);
  assert_non_null (strstr (text, "at 2s send alice@example.com to bob@example.org subject \"Quotes \\\" and a back\\\\slash\" "
                                 "body \"Line one\\nLine two\\twith a tab\""));
}

static void
test_a_refused_address_keeps_the_compose_dialog_open (void **state)
{
  MsimWindow *window = *state;
  MsimRun *before = msim_window_get_run (window);
  g_autoptr (MsimComposeDialog) dialog = g_object_ref_sink (msim_compose_dialog_new (window, "laptop.example.com"));

  assert_false (msim_compose_dialog_send (dialog, NULL, "bob-at-example.org", "Hi", ""));
  assert_non_null (strstr (msim_compose_dialog_get_error (dialog), "first-email.mailsim:"));
  assert_non_null (strstr (msim_compose_dialog_get_error (dialog), "is not an email address"));
  assert_ptr_equal (msim_window_get_run (window), before);
  assert_int_equal (msim_window_get_n_interventions (window), 0);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_a_malformed_dns_record_is_refused_with_its_position_then_a_good_one_applies (void **state)
{
  MsimWindow *window = *state;
  MsimRun *before = msim_window_get_run (window);

  msim_window_go_to_time (window, AT_1_2_S);
  g_autoptr (MsimDnsRecordDialog) dialog = g_object_ref_sink (msim_dns_record_dialog_new (window, "ns.example.org"));
  assert_false (msim_dns_record_dialog_apply (dialog, "example.org.", "mx 3600 A not-an-address"));
  const char *error = msim_dns_record_dialog_get_error (dialog);
  assert_non_null (error);
  /* FILE:LINE:COLUMN, pointing into the appended block. */
  g_autoptr (GRegex) position = g_regex_new ("first-email\\.mailsim:[0-9]+:[0-9]+: ", 0, 0, NULL);
  assert_true (g_regex_match (position, error, 0, NULL));
  assert_ptr_equal (msim_window_get_run (window), before);
  assert_int_equal (msim_window_get_n_interventions (window), 0);

  assert_true (msim_dns_record_dialog_apply (dialog, "example.org.", "mx 3600 A 203.0.113.99"));
  assert_int_equal (msim_window_get_n_interventions (window), 1);
  const SimEvent *change = find_event (msim_window_get_run (window), "action.dns-change", AT_1_2_S);
  assert_non_null (change);
  assert_string_equal (change->from, "ns.example.org");
  assert_true (msim_window_get_time (window) == AT_1_2_S);
}

static void
test_quote_uses_the_scenario_escapes (void **state)
{
  g_autofree char *quoted = msim_intervention_quote ("say \"hi\"\\\nnext\tline\r");

  assert_string_equal (quoted, "\"say \\\"hi\\\"\\\\\\nnext\\tline\"");
}

static void
test_intervention_blocks_follow_the_text_in_order (void **state)
{
  g_autoptr (GPtrArray) interventions = g_ptr_array_new_with_free_func ((GDestroyNotify) msim_intervention_free);
  g_autofree char *unchanged = msim_intervention_apply ("title \"T\"", interventions);

  assert_string_equal (unchanged, "title \"T\"");
  g_ptr_array_add (interventions, msim_intervention_new_node ("mx.example.org", FALSE, 1290 * SIM_TIME_MSEC));
  g_ptr_array_add (interventions, msim_intervention_new_node ("mx.example.org", TRUE, 90 * SIM_TIME_SECOND + 1));
  g_autofree char *text = msim_intervention_apply ("title \"T\" # no newline", interventions);
  assert_string_equal (text, "title \"T\" # no newline\n\n" MSIM_INTERVENTION_COMMENT "\n"
                             "timeline {\n  at 1.29s node-down mx.example.org\n}\n"
                             "timeline {\n  at 90.000001s node-up mx.example.org\n}\n");
}

/* The middle of where @want is drawn on the map: a node, or the link
 * @a - @b. */
static gboolean
find_on_map (MsimMapView *map, MsimMapPick want, const char *a, const char *b, double *x, double *y)
{
  int width = gtk_widget_get_width (GTK_WIDGET (map)), height = gtk_widget_get_height (GTK_WIDGET (map));
  double sum_x = 0, sum_y = 0;
  guint found = 0;

  for (int py = 0; py < height; py += 6)
    for (int px = 0; px < width; px += 6)
      {
        const char *pa, *pb;
        if (msim_map_view_pick (map, px, py, width, height, &pa, &pb) != want || g_strcmp0 (pa, a) != 0
            || g_strcmp0 (pb, b) != 0)
          continue;
        sum_x += px;
        sum_y += py;
        found++;
      }
  if (found == 0)
    return FALSE;
  *x = sum_x / found;
  *y = sum_y / found;
  return TRUE;
}

/* The menu's item @index of its one section activates @action with @target. */
static void
assert_menu_offers (MsimMapView *map, int index, const char *action, const char *target)
{
  GMenuModel *menu = gtk_popover_menu_get_menu_model (msim_map_view_get_menu (map));
  g_autoptr (GMenuModel) section = g_menu_model_get_item_link (menu, 0, G_MENU_LINK_SECTION);
  g_autofree char *item_action = NULL;

  assert_non_null (section);
  assert_true (index < g_menu_model_get_n_items (section));
  assert_true (g_menu_model_get_item_attribute (section, index, G_MENU_ATTRIBUTE_ACTION, "s", &item_action));
  assert_string_equal (item_action, action);
  g_autoptr (GVariant) item_target = g_menu_model_get_item_attribute_value (section, index, G_MENU_ATTRIBUTE_TARGET, NULL);
  g_autofree char *printed = g_variant_print (item_target, FALSE);
  assert_string_equal (printed, target);
}

/* Xvfb's root window does not hold what is drawn in windows the Composite
 * extension redirects (a popover, drawn with an alpha channel), so the
 * capture lays each unnamed top-level window (a popover; GTK's 1x1
 * helper windows aside) over the root's
 * image, bottom to top.  xwd drops alpha: the popover's transparent
 * margin comes out pure black; flooding it from a corner leaves it out. */
static const char capture_script[] =
  "out=\"$1\"; xwd -root -silent | convert xwd:- \"$out\" || exit 1\n"
  "for window in $(xwininfo -root -children | awk '/^ +0x.*has no name/ && !/ 1x1[+]/ { print $1 }' | tac); do\n"
  "  at=$(xwininfo -id $window | awk '/Absolute upper-left X/ { x = $4 } /Absolute upper-left Y/ { y = $4 }"
  " END { printf \"%+d%+d\", x, y }')\n"
  "  xwd -id $window -silent | convert \"$out\" \\( xwd:- -alpha set -fill none -draw 'color 0,0 floodfill' \\) -geometry $at -composite \"$out\" || exit 1\n"
  "done\n";

static void
capture_screen (const char *png)
{
  const char *argv[] = { "sh", "-c", capture_script, "capture", png, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;

  /* Let the popover map and draw. */
  for (int i = 0; i < 40; i++)
    {
      process_pending ();
      g_usleep (25000);
    }
  assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error));
  assert_true (g_spawn_check_wait_status (status, NULL));
}

/* The first MAIL event of @run with @status, or NULL. */
static const SimEvent *
find_mail_status (MsimRun *run, const char *status)
{
  for (guint i = 0; i < msim_run_get_n_events (run); i++)
    {
      const SimEvent *event = msim_run_get_event (run, i);
      if (event->kind == SIM_EVENT_MAIL && g_strcmp0 (event->status, status) == 0)
        return event;
    }
  return NULL;
}

static void
test_right_click_on_a_link_and_a_node_opens_their_menus (void **state)
{
  MsimWindow *window = *state;
  MsimMapView *map = msim_window_get_map_view (window);
  const char *screenshot = g_getenv ("MAILSIM_GUI_SCREENSHOT");
  double x, y;

  msim_window_go_to_time (window, 1290 * SIM_TIME_MSEC);
  process_pending ();
  assert_true (gtk_widget_get_width (GTK_WIDGET (map)) > 0);
  assert_true (find_on_map (map, MSIM_MAP_PICK_NODE, "laptop.example.com", NULL, &x, &y));
  assert_true (msim_map_view_popup_menu_at (map, x, y));
  assert_menu_offers (map, 0, "win.node-down", "'laptop.example.com'");
  assert_menu_offers (map, 1, "win.compose-email", "'laptop.example.com'");
  assert_true (find_on_map (map, MSIM_MAP_PICK_NODE, "ns.example.org", NULL, &x, &y));
  assert_true (msim_map_view_popup_menu_at (map, x, y));
  assert_menu_offers (map, 1, "win.edit-dns-record", "'ns.example.org'");
  assert_true (find_on_map (map, MSIM_MAP_PICK_LINK, "smtp.example.com", "internet", &x, &y));
  assert_true (msim_map_view_popup_menu_at (map, x, y));
  assert_menu_offers (map, 0, "win.link-down", "('smtp.example.com', 'internet')");
  process_pending ();
  assert_true (gtk_widget_get_visible (GTK_WIDGET (msim_map_view_get_menu (map))));

  /* What the item does; then, once the message waits in the queue, the
   * same link offers to come back up. */
  gtk_popover_popdown (GTK_POPOVER (msim_map_view_get_menu (map)));
  gtk_widget_activate_action (GTK_WIDGET (map), "win.link-down", "(ss)", "smtp.example.com", "internet");
  assert_int_equal (msim_window_get_n_interventions (window), 1);
  const SimEvent *deferred = find_mail_status (msim_window_get_run (window), "deferred");
  assert_non_null (deferred);
  msim_window_go_to_time (window, deferred->time);
  process_pending ();
  assert_true (find_on_map (map, MSIM_MAP_PICK_LINK, "smtp.example.com", "internet", &x, &y));
  assert_true (msim_map_view_popup_menu_at (map, x, y));
  assert_menu_offers (map, 0, "win.link-up", "('smtp.example.com', 'internet')");
  if (screenshot != NULL)
    capture_screen (screenshot);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_taking_the_only_internet_link_down_fails_delivery_and_undo_restores, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_save_as_writes_a_scenario_that_replays_the_same_trace, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_composing_an_email_adds_a_send_at_the_current_time, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_a_refused_address_keeps_the_compose_dialog_open, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_a_malformed_dns_record_is_refused_with_its_position_then_a_good_one_applies, open_window, close_window),
    cmocka_unit_test_setup_teardown (test_right_click_on_a_link_and_a_node_opens_their_menus, open_window, close_window),
    cmocka_unit_test (test_quote_uses_the_scenario_escapes),
    cmocka_unit_test (test_intervention_blocks_follow_the_text_in_order),
  };

  gtk_init ();
  return cmocka_run_group_tests_name ("gui-intervention", tests, NULL, NULL);
}
