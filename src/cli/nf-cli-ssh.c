/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "nf-cli.h"

/* nestfarmctl node ssh and pool inventory: logging into nodes with the
 * system's ssh, and an Ansible inventory of a pool. A node's SSH host keys
 * are never trusted blind: they are read from its serial console, where
 * cloud-init writes them at boot ("-----BEGIN SSH HOST KEY KEYS-----"),
 * and pinned in nestfarm's own known-hosts file, which ssh then checks
 * strictly. */

#define KEYS_BEGIN "-----BEGIN SSH HOST KEY KEYS-----"
#define KEYS_END   "-----END SSH HOST KEY KEYS-----"

gchar *
nf_cli_known_hosts_path (void)
{
	return g_build_filename (g_get_user_state_dir (), "nestfarm", "known_hosts", NULL);
}

/* The key types ssh accepts for a host, as cloud-init prints them. */
static const gchar *
key_start (const gchar *line)
{
	static const gchar *const types[] = {"ssh-ed25519 ", "ecdsa-sha2-", "ssh-rsa "};

	for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
		const gchar *at = strstr (line, types[i]);

		if (at != NULL)
			return at;
	}
	return NULL;
}

/* "TYPE KEY" of each host key in the last block the console shows; NULL
 * when it shows none (not booted yet, no cloud-init, another host's). */
static GPtrArray *
console_host_keys (const gchar *console_log)
{
	g_autofree gchar *text = NULL;
	g_auto (GStrv) lines = NULL;
	g_autoptr (GPtrArray) keys = NULL;
	gboolean inside = FALSE;

	if (console_log == NULL || !g_file_get_contents (console_log, &text, NULL, NULL))
		return NULL;
	lines = g_strsplit (text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *at;
		g_autofree gchar *key = NULL;
		g_auto (GStrv) fields = NULL;

		if (strstr (lines[i], KEYS_BEGIN) != NULL) {
			/* A later boot's block replaces an earlier one. */
			g_clear_pointer (&keys, g_ptr_array_unref);
			keys = g_ptr_array_new_with_free_func (g_free);
			inside = TRUE;
			continue;
		}
		if (strstr (lines[i], KEYS_END) != NULL) {
			inside = FALSE;
			continue;
		}
		if (!inside || (at = key_start (lines[i])) == NULL)
			continue;
		key = g_strdup (at);
		fields = g_strsplit_set (g_strstrip (key), " \t\r", 3);
		if (g_strv_length (fields) >= 2)
			g_ptr_array_add (keys, g_strdup_printf ("%s %s", fields[0], fields[1]));
	}
	if (keys == NULL || keys->len == 0)
		return NULL;
	return g_steal_pointer (&keys);
}

/* The known-hosts file without @address's lines, plus @keys for it (NULL:
 * none, the address forgotten). */
static gboolean
rewrite_known_hosts (const gchar *address, GPtrArray *keys, GError **error)
{
	g_autofree gchar *path = nf_cli_known_hosts_path ();
	g_autofree gchar *dir = g_path_get_dirname (path);
	g_autofree gchar *old = NULL;
	g_autofree gchar *prefix = g_strdup_printf ("%s ", address);
	g_autoptr (GString) text = g_string_new (NULL);
	g_auto (GStrv) lines = NULL;

	if (g_mkdir_with_parents (dir, 0700) != 0) {
		g_set_error (error,
			     G_FILE_ERROR,
			     g_file_error_from_errno (errno),
			     "cannot make %s: %s",
			     dir,
			     g_strerror (errno));
		return FALSE;
	}
	if (g_file_get_contents (path, &old, NULL, NULL)) {
		lines = g_strsplit (old, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++) {
			if (lines[i][0] != '\0' && !g_str_has_prefix (lines[i], prefix))
				g_string_append_printf (text, "%s\n", lines[i]);
		}
	}
	for (guint i = 0; keys != NULL && i < keys->len; i++)
		g_string_append_printf (text, "%s %s\n", address, (const gchar *) g_ptr_array_index (keys, i));
	return g_file_set_contents_full (path,
					 text->str,
					 (gssize) text->len,
					 G_FILE_SET_CONTENTS_CONSISTENT,
					 0600,
					 error);
}

