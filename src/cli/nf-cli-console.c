/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nf-cli.h"

/* nestfarmctl node console: the node's serial console as its log file
 * (the ConsoleLog property), followed like tail -f on a terminal: read
 * here for a node of the local host, through nestfarmd (ReadConsole, which
 * reads it through the host's libvirt) for a node of another host. It is
 * read-only: nestfarmd has no console stream, and nestfarmctl never talks
 * to libvirt itself, so typing into the console is left to virsh. */

#define POLL_MS        200
#define REMOTE_POLL_MS 500

typedef struct {
	GMainLoop *loop;
	gchar *node_path;
	gchar *log;
	gint fd;
	NfExit code;
	/* a node of another host: read through nestfarmd from @offset */
	NfDBusNode *remote;
	guint64 offset;
	GError *error; /* why the last remote read failed */
} Console;

/* What is new, through nestfarmd; a log that began again is read from its
 * top. */
static gboolean
copy_new_remote (Console *c)
{
	for (;;) {
		g_autoptr (GVariant) data = NULL;
		g_autoptr (GError) error = NULL;
		guint64 size = 0;
		gsize n = 0;
		const gchar *bytes;

		if (!nf_dbus_node_call_read_console_sync (c->remote,
							  c->offset,
							  0,
							  &data,
							  &size,
							  NULL,
							  &error)) {
			g_clear_error (&c->error);
			c->error = g_steal_pointer (&error);
			return FALSE;
		}
		if (size < c->offset) {
			c->offset = 0;
			continue;
		}
		bytes = g_variant_get_fixed_array (data, &n, 1);
		if (n > 0 && fwrite (bytes, 1, n, stdout) != n)
			return FALSE;
		c->offset += n;
		if (n == 0 || c->offset >= size)
			break;
	}
	fflush (stdout);
	return TRUE;
}

/* Copies what is new in the log to stdout; FALSE on a read error. */
static gboolean
copy_new (Console *c)
{
	gchar buffer[8192];

	if (c->remote != NULL)
		return copy_new_remote (c);
	for (;;) {
		gssize n = read (c->fd, buffer, sizeof buffer);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FALSE;
		if (n == 0)
			break;
		if (fwrite (buffer, 1, (gsize) n, stdout) != (gsize) n)
			return FALSE;
	}
	fflush (stdout);
	return TRUE;
}

/* virtlogd rotates and truncates the log: start again from the top of
 * whatever file the path names now. */
