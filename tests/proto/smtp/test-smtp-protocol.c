/* test-smtp-protocol.c: SMTP syntax shared by server and client (RFC 5321). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto/smtp/smtp-protocol.h"

static void
test_verbs_are_case_insensitive_and_split_the_argument (void **state)
{
  const char *argument = NULL;

  assert_int_equal (smtp_verb_parse ("EHLO client.example", &argument), SMTP_VERB_EHLO);
  assert_string_equal (argument, "client.example");
  assert_int_equal (smtp_verb_parse ("mail FROM:<a@b.example>", &argument), SMTP_VERB_MAIL);
  assert_string_equal (argument, "FROM:<a@b.example>");
  assert_int_equal (smtp_verb_parse ("QuIt", &argument), SMTP_VERB_QUIT);
  assert_null (argument);
  assert_int_equal (smtp_verb_parse ("DATA ", &argument), SMTP_VERB_DATA);
  assert_string_equal (argument, "");
  assert_int_equal (smtp_verb_parse ("STARTTLS", &argument), SMTP_VERB_STARTTLS);
}

static void
test_unknown_verbs_and_prefixes_are_unknown (void **state)
{
  const char *argument = NULL;

  assert_int_equal (smtp_verb_parse ("HELLO there", &argument), SMTP_VERB_UNKNOWN);
  assert_int_equal (smtp_verb_parse ("HEL", &argument), SMTP_VERB_UNKNOWN);
  assert_int_equal (smtp_verb_parse ("", &argument), SMTP_VERB_UNKNOWN);
  assert_int_equal (smtp_verb_parse (" MAIL", &argument), SMTP_VERB_UNKNOWN);
  assert_string_equal (smtp_verb_to_string (SMTP_VERB_RCPT), "RCPT");
  assert_string_equal (smtp_verb_to_string (SMTP_VERB_UNKNOWN), "UNKNOWN");
}

typedef struct
{
  const char *argument;
  const char *keyword;
  const char *address;     /* NULL: must fail */
  const char *parameters;
} PathCase;

