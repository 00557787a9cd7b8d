/* pop3-client.c: a scripted POP3 client session, RFC 1939.
 *
 * Each state waits for the reply to one command; multi-line replies
 * (CAPA, UIDL, RETR) are collected up to the terminating "." line and
 * un-stuffed (RFC 1939 3) before the state's handler sees them.
 */
#include "proto/pop3/pop3-client.h"

#include <string.h>

typedef enum
{
  CLIENT_GREETING,
  CLIENT_CAPA,
  CLIENT_USER,
  CLIENT_PASS,
  CLIENT_STAT,
  CLIENT_UIDL,
  CLIENT_RETR,
  CLIENT_DELE,
  CLIENT_QUIT,
  CLIENT_FINISHED,
} Pop3ClientState;

struct _Pop3Client
{
  char *user;
  char *password;
  gboolean delete_after_retrieve;
  SimTransport *transport;
  MailFetchDone done;
  gpointer user_data;

  Pop3ClientState state;
  GByteArray *received;
  gboolean in_multi_line;  /* after a "+OK" that starts a multi-line reply */
  GString *status_line;    /* the first line of the reply being read */
  GByteArray *body;        /* the un-stuffed lines of a multi-line reply */

  guint message_count;
  guint current;           /* message number being retrieved, 1-based */
  GHashTable *unique_ids;  /* message number -> UIDL unique-id */
  GPtrArray *fetched;      /* of MailFetched* */
  gboolean done_called;
  char *error;             /* why the session failed, reported with QUIT's reply */
};

static void
finish (Pop3Client *self, gboolean ok, const char *error_text)
{
  self->state = CLIENT_FINISHED;
  if (self->done_called)
    return;
  self->done_called = TRUE;
  if (self->done != NULL)
    self->done (self->user_data, ok, error_text, self->fetched);
}

static void G_GNUC_PRINTF (3, 4)
send_command (Pop3Client *self, const char *explain_key, const char *format, ...)
{
  g_autoptr(GString) line = g_string_new (NULL);
  va_list args;
  va_start (args, format);
  g_string_append_vprintf (line, format, args);
  va_end (args);
  g_string_append (line, "\r\n");
  sim_transport_write (self->transport, line->str, line->len, explain_key);
}

/* Ends the session with QUIT; the failure, if any, is reported once the
 * server has answered (or the connection is gone). */
static void
quit (Pop3Client *self, const char *error_text)
{
  if (error_text != NULL && self->error == NULL)
    self->error = g_strdup (error_text);
  self->state = CLIENT_QUIT;
  send_command (self, "pop3.cmd.quit", "QUIT");
}

static void
fail_now (Pop3Client *self, const char *error_text)
{
  sim_transport_close (self->transport);
  finish (self, FALSE, error_text);
}

static gboolean
expects_multi_line (Pop3Client *self)
{
  return self->state == CLIENT_CAPA || self->state == CLIENT_UIDL || self->state == CLIENT_RETR;
}

static void
retrieve_next (Pop3Client *self)
{
  self->current++;
  if (self->current > self->message_count)
    {
      quit (self, NULL);
      return;
    }
  self->state = CLIENT_RETR;
  send_command (self, "pop3.cmd.retr", "RETR %u", self->current);
}

/* The UID reported for a message: the digits after the last "." of its
 * unique-id, when they make a number; the message number otherwise. */
static guint32
uid_for (Pop3Client *self, guint number)
{
  const char *unique_id = g_hash_table_lookup (self->unique_ids, GUINT_TO_POINTER (number));
  const char *dot = unique_id != NULL ? strrchr (unique_id, '.') : NULL;
  guint64 value;
  if (dot != NULL && g_ascii_string_to_unsigned (dot + 1, 10, 1, G_MAXUINT32, &value, NULL))
    return (guint32) value;
  return number;
}

