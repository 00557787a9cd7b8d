/* mail-message.c: RFC 5322 header fields read and added in place. */
#include "proto/message/mail-message.h"

#include <string.h>

/* Calls @visit for each header field: name, its full raw value (with
 * folding), and returns when @visit returns FALSE. */
typedef gboolean (*HeaderVisit) (const char *name, gsize name_length, const char *value,
                                 gsize value_length, gpointer user_data);

static void
for_each_header (GBytes *message, HeaderVisit visit, gpointer user_data)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  gsize position = 0;

  while (position < len)
    {
      const char *line = data + position;
      const char *end = memchr (line, '\n', len - position);
      gsize line_length = end != NULL ? (gsize) (end - line) : len - position;
      gsize content_length = line_length;

      if (content_length > 0 && line[content_length - 1] == '\r')
        content_length--;
      if (content_length == 0)
        return;   /* the empty line ends the header section */
      const char *colon = memchr (line, ':', content_length);
      if (colon == NULL || line[0] == ' ' || line[0] == '\t')
        {
          position += line_length + 1;
          continue;
        }
      /* The value runs on over continuation lines (starting with WSP). */
      gsize value_end = position + line_length + 1;
      while (value_end < len && (data[value_end] == ' ' || data[value_end] == '\t'))
        {
          const char *next = memchr (data + value_end, '\n', len - value_end);
          value_end = next != NULL ? (gsize) (next - data) + 1 : len;
        }
      const char *value = colon + 1;
      gsize value_length = (gsize) (data + value_end - value);
      if (!visit (line, (gsize) (colon - line), value, value_length, user_data))
        return;
      position = value_end;
    }
}

typedef struct
{
  const char *name;
  char *value;
  guint count;
  gboolean first_only;
} HeaderSearch;

static gboolean
find_header (const char *name, gsize name_length, const char *value, gsize value_length, gpointer user_data)
{
  HeaderSearch *search = user_data;

  if (strlen (search->name) != name_length || g_ascii_strncasecmp (name, search->name, name_length) != 0)
    return TRUE;
  search->count++;
  if (search->value == NULL)
    {
      GString *unfolded = g_string_sized_new (value_length);
      for (gsize i = 0; i < value_length; i++)
        if (value[i] != '\r' && value[i] != '\n')
          g_string_append_c (unfolded, value[i]);
      search->value = g_strstrip (g_string_free (unfolded, FALSE));
    }
  return !search->first_only;
}

char *
mail_message_get_header (GBytes *message, const char *name)
{
  HeaderSearch search = { name, NULL, 0, TRUE };

  for_each_header (message, find_header, &search);
  return search.value;
}

guint
mail_message_count_headers (GBytes *message, const char *name)
{
  HeaderSearch search = { name, NULL, 0, FALSE };

  for_each_header (message, find_header, &search);
  g_free (search.value);
  return search.count;
}

GBytes *
mail_message_prepend_header (GBytes *message, const char *name, const char *value)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  GString *out = g_string_sized_new (len + strlen (name) + strlen (value) + 4);

  g_string_append_printf (out, "%s: %s\r\n", name, value);
  g_string_append_len (out, data, (gssize) len);
  return g_string_free_to_bytes (out);
}

/* Finds the empty line that ends the header section: *blank is where it
 * starts, *body where the body starts.  FALSE when there is none. */
static gboolean
find_empty_line (const char *data, gsize len, gsize *blank, gsize *body)
{
  for (gsize i = 0; i < len; i++)
    {
      gboolean line_start = i == 0 || data[i - 1] == '\n';
      if (!line_start)
        continue;
      if (data[i] == '\n')
        {
          *blank = i;
          *body = i + 1;
          return TRUE;
        }
      if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
        {
          *blank = i;
          *body = i + 2;
          return TRUE;
        }
    }
  return FALSE;
}

gsize
mail_message_body_offset (GBytes *message)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  gsize blank, body;

  return find_empty_line (data, len, &blank, &body) ? body : len;
}

GBytes *
mail_message_append_header (GBytes *message, const char *name, const char *value)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  gsize blank, body;
  gsize insert_at = find_empty_line (data, len, &blank, &body) ? blank : len;
  GString *out = g_string_sized_new (len + strlen (name) + strlen (value) + 4);

  g_string_append_len (out, data, (gssize) insert_at);
  if (insert_at > 0 && data[insert_at - 1] != '\n')
    g_string_append (out, "\r\n");
  g_string_append_printf (out, "%s: %s\r\n", name, value);
  g_string_append_len (out, data + insert_at, (gssize) (len - insert_at));
  return g_string_free_to_bytes (out);
}

GBytes *
mail_message_compose (const char *from, const char *to, const char *subject, const char *body)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "From: %s\r\n", from);
  g_string_append_printf (out, "To: %s\r\n", to);
  g_string_append_printf (out, "Subject: %s\r\n", subject != NULL ? subject : "");
  g_string_append (out, "MIME-Version: 1.0\r\n");
  g_string_append (out, "Content-Type: text/plain; charset=utf-8\r\n");
  g_string_append (out, "\r\n");
  for (const char *p = body != NULL ? body : ""; *p != '\0'; p++)
    {
      if (*p == '\n' && (p == body || p[-1] != '\r'))
        g_string_append_c (out, '\r');
      g_string_append_c (out, *p);
    }
  if (out->len < 2 || out->str[out->len - 1] != '\n')
    g_string_append (out, "\r\n");
  return g_string_free_to_bytes (out);
}
