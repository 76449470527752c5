/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-model"

#include "config.h"

#include "nestfarm/nf-names.h"
#include "nf-model.h"

/* NfModel: the pools, nodes and jobs the bus shows, kept true to libvirt's
 * events and listings; the intents of running operations and the state file
 * they are saved to. Everything above it (operations, scheduling, the
 * manager, the bus) reads and changes the model here; it calls none of them. */

/* How long a finished job stays on the bus (the contract says at least
 * 60 s), and how often the reaper looks. */
#define NF_JOB_KEEP_US         (90 * G_USEC_PER_SEC)
#define NF_JOB_REAPER_INTERVAL 15

struct _NfModel {
	GObject parent_instance;
	NfStore *store;
	GHashTable *hosts;   /* name -> NfFarmHost */
	GHashTable *pools;   /* name -> NfPool */
	GHashTable *nodes;   /* name -> NfNode */
	GHashTable *jobs;    /* GUINT_TO_POINTER(id) -> NfJob */
	GHashTable *busy;    /* pool name -> NfJob running on it */
	GPtrArray *intents;  /* NfIntent of running operations */
	GPtrArray *deferred; /* NfIntent a crash left on hosts not open at the start */
	guint next_job_id;
	guint64 pending_mib;    /* admitted, not yet running */
	GHashTable *pending_on; /* host name -> guint64 *: the same per host */
	GHashTable *listed;     /* host names whose listing is in since they came up */
	GHashTable *unplaced;   /* node name -> host it vanished from, while a
				 * host that may hold it has not listed yet */
	guint reaper_id;
};

static void sweep_unplaced (NfModel *self);

enum { PROP_0, PROP_MEMORY_COMMITTED_MIB, N_PROPS };
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_POOL_ADDED,
	SIGNAL_POOL_REMOVED,
	SIGNAL_NODE_ADDED,
	SIGNAL_NODE_REMOVED,
	SIGNAL_JOB_ADDED,
	SIGNAL_JOB_REMOVED,
	SIGNAL_HOST_ADDED,
	SIGNAL_HOST_REMOVED,
	N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (NfModel, nf_model, G_TYPE_OBJECT)

