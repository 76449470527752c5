/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-manager"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nf-baseline.h"
#include "nf-farm.h"
#include "nf-moves.h"
#include "nf-manager.h"
#include "nf-readiness.h"
#include "nf-reconcile.h"

/* NfManager: the daemon's front: what the bus asks of it. It starts the
 * daemon (reconcile's plan loaded into the model), checks each operation
 * against the model, admits it and hands it to the scheduler as a job, and
 * shuts down. The model, the scheduler and the operations below it never
 * call back into it. */

/* Stopping and removing a node is mostly waiting for QEMU to exit and for
 * libvirt, not CPU: those steps run this many times Parallelism at once,
 * bounded all the same. */
#define NF_WAITING_PER_PARALLELISM 2

struct _NfManager {
	GObject parent_instance;
	const NfConfig *config;
	NfEngine *engine;
	NfModel *model;
	NfScheduler *scheduler;
	NfExecutor *executor;
	NfReadiness *readiness;
	NfPacer *pacer;
	NfOpContext ops;      /* what its operations work with */
	NfHostInfo *host;     /* the probe, once started (main thread's copy) */
	NfFarm *farm;         /* the other hosts, once started */
	NfBaseline *baseline; /* CPUMode=baseline: the farm's CPU; NULL: passthrough */
	NfMoves *moves;       /* drains and rebalances */
	gboolean started;
	gulong event_id;
	gulong connected_id;
	gulong disconnected_id;
	GTask *shutdown_task;
};

enum {
	PROP_0,
	PROP_VERSION,
	PROP_ACCELERATOR,
	PROP_NESTED_FEATURE,
	PROP_LIBVIRT_URI,
	PROP_MEMORY_TOTAL_MIB,
	PROP_MEMORY_COMMITTED_MIB,
	PROP_CPU_BASELINE,
	N_PROPS
};
static GParamSpec *props[N_PROPS];

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
		g_value_set_uint64 (value, nf_model_get_memory_committed_mib (self->model));
		break;
	case PROP_CPU_BASELINE:
		g_value_set_string (value,
				    self->baseline != NULL ? nf_baseline_get_model (self->baseline) : "");
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_manager_dispose (GObject *object)
{
	NfManager *self = NF_MANAGER (object);

	if (self->engine != NULL) {
		NfConnection *connection = nf_engine_get_connection (self->engine);

		g_clear_signal_handler (&self->event_id, connection);
		g_clear_signal_handler (&self->connected_id, connection);
		g_clear_signal_handler (&self->disconnected_id, connection);
	}
	g_clear_object (&self->readiness);
	g_clear_object (&self->baseline);
	g_clear_pointer (&self->moves, nf_moves_free);
	g_clear_pointer (&self->farm, nf_farm_free);
	G_OBJECT_CLASS (nf_manager_parent_class)->dispose (object);
}

static void
nf_manager_finalize (GObject *object)
{
	NfManager *self = NF_MANAGER (object);

	nf_host_info_free (self->host);
	nf_scheduler_free (self->scheduler);
	nf_executor_free (self->executor);
	nf_pacer_free (self->pacer);
	g_clear_object (&self->model);
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
	props[PROP_CPU_BASELINE] = g_param_spec_string ("cpu-baseline", NULL, NULL, "", ro);
	g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
nf_manager_init (NfManager *self)
{
}

static void
committed_changed (NfModel *model, GParamSpec *pspec, gpointer user_data)
{
	g_object_notify_by_pspec (G_OBJECT (user_data), props[PROP_MEMORY_COMMITTED_MIB]);
}

static void
baseline_changed (NfBaseline *baseline, GParamSpec *pspec, gpointer user_data)
{
	g_object_notify_by_pspec (G_OBJECT (user_data), props[PROP_CPU_BASELINE]);
}

static NfJob *
moves_migrate (gpointer owner, const gchar *node, const gchar *host, guint uid, GError **error)
{
	return nf_manager_migrate_node (owner, node, host, TRUE, uid, error);
}

static gchar *peer_uri_of (NfFarmHost *host, GError **error);

static gboolean
moves_allowed (gpointer owner, const gchar *node, const gchar *host)
{
	NfManager *self = owner;
	NfFarmHost *target = nf_model_lookup_host (self->model, host);
	NfNode *moving = node != NULL ? nf_model_lookup_node (self->model, node) : NULL;
	NfPool *pool = moving != NULL ? nf_model_lookup_pool (self->model, nf_node_get_pool (moving)) : NULL;
	const gchar *const *hosts =
		pool != NULL ? (const gchar *const *) nf_pool_get_spec (pool)->hosts : NULL;
	g_autofree gchar *peer = target != NULL ? peer_uri_of (target, NULL) : NULL;

	if (peer == NULL || (node != NULL && pool == NULL))
		return FALSE;
	return hosts == NULL || g_strv_contains (hosts, host);
}

static gdouble
moves_limit (gpointer owner, const gchar *host)
{
	NfMemoryBound bound;

	nf_manager_get_memory_bound (owner, host, &bound);
	return nf_memory_bound_limit_mib (&bound);
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
	self->model = nf_model_new (config->state_dir);
	self->scheduler = nf_scheduler_new (self->model);
	self->executor = nf_executor_new (config->parallelism,
					  MIN (config->parallelism * NF_WAITING_PER_PARALLELISM,
					       NF_CONFIG_PARALLELISM_MAX));
	self->readiness = nf_readiness_new (self->model, self->engine);
	self->pacer = nf_pacer_new (self->model, self->engine, config->boots_at_once, NF_PACER_HOLD_MAX_S);
	self->ops.pacer = self->pacer;
	self->ops.owner = G_OBJECT (self);
	self->ops.model = self->model;
	self->ops.engine = self->engine;
	self->ops.executor = self->executor;
	self->ops.config = config;
	g_signal_connect_object (self->model,
				 "notify::memory-committed-mib",
				 G_CALLBACK (committed_changed),
				 self,
				 0);
	self->moves =
		nf_moves_new (self->model,
			      moves_migrate,
			      moves_limit,
			      moves_allowed,
			      self,
			      config->engine->cpu_mode == NF_CPU_MODE_BASELINE ? config->rebalance_interval_s
									       : 0);
	if (config->engine->cpu_mode == NF_CPU_MODE_BASELINE) {
		self->baseline = nf_baseline_new (self->model, engine);
		self->ops.baseline = self->baseline;
		g_signal_connect_object (self->baseline,
					 "notify::model",
					 G_CALLBACK (baseline_changed),
					 self,
					 0);
	}
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

NfModel *
nf_manager_get_model (NfManager *self)
{
	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);
	return self->model;
}

gboolean
nf_manager_is_shutting_down (NfManager *self)
{
	return self->ops.shutting_down;
}

/* The memory of @host; NULL: of the largest host that takes nodes (what
 * a node must fit at all). */
static guint64
host_total_mib (NfManager *self, const gchar *host)
{
	const NfHostInfo *local = manager_host (self);
	g_autoptr (GList) hosts = NULL;
	guint64 largest = 0;

	if (host != NULL && g_str_equal (host, NF_HOST_LOCAL))
		return local != NULL ? local->memory_total_mib : 0;
	if (host != NULL) {
		NfFarmHost *farm_host = nf_model_lookup_host (self->model, host);

		return farm_host != NULL ? nf_farm_host_get_memory_total_mib (farm_host) : 0;
	}
	largest = local != NULL ? local->memory_total_mib : 0;
	hosts = nf_model_get_hosts (self->model);
	for (GList *l = hosts; l != NULL; l = l->next)
		if (nf_farm_host_get_state (l->data) == NF_HOST_STATE_ONLINE)
			largest = MAX (largest, nf_farm_host_get_memory_total_mib (l->data));
	return largest;
}

void
nf_manager_get_memory_bound (NfManager *self, const gchar *host, NfMemoryBound *bound)
{
	bound->total_mib = host_total_mib (self, host);
	bound->reserve_mib = self->config->memory_reserve_mib;
	bound->overcommit = self->config->overcommit;
}

/* --- start: reconcile's plan loaded into the model --- */

static void
domain_event_cb (NfConnection *connection,
		 const gchar *name,
		 const gchar *uuid,
		 gint event,
		 gint detail,
		 gpointer user_data)
{
	nf_model_apply_domain_event (NF_MANAGER (user_data)->model, NF_HOST_LOCAL, name, uuid, event, detail);
}

static void
relisted (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (NfManager) self = NF_MANAGER (user_data);
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) nodes = nf_reconcile_list_finish (res, NULL, &error);

	if (nodes == NULL) {
		g_warning ("reconcile after reconnect: %s", error->message);
		return;
	}
	nf_model_apply_listing (self->model, NF_HOST_LOCAL, nodes);
	g_message ("reconciled with libvirt after reconnecting: %u nodes", nodes->len);
}