/* Whether the known-hosts file has a line for @address. */
static gboolean
known_host (const gchar *address)
{
	g_autofree gchar *path = nf_cli_known_hosts_path ();
	g_autofree gchar *text = NULL;
	g_autofree gchar *needle = g_strdup_printf ("\n%s ", address);
	g_autofree gchar *with_start = NULL;

	if (!g_file_get_contents (path, &text, NULL, NULL))
		return FALSE;
	with_start = g_strconcat ("\n", text, NULL);
	return strstr (with_start, needle) != NULL;
}

/* Pins @node's host keys from its console under its address; FALSE with
 * a message when there are none to pin and none pinned before. */
static gboolean
pin_host_keys (NfDBusNode *node, const gchar *address, GError **error)
{
	const gchar *console = nf_dbus_node_get_console_log (node);
	g_autoptr (GPtrArray) keys = console_host_keys (console);

	if (keys != NULL)
		return rewrite_known_hosts (address, keys, error);
	if (known_host (address))
		return TRUE;
	if (console != NULL && console[0] != '\0' && g_access (console, R_OK) != 0) {
		gint saved_errno = errno;

		g_set_error (error,
			     G_IO_ERROR,
			     g_io_error_from_errno (saved_errno),
			     "cannot read node %s's console log %s to learn its SSH host keys: %s (it is root's)",
			     nf_dbus_node_get_name (node),
			     console,
			     g_strerror (saved_errno));
		return FALSE;
	}
	g_set_error (error,
		     G_IO_ERROR,
		     G_IO_ERROR_NOT_FOUND,
		     "node %s's console shows no SSH host keys yet (is it Ready? see `nestfarmctl node show %s`); not "
		     "logging in without knowing its host",
		     nf_dbus_node_get_name (node),
		     nf_dbus_node_get_name (node));
	return FALSE;
}

void
nf_cli_forget_host_keys (GPtrArray *addresses)
{
	for (guint i = 0; addresses != NULL && i < addresses->len; i++) {
		g_autoptr (GError) error = NULL;

		if (known_host (g_ptr_array_index (addresses, i)) &&
		    !rewrite_known_hosts (g_ptr_array_index (addresses, i), NULL, &error))
			g_printerr ("nestfarmctl: cannot forget the host keys of %s: %s\n",
				    (const gchar *) g_ptr_array_index (addresses, i),
				    error->message);
	}
}

static const gchar *
node_address (NfDBusNode *node)
{
	const gchar *const *addresses = nf_dbus_node_get_addresses (node);

	return addresses != NULL ? addresses[0] : NULL;
}

GPtrArray *
nf_cli_pool_addresses (NfCli *cli, NfDBusPool *pool)
{
	g_autoptr (GPtrArray) nodes = nf_cli_list_nodes (cli, pool);
	GPtrArray *addresses = g_ptr_array_new_with_free_func (g_free);

	for (guint i = 0; i < nodes->len; i++) {
		const gchar *address = node_address (g_ptr_array_index (nodes, i));

		if (address != NULL)
			g_ptr_array_add (addresses, g_strdup (address));
	}
	return addresses;
}

/* The ssh options every login of nestfarm's uses, as words. */
static void
add_ssh_options (GPtrArray *words, const gchar *known_hosts)
{
	g_ptr_array_add (words, g_strdup ("-o"));
	g_ptr_array_add (words, g_strdup_printf ("UserKnownHostsFile=%s", known_hosts));
	g_ptr_array_add (words, g_strdup ("-o"));
	g_ptr_array_add (words, g_strdup ("StrictHostKeyChecking=yes"));
}

