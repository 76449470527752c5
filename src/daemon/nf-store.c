/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-store"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-string-table.h"
#include "nestfarm/nf-tsan.h"
#include "nf-store.h"

/* The state file: pool specs, intents and the next job number, written whole
 * by a writer thread of its own and read back strictly. */

#define NF_STORE_VERSION 1

struct _NfStore {
	gchar *dir;
	gchar *path;
	/* One thread writes, so the files land in the order they were asked
	 * for and the main loop never waits on fsync. */
	GThreadPool *writer;
	GPtrArray *hosts;
	GHashTable *host_states;
	/* host name -> NfHostState (draining, maintenance) */ /* NfStoreHost: the farm's hosts
								  besides local */
};

static void store_write_task (gpointer data, gpointer user_data);

/* The file format: these names are what pools.json has always said. */
static const gchar *const intent_kinds[] = {
	[NF_INTENT_KIND_CREATE] = "create",
	[NF_INTENT_KIND_SCALE_UP] = "scale-up",
	[NF_INTENT_KIND_SCALE_DOWN] = "scale-down",
	[NF_INTENT_KIND_DELETE] = "delete",
	[NF_INTENT_KIND_RESET] = "reset",
	[NF_INTENT_KIND_SNAPSHOT] = "snapshot",
	[NF_INTENT_KIND_REVERT] = "revert",
	[NF_INTENT_KIND_DELETE_SNAPSHOT] = "delete-snapshot",
};
NF_DEFINE_STRING_TABLE (nf_intent_kind, NfIntentKind, intent_kinds, NF_INTENT_KIND_LAST)

NfIntent *
nf_intent_new (guint job, NfIntentKind kind, const gchar *pool)
{
	NfIntent *intent = g_new0 (NfIntent, 1);

	intent->job = job;
	intent->kind = kind;
	intent->pool = g_strdup (pool);
	intent->indexes = g_array_new (FALSE, FALSE, sizeof (guint));
	intent->hosts = g_hash_table_new_full (NULL, NULL, NULL, g_free);
	return intent;
}

void
nf_intent_set_host (NfIntent *intent, guint index, const gchar *host)
{
	if (host == NULL || g_str_equal (host, NF_HOST_LOCAL))
		g_hash_table_remove (intent->hosts, GUINT_TO_POINTER (index));
	else
		g_hash_table_replace (intent->hosts, GUINT_TO_POINTER (index), g_strdup (host));
}

const gchar *
nf_intent_get_host (const NfIntent *intent, guint index)
{
	const gchar *host = g_hash_table_lookup (intent->hosts, GUINT_TO_POINTER (index));

	return host != NULL ? host : NF_HOST_LOCAL;
}

void
nf_intent_free (NfIntent *intent)
{
	if (intent == NULL)
		return;
	g_free (intent->pool);
	g_free (intent->snapshot);
	g_array_unref (intent->indexes);
	g_hash_table_unref (intent->hosts);
	g_free (intent);
}

NfStore *
nf_store_new (const gchar *state_dir)
{
	NfStore *self = g_new0 (NfStore, 1);

	self->dir = g_strdup (state_dir);
	self->path = g_build_filename (state_dir, "pools.json", NULL);
	self->writer = g_thread_pool_new (store_write_task, self, 1, FALSE, NULL);
	self->hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_store_host_free);
	self->host_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	return self;
}

NfStoreHost *
nf_store_host_new (const gchar *name, const gchar *uri, const gchar *peer_uri)
{
	NfStoreHost *host = g_new0 (NfStoreHost, 1);

	host->name = g_strdup (name);
	host->uri = g_strdup (uri);
	host->peer_uri = g_strdup (peer_uri);
	return host;
}

void
nf_store_host_free (NfStoreHost *host)
{
	if (host == NULL)
		return;
	g_free (host->name);
	g_free (host->uri);
	g_free (host->peer_uri);
	g_free (host);
}

