/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-cli-stand-in"

#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nf-dbus-generated.h"

/* nestfarmctl against a stand-in for nestfarmd, on a private session bus,
 * for what the real daemon cannot be made to do on this machine: refuse
 * CheckHost because nodes cannot run (the real one then does not even
 * start), fail a job, and vanish while a job runs. Everything else is
 * tested against the real daemon in test-cli.c. */

#define BUS_NAME "org.nestfarm.Farm1"
#define ROOT     "/org/nestfarm/Farm1"
#define JOB_PATH ROOT "/job/1"

static gchar *binary;

typedef struct {
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	GDBusConnection *connection;
	GDBusObjectManagerServer *server;
	NfDBusManager *manager;
	NfDBusJob *job;
	GMutex lock;
	GCond ready_cond;
	gboolean ready;
} StandIn;

static gboolean
fail_job (gpointer user_data)
{
	StandIn *s = user_data;

	nf_dbus_job_set_step (s->job, "made nfcli-fails-1");
	nf_dbus_job_set_progress (s->job, 0.5);
	g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (s->job));
	nf_dbus_job_set_state (s->job, "failed");
	nf_dbus_job_set_error (s->job, "Cannot make node nfcli-fails-2: the stand-in says no.");
	g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (s->job));
	nf_dbus_job_emit_completed (s->job, FALSE, "Cannot make node nfcli-fails-2: the stand-in says no.");
	return G_SOURCE_REMOVE;
}

static gboolean
vanish (gpointer user_data)
{
	StandIn *s = user_data;

	g_dbus_connection_close_sync (s->connection, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean
handle_check_host (NfDBusManager *iface, GDBusMethodInvocation *invocation, StandIn *s)
{
	g_dbus_method_invocation_return_error_literal (invocation,
						       NF_ERROR,
						       NF_ERROR_NESTED_UNAVAILABLE,
						       "Nested KVM is unavailable (check cpu-flag): the CPU offers no vmx. "
						       "Use the emulated accelerator, or fix it: give this machine vmx.");
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_create_pool (NfDBusManager *iface,
		    GDBusMethodInvocation *invocation,
		    const gchar *name,
		    guint count,
		    GVariant *options,
		    StandIn *s)
{
	g_autoptr (NfDBusObjectSkeleton) object = nf_dbus_object_skeleton_new (JOB_PATH);
	g_autoptr (GSource) later = g_timeout_source_new (300);

	s->job = nf_dbus_job_skeleton_new ();
	nf_dbus_job_set_operation (s->job, "create-pool");
	nf_dbus_job_set_state (s->job, "running");
	nf_dbus_job_set_step (s->job, "starting");
	nf_dbus_object_skeleton_set_job (object, s->job);
	g_dbus_object_manager_server_export (s->server, G_DBUS_OBJECT_SKELETON (object));
	g_source_set_callback (later, g_str_equal (name, "nfcli-vanishes") ? vanish : fail_job, s, NULL);
	g_source_attach (later, s->context);
	g_dbus_method_invocation_return_value (invocation, g_variant_new ("(oo)", ROOT "/pool/x", JOB_PATH));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gpointer
stand_in_thread (gpointer user_data)
{
	StandIn *s = user_data;
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);

	g_main_context_push_thread_default (s->context);
	g_assert_no_error (error);
	s->connection =
		g_dbus_connection_new_for_address_sync (address,
							G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							NULL,
							NULL,
							&error);
	g_assert_no_error (error);
	s->server = g_dbus_object_manager_server_new (ROOT);
	s->manager = nf_dbus_manager_skeleton_new ();
	nf_dbus_manager_set_version (s->manager, "stand-in");
	g_signal_connect (s->manager, "handle-check-host", G_CALLBACK (handle_check_host), s);
	g_signal_connect (s->manager, "handle-create-pool", G_CALLBACK (handle_create_pool), s);
	g_assert_true (g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (s->manager),
							 s->connection,
							 ROOT,
							 &error));
	g_dbus_object_manager_server_set_connection (s->server, s->connection);
	reply = g_dbus_connection_call_sync (s->connection,
					     "org.freedesktop.DBus",
					     "/org/freedesktop/DBus",
					     "org.freedesktop.DBus",
					     "RequestName",
					     g_variant_new ("(su)", BUS_NAME, 0x4 /* do not queue */),
					     G_VARIANT_TYPE ("(u)"),
					     G_DBUS_CALL_FLAGS_NONE,
					     5000,
					     NULL,
					     &error);
	g_assert_no_error (error);
	g_mutex_lock (&s->lock);
	s->ready = TRUE;
	g_cond_signal (&s->ready_cond);
	g_mutex_unlock (&s->lock);

	g_main_loop_run (s->loop);

	g_dbus_object_manager_server_set_connection (s->server, NULL);
	g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (s->manager));
	g_clear_object (&s->job);
	g_clear_object (&s->manager);
	g_clear_object (&s->server);
	if (!g_dbus_connection_is_closed (s->connection))
		g_dbus_connection_close_sync (s->connection, NULL, NULL);
	g_clear_object (&s->connection);
	g_main_context_pop_thread_default (s->context);
	return NULL;
}

static StandIn *
stand_in_start (void)
{
	StandIn *s = g_new0 (StandIn, 1);

	g_mutex_init (&s->lock);
	g_cond_init (&s->ready_cond);
	s->context = g_main_context_new ();
	s->loop = g_main_loop_new (s->context, FALSE);
	s->thread = g_thread_new ("stand-in", stand_in_thread, s);
	g_mutex_lock (&s->lock);
	while (!s->ready)
		g_cond_wait (&s->ready_cond, &s->lock);
	g_mutex_unlock (&s->lock);
	return s;
}

static gboolean
quit_loop (gpointer user_data)
{
	g_main_loop_quit (user_data);
	return G_SOURCE_REMOVE;
}

static void
stand_in_stop (StandIn *s)
{
	g_main_context_invoke (s->context, quit_loop, s->loop);
	g_thread_join (s->thread);
	g_main_loop_unref (s->loop);
	g_main_context_unref (s->context);
	g_mutex_clear (&s->lock);
	g_cond_clear (&s->ready_cond);
	g_free (s);
}

static gint
run (gchar **out, gchar **err, const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	g_autoptr (GSubprocess) process = NULL;
	g_autoptr (GError) error = NULL;
	va_list ap;

	g_ptr_array_add (argv, binary);
	g_ptr_array_add (argv, (gpointer) "--session");
	va_start (ap, first);
	for (const gchar *arg = first; arg != NULL; arg = va_arg (ap, const gchar *))
		g_ptr_array_add (argv, (gpointer) arg);
	va_end (ap);
	g_ptr_array_add (argv, NULL);
	process = g_subprocess_newv ((const gchar *const *) argv->pdata,
				     G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				     &error);
	g_assert_no_error (error);
	g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, out, err, &error));
	g_assert_no_error (error);
	g_test_message ("-> %d\n%s%s", g_subprocess_get_exit_status (process), *out, *err);
	g_assert_true (g_subprocess_get_if_exited (process));
	return g_subprocess_get_exit_status (process);
}

