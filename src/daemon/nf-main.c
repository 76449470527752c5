/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nestfarmd"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <locale.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "nestfarm/nf-config.h"
#include "nestfarm/nf-engine.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nf-auth.h"
#include "nf-bus.h"
#include "nf-manager.h"

/* nestfarmd: reads its config, connects to libvirt, reconciles, then owns
 * org.nestfarm.Farm1 and serves until SIGTERM or SIGINT. */

#define NF_BUS_NAME "org.nestfarm.Farm1"

typedef struct {
	GMainLoop *loop;
	NfConfig *config;
	NfConnection *connection;
	NfEngine *engine;
	NfManager *manager;
	NfAuth *auth;
	NfBus *bus;
	gboolean session;
	GDBusConnection *bus_connection; /* our own, not GLib's shared one */
	guint owner_id;
	guint reconnect_id;
	guint name_wait_id; /* after a reconnect: the bus still gives the name to the old connection */
	gboolean served;    /* the name was ours once: a lost bus is reconnected */
	gint exit_code;
	gboolean stopping;
} Daemon;

/* While the bus is gone, how often to try it again. */
#define NF_BUS_RETRY_SECONDS 1
/* After a reconnect, how long the name may stay with the connection that
 * was lost (the bus releases it once it sees that one closed) before
 * another owner is assumed. */
#define NF_BUS_NAME_WAIT_SECONDS 30

static void bus_connect (Daemon *d);

/* One nestfarmd per state directory. A second one started by mistake (a
 * unit started twice, a copy run by hand) would otherwise reconcile
 * libvirt under the running one's feet, settling the intents of its
 * running jobs and sweeping its half-made overlays out of staging, before
 * it found the bus name taken. So the lock is taken before libvirt is
 * touched, and held until exit: the kernel drops it however the process
 * ends. Returns the locked file's descriptor, or -1 with @error. */
static gint
instance_lock (const gchar *state_dir, GError **error)
{
	g_autofree gchar *path = g_build_filename (state_dir, "nestfarmd.lock", NULL);
	g_autofree gchar *holder = NULL;
	g_autofree gchar *mine = NULL;
	gint fd;

	if (g_mkdir_with_parents (state_dir, 0755) != 0) {
		gint saved = errno;

		g_set_error (error,
			     G_IO_ERROR,
			     g_io_error_from_errno (saved),
			     "cannot make the state directory %s: %s",
			     state_dir,
			     g_strerror (saved));
		return -1;
	}
	fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		gint saved = errno;

		g_set_error (error,
			     G_IO_ERROR,
			     g_io_error_from_errno (saved),
			     "cannot open %s: %s",
			     path,
			     g_strerror (saved));
		return -1;
	}
	if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
		gint saved = errno;

		close (fd);
		if (saved != EWOULDBLOCK) {
			g_set_error (error,
				     G_IO_ERROR,
				     g_io_error_from_errno (saved),
				     "cannot lock %s: %s",
				     path,
				     g_strerror (saved));
			return -1;
		}
		if (g_file_get_contents (path, &holder, NULL, NULL))
			g_strstrip (holder);
		g_set_error (error,
			     G_IO_ERROR,
			     G_IO_ERROR_BUSY,
			     "another nestfarmd%s%s%s runs with the state directory %s; stop it first",
			     holder != NULL && holder[0] != '\0' ? " (pid " : "",
			     holder != NULL && holder[0] != '\0' ? holder : "",
			     holder != NULL && holder[0] != '\0' ? ")" : "",
			     state_dir);
		return -1;
	}
	/* For the message above; the lock, not this text, is what counts. */
	mine = g_strdup_printf ("%d\n", (gint) getpid ());
	if (ftruncate (fd, 0) != 0 || write (fd, mine, strlen (mine)) < 0)
		g_debug ("cannot write the pid into %s: %s", path, g_strerror (errno));
	return fd;
}

static void
daemon_quit (Daemon *d, gint code)
{
	if (code != 0)
		d->exit_code = code;
	g_main_loop_quit (d->loop);
}

static void
shutdown_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Daemon *d = user_data;
	g_autoptr (GError) error = NULL;

	if (!nf_manager_shutdown_finish (NF_MANAGER (source), res, &error))
		g_warning ("shutdown: %s", error->message);
	g_message ("every job has ended; exiting");
	daemon_quit (d, 0);
}

static void
daemon_stop (Daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = TRUE;
	if (d->manager == NULL) {
		daemon_quit (d, 0);
		return;
	}
	g_message ("stopping: no new work; running jobs finish or roll back");
	nf_manager_shutdown_async (d->manager, shutdown_done, d);
}

static gboolean
on_signal (gpointer user_data)
{
	daemon_stop (user_data);
	return G_SOURCE_CONTINUE;
}

/* Everything that belongs to one bus connection: the exported objects,
 * the name, polkit's handle (it lives on the system bus too). The model
 * and its running jobs stay. */
