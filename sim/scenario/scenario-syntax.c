/* scenario-syntax.c: scenario text to a statement tree, tokenized by GScanner. */
#include "scenario/scenario-syntax.h"

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (scenario-error-quark, scenario_error)

/* Whitespace between words.  '\n' is not among them: it ends statements, so
 * GScanner must hand it over as a token. */
#define SKIP_CHARACTERS " \t\r\f\v"

/* Words longer than this (in characters) get no suggestion: no typo is that long. */
#define SUGGEST_MAX_LENGTH 256

static const char utf8_byte_order_mark[] = "\xEF\xBB\xBF";

typedef enum
{
  TOKEN_WORD,
  TOKEN_END_OF_LINE,      /* '\n', or a comment: GScanner's comment swallows its '\n' */
  TOKEN_SEMICOLON,
  TOKEN_OPEN_BRACE,
  TOKEN_CLOSE_BRACE,
  TOKEN_END_OF_FILE,
} TokenKind;

typedef struct
{
  TokenKind kind;
  gsize start, end;       /* byte offsets in the text, end exclusive */
  guint line, column;     /* of start */
  gboolean first_on_line; /* only blanks before it on its line */
  char *text;             /* TOKEN_WORD: the word, owned */
  gboolean quoted;
} Token;

typedef struct
{
  const char *filename;
  const char *text;
  gsize length;
  GError **error;

  GScanner *scanner;
  char word_characters[256];

  /* A cursor over the text for turning offsets into lines and back; it only
   * moves forward while parsing, so positions cost O(length) in total.  No
   * '\n' lies in [line_start, scanned). */
  guint line;
  gsize line_start;
  gsize scanned;

  /* The token before, as GScanner returned it, and one read ahead for the
   * line continuation. */
  TokenKind previous_kind;
  gsize previous_end;
  gboolean previous_quoted;
  gboolean has_previous;
  Token pending;
  gboolean has_pending;

  /* The last quoted word spanning lines: the likely culprit when a later
   * string never ends. */
  guint multi_line_string_line, multi_line_string_column;

  ScenarioStatement *root;
  GPtrArray *open_blocks;        /* ScenarioStatement*, not owned: root first, innermost last */
  ScenarioStatement *current;    /* the statement collecting words, or NULL between statements */
  ScenarioStatement *last_ended; /* the statement ended by the last line end, for hints */
  guint n_words;
} Parser;

/* ---- errors ---- */

static void
set_error_valist (GError **error, ScenarioError code, const char *filename,
                  guint line, guint column, const char *format, va_list args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  g_set_error (error, SCENARIO_ERROR, code, "%s:%u:%u: %s", filename, line, column, message);
}

void
scenario_set_error_at (GError **error, const char *filename, guint line, guint column,
                       const char *format, ...)
{
  va_list args;

  va_start (args, format);
  set_error_valist (error, SCENARIO_ERROR_SEMANTIC, filename, line, column, format, args);
  va_end (args);
}

static void
syntax_error (Parser *p, guint line, guint column, const char *format, ...) G_GNUC_PRINTF (4, 5);

static void
syntax_error (Parser *p, guint line, guint column, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  set_error_valist (p->error, SCENARIO_ERROR_SYNTAX, p->filename, line, column, format, args);
  va_end (args);
}

/* ---- positions ---- */

static void
parser_rewind (Parser *p)
{
  p->line = 1;
  p->line_start = 0;
  p->scanned = 0;
}

static void
parser_locate (Parser *p, gsize offset, guint *line, guint *column)
{
  if (offset < p->line_start)
    parser_rewind (p);
  while (p->scanned < offset)
    {
      const char *newline = memchr (p->text + p->scanned, '\n', offset - p->scanned);

      if (newline == NULL)
        {
          p->scanned = offset;
          break;
        }
      p->line++;
      p->line_start = p->scanned = (gsize) (newline - p->text) + 1;
    }
  *line = p->line;
  *column = (guint) (offset - p->line_start) + 1;
}

/* The offset GScanner has read up to.  GScanner counts scanner->line from 1,
 * adding one for every '\n' it consumes, and scanner->position as the bytes
 * consumed since the last '\n' (so, after a token, the 1-based column of its
 * last byte).  It also adds one to the position when it meets the end of the
 * text inside a string or comment: hence the clamp. */
