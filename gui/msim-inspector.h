/* msim-inspector.h: what the current event's bytes mean.
 *
 * A DNS datagram is decoded as a tree (header, flags, each section and its
 * records) above its raw bytes in hex.  A mail message (SMTP/LMTP DATA, an
 * IMAP literal) shows its header fields with the Received trace numbered
 * hop by hop, oldest first (RFC 5321 4.4).  Other bytes show in hex.
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-run.h"

G_BEGIN_DECLS

#define MSIM_TYPE_INSPECTOR (msim_inspector_get_type ())
G_DECLARE_FINAL_TYPE (MsimInspector, msim_inspector, MSIM, INSPECTOR, GtkWidget)

void msim_inspector_show_event (MsimInspector *self, MsimRun *run, gint index);
/* (transfer full) The text shown, for tests. */
char *msim_inspector_get_text (MsimInspector *self);

/* (transfer full) The pure parts, testable without a display. */
char *msim_inspector_describe_dns (const guint8 *data, gsize len);
char *msim_inspector_describe_headers (GBytes *message);
char *msim_inspector_hex_dump (const guint8 *data, gsize len);

G_END_DECLS
