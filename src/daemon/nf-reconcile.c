/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-reconcile"

#include "config.h"

#include <glib/gstdio.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nf-manager-private.h"
#include "nf-reconcile.h"

/* Reconciliation: at start, the state file and libvirt made to agree (intents
 * settled, domains adopted, orphan overlays removed); after a reconnect, the
 * nodes of idle pools read again. */

typedef struct {
	guint next_job;
	GPtrArray *specs; /* NfPoolSpec */
	GPtrArray *nodes; /* NfNodeInfo */
} Found;

static void
found_free (Found *found)
{
	g_clear_pointer (&found->specs, g_ptr_array_unref);
	g_clear_pointer (&found->nodes, g_ptr_array_unref);
	g_free (found);
}

static void
remove_quietly (NfEngine *engine, const gchar *name, const gchar *why)
{
	g_autoptr (GError) error = NULL;

	if (nf_engine_remove_node (engine, name, &error)) {
		g_message ("reconcile: removed %s (%s)", name, why);
		return;
	}
	if (!g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND))
		g_warning ("reconcile: cannot remove %s (%s): %s", name, why, error->message);
}

static gint
find_spec (GPtrArray *specs, const gchar *pool)
{
	for (guint i = 0; i < specs->len; i++) {
		NfPoolSpec *spec = g_ptr_array_index (specs, i);

		if (g_strcmp0 (spec->name, pool) == 0)
			return (gint) i;
	}
	return -1;
}

/* Removes the nodes @intent touches: a make rolled back, a removal finished. */
static void
remove_touched (NfEngine *engine, NfIntent *intent, const gchar *why)
{
	for (guint i = 0; i < intent->indexes->len; i++) {
		g_autofree gchar *name =
			nf_node_name_build (intent->pool, g_array_index (intent->indexes, guint, i));

		remove_quietly (engine, name, why);
	}
}

static void
forget_pool (GPtrArray *specs, const gchar *pool)
{
	gint at = find_spec (specs, pool);

	if (at >= 0)
		g_ptr_array_remove_index (specs, (guint) at);
}

/* Finishes or rolls back one operation a crashed daemon left behind. */
static void
settle_intent (NfEngine *engine, NfIntent *intent, GPtrArray *specs, GPtrArray *nodes)
{
	g_autofree gchar *why = g_strdup_printf ("%s of pool %s interrupted by a restart",
						 nf_intent_kind_to_string (intent->kind),
						 intent->pool);

	switch (intent->kind) {
	case NF_INTENT_KIND_CREATE:
		remove_touched (engine, intent, why);
		forget_pool (specs, intent->pool);
		break;
	case NF_INTENT_KIND_SCALE_UP:
	case NF_INTENT_KIND_SCALE_DOWN:
		remove_touched (engine, intent, why);
		break;
	case NF_INTENT_KIND_DELETE:
		for (guint i = 0; i < nodes->len; i++) {
			NfNodeInfo *info = g_ptr_array_index (nodes, i);

			if (g_strcmp0 (info->spec->pool, intent->pool) == 0)
				remove_quietly (engine, info->name, why);
		}
		forget_pool (specs, intent->pool);
		break;
	case NF_INTENT_KIND_RESET:
		for (guint i = 0; i < intent->indexes->len; i++) {
			g_autofree gchar *name =
				nf_node_name_build (intent->pool, g_array_index (intent->indexes, guint, i));
			g_autoptr (GError) error = NULL;

			if (!nf_engine_reset_node (engine, name, 0, NULL, &error))
				g_warning ("reconcile: cannot finish the reset of %s: %s",
					   name,
					   error->message);
			else
				g_message ("reconcile: finished the reset of %s (%s)", name, why);
		}
		break;
	case NF_INTENT_KIND_LAST:
	default:
		g_assert_not_reached ();
	}
}

