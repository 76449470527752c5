/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-faults"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/mount.h>

#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* Faults from outside the daemon, on the real services: libvirtd restarted
 * while idle and in the middle of a create, Open vSwitch restarted under
 * running nodes and down during a create, the image storage and the state
 * directory full, and the bound on queued operations (behind the stop of a
 * guest that ignores the ACPI power button). After
 * each, the daemon must agree with libvirt, the disk and OVS
 * (nf_test_assert_consistent), and go on working. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define JOB_IFACE  "org.nestfarm.Farm1.Job"
#define ERROR_NAME "org.nestfarm.Farm1.Error."

static NfTestDaemon *daemon_;

static const gchar *const pools[] =
	{"fla", "flb", "flbus", "flc", "flo", "fls", "flp", "flq", "fds", "fdt", "fsd", NULL};

static void
services (const gchar *verb, const gchar *service)
{
	g_autofree gchar *script = g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "tools", "services", NULL);

	nf_test_assert_command_ok ("bash", script, verb, service, NULL);
}

/* Restarts libvirtd and waits until the daemon has reconnected and read
 * libvirt's state again (its log says so). */
static void
restart_libvirtd (void)
{
	static guint restarts;

	services ("restart", "libvirtd");
	restarts++;
	nf_test_wait_for_log_count (daemon_->log, "reconciled with libvirt after reconnecting", restarts, 90);
}

/* The job's ErrorName, after it failed. */
static gchar *
job_fails (NfTestDaemon *d, const gchar *job, gchar **message)
{
	g_autofree gchar *state = nf_test_wait_job (d, job, 300, message);

	g_test_message ("job %s %s: %s", job, state, *message);
	g_assert_cmpstr (state, ==, "failed");
	return nf_test_prop_string (d, job, JOB_IFACE, "ErrorName");
}

static guint
ports_of (NfTestDaemon *d, const gchar *pool)
{
	g_autoptr (GHashTable) ports = nf_test_bridge_port_domains (d);
	g_autofree gchar *prefix = g_strdup_printf ("%s-", pool);
	GHashTableIter iter;
	gpointer domain;
	guint n = 0;

	g_hash_table_iter_init (&iter, ports);
	while (g_hash_table_iter_next (&iter, NULL, &domain)) {
		if (domain != NULL && g_str_has_prefix (domain, prefix))
			n++;
	}
	return n;
}

/* Whether every port of @pool's nodes on the daemon's bridge is attached:
 * ovs-vswitchd gave its interface a port number. Ports of other domains
 * (a stale one of a machine's own pool, say) are not the test's. */
static gboolean
ports_attached (NfTestDaemon *d, const gchar *pool)
{
	g_autoptr (GHashTable) ports = nf_test_bridge_port_domains (d);
	g_autofree gchar *prefix = g_strdup_printf ("%s-", pool);
	GHashTableIter iter;
	gpointer port, domain;
	guint attached = 0;

	g_hash_table_iter_init (&iter, ports);
	while (g_hash_table_iter_next (&iter, &port, &domain)) {
		g_autofree gchar *ofport = NULL;

		if (domain == NULL || !g_str_has_prefix (domain, prefix))
			continue;
		ofport = nf_test_run ("ovs-vsctl", "--timeout=5", "get", "Interface", port, "ofport", NULL);
		if (ofport == NULL || g_ascii_strtoll (ofport, NULL, 10) <= 0)
			return FALSE;
		attached++;
	}
	return attached > 0;
}

static void
wait_node_state (NfTestDaemon *d, const gchar *pool, guint index, const gchar *want, guint timeout_s)
{
	g_autofree gchar *path = nf_test_node_path (pool, index);

	nf_test_wait_prop (d, path, NODE_IFACE, "State", want, timeout_s);
}

/* --- libvirtd restarts --- */

