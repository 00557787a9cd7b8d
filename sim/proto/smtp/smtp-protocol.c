/* smtp-protocol.c: SMTP syntax shared by server and client. */
#include "proto/smtp/smtp-protocol.h"

#include <string.h>

static const struct
{
  SmtpVerb verb;
  const char *name;
} verbs[] = {
  { SMTP_VERB_HELO, "HELO" },
  { SMTP_VERB_EHLO, "EHLO" },
  { SMTP_VERB_LHLO, "LHLO" },
  { SMTP_VERB_MAIL, "MAIL" },
  { SMTP_VERB_RCPT, "RCPT" },
  { SMTP_VERB_DATA, "DATA" },
  { SMTP_VERB_RSET, "RSET" },
  { SMTP_VERB_NOOP, "NOOP" },
  { SMTP_VERB_VRFY, "VRFY" },
  { SMTP_VERB_EXPN, "EXPN" },
  { SMTP_VERB_HELP, "HELP" },
  { SMTP_VERB_QUIT, "QUIT" },
  { SMTP_VERB_AUTH, "AUTH" },
  { SMTP_VERB_STARTTLS, "STARTTLS" },
};

SmtpVerb
smtp_verb_parse (const char *line, const char **argument)
{
  gsize length = 0;

  while (line[length] != '\0' && line[length] != ' ')
    length++;
  *argument = line[length] == ' ' ? line + length + 1 : NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strlen (verbs[i].name) == length && g_ascii_strncasecmp (line, verbs[i].name, length) == 0)
      return verbs[i].verb;
  return SMTP_VERB_UNKNOWN;
}

const char *
smtp_verb_to_string (SmtpVerb verb)
{
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (verbs[i].verb == verb)
      return verbs[i].name;
  return "UNKNOWN";
}

gboolean
smtp_parse_path_argument (const char *argument, const char *keyword,
                          char **address, char **parameters, const char **error_text)
{
  gsize keyword_length = strlen (keyword);
  const char *p;
  const char *close;

  *address = NULL;
  *parameters = NULL;
  if (argument == NULL || g_ascii_strncasecmp (argument, keyword, keyword_length) != 0)
    {
      *error_text = g_str_equal (keyword, "FROM:") ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>";
      return FALSE;
    }
  p = argument + keyword_length;
  /* Many clients put a space after the colon; RFC 5321 does not, but
   * Postfix and others accept it, and so do we. */
  while (*p == ' ')
    p++;
  if (*p != '<')
    {
      *error_text = "the address must be in angle brackets, like <alice@example.com>";
      return FALSE;
    }
  close = strchr (p, '>');
  if (close == NULL)
    {
      *error_text = "missing '>' after the address";
      return FALSE;
    }
  if ((gsize) (close - p + 1) > SMTP_MAX_PATH)
    {
      *error_text = "path too long";
      return FALSE;
    }
  /* A source route "<@relay:user@host>" is read and its route ignored
   * (RFC 5321 4.1.1.3 and appendix C). */
  const char *start = p + 1;
  if (*start == '@')
    {
      const char *colon = memchr (start, ':', (gsize) (close - start));
      if (colon == NULL)
        {
          *error_text = "bad source route";
          return FALSE;
        }
      start = colon + 1;
    }
  for (const char *c = start; c < close; c++)
    if ((guchar) *c <= ' ' || *c == '<')
      {
        *error_text = "the address contains a space or control character";
        return FALSE;
      }
  if (close > start && (memchr (start, '@', (gsize) (close - start)) == NULL))
    {
      /* "postmaster" alone is allowed for RCPT (RFC 5321 4.5.1). */
      if (!(g_str_equal (keyword, "TO:") && close - start == 10
            && g_ascii_strncasecmp (start, "postmaster", 10) == 0))
        {
          *error_text = "the address needs a domain, like bob@example.org";
          return FALSE;
        }
    }
  if (close == start && !g_str_equal (keyword, "FROM:"))
    {
      *error_text = "a recipient address cannot be empty";
      return FALSE;
    }
  *address = g_strndup (start, (gsize) (close - start));
  p = close + 1;
  while (*p == ' ')
    p++;
  *parameters = g_strdup (p);
  return TRUE;
}

const char *
smtp_address_domain (const char *address)
{
  const char *at = address != NULL ? strrchr (address, '@') : NULL;
  return at != NULL ? at + 1 : NULL;
}

SmtpReply *
smtp_reply_new (guint code, const char *enhanced, const char *text)
{
  SmtpReply *reply = g_new0 (SmtpReply, 1);

  reply->code = code;
  reply->enhanced = g_strdup (enhanced);
  reply->text = g_strdup (text != NULL ? text : "");
  return reply;
}

SmtpReply *
smtp_reply_copy (const SmtpReply *reply)
{
  return smtp_reply_new (reply->code, reply->enhanced, reply->text);
}

void
smtp_reply_free (SmtpReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->enhanced);
  g_free (reply->text);
  g_free (reply);
}

char *
smtp_reply_to_string (const SmtpReply *reply)
{
  g_autofree char *flat = g_strdelimit (g_strdup (reply->text), "\n", ' ');

  if (reply->enhanced != NULL)
    return g_strdup_printf ("%u %s %s", reply->code, reply->enhanced, flat);
  return g_strdup_printf ("%u %s", reply->code, flat);
}

gboolean
smtp_reply_line_parse (const char *line, guint *code, gboolean *last, const char **text)
{
  if (!g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) || !g_ascii_isdigit (line[2]))
    return FALSE;
  if (line[0] < '2' || line[0] > '5')
    return FALSE;
  *code = (guint) ((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
  if (line[3] == '-')
    *last = FALSE;
  else if (line[3] == ' ' || line[3] == '\0')
    *last = TRUE;
  else
    return FALSE;
  *text = line[3] == '\0' ? line + 3 : line + 4;
  return TRUE;
}

GString *
smtp_reply_format (guint code, const char *enhanced, const char *text)
{
  GString *out = g_string_new (NULL);
  g_auto (GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  guint n = g_strv_length (lines);

  if (n == 0)
    n = 1;
  for (guint i = 0; i < n; i++)
    {
      const char *line = lines[i] != NULL ? lines[i] : "";
      g_string_append_printf (out, "%03u%c", code, i + 1 < n ? '-' : ' ');
      if (enhanced != NULL)
        g_string_append_printf (out, "%s ", enhanced);
      g_string_append (out, line);
      g_string_append (out, "\r\n");
    }
  return out;
}

GBytes *
smtp_dot_stuff (GBytes *content)
{
  gsize len;
  const char *data = g_bytes_get_data (content, &len);
  GString *out = g_string_sized_new (len + 16);
  gboolean line_start = TRUE;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];
      if (line_start && c == '.')
        g_string_append_c (out, '.');
      line_start = FALSE;
      if (c == '\n')
        {
          /* Bare LF becomes CRLF: SMTP lines end in CRLF (RFC 5321 2.3.8). */
          if (out->len == 0 || out->str[out->len - 1] != '\r')
            g_string_append_c (out, '\r');
          g_string_append_c (out, '\n');
          line_start = TRUE;
          continue;
        }
      g_string_append_c (out, c);
    }
  if (!line_start)
    g_string_append (out, "\r\n");
  g_string_append (out, ".\r\n");
  return g_string_free_to_bytes (out);
}
