/* msim-application.h: mailsim-gtk, the GtkApplication.
 *
 * Actions: app.open (a file chooser), app.open-path(s), app.choose-scenario
 * (the classroom library), app.about, app.quit.  `mailsim-gtk FILE` opens
 * FILE; without one, the library chooser opens.
 *
 *   mailsim-gtk SCENARIO --at TIME --screenshot FILE.png
 *
 * renders the window at TIME to FILE.png (msim-screenshot.h) and quits;
 * for documentation pictures under xvfb-run.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MSIM_APPLICATION_ID "org.mailsim.Mailsim"

#define MSIM_TYPE_APPLICATION (msim_application_get_type ())
G_DECLARE_FINAL_TYPE (MsimApplication, msim_application, MSIM, APPLICATION, GtkApplication)

MsimApplication *msim_application_new (void);
/* Non-zero when --screenshot failed (after g_application_run() returns). */
int msim_application_get_exit_status (MsimApplication *self);

G_END_DECLS
