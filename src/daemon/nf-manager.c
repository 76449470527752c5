/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-manager"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nf-manager-private.h"
#include "nf-reconcile.h"

/* NfManager: the model of pools, nodes and jobs, kept true to libvirt's events;
 * memory admission; the checks each operation makes before it becomes a job. */

/* How long a finished job stays on the bus (the contract says at least
 * 60 s), and how often the reaper looks. */
#define NF_JOB_KEEP_US         (90 * G_USEC_PER_SEC)
#define NF_JOB_REAPER_INTERVAL 15

/* Stopping and removing a node is mostly waiting for QEMU to exit and for
 * libvirt, not CPU: those steps run this many times Parallelism at once,
 * bounded all the same. */
#define NF_WAITING_PER_PARALLELISM 2

enum {
	PROP_0,
	PROP_VERSION,
	PROP_ACCELERATOR,
	PROP_NESTED_FEATURE,
	PROP_LIBVIRT_URI,
	PROP_MEMORY_TOTAL_MIB,
	PROP_MEMORY_COMMITTED_MIB,
	N_PROPS
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_POOL_ADDED,
	SIGNAL_POOL_REMOVED,
	SIGNAL_NODE_ADDED,
	SIGNAL_NODE_REMOVED,
	SIGNAL_JOB_ADDED,
	SIGNAL_JOB_REMOVED,
	N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (NfManager, nf_manager, G_TYPE_OBJECT)

/* The main thread's copy of the probe, taken once the start has probed. */
static const NfHostInfo *
manager_host (NfManager *self)
{
	return self->host;
}

static void
nf_manager_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfManager *self = NF_MANAGER (object);
	const NfHostInfo *host = manager_host (self);

