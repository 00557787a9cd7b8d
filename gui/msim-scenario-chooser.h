/* msim-scenario-chooser.h: the classroom library, one row per scenario.
 *
 * Lists the *.mailsim files of the scenario folder with their title and
 * description; activating a row activates app.open-path with its path.
 * The folder is $MAILSIM_SCENARIO_DIR, else the installed library, else
 * the source tree's scenarios/ (running from a build directory).
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MSIM_TYPE_SCENARIO_CHOOSER (msim_scenario_chooser_get_type ())
G_DECLARE_FINAL_TYPE (MsimScenarioChooser, msim_scenario_chooser, MSIM, SCENARIO_CHOOSER, GtkWindow)

MsimScenarioChooser *msim_scenario_chooser_new (GtkWindow *parent);

/* (transfer full) The folder of the scenario library, or NULL. */
char *msim_scenario_library_dir (void);
/* (transfer full) The library's scenario files, sorted by name. */
GPtrArray *msim_scenario_library_list (const char *dir);

G_END_DECLS
