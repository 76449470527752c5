/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-pool"

#include "config.h"

#include "nestfarm/nf-names.h"
#include "nf-pool.h"

/* NfPool: a pool as the model holds it: what its user asked for, its nodes,
 * and its state (the running job's, or derived from the nodes). */

struct _NfPool {
	GObject parent_instance;
	NfPoolSpec *spec;
	NfPoolState state;
	GPtrArray *nodes; /* NfNode, sorted by index */
	/* index -> host of the retired nodes on other hosts than local */
	GHashTable *retired_hosts;
};

enum {
	PROP_0,
	PROP_NAME,
	PROP_PROFILE,
	PROP_COUNT,
	PROP_NODES,
	PROP_STATE,
	PROP_VCPUS,
	PROP_MEMORY_MIB,
	PROP_IMAGE,
	PROP_TRUNK_BRIDGE,
	PROP_VLANS,
	PROP_N_SNAPSHOTS,
	N_PROPS
};
static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE (NfPool, nf_pool, G_TYPE_OBJECT)

NfPoolSnapshot *
nf_pool_snapshot_new (const gchar *name)
{
	NfPoolSnapshot *snapshot = g_new0 (NfPoolSnapshot, 1);

	snapshot->name = g_strdup (name);
	snapshot->indexes = g_array_new (FALSE, FALSE, sizeof (guint));
	snapshot->running = g_array_new (FALSE, FALSE, sizeof (guint));
	return snapshot;
}

NfPoolSnapshot *
nf_pool_snapshot_copy (const NfPoolSnapshot *snapshot)
{
	NfPoolSnapshot *copy = nf_pool_snapshot_new (snapshot->name);

	copy->created = snapshot->created;
	copy->size = snapshot->size;
	copy->memory = snapshot->memory;
	g_array_append_vals (copy->indexes, snapshot->indexes->data, snapshot->indexes->len);
	g_array_append_vals (copy->running, snapshot->running->data, snapshot->running->len);
	return copy;
}

void
nf_pool_snapshot_free (NfPoolSnapshot *snapshot)
{
	if (snapshot == NULL)
		return;
	g_free (snapshot->name);
	g_array_unref (snapshot->indexes);
	g_array_unref (snapshot->running);
	g_free (snapshot);
}

gboolean
nf_pool_snapshot_holds (const NfPoolSnapshot *snapshot, guint index)
{
	for (guint i = 0; i < snapshot->indexes->len; i++)
		if (g_array_index (snapshot->indexes, guint, i) == index)
			return TRUE;
	return FALSE;
}

NfPoolSpec *
nf_pool_spec_new (void)
{
	NfPoolSpec *spec = g_new0 (NfPoolSpec, 1);

	spec->start = TRUE;
	spec->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_snapshot_free);
	spec->retired = g_array_new (FALSE, FALSE, sizeof (guint));
	spec->remote_nodes = g_hash_table_new_full (NULL, NULL, NULL, g_free);
	return spec;
}

NfPoolSpec *
nf_pool_spec_copy (const NfPoolSpec *spec)
{
	NfPoolSpec *copy = g_new0 (NfPoolSpec, 1);

	*copy = *spec;
	copy->name = g_strdup (spec->name);
	copy->profile = g_strdup (spec->profile);
	copy->image = g_strdup (spec->image);
	copy->trunk_bridge = g_strdup (spec->trunk_bridge);
	copy->vlans = g_strdup (spec->vlans);
	copy->mgmt_network = g_strdup (spec->mgmt_network);
	copy->ssh_user = g_strdup (spec->ssh_user);
	copy->ssh_keys = g_strdupv (spec->ssh_keys);
	copy->hosts = g_strdupv (spec->hosts);
	copy->host = g_strdup (spec->host);
	copy->user_data = g_strdup (spec->user_data);
	copy->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_snapshot_free);
	for (guint i = 0; spec->snapshots != NULL && i < spec->snapshots->len; i++)
		g_ptr_array_add (copy->snapshots,
				 nf_pool_snapshot_copy (g_ptr_array_index (spec->snapshots, i)));
	copy->retired = spec->retired != NULL ? g_array_copy (spec->retired)
					      : g_array_new (FALSE, FALSE, sizeof (guint));
	copy->remote_nodes = g_hash_table_new_full (NULL, NULL, NULL, g_free);
	if (spec->remote_nodes != NULL) {
		GHashTableIter iter;
		gpointer index;
		gpointer host;

		g_hash_table_iter_init (&iter, spec->remote_nodes);
		while (g_hash_table_iter_next (&iter, &index, &host))
			g_hash_table_insert (copy->remote_nodes, index, g_strdup (host));
	}
	return copy;
}

