/* imap-message.c: header fields, ENVELOPE and BODYSTRUCTURE for FETCH. */
#include "proto/imap/imap-message.h"

#include <string.h>

#include "proto/imap/imap-parser.h"

/* MIME parts nested deeper than this are described as opaque leaves, so a
 * hostile message cannot exhaust the stack. */
#define IMAP_MAX_MIME_DEPTH 16

typedef struct
{
  const guint8 *data;
  gsize len;
} Span;

static Span
span_of (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  return (Span) { data, len };
}

/* Offset just past the line starting at @pos (past its LF), or @len. */
static gsize
next_line (Span s, gsize pos)
{
  const guint8 *lf = pos < s.len ? memchr (s.data + pos, '\n', s.len - pos) : NULL;
  return lf != NULL ? (gsize) (lf - s.data) + 1 : s.len;
}

static gboolean
is_blank_line (Span s, gsize pos)
{
  return (pos < s.len && s.data[pos] == '\n')
         || (pos + 1 < s.len && s.data[pos] == '\r' && s.data[pos + 1] == '\n');
}

static void
span_split (Span s, gsize *header_len, gsize *body_offset)
{
  gsize pos = 0;
  while (pos < s.len)
    {
      if (is_blank_line (s, pos))
        {
          *header_len = next_line (s, pos);
          *body_offset = *header_len;
          return;
        }
      pos = next_line (s, pos);
    }
  *header_len = s.len;
  *body_offset = s.len;
}

void
imap_message_split (GBytes *message, gsize *header_len, gsize *body_offset)
{
  span_split (span_of (message), header_len, body_offset);
}

/* Calls @visit for each header field with its name and its whole extent
 * (first line to the end of its last continuation line). */
typedef gboolean (*FieldVisitor) (const char *name, gsize name_len, Span field, gpointer user_data);

static void
for_each_field (Span s, FieldVisitor visit, gpointer user_data)
{
  gsize header_len, body_offset;
  span_split (s, &header_len, &body_offset);
  gsize pos = 0;
  while (pos < header_len && !is_blank_line (s, pos))
    {
      gsize start = pos;
      pos = next_line (s, pos);
      /* RFC 5322 2.2.3: a line starting with white space continues the field. */
      while (pos < header_len && (s.data[pos] == ' ' || s.data[pos] == '\t'))
        pos = next_line (s, pos);
      const guint8 *colon = memchr (s.data + start, ':', pos - start);
      if (colon == NULL)
        continue;
      if (!visit ((const char *) s.data + start, (gsize) (colon - (s.data + start)),
                  (Span) { s.data + start, pos - start }, user_data))
        return;
    }
}

typedef struct
{
  const char *name;
  char *value;
} FindField;

static gboolean
find_field (const char *name, gsize name_len, Span field, gpointer user_data)
{
  FindField *find = user_data;
  if (strlen (find->name) != name_len || g_ascii_strncasecmp (name, find->name, name_len) != 0)
    return TRUE;
  GString *value = g_string_new (NULL);
  for (gsize i = name_len + 1; i < field.len; i++)
    if (field.data[i] != '\r' && field.data[i] != '\n')
      g_string_append_c (value, (char) field.data[i]);
  find->value = g_strstrip (g_string_free (value, FALSE));
  return FALSE;
}

static char *
span_get_header (Span s, const char *name)
{
  FindField find = { name, NULL };
  for_each_field (s, find_field, &find);
  return find.value;
}

char *
imap_message_get_header (GBytes *message, const char *name)
{
  return span_get_header (span_of (message), name);
}

typedef struct
{
  const char *const *names;
  gboolean exclude;
  GByteArray *out;
} SelectFields;

static gboolean
select_field (const char *name, gsize name_len, Span field, gpointer user_data)
{
  SelectFields *select = user_data;
  gboolean listed = FALSE;
  for (const char *const *n = select->names; *n != NULL && !listed; n++)
    listed = strlen (*n) == name_len && g_ascii_strncasecmp (name, *n, name_len) == 0;
  if (listed != select->exclude)
    g_byte_array_append (select->out, field.data, (guint) field.len);
  return TRUE;
}

GBytes *
imap_message_header_fields (GBytes *message, const char *const *names, gboolean exclude)
{
  SelectFields select = { names, exclude, g_byte_array_new () };
  for_each_field (span_of (message), select_field, &select);
  g_byte_array_append (select.out, (const guint8 *) "\r\n", 2);
  return g_byte_array_free_to_bytes (select.out);
}

