/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>

#include "nf-cli-lab.h"
#include "nf-cli.h"

/* nestfarmctl lab status FILE|DIR: the lab files against the pools as
 * they are. nestfarmctl lab stop FILE|DIR: shuts down every pool the
 * files name (nestfarm-lab.service stops the lab with it). */

/* How a pool stands against the files; its JSON "status" is its name. */
typedef enum {
	ROW_MATCHES,
	ROW_UNNAMED,
	ROW_MISSING,
	ROW_COUNT_DIFFERS,
	ROW_DIFFERS,
	ROW_STOPPED,
	ROW_LAST
} RowStatus;

static const gchar *const row_statuses[] = {
	[ROW_MATCHES] = "matches",
	[ROW_UNNAMED] = "unnamed",
	[ROW_MISSING] = "missing",
	[ROW_COUNT_DIFFERS] = "count-differs",
	[ROW_DIFFERS] = "differs",
	[ROW_STOPPED] = "stopped",
};
G_STATIC_ASSERT (G_N_ELEMENTS (row_statuses) == ROW_LAST);

typedef struct {
	const gchar *name;
	const NfLabPool *lab; /* NULL: no file names the pool */
	NfDBusPool *pool;     /* NULL: the pool does not exist */
	GPtrArray *differences;
	RowStatus status;
} Row;

static void
row_clear (Row *row)
{
	g_clear_object (&row->pool);
	g_clear_pointer (&row->differences, g_ptr_array_unref);
}

static void
compare (NfCli *cli, Row *row)
{
	if (row->lab == NULL) {
		row->status = ROW_UNNAMED;
		return;
	}
	row->pool = nf_cli_lookup_pool (cli, row->lab->name, NULL);
	if (row->pool == NULL) {
		row->status = ROW_MISSING;
		return;
	}
	row->differences = nf_cli_lab_differences (row->lab, row->pool);
	if (nf_dbus_pool_get_count (row->pool) != row->lab->count)
		row->status = ROW_COUNT_DIFFERS;
	else if (row->differences->len > 0)
		row->status = ROW_DIFFERS;
	else if (nf_cli_lab_nodes_to_start (cli, row->lab, row->pool) > 0)
		row->status = ROW_STOPPED;
	else
		row->status = ROW_MATCHES;
}

static JsonNode *
row_to_json (Row *row)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "name");
	json_builder_add_string_value (builder, row->name);
	json_builder_set_member_name (builder, "file");
	if (row->lab != NULL)
		json_builder_add_string_value (builder, row->lab->file);
	else
		json_builder_add_null_value (builder);
	json_builder_set_member_name (builder, "file_count");
	if (row->lab != NULL)
		json_builder_add_int_value (builder, row->lab->count);
	else
		json_builder_add_null_value (builder);
	json_builder_set_member_name (builder, "count");
	if (row->pool != NULL)
		json_builder_add_int_value (builder, nf_dbus_pool_get_count (row->pool));
	else
		json_builder_add_null_value (builder);
	json_builder_set_member_name (builder, "nodes");
	if (row->pool != NULL)
		json_builder_add_int_value (builder, nf_cli_pool_node_count (row->pool));
	else
		json_builder_add_null_value (builder);
	json_builder_set_member_name (builder, "state");
	if (row->pool != NULL)
		json_builder_add_string_value (builder, nf_dbus_pool_get_state (row->pool));
	else
		json_builder_add_null_value (builder);
	json_builder_set_member_name (builder, "status");
	json_builder_add_string_value (builder, row_statuses[row->status]);
	json_builder_set_member_name (builder, "differences");
	json_builder_begin_array (builder);
	for (guint i = 0; row->differences != NULL && i < row->differences->len; i++)
		json_builder_add_string_value (builder, g_ptr_array_index (row->differences, i));
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	return json_builder_get_root (builder);
}

static const gchar *
status_text (Row *row, gchar **owned)
{
	switch (row->status) {
	case ROW_MISSING:
		return "missing: lab apply creates it";
	case ROW_UNNAMED:
		return "no file names it";
	case ROW_COUNT_DIFFERS:
		*owned = g_strdup_printf ("lab apply scales it to %u", row->lab->count);
		return *owned;
	case ROW_DIFFERS:
		return "differs (below)";
	case ROW_STOPPED:
		return "stopped: lab apply starts it";
	case ROW_MATCHES:
	case ROW_LAST:
	default:
		return "matches";
	}
}

/* A row for each pool of the lab file (@lab), then for each pool the
 * daemon has that no file names. */
