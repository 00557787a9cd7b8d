/* sim-explain-pop3.c: catalogue entries for pop3 (filled in with the protocol). */
#include "trace/sim-explain.h"

const SimExplanation sim_explain_pop3[] = {
  { "pop3.placeholder", NULL, "Placeholder until the pop3 entries land." },
};
const gsize sim_explain_pop3_count = G_N_ELEMENTS (sim_explain_pop3);
