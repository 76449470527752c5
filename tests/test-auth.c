/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-auth"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <polkit/polkit.h>

#include "nestfarm/nf-error.h"
#include "nf-auth.h"
#include "nf-test-util.h"

/* NfAuth against this machine's real system bus and polkitd. The test owns
 * a bus name of its own, exports the Manager's methods there with handlers
 * that only authorize, and calls them as root (in process) and as the
 * unprivileged user nftest (gdbus under setpriv); it also closes the
 * service's connection during checks and makes it again, as nestfarmd
 * does. Must run as root: it installs a bus policy, and the polkit action
 * when it is missing. */

#define TEST_BUS_NAME      "org.nestfarm.AuthTest"
#define TEST_PATH          "/org/nestfarm/AuthTest"
#define TEST_USER          "nftest"
#define MANAGER            "org.nestfarm.Farm1.Manager"
#define NOT_AUTHORIZED     "org.nestfarm.Farm1.Error.NotAuthorized"
#define BUS_POLICY_FILE    "/etc/dbus-1/system.d/org.nestfarm.AuthTest.conf"
#define POLKIT_POLICY_NAME "org.nestfarm.farm1.policy"
#define POLKIT_ACTION_FILE "/usr/share/polkit-1/actions/" POLKIT_POLICY_NAME
#define POLKIT_RULES_FILE  "/etc/polkit-1/rules.d/10-nestfarm-test-auth.rules"
/* How long the test's polkit rule keeps polkitd busy on the slow path. */
#define SLOW_SECONDS 2

static const gchar test_api[] = "<node>"
				"  <interface name='" MANAGER "'>"
				"    <method name='CreatePool'>"
				"      <arg name='result' type='s' direction='out'/>"
				"      <arg name='uid' type='u' direction='out'/>"
				"    </method>"
				"    <method name='CheckHost'>"
				"      <arg name='result' type='s' direction='out'/>"
				"      <arg name='uid' type='u' direction='out'/>"
				"    </method>"
				"    <method name='Explode'>"
				"      <arg name='result' type='s' direction='out'/>"
				"      <arg name='uid' type='u' direction='out'/>"
				"    </method>"
				"  </interface>"
				"</node>";

static const gchar bus_policy[] =
	"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	"<!-- Written by nestfarm's tests/test-auth; removed when it ends. -->\n"
	"<busconfig>\n"
	"  <policy user=\"root\"><allow own=\"" TEST_BUS_NAME "\"/></policy>\n"
	"  <policy context=\"default\"><allow send_destination=\"" TEST_BUS_NAME "\"/></policy>\n"
	"</busconfig>\n";

/* Only the test's own object paths: the real daemon never exports these. */
static const gchar polkit_rules[] = "// Written by nestfarm's tests/test-auth; removed when it ends.\n"
				    "polkit.addRule(function(action, subject) {\n"
				    "    if (action.id != \"" NF_AUTH_ACTION_MANAGE "\")\n"
				    "        return polkit.Result.NOT_HANDLED;\n"
				    "    if (action.lookup(\"path\") == \"" TEST_PATH "/probe\")\n"
				    "        return polkit.Result.YES;\n"
				    "    if (action.lookup(\"path\") == \"" TEST_PATH "/slow\") {\n"
				    "        polkit.spawn([\"/bin/sleep\", \"" G_STRINGIFY (
					    SLOW_SECONDS) "\"]);\n"
							  "        return polkit.Result.YES;\n"
							  "    }\n"
							  "    return polkit.Result.NOT_HANDLED;\n"
							  "});\n";

typedef struct {
	const gchar *path;
	NfAuth *auth; /* NULL: the handler holds the call for the test */
	guint registration_id;
} TestObject;

static struct {
	GDBusConnection *service; /* owns TEST_BUS_NAME */
	GDBusConnection *client;  /* root's calls */
	GDBusNodeInfo *api;
	NfAuth *polkit_auth;
	NfAuth *session_auth;
	TestObject objects[5];
	gboolean installed_action;
	guint user_uid;
	/* What the service side saw last. */
	guint calls;
	gint64 last_call_at;
	gboolean last_done;
	GError *last_error;
	GDBusMethodInvocation *held;
	gboolean late_cancel_seen;
	/* GDBus's worker thread sets these (on_service_message). */
	gint uid_call_serial;
	gint uid_reply_seen;
} test;