static GPtrArray *
hosts_copy (GPtrArray *hosts)
{
	GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_store_host_free);

	for (guint i = 0; hosts != NULL && i < hosts->len; i++) {
		NfStoreHost *host = g_ptr_array_index (hosts, i);

		g_ptr_array_add (copy, nf_store_host_new (host->name, host->uri, host->peer_uri));
	}
	return copy;
}

void
nf_store_set_hosts (NfStore *self, GPtrArray *hosts)
{
	g_ptr_array_unref (self->hosts);
	self->hosts = hosts_copy (hosts);
}

GPtrArray *
nf_store_dup_hosts (NfStore *self)
{
	return hosts_copy (self->hosts);
}

void
nf_store_free (NfStore *self)
{
	if (self == NULL)
		return;
	/* what was asked for is written */
	g_thread_pool_free (self->writer, FALSE, TRUE);
	g_ptr_array_unref (self->hosts);
	g_hash_table_unref (self->host_states);
	g_free (self->dir);
	g_free (self->path);
	g_free (self);
}

const gchar *
nf_store_get_path (NfStore *self)
{
	return self->path;
}

static void
add_strings (JsonBuilder *b, const gchar *member, GStrv strings)
{
	json_builder_set_member_name (b, member);
	json_builder_begin_array (b);
	for (guint i = 0; strings[i] != NULL; i++)
		json_builder_add_string_value (b, strings[i]);
	json_builder_end_array (b);
}

/* An array of strings @key into *@out; a missing one leaves it NULL. */
static gboolean
read_strings (JsonObject *obj, const gchar *key, GStrv *out, GError **error)
{
	JsonNode *node = json_object_get_member (obj, key);
	JsonArray *array;
	g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_ARRAY (node)) {
		g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "'%s' is not an array", key);
		return FALSE;
	}
	array = json_node_get_array (node);
	for (guint i = 0; i < json_array_get_length (array); i++) {
		JsonNode *element = json_array_get_element (array, i);

		if (json_node_get_value_type (element) != G_TYPE_STRING) {
			g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "'%s' holds a non-string", key);
			return FALSE;
		}
		g_strv_builder_add (builder, json_node_get_string (element));
	}
	*out = g_strv_builder_end (builder);
	return TRUE;
}

/* The seed's options, where the pool has them (older files have none). */
static void
write_seed (JsonBuilder *b, const NfPoolSpec *spec)
{
	if (spec->ssh_user != NULL) {
		json_builder_set_member_name (b, "ssh-user");
		json_builder_add_string_value (b, spec->ssh_user);
	}
	if (spec->ssh_keys != NULL) {
		json_builder_set_member_name (b, "ssh-keys");
		json_builder_begin_array (b);
		for (guint i = 0; spec->ssh_keys[i] != NULL; i++)
			json_builder_add_string_value (b, spec->ssh_keys[i]);
		json_builder_end_array (b);
	}
	if (spec->user_data != NULL) {
		json_builder_set_member_name (b, "user-data");
		json_builder_add_string_value (b, spec->user_data);
	}
	if (spec->hosts != NULL)
		add_strings (b, "hosts", spec->hosts);
	if (spec->host != NULL) {
		json_builder_set_member_name (b, "host");
		json_builder_add_string_value (b, spec->host);
	}
}

static void
add_indexes (JsonBuilder *b, const gchar *member, GArray *indexes)
{
	json_builder_set_member_name (b, member);
	json_builder_begin_array (b);
	for (guint i = 0; i < indexes->len; i++)
		json_builder_add_int_value (b, g_array_index (indexes, guint, i));
	json_builder_end_array (b);
}

