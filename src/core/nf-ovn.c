/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-ovn"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-ovn.h"
#include "nf-ovsdb-private.h"

/* OVN's northbound database, written through the same OVSDB client that
 * speaks to this machine's Open vSwitch (RFC 7047 is one protocol): the
 * logical switch of each pool and the port of each node's trunk NIC,
 * tagged as nestfarm's. */

#define NF_OVN_DATABASE "OVN_Northbound"
#define KEY_INSTANCE    "nestfarm-instance"
#define KEY_POOL        "nestfarm-pool"
#define KEY_NODE        "nestfarm-node"
#define SWITCH_TABLE    "Logical_Switch"
#define PORT_TABLE      "Logical_Switch_Port"
#define ACL_TABLE       "ACL"
/* above OVN's own defaults, below what a user may add by hand */
#define NF_OVN_ACL_PRIORITY 1000

struct _NfOvn {
	gchar *northbound;
	gchar *instance; /* "" for the default instance */
	guint timeout_ms;
};

NfOvn *
nf_ovn_new (const gchar *northbound, const gchar *instance, guint timeout_ms)
{
	NfOvn *self = g_new0 (NfOvn, 1);

	g_return_val_if_fail (northbound != NULL, NULL);
	self->northbound = g_strdup (northbound);
	self->instance = g_strdup (instance != NULL ? instance : "");
	self->timeout_ms = timeout_ms;
	return self;
}

void
nf_ovn_free (NfOvn *self)
{
	if (self == NULL)
		return;
	g_free (self->northbound);
	g_free (self->instance);
	g_free (self);
}

gchar *
nf_ovn_port_name (const gchar *instance, const gchar *pool, guint index)
{
	g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
	g_autofree gchar *input =
		g_strdup_printf ("nestfarm-port/1\n%s\n%s\n%u", instance != NULL ? instance : "", pool, index);
	guint8 d[32];
	gsize len = sizeof (d);

	g_checksum_update (checksum, (const guchar *) input, -1);
	g_checksum_get_digest (checksum, d, &len);
	/* an RFC 4122 UUID of version 4's form (a name-based one, in truth) */
	d[6] = (guint8) ((d[6] & 0x0f) | 0x40);
	d[8] = (guint8) ((d[8] & 0x3f) | 0x80);
	return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
				d[0],
				d[1],
				d[2],
				d[3],
				d[4],
				d[5],
				d[6],
				d[7],
				d[8],
				d[9],
				d[10],
				d[11],
				d[12],
				d[13],
				d[14],
				d[15]);
}

/* external_ids includes {instance, and @key = @value when given}. */
static JsonNode *
tagged (NfOvn *self, const gchar *key, const gchar *value)
{
	const gchar *pairs[] = {KEY_INSTANCE, self->instance, key, value, NULL};

	if (key == NULL)
		pairs[2] = NULL;
	return nf_ovsdb_condition_new ("external_ids", "includes", nf_ovsdb_string_map_new (pairs));
}

static JsonNode *
run (NfOvn *self, JsonArray *ops, const gchar *doing, GError **error)
{
	g_autoptr (NfOvsdbClient) client =
		nf_ovsdb_client_connect (self->northbound, self->timeout_ms, error);
	JsonNode *result;

	if (client == NULL) {
		g_prefix_error (error, "Cannot reach OVN's northbound database to %s: ", doing);
		return NULL;
	}
	nf_ovsdb_add_comment (ops, "nestfarmd");
	result = nf_ovsdb_client_transact_in (client, NF_OVN_DATABASE, ops, NULL, error);
	if (result == NULL)
		g_prefix_error (error, "OVN's northbound database refused to %s: ", doing);
	return result;
}

/* The rows of @table matching @condition (only their uuids and @column). */
static JsonArray *
select_rows (NfOvn *self,
	     const gchar *table,
	     JsonNode *condition,
	     const gchar *column,
	     JsonNode **result,
	     const gchar *doing,
	     GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	const gchar *columns[] = {"_uuid", column, NULL};
	guint at = nf_ovsdb_add_select (ops, table, condition, columns);

	*result = run (self, ops, doing, error);
	if (*result == NULL)
		return NULL;
	return nf_ovsdb_result_rows (*result, at, error);
}

static gchar *
switch_name (NfOvn *self, const gchar *pool)
{
	if (self->instance[0] == '\0')
		return g_strdup_printf ("nf-%s", pool);
	return g_strdup_printf ("nf-%s-%s", self->instance, pool);
}

