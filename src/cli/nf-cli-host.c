/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nf-cli.h"

/* nestfarmctl host check: the daemon's CheckHost report, each check as
 * pass, warn or fail with its fix. Fails (exit 1) when nodes cannot run:
 * nested KVM is unavailable and emulation is off or unavailable.
 * host list and host show: the farm's hosts, their state, memory and nodes. */

static const gchar *
lookup_string (GVariant *dict, const gchar *key)
{
	const gchar *value = NULL;

	if (dict == NULL || !g_variant_lookup (dict, key, "&s", &value))
		return NULL;
	return value;
}

/* for human output: never NULL */
static const gchar *
text_of (GVariant *dict, const gchar *key)
{
	const gchar *value = lookup_string (dict, key);

	return value != NULL ? value : "?";
}

static guint64
lookup_uint64 (GVariant *dict, const gchar *key)
{
	guint64 value = 0;

	if (dict != NULL)
		g_variant_lookup (dict, key, "t", &value);
	return value;
}

static void
add_member_string (JsonBuilder *builder, const gchar *key, const gchar *value)
{
	json_builder_set_member_name (builder, key);
	if (value != NULL)
		json_builder_add_string_value (builder, value);
	else
		json_builder_add_null_value (builder);
}

/* One document whether or not the host can run nodes; @report is NULL
 * when CheckHost failed with @error. */
static void
print_json (GVariant *report, GVariant *checks, const gchar *error)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "usable");
	json_builder_add_boolean_value (builder, report != NULL);
	add_member_string (builder, "error", error);
	add_member_string (builder, "accelerator", lookup_string (report, "accelerator"));
	add_member_string (builder, "nested_feature", lookup_string (report, "nested-feature"));
	add_member_string (builder, "reason", lookup_string (report, "reason"));
	json_builder_set_member_name (builder, "memory_total_mib");
	json_builder_add_int_value (builder, (gint64) lookup_uint64 (report, "memory-total-mib"));
	json_builder_set_member_name (builder, "memory_available_mib");
	json_builder_add_int_value (builder, (gint64) lookup_uint64 (report, "memory-available-mib"));
	json_builder_set_member_name (builder, "checks");
	json_builder_begin_array (builder);
	for (gsize i = 0; checks != NULL && i < g_variant_n_children (checks); i++) {
		g_autoptr (GVariant) check = g_variant_get_child_value (checks, i);

		json_builder_begin_object (builder);
		add_member_string (builder, "id", lookup_string (check, "id"));
		add_member_string (builder, "status", lookup_string (check, "status"));
		add_member_string (builder, "detail", lookup_string (check, "detail"));
		add_member_string (builder, "fix", lookup_string (check, "fix"));
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	nf_cli_print_json (json_builder_get_root (builder));
}

/* What was seen inside the nodes: the proof the host's checks predict. */
static void
print_nesting (NfCli *cli)
{
	g_autoptr (GPtrArray) nodes = nf_cli_list_nodes (cli, NULL);
	g_autoptr (GString) missing = g_string_new (NULL);
	guint verified = 0, unknown = 0, n_missing = 0;
	g_autofree gchar *line = NULL;

	if (nodes->len == 0)
		return;
	for (guint i = 0; i < nodes->len; i++) {
		NfDBusNode *node = g_ptr_array_index (nodes, i);
		const gchar *nesting = nf_dbus_node_get_nesting (node);

		if (g_strcmp0 (nesting, "verified") == 0) {
			verified++;
		} else if (g_strcmp0 (nesting, "missing") == 0) {
			g_string_append_printf (missing,
						"%s%s",
						n_missing > 0 ? ", " : "",
						nf_dbus_node_get_name (node));
			n_missing++;
		} else {
			unknown++;
		}
	}
	line = g_strdup_printf ("Inside the nodes: nesting verified in %u, missing in %u%s%s%s, unknown in %u "
				"(no guest agent, or not booted).",
				verified,
				n_missing,
				n_missing > 0 ? " (" : "",
				missing->str,
				n_missing > 0 ? ")" : "",
				unknown);
	nf_cli_print_wrapped ("", "", line);
	if (n_missing > 0)
		nf_cli_print_wrapped ("fix: ",
				      "     ",
				      "a node with 'missing' booted but cannot run KVM itself: its CPU shows no vmx/svm or "
				      "its kernel has no kvm_intel/kvm_amd. Fix what the checks above say, use an image "
				      "whose kernel has the KVM modules, then reset or re-create the node.");
}

