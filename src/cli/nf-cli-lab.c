/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>

#include "nf-cli-lab.h"
#include "nf-cli.h"

/* nestfarmctl lab apply FILE|DIR: the hosts of its *.host files are added
 * first; then every pool named in the lab files is
 * made to match its file, run state included. A missing pool is created,
 * one whose Count differs is scaled, a stopped one whose file says
 * Start=true (the default) is started, one that matches and runs is left
 * alone (no node re-made); pools the files do not name are left alone
 * too, unless --prune. Only Count and the run state change in place: other
 * differences are reported, not acted on. Start=false never stops a pool.
 * (lab status and lab stop: nf-cli-lab-status.c) */

typedef enum {
	ACTION_NONE,
	ACTION_CREATE,
	ACTION_SCALE,
} Action;

typedef struct {
	NfLabPool *lab;
	Action action;
	guint have;     /* nodes now, for a scale */
	guint was;      /* wanted count now */
	guint to_start; /* stopped nodes to start (after a scale, if any) */
} Plan;

static void
add_difference (GPtrArray *differences, const gchar *key, const gchar *in_pool, const gchar *in_file)
{
	if (in_file == NULL || g_strcmp0 (in_pool, in_file) == 0)
		return;
	g_ptr_array_add (differences,
			 g_strdup_printf ("%s is %s in the file, %s in the pool",
					  key,
					  in_file,
					  in_pool != NULL && in_pool[0] != '\0' ? in_pool : "unset"));
}

static void
add_number_difference (GPtrArray *differences, const gchar *key, guint in_pool, guint in_file)
{
	g_autofree gchar *pool_text = g_strdup_printf ("%u", in_pool);
	g_autofree gchar *file_text = g_strdup_printf ("%u", in_file);

	if (in_file != 0)
		add_difference (differences, key, pool_text, file_text);
}

GPtrArray *
nf_cli_lab_differences (const NfLabPool *lab, NfDBusPool *pool)
{
	GPtrArray *differences = g_ptr_array_new_with_free_func (g_free);

	add_difference (differences, "Profile", nf_dbus_pool_get_profile (pool), lab->profile);
	add_difference (differences, "Image", nf_dbus_pool_get_image (pool), lab->image);
	add_number_difference (differences, "VCPUs", nf_dbus_pool_get_vcpus (pool), lab->vcpus);
	add_number_difference (differences, "MemoryMiB", nf_dbus_pool_get_memory_mib (pool), lab->memory_mib);
	add_difference (differences, "TrunkBridge", nf_dbus_pool_get_trunk_bridge (pool), lab->trunk_bridge);
	add_difference (differences, "VLANs", nf_dbus_pool_get_vlans (pool), lab->vlans);
	/* SSHKeys, UserData and Network are the seeds' and NICs' at create
	 * time; the API does not show them, so they are not compared. */
	add_difference (differences, "SSHUser", nf_dbus_pool_get_sshuser (pool), lab->ssh_user);
	return differences;
}

/* The pool states in which a job of the pool's own is under way. */
static const NfPoolState busy_states[] = {
	NF_POOL_STATE_CREATING,
	NF_POOL_STATE_SCALING,
	NF_POOL_STATE_STOPPING,
	NF_POOL_STATE_DELETING,
};

guint
nf_cli_lab_nodes_to_start (NfCli *cli, const NfLabPool *lab, NfDBusPool *pool)
{
	g_autoptr (GPtrArray) nodes = NULL;
	guint stopped = 0;

	if (lab->start_set && !lab->start)
		return 0;
	for (guint i = 0; i < G_N_ELEMENTS (busy_states); i++) {
		if (nf_cli_pool_in_state (pool, busy_states[i]))
			return 0;
	}
	nodes = nf_cli_list_nodes (cli, pool);
	for (guint i = 0; i < nodes->len; i++) {
		if (nf_cli_node_in_state (g_ptr_array_index (nodes, i), NF_NODE_STATE_STOPPED))
			stopped++;
	}
	return stopped;
}

/* A lab file refused: each of its problems on its own line. */
static NfExit
print_refusal (const GError *error)
{
	g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++)
		fprintf (stderr, "nestfarmctl: %s\n", lines[i]);
	fprintf (stderr, "nestfarmctl: nothing was applied\n");
	return NF_EXIT_FAILED;
}