gchar *
nf_ovn_vlan_match (const NfVlanSet *vlans)
{
	g_autoptr (GArray) tags = nf_vlan_set_to_array (vlans);
	g_autoptr (GString) singles = g_string_new (NULL);
	g_autoptr (GString) terms = g_string_new (NULL);
	guint n_singles = 0;

	for (guint i = 0; i < tags->len;) {
		guint lo = g_array_index (tags, guint, i);
		guint hi = lo;

		while (i + 1 < tags->len && g_array_index (tags, guint, i + 1) == hi + 1)
			hi = g_array_index (tags, guint, ++i);
		i++;
		if (lo == hi) {
			g_string_append_printf (singles, "%s%u", n_singles++ > 0 ? ", " : "", lo);
			continue;
		}
		g_string_append_printf (terms,
					"%s(vlan.vid >= %u && vlan.vid <= %u)",
					terms->len > 0 ? " || " : "",
					lo,
					hi);
	}
	if (n_singles > 0)
		g_string_append_printf (terms,
					"%svlan.vid == %s%s%s",
					terms->len > 0 ? " || " : "",
					n_singles > 1 ? "{" : "",
					singles->str,
					n_singles > 1 ? "}" : "");
	return g_strdup_printf ("vlan.present && (%s)", terms->str);
}

/* One ACL row of @pool's filter, inserted as @uuid_name. */
static void
add_acl (NfOvn *self,
	 JsonArray *ops,
	 const gchar *pool,
	 const gchar *uuid_name,
	 const gchar *direction,
	 gint64 priority,
	 const gchar *match,
	 const gchar *action)
{
	const gchar *ids[] = {KEY_INSTANCE, self->instance, KEY_POOL, pool, NULL};
	JsonObject *row = json_object_new ();

	json_object_set_string_member (row, "direction", direction);
	json_object_set_member (row, "priority", nf_ovsdb_int_new (priority));
	json_object_set_string_member (row, "match", match);
	json_object_set_string_member (row, "action", action);
	json_object_set_member (row, "external_ids", nf_ovsdb_string_map_new (ids));
	nf_ovsdb_add_insert (ops, ACL_TABLE, uuid_name, row);
}

/* A VLAN list is the filter an OVS trunk port's VLAN list is: in each
 * direction, frames tagged with one of them pass (stateless: no
 * conntrack), every other frame, untagged too, is dropped. The ACL rows'
 * named uuids are added to @acls. */
static void
add_vlan_filter (NfOvn *self, JsonArray *ops, const gchar *pool, const NfVlanSet *vlans, JsonArray *acls)
{
	g_autofree gchar *match = nf_ovn_vlan_match (vlans);
	const gchar *directions[] = {"from-lport", "to-lport"};

	for (guint i = 0; i < G_N_ELEMENTS (directions); i++) {
		g_autofree gchar *pass = g_strdup_printf ("acl_pass_%u", i);
		g_autofree gchar *drop = g_strdup_printf ("acl_drop_%u", i);

		add_acl (self,
			 ops,
			 pool,
			 pass,
			 directions[i],
			 NF_OVN_ACL_PRIORITY + 1,
			 match,
			 "allow-stateless");
		add_acl (self, ops, pool, drop, directions[i], NF_OVN_ACL_PRIORITY, "1", "drop");
		json_array_add_element (acls, nf_ovsdb_named_uuid_new (pass));
		json_array_add_element (acls, nf_ovsdb_named_uuid_new (drop));
	}
}

