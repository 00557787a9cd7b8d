/* imap-parser.h: reading and writing the tokens of IMAP4rev1 (RFC 3501 9).
 *
 * Both the server (commands) and the client (responses) read a whole
 * command or response at once: the lines and the literals that continue
 * them, as one buffer without the final CRLF.  The reader checks every
 * length before it reads; a read that fails leaves the position where it
 * was and returns FALSE or NULL, which the caller answers with BAD.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 3501 sets no line limit; RFC 7162 3.2.1 asks servers to accept lines
 * of at least 8192 octets, and that is the limit here. */
#define IMAP_MAX_LINE 8192
/* The largest literal (an APPEND message, a FETCH body) either side
 * accepts.  RFC 3501 7.5 lets a server refuse a literal with BAD. */
#define IMAP_MAX_LITERAL (4 * 1024 * 1024)
/* A command or response with several literals stays below this. */
#define IMAP_MAX_COMMAND (IMAP_MAX_LITERAL + 16 * IMAP_MAX_LINE)

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} ImapParser;

void imap_parser_init (ImapParser *self, const guint8 *data, gsize len);
gboolean imap_parser_at_end (const ImapParser *self);
/* The next octet without consuming it; FALSE at the end. */
gboolean imap_parser_peek (const ImapParser *self, char *c);
/* Consumes @c if it comes next. */
gboolean imap_parser_skip_char (ImapParser *self, char c);
/* Consumes @word (case-insensitive) if it comes next as a whole token. */
gboolean imap_parser_skip_word (ImapParser *self, const char *word);
gboolean imap_parser_skip_space (ImapParser *self);
/* The rest of the input as text (a human-readable response text). (transfer full) */
char *imap_parser_read_rest (ImapParser *self);

/* Each returns NULL (or FALSE) and consumes nothing when the next token
 * is not of that kind. (transfer full) */
char *imap_parser_read_tag (ImapParser *self);
char *imap_parser_read_atom (ImapParser *self);
/* A flag: "\Seen" or a keyword atom. */
char *imap_parser_read_flag (ImapParser *self);
/* quoted / literal (RFC 3501 4.3), as bytes: a literal may hold anything. */
GBytes *imap_parser_read_string (ImapParser *self);
/* atom / quoted / literal, as text: refuses NUL octets. */
char *imap_parser_read_astring (ImapParser *self);
/* NIL / string */
gboolean imap_parser_read_nstring (ImapParser *self, GBytes **out);
/* LIST patterns may hold the wildcards % and * (RFC 3501 6.3.8). */
char *imap_parser_read_list_mailbox (ImapParser *self);
gboolean imap_parser_read_number (ImapParser *self, guint32 *out);
/* The text of a sequence set: digits, ':', ',' and '*'. */
char *imap_parser_read_sequence_set (ImapParser *self);

/* ---- sequence sets (RFC 3501 9, sequence-set) ---- */

/* '*' is kept as 0, which no message number or UID can be. */
#define IMAP_SEQUENCE_STAR 0

typedef struct
{
  guint32 first;
  guint32 last;
} ImapRange;

/* Parses "1:3,5,7:*" into ranges. (transfer full) of ImapRange */
GArray *imap_sequence_set_parse (const char *text);
/* Whether @value is in the set, where '*' stands for @star (the largest
 * number in use; 55:* includes @star even when 55 > @star, RFC 3501 6.4.8). */
gboolean imap_sequence_set_contains (const GArray *ranges, guint32 value, guint32 star);
/* The largest explicit number of the set, for checking sequence numbers. */
guint32 imap_sequence_set_max (const GArray *ranges, guint32 star);

/* ---- writing ---- */

/* Appends @text as an atom when it can be one, else as a quoted string,
 * else as a literal (RFC 3501 4.1-4.3). */
void imap_append_astring (GString *out, const char *text);
/* Appends a string: quoted when it is short 7-bit text without CR, LF,
 * '"' problems, else a literal. */
void imap_append_string (GString *out, const guint8 *data, gsize len);
/* Whether imap_append_astring() would have to write @text as a literal,
 * which a client may send only after the server's "+" (RFC 3501 7.5). */
gboolean imap_astring_needs_literal (const char *text);
/* NIL for NULL */
void imap_append_nstring (GString *out, const char *text);
void imap_append_literal (GString *out, const guint8 *data, gsize len);

G_END_DECLS
