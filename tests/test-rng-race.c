/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-rng-race"

/* Validated defines at once on a libvirtd that has just started (issue 12).
 *
 * A fresh libvirtd's libxml2 sets up its RelaxNG datatype library on the
 * first validated define, lazily and without a lock: defines that reach it
 * together can fail with "Error type 'unsignedLong' is not exported by type
 * library". Each round restarts libvirtd under the same NfConnection, drops
 * the page cache so the schema files and libxml2's code are read from disk
 * again, as on a fresh machine, and fires DEFINES validated defines at once
 * through nestfarm's define helper (the engine's define step). Every
 * define must succeed; the failures are counted first, so a lost race
 * still cleans up and restores the readahead before the test fails.
 *
 * While it runs, the disk under libvirt's schemas reads ahead only
 * READAHEAD_KB: then each cold page of libxml2's code is read on its own,
 * the threads queue on the same pages and reach the type set-up together.
 * A large readahead (8 MiB on the test VM) reads the whole library at the
 * first fault and hides the race (about one round in a hundred loses).
 * At 16 KiB without nestfarm's gate about one round in 15 lost a define
 * there, and 8 of 10 runs of this test failed; more rounds catch it more
 * surely: NF_RNG_RACE_ROUNDS. */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nestfarm/nf-libvirt.h"
#include "nf-test-util.h"

#define PREFIX         "rngrace"
#define DEFINES        8
#define DEFAULT_ROUNDS 25
#define READAHEAD_KB   "16"
#define SCHEMA_FILE    "/usr/share/libvirt/schemas/domain.rng"
/* "<sysfs file> <its value>" while lowered: a run that aborts leaves it
 * for the next run to restore. */
#define READAHEAD_SAVED "/run/nestfarm-test-rng-race.readahead"

typedef struct {
	GMutex lock;
	GCond cond;
	guint waiting;
	gboolean go;
} StartLine;

typedef struct {
	NfConnection *connection;
	StartLine *start;
	guint round;
	guint index;
	GError *error;
} Definer;

static NfConnection *connection;
static guint connected_count;

static void
on_connected (NfConnection *self, gpointer user_data)
{
	connected_count++;
}

/* The readahead file of the disk that holds @path, or NULL (overlayfs,
 * tmpfs: no block device of its own). */
static gchar *
readahead_file_of (const gchar *path)
{
	g_autofree gchar *dev_dir = NULL;
	g_autofree gchar *partition = NULL;
	g_autofree gchar *file = NULL;
	GStatBuf st;

	g_assert_cmpint (g_stat (path, &st), ==, 0);
	dev_dir = g_strdup_printf ("/sys/dev/block/%u:%u", major (st.st_dev), minor (st.st_dev));
	partition = g_build_filename (dev_dir, "partition", NULL);
	/* A partition's queue is its disk's, one directory up. */
	if (g_file_test (partition, G_FILE_TEST_EXISTS))
		file = g_build_filename (dev_dir, "..", "queue", "read_ahead_kb", NULL);
	else
		file = g_build_filename (dev_dir, "queue", "read_ahead_kb", NULL);
	if (!g_file_test (file, G_FILE_TEST_EXISTS))
		return NULL;
	return g_steal_pointer (&file);
}

/* In place: sysfs and procfs files take one write, and no temporary file. */
static void
write_sysfs (const gchar *file, const gchar *value)
{
	gint fd = g_open (file, O_WRONLY | O_CLOEXEC, 0);

	g_assert_cmpint (fd, >=, 0);
	g_assert_cmpint (write (fd, value, strlen (value)), ==, (gssize) strlen (value));
	g_assert_cmpint (close (fd), ==, 0);
}

static void
readahead_restore (void)
{
	g_autofree gchar *saved = NULL;
	g_auto (GStrv) fields = NULL;

	if (!g_file_get_contents (READAHEAD_SAVED, &saved, NULL, NULL))
		return;
	fields = g_strsplit (g_strstrip (saved), " ", 2);
	g_assert_cmpuint (g_strv_length (fields), ==, 2);
	write_sysfs (fields[0], fields[1]);
	g_assert_cmpint (g_unlink (READAHEAD_SAVED), ==, 0);
}

static void
readahead_lower (void)
{
	g_autofree gchar *file = readahead_file_of (SCHEMA_FILE);
	g_autofree gchar *value = NULL;
	g_autofree gchar *saved = NULL;
	g_autoptr (GError) error = NULL;

	if (file == NULL) {
		g_test_message ("%s is on no block device: readahead left as it is", SCHEMA_FILE);
		return;
	}
	g_assert_true (g_file_get_contents (file, &value, NULL, &error));
	g_assert_no_error (error);
	saved = g_strdup_printf ("%s %s\n", file, g_strstrip (value));
	g_assert_true (g_file_set_contents (READAHEAD_SAVED, saved, -1, &error));
	g_assert_no_error (error);
	g_test_message ("readahead of %s: %s KiB, %s KiB during the test", file, value, READAHEAD_KB);
	write_sysfs (file, READAHEAD_KB);
}

/* Round 0 waits for the connection to come back by itself, as a daemon's
 * does; later rounds close and reopen it, which skips the reconnect's
 * back-off. Both make a new connection on the same NfConnection, which
 * must warm the new libvirtd up again. */
