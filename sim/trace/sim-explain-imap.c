/* sim-explain-imap.c: catalogue entries for imap (filled in with the protocol). */
#include "trace/sim-explain.h"

const SimExplanation sim_explain_imap[] = {
  { "imap.placeholder", NULL, "Placeholder until the imap entries land." },
};
const gsize sim_explain_imap_count = G_N_ELEMENTS (sim_explain_imap);