static void
nf_model_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfModel *self = NF_MODEL (object);

	switch (prop_id) {
	case PROP_MEMORY_COMMITTED_MIB:
		g_value_set_uint64 (value, nf_model_get_memory_committed_mib (self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_model_dispose (GObject *object)
{
	NfModel *self = NF_MODEL (object);

	g_clear_handle_id (&self->reaper_id, g_source_remove);
	G_OBJECT_CLASS (nf_model_parent_class)->dispose (object);
}

static void
nf_model_finalize (GObject *object)
{
	NfModel *self = NF_MODEL (object);

	g_hash_table_unref (self->busy);
	g_hash_table_unref (self->pending_on);
	g_hash_table_unref (self->listed);
	g_hash_table_unref (self->unplaced);
	g_hash_table_unref (self->jobs);
	g_hash_table_unref (self->nodes);
	g_hash_table_unref (self->pools);
	g_hash_table_unref (self->hosts);
	g_ptr_array_unref (self->intents);
	g_ptr_array_unref (self->deferred);
	nf_store_free (self->store);
	G_OBJECT_CLASS (nf_model_parent_class)->finalize (object);
}

/* A signal of the model: one object of @type. */
static guint
model_signal (NfModelClass *klass, const gchar *name, GType type)
{
	return g_signal_new (name,
			     G_TYPE_FROM_CLASS (klass),
			     G_SIGNAL_RUN_LAST,
			     0,
			     NULL,
			     NULL,
			     NULL,
			     G_TYPE_NONE,
			     1,
			     type);
}

static void
nf_model_class_init (NfModelClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

	object_class->get_property = nf_model_get_property;
	object_class->dispose = nf_model_dispose;
	object_class->finalize = nf_model_finalize;

	props[PROP_MEMORY_COMMITTED_MIB] =
		g_param_spec_uint64 ("memory-committed-mib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
	g_object_class_install_properties (object_class, N_PROPS, props);

	signals[SIGNAL_POOL_ADDED] = model_signal (klass, "pool-added", NF_TYPE_POOL);
	signals[SIGNAL_POOL_REMOVED] = model_signal (klass, "pool-removed", NF_TYPE_POOL);
	signals[SIGNAL_NODE_ADDED] = model_signal (klass, "node-added", NF_TYPE_NODE);
	signals[SIGNAL_NODE_REMOVED] = model_signal (klass, "node-removed", NF_TYPE_NODE);
	signals[SIGNAL_JOB_ADDED] = model_signal (klass, "job-added", NF_TYPE_JOB);
	signals[SIGNAL_JOB_REMOVED] = model_signal (klass, "job-removed", NF_TYPE_JOB);
	signals[SIGNAL_HOST_ADDED] = model_signal (klass, "host-added", NF_TYPE_FARM_HOST);
	signals[SIGNAL_HOST_REMOVED] = model_signal (klass, "host-removed", NF_TYPE_FARM_HOST);
}

static void
nf_model_init (NfModel *self)
{
	self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
	self->pools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
	self->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
	self->jobs = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_object_unref);
	self->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->pending_on = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->unplaced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->intents = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	self->deferred = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	self->next_job_id = 1;
}

static gboolean
reap_jobs (gpointer user_data)
{
	NfModel *self = NF_MODEL (user_data);
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

NfModel *
nf_model_new (const gchar *state_dir)
{
	NfModel *self = g_object_new (NF_TYPE_MODEL, NULL);

	self->store = nf_store_new (state_dir);
	self->reaper_id = g_timeout_add_seconds (NF_JOB_REAPER_INTERVAL, reap_jobs, self);
	return self;
}

NfStore *
nf_model_get_store (NfModel *self)
{
	return self->store;
}

static gint
pool_compare (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (nf_pool_get_name ((NfPool *) a), nf_pool_get_name ((NfPool *) b));
}

GList *
nf_model_get_pools (NfModel *self)
{
	g_return_val_if_fail (NF_IS_MODEL (self), NULL);
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
nf_model_get_jobs (NfModel *self)
{
	g_return_val_if_fail (NF_IS_MODEL (self), NULL);
	return g_list_sort (g_hash_table_get_values (self->jobs), job_compare);
}

NfPool *
nf_model_lookup_pool (NfModel *self, const gchar *name)
{
	g_return_val_if_fail (NF_IS_MODEL (self), NULL);
	return g_hash_table_lookup (self->pools, name);
}

gboolean
nf_model_has_nodes (NfModel *self)
{
	return g_hash_table_size (self->nodes) > 0;
}

NfNode *
nf_model_lookup_node (NfModel *self, const gchar *name)
{
	g_return_val_if_fail (NF_IS_MODEL (self), NULL);
	return g_hash_table_lookup (self->nodes, name);
}

NfJob *
nf_model_lookup_job (NfModel *self, guint id)
{
	g_return_val_if_fail (NF_IS_MODEL (self), NULL);
	return g_hash_table_lookup (self->jobs, GUINT_TO_POINTER (id));
}

guint64
nf_model_get_memory_committed_mib (NfModel *self)
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

guint64
nf_model_get_memory_pending_mib (NfModel *self)
{
	return self->pending_mib;
}

guint64
nf_model_get_host_memory_pending_mib (NfModel *self, const gchar *host)
{
	guint64 *pending = g_hash_table_lookup (self->pending_on, host);

	return pending != NULL ? *pending : 0;
}

void
nf_model_reserve (NfModel *self, const gchar *host, guint64 mib)
{
	guint64 *pending = g_hash_table_lookup (self->pending_on, host);

	if (pending == NULL) {
		pending = g_new0 (guint64, 1);
		g_hash_table_insert (self->pending_on, g_strdup (host), pending);
	}
	*pending += mib;
	self->pending_mib += mib;
}

void
nf_model_release (NfModel *self, const gchar *host, guint64 mib)
{
	guint64 *pending = g_hash_table_lookup (self->pending_on, host);

	g_return_if_fail (pending != NULL && *pending >= mib);
	*pending -= mib;
	self->pending_mib -= mib;
}

void
nf_model_set_busy (NfModel *self, const gchar *pool, NfJob *job)
{
	g_hash_table_insert (self->busy, g_strdup (pool), job);
}

void
nf_model_set_idle (NfModel *self, const gchar *pool)
{
	g_hash_table_remove (self->busy, pool);
	/* an unplaced node of the pool waited for its operation */
	sweep_unplaced (self);
}

NfJob *
nf_model_get_busy_job (NfModel *self, const gchar *pool)
{
	return g_hash_table_lookup (self->busy, pool);
}

guint
nf_model_get_n_busy (NfModel *self)
{
	return g_hash_table_size (self->busy);
}

void
nf_model_refresh_pool_state (NfModel *self, NfPool *pool)
{
	/* While an operation runs, the pool shows what the operation does. */
	if (g_hash_table_contains (self->busy, nf_pool_get_name (pool)))
		return;
	nf_pool_refresh_state (pool);
}

static gint
host_compare (NfFarmHost *a, NfFarmHost *b)
{
	/* local first, then by name */
	gboolean a_local = g_str_equal (nf_farm_host_get_name (a), NF_HOST_LOCAL);
	gboolean b_local = g_str_equal (nf_farm_host_get_name (b), NF_HOST_LOCAL);

	if (a_local != b_local)
		return a_local ? -1 : 1;
	return g_strcmp0 (nf_farm_host_get_name (a), nf_farm_host_get_name (b));
}

static void
node_state_changed (NfNode *node, GParamSpec *pspec, gpointer user_data)
{
	NfModel *self = NF_MODEL (user_data);
	NfPool *pool = nf_model_lookup_pool (self, nf_node_get_pool (node));
	NfFarmHost *host = nf_model_lookup_host (self, nf_node_get_host (node));

	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_COMMITTED_MIB]);
	if (host != NULL)
		nf_farm_host_refresh_memory (host);
	if (pool != NULL)
		nf_model_refresh_pool_state (self, pool);
}

/* Each host lists the nodes whose host it is; a node that moves leaves
 * every other host's list. */
static void
node_host_changed (NfNode *node, GParamSpec *pspec, gpointer user_data)
{
	NfModel *self = NF_MODEL (user_data);
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init (&iter, self->hosts);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		if (g_str_equal (nf_farm_host_get_name (value), nf_node_get_host (node)))
			nf_farm_host_add_node (value, node);
		else
			nf_farm_host_remove_node (value, node);
	}
}

void
nf_model_add_node (NfModel *self, NfPool *pool, NfNode *node)
{
	if (g_hash_table_contains (self->nodes, nf_node_get_name (node)))
		return;
	g_hash_table_insert (self->nodes, g_strdup (nf_node_get_name (node)), g_object_ref (node));
	g_signal_connect_object (node, "notify::state", G_CALLBACK (node_state_changed), self, 0);
	g_signal_connect_object (node, "notify::domain-active", G_CALLBACK (node_state_changed), self, 0);
	g_signal_connect_object (node, "notify::memory-mib", G_CALLBACK (node_state_changed), self, 0);
	g_signal_connect_object (node, "notify::host", G_CALLBACK (node_host_changed), self, 0);
	nf_pool_add_node (pool, node);
	node_host_changed (node, NULL, self);
	g_signal_emit (self, signals[SIGNAL_NODE_ADDED], 0, node);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_COMMITTED_MIB]);
	/* as a removal does: a node adopted back makes a degraded pool whole */
	nf_model_refresh_pool_state (self, pool);
}

