/* dns-message.c: RFC 1035 messages, built, encoded, decoded and described. */
#include "dns-message.h"

#include <arpa/inet.h>
#include <string.h>

G_DEFINE_QUARK (dns-error-quark, dns_error)

/* RFC 1035 4.1.4: a compression pointer is two octets whose top bits are 11;
 * the other 14 bits are an offset from the start of the message. */
#define DNS_POINTER_MARK 0xC0
#define DNS_POINTER_MAX_OFFSET 0x3FFF
/* RFC 1035 4.1.2 and 4.1.3: the smallest question is a root name, type and
 * class (5 octets); the smallest record adds a TTL and RDATA length (11). */
#define DNS_MIN_QUESTION_SIZE 5
#define DNS_MIN_RECORD_SIZE 11

/* ------------------------------------------------------------------ */
/* Mnemonics                                                           */

typedef struct
{
  guint16 value;
  const char *name;
} DnsMnemonic;

static const DnsMnemonic type_mnemonics[] = {
  { DNS_TYPE_A, "A" },
  { DNS_TYPE_NS, "NS" },
  { DNS_TYPE_CNAME, "CNAME" },
  { DNS_TYPE_SOA, "SOA" },
  { DNS_TYPE_PTR, "PTR" },
  { DNS_TYPE_MX, "MX" },
  { DNS_TYPE_TXT, "TXT" },
  { DNS_TYPE_AAAA, "AAAA" },
  { 33, "SRV" },
  { DNS_TYPE_OPT, "OPT" },
  { 43, "DS" },
  { 46, "RRSIG" },
  { 47, "NSEC" },
  { 48, "DNSKEY" },
  { 64, "SVCB" },
  { 65, "HTTPS" },
  { 252, "AXFR" },
  { DNS_TYPE_ANY, "ANY" },
  { 257, "CAA" },
};

static const DnsMnemonic rcode_mnemonics[] = {
  { DNS_RCODE_NOERROR, "NOERROR" },
  { DNS_RCODE_FORMERR, "FORMERR" },
  { DNS_RCODE_SERVFAIL, "SERVFAIL" },
  { DNS_RCODE_NXDOMAIN, "NXDOMAIN" },
  { DNS_RCODE_NOTIMP, "NOTIMP" },
  { DNS_RCODE_REFUSED, "REFUSED" },
  { 6, "YXDOMAIN" },
  { 7, "YXRRSET" },
  { 8, "NXRRSET" },
  { 9, "NOTAUTH" },
  { 10, "NOTZONE" },
  { DNS_RCODE_BADVERS, "BADVERS" },
};

static const DnsMnemonic opcode_mnemonics[] = {
  { DNS_OPCODE_QUERY, "QUERY" },
  { 1, "IQUERY" },
  { 2, "STATUS" },
  { 4, "NOTIFY" },
  { 5, "UPDATE" },
};

/* RFC 6891 6.1.2 options mailsim can name (IANA "DNS EDNS0 Option Codes"). */
static const DnsMnemonic edns_option_mnemonics[] = {
  { 8, "CLIENT-SUBNET" },
  { 10, "COOKIE" },
  { 12, "PADDING" },
  { 15, "EXTENDED-ERROR" },
};

static const char *
mnemonic_lookup (const DnsMnemonic *table, gsize count, guint value, const char *fallback_prefix)
{
  for (gsize i = 0; i < count; i++)
    if (table[i].value == value)
      return table[i].name;

  /* Interned so the caller gets a string that lives as long as the process,
   * like the table entries; there are at most 65536 of them. */
  g_autofree char *generic = g_strdup_printf ("%s%u", fallback_prefix, value);
  return g_intern_string (generic);
}

const char *
dns_type_to_string (guint16 type)
{
  /* RFC 3597 5: "TYPE" followed by the decimal number. */
  return mnemonic_lookup (type_mnemonics, G_N_ELEMENTS (type_mnemonics), type, "TYPE");
}

static gboolean
parse_decimal_u16 (const char *text, guint16 *out)
{
  guint64 value = 0;

  if (text[0] == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      value = value * 10 + (guint64) (*p - '0');
      if (value > G_MAXUINT16)
        return FALSE;
    }
  *out = (guint16) value;
  return TRUE;
}

gboolean
dns_type_from_string (const char *text, guint16 *out)
{
  g_return_val_if_fail (text != NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (type_mnemonics); i++)
    if (g_ascii_strcasecmp (text, type_mnemonics[i].name) == 0)
      {
        if (out != NULL)
          *out = type_mnemonics[i].value;
        return TRUE;
      }

  guint16 value;
  if (g_ascii_strncasecmp (text, "TYPE", 4) == 0 && parse_decimal_u16 (text + 4, &value))
    {
      if (out != NULL)
        *out = value;
      return TRUE;
    }
  return FALSE;
}

const char *
dns_rcode_to_string (guint8 rcode)
{
  return mnemonic_lookup (rcode_mnemonics, G_N_ELEMENTS (rcode_mnemonics), rcode, "RCODE");
}

const char *
dns_opcode_to_string (guint8 opcode)
{
  return mnemonic_lookup (opcode_mnemonics, G_N_ELEMENTS (opcode_mnemonics), opcode, "OPCODE");
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* A name in uncompressed wire form: length-prefixed labels ending with the
 * root's zero octet (RFC 1035 3.1). */
typedef struct
{
  guint8 octets[DNS_MAX_NAME];
  gsize length;  /* including the final zero octet */
} WireName;

static gboolean
wire_name_from_text (const char *text, WireName *out, GError **error)
{
  out->length = 0;

  if (text == NULL || text[0] == '\0')
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_NAME, "empty name; the root is written \".\"");
      return FALSE;
    }

  if (strcmp (text, ".") != 0)
    {
      const char *p = text;
      while (*p != '\0')
        {
          gsize length_position = out->length;
          guint label_length = 0;

          if (*p == '.')
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_NAME,
                           "empty label in \"%s\" (two dots in a row, or a leading dot)", text);
              return FALSE;
            }
          if (out->length >= DNS_MAX_NAME - 1)
            goto too_long;
          out->length++;

          while (*p != '\0' && *p != '.')
            {
              guint value;

              /* RFC 1035 5.1: "\X" quotes X and "\DDD" is the octet DDD. */
              if (*p == '\\')
                {
                  p++;
                  if (g_ascii_isdigit (p[0]) && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]))
                    {
                      value = (guint) ((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
                      if (value > 255)
                        {
                          g_set_error (error, DNS_ERROR, DNS_ERROR_NAME,
                                       "escape \\%.3s in \"%s\" is above 255", p, text);
                          return FALSE;
                        }
                      p += 3;
                    }
                  else if (*p == '\0')
                    {
                      g_set_error (error, DNS_ERROR, DNS_ERROR_NAME,
                                   "\"%s\" ends with a lone backslash", text);
                      return FALSE;
                    }
                  else
                    value = (guchar) *p++;
                }
              else
                value = (guchar) *p++;

              if (label_length == DNS_MAX_LABEL)
                {
                  g_set_error (error, DNS_ERROR, DNS_ERROR_NAME,
                               "a label of \"%s\" is longer than %u octets (RFC 1035 2.3.4)",
                               text, DNS_MAX_LABEL);
                  return FALSE;
                }
              if (out->length >= DNS_MAX_NAME - 1)
                goto too_long;
              out->octets[out->length++] = (guint8) value;
              label_length++;
            }
          out->octets[length_position] = (guint8) label_length;
          if (*p == '.')
            p++;
        }
    }

  out->octets[out->length++] = 0;
  return TRUE;

