/* test-scenario-syntax.c: words, statements, blocks and positions of scenario files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scenario/scenario-syntax.h"

#define FILENAME "first.mailsim"

/* ---- helpers ---- */

static ScenarioStatement *
parse_length (const char *text, gsize length)
{
  g_autoptr(GError) error = NULL;
  ScenarioStatement *root = scenario_syntax_parse (FILENAME, text, length, &error);

  if (error != NULL)
    fail_msg ("unexpected error: %s", error->message);
  assert_non_null (root);
  return root;
}

static ScenarioStatement *
parse (const char *text)
{
  return parse_length (text, strlen (text));
}

/* The syntax error message for @text, which must not parse. */
static char *
parse_error_length (const char *text, gsize length)
{
  g_autoptr(GError) error = NULL;
  ScenarioStatement *root = scenario_syntax_parse (FILENAME, text, length, &error);

  assert_null (root);
  assert_non_null (error);
  assert_true (g_error_matches (error, SCENARIO_ERROR, SCENARIO_ERROR_SYNTAX));
  return g_strdup (error->message);
}

static char *
parse_error (const char *text)
{
  return parse_error_length (text, strlen (text));
}

static ScenarioStatement *
child (const ScenarioStatement *statement, guint index)
{
  assert_non_null (statement->children);
  assert_true (index < statement->children->len);
  return g_ptr_array_index (statement->children, index);
}

static const ScenarioWord *
word (const ScenarioStatement *statement, guint index)
{
  const ScenarioWord *found = scenario_statement_word (statement, index);

  assert_non_null (found);
  return found;
}

/* Asserts the statement's words are exactly the NULL-terminated list. */
static void
assert_words (const ScenarioStatement *statement, ...)
{
  va_list args;
  guint n = 0;
  const char *expected;

  va_start (args, statement);
  while ((expected = va_arg (args, const char *)) != NULL)
    {
      assert_true (n < statement->words->len);
      assert_string_equal (word (statement, n)->text, expected);
      n++;
    }
  va_end (args);
  assert_int_equal (statement->words->len, n);
}

static void
assert_word_at (const ScenarioWord *found, const char *text, guint line, guint column)
{
  assert_string_equal (found->text, text);
  assert_int_equal (found->line, line);
  assert_int_equal (found->column, column);
}

static guint
n_children (const ScenarioStatement *statement)
{
  assert_non_null (statement->children);
  return statement->children->len;
}

/* ---- statements and words ---- */

static void
test_newline_ends_a_statement (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("title first\nseed 1\n");

  assert_int_equal (n_children (root), 2);
  assert_words (child (root, 0), "title", "first", NULL);
  assert_words (child (root, 1), "seed", "1", NULL);
  assert_null (child (root, 0)->children);
  assert_int_equal (root->words->len, 0);
  assert_null (scenario_statement_keyword (root));
}

static void
test_semicolon_ends_a_statement (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("kind mta; address 192.0.2.25;domain example.com");

  assert_int_equal (n_children (root), 3);
  assert_words (child (root, 0), "kind", "mta", NULL);
  assert_words (child (root, 1), "address", "192.0.2.25", NULL);
  assert_words (child (root, 2), "domain", "example.com", NULL);
}

static void
test_empty_lines_and_stray_semicolons_make_no_statements (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("\n\n  \t \n;;\n seed 1 ;; ;\n\n");

  assert_int_equal (n_children (root), 1);
  assert_words (child (root, 0), "seed", "1", NULL);
}

static void
test_empty_text_is_an_empty_scenario (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("");
  g_autoptr(ScenarioStatement) only_comment = parse ("# nothing yet");

  assert_int_equal (n_children (root), 0);
  assert_int_equal (n_children (only_comment), 0);
  assert_int_equal (root->close_line, 1);
  assert_int_equal (root->close_column, 1);
}

static void
test_comment_runs_to_the_end_of_the_line_and_ends_the_statement (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("# header\n"
                                             "relay-for alice@example.com   # who may relay\n"
                                             "seed 1#no space needed\n"
                                             "  # indented comment\n"
                                             "title x # last line, no newline");

  assert_int_equal (n_children (root), 3);
  assert_words (child (root, 0), "relay-for", "alice@example.com", NULL);
  assert_words (child (root, 1), "seed", "1", NULL);
  assert_words (child (root, 2), "title", "x", NULL);
  assert_word_at (word (child (root, 2), 0), "title", 5, 1);
}

static void
test_hash_inside_a_string_is_not_a_comment (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("subject \"Issue #42\" # real comment\n");

  assert_words (child (root, 0), "subject", "Issue #42", NULL);
}

static void
test_bare_words_keep_punctuation_and_numbers_are_not_parsed (void **state)
{
  g_autoptr(ScenarioStatement) root = parse (
    "at 1s send alice@example.com -> bob@example.org\n"
    "x 10.0.0.1 250ms 007 0x1F 1e5 .5 $1 <postmaster@x> *.example.org a=b c,d 'q' !? 50% /path:8 +1\n");

  assert_words (child (root, 0), "at", "1s", "send", "alice@example.com", "->",
                "bob@example.org", NULL);
  assert_words (child (root, 1), "x", "10.0.0.1", "250ms", "007", "0x1F", "1e5", ".5", "$1",
                "<postmaster@x>", "*.example.org", "a=b", "c,d", "'q'", "!?", "50%",
                "/path:8", "+1", NULL);
  for (guint i = 0; i < child (root, 1)->words->len; i++)
    assert_false (word (child (root, 1), i)->quoted);
}

static void
test_single_character_words_including_at_end_of_text (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("a b\nc");

  assert_words (child (root, 0), "a", "b", NULL);
  assert_word_at (word (child (root, 1), 0), "c", 2, 1);
}

static void
test_utf8_words_are_bare_words (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("user josé@exemple.fr \"Grüße\" 日本\n");

  assert_words (child (root, 0), "user", "josé@exemple.fr", "Grüße", "日本", NULL);
}

