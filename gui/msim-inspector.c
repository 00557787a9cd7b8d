/* msim-inspector.c: DNS messages as trees, mail headers hop by hop, hex. */
#include "msim-inspector.h"

#include <string.h>

#include "proto/dns/dns-message.h"

/* A hex dump stops here: a whole message body teaches nothing more. */
#define HEX_DUMP_LIMIT 2048

struct _MsimInspector
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkTextView *text_view;
  GtkTextBuffer *buffer;
};

G_DEFINE_FINAL_TYPE (MsimInspector, msim_inspector, GTK_TYPE_WIDGET)

char *
msim_inspector_hex_dump (const guint8 *data, gsize len)
{
  GString *out = g_string_new (NULL);
  gsize shown = MIN (len, HEX_DUMP_LIMIT);

  for (gsize row = 0; row < shown; row += 16)
    {
      g_string_append_printf (out, "%04" G_GSIZE_MODIFIER "x  ", row);
      for (gsize i = row; i < row + 16; i++)
        {
          if (i < shown)
            g_string_append_printf (out, "%02x ", data[i]);
          else
            g_string_append (out, "   ");
          if (i == row + 7)
            g_string_append_c (out, ' ');
        }
      g_string_append (out, " ");
      for (gsize i = row; i < row + 16 && i < shown; i++)
        g_string_append_c (out, data[i] >= 0x20 && data[i] < 0x7f ? (char) data[i] : '.');
      g_string_append_c (out, '\n');
    }
  if (shown < len)
    g_string_append_printf (out, "... %" G_GSIZE_FORMAT " more bytes\n", len - shown);
  return g_string_free (out, FALSE);
}

static void
append_records (GString *out, const char *title, GPtrArray *records, gboolean last)
{
  const char *branch = last ? "\u2514\u2500 " : "\u251c\u2500 ";
  const char *stem = last ? "    " : "\u2502   ";

  g_string_append_printf (out, "%s%s (%u)\n", branch, title, records->len);
  for (guint i = 0; i < records->len; i++)
    {
      g_autofree char *text = dns_record_to_string (g_ptr_array_index (records, i));
      g_string_append_printf (out, "%s%s%s\n", stem, i + 1 == records->len ? "\u2514\u2500 " : "\u251c\u2500 ", text);
    }
}

char *
msim_inspector_describe_dns (const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DnsMessage) message = dns_message_decode (data, len, &error);
  GString *out = g_string_new (NULL);

  if (message == NULL)
    {
      g_string_append_printf (out, "Not a valid DNS message: %s\n", error->message);
      return g_string_free (out, FALSE);
    }
  g_string_append_printf (out, "DNS %s, %" G_GSIZE_FORMAT " bytes (RFC 1035 4.1)\n", message->qr ? "response" : "query", len);
  g_string_append (out, "\u251c\u2500 Header\n");
  g_string_append_printf (out, "\u2502   \u251c\u2500 id %u (matches a response to its query)\n", message->id);
  g_string_append_printf (out, "\u2502   \u251c\u2500 opcode %s, flags:%s%s%s%s%s\n", dns_opcode_to_string (message->opcode),
                          message->qr ? " QR (response)" : "", message->aa ? " AA (authoritative)" : "",
                          message->tc ? " TC (truncated)" : "", message->rd ? " RD (recursion desired)" : "",
                          message->ra ? " RA (recursion available)" : "");
  g_string_append_printf (out, "\u2502   \u2514\u2500 rcode %s\n", dns_rcode_to_string (message->rcode));
  g_string_append_printf (out, "\u251c\u2500 Question (%u)\n", message->questions->len);
  for (guint i = 0; i < message->questions->len; i++)
    {
      const DnsQuestion *question = g_ptr_array_index (message->questions, i);
      g_string_append_printf (out, "\u2502   %s%s IN %s?\n", i + 1 == message->questions->len ? "\u2514\u2500 " : "\u251c\u2500 ",
                              question->name, dns_type_to_string (question->type));
    }
  append_records (out, "Answer", message->answers, FALSE);
  append_records (out, "Authority", message->authorities, FALSE);
  append_records (out, "Additional", message->additionals, !message->has_edns);
  if (message->has_edns)
    g_string_append_printf (out, "\u2514\u2500 EDNS (RFC 6891): version %u, UDP payload up to %u bytes%s\n",
                            message->edns_version, message->edns_udp_size, message->edns_dnssec_ok ? ", DO" : "");
  return g_string_free (out, FALSE);
}

/* The header fields of @message, unfolded (RFC 5322 2.2.3). */
static GPtrArray *
header_fields (GBytes *message)
{
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = g_strndup (data, size);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strchomp (lines[i]);
      if (line[0] == '\0')
        break;
      if ((line[0] == ' ' || line[0] == '\t') && fields->len > 0)
        {
          char **last = (char **) &fields->pdata[fields->len - 1];
          char *joined = g_strconcat (*last, " ", g_strstrip (line), NULL);
          g_free (*last);
          *last = joined;
          continue;
        }
      g_ptr_array_add (fields, g_strdup (line));
    }
  return fields;
}

