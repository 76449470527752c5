/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-libvirt-live"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"

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

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	nf_libvirt_init ();
	g_test_add_func ("/libvirt-live/events", test_live_events);
	g_test_add_func ("/libvirt-live/reconnect", test_live_reconnect);
	return g_test_run ();
}
