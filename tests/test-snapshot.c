/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-snapshot"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* Pool snapshots on the real services, with the tiny image's nodes (TCG):
 * what the D-Bus API refuses and why, a memory snapshot that a revert
 * resumes without a reboot, one without memory that boots the nodes from
 * the snapshot's disks, a revert that removes the nodes made since, and a
 * delete whose space the next snapshot reuses, snapshots across restarts
 * and a lost state file. The guest's own view (a file and a running
 * process back after a revert, over SSH) is tests/test-cloud.c's. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define JOB_IFACE  "org.nestfarm.Farm1.Job"
#define ERROR_NAME "org.nestfarm.Farm1.Error."
#define READY      "NESTFARM-READY"

static NfTestDaemon *daemon_;

static const gchar *const pools[] = {"sna", "snb", "snc", "snd", NULL};

static void
delete_pool (const gchar *pool)
{
	nf_test_delete_pool (daemon_, pool, TRUE);
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
}

/* A pool method that answers a job; the job must succeed. */
static void
pool_job (const gchar *pool, const gchar *method, const gchar *args)
{
	g_autofree gchar *path = nf_test_pool_path (pool);
	g_autoptr (GVariant) reply = nf_test_call_ok (daemon_, path, POOL_IFACE, method, args);

	nf_test_job_succeeds (daemon_, reply, 300);
}

static void
snapshot (const gchar *pool, const gchar *name, gboolean memory)
{
	g_autofree gchar *args =
		g_strdup_printf ("('%s', {'memory': <%s>})", name, memory ? "true" : "false");

	pool_job (pool, "Snapshot", args);
}

static void
revert (const gchar *pool, const gchar *name)
{
	g_autofree gchar *args = g_strdup_printf ("('%s', @a{sv} {})", name);

	pool_job (pool, "RevertSnapshot", args);
}

static void
delete_snapshot (const gchar *pool, const gchar *name)
{
	g_autofree gchar *args = g_strdup_printf ("('%s',)", name);

	pool_job (pool, "DeleteSnapshot", args);
}

/* The pool's Snapshots property. */
static GVariant *
snapshots (const gchar *pool)
{
	g_autofree gchar *path = nf_test_pool_path (pool);

	return nf_test_get_property (daemon_, path, POOL_IFACE, "Snapshots");
}

/* The domain snapshots libvirt lists for node @pool-@index. */
static gchar *
domain_snapshots (const gchar *pool, guint index)
{
	g_autofree gchar *name = g_strdup_printf ("%s-%u", pool, index);
	gchar *out =
		nf_test_run ("virsh", "-q", "-c", "qemu:///system", "snapshot-list", "--name", name, NULL);

	g_assert_nonnull (out);
	return g_strstrip (out);
}

static gchar *
domain_state (const gchar *pool, guint index)
{
	g_autofree gchar *name = g_strdup_printf ("%s-%u", pool, index);
	gchar *out = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domstate", name, NULL);

	g_assert_nonnull (out);
	return g_strstrip (out);
}

/* How many times node @pool-@index has booted, from its console. */
static guint
boots (const gchar *pool, guint index)
{
	g_autofree gchar *path = nf_test_node_path (pool, index);
	g_autofree gchar *log = nf_test_prop_string (daemon_, path, NODE_IFACE, "ConsoleLog");

	return nf_test_log_count (log, READY);
}

static void
wait_booted (const gchar *pool, guint index, guint count)
{
	g_autofree gchar *path = nf_test_node_path (pool, index);
	g_autofree gchar *log = nf_test_prop_string (daemon_, path, NODE_IFACE, "ConsoleLog");

	nf_test_wait_for_log_count (log, READY, count, 120);
}

static guint64
overlay_bytes (const gchar *pool, guint index)
{
	g_autofree gchar *path = nf_test_node_path (pool, index);
	g_autofree gchar *overlay = nf_test_prop_string (daemon_, path, NODE_IFACE, "Overlay");
	GStatBuf st;

	g_assert_cmpint (g_stat (overlay, &st), ==, 0);
	return (guint64) st.st_blocks * 512;
}

