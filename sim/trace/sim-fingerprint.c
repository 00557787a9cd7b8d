/* sim-fingerprint.c: a digest of a run's events. */
#include "trace/sim-fingerprint.h"

#include <string.h>

#include "trace/sim-narration.h"

struct _SimFingerprint
{
  GChecksum *checksum;
  GPtrArray *lines;
};

static void
add_string (GChecksum *checksum, const char *text)
{
  /* Each field ends with a NUL, so "ab"+"c" and "a"+"bc" differ. */
  if (text != NULL)
    g_checksum_update (checksum, (const guchar *) text, (gssize) strlen (text));
  g_checksum_update (checksum, (const guchar *) "", 1);
}

static void
add_number (GChecksum *checksum, gint64 value)
{
  char text[32];
  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  add_string (checksum, text);
}

static void
digest_event (const SimEvent *event, gpointer user_data)
{
  SimFingerprint *self = user_data;
  GChecksum *checksum = self->checksum;
  g_autoptr (GPtrArray) summary = NULL;
  char clock[32];

  /* Expectation results describe the checks, not the behaviour checked. */
  if (event->kind == SIM_EVENT_EXPECT)
    return;
  add_string (checksum, sim_event_kind_to_string (event->kind));
  add_number (checksum, event->time);
  add_number (checksum, event->arrival);
  add_string (checksum, event->from);
  add_string (checksum, event->to);
  add_number (checksum, event->from_address);
  add_number (checksum, event->to_address);
  add_number (checksum, event->from_port);
  add_number (checksum, event->to_port);
  add_number (checksum, (gint64) event->connection);
  add_number (checksum, event->from_client);
  add_number (checksum, event->encrypted);
  add_string (checksum, event->protocol);
  add_string (checksum, event->explain);
  add_string (checksum, event->status);
  add_string (checksum, event->message);
  add_string (checksum, event->text);
  if (event->bytes != NULL)
    g_checksum_update (checksum, g_bytes_get_data (event->bytes, NULL), (gssize) g_bytes_get_size (event->bytes));
  add_number (checksum, event->bytes != NULL ? (gint64) g_bytes_get_size (event->bytes) : -1);

  summary = sim_event_describe (event);
  g_ptr_array_add (self->lines, g_strdup_printf ("%s %s%s%s: %s", g_strchug ((sim_time_format_clock (event->time, clock), clock)),
                                                 event->from, event->to[0] != '\0' ? " -> " : "", event->to,
                                                 summary->len > 0 ? (const char *) g_ptr_array_index (summary, 0) : ""));
}

static void
fingerprint_free (gpointer data)
{
  SimFingerprint *self = data;

  g_checksum_free (self->checksum);
  g_ptr_array_unref (self->lines);
  g_free (self);
}

SimFingerprint *
sim_fingerprint_attach (SimTrace *trace)
{
  SimFingerprint *self = g_new0 (SimFingerprint, 1);

  self->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  self->lines = g_ptr_array_new_with_free_func (g_free);
  sim_trace_add_sink (trace, digest_event, self, fingerprint_free);
  return self;
}

char *
sim_fingerprint_get_hex (SimFingerprint *self)
{
  g_autoptr (GChecksum) copy = g_checksum_copy (self->checksum);
  return g_strndup (g_checksum_get_string (copy), 16);
}

GPtrArray *
sim_fingerprint_get_lines (SimFingerprint *self)
{
  return self->lines;
}
