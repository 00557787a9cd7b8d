/* spf.c: check_host() of RFC 7208, a documented subset, over a DnsStub. */
#include "nodes/spf.h"

#include <string.h>

#include "net/sim-network.h"

/* One record being evaluated: the checked domain's, or an include's. */
typedef struct
{
  char *domain;
  GStrv terms;             /* the record's terms after "v=spf1" */
  guint next;              /* the term to evaluate next */
  char qualifier;          /* of the term waiting for DNS */
  char *term;              /* that term, for the reason */
  guint prefix;            /* its CIDR length (a, mx) */
} SpfFrame;

struct _SpfCheck
{
  DnsStub *stub;
  guint32 client;
  SpfCheckDone done;
  gpointer user_data;
  GPtrArray *frames;       /* SpfFrame*, the innermost include last */
  guint dns_terms;
  GPtrArray *mx_names;     /* exchangers of an mx mechanism still to resolve */
  guint mx_lookups;
};

const char *
spf_result_to_string (SpfResult result)
{
  switch (result)
    {
    case SPF_RESULT_NONE:
      return "none";
    case SPF_RESULT_NEUTRAL:
      return "neutral";
    case SPF_RESULT_PASS:
      return "pass";
    case SPF_RESULT_FAIL:
      return "fail";
    case SPF_RESULT_SOFTFAIL:
      return "softfail";
    case SPF_RESULT_TEMPERROR:
      return "temperror";
    case SPF_RESULT_PERMERROR:
    default:
      return "permerror";
    }
}

static void
frame_free (SpfFrame *frame)
{
  g_free (frame->domain);
  g_strfreev (frame->terms);
  g_free (frame->term);
  g_free (frame);
}

static SpfFrame *
top_frame (SpfCheck *check)
{
  return g_ptr_array_index (check->frames, check->frames->len - 1);
}

static void evaluate (SpfCheck *check);
static void txt_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data);

/* RFC 7208 4.6.2: the qualifier gives the result of a matching mechanism. */
static SpfResult
result_of_qualifier (char qualifier)
{
  switch (qualifier)
    {
    case '-':
      return SPF_RESULT_FAIL;
    case '~':
      return SPF_RESULT_SOFTFAIL;
    case '?':
      return SPF_RESULT_NEUTRAL;
    default:
      return SPF_RESULT_PASS;
    }
}

static gboolean
address_in_prefix (guint32 address, guint32 network, guint prefix)
{
  guint32 mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
  return (address & mask) == (network & mask);
}

static void
push_frame (SpfCheck *check, const char *domain)
{
  SpfFrame *frame = g_new0 (SpfFrame, 1);

  frame->domain = g_strdup (domain);
  g_ptr_array_add (check->frames, frame);
  dns_stub_lookup (check->stub, domain, DNS_TYPE_TXT, txt_found, check);
}

/* The innermost record has its result: report it, or hand it to the
 * include that asked (RFC 7208 5.2). */
static void
finish_frame (SpfCheck *check, SpfResult result, const char *reason)
{
  g_ptr_array_remove_index (check->frames, check->frames->len - 1);
  if (check->frames->len == 0)
    {
      SpfCheckDone done = check->done;
      check->done = NULL;
      if (done != NULL)
        done (result, reason, check->user_data);
      return;
    }
  SpfFrame *parent = top_frame (check);
  switch (result)
    {
    case SPF_RESULT_PASS:
      {
        g_autofree char *text = g_strdup_printf ("'%s' in %s's record matched (%s)", parent->term, parent->domain, reason);
        finish_frame (check, result_of_qualifier (parent->qualifier), text);
        return;
      }
    case SPF_RESULT_FAIL:
    case SPF_RESULT_SOFTFAIL:
    case SPF_RESULT_NEUTRAL:
      evaluate (check);
      return;
    case SPF_RESULT_TEMPERROR:
      finish_frame (check, SPF_RESULT_TEMPERROR, reason);
      return;
    case SPF_RESULT_NONE:
    case SPF_RESULT_PERMERROR:
    default:
      {
        g_autofree char *text = g_strdup_printf ("'%s' in %s's record: %s", parent->term, parent->domain, reason);
        finish_frame (check, SPF_RESULT_PERMERROR, text);
        return;
      }
    }
}

