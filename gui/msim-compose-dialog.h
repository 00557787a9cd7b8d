/* msim-compose-dialog.h: write an email from a client at the current time.
 *
 * The intervention "send FROM to A,B subject S body B" from the map: the
 * sender is one of the device's accounts.  Sending re-runs the scenario
 * with the message (msim_window_intervene); what the scenario loader
 * refuses (a malformed address) leaves the dialog open with its message.
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-window.h"

G_BEGIN_DECLS

#define MSIM_TYPE_COMPOSE_DIALOG (msim_compose_dialog_get_type ())
G_DECLARE_FINAL_TYPE (MsimComposeDialog, msim_compose_dialog, MSIM, COMPOSE_DIALOG, GtkWindow)

/* A dialog for the client @node of @window's run, at its current time. */
MsimComposeDialog *msim_compose_dialog_new (MsimWindow *window, const char *node);

/* Fills the form and sends, as a click on Send does; for tests.  @from
 * NULL keeps the selected account.  Returns whether the message was
 * accepted (and the dialog closed). */
gboolean msim_compose_dialog_send (MsimComposeDialog *self, const char *from, const char *to, const char *subject,
                                   const char *body);
/* The error shown, or NULL. */
const char *msim_compose_dialog_get_error (MsimComposeDialog *self);

G_END_DECLS