static gboolean
on_timeout (gpointer user_data)
{
	g_error ("%s did not happen within 30 s", (const gchar *) user_data);
	return G_SOURCE_REMOVE;
}

static void
wait_for (const gboolean *done, const gchar *what)
{
	guint timeout_id = g_timeout_add_seconds (30, on_timeout, (gpointer) what);

	while (!*done)
		g_main_context_iteration (NULL, TRUE);
	g_source_remove (timeout_id);
}

static gboolean
on_pause_over (gpointer user_data)
{
	*(gboolean *) user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Lets the main context run (the service answers meanwhile). */
static void
pause_ms (guint ms)
{
	gboolean over = FALSE;

	g_timeout_add (ms, on_pause_over, &over);
	wait_for (&over, "a pause");
}

static void
on_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
	GDBusMethodInvocation *invocation = G_DBUS_METHOD_INVOCATION (user_data);
	g_autoptr (GError) error = NULL;
	guint uid = 0;

	g_clear_error (&test.last_error);
	test.last_done = TRUE;
	if (!nf_auth_check_finish (NF_AUTH (source), result, &uid, &error)) {
		test.last_error = g_error_copy (error);
		g_dbus_method_invocation_return_gerror (invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value (invocation, g_variant_new ("(su)", "authorized", uid));
}

static void
on_method_call (GDBusConnection *connection,
		const gchar *sender,
		const gchar *object_path,
		const gchar *interface_name,
		const gchar *method_name,
		GVariant *parameters,
		GDBusMethodInvocation *invocation,
		gpointer user_data)
{
	TestObject *object = user_data;

	test.calls++;
	test.last_call_at = g_get_monotonic_time ();
	test.last_done = FALSE;
	if (object->auth == NULL) {
		g_clear_object (&test.held);
		test.held = invocation;
		return;
	}
	nf_auth_check_async (object->auth, invocation, NULL, on_checked, invocation);
}

static const GDBusInterfaceVTable test_vtable = {on_method_call, NULL, NULL, {NULL}};

typedef struct {
	GVariant *reply;
	GError *error;
	gboolean done;
} RootCall;

static void
on_root_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
	RootCall *call = user_data;

	call->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);
	call->done = TRUE;
}

/* The handler's result ("authorized"), or NULL and @error. */
static gchar *
call_as_root (const gchar *path, const gchar *method, guint *uid, GError **error)
{
	RootCall call = {NULL, NULL, FALSE};
	gchar *result = NULL;

	g_dbus_connection_call (test.client,
				TEST_BUS_NAME,
				path,
				MANAGER,
				method,
				NULL,
				G_VARIANT_TYPE ("(su)"),
				G_DBUS_CALL_FLAGS_NONE,
				-1,
				NULL,
				on_root_reply,
				&call);
	wait_for (&call.done, method);
	if (call.reply == NULL) {
		g_propagate_error (error, call.error);
		return NULL;
	}
	g_variant_get (call.reply, "(su)", &result, uid);
	g_variant_unref (call.reply);
	return result;
}

typedef struct {
	gchar *out;
	gchar *err;
	gboolean done;
} UserCall;

static void
on_user_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
	UserCall *call = user_data;
	g_autoptr (GError) error = NULL;

	g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &call->out, &call->err, &error);
	g_assert_no_error (error);
	call->done = TRUE;
}

static GSubprocess *
spawn_as_user (const gchar *path, const gchar *method)
{
	g_autofree gchar *full_method = g_strdup_printf ("%s.%s", MANAGER, method);
	g_autoptr (GError) error = NULL;
	GSubprocess *process;

	process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				    &error,
				    "setpriv",
				    "--reuid=" TEST_USER,
				    "--regid=" TEST_USER,
				    "--clear-groups",
				    "gdbus",
				    "call",
				    "--system",
				    "--dest",
				    TEST_BUS_NAME,
				    "--object-path",
				    path,
				    "--method",
				    full_method,
				    NULL);
	g_assert_no_error (error);
	return process;
}

