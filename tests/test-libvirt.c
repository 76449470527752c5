/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-libvirt"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"

/* libvirt's in-process test driver: a host with one running domain
 * called "test", and real domain events, without libvirtd. */

#define TEST_URI "test:///default"

typedef struct {
	gchar *name;
	gchar *uuid;
	gint event;
	gint detail;
} SeenEvent;

typedef struct {
	GThread *owner_thread;
	guint connected;
	guint disconnected;
	guint off_thread;
	GPtrArray *events;
} Watch;

static void
seen_event_free (gpointer data)
{
	SeenEvent *seen = data;

	g_free (seen->name);
	g_free (seen->uuid);
	g_free (seen);
}

static void
on_connected (NfConnection *connection, Watch *watch)
{
	watch->off_thread += g_thread_self () != watch->owner_thread;
	watch->connected++;
}

static void
on_disconnected (NfConnection *connection, Watch *watch)
{
	watch->off_thread += g_thread_self () != watch->owner_thread;
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
	SeenEvent *seen = g_new0 (SeenEvent, 1);

	watch->off_thread += g_thread_self () != watch->owner_thread;
	seen->name = g_strdup (name);
	seen->uuid = g_strdup (uuid);
	seen->event = event;
	seen->detail = detail;
	g_ptr_array_add (watch->events, seen);
}

static void
watch_init (Watch *watch, NfConnection *connection)
{
	watch->owner_thread = g_thread_self ();
	watch->events = g_ptr_array_new_with_free_func (seen_event_free);
	g_signal_connect (connection, "connected", G_CALLBACK (on_connected), watch);
	g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), watch);
	g_signal_connect (connection, "domain-event", G_CALLBACK (on_domain_event), watch);
}

static void
watch_clear (Watch *watch)
{
	g_clear_pointer (&watch->events, g_ptr_array_unref);
}

static gboolean
on_deadline (gpointer data)
{
	gboolean *expired = data;

	*expired = TRUE;
	return G_SOURCE_REMOVE;
}

/* Iterates the default context until *@counter reaches @wanted. */
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

static const SeenEvent *
find_event (Watch *watch, const gchar *name, gint event, gint detail)
{
	for (guint i = 0; i < watch->events->len; i++) {
		const SeenEvent *seen = g_ptr_array_index (watch->events, i);

		if (g_strcmp0 (seen->name, name) == 0 && seen->event == event && seen->detail == detail)
			return seen;
	}
	return NULL;
}

/* Waits for that event itself, not for a count: what else the driver
 * sends first (or in between) does not matter. Says what came instead. */
static const SeenEvent *
wait_for_event (Watch *watch, const gchar *name, gint event, gint detail, guint timeout_s)
{
	gboolean expired = FALSE;
	guint deadline = g_timeout_add_seconds (timeout_s, on_deadline, &expired);
	const SeenEvent *seen;

	while ((seen = find_event (watch, name, event, detail)) == NULL && !expired)
		g_main_context_iteration (NULL, TRUE);
	if (!expired)
		g_source_remove (deadline);
	for (guint i = 0; seen == NULL && i < watch->events->len; i++) {
		const SeenEvent *other = g_ptr_array_index (watch->events, i);

		g_test_message ("instead: %s event %d detail %d", other->name, other->event, other->detail);
	}
	return seen;
}

static void
drain_main_context (void)
{
	while (g_main_context_iteration (NULL, FALSE))
		;
}