static void
restart_libvirtd (guint round)
{
	g_autofree gchar *services =
		g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "tools", "services", NULL);
	g_autoptr (GError) error = NULL;
	guint before;
	gint64 deadline;

	/* Notices still queued (the first open's "connected") are old news. */
	while (g_main_context_iteration (NULL, FALSE))
		;
	before = connected_count;
	if (round > 0)
		nf_connection_close (connection);
	nf_test_assert_command_ok (services, "restart", "libvirtd", NULL);
	if (round > 0) {
		g_assert_true (nf_connection_open (connection, &error));
		g_assert_no_error (error);
		return;
	}
	deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
	while (connected_count == before) {
		g_assert_cmpint (g_get_monotonic_time (), <, deadline);
		if (!g_main_context_iteration (NULL, FALSE))
			g_usleep (10 * G_TIME_SPAN_MILLISECOND);
	}
}

static void
drop_page_cache (void)
{
	sync ();
	write_sysfs ("/proc/sys/vm/drop_caches", "3");
}

static gchar *
domain_name (guint round, guint index)
{
	return g_strdup_printf (PREFIX "-%u-%u", round, index);
}

static gpointer
define_one (gpointer data)
{
	Definer *definer = data;
	g_autoptr (virConnect) conn = nf_connection_ref_conn (definer->connection, &definer->error);
	g_autoptr (virDomain) dom = NULL;
	g_autofree gchar *name = domain_name (definer->round, definer->index);
	g_autofree gchar *xml = NULL;

	xml = g_strdup_printf ("<domain type='qemu'>"
			       "<name>%s</name>"
			       "<description>nestfarm test-rng-race</description>"
			       "<memory unit='MiB'>64</memory>"
			       "<os><type arch='x86_64'>hvm</type></os>"
			       "</domain>",
			       name);

	/* All at the line first, so the defines reach libvirtd together. */
	g_mutex_lock (&definer->start->lock);
	definer->start->waiting++;
	g_cond_broadcast (&definer->start->cond);
	while (!definer->start->go)
		g_cond_wait (&definer->start->cond, &definer->start->lock);
	g_mutex_unlock (&definer->start->lock);

	if (conn == NULL)
		return NULL;
	dom = nf_connection_define_domain (definer->connection, conn, xml, name, NULL, &definer->error);
	return NULL;
}

static void
undefine_round (guint round)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (virConnect) conn = nf_connection_ref_conn (connection, &error);

	g_assert_no_error (error);
	for (guint i = 0; i < DEFINES; i++) {
		g_autofree gchar *name = domain_name (round, i);
		g_autoptr (virDomain) dom = virDomainLookupByName (conn, name);

		if (dom != NULL && virDomainUndefine (dom) < 0)
			g_test_message ("cannot undefine %s: %s", name, virGetLastErrorMessage ());
		virResetLastError ();
	}
}

/* How many of this round's defines failed; their reasons go to the log. */
static guint
run_round (guint round)
{
	StartLine start = {0};
	Definer definers[DEFINES] = {0};
	GThread *threads[DEFINES];
	guint failed = 0;

	restart_libvirtd (round);
	drop_page_cache ();

	g_mutex_init (&start.lock);
	g_cond_init (&start.cond);
	for (guint i = 0; i < DEFINES; i++) {
		definers[i] =
			(Definer){.connection = connection, .start = &start, .round = round, .index = i};
		threads[i] = g_thread_new ("definer", define_one, &definers[i]);
	}
	g_mutex_lock (&start.lock);
	while (start.waiting < DEFINES)
		g_cond_wait (&start.cond, &start.lock);
	start.go = TRUE;
	g_cond_broadcast (&start.cond);
	g_mutex_unlock (&start.lock);

	for (guint i = 0; i < DEFINES; i++) {
		g_thread_join (threads[i]);
		if (definers[i].error != NULL) {
			g_test_message ("round %u, define %u: %s", round, i, definers[i].error->message);
			failed++;
		}
		g_clear_error (&definers[i].error);
	}
	g_mutex_clear (&start.lock);
	g_cond_clear (&start.cond);
	undefine_round (round);
	return failed;
}

static void
test_parallel_defines_on_fresh_libvirtd (void)
{
	const gchar *rounds_env = g_getenv ("NF_RNG_RACE_ROUNDS");
	guint rounds = rounds_env != NULL ? (guint) g_ascii_strtoull (rounds_env, NULL, 10) : DEFAULT_ROUNDS;
	guint failed = 0;
	guint lost_rounds = 0;

	readahead_lower ();
	for (guint round = 0; round < rounds; round++) {
		guint round_failed = run_round (round);

		failed += round_failed;
		lost_rounds += round_failed > 0;
	}
	readahead_restore ();
	g_test_message ("%u of %u defines failed, in %u of %u rounds",
			failed,
			rounds * DEFINES,
			lost_rounds,
			rounds);
	g_assert_cmpuint (failed, ==, 0);
}

int
main (int argc, char **argv)
{
	g_autoptr (GError) error = NULL;
	int rc;

	g_test_init (&argc, &argv, NULL);
	nf_test_lock_take ();
	/* A run that aborted half-way may have left the readahead low. */
	readahead_restore ();
	nf_libvirt_init ();
	/* A run that failed half-way may have left its domains. */
	nf_test_cleanup_leftovers (PREFIX, NULL);

	connection = nf_connection_new ("qemu:///system");
	g_signal_connect (connection, "connected", G_CALLBACK (on_connected), NULL);
	g_assert_true (nf_connection_open (connection, &error));
	g_assert_no_error (error);

	g_test_add_func ("/rng-race/parallel-defines-on-fresh-libvirtd",
			 test_parallel_defines_on_fresh_libvirtd);
	rc = g_test_run ();

	nf_test_cleanup_leftovers (PREFIX, NULL);
	nf_connection_close (connection);
	g_clear_object (&connection);
	nf_test_lock_release ();
	return rc;
}