static void
parse_uidl (Pop3Client *self)
{
  g_autofree char *text = g_strndup ((const char *) self->body->data, self->body->len);
  g_auto(GStrv) lines = g_strsplit (text, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = g_strsplit (lines[i], " ", 2);
      guint64 number;
      if (words[0] != NULL && words[1] != NULL
          && g_ascii_string_to_unsigned (words[0], 10, 1, G_MAXUINT, &number, NULL))
        g_hash_table_insert (self->unique_ids, GUINT_TO_POINTER ((guint) number), g_strdup (words[1]));
    }
}

/* One whole reply: @ok is "+OK", @text what follows the status word. */
static void
handle_reply (Pop3Client *self, gboolean ok, const char *text)
{
  switch (self->state)
    {
    case CLIENT_GREETING:
      if (!ok)
        {
          fail_now (self, text);
          return;
        }
      self->state = CLIENT_CAPA;
      send_command (self, "pop3.cmd.capa", "CAPA");
      break;
    case CLIENT_CAPA:
      /* RFC 2449 5: a server without CAPA answers -ERR; carry on. */
      self->state = CLIENT_USER;
      send_command (self, "pop3.cmd.user", "USER %s", self->user);
      break;
    case CLIENT_USER:
      if (!ok)
        {
          quit (self, text);
          return;
        }
      self->state = CLIENT_PASS;
      send_command (self, "pop3.cmd.pass", "PASS %s", self->password);
      break;
    case CLIENT_PASS:
      if (!ok)
        {
          quit (self, text);
          return;
        }
      self->state = CLIENT_STAT;
      send_command (self, "pop3.cmd.stat", "STAT");
      break;
    case CLIENT_STAT:
      {
        guint64 count;
        g_auto(GStrv) words = g_strsplit (text, " ", 2);
        if (!ok || words[0] == NULL || !g_ascii_string_to_unsigned (words[0], 10, 0, G_MAXUINT, &count, NULL))
          {
            quit (self, ok ? "the server's STAT reply has no message count" : text);
            return;
          }
        self->message_count = (guint) count;
        if (count == 0)
          {
            quit (self, NULL);
            return;
          }
        self->state = CLIENT_UIDL;
        send_command (self, "pop3.cmd.uidl", "UIDL");
      }
      break;
    case CLIENT_UIDL:
      if (ok)
        parse_uidl (self);
      retrieve_next (self);
      break;
    case CLIENT_RETR:
      if (!ok)
        {
          quit (self, text);
          return;
        }
      {
        MailFetched *fetched = g_new0 (MailFetched, 1);
        fetched->uid = uid_for (self, self->current);
        fetched->data = g_bytes_new (self->body->data, self->body->len);
        g_ptr_array_add (self->fetched, fetched);
      }
      if (self->delete_after_retrieve)
        {
          self->state = CLIENT_DELE;
          send_command (self, "pop3.cmd.dele", "DELE %u", self->current);
        }
      else
        retrieve_next (self);
      break;
    case CLIENT_DELE:
      if (!ok)
        {
          quit (self, text);
          return;
        }
      retrieve_next (self);
      break;
    case CLIENT_QUIT:
      {
        /* RFC 1939 6: only a +OK to QUIT means the deletions happened. */
        g_autofree char *error = g_steal_pointer (&self->error);
        if (error == NULL && !ok)
          error = g_strdup (text);
        sim_transport_close (self->transport);
        finish (self, error == NULL, error);
      }
      break;
    case CLIENT_FINISHED:
      break;
    }
}

