/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-reconcile"

#include "config.h"

#include <glib/gstdio.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-snapshot.h"
#include "nf-reconcile.h"

/* Reconciliation: at start, the state file and libvirt made to agree (intents
 * settled, orphan overlays removed) and the model planned from what is left;
 * after a reconnect, libvirt's nodes read again. The manager applies both to
 * the model; nothing here reads or changes it. */

/* The engine's calls here keep what they would warn about (see
 * nf-engine.h) in a GPtrArray: logged, then freed. */
static void
log_warnings (GPtrArray *warnings)
{
	for (guint i = 0; i < warnings->len; i++)
		g_warning ("%s", (const gchar *) g_ptr_array_index (warnings, i));
	g_ptr_array_set_size (warnings, 0);
}

static void
remove_quietly (NfEngine *engine, const gchar *name, const gchar *why)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
	gboolean removed = nf_engine_remove_node (engine, name, warnings, &error);

	log_warnings (warnings);
	if (removed) {
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

/* A node leaving pool @pool: kept, retired, while a snapshot of the pool
 * holds it (a revert brings it back), removed otherwise. */
static void
let_go (NfEngine *engine,
	GPtrArray *specs,
	const gchar *pool,
	const gchar *name,
	guint index,
	const gchar *why)
{
	gint at = find_spec (specs, pool);
	NfPoolSpec *spec = at >= 0 ? g_ptr_array_index (specs, (guint) at) : NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);

	if (spec == NULL || nf_pool_snapshot_find_holding (spec->snapshots, index) == NULL) {
		remove_quietly (engine, name, why);
		return;
	}
	if (nf_engine_retire_node (engine, name, warnings, &error))
		g_message ("reconcile: retired %s, which a snapshot holds (%s)", name, why);
	else if (!g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND))
		g_warning ("reconcile: cannot retire %s (%s): %s", name, why, error->message);
	log_warnings (warnings);
}

/* Removes the nodes @intent touches: a make rolled back, a removal finished. */
static void
remove_touched (NfEngine *engine, NfIntent *intent, const gchar *why)
{
	for (guint i = 0; i < intent->indexes->len; i++) {
		g_autofree gchar *name =
			nf_node_name_build (intent->pool, g_array_index (intent->indexes, guint, i));

		g_autoptr (GError) error = NULL;

		remove_quietly (engine, name, why);
		if (!nf_engine_remove_unfinished_seed (engine, name, &error))
			g_warning ("reconcile: %s", error->message);
	}
}

static void
forget_pool (GPtrArray *specs, const gchar *pool)
{
	gint at = find_spec (specs, pool);

	if (at >= 0)
		g_ptr_array_remove_index (specs, (guint) at);
}

static NfPoolSnapshot *
find_snapshot (GPtrArray *specs, const gchar *pool, const gchar *name)
{
	gint at = find_spec (specs, pool);
	NfPoolSpec *spec = at >= 0 ? g_ptr_array_index (specs, (guint) at) : NULL;

	for (guint i = 0; spec != NULL && i < spec->snapshots->len; i++) {
		NfPoolSnapshot *snapshot = g_ptr_array_index (spec->snapshots, i);

		if (g_strcmp0 (snapshot->name, name) == 0)
			return snapshot;
	}
	return NULL;
}

static void
forget_snapshot (GPtrArray *specs, const gchar *pool, const gchar *name)
{
	gint at = find_spec (specs, pool);
	NfPoolSnapshot *snapshot = find_snapshot (specs, pool, name);

	if (snapshot != NULL)
		g_ptr_array_remove (((NfPoolSpec *) g_ptr_array_index (specs, (guint) at))->snapshots,
				    snapshot);
}

/* A snapshot a crash cut short, or one being deleted: deleted from each
 * node it touched (a snapshot is whole or gone); @resume: the nodes that
 * were paused for it run again. */
static void
delete_snapshot_of (NfEngine *engine, NfIntent *intent, gboolean resume, const gchar *why)
{
	for (guint i = 0; i < intent->indexes->len; i++) {
		g_autofree gchar *name =
			nf_node_name_build (intent->pool, g_array_index (intent->indexes, guint, i));
		g_autoptr (GError) error = NULL;

		if (!nf_snapshot_delete (engine, name, intent->snapshot, &error) ||
		    (resume && !nf_snapshot_resume (engine, name, &error))) {
			if (!g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND))
				g_warning ("reconcile: %s (%s)", error->message, why);
			continue;
		}
		g_message ("reconcile: snapshot %s of %s is gone (%s)", intent->snapshot, name, why);
	}
}

