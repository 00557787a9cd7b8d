/* msim-screenshot.h: a window rendered to a PNG file by GTK itself.
 *
 * `mailsim-gtk --screenshot FILE.png` and the GUI tests use it.  The
 * window is drawn through its own GSK renderer from the widget tree's
 * render nodes, not grabbed from the screen, so the picture is the same
 * under any X server (xvfb-run) and holds only the window.  Popovers are
 * separate surfaces and are not in it.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* (transfer full) @widget as it looks now, at its allocated size, rendered
 * by the renderer of its window.  @widget must be realized with a size. */
GdkTexture *msim_screenshot_render (GtkWidget *widget, GError **error);

/* Renders @widget (msim_screenshot_render()) and writes it to @path as a PNG. */
gboolean msim_screenshot_save (GtkWidget *widget, const char *path, GError **error);

/* Waits until @widget has been laid out and drawn on @n_frames frames of its
 * frame clock, then saves it to @path.  @widget must be shown. */
void msim_screenshot_save_async (GtkWidget *widget, const char *path, guint n_frames, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean msim_screenshot_save_finish (GtkWidget *widget, GAsyncResult *result, GError **error);

G_END_DECLS
