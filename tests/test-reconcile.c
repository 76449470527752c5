/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-reconcile"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/xattr.h>

#include "nestfarm/nf-storage.h"
#include "nestfarm/nf-template.h"
#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* nestfarmd keeps true to libvirt: lifecycle events, a lost state file,
 * orphan overlays, cancelled and queued jobs, SIGTERM in the middle of a
 * job. Real daemon, bus, libvirtd, QEMU and Open vSwitch. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define JOB_IFACE  "org.nestfarm.Farm1.Job"

static NfTestDaemon *daemon_;

/* A guest that powers itself off is 'stopped', without any call to
 * nestfarm: the lifecycle event does it. */
static void
test_events (void)
{
	const gchar *node = ROOT "/node/revent_2d1";
	g_autofree gchar *log = NULL;
	g_autofree gchar *out = NULL;

	nf_test_create_pool (daemon_, "revent", 1, NULL);
	log = nf_test_prop_string (daemon_, node, NODE_IFACE, "ConsoleLog");
	nf_test_wait_for_log_line (log, "NESTFARM-READY", 120);
	out = nf_test_run ("virsh", "-c", "qemu:///system", "shutdown", "revent-1", "--mode", "acpi", NULL);
	g_assert_nonnull (out);
	nf_test_wait_prop (daemon_, node, NODE_IFACE, "State", "stopped", 60);
	nf_test_wait_prop (daemon_, ROOT "/pool/revent", POOL_IFACE, "State", "stopped", 10);
	g_free (out);
	out = nf_test_run ("virsh", "-c", "qemu:///system", "start", "revent-1", NULL);
	g_assert_nonnull (out);
	nf_test_wait_prop (daemon_, node, NODE_IFACE, "State", "running", 30);
	nf_test_wait_prop (daemon_, ROOT "/pool/revent", POOL_IFACE, "State", "ready", 10);
	g_free (out);
	out = nf_test_run ("virsh", "-c", "qemu:///system", "suspend", "revent-1", NULL);
	g_assert_nonnull (out);
	nf_test_wait_prop (daemon_, node, NODE_IFACE, "State", "paused", 30);
	g_free (out);
	out = nf_test_run ("virsh", "-c", "qemu:///system", "destroy", "revent-1", NULL);
	g_assert_nonnull (out);
	nf_test_wait_prop (daemon_, node, NODE_IFACE, "State", "stopped", 30);
	nf_test_delete_pool (daemon_, "revent", TRUE);
}

/* The state file is gone: the pool comes back from its nodes' metadata. */
static void
test_lost_state_file (void)
{
	g_autofree gchar *state_file = g_build_filename (daemon_->state_dir, "pools.json", NULL);
	g_autofree gchar *vlans = NULL;
	g_autoptr (GVariant) count = NULL;
	g_autoptr (GVariant) memory = NULL;

	nf_test_create_pool (daemon_, "rlost", 2, "'start': <false>");
	nf_test_daemon_stop (daemon_);
	g_assert_cmpint (g_unlink (state_file), ==, 0);
	nf_test_daemon_start (daemon_);
	g_assert_true (nf_test_object_exists (daemon_, ROOT "/pool/rlost"));
	g_assert_true (nf_test_object_exists (daemon_, ROOT "/node/rlost_2d1"));
	g_assert_true (nf_test_object_exists (daemon_, ROOT "/node/rlost_2d2"));
	count = nf_test_get_property (daemon_, ROOT "/pool/rlost", POOL_IFACE, "Count");
	g_assert_cmpuint (g_variant_get_uint32 (count), ==, 2);
	memory = nf_test_get_property (daemon_, ROOT "/pool/rlost", POOL_IFACE, "MemoryMiB");
	g_assert_cmpuint (g_variant_get_uint32 (memory), ==, 256);
	vlans = nf_test_prop_string (daemon_, ROOT "/pool/rlost", POOL_IFACE, "Vlans");
	g_assert_cmpstr (vlans, ==, "all");
	/* and written down again */
	g_assert_true (g_file_test (state_file, G_FILE_TEST_EXISTS));
	nf_test_delete_pool (daemon_, "rlost", TRUE);
}

