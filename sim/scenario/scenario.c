/* scenario.c: the meaning of scenario files. */
#include "scenario/scenario.h"

#include <string.h>

#include "nodes/dns-server.h"
#include "nodes/eavesdropper.h"
#include "nodes/mail-client.h"
#include "nodes/mail-store.h"
#include "nodes/mta.h"
#include "nodes/sim-external.h"
#include "proto/message/mail-message.h"
#include "trace/sim-explain.h"

struct _Scenario
{
  char *filename;
  ScenarioStatement *root;
  char *title;
  char *description;
  GPtrArray *goals;
  guint64 seed;
  SimTime duration;
  char *fingerprint;   /* pinned by 'fingerprint HEX', or NULL */
};

/* ---- small helpers for errors at words ---- */

typedef struct
{
  const Scenario *scenario;
  SimWorld *world;
  GError **error;
} BuildContext;

static gboolean
fail_at (BuildContext *context, const ScenarioWord *word, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail_at (BuildContext *context, const ScenarioWord *word, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  scenario_set_error_at (context->error, context->scenario->filename, word->line, word->column, "%s", message);
  return FALSE;
}

static const ScenarioWord *
word_at (const ScenarioStatement *statement, guint index)
{
  return scenario_statement_word (statement, index);
}

static const ScenarioWord *
last_word (const ScenarioStatement *statement)
{
  return g_ptr_array_index (statement->words, statement->words->len - 1);
}

/* The word after @statement's word @index, or an error that one is missing. */
static const ScenarioWord *
require_word (BuildContext *context, const ScenarioStatement *statement, guint index, const char *what)
{
  const ScenarioWord *word = word_at (statement, index);

  if (word == NULL)
    {
      const ScenarioWord *previous = last_word (statement);
      scenario_set_error_at (context->error, context->scenario->filename, previous->line,
                             previous->column + (guint) strlen (previous->text),
                             "expected %s after '%s'", what, previous->text);
    }
  return word;
}

static gboolean
parse_time_word (BuildContext *context, const ScenarioWord *word, SimTime *out)
{
  g_autoptr (GError) local = NULL;

  if (!sim_time_parse (word->text, out, &local))
    return fail_at (context, word, "%s", local->message);
  return TRUE;
}

static gboolean
parse_count_word (BuildContext *context, const ScenarioWord *word, guint64 *out)
{
  if (!g_ascii_string_to_unsigned (word->text, 10, 0, G_MAXUINT32, out, NULL))
    return fail_at (context, word, "expected a whole number, found '%s'", word->text);
  return TRUE;
}

static gboolean
parse_size_word (BuildContext *context, const ScenarioWord *word, guint64 *out)
{
  guint64 scale = 1;
  g_autofree char *digits = g_strdup (word->text);
  gsize length = strlen (digits);

  if (length > 1 && (digits[length - 1] == 'k' || digits[length - 1] == 'K'))
    scale = 1024;
  else if (length > 1 && (digits[length - 1] == 'm' || digits[length - 1] == 'M'))
    scale = 1024 * 1024;
  if (scale != 1)
    digits[length - 1] = '\0';
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT32, out, NULL))
    return fail_at (context, word, "expected a size such as 2000, 64k or 10M, found '%s'", word->text);
  *out *= scale;
  return TRUE;
}

static gboolean parse_loss_word (BuildContext *context, const ScenarioWord *word, double *loss);

static gboolean
is_address (const char *text)
{
  const char *at = strchr (text, '@');
  return at != NULL && at != text && at[1] != '\0' && strchr (at + 1, '@') == NULL;
}

static gboolean
require_address (BuildContext *context, const ScenarioWord *word)
{
  if (!is_address (word->text))
    return fail_at (context, word, "expected an email address such as bob@example.org, found '%s'", word->text);
  return TRUE;
}

/* Finds a node by name, or fails with the closest name as a hint. */
static SimNode *
lookup_node (BuildContext *context, const ScenarioWord *word)
{
  SimNetwork *network = sim_world_get_network (context->world);
  SimNode *node = sim_network_find_node (network, word->text);
  GPtrArray *nodes;
  g_autoptr (GPtrArray) names = NULL;
  const char *suggestion;

  if (node != NULL)
    return node;
  nodes = sim_network_get_nodes (network);
  names = g_ptr_array_new ();
  for (guint i = 0; i < nodes->len; i++)
    g_ptr_array_add (names, (gpointer) sim_node_get_name (g_ptr_array_index (nodes, i)));
  suggestion = scenario_suggest (word->text, (const char *const *) names->pdata, names->len);
  if (suggestion != NULL)
    fail_at (context, word, "unknown node '%s'; did you mean '%s'?", word->text, suggestion);
  else
    fail_at (context, word, "unknown node '%s'; declare it with 'node %s { ... }'", word->text, word->text);
  return NULL;
}

static gboolean
unknown_keyword (BuildContext *context, const ScenarioWord *word, const char *where,
                 const char *const *known, gsize n_known)
{
  const char *suggestion = scenario_suggest (word->text, known, n_known);

  if (suggestion != NULL)
    return fail_at (context, word, "unknown %s '%s'; did you mean '%s'?", where, word->text, suggestion);
  {
    GString *all = g_string_new (NULL);
    for (gsize i = 0; i < n_known; i++)
      g_string_append_printf (all, "%s%s", i > 0 ? ", " : "", known[i]);
    fail_at (context, word, "unknown %s '%s'; expected one of: %s", where, word->text, all->str);
    g_string_free (all, TRUE);
  }
  return FALSE;
}

/* Reads "key value key value flag ..." options from word @start on. */
typedef struct
{
  const char *name;
  gboolean takes_value;
  const ScenarioWord *value;   /* out: the value word, or the flag word itself */
} Option;

static gboolean
parse_options (BuildContext *context, const ScenarioStatement *statement, guint start,
               Option *options, gsize n_options, const char *where)
{
  for (guint i = start; i < statement->words->len; i++)
    {
      const ScenarioWord *word = word_at (statement, i);
      gsize o;
      for (o = 0; o < n_options; o++)
        if (g_str_equal (options[o].name, word->text) && !word->quoted)
          break;
      if (o == n_options)
        {
          g_autofree const char **names = g_new0 (const char *, n_options + 1);
          for (gsize k = 0; k < n_options; k++)
            names[k] = options[k].name;
          return unknown_keyword (context, word, where, names, n_options);
        }
      if (options[o].takes_value)
        {
          const ScenarioWord *value = require_word (context, statement, i + 1, "a value");
          if (value == NULL)
            return FALSE;
          options[o].value = value;
          i++;
        }
      else
        options[o].value = word;
    }
  return TRUE;
}

static gboolean
require_option (BuildContext *context, const ScenarioStatement *statement, const Option *option, const char *example)
{
  if (option->value != NULL)
    return TRUE;
  const ScenarioWord *word = last_word (statement);
  scenario_set_error_at (context->error, context->scenario->filename, word->line, word->column,
                         "'%s' needs '%s ...'; for example: %s", scenario_statement_keyword (statement),
                         option->name, example);
  return FALSE;
}

static gboolean
require_no_block (BuildContext *context, const ScenarioStatement *statement)
{
  if (statement->children == NULL)
    return TRUE;
  scenario_set_error_at (context->error, context->scenario->filename, statement->open_line, statement->open_column,
                         "'%s' takes no block; remove the braces", scenario_statement_keyword (statement));
  return FALSE;
}

/* ---- nodes ---- */

/* "external" is a stand-in for a client outside the simulation (a real
 * client recorded by `mailsim serve`, or a scripted raw session): it only
 * forwards, like a router, and timeline actions speak for it. */
static const char *const node_kinds[] = { "client", "mta", "mailstore", "dns", "router", "external", "eavesdropper" };

static const ScenarioStatement *
find_child (const ScenarioStatement *block, const char *keyword)
{
  if (block->children == NULL)
    return NULL;
  for (guint i = 0; i < block->children->len; i++)
    {
      const ScenarioStatement *child = g_ptr_array_index (block->children, i);
      if (g_strcmp0 (scenario_statement_keyword (child), keyword) == 0)
        return child;
    }
  return NULL;
}

static gboolean
declare_node (BuildContext *context, const ScenarioStatement *statement)
{
  const ScenarioWord *name = require_word (context, statement, 1, "a node name such as smtp.example.com");
  const ScenarioStatement *address_statement;
  const ScenarioStatement *kind_statement;
  const ScenarioWord *address_word;
  const ScenarioWord *kind_word;
  guint32 address;
  g_autoptr (GError) local = NULL;

  if (name == NULL)
    return FALSE;
  if (statement->words->len > 2)
    return fail_at (context, word_at (statement, 2), "expected '{' after the node name, found '%s'",
                    word_at (statement, 2)->text);
  if (statement->children == NULL)
    return fail_at (context, name, "node '%s' needs a block: node %s { kind mta; address 192.0.2.25 }", name->text, name->text);
  kind_statement = find_child (statement, "kind");
  if (kind_statement == NULL)
    return fail_at (context, name, "node '%s' needs a kind: add 'kind client', 'kind mta', 'kind mailstore', 'kind dns' or 'kind router'",
                    name->text);
  kind_word = require_word (context, kind_statement, 1, "a kind");
  if (kind_word == NULL)
    return FALSE;
  gboolean known_kind = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (node_kinds); i++)
    known_kind |= g_str_equal (kind_word->text, node_kinds[i]);
  if (!known_kind)
    return unknown_keyword (context, kind_word, "node kind", node_kinds, G_N_ELEMENTS (node_kinds));
  address_statement = find_child (statement, "address");
  if (address_statement == NULL)
    return fail_at (context, name, "node '%s' needs an address: add 'address 192.0.2.10' (an IPv4 address) to its block",
                    name->text);
  address_word = require_word (context, address_statement, 1, "an IPv4 address");
  if (address_word == NULL)
    return FALSE;
  if (!sim_address_parse (address_word->text, &address) || address == 0)
    return fail_at (context, address_word, "expected an IPv4 address such as 192.0.2.10, found '%s'", address_word->text);
  if (sim_network_add_node (sim_world_get_network (context->world), name->text, address, &local) == NULL)
    return fail_at (context, g_str_has_prefix (local->message, "address") ? address_word : name, "%s", local->message);
  return TRUE;
}

