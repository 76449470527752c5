/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-farm"

#include "config.h"

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nf-farm.h"
#include "nf-reconcile.h"

/* The farm's other hosts: each gets its own NfConnection and an engine
 * whose config is the daemon's with `remote` set (it probes through libvirt
 * alone and makes its directories as storage pools). Opening one (connect,
 * probe, storage pools) runs in a worker; everything the model sees is
 * done here, on the main thread: the host's state follows its connection,
 * its domains' events reach the model, and each (re)connection lists its
 * nodes again. The local host is the manager's. */

#define NF_FARM_RETRY_MIN_S 1
#define NF_FARM_RETRY_MAX_S 30

struct _NfFarm {
	NfModel *model;
	const NfConfig *config;
	GHashTable *retries; /* host name -> Retry: hosts not yet opened */
	GHashTable *adding;  /* names and URIs of hosts AddHost is opening */
	GCancellable *cancellable;
	NfBaseline *baseline; /* CPUMode=baseline: the manager's; NULL: passthrough */
};

/* A host the start could not open yet. */
typedef struct {
	NfFarm *farm;
	NfFarmHost *host;
	guint delay_s;
	guint source_id;
} Retry;

/* One opening on its way: for AddHost with its job (the host is not in the
 * model yet), for the start without. */
typedef struct {
	NfFarm *farm; /* valid while @cancellable is not cancelled */
	GCancellable *cancellable;
	NfFarmHost *host;
	NfJob *job;
} Opening;

static void
retry_free (Retry *retry)
{
	g_clear_handle_id (&retry->source_id, g_source_remove);
	g_object_unref (retry->host);
	g_free (retry);
}

static void
opening_free (Opening *opening)
{
	g_object_unref (opening->cancellable);
	g_object_unref (opening->host);
	g_clear_object (&opening->job);
	g_free (opening);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Opening, opening_free)

void
nf_farm_set_baseline (NfFarm *self, NfBaseline *baseline)
{
	self->baseline = baseline;
}

NfFarm *
nf_farm_new (NfModel *model, const NfConfig *config)
{
	NfFarm *self = g_new0 (NfFarm, 1);

	self->model = g_object_ref (model);
	self->config = config;
	self->retries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) retry_free);
	self->adding = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->cancellable = g_cancellable_new ();
	return self;
}

static NfConnection *
host_connection (NfFarmHost *host)
{
	NfEngine *engine = nf_farm_host_get_engine (host);

	return engine != NULL ? nf_engine_get_connection (engine) : NULL;
}

#define NF_FARM_FOLLOW_KEY "nf-farm-follow"

/* Its connection's handlers go (they all have the host's Follow as data). */
static void
host_unfollow (NfFarmHost *host)
{
	NfConnection *connection = host_connection (host);
	gpointer follow = g_object_get_data (G_OBJECT (host), NF_FARM_FOLLOW_KEY);

	if (connection != NULL && follow != NULL)
		g_signal_handlers_disconnect_by_data (connection, follow);
	g_object_set_data (G_OBJECT (host), NF_FARM_FOLLOW_KEY, NULL);
}

static void
close_connection_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	nf_connection_close (NF_CONNECTION (task_data));
	g_task_return_boolean (task, TRUE);
}

/* A host no longer wanted: its handlers go now, its connection closes in
 * a worker (closing may wait on a host that does not answer). */
static void
close_later (NfFarmHost *host)
{
	NfConnection *connection = host_connection (host);
	g_autoptr (GTask) task = NULL;

	host_unfollow (host);
	if (connection == NULL)
		return;
	task = g_task_new (NULL, NULL, NULL, NULL);
	g_task_set_task_data (task, g_object_ref (connection), g_object_unref);
	g_task_run_in_thread (task, close_connection_thread);
}

/* Its handlers go and its connection closes (a worker may still hold the
 * engine; it then finds the connection closed). */
static void
host_close (NfFarm *self, NfFarmHost *host)
{
	NfConnection *connection = host_connection (host);

	host_unfollow (host);
	if (connection != NULL)
		nf_connection_close (connection);
}

