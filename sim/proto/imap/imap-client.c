/* imap-client.c: a scripted IMAP4rev1 client session, RFC 3501.
 *
 * Responses are assembled like the server assembles commands: a line, and
 * when it ends with {n}, the n octets and the rest of the line.  Each
 * state sends one tagged command and waits for its tagged completion;
 * untagged data (EXISTS, FETCH, BYE) is read on the way.
 *
 * IDLE mode (RFC 2177) replaces LOGOUT with a loop, top to bottom:
 *
 *   FETCH      --tagged OK-->  IDLE_START  (report the batch, send IDLE)
 *   IDLE_START --"+"-------->  IDLING
 *   IDLING     --EXISTS----->  IDLE_DONE   (send DONE)
 *   IDLING     --refresh---->  IDLE_DONE   (send DONE)
 *   IDLE_DONE  --tagged OK-->  FETCH       (new mail: UID FETCH n:*)
 *                          or  IDLE_START  (refresh: IDLE again)
 *
 * A FETCH that completes after more EXISTS fetches again before idling.
 */
#include "proto/imap/imap-client.h"

#include <string.h>

#include "proto/imap/imap-parser.h"

/* Parenthesised data nested deeper than this is refused. */
#define IMAP_CLIENT_MAX_NESTING 32

typedef enum
{
  CLIENT_GREETING,
  CLIENT_LOGIN,
  CLIENT_SELECT,
  CLIENT_FETCH,
  CLIENT_IDLE_START,         /* IDLE sent, waiting for "+" */
  CLIENT_IDLING,             /* the server pushes news until DONE */
  CLIENT_IDLE_DONE,          /* DONE sent, waiting for IDLE's tagged OK */
  CLIENT_LOGOUT,
  CLIENT_FINISHED,
} ImapClientState;

struct _ImapClient
{
  char *user;
  char *password;
  char *folder;
  gboolean mark_seen;
  SimTransport *transport;
  MailFetchDone done;
  gpointer user_data;

  ImapClientState state;
  guint next_tag;
  char *tag;                 /* of the command in progress */
  char *command;             /* name of the command in progress, for errors */
  GQueue pending;            /* GString* parts of the command still to send after "+" */

  GByteArray *received;
  GByteArray *response;      /* the response being assembled */
  gsize literal_remaining;
  gboolean in_literal;

  guint exists;
  GPtrArray *fetched;        /* of MailFetched* */
  guint32 highest_uid;       /* of the messages fetched so far */
  guint32 fetch_floor;       /* the UID FETCH in progress keeps UIDs above this */

  ImapClientBatchFunc batch; /* non-NULL: IDLE mode */
  gboolean server_has_idle;  /* FALSE only when the greeting listed capabilities without IDLE */
  gboolean first_batch_reported;
  gboolean new_mail;         /* an EXISTS grew the mailbox since the last UID FETCH was sent */
  gboolean done_called;
  char *error;
};

static void
finish (ImapClient *self, gboolean ok, const char *error_text)
{
  self->state = CLIENT_FINISHED;
  if (self->done_called)
    return;
  self->done_called = TRUE;
  if (self->done != NULL)
    self->done (self->user_data, ok, error_text, self->fetched);
}

static void
fail_now (ImapClient *self, const char *error_text)
{
  sim_transport_close (self->transport);
  finish (self, FALSE, error_text);
}

static void
free_part (gpointer part)
{
  g_string_free (part, TRUE);
}

static void
write_part (ImapClient *self, GString *part, const char *explain_key)
{
  sim_transport_write (self->transport, part->str, part->len, explain_key);
}

/* Sends "tag NAME arg arg...": each argument as an atom or a quoted
 * string, or as a literal whose octets wait for the server's "+"
 * (RFC 3501 7.5). */
static void
send_command (ImapClient *self, const char *name, const char *explain_key, const char *const *args)
{
  g_free (self->tag);
  self->tag = g_strdup_printf ("a%u", ++self->next_tag);
  g_free (self->command);
  self->command = g_strdup (name);
  GString *part = g_string_new (NULL);
  g_string_append_printf (part, "%s %s", self->tag, name);
  for (; args != NULL && *args != NULL; args++)
    {
      g_string_append_c (part, ' ');
      if (!imap_astring_needs_literal (*args))
        {
          imap_append_astring (part, *args);
          continue;
        }
      g_string_append_printf (part, "{%" G_GSIZE_FORMAT "}\r\n", strlen (*args));
      g_queue_push_tail (&self->pending, part);
      part = g_string_new (*args);
    }
  g_string_append (part, "\r\n");
  g_queue_push_tail (&self->pending, part);
  g_autoptr(GString) first = g_queue_pop_head (&self->pending);
  write_part (self, first, explain_key);
}

