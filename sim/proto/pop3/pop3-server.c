/* pop3-server.c: a POP3 server session, RFC 1939.
 *
 * States of RFC 1939 3: AUTHORIZATION (USER/PASS or APOP), TRANSACTION
 * (the maildrop is locked and numbered 1..n), UPDATE (after QUIT: deleted
 * messages are removed, the lock released, the connection closed).  One
 * small handler per command; the table says in which state each is valid.
 */
#include "proto/pop3/pop3-server.h"

#include <string.h>

typedef struct
{
  guint32 uid;
  gsize size;            /* octets as sent: CRLF line ends, before byte-stuffing */
  gboolean deleted;
} Pop3Message;

struct _Pop3Server
{
  MailStore *store;
  char *hostname;
  SimTransport *transport;
  Pop3State state;
  GByteArray *received;
  gboolean discarding;   /* skipping the rest of an overlong line */
  char *timestamp;
  char *user;            /* from USER, waiting for PASS */
  char *address;         /* logged in and holding the lock */
  guint32 uid_validity;
  GArray *messages;      /* of Pop3Message: message n is index n-1 */
};

typedef void (*Pop3CommandFunc) (Pop3Server *self, const char *argument);

typedef struct
{
  const char *keyword;
  Pop3State state;
  gboolean takes_argument;
  Pop3CommandFunc handle;
} Pop3Command;

/* ---- replies ---- */

static void G_GNUC_PRINTF (3, 4)
reply (Pop3Server *self, const char *explain_key, const char *format, ...)
{
  g_autoptr(GString) line = g_string_new (NULL);
  va_list args;
  va_start (args, format);
  g_string_append_vprintf (line, format, args);
  va_end (args);
  g_string_append (line, "\r\n");
  sim_transport_write (self->transport, line->str, line->len, explain_key);
}

/* Appends @data as the lines of a multi-line response: CRLF line ends, a
 * line starting with "." gets another "." (RFC 1939 3), stopping after
 * @body_lines lines of body when it is not negative (TOP). */
static void
append_stuffed (GString *out, const guint8 *data, gsize len, gint64 body_lines)
{
  gsize pos = 0;
  gboolean in_body = FALSE;
  while (pos < len)
    {
      if (in_body && body_lines >= 0 && body_lines-- == 0)
        break;
      const guint8 *lf = memchr (data + pos, '\n', len - pos);
      gsize end = lf != NULL ? (gsize) (lf - data) : len;
      gsize line_end = end > pos && data[end - 1] == '\r' ? end - 1 : end;
      if (line_end > pos && data[pos] == '.')
        g_string_append_c (out, '.');
      g_string_append_len (out, (const char *) data + pos, (gssize) (line_end - pos));
      g_string_append (out, "\r\n");
      if (line_end == pos)
        in_body = TRUE;
      pos = lf != NULL ? end + 1 : len;
    }
  g_string_append (out, ".\r\n");
}

/* The size a message has on the wire, line ends counted as CRLF. */
static gsize
wire_size (GBytes *message)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (message, &len);
  gsize size = len;
  for (gsize i = 0; i < len; i++)
    if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
      size++;
  if (len > 0 && data[len - 1] != '\n')
    size += 2;
  return size;
}

/* ---- the maildrop ---- */

static void
maildrop_totals (Pop3Server *self, guint *count, gsize *octets)
{
  *count = 0;
  *octets = 0;
  for (guint i = 0; i < self->messages->len; i++)
    {
      const Pop3Message *message = &g_array_index (self->messages, Pop3Message, i);
      if (!message->deleted)
        {
          (*count)++;
          *octets += message->size;
        }
    }
}

static void
release_maildrop (Pop3Server *self)
{
  if (self->address != NULL)
    mail_store_unlock (self->store, self->address);
  g_clear_pointer (&self->address, g_free);
  g_array_set_size (self->messages, 0);
}

static void
finish (Pop3Server *self)
{
  release_maildrop (self);
  self->state = POP3_STATE_CLOSED;
}