void
nf_model_remove_node (NfModel *self, NfNode *node)
{
	g_autoptr (NfNode) keep = NULL;
	NfPool *pool = nf_model_lookup_pool (self, nf_node_get_pool (node));

	/* @keep holds the node while the table lets go of it and its key. */
	keep = g_object_ref (node);
	if (!g_hash_table_remove (self->nodes, nf_node_get_name (node)))
		return;
	g_hash_table_remove (self->unplaced, nf_node_get_name (node));
	g_signal_handlers_disconnect_by_data (node, self);
	if (pool != NULL)
		nf_pool_remove_node (pool, node);
	if (nf_model_lookup_host (self, nf_node_get_host (node)) != NULL)
		nf_farm_host_remove_node (nf_model_lookup_host (self, nf_node_get_host (node)), node);
	g_signal_emit (self, signals[SIGNAL_NODE_REMOVED], 0, node);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_COMMITTED_MIB]);
	if (pool != NULL)
		nf_model_refresh_pool_state (self, pool);
}

NfEngine *
nf_model_get_node_engine (NfModel *self, NfNode *node, NfEngine *local)
{
	NfFarmHost *host = nf_model_lookup_host (self, nf_node_get_host (node));

	if (g_str_equal (nf_node_get_host (node), NF_HOST_LOCAL))
		return local;
	return host != NULL ? nf_farm_host_get_engine (host) : NULL;
}

GList *
nf_model_get_hosts (NfModel *self)
{
	GList *hosts;

	g_return_val_if_fail (NF_IS_MODEL (self), NULL);
	hosts = g_hash_table_get_values (self->hosts);
	return g_list_sort (hosts, (GCompareFunc) host_compare);
}