static void
wait_domain_running (const gchar *name, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

	for (;;) {
		g_autofree gchar *state = nf_test_run ("virsh",
						       "-q",
						       "-c",
						       "qemu:///system",
						       "domstate",
						       "--reason",
						       name,
						       NULL);

		g_autofree gchar *control =
			nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domcontrol", name, NULL);

		/* Listed running is not enough: a restarted libvirtd lists a
		 * domain from its status file while a thread of its own still
		 * reconnects to the QEMU monitor, holding the domain's job
		 * (domcontrol says "occupied"). A destroy in that window kills
		 * QEMU, the reconnect fails and stops the domain, and the
		 * destroy then answers "domain is not running". */
		if (state != NULL && g_str_has_prefix (g_strstrip (state), "running") && control != NULL &&
		    g_str_equal (g_strstrip (control), "ok"))
			return;
		if (g_get_monotonic_time () > deadline) {
			g_autofree gchar *qemu_log = g_strdup_printf ("/var/log/libvirt/qemu/%s.log", name);
			g_autofree gchar *tail = nf_test_run ("tail", "-n", "20", qemu_log, NULL);
			g_autofree gchar *libvirtd =
				nf_test_run ("tail", "-n", "20", "/var/log/libvirt/libvirtd.log", NULL);

			g_error ("%s is not running %u s after libvirtd restarted: %s (control: %s)\n%s:\n%s\nlibvirtd.log:\n%s",
				 name,
				 timeout_s,
				 state != NULL ? state : "(no state)",
				 control != NULL ? control : "(none)",
				 qemu_log,
				 tail != NULL ? tail : "",
				 libvirtd != NULL ? libvirtd : "");
		}
		g_usleep (200 * 1000);
	}
}

static void
test_libvirtd_idle (void)
{
	g_autofree gchar *node = nf_test_node_path ("fla", 1);
	g_autoptr (GVariant) reply = NULL;

	nf_test_create_pool (daemon_, "fla", 1, NULL);
	wait_node_state (daemon_, "fla", 1, "running", 60);

	restart_libvirtd ();
	/* libvirtd reattaches running guests in threads of its own after it
	 * answers: wait for that, or fail saying why the guest is not back. */
	wait_domain_running ("fla-1", 60);

	/* The daemon reconnects and listens again: a domain destroyed behind
	 * its back after the restart is seen as stopped, without polling. */
	nf_test_assert_command_ok ("virsh", "-q", "-c", "qemu:///system", "destroy", "fla-1", NULL);
	wait_node_state (daemon_, "fla", 1, "stopped", 90);

	/* and it is usable: the node starts again through it */
	reply = nf_test_call_ok (daemon_, node, NODE_IFACE, "Start", NULL);
	nf_test_job_succeeds (daemon_, reply, 120);
	wait_node_state (daemon_, "fla", 1, "running", 60);
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "fla", 0), ==, 1);
	nf_test_delete_pool (daemon_, "fla", TRUE);
}

