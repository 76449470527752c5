/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-ovs"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nf-ovs-private.h"

/* The ports libvirt puts on a trunk bridge for each node, and their
 * removal. libvirt adds a port with its trunks when the domain starts and
 * tags its interface with external_ids vm-id (the domain UUID) and
 * attached-mac; nestfarm only reads those and removes what it owns. */

/* One consistent view of bridges, ports and interfaces. */
typedef struct {
	JsonNode *result;
	JsonArray *bridges;
	GHashTable *ports;      /* uuid -> row (JsonObject) */
	GHashTable *interfaces; /* uuid -> row (JsonObject) */
} Snapshot;

static void
snapshot_clear (Snapshot *snapshot)
{
	g_clear_pointer (&snapshot->ports, g_hash_table_unref);
	g_clear_pointer (&snapshot->interfaces, g_hash_table_unref);
	g_clear_pointer (&snapshot->result, json_node_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Snapshot, snapshot_clear)

static GHashTable *
index_rows (JsonArray *rows, GError **error)
{
	g_autoptr (GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < json_array_get_length (rows); i++) {
		JsonObject *row = json_array_get_object_element (rows, i);
		gchar *uuid = row != NULL ? nf_ovsdb_row_uuid (row, error) : NULL;

		if (uuid == NULL)
			return NULL;
		g_hash_table_replace (index, uuid, row);
	}
	return g_steal_pointer (&index);
}

/* @bridge NULL: every bridge. */
static gboolean
read_snapshot (NfOvsdbClient *client, const gchar *bridge, Snapshot *snapshot, GError **error)
{
	const gchar *bridge_columns[] = {"_uuid", "name", "ports", NULL};
	const gchar *port_columns[] = {"_uuid", "name", "tag", "trunks", "interfaces", NULL};
	const gchar *interface_columns[] = {"_uuid", "name", "external_ids", NULL};
	g_autoptr (JsonArray) ops = json_array_new ();
	JsonArray *rows;

	nf_ovsdb_add_select (ops, "Bridge", bridge != NULL ? nf_ovs_name_is (bridge) : NULL, bridge_columns);
	nf_ovsdb_add_select (ops, "Port", NULL, port_columns);
	nf_ovsdb_add_select (ops, "Interface", NULL, interface_columns);
	snapshot->result = nf_ovsdb_client_transact (client, ops, NULL, error);
	if (snapshot->result == NULL)
		return FALSE;
	snapshot->bridges = nf_ovsdb_result_rows (snapshot->result, 0, error);
	if (snapshot->bridges == NULL)
		return FALSE;
	rows = nf_ovsdb_result_rows (snapshot->result, 1, error);
	if (rows == NULL)
		return FALSE;
	snapshot->ports = index_rows (rows, error);
	if (snapshot->ports == NULL)
		return FALSE;
	rows = nf_ovsdb_result_rows (snapshot->result, 2, error);
	if (rows == NULL)
		return FALSE;
	snapshot->interfaces = index_rows (rows, error);
	return snapshot->interfaces != NULL;
}

static gint
compare_vlans (gconstpointer a, gconstpointer b)
{
	guint x = *(const guint *) a;
	guint y = *(const guint *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* The first of @port_row's interfaces that libvirt tagged, if any. */
static JsonObject *
tagged_interface (const Snapshot *snapshot, JsonObject *port_row, GHashTable **external_ids, GError **error)
{
	g_autoptr (GPtrArray) uuids = NULL;

	*external_ids = NULL;
	if (!nf_ovsdb_datum_get_uuids (json_object_get_member (port_row, "interfaces"), &uuids, error))
		return NULL;
	for (guint i = 0; i < uuids->len; i++) {
		JsonObject *row = g_hash_table_lookup (snapshot->interfaces, g_ptr_array_index (uuids, i));
		g_autoptr (GHashTable) ids = NULL;

		if (row == NULL)
			continue;
		if (!nf_ovsdb_datum_get_map (json_object_get_member (row, "external_ids"), &ids, error))
			return NULL;
		if (g_hash_table_contains (ids, "vm-id")) {
			*external_ids = g_steal_pointer (&ids);
			return row;
		}
	}
	return NULL;
}

static NfOvsPort *
port_from_row (const Snapshot *snapshot, const gchar *bridge, JsonObject *row, GError **error)
{
	g_autoptr (NfOvsPort) port = g_new0 (NfOvsPort, 1);
	g_autoptr (GArray) tag = NULL;
	g_autoptr (GArray) trunks = NULL;
	g_autoptr (GHashTable) external_ids = NULL;
	g_autoptr (GError) error_local = NULL;

	if (!nf_ovsdb_datum_get_string (json_object_get_member (row, "name"), &port->name, error) ||
	    !nf_ovsdb_datum_get_ints (json_object_get_member (row, "tag"), &tag, error) ||
	    !nf_ovsdb_datum_get_ints (json_object_get_member (row, "trunks"), &trunks, error))
		return NULL;
	port->bridge = g_strdup (bridge);
	if (tag->len > 0)
		port->tag = (guint) g_array_index (tag, gint64, 0);
	port->trunks = g_array_sized_new (FALSE, FALSE, sizeof (guint), trunks->len);
	for (guint i = 0; i < trunks->len; i++) {
		guint vlan = (guint) g_array_index (trunks, gint64, i);

		g_array_append_val (port->trunks, vlan);
	}
	g_array_sort (port->trunks, compare_vlans);
	if (tagged_interface (snapshot, row, &external_ids, &error_local) == NULL && error_local != NULL) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return NULL;
	}
	if (external_ids != NULL) {
		port->vm_uuid = g_strdup (g_hash_table_lookup (external_ids, "vm-id"));
		port->attached_mac = g_strdup (g_hash_table_lookup (external_ids, "attached-mac"));
	}
	return g_steal_pointer (&port);
}

static gint
compare_ports (gconstpointer a, gconstpointer b)
{
	const NfOvsPort *x = *(NfOvsPort *const *) a;
	const NfOvsPort *y = *(NfOvsPort *const *) b;
	gint by_bridge = g_strcmp0 (x->bridge, y->bridge);

	return by_bridge != 0 ? by_bridge : g_strcmp0 (x->name, y->name);
}

GPtrArray *
nf_ovs_list_ports (NfOvs *self, const gchar *bridge, GError **error)
{
	g_autoptr (NfOvsdbClient) client = NULL;
	g_auto (Snapshot) snapshot = {NULL};
	g_autoptr (GPtrArray) ports = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_ovs_port_free);

	g_return_val_if_fail (NF_IS_OVS (self), NULL);

	if (bridge != NULL && !nf_ovs_validate_ifname (bridge, "bridge", error))
		return NULL;
	client = nf_ovs_connect (self, error);
	if (client == NULL || !read_snapshot (client, bridge, &snapshot, error))
		return NULL;
	if (bridge != NULL && json_array_get_length (snapshot.bridges) == 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "Open vSwitch has no bridge '%s'; it is made when a pool that uses it is created.",
			     bridge);
		return NULL;
	}
	for (guint i = 0; i < json_array_get_length (snapshot.bridges); i++) {
		JsonObject *row = json_array_get_object_element (snapshot.bridges, i);
		g_autofree gchar *name = NULL;
		g_autoptr (GPtrArray) uuids = NULL;

		if (!nf_ovsdb_datum_get_string (json_object_get_member (row, "name"), &name, error) ||
		    !nf_ovsdb_datum_get_uuids (json_object_get_member (row, "ports"), &uuids, error))
			return NULL;
		for (guint j = 0; j < uuids->len; j++) {
			JsonObject *port_row =
				g_hash_table_lookup (snapshot.ports, g_ptr_array_index (uuids, j));
			NfOvsPort *port;

			if (port_row == NULL)
				continue;
			port = port_from_row (&snapshot, name, port_row, error);
			if (port == NULL)
				return NULL;
			g_ptr_array_add (ports, port);
		}
	}
	g_ptr_array_sort (ports, compare_ports);
	return g_steal_pointer (&ports);
}

