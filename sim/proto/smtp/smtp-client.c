/* smtp-client.c: one SMTP/LMTP transaction, client side (RFC 5321 3.3). */
#include "proto/smtp/smtp-client.h"

#include <string.h>

typedef enum
{
  STATE_GREETING,
  STATE_EHLO,
  STATE_STARTTLS,
  STATE_HELO,
  STATE_AUTH,
  STATE_MAIL,
  STATE_RCPT,
  STATE_DATA,
  STATE_DOT,
  STATE_QUIT,
  STATE_DONE,
} SmtpClientState;

struct _SmtpClient
{
  char *helo_name;
  gboolean lmtp;
  char *auth_user;
  char *auth_password;
  char *reverse_path;
  GStrv recipients;
  GBytes *content;
  SimTransport *transport;
  SmtpClientDone done;
  gpointer user_data;

  SmtpClientState state;
  GString *input;
  /* The reply being read: its code and lines. */
  guint reply_code;
  GString *reply_text;
  gboolean reply_started;

  guint next_recipient;     /* RCPT replies received so far */
  guint accepted;           /* recipients accepted at RCPT */
  guint dot_replies;        /* LMTP: per-recipient replies after the dot */
  GArray *accepted_index;   /* guint: recipient index of each accepted RCPT */
  SmtpClientResult result;
  gboolean reported;
  gboolean peer_speaks_esmtp;
  gboolean peer_has_pipelining;
  gboolean want_starttls;
  gboolean tls;
  gboolean pipelined;        /* MAIL and the RCPTs went out as one group */
  gboolean peer_has_size;
  SmtpReply *mail_refusal;   /* pipelined: the refusal of MAIL, if any */
};

SmtpClient *
smtp_client_new (const SmtpClientConfig *config, SimTransport *transport,
                 SmtpClientDone done, gpointer user_data)
{
  SmtpClient *self = g_new0 (SmtpClient, 1);
  guint n = config->recipients != NULL ? g_strv_length ((GStrv) config->recipients) : 0;

  self->helo_name = g_strdup (config->helo_name);
  self->lmtp = config->lmtp;
  self->auth_user = g_strdup (config->auth_user);
  self->auth_password = g_strdup (config->auth_password);
  self->reverse_path = g_strdup (config->reverse_path != NULL ? config->reverse_path : "");
  self->recipients = g_strdupv ((GStrv) config->recipients);
  self->content = g_bytes_ref (config->content);
  self->want_starttls = config->starttls;
  self->transport = transport;
  self->done = done;
  self->user_data = user_data;
  self->input = g_string_new (NULL);
  self->reply_text = g_string_new (NULL);
  self->accepted_index = g_array_new (FALSE, FALSE, sizeof (guint));
  self->result.recipient_replies = g_ptr_array_new_with_free_func ((GDestroyNotify) smtp_reply_free);
  g_ptr_array_set_size (self->result.recipient_replies, (gint) n);
  return self;
}

void
smtp_client_free (SmtpClient *self)
{
  if (self == NULL)
    return;
  g_free (self->helo_name);
  g_free (self->auth_user);
  g_free (self->auth_password);
  g_free (self->reverse_path);
  g_strfreev (self->recipients);
  g_bytes_unref (self->content);
  g_string_free (self->input, TRUE);
  g_string_free (self->reply_text, TRUE);
  g_array_unref (self->accepted_index);
  g_ptr_array_unref (self->result.recipient_replies);
  smtp_reply_free (self->result.data_reply);
  smtp_reply_free (self->mail_refusal);
  g_free (self);
}

gboolean
smtp_client_is_done (const SmtpClient *self)
{
  return self->reported;
}

