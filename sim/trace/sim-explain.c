/* sim-explain.c: merges the per-protocol tables into one sorted catalogue. */
#include "trace/sim-explain.h"

#include <stdlib.h>
#include <string.h>

extern const SimExplanation sim_explain_core[];
extern const gsize sim_explain_core_count;
extern const SimExplanation sim_explain_smtp[];
extern const gsize sim_explain_smtp_count;
extern const SimExplanation sim_explain_dns[];
extern const gsize sim_explain_dns_count;
extern const SimExplanation sim_explain_imap[];
extern const gsize sim_explain_imap_count;
extern const SimExplanation sim_explain_pop3[];
extern const gsize sim_explain_pop3_count;

static SimExplanation *catalogue;
static gsize catalogue_length;

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (((const SimExplanation *) a)->key, ((const SimExplanation *) b)->key);
}

static gpointer
build_catalogue (gpointer unused)
{
  const struct { const SimExplanation *table; gsize count; } tables[] = {
    { sim_explain_core, sim_explain_core_count },
    { sim_explain_smtp, sim_explain_smtp_count },
    { sim_explain_dns, sim_explain_dns_count },
    { sim_explain_imap, sim_explain_imap_count },
    { sim_explain_pop3, sim_explain_pop3_count },
  };
  gsize total = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    total += tables[i].count;
  catalogue = g_new (SimExplanation, total);
  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      memcpy (catalogue + catalogue_length, tables[i].table, tables[i].count * sizeof (SimExplanation));
      catalogue_length += tables[i].count;
    }
  qsort (catalogue, catalogue_length, sizeof (SimExplanation), compare_keys);
  return NULL;
}

static void
ensure_catalogue (void)
{
  /* Built once, read-only afterwards: the catalogue is constant data, not
   * run state, so sharing it between runs breaks no determinism. */
  static GOnce once = G_ONCE_INIT;
  g_once (&once, build_catalogue, NULL);
}

const SimExplanation *
sim_explain_lookup (const char *key)
{
  SimExplanation probe = { key, NULL, NULL };

  if (key == NULL)
    return NULL;
  ensure_catalogue ();
  return bsearch (&probe, catalogue, catalogue_length, sizeof (SimExplanation), compare_keys);
}

const SimExplanation *
sim_explain_all (gsize *n_entries)
{
  ensure_catalogue ();
  *n_entries = catalogue_length;
  return catalogue;
}
