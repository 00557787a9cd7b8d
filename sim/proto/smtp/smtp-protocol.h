/* smtp-protocol.h: SMTP commands, replies and paths (RFC 5321), shared by
 * the server and the client. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF. */
#define SMTP_MAX_COMMAND_LINE 512
/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets including CRLF. */
#define SMTP_MAX_REPLY_LINE 512
/* RFC 5321 4.5.3.1.6: a text line is at most 1000 octets including CRLF. */
#define SMTP_MAX_TEXT_LINE 1000
/* RFC 5321 4.5.3.1.8: a server must accept at least 100 recipients. */
#define SMTP_MAX_RECIPIENTS 100
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets. */
#define SMTP_MAX_PATH 256

typedef enum
{
  SMTP_VERB_UNKNOWN,
  SMTP_VERB_HELO,
  SMTP_VERB_EHLO,
  SMTP_VERB_LHLO,
  SMTP_VERB_MAIL,
  SMTP_VERB_RCPT,
  SMTP_VERB_DATA,
  SMTP_VERB_RSET,
  SMTP_VERB_NOOP,
  SMTP_VERB_VRFY,
  SMTP_VERB_EXPN,
  SMTP_VERB_HELP,
  SMTP_VERB_QUIT,
  SMTP_VERB_AUTH,
  SMTP_VERB_STARTTLS,
} SmtpVerb;

/* Splits a command line (without CRLF) into its verb and the argument
 * after the first space (NULL when none).  Verbs are case-insensitive
 * (RFC 5321 2.4).  *argument points into @line. */
SmtpVerb smtp_verb_parse (const char *line, const char **argument);
const char *smtp_verb_to_string (SmtpVerb verb);

/* Parses "FROM:<path> params" or "TO:<path> params" (RFC 5321 4.1.2).
 * @keyword is "FROM:" or "TO:".  The null reverse-path "<>" gives an empty
 * address.  Returns FALSE with a reason in @error_text. */
gboolean smtp_parse_path_argument (const char *argument, const char *keyword,
                                   char **address, char **parameters, const char **error_text);

/* The domain of an address ("bob@example.org" -> "example.org"), or NULL. */
const char *smtp_address_domain (const char *address);

/* One reply, possibly multi-line. */
typedef struct
{
  guint code;
  char *enhanced;   /* "2.1.0" or NULL (RFC 3463) */
  char *text;       /* lines joined by '\n', enhanced code removed */
} SmtpReply;

SmtpReply *smtp_reply_new (guint code, const char *enhanced, const char *text);
SmtpReply *smtp_reply_copy (const SmtpReply *reply);
void smtp_reply_free (SmtpReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpReply, smtp_reply_free)
/* "250 2.1.0 Ok" on one line, for people. (transfer full) */
char *smtp_reply_to_string (const SmtpReply *reply);

/* Parses one reply line "250-text" or "250 text" (RFC 5321 4.2).
 * Returns FALSE for a line that is not a reply. */
gboolean smtp_reply_line_parse (const char *line, guint *code, gboolean *last, const char **text);

/* Formats @reply (several lines when text has '\n') with CRLF endings,
 * the enhanced code repeated on every line as RFC 2034 asks. */
GString *smtp_reply_format (guint code, const char *enhanced, const char *text);

/* Dot-stuffing (RFC 5321 4.5.2): returns the content with a leading '.'
 * doubled on each line, lines ending CRLF, and the final ".\r\n". */
GBytes *smtp_dot_stuff (GBytes *content);

G_END_DECLS
