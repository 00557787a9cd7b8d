/* sim-world.c: the run and its roles. */
#include "nodes/sim-world.h"

#include "nodes/dns-server.h"
#include "nodes/eavesdropper.h"
#include "nodes/mail-client.h"
#include "nodes/mail-store.h"
#include "nodes/mta.h"
#include "nodes/store-node.h"

typedef struct
{
  SimRoleKind kind;
  SimNode *node;
  gpointer role;
} SimRole;

struct _SimWorld
{
  SimScheduler *scheduler;
  SimTrace *trace;
  SimNetwork *network;
  GArray *roles;            /* SimRole, in the order added */
  GPtrArray *role_names;
  SimAccounting accounting;
  guint64 next_queue_id;
  GData *data;
};

const char *
sim_role_kind_to_string (SimRoleKind kind)
{
  switch (kind)
    {
    case SIM_ROLE_ROUTER:
      return "router";
    case SIM_ROLE_CLIENT:
      return "client";
    case SIM_ROLE_MTA:
      return "mta";
    case SIM_ROLE_STORE:
      return "mailstore";
    case SIM_ROLE_DNS:
      return "dns";
    case SIM_ROLE_EAVESDROPPER:
      return "eavesdropper";
    default:
      return "unknown";
    }
}

SimWorld *
sim_world_new (guint64 seed)
{
  SimWorld *self = g_new0 (SimWorld, 1);

  self->scheduler = sim_scheduler_new (seed);
  self->trace = sim_trace_new ();
  self->network = sim_network_new (self->scheduler, self->trace);
  self->roles = g_array_new (FALSE, FALSE, sizeof (SimRole));
  self->role_names = g_ptr_array_new ();
  self->next_queue_id = 1;
  return self;
}

void
sim_world_free (SimWorld *self)
{
  if (self == NULL)
    return;
  /* Attached data first, then roles (they cancel their timers), then the
   * network's streams, then pending events, then the trace and its sinks. */
  g_datalist_clear (&self->data);
  for (guint i = self->roles->len; i > 0; i--)
    {
      SimRole *role = &g_array_index (self->roles, SimRole, i - 1);
      switch (role->kind)
        {
        case SIM_ROLE_MTA:
          mta_free (role->role);
          break;
        case SIM_ROLE_STORE:
          store_node_free (role->role);
          break;
        case SIM_ROLE_CLIENT:
          mail_client_free (role->role);
          break;
        case SIM_ROLE_DNS:
          dns_server_free (role->role);
          break;
        case SIM_ROLE_EAVESDROPPER:
          eavesdropper_free (role->role);
          break;
        case SIM_ROLE_ROUTER:
          break;
        }
    }
  g_array_unref (self->roles);
  g_ptr_array_unref (self->role_names);
  sim_network_free (self->network);
  sim_scheduler_free (self->scheduler);
  sim_trace_free (self->trace);
  g_free (self);
}

SimScheduler *
sim_world_get_scheduler (SimWorld *self)
{
  return self->scheduler;
}

SimTrace *
sim_world_get_trace (SimWorld *self)
{
  return self->trace;
}

SimNetwork *
sim_world_get_network (SimWorld *self)
{
  return self->network;
}

SimTime
sim_world_now (SimWorld *self)
{
  return sim_scheduler_now (self->scheduler);
}

static void
add_role (SimWorld *self, SimRoleKind kind, SimNode *node, gpointer role)
{
  SimRole entry = { kind, node, role };

  g_array_append_val (self->roles, entry);
  g_ptr_array_add (self->role_names, (gpointer) sim_node_get_name (node));
}

Mta *
sim_world_add_mta (SimWorld *self, SimNode *node)
{
  Mta *mta = mta_new (self, node);
  add_role (self, SIM_ROLE_MTA, node, mta);
  return mta;
}

MailStore *
sim_world_add_store (SimWorld *self, SimNode *node)
{
  StoreNode *store = store_node_new (self, node);
  add_role (self, SIM_ROLE_STORE, node, store);
  return store_node_get_store (store);
}

MailClient *
sim_world_add_client (SimWorld *self, SimNode *node)
{
  MailClient *client = mail_client_new (self, node);
  add_role (self, SIM_ROLE_CLIENT, node, client);
  return client;
}

