/* sim-narration.c: narration and JSON Lines sinks. */
#include "trace/sim-narration.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "net/sim-network.h"
#include "proto/dns/dns-message.h"
#include "trace/sim-explain.h"

/* Splits a protocol payload into printable lines, marking control bytes. */
static void
describe_text_lines (GPtrArray *lines, GBytes *bytes, const char *prefix, guint limit)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  gsize start = 0;
  guint count = 0;

  while (start < len)
    {
      const char *newline = memchr (data + start, '\n', len - start);
      gsize end = newline != NULL ? (gsize) (newline - data) : len;
      gsize stop = end > start && data[end - 1] == '\r' ? end - 1 : end;
      GString *line = g_string_new (prefix);

      if (count == limit)
        {
          g_string_append_printf (line, "... (%" G_GSIZE_FORMAT " more bytes)", len - start);
          g_ptr_array_add (lines, g_string_free (line, FALSE));
          return;
        }
      for (gsize i = start; i < stop; i++)
        {
          guchar c = (guchar) data[i];
          /* A tab starts the continuation lines of folded headers
           * (RFC 5322 2.2.3): show it as the indentation it is. */
          if (c == '\t')
            g_string_append (line, "    ");
          else if (c >= 0x20 && c < 0x7f)
            g_string_append_c (line, (char) c);
          else
            g_string_append_printf (line, "\\x%02x", c);
        }
      g_ptr_array_add (lines, g_string_free (line, FALSE));
      count++;
      start = end + 1;
    }
}

GPtrArray *
sim_event_describe (const SimEvent *event)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  char from_address[16], to_address[16];

  switch (event->kind)
    {
    case SIM_EVENT_DATA:
    case SIM_EVENT_LOST:
      if (event->bytes != NULL && g_str_equal (event->protocol, "dns"))
        {
          /* RFC 1035 4.2.2: over TCP a two-octet length precedes the message. */
          gsize len;
          const guint8 *data = g_bytes_get_data (event->bytes, &len);
          if (len >= 2 && (((gsize) data[0] << 8) | data[1]) == len - 2)
            {
              data += 2;
              len -= 2;
            }
          g_autoptr (DnsMessage) message = dns_message_decode (data, len, NULL);
          if (message == NULL)
            g_ptr_array_add (lines, g_strdup_printf ("LOST: %s", event->text != NULL ? event->text : ""));
          if (message != NULL)
            {
              g_autofree char *summary = dns_message_summary (message);
              g_ptr_array_add (lines, g_strdup_printf ("%s%s", event->kind == SIM_EVENT_LOST ? "LOST " : "", summary));
            }
          break;
        }
      if (event->bytes != NULL)
        describe_text_lines (lines, event->bytes,
                             event->encrypted ? (event->from_client ? "C: [TLS] " : "S: [TLS] ")
                                              : (event->from_client ? "C: " : "S: "),
                             g_strcmp0 (event->explain, "smtp.data.content") == 0 ? 40 : 60);
      if (event->kind == SIM_EVENT_LOST)
        g_ptr_array_insert (lines, 0, g_strdup_printf ("LOST: %s", event->text != NULL ? event->text : ""));
      break;
    case SIM_EVENT_DATAGRAM:
      {
        g_autoptr (DnsMessage) message = NULL;
        if (event->bytes != NULL && g_str_equal (event->protocol, "dns"))
          message = dns_message_decode (g_bytes_get_data (event->bytes, NULL), g_bytes_get_size (event->bytes), NULL);
        if (message == NULL)
          {
            g_ptr_array_add (lines, g_strdup_printf ("%s datagram of %" G_GSIZE_FORMAT " bytes", event->protocol,
                                                     event->bytes != NULL ? g_bytes_get_size (event->bytes) : 0));
            break;
          }
        g_autoptr (GPtrArray) detail = dns_message_describe (message);
        g_ptr_array_add (lines, dns_message_summary (message));
        for (guint i = 0; i < detail->len; i++)
          {
            const char *line = g_ptr_array_index (detail, i);
            if (g_str_has_prefix (line, "answer") || g_str_has_prefix (line, "authority")
                || g_str_has_prefix (line, "additional"))
              g_ptr_array_add (lines, g_strdup_printf ("  %s", line));
          }
        break;
      }
    case SIM_EVENT_CONNECT:
      g_ptr_array_add (lines, g_strdup_printf ("TCP connect %s:%u -> %s:%u (%s)",
                                               sim_address_to_string (event->from_address, from_address), event->from_port,
                                               sim_address_to_string (event->to_address, to_address), event->to_port,
                                               event->protocol));
      break;
    case SIM_EVENT_ACCEPT:
      g_ptr_array_add (lines, g_strdup_printf ("TCP accept: connection %" G_GUINT64_FORMAT " open", event->connection));
      break;
    case SIM_EVENT_REFUSED:
    case SIM_EVENT_UNREACHABLE:
    case SIM_EVENT_RESET:
      g_ptr_array_add (lines, g_strdup_printf ("TCP %s: %s", sim_event_kind_to_string (event->kind),
                                               event->text != NULL ? event->text : ""));
      break;
    case SIM_EVENT_CLOSE:
      g_ptr_array_add (lines, g_strdup ("TCP close (FIN)"));
      break;
    case SIM_EVENT_MAIL:
    case SIM_EVENT_NOTE:
    case SIM_EVENT_ACTION:
      g_ptr_array_add (lines, g_strdup (event->text != NULL ? event->text : ""));
      break;
    case SIM_EVENT_EXPECT:
      g_ptr_array_add (lines, g_strdup_printf ("%s %s: %s", g_strcmp0 (event->status, "pass") == 0 ? "PASS" : "FAIL",
                                               event->message != NULL ? event->message : "",
                                               event->text != NULL ? event->text : ""));
      break;
    }
  return lines;
}