static void
reconcile_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	NfManager *self = NF_MANAGER (source);
	NfEngine *engine = self->engine;
	g_autoptr (GPtrArray) specs = NULL;
	g_autoptr (GPtrArray) intents = NULL;
	g_autoptr (GPtrArray) nodes = NULL;
	GError *error = NULL;
	g_autoptr (GError) store_error = NULL;
	Found *found;
	guint orphans;
	guint next_job = 1;

	if (!nf_engine_prepare (engine, &error)) {
		g_task_return_error (task, error);
		return;
	}
	if (!nf_store_load (self->store, &specs, &intents, &next_job, &store_error)) {
		g_autofree gchar *aside = g_strdup_printf ("%s.broken-%" G_GINT64_FORMAT,
							   nf_store_get_path (self->store),
							   g_get_real_time () / G_USEC_PER_SEC);

		/* Keep the evidence, rebuild from libvirt's metadata. */
		g_warning ("%s Moving it to %s and rebuilding from libvirt.", store_error->message, aside);
		if (g_rename (nf_store_get_path (self->store), aside) != 0)
			g_warning ("cannot move %s aside", nf_store_get_path (self->store));
		specs = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_spec_free);
		intents = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	}
	nodes = nf_engine_list_nodes (engine, &error);
	if (nodes == NULL) {
		g_task_return_error (task, error);
		return;
	}
	if (intents->len > 0) {
		for (guint i = 0; i < intents->len; i++)
			settle_intent (engine, g_ptr_array_index (intents, i), specs, nodes);
		g_clear_pointer (&nodes, g_ptr_array_unref);
		nodes = nf_engine_list_nodes (engine, &error);
		if (nodes == NULL) {
			g_task_return_error (task, error);
			return;
		}
	}
	orphans = nf_engine_remove_orphan_overlays (engine, &error);
	if (error != NULL) {
		g_warning ("reconcile: %s", error->message);
		g_clear_error (&error);
	} else if (orphans > 0) {
		g_message ("reconcile: removed %u overlays that no node used", orphans);
	}
	found = g_new0 (Found, 1);
	found->next_job = next_job;
	found->specs = g_steal_pointer (&specs);
	found->nodes = g_steal_pointer (&nodes);
	g_task_return_pointer (task, found, (GDestroyNotify) found_free);
}

void
nf_reconcile_async (NfManager *self, GCancellable *cancellable, GAsyncReadyCallback cb, gpointer user_data)
{
	g_autoptr (GTask) task = g_task_new (self, cancellable, cb, user_data);

	g_task_run_in_thread (task, reconcile_thread);
}

static NfPoolSpec *
spec_from_node (const NfNodeInfo *info)
{
	NfPoolSpec *spec = nf_pool_spec_new ();

	spec->name = g_strdup (info->spec->pool);
	spec->profile = g_strdup (info->spec->profile);
	spec->image = g_strdup (info->spec->image);
	spec->vcpus = info->spec->vcpus;
	spec->memory_mib = info->spec->memory_mib;
	spec->disk_gib = info->spec->disk_gib;
	spec->trunk_bridge = g_strdup (info->spec->trunk_bridge);
	spec->vlans = g_strdup (info->spec->vlans);
	spec->mgmt_network = g_strdup (info->spec->mgmt_network);
	spec->count = 0;
	return spec;
}