void
nf_pool_spec_free (NfPoolSpec *spec)
{
	if (spec == NULL)
		return;
	g_free (spec->name);
	g_free (spec->profile);
	g_free (spec->image);
	g_free (spec->trunk_bridge);
	g_free (spec->vlans);
	g_free (spec->mgmt_network);
	g_free (spec->ssh_user);
	g_strfreev (spec->ssh_keys);
	g_strfreev (spec->hosts);
	g_free (spec->host);
	g_free (spec->user_data);
	g_clear_pointer (&spec->snapshots, g_ptr_array_unref);
	g_clear_pointer (&spec->retired, g_array_unref);
	g_clear_pointer (&spec->remote_nodes, g_hash_table_unref);
	g_free (spec);
}

static gchar **
node_names (NfPool *self)
{
	gchar **names = g_new0 (gchar *, self->nodes->len + 1);

	for (guint i = 0; i < self->nodes->len; i++)
		names[i] = g_strdup (nf_node_get_name (g_ptr_array_index (self->nodes, i)));
	return names;
}

static void
nf_pool_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfPool *self = NF_POOL (object);

	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string (value, self->spec->name);
		break;
	case PROP_PROFILE:
		g_value_set_string (value, self->spec->profile);
		break;
	case PROP_COUNT:
		g_value_set_uint (value, self->spec->count);
		break;
	case PROP_NODES:
		g_value_take_boxed (value, node_names (self));
		break;
	case PROP_STATE:
		g_value_set_string (value, nf_pool_state_to_string (self->state));
		break;
	case PROP_VCPUS:
		g_value_set_uint (value, self->spec->vcpus);
		break;
	case PROP_MEMORY_MIB:
		g_value_set_uint (value, self->spec->memory_mib);
		break;
	case PROP_IMAGE:
		g_value_set_string (value, self->spec->image);
		break;
	case PROP_TRUNK_BRIDGE:
		g_value_set_string (value, self->spec->trunk_bridge);
		break;
	case PROP_VLANS:
		g_value_set_string (value, self->spec->vlans);
		break;
	case PROP_N_SNAPSHOTS:
		g_value_set_uint (value, self->spec->snapshots->len);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_pool_finalize (GObject *object)
{
	NfPool *self = NF_POOL (object);

	nf_pool_spec_free (self->spec);
	g_ptr_array_unref (self->nodes);
	g_hash_table_unref (self->retired_hosts);
	G_OBJECT_CLASS (nf_pool_parent_class)->finalize (object);
}

static void
nf_pool_class_init (NfPoolClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

	object_class->get_property = nf_pool_get_property;
	object_class->finalize = nf_pool_finalize;

	props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "", ro);
	props[PROP_PROFILE] = g_param_spec_string ("profile", NULL, NULL, "", ro);
	props[PROP_COUNT] = g_param_spec_uint ("count", NULL, NULL, 0, G_MAXUINT, 0, ro);
	props[PROP_NODES] = g_param_spec_boxed ("nodes", NULL, NULL, G_TYPE_STRV, ro);
	props[PROP_STATE] = g_param_spec_string ("state",
						 NULL,
						 NULL,
						 nf_pool_state_to_string (NF_POOL_STATE_CREATING),
						 ro);
	props[PROP_VCPUS] = g_param_spec_uint ("vcpus", NULL, NULL, 0, G_MAXUINT, 0, ro);
	props[PROP_MEMORY_MIB] = g_param_spec_uint ("memory-mib", NULL, NULL, 0, G_MAXUINT, 0, ro);
	props[PROP_IMAGE] = g_param_spec_string ("image", NULL, NULL, "", ro);
	props[PROP_TRUNK_BRIDGE] = g_param_spec_string ("trunk-bridge", NULL, NULL, "", ro);
	props[PROP_VLANS] = g_param_spec_string ("vlans", NULL, NULL, "", ro);
	props[PROP_N_SNAPSHOTS] = g_param_spec_uint ("n-snapshots", NULL, NULL, 0, G_MAXUINT, 0, ro);
	g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
