/* imap-parser.c: IMAP4rev1 tokens, RFC 3501 section 9 (formal syntax). */
#include "proto/imap/imap-parser.h"

#include <string.h>

/* The longest string written quoted; longer ones go out as literals. */
#define IMAP_MAX_QUOTED 1024

void
imap_parser_init (ImapParser *self, const guint8 *data, gsize len)
{
  self->data = data;
  self->len = len;
  self->pos = 0;
}

gboolean
imap_parser_at_end (const ImapParser *self)
{
  return self->pos >= self->len;
}

gboolean
imap_parser_peek (const ImapParser *self, char *c)
{
  if (self->pos >= self->len)
    return FALSE;
  *c = (char) self->data[self->pos];
  return TRUE;
}

gboolean
imap_parser_skip_char (ImapParser *self, char c)
{
  if (self->pos < self->len && self->data[self->pos] == (guint8) c)
    {
      self->pos++;
      return TRUE;
    }
  return FALSE;
}

gboolean
imap_parser_skip_space (ImapParser *self)
{
  return imap_parser_skip_char (self, ' ');
}

/* RFC 3501 9: CTL, SP and atom-specials "(" ")" "{" "%" "*" '"' "\" "]". */
static gboolean
is_atom_char (guint8 c)
{
  if (c <= 0x20 || c >= 0x7f)
    return FALSE;
  return strchr ("(){%*\"\\]", c) == NULL;
}

static gboolean
is_astring_char (guint8 c)
{
  return is_atom_char (c) || c == ']';
}

static gboolean
is_list_char (guint8 c)
{
  return is_astring_char (c) || c == '%' || c == '*';
}

static gboolean
is_tag_char (guint8 c)
{
  return is_astring_char (c) && c != '+';
}

static char *
read_while (ImapParser *self, gboolean (*accept) (guint8))
{
  gsize start = self->pos;
  while (self->pos < self->len && accept (self->data[self->pos]))
    self->pos++;
  if (self->pos == start)
    return NULL;
  return g_strndup ((const char *) self->data + start, self->pos - start);
}

gboolean
imap_parser_skip_word (ImapParser *self, const char *word)
{
  gsize len = strlen (word);
  if (self->len - self->pos < len
      || g_ascii_strncasecmp ((const char *) self->data + self->pos, word, len) != 0)
    return FALSE;
  if (self->pos + len < self->len && is_atom_char (self->data[self->pos + len]))
    return FALSE;
  self->pos += len;
  return TRUE;
}

char *
imap_parser_read_rest (ImapParser *self)
{
  char *rest = g_strndup ((const char *) self->data + self->pos, self->len - self->pos);
  self->pos = self->len;
  return rest;
}

char *
imap_parser_read_tag (ImapParser *self)
{
  return read_while (self, is_tag_char);
}

char *
imap_parser_read_atom (ImapParser *self)
{
  return read_while (self, is_atom_char);
}

char *
imap_parser_read_flag (ImapParser *self)
{
  gsize start = self->pos;
  gboolean system = imap_parser_skip_char (self, '\\');
  g_autofree char *atom = imap_parser_read_atom (self);
  if (atom == NULL)
    {
      self->pos = start;
      return NULL;
    }
  return system ? g_strconcat ("\\", atom, NULL) : g_steal_pointer (&atom);
}

gboolean
imap_parser_read_number (ImapParser *self, guint32 *out)
{
  gsize pos = self->pos;
  guint64 value = 0;
  while (pos < self->len && g_ascii_isdigit (self->data[pos]))
    {
      value = value * 10 + (guint64) (self->data[pos] - '0');
      /* RFC 3501 4.2: numbers are unsigned 32-bit. */
      if (value > G_MAXUINT32)
        return FALSE;
      pos++;
    }
  if (pos == self->pos)
    return FALSE;
  self->pos = pos;
  *out = (guint32) value;
  return TRUE;
}

/* RFC 3501 4.3: a quoted string holds no CR or LF; '"' and '\' are escaped. */
static GBytes *
read_quoted (ImapParser *self)
{
  gsize pos = self->pos;
  if (pos >= self->len || self->data[pos] != '"')
    return NULL;
  pos++;
  g_autoptr(GByteArray) text = g_byte_array_new ();
  while (pos < self->len)
    {
      guint8 c = self->data[pos++];
      if (c == '"')
        {
          self->pos = pos;
          return g_byte_array_free_to_bytes (g_steal_pointer (&text));
        }
      if (c == '\r' || c == '\n' || c == '\0')
        return NULL;
      if (c == '\\')
        {
          if (pos >= self->len || (self->data[pos] != '"' && self->data[pos] != '\\'))
            return NULL;
          c = self->data[pos++];
        }
      g_byte_array_append (text, &c, 1);
    }
  return NULL;
}

/* RFC 3501 4.3: "{" number "}" CRLF followed by exactly that many octets. */
static GBytes *
read_literal (ImapParser *self)
{
  ImapParser probe = *self;
  guint32 size;
  if (!imap_parser_skip_char (&probe, '{') || !imap_parser_read_number (&probe, &size)
      || !imap_parser_skip_char (&probe, '}') || !imap_parser_skip_char (&probe, '\r')
      || !imap_parser_skip_char (&probe, '\n'))
    return NULL;
  if (size > probe.len - probe.pos)
    return NULL;
  GBytes *bytes = g_bytes_new (probe.data + probe.pos, size);
  self->pos = probe.pos + size;
  return bytes;
}

GBytes *
imap_parser_read_string (ImapParser *self)
{
  GBytes *bytes = read_quoted (self);
  return bytes != NULL ? bytes : read_literal (self);
}