static void
test_libvirt_open (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (TEST_URI);
	g_autoptr (GError) error = NULL;
	g_autoptr (virConnect) conn = NULL;
	Watch watch = {0};

	watch_init (&watch, connection);
	g_assert_cmpstr (nf_connection_get_uri (connection), ==, TEST_URI);
	g_assert_false (nf_connection_is_alive (connection));
	conn = nf_connection_ref_conn (connection, &error);
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_assert_null (conn);
	g_clear_error (&error);

	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	g_assert_true (nf_connection_is_alive (connection));
	/* A second open is a no-op. */
	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	g_assert_true (wait_for_count (&watch.connected, 1, 10));
	drain_main_context ();
	g_assert_cmpuint (watch.connected, ==, 1);
	g_assert_cmpuint (watch.off_thread, ==, 0);

	conn = nf_connection_ref_conn (connection, &error);
	g_assert_no_error (error);
	g_assert_nonnull (conn);
	g_assert_cmpint (virConnectIsAlive (conn), ==, 1);
	/* In-process: its state is per connection, so no spares. */
	g_assert_cmpuint (nf_connection_count_open (connection), ==, 1);

	/* Closing emits "disconnected"; a job's reference stays usable. */
	nf_connection_close (connection);
	g_assert_false (nf_connection_is_alive (connection));
	g_assert_true (wait_for_count (&watch.disconnected, 1, 10));
	g_assert_cmpint (virConnectNumOfDomains (conn), >=, 0);
	g_assert_null (nf_connection_ref_conn (connection, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_assert_nonnull (strstr (error->message, "not open"));
	g_clear_error (&error);

	/* And it opens again. */
	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	g_assert_true (wait_for_count (&watch.connected, 2, 10));
	g_assert_cmpuint (watch.off_thread, ==, 0);
	watch_clear (&watch);
}

static void
test_libvirt_default_uri (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (NULL);
	g_autofree gchar *uri = NULL;

	g_assert_cmpstr (nf_connection_get_uri (connection), ==, "qemu:///system");
	g_object_get (connection, "uri", &uri, NULL);
	g_assert_cmpstr (uri, ==, "qemu:///system");
}

static void
test_libvirt_open_fails (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new ("nfbogus:///system");
	g_autoptr (GError) error = NULL;

	g_assert_false (nf_connection_open (connection, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_test_message ("%s", error->message);
	g_assert_true (g_str_has_prefix (error->message, "cannot connect to libvirt at nfbogus:///system: "));
	g_assert_false (nf_connection_is_alive (connection));
	g_assert_null (virGetLastError ());
}

#define REF_ROUNDS 500

static gpointer
ref_conn_worker (gpointer data)
{
	NfConnection *connection = data;

	for (guint i = 0; i < REF_ROUNDS; i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (virConnect) conn = nf_connection_ref_conn (connection, &error);

		g_assert_no_error (error);
		g_assert_nonnull (conn);
		g_assert_cmpint (virConnectNumOfDomains (conn), >=, 0);
	}
	return NULL;
}

static void
test_libvirt_ref_conn_threads (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (TEST_URI);
	g_autoptr (GError) error = NULL;
	GThread *workers[2];

	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
		workers[i] = g_thread_new ("ref-conn-worker", ref_conn_worker, connection);
	for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
		g_thread_join (workers[i]);
	g_assert_true (nf_connection_is_alive (connection));
	drain_main_context ();
}

static void
test_libvirt_error_mapping (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (TEST_URI);
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (virDomain) domain = NULL;
	g_autoptr (virStoragePool) pool = NULL;
	g_autoptr (virNetwork) network = NULL;

	g_assert_true (nf_connection_open (connection, &error));
	conn = nf_connection_ref_conn (connection, &error);
	g_assert_no_error (error);

	domain = virDomainLookupByName (conn, "nf-no-such-domain");
	g_assert_null (domain);
	g_assert_false (nf_libvirt_set_error (&error, "cannot find node %s", "nf-no-such-domain"));
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_test_message ("%s", error->message);
	g_assert_true (g_str_has_prefix (error->message, "cannot find node nf-no-such-domain: "));
	g_assert_cmpuint (strlen (error->message), >, strlen ("cannot find node nf-no-such-domain: "));
	/* The last error is consumed. */
	g_assert_null (virGetLastError ());
	g_clear_error (&error);

	pool = virStoragePoolLookupByName (conn, "nf-no-such-pool");
	g_assert_null (pool);
	nf_libvirt_set_error (&error, "pool");
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_clear_error (&error);

	network = virNetworkLookupByName (conn, "nf-no-such-network");
	g_assert_null (network);
	nf_libvirt_set_error (&error, "network");
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_clear_error (&error);

	/* Anything else is a libvirt error, with libvirt's words. */
	domain = virDomainDefineXML (conn, "<domain type='test'><name>broken");
	g_assert_null (domain);
	nf_libvirt_set_error (&error, "cannot define %s", "broken");
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_test_message ("%s", error->message);
	g_assert_true (g_str_has_prefix (error->message, "cannot define broken: "));
	g_clear_error (&error);

	/* No libvirt error at all still gives a GError. */
	g_assert_false (nf_libvirt_set_error (&error, "nothing failed"));
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_assert_cmpstr (error->message, ==, "nothing failed: libvirt gave no reason");
	g_clear_error (&error);

	/* A NULL GError** is allowed, and still resets the error. */
	g_assert_null (virDomainLookupByName (conn, "nf-no-such-domain"));
	g_assert_false (nf_libvirt_set_error (NULL, "ignored"));
	g_assert_null (virGetLastError ());
}

#define DEFINERS 4

typedef struct {
	NfConnection *connection;
	guint index;
} Definer;

static gpointer
define_worker (gpointer data)
{
	Definer *definer = data;
	g_autoptr (GError) error = NULL;
	g_autoptr (virConnect) conn = nf_connection_ref_conn (definer->connection, &error);
	g_autofree gchar *name = g_strdup_printf ("nf-define-%u", definer->index);
	g_autofree gchar *xml = g_strdup_printf ("<domain type='test'><name>%s</name><memory>65536</memory>"
						 "<os><type>hvm</type></os></domain>",
						 name);
	g_autoptr (virDomain) domain = NULL;

	g_assert_no_error (error);
	domain = nf_connection_define_domain (definer->connection, conn, xml, name, NULL, &error);
	g_assert_no_error (error);
	g_assert_nonnull (domain);
	g_assert_cmpint (virDomainUndefine (domain), ==, 0);
	return NULL;
}

static void
define_at_once (NfConnection *connection)
{
	Definer definers[DEFINERS];
	GThread *threads[DEFINERS];

	for (guint i = 0; i < DEFINERS; i++) {
		definers[i] = (Definer){.connection = connection, .index = i};
		threads[i] = g_thread_new ("definer", define_worker, &definers[i]);
	}
	for (guint i = 0; i < DEFINERS; i++)
		g_thread_join (threads[i]);
}

static void
test_libvirt_define_domain (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (TEST_URI);
	g_autoptr (virConnect) old_conn = NULL;
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) domain = NULL;
	g_autoptr (GError) error = NULL;

	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	/* The first one warms up alone, the others wait, then all pass. */
	define_at_once (connection);
	define_at_once (connection);

	/* Refused by the schema: the house message and libvirt's reason. */
	conn = nf_connection_ref_conn (connection, &error);
	g_assert_no_error (error);
	domain = nf_connection_define_domain (connection,
					      conn,
					      "<domain type='test'><name>broken</name><bogus/></domain>",
					      "broken",
					      NULL,
					      &error);
	g_assert_null (domain);
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_test_message ("%s", error->message);
	g_assert_true (g_str_has_prefix (error->message, "libvirt refused the domain of broken: "));
	g_assert_null (virGetLastError ());
	g_clear_error (&error);

	/* A new connection warms up again; a reference to the old one
	 * neither waits for it nor settles it. */
	old_conn = g_steal_pointer (&conn);
	nf_connection_close (connection);
	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	domain =
		nf_connection_define_domain (connection,
					     old_conn,
					     "<domain type='test'><name>nf-define-old</name><memory>65536</memory>"
					     "<os><type>hvm</type></os></domain>",
					     "nf-define-old",
					     NULL,
					     &error);
	g_assert_no_error (error);
	g_assert_nonnull (domain);
	g_assert_cmpint (virDomainUndefine (domain), ==, 0);
	define_at_once (connection);
	drain_main_context ();
}

/* Defines @xml with @shape on @connection; whether libvirt took it. */
static gboolean
define_shaped (NfConnection *connection, const gchar *xml, const gchar *name, const gchar *shape)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) domain = NULL;
	g_autoptr (GError) error = NULL;

	conn = nf_connection_ref_conn (connection, &error);
	g_assert_no_error (error);
	domain = nf_connection_define_domain (connection, conn, xml, name, shape, &error);
	if (domain == NULL) {
		g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
		return FALSE;
	}
	g_assert_cmpint (virDomainUndefine (domain), ==, 0);
	return TRUE;
}

#define SHAPED_XML(extra)                                                                                 \
	"<domain type='test'><name>nf-shaped</name><memory>65536</memory><os><type>hvm</type></os>" extra \
	"</domain>"

static void
test_libvirt_define_shape (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (TEST_URI);
	g_autoptr (GError) error = NULL;

	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	/* An element the schema refuses and the parser ignores tells
	 * whether the schema check ran. No shape: always checked. */
	g_assert_false (define_shaped (connection, SHAPED_XML ("<bogus/>"), "nf-shaped", NULL));
	/* A shape is learnt only from XML that passed the check. */
	g_assert_false (define_shaped (connection, SHAPED_XML ("<bogus/>"), "nf-shaped", "a"));
	g_assert_false (define_shaped (connection, SHAPED_XML ("<bogus/>"), "nf-shaped", "a"));
	g_assert_true (define_shaped (connection, SHAPED_XML (""), "nf-shaped", "a"));
	/* Then that shape skips the check; another shape does not. */
	g_assert_true (define_shaped (connection, SHAPED_XML ("<bogus/>"), "nf-shaped", "a"));
	g_assert_false (define_shaped (connection, SHAPED_XML ("<bogus/>"), "nf-shaped", "b"));
	g_assert_false (define_shaped (connection, SHAPED_XML ("<bogus/>"), "nf-shaped", NULL));
	/* A new connection (maybe to a new libvirtd) forgets what it learnt. */
	nf_connection_close (connection);
	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	g_assert_false (define_shaped (connection, SHAPED_XML ("<bogus/>"), "nf-shaped", "a"));
	drain_main_context ();
}

static void
test_libvirt_domain_events (void)
{
	g_autoptr (NfConnection) connection = nf_connection_new (TEST_URI);
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) domain = NULL;
	g_autoptr (GError) error = NULL;
	char uuid[VIR_UUID_STRING_BUFLEN];
	const SeenEvent *seen;
	Watch watch = {0};

	watch_init (&watch, connection);
	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);
	conn = nf_connection_ref_conn (connection, &error);
	g_assert_no_error (error);
	domain = virDomainLookupByName (conn, "test");
	g_assert_nonnull (domain);
	g_assert_cmpint (virDomainGetUUIDString (domain, uuid), ==, 0);
	g_assert_cmpint (virDomainIsActive (domain), ==, 1);

	g_assert_cmpint (virDomainDestroy (domain), ==, 0);
	seen = wait_for_event (&watch,
			       "test",
			       VIR_DOMAIN_EVENT_STOPPED,
			       VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
			       10);
	g_assert_nonnull (seen);
	g_assert_cmpstr (seen->uuid, ==, uuid);

	g_assert_cmpint (virDomainCreate (domain), ==, 0);
	seen = wait_for_event (&watch, "test", VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, 10);
	g_assert_nonnull (seen);
	g_assert_cmpstr (seen->uuid, ==, uuid);
	/* Every signal ran on the thread that owns the main context. */
	g_assert_cmpuint (watch.off_thread, ==, 0);
	watch_clear (&watch);
}