/* The XML of @name as libvirt keeps it, or NULL. */
static gchar *
inactive_xml (const gchar *name)
{
	return nf_test_run ("virsh", "-q", "-c", "qemu:///system", "dumpxml", "--inactive", name, NULL);
}

/* Another nestfarmd's node on the same libvirt (the default instance: an
 * installed daemon's, while a test daemon runs) is not this one's: after a
 * restart with the state file lost it is not adopted, it cannot be
 * deleted through this daemon, its name is not taken over, and it is left
 * exactly as it was. */
static void
test_other_instance (void)
{
	g_autofree gchar *state_file = g_build_filename (daemon_->state_dir, "pools.json", NULL);
	g_autofree gchar *file = g_build_filename (daemon_->dir, "other.xml", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) profile = nf_profile_load (g_getenv ("NF_TEMPLATE_DIR"), "kvm-compute", &error);
	g_autoptr (NfNodeSpec) spec = nf_node_spec_new ();
	NfHostInfo host = {.vendor = NF_CPU_VENDOR_INTEL, .accel = NF_ACCEL_EMULATED, .feature = "svm"};
	g_autofree gchar *rendered = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *job = NULL;
	g_auto (GStrv) halves = NULL;

	g_assert_no_error (error);
	spec->pool = g_strdup ("rother");
	spec->index = 1;
	spec->image = nf_test_require_image ();
	spec->overlay = g_strdup ("/var/lib/nestfarm/images/rother-1.qcow2");
	spec->trunk_bridge = g_strdup ("nftrunk0");
	spec->console_log = g_strdup ("/var/log/nestfarm/console/rother-1.log");
	rendered = nf_profile_render_domain (profile, spec, &host, &error);
	g_assert_no_error (error);
	/* marked so that the harness removes it if this test fails */
	halves = g_strsplit (rendered, "</name>", 2);
	xml = g_strconcat (halves[0],
			   "</name><description>" NF_TEST_LOOKALIKE "</description>",
			   halves[1],
			   NULL);
	g_assert_true (g_file_set_contents (file, xml, -1, NULL));
	nf_test_assert_command_ok ("virsh", "-q", "-c", "qemu:///system", "define", file, NULL);
	before = inactive_xml ("rother-1");
	g_assert_nonnull (before);

	nf_test_daemon_stop (daemon_);
	g_unlink (state_file);
	nf_test_daemon_start (daemon_);
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/pool/rother"));
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/node/rother_2d1"));
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "DeletePool",
			    "('rother', {'force': <true>})",
			    "org.nestfarm.Farm1.Error.NotFound");
	job = nf_test_create_pool_job (daemon_, "rother", 1, NULL);
	state = nf_test_wait_job (daemon_, job, 300, &message);
	g_test_message ("a create over the other instance's node: %s: %s", state, message);
	g_assert_cmpstr (state, ==, "failed");
	g_assert_nonnull (strstr (message, "rother-1"));

	after = inactive_xml ("rother-1");
	g_assert_cmpstr (after, ==, before);
	out = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "undefine", "rother-1", NULL);
	g_assert_nonnull (out);
}

/* An overlay nestfarm made whose domain never came (a crash between the
 * two steps) is removed at start; files without the tag are not. */
static void
test_orphan_overlays (void)
{
	g_autofree gchar *orphan = g_build_filename (daemon_->storage_dir, "rorphan-1.qcow2", NULL);
	g_autofree gchar *foreign = g_build_filename (daemon_->storage_dir, "rorphan-2.qcow2", NULL);
	g_autofree gchar *out = NULL;

	out = nf_test_run ("qemu-img", "create", "-q", "-f", "qcow2", orphan, "16M", NULL);
	g_assert_nonnull (out);
	g_assert_cmpint (setxattr (orphan, NF_OVERLAY_XATTR, "rorphan-1", strlen ("rorphan-1"), 0), ==, 0);
	g_free (out);
	out = nf_test_run ("qemu-img", "create", "-q", "-f", "qcow2", foreign, "16M", NULL);
	g_assert_nonnull (out);
	nf_test_daemon_kill (daemon_);
	nf_test_daemon_start (daemon_);
	g_assert_false (g_file_test (orphan, G_FILE_TEST_EXISTS));
	g_assert_true (g_file_test (foreign, G_FILE_TEST_EXISTS));
	g_assert_cmpint (g_unlink (foreign), ==, 0);
}

