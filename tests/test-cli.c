/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "nf-test-cli.h"
#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* nestfarmctl, the real built binary, against a real nestfarmd on the real
 * system bus (libvirtd, QEMU/TCG, Open vSwitch, polkitd): every verb, the
 * --json shapes key by key, each exit status, progress on a pseudo-terminal
 * (script) and without one, Ctrl-C. Tiny nodes: 256 MiB, 1 vCPU, 1 GiB.
 * The cases run in order and share one daemon. (Lab files, lab apply,
 * status and stop: test-lab.c.) */

#define POOL_A    "nfcli-a"
#define POOL_B    "nfcli-b"
#define POOL_C    "nfcli-c"
#define TEST_USER "nftest"
#define BUS_NAME  "org.nestfarm.Farm1"

static NfTestDaemon *farm;
static gchar *binary;
static gchar *scratch;
static const gchar *const pools[] = {POOL_A, POOL_B, POOL_C, "nfcli-x", "nfcli-z", NULL};

static GPtrArray *
collect (const gchar *first, va_list args)
{
	GPtrArray *argv = g_ptr_array_new ();

	for (const gchar *arg = first; arg != NULL; arg = va_arg (args, const gchar *))
		g_ptr_array_add (argv, (gpointer) arg);
	return argv;
}

static NfCliRun *G_GNUC_NULL_TERMINATED
cli (const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	g_autoptr (GPtrArray) args = NULL;
	va_list ap;

	va_start (ap, first);
	args = collect (first, ap);
	va_end (ap);
	g_ptr_array_add (argv, binary);
	g_ptr_array_extend (argv, args, NULL, NULL);
	return nf_test_cli_run_argv (argv, NULL);
}

static NfCliRun *G_GNUC_NULL_TERMINATED
cli_on_bus (const gchar *bus_address, const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	g_autoptr (GPtrArray) args = NULL;
	va_list ap;

	va_start (ap, first);
	args = collect (first, ap);
	va_end (ap);
	g_ptr_array_add (argv, binary);
	g_ptr_array_extend (argv, args, NULL, NULL);
	return nf_test_cli_run_argv (argv, bus_address);
}

/* On a pseudo-terminal: script(1) runs the command line @shell_tail
 * after the binary, so stdin and stdout are a terminal. */
static NfCliRun *
cli_pty (const gchar *prefix, const gchar *shell_tail)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (NULL);
	g_autofree gchar *quoted = g_shell_quote (binary);
	g_autofree gchar *command = g_strdup_printf ("%s%s %s", prefix, quoted, shell_tail);

	g_ptr_array_add (argv, (gpointer) "script");
	g_ptr_array_add (argv, (gpointer) "-qec");
	g_ptr_array_add (argv, command);
	g_ptr_array_add (argv, (gpointer) "/dev/null");
	return nf_test_cli_run_argv (argv, NULL);
}

static NfCliRun *G_GNUC_NULL_TERMINATED
cli_as_user (const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	g_autoptr (GPtrArray) args = NULL;
	g_autofree gchar *copy = g_build_filename (scratch, "nestfarmctl", NULL);
	va_list ap;

	va_start (ap, first);
	args = collect (first, ap);
	va_end (ap);
	g_ptr_array_add (argv, (gpointer) "setpriv");
	g_ptr_array_add (argv, (gpointer) "--reuid=" TEST_USER);
	g_ptr_array_add (argv, (gpointer) "--regid=" TEST_USER);
	g_ptr_array_add (argv, (gpointer) "--clear-groups");
	g_ptr_array_add (argv, copy);
	g_ptr_array_extend (argv, args, NULL, NULL);
	return nf_test_cli_run_argv (argv, NULL);
}

static void
assert_fits_80 (const gchar *text)
{
	g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_utf8_strlen (lines[i], -1) > 80)
			g_error ("line wider than 80 columns: '%s'", lines[i]);
	}
}

/* --- JSON shapes --- */

static JsonNode *
parse_json (const gchar *text)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error = NULL;

	json_parser_load_from_data (parser, text, -1, &error);
	g_assert_no_error (error);
	return json_node_copy (json_parser_get_root (parser));
}

static void
assert_exact_keys (JsonObject *object, const gchar *const *keys)
{
	g_autoptr (GList) members = json_object_get_members (object);

	g_assert_cmpuint (g_list_length (members), ==, g_strv_length ((gchar **) keys));
	for (guint i = 0; keys[i] != NULL; i++) {
		if (!json_object_has_member (object, keys[i]))
			g_error ("JSON object lacks '%s'", keys[i]);
	}
}

static void
assert_member_type (JsonObject *object, const gchar *key, GType type)
{
	JsonNode *node = json_object_get_member (object, key);

	g_assert_nonnull (node);
	if (type == JSON_TYPE_ARRAY) {
		g_assert_cmpint (json_node_get_node_type (node), ==, JSON_NODE_ARRAY);
		return;
	}
	g_assert_cmpint (json_node_get_node_type (node), ==, JSON_NODE_VALUE);
	g_assert_true (json_node_get_value_type (node) == type);
}

static gboolean
is_mac (const gchar *text)
{
	return g_regex_match_simple ("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", text, 0, 0);
}