static gboolean
configure_dns (BuildContext *context, SimNode *node, const ScenarioStatement *block)
{
  DnsServer *server = sim_world_add_dns (context->world, node);
  static const char *const keys[] = { "kind", "address", "zone", "root-hint" };

  for (guint i = 0; i < block->children->len; i++)
    {
      const ScenarioStatement *child = g_ptr_array_index (block->children, i);
      const char *keyword = scenario_statement_keyword (child);
      if (g_str_equal (keyword, "kind") || g_str_equal (keyword, "address"))
        continue;
      if (g_str_equal (keyword, "root-hint"))
        {
          /* A recursive resolver: it answers stubs by walking from this
           * root server down (RFC 1034 5.3.3). */
          const ScenarioWord *name = require_word (context, child, 1, "the root server's node name");
          SimNode *root = name != NULL ? lookup_node (context, name) : NULL;
          if (root == NULL || !require_no_block (context, child))
            return FALSE;
          dns_server_set_root_hint (server, sim_node_get_address (root));
          continue;
        }
      if (!g_str_equal (keyword, "zone"))
        return unknown_keyword (context, word_at (child, 0), "setting for a dns node", keys, G_N_ELEMENTS (keys));
      const ScenarioWord *origin = require_word (context, child, 1, "a zone origin such as example.org.");
      if (origin == NULL)
        return FALSE;
      g_autoptr (GError) local = NULL;
      g_autofree char *normalized = dns_name_normalize (origin->text, &local);
      if (normalized == NULL)
        return fail_at (context, origin, "bad zone name '%s': %s", origin->text, local->message);
      if (child->children == NULL)
        return fail_at (context, origin, "zone '%s' needs a block of records: zone %s { record \"@ MX 10 mx\" }",
                        origin->text, origin->text);
      DnsZone *zone = dns_zone_new (normalized);
      dns_server_add_zone (server, zone);
      for (guint r = 0; r < child->children->len; r++)
        {
          const ScenarioStatement *record = g_ptr_array_index (child->children, r);
          if (!g_str_equal (scenario_statement_keyword (record), "record"))
            {
              static const char *const zone_keys[] = { "record" };
              return unknown_keyword (context, word_at (record, 0), "statement in a zone", zone_keys, 1);
            }
          const ScenarioWord *text = require_word (context, record, 1, "a record in quotes, such as \"@ 3600 MX 10 mx\"");
          if (text == NULL)
            return FALSE;
          /* Unquoted words after 'record' are joined, so both
           * record "@ MX 10 mx" and record @ MX 10 mx read the same. */
          g_autoptr (GString) joined = g_string_new (text->text);
          for (guint w = 2; w < record->words->len; w++)
            g_string_append_printf (joined, " %s", word_at (record, w)->text);
          gsize column = 0;
          g_autoptr (GError) record_error = NULL;
          if (!dns_zone_add_from_text (zone, joined->str, 3600, &column, &record_error))
            {
              guint offset = text->quoted ? 1 : 0;
              scenario_set_error_at (context->error, context->scenario->filename, text->line,
                                     text->column + offset + (record->words->len > 2 ? 0 : (guint) column),
                                     "%s", record_error->message);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
configure_store (BuildContext *context, SimNode *node, const ScenarioStatement *block)
{
  MailStore *store = sim_world_add_store (context->world, node);
  static const char *const keys[] = { "kind", "address", "mailbox" };

  for (guint i = 0; i < block->children->len; i++)
    {
      const ScenarioStatement *child = g_ptr_array_index (block->children, i);
      const char *keyword = scenario_statement_keyword (child);
      if (g_str_equal (keyword, "kind") || g_str_equal (keyword, "address"))
        continue;
      if (!g_str_equal (keyword, "mailbox"))
        return unknown_keyword (context, word_at (child, 0), "setting for a mailstore node", keys, G_N_ELEMENTS (keys));
      const ScenarioWord *address = require_word (context, child, 1, "an email address");
      if (address == NULL || !require_address (context, address) || !require_no_block (context, child))
        return FALSE;
      Option options[] = { { "password", TRUE, NULL }, { "quota", TRUE, NULL } };
      if (!parse_options (context, child, 2, options, G_N_ELEMENTS (options), "mailbox option"))
        return FALSE;
      if (!require_option (context, child, &options[0], "mailbox bob@example.org password secret"))
        return FALSE;
      guint64 quota = 0;
      if (options[1].value != NULL && !parse_size_word (context, options[1].value, &quota))
        return FALSE;
      g_autoptr (GError) local = NULL;
      if (!mail_store_add_user (store, address->text, options[0].value->text, (gsize) quota, &local))
        return fail_at (context, address, "%s", local->message);
    }
  return TRUE;
}

/* size-limit SIZE, warn-after TIME, greylist DELAY, rate-limit N per TIME,
 * dnsbl ZONE, spam-threshold N, spf check|reject-fail. */
static gboolean
configure_mta_policy (BuildContext *context, Mta *mta, const ScenarioStatement *child)
{
  const char *keyword = scenario_statement_keyword (child);
  const ScenarioWord *value = require_word (context, child, 1, "a value");
  guint expected_words = 2;
  guint64 number = 0;
  SimTime time = 0;

  if (value == NULL)
    return FALSE;
  if (g_str_equal (keyword, "size-limit"))
    {
      if (!parse_size_word (context, value, &number))
        return FALSE;
      if (number == 0)
        return fail_at (context, value, "a size limit must be at least 1 byte");
      mta_set_size_limit (mta, (gsize) number);
    }
  else if (g_str_equal (keyword, "warn-after") || g_str_equal (keyword, "greylist"))
    {
      if (!parse_time_word (context, value, &time))
        return FALSE;
      if (time <= 0)
        return fail_at (context, value, "'%s' needs a time longer than 0s", keyword);
      if (g_str_equal (keyword, "warn-after"))
        mta_set_warn_after (mta, time);
      else
        mta_set_greylist (mta, time);
    }
  else if (g_str_equal (keyword, "rate-limit"))
    {
      const ScenarioWord *per = require_word (context, child, 2, "'per'");
      const ScenarioWord *window = per != NULL ? require_word (context, child, 3, "a time window such as 1m") : NULL;
      if (window == NULL || !parse_count_word (context, value, &number))
        return FALSE;
      if (!g_str_equal (per->text, "per"))
        return fail_at (context, per, "expected 'per', as in: rate-limit 5 per 1m");
      if (!parse_time_word (context, window, &time))
        return FALSE;
      if (number == 0 || time <= 0)
        return fail_at (context, value, "a rate limit needs at least 1 recipient per a time longer than 0s");
      mta_set_rate_limit (mta, (guint) number, time);
      expected_words = 4;
    }
  else if (g_str_equal (keyword, "dnsbl"))
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *zone = dns_name_normalize (value->text, &local);
      if (zone == NULL)
        return fail_at (context, value, "bad blocklist zone '%s': %s", value->text, local->message);
      mta_set_dnsbl (mta, zone);
    }
  else if (g_str_equal (keyword, "spam-threshold"))
    {
      if (!parse_count_word (context, value, &number))
        return FALSE;
      mta_set_spam_threshold (mta, (guint) number);
    }
  else
    {
      static const char *const modes[] = { "check", "reject-fail" };
      if (!g_str_equal (value->text, "check") && !g_str_equal (value->text, "reject-fail"))
        return unknown_keyword (context, value, "spf mode", modes, G_N_ELEMENTS (modes));
      mta_set_spf (mta, TRUE, g_str_equal (value->text, "reject-fail"));
    }
  if (child->words->len > expected_words)
    return fail_at (context, word_at (child, expected_words), "unexpected '%s' after '%s'",
                    word_at (child, expected_words)->text, keyword);
  return TRUE;
}

static gboolean
configure_mta (BuildContext *context, SimNode *node, const ScenarioStatement *block)
{
  Mta *mta = sim_world_add_mta (context->world, node);
  static const char *const keys[] = {
    "kind", "address", "resolver", "submission", "user", "local-domain", "smarthost", "retry",
    "size-limit", "warn-after", "greylist", "rate-limit", "dnsbl", "spam-threshold", "spf", "relay-for",
    "starttls",
  };

  for (guint i = 0; i < block->children->len; i++)
    {
      const ScenarioStatement *child = g_ptr_array_index (block->children, i);
      const char *keyword = scenario_statement_keyword (child);
      if (!require_no_block (context, child))
        return FALSE;
      if (g_str_equal (keyword, "kind") || g_str_equal (keyword, "address"))
        continue;
      if (g_str_equal (keyword, "resolver") || g_str_equal (keyword, "smarthost") || g_str_equal (keyword, "relay-for"))
        {
          const ScenarioWord *name = require_word (context, child, 1, "a node name");
          SimNode *target = name != NULL ? lookup_node (context, name) : NULL;
          if (target == NULL)
            return FALSE;
          if (g_str_equal (keyword, "resolver"))
            mta_set_resolver (mta, sim_node_get_address (target));
          else if (g_str_equal (keyword, "relay-for"))
            mta_add_relay_client (mta, sim_node_get_address (target));
          else
            mta_set_smarthost (mta, sim_node_get_address (target));
        }
      else if (g_str_equal (keyword, "submission"))
        mta_enable_submission (mta);
      else if (g_str_equal (keyword, "starttls"))
        mta_set_starttls (mta, TRUE);
      else if (g_str_equal (keyword, "user"))
        {
          const ScenarioWord *address = require_word (context, child, 1, "an email address");
          if (address == NULL || !require_address (context, address))
            return FALSE;
          Option options[] = { { "password", TRUE, NULL } };
          if (!parse_options (context, child, 2, options, 1, "user option")
              || !require_option (context, child, &options[0], "user alice@example.com password secret"))
            return FALSE;
          mta_add_user (mta, address->text, options[0].value->text);
        }
      else if (g_str_equal (keyword, "local-domain"))
        {
          const ScenarioWord *domain = require_word (context, child, 1, "a domain such as example.org");
          if (domain == NULL)
            return FALSE;
          Option options[] = { { "store", TRUE, NULL } };
          if (!parse_options (context, child, 2, options, 1, "local-domain option")
              || !require_option (context, child, &options[0], "local-domain example.org store mail.example.org"))
            return FALSE;
          SimNode *store = lookup_node (context, options[0].value);
          if (store == NULL)
            return FALSE;
          mta_add_local_domain (mta, domain->text, sim_node_get_address (store));
        }
      else if (g_str_equal (keyword, "retry"))
        {
          const ScenarioWord *interval = require_word (context, child, 1, "a retry interval such as 5m");
          SimTime every, lifetime = MTA_DEFAULT_QUEUE_LIFETIME;
          if (interval == NULL || !parse_time_word (context, interval, &every))
            return FALSE;
          SimTime max_backoff = 0;
          Option options[] = { { "lifetime", TRUE, NULL }, { "max", TRUE, NULL } };
          if (!parse_options (context, child, 2, options, G_N_ELEMENTS (options), "retry option"))
            return FALSE;
          if (options[0].value != NULL && !parse_time_word (context, options[0].value, &lifetime))
            return FALSE;
          if (options[1].value != NULL && !parse_time_word (context, options[1].value, &max_backoff))
            return FALSE;
          if (every <= 0)
            return fail_at (context, interval, "the retry interval must be longer than 0s");
          if (options[1].value != NULL && max_backoff < every)
            return fail_at (context, options[1].value, "the longest wait ('max') cannot be shorter than the first (%s)",
                            interval->text);
          mta_set_retry (mta, every, max_backoff, lifetime);
        }
      else if (g_str_equal (keyword, "size-limit") || g_str_equal (keyword, "warn-after")
               || g_str_equal (keyword, "greylist") || g_str_equal (keyword, "rate-limit")
               || g_str_equal (keyword, "dnsbl") || g_str_equal (keyword, "spam-threshold")
               || g_str_equal (keyword, "spf"))
        {
          if (!configure_mta_policy (context, mta, child))
            return FALSE;
        }
      else
        return unknown_keyword (context, word_at (child, 0), "setting for an mta node", keys, G_N_ELEMENTS (keys));
    }
  return TRUE;
}

static gboolean
configure_client (BuildContext *context, SimNode *node, const ScenarioStatement *block)
{
  MailClient *client = sim_world_add_client (context->world, node);
  static const char *const keys[] = { "kind", "address", "account" };

  for (guint i = 0; i < block->children->len; i++)
    {
      const ScenarioStatement *child = g_ptr_array_index (block->children, i);
      const char *keyword = scenario_statement_keyword (child);
      if (g_str_equal (keyword, "kind") || g_str_equal (keyword, "address"))
        continue;
      if (!g_str_equal (keyword, "account"))
        return unknown_keyword (context, word_at (child, 0), "setting for a client node", keys, G_N_ELEMENTS (keys));
      const ScenarioWord *address = require_word (context, child, 1, "an email address");
      if (address == NULL || !require_address (context, address) || !require_no_block (context, child))
        return FALSE;
      Option options[] = {
        { "password", TRUE, NULL }, { "submit", TRUE, NULL }, { "store", TRUE, NULL },
        { "protocol", TRUE, NULL }, { "keep", FALSE, NULL }, { "delete", FALSE, NULL },
        { "tls", FALSE, NULL }, { "poll", TRUE, NULL }, { "idle", FALSE, NULL },
      };
      const char *example = "account bob@example.org password secret submit smtp.example.org store mail.example.org protocol imap";
      if (!parse_options (context, child, 2, options, G_N_ELEMENTS (options), "account option")
          || !require_option (context, child, &options[0], example)
          || !require_option (context, child, &options[1], example)
          || !require_option (context, child, &options[2], example))
        return FALSE;
      SimNode *submit = lookup_node (context, options[1].value);
      SimNode *store = submit != NULL ? lookup_node (context, options[2].value) : NULL;
      if (store == NULL)
        return FALSE;
      MailClientProtocol protocol = MAIL_CLIENT_IMAP;
      if (options[3].value != NULL)
        {
          static const char *const protocols[] = { "imap", "pop3" };
          if (g_str_equal (options[3].value->text, "pop3"))
            protocol = MAIL_CLIENT_POP3;
          else if (!g_str_equal (options[3].value->text, "imap"))
            return unknown_keyword (context, options[3].value, "protocol", protocols, 2);
        }
      if (options[4].value != NULL && options[5].value != NULL)
        return fail_at (context, options[5].value, "an account cannot both keep and delete mail; choose one");
      /* IDLE is an IMAP extension (RFC 2177); POP3 has no way to push. */
      if (options[8].value != NULL && protocol != MAIL_CLIENT_IMAP)
        return fail_at (context, options[8].value,
                        "'idle' needs IMAP (RFC 2177): POP3 cannot push new mail; use 'protocol imap', or drop 'idle' and check with 'poll TIME'");
      /* IMAP leaves mail on the server; POP3 clients delete unless told to keep. */
      gboolean keep = protocol == MAIL_CLIENT_IMAP ? options[5].value == NULL : options[4].value != NULL;
      mail_client_add_account (client, address->text, options[0].value->text, sim_node_get_address (submit),
                               sim_node_get_address (store), protocol, keep);
      mail_client_set_starttls (client, address->text, options[6].value != NULL);
      mail_client_set_idle (client, address->text, options[8].value != NULL);
      if (options[7].value != NULL)
        {
          SimTime interval;
          if (!parse_time_word (context, options[7].value, &interval))
            return FALSE;
          if (interval < SIM_TIME_SECOND)
            return fail_at (context, options[7].value, "poll at most once a second; for example: poll 5m");
          mail_client_set_poll (client, address->text, interval, interval);
        }
    }
  return TRUE;
}

/* tap A B: listen on the link between A and B. */
static gboolean
configure_eavesdropper (BuildContext *context, SimNode *node, const ScenarioStatement *block)
{
  Eavesdropper *eavesdropper = sim_world_add_eavesdropper (context->world, node);
  static const char *const keys[] = { "kind", "address", "tap" };

  for (guint i = 0; i < block->children->len; i++)
    {
      const ScenarioStatement *child = g_ptr_array_index (block->children, i);
      const char *keyword = scenario_statement_keyword (child);
      if (g_str_equal (keyword, "kind") || g_str_equal (keyword, "address"))
        continue;
      if (!g_str_equal (keyword, "tap"))
        return unknown_keyword (context, word_at (child, 0), "setting for an eavesdropper node", keys, G_N_ELEMENTS (keys));
      const ScenarioWord *a_word = require_word (context, child, 1, "the two nodes of a link");
      const ScenarioWord *b_word = a_word != NULL ? require_word (context, child, 2, "a second node name") : NULL;
      SimNode *a = b_word != NULL ? lookup_node (context, a_word) : NULL;
      SimNode *b = a != NULL ? lookup_node (context, b_word) : NULL;
      if (b == NULL || !require_no_block (context, child))
        return FALSE;
      SimLink *link = sim_network_find_link (sim_world_get_network (context->world), a, b);
      if (link == NULL)
        return fail_at (context, a_word, "there is no link between %s and %s to tap; declare it with 'link %s %s'",
                        a_word->text, b_word->text, a_word->text, b_word->text);
      eavesdropper_tap (eavesdropper, link);
    }
  return TRUE;
}

static gboolean
configure_node (BuildContext *context, const ScenarioStatement *statement)
{
  const ScenarioWord *name = word_at (statement, 1);
  SimNode *node = sim_network_find_node (sim_world_get_network (context->world), name->text);
  const char *kind = word_at (find_child (statement, "kind"), 1)->text;

  if (g_str_equal (kind, "dns"))
    return configure_dns (context, node, statement);
  if (g_str_equal (kind, "mailstore"))
    return configure_store (context, node, statement);
  if (g_str_equal (kind, "mta"))
    return configure_mta (context, node, statement);
  if (g_str_equal (kind, "client"))
    return configure_client (context, node, statement);
  if (g_str_equal (kind, "eavesdropper"))
    return configure_eavesdropper (context, node, statement);
  for (guint i = 0; i < statement->children->len; i++)
    {
      const ScenarioStatement *child = g_ptr_array_index (statement->children, i);
      const char *keyword = scenario_statement_keyword (child);
      static const char *const keys[] = { "kind", "address" };
      if (!g_str_equal (keyword, "kind") && !g_str_equal (keyword, "address"))
        return unknown_keyword (context, word_at (child, 0), "setting for a router node", keys, 2);
    }
  sim_world_add_router (context->world, node);
  return TRUE;
}

static gboolean
declare_link (BuildContext *context, const ScenarioStatement *statement)
{
  const ScenarioWord *a_word = require_word (context, statement, 1, "two node names");
  const ScenarioWord *b_word = a_word != NULL ? require_word (context, statement, 2, "a second node name") : NULL;
  SimNode *a, *b;
  SimTime latency = 10 * SIM_TIME_MSEC;
  Option options[] = { { "latency", TRUE, NULL }, { "loss", TRUE, NULL } };
  double loss = 0;
  g_autoptr (GError) local = NULL;

  if (b_word == NULL || !require_no_block (context, statement))
    return FALSE;
  a = lookup_node (context, a_word);
  b = a != NULL ? lookup_node (context, b_word) : NULL;
  if (b == NULL)
    return FALSE;
  if (!parse_options (context, statement, 3, options, G_N_ELEMENTS (options), "link option"))
    return FALSE;
  if (options[0].value != NULL && !parse_time_word (context, options[0].value, &latency))
    return FALSE;
  if (options[1].value != NULL && !parse_loss_word (context, options[1].value, &loss))
    return FALSE;
  SimLink *link = sim_network_add_link (sim_world_get_network (context->world), a, b, latency, &local);
  if (link == NULL)
    return fail_at (context, a_word, "%s", local->message);
  sim_link_set_loss (link, loss);
  return TRUE;
}

/* ---- timeline ---- */

typedef enum
{
  ACTION_SEND,
  ACTION_FETCH,
  ACTION_LINK_DOWN,
  ACTION_LINK_UP,
  ACTION_NODE_DOWN,
  ACTION_NODE_UP,
  ACTION_CONNECT,
  ACTION_INPUT,
  ACTION_CLOSE,
  ACTION_DATAGRAM,
  ACTION_DNS_SET,
  ACTION_DNS_ADD,
  ACTION_DNS_REMOVE,
  ACTION_MAILBOX_FULL,
  ACTION_USER_DELETE,
  ACTION_LINK_LATENCY,
  ACTION_LINK_LOSS,
  ACTION_POLICY,
} ActionKind;

typedef struct
{
  ActionKind kind;
  SimWorld *world;
  MailClient *client;
  char *from;
  GStrv to;
  char *subject;
  char *body;
  SimLink *link;
  SimNode *node;
  SimNode *target;        /* connect, datagram */
  guint id;               /* connect, input, close: the outside client */
  guint16 port;           /* connect, datagram: the target's port */
  guint16 from_port;      /* datagram */
  char *protocol;         /* connect */
  GBytes *payload;        /* input, datagram */
  DnsZone *zone;          /* dns-set, dns-add, dns-remove */
  double loss;            /* link-loss */
  Mta *mta;               /* policy */
  char *policy;           /* policy: the setting, e.g. "greylist" */
  char *value;            /* policy: its value as written, "off" to switch it off */
  guint64 number;         /* policy: a count (rate-limit, spam-threshold) */
  SimTime period;         /* policy: a time (greylist, rate-limit window) */
  char *record;           /* dns-set, dns-add: the record text; dns-remove: the owner */
  guint16 record_type;    /* dns-remove */
  SimTime latency;        /* link-latency */
} TimelineAction;

static void
timeline_action_free (gpointer data)
{
  TimelineAction *action = data;

  g_free (action->from);
  g_strfreev (action->to);
  g_free (action->subject);
  g_free (action->body);
  g_free (action->protocol);
  g_free (action->record);
  g_free (action->policy);
  g_free (action->value);
  if (action->payload != NULL)
    g_bytes_unref (action->payload);
  g_free (action);
}

static void
timeline_action_clear (TimelineAction *action)
{
  timeline_action_free (action);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TimelineAction, timeline_action_clear)

/* The faults an instructor schedules beyond links and nodes: DNS data
 * changing, a mailbox filling up or closing, a path slowing down. */
static void
run_fault (TimelineAction *action)
{
  switch (action->kind)
    {
    case ACTION_DNS_SET:
    case ACTION_DNS_ADD:
      {
        DnsRecord *record = dns_zone_parse_record (action->record, dns_zone_get_origin (action->zone), 3600, NULL, NULL);
        g_autofree char *text = dns_record_to_string (record);
        /* "set" replaces the owner's RRset of that type, "add" joins it. */
        if (action->kind == ACTION_DNS_SET)
          dns_zone_remove (action->zone, record->name, record->type);
        dns_zone_add (action->zone, record);
        sim_node_emit (action->node, SIM_EVENT_ACTION, "", "dns", "action.dns-change",
                       action->kind == ACTION_DNS_SET ? "dns-set" : "dns-add", NULL, "zone %s now holds %s",
                       dns_zone_get_origin (action->zone), text);
        break;
      }
    case ACTION_DNS_REMOVE:
      {
        gboolean removed = dns_zone_remove (action->zone, action->record, action->record_type);
        sim_node_emit (action->node, SIM_EVENT_ACTION, "", "dns", "action.dns-change", "dns-remove", NULL,
                       removed ? "zone %s no longer holds %s %s" : "zone %s held no %s %s to remove",
                       dns_zone_get_origin (action->zone), dns_type_to_string (action->record_type), action->record);
        break;
      }
    case ACTION_MAILBOX_FULL:
      {
        MailStore *store = sim_world_find_store_for (action->world, action->from);
        gsize usage = store != NULL ? mail_store_get_usage (store, action->from) : 0;
        /* Quota 0 means "none", so an empty mailbox gets a 1-octet quota. */
        if (store != NULL)
          mail_store_set_quota (store, action->from, MAX (usage, 1));
        sim_node_emit (action->node, SIM_EVENT_ACTION, "", "mail", "action.mailbox-full", "mailbox-full", NULL,
                       "%s's mailbox is full: its quota is now the %" G_GSIZE_FORMAT " octets it holds", action->from,
                       usage);
        break;
      }
    case ACTION_USER_DELETE:
      {
        MailStore *store = sim_world_find_store_for (action->world, action->from);
        if (store != NULL)
          mail_store_remove_user (store, action->from);
        sim_node_emit (action->node, SIM_EVENT_ACTION, "", "mail", "action.user-delete", "user-delete", NULL,
                       "%s's mailbox is deleted: the account is closed", action->from);
        break;
      }
    case ACTION_LINK_LATENCY:
      {
        g_autofree char *when = sim_time_to_string (action->latency);
        sim_link_set_latency (action->link, action->latency);
        sim_node_emit (sim_link_get_a (action->link), SIM_EVENT_ACTION, sim_node_get_name (sim_link_get_b (action->link)),
                       "net", "action.fault", "link-latency", NULL, "the link %s - %s now takes %s each way",
                       sim_node_get_name (sim_link_get_a (action->link)),
                       sim_node_get_name (sim_link_get_b (action->link)), when);
        break;
      }
    default:
      break;
    }
}

static void
run_action (gpointer data)
{
  TimelineAction *action = data;
  SimNode *a, *b;

  switch (action->kind)
    {
    case ACTION_SEND:
      mail_client_send (action->client, action->from, (const char *const *) action->to, action->subject, action->body);
      break;
    case ACTION_FETCH:
      mail_client_fetch (action->client, action->from);
      break;
    case ACTION_LINK_DOWN:
    case ACTION_LINK_UP:
      a = sim_link_get_a (action->link);
      b = sim_link_get_b (action->link);
      sim_link_set_up (action->link, action->kind == ACTION_LINK_UP);
      sim_node_emit (a, SIM_EVENT_ACTION, sim_node_get_name (b), "net", "action.fault",
                     action->kind == ACTION_LINK_UP ? "link-up" : "link-down", NULL, "the link %s - %s goes %s",
                     sim_node_get_name (a), sim_node_get_name (b), action->kind == ACTION_LINK_UP ? "up" : "down");
      break;
    case ACTION_NODE_DOWN:
    case ACTION_NODE_UP:
      sim_node_emit (action->node, SIM_EVENT_ACTION, "", "net", "action.fault",
                     action->kind == ACTION_NODE_UP ? "node-up" : "node-down", NULL, "%s %s",
                     sim_node_get_name (action->node), action->kind == ACTION_NODE_UP ? "comes back up" : "goes down");
      sim_world_set_node_up (action->world, action->node, action->kind == ACTION_NODE_UP);
      break;
    case ACTION_CONNECT:
      sim_external_connect (sim_external_get (action->world), action->id, action->node, action->target, action->port,
                            action->protocol, NULL, NULL, NULL);
      break;
    case ACTION_INPUT:
      sim_external_input (sim_external_get (action->world), action->id, g_bytes_get_data (action->payload, NULL),
                          g_bytes_get_size (action->payload));
      break;
    case ACTION_CLOSE:
      sim_external_close (sim_external_get (action->world), action->id);
      break;
    case ACTION_DATAGRAM:
      /* Allocate as the live run did, so later ports match too. */
      sim_node_allocate_port (action->node);
      sim_external_datagram (sim_external_get (action->world), action->node, action->from_port, action->target,
                             action->port, action->payload);
      break;
    case ACTION_DNS_SET:
    case ACTION_DNS_ADD:
    case ACTION_DNS_REMOVE:
    case ACTION_MAILBOX_FULL:
    case ACTION_USER_DELETE:
    case ACTION_LINK_LATENCY:
      run_fault (action);
      break;
    case ACTION_LINK_LOSS:
      sim_link_set_loss (action->link, action->loss);
      sim_node_emit (sim_link_get_a (action->link), SIM_EVENT_ACTION, sim_node_get_name (sim_link_get_b (action->link)),
                     "net", "action.fault", "link-loss", NULL, "the link %s - %s now loses %g%% of its packets",
                     sim_node_get_name (sim_link_get_a (action->link)), sim_node_get_name (sim_link_get_b (action->link)),
                     action->loss * 100);
      break;
    case ACTION_POLICY:
      {
        gboolean off = g_str_equal (action->value, "off");
        if (g_str_equal (action->policy, "greylist"))
          mta_set_greylist (action->mta, off ? 0 : action->period);
        else if (g_str_equal (action->policy, "rate-limit"))
          mta_set_rate_limit (action->mta, off ? 0 : (guint) action->number, action->period);
        else if (g_str_equal (action->policy, "dnsbl"))
          mta_set_dnsbl (action->mta, off ? NULL : action->value);
        else if (g_str_equal (action->policy, "spam-threshold"))
          {
            if (off)
              mta_disable_spam_scoring (action->mta);
            else
              mta_set_spam_threshold (action->mta, (guint) action->number);
          }
        else if (g_str_equal (action->policy, "spf"))
          mta_set_spf (action->mta, !off, g_str_equal (action->value, "reject-fail"));
        sim_node_emit (action->node, SIM_EVENT_ACTION, "", "mail", "action.policy", "policy", NULL,
                       "%s changes its policy: %s %s", sim_node_get_name (action->node), action->policy, action->value);
        break;
      }
    }
}

/* "20%" or "0.2": a chance between 0 and 1. */
static gboolean
parse_loss_word (BuildContext *context, const ScenarioWord *word, double *loss)
{
  g_autofree char *number = g_strdup (word->text);
  gsize length = strlen (number);
  gboolean percent = length > 0 && number[length - 1] == '%';
  char *end = NULL;

  if (percent)
    number[length - 1] = '\0';
  *loss = g_ascii_strtod (number, &end);
  if (end == number || *end != '\0' || *loss < 0 || (percent ? *loss > 100 : *loss > 1))
    return fail_at (context, word, "expected a loss such as 10%% or 0.1, found '%s'", word->text);
  if (percent)
    *loss /= 100;
  return TRUE;
}

/* policy NODE SETTING VALUE...: an MTA's policy switched on, changed or off. */
static gboolean
parse_policy (BuildContext *context, const ScenarioStatement *statement, TimelineAction *action)
{
  static const char *const settings[] = { "greylist", "rate-limit", "dnsbl", "spam-threshold", "spf" };
  const ScenarioWord *name = require_word (context, statement, 3, "an mta node");
  const ScenarioWord *setting = name != NULL ? require_word (context, statement, 4, "a setting (greylist, rate-limit, dnsbl, spam-threshold, spf)") : NULL;
  const ScenarioWord *value = setting != NULL ? require_word (context, statement, 5, "a value, or 'off'") : NULL;
  SimRoleKind kind = SIM_ROLE_ROUTER;
  guint expected_words = 6;

  if (value == NULL || (action->node = lookup_node (context, name)) == NULL)
    return FALSE;
  action->mta = sim_world_find_role (context->world, name->text, &kind);
  if (action->mta == NULL || kind != SIM_ROLE_MTA)
    return fail_at (context, name, "'%s' is not an mta node; policies belong to MTAs", name->text);
  gboolean known = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    known |= g_str_equal (setting->text, settings[i]);
  if (!known)
    return unknown_keyword (context, setting, "policy", settings, G_N_ELEMENTS (settings));
  action->policy = g_strdup (setting->text);
  action->value = g_strdup (value->text);
  if (!g_str_equal (value->text, "off"))
    {
      if (g_str_equal (setting->text, "greylist") && !parse_time_word (context, value, &action->period))
        return FALSE;
      if (g_str_equal (setting->text, "spam-threshold") && !parse_count_word (context, value, &action->number))
        return FALSE;
      if (g_str_equal (setting->text, "spf") && !g_str_equal (value->text, "check") && !g_str_equal (value->text, "reject-fail"))
        return fail_at (context, value, "spf takes check, reject-fail or off");
      if (g_str_equal (setting->text, "rate-limit"))
        {
          const ScenarioWord *per = require_word (context, statement, 6, "'per'");
          const ScenarioWord *window = per != NULL ? require_word (context, statement, 7, "a time window such as 1m") : NULL;
          if (window == NULL || !parse_count_word (context, value, &action->number) || action->number == 0)
            return window == NULL ? FALSE : fail_at (context, value, "a rate limit needs at least 1 recipient");
          if (!g_str_equal (per->text, "per"))
            return fail_at (context, per, "expected 'per', as in: policy mx.example.org rate-limit 5 per 1m");
          if (!parse_time_word (context, window, &action->period))
            return FALSE;
          g_free (action->value);
          action->value = g_strdup_printf ("%s per %s", value->text, window->text);
          expected_words = 8;
        }
    }
  if (statement->words->len > expected_words)
    return fail_at (context, word_at (statement, expected_words), "unexpected '%s'", word_at (statement, expected_words)->text);
  action->kind = ACTION_POLICY;
  return TRUE;
}

/* "base64 TEXT", "line TEXT" (CRLF added) or "text TEXT" (each \n sent
 * as CRLF). */
static GBytes *
parse_payload (BuildContext *context, const ScenarioStatement *statement, guint index)
{
  static const char *const forms[] = { "base64", "line", "text" };
  const ScenarioWord *form = require_word (context, statement, index, "base64, line or text");
  const ScenarioWord *value = form != NULL ? require_word (context, statement, index + 1, "the bytes in quotes") : NULL;

  if (value == NULL)
    return NULL;
  if (statement->words->len > index + 2)
    {
      fail_at (context, word_at (statement, index + 2), "unexpected '%s'; put the bytes in one pair of quotes",
               word_at (statement, index + 2)->text);
      return NULL;
    }
  if (g_str_equal (form->text, "line"))
    return g_bytes_new_take (g_strconcat (value->text, "\r\n", NULL), strlen (value->text) + 2);
  if (g_str_equal (form->text, "text"))
    {
      /* Protocol lines end in CRLF: each \n of the text becomes one. */
      GString *crlf = g_string_new (NULL);
      for (const char *c = value->text; *c != '\0'; c++)
        {
          if (*c == '\n' && (c == value->text || c[-1] != '\r'))
            g_string_append_c (crlf, '\r');
          g_string_append_c (crlf, *c);
        }
      return g_string_free_to_bytes (crlf);
    }
  if (g_str_equal (form->text, "base64"))
    {
      gsize length = 0;
      for (const char *c = value->text; *c != '\0'; c++)
        if (!g_ascii_isalnum (*c) && *c != '+' && *c != '/' && *c != '=')
          {
            fail_at (context, value, "'%s' is not base64", value->text);
            return NULL;
          }
      guchar *decoded = g_base64_decode (value->text, &length);
      return g_bytes_new_take (decoded, length);
    }
  unknown_keyword (context, form, "input form", forms, G_N_ELEMENTS (forms));
  return NULL;
}

static gboolean
parse_port_word (BuildContext *context, const ScenarioWord *word, guint16 *port)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (word->text, 10, 1, 65535, &value, NULL))
    return fail_at (context, word, "expected a port number from 1 to 65535, found '%s'", word->text);
  *port = (guint16) value;
  return TRUE;
}

static MailClient *
client_for (BuildContext *context, const ScenarioWord *address)
{
  MailClient *client;

  if (!require_address (context, address))
    return NULL;
  client = sim_world_find_client_for (context->world, address->text);
  if (client == NULL)
    fail_at (context, address, "no client node has an account for %s; add 'account %s password ... submit ... store ...' to a client node",
             address->text, address->text);
  return client;
}

/* The node whose mail store is @store. */
static SimNode *
node_of_store (SimWorld *world, MailStore *store)
{
  GPtrArray *names = sim_world_get_role_names (world);

  for (guint i = 0; i < names->len; i++)
    {
      SimRoleKind kind = SIM_ROLE_ROUTER;
      if (sim_world_find_role (world, g_ptr_array_index (names, i), &kind) == store && kind == SIM_ROLE_STORE)
        return sim_network_find_node (sim_world_get_network (world), g_ptr_array_index (names, i));
    }
  return NULL;
}

/* dns-set NODE ZONE "RECORD", dns-add NODE ZONE "RECORD",
 * dns-remove NODE ZONE NAME TYPE, mailbox-full ADDRESS, user-delete ADDRESS,
 * link-latency A B TIME. */
static gboolean
parse_fault (BuildContext *context, const ScenarioStatement *statement, const ScenarioWord *verb,
             TimelineAction *action)
{
  guint expected_words = 0;

  if (g_str_has_prefix (verb->text, "dns-"))
    {
      gboolean remove = g_str_equal (verb->text, "dns-remove");
      const ScenarioWord *name = require_word (context, statement, 3, "the dns node's name");
      const ScenarioWord *origin = name != NULL ? require_word (context, statement, 4, "a zone such as example.org.") : NULL;
      const ScenarioWord *data = origin != NULL ? require_word (context, statement, 5, remove ? "the owner name (@ for the zone's origin)" : "a record in quotes, such as \"@ MX 10 mx2\"") : NULL;
      SimRoleKind kind = SIM_ROLE_ROUTER;
      DnsServer *server;
      if (data == NULL || (action->node = lookup_node (context, name)) == NULL)
        return FALSE;
      server = sim_world_find_role (context->world, name->text, &kind);
      if (server == NULL || kind != SIM_ROLE_DNS)
        return fail_at (context, name, "'%s' is not a dns node", name->text);
      action->zone = dns_server_find_zone (server, origin->text);
      if (action->zone == NULL)
        return fail_at (context, origin, "%s serves no zone '%s'", name->text, origin->text);
      if (remove)
        {
          const ScenarioWord *type = require_word (context, statement, 6, "a record type such as MX");
          if (type == NULL)
            return FALSE;
          if (!dns_type_from_string (type->text, &action->record_type))
            return fail_at (context, type, "unknown record type '%s'; for example A, MX or TXT", type->text);
          const char *zone_origin = dns_zone_get_origin (action->zone);
          if (g_str_equal (data->text, "@"))
            action->record = g_strdup (zone_origin);
          else if (g_str_has_suffix (data->text, "."))
            action->record = g_strdup (data->text);
          else
            action->record = g_strconcat (data->text, ".", zone_origin, NULL);
          action->kind = ACTION_DNS_REMOVE;
          expected_words = 7;
        }
      else
        {
          gsize column = 0;
          g_autoptr (GError) local = NULL;
          g_autoptr (DnsRecord) record = dns_zone_parse_record (data->text, dns_zone_get_origin (action->zone), 3600,
                                                                &column, &local);
          if (record == NULL)
            return fail_at (context, data, "%s", local->message);
          if (!dns_name_is_subdomain (record->name, dns_zone_get_origin (action->zone)))
            return fail_at (context, data, "%s is outside the zone %s", record->name, dns_zone_get_origin (action->zone));
          action->record = g_strdup (data->text);
          action->kind = g_str_equal (verb->text, "dns-set") ? ACTION_DNS_SET : ACTION_DNS_ADD;
          expected_words = 6;
        }
    }
  else if (g_str_equal (verb->text, "mailbox-full") || g_str_equal (verb->text, "user-delete"))
    {
      const ScenarioWord *address = require_word (context, statement, 3, "an email address");
      MailStore *store;
      if (address == NULL || !require_address (context, address))
        return FALSE;
      store = sim_world_find_store_for (context->world, address->text);
      if (store == NULL)
        return fail_at (context, address, "no mailstore node has a mailbox for %s", address->text);
      action->node = node_of_store (context->world, store);
      action->from = g_strdup (address->text);
      action->kind = g_str_equal (verb->text, "mailbox-full") ? ACTION_MAILBOX_FULL : ACTION_USER_DELETE;
      expected_words = 4;
    }
  else
    {
      const ScenarioWord *a_word = require_word (context, statement, 3, "two node names");
      const ScenarioWord *b_word = a_word != NULL ? require_word (context, statement, 4, "a second node name") : NULL;
      const ScenarioWord *latency = b_word != NULL ? require_word (context, statement, 5, "a latency such as 200ms") : NULL;
      SimNode *a = latency != NULL ? lookup_node (context, a_word) : NULL;
      SimNode *b = a != NULL ? lookup_node (context, b_word) : NULL;
      if (b == NULL || !parse_time_word (context, latency, &action->latency))
        return FALSE;
      action->link = sim_network_find_link (sim_world_get_network (context->world), a, b);
      if (action->link == NULL)
        return fail_at (context, a_word, "there is no link between %s and %s", a_word->text, b_word->text);
      action->kind = ACTION_LINK_LATENCY;
      expected_words = 6;
    }
  if (statement->words->len > expected_words)
    return fail_at (context, word_at (statement, expected_words), "unexpected '%s' after '%s'",
                    word_at (statement, expected_words)->text, verb->text);
  return TRUE;
}

/* The client node @device_word, which must hold an account for @address
 * (a user with a laptop and a phone has one on each). */
static MailClient *
device_for (BuildContext *context, const ScenarioWord *address, const ScenarioWord *device_word)
{
  SimNode *device = lookup_node (context, device_word);
  SimRoleKind kind = SIM_ROLE_ROUTER;
  MailClient *client = device != NULL ? sim_world_find_role (context->world, device_word->text, &kind) : NULL;

  if (device == NULL)
    return NULL;
  if (client == NULL || kind != SIM_ROLE_CLIENT || !mail_client_has_account (client, address->text))
    {
      fail_at (context, device_word, "%s is not a client node with an account for %s", device_word->text, address->text);
      return NULL;
    }
  return client;
}

static gboolean
schedule_action (BuildContext *context, const ScenarioStatement *statement)
{
  static const char *const actions[] = {
    "send", "fetch", "link-down", "link-up", "node-down", "node-up", "connect", "input", "close", "datagram",
    "dns-set", "dns-add", "dns-remove", "mailbox-full", "user-delete", "link-latency", "link-loss", "policy",
  };
  const ScenarioWord *at = word_at (statement, 0);
  const ScenarioWord *time_word, *verb;
  SimTime when;
  g_autoptr (TimelineAction) action = g_new0 (TimelineAction, 1);

  if (!g_str_equal (at->text, "at"))
    return fail_at (context, at, "a timeline entry starts with 'at TIME', like: at 1s send alice@example.com to bob@example.org");
  time_word = require_word (context, statement, 1, "a time such as 1s");
  if (time_word == NULL || !parse_time_word (context, time_word, &when))
    return FALSE;
  verb = require_word (context, statement, 2, "an action (send, fetch, link-down, link-up, node-down, node-up)");
  if (verb == NULL || !require_no_block (context, statement))
    return FALSE;
  action->world = context->world;
  if (g_str_equal (verb->text, "send"))
    {
      const ScenarioWord *from = require_word (context, statement, 3, "the sender's address");
      if (from == NULL || (action->client = client_for (context, from)) == NULL)
        return FALSE;
      Option options[] = { { "to", TRUE, NULL }, { "subject", TRUE, NULL }, { "body", TRUE, NULL } };
      if (!parse_options (context, statement, 4, options, G_N_ELEMENTS (options), "send option")
          || !require_option (context, statement, &options[0], "at 1s send alice@example.com to bob@example.org subject \"Hi\""))
        return FALSE;
      action->kind = ACTION_SEND;
      action->from = g_strdup (from->text);
      action->to = g_strsplit (options[0].value->text, ",", -1);
      for (guint i = 0; action->to[i] != NULL; i++)
        if (!is_address (action->to[i]))
          return fail_at (context, options[0].value, "'%s' is not an email address; separate recipients with commas, no spaces",
                          action->to[i]);
      action->subject = g_strdup (options[1].value != NULL ? options[1].value->text : "");
      action->body = g_strdup (options[2].value != NULL ? options[2].value->text : "");
    }
  else if (g_str_equal (verb->text, "fetch"))
    {
      const ScenarioWord *who = require_word (context, statement, 3, "the address whose mail to fetch");
      if (who == NULL || (action->client = client_for (context, who)) == NULL)
        return FALSE;
      Option options[] = { { "on", TRUE, NULL } };
      if (!parse_options (context, statement, 4, options, 1, "fetch option"))
        return FALSE;
      if (options[0].value != NULL && (action->client = device_for (context, who, options[0].value)) == NULL)
        return FALSE;
      action->kind = ACTION_FETCH;
      action->from = g_strdup (who->text);
    }
  else if (g_str_equal (verb->text, "link-down") || g_str_equal (verb->text, "link-up"))
    {
      const ScenarioWord *a_word = require_word (context, statement, 3, "two node names");
      const ScenarioWord *b_word = a_word != NULL ? require_word (context, statement, 4, "a second node name") : NULL;
      SimNode *a = b_word != NULL ? lookup_node (context, a_word) : NULL;
      SimNode *b = a != NULL ? lookup_node (context, b_word) : NULL;
      if (b == NULL)
        return FALSE;
      action->link = sim_network_find_link (sim_world_get_network (context->world), a, b);
      if (action->link == NULL)
        return fail_at (context, a_word, "there is no link between %s and %s; declare it with 'link %s %s latency 10ms'",
                        a_word->text, b_word->text, a_word->text, b_word->text);
      action->kind = g_str_equal (verb->text, "link-down") ? ACTION_LINK_DOWN : ACTION_LINK_UP;
    }
  else if (g_str_equal (verb->text, "node-down") || g_str_equal (verb->text, "node-up"))
    {
      const ScenarioWord *name = require_word (context, statement, 3, "a node name");
      if (name == NULL || (action->node = lookup_node (context, name)) == NULL)
        return FALSE;
      action->kind = g_str_equal (verb->text, "node-down") ? ACTION_NODE_DOWN : ACTION_NODE_UP;
    }
  else if (g_str_equal (verb->text, "connect"))
    {
      /* connect ID from NODE to NODE PORT [protocol P] */
      const ScenarioWord *id = require_word (context, statement, 3, "a connection number");
      guint64 number = 0;
      if (id == NULL || !parse_count_word (context, id, &number))
        return FALSE;
      Option options[] = { { "from", TRUE, NULL }, { "to", TRUE, NULL }, { "protocol", TRUE, NULL } };
      const char *example = "at 1s connect 1 from outsider to mx.example.org 25 protocol smtp";
      guint port_index = 0;
      /* "to NODE PORT": the port follows the node. */
      for (guint w = 4; w < statement->words->len; w++)
        if (g_str_equal (word_at (statement, w)->text, "to"))
          port_index = w + 2;
      if (port_index == 0 || port_index >= statement->words->len)
        return fail_at (context, id, "expected 'from NODE to NODE PORT'; for example: %s", example);
      const ScenarioWord *port_word = word_at (statement, port_index);
      if (!parse_port_word (context, port_word, &action->port))
        return FALSE;
      /* Parse the options around the port. */
      g_autoptr (GPtrArray) saved = g_ptr_array_new ();
      for (guint w = 0; w < statement->words->len; w++)
        if (w != port_index)
          g_ptr_array_add (saved, g_ptr_array_index (statement->words, w));
      ScenarioStatement view = *statement;
      view.words = saved;
      if (!parse_options (context, &view, 4, options, G_N_ELEMENTS (options), "connect option")
          || !require_option (context, statement, &options[0], example)
          || !require_option (context, statement, &options[1], example))
        return FALSE;
      if ((action->node = lookup_node (context, options[0].value)) == NULL
          || (action->target = lookup_node (context, options[1].value)) == NULL)
        return FALSE;
      action->kind = ACTION_CONNECT;
      action->id = (guint) number;
      action->protocol = g_strdup (options[2].value != NULL ? options[2].value->text : "smtp");
    }
  else if (g_str_equal (verb->text, "input") || g_str_equal (verb->text, "close"))
    {
      const ScenarioWord *id = require_word (context, statement, 3, "a connection number");
      guint64 number = 0;
      if (id == NULL || !parse_count_word (context, id, &number))
        return FALSE;
      action->id = (guint) number;
      if (g_str_equal (verb->text, "close"))
        {
          if (statement->words->len > 4)
            return fail_at (context, word_at (statement, 4), "'close' takes only the connection number");
          action->kind = ACTION_CLOSE;
        }
      else
        {
          action->kind = ACTION_INPUT;
          if ((action->payload = parse_payload (context, statement, 4)) == NULL)
            return FALSE;
        }
    }
  else if (g_str_equal (verb->text, "datagram"))
    {
      /* datagram from NODE port P to NODE PORT base64 "..." */
      const char *example = "at 1s datagram from outsider port 49152 to ns.example.org 53 base64 \"...\"";
      const ScenarioWord *words[6];
      static const char *const expected[] = { "from", NULL, "port", NULL, "to", NULL };
      for (guint w = 0; w < 6; w++)
        {
          words[w] = require_word (context, statement, 3 + w, expected[w] != NULL ? expected[w] : "a value");
          if (words[w] == NULL)
            return FALSE;
          if (expected[w] != NULL && !g_str_equal (words[w]->text, expected[w]))
            return fail_at (context, words[w], "expected '%s'; for example: %s", expected[w], example);
        }
      const ScenarioWord *port_word = require_word (context, statement, 9, "the destination port");
      if (port_word == NULL || !parse_port_word (context, words[3], &action->from_port)
          || !parse_port_word (context, port_word, &action->port))
        return FALSE;
      if ((action->node = lookup_node (context, words[1])) == NULL
          || (action->target = lookup_node (context, words[5])) == NULL)
        return FALSE;
      if ((action->payload = parse_payload (context, statement, 10)) == NULL)
        return FALSE;
      action->kind = ACTION_DATAGRAM;
    }
  else if (g_str_equal (verb->text, "dns-set") || g_str_equal (verb->text, "dns-add")
           || g_str_equal (verb->text, "dns-remove") || g_str_equal (verb->text, "mailbox-full")
           || g_str_equal (verb->text, "user-delete") || g_str_equal (verb->text, "link-latency"))
    {
      if (!parse_fault (context, statement, verb, action))
        return FALSE;
    }
  else if (g_str_equal (verb->text, "link-loss"))
    {
      const ScenarioWord *a_word = require_word (context, statement, 3, "two node names");
      const ScenarioWord *b_word = a_word != NULL ? require_word (context, statement, 4, "a second node name") : NULL;
      const ScenarioWord *loss = b_word != NULL ? require_word (context, statement, 5, "a loss such as 10%") : NULL;
      SimNode *a = loss != NULL ? lookup_node (context, a_word) : NULL;
      SimNode *b = a != NULL ? lookup_node (context, b_word) : NULL;
      if (b == NULL || !parse_loss_word (context, loss, &action->loss))
        return FALSE;
      action->link = sim_network_find_link (sim_world_get_network (context->world), a, b);
      if (action->link == NULL)
        return fail_at (context, a_word, "there is no link between %s and %s", a_word->text, b_word->text);
      if (statement->words->len > 6)
        return fail_at (context, word_at (statement, 6), "unexpected '%s'", word_at (statement, 6)->text);
      action->kind = ACTION_LINK_LOSS;
    }
  else if (g_str_equal (verb->text, "policy"))
    {
      if (!parse_policy (context, statement, action))
        return FALSE;
    }
  else
    return unknown_keyword (context, verb, "timeline action", actions, G_N_ELEMENTS (actions));
  sim_scheduler_at (sim_world_get_scheduler (context->world), when, run_action, g_steal_pointer (&action),
                    timeline_action_free);
  return TRUE;
}

/* ---- expectations (checked at the end of a run) ---- */

static const char *const expectation_kinds[] = {
  "delivered", "fetched", "bounced", "accepted", "queued", "reply", "seen", "duplicates",
};

static gboolean check_expectation (BuildContext *context, const ScenarioStatement *statement, gboolean evaluate,
                                   gboolean *passed, GString *explanation);

/* ---- building ---- */

static const char *const top_keywords[] = {
  "title", "description", "goal", "seed", "duration", "fingerprint", "node", "link", "timeline", "expect",
};

static gboolean
build_world (BuildContext *context)
{
  GPtrArray *statements = context->scenario->root->children;

  /* Pass 1: nodes and their addresses, so any statement may name any node. */
  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (g_str_equal (scenario_statement_keyword (statement), "node") && !declare_node (context, statement))
        return FALSE;
    }
  /* Pass 2: links, then what each node does, then the timeline. */
  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (g_str_equal (scenario_statement_keyword (statement), "link") && !declare_link (context, statement))
        return FALSE;
    }
  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (g_str_equal (scenario_statement_keyword (statement), "node") && !configure_node (context, statement))
        return FALSE;
    }
  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      const char *keyword = scenario_statement_keyword (statement);
      if (g_str_equal (keyword, "timeline") || g_str_equal (keyword, "expect"))
        {
          if (statement->children == NULL)
            return fail_at (context, word_at (statement, 0), "'%s' needs a block: %s { ... }", keyword, keyword);
          for (guint c = 0; c < statement->children->len; c++)
            {
              const ScenarioStatement *child = g_ptr_array_index (statement->children, c);
              gboolean ignored;
              if (g_str_equal (keyword, "timeline") ? !schedule_action (context, child)
                                                    : !check_expectation (context, child, FALSE, &ignored, NULL))
                return FALSE;
            }
        }
    }
  return TRUE;
}

