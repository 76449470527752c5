/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-libvirt-live"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nf-test-util.h"

/* Against the host's real libvirtd (qemu:///system): domain events for a
 * transient TCG domain, and reconnection across a libvirtd restart. */

#define LIVE_URI "qemu:///system"

/* libvirtd is back well within this on the CI machines; the backoff
 * tops out at 30 s between attempts. */
#define RECONNECT_TIMEOUT_S 90

typedef struct {
	GThread *owner_thread;
	GString *sequence; /* 'C' connected, 'D' disconnected */
	guint connected;
	guint disconnected;
	guint off_thread;
	GPtrArray *events; /* "name event detail" */
} Watch;

static void
on_connected (NfConnection *connection, Watch *watch)
{
	watch->off_thread += g_thread_self () != watch->owner_thread;
	g_string_append_c (watch->sequence, 'C');
	watch->connected++;
}

static void
on_disconnected (NfConnection *connection, Watch *watch)
{
	watch->off_thread += g_thread_self () != watch->owner_thread;
	g_string_append_c (watch->sequence, 'D');
	watch->disconnected++;
}

static void
on_domain_event (NfConnection *connection,
		 const gchar *name,
		 const gchar *uuid,
		 gint event,
		 gint detail,
		 Watch *watch)
{
	watch->off_thread += g_thread_self () != watch->owner_thread;
	g_test_message ("event: %s (%s) %d/%d", name, uuid, event, detail);
	g_ptr_array_add (watch->events, g_strdup_printf ("%s %d %d", name, event, detail));
}

static void
watch_init (Watch *watch, NfConnection *connection)
{
	watch->owner_thread = g_thread_self ();
	watch->sequence = g_string_new (NULL);
	watch->events = g_ptr_array_new_with_free_func (g_free);
	g_signal_connect (connection, "connected", G_CALLBACK (on_connected), watch);
	g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), watch);
	g_signal_connect (connection, "domain-event", G_CALLBACK (on_domain_event), watch);
}

static void
watch_clear (Watch *watch)
{
	g_string_free (watch->sequence, TRUE);
	g_ptr_array_unref (watch->events);
}

static gboolean
on_deadline (gpointer data)
{
	gboolean *expired = data;

	*expired = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean
wait_for_count (const guint *counter, guint wanted, guint timeout_s)
{
	gboolean expired = FALSE;
	guint deadline = g_timeout_add_seconds (timeout_s, on_deadline, &expired);

	while (*counter < wanted && !expired)
		g_main_context_iteration (NULL, TRUE);
	if (!expired)
		g_source_remove (deadline);
	return *counter >= wanted;
}

static gboolean
has_event (Watch *watch, const gchar *name, gint event, gint detail)
{
	g_autofree gchar *wanted = g_strdup_printf ("%s %d %d", name, event, detail);

	return g_ptr_array_find_with_equal_func (watch->events, wanted, g_str_equal, NULL);
}

static gboolean
wait_for_event (Watch *watch, const gchar *name, gint event, gint detail, guint timeout_s)
{
	gboolean expired = FALSE;
	guint deadline = g_timeout_add_seconds (timeout_s, on_deadline, &expired);

	while (!has_event (watch, name, event, detail) && !expired)
		g_main_context_iteration (NULL, TRUE);
	if (!expired)
		g_source_remove (deadline);
	return has_event (watch, name, event, detail);
}

/* The smallest domain QEMU runs under TCG: no disk, no network. */
static gchar *
tiny_domain_xml (const gchar *name)
{
	return g_markup_printf_escaped ("<domain type='qemu'>\n"
					"  <name>%s</name>\n"
					"  <memory unit='MiB'>64</memory>\n"
					"  <vcpu>1</vcpu>\n"
					"  <os><type>hvm</type></os>\n"
					"  <on_poweroff>destroy</on_poweroff>\n"
					"  <on_reboot>destroy</on_reboot>\n"
					"  <on_crash>destroy</on_crash>\n"
					"  <devices/>\n"
					"</domain>\n",
					name);
}

/* Starts and destroys a transient domain; both events must arrive. */
static void
cycle_domain (NfConnection *connection, Watch *watch, const gchar *name)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (virConnect) conn = nf_connection_ref_conn (connection, &error);
	g_autoptr (virDomain) domain = NULL;
	g_autofree gchar *xml = tiny_domain_xml (name);

	g_assert_no_error (error);
	domain = virDomainCreateXML (conn, xml, 0);
	if (domain == NULL) {
		nf_libvirt_set_error (&error, "cannot start %s", name);
		g_assert_no_error (error);
	}
	g_assert_true (
		wait_for_event (watch, name, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, 30));
	if (virDomainDestroy (domain) < 0) {
		nf_libvirt_set_error (&error, "cannot destroy %s", name);
		g_assert_no_error (error);
	}
	g_assert_true (wait_for_event (watch,
				       name,
				       VIR_DOMAIN_EVENT_STOPPED,
				       VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
				       30));
}