static void
test_quoted_string_decodes_its_four_escapes (void **state)
{
  g_autoptr(ScenarioStatement) root = parse (
    "body \"Hi Bob,\\nsee you.\\n.\\nA line with a dot.\" \"say \\\"hi\\\"\" \"a\\\\b\" \"c\\td\"\n");

  assert_words (child (root, 0), "body", "Hi Bob,\nsee you.\n.\nA line with a dot.",
                "say \"hi\"", "a\\b", "c\td", NULL);
  assert_false (word (child (root, 0), 0)->quoted);
  assert_true (word (child (root, 0), 1)->quoted);
}

static void
test_quoted_string_may_hold_syntax_characters_and_be_empty (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("record \"@ 3600 MX 10 mx.example.org.\" \"{ } ; #\" \"\"\n");

  assert_words (child (root, 0), "record", "@ 3600 MX 10 mx.example.org.", "{ } ; #", "", NULL);
  assert_true (word (child (root, 0), 3)->quoted);
}

static void
test_quoted_string_spans_lines (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("description \"Alice sends Bob her first email.\n"
                                             "  Strings may span lines.\"\n"
                                             "seed 1\n");

  assert_int_equal (n_children (root), 2);
  assert_words (child (root, 0), "description",
                "Alice sends Bob her first email.\n  Strings may span lines.", NULL);
  assert_words (child (root, 1), "seed", "1", NULL);
}

static void
test_a_keyword_written_quoted_is_marked_quoted (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("\"node\" x\n");

  assert_string_equal (scenario_statement_keyword (child (root, 0)), "node");
  assert_true (word (child (root, 0), 0)->quoted);
  assert_null (scenario_statement_word (child (root, 0), 2));
}

static void
test_text_need_not_be_nul_terminated (void **state)
{
  const char buffer[] = { 's', 'e', 'e', 'd', ' ', '1', '2', 'X', 'Y' };
  g_autoptr(ScenarioStatement) root = parse_length (buffer, 7);

  assert_words (child (root, 0), "seed", "12", NULL);
}

static void
test_utf8_byte_order_mark_is_skipped (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("\xEF\xBB\xBFtitle x\n");

  assert_word_at (word (child (root, 0), 0), "title", 1, 1);
}

/* ---- line continuation ---- */

static void
test_backslash_at_end_of_line_continues_the_statement (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("at 1s send alice@example.com \\\n"
                                             "     -> bob@example.org\n"
                                             "seed 1\n");

  assert_int_equal (n_children (root), 2);
  assert_words (child (root, 0), "at", "1s", "send", "alice@example.com", "->",
                "bob@example.org", NULL);
}

static void
test_backslash_attached_to_a_word_continues_and_is_removed (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("send a@x\\\n  subject \"Hi\"\\\n  body b\n");

  assert_int_equal (n_children (root), 1);
  assert_words (child (root, 0), "send", "a@x", "subject", "Hi", "body", "b", NULL);
}

static void
test_backslash_continues_past_trailing_blanks_and_a_comment (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("send a@x \\  \t\n"
                                             "  subject s \\   # the subject\n"
                                             "  body b\n");

  assert_int_equal (n_children (root), 1);
  assert_words (child (root, 0), "send", "a@x", "subject", "s", "body", "b", NULL);
}

static void
test_backslash_continues_with_crlf_and_at_end_of_file (void **state)
{
  g_autoptr(ScenarioStatement) crlf = parse ("send a \\\r\n  b\r\n");
  g_autoptr(ScenarioStatement) at_end = parse ("send a \\");

  assert_words (child (crlf, 0), "send", "a", "b", NULL);
  assert_words (child (at_end, 0), "send", "a", NULL);
}

static void
test_backslash_inside_a_line_is_part_of_the_word (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("path C:\\temp a\\ b\n");

  assert_words (child (root, 0), "path", "C:\\temp", "a\\", "b", NULL);
}

/* ---- blocks ---- */

static void
test_block_holds_child_statements (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("node smtp.example.com {\n"
                                             "  kind mta\n"
                                             "  address 192.0.2.25\n"
                                             "}\n"
                                             "link a b latency 20ms\n");
  ScenarioStatement *node = child (root, 0);

  assert_int_equal (n_children (root), 2);
  assert_words (node, "node", "smtp.example.com", NULL);
  assert_int_equal (n_children (node), 2);
  assert_words (child (node, 0), "kind", "mta", NULL);
  assert_words (child (node, 1), "address", "192.0.2.25", NULL);
  assert_null (child (node, 0)->children);
  assert_words (child (root, 1), "link", "a", "b", "latency", "20ms", NULL);
}

static void
test_block_records_its_brace_positions (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("node smtp.example.com {\n  kind mta\n  }\n");
  ScenarioStatement *node = child (root, 0);

  assert_int_equal (node->line, 1);
  assert_int_equal (node->column, 1);
  assert_int_equal (node->open_line, 1);
  assert_int_equal (node->open_column, 23);
  assert_int_equal (node->close_line, 3);
  assert_int_equal (node->close_column, 3);
  assert_int_equal (child (node, 0)->close_line, 0);
  assert_int_equal (root->close_line, 4);
  assert_int_equal (root->close_column, 1);
}

static void
test_empty_block_has_an_empty_children_array (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("expect {\n}\nexpect {}\n");

  assert_int_equal (n_children (child (root, 0)), 0);
  assert_int_equal (n_children (child (root, 1)), 0);
}

static void
test_blocks_nest (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("a {\n  b {\n    c {\n      d\n    }\n  }\n  e\n}\n");
  ScenarioStatement *a = child (root, 0);
  ScenarioStatement *b = child (a, 0);

  assert_int_equal (n_children (a), 2);
  assert_words (child (child (b, 0), 0), "d", NULL);
  assert_words (child (a, 1), "e", NULL);
}