too_long:
  g_set_error (error, DNS_ERROR, DNS_ERROR_NAME,
               "\"%.40s...\" is longer than %u octets (RFC 1035 2.3.4)", text, DNS_MAX_NAME);
  return FALSE;
}

static void
append_escaped_octet (GString *text, guint8 octet)
{
  /* RFC 1035 5.1 and RFC 4343 2.1: quote the octets that mean something in
   * a master file, write the unprintable ones as \DDD. */
  if (octet < 0x21 || octet > 0x7E)
    g_string_append_printf (text, "\\%03u", octet);
  else if (strchr (".\\\"();@$", octet) != NULL)
    {
      g_string_append_c (text, '\\');
      g_string_append_c (text, (char) octet);
    }
  else
    g_string_append_c (text, (char) octet);
}

static char *
wire_name_to_text (const WireName *name)
{
  if (name->octets[0] == 0)
    return g_strdup (".");

  GString *text = g_string_new (NULL);
  for (gsize i = 0; name->octets[i] != 0; i += 1 + name->octets[i])
    {
      for (guint j = 1; j <= name->octets[i]; j++)
        append_escaped_octet (text, name->octets[i + j]);
      g_string_append_c (text, '.');
    }
  return g_string_free (text, FALSE);
}

/* RFC 4343 3: comparison folds ASCII letters only.  Length octets are at
 * most 63, below 'A', so folding the whole wire form is safe. */
static gboolean
wire_octets_equal (const guint8 *a, const guint8 *b, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if (g_ascii_tolower (a[i]) != g_ascii_tolower (b[i]))
      return FALSE;
  return TRUE;
}

static gboolean
strip_dot_equal (const char *a, const char *b)
{
  gsize length_a = strlen (a), length_b = strlen (b);
  if (length_a > 1 && a[length_a - 1] == '.')
    length_a--;
  if (length_b > 1 && b[length_b - 1] == '.')
    length_b--;
  return length_a == length_b && g_ascii_strncasecmp (a, b, length_a) == 0;
}

gboolean
dns_name_equal (const char *a, const char *b)
{
  WireName wire_a, wire_b;

  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  /* Invalid names cannot be put in wire form; compare their text then. */
  if (!wire_name_from_text (a, &wire_a, NULL) || !wire_name_from_text (b, &wire_b, NULL))
    return strip_dot_equal (a, b);
  return wire_a.length == wire_b.length
         && wire_octets_equal (wire_a.octets, wire_b.octets, wire_a.length);
}

gboolean
dns_name_is_subdomain (const char *name, const char *zone)
{
  WireName wire_name, wire_zone;

  g_return_val_if_fail (name != NULL && zone != NULL, FALSE);

  if (!wire_name_from_text (name, &wire_name, NULL) || !wire_name_from_text (zone, &wire_zone, NULL))
    return FALSE;

  /* Try each label boundary of @name as the start of @zone. */
  for (gsize offset = 0; offset < wire_name.length; offset += 1 + wire_name.octets[offset])
    {
      if (wire_name.length - offset == wire_zone.length
          && wire_octets_equal (wire_name.octets + offset, wire_zone.octets, wire_zone.length))
        return TRUE;
      if (wire_name.octets[offset] == 0)
        break;
    }
  return FALSE;
}

char *
dns_name_normalize (const char *name, GError **error)
{
  WireName wire;

  if (!wire_name_from_text (name, &wire, error))
    return NULL;
  return wire_name_to_text (&wire);
}

char *
dns_name_reverse_ipv4 (guint32 address_host_order)
{
  return g_strdup_printf ("%u.%u.%u.%u.in-addr.arpa.",
                          address_host_order & 0xFF,
                          (address_host_order >> 8) & 0xFF,
                          (address_host_order >> 16) & 0xFF,
                          address_host_order >> 24);
}

/* ------------------------------------------------------------------ */
/* Questions and records                                               */

DnsQuestion *
dns_question_new (const char *name, guint16 type)
{
  g_autofree char *normalized = dns_name_normalize (name, NULL);

  g_return_val_if_fail (normalized != NULL, NULL);

  DnsQuestion *question = g_new0 (DnsQuestion, 1);
  question->name = g_steal_pointer (&normalized);
  question->type = type;
  question->klass = DNS_CLASS_IN;
  return question;
}

DnsQuestion *
dns_question_copy (const DnsQuestion *question)
{
  DnsQuestion *copy = g_new0 (DnsQuestion, 1);
  copy->name = g_strdup (question->name);
  copy->type = question->type;
  copy->klass = question->klass;
  return copy;
}

void
dns_question_free (DnsQuestion *question)
{
  if (question == NULL)
    return;
  g_free (question->name);
  g_free (question);
}

DnsRecord *
dns_record_new (const char *name, DnsType type, guint32 ttl)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *normalized = dns_name_normalize (name, &error);

  if (normalized == NULL)
    {
      g_critical ("dns_record_new: %s", error->message);
      return NULL;
    }

  DnsRecord *record = g_new0 (DnsRecord, 1);
  record->name = g_steal_pointer (&normalized);
  record->type = type;
  record->klass = DNS_CLASS_IN;
  record->ttl = ttl;
  return record;
}

DnsRecord *
dns_record_new_a (const char *name, guint32 ttl, guint32 address_host_order)
{
  DnsRecord *record = dns_record_new (name, DNS_TYPE_A, ttl);
  if (record == NULL)
    return NULL;
  guint32 network_order = g_htonl (address_host_order);
  memcpy (record->address, &network_order, 4);
  return record;
}

DnsRecord *
dns_record_new_aaaa (const char *name, guint32 ttl, const guint8 address[16])
{
  DnsRecord *record = dns_record_new (name, DNS_TYPE_AAAA, ttl);
  if (record == NULL)
    return NULL;
  memcpy (record->address, address, 16);
  return record;
}

static char *
normalize_or_warn (const char *name, const char *what)
{
  g_autoptr(GError) error = NULL;
  char *normalized = dns_name_normalize (name, &error);
  if (normalized == NULL)
    g_critical ("%s: %s", what, error->message);
  return normalized;
}