/* Events still queued for an object that is gone are dropped quietly. */
static void
test_libvirt_dispose_pending (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) domain = NULL;
	NfConnection *connection = nf_connection_new (TEST_URI);
	GWeakRef weak;
	Watch watch = {0};

	g_weak_ref_init (&weak, connection);
	watch_init (&watch, connection);
	g_assert_true (nf_connection_open (connection, &error));
	conn = nf_connection_ref_conn (connection, &error);
	domain = virDomainLookupByName (conn, "test");
	g_assert_cmpint (virDomainDestroy (domain), ==, 0);
	g_assert_cmpint (virDomainCreate (domain), ==, 0);
	/* Give libvirt's event thread time to queue them on our context. */
	g_usleep (200 * G_TIME_SPAN_MILLISECOND);
	g_object_unref (connection);
	g_assert_null (g_weak_ref_get (&weak));
	drain_main_context ();
	g_assert_cmpuint (watch.connected, ==, 0);
	g_assert_cmpuint (watch.events->len, ==, 0);
	g_weak_ref_clear (&weak);
	watch_clear (&watch);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	nf_libvirt_init ();
	g_test_add_func ("/libvirt/open", test_libvirt_open);
	g_test_add_func ("/libvirt/default-uri", test_libvirt_default_uri);
	g_test_add_func ("/libvirt/open-fails", test_libvirt_open_fails);
	g_test_add_func ("/libvirt/ref-conn-threads", test_libvirt_ref_conn_threads);
	g_test_add_func ("/libvirt/error-mapping", test_libvirt_error_mapping);
	g_test_add_func ("/libvirt/define-domain", test_libvirt_define_domain);
	g_test_add_func ("/libvirt/define-shape", test_libvirt_define_shape);
	g_test_add_func ("/libvirt/domain-events", test_libvirt_domain_events);
	g_test_add_func ("/libvirt/dispose-pending", test_libvirt_dispose_pending);
	return g_test_run ();
}