static void
send_logout (ImapClient *self)
{
  self->state = CLIENT_LOGOUT;
  send_command (self, "LOGOUT", "imap.cmd.logout", NULL);
}

/* UID FETCH of every message above the highest UID seen: 1:* the first
 * time.  RFC 3501 6.4.8: "n:*" always matches the last message, even when
 * its UID is below n, so what comes back is filtered by fetch_floor. */
static void
send_fetch (ImapClient *self)
{
  self->state = CLIENT_FETCH;
  self->new_mail = FALSE;
  self->fetch_floor = self->highest_uid;
  /* RFC 3501 6.4.5: BODY[] sets \Seen, BODY.PEEK[] leaves it. */
  g_autofree char *command = g_strdup_printf ("UID FETCH %u:* (UID FLAGS %s)", self->highest_uid + 1,
                                              self->mark_seen ? "BODY[]" : "BODY.PEEK[]");
  send_command (self, command, "imap.cmd.uid-fetch", NULL);
}

static void
send_idle (ImapClient *self)
{
  if (!self->server_has_idle)
    {
      /* RFC 2177 3: IDLE only to a server that announces it. */
      self->error = g_strdup ("the server does not announce IDLE (RFC 2177 3)");
      send_logout (self);
      return;
    }
  self->state = CLIENT_IDLE_START;
  send_command (self, "IDLE", "imap.cmd.idle", NULL);
}

/* RFC 2177 3: "DONE" ends IDLE; it is not a command and has no tag, the
 * server answers with IDLE's tagged completion. */
static void
send_done (ImapClient *self)
{
  self->state = CLIENT_IDLE_DONE;
  sim_transport_write_string (self->transport, "DONE\r\n", "imap.cmd.done");
}

/* Hands the completed fetch to the owner and empties it. */
static void
report_batch (ImapClient *self)
{
  gboolean pushed = self->first_batch_reported;
  self->first_batch_reported = TRUE;
  if (!pushed || self->fetched->len > 0)
    self->batch (self->user_data, pushed, self->fetched);
  g_ptr_array_set_size (self->fetched, 0);
}

/* After a fetch in IDLE mode: fetch again if more mail was announced
 * meanwhile, else idle. */
static void
fetch_completed_in_idle_mode (ImapClient *self)
{
  report_batch (self);
  if (self->state == CLIENT_FINISHED)
    return;
  if (self->new_mail)
    send_fetch (self);
  else
    send_idle (self);
}

/* ---- reading FETCH data (RFC 3501 7.4.2) ---- */

static gboolean skip_value (ImapParser *parser, guint depth);

static gboolean
skip_list (ImapParser *parser, guint depth)
{
  if (depth > IMAP_CLIENT_MAX_NESTING || !imap_parser_skip_char (parser, '('))
    return FALSE;
  if (imap_parser_skip_char (parser, ')'))
    return TRUE;
  do
    if (!skip_value (parser, depth + 1))
      return FALSE;
  while (imap_parser_skip_space (parser));
  return imap_parser_skip_char (parser, ')');
}

/* Skips one value of a kind this client does not use. */
static gboolean
skip_value (ImapParser *parser, guint depth)
{
  char next;
  if (!imap_parser_peek (parser, &next))
    return FALSE;
  if (next == '(')
    return skip_list (parser, depth);
  if (next == '"' || next == '{')
    {
      g_autoptr(GBytes) bytes = imap_parser_read_string (parser);
      return bytes != NULL;
    }
  g_autofree char *flag = imap_parser_read_flag (parser);
  return flag != NULL;
}

static guint
flags_from_list (ImapParser *parser, gboolean *ok)
{
  static const struct { const char *name; guint flag; } names[] = {
    { "\\Seen", MAIL_FLAG_SEEN }, { "\\Answered", MAIL_FLAG_ANSWERED }, { "\\Flagged", MAIL_FLAG_FLAGGED },
    { "\\Deleted", MAIL_FLAG_DELETED }, { "\\Draft", MAIL_FLAG_DRAFT },
  };
  guint flags = 0;
  *ok = imap_parser_skip_char (parser, '(');
  if (!*ok || imap_parser_skip_char (parser, ')'))
    return 0;
  do
    {
      g_autofree char *flag = imap_parser_read_flag (parser);
      if (flag == NULL)
        {
          *ok = FALSE;
          return 0;
        }
      for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
        if (g_ascii_strcasecmp (flag, names[i].name) == 0)
          flags |= names[i].flag;
    }
  while (imap_parser_skip_space (parser));
  *ok = imap_parser_skip_char (parser, ')');
  return flags;
}