static void
narrate (const SimEvent *event, gpointer user_data)
{
  SimNarrationOptions *options = user_data;
  g_autoptr (GPtrArray) lines = NULL;
  char clock[32];
  g_autofree char *parties = NULL;
  const SimExplanation *explanation;

  /* The TCP handshake and FINs would drown the dialogue; they are in the
   * JSON trace and the pcap.  Refusals and failures are shown. */
  if (event->kind == SIM_EVENT_ACCEPT || event->kind == SIM_EVENT_CLOSE)
    return;
  lines = sim_event_describe (event);
  if (event->to != NULL && event->to[0] != '\0')
    parties = g_strdup_printf ("%s -> %s", event->from, event->to);
  else
    parties = g_strdup (event->from != NULL && event->from[0] != '\0' ? event->from : "mailsim");
  sim_time_format_clock (event->time, clock);
  for (guint i = 0; i < lines->len; i++)
    {
      if (i == 0)
        fprintf (options->out, "%s  %-40s  %s\n", clock, parties, (const char *) g_ptr_array_index (lines, i));
      else
        fprintf (options->out, "%*s  %-40s  %s\n", (int) strlen (clock), "", "", (const char *) g_ptr_array_index (lines, i));
    }
  explanation = sim_explain_lookup (event->explain);
  if (options->explain && explanation != NULL && event->kind != SIM_EVENT_EXPECT)
    fprintf (options->out, "%*s  %-40s  # %s%s%s%s\n", (int) strlen (clock), "", "", explanation->text,
             explanation->rfc != NULL ? " (" : "", explanation->rfc != NULL ? explanation->rfc : "",
             explanation->rfc != NULL ? ")" : "");
}

void
sim_narration_attach (SimTrace *trace, const SimNarrationOptions *options)
{
  sim_trace_add_sink (trace, narrate, g_memdup2 (options, sizeof *options), g_free);
}

static void
write_json (const SimEvent *event, gpointer user_data)
{
  FILE *out = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) lines = sim_event_describe (event);
  char address[16];
  const SimExplanation *explanation = sim_explain_lookup (event->explain);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, (gint64) event->seq);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, sim_event_kind_to_string (event->kind));
  json_builder_set_member_name (builder, "time_us");
  json_builder_add_int_value (builder, event->time);
  json_builder_set_member_name (builder, "arrival_us");
  json_builder_add_int_value (builder, event->arrival);
  json_builder_set_member_name (builder, "from");
  json_builder_add_string_value (builder, event->from);
  json_builder_set_member_name (builder, "to");
  json_builder_add_string_value (builder, event->to);
  if (event->from_address != 0)
    {
      json_builder_set_member_name (builder, "from_address");
      json_builder_add_string_value (builder, sim_address_to_string (event->from_address, address));
      json_builder_set_member_name (builder, "from_port");
      json_builder_add_int_value (builder, event->from_port);
    }
  if (event->to_address != 0)
    {
      json_builder_set_member_name (builder, "to_address");
      json_builder_add_string_value (builder, sim_address_to_string (event->to_address, address));
      json_builder_set_member_name (builder, "to_port");
      json_builder_add_int_value (builder, event->to_port);
    }
  if (event->encrypted)
    {
      json_builder_set_member_name (builder, "encrypted");
      json_builder_add_boolean_value (builder, TRUE);
    }
  if (event->connection != 0)
    {
      json_builder_set_member_name (builder, "connection");
      json_builder_add_int_value (builder, (gint64) event->connection);
      json_builder_set_member_name (builder, "from_client");
      json_builder_add_boolean_value (builder, event->from_client);
    }
  json_builder_set_member_name (builder, "protocol");
  json_builder_add_string_value (builder, event->protocol);
  if (event->explain != NULL)
    {
      json_builder_set_member_name (builder, "explain");
      json_builder_add_string_value (builder, event->explain);
      if (explanation != NULL && explanation->rfc != NULL)
        {
          json_builder_set_member_name (builder, "rfc");
          json_builder_add_string_value (builder, explanation->rfc);
        }
    }
  if (event->status != NULL)
    {
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, event->status);
    }
  if (event->message != NULL)
    {
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, event->message);
    }
  if (event->path != NULL)
    {
      json_builder_set_member_name (builder, "path");
      json_builder_begin_array (builder);
      for (guint i = 0; i < event->path->len; i++)
        json_builder_add_string_value (builder, g_ptr_array_index (event->path, i));
      json_builder_end_array (builder);
    }
  json_builder_set_member_name (builder, "summary");
  json_builder_begin_array (builder);
  for (guint i = 0; i < lines->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (lines, i));
  json_builder_end_array (builder);
  if (event->bytes != NULL)
    {
      g_autofree char *encoded = g_base64_encode (g_bytes_get_data (event->bytes, NULL), g_bytes_get_size (event->bytes));
      json_builder_set_member_name (builder, "bytes_base64");
      json_builder_add_string_value (builder, encoded);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  fprintf (out, "%s\n", text);
}

void
sim_json_attach (SimTrace *trace, FILE *out)
{
  sim_trace_add_sink (trace, write_json, out, NULL);
}
