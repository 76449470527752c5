/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nestfarmd"

#include "config.h"

#include <glib-unix.h>
#include <libxml/parser.h>
#include <locale.h>
#include <malloc.h>
#include <stdlib.h>

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
	guint owner_id;
	gint exit_code;
	gboolean stopping;
} Daemon;

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

static void
bus_acquired (GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	Daemon *d = user_data;
	g_autoptr (GError) error = NULL;

	d->bus = nf_bus_new (d->manager, d->auth);
	if (!nf_bus_export (d->bus, connection, &error)) {
		g_critical ("cannot export the D-Bus objects: %s", error->message);
		daemon_quit (d, 1);
	}
}

static void
name_acquired (GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	g_message ("ready: %s on the %s bus", name, ((Daemon *) user_data)->session ? "session" : "system");
}

static void
name_lost (GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	Daemon *d = user_data;

	if (connection == NULL)
		g_critical ("cannot connect to the %s bus", d->session ? "session" : "system");
	else
		g_critical ("cannot own %s on the %s bus: another nestfarmd runs, or the bus policy forbids it "
			    "(is org.nestfarm.Farm1.conf installed in the D-Bus policy directory?)",
			    name,
			    d->session ? "session" : "system");
	daemon_quit (d, 1);
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
	d->owner_id = g_bus_own_name (d->session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
				      NF_BUS_NAME,
				      G_BUS_NAME_OWNER_FLAGS_NONE,
				      bus_acquired,
				      name_acquired,
				      name_lost,
				      d,
				      NULL);
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

	d.config = nf_config_load (config_path != NULL ? config_path : NF_CONFIG_DEFAULT_PATH,
				   config_path == NULL,
				   &error);
	if (d.config == NULL) {
		g_printerr ("nestfarmd: %s\n", error->message);
		return 1;
	}
	d.auth = nf_auth_new (d.session ? NF_AUTH_SESSION_OWNER : NF_AUTH_POLKIT, &error);
	if (d.auth == NULL) {
		g_printerr ("nestfarmd: %s\n", error->message);
		nf_config_free (d.config);
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

	if (d.owner_id != 0)
		g_bus_unown_name (d.owner_id);
	g_clear_object (&d.bus);
	g_clear_object (&d.manager);
	g_clear_object (&d.engine);
	if (d.connection != NULL)
		nf_connection_close (d.connection);
	g_clear_object (&d.connection);
	g_clear_object (&d.auth);
	g_main_loop_unref (d.loop);
	nf_config_free (d.config);
	return d.exit_code;
}