static void
on_services_done (GObject *source, GAsyncResult *result, gpointer data)
{
	GAsyncResult **out = data;

	*out = g_object_ref (result);
}

/* tools/services restart libvirtd, while the main context keeps
 * delivering the connection's signals. */
static void
restart_libvirtd (void)
{
	const gchar *root = g_getenv ("NF_SOURCE_ROOT");
	g_autofree gchar *services = NULL;
	g_autoptr (GSubprocess) process = NULL;
	g_autoptr (GAsyncResult) result = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *output = NULL;

	g_assert_nonnull (root);
	services = g_build_filename (root, "tools", "services", NULL);
	process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
				    &error,
				    services,
				    "restart",
				    "libvirtd",
				    NULL);
	g_assert_no_error (error);
	g_subprocess_communicate_utf8_async (process, NULL, NULL, on_services_done, &result);
	while (result == NULL)
		g_main_context_iteration (NULL, TRUE);
	g_subprocess_communicate_utf8_finish (process, result, &output, NULL, &error);
	g_assert_no_error (error);
	g_test_message ("tools/services restart libvirtd: %s", output);
	g_assert_true (g_subprocess_get_successful (process));
}

static void
test_live_events (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (LIVE_URI);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *name = g_strdup_printf ("nf-test-events-%d", (gint) getpid ());
	Watch watch = {0};

	watch_init (&watch, connection);
	if (!nf_connection_open (connection, &error))
		g_error ("%s (is libvirtd running? tools/services start)", error->message);
	g_assert_true (wait_for_count (&watch.connected, 1, 10));
	cycle_domain (connection, &watch, name);
	g_assert_cmpuint (watch.off_thread, ==, 0);
	watch_clear (&watch);
}

static void
test_live_reconnect (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (LIVE_URI);
	g_autoptr (GError) error = NULL;
	g_autoptr (virConnect) conn = NULL;
	g_autofree gchar *name = g_strdup_printf ("nf-test-reconnect-%d", (gint) getpid ());
	gint64 restarted;
	Watch watch = {0};

	watch_init (&watch, connection);
	if (!nf_connection_open (connection, &error))
		g_error ("%s (is libvirtd running? tools/services start)", error->message);
	g_assert_true (wait_for_count (&watch.connected, 1, 10));

	restart_libvirtd ();
	restarted = g_get_monotonic_time ();
	g_assert_true (wait_for_count (&watch.disconnected, 1, 30));
	g_assert_true (wait_for_count (&watch.connected, 2, RECONNECT_TIMEOUT_S));
	g_test_message ("connected again %.1f s after libvirtd was back",
			(g_get_monotonic_time () - restarted) / (gdouble) G_USEC_PER_SEC);
	g_assert_cmpstr (watch.sequence->str, ==, "CDC");
	g_assert_true (nf_connection_is_alive (connection));

	/* A fresh connection for jobs, and events on the new one. */
	conn = nf_connection_ref_conn (connection, &error);
	g_assert_no_error (error);
	g_assert_cmpint (virConnectIsAlive (conn), ==, 1);
	cycle_domain (connection, &watch, name);
	g_assert_cmpuint (watch.off_thread, ==, 0);
	watch_clear (&watch);
}

