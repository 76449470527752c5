/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-crash"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* Crash anywhere: nestfarmd kills itself (SIGKILL) at a fail point in the
 * middle of a create, scale, reset or delete, of a pool snapshot's take,
 * revert or delete, or in the middle of a rollback; it is started again and must report exactly what libvirt
 * has, with no overlay, seed, DHCP host entry, domain or port orphaned, and a following delete must leave
 * nothing. Needs a build with -Dfail_points=true (tools/test). */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define GONE       G_MAXUINT
/* The management network the daemon makes (isolated): every node gets a
 * DHCP host entry, which a crash must not orphan either. */
#define NET "nftest-cnet"

typedef struct {
	const gchar *point; /* where the daemon dies */
	const gchar *pool;
	guint prepare;     /* nodes made (not started) before the crash */
	const gchar *what; /* "create", "scale N", "reset", "delete", "snapshot",
			    * "revert" (to a snapshot of the prepared nodes,
			    * with one node made since), "delete-snapshot",
			    * "retire" (scale to one node fewer, past snapshot s1) */
	guint nodes_after; /* nodes the pool has after the restart; GONE: no pool */
	gboolean running;  /* the prepared nodes run (a snapshot pauses them) */
} Crash;

static const Crash crashes[] = {
	{"make:after-overlay", "ca", 0, "create", GONE},
	{"make:after-seed", "ck", 0, "create", GONE},
	{"make:after-address", "cl", 0, "create", GONE},
	{"make:after-define", "cb", 0, "create", GONE},
	{"make:after-start", "cc", 0, "create", GONE},
	{"make:after-define", "cd", 1, "scale 3", 1},
	{"reset:after-delete-overlay", "ce", 1, "reset", 1},
	{"reset:after-overlay", "cf", 1, "reset", 1},
	{"remove:after-destroy", "cg", 2, "delete", GONE},
	{"remove:after-undefine", "ch", 2, "delete", GONE},
	{"remove:after-undefine", "ci", 2, "scale 1", 1},
	/* mid-rollback: node 2's name is taken by a foreign domain, so the
	 * scale-up fails and rolls node 3 back, and dies in that removal */
	{"remove:after-undefine", "cj", 1, "scale 3", 1},
	/* a snapshot is whole or gone; a cut-short revert is done again */
	{"snapshot:after-take", "cm", 2, "snapshot", 2, TRUE},
	{"snapshot:after-take", "cn", 2, "snapshot", 2, FALSE},
	{"snapshot:after-revert", "co", 2, "revert", 2, TRUE},
	{"snapshot:after-delete", "cp", 2, "delete-snapshot", 2, FALSE},
	/* a scale down past a node snapshot s1 holds: it is retired (kept,
	 * out of the pool) whatever the moment */
	{"retire:after-destroy", "cq", 2, "retire", 1, FALSE},
};

static NfTestDaemon *daemon_;

static void
pool_job (const gchar *pool, const gchar *method, const gchar *args)
{
	g_autofree gchar *path = nf_test_pool_path (pool);
	g_autoptr (GVariant) reply = nf_test_call_ok (daemon_, path, POOL_IFACE, method, args);

	nf_test_job_succeeds (daemon_, reply, 300);
}

/* The snapshot cases: snapshot s1 of the prepared nodes, and for a revert
 * one node more made after it. */
static void
prepare_snapshot (const Crash *c)
{
	g_autofree gchar *scale = g_strdup_printf ("(uint32 %u,)", c->prepare + 1);

	if (g_strcmp0 (c->what, "revert") != 0 && g_strcmp0 (c->what, "delete-snapshot") != 0 &&
	    g_strcmp0 (c->what, "retire") != 0)
		return;
	pool_job (c->pool, "Snapshot", "('s1', @a{sv} {})");
	if (g_strcmp0 (c->what, "revert") == 0)
		pool_job (c->pool, "Scale", scale);
}

/* After the restart: the snapshot is whole (every node has it, the pool
 * lists it) or gone (none has it, the pool does not list it), and no node
 * is left paused. */