static void
check_node_json (JsonObject *node, const gchar *pool)
{
	static const gchar *const keys[] = {"name",
					    "pool",
					    "index",
					    "host",
					    "state",
					    "domain_uuid",
					    "overlay",
					    "console_log",
					    "macs",
					    "addresses",
					    "ready",
					    "nesting",
					    NULL};
	JsonArray *macs;
	g_autofree gchar *name = NULL;

	assert_exact_keys (node, keys);
	for (guint i = 0; keys[i] != NULL; i++) {
		if (g_str_equal (keys[i], "index"))
			assert_member_type (node, keys[i], G_TYPE_INT64);
		else if (g_str_equal (keys[i], "macs") || g_str_equal (keys[i], "addresses"))
			assert_member_type (node, keys[i], JSON_TYPE_ARRAY);
		else if (g_str_equal (keys[i], "ready"))
			assert_member_type (node, keys[i], G_TYPE_BOOLEAN);
		else
			assert_member_type (node, keys[i], G_TYPE_STRING);
	}
	g_assert_cmpstr (json_object_get_string_member (node, "pool"), ==, pool);
	g_assert_cmpstr (json_object_get_string_member (node, "host"), ==, "local");
	/* The tiny image has no guest agent, and this daemon no management
	 * network: never ready, nothing seen inside, no address. */
	g_assert_false (json_object_get_boolean_member (node, "ready"));
	g_assert_cmpstr (json_object_get_string_member (node, "nesting"), ==, "unknown");
	g_assert_cmpuint (json_array_get_length (json_object_get_array_member (node, "addresses")), ==, 0);
	name = g_strdup_printf ("%s-%" G_GINT64_FORMAT, pool, json_object_get_int_member (node, "index"));
	g_assert_cmpstr (json_object_get_string_member (node, "name"), ==, name);
	g_assert_cmpuint (strlen (json_object_get_string_member (node, "domain_uuid")), ==, 36);
	g_assert_true (g_str_has_prefix (json_object_get_string_member (node, "overlay"), "/"));
	g_assert_true (g_str_has_prefix (json_object_get_string_member (node, "console_log"), "/"));
	macs = json_object_get_array_member (node, "macs");
	g_assert_cmpuint (json_array_get_length (macs), >=, 1);
	for (guint i = 0; i < json_array_get_length (macs); i++)
		g_assert_true (is_mac (json_array_get_string_element (macs, i)));
}

static void
check_pool_json (JsonObject *pool, const gchar *name, guint count)
{
	static const gchar *const keys[] = {"name",
					    "profile",
					    "count",
					    "state",
					    "vcpus",
					    "memory_mib",
					    "image",
					    "trunk_bridge",
					    "vlans",
					    "ssh_user",
					    "snapshots",
					    "nodes",
					    NULL};
	JsonArray *nodes;

	assert_exact_keys (pool, keys);
	for (guint i = 0; keys[i] != NULL; i++) {
		if (g_str_equal (keys[i], "count") || g_str_equal (keys[i], "vcpus") ||
		    g_str_equal (keys[i], "memory_mib"))
			assert_member_type (pool, keys[i], G_TYPE_INT64);
		else if (g_str_equal (keys[i], "nodes") || g_str_equal (keys[i], "snapshots"))
			assert_member_type (pool, keys[i], JSON_TYPE_ARRAY);
		else
			assert_member_type (pool, keys[i], G_TYPE_STRING);
	}
	g_assert_cmpstr (json_object_get_string_member (pool, "name"), ==, name);
	g_assert_cmpint (json_object_get_int_member (pool, "count"), ==, count);
	g_assert_cmpint (json_object_get_int_member (pool, "vcpus"), ==, 1);
	g_assert_cmpint (json_object_get_int_member (pool, "memory_mib"), ==, 256);
	g_assert_cmpstr (json_object_get_string_member (pool, "profile"), ==, "kvm-compute");
	g_assert_cmpstr (json_object_get_string_member (pool, "trunk_bridge"), ==, farm->bridge);
	g_assert_cmpstr (json_object_get_string_member (pool, "ssh_user"), ==, "lab");
	nodes = json_object_get_array_member (pool, "nodes");
	g_assert_cmpuint (json_array_get_length (nodes), ==, count);
	for (guint i = 0; i < json_array_get_length (nodes); i++) {
		JsonObject *node = json_array_get_object_element (nodes, i);

		check_node_json (node, name);
		g_assert_cmpint (json_object_get_int_member (node, "index"), ==, i + 1);
	}
}

/* The elements of a JSON array whose "name" starts with "nfcli-": the
 * daemon also adopts what other tests left in libvirt. */
static GPtrArray *
ours (JsonNode *root)
{
	GPtrArray *found = g_ptr_array_new ();
	JsonArray *array;

	g_assert_cmpint (json_node_get_node_type (root), ==, JSON_NODE_ARRAY);
	array = json_node_get_array (root);
	for (guint i = 0; i < json_array_get_length (array); i++) {
		JsonObject *object = json_array_get_object_element (array, i);

		if (g_str_has_prefix (json_object_get_string_member (object, "name"), "nfcli-"))
			g_ptr_array_add (found, object);
	}
	return found;
}

/* The pool as `pool show --json` has it (the test fails if it is gone). */
static JsonNode *
show_pool (const gchar *name)
{
	g_autoptr (NfCliRun) run = cli ("pool", "show", name, "--json", NULL);

	nf_test_cli_assert_status (run, 0);
	return parse_json (run->out);
}