/* A revert a crash cut short is done again from the start: every node of
 * the snapshot reverted (again), the nodes made since removed, and those
 * that ran at the snapshot run. */
static void
finish_revert (NfEngine *engine, NfIntent *intent, GPtrArray *specs, GPtrArray *nodes, const gchar *why)
{
	NfPoolSnapshot *snapshot = find_snapshot (specs, intent->pool, intent->snapshot);
	gint at = find_spec (specs, intent->pool);

	if (snapshot == NULL) {
		g_warning ("reconcile: pool %s has no snapshot %s to finish its revert",
			   intent->pool,
			   intent->snapshot);
		return;
	}
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);

		if (g_strcmp0 (info->spec->pool, intent->pool) == 0 && info->spec->retired == 0 &&
		    !nf_pool_snapshot_holds (snapshot, info->spec->index))
			let_go (engine, specs, intent->pool, info->name, info->spec->index, why);
	}
	for (guint i = 0; i < snapshot->indexes->len; i++) {
		g_autofree gchar *name =
			nf_node_name_build (intent->pool, g_array_index (snapshot->indexes, guint, i));
		g_autoptr (GError) error = NULL;
		gboolean ran = FALSE;

		if (!nf_snapshot_revert (engine, name, snapshot->name, snapshot->memory, &ran, &error) ||
		    (ran && snapshot->memory && !nf_snapshot_resume (engine, name, &error)) ||
		    (ran && !snapshot->memory && !nf_engine_start_node (engine, name, &error)))
			g_warning ("reconcile: cannot finish the revert of %s: %s", name, error->message);
		else
			g_message ("reconcile: reverted %s to %s (%s)", name, snapshot->name, why);
	}
	((NfPoolSpec *) g_ptr_array_index (specs, (guint) at))->count = snapshot->indexes->len;
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
		remove_touched (engine, intent, why);
		break;
	case NF_INTENT_KIND_SCALE_DOWN:
		for (guint i = 0; i < intent->indexes->len; i++) {
			guint index = g_array_index (intent->indexes, guint, i);
			g_autofree gchar *name = nf_node_name_build (intent->pool, index);

			let_go (engine, specs, intent->pool, name, index, why);
		}
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
			g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
			gboolean reset = nf_engine_reset_node (engine, name, 0, NULL, warnings, &error);

			log_warnings (warnings);
			if (!reset)
				g_warning ("reconcile: cannot finish the reset of %s: %s",
					   name,
					   error->message);
			else
				g_message ("reconcile: finished the reset of %s (%s)", name, why);
		}
		break;
	case NF_INTENT_KIND_SNAPSHOT:
		delete_snapshot_of (engine, intent, TRUE, why);
		break;
	case NF_INTENT_KIND_DELETE_SNAPSHOT:
		delete_snapshot_of (engine, intent, FALSE, why);
		forget_snapshot (specs, intent->pool, intent->snapshot);
		break;
	case NF_INTENT_KIND_REVERT:
		finish_revert (engine, intent, specs, nodes, why);
		break;
	case NF_INTENT_KIND_LAST:
	default:
		g_assert_not_reached ();
	}
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
	spec->ovn = info->spec->trunk_port != NULL;
	spec->vlans = g_strdup (info->spec->vlans);
	spec->mgmt_network = g_strdup (info->spec->mgmt_network);
	spec->ssh_user = g_strdup (info->spec->ssh_user);
	spec->ssh_keys = g_strdupv (info->spec->ssh_keys);
	spec->user_data = g_strdup (info->spec->user_data);
	spec->count = 0;
	return spec;
}

static gint
snapshot_compare (gconstpointer a, gconstpointer b)
{
	const NfPoolSnapshot *sa = *(NfPoolSnapshot *const *) a;
	const NfPoolSnapshot *sb = *(NfPoolSnapshot *const *) b;

	return sa->created < sb->created ? -1 : sa->created > sb->created;
}