static void
test_libvirtd_during_create (void)
{
	g_autofree gchar *job = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *path = nf_test_pool_path ("flb");
	gint64 deadline;
	guint reported;

	job = nf_test_create_pool_job (daemon_, "flb", 3, NULL);
	/* restart once the first node is there, while the others are made */
	deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
	while (nf_test_domains_named ("flb-") == 0 && g_get_monotonic_time () < deadline)
		g_usleep (20 * 1000);
	g_assert_cmpuint (nf_test_domains_named ("flb-"), >, 0);
	restart_libvirtd ();

	/* the job ends, one way or the other */
	state = nf_test_wait_job (daemon_, job, 300, &message);
	g_test_message ("create across a libvirtd restart: %s %s", state, message);
	g_assert_true (g_strcmp0 (state, "succeeded") == 0 || g_strcmp0 (state, "failed") == 0);

	/* and what the daemon reports is what libvirt has: all three, or
	 * nothing (a rollback that libvirt's absence interrupted is finished
	 * after the reconnect) */
	deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
	for (;;) {
		gboolean exists = nf_test_object_exists (daemon_, path);
		guint domains = nf_test_domains_named ("flb-");

		if ((exists && domains == 3) || (!exists && domains == 0))
			break;
		if (g_get_monotonic_time () > deadline)
			g_error ("after the job: pool %s, %u domains", exists ? "exists" : "gone", domains);
		g_usleep (200 * 1000);
	}
	reported = nf_test_assert_consistent (daemon_, "flb", 0);
	if (g_strcmp0 (state, "succeeded") == 0) {
		g_assert_cmpuint (reported, ==, 3);
		for (guint i = 1; i <= 3; i++)
			wait_node_state (daemon_, "flb", i, "running", 60);
	} else {
		g_assert_cmpuint (reported, ==, 0);
		nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
	}

	/* the daemon goes on working */
	nf_test_create_pool (daemon_, "flc", 1, "'start': <false>");
	nf_test_delete_pool (daemon_, "flc", TRUE);
	if (nf_test_object_exists (daemon_, path))
		nf_test_delete_pool (daemon_, "flb", TRUE);
}

/* --- the bus restarts --- */

/* dbus-daemon restarted (with polkitd) while a create runs: nestfarmd
 * stays the same process, takes its name back, shows its pools, nodes and
 * the running job again, the job ends as it would have, and polkit
 * authorizes calls again. */
static void
test_bus_restart_during_create (void)
{
	g_autofree gchar *job = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *path = nf_test_pool_path ("flbus");
	GPid pid = daemon_->pid;
	gint64 deadline;

	job = nf_test_create_pool_job (daemon_, "flbus", 2, NULL);
	deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
	while (nf_test_domains_named ("flbus-") == 0 && g_get_monotonic_time () < deadline)
		g_usleep (20 * 1000);
	g_assert_cmpuint (nf_test_domains_named ("flbus-"), >, 0);

	nf_test_private_bus_restart (daemon_);

	deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
	while (!nf_test_daemon_alive (daemon_)) {
		if (g_get_monotonic_time () > deadline)
			g_error ("nestfarmd did not take its name back within 30 s of the bus restart");
		g_usleep (100 * 1000);
	}
	g_assert_cmpint (daemon_->pid, ==, pid);
	g_assert_true (nf_test_daemon_alive (daemon_));
	g_assert_true (nf_test_object_exists (daemon_, job));
	g_assert_true (nf_test_object_exists (daemon_, path));
	state = nf_test_wait_job (daemon_, job, 300, &message);
	g_test_message ("create across a bus restart: %s %s", state, message);
	g_assert_cmpstr (state, ==, "succeeded");
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "flbus", 0), ==, 2);
	/* polkit is asked again: an authorized change goes through */
	nf_test_delete_pool (daemon_, "flbus", TRUE);
	nf_test_wait_for_log_count (daemon_->log, "back: org.nestfarm.Farm1", 1, 5);
}

/* --- Open vSwitch restarts --- */

static void
test_ovs_restart (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *path = nf_test_pool_path ("flo");
	gint64 deadline;

	nf_test_create_pool (daemon_, "flo", 2, NULL);
	g_assert_cmpuint (ports_of (daemon_, "flo"), ==, 2);

	services ("restart", "ovs");

	/* the ports are there and attached again */
	deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
	while (!(ports_of (daemon_, "flo") == 2 && ports_attached (daemon_, "flo")) &&
	       g_get_monotonic_time () < deadline)
		g_usleep (200 * 1000);
	g_assert_cmpuint (ports_of (daemon_, "flo"), ==, 2);
	g_assert_true (ports_attached (daemon_, "flo"));
	for (guint i = 1; i <= 2; i++)
		wait_node_state (daemon_, "flo", i, "running", 10);

	/* the daemon's own OVS connection recovers: a scale adds a port */
	reply = nf_test_call_ok (daemon_, path, POOL_IFACE, "Scale", "(uint32 3,)");
	nf_test_job_succeeds (daemon_, reply, 300);
	g_assert_cmpuint (ports_of (daemon_, "flo"), ==, 3);
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "flo", 0), ==, 3);
	nf_test_delete_pool (daemon_, "flo", TRUE);
	g_assert_cmpuint (ports_of (daemon_, "flo"), ==, 0);
}

