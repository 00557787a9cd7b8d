/* sim-time.c: parsing and printing simulated times. */
#include "core/sim-time.h"

#include <string.h>

G_DEFINE_QUARK (sim-time-error-quark, sim_time_error)

typedef struct
{
  const char *unit;
  SimTime scale;
} TimeUnit;

/* Longest unit names first so "ms" is not read as "m". */
static const TimeUnit time_units[] = {
  { "us", SIM_TIME_USEC },
  { "ms", SIM_TIME_MSEC },
  { "s", SIM_TIME_SECOND },
  { "m", SIM_TIME_MINUTE },
  { "h", SIM_TIME_HOUR },
  { "d", SIM_TIME_DAY },
};

static guint64
greatest_common_divisor (guint64 a, guint64 b)
{
  while (b != 0)
    {
      guint64 r = a % b;
      a = b;
      b = r;
    }
  return a;
}

gboolean
sim_time_parse (const char *text, SimTime *out, GError **error)
{
  const char *p = text;
  guint64 whole = 0;
  guint64 fraction = 0;
  guint64 fraction_scale = 1;
  gboolean have_digits = FALSE;

  while (g_ascii_isdigit (*p))
    {
      if (whole > G_MAXINT64 / 10)
        goto too_large;
      whole = whole * 10 + (guint64) (*p - '0');
      have_digits = TRUE;
      p++;
    }
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        {
          /* Microseconds are the finest unit; digits beyond six places of a
           * second cannot change the value, so they are read and ignored. */
          if (fraction_scale < 1000000000000ULL)
            {
              fraction = fraction * 10 + (guint64) (*p - '0');
              fraction_scale *= 10;
            }
          have_digits = TRUE;
          p++;
        }
    }
  if (!have_digits)
    {
      g_set_error (error, SIM_TIME_ERROR, SIM_TIME_ERROR_SYNTAX,
                   "expected a time such as 250ms, 1.5s, 2m, 1h or 5d, found '%s'", text);
      return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (time_units); i++)
    {
      if (strcmp (p, time_units[i].unit) == 0)
        {
          guint64 scale = (guint64) time_units[i].scale;
          /* fraction * scale overflows 64 bits for long fractions of a day
           * or an hour; dividing both sides of fraction / fraction_scale by
           * their common factor keeps the product small and exact. */
          guint64 common = greatest_common_divisor (scale, fraction_scale);
          guint64 part = fraction * (scale / common) / (fraction_scale / common);
          if (whole > (guint64) G_MAXINT64 / scale || part > (guint64) G_MAXINT64 - whole * scale)
            goto too_large;
          *out = (SimTime) (whole * scale + part);
          return TRUE;
        }
    }
  g_set_error (error, SIM_TIME_ERROR, SIM_TIME_ERROR_SYNTAX,
               "'%s' needs a unit: us, ms, s, m, h or d (for example 250ms or 1.5s)", text);
  return FALSE;

too_large:
  g_set_error (error, SIM_TIME_ERROR, SIM_TIME_ERROR_SYNTAX, "time '%s' is too large", text);
  return FALSE;
}

char *
sim_time_to_string (SimTime time)
{
  const char *sign = time < 0 ? "-" : "";
  guint64 value = time < 0 ? (guint64) -time : (guint64) time;

  if (value == 0)
    return g_strdup ("0s");
  /* Whole days, hours and minutes read best in their own unit. */
  if (value % (guint64) SIM_TIME_DAY == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT "d", sign, value / (guint64) SIM_TIME_DAY);
  if (value % (guint64) SIM_TIME_HOUR == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT "h", sign, value / (guint64) SIM_TIME_HOUR);
  if (value % (guint64) SIM_TIME_MINUTE == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT "m", sign, value / (guint64) SIM_TIME_MINUTE);
  if (value >= (guint64) SIM_TIME_SECOND)
    {
      guint64 seconds = value / (guint64) SIM_TIME_SECOND;
      guint64 micro = value % (guint64) SIM_TIME_SECOND;
      if (micro == 0)
        return g_strdup_printf ("%s%" G_GUINT64_FORMAT "s", sign, seconds);
      char digits[8];
      g_snprintf (digits, sizeof digits, "%06" G_GUINT64_FORMAT, micro);
      for (int i = 5; i > 0 && digits[i] == '0'; i--)
        digits[i] = '\0';
      return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%ss", sign, seconds, digits);
    }
  if (value % (guint64) SIM_TIME_MSEC == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT "ms", sign, value / (guint64) SIM_TIME_MSEC);
  return g_strdup_printf ("%s%" G_GUINT64_FORMAT "us", sign, value);
}

const char *
sim_time_format_clock (SimTime time, char buffer[32])
{
  guint64 value = time < 0 ? 0 : (guint64) time;
  guint64 seconds = value / (guint64) SIM_TIME_SECOND;
  guint64 micro = value % (guint64) SIM_TIME_SECOND;

  if (micro % 1000 == 0)
    g_snprintf (buffer, 32, "%8" G_GUINT64_FORMAT ".%03" G_GUINT64_FORMAT "s", seconds, micro / 1000);
  else
    g_snprintf (buffer, 32, "%8" G_GUINT64_FORMAT ".%06" G_GUINT64_FORMAT "s", seconds, micro);
  return buffer;
}

GDateTime *
sim_time_to_date_time (SimTime time)
{
  g_autoptr (GDateTime) epoch = g_date_time_new_from_unix_utc (SIM_TIME_EPOCH_UNIX);
  return g_date_time_add (epoch, time);
}

char *
sim_time_to_rfc5322 (SimTime time)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr (GDateTime) date = sim_time_to_date_time (time);

  /* Day and month names are spelled out here rather than taken from the
   * locale: RFC 5322 dates are always English. */
  return g_strdup_printf ("%s, %02d %s %04d %02d:%02d:%02d +0000",
                          days[g_date_time_get_day_of_week (date) - 1],
                          g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1],
                          g_date_time_get_year (date), g_date_time_get_hour (date),
                          g_date_time_get_minute (date), g_date_time_get_second (date));
}
