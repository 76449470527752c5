/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>

#include "nestfarm/nf-names.h"
#include "nf-cli.h"

/* nestfarmctl snapshot create|list|revert|delete: snapshots of a whole
 * pool, every node at once, each taken, reverted to or deleted by a job of
 * the pool's. */

typedef enum {
	SNAPSHOT_CREATE,
	SNAPSHOT_REVERT,
	SNAPSHOT_DELETE,
} SnapshotAction;

/* A snapshot name follows the pool-name rules (the daemon checks again). */
static gboolean
check_snapshot_name (const NfCliVerb *verb, const gchar *name, NfExit *code)
{
	g_autoptr (GError) error = NULL;

	if (nf_names_validate ("snapshot", name, &error))
		return TRUE;
	*code = nf_cli_usage_error (verb, "NAME '%s' is not a snapshot name: %s", name, error->message);
	return FALSE;
}

/* Asks the daemon for @action on snapshot @name of @pool: the job's path
 * in @job_path. */
static gboolean
call_action (NfDBusPool *pool,
	     SnapshotAction action,
	     const gchar *name,
	     gboolean no_memory,
	     gchar **job_path,
	     GError **error)
{
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

	switch (action) {
	case SNAPSHOT_CREATE:
		/* without --no-memory no option: the daemon's default applies */
		if (no_memory)
			g_variant_builder_add (&options, "{sv}", "memory", g_variant_new_boolean (FALSE));
		return nf_dbus_pool_call_snapshot_sync (pool,
							name,
							g_variant_builder_end (&options),
							job_path,
							NULL,
							error);
	case SNAPSHOT_REVERT:
		return nf_dbus_pool_call_revert_snapshot_sync (pool,
							       name,
							       g_variant_builder_end (&options),
							       job_path,
							       NULL,
							       error);
	case SNAPSHOT_DELETE:
		return nf_dbus_pool_call_delete_snapshot_sync (pool, name, job_path, NULL, error);
	default:
		g_assert_not_reached ();
	}
}

/* snapshot create, revert and delete: POOL NAME, the job followed over
 * the pool's nodes, then the pool shown as after pool scale. */
static NfExit
snapshot_action (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv, SnapshotAction action)
{
	gboolean no_memory = FALSE;
	const GOptionEntry create_entries[] = {
		{"no-memory",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &no_memory,
		 "Save disks only: a revert boots the nodes that ran",
		 NULL},
		{NULL},
	};
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	NfExit code = nf_cli_parse_args (cli,
					 verb,
					 action == SNAPSHOT_CREATE ? create_entries : NULL,
					 &argc,
					 &argv,
					 2,
					 0);

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "POOL", argv[1], &code) ||
	    !check_snapshot_name (verb, argv[2], &code))
		return code;
	pool = nf_cli_find_pool (cli, argv[1], &code);
	if (pool == NULL)
		return code;
	nf_cli_proxy_allow_slow_auth (pool);
	if (!call_action (pool, action, argv[2], no_memory, &job_path, &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, nf_cli_pool_node_count (pool));
	return nf_cli_pool_show_result (cli, argv[1], code);
}

NfExit
nf_cli_snapshot_create (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return snapshot_action (cli, verb, argc, argv, SNAPSHOT_CREATE);
}

NfExit
nf_cli_snapshot_revert (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return snapshot_action (cli, verb, argc, argv, SNAPSHOT_REVERT);
}

NfExit
nf_cli_snapshot_delete (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return snapshot_action (cli, verb, argc, argv, SNAPSHOT_DELETE);
}

/* NAME, CREATED (local time), SIZE, MEMORY: one row a snapshot of
 * @snapshots (a(sttb)), oldest first as the daemon lists them. */
static void
print_snapshot_table (GVariant *snapshots)
{
	g_autoptr (NfTable) table = nf_table_new ();
	GVariantIter iter;
	const gchar *name;
	guint64 created, size;
	gboolean memory;

	nf_table_add_column (table, "NAME", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "CREATED", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "SIZE", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "MEMORY", NF_TABLE_COLUMN_DEFAULT);
	g_variant_iter_init (&iter, snapshots);
	while (g_variant_iter_next (&iter, "(&sttb)", &name, &created, &size, &memory)) {
		g_autofree gchar *when = nf_cli_format_local_time (created, "%Y-%m-%d %H:%M:%S");
		g_autofree gchar *bytes = g_format_size_full (size, G_FORMAT_SIZE_IEC_UNITS);

		nf_table_add_row (table, name, when, bytes, memory ? "yes" : "no", NULL);
	}
	nf_table_print (table, NF_CLI_WIDTH);
}

NfExit
nf_cli_snapshot_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GVariant) snapshots = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "POOL", argv[1], &code))
		return code;
	pool = nf_cli_find_pool (cli, argv[1], &code);
	if (pool == NULL)
		return code;
	if (cli->json) {
		nf_cli_print_json (nf_cli_snapshots_to_json (pool));
		return NF_EXIT_OK;
	}
	snapshots = nf_cli_pool_snapshots (pool);
	if (g_variant_n_children (snapshots) == 0) {
		printf ("No snapshots; 'nestfarmctl snapshot create POOL NAME' takes one.\n");
		return NF_EXIT_OK;
	}
	print_snapshot_table (snapshots);
	return NF_EXIT_OK;
}