static void
test_statements_may_follow_the_opening_brace_on_its_line (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("zone example.org { record \"@ MX 10 mx\"; record \"mx A 192.0.2.53\"; }\n"
                                             "seed 1\n");
  ScenarioStatement *zone = child (root, 0);

  assert_int_equal (n_children (root), 2);
  assert_words (zone, "zone", "example.org", NULL);
  assert_int_equal (n_children (zone), 2);
  assert_words (child (zone, 1), "record", "mx A 192.0.2.53", NULL);
}

static void
test_closing_brace_also_ends_the_statement_before_it (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("expect { bounced 0 }\nseed 1\n");

  assert_int_equal (n_children (root), 2);
  assert_words (child (child (root, 0), 0), "bounced", "0", NULL);
}

static void
test_blocks_may_nest_to_the_maximum_depth (void **state)
{
  g_autoptr(GString) text = g_string_new ("");
  g_autoptr(ScenarioStatement) root = NULL;
  ScenarioStatement *statement;

  for (guint i = 0; i < SCENARIO_MAX_DEPTH; i++)
    g_string_append (text, "b {\n");
  g_string_append (text, "leaf\n");
  for (guint i = 0; i < SCENARIO_MAX_DEPTH; i++)
    g_string_append (text, "}\n");
  root = parse (text->str);
  statement = root;
  for (guint i = 0; i < SCENARIO_MAX_DEPTH; i++)
    statement = child (statement, 0);
  assert_words (child (statement, 0), "leaf", NULL);
}

/* ---- positions ---- */

static void
test_positions_are_one_based_and_count_bytes (void **state)
{
  /* The tab and each byte of "é" count one column. */
  g_autoptr(ScenarioStatement) root = parse ("seed 1\n"
                                             "\tkind  mta\n"
                                             "user josé@x next\n");

  assert_word_at (word (child (root, 0), 0), "seed", 1, 1);
  assert_word_at (word (child (root, 0), 1), "1", 1, 6);
  assert_word_at (word (child (root, 1), 0), "kind", 2, 2);
  assert_word_at (word (child (root, 1), 1), "mta", 2, 8);
  assert_word_at (word (child (root, 2), 1), "josé@x", 3, 6);
  assert_word_at (word (child (root, 2), 2), "next", 3, 14);
  assert_int_equal (child (root, 1)->line, 2);
  assert_int_equal (child (root, 1)->column, 2);
}

static void
test_quoted_word_position_is_its_opening_quote (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("subject  \"Hello\" x\n");

  assert_word_at (word (child (root, 0), 1), "Hello", 1, 10);
  assert_word_at (word (child (root, 0), 2), "x", 1, 18);
}

static void
test_positions_after_a_multi_line_string (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("description \"one\n"
                                             "two\n"
                                             "  three\" after\n"
                                             "  seed 1\n");

  assert_word_at (word (child (root, 0), 1), "one\ntwo\n  three", 1, 13);
  assert_word_at (word (child (root, 0), 2), "after", 3, 10);
  assert_word_at (word (child (root, 1), 0), "seed", 4, 3);
  assert_word_at (word (child (root, 1), 1), "1", 4, 8);
}

static void
test_positions_after_a_continuation (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("at 1s \\\n"
                                             "   send \\   # comment\n"
                                             "\ta -> b\n"
                                             "seed 1\n");
  ScenarioStatement *at = child (root, 0);

  assert_word_at (word (at, 0), "at", 1, 1);
  assert_word_at (word (at, 1), "1s", 1, 4);
  assert_word_at (word (at, 2), "send", 2, 4);
  assert_word_at (word (at, 3), "a", 3, 2);
  assert_word_at (word (at, 4), "->", 3, 4);
  assert_word_at (word (child (root, 1), 0), "seed", 4, 1);
}

static void
test_positions_after_a_comment_and_escapes (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("# one\n"
                                             "x \"a\\\"b\\n\" y # c\n"
                                             "z\n");

  assert_word_at (word (child (root, 0), 1), "a\"b\n", 2, 3);
  assert_word_at (word (child (root, 0), 2), "y", 2, 12);
  assert_word_at (word (child (root, 1), 0), "z", 3, 1);
}

static void
test_crlf_line_endings_parse_like_lf (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("node a {\r\n"
                                             "  kind mta\r\n"
                                             "}\r\n"
                                             "\r\n"
                                             "seed 1 # c\r\n"
                                             "title x\r\n");
  ScenarioStatement *node = child (root, 0);

  assert_int_equal (n_children (root), 3);
  assert_words (child (node, 0), "kind", "mta", NULL);
  assert_word_at (word (child (node, 0), 1), "mta", 2, 8);
  assert_int_equal (node->close_line, 3);
  assert_int_equal (node->close_column, 1);
  assert_words (child (root, 1), "seed", "1", NULL);
  assert_word_at (word (child (root, 2), 0), "title", 6, 1);
}

static void
test_crlf_inside_a_string_becomes_lf (void **state)
{
  g_autoptr(ScenarioStatement) root = parse ("body \"one\r\ntwo\\n\r\nthree\"\r\nseed 1\r\n");

  assert_words (child (root, 0), "body", "one\ntwo\n\nthree", NULL);
  assert_word_at (word (child (root, 1), 0), "seed", 4, 1);
}

