/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-ovs"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-ovs.h"
#include "nf-ovs-private.h"

/* Open vSwitch through its database (RFC 7047), the way ovs-vsctl does
 * it, without a process per call: each change is one atomic transaction
 * guarded by "wait" operations, then a bump of next_cfg that ovs-vswitchd
 * answers with cur_cfg once it has applied the change. */

#define NF_OVS_DEFAULT_TIMEOUT_MS 5000
/* What ovs-vswitchd honours; it silently clamps anything else. */
#define NF_OVS_MAC_AGING_MIN 15
#define NF_OVS_MAC_AGING_MAX 3600
#define NF_OVS_MAC_TABLE_MIN 10
#define NF_OVS_MAC_TABLE_MAX 1000000
/* How often to look whether ovs-vswitchd caught up. */
#define NF_OVS_POLL_MS 20

struct _NfOvs {
	GObject parent_instance;
	gchar *db;
	guint timeout_ms;
};

G_DEFINE_FINAL_TYPE (NfOvs, nf_ovs, G_TYPE_OBJECT)

void
nf_ovs_port_free (NfOvsPort *port)
{
	if (port == NULL)
		return;
	g_free (port->name);
	g_free (port->bridge);
	if (port->trunks != NULL)
		g_array_unref (port->trunks);
	g_free (port->vm_uuid);
	g_free (port->attached_mac);
	g_free (port);
}

static void
nf_ovs_finalize (GObject *object)
{
	NfOvs *self = NF_OVS (object);

	g_free (self->db);
	G_OBJECT_CLASS (nf_ovs_parent_class)->finalize (object);
}

static void
nf_ovs_class_init (NfOvsClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = nf_ovs_finalize;
}

static void
nf_ovs_init (NfOvs *self)
{
}

NfOvs *
nf_ovs_new (const gchar *db, guint timeout_ms)
{
	NfOvs *self = g_object_new (NF_TYPE_OVS, NULL);

	self->db = g_strdup (db != NULL && db[0] != '\0' ? db : NF_OVSDB_DEFAULT_DB);
	self->timeout_ms = timeout_ms > 0 ? timeout_ms : NF_OVS_DEFAULT_TIMEOUT_MS;
	return self;
}

/* Bridge and port names become Linux interface names. */
gboolean
nf_ovs_validate_ifname (const gchar *name, const gchar *what, GError **error)
{
	gsize len = name != NULL ? strnlen (name, NF_BRIDGE_NAME_MAX + 1) : 0;
	g_autofree gchar *shown = NULL;

	if (len >= 1 && len <= NF_BRIDGE_NAME_MAX && name[0] != '-' &&
	    strspn (name, NF_BRIDGE_NAME_CHARS) == len && strcmp (name, ".") != 0 && strcmp (name, "..") != 0)
		return TRUE;
	shown = name != NULL ? g_strescape (name, NULL) : g_strdup ("");
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INVALID_ARGUMENT,
		     "'%s' is not a valid %s name; use 1 to %d letters, digits, '_', '.' or '-', not starting with '-'.",
		     shown,
		     what,
		     NF_BRIDGE_NAME_MAX);
	return FALSE;
}

static gboolean
validate_limit (guint value, guint min, guint max, const gchar *what, GError **error)
{
	if (value == 0 || (value >= min && value <= max))
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INVALID_ARGUMENT,
		     "The %s %u is outside what Open vSwitch honours; use %u to %u (0 keeps the Open vSwitch default).",
		     what,
		     value,
		     min,
		     max);
	return FALSE;
}

guint
nf_ovs_add_next_cfg (JsonArray *ops)
{
	const gchar *columns[] = {"next_cfg", NULL};

	nf_ovsdb_op_add_mutation (nf_ovsdb_op_add (ops, "mutate", "Open_vSwitch", NULL),
				  "next_cfg",
				  "+=",
				  nf_ovsdb_int_new (1));
	return nf_ovsdb_add_select (ops, "Open_vSwitch", NULL, columns);
}