DnsRecord *
dns_record_new_with_target (const char *name, DnsType type, guint32 ttl, const char *target)
{
  g_return_val_if_fail (type == DNS_TYPE_NS || type == DNS_TYPE_CNAME || type == DNS_TYPE_PTR, NULL);

  g_autofree char *normalized = normalize_or_warn (target, "dns_record_new_with_target");
  if (normalized == NULL)
    return NULL;
  DnsRecord *record = dns_record_new (name, type, ttl);
  if (record != NULL)
    record->target = g_steal_pointer (&normalized);
  return record;
}

DnsRecord *
dns_record_new_mx (const char *name, guint32 ttl, guint16 preference, const char *exchange)
{
  g_autofree char *normalized = normalize_or_warn (exchange, "dns_record_new_mx");
  if (normalized == NULL)
    return NULL;
  DnsRecord *record = dns_record_new (name, DNS_TYPE_MX, ttl);
  if (record == NULL)
    return NULL;
  record->preference = preference;
  record->target = g_steal_pointer (&normalized);
  return record;
}

DnsRecord *
dns_record_new_soa (const char *name, guint32 ttl, const DnsSoaData *soa)
{
  g_autofree char *mname = normalize_or_warn (soa->mname, "dns_record_new_soa");
  g_autofree char *rname = normalize_or_warn (soa->rname, "dns_record_new_soa");
  if (mname == NULL || rname == NULL)
    return NULL;
  DnsRecord *record = dns_record_new (name, DNS_TYPE_SOA, ttl);
  if (record == NULL)
    return NULL;
  record->soa = *soa;
  record->soa.mname = g_steal_pointer (&mname);
  record->soa.rname = g_steal_pointer (&rname);
  return record;
}

DnsRecord *
dns_record_new_txt (const char *name, guint32 ttl, const char *text)
{
  DnsRecord *record = dns_record_new (name, DNS_TYPE_TXT, ttl);
  if (record == NULL)
    return NULL;
  record->strings = g_ptr_array_new_with_free_func (g_free);
  gsize length = strlen (text);
  /* RFC 7208 3.3: long TXT data is split into 255-octet strings that
   * readers concatenate. */
  for (gsize offset = 0; offset < length || offset == 0; offset += DNS_MAX_CHARACTER_STRING)
    g_ptr_array_add (record->strings,
                     g_strndup (text + offset, MIN (length - offset, DNS_MAX_CHARACTER_STRING)));
  return record;
}

DnsRecord *
dns_record_copy (const DnsRecord *record)
{
  DnsRecord *copy = g_new0 (DnsRecord, 1);

  *copy = *record;
  copy->name = g_strdup (record->name);
  copy->target = g_strdup (record->target);
  copy->soa.mname = g_strdup (record->soa.mname);
  copy->soa.rname = g_strdup (record->soa.rname);
  copy->strings = NULL;
  if (record->strings != NULL)
    {
      copy->strings = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < record->strings->len; i++)
        g_ptr_array_add (copy->strings, g_strdup (g_ptr_array_index (record->strings, i)));
    }
  copy->raw = record->raw != NULL ? g_bytes_ref (record->raw) : NULL;
  return copy;
}

void
dns_record_free (DnsRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->name);
  g_free (record->target);
  g_free (record->soa.mname);
  g_free (record->soa.rname);
  g_clear_pointer (&record->strings, g_ptr_array_unref);
  g_clear_pointer (&record->raw, g_bytes_unref);
  g_free (record);
}

static gboolean
optional_names_equal (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return dns_name_equal (a, b);
}

gboolean
dns_record_equal (const DnsRecord *a, const DnsRecord *b)
{
  if (!dns_name_equal (a->name, b->name) || a->type != b->type || a->klass != b->klass
      || a->ttl != b->ttl)
    return FALSE;

  if (a->raw != NULL || b->raw != NULL)
    return a->raw != NULL && b->raw != NULL && g_bytes_equal (a->raw, b->raw);

  switch (a->type)
    {
    case DNS_TYPE_A:
      return memcmp (a->address, b->address, 4) == 0;
    case DNS_TYPE_AAAA:
      return memcmp (a->address, b->address, 16) == 0;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
      return optional_names_equal (a->target, b->target);
    case DNS_TYPE_MX:
      return a->preference == b->preference && optional_names_equal (a->target, b->target);
    case DNS_TYPE_SOA:
      return optional_names_equal (a->soa.mname, b->soa.mname)
             && optional_names_equal (a->soa.rname, b->soa.rname)
             && a->soa.serial == b->soa.serial && a->soa.refresh == b->soa.refresh
             && a->soa.retry == b->soa.retry && a->soa.expire == b->soa.expire
             && a->soa.minimum == b->soa.minimum;
    case DNS_TYPE_TXT:
      {
        guint count_a = a->strings != NULL ? a->strings->len : 0;
        guint count_b = b->strings != NULL ? b->strings->len : 0;
        if (count_a != count_b)
          return FALSE;
        for (guint i = 0; i < count_a; i++)
          if (strcmp (g_ptr_array_index (a->strings, i), g_ptr_array_index (b->strings, i)) != 0)
            return FALSE;
        return TRUE;
      }
    default:
      return TRUE;
    }
}

guint32
dns_record_get_ipv4 (const DnsRecord *record)
{
  guint32 network_order;

  g_return_val_if_fail (record->type == DNS_TYPE_A, 0);
  memcpy (&network_order, record->address, 4);
  return g_ntohl (network_order);
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */

DnsMessage *
dns_message_new (void)
{
  DnsMessage *message = g_new0 (DnsMessage, 1);
  message->questions = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_question_free);
  message->answers = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  message->authorities = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  message->additionals = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  return message;
}

DnsMessage *
dns_message_new_query (guint16 id, const char *name, DnsType type, gboolean recursion_desired)
{
  g_autofree char *normalized = dns_name_normalize (name, NULL);
  if (normalized == NULL)
    return NULL;

  DnsMessage *message = dns_message_new ();
  message->id = id;
  message->opcode = DNS_OPCODE_QUERY;
  message->rd = recursion_desired;
  DnsQuestion *question = g_new0 (DnsQuestion, 1);
  question->name = g_steal_pointer (&normalized);
  question->type = type;
  question->klass = DNS_CLASS_IN;
  g_ptr_array_add (message->questions, question);
  return message;
}

DnsMessage *
dns_message_new_response (const DnsMessage *query)
{
  DnsMessage *response = dns_message_new ();

  response->id = query->id;
  response->qr = TRUE;
  response->opcode = query->opcode;
  response->rd = query->rd;  /* RFC 1035 4.1.1: RD is copied into the response. */
  response->cd = query->cd;  /* RFC 4035 3.1.6 */
  for (guint i = 0; i < query->questions->len; i++)
    g_ptr_array_add (response->questions, dns_question_copy (g_ptr_array_index (query->questions, i)));

  /* RFC 6891 7: a responder that understands EDNS answers an OPT with one. */
  if (query->has_edns)
    {
      response->has_edns = TRUE;
      response->edns_udp_size = DNS_EDNS_UDP_SIZE;
      response->edns_version = 0;
      response->edns_dnssec_ok = query->edns_dnssec_ok;  /* RFC 3225 3 */
    }
  return response;
}