static void
write_snapshots (JsonBuilder *b, const NfPoolSpec *spec)
{
	if (spec->snapshots->len == 0)
		return;
	json_builder_set_member_name (b, "snapshots");
	json_builder_begin_array (b);
	for (guint i = 0; i < spec->snapshots->len; i++) {
		const NfPoolSnapshot *snapshot = g_ptr_array_index (spec->snapshots, i);

		json_builder_begin_object (b);
		json_builder_set_member_name (b, "name");
		json_builder_add_string_value (b, snapshot->name);
		json_builder_set_member_name (b, "created");
		json_builder_add_int_value (b, snapshot->created);
		json_builder_set_member_name (b, "size");
		json_builder_add_int_value (b, (gint64) MIN (snapshot->size, (guint64) G_MAXINT64));
		json_builder_set_member_name (b, "memory");
		json_builder_add_boolean_value (b, snapshot->memory);
		add_indexes (b, "nodes", snapshot->indexes);
		add_indexes (b, "running", snapshot->running);
		json_builder_end_object (b);
	}
	json_builder_end_array (b);
}

static gint
compare_index_keys (gconstpointer a, gconstpointer b)
{
	guint x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);

	return x < y ? -1 : x > y;
}

/* "remote-nodes": {"3": "h1"}, sorted: where its nodes on other hosts were
 * last seen. */
static void
write_remote_nodes (JsonBuilder *b, const NfPoolSpec *spec)
{
	g_autoptr (GList) indexes = NULL;

	if (spec->remote_nodes == NULL || g_hash_table_size (spec->remote_nodes) == 0)
		return;
	indexes = g_list_sort (g_hash_table_get_keys (spec->remote_nodes), compare_index_keys);
	json_builder_set_member_name (b, "remote-nodes");
	json_builder_begin_object (b);
	for (GList *l = indexes; l != NULL; l = l->next) {
		g_autofree gchar *key = g_strdup_printf ("%u", GPOINTER_TO_UINT (l->data));

		json_builder_set_member_name (b, key);
		json_builder_add_string_value (b, g_hash_table_lookup (spec->remote_nodes, l->data));
	}
	json_builder_end_object (b);
}

static void
add_pool (JsonBuilder *b, const NfPoolSpec *spec)
{
	json_builder_begin_object (b);
	json_builder_set_member_name (b, "name");
	json_builder_add_string_value (b, spec->name);
	json_builder_set_member_name (b, "profile");
	json_builder_add_string_value (b, spec->profile);
	json_builder_set_member_name (b, "count");
	json_builder_add_int_value (b, spec->count);
	json_builder_set_member_name (b, "image");
	json_builder_add_string_value (b, spec->image);
	json_builder_set_member_name (b, "vcpus");
	json_builder_add_int_value (b, spec->vcpus);
	json_builder_set_member_name (b, "memory-mib");
	json_builder_add_int_value (b, spec->memory_mib);
	json_builder_set_member_name (b, "disk-gib");
	json_builder_add_int_value (b, spec->disk_gib);
	json_builder_set_member_name (b, "trunk-bridge");
	json_builder_add_string_value (b, spec->trunk_bridge);
	if (spec->ovn) {
		json_builder_set_member_name (b, "ovn");
		json_builder_add_boolean_value (b, TRUE);
	}
	write_remote_nodes (b, spec);
	json_builder_set_member_name (b, "vlans");
	json_builder_add_string_value (b, spec->vlans);
	if (spec->mgmt_network != NULL) {
		json_builder_set_member_name (b, "management-network");
		json_builder_add_string_value (b, spec->mgmt_network);
	}
	write_seed (b, spec);
	write_snapshots (b, spec);
	json_builder_set_member_name (b, "start");
	json_builder_add_boolean_value (b, spec->start);
	json_builder_end_object (b);
}

static void
add_intent (JsonBuilder *b, const NfIntent *intent)
{
	json_builder_begin_object (b);
	json_builder_set_member_name (b, "job");
	json_builder_add_int_value (b, intent->job);
	json_builder_set_member_name (b, "kind");
	json_builder_add_string_value (b, nf_intent_kind_to_string (intent->kind));
	json_builder_set_member_name (b, "pool");
	json_builder_add_string_value (b, intent->pool);
	if (intent->snapshot != NULL) {
		json_builder_set_member_name (b, "snapshot");
		json_builder_add_string_value (b, intent->snapshot);
	}
	add_indexes (b, "nodes", intent->indexes);
	if (intent->deferred) {
		json_builder_set_member_name (b, "deferred");
		json_builder_add_boolean_value (b, TRUE);
	}
	/* {"3": "h1"}: nodes on other hosts than local */
	if (g_hash_table_size (intent->hosts) > 0) {
		json_builder_set_member_name (b, "hosts");
		json_builder_begin_object (b);
		for (guint i = 0; i < intent->indexes->len; i++) {
			guint index = g_array_index (intent->indexes, guint, i);
			g_autofree gchar *key = g_strdup_printf ("%u", index);

			if (g_str_equal (nf_intent_get_host (intent, index), NF_HOST_LOCAL))
				continue;
			json_builder_set_member_name (b, key);
			json_builder_add_string_value (b, nf_intent_get_host (intent, index));
		}
		json_builder_end_object (b);
	}
	json_builder_end_object (b);
}

