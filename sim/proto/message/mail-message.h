/* mail-message.h: the few RFC 5322 operations the MTAs and checks need.
 *
 * Messages travel as bytes with CRLF line endings; these functions read and
 * add header fields without parsing the whole message into a tree.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"

G_BEGIN_DECLS

/* RFC 5322 2.1.1: a line is at most 998 characters plus CRLF. */
#define MAIL_MAX_LINE 998

/* The first header field named @name (case-insensitive), unfolded
 * (RFC 5322 2.2.3) and trimmed, or NULL.  (transfer full) */
char *mail_message_get_header (GBytes *message, const char *name);

/* How many header fields are named @name. */
guint mail_message_count_headers (GBytes *message, const char *name);

/* A new message with "Name: value" CRLF prepended, as MTAs add trace
 * fields at the top (RFC 5321 4.4). */
GBytes *mail_message_prepend_header (GBytes *message, const char *name, const char *value);

/* A new message with "Name: value" CRLF appended to the header section. */
GBytes *mail_message_append_header (GBytes *message, const char *name, const char *value);

/* Offset of the body (after the empty line), or the length when none. */
gsize mail_message_body_offset (GBytes *message);

/* Builds a message from a user's form.  @body uses '\n' line ends;
 * Date and Message-ID are left to the submission server (RFC 6409 8). */
GBytes *mail_message_compose (const char *from, const char *to, const char *subject, const char *body);

G_END_DECLS