static void
handle_line (Pop3Client *self, const char *line, gsize len)
{
  if (self->in_multi_line)
    {
      if (len == 1 && line[0] == '.')
        {
          self->in_multi_line = FALSE;
          handle_reply (self, TRUE, self->status_line->str);
          g_byte_array_set_size (self->body, 0);
          return;
        }
      /* RFC 1939 3: a line starting with "." had one added. */
      if (len > 0 && line[0] == '.')
        {
          line++;
          len--;
        }
      if (self->body->len + len + 2 > POP3_CLIENT_MAX_RESPONSE)
        {
          fail_now (self, "the server's reply is too large");
          return;
        }
      g_byte_array_append (self->body, (const guint8 *) line, (guint) len);
      g_byte_array_append (self->body, (const guint8 *) "\r\n", 2);
      return;
    }
  gboolean ok = g_str_has_prefix (line, "+OK");
  if (!ok && !g_str_has_prefix (line, "-ERR"))
    {
      fail_now (self, "the server's reply starts with neither +OK nor -ERR (RFC 1939 3)");
      return;
    }
  const char *text = line + (ok ? 3 : 4);
  if (*text == ' ')
    text++;
  if (ok && expects_multi_line (self))
    {
      g_string_assign (self->status_line, text);
      self->in_multi_line = TRUE;
      return;
    }
  handle_reply (self, ok, ok ? text : line);
}

Pop3Client *
pop3_client_new (const char *user, const char *password, gboolean delete_after_retrieve,
                 SimTransport *transport, MailFetchDone done, gpointer user_data)
{
  Pop3Client *self = g_new0 (Pop3Client, 1);
  self->user = g_strdup (user);
  self->password = g_strdup (password);
  self->delete_after_retrieve = delete_after_retrieve;
  self->transport = transport;
  self->done = done;
  self->user_data = user_data;
  self->state = CLIENT_GREETING;
  self->received = g_byte_array_new ();
  self->status_line = g_string_new (NULL);
  self->body = g_byte_array_new ();
  self->unique_ids = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->fetched = g_ptr_array_new_with_free_func ((GDestroyNotify) mail_fetched_free);
  return self;
}

void
pop3_client_free (Pop3Client *self)
{
  if (self == NULL)
    return;
  g_free (self->user);
  g_free (self->password);
  g_free (self->error);
  g_byte_array_unref (self->received);
  g_string_free (self->status_line, TRUE);
  g_byte_array_unref (self->body);
  g_hash_table_unref (self->unique_ids);
  g_ptr_array_unref (self->fetched);
  g_free (self);
}

void
pop3_client_feed (Pop3Client *self, const guint8 *data, gsize len)
{
  if (self->state == CLIENT_FINISHED)
    return;
  g_byte_array_append (self->received, data, (guint) len);
  while (self->state != CLIENT_FINISHED)
    {
      const guint8 *newline = self->received->len > 0 ? memchr (self->received->data, '\n', self->received->len) : NULL;
      if (newline == NULL)
        {
          if (self->received->len > POP3_CLIENT_MAX_LINE)
            fail_now (self, "the server sent a line that is too long");
          return;
        }
      gsize consumed = (gsize) (newline - self->received->data) + 1;
      gsize line_len = consumed - 1;
      if (line_len > 0 && self->received->data[line_len - 1] == '\r')
        line_len--;
      if (line_len > POP3_CLIENT_MAX_LINE)
        {
          fail_now (self, "the server sent a line that is too long");
          return;
        }
      g_autofree char *line = g_strndup ((const char *) self->received->data, line_len);
      g_byte_array_remove_range (self->received, 0, (guint) consumed);
      /* A NUL would hide the rest of the line: refuse it. */
      if (strlen (line) != line_len)
        {
          fail_now (self, "the server sent a NUL octet");
          return;
        }
      handle_line (self, line, line_len);
    }
}

void
pop3_client_connection_lost (Pop3Client *self)
{
  if (self->state == CLIENT_FINISHED)
    return;
  /* Messages marked with DELE stay on the server: only QUIT applies them. */
  finish (self, FALSE, self->error != NULL ? self->error : "the connection was lost before QUIT completed");
}

gboolean
pop3_client_is_finished (Pop3Client *self)
{
  return self->state == CLIENT_FINISHED;
}

GPtrArray *
pop3_client_get_fetched (Pop3Client *self)
{
  return self->fetched;
}