static void
test_sample_scenario_parses (void **state)
{
  static const char sample[] =
    "# comment to end of line\n"
    "title \"The first email\"\n"
    "description \"Alice sends Bob her first email.\n"
    "  Strings may span lines.\"\n"
    "seed 1\n"
    "\n"
    "node smtp.example.com {\n"
    "  kind mta\n"
    "  address 192.0.2.25\n"
    "  domain example.com\n"
    "  relay-for alice@example.com   # words are bare\n"
    "}\n"
    "link laptop.example.com smtp.example.com latency 20ms\n"
    "zone example.org {\n"
    "  record \"@ 3600 MX 10 mx.example.org.\"\n"
    "  record \"mx 300 A 192.0.2.53\"\n"
    "}\n"
    "timeline {\n"
    "  at 1s send alice@example.com -> bob@example.org subject \"Hello\" body \"Hi Bob,\\nsee you.\\n.\\nA line with a dot.\"\n"
    "  at 1m fetch bob@example.org\n"
    "}\n"
    "expect {\n"
    "  delivered bob@example.org INBOX subject \"Hello\" by 2m\n"
    "  bounced 0\n"
    "}\n";
  g_autoptr(ScenarioStatement) root = parse (sample);
  ScenarioStatement *timeline = child (root, 6);

  assert_int_equal (n_children (root), 8);
  assert_string_equal (scenario_statement_keyword (child (root, 3)), "node");
  assert_int_equal (n_children (child (root, 3)), 4);
  assert_int_equal (n_children (child (root, 5)), 2);
  assert_string_equal (scenario_statement_keyword (timeline), "timeline");
  assert_words (child (timeline, 1), "at", "1m", "fetch", "bob@example.org", NULL);
  assert_word_at (word (child (timeline, 0), 9), "Hi Bob,\nsee you.\n.\nA line with a dot.", 19, 72);
  assert_word_at (word (child (child (root, 7), 0), 4), "Hello", 23, 43);
  assert_int_equal (child (root, 7)->close_line, 25);
}

/* ---- syntax errors ---- */

static void
test_unterminated_string_is_reported_at_its_opening_quote (void **state)
{
  g_autofree char *message = parse_error ("title x\n"
                                          "seed 1\n"
                                          "subject \"Hello\n"
                                          "body x\n");

  assert_string_equal (message, "first.mailsim:3:9: unterminated string started here; add a closing '\"'");
}

static void
test_unterminated_string_after_a_multi_line_string_names_the_likely_culprit (void **state)
{
  g_autofree char *message = parse_error ("subject \"Hello\n"
                                          "body \" x\"\n");
  g_autofree char *touching = parse_error ("subject \"Hello\n"
                                           "body \"x\"\n");

  assert_string_equal (message, "first.mailsim:2:9: unterminated string started here; add a "
                       "closing '\"' (or the string at 1:9, which spans lines, lacks its closing '\"')");
  assert_string_equal (touching, "first.mailsim:2:7: word directly after a closing '\"', expected a "
                       "space; to put a '\"' inside a string, write \\\" (or the string at 1:9, "
                       "which spans lines, lacks its closing '\"')");
}

static void
test_unterminated_string_ending_in_a_backslash (void **state)
{
  g_autofree char *message = parse_error ("x \"abc\\");

  assert_string_equal (message, "first.mailsim:1:3: unterminated string started here; add a closing '\"'");
}

static void
test_unknown_escape_is_reported_at_its_backslash (void **state)
{
  g_autofree char *message = parse_error ("path \"C:\\temp\\data\"\n");
  g_autofree char *octal = parse_error ("x\n  y \"a\\0b\"\n");

  assert_string_equal (message, "first.mailsim:1:14: unknown escape '\\d' in a string, expected "
                       "\\\" \\\\ \\n or \\t; write \\\\ for a backslash");
  assert_string_equal (octal, "first.mailsim:2:7: unknown escape '\\0' in a string, expected "
                       "\\\" \\\\ \\n or \\t; write \\\\ for a backslash");
}

static void
test_backslash_at_end_of_line_inside_a_string_is_rejected (void **state)
{
  g_autofree char *message = parse_error ("description \"one \\\ntwo\"\n");
  g_autofree char *crlf = parse_error ("description \"one \\\r\ntwo\"\r\n");

  assert_string_equal (message, "first.mailsim:1:18: backslash at the end of a line inside a string; "
                       "a string may span lines as it is: remove the backslash, or write \\n "
                       "for a line break");
  assert_true (g_str_has_prefix (crlf, "first.mailsim:1:18: backslash at the end of a line"));
}

static void
test_closing_brace_without_opening_brace (void **state)
{
  g_autofree char *message = parse_error ("node a {\n"
                                          "  kind mta\n"
                                          "}\n"
                                          "seed 1\n"
                                          "  }\n");

  assert_string_equal (message, "first.mailsim:5:3: '}' without a matching '{'; remove it or open a block");
}

static void
test_missing_closing_brace_is_reported_at_end_of_file (void **state)
{
  g_autofree char *message = parse_error ("title x\n"
                                          "timeline {\n"
                                          "  at 1s fetch b\n");
  g_autofree char *nested = parse_error ("a {\n  b {\n  }\n  c {\n    d");

  assert_string_equal (message, "first.mailsim:4:1: unexpected end of file inside the block opened "
                       "at 2:10; expected '}'");
  assert_string_equal (nested, "first.mailsim:5:6: unexpected end of file inside the block opened "
                       "at 4:5; expected '}'");
}

static void
test_opening_brace_on_its_own_line_suggests_moving_it (void **state)
{
  g_autofree char *message = parse_error ("seed 1\n"
                                          "timeline\n"
                                          "{\n"
                                          "}\n");

  assert_string_equal (message, "first.mailsim:3:1: '{' on a line of its own; a block opens at the "
                       "end of its statement: move '{' to the end of line 2");
}

static void
test_opening_brace_without_a_statement (void **state)
{
  g_autofree char *message = parse_error ("seed 1; { x }\n");
  g_autofree char *first = parse_error ("{\n");

  assert_string_equal (message, "first.mailsim:1:9: '{' without a statement before it, expected "
                       "words before '{' on the same line; write the block's keyword before '{'");
  assert_true (g_str_has_prefix (first, "first.mailsim:1:1: '{' without a statement before it"));
}

