/* scenario-syntax.h: the lexical and block syntax of scenario files.
 *
 * A scenario file (scenarios/NAME.mailsim) is written by hand by instructors.
 * This module turns its text into a tree of statements with exact positions;
 * sim/scenario's interpreter gives the statements their meaning.
 *
 *   # a comment runs to the end of the line
 *   node smtp.example.com {
 *     kind mta
 *     address 192.0.2.25; domain example.com
 *   }
 *   at 1s send alice@example.com -> bob@example.org \
 *      subject "Hello" body "Hi Bob,\nsee you."
 *
 * - A statement is a sequence of words on one line, ended by a newline, a ';',
 *   a '}' or the end of the file.  Empty statements are ignored.
 * - A statement may end with '{', which opens a block of child statements
 *   closed by '}'.  Child statements may follow '{' on the same line.
 * - A word is bare (a run of bytes other than whitespace, control characters,
 *   '{', '}', ';', '"' and '#'; so 10.0.0.1, 250ms, bob@example.org and -> are
 *   single words) or a double-quoted string.  Strings may span lines and know
 *   the escapes \" \\ \n and \t, no others.  A quoted word must be separated
 *   from its neighbours by whitespace.
 * - A backslash ending the last bare word of a line (trailing spaces and a
 *   comment may follow it) continues the statement on the next line.
 * - '#' starts a comment outside strings.
 * - The file is UTF-8 without NUL bytes; CRLF line endings are accepted (a CR
 *   is whitespace; inside a string, CRLF becomes LF).
 *
 * Positions are 1-based lines and 1-based columns counted in bytes (a tab and
 * each byte of a UTF-8 sequence count one), as editors' "go to line:column"
 * and GCC-style "file:line:column" messages expect.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SCENARIO_ERROR (scenario_error_quark ())
typedef enum
{
  SCENARIO_ERROR_SYNTAX,     /* the text does not follow the rules above */
  SCENARIO_ERROR_SEMANTIC,   /* well-formed statements that mean nothing valid */
  SCENARIO_ERROR_IO,         /* the file could not be read */
} ScenarioError;
GQuark scenario_error_quark (void);

/* The limits hostile or mistaken input runs into, each with its own error. */
#define SCENARIO_MAX_FILE_SIZE (4 * 1024 * 1024)   /* bytes */
#define SCENARIO_MAX_WORD_LENGTH (64 * 1024)       /* bytes of a word's text */
#define SCENARIO_MAX_DEPTH 16                      /* blocks nested in blocks */
#define SCENARIO_MAX_WORDS 250000                  /* words in one file */

typedef struct
{
  char *text;          /* UTF-8; escapes of quoted words already decoded */
  guint line;          /* of the word's first byte (the opening '"' if quoted) */
  guint column;
  gboolean quoted;     /* written as "..." (so never a keyword by accident) */
} ScenarioWord;

typedef struct _ScenarioStatement ScenarioStatement;
struct _ScenarioStatement
{
  GPtrArray *words;      /* ScenarioWord*, at least one except for the root */
  GPtrArray *children;   /* ScenarioStatement*, NULL when the statement has no block */
  guint line, column;    /* of the first word; 1:1 for the root */
  guint close_line, close_column;  /* of the block's '}'; the end of the file for
                                    * the root; 0 without a block */
  guint open_line, open_column;    /* of the block's '{'; 0 without a block and for the root */
};

/* Parses @text (@length bytes, not necessarily NUL-terminated) named
 * @filename in messages.  Returns (transfer full) the root statement (no
 * words; children = the top-level statements), or NULL with a
 * SCENARIO_ERROR_SYNTAX whose message is "FILE:LINE:COLUMN: what was found,
 * what was expected; hint", e.g.
 *   "first.mailsim:12:1: unexpected end of file inside the block opened at 4:22; expected '}'"
 * Input longer than SCENARIO_MAX_FILE_SIZE is refused before it is read. */
ScenarioStatement *scenario_syntax_parse (const char *filename, const char *text,
                                          gsize length, GError **error);

void scenario_statement_free (ScenarioStatement *statement);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScenarioStatement, scenario_statement_free)

/* The first word's text, or NULL for the root. */
const char *scenario_statement_keyword (const ScenarioStatement *statement);
/* The word at @index (0 = the keyword), or NULL past the last word. */
const ScenarioWord *scenario_statement_word (const ScenarioStatement *statement, guint index);

/* Sets a SCENARIO_ERROR_SEMANTIC "FILE:LINE:COLUMN: message" error, for the
 * interpreter to report at a word (ScenarioWord's line and column). */
void scenario_set_error_at (GError **error, const char *filename, guint line, guint column,
                            const char *format, ...) G_GNUC_PRINTF (5, 6);

/* The candidate closest to @word by edit distance (optimal-string-alignment
 * Damerau-Levenshtein over Unicode characters, case-insensitive) when it is
 * a plausible typo (distance <= max (1, characters of @word / 3)), else NULL;
 * the first candidate wins a tie.  For "did you mean 'mx.example.org'?" hints.
 * @n_candidates may be -1 for a NULL-terminated array; NULL entries are skipped.
 * Returns (transfer none) one of @candidates. */
const char *scenario_suggest (const char *word, const char *const *candidates,
                              gsize n_candidates);

G_END_DECLS