static GArray *
collect_rows (NfCli *cli, GPtrArray *lab)
{
	g_autoptr (GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
	g_autoptr (GPtrArray) pools = NULL;

	g_array_set_clear_func (rows, (GDestroyNotify) row_clear);
	for (guint i = 0; i < lab->len; i++) {
		Row row = {((NfLabPool *) g_ptr_array_index (lab, i))->name, g_ptr_array_index (lab, i)};

		compare (cli, &row);
		g_array_append_val (rows, row);
	}
	pools = nf_cli_list_pools (cli);
	for (guint i = 0; i < pools->len; i++) {
		NfDBusPool *pool = g_ptr_array_index (pools, i);
		gboolean named = FALSE;

		for (guint r = 0; r < lab->len && !named; r++)
			named = g_strcmp0 (g_array_index (rows, Row, r).name, nf_dbus_pool_get_name (pool)) ==
				0;
		if (!named) {
			Row row = {nf_dbus_pool_get_name (pool), NULL, g_object_ref (pool)};

			compare (cli, &row);
			g_array_append_val (rows, row);
		}
	}
	return g_steal_pointer (&rows);
}

static void
print_rows_json (GArray *rows)
{
	g_autoptr (JsonArray) array = json_array_new ();
	JsonNode *root = json_node_new (JSON_NODE_ARRAY);

	for (guint r = 0; r < rows->len; r++)
		json_array_add_element (array, row_to_json (&g_array_index (rows, Row, r)));
	json_node_set_array (root, array);
	nf_cli_print_json (root);
}

static void
print_rows_table (GArray *rows)
{
	g_autoptr (NfTable) table = nf_table_new ();

	nf_table_add_column (table, "POOL", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "STATE", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "NODES", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "IN FILE", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "STATUS", NF_TABLE_COLUMN_WRAP);
	for (guint r = 0; r < rows->len; r++) {
		Row *row = &g_array_index (rows, Row, r);
		g_autofree gchar *nodes = NULL;
		g_autofree gchar *in_file = NULL;
		g_autofree gchar *owned = NULL;

		if (row->pool != NULL)
			nodes = g_strdup_printf ("%u/%u",
						 nf_cli_pool_node_count (row->pool),
						 nf_dbus_pool_get_count (row->pool));
		if (row->lab != NULL)
			in_file = g_strdup_printf ("%u", row->lab->count);
		nf_table_add_row (table,
				  row->name,
				  row->pool != NULL ? nf_dbus_pool_get_state (row->pool) : "-",
				  nodes != NULL ? nodes : "-",
				  in_file != NULL ? in_file : "-",
				  status_text (row, &owned),
				  NULL);
	}
	nf_table_print (table, NF_CLI_WIDTH);
}

/* What differs, a line each, below the table. */
static void
print_differences (GArray *rows)
{
	for (guint r = 0; r < rows->len; r++) {
		Row *row = &g_array_index (rows, Row, r);

		for (guint i = 0; row->differences != NULL && i < row->differences->len; i++) {
			g_autofree gchar *line =
				g_strdup_printf ("%s: %s (%s)",
						 row->name,
						 (const gchar *) g_ptr_array_index (row->differences, i),
						 row->lab->file);

			nf_cli_print_wrapped ("", "  ", line);
		}
	}
}

NfExit
nf_cli_lab_status (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (GPtrArray) lab = NULL;
	g_autoptr (GArray) rows = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);

	if (code != NF_EXIT_OK)
		return code;
	lab = nf_cli_lab_load (cli, argv[1], &code);
	if (lab == NULL)
		return code;
	rows = collect_rows (cli, lab);
	if (cli->json) {
		print_rows_json (rows);
		return NF_EXIT_OK;
	}
	print_rows_table (rows);
	print_differences (rows);
	return NF_EXIT_OK;
}

NfExit
nf_cli_lab_stop (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	gboolean force = FALSE;
	g_autofree gchar *timeout_text = NULL;
	const GOptionEntry entries[] = {
		{"force",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &force,
		 "Power the nodes off at once, no graceful shutdown",
		 NULL},
		{"timeout",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &timeout_text,
		 "Seconds for a graceful shutdown",
		 "SECONDS"},
		{NULL},
	};
	g_autoptr (GPtrArray) lab = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, entries, &argc, &argv, 1, 0);
	NfExit worst = NF_EXIT_OK;
	guint timeout = 0;

	if (code != NF_EXIT_OK)
		return code;
	if (timeout_text != NULL &&
	    !nf_cli_parse_uint (verb, "--timeout", timeout_text, 1, NF_SHUTDOWN_TIMEOUT_MAX, &timeout, &code))
		return code;
	lab = nf_cli_lab_load (cli, argv[1], &code);
	if (lab == NULL)
		return code;
	/* every pool gets its chance, whatever befell the one before */
	for (guint i = 0; i < lab->len; i++) {
		const NfLabPool *one = g_ptr_array_index (lab, i);
		g_autoptr (NfDBusPool) pool = nf_cli_lookup_pool (cli, one->name, NULL);
		g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
		g_autoptr (GError) error = NULL;
		g_autofree gchar *job_path = NULL;

		if (pool == NULL || nf_cli_pool_in_state (pool, NF_POOL_STATE_STOPPED)) {
			if (!cli->quiet)
				printf ("%s: pool %s %s\n",
					one->file,
					one->name,
					pool == NULL ? "does not exist" : "is stopped");
			continue;
		}
		if (!cli->quiet)
			printf ("%s: stopping pool %s\n", one->file, one->name);
		fflush (stdout);
		nf_cli_add_stop_options (&options, force, timeout);
		nf_cli_proxy_allow_slow_auth (pool);
		if (!nf_dbus_pool_call_stop_sync (pool,
						  g_variant_builder_end (&options),
						  &job_path,
						  NULL,
						  &error))
			code = nf_cli_fail (error);
		else
			code = nf_cli_follow_job (cli, job_path, nf_cli_pool_node_count (pool));
		if (worst == NF_EXIT_OK)
			worst = code;
		if (code == NF_EXIT_UNREACHABLE)
			break;
	}
	return worst;
}