/* The local host follows its connection: online while it answers,
 * offline while it reconnects (its nodes keep what was last seen of them). */
static void
reconnected_cb (NfConnection *connection, gpointer user_data)
{
	NfManager *self = NF_MANAGER (user_data);
	NfFarmHost *host = nf_model_lookup_host (self->model, NF_HOST_LOCAL);

	if (host != NULL)
		nf_farm_host_set_reachable (host, TRUE);
	if (self->started && !self->ops.shutting_down)
		nf_reconcile_list_async (self->engine, NULL, relisted, g_object_ref (self));
}

static void
disconnected_cb (NfConnection *connection, gpointer user_data)
{
	NfManager *self = NF_MANAGER (user_data);
	NfFarmHost *host = nf_model_lookup_host (self->model, NF_HOST_LOCAL);

	if (host != NULL)
		nf_farm_host_set_reachable (host, FALSE);
}

/* The host of the LibvirtURI setting, from the start's probe. */
static void
add_local_host (NfManager *self)
{
	NfConnection *connection = nf_engine_get_connection (self->engine);
	g_autoptr (NfFarmHost) host = nf_farm_host_new (NF_HOST_LOCAL, self->config->libvirt_uri);

	if (self->host != NULL)
		nf_farm_host_set_facts (host, self->host);
	nf_farm_host_set_reachable (host, nf_connection_is_alive (connection));
	nf_farm_host_set_engine (host, self->engine);
	nf_model_add_host (self->model, host);
}

static void
start_saved (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	NfManager *self = g_task_get_source_object (task);
	g_autoptr (GError) error = NULL;

	if (!nf_model_save_finish (self->model, res, &error))
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
	self->disconnected_id = g_signal_connect_object (nf_engine_get_connection (self->engine),
							 "disconnected",
							 G_CALLBACK (disconnected_cb),
							 self,
							 0);
	add_local_host (self);
	self->farm = nf_farm_new (self->model, self->config);
	nf_farm_set_baseline (self->farm, self->baseline);
	nf_farm_start (self->farm);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ACCELERATOR]);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NESTED_FEATURE]);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_TOTAL_MIB]);
	g_task_return_boolean (task, TRUE);
}

/* The nodes of @pool on other hosts, as last seen: until their host is
 * open and has listed them, they are there, unknown (a host away at the
 * start loses none of them). */
static void
add_unknown_nodes (NfManager *self, NfPool *pool)
{
	const NfPoolSpec *spec = nf_pool_get_spec (pool);
	GHashTableIter iter;
	gpointer index;
	gpointer host;

	g_hash_table_iter_init (&iter, spec->remote_nodes);
	while (g_hash_table_iter_next (&iter, &index, &host)) {
		g_autoptr (NfNode) node = NULL;

		if (nf_pool_get_node (pool, GPOINTER_TO_UINT (index)) != NULL ||
		    nf_pool_is_retired (pool, GPOINTER_TO_UINT (index)))
			continue;
		node = nf_node_new (nf_pool_get_name (pool), GPOINTER_TO_UINT (index));
		nf_node_set_host (node, host);
		nf_node_set_memory_mib (node, spec->memory_mib);
		nf_node_set_state (node, NF_NODE_STATE_UNKNOWN);
		nf_model_add_node (self->model, pool, node);
	}
}

