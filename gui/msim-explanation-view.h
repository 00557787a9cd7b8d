/* msim-explanation-view.h: why the current event happens, in plain words.
 *
 * The sentence and the RFC section come from the explanation catalogue
 * (sim/trace/sim-explain.h), the same one the CLI narration prints.
 * Before the first event it introduces the scenario: its description and
 * its learning goals.
 */
#pragma once

#include <gtk/gtk.h>

#include "msim-run.h"

G_BEGIN_DECLS

#define MSIM_TYPE_EXPLANATION_VIEW (msim_explanation_view_get_type ())
G_DECLARE_FINAL_TYPE (MsimExplanationView, msim_explanation_view, MSIM, EXPLANATION_VIEW, GtkWidget)

void msim_explanation_view_show_event (MsimExplanationView *self, MsimRun *run, gint index);
const char *msim_explanation_view_get_explanation (MsimExplanationView *self);

G_END_DECLS