	switch (prop_id) {
	case PROP_VERSION:
		g_value_set_string (value, NF_VERSION);
		break;
	case PROP_ACCELERATOR:
		g_value_set_string (value, host != NULL ? nf_accel_to_string (host->accel) : "");
		break;
	case PROP_NESTED_FEATURE:
		g_value_set_string (value, host != NULL ? host->feature : "");
		break;
	case PROP_LIBVIRT_URI:
		g_value_set_string (value, self->config->libvirt_uri);
		break;
	case PROP_MEMORY_TOTAL_MIB:
		g_value_set_uint64 (value, host != NULL ? host->memory_total_mib : 0);
		break;
	case PROP_MEMORY_COMMITTED_MIB:
		g_value_set_uint64 (value, nf_manager_get_memory_committed_mib (self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_manager_dispose (GObject *object)
{
	NfManager *self = NF_MANAGER (object);

	if (self->reaper_id != 0) {
		g_source_remove (self->reaper_id);
		self->reaper_id = 0;
	}
	if (self->engine != NULL) {
		NfConnection *connection = nf_engine_get_connection (self->engine);

		g_clear_signal_handler (&self->event_id, connection);
		g_clear_signal_handler (&self->connected_id, connection);
	}
	G_OBJECT_CLASS (nf_manager_parent_class)->dispose (object);
}

static void
nf_manager_finalize (GObject *object)
{
	NfManager *self = NF_MANAGER (object);

	nf_host_info_free (self->host);
	g_hash_table_unref (self->jobs);
	g_hash_table_unref (self->nodes);
	g_hash_table_unref (self->pools);
	g_hash_table_unref (self->pool_queues);
	g_hash_table_unref (self->busy_pools);
	g_ptr_array_unref (self->intents);
	nf_executor_free (self->executor);
	nf_store_free (self->store);
	g_clear_object (&self->engine);
	G_OBJECT_CLASS (nf_manager_parent_class)->finalize (object);
}

static void
nf_manager_class_init (NfManagerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

	object_class->get_property = nf_manager_get_property;
	object_class->dispose = nf_manager_dispose;
	object_class->finalize = nf_manager_finalize;

	props[PROP_VERSION] = g_param_spec_string ("version", NULL, NULL, NF_VERSION, ro);
	props[PROP_ACCELERATOR] = g_param_spec_string ("accelerator", NULL, NULL, "", ro);
	props[PROP_NESTED_FEATURE] = g_param_spec_string ("nested-feature", NULL, NULL, "", ro);
	props[PROP_LIBVIRT_URI] = g_param_spec_string ("libvirt-uri", NULL, NULL, "", ro);
	props[PROP_MEMORY_TOTAL_MIB] =
		g_param_spec_uint64 ("memory-total-mib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
	props[PROP_MEMORY_COMMITTED_MIB] =
		g_param_spec_uint64 ("memory-committed-mib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
	g_object_class_install_properties (object_class, N_PROPS, props);

	signals[SIGNAL_POOL_ADDED] = g_signal_new ("pool-added",
						   G_TYPE_FROM_CLASS (klass),
						   G_SIGNAL_RUN_LAST,
						   0,
						   NULL,
						   NULL,
						   NULL,
						   G_TYPE_NONE,
						   1,
						   NF_TYPE_POOL);
	signals[SIGNAL_POOL_REMOVED] = g_signal_new ("pool-removed",
						     G_TYPE_FROM_CLASS (klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     1,
						     NF_TYPE_POOL);
	signals[SIGNAL_NODE_ADDED] = g_signal_new ("node-added",
						   G_TYPE_FROM_CLASS (klass),
						   G_SIGNAL_RUN_LAST,
						   0,
						   NULL,
						   NULL,
						   NULL,
						   G_TYPE_NONE,
						   1,
						   NF_TYPE_NODE);
	signals[SIGNAL_NODE_REMOVED] = g_signal_new ("node-removed",
						     G_TYPE_FROM_CLASS (klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     1,
						     NF_TYPE_NODE);
	signals[SIGNAL_JOB_ADDED] = g_signal_new ("job-added",
						  G_TYPE_FROM_CLASS (klass),
						  G_SIGNAL_RUN_LAST,
						  0,
						  NULL,
						  NULL,
						  NULL,
						  G_TYPE_NONE,
						  1,
						  NF_TYPE_JOB);
	signals[SIGNAL_JOB_REMOVED] = g_signal_new ("job-removed",
						    G_TYPE_FROM_CLASS (klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    1,
						    NF_TYPE_JOB);
}

static void
nf_manager_init (NfManager *self)
{
	self->pools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
	self->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
	self->jobs = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_object_unref);
	self->pool_queues =
		g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);
	self->busy_pools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->intents = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	self->next_job_id = 1;
}

static gboolean
reap_jobs (gpointer user_data)
{
	NfManager *self = NF_MANAGER (user_data);
	GHashTableIter iter;
	gpointer value;
	gint64 now = g_get_monotonic_time ();
	g_autoptr (GPtrArray) old = g_ptr_array_new_with_free_func (g_object_unref);

	g_hash_table_iter_init (&iter, self->jobs);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		NfJob *job = NF_JOB (value);

		if (nf_job_is_done (job) && now - nf_job_get_completed_at (job) > NF_JOB_KEEP_US) {
			g_ptr_array_add (old, g_object_ref (job));
			g_hash_table_iter_remove (&iter);
		}
	}
	for (guint i = 0; i < old->len; i++)
		g_signal_emit (self, signals[SIGNAL_JOB_REMOVED], 0, g_ptr_array_index (old, i));
	return G_SOURCE_CONTINUE;
}

NfManager *
nf_manager_new (const NfConfig *config, NfEngine *engine)
{
	NfManager *self;

	g_return_val_if_fail (config != NULL, NULL);
	g_return_val_if_fail (NF_IS_ENGINE (engine), NULL);

	self = g_object_new (NF_TYPE_MANAGER, NULL);
	self->config = config;
	self->engine = g_object_ref (engine);
	self->store = nf_store_new (config->state_dir);
	self->executor = nf_executor_new (config->parallelism,
					  MIN (config->parallelism * NF_WAITING_PER_PARALLELISM,
					       NF_CONFIG_PARALLELISM_MAX));
	self->reaper_id = g_timeout_add_seconds (NF_JOB_REAPER_INTERVAL, reap_jobs, self);
	return self;
}

const NfConfig *
nf_manager_get_config (NfManager *self)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return self->config;
}

NfEngine *
nf_manager_get_engine (NfManager *self)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return self->engine;
}

gboolean
nf_manager_is_shutting_down (NfManager *self)
{
	return self->shutting_down;
}

static gint
pool_compare (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (nf_pool_get_name ((NfPool *) a), nf_pool_get_name ((NfPool *) b));
}

GList *
nf_manager_get_pools (NfManager *self)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return g_list_sort (g_hash_table_get_values (self->pools), pool_compare);
}

static gint
job_compare (gconstpointer a, gconstpointer b)
{
	guint ia = nf_job_get_id ((NfJob *) a);
	guint ib = nf_job_get_id ((NfJob *) b);

	return ia < ib ? -1 : ia > ib;
}

GList *
nf_manager_get_jobs (NfManager *self)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return g_list_sort (g_hash_table_get_values (self->jobs), job_compare);
}

NfPool *
nf_manager_lookup_pool (NfManager *self, const gchar *name)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return g_hash_table_lookup (self->pools, name);
}

NfNode *
nf_manager_lookup_node (NfManager *self, const gchar *name)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return g_hash_table_lookup (self->nodes, name);
}