SimWorld *
scenario_build (const Scenario *self, guint64 seed, GError **error)
{
  SimWorld *world = sim_world_new (seed);
  BuildContext context = { self, world, error };

  if (!build_world (&context))
    {
      sim_world_free (world);
      return NULL;
    }
  return world;
}

static gboolean
read_metadata (Scenario *self, GError **error)
{
  BuildContext context = { self, NULL, error };
  GPtrArray *statements = self->root->children;

  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      const ScenarioWord *keyword = word_at (statement, 0);
      gboolean known = FALSE;
      for (gsize k = 0; k < G_N_ELEMENTS (top_keywords); k++)
        known |= g_str_equal (keyword->text, top_keywords[k]);
      if (!known)
        return unknown_keyword (&context, keyword, "statement", top_keywords, G_N_ELEMENTS (top_keywords));
      if (g_str_equal (keyword->text, "title") || g_str_equal (keyword->text, "description")
          || g_str_equal (keyword->text, "goal"))
        {
          const ScenarioWord *text = require_word (&context, statement, 1, "a text in quotes");
          if (text == NULL || !require_no_block (&context, statement))
            return FALSE;
          if (statement->words->len > 2)
            return fail_at (&context, word_at (statement, 2), "put the whole text in one pair of quotes");
          if (g_str_equal (keyword->text, "title"))
            {
              g_free (self->title);
              self->title = g_strdup (text->text);
            }
          else if (g_str_equal (keyword->text, "description"))
            {
              g_free (self->description);
              self->description = g_strdup (text->text);
            }
          else
            g_ptr_array_add (self->goals, g_strdup (text->text));
        }
      else if (g_str_equal (keyword->text, "seed"))
        {
          const ScenarioWord *value = require_word (&context, statement, 1, "a number");
          if (value == NULL || !parse_count_word (&context, value, &self->seed))
            return FALSE;
        }
      else if (g_str_equal (keyword->text, "fingerprint"))
        {
          const ScenarioWord *value = require_word (&context, statement, 1, "16 hexadecimal digits");
          if (value == NULL)
            return FALSE;
          gboolean hex = strlen (value->text) == 16;
          for (const char *c = value->text; hex && *c != '\0'; c++)
            hex = g_ascii_isxdigit (*c);
          if (!hex)
            return fail_at (&context, value, "a fingerprint is 16 hexadecimal digits, as 'mailsim fingerprint' prints; "
                                              "'mailsim check --update-fingerprints' writes it");
          g_free (self->fingerprint);
          self->fingerprint = g_ascii_strdown (value->text, -1);
        }
      else if (g_str_equal (keyword->text, "duration"))
        {
          const ScenarioWord *value = require_word (&context, statement, 1, "a time such as 1h");
          if (value == NULL || !parse_time_word (&context, value, &self->duration))
            return FALSE;
        }
    }
  if (self->title == NULL)
    {
      scenario_set_error_at (error, self->filename, 1, 1, "the scenario needs a title: add 'title \"...\"' at the top");
      return FALSE;
    }
  return TRUE;
}

