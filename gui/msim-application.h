/* msim-application.h: mailsim-gtk, the GtkApplication.
 *
 * Actions: app.open (a file chooser), app.open-path(s), app.choose-scenario
 * (the classroom library), app.about, app.quit.  `mailsim-gtk FILE` opens
 * FILE; without one, the library chooser opens.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MSIM_APPLICATION_ID "org.mailsim.Mailsim"

#define MSIM_TYPE_APPLICATION (msim_application_get_type ())
G_DECLARE_FINAL_TYPE (MsimApplication, msim_application, MSIM, APPLICATION, GtkApplication)

MsimApplication *msim_application_new (void);

G_END_DECLS
