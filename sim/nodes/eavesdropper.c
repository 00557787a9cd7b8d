/* eavesdropper.c: what a listener on the path sees. */
#include "nodes/eavesdropper.h"

#include <string.h>

struct _Eavesdropper
{
  SimNode *node;
};

/* The first line of a payload, printable, for the narration. */
static char *
first_line (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len && i < 120 && data[i] != '\r' && data[i] != '\n'; i++)
    {
      guchar c = (guchar) data[i];
      if (c >= 0x20 && c < 0x7f)
        g_string_append_c (out, (char) c);
      else
        g_string_append_c (out, '.');
    }
  return g_string_free (out, FALSE);
}

static void
overheard (SimLink *link, SimNode *from, SimNode *to, const char *protocol, GBytes *bytes,
           gboolean encrypted, gpointer user_data)
{
  Eavesdropper *self = user_data;

  if (encrypted)
    {
      /* A stand-in for ciphertext: a digest of the bytes, so the same
       * plaintext always looks the same and nothing can be read back. */
      g_autofree char *digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
      sim_node_emit (self->node, SIM_EVENT_NOTE, "", protocol, "eavesdrop.encrypted", "encrypted", NULL,
                     "overhears %s -> %s: %" G_GSIZE_FORMAT " bytes of TLS ciphertext %.24s... (unreadable)",
                     sim_node_get_name (from), sim_node_get_name (to), g_bytes_get_size (bytes), digest);
      return;
    }
  g_autofree char *line = first_line (bytes);
  sim_node_emit (self->node, SIM_EVENT_NOTE, "", protocol, "eavesdrop.plaintext", "plaintext", NULL,
                 "overhears %s -> %s in clear text: \"%s\"", sim_node_get_name (from), sim_node_get_name (to), line);
}

Eavesdropper *
eavesdropper_new (SimNode *node)
{
  Eavesdropper *self = g_new0 (Eavesdropper, 1);

  self->node = node;
  return self;
}

void
eavesdropper_free (Eavesdropper *self)
{
  g_free (self);
}

void
eavesdropper_tap (Eavesdropper *self, SimLink *link)
{
  sim_link_add_tap (link, overheard, self);
}