/* One node's pool snapshots added to @seen (name -> NfPoolSnapshot). */
static void
gather_snapshots (NfEngine *engine, const NfNodeInfo *info, GHashTable *seen)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) list = nf_snapshot_list (engine, info->name, &error);

	if (list == NULL) {
		g_warning ("reconcile: %s", error->message);
		return;
	}
	for (guint i = 0; i < list->len; i++) {
		NfSnapshotInfo *part = g_ptr_array_index (list, i);
		NfPoolSnapshot *snapshot = g_hash_table_lookup (seen, part->name);

		if (snapshot == NULL) {
			snapshot = nf_pool_snapshot_new (part->name);
			snapshot->created = part->created;
			snapshot->memory = part->memory;
			g_hash_table_insert (seen, snapshot->name, snapshot);
		}
		snapshot->created = MIN (snapshot->created, part->created);
		g_array_append_val (snapshot->indexes, info->spec->index);
		if (part->ran)
			g_array_append_val (snapshot->running, info->spec->index);
	}
}

/* A pool rebuilt from its nodes' metadata (the state file was lost) gets
 * back the snapshots every one of its nodes has; libvirt does not know
 * their sizes (0). One that some nodes lack is left to be deleted by hand
 * or with the pool. */
static void
rebuild_snapshots (NfEngine *engine, NfPoolSpec *spec, GPtrArray *nodes)
{
	g_autoptr (GHashTable) seen =
		g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) nf_pool_snapshot_free);
	GHashTableIter iter;
	gpointer value;
	guint members = 0;

	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);

		if (g_strcmp0 (info->spec->pool, spec->name) != 0)
			continue;
		members++;
		gather_snapshots (engine, info, seen);
	}
	g_hash_table_iter_init (&iter, seen);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		NfPoolSnapshot *snapshot = value;

		if (snapshot->indexes->len != members) {
			g_warning ("reconcile: snapshot %s of pool %s is on %u of its %u nodes; not listed",
				   snapshot->name,
				   spec->name,
				   snapshot->indexes->len,
				   members);
			continue;
		}
		snapshot->memory = snapshot->running->len > 0 && snapshot->memory;
		g_hash_table_iter_steal (&iter);
		g_ptr_array_add (spec->snapshots, snapshot);
	}
	g_ptr_array_sort (spec->snapshots, snapshot_compare);
	if (spec->snapshots->len > 0)
		g_message ("reconcile: pool %s has %u snapshots again", spec->name, spec->snapshots->len);
}

void
nf_reconcile_plan_free (NfReconcilePlan *plan)
{
	if (plan == NULL)
		return;
	g_clear_pointer (&plan->pools, g_ptr_array_unref);
	g_clear_pointer (&plan->nodes, g_ptr_array_unref);
	g_clear_pointer (&plan->deferred, g_ptr_array_unref);
	g_free (plan);
}

/* The model to start from: the state file's pools (@specs), and every node
 * libvirt lists. A node of a pool the state file does not know (it was
 * lost) rebuilds its pool from its metadata; once one was rebuilt, a pool
 * with more nodes than its count takes their number. */
/* Retired nodes that no snapshot of a known pool holds any more (a
 * snapshot deletion cut short): removed. A pool rebuilt from libvirt has
 * its snapshots read back later; its retired nodes wait for that. */
static void
remove_unheld_retired (NfEngine *engine, GPtrArray *specs, GPtrArray *nodes)
{
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);
		gint at = find_spec (specs, info->spec->pool);
		NfPoolSpec *spec = at >= 0 ? g_ptr_array_index (specs, (guint) at) : NULL;

		if (info->spec->retired == 0 || spec == NULL ||
		    nf_pool_snapshot_find_holding (spec->snapshots, info->spec->index) != NULL)
			continue;
		remove_quietly (engine, info->name, "retired, and no snapshot holds it any more");
		g_ptr_array_remove_index (nodes, i--);
	}
}