NfJob *
nf_manager_lookup_job (NfManager *self, guint id)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return g_hash_table_lookup (self->jobs, GUINT_TO_POINTER (id));
}

guint64
nf_manager_get_memory_committed_mib (NfManager *self)
{
	GHashTableIter iter;
	gpointer value;
	guint64 total = 0;

	g_hash_table_iter_init (&iter, self->nodes);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		NfNode *node = NF_NODE (value);

		if (nf_node_holds_memory (node))
			total += nf_node_get_memory_mib (node);
	}
	return total;
}

void
nf_manager_refresh_pool_state (NfManager *self, NfPool *pool)
{
	/* While an operation runs, the pool shows what the operation does. */
	if (g_hash_table_contains (self->busy_pools, nf_pool_get_name (pool)))
		return;
	nf_pool_refresh_state (pool);
}

static void
node_state_changed (NfNode *node, GParamSpec *pspec, gpointer user_data)
{
	NfManager *self = NF_MANAGER (user_data);
	NfPool *pool = nf_manager_lookup_pool (self, nf_node_get_pool (node));

	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_COMMITTED_MIB]);
	if (pool != NULL)
		nf_manager_refresh_pool_state (self, pool);
}

void
nf_manager_add_node (NfManager *self, NfPool *pool, NfNode *node)
{
	if (g_hash_table_contains (self->nodes, nf_node_get_name (node)))
		return;
	g_hash_table_insert (self->nodes, g_strdup (nf_node_get_name (node)), g_object_ref (node));
	g_signal_connect_object (node, "notify::state", G_CALLBACK (node_state_changed), self, 0);
	g_signal_connect_object (node, "notify::domain-active", G_CALLBACK (node_state_changed), self, 0);
	g_signal_connect_object (node, "notify::memory-mib", G_CALLBACK (node_state_changed), self, 0);
	nf_pool_add_node (pool, node);
	g_signal_emit (self, signals[SIGNAL_NODE_ADDED], 0, node);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_COMMITTED_MIB]);
}