void
dns_message_free (DnsMessage *message)
{
  if (message == NULL)
    return;
  g_ptr_array_unref (message->questions);
  g_ptr_array_unref (message->answers);
  g_ptr_array_unref (message->authorities);
  g_ptr_array_unref (message->additionals);
  g_clear_pointer (&message->edns_options, g_bytes_unref);
  g_free (message);
}

gboolean
dns_message_peek_header (const guint8 *data, gsize len, guint16 *id, guint16 *flags)
{
  if (data == NULL || len < DNS_HEADER_SIZE)
    return FALSE;
  if (id != NULL)
    *id = (guint16) (data[0] << 8 | data[1]);
  if (flags != NULL)
    *flags = (guint16) (data[2] << 8 | data[3]);
  return TRUE;
}

gsize
dns_message_max_udp_response (const DnsMessage *query)
{
  if (query->has_edns)
    return MAX (DNS_UDP_MAX_PLAIN, query->edns_udp_size);
  return DNS_UDP_MAX_PLAIN;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} DnsReader;

static gboolean
reader_need (const DnsReader *reader, gsize limit, gsize count, const char *what, GError **error)
{
  if (reader->pos > limit || limit - reader->pos < count)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_TRUNCATED_INPUT,
                   "%s needs %zu octets at offset %zu but only %zu remain",
                   what, count, reader->pos, reader->pos > limit ? 0 : limit - reader->pos);
      return FALSE;
    }
  return TRUE;
}

static guint16
reader_u16 (DnsReader *reader)
{
  guint16 value = (guint16) (reader->data[reader->pos] << 8 | reader->data[reader->pos + 1]);
  reader->pos += 2;
  return value;
}

static guint32
reader_u32 (DnsReader *reader)
{
  const guint8 *p = reader->data + reader->pos;
  reader->pos += 4;
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* Read a possibly compressed name (RFC 1035 4.1.4).  Its uncompressed part
 * must end before @limit; pointers may reach anywhere earlier in the
 * message.  Every pointer must point before the start of the labels being
 * read, so each jump goes strictly backwards and reading always ends. */
static gboolean
reader_name (DnsReader *reader, gsize limit, WireName *out, GError **error)
{
  const guint8 *data = reader->data;
  gsize pos = reader->pos;
  gsize segment_start = pos;
  gsize end = limit;
  gsize resume = 0;
  gboolean jumped = FALSE;

  out->length = 0;
  for (;;)
    {
      if (pos >= end)
        {
          g_set_error (error, DNS_ERROR, DNS_ERROR_TRUNCATED_INPUT,
                       "name at offset %zu runs past the end of its data", reader->pos);
          return FALSE;
        }

      guint8 octet = data[pos];
      if ((octet & DNS_POINTER_MARK) == DNS_POINTER_MARK)
        {
          if (end - pos < 2)
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_TRUNCATED_INPUT,
                           "compression pointer at offset %zu is cut off", pos);
              return FALSE;
            }
          gsize target = (gsize) (octet & ~DNS_POINTER_MARK) << 8 | data[pos + 1];
          if (target >= reader->len)
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                           "compression pointer at offset %zu points to offset %zu, "
                           "past the end of the %zu-octet message", pos, target, reader->len);
              return FALSE;
            }
          if (target == pos)
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                           "compression pointer at offset %zu points at itself (a loop)", pos);
              return FALSE;
            }
          if (target > pos)
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                           "compression pointer at offset %zu points forward to offset %zu; "
                           "RFC 1035 4.1.4 allows only a prior occurrence", pos, target);
              return FALSE;
            }
          if (target >= segment_start)
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                           "compression pointer at offset %zu points back into its own name "
                           "at offset %zu (a loop)", pos, target);
              return FALSE;
            }
          if (target < DNS_HEADER_SIZE)
            {
              g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                           "compression pointer at offset %zu points into the header", pos);
              return FALSE;
            }
          if (!jumped)
            resume = pos + 2;
          jumped = TRUE;
          pos = segment_start = target;
          end = reader->len;
          continue;
        }

      if (octet > DNS_MAX_LABEL)
        {
          /* 0x40 to 0xBF: the extended label types of RFC 6891 5, unused. */
          g_set_error (error, DNS_ERROR, DNS_ERROR_NAME,
                       "label length %u at offset %zu: a label is at most %u octets "
                       "(RFC 1035 2.3.4)", octet, pos, DNS_MAX_LABEL);
          return FALSE;
        }
      if (out->length + 1u + octet + (octet != 0 ? 1u : 0u) > DNS_MAX_NAME)
        {
          g_set_error (error, DNS_ERROR, DNS_ERROR_NAME,
                       "name at offset %zu is longer than %u octets (RFC 1035 2.3.4)",
                       reader->pos, DNS_MAX_NAME);
          return FALSE;
        }
      if (end - pos - 1 < octet)
        {
          g_set_error (error, DNS_ERROR, DNS_ERROR_TRUNCATED_INPUT,
                       "label at offset %zu runs past the end of its data", pos);
          return FALSE;
        }
      memcpy (out->octets + out->length, data + pos, 1u + octet);
      out->length += 1u + octet;
      pos += 1u + octet;
      if (octet == 0)
        break;
    }

  reader->pos = jumped ? resume : pos;
  return TRUE;
}

static gboolean
reader_name_text (DnsReader *reader, gsize limit, char **out, GError **error)
{
  WireName name;
  if (!reader_name (reader, limit, &name, error))
    return FALSE;
  *out = wire_name_to_text (&name);
  return TRUE;
}