static JsonNode *
show_node (const gchar *name)
{
	g_autoptr (NfCliRun) run = cli ("--json", "node", "show", name, NULL);

	nf_test_cli_assert_status (run, 0);
	return parse_json (run->out);
}

static gboolean
name_owned (void)
{
	g_autoptr (GVariant) reply = NULL;
	gboolean owned = FALSE;

	/* The test's private bus, never the machine's: an installed
	 * nestfarmd owns the name there. */
	reply = g_dbus_connection_call_sync (farm->bus,
					     "org.freedesktop.DBus",
					     "/org/freedesktop/DBus",
					     "org.freedesktop.DBus",
					     "NameHasOwner",
					     g_variant_new ("(s)", BUS_NAME),
					     G_VARIANT_TYPE ("(b)"),
					     G_DBUS_CALL_FLAGS_NONE,
					     5000,
					     NULL,
					     NULL);
	g_assert_nonnull (reply);
	g_variant_get (reply, "(b)", &owned);
	return owned;
}

/* Other tests start their own nestfarmd; only one can own the name. */
static void
wait_until_name_free (void)
{
	gint64 deadline = g_get_monotonic_time () + 300 * G_USEC_PER_SEC;

	while (name_owned ()) {
		if (g_get_monotonic_time () > deadline)
			g_error ("org.nestfarm.Farm1 stayed owned by somebody else for five minutes");
		g_usleep (200 * 1000);
	}
}

/* No daemon owns the name: exit status 3. */
static void
assert_unreachable_without_owner (void)
{
	for (guint attempt = 0; attempt < 20; attempt++) {
		g_autoptr (NfCliRun) run = NULL;

		wait_until_name_free ();
		run = cli ("pool", "list", NULL);
		if (run->status == 3) {
			g_assert_nonnull (strstr (run->err, "cannot reach nestfarmd"));
			return;
		}
	}
	g_error ("org.nestfarm.Farm1 kept being taken by somebody else");
}

/* --- the cases, in order --- */

static void
test_usage (void)
{
	static const gchar *const verbs[][2] = {
		{"pool", "create"},
		{"pool", "delete"},
		{"pool", "list"},
		{"pool", "show"},
		{"pool", "scale"},
		{"pool", "start"},
		{"pool", "stop"},
		{"node", "list"},
		{"node", "show"},
		{"node", "start"},
		{"node", "stop"},
		{"node", "reset"},
		{"node", "console"},
		/* a whole pool's snapshots */
		{"snapshot", "create"},
		{"snapshot", "list"},
		{"snapshot", "revert"},
		{"snapshot", "delete"},
		{"host", "check"},
		{"host", "list"},
		{"host", "show"},
		{"host", "add"},
		{"host", "remove"},
		{"lab", "apply"},
	};
	struct {
		const gchar *args[6];
		const gchar *named; /* the message names the bad argument */
	} bad[] = {
		{{"pool", "create", POOL_A, NULL}, "COUNT"},
		{{"pool", "create", POOL_A, "many", NULL}, "'many'"},
		{{"pool", "create", "Bad_Name", "2", NULL}, "'Bad_Name'"},
		{{"pool", "create", POOL_A, "2", "--vlans=5000", NULL}, "--vlans"},
		{{"pool", "create", POOL_A, "2", "--memory=lots", NULL}, "--memory"},
		{{"pool", "create", POOL_A, "2", "--bridge=a/b", NULL}, "--bridge"},
		{{"pool", "scale", POOL_A, "-1", NULL}, "-1"},
		{{"pool", "list", "extra", NULL}, "'extra'"},
		{{"pool", "delete", POOL_A, "--timeout=0", NULL}, "--timeout"},
		{{"node", "show", "nodash", NULL}, "'nodash'"},
		{{"node", "console", NULL}, "NAME"},
		{{"snapshot", "create", POOL_A, NULL}, "NAME"},
		{{"snapshot", "create", POOL_A, "Bad_Name", NULL}, "'Bad_Name'"},
		{{"snapshot", "revert", "Bad_Pool", "x", NULL}, "'Bad_Pool'"},
		{{"snapshot", "delete", POOL_A, "x", "extra", NULL}, "'extra'"},
		{{"snapshot", "list", NULL}, "POOL"},
		{{"snapshot", "create", POOL_A, "x", "--memory", NULL}, "--memory"},
		{{"pool", "frobnicate", NULL}, "frobnicate"},
		{{"flock", NULL}, "flock"},
		{{"--bogus", "pool", "list", NULL}, "--bogus"},
		{{"pool", "list", "--bogus", NULL}, "--bogus"},
		{{"pool", NULL}, "VERB"},
		{{NULL}, "GROUP"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (verbs); i++) {
		g_autoptr (NfCliRun) run = cli (verbs[i][0], verbs[i][1], "--help", NULL);
		g_autofree gchar *usage = g_strdup_printf ("nestfarmctl %s %s", verbs[i][0], verbs[i][1]);

		nf_test_cli_assert_status (run, 0);
		g_assert_nonnull (strstr (run->out, usage));
		g_assert_nonnull (strstr (run->out, "--json"));
	}
	{
		g_autoptr (NfCliRun) run = cli ("--help", NULL);

		nf_test_cli_assert_status (run, 0);
		for (guint i = 0; i < G_N_ELEMENTS (verbs); i++) {
			g_autofree gchar *line = g_strdup_printf ("%s %s", verbs[i][0], verbs[i][1]);

			g_assert_nonnull (strstr (run->out, line));
		}
		assert_fits_80 (run->out);
	}
	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autoptr (GPtrArray) argv = g_ptr_array_new ();
		g_autoptr (NfCliRun) run = NULL;

		g_ptr_array_add (argv, binary);
		for (guint a = 0; bad[i].args[a] != NULL; a++)
			g_ptr_array_add (argv, (gpointer) bad[i].args[a]);
		run = nf_test_cli_run_argv (argv, NULL);
		nf_test_cli_assert_status (run, 2);
		if (strstr (run->err, bad[i].named) == NULL)
			g_error ("the usage error does not name %s:\n%s", bad[i].named, run->err);
	}
}