static void
txt_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  SpfCheck *check = user_data;
  SpfFrame *frame = top_frame (check);
  g_autofree char *record = NULL;
  guint found = 0;

  if (status == DNS_STUB_TIMEOUT || status == DNS_STUB_SERVFAIL)
    {
      g_autofree char *text = g_strdup_printf ("the TXT lookup for %s failed (%s)", frame->domain,
                                               dns_stub_status_to_string (status));
      finish_frame (check, SPF_RESULT_TEMPERROR, text);
      return;
    }
  for (guint i = 0; status == DNS_STUB_ANSWER && i < response->answers->len; i++)
    {
      DnsRecord *answer = g_ptr_array_index (response->answers, i);
      GString *text;
      if (answer->type != DNS_TYPE_TXT)
        continue;
      /* RFC 7208 3.3: the strings of one TXT record join without spaces. */
      text = g_string_new (NULL);
      for (guint s = 0; s < answer->strings->len; s++)
        g_string_append (text, g_ptr_array_index (answer->strings, s));
      if (g_ascii_strncasecmp (text->str, "v=spf1", 6) == 0 && (text->str[6] == '\0' || text->str[6] == ' '))
        {
          found++;
          g_free (record);
          record = g_string_free (text, FALSE);
        }
      else
        g_string_free (text, TRUE);
    }
  if (found == 0)
    {
      g_autofree char *text = g_strdup_printf ("%s publishes no SPF record", frame->domain);
      finish_frame (check, SPF_RESULT_NONE, text);
      return;
    }
  if (found > 1)
    {
      /* RFC 7208 4.5: two SPF records are an error of the publisher. */
      g_autofree char *text = g_strdup_printf ("%s publishes %u SPF records; there must be one", frame->domain, found);
      finish_frame (check, SPF_RESULT_PERMERROR, text);
      return;
    }
  frame->terms = g_strsplit (record + 6, " ", -1);
  evaluate (check);
}

static void
term_matched (SpfCheck *check, const char *how)
{
  SpfFrame *frame = top_frame (check);
  SpfResult result = result_of_qualifier (frame->qualifier);
  char client[16];
  g_autofree char *text = NULL;

  sim_address_to_string (check->client, client);
  if (result == SPF_RESULT_PASS)
    text = g_strdup_printf ("%s is a permitted sender: '%s' in %s's record %s", client, frame->term, frame->domain, how);
  else
    text = g_strdup_printf ("'%s' in %s's record %s: %s is not a permitted sender", frame->term, frame->domain, how,
                            client);
  finish_frame (check, result, text);
}

static void next_mx_address (SpfCheck *check);

static void
address_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  SpfCheck *check = user_data;
  SpfFrame *frame = top_frame (check);

  if (status == DNS_STUB_TIMEOUT || status == DNS_STUB_SERVFAIL)
    {
      g_autofree char *text = g_strdup_printf ("a lookup for '%s' in %s's record failed", frame->term, frame->domain);
      g_clear_pointer (&check->mx_names, g_ptr_array_unref);
      finish_frame (check, SPF_RESULT_TEMPERROR, text);
      return;
    }
  for (guint i = 0; status == DNS_STUB_ANSWER && i < response->answers->len; i++)
    {
      DnsRecord *answer = g_ptr_array_index (response->answers, i);
      if (answer->type == DNS_TYPE_A && address_in_prefix (check->client, dns_record_get_ipv4 (answer), frame->prefix))
        {
          g_clear_pointer (&check->mx_names, g_ptr_array_unref);
          term_matched (check, "matched its address");
          return;
        }
    }
  if (check->mx_names != NULL)
    next_mx_address (check);
  else
    evaluate (check);
}

static void
next_mx_address (SpfCheck *check)
{
  if (check->mx_names->len == 0)
    {
      g_clear_pointer (&check->mx_names, g_ptr_array_unref);
      evaluate (check);
      return;
    }
  g_autofree char *name = g_ptr_array_steal_index (check->mx_names, 0);
  dns_stub_lookup (check->stub, name, DNS_TYPE_A, address_found, check);
}

static void
mx_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  SpfCheck *check = user_data;
  SpfFrame *frame = top_frame (check);

  if (status == DNS_STUB_TIMEOUT || status == DNS_STUB_SERVFAIL)
    {
      g_autofree char *text = g_strdup_printf ("the MX lookup for '%s' in %s's record failed", frame->term, frame->domain);
      finish_frame (check, SPF_RESULT_TEMPERROR, text);
      return;
    }
  check->mx_names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; status == DNS_STUB_ANSWER && i < response->answers->len; i++)
    {
      DnsRecord *answer = g_ptr_array_index (response->answers, i);
      if (answer->type == DNS_TYPE_MX)
        g_ptr_array_add (check->mx_names, g_strdup (answer->target));
    }
  if (check->mx_names->len > SPF_MAX_MX_NAMES)
    {
      g_autofree char *text = g_strdup_printf ("'%s' names more than %u exchangers", frame->term, SPF_MAX_MX_NAMES);
      g_clear_pointer (&check->mx_names, g_ptr_array_unref);
      finish_frame (check, SPF_RESULT_PERMERROR, text);
      return;
    }
  next_mx_address (check);
}