static void
print_human (NfCli *cli, GVariant *report, GVariant *checks)
{
	const gchar *accelerator = lookup_string (report, "accelerator");
	g_autofree gchar *accel_line = g_strdup_printf ("%s (nodes get %s)",
							text_of (report, "accelerator"),
							text_of (report, "nested-feature"));
	g_autofree gchar *memory = g_strdup_printf ("%" G_GUINT64_FORMAT " MiB total, %" G_GUINT64_FORMAT
						    " MiB available, %" G_GUINT64_FORMAT " MiB held by nodes",
						    lookup_uint64 (report, "memory-total-mib"),
						    lookup_uint64 (report, "memory-available-mib"),
						    nf_dbus_manager_get_memory_committed_mib (cli->manager));
	const gchar *uri = nf_dbus_manager_get_libvirt_uri (cli->manager);
	guint counts[NF_CHECK_LAST] = {0};
	g_autofree gchar *summary = NULL;

	nf_cli_print_wrapped ("Accelerator:  ", "              ", accel_line);
	nf_cli_print_wrapped ("              ", "              ", text_of (report, "reason"));
	nf_cli_print_wrapped ("Memory:       ", "              ", memory);
	if (uri != NULL)
		nf_cli_print_wrapped ("libvirt:      ", "              ", uri);
	printf ("\n");
	for (gsize i = 0; i < g_variant_n_children (checks); i++) {
		g_autoptr (GVariant) check = g_variant_get_child_value (checks, i);
		NfCheckStatus status = NF_CHECK_FAIL;
		const gchar *fix = lookup_string (check, "fix");
		g_autofree gchar *first = g_strdup_printf ("[%s] ", text_of (check, "status"));
		g_autofree gchar *line =
			g_strdup_printf ("%s: %s", text_of (check, "id"), text_of (check, "detail"));

		/* a status this nestfarmctl does not know counts as failed */
		nf_check_status_from_string (lookup_string (check, "status"), &status);
		nf_cli_print_wrapped (first, "       ", line);
		if (fix != NULL && status != NF_CHECK_PASS) {
			g_autofree gchar *fix_line = g_strdup_printf ("fix: %s", fix);

			nf_cli_print_wrapped ("       ", "            ", fix_line);
		}
		counts[status]++;
	}
	summary = g_strdup_printf ("%u passed, %u warnings, %u failed: nodes run %s.",
				   counts[NF_CHECK_PASS],
				   counts[NF_CHECK_WARN],
				   counts[NF_CHECK_FAIL],
				   g_strcmp0 (accelerator, "kvm") == 0 ? "with nested KVM"
								       : "emulated (QEMU TCG, slowly)");
	printf ("\n");
	nf_cli_print_wrapped ("", "", summary);
	print_nesting (cli);
}

NfExit
nf_cli_host_check (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (GVariant) report = NULL;
	g_autoptr (GVariant) checks = NULL;
	g_autoptr (GError) error = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 0, 0);

	if (code != NF_EXIT_OK)
		return code;
	code = nf_cli_connect (cli);
	if (code != NF_EXIT_OK)
		return code;
	/* probing libvirt can take a while on a busy host */
	g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (cli->manager), 120000);
	if (!nf_dbus_manager_call_check_host_sync (cli->manager, &report, NULL, &error)) {
		g_autoptr (GError) shown = g_error_copy (error);

		code = nf_cli_error_exit (error);
		if (!cli->json || code != NF_EXIT_FAILED)
			return nf_cli_fail (error);
		g_dbus_error_strip_remote_error (shown);
		print_json (NULL, NULL, shown->message);
		return code;
	}
	checks = g_variant_lookup_value (report, "checks", G_VARIANT_TYPE ("aa{sv}"));
	if (checks == NULL)
		checks = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0));
	if (cli->json)
		print_json (report, checks, NULL);
	else
		print_human (cli, report, checks);
	return NF_EXIT_OK;
}

/* --- host list and host show: the farm's hosts --- */

static gint
compare_hosts (gconstpointer a, gconstpointer b)
{
	const gchar *na = nf_dbus_host_get_name (*(NfDBusHost *const *) a);
	const gchar *nb = nf_dbus_host_get_name (*(NfDBusHost *const *) b);
	gboolean la = g_strcmp0 (na, NF_HOST_LOCAL) == 0, lb = g_strcmp0 (nb, NF_HOST_LOCAL) == 0;

	/* local first, as the daemon lists them */
	if (la != lb)
		return la ? -1 : 1;
	return g_strcmp0 (na, nb);
}