static gsize
parser_scanner_offset (Parser *p)
{
  guint line = p->scanner->line;

  if (line < p->line)
    parser_rewind (p);
  while (p->line < line)
    {
      const char *newline = memchr (p->text + p->scanned, '\n', p->length - p->scanned);

      if (newline == NULL)
        break;
      p->line++;
      p->line_start = p->scanned = (gsize) (newline - p->text) + 1;
    }
  return MIN (p->line_start + p->scanner->position, p->length);
}

static gboolean
is_blank (char c)
{
  return c != '\0' && strchr (SKIP_CHARACTERS, c) != NULL;
}

/* ---- the checks GScanner cannot make ---- */

/* GScanner treats a NUL byte as the end of its input and knows nothing of
 * UTF-8, so both are checked over the whole text before it starts. */
static gboolean
parser_check_encoding (Parser *p)
{
  const char *nul = memchr (p->text, '\0', p->length);
  const char *invalid = NULL;
  guint line, column;

  if (nul != NULL)
    {
      parser_locate (p, (gsize) (nul - p->text), &line, &column);
      syntax_error (p, line, column, "NUL byte where text was expected; "
                    "save the file as UTF-8 text (not UTF-16) and remove the byte");
      return FALSE;
    }
  if (!g_utf8_validate_len (p->text, p->length, &invalid))
    {
      parser_locate (p, (gsize) (invalid - p->text), &line, &column);
      syntax_error (p, line, column, "byte 0x%02X is not valid UTF-8; save the file as UTF-8",
                    (guchar) *invalid);
      return FALSE;
    }
  return TRUE;
}

/* GScanner decodes \r, \b, \f, octal escapes and drops the backslash of any
 * other escape; scenario strings allow \" \\ \n \t only, so that "C:\temp"
 * or "\d" are reported rather than silently changed.  Checked on the raw
 * text of the string, between its quotes. */
static gboolean
parser_check_escapes (Parser *p, const Token *token)
{
  for (gsize i = token->start + 1; i + 1 < token->end; i++)
    {
      char next;
      guint line, column;

      if (p->text[i] != '\\')
        continue;
      next = p->text[i + 1];
      if (next == '"' || next == '\\' || next == 'n' || next == 't')
        {
          i++;
          continue;
        }
      parser_locate (p, i, &line, &column);
      if (next == '\n' || next == '\r')
        syntax_error (p, line, column, "backslash at the end of a line inside a string; "
                      "a string may span lines as it is: remove the backslash, "
                      "or write \\n for a line break");
      else if (g_ascii_isprint (next))
        syntax_error (p, line, column, "unknown escape '\\%c' in a string, expected "
                      "\\\" \\\\ \\n or \\t; write \\\\ for a backslash", next);
      else
        syntax_error (p, line, column, "unknown escape in a string, expected "
                      "\\\" \\\\ \\n or \\t; write \\\\ for a backslash");
      return FALSE;
    }
  return TRUE;
}

/* A string's line breaks are the file's: CRLF in a CRLF file becomes LF.
 * GScanner's value keeps the CR, so the raw text (with its escapes checked:
 * one value byte per escape, one per other raw byte) says which CRs to drop;
 * an escaped \n after a CR is not a CRLF. */
static char *
string_value_with_file_line_breaks (const char *raw, gsize raw_length, const char *value)
{
  GString *result = g_string_sized_new (raw_length);
  gsize j = 0;

  for (gsize i = 0; i < raw_length && value[j] != '\0'; i++, j++)
    {
      if (raw[i] == '\\')
        i++;
      else if (raw[i] == '\r' && i + 1 < raw_length && raw[i + 1] == '\n')
        continue;
      g_string_append_c (result, value[j]);
    }
  return g_string_free (result, FALSE);
}

/* ---- tokens ---- */

static void
token_clear (Token *token)
{
  g_clear_pointer (&token->text, g_free);
}

/* When a string never ends, or a word touches a closing quote, the mistake
 * is often a missing '"' further up: the string that spans lines swallowed
 * the text up to the next '"'. */
static const char *
parser_culprit_hint (Parser *p, char **hint)
{
  if (p->multi_line_string_line == 0)
    return "";
  *hint = g_strdup_printf (" (or the string at %u:%u, which spans lines, lacks its closing '\"')",
                           p->multi_line_string_line, p->multi_line_string_column);
  return *hint;
}