/* Reads "NAME[:DOMAIN][/LEN]" after the qualifier. */
static gboolean
split_mechanism (const char *text, char **name, char **argument, guint *prefix)
{
  const char *end = text + strcspn (text, ":/");
  const char *slash;
  guint64 length = 32;

  *name = g_ascii_strdown (text, end - text);
  *argument = NULL;
  *prefix = 32;
  if (*end == ':')
    {
      const char *argument_end = strchr (end + 1, '/');
      *argument = argument_end != NULL ? g_strndup (end + 1, argument_end - end - 1) : g_strdup (end + 1);
      if ((*argument)[0] == '\0')
        return FALSE;
    }
  slash = strchr (end, '/');
  if (slash != NULL)
    {
      if (!g_ascii_string_to_unsigned (slash + 1, 10, 0, 32, &length, NULL))
        return FALSE;
      *prefix = (guint) length;
    }
  return TRUE;
}

/* RFC 7208 4.6.2: terms are evaluated left to right until one matches. */
static void
evaluate (SpfCheck *check)
{
  SpfFrame *frame = top_frame (check);

  while (frame->terms[frame->next] != NULL)
    {
      const char *term = frame->terms[frame->next++];
      char qualifier = '+';
      g_autofree char *name = NULL;
      g_autofree char *argument = NULL;
      guint prefix = 32;

      if (term[0] == '\0')
        continue;
      if (strchr ("+-~?", term[0]) != NULL)
        qualifier = term[0];
      const char *body = strchr ("+-~?", term[0]) != NULL ? term + 1 : term;
      /* RFC 7208 6: a modifier is name=value; this subset ignores them. */
      if (strchr (body, '=') != NULL && strcspn (body, "=") < strcspn (body, ":/"))
        continue;
      g_free (frame->term);
      frame->term = g_strdup (term);
      frame->qualifier = qualifier;
      if (!split_mechanism (body, &name, &argument, &prefix))
        {
          g_autofree char *text = g_strdup_printf ("'%s' in %s's record is malformed", term, frame->domain);
          finish_frame (check, SPF_RESULT_PERMERROR, text);
          return;
        }
      frame->prefix = prefix;
      if (g_str_equal (name, "all"))
        {
          term_matched (check, "matches every address");
          return;
        }
      if (g_str_equal (name, "ip4"))
        {
          guint32 network;
          if (argument == NULL || !sim_address_parse (argument, &network))
            {
              g_autofree char *text = g_strdup_printf ("'%s' in %s's record is not an IPv4 address", term, frame->domain);
              finish_frame (check, SPF_RESULT_PERMERROR, text);
              return;
            }
          if (address_in_prefix (check->client, network, prefix))
            {
              term_matched (check, "matched");
              return;
            }
          continue;
        }
      if (g_str_equal (name, "a") || g_str_equal (name, "mx") || g_str_equal (name, "include"))
        {
          const char *target = argument != NULL ? argument : frame->domain;
          if (++check->dns_terms > SPF_MAX_DNS_TERMS)
            {
              g_autofree char *text = g_strdup_printf ("more than %u terms needing DNS lookups (at '%s' in %s's record)",
                                                       SPF_MAX_DNS_TERMS, term, frame->domain);
              finish_frame (check, SPF_RESULT_PERMERROR, text);
              return;
            }
          if (g_str_equal (name, "include"))
            {
              if (argument == NULL)
                {
                  g_autofree char *text = g_strdup_printf ("'%s' in %s's record names no domain", term, frame->domain);
                  finish_frame (check, SPF_RESULT_PERMERROR, text);
                  return;
                }
              push_frame (check, argument);
            }
          else
            dns_stub_lookup (check->stub, target, g_str_equal (name, "a") ? DNS_TYPE_A : DNS_TYPE_MX,
                             g_str_equal (name, "a") ? address_found : mx_found, check);
          return;
        }
      g_autofree char *text = g_strdup_printf ("'%s' in %s's record is a mechanism this simulator does not evaluate",
                                               term, frame->domain);
      finish_frame (check, SPF_RESULT_PERMERROR, text);
      return;
    }
  /* RFC 7208 4.7: no term matched, so the result is neutral. */
  g_autofree char *text = g_strdup_printf ("no term of %s's record matched and it has no 'all'", frame->domain);
  finish_frame (check, SPF_RESULT_NEUTRAL, text);
}

SpfCheck *
spf_check_new (DnsStub *stub, guint32 client, const char *domain, SpfCheckDone done, gpointer user_data)
{
  SpfCheck *check = g_new0 (SpfCheck, 1);

  check->stub = stub;
  check->client = client;
  check->done = done;
  check->user_data = user_data;
  check->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  push_frame (check, domain);
  return check;
}

void
spf_check_free (SpfCheck *check)
{
  if (check == NULL)
    return;
  dns_stub_cancel (check->stub, check);
  g_ptr_array_unref (check->frames);
  if (check->mx_names != NULL)
    g_ptr_array_unref (check->mx_names);
  g_free (check);
}