GPtrArray *
nf_cli_lab_load (NfCli *cli, const gchar *path, NfExit *exit_code)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) lab = nf_cli_lab_file_load (path, &error);

	if (lab == NULL) {
		*exit_code = print_refusal (error);
		return NULL;
	}
	*exit_code = nf_cli_connect (cli);
	return *exit_code == NF_EXIT_OK ? g_steal_pointer (&lab) : NULL;
}

static void
plan_pool (NfCli *cli, Plan *plan)
{
	const NfLabPool *lab = plan->lab;
	g_autoptr (NfDBusPool) pool = nf_cli_lookup_pool (cli, lab->name, NULL);
	g_autoptr (GPtrArray) differences = NULL;

	if (pool == NULL) {
		plan->action = ACTION_CREATE;
		return;
	}
	plan->have = nf_cli_pool_node_count (pool);
	plan->was = nf_dbus_pool_get_count (pool);
	plan->action = plan->was != lab->count ? ACTION_SCALE : ACTION_NONE;
	plan->to_start = nf_cli_lab_nodes_to_start (cli, lab, pool);
	differences = nf_cli_lab_differences (lab, pool);
	for (guint i = 0; i < differences->len; i++)
		fprintf (stderr,
			 "nestfarmctl: warning: %s: pool %s: %s; only Count changes in place (delete the pool to "
			 "make it anew)\n",
			 lab->file,
			 lab->name,
			 (const gchar *) g_ptr_array_index (differences, i));
}

/* What apply says goes to stdout, or with --json to stderr, as the
 * progress does: stdout is the JSON document. */
static FILE *
report_stream (NfCli *cli)
{
	return cli->json ? stderr : stdout;
}

static void
describe (NfCli *cli, const Plan *plan, gboolean dry_run)
{
	const NfLabPool *lab = plan->lab;
	FILE *out = report_stream (cli);

	if (cli->quiet && !dry_run)
		return;
	switch (plan->action) {
	case ACTION_CREATE:
		fprintf (out,
			 "%s: %s pool %s with %u node%s\n",
			 lab->file,
			 dry_run ? "would create" : "creating",
			 lab->name,
			 lab->count,
			 lab->count == 1 ? "" : "s");
		break;
	case ACTION_SCALE:
		fprintf (out,
			 "%s: %s pool %s from %u to %u nodes\n",
			 lab->file,
			 dry_run ? "would scale" : "scaling",
			 lab->name,
			 plan->was,
			 lab->count);
		break;
	case ACTION_NONE:
		if (plan->to_start == 0)
			fprintf (out, "%s: pool %s matches; left as it is\n", lab->file, lab->name);
		break;
	default:
		g_assert_not_reached ();
	}
	fflush (out);
}

static void
describe_start (NfCli *cli, const Plan *plan, gboolean dry_run)
{
	FILE *out = report_stream (cli);

	if (cli->quiet && !dry_run)
		return;
	fprintf (out,
		 "%s: %s pool %s (%u of its nodes %s stopped)\n",
		 plan->lab->file,
		 dry_run ? "would start" : "starting",
		 plan->lab->name,
		 plan->to_start,
		 plan->to_start == 1 ? "is" : "are");
	fflush (out);
}

/* CreatePool's options for @lab; NULL with @code set when a key or
 * user-data file it names cannot be used. */