Scenario *
scenario_load_from_text (const char *filename, const char *text, gsize length, GError **error)
{
  g_autoptr (Scenario) self = g_new0 (Scenario, 1);
  g_autoptr (SimWorld) check = NULL;

  self->filename = g_strdup (filename);
  self->goals = g_ptr_array_new_with_free_func (g_free);
  self->seed = 1;
  self->duration = SCENARIO_DEFAULT_DURATION;
  self->root = scenario_syntax_parse (filename, text, length, error);
  if (self->root == NULL || !read_metadata (self, error))
    return NULL;
  /* Build once now so every semantic error is reported at load time. */
  check = scenario_build (self, self->seed, error);
  if (check == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

Scenario *
scenario_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize length = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, &length, &local))
    {
      g_set_error (error, SCENARIO_ERROR, SCENARIO_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return scenario_load_from_text (path, text, length, error);
}

void
scenario_free (Scenario *self)
{
  if (self == NULL)
    return;
  g_free (self->filename);
  if (self->root != NULL)
    scenario_statement_free (self->root);
  g_free (self->title);
  g_free (self->description);
  g_free (self->fingerprint);
  g_ptr_array_unref (self->goals);
  g_free (self);
}

const char *
scenario_get_title (const Scenario *self)
{
  return self->title;
}

const char *
scenario_get_description (const Scenario *self)
{
  return self->description != NULL ? self->description : "";
}

GPtrArray *
scenario_get_goals (const Scenario *self)
{
  return self->goals;
}

guint64
scenario_get_seed (const Scenario *self)
{
  return self->seed;
}

SimTime
scenario_get_duration (const Scenario *self)
{
  return self->duration;
}

const char *
scenario_get_fingerprint (const Scenario *self)
{
  return self->fingerprint;
}

const char *
scenario_get_filename (const Scenario *self)
{
  return self->filename;
}

GArray *
scenario_get_statement_lines (const Scenario *self, const char *keyword)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (guint));
  GPtrArray *statements = self->root->children;

  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (!g_str_equal (scenario_statement_keyword (statement), keyword))
        continue;
      guint first = statement->line;
      guint last = statement->children != NULL ? statement->close_line : last_word (statement)->line;
      g_array_append_val (lines, first);
      g_array_append_val (lines, last);
    }
  return lines;
}

