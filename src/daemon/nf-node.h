/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nestfarm/nf-states.h"

G_BEGIN_DECLS

/* NfNode: one node of a pool, as the model holds it. */

#define NF_TYPE_NODE (nf_node_get_type ())
G_DECLARE_FINAL_TYPE (NfNode, nf_node, NF, NODE, GObject)

/* One node of a pool as the daemon reports it. libvirt is the truth: a node
 * object exists because a tagged domain exists (or is being made). Its
 * state is what it shows (property "state": the state's name); whether its
 * domain is active is kept apart, for the memory it holds, since a node
 * that is deleting or failed may still run. */
NfNode *nf_node_new (const gchar *pool, guint index);
const gchar *nf_node_get_name (NfNode *self);
const gchar *nf_node_get_pool (NfNode *self);
guint nf_node_get_index (NfNode *self);
/* By pool name, then index. */
gint nf_node_compare (NfNode *a, NfNode *b);
/* The name of the farm host its domain is on (NF_HOST_LOCAL until set). */
const gchar *nf_node_get_host (NfNode *self);
void nf_node_set_host (NfNode *self, const gchar *host);
NfNodeState nf_node_get_state (NfNode *self);
void nf_node_set_state (NfNode *self, NfNodeState state);
/* Whether its domain runs or is paused, as libvirt last said. */
gboolean nf_node_get_domain_active (NfNode *self);
void nf_node_set_domain_active (NfNode *self, gboolean active);
const gchar *nf_node_get_domain_uuid (NfNode *self);
void nf_node_set_domain_uuid (NfNode *self, const gchar *uuid);
const gchar *nf_node_get_overlay (NfNode *self);
void nf_node_set_overlay (NfNode *self, const gchar *overlay);
const gchar *nf_node_get_console_log (NfNode *self);
void nf_node_set_console_log (NfNode *self, const gchar *path);
const gchar *const *nf_node_get_macs (NfNode *self);
void nf_node_set_macs (NfNode *self, const gchar *const *macs);
/* The management IP addresses (empty: none known). */
const gchar *const *nf_node_get_addresses (NfNode *self);
void nf_node_set_addresses (NfNode *self, const gchar *const *addresses);
/* Booted, its seed applied, answering on SSH (nf-readiness.c finds out). */
/* A move (Node.Migrate) runs: the lifecycle events its domain sends from
 * either host meanwhile (paused, stopped, undefined on the source;
 * started on the target) are the move's and change nothing; its host
 * changes when the move is over. */
gboolean nf_node_get_moving (NfNode *self);
void nf_node_set_moving (NfNode *self, gboolean moving);
gboolean nf_node_get_ready (NfNode *self);
void nf_node_set_ready (NfNode *self, gboolean ready);
/* What was seen inside it last ("nesting": the name). */
NfNesting nf_node_get_nesting (NfNode *self);
void nf_node_set_nesting (NfNode *self, NfNesting nesting);
guint nf_node_get_memory_mib (NfNode *self);
void nf_node_set_memory_mib (NfNode *self, guint memory_mib);
/* Its domain is active (whatever the node's state: a node being deleted
 * or that failed may still run), or it is being created: it holds its
 * memory. */
gboolean nf_node_holds_memory (NfNode *self);

G_END_DECLS
