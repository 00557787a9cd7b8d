/* dns-zone.c: authoritative zone data, its text form, and the answers a
 * name server gives from it. */
#include "dns-zone.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

/* RFC 2181 8: a TTL is an unsigned number below 2^31. */
#define DNS_MAX_TTL 2147483647u

struct _DnsZone
{
  char *origin;
  GPtrArray *records;  /* DnsRecord *, in the order added */
};

DnsZone *
dns_zone_new (const char *origin)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *normalized = dns_name_normalize (origin, &error);

  if (normalized == NULL)
    {
      g_critical ("dns_zone_new: %s", error->message);
      return NULL;
    }

  DnsZone *zone = g_new0 (DnsZone, 1);
  zone->origin = g_steal_pointer (&normalized);
  zone->records = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  return zone;
}

void
dns_zone_free (DnsZone *zone)
{
  if (zone == NULL)
    return;
  g_free (zone->origin);
  g_ptr_array_unref (zone->records);
  g_free (zone);
}

const char *
dns_zone_get_origin (const DnsZone *zone)
{
  return zone->origin;
}

const GPtrArray *
dns_zone_get_records (const DnsZone *zone)
{
  return zone->records;
}

static gboolean
record_matches (const DnsRecord *record, const char *name, guint16 type)
{
  return (type == DNS_TYPE_ANY || record->type == type) && dns_name_equal (record->name, name);
}

GPtrArray *
dns_zone_lookup (const DnsZone *zone, const char *name, guint16 type)
{
  GPtrArray *found = g_ptr_array_new ();

  for (guint i = 0; i < zone->records->len; i++)
    {
      DnsRecord *record = g_ptr_array_index (zone->records, i);
      if (record_matches (record, name, type))
        g_ptr_array_add (found, record);
    }
  return found;
}

const DnsRecord *
dns_zone_get_soa (const DnsZone *zone)
{
  for (guint i = 0; i < zone->records->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (zone->records, i);
      if (record_matches (record, zone->origin, DNS_TYPE_SOA))
        return record;
    }
  return NULL;
}

void
dns_zone_add (DnsZone *zone, DnsRecord *record)
{
  g_return_if_fail (zone != NULL && record != NULL);

  if (!dns_name_is_subdomain (record->name, zone->origin))
    {
      g_critical ("dns_zone_add: %s is outside the zone %s", record->name, zone->origin);
      dns_record_free (record);
      return;
    }

  for (guint i = 0; i < zone->records->len; i++)
    {
      const DnsRecord *held = g_ptr_array_index (zone->records, i);
      DnsRecord same_ttl = *record;
      same_ttl.ttl = held->ttl;
      if (dns_record_equal (&same_ttl, held))
        {
          dns_record_free (record);
          return;
        }
    }
  g_ptr_array_add (zone->records, record);
}

gboolean
dns_zone_remove (DnsZone *zone, const char *name, guint16 type)
{
  gboolean removed = FALSE;

  for (guint i = zone->records->len; i > 0; i--)
    if (record_matches (g_ptr_array_index (zone->records, i - 1), name, type))
      {
        g_ptr_array_remove_index (zone->records, i - 1);
        removed = TRUE;
      }
  return removed;
}

/* ------------------------------------------------------------------ */
/* Zone-file text                                                      */

typedef struct
{
  gsize column;
  char *raw;        /* as written, quotes removed, escapes kept */
  gboolean quoted;
} ZoneToken;

typedef struct
{
  const char *text;
  const char *origin;
  GArray *tokens;   /* ZoneToken */
  guint next;
  gsize *error_column;
} ZoneParser;

static void
zone_token_clear (gpointer data)
{
  ZoneToken *token = data;
  g_free (token->raw);
}

static gboolean G_GNUC_PRINTF (4, 5)
parser_fail (ZoneParser *parser, gsize column, GError **error, const char *format, ...)
{
  va_list arguments;

  va_start (arguments, format);
  g_autofree char *message = g_strdup_vprintf (format, arguments);
  va_end (arguments);

  if (parser->error_column != NULL)
    *parser->error_column = column;
  g_set_error_literal (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX, message);
  return FALSE;
}