nf_pool_init (NfPool *self)
{
	self->state = NF_POOL_STATE_CREATING;
	self->nodes = g_ptr_array_new_with_free_func (g_object_unref);
	self->retired_hosts = g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

NfPool *
nf_pool_new (const NfPoolSpec *spec)
{
	NfPool *self;

	g_return_val_if_fail (spec != NULL && spec->name != NULL, NULL);

	self = g_object_new (NF_TYPE_POOL, NULL);
	self->spec = nf_pool_spec_copy (spec);
	return self;
}

const gchar *
nf_pool_get_name (NfPool *self)
{
	g_return_val_if_fail (NF_IS_POOL (self), NULL);
	return self->spec->name;
}

const NfPoolSpec *
nf_pool_get_spec (NfPool *self)
{
	g_return_val_if_fail (NF_IS_POOL (self), NULL);
	return self->spec;
}

void
nf_pool_set_count (NfPool *self, guint count)
{
	g_return_if_fail (NF_IS_POOL (self));
	if (self->spec->count == count)
		return;
	self->spec->count = count;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COUNT]);
}

NfPoolState
nf_pool_get_state (NfPool *self)
{
	g_return_val_if_fail (NF_IS_POOL (self), NF_POOL_STATE_FAILED);
	return self->state;
}

void
nf_pool_set_state (NfPool *self, NfPoolState state)
{
	g_return_if_fail (NF_IS_POOL (self));
	g_return_if_fail (state < NF_POOL_STATE_LAST);
	if (self->state == state)
		return;
	self->state = state;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

/* ready: every wanted node is there and running (or, for a pool made
 * without starting, there and stopped); stopped: every node stopped;
 * degraded: anything else (missing, crashed or mixed nodes). */
void
nf_pool_refresh_state (NfPool *self)
{
	guint running = 0, stopped = 0;

	g_return_if_fail (NF_IS_POOL (self));

	for (guint i = 0; i < self->nodes->len; i++) {
		NfNodeState state = nf_node_get_state (g_ptr_array_index (self->nodes, i));

		if (state == NF_NODE_STATE_RUNNING)
			running++;
		else if (state == NF_NODE_STATE_STOPPED)
			stopped++;
	}
	if (self->nodes->len == self->spec->count && running == self->nodes->len)
		nf_pool_set_state (self, NF_POOL_STATE_READY);
	else if (self->nodes->len > 0 && stopped == self->nodes->len)
		nf_pool_set_state (self, NF_POOL_STATE_STOPPED);
	else if (self->nodes->len == 0 && self->spec->count == 0)
		nf_pool_set_state (self, NF_POOL_STATE_READY);
	else
		nf_pool_set_state (self, NF_POOL_STATE_DEGRADED);
}

static gint
node_compare (gconstpointer a, gconstpointer b)
{
	guint ia = nf_node_get_index (*(NfNode **) a);
	guint ib = nf_node_get_index (*(NfNode **) b);

	return ia < ib ? -1 : ia > ib;
}

void
nf_pool_add_node (NfPool *self, NfNode *node)
{
	g_return_if_fail (NF_IS_POOL (self));
	g_return_if_fail (NF_IS_NODE (node));

	if (g_ptr_array_find (self->nodes, node, NULL))
		return;
	g_ptr_array_add (self->nodes, g_object_ref (node));
	g_ptr_array_sort (self->nodes, node_compare);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NODES]);
}

void
nf_pool_remove_node (NfPool *self, NfNode *node)
{
	g_return_if_fail (NF_IS_POOL (self));

	if (g_ptr_array_remove (self->nodes, node))
		g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NODES]);
}

NfNode *
nf_pool_get_node (NfPool *self, guint index)
{
	g_return_val_if_fail (NF_IS_POOL (self), NULL);

	for (guint i = 0; i < self->nodes->len; i++) {
		NfNode *node = g_ptr_array_index (self->nodes, i);

		if (nf_node_get_index (node) == index)
			return node;
	}
	return NULL;
}

GPtrArray *
nf_pool_get_nodes (NfPool *self)
{
	g_return_val_if_fail (NF_IS_POOL (self), NULL);
	return self->nodes;
}

guint
nf_pool_get_highest_index (NfPool *self)
{
	g_return_val_if_fail (NF_IS_POOL (self), 0);
	if (self->nodes->len == 0)
		return 0;
	return nf_node_get_index (g_ptr_array_index (self->nodes, self->nodes->len - 1));
}

void
nf_pool_add_snapshot (NfPool *self, NfPoolSnapshot *snapshot)
{
	g_return_if_fail (NF_IS_POOL (self));
	g_return_if_fail (nf_pool_find_snapshot (self, snapshot->name) == NULL);

	g_ptr_array_add (self->spec->snapshots, snapshot);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_SNAPSHOTS]);
}

