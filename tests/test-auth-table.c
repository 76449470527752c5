/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-auth-table"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "nestfarm/nf-error.h"
#include "nf-auth.h"
#include "nf-dbus-generated.h"

/* The daemon's authorization table against the introspection XML: every method
 * listed, only the read-only ones open, an unknown method refused; and the
 * gate in GDBus's own dispatch, on a private bus: a method the table leaves
 * out is refused though the XML has it and a handler waits for it. */

/* The only methods anyone may call: they read, they change nothing. */
static const gchar *const open_methods[] = {
	"org.nestfarm.Farm1.Manager.CheckHost",
	NULL,
};

static GDBusNodeInfo *
load_api (void)
{
	const gchar *root = g_getenv ("NF_SOURCE_ROOT");
	g_autofree gchar *path = NULL;
	g_autofree gchar *xml = NULL;
	g_autoptr (GError) error = NULL;
	GDBusNodeInfo *info;

	g_assert_nonnull (root);
	path = g_build_filename (root, "src", "dbus", "org.nestfarm.Farm1.xml", NULL);
	g_file_get_contents (path, &xml, NULL, &error);
	g_assert_no_error (error);
	info = g_dbus_node_info_new_for_xml (xml, &error);
	g_assert_no_error (error);
	return info;
}

static void
test_table_complete (void)
{
	g_autoptr (GDBusNodeInfo) api = load_api ();
	gsize n_rules = 0;
	const NfAuthRule *rules = nf_auth_get_rules (&n_rules);
	guint n_methods = 0;

	/* Every method of the API has its line... */
	for (guint i = 0; api->interfaces[i] != NULL; i++) {
		GDBusInterfaceInfo *iface = api->interfaces[i];

		for (guint j = 0; iface->methods != NULL && iface->methods[j] != NULL; j++) {
			const gchar *action = NULL;

			if (!nf_auth_lookup (iface->name, iface->methods[j]->name, &action))
				g_error ("%s.%s has no line in the authorization table",
					 iface->name,
					 iface->methods[j]->name);
			n_methods++;
		}
	}
	/* ...and every line names a method of the API, once. */
	for (gsize i = 0; i < n_rules; i++) {
		GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface (api, rules[i].interface_name);

		g_assert_nonnull (iface);
		g_assert_nonnull (g_dbus_interface_info_lookup_method (iface, rules[i].method_name));
	}
	g_assert_cmpuint (n_rules, ==, n_methods);
}

static void
test_table_open (void)
{
	gsize n_rules = 0;
	const NfAuthRule *rules = nf_auth_get_rules (&n_rules);
	guint n_open = 0;

	for (gsize i = 0; i < n_rules; i++) {
		g_autofree gchar *name =
			g_strdup_printf ("%s.%s", rules[i].interface_name, rules[i].method_name);

		if (rules[i].action == NULL) {
			if (!g_strv_contains (open_methods, name))
				g_error ("%s is open to every caller but may change something", name);
			n_open++;
			continue;
		}
		g_assert_cmpstr (rules[i].action, ==, NF_AUTH_ACTION_MANAGE);
	}
	g_assert_cmpuint (n_open, ==, g_strv_length ((gchar **) open_methods));
}

/* The action the table asks for is the one the policy file declares. */
static void
test_table_action_declared (void)
{
	g_autofree gchar *path =
		g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "systemd", "org.nestfarm.farm1.policy", NULL);
	g_autofree gchar *policy = NULL;
	g_autoptr (GError) error = NULL;

	g_file_get_contents (path, &policy, NULL, &error);
	g_assert_no_error (error);
	g_assert_nonnull (strstr (policy, "<action id=\"" NF_AUTH_ACTION_MANAGE "\">"));
}

static void
test_table_unknown (void)
{
	const gchar *action = "unchanged";

	g_assert_false (nf_auth_lookup ("org.nestfarm.Farm1.Manager", "Explode", &action));
	g_assert_false (nf_auth_lookup ("org.nestfarm.Farm1.Manager", "createpool", &action));
	g_assert_false (nf_auth_lookup ("org.nestfarm.Farm1.Pool", "CreatePool", &action));
	g_assert_false (nf_auth_lookup ("org.nestfarm.Farm1.Manager", "", &action));
	g_assert_false (nf_auth_lookup ("org.freedesktop.DBus.Properties", "Set", &action));
	g_assert_cmpstr (action, ==, "unchanged");

	g_assert_true (nf_auth_lookup ("org.nestfarm.Farm1.Node", "Reset", &action));
	g_assert_cmpstr (action, ==, NF_AUTH_ACTION_MANAGE);
	g_assert_true (nf_auth_lookup ("org.nestfarm.Farm1.Manager", "CheckHost", &action));
	g_assert_null (action);
}

