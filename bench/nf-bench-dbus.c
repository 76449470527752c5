/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-bench-dbus"

#include "config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

/* Read latency as a client sees it, on the system bus: one kind of call to
 * nestfarmd, over and over for SECONDS (or until the file STOP_FILE
 * exists), with PAUSE_MS between calls; prints the median, 99th percentile
 * and worst in milliseconds, and how many calls were made.
 *
 *   nf-bench-dbus KIND SECONDS PAUSE_MS [STOP_FILE]
 *
 * KIND:
 *   managed  ObjectManager.GetManagedObjects on /org/nestfarm/Farm1
 *   get      Properties.Get of a node's State (the first node found)
 *   ping     Peer.Ping, answered by GDBus inside nestfarmd without any of
 *            nestfarm's code: the floor of a round trip to the daemon
 *   parse    no call: one GetManagedObjects reply, as it came over the
 *            bus, parsed again and again by GDBus in this process (the
 *            client's own share of a "managed" call, which a GDBus client
 *            pays whatever the daemon does) */

#define NF_BUS_NAME "org.nestfarm.Farm1"
#define NF_ROOT     "/org/nestfarm/Farm1"

typedef struct {
	const gchar *path;
	const gchar *interface;
	const gchar *method;
	GVariant *args; /* floating until the first call */
} Call;

static gint
compare_double (gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

	return x < y ? -1 : x > y;
}

static GVariant *
call_sync (GDBusConnection *bus, const Call *call, GError **error)
{
	return g_dbus_connection_call_sync (bus,
					    NF_BUS_NAME,
					    call->path,
					    call->interface,
					    call->method,
					    call->args,
					    NULL,
					    G_DBUS_CALL_FLAGS_NONE,
					    10000,
					    NULL,
					    error);
}

/* The object path of some node, or NULL when there is none. */
static gchar *
find_node (GDBusConnection *bus, GError **error)
{
	const Call managed = {NF_ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL};
	g_autoptr (GVariant) reply = call_sync (bus, &managed, error);
	g_autoptr (GVariant) objects = NULL;
	GVariantIter iter;
	const gchar *path;
	GVariant *interfaces;

	if (reply == NULL)
		return NULL;
	objects = g_variant_get_child_value (reply, 0);
	g_variant_iter_init (&iter, objects);
	while (g_variant_iter_loop (&iter, "{&o@a{sa{sv}}}", &path, &interfaces)) {
		g_autoptr (GVariant) node =
			g_variant_lookup_value (interfaces, "org.nestfarm.Farm1.Node", NULL);

		if (node != NULL) {
			gchar *found = g_strdup (path);

			g_variant_unref (interfaces);
			return found;
		}
	}
	g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "nestfarmd has no node to read");
	return NULL;
}

/* One GetManagedObjects reply as its bytes on the wire. */
static guchar *
managed_blob (GDBusConnection *bus, gsize *len, GError **error)
{
	g_autoptr (GDBusMessage) request =
		g_dbus_message_new_method_call (NF_BUS_NAME,
						NF_ROOT,
						"org.freedesktop.DBus.ObjectManager",
						"GetManagedObjects");
	g_autoptr (GDBusMessage) reply =
		g_dbus_connection_send_message_with_reply_sync (bus,
								request,
								G_DBUS_SEND_MESSAGE_FLAGS_NONE,
								10000,
								NULL,
								NULL,
								error);

	if (reply == NULL || g_dbus_message_to_gerror (reply, error))
		return NULL;
	return g_dbus_message_to_blob (reply, len, G_DBUS_CAPABILITY_FLAGS_NONE, error);
}

/* One sample: a call, or (@blob) a parse of the reply @blob. */
static gboolean
sample (GDBusConnection *bus, Call *call, const guchar *blob, gsize len, gdouble *ms, GError **error)
{
	gint64 t0 = g_get_monotonic_time ();

	if (blob != NULL) {
		g_autoptr (GDBusMessage) parsed = g_dbus_message_new_from_blob ((guchar *) blob,
										len,
										G_DBUS_CAPABILITY_FLAGS_NONE,
										error);

		*ms = (g_get_monotonic_time () - t0) / 1000.0;
		return parsed != NULL;
	} else {
		g_autoptr (GVariant) reply = call_sync (bus, call, error);

		*ms = (g_get_monotonic_time () - t0) / 1000.0;
		return reply != NULL;
	}
}

int
main (int argc, char **argv)
{
	g_autoptr (GDBusConnection) bus = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (gdouble));
	g_autofree gchar *node = NULL;
	g_autofree guchar *blob = NULL;
	gsize blob_len = 0;
	const gchar *kind;
	gdouble seconds;
	gulong pause_us;
	const gchar *stop_file;
	Call call = {NF_ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL};
	gint64 end;

	if (argc < 4) {
		g_printerr ("usage: nf-bench-dbus managed|get|ping|parse SECONDS PAUSE_MS [STOP_FILE]\n");
		return 2;
	}
	kind = argv[1];
	seconds = g_ascii_strtod (argv[2], NULL);
	pause_us = (gulong) g_ascii_strtoull (argv[3], NULL, 10) * 1000;
	stop_file = argc > 4 ? argv[4] : NULL;

	bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_printerr ("nf-bench-dbus: %s\n", error->message);
		return 1;
	}
	if (g_str_equal (kind, "get")) {
		node = find_node (bus, &error);
		if (node == NULL) {
			g_printerr ("nf-bench-dbus: %s\n", error->message);
			return 1;
		}
		call = (Call){node, "org.freedesktop.DBus.Properties", "Get", NULL};
	} else if (g_str_equal (kind, "ping")) {
		call = (Call){NF_ROOT, "org.freedesktop.DBus.Peer", "Ping", NULL};
	} else if (g_str_equal (kind, "parse")) {
		blob = managed_blob (bus, &blob_len, &error);
		if (blob == NULL) {
			g_printerr ("nf-bench-dbus: %s\n", error->message);
			return 1;
		}
	} else if (!g_str_equal (kind, "managed")) {
		g_printerr ("nf-bench-dbus: unknown kind %s\n", kind);
		return 2;
	}

	end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
	while (g_get_monotonic_time () < end) {
		gdouble ms;

		if (g_str_equal (kind, "get"))
			call.args = g_variant_new ("(ss)", "org.nestfarm.Farm1.Node", "State");
		if (!sample (bus, &call, blob, blob_len, &ms, &error)) {
			g_printerr ("nf-bench-dbus: %s\n", error->message);
			return 1;
		}
		g_array_append_val (samples, ms);
		if (stop_file != NULL && g_file_test (stop_file, G_FILE_TEST_EXISTS))
			break;
		if (pause_us > 0)
			g_usleep (pause_us);
	}
	if (samples->len == 0)
		return 1;
	g_array_sort (samples, compare_double);
	printf ("p50 %.3f\np99 %.3f\nmax %.3f\nn %u\n",
		g_array_index (samples, gdouble, samples->len / 2),
		g_array_index (samples, gdouble, MIN (samples->len - 1, samples->len * 99 / 100)),
		g_array_index (samples, gdouble, samples->len - 1),
		samples->len);
	return 0;
}