/* The model as reconcile planned it: the pools, then their nodes. */
static void
load_plan (NfManager *self, NfReconcilePlan *plan)
{
	g_autoptr (GList) pools = NULL;

	nf_model_set_next_job_id (self->model, plan->next_job);
	for (guint i = 0; i < plan->pools->len; i++) {
		g_autoptr (NfPool) pool = nf_pool_new (g_ptr_array_index (plan->pools, i));

		nf_model_add_pool (self->model, pool);
	}
	for (guint i = 0; i < plan->nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (plan->nodes, i);
		g_autoptr (NfNode) node = nf_node_new (info->spec->pool, info->spec->index);

		nf_model_apply_node_info (self->model, node, info);
		nf_model_add_node (self->model, nf_model_lookup_pool (self->model, info->spec->pool), node);
	}
	/* the plan is the manager's alone: the model takes them */
	while (plan->deferred != NULL && plan->deferred->len > 0)
		nf_model_add_deferred (self->model, g_ptr_array_steal_index (plan->deferred, 0));
	nf_model_set_host_listed (self->model, NF_HOST_LOCAL);
	pools = nf_model_get_pools (self->model);
	for (GList *l = pools; l != NULL; l = l->next) {
		add_unknown_nodes (self, l->data);
		nf_model_refresh_pool_state (self->model, l->data);
	}
	g_message ("reconcile: %u pools, %u nodes adopted from libvirt",
		   g_list_length (pools),
		   plan->nodes->len);
}

static void
start_reconciled (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	NfManager *self = g_task_get_source_object (task);
	GError *error = NULL;
	g_autoptr (NfReconcilePlan) plan = nf_reconcile_finish (res, &error);

	if (plan == NULL) {
		g_task_return_error (task, error);
		return;
	}
	load_plan (self, plan);
	/* The model now matches libvirt: record it before serving anyone. */
	nf_model_save_async (self->model, start_saved, g_steal_pointer (&task));
}

void
nf_manager_start_async (NfManager *self, GCancellable *cancellable, GAsyncReadyCallback cb, gpointer user_data)
{
	GTask *task = g_task_new (self, cancellable, cb, user_data);

	nf_reconcile_async (self->engine,
			    nf_model_get_store (self->model),
			    cancellable,
			    start_reconciled,
			    task);
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
	if (!self->ops.shutting_down && self->started)
		return FALSE;
	g_set_error_literal (error,
			     NF_ERROR,
			     NF_ERROR_BUSY,
			     self->ops.shutting_down
				     ? "nestfarmd is shutting down; try again when it is back."
				     : "nestfarmd is still starting; try again in a moment.");
	return TRUE;
}

/* CPUMode=baseline: new nodes need the farm's baseline, computed once the
 * hosts have told their CPUs. */
static gboolean
refuse_if_no_baseline (NfManager *self, GError **error)
{
	const gchar *problem;

	if (self->baseline == NULL || nf_baseline_get_xml (self->baseline) != NULL)
		return FALSE;
	problem = nf_baseline_get_problem (self->baseline);
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "CPUMode is baseline and the farm has no CPU baseline yet (%s); new nodes cannot be made "
		     "until it has one.",
		     problem != NULL ? problem : "it is being computed; try again in a moment");
	return TRUE;
}

static gboolean
refuse_if_queue_full (NfManager *self, const gchar *pool, GError **error)
{
	return !nf_scheduler_has_room (self->scheduler, pool, error);
}

static gboolean
admit (NfManager *self, const gchar *host, guint64 need_mib, const gchar *what, GError **error)
{
	NfMemoryBound bound;

	nf_manager_get_memory_bound (self, host, &bound);
	return nf_scheduler_admit (self->scheduler, &bound, host, need_mib, what, error);
}

/* Memory wanted per host: host -> guint64 * MiB. */
static GHashTable *
needs_new (void)
{
	return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
needs_add (GHashTable *needs, const gchar *host, guint64 mib)
{
	guint64 *have = g_hash_table_lookup (needs, host);

	if (have == NULL) {
		have = g_new0 (guint64, 1);
		g_hash_table_insert (needs, g_strdup (host), have);
	}
	*have += mib;
}

/* Every host's share admitted on that host (the first refusal is the
 * error). */
static gboolean
admit_needs (NfManager *self, GHashTable *needs, const gchar *what, GError **error)
{
	GHashTableIter iter;
	gpointer host;
	gpointer mib;

	g_hash_table_iter_init (&iter, needs);
	while (g_hash_table_iter_next (&iter, &host, &mib))
		if (!admit (self, host, *(guint64 *) mib, what, error))
			return FALSE;
	return TRUE;
}

static void
reserve_needs (NfOp *op, GHashTable *needs)
{
	GHashTableIter iter;
	gpointer host;
	gpointer mib;

	g_hash_table_iter_init (&iter, needs);
	while (g_hash_table_iter_next (&iter, &host, &mib))
		nf_op_add_reserved (op, host, *(guint64 *) mib);
}

/* Where a pool's nodes are: a pool lives on one host (its trunk is that
 * host's bridge), kept in its spec (and pools.json) so that it is known
 * while that host is away. */
static const gchar *
pool_host (NfPool *pool)
{
	const NfPoolSpec *spec = nf_pool_get_spec (pool);

	return spec->host != NULL ? spec->host : NF_HOST_LOCAL;
}

/* May nodes of a pool that names @allowed (NULL: any) go on @host now?
 * Not while an interrupted operation's leftovers wait there (until its
 * libvirt has settled them, just after it opens). */
static gboolean
host_takes_nodes (NfManager *self, NfFarmHost *host, const gchar *const *allowed)
{
	if (allowed != NULL && !g_strv_contains (allowed, nf_farm_host_get_name (host)))
		return FALSE;
	return nf_farm_host_get_state (host) == NF_HOST_STATE_ONLINE &&
	       nf_farm_host_get_engine (host) != NULL &&
	       nf_model_find_deferred (self->model, NULL, nf_farm_host_get_name (host)) == NULL;
}

/* Nodes of @pool that an interrupted operation left on a host that has
 * not settled them yet: the pool's name is not free for new nodes. */
static gboolean
refuse_if_leftovers (NfManager *self, const gchar *pool, GError **error)
{
	const gchar *host = nf_model_find_deferred (self->model, pool, NULL);

	if (host == NULL)
		return FALSE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "Host %s still holds nodes of pool %s that an interrupted operation left; they are removed when "
		     "it is online again ('nestfarmctl host list'), then try again.",
		     host,
		     pool);
	return TRUE;
}

/* The candidates for new nodes: each online host of @allowed with its free
 * memory, in @free (host -> guint64 *), and "NAME N MiB free, ..." in
 * @seen. */
static void
host_candidates (NfManager *self, const gchar *const *allowed, GHashTable *free, GString *seen)
{
	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);

	for (GList *l = hosts; l != NULL; l = l->next) {
		const gchar *name = nf_farm_host_get_name (l->data);
		NfMemoryBound bound;
		guint64 *free_mib;

		if (!host_takes_nodes (self, l->data, allowed))
			continue;
		nf_manager_get_memory_bound (self, name, &bound);
		free_mib = g_new (guint64, 1);
		*free_mib = nf_scheduler_free_mib (self->scheduler, &bound, name);
		g_hash_table_insert (free, g_strdup (name), free_mib);
		g_string_append_printf (seen,
					"%s%s %" G_GUINT64_FORMAT " MiB free",
					seen->len > 0 ? ", " : "",
					name,
					*free_mib);
	}
}

