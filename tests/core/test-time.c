/* test-time.c: reading and writing simulated times ("250ms", "1.5s", "2m"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/sim-time.h"

static SimTime
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  SimTime value = -1;

  if (!sim_time_parse (text, &value, &error))
    fail_msg ("'%s' should parse: %s", text, error->message);
  assert_null (error);
  return value;
}

static void
assert_parse_fails (const char *text, const char *message_part)
{
  g_autoptr(GError) error = NULL;
  SimTime value = 12345;

  assert_false (sim_time_parse (text, &value, &error));
  assert_true (g_error_matches (error, SIM_TIME_ERROR, SIM_TIME_ERROR_SYNTAX));
  if (strstr (error->message, message_part) == NULL)
    fail_msg ("error for '%s' is '%s', expected it to mention '%s'", text, error->message, message_part);
  /* A failed parse leaves the output alone. */
  assert_int_equal (value, 12345);
}

static void
test_parse_each_unit (void **state)
{
  assert_int_equal (parse_ok ("10us"), 10);
  assert_int_equal (parse_ok ("250ms"), 250 * SIM_TIME_MSEC);
  assert_int_equal (parse_ok ("3s"), 3 * SIM_TIME_SECOND);
  assert_int_equal (parse_ok ("2m"), 120 * SIM_TIME_SECOND);
  assert_int_equal (parse_ok ("1h"), 3600 * SIM_TIME_SECOND);
  assert_int_equal (parse_ok ("5d"), 5 * 86400 * SIM_TIME_SECOND);
  assert_int_equal (parse_ok ("0s"), 0);
  assert_int_equal (parse_ok ("0us"), 0);
}

static void
test_parse_ms_is_not_read_as_minutes (void **state)
{
  assert_int_equal (parse_ok ("1ms"), 1000);
  assert_int_equal (parse_ok ("1m"), 60000000);
}

static void
test_parse_fractions (void **state)
{
  assert_int_equal (parse_ok ("1.5s"), 1500000);
  assert_int_equal (parse_ok ("0.25s"), 250000);
  assert_int_equal (parse_ok ("1.5m"), 90 * SIM_TIME_SECOND);
  assert_int_equal (parse_ok ("0.5d"), 12 * SIM_TIME_HOUR);
  assert_int_equal (parse_ok ("2.5ms"), 2500);
  assert_int_equal (parse_ok ("0.000001s"), 1);
  assert_int_equal (parse_ok (".5s"), 500000);
}

static void
test_parse_digits_finer_than_a_microsecond_are_dropped (void **state)
{
  assert_int_equal (parse_ok ("1.0000019s"), 1000001);
  assert_int_equal (parse_ok ("0.9us"), 0);
  assert_int_equal (parse_ok ("1.23456789012345678s"), 1234567);
}

static void
test_parse_long_fractions_of_big_units (void **state)
{
  /* Nine or more fraction digits of a day or an hour once overflowed the
   * intermediate product and gave nonsense. */
  assert_int_equal (parse_ok ("0.123456789d"), G_GINT64_CONSTANT (10666666569));
  assert_int_equal (parse_ok ("1.999999999999d"), 2 * SIM_TIME_DAY - 1);
  assert_int_equal (parse_ok ("0.000000001h"), 3);
  assert_int_equal (parse_ok ("2.718281828459m"), 163096909);
}

static void
test_parse_without_unit_fails_and_names_the_units (void **state)
{
  assert_parse_fails ("250", "needs a unit: us, ms, s, m, h or d");
  assert_parse_fails ("1.5", "needs a unit");
}

static void
test_parse_rejects_bad_syntax (void **state)
{
  assert_parse_fails ("", "expected a time such as 250ms");
  assert_parse_fails ("ms", "expected a time");
  assert_parse_fails ("-5s", "expected a time");
  assert_parse_fails ("5 s", "needs a unit");
  assert_parse_fails ("5sec", "needs a unit");
  assert_parse_fails ("5S", "needs a unit");
  assert_parse_fails ("1.2.3s", "needs a unit");
  assert_parse_fails ("5s ", "needs a unit");
}