static GVariant *
create_options (const NfCliVerb *verb, const NfLabPool *lab, NfExit *code)
{
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

	if (lab->profile != NULL)
		g_variant_builder_add (&options, "{sv}", "profile", g_variant_new_string (lab->profile));
	if (lab->image != NULL)
		g_variant_builder_add (&options, "{sv}", "image", g_variant_new_string (lab->image));
	if (lab->vcpus != 0)
		g_variant_builder_add (&options, "{sv}", "vcpus", g_variant_new_uint32 (lab->vcpus));
	if (lab->memory_mib != 0)
		g_variant_builder_add (&options, "{sv}", "memory-mib", g_variant_new_uint32 (lab->memory_mib));
	if (lab->disk_gib != 0)
		g_variant_builder_add (&options, "{sv}", "disk-gib", g_variant_new_uint32 (lab->disk_gib));
	if (lab->trunk_bridge != NULL)
		g_variant_builder_add (&options,
				       "{sv}",
				       "trunk-bridge",
				       g_variant_new_string (lab->trunk_bridge));
	if (lab->vlans != NULL)
		g_variant_builder_add (&options, "{sv}", "vlans", g_variant_new_string (lab->vlans));
	if (lab->start_set)
		g_variant_builder_add (&options, "{sv}", "start", g_variant_new_boolean (lab->start));
	if (lab->network != NULL)
		g_variant_builder_add (&options, "{sv}", "network", g_variant_new_string (lab->network));
	if (lab->hosts != NULL)
		g_variant_builder_add (&options,
				       "{sv}",
				       "hosts",
				       g_variant_new_strv ((const gchar *const *) lab->hosts, -1));
	/* As `pool create` reads them: without SSHKeys, the .pub files of ~/.ssh. */
	if (!nf_cli_seed_options (verb, lab->ssh_key_files, lab->ssh_user, lab->user_data_file, &options, code))
		return NULL;
	return g_variant_builder_end (&options);
}

static NfExit
carry_out (NfCli *cli, const NfCliVerb *verb, const Plan *plan)
{
	const NfLabPool *lab = plan->lab;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;

	if (plan->action == ACTION_CREATE) {
		g_autofree gchar *pool_path = NULL;
		NfExit code = NF_EXIT_OK;
		GVariant *options = create_options (verb, lab, &code);

		if (options == NULL)
			return code;
		nf_cli_proxy_allow_slow_auth (cli->manager);
		if (!nf_dbus_manager_call_create_pool_sync (cli->manager,
							    lab->name,
							    lab->count,
							    options,
							    &pool_path,
							    &job_path,
							    NULL,
							    &error))
			return nf_cli_fail (error);
		code = nf_cli_follow_job (cli, job_path, lab->count);
		if (code == NF_EXIT_OK && lab->wait_ready)
			code = nf_cli_wait_ready (cli, lab->name, NF_CLI_READY_TIMEOUT_S);
		return code;
	}
	if (plan->action == ACTION_SCALE) {
		g_autoptr (NfDBusPool) pool = nf_cli_lookup_pool (cli, lab->name, &error);

		if (pool == NULL)
			return nf_cli_fail (error);
		nf_cli_proxy_allow_slow_auth (pool);
		if (!nf_dbus_pool_call_scale_sync (pool, lab->count, &job_path, NULL, &error))
			return nf_cli_fail (error);
		return nf_cli_follow_job (cli,
					  job_path,
					  lab->count > plan->have ? lab->count - plan->have
								  : plan->have - lab->count);
	}
	return NF_EXIT_OK;
}

/* Pool.Start for a pool with stopped nodes its file wants running. After a
 * scale the pool is looked at afresh: a scale down may have taken the
 * stopped nodes away. */
static NfExit
start_stopped (NfCli *cli, Plan *plan)
{
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;

	if (plan->action != ACTION_NONE && !nf_cli_refresh (cli, &error))
		return nf_cli_fail (error);
	pool = nf_cli_lookup_pool (cli, plan->lab->name, &error);
	if (pool == NULL)
		return nf_cli_fail (error);
	if (plan->action != ACTION_NONE)
		plan->to_start = nf_cli_lab_nodes_to_start (cli, plan->lab, pool);
	if (plan->to_start == 0)
		return NF_EXIT_OK;
	describe_start (cli, plan, FALSE);
	nf_cli_proxy_allow_slow_auth (pool);
	if (!nf_dbus_pool_call_start_sync (pool, &job_path, NULL, &error))
		return nf_cli_fail (error);
	return nf_cli_follow_job (cli, job_path, plan->to_start);
}