/* A host @allowed names that is not in the farm: InvalidArgument. */
static gboolean
refuse_unknown_hosts (NfManager *self, const gchar *const *allowed, GError **error)
{
	for (guint i = 0; allowed != NULL && allowed[i] != NULL; i++) {
		if (nf_model_lookup_host (self->model, allowed[i]) != NULL)
			continue;
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "There is no host '%s'; 'nestfarmctl host list' shows the hosts.",
			     allowed[i]);
		return TRUE;
	}
	return FALSE;
}

/* The host for @need_mib more of a pool whose nodes share one host (its
 * trunk is that host's bridge: no OvnNorthbound): the one of
 * @allowed (NULL: every host) with the most memory free that has room;
 * InsufficientResources with each candidate's numbers, or InvalidArgument
 * for a host that is not in the farm. */
static const gchar *
place (NfManager *self, const gchar *const *allowed, guint64 need_mib, const gchar *what, GError **error)
{
	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);
	g_autoptr (GHashTable) free = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr (GString) seen = g_string_new (NULL);
	const gchar *best = NULL;
	guint64 best_free = 0;
	GHashTableIter iter;
	gpointer name;
	gpointer free_mib;

	if (refuse_unknown_hosts (self, allowed, error))
		return NULL;
	/* a single host: its own admission, worded as ever */
	if (allowed == NULL && g_list_length (hosts) == 1)
		return admit (self, NF_HOST_LOCAL, need_mib, what, error) ? NF_HOST_LOCAL : NULL;
	host_candidates (self, allowed, free, seen);
	g_hash_table_iter_init (&iter, free);
	while (g_hash_table_iter_next (&iter, &name, &free_mib)) {
		guint64 have = *(guint64 *) free_mib;

		if (have >= need_mib &&
		    (best == NULL || have > best_free || (have == best_free && strcmp (name, best) < 0))) {
			best = nf_farm_host_get_name (nf_model_lookup_host (self->model, name));
			best_free = have;
		}
	}
	if (best == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INSUFFICIENT_RESOURCES,
			     "No host has room for %s (%" G_GUINT64_FORMAT
			     " MiB): %s; use fewer or smaller nodes, "
			     "stop another pool or add a host.",
			     what,
			     need_mib,
			     seen->len > 0 ? seen->str : "no host it may use is online and in service");
	return best;
}

/* The host with the most of @free left (ties: the fewest nodes given so
 * far in @given, then the name), or NULL when there is none. */
static const gchar *
spread_pick (GHashTable *free, GHashTable *given)
{
	GHashTableIter iter;
	gpointer name;
	gpointer left;
	const gchar *best = NULL;

	g_hash_table_iter_init (&iter, free);
	while (g_hash_table_iter_next (&iter, &name, &left)) {
		guint64 have = *(guint64 *) left;
		guint64 best_have = best != NULL ? *(guint64 *) g_hash_table_lookup (free, best) : 0;
		guint n = GPOINTER_TO_UINT (g_hash_table_lookup (given, name));
		guint best_n = best != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (given, best)) : 0;

		if (best == NULL || have > best_have ||
		    (have == best_have && (n < best_n || (n == best_n && strcmp (name, best) < 0))))
			best = name;
	}
	return best;
}

/* Hosts for @count new nodes of @memory_mib each of a pool whose trunk is
 * an OVN switch, so that its nodes may be on any hosts: one at a time on
 * the host with the most memory left, each admitted there when they
 * start (@start). InsufficientResources names every candidate's numbers;
 * InvalidArgument a host not in the farm. */
static GStrv
spread (NfManager *self,
	const gchar *const *allowed,
	guint count,
	guint memory_mib,
	gboolean start,
	const gchar *what,
	GError **error)
{
	g_autoptr (GHashTable) free = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr (GHashTable) given = g_hash_table_new (g_str_hash, g_str_equal);
	g_autoptr (GString) seen = g_string_new (NULL);
	g_autoptr (GStrvBuilder) hosts = g_strv_builder_new ();

	if (refuse_unknown_hosts (self, allowed, error))
		return NULL;
	host_candidates (self, allowed, free, seen);
	for (guint i = 0; i < count; i++) {
		const gchar *host = spread_pick (free, given);
		guint64 *left = host != NULL ? g_hash_table_lookup (free, host) : NULL;

		if (left == NULL || (start && *left < memory_mib)) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INSUFFICIENT_RESOURCES,
				     "The hosts have room for %u of %s (%u MiB each): %s; use fewer or smaller nodes, "
				     "stop another pool or add a host.",
				     i,
				     what,
				     memory_mib,
				     seen->len > 0 ? seen->str
						   : "no host it may use is online and in service");
			return NULL;
		}
		*left = *left > memory_mib ? *left - memory_mib : 0;
		g_hash_table_replace (given,
				      (gpointer) host,
				      GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (given, host)) +
							1));
		g_strv_builder_add (hosts, host);
	}
	return g_strv_builder_end (hosts);
}

/* Where new nodes go: all on @host, or the i-th on @spread[i]. */
typedef struct {
	const gchar *host;
	GStrv spread;
} Placement;

static void
placement_clear (Placement *placement)
{
	g_clear_pointer (&placement->spread, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Placement, placement_clear)

/* Where @count new nodes of @spec go: spread (an OVN pool, see spread) or
 * all on one host (see place). */
static gboolean
place_nodes (NfManager *self,
	     const NfPoolSpec *spec,
	     guint count,
	     const gchar *what,
	     Placement *placement,
	     GError **error)
{
	guint64 need = spec->start ? (guint64) count * spec->memory_mib : 0;

	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);

	if (!spec->ovn || count == 0) {
		placement->host = place (self, (const gchar *const *) spec->hosts, need, what, error);
		if (placement->host == NULL && error != NULL &&
		    g_error_matches (*error, NF_ERROR, NF_ERROR_INSUFFICIENT_RESOURCES) &&
		    g_list_length (hosts) > 1) {
			gchar *message =
				g_strconcat ((*error)->message,
					     " Without the OvnNorthbound setting a pool's nodes share "
					     "one host (its trunk is that host's bridge).",
					     NULL);

			g_free ((*error)->message);
			(*error)->message = message;
		}
		return placement->host != NULL;
	}
	placement->spread = spread (self,
				    (const gchar *const *) spec->hosts,
				    count,
				    spec->memory_mib,
				    spec->start,
				    what,
				    error);
	return placement->spread != NULL;
}