/* Properties.Set is refused by GDBus itself, before any code of the daemon's
 * runs, for a property the XML does not make writable: none is. */
static void
test_properties_read_only (void)
{
	g_autoptr (GDBusNodeInfo) api = load_api ();

	for (guint i = 0; api->interfaces[i] != NULL; i++) {
		GDBusInterfaceInfo *iface = api->interfaces[i];

		for (guint j = 0; iface->properties != NULL && iface->properties[j] != NULL; j++) {
			if (iface->properties[j]->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE)
				g_error ("%s.%s is writable: Properties.Set would change it unchecked",
					 iface->name,
					 iface->properties[j]->name);
		}
	}
}

/* --- the gate, through GDBus's dispatch on a private bus --- */

#define GATE_PATH  "/org/nestfarm/GateTest"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define JOB_PATH   GATE_PATH "/job/1"

/* The Pool's methods less Scale, which the XML has and the test handles. */
static const NfAuthRule rules_without_scale[] = {
	{POOL_IFACE, "Start", NF_AUTH_ACTION_MANAGE},
	{POOL_IFACE, "Stop", NF_AUTH_ACTION_MANAGE},
	{POOL_IFACE, "Delete", NF_AUTH_ACTION_MANAGE},
	{NULL, NULL, NULL},
};

typedef struct {
	GDBusConnection *connection; /* the private bus's: it calls itself */
	NfDBusPool *pool;
	guint handled; /* calls that reached a handler */
} Gate;

static gboolean
on_scale (NfDBusPool *pool, GDBusMethodInvocation *invocation, guint count, Gate *gate)
{
	gate->handled++;
	nf_dbus_pool_complete_scale (pool, invocation, JOB_PATH);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_start (NfDBusPool *pool, GDBusMethodInvocation *invocation, Gate *gate)
{
	gate->handled++;
	nf_dbus_pool_complete_start (pool, invocation, JOB_PATH);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Stop and Delete: (a{sv} options) -> (o job) both. */
static gboolean
on_with_options (NfDBusPool *pool, GDBusMethodInvocation *invocation, GVariant *options, Gate *gate)
{
	gate->handled++;
	g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", JOB_PATH));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* @rules: the table the gate is given; NULL for the daemon's, connected as
 * the daemon connects it. */
static void
gate_setup (Gate *gate, gconstpointer rules)
{
	g_autoptr (GError) error = NULL;

	gate->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
	g_assert_no_error (error);
	gate->pool = nf_dbus_pool_skeleton_new ();
	nf_dbus_pool_set_name (gate->pool, "gate");
	g_signal_connect (gate->pool, "handle-scale", G_CALLBACK (on_scale), gate);
	g_signal_connect (gate->pool, "handle-start", G_CALLBACK (on_start), gate);
	g_signal_connect (gate->pool, "handle-stop", G_CALLBACK (on_with_options), gate);
	g_signal_connect (gate->pool, "handle-delete", G_CALLBACK (on_with_options), gate);
	if (rules == NULL)
		nf_auth_gate_skeleton (G_DBUS_INTERFACE_SKELETON (gate->pool));
	else
		g_signal_connect (gate->pool,
				  "g-authorize-method",
				  G_CALLBACK (nf_auth_gate_method),
				  (gpointer) rules);
	g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (gate->pool),
					  gate->connection,
					  GATE_PATH,
					  &error);
	g_assert_no_error (error);
}

static void
gate_teardown (Gate *gate, gconstpointer rules)
{
	g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (gate->pool));
	g_clear_object (&gate->pool);
	g_clear_object (&gate->connection);
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
	*(GAsyncResult **) user_data = g_object_ref (result);
}

/* Asynchronous, with the main loop running: the handlers run there. */
static GVariant *
gate_call (Gate *gate, const gchar *interface_name, const gchar *method, GVariant *args, GError **error)
{
	g_autoptr (GAsyncResult) result = NULL;

	g_dbus_connection_call (gate->connection,
				g_dbus_connection_get_unique_name (gate->connection),
				GATE_PATH,
				interface_name,
				method,
				args,
				NULL,
				G_DBUS_CALL_FLAGS_NONE,
				10000,
				NULL,
				on_reply,
				&result);
	while (result == NULL)
		g_main_context_iteration (NULL, TRUE);
	return g_dbus_connection_call_finish (gate->connection, result, error);
}

static void
assert_job_reply (GVariant *reply, const GError *error)
{
	g_assert_no_error (error);
	g_assert_cmpstr (g_variant_get_type_string (reply), ==, "(o)");
}

/* Scale is in the XML and has a handler, but not in this table: refused at
 * dispatch, and the handler never runs. The methods it lists go through. */
static void
test_gate_unlisted (Gate *gate, gconstpointer rules)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = NULL;

	g_test_expect_message ("nf-auth",
			       G_LOG_LEVEL_WARNING,
			       POOL_IFACE ".Scale is missing from the authorization table; refused");
	reply = gate_call (gate, POOL_IFACE, "Scale", g_variant_new ("(u)", 3), &error);
	g_test_assert_expected_messages ();
	g_assert_null (reply);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_assert_cmpuint (gate->handled, ==, 0);
	g_clear_error (&error);

	reply = gate_call (gate, POOL_IFACE, "Start", NULL, &error);
	assert_job_reply (reply, error);
	g_assert_cmpuint (gate->handled, ==, 1);
}