static gboolean
parser_check_word (Parser *p, const Token *token)
{
  gsize length = strlen (token->text);

  if (length > SCENARIO_MAX_WORD_LENGTH)
    {
      syntax_error (p, token->line, token->column,
                    "word of %" G_GSIZE_FORMAT " bytes, longer than the %u a word may have; "
                    "shorten it", length, SCENARIO_MAX_WORD_LENGTH);
      return FALSE;
    }
  /* Two bare words cannot touch (they would be one word), but a quoted word
   * can touch anything; usually a '"' meant to be inside a string.  A lone
   * backslash after a string is a line continuation, not a word. */
  if (p->has_previous && p->previous_kind == TOKEN_WORD && p->previous_end == token->start
      && !(!token->quoted && strcmp (token->text, "\\") == 0))
    {
      g_autofree char *hint = NULL;

      if (p->previous_quoted)
        syntax_error (p, token->line, token->column,
                      "word directly after a closing '\"', expected a space; "
                      "to put a '\"' inside a string, write \\\"%s",
                      parser_culprit_hint (p, &hint));
      else
        syntax_error (p, token->line, token->column,
                      "'\"' directly after a word, expected a space before the string; "
                      "to put a '\"' inside a string, write \\\"");
      return FALSE;
    }
  return TRUE;
}

static gboolean
parser_scan_string (Parser *p, Token *token)
{
  const char *value = p->scanner->value.v_string;

  token->kind = TOKEN_WORD;
  token->quoted = TRUE;
  if (!parser_check_escapes (p, token))
    return FALSE;
  if (strchr (value, '\r') != NULL)
    token->text = string_value_with_file_line_breaks (p->text + token->start + 1,
                                                      token->end - token->start - 2, value);
  else
    token->text = g_strdup (value);
  if (memchr (p->text + token->start, '\n', token->end - token->start) != NULL)
    {
      p->multi_line_string_line = token->line;
      p->multi_line_string_column = token->column;
    }
  return TRUE;
}

static void
parser_report_unterminated_string (Parser *p, const Token *token)
{
  g_autofree char *hint = NULL;

  syntax_error (p, token->line, token->column,
                "unterminated string started here; add a closing '\"'%s",
                parser_culprit_hint (p, &hint));
}

/* Reads one token from GScanner.  GScanner gives no token's start, only where
 * it stopped reading: the start is where it stopped before, past the blanks it
 * skipped (blanks only, since comments and newlines are tokens here). */
static gboolean
parser_scan (Parser *p, Token *token)
{
  gsize before = parser_scanner_offset (p);
  GTokenType type = g_scanner_get_next_token (p->scanner);
  gsize start = before;

  while (start < p->length && is_blank (p->text[start]))
    start++;
  *token = (Token) { .start = start };
  token->first_on_line = !p->has_previous || p->previous_kind == TOKEN_END_OF_LINE;
  parser_locate (p, start, &token->line, &token->column);
  token->end = MAX (parser_scanner_offset (p), start);

  switch ((int) type)
    {
    case G_TOKEN_EOF:
      token->kind = TOKEN_END_OF_FILE;
      break;
    case G_TOKEN_IDENTIFIER:
      token->kind = TOKEN_WORD;
      token->text = g_strdup (p->scanner->value.v_identifier);
      break;
    case G_TOKEN_STRING:
      if (!parser_scan_string (p, token))
        return FALSE;
      break;
    case G_TOKEN_COMMENT_SINGLE:
    case '\n':
      token->kind = TOKEN_END_OF_LINE;
      break;
    case ';':
      token->kind = TOKEN_SEMICOLON;
      break;
    case '{':
      token->kind = TOKEN_OPEN_BRACE;
      break;
    case '}':
      token->kind = TOKEN_CLOSE_BRACE;
      break;
    case G_TOKEN_ERROR:
      /* A comment on the last line, with no '\n' after it, is GScanner's
       * "unterminated comment"; here it simply ends the file. */
      if (p->scanner->value.v_error == G_ERR_UNEXP_EOF_IN_COMMENT)
        {
          token->kind = TOKEN_END_OF_LINE;
          break;
        }
      if (p->scanner->value.v_error == G_ERR_UNEXP_EOF_IN_STRING)
        parser_report_unterminated_string (p, token);
      else
        syntax_error (p, token->line, token->column, "unreadable text (GScanner error %d); "
                      "check the characters here", p->scanner->value.v_error);
      return FALSE;
    default:
      /* With char_2_token, a byte that neither starts a word nor is skipped
       * comes back as itself: the control characters. */
      if ((int) type > 0 && (int) type < 256)
        syntax_error (p, token->line, token->column,
                      "control character 0x%02X where a word was expected; remove it "
                      "(spaces and tabs separate words)", (guint) type);
      else
        syntax_error (p, token->line, token->column, "unreadable text (GScanner token %d); "
                      "check the characters here", (int) type);
      return FALSE;
    }

  if (token->kind == TOKEN_WORD && !parser_check_word (p, token))
    {
      token_clear (token);
      return FALSE;
    }
  p->has_previous = TRUE;
  p->previous_kind = token->kind;
  p->previous_end = token->end;
  p->previous_quoted = token->quoted;
  return TRUE;
}