/* The lab's pools as they are now: a table, or an array of pool objects. */
static NfExit
show_pools (NfCli *cli, GPtrArray *lab)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfTable) table = nf_table_new ();
	g_autoptr (JsonArray) array = json_array_new ();

	if (!nf_cli_refresh (cli, &error))
		return nf_cli_fail (error);
	nf_table_add_column (table, "POOL", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "STATE", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "NODES", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "FILE", NF_TABLE_COLUMN_OPTIONAL);
	for (guint i = 0; i < lab->len; i++) {
		NfLabPool *one = g_ptr_array_index (lab, i);
		g_autoptr (NfDBusPool) pool = nf_cli_lookup_pool (cli, one->name, NULL);
		g_autofree gchar *nodes = NULL;

		if (pool == NULL)
			continue;
		if (cli->json) {
			json_array_add_element (array, nf_cli_pool_to_json (cli, pool));
			continue;
		}
		nodes = g_strdup_printf ("%u/%u",
					 nf_cli_pool_node_count (pool),
					 nf_dbus_pool_get_count (pool));
		nf_table_add_row (table, one->name, nf_dbus_pool_get_state (pool), nodes, one->file, NULL);
	}
	if (cli->json) {
		JsonNode *root = json_node_new (JSON_NODE_ARRAY);

		json_node_set_array (root, array);
		nf_cli_print_json (root);
		return NF_EXIT_OK;
	}
	printf ("\n");
	nf_table_print (table, NF_CLI_WIDTH);
	return NF_EXIT_OK;
}

static gboolean
named_in (GPtrArray *lab, const gchar *name)
{
	for (guint i = 0; i < lab->len; i++) {
		if (g_strcmp0 (((NfLabPool *) g_ptr_array_index (lab, i))->name, name) == 0)
			return TRUE;
	}
	return FALSE;
}

/* --prune: delete every pool that no file names */
static NfExit
prune (NfCli *cli, GPtrArray *lab, gboolean dry_run, gboolean *changed)
{
	g_autoptr (GPtrArray) pools = nf_cli_list_pools (cli);

	for (guint i = 0; i < pools->len; i++) {
		NfDBusPool *pool = g_ptr_array_index (pools, i);
		const gchar *name = nf_dbus_pool_get_name (pool);
		g_autofree gchar *job_path = NULL;
		g_autoptr (GError) error = NULL;
		g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
		NfExit code;

		if (named_in (lab, name))
			continue;
		if (!cli->quiet || dry_run)
			fprintf (report_stream (cli),
				 "%s pool %s: no lab file names it\n",
				 dry_run ? "would delete" : "deleting",
				 name);
		fflush (report_stream (cli));
		if (dry_run)
			continue;
		*changed = TRUE;
		nf_cli_proxy_allow_slow_auth (pool);
		if (!nf_dbus_pool_call_delete_sync (pool,
						    g_variant_builder_end (&options),
						    &job_path,
						    NULL,
						    &error))
			return nf_cli_fail (error);
		code = nf_cli_follow_job (cli, job_path, nf_cli_pool_node_count (pool));
		if (code != NF_EXIT_OK)
			return code;
	}
	return NF_EXIT_OK;
}

/* The lab's *.host files, each problem on its own line; NULL with
 * *@exit_code set when one is refused. */
static GPtrArray *
load_hosts (const gchar *path, NfExit *exit_code)
{
	g_autoptr (GError) error = NULL;
	GPtrArray *hosts = nf_cli_lab_file_load_hosts (path, &error);

	if (hosts == NULL)
		*exit_code = print_refusal (error);
	return hosts;
}

/* AddHost's options for @host: its peer URI, if it has one. */
static GVariant *
host_options (const NfLabHost *host)
{
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

	if (host->peer_uri != NULL)
		g_variant_builder_add (&options, "{sv}", "peer-uri", g_variant_new_string (host->peer_uri));
	return g_variant_builder_end (&options);
}

/* The hosts come first, so that the pools may go on them: one the farm
 * lacks is added (AddHost, its job followed); one it has with the same URI
 * is left alone; one it has with another URI is said, not changed (remove
 * it and apply again). */