gboolean
nf_reconcile_finish (NfManager *self, GAsyncResult *res, GError **error)
{
	Found *found = g_task_propagate_pointer (G_TASK (res), error);
	guint adopted = 0, rebuilt = 0;

	if (found == NULL)
		return FALSE;
	self->next_job_id = MAX (self->next_job_id, found->next_job);
	/* Pools the state file knows... */
	for (guint i = 0; i < found->specs->len; i++) {
		g_autoptr (NfPool) pool = nf_pool_new (g_ptr_array_index (found->specs, i));

		nf_manager_add_pool (self, pool);
	}
	/* ...and those only libvirt remembers (a lost state file). */
	for (guint i = 0; i < found->nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (found->nodes, i);
		NfPool *pool = nf_manager_lookup_pool (self, info->spec->pool);
		g_autoptr (NfNode) node = NULL;

		if (pool == NULL) {
			g_autoptr (NfPoolSpec) spec = spec_from_node (info);
			g_autoptr (NfPool) made = nf_pool_new (spec);

			nf_manager_add_pool (self, made);
			pool = made;
			rebuilt++;
			g_message ("reconcile: rebuilt pool %s from the metadata of its nodes",
				   info->spec->pool);
		}
		if (nf_manager_lookup_node (self, info->name) != NULL)
			continue;
		node = nf_node_new (info->spec->pool, info->spec->index);
		nf_manager_apply_node_info (self, node, info);
		nf_manager_add_node (self, pool, node);
		if (rebuilt > 0 && nf_pool_get_spec (pool)->count < nf_pool_get_nodes (pool)->len)
			nf_pool_set_count (pool, nf_pool_get_nodes (pool)->len);
		adopted++;
	}
	{
		g_autoptr (GList) pools = nf_manager_get_pools (self);

		for (GList *l = pools; l != NULL; l = l->next)
			nf_manager_refresh_pool_state (self, l->data);
	}
	g_message ("reconcile: %u pools, %u nodes adopted from libvirt",
		   g_hash_table_size (self->pools),
		   adopted);
	found_free (found);
	return TRUE;
}

static void
list_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	NfManager *self = NF_MANAGER (source);
	GError *error = NULL;
	GPtrArray *nodes = nf_engine_list_nodes (self->engine, &error);

	if (nodes == NULL) {
		g_task_return_error (task, error);
		return;
	}
	g_task_return_pointer (task, nodes, (GDestroyNotify) g_ptr_array_unref);
}

static void
relisted (GObject *source, GAsyncResult *res, gpointer user_data)
{
	NfManager *self = NF_MANAGER (source);
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) nodes = g_task_propagate_pointer (G_TASK (res), &error);
	g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
	g_autoptr (GList) pools = NULL;

	if (nodes == NULL) {
		g_warning ("reconcile after reconnect: %s", error->message);
		return;
	}
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);
		NfPool *pool = nf_manager_lookup_pool (self, info->spec->pool);
		NfNode *node;

		g_hash_table_add (seen, info->name);
		if (pool == NULL || g_hash_table_contains (self->busy_pools, info->spec->pool))
			continue;
		node = nf_manager_lookup_node (self, info->name);
		if (node == NULL) {
			g_autoptr (NfNode) adopted = nf_node_new (info->spec->pool, info->spec->index);

			nf_manager_apply_node_info (self, adopted, info);
			nf_manager_add_node (self, pool, adopted);
			continue;
		}
		nf_manager_apply_node_info (self, node, info);
	}
	pools = nf_manager_get_pools (self);
	for (GList *l = pools; l != NULL; l = l->next) {
		NfPool *pool = l->data;
		g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
		GPtrArray *pool_nodes = nf_pool_get_nodes (pool);

		if (g_hash_table_contains (self->busy_pools, nf_pool_get_name (pool)))
			continue;
		for (guint i = 0; i < pool_nodes->len; i++) {
			NfNode *node = g_ptr_array_index (pool_nodes, i);

			if (!g_hash_table_contains (seen, nf_node_get_name (node)))
				g_ptr_array_add (gone, g_object_ref (node));
		}
		for (guint i = 0; i < gone->len; i++) {
			g_message ("node %s vanished from libvirt while it was unreachable",
				   nf_node_get_name (g_ptr_array_index (gone, i)));
			nf_manager_remove_node (self, g_ptr_array_index (gone, i));
		}
	}
	g_message ("reconciled with libvirt after reconnecting: %u nodes", nodes->len);
}

void
nf_reconcile_after_reconnect (NfManager *self)
{
	g_autoptr (GTask) task = g_task_new (self, NULL, relisted, NULL);

	g_task_run_in_thread (task, list_thread);
}