/* @op makes its nodes where @placement says; the memory each host admits
 * is reserved for it. */
static void
placement_apply (const Placement *placement, NfOp *op, const NfPoolSpec *spec, guint count)
{
	if (placement->spread == NULL) {
		nf_op_set_placement (op, placement->host);
		nf_op_add_reserved (op,
				    placement->host,
				    spec->start ? (guint64) count * spec->memory_mib : 0);
		return;
	}
	nf_op_set_spread (op, (const gchar *const *) placement->spread);
	for (guint i = 0; spec->start && placement->spread[i] != NULL; i++)
		nf_op_add_reserved (op, placement->spread[i], spec->memory_mib);
}

/* Work on @what on another host needs that host online (and listed):
 * while it is away nothing of it is known for sure, so nothing is
 * changed. The local host's work waits out a libvirtd restart instead, as
 * it always has (its removals are tried again when libvirt is back). */
static gboolean
refuse_if_host_away (NfManager *self, const gchar *host, const gchar *what, GError **error)
{
	NfFarmHost *farm_host = nf_model_lookup_host (self->model, host);

	if (g_str_equal (host, NF_HOST_LOCAL))
		return FALSE;
	if (farm_host != NULL && nf_farm_host_get_engine (farm_host) != NULL &&
	    nf_farm_host_get_state (farm_host) != NF_HOST_STATE_OFFLINE)
		return FALSE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "%s is on host %s, which is %s; try again when it is back ('nestfarmctl host list').",
		     what,
		     host,
		     farm_host != NULL ? "offline" : "not in the farm");
	return TRUE;
}

static NfPool *
require_pool (NfManager *self, const gchar *name, GError **error)
{
	NfPool *pool = nf_model_lookup_pool (self->model, name);
	g_autofree gchar *what = NULL;

	if (pool == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no pool '%s'; 'nestfarmctl pool list' shows the pools.",
			     name);
		return NULL;
	}
	what = g_strdup_printf ("Pool %s", name);
	if (refuse_if_host_away (self, pool_host (pool), what, error))
		return NULL;
	/* a pool across hosts: each of them */
	for (guint i = 0; i < nf_pool_get_nodes (pool)->len; i++) {
		NfNode *node = g_ptr_array_index (nf_pool_get_nodes (pool), i);

		if (refuse_if_host_away (self, nf_node_get_host (node), what, error))
			return NULL;
	}
	return pool;
}

static NfNode *
require_node (NfManager *self, const gchar *name, GError **error)
{
	NfNode *node = nf_model_lookup_node (self->model, name);
	g_autofree gchar *what = NULL;

	if (node == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no node '%s'; 'nestfarmctl node list' shows the nodes.",
			     name);
		return NULL;
	}
	what = g_strdup_printf ("Node %s", name);
	return refuse_if_host_away (self, nf_node_get_host (node), what, error) ? NULL : node;
}

/* --- a node's console --- */

typedef struct {
	NfEngine *engine;
	gchar *path;
	guint64 offset;
	guint max;
	guint64 size;
} ConsoleRead;

static void
console_read_free (ConsoleRead *read)
{
	g_object_unref (read->engine);
	g_free (read->path);
	g_free (read);
}

static void
read_console_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	ConsoleRead *read = task_data;
	GError *error = NULL;
	GBytes *bytes = nf_engine_read_console (read->engine,
						read->path,
						read->offset,
						read->max,
						&read->size,
						&error);

	if (bytes == NULL)
		g_task_return_error (task, error);
	else
		g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

void
nf_manager_read_console_async (NfManager *self,
			       const gchar *name,
			       guint64 offset,
			       guint max,
			       GAsyncReadyCallback cb,
			       gpointer user_data)
{
	g_autoptr (GTask) task = g_task_new (self, NULL, cb, user_data);
	GError *error = NULL;
	NfNode *node = require_node (self, name, &error);
	NfEngine *engine;
	ConsoleRead *read;

	if (node == NULL || nf_node_get_console_log (node)[0] == '\0') {
		if (error == NULL)
			error = g_error_new (NF_ERROR,
					     NF_ERROR_NOT_FOUND,
					     "Node %s has no console log.",
					     name);
		g_task_return_error (task, error);
		return;
	}
	engine = nf_model_get_node_engine (self->model, node, self->engine);
	if (engine == NULL) {
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_BUSY,
					 "Node %s is on host %s, which nestfarmd cannot reach now; try again when it is online.",
					 name,
					 nf_node_get_host (node));
		return;
	}
	read = g_new0 (ConsoleRead, 1);
	read->engine = g_object_ref (engine);
	read->path = g_strdup (nf_node_get_console_log (node));
	read->offset = offset;
	read->max = max;
	g_task_set_task_data (task, read, (GDestroyNotify) console_read_free);
	g_task_run_in_thread (task, read_console_thread);
}

GBytes *
nf_manager_read_console_finish (NfManager *self, GAsyncResult *res, guint64 *size, GError **error)
{
	ConsoleRead *read = g_task_get_task_data (G_TASK (res));

	*size = read != NULL ? read->size : 0;
	return g_task_propagate_pointer (G_TASK (res), error);
}

/* --- the farm's hosts --- */

NfJob *
nf_manager_add_host (NfManager *self,
		     const gchar *name,
		     const gchar *uri,
		     const gchar *peer_uri,
		     guint uid,
		     GError **error)
{
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || !nf_farm_check_add_host (self->farm, name, uri, error))
		return NULL;
	job = nf_model_new_job (self->model, "add-host", uid);
	nf_farm_add_host (self->farm, name, uri, peer_uri, job);
	return job;
}

NfJob *
nf_manager_remove_host (NfManager *self, const gchar *name, guint uid, GError **error)
{
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || !nf_farm_check_remove_host (self->farm, name, error))
		return NULL;
	job = nf_model_new_job (self->model, "remove-host", uid);
	nf_farm_remove_host (self->farm, name, job);
	return job;
}

