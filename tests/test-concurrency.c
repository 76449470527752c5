/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-concurrency"

#include "config.h"

#include <gio/gio.h>

#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* Twenty clients at once, each on its own bus connection, create, scale
 * and delete the same five pools in a random order. Every call gets a
 * reply at once, every job ends, every refusal is one a user can act on
 * (the pool exists, is gone, or was removed meanwhile), the daemon never
 * crashes and, in the end, reports exactly what libvirt, the disk and OVS
 * have. Under the asan setup the daemon's exit also checks for leaks.
 * NF_TEST_SEED replays a run. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define JOB_IFACE  "org.nestfarm.Farm1.Job"
#define ERROR_NAME "org.nestfarm.Farm1.Error."
#define CLIENTS    20
#define ROUNDS     6
#define MAX_NODES  4

static const gchar *const pools[] = {"cca", "ccb", "ccc", "ccd", "cce", NULL};

typedef struct {
	GMutex lock;
	GPtrArray *findings; /* what went wrong, as text */
	guint calls;
	guint jobs;
	guint succeeded;
	gint64 slowest_reply_ms; /* reported, not asserted: bench/ measures speed */
	GHashTable *refusals;    /* error name -> count (uint) */
	gchar *address;
	guint32 seed;
} Run;

typedef struct {
	Run *run;
	guint id;
} Client;

static void finding (Run *run, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static void
finding (Run *run, const gchar *format, ...)
{
	va_list args;
	gchar *text;

	va_start (args, format);
	text = g_strdup_vprintf (format, args);
	va_end (args);
	g_mutex_lock (&run->lock);
	g_ptr_array_add (run->findings, text);
	g_mutex_unlock (&run->lock);
}

static void
count_refusal (Run *run, const gchar *name)
{
	g_mutex_lock (&run->lock);
	g_hash_table_insert (run->refusals,
			     g_strdup (name),
			     GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (run->refusals, name)) +
					       1));
	g_mutex_unlock (&run->lock);
}

/* Refusals a racing client must expect: another client made the pool
 * first, or removed it (before the call, or while the job waited its
 * turn). */
static gboolean
expected_refusal (const gchar *name)
{
	return g_strcmp0 (name, ERROR_NAME "Exists") == 0 || g_strcmp0 (name, ERROR_NAME "NotFound") == 0 ||
	       g_strcmp0 (name, "org.freedesktop.DBus.Error.UnknownObject") == 0 ||
	       g_strcmp0 (name, "org.freedesktop.DBus.Error.UnknownMethod") == 0;
}

static gchar *
get_string (GDBusConnection *bus, const gchar *path, const gchar *name, GError **error)
{
	g_autoptr (GVariant) reply = g_dbus_connection_call_sync (bus,
								  "org.nestfarm.Farm1",
								  path,
								  "org.freedesktop.DBus.Properties",
								  "Get",
								  g_variant_new ("(ss)", JOB_IFACE, name),
								  G_VARIANT_TYPE ("(v)"),
								  G_DBUS_CALL_FLAGS_NONE,
								  10000,
								  NULL,
								  error);
	g_autoptr (GVariant) value = NULL;

	if (reply == NULL)
		return NULL;
	g_variant_get (reply, "(v)", &value);
	return g_variant_dup_string (value, NULL);
}