/* ---- expectations ---- */

static gboolean
subject_matches (GBytes *message, const char *subject)
{
  g_autofree char *value = NULL;

  if (subject == NULL)
    return TRUE;
  value = mail_message_get_header (message, "Subject");
  return value != NULL && g_str_equal (value, subject);
}

/* Appends the MAIL and NOTE events that mention @needle, as evidence. */
static void
append_evidence (SimWorld *world, GString *explanation, const char *needle)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  guint shown = 0;

  for (guint i = 0; i < events->len && shown < 8; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      char clock[32];
      if (event->kind != SIM_EVENT_MAIL && event->kind != SIM_EVENT_NOTE && event->kind != SIM_EVENT_ACTION)
        continue;
      if (event->text == NULL || (needle != NULL && strstr (event->text, needle) == NULL))
        continue;
      g_string_append_printf (explanation, "\n      %s  %s: %s", sim_time_format_clock (event->time, clock),
                              event->from, event->text);
      shown++;
    }
  if (shown == 0)
    g_string_append (explanation, "\n      (no event of the run mentions it)");
}

static gboolean
check_count (BuildContext *context, const ScenarioStatement *statement, gboolean evaluate, guint actual,
             gboolean *passed, GString *explanation, const char *what)
{
  const ScenarioWord *value = require_word (context, statement, 1, "a number, or 'none'");
  guint64 expected = 0;

  if (value == NULL)
    return FALSE;
  if (!g_str_equal (value->text, "none") && !parse_count_word (context, value, &expected))
    return FALSE;
  if (statement->words->len > 2)
    return fail_at (context, word_at (statement, 2), "'%s' takes one number", word_at (statement, 0)->text);
  if (!evaluate)
    return TRUE;
  *passed = actual == expected;
  g_string_append_printf (explanation, "%s %" G_GUINT64_FORMAT, what, expected);
  if (!*passed)
    g_string_append_printf (explanation, ": expected %" G_GUINT64_FORMAT ", the run had %u", expected, actual);
  return TRUE;
}

