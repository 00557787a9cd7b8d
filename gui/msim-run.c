/* msim-run.c: one recorded run of a scenario. */
#include "msim-run.h"

#include <string.h>

#include "proto/message/mail-message.h"
#include "trace/sim-narration.h"

struct _MsimRun
{
  gatomicrefcount ref_count;
  char *path;
  char *text;
  Scenario *scenario;
  SimWorld *world;
  ScenarioVerdict verdict;
  SimTime end_time;
  const char *sender;
};

MsimRun *
msim_run_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local))
    {
      g_set_error (error, SCENARIO_ERROR, SCENARIO_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return msim_run_load_from_text (path, text, error);
}

MsimRun *
msim_run_load_from_text (const char *path, const char *text, GError **error)
{
  g_autoptr (Scenario) scenario = scenario_load_from_text (path, text, strlen (text), error);
  if (scenario == NULL)
    return NULL;
  g_autoptr (SimWorld) world = scenario_build (scenario, scenario_get_seed (scenario), error);
  if (world == NULL)
    return NULL;

  MsimRun *self = g_new0 (MsimRun, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->path = g_strdup (path);
  self->text = g_strdup (text);
  sim_trace_set_keep (sim_world_get_trace (world), TRUE);
  self->verdict = scenario_run (scenario, world);
  self->scenario = g_steal_pointer (&scenario);
  self->world = g_steal_pointer (&world);

  GPtrArray *events = msim_run_get_events (self);
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      self->end_time = MAX (self->end_time, MAX (event->time, event->arrival));
      if (self->sender == NULL && event->kind == SIM_EVENT_ACTION
          && (g_strcmp0 (event->explain, "action.send") == 0 || g_strcmp0 (event->explain, "action.fetch") == 0))
        self->sender = event->from;
    }
  if (self->sender == NULL)
    {
      GPtrArray *names = sim_world_get_role_names (self->world);
      for (guint i = 0; i < names->len && self->sender == NULL; i++)
        {
          SimRoleKind kind;
          if (sim_world_find_role (self->world, g_ptr_array_index (names, i), &kind) != NULL
              && kind == SIM_ROLE_CLIENT)
            self->sender = g_ptr_array_index (names, i);
        }
    }
  return self;
}

MsimRun *
msim_run_ref (MsimRun *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
msim_run_unref (MsimRun *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  sim_world_free (self->world);
  scenario_free (self->scenario);
  g_free (self->path);
  g_free (self->text);
  g_free (self);
}

const Scenario *
msim_run_get_scenario (MsimRun *self)
{
  return self->scenario;
}

SimWorld *
msim_run_get_world (MsimRun *self)
{
  return self->world;
}

const char *
msim_run_get_path (MsimRun *self)
{
  return self->path;
}

const char *
msim_run_get_text (MsimRun *self)
{
  return self->text;
}

ScenarioVerdict
msim_run_get_verdict (MsimRun *self)
{
  return self->verdict;
}

GPtrArray *
msim_run_get_events (MsimRun *self)
{
  return sim_trace_get_events (sim_world_get_trace (self->world));
}

guint
msim_run_get_n_events (MsimRun *self)
{
  return msim_run_get_events (self)->len;
}

const SimEvent *
msim_run_get_event (MsimRun *self, guint index)
{
  GPtrArray *events = msim_run_get_events (self);
  g_return_val_if_fail (index < events->len, NULL);
  return g_ptr_array_index (events, index);
}

SimTime
msim_run_get_end_time (MsimRun *self)
{
  return self->end_time;
}

gint
msim_run_find_event_at (MsimRun *self, SimTime time)
{
  GPtrArray *events = msim_run_get_events (self);
  guint low = 0, high = events->len;

  /* Events are emitted in time order: the first index whose time is
   * after @time, minus one. */
  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      const SimEvent *event = g_ptr_array_index (events, middle);
      if (event->time <= time)
        low = middle + 1;
      else
        high = middle;
    }
  return (gint) low - 1;
}

const char *
msim_run_get_sender (MsimRun *self)
{
  return self->sender;
}

/* The block of `node @node { ... }` in @root, or NULL. */
static const ScenarioStatement *
find_node_block (const ScenarioStatement *root, const char *node)
{
  for (guint i = 0; i < root->children->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (root->children, i);
      const ScenarioWord *name = scenario_statement_word (statement, 1);
      if (g_strcmp0 (scenario_statement_keyword (statement), "node") == 0 && name != NULL
          && g_str_equal (name->text, node) && statement->children != NULL)
        return statement;
    }
  return NULL;
}

/* The first word after @keyword of each statement starting with it in
 * @block, or of the `record` lines of its `zone @zone` block when @zone is
 * not NULL. */
static GPtrArray *
collect_words (MsimRun *self, const char *node, const char *keyword, const char *zone)
{
  GPtrArray *words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (ScenarioStatement) root = scenario_syntax_parse (self->path, self->text, strlen (self->text), NULL);
  const ScenarioStatement *block = root != NULL ? find_node_block (root, node) : NULL;

  for (guint i = 0; block != NULL && i < block->children->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (block->children, i);
      const ScenarioWord *word = scenario_statement_word (statement, 1);
      if (word == NULL)
        continue;
      if (zone == NULL && g_strcmp0 (scenario_statement_keyword (statement), keyword) == 0)
        g_ptr_array_add (words, g_strdup (word->text));
      else if (zone != NULL && g_strcmp0 (scenario_statement_keyword (statement), "zone") == 0
               && g_str_equal (word->text, zone) && statement->children != NULL)
        for (guint j = 0; j < statement->children->len; j++)
          {
            const ScenarioStatement *record = g_ptr_array_index (statement->children, j);
            const ScenarioWord *text = scenario_statement_word (record, 1);
            if (g_strcmp0 (scenario_statement_keyword (record), keyword) == 0 && text != NULL)
              g_ptr_array_add (words, g_strdup (text->text));
          }
    }
  return words;
}

GPtrArray *
msim_run_get_accounts (MsimRun *self, const char *node)
{
  return collect_words (self, node, "account", NULL);
}

GPtrArray *
msim_run_get_zones (MsimRun *self, const char *node)
{
  return collect_words (self, node, "zone", NULL);
}

GPtrArray *
msim_run_get_zone_records (MsimRun *self, const char *node, const char *zone)
{
  return collect_words (self, node, "record", zone);
}

static gboolean
same_link (const SimEvent *event, const char *a, const char *b)
{
  return (g_strcmp0 (event->from, a) == 0 && g_strcmp0 (event->to, b) == 0)
         || (g_strcmp0 (event->from, b) == 0 && g_strcmp0 (event->to, a) == 0);
}

gboolean
msim_run_link_is_up_at (MsimRun *self, const char *a, const char *b, SimTime time)
{
  GPtrArray *events = msim_run_get_events (self);
  gboolean up = TRUE;

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->time > time)
        break;
      if (event->kind != SIM_EVENT_ACTION || event->status == NULL || !same_link (event, a, b))
        continue;
      if (g_str_equal (event->status, "link-down"))
        up = FALSE;
      else if (g_str_equal (event->status, "link-up"))
        up = TRUE;
    }
  return up;
}