static void
bus_drop (Daemon *d)
{
	if (d->owner_id != 0)
		g_bus_unown_name (d->owner_id);
	d->owner_id = 0;
	g_clear_handle_id (&d->name_wait_id, g_source_remove);
	g_clear_object (&d->bus);
	if (d->bus_connection != NULL)
		g_signal_handlers_disconnect_by_data (d->bus_connection, d);
	g_clear_object (&d->bus_connection);
	if (d->auth != NULL)
		nf_auth_forget_polkit (d->auth);
}

static gboolean
bus_retry (gpointer user_data)
{
	Daemon *d = user_data;

	d->reconnect_id = 0;
	bus_connect (d);
	return G_SOURCE_REMOVE;
}

/* Before the name was ever ours a failure is fatal (systemd or D-Bus
 * activation starts us again); after, the daemon keeps its jobs and
 * waits for the bus to come back. */
static void
bus_failed (Daemon *d, const gchar *what, const GError *error)
{
	bus_drop (d);
	if (d->stopping)
		return;
	if (!d->served) {
		g_critical ("%s: %s", what, error->message);
		daemon_quit (d, 1);
		return;
	}
	g_debug ("%s: %s; trying again in %u s", what, error->message, NF_BUS_RETRY_SECONDS);
	if (d->reconnect_id == 0)
		d->reconnect_id = g_timeout_add_seconds (NF_BUS_RETRY_SECONDS, bus_retry, d);
}

static void
bus_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error, gpointer user_data)
{
	Daemon *d = user_data;

	g_warning ("lost the %s bus (%s); jobs go on, reconnecting",
		   d->session ? "session" : "system",
		   error != NULL ? error->message : "closed");
	bus_drop (d);
	if (!d->stopping && d->reconnect_id == 0)
		d->reconnect_id = g_timeout_add_seconds (NF_BUS_RETRY_SECONDS, bus_retry, d);
}

static void
name_acquired (GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	Daemon *d = user_data;

	g_clear_handle_id (&d->name_wait_id, g_source_remove);
	g_message ("%s: %s on the %s bus",
		   d->served ? "back" : "ready",
		   name,
		   d->session ? "session" : "system");
	d->served = TRUE;
}

static void
name_refused (Daemon *d, const gchar *name)
{
	g_critical ("cannot own %s on the %s bus: another nestfarmd runs, or the bus policy forbids it "
		    "(is org.nestfarm.Farm1.conf installed in the D-Bus policy directory?)",
		    name,
		    d->session ? "session" : "system");
	daemon_quit (d, 1);
}

static void
name_wait_over (gpointer user_data)
{
	Daemon *d = user_data;

	d->name_wait_id = 0;
	name_refused (d, NF_BUS_NAME);
}

static void
name_lost (GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	Daemon *d = user_data;

	/* A closed connection is bus_closed's to handle. */
	if (connection == NULL || g_dbus_connection_is_closed (connection))
		return;
	/* Back after a lost connection, the request may reach the bus before
	 * it has seen the old connection close: the request waits in the
	 * name's queue, and the name comes (name_acquired) once the bus lets
	 * the old one go. */
	if (d->served) {
		g_message ("%s is still the lost connection's; waiting up to %u s for the bus to let it go",
			   name,
			   NF_BUS_NAME_WAIT_SECONDS);
		if (d->name_wait_id == 0)
			d->name_wait_id =
				g_timeout_add_once (NF_BUS_NAME_WAIT_SECONDS * 1000, name_wait_over, d);
		return;
	}
	name_refused (d, name);
}

static void
polkit_reached (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Daemon *d = user_data;
	g_autoptr (GError) error = NULL;

	if (!nf_auth_reach_polkit_finish (NF_AUTH (source), res, &error)) {
		bus_failed (d, "cannot authorize callers", error);
		return;
	}
	if (d->stopping || d->bus_connection == NULL)
		return;
	d->bus = nf_bus_new (d->manager, d->auth);
	if (!nf_bus_export (d->bus, d->bus_connection, &error)) {
		g_critical ("cannot export the D-Bus objects: %s", error->message);
		daemon_quit (d, 1);
		return;
	}
	d->owner_id = g_bus_own_name_on_connection (d->bus_connection,
						    NF_BUS_NAME,
						    G_BUS_NAME_OWNER_FLAGS_NONE,
						    name_acquired,
						    name_lost,
						    d,
						    NULL);
}

static void
bus_connected (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Daemon *d = user_data;
	g_autoptr (GError) error = NULL;
	GDBusConnection *connection = g_dbus_connection_new_for_address_finish (res, &error);

	if (connection == NULL) {
		g_autofree gchar *what =
			g_strdup_printf ("cannot connect to the %s bus", d->session ? "session" : "system");

		bus_failed (d, what, error);
		return;
	}
	if (d->stopping) {
		g_object_unref (connection);
		return;
	}
	d->bus_connection = connection;
	/* Never exit with the bus: reconnect instead, keeping the jobs. */
	g_dbus_connection_set_exit_on_close (connection, FALSE);
	g_signal_connect (connection, "closed", G_CALLBACK (bus_closed), d);
	nf_auth_reach_polkit_async (d->auth, polkit_reached, d);
}