/* The daemon's table lists every method: each reaches its handler (the
 * caller's check is the handler's, after validation). */
static void
test_gate_daemon_table (Gate *gate, gconstpointer rules)
{
	struct {
		const gchar *method;
		GVariant *args;
	} calls[] = {
		{"Scale", g_variant_new ("(u)", 3)},
		{"Start", NULL},
		{"Stop", g_variant_new_parsed ("(@a{sv} {},)")},
		{"Delete", g_variant_new_parsed ("(@a{sv} {},)")},
	};

	g_assert_true (g_signal_has_handler_pending (gate->pool,
						     g_signal_lookup ("g-authorize-method",
								      G_TYPE_DBUS_INTERFACE_SKELETON),
						     0,
						     FALSE));
	for (guint i = 0; i < G_N_ELEMENTS (calls); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GVariant) reply =
			gate_call (gate, POOL_IFACE, calls[i].method, calls[i].args, &error);

		assert_job_reply (reply, error);
		g_assert_cmpuint (gate->handled, ==, i + 1);
	}
}

/* Reads stay open behind the gate; a write of a property is refused. */
static void
test_gate_properties (Gate *gate, gconstpointer rules)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GVariant) value = NULL;

	reply = gate_call (gate,
			   "org.freedesktop.DBus.Properties",
			   "Set",
			   g_variant_new ("(ssv)", POOL_IFACE, "Name", g_variant_new_string ("changed")),
			   &error);
	g_assert_null (reply);
	g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
	g_clear_error (&error);

	reply = gate_call (gate,
			   "org.freedesktop.DBus.Properties",
			   "Get",
			   g_variant_new ("(ss)", POOL_IFACE, "Name"),
			   &error);
	g_assert_no_error (error);
	g_variant_get (reply, "(v)", &value);
	g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "gate");
	g_assert_cmpuint (gate->handled, ==, 0);
}

/* Session mode needs no polkit: it is made without any bus. */
static void
test_session_mode_new (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfAuth) auth = nf_auth_new (NF_AUTH_SESSION_OWNER, &error);

	g_assert_no_error (error);
	g_assert_true (NF_IS_AUTH (auth));
	g_assert_cmpint (nf_auth_get_mode (auth), ==, NF_AUTH_SESSION_OWNER);
}

int
main (int argc, char **argv)
{
	g_autoptr (GTestDBus) bus = NULL;
	gint status;

	g_test_init (&argc, &argv, NULL);
	/* NF_ERROR's codes as D-Bus error names, both ways. */
	(void) nf_error_quark ();
	bus = g_test_dbus_new (G_TEST_DBUS_NONE);
	g_test_dbus_up (bus);
	g_test_add_func ("/auth-table/complete", test_table_complete);
	g_test_add_func ("/auth-table/open", test_table_open);
	g_test_add_func ("/auth-table/action-declared", test_table_action_declared);
	g_test_add_func ("/auth-table/unknown", test_table_unknown);
	g_test_add_func ("/auth-table/properties-read-only", test_properties_read_only);
	g_test_add_func ("/auth-table/session-mode-new", test_session_mode_new);
	g_test_add ("/auth-table/gate/unlisted-refused",
		    Gate,
		    rules_without_scale,
		    gate_setup,
		    test_gate_unlisted,
		    gate_teardown);
	g_test_add ("/auth-table/gate/daemon-table",
		    Gate,
		    NULL,
		    gate_setup,
		    test_gate_daemon_table,
		    gate_teardown);
	g_test_add ("/auth-table/gate/properties",
		    Gate,
		    NULL,
		    gate_setup,
		    test_gate_properties,
		    gate_teardown);
	status = g_test_run ();
	g_test_dbus_down (bus);
	return status;
}