/* gdbus prints "('authorized', uint32 999)" or "Error: GDBus.Error:NAME: message". */
static gboolean
call_as_user (const gchar *path, const gchar *method, gchar **out, gchar **err)
{
	g_autoptr (GSubprocess) process = spawn_as_user (path, method);
	UserCall call = {NULL, NULL, FALSE};

	g_subprocess_communicate_utf8_async (process, NULL, NULL, on_user_call_done, &call);
	wait_for (&call.done, method);
	g_test_message ("as %s: %s %s -> %s%s", TEST_USER, path, method, call.out, call.err);
	*out = call.out;
	*err = call.err;
	return g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 0;
}

static void
test_polkit_root (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *result = NULL;
	guint uid = 4242;

	/* polkitd authorizes uid 0 for any registered action, session or not. */
	result = call_as_root (TEST_PATH, "CreatePool", &uid, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (result, ==, "authorized");
	g_assert_cmpuint (uid, ==, 0);
	g_clear_pointer (&result, g_free);

	result = call_as_root (TEST_PATH, "CheckHost", &uid, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (result, ==, "authorized");
	g_assert_cmpuint (uid, ==, NF_AUTH_UID_UNKNOWN);
}

static void
test_polkit_user (void)
{
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	/* No login session here: polkit's allow_any (no) applies. */
	g_assert_false (call_as_user (TEST_PATH, "CreatePool", &out, &err));
	g_assert_nonnull (strstr (err, NOT_AUTHORIZED));
	g_assert_nonnull (strstr (err, "polkit action " NF_AUTH_ACTION_MANAGE));
	g_assert_error (test.last_error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);

	g_assert_true (call_as_user (TEST_PATH, "CheckHost", &out, &err));
	g_assert_nonnull (strstr (out, "'authorized'"));
}

static void
test_unknown_method (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *result = NULL;
	guint uid = 0;

	g_test_expect_message ("nf-auth",
			       G_LOG_LEVEL_WARNING,
			       "*Explode is missing from the authorization table*");
	result = call_as_root (TEST_PATH, "Explode", &uid, &error);
	g_test_assert_expected_messages ();
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_assert_null (result);
	g_clear_error (&error);

	/* Not even the session owner gets past the table. */
	g_test_expect_message ("nf-auth",
			       G_LOG_LEVEL_WARNING,
			       "*Explode is missing from the authorization table*");
	result = call_as_root (TEST_PATH "/session", "Explode", &uid, &error);
	g_test_assert_expected_messages ();
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_assert_null (result);
}

static void
test_session_owner (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *result = NULL;
	guint uid = 4242;

	result = call_as_root (TEST_PATH "/session", "CreatePool", &uid, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (result, ==, "authorized");
	g_assert_cmpuint (uid, ==, getuid ());
}

static void
test_session_other_user (void)
{
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	g_assert_false (call_as_user (TEST_PATH "/session", "CreatePool", &out, &err));
	g_assert_nonnull (strstr (err, NOT_AUTHORIZED));
	g_assert_nonnull (strstr (err, "--session"));
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);

	g_assert_true (call_as_user (TEST_PATH "/session", "CheckHost", &out, &err));
	g_assert_nonnull (strstr (out, "'authorized'"));
}

static void
on_check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
	GError **error = user_data;
	guint uid = 0;

	if (nf_auth_check_finish (NF_AUTH (source), result, &uid, error))
		g_error ("the check succeeded for uid %u", uid);
}

static GError *
check_held (NfAuth *auth, GCancellable *cancellable)
{
	GError *error = NULL;

	nf_auth_check_async (auth, test.held, cancellable, on_check_done, &error);
	while (error == NULL)
		g_main_context_iteration (NULL, TRUE);
	return error;
}

static void
on_name_vanished (GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	*(gboolean *) user_data = TRUE;
}

static GDBusConnection *
new_system_connection (void)
{
	g_autofree gchar *address = NULL;
	g_autoptr (GError) error = NULL;
	GDBusConnection *connection;

	address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
	g_assert_no_error (error);
	connection =
		g_dbus_connection_new_for_address_sync (address,
							G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							NULL,
							NULL,
							&error);
	g_assert_no_error (error);
	return connection;
}

/* Holds a call from a connection of its own; returns that connection. */
static GDBusConnection *
hold_call_from_new_connection (void)
{
	GDBusConnection *connection = new_system_connection ();
	guint calls = test.calls;

	g_dbus_connection_call (connection,
				TEST_BUS_NAME,
				TEST_PATH "/hold",
				MANAGER,
				"CreatePool",
				NULL,
				NULL,
				G_DBUS_CALL_FLAGS_NO_AUTO_START,
				-1,
				NULL,
				NULL,
				NULL);
	while (test.calls == calls)
		g_main_context_iteration (NULL, TRUE);
	g_assert_nonnull (test.held);
	return connection;
}

static void
test_caller_gone (void)
{
	g_autoptr (GDBusConnection) leaver = hold_call_from_new_connection ();
	g_autoptr (GError) error = NULL;
	gboolean vanished = FALSE;
	guint watch_id;

	watch_id = g_bus_watch_name_on_connection (test.service,
						   g_dbus_method_invocation_get_sender (test.held),
						   G_BUS_NAME_WATCHER_FLAGS_NONE,
						   NULL,
						   on_name_vanished,
						   &vanished,
						   NULL);
	g_dbus_connection_close_sync (leaver, NULL, &error);
	g_assert_no_error (error);
	wait_for (&vanished, "the caller leaving");
	g_bus_unwatch_name (watch_id);

	error = check_held (test.polkit_auth, NULL);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_assert_nonnull (strstr (error->message, "left the bus"));
	g_clear_error (&error);

	error = check_held (test.session_auth, NULL);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_assert_nonnull (strstr (error->message, "left the bus"));

	g_dbus_method_invocation_return_dbus_error (g_steal_pointer (&test.held), NOT_AUTHORIZED, "gone");
}

static void
test_cancelled (void)
{
	g_autoptr (GDBusConnection) caller = hold_call_from_new_connection ();
	g_autoptr (GCancellable) cancellable = g_cancellable_new ();
	g_autoptr (GError) error = NULL;

	g_cancellable_cancel (cancellable);
	error = check_held (test.polkit_auth, cancellable);
	g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_clear_error (&error);
	error = check_held (test.session_auth, cancellable);
	g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

	g_dbus_method_invocation_return_dbus_error (g_steal_pointer (&test.held),
						    NOT_AUTHORIZED,
						    "cancelled");
	g_dbus_connection_close_sync (caller, NULL, NULL);
}

/* libpolkit warns when polkitd answered before a cancelled check's cancel
 * reached it (here: polkitd sleeps in the test's rule). Harmless. */
static gboolean
is_late_cancel (const gchar *log_domain, const gchar *message)
{
	return log_domain == NULL && g_str_has_prefix (message, "Error cancelling authorization check");
}

static gboolean
is_fatal (const gchar *log_domain, GLogLevelFlags log_level, const gchar *message, gpointer user_data)
{
	return !is_late_cancel (log_domain, message);
}

static void
on_log (const gchar *log_domain, GLogLevelFlags log_level, const gchar *message, gpointer user_data)
{
	if (is_late_cancel (log_domain, message)) {
		g_test_message ("libpolkit: %s", message);
		test.late_cancel_seen = TRUE;
		return;
	}
	g_log_default_handler (log_domain, log_level, message, user_data);
}

/* The test's rule, once polkitd has it (it reloads its rules on its own;
 * the probe path says when); returns the probe's answer. */
static gchar *
install_polkit_rules (void)
{
	g_autoptr (GError) error = NULL;
	gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
	gchar *out = NULL;
	g_autofree gchar *err = NULL;

	g_file_set_contents_full (POLKIT_RULES_FILE,
				  polkit_rules,
				  -1,
				  G_FILE_SET_CONTENTS_CONSISTENT,
				  0644,
				  &error);
	g_assert_no_error (error);
	while (!call_as_user (TEST_PATH "/probe", "CreatePool", &out, &err)) {
		if (g_get_monotonic_time () > deadline)
			g_error ("polkitd did not load %s: %s", POLKIT_RULES_FILE, err);
		g_clear_pointer (&out, g_free);
		g_clear_pointer (&err, g_free);
		pause_ms (200);
	}
	return out;
}

/* Let polkitd finish the rule's sleep for the call made at @called (and
 * libpolkit warn of the late cancel) before going on. */
static void
wait_polkit_done (gint64 called)
{
	gint64 deadline = called + (SLOW_SECONDS + 5) * G_USEC_PER_SEC;

	while (!test.late_cancel_seen && g_get_monotonic_time () < deadline)
		pause_ms (100);
}

/* A caller that leaves while polkit still decides gets nothing: the test's
 * rule keeps polkitd busy for SLOW_SECONDS, then would say yes. */
static void
test_caller_left_during_check (void)
{
	g_autoptr (GSubprocess) process = NULL;
	g_autofree gchar *out = NULL;
	gint64 elapsed;
	guint calls;

	g_test_log_set_fatal_handler (is_fatal, NULL);
	out = install_polkit_rules ();
	/* The uid a job records is the caller's, from the bus. */
	g_assert_nonnull (strstr (out, "'authorized'"));
	g_assert_nonnull (strstr (out, "uint32"));
	{
		g_autofree gchar *uid_text = g_strdup_printf ("uint32 %u)", test.user_uid);
		g_assert_nonnull (strstr (out, uid_text));
	}

	calls = test.calls;
	process = spawn_as_user (TEST_PATH "/slow", "CreatePool");
	while (test.calls == calls)
		g_main_context_iteration (NULL, TRUE);
	pause_ms (300);
	g_assert_false (test.last_done);
	g_subprocess_force_exit (process);
	wait_for (&test.last_done, "the check's end");
	elapsed = g_get_monotonic_time () - test.last_call_at;
	g_test_message ("the check ended %" G_GINT64_FORMAT " ms after the call", elapsed / 1000);

	g_assert_error (test.last_error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_assert_nonnull (strstr (test.last_error->message, "left the bus"));
	/* Ended by the caller leaving, not by polkit's late answer. */
	g_assert_cmpint (elapsed, <, SLOW_SECONDS * G_USEC_PER_SEC);

	g_subprocess_wait (process, NULL, NULL);
	g_unlink (POLKIT_RULES_FILE);
	wait_polkit_done (test.last_call_at);
}

/* In GDBus's worker thread: has the bus answered a check's
 * GetConnectionUnixUser (the answer then waits for the main context)? */
static GDBusMessage *
on_service_message (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
	if (!incoming && g_strcmp0 (g_dbus_message_get_member (message), "GetConnectionUnixUser") == 0)
		g_atomic_int_set (&test.uid_call_serial, (gint) g_dbus_message_get_serial (message));
	else if (incoming && g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_METHOD_RETURN &&
		 g_dbus_message_get_reply_serial (message) ==
			 (guint32) g_atomic_int_get (&test.uid_call_serial))
		g_atomic_int_set (&test.uid_reply_seen, TRUE);
	return message;
}

static void
on_name_appeared (GDBusConnection *connection, const gchar *name, const gchar *owner, gpointer user_data)
{
	*(gboolean *) user_data = TRUE;
}

/* Until @flag is set (without one: until @closing is closed), without
 * running the main context: GDBus's worker thread does it. */
static void
wait_in_worker (gint *flag, GDBusConnection *closing, const gchar *what)
{
	gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

	while (flag != NULL ? !g_atomic_int_get (flag) : !g_dbus_connection_is_closed (closing)) {
		if (g_get_monotonic_time () > deadline)
			g_error ("%s did not happen within 30 s", what);
		g_usleep (1000);
	}
}

static void reconnect_service (const gchar *lost_name);

/* nestfarmd's bus connection may end at any moment (GLib drops it on a
 * message it cannot decode: tests/test-dbus-fuzz.c). Here the service's
 * ends just as a check sets out to watch its caller: the bus has answered
 * GetConnectionUnixUser and the connection is closed before that answer
 * is handled. The caller is watched on that connection already (in the
 * daemon: its other calls' checks). The check refuses, and no GLib
 * critical comes (GLib's name watcher finished its GetNameOwner call on
 * the connection it had already dropped). */
static void
test_bus_lost_during_check (void)
{
	g_autoptr (GDBusConnection) caller = new_system_connection ();
	g_autofree gchar *service_name = g_strdup (g_dbus_connection_get_unique_name (test.service));
	RootCall call = {NULL, NULL, FALSE};
	gboolean appeared = FALSE;
	guint calls = test.calls;
	guint watch_id;

	g_test_log_set_fatal_handler (is_fatal, NULL);
	watch_id = g_bus_watch_name_on_connection (test.service,
						   g_dbus_connection_get_unique_name (caller),
						   G_BUS_NAME_WATCHER_FLAGS_NONE,
						   on_name_appeared,
						   NULL,
						   &appeared,
						   NULL);
	wait_for (&appeared, "the caller's name");
	g_atomic_int_set (&test.uid_reply_seen, FALSE);
	g_dbus_connection_add_filter (test.service, on_service_message, NULL, NULL);
	g_dbus_connection_call (caller,
				TEST_BUS_NAME,
				TEST_PATH,
				MANAGER,
				"CreatePool",
				NULL,
				G_VARIANT_TYPE ("(su)"),
				G_DBUS_CALL_FLAGS_NONE,
				-1,
				NULL,
				on_root_reply,
				&call);
	while (test.calls == calls)
		g_main_context_iteration (NULL, TRUE);
	wait_in_worker (&test.uid_reply_seen, NULL, "the bus's answer on the caller's uid");
	g_dbus_connection_close (test.service, NULL, NULL, NULL);
	wait_in_worker (NULL, test.service, "the close");

	wait_for (&test.last_done, "the check's end");
	g_assert_error (test.last_error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_test_message ("refused: %s", test.last_error->message);
	/* The bus answers for a service that left without a reply. */
	wait_for (&call.done, "the caller's answer");
	g_assert_null (call.reply);
	g_assert_true (g_dbus_error_is_remote_error (call.error));
	g_clear_error (&call.error);

	g_bus_unwatch_name (watch_id);
	reconnect_service (service_name);
}

/* ...and while polkit decides (the test's rule keeps polkitd busy, then
 * says yes): the check ends at once, refused, and the caller gets the
 * bus's answer for a service that left. */
static void
test_bus_lost_while_polkit_decides (void)
{
	g_autofree gchar *service_name = g_strdup (g_dbus_connection_get_unique_name (test.service));
	g_autoptr (GSubprocess) process = NULL;
	g_autofree gchar *out = NULL;
	gint64 elapsed;
	guint calls;

	g_test_log_set_fatal_handler (is_fatal, NULL);
	out = install_polkit_rules ();
	test.late_cancel_seen = FALSE;
	calls = test.calls;
	process = spawn_as_user (TEST_PATH "/slow", "CreatePool");
	while (test.calls == calls)
		g_main_context_iteration (NULL, TRUE);
	pause_ms (300);
	g_assert_false (test.last_done);
	g_dbus_connection_close_sync (test.service, NULL, NULL);
	wait_for (&test.last_done, "the check's end");
	elapsed = g_get_monotonic_time () - test.last_call_at;
	g_test_message ("the check ended %" G_GINT64_FORMAT " ms after the call", elapsed / 1000);

	g_assert_error (test.last_error, NF_ERROR, NF_ERROR_NOT_AUTHORIZED);
	g_assert_nonnull (strstr (test.last_error->message, "lost its bus connection"));
	g_assert_cmpint (elapsed, <, SLOW_SECONDS * G_USEC_PER_SEC);
	g_assert_true (g_subprocess_wait (process, NULL, NULL));
	g_assert_false (g_subprocess_get_successful (process));

	g_unlink (POLKIT_RULES_FILE);
	wait_polkit_done (test.last_call_at);
	reconnect_service (service_name);
}

static void
reload_bus_config (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GError) error = NULL;

	reply = g_dbus_connection_call_sync (test.client,
					     "org.freedesktop.DBus",
					     "/org/freedesktop/DBus",
					     "org.freedesktop.DBus",
					     "ReloadConfig",
					     NULL,
					     NULL,
					     G_DBUS_CALL_FLAGS_NONE,
					     -1,
					     NULL,
					     &error);
	g_assert_no_error (error);
}

static void
ensure_user (void)
{
	test.user_uid = nf_test_ensure_user (TEST_USER);
	g_assert_cmpuint (test.user_uid, !=, 0);
}

/* Without its action file polkitd refuses even root ("not registered"). */
static void
ensure_polkit_action (void)
{
	g_autoptr (PolkitAuthority) authority = NULL;
	g_autoptr (PolkitSubject) self = polkit_unix_process_new_for_owner (getpid (), 0, getuid ());
	g_autoptr (GError) error = NULL;
	gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;

	if (!g_file_test (POLKIT_ACTION_FILE, G_FILE_TEST_EXISTS)) {
		g_autofree gchar *source =
			g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "systemd", POLKIT_POLICY_NAME, NULL);
		g_autofree gchar *policy = NULL;

		g_file_get_contents (source, &policy, NULL, &error);
		g_assert_no_error (error);
		g_file_set_contents_full (POLKIT_ACTION_FILE,
					  policy,
					  -1,
					  G_FILE_SET_CONTENTS_CONSISTENT,
					  0644,
					  &error);
		g_assert_no_error (error);
		test.installed_action = TRUE;
	}
	authority = polkit_authority_get_sync (NULL, &error);
	g_assert_no_error (error);
	for (;;) {
		g_autoptr (PolkitAuthorizationResult) result = NULL;

		result = polkit_authority_check_authorization_sync (authority,
								    self,
								    NF_AUTH_ACTION_MANAGE,
								    NULL,
								    POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
								    NULL,
								    &error);
		if (result != NULL) {
			g_assert_true (polkit_authorization_result_get_is_authorized (result));
			return;
		}
		if (g_get_monotonic_time () > deadline)
			g_error ("polkitd does not know %s: %s", NF_AUTH_ACTION_MANAGE, error->message);
		g_clear_error (&error);
		g_usleep (G_USEC_PER_SEC / 10);
	}
}

static void
export_object (guint i, const gchar *path, NfAuth *auth)
{
	g_autoptr (GError) error = NULL;

	test.objects[i].path = path;
	test.objects[i].auth = auth;
	test.objects[i].registration_id = g_dbus_connection_register_object (test.service,
									     path,
									     test.api->interfaces[0],
									     &test_vtable,
									     &test.objects[i],
									     NULL,
									     &error);
	g_assert_no_error (error);
}

/* The service's connection: its objects, then TEST_BUS_NAME. */
static void
connect_service (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = NULL;
	guint32 owned = 0;

	test.service = new_system_connection ();
	export_object (0, TEST_PATH, test.polkit_auth);
	export_object (1, TEST_PATH "/session", test.session_auth);
	export_object (2, TEST_PATH "/probe", test.polkit_auth);
	export_object (3, TEST_PATH "/slow", test.polkit_auth);
	export_object (4, TEST_PATH "/hold", NULL);
	reply = g_dbus_connection_call_sync (test.service,
					     "org.freedesktop.DBus",
					     "/org/freedesktop/DBus",
					     "org.freedesktop.DBus",
					     "RequestName",
					     g_variant_new ("(su)", TEST_BUS_NAME, 0x4 /* DO_NOT_QUEUE */),
					     G_VARIANT_TYPE ("(u)"),
					     G_DBUS_CALL_FLAGS_NONE,
					     -1,
					     NULL,
					     &error);
	g_assert_no_error (error);
	g_variant_get (reply, "(u)", &owned);
	g_assert_cmpuint (owned, ==, 1 /* PRIMARY_OWNER */);
}

/* After a lost connection (@lost_name its unique name), a new one, once
 * the bus has let TEST_BUS_NAME go. */
static void
reconnect_service (const gchar *lost_name)
{
	gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

	for (guint i = 0; i < G_N_ELEMENTS (test.objects); i++)
		g_dbus_connection_unregister_object (test.service, test.objects[i].registration_id);
	g_clear_object (&test.service);
	for (;;) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GVariant) reply = NULL;
		gboolean has_owner = TRUE;

		reply = g_dbus_connection_call_sync (test.client,
						     "org.freedesktop.DBus",
						     "/org/freedesktop/DBus",
						     "org.freedesktop.DBus",
						     "NameHasOwner",
						     g_variant_new ("(s)", lost_name),
						     G_VARIANT_TYPE ("(b)"),
						     G_DBUS_CALL_FLAGS_NONE,
						     -1,
						     NULL,
						     &error);
		g_assert_no_error (error);
		g_variant_get (reply, "(b)", &has_owner);
		if (!has_owner)
			break;
		if (g_get_monotonic_time () > deadline)
			g_error ("the bus still knows %s after 30 s", lost_name);
		pause_ms (50);
	}
	connect_service ();
}