JsonNode *
nf_ovs_name_is (const gchar *name)
{
	return nf_ovsdb_condition_new ("name", "==", nf_ovsdb_string_new (name));
}

JsonNode *
nf_ovs_uuid_is (const gchar *uuid)
{
	return nf_ovsdb_condition_new ("_uuid", "==", nf_ovsdb_uuid_new (uuid));
}

NfOvsdbClient *
nf_ovs_connect (NfOvs *self, GError **error)
{
	return nf_ovsdb_client_connect (self->db, self->timeout_ms, error);
}

static gboolean
set_no_root_row (GError **error)
{
	g_set_error_literal (error,
			     NF_ERROR,
			     NF_ERROR_OPENVSWITCH,
			     "The Open vSwitch database is not initialised (no Open_vSwitch record); run 'ovs-vsctl init' or start the openvswitch-switch service.");
	return FALSE;
}

gboolean
nf_ovs_read_root_int (JsonArray *rows, const gchar *column, gint64 *value, GError **error)
{
	if (json_array_get_length (rows) == 0)
		return set_no_root_row (error);
	return nf_ovsdb_datum_get_int (json_object_get_member (json_array_get_object_element (rows, 0),
							       column),
				       value,
				       error);
}

gboolean
nf_ovs_wait_applied (NfOvs *self, NfOvsdbClient *client, gint64 next_cfg, const gchar *what, GError **error)
{
	const gchar *columns[] = {"cur_cfg", NULL};

	for (;;) {
		g_autoptr (JsonArray) ops = json_array_new ();
		g_autoptr (JsonNode) result = NULL;
		JsonArray *rows;
		gint64 cur_cfg = 0;

		nf_ovsdb_add_select (ops, "Open_vSwitch", NULL, columns);
		result = nf_ovsdb_client_transact (client, ops, NULL, error);
		if (result == NULL)
			return FALSE;
		rows = nf_ovsdb_result_rows (result, 0, error);
		if (rows == NULL || !nf_ovs_read_root_int (rows, "cur_cfg", &cur_cfg, error))
			return FALSE;
		if (cur_cfg >= next_cfg)
			return TRUE;
		if (!nf_ovsdb_client_pause (client, NF_OVS_POLL_MS)) {
			g_autofree gchar *limit = nf_ovsdb_duration_text (self->timeout_ms);

			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_OPENVSWITCH,
				     "ovs-vswitchd did not apply %s within %s (the database has it); is ovs-vswitchd running (systemctl status openvswitch-switch)?",
				     what,
				     limit);
			return FALSE;
		}
	}
}

/* What OVSDB has of a bridge. */
typedef struct {
	gchar *uuid; /* NULL: no such bridge */
	gchar *datapath;
	GHashTable *other_config;
	gint64 next_cfg;
} BridgeState;

