/* sim-time.h: simulated time.
 *
 * Simulated time is an integer count of microseconds since the start of the
 * run.  Nothing in the simulation reads the wall clock.  People write and
 * read times as a number and a unit: 250ms, 1.5s, 2m, 1h, 5d.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gint64 SimTime;

#define SIM_TIME_USEC   ((SimTime) 1)
#define SIM_TIME_MSEC   ((SimTime) 1000)
#define SIM_TIME_SECOND ((SimTime) 1000000)
#define SIM_TIME_MINUTE (60 * SIM_TIME_SECOND)
#define SIM_TIME_HOUR   (60 * SIM_TIME_MINUTE)
#define SIM_TIME_DAY    (24 * SIM_TIME_HOUR)
#define SIM_TIME_NEVER  G_MAXINT64

#define SIM_TIME_ERROR (sim_time_error_quark ())
typedef enum
{
  SIM_TIME_ERROR_SYNTAX,
} SimTimeError;

GQuark sim_time_error_quark (void);

/* Parses "250ms", "1.5s", "2m", "1h", "5d", "10us".  A unit is required;
 * the error message lists the units. */
gboolean sim_time_parse (const char *text, SimTime *out, GError **error);

/* The shortest exact spelling that sim_time_parse() reads back: "250ms",
 * "1.5s", "2m", "0s".  (transfer full) */
char *sim_time_to_string (SimTime time);

/* Fixed-width clock for narration, "   12.345678s" style but trimmed to
 * milliseconds when the microseconds are zero.  Writes into @buffer. */
const char *sim_time_format_clock (SimTime time, char buffer[32]);

/* The simulated calendar: time 0 is Monday 5 January 2026, 09:00:00 UTC,
 * a fixed instant so dates in messages are the same on every run. */
#define SIM_TIME_EPOCH_UNIX G_GINT64_CONSTANT (1767603600)

/* The calendar instant of @time, in UTC. (transfer full) */
GDateTime *sim_time_to_date_time (SimTime time);

/* An RFC 5322 3.3 date: "Mon, 05 Jan 2026 09:00:01 +0000". (transfer full) */
char *sim_time_to_rfc5322 (SimTime time);

G_END_DECLS