gboolean
msim_run_node_is_up_at (MsimRun *self, const char *node, SimTime time)
{
  GPtrArray *events = msim_run_get_events (self);
  gboolean up = TRUE;

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->time > time)
        break;
      if (event->kind != SIM_EVENT_ACTION || event->status == NULL || g_strcmp0 (event->from, node) != 0)
        continue;
      if (g_str_equal (event->status, "node-down"))
        up = FALSE;
      else if (g_str_equal (event->status, "node-up"))
        up = TRUE;
    }
  return up;
}

/* A server reply line "NNN ..." or "NNN-..." with a 4xx or 5xx code
 * (RFC 5321 4.2.1: the first digit says success, transient or permanent
 * failure). */
static gboolean
is_failure_reply (const SimEvent *event)
{
  if (event->kind != SIM_EVENT_DATA || event->from_client || event->bytes == NULL)
    return FALSE;
  if (g_strcmp0 (event->protocol, "smtp") != 0 && g_strcmp0 (event->protocol, "lmtp") != 0)
    return FALSE;
  gsize size;
  const char *data = g_bytes_get_data (event->bytes, &size);
  return size >= 4 && (data[0] == '4' || data[0] == '5') && g_ascii_isdigit (data[1])
         && g_ascii_isdigit (data[2]) && (data[3] == ' ' || data[3] == '-');
}

gboolean
msim_event_is_failure (const SimEvent *event)
{
  switch (event->kind)
    {
    case SIM_EVENT_REFUSED:
    case SIM_EVENT_UNREACHABLE:
    case SIM_EVENT_RESET:
    case SIM_EVENT_LOST:
      return TRUE;
    case SIM_EVENT_DATA:
      return is_failure_reply (event);
    case SIM_EVENT_MAIL:
      return g_strcmp0 (event->status, "bounced") == 0 || g_strcmp0 (event->status, "deferred") == 0
             || g_strcmp0 (event->status, "dsn") == 0;
    case SIM_EVENT_EXPECT:
      return g_strcmp0 (event->status, "fail") == 0;
    case SIM_EVENT_ACTION:
      return g_strcmp0 (event->status, "link-down") == 0 || g_strcmp0 (event->status, "node-down") == 0;
    default:
      return FALSE;
    }
}

char *
msim_event_summary (const SimEvent *event)
{
  g_autoptr (GPtrArray) lines = sim_event_describe (event);
  const char *first = lines->len > 0 ? g_ptr_array_index (lines, 0) : "";

  if (g_str_has_prefix (first, "C: ") || g_str_has_prefix (first, "S: "))
    first += 3;
  if (event->kind == SIM_EVENT_DATA && event->bytes != NULL && g_strcmp0 (event->explain, "smtp.data.content") == 0)
    {
      g_autofree char *subject = mail_message_get_header (event->bytes, "Subject");
      return g_strdup_printf ("the message \"%s\" (%u lines)", subject != NULL ? subject : "", lines->len);
    }
  return g_strdup (first);
}

const char *
msim_node_domain (const char *node_name)
{
  const char *dot = strchr (node_name, '.');
  return dot != NULL ? dot + 1 : "";
}
