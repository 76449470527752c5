/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <locale.h>
#include <stdio.h>

#include "nestfarm/nf-error.h"
#include "nf-cli.h"

/* nestfarmctl: the global options, then GROUP VERB and the verb's own
 * arguments; each verb parses the rest with its own GOptionContext. */

static const NfCliVerb verbs[] = {
	{"pool", "create", "NAME COUNT", "Make a pool of COUNT nodes", nf_cli_pool_create},
	{"pool", "delete", "NAME", "Shut a pool's nodes down and remove them", nf_cli_pool_delete},
	{"pool", "list", "", "List the pools", nf_cli_pool_list},
	{"pool", "show", "NAME", "Show a pool and its nodes", nf_cli_pool_show},
	{"pool", "scale", "NAME COUNT", "Add or remove nodes until there are COUNT", nf_cli_pool_scale},
	{"pool", "start", "NAME", "Start every node of a pool", nf_cli_pool_start},
	{"pool", "stop", "NAME", "Shut every node of a pool down", nf_cli_pool_stop},
	{"pool", "inventory", "NAME", "Print an Ansible inventory of a pool", nf_cli_pool_inventory},
	{"node", "list", "[POOL]", "List the nodes, of every pool or of one", nf_cli_node_list},
	{"node", "show", "NAME", "Show a node", nf_cli_node_show},
	{"node", "start", "NAME", "Start a node", nf_cli_node_start},
	{"node", "stop", "NAME", "Shut a node down", nf_cli_node_stop},
	{"node", "reset", "NAME", "Re-make a node's disk empty and boot it again", nf_cli_node_reset},
	{"node", "migrate", "NAME", "Move a node to another host (live if it runs)", nf_cli_node_migrate},
	{"node", "console", "NAME", "Show (and follow) a node's serial console", nf_cli_node_console},
	{"node", "ssh", "NAME [-- CMD...]", "Log into a node, or run CMD there", nf_cli_node_ssh},
	{"snapshot", "create", "POOL NAME", "Snapshot every node of a pool at once", nf_cli_snapshot_create},
	{"snapshot", "list", "POOL", "List a pool's snapshots", nf_cli_snapshot_list},
	{"snapshot", "revert", "POOL NAME", "Put a pool's nodes back to a snapshot", nf_cli_snapshot_revert},
	{"snapshot", "delete", "POOL NAME", "Delete a snapshot and free its space", nf_cli_snapshot_delete},
	{"host", "check", "", "Check that this host can run nested nodes", nf_cli_host_check},
	{"host", "list", "", "List the farm's hosts", nf_cli_host_list},
	{"host", "show", "NAME", "Show a host of the farm", nf_cli_host_show},
	{"host", "add", "NAME URI", "Add a libvirt host to the farm", nf_cli_host_add},
	{"host", "remove", "NAME", "Remove a host (with no nodes) from the farm", nf_cli_host_remove},
	{"host", "drain", "NAME", "Move every node off a host, then maintenance", nf_cli_host_drain},
	{"host", "activate", "NAME", "Let a drained host take nodes again", nf_cli_host_activate},
	{"farm", "rebalance", "", "Move nodes to even out the hosts' memory use", nf_cli_farm_rebalance},
	{"lab", "apply", "FILE|DIR", "Make the pools match *.pool lab files", nf_cli_lab_apply},
	{"lab", "status", "FILE|DIR", "Compare the lab files with the pools", nf_cli_lab_status},
	{"lab", "stop", "FILE|DIR", "Shut down the pools the lab files name", nf_cli_lab_stop},
};

static gboolean show_version;

const GOptionEntry *
nf_cli_global_entries (NfCli *cli)
{
	static GOptionEntry entries[] = {
		{"session", 0, 0, G_OPTION_ARG_NONE, NULL, "Talk to nestfarmd on the session bus", NULL},
		{"json", 0, 0, G_OPTION_ARG_NONE, NULL, "Print one JSON document", NULL},
		{"quiet",
		 'q',
		 0,
		 G_OPTION_ARG_NONE,
		 NULL,
		 "Print nothing but errors while changing things",
		 NULL},
		{"no-progress", 0, 0, G_OPTION_ARG_NONE, NULL, "Plain progress lines, never a bar", NULL},
		{NULL},
	};

	entries[0].arg_data = &cli->session;
	entries[1].arg_data = &cli->json;
	entries[2].arg_data = &cli->quiet;
	entries[3].arg_data = &cli->no_progress;
	return entries;
}

static void
print_usage (FILE *out, const gchar *only_group)
{
	const gchar *group = NULL;

	if (only_group == NULL)
		fprintf (out,
			 "Usage: nestfarmctl [OPTION…] GROUP VERB [ARG…]\n"
			 "\nMakes and manages pools of nested-hypervisor nodes through nestfarmd.\n");
	else
		fprintf (out, "Usage: nestfarmctl %s VERB [ARG…]\n", only_group);
	for (guint i = 0; i < G_N_ELEMENTS (verbs); i++) {
		g_autofree gchar *call = NULL;

		if (only_group != NULL && g_strcmp0 (verbs[i].group, only_group) != 0)
			continue;
		if (g_strcmp0 (group, verbs[i].group) != 0) {
			fputc ('\n', out);
			group = verbs[i].group;
		}
		call = g_strdup_printf ("%s %s %s", verbs[i].group, verbs[i].name, verbs[i].args);
		fprintf (out, "  %-25s %s\n", call, verbs[i].summary);
	}
	if (only_group == NULL)
		fprintf (out,
			 "\nGlobal options (before or after the verb):\n"
			 "  --session       talk to nestfarmd on the session bus\n"
			 "  --json          print one JSON document (list, show, host check)\n"
			 "  -q, --quiet     print nothing but errors while changing things\n"
			 "  --no-progress   plain progress lines instead of a bar\n"
			 "  --version       print the version\n");
	fprintf (out,
		 "\nRun 'nestfarmctl %s VERB --help' for a verb's options; see nestfarmctl(1).\n",
		 only_group != NULL ? only_group : "GROUP");
}