gboolean
nf_ovn_ensure_switch (NfOvn *self, const gchar *pool, const NfVlanSet *vlans, GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autofree gchar *name = switch_name (self, pool);
	g_autofree gchar *doing = g_strdup_printf ("make the logical switch of pool %s", pool);
	const gchar *ids[] = {KEY_INSTANCE, self->instance, KEY_POOL, pool, NULL};
	const gchar *config[] = {"vlan-passthru", "true", NULL};
	JsonArray *rows =
		select_rows (self, SWITCH_TABLE, tagged (self, KEY_POOL, pool), "name", &result, doing, error);
	JsonArray *acls;
	JsonObject *row;

	if (rows == NULL)
		return FALSE;
	acls = json_array_new ();
	if (vlans != NULL && !nf_vlan_set_is_all (vlans))
		add_vlan_filter (self, ops, pool, vlans, acls);
	/* there (a rollback that could not remove it, a step done again): its
	 * filter made the pool's as it is now; the old ACLs, no longer held,
	 * go */
	if (json_array_get_length (rows) > 0) {
		g_autofree gchar *uuid = nf_ovsdb_row_uuid (json_array_get_object_element (rows, 0), error);
		JsonObject *op;

		if (uuid == NULL) {
			json_array_unref (acls);
			return FALSE;
		}
		op = nf_ovsdb_op_add (ops,
				      "update",
				      SWITCH_TABLE,
				      nf_ovsdb_condition_new ("_uuid", "==", nf_ovsdb_uuid_new (uuid)));
		row = json_object_new ();
		json_object_set_member (row, "acls", nf_ovsdb_set_new (acls));
		json_object_set_member (row, "other_config", nf_ovsdb_string_map_new (config));
		json_object_set_object_member (op, "row", row);
		g_clear_pointer (&result, json_node_unref);
		result = run (self, ops, doing, error);
		return result != NULL;
	}
	/* none, still, when it is made: two makers make one */
	nf_ovsdb_add_wait (ops, SWITCH_TABLE, tagged (self, KEY_POOL, pool), "name", NULL);
	row = json_object_new ();
	json_object_set_string_member (row, "name", name);
	json_object_set_member (row, "external_ids", nf_ovsdb_string_map_new (ids));
	json_object_set_member (row, "other_config", nf_ovsdb_string_map_new (config));
	json_object_set_member (row, "acls", nf_ovsdb_set_new (acls));
	nf_ovsdb_add_insert (ops, SWITCH_TABLE, "switch", row);
	g_clear_pointer (&result, json_node_unref);
	result = run (self, ops, doing, error);
	return result != NULL;
}

gboolean
nf_ovn_add_port (NfOvn *self, const gchar *pool, const gchar *node, const gchar *port, GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autofree gchar *doing = g_strdup_printf ("add the trunk port of node %s", node);
	const gchar *ids[] = {KEY_INSTANCE, self->instance, KEY_NODE, node, NULL};
	const gchar *unknown[] = {"unknown", NULL};
	JsonArray *rows = select_rows (self,
				       PORT_TABLE,
				       nf_ovsdb_condition_new ("name", "==", nf_ovsdb_string_new (port)),
				       "external_ids",
				       &result,
				       doing,
				       error);
	JsonObject *row;
	JsonObject *op;
	gint64 count = 0;

	if (rows == NULL)
		return FALSE;
	if (json_array_get_length (rows) > 0)
		return TRUE;
	row = json_object_new ();
	json_object_set_string_member (row, "name", port);
	json_object_set_member (row, "addresses", nf_ovsdb_string_set_new (unknown));
	json_object_set_member (row, "external_ids", nf_ovsdb_string_map_new (ids));
	nf_ovsdb_add_insert (ops, PORT_TABLE, "port", row);
	/* a set of one is its element */
	op = nf_ovsdb_op_add (ops, "mutate", SWITCH_TABLE, tagged (self, KEY_POOL, pool));
	nf_ovsdb_op_add_mutation (op, "ports", "insert", nf_ovsdb_named_uuid_new ("port"));
	g_clear_pointer (&result, json_node_unref);
	result = run (self, ops, doing, error);
	if (result == NULL || !nf_ovsdb_result_count (result, 1, &count, error))
		return FALSE;
	/* a port no switch holds is not kept: the switch must be there */
	if (count != 1) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_OPENVSWITCH,
			     "Pool %s has no logical switch in OVN's northbound database (or %" G_GINT64_FORMAT
			     "); its port for node %s was not made.",
			     pool,
			     count,
			     node);
		return FALSE;
	}
	return TRUE;
}

/* The uuids of our rows of @table that @condition (with the instance tag)
 * matches. */
static GPtrArray *
owned_uuids (NfOvn *self,
	     const gchar *table,
	     JsonNode *condition,
	     const gchar *key,
	     const gchar *value,
	     const gchar *doing,
	     GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
	const gchar *columns[] = {"_uuid", NULL};
	JsonObject *op;
	JsonArray *rows;
	guint at;

	at = nf_ovsdb_add_select (ops, table, tagged (self, key, value), columns);
	op = json_array_get_object_element (ops, at);
	if (condition != NULL)
		json_array_add_element (json_object_get_array_member (op, "where"), condition);
	result = run (self, ops, doing, error);
	rows = result != NULL ? nf_ovsdb_result_rows (result, at, error) : NULL;
	if (rows == NULL)
		return NULL;
	for (guint i = 0; i < json_array_get_length (rows); i++) {
		gchar *uuid = nf_ovsdb_row_uuid (json_array_get_object_element (rows, i), error);

		if (uuid == NULL)
			return NULL;
		g_ptr_array_add (uuids, uuid);
	}
	return g_steal_pointer (&uuids);
}