void
nf_farm_free (NfFarm *self)
{
	g_autoptr (GList) hosts = NULL;

	if (self == NULL)
		return;
	g_cancellable_cancel (self->cancellable);
	g_hash_table_unref (self->retries);
	g_hash_table_unref (self->adding);
	hosts = nf_model_get_hosts (self->model);
	for (GList *l = hosts; l != NULL; l = l->next)
		if (!g_str_equal (nf_farm_host_get_name (l->data), NF_HOST_LOCAL))
			host_close (self, l->data);
	g_object_unref (self->cancellable);
	g_object_unref (self->model);
	g_free (self);
}

/* --- a host's connection, followed --- */

typedef struct {
	NfModel *model;
	NfFarmHost *host;
} Listing;

static void
settled_saved (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (NfModel) model = user_data;
	g_autoptr (GError) error = NULL;

	if (!nf_model_save_finish (model, res, &error))
		g_warning ("%s", error->message);
}

static void
listed (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Listing *listing = user_data;
	g_autoptr (GError) error = NULL;
	g_auto (GStrv) settled = NULL;
	g_autoptr (GPtrArray) nodes = nf_reconcile_list_finish (res, &settled, &error);
	const gchar *name = nf_farm_host_get_name (listing->host);

	if (nf_model_settle_deferred (listing->model, name, (const gchar *const *) settled))
		nf_model_save_async (listing->model, settled_saved, g_object_ref (listing->model));
	if (nodes == NULL)
		g_message ("host %s: cannot list its nodes: %s", name, error->message);
	else if (nf_model_lookup_host (listing->model, name) == listing->host)
		nf_model_apply_listing (listing->model, name, nodes);
	g_object_unref (listing->model);
	g_object_unref (listing->host);
	g_free (listing);
}

/* What interrupted operations left on @host (the model's deferred
 * intents): removed, or retired where a snapshot of the pool holds it. */
static GPtrArray *
leftovers_on (NfFarm *self, const gchar *host)
{
	GPtrArray *deferred = nf_model_get_deferred (self->model);
	GPtrArray *leftovers = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_reconcile_leftover_free);

	for (guint i = 0; i < deferred->len; i++) {
		NfIntent *intent = g_ptr_array_index (deferred, i);
		NfPool *pool = nf_model_lookup_pool (self->model, intent->pool);

		for (guint j = 0; j < intent->indexes->len; j++) {
			guint index = g_array_index (intent->indexes, guint, j);
			g_autofree gchar *name = nf_node_name_build (intent->pool, index);
			gboolean retire = intent->kind == NF_INTENT_KIND_SCALE_DOWN && pool != NULL &&
					  nf_pool_find_snapshot_holding (pool, index) != NULL;

			if (g_str_equal (nf_intent_get_host (intent, index), host))
				g_ptr_array_add (leftovers, nf_reconcile_leftover_new (name, retire));
		}
	}
	return leftovers;
}

/* Lists @host's nodes into the model, after settling what interrupted
 * operations left there. */
static void
host_relist (NfFarm *self, NfFarmHost *host)
{
	Listing *listing = g_new0 (Listing, 1);

	listing->model = g_object_ref (self->model);
	listing->host = g_object_ref (host);
	nf_reconcile_list_async (nf_farm_host_get_engine (host),
				 leftovers_on (self, nf_farm_host_get_name (host)),
				 listed,
				 listing);
}

/* What a host's connection handlers have as data: kept on the host
 * (NF_FARM_FOLLOW_KEY), which never outlives them (host_unfollow). */
typedef struct {
	NfFarm *farm;
	NfFarmHost *host;
} Follow;

static void
connected_cb (NfConnection *connection, gpointer user_data)
{
	Follow *follow = user_data;

	g_message ("host %s is online", nf_farm_host_get_name (follow->host));
	nf_farm_host_set_reachable (follow->host, TRUE);
	/* events during the gap are lost: what is there now */
	if (nf_model_lookup_host (follow->farm->model, nf_farm_host_get_name (follow->host)) == follow->host)
		host_relist (follow->farm, follow->host);
}