static gboolean
is_group (const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS (verbs); i++) {
		if (g_strcmp0 (verbs[i].group, name) == 0)
			return TRUE;
	}
	return FALSE;
}

static const NfCliVerb *
find_verb (const gchar *group, const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS (verbs); i++) {
		if (g_strcmp0 (verbs[i].group, group) == 0 && g_strcmp0 (verbs[i].name, name) == 0)
			return &verbs[i];
	}
	return NULL;
}

/* Global options before the verb; returns the index of the first other
 * argument, or -1 with *exit_code set. */
static gint
parse_leading_options (NfCli *cli, gint argc, gchar **argv, NfExit *exit_code)
{
	gint i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const gchar *arg = argv[i];

		if (g_str_equal (arg, "--session")) {
			cli->session = TRUE;
		} else if (g_str_equal (arg, "--json")) {
			cli->json = TRUE;
		} else if (g_str_equal (arg, "--quiet") || g_str_equal (arg, "-q")) {
			cli->quiet = TRUE;
		} else if (g_str_equal (arg, "--no-progress")) {
			cli->no_progress = TRUE;
		} else if (g_str_equal (arg, "--version")) {
			show_version = TRUE;
		} else if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h")) {
			print_usage (stdout, NULL);
			*exit_code = NF_EXIT_OK;
			return -1;
		} else if (g_str_equal (arg, "--")) {
			return i + 1;
		} else {
			fprintf (stderr,
				 "nestfarmctl: unknown option '%s'\nTry 'nestfarmctl --help'.\n",
				 arg);
			*exit_code = NF_EXIT_USAGE;
			return -1;
		}
	}
	return i;
}

static NfExit
run (NfCli *cli, gint argc, gchar **argv)
{
	const NfCliVerb *verb;
	g_autoptr (GPtrArray) verb_argv = g_ptr_array_new_with_free_func (g_free);
	NfExit exit_code = NF_EXIT_OK;
	gint first = parse_leading_options (cli, argc, argv, &exit_code);
	gboolean help = FALSE;

	if (first < 0)
		return exit_code;
	if (show_version) {
		printf ("nestfarmctl %s\n", NF_VERSION);
		return NF_EXIT_OK;
	}
	if (first < argc && g_str_equal (argv[first], "help")) {
		help = TRUE;
		first++;
		if (first >= argc) {
			print_usage (stdout, NULL);
			return NF_EXIT_OK;
		}
	}
	if (first >= argc) {
		fprintf (stderr, "nestfarmctl: missing GROUP and VERB\n");
		print_usage (stderr, NULL);
		return NF_EXIT_USAGE;
	}
	if (!is_group (argv[first])) {
		fprintf (stderr,
			 "nestfarmctl: unknown command '%s'; the groups are pool, node, snapshot, host and lab\n"
			 "Try 'nestfarmctl --help'.\n",
			 argv[first]);
		return NF_EXIT_USAGE;
	}
	if (first + 1 >= argc || argv[first + 1][0] == '-') {
		gboolean asked = help || (first + 1 < argc && (g_str_equal (argv[first + 1], "--help") ||
							       g_str_equal (argv[first + 1], "-h")));

		if (!asked)
			fprintf (stderr, "nestfarmctl: missing VERB after '%s'\n", argv[first]);
		print_usage (asked ? stdout : stderr, argv[first]);
		return asked ? NF_EXIT_OK : NF_EXIT_USAGE;
	}
	verb = find_verb (argv[first], argv[first + 1]);
	if (verb == NULL) {
		fprintf (stderr, "nestfarmctl: unknown verb '%s %s'\n", argv[first], argv[first + 1]);
		print_usage (stderr, argv[first]);
		return NF_EXIT_USAGE;
	}

	g_ptr_array_add (verb_argv, g_strdup_printf ("nestfarmctl %s %s", verb->group, verb->name));
	for (gint i = first + 2; i < argc; i++)
		g_ptr_array_add (verb_argv, g_strdup (argv[i]));
	if (help)
		g_ptr_array_add (verb_argv, g_strdup ("--help"));
	g_ptr_array_add (verb_argv, NULL);
	/* the verb's option parser rearranges and frees what it consumes */
	{
		gint verb_argc = (gint) verb_argv->len - 1;
		gchar **owned = g_strdupv ((gchar **) verb_argv->pdata);
		gchar **args = g_memdup2 (owned, sizeof (gchar *) * (verb_argv->len));
		NfExit code;

		code = verb->run (cli, verb, verb_argc, args);
		g_free (args);
		g_strfreev (owned);
		return code;
	}
}

int
main (int argc, char **argv)
{
	NfCli cli = {0};
	NfExit code;

	setlocale (LC_ALL, "");
	/* remote errors come back as NF_ERROR codes */
	(void) nf_error_quark ();
	code = run (&cli, argc, argv);
	nf_cli_free (&cli);
	return (int) code;
}