/* Puts a port on the daemon's bridge as libvirt would for a domain's
 * interface, with no device behind it: what is left when QEMU went away
 * without libvirt seeing it. */
static void
add_stale_port (NfTestDaemon *d, const gchar *port, const gchar *vm_uuid)
{
	g_autofree gchar *ids = g_strdup_printf ("external_ids:vm-id=%s", vm_uuid);

	nf_test_assert_command_ok ("ovs-vsctl",
				   "--timeout=5",
				   "add-port",
				   d->bridge,
				   port,
				   "--",
				   "set",
				   "Interface",
				   port,
				   ids,
				   NULL);
}

static gboolean
port_exists (const gchar *port)
{
	g_autofree gchar *bridge = nf_test_run ("ovs-vsctl", "--timeout=5", "port-to-br", port, NULL);

	return bridge != NULL;
}

static gchar *
domain_uuid (const gchar *name)
{
	g_autofree gchar *out = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domuuid", name, NULL);

	g_assert_nonnull (out);
	return g_strdup (g_strstrip (out));
}

/* A port libvirt left on the trunk for a node that does not run is taken
 * off at the next reconcile (here: after a libvirtd restart) and when the
 * node is removed; a port of a domain nestfarm does not know stays. */
static void
test_stale_ports (void)
{
	g_autofree gchar *one = NULL;
	g_autofree gchar *two = NULL;
	g_autofree gchar *foreign = g_uuid_string_random ();

	nf_test_create_pool (daemon_, "fls", 2, "'start': <false>");
	one = domain_uuid ("fls-1");
	two = domain_uuid ("fls-2");
	add_stale_port (daemon_, "nfstale1", one);
	add_stale_port (daemon_, "nfstalex", foreign);
	restart_libvirtd ();
	g_assert_false (port_exists ("nfstale1"));
	g_assert_true (port_exists ("nfstalex"));

	nf_test_assert_command_ok ("ovs-vsctl", "--timeout=5", "del-port", daemon_->bridge, "nfstalex", NULL);

	add_stale_port (daemon_, "nfstale2", two);
	nf_test_delete_pool (daemon_, "fls", TRUE);
	g_assert_false (port_exists ("nfstale2"));
}

static void
test_ovs_down_create (void)
{
	g_autofree gchar *job = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *path = nf_test_pool_path ("flp");

	services ("stop", "ovs");
	job = nf_test_create_pool_job (daemon_, "flp", 2, NULL);
	name = job_fails (daemon_, job, &message);
	services ("start", "ovs");

	g_assert_cmpstr (name, ==, ERROR_NAME "OpenvSwitch");
	g_assert_nonnull (strstr (message, "Open vSwitch"));
	/* nothing left */
	g_assert_false (nf_test_object_exists (daemon_, path));
	g_assert_cmpuint (nf_test_domains_named ("flp-"), ==, 0);
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "flp", 0), ==, 0);
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);

	/* once OVS is back, the same create works */
	nf_test_create_pool (daemon_, "flp", 1, NULL);
	g_assert_cmpuint (ports_of (daemon_, "flp"), ==, 1);
	nf_test_delete_pool (daemon_, "flp", TRUE);
}

/* --- a guest that ignores the power button --- */