NfFarmHost *
nf_model_lookup_host (NfModel *self, const gchar *name)
{
	g_return_val_if_fail (NF_IS_MODEL (self), NULL);
	return name != NULL ? g_hash_table_lookup (self->hosts, name) : NULL;
}

void
nf_model_add_host (NfModel *self, NfFarmHost *host)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail (nf_model_lookup_host (self, nf_farm_host_get_name (host)) == NULL);
	g_hash_table_insert (self->hosts, g_strdup (nf_farm_host_get_name (host)), g_object_ref (host));
	/* draining or in maintenance when the daemon last saved */
	nf_farm_host_set_admin (host, nf_store_get_host_state (self->store, nf_farm_host_get_name (host)));
	/* nodes the model knew on it before it was added (a start) */
	g_hash_table_iter_init (&iter, self->nodes);
	while (g_hash_table_iter_next (&iter, NULL, &value))
		if (g_str_equal (nf_node_get_host (value), nf_farm_host_get_name (host)))
			nf_farm_host_add_node (host, value);
	g_signal_emit (self, signals[SIGNAL_HOST_ADDED], 0, host);
}

void
nf_model_remove_host (NfModel *self, NfFarmHost *host)
{
	g_autoptr (NfFarmHost) keep = NULL;

	/* @keep holds the host while the table lets go of it */
	keep = g_object_ref (host);
	nf_store_set_host_state (self->store, nf_farm_host_get_name (host), NF_HOST_STATE_ONLINE);
	g_hash_table_remove (self->pending_on, nf_farm_host_get_name (host));
	g_hash_table_remove (self->listed, nf_farm_host_get_name (host));
	if (g_hash_table_remove (self->hosts, nf_farm_host_get_name (host)))
		g_signal_emit (self, signals[SIGNAL_HOST_REMOVED], 0, host);
	sweep_unplaced (self);
}

void
nf_model_add_pool (NfModel *self, NfPool *pool)
{
	g_hash_table_insert (self->pools, g_strdup (nf_pool_get_name (pool)), g_object_ref (pool));
	g_signal_emit (self, signals[SIGNAL_POOL_ADDED], 0, pool);
}