static GPtrArray *
list_hosts (NfCli *cli)
{
	GPtrArray *hosts = g_ptr_array_new_with_free_func (g_object_unref);
	GList *objects = g_dbus_object_manager_get_objects (cli->objects);

	for (GList *l = objects; l != NULL; l = l->next) {
		NfDBusHost *host = nf_dbus_object_get_host (NF_DBUS_OBJECT (l->data));

		if (host != NULL)
			g_ptr_array_add (hosts, host);
	}
	g_list_free_full (objects, g_object_unref);
	g_ptr_array_sort (hosts, compare_hosts);
	return hosts;
}

static guint
strv_count (const gchar *const *strv)
{
	return strv != NULL ? g_strv_length ((gchar **) strv) : 0;
}

static JsonNode *
host_to_json (NfDBusHost *host)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	const gchar *const *nodes = nf_dbus_host_get_nodes (host);

	json_builder_begin_object (builder);
	add_member_string (builder, "name", nf_dbus_host_get_name (host));
	add_member_string (builder, "uri", nf_dbus_host_get_uri (host));
	add_member_string (builder, "state", nf_dbus_host_get_state (host));
	add_member_string (builder, "accelerator", nf_dbus_host_get_accelerator (host));
	add_member_string (builder, "nested_feature", nf_dbus_host_get_nested_feature (host));
	add_member_string (builder, "cpu_model", nf_dbus_host_get_cpu_model (host));
	json_builder_set_member_name (builder, "memory_total_mib");
	json_builder_add_int_value (builder,
				    (gint64) MIN (nf_dbus_host_get_memory_total_mib (host), G_MAXINT64));
	json_builder_set_member_name (builder, "memory_committed_mib");
	json_builder_add_int_value (builder,
				    (gint64) MIN (nf_dbus_host_get_memory_committed_mib (host), G_MAXINT64));
	json_builder_set_member_name (builder, "nodes");
	json_builder_begin_array (builder);
	for (guint i = 0; i < strv_count (nodes); i++) {
		g_autofree gchar *name = nf_cli_name_from_path (nodes[i]);

		json_builder_add_string_value (builder, name);
	}
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	return json_builder_get_root (builder);
}

/* an empty property (not probed yet) as "-" */
static const gchar *
text_of_host (const gchar *value)
{
	return value != NULL && value[0] != '\0' ? value : "-";
}

/* "1024 of 23000 MiB" */
static gchar *
memory_text (NfDBusHost *host)
{
	return g_strdup_printf ("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " MiB",
				nf_dbus_host_get_memory_committed_mib (host),
				nf_dbus_host_get_memory_total_mib (host));
}

static void
print_host_table (GPtrArray *hosts)
{
	g_autoptr (NfTable) table = nf_table_new ();

	nf_table_add_column (table, "HOST", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "STATE", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "NODES", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "MEMORY HELD", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "ACCEL", NF_TABLE_COLUMN_OPTIONAL);
	nf_table_add_column (table, "URI", NF_TABLE_COLUMN_WRAP);
	for (guint i = 0; i < hosts->len; i++) {
		NfDBusHost *host = g_ptr_array_index (hosts, i);
		g_autofree gchar *count = g_strdup_printf ("%u", strv_count (nf_dbus_host_get_nodes (host)));
		g_autofree gchar *memory = memory_text (host);

		nf_table_add_row (table,
				  nf_dbus_host_get_name (host),
				  nf_dbus_host_get_state (host),
				  count,
				  memory,
				  nf_dbus_host_get_accelerator (host),
				  nf_dbus_host_get_uri (host),
				  NULL);
	}
	nf_table_print (table, NF_CLI_WIDTH);
}

NfExit
nf_cli_host_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (GPtrArray) hosts = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 0, 0);

	if (code != NF_EXIT_OK)
		return code;
	code = nf_cli_connect (cli);
	if (code != NF_EXIT_OK)
		return code;
	hosts = list_hosts (cli);
	if (cli->json) {
		g_autoptr (JsonArray) array = json_array_sized_new (hosts->len);
		JsonNode *root = json_node_new (JSON_NODE_ARRAY);

		for (guint i = 0; i < hosts->len; i++)
			json_array_add_element (array, host_to_json (g_ptr_array_index (hosts, i)));
		json_node_set_array (root, array);
		nf_cli_print_json (root);
		return NF_EXIT_OK;
	}
	print_host_table (hosts);
	return NF_EXIT_OK;
}