/* The bridge row that holds port @uuid. */
static JsonObject *
bridge_of_port (const Snapshot *snapshot, const gchar *uuid, GError **error)
{
	for (guint i = 0; i < json_array_get_length (snapshot->bridges); i++) {
		JsonObject *row = json_array_get_object_element (snapshot->bridges, i);
		g_autoptr (GPtrArray) uuids = NULL;

		if (!nf_ovsdb_datum_get_uuids (json_object_get_member (row, "ports"), &uuids, error))
			return NULL;
		for (guint j = 0; j < uuids->len; j++) {
			if (g_strcmp0 (g_ptr_array_index (uuids, j), uuid) == 0)
				return row;
		}
	}
	return NULL;
}

static JsonObject *
port_by_name (const Snapshot *snapshot, const gchar *name, gchar **uuid)
{
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init (&iter, snapshot->ports);
	while (g_hash_table_iter_next (&iter, &key, &value)) {
		JsonNode *node = json_object_get_member (value, "name");

		if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING &&
		    g_strcmp0 (json_node_get_string (node), name) == 0) {
			*uuid = g_strdup (key);
			return value;
		}
	}
	return NULL;
}

static gboolean
set_left_alone (GError **error, const gchar *port, const gchar *vm_uuid, const gchar *owner)
{
	if (owner == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "Port '%s' is not a libvirt domain's port (it has no vm-id), so not domain %s's; it was left alone.",
			     port,
			     vm_uuid);
	else
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "Port '%s' belongs to domain %s, not to %s; it was left alone.",
			     port,
			     owner,
			     vm_uuid);
	return FALSE;
}

/* Takes the port off its bridge (its rows then go) in one transaction
 * that first checks the port and its vm-id are still what we saw: libvirt
 * reuses vnetN names as soon as a domain lets go of one. */