static void
set_up (void)
{
	g_autoptr (GError) error = NULL;

	ensure_user ();
	ensure_polkit_action ();

	test.client = new_system_connection ();
	g_file_set_contents_full (BUS_POLICY_FILE,
				  bus_policy,
				  -1,
				  G_FILE_SET_CONTENTS_CONSISTENT,
				  0644,
				  &error);
	g_assert_no_error (error);
	reload_bus_config ();

	test.api = g_dbus_node_info_new_for_xml (test_api, &error);
	g_assert_no_error (error);
	test.polkit_auth = nf_auth_new (NF_AUTH_POLKIT, &error);
	g_assert_no_error (error);
	test.session_auth = nf_auth_new (NF_AUTH_SESSION_OWNER, &error);
	g_assert_no_error (error);

	connect_service ();
}

static void
tear_down (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (test.objects); i++)
		g_dbus_connection_unregister_object (test.service, test.objects[i].registration_id);
	g_dbus_connection_close_sync (test.service, NULL, NULL);
	g_clear_object (&test.service);
	g_unlink (POLKIT_RULES_FILE);
	g_unlink (BUS_POLICY_FILE);
	reload_bus_config ();
	if (test.installed_action)
		g_unlink (POLKIT_ACTION_FILE);
	g_dbus_connection_close_sync (test.client, NULL, NULL);
	g_clear_object (&test.client);
	g_clear_object (&test.polkit_auth);
	g_clear_object (&test.session_auth);
	g_clear_pointer (&test.api, g_dbus_node_info_unref);
	g_clear_error (&test.last_error);
}

