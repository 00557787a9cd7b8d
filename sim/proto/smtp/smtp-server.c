/* smtp-server.c: server side of SMTP (RFC 5321) and LMTP (RFC 2033). */
#include "proto/smtp/smtp-server.h"

#include <string.h>

typedef enum
{
  STATE_CONNECTED,   /* greeting sent, waiting for EHLO/HELO */
  STATE_READY,       /* greeted, no transaction */
  STATE_MAIL,        /* MAIL accepted, waiting for RCPT */
  STATE_RCPT,        /* at least one recipient accepted */
  STATE_DATA,        /* reading the message until the final dot */
  STATE_AUTH_PLAIN,  /* AUTH PLAIN sent without initial response */
  STATE_AUTH_LOGIN_USER,
  STATE_AUTH_LOGIN_PASSWORD,
  STATE_CLOSED,
} SmtpServerState;

struct _SmtpServer
{
  SmtpService service;
  char *hostname;
  SimTransport *transport;
  SmtpServerHandler handler;
  gpointer user_data;
  SmtpServerState state;
  gsize size_limit;

  GByteArray *input;
  gboolean discarding;      /* skipping the rest of an over-long line */

  char *helo;
  gboolean esmtp;
  gboolean offer_starttls;
  gboolean tls;
  char *auth_user;
  char *auth_login_user;

  SmtpEnvelope envelope;
  SmtpVerb pending;         /* MAIL or RCPT waiting for smtp_server_resume(); UNKNOWN when none */
  char *pending_path;
  guint rejected_recipients;
  GString *content;
  gboolean content_line_too_long;
  gboolean content_too_big;
  gsize content_line_length;
};

SmtpServer *
smtp_server_new (SmtpService service, const char *hostname, SimTransport *transport,
                 const SmtpServerHandler *handler, gpointer user_data)
{
  SmtpServer *self = g_new0 (SmtpServer, 1);

  self->service = service;
  self->hostname = g_strdup (hostname);
  self->transport = transport;
  self->handler = *handler;
  self->user_data = user_data;
  self->size_limit = SMTP_DEFAULT_SIZE_LIMIT;
  self->input = g_byte_array_new ();
  self->envelope.recipients = g_ptr_array_new_with_free_func (g_free);
  self->content = g_string_new (NULL);
  self->pending = SMTP_VERB_UNKNOWN;
  return self;
}

void
smtp_server_free (SmtpServer *self)
{
  if (self == NULL)
    return;
  g_free (self->hostname);
  g_byte_array_unref (self->input);
  g_free (self->helo);
  g_free (self->auth_user);
  g_free (self->auth_login_user);
  g_free (self->envelope.reverse_path);
  g_free (self->pending_path);
  g_ptr_array_unref (self->envelope.recipients);
  g_string_free (self->content, TRUE);
  g_free (self);
}

void
smtp_server_set_size_limit (SmtpServer *self, gsize limit)
{
  self->size_limit = limit;
}

void
smtp_server_set_starttls (SmtpServer *self, gboolean offer)
{
  self->offer_starttls = offer;
}

gboolean
smtp_server_get_tls (const SmtpServer *self)
{
  return self->tls;
}

SmtpService
smtp_server_get_service (const SmtpServer *self)
{
  return self->service;
}

const char *
smtp_server_get_hostname (const SmtpServer *self)
{
  return self->hostname;
}

const char *
smtp_server_get_helo (const SmtpServer *self)
{
  return self->helo;
}

gboolean
smtp_server_get_esmtp (const SmtpServer *self)
{
  return self->esmtp;
}

const char *
smtp_server_get_auth_user (const SmtpServer *self)
{
  return self->auth_user;
}

gboolean
smtp_server_is_finished (const SmtpServer *self)
{
  return self->state == STATE_CLOSED;
}

static void
reply (SmtpServer *self, guint code, const char *enhanced, const char *text, const char *explain_key)
{
  g_autoptr (GString) out = NULL;

  if (self->state == STATE_CLOSED)
    return;
  /* Enhanced status codes (RFC 2034) go on every reply once the client
   * has used EHLO, which is when ENHANCEDSTATUSCODES was advertised. */
  out = smtp_reply_format (code, self->esmtp ? enhanced : NULL, text);
  sim_transport_write (self->transport, out->str, out->len, explain_key);
}