DnsServer *
sim_world_add_dns (SimWorld *self, SimNode *node)
{
  DnsServer *server = dns_server_new (node);
  add_role (self, SIM_ROLE_DNS, node, server);
  return server;
}

Eavesdropper *
sim_world_add_eavesdropper (SimWorld *self, SimNode *node)
{
  Eavesdropper *eavesdropper = eavesdropper_new (node);
  add_role (self, SIM_ROLE_EAVESDROPPER, node, eavesdropper);
  return eavesdropper;
}

void
sim_world_add_router (SimWorld *self, SimNode *node)
{
  add_role (self, SIM_ROLE_ROUTER, node, NULL);
}

gpointer
sim_world_find_role (SimWorld *self, const char *node_name, SimRoleKind *kind)
{
  for (guint i = 0; i < self->roles->len; i++)
    {
      SimRole *role = &g_array_index (self->roles, SimRole, i);
      if (g_str_equal (sim_node_get_name (role->node), node_name))
        {
          if (kind != NULL)
            *kind = role->kind;
          return role->kind == SIM_ROLE_STORE ? (gpointer) store_node_get_store (role->role) : role->role;
        }
    }
  return NULL;
}

void
sim_world_set_node_up (SimWorld *self, SimNode *node, gboolean up)
{
  if (sim_node_is_up (node) == up)
    return;
  sim_node_set_up (node, up);
  for (guint i = 0; i < self->roles->len; i++)
    {
      SimRole *role = &g_array_index (self->roles, SimRole, i);
      if (role->node != node || role->kind != SIM_ROLE_MTA)
        continue;
      if (up)
        mta_host_up (role->role);
      else
        mta_host_down (role->role);
    }
}

MailStore *
sim_world_find_store_for (SimWorld *self, const char *address)
{
  for (guint i = 0; i < self->roles->len; i++)
    {
      SimRole *role = &g_array_index (self->roles, SimRole, i);
      if (role->kind == SIM_ROLE_STORE && mail_store_has_user (store_node_get_store (role->role), address))
        return store_node_get_store (role->role);
    }
  return NULL;
}

MailClient *
sim_world_find_client_for (SimWorld *self, const char *address)
{
  for (guint i = 0; i < self->roles->len; i++)
    {
      SimRole *role = &g_array_index (self->roles, SimRole, i);
      if (role->kind == SIM_ROLE_CLIENT && mail_client_has_account (role->role, address))
        return role->role;
    }
  return NULL;
}

GPtrArray *
sim_world_get_role_names (SimWorld *self)
{
  return self->role_names;
}

void
sim_world_count_accepted (SimWorld *self, guint recipients)
{
  self->accounting.accepted += recipients;
}

void
sim_world_count_dsn (SimWorld *self, guint recipients)
{
  self->accounting.dsn_generated += recipients;
}

void
sim_world_count_delivered (SimWorld *self, guint recipients)
{
  self->accounting.delivered += recipients;
}

void
sim_world_count_bounced (SimWorld *self, guint recipients)
{
  self->accounting.bounced += recipients;
}

SimAccounting
sim_world_get_accounting (SimWorld *self)
{
  SimAccounting accounting = self->accounting;

  accounting.queued = 0;
  for (guint i = 0; i < self->roles->len; i++)
    {
      SimRole *role = &g_array_index (self->roles, SimRole, i);
      if (role->kind == SIM_ROLE_MTA)
        accounting.queued += mta_count_queued_recipients (role->role);
    }
  return accounting;
}

void
sim_world_set_data (SimWorld *self, const char *key, gpointer data, GDestroyNotify destroy)
{
  g_datalist_set_data_full (&self->data, key, data, destroy);
}

gpointer
sim_world_get_data (SimWorld *self, const char *key)
{
  return g_datalist_get_data (&self->data, key);
}

char *
sim_world_new_queue_id (SimWorld *self, SimNode *node)
{
  /* Postfix-like hexadecimal ids, derived from the node's address and a
   * run-wide counter: unique and the same on every run. */
  guint64 n = self->next_queue_id++;
  return g_strdup_printf ("%04X%06" G_GINT64_MODIFIER "X", sim_node_get_address (node) & 0xffff, n * 0x9E37 & 0xffffff);
}
