/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nf-node.h"

G_BEGIN_DECLS

/* NfPool and NfPoolSpec: a pool in the model, and what its user asked for. */

/* What a user asked for: persisted in the state file and in each node's
 * metadata, so either rebuilds the other. */
typedef struct {
	gchar *name;
	gchar *profile;
	guint count;
	gchar *image;
	guint vcpus;
	guint memory_mib;
	guint disk_gib;
	gchar *trunk_bridge;
	gchar *vlans;
	gchar *mgmt_network; /* NULL: none */
	gchar *ssh_user;     /* the seed's login user; NULL: the default */
	GStrv ssh_keys;      /* public key lines for it; NULL: none */
	gchar *user_data;    /* the pool's own cloud-init user-data; NULL: none */
	gboolean start;
} NfPoolSpec;

NfPoolSpec *nf_pool_spec_new (void);
NfPoolSpec *nf_pool_spec_copy (const NfPoolSpec *spec);
void nf_pool_spec_free (NfPoolSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfPoolSpec, nf_pool_spec_free)

#define NF_TYPE_POOL (nf_pool_get_type ())
G_DECLARE_FINAL_TYPE (NfPool, nf_pool, NF, POOL, GObject)

/* While a job runs the pool shows the job's state (creating, scaling,
 * stopping, deleting; failed when it fails); otherwise
 * nf_pool_refresh_state derives it from the nodes. Property "state": the
 * state's name. */
NfPool *nf_pool_new (const NfPoolSpec *spec);
const gchar *nf_pool_get_name (NfPool *self);
const NfPoolSpec *nf_pool_get_spec (NfPool *self);
void nf_pool_set_count (NfPool *self, guint count);
NfPoolState nf_pool_get_state (NfPool *self);
void nf_pool_set_state (NfPool *self, NfPoolState state);
void nf_pool_refresh_state (NfPool *self);
void nf_pool_add_node (NfPool *self, NfNode *node);
void nf_pool_remove_node (NfPool *self, NfNode *node);
NfNode *nf_pool_get_node (NfPool *self, guint index);
/* Nodes sorted by index (borrowed). */
GPtrArray *nf_pool_get_nodes (NfPool *self);
guint nf_pool_get_highest_index (NfPool *self);

G_END_DECLS