static NfReconcilePlan *
plan_model (guint next_job, GPtrArray *specs, GPtrArray *nodes)
{
	NfReconcilePlan *plan = g_new0 (NfReconcilePlan, 1);
	g_autoptr (GHashTable) adopted = g_hash_table_new (g_str_hash, g_str_equal);
	guint rebuilt = 0;

	plan->next_job = next_job;
	plan->pools = g_ptr_array_ref (specs);
	plan->nodes = g_ptr_array_ref (nodes);
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);
		gint at = find_spec (specs, info->spec->pool);
		NfPoolSpec *spec;
		guint held;

		if (info->spec->retired != 0)
			continue;

		if (at < 0) {
			g_ptr_array_add (specs, spec_from_node (info));
			at = (gint) specs->len - 1;
			rebuilt++;
			g_message ("reconcile: rebuilt pool %s from the metadata of its nodes",
				   info->spec->pool);
		}
		spec = g_ptr_array_index (specs, (guint) at);
		held = GPOINTER_TO_UINT (g_hash_table_lookup (adopted, spec->name)) + 1;
		g_hash_table_insert (adopted, spec->name, GUINT_TO_POINTER (held));
		if (rebuilt > 0 && spec->count < held)
			spec->count = held;
	}
	/* a retired node is its pool's, not one of its nodes */
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);
		gint at = find_spec (specs, info->spec->pool);

		if (info->spec->retired == 0)
			continue;
		if (at >= 0)
			nf_pool_spec_add_retired (g_ptr_array_index (specs, (guint) at), info->spec->index);
		g_ptr_array_remove_index (nodes, i--);
	}
	return plan;
}

/* The state file's pools and intents, or none when it does not parse: it
 * is kept aside and the model rebuilt from libvirt's metadata. */
/* FALSE: the state file was broken (set aside; nothing is known of the
 * pools but what libvirt lists). */
static gboolean
load_state (NfStore *store, GPtrArray **specs, GPtrArray **intents, guint *next_job)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *aside = NULL;

	if (nf_store_load (store, specs, intents, next_job, &error))
		return TRUE;
	aside = g_strdup_printf ("%s.broken-%" G_GINT64_FORMAT,
				 nf_store_get_path (store),
				 g_get_real_time () / G_USEC_PER_SEC);
	g_warning ("%s Moving it to %s and rebuilding from libvirt.", error->message, aside);
	if (g_rename (nf_store_get_path (store), aside) != 0)
		g_warning ("cannot move %s aside", nf_store_get_path (store));
	*specs = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_spec_free);
	*intents = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	return FALSE;
}

/* The part of @intent on other hosts than local, taken out of it (NULL:
 * none). */
static NfIntent *
split_remote (NfIntent *intent)
{
	g_autoptr (NfIntent) remote = nf_intent_new (intent->job, intent->kind, intent->pool);

	remote->snapshot = g_strdup (intent->snapshot);
	remote->deferred = TRUE;
	for (guint i = 0; i < intent->indexes->len; i++) {
		guint index = g_array_index (intent->indexes, guint, i);
		const gchar *host = nf_intent_get_host (intent, index);

		if (g_str_equal (host, NF_HOST_LOCAL))
			continue;
		g_array_append_val (remote->indexes, index);
		nf_intent_set_host (remote, index, host);
		nf_intent_set_host (intent, index, NULL);
		g_array_remove_index (intent->indexes, i--);
	}
	return remote->indexes->len > 0 ? g_steal_pointer (&remote) : NULL;
}

/* Its other hosts' part of an interrupted operation: what removes or
 * retires nodes (a make rolled back, a removal finished) waits for each
 * host to open (nf_model_add_deferred); the rest cannot be finished
 * there, and is said. */
static void
defer_remote (NfIntent *remote, GPtrArray *deferred)
{
	switch (remote->kind) {
	case NF_INTENT_KIND_CREATE:
	case NF_INTENT_KIND_SCALE_UP:
	case NF_INTENT_KIND_SCALE_DOWN:
	case NF_INTENT_KIND_DELETE:
		g_message ("reconcile: %u nodes of the interrupted %s of pool %s are settled when their hosts open",
			   remote->indexes->len,
			   nf_intent_kind_to_string (remote->kind),
			   remote->pool);
		g_ptr_array_add (deferred, remote);
		return;
	case NF_INTENT_KIND_RESET:
	case NF_INTENT_KIND_SNAPSHOT:
	case NF_INTENT_KIND_DELETE_SNAPSHOT:
	case NF_INTENT_KIND_REVERT:
	case NF_INTENT_KIND_LAST:
	default:
		g_warning ("reconcile: the interrupted %s of pool %s is not finished on its nodes on other hosts; "
			   "check them ('nestfarmctl pool show %s')",
			   nf_intent_kind_to_string (remote->kind),
			   remote->pool,
			   remote->pool);
		nf_intent_free (remote);
	}
}