void
nf_model_remove_pool (NfModel *self, NfPool *pool)
{
	g_autoptr (NfPool) keep = NULL;
	GPtrArray *current = nf_pool_get_nodes (pool);
	g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func (g_object_unref);

	/* @keep holds the pool while the table lets go of it. */
	keep = g_object_ref (pool);
	for (guint i = 0; i < current->len; i++)
		g_ptr_array_add (nodes, g_object_ref (g_ptr_array_index (current, i)));
	for (guint i = 0; i < nodes->len; i++)
		nf_model_remove_node (self, g_ptr_array_index (nodes, i));
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
nf_model_apply_node_info (NfModel *self, NfNode *node, const NfNodeInfo *info)
{
	/* The fixed address; a leased one is learnt later (nf_node_set_addresses). */
	const gchar *const addresses[] = {info->spec->address, NULL};

	nf_node_set_host (node, info->spec->host != NULL ? info->spec->host : NF_HOST_LOCAL);
	nf_node_set_domain_uuid (node, info->uuid);
	nf_node_set_overlay (node, info->spec->overlay);
	nf_node_set_console_log (node, info->spec->console_log);
	nf_node_set_macs (node, (const gchar *const *) info->macs);
	nf_node_set_addresses (node, addresses);
	nf_node_set_memory_mib (node, info->spec->memory_mib);
	node_follow_domain (node, info->state);
}

NfJob *
nf_model_new_job (NfModel *self, const gchar *operation, guint uid)
{
	NfJob *job = nf_job_new (self->next_job_id++, operation, uid);

	g_hash_table_insert (self->jobs, GUINT_TO_POINTER (nf_job_get_id (job)), job);
	g_signal_emit (self, signals[SIGNAL_JOB_ADDED], 0, job);
	return job;
}

void
nf_model_set_next_job_id (NfModel *self, guint next_job)
{
	self->next_job_id = MAX (self->next_job_id, next_job);
}

void
nf_model_save_async (NfModel *self, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr (GPtrArray) specs = g_ptr_array_new ();
	g_autoptr (GList) pools = nf_model_get_pools (self);

	g_autoptr (GList) hosts = nf_model_get_hosts (self);

	for (GList *l = hosts; l != NULL; l = l->next)
		nf_store_set_host_state (self->store,
					 nf_farm_host_get_name (l->data),
					 nf_farm_host_get_admin (l->data));
	for (GList *l = pools; l != NULL; l = l->next) {
		nf_pool_note_remote_nodes (l->data);
		g_ptr_array_add (specs, (gpointer) nf_pool_get_spec (l->data));
	}
	g_autoptr (GPtrArray) intents = g_ptr_array_new ();

	g_ptr_array_extend (intents, self->intents, NULL, NULL);
	g_ptr_array_extend (intents, self->deferred, NULL, NULL);
	nf_store_save_async (self->store, specs, intents, self->next_job_id, callback, user_data);
}

gboolean
nf_model_save_finish (NfModel *self, GAsyncResult *result, GError **error)
{
	return nf_store_save_finish (self->store, result, error);
}

NfIntent *
nf_model_add_intent (NfModel *self, guint job, NfIntentKind kind, const gchar *pool)
{
	NfIntent *intent = nf_intent_new (job, kind, pool);

	g_ptr_array_add (self->intents, intent);
	return intent;
}

void
nf_model_drop_intent (NfModel *self, NfIntent *intent)
{
	g_ptr_array_remove (self->intents, intent);
}

void
nf_model_add_deferred (NfModel *self, NfIntent *intent)
{
	g_ptr_array_add (self->deferred, intent);
}

GPtrArray *
nf_model_get_deferred (NfModel *self)
{
	return self->deferred;
}

const gchar *
nf_model_find_deferred (NfModel *self, const gchar *pool, const gchar *host)
{
	for (guint i = 0; i < self->deferred->len; i++) {
		NfIntent *intent = g_ptr_array_index (self->deferred, i);

		if (pool != NULL && g_strcmp0 (intent->pool, pool) != 0)
			continue;
		for (guint j = 0; j < intent->indexes->len; j++) {
			const gchar *on =
				nf_intent_get_host (intent, g_array_index (intent->indexes, guint, j));

			if (host == NULL || g_str_equal (on, host))
				return on;
		}
	}
	return NULL;
}

gboolean
nf_model_settle_deferred (NfModel *self, const gchar *host, const gchar *const *settled)
{
	gboolean changed = FALSE;

	for (guint i = 0; i < self->deferred->len; i++) {
		NfIntent *intent = g_ptr_array_index (self->deferred, i);

		for (guint j = 0; j < intent->indexes->len; j++) {
			guint index = g_array_index (intent->indexes, guint, j);
			g_autofree gchar *name = nf_node_name_build (intent->pool, index);

			if (!g_str_equal (nf_intent_get_host (intent, index), host) ||
			    !g_strv_contains (settled, name))
				continue;
			nf_intent_set_host (intent, index, NULL);
			g_array_remove_index (intent->indexes, j--);
			changed = TRUE;
		}
		if (intent->indexes->len == 0)
			g_ptr_array_remove_index (self->deferred, i--);
	}
	return changed;
}

/* Lifecycle events keep node states true without polling. */
void
nf_model_apply_domain_event (NfModel *self,
			     const gchar *host,
			     const gchar *name,
			     const gchar *uuid,
			     gint event,
			     gint detail)
{
	NfNode *node = nf_model_lookup_node (self, name);

	if (node == NULL || g_strcmp0 (nf_node_get_domain_uuid (node), uuid) != 0 ||
	    g_strcmp0 (nf_node_get_host (node), host) != 0 || nf_node_get_moving (node))
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
			nf_model_remove_node (self, node);
		}
		break;
	default:
		break;
	}
}

/* Whether every host has listed its nodes since it came up: until then a
 * node missing from its host may be on another (a move a crash cut short
 * between the target's start and the source's undefine). */
static gboolean
all_hosts_listed (NfModel *self)
{
	GHashTableIter iter;
	gpointer name;

	g_hash_table_iter_init (&iter, self->hosts);
	while (g_hash_table_iter_next (&iter, &name, NULL))
		if (!g_hash_table_contains (self->listed, name))
			return FALSE;
	return TRUE;
}

/* Once every host has listed, the unplaced nodes no host showed leave
 * (those of a pool an operation holds wait for its end). */