static NfJob *
schedule (NfManager *self, NfOpKind kind, const gchar *pool, const gchar *operation, guint uid, NfOp **op_out)
{
	NfJob *job = nf_model_new_job (self->model, operation, uid);
	NfOp *op = nf_op_new (&self->ops, kind, pool, job);
	NfPool *existing = nf_model_lookup_pool (self->model, pool);

	/* nodes the model does not list (retired ones) are on the pool's host */
	if (existing != NULL)
		nf_op_set_placement (op, pool_host (existing));
	*op_out = op;
	return job;
}

NfJob *
nf_manager_create_pool (NfManager *self, const NfPoolSpec *spec, guint uid, GError **error)
{
	g_autofree gchar *what = NULL;
	g_auto (Placement) placement = {0};
	NfOp *op = NULL;
	NfJob *job;

	g_return_val_if_fail (NF_IS_MANAGER (self), NULL);

	if (refuse_if_shutting_down (self, error) || refuse_if_queue_full (self, spec->name, error) ||
	    refuse_if_leftovers (self, spec->name, error) || refuse_if_no_baseline (self, error))
		return NULL;
	if (nf_model_lookup_pool (self->model, spec->name) != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "The pool '%s' exists already; scale it, or delete it first.",
			     spec->name);
		return NULL;
	}
	what = g_strdup_printf ("%u nodes of %u MiB", spec->count, spec->memory_mib);
	if (!place_nodes (self, spec, spec->count, what, &placement, error))
		return NULL;
	job = schedule (self, NF_OP_CREATE, spec->name, "create-pool", uid, &op);
	nf_op_set_spec (op, spec);
	placement_apply (&placement, op, spec, spec->count);
	nf_scheduler_submit (self->scheduler, op);
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
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

/* Whether a snapshot of @pool holds one of the nodes @indexes names: such
 * a node is never removed but with its pool (a revert would have to make
 * it again from nothing). */
static gboolean
refuse_if_held (NfPool *pool, GArray *indexes, const gchar *doing, GError **error)
{
	for (guint i = 0; i < indexes->len; i++) {
		guint index = g_array_index (indexes, guint, i);
		NfPoolSnapshot *snapshot = nf_pool_find_snapshot_holding (pool, index);
		g_autofree gchar *node = NULL;

		if (snapshot == NULL)
			continue;
		node = nf_node_name_build (nf_pool_get_name (pool), index);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Cannot %s: snapshot %s of pool %s holds node %s; delete the snapshot first "
			     "('nestfarmctl snapshot delete %s %s').",
			     doing,
			     snapshot->name,
			     nf_pool_get_name (pool),
			     node,
			     nf_pool_get_name (pool),
			     snapshot->name);
		return TRUE;
	}
	return FALSE;
}

static NfPoolSnapshot *
require_snapshot (NfPool *pool, const gchar *name, GError **error)
{
	NfPoolSnapshot *snapshot = nf_pool_find_snapshot (pool, name);

	if (snapshot == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "Pool %s has no snapshot '%s'; 'nestfarmctl snapshot list %s' shows them.",
			     nf_pool_get_name (pool),
			     name,
			     nf_pool_get_name (pool));
	return snapshot;
}