/* Connections libvirtd itself counts from this process (virt-admin). */
static guint
libvirtd_clients_of_mine (void)
{
	g_autofree gchar *list = NULL;
	g_autofree gchar *mine = g_strdup_printf ("%d", (gint) getpid ());
	g_auto (GStrv) lines = NULL;
	g_autoptr (GError) error = NULL;
	guint count = 0;

	g_spawn_command_line_sync ("virt-admin -q srv-clients-list libvirtd", &list, NULL, NULL, &error);
	g_assert_no_error (error);
	lines = g_strsplit (list, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", 2);
		g_autofree gchar *command = NULL;
		g_autofree gchar *info = NULL;
		g_auto (GStrv) rows = NULL;

		if (fields[0] == NULL || !g_ascii_isdigit (fields[0][0]))
			continue;
		command = g_strdup_printf ("virt-admin -q client-info libvirtd %s", fields[0]);
		/* A client that left meanwhile has no info: not ours. */
		if (!g_spawn_command_line_sync (command, &info, NULL, NULL, NULL) || info == NULL)
			continue;
		rows = g_strsplit (info, "\n", -1);
		for (guint j = 0; rows[j] != NULL; j++) {
			g_auto (GStrv) kv = g_strsplit (rows[j], ":", 2);

			if (kv[0] != NULL && kv[1] != NULL &&
			    g_str_equal (g_strstrip (kv[0]), "unix_process_id") &&
			    g_str_equal (g_strstrip (kv[1]), mine))
				count++;
		}
	}
	return count;
}

/* libvirtd notices a client that left a moment later. */
static guint
wait_for_clients_of_mine (guint wanted, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
	guint count;

	while ((count = libvirtd_clients_of_mine ()) != wanted && g_get_monotonic_time () < deadline)
		g_usleep (100 * 1000);
	return count;
}

static gboolean
wait_for_open (NfConnection *connection, guint wanted, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

	while (nf_connection_count_open (connection) < wanted && g_get_monotonic_time () < deadline) {
		while (g_main_context_iteration (NULL, FALSE))
			;
		g_usleep (20 * 1000);
	}
	return nf_connection_count_open (connection) >= wanted;
}

/* Every call in a round of eight gets a live connection that answers. */
static void
assert_calls_answered (NfConnection *connection)
{
	g_autoptr (GPtrArray) seen = g_ptr_array_new ();

	for (guint i = 0; i < 8; i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (virConnect) conn = nf_connection_ref_conn (connection, &error);
		unsigned long version = 0;

		g_assert_no_error (error);
		if (virConnectGetLibVersion (conn, &version) < 0) {
			nf_libvirt_set_error (&error, "call %u", i);
			g_assert_no_error (error);
		}
		g_assert_cmpuint (version, >, 0);
		if (!g_ptr_array_find (seen, conn, NULL))
			g_ptr_array_add (seen, conn);
	}
	/* Handed out in turn: all four in eight calls. */
	g_assert_cmpuint (seen->len, ==, 4);
}

/* Calls are spread over four connections (libvirtd serves five calls of
 * one connection at a time), which libvirtd itself sees, and which come
 * back after libvirtd restarts. */
static void
test_live_spares (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (LIVE_URI);
	g_autoptr (GError) error = NULL;
	Watch watch = {0};

	watch_init (&watch, connection);
	if (!nf_connection_open (connection, &error))
		g_error ("%s (is libvirtd running? tools/services start)", error->message);
	g_assert_true (wait_for_open (connection, 4, 30));
	g_assert_cmpuint (wait_for_clients_of_mine (4, 10), ==, 4);
	assert_calls_answered (connection);

	restart_libvirtd ();
	g_assert_true (wait_for_count (&watch.disconnected, 1, 30));
	g_assert_true (wait_for_count (&watch.connected, 2, RECONNECT_TIMEOUT_S));
	g_assert_true (wait_for_open (connection, 4, 30));
	g_assert_cmpuint (wait_for_clients_of_mine (4, 10), ==, 4);
	assert_calls_answered (connection);

	/* Closed with the main one: libvirtd sees none left. */
	nf_connection_close (connection);
	g_assert_cmpuint (nf_connection_count_open (connection), ==, 0);
	g_assert_cmpuint (wait_for_clients_of_mine (0, 10), ==, 0);
	watch_clear (&watch);
}

int
main (int argc, char **argv)
{
	gint rc;
	g_test_init (&argc, &argv, NULL);
	nf_test_lock_take ();
	nf_libvirt_init ();
	g_test_add_func ("/libvirt-live/events", test_live_events);
	g_test_add_func ("/libvirt-live/reconnect", test_live_reconnect);
	g_test_add_func ("/libvirt-live/spares", test_live_spares);
	rc = g_test_run ();
	nf_test_lock_release ();
	return rc;
}