static void
follow_job (Client *c, GDBusConnection *bus, const gchar *job, const gchar *what)
{
	gint64 deadline = g_get_monotonic_time () + 600 * G_USEC_PER_SEC;

	g_mutex_lock (&c->run->lock);
	c->run->jobs++;
	g_mutex_unlock (&c->run->lock);
	for (;;) {
		g_autoptr (GError) error = NULL;
		g_autofree gchar *state = get_string (bus, job, "State", &error);

		if (state == NULL) {
			finding (c->run,
				 "client %u: %s: job %s unreadable: %s",
				 c->id,
				 what,
				 job,
				 error->message);
			return;
		}
		if (g_strcmp0 (state, "succeeded") == 0) {
			g_mutex_lock (&c->run->lock);
			c->run->succeeded++;
			g_mutex_unlock (&c->run->lock);
			return;
		}
		if (g_strcmp0 (state, "running") != 0) {
			g_autofree gchar *name = get_string (bus, job, "ErrorName", NULL);
			g_autofree gchar *message = get_string (bus, job, "Error", NULL);

			count_refusal (c->run, name);
			if (!expected_refusal (name))
				finding (c->run,
					 "client %u: %s: job %s %s: %s %s",
					 c->id,
					 what,
					 job,
					 state,
					 name,
					 message);
			return;
		}
		if (g_get_monotonic_time () > deadline) {
			finding (c->run, "client %u: %s: job %s did not end in 600 s", c->id, what, job);
			return;
		}
		g_usleep (100 * 1000);
	}
}

static void
one_call (Client *c, GDBusConnection *bus, GRand *rand)
{
	const gchar *pool = pools[g_rand_int_range (rand, 0, G_N_ELEMENTS (pools) - 1)];
	g_autofree gchar *pool_path = g_strdup_printf (ROOT "/pool/%s", pool);
	g_autofree gchar *what = NULL;
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GError) error = NULL;
	const gchar *job = NULL;
	gint64 start = g_get_monotonic_time ();
	gint64 took_ms;

	const gchar *path = ROOT;
	const gchar *iface = MANAGER;
	const gchar *method;
	GVariant *args;

	switch (g_rand_int_range (rand, 0, 3)) {
	case 0:
		what = g_strdup_printf ("create %s", pool);
		method = "CreatePool";
		args = g_variant_new_parsed ("(%s, %u, {'start': <false>, 'memory-mib': <uint32 256>, "
					     "'vcpus': <uint32 1>, 'disk-gib': <uint32 1>})",
					     pool,
					     (guint32) g_rand_int_range (rand, 1, MAX_NODES + 1));
		break;
	case 1: {
		guint32 count = (guint32) g_rand_int_range (rand, 1, MAX_NODES + 1);

		what = g_strdup_printf ("scale %s to %u", pool, count);
		path = pool_path;
		iface = POOL_IFACE;
		method = "Scale";
		args = g_variant_new ("(u)", count);
		break;
	}
	default:
		what = g_strdup_printf ("delete %s", pool);
		method = "DeletePool";
		args = g_variant_new_parsed ("(%s, {'force': <true>})", pool);
		break;
	}
	reply = g_dbus_connection_call_sync (bus,
					     "org.nestfarm.Farm1",
					     path,
					     iface,
					     method,
					     args,
					     NULL,
					     G_DBUS_CALL_FLAGS_NONE,
					     30000,
					     NULL,
					     &error);
	/* CreatePool replies (oo), the others (o): the job comes last */
	if (reply != NULL)
		g_variant_get_child (reply, g_variant_n_children (reply) - 1, "&o", &job);
	took_ms = (g_get_monotonic_time () - start) / 1000;
	g_mutex_lock (&c->run->lock);
	c->run->calls++;
	c->run->slowest_reply_ms = MAX (c->run->slowest_reply_ms, took_ms);
	g_mutex_unlock (&c->run->lock);
	if (reply == NULL) {
		g_autofree gchar *name = g_dbus_error_get_remote_error (error);

		count_refusal (c->run, name != NULL ? name : "(local)");
		if (!expected_refusal (name))
			finding (c->run, "client %u: %s: %s", c->id, what, error->message);
		return;
	}
	follow_job (c, bus, job, what);
}

static gpointer
client_thread (gpointer data)
{
	Client *c = data;
	g_autoptr (GError) error = NULL;
	g_autoptr (GRand) rand = g_rand_new_with_seed (c->run->seed + c->id);
	g_autoptr (GDBusConnection) bus =
		g_dbus_connection_new_for_address_sync (c->run->address,
							G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							NULL,
							NULL,
							&error);

	if (bus == NULL) {
		finding (c->run, "client %u: cannot connect: %s", c->id, error->message);
		return NULL;
	}
	for (guint i = 0; i < ROUNDS; i++)
		one_call (c, bus, rand);
	return NULL;
}