static void
disconnected_cb (NfConnection *connection, gpointer user_data)
{
	Follow *follow = user_data;

	g_message ("host %s is offline: its libvirt does not answer", nf_farm_host_get_name (follow->host));
	nf_farm_host_set_reachable (follow->host, FALSE);
	if (nf_model_lookup_host (follow->farm->model, nf_farm_host_get_name (follow->host)) == follow->host)
		nf_model_set_host_unknown (follow->farm->model, nf_farm_host_get_name (follow->host));
}

static void
domain_event_cb (NfConnection *connection,
		 const gchar *name,
		 const gchar *uuid,
		 gint event,
		 gint detail,
		 gpointer user_data)
{
	Follow *follow = user_data;

	nf_model_apply_domain_event (follow->farm->model,
				     nf_farm_host_get_name (follow->host),
				     name,
				     uuid,
				     event,
				     detail);
}

static void
host_follow (NfFarm *self, NfFarmHost *host)
{
	NfConnection *connection = host_connection (host);
	Follow *follow = g_new0 (Follow, 1);

	host_unfollow (host);
	follow->farm = self;
	follow->host = host;
	g_object_set_data_full (G_OBJECT (host), NF_FARM_FOLLOW_KEY, follow, g_free);
	g_signal_connect (connection, "connected", G_CALLBACK (connected_cb), follow);
	g_signal_connect (connection, "disconnected", G_CALLBACK (disconnected_cb), follow);
	g_signal_connect (connection, "domain-event", G_CALLBACK (domain_event_cb), follow);
}

/* --- opening a host --- */

static NfFarmHost *
host_new (NfFarm *self, const gchar *name, const gchar *uri)
{
	NfFarmHost *host = nf_farm_host_new (name, uri);
	g_autoptr (NfEngineConfig) config = nf_engine_config_copy (self->config->engine);
	g_autoptr (NfConnection) connection = NULL;
	g_autoptr (NfEngine) engine = NULL;

	config->remote = TRUE;
	/* A directory of its own under the configured ones: hosts that share
	 * storage (NFS) never see each other's overlays as orphans. */
	g_free (config->storage_path);
	config->storage_path = g_build_filename (self->config->engine->storage_path, "hosts", name, NULL);
	g_free (config->console_dir);
	config->console_dir = g_build_filename (self->config->engine->console_dir, "hosts", name, NULL);
	/* made here: its signals come on this thread's context */
	connection = nf_connection_new (uri);
	engine = nf_engine_new (connection, config);
	nf_farm_host_set_engine (host, engine);
	return host;
}

/* What the worker gets: the engine, and whether a failure closes its
 * connection (AddHost keeps nothing; the start tries again). */
typedef struct {
	NfEngine *engine;
	gboolean close_on_failure;
	/* AddHost with CPUMode=baseline while nodes run it: the farm's CPU
	 * baseline, which the new host must be able to run; NULL: none */
	gchar *baseline;
} OpenWork;

static void
open_work_free (OpenWork *work)
{
	g_object_unref (work->engine);
	g_free (work->baseline);
	g_free (work);
}

/* A host that cannot run the baseline the farm's nodes have would lower
 * it under them: refused with libvirt's reason. */
static gboolean
check_baseline (OpenWork *work, GError **error)
{
	g_autoptr (NfHostInfo) host = NULL;
	g_autoptr (virConnect) conn = NULL;
	g_autofree gchar *model = NULL;

	if (work->baseline == NULL)
		return TRUE;
	host = nf_engine_dup_host (work->engine);
	conn = nf_connection_ref_conn (nf_engine_get_connection (work->engine), error);
	if (conn == NULL)
		return FALSE;
	if (nf_cpu_compare (conn, host->accel, work->baseline, error))
		return TRUE;
	model = nf_cpu_model (work->baseline);
	g_prefix_error (error,
			"it cannot run the farm's CPU baseline %s, which the farm's nodes have (CPUMode=baseline); "
			"a host of the same CPU vendor and generation or newer can join: ",
			model);
	return FALSE;
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	OpenWork *work = task_data;
	NfEngine *engine = work->engine;
	GError *error = NULL;

	if (!nf_connection_open (nf_engine_get_connection (engine), &error) ||
	    !nf_engine_prepare (engine, &error) || !check_baseline (work, &error)) {
		if (work->close_on_failure)
			nf_connection_close (nf_engine_get_connection (engine));
		g_task_return_error (task, error);
		return;
	}
	g_task_return_pointer (task, nf_engine_dup_host (engine), (GDestroyNotify) nf_host_info_free);
}