static void
add_hosts (JsonBuilder *b, GPtrArray *hosts)
{
	json_builder_set_member_name (b, "hosts");
	json_builder_begin_array (b);
	for (guint i = 0; i < hosts->len; i++) {
		NfStoreHost *host = g_ptr_array_index (hosts, i);

		json_builder_begin_object (b);
		json_builder_set_member_name (b, "name");
		json_builder_add_string_value (b, host->name);
		json_builder_set_member_name (b, "uri");
		json_builder_add_string_value (b, host->uri);
		if (host->peer_uri != NULL) {
			json_builder_set_member_name (b, "peer-uri");
			json_builder_add_string_value (b, host->peer_uri);
		}
		json_builder_end_object (b);
	}
	json_builder_end_array (b);
}

void
nf_store_set_host_state (NfStore *self, const gchar *host, NfHostState state)
{
	if (state == NF_HOST_STATE_ONLINE || state == NF_HOST_STATE_OFFLINE)
		g_hash_table_remove (self->host_states, host);
	else
		g_hash_table_replace (self->host_states, g_strdup (host), GINT_TO_POINTER (state));
}

NfHostState
nf_store_get_host_state (NfStore *self, const gchar *host)
{
	gpointer state;

	if (!g_hash_table_lookup_extended (self->host_states, host, NULL, &state))
		return NF_HOST_STATE_ONLINE;
	return GPOINTER_TO_INT (state);
}

/* "host-states": {"h2": "maintenance"}: hosts out of service, sorted. */
static void
add_host_states (JsonBuilder *b, GHashTable *states)
{
	g_autoptr (GList) names = g_list_sort (g_hash_table_get_keys (states), (GCompareFunc) g_strcmp0);

	json_builder_set_member_name (b, "host-states");
	json_builder_begin_object (b);
	for (GList *l = names; l != NULL; l = l->next) {
		json_builder_set_member_name (b, l->data);
		json_builder_add_string_value (b,
					       nf_host_state_to_string (GPOINTER_TO_INT (
						       g_hash_table_lookup (states, l->data))));
	}
	json_builder_end_object (b);
}

static gchar *
store_render (GPtrArray *hosts, GHashTable *host_states, GPtrArray *pools, GPtrArray *intents, guint next_job)
{
	g_autoptr (JsonBuilder) b = json_builder_new ();
	g_autoptr (JsonGenerator) gen = json_generator_new ();
	g_autoptr (JsonNode) root = NULL;

	json_builder_begin_object (b);
	json_builder_set_member_name (b, "version");
	json_builder_add_int_value (b, NF_STORE_VERSION);
	json_builder_set_member_name (b, "next-job");
	json_builder_add_int_value (b, next_job);
	add_hosts (b, hosts);
	add_host_states (b, host_states);
	json_builder_set_member_name (b, "pools");
	json_builder_begin_array (b);
	for (guint i = 0; pools != NULL && i < pools->len; i++)
		add_pool (b, g_ptr_array_index (pools, i));
	json_builder_end_array (b);
	json_builder_set_member_name (b, "operations");
	json_builder_begin_array (b);
	for (guint i = 0; intents != NULL && i < intents->len; i++)
		add_intent (b, g_ptr_array_index (intents, i));
	json_builder_end_array (b);
	json_builder_end_object (b);
	root = json_builder_get_root (b);
	json_generator_set_root (gen, root);
	json_generator_set_pretty (gen, TRUE);
	return json_generator_to_data (gen, NULL);
}