/* A client that queues without end is told Busy, and the queue drains. */
static void
test_queue_bound (void)
{
	g_autofree gchar *node = nf_test_node_path ("flq", 1);
	g_autofree gchar *path = nf_test_pool_path ("flq");
	g_autofree gchar *console = NULL;
	g_autoptr (GVariant) stop = NULL;
	g_autoptr (GPtrArray) jobs = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) refused = NULL;
	gint64 queued_at;

	nf_test_create_pool (daemon_, "flq", 1, "'profile': <'ignore-acpi'>");
	console = nf_test_prop_string (daemon_, node, NODE_IFACE, "ConsoleLog");
	nf_test_wait_for_log_line (console, "NESTFARM-READY hostname=flq-1", 180);

	/* a graceful stop the guest ignores holds the pool for 10 s (33 calls
	 * take under 2 s, under valgrind too) ... */
	stop = nf_test_call_ok (daemon_, path, POOL_IFACE, "Stop", "({'shutdown-timeout': <uint32 10>},)");
	/* ... while 32 operations queue behind it, and a 33rd is refused */
	queued_at = g_get_monotonic_time ();
	for (guint i = 0; i < 32; i++) {
		g_autoptr (GVariant) reply =
			nf_test_call_ok (daemon_, path, POOL_IFACE, "Scale", "(uint32 1,)");

		g_ptr_array_add (jobs, nf_test_reply_job (reply));
	}
	refused = nf_test_call (daemon_, path, POOL_IFACE, "Scale", g_variant_new ("(u)", 1), &error);
	g_assert_null (refused);
	g_assert_true (g_dbus_error_is_remote_error (error));
	{
		g_autofree gchar *name = g_dbus_error_get_remote_error (error);

		g_test_message ("33rd queued operation, %.1f s after the stop: %s",
				(gdouble) (g_get_monotonic_time () - queued_at) / G_USEC_PER_SEC,
				error->message);
		g_assert_cmpstr (name, ==, ERROR_NAME "Busy");
	}

	/* everything queued ends */
	nf_test_job_succeeds (daemon_, stop, 120);
	for (guint i = 0; i < jobs->len; i++) {
		g_autofree gchar *state = nf_test_wait_job (daemon_, g_ptr_array_index (jobs, i), 120, NULL);

		g_assert_cmpstr (state, ==, "succeeded");
	}
	nf_test_delete_pool (daemon_, "flq", TRUE);
}

/* --- full disks --- */

static void
mount_tmpfs (const gchar *dir, const gchar *size)
{
	g_autofree gchar *options = g_strdup_printf ("size=%s,mode=0755", size);

	g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
	if (mount ("tmpfs", dir, "tmpfs", 0, options) != 0)
		g_error ("mount tmpfs on %s: %s", dir, g_strerror (errno));
}

static void
unmount (const gchar *dir)
{
	if (umount2 (dir, MNT_DETACH) != 0)
		g_warning ("umount %s: %s", dir, g_strerror (errno));
}

/* Fills the file system of @dir up to the last byte. */
static gchar *
fill (const gchar *dir)
{
	g_autofree gchar *filler = g_build_filename (dir, "filler", NULL);
	g_autofree gchar *block = g_malloc0 (4096);
	FILE *f = fopen (filler, "w");
	gsize size = 4096;

	g_assert_nonnull (f);
	setvbuf (f, NULL, _IONBF, 0);
	/* big blocks, then single bytes, until nothing fits */
	while (size > 0) {
		if (fwrite (block, 1, size, f) != size) {
			clearerr (f);
			size /= 2;
		}
	}
	fclose (f);
	return g_steal_pointer (&filler);
}

