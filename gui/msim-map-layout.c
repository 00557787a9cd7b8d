/* msim-map-layout.c: a deterministic grid layout of the nodes. */
#include "msim-map-layout.h"

#include "msim-run.h"

enum
{
  BAND_DIRECTORY,      /* name servers of name-server-only domains */
  BAND_NAME_SERVERS,
  BAND_JOURNEY,
  BAND_LOWER,          /* mail stores, the other clients */
  N_BANDS,
};

typedef struct
{
  const char *key;     /* the domain, or "" for routers and bare names */
  guint distance;      /* the smallest distance of a member */
  guint order;         /* first appearance in the scenario */
  GArray *distances;   /* the members' distinct distances, sorted */
  guint first_column;
  gboolean directory;  /* only name servers: drawn in the top strip */
} Group;

/* A node as placed: the public part first, so the array holds both. */
typedef struct
{
  MsimMapNode node;
  Group *group;
  guint column;
  guint band;
} Placed;

struct _MsimMapLayout
{
  GPtrArray *nodes;    /* Placed*, seen as MsimMapNode* */
  GPtrArray *groups;   /* MsimMapGroup* */
  guint n_columns, n_rows;
  const char *sender;
};

static guint
band_of (const MsimMapLayout *self, const Placed *placed)
{
  if (placed->group->directory)
    return BAND_DIRECTORY;
  switch (placed->node.kind)
    {
    case SIM_ROLE_DNS:
      return BAND_NAME_SERVERS;
    case SIM_ROLE_STORE:
      return BAND_LOWER;
    case SIM_ROLE_CLIENT:
      return g_strcmp0 (placed->node.name, self->sender) == 0 ? BAND_JOURNEY : BAND_LOWER;
    default:
      return BAND_JOURNEY;
    }
}

static const char *
group_key (const MsimMapNode *node)
{
  return node->kind == SIM_ROLE_ROUTER ? "" : node->domain;
}

static void
measure_distances (MsimMapLayout *self, SimNetwork *network, const char *sender)
{
  GPtrArray *links = sim_network_get_links (network);
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GQueue) queue = g_queue_new ();
  guint farthest = 0;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      MsimMapNode *node = g_ptr_array_index (self->nodes, i);
      node->distance = G_MAXUINT;
      g_hash_table_insert (index, (gpointer) node->name, node);
    }
  MsimMapNode *start = sender != NULL ? g_hash_table_lookup (index, sender) : NULL;
  if (start == NULL && self->nodes->len > 0)
    start = g_ptr_array_index (self->nodes, 0);
  if (start == NULL)
    return;
  start->distance = 0;
  g_queue_push_tail (queue, start);
  /* Breadth first over the links in scenario order: links that are down
   * still count, the map shows the world as built. */
  while (!g_queue_is_empty (queue))
    {
      MsimMapNode *node = g_queue_pop_head (queue);
      farthest = MAX (farthest, node->distance);
      for (guint l = 0; l < links->len; l++)
        {
          SimLink *link = g_ptr_array_index (links, l);
          const char *a = sim_node_get_name (sim_link_get_a (link));
          const char *b = sim_node_get_name (sim_link_get_b (link));
          const char *other = g_str_equal (a, node->name) ? b : g_str_equal (b, node->name) ? a : NULL;
          MsimMapNode *next = other != NULL ? g_hash_table_lookup (index, other) : NULL;
          if (next != NULL && next->distance == G_MAXUINT)
            {
              next->distance = node->distance + 1;
              g_queue_push_tail (queue, next);
            }
        }
    }
  for (guint i = 0; i < self->nodes->len; i++)
    {
      MsimMapNode *node = g_ptr_array_index (self->nodes, i);
      if (node->distance == G_MAXUINT)
        node->distance = farthest + 1;
    }
}

static gint
compare_groups (gconstpointer a, gconstpointer b)
{
  const Group *x = *(Group *const *) a, *y = *(Group *const *) b;

  if (x->distance != y->distance)
    return x->distance < y->distance ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

static gint
compare_distances (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y ? 1 : 0;
}

static void
group_free (gpointer data)
{
  Group *group = data;
  g_array_unref (group->distances);
  g_free (group);
}

static guint
column_in_group (const Group *group, guint distance)
{
  for (guint i = 0; i < group->distances->len; i++)
    if (g_array_index (group->distances, guint, i) == distance)
      return group->first_column + i;
  return group->first_column;
}

static void
assign_columns (MsimMapLayout *self, GPtrArray *groups)
{
  g_autoptr (GHashTable) by_key = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < self->nodes->len; i++)
    {
      Placed *placed = g_ptr_array_index (self->nodes, i);
      MsimMapNode *node = &placed->node;
      Group *group = g_hash_table_lookup (by_key, group_key (node));
      if (group == NULL)
        {
          group = g_new0 (Group, 1);
          group->key = group_key (node);
          group->distance = node->distance;
          group->order = groups->len;
          group->distances = g_array_new (FALSE, FALSE, sizeof (guint));
          group->directory = group->key[0] != '\0';
          g_ptr_array_add (groups, group);
          g_hash_table_insert (by_key, (gpointer) group->key, group);
        }
      placed->group = group;
      group->directory &= node->kind == SIM_ROLE_DNS;
      group->distance = MIN (group->distance, node->distance);
      gboolean seen = FALSE;
      for (guint d = 0; d < group->distances->len; d++)
        seen |= g_array_index (group->distances, guint, d) == node->distance;
      if (!seen)
        g_array_append_val (group->distances, node->distance);
    }
  g_ptr_array_sort (groups, compare_groups);
  self->n_columns = 0;
  for (guint g = 0; g < groups->len; g++)
    {
      Group *group = g_ptr_array_index (groups, g);
      g_array_sort (group->distances, compare_distances);
      group->first_column = self->n_columns;
      if (!group->directory)
        self->n_columns += group->distances->len;
    }
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Placed *placed = g_ptr_array_index (self->nodes, i);
      placed->column = column_in_group (placed->group, placed->node.distance);
    }
}