static gboolean
store_write (NfStore *self, const gchar *text, GError **error)
{
	g_autoptr (GError) error_local = NULL;

	if (g_mkdir_with_parents (self->dir, 0755) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot make the state directory %s: %s.",
			     self->dir,
			     g_strerror (errno));
		return FALSE;
	}
	/* Temporary file, fsync, rename: a crash or a full disk leaves the old
	 * file whole. */
	if (!g_file_set_contents_full (self->path,
				       text,
				       -1,
				       G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
				       0644,
				       &error_local)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot save the pool state to %s: %s.",
			     self->path,
			     error_local->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
nf_store_save (NfStore *self, GPtrArray *pools, GPtrArray *intents, guint next_job, GError **error)
{
	g_autofree gchar *text = store_render (self->hosts, self->host_states, pools, intents, next_job);

	return store_write (self, text, error);
}

/* The writer thread: one file at a time, in the order asked. */
static void
store_write_task (gpointer data, gpointer user_data)
{
	g_autoptr (GTask) task = data;
	NfStore *self = user_data;
	GError *error = NULL;

	NF_TSAN_ACQUIRE (task);
	if (!store_write (self, g_task_get_task_data (task), &error)) {
		g_task_return_error (task, error);
		return;
	}
	g_task_return_boolean (task, TRUE);
}

void
nf_store_save_async (NfStore *self,
		     GPtrArray *pools,
		     GPtrArray *intents,
		     guint next_job,
		     GAsyncReadyCallback callback,
		     gpointer user_data)
{
	GTask *task = g_task_new (NULL, NULL, callback, user_data);

	g_task_set_source_tag (task, nf_store_save_async);
	g_task_set_task_data (task,
			      store_render (self->hosts, self->host_states, pools, intents, next_job),
			      g_free);
	NF_TSAN_RELEASE (task);
	g_thread_pool_push (self->writer, task, NULL);
}

gboolean
nf_store_save_finish (NfStore *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
	g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nf_store_save_async, FALSE);
	return g_task_propagate_boolean (G_TASK (result), error);
}

static JsonArray *
get_array (JsonObject *obj, const gchar *key)
{
	JsonNode *node = json_object_get_member (obj, key);

	return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static gboolean
read_uint (JsonObject *obj, const gchar *key, guint *out, GError **error)
{
	JsonNode *node = json_object_get_member (obj, key);

	if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < 0 ||
	    json_node_get_int (node) > G_MAXUINT) {
		g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "'%s' is missing or not a count", key);
		return FALSE;
	}
	*out = (guint) json_node_get_int (node);
	return TRUE;
}

static gchar *
read_string (JsonObject *obj, const gchar *key, gboolean required, GError **error)
{
	JsonNode *node = json_object_get_member (obj, key);

	if (node == NULL && !required)
		return NULL;
	if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING) {
		g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "'%s' is missing or not a string", key);
		return NULL;
	}
	return g_strdup (json_node_get_string (node));
}

static gboolean
read_seed (JsonObject *obj, NfPoolSpec *spec, GError **error)
{
	JsonNode *keys = json_object_get_member (obj, "ssh-keys");

	spec->ssh_user = read_string (obj, "ssh-user", FALSE, NULL);
	spec->user_data = read_string (obj, "user-data", FALSE, NULL);
	if (!read_strings (obj, "hosts", &spec->hosts, error))
		return FALSE;
	spec->host = read_string (obj, "host", FALSE, NULL);
	if (keys == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_ARRAY (keys)) {
		g_set_error_literal (error, NF_ERROR, NF_ERROR_FAILED, "'ssh-keys' is not an array");
		return FALSE;
	}
	spec->ssh_keys = g_new0 (gchar *, json_array_get_length (json_node_get_array (keys)) + 1);
	for (guint i = 0; i < json_array_get_length (json_node_get_array (keys)); i++) {
		JsonNode *key = json_array_get_element (json_node_get_array (keys), i);

		if (json_node_get_value_type (key) != G_TYPE_STRING) {
			g_set_error_literal (error,
					     NF_ERROR,
					     NF_ERROR_FAILED,
					     "'ssh-keys' holds a non-string");
			return FALSE;
		}
		spec->ssh_keys[i] = g_strdup (json_node_get_string (key));
	}
	return TRUE;
}

