/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nf-cli.h"

/* What every verb shares: argument checks that name the bad argument,
 * the connection to nestfarmd, errors turned into exit statuses, and
 * finding pools and nodes in the object manager. */

NfExit
nf_cli_usage_error (const NfCliVerb *verb, const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	fprintf (stderr,
		 "nestfarmctl %s %s: %s\nTry 'nestfarmctl %s %s --help'.\n",
		 verb->group,
		 verb->name,
		 message,
		 verb->group,
		 verb->name);
	return NF_EXIT_USAGE;
}

/* "NAME COUNT" -> the name of positional argument @n, brackets dropped */
static gchar *
argument_name (const NfCliVerb *verb, guint n)
{
	g_auto (GStrv) names = g_strsplit (verb->args, " ", -1);

	if (n >= g_strv_length (names))
		return g_strdup ("argument");
	return g_strdup (g_strstrip (g_strdelimit (names[n], "[]", ' ')));
}

NfExit
nf_cli_parse_args (NfCli *cli,
		   const NfCliVerb *verb,
		   const GOptionEntry *entries,
		   gint *argc,
		   gchar ***argv,
		   guint n_required,
		   guint n_optional)
{
	g_autoptr (GOptionContext) context = g_option_context_new (verb->args);
	g_autoptr (GError) error = NULL;
	guint given;

	g_option_context_set_summary (context, verb->summary);
	g_option_context_set_description (context, "See nestfarmctl(1) for more.");
	if (entries != NULL)
		g_option_context_add_main_entries (context, entries, NULL);
	g_option_context_add_main_entries (context, nf_cli_global_entries (cli), NULL);
	g_set_prgname ((*argv)[0]);
	if (!g_option_context_parse (context, argc, argv, &error))
		return nf_cli_usage_error (verb, "%s", error->message);
	given = (guint) (*argc - 1);
	if (given < n_required) {
		g_autofree gchar *missing = argument_name (verb, given);

		return nf_cli_usage_error (verb, "missing argument %s", missing);
	}
	if (given > n_required + n_optional)
		return nf_cli_usage_error (verb,
					   "unexpected argument '%s'",
					   (*argv)[1 + n_required + n_optional]);
	return NF_EXIT_OK;
}

gboolean
nf_cli_parse_uint (const NfCliVerb *verb,
		   const gchar *what,
		   const gchar *text,
		   guint min,
		   guint max,
		   guint *value,
		   NfExit *exit_code)
{
	guint64 parsed = 0;

	if (!g_ascii_string_to_unsigned (text, 10, min, max, &parsed, NULL)) {
		*exit_code = nf_cli_usage_error (verb,
						 "%s must be a whole number from %u to %u, not '%s'",
						 what,
						 min,
						 max,
						 text);
		return FALSE;
	}
	*value = (guint) parsed;
	return TRUE;
}

gboolean
nf_cli_check_pool_name (const NfCliVerb *verb, const gchar *what, const gchar *name, NfExit *exit_code)
{
	g_autoptr (GError) error = NULL;

	if (nf_pool_name_validate (name, &error))
		return TRUE;
	*exit_code = nf_cli_usage_error (verb, "%s '%s' is not a pool name: %s", what, name, error->message);
	return FALSE;
}

gboolean
nf_cli_check_node_name (const NfCliVerb *verb, const gchar *name, NfExit *exit_code)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *pool = NULL;
	guint index = 0;

	if (nf_node_name_parse (name, &pool, &index, &error))
		return TRUE;
	*exit_code = nf_cli_usage_error (verb, "NAME: %s", error->message);
	return FALSE;
}

gboolean
nf_cli_check_bridge (const NfCliVerb *verb, const gchar *bridge, NfExit *exit_code)
{
	gsize len = strlen (bridge);

	if (len == 0 || len > NF_BRIDGE_NAME_MAX || strspn (bridge, NF_BRIDGE_NAME_CHARS) != len) {
		*exit_code =
			nf_cli_usage_error (verb,
					    "--bridge '%s' is not a bridge name: use 1 to %d characters of A-Z, "
					    "a-z, 0-9, '_', '.' and '-'",
					    bridge,
					    NF_BRIDGE_NAME_MAX);
		return FALSE;
	}
	return TRUE;
}