static void
test_unreachable (void)
{
	g_autoptr (NfCliRun) no_bus = cli_on_bus ("unix:path=/nonexistent", "pool", "list", NULL);

	nf_test_cli_assert_status (no_bus, 3);
	g_assert_nonnull (strstr (no_bus->err, "cannot reach nestfarmd"));
	{
		g_autoptr (NfCliRun) create =
			cli_on_bus ("unix:path=/nonexistent", "pool", "create", POOL_A, "1", NULL);

		nf_test_cli_assert_status (create, 3);
	}
	assert_unreachable_without_owner ();
}

static void
test_daemon_start (void)
{
	g_autofree gchar *copy = g_build_filename (scratch, "nestfarmctl", NULL);
	g_autofree gchar *contents = NULL;
	gsize length = 0;

	/* a copy every user can run, for the unprivileged cases */
	g_assert_true (g_file_get_contents (binary, &contents, &length, NULL));
	g_assert_true (
		g_file_set_contents_full (copy, contents, length, G_FILE_SET_CONTENTS_NONE, 0755, NULL));
	wait_until_name_free ();
	nf_test_daemon_start (farm);
}

static void
test_host_check (void)
{
	g_autoptr (NfCliRun) human = cli ("host", "check", NULL);
	g_autoptr (NfCliRun) json = cli ("host", "check", "--json", NULL);
	g_autoptr (JsonNode) root = NULL;
	static const gchar *const keys[] = {"usable",
					    "error",
					    "accelerator",
					    "nested_feature",
					    "reason",
					    "memory_total_mib",
					    "memory_available_mib",
					    "checks",
					    NULL};
	static const gchar *const check_keys[] = {"id", "status", "detail", "fix", NULL};
	JsonObject *report;
	JsonArray *checks;

	nf_test_cli_assert_status (human, 0);
	g_assert_nonnull (strstr (human->out, "[pass] "));
	g_assert_nonnull (strstr (human->out, "Accelerator:"));
	assert_fits_80 (human->out);
	nf_test_cli_assert_status (json, 0);
	root = parse_json (json->out);
	report = json_node_get_object (root);
	assert_exact_keys (report, keys);
	g_assert_true (json_object_get_boolean_member (report, "usable"));
	g_assert_true (json_object_get_null_member (report, "error"));
	g_assert_true (g_strv_contains ((const gchar *const[]){"kvm", "emulated", NULL},
					json_object_get_string_member (report, "accelerator")));
	g_assert_cmpint (json_object_get_int_member (report, "memory_total_mib"), >, 0);
	checks = json_object_get_array_member (report, "checks");
	g_assert_cmpuint (json_array_get_length (checks), >, 3);
	for (guint i = 0; i < json_array_get_length (checks); i++) {
		JsonObject *check = json_array_get_object_element (checks, i);
		const gchar *status = json_object_get_string_member (check, "status");

		assert_exact_keys (check, check_keys);
		g_assert_true (
			g_strv_contains ((const gchar *const[]){"pass", "warn", "fail", NULL}, status));
		/* a failure always says how to fix it */
		if (g_str_equal (status, "fail"))
			g_assert_false (json_object_get_null_member (check, "fix"));
	}
}

static void
test_pool_create (void)
{
	g_autoptr (NfCliRun) run = cli ("pool",
					"create",
					POOL_A,
					"2",
					"--memory",
					"256",
					"--vcpus",
					"1",
					"--disk=1",
					"--vlans",
					"100-102,200",
					NULL);
	g_autoptr (JsonNode) root = NULL;
	JsonArray *nodes;

	nf_test_cli_assert_status (run, 0);
	/* no terminal: plain lines, no redraws */
	g_assert_null (strchr (run->out, '\r'));
	g_assert_nonnull (strstr (run->out, "create"));
	g_assert_nonnull (strstr (run->out, " done in "));
	/* what it made, as pool show shows it */
	g_assert_nonnull (strstr (run->out, "Pool:         " POOL_A));
	g_assert_nonnull (strstr (run->out, POOL_A "-1"));
	g_assert_nonnull (strstr (run->out, POOL_A "-2"));
	g_assert_nonnull (strstr (run->out, "running"));
	assert_fits_80 (run->out);

	root = show_pool (POOL_A);
	check_pool_json (json_node_get_object (root), POOL_A, 2);
	g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "vlans"),
			 ==,
			 "100-102,200");
	nodes = json_object_get_array_member (json_node_get_object (root), "nodes");
	for (guint i = 0; i < json_array_get_length (nodes); i++) {
		JsonObject *node = json_array_get_object_element (nodes, i);
		JsonArray *macs = json_object_get_array_member (node, "macs");

		g_assert_cmpstr (json_object_get_string_member (node, "state"), ==, "running");
		/* the management MACs are in the output */
		g_assert_nonnull (strstr (run->out, json_array_get_string_element (macs, 0)));
	}
}

