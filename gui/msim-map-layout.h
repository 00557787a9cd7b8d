/* msim-map-layout.h: where each node of a world sits on the map.
 *
 * The layout is a grid of columns and rows, computed once per run and
 * never from the clock, so the same scenario always draws the same map:
 *
 * - columns follow the journey: nodes are grouped by domain (the name
 *   without its first label), groups are ordered by their graph distance
 *   from the sender (the first client that sends), so the sender's side is
 *   on the left, the recipient's on the right and routers in between;
 *   inside a group, nodes farther from the sender sit farther right;
 * - rows are bands: name servers on top, then the sender's client, MTAs
 *   and routers, then mail stores and the other clients;
 * - domains made only of name servers (the root, a top-level domain) take
 *   no column: they sit in a strip above everything, centred over the
 *   routers, "the Internet's directory".
 *
 * Ties are broken by the order of the nodes in the scenario.
 */
#pragma once

#include <glib.h>

#include "nodes/sim-world.h"

G_BEGIN_DECLS

typedef struct
{
  const char *name;     /* owned by the world */
  const char *domain;   /* "" for a single-label name */
  char address[16];
  SimRoleKind kind;
  guint distance;       /* links from the sender */
  double x, y;          /* the centre of the node's cell, in cells from the top left */
} MsimMapNode;

typedef struct
{
  const char *domain;
  double left, top, right, bottom;   /* in cells */
} MsimMapGroup;

typedef struct _MsimMapLayout MsimMapLayout;

MsimMapLayout *msim_map_layout_new (SimWorld *world, const char *sender);
void msim_map_layout_free (MsimMapLayout *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsimMapLayout, msim_map_layout_free)

guint msim_map_layout_get_n_columns (const MsimMapLayout *self);
guint msim_map_layout_get_n_rows (const MsimMapLayout *self);
/* (transfer none) of MsimMapNode*, in the scenario's order. */
GPtrArray *msim_map_layout_get_nodes (const MsimMapLayout *self);
/* (transfer none) of MsimMapGroup*: the domains with a name, left to right. */
GPtrArray *msim_map_layout_get_groups (const MsimMapLayout *self);
const MsimMapNode *msim_map_layout_find (const MsimMapLayout *self, const char *name);

G_END_DECLS