static void
test_parse_largest_time_and_overflow (void **state)
{
  assert_true (parse_ok ("9223372036854775807us") == G_MAXINT64);
  assert_parse_fails ("9223372036854775808us", "too large");
  assert_parse_fails ("99999999999999999999999s", "too large");
  /* 106751991 days fit in a signed 64-bit count of microseconds; 106751992 do not. */
  assert_true (parse_ok ("106751991d") == 106751991 * SIM_TIME_DAY);
  assert_parse_fails ("106751992d", "too large");
  /* The fraction can push a whole part that fits over the edge. */
  assert_true (parse_ok ("106751991.1d") == 106751991 * SIM_TIME_DAY + SIM_TIME_DAY / 10);
  assert_parse_fails ("106751991.5d", "too large");
  assert_parse_fails ("9223372036854.9s", "too large");
  assert_true (parse_ok ("9223372036854.775807s") == G_MAXINT64);
}

static void
assert_spelling (SimTime time, const char *expected)
{
  g_autofree char *text = sim_time_to_string (time);
  assert_string_equal (text, expected);
}

static void
test_to_string_uses_the_natural_unit (void **state)
{
  assert_spelling (0, "0s");
  assert_spelling (7, "7us");
  assert_spelling (250 * SIM_TIME_MSEC, "250ms");
  assert_spelling (1500 * SIM_TIME_MSEC, "1.5s");
  assert_spelling (1000001, "1.000001s");
  assert_spelling (45 * SIM_TIME_SECOND, "45s");
  assert_spelling (2 * SIM_TIME_MINUTE, "2m");
  assert_spelling (90 * SIM_TIME_SECOND, "90s");
  assert_spelling (SIM_TIME_HOUR, "1h");
  assert_spelling (36 * SIM_TIME_HOUR, "36h");
  assert_spelling (5 * SIM_TIME_DAY, "5d");
  assert_spelling (-3 * SIM_TIME_SECOND, "-3s");
}

static void
assert_round_trip (SimTime time)
{
  g_autofree char *text = sim_time_to_string (time);
  SimTime back = parse_ok (text);
  if (back != time)
    fail_msg ("%" G_GINT64_FORMAT " printed as '%s' reads back as %" G_GINT64_FORMAT, time, text, back);
}

static void
test_to_string_round_trips_through_parse (void **state)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5321);
  const SimTime fixed[] = {
    0, 1, 999, 1000, 1001, 999999, SIM_TIME_SECOND, SIM_TIME_SECOND + 1, 59 * SIM_TIME_SECOND,
    SIM_TIME_MINUTE, SIM_TIME_HOUR + SIM_TIME_MSEC, SIM_TIME_DAY, 106751991 * SIM_TIME_DAY, G_MAXINT64,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    assert_round_trip (fixed[i]);
  for (int i = 0; i < 5000; i++)
    {
      /* Spread over every magnitude, from microseconds to centuries. */
      int bits = g_rand_int_range (rand, 1, 63);
      SimTime value = (SimTime) (((guint64) g_rand_int (rand) << 32 | g_rand_int (rand)) >> (64 - bits));
      assert_round_trip (value);
    }
}

static void
test_format_clock_is_fixed_width (void **state)
{
  char buffer[32];

  assert_string_equal (sim_time_format_clock (0, buffer), "       0.000s");
  assert_string_equal (sim_time_format_clock (12 * SIM_TIME_SECOND + 345 * SIM_TIME_MSEC, buffer),
                       "      12.345s");
  assert_string_equal (sim_time_format_clock (12345678, buffer), "      12.345678s");
  assert_string_equal (sim_time_format_clock (-5, buffer), "       0.000s");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_each_unit),
    cmocka_unit_test (test_parse_ms_is_not_read_as_minutes),
    cmocka_unit_test (test_parse_fractions),
    cmocka_unit_test (test_parse_digits_finer_than_a_microsecond_are_dropped),
    cmocka_unit_test (test_parse_long_fractions_of_big_units),
    cmocka_unit_test (test_parse_without_unit_fails_and_names_the_units),
    cmocka_unit_test (test_parse_rejects_bad_syntax),
    cmocka_unit_test (test_parse_largest_time_and_overflow),
    cmocka_unit_test (test_to_string_uses_the_natural_unit),
    cmocka_unit_test (test_to_string_round_trips_through_parse),
    cmocka_unit_test (test_format_clock_is_fixed_width),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
