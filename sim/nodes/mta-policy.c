/* mta-policy.c: greylisting, rate limits, blocklist names, content score. */
#include "nodes/mta-policy.h"

#include <string.h>

#include "proto/message/mail-message.h"

/* ---- greylisting ---- */

struct _MtaGreylist
{
  SimTime delay;
  GHashTable *first_seen;   /* "client/sender/recipient" -> SimTime* */
};

MtaGreylist *
mta_greylist_new (SimTime delay)
{
  MtaGreylist *self = g_new0 (MtaGreylist, 1);

  self->delay = delay;
  self->first_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
mta_greylist_free (MtaGreylist *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->first_seen);
  g_free (self);
}

SimTime
mta_greylist_get_delay (const MtaGreylist *self)
{
  return self->delay;
}

MtaGreylistVerdict
mta_greylist_check (MtaGreylist *self, guint32 client, const char *sender, const char *recipient, SimTime now,
                    SimTime *remaining)
{
  /* RFC 6647 2.2: the triplet; addresses compare without case. */
  g_autofree char *lower_sender = g_ascii_strdown (sender, -1);
  g_autofree char *lower_recipient = g_ascii_strdown (recipient, -1);
  g_autofree char *key = g_strdup_printf ("%08x/%s/%s", client, lower_sender, lower_recipient);
  SimTime *seen = g_hash_table_lookup (self->first_seen, key);

  if (remaining != NULL)
    *remaining = self->delay;
  if (seen == NULL)
    {
      seen = g_new (SimTime, 1);
      *seen = now;
      g_hash_table_insert (self->first_seen, g_steal_pointer (&key), seen);
      return MTA_GREYLIST_NEW;
    }
  if (now - *seen < self->delay)
    {
      if (remaining != NULL)
        *remaining = self->delay - (now - *seen);
      return MTA_GREYLIST_TOO_EARLY;
    }
  return MTA_GREYLIST_PASS;
}

/* ---- rate limit ---- */

struct _MtaRateLimit
{
  guint limit;
  SimTime window;
  GHashTable *clients;   /* client -> GArray of SimTime, oldest first */
};

MtaRateLimit *
mta_rate_limit_new (guint limit, SimTime window)
{
  MtaRateLimit *self = g_new0 (MtaRateLimit, 1);

  self->limit = limit;
  self->window = window;
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  return self;
}

void
mta_rate_limit_free (MtaRateLimit *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->clients);
  g_free (self);
}

guint
mta_rate_limit_get_limit (const MtaRateLimit *self)
{
  return self->limit;
}

SimTime
mta_rate_limit_get_window (const MtaRateLimit *self)
{
  return self->window;
}

/* The client's recent recipients, with those out of the window dropped. */
static GArray *
recent (MtaRateLimit *self, const char *client, SimTime now)
{
  GArray *times = g_hash_table_lookup (self->clients, client);
  guint expired = 0;

  if (times == NULL)
    {
      times = g_array_new (FALSE, FALSE, sizeof (SimTime));
      g_hash_table_insert (self->clients, g_strdup (client), times);
    }
  while (expired < times->len && now - g_array_index (times, SimTime, expired) >= self->window)
    expired++;
  g_array_remove_range (times, 0, expired);
  return times;
}

gboolean
mta_rate_limit_allows (MtaRateLimit *self, const char *client, SimTime now)
{
  return recent (self, client, now)->len < self->limit;
}

void
mta_rate_limit_record (MtaRateLimit *self, const char *client, SimTime now)
{
  g_array_append_val (recent (self, client, now), now);
}

/* ---- DNS blocklists ---- */

char *
mta_dnsbl_query_name (guint32 client, const char *zone)
{
  gsize length = strlen (zone);

  return g_strdup_printf ("%u.%u.%u.%u.%s%s", client & 0xff, (client >> 8) & 0xff, (client >> 16) & 0xff,
                          client >> 24, zone, length > 0 && zone[length - 1] == '.' ? "" : ".");
}

/* ---- content score ---- */

/* Words that spam of every decade has leaned on; kept short so a student
 * can score a message by hand. */
static const char *const spam_words[] = {
  "bitcoin", "casino", "cash", "click", "free", "lottery", "million", "prize", "urgent", "viagra", "winner",
};

static void
score_words (const char *text, gsize length, GHashTable *found)
{
  gsize i = 0;

  while (i < length)
    {
      gsize start;
      while (i < length && !g_ascii_isalpha (text[i]))
        i++;
      start = i;
      while (i < length && g_ascii_isalpha (text[i]))
        i++;
      if (i == start || i - start > 16)
        continue;
      g_autofree char *word = g_ascii_strdown (text + start, (gssize) (i - start));
      for (gsize w = 0; w < G_N_ELEMENTS (spam_words); w++)
        if (g_str_equal (word, spam_words[w]))
          g_hash_table_add (found, (gpointer) spam_words[w]);
    }
}

guint
mta_spam_score (GBytes *message, char **tests)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (message, &length);
  gsize body = mail_message_body_offset (message);
  g_autofree char *subject = mail_message_get_header (message, "Subject");
  g_autoptr (GHashTable) found = g_hash_table_new (g_str_hash, g_str_equal);
  GString *matched = g_string_new (NULL);
  guint score = 0;
  guint exclamations = 0;
  guint letters = 0;
  gboolean lowercase = FALSE;

  if (subject != NULL)
    {
      score_words (subject, strlen (subject), found);
      for (const char *c = subject; *c != '\0'; c++)
        {
          exclamations += *c == '!';
          letters += g_ascii_isalpha (*c) ? 1 : 0;
          lowercase |= g_ascii_islower (*c);
        }
    }
  if (body < length)
    {
      score_words (data + body, length - body, found);
      for (gsize i = body; i < length; i++)
        exclamations += data[i] == '!';
    }
  for (gsize w = 0; w < G_N_ELEMENTS (spam_words); w++)
    if (g_hash_table_contains (found, spam_words[w]))
      {
        score += MTA_SPAM_POINTS_WORD;
        g_string_append_printf (matched, "%sSPAM_WORD(%s)", matched->len > 0 ? " " : "", spam_words[w]);
      }
  if (letters >= 4 && !lowercase)
    {
      score += MTA_SPAM_POINTS_CAPITALS;
      g_string_append_printf (matched, "%sCAPS_SUBJECT", matched->len > 0 ? " " : "");
    }
  if (exclamations >= 3)
    {
      score += MTA_SPAM_POINTS_EXCLAMATIONS;
      g_string_append_printf (matched, "%sMANY_EXCLAMATIONS", matched->len > 0 ? " " : "");
    }
  if (tests != NULL)
    *tests = g_string_free (matched, matched->len == 0);
  else
    g_string_free (matched, TRUE);
  if (tests != NULL && *tests == NULL)
    *tests = g_strdup ("none");
  return score;
}