void
nf_manager_remove_node (NfManager *self, NfNode *node)
{
	g_autoptr (NfNode) keep = NULL;
	NfPool *pool = nf_manager_lookup_pool (self, nf_node_get_pool (node));

	/* @keep holds the node while the table lets go of it and its key. */
	keep = g_object_ref (node);
	if (!g_hash_table_remove (self->nodes, nf_node_get_name (node)))
		return;
	g_signal_handlers_disconnect_by_data (node, self);
	if (pool != NULL)
		nf_pool_remove_node (pool, node);
	g_signal_emit (self, signals[SIGNAL_NODE_REMOVED], 0, node);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_COMMITTED_MIB]);
	if (pool != NULL)
		nf_manager_refresh_pool_state (self, pool);
}

void
nf_manager_add_pool (NfManager *self, NfPool *pool)
{
	g_hash_table_insert (self->pools, g_strdup (nf_pool_get_name (pool)), g_object_ref (pool));
	g_signal_emit (self, signals[SIGNAL_POOL_ADDED], 0, pool);
}

void
nf_manager_remove_pool (NfManager *self, NfPool *pool)
{
	g_autoptr (NfPool) keep = NULL;
	GPtrArray *current = nf_pool_get_nodes (pool);
	g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func (g_object_unref);

	/* @keep holds the pool while the table lets go of it. */
	keep = g_object_ref (pool);
	for (guint i = 0; i < current->len; i++)
		g_ptr_array_add (nodes, g_object_ref (g_ptr_array_index (current, i)));
	for (guint i = 0; i < nodes->len; i++)
		nf_manager_remove_node (self, g_ptr_array_index (nodes, i));
	if (g_hash_table_remove (self->pools, nf_pool_get_name (pool)))
		g_signal_emit (self, signals[SIGNAL_POOL_REMOVED], 0, pool);
}

/* What the model shows for a domain in @state. */
static NfNodeState
node_state_of_domain (NfDomainState state)
{
	switch (state) {
	case NF_DOMAIN_STATE_RUNNING:
		return NF_NODE_STATE_RUNNING;
	case NF_DOMAIN_STATE_STOPPED:
		return NF_NODE_STATE_STOPPED;
	case NF_DOMAIN_STATE_PAUSED:
		return NF_NODE_STATE_PAUSED;
	case NF_DOMAIN_STATE_CRASHED:
		return NF_NODE_STATE_CRASHED;
	case NF_DOMAIN_STATE_OTHER:
	default:
		return NF_NODE_STATE_FAILED;
	}
}

/* The node takes what libvirt says of its domain: whether it is active
 * (first, so the memory it holds never drops out in between) and the
 * state it shows. */
static void
node_follow_domain (NfNode *node, NfDomainState state)
{
	nf_node_set_domain_active (node, nf_domain_state_is_active (state));
	nf_node_set_state (node, node_state_of_domain (state));
}

void
nf_manager_apply_node_info (NfManager *self, NfNode *node, const NfNodeInfo *info)
{
	nf_node_set_domain_uuid (node, info->uuid);
	nf_node_set_overlay (node, info->spec->overlay);
	nf_node_set_console_log (node, info->spec->console_log);
	nf_node_set_macs (node, (const gchar *const *) info->macs);
	nf_node_set_memory_mib (node, info->spec->memory_mib);
	node_follow_domain (node, info->state);
}

NfJob *
nf_manager_new_job (NfManager *self, const gchar *operation, guint uid)
{
	NfJob *job = nf_job_new (self->next_job_id++, operation, uid);

	g_hash_table_insert (self->jobs, GUINT_TO_POINTER (nf_job_get_id (job)), job);
	g_signal_emit (self, signals[SIGNAL_JOB_ADDED], 0, job);
	return job;
}

void
nf_manager_save_async (NfManager *self, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr (GPtrArray) specs = g_ptr_array_new ();
	g_autoptr (GList) pools = nf_manager_get_pools (self);

	for (GList *l = pools; l != NULL; l = l->next)
		g_ptr_array_add (specs, (gpointer) nf_pool_get_spec (l->data));
	nf_store_save_async (self->store, specs, self->intents, self->next_job_id, callback, user_data);
}

gboolean
nf_manager_save_finish (NfManager *self, GAsyncResult *result, GError **error)
{
	return nf_store_save_finish (self->store, result, error);
}