static void
test_refusals (void)
{
	g_autofree gchar *path = nf_test_pool_path ("sna");
	g_autofree gchar *node = nf_test_node_path ("sna", 2);
	g_autoptr (GVariant) list = NULL;

	nf_test_create_pool (daemon_, "sna", 2, "'start': <false>");
	nf_test_call_fails (daemon_,
			    path,
			    POOL_IFACE,
			    "Snapshot",
			    "('Bad_Name', @a{sv} {})",
			    ERROR_NAME "InvalidArgument");
	nf_test_call_fails (daemon_,
			    path,
			    POOL_IFACE,
			    "Snapshot",
			    "('x-', @a{sv} {})",
			    ERROR_NAME "InvalidArgument");
	nf_test_call_fails (daemon_,
			    path,
			    POOL_IFACE,
			    "Snapshot",
			    "('ok', {'memory': <'yes'>})",
			    ERROR_NAME "InvalidArgument");
	nf_test_call_fails (daemon_,
			    path,
			    POOL_IFACE,
			    "Snapshot",
			    "('ok', {'colour': <true>})",
			    ERROR_NAME "InvalidArgument");
	nf_test_call_fails (daemon_,
			    path,
			    POOL_IFACE,
			    "RevertSnapshot",
			    "('none', @a{sv} {})",
			    ERROR_NAME "NotFound");
	nf_test_call_fails (daemon_, path, POOL_IFACE, "DeleteSnapshot", "('none',)", ERROR_NAME "NotFound");
	list = snapshots ("sna");
	g_assert_cmpuint (g_variant_n_children (list), ==, 0);
	g_clear_pointer (&list, g_variant_unref);

	/* stopped nodes: their disks, no memory */
	snapshot ("sna", "base", TRUE);
	list = snapshots ("sna");
	g_assert_cmpuint (g_variant_n_children (list), ==, 1);
	{
		const gchar *name = NULL;
		guint64 created = 0, size = 0;
		gboolean memory = TRUE;

		g_variant_get_child (list, 0, "(&sttb)", &name, &created, &size, &memory);
		g_assert_cmpstr (name, ==, "base");
		g_assert_cmpuint (created, <=, (guint64) (g_get_real_time () / G_USEC_PER_SEC));
		g_assert_cmpuint (created, >, (guint64) (g_get_real_time () / G_USEC_PER_SEC) - 600);
		g_assert_false (memory);
	}
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *names = domain_snapshots ("sna", i);

		g_assert_cmpstr (names, ==, "base");
	}

	nf_test_call_fails (daemon_,
			    path,
			    POOL_IFACE,
			    "RevertSnapshot",
			    "('base', {'paused': <true>})",
			    ERROR_NAME "InvalidArgument");
	/* the name exists; a node the snapshot holds cannot be reset (its
	 * overlay, which keeps the snapshot, would go) */
	nf_test_call_fails (daemon_, path, POOL_IFACE, "Snapshot", "('base', @a{sv} {})", ERROR_NAME "Exists");
	nf_test_call_fails (daemon_, node, NODE_IFACE, "Reset", NULL, ERROR_NAME "InvalidArgument");
	g_assert_cmpuint (nf_test_domains_named ("sna-"), ==, 2);

	/* but it can leave the pool: kept, retired, until the pool goes */
	pool_job ("sna", "Scale", "(uint32 1,)");
	g_assert_false (nf_test_object_exists (daemon_, node));
	g_assert_cmpuint (nf_test_domains_named ("sna-"), ==, 2);
	delete_pool ("sna");
}

static guint
pool_count (const gchar *pool)
{
	g_autofree gchar *path = nf_test_pool_path (pool);
	g_autoptr (GVariant) count = nf_test_get_property (daemon_, path, POOL_IFACE, "Count");

	return g_variant_get_uint32 (count);
}

static gchar *
node_macs (const gchar *pool, guint index)
{
	g_autofree gchar *path = nf_test_node_path (pool, index);
	g_autoptr (GVariant) macs = nf_test_get_property (daemon_, path, NODE_IFACE, "MACs");

	return g_variant_print (macs, FALSE);
}