static void
close_session (SmtpServer *self)
{
  if (self->state == STATE_CLOSED)
    return;
  self->state = STATE_CLOSED;
  sim_transport_close (self->transport);
}

static void
reset_transaction (SmtpServer *self)
{
  g_clear_pointer (&self->envelope.reverse_path, g_free);
  g_ptr_array_set_size (self->envelope.recipients, 0);
  self->rejected_recipients = 0;
  g_string_truncate (self->content, 0);
  self->content_line_too_long = FALSE;
  self->content_too_big = FALSE;
  self->content_line_length = 0;
}

void
smtp_server_start (SmtpServer *self)
{
  g_autofree char *text = g_strdup_printf ("%s %s mailsim", self->hostname,
                                           self->service == SMTP_SERVICE_LMTP ? "LMTP" : "ESMTP");
  reply (self, 220, NULL, text, "smtp.reply.greeting");
}

void
smtp_server_refuse (SmtpServer *self, const char *text)
{
  g_autofree char *line = g_strdup_printf ("%s %s", self->hostname, text);
  reply (self, 421, "4.3.2", line, "smtp.reply.421");
  close_session (self);
}

void
smtp_server_idle_timeout (SmtpServer *self)
{
  g_autofree char *line = g_strdup_printf ("%s Error: timeout exceeded", self->hostname);
  reply (self, 421, "4.4.2", line, "smtp.reply.timeout");
  close_session (self);
}

void
smtp_server_connection_lost (SmtpServer *self)
{
  /* RFC 5321 6.1: a transaction without its final dot acknowledged is
   * abandoned, nothing is delivered. */
  reset_transaction (self);
  self->pending = SMTP_VERB_UNKNOWN;
  g_clear_pointer (&self->pending_path, g_free);
  self->state = STATE_CLOSED;
}

/* ---- commands ---- */

static void
handle_hello (SmtpServer *self, SmtpVerb verb, const char *argument)
{
  if ((self->service == SMTP_SERVICE_LMTP) != (verb == SMTP_VERB_LHLO))
    {
      if (self->service == SMTP_SERVICE_LMTP)
        reply (self, 500, "5.5.1", "Error: this is an LMTP server, say LHLO", "smtp.reply.500");
      else
        reply (self, 500, "5.5.1", "Error: LHLO is LMTP, this is an SMTP server", "smtp.reply.500");
      return;
    }
  if (argument == NULL || *argument == '\0')
    {
      g_autofree char *text = g_strdup_printf ("Syntax: %s hostname", smtp_verb_to_string (verb));
      reply (self, 501, "5.5.4", text, "smtp.reply.501");
      return;
    }
  /* RFC 5321 4.1.4: a new EHLO/HELO resets any transaction in progress. */
  reset_transaction (self);
  g_free (self->helo);
  self->helo = g_strdup (argument);
  self->state = STATE_READY;
  if (verb == SMTP_VERB_HELO)
    {
      g_autofree char *text = g_strdup_printf ("%s", self->hostname);
      self->esmtp = FALSE;
      reply (self, 250, NULL, text, "smtp.reply.helo");
      return;
    }
  self->esmtp = TRUE;
  GString *text = g_string_new (NULL);
  g_string_append_printf (text, "%s Hello %s", self->hostname, argument);
  g_string_append (text, "\nPIPELINING");
  if (self->service != SMTP_SERVICE_LMTP)
    g_string_append_printf (text, "\nSIZE %" G_GSIZE_FORMAT, self->size_limit);
  g_string_append (text, "\n8BITMIME");
  g_string_append (text, "\nENHANCEDSTATUSCODES");
  if (self->offer_starttls && !self->tls && self->service != SMTP_SERVICE_LMTP)
    g_string_append (text, "\nSTARTTLS");
  if (self->service == SMTP_SERVICE_SUBMISSION)
    g_string_append (text, "\nAUTH PLAIN LOGIN");
  /* EHLO replies carry no enhanced codes: their lines are keywords. */
  g_autoptr (GString) out = smtp_reply_format (250, NULL, text->str);
  g_string_free (text, TRUE);
  sim_transport_write (self->transport, out->str, out->len,
                       verb == SMTP_VERB_LHLO ? "lmtp.reply.lhlo" : "smtp.reply.ehlo");
}

