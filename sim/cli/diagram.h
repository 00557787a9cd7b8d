/* diagram.h: a run as a sequence diagram, drawn with cairo.
 *
 * Nodes are columns, time goes down, each protocol line is one arrow
 * (solid from the side that opened the connection, dashed for replies),
 * and what nodes decide (queued, deferred, delivered) is written at their
 * column.  Plain black and greys, so it prints well for a handout. */
#pragma once

#include "nodes/sim-world.h"

G_BEGIN_DECLS

typedef struct
{
  SimTime from;      /* first instant shown */
  SimTime to;        /* last instant shown */
  const char *only;  /* a protocol ("smtp", "dns"...), or NULL for all */
  const char *title;
} DiagramOptions;

/* Draws the events kept in @world's trace into @path (.svg, .pdf or .png). */
gboolean diagram_write (SimWorld *world, const DiagramOptions *options, const char *path, GError **error);

G_END_DECLS