static void
print_host (NfDBusHost *host)
{
	const gchar *const *nodes = nf_dbus_host_get_nodes (host);
	g_autofree gchar *memory = memory_text (host);
	g_autoptr (GString) names = g_string_new (NULL);

	for (guint i = 0; i < strv_count (nodes); i++) {
		g_autofree gchar *name = nf_cli_name_from_path (nodes[i]);

		g_string_append_printf (names, "%s%s", i > 0 ? " " : "", name);
	}
	nf_cli_print_wrapped ("Host:         ", "              ", nf_dbus_host_get_name (host));
	nf_cli_print_wrapped ("State:        ", "              ", nf_dbus_host_get_state (host));
	nf_cli_print_wrapped ("URI:          ", "              ", nf_dbus_host_get_uri (host));
	nf_cli_print_wrapped ("Accelerator:  ",
			      "              ",
			      text_of_host (nf_dbus_host_get_accelerator (host)));
	nf_cli_print_wrapped ("Nested:       ",
			      "              ",
			      text_of_host (nf_dbus_host_get_nested_feature (host)));
	nf_cli_print_wrapped ("CPU model:    ",
			      "              ",
			      text_of_host (nf_dbus_host_get_cpu_model (host)));
	nf_cli_print_wrapped ("Memory held:  ", "              ", memory);
	nf_cli_print_wrapped ("Nodes:        ", "              ", names->len > 0 ? names->str : "none");
}

NfDBusHost *
nf_cli_lookup_host (NfCli *cli, const gchar *name)
{
	g_autofree gchar *path = nf_cli_host_path (name);
	g_autoptr (GDBusObject) object = g_dbus_object_manager_get_object (cli->objects, path);

	return object != NULL ? nf_dbus_object_get_host (NF_DBUS_OBJECT (object)) : NULL;
}

/* After host add: the host as host show shows it. */
static NfExit
show_result (NfCli *cli, const gchar *name, NfExit code)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfDBusHost) host = NULL;

	if (code != NF_EXIT_OK || cli->quiet)
		return code;
	if (!nf_cli_refresh (cli, &error))
		return nf_cli_fail (error);
	host = nf_cli_lookup_host (cli, name);
	if (host == NULL)
		return code;
	if (cli->json) {
		nf_cli_print_json (host_to_json (host));
		return code;
	}
	printf ("\n");
	print_host (host);
	return code;
}

/* host add NAME URI [--peer-uri URI] and host remove NAME: the checks and the connection
 * they share, then the call; the job's path, or NULL with *@code. */
static gchar *
call_host_method (NfCli *cli, const NfCliVerb *verb, gint *argc, gchar ***args, gboolean add, NfExit *code)
{
	g_autoptr (GError) error = NULL;
	gchar *job_path = NULL;
	gchar **argv;
	gboolean called;
	g_autofree gchar *peer_uri = NULL;
	const GOptionEntry add_entries[] = {
		{"peer-uri",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &peer_uri,
		 "The host's libvirt as the other hosts reach it, for moving nodes (default: URI)",
		 "URI"},
		{NULL},
	};
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

	*code = nf_cli_parse_args (cli, verb, add ? add_entries : NULL, argc, args, add ? 2 : 1, 0);
	argv = *args;
	if (*code != NF_EXIT_OK || !nf_cli_check_pool_name (verb, "NAME", argv[1], code))
		return NULL;
	*code = nf_cli_connect (cli);
	if (*code != NF_EXIT_OK)
		return NULL;
	nf_cli_proxy_allow_slow_auth (cli->manager);
	if (peer_uri != NULL)
		g_variant_builder_add (&options, "{sv}", "peer-uri", g_variant_new_string (peer_uri));
	called = add ? nf_dbus_manager_call_add_host_sync (cli->manager,
							   argv[1],
							   argv[2],
							   g_variant_builder_end (&options),
							   &job_path,
							   NULL,
							   &error)
		     : nf_dbus_manager_call_remove_host_sync (cli->manager,
							      argv[1],
							      g_variant_new ("a{sv}", NULL),
							      &job_path,
							      NULL,
							      &error);
	if (!called)
		*code = nf_cli_fail (error);
	return job_path;
}

NfExit
nf_cli_host_add (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	NfExit code = NF_EXIT_OK;
	g_autofree gchar *job_path = call_host_method (cli, verb, &argc, &argv, TRUE, &code);

	if (job_path == NULL)
		return code;
	return show_result (cli, argv[1], nf_cli_follow_job (cli, job_path, 0));
}