static void
bridge_state_clear (BridgeState *state)
{
	g_free (state->uuid);
	g_free (state->datapath);
	g_clear_pointer (&state->other_config, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BridgeState, bridge_state_clear)

static gboolean
read_bridge (NfOvsdbClient *client, const gchar *bridge, BridgeState *state, GError **error)
{
	const gchar *bridge_columns[] = {"_uuid", "datapath_type", "other_config", NULL};
	const gchar *root_columns[] = {"next_cfg", NULL};
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	JsonArray *rows;
	JsonArray *root;
	JsonObject *row;

	nf_ovsdb_add_select (ops, "Bridge", nf_ovs_name_is (bridge), bridge_columns);
	nf_ovsdb_add_select (ops, "Open_vSwitch", NULL, root_columns);
	result = nf_ovsdb_client_transact (client, ops, NULL, error);
	if (result == NULL)
		return FALSE;
	rows = nf_ovsdb_result_rows (result, 0, error);
	if (rows == NULL)
		return FALSE;
	root = nf_ovsdb_result_rows (result, 1, error);
	if (root == NULL || !nf_ovs_read_root_int (root, "next_cfg", &state->next_cfg, error))
		return FALSE;
	if (json_array_get_length (rows) == 0)
		return TRUE;
	row = json_array_get_object_element (rows, 0);
	state->uuid = nf_ovsdb_row_uuid (row, error);
	if (state->uuid == NULL)
		return FALSE;
	if (!nf_ovsdb_datum_get_string (json_object_get_member (row, "datapath_type"),
					&state->datapath,
					error))
		return FALSE;
	return nf_ovsdb_datum_get_map (json_object_get_member (row, "other_config"),
				       &state->other_config,
				       error);
}

/* The other_config keys for the MAC limits, as key, value, ..., NULL. */
static GStrv
limit_pairs (guint mac_aging_seconds, guint mac_table_size)
{
	g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

	if (mac_aging_seconds > 0) {
		g_autofree gchar *value = g_strdup_printf ("%u", mac_aging_seconds);

		g_strv_builder_add_many (builder, "mac-aging-time", value, NULL);
	}
	if (mac_table_size > 0) {
		g_autofree gchar *value = g_strdup_printf ("%u", mac_table_size);

		g_strv_builder_add_many (builder, "mac-table-size", value, NULL);
	}
	return g_strv_builder_end (builder);
}

/* The bridge, its local port and interface, in one transaction that fails
 * at its first operation if someone made the bridge meanwhile (@raced). */
static gboolean
create_bridge (NfOvsdbClient *client,
	       const gchar *bridge,
	       const gchar *datapath,
	       const gchar *const *limits,
	       gchar **uuid,
	       gint64 *next_cfg,
	       gboolean *raced,
	       GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *comment = g_strdup_printf ("nestfarm: create bridge %s", bridge);
	JsonObject *row;
	JsonArray *rows;
	guint wait_op, bridge_op, cfg_op;
	guint failed_op = 0;

	wait_op = nf_ovsdb_add_wait (ops, "Bridge", nf_ovs_name_is (bridge), "name", NULL);
	row = json_object_new ();
	json_object_set_string_member (row, "name", bridge);
	json_object_set_string_member (row, "type", "internal");
	nf_ovsdb_add_insert (ops, "Interface", "nf_interface", row);
	row = json_object_new ();
	json_object_set_string_member (row, "name", bridge);
	json_object_set_member (row, "interfaces", nf_ovsdb_named_uuid_new ("nf_interface"));
	nf_ovsdb_add_insert (ops, "Port", "nf_port", row);
	row = json_object_new ();
	json_object_set_string_member (row, "name", bridge);
	json_object_set_string_member (row, "datapath_type", datapath);
	json_object_set_member (row, "ports", nf_ovsdb_named_uuid_new ("nf_port"));
	json_object_set_member (row, "other_config", nf_ovsdb_string_map_new (limits));
	nf_ovsdb_add_insert (ops, "Bridge", "nf_bridge", row);
	bridge_op = json_array_get_length (ops) - 1;
	/* Bridge rows live only while the root row refers to them. */
	nf_ovsdb_op_add_mutation (nf_ovsdb_op_add (ops, "mutate", "Open_vSwitch", NULL),
				  "bridges",
				  "insert",
				  nf_ovsdb_named_uuid_new ("nf_bridge"));
	cfg_op = nf_ovs_add_next_cfg (ops);
	nf_ovsdb_add_comment (ops, comment);

	result = nf_ovsdb_client_transact (client, ops, &failed_op, &error_local);
	if (result == NULL) {
		if (failed_op == wait_op) {
			*raced = TRUE;
			return TRUE;
		}
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	*uuid = nf_ovsdb_result_uuid (result, bridge_op, error);
	if (*uuid == NULL)
		return FALSE;
	rows = nf_ovsdb_result_rows (result, cfg_op, error);
	return rows != NULL && nf_ovs_read_root_int (rows, "next_cfg", next_cfg, error);
}

static gboolean
limits_differ (GHashTable *other_config, const gchar *const *limits)
{
	for (guint i = 0; limits[i] != NULL && limits[i + 1] != NULL; i += 2) {
		if (g_strcmp0 (g_hash_table_lookup (other_config, limits[i]), limits[i + 1]) != 0)
			return TRUE;
	}
	return FALSE;
}

/* Replaces only the MAC limit keys of other_config: whatever else an
 * administrator put there stays. */
static gboolean
update_limits (NfOvsdbClient *client,
	       const gchar *bridge,
	       const gchar *uuid,
	       const gchar *const *limits,
	       gint64 *next_cfg,
	       gboolean *raced,
	       GError **error)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GStrvBuilder) keys = g_strv_builder_new ();
	g_auto (GStrv) key_list = NULL;
	g_autofree gchar *comment =
		g_strdup_printf ("nestfarm: set MAC learning limits of bridge %s", bridge);
	JsonObject *op;
	JsonArray *rows;
	guint cfg_op;
	gint64 count = 0;

	for (guint i = 0; limits[i] != NULL && limits[i + 1] != NULL; i += 2)
		g_strv_builder_add (keys, limits[i]);
	key_list = g_strv_builder_end (keys);
	op = nf_ovsdb_op_add (ops, "mutate", "Bridge", nf_ovs_uuid_is (uuid));
	/* "insert" keeps a key that is already there: delete it first. */
	nf_ovsdb_op_add_mutation (op,
				  "other_config",
				  "delete",
				  nf_ovsdb_string_set_new ((const gchar *const *) key_list));
	nf_ovsdb_op_add_mutation (op, "other_config", "insert", nf_ovsdb_string_map_new (limits));
	cfg_op = nf_ovs_add_next_cfg (ops);
	nf_ovsdb_add_comment (ops, comment);

	result = nf_ovsdb_client_transact (client, ops, NULL, error);
	if (result == NULL || !nf_ovsdb_result_count (result, 0, &count, error))
		return FALSE;
	if (count == 0) {
		*raced = TRUE;
		return TRUE;
	}
	rows = nf_ovsdb_result_rows (result, cfg_op, error);
	return rows != NULL && nf_ovs_read_root_int (rows, "next_cfg", next_cfg, error);
}