void
nf_pool_remove_snapshot (NfPool *self, const gchar *name)
{
	NfPoolSnapshot *snapshot;

	g_return_if_fail (NF_IS_POOL (self));

	snapshot = nf_pool_find_snapshot (self, name);
	if (snapshot == NULL)
		return;
	g_ptr_array_remove (self->spec->snapshots, snapshot);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_SNAPSHOTS]);
}

NfPoolSnapshot *
nf_pool_find_snapshot (NfPool *self, const gchar *name)
{
	g_return_val_if_fail (NF_IS_POOL (self), NULL);

	for (guint i = 0; i < self->spec->snapshots->len; i++) {
		NfPoolSnapshot *snapshot = g_ptr_array_index (self->spec->snapshots, i);

		if (g_strcmp0 (snapshot->name, name) == 0)
			return snapshot;
	}
	return NULL;
}

NfPoolSnapshot *
nf_pool_find_snapshot_holding (NfPool *self, guint index)
{
	g_return_val_if_fail (NF_IS_POOL (self), NULL);

	return nf_pool_snapshot_find_holding (self->spec->snapshots, index);
}

NfPoolSnapshot *
nf_pool_snapshot_find_holding (GPtrArray *snapshots, guint index)
{
	for (guint i = 0; snapshots != NULL && i < snapshots->len; i++) {
		NfPoolSnapshot *snapshot = g_ptr_array_index (snapshots, i);

		if (nf_pool_snapshot_holds (snapshot, index))
			return snapshot;
	}
	return NULL;
}

static gint
retired_at (NfPool *self, guint index)
{
	for (guint i = 0; i < self->spec->retired->len; i++)
		if (g_array_index (self->spec->retired, guint, i) == index)
			return (gint) i;
	return -1;
}

gboolean
nf_pool_is_retired (NfPool *self, guint index)
{
	g_return_val_if_fail (NF_IS_POOL (self), FALSE);
	return retired_at (self, index) >= 0;
}

void
nf_pool_spec_add_retired (NfPoolSpec *spec, guint index)
{
	guint at = 0;

	while (at < spec->retired->len && g_array_index (spec->retired, guint, at) < index)
		at++;
	if (at == spec->retired->len || g_array_index (spec->retired, guint, at) != index)
		g_array_insert_val (spec->retired, at, index);
}

void
nf_pool_add_retired (NfPool *self, guint index, const gchar *host)
{
	g_return_if_fail (NF_IS_POOL (self));
	nf_pool_spec_add_retired (self->spec, index);
	if (host == NULL || g_str_equal (host, NF_HOST_LOCAL))
		g_hash_table_remove (self->retired_hosts, GUINT_TO_POINTER (index));
	else
		g_hash_table_replace (self->retired_hosts, GUINT_TO_POINTER (index), g_strdup (host));
}

const gchar *
nf_pool_get_retired_host (NfPool *self, guint index)
{
	const gchar *host;

	g_return_val_if_fail (NF_IS_POOL (self), NF_HOST_LOCAL);
	host = g_hash_table_lookup (self->retired_hosts, GUINT_TO_POINTER (index));
	return host != NULL ? host : NF_HOST_LOCAL;
}

void
nf_pool_clear_retired (NfPool *self, const gchar *host)
{
	g_return_if_fail (NF_IS_POOL (self));
	for (guint i = 0; i < self->spec->retired->len; i++) {
		guint index = g_array_index (self->spec->retired, guint, i);

		if (!g_str_equal (nf_pool_get_retired_host (self, index), host))
			continue;
		g_hash_table_remove (self->retired_hosts, GUINT_TO_POINTER (index));
		g_array_remove_index (self->spec->retired, i--);
	}
}

void
nf_pool_note_remote_nodes (NfPool *self)
{
	g_return_if_fail (NF_IS_POOL (self));
	g_hash_table_remove_all (self->spec->remote_nodes);
	for (guint i = 0; i < self->nodes->len; i++) {
		NfNode *node = g_ptr_array_index (self->nodes, i);

		if (!g_str_equal (nf_node_get_host (node), NF_HOST_LOCAL))
			g_hash_table_insert (self->spec->remote_nodes,
					     GUINT_TO_POINTER (nf_node_get_index (node)),
					     g_strdup (nf_node_get_host (node)));
	}
}

void
nf_pool_remove_retired (NfPool *self, guint index)
{
	gint at;

	g_return_if_fail (NF_IS_POOL (self));
	at = retired_at (self, index);
	if (at >= 0)
		g_array_remove_index (self->spec->retired, (guint) at);
	g_hash_table_remove (self->retired_hosts, GUINT_TO_POINTER (index));
}
