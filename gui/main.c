/* mailsim-gtk: watch an email travel, step by step.
 *
 *   mailsim-gtk [SCENARIO]
 */
#include "msim-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (MsimApplication) application = msim_application_new ();

  g_set_application_name ("mailsim");
  return g_application_run (G_APPLICATION (application), argc, argv);
}