NfJob *
nf_manager_scale_pool (NfManager *self, const gchar *name, guint count, guint uid, GError **error)
{
	NfPool *pool;
	const NfPoolSpec *spec;
	NfOp *op = NULL;
	NfJob *job;
	g_auto (Placement) placement = {0};
	guint more;

	if (refuse_if_shutting_down (self, error) || (pool = require_pool (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	spec = nf_pool_get_spec (pool);
	more = count > spec->count ? count - spec->count : 0;
	if (more > 0 && refuse_if_no_baseline (self, error))
		return NULL;
	if (more > 0 && refuse_if_leftovers (self, name, error))
		return NULL;
	if (more > 0 && !spec->ovn) {
		g_autofree gchar *what = g_strdup_printf ("%u more nodes of %u MiB", more, spec->memory_mib);

		/* a pool on one host grows there */
		placement.host = pool_host (pool);
		if (!admit (self,
			    placement.host,
			    spec->start ? (guint64) more * spec->memory_mib : 0,
			    what,
			    error))
			return NULL;
	} else if (more > 0) {
		g_autofree gchar *what = g_strdup_printf ("%u more nodes", more);

		if (!place_nodes (self, spec, more, what, &placement, error))
			return NULL;
	} else {
		placement.host = pool_host (pool);
	}
	job = schedule (self, NF_OP_SCALE, name, "scale-pool", uid, &op);
	nf_op_set_count (op, count);
	placement_apply (&placement, op, spec, more);
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

NfJob *
nf_manager_start_pool (NfManager *self, const gchar *name, guint uid, GError **error)
{
	NfPool *pool;
	GPtrArray *nodes;
	NfOp *op = NULL;
	NfJob *job;
	g_autoptr (GHashTable) needs = needs_new ();
	g_autofree gchar *what = NULL;

	if (refuse_if_shutting_down (self, error) || (pool = require_pool (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	nodes = nf_pool_get_nodes (pool);
	for (guint i = 0; i < nodes->len; i++) {
		NfNode *node = g_ptr_array_index (nodes, i);

		if (!nf_node_holds_memory (node))
			needs_add (needs, nf_node_get_host (node), nf_node_get_memory_mib (node));
	}
	what = g_strdup_printf ("starting pool %s", name);
	if (!admit_needs (self, needs, what, error))
		return NULL;
	job = schedule (self, NF_OP_START, name, "start-pool", uid, &op);
	reserve_needs (op, needs);
	nf_scheduler_submit (self->scheduler, op);
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
	nf_scheduler_submit (self->scheduler, op);
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
	if (!admit (self, nf_node_get_host (node), need, what, error))
		return NULL;
	job = schedule (self, NF_OP_NODE_START, nf_node_get_pool (node), "start-node", uid, &op);
	nf_op_set_node (op, name);
	nf_op_add_reserved (op, nf_node_get_host (node), need);
	nf_scheduler_submit (self->scheduler, op);
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
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

NfJob *
nf_manager_reset_node (NfManager *self, const gchar *name, guint uid, GError **error)
{
	g_autoptr (GArray) one = g_array_new (FALSE, FALSE, sizeof (guint));
	g_autofree gchar *doing = NULL;
	guint index;
	NfNode *node;
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || (node = require_node (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, nf_node_get_pool (node), error))
		return NULL;
	/* a reset makes the overlay again, and the snapshots in it would go */
	index = nf_node_get_index (node);
	g_array_append_val (one, index);
	doing = g_strdup_printf ("reset node %s", name);
	if (refuse_if_held (nf_model_lookup_pool (self->model, nf_node_get_pool (node)), one, doing, error))
		return NULL;
	job = schedule (self, NF_OP_NODE_RESET, nf_node_get_pool (node), "reset-node", uid, &op);
	nf_op_set_node (op, name);
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

/* --- moving a node --- */

/* A move needs the farm's baseline CPU in the node and a trunk that spans
 * hosts (OVN). */
static gboolean
refuse_unmovable (NfManager *self, NfNode *node, NfPool *pool, GError **error)
{
	g_autoptr (GArray) one = g_array_new (FALSE, FALSE, sizeof (guint));
	g_autofree gchar *doing = g_strdup_printf ("move node %s", nf_node_get_name (node));
	guint index = nf_node_get_index (node);

	if (self->baseline == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Cannot %s: CPUMode is passthrough, so nodes have their host's own CPU and stay on it; "
			     "set CPUMode=baseline in nestfarmd.conf for nodes that can move.",
			     doing);
		return TRUE;
	}
	if (!nf_pool_get_spec (pool)->ovn) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Cannot %s: the trunk of pool %s is host %s's own bridge (made without OvnNorthbound), "
			     "so its nodes stay on that host.",
			     doing,
			     nf_pool_get_name (pool),
			     nf_node_get_host (node));
		return TRUE;
	}
	/* an internal snapshot lives in the overlay, which a move does not carry */
	g_array_append_val (one, index);
	return refuse_if_held (pool, one, doing, error);
}

/* The hosts a node of @pool on @from may move to: @host alone, or every
 * other the pool allows (its hosts option) that the other hosts' libvirtd
 * can reach (a peer URI). */
static GStrv
move_candidates (NfManager *self, NfPool *pool, const gchar *from, const gchar *host)
{
	g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);
	const gchar *const *allowed = (const gchar *const *) nf_pool_get_spec (pool)->hosts;

	if (host != NULL)
		g_strv_builder_add (builder, host);
	for (GList *l = hosts; host == NULL && l != NULL; l = l->next) {
		const gchar *name = nf_farm_host_get_name (l->data);
		g_autofree gchar *peer = peer_uri_of (l->data, NULL);

		if (!g_str_equal (name, from) && peer != NULL &&
		    (allowed == NULL || g_strv_contains (allowed, name)))
			g_strv_builder_add (builder, name);
	}
	return g_strv_builder_end (builder);
}

/* Where a node on @from moves for @need_mib: @host (NULL: placement's
 * choice among the others), refused with the reason. */
static const gchar *
move_target (NfManager *self,
	     NfPool *pool,
	     const gchar *name,
	     const gchar *from,
	     const gchar *host,
	     guint64 need,
	     GError **error)
{
	g_auto (GStrv) allowed = move_candidates (self, pool, from, host);
	g_autofree gchar *what = g_strdup_printf ("node %s", name);
	NfFarmHost *target;

	if (g_strcmp0 (host, from) == 0 || allowed[0] == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     allowed[0] == NULL
				     ? "Node %s cannot move: no host but %s is in the farm, allowed to its pool, "
				       "and reachable by the other hosts' libvirtd (a peer URI)."
				     : "Node %s is on host %s already.",
			     name,
			     from);
		return NULL;
	}
	if (refuse_unknown_hosts (self, (const gchar *const *) allowed, error))
		return NULL;
	if (host != NULL && nf_pool_get_spec (pool)->hosts != NULL &&
	    !g_strv_contains ((const gchar *const *) nf_pool_get_spec (pool)->hosts, host)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Node %s cannot move to host %s: its pool %s may use only the hosts it was made for.",
			     name,
			     host,
			     nf_pool_get_name (pool));
		return NULL;
	}
	target = host != NULL ? nf_model_lookup_host (self->model, host) : NULL;
	if (target != NULL && !host_takes_nodes (self, target, NULL)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_BUSY,
			     "Host %s takes no nodes now (it is %s); 'nestfarmctl host list' shows the hosts.",
			     host,
			     nf_host_state_to_string (nf_farm_host_get_state (target)));
		return NULL;
	}
	return place (self, (const gchar *const *) allowed, need, what, error);
}

/* @host's libvirt as the other hosts' libvirtds reach it: its peer URI,
 * else its URI where that names a server (qemu+ssh://host2/system). */
static gchar *
peer_uri_of (NfFarmHost *host, GError **error)
{
	const gchar *peer = nf_farm_host_get_peer_uri (host);
	const gchar *uri = nf_farm_host_get_uri (host);
	g_autoptr (GUri) parsed = NULL;

	if (peer != NULL)
		return g_strdup (peer);
	parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
	if (parsed != NULL && g_uri_get_host (parsed) != NULL && g_uri_get_host (parsed)[0] != '\0')
		return g_strdup (uri);
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INVALID_ARGUMENT,
		     "Host %s's URI %s names no server the other hosts' libvirtd can reach, so nodes cannot move "
		     "there; remove it and add it again with the peer-uri option ('nestfarmctl host add %s URI "
		     "--peer-uri qemu+tcp://ADDRESS/system').",
		     nf_farm_host_get_name (host),
		     uri,
		     nf_farm_host_get_name (host));
	return NULL;
}

/* Where QEMU sends the node: the peer URI's server ("tcp://SERVER"), so
 * that the move does not depend on the target's own hostname resolving. */
static gchar *
data_uri_of (const gchar *peer_uri)
{
	g_autoptr (GUri) parsed = g_uri_parse (peer_uri, G_URI_FLAGS_NONE, NULL);
	const gchar *server = parsed != NULL ? g_uri_get_host (parsed) : NULL;

	if (server == NULL || server[0] == '\0')
		return NULL;
	return strchr (server, ':') != NULL ? g_strdup_printf ("tcp://[%s]", server)
					    : g_strdup_printf ("tcp://%s", server);
}

NfJob *
nf_manager_migrate_node (NfManager *self,
			 const gchar *name,
			 const gchar *host,
			 gboolean live,
			 guint uid,
			 GError **error)
{
	g_autofree gchar *peer = NULL;
	g_autofree gchar *data = NULL;
	const gchar *target;
	guint64 need;
	NfNode *node;
	NfPool *pool;
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || (node = require_node (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, nf_node_get_pool (node), error))
		return NULL;
	pool = nf_model_lookup_pool (self->model, nf_node_get_pool (node));
	if (refuse_unmovable (self, node, pool, error))
		return NULL;
	if (!live && nf_node_holds_memory (node)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Node %s is running and a live move was not asked for; stop it first, or move it live.",
			     name);
		return NULL;
	}
	need = nf_node_holds_memory (node) ? nf_node_get_memory_mib (node) : 0;
	target = move_target (self, pool, name, nf_node_get_host (node), host, need, error);
	if (target == NULL)
		return NULL;
	peer = peer_uri_of (nf_model_lookup_host (self->model, target), error);
	if (peer == NULL)
		return NULL;
	data = data_uri_of (peer);
	job = schedule (self, NF_OP_NODE_MIGRATE, nf_node_get_pool (node), "migrate-node", uid, &op);
	nf_op_set_node (op, name);
	nf_op_set_move (op, target, peer, data, live);
	nf_op_add_reserved (op, target, need);
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

NfJob *
nf_manager_snapshot_pool (NfManager *self,
			  const gchar *name,
			  const gchar *snapshot,
			  gboolean memory,
			  guint uid,
			  GError **error)
{
	NfPool *pool;
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || (pool = require_pool (self, name, error)) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	if (nf_pool_find_snapshot (pool, snapshot) != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "Pool %s has a snapshot named %s already.",
			     name,
			     snapshot);
		return NULL;
	}
	if (nf_pool_get_nodes (pool)->len == 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Pool %s has no nodes to snapshot.",
			     name);
		return NULL;
	}
	job = schedule (self, NF_OP_SNAPSHOT, name, "snapshot-pool", uid, &op);
	nf_op_set_snapshot (op, snapshot, memory);
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