/* RFC 1035 5.1: tokens are separated by blanks; "..." quotes one; '\'
 * escapes the next character; ';' starts a comment.  Parentheses only
 * group lines in a file, so on one line they are blanks. */
static gboolean
parser_tokenize (ZoneParser *parser, GError **error)
{
  const char *text = parser->text;
  gsize pos = 0;

  for (;;)
    {
      while (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '(' || text[pos] == ')'
             || text[pos] == '\r' || text[pos] == '\n')
        pos++;
      if (text[pos] == '\0' || text[pos] == ';')
        return TRUE;

      ZoneToken token = { pos, NULL, FALSE };
      gsize start = pos;
      if (text[pos] == '"')
        {
          token.quoted = TRUE;
          start = ++pos;
          while (text[pos] != '"')
            {
              if (text[pos] == '\0')
                return parser_fail (parser, token.column, error,
                                    "this quoted string has no closing '\"'");
              if (text[pos] == '\\' && text[pos + 1] != '\0')
                pos++;
              pos++;
            }
          token.raw = g_strndup (text + start, pos - start);
          pos++;
        }
      else
        {
          while (text[pos] != '\0' && !strchr (" \t\r\n();\"", text[pos]))
            {
              if (text[pos] == '\\' && text[pos + 1] != '\0')
                pos++;
              pos++;
            }
          token.raw = g_strndup (text + start, pos - start);
        }
      g_array_append_val (parser->tokens, token);
    }
}

static ZoneToken *
parser_peek (ZoneParser *parser)
{
  if (parser->next >= parser->tokens->len)
    return NULL;
  return &g_array_index (parser->tokens, ZoneToken, parser->next);
}

/* The next token, or an error "expected @what" at the end of the text. */
static ZoneToken *
parser_take (ZoneParser *parser, const char *what, GError **error)
{
  ZoneToken *token = parser_peek (parser);
  if (token == NULL)
    {
      parser_fail (parser, strlen (parser->text), error, "expected %s", what);
      return NULL;
    }
  parser->next++;
  return token;
}

static gboolean
ends_with_unescaped_dot (const char *name)
{
  gsize length = strlen (name);
  gsize backslashes = 0;

  if (length == 0 || name[length - 1] != '.')
    return FALSE;
  for (gsize i = length - 1; i > 0 && name[i - 1] == '\\'; i--)
    backslashes++;
  return backslashes % 2 == 0;
}

/* RFC 1035 5.1: "@" is the origin; a name without a final dot is relative
 * to it. */
static char *
parser_name (ZoneParser *parser, const char *what, GError **error)
{
  ZoneToken *token = parser_take (parser, what, error);
  g_autoptr(GError) name_error = NULL;
  g_autofree char *absolute = NULL;

  if (token == NULL)
    return NULL;
  if (token->quoted)
    {
      parser_fail (parser, token->column, error, "expected %s, found a quoted string", what);
      return NULL;
    }

  if (strcmp (token->raw, "@") == 0)
    absolute = g_strdup (parser->origin);
  else if (ends_with_unescaped_dot (token->raw))
    absolute = g_strdup (token->raw);
  else if (strcmp (parser->origin, ".") == 0)
    absolute = g_strconcat (token->raw, ".", NULL);
  else
    absolute = g_strconcat (token->raw, ".", parser->origin, NULL);

  char *normalized = dns_name_normalize (absolute, &name_error);
  if (normalized == NULL)
    parser_fail (parser, token->column, error, "%s '%s': %s", what, token->raw, name_error->message);
  return normalized;
}