gboolean
imap_message_contains (const guint8 *data, gsize len, const char *needle)
{
  gsize needle_len = strlen (needle);
  if (needle_len == 0)
    return TRUE;
  for (gsize i = 0; i + needle_len <= len; i++)
    if (g_ascii_strncasecmp ((const char *) data + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

/* ---- ENVELOPE ---- */

/* Splits an address list at commas outside quotes, angle brackets and
 * comments: "Ann <a@x>, \"Doe, Bo\" <b@y>". */
static GPtrArray *
split_addresses (const char *list)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  gboolean quoted = FALSE;
  int angle = 0, comment = 0;
  const char *start = list;
  for (const char *p = list;; p++)
    {
      if (*p == '\0' || (*p == ',' && !quoted && angle == 0 && comment == 0))
        {
          char *part = g_strstrip (g_strndup (start, (gsize) (p - start)));
          if (*part != '\0')
            g_ptr_array_add (parts, part);
          else
            g_free (part);
          if (*p == '\0')
            return parts;
          start = p + 1;
        }
      else if (*p == '\\' && quoted && p[1] != '\0')
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (!quoted && *p == '<')
        angle++;
      else if (!quoted && *p == '>' && angle > 0)
        angle--;
      else if (!quoted && *p == '(')
        comment++;
      else if (!quoted && *p == ')' && comment > 0)
        comment--;
    }
}

static char *
strip_comments_and_quotes (const char *text)
{
  GString *out = g_string_new (NULL);
  int comment = 0;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '(')
        comment++;
      else if (*p == ')' && comment > 0)
        comment--;
      else if (comment == 0 && *p == '\\' && p[1] != '\0')
        g_string_append_c (out, *++p);
      else if (comment == 0 && *p != '"')
        g_string_append_c (out, *p);
    }
  return g_strstrip (g_string_free (out, FALSE));
}

/* RFC 3501 7.4.2: (name adl mailbox host) for each address. */
static void
append_address (GString *out, const char *text)
{
  g_autofree char *name = NULL;
  g_autofree char *address = NULL;
  const char *open = strchr (text, '<');
  const char *close = open != NULL ? strchr (open, '>') : NULL;
  if (open != NULL && close != NULL)
    {
      g_autofree char *display = g_strndup (text, (gsize) (open - text));
      name = strip_comments_and_quotes (display);
      address = g_strstrip (g_strndup (open + 1, (gsize) (close - open - 1)));
    }
  else
    address = strip_comments_and_quotes (text);

  const char *at = strrchr (address, '@');
  g_autofree char *mailbox = at != NULL ? g_strndup (address, (gsize) (at - address)) : g_strdup (address);
  g_string_append_c (out, '(');
  imap_append_nstring (out, name != NULL && *name != '\0' ? name : NULL);
  g_string_append (out, " NIL ");
  imap_append_nstring (out, mailbox);
  g_string_append_c (out, ' ');
  imap_append_nstring (out, at != NULL ? at + 1 : NULL);
  g_string_append_c (out, ')');
}

static void
append_address_list (GString *out, const char *value)
{
  g_autoptr(GPtrArray) parts = value != NULL ? split_addresses (value) : NULL;
  if (parts == NULL || parts->len == 0)
    {
      g_string_append (out, "NIL");
      return;
    }
  g_string_append_c (out, '(');
  for (guint i = 0; i < parts->len; i++)
    append_address (out, g_ptr_array_index (parts, i));
  g_string_append_c (out, ')');
}

static const char *
non_empty (const char *text)
{
  return text != NULL && *text != '\0' ? text : NULL;
}

static void
append_envelope (GString *out, Span s)
{
  g_autofree char *date = span_get_header (s, "Date");
  g_autofree char *subject = span_get_header (s, "Subject");
  g_autofree char *from = span_get_header (s, "From");
  g_autofree char *sender = span_get_header (s, "Sender");
  g_autofree char *reply_to = span_get_header (s, "Reply-To");
  g_autofree char *to = span_get_header (s, "To");
  g_autofree char *cc = span_get_header (s, "Cc");
  g_autofree char *bcc = span_get_header (s, "Bcc");
  g_autofree char *in_reply_to = span_get_header (s, "In-Reply-To");
  g_autofree char *message_id = span_get_header (s, "Message-ID");

  g_string_append_c (out, '(');
  imap_append_nstring (out, date);
  g_string_append_c (out, ' ');
  imap_append_nstring (out, subject);
  g_string_append_c (out, ' ');
  append_address_list (out, from);
  g_string_append_c (out, ' ');
  /* RFC 3501 7.4.2: absent or empty Sender and Reply-To repeat From. */
  append_address_list (out, non_empty (sender) != NULL ? sender : from);
  g_string_append_c (out, ' ');
  append_address_list (out, non_empty (reply_to) != NULL ? reply_to : from);
  g_string_append_c (out, ' ');
  append_address_list (out, to);
  g_string_append_c (out, ' ');
  append_address_list (out, cc);
  g_string_append_c (out, ' ');
  append_address_list (out, bcc);
  g_string_append_c (out, ' ');
  imap_append_nstring (out, in_reply_to);
  g_string_append_c (out, ' ');
  imap_append_nstring (out, message_id);
  g_string_append_c (out, ')');
}