/* The nodes that ran at the snapshot run after the revert: memory, in
 * @needs per host, for those that hold none now (a retired node on the
 * host it was retired on). */
static gboolean
admit_revert (NfManager *self, NfPool *pool, NfPoolSnapshot *target, GHashTable *needs, GError **error)
{
	g_autofree gchar *what = NULL;
	guint more = 0;

	for (guint i = 0; i < target->running->len; i++) {
		guint index = g_array_index (target->running, guint, i);
		NfNode *node = nf_pool_get_node (pool, index);

		if (node != NULL && !nf_node_holds_memory (node)) {
			needs_add (needs, nf_node_get_host (node), nf_node_get_memory_mib (node));
			more++;
		} else if (node == NULL && nf_pool_is_retired (pool, index)) {
			needs_add (needs,
				   nf_pool_get_retired_host (pool, index),
				   nf_pool_get_spec (pool)->memory_mib);
			more++;
		}
	}
	if (more == 0)
		return TRUE;
	what = g_strdup_printf ("%u nodes that ran at snapshot %s", more, target->name);
	return admit_needs (self, needs, what, error);
}

NfJob *
nf_manager_revert_pool (NfManager *self, const gchar *name, const gchar *snapshot, guint uid, GError **error)
{
	NfPool *pool;
	NfPoolSnapshot *target;
	g_autoptr (GHashTable) needs = needs_new ();
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || (pool = require_pool (self, name, error)) == NULL ||
	    (target = require_snapshot (pool, snapshot, error)) == NULL ||
	    refuse_if_queue_full (self, name, error))
		return NULL;
	/* the nodes made since go (retired, if another snapshot holds them),
	 * and those that left since come back */
	if (!admit_revert (self, pool, target, needs, error))
		return NULL;
	job = schedule (self, NF_OP_REVERT, name, "revert-pool", uid, &op);
	nf_op_set_snapshot (op, snapshot, target->memory);
	reserve_needs (op, needs);
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

NfJob *
nf_manager_delete_snapshot (NfManager *self,
			    const gchar *name,
			    const gchar *snapshot,
			    guint uid,
			    GError **error)
{
	NfPool *pool;
	NfOp *op = NULL;
	NfJob *job;

	if (refuse_if_shutting_down (self, error) || (pool = require_pool (self, name, error)) == NULL ||
	    require_snapshot (pool, snapshot, error) == NULL || refuse_if_queue_full (self, name, error))
		return NULL;
	job = schedule (self, NF_OP_DELETE_SNAPSHOT, name, "delete-snapshot", uid, &op);
	nf_op_set_snapshot (op, snapshot, FALSE);
	nf_scheduler_submit (self->scheduler, op);
	return job;
}

void
nf_manager_cancel_job (NfManager *self, NfJob *job)
{
	if (nf_job_is_done (job))
		return;
	nf_scheduler_cancel_queued (self->scheduler, job);
	nf_job_cancel (job);
}

static void
shutdown_check (NfManager *self)
{
	if (self->shutdown_task == NULL || nf_model_get_n_busy (self->model) > 0 ||
	    nf_executor_get_busy (self->executor) > 0 || nf_pacer_get_waiting (self->pacer) > 0)
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
	g_autoptr (GList) jobs = NULL;

	g_return_if_fail (self->shutdown_task == NULL);

	self->ops.shutting_down = TRUE;
	self->shutdown_task = g_task_new (self, NULL, cb, user_data);
	jobs = nf_model_get_jobs (self->model);
	for (GList *l = jobs; l != NULL; l = l->next) {
		NfJob *job = NF_JOB (l->data);

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

/* --- draining hosts and rebalancing (nf-moves.c) --- */

NfJob *
nf_manager_drain_host (NfManager *self, const gchar *host, guint uid, GError **error)
{
	if (refuse_if_shutting_down (self, error))
		return NULL;
	return nf_moves_drain (self->moves, host, uid, error);
}

NfJob *
nf_manager_activate_host (NfManager *self, const gchar *host, guint uid, GError **error)
{
	if (refuse_if_shutting_down (self, error))
		return NULL;
	return nf_moves_activate (self->moves, host, uid, error);
}

NfJob *
nf_manager_rebalance (NfManager *self, guint threshold, guint max_moves, guint uid, GError **error)
{
	const NfRebalanceOptions options = {threshold, max_moves};

	if (refuse_if_shutting_down (self, error))
		return NULL;
	if (self->baseline == NULL) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "Cannot rebalance: CPUMode is passthrough, so nodes have their host's own CPU and stay "
				     "on it; set CPUMode=baseline in nestfarmd.conf for nodes that can move.");
		return NULL;
	}
	return nf_moves_rebalance (self->moves, &options, uid, error);
}