/* Cancel stops a create and removes what it made. */
static void
test_cancel (void)
{
	g_autofree gchar *job = nf_test_create_pool_job (daemon_, "rcancel", 4, NULL);
	g_autoptr (GVariant) none = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *domains = NULL;

	none = nf_test_call_ok (daemon_, job, JOB_IFACE, "Cancel", NULL);
	state = nf_test_wait_job (daemon_, job, 300, &message);
	g_test_message ("cancelled job: %s", message);
	g_assert_cmpstr (state, ==, "cancelled");
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/pool/rcancel"));
	domains = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name", NULL);
	g_assert_null (strstr (domains, "rcancel-"));
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
}

/* A second operation on a busy pool waits behind the first. */
static void
test_queue (void)
{
	/* the create is asked first, then the scale */
	g_autofree gchar *create_job = nf_test_create_pool_job (daemon_, "rqueue", 2, "'start': <false>");
	g_autoptr (GVariant) scale =
		nf_test_call_ok (daemon_, ROOT "/pool/rqueue", POOL_IFACE, "Scale", "(uint32 3,)");
	g_autofree gchar *scale_job = nf_test_reply_job (scale);
	g_autofree gchar *s1 = NULL;
	g_autofree gchar *s2 = NULL;
	g_autoptr (GVariant) nodes = NULL;

	s1 = nf_test_wait_job (daemon_, create_job, 300, NULL);
	s2 = nf_test_wait_job (daemon_, scale_job, 300, NULL);
	g_assert_cmpstr (s1, ==, "succeeded");
	g_assert_cmpstr (s2, ==, "succeeded");
	nodes = nf_test_get_property (daemon_, ROOT "/pool/rqueue", POOL_IFACE, "Nodes");
	g_assert_cmpuint (g_variant_n_children (nodes), ==, 3);
	nf_test_delete_pool (daemon_, "rqueue", TRUE);
}

/* SIGTERM while a create runs: it rolls back, the daemon exits 0, and
 * nothing is left. */
static void
test_sigterm_during_job (void)
{
	g_autofree gchar *domains = NULL;

	/* the create is under way, not waited for */
	g_free (nf_test_create_pool_job (daemon_, "rterm", 3, NULL));
	nf_test_daemon_stop (daemon_);
	domains = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name", NULL);
	g_assert_null (strstr (domains, "rterm-"));
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
	nf_test_daemon_start (daemon_);
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/pool/rterm"));
}

int
main (int argc, char **argv)
{
	const gchar *const pools[] =
		{"revent", "rlost", "rother", "rorphan", "rcancel", "rqueue", "rterm", NULL};
	int rc;

	g_test_init (&argc, &argv, NULL);
	daemon_ = nf_test_daemon_new ("reconcile", "ShutdownTimeout=30\n");
	nf_test_daemon_start (daemon_);
	g_test_add_func ("/reconcile/events", test_events);
	g_test_add_func ("/reconcile/lost-state-file", test_lost_state_file);
	g_test_add_func ("/reconcile/other-instance", test_other_instance);
	g_test_add_func ("/reconcile/orphan-overlays", test_orphan_overlays);
	g_test_add_func ("/reconcile/cancel", test_cancel);
	g_test_add_func ("/reconcile/queue", test_queue);
	g_test_add_func ("/reconcile/sigterm-during-job", test_sigterm_during_job);
	rc = g_test_run ();
	nf_test_daemon_free (daemon_, pools);
	return rc;
}
