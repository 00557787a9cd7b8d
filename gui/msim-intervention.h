/* msim-intervention.h: "what if": one timeline action added at an instant.
 *
 * An intervention is what a student does to a running scenario from the
 * map: take a link or a node down or up, change a DNS record, send an
 * email.  It is kept as scenario text, one timeline entry
 *
 *   at 1.29s link-down smtp.example.com internet
 *
 * so applying it is appending a timeline block to the scenario's text and
 * running that from zero: the simulation stays a pure function of its
 * input, the changed scenario can be saved, and undo is dropping the last
 * block.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"

G_BEGIN_DECLS

typedef struct _MsimIntervention MsimIntervention;

/* The comment line that introduces the appended blocks in a saved file. */
#define MSIM_INTERVENTION_COMMENT "# Interventions added in mailsim-gtk: each block was appended at the moment it was made."

/* (transfer full) Each takes effect at @time. */
MsimIntervention *msim_intervention_new_link (const char *a, const char *b, gboolean up, SimTime time);
MsimIntervention *msim_intervention_new_node (const char *node, gboolean up, SimTime time);
/* dns-set: @record (zone-file syntax) replaces the records of its owner
 * and type in the zone @zone of the name server @node. */
MsimIntervention *msim_intervention_new_dns_set (const char *node, const char *zone, const char *record, SimTime time);
/* send: the client holding @from's account writes to @to (addresses
 * separated by commas). */
MsimIntervention *msim_intervention_new_send (const char *from, const char *to, const char *subject,
                                              const char *body, SimTime time);
void msim_intervention_free (MsimIntervention *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsimIntervention, msim_intervention_free)

SimTime msim_intervention_get_time (const MsimIntervention *self);
/* The timeline entry, "at 1.29s link-down smtp.example.com internet". */
const char *msim_intervention_get_entry (const MsimIntervention *self);
/* One sentence for the student: "Link smtp.example.com - internet taken
 * down at 1.29s". */
const char *msim_intervention_get_description (const MsimIntervention *self);

/* (transfer full) @text followed by MSIM_INTERVENTION_COMMENT and one
 * timeline block per intervention of @interventions (MsimIntervention*),
 * in order; @text itself when there are none. */
char *msim_intervention_apply (const char *text, GPtrArray *interventions);

/* (transfer full) @text as a quoted scenario word: "..." with the escapes
 * \" \\ \n and \t (docs/scenario-format.md). */
char *msim_intervention_quote (const char *text);

G_END_DECLS