static gboolean
reader_rdata (DnsReader *reader, DnsRecord *record, gsize rdata_end, GError **error)
{
  const char *type_name = dns_type_to_string (record->type);
  gsize rdata_start = reader->pos;
  gsize rdata_length = rdata_end - rdata_start;

  /* RFC 3597: types mailsim does not model, and any class but IN (where
   * the same type number may mean another layout), travel as raw octets. */
  if (record->klass != DNS_CLASS_IN)
    goto raw;

  switch (record->type)
    {
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
      {
        /* RFC 1035 3.4.1, RFC 3596 2.2 */
        gsize expected = record->type == DNS_TYPE_A ? 4 : 16;
        if (rdata_length != expected)
          {
            g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                         "%s data must be %zu octets, found %zu", type_name, expected, rdata_length);
            return FALSE;
          }
        memcpy (record->address, reader->data + reader->pos, expected);
        reader->pos += expected;
        break;
      }
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
      if (!reader_name_text (reader, rdata_end, &record->target, error))
        return FALSE;
      break;
    case DNS_TYPE_MX:
      if (!reader_need (reader, rdata_end, 2, "MX preference", error))
        return FALSE;
      record->preference = reader_u16 (reader);
      if (!reader_name_text (reader, rdata_end, &record->target, error))
        return FALSE;
      break;
    case DNS_TYPE_SOA:
      if (!reader_name_text (reader, rdata_end, &record->soa.mname, error)
          || !reader_name_text (reader, rdata_end, &record->soa.rname, error)
          || !reader_need (reader, rdata_end, 20, "SOA timers", error))
        return FALSE;
      record->soa.serial = reader_u32 (reader);
      record->soa.refresh = reader_u32 (reader);
      record->soa.retry = reader_u32 (reader);
      record->soa.expire = reader_u32 (reader);
      record->soa.minimum = reader_u32 (reader);
      break;
    case DNS_TYPE_TXT:
      record->strings = g_ptr_array_new_with_free_func (g_free);
      while (reader->pos < rdata_end)
        {
          guint8 length = reader->data[reader->pos++];
          if (!reader_need (reader, rdata_end, length, "TXT character-string", error))
            return FALSE;
          const guint8 *octets = reader->data + reader->pos;
          if (memchr (octets, '\0', length) != NULL)
            {
              /* A C string cannot hold it; keep the exact octets instead. */
              g_clear_pointer (&record->strings, g_ptr_array_unref);
              reader->pos = rdata_start;
              goto raw;
            }
          g_ptr_array_add (record->strings, g_strndup ((const char *) octets, length));
          reader->pos += length;
        }
      break;
    default:
      goto raw;
    }

  if (reader->pos != rdata_end)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                   "%s data is %zu octets but its fields end after %zu",
                   type_name, rdata_length, reader->pos - rdata_start);
      return FALSE;
    }
  return TRUE;

raw:
  record->raw = g_bytes_new (reader->data + rdata_start, rdata_length);
  reader->pos = rdata_end;
  return TRUE;
}

static DnsRecord *
reader_record (DnsReader *reader, GError **error)
{
  g_autoptr(DnsRecord) record = g_new0 (DnsRecord, 1);
  WireName owner;

  if (!reader_name (reader, reader->len, &owner, error))
    return NULL;
  record->name = wire_name_to_text (&owner);

  if (!reader_need (reader, reader->len, 10, "record type, class, TTL and data length", error))
    return NULL;
  record->type = reader_u16 (reader);
  record->klass = reader_u16 (reader);
  record->ttl = reader_u32 (reader);
  guint16 rdata_length = reader_u16 (reader);
  if (!reader_need (reader, reader->len, rdata_length, "record data", error))
    return NULL;
  if (!reader_rdata (reader, record, reader->pos + rdata_length, error))
    return NULL;
  return g_steal_pointer (&record);
}

/* RFC 6891 6.1: the OPT pseudo-record is not data but the sender's EDNS
 * parameters; move them into the message. */
static gboolean
take_opt_record (DnsMessage *message, const DnsRecord *opt, guint8 header_rcode, GError **error)
{
  if (message->has_edns)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                   "more than one OPT record (RFC 6891 6.1.1)");
      return FALSE;
    }
  if (strcmp (opt->name, ".") != 0)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                   "OPT record owned by %s instead of the root (RFC 6891 6.1.2)", opt->name);
      return FALSE;
    }

  /* RFC 6891 6.1.2: the options are {code, length, data} up to the end. */
  gsize size = 0;
  const guint8 *options = g_bytes_get_data (opt->raw, &size);
  for (gsize offset = 0; offset < size;)
    {
      if (size - offset < 4 || size - offset - 4 < (gsize) (options[offset + 2] << 8 | options[offset + 3]))
        {
          g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                       "EDNS option at offset %zu of the OPT data runs past its end", offset);
          return FALSE;
        }
      offset += 4 + (gsize) (options[offset + 2] << 8 | options[offset + 3]);
    }

  /* RFC 6891 6.1.3: TTL = extended rcode (upper 8 of 12 bits), version,
   * DO bit, zeros. */
  guint extended_rcode = (opt->ttl >> 24) << 4 | header_rcode;
  if (extended_rcode > G_MAXUINT8)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_UNSUPPORTED,
                   "extended rcode %u is beyond the codes mailsim knows", extended_rcode);
      return FALSE;
    }
  message->rcode = (guint8) extended_rcode;
  message->has_edns = TRUE;
  message->edns_udp_size = opt->klass;
  message->edns_version = (opt->ttl >> 16) & 0xFF;
  message->edns_dnssec_ok = (opt->ttl & 0x8000) != 0;
  message->edns_options = size > 0 ? g_bytes_ref (opt->raw) : NULL;
  return TRUE;
}

DnsMessage *
dns_message_decode (const guint8 *data, gsize len, GError **error)
{
  static const char *const section_names[] = { "answer", "authority", "additional" };
  g_autoptr(DnsMessage) message = dns_message_new ();
  DnsReader reader = { data, len, 0 };
  guint16 flags, counts[4];

  if (data == NULL || len < DNS_HEADER_SIZE)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_TRUNCATED_INPUT,
                   "%zu octets are shorter than the %u-octet header (RFC 1035 4.1.1)",
                   len, DNS_HEADER_SIZE);
      return NULL;
    }

  /* RFC 1035 4.1.1 */
  message->id = reader_u16 (&reader);
  flags = reader_u16 (&reader);
  message->qr = (flags & 0x8000) != 0;
  message->opcode = (flags >> 11) & 0x0F;
  message->aa = (flags & 0x0400) != 0;
  message->tc = (flags & 0x0200) != 0;
  message->rd = (flags & 0x0100) != 0;
  message->ra = (flags & 0x0080) != 0;
  message->ad = (flags & 0x0020) != 0;
  message->cd = (flags & 0x0010) != 0;
  message->rcode = flags & 0x0F;
  for (guint i = 0; i < 4; i++)
    counts[i] = reader_u16 (&reader);

  gsize minimum_body = (gsize) counts[0] * DNS_MIN_QUESTION_SIZE
                       + ((gsize) counts[1] + counts[2] + counts[3]) * DNS_MIN_RECORD_SIZE;
  if (minimum_body > len - DNS_HEADER_SIZE)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_TRUNCATED_INPUT,
                   "header announces %u questions and %u records, which need at least %zu "
                   "octets, but only %zu follow",
                   counts[0], counts[1] + counts[2] + counts[3], minimum_body, len - DNS_HEADER_SIZE);
      return NULL;
    }

  for (guint i = 0; i < counts[0]; i++)
    {
      WireName name;
      if (!reader_name (&reader, len, &name, error)
          || !reader_need (&reader, len, 4, "question type and class", error))
        {
          g_prefix_error (error, "question %u: ", i + 1);
          return NULL;
        }
      DnsQuestion *question = g_new0 (DnsQuestion, 1);
      question->name = wire_name_to_text (&name);
      question->type = reader_u16 (&reader);
      question->klass = reader_u16 (&reader);
      g_ptr_array_add (message->questions, question);
    }

  GPtrArray *sections[] = { message->answers, message->authorities, message->additionals };
  for (guint section = 0; section < 3; section++)
    for (guint i = 0; i < counts[section + 1]; i++)
      {
        g_autoptr(DnsRecord) record = reader_record (&reader, error);
        if (record == NULL)
          {
            g_prefix_error (error, "%s record %u: ", section_names[section], i + 1);
            return NULL;
          }
        if (record->type == DNS_TYPE_OPT)
          {
            if (section != 2)
              {
                g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                             "%s record %u: OPT outside the additional section (RFC 6891 6.1.1)",
                             section_names[section], i + 1);
                return NULL;
              }
            if (!take_opt_record (message, record, flags & 0x0F, error))
              {
                g_prefix_error (error, "additional record %u: ", i + 1);
                return NULL;
              }
            continue;
          }
        g_ptr_array_add (sections[section], g_steal_pointer (&record));
      }

  if (reader.pos != len)
    {
      g_set_error (error, DNS_ERROR, DNS_ERROR_MALFORMED,
                   "%zu octets follow the last record the header announces", len - reader.pos);
      return NULL;
    }
  return g_steal_pointer (&message);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */

