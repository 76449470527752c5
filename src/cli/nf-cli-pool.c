/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nestfarm/nf-names.h"
#include "nestfarm/nf-vlan.h"
#include "nf-cli.h"

/* nestfarmctl pool create|delete|list|show|scale|start|stop */

NfExit
nf_cli_pool_show_result (NfCli *cli, const gchar *name, NfExit code)
{
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GError) error = NULL;

	if (code != NF_EXIT_OK || cli->quiet)
		return code;
	if (!nf_cli_refresh (cli, &error))
		return nf_cli_fail (error);
	pool = nf_cli_lookup_pool (cli, name, &error);
	if (pool == NULL)
		return nf_cli_fail (error);
	if (cli->json) {
		nf_cli_print_json (nf_cli_pool_to_json (cli, pool));
		return NF_EXIT_OK;
	}
	printf ("\n");
	nf_cli_print_pool (cli, pool);
	return NF_EXIT_OK;
}

/* an image path relative to here means this directory: the daemon has
 * another one */
static gchar *
image_argument (const gchar *image)
{
	if (g_path_is_absolute (image))
		return g_strdup (image);
	if (strchr (image, '/') != NULL || g_file_test (image, G_FILE_TEST_IS_REGULAR))
		return g_canonicalize_filename (image, NULL);
	return g_strdup (image); /* a volume name */
}

/* pool create's flags, as given */
typedef struct {
	gchar *profile;
	gchar *image;
	gchar *vcpus_text;
	gchar *memory_text;
	gchar *disk_text;
	gchar *bridge;
	gchar *vlans;
	gboolean no_start;
	gchar **ssh_keys;
	gchar *ssh_user;
	gchar *user_data;
	gchar *network;
	gchar **hosts;
	gboolean wait_ready;
} CreateFlags;

static void
create_flags_clear (CreateFlags *flags)
{
	g_free (flags->profile);
	g_free (flags->image);
	g_free (flags->vcpus_text);
	g_free (flags->memory_text);
	g_free (flags->disk_text);
	g_free (flags->bridge);
	g_free (flags->vlans);
	g_strfreev (flags->ssh_keys);
	g_free (flags->ssh_user);
	g_free (flags->user_data);
	g_free (flags->network);
	g_strfreev (flags->hosts);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CreateFlags, create_flags_clear)

/* Where the nodes go: --network (their management NIC's) and --host. */
static gboolean
where_options (const NfCliVerb *verb, const CreateFlags *flags, GVariantBuilder *options, NfExit *code)
{
	if (flags->network != NULL) {
		if (flags->network[0] == '\0') {
			*code = nf_cli_usage_error (verb, "--network must not be empty");
			return FALSE;
		}
		g_variant_builder_add (options, "{sv}", "network", g_variant_new_string (flags->network));
	}
	for (guint i = 0; flags->hosts != NULL && flags->hosts[i] != NULL; i++)
		if (!nf_cli_check_pool_name (verb, "--host", flags->hosts[i], code))
			return FALSE;
	if (flags->hosts != NULL)
		g_variant_builder_add (options,
				       "{sv}",
				       "hosts",
				       g_variant_new_strv ((const gchar *const *) flags->hosts, -1));
	return TRUE;
}

/* CreatePool's options from @flags, each checked first; FALSE with @code
 * set when one is wrong. */
