/* sim-explain.h: the one explanation catalogue.
 *
 * Every trace event carries a key into this catalogue.  The CLI narration and
 * the GUI read the same entries: a one-sentence plain explanation for
 * students and the RFC section the behaviour comes from.  The entries live
 * in one table per protocol (sim-explain-*.c) so each protocol's words sit
 * beside each other; sim-explain.c merges them into one sorted catalogue.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *key;   /* "smtp.cmd.ehlo" */
  const char *rfc;   /* "RFC 5321 4.1.1.1", or NULL */
  const char *text;  /* one plain sentence */
} SimExplanation;

/* Returns the entry for @key, or NULL when the catalogue has none. */
const SimExplanation *sim_explain_lookup (const char *key);

/* Every entry, sorted by key; *n_entries receives the count. */
const SimExplanation *sim_explain_all (gsize *n_entries);

G_END_DECLS