gboolean
nf_ovn_remove_port (NfOvn *self, const gchar *port, GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autofree gchar *doing = g_strdup_printf ("remove trunk port %s", port);
	g_autoptr (GPtrArray) uuids =
		owned_uuids (self,
			     PORT_TABLE,
			     nf_ovsdb_condition_new ("name", "==", nf_ovsdb_string_new (port)),
			     NULL,
			     NULL,
			     doing,
			     error);
	JsonObject *op;

	if (uuids == NULL)
		return FALSE;
	if (uuids->len == 0)
		return TRUE;
	/* out of every switch that holds it; a port no switch holds goes */
	op = nf_ovsdb_op_add (ops,
			      "mutate",
			      SWITCH_TABLE,
			      nf_ovsdb_condition_new ("ports",
						      "includes",
						      nf_ovsdb_uuid_new (g_ptr_array_index (uuids, 0))));
	nf_ovsdb_op_add_mutation (op, "ports", "delete", nf_ovsdb_uuid_new (g_ptr_array_index (uuids, 0)));
	result = run (self, ops, doing, error);
	return result != NULL;
}

gboolean
nf_ovn_remove_switch (NfOvn *self, const gchar *pool, GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autofree gchar *doing = g_strdup_printf ("remove the logical switch of pool %s", pool);

	/* its ports are held by it alone: they go with it */
	nf_ovsdb_op_add (ops, "delete", SWITCH_TABLE, tagged (self, KEY_POOL, pool));
	result = run (self, ops, doing, error);
	return result != NULL;
}

GPtrArray *
nf_ovn_list_ports (NfOvn *self, const gchar *pool, GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	g_autofree gchar *doing = g_strdup_printf ("list the ports of pool %s", pool);
	const gchar *switch_columns[] = {"ports", NULL};
	const gchar *port_columns[] = {"_uuid", "name", NULL};
	guint switches =
		nf_ovsdb_add_select (ops, SWITCH_TABLE, tagged (self, KEY_POOL, pool), switch_columns);
	guint ports = nf_ovsdb_add_select (ops, PORT_TABLE, tagged (self, NULL, NULL), port_columns);
	JsonArray *switch_rows;
	JsonArray *port_rows;

	result = run (self, ops, doing, error);
	switch_rows = result != NULL ? nf_ovsdb_result_rows (result, switches, error) : NULL;
	port_rows = switch_rows != NULL ? nf_ovsdb_result_rows (result, ports, error) : NULL;
	if (port_rows == NULL)
		return NULL;
	for (guint i = 0; i < json_array_get_length (switch_rows); i++) {
		g_autoptr (GPtrArray) held = NULL;

		if (!nf_ovsdb_datum_get_uuids (json_object_get_member (json_array_get_object_element (switch_rows,
												      i),
								       "ports"),
					       &held,
					       error))
			return NULL;
		for (guint j = 0; j < json_array_get_length (port_rows); j++) {
			JsonObject *row = json_array_get_object_element (port_rows, j);
			g_autofree gchar *uuid = nf_ovsdb_row_uuid (row, error);

			if (uuid == NULL)
				return NULL;
			if (g_ptr_array_find_with_equal_func (held, uuid, g_str_equal, NULL))
				g_ptr_array_add (names, g_strdup (nf_ovsdb_member_string (row, "name")));
		}
	}
	return g_steal_pointer (&names);
}

GPtrArray *
nf_ovn_list_switches (NfOvn *self, GError **error)
{
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GPtrArray) pools = g_ptr_array_new_with_free_func (g_free);
	JsonArray *rows = select_rows (self,
				       SWITCH_TABLE,
				       tagged (self, NULL, NULL),
				       "external_ids",
				       &result,
				       "list the switches",
				       error);

	if (rows == NULL)
		return NULL;
	for (guint i = 0; i < json_array_get_length (rows); i++) {
		JsonObject *row = json_array_get_object_element (rows, i);
		g_autoptr (GHashTable) ids = NULL;
		const gchar *pool;

		if (!nf_ovsdb_datum_get_map (json_object_get_member (row, "external_ids"), &ids, error))
			return NULL;
		pool = g_hash_table_lookup (ids, KEY_POOL);
		if (pool != NULL)
			g_ptr_array_add (pools, g_strdup (pool));
	}
	return g_steal_pointer (&pools);
}