int
main (int argc, char **argv)
{
	gint rc;

	g_test_init (&argc, &argv, NULL);
	g_log_set_handler (NULL, G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, on_log, NULL);
	if (getuid () != 0) {
		/* A skip would hide it: CI runs this as root. */
		g_print ("Bail out! test-auth must run as root (it installs a bus policy)\n");
		return 1;
	}
	/* Maps org.nestfarm.Farm1.Error.* back to NF_ERROR on the client side. */
	nf_error_quark ();
	set_up ();

	g_test_add_func ("/auth/polkit/root", test_polkit_root);
	g_test_add_func ("/auth/polkit/unprivileged", test_polkit_user);
	g_test_add_func ("/auth/unknown-method", test_unknown_method);
	g_test_add_func ("/auth/session/owner", test_session_owner);
	g_test_add_func ("/auth/session/other-user", test_session_other_user);
	g_test_add_func ("/auth/caller-gone", test_caller_gone);
	g_test_add_func ("/auth/cancelled", test_cancelled);
	g_test_add_func ("/auth/caller-left-during-check", test_caller_left_during_check);
	g_test_add_func ("/auth/bus-lost-during-check", test_bus_lost_during_check);
	g_test_add_func ("/auth/bus-lost-while-polkit-decides", test_bus_lost_while_polkit_decides);
	rc = g_test_run ();

	tear_down ();
	return rc;
}