void
imap_message_append_envelope (GString *out, GBytes *message)
{
  append_envelope (out, span_of (message));
}

/* ---- BODY and BODYSTRUCTURE ---- */

typedef struct
{
  char *type;            /* upper case: "TEXT" */
  char *subtype;         /* "PLAIN" */
  GPtrArray *params;     /* name, value, name, value... */
} ContentType;

static void
content_type_clear (ContentType *ct)
{
  g_free (ct->type);
  g_free (ct->subtype);
  g_clear_pointer (&ct->params, g_ptr_array_unref);
}

/* RFC 2045 5.1: type "/" subtype *(";" parameter); RFC 2045 5.2: text/plain
 * with charset us-ascii when absent or unreadable. */
static void
parse_content_type (const char *value, const char *default_type, ContentType *ct)
{
  ct->params = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) pieces = g_strsplit (value != NULL ? value : default_type, ";", -1);
  g_auto(GStrv) type = g_strsplit (g_strstrip (pieces[0]), "/", 2);
  if (type[0] == NULL || type[1] == NULL || *g_strstrip (type[0]) == '\0' || *g_strstrip (type[1]) == '\0')
    {
      content_type_clear (ct);
      if (value != NULL)
        parse_content_type (NULL, "text/plain; charset=us-ascii", ct);
      return;
    }
  ct->type = g_ascii_strup (type[0], -1);
  ct->subtype = g_ascii_strup (type[1], -1);
  for (guint i = 1; pieces[i] != NULL; i++)
    {
      char *eq = strchr (pieces[i], '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      char *name = g_strstrip (pieces[i]);
      char *param_value = g_strstrip (eq + 1);
      gsize len = strlen (param_value);
      if (len >= 2 && param_value[0] == '"' && param_value[len - 1] == '"')
        {
          param_value[len - 1] = '\0';
          param_value++;
        }
      g_ptr_array_add (ct->params, g_ascii_strup (name, -1));
      g_ptr_array_add (ct->params, g_strdup (param_value));
    }
  if (ct->params->len == 0 && strcmp (ct->type, "TEXT") == 0)
    {
      g_ptr_array_add (ct->params, g_strdup ("CHARSET"));
      g_ptr_array_add (ct->params, g_strdup ("US-ASCII"));
    }
}

static const char *
content_type_param (const ContentType *ct, const char *name)
{
  for (guint i = 0; i + 1 < ct->params->len; i += 2)
    if (g_ascii_strcasecmp (g_ptr_array_index (ct->params, i), name) == 0)
      return g_ptr_array_index (ct->params, i + 1);
  return NULL;
}

static void
append_params (GString *out, const ContentType *ct)
{
  if (ct->params->len == 0)
    {
      g_string_append (out, "NIL");
      return;
    }
  g_string_append_c (out, '(');
  for (guint i = 0; i < ct->params->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ' ');
      imap_append_nstring (out, g_ptr_array_index (ct->params, i));
    }
  g_string_append_c (out, ')');
}

static guint
count_lines (Span s)
{
  guint lines = 0;
  for (gsize i = 0; i < s.len; i++)
    if (s.data[i] == '\n')
      lines++;
  if (s.len > 0 && s.data[s.len - 1] != '\n')
    lines++;
  return lines;
}

static void append_structure (GString *out, Span entity, const char *default_type,
                              gboolean extensible, guint depth);

