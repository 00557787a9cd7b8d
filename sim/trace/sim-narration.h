/* sim-narration.h: the text narration of `mailsim run`, and the JSON Lines
 * trace of `--json`, both trace sinks. */
#pragma once

#include <stdio.h>

#include "trace/sim-trace.h"

G_BEGIN_DECLS

typedef struct
{
  FILE *out;
  gboolean explain;   /* print the catalogue's sentence under each line */
  gboolean color;
} SimNarrationOptions;

/* Adds a sink that prints each event as it happens. */
void sim_narration_attach (SimTrace *trace, const SimNarrationOptions *options);

/* Adds a sink that writes each event as one JSON object per line
 * (docs/trace-format.md). */
void sim_json_attach (SimTrace *trace, FILE *out);

/* The lines a person reads for @event (one or more), without time. */
GPtrArray *sim_event_describe (const SimEvent *event);

G_END_DECLS