static gboolean
parse_size_parameter (const char *parameters, gsize *size, gboolean *bad)
{
  g_auto (GStrv) words = g_strsplit (parameters, " ", -1);

  *bad = FALSE;
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (g_ascii_strncasecmp (words[i], "SIZE=", 5) == 0)
        {
          guint64 value;
          if (!g_ascii_string_to_unsigned (words[i] + 5, 10, 0, G_MAXSIZE, &value, NULL))
            {
              *bad = TRUE;
              return FALSE;
            }
          *size = (gsize) value;
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
parameters_known (const char *parameters)
{
  g_auto (GStrv) words = g_strsplit (parameters, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (g_ascii_strncasecmp (words[i], "SIZE=", 5) != 0
          && g_ascii_strncasecmp (words[i], "BODY=", 5) != 0
          && g_ascii_strncasecmp (words[i], "AUTH=", 5) != 0)
        return FALSE;
    }
  return TRUE;
}

/* The answer to MAIL, now or after smtp_server_resume(). */
static void
finish_mail (SmtpServer *self, const char *reverse_path, const SmtpReply *answer)
{
  if (answer->code / 100 != 2)
    {
      reply (self, answer->code, answer->enhanced, answer->text,
             answer->code / 100 == 4 ? "smtp.reply.mail.temporary" : "smtp.reply.mail.rejected");
      return;
    }
  self->envelope.reverse_path = g_strdup (reverse_path);
  self->state = STATE_MAIL;
  reply (self, answer->code, answer->enhanced != NULL ? answer->enhanced : "2.1.0",
         answer->text != NULL ? answer->text : "Ok", "smtp.reply.mail");
}

/* The answer to RCPT, now or after smtp_server_resume(). */
static void
finish_rcpt (SmtpServer *self, const char *forward_path, const SmtpReply *answer)
{
  if (answer->code / 100 == 2)
    {
      g_ptr_array_add (self->envelope.recipients, g_strdup (forward_path));
      self->state = STATE_RCPT;
      reply (self, answer->code, answer->enhanced != NULL ? answer->enhanced : "2.1.5",
             answer->text != NULL ? answer->text : "Ok", "smtp.reply.rcpt");
      return;
    }
  const char *key = "smtp.reply.rcpt.rejected";
  if (answer->code == 550 || answer->code == 551)
    key = "smtp.reply.550";
  else if (answer->code == 554 || (answer->enhanced != NULL && g_str_equal (answer->enhanced, "5.7.1")))
    key = "smtp.reply.relay-denied";
  else if (answer->code / 100 == 4)
    key = "smtp.reply.rcpt.temporary";
  self->rejected_recipients++;
  reply (self, answer->code, answer->enhanced, answer->text, key);
}

static void
handle_mail (SmtpServer *self, const char *argument)
{
  g_autofree char *address = NULL;
  g_autofree char *parameters = NULL;
  const char *error_text = NULL;
  gsize declared_size = 0;
  gboolean bad_size = FALSE;

  if (self->state == STATE_CONNECTED)
    {
      reply (self, 503, "5.5.1", "Error: send HELO/EHLO first", "smtp.reply.503");
      return;
    }
  if (self->state != STATE_READY)
    {
      reply (self, 503, "5.5.1", "Error: nested MAIL command", "smtp.reply.503");
      return;
    }
  if (self->service == SMTP_SERVICE_SUBMISSION && self->auth_user == NULL)
    {
      /* RFC 4954 6: submission requires authentication first. */
      reply (self, 530, "5.7.0", "Authentication required", "smtp.reply.530");
      return;
    }
  if (!smtp_parse_path_argument (argument, "FROM:", &address, &parameters, &error_text))
    {
      reply (self, 501, "5.5.4", error_text, "smtp.reply.501");
      return;
    }
  if (!parameters_known (parameters))
    {
      reply (self, 555, "5.5.4", "Unsupported option in MAIL parameters", "smtp.reply.555");
      return;
    }
  if (parse_size_parameter (parameters, &declared_size, &bad_size) && declared_size > self->size_limit)
    {
      /* RFC 1870 6.1: a declared size over the limit is refused at MAIL. */
      reply (self, 552, "5.3.4", "Message size exceeds fixed limit", "smtp.reply.552");
      return;
    }
  if (bad_size)
    {
      reply (self, 501, "5.5.4", "Bad SIZE parameter", "smtp.reply.501");
      return;
    }
  SmtpReply answer = { 250, NULL, NULL };
  if (self->handler.check_sender != NULL)
    self->handler.check_sender (self, address, &answer, self->user_data);
  if (answer.code == SMTP_REPLY_PENDING)
    {
      self->pending = SMTP_VERB_MAIL;
      self->pending_path = g_steal_pointer (&address);
      return;
    }
  finish_mail (self, address, &answer);
  g_free (answer.enhanced);
  g_free (answer.text);
}

static void
handle_rcpt (SmtpServer *self, const char *argument)
{
  g_autofree char *address = NULL;
  g_autofree char *parameters = NULL;
  const char *error_text = NULL;
  SmtpReply answer = { 0 };

  if (self->state != STATE_MAIL && self->state != STATE_RCPT)
    {
      reply (self, 503, "5.5.1", "Error: need MAIL command", "smtp.reply.503");
      return;
    }
  if (!smtp_parse_path_argument (argument, "TO:", &address, &parameters, &error_text))
    {
      reply (self, 501, "5.5.4", error_text, "smtp.reply.501");
      return;
    }
  if (self->envelope.recipients->len >= SMTP_MAX_RECIPIENTS)
    {
      /* RFC 5321 4.5.3.1.10: too many recipients is a temporary failure. */
      reply (self, 452, "4.5.3", "Error: too many recipients", "smtp.reply.452.recipients");
      return;
    }
  answer.code = 250;
  self->handler.check_recipient (self, self->envelope.reverse_path, address, &answer, self->user_data);
  if (answer.code == SMTP_REPLY_PENDING)
    {
      self->pending = SMTP_VERB_RCPT;
      self->pending_path = g_steal_pointer (&address);
    }
  else
    finish_rcpt (self, address, &answer);
  g_free (answer.enhanced);
  g_free (answer.text);
}

static void
handle_data (SmtpServer *self, const char *argument)
{
  if (argument != NULL && *argument != '\0')
    {
      reply (self, 501, "5.5.4", "Syntax: DATA takes no argument", "smtp.reply.501");
      return;
    }
  if (self->state == STATE_MAIL)
    {
      /* RFC 5321 3.3: DATA with no accepted recipient is 503 (or 554). */
      reply (self, 503, "5.5.1", "Error: need RCPT command", "smtp.reply.503");
      return;
    }
  if (self->state != STATE_RCPT)
    {
      reply (self, 503, "5.5.1", "Error: need MAIL command", "smtp.reply.503");
      return;
    }
  self->state = STATE_DATA;
  reply (self, 354, NULL, "End data with <CR><LF>.<CR><LF>", "smtp.reply.354");
}

static void
finish_data (SmtpServer *self)
{
  g_autoptr (GPtrArray) replies = g_ptr_array_new_with_free_func ((GDestroyNotify) smtp_reply_free);
  guint expected = self->service == SMTP_SERVICE_LMTP ? self->envelope.recipients->len : 1;

  self->state = STATE_READY;
  if (self->content_too_big)
    {
      reply (self, 552, "5.3.4", "Error: message file too big", "smtp.reply.552");
      reset_transaction (self);
      return;
    }
  if (self->content_line_too_long)
    {
      /* RFC 5321 4.5.3.1.6: text lines over 1000 octets are an error; the
       * server cannot answer mid-stream, so it refuses the message here. */
      reply (self, 500, "5.5.2", "Error: message line longer than 1000 octets", "smtp.reply.line-too-long");
      reset_transaction (self);
      return;
    }
  g_autoptr (GBytes) content = g_bytes_new (self->content->str, self->content->len);
  self->handler.message (self, &self->envelope, content, replies, self->user_data);
  for (guint i = 0; i < expected; i++)
    {
      SmtpReply *answer = i < replies->len ? g_ptr_array_index (replies, i) : NULL;
      if (answer == NULL)
        reply (self, 451, "4.3.0", "Error: queue file write error", "smtp.reply.451");
      else
        reply (self, answer->code, answer->enhanced, answer->text,
               answer->code / 100 == 2 ? "smtp.reply.queued" : "smtp.reply.data-rejected");
    }
  reset_transaction (self);
}

static void
handle_auth (SmtpServer *self, const char *argument);

static gboolean
check_plain_response (SmtpServer *self, const char *encoded)
{
  gsize len = 0;
  g_autofree guchar *decoded = NULL;

  /* RFC 4616 2: message = [authzid] NUL authcid NUL passwd */
  if (encoded == NULL || *encoded == '\0')
    return FALSE;
  decoded = g_base64_decode (encoded, &len);
  if (decoded == NULL || len == 0)
    return FALSE;
  const char *first_nul = memchr (decoded, '\0', len);
  if (first_nul == NULL)
    return FALSE;
  const char *user = first_nul + 1;
  gsize rest = len - (gsize) (user - (const char *) decoded);
  const char *second_nul = memchr (user, '\0', rest);
  if (second_nul == NULL)
    return FALSE;
  g_autofree char *password = g_strndup (second_nul + 1, rest - (gsize) (second_nul + 1 - user));
  g_autofree char *user_copy = g_strndup (user, (gsize) (second_nul - user));
  if (!self->handler.authenticate (self, user_copy, password, self->user_data))
    return FALSE;
  self->auth_user = g_steal_pointer (&user_copy);
  return TRUE;
}

static void
auth_result (SmtpServer *self, gboolean ok)
{
  self->state = STATE_READY;
  if (ok)
    reply (self, 235, "2.7.0", "Authentication successful", "smtp.reply.235");
  else
    reply (self, 535, "5.7.8", "Error: authentication failed", "smtp.reply.535");
}

static void
handle_auth (SmtpServer *self, const char *argument)
{
  g_auto (GStrv) words = NULL;

  if (self->service != SMTP_SERVICE_SUBMISSION)
    {
      reply (self, 502, "5.5.1", "Error: authentication not enabled", "smtp.reply.502");
      return;
    }
  if (self->state == STATE_CONNECTED)
    {
      reply (self, 503, "5.5.1", "Error: send EHLO first", "smtp.reply.503");
      return;
    }
  if (self->auth_user != NULL)
    {
      /* RFC 4954 4: AUTH once authenticated is 503. */
      reply (self, 503, "5.5.1", "Error: already authenticated", "smtp.reply.503");
      return;
    }
  if (self->state != STATE_READY)
    {
      reply (self, 503, "5.5.1", "Error: MAIL transaction in progress", "smtp.reply.503");
      return;
    }
  if (argument == NULL || *argument == '\0')
    {
      reply (self, 501, "5.5.4", "Syntax: AUTH mechanism", "smtp.reply.501");
      return;
    }
  words = g_strsplit (argument, " ", 2);
  if (g_ascii_strcasecmp (words[0], "PLAIN") == 0)
    {
      if (words[1] == NULL)
        {
          self->state = STATE_AUTH_PLAIN;
          sim_transport_write_string (self->transport, "334 \r\n", "smtp.reply.334");
          return;
        }
      auth_result (self, check_plain_response (self, words[1]));
      return;
    }
  if (g_ascii_strcasecmp (words[0], "LOGIN") == 0)
    {
      /* "VXNlcm5hbWU6" is base64 for "Username:" (draft-murchison-sasl-login). */
      if (words[1] != NULL)
        {
          gsize len;
          g_autofree guchar *user = g_base64_decode (words[1], &len);
          self->auth_login_user = g_strndup ((const char *) user, len);
          self->state = STATE_AUTH_LOGIN_PASSWORD;
          sim_transport_write_string (self->transport, "334 UGFzc3dvcmQ6\r\n", "smtp.reply.334");
          return;
        }
      self->state = STATE_AUTH_LOGIN_USER;
      sim_transport_write_string (self->transport, "334 VXNlcm5hbWU6\r\n", "smtp.reply.334");
      return;
    }
  reply (self, 504, "5.5.4", "Unrecognized authentication type", "smtp.reply.504");
}

static void
handle_auth_line (SmtpServer *self, const char *line)
{
  /* RFC 4954 4: a client cancels the exchange with "*". */
  if (g_str_equal (line, "*"))
    {
      self->state = STATE_READY;
      g_clear_pointer (&self->auth_login_user, g_free);
      reply (self, 501, "5.7.0", "Authentication aborted", "smtp.reply.501");
      return;
    }
  switch (self->state)
    {
    case STATE_AUTH_PLAIN:
      auth_result (self, check_plain_response (self, line));
      break;
    case STATE_AUTH_LOGIN_USER:
      {
        gsize len;
        g_autofree guchar *user = g_base64_decode (line, &len);
        self->auth_login_user = g_strndup ((const char *) user, len);
        self->state = STATE_AUTH_LOGIN_PASSWORD;
        sim_transport_write_string (self->transport, "334 UGFzc3dvcmQ6\r\n", "smtp.reply.334");
        break;
      }
    case STATE_AUTH_LOGIN_PASSWORD:
      {
        gsize len;
        g_autofree guchar *password_raw = g_base64_decode (line, &len);
        g_autofree char *password = g_strndup ((const char *) password_raw, len);
        g_autofree char *user = g_steal_pointer (&self->auth_login_user);
        gboolean ok = user != NULL && self->handler.authenticate (self, user, password, self->user_data);
        if (ok)
          self->auth_user = g_steal_pointer (&user);
        auth_result (self, ok);
        break;
      }
    default:
      break;
    }
}

/* RFC 3207 4: STARTTLS, then the session starts over under TLS. */
static gboolean
handle_starttls (SmtpServer *self, const char *argument)
{
  if (!self->offer_starttls || self->service == SMTP_SERVICE_LMTP)
    {
      reply (self, 502, "5.5.1", "Error: command not implemented", "smtp.reply.502");
      return FALSE;
    }
  if (argument != NULL && *argument != '\0')
    {
      reply (self, 501, "5.5.4", "Syntax: STARTTLS", "smtp.reply.501");
      return FALSE;
    }
  if (self->tls)
    {
      reply (self, 503, "5.5.1", "Error: TLS already active", "smtp.reply.503");
      return FALSE;
    }
  if (self->state == STATE_CONNECTED)
    {
      reply (self, 503, "5.5.1", "Error: send EHLO first", "smtp.reply.503");
      return FALSE;
    }
  reply (self, 220, "2.0.0", "Ready to start TLS (simulated)", "smtp.reply.starttls");
  sim_transport_start_tls (self->transport);
  /* RFC 3207 4.2: forget everything learnt before; the client must EHLO
   * again, and any AUTH or transaction is void. */
  self->tls = TRUE;
  reset_transaction (self);
  g_clear_pointer (&self->helo, g_free);
  g_clear_pointer (&self->auth_user, g_free);
  self->state = STATE_CONNECTED;
  return TRUE;
}

static void
handle_command (SmtpServer *self, const char *line)
{
  const char *argument = NULL;
  SmtpVerb verb = smtp_verb_parse (line, &argument);

  switch (verb)
    {
    case SMTP_VERB_HELO:
    case SMTP_VERB_EHLO:
    case SMTP_VERB_LHLO:
      handle_hello (self, verb, argument);
      break;
    case SMTP_VERB_MAIL:
      handle_mail (self, argument);
      break;
    case SMTP_VERB_RCPT:
      handle_rcpt (self, argument);
      break;
    case SMTP_VERB_DATA:
      handle_data (self, argument);
      break;
    case SMTP_VERB_RSET:
      reset_transaction (self);
      if (self->state != STATE_CONNECTED)
        self->state = STATE_READY;
      reply (self, 250, "2.0.0", "Ok", "smtp.reply.rset");
      break;
    case SMTP_VERB_NOOP:
      reply (self, 250, "2.0.0", "Ok", "smtp.reply.noop");
      break;
    case SMTP_VERB_VRFY:
      if (argument == NULL || *argument == '\0')
        reply (self, 501, "5.5.4", "Syntax: VRFY address", "smtp.reply.501");
      else
        /* RFC 5321 3.5.3: 252 says "cannot verify, but will try to deliver";
         * most servers answer so rather than reveal who has a mailbox. */
        reply (self, 252, "2.0.0", argument, "smtp.reply.252");
      break;
    case SMTP_VERB_EXPN:
      reply (self, 502, "5.5.1", "Error: command not implemented", "smtp.reply.502");
      break;
    case SMTP_VERB_HELP:
      reply (self, 214, "2.0.0",
             "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT\nSee RFC 5321", "smtp.reply.214");
      break;
    case SMTP_VERB_QUIT:
      {
        g_autofree char *text = g_strdup_printf ("%s closing connection", self->hostname);
        reply (self, 221, "2.0.0", text, "smtp.reply.221");
        close_session (self);
        break;
      }
    case SMTP_VERB_AUTH:
      handle_auth (self, argument);
      break;
    case SMTP_VERB_STARTTLS:
      handle_starttls (self, argument);
      break;
    case SMTP_VERB_UNKNOWN:
    default:
      reply (self, 500, "5.5.2", "Error: command not recognized", "smtp.reply.500");
      break;
    }
}

/* One line of message content (without its line ending). */
static void
handle_content_line (SmtpServer *self, const char *line, gsize len)
{
  if (len == 1 && line[0] == '.')
    {
      finish_data (self);
      return;
    }
  /* RFC 5321 4.5.2: remove the dot a client added to a line that began with one. */
  if (len > 0 && line[0] == '.')
    {
      line++;
      len--;
    }
  if (len + 2 > SMTP_MAX_TEXT_LINE)
    self->content_line_too_long = TRUE;
  if (self->content->len + len + 2 > self->size_limit)
    {
      /* Keep counting but stop storing: memory stays bounded. */
      self->content_too_big = TRUE;
      return;
    }
  g_string_append_len (self->content, line, (gssize) len);
  g_string_append (self->content, "\r\n");
}

gboolean
smtp_server_is_pending (const SmtpServer *self)
{
  return self->pending != SMTP_VERB_UNKNOWN;
}

void
smtp_server_resume (SmtpServer *self, const SmtpReply *answer)
{
  SmtpVerb verb = self->pending;
  g_autofree char *path = g_steal_pointer (&self->pending_path);

  if (verb == SMTP_VERB_UNKNOWN || self->state == STATE_CLOSED)
    return;
  self->pending = SMTP_VERB_UNKNOWN;
  if (verb == SMTP_VERB_MAIL)
    finish_mail (self, path, answer);
  else
    finish_rcpt (self, path, answer);
  /* The commands pipelined behind it are read now. */
  smtp_server_feed (self, NULL, 0);
}

void
smtp_server_feed (SmtpServer *self, const guint8 *data, gsize len)
{
  gsize start = 0;

  if (self->state == STATE_CLOSED)
    return;
  if (len > 0)
    g_byte_array_append (self->input, data, (guint) len);
  while (self->state != STATE_CLOSED && self->pending == SMTP_VERB_UNKNOWN)
    {
      guint8 *buffer = self->input->data + start;
      gsize available = self->input->len - start;
      guint8 *newline = memchr (buffer, '\n', available);
      gsize limit = self->state == STATE_DATA ? SMTP_MAX_TEXT_LINE : SMTP_MAX_COMMAND_LINE;

      if (newline == NULL)
        {
          if (available > limit + 1)
            {
              /* An over-long line: answer now, drop what came, and skip
               * the rest of it when its end arrives. */
              if (self->state == STATE_DATA)
                self->content_line_too_long = TRUE;
              else if (!self->discarding)
                reply (self, 500, "5.5.2", "Error: line too long", "smtp.reply.line-too-long");
              self->discarding = TRUE;
              start = self->input->len;
            }
          break;
        }
      gsize line_length = (gsize) (newline - buffer);
      start += line_length + 1;
      if (self->discarding)
        {
          self->discarding = FALSE;
          continue;
        }
      if (line_length > 0 && buffer[line_length - 1] == '\r')
        line_length--;
      if (self->state == STATE_DATA)
        {
          handle_content_line (self, (const char *) buffer, line_length);
          continue;
        }
      if (line_length + 2 > SMTP_MAX_COMMAND_LINE)
        {
          reply (self, 500, "5.5.2", "Error: line too long", "smtp.reply.line-too-long");
          continue;
        }
      g_autofree char *line = g_strndup ((const char *) buffer, line_length);
      if (strlen (line) != line_length)
        {
          /* A NUL byte inside a command: binary garbage. */
          reply (self, 500, "5.5.2", "Error: command contains a NUL byte", "smtp.reply.500");
          continue;
        }
      if (self->state == STATE_AUTH_PLAIN || self->state == STATE_AUTH_LOGIN_USER
          || self->state == STATE_AUTH_LOGIN_PASSWORD)
        handle_auth_line (self, line);
      else
        {
          gboolean was_tls = self->tls;
          handle_command (self, line);
          if (!was_tls && self->tls)
            {
              /* Bytes that came before the TLS handshake must not be taken
               * as sent under TLS (the STARTTLS injection flaw of 2011). */
              start = self->input->len;
              break;
            }
        }
    }
  if (self->state == STATE_CLOSED)
    g_byte_array_set_size (self->input, 0);
  else
    g_byte_array_remove_range (self->input, 0, (guint) start);
}