/* ovs-vswitchd records a bridge it could not make only in its log; the
 * sign in the database is a local interface without an OpenFlow port. */
static gboolean
check_bridge_up (NfOvsdbClient *client, const gchar *bridge, const gchar *datapath, GError **error)
{
	const gchar *columns[] = {"ofport", "error", NULL};
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GArray) ofport = NULL;
	g_autofree gchar *reason = NULL;
	JsonArray *rows;
	JsonObject *row;

	nf_ovsdb_add_select (ops, "Interface", nf_ovs_name_is (bridge), columns);
	result = nf_ovsdb_client_transact (client, ops, NULL, error);
	if (result == NULL)
		return FALSE;
	rows = nf_ovsdb_result_rows (result, 0, error);
	if (rows == NULL)
		return FALSE;
	if (json_array_get_length (rows) == 0)
		return TRUE;
	row = json_array_get_object_element (rows, 0);
	if (!nf_ovsdb_datum_get_ints (json_object_get_member (row, "ofport"), &ofport, error) ||
	    !nf_ovsdb_datum_get_string (json_object_get_member (row, "error"), &reason, error))
		return FALSE;
	if (ofport->len == 1 && g_array_index (ofport, gint64, 0) >= 0)
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_OPENVSWITCH,
		     "Open vSwitch could not bring up bridge '%s' with datapath '%s' (%s); where the openvswitch kernel module is missing (containers) use datapath 'netdev', else see /var/log/openvswitch/ovs-vswitchd.log.",
		     bridge,
		     datapath,
		     reason != NULL ? reason : "no datapath");
	return FALSE;
}