static void
test_nul_byte_is_rejected_with_its_position (void **state)
{
  static const char text[] = "title x\nse\0ed 1\n";
  g_autofree char *message = parse_error_length (text, sizeof text - 1);

  assert_string_equal (message, "first.mailsim:2:3: NUL byte where text was expected; "
                       "save the file as UTF-8 text (not UTF-16) and remove the byte");
}

static void
test_invalid_utf8_is_rejected_with_its_position (void **state)
{
  g_autofree char *message = parse_error ("title x\nuser jos\xE9\n");

  assert_string_equal (message, "first.mailsim:2:9: byte 0xE9 is not valid UTF-8; save the file as UTF-8");
}

static void
test_control_character_is_rejected (void **state)
{
  g_autofree char *message = parse_error ("seed 1\nkind \x01mta\n");

  assert_string_equal (message, "first.mailsim:2:6: control character 0x01 where a word was "
                       "expected; remove it (spaces and tabs separate words)");
}

static void
test_word_touching_a_string_is_rejected (void **state)
{
  g_autofree char *after = parse_error ("body \"He said \"hi\" to me\"\n");
  g_autofree char *before = parse_error ("subject\"Hello\"\n");

  assert_string_equal (after, "first.mailsim:1:16: word directly after a closing '\"', expected a "
                       "space; to put a '\"' inside a string, write \\\"");
  assert_string_equal (before, "first.mailsim:1:8: '\"' directly after a word, expected a space "
                       "before the string; to put a '\"' inside a string, write \\\"");
}

static void
test_nesting_deeper_than_the_maximum_is_rejected (void **state)
{
  g_autoptr(GString) text = g_string_new ("");
  g_autofree char *message = NULL;
  g_autofree char *expected = NULL;

  for (guint i = 0; i < SCENARIO_MAX_DEPTH + 1; i++)
    g_string_append (text, "b {\n");
  message = parse_error (text->str);
  expected = g_strdup_printf ("first.mailsim:%u:3: '{' opens a block nested %u deep, more than "
                              "the %u allowed; close the blocks above with '}' first",
                              SCENARIO_MAX_DEPTH + 1, SCENARIO_MAX_DEPTH + 1, SCENARIO_MAX_DEPTH);
  assert_string_equal (message, expected);
}

static void
test_hostile_nesting_fails_cleanly (void **state)
{
  g_autofree char *braces = g_strnfill (1000000, '{');
  g_autoptr(GString) text = g_string_new ("");
  g_autofree char *message = NULL;

  for (guint i = 0; i < 200000; i++)
    g_string_append (text, "a{");
  message = parse_error (text->str);
  assert_true (g_str_has_prefix (message, "first.mailsim:1:34: '{' opens a block nested 17 deep"));
  g_clear_pointer (&message, g_free);
  message = parse_error (braces);
  assert_true (g_str_has_prefix (message, "first.mailsim:1:1: '{' without a statement"));
}

static void
test_word_longer_than_the_maximum_is_rejected (void **state)
{
  g_autofree char *longest = g_strnfill (SCENARIO_MAX_WORD_LENGTH, 'a');
  g_autofree char *too_long = g_strnfill (SCENARIO_MAX_WORD_LENGTH + 1, 'a');
  g_autofree char *ok_text = g_strdup_printf ("x %s\n", longest);
  g_autofree char *bare_text = g_strdup_printf ("x %s\n", too_long);
  g_autofree char *quoted_text = g_strdup_printf ("x\ny \"%s\"\n", too_long);
  g_autoptr(ScenarioStatement) root = parse (ok_text);
  g_autofree char *bare = parse_error (bare_text);
  g_autofree char *quoted = parse_error (quoted_text);

  assert_int_equal (strlen (word (child (root, 0), 1)->text), SCENARIO_MAX_WORD_LENGTH);
  assert_string_equal (bare, "first.mailsim:1:3: word of 65537 bytes, longer than the 65536 a word "
                       "may have; shorten it");
  assert_true (g_str_has_prefix (quoted, "first.mailsim:2:3: word of 65537 bytes"));
}

static void
test_too_many_words_are_rejected (void **state)
{
  g_autoptr(GString) text = g_string_new ("");
  g_autofree char *message = NULL;

  for (guint i = 0; i <= SCENARIO_MAX_WORDS; i++)
    g_string_append (text, "w\n");
  message = parse_error (text->str);
  assert_string_equal (message, "first.mailsim:250001:1: more than 250000 words in one file; "
                       "split the scenario into smaller ones");
}

static void
test_file_larger_than_4_mib_is_rejected (void **state)
{
  gsize size = SCENARIO_MAX_FILE_SIZE;
  g_autofree char *text = g_malloc (size + 1);
  g_autoptr(ScenarioStatement) root = NULL;
  g_autofree char *message = NULL;

  /* One comment line of exactly the limit is fine; a byte more is not. */
  memset (text, 'x', size + 1);
  text[0] = '#';
  root = parse_length (text, size);
  assert_int_equal (n_children (root), 0);
  message = parse_error_length (text, size + 1);
  assert_string_equal (message, "first.mailsim:1:1: file of 4194305 bytes, larger than the 4194304 "
                       "(4 MiB) a scenario may hold; split it into smaller scenarios");
}

/* ---- errors for the interpreter ---- */

static void
test_set_error_at_formats_file_line_column (void **state)
{
  g_autoptr(GError) error = NULL;

  scenario_set_error_at (&error, "first.mailsim", 7, 15, "unknown node '%s'; did you mean '%s'?",
                         "mx3", "mx2.example.org");
  assert_true (g_error_matches (error, SCENARIO_ERROR, SCENARIO_ERROR_SEMANTIC));
  assert_string_equal (error->message,
                       "first.mailsim:7:15: unknown node 'mx3'; did you mean 'mx2.example.org'?");
  scenario_set_error_at (NULL, "ignored", 1, 1, "no crash without a GError");
}

/* ---- suggestions ---- */

static const char *const nodes[] = {
  "smtp.example.com", "mx.example.org", "laptop.example.com", "dns.example.net",
};