static gboolean
parse_decimal (const char *text, guint64 max, guint64 *out)
{
  guint64 value = 0;

  if (text[0] == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      value = value * 10 + (guint64) (*p - '0');
      if (value > max)
        return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
parser_number (ZoneParser *parser, const char *what, guint64 max, guint64 *out, GError **error)
{
  ZoneToken *token = parser_take (parser, what, error);
  if (token == NULL)
    return FALSE;
  if (token->quoted || !parse_decimal (token->raw, max, out))
    return parser_fail (parser, token->column, error,
                        "expected %s (a number from 0 to %" G_GUINT64_FORMAT "), found '%s'",
                        what, max, token->raw);
  return TRUE;
}

/* RFC 1035 5.1: a <character-string>, quoted or not, with \X and \DDD. */
static char *
parser_character_string (ZoneParser *parser, ZoneToken *token, GError **error)
{
  g_autoptr(GString) value = g_string_new (NULL);

  for (const char *p = token->raw; *p != '\0'; p++)
    {
      if (*p != '\\')
        {
          g_string_append_c (value, *p);
          continue;
        }
      p++;
      if (g_ascii_isdigit (p[0]) && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]))
        {
          guint octet = (guint) ((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
          if (octet == 0 || octet > 255)
            {
              parser_fail (parser, token->column, error,
                           "escape \\%.3s: write an octet from \\001 to \\255 "
                           "(a NUL octet needs the \\# generic form)", p);
              return NULL;
            }
          g_string_append_c (value, (char) octet);
          p += 2;
        }
      else if (*p == '\0')
        {
          parser_fail (parser, token->column, error, "a character-string ends with a lone '\\'");
          return NULL;
        }
      else
        g_string_append_c (value, *p);
    }

  if (value->len > DNS_MAX_CHARACTER_STRING)
    {
      parser_fail (parser, token->column, error,
                   "a character-string is at most %u octets (RFC 1035 3.3), this one is %zu; "
                   "split it into several quoted strings",
                   DNS_MAX_CHARACTER_STRING, value->len);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&value), FALSE);
}

static gboolean
parser_address (ZoneParser *parser, DnsRecord *record, GError **error)
{
  gboolean v6 = record->type == DNS_TYPE_AAAA;
  ZoneToken *token = parser_take (parser, v6 ? "an IPv6 address" : "an IPv4 address", error);

  if (token == NULL)
    return FALSE;
  if (inet_pton (v6 ? AF_INET6 : AF_INET, token->raw, record->address) != 1)
    return parser_fail (parser, token->column, error,
                        v6 ? "expected an IPv6 address such as 2001:db8::25, found '%s'"
                           : "expected an IPv4 address such as 192.0.2.25, found '%s'",
                        token->raw);
  return TRUE;
}

/* RFC 3597 5: "\# length hex..." */
static gboolean
parser_generic_data (ZoneParser *parser, DnsRecord *record, GError **error)
{
  guint64 length;
  g_autoptr(GByteArray) data = g_byte_array_new ();

  if (!parser_number (parser, "the data length after \\#", G_MAXUINT16, &length, error))
    return FALSE;

  for (ZoneToken *token; (token = parser_peek (parser)) != NULL; parser->next++)
    {
      gsize digits = strlen (token->raw);
      if (token->quoted || digits % 2 != 0)
        return parser_fail (parser, token->column, error,
                            "expected hexadecimal data in whole octets, found '%s'", token->raw);
      for (gsize i = 0; i < digits; i += 2)
        {
          int high = g_ascii_xdigit_value (token->raw[i]);
          int low = g_ascii_xdigit_value (token->raw[i + 1]);
          if (high < 0 || low < 0)
            return parser_fail (parser, token->column, error,
                                "expected hexadecimal data, found '%s'", token->raw);
          guint8 octet = (guint8) (high << 4 | low);
          g_byte_array_append (data, &octet, 1);
        }
    }

  if (data->len != length)
    return parser_fail (parser, strlen (parser->text), error,
                        "\\# announces %" G_GUINT64_FORMAT " octets but %u follow", length, data->len);
  record->raw = g_byte_array_free_to_bytes (g_steal_pointer (&data));
  return TRUE;
}

static gboolean
parser_rdata (ZoneParser *parser, DnsRecord *record, GError **error)
{
  ZoneToken *first = parser_peek (parser);
  guint64 number;

  if (first != NULL && !first->quoted && strcmp (first->raw, "\\#") == 0)
    {
      parser->next++;
      return parser_generic_data (parser, record, error);
    }

  switch (record->type)
    {
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
      return parser_address (parser, record, error);
    case DNS_TYPE_NS:
      return (record->target = parser_name (parser, "a name server", error)) != NULL;
    case DNS_TYPE_CNAME:
      return (record->target = parser_name (parser, "the canonical name", error)) != NULL;
    case DNS_TYPE_PTR:
      return (record->target = parser_name (parser, "the name the address points to", error)) != NULL;
    case DNS_TYPE_MX:
      if (!parser_number (parser, "the MX preference", G_MAXUINT16, &number, error))
        return FALSE;
      record->preference = (guint16) number;
      return (record->target = parser_name (parser, "the mail exchanger", error)) != NULL;
    case DNS_TYPE_SOA:
      {
        /* RFC 1035 3.3.13 */
        static const char *const timers[] = { "the serial", "the refresh interval",
                                              "the retry interval", "the expire time",
                                              "the minimum (negative caching) TTL" };
        guint32 *fields[] = { &record->soa.serial, &record->soa.refresh, &record->soa.retry,
                              &record->soa.expire, &record->soa.minimum };
        if ((record->soa.mname = parser_name (parser, "the primary name server", error)) == NULL
            || (record->soa.rname = parser_name (parser, "the responsible mailbox", error)) == NULL)
          return FALSE;
        for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
          {
            if (!parser_number (parser, timers[i], G_MAXUINT32, &number, error))
              return FALSE;
            *fields[i] = (guint32) number;
          }
        return TRUE;
      }
    case DNS_TYPE_TXT:
      record->strings = g_ptr_array_new_with_free_func (g_free);
      do
        {
          ZoneToken *token = parser_take (parser, "a text string", error);
          if (token == NULL)
            return FALSE;
          char *value = parser_character_string (parser, token, error);
          if (value == NULL)
            return FALSE;
          g_ptr_array_add (record->strings, value);
        }
      while (parser_peek (parser) != NULL);
      return TRUE;
    default:
      return parser_fail (parser, first != NULL ? first->column : strlen (parser->text), error,
                          "mailsim reads %s data only in the generic form \\# length hex "
                          "(RFC 3597 5)", dns_type_to_string (record->type));
    }
}

DnsRecord *
dns_zone_parse_record (const char *text, const char *origin, guint32 default_ttl,
                       gsize *error_column, GError **error)
{
  g_autoptr(GArray) tokens = g_array_new (FALSE, TRUE, sizeof (ZoneToken));
  g_autofree char *normalized_origin = dns_name_normalize (origin, NULL);
  ZoneParser parser = { text, normalized_origin, tokens, 0, error_column };
  gboolean have_ttl = FALSE, have_class = FALSE;
  guint32 ttl = default_ttl;
  guint64 number;

  g_return_val_if_fail (text != NULL && normalized_origin != NULL, NULL);
  g_array_set_clear_func (tokens, zone_token_clear);

  if (!parser_tokenize (&parser, error))
    return NULL;
  if (tokens->len == 0)
    {
      parser_fail (&parser, 0, error, "expected a record: owner [ttl] [IN] type data");
      return NULL;
    }

  g_autofree char *owner = parser_name (&parser, "an owner name", error);
  if (owner == NULL)
    return NULL;

  /* RFC 1035 5.1: TTL and class are optional and may come in either order. */
  ZoneToken *token;
  while ((token = parser_peek (&parser)) != NULL && !token->quoted)
    {
      if (g_ascii_isdigit (token->raw[0]))
        {
          if (have_ttl || !parse_decimal (token->raw, DNS_MAX_TTL, &number))
            {
              parser_fail (&parser, token->column, error,
                           have_ttl ? "a second TTL '%s'; expected the class or record type"
                                    : "expected a TTL in seconds below 2^31 (RFC 2181 8), found '%s'",
                           token->raw);
              return NULL;
            }
          ttl = (guint32) number;
          have_ttl = TRUE;
        }
      else if (g_ascii_strcasecmp (token->raw, "IN") == 0 && !have_class)
        have_class = TRUE;
      else if (g_ascii_strcasecmp (token->raw, "CH") == 0 || g_ascii_strcasecmp (token->raw, "HS") == 0
               || g_ascii_strncasecmp (token->raw, "CLASS", 5) == 0)
        {
          parser_fail (&parser, token->column, error,
                       "class %s: mailsim simulates only class IN", token->raw);
          return NULL;
        }
      else
        break;
      parser.next++;
    }

  token = parser_take (&parser, "a record type (A, AAAA, NS, CNAME, SOA, PTR, MX, TXT)", error);
  if (token == NULL)
    return NULL;
  guint16 type;
  if (token->quoted || !dns_type_from_string (token->raw, &type))
    {
      parser_fail (&parser, token->column, error,
                   "expected a record type (A, AAAA, NS, CNAME, SOA, PTR, MX, TXT or TYPEnn), "
                   "found '%s'", token->raw);
      return NULL;
    }
  if (type == DNS_TYPE_OPT || type == DNS_TYPE_ANY || (type >= 249 && type <= 254))
    {
      parser_fail (&parser, token->column, error,
                   "%s is a question or pseudo-record type, not data a zone holds", token->raw);
      return NULL;
    }

  g_autoptr(DnsRecord) record = dns_record_new (owner, type, ttl);
  if (!parser_rdata (&parser, record, error))
    return NULL;

  if ((token = parser_peek (&parser)) != NULL)
    {
      parser_fail (&parser, token->column, error, "unexpected '%s' after the %s data",
                   token->raw, dns_type_to_string (type));
      return NULL;
    }
  return g_steal_pointer (&record);
}

gboolean
dns_zone_add_from_text (DnsZone *zone, const char *text, guint32 default_ttl,
                        gsize *error_column, GError **error)
{
  g_autoptr(DnsRecord) record = dns_zone_parse_record (text, zone->origin, default_ttl,
                                                       error_column, error);
  if (record == NULL)
    return FALSE;

  if (!dns_name_is_subdomain (record->name, zone->origin))
    {
      gsize column = 0;
      while (text[column] == ' ' || text[column] == '\t')
        column++;
      if (error_column != NULL)
        *error_column = column;
      g_set_error (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX,
                   "%s is outside the zone %s; write a name ending in %s, or a relative name",
                   record->name, zone->origin, zone->origin);
      return FALSE;
    }
  dns_zone_add (zone, g_steal_pointer (&record));
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Checking                                                            */

static gboolean
name_has_type (const DnsZone *zone, const char *name, guint16 type)
{
  for (guint i = 0; i < zone->records->len; i++)
    if (record_matches (g_ptr_array_index (zone->records, i), name, type))
      return TRUE;
  return FALSE;
}

/* The highest delegation point (an NS owner below the origin) at or above
 * @name, or NULL when @name is served by the zone itself. */
static const char *
zone_find_cut (const DnsZone *zone, const char *name)
{
  const char *cut = NULL;

  for (guint i = 0; i < zone->records->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (zone->records, i);
      if (record->type == DNS_TYPE_NS && !dns_name_equal (record->name, zone->origin)
          && dns_name_is_subdomain (name, record->name)
          && (cut == NULL || strlen (record->name) < strlen (cut)))
        cut = record->name;
    }
  return cut;
}

gboolean
dns_zone_check (const DnsZone *zone, GError **error)
{
  guint soa_count = 0;

  for (guint i = 0; i < zone->records->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (zone->records, i);
      g_autofree char *text = dns_record_to_string (record);

      if (record->type == DNS_TYPE_SOA)
        {
          soa_count++;
          if (!dns_name_equal (record->name, zone->origin))
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX,
                           "zone %s: the SOA must be owned by the origin (RFC 1035 5.2): %s",
                           zone->origin, text);
              return FALSE;
            }
        }

      if (record->type == DNS_TYPE_CNAME)
        for (guint j = 0; j < zone->records->len; j++)
          {
            const DnsRecord *other = g_ptr_array_index (zone->records, j);
            if (other->type != DNS_TYPE_CNAME && dns_name_equal (other->name, record->name))
              {
                g_set_error (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX,
                             "zone %s: %s has a CNAME and %s data; an alias holds nothing "
                             "else (RFC 1034 3.6.2)",
                             zone->origin, record->name, dns_type_to_string (other->type));
                return FALSE;
              }
          }

      if ((record->type == DNS_TYPE_NS || record->type == DNS_TYPE_MX) && record->raw == NULL
          && name_has_type (zone, record->target, DNS_TYPE_CNAME))
        {
          g_set_error (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX,
                       "zone %s: %s points at the alias %s; point it at the canonical name "
                       "(RFC 2181 10.3)", zone->origin, text, record->target);
          return FALSE;
        }

      /* RFC 1034 4.2.1: a server named inside the subdomain it serves can
       * only be found through the glue address the parent holds. */
      if (record->type == DNS_TYPE_NS && record->raw == NULL
          && !dns_name_equal (record->name, zone->origin)
          && dns_name_is_subdomain (record->target, record->name)
          && !name_has_type (zone, record->target, DNS_TYPE_A)
          && !name_has_type (zone, record->target, DNS_TYPE_AAAA))
        {
          g_set_error (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX,
                       "zone %s: %s delegates to %s, inside the delegated name, with no glue "
                       "address; add an A record for %s (RFC 1034 4.2.1)",
                       zone->origin, record->name, record->target, record->target);
          return FALSE;
        }
    }

  if (soa_count != 1)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX,
                   "zone %s has %u SOA records; it needs exactly one, at the origin (RFC 1035 5.2)",
                   zone->origin, soa_count);
      return FALSE;
    }
  if (!name_has_type (zone, zone->origin, DNS_TYPE_NS))
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX,
                   "zone %s has no NS record at its origin (RFC 1034 4.2.1)", zone->origin);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Answering                                                           */