/* host list and host show: the local host holds the pool's two nodes. */
static void
check_hosts (void)
{
	static const gchar *const keys[] = {"name",
					    "uri",
					    "state",
					    "accelerator",
					    "nested_feature",
					    "cpu_model",
					    "memory_total_mib",
					    "memory_committed_mib",
					    "nodes",
					    NULL};
	g_autoptr (NfCliRun) list = cli ("host", "list", "--json", NULL);
	g_autoptr (NfCliRun) show = cli ("host", "show", "local", "--json", NULL);
	g_autoptr (NfCliRun) human = cli ("host", "list", NULL);
	g_autoptr (NfCliRun) missing = cli ("host", "show", "nowhere", NULL);
	g_autoptr (JsonNode) list_root = NULL;
	g_autoptr (JsonNode) show_root = NULL;
	JsonObject *host;
	JsonArray *nodes;

	nf_test_cli_assert_status (list, 0);
	list_root = parse_json (list->out);
	g_assert_cmpuint (json_array_get_length (json_node_get_array (list_root)), ==, 1);
	host = json_array_get_object_element (json_node_get_array (list_root), 0);
	assert_exact_keys (host, keys);
	g_assert_cmpstr (json_object_get_string_member (host, "name"), ==, "local");
	g_assert_cmpstr (json_object_get_string_member (host, "state"), ==, "online");
	g_assert_cmpstr (json_object_get_string_member (host, "uri"), ==, "qemu:///system");
	g_assert_cmpstr (json_object_get_string_member (host, "accelerator"), ==, "emulated");
	g_assert_cmpint (json_object_get_int_member (host, "memory_total_mib"), >, 1024);
	g_assert_cmpint (json_object_get_int_member (host, "memory_committed_mib"), ==, 2 * 256);
	nodes = json_object_get_array_member (host, "nodes");
	g_assert_cmpuint (json_array_get_length (nodes), ==, 2);
	g_assert_cmpstr (json_array_get_string_element (nodes, 0), ==, POOL_A "-1");
	g_assert_cmpstr (json_array_get_string_element (nodes, 1), ==, POOL_A "-2");
	nf_test_cli_assert_status (show, 0);
	show_root = parse_json (show->out);
	g_assert_true (json_object_equal (json_node_get_object (show_root), host));
	nf_test_cli_assert_status (human, 0);
	g_assert_true (g_str_has_prefix (human->out, "HOST "));
	g_assert_nonnull (strstr (human->out, "512 of "));
	assert_fits_80 (human->out);
	nf_test_cli_assert_status (missing, 1);
	g_assert_nonnull (strstr (missing->err, "There is no host 'nowhere'"));
}

static void
test_list_and_show (void)
{
	g_autoptr (NfCliRun) pool_list = cli ("--json", "pool", "list", NULL);
	g_autoptr (NfCliRun) node_list = cli ("node", "list", "--json", NULL);
	g_autoptr (NfCliRun) node_list_pool = cli ("node", "list", POOL_A, "--json", NULL);
	g_autoptr (JsonNode) pools_root = NULL;
	g_autoptr (JsonNode) nodes_root = NULL;
	g_autoptr (JsonNode) pool_nodes_root = NULL;
	g_autoptr (JsonNode) node_root = NULL;
	g_autoptr (GPtrArray) our_pools = NULL;
	g_autoptr (GPtrArray) our_nodes = NULL;
	JsonArray *array;

	nf_test_cli_assert_status (pool_list, 0);
	pools_root = parse_json (pool_list->out);
	our_pools = ours (pools_root);
	g_assert_cmpuint (our_pools->len, ==, 1);
	check_pool_json (g_ptr_array_index (our_pools, 0), POOL_A, 2);

	nf_test_cli_assert_status (node_list, 0);
	nodes_root = parse_json (node_list->out);
	our_nodes = ours (nodes_root);
	g_assert_cmpuint (our_nodes->len, ==, 2);
	for (guint i = 0; i < 2; i++)
		check_node_json (g_ptr_array_index (our_nodes, i), POOL_A);
	nf_test_cli_assert_status (node_list_pool, 0);
	pool_nodes_root = parse_json (node_list_pool->out);
	array = json_node_get_array (pool_nodes_root);
	g_assert_cmpuint (json_array_get_length (array), ==, 2);
	for (guint i = 0; i < 2; i++)
		g_assert_true (json_object_equal (json_array_get_object_element (array, i),
						  g_ptr_array_index (our_nodes, i)));

	node_root = show_node (POOL_A "-2");
	check_node_json (json_node_get_object (node_root), POOL_A);
	g_assert_cmpint (json_object_get_int_member (json_node_get_object (node_root), "index"), ==, 2);

	/* human: aligned tables within 80 columns */
	{
		g_autoptr (NfCliRun) human_pools = cli ("pool", "list", NULL);
		g_autoptr (NfCliRun) human_nodes = cli ("node", "list", NULL);
		g_autoptr (NfCliRun) human_pool = cli ("pool", "show", POOL_A, NULL);
		g_autoptr (NfCliRun) human_node = cli ("node", "show", POOL_A "-1", NULL);

		nf_test_cli_assert_status (human_pools, 0);
		g_assert_true (g_str_has_prefix (human_pools->out, "POOL "));
		g_assert_nonnull (strstr (human_pools->out, POOL_A));
		assert_fits_80 (human_pools->out);
		nf_test_cli_assert_status (human_nodes, 0);
		g_assert_true (g_str_has_prefix (human_nodes->out, "NODE "));
		g_assert_nonnull (strstr (human_nodes->out, POOL_A "-2"));
		assert_fits_80 (human_nodes->out);
		nf_test_cli_assert_status (human_pool, 0);
		assert_fits_80 (human_pool->out);
		nf_test_cli_assert_status (human_node, 0);
		g_assert_nonnull (strstr (human_node->out, "Console log:"));
		assert_fits_80 (human_node->out);
	}
	check_hosts ();
}

