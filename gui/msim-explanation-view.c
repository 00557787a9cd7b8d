/* msim-explanation-view.c: the catalogue's sentence for the current event. */
#include "msim-explanation-view.h"

#include "trace/sim-explain.h"

struct _MsimExplanationView
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkLabel *heading_label;
  GtkLabel *explanation_label;
  GtkLabel *rfc_label;
};

G_DEFINE_FINAL_TYPE (MsimExplanationView, msim_explanation_view, GTK_TYPE_WIDGET)

static void
msim_explanation_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), MSIM_TYPE_EXPLANATION_VIEW);
  G_OBJECT_CLASS (msim_explanation_view_parent_class)->dispose (object);
}

static void
msim_explanation_view_class_init (MsimExplanationViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = msim_explanation_view_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/mailsim/Mailsim/msim-explanation-view.ui");
  gtk_widget_class_bind_template_child (widget_class, MsimExplanationView, heading_label);
  gtk_widget_class_bind_template_child (widget_class, MsimExplanationView, explanation_label);
  gtk_widget_class_bind_template_child (widget_class, MsimExplanationView, rfc_label);
  gtk_widget_class_bind_template_child (widget_class, MsimExplanationView, scroller);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
msim_explanation_view_init (MsimExplanationView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static void
show_scenario (MsimExplanationView *self, MsimRun *run)
{
  const Scenario *scenario = msim_run_get_scenario (run);
  GPtrArray *goals = scenario_get_goals (scenario);
  g_autoptr (GString) text = g_string_new (scenario_get_description (scenario));

  if (goals->len > 0)
    g_string_append (text, "\n\nAfter watching it you can:");
  for (guint i = 0; i < goals->len; i++)
    g_string_append_printf (text, "\n\u2022 %s", (const char *) g_ptr_array_index (goals, i));
  gtk_label_set_text (self->heading_label, scenario_get_title (scenario));
  gtk_label_set_text (self->explanation_label, text->str);
  gtk_label_set_text (self->rfc_label, "Press Space to play, or \u2192 to take one step.");
}

void
msim_explanation_view_show_event (MsimExplanationView *self, MsimRun *run, gint index)
{
  if (run == NULL)
    {
      gtk_label_set_text (self->heading_label, "No scenario");
      gtk_label_set_text (self->explanation_label, "Choose a scenario to watch an email travel.");
      gtk_label_set_text (self->rfc_label, "");
      return;
    }
  if (index < 0)
    {
      show_scenario (self, run);
      return;
    }
  const SimEvent *event = msim_run_get_event (run, index);
  const SimExplanation *explanation = event->explain != NULL ? sim_explain_lookup (event->explain) : NULL;
  g_autofree char *summary = msim_event_summary (event);
  g_autofree char *heading = NULL;
  char clock[32];

  if (event->to != NULL && event->to[0] != '\0')
    heading = g_strdup_printf ("%s  %s \u2192 %s: %s", g_strstrip ((char *) sim_time_format_clock (event->time, clock)),
                               event->from, event->to, summary);
  else
    heading = g_strdup_printf ("%s  %s: %s", g_strstrip ((char *) sim_time_format_clock (event->time, clock)),
                               event->from, summary);
  gtk_label_set_text (self->heading_label, heading);
  gtk_label_set_text (self->explanation_label,
                      explanation != NULL ? explanation->text : event->text != NULL ? event->text : "");
  if (explanation != NULL && explanation->rfc != NULL)
    {
      g_autofree char *rfc = g_strdup_printf ("Where it comes from: %s", explanation->rfc);
      gtk_label_set_text (self->rfc_label, rfc);
    }
  else
    gtk_label_set_text (self->rfc_label, "");
}

const char *
msim_explanation_view_get_explanation (MsimExplanationView *self)
{
  return gtk_label_get_text (self->explanation_label);
}