NfExit
nf_cli_error_exit (const GError *error)
{
	if (error->domain == NF_ERROR)
		return error->code == NF_ERROR_NOT_AUTHORIZED ? NF_EXIT_NOT_AUTHORIZED : NF_EXIT_FAILED;
	if (error->domain == G_DBUS_ERROR) {
		switch (error->code) {
		case G_DBUS_ERROR_ACCESS_DENIED:
		case G_DBUS_ERROR_AUTH_FAILED:
			return NF_EXIT_NOT_AUTHORIZED;
		case G_DBUS_ERROR_SERVICE_UNKNOWN:
		case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
		case G_DBUS_ERROR_NO_SERVER:
		case G_DBUS_ERROR_NO_NETWORK:
		case G_DBUS_ERROR_DISCONNECTED:
		case G_DBUS_ERROR_NO_REPLY:
		case G_DBUS_ERROR_TIMEOUT:
		case G_DBUS_ERROR_TIMED_OUT:
		case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
		case G_DBUS_ERROR_SPAWN_FAILED:
		case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
		case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
		case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
		case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
		case G_DBUS_ERROR_SPAWN_FILE_INVALID:
			return NF_EXIT_UNREACHABLE;
		default:
			return NF_EXIT_FAILED;
		}
	}
	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
		return NF_EXIT_UNREACHABLE;
	return NF_EXIT_FAILED;
}

NfExit
nf_cli_fail (const GError *error)
{
	g_autoptr (GError) shown = g_error_copy (error);
	NfExit code = nf_cli_error_exit (error);

	g_dbus_error_strip_remote_error (shown);
	if (code == NF_EXIT_NOT_AUTHORIZED && shown->domain != NF_ERROR)
		fprintf (stderr, "nestfarmctl: not authorized: %s\n", shown->message);
	else if (code == NF_EXIT_UNREACHABLE)
		fprintf (stderr, "nestfarmctl: cannot reach nestfarmd: %s\n", shown->message);
	else
		fprintf (stderr, "nestfarmctl: %s\n", shown->message);
	return code;
}

NfExit
nf_cli_fail_literal (NfExit code, const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	fprintf (stderr, "nestfarmctl: %s\n", message);
	return code;
}

static NfExit
unreachable (NfCli *cli, const GError *error)
{
	g_autoptr (GError) shown = g_error_copy (error);
	const gchar *bus = cli->session ? "session" : "system";

	g_dbus_error_strip_remote_error (shown);
	fprintf (stderr,
		 "nestfarmctl: cannot reach nestfarmd on the %s bus: %s\n"
		 "nestfarmctl: start it (systemctl start nestfarmd, or nestfarmd%s as root) and try again.\n",
		 bus,
		 shown->message,
		 cli->session ? " --session" : "");
	return NF_EXIT_UNREACHABLE;
}

static gboolean
load_objects (NfCli *cli, GError **error)
{
	cli->objects =
		nf_dbus_object_manager_client_new_sync (cli->bus,
							G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
							NF_CLI_BUS_NAME,
							NF_CLI_ROOT,
							NULL,
							error);
	return cli->objects != NULL;
}

/* Connects, makes sure somebody owns the name (D-Bus may start nestfarmd
 * for the ping), and loads every pool, node and job at once. */
NfExit
nf_cli_connect (NfCli *cli)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = NULL;

	if (cli->manager != NULL)
		return NF_EXIT_OK;
	cli->bus = g_bus_get_sync (cli->session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, &error);
	if (cli->bus == NULL)
		return unreachable (cli, error);
	reply = g_dbus_connection_call_sync (cli->bus,
					     NF_CLI_BUS_NAME,
					     NF_CLI_ROOT,
					     "org.freedesktop.DBus.Peer",
					     "Ping",
					     NULL,
					     NULL,
					     G_DBUS_CALL_FLAGS_NONE,
					     60000,
					     NULL,
					     &error);
	if (reply == NULL) {
		if (nf_cli_error_exit (error) == NF_EXIT_NOT_AUTHORIZED)
			return nf_cli_fail (error);
		return unreachable (cli, error);
	}
	if (!load_objects (cli, &error))
		return unreachable (cli, error);
	cli->manager = nf_dbus_manager_proxy_new_sync (cli->bus,
						       G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
						       NF_CLI_BUS_NAME,
						       NF_CLI_ROOT,
						       NULL,
						       &error);
	if (cli->manager == NULL)
		return unreachable (cli, error);
	return NF_EXIT_OK;
}