static void
send_line (SmtpClient *self, const char *key, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
send_line (SmtpClient *self, const char *key, const char *format, ...)
{
  va_list args;
  g_autofree char *line = NULL;
  g_autofree char *wire = NULL;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  wire = g_strconcat (line, "\r\n", NULL);
  sim_transport_write_string (self->transport, wire, key);
}

static void
report (SmtpClient *self, SmtpOutcome outcome)
{
  if (self->reported)
    return;
  self->reported = TRUE;
  self->result.outcome = outcome;
  self->done (self, &self->result, self->user_data);
}

/* Every recipient without a decided fate gets @reply. */
static void
decide_remaining (SmtpClient *self, const SmtpReply *reply)
{
  for (guint i = 0; i < self->result.recipient_replies->len; i++)
    if (g_ptr_array_index (self->result.recipient_replies, i) == NULL)
      self->result.recipient_replies->pdata[i] = smtp_reply_copy (reply);
}

static void
quit (SmtpClient *self)
{
  self->state = STATE_QUIT;
  send_line (self, "smtp.cmd.quit", "QUIT");
}

/* Ends the session after a refusal that concerns every recipient left. */
static void
give_up (SmtpClient *self, const SmtpReply *reply)
{
  decide_remaining (self, reply);
  if (self->state == STATE_GREETING)
    {
      /* RFC 5321 3.1: after a 554 greeting the client should still QUIT;
       * after 421 the server closes. */
      if (reply->code == 421)
        {
          self->state = STATE_DONE;
          report (self, SMTP_OUTCOME_REJECTED);
          sim_transport_close (self->transport);
          return;
        }
    }
  quit (self);
  report (self, SMTP_OUTCOME_REJECTED);
}

static void
send_mail (SmtpClient *self)
{
  g_autofree char *size = NULL;

  if (self->recipients == NULL || self->recipients[0] == NULL)
    {
      /* Nothing to send to: a transaction needs at least one RCPT. */
      quit (self);
      report (self, SMTP_OUTCOME_REJECTED);
      return;
    }
  self->state = STATE_MAIL;
  /* RFC 1870 6: declare the size, when the server advertised SIZE, so it
   * can refuse a message that is too large before it is sent. */
  if (self->peer_has_size && !self->lmtp)
    send_line (self, "smtp.cmd.mail", "MAIL FROM:<%s> SIZE=%" G_GSIZE_FORMAT, self->reverse_path,
               g_bytes_get_size (self->content));
  else
    send_line (self, "smtp.cmd.mail", "MAIL FROM:<%s>", self->reverse_path);
  if (!self->peer_has_pipelining)
    return;
  /* RFC 2920 3.1: with PIPELINING, MAIL and every RCPT go out as one
   * group, and the replies are read in order afterwards: one round trip
   * instead of one per recipient.  DATA follows once a recipient has been
   * accepted (grouping it too is allowed, but then a transaction whose
   * recipients were all refused needs a 503 or an empty message to end). */
  self->pipelined = TRUE;
  for (guint i = 0; self->recipients[i] != NULL; i++)
    send_line (self, "smtp.cmd.rcpt", "RCPT TO:<%s>", self->recipients[i]);
}

static void
send_auth (SmtpClient *self)
{
  GString *plain = g_string_new (NULL);
  g_autofree char *encoded = NULL;

  /* RFC 4616: NUL user NUL password, base64-encoded (RFC 4954 4). */
  g_string_append_c (plain, '\0');
  g_string_append (plain, self->auth_user);
  g_string_append_c (plain, '\0');
  g_string_append (plain, self->auth_password != NULL ? self->auth_password : "");
  encoded = g_base64_encode ((const guchar *) plain->str, plain->len);
  g_string_free (plain, TRUE);
  self->state = STATE_AUTH;
  send_line (self, "smtp.cmd.auth", "AUTH PLAIN %s", encoded);
}

static void
handle_reply (SmtpClient *self, guint code, const char *text)
{
  g_autofree char *enhanced = NULL;
  const char *body = text;
  g_autoptr (SmtpReply) reply = NULL;

  /* Split off an enhanced status code "x.y.z " at the start (RFC 3463). */
  if (g_ascii_isdigit (text[0]) && text[1] == '.')
    {
      const char *space = strchr (text, ' ');
      gsize length = space != NULL ? (gsize) (space - text) : strlen (text);
      if (length <= 11)
        {
          enhanced = g_strndup (text, length);
          body = space != NULL ? space + 1 : text + length;
        }
    }
  reply = smtp_reply_new (code, enhanced, body);

  switch (self->state)
    {
    case STATE_GREETING:
      if (code != 220)
        {
          give_up (self, reply);
          return;
        }
      self->state = STATE_EHLO;
      send_line (self, self->lmtp ? "lmtp.cmd.lhlo" : "smtp.cmd.ehlo", "%s %s",
                 self->lmtp ? "LHLO" : "EHLO", self->helo_name);
      break;
    case STATE_EHLO:
      if (code / 100 == 2)
        {
          self->peer_speaks_esmtp = TRUE;
          self->peer_has_pipelining = strstr (self->reply_text->str, "PIPELINING") != NULL;
          self->peer_has_size = strstr (self->reply_text->str, "\nSIZE") != NULL;
          if (self->want_starttls && !self->tls && strstr (self->reply_text->str, "\nSTARTTLS") != NULL)
            {
              self->state = STATE_STARTTLS;
              send_line (self, "smtp.cmd.starttls", "STARTTLS");
              return;
            }
          if (self->auth_user != NULL)
            send_auth (self);
          else
            send_mail (self);
        }
      else if (!self->lmtp && code / 100 == 5)
        {
          /* RFC 5321 3.2: fall back to HELO when EHLO is not understood. */
          self->state = STATE_HELO;
          send_line (self, "smtp.cmd.helo", "HELO %s", self->helo_name);
        }
      else
        give_up (self, reply);
      break;
    case STATE_STARTTLS:
      if (code == 220)
        {
          /* RFC 3207 4.2: under TLS the client starts over with EHLO. */
          sim_transport_start_tls (self->transport);
          self->tls = TRUE;
          self->state = STATE_EHLO;
          send_line (self, self->lmtp ? "lmtp.cmd.lhlo" : "smtp.cmd.ehlo", "%s %s", self->lmtp ? "LHLO" : "EHLO",
                     self->helo_name);
        }
      else if (self->auth_user != NULL)
        send_auth (self);   /* opportunistic: go on without TLS */
      else
        send_mail (self);
      break;
    case STATE_HELO:
      if (code / 100 != 2)
        give_up (self, reply);
      else if (self->auth_user != NULL)
        send_auth (self);
      else
        send_mail (self);
      break;
    case STATE_AUTH:
      if (code == 235)
        send_mail (self);
      else
        give_up (self, reply);
      break;
    case STATE_MAIL:
      if (self->pipelined)
        {
          /* The RCPTs and DATA are already on their way: read their
           * replies; a refused MAIL decides every recipient's fate. */
          if (code / 100 != 2)
            self->mail_refusal = smtp_reply_copy (reply);
          self->state = STATE_RCPT;
          return;
        }
      if (code / 100 != 2)
        {
          give_up (self, reply);
          return;
        }
      self->state = STATE_RCPT;
      send_line (self, "smtp.cmd.rcpt", "RCPT TO:<%s>", self->recipients[0]);
      break;
    case STATE_RCPT:
      {
        guint index = self->next_recipient++;
        if (self->mail_refusal != NULL)
          self->result.recipient_replies->pdata[index] = smtp_reply_copy (self->mail_refusal);
        else if (code / 100 == 2)
          {
            self->accepted++;
            g_array_append_val (self->accepted_index, index);
          }
        else
          self->result.recipient_replies->pdata[index] = smtp_reply_copy (reply);
        if (self->recipients[self->next_recipient] != NULL)
          {
            if (!self->pipelined)
              send_line (self, "smtp.cmd.rcpt", "RCPT TO:<%s>", self->recipients[self->next_recipient]);
            return;
          }
        if (self->mail_refusal != NULL)
          {
            quit (self);
            report (self, SMTP_OUTCOME_REJECTED);
            return;
          }
        if (self->accepted == 0)
          {
            /* Every recipient was refused: nothing to send. */
            quit (self);
            report (self, SMTP_OUTCOME_REJECTED);
            return;
          }
        self->state = STATE_DATA;
        send_line (self, "smtp.cmd.data", "DATA");
        break;
      }
    case STATE_DATA:
      if (code != 354)
        {
          give_up (self, reply);
          return;
        }
      {
        g_autoptr (GBytes) stuffed = smtp_dot_stuff (self->content);
        gsize len;
        const guint8 *data = g_bytes_get_data (stuffed, &len);
        self->state = STATE_DOT;
        self->result.dot_sent = TRUE;
        sim_transport_write (self->transport, data, len, "smtp.data.content");
      }
      break;
    case STATE_DOT:
      {
        guint index = g_array_index (self->accepted_index, guint, self->lmtp ? self->dot_replies : 0);
        if (self->result.data_reply == NULL)
          self->result.data_reply = smtp_reply_copy (reply);
        if (self->lmtp)
          {
            /* RFC 2033 4.2: one reply per accepted recipient, in order. */
            self->result.recipient_replies->pdata[index] = smtp_reply_copy (reply);
            self->dot_replies++;
            if (self->dot_replies < self->accepted)
              return;
          }
        else
          {
            for (guint i = 0; i < self->accepted_index->len; i++)
              {
                guint r = g_array_index (self->accepted_index, guint, i);
                self->result.recipient_replies->pdata[r] = smtp_reply_copy (reply);
              }
          }
        gboolean any_sent = FALSE;
        for (guint i = 0; i < self->accepted_index->len; i++)
          {
            SmtpReply *r = g_ptr_array_index (self->result.recipient_replies,
                                              g_array_index (self->accepted_index, guint, i));
            if (r != NULL && r->code / 100 == 2)
              any_sent = TRUE;
          }
        quit (self);
        report (self, any_sent ? SMTP_OUTCOME_SENT : SMTP_OUTCOME_REJECTED);
        break;
      }
    case STATE_QUIT:
      self->state = STATE_DONE;
      sim_transport_close (self->transport);
      break;
    case STATE_DONE:
      break;
    }
}

void
smtp_client_feed (SmtpClient *self, const guint8 *data, gsize len)
{
  gsize start = 0;

  if (self->state == STATE_DONE)
    return;
  g_string_append_len (self->input, (const char *) data, (gssize) len);
  while (self->state != STATE_DONE)
    {
      char *newline = memchr (self->input->str + start, '\n', self->input->len - start);
      guint code;
      gboolean last;
      const char *text;

      if (newline == NULL)
        {
          if (self->input->len - start > SMTP_MAX_REPLY_LINE * 4)
            {
              /* A server that never ends its line is broken: hang up. */
              self->state = STATE_DONE;
              sim_transport_close (self->transport);
              smtp_client_connection_lost (self);
            }
          break;
        }
      *newline = '\0';
      if (newline > self->input->str + start && newline[-1] == '\r')
        newline[-1] = '\0';
      const char *line = self->input->str + start;
      start = (gsize) (newline - self->input->str) + 1;
      if (!smtp_reply_line_parse (line, &code, &last, &text))
        continue;
      if (!self->reply_started)
        {
          self->reply_started = TRUE;
          self->reply_code = code;
          g_string_truncate (self->reply_text, 0);
        }
      else
        g_string_append_c (self->reply_text, '\n');
      g_string_append (self->reply_text, text);
      if (!last)
        continue;
      self->reply_started = FALSE;
      /* Only the first line carries meaning for the state machine; the
       * whole text is kept for EHLO keywords. */
      g_autofree char *first = g_strdup (self->reply_text->str);
      char *cut = strchr (first, '\n');
      if (cut != NULL)
        *cut = '\0';
      handle_reply (self, self->reply_code, first);
    }
  g_string_erase (self->input, 0, (gssize) MIN (start, self->input->len));
}

void
smtp_client_connection_lost (SmtpClient *self)
{
  self->state = STATE_DONE;
  report (self, SMTP_OUTCOME_LOST);
}
