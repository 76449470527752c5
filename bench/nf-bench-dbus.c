/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-bench-dbus"

#include "config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

/* Read latency as a client sees it: GetManagedObjects on nestfarmd every
 * 10 ms for SECONDS (or until the file STOP_FILE exists); prints the
 * median, 99th percentile and worst in milliseconds.
 *
 * nf-bench-dbus SECONDS [STOP_FILE] */

static gint
compare_double (gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

	return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
	g_autoptr (GDBusConnection) bus = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (gdouble));
	gdouble seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 10;
	const gchar *stop_file = argc > 2 ? argv[2] : NULL;
	gint64 end;

	bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_printerr ("nf-bench-dbus: %s\n", error->message);
		return 1;
	}
	end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
	while (g_get_monotonic_time () < end) {
		gint64 t0 = g_get_monotonic_time ();
		g_autoptr (GVariant) reply =
			g_dbus_connection_call_sync (bus,
						     "org.nestfarm.Farm1",
						     "/org/nestfarm/Farm1",
						     "org.freedesktop.DBus.ObjectManager",
						     "GetManagedObjects",
						     NULL,
						     NULL,
						     G_DBUS_CALL_FLAGS_NONE,
						     10000,
						     NULL,
						     &error);
		gdouble ms = (g_get_monotonic_time () - t0) / 1000.0;

		if (reply == NULL) {
			g_printerr ("nf-bench-dbus: %s\n", error->message);
			return 1;
		}
		g_array_append_val (samples, ms);
		if (stop_file != NULL && g_file_test (stop_file, G_FILE_TEST_EXISTS))
			break;
		g_usleep (10 * 1000);
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
