/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-engine.h"
#include "nf-store.h"

G_BEGIN_DECLS

/* Bringing the model in line with libvirt, at start and after libvirt comes
 * back: what libvirt and the state file say, as plain data for the manager
 * to apply. Nothing here reads or changes the model. */

/* What the model starts from. */
typedef struct {
	guint next_job;   /* job numbers go on from here */
	GPtrArray *pools; /* NfPoolSpec: the state file's pools, then those
			   * rebuilt from their nodes' metadata */
	GPtrArray *nodes; /* NfNodeInfo: the nodes to adopt, each of one of @pools */
	/* NfIntent: the parts of interrupted operations on other hosts than
	 * local, for each to settle when it opens (nf_model_add_deferred) */
	GPtrArray *deferred;
} NfReconcilePlan;

void nf_reconcile_plan_free (NfReconcilePlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfReconcilePlan, nf_reconcile_plan_free)

/* In a worker thread: prepares the engine, loads @store's state file,
 * finishes or rolls back what a crashed daemon left half-done (its
 * intents), removes overlays nestfarm made that no domain uses, and plans
 * the model from what is left; logs what it did. Never touches what is not
 * nestfarm's. */
void nf_reconcile_async (NfEngine *engine,
			 NfStore *store,
			 GCancellable *cancellable,
			 GAsyncReadyCallback cb,
			 gpointer user_data);
NfReconcilePlan *nf_reconcile_finish (GAsyncResult *res, GError **error);

/* A node an interrupted operation left on a host that was not open at
 * the start (see NfReconcilePlan.deferred). */
typedef struct {
	gchar *name;
	gboolean retire; /* kept, retired: a snapshot of its pool holds it */
} NfReconcileLeftover;

NfReconcileLeftover *nf_reconcile_leftover_new (const gchar *name, gboolean retire);
void nf_reconcile_leftover_free (NfReconcileLeftover *leftover);

/* After libvirt came back (or a host opened): in a worker thread, first
 * the @leftovers (NfReconcileLeftover, taken; NULL: none) removed or
 * retired, then the nodes it lists now (NfNodeInfo). @settled: the
 * leftovers' names that are done with (gone already too). */
void nf_reconcile_list_async (NfEngine *engine,
			      GPtrArray *leftovers,
			      GAsyncReadyCallback cb,
			      gpointer user_data);
GPtrArray *nf_reconcile_list_finish (GAsyncResult *res, GStrv *settled, GError **error);

G_END_DECLS