static void
reopen_if_replaced (Console *c)
{
	struct stat now, open_file;
	gint fd;

	if (g_stat (c->log, &now) != 0 || fstat (c->fd, &open_file) != 0)
		return;
	if (now.st_ino == open_file.st_ino && now.st_dev == open_file.st_dev) {
		if (now.st_size < lseek (c->fd, 0, SEEK_CUR))
			lseek (c->fd, 0, SEEK_SET);
		return;
	}
	fd = g_open (c->log, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	copy_new (c); /* the rest of the old file first */
	close (c->fd);
	c->fd = fd;
}

static gboolean
on_poll (gpointer user_data)
{
	Console *c = user_data;

	if (c->remote == NULL)
		reopen_if_replaced (c);
	if (!copy_new (c)) {
		fprintf (stderr,
			 "nestfarmctl: cannot read %s: %s\n",
			 c->log,
			 c->remote != NULL && c->error != NULL ? c->error->message : g_strerror (errno));
		c->code = NF_EXIT_FAILED;
		g_main_loop_quit (c->loop);
		return G_SOURCE_CONTINUE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
on_interrupt (gpointer user_data)
{
	Console *c = user_data;

	g_main_loop_quit (c->loop);
	return G_SOURCE_CONTINUE;
}

static void
on_object_removed (GDBusObjectManager *objects, GDBusObject *object, Console *c)
{
	if (g_strcmp0 (g_dbus_object_get_object_path (object), c->node_path) != 0)
		return;
	copy_new (c);
	fprintf (stderr, "\nnestfarmctl: the node is gone\n");
	g_main_loop_quit (c->loop);
}

/* The libvirt URI of @node's host (the daemon's own where it names none). */
static gchar *
host_uri (NfCli *cli, NfDBusNode *node)
{
	const gchar *path = nf_dbus_node_get_host (node);
	g_autoptr (GDBusObject) object = path != NULL && path[0] != '\0'
						 ? g_dbus_object_manager_get_object (cli->objects, path)
						 : NULL;
	g_autoptr (NfDBusHost) host =
		object != NULL ? nf_dbus_object_get_host (NF_DBUS_OBJECT (object)) : NULL;

	if (host != NULL && nf_dbus_host_get_uri (host) != NULL)
		return g_strdup (nf_dbus_host_get_uri (host));
	return g_strdup (nf_dbus_manager_get_libvirt_uri (cli->manager));
}

static NfExit
follow (NfCli *cli, Console *c, NfDBusNode *node)
{
	guint poll_id, interrupt_id;
	gulong removed_id;
	g_autofree gchar *uri = host_uri (cli, node);

	fprintf (stderr,
		 "--- %s: following %s (read-only); Ctrl-C to stop.\n"
		 "--- To type into the console, as root: virsh -c '%s' console %s\n",
		 nf_dbus_node_get_name (node),
		 c->log,
		 uri,
		 nf_dbus_node_get_domain_uuid (node));
	c->loop = g_main_loop_new (NULL, FALSE);
	poll_id = g_timeout_add (c->remote != NULL ? REMOTE_POLL_MS : POLL_MS, on_poll, c);
	interrupt_id = g_unix_signal_add (SIGINT, on_interrupt, c);
	removed_id = g_signal_connect (cli->objects, "object-removed", G_CALLBACK (on_object_removed), c);
	g_main_loop_run (c->loop);
	g_signal_handler_disconnect (cli->objects, removed_id);
	g_source_remove (poll_id);
	g_source_remove (interrupt_id);
	g_main_loop_unref (c->loop);
	return c->code;
}

/* A node whose Host is not the local one (an older nestfarmd shows none). */
static gboolean
on_other_host (NfDBusNode *node)
{
	const gchar *host = nf_dbus_node_get_host (node);

	return host != NULL && host[0] != '\0' && !g_str_has_suffix (host, "/host/local");
}

static NfExit
console_remote (NfCli *cli, Console *c, NfDBusNode *node, gboolean want_follow)
{
	NfExit code = NF_EXIT_OK;

	c->remote = node;
	nf_cli_proxy_allow_slow_auth (node);
	if (!copy_new (c)) {
		if (c->error != NULL)
			code = nf_cli_fail (c->error);
		else
			code = nf_cli_fail_literal (NF_EXIT_FAILED,
						    "cannot write the console: %s",
						    g_strerror (errno));
	} else if (want_follow) {
		code = follow (cli, c, node);
	}
	g_clear_error (&c->error);
	return code;
}

NfExit
nf_cli_node_console (NfCli *cli, const NfCliVerb *verb, gint argc, gchar **argv)
{
	gboolean want_follow = FALSE, no_follow = FALSE;
	const GOptionEntry entries[] = {
		{"follow",
		 'f',
		 0,
		 G_OPTION_ARG_NONE,
		 &want_follow,
		 "Follow the log even without a terminal",
		 NULL},
		{"no-follow",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &no_follow,
		 "Print the log and exit, even on a terminal",
		 NULL},
		{NULL},
	};
	g_autoptr (NfDBusNode) node = NULL;
	g_autofree gchar *node_path = NULL;
	NfExit code = nf_cli_parse_args (cli, verb, entries, &argc, &argv, 1, 0);
	Console c = {.fd = -1, .code = NF_EXIT_OK};
	gint saved_errno;

	if (code != NF_EXIT_OK)
		return code;
	if (want_follow && no_follow)
		return nf_cli_usage_error (verb, "--follow and --no-follow exclude each other");
	if (!nf_cli_check_node_name (verb, argv[1], &code))
		return code;
	node = nf_cli_find_node (cli, argv[1], &code);
	if (node == NULL)
		return code;
	if (nf_dbus_node_get_console_log (node) == NULL || nf_dbus_node_get_console_log (node)[0] == '\0')
		return nf_cli_fail_literal (NF_EXIT_FAILED, "node %s has no console log", argv[1]);
	if (!want_follow && !no_follow)
		want_follow = isatty (STDIN_FILENO) && isatty (STDOUT_FILENO);

	node_path = nf_cli_node_path (argv[1]);
	c.node_path = node_path;
	c.log = (gchar *) nf_dbus_node_get_console_log (node);
	if (on_other_host (node))
		return console_remote (cli, &c, node, want_follow);
	c.fd = g_open (c.log, O_RDONLY | O_CLOEXEC, 0);
	saved_errno = errno;
	if (c.fd < 0)
		return nf_cli_fail_literal (saved_errno == EACCES ? NF_EXIT_NOT_AUTHORIZED : NF_EXIT_FAILED,
					    "cannot read the console log of %s (%s): %s%s",
					    argv[1],
					    c.log,
					    g_strerror (saved_errno),
					    saved_errno == EACCES ? "; console logs are for root" : "");
	if (!copy_new (&c)) {
		saved_errno = errno;
		close (c.fd);
		return nf_cli_fail_literal (NF_EXIT_FAILED,
					    "cannot read %s: %s",
					    c.log,
					    g_strerror (saved_errno));
	}
	if (want_follow)
		code = follow (cli, &c, node);
	close (c.fd);
	return code;
}
