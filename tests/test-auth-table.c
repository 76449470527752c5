/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-auth-table"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "nestfarm/nf-error.h"
#include "nf-auth.h"

/* The daemon's authorization table against the introspection XML: every method
 * listed, only the read-only ones open, an unknown method refused. */

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
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/auth-table/complete", test_table_complete);
	g_test_add_func ("/auth-table/open", test_table_open);
	g_test_add_func ("/auth-table/action-declared", test_table_action_declared);
	g_test_add_func ("/auth-table/unknown", test_table_unknown);
	g_test_add_func ("/auth-table/session-mode-new", test_session_mode_new);
	return g_test_run ();
}