/* The name of a FETCH data item: "UID", "FLAGS", "BODY[]", "BODY[]<0>". */
static char *
read_item_name (ImapParser *parser)
{
  gsize start = parser->pos;
  gboolean in_section = FALSE;
  while (parser->pos < parser->len)
    {
      char c = (char) parser->data[parser->pos];
      if (c == '[')
        in_section = TRUE;
      else if (c == ']')
        in_section = FALSE;
      else if (!in_section && (c == ' ' || c == '(' || c == ')'))
        break;
      parser->pos++;
    }
  return parser->pos > start ? g_ascii_strup ((const char *) parser->data + start, (gssize) (parser->pos - start)) : NULL;
}

/* "* n FETCH (UID 5 FLAGS (\Seen) BODY[] {342}...)": keeps UID, flags and body. */
static gboolean
read_fetch (ImapClient *self, ImapParser *parser)
{
  guint32 uid = 0;
  guint flags = 0;
  g_autoptr(GBytes) body = NULL;
  if (!imap_parser_skip_char (parser, '('))
    return FALSE;
  do
    {
      g_autofree char *name = read_item_name (parser);
      if (name == NULL || !imap_parser_skip_space (parser))
        return FALSE;
      gboolean ok = TRUE;
      if (strcmp (name, "UID") == 0)
        ok = imap_parser_read_number (parser, &uid);
      else if (strcmp (name, "FLAGS") == 0)
        flags = flags_from_list (parser, &ok);
      else if (g_str_has_prefix (name, "BODY[]") || strcmp (name, "RFC822") == 0)
        {
          g_clear_pointer (&body, g_bytes_unref);
          ok = imap_parser_read_nstring (parser, &body);
        }
      else
        ok = skip_value (parser, 0);
      if (!ok)
        return FALSE;
    }
  while (imap_parser_skip_space (parser));
  if (!imap_parser_skip_char (parser, ')'))
    return FALSE;
  /* A FETCH without the body is a flags update; nothing to keep. */
  if (body != NULL && uid > self->fetch_floor)
    {
      self->highest_uid = MAX (self->highest_uid, uid);
      MailFetched *fetched = g_new0 (MailFetched, 1);
      fetched->uid = uid;
      fetched->flags = flags;
      fetched->data = g_steal_pointer (&body);
      g_ptr_array_add (self->fetched, fetched);
    }
  return TRUE;
}

/* "* OK [CAPABILITY IMAP4rev1 IDLE ...] ready" (RFC 3501 7.1, 7.2.1):
 * when the greeting lists the capabilities, IDLE must be among them. */
static void
read_greeting_capabilities (ImapClient *self, ImapParser *parser)
{
  if (!imap_parser_skip_space (parser) || !imap_parser_skip_char (parser, '[')
      || !imap_parser_skip_word (parser, "CAPABILITY"))
    return;
  gboolean has_idle = FALSE;
  while (imap_parser_skip_space (parser))
    {
      g_autofree char *capability = imap_parser_read_atom (parser);
      if (capability == NULL)
        break;
      if (g_ascii_strcasecmp (capability, "IDLE") == 0)
        has_idle = TRUE;
    }
  self->server_has_idle = has_idle;
}

static void
handle_untagged (ImapClient *self, ImapParser *parser)
{
  guint32 number;
  if (imap_parser_skip_word (parser, "BYE"))
    {
      /* RFC 3501 7.1.5: expected after LOGOUT, a failure anywhere else. */
      if (self->state != CLIENT_LOGOUT)
        {
          g_autofree char *rest = imap_parser_read_rest (parser);
          g_autofree char *text = g_strdup_printf ("the server closed the session:%s", rest);
          fail_now (self, text);
        }
      return;
    }
  if (self->state == CLIENT_GREETING)
    {
      if (!imap_parser_skip_word (parser, "OK") && !imap_parser_skip_word (parser, "PREAUTH"))
        {
          fail_now (self, "the server's greeting is not * OK (RFC 3501 7.1.1)");
          return;
        }
      read_greeting_capabilities (self, parser);
      self->state = CLIENT_LOGIN;
      const char *args[] = { self->user, self->password, NULL };
      send_command (self, "LOGIN", "imap.cmd.login", args);
      return;
    }
  if (!imap_parser_read_number (parser, &number) || !imap_parser_skip_space (parser))
    return;
  if (imap_parser_skip_word (parser, "EXISTS"))
    {
      /* RFC 3501 7.3.1: a larger count means new mail. */
      if (number > self->exists)
        self->new_mail = TRUE;
      self->exists = number;
      if (self->state == CLIENT_IDLING && self->new_mail)
        send_done (self);
    }
  else if (imap_parser_skip_word (parser, "EXPUNGE"))
    /* RFC 3501 7.4.1: one message fewer; later ones renumbered. */
    self->exists = self->exists > 0 ? self->exists - 1 : 0;
  else if (imap_parser_skip_word (parser, "FETCH") && imap_parser_skip_space (parser)
           && !read_fetch (self, parser))
    fail_now (self, "the server sent a FETCH response this client cannot read");
}

