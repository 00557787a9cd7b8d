/* eavesdropper.h: a node that listens on links.
 *
 * It shows students what a third party on the path sees: every command,
 * password and message in clear text, until STARTTLS, after which it sees
 * only opaque bytes.  (mailsim simulates the encryption; what the
 * eavesdropper is shown of encrypted traffic is a stand-in for ciphertext.)
 */
#pragma once

#include "net/sim-network.h"

G_BEGIN_DECLS

typedef struct _Eavesdropper Eavesdropper;

Eavesdropper *eavesdropper_new (SimNode *node);
void eavesdropper_free (Eavesdropper *self);
/* Listens on @link from now on. */
void eavesdropper_tap (Eavesdropper *self, SimLink *link);

G_END_DECLS