static gboolean
is_continuation (const Token *token)
{
  return token->kind == TOKEN_WORD && !token->quoted && g_str_has_suffix (token->text, "\\");
}

/* The next token after line continuations.  GScanner cannot see that a
 * backslash before a line end joins two lines (it would need to look a
 * whole token ahead), so the joining happens here: a bare word ending in
 * '\' and followed by the end of the line loses its backslash, and the line
 * end is dropped. */
static gboolean
parser_next (Parser *p, Token *token)
{
  for (;;)
    {
      Token after;

      if (p->has_pending)
        {
          *token = p->pending;
          p->has_pending = FALSE;
        }
      else if (!parser_scan (p, token))
        return FALSE;

      if (!is_continuation (token))
        return TRUE;
      if (!parser_scan (p, &after))
        {
          token_clear (token);
          return FALSE;
        }
      if (after.kind != TOKEN_END_OF_LINE)
        {
          p->pending = after;
          p->has_pending = TRUE;
        }
      if (after.kind != TOKEN_END_OF_LINE && after.kind != TOKEN_END_OF_FILE)
        return TRUE;

      token->text[strlen (token->text) - 1] = '\0';
      if (token->text[0] != '\0')
        return TRUE;
      token_clear (token);
    }
}

/* ---- statements ---- */

static void
word_free (gpointer data)
{
  ScenarioWord *word = data;

  g_free (word->text);
  g_free (word);
}

static ScenarioStatement *
statement_new (guint line, guint column)
{
  ScenarioStatement *statement = g_new0 (ScenarioStatement, 1);

  statement->words = g_ptr_array_new_with_free_func (word_free);
  statement->line = line;
  statement->column = column;
  return statement;
}

void
scenario_statement_free (ScenarioStatement *statement)
{
  if (statement == NULL)
    return;
  /* Recursion is bounded: the parser refuses blocks deeper than SCENARIO_MAX_DEPTH. */
  g_ptr_array_unref (statement->words);
  if (statement->children != NULL)
    g_ptr_array_unref (statement->children);
  g_free (statement);
}

const char *
scenario_statement_keyword (const ScenarioStatement *statement)
{
  const ScenarioWord *word = scenario_statement_word (statement, 0);

  return word != NULL ? word->text : NULL;
}

const ScenarioWord *
scenario_statement_word (const ScenarioStatement *statement, guint index)
{
  g_return_val_if_fail (statement != NULL, NULL);

  if (index >= statement->words->len)
    return NULL;
  return g_ptr_array_index (statement->words, index);
}

static ScenarioStatement *
parser_innermost_block (Parser *p)
{
  return g_ptr_array_index (p->open_blocks, p->open_blocks->len - 1);
}

static gboolean
parser_add_word (Parser *p, Token *token)
{
  ScenarioWord *word;

  if (++p->n_words > SCENARIO_MAX_WORDS)
    {
      syntax_error (p, token->line, token->column, "more than %u words in one file; "
                    "split the scenario into smaller ones", SCENARIO_MAX_WORDS);
      return FALSE;
    }
  if (p->current == NULL)
    {
      p->current = statement_new (token->line, token->column);
      g_ptr_array_add (parser_innermost_block (p)->children, p->current);
    }
  word = g_new0 (ScenarioWord, 1);
  word->text = g_steal_pointer (&token->text);
  word->line = token->line;
  word->column = token->column;
  word->quoted = token->quoted;
  g_ptr_array_add (p->current->words, word);
  return TRUE;
}