static gboolean
delete_port (NfOvs *self,
	     NfOvsdbClient *client,
	     const gchar *port,
	     const gchar *port_uuid,
	     JsonObject *interface_row,
	     const gchar *vm_id,
	     const gchar *bridge_uuid,
	     GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *interface_uuid = NULL;
	g_autofree gchar *interface_name = NULL;
	g_autofree gchar *comment = g_strdup_printf ("nestfarm: remove port %s of domain %s", port, vm_id);
	g_autofree gchar *what = NULL;
	const gchar *pair[] = {"vm-id", vm_id, NULL};
	const gchar *uuids[] = {port_uuid, NULL};
	JsonArray *rows;
	JsonObject *op;
	guint failed_op = 0;
	guint wait_op, mutate_op, cfg_op;
	gint64 count = 0;
	gint64 next_cfg = 0;

	interface_uuid = nf_ovsdb_row_uuid (interface_row, error);
	if (interface_uuid == NULL ||
	    !nf_ovsdb_datum_get_string (json_object_get_member (interface_row, "name"),
					&interface_name,
					error))
		return FALSE;
	nf_ovsdb_add_wait (ops, "Port", nf_ovs_uuid_is (port_uuid), "name", nf_ovsdb_string_new (port));
	wait_op = nf_ovsdb_add_wait (ops,
				     "Interface",
				     nf_ovs_uuid_is (interface_uuid),
				     "name",
				     nf_ovsdb_string_new (interface_name));
	op = json_array_get_object_element (ops, wait_op);
	json_array_add_element (json_object_get_array_member (op, "where"),
				nf_ovsdb_condition_new ("external_ids",
							"includes",
							nf_ovsdb_string_map_new (pair)));
	op = nf_ovsdb_op_add (ops, "mutate", "Bridge", nf_ovs_uuid_is (bridge_uuid));
	nf_ovsdb_op_add_mutation (op, "ports", "delete", nf_ovsdb_uuid_set_new (uuids));
	mutate_op = json_array_get_length (ops) - 1;
	cfg_op = nf_ovs_add_next_cfg (ops);
	nf_ovsdb_add_comment (ops, comment);

	result = nf_ovsdb_client_transact (client, ops, &failed_op, &error_local);
	if (result == NULL && failed_op > wait_op) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	if (result != NULL && !nf_ovsdb_result_count (result, mutate_op, &count, error))
		return FALSE;
	if (result == NULL || count == 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "Port '%s' changed while nestfarm removed it; it was left alone (list the ports again).",
			     port);
		return FALSE;
	}
	rows = nf_ovsdb_result_rows (result, cfg_op, error);
	if (rows == NULL || !nf_ovs_read_root_int (rows, "next_cfg", &next_cfg, error))
		return FALSE;
	what = g_strdup_printf ("the removal of port '%s'", port);
	return nf_ovs_wait_applied (self, client, next_cfg, what, error);
}

gboolean
nf_ovs_remove_port (NfOvs *self, const gchar *port, const gchar *vm_uuid, GError **error)
{
	g_autoptr (NfOvsdbClient) client = NULL;
	g_auto (Snapshot) snapshot = {NULL};
	g_autoptr (GHashTable) external_ids = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *port_uuid = NULL;
	g_autofree gchar *bridge_uuid = NULL;
	JsonObject *port_row;
	JsonObject *interface_row;
	JsonObject *bridge_row;
	const gchar *owner;

	g_return_val_if_fail (NF_IS_OVS (self), FALSE);

	if (!nf_ovs_validate_ifname (port, "port", error))
		return FALSE;
	if (vm_uuid == NULL || !g_uuid_string_is_valid (vm_uuid)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "'%s' is not a domain UUID; give the UUID libvirt reports for the node (virsh domuuid).",
			     vm_uuid != NULL ? vm_uuid : "");
		return FALSE;
	}
	client = nf_ovs_connect (self, error);
	if (client == NULL || !read_snapshot (client, NULL, &snapshot, error))
		return FALSE;
	port_row = port_by_name (&snapshot, port, &port_uuid);
	bridge_row = port_row != NULL ? bridge_of_port (&snapshot, port_uuid, &error_local) : NULL;
	if (error_local != NULL) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	if (bridge_row == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "Open vSwitch has no port '%s' on any bridge; there is nothing to remove.",
			     port);
		return FALSE;
	}
	interface_row = tagged_interface (&snapshot, port_row, &external_ids, &error_local);
	if (error_local != NULL) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	owner = external_ids != NULL ? g_hash_table_lookup (external_ids, "vm-id") : NULL;
	/* libvirt writes UUIDs in lower case; a caller may not. */
	if (interface_row == NULL || g_ascii_strcasecmp (owner, vm_uuid) != 0)
		return set_left_alone (error, port, vm_uuid, owner);
	bridge_uuid = nf_ovsdb_row_uuid (bridge_row, error);
	if (bridge_uuid == NULL)
		return FALSE;
	return delete_port (self, client, port, port_uuid, interface_row, owner, bridge_uuid, error);
}
