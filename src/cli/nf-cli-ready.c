/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nestfarmctl"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nf-cli.h"

/* `pool create --wait-ready`: after the create, until every node of the
 * pool is Ready (the daemon's probes say so: this only reads the nodes'
 * properties as the bus brings their changes), or the time is up; then
 * which nodes are not, why as far as the daemon knows, and their consoles'
 * last lines. */

/* Console lines shown for each node that did not become ready. */
#define NF_CLI_CONSOLE_TAIL_LINES 8

typedef struct {
	GPtrArray *nodes; /* NfDBusNode */
	GMainLoop *loop;
	guint ready;
	guint shown; /* the count last printed, G_MAXUINT: none yet */
	gboolean plain;
} Waiting;

static guint
count_ready (GPtrArray *nodes)
{
	guint ready = 0;

	for (guint i = 0; i < nodes->len; i++)
		ready += nf_dbus_node_get_ready (g_ptr_array_index (nodes, i)) ? 1 : 0;
	return ready;
}

static void
show_progress (Waiting *w)
{
	if (!w->plain || w->ready == w->shown)
		return;
	printf ("%u of %u nodes ready\n", w->ready, w->nodes->len);
	fflush (stdout);
	w->shown = w->ready;
}

static void
on_node_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, Waiting *w)
{
	w->ready = count_ready (w->nodes);
	show_progress (w);
	if (w->ready == w->nodes->len)
		g_main_loop_quit (w->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
	g_main_loop_quit (user_data);
	return G_SOURCE_REMOVE;
}

/* The last lines of a console log, indented; "" when it cannot be read
 * (a console on another host). */
static gchar *
console_tail (const gchar *path)
{
	g_autofree gchar *text = NULL;
	g_autoptr (GString) tail = g_string_new (NULL);
	g_auto (GStrv) lines = NULL;
	guint n;

	if (path == NULL || path[0] == '\0' || !g_file_get_contents (path, &text, NULL, NULL))
		return g_strdup ("");
	lines = g_strsplit (g_strchomp (text), "\n", -1);
	n = g_strv_length (lines);
	for (guint i = n > NF_CLI_CONSOLE_TAIL_LINES ? n - NF_CLI_CONSOLE_TAIL_LINES : 0; i < n; i++) {
		g_autofree gchar *line = g_utf8_make_valid (g_strchomp (lines[i]), -1);

		g_string_append_printf (tail, "    | %s\n", line);
	}
	return g_string_free (g_steal_pointer (&tail), FALSE);
}

static void
report_not_ready (GPtrArray *nodes, guint timeout_s)
{
	fprintf (stderr, "nestfarmctl: not every node became ready within %u s:\n", timeout_s);
	for (guint i = 0; i < nodes->len; i++) {
		NfDBusNode *node = g_ptr_array_index (nodes, i);
		const gchar *const *addresses = nf_dbus_node_get_addresses (node);
		g_autofree gchar *tail = NULL;
		const gchar *why;

		if (nf_dbus_node_get_ready (node))
			continue;
		if (!nf_cli_node_in_state (node, NF_NODE_STATE_RUNNING))
			why = "it does not run";
		else if (addresses == NULL || addresses[0] == NULL)
			why = "it has no known management address";
		else if (g_strcmp0 (nf_dbus_node_get_nesting (node), "unknown") == 0)
			why = "nothing inside answered (no guest agent, or cloud-init has not finished)";
		else
			why = "it booted, but SSH does not answer";
		tail = console_tail (nf_dbus_node_get_console_log (node));
		fprintf (stderr,
			 "  %s (%s): %s; its console ends:\n%s",
			 nf_dbus_node_get_name (node),
			 nf_dbus_node_get_state (node),
			 why,
			 tail[0] != '\0' ? tail : "    (no console log here)\n");
	}
}

NfExit
nf_cli_wait_ready (NfCli *cli, const gchar *pool_name, guint timeout_s)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfDBusPool) pool = NULL;
	g_autoptr (GPtrArray) nodes = NULL;
	g_autoptr (GMainLoop) loop = NULL;
	Waiting w = {0};
	guint timeout_id;

	if (!nf_cli_refresh (cli, &error))
		return nf_cli_fail (error);
	pool = nf_cli_lookup_pool (cli, pool_name, &error);
	if (pool == NULL)
		return nf_cli_fail (error);
	/* Ready needs the seed's boot and a login: not for such a profile. */
	if (nf_dbus_pool_get_sshuser (pool) == NULL || nf_dbus_pool_get_sshuser (pool)[0] == '\0')
		return nf_cli_fail_literal (NF_EXIT_FAILED,
					    "pool %s's profile takes no cloud-init seed, so its nodes never report Ready; "
					    "drop --wait-ready",
					    pool_name);
	nodes = nf_cli_list_nodes (cli, pool);
	loop = g_main_loop_new (NULL, FALSE);
	w.nodes = nodes;
	w.loop = loop;
	w.shown = G_MAXUINT;
	w.plain = !cli->quiet && !cli->json;
	for (guint i = 0; i < nodes->len; i++)
		g_signal_connect (g_ptr_array_index (nodes, i),
				  "g-properties-changed",
				  G_CALLBACK (on_node_changed),
				  &w);
	w.ready = count_ready (nodes);
	show_progress (&w);
	if (w.ready < nodes->len) {
		timeout_id = g_timeout_add_seconds (timeout_s, on_timeout, loop);
		g_main_loop_run (loop);
		if (w.ready < nodes->len)
			timeout_id = 0; /* it fired */
		g_clear_handle_id (&timeout_id, g_source_remove);
	}
	for (guint i = 0; i < nodes->len; i++)
		g_signal_handlers_disconnect_by_data (g_ptr_array_index (nodes, i), &w);
	if (w.ready == nodes->len)
		return NF_EXIT_OK;
	report_not_ready (nodes, timeout_s);
	return NF_EXIT_FAILED;
}