static void
assert_snapshot_settled (const Crash *c)
{
	g_autofree gchar *path = nf_test_pool_path (c->pool);
	g_autoptr (GVariant) list = NULL;
	gboolean whole = g_strcmp0 (c->what, "revert") == 0;

	if (!g_str_has_prefix (c->what, "snapshot") && g_strcmp0 (c->what, "revert") != 0 &&
	    g_strcmp0 (c->what, "delete-snapshot") != 0)
		return;
	list = nf_test_get_property (daemon_, path, POOL_IFACE, "Snapshots");
	g_assert_cmpuint (g_variant_n_children (list), ==, whole ? 1 : 0);
	for (guint i = 1; i <= c->nodes_after; i++) {
		g_autofree gchar *name = g_strdup_printf ("%s-%u", c->pool, i);
		g_autofree gchar *names = nf_test_run ("virsh",
						       "-q",
						       "-c",
						       "qemu:///system",
						       "snapshot-list",
						       "--name",
						       name,
						       NULL);
		g_autofree gchar *state =
			nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domstate", name, NULL);

		g_assert_nonnull (names);
		g_assert_cmpstr (g_strstrip (names), ==, whole ? "s1" : "");
		g_assert_nonnull (state);
		g_assert_cmpstr (g_strstrip (state), ==, c->running ? "running" : "shut off");
	}
}

/* Starts the operation; returns its job's path. */
static gchar *
trigger (const Crash *c)
{
	g_autofree gchar *pool_path = g_strdup_printf (ROOT "/pool/%s", c->pool);
	g_autoptr (GVariant) reply = NULL;
	guint count = 0;

	if (g_strcmp0 (c->what, "create") == 0) {
		g_autofree gchar *args =
			g_strdup_printf ("('%s', uint32 2, {" NF_TEST_SMALL_NODE "})", c->pool);

		reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "CreatePool", args);
	} else if (sscanf (c->what, "scale %u", &count) == 1) {
		g_autofree gchar *args = g_strdup_printf ("(uint32 %u,)", count);

		reply = nf_test_call_ok (daemon_, pool_path, POOL_IFACE, "Scale", args);
	} else if (g_strcmp0 (c->what, "snapshot") == 0) {
		reply = nf_test_call_ok (daemon_, pool_path, POOL_IFACE, "Snapshot", "('s1', @a{sv} {})");
	} else if (g_strcmp0 (c->what, "revert") == 0) {
		reply = nf_test_call_ok (daemon_,
					 pool_path,
					 POOL_IFACE,
					 "RevertSnapshot",
					 "('s1', @a{sv} {})");
	} else if (g_strcmp0 (c->what, "delete-snapshot") == 0) {
		reply = nf_test_call_ok (daemon_, pool_path, POOL_IFACE, "DeleteSnapshot", "('s1',)");
	} else if (g_strcmp0 (c->what, "retire") == 0) {
		g_autofree gchar *args = g_strdup_printf ("(uint32 %u,)", c->prepare - 1);

		reply = nf_test_call_ok (daemon_, pool_path, POOL_IFACE, "Scale", args);
	} else if (g_strcmp0 (c->what, "reset") == 0) {
		g_autofree gchar *node = g_strdup_printf (ROOT "/node/%s_2d1", c->pool);

		reply = nf_test_call_ok (daemon_, node, NODE_IFACE, "Reset", NULL);
	} else {
		reply = nf_test_call_ok (daemon_, pool_path, POOL_IFACE, "Delete", "({'force': <true>},)");
	}
	return nf_test_reply_job (reply);
}

/* TRUE when the daemon died at the fail point; FALSE when @job ended
 * first (then it can no longer reach it). */
static gboolean
died_before_job_ended (const gchar *job, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

	while (g_get_monotonic_time () < deadline) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GVariant) reply = NULL;
		g_autoptr (GVariant) state = NULL;

		if (nf_test_daemon_wait_death (daemon_, 1))
			return TRUE;
		reply = nf_test_call (daemon_,
				      job,
				      "org.freedesktop.DBus.Properties",
				      "Get",
				      g_variant_new ("(ss)", "org.nestfarm.Farm1.Job", "State"),
				      &error);
		if (reply == NULL)
			continue; /* dying: the next wait sees it */
		g_variant_get (reply, "(v)", &state);
		if (g_strcmp0 (g_variant_get_string (state, NULL), "running") != 0)
			return nf_test_daemon_wait_death (daemon_, 1);
	}
	g_error ("%s neither ended nor killed the daemon within %u s", job, timeout_s);
}