NfExit
nf_cli_node_ssh (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusNode) node = NULL;
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) ssh = g_ptr_array_new_with_free_func (g_free);
	g_autofree gchar *known_hosts = nf_cli_known_hosts_path ();
	g_autofree gchar *pool_name = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, G_MAXINT);
	const gchar *address;
	const gchar *user;
	gint first = 2;

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_node_name (verb, argv[1], &code))
		return code;
	node = nf_cli_find_node (cli, argv[1], &code);
	if (node == NULL)
		return code;
	pool_name = nf_cli_name_from_path (nf_dbus_node_get_pool (node));
	pool = nf_cli_lookup_pool (cli, pool_name, &error);
	if (pool == NULL)
		return nf_cli_fail (error);
	address = node_address (node);
	user = nf_dbus_pool_get_sshuser (pool);
	if (address == NULL)
		return nf_cli_fail_literal (NF_EXIT_FAILED,
					    "node %s has no known management address (`nestfarmctl node show %s`)",
					    argv[1],
					    argv[1]);
	if (user == NULL || user[0] == '\0')
		return nf_cli_fail_literal (NF_EXIT_FAILED,
					    "pool of node %s makes no login user (its profile takes no seed)",
					    argv[1]);
	if (!pin_host_keys (node, address, &error))
		return nf_cli_fail_literal (NF_EXIT_FAILED, "%s", error->message);
	g_ptr_array_add (ssh, g_strdup ("ssh"));
	add_ssh_options (ssh, known_hosts);
	g_ptr_array_add (ssh, g_strdup_printf ("%s@%s", user, address));
	if (argc > first && g_str_equal (argv[first], "--"))
		first++;
	for (gint i = first; i < argc; i++)
		g_ptr_array_add (ssh, g_strdup (argv[i]));
	g_ptr_array_add (ssh, NULL);
	fflush (stdout);
	execvp ("ssh", (gchar **) ssh->pdata);
	return nf_cli_fail_literal (NF_EXIT_FAILED,
				    "cannot run ssh: %s (install openssh-client)",
				    g_strerror (errno));
}

/* An Ansible group name: letters, digits and '_' only. */
static gchar *
group_name (const gchar *pool)
{
	gchar *group = g_strdup (pool);

	g_strcanon (group, G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS "_", '_');
	return group;
}

NfExit
nf_cli_pool_inventory (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GPtrArray) nodes = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *group = NULL;
	g_autofree gchar *known_hosts = nf_cli_known_hosts_path ();
	g_autofree gchar *quoted = g_shell_quote (known_hosts);
	NfExit code = nf_cli_parse_args (cli, verb, NULL, &argc, &argv, 1, 0);
	const gchar *user;

	if (code != NF_EXIT_OK)
		return code;
	if (!nf_cli_check_pool_name (verb, "NAME", argv[1], &code))
		return code;
	pool = nf_cli_find_pool (cli, argv[1], &code);
	if (pool == NULL)
		return code;
	nodes = nf_cli_list_nodes (cli, pool);
	group = group_name (argv[1]);
	user = nf_dbus_pool_get_sshuser (pool);
	printf ("# The nodes of nestfarm pool %s (nestfarmctl pool inventory %s)\n[%s]\n",
		argv[1],
		argv[1],
		group);
	for (guint i = 0; i < nodes->len; i++) {
		NfDBusNode *node = g_ptr_array_index (nodes, i);
		const gchar *address = node_address (node);

		if (address == NULL) {
			printf ("# %s: no known management address\n", nf_dbus_node_get_name (node));
			continue;
		}
		if (!pin_host_keys (node, address, &error)) {
			printf ("# %s: %s\n", nf_dbus_node_get_name (node), error->message);
			g_clear_error (&error);
			continue;
		}
		printf ("%s ansible_host=%s\n", nf_dbus_node_get_name (node), address);
	}
	printf ("\n[%s:vars]\n", group);
	if (user != NULL && user[0] != '\0')
		printf ("ansible_user=%s\n", user);
	/* Ansible splits it as a shell would. */
	printf ("ansible_ssh_common_args=\"-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes\"\n",
		quoted);
	return NF_EXIT_OK;
}