static void host_open (NfFarm *self, NfFarmHost *host, NfJob *job);

static gboolean
retry_due (gpointer user_data)
{
	Retry *retry = user_data;

	retry->source_id = 0;
	host_open (retry->farm, retry->host, NULL);
	return G_SOURCE_REMOVE;
}

/* A host of the state file that did not answer: tried again later. */
static void
retry_later (NfFarm *self, NfFarmHost *host)
{
	const gchar *name = nf_farm_host_get_name (host);
	Retry *retry = g_hash_table_lookup (self->retries, name);

	if (retry == NULL) {
		retry = g_new0 (Retry, 1);
		retry->farm = self;
		retry->host = g_object_ref (host);
		retry->delay_s = NF_FARM_RETRY_MIN_S;
		g_hash_table_insert (self->retries, g_strdup (name), retry);
	} else {
		retry->delay_s = MIN (retry->delay_s * 2, NF_FARM_RETRY_MAX_S);
	}
	retry->source_id = g_timeout_add_seconds (retry->delay_s, retry_due, retry);
}

typedef struct _Saving Saving;
static Saving *saving_new (NfModel *model, NfJob *job);
static void host_saved (GObject *source, GAsyncResult *res, gpointer user_data);
static void save_hosts (NfFarm *self, NfJob *job);

static void
host_opened (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (Opening) opening = user_data;
	g_autoptr (GError) error = NULL;
	g_autoptr (NfHostInfo) info = g_task_propagate_pointer (G_TASK (res), &error);
	NfFarm *self = opening->farm;
	const gchar *name = nf_farm_host_get_name (opening->host);

	/* the daemon is going: the farm is no more */
	if (g_cancellable_is_cancelled (opening->cancellable))
		return;
	if (opening->job != NULL)
		g_hash_table_remove (self->adding, name);
	/* removed meanwhile (a host of the state file, opened at start) */
	if (opening->job == NULL && nf_model_lookup_host (self->model, name) != opening->host) {
		close_later (opening->host);
		return;
	}
	if (info == NULL) {
		g_prefix_error (&error,
				"Host %s (%s) cannot be used: ",
				name,
				nf_farm_host_get_uri (opening->host));
		if (opening->job != NULL) {
			nf_job_complete (opening->job, error);
			return;
		}
		g_message ("%s; trying again", error->message);
		retry_later (self, opening->host);
		return;
	}
	g_hash_table_remove (self->retries, name);
	nf_farm_host_set_facts (opening->host, info);
	host_follow (self, opening->host);
	nf_farm_host_set_reachable (opening->host, nf_connection_is_alive (host_connection (opening->host)));
	if (opening->job != NULL) {
		nf_model_add_host (self->model, opening->host);
		nf_job_set_progress (opening->job, 0.9);
		save_hosts (self, opening->job);
	}
	host_relist (self, opening->host);
}

static void
host_open (NfFarm *self, NfFarmHost *host, NfJob *job)
{
	Opening *opening = g_new0 (Opening, 1);
	OpenWork *work = g_new0 (OpenWork, 1);
	g_autoptr (GTask) task = NULL;

	opening->farm = self;
	opening->cancellable = g_object_ref (self->cancellable);
	opening->host = g_object_ref (host);
	opening->job = job != NULL ? g_object_ref (job) : NULL;
	work->engine = g_object_ref (nf_farm_host_get_engine (host));
	work->close_on_failure = job != NULL;
	if (job != NULL && self->baseline != NULL && nf_baseline_get_xml (self->baseline) != NULL &&
	    nf_model_has_nodes (self->model))
		work->baseline = g_strdup (nf_baseline_get_xml (self->baseline));
	task = g_task_new (NULL, NULL, host_opened, opening);
	g_task_set_task_data (task, work, (GDestroyNotify) open_work_free);
	g_task_run_in_thread (task, open_thread);
}