static gboolean
parser_open_block (Parser *p, const Token *token)
{
  if (p->current == NULL)
    {
      ScenarioStatement *above = p->last_ended;

      if (token->first_on_line && above != NULL && above->children == NULL)
        syntax_error (p, token->line, token->column,
                      "'{' on a line of its own; a block opens at the end of its statement: "
                      "move '{' to the end of line %u", above->line);
      else
        syntax_error (p, token->line, token->column,
                      "'{' without a statement before it, expected words before '{' "
                      "on the same line; write the block's keyword before '{'");
      return FALSE;
    }
  if (p->open_blocks->len > SCENARIO_MAX_DEPTH)
    {
      syntax_error (p, token->line, token->column,
                    "'{' opens a block nested %u deep, more than the %u allowed; "
                    "close the blocks above with '}' first",
                    p->open_blocks->len, SCENARIO_MAX_DEPTH);
      return FALSE;
    }
  p->current->children = g_ptr_array_new_with_free_func ((GDestroyNotify) scenario_statement_free);
  p->current->open_line = token->line;
  p->current->open_column = token->column;
  g_ptr_array_add (p->open_blocks, p->current);
  p->current = NULL;
  p->last_ended = NULL;
  return TRUE;
}

static gboolean
parser_close_block (Parser *p, const Token *token)
{
  ScenarioStatement *block = parser_innermost_block (p);

  p->current = NULL;
  if (block == p->root)
    {
      syntax_error (p, token->line, token->column,
                    "'}' without a matching '{'; remove it or open a block");
      return FALSE;
    }
  block->close_line = token->line;
  block->close_column = token->column;
  g_ptr_array_remove_index (p->open_blocks, p->open_blocks->len - 1);
  p->last_ended = NULL;
  return TRUE;
}

static gboolean
parser_end_file (Parser *p, const Token *token)
{
  ScenarioStatement *block = parser_innermost_block (p);

  if (block != p->root)
    {
      syntax_error (p, token->line, token->column,
                    "unexpected end of file inside the block opened at %u:%u; expected '}'",
                    block->open_line, block->open_column);
      return FALSE;
    }
  p->root->close_line = token->line;
  p->root->close_column = token->column;
  return TRUE;
}

/* One token's effect on the tree; the whole grammar is this table. */
static gboolean
parser_handle (Parser *p, Token *token)
{
  switch (token->kind)
    {
    case TOKEN_WORD:
      return parser_add_word (p, token);
    case TOKEN_END_OF_LINE:
      if (p->current != NULL)
        p->last_ended = p->current;
      p->current = NULL;
      return TRUE;
    case TOKEN_SEMICOLON:
      p->current = NULL;
      p->last_ended = NULL;
      return TRUE;
    case TOKEN_OPEN_BRACE:
      return parser_open_block (p, token);
    case TOKEN_CLOSE_BRACE:
      return parser_close_block (p, token);
    case TOKEN_END_OF_FILE:
      return parser_end_file (p, token);
    default:
      g_assert_not_reached ();
    }
}

static GScanner *
scanner_new (Parser *p)
{
  GScannerConfig config = {
    .cset_skip_characters = (char *) SKIP_CHARACTERS,
    .cset_identifier_first = p->word_characters,
    .cset_identifier_nth = p->word_characters,
    .cpair_comment_single = (char *) "#\n",
    .case_sensitive = TRUE,
    /* Comments come back as tokens: GScanner's single-line comment consumes
     * the '\n' that ends it, and that '\n' ends a statement. */
    .skip_comment_single = FALSE,
    .skip_comment_multi = FALSE,
    .scan_comment_multi = FALSE,
    .scan_identifier = TRUE,
    .scan_identifier_1char = TRUE,
    .scan_identifier_NULL = FALSE,
    .scan_symbols = FALSE,
    /* Digits and '.' are word characters, and GScanner tries words before
     * numbers, so 10.0.0.1, 250ms and 007 stay words; numbers off besides. */
    .scan_binary = FALSE,
    .scan_octal = FALSE,
    .scan_float = FALSE,
    .scan_hex = FALSE,
    .scan_hex_dollar = FALSE,
    .scan_string_sq = FALSE,
    .scan_string_dq = TRUE,
    .numbers_2_int = FALSE,
    .int_2_float = FALSE,
    .identifier_2_string = FALSE,
    .char_2_token = TRUE,
    .symbol_2_token = FALSE,
    .scope_0_fallback = FALSE,
    .store_int64 = FALSE,
  };
  GScanner *scanner;
  guint n = 0;

  /* A bare word is any byte but blanks, control characters and { } ; " #.
   * GScanner keeps the sets by pointer: they live in the Parser. */
  for (guint c = 1; c < 256; c++)
    if (c > ' ' && c != 0x7F && strchr ("{};\"#", (int) c) == NULL)
      p->word_characters[n++] = (char) c;
  p->word_characters[n] = '\0';

  scanner = g_scanner_new (&config);
  scanner->input_name = p->filename;
  g_scanner_input_text (scanner, p->text, (guint) p->length);
  return scanner;
}