/* The subjects the timeline's 'send' actions use, plus those of the reports
 * MTAs write themselves. (transfer container) */
static GPtrArray *
sent_subjects (const Scenario *self)
{
  GPtrArray *subjects = g_ptr_array_new ();
  GPtrArray *statements = self->root->children;

  g_ptr_array_add (subjects, (gpointer) "Undelivered Mail Returned to Sender");
  g_ptr_array_add (subjects, (gpointer) "Delayed Mail (still being retried)");
  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (!g_str_equal (scenario_statement_keyword (statement), "timeline") || statement->children == NULL)
        continue;
      for (guint c = 0; c < statement->children->len; c++)
        {
          const ScenarioStatement *action = g_ptr_array_index (statement->children, c);
          for (guint w = 3; w + 1 < action->words->len; w++)
            if (g_str_equal (word_at (action, w)->text, "subject") && !word_at (action, w)->quoted)
              g_ptr_array_add (subjects, word_at (action, w + 1)->text);
        }
    }
  return subjects;
}

/* Whether some message of the scenario can carry @subject: a 'send' with
 * it, a report from an MTA, or any message when raw sessions ('input') may
 * write their own. */
static gboolean
subject_is_sent (const Scenario *self, const char *subject)
{
  g_autoptr (GPtrArray) subjects = sent_subjects (self);
  GPtrArray *statements = self->root->children;

  for (guint i = 0; i < subjects->len; i++)
    if (g_str_equal (g_ptr_array_index (subjects, i), subject))
      return TRUE;
  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (!g_str_equal (scenario_statement_keyword (statement), "timeline") || statement->children == NULL)
        continue;
      for (guint c = 0; c < statement->children->len; c++)
        {
          const ScenarioWord *verb = word_at (g_ptr_array_index (statement->children, c), 2);
          if (verb != NULL && g_str_equal (verb->text, "input"))
            return TRUE;
        }
    }
  return FALSE;
}