/* Undoes create_bridge(): the port and interface rows go with it. */
static void
delete_bridge (NfOvsdbClient *client, const gchar *bridge, const gchar *uuid)
{
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *comment =
		g_strdup_printf ("nestfarm: remove bridge %s that did not come up", bridge);
	const gchar *uuids[] = {uuid, NULL};

	nf_ovsdb_op_add_mutation (nf_ovsdb_op_add (ops, "mutate", "Open_vSwitch", NULL),
				  "bridges",
				  "delete",
				  nf_ovsdb_uuid_set_new (uuids));
	nf_ovs_add_next_cfg (ops);
	nf_ovsdb_add_comment (ops, comment);
	result = nf_ovsdb_client_transact (client, ops, NULL, &error_local);
	if (result == NULL)
		g_debug ("cannot remove bridge %s that did not come up: %s", bridge, error_local->message);
}

/* The bridge's settings as asked, before anything is changed. */
static gboolean
validate_bridge_settings (const gchar *bridge,
			  const gchar *datapath,
			  guint mac_aging_seconds,
			  guint mac_table_size,
			  GError **error)
{
	if (!nf_ovs_validate_ifname (bridge, "bridge", error))
		return FALSE;
	if (g_strcmp0 (datapath, "system") != 0 && g_strcmp0 (datapath, "netdev") != 0) {
		g_autofree gchar *shown = datapath != NULL ? g_strescape (datapath, NULL) : g_strdup ("");

		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "'%s' is not an Open vSwitch datapath type nestfarm knows; use 'system' (the kernel module) or 'netdev' (userspace, where the module is missing).",
			     shown);
		return FALSE;
	}
	if (!validate_limit (mac_aging_seconds,
			     NF_OVS_MAC_AGING_MIN,
			     NF_OVS_MAC_AGING_MAX,
			     "MAC aging time (seconds)",
			     error))
		return FALSE;
	return validate_limit (mac_table_size,
			       NF_OVS_MAC_TABLE_MIN,
			       NF_OVS_MAC_TABLE_MAX,
			       "MAC table size",
			       error);
}

/* One look at the bridge, and the write that makes it as asked: created
 * (its uuid in @created), or its limits updated. @raced: another writer
 * changed it between the two, nothing was written. */
static gboolean
bridge_attempt (NfOvsdbClient *client,
		const gchar *bridge,
		const gchar *datapath,
		const gchar *const *limits,
		gchar **created,
		gint64 *next_cfg,
		gboolean *raced,
		GError **error)
{
	g_auto (BridgeState) state = {NULL};
	const gchar *current;

	if (!read_bridge (client, bridge, &state, error))
		return FALSE;
	*next_cfg = state.next_cfg;
	if (state.uuid == NULL)
		return create_bridge (client, bridge, datapath, limits, created, next_cfg, raced, error);
	/* An empty datapath_type is the kernel's. */
	current = state.datapath != NULL && state.datapath[0] != '\0' ? state.datapath : "system";
	if (g_strcmp0 (current, datapath) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "Bridge '%s' already exists with datapath '%s', not '%s'; set the datapath to '%s' in the configuration or remove the bridge (ovs-vsctl del-br %s).",
			     bridge,
			     current,
			     datapath,
			     current,
			     bridge);
		return FALSE;
	}
	if (!limits_differ (state.other_config, limits))
		return TRUE;
	return update_limits (client, bridge, state.uuid, limits, next_cfg, raced, error);
}