static gboolean
section_holds (const GPtrArray *section, const DnsRecord *record)
{
  for (guint i = 0; i < section->len; i++)
    if (dns_record_equal (g_ptr_array_index (section, i), record))
      return TRUE;
  return FALSE;
}

/* Additional section processing (RFC 1034 4.3.2 step 6, RFC 1035 3.3.9
 * and 3.3.11): the addresses of @name, from any hosted zone. */
static void
add_addresses (DnsMessage *response, GPtrArray *zones, const char *name)
{
  for (guint z = 0; z < zones->len; z++)
    {
      const DnsZone *zone = g_ptr_array_index (zones, z);
      for (guint i = 0; i < zone->records->len; i++)
        {
          const DnsRecord *record = g_ptr_array_index (zone->records, i);
          if ((record->type == DNS_TYPE_A || record->type == DNS_TYPE_AAAA)
              && dns_name_equal (record->name, name)
              && !section_holds (response->additionals, record)
              && !section_holds (response->answers, record))
            g_ptr_array_add (response->additionals, dns_record_copy (record));
        }
    }
}

/* RFC 2308 3: the SOA goes in authority with a TTL no larger than its
 * minimum field, which is how long the denial may be cached. */
static void
add_negative_soa (DnsMessage *response, const DnsZone *zone)
{
  const DnsRecord *soa = dns_zone_get_soa (zone);
  if (soa == NULL)
    return;
  DnsRecord *copy = dns_record_copy (soa);
  copy->ttl = MIN (soa->ttl, soa->soa.minimum);
  g_ptr_array_add (response->authorities, copy);
}

