/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "nf-executor.h"
#include "nf-manager.h"
#include "nf-store.h"

G_BEGIN_DECLS

/* The manager's insides, shared by nf-manager.c (the model),
 * nf-operations.c (the jobs) and nf-reconcile.c. */

typedef enum {
	NF_OP_CREATE,
	NF_OP_DELETE,
	NF_OP_SCALE,
	NF_OP_START,
	NF_OP_STOP,
	NF_OP_NODE_START,
	NF_OP_NODE_STOP,
	NF_OP_NODE_RESET,
} NfOpKind;

typedef struct _NfOp NfOp;

struct _NfManager {
	GObject parent_instance;
	const NfConfig *config;
	NfEngine *engine;
	NfStore *store;
	NfExecutor *executor;
	NfHostInfo *host;        /* the probe, once started (main thread's copy) */
	GHashTable *pools;       /* name -> NfPool */
	GHashTable *nodes;       /* name -> NfNode */
	GHashTable *jobs;        /* GUINT_TO_POINTER(id) -> NfJob */
	GHashTable *pool_queues; /* pool name -> GQueue of NfOp waiting */
	GHashTable *busy_pools;  /* pool name -> NfOp running */
	GPtrArray *intents;      /* NfIntent of running operations */
	guint next_job_id;
	guint64 pending_mib; /* admitted, not yet running */
	gboolean started;
	gboolean shutting_down;
	guint reaper_id;
	gulong event_id;
	gulong connected_id;
	GTask *shutdown_task;
};

/* nf-manager.c: the model */
void nf_manager_add_node (NfManager *self, NfPool *pool, NfNode *node);
void nf_manager_remove_node (NfManager *self, NfNode *node);
void nf_manager_add_pool (NfManager *self, NfPool *pool);
void nf_manager_remove_pool (NfManager *self, NfPool *pool);
void nf_manager_apply_node_info (NfManager *self, NfNode *node, const NfNodeInfo *info);
/* A libvirt lifecycle event (VIR_DOMAIN_EVENT_*) of the domain @name with
 * @uuid, applied to its node if the model has it. */
void nf_manager_apply_domain_event (NfManager *self,
				    const gchar *name,
				    const gchar *uuid,
				    gint event,
				    gint detail);
NfJob *nf_manager_new_job (NfManager *self, const gchar *operation, guint uid);
/* Writes the state file in the store's writer thread; @callback runs once
 * it is on disk. Saves land in the order they were asked for. */
void nf_manager_save_async (NfManager *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean nf_manager_save_finish (NfManager *self, GAsyncResult *result, GError **error);
gboolean nf_manager_admit (NfManager *self, guint64 need_mib, const gchar *what, GError **error);
void nf_manager_refresh_pool_state (NfManager *self, NfPool *pool);
NfIntent *nf_manager_add_intent (NfManager *self, guint job, NfIntentKind kind, const gchar *pool);
void nf_manager_drop_intent (NfManager *self, NfIntent *intent);

/* nf-operations.c: the jobs */
NfOp *nf_op_new (NfManager *self, NfOpKind kind, const gchar *pool, NfJob *job);
void nf_op_free (NfOp *op);
void nf_op_set_spec (NfOp *op, const NfPoolSpec *spec);
void nf_op_set_count (NfOp *op, guint count);
void nf_op_set_stop (NfOp *op, gboolean force, guint timeout_s);
void nf_op_set_node (NfOp *op, const gchar *node);
void nf_op_set_reserved (NfOp *op, guint64 reserved_mib);
/* Queues @op behind the pool's running operation, or starts it. */
void nf_manager_schedule (NfManager *self, NfOp *op);
void nf_manager_cancel_queued (NfManager *self, NfJob *job);

G_END_DECLS