static gboolean
create_options (const NfCliVerb *verb, const CreateFlags *flags, GVariantBuilder *options, NfExit *code)
{
	g_autoptr (GError) error = NULL;
	guint value = 0;

	if (flags->profile != NULL) {
		if (!nf_profile_name_validate (flags->profile, &error)) {
			*code = nf_cli_usage_error (verb,
						    "--profile '%s' is not a profile name: %s",
						    flags->profile,
						    error->message);
			return FALSE;
		}
		g_variant_builder_add (options, "{sv}", "profile", g_variant_new_string (flags->profile));
	}
	if (flags->image != NULL) {
		g_autofree gchar *absolute = image_argument (flags->image);

		if (flags->image[0] == '\0') {
			*code = nf_cli_usage_error (verb, "--image must not be empty");
			return FALSE;
		}
		g_variant_builder_add (options, "{sv}", "image", g_variant_new_string (absolute));
	}
	if (flags->vcpus_text != NULL) {
		if (!nf_cli_parse_uint (verb, "--vcpus", flags->vcpus_text, 1, NF_NODE_VCPUS_MAX, &value, code))
			return FALSE;
		g_variant_builder_add (options, "{sv}", "vcpus", g_variant_new_uint32 (value));
	}
	if (flags->memory_text != NULL) {
		if (!nf_cli_parse_uint (verb,
					"--memory",
					flags->memory_text,
					NF_NODE_MEMORY_MIB_MIN,
					NF_NODE_MEMORY_MIB_MAX,
					&value,
					code))
			return FALSE;
		g_variant_builder_add (options, "{sv}", "memory-mib", g_variant_new_uint32 (value));
	}
	if (flags->disk_text != NULL) {
		if (!nf_cli_parse_uint (verb,
					"--disk",
					flags->disk_text,
					1,
					NF_NODE_DISK_GIB_MAX,
					&value,
					code))
			return FALSE;
		g_variant_builder_add (options, "{sv}", "disk-gib", g_variant_new_uint32 (value));
	}
	if (flags->bridge != NULL) {
		if (!nf_cli_check_bridge (verb, flags->bridge, code))
			return FALSE;
		g_variant_builder_add (options, "{sv}", "trunk-bridge", g_variant_new_string (flags->bridge));
	}
	if (flags->vlans != NULL) {
		g_autoptr (NfVlanSet) set = nf_vlan_set_parse (flags->vlans, &error);

		if (set == NULL) {
			*code = nf_cli_usage_error (verb, "--vlans '%s': %s", flags->vlans, error->message);
			return FALSE;
		}
		g_variant_builder_add (options, "{sv}", "vlans", g_variant_new_string (flags->vlans));
	}
	if (flags->no_start)
		g_variant_builder_add (options, "{sv}", "start", g_variant_new_boolean (FALSE));
	if (!where_options (verb, flags, options, code))
		return FALSE;
	return nf_cli_seed_options (verb, flags->ssh_keys, flags->ssh_user, flags->user_data, options, code);
}

/* CreatePool with @options, then the job followed to its end (and the
 * nodes until they are Ready, when @wait_ready). */
static NfExit
create_call (NfCli *cli, const gchar *name, guint count, GVariant *options, gboolean wait_ready)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *pool_path = NULL;
	g_autofree gchar *job_path = NULL;
	NfExit code = nf_cli_connect (cli);

	if (code != NF_EXIT_OK) {
		g_variant_unref (g_variant_ref_sink (options));
		return code;
	}
	nf_cli_proxy_allow_slow_auth (cli->manager);
	if (!nf_dbus_manager_call_create_pool_sync (cli->manager,
						    name,
						    count,
						    options,
						    &pool_path,
						    &job_path,
						    NULL,
						    &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, count);
	if (code == NF_EXIT_OK && wait_ready)
		code = nf_cli_wait_ready (cli, name, NF_CLI_READY_TIMEOUT_S);
	return nf_cli_pool_show_result (cli, name, code);
}