/* A fresh look at the objects, e.g. after a job: property changes may
 * still be on their way when the job's Completed signal arrives. */
gboolean
nf_cli_refresh (NfCli *cli, GError **error)
{
	g_clear_object (&cli->objects);
	return load_objects (cli, error);
}

void
nf_cli_free (NfCli *cli)
{
	g_clear_object (&cli->manager);
	g_clear_object (&cli->objects);
	g_clear_object (&cli->bus);
}

/* polkit may ask for a password first: no reply timeout for those calls */
void
nf_cli_proxy_allow_slow_auth (gpointer proxy)
{
	g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), G_MAXINT);
}

void
nf_cli_add_stop_options (GVariantBuilder *options, gboolean force, guint timeout)
{
	if (force)
		g_variant_builder_add (options, "{sv}", "force", g_variant_new_boolean (TRUE));
	if (timeout > 0)
		g_variant_builder_add (options, "{sv}", "shutdown-timeout", g_variant_new_uint32 (timeout));
}

gchar *
nf_cli_pool_path (const gchar *name)
{
	g_autofree gchar *escaped = nf_path_component_escape (name);

	return g_strdup_printf (NF_CLI_ROOT "/pool/%s", escaped);
}

gchar *
nf_cli_node_path (const gchar *name)
{
	g_autofree gchar *escaped = nf_path_component_escape (name);

	return g_strdup_printf (NF_CLI_ROOT "/node/%s", escaped);
}

gchar *
nf_cli_host_path (const gchar *name)
{
	g_autofree gchar *escaped = nf_path_component_escape (name);

	return g_strdup_printf (NF_CLI_ROOT "/host/%s", escaped);
}

gchar *
nf_cli_name_from_path (const gchar *path)
{
	const gchar *slash;
	gchar *name;

	if (path == NULL)
		return g_strdup ("");
	slash = strrchr (path, '/');
	name = nf_path_component_unescape (slash != NULL ? slash + 1 : path);

	return name != NULL ? name : g_strdup (path);
}

NfDBusPool *
nf_cli_lookup_pool (NfCli *cli, const gchar *name, GError **error)
{
	g_autofree gchar *path = nf_cli_pool_path (name);
	g_autoptr (GDBusObject) object = g_dbus_object_manager_get_object (cli->objects, path);
	NfDBusPool *pool = object != NULL ? nf_dbus_object_get_pool (NF_DBUS_OBJECT (object)) : NULL;

	if (pool == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no pool '%s'; 'nestfarmctl pool list' shows the pools.",
			     name);
	return pool;
}

NfDBusNode *
nf_cli_node_at (NfCli *cli, const gchar *path)
{
	g_autoptr (GDBusObject) object = g_dbus_object_manager_get_object (cli->objects, path);

	return object != NULL ? nf_dbus_object_get_node (NF_DBUS_OBJECT (object)) : NULL;
}

NfDBusNode *
nf_cli_lookup_node (NfCli *cli, const gchar *name, GError **error)
{
	g_autofree gchar *path = nf_cli_node_path (name);
	NfDBusNode *node = nf_cli_node_at (cli, path);

	if (node == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no node '%s'; 'nestfarmctl node list' shows the nodes.",
			     name);
	return node;
}

/* For a verb that acts on one pool: the bus connected and the pool
 * looked up; NULL with *@code set (the error said) otherwise. */
NfDBusPool *
nf_cli_find_pool (NfCli *cli, const gchar *name, NfExit *code)
{
	g_autoptr (GError) error = NULL;
	NfDBusPool *pool;

	*code = nf_cli_connect (cli);
	if (*code != NF_EXIT_OK)
		return NULL;
	pool = nf_cli_lookup_pool (cli, name, &error);
	if (pool == NULL)
		*code = nf_cli_fail (error);
	return pool;
}

