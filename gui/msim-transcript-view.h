/* msim-transcript-view.h: the conversation the current event belongs to.
 *
 * For a stream event, every line of its connection so far, as a chat: the
 * client's lines (C:) on the left, the server's (S:) on the right, the
 * current event's lines marked.  For a DNS datagram, the query and its
 * answer.  The chat grows as the run plays: nothing after the current
 * event is shown.
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-run.h"

G_BEGIN_DECLS

#define MSIM_TYPE_TRANSCRIPT_VIEW (msim_transcript_view_get_type ())
G_DECLARE_FINAL_TYPE (MsimTranscriptView, msim_transcript_view, MSIM, TRANSCRIPT_VIEW, GtkWidget)

void msim_transcript_view_show_event (MsimTranscriptView *self, MsimRun *run, gint index);
/* (transfer full) The text shown, for tests. */
char *msim_transcript_view_get_text (MsimTranscriptView *self);

G_END_DECLS