static void
print_refusals (Run *run)
{
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init (&iter, run->refusals);
	while (g_hash_table_iter_next (&iter, &key, &value))
		g_test_message ("  refused %u times: %s", GPOINTER_TO_UINT (value), (const gchar *) key);
}

static void
test_concurrency (void)
{
	NfTestDaemon *d;
	Run run = {0};
	Client clients[CLIENTS];
	GThread *threads[CLIENTS];
	const gchar *seed = g_getenv ("NF_TEST_SEED");
	g_autoptr (GError) error = NULL;

	d = nf_test_daemon_new ("conc", NULL);
	nf_test_daemon_start (d);

	g_mutex_init (&run.lock);
	run.findings = g_ptr_array_new_with_free_func (g_free);
	run.refusals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	run.seed = seed != NULL ? (guint32) g_ascii_strtoull (seed, NULL, 10) : g_random_int ();
	run.address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
	g_assert_no_error (error);
	g_test_message ("seed %u (NF_TEST_SEED=%u replays this run)", run.seed, run.seed);

	for (guint i = 0; i < CLIENTS; i++) {
		clients[i].run = &run;
		clients[i].id = i;
		threads[i] = g_thread_new ("client", client_thread, &clients[i]);
	}
	for (guint i = 0; i < CLIENTS; i++)
		g_thread_join (threads[i]);

	g_test_message ("%u clients: %u calls, %u jobs, %u succeeded; slowest reply %" G_GINT64_FORMAT " ms",
			CLIENTS,
			run.calls,
			run.jobs,
			run.succeeded,
			run.slowest_reply_ms);
	print_refusals (&run);
	for (guint i = 0; i < run.findings->len; i++)
		g_test_message ("finding: %s", (const gchar *) g_ptr_array_index (run.findings, i));
	g_assert_cmpuint (run.findings->len, ==, 0);
	g_assert_cmpuint (run.calls, ==, CLIENTS * ROUNDS);
	g_assert_cmpuint (run.succeeded, >, 0);
	g_assert_true (nf_test_daemon_alive (d));

	/* The end state is consistent: each pool there has exactly its wanted
	 * number of nodes, all in libvirt; then deleting leaves nothing. */
	for (guint i = 0; pools[i] != NULL; i++) {
		g_autofree gchar *path = g_strdup_printf (ROOT "/pool/%s", pools[i]);
		g_autofree gchar *prefix = g_strdup_printf ("%s-", pools[i]);
		guint reported = nf_test_assert_consistent (d, pools[i], 0);

		if (nf_test_object_exists (d, path)) {
			g_autoptr (GVariant) count = nf_test_get_property (d, path, POOL_IFACE, "Count");
			g_autoptr (GVariant) reply =
				nf_test_call_ok (d, path, POOL_IFACE, "Delete", "({'force': <true>},)");

			g_test_message ("%s: %u nodes", pools[i], reported);
			g_assert_cmpuint (reported, ==, g_variant_get_uint32 (count));
			nf_test_job_succeeds (d, reply, 300);
		} else {
			g_assert_cmpuint (reported, ==, 0);
		}
		g_assert_cmpuint (nf_test_domains_named (prefix), ==, 0);
	}
	nf_test_assert_dir_has_no_overlays (d->storage_dir);

	/* and it exits cleanly (under asan: without a leak) */
	nf_test_daemon_stop (d);
	nf_test_daemon_free (d, pools);
	g_ptr_array_unref (run.findings);
	g_hash_table_unref (run.refusals);
	g_free (run.address);
	g_mutex_clear (&run.lock);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/concurrency/20-clients-5-pools", test_concurrency);
	return g_test_run ();
}
