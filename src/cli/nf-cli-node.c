/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>

#include "nf-cli.h"

/* nestfarmctl node list|show|start|stop|reset|migrate (console: nf-cli-console.c) */

NfExit
nf_cli_node_list (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GPtrArray) nodes = NULL;
	g_autoptr (GError) error = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 0, 1);

	if (code != NF_EXIT_OK)
		return code;
	if (argc > 1 && !nf_cli_check_pool_name (verb, "POOL", argv[1], &code))
		return code;
	code = nf_cli_connect (cli);
	if (code != NF_EXIT_OK)
		return code;
	if (argc > 1) {
		pool = nf_cli_lookup_pool (cli, argv[1], &error);
		if (pool == NULL)
			return nf_cli_fail (error);
	}
	nodes = nf_cli_list_nodes (cli, pool);
	if (cli->json) {
		g_autoptr (JsonArray) array = json_array_sized_new (nodes->len);
		JsonNode *root = json_node_new (JSON_NODE_ARRAY);

		for (guint i = 0; i < nodes->len; i++)
			json_array_add_element (array,
						nf_cli_node_to_json (cli, g_ptr_array_index (nodes, i)));
		json_node_set_array (root, array);
		nf_cli_print_json (root);
		return NF_EXIT_OK;
	}
	if (nodes->len == 0) {
		printf ("No nodes.\n");
		return NF_EXIT_OK;
	}
	nf_cli_print_node_table (cli, nodes);
	return NF_EXIT_OK;
}

static void
print_node (NfCli *cli, NfDBusNode *node)
{
	if (cli->json)
		nf_cli_print_json (nf_cli_node_to_json (cli, node));
	else
		nf_cli_print_node (cli, node);
}

NfExit
nf_cli_node_show (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusNode) node = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_node_name (verb, argv[1], &code))
		return code;
	node = nf_cli_find_node (cli, argv[1], &code);
	if (node == NULL)
		return code;
	print_node (cli, node);
	return NF_EXIT_OK;
}

typedef enum {
	NODE_START,
	NODE_STOP,
	NODE_RESET,
} NodeAction;

/* Asks the daemon for @action on @node: the job's path in @job_path. */
static gboolean
call_action (NfDBusNode *node,
	     NodeAction action,
	     gboolean force,
	     guint timeout,
	     gchar **job_path,
	     GError **error)
{
	switch (action) {
	case NODE_START:
		return nf_dbus_node_call_start_sync (node, job_path, NULL, error);
	case NODE_STOP: {
		g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

		nf_cli_add_stop_options (&options, force, timeout);
		return nf_dbus_node_call_stop_sync (node,
						    g_variant_builder_end (&options),
						    job_path,
						    NULL,
						    error);
	}
	case NODE_RESET:
		return nf_dbus_node_call_reset_sync (node, job_path, NULL, error);
	default:
		g_assert_not_reached ();
	}
}

/* The node @name as it is after its job. */
static NfExit
show_after (NfCli *cli, const gchar *name)
{
	g_autoptr (NfDBusNode) node = NULL;
	g_autoptr (GError) error = NULL;

	if (!nf_cli_refresh (cli, &error))
		return nf_cli_fail (error);
	node = nf_cli_lookup_node (cli, name, &error);
	if (node == NULL)
		return nf_cli_fail (error);
	if (!cli->json)
		printf ("\n");
	print_node (cli, node);
	return NF_EXIT_OK;
}

static NfExit
node_action (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv, NodeAction action)
{
	gboolean force = FALSE;
	g_autofree gchar *timeout_text = NULL;
	const GOptionEntry stop_entries[] = {
		{"force",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &force,
		 "Power the node off at once, no graceful shutdown",
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
	g_autoptr (NfDBusNode) node = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	g_autofree gchar *name = NULL;
	NfExit code =
		nf_cli_parse_args (cli, verb, action == NODE_STOP ? stop_entries : NULL, &argc, &argv, 1, 0);
	guint timeout = 0;

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_node_name (verb, argv[1], &code))
		return code;
	if (timeout_text != NULL &&
	    !nf_cli_parse_uint (verb, "--timeout", timeout_text, 1, NF_SHUTDOWN_TIMEOUT_MAX, &timeout, &code))
		return code;
	name = g_strdup (argv[1]);
	node = nf_cli_find_node (cli, name, &code);
	if (node == NULL)
		return code;
	nf_cli_proxy_allow_slow_auth (node);
	if (!call_action (node, action, force, timeout, &job_path, &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, 1);
	if (code != NF_EXIT_OK || cli->quiet)
		return code;
	g_clear_object (&node);
	return show_after (cli, name);
}

NfExit
nf_cli_node_start (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return node_action (cli, verb, argc, argv, NODE_START);
}

NfExit
nf_cli_node_stop (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return node_action (cli, verb, argc, argv, NODE_STOP);
}

NfExit
nf_cli_node_reset (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	return node_action (cli, verb, argc, argv, NODE_RESET);
}

/* node migrate NAME [--to HOST] [--cold] */
NfExit
nf_cli_node_migrate (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autofree gchar *to = NULL;
	gboolean cold = FALSE;
	const GOptionEntry entries[] = {
		{"to",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &to,
		 "The host to move to (default: the one with most room)",
		 "HOST"},
		{"cold",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &cold,
		 "Refuse to move a running node live (a stopped node moves cold either way)",
		 NULL},
		{NULL},
	};
	g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
	g_autoptr (NfDBusNode) node = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *job_path = NULL;
	g_autofree gchar *name = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, entries, &argc, &argv, 1, 0);

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_node_name (verb, argv[1], &code))
		return code;
	if (to != NULL && !nf_cli_check_pool_name (verb, "--to", to, &code))
		return code;
	name = g_strdup (argv[1]);
	node = nf_cli_find_node (cli, name, &code);
	if (node == NULL)
		return code;
	if (to != NULL)
		g_variant_builder_add (&options, "{sv}", "host", g_variant_new_string (to));
	if (cold)
		g_variant_builder_add (&options, "{sv}", "live", g_variant_new_boolean (FALSE));
	nf_cli_proxy_allow_slow_auth (node);
	if (!nf_dbus_node_call_migrate_sync (node, g_variant_builder_end (&options), &job_path, NULL, &error))
		return nf_cli_fail (error);
	code = nf_cli_follow_job (cli, job_path, 1);
	if (code != NF_EXIT_OK || cli->quiet)
		return code;
	g_clear_object (&node);
	return show_after (cli, name);
}