static void
test_suggest_finds_a_close_typo (void **state)
{
  assert_string_equal (scenario_suggest ("mx.exmaple.org", nodes, G_N_ELEMENTS (nodes)),
                       "mx.example.org");
  assert_string_equal (scenario_suggest ("smtp.example.co", nodes, G_N_ELEMENTS (nodes)),
                       "smtp.example.com");
  assert_string_equal (scenario_suggest ("laptop.exampel.comm", nodes, G_N_ELEMENTS (nodes)),
                       "laptop.example.com");
}

static void
test_suggest_ignores_case (void **state)
{
  static const char *const folders[] = { "INBOX", "Sent", "Trash" };

  assert_string_equal (scenario_suggest ("inbox", folders, G_N_ELEMENTS (folders)), "INBOX");
  assert_string_equal (scenario_suggest ("TRASH", folders, G_N_ELEMENTS (folders)), "Trash");
}

static void
test_suggest_counts_a_transposition_as_one_edit (void **state)
{
  static const char *const keywords[] = { "kind", "node", "link" };

  /* Levenshtein would count "ndoe" two edits away, too far for a 4-letter word. */
  assert_string_equal (scenario_suggest ("ndoe", keywords, G_N_ELEMENTS (keywords)), "node");
  assert_string_equal (scenario_suggest ("lnik", keywords, G_N_ELEMENTS (keywords)), "link");
}

static void
test_suggest_returns_null_when_nothing_is_close (void **state)
{
  static const char *const keywords[] = { "kind", "node", "link", "zone" };

  assert_null (scenario_suggest ("timeline", keywords, G_N_ELEMENTS (keywords)));
  assert_null (scenario_suggest ("nxyz", keywords, G_N_ELEMENTS (keywords)));
  assert_null (scenario_suggest ("anything", NULL, 0));
  assert_null (scenario_suggest ("anything", keywords, 0));
  assert_null (scenario_suggest ("", keywords, G_N_ELEMENTS (keywords)));
}

static void
test_suggest_allows_more_edits_for_longer_words (void **state)
{
  static const char *const words[] = { "delivered", "bounced" };

  /* 13 characters allow 4 edits; 5 characters only 1. */
  assert_string_equal (scenario_suggest ("mx.exmpl.orgg", nodes, G_N_ELEMENTS (nodes)),
                       "mx.example.org");
  assert_string_equal (scenario_suggest ("bouncd", words, G_N_ELEMENTS (words)), "bounced");
  assert_null (scenario_suggest ("bnced", words, G_N_ELEMENTS (words)));
}

static void
test_suggest_prefers_the_closest_then_the_first (void **state)
{
  static const char *const candidates[] = { "mx1", "mx2", "mx22" };

  assert_string_equal (scenario_suggest ("mx3", candidates, G_N_ELEMENTS (candidates)), "mx1");
  assert_string_equal (scenario_suggest ("mx222", candidates, G_N_ELEMENTS (candidates)), "mx22");
}

static void
test_suggest_accepts_null_terminated_lists_and_unicode (void **state)
{
  static const char *const users[] = { "josé@exemple.fr", NULL };
  static const char *const with_holes[] = { NULL, "kind", NULL };

  assert_string_equal (scenario_suggest ("JOSÉ@exemple.fr", users, (gsize) -1), "josé@exemple.fr");
  assert_string_equal (scenario_suggest ("jose@exemple.fr", users, (gsize) -1), "josé@exemple.fr");
  assert_string_equal (scenario_suggest ("knid", with_holes, G_N_ELEMENTS (with_holes)), "kind");
}

/* ---- fuzzing ---- */

static void
append_statement (GString *out, const ScenarioStatement *statement)
{
  for (guint i = 0; i < statement->words->len; i++)
    {
      const ScenarioWord *w = g_ptr_array_index (statement->words, i);

      if (i > 0)
        g_string_append_c (out, ' ');
      if (!w->quoted)
        {
          g_string_append (out, w->text);
          continue;
        }
      g_string_append_c (out, '"');
      for (const char *c = w->text; *c != '\0'; c++)
        {
          switch (*c)
            {
            case '"': g_string_append (out, "\\\""); break;
            case '\\': g_string_append (out, "\\\\"); break;
            case '\n': g_string_append (out, "\\n"); break;
            case '\t': g_string_append (out, "\\t"); break;
            default: g_string_append_c (out, *c); break;
            }
        }
      g_string_append_c (out, '"');
    }
  if (statement->children == NULL)
    {
      g_string_append (out, " ;\n");
      return;
    }
  g_string_append (out, " {\n");
  for (guint i = 0; i < statement->children->len; i++)
    append_statement (out, g_ptr_array_index (statement->children, i));
  g_string_append (out, "}\n");
}

static char *
serialize (const ScenarioStatement *root)
{
  /* Not starting with a word keeps a word that begins with a byte order mark whole. */
  GString *out = g_string_new ("# round trip\n");

  for (guint i = 0; i < root->children->len; i++)
    append_statement (out, g_ptr_array_index (root->children, i));
  return g_string_free (out, FALSE);
}

static void
assert_same_tree (const ScenarioStatement *a, const ScenarioStatement *b)
{
  assert_int_equal (a->words->len, b->words->len);
  for (guint i = 0; i < a->words->len; i++)
    {
      assert_string_equal (word (a, i)->text, word (b, i)->text);
      assert_int_equal (word (a, i)->quoted, word (b, i)->quoted);
    }
  assert_int_equal (a->children == NULL, b->children == NULL);
  if (a->children == NULL)
    return;
  assert_int_equal (a->children->len, b->children->len);
  for (guint i = 0; i < a->children->len; i++)
    assert_same_tree (child (a, i), child (b, i));
}

/* Positions only move forward through the file, every statement has words,
 * and blocks stay within the depth limit. */