NfIntent *
nf_manager_add_intent (NfManager *self, guint job, NfIntentKind kind, const gchar *pool)
{
	NfIntent *intent = nf_intent_new (job, kind, pool);

	g_ptr_array_add (self->intents, intent);
	return intent;
}

void
nf_manager_drop_intent (NfManager *self, NfIntent *intent)
{
	g_ptr_array_remove (self->intents, intent);
}

void
nf_manager_get_memory_bound (NfManager *self, NfMemoryBound *bound)
{
	const NfHostInfo *host = manager_host (self);

	bound->total_mib = host != NULL ? host->memory_total_mib : 0;
	bound->reserve_mib = self->config->memory_reserve_mib;
	bound->overcommit = self->config->overcommit;
}

gdouble
nf_memory_bound_limit_mib (const NfMemoryBound *bound)
{
	guint64 usable = bound->total_mib > bound->reserve_mib ? bound->total_mib - bound->reserve_mib : 0;

	return (gdouble) usable * bound->overcommit;
}

gboolean
nf_manager_admit (NfManager *self, guint64 need_mib, const gchar *what, GError **error)
{
	NfMemoryBound bound;
	guint64 committed = nf_manager_get_memory_committed_mib (self) + self->pending_mib;
	gdouble limit;
	guint64 free_mib;

	nf_manager_get_memory_bound (self, &bound);
	limit = nf_memory_bound_limit_mib (&bound);
	free_mib = limit > (gdouble) committed ? (guint64) (limit - (gdouble) committed) : 0;
	if (need_mib == 0 || (gdouble) (need_mib + committed) <= limit)
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INSUFFICIENT_RESOURCES,
		     "Not enough memory for %s: needed %" G_GUINT64_FORMAT
		     " MiB, free for nodes %" G_GUINT64_FORMAT " MiB (total %" G_GUINT64_FORMAT
		     " MiB, reserved %" G_GUINT64_FORMAT " MiB, committed %" G_GUINT64_FORMAT
		     " MiB, overcommit %.2f); use fewer or smaller nodes or stop "
		     "another pool.",
		     what,
		     need_mib,
		     free_mib,
		     bound.total_mib,
		     bound.reserve_mib,
		     committed,
		     bound.overcommit);
	return FALSE;
}

/* Lifecycle events keep node states true without polling. */
void
nf_manager_apply_domain_event (NfManager *self, const gchar *name, const gchar *uuid, gint event, gint detail)
{
	NfNode *node = nf_manager_lookup_node (self, name);

	if (node == NULL || g_strcmp0 (nf_node_get_domain_uuid (node), uuid) != 0)
		return;
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		node_follow_domain (node, NF_DOMAIN_STATE_RUNNING);
		break;
	case VIR_DOMAIN_EVENT_SUSPENDED:
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
		node_follow_domain (node, NF_DOMAIN_STATE_PAUSED);
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
		node_follow_domain (node,
				    detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ? NF_DOMAIN_STATE_CRASHED
									       : NF_DOMAIN_STATE_STOPPED);
		break;
	case VIR_DOMAIN_EVENT_CRASHED:
		node_follow_domain (node, NF_DOMAIN_STATE_CRASHED);
		break;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		/* Gone behind our back (or by our own remove, which already
		 * dropped it): libvirt is the truth. */
		if (nf_node_get_state (node) != NF_NODE_STATE_DELETING) {
			g_info ("node %s was undefined outside nestfarm", name);
			nf_manager_remove_node (self, node);
		}
		break;
	default:
		break;
	}
}

static void
domain_event_cb (NfConnection *connection,
		 const gchar *name,
		 const gchar *uuid,
		 gint event,
		 gint detail,
		 gpointer user_data)
{
	nf_manager_apply_domain_event (NF_MANAGER (user_data), name, uuid, event, detail);
}

