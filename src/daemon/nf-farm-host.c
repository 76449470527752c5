/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-farm-host"

#include "config.h"

#include "nf-farm-host.h"

/* NfFarmHost: one libvirt host of the farm as the daemon reports it: its
 * URI and state, what its probe found, its nodes and their memory. */

struct _NfFarmHost {
	GObject parent_instance;
	gchar *name;
	gchar *uri;
	NfHostState state;  /* shown: offline while unreachable, else @admin */
	gboolean reachable; /* its connection answers */
	NfHostState admin;  /* a user's: online (active), draining, maintenance */
	gchar *accelerator;
	gchar *nested_feature;
	gchar *cpu_model;
	gchar *host_cpu; /* its host-model CPU description, NULL: unknown */
	gchar *peer_uri; /* its libvirt as the other hosts' reach it, NULL: its URI */
	guint64 memory_total_mib;
	guint64 memory_committed_mib;
	GPtrArray *nodes; /* NfNode, by pool name and index */
	NfEngine *engine; /* what works on it; NULL until it was set up */
};

enum {
	PROP_0,
	PROP_NAME,
	PROP_URI,
	PROP_STATE,
	PROP_ACCELERATOR,
	PROP_NESTED_FEATURE,
	PROP_CPU_MODEL,
	PROP_MEMORY_TOTAL_MIB,
	PROP_MEMORY_COMMITTED_MIB,
	PROP_NODES,
	N_PROPS
};
static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE (NfFarmHost, nf_farm_host, G_TYPE_OBJECT)

static void
nf_farm_host_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfFarmHost *self = NF_FARM_HOST (object);

	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string (value, self->name);
		break;
	case PROP_URI:
		g_value_set_string (value, self->uri);
		break;
	case PROP_STATE:
		g_value_set_string (value, nf_host_state_to_string (self->state));
		break;
	case PROP_ACCELERATOR:
		g_value_set_string (value, self->accelerator);
		break;
	case PROP_NESTED_FEATURE:
		g_value_set_string (value, self->nested_feature);
		break;
	case PROP_CPU_MODEL:
		g_value_set_string (value, self->cpu_model);
		break;
	case PROP_MEMORY_TOTAL_MIB:
		g_value_set_uint64 (value, self->memory_total_mib);
		break;
	case PROP_MEMORY_COMMITTED_MIB:
		g_value_set_uint64 (value, self->memory_committed_mib);
		break;
	case PROP_NODES:
		g_value_set_boxed (value, self->nodes);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_farm_host_finalize (GObject *object)
{
	NfFarmHost *self = NF_FARM_HOST (object);

	g_free (self->name);
	g_free (self->uri);
	g_free (self->accelerator);
	g_free (self->nested_feature);
	g_free (self->cpu_model);
	g_free (self->host_cpu);
	g_free (self->peer_uri);
	g_ptr_array_unref (self->nodes);
	g_clear_object (&self->engine);
	G_OBJECT_CLASS (nf_farm_host_parent_class)->finalize (object);
}

static void
nf_farm_host_class_init (NfFarmHostClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

	object_class->get_property = nf_farm_host_get_property;
	object_class->finalize = nf_farm_host_finalize;

	props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "", ro);
	props[PROP_URI] = g_param_spec_string ("uri", NULL, NULL, "", ro);
	props[PROP_STATE] =
		g_param_spec_string ("state", NULL, NULL, nf_host_state_to_string (NF_HOST_STATE_OFFLINE), ro);
	props[PROP_ACCELERATOR] = g_param_spec_string ("accelerator", NULL, NULL, "", ro);
	props[PROP_NESTED_FEATURE] = g_param_spec_string ("nested-feature", NULL, NULL, "", ro);
	props[PROP_CPU_MODEL] = g_param_spec_string ("cpu-model", NULL, NULL, "", ro);
	props[PROP_MEMORY_TOTAL_MIB] =
		g_param_spec_uint64 ("memory-total-mib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
	props[PROP_MEMORY_COMMITTED_MIB] =
		g_param_spec_uint64 ("memory-committed-mib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
	props[PROP_NODES] = g_param_spec_boxed ("nodes", NULL, NULL, G_TYPE_PTR_ARRAY, ro);
	g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
nf_farm_host_init (NfFarmHost *self)
{
	/* Offline until its connection is known to answer. */
	self->state = NF_HOST_STATE_OFFLINE;
	self->admin = NF_HOST_STATE_ONLINE;
	self->accelerator = g_strdup ("");
	self->nested_feature = g_strdup ("");
	self->cpu_model = g_strdup ("");
	self->nodes = g_ptr_array_new_with_free_func (g_object_unref);
}

NfFarmHost *
nf_farm_host_new (const gchar *name, const gchar *uri)
{
	NfFarmHost *self = g_object_new (NF_TYPE_FARM_HOST, NULL);

	self->name = g_strdup (name);
	self->uri = g_strdup (uri != NULL ? uri : "");
	return self;
}

const gchar *
nf_farm_host_get_name (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->name;
}

const gchar *
nf_farm_host_get_uri (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->uri;
}

void
nf_farm_host_set_peer_uri (NfFarmHost *self, const gchar *peer_uri)
{
	g_return_if_fail (NF_IS_FARM_HOST (self));
	g_free (self->peer_uri);
	self->peer_uri = g_strdup (peer_uri);
}

const gchar *
nf_farm_host_get_peer_uri (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->peer_uri;
}

NfHostState
nf_farm_host_get_state (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NF_HOST_STATE_OFFLINE);
	return self->state;
}

static void
update_state (NfFarmHost *self)
{
	NfHostState state = self->reachable ? self->admin : NF_HOST_STATE_OFFLINE;

	if (self->state == state)
		return;
	self->state = state;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

void
nf_farm_host_set_reachable (NfFarmHost *self, gboolean reachable)
{
	g_return_if_fail (NF_IS_FARM_HOST (self));
	self->reachable = reachable;
	update_state (self);
}

gboolean
nf_farm_host_get_reachable (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), FALSE);
	return self->reachable;
}