static void
sweep_unplaced (NfModel *self)
{
	g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
	GHashTableIter iter;
	gpointer name;
	gpointer host;

	if (g_hash_table_size (self->unplaced) == 0 || !all_hosts_listed (self))
		return;
	g_hash_table_iter_init (&iter, self->unplaced);
	while (g_hash_table_iter_next (&iter, &name, &host)) {
		NfNode *node = nf_model_lookup_node (self, name);

		if (node != NULL && g_hash_table_contains (self->busy, nf_node_get_pool (node)))
			continue;
		/* one no longer unknown or elsewhere was seen after all */
		if (node != NULL && g_str_equal (nf_node_get_host (node), host) &&
		    nf_node_get_state (node) == NF_NODE_STATE_UNKNOWN)
			g_ptr_array_add (gone, g_object_ref (node));
		g_hash_table_iter_remove (&iter);
	}
	for (guint i = 0; i < gone->len; i++) {
		g_message ("node %s vanished from libvirt while it was unreachable",
			   nf_node_get_name (g_ptr_array_index (gone, i)));
		nf_model_remove_node (self, g_ptr_array_index (gone, i));
	}
}

/* The nodes on @host of the idle @pool that its libvirt no longer lists
 * (@seen: the names it does) leave the model, or wait, unknown, for the
 * hosts that have not listed yet. */
static void
drop_vanished (NfModel *self, const gchar *host, NfPool *pool, GHashTable *seen)
{
	g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
	GPtrArray *pool_nodes = nf_pool_get_nodes (pool);

	for (guint i = 0; i < pool_nodes->len; i++) {
		NfNode *node = g_ptr_array_index (pool_nodes, i);

		if (g_str_equal (nf_node_get_host (node), host) &&
		    !g_hash_table_contains (seen, nf_node_get_name (node)))
			g_ptr_array_add (gone, g_object_ref (node));
	}
	for (guint i = 0; i < gone->len; i++) {
		NfNode *node = g_ptr_array_index (gone, i);

		g_hash_table_insert (self->unplaced, g_strdup (nf_node_get_name (node)), g_strdup (host));
		nf_node_set_state (node, NF_NODE_STATE_UNKNOWN);
	}
	if (gone->len > 0)
		nf_model_refresh_pool_state (self, pool);
}

void
nf_model_set_host_listed (NfModel *self, const gchar *host)
{
	g_hash_table_add (self->listed, g_strdup (host));
	sweep_unplaced (self);
}

void
nf_model_set_host_unknown (NfModel *self, const gchar *host)
{
	g_autoptr (GList) pools = nf_model_get_pools (self);

	g_hash_table_remove (self->listed, host);
	for (GList *l = pools; l != NULL; l = l->next) {
		GPtrArray *nodes = nf_pool_get_nodes (l->data);
		gboolean changed = FALSE;

		/* an operation's nodes are the operation's */
		if (g_hash_table_contains (self->busy, nf_pool_get_name (l->data)))
			continue;
		for (guint i = 0; i < nodes->len; i++) {
			NfNode *node = g_ptr_array_index (nodes, i);

			if (!g_str_equal (nf_node_get_host (node), host))
				continue;
			nf_node_set_state (node, NF_NODE_STATE_UNKNOWN);
			changed = TRUE;
		}
		if (changed)
			nf_model_refresh_pool_state (self, l->data);
	}
}

void
nf_model_apply_listing (NfModel *self, const gchar *host, GPtrArray *nodes)
{
	g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
	g_autoptr (GList) pools = nf_model_get_pools (self);

	/* the retired nodes of @host are what its libvirt lists now */
	for (GList *l = pools; l != NULL; l = l->next)
		if (!g_hash_table_contains (self->busy, nf_pool_get_name (l->data)))
			nf_pool_clear_retired (l->data, host);
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);
		NfPool *pool = nf_model_lookup_pool (self, info->spec->pool);
		NfNode *node;

		/* where libvirt lists it is where it is */
		g_free (info->spec->host);
		info->spec->host = g_strdup (host);
		g_hash_table_remove (self->unplaced, info->name);
		if (pool == NULL || g_hash_table_contains (self->busy, info->spec->pool))
			continue;
		if (info->spec->retired != 0) {
			nf_pool_add_retired (pool, info->spec->index, host);
			continue;
		}
		g_hash_table_add (seen, info->name);
		node = nf_model_lookup_node (self, info->name);
		if (node == NULL) {
			g_autoptr (NfNode) adopted = nf_node_new (info->spec->pool, info->spec->index);

			nf_model_apply_node_info (self, adopted, info);
			nf_model_add_node (self, pool, adopted);
			continue;
		}
		nf_model_apply_node_info (self, node, info);
	}
	for (GList *l = pools; l != NULL; l = l->next) {
		if (!g_hash_table_contains (self->busy, nf_pool_get_name (l->data)))
			drop_vanished (self, host, l->data, seen);
	}
	nf_model_set_host_listed (self, host);
}
