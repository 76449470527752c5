/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nf-node.h"

G_BEGIN_DECLS

/* NfPool and NfPoolSpec: a pool in the model, and what its user asked for. */

/* A snapshot of the whole pool: one internal snapshot of the same name in
 * every node it holds (nf-snapshot.h). */
typedef struct {
	gchar *name;
	gint64 created; /* Unix seconds */
	guint64 size;   /* bytes the nodes' overlays grew by when it was taken */
	gboolean memory;
	GArray *indexes; /* of guint: the nodes it holds, ascending */
	GArray *running; /* of guint: those that ran when it was taken */
} NfPoolSnapshot;

NfPoolSnapshot *nf_pool_snapshot_new (const gchar *name);
NfPoolSnapshot *nf_pool_snapshot_copy (const NfPoolSnapshot *snapshot);
void nf_pool_snapshot_free (NfPoolSnapshot *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfPoolSnapshot, nf_pool_snapshot_free)
gboolean nf_pool_snapshot_holds (const NfPoolSnapshot *snapshot, guint index);
/* The first of @snapshots (NfPoolSnapshot) that holds node @index, or NULL. */
NfPoolSnapshot *nf_pool_snapshot_find_holding (GPtrArray *snapshots, guint index);

/* What a user asked for: persisted in the state file and in each node's
 * metadata, so either rebuilds the other (the snapshots are the state
 * file's only). */
typedef struct {
	gchar *name;
	gchar *profile;
	guint count;
	gchar *image;
	guint vcpus;
	guint memory_mib;
	guint disk_gib;
	gchar *trunk_bridge;
	/* Its trunk is an OVN logical switch (made while OvnNorthbound was
	 * set): its nodes' trunk NICs are ports of it, on @trunk_bridge, each
	 * host's integration bridge. */
	gboolean ovn;
	gchar *vlans;
	gchar *mgmt_network; /* NULL: none */
	gchar *ssh_user;     /* the seed's login user; NULL: the default */
	GStrv ssh_keys;      /* public key lines for it; NULL: none */
	gchar *user_data;    /* the pool's own cloud-init user-data; NULL: none */
	gboolean start;
	GStrv hosts;          /* the hosts its nodes may go on; NULL: any */
	gchar *host;          /* the host its nodes are on; NULL: local */
	GPtrArray *snapshots; /* NfPoolSnapshot, oldest first; never NULL */
	/* of guint, ascending, never NULL: the nodes that left the pool while
	 * a snapshot held them, kept retired in libvirt for a revert
	 * (nf_engine_retire_node); read from libvirt, not the state file. */
	GArray *retired;
	/* index -> host of its nodes on other hosts than local, as last seen
	 * (in the state file: a start shows them, unknown, while their host
	 * is away, until its libvirt lists them); never NULL */
	GHashTable *remote_nodes;
} NfPoolSpec;

NfPoolSpec *nf_pool_spec_new (void);
/* Adds @index to @spec->retired, kept ascending and without repeats. */
void nf_pool_spec_add_retired (NfPoolSpec *spec, guint index);
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
/* The retired nodes (NfPoolSpec.retired): kept out of the pool's nodes and
 * count, and their indexes out of a scale-up's; each on its host (NULL:
 * local), as the listing that saw it or the operation that retired it
 * says. */
void nf_pool_add_retired (NfPool *self, guint index, const gchar *host);
void nf_pool_remove_retired (NfPool *self, guint index);
gboolean nf_pool_is_retired (NfPool *self, guint index);
/* The host of retired node @index (NF_HOST_LOCAL unless another). */
const gchar *nf_pool_get_retired_host (NfPool *self, guint index);
/* Forgets the retired nodes on @host (a listing of it tells them again). */
void nf_pool_clear_retired (NfPool *self, const gchar *host);
/* Its spec's remote_nodes made what its nodes are now (before a save). */
void nf_pool_note_remote_nodes (NfPool *self);
/* Nodes sorted by index (borrowed). */
GPtrArray *nf_pool_get_nodes (NfPool *self);
guint nf_pool_get_highest_index (NfPool *self);
/* Property "n-snapshots" tells of changes to the list. */
void nf_pool_add_snapshot (NfPool *self, NfPoolSnapshot *snapshot);
void nf_pool_remove_snapshot (NfPool *self, const gchar *name);
NfPoolSnapshot *nf_pool_find_snapshot (NfPool *self, const gchar *name);
/* The first snapshot that holds node @index, or NULL: a node a snapshot
 * holds is never removed but with its pool. */
NfPoolSnapshot *nf_pool_find_snapshot_holding (NfPool *self, guint index);

G_END_DECLS