/* Positive indexes of the array @key (none when it is missing). */
static void
read_indexes (JsonObject *obj, const gchar *key, GArray *indexes)
{
	JsonArray *nodes = get_array (obj, key);

	for (guint i = 0; nodes != NULL && i < json_array_get_length (nodes); i++) {
		gint64 v = json_array_get_int_element (nodes, i);

		if (v > 0 && v <= G_MAXUINT) {
			guint index = (guint) v;

			g_array_append_val (indexes, index);
		}
	}
}

static gboolean
read_snapshots (JsonObject *obj, NfPoolSpec *spec, GError **error)
{
	JsonArray *list = get_array (obj, "snapshots");

	for (guint i = 0; list != NULL && i < json_array_get_length (list); i++) {
		JsonNode *node = json_array_get_element (list, i);
		JsonObject *item = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
		g_autofree gchar *name = item != NULL ? read_string (item, "name", TRUE, error) : NULL;
		NfPoolSnapshot *snapshot;

		if (name == NULL) {
			if (item == NULL)
				g_set_error_literal (error,
						     NF_ERROR,
						     NF_ERROR_FAILED,
						     "a snapshot is not an object");
			return FALSE;
		}
		snapshot = nf_pool_snapshot_new (name);
		snapshot->created = json_object_get_int_member_with_default (item, "created", 0);
		snapshot->size = (guint64) MAX (json_object_get_int_member_with_default (item, "size", 0), 0);
		snapshot->memory = json_object_get_boolean_member_with_default (item, "memory", FALSE);
		read_indexes (item, "nodes", snapshot->indexes);
		read_indexes (item, "running", snapshot->running);
		g_ptr_array_add (spec->snapshots, snapshot);
	}
	return TRUE;
}

/* "remote-nodes" of a pool; an entry that is not an index and a host name
 * is left out. */
static void
read_remote_nodes (JsonObject *obj, NfPoolSpec *spec)
{
	JsonNode *member = json_object_get_member (obj, "remote-nodes");
	JsonObject *map =
		member != NULL && JSON_NODE_HOLDS_OBJECT (member) ? json_node_get_object (member) : NULL;
	g_autoptr (GList) keys = map != NULL ? json_object_get_members (map) : NULL;

	for (GList *l = keys; l != NULL; l = l->next) {
		g_autofree gchar *host = read_string (map, l->data, FALSE, NULL);
		guint64 index = 0;

		if (host != NULL && nf_names_validate ("host", host, NULL) &&
		    g_ascii_string_to_unsigned (l->data, 10, 1, G_MAXUINT, &index, NULL))
			g_hash_table_replace (spec->remote_nodes,
					      GUINT_TO_POINTER ((guint) index),
					      g_steal_pointer (&host));
	}
}