/* RFC 1939 4: a successful login locks the maildrop and numbers its messages. */
static void
open_maildrop (Pop3Server *self, const char *address)
{
  g_autoptr(GError) error = NULL;
  MailStoreFolderStatus status;
  if (!mail_store_lock (self->store, address, &error))
    {
      reply (self, "pop3.err.locked", "-ERR [IN-USE] maildrop already locked by another session");
      return;
    }
  self->address = g_strdup (address);
  mail_store_get_status (self->store, address, MAIL_STORE_INBOX, &status, NULL);
  self->uid_validity = status.uid_validity;
  g_autoptr(GPtrArray) list = mail_store_list (self->store, address, MAIL_STORE_INBOX);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      const MailStoreMessage *stored = g_ptr_array_index (list, i);
      Pop3Message message = { stored->uid, wire_size (stored->data), FALSE };
      g_array_append_val (self->messages, message);
    }
  self->state = POP3_STATE_TRANSACTION;
  guint count;
  gsize octets;
  maildrop_totals (self, &count, &octets);
  reply (self, "pop3.reply.pass", "+OK maildrop has %u message%s (%" G_GSIZE_FORMAT " octets)",
         count, count == 1 ? "" : "s", octets);
}

/* A message number argument: 1..n, not deleted (RFC 1939 5). */
static Pop3Message *
find_message (Pop3Server *self, const char *argument, guint *number_out)
{
  guint64 number = 0;
  gboolean valid = *argument != '\0';
  for (const char *p = argument; valid && *p != '\0'; p++)
    {
      valid = g_ascii_isdigit (*p);
      number = number * 10 + (guint64) (*p - '0');
      valid = valid && number <= G_MAXUINT32;
    }
  if (!valid)
    {
      reply (self, "pop3.err.syntax", "-ERR '%s' is not a message number", argument);
      return NULL;
    }
  if (number == 0 || number > self->messages->len)
    {
      reply (self, "pop3.err.no-such-message", "-ERR no such message, only %u messages in maildrop",
             self->messages->len);
      return NULL;
    }
  Pop3Message *message = &g_array_index (self->messages, Pop3Message, number - 1);
  if (message->deleted)
    {
      reply (self, "pop3.err.deleted", "-ERR message %" G_GUINT64_FORMAT " already deleted", number);
      return NULL;
    }
  *number_out = (guint) number;
  return message;
}

/* ---- AUTHORIZATION (RFC 1939 4 and 7) ---- */

static void
handle_user (Pop3Server *self, const char *argument)
{
  g_free (self->user);
  self->user = g_strdup (argument);
  /* Whether the mailbox exists is only told after PASS, so USER cannot
   * be used to probe for valid names. */
  reply (self, "pop3.reply.user", "+OK send PASS");
}

static void
handle_pass (Pop3Server *self, const char *argument)
{
  g_autofree char *user = g_steal_pointer (&self->user);
  if (user == NULL)
    {
      reply (self, "pop3.err.state", "-ERR send USER first");
      return;
    }
  if (!mail_store_check_password (self->store, user, argument))
    {
      /* RFC 3206 4: AUTH says the credentials were wrong, not a server fault. */
      reply (self, "pop3.err.auth", "-ERR [AUTH] invalid user name or password");
      return;
    }
  open_maildrop (self, user);
}

static void
handle_apop (Pop3Server *self, const char *argument)
{
  g_auto(GStrv) words = g_strsplit (argument, " ", -1);
  if (g_strv_length (words) != 2 || strlen (words[1]) != 32)
    {
      reply (self, "pop3.err.syntax", "-ERR usage: APOP name digest (32 hexadecimal digits)");
      return;
    }
  const char *password = mail_store_get_password (self->store, words[0]);
  g_autofree char *secret = g_strconcat (self->timestamp, password != NULL ? password : "", NULL);
  g_autofree char *expected = g_compute_checksum_for_string (G_CHECKSUM_MD5, secret, -1);
  /* RFC 1939 7: the digest is MD5 (timestamp + shared secret) in hex. */
  if (password == NULL || g_ascii_strcasecmp (expected, words[1]) != 0)
    {
      reply (self, "pop3.err.auth", "-ERR [AUTH] invalid user name or digest");
      return;
    }
  open_maildrop (self, words[0]);
}

static void
handle_capa (Pop3Server *self, const char *argument)
{
  /* RFC 2449 5: the capabilities, one a line, as a multi-line response. */
  reply (self, "pop3.reply.capa",
         "+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
         "PIPELINING\r\nIMPLEMENTATION mailsim\r\n.");
}

static void
handle_quit_authorization (Pop3Server *self, const char *argument)
{
  reply (self, "pop3.reply.quit", "+OK %s POP3 server signing off", self->hostname);
  finish (self);
  sim_transport_close (self->transport);
}