/* libvirt's nodes once every intent is settled (a settled intent changed
 * them: they are listed again); the parts on other hosts go to
 * @deferred. */
static GPtrArray *
settle_intents (NfEngine *engine, GPtrArray *intents, GPtrArray *specs, GPtrArray *deferred, GError **error)
{
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) nodes = nf_engine_list_nodes (engine, warnings, error);

	log_warnings (warnings);
	if (nodes == NULL || intents->len == 0)
		return g_steal_pointer (&nodes);
	for (guint i = 0; i < intents->len; i++) {
		NfIntent *intent = g_ptr_array_index (intents, i);
		NfIntent *remote = split_remote (intent);

		/* an earlier start did its pool-wide part: it is the hosts' now */
		if (!intent->deferred)
			settle_intent (engine, intent, specs, nodes);
		if (remote != NULL)
			defer_remote (remote, deferred);
	}
	g_clear_pointer (&nodes, g_ptr_array_unref);
	nodes = nf_engine_list_nodes (engine, warnings, error);
	log_warnings (warnings);
	return g_steal_pointer (&nodes);
}

/* Ports libvirt left on a trunk for nodes that do not run (see
 * nf_engine_remove_stale_ports): at each start and after each reconnect,
 * as libvirtd going away is when QEMU can end unseen. */
static void
remove_stale_ports (NfEngine *engine)
{
	g_autoptr (GError) error = NULL;

	nf_engine_remove_stale_ports (engine, &error);
	if (error != NULL)
		g_warning ("reconcile: %s", error->message);
}

/* The OVN switches of pools that are no more (a crash between a pool's
 * end and its switch's), once the intents are settled: @pools is every
 * pool there is, known or rebuilt from libvirt. */
static void
remove_orphan_trunks (NfEngine *engine, GPtrArray *pools)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) names = g_ptr_array_new ();
	guint removed;

	for (guint i = 0; i < pools->len; i++)
		g_ptr_array_add (names, ((NfPoolSpec *) g_ptr_array_index (pools, i))->name);
	g_ptr_array_add (names, NULL);
	removed = nf_engine_remove_orphan_trunks (engine, (const gchar *const *) names->pdata, &error);
	if (error != NULL)
		g_warning ("reconcile: %s", error->message);
	else if (removed > 0)
		g_message ("reconcile: removed %u OVN switches of pools that are no more", removed);
}

static void
reconcile_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	NfEngine *engine = NF_ENGINE (source);
	NfStore *store = task_data;
	g_autoptr (GPtrArray) specs = NULL;
	g_autoptr (GPtrArray) intents = NULL;
	g_autoptr (GPtrArray) nodes = NULL;
	g_autoptr (GPtrArray) deferred = NULL;
	GError *error = NULL;
	g_autoptr (GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	NfReconcilePlan *plan;
	guint orphans;
	guint next_job = 1;
	gboolean known_pools;

	if (!nf_engine_prepare (engine, &error)) {
		g_task_return_error (task, error);
		return;
	}
	/* only a state file that was there and read says which pools there
	 * are (those all on other hosts too) */
	known_pools = g_file_test (nf_store_get_path (store), G_FILE_TEST_EXISTS);
	known_pools = load_state (store, &specs, &intents, &next_job) && known_pools;
	for (guint i = 0; i < specs->len; i++)
		g_hash_table_add (known, g_strdup (((NfPoolSpec *) g_ptr_array_index (specs, i))->name));
	deferred = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	nodes = settle_intents (engine, intents, specs, deferred, &error);
	if (nodes == NULL) {
		g_task_return_error (task, error);
		return;
	}
	orphans = nf_engine_remove_orphan_overlays (engine, &error);
	if (error != NULL) {
		g_warning ("reconcile: %s", error->message);
		g_clear_error (&error);
	} else if (orphans > 0) {
		g_message ("reconcile: removed %u overlays that no node used", orphans);
	}
	remove_stale_ports (engine);
	remove_unheld_retired (engine, specs, nodes);
	plan = plan_model (next_job, specs, nodes);
	plan->deferred = g_steal_pointer (&deferred);
	if (known_pools)
		remove_orphan_trunks (engine, plan->pools);
	for (guint i = 0; i < plan->pools->len; i++) {
		NfPoolSpec *spec = g_ptr_array_index (plan->pools, i);

		if (!g_hash_table_contains (known, spec->name))
			rebuild_snapshots (engine, spec, plan->nodes);
	}
	g_task_return_pointer (task, plan, (GDestroyNotify) nf_reconcile_plan_free);
}