/* RFC 2046 5.1.1: parts lie between "--boundary" lines; "--boundary--" ends them. */
static void
append_multipart (GString *out, Span body, const char *boundary, const char *default_type,
                  gboolean extensible, guint depth)
{
  g_autofree char *delimiter = g_strconcat ("--", boundary, NULL);
  gsize delimiter_len = strlen (delimiter);
  gsize pos = 0;
  gsize part_start = 0;
  gboolean in_part = FALSE;
  guint parts = 0;
  while (pos < body.len)
    {
      gsize line_end = next_line (body, pos);
      gboolean is_delimiter = line_end - pos >= delimiter_len
                              && memcmp (body.data + pos, delimiter, delimiter_len) == 0;
      if (is_delimiter)
        {
          if (in_part)
            {
              /* The CRLF before the delimiter belongs to the delimiter. */
              gsize end = pos;
              if (end > part_start && body.data[end - 1] == '\n')
                end--;
              if (end > part_start && body.data[end - 1] == '\r')
                end--;
              append_structure (out, (Span) { body.data + part_start, end - part_start },
                                default_type, extensible, depth + 1);
              parts++;
            }
          gboolean closing = line_end - pos >= delimiter_len + 2
                             && memcmp (body.data + pos + delimiter_len, "--", 2) == 0;
          if (closing)
            break;
          in_part = TRUE;
          part_start = line_end;
        }
      pos = line_end;
    }
  /* RFC 3501 7.4.2: a multipart has at least one part; describe an empty one. */
  if (parts == 0)
    append_structure (out, (Span) { body.data, 0 }, default_type, extensible, depth + 1);
}

static void
append_structure (GString *out, Span entity, const char *default_type, gboolean extensible, guint depth)
{
  g_autofree char *type_value = span_get_header (entity, "Content-Type");
  g_autofree char *encoding = span_get_header (entity, "Content-Transfer-Encoding");
  g_autofree char *id = span_get_header (entity, "Content-ID");
  g_autofree char *description = span_get_header (entity, "Content-Description");
  ContentType ct = { 0 };
  gsize header_len, body_offset;

  parse_content_type (type_value, default_type, &ct);
  span_split (entity, &header_len, &body_offset);
  Span body = { entity.data + body_offset, entity.len - body_offset };
  const char *boundary = content_type_param (&ct, "BOUNDARY");

  g_string_append_c (out, '(');
  if (strcmp (ct.type, "MULTIPART") == 0 && boundary != NULL && depth < IMAP_MAX_MIME_DEPTH)
    {
      /* RFC 2046 5.1.5: parts of a multipart/digest default to message/rfc822. */
      const char *part_default = strcmp (ct.subtype, "DIGEST") == 0 ? "message/rfc822" : "text/plain; charset=us-ascii";
      append_multipart (out, body, boundary, part_default, extensible, depth);
      g_string_append_c (out, ' ');
      imap_append_nstring (out, ct.subtype);
      if (extensible)
        {
          g_string_append_c (out, ' ');
          append_params (out, &ct);
          g_string_append (out, " NIL NIL NIL");
        }
      g_string_append_c (out, ')');
      content_type_clear (&ct);
      return;
    }

  imap_append_nstring (out, ct.type);
  g_string_append_c (out, ' ');
  imap_append_nstring (out, ct.subtype);
  g_string_append_c (out, ' ');
  append_params (out, &ct);
  g_string_append_c (out, ' ');
  imap_append_nstring (out, id);
  g_string_append_c (out, ' ');
  imap_append_nstring (out, description);
  g_string_append_c (out, ' ');
  g_autofree char *upper_encoding = g_ascii_strup (encoding != NULL ? encoding : "7BIT", -1);
  imap_append_nstring (out, upper_encoding);
  g_string_append_printf (out, " %" G_GSIZE_FORMAT, body.len);
  if (strcmp (ct.type, "MESSAGE") == 0 && strcmp (ct.subtype, "RFC822") == 0 && depth < IMAP_MAX_MIME_DEPTH)
    {
      /* RFC 3501 7.4.2: a message/rfc822 part also carries its envelope,
       * its own structure and its size in lines. */
      g_string_append_c (out, ' ');
      append_envelope (out, body);
      g_string_append_c (out, ' ');
      append_structure (out, body, "text/plain; charset=us-ascii", extensible, depth + 1);
      g_string_append_printf (out, " %u", count_lines (body));
    }
  else if (strcmp (ct.type, "TEXT") == 0)
    g_string_append_printf (out, " %u", count_lines (body));
  if (extensible)
    g_string_append (out, " NIL NIL NIL NIL");
  g_string_append_c (out, ')');
  content_type_clear (&ct);
}

void
imap_message_append_body_structure (GString *out, GBytes *message, gboolean extensible)
{
  append_structure (out, span_of (message), "text/plain; charset=us-ascii", extensible, 0);
}
