/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-states.h"
#include "nf-dbus-generated.h"

G_BEGIN_DECLS

/* What nestfarmctl's files share: the verb table, argument checks, the bus
 * connection and lookups, following a job, tables and JSON, and every verb. */

#define NF_CLI_BUS_NAME "org.nestfarm.Farm1"
#define NF_CLI_ROOT     "/org/nestfarm/Farm1"
/* Human output fits a classic terminal. */
#define NF_CLI_WIDTH 80

/* The daemon's limits (nf-limits.h) are checked here too, so that a bad
 * value is a usage error naming its argument (the daemon checks again). */

/* The exit statuses of the contract. */
typedef enum {
	NF_EXIT_OK = 0,
	NF_EXIT_FAILED = 1,
	NF_EXIT_USAGE = 2,
	NF_EXIT_UNREACHABLE = 3,
	NF_EXIT_NOT_AUTHORIZED = 4,
} NfExit;

typedef struct _NfCli NfCli;
typedef struct _NfCliVerb NfCliVerb;

/* A verb runs with its own argv: argv[0] is "nestfarmctl GROUP VERB". */
typedef NfExit (*NfCliVerbFunc) (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);

struct _NfCliVerb {
	const gchar *group;
	const gchar *name;
	const gchar *args; /* the positional arguments, for usage */
	const gchar *summary;
	NfCliVerbFunc run;
};

struct _NfCli {
	/* global options */
	gboolean session;
	gboolean json;
	gboolean quiet;
	gboolean no_progress;
	/* the connection, made on first use */
	GDBusConnection *bus;
	GDBusObjectManager *objects;
	NfDBusManager *manager;
};

/* nf-cli-main.c: the global options, so each verb also accepts them. */
const GOptionEntry *nf_cli_global_entries (NfCli *cli);

/* nf-cli-seed.c: the seed options of `pool create` (--ssh-key, read from
 * the caller's ~/.ssh/ public keys when @key_files is NULL, --ssh-user,
 * --user-data). */
gboolean nf_cli_seed_options (const NfCliVerb *verb,
			      gchar **key_files,
			      const gchar *ssh_user,
			      const gchar *user_data_file,
			      GVariantBuilder *options,
			      NfExit *code);

/* nf-cli-common.c */
NfExit nf_cli_usage_error (const NfCliVerb *verb, const gchar *format, ...) G_GNUC_PRINTF (2, 3);
NfExit nf_cli_parse_args (NfCli *cli,
			  const NfCliVerb *verb,
			  const GOptionEntry *entries,
			  gint *argc,
			  gchar ***argv,
			  guint n_required,
			  guint n_optional);
gboolean nf_cli_parse_uint (const NfCliVerb *verb,
			    const gchar *what,
			    const gchar *text,
			    guint min,
			    guint max,
			    guint *value,
			    NfExit *exit_code);
gboolean nf_cli_check_pool_name (const NfCliVerb *verb,
				 const gchar *what,
				 const gchar *name,
				 NfExit *exit_code);
gboolean nf_cli_check_node_name (const NfCliVerb *verb, const gchar *name, NfExit *exit_code);
gboolean nf_cli_check_bridge (const NfCliVerb *verb, const gchar *bridge, NfExit *exit_code);
NfExit nf_cli_error_exit (const GError *error);
NfExit nf_cli_fail (const GError *error);
NfExit nf_cli_fail_literal (NfExit code, const gchar *format, ...) G_GNUC_PRINTF (2, 3);
NfExit nf_cli_connect (NfCli *cli);
gboolean nf_cli_refresh (NfCli *cli, GError **error);
void nf_cli_free (NfCli *cli);
void nf_cli_proxy_allow_slow_auth (gpointer proxy);
/* A Stop call's options: force, and the graceful wait (0: the daemon's). */
void nf_cli_add_stop_options (GVariantBuilder *options, gboolean force, guint timeout);

gchar *nf_cli_pool_path (const gchar *name);
gchar *nf_cli_node_path (const gchar *name);
gchar *nf_cli_host_path (const gchar *name);
/* The host @name as the object manager has it, or NULL. */
NfDBusHost *nf_cli_lookup_host (NfCli *cli, const gchar *name);
gchar *nf_cli_name_from_path (const gchar *path);
NfDBusPool *nf_cli_lookup_pool (NfCli *cli, const gchar *name, GError **error);
NfDBusNode *nf_cli_lookup_node (NfCli *cli, const gchar *name, GError **error);
NfDBusPool *nf_cli_find_pool (NfCli *cli, const gchar *name, NfExit *code);
NfDBusNode *nf_cli_find_node (NfCli *cli, const gchar *name, NfExit *code);
NfDBusNode *nf_cli_node_at (NfCli *cli, const gchar *path);
GPtrArray *nf_cli_list_pools (NfCli *cli);
GPtrArray *nf_cli_list_nodes (NfCli *cli, NfDBusPool *pool);
guint nf_cli_pool_node_count (NfDBusPool *pool);
/* @pool's Snapshots, a(sttb): name, created (Unix seconds), size (bytes),
 * memory; an empty array while the daemon gives none. */