static void
assert_nodes (const gchar *pool, const guint *present, guint n, guint highest)
{
	for (guint index = 1; index <= highest; index++) {
		g_autofree gchar *path = nf_test_node_path (pool, index);
		gboolean want = FALSE;

		for (guint i = 0; i < n; i++)
			want = want || present[i] == index;
		g_assert_cmpint (nf_test_object_exists (daemon_, path), ==, want);
	}
	g_assert_cmpuint (pool_count (pool), ==, n);
}

/* Nodes that left the pool since a snapshot are made again by its revert,
 * as they were (running on, same names and MACs); while no revert needs
 * them they are out of the pool, and a scale-up passes their names by;
 * once no snapshot holds them they are gone. */
static void
test_removed_nodes (void)
{
	g_autofree gchar *macs3 = NULL;
	g_autofree gchar *again3 = NULL;
	g_autofree gchar *names = NULL;

	nf_test_create_pool (daemon_, "snd", 3, NULL);
	for (guint i = 1; i <= 3; i++)
		wait_booted ("snd", i, 1);
	macs3 = node_macs ("snd", 3);
	snapshot ("snd", "three", TRUE);

	pool_job ("snd", "Scale", "(uint32 1,)");
	assert_nodes ("snd", (guint[]){1}, 1, 3);
	g_assert_cmpuint (nf_test_domains_named ("snd-"), ==, 3);
	g_assert_cmpuint (nf_test_active_domains_named ("snd-"), ==, 1);
	names = domain_snapshots ("snd", 3);
	g_assert_cmpstr (names, ==, "three");
	snapshot ("snd", "one", TRUE);

	/* 2 and 3 keep their names for a revert: a new node is 4 */
	pool_job ("snd", "Scale", "(uint32 2,)");
	assert_nodes ("snd", (guint[]){1, 4}, 2, 4);
	/* what is retired is read back from libvirt */
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_start (daemon_);
	assert_nodes ("snd", (guint[]){1, 4}, 2, 4);

	revert ("snd", "three");
	assert_nodes ("snd", (guint[]){1, 2, 3}, 3, 4);
	g_assert_cmpuint (nf_test_domains_named ("snd-"), ==, 3);
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *state = domain_state ("snd", i);

		g_assert_cmpstr (state, ==, "running");
		g_assert_cmpuint (boots ("snd", i), ==, 1);
	}
	again3 = node_macs ("snd", 3);
	g_assert_cmpstr (again3, ==, macs3);
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "snd", 0), ==, 3);

	/* to the other snapshot: 2 and 3, which "three" holds, retire again */
	revert ("snd", "one");
	assert_nodes ("snd", (guint[]){1}, 1, 4);
	g_assert_cmpuint (nf_test_domains_named ("snd-"), ==, 3);
	g_assert_cmpuint (nf_test_active_domains_named ("snd-"), ==, 1);
	/* and once no snapshot holds them, they are gone */
	delete_snapshot ("snd", "three");
	g_assert_cmpuint (nf_test_domains_named ("snd-"), ==, 1);
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "snd", 0), ==, 1);
	delete_pool ("snd");
}

/* A memory snapshot of running nodes: after a revert they run on from
 * that moment, without booting again. */