static gboolean
check_expectation (BuildContext *context, const ScenarioStatement *statement, gboolean evaluate,
                   gboolean *passed, GString *explanation)
{
  const ScenarioWord *kind = word_at (statement, 0);
  SimWorld *world = context->world;
  SimAccounting accounting = evaluate ? sim_world_get_accounting (world) : (SimAccounting) { 0 };

  *passed = FALSE;
  if (!require_no_block (context, statement))
    return FALSE;
  if (g_str_equal (kind->text, "bounced"))
    return check_count (context, statement, evaluate, accounting.bounced, passed, explanation, "recipients bounced:");
  if (g_str_equal (kind->text, "accepted"))
    return check_count (context, statement, evaluate, accounting.accepted, passed, explanation, "recipients accepted:");
  if (g_str_equal (kind->text, "queued"))
    return check_count (context, statement, evaluate, accounting.queued, passed, explanation, "recipients still queued:");
  if (g_str_equal (kind->text, "duplicates"))
    {
      /* RFC 1047: copies delivered twice; they are also what the accounting
       * invariant allows for (see scenario_run). */
      guint entered = accounting.accepted + accounting.dsn_generated;
      guint ended = accounting.delivered + accounting.bounced + accounting.queued;
      return check_count (context, statement, evaluate, ended > entered ? ended - entered : 0, passed, explanation,
                          "duplicated recipient copies:");
    }
  if (g_str_equal (kind->text, "delivered") || g_str_equal (kind->text, "fetched"))
    {
      gboolean delivered = g_str_equal (kind->text, "delivered");
      const ScenarioWord *address = require_word (context, statement, 1, "an email address");
      if (address == NULL || !require_address (context, address))
        return FALSE;
      Option options[] = { { "folder", TRUE, NULL }, { "subject", TRUE, NULL }, { "by", TRUE, NULL }, { "count", TRUE, NULL },
                           { "on", TRUE, NULL }, { "flag", TRUE, NULL } };
      if (!parse_options (context, statement, 2, options, G_N_ELEMENTS (options), "expectation option"))
        return FALSE;
      /* flag NAME: the message carries that IMAP system flag (RFC 3501 2.3.2). */
      static const struct { const char *name; guint flag; } flag_names[] = {
        { "seen", MAIL_FLAG_SEEN }, { "answered", MAIL_FLAG_ANSWERED }, { "flagged", MAIL_FLAG_FLAGGED },
        { "deleted", MAIL_FLAG_DELETED }, { "draft", MAIL_FLAG_DRAFT },
      };
      guint wanted_flag = 0;
      if (options[5].value != NULL)
        {
          static const char *const names[] = { "seen", "answered", "flagged", "deleted", "draft" };
          for (gsize f = 0; f < G_N_ELEMENTS (flag_names); f++)
            if (g_ascii_strcasecmp (options[5].value->text, flag_names[f].name) == 0
                || (options[5].value->text[0] == '\\' && g_ascii_strcasecmp (options[5].value->text + 1, flag_names[f].name) == 0))
              wanted_flag = flag_names[f].flag;
          if (wanted_flag == 0)
            return unknown_keyword (context, options[5].value, "flag", names, G_N_ELEMENTS (names));
          if (!delivered)
            return fail_at (context, options[5].value, "'flag' belongs to 'delivered': flags live in the mailbox");
        }
      MailClient *device = NULL;
      if (options[4].value != NULL)
        {
          if (delivered)
            return fail_at (context, options[4].value, "'on DEVICE' belongs to 'fetched'; 'delivered' looks in the mailbox");
          if ((device = device_for (context, address, options[4].value)) == NULL)
            return FALSE;
        }
      SimTime by = SIM_TIME_NEVER;
      guint64 count = 0;
      if (options[2].value != NULL && !parse_time_word (context, options[2].value, &by))
        return FALSE;
      if (options[3].value != NULL && !parse_count_word (context, options[3].value, &count))
        return FALSE;
      if (delivered && evaluate && sim_world_find_store_for (world, address->text) == NULL)
        {
          /* A user-delete action closed the mailbox during the run. */
          g_string_append_printf (explanation, "%s has no mailbox any more: it was deleted during the run",
                                  address->text);
          return TRUE;
        }
      if (delivered && sim_world_find_store_for (world, address->text) == NULL)
        return fail_at (context, address, "no mailstore node has a mailbox for %s; add 'mailbox %s password ...' to one",
                        address->text, address->text);
      if (!delivered && sim_world_find_client_for (world, address->text) == NULL)
        return fail_at (context, address, "no client node has an account for %s", address->text);
      if (!delivered && (options[0].value != NULL || options[2].value != NULL))
        return fail_at (context, options[0].value != NULL ? options[0].value : options[2].value,
                        "'fetched' counts what the device holds; 'folder' and 'by' belong to 'delivered'");
      if (!evaluate && options[1].value != NULL && !subject_is_sent (context->scenario, options[1].value->text))
        {
          g_autoptr (GPtrArray) sent = sent_subjects (context->scenario);
          const char *suggestion = scenario_suggest (options[1].value->text, (const char *const *) sent->pdata, sent->len);
          return fail_at (context, options[1].value, "no message with subject \"%s\" is sent in this scenario%s%s%s",
                          options[1].value->text, suggestion != NULL ? "; did you mean \"" : "",
                          suggestion != NULL ? suggestion : "", suggestion != NULL ? "\"?" : "");
        }
      if (!evaluate)
        return TRUE;
      const char *folder = options[0].value != NULL ? options[0].value->text : "INBOX";
      const char *subject = options[1].value != NULL ? options[1].value->text : NULL;
      guint matching = 0, late = 0, total = 0;
      if (delivered)
        {
          MailStore *store = sim_world_find_store_for (world, address->text);
          g_autoptr (GPtrArray) messages = mail_store_list (store, address->text, folder);
          total = messages != NULL ? messages->len : 0;
          for (guint i = 0; i < total; i++)
            {
              const MailStoreMessage *message = g_ptr_array_index (messages, i);
              if (!subject_matches (message->data, subject) || (message->flags & wanted_flag) != wanted_flag)
                continue;
              if (message->internal_date > by)
                late++;
              else
                matching++;
            }
        }
      else
        {
          GPtrArray *messages = mail_client_get_messages (device != NULL ? device : sim_world_find_client_for (world, address->text),
                                                          address->text);
          total = messages->len;
          for (guint i = 0; i < total; i++)
            if (subject_matches (g_ptr_array_index (messages, i), subject))
              matching++;
        }
      *passed = options[3].value != NULL ? matching == count : matching > 0;
      if (delivered)
        g_string_append_printf (explanation, "%s's %s holds", address->text, folder);
      else
        g_string_append_printf (explanation, "%s's device%s%s downloaded", address->text,
                                options[4].value != NULL ? " " : "", options[4].value != NULL ? options[4].value->text : "");
      if (options[3].value != NULL)
        g_string_append_printf (explanation, " %" G_GUINT64_FORMAT, count);
      else
        g_string_append (explanation, " a");
      g_string_append (explanation, options[3].value != NULL && count != 1 ? " messages" : " message");
      if (subject != NULL)
        g_string_append_printf (explanation, " with subject \"%s\"", subject);
      if (wanted_flag != 0)
        g_string_append_printf (explanation, " flagged %s", options[5].value->text);
      if (by != SIM_TIME_NEVER)
        {
          g_autofree char *when = sim_time_to_string (by);
          g_string_append_printf (explanation, " by %s", when);
        }
      if (!*passed)
        {
          g_string_append_printf (explanation, ": found %u matching (%u in all)", matching, total);
          if (late > 0)
            g_string_append_printf (explanation, ", %u more arrived too late", late);
          g_string_append (explanation, "; what happened:");
          append_evidence (world, explanation, address->text);
        }
      return TRUE;
    }
  if (g_str_equal (kind->text, "seen"))
    {
      /* seen KEY [from NODE] [count N]: events explained by catalogue KEY. */
      const ScenarioWord *key = require_word (context, statement, 1, "an explanation key such as dns.cache.hit");
      if (key == NULL)
        return FALSE;
      if (sim_explain_lookup (key->text) == NULL)
        {
          gsize n_entries;
          const SimExplanation *all = sim_explain_all (&n_entries);
          g_autoptr (GPtrArray) keys = g_ptr_array_new ();
          for (gsize e = 0; e < n_entries; e++)
            g_ptr_array_add (keys, (gpointer) all[e].key);
          const char *suggestion = scenario_suggest (key->text, (const char *const *) keys->pdata, keys->len);
          return fail_at (context, key, "'%s' is not an explanation key%s%s%s", key->text,
                          suggestion != NULL ? "; did you mean '" : " (see sim/trace/sim-explain-*.c)",
                          suggestion != NULL ? suggestion : "", suggestion != NULL ? "'?" : "");
        }
      Option options[] = { { "from", TRUE, NULL }, { "count", TRUE, NULL } };
      if (!parse_options (context, statement, 2, options, G_N_ELEMENTS (options), "seen option"))
        return FALSE;
      SimNode *from = options[0].value != NULL ? lookup_node (context, options[0].value) : NULL;
      guint64 count = 0;
      if (options[0].value != NULL && from == NULL)
        return FALSE;
      if (options[1].value != NULL && !parse_count_word (context, options[1].value, &count))
        return FALSE;
      if (!evaluate)
        return TRUE;
      GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
      guint seen = 0;
      for (guint i = 0; i < events->len; i++)
        {
          const SimEvent *event = g_ptr_array_index (events, i);
          if (g_strcmp0 (event->explain, key->text) == 0
              && (from == NULL || g_str_equal (event->from, sim_node_get_name (from))))
            seen++;
        }
      *passed = options[1].value != NULL ? seen == count : seen > 0;
      g_string_append_printf (explanation, "%s events%s%s: ", key->text, from != NULL ? " from " : "",
                              from != NULL ? sim_node_get_name (from) : "");
      if (options[1].value != NULL)
        g_string_append_printf (explanation, "expected %" G_GUINT64_FORMAT ", the run had %u", count, seen);
      else
        g_string_append_printf (explanation, "expected at least one, the run had %u", seen);
      return TRUE;
    }
  if (g_str_equal (kind->text, "reply"))
    {
      const ScenarioWord *code_word = require_word (context, statement, 1, "a reply code such as 250");
      guint64 code = 0;
      if (code_word == NULL || !parse_count_word (context, code_word, &code))
        return FALSE;
      if (code < 200 || code > 599)
        return fail_at (context, code_word, "an SMTP reply code is between 200 and 599");
      Option options[] = { { "from", TRUE, NULL } };
      if (!parse_options (context, statement, 2, options, 1, "reply option"))
        return FALSE;
      SimNode *from = options[0].value != NULL ? lookup_node (context, options[0].value) : NULL;
      if (options[0].value != NULL && from == NULL)
        return FALSE;
      if (!evaluate)
        return TRUE;
      char prefix[8];
      guint seen = 0;
      GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
      g_snprintf (prefix, sizeof prefix, "%03u", (guint) code);
      for (guint i = 0; i < events->len; i++)
        {
          const SimEvent *event = g_ptr_array_index (events, i);
          gsize len;
          const char *data;
          if (event->kind != SIM_EVENT_DATA || event->from_client || event->bytes == NULL)
            continue;
          if (!g_str_equal (event->protocol, "smtp") && !g_str_equal (event->protocol, "lmtp"))
            continue;
          if (from != NULL && !g_str_equal (event->from, sim_node_get_name (from)))
            continue;
          data = g_bytes_get_data (event->bytes, &len);
          if (len >= 3 && memcmp (data, prefix, 3) == 0)
            seen++;
        }
      *passed = seen > 0;
      g_string_append_printf (explanation, "an SMTP reply %s%s%s was seen", prefix,
                              from != NULL ? " from " : "", from != NULL ? sim_node_get_name (from) : "");
      if (!*passed)
        g_string_append (explanation, ": no server sent it");
      return TRUE;
    }
  return unknown_keyword (context, kind, "expectation", expectation_kinds, G_N_ELEMENTS (expectation_kinds));
}