typedef struct
{
  GByteArray *bytes;
  /* Lower-cased wire suffix (GBytes) -> offset where it was written, for
   * compression (RFC 1035 4.1.4). */
  GHashTable *suffixes;
} DnsWriter;

static void
writer_u8 (DnsWriter *writer, guint8 value)
{
  g_byte_array_append (writer->bytes, &value, 1);
}

static void
writer_u16 (DnsWriter *writer, guint16 value)
{
  guint8 octets[2] = { value >> 8, value & 0xFF };
  g_byte_array_append (writer->bytes, octets, 2);
}

static void
writer_u32 (DnsWriter *writer, guint32 value)
{
  guint8 octets[4] = { value >> 24, (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF };
  g_byte_array_append (writer->bytes, octets, 4);
}

static gboolean
writer_name (DnsWriter *writer, const char *name)
{
  g_autoptr(GError) error = NULL;
  WireName wire;

  if (!wire_name_from_text (name, &wire, &error))
    {
      g_critical ("dns_message_encode: cannot encode name: %s", error->message);
      return FALSE;
    }

  for (gsize offset = 0; wire.octets[offset] != 0; offset += 1 + wire.octets[offset])
    {
      guint8 folded[DNS_MAX_NAME];
      for (gsize i = offset; i < wire.length; i++)
        folded[i - offset] = (guint8) g_ascii_tolower (wire.octets[i]);
      g_autoptr(GBytes) suffix = g_bytes_new (folded, wire.length - offset);

      gpointer earlier;
      if (g_hash_table_lookup_extended (writer->suffixes, suffix, NULL, &earlier))
        {
          writer_u16 (writer, (guint16) (0xC000 | GPOINTER_TO_UINT (earlier)));
          return TRUE;
        }
      if (writer->bytes->len <= DNS_POINTER_MAX_OFFSET)
        g_hash_table_insert (writer->suffixes, g_steal_pointer (&suffix),
                             GUINT_TO_POINTER (writer->bytes->len));
      g_byte_array_append (writer->bytes, wire.octets + offset, 1u + wire.octets[offset]);
    }
  writer_u8 (writer, 0);
  return TRUE;
}

static gboolean
writer_rdata (DnsWriter *writer, const DnsRecord *record)
{
  if (record->raw != NULL)
    {
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (record->raw, &size);
      g_byte_array_append (writer->bytes, data, (guint) size);
      return TRUE;
    }

  switch (record->type)
    {
    case DNS_TYPE_A:
      g_byte_array_append (writer->bytes, record->address, 4);
      return TRUE;
    case DNS_TYPE_AAAA:
      g_byte_array_append (writer->bytes, record->address, 16);
      return TRUE;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
      return writer_name (writer, record->target);
    case DNS_TYPE_MX:
      writer_u16 (writer, record->preference);
      return writer_name (writer, record->target);
    case DNS_TYPE_SOA:
      if (!writer_name (writer, record->soa.mname) || !writer_name (writer, record->soa.rname))
        return FALSE;
      writer_u32 (writer, record->soa.serial);
      writer_u32 (writer, record->soa.refresh);
      writer_u32 (writer, record->soa.retry);
      writer_u32 (writer, record->soa.expire);
      writer_u32 (writer, record->soa.minimum);
      return TRUE;
    case DNS_TYPE_TXT:
      for (guint i = 0; record->strings != NULL && i < record->strings->len; i++)
        {
          const char *text = g_ptr_array_index (record->strings, i);
          gsize length = strlen (text);
          if (length > DNS_MAX_CHARACTER_STRING)
            {
              g_critical ("dns_message_encode: TXT string of %zu octets; at most %u fit",
                          length, DNS_MAX_CHARACTER_STRING);
              return FALSE;
            }
          writer_u8 (writer, (guint8) length);
          g_byte_array_append (writer->bytes, (const guint8 *) text, (guint) length);
        }
      return TRUE;
    default:
      return TRUE;
    }
}

static gboolean
writer_record_header_and_data (DnsWriter *writer, const DnsRecord *record)
{
  writer_u16 (writer, record->type);
  writer_u16 (writer, record->klass);
  writer_u32 (writer, record->ttl);

  guint length_position = writer->bytes->len;
  writer_u16 (writer, 0);
  if (!writer_rdata (writer, record))
    return FALSE;
  gsize rdata_length = writer->bytes->len - length_position - 2;
  if (rdata_length > G_MAXUINT16)
    {
      g_critical ("dns_message_encode: %s data of %zu octets does not fit",
                  dns_type_to_string (record->type), rdata_length);
      return FALSE;
    }
  writer->bytes->data[length_position] = (guint8) (rdata_length >> 8);
  writer->bytes->data[length_position + 1] = rdata_length & 0xFF;
  return TRUE;
}

static gboolean
writer_record (DnsWriter *writer, const DnsRecord *record)
{
  return writer_name (writer, record->name) && writer_record_header_and_data (writer, record);
}

/* Encode @message keeping only the first @counts[i] records of each
 * section. */
static GByteArray *
encode_with_counts (const DnsMessage *message, const guint counts[3], gboolean truncated)
{
  const GPtrArray *sections[] = { message->answers, message->authorities, message->additionals };
  g_autoptr(GHashTable) suffixes = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                          (GDestroyNotify) g_bytes_unref, NULL);
  g_autoptr(GByteArray) bytes = g_byte_array_sized_new (DNS_UDP_MAX_PLAIN);
  DnsWriter writer = { bytes, suffixes };
  guint additional_count = counts[2] + (message->has_edns ? 1 : 0);

  if (message->questions->len > G_MAXUINT16 || counts[0] > G_MAXUINT16 || counts[1] > G_MAXUINT16
      || additional_count > G_MAXUINT16)
    {
      g_critical ("dns_message_encode: more than 65535 entries in a section");
      return NULL;
    }

  /* RFC 1035 4.1.1, with the AD and CD bits of RFC 4035 3.2. */
  guint16 flags = (guint16) ((message->qr ? 0x8000 : 0) | (message->opcode & 0x0F) << 11
                             | (message->aa ? 0x0400 : 0) | (truncated ? 0x0200 : 0)
                             | (message->rd ? 0x0100 : 0) | (message->ra ? 0x0080 : 0)
                             | (message->ad ? 0x0020 : 0) | (message->cd ? 0x0010 : 0)
                             | (message->rcode & 0x0F));
  writer_u16 (&writer, message->id);
  writer_u16 (&writer, flags);
  writer_u16 (&writer, (guint16) message->questions->len);
  writer_u16 (&writer, (guint16) counts[0]);
  writer_u16 (&writer, (guint16) counts[1]);
  writer_u16 (&writer, (guint16) additional_count);

  for (guint i = 0; i < message->questions->len; i++)
    {
      const DnsQuestion *question = g_ptr_array_index (message->questions, i);
      if (!writer_name (&writer, question->name))
        return NULL;
      writer_u16 (&writer, question->type);
      writer_u16 (&writer, question->klass);
    }

  for (guint section = 0; section < 3; section++)
    for (guint i = 0; i < counts[section]; i++)
      if (!writer_record (&writer, g_ptr_array_index (sections[section], i)))
        return NULL;

  if (message->has_edns)
    {
      /* RFC 6891 6.1.2 and 6.1.3: root owner, class = UDP payload size,
       * TTL = extended rcode, version, DO bit. */
      DnsRecord opt = { 0 };
      opt.type = DNS_TYPE_OPT;
      opt.klass = message->edns_udp_size;
      opt.ttl = (guint32) (message->rcode >> 4) << 24 | (guint32) message->edns_version << 16
                | (message->edns_dnssec_ok ? 0x8000u : 0u);
      opt.raw = message->edns_options;
      writer_u8 (&writer, 0);
      if (!writer_record_header_and_data (&writer, &opt))
        return NULL;
    }
  return g_steal_pointer (&bytes);
}

