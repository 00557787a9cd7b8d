/* sim-explain-dns.c: catalogue entries for dns (filled in with the protocol). */
#include "trace/sim-explain.h"

const SimExplanation sim_explain_dns[] = {
  { "dns.placeholder", NULL, "Placeholder until the dns entries land." },
};
const gsize sim_explain_dns_count = G_N_ELEMENTS (sim_explain_dns);