/* One expectation's result, as an EXPECT event of the trace; @where is
 * FILE:LINE (or the file, for the accounting). */
static void
emit_expectation (SimWorld *world, gboolean passed, const char *where, const char *text)
{
  SimEvent event = { 0 };

  event.kind = SIM_EVENT_EXPECT;
  event.time = sim_world_now (world);
  event.arrival = event.time;
  event.from = "";
  event.to = "";
  event.protocol = "expect";
  event.explain = passed ? "expect.pass" : "expect.fail";
  event.status = passed ? "pass" : "fail";
  event.message = where;
  event.text = (char *) text;
  sim_trace_emit (sim_world_get_trace (world), &event);
}

/* The accounting invariant, checked at the end of every run: every
 * recipient copy accepted with a 2xx (and every bounce report) ended
 * delivered, bounced or still queued.  A scenario that teaches the RFC 1047
 * duplicate says how many copies it expects twice with 'duplicates N'. */
static void
check_accounting (const Scenario *self, SimWorld *world, ScenarioVerdict *verdict)
{
  SimAccounting accounting = sim_world_get_accounting (world);
  guint entered = accounting.accepted + accounting.dsn_generated;
  guint ended = accounting.delivered + accounting.bounced + accounting.queued;
  guint64 allowed = 0;
  GPtrArray *statements = self->root->children;
  g_autofree char *text = NULL;

  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (!g_str_equal (scenario_statement_keyword (statement), "expect"))
        continue;
      for (guint c = 0; c < statement->children->len; c++)
        {
          const ScenarioStatement *child = g_ptr_array_index (statement->children, c);
          const ScenarioWord *count = word_at (child, 1);
          if (g_str_equal (scenario_statement_keyword (child), "duplicates") && count != NULL)
            g_ascii_string_to_unsigned (count->text, 10, 0, G_MAXUINT32, &allowed, NULL);
        }
    }
  if (entered + allowed == ended)
    return;
  verdict->failed++;
  text = g_strdup_printf ("accounting: %u recipient copies entered the world (%u accepted, %u bounce reports) but "
                          "%u ended (%u delivered, %u bounced, %u still queued)%s; a message was %s",
                          entered, accounting.accepted, accounting.dsn_generated, ended, accounting.delivered,
                          accounting.bounced, accounting.queued,
                          allowed > 0 ? " counting the expected duplicates" : "",
                          entered + allowed > ended ? "lost" : "duplicated (add 'duplicates N' if the scenario teaches it)");
  emit_expectation (world, FALSE, self->filename, text);
}

ScenarioVerdict
scenario_run (const Scenario *self, SimWorld *world)
{
  ScenarioVerdict verdict = { 0, 0 };
  SimScheduler *scheduler = sim_world_get_scheduler (world);
  BuildContext context = { self, world, NULL };
  GPtrArray *statements = self->root->children;

  /* Run until the duration, or earlier when nothing is left to happen. */
  while (sim_scheduler_next_time (scheduler) <= self->duration)
    sim_scheduler_step (scheduler);

  for (guint i = 0; i < statements->len; i++)
    {
      const ScenarioStatement *statement = g_ptr_array_index (statements, i);
      if (!g_str_equal (scenario_statement_keyword (statement), "expect"))
        continue;
      for (guint c = 0; c < statement->children->len; c++)
        {
          const ScenarioStatement *child = g_ptr_array_index (statement->children, c);
          g_autoptr (GString) explanation = g_string_new (NULL);
          gboolean passed = FALSE;
          g_autofree char *where = g_strdup_printf ("%s:%u", self->filename, child->line);

          check_expectation (&context, child, TRUE, &passed, explanation);
          if (passed)
            verdict.passed++;
          else
            verdict.failed++;
          emit_expectation (world, passed, where, explanation->str);
        }
    }
  check_accounting (self, world, &verdict);
  return verdict;
}
