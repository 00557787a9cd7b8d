/* bench-gui-frames: frame times of mailsim-gtk with many messages in flight.
 *
 *   GSK_RENDERER=cairo xvfb-run -a -s '-screen 0 1600x1000x24' \
 *     bench-gui-frames [SECONDS] [MESSAGES]
 *
 * The scenario is first-email with MESSAGES (200) more sends from Alice at
 * the same instant, 2m, and a 5 s link between her laptop and her
 * provider: for five simulated seconds MESSAGES connection attempts are on
 * that link together, each a token with its label on the map.  The window
 * (1500x940) plays that stretch at 1x for SECONDS (3) of wall time, and
 * two figures are taken:
 *
 * - per frame, on the window's frame clock: the interval between frame
 *   times (gdk_frame_clock_get_frame_time), and the work of the frame, from
 *   the clock's before-paint signal to its after-paint signal (the tick
 *   that moves the time, layout, snapshot and rendering);
 * - the map's draw function alone (msim_map_view_draw), the same number of
 *   times at the same instants, into a cairo image surface of the map's
 *   size.
 *
 * Each is reported as median and 95th percentile in milliseconds.  Only
 * bench/ reads the wall clock. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "msim-window.h"

#define BULK_AT "2m"
#define BULK_AT_TIME (120 * SIM_TIME_SECOND)
/* Less than the 5 s the connection attempts travel, so they all stay on
 * the map while the bench plays. */
#define SLOW_LINK "latency 5s"

typedef struct
{
  MsimWindow *window;
  gint64 end_time;         /* monotonic time to stop at */
  gint64 paint_started;    /* monotonic time of the last before-paint */
  gint64 last_frame_time;  /* frame clock time of the previous frame */
  GArray *intervals;       /* gint64 µs between frame times */
  GArray *work;            /* gint64 µs from before-paint to after-paint */
  GArray *instants;        /* SimTime of each frame, for the draw replay */
  guint min_in_flight, max_in_flight;
  gboolean done;
} Bench;

static int
compare_times (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static void
report (const char *what, GArray *samples)
{
  if (samples->len == 0)
    {
      printf ("%-44s no samples\n", what);
      return;
    }
  g_array_sort (samples, compare_times);
  gint64 median = g_array_index (samples, gint64, samples->len / 2);
  gint64 p95 = g_array_index (samples, gint64, MIN (samples->len - 1, samples->len * 95 / 100));
  gint64 worst = g_array_index (samples, gint64, samples->len - 1);
  printf ("%-44s median %7.2f ms   p95 %7.2f ms   max %7.2f ms   (%u frames)\n", what, median / 1000.0,
          p95 / 1000.0, worst / 1000.0, samples->len);
}

/* first-email, a slow first link, and @messages sends at the same instant. */
static char *
make_scenario (const char *first_email, guint messages, GError **error)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (first_email, &text, NULL, error))
    return NULL;
  g_autoptr (GString) scenario = g_string_new (text);
  if (g_string_replace (scenario, "link laptop.example.com smtp.example.com latency 20ms",
                        "link laptop.example.com smtp.example.com " SLOW_LINK, 1) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: the laptop's link is no longer 20ms", first_email);
      return NULL;
    }
  g_string_append (scenario, "\ntimeline {\n");
  for (guint i = 0; i < messages; i++)
    g_string_append_printf (scenario, "  at " BULK_AT " send alice@example.com to bob@example.org subject \"Bulk %u\"\n", i);
  g_string_append (scenario, "}\n");
  return g_string_free (g_steal_pointer (&scenario), FALSE);
}

static void
on_before_paint (GdkFrameClock *clock, gpointer user_data)
{
  Bench *bench = user_data;
  bench->paint_started = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock, gpointer user_data)
{
  Bench *bench = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 frame_time = gdk_frame_clock_get_frame_time (clock);
  MsimMapView *map = msim_window_get_map_view (bench->window);
  guint in_flight = msim_map_view_count_in_flight (map);
  SimTime time = msim_window_get_time (bench->window);

  if (bench->done || bench->paint_started == 0)
    return;
  if (bench->last_frame_time != 0)
    {
      gint64 interval = frame_time - bench->last_frame_time;
      gint64 work = now - bench->paint_started;
      g_array_append_val (bench->intervals, interval);
      g_array_append_val (bench->work, work);
      g_array_append_val (bench->instants, time);
      bench->min_in_flight = MIN (bench->min_in_flight, in_flight);
      bench->max_in_flight = MAX (bench->max_in_flight, in_flight);
    }
  bench->last_frame_time = frame_time;
  if (now >= bench->end_time)
    bench->done = TRUE;
}

