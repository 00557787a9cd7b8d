/* sim-fingerprint.h: a run's behaviour in one short hash.
 *
 * A sink that digests every event of a run (expectation results left out)
 * in a canonical form: times, parties, protocol, explanation, status and the
 * exact bytes.  Same scenario and seed, same fingerprint; any change of
 * behaviour, however small, changes it.  It also keeps one line per event,
 * so a changed run can be compared with the lines kept from the old one.
 */
#pragma once

#include "trace/sim-trace.h"

G_BEGIN_DECLS

typedef struct _SimFingerprint SimFingerprint;

/* Attaches to @trace; the fingerprint lives as long as the trace. */
SimFingerprint *sim_fingerprint_attach (SimTrace *trace);

/* 16 hexadecimal digits (the first 64 bits of a SHA-256). (transfer full) */
char *sim_fingerprint_get_hex (SimFingerprint *self);

/* One line per event: "TIME FROM -> TO: SUMMARY". (transfer none) */
GPtrArray *sim_fingerprint_get_lines (SimFingerprint *self);

G_END_DECLS
