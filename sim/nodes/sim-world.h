/* sim-world.h: one run: clock, network, trace and the nodes' roles.
 *
 * The world owns everything a run needs, so two worlds never share state:
 * the simulation is a pure function of (scenario, seed).  It also keeps the
 * run's accounting: every recipient copy of a message accepted with a 2xx
 * reply must end the run delivered, bounced or still queued.
 */
#pragma once

#include <glib.h>

#include "core/sim-scheduler.h"
#include "net/sim-network.h"
#include "trace/sim-trace.h"

G_BEGIN_DECLS

typedef struct _SimWorld SimWorld;
typedef struct _Mta Mta;
typedef struct _MailStore MailStore;
typedef struct _MailClient MailClient;
typedef struct _DnsServer DnsServer;

typedef enum
{
  SIM_ROLE_ROUTER,
  SIM_ROLE_CLIENT,
  SIM_ROLE_MTA,
  SIM_ROLE_STORE,
  SIM_ROLE_DNS,
  SIM_ROLE_EAVESDROPPER,
} SimRoleKind;

const char *sim_role_kind_to_string (SimRoleKind kind);

typedef struct
{
  guint accepted;       /* recipient copies accepted from users with 2xx */
  guint dsn_generated;  /* recipient copies of bounce reports created by MTAs */
  guint delivered;      /* filed in a mailbox */
  guint bounced;        /* given up, reported to the sender (or dropped when the sender was <>) */
  guint queued;         /* still waiting in an MTA's queue at the end */
} SimAccounting;

SimWorld *sim_world_new (guint64 seed);
void sim_world_free (SimWorld *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimWorld, sim_world_free)

SimScheduler *sim_world_get_scheduler (SimWorld *self);
SimTrace *sim_world_get_trace (SimWorld *self);
SimNetwork *sim_world_get_network (SimWorld *self);
SimTime sim_world_now (SimWorld *self);

/* Roles: what a node does.  The world owns them. */
Mta *sim_world_add_mta (SimWorld *self, SimNode *node);
MailStore *sim_world_add_store (SimWorld *self, SimNode *node);
MailClient *sim_world_add_client (SimWorld *self, SimNode *node);
DnsServer *sim_world_add_dns (SimWorld *self, SimNode *node);
void sim_world_add_router (SimWorld *self, SimNode *node);
typedef struct _Eavesdropper Eavesdropper;
Eavesdropper *sim_world_add_eavesdropper (SimWorld *self, SimNode *node);

/* The role of @node_name, or NULL; *kind receives its kind. */
gpointer sim_world_find_role (SimWorld *self, const char *node_name, SimRoleKind *kind);
/* A node crashes (@up FALSE) or comes back: the network drops its
 * connections, then its role learns of it (an MTA keeps its queue). */
void sim_world_set_node_up (SimWorld *self, SimNode *node, gboolean up);
/* The mail store that holds @address's mailbox, or NULL. */
MailStore *sim_world_find_store_for (SimWorld *self, const char *address);
/* The client on which @address is configured, or NULL. */
MailClient *sim_world_find_client_for (SimWorld *self, const char *address);
/* Nodes with roles, in the order they were added: (transfer none) of const char*. */
GPtrArray *sim_world_get_role_names (SimWorld *self);

void sim_world_count_accepted (SimWorld *self, guint recipients);
void sim_world_count_dsn (SimWorld *self, guint recipients);
void sim_world_count_delivered (SimWorld *self, guint recipients);
void sim_world_count_bounced (SimWorld *self, guint recipients);
SimAccounting sim_world_get_accounting (SimWorld *self);

/* Attaches data to the run under @key (modules above the nodes keep their
 * per-run state here); @destroy runs before the roles are freed. */
void sim_world_set_data (SimWorld *self, const char *key, gpointer data, GDestroyNotify destroy);
gpointer sim_world_get_data (SimWorld *self, const char *key);

/* Allocates a queue id unique in this run, like Postfix's "4B1F2A0C3D". */
char *sim_world_new_queue_id (SimWorld *self, SimNode *node);

G_END_DECLS