char *
msim_inspector_describe_headers (GBytes *message)
{
  g_autoptr (GPtrArray) fields = header_fields (message);
  GString *out = g_string_new ("The message's header fields (RFC 5322 3.6)\n\n");
  guint hops = 0, hop;

  for (guint i = 0; i < fields->len; i++)
    hops += g_ascii_strncasecmp (g_ptr_array_index (fields, i), "Received:", 9) == 0;
  hop = hops;
  for (guint i = 0; i < fields->len; i++)
    {
      const char *field = g_ptr_array_index (fields, i);
      if (g_ascii_strncasecmp (field, "Received:", 9) == 0)
        {
          g_string_append_printf (out, "Hop %u of %u%s\n  %s\n", hop, hops,
                                  hop == hops && hops > 1 ? " (the latest, added last, on top)"
                                  : hop == 1 ? " (the first server the message reached)" : "",
                                  g_strstrip ((char *) field + 9));
          hop--;
        }
      else
        g_string_append_printf (out, "%s\n", field);
    }
  if (hops > 0)
    g_string_append (out, "\nEvery server that takes the message adds a Received field at the top "
                          "(RFC 5321 4.4): read them from the bottom up to follow its journey.\n");
  return g_string_free (out, FALSE);
}

/* The mail message inside @event's bytes, or NULL: SMTP/LMTP DATA content
 * or an IMAP literal ({N} then N octets, RFC 3501 4.3). */
static GBytes *
find_message (const SimEvent *event)
{
  gsize size;
  const char *data;

  if (event->bytes == NULL || event->kind != SIM_EVENT_DATA)
    return NULL;
  data = g_bytes_get_data (event->bytes, &size);
  if (g_strcmp0 (event->explain, "smtp.data.content") == 0)
    return g_bytes_ref (event->bytes);
  if (g_strcmp0 (event->protocol, "imap") == 0)
    {
      const char *open = memchr (data, '{', size);
      if (open == NULL)
        return NULL;
      char *after = NULL;
      guint64 length = g_ascii_strtoull (open + 1, &after, 10);
      if (after == NULL || (gsize) (after - data) + 3 > size || after[0] != '}' || after[1] != '\r' || after[2] != '\n')
        return NULL;
      gsize start = (gsize) (after - data) + 3;
      if (length > size - start)
        return NULL;
      return g_bytes_new_from_bytes (event->bytes, start, length);
    }
  return NULL;
}

static void
insert (MsimInspector *self, const char *text, const char *tag)
{
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (self->buffer, &end);
  gtk_text_buffer_insert_with_tags_by_name (self->buffer, &end, text, -1, tag, NULL);
}

void
msim_inspector_show_event (MsimInspector *self, MsimRun *run, gint index)
{
  gtk_text_buffer_set_text (self->buffer, "", 0);
  if (run == NULL || index < 0)
    {
      insert (self, "The bytes of the current event, decoded: DNS messages as a tree, "
                    "mail messages with their Received trace.", "note");
      return;
    }
  const SimEvent *event = msim_run_get_event (run, index);
  g_autoptr (GBytes) message = find_message (event);
  if (event->bytes != NULL && g_strcmp0 (event->protocol, "dns") == 0)
    {
      g_autofree char *tree = msim_inspector_describe_dns (g_bytes_get_data (event->bytes, NULL), g_bytes_get_size (event->bytes));
      insert (self, "DNS message\n", "heading");
      insert (self, tree, NULL);
    }
  else if (message != NULL)
    {
      g_autofree char *headers = msim_inspector_describe_headers (message);
      insert (self, "Mail message\n", "heading");
      insert (self, headers, NULL);
    }
  else if (event->bytes == NULL)
    {
      insert (self, "This event carries no bytes: it is something a node did or decided.\n", "note");
      return;
    }
  gsize size;
  const guint8 *data = g_bytes_get_data (event->bytes, &size);
  g_autofree char *title = g_strdup_printf ("\nThe %" G_GSIZE_FORMAT " bytes on the wire\n", size);
  g_autofree char *dump = msim_inspector_hex_dump (data, size);
  insert (self, title, "heading");
  insert (self, dump, NULL);
}

char *
msim_inspector_get_text (MsimInspector *self)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (self->buffer, &start, &end);
  return gtk_text_buffer_get_text (self->buffer, &start, &end, FALSE);
}

static void
msim_inspector_dispose (GObject *object)
{
  MsimInspector *self = MSIM_INSPECTOR (object);

  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  G_OBJECT_CLASS (msim_inspector_parent_class)->dispose (object);
}

static void
msim_inspector_class_init (MsimInspectorClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = msim_inspector_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
msim_inspector_init (MsimInspector *self)
{
  self->scroller = gtk_scrolled_window_new ();
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  self->text_view = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), GTK_WIDGET (self->text_view));
  gtk_text_view_set_editable (self->text_view, FALSE);
  gtk_text_view_set_monospace (self->text_view, TRUE);
  gtk_text_view_set_wrap_mode (self->text_view, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (self->text_view, 8);
  gtk_text_view_set_top_margin (self->text_view, 8);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Inspector: the current event's bytes decoded", -1);
  self->buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_create_tag (self->buffer, "heading", "weight", PANGO_WEIGHT_BOLD, "family", "sans", "scale", 1.1, NULL);
  gtk_text_buffer_create_tag (self->buffer, "note", "style", PANGO_STYLE_ITALIC, "family", "sans", NULL);
}