static gboolean
same_rrset (const DnsRecord *a, const DnsRecord *b)
{
  return a->type == b->type && a->klass == b->klass && dns_name_equal (a->name, b->name);
}

/* The index where the RRset ending at @count - 1 starts. */
static guint
last_rrset_start (const GPtrArray *records, guint count)
{
  const DnsRecord *last = g_ptr_array_index (records, count - 1);
  guint start = count - 1;
  while (start > 0 && same_rrset (g_ptr_array_index (records, start - 1), last))
    start--;
  return start;
}

GBytes *
dns_message_encode (const DnsMessage *message, gsize max_size)
{
  g_return_val_if_fail (message != NULL, NULL);

  const GPtrArray *sections[] = { message->answers, message->authorities, message->additionals };
  guint counts[3] = { message->answers->len, message->authorities->len, message->additionals->len };
  gboolean truncated = message->tc;

  if (max_size == 0 || max_size > DNS_MAX_MESSAGE)
    max_size = DNS_MAX_MESSAGE;

  for (;;)
    {
      GByteArray *bytes = encode_with_counts (message, counts, truncated);
      if (bytes == NULL)
        return NULL;

      int section = 2;
      while (section >= 0 && counts[section] == 0)
        section--;
      if (bytes->len <= max_size || section < 0)
        return g_byte_array_free_to_bytes (bytes);
      g_byte_array_unref (bytes);

      counts[section] = last_rrset_start (sections[section], counts[section]);
      /* RFC 2181 9: TC means a required RRset did not fit; leaving out
       * additional data alone does not set it. */
      if (section < 2)
        truncated = TRUE;
    }
}

/* ------------------------------------------------------------------ */
/* Text for people                                                     */

static void
append_character_string (GString *text, const char *string)
{
  g_string_append_c (text, '"');
  for (const guchar *p = (const guchar *) string; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (text, '\\');
      if (*p < 0x20 || *p > 0x7E)
        g_string_append_printf (text, "\\%03u", *p);
      else
        g_string_append_c (text, (char) *p);
    }
  g_string_append_c (text, '"');
}

static void
append_rdata (GString *text, const DnsRecord *record)
{
  char address[INET6_ADDRSTRLEN];

  if (record->raw != NULL || record->type == DNS_TYPE_OPT)
    {
      /* RFC 3597 5: the generic form "\# length hex". */
      gsize size = 0;
      const guint8 *data = record->raw != NULL ? g_bytes_get_data (record->raw, &size) : NULL;
      g_string_append_printf (text, "\\# %zu", size);
      if (size > 0)
        g_string_append_c (text, ' ');
      for (gsize i = 0; i < size; i++)
        g_string_append_printf (text, "%02x", data[i]);
      return;
    }

  switch (record->type)
    {
    case DNS_TYPE_A:
      g_string_append (text, inet_ntop (AF_INET, record->address, address, sizeof address));
      break;
    case DNS_TYPE_AAAA:
      g_string_append (text, inet_ntop (AF_INET6, record->address, address, sizeof address));
      break;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
      g_string_append (text, record->target != NULL ? record->target : ".");
      break;
    case DNS_TYPE_MX:
      g_string_append_printf (text, "%u %s", record->preference,
                              record->target != NULL ? record->target : ".");
      break;
    case DNS_TYPE_SOA:
      g_string_append_printf (text, "%s %s %u %u %u %u %u",
                              record->soa.mname != NULL ? record->soa.mname : ".",
                              record->soa.rname != NULL ? record->soa.rname : ".",
                              record->soa.serial, record->soa.refresh, record->soa.retry,
                              record->soa.expire, record->soa.minimum);
      break;
    case DNS_TYPE_TXT:
      for (guint i = 0; record->strings != NULL && i < record->strings->len; i++)
        {
          if (i > 0)
            g_string_append_c (text, ' ');
          append_character_string (text, g_ptr_array_index (record->strings, i));
        }
      break;
    default:
      g_string_append (text, "\\# 0");
      break;
    }
}

static void
append_class (GString *text, guint16 klass)
{
  if (klass == DNS_CLASS_IN)
    g_string_append (text, "IN");
  else
    g_string_append_printf (text, "CLASS%u", klass);  /* RFC 3597 5 */
}

char *
dns_record_to_string (const DnsRecord *record)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "%s %u ", record->name, record->ttl);
  append_class (text, record->klass);
  g_string_append_printf (text, " %s ", dns_type_to_string (record->type));
  append_rdata (text, record);
  return g_string_free (text, FALSE);
}

