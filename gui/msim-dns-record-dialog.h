/* msim-dns-record-dialog.h: change a DNS record at the current time.
 *
 * The intervention "dns-set NODE ZONE RECORD" from the map: the student
 * picks a name server and one of its zones, reads its records as the
 * scenario declares them, and types a record.  Applying re-runs the
 * scenario with it (msim_window_intervene); a record the scenario loader
 * refuses leaves the dialog open with the loader's FILE:LINE:COLUMN
 * message.
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-window.h"

G_BEGIN_DECLS

#define MSIM_TYPE_DNS_RECORD_DIALOG (msim_dns_record_dialog_get_type ())
G_DECLARE_FINAL_TYPE (MsimDnsRecordDialog, msim_dns_record_dialog, MSIM, DNS_RECORD_DIALOG, GtkWindow)

/* A dialog for @window's run at its current time, @node selected. */
MsimDnsRecordDialog *msim_dns_record_dialog_new (MsimWindow *window, const char *node);

/* Fills the form and applies it, as a click on Apply does; for tests.
 * Returns whether the dialog accepted the record (and closed). */
gboolean msim_dns_record_dialog_apply (MsimDnsRecordDialog *self, const char *zone, const char *record);
/* The error shown, or NULL. */
const char *msim_dns_record_dialog_get_error (MsimDnsRecordDialog *self);

G_END_DECLS
