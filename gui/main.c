/* mailsim-gtk: watch an email travel, step by step.
 *
 *   mailsim-gtk [--at TIME] [SCENARIO]
 *   mailsim-gtk SCENARIO [--at TIME] --screenshot FILE.png
 */
#include "msim-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (MsimApplication) application = msim_application_new ();

  g_set_application_name ("mailsim");
  int status = g_application_run (G_APPLICATION (application), argc, argv);

  return status != 0 ? status : msim_application_get_exit_status (application);
}