ScenarioStatement *
scenario_syntax_parse (const char *filename, const char *text, gsize length, GError **error)
{
  Parser p = { 0 };
  Token token = { 0 };
  gboolean ok = TRUE;

  g_return_val_if_fail (filename != NULL, NULL);
  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  p.filename = filename;
  p.error = error;
  if (length > SCENARIO_MAX_FILE_SIZE)
    {
      syntax_error (&p, 1, 1, "file of %" G_GSIZE_FORMAT " bytes, larger than the %u "
                    "(4 MiB) a scenario may hold; split it into smaller scenarios",
                    length, SCENARIO_MAX_FILE_SIZE);
      return NULL;
    }
  /* Editors count columns after a byte order mark, and so do we. */
  if (length >= 3 && memcmp (text, utf8_byte_order_mark, 3) == 0)
    {
      text += 3;
      length -= 3;
    }
  p.text = text != NULL ? text : "";
  p.length = length;
  parser_rewind (&p);
  if (!parser_check_encoding (&p))
    return NULL;

  p.scanner = scanner_new (&p);
  p.root = statement_new (1, 1);
  p.root->children = g_ptr_array_new_with_free_func ((GDestroyNotify) scenario_statement_free);
  p.open_blocks = g_ptr_array_new ();
  g_ptr_array_add (p.open_blocks, p.root);

  do
    {
      ok = parser_next (&p, &token) && parser_handle (&p, &token);
      token_clear (&token);
    }
  while (ok && token.kind != TOKEN_END_OF_FILE);

  if (p.has_pending)
    token_clear (&p.pending);
  g_ptr_array_unref (p.open_blocks);
  g_scanner_destroy (p.scanner);
  if (!ok)
    {
      scenario_statement_free (p.root);
      return NULL;
    }
  return p.root;
}

/* ---- suggestions ---- */

static gunichar *
folded_characters (const char *text, glong *length)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autofree char *folded = g_utf8_casefold (valid, -1);

  return g_utf8_to_ucs4_fast (folded, -1, length);
}

/* Optimal string alignment distance: Levenshtein plus the transposition of
 * two adjacent characters, the commonest typo ("exmaple"). */
static gsize
edit_distance (const gunichar *a, gsize a_length, const gunichar *b, gsize b_length)
{
  g_autofree gsize *before_previous = g_new0 (gsize, b_length + 1);
  g_autofree gsize *previous = g_new0 (gsize, b_length + 1);
  g_autofree gsize *row = g_new0 (gsize, b_length + 1);

  for (gsize j = 0; j <= b_length; j++)
    previous[j] = j;
  for (gsize i = 1; i <= a_length; i++)
    {
      gsize *recycled;

      row[0] = i;
      for (gsize j = 1; j <= b_length; j++)
        {
          gsize cost = a[i - 1] == b[j - 1] ? 0 : 1;
          gsize best = MIN (previous[j] + 1, row[j - 1] + 1);

          best = MIN (best, previous[j - 1] + cost);
          if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
            best = MIN (best, before_previous[j - 2] + 1);
          row[j] = best;
        }
      recycled = before_previous;
      before_previous = previous;
      previous = row;
      row = recycled;
    }
  return previous[b_length];
}

const char *
scenario_suggest (const char *word, const char *const *candidates, gsize n_candidates)
{
  g_autofree gunichar *target = NULL;
  glong target_length = 0;
  const char *best = NULL;
  gsize best_distance, limit;

  g_return_val_if_fail (word != NULL, NULL);

  if (candidates == NULL)
    return NULL;
  target = folded_characters (word, &target_length);
  if (target_length == 0 || target_length > SUGGEST_MAX_LENGTH)
    return NULL;
  limit = MAX (1, (gsize) target_length / 3);
  best_distance = limit + 1;

  for (gsize i = 0; n_candidates == (gsize) -1 ? candidates[i] != NULL : i < n_candidates; i++)
    {
      g_autofree gunichar *candidate = NULL;
      glong candidate_length = 0;
      gsize distance;

      if (candidates[i] == NULL)
        continue;
      candidate = folded_characters (candidates[i], &candidate_length);
      /* The distance is at least the difference of the lengths. */
      if ((gsize) ABS (candidate_length - target_length) >= best_distance)
        continue;
      distance = edit_distance (target, (gsize) target_length, candidate, (gsize) candidate_length);
      if (distance < best_distance)
        {
          best = candidates[i];
          best_distance = distance;
        }
    }
  return best;
}