GVariant *nf_cli_pool_snapshots (NfDBusPool *pool);
/* Whether the State of @pool or @node is @state (a state this nestfarmctl
 * does not know is none of them). */
gboolean nf_cli_pool_in_state (NfDBusPool *pool, NfPoolState state);
gboolean nf_cli_node_in_state (NfDBusNode *node, NfNodeState state);

/* nf-cli-job.c: follows a job to its end and returns the exit status;
 * @node_count (0: unknown) labels the progress "node k of N". */
NfExit nf_cli_follow_job (NfCli *cli, const gchar *job_path, guint node_count);
/* nestfarm's known-hosts file: the nodes' SSH host keys, pinned from
 * their consoles by node ssh and pool inventory. */
gchar *nf_cli_known_hosts_path (void);
/* Drops the pinned host keys of @addresses (gchar *). */
void nf_cli_forget_host_keys (GPtrArray *addresses);
/* The management addresses of @pool's nodes (gchar *). */
GPtrArray *nf_cli_pool_addresses (NfCli *cli, NfDBusPool *pool);
NfExit nf_cli_node_ssh (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_pool_inventory (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
/* How long `pool create --wait-ready` waits for the nodes to be Ready. */
#define NF_CLI_READY_TIMEOUT_S 1800
/* Waits until every node of pool @pool_name is Ready, at most @timeout_s;
 * else names the nodes that are not, why, and their consoles' ends. */
NfExit nf_cli_wait_ready (NfCli *cli, const gchar *pool_name, guint timeout_s);

/* nf-cli-output.c */
typedef struct _NfTable NfTable;

typedef enum {
	NF_TABLE_COLUMN_DEFAULT = 0,
	NF_TABLE_COLUMN_OPTIONAL = 1 << 0, /* dropped when the table is too wide */
	NF_TABLE_COLUMN_WRAP = 1 << 1,     /* words go on more lines when too wide */
	NF_TABLE_COLUMN_RIGHT = 1 << 2,
} NfTableColumnFlags;

NfTable *nf_table_new (void);
void nf_table_free (NfTable *table);
void nf_table_add_column (NfTable *table, const gchar *header, NfTableColumnFlags flags);
void nf_table_add_row (NfTable *table, const gchar *first_cell, ...) G_GNUC_NULL_TERMINATED;
void nf_table_print (NfTable *table, guint width);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfTable, nf_table_free)

void nf_cli_print_wrapped (const gchar *indent_first, const gchar *indent_rest, const gchar *text);
/* takes @root */
void nf_cli_print_json (JsonNode *root);
JsonNode *nf_cli_pool_to_json (NfCli *cli, NfDBusPool *pool);
JsonNode *nf_cli_node_to_json (NfCli *cli, NfDBusNode *node);
void nf_cli_print_pool (NfCli *cli, NfDBusPool *pool);
void nf_cli_print_node (NfCli *cli, NfDBusNode *node);
void nf_cli_print_node_table (NfCli *cli, GPtrArray *nodes);
gchar *nf_cli_format_elapsed (gint64 usec);
/* @unix_seconds in local time, as @format (g_date_time_format) says. */
gchar *nf_cli_format_local_time (guint64 unix_seconds, const gchar *format);
/* The JSON array of @pool's snapshots: {name, created, size, memory}. */
JsonNode *nf_cli_snapshots_to_json (NfDBusPool *pool);

/* the verb groups */
NfExit nf_cli_pool_create (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_pool_delete (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_pool_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_pool_show (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_pool_scale (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_pool_start (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_pool_stop (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
/* After a job on pool @name: the pool as 'pool show' prints it (unless
 * @code is a failure or --quiet); returns the exit status. */
NfExit nf_cli_pool_show_result (NfCli *cli, const gchar *name, NfExit code);
NfExit nf_cli_node_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_node_show (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_node_start (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_node_stop (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_node_reset (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_node_migrate (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_node_console (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_snapshot_create (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_snapshot_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_snapshot_revert (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_snapshot_delete (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_host_check (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_host_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_host_show (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_host_add (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_host_drain (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_host_activate (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_farm_rebalance (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_host_remove (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_lab_apply (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_lab_status (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);
NfExit nf_cli_lab_stop (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv);

G_END_DECLS
