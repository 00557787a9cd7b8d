/* store-node.h: the mail store node: mailboxes served over LMTP (delivery
 * in), IMAP and POP3 (reading out). */
#pragma once

#include <glib.h>

#include "net/sim-network.h"
#include "nodes/mail-store.h"

G_BEGIN_DECLS

typedef struct _StoreNode StoreNode;
typedef struct _SimWorld SimWorld;

#define STORE_PORT_LMTP 24
#define STORE_PORT_POP3 110
#define STORE_PORT_IMAP 143
/* RFC 3501 5.4: an idle IMAP client may be logged out after at least 30
 * minutes; RFC 1939 3: POP3 after at least 10 minutes. */
#define STORE_IMAP_IDLE_TIMEOUT (30 * SIM_TIME_MINUTE)
#define STORE_POP3_IDLE_TIMEOUT (10 * SIM_TIME_MINUTE)

StoreNode *store_node_new (SimWorld *world, SimNode *node);
void store_node_free (StoreNode *self);
MailStore *store_node_get_store (StoreNode *self);
SimNode *store_node_get_node (StoreNode *self);

G_END_DECLS