/* ---- TRANSACTION (RFC 1939 5) ---- */

static void
handle_stat (Pop3Server *self, const char *argument)
{
  guint count;
  gsize octets;
  maildrop_totals (self, &count, &octets);
  reply (self, "pop3.reply.stat", "+OK %u %" G_GSIZE_FORMAT, count, octets);
}

static void
handle_list (Pop3Server *self, const char *argument)
{
  guint number;
  if (*argument != '\0')
    {
      Pop3Message *message = find_message (self, argument, &number);
      if (message != NULL)
        reply (self, "pop3.reply.list", "+OK %u %" G_GSIZE_FORMAT, number, message->size);
      return;
    }
  guint count;
  gsize octets;
  maildrop_totals (self, &count, &octets);
  g_autoptr(GString) text = g_string_new (NULL);
  g_string_append_printf (text, "+OK %u messages (%" G_GSIZE_FORMAT " octets)\r\n", count, octets);
  for (guint i = 0; i < self->messages->len; i++)
    {
      const Pop3Message *message = &g_array_index (self->messages, Pop3Message, i);
      if (!message->deleted)
        g_string_append_printf (text, "%u %" G_GSIZE_FORMAT "\r\n", i + 1, message->size);
    }
  g_string_append (text, ".\r\n");
  sim_transport_write (self->transport, text->str, text->len, "pop3.reply.list");
}

static void
handle_uidl (Pop3Server *self, const char *argument)
{
  guint number;
  /* RFC 1939 7: a unique-id stays the same across sessions; here it is
   * the folder's UIDVALIDITY and the message's UID. */
  if (*argument != '\0')
    {
      Pop3Message *message = find_message (self, argument, &number);
      if (message != NULL)
        reply (self, "pop3.reply.uidl", "+OK %u %u.%u", number, self->uid_validity, message->uid);
      return;
    }
  g_autoptr(GString) text = g_string_new ("+OK unique-id listing follows\r\n");
  for (guint i = 0; i < self->messages->len; i++)
    {
      const Pop3Message *message = &g_array_index (self->messages, Pop3Message, i);
      if (!message->deleted)
        g_string_append_printf (text, "%u %u.%u\r\n", i + 1, self->uid_validity, message->uid);
    }
  g_string_append (text, ".\r\n");
  sim_transport_write (self->transport, text->str, text->len, "pop3.reply.uidl");
}

static void
send_message (Pop3Server *self, const Pop3Message *message, gint64 body_lines)
{
  const MailStoreMessage *stored = mail_store_get_message (self->store, self->address,
                                                           MAIL_STORE_INBOX, message->uid);
  if (stored == NULL)
    {
      reply (self, "pop3.err.no-such-message", "-ERR message was removed from the mailbox by another client");
      return;
    }
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (stored->data, &len);
  g_autoptr(GString) text = g_string_new (NULL);
  if (body_lines < 0)
    g_string_append_printf (text, "+OK %" G_GSIZE_FORMAT " octets\r\n", message->size);
  else
    g_string_append (text, "+OK top of message follows\r\n");
  append_stuffed (text, data, len, body_lines);
  sim_transport_write (self->transport, text->str, text->len, body_lines < 0 ? "pop3.reply.retr" : "pop3.reply.top");
}

static void
handle_retr (Pop3Server *self, const char *argument)
{
  guint number;
  Pop3Message *message = find_message (self, argument, &number);
  if (message != NULL)
    send_message (self, message, -1);
}

static void
handle_top (Pop3Server *self, const char *argument)
{
  g_auto(GStrv) words = g_strsplit (argument, " ", -1);
  guint number;
  guint64 lines = 0;
  if (g_strv_length (words) != 2 || !g_ascii_string_to_unsigned (words[1], 10, 0, G_MAXINT32, &lines, NULL))
    {
      reply (self, "pop3.err.syntax", "-ERR usage: TOP msg n (RFC 1939 7)");
      return;
    }
  Pop3Message *message = find_message (self, words[0], &number);
  if (message != NULL)
    send_message (self, message, (gint64) lines);
}

static void
handle_dele (Pop3Server *self, const char *argument)
{
  guint number;
  Pop3Message *message = find_message (self, argument, &number);
  if (message == NULL)
    return;
  /* RFC 1939 5: only marked now; removed in the UPDATE state. */
  message->deleted = TRUE;
  reply (self, "pop3.reply.dele", "+OK message %u deleted", number);
}