void
nf_farm_start (NfFarm *self)
{
	g_autoptr (GPtrArray) kept = nf_store_dup_hosts (nf_model_get_store (self->model));

	for (guint i = 0; i < kept->len; i++) {
		NfStoreHost *entry = g_ptr_array_index (kept, i);
		g_autoptr (NfFarmHost) host = NULL;

		if (nf_model_lookup_host (self->model, entry->name) != NULL)
			continue;
		host = host_new (self, entry->name, entry->uri);
		nf_farm_host_set_peer_uri (host, entry->peer_uri);
		nf_model_add_host (self->model, host);
		host_open (self, host, NULL);
	}
}

/* --- the state file --- */

static void
save_hosts (NfFarm *self, NfJob *job)
{
	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);
	g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_store_host_free);

	for (GList *l = hosts; l != NULL; l = l->next)
		if (!g_str_equal (nf_farm_host_get_name (l->data), NF_HOST_LOCAL))
			g_ptr_array_add (kept,
					 nf_store_host_new (nf_farm_host_get_name (l->data),
							    nf_farm_host_get_uri (l->data),
							    nf_farm_host_get_peer_uri (l->data)));
	nf_store_set_hosts (nf_model_get_store (self->model), kept);
	nf_model_save_async (self->model, host_saved, saving_new (self->model, job));
}

/* The job a save ends (the store's callback has no source object). */
struct _Saving {
	NfModel *model;
	NfJob *job;
};

static Saving *
saving_new (NfModel *model, NfJob *job)
{
	Saving *saving = g_new0 (Saving, 1);

	saving->model = g_object_ref (model);
	saving->job = g_object_ref (job);
	return saving;
}

static void
host_saved (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Saving *saving = user_data;
	g_autoptr (GError) error = NULL;

	nf_model_save_finish (saving->model, res, &error);
	nf_job_complete (saving->job, error);
	g_object_unref (saving->model);
	g_object_unref (saving->job);
	g_free (saving);
}

/* --- AddHost and RemoveHost --- */

static gboolean
uri_in_use (NfFarm *self, const gchar *uri, GError **error)
{
	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);

	for (GList *l = hosts; l != NULL; l = l->next) {
		if (!g_str_equal (nf_farm_host_get_uri (l->data), uri))
			continue;
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "Host %s has the URI %s already; a libvirt host joins the farm once.",
			     nf_farm_host_get_name (l->data),
			     uri);
		return TRUE;
	}
	return FALSE;
}

gboolean
nf_farm_check_add_host (NfFarm *self, const gchar *name, const gchar *uri, GError **error)
{
	GHashTableIter iter;
	gpointer key, value;

	/* one being added counts as one there */
	g_hash_table_iter_init (&iter, self->adding);
	while (g_hash_table_iter_next (&iter, &key, &value)) {
		if (!g_str_equal (key, name) && !g_str_equal (value, uri))
			continue;
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_BUSY,
			     "Host %s (%s) is being added; wait for that job.",
			     (const gchar *) key,
			     (const gchar *) value);
		return FALSE;
	}
	if (nf_model_lookup_host (self->model, name) != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "There is a host '%s' already; 'nestfarmctl host list' shows the hosts.",
			     name);
		return FALSE;
	}
	return !uri_in_use (self, uri, error);
}

void
nf_farm_add_host (NfFarm *self, const gchar *name, const gchar *uri, const gchar *peer_uri, NfJob *job)
{
	g_autoptr (NfFarmHost) host = NULL;
	g_autofree gchar *path = NULL;

	host = host_new (self, name, uri);
	nf_farm_host_set_peer_uri (host, peer_uri);
	g_hash_table_insert (self->adding, g_strdup (name), g_strdup (uri));
	path = g_strdup_printf ("host/%s", name);
	nf_job_add_object (job, path);
	nf_job_set_step (job, "connecting and probing the host");
	host_open (self, host, job);
}