static void
test_host_unusable (void)
{
	StandIn *s = stand_in_start ();
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *json_out = NULL;
	g_autofree gchar *json_err = NULL;
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error = NULL;
	JsonObject *report;

	g_assert_cmpint (run (&out, &err, "host", "check", NULL), ==, 1);
	g_assert_nonnull (strstr (err, "Nested KVM is unavailable"));
	g_assert_nonnull (strstr (err, "fix it"));
	g_assert_cmpint (run (&json_out, &json_err, "host", "check", "--json", NULL), ==, 1);
	json_parser_load_from_data (parser, json_out, -1, &error);
	g_assert_no_error (error);
	report = json_node_get_object (json_parser_get_root (parser));
	g_assert_false (json_object_get_boolean_member (report, "usable"));
	g_assert_nonnull (
		strstr (json_object_get_string_member (report, "error"), "Nested KVM is unavailable"));
	g_assert_true (json_object_get_null_member (report, "accelerator"));
	g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "checks")), ==, 0);
	stand_in_stop (s);
}

static void
test_job_fails (void)
{
	StandIn *s = stand_in_start ();
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	g_assert_cmpint (run (&out, &err, "pool", "create", "nfcli-fails", "2", NULL), ==, 1);
	g_assert_nonnull (strstr (err, "job 1 failed"));
	g_assert_nonnull (strstr (err, "the stand-in says no"));
	stand_in_stop (s);
}

static void
test_daemon_vanishes (void)
{
	StandIn *s = stand_in_start ();
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	g_assert_cmpint (run (&out, &err, "pool", "create", "nfcli-vanishes", "2", NULL), ==, 3);
	g_assert_nonnull (strstr (err, "nestfarmd went away while job 1 was running"));
	stand_in_stop (s);
}

int
main (int argc, char **argv)
{
	g_autoptr (GTestDBus) bus = NULL;
	gint status;

	g_test_init (&argc, &argv, NULL);
	(void) nf_error_quark ();
	binary = g_build_filename (g_getenv ("NF_BUILD_ROOT"), "src", "cli", "nestfarmctl", NULL);
	bus = g_test_dbus_new (G_TEST_DBUS_NONE);
	g_test_dbus_up (bus);
	g_test_add_func ("/cli-stand-in/host-unusable", test_host_unusable);
	g_test_add_func ("/cli-stand-in/job-fails", test_job_fails);
	g_test_add_func ("/cli-stand-in/daemon-vanishes", test_daemon_vanishes);
	status = g_test_run ();
	g_test_dbus_down (bus);
	g_free (binary);
	return status;
}