static void
check_tree (const ScenarioStatement *statement, guint depth, guint *line, guint *column)
{
  assert_true (depth <= SCENARIO_MAX_DEPTH + 1);
  if (depth > 0)
    {
      assert_true (statement->words->len >= 1);
      assert_int_equal (statement->line, word (statement, 0)->line);
      assert_int_equal (statement->column, word (statement, 0)->column);
    }
  for (guint i = 0; i < statement->words->len; i++)
    {
      const ScenarioWord *w = word (statement, i);

      assert_true (w->line > *line || (w->line == *line && w->column > *column));
      assert_true (w->column >= 1);
      assert_true (g_utf8_validate (w->text, -1, NULL));
      *line = w->line;
      *column = w->column;
    }
  if (statement->children == NULL)
    return;
  for (guint i = 0; i < statement->children->len; i++)
    check_tree (child (statement, i), depth + 1, line, column);
  assert_true (statement->close_line > *line
               || (statement->close_line == *line && statement->close_column > *column));
  *line = statement->close_line;
  *column = statement->close_column;
}

static guint
count_lines (const char *text, gsize length)
{
  guint lines = 1;

  for (gsize i = 0; i < length; i++)
    lines += text[i] == '\n';
  return lines;
}

/* Returns whether @text parsed. */
static gboolean
check_one_input (const char *text, gsize length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ScenarioStatement) root = scenario_syntax_parse ("fuzz.mailsim", text, length, &error);

  if (root == NULL)
    {
      guint line = 0, column = 0;
      int consumed = 0;

      assert_non_null (error);
      assert_true (g_error_matches (error, SCENARIO_ERROR, SCENARIO_ERROR_SYNTAX));
      if (sscanf (error->message, "fuzz.mailsim:%u:%u: %n", &line, &column, &consumed) != 2
          || consumed == 0)
        fail_msg ("error without file:line:column: %s", error->message);
      assert_true (line >= 1 && line <= count_lines (text, length));
      assert_true (column >= 1 && column <= length + 1);
      assert_true (error->message[consumed] != '\0');
      return FALSE;
    }
  assert_null (error);
  {
    guint line = 0, column = 0;
    g_autofree char *again_text = serialize (root);
    g_autoptr(ScenarioStatement) again = parse (again_text);

    check_tree (root, 0, &line, &column);
    assert_same_tree (root, again);
  }
  return TRUE;
}

static const char *const fuzz_pieces[] = {
  "node", "smtp.example.com", "a", "->", "10.0.0.1", " ", "  ", "\t", "\n", "\r\n", "\r",
  "{", "}", ";", "\"", "\\", "\\\n", "\\n", "\\\"", "#", "# c\n", "\"str\"", "\"multi\nline\"",
  "é", "日", "\xEF\xBB\xBF", "\x01", "\x7F", "\xFF", "\xC3", "\0", "x\\", "'", "=", "@",
};

static void
append_random_piece (GString *text, GRand *rand)
{
  if (g_rand_int_range (rand, 0, 8) == 0)
    g_string_append_c (text, (char) g_rand_int_range (rand, 0, 256));
  else
    {
      const char *piece = fuzz_pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (fuzz_pieces))];

      /* The "\0" piece is one NUL byte. */
      g_string_append_len (text, piece, piece[0] == '\0' ? 1 : (gssize) strlen (piece));
    }
}

static void
mutate (GString *text, GRand *rand)
{
  guint n = g_rand_int_range (rand, 1, 6);

  for (guint i = 0; i < n; i++)
    {
      gsize at = text->len > 0 ? (gsize) g_rand_int_range (rand, 0, (gint32) text->len) : 0;
      gsize span = (gsize) g_rand_int_range (rand, 1, 12);
      GString *piece = g_string_new ("");

      switch (g_rand_int_range (rand, 0, 5))
        {
        case 0:
          g_string_erase (text, (gssize) at, (gssize) MIN (span, text->len - at));
          break;
        case 1:
          append_random_piece (piece, rand);
          g_string_insert_len (text, (gssize) at, piece->str, (gssize) piece->len);
          break;
        case 2:
          if (at < text->len)
            text->str[at] = (char) g_rand_int_range (rand, 0, 256);
          break;
        case 3:
          g_string_append_len (piece, text->str + at, (gssize) MIN (span, text->len - at));
          g_string_insert_len (text, (gssize) at, piece->str, (gssize) piece->len);
          break;
        default:
          g_string_truncate (text, at);
          break;
        }
      g_string_free (piece, TRUE);
    }
}

static void
test_fuzz_random_and_mutated_inputs_parse_or_fail_with_a_position (void **state)
{
  static const char seed_text[] =
    "title \"The first email\"\nseed 1\nnode smtp.example.com {\n  kind mta\n"
    "  relay-for alice@example.com # c\n}\ntimeline {\n  at 1s send a -> b \\\n"
    "    subject \"Hi\\n\\\"x\\\"\" body \"multi\nline\"\n}\nexpect { bounced 0; }\n";
  /* MAILSIM_FUZZ_SEED and MAILSIM_FUZZ_ROUNDS let a long run explore further. */
  const char *seed = g_getenv ("MAILSIM_FUZZ_SEED");
  const char *rounds_text = g_getenv ("MAILSIM_FUZZ_ROUNDS");
  guint rounds = rounds_text != NULL ? (guint) g_ascii_strtoull (rounds_text, NULL, 10) : 6000;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed != NULL ? (guint32) g_ascii_strtoull (seed, NULL, 10)
                                                             : 20240501);
  guint parsed = 0;

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr(GString) text = g_string_new ("");

      if (round % 2 == 0)
        {
          guint n = g_rand_int_range (rand, 0, 80);

          for (guint i = 0; i < n; i++)
            append_random_piece (text, rand);
        }
      else
        {
          g_string_append (text, seed_text);
          mutate (text, rand);
        }
      parsed += check_one_input (text->str, text->len);
    }
  /* Both outcomes must be exercised, or the fuzzer tests nothing. */
  assert_true (parsed > rounds / 20);
  assert_true (parsed < rounds - rounds / 20);
}