static void
bus_connect (Daemon *d)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *address =
		g_dbus_address_get_for_bus_sync (d->session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
						 NULL,
						 &error);

	if (address == NULL) {
		g_autofree gchar *what =
			g_strdup_printf ("cannot find the %s bus", d->session ? "session" : "system");

		bus_failed (d, what, error);
		return;
	}
	g_dbus_connection_new_for_address (address,
					   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
						   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
					   NULL,
					   NULL,
					   bus_connected,
					   d);
}

static void
manager_started (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Daemon *d = user_data;
	g_autoptr (GError) error = NULL;

	if (!nf_manager_start_finish (NF_MANAGER (source), res, &error)) {
		g_critical ("cannot start: %s", error->message);
		daemon_quit (d, 1);
		return;
	}
	if (d->stopping)
		return;
	/* The name is taken only once the model matches libvirt, so no
	 * client ever sees a half-read state. */
	bus_connect (d);
}

/* The configuration, the instance lock and the authority, in that order;
 * returns the lock's descriptor, or -1 with @error and nothing held. */
static gint
daemon_prepare (Daemon *d, const gchar *config_path, GError **error)
{
	gint lock_fd;

	d->config = nf_config_load (config_path != NULL ? config_path : NF_CONFIG_DEFAULT_PATH,
				    config_path == NULL,
				    error);
	if (d->config == NULL)
		return -1;
	lock_fd = instance_lock (d->config->state_dir, error);
	if (lock_fd >= 0)
		d->auth = nf_auth_new (d->session ? NF_AUTH_SESSION_OWNER : NF_AUTH_POLKIT, error);
	if (lock_fd < 0 || d->auth == NULL) {
		if (lock_fd >= 0)
			close (lock_fd);
		g_clear_pointer (&d->config, nf_config_free);
		return -1;
	}
	return lock_fd;
}

int
main (int argc, char **argv)
{
	Daemon d = {0};
	g_autofree gchar *config_path = NULL;
	gboolean verbose = FALSE;
	gboolean version = FALSE;
	g_autoptr (GOptionContext) context = NULL;
	g_autoptr (GError) error = NULL;
	gint lock_fd;
	const GOptionEntry entries[] = {
		{"session", 0, 0, G_OPTION_ARG_NONE, &d.session, "Own the name on the session bus", NULL},
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE"},
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL},
		{"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
		{NULL},
	};

	/* One malloc arena: the worker threads mostly wait on libvirt, and
	 * glibc's arena per thread (up to eight per CPU) would only keep their
	 * freed memory (about 1 MiB with 200 nodes known). */
	mallopt (M_ARENA_MAX, 1);
	setlocale (LC_ALL, "");
	context = g_option_context_new ("- nested-virtualization lab daemon");
	g_option_context_add_main_entries (context, entries, NULL);
	if (!g_option_context_parse (context, &argc, &argv, &error)) {
		g_printerr ("nestfarmd: %s\n", error->message);
		return 2;
	}
	if (version) {
		g_print ("nestfarmd %s\n", NF_VERSION);
		return 0;
	}
	if (verbose)
		g_log_set_debug_enabled (TRUE);
	/* Make sure the error domain is registered before the first call. */
	(void) NF_ERROR;
	/* libxml2 2.9 wants its global state set up before worker threads parse. */
	xmlInitParser ();
	nf_libvirt_init ();

	lock_fd = daemon_prepare (&d, config_path, &error);
	if (lock_fd < 0) {
		g_printerr ("nestfarmd: %s\n", error->message);
		return 1;
	}
	d.loop = g_main_loop_new (NULL, FALSE);
	d.connection = nf_connection_new (d.config->libvirt_uri);
	if (!nf_connection_open (d.connection, &error)) {
		g_printerr ("nestfarmd: cannot connect to libvirt at %s: %s\n",
			    d.config->libvirt_uri,
			    error->message);
		d.exit_code = 1;
	} else {
		d.engine = nf_engine_new (d.connection, d.config->engine);
		d.manager = nf_manager_new (d.config, d.engine);
		g_unix_signal_add (SIGTERM, on_signal, &d);
		g_unix_signal_add (SIGINT, on_signal, &d);
		nf_manager_start_async (d.manager, NULL, manager_started, &d);
		g_main_loop_run (d.loop);
	}

	if (d.reconnect_id != 0)
		g_source_remove (d.reconnect_id);
	bus_drop (&d);
	g_clear_object (&d.manager);
	g_clear_object (&d.engine);
	if (d.connection != NULL)
		nf_connection_close (d.connection);
	g_clear_object (&d.connection);
	g_clear_object (&d.auth);
	g_main_loop_unref (d.loop);
	nf_config_free (d.config);
	close (lock_fd);
	return d.exit_code;
}
