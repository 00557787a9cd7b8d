/* imap-message.h: the parts of an RFC 5322 message that IMAP FETCH and
 * SEARCH look into: header and body, header fields, ENVELOPE and BODY
 * structure (RFC 3501 6.4.5 and 7.4.2).  Tolerant of bare LF line ends,
 * never reads past the message.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The header is everything up to and including the empty line that ends
 * it (RFC 3501 6.4.5, BODY[HEADER]); the body is what follows. */
void imap_message_split (GBytes *message, gsize *header_len, gsize *body_offset);

/* The first field called @name, unfolded, without the name and colon. (transfer full) or NULL */
char *imap_message_get_header (GBytes *message, const char *name);

/* The header fields named in @names (or every other one when @exclude),
 * each with its folded lines, followed by an empty line
 * (BODY[HEADER.FIELDS (...)] and BODY[HEADER.FIELDS.NOT (...)]). */
GBytes *imap_message_header_fields (GBytes *message, const char *const *names, gboolean exclude);

/* Appends the parenthesised ENVELOPE of RFC 3501 7.4.2. */
void imap_message_append_envelope (GString *out, GBytes *message);

/* Appends BODY or BODYSTRUCTURE (@extensible) for a single-part message,
 * and for a multipart one with its parts (RFC 3501 7.4.2). */
void imap_message_append_body_structure (GString *out, GBytes *message, gboolean extensible);

/* Case-insensitive substring search over ASCII, as SEARCH does (RFC 3501 6.4.4). */
gboolean imap_message_contains (const guint8 *data, gsize len, const char *needle);

G_END_DECLS