static void
handle_tagged (ImapClient *self, ImapParser *parser)
{
  gboolean ok = imap_parser_skip_word (parser, "OK");
  imap_parser_skip_space (parser);
  g_autofree char *text = imap_parser_read_rest (parser);
  if (!ok)
    {
      /* Logged in: say goodbye properly and report the failure after. */
      g_autofree char *error = g_strdup_printf ("%s failed: %s", self->command, text);
      if (self->state == CLIENT_LOGIN || self->state == CLIENT_LOGOUT)
        fail_now (self, error);
      else
        {
          self->error = g_steal_pointer (&error);
          send_logout (self);
        }
      return;
    }
  switch (self->state)
    {
    case CLIENT_LOGIN:
      {
        self->state = CLIENT_SELECT;
        const char *args[] = { self->folder, NULL };
        send_command (self, "SELECT", "imap.cmd.select", args);
      }
      break;
    case CLIENT_SELECT:
      if (self->exists > 0)
        send_fetch (self);
      else if (self->batch != NULL)
        fetch_completed_in_idle_mode (self);
      else
        send_logout (self);
      break;
    case CLIENT_FETCH:
      if (self->batch != NULL)
        fetch_completed_in_idle_mode (self);
      else
        send_logout (self);
      break;
    case CLIENT_IDLE_START:
    case CLIENT_IDLING:
    case CLIENT_IDLE_DONE:
      /* IDLE ended, after DONE or because the server ended it. */
      if (self->new_mail)
        send_fetch (self);
      else
        send_idle (self);
      break;
    case CLIENT_LOGOUT:
      {
        g_autofree char *error = g_steal_pointer (&self->error);
        sim_transport_close (self->transport);
        finish (self, error == NULL, error);
      }
      break;
    case CLIENT_GREETING:
    case CLIENT_FINISHED:
      break;
    }
}

static void
handle_response (ImapClient *self, const guint8 *data, gsize len)
{
  ImapParser parser;
  imap_parser_init (&parser, data, len);
  if (imap_parser_skip_char (&parser, '+'))
    {
      if (self->state == CLIENT_IDLE_START)
        {
          /* RFC 2177 3: "+ idling"; news may come from now on. */
          self->state = CLIENT_IDLING;
          if (self->new_mail)
            send_done (self);
          return;
        }
      /* RFC 3501 7.5: the server is ready for the next literal's octets. */
      g_autoptr(GString) part = g_queue_pop_head (&self->pending);
      if (part == NULL)
        fail_now (self, "the server sent an unexpected continuation request");
      else
        write_part (self, part, "imap.cmd.literal");
      return;
    }
  if (imap_parser_skip_char (&parser, '*'))
    {
      if (imap_parser_skip_space (&parser))
        handle_untagged (self, &parser);
      return;
    }
  g_autofree char *tag = imap_parser_read_tag (&parser);
  if (tag == NULL || self->tag == NULL || strcmp (tag, self->tag) != 0 || !imap_parser_skip_space (&parser))
    {
      fail_now (self, "the server answered a command this client did not send");
      return;
    }
  /* A refused literal ends the command: drop what was waiting for "+". */
  g_queue_clear_full (&self->pending, free_part);
  handle_tagged (self, &parser);
}