static gboolean
name_exists_below (const DnsZone *zone, const char *name)
{
  for (guint i = 0; i < zone->records->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (zone->records, i);
      if (dns_name_is_subdomain (record->name, name))
        return TRUE;
    }
  return FALSE;
}

static const DnsZone *
best_zone (GPtrArray *zones, const char *name)
{
  const DnsZone *best = NULL;

  for (guint i = 0; i < zones->len; i++)
    {
      const DnsZone *zone = g_ptr_array_index (zones, i);
      if (dns_name_is_subdomain (name, zone->origin)
          && (best == NULL || strlen (zone->origin) > strlen (best->origin)))
        best = zone;
    }
  return best;
}

static void
answer_from_zone (DnsMessage *response, GPtrArray *zones, const DnsZone *zone,
                  const char *qname, guint16 qtype)
{
  g_autofree char *current = g_strdup (qname);

  for (guint chain = 0;; chain++)
    {
      /* Step 3b: below a cut the zone holds no authoritative data; refer
       * the asker to the child's servers. */
      const char *cut = zone_find_cut (zone, current);
      if (cut != NULL)
        {
          g_autoptr(GPtrArray) servers = dns_zone_lookup (zone, cut, DNS_TYPE_NS);
          for (guint i = 0; i < servers->len; i++)
            {
              const DnsRecord *server = g_ptr_array_index (servers, i);
              g_ptr_array_add (response->authorities, dns_record_copy (server));
              if (server->target != NULL)
                add_addresses (response, zones, server->target);
            }
          return;
        }

      g_autoptr(GPtrArray) owned = dns_zone_lookup (zone, current, DNS_TYPE_ANY);
      response->aa = TRUE;

      if (owned->len == 0)
        {
          /* RFC 8020: a name with descendants exists even with no data of
           * its own (an empty non-terminal): NODATA, not NXDOMAIN. */
          if (!name_exists_below (zone, current))
            response->rcode = DNS_RCODE_NXDOMAIN;
          add_negative_soa (response, zone);
          return;
        }

      /* Step 3a: an alias; restart with the canonical name (RFC 1034 3.6.2). */
      const DnsRecord *alias = NULL;
      for (guint i = 0; i < owned->len; i++)
        if (((const DnsRecord *) g_ptr_array_index (owned, i))->type == DNS_TYPE_CNAME)
          alias = g_ptr_array_index (owned, i);
      if (alias != NULL && qtype != DNS_TYPE_CNAME && qtype != DNS_TYPE_ANY)
        {
          gboolean loop = section_holds (response->answers, alias);
          if (!loop)
            g_ptr_array_add (response->answers, dns_record_copy (alias));
          /* Outside the zone the asker's resolver continues the chain. */
          if (loop || alias->target == NULL || chain + 1 >= DNS_MAX_CNAME_CHAIN
              || !dns_name_is_subdomain (alias->target, zone->origin))
            return;
          g_free (current);
          current = g_strdup (alias->target);
          continue;
        }

      guint added = 0;
      for (guint i = 0; i < owned->len; i++)
        {
          const DnsRecord *record = g_ptr_array_index (owned, i);
          if (qtype != DNS_TYPE_ANY && record->type != qtype)
            continue;
          g_ptr_array_add (response->answers, dns_record_copy (record));
          added++;
          if ((record->type == DNS_TYPE_MX || record->type == DNS_TYPE_NS) && record->target != NULL)
            add_addresses (response, zones, record->target);
        }
      if (added == 0)
        add_negative_soa (response, zone);
      return;
    }
}

