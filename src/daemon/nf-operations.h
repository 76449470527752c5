/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "nestfarm/nf-config.h"
#include "nf-executor.h"
#include "nf-model.h"
#include "nf-pacer.h"

G_BEGIN_DECLS

/* The operations on pools and nodes (create, scale, start, stop, reset,
 * delete, and the pool snapshots: take, revert, delete), each a job run in
 * phases of node steps. An operation reads and
 * changes the model and hands node steps to the executor; it knows nothing
 * of the queue it waited in, nor of the manager that made it. */

typedef enum {
	NF_OP_CREATE,
	NF_OP_DELETE,
	NF_OP_SCALE,
	NF_OP_START,
	NF_OP_STOP,
	NF_OP_NODE_START,
	NF_OP_NODE_STOP,
	NF_OP_NODE_RESET,
	NF_OP_SNAPSHOT,
	NF_OP_REVERT,
	NF_OP_DELETE_SNAPSHOT,
	NF_OP_NODE_MIGRATE,
} NfOpKind;

/* What operations work with, set up once by their owner. */
typedef struct {
	GObject *owner; /* held by every operation, so the rest outlives it */
	NfModel *model;
	NfEngine *engine;
	NfExecutor *executor;
	NfPacer *pacer; /* starts of nodes that boot, paced */
	const NfConfig *config;
	/* CPUMode=baseline: new nodes get its CPU; NULL: their host's own */
	struct _NfBaseline *baseline;
	gboolean shutting_down; /* removals stop waiting for libvirt */
} NfOpContext;

typedef struct _NfOp NfOp;

/* Runs once @op's job is complete; @op is the caller's to free. */
typedef void (*NfOpEnded) (NfOp *op, gpointer user_data);

NfOp *nf_op_new (const NfOpContext *context, NfOpKind kind, const gchar *pool, NfJob *job);
void nf_op_free (NfOp *op);
void nf_op_set_spec (NfOp *op, const NfPoolSpec *spec);
void nf_op_set_count (NfOp *op, guint count);
void nf_op_set_stop (NfOp *op, gboolean force, guint timeout_s);
void nf_op_set_node (NfOp *op, const gchar *node);
/* The snapshot operations: which snapshot; @memory: take it with running
 * state (the snapshot's own flag, for a revert). */
void nf_op_set_snapshot (NfOp *op, const gchar *snapshot, gboolean memory);
/* Memory admitted for @op on @host (added to what it holds there already):
 * reserved in the model until it ends (nf_op_release_reserved, once). */
void nf_op_add_reserved (NfOp *op, const gchar *host, guint64 reserved_mib);
void nf_op_release_reserved (NfOp *op);
/* Where the nodes @op makes go (create, scale up): @host for each of
 * them; the other nodes stay where they are. */
void nf_op_set_placement (NfOp *op, const gchar *host);
/* Or: the i-th node @op makes goes on @hosts[i] (a pool spread across the
 * farm, its trunk an OVN switch); the pool's own host is @hosts[0]. */
void nf_op_set_spread (NfOp *op, const gchar *const *hosts);
/* A move (NF_OP_NODE_MIGRATE): to @host, whose libvirt the source's
 * reaches at @peer_uri (QEMU's data to @data_uri, NULL: libvirt's
 * choice); @live: a running node moves live (else it is refused). */
void nf_op_set_move (NfOp *op, const gchar *host, const gchar *peer_uri, const gchar *data_uri, gboolean live);
NfJob *nf_op_get_job (NfOp *op);
const gchar *nf_op_get_pool (NfOp *op);
/* Runs @op (its pool is marked busy in the model already); @ended when
 * its job is complete. */
void nf_op_run (NfOp *op, NfOpEnded ended, gpointer user_data);

G_END_DECLS