static char *
bytes_to_text (GBytes *bytes)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  if (size > 0 && memchr (data, '\0', size) != NULL)
    return NULL;
  return g_strndup (data != NULL ? data : "", size);
}

char *
imap_parser_read_astring (ImapParser *self)
{
  gsize start = self->pos;
  char *atom = read_while (self, is_astring_char);
  if (atom != NULL)
    return atom;
  g_autoptr(GBytes) bytes = imap_parser_read_string (self);
  if (bytes == NULL)
    return NULL;
  char *text = bytes_to_text (bytes);
  if (text == NULL)
    self->pos = start;
  return text;
}

gboolean
imap_parser_read_nstring (ImapParser *self, GBytes **out)
{
  if (imap_parser_skip_word (self, "NIL"))
    {
      *out = NULL;
      return TRUE;
    }
  *out = imap_parser_read_string (self);
  return *out != NULL;
}

char *
imap_parser_read_list_mailbox (ImapParser *self)
{
  gsize start = self->pos;
  char *text = read_while (self, is_list_char);
  if (text != NULL)
    return text;
  g_autoptr(GBytes) bytes = imap_parser_read_string (self);
  if (bytes == NULL)
    return NULL;
  text = bytes_to_text (bytes);
  if (text == NULL)
    self->pos = start;
  return text;
}

static gboolean
is_sequence_char (guint8 c)
{
  return g_ascii_isdigit (c) || c == ':' || c == ',' || c == '*';
}

char *
imap_parser_read_sequence_set (ImapParser *self)
{
  return read_while (self, is_sequence_char);
}

/* ---- sequence sets ---- */

static gboolean
parse_sequence_number (const char **p, guint32 *out)
{
  if (**p == '*')
    {
      (*p)++;
      *out = IMAP_SEQUENCE_STAR;
      return TRUE;
    }
  guint64 value = 0;
  const char *start = *p;
  while (g_ascii_isdigit (**p))
    {
      value = value * 10 + (guint64) (**p - '0');
      if (value > G_MAXUINT32)
        return FALSE;
      (*p)++;
    }
  /* RFC 3501 9: nz-number, so 0 is not a message number. */
  if (*p == start || value == 0)
    return FALSE;
  *out = (guint32) value;
  return TRUE;
}

GArray *
imap_sequence_set_parse (const char *text)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (ImapRange));
  const char *p = text;
  for (;;)
    {
      ImapRange range;
      if (!parse_sequence_number (&p, &range.first))
        return NULL;
      range.last = range.first;
      if (*p == ':' && (p++, !parse_sequence_number (&p, &range.last)))
        return NULL;
      g_array_append_val (ranges, range);
      if (*p == '\0')
        return g_steal_pointer (&ranges);
      if (*p++ != ',')
        return NULL;
    }
}

gboolean
imap_sequence_set_contains (const GArray *ranges, guint32 value, guint32 star)
{
  for (guint i = 0; i < ranges->len; i++)
    {
      const ImapRange *range = &g_array_index (ranges, ImapRange, i);
      guint32 first = range->first == IMAP_SEQUENCE_STAR ? star : range->first;
      guint32 last = range->last == IMAP_SEQUENCE_STAR ? star : range->last;
      /* RFC 3501 9: "2:4" and "4:2" name the same messages. */
      if (first > last)
        {
          guint32 swap = first;
          first = last;
          last = swap;
        }
      if (value >= first && value <= last)
        return TRUE;
    }
  return FALSE;
}

guint32
imap_sequence_set_max (const GArray *ranges, guint32 star)
{
  guint32 max = 0;
  for (guint i = 0; i < ranges->len; i++)
    {
      const ImapRange *range = &g_array_index (ranges, ImapRange, i);
      guint32 first = range->first == IMAP_SEQUENCE_STAR ? star : range->first;
      guint32 last = range->last == IMAP_SEQUENCE_STAR ? star : range->last;
      max = MAX (max, MAX (first, last));
    }
  return max;
}

/* ---- writing ---- */

void
imap_append_literal (GString *out, const guint8 *data, gsize len)
{
  g_string_append_printf (out, "{%" G_GSIZE_FORMAT "}\r\n", len);
  g_string_append_len (out, (const char *) data, (gssize) len);
}

static gboolean
can_be_quoted (const guint8 *data, gsize len)
{
  if (len > IMAP_MAX_QUOTED)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (data[i] == '\0' || data[i] == '\r' || data[i] == '\n' || data[i] >= 0x80)
      return FALSE;
  return TRUE;
}

void
imap_append_string (GString *out, const guint8 *data, gsize len)
{
  if (!can_be_quoted (data, len))
    {
      imap_append_literal (out, data, len);
      return;
    }
  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '"' || data[i] == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, (char) data[i]);
    }
  g_string_append_c (out, '"');
}

gboolean
imap_astring_needs_literal (const char *text)
{
  return !can_be_quoted ((const guint8 *) text, strlen (text));
}

void
imap_append_astring (GString *out, const char *text)
{
  gsize len = strlen (text);
  gboolean atom = len > 0 && g_ascii_strcasecmp (text, "NIL") != 0;
  for (gsize i = 0; atom && i < len; i++)
    atom = is_astring_char ((guint8) text[i]);
  if (atom)
    g_string_append (out, text);
  else
    imap_append_string (out, (const guint8 *) text, len);
}

void
imap_append_nstring (GString *out, const char *text)
{
  if (text == NULL)
    g_string_append (out, "NIL");
  else
    imap_append_string (out, (const guint8 *) text, strlen (text));
}