static void
reconnected_cb (NfConnection *connection, gpointer user_data)
{
	NfManager *self = NF_MANAGER (user_data);

	if (self->started && !self->shutting_down)
		nf_reconcile_after_reconnect (self);
}

static void
start_saved (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	NfManager *self = g_task_get_source_object (task);
	g_autoptr (GError) error = NULL;

	if (!nf_manager_save_finish (self, res, &error))
		g_warning ("%s", error->message);
	g_clear_pointer (&self->host, nf_host_info_free);
	self->host = nf_engine_dup_host (self->engine);
	self->started = TRUE;
	self->event_id = g_signal_connect_object (nf_engine_get_connection (self->engine),
						  "domain-event",
						  G_CALLBACK (domain_event_cb),
						  self,
						  0);
	self->connected_id = g_signal_connect_object (nf_engine_get_connection (self->engine),
						      "connected",
						      G_CALLBACK (reconnected_cb),
						      self,
						      0);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ACCELERATOR]);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NESTED_FEATURE]);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_TOTAL_MIB]);
	g_task_return_boolean (task, TRUE);
}

static void
start_reconciled (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	NfManager *self = g_task_get_source_object (task);
	GError *error = NULL;

	if (!nf_reconcile_finish (self, res, &error)) {
		g_task_return_error (task, error);
		return;
	}
	/* The model now matches libvirt: record it before serving anyone. */
	nf_manager_save_async (self, start_saved, g_steal_pointer (&task));
}

void
nf_manager_start_async (NfManager *self, GCancellable *cancellable, GAsyncReadyCallback cb, gpointer user_data)
{
	GTask *task = g_task_new (self, cancellable, cb, user_data);

	nf_reconcile_async (self, cancellable, start_reconciled, task);
}

gboolean
nf_manager_start_finish (NfManager *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean (G_TASK (res), error);
}

static void
check_host_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	NfManager *self = NF_MANAGER (source);
	GError *error = NULL;
	NfHostInfo *info = nf_engine_probe_host (self->engine, &error);

	if (info == NULL) {
		g_task_return_error (task, error);
		return;
	}
	g_task_return_pointer (task, info, (GDestroyNotify) nf_host_info_free);
}

void
nf_manager_check_host_async (NfManager *self, GAsyncReadyCallback cb, gpointer user_data)
{
	g_autoptr (GTask) task = g_task_new (self, NULL, cb, user_data);

	g_task_run_in_thread (task, check_host_thread);
}

NfHostInfo *
nf_manager_check_host_finish (NfManager *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer (G_TASK (res), error);
}

/* --- operations: model checks, then a job --- */

static gboolean
refuse_if_shutting_down (NfManager *self, GError **error)
{
	if (!self->shutting_down && self->started)
		return FALSE;
	g_set_error_literal (error,
			     NF_ERROR,
			     NF_ERROR_BUSY,
			     self->shutting_down ? "nestfarmd is shutting down; try again when it is back."
						 : "nestfarmd is still starting; try again in a moment.");
	return TRUE;
}

/* A pool's operations run one after the other; more than this many waiting
 * is a client gone wrong, and each waiting job holds memory. */
#define NF_POOL_QUEUE_MAX 32

static gboolean
refuse_if_queue_full (NfManager *self, const gchar *pool, GError **error)
{
	GQueue *queue = g_hash_table_lookup (self->pool_queues, pool);

	if (queue == NULL || g_queue_get_length (queue) < NF_POOL_QUEUE_MAX)
		return FALSE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "Pool '%s' already has %u operations waiting; try again when some have finished.",
		     pool,
		     g_queue_get_length (queue));
	return TRUE;
}

static NfPool *
require_pool (NfManager *self, const gchar *name, GError **error)
{
	NfPool *pool = nf_manager_lookup_pool (self, name);

	if (pool == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no pool '%s'; 'nestfarmctl pool list' shows the pools.",
			     name);
	return pool;
}