static void
line_complete (ImapClient *self, const guint8 *line, gsize len)
{
  guint32 literal = 0;
  gsize open = len;
  if (len > 0 && line[len - 1] == '}')
    {
      open = len - 1;
      while (open > 0 && g_ascii_isdigit (line[open - 1]))
        open--;
    }
  gboolean announces = open > 0 && open < len - 1 && line[open - 1] == '{';
  if (self->response->len + len + 2 > IMAP_MAX_COMMAND)
    {
      fail_now (self, "the server's response is too large");
      return;
    }
  g_byte_array_append (self->response, line, (guint) len);
  if (announces)
    {
      ImapParser number;
      imap_parser_init (&number, line + open, len - 1 - open);
      if (!imap_parser_read_number (&number, &literal) || literal > IMAP_MAX_LITERAL
          || self->response->len + literal > IMAP_MAX_COMMAND)
        {
          fail_now (self, "the server announced a literal that is too large");
          return;
        }
      g_byte_array_append (self->response, (const guint8 *) "\r\n", 2);
      self->literal_remaining = literal;
      self->in_literal = literal > 0;
      return;
    }
  g_autoptr(GByteArray) response = g_byte_array_new ();
  g_byte_array_append (response, self->response->data, self->response->len);
  g_byte_array_set_size (self->response, 0);
  handle_response (self, response->data, response->len);
}

ImapClient *
imap_client_new (const char *user, const char *password, const char *folder, gboolean mark_seen,
                 SimTransport *transport, MailFetchDone done, gpointer user_data)
{
  ImapClient *self = g_new0 (ImapClient, 1);
  self->user = g_strdup (user);
  self->password = g_strdup (password);
  self->folder = g_strdup (folder != NULL ? folder : "INBOX");
  self->mark_seen = mark_seen;
  self->transport = transport;
  self->done = done;
  self->user_data = user_data;
  self->state = CLIENT_GREETING;
  g_queue_init (&self->pending);
  self->received = g_byte_array_new ();
  self->response = g_byte_array_new ();
  self->fetched = g_ptr_array_new_with_free_func ((GDestroyNotify) mail_fetched_free);
  self->server_has_idle = TRUE;
  return self;
}

void
imap_client_set_idle (ImapClient *self, ImapClientBatchFunc batch)
{
  g_return_if_fail (self->state == CLIENT_GREETING);
  self->batch = batch;
}

void
imap_client_idle_refresh (ImapClient *self)
{
  if (self->state == CLIENT_IDLING)
    send_done (self);
}

gboolean
imap_client_is_idling (ImapClient *self)
{
  return self->state == CLIENT_IDLING;
}

void
imap_client_free (ImapClient *self)
{
  if (self == NULL)
    return;
  g_free (self->user);
  g_free (self->password);
  g_free (self->folder);
  g_free (self->tag);
  g_free (self->command);
  g_free (self->error);
  g_queue_clear_full (&self->pending, free_part);
  g_byte_array_unref (self->received);
  g_byte_array_unref (self->response);
  g_ptr_array_unref (self->fetched);
  g_free (self);
}

void
imap_client_feed (ImapClient *self, const guint8 *data, gsize len)
{
  if (self->state == CLIENT_FINISHED)
    return;
  g_byte_array_append (self->received, data, (guint) len);
  while (self->state != CLIENT_FINISHED && self->received->len > 0)
    {
      if (self->in_literal)
        {
          gsize take = MIN (self->received->len, self->literal_remaining);
          g_byte_array_append (self->response, self->received->data, (guint) take);
          g_byte_array_remove_range (self->received, 0, (guint) take);
          self->literal_remaining -= take;
          self->in_literal = self->literal_remaining > 0;
          continue;
        }
      const guint8 *newline = memchr (self->received->data, '\n', self->received->len);
      if (newline == NULL)
        {
          if (self->received->len > IMAP_MAX_LINE)
            fail_now (self, "the server sent a line that is too long");
          return;
        }
      gsize consumed = (gsize) (newline - self->received->data) + 1;
      gsize line_len = consumed - 1;
      if (line_len > 0 && self->received->data[line_len - 1] == '\r')
        line_len--;
      if (line_len > IMAP_MAX_LINE)
        {
          fail_now (self, "the server sent a line that is too long");
          return;
        }
      g_autofree guint8 *line = g_memdup2 (self->received->data, consumed);
      g_byte_array_remove_range (self->received, 0, (guint) consumed);
      line_complete (self, line, line_len);
    }
}

void
imap_client_connection_lost (ImapClient *self)
{
  if (self->state == CLIENT_FINISHED)
    return;
  const char *text = self->error;
  if (text == NULL)
    text = self->batch != NULL && self->first_batch_reported ? "the connection was lost while idling"
                                                             : "the connection was lost before LOGOUT completed";
  finish (self, FALSE, text);
}

gboolean
imap_client_is_finished (ImapClient *self)
{
  return self->state == CLIENT_FINISHED;
}

GPtrArray *
imap_client_get_fetched (ImapClient *self)
{
  return self->fetched;
}