typedef struct {
	NfFarm *farm; /* valid while @cancellable is not cancelled */
	GCancellable *cancellable;
	NfFarmHost *host;
	NfJob *job;
} Removal;

static void
host_closed (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Removal *removal = user_data;

	if (!g_cancellable_is_cancelled (removal->cancellable)) {
		nf_model_remove_host (removal->farm->model, removal->host);
		save_hosts (removal->farm, removal->job);
	}
	g_object_unref (removal->cancellable);
	g_object_unref (removal->host);
	g_object_unref (removal->job);
	g_free (removal);
}

/* A pool that lives on @host (placed there: even with no node listed yet,
 * or one being made), or work admitted there: the host stays. */
static gboolean
pool_placed_on (NfFarm *self, const gchar *host, GError **error)
{
	g_autoptr (GList) pools = nf_model_get_pools (self->model);

	for (GList *l = pools; l != NULL; l = l->next) {
		const NfPoolSpec *spec = nf_pool_get_spec (l->data);

		if (g_strcmp0 (spec->host, host) != 0)
			continue;
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_BUSY,
			     "Pool %s lives on host %s; delete it first.",
			     spec->name,
			     host);
		return TRUE;
	}
	if (nf_model_get_host_memory_pending_mib (self->model, host) == 0)
		return FALSE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "Nodes are being made or started on host %s; try again when that is done.",
		     host);
	return TRUE;
}

gboolean
nf_farm_check_remove_host (NfFarm *self, const gchar *name, GError **error)
{
	NfFarmHost *host = nf_model_lookup_host (self->model, name);
	GPtrArray *nodes;

	if (g_str_equal (name, NF_HOST_LOCAL)) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The host local is the one of the LibvirtURI setting; it cannot be removed.");
		return FALSE;
	}
	if (host == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no host '%s'; 'nestfarmctl host list' shows the hosts.",
			     name);
		return FALSE;
	}
	nodes = nf_farm_host_get_nodes (host);
	if (nodes->len == 0)
		return !pool_placed_on (self, name, error);
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "Host %s still holds %u nodes (%s first); delete their pools or scale them down first.",
		     name,
		     nodes->len,
		     nf_node_get_name (g_ptr_array_index (nodes, 0)));
	return FALSE;
}

void
nf_farm_remove_host (NfFarm *self, const gchar *name, NfJob *job)
{
	NfFarmHost *host = nf_model_lookup_host (self->model, name);
	g_autoptr (GTask) task = NULL;
	g_autofree gchar *path = NULL;
	Removal *removal;

	g_return_if_fail (host != NULL);
	path = g_strdup_printf ("host/%s", name);
	nf_job_add_object (job, path);
	nf_job_set_step (job, "closing the host's connection");
	/* what a crash left there is no more nestfarm's to settle */
	{
		g_autoptr (GPtrArray) left = leftovers_on (self, name);
		g_autoptr (GPtrArray) names = g_ptr_array_new ();

		for (guint i = 0; i < left->len; i++) {
			NfReconcileLeftover *leftover = g_ptr_array_index (left, i);

			g_warning ("host %s leaves the farm with %s unsettled (an interrupted operation's); "
				   "remove it there by hand",
				   name,
				   leftover->name);
			g_ptr_array_add (names, leftover->name);
		}
		g_ptr_array_add (names, NULL);
		nf_model_settle_deferred (self->model, name, (const gchar *const *) names->pdata);
	}
	g_hash_table_remove (self->retries, name);
	removal = g_new0 (Removal, 1);
	removal->farm = self;
	removal->cancellable = g_object_ref (self->cancellable);
	removal->host = g_object_ref (host);
	removal->job = g_object_ref (job);
	host_unfollow (host);
	task = g_task_new (NULL, NULL, host_closed, removal);
	g_task_set_task_data (task, g_object_ref (host_connection (host)), g_object_unref);
	g_task_run_in_thread (task, close_connection_thread);
}