static void
handle_noop (Pop3Server *self, const char *argument)
{
  reply (self, "pop3.reply.noop", "+OK");
}

static void
handle_rset (Pop3Server *self, const char *argument)
{
  for (guint i = 0; i < self->messages->len; i++)
    g_array_index (self->messages, Pop3Message, i).deleted = FALSE;
  guint count;
  gsize octets;
  maildrop_totals (self, &count, &octets);
  reply (self, "pop3.reply.rset", "+OK maildrop has %u messages (%" G_GSIZE_FORMAT " octets)", count, octets);
}

/* RFC 1939 6: QUIT from TRANSACTION enters UPDATE and removes the
 * messages marked deleted. */
static void
handle_quit_transaction (Pop3Server *self, const char *argument)
{
  g_autoptr(GArray) doomed = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GError) error = NULL;
  self->state = POP3_STATE_UPDATE;
  for (guint i = 0; i < self->messages->len; i++)
    if (g_array_index (self->messages, Pop3Message, i).deleted)
      g_array_append_val (doomed, g_array_index (self->messages, Pop3Message, i).uid);
  gboolean removed = doomed->len == 0
                     || mail_store_remove (self->store, self->address, MAIL_STORE_INBOX,
                                           (const guint32 *) doomed->data, doomed->len, &error);
  guint left = mail_store_count (self->store, self->address, MAIL_STORE_INBOX);
  if (!removed)
    reply (self, "pop3.err.update", "-ERR some deleted messages not removed: %s", error->message);
  else if (left == 0)
    reply (self, "pop3.reply.update", "+OK %s POP3 server signing off (maildrop empty)", self->hostname);
  else
    reply (self, "pop3.reply.update", "+OK %s POP3 server signing off (%u message%s left)",
           self->hostname, left, left == 1 ? "" : "s");
  finish (self);
  sim_transport_close (self->transport);
}

static const Pop3Command commands[] = {
  { "USER", POP3_STATE_AUTHORIZATION, TRUE, handle_user },
  { "PASS", POP3_STATE_AUTHORIZATION, TRUE, handle_pass },
  { "APOP", POP3_STATE_AUTHORIZATION, TRUE, handle_apop },
  { "CAPA", POP3_STATE_AUTHORIZATION, FALSE, handle_capa },
  { "QUIT", POP3_STATE_AUTHORIZATION, FALSE, handle_quit_authorization },
  { "CAPA", POP3_STATE_TRANSACTION, FALSE, handle_capa },
  { "STAT", POP3_STATE_TRANSACTION, FALSE, handle_stat },
  { "LIST", POP3_STATE_TRANSACTION, FALSE, handle_list },
  { "UIDL", POP3_STATE_TRANSACTION, FALSE, handle_uidl },
  { "RETR", POP3_STATE_TRANSACTION, TRUE, handle_retr },
  { "TOP", POP3_STATE_TRANSACTION, TRUE, handle_top },
  { "DELE", POP3_STATE_TRANSACTION, TRUE, handle_dele },
  { "NOOP", POP3_STATE_TRANSACTION, FALSE, handle_noop },
  { "RSET", POP3_STATE_TRANSACTION, FALSE, handle_rset },
  { "QUIT", POP3_STATE_TRANSACTION, FALSE, handle_quit_transaction },
};

/* LIST and UIDL take an optional argument. */
static gboolean
argument_is_optional (const char *keyword)
{
  return strcmp (keyword, "LIST") == 0 || strcmp (keyword, "UIDL") == 0;
}

static void
execute_line (Pop3Server *self, const char *line)
{
  /* RFC 1939 3: a keyword of 3-4 characters, case-insensitive, then
   * arguments separated by single spaces. */
  const char *space = strchr (line, ' ');
  g_autofree char *keyword = g_ascii_strup (line, space != NULL ? (gssize) (space - line) : -1);
  const char *argument = space != NULL ? space + 1 : "";
  gboolean known = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const Pop3Command *command = &commands[i];
      if (strcmp (command->keyword, keyword) != 0)
        continue;
      known = TRUE;
      if (command->state != self->state)
        continue;
      /* PASS takes the rest of the line, spaces included (RFC 1939 7). */
      gboolean too_long = strcmp (keyword, "PASS") != 0 && strcmp (keyword, "APOP") != 0
                          && strcmp (keyword, "TOP") != 0 && strlen (argument) > POP3_MAX_ARGUMENT;
      if ((command->takes_argument && *argument == '\0')
          || (!command->takes_argument && *argument != '\0' && !argument_is_optional (keyword)) || too_long)
        {
          reply (self, "pop3.err.syntax", "-ERR %s: wrong arguments (RFC 1939)", keyword);
          return;
        }
      command->handle (self, argument);
      return;
    }
  if (known)
    reply (self, "pop3.err.state", "-ERR %s is not valid in the %s state", keyword,
           self->state == POP3_STATE_AUTHORIZATION ? "AUTHORIZATION" : "TRANSACTION");
  else
    reply (self, "pop3.err.unknown", "-ERR unknown command '%s'", keyword);
}