static NfNode *
require_node (NfManager *self, const gchar *name, GError **error)
{
	NfNode *node = nf_manager_lookup_node (self, name);

	if (node == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no node '%s'; 'nestfarmctl node list' shows the nodes.",
			     name);
	return node;
}

static NfJob *
schedule (NfManager *self, NfOpKind kind, const gchar *pool, const gchar *operation, guint uid, NfOp **op_out)
{
	NfJob *job = nf_manager_new_job (self, operation, uid);
	NfOp *op = nf_op_new (self, kind, pool, job);

	*op_out = op;
	return job;
}

NfJob *
nf_manager_create_pool (NfManager *self, const NfPoolSpec *spec, guint uid, GError **error)
{
	g_autofree gchar *what = NULL;
	NfOp *op = NULL;
	NfJob *job;
	guint64 need;

	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);

	if (refuse_if_shutting_down (self, error) || refuse_if_queue_full (self, spec->name, error))
		return NULL;
	if (nf_manager_lookup_pool (self, spec->name) != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "The pool '%s' exists already; scale it, or delete it first.",
			     spec->name);
		return NULL;
	}
	need = spec->start ? (guint64) spec->count * spec->memory_mib : 0;
	what = g_strdup_printf ("%u nodes of %u MiB", spec->count, spec->memory_mib);
	if (!nf_manager_admit (self, need, what, error))
		return NULL;
	job = schedule (self, NF_OP_CREATE, spec->name, "create-pool", uid, &op);
	nf_op_set_spec (op, spec);
	nf_op_set_reserved (op, need);
	nf_manager_schedule (self, op);
	return job;
}

NfJob *
nf_manager_delete_pool (NfManager *self,
			const gchar *name,
			gboolean force,
			guint timeout_s,
			guint uid,
			GError **error)
{
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || require_pool (self, name, error) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	job = schedule (self, NF_OP_DELETE, name, "delete-pool", uid, &op);
	nf_op_set_stop (op, force, timeout_s);
	nf_manager_schedule (self, op);
	return job;
}