/* The centre, in columns, of the routers; the middle of the map without. */
static double
routers_centre (MsimMapLayout *self)
{
  double sum = 0;
  guint count = 0;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      Placed *placed = g_ptr_array_index (self->nodes, i);
      if (placed->node.kind == SIM_ROLE_ROUTER)
        {
          sum += placed->column + 0.5;
          count++;
        }
    }
  return count > 0 ? sum / count : self->n_columns / 2.0;
}

static void
assign_rows (MsimMapLayout *self)
{
  guint columns = MAX (self->n_columns, 1);
  g_autofree guint *count = g_new0 (guint, columns * N_BANDS);
  guint height[N_BANDS] = { 0 };
  guint base[N_BANDS];
  guint directory = 0, placed_directory = 0;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      Placed *placed = g_ptr_array_index (self->nodes, i);
      placed->band = band_of (self, placed);
      if (placed->band == BAND_DIRECTORY)
        {
          directory++;
          continue;
        }
      guint *slot = &count[placed->column * N_BANDS + placed->band];
      placed->node.y = (*slot)++;
      height[placed->band] = MAX (height[placed->band], *slot);
    }
  height[BAND_DIRECTORY] = directory > 0 ? 1 : 0;
  base[0] = 0;
  for (guint b = 1; b < N_BANDS; b++)
    base[b] = base[b - 1] + height[b - 1];
  self->n_rows = base[N_BANDS - 1] + height[N_BANDS - 1];
  self->n_columns = MAX (self->n_columns, directory);

  /* The directory strip: one cell apart, centred over the routers, kept
   * inside the map. */
  double spacing = directory > 1 ? MIN (1.25, (self->n_columns - 1.0) / (directory - 1)) : 1.0;
  double first = routers_centre (self) - (directory - 1) * spacing / 2.0;
  first = CLAMP (first, 0.5, MAX (0.5, self->n_columns - 0.5 - (directory - 1) * spacing));
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Placed *placed = g_ptr_array_index (self->nodes, i);
      if (placed->band == BAND_DIRECTORY)
        {
          placed->node.x = first + spacing * placed_directory++;
          placed->node.y = 0.5;
        }
      else
        {
          placed->node.x = placed->column + 0.5;
          placed->node.y += base[placed->band] + 0.5;
        }
    }
}

static void
make_group_boxes (MsimMapLayout *self, GPtrArray *groups)
{
  for (guint g = 0; g < groups->len; g++)
    {
      Group *group = g_ptr_array_index (groups, g);
      if (group->key[0] == '\0')
        continue;
      MsimMapGroup *box = g_new0 (MsimMapGroup, 1);
      box->domain = group->key;
      box->left = box->top = G_MAXDOUBLE;
      box->right = box->bottom = -G_MAXDOUBLE;
      for (guint i = 0; i < self->nodes->len; i++)
        {
          Placed *placed = g_ptr_array_index (self->nodes, i);
          if (placed->group != group)
            continue;
          box->left = MIN (box->left, placed->node.x - 0.5);
          box->right = MAX (box->right, placed->node.x + 0.5);
          box->top = MIN (box->top, placed->node.y - 0.5);
          box->bottom = MAX (box->bottom, placed->node.y + 0.5);
        }
      g_ptr_array_add (self->groups, box);
    }
}

MsimMapLayout *
msim_map_layout_new (SimWorld *world, const char *sender)
{
  MsimMapLayout *self = g_new0 (MsimMapLayout, 1);
  GPtrArray *network_nodes = sim_network_get_nodes (sim_world_get_network (world));

  self->nodes = g_ptr_array_new_with_free_func (g_free);
  self->groups = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < network_nodes->len; i++)
    {
      SimNode *sim_node = g_ptr_array_index (network_nodes, i);
      Placed *placed = g_new0 (Placed, 1);
      MsimMapNode *node = &placed->node;
      node->name = sim_node_get_name (sim_node);
      node->domain = msim_node_domain (node->name);
      sim_address_to_string (sim_node_get_address (sim_node), node->address);
      if (sim_world_find_role (world, node->name, &node->kind) == NULL)
        node->kind = SIM_ROLE_ROUTER;
      g_ptr_array_add (self->nodes, placed);
    }
  self->sender = sender;
  measure_distances (self, sim_world_get_network (world), sender);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (group_free);
  assign_columns (self, groups);
  assign_rows (self);
  make_group_boxes (self, groups);
  return self;
}

void
msim_map_layout_free (MsimMapLayout *self)
{
  g_ptr_array_unref (self->nodes);
  g_ptr_array_unref (self->groups);
  g_free (self);
}

guint
msim_map_layout_get_n_columns (const MsimMapLayout *self)
{
  return self->n_columns;
}

guint
msim_map_layout_get_n_rows (const MsimMapLayout *self)
{
  return self->n_rows;
}

GPtrArray *
msim_map_layout_get_nodes (const MsimMapLayout *self)
{
  return self->nodes;
}

GPtrArray *
msim_map_layout_get_groups (const MsimMapLayout *self)
{
  return self->groups;
}

const MsimMapNode *
msim_map_layout_find (const MsimMapLayout *self, const char *name)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const MsimMapNode *node = g_ptr_array_index (self->nodes, i);
      if (g_strcmp0 (node->name, name) == 0)
        return node;
    }
  return NULL;
}
