/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-node"

#include "config.h"

#include "nestfarm/nf-names.h"
#include "nf-node.h"

/* NfNode: one node as the daemon reports it: its host, state, whether its domain is
 * active, domain UUID, overlay, console log, MACs and memory. */

struct _NfNode {
	GObject parent_instance;
	gchar *name;
	gchar *pool;
	guint index;
	gchar *host;
	NfNodeState state;
	gboolean domain_active; /* running or paused, as libvirt says */
	gchar *domain_uuid;
	gchar *overlay;
	gchar *console_log;
	gchar **macs;
	gchar **addresses;
	gboolean ready;
	gboolean moving; /* a move runs: its domain's events are the move's */
	NfNesting nesting;
	guint memory_mib;
};

enum {
	PROP_0,
	PROP_NAME,
	PROP_POOL,
	PROP_INDEX,
	PROP_HOST,
	PROP_STATE,
	PROP_DOMAIN_ACTIVE,
	PROP_DOMAIN_UUID,
	PROP_OVERLAY,
	PROP_CONSOLE_LOG,
	PROP_MACS,
	PROP_ADDRESSES,
	PROP_READY,
	PROP_NESTING,
	PROP_MEMORY_MIB,
	N_PROPS
};
static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE (NfNode, nf_node, G_TYPE_OBJECT)

static void
nf_node_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfNode *self = NF_NODE (object);

	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string (value, self->name);
		break;
	case PROP_POOL:
		g_value_set_string (value, self->pool);
		break;
	case PROP_INDEX:
		g_value_set_uint (value, self->index);
		break;
	case PROP_HOST:
		g_value_set_string (value, self->host);
		break;
	case PROP_STATE:
		g_value_set_string (value, nf_node_state_to_string (self->state));
		break;
	case PROP_DOMAIN_ACTIVE:
		g_value_set_boolean (value, self->domain_active);
		break;
	case PROP_DOMAIN_UUID:
		g_value_set_string (value, self->domain_uuid);
		break;
	case PROP_OVERLAY:
		g_value_set_string (value, self->overlay);
		break;
	case PROP_CONSOLE_LOG:
		g_value_set_string (value, self->console_log);
		break;
	case PROP_MACS:
		g_value_set_boxed (value, self->macs);
		break;
	case PROP_ADDRESSES:
		g_value_set_boxed (value, self->addresses);
		break;
	case PROP_READY:
		g_value_set_boolean (value, self->ready);
		break;
	case PROP_NESTING:
		g_value_set_string (value, nf_nesting_to_string (self->nesting));
		break;
	case PROP_MEMORY_MIB:
		g_value_set_uint (value, self->memory_mib);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_node_finalize (GObject *object)
{
	NfNode *self = NF_NODE (object);

	g_free (self->name);
	g_free (self->pool);
	g_free (self->host);
	g_free (self->domain_uuid);
	g_free (self->overlay);
	g_free (self->console_log);
	g_strfreev (self->macs);
	g_strfreev (self->addresses);
	G_OBJECT_CLASS (nf_node_parent_class)->finalize (object);
}

static void
nf_node_class_init (NfNodeClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

	object_class->get_property = nf_node_get_property;
	object_class->finalize = nf_node_finalize;

	props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "", ro);
	props[PROP_POOL] = g_param_spec_string ("pool", NULL, NULL, "", ro);
	props[PROP_INDEX] = g_param_spec_uint ("index", NULL, NULL, 0, G_MAXUINT, 0, ro);
	props[PROP_HOST] = g_param_spec_string ("host", NULL, NULL, NF_HOST_LOCAL, ro);
	props[PROP_STATE] = g_param_spec_string ("state",
						 NULL,
						 NULL,
						 nf_node_state_to_string (NF_NODE_STATE_CREATING),
						 ro);
	props[PROP_DOMAIN_ACTIVE] = g_param_spec_boolean ("domain-active", NULL, NULL, FALSE, ro);
	props[PROP_DOMAIN_UUID] = g_param_spec_string ("domain-uuid", NULL, NULL, "", ro);
	props[PROP_OVERLAY] = g_param_spec_string ("overlay", NULL, NULL, "", ro);
	props[PROP_CONSOLE_LOG] = g_param_spec_string ("console-log", NULL, NULL, "", ro);
	props[PROP_MACS] = g_param_spec_boxed ("macs", NULL, NULL, G_TYPE_STRV, ro);
	props[PROP_ADDRESSES] = g_param_spec_boxed ("addresses", NULL, NULL, G_TYPE_STRV, ro);
	props[PROP_READY] = g_param_spec_boolean ("ready", NULL, NULL, FALSE, ro);
	props[PROP_NESTING] =
		g_param_spec_string ("nesting", NULL, NULL, nf_nesting_to_string (NF_NESTING_UNKNOWN), ro);
	props[PROP_MEMORY_MIB] = g_param_spec_uint ("memory-mib", NULL, NULL, 0, G_MAXUINT, 0, ro);
	g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
nf_node_init (NfNode *self)
{
	self->state = NF_NODE_STATE_CREATING;
	self->host = g_strdup (NF_HOST_LOCAL);
	self->domain_uuid = g_strdup ("");
	self->overlay = g_strdup ("");
	self->console_log = g_strdup ("");
	self->macs = g_new0 (gchar *, 1);
	self->addresses = g_new0 (gchar *, 1);
}

NfNode *
nf_node_new (const gchar *pool, guint index)
{
	NfNode *self = g_object_new (NF_TYPE_NODE, NULL);

	self->pool = g_strdup (pool);
	self->index = index;
	self->name = nf_node_name_build (pool, index);
	return self;
}