static void
test_full_storage (void)
{
	NfTestDaemon *d;
	g_autofree gchar *filler = NULL;
	g_autofree gchar *job = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *name = NULL;

	nf_test_daemon_stop (daemon_);
	d = nf_test_daemon_new ("fdisk", NULL);
	mount_tmpfs (d->storage_dir, "8m");
	mount_tmpfs (d->state_dir, "256k");
	nf_test_daemon_start (d);

	/* images: an overlay that does not fit */
	filler = fill (d->storage_dir);
	job = nf_test_create_pool_job (d, "fdt", 2, "'start': <false>");
	name = job_fails (d, job, &message);
	g_assert_nonnull (strstr (message, "space"));
	g_assert_false (nf_test_object_exists (d, ROOT "/pool/fdt"));
	g_assert_cmpuint (nf_test_domains_named ("fdt-"), ==, 0);
	g_assert_cmpuint (nf_test_assert_consistent (d, "fdt", 0), ==, 0);
	nf_test_assert_dir_has_no_overlays (d->storage_dir);
	g_assert_cmpint (g_unlink (filler), ==, 0);
	g_clear_pointer (&filler, g_free);

	/* with room again, the same create works */
	nf_test_create_pool (d, "fdt", 1, "'start': <false>");
	nf_test_delete_pool (d, "fdt", TRUE);

	/* a snapshot whose saved memory (256 MiB) cannot fit in 8 MiB is
	 * refused before any node is paused, saying how much it needs */
	{
		g_autofree gchar *job3 = NULL;
		g_autofree gchar *message3 = NULL;
		g_autofree gchar *name3 = NULL;
		g_autofree gchar *path = nf_test_pool_path ("fdt");
		g_autofree gchar *snaps = NULL;
		g_autofree gchar *state = NULL;
		g_autoptr (GVariant) reply = NULL;
		g_autoptr (GVariant) list = NULL;

		nf_test_create_pool (d, "fdt", 1, NULL);
		reply = nf_test_call_ok (d, path, POOL_IFACE, "Snapshot", "('full', @a{sv} {})");
		job3 = nf_test_reply_job (reply);
		name3 = job_fails (d, job3, &message3);
		g_assert_cmpstr (name3, ==, ERROR_NAME "InsufficientResources");
		g_assert_nonnull (strstr (message3, "256 MiB needed"));
		list = nf_test_get_property (d, path, POOL_IFACE, "Snapshots");
		g_assert_cmpuint (g_variant_n_children (list), ==, 0);
		snaps = nf_test_run ("virsh",
				     "-q",
				     "-c",
				     "qemu:///system",
				     "snapshot-list",
				     "--name",
				     "fdt-1",
				     NULL);
		g_assert_cmpstr (g_strstrip (snaps), ==, "");
		state = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domstate", "fdt-1", NULL);
		g_assert_cmpstr (g_strstrip (state), ==, "running");
		nf_test_delete_pool (d, "fdt", TRUE);
	}

	/* the state file: a pool known, then the state directory full */
	{
		g_autofree gchar *state_file = g_build_filename (d->state_dir, "pools.json", NULL);
		g_autofree gchar *before = NULL;
		g_autofree gchar *after = NULL;
		g_autofree gchar *job2 = NULL;
		g_autofree gchar *message2 = NULL;
		g_autofree gchar *name2 = NULL;

		nf_test_create_pool (d, "fds", 1, "'start': <false>");
		g_assert_true (g_file_get_contents (state_file, &before, NULL, NULL));
		g_assert_nonnull (strstr (before, "\"fds\""));
		filler = fill (d->state_dir);

		job2 = nf_test_create_pool_job (d, "fdt", 1, "'start': <false>");
		name2 = job_fails (d, job2, &message2);
		g_assert_nonnull (strstr (message2, "space"));
		g_assert_nonnull (strstr (message2, d->state_dir));
		g_assert_cmpuint (nf_test_domains_named ("fdt-"), ==, 0);
		g_assert_false (nf_test_object_exists (d, ROOT "/pool/fdt"));

		/* the file is whole, and a crash now loses nothing */
		g_assert_true (g_file_get_contents (state_file, &after, NULL, NULL));
		g_assert_cmpstr (after, ==, before);
		nf_test_daemon_kill (d);
		nf_test_daemon_start (d);
		g_assert_true (nf_test_object_exists (d, ROOT "/pool/fds"));
		g_assert_cmpuint (nf_test_assert_consistent (d, "fds", 0), ==, 1);
		g_clear_pointer (&after, g_free);
		g_assert_true (g_file_get_contents (state_file, &after, NULL, NULL));
		g_assert_cmpstr (after, ==, before);

		g_assert_cmpint (g_unlink (filler), ==, 0);
		nf_test_delete_pool (d, "fds", TRUE);
	}
	nf_test_daemon_stop (d);
	unmount (d->storage_dir);
	unmount (d->state_dir);
	nf_test_daemon_free (d, pools);
	nf_test_daemon_start (daemon_);
}