int
main (int argc, char **argv)
{
  guint64 seconds = 3, messages = 200;
  g_autoptr (GError) error = NULL;

  if ((argc > 1 && !g_ascii_string_to_unsigned (argv[1], 10, 1, 60, &seconds, NULL))
      || (argc > 2 && !g_ascii_string_to_unsigned (argv[2], 10, 1, 5000, &messages, NULL)) || argc > 3)
    {
      fprintf (stderr, "usage: bench-gui-frames [SECONDS] [MESSAGES]\n");
      return 2;
    }
  if (!gtk_init_check ())
    {
      fprintf (stderr, "bench-gui-frames: no display; run it under xvfb-run -a\n");
      return 1;
    }
  g_autofree char *text = make_scenario (MAILSIM_SOURCE_ROOT "/scenarios/first-email.mailsim", (guint) messages, &error);
  g_autofree char *path = NULL;
  int fd = text != NULL ? g_file_open_tmp ("bench-gui-frames-XXXXXX.mailsim", &path, &error) : -1;
  if (fd < 0 || !g_file_set_contents (path, text, -1, &error))
    {
      fprintf (stderr, "bench-gui-frames: %s\n", error->message);
      return 1;
    }
  close (fd);

  MsimWindow *window = msim_window_new (NULL);
  g_object_ref_sink (window);
  gboolean opened = msim_window_open (window, path, &error);
  g_unlink (path);
  if (!opened)
    {
      fprintf (stderr, "bench-gui-frames: %s\n", error->message);
      return 1;
    }
  gtk_window_present (GTK_WINDOW (window));
  /* Let it lay out and draw once before anything is timed. */
  for (int i = 0; i < 20; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }

  Bench bench = {
    .window = window,
    .intervals = g_array_new (FALSE, FALSE, sizeof (gint64)),
    .work = g_array_new (FALSE, FALSE, sizeof (gint64)),
    .instants = g_array_new (FALSE, FALSE, sizeof (SimTime)),
    .min_in_flight = G_MAXUINT,
  };
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), &bench);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &bench);

  /* Just after the sends: every connection attempt is on its way. */
  msim_window_go_to_time (window, BULK_AT_TIME + 10 * SIM_TIME_MSEC);
  msim_window_set_speed (window, 1.0);
  bench.end_time = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  gtk_widget_activate_action (GTK_WIDGET (window), "win.play", NULL);
  while (!bench.done)
    g_main_context_iteration (NULL, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.play", NULL);
  g_signal_handlers_disconnect_by_data (clock, &bench);

  MsimMapView *map = msim_window_get_map_view (window);
  int width = gtk_widget_get_width (GTK_WIDGET (map)), height = gtk_widget_get_height (GTK_WIDGET (map));
  printf ("bench-gui-frames: %" G_GUINT64_FORMAT " messages sent at " BULK_AT ", %" G_GUINT64_FORMAT
          " s played at 1x, window %dx%d, map %dx%d, renderer %s\n", messages, seconds,
          gtk_widget_get_width (GTK_WIDGET (window)), gtk_widget_get_height (GTK_WIDGET (window)), width, height,
          G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))));
  printf ("tokens in flight while measured: %u to %u\n", bench.min_in_flight, bench.max_in_flight);
  report ("frame interval (frame clock)", bench.intervals);
  report ("frame work (before-paint to after-paint)", bench.work);

  /* The map's drawing alone, at the same instants. */
  g_autoptr (GArray) draws = g_array_new (FALSE, FALSE, sizeof (gint64));
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  for (guint i = 0; i < bench.instants->len; i++)
    {
      msim_window_go_to_time (window, g_array_index (bench.instants, SimTime, i));
      cairo_t *cr = cairo_create (surface);
      gint64 start = g_get_monotonic_time ();
      msim_map_view_draw (map, cr, width, height, TRUE);
      cairo_surface_flush (surface);
      gint64 took = g_get_monotonic_time () - start;
      cairo_destroy (cr);
      g_array_append_val (draws, took);
    }
  cairo_surface_destroy (surface);
  report ("map draw alone (msim_map_view_draw, image)", draws);

  g_array_unref (bench.intervals);
  g_array_unref (bench.work);
  g_array_unref (bench.instants);
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
  return 0;
}