static NfPoolSpec *
read_pool (JsonNode *node, GError **error)
{
	g_autoptr (NfPoolSpec) spec = nf_pool_spec_new ();
	JsonObject *obj;

	if (!JSON_NODE_HOLDS_OBJECT (node)) {
		g_set_error_literal (error, NF_ERROR, NF_ERROR_FAILED, "a pool is not an object");
		return NULL;
	}
	obj = json_node_get_object (node);
	if ((spec->name = read_string (obj, "name", TRUE, error)) == NULL ||
	    (spec->profile = read_string (obj, "profile", TRUE, error)) == NULL ||
	    (spec->image = read_string (obj, "image", TRUE, error)) == NULL ||
	    (spec->trunk_bridge = read_string (obj, "trunk-bridge", TRUE, error)) == NULL ||
	    (spec->vlans = read_string (obj, "vlans", TRUE, error)) == NULL)
		return NULL;
	spec->mgmt_network = read_string (obj, "management-network", FALSE, NULL);
	if (!read_seed (obj, spec, error) || !read_snapshots (obj, spec, error))
		return NULL;
	if (!read_uint (obj, "count", &spec->count, error) ||
	    !read_uint (obj, "vcpus", &spec->vcpus, error) ||
	    !read_uint (obj, "memory-mib", &spec->memory_mib, error) ||
	    !read_uint (obj, "disk-gib", &spec->disk_gib, error))
		return NULL;
	spec->start = json_object_get_boolean_member_with_default (obj, "start", TRUE);
	spec->ovn = json_object_get_boolean_member_with_default (obj, "ovn", FALSE);
	read_remote_nodes (obj, spec);
	return g_steal_pointer (&spec);
}

/* "hosts" of an intent: a file from before farms has none (all local);
 * an entry that is not a host name of a node it touches is left out. */
static void
read_intent_hosts (JsonObject *obj, NfIntent *intent)
{
	JsonNode *member = json_object_get_member (obj, "hosts");
	JsonObject *hosts =
		member != NULL && JSON_NODE_HOLDS_OBJECT (member) ? json_node_get_object (member) : NULL;

	for (guint i = 0; hosts != NULL && i < intent->indexes->len; i++) {
		guint index = g_array_index (intent->indexes, guint, i);
		g_autofree gchar *key = g_strdup_printf ("%u", index);
		g_autofree gchar *host = read_string (hosts, key, FALSE, NULL);

		if (host != NULL && nf_names_validate ("host", host, NULL))
			nf_intent_set_host (intent, index, host);
	}
}

/* *@out is NULL for an operation of a kind this daemon does not know (a
 * newer one's): there is nothing it could settle, as before kinds were
 * checked. */
static gboolean
read_intent (JsonNode *node, NfIntent **out, GError **error)
{
	JsonObject *obj;
	guint job = 0;
	NfIntentKind kind;
	g_autofree gchar *kind_name = NULL;
	g_autofree gchar *pool = NULL;
	g_autoptr (NfIntent) intent = NULL;

	*out = NULL;
	if (!JSON_NODE_HOLDS_OBJECT (node)) {
		g_set_error_literal (error, NF_ERROR, NF_ERROR_FAILED, "an operation is not an object");
		return FALSE;
	}
	obj = json_node_get_object (node);
	if (!read_uint (obj, "job", &job, error) ||
	    (kind_name = read_string (obj, "kind", TRUE, error)) == NULL ||
	    (pool = read_string (obj, "pool", TRUE, error)) == NULL)
		return FALSE;
	if (!nf_intent_kind_from_string (kind_name, &kind)) {
		g_warning ("job %u left an operation of unknown kind '%s' on pool %s; leaving it alone",
			   job,
			   kind_name,
			   pool);
		return TRUE;
	}
	intent = nf_intent_new (job, kind, pool);
	intent->snapshot = read_string (obj, "snapshot", FALSE, NULL);
	read_indexes (obj, "nodes", intent->indexes);
	read_intent_hosts (obj, intent);
	intent->deferred = json_object_get_boolean_member_with_default (obj, "deferred", FALSE);
	*out = g_steal_pointer (&intent);
	return TRUE;
}

/* "hosts": [{"name", "uri"}]; a file from before farms has none. A bad
 * entry is left out, said in the log: the pools and the other hosts are
 * still good. */