static void
test_memory (void)
{
	g_autoptr (GVariant) list = NULL;
	guint64 before[3] = {0}, size = 0, grown, after_delete;
	gboolean memory = FALSE;

	nf_test_create_pool (daemon_, "snb", 2, NULL);
	for (guint i = 1; i <= 2; i++) {
		wait_booted ("snb", i, 1);
		before[i] = overlay_bytes ("snb", i);
	}
	snapshot ("snb", "booted", TRUE);
	list = snapshots ("snb");
	g_variant_get_child (list, 0, "(&sttb)", NULL, NULL, &size, &memory);
	g_assert_true (memory);
	/* the saved running state is on disk, in the overlays */
	g_assert_cmpuint (size, >, 1024 * 1024);
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *state = domain_state ("snb", i);

		g_assert_cmpstr (state, ==, "running");
		g_assert_cmpuint (overlay_bytes ("snb", i), >, before[i]);
	}

	/* a node made since goes with the revert */
	pool_job ("snb", "Scale", "(uint32 3,)");
	g_assert_cmpuint (nf_test_domains_named ("snb-"), ==, 3);
	revert ("snb", "booted");
	g_assert_cmpuint (nf_test_domains_named ("snb-"), ==, 2);
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *state = domain_state ("snb", i);

		g_assert_cmpstr (state, ==, "running");
		g_assert_cmpuint (boots ("snb", i), ==, 1);
	}
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "snb", 0), ==, 2);

	/* delete frees the space the saved state took inside the overlays:
	 * the next snapshot reuses it (QEMU 7.2 gives none back to the host's
	 * file system) */
	grown = overlay_bytes ("snb", 1) - before[1];
	g_assert_cmpuint (grown, >, 1024 * 1024);
	delete_snapshot ("snb", "booted");
	g_clear_pointer (&list, g_variant_unref);
	list = snapshots ("snb");
	g_assert_cmpuint (g_variant_n_children (list), ==, 0);
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *names = domain_snapshots ("snb", i);

		g_assert_cmpstr (names, ==, "");
	}
	after_delete = overlay_bytes ("snb", 1);
	snapshot ("snb", "again", TRUE);
	g_assert_cmpuint (overlay_bytes ("snb", 1), <, after_delete + grown / 2);
	delete_pool ("snb");
}

/* Without memory, a revert boots the nodes that ran from the snapshot's
 * disks; the snapshots survive a restart of the daemon. */
static void
test_no_memory (void)
{
	g_autoptr (GVariant) list = NULL;
	gboolean memory = TRUE;

	g_autofree gchar *state_file = g_build_filename (daemon_->state_dir, "pools.json", NULL);
	guint64 created = 0, created_again = 0;
	const gchar *name = NULL;

	nf_test_create_pool (daemon_, "snc", 1, NULL);
	wait_booted ("snc", 1, 1);
	snapshot ("snc", "disk", FALSE);
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_start (daemon_);
	list = snapshots ("snc");
	g_assert_cmpuint (g_variant_n_children (list), ==, 1);
	g_variant_get_child (list, 0, "(&sttb)", NULL, &created, NULL, &memory);
	g_assert_false (memory);

	/* the state file lost: the pool and its snapshot come back from
	 * libvirt (the time and the memory flag too; the size is not known) */
	nf_test_daemon_stop (daemon_);
	g_assert_cmpint (g_unlink (state_file), ==, 0);
	nf_test_daemon_start (daemon_);
	g_clear_pointer (&list, g_variant_unref);
	list = snapshots ("snc");
	g_assert_cmpuint (g_variant_n_children (list), ==, 1);
	memory = TRUE;
	g_variant_get_child (list, 0, "(&sttb)", &name, &created_again, NULL, &memory);
	g_assert_cmpstr (name, ==, "disk");
	g_assert_cmpuint (created_again, ==, created);
	g_assert_false (memory);
	revert ("snc", "disk");
	wait_booted ("snc", 1, 2);
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "snc", 0), ==, 1);
	/* deleting the pool deletes its snapshots with the overlays */
	delete_pool ("snc");
}

/* Neither a sanitizer build nor nestfarmd under valgrind. */
static gboolean
default_setup (void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return FALSE;
#else
	const gchar *wrapper = g_getenv ("NF_DAEMON_WRAPPER");

	return wrapper == NULL || wrapper[0] == '\0';
#endif
}

int
main (int argc, char **argv)
{
	int rc;

	g_test_init (&argc, &argv, NULL);
	daemon_ = nf_test_daemon_new ("snapshot", NULL);
	nf_test_daemon_start (daemon_);
	g_test_add_func ("/snapshot/refusals", test_refusals);
	g_test_add_func ("/snapshot/memory", test_memory);
	g_test_add_func ("/snapshot/no-memory", test_no_memory);
	/* Three guests booted, a restart and two reverts: real guests run
	 * once, in the default setup; under a sanitizer or valgrind they would
	 * only be slower (the crash test's retire case runs there, and walks
	 * the same retire and reconcile code). */
	if (default_setup ())
		g_test_add_func ("/snapshot/removed-nodes", test_removed_nodes);
	rc = g_test_run ();
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_free (daemon_, pools);
	return rc;
}