/* --- a second nestfarmd --- */

/* A second nestfarmd started with the same configuration while the first
 * makes a pool (a unit started twice, a copy run by hand) refuses to run,
 * saying which one runs, before it touches libvirt: the first one's job
 * ends as if nothing had happened. (Without the lock it would reconcile
 * first: settle the running create's intent and sweep its half-made
 * overlays, and only then find the bus name taken.) */
static void
test_second_daemon (void)
{
	g_autofree gchar *binary =
		g_build_filename (g_getenv ("NF_BUILD_ROOT"), "src", "daemon", "nestfarmd", NULL);
	const gchar *argv[] = {binary, "--config", daemon_->config, NULL};
	g_autofree gchar *job = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *pid = g_strdup_printf ("(pid %d)", (gint) daemon_->pid);
	g_autoptr (GError) error = NULL;
	gint64 deadline;
	gint status;

	job = nf_test_create_pool_job (daemon_, "fsd", 4, "'start': <false>");
	deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
	while (nf_test_domains_named ("fsd-") == 0 && g_get_monotonic_time () < deadline)
		g_usleep (10 * 1000);
	g_assert_cmpuint (nf_test_domains_named ("fsd-"), >, 0);

	g_assert_true (g_spawn_sync (NULL,
				     (gchar **) argv,
				     NULL,
				     G_SPAWN_STDOUT_TO_DEV_NULL,
				     NULL,
				     NULL,
				     NULL,
				     &err,
				     &status,
				     &error));
	g_assert_no_error (error);
	g_test_message ("the second nestfarmd said: %s", err);
	g_assert_false (g_spawn_check_wait_status (status, NULL));
	g_assert_nonnull (strstr (err, "another nestfarmd"));
	g_assert_nonnull (strstr (err, pid));
	g_assert_nonnull (strstr (err, daemon_->state_dir));

	g_assert_true (nf_test_daemon_alive (daemon_));
	state = nf_test_wait_job (daemon_, job, 300, NULL);
	g_assert_cmpstr (state, ==, "succeeded");
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "fsd", 0), ==, 4);
	nf_test_delete_pool (daemon_, "fsd", TRUE);
}

int
main (int argc, char **argv)
{
	int rc;

	g_test_init (&argc, &argv, NULL);
	daemon_ = nf_test_daemon_new ("faults", NULL);
	nf_test_daemon_add_ignore_acpi (daemon_);
	nf_test_daemon_start (daemon_);

	g_test_add_func ("/faults/libvirtd/idle", test_libvirtd_idle);
	g_test_add_func ("/faults/libvirtd/during-create", test_libvirtd_during_create);
	g_test_add_func ("/faults/bus/restart-during-create", test_bus_restart_during_create);
	g_test_add_func ("/faults/ovs/restart", test_ovs_restart);
	g_test_add_func ("/faults/ovs/stale-ports", test_stale_ports);
	g_test_add_func ("/faults/ovs/down-during-create", test_ovs_down_create);
	g_test_add_func ("/faults/acpi/queue-bound", test_queue_bound);
	g_test_add_func ("/faults/disk/full", test_full_storage);
	g_test_add_func ("/faults/second-daemon", test_second_daemon);
	rc = g_test_run ();
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_free (daemon_, pools);
	return rc;
}