static void
test_path_arguments (void **state)
{
  static const PathCase cases[] = {
    { "FROM:<alice@example.org>", "FROM:", "alice@example.org", "" },
    { "from:<alice@example.org> SIZE=1234 BODY=8BITMIME", "FROM:", "alice@example.org", "SIZE=1234 BODY=8BITMIME" },
    /* A space after the colon is tolerated, as Postfix does. */
    { "FROM: <alice@example.org>", "FROM:", "alice@example.org", "" },
    /* The null reverse-path of a bounce (RFC 5321 4.5.5). */
    { "FROM:<>", "FROM:", "", "" },
    { "TO:<bob@example.net>", "TO:", "bob@example.net", "" },
    /* RFC 5321 4.5.1: postmaster without a domain is a valid recipient. */
    { "TO:<Postmaster>", "TO:", "Postmaster", "" },
    /* A source route is read and its route dropped (RFC 5321 C). */
    { "TO:<@relay.example:bob@example.net>", "TO:", "bob@example.net", "" },
    { "FROM:alice@example.org", "FROM:", NULL, NULL },
    { "FROM:<alice@example.org", "FROM:", NULL, NULL },
    { "TO:<>", "TO:", NULL, NULL },
    { "TO:<bob>", "TO:", NULL, NULL },
    { "TO:<bob smith@example.net>", "TO:", NULL, NULL },
    { "TO:<@relay.example>", "TO:", NULL, NULL },
    { "FROM<alice@example.org>", "FROM:", NULL, NULL },
    { "TO:<bob@example.net>", "FROM:", NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *address = NULL;
      g_autofree char *parameters = NULL;
      const char *error_text = NULL;
      gboolean ok = smtp_parse_path_argument (cases[i].argument, cases[i].keyword, &address, &parameters,
                                              &error_text);
      if (ok != (cases[i].address != NULL))
        fail_msg ("'%s' should %s", cases[i].argument, cases[i].address != NULL ? "parse" : "be refused");
      if (!ok)
        {
          assert_non_null (error_text);
          assert_null (address);
          continue;
        }
      assert_string_equal (address, cases[i].address);
      assert_string_equal (parameters, cases[i].parameters);
    }
  assert_false (smtp_parse_path_argument (NULL, "FROM:", &(char *) { NULL }, &(char *) { NULL },
                                          &(const char *) { NULL }));
}

static void
test_path_longer_than_256_octets_is_refused (void **state)
{
  g_autofree char *local = g_strnfill (250, 'a');
  g_autofree char *fits = g_strdup_printf ("TO:<%.*s@x.example>", 244, local);
  g_autofree char *too_long = g_strdup_printf ("TO:<%s@x.example>", local);
  g_autofree char *address = NULL;
  g_autofree char *parameters = NULL;
  const char *error_text = NULL;

  /* RFC 5321 4.5.3.1.3: 256 octets including the angle brackets. */
  assert_true (smtp_parse_path_argument (fits, "TO:", &address, &parameters, &error_text));
  assert_int_equal (strlen (address) + 2, 256);
  g_clear_pointer (&address, g_free);
  g_clear_pointer (&parameters, g_free);
  assert_false (smtp_parse_path_argument (too_long, "TO:", &address, &parameters, &error_text));
  assert_string_equal (error_text, "path too long");
}

static void
test_address_domain (void **state)
{
  assert_string_equal (smtp_address_domain ("bob@example.org"), "example.org");
  assert_string_equal (smtp_address_domain ("\"a@b\"@example.org"), "example.org");
  assert_null (smtp_address_domain ("postmaster"));
  assert_null (smtp_address_domain (NULL));
}

static void
test_reply_lines_parse (void **state)
{
  guint code = 0;
  gboolean last = FALSE;
  const char *text = NULL;

  assert_true (smtp_reply_line_parse ("250-PIPELINING", &code, &last, &text));
  assert_int_equal (code, 250);
  assert_false (last);
  assert_string_equal (text, "PIPELINING");
  assert_true (smtp_reply_line_parse ("550 5.1.1 No such user", &code, &last, &text));
  assert_int_equal (code, 550);
  assert_true (last);
  assert_string_equal (text, "5.1.1 No such user");
  /* RFC 5321 4.2: the text is optional. */
  assert_true (smtp_reply_line_parse ("354", &code, &last, &text));
  assert_true (last);
  assert_string_equal (text, "");
  assert_false (smtp_reply_line_parse ("25", &code, &last, &text));
  assert_false (smtp_reply_line_parse ("2500 x", &code, &last, &text));
  assert_false (smtp_reply_line_parse ("650 x", &code, &last, &text));
  assert_false (smtp_reply_line_parse ("199 x", &code, &last, &text));
  assert_false (smtp_reply_line_parse ("abc def", &code, &last, &text));
  assert_false (smtp_reply_line_parse ("", &code, &last, &text));
}

static void
test_reply_format_repeats_code_and_enhanced_code_on_every_line (void **state)
{
  g_autoptr(GString) single = smtp_reply_format (250, "2.1.0", "Ok");
  g_autoptr(GString) plain = smtp_reply_format (220, NULL, "mx.example ESMTP");
  g_autoptr(GString) multi = smtp_reply_format (214, "2.0.0", "Commands: EHLO\nSee RFC 5321");
  g_autoptr(GString) empty = smtp_reply_format (354, NULL, NULL);

  assert_string_equal (single->str, "250 2.1.0 Ok\r\n");
  assert_string_equal (plain->str, "220 mx.example ESMTP\r\n");
  assert_string_equal (multi->str, "214-2.0.0 Commands: EHLO\r\n214 2.0.0 See RFC 5321\r\n");
  assert_string_equal (empty->str, "354 \r\n");
}

static void
test_reply_to_string_flattens_lines (void **state)
{
  g_autoptr(SmtpReply) reply = smtp_reply_new (550, "5.7.1", "Relay denied\nsee policy");
  g_autoptr(SmtpReply) copy = smtp_reply_copy (reply);
  g_autoptr(SmtpReply) bare = smtp_reply_new (421, NULL, NULL);
  g_autofree char *text = smtp_reply_to_string (copy);
  g_autofree char *bare_text = smtp_reply_to_string (bare);

  assert_string_equal (text, "550 5.7.1 Relay denied see policy");
  assert_string_equal (bare_text, "421 ");
  assert_true (copy->text != reply->text);
}

static void
assert_stuffed (const char *content, const char *expected)
{
  g_autoptr(GBytes) in = g_bytes_new (content, strlen (content));
  g_autoptr(GBytes) out = smtp_dot_stuff (in);
  gsize len;
  const char *data = g_bytes_get_data (out, &len);
  g_autofree char *text = g_strndup (data, len);

  assert_string_equal (text, expected);
}

static void
test_dot_stuffing_doubles_leading_dots_and_ends_with_dot_line (void **state)
{
  /* RFC 5321 4.5.2. */
  assert_stuffed ("Hello\r\n", "Hello\r\n.\r\n");
  assert_stuffed (".hidden\r\n.\r\n..two\r\n", "..hidden\r\n..\r\n...two\r\n.\r\n");
  assert_stuffed ("a.b\r\n .c\r\n", "a.b\r\n .c\r\n.\r\n");
  /* A last line without its CRLF gets one before the final dot. */
  assert_stuffed ("no newline", "no newline\r\n.\r\n");
  assert_stuffed ("", ".\r\n");
  /* Bare LF becomes CRLF (RFC 5321 2.3.8). */
  assert_stuffed ("one\ntwo\n.three\n", "one\r\ntwo\r\n..three\r\n.\r\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_verbs_are_case_insensitive_and_split_the_argument),
    cmocka_unit_test (test_unknown_verbs_and_prefixes_are_unknown),
    cmocka_unit_test (test_path_arguments),
    cmocka_unit_test (test_path_longer_than_256_octets_is_refused),
    cmocka_unit_test (test_address_domain),
    cmocka_unit_test (test_reply_lines_parse),
    cmocka_unit_test (test_reply_format_repeats_code_and_enhanced_code_on_every_line),
    cmocka_unit_test (test_reply_to_string_flattens_lines),
    cmocka_unit_test (test_dot_stuffing_doubles_leading_dots_and_ends_with_dot_line),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