static void
test_missing (void)
{
	const gchar *const cases[][4] = {
		{"pool", "show", "nfcli-none", NULL},
		{"pool", "scale", "nfcli-none", "3"},
		{"pool", "delete", "nfcli-none", NULL},
		{"pool", "start", "nfcli-none", NULL},
		{"node", "show", "nfcli-none-1", NULL},
		{"node", "reset", "nfcli-none-1", NULL},
		{"node", "list", "nfcli-none", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (GPtrArray) argv = g_ptr_array_new ();
		g_autoptr (NfCliRun) run = NULL;

		g_ptr_array_add (argv, binary);
		for (guint a = 0; a < 4 && cases[i][a] != NULL; a++)
			g_ptr_array_add (argv, (gpointer) cases[i][a]);
		run = nf_test_cli_run_argv (argv, NULL);
		nf_test_cli_assert_status (run, 1);
		g_assert_nonnull (strstr (run->err, "nfcli-none"));
	}
}

/* What the daemon can tell before it makes anything fails the command at
 * once, exit status 1 and the daemon's reason, and leaves no pool. */
static void
test_create_refused (void)
{
	g_autoptr (GVariant) total = nf_test_get_property (farm,
							   "/org/nestfarm/Farm1",
							   "org.nestfarm.Farm1.Manager",
							   "MemoryTotalMiB");
	g_autofree gchar *too_big =
		g_strdup_printf ("--memory=%" G_GUINT64_FORMAT, g_variant_get_uint64 (total) + 1024);
	g_autoptr (NfCliRun) missing = cli ("pool",
					    "create",
					    "nfcli-x",
					    "1",
					    "--image=/var/tmp/nfcli-no-such.qcow2",
					    "--memory=256",
					    "--disk=1",
					    NULL);
	g_autoptr (NfCliRun) never_fits =
		cli ("pool", "create", "nfcli-x", "1", "--no-start", too_big, "--disk=1", NULL);

	nf_test_cli_assert_status (missing, 1);
	g_assert_nonnull (strstr (missing->err, "/var/tmp/nfcli-no-such.qcow2"));
	nf_test_cli_assert_status (never_fits, 1);
	g_assert_nonnull (strstr (never_fits->err, "memory"));
	g_assert_false (nf_test_object_exists (farm, "/org/nestfarm/Farm1/pool/nfcli_2dx"));
	g_assert_cmpuint (nf_test_domains_named ("nfcli-x-"), ==, 0);
}

static void
test_unauthorized (void)
{
	g_autoptr (NfCliRun) scale = cli_as_user ("pool", "scale", POOL_A, "3", NULL);
	g_autoptr (NfCliRun) create =
		cli_as_user ("pool", "create", "nfcli-z", "1", "--memory=256", "--disk=1", NULL);
	g_autoptr (NfCliRun) reset = cli_as_user ("node", "reset", POOL_A "-1", NULL);
	g_autoptr (NfCliRun) list = cli_as_user ("pool", "list", "--json", NULL);
	g_autoptr (JsonNode) root = NULL;
	g_autoptr (GPtrArray) found = NULL;

	nf_test_cli_assert_status (scale, 4);
	nf_test_cli_assert_status (create, 4);
	nf_test_cli_assert_status (reset, 4);
	/* reading is open to every local user */
	nf_test_cli_assert_status (list, 0);
	root = parse_json (list->out);
	found = ours (root);
	g_assert_cmpuint (found->len, ==, 1);
	check_pool_json (g_ptr_array_index (found, 0), POOL_A, 2);
}

static void
test_scale_on_terminal (void)
{
	g_autoptr (NfCliRun) run = cli_pty ("", "pool scale " POOL_A " 3");
	g_autoptr (JsonNode) root = NULL;

	nf_test_cli_assert_status (run, 0);
	/* the bar is redrawn in place: carriage returns, erase to end of line */
	g_assert_nonnull (strstr (run->out, "\r["));
	g_assert_nonnull (strstr (run->out, "\033[K"));
	g_assert_nonnull (strstr (run->out, "nodes"));
	g_assert_nonnull (strstr (run->out, POOL_A "-3"));
	root = show_pool (POOL_A);
	check_pool_json (json_node_get_object (root), POOL_A, 3);
}

static void
test_scale_down_plain (void)
{
	g_autoptr (NfCliRun) run = cli_pty ("", "--no-progress pool scale " POOL_A " 1");
	g_autoptr (NfCliRun) quiet = NULL;
	g_autoptr (JsonNode) root = NULL;

	/* a terminal, but --no-progress: one line per step */
	nf_test_cli_assert_status (run, 0);
	g_assert_null (strstr (run->out, "\r["));
	/* steps may coalesce: at least one step line, then the summary */
	g_assert_nonnull (strstr (run->out, "/2 nodes, "));
	g_assert_nonnull (strstr (run->out, " done in "));
	g_assert_nonnull (strstr (run->out, "Nodes:        1 of 1"));
	root = show_pool (POOL_A);
	check_pool_json (json_node_get_object (root), POOL_A, 1);
	/* --quiet: nothing at all when all is well */
	quiet = cli ("pool", "scale", POOL_A, "1", "--quiet", NULL);
	nf_test_cli_assert_status (quiet, 0);
	g_assert_cmpstr (quiet->out, ==, "");
	g_assert_cmpstr (quiet->err, ==, "");
}

static void
test_node_stop_start (void)
{
	g_autoptr (NfCliRun) stop = cli ("node", "stop", POOL_A "-1", "--force", NULL);
	g_autoptr (NfCliRun) start = NULL;
	g_autoptr (JsonNode) stopped = NULL;
	g_autoptr (JsonNode) started = NULL;

	nf_test_cli_assert_status (stop, 0);
	g_assert_nonnull (strstr (stop->out, "State:        stopped"));
	stopped = show_node (POOL_A "-1");
	g_assert_cmpstr (json_object_get_string_member (json_node_get_object (stopped), "state"),
			 ==,
			 "stopped");
	start = cli ("--json", "node", "start", POOL_A "-1", NULL);
	nf_test_cli_assert_status (start, 0);
	/* with --json, the node it started on stdout, progress elsewhere */
	started = parse_json (start->out);
	check_node_json (json_node_get_object (started), POOL_A);
	g_assert_cmpstr (json_object_get_string_member (json_node_get_object (started), "state"),
			 ==,
			 "running");
}

static void
test_node_reset (void)
{
	g_autoptr (JsonNode) before = show_node (POOL_A "-1");
	g_autoptr (NfCliRun) run = cli ("node", "reset", POOL_A "-1", NULL);
	g_autoptr (JsonNode) after = NULL;
	JsonObject *b, *a;
	JsonArray *macs_before, *macs_after;

	nf_test_cli_assert_status (run, 0);
	g_assert_nonnull (strstr (run->out, "Node:         " POOL_A "-1"));
	after = show_node (POOL_A "-1");
	b = json_node_get_object (before);
	a = json_node_get_object (after);
	g_assert_cmpstr (json_object_get_string_member (a, "name"),
			 ==,
			 json_object_get_string_member (b, "name"));
	g_assert_cmpstr (json_object_get_string_member (a, "state"), ==, "running");
	macs_before = json_object_get_array_member (b, "macs");
	macs_after = json_object_get_array_member (a, "macs");
	g_assert_cmpuint (json_array_get_length (macs_after), ==, json_array_get_length (macs_before));
	for (guint i = 0; i < json_array_get_length (macs_before); i++)
		g_assert_cmpstr (json_array_get_string_element (macs_after, i),
				 ==,
				 json_array_get_string_element (macs_before, i));
}

/* node ssh refuses a node it cannot log into safely; pool inventory says
 * why a node is left out (the real logins: test-cloud.c). */
static void
test_ssh_refusals (void)
{
	g_autoptr (NfCliRun) ssh = cli ("node", "ssh", POOL_A "-1", "--", "true", NULL);
	g_autoptr (NfCliRun) missing = cli ("node", "ssh", "nfcli-none-1", NULL);
	g_autoptr (NfCliRun) inventory = cli ("pool", "inventory", POOL_A, NULL);

	nf_test_cli_assert_status (ssh, 1);
	g_assert_nonnull (strstr (ssh->err, "has no known management address"));
	g_assert_cmpstr (missing->out, ==, "");
	g_assert_cmpint (missing->status, !=, 0);
	nf_test_cli_assert_status (inventory, 0);
	/* an Ansible group name: the pool's with _ for - */
	g_assert_nonnull (strstr (inventory->out, "[nfcli_a]\n"));
	g_assert_nonnull (strstr (inventory->out, "# " POOL_A "-1: no known management address\n"));
	g_assert_nonnull (strstr (inventory->out, "ansible_user=lab\n"));
}

static void
test_node_console (void)
{
	g_autoptr (JsonNode) node = show_node (POOL_A "-1");
	const gchar *log = json_object_get_string_member (json_node_get_object (node), "console_log");
	g_autoptr (NfCliRun) plain = NULL;
	g_autoptr (NfCliRun) terminal = NULL;

	/* the tiny guest says so on its console when it is up */
	nf_test_wait_for_log_line (log, "NESTFARM-READY", 120);
	plain = cli ("node", "console", POOL_A "-1", NULL);
	nf_test_cli_assert_status (plain, 0);
	g_assert_nonnull (strstr (plain->out, "NESTFARM-READY"));
	/* on a terminal it follows the log until Ctrl-C */
	terminal = cli_pty ("timeout --preserve-status -s INT 3 ", "node console " POOL_A "-1");
	nf_test_cli_assert_status (terminal, 0);
	g_assert_nonnull (strstr (terminal->out, "NESTFARM-READY"));
	g_assert_nonnull (strstr (terminal->out, "following"));
}

static void
test_pool_stop_start (void)
{
	g_autoptr (NfCliRun) stop = cli ("pool", "stop", POOL_A, "--timeout", "60", NULL);
	g_autoptr (NfCliRun) start = NULL;
	g_autoptr (JsonNode) root = NULL;

	nf_test_cli_assert_status (stop, 0);
	g_assert_nonnull (strstr (stop->out, "stopped"));
	root = show_pool (POOL_A);
	g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "state"), ==, "stopped");
	start = cli ("pool", "start", POOL_A, NULL);
	nf_test_cli_assert_status (start, 0);
	g_assert_nonnull (strstr (start->out, "State:        ready"));
}