static gboolean
read_hosts (NfStore *self, JsonObject *root, GError **error)
{
	JsonArray *array = get_array (root, "hosts");
	g_autoptr (GPtrArray) hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_store_host_free);

	for (guint i = 0; array != NULL && i < json_array_get_length (array); i++) {
		JsonNode *node = json_array_get_element (array, i);
		g_autoptr (GError) error_local = NULL;
		g_autofree gchar *name = NULL;
		g_autofree gchar *uri = NULL;
		g_autofree gchar *peer_uri = NULL;

		if (JSON_NODE_HOLDS_OBJECT (node)) {
			name = read_string (json_node_get_object (node), "name", TRUE, &error_local);
			if (name != NULL)
				uri = read_string (json_node_get_object (node), "uri", TRUE, &error_local);
			if (uri != NULL)
				peer_uri = read_string (json_node_get_object (node),
							"peer-uri",
							FALSE,
							&error_local);
		}
		if (uri == NULL || !nf_names_validate ("host", name, NULL)) {
			g_warning ("The state file %s has a bad host (%s); it is left out: add it again.",
				   self->path,
				   error_local != NULL ? error_local->message : "not a host name and URI");
			continue;
		}
		g_ptr_array_add (hosts, nf_store_host_new (name, uri, peer_uri));
	}
	g_ptr_array_unref (self->hosts);
	self->hosts = g_steal_pointer (&hosts);
	return TRUE;
}

/* "host-states"; a state that is not draining or maintenance is left out,
 * said in the log. */
static void
read_host_states (NfStore *self, JsonObject *root)
{
	JsonNode *node = json_object_get_member (root, "host-states");
	g_autoptr (GList) names = NULL;

	g_hash_table_remove_all (self->host_states);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
		return;
	names = json_object_get_members (json_node_get_object (node));
	for (GList *l = names; l != NULL; l = l->next) {
		g_autofree gchar *text = read_string (json_node_get_object (node), l->data, TRUE, NULL);
		NfHostState state = NF_HOST_STATE_ONLINE;

		if (text == NULL || !nf_host_state_from_string (text, &state) ||
		    (state != NF_HOST_STATE_DRAINING && state != NF_HOST_STATE_MAINTENANCE)) {
			g_warning ("The state file %s has a bad state for host %s; it is left out.",
				   self->path,
				   (const gchar *) l->data);
			continue;
		}
		nf_store_set_host_state (self, l->data, state);
	}
}

gboolean
nf_store_load (NfStore *self, GPtrArray **pools_out, GPtrArray **intents_out, guint *next_job, GError **error)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GPtrArray) pools = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_spec_free);
	g_autoptr (GPtrArray) intents = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	g_autoptr (GError) error_local = NULL;
	JsonNode *root;
	JsonArray *array;

	*next_job = 1;
	if (!g_file_test (self->path, G_FILE_TEST_EXISTS)) {
		*pools_out = g_steal_pointer (&pools);
		*intents_out = g_steal_pointer (&intents);
		return TRUE;
	}
	if (!json_parser_load_from_mapped_file (parser, self->path, &error_local)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The state file %s does not parse: %s.",
			     self->path,
			     error_local->message);
		return FALSE;
	}
	root = json_parser_get_root (parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The state file %s is not a JSON object.",
			     self->path);
		return FALSE;
	}
	if (!read_uint (json_node_get_object (root), "next-job", next_job, NULL))
		*next_job = 1;
	if (!read_hosts (self, json_node_get_object (root), error))
		return FALSE;
	read_host_states (self, json_node_get_object (root));
	array = get_array (json_node_get_object (root), "pools");
	for (guint i = 0; array != NULL && i < json_array_get_length (array); i++) {
		NfPoolSpec *spec = read_pool (json_array_get_element (array, i), &error_local);

		if (spec == NULL) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "The state file %s has a bad pool: %s.",
				     self->path,
				     error_local->message);
			return FALSE;
		}
		g_ptr_array_add (pools, spec);
	}
	array = get_array (json_node_get_object (root), "operations");
	for (guint i = 0; array != NULL && i < json_array_get_length (array); i++) {
		NfIntent *intent = NULL;

		if (!read_intent (json_array_get_element (array, i), &intent, &error_local)) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "The state file %s has a bad operation: %s.",
				     self->path,
				     error_local->message);
			return FALSE;
		}
		if (intent != NULL)
			g_ptr_array_add (intents, intent);
	}
	*pools_out = g_steal_pointer (&pools);
	*intents_out = g_steal_pointer (&intents);
	return TRUE;
}