static void
process_input (Pop3Server *self)
{
  while (self->state == POP3_STATE_AUTHORIZATION || self->state == POP3_STATE_TRANSACTION)
    {
      const guint8 *data = self->received->data;
      gsize available = self->received->len;
      const guint8 *newline = available > 0 ? memchr (data, '\n', available) : NULL;
      if (newline == NULL)
        {
          if (available >= POP3_MAX_COMMAND_LINE)
            {
              if (!self->discarding)
                reply (self, "pop3.err.line-too-long", "-ERR command line too long (limit %u octets)",
                       POP3_MAX_COMMAND_LINE);
              self->discarding = TRUE;
              g_byte_array_set_size (self->received, 0);
            }
          return;
        }
      gsize consumed = (gsize) (newline - data) + 1;
      gsize line_len = consumed - 1;
      if (line_len > 0 && data[line_len - 1] == '\r')
        line_len--;
      g_autofree char *line = g_strndup ((const char *) data, line_len);
      gboolean was_discarding = self->discarding;
      gboolean has_nul = strlen (line) != line_len;
      self->discarding = FALSE;
      g_byte_array_remove_range (self->received, 0, (guint) consumed);
      if (was_discarding)
        continue;
      if (consumed > POP3_MAX_COMMAND_LINE)
        reply (self, "pop3.err.line-too-long", "-ERR command line too long (limit %u octets)",
               POP3_MAX_COMMAND_LINE);
      else if (has_nul || line_len == 0)
        reply (self, "pop3.err.unknown", "-ERR empty or malformed command line");
      else
        execute_line (self, line);
    }
}

/* ---- public ---- */

Pop3Server *
pop3_server_new (MailStore *store, const char *hostname, SimTransport *transport)
{
  Pop3Server *self = g_new0 (Pop3Server, 1);
  self->store = store;
  self->hostname = g_strdup (hostname);
  self->transport = transport;
  self->state = POP3_STATE_AUTHORIZATION;
  self->received = g_byte_array_new ();
  self->messages = g_array_new (FALSE, FALSE, sizeof (Pop3Message));
  /* RFC 1939 7: a timestamp unique to this greeting, in msg-id form; a
   * store-wide counter keeps runs reproducible. */
  self->timestamp = g_strdup_printf ("<%u@%s>", mail_store_next_session_number (store), hostname);
  return self;
}

void
pop3_server_free (Pop3Server *self)
{
  if (self == NULL)
    return;
  release_maildrop (self);
  g_free (self->hostname);
  g_free (self->timestamp);
  g_free (self->user);
  g_byte_array_unref (self->received);
  g_array_unref (self->messages);
  g_free (self);
}

void
pop3_server_start (Pop3Server *self)
{
  reply (self, "pop3.greeting", "+OK POP3 server ready %s", self->timestamp);
}

void
pop3_server_feed (Pop3Server *self, const guint8 *data, gsize len)
{
  if (self->state == POP3_STATE_CLOSED)
    return;
  g_byte_array_append (self->received, data, (guint) len);
  process_input (self);
}

void
pop3_server_connection_lost (Pop3Server *self)
{
  finish (self);
}

void
pop3_server_idle_timeout (Pop3Server *self)
{
  /* RFC 1939 3: close without a response and without entering UPDATE. */
  if (self->state == POP3_STATE_CLOSED)
    return;
  finish (self);
  sim_transport_close (self->transport);
}

gboolean
pop3_server_is_finished (Pop3Server *self)
{
  return self->state == POP3_STATE_CLOSED;
}

Pop3State
pop3_server_get_state (Pop3Server *self)
{
  return self->state;
}

const char *
pop3_server_get_timestamp (Pop3Server *self)
{
  return self->timestamp;
}