/* pool create's options into @flags, and its arguments checked. */
static NfExit
create_parse (NfCli *cli, const NfCliVerb *verb, CreateFlags *flags, gint *argc, gchar ***argv)
{
	const GOptionEntry entries[] = {
		{"profile",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &flags->profile,
		 "The profile (default kvm-compute)",
		 "P"},
		{"image",
		 0,
		 0,
		 G_OPTION_ARG_FILENAME,
		 &flags->image,
		 "The base image: a path or a volume name",
		 "PATH"},
		{"vcpus", 0, 0, G_OPTION_ARG_STRING, &flags->vcpus_text, "Virtual CPUs per node", "N"},
		{"memory", 0, 0, G_OPTION_ARG_STRING, &flags->memory_text, "Memory per node in MiB", "MIB"},
		{"disk", 0, 0, G_OPTION_ARG_STRING, &flags->disk_text, "Disk size per node in GiB", "GIB"},
		{"bridge", 0, 0, G_OPTION_ARG_STRING, &flags->bridge, "The Open vSwitch trunk bridge", "BR"},
		{"vlans",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &flags->vlans,
		 "VLANs on the trunk: all, or a list like 100-199,300",
		 "all|LIST"},
		{"no-start",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &flags->no_start,
		 "Make the nodes but do not start them",
		 NULL},
		{"ssh-key",
		 0,
		 0,
		 G_OPTION_ARG_FILENAME_ARRAY,
		 &flags->ssh_keys,
		 "A public key file for the nodes' login (again for more; default ~/.ssh/*.pub)",
		 "FILE"},
		{"ssh-user",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &flags->ssh_user,
		 "The nodes' login user (default " NF_SSH_USER_DEFAULT ")",
		 "NAME"},
		{"user-data",
		 0,
		 0,
		 G_OPTION_ARG_FILENAME,
		 &flags->user_data,
		 "A cloud-init user-data document for every node",
		 "FILE"},
		{"network",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &flags->network,
		 "The libvirt network of the nodes' management NIC (default: nestfarmd's ManagementNetwork)",
		 "NAME"},
		{"host",
		 0,
		 0,
		 G_OPTION_ARG_STRING_ARRAY,
		 &flags->hosts,
		 "A host the nodes may go on (again for more; default: any)",
		 "HOST"},
		{"wait-ready",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &flags->wait_ready,
		 "Wait until every node is Ready (booted, seeded, answering on SSH; at most 30 minutes)",
		 NULL},
		{NULL},
	};

	return nf_cli_parse_args (cli, verb, entries, argc, argv, 2, 0);
}

NfExit
nf_cli_pool_create (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_auto (CreateFlags) flags = {NULL};
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
	NfExit code = create_parse (cli, verb, &flags, &argc, &argv);
	const gchar *name;
	guint count = 0;

	if (code != NF_EXIT_OK)
		return code;
	name = argv[1];
	if (!nf_cli_check_pool_name (verb, "NAME", name, &code) ||
	    !nf_cli_parse_uint (verb, "COUNT", argv[2], 1, NF_POOL_COUNT_MAX, &count, &code))
		return code;
	if (!create_options (verb, &flags, &options, &code))
		return code;
	return create_call (cli, name, count, g_variant_builder_end (&options), flags.wait_ready);
}

/* pool delete and pool stop share their options */
static NfExit
stop_or_delete (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv, gboolean delete)
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
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	g_autoptr (GPtrArray) addresses = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, entries, &argc, &argv, 1, 0);
	guint timeout = 0;
	guint nodes;

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "NAME", argv[1], &code))
		return code;
	if (timeout_text != NULL &&
	    !nf_cli_parse_uint (verb, "--timeout", timeout_text, 1, NF_SHUTDOWN_TIMEOUT_MAX, &timeout, &code))
		return code;
	nf_cli_add_stop_options (&options, force, timeout);
	pool = nf_cli_find_pool (cli, argv[1], &code);
	if (pool == NULL)
		return code;
	nodes = nf_cli_pool_node_count (pool);
	addresses = nf_cli_pool_addresses (cli, pool);
	nf_cli_proxy_allow_slow_auth (pool);
	if (delete ? !nf_dbus_pool_call_delete_sync (pool,
						     g_variant_builder_end (&options),
						     &job_path,
						     NULL,
						     &error)
		   : !nf_dbus_pool_call_stop_sync (pool,
						   g_variant_builder_end (&options),
						   &job_path,
						   NULL,
						   &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, nodes);
	if (!delete)
		return nf_cli_pool_show_result (cli, argv[1], code);
	if (code != NF_EXIT_OK)
		return code;
	/* Its nodes' addresses may go to other nodes now. */
	nf_cli_forget_host_keys (addresses);
	if (!cli->quiet)
		printf ("Pool %s is deleted.\n", argv[1]);
	return code;
}

NfExit
nf_cli_pool_delete (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return stop_or_delete (cli, verb, argc, argv, TRUE);
}