static gchar *
pool_state (const gchar *name)
{
	g_autoptr (JsonNode) root = show_pool (name);

	return g_strdup (json_object_get_string_member (json_node_get_object (root), "state"));
}

/* Ctrl-C once warns, twice cancels the job. A graceful stop is the job
 * slow enough to catch: the guest takes seconds to power off. */
static void
test_interrupt_cancels (void)
{
	g_autoptr (GSubprocess) process = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (NfCliRun) start = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

	process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				    &error,
				    binary,
				    "pool",
				    "stop",
				    POOL_A,
				    "--timeout=60",
				    NULL);
	g_assert_no_error (error);
	/* once the pool is stopping, the job runs and the command waits */
	for (;;) {
		g_autofree gchar *state = pool_state (POOL_A);

		if (g_str_equal (state, "stopping"))
			break;
		g_assert_cmpint (g_get_monotonic_time (), <, deadline);
		g_usleep (20 * 1000);
	}
	g_usleep (300 * 1000);
	g_subprocess_send_signal (process, SIGINT);
	g_usleep (300 * 1000);
	g_subprocess_send_signal (process, SIGINT);
	g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error));
	g_test_message ("Ctrl-C twice:\n%s%s", out, err);
	g_assert_true (g_subprocess_get_if_exited (process));
	g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
	g_assert_nonnull (strstr (err, "press Ctrl-C again to cancel job"));
	g_assert_nonnull (strstr (err, "was cancelled"));
	/* whatever it had stopped comes back */
	start = cli ("pool", "start", POOL_A, NULL);
	nf_test_cli_assert_status (start, 0);
}

