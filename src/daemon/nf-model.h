/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-engine.h"
#include "nf-farm-host.h"
#include "nf-job.h"
#include "nf-node.h"
#include "nf-pool.h"
#include "nf-store.h"

G_BEGIN_DECLS

/* NfModel: what the daemon shows, and the state file that keeps it. */

#define NF_TYPE_MODEL (nf_model_get_type ())
G_DECLARE_FINAL_TYPE (NfModel, nf_model, NF, MODEL, GObject)

/* Pools, nodes and jobs, kept true to libvirt; the intents of running
 * operations and the state file they are written to; which pools an
 * operation is running on, and the memory admitted to operations that have
 * not yet made their nodes. Main thread only. The bottom of the daemon's
 * model layers: it calls nothing above it.
 * Signals: pool-added/pool-removed (NfPool), node-added/node-removed
 * (NfNode), job-added/job-removed (NfJob), host-added/host-removed
 * (NfFarmHost). Property: memory-committed-mib. */
NfModel *nf_model_new (const gchar *state_dir);
NfStore *nf_model_get_store (NfModel *self);

/* The hosts of the farm, local first; each lists its nodes (those whose
 * "host" names it), kept up to date as nodes come, go and move. */
GList *nf_model_get_hosts (NfModel *self);
NfFarmHost *nf_model_lookup_host (NfModel *self, const gchar *name);
/* What works on @node: @local for a node of the local host, else its
 * host's engine; NULL while that host is not set up (never another
 * host's). */
NfEngine *nf_model_get_node_engine (NfModel *self, NfNode *node, NfEngine *local);
void nf_model_add_host (NfModel *self, NfFarmHost *host);
void nf_model_remove_host (NfModel *self, NfFarmHost *host);

GList *nf_model_get_pools (NfModel *self);
/* The jobs still kept (running, or ended less than a while ago), by id. */
GList *nf_model_get_jobs (NfModel *self);
NfPool *nf_model_lookup_pool (NfModel *self, const gchar *name);
NfNode *nf_model_lookup_node (NfModel *self, const gchar *name);
/* Whether the model knows any node. */
gboolean nf_model_has_nodes (NfModel *self);
NfJob *nf_model_lookup_job (NfModel *self, guint id);

void nf_model_add_pool (NfModel *self, NfPool *pool);
void nf_model_remove_pool (NfModel *self, NfPool *pool);
void nf_model_add_node (NfModel *self, NfPool *pool, NfNode *node);
void nf_model_remove_node (NfModel *self, NfNode *node);
void nf_model_apply_node_info (NfModel *self, NfNode *node, const NfNodeInfo *info);
/* A libvirt lifecycle event (VIR_DOMAIN_EVENT_*) of the domain @name with
 * @uuid on @host, applied to its node if the model has it there (a node
 * that moved away hears nothing more from its old host; one moving hears
 * nothing). */
void nf_model_apply_domain_event (NfModel *self,
				  const gchar *host,
				  const gchar *name,
				  const gchar *uuid,
				  gint event,
				  gint detail);
/* @nodes (NfNodeInfo), all that the libvirt of @host lists now, applied to
 * the pools no operation is running on: nodes adopted, updated, or gone
 * (those on @host only). */
void nf_model_apply_listing (NfModel *self, const gchar *host, GPtrArray *nodes);
/* What @host holds is known (its listing, or the start's plan): a node that
 * vanished from its host leaves the model only once every host is. */
void nf_model_set_host_listed (NfModel *self, const gchar *host);
/* @host went offline: its nodes (of pools no operation is running on) are
 * unknown until a listing says what they are; they keep the memory they
 * held. */
void nf_model_set_host_unknown (NfModel *self, const gchar *host);

/* Memory: what nodes hold (their domain active, or being made) and what is
 * admitted to operations but not yet held. */
guint64 nf_model_get_memory_committed_mib (NfModel *self);
guint64 nf_model_get_memory_pending_mib (NfModel *self);
/* Per host: what is admitted to be made or started on @host. */
guint64 nf_model_get_host_memory_pending_mib (NfModel *self, const gchar *host);
void nf_model_reserve (NfModel *self, const gchar *host, guint64 mib);
void nf_model_release (NfModel *self, const gchar *host, guint64 mib);

/* An operation running on @pool (its @job): the pool shows what the
 * operation does until it is idle again. */
void nf_model_set_busy (NfModel *self, const gchar *pool, NfJob *job);
void nf_model_set_idle (NfModel *self, const gchar *pool);
NfJob *nf_model_get_busy_job (NfModel *self, const gchar *pool);
guint nf_model_get_n_busy (NfModel *self);
void nf_model_refresh_pool_state (NfModel *self, NfPool *pool);

NfJob *nf_model_new_job (NfModel *self, const gchar *operation, guint uid);
/* Job numbers go on from @next_job at least (they never repeat). */
void nf_model_set_next_job_id (NfModel *self, guint next_job);

NfIntent *nf_model_add_intent (NfModel *self, guint job, NfIntentKind kind, const gchar *pool);
void nf_model_drop_intent (NfModel *self, NfIntent *intent);
/* What a crash left for a host that was not open at the start (the parts
 * of intents on it, nf_reconcile): kept, and saved with the intents,
 * until that host's libvirt settles them (nf-farm.c, when it opens). The
 * model takes @intent. */
void nf_model_add_deferred (NfModel *self, NfIntent *intent);
GPtrArray *nf_model_get_deferred (NfModel *self);
/* The host of a node a deferred intent still holds, of @pool (NULL: any
 * pool) on @host (NULL: any host); NULL when there is none. */
const gchar *nf_model_find_deferred (NfModel *self, const gchar *pool, const gchar *host);
/* The nodes named in @settled are done with on @host: they leave the
 * deferred intents, and an intent with none left goes. Whether anything
 * changed (then the caller saves). */
gboolean nf_model_settle_deferred (NfModel *self, const gchar *host, const gchar *const *settled);
/* Writes the state file in the store's writer thread; @callback runs once
 * it is on disk. Saves land in the order they were asked for. */
void nf_model_save_async (NfModel *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean nf_model_save_finish (NfModel *self, GAsyncResult *result, GError **error);

G_END_DECLS