DnsResponseKind
dns_message_classify (const DnsMessage *message)
{
  if (!message->qr)
    return DNS_RESPONSE_QUERY;
  if (message->tc)
    return DNS_RESPONSE_TRUNCATED;

  switch (message->rcode)
    {
    case DNS_RCODE_NOERROR:
      break;
    case DNS_RCODE_FORMERR:
      return DNS_RESPONSE_FORMERR;
    case DNS_RCODE_SERVFAIL:
      return DNS_RESPONSE_SERVFAIL;
    case DNS_RCODE_NXDOMAIN:
      return DNS_RESPONSE_NXDOMAIN;
    case DNS_RCODE_NOTIMP:
      return DNS_RESPONSE_NOTIMP;
    case DNS_RCODE_REFUSED:
      return DNS_RESPONSE_REFUSED;
    default:
      return DNS_RESPONSE_OTHER_ERROR;
    }

  if (message->answers->len > 0)
    return DNS_RESPONSE_ANSWER;

  /* RFC 2308 2.2: a referral has NS and no SOA in authority and no AA;
   * anything else without an answer is NODATA. */
  gboolean has_ns = FALSE, has_soa = FALSE;
  for (guint i = 0; i < message->authorities->len; i++)
    {
      const DnsRecord *record = g_ptr_array_index (message->authorities, i);
      has_ns |= record->type == DNS_TYPE_NS;
      has_soa |= record->type == DNS_TYPE_SOA;
    }
  if (has_ns && !has_soa && !message->aa)
    return DNS_RESPONSE_REFERRAL;
  return DNS_RESPONSE_NODATA;
}

const char *
dns_message_explain_key (const DnsMessage *message)
{
  switch (dns_message_classify (message))
    {
    case DNS_RESPONSE_QUERY:
      return "dns.query";
    case DNS_RESPONSE_ANSWER:
      return "dns.response.answer";
    case DNS_RESPONSE_REFERRAL:
      return "dns.response.referral";
    case DNS_RESPONSE_NODATA:
      return "dns.response.nodata";
    case DNS_RESPONSE_NXDOMAIN:
      return "dns.response.nxdomain";
    case DNS_RESPONSE_SERVFAIL:
      return "dns.response.servfail";
    case DNS_RESPONSE_FORMERR:
      return "dns.response.formerr";
    case DNS_RESPONSE_NOTIMP:
      return "dns.response.notimp";
    case DNS_RESPONSE_REFUSED:
      return "dns.response.refused";
    case DNS_RESPONSE_TRUNCATED:
      return "dns.response.truncated";
    case DNS_RESPONSE_OTHER_ERROR:
    default:
      return "dns.response.error";
    }
}

static void
append_questions (GString *text, const DnsMessage *message)
{
  if (message->questions->len == 0)
    {
      g_string_append (text, "(no question)");
      return;
    }
  for (guint i = 0; i < message->questions->len; i++)
    {
      const DnsQuestion *question = g_ptr_array_index (message->questions, i);
      g_string_append_printf (text, "%s%s? %s", i > 0 ? ", " : "",
                              dns_type_to_string (question->type), question->name);
    }
}

char *
dns_message_summary (const DnsMessage *message)
{
  GString *text = g_string_new (NULL);

  if (message->opcode != DNS_OPCODE_QUERY)
    g_string_append_printf (text, "%s ", dns_opcode_to_string (message->opcode));

  if (!message->qr)
    {
      g_string_append (text, "query ");
      append_questions (text, message);
      if (message->rd)
        g_string_append (text, " rd");
      return g_string_free (text, FALSE);
    }

  switch (dns_message_classify (message))
    {
    case DNS_RESPONSE_ANSWER:
      g_string_append (text, "answer");
      break;
    case DNS_RESPONSE_REFERRAL:
      g_string_append (text, "referral");
      break;
    case DNS_RESPONSE_NODATA:
      g_string_append (text, "nodata");
      break;
    case DNS_RESPONSE_TRUNCATED:
      g_string_append (text, "truncated");
      break;
    default:
      g_string_append (text, "response");
      break;
    }
  g_string_append_printf (text, " %s%s%s for ", dns_rcode_to_string (message->rcode),
                          message->aa ? " aa" : "", message->tc ? " tc" : "");
  append_questions (text, message);
  g_string_append_printf (text, ": %u answer%s, %u authority, %u additional",
                          message->answers->len, message->answers->len == 1 ? "" : "s",
                          message->authorities->len, message->additionals->len);
  return g_string_free (text, FALSE);
}

static void
describe_edns (GPtrArray *lines, const DnsMessage *message)
{
  g_ptr_array_add (lines, g_strdup_printf ("edns: version %u, udp payload %u octets%s",
                                           message->edns_version, message->edns_udp_size,
                                           message->edns_dnssec_ok ? ", do" : ""));
  if (message->edns_options == NULL)
    return;

  gsize size = 0;
  const guint8 *options = g_bytes_get_data (message->edns_options, &size);
  for (gsize offset = 0; size - offset >= 4;)
    {
      guint code = (guint) (options[offset] << 8 | options[offset + 1]);
      gsize length = (gsize) (options[offset + 2] << 8 | options[offset + 3]);
      if (length > size - offset - 4)
        break;
      g_ptr_array_add (lines, g_strdup_printf ("edns option: %s, %zu octets",
                                               mnemonic_lookup (edns_option_mnemonics,
                                                                G_N_ELEMENTS (edns_option_mnemonics),
                                                                code, "OPTION"),
                                               length));
      offset += 4 + length;
    }
}

GPtrArray *
dns_message_describe (const DnsMessage *message)
{
  static const char *const section_names[] = { "answer", "authority", "additional" };
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) flags = g_string_new (NULL);

  const struct { gboolean set; const char *name; } flag_names[] = {
    { message->qr, "qr" }, { message->aa, "aa" }, { message->tc, "tc" }, { message->rd, "rd" },
    { message->ra, "ra" }, { message->ad, "ad" }, { message->cd, "cd" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (flag_names); i++)
    if (flag_names[i].set)
      g_string_append_printf (flags, " %s", flag_names[i].name);

  g_ptr_array_add (lines, g_strdup_printf ("header: id %u, %s, opcode %s, rcode %s, flags:%s",
                                           message->id, message->qr ? "response" : "query",
                                           dns_opcode_to_string (message->opcode),
                                           dns_rcode_to_string (message->rcode),
                                           flags->len > 0 ? flags->str : " none"));
  if (message->has_edns)
    describe_edns (lines, message);

  for (guint i = 0; i < message->questions->len; i++)
    {
      const DnsQuestion *question = g_ptr_array_index (message->questions, i);
      g_autoptr(GString) line = g_string_new (NULL);
      g_string_append_printf (line, "question: %s ", question->name);
      append_class (line, question->klass);
      g_string_append_printf (line, " %s", dns_type_to_string (question->type));
      g_ptr_array_add (lines, g_string_free (g_steal_pointer (&line), FALSE));
    }

  const GPtrArray *sections[] = { message->answers, message->authorities, message->additionals };
  for (guint section = 0; section < 3; section++)
    for (guint i = 0; i < sections[section]->len; i++)
      {
        g_autofree char *record = dns_record_to_string (g_ptr_array_index (sections[section], i));
        g_ptr_array_add (lines, g_strdup_printf ("%s: %s", section_names[section], record));
      }
  return lines;
}