void
nf_reconcile_async (NfEngine *engine,
		    NfStore *store,
		    GCancellable *cancellable,
		    GAsyncReadyCallback cb,
		    gpointer user_data)
{
	g_autoptr (GTask) task = g_task_new (engine, cancellable, cb, user_data);

	g_task_set_task_data (task, store, NULL);
	g_task_run_in_thread (task, reconcile_thread);
}

NfReconcilePlan *
nf_reconcile_finish (GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer (G_TASK (res), error);
}

NfReconcileLeftover *
nf_reconcile_leftover_new (const gchar *name, gboolean retire)
{
	NfReconcileLeftover *leftover = g_new0 (NfReconcileLeftover, 1);

	leftover->name = g_strdup (name);
	leftover->retire = retire;
	return leftover;
}

void
nf_reconcile_leftover_free (NfReconcileLeftover *leftover)
{
	if (leftover == NULL)
		return;
	g_free (leftover->name);
	g_free (leftover);
}

typedef struct {
	GPtrArray *leftovers; /* NfReconcileLeftover */
	GStrv settled;        /* out */
} ListWork;

static void
list_work_free (ListWork *work)
{
	g_clear_pointer (&work->leftovers, g_ptr_array_unref);
	g_strfreev (work->settled);
	g_free (work);
}

/* One leftover done with: removed (gone already is done too), or retired. */
static gboolean
settle_leftover (NfEngine *engine, const NfReconcileLeftover *leftover)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
	const gchar *why = "an operation interrupted while its host was away";
	gboolean done;

	if (leftover->retire)
		done = nf_engine_retire_node (engine, leftover->name, warnings, &error);
	else
		done = nf_engine_remove_node (engine, leftover->name, warnings, &error) &&
		       nf_engine_remove_unfinished_seed (engine, leftover->name, &error);
	log_warnings (warnings);
	if (!done && g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND))
		done = leftover->retire || nf_engine_remove_unfinished_seed (engine, leftover->name, NULL);
	if (done)
		g_message ("reconcile: %s %s (%s)",
			   leftover->retire ? "retired" : "removed",
			   leftover->name,
			   why);
	else
		g_warning ("reconcile: cannot settle %s (%s): %s; tried again when its host opens again",
			   leftover->name,
			   why,
			   error != NULL ? error->message : "failed");
	return done;
}

static void
list_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	ListWork *work = task_data;
	GError *error = NULL;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GStrvBuilder) settled = g_strv_builder_new ();
	GPtrArray *nodes;

	for (guint i = 0; work->leftovers != NULL && i < work->leftovers->len; i++) {
		NfReconcileLeftover *leftover = g_ptr_array_index (work->leftovers, i);

		if (settle_leftover (NF_ENGINE (source), leftover))
			g_strv_builder_add (settled, leftover->name);
	}
	work->settled = g_strv_builder_end (settled);
	nodes = nf_engine_list_nodes (NF_ENGINE (source), warnings, &error);
	log_warnings (warnings);
	if (nodes == NULL) {
		g_task_return_error (task, error);
		return;
	}
	remove_stale_ports (NF_ENGINE (source));
	g_task_return_pointer (task, nodes, (GDestroyNotify) g_ptr_array_unref);
}

void
nf_reconcile_list_async (NfEngine *engine, GPtrArray *leftovers, GAsyncReadyCallback cb, gpointer user_data)
{
	g_autoptr (GTask) task = g_task_new (engine, NULL, cb, user_data);
	ListWork *work = g_new0 (ListWork, 1);

	work->leftovers = leftovers;
	g_task_set_task_data (task, work, (GDestroyNotify) list_work_free);
	g_task_run_in_thread (task, list_thread);
}

GPtrArray *
nf_reconcile_list_finish (GAsyncResult *res, GStrv *settled, GError **error)
{
	ListWork *work = g_task_get_task_data (G_TASK (res));

	if (settled != NULL)
		*settled = g_strdupv (work->settled);
	return g_task_propagate_pointer (G_TASK (res), error);
}
