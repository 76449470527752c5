/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-config.h"
#include "nestfarm/nf-engine.h"
#include "nf-model.h"
#include "nf-scheduler.h"

G_BEGIN_DECLS

/* NfManager: the daemon's front: start, shutdown, and the operations clients
 * ask of it, checked against the model, admitted and scheduled. */

#define NF_TYPE_MANAGER (nf_manager_get_type ())
G_DECLARE_FINAL_TYPE (NfManager, nf_manager, NF, MANAGER, GObject)

/* Properties mirror the Manager interface: version, accelerator,
 * nested-feature, libvirt-uri, memory-total-mib, memory-committed-mib. The
 * pools, nodes and jobs are the model's (nf_manager_get_model). */
NfManager *nf_manager_new (const NfConfig *config, NfEngine *engine);
const NfConfig *nf_manager_get_config (NfManager *self);
NfEngine *nf_manager_get_engine (NfManager *self);

/* Probes the host, prepares storage, loads the state file and reconciles
 * it with libvirt; in worker threads. */
void nf_manager_start_async (NfManager *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback cb,
			     gpointer user_data);
gboolean nf_manager_start_finish (NfManager *self, GAsyncResult *res, GError **error);
/* Stops taking work; cancels running jobs (they roll back); @cb when all
 * work has ended. */
void nf_manager_shutdown_async (NfManager *self, GAsyncReadyCallback cb, gpointer user_data);
gboolean nf_manager_shutdown_finish (NfManager *self, GAsyncResult *res, GError **error);
gboolean nf_manager_is_shutting_down (NfManager *self);

/* What @host can give nodes at all (NfMemoryBound, nf-scheduler.h); NULL:
 * the largest online host (what one node must fit). */
void nf_manager_get_memory_bound (NfManager *self, const gchar *host, NfMemoryBound *bound);

/* The model the bus shows: pools, nodes, jobs and their signals. */
NfModel *nf_manager_get_model (NfManager *self);

/* Operations. Arguments are validated already and the caller authorized;
 * each checks the model (exists, not found, admission) and returns the Job
 * that does the work, or NULL with a GError and nothing changed. A job on
 * a pool that is busy waits behind the running one. */
NfJob *nf_manager_create_pool (NfManager *self, const NfPoolSpec *spec, guint uid, GError **error);
/* ReadConsole: @max bytes of node @name's console log from @offset, read
 * in a worker through its host's engine, and the log's length now;
 * NF_ERROR_NOT_FOUND for a node that is not there. */
void nf_manager_read_console_async (NfManager *self,
				    const gchar *name,
				    guint64 offset,
				    guint max,
				    GAsyncReadyCallback cb,
				    gpointer user_data);
GBytes *nf_manager_read_console_finish (NfManager *self, GAsyncResult *res, guint64 *size, GError **error);
/* AddHost and RemoveHost (nf-farm.h says what they check and do). */
/* @peer_uri: the host's libvirt as the other hosts reach it (for
 * migrations), NULL: its URI. */
NfJob *nf_manager_add_host (NfManager *self,
			    const gchar *name,
			    const gchar *uri,
			    const gchar *peer_uri,
			    guint uid,
			    GError **error);
NfJob *nf_manager_remove_host (NfManager *self, const gchar *name, guint uid, GError **error);
NfJob *nf_manager_delete_pool (NfManager *self,
			       const gchar *name,
			       gboolean force,
			       guint timeout_s,
			       guint uid,
			       GError **error);
NfJob *nf_manager_scale_pool (NfManager *self, const gchar *name, guint count, guint uid, GError **error);
NfJob *nf_manager_start_pool (NfManager *self, const gchar *name, guint uid, GError **error);
NfJob *nf_manager_stop_pool (NfManager *self,
			     const gchar *name,
			     gboolean force,
			     guint timeout_s,
			     guint uid,
			     GError **error);
NfJob *nf_manager_start_node (NfManager *self, const gchar *name, guint uid, GError **error);
NfJob *nf_manager_stop_node (NfManager *self,
			     const gchar *name,
			     gboolean force,
			     guint timeout_s,
			     guint uid,
			     GError **error);
NfJob *nf_manager_reset_node (NfManager *self, const gchar *name, guint uid, GError **error);
/* Moves node @name to @host (NULL: the online host, other than its own,
 * with the most memory free that has room): live if it runs (refused
 * when !@live), cold if it is stopped. Refused at the call, changing
 * nothing: CPUMode=passthrough, a pool whose trunk is its host's own
 * bridge (no OVN), a host that is not in the farm, offline, the node's
 * own, or without room, or no peer URI to reach it by. A CPU the target
 * cannot run fails the job, saying which features it lacks. */
/* Host.Drain, Host.Activate and Manager.Rebalance (nf-moves.h). */
NfJob *nf_manager_drain_host (NfManager *self, const gchar *host, guint uid, GError **error);
NfJob *nf_manager_activate_host (NfManager *self, const gchar *host, guint uid, GError **error);
NfJob *nf_manager_rebalance (NfManager *self, guint threshold, guint max_moves, guint uid, GError **error);
NfJob *nf_manager_migrate_node (NfManager *self,
				const gchar *name,
				const gchar *host,
				gboolean live,
				guint uid,
				GError **error);
/* Pool snapshots (nf-snapshot.h): a name the pool has is Exists, one it
 * has not NotFound; a node a snapshot holds is never removed but with its
 * pool (scale down, reset and a revert that would are refused). */
NfJob *nf_manager_snapshot_pool (NfManager *self,
				 const gchar *name,
				 const gchar *snapshot,
				 gboolean memory,
				 guint uid,
				 GError **error);
NfJob *nf_manager_revert_pool (NfManager *self,
			       const gchar *name,
			       const gchar *snapshot,
			       guint uid,
			       GError **error);
NfJob *nf_manager_delete_snapshot (NfManager *self,
				   const gchar *name,
				   const gchar *snapshot,
				   guint uid,
				   GError **error);
void nf_manager_cancel_job (NfManager *self, NfJob *job);

/* CheckHost: a fresh probe, in a worker thread. */
void nf_manager_check_host_async (NfManager *self, GAsyncReadyCallback cb, gpointer user_data);
NfHostInfo *nf_manager_check_host_finish (NfManager *self, GAsyncResult *res, GError **error);

G_END_DECLS