/* ---- the classroom library ---- */

static void
test_checked_in_scenarios_are_syntactically_valid (void **state)
{
  g_autofree char *folder = g_build_filename (MAILSIM_SOURCE_ROOT, "scenarios", NULL);
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *contents = NULL;
      gsize length = 0;
      g_autoptr(GError) error = NULL;
      g_autoptr(ScenarioStatement) root = NULL;

      if (!g_str_has_suffix (name, ".mailsim"))
        continue;
      path = g_build_filename (folder, name, NULL);
      assert_true (g_file_get_contents (path, &contents, &length, NULL));
      root = scenario_syntax_parse (name, contents, length, &error);
      if (root == NULL)
        fail_msg ("%s", error->message);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_newline_ends_a_statement),
    cmocka_unit_test (test_semicolon_ends_a_statement),
    cmocka_unit_test (test_empty_lines_and_stray_semicolons_make_no_statements),
    cmocka_unit_test (test_empty_text_is_an_empty_scenario),
    cmocka_unit_test (test_comment_runs_to_the_end_of_the_line_and_ends_the_statement),
    cmocka_unit_test (test_hash_inside_a_string_is_not_a_comment),
    cmocka_unit_test (test_bare_words_keep_punctuation_and_numbers_are_not_parsed),
    cmocka_unit_test (test_single_character_words_including_at_end_of_text),
    cmocka_unit_test (test_utf8_words_are_bare_words),
    cmocka_unit_test (test_quoted_string_decodes_its_four_escapes),
    cmocka_unit_test (test_quoted_string_may_hold_syntax_characters_and_be_empty),
    cmocka_unit_test (test_quoted_string_spans_lines),
    cmocka_unit_test (test_a_keyword_written_quoted_is_marked_quoted),
    cmocka_unit_test (test_text_need_not_be_nul_terminated),
    cmocka_unit_test (test_utf8_byte_order_mark_is_skipped),
    cmocka_unit_test (test_backslash_at_end_of_line_continues_the_statement),
    cmocka_unit_test (test_backslash_attached_to_a_word_continues_and_is_removed),
    cmocka_unit_test (test_backslash_continues_past_trailing_blanks_and_a_comment),
    cmocka_unit_test (test_backslash_continues_with_crlf_and_at_end_of_file),
    cmocka_unit_test (test_backslash_inside_a_line_is_part_of_the_word),
    cmocka_unit_test (test_block_holds_child_statements),
    cmocka_unit_test (test_block_records_its_brace_positions),
    cmocka_unit_test (test_empty_block_has_an_empty_children_array),
    cmocka_unit_test (test_blocks_nest),
    cmocka_unit_test (test_statements_may_follow_the_opening_brace_on_its_line),
    cmocka_unit_test (test_closing_brace_also_ends_the_statement_before_it),
    cmocka_unit_test (test_blocks_may_nest_to_the_maximum_depth),
    cmocka_unit_test (test_positions_are_one_based_and_count_bytes),
    cmocka_unit_test (test_quoted_word_position_is_its_opening_quote),
    cmocka_unit_test (test_positions_after_a_multi_line_string),
    cmocka_unit_test (test_positions_after_a_continuation),
    cmocka_unit_test (test_positions_after_a_comment_and_escapes),
    cmocka_unit_test (test_crlf_line_endings_parse_like_lf),
    cmocka_unit_test (test_crlf_inside_a_string_becomes_lf),
    cmocka_unit_test (test_sample_scenario_parses),
    cmocka_unit_test (test_unterminated_string_is_reported_at_its_opening_quote),
    cmocka_unit_test (test_unterminated_string_after_a_multi_line_string_names_the_likely_culprit),
    cmocka_unit_test (test_unterminated_string_ending_in_a_backslash),
    cmocka_unit_test (test_unknown_escape_is_reported_at_its_backslash),
    cmocka_unit_test (test_backslash_at_end_of_line_inside_a_string_is_rejected),
    cmocka_unit_test (test_closing_brace_without_opening_brace),
    cmocka_unit_test (test_missing_closing_brace_is_reported_at_end_of_file),
    cmocka_unit_test (test_opening_brace_on_its_own_line_suggests_moving_it),
    cmocka_unit_test (test_opening_brace_without_a_statement),
    cmocka_unit_test (test_nul_byte_is_rejected_with_its_position),
    cmocka_unit_test (test_invalid_utf8_is_rejected_with_its_position),
    cmocka_unit_test (test_control_character_is_rejected),
    cmocka_unit_test (test_word_touching_a_string_is_rejected),
    cmocka_unit_test (test_nesting_deeper_than_the_maximum_is_rejected),
    cmocka_unit_test (test_hostile_nesting_fails_cleanly),
    cmocka_unit_test (test_word_longer_than_the_maximum_is_rejected),
    cmocka_unit_test (test_too_many_words_are_rejected),
    cmocka_unit_test (test_file_larger_than_4_mib_is_rejected),
    cmocka_unit_test (test_set_error_at_formats_file_line_column),
    cmocka_unit_test (test_suggest_finds_a_close_typo),
    cmocka_unit_test (test_suggest_ignores_case),
    cmocka_unit_test (test_suggest_counts_a_transposition_as_one_edit),
    cmocka_unit_test (test_suggest_returns_null_when_nothing_is_close),
    cmocka_unit_test (test_suggest_allows_more_edits_for_longer_words),
    cmocka_unit_test (test_suggest_prefers_the_closest_then_the_first),
    cmocka_unit_test (test_suggest_accepts_null_terminated_lists_and_unicode),
    cmocka_unit_test (test_fuzz_random_and_mutated_inputs_parse_or_fail_with_a_position),
    cmocka_unit_test (test_checked_in_scenarios_are_syntactically_valid),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