/* Sets *@field to @value and notifies @prop when it changed. */
static void
set_string (NfNode *self, gchar **field, const gchar *value, guint prop)
{
	if (value == NULL)
		value = "";
	if (g_strcmp0 (*field, value) == 0)
		return;
	g_free (*field);
	*field = g_strdup (value);
	g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

const gchar *
nf_node_get_name (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return self->name;
}

const gchar *
nf_node_get_pool (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return self->pool;
}

guint
nf_node_get_index (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), 0);
	return self->index;
}

gint
nf_node_compare (NfNode *a, NfNode *b)
{
	gint by_pool = g_strcmp0 (a->pool, b->pool);

	if (by_pool != 0)
		return by_pool;
	return a->index < b->index ? -1 : a->index > b->index;
}

const gchar *
nf_node_get_host (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return self->host;
}

void
nf_node_set_host (NfNode *self, const gchar *host)
{
	g_return_if_fail (NF_IS_NODE (self));
	g_return_if_fail (host != NULL && host[0] != '\0');
	set_string (self, &self->host, host, PROP_HOST);
}

NfNodeState
nf_node_get_state (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NF_NODE_STATE_FAILED);
	return self->state;
}

void
nf_node_set_state (NfNode *self, NfNodeState state)
{
	g_return_if_fail (NF_IS_NODE (self));
	g_return_if_fail (state < NF_NODE_STATE_LAST);
	if (self->state == state)
		return;
	self->state = state;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

gboolean
nf_node_get_domain_active (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), FALSE);
	return self->domain_active;
}

void
nf_node_set_domain_active (NfNode *self, gboolean active)
{
	g_return_if_fail (NF_IS_NODE (self));
	active = !!active;
	if (self->domain_active == active)
		return;
	self->domain_active = active;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DOMAIN_ACTIVE]);
}

const gchar *
nf_node_get_domain_uuid (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return self->domain_uuid;
}

void
nf_node_set_domain_uuid (NfNode *self, const gchar *uuid)
{
	g_return_if_fail (NF_IS_NODE (self));
	set_string (self, &self->domain_uuid, uuid, PROP_DOMAIN_UUID);
}

const gchar *
nf_node_get_overlay (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return self->overlay;
}

void
nf_node_set_overlay (NfNode *self, const gchar *overlay)
{
	g_return_if_fail (NF_IS_NODE (self));
	set_string (self, &self->overlay, overlay, PROP_OVERLAY);
}

const gchar *
nf_node_get_console_log (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return self->console_log;
}

void
nf_node_set_console_log (NfNode *self, const gchar *path)
{
	g_return_if_fail (NF_IS_NODE (self));
	set_string (self, &self->console_log, path, PROP_CONSOLE_LOG);
}

const gchar *const *
nf_node_get_macs (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return (const gchar *const *) self->macs;
}

void
nf_node_set_macs (NfNode *self, const gchar *const *macs)
{
	const gchar *const empty[] = {NULL};

	g_return_if_fail (NF_IS_NODE (self));
	if (macs == NULL)
		macs = empty;
	if (g_strv_equal ((const gchar *const *) self->macs, macs))
		return;
	g_strfreev (self->macs);
	self->macs = g_strdupv ((gchar **) macs);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MACS]);
}

gboolean
nf_node_get_moving (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), FALSE);
	return self->moving;
}

void
nf_node_set_moving (NfNode *self, gboolean moving)
{
	g_return_if_fail (NF_IS_NODE (self));
	self->moving = moving;
}

gboolean
nf_node_get_ready (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), FALSE);
	return self->ready;
}

void
nf_node_set_ready (NfNode *self, gboolean ready)
{
	g_return_if_fail (NF_IS_NODE (self));
	ready = !!ready;
	if (self->ready == ready)
		return;
	self->ready = ready;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_READY]);
}

NfNesting
nf_node_get_nesting (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NF_NESTING_UNKNOWN);
	return self->nesting;
}

void
nf_node_set_nesting (NfNode *self, NfNesting nesting)
{
	g_return_if_fail (NF_IS_NODE (self));
	g_return_if_fail (nesting < NF_NESTING_LAST);
	if (self->nesting == nesting)
		return;
	self->nesting = nesting;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NESTING]);
}

const gchar *const *
nf_node_get_addresses (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), NULL);
	return (const gchar *const *) self->addresses;
}

void
nf_node_set_addresses (NfNode *self, const gchar *const *addresses)
{
	const gchar *const empty[] = {NULL};

	g_return_if_fail (NF_IS_NODE (self));
	if (addresses == NULL)
		addresses = empty;
	if (g_strv_equal ((const gchar *const *) self->addresses, addresses))
		return;
	g_strfreev (self->addresses);
	self->addresses = g_strdupv ((gchar **) addresses);
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ADDRESSES]);
}

guint
nf_node_get_memory_mib (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), 0);
	return self->memory_mib;
}

void
nf_node_set_memory_mib (NfNode *self, guint memory_mib)
{
	g_return_if_fail (NF_IS_NODE (self));
	if (self->memory_mib == memory_mib)
		return;
	self->memory_mib = memory_mib;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MEMORY_MIB]);
}

gboolean
nf_node_holds_memory (NfNode *self)
{
	g_return_val_if_fail (NF_IS_NODE (self), FALSE);
	/* Creating: admitted, and its domain may start any moment. */
	return self->domain_active || self->state == NF_NODE_STATE_CREATING;
}