NfExit
nf_cli_pool_stop (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return stop_or_delete (cli, verb, argc, argv, FALSE);
}

NfExit
nf_cli_pool_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (GPtrArray) pools = NULL;
	g_autoptr (NfTable) table = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 0, 0);

	if (code != NF_EXIT_OK)
		return code;
	code = nf_cli_connect (cli);
	if (code != NF_EXIT_OK)
		return code;
	pools = nf_cli_list_pools (cli);
	if (cli->json) {
		g_autoptr (JsonArray) array = json_array_sized_new (pools->len);
		JsonNode *root = json_node_new (JSON_NODE_ARRAY);

		for (guint i = 0; i < pools->len; i++)
			json_array_add_element (array,
						nf_cli_pool_to_json (cli, g_ptr_array_index (pools, i)));
		json_node_set_array (root, array);
		nf_cli_print_json (root);
		return NF_EXIT_OK;
	}
	if (pools->len == 0) {
		printf ("No pools; 'nestfarmctl pool create NAME COUNT' makes one.\n");
		return NF_EXIT_OK;
	}
	table = nf_table_new ();
	nf_table_add_column (table, "POOL", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "STATE", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "NODES", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "VCPUS", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "MEMORY", NF_TABLE_COLUMN_RIGHT);
	nf_table_add_column (table, "PROFILE", NF_TABLE_COLUMN_OPTIONAL);
	nf_table_add_column (table, "VLANS", NF_TABLE_COLUMN_OPTIONAL);
	for (guint i = 0; i < pools->len; i++) {
		NfDBusPool *pool = g_ptr_array_index (pools, i);
		g_autofree gchar *nodes = g_strdup_printf ("%u/%u",
							   nf_cli_pool_node_count (pool),
							   nf_dbus_pool_get_count (pool));
		g_autofree gchar *vcpus = g_strdup_printf ("%u", nf_dbus_pool_get_vcpus (pool));
		g_autofree gchar *memory = g_strdup_printf ("%u MiB", nf_dbus_pool_get_memory_mib (pool));

		nf_table_add_row (table,
				  nf_dbus_pool_get_name (pool),
				  nf_dbus_pool_get_state (pool),
				  nodes,
				  vcpus,
				  memory,
				  nf_dbus_pool_get_profile (pool),
				  nf_dbus_pool_get_vlans (pool),
				  NULL);
	}
	nf_table_print (table, NF_CLI_WIDTH);
	return NF_EXIT_OK;
}

NfExit
nf_cli_pool_show (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusPool) pool = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "NAME", argv[1], &code))
		return code;
	pool = nf_cli_find_pool (cli, argv[1], &code);
	if (pool == NULL)
		return code;
	if (cli->json)
		nf_cli_print_json (nf_cli_pool_to_json (cli, pool));
	else
		nf_cli_print_pool (cli, pool);
	return NF_EXIT_OK;
}

NfExit
nf_cli_pool_scale (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 2, 0);
	guint count = 0, have;

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "NAME", argv[1], &code) ||
	    !nf_cli_parse_uint (verb, "COUNT", argv[2], 0, NF_POOL_COUNT_MAX, &count, &code))
		return code;
	pool = nf_cli_find_pool (cli, argv[1], &code);
	if (pool == NULL)
		return code;
	have = nf_cli_pool_node_count (pool);
	nf_cli_proxy_allow_slow_auth (pool);
	if (!nf_dbus_pool_call_scale_sync (pool, count, &job_path, NULL, &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, count > have ? count - have : have - count);
	return nf_cli_pool_show_result (cli, argv[1], code);
}

NfExit
nf_cli_pool_start (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "NAME", argv[1], &code))
		return code;
	pool = nf_cli_find_pool (cli, argv[1], &code);
	if (pool == NULL)
		return code;
	nf_cli_proxy_allow_slow_auth (pool);
	if (!nf_dbus_pool_call_start_sync (pool, &job_path, NULL, &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, nf_cli_pool_node_count (pool));
	return nf_cli_pool_show_result (cli, argv[1], code);
}