static void
test_crash (gconstpointer data)
{
	const Crash *c = data;
	g_autofree gchar *pool_path = g_strdup_printf (ROOT "/pool/%s", c->pool);
	g_autofree gchar *prefix = g_strdup_printf ("%s-", c->pool);
	g_autofree gchar *job = NULL;
	g_autofree gchar *net = NULL;
	g_autofree gchar *entries = NULL;
	gboolean died;
	guint reported;

	if (c->prepare > 0)
		nf_test_create_pool (daemon_, c->pool, c->prepare, c->running ? NULL : "'start': <false>");
	prepare_snapshot (c);
	if (g_strcmp0 (c->pool, "cj") == 0) {
		g_autofree gchar *xml = g_build_filename (daemon_->dir, "foreign.xml", NULL);
		g_autofree gchar *out = NULL;

		g_assert_true (
			g_file_set_contents (xml,
					     "<domain type='qemu'><name>cj-2</name><description>" NF_TEST_LOOKALIKE
					     "</description><memory unit='MiB'>64</memory>"
					     "<os><type arch='x86_64'>hvm</type></os></domain>",
					     -1,
					     NULL));
		out = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "define", xml, NULL);
		g_assert_nonnull (out);
	}

	/* Arm the fail point, then make the daemon walk into it. */
	nf_test_daemon_stop (daemon_);
	g_setenv ("NF_FAIL_POINT", c->point, TRUE);
	nf_test_daemon_start (daemon_);
	g_unsetenv ("NF_FAIL_POINT");
	job = trigger (c);
	died = died_before_job_ended (job, 120);
	g_test_message ("%s during %s: %s", c->point, c->what, died ? "crashed" : "did not reach it");
	if (g_strcmp0 (c->pool, "cj") != 0)
		g_assert_true (died);
	if (!died)
		nf_test_daemon_stop (daemon_);

	nf_test_daemon_start (daemon_);
	/* cj: the foreign domain; retire: the retired node, not reported */
	reported = nf_test_assert_consistent (daemon_,
					      c->pool,
					      g_strcmp0 (c->pool, "cj") == 0 ||
							      g_strcmp0 (c->what, "retire") == 0
						      ? 1
						      : 0);
	if (g_strcmp0 (c->what, "retire") == 0) {
		g_autofree gchar *name = g_strdup_printf ("%s-%u", c->pool, c->prepare);
		g_autofree gchar *state =
			nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domstate", name, NULL);

		g_assert_nonnull (state);
		g_assert_cmpstr (g_strstrip (state), ==, "shut off");
		g_assert_cmpuint (nf_test_domains_named (prefix), ==, c->prepare);
	}
	if (c->nodes_after == GONE)
		g_assert_false (nf_test_object_exists (daemon_, pool_path));
	g_assert_cmpuint (reported, ==, c->nodes_after == GONE ? 0 : c->nodes_after);
	assert_snapshot_settled (c);

	/* and a delete leaves nothing of nestfarm's */
	if (nf_test_object_exists (daemon_, pool_path)) {
		g_autoptr (GVariant) reply =
			nf_test_call_ok (daemon_, pool_path, POOL_IFACE, "Delete", "({'force': <true>},)");

		nf_test_job_succeeds (daemon_, reply, 300);
	}
	if (g_strcmp0 (c->pool, "cj") == 0) {
		g_assert_cmpuint (nf_test_domains_named ("cj-2"), ==, 1);
		g_free (nf_test_run ("virsh", "-q", "-c", "qemu:///system", "undefine", "cj-2", NULL));
	}
	g_assert_cmpuint (nf_test_domains_named (prefix), ==, 0);
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
	net = nf_test_network_xml (NET);
	g_assert_nonnull (net);
	entries = g_strdup_printf ("count(/network/ip/dhcp/host[starts-with(@name,'%s')])=0", prefix);
	g_assert_true (nf_test_xpath_bool (net, entries));
}

int
main (int argc, char **argv)
{
	const gchar *pools[G_N_ELEMENTS (crashes) + 1] = {NULL};
	int rc;

	g_test_init (&argc, &argv, NULL);
	for (guint i = 0; i < G_N_ELEMENTS (crashes); i++) {
		g_autofree gchar *name = g_strdup_printf ("/crash/%s/%s%s",
							  crashes[i].what,
							  crashes[i].point,
							  crashes[i].running ? "/running" : "");

		pools[i] = crashes[i].pool;
		g_strdelimit (name, " ", '-');
		g_test_add_data_func (name, &crashes[i], test_crash);
	}
	daemon_ = nf_test_daemon_new ("crash", "ManagementNetwork=" NET "\nManagementNetworkMode=isolated\n");
	nf_test_remove_network (NET);
	nf_test_daemon_start (daemon_);
	rc = g_test_run ();
	nf_test_daemon_free (daemon_, pools);
	nf_test_remove_network (NET);
	return rc;
}