NfExit
nf_cli_host_remove (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	NfExit code = NF_EXIT_OK;
	g_autofree gchar *job_path = call_host_method (cli, verb, &argc, &argv, FALSE, &code);

	if (job_path == NULL)
		return code;
	code = nf_cli_follow_job (cli, job_path, 0);
	if (code == NF_EXIT_OK && !cli->quiet)
		printf ("Host %s is no longer in the farm.\n", argv[1]);
	return code;
}

NfExit
nf_cli_host_show (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusHost) host = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "NAME", argv[1], &code))
		return code;
	code = nf_cli_connect (cli);
	if (code != NF_EXIT_OK)
		return code;
	host = nf_cli_lookup_host (cli, argv[1]);
	if (host == NULL) {
		g_autoptr (GError) error =
			g_error_new (NF_ERROR,
				     NF_ERROR_NOT_FOUND,
				     "There is no host '%s'; 'nestfarmctl host list' shows the hosts.",
				     argv[1]);

		return nf_cli_fail (error);
	}
	if (cli->json)
		nf_cli_print_json (host_to_json (host));
	else
		print_host (host);
	return NF_EXIT_OK;
}

/* host drain NAME and host activate NAME: the host's method, its job
 * followed, then the host as host show shows it. */
static NfExit
host_admin (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv, gboolean drain)
{
	g_autoptr (NfDBusHost) host = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);
	gboolean called;

	if (code != NF_EXIT_OK || !nf_cli_check_pool_name (verb, "NAME", argv[1], &code))
		return code;
	code = nf_cli_connect (cli);
	if (code != NF_EXIT_OK)
		return code;
	host = nf_cli_lookup_host (cli, argv[1]);
	if (host == NULL) {
		g_set_error (&error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no host '%s'; 'nestfarmctl host list' shows the hosts.",
			     argv[1]);
		return nf_cli_fail (error);
	}
	nf_cli_proxy_allow_slow_auth (host);
	called = drain ? nf_dbus_host_call_drain_sync (host,
						       g_variant_new ("a{sv}", NULL),
						       &job_path,
						       NULL,
						       &error)
		       : nf_dbus_host_call_activate_sync (host, &job_path, NULL, &error);
	if (!called)
		return nf_cli_fail (error);
	return show_result (cli, argv[1], nf_cli_follow_job (cli, job_path, 0));
}

NfExit
nf_cli_host_drain (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return host_admin (cli, verb, argc, argv, TRUE);
}

NfExit
nf_cli_host_activate (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return host_admin (cli, verb, argc, argv, FALSE);
}

/* farm rebalance [--threshold PERCENT] [--max-moves N] */
NfExit
nf_cli_farm_rebalance (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autofree gchar *threshold_text = NULL;
	g_autofree gchar *moves_text = NULL;
	const GOptionEntry entries[] = {
		{"threshold",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &threshold_text,
		 "How far apart the hosts' memory use may be (percentage points, default 20)",
		 "PERCENT"},
		{"max-moves", 0, 0, G_OPTION_ARG_STRING, &moves_text, "Move at most N nodes (default 4)", "N"},
		{NULL},
	};
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, entries, &argc, &argv, 0, 0);
	guint value = 0;

	if (code != NF_EXIT_OK)
		return code;
	if (threshold_text != NULL) {
		if (!nf_cli_parse_uint (verb, "--threshold", threshold_text, 1, 100, &value, &code))
			return code;
		g_variant_builder_add (&options, "{sv}", "threshold", g_variant_new_uint32 (value));
	}
	if (moves_text != NULL) {
		if (!nf_cli_parse_uint (verb,
					"--max-moves",
					moves_text,
					1,
					NF_REBALANCE_MAX_MOVES_MAX,
					&value,
					&code))
			return code;
		g_variant_builder_add (&options, "{sv}", "max-moves", g_variant_new_uint32 (value));
	}
	code = nf_cli_connect (cli);
	if (code != NF_EXIT_OK)
		return code;
	nf_cli_proxy_allow_slow_auth (cli->manager);
	if (!nf_dbus_manager_call_rebalance_sync (cli->manager,
						  g_variant_builder_end (&options),
						  &job_path,
						  NULL,
						  &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, 0);
	if (code == NF_EXIT_OK && !cli->quiet && !cli->json)
		printf ("The farm is rebalanced; 'nestfarmctl host list' shows the hosts.\n");
	return code;
}