gboolean
nf_ovs_ensure_bridge (NfOvs *self,
		      const gchar *bridge,
		      const gchar *datapath,
		      guint mac_aging_seconds,
		      guint mac_table_size,
		      GError **error)
{
	g_autoptr (NfOvsdbClient) client = NULL;
	g_autofree gchar *created = NULL;
	g_autofree gchar *what = NULL;
	g_auto (GStrv) limits = NULL;
	gint64 next_cfg = 0;

	g_return_val_if_fail (NF_IS_OVS (self), FALSE);

	if (!validate_bridge_settings (bridge, datapath, mac_aging_seconds, mac_table_size, error))
		return FALSE;
	limits = limit_pairs (mac_aging_seconds, mac_table_size);

	client = nf_ovs_connect (self, error);
	if (client == NULL)
		return FALSE;
	/* Another writer may make or remove the bridge between our read and
	 * our write; the guarded transaction fails and we look again. */
	for (guint attempt = 0;; attempt++) {
		gboolean raced = FALSE;

		if (!bridge_attempt (client,
				     bridge,
				     datapath,
				     (const gchar *const *) limits,
				     &created,
				     &next_cfg,
				     &raced,
				     error))
			return FALSE;
		if (!raced)
			break;
		if (attempt >= 2) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_BUSY,
				     "Bridge '%s' kept changing in Open vSwitch while nestfarm set it up; try again once nothing else is changing it.",
				     bridge);
			return FALSE;
		}
	}

	what = g_strdup_printf ("the settings of bridge '%s'", bridge);
	if (!nf_ovs_wait_applied (self, client, next_cfg, what, error))
		return FALSE;
	if (!check_bridge_up (client, bridge, datapath, error)) {
		if (created != NULL)
			delete_bridge (client, bridge, created);
		return FALSE;
	}
	return TRUE;
}

gboolean
nf_ovs_bridge_exists (NfOvs *self, const gchar *bridge, gboolean *exists, GError **error)
{
	const gchar *columns[] = {"name", NULL};
	g_autoptr (NfOvsdbClient) client = NULL;
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	JsonArray *rows;

	g_return_val_if_fail (NF_IS_OVS (self), FALSE);
	g_return_val_if_fail (exists != NULL, FALSE);

	if (!nf_ovs_validate_ifname (bridge, "bridge", error))
		return FALSE;
	client = nf_ovs_connect (self, error);
	if (client == NULL)
		return FALSE;
	nf_ovsdb_add_select (ops, "Bridge", nf_ovs_name_is (bridge), columns);
	result = nf_ovsdb_client_transact (client, ops, NULL, error);
	if (result == NULL)
		return FALSE;
	rows = nf_ovsdb_result_rows (result, 0, error);
	if (rows == NULL)
		return FALSE;
	*exists = json_array_get_length (rows) > 0;
	return TRUE;
}

gboolean
nf_ovs_ping (NfOvs *self, GError **error)
{
	const gchar *columns[] = {"_uuid", NULL};
	g_autoptr (NfOvsdbClient) client = NULL;
	g_autoptr (JsonNode) dbs = NULL;
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	gboolean found = FALSE;
	JsonArray *rows;

	g_return_val_if_fail (NF_IS_OVS (self), FALSE);

	client = nf_ovs_connect (self, error);
	if (client == NULL)
		return FALSE;
	dbs = nf_ovsdb_client_call (client, "list_dbs", nf_ovsdb_array_node (json_array_new ()), error);
	if (dbs == NULL)
		return FALSE;
	if (JSON_NODE_HOLDS_ARRAY (dbs)) {
		JsonArray *names = json_node_get_array (dbs);

		for (guint i = 0; i < json_array_get_length (names); i++) {
			JsonNode *name = json_array_get_element (names, i);

			if (json_node_get_value_type (name) == G_TYPE_STRING &&
			    g_strcmp0 (json_node_get_string (name), NF_OVSDB_DATABASE) == 0)
				found = TRUE;
		}
	}
	if (!found) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_OPENVSWITCH,
			     "The database server on %s has no Open_vSwitch database; point nestfarm at Open vSwitch's own socket (/run/openvswitch/db.sock).",
			     self->db);
		return FALSE;
	}
	nf_ovsdb_add_select (ops, "Open_vSwitch", NULL, columns);
	result = nf_ovsdb_client_transact (client, ops, NULL, error);
	if (result == NULL)
		return FALSE;
	rows = nf_ovsdb_result_rows (result, 0, error);
	if (rows == NULL)
		return FALSE;
	if (json_array_get_length (rows) == 0)
		return set_no_root_row (error);
	return TRUE;
}