static NfExit
apply_hosts (NfCli *cli, GPtrArray *hosts, gboolean dry_run, gboolean *changed)
{
	FILE *out = report_stream (cli);

	for (guint i = 0; i < hosts->len; i++) {
		NfLabHost *host = g_ptr_array_index (hosts, i);
		g_autoptr (NfDBusHost) have = nf_cli_lookup_host (cli, host->name);
		g_autoptr (GError) error = NULL;
		g_autofree gchar *job_path = NULL;
		NfExit code;

		if (have != NULL && g_strcmp0 (nf_dbus_host_get_uri (have), host->uri) != 0) {
			fprintf (stderr,
				 "nestfarmctl: warning: %s: host %s is %s in the file, %s in the farm; remove it "
				 "and apply again to change it\n",
				 host->file,
				 host->name,
				 host->uri,
				 nf_dbus_host_get_uri (have));
			continue;
		}
		if (have != NULL) {
			if (!cli->quiet || dry_run)
				fprintf (out, "%s: host %s matches; left as it is\n", host->file, host->name);
			continue;
		}
		if (!cli->quiet || dry_run)
			fprintf (out,
				 "%s: %s host %s (%s)\n",
				 host->file,
				 dry_run ? "would add" : "adding",
				 host->name,
				 host->uri);
		fflush (out);
		if (dry_run)
			continue;
		*changed = TRUE;
		nf_cli_proxy_allow_slow_auth (cli->manager);
		if (!nf_dbus_manager_call_add_host_sync (cli->manager,
							 host->name,
							 host->uri,
							 host_options (host),
							 &job_path,
							 NULL,
							 &error))
			return nf_cli_fail (error);
		code = nf_cli_follow_job (cli, job_path, 0);
		if (code != NF_EXIT_OK)
			return code;
	}
	if (*changed && !nf_cli_refresh (cli, NULL))
		return NF_EXIT_FAILED;
	return NF_EXIT_OK;
}

NfExit
nf_cli_lab_apply (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	gboolean dry_run = FALSE;
	gboolean prune_others = FALSE;
	const GOptionEntry entries[] = {
		{"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Only say what would be done", NULL},
		{"prune",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &prune_others,
		 "Also delete every pool that no file names",
		 NULL},
		{NULL},
	};
	g_autoptr (GPtrArray) lab = NULL;
	g_autoptr (GPtrArray) hosts = NULL;
	g_autofree Plan *plans = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, entries, &argc, &argv, 1, 0);
	gboolean changed = FALSE;

	if (code != NF_EXIT_OK)
		return code;
	hosts = load_hosts (argv[1], &code);
	if (hosts == NULL)
		return code;
	lab = nf_cli_lab_load (cli, argv[1], &code);
	if (lab == NULL)
		return code;
	/* no pool file would make every pool one that no file names */
	if (prune_others && lab->len == 0) {
		fprintf (stderr,
			 "nestfarmctl: %s has no *.pool files: --prune would delete every pool; nothing was applied\n",
			 argv[1]);
		return NF_EXIT_USAGE;
	}

	/* every decision before any change */
	plans = g_new0 (Plan, lab->len);
	for (guint i = 0; i < lab->len; i++) {
		plans[i].lab = g_ptr_array_index (lab, i);
		plan_pool (cli, &plans[i]);
	}
	code = apply_hosts (cli, hosts, dry_run, &changed);
	if (code != NF_EXIT_OK)
		return code;
	for (guint i = 0; i < lab->len; i++) {
		describe (cli, &plans[i], dry_run);
		if (dry_run && plans[i].to_start > 0)
			describe_start (cli, &plans[i], TRUE);
		if (dry_run || (plans[i].action == ACTION_NONE && plans[i].to_start == 0))
			continue;
		changed = TRUE;
		code = carry_out (cli, verb, &plans[i]);
		if (code == NF_EXIT_OK && plans[i].to_start > 0)
			code = start_stopped (cli, &plans[i]);
		if (code != NF_EXIT_OK) {
			fprintf (stderr,
				 "nestfarmctl: stopped at %s; the files after it were not applied\n",
				 plans[i].lab->file);
			return code;
		}
	}
	if (prune_others) {
		code = prune (cli, lab, dry_run, &changed);
		if (code != NF_EXIT_OK)
			return code;
	}
	if (dry_run || cli->quiet)
		return NF_EXIT_OK;
	if (!changed && !cli->json) {
		printf ("Every pool matches its file; nothing to do.\n");
		return NF_EXIT_OK;
	}
	return show_pools (cli, lab);
}