/* The same for a verb that acts on one node. */
NfDBusNode *
nf_cli_find_node (NfCli *cli, const gchar *name, NfExit *code)
{
	g_autoptr (GError) error = NULL;
	NfDBusNode *node;

	*code = nf_cli_connect (cli);
	if (*code != NF_EXIT_OK)
		return NULL;
	node = nf_cli_lookup_node (cli, name, &error);
	if (node == NULL)
		*code = nf_cli_fail (error);
	return node;
}

static gint
compare_pools (gconstpointer a, gconstpointer b)
{
	NfDBusPool *pa = *(NfDBusPool *const *) a;
	NfDBusPool *pb = *(NfDBusPool *const *) b;

	return g_strcmp0 (nf_dbus_pool_get_name (pa), nf_dbus_pool_get_name (pb));
}

static gint
compare_nodes (gconstpointer a, gconstpointer b)
{
	NfDBusNode *na = *(NfDBusNode *const *) a;
	NfDBusNode *nb = *(NfDBusNode *const *) b;
	g_autofree gchar *pool_a = nf_cli_name_from_path (nf_dbus_node_get_pool (na));
	g_autofree gchar *pool_b = nf_cli_name_from_path (nf_dbus_node_get_pool (nb));
	gint by_pool = g_strcmp0 (pool_a, pool_b);

	if (by_pool != 0)
		return by_pool;
	return (gint) nf_dbus_node_get_index (na) - (gint) nf_dbus_node_get_index (nb);
}

GPtrArray *
nf_cli_list_pools (NfCli *cli)
{
	GPtrArray *pools = g_ptr_array_new_with_free_func (g_object_unref);
	GList *objects = g_dbus_object_manager_get_objects (cli->objects);

	for (GList *l = objects; l != NULL; l = l->next) {
		NfDBusPool *pool = nf_dbus_object_get_pool (NF_DBUS_OBJECT (l->data));

		if (pool != NULL)
			g_ptr_array_add (pools, pool);
	}
	g_list_free_full (objects, g_object_unref);
	g_ptr_array_sort (pools, compare_pools);
	return pools;
}

/* The nodes of @pool, or of every pool when @pool is NULL, in order. */
GPtrArray *
nf_cli_list_nodes (NfCli *cli, NfDBusPool *pool)
{
	GPtrArray *nodes = g_ptr_array_new_with_free_func (g_object_unref);

	if (pool != NULL) {
		const gchar *const *paths = nf_dbus_pool_get_nodes (pool);

		for (guint i = 0; paths != NULL && paths[i] != NULL; i++) {
			NfDBusNode *node = nf_cli_node_at (cli, paths[i]);

			if (node != NULL)
				g_ptr_array_add (nodes, node);
		}
	} else {
		GList *objects = g_dbus_object_manager_get_objects (cli->objects);

		for (GList *l = objects; l != NULL; l = l->next) {
			NfDBusNode *node = nf_dbus_object_get_node (NF_DBUS_OBJECT (l->data));

			if (node != NULL)
				g_ptr_array_add (nodes, node);
		}
		g_list_free_full (objects, g_object_unref);
	}
	g_ptr_array_sort (nodes, compare_nodes);
	return nodes;
}

gboolean
nf_cli_pool_in_state (NfDBusPool *pool, NfPoolState state)
{
	NfPoolState now;

	return nf_pool_state_from_string (nf_dbus_pool_get_state (pool), &now) && now == state;
}

gboolean
nf_cli_node_in_state (NfDBusNode *node, NfNodeState state)
{
	NfNodeState now;

	return nf_node_state_from_string (nf_dbus_node_get_state (node), &now) && now == state;
}

guint
nf_cli_pool_node_count (NfDBusPool *pool)
{
	const gchar *const *paths = nf_dbus_pool_get_nodes (pool);

	return paths != NULL ? g_strv_length ((gchar **) paths) : 0;
}

GVariant *
nf_cli_pool_snapshots (NfDBusPool *pool)
{
	GVariant *snapshots = nf_dbus_pool_get_snapshots (pool);

	if (snapshots == NULL || !g_variant_is_of_type (snapshots, G_VARIANT_TYPE ("a(sttb)")))
		return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("(sttb)"), NULL, 0));
	return g_variant_ref (snapshots);
}