void
nf_farm_host_set_admin (NfFarmHost *self, NfHostState admin)
{
	g_return_if_fail (NF_IS_FARM_HOST (self));
	g_return_if_fail (admin != NF_HOST_STATE_OFFLINE && admin < NF_HOST_STATE_LAST);
	self->admin = admin;
	update_state (self);
}

NfHostState
nf_farm_host_get_admin (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NF_HOST_STATE_ONLINE);
	return self->admin;
}

const gchar *
nf_farm_host_get_accelerator (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->accelerator;
}

const gchar *
nf_farm_host_get_nested_feature (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->nested_feature;
}

const gchar *
nf_farm_host_get_cpu_model (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->cpu_model;
}

guint64
nf_farm_host_get_memory_total_mib (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), 0);
	return self->memory_total_mib;
}

static void
set_string (NfFarmHost *self, gchar **field, const gchar *value, guint prop)
{
	if (value == NULL)
		value = "";
	if (g_strcmp0 (*field, value) == 0)
		return;
	g_free (*field);
	*field = g_strdup (value);
	g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

void
nf_farm_host_set_facts (NfFarmHost *self, const NfHostInfo *info)
{
	g_return_if_fail (NF_IS_FARM_HOST (self));
	g_return_if_fail (info != NULL);
	set_string (self, &self->accelerator, nf_accel_to_string (info->accel), PROP_ACCELERATOR);
	set_string (self, &self->nested_feature, info->feature, PROP_NESTED_FEATURE);
	/* before the model's notify: the baseline follows that */
	g_free (self->host_cpu);
	self->host_cpu = g_strdup (info->host_cpu);
	set_string (self, &self->cpu_model, info->cpu_model, PROP_CPU_MODEL);
	if (self->memory_total_mib != info->memory_total_mib) {
		self->memory_total_mib = info->memory_total_mib;
		g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_TOTAL_MIB]);
	}
}

const gchar *
nf_farm_host_get_host_cpu (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->host_cpu;
}

guint64
nf_farm_host_get_memory_committed_mib (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), 0);
	return self->memory_committed_mib;
}

void
nf_farm_host_refresh_memory (NfFarmHost *self)
{
	guint64 total = 0;

	g_return_if_fail (NF_IS_FARM_HOST (self));
	for (guint i = 0; i < self->nodes->len; i++) {
		NfNode *node = g_ptr_array_index (self->nodes, i);

		if (nf_node_holds_memory (node))
			total += nf_node_get_memory_mib (node);
	}
	if (total == self->memory_committed_mib)
		return;
	self->memory_committed_mib = total;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_COMMITTED_MIB]);
}

GPtrArray *
nf_farm_host_get_nodes (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->nodes;
}

/* Where @node goes in the sorted list (binary search: a farm's host may
 * hold a thousand nodes, added one by one). */
static guint
insertion_point (NfFarmHost *self, NfNode *node)
{
	guint low = 0, high = self->nodes->len;

	while (low < high) {
		guint mid = low + (high - low) / 2;

		if (nf_node_compare (g_ptr_array_index (self->nodes, mid), node) < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

void
nf_farm_host_add_node (NfFarmHost *self, NfNode *node)
{
	guint at;

	g_return_if_fail (NF_IS_FARM_HOST (self));
	g_return_if_fail (NF_IS_NODE (node));
	at = insertion_point (self, node);
	if (at < self->nodes->len && g_ptr_array_index (self->nodes, at) == node)
		return;
	g_ptr_array_insert (self->nodes, (gint) at, g_object_ref (node));
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NODES]);
	nf_farm_host_refresh_memory (self);
}

void
nf_farm_host_remove_node (NfFarmHost *self, NfNode *node)
{
	g_return_if_fail (NF_IS_FARM_HOST (self));
	if (!g_ptr_array_remove (self->nodes, node))
		return;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NODES]);
	nf_farm_host_refresh_memory (self);
}

NfEngine *
nf_farm_host_get_engine (NfFarmHost *self)
{
	g_return_val_if_fail (NF_IS_FARM_HOST (self), NULL);
	return self->engine;
}

void
nf_farm_host_set_engine (NfFarmHost *self, NfEngine *engine)
{
	g_return_if_fail (NF_IS_FARM_HOST (self));
	g_set_object (&self->engine, engine);
}