NfJob *
nf_manager_scale_pool (NfManager *self, const gchar *name, guint count, guint uid, GError **error)
{
	NfPool *pool;
	const NfPoolSpec *spec;
	NfOp *op = NULL;
	NfJob *job;
	guint64 need = 0;

	if (refuse_if_shutting_down (self, error) || (pool = require_pool (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	spec = nf_pool_get_spec (pool);
	if (count > spec->count && spec->start) {
		g_autofree gchar *what =
			g_strdup_printf ("%u more nodes of %u MiB", count - spec->count, spec->memory_mib);

		need = (guint64) (count - spec->count) * spec->memory_mib;
		if (!nf_manager_admit (self, need, what, error))
			return NULL;
	}
	job = schedule (self, NF_OP_SCALE, name, "scale-pool", uid, &op);
	nf_op_set_count (op, count);
	nf_op_set_reserved (op, need);
	nf_manager_schedule (self, op);
	return job;
}

NfJob *
nf_manager_start_pool (NfManager *self, const gchar *name, guint uid, GError **error)
{
	NfPool *pool;
	GPtrArray *nodes;
	NfOp *op = NULL;
	NfJob *job;
	guint64 need = 0;
	g_autofree gchar *what = NULL;

	if (refuse_if_shutting_down (self, error) || (pool = require_pool (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	nodes = nf_pool_get_nodes (pool);
	for (guint i = 0; i < nodes->len; i++) {
		NfNode *node = g_ptr_array_index (nodes, i);

		if (!nf_node_holds_memory (node))
			need += nf_node_get_memory_mib (node);
	}
	what = g_strdup_printf ("starting pool %s", name);
	if (!nf_manager_admit (self, need, what, error))
		return NULL;
	job = schedule (self, NF_OP_START, name, "start-pool", uid, &op);
	nf_op_set_reserved (op, need);
	nf_manager_schedule (self, op);
	return job;
}

NfJob *
nf_manager_stop_pool (NfManager *self,
		      const gchar *name,
		      gboolean force,
		      guint timeout_s,
		      guint uid,
		      GError **error)
{
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || require_pool (self, name, error) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	job = schedule (self, NF_OP_STOP, name, "stop-pool", uid, &op);
	nf_op_set_stop (op, force, timeout_s);
	nf_manager_schedule (self, op);
	return job;
}

NfJob *
nf_manager_start_node (NfManager *self, const gchar *name, guint uid, GError **error)
{
	NfNode *node;
	NfOp *op = NULL;
	NfJob *job;
	guint64 need;
	g_autofree gchar *what = NULL;

	if (refuse_if_shutting_down (self, error) || (node = require_node (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, nf_node_get_pool (node), error))
		return NULL;
	need = nf_node_holds_memory (node) ? 0 : nf_node_get_memory_mib (node);
	what = g_strdup_printf ("starting node %s", name);
	if (!nf_manager_admit (self, need, what, error))
		return NULL;
	job = schedule (self, NF_OP_NODE_START, nf_node_get_pool (node), "start-node", uid, &op);
	nf_op_set_node (op, name);
	nf_op_set_reserved (op, need);
	nf_manager_schedule (self, op);
	return job;
}

NfJob *
nf_manager_stop_node (NfManager *self,
		      const gchar *name,
		      gboolean force,
		      guint timeout_s,
		      guint uid,
		      GError **error)
{
	NfNode *node;
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || (node = require_node (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, nf_node_get_pool (node), error))
		return NULL;
	job = schedule (self, NF_OP_NODE_STOP, nf_node_get_pool (node), "stop-node", uid, &op);
	nf_op_set_node (op, name);
	nf_op_set_stop (op, force, timeout_s);
	nf_manager_schedule (self, op);
	return job;
}

NfJob *
nf_manager_reset_node (NfManager *self, const gchar *name, guint uid, GError **error)
{
	NfNode *node;
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || (node = require_node (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, nf_node_get_pool (node), error))
		return NULL;
	job = schedule (self, NF_OP_NODE_RESET, nf_node_get_pool (node), "reset-node", uid, &op);
	nf_op_set_node (op, name);
	nf_manager_schedule (self, op);
	return job;
}

void
nf_manager_cancel_job (NfManager *self, NfJob *job)
{
	if (nf_job_is_done (job))
		return;
	nf_manager_cancel_queued (self, job);
	nf_job_cancel (job);
}

static void
shutdown_check (NfManager *self)
{
	if (self->shutdown_task == NULL || g_hash_table_size (self->busy_pools) > 0 ||
	    nf_executor_get_busy (self->executor) > 0)
		return;
	g_task_return_boolean (self->shutdown_task, TRUE);
	g_clear_object (&self->shutdown_task);
}

static void
job_completed_during_shutdown (NfJob *job, gboolean success, const gchar *message, gpointer user_data)
{
	/* Other completion handlers (the operation's own) run first; look
	 * once the main loop is back. */
	g_idle_add_once ((GSourceOnceFunc) shutdown_check, user_data);
}

void
nf_manager_shutdown_async (NfManager *self, GAsyncReadyCallback cb, gpointer user_data)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail (self->shutdown_task == NULL);

	self->shutting_down = TRUE;
	self->shutdown_task = g_task_new (self, NULL, cb, user_data);
	g_hash_table_iter_init (&iter, self->jobs);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		NfJob *job = NF_JOB (value);

		if (nf_job_is_done (job))
			continue;
		g_signal_connect_object (job,
					 "completed",
					 G_CALLBACK (job_completed_during_shutdown),
					 self,
					 G_CONNECT_AFTER);
		nf_manager_cancel_job (self, job);
	}
	shutdown_check (self);
}

gboolean
nf_manager_shutdown_finish (NfManager *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean (G_TASK (res), error);
}
