/* msim-intervention.c: interventions as scenario text. */
#include "msim-intervention.h"

struct _MsimIntervention
{
  SimTime time;
  char *entry;
  char *description;
};

/* Takes @action and @description. */
static MsimIntervention *
intervention_new (SimTime time, char *action, char *description)
{
  MsimIntervention *self = g_new0 (MsimIntervention, 1);
  g_autofree char *when = sim_time_to_string (time);

  self->time = time;
  /* sim_time_to_string() is exact, so the action runs at this very
   * microsecond and the view can come back to it. */
  self->entry = g_strdup_printf ("at %s %s", when, action);
  self->description = description;
  g_free (action);
  return self;
}

MsimIntervention *
msim_intervention_new_link (const char *a, const char *b, gboolean up, SimTime time)
{
  g_autofree char *when = sim_time_to_string (time);

  return intervention_new (time, g_strdup_printf ("%s %s %s", up ? "link-up" : "link-down", a, b),
                           g_strdup_printf ("Link %s \u2013 %s %s at %s", a, b, up ? "brought back up" : "taken down",
                                            when));
}

MsimIntervention *
msim_intervention_new_node (const char *node, gboolean up, SimTime time)
{
  g_autofree char *when = sim_time_to_string (time);

  return intervention_new (time, g_strdup_printf ("%s %s", up ? "node-up" : "node-down", node),
                           g_strdup_printf ("Node %s %s at %s", node, up ? "brought back up" : "taken down (crashed)",
                                            when));
}

MsimIntervention *
msim_intervention_new_dns_set (const char *node, const char *zone, const char *record, SimTime time)
{
  g_autofree char *when = sim_time_to_string (time);
  g_autofree char *quoted = msim_intervention_quote (record);

  return intervention_new (time, g_strdup_printf ("dns-set %s %s %s", node, zone, quoted),
                           g_strdup_printf ("Zone %s on %s set to hold %s at %s", zone, node, quoted, when));
}

MsimIntervention *
msim_intervention_new_send (const char *from, const char *to, const char *subject, const char *body, SimTime time)
{
  g_autofree char *when = sim_time_to_string (time);
  g_autofree char *quoted_subject = msim_intervention_quote (subject);
  g_autofree char *quoted_body = msim_intervention_quote (body);

  return intervention_new (time, g_strdup_printf ("send %s to %s subject %s body %s", from, to, quoted_subject, quoted_body),
                           g_strdup_printf ("%s sent %s to %s at %s", from, quoted_subject, to, when));
}

void
msim_intervention_free (MsimIntervention *self)
{
  if (self == NULL)
    return;
  g_free (self->entry);
  g_free (self->description);
  g_free (self);
}

SimTime
msim_intervention_get_time (const MsimIntervention *self)
{
  return self->time;
}

const char *
msim_intervention_get_entry (const MsimIntervention *self)
{
  return self->entry;
}

const char *
msim_intervention_get_description (const MsimIntervention *self)
{
  return self->description;
}

char *
msim_intervention_apply (const char *text, GPtrArray *interventions)
{
  GString *result = g_string_new (text);

  if (interventions == NULL || interventions->len == 0)
    return g_string_free (result, FALSE);
  /* A file may end inside a comment line; start the blocks on a line of their own. */
  if (result->len > 0 && result->str[result->len - 1] != '\n')
    g_string_append_c (result, '\n');
  g_string_append_printf (result, "\n%s\n", MSIM_INTERVENTION_COMMENT);
  for (guint i = 0; i < interventions->len; i++)
    {
      const MsimIntervention *intervention = g_ptr_array_index (interventions, i);
      g_string_append_printf (result, "timeline {\n  %s\n}\n", intervention->entry);
    }
  return g_string_free (result, FALSE);
}

char *
msim_intervention_quote (const char *text)
{
  GString *quoted = g_string_new ("\"");

  for (const char *p = text; *p != '\0'; p++)
    switch (*p)
      {
      case '"':
        g_string_append (quoted, "\\\"");
        break;
      case '\\':
        g_string_append (quoted, "\\\\");
        break;
      case '\n':
        g_string_append (quoted, "\\n");
        break;
      case '\t':
        g_string_append (quoted, "\\t");
        break;
      default:
        /* No escape exists for other control characters (a CR of a
         * pasted CRLF): they are left out. */
        if ((guchar) *p >= 0x20)
          g_string_append_c (quoted, *p);
      }
  g_string_append_c (quoted, '"');
  return g_string_free (quoted, FALSE);
}