static void
test_pool_delete (void)
{
	g_autoptr (NfCliRun) delete_a = cli ("pool", "delete", POOL_A, "--timeout=60", NULL);
	g_autoptr (NfCliRun) list = cli ("pool", "list", "--json", NULL);
	g_autoptr (NfCliRun) human = cli ("pool", "list", NULL);
	g_autoptr (JsonNode) root = NULL;
	g_autoptr (GPtrArray) found = NULL;

	nf_test_cli_assert_status (delete_a, 0);
	g_assert_nonnull (strstr (delete_a->out, "Pool " POOL_A " is deleted."));
	nf_test_cli_assert_status (list, 0);
	root = parse_json (list->out);
	found = ours (root);
	g_assert_cmpuint (found->len, ==, 0);
	nf_test_cli_assert_status (human, 0);
	g_assert_null (strstr (human->out, "nfcli-"));
}

static void
test_daemon_gone (void)
{
	nf_test_daemon_stop (farm);
	assert_unreachable_without_owner ();
}

int
main (int argc, char **argv)
{
	gint status;

	g_test_init (&argc, &argv, NULL);
	binary = g_build_filename (g_getenv ("NF_BUILD_ROOT"), "src", "cli", "nestfarmctl", NULL);
	g_assert_true (g_file_test (binary, G_FILE_TEST_IS_EXECUTABLE));
	scratch = nf_test_make_world_dir ("nf-cli");
	nf_test_ensure_user (TEST_USER);
	/* The private bus comes up here (the daemon starts later): even the
	 * cases with no daemon run on it, so an installed nestfarmd on the
	 * machine's bus neither answers them nor is asked. */
	farm = nf_test_daemon_new ("cli", NULL);
	g_test_add_func ("/cli/usage", test_usage);
	g_test_add_func ("/cli/unreachable", test_unreachable);
	g_test_add_func ("/cli/daemon-start", test_daemon_start);
	g_test_add_func ("/cli/host-check", test_host_check);
	g_test_add_func ("/cli/pool-create", test_pool_create);
	g_test_add_func ("/cli/list-and-show", test_list_and_show);
	g_test_add_func ("/cli/missing", test_missing);
	g_test_add_func ("/cli/create-refused", test_create_refused);
	g_test_add_func ("/cli/unauthorized", test_unauthorized);
	g_test_add_func ("/cli/scale-on-terminal", test_scale_on_terminal);
	g_test_add_func ("/cli/scale-down-plain", test_scale_down_plain);
	g_test_add_func ("/cli/node-stop-start", test_node_stop_start);
	g_test_add_func ("/cli/node-reset", test_node_reset);
	g_test_add_func ("/cli/node-console", test_node_console);
	g_test_add_func ("/cli/ssh-refusals", test_ssh_refusals);
	g_test_add_func ("/cli/pool-stop-start", test_pool_stop_start);
	g_test_add_func ("/cli/interrupt-cancels", test_interrupt_cancels);
	g_test_add_func ("/cli/pool-delete", test_pool_delete);
	g_test_add_func ("/cli/daemon-gone", test_daemon_gone);
	status = g_test_run ();
	nf_test_daemon_free (farm, pools);
	nf_test_rm_rf (scratch);
	g_free (scratch);
	g_free (binary);
	return status;
}
