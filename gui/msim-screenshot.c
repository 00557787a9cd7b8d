/* msim-screenshot.c: a window rendered to a PNG file by GTK itself.
 *
 * The widget's paintable gives its current render nodes; the renderer of
 * its window (GSK_RENDERER=cairo under xvfb-run) turns them into a texture,
 * which GDK encodes as PNG.  Waiting for frames matters: a window presented
 * a moment ago has no size until the frame clock's layout phase, and some
 * panes (the event list scrolling to its selection) settle a frame later.
 */
#include "msim-screenshot.h"

/* Give up when the frame clock does not run, rather than hang a script. */
#define SCREENSHOT_TIMEOUT_SECONDS 20

GdkTexture *
msim_screenshot_render (GtkWidget *widget, GError **error)
{
  GtkNative *native = gtk_widget_get_native (widget);
  GskRenderer *renderer = native != NULL ? gtk_native_get_renderer (native) : NULL;
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);

  if (renderer == NULL || !gtk_widget_get_mapped (widget) || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   "the window is not on screen yet (no renderer or no size), so there is nothing to render");
      return NULL;
    }
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GdkPaintable) image = gdk_paintable_get_current_image (paintable);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (image, snapshot, width, height);
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
      return NULL;
    }
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

gboolean
msim_screenshot_save (GtkWidget *widget, const char *path, GError **error)
{
  g_autoptr (GdkTexture) texture = msim_screenshot_render (widget, error);

  if (texture == NULL)
    return FALSE;
  g_autoptr (GBytes) png = gdk_texture_save_to_png_bytes (texture);
  g_autoptr (GError) local_error = NULL;
  if (!g_file_set_contents (path, g_bytes_get_data (png, NULL), (gssize) g_bytes_get_size (png), &local_error))
    {
      g_set_error (error, G_FILE_ERROR, local_error->code, "cannot write the screenshot: %s", local_error->message);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  GtkWidget *widget;
  char *path;
  guint frames_left;
  guint tick_id;
  guint timeout_id;
} Capture;

static void
capture_free (Capture *capture)
{
  g_object_unref (capture->widget);
  g_free (capture->path);
  g_free (capture);
}

/* Stops waiting and returns @error (taken), or success when NULL.  The
 * task's one reference belongs to the wait, so this drops it. */
static void
capture_finish (GTask *task, GError *error)
{
  Capture *capture = g_task_get_task_data (task);

  if (capture->tick_id != 0)
    gtk_widget_remove_tick_callback (capture->widget, capture->tick_id);
  capture->tick_id = 0;
  g_clear_handle_id (&capture->timeout_id, g_source_remove);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_frame (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  GTask *task = user_data;
  Capture *capture = g_task_get_task_data (task);
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      capture_finish (task, error);
      return G_SOURCE_REMOVE;
    }
  /* Count only frames that follow a layout with a real size: the tick of
   * the first frame comes before the window has one. */
  if (gtk_widget_get_width (widget) > 0 && capture->frames_left > 0)
    capture->frames_left--;
  if (capture->frames_left > 0)
    {
      gtk_widget_queue_draw (widget);
      return G_SOURCE_CONTINUE;
    }
  msim_screenshot_save (widget, capture->path, &error);
  capture_finish (task, error);
  return G_SOURCE_REMOVE;
}

static gboolean
on_timeout (gpointer user_data)
{
  GTask *task = user_data;
  Capture *capture = g_task_get_task_data (task);

  capture->timeout_id = 0;
  capture_finish (task, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                     "the window was not drawn within %d s; is there a display (run under xvfb-run -a)?",
                                     SCREENSHOT_TIMEOUT_SECONDS));
  return G_SOURCE_REMOVE;
}

void
msim_screenshot_save_async (GtkWidget *widget, const char *path, guint n_frames, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (widget, cancellable, callback, user_data);
  Capture *capture = g_new0 (Capture, 1);

  g_task_set_source_tag (task, msim_screenshot_save_async);
  capture->widget = g_object_ref (widget);
  capture->path = g_strdup (path);
  capture->frames_left = MAX (n_frames, 1);
  g_task_set_task_data (task, capture, (GDestroyNotify) capture_free);
  capture->tick_id = gtk_widget_add_tick_callback (widget, on_frame, task, NULL);
  capture->timeout_id = g_timeout_add_seconds (SCREENSHOT_TIMEOUT_SECONDS, on_timeout, task);
  gtk_widget_queue_draw (widget);
}

gboolean
msim_screenshot_save_finish (GtkWidget *widget, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, widget), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