DnsMessage *
dns_zones_answer (GPtrArray *zones, const DnsMessage *query)
{
  g_return_val_if_fail (zones != NULL && query != NULL, NULL);

  if (query->qr)
    return NULL;

  g_autoptr(DnsMessage) response = dns_message_new_response (query);

  if (query->has_edns && query->edns_version > 0)
    {
      /* RFC 6891 6.1.3: answer with the version we speak and BADVERS. */
      response->rcode = DNS_RCODE_BADVERS;
      return g_steal_pointer (&response);
    }
  if (query->opcode != DNS_OPCODE_QUERY)
    {
      response->rcode = DNS_RCODE_NOTIMP;  /* RFC 1035 4.1.1 */
      return g_steal_pointer (&response);
    }

  const DnsQuestion *question = query->questions->len == 1 ? g_ptr_array_index (query->questions, 0)
                                                           : NULL;
  if (question == NULL || question->type == DNS_TYPE_OPT)
    {
      /* RFC 9619: a query holds exactly one question. */
      response->rcode = DNS_RCODE_FORMERR;
      return g_steal_pointer (&response);
    }

  const DnsZone *zone = question->klass == DNS_CLASS_IN ? best_zone (zones, question->name) : NULL;
  if (zone == NULL)
    {
      /* RFC 1035 4.1.1: REFUSED, this server holds no zone for the name. */
      response->rcode = DNS_RCODE_REFUSED;
      return g_steal_pointer (&response);
    }

  answer_from_zone (response, zones, zone, question->name, question->type);
  return g_steal_pointer (&response);
}
