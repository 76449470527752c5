/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-daemon"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "nestfarm/nf-limits.h"
#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* nestfarmd over the real system bus, against real libvirtd, QEMU, Open
 * vSwitch and polkitd: a pool of emulated nodes made, scaled, stopped,
 * started, reset and deleted; hostile input; an unprivileged caller; a
 * crash in the middle of a create; admission control. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define POOL       "dtest"
#define POOL_PATH  ROOT "/pool/" POOL
#define NF_ERR     "org.nestfarm.Farm1.Error."
/* The management network the test daemon makes (isolated: no traffic
 * leaves the machine). */
#define NET "nftest-dnet"
/* A real ed25519 public key line (its private half is nowhere). */
#define KEY_AS_TEXT                                                                         \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKR06hbD7CvadRlB1Prpb/aAvCyL0qul5zw2mYzpzowY " \
	"fixture-ed25519"

static NfTestDaemon *daemon_;

static guint
pool_node_count (void)
{
	g_autoptr (GVariant) nodes = nf_test_get_property (daemon_, POOL_PATH, POOL_IFACE, "Nodes");

	return (guint) g_variant_n_children (nodes);
}

static void
test_properties (void)
{
	g_autofree gchar *accel = nf_test_prop_string (daemon_, ROOT, MANAGER, "Accelerator");
	g_autofree gchar *feature = nf_test_prop_string (daemon_, ROOT, MANAGER, "NestedFeature");
	g_autofree gchar *uri = nf_test_prop_string (daemon_, ROOT, MANAGER, "LibvirtURI");
	g_autoptr (GVariant) total = nf_test_get_property (daemon_, ROOT, MANAGER, "MemoryTotalMiB");

	g_assert_cmpstr (accel, ==, "emulated");
	g_assert_cmpstr (feature, ==, "svm");
	g_assert_cmpstr (uri, ==, "qemu:///system");
	g_assert_cmpuint (g_variant_get_uint64 (total), >, 1024);
}

static void
test_check_host (void)
{
	g_autoptr (GVariant) reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "CheckHost", NULL);
	g_autoptr (GVariant) report = g_variant_get_child_value (reply, 0);
	g_autoptr (GVariant) checks = NULL;
	const gchar *accel = NULL;

	g_assert_true (g_variant_lookup (report, "accelerator", "&s", &accel));
	g_assert_cmpstr (accel, ==, "emulated");
	checks = g_variant_lookup_value (report, "checks", G_VARIANT_TYPE ("aa{sv}"));
	g_assert_nonnull (checks);
	g_assert_cmpuint (g_variant_n_children (checks), >=, 5);
}

static void
test_create (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GVariant) objects = NULL;
	g_autoptr (GVariant) nodes = NULL;
	g_autofree gchar *state = NULL;
	const gchar *pool_path = NULL, *job_path = NULL;
	gint64 t0, t1;
	g_autofree gchar *job_state = NULL;

	t0 = g_get_monotonic_time ();
	reply = nf_test_call_ok (daemon_,
				 ROOT,
				 MANAGER,
				 "CreatePool",
				 "('" POOL "', uint32 3, {" NF_TEST_SMALL_NODE ", 'vlans': <'100-101'>})");
	t1 = g_get_monotonic_time ();
	g_test_message ("CreatePool replied in %.1f ms", (t1 - t0) / 1000.0);
	g_variant_get (reply, "(&o&o)", &pool_path, &job_path);
	g_assert_cmpstr (pool_path, ==, POOL_PATH);
	g_assert_true (g_str_has_prefix (job_path, ROOT "/job/"));

	/* The main loop answers while the job works. */
	t0 = g_get_monotonic_time ();
	objects = nf_test_call_ok (daemon_,
				   ROOT,
				   "org.freedesktop.DBus.ObjectManager",
				   "GetManagedObjects",
				   NULL);
	t1 = g_get_monotonic_time ();
	g_test_message ("GetManagedObjects during the create: %.1f ms", (t1 - t0) / 1000.0);
	job_state = nf_test_prop_string (daemon_, job_path, "org.nestfarm.Farm1.Job", "State");
	g_test_message ("job state right after: %s", job_state);

	nf_test_job_succeeds (daemon_, reply, 300);
	state = nf_test_prop_string (daemon_, POOL_PATH, POOL_IFACE, "State");
	g_assert_cmpstr (state, ==, "ready");
	nodes = nf_test_get_property (daemon_, POOL_PATH, POOL_IFACE, "Nodes");
	g_assert_cmpuint (g_variant_n_children (nodes), ==, 3);
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *path = g_strdup_printf (ROOT "/node/" POOL "_2d%u", i);
		g_autofree gchar *node_state = nf_test_prop_string (daemon_, path, NODE_IFACE, "State");
		g_autofree gchar *log = nf_test_prop_string (daemon_, path, NODE_IFACE, "ConsoleLog");
		g_autofree gchar *expect =
			g_strdup_printf ("NESTFARM-READY hostname=" POOL "-%u cpu=svm kvm=yes", i);

		g_assert_cmpstr (node_state, ==, "running");
		nf_test_wait_for_log_line (log, expect, 120);
	}
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, 3);
}

/* The one host of a single-host install: local, online, what the Manager
 * reports, and the pool's nodes with the memory they hold. */
static void
test_local_host (void)
{
	const gchar *host_path = ROOT "/host/local";
	const gchar *host_iface = "org.nestfarm.Farm1.Host";
	g_autofree gchar *state = nf_test_prop_string (daemon_, host_path, host_iface, "State");
	g_autofree gchar *uri = nf_test_prop_string (daemon_, host_path, host_iface, "URI");
	g_autofree gchar *accel = nf_test_prop_string (daemon_, host_path, host_iface, "Accelerator");
	g_autofree gchar *feature = nf_test_prop_string (daemon_, host_path, host_iface, "NestedFeature");
	g_autofree gchar *cpu = nf_test_prop_string (daemon_, host_path, host_iface, "CPUModel");
	g_autoptr (GVariant) total = nf_test_get_property (daemon_, host_path, host_iface, "MemoryTotalMiB");
	g_autoptr (GVariant) farm_total = nf_test_get_property (daemon_, ROOT, MANAGER, "MemoryTotalMiB");
	g_autoptr (GVariant) held =
		nf_test_get_property (daemon_, host_path, host_iface, "MemoryCommittedMiB");
	g_autoptr (GVariant) nodes = nf_test_get_property (daemon_, host_path, host_iface, "Nodes");
	g_autoptr (GVariant) pool_nodes = nf_test_get_property (daemon_, POOL_PATH, POOL_IFACE, "Nodes");

	g_assert_cmpstr (state, ==, "online");
	g_assert_cmpstr (uri, ==, "qemu:///system");
	g_assert_cmpstr (accel, ==, "emulated");
	g_assert_cmpstr (feature, ==, "svm");
	g_assert_cmpstr (cpu, !=, "");
	g_assert_cmpuint (g_variant_get_uint64 (total), ==, g_variant_get_uint64 (farm_total));
	/* the three running 256 MiB nodes of the create */
	g_assert_cmpuint (g_variant_get_uint64 (held), ==, 3 * 256);
	g_assert_true (g_variant_equal (nodes, pool_nodes));
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *path = g_strdup_printf (ROOT "/node/" POOL "_2d%u", i);
		g_autofree gchar *host = nf_test_prop_string (daemon_, path, NODE_IFACE, "Host");

		g_assert_cmpstr (host, ==, host_path);
	}
	/* its console, read by the daemon: from an offset, as much as asked */
	{
		g_autoptr (GVariant) reply = nf_test_call_ok (daemon_,
							      ROOT "/node/" POOL "_2d1",
							      NODE_IFACE,
							      "ReadConsole",
							      "(uint64 0, uint32 0)");
		g_autoptr (GVariant) data = g_variant_get_child_value (reply, 0);
		g_autofree gchar *text = g_strndup (g_variant_get_data (data), g_variant_get_size (data));
		g_autoptr (GVariant) tail = NULL;
		g_autoptr (GVariant) piece = NULL;
		guint64 size = 0;

		g_assert_nonnull (strstr (text, "NESTFARM-READY hostname=" POOL "-1"));
		g_variant_get_child (reply, 1, "t", &size);
		tail = nf_test_call_ok (daemon_,
					ROOT "/node/" POOL "_2d1",
					NODE_IFACE,
					"ReadConsole",
					"(uint64 4, uint32 8)");
		piece = g_variant_get_child_value (tail, 0);
		g_assert_cmpuint (g_variant_get_size (piece), ==, MIN (8, size - 4));
	}
}

static void
test_scale (void)
{
	g_autoptr (GVariant) up = nf_test_call_ok (daemon_, POOL_PATH, POOL_IFACE, "Scale", "(uint32 4,)");
	g_autoptr (GVariant) down = NULL;
	g_autoptr (GVariant) count = NULL;

	nf_test_job_succeeds (daemon_, up, 300);
	g_assert_cmpuint (pool_node_count (), ==, 4);
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, 4);
	down = nf_test_call_ok (daemon_, POOL_PATH, POOL_IFACE, "Scale", "(uint32 2,)");
	nf_test_job_succeeds (daemon_, down, 300);
	g_assert_cmpuint (pool_node_count (), ==, 2);
	count = nf_test_get_property (daemon_, POOL_PATH, POOL_IFACE, "Count");
	g_assert_cmpuint (g_variant_get_uint32 (count), ==, 2);
	/* The highest indexes went. */
	g_assert_cmpuint (nf_test_domains_named (POOL "-3"), ==, 0);
	g_assert_cmpuint (nf_test_domains_named (POOL "-4"), ==, 0);
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, 2);
}

static void
test_stop_start (void)
{
	g_autoptr (GVariant) stop = nf_test_call_ok (daemon_,
						     POOL_PATH,
						     POOL_IFACE,
						     "Stop",
						     "({'shutdown-timeout': <uint32 60>},)");
	g_autoptr (GVariant) start = NULL;
	g_autofree gchar *stopped = NULL;
	g_autofree gchar *ready = NULL;
	g_autofree gchar *node_state = NULL;

	nf_test_job_succeeds (daemon_, stop, 300);
	stopped = nf_test_prop_string (daemon_, POOL_PATH, POOL_IFACE, "State");
	g_assert_cmpstr (stopped, ==, "stopped");
	node_state = nf_test_prop_string (daemon_, ROOT "/node/" POOL "_2d1", NODE_IFACE, "State");
	g_assert_cmpstr (node_state, ==, "stopped");
	start = nf_test_call_ok (daemon_, POOL_PATH, POOL_IFACE, "Start", NULL);
	nf_test_job_succeeds (daemon_, start, 300);
	ready = nf_test_prop_string (daemon_, POOL_PATH, POOL_IFACE, "State");
	g_assert_cmpstr (ready, ==, "ready");
}

static void
test_reset (void)
{
	const gchar *node = ROOT "/node/" POOL "_2d1";
	g_autoptr (GVariant) macs_before = nf_test_get_property (daemon_, node, NODE_IFACE, "MACs");
	g_autoptr (GVariant) macs_after = NULL;
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *log = nf_test_prop_string (daemon_, node, NODE_IFACE, "ConsoleLog");

	/* booted before the reset (created, then started again) */
	nf_test_wait_for_log_count (log, "NESTFARM-READY hostname=" POOL "-1", 2, 120);
	reply = nf_test_call_ok (daemon_, node, NODE_IFACE, "Reset", NULL);
	nf_test_job_succeeds (daemon_, reply, 300);
	name = nf_test_prop_string (daemon_, node, NODE_IFACE, "Name");
	g_assert_cmpstr (name, ==, POOL "-1");
	macs_after = nf_test_get_property (daemon_, node, NODE_IFACE, "MACs");
	g_assert_true (g_variant_equal (macs_before, macs_after));
	nf_test_wait_for_log_count (log, "NESTFARM-READY hostname=" POOL "-1", 3, 120);
}

static guint64
memory_committed (void)
{
	g_autoptr (GVariant) committed = nf_test_get_property (daemon_, ROOT, MANAGER, "MemoryCommittedMiB");

	return g_variant_get_uint64 (committed);
}

/* While a delete shuts its nodes down, each node counts in
 * MemoryCommittedMiB until libvirt has it off (its memory is not free
 * before: admission must not promise it), and nothing counts after. */
static void
watch_memory_during (GVariant *reply)
{
	g_autofree gchar *job = nf_test_reply_job (reply);
	gint64 deadline = g_get_monotonic_time () + 300 * G_USEC_PER_SEC;
	guint samples = 0, with_running = 0;

	for (;;) {
		/* committed first: a domain libvirt still runs after it was
		 * read ran then too */
		guint64 committed = memory_committed ();
		guint running = nf_test_active_domains_named (POOL "-");
		g_autofree gchar *state =
			nf_test_prop_string (daemon_, job, "org.nestfarm.Farm1.Job", "State");

		g_assert_cmpuint (committed, >=, (guint64) running * 256);
		samples++;
		with_running += running > 0;
		if (g_strcmp0 (state, "running") != 0)
			break;
		g_assert_cmpint (g_get_monotonic_time (), <, deadline);
		g_usleep (100 * 1000);
	}
	g_test_message ("delete: %u samples, %u with nodes still running", samples, with_running);
}

static void
test_delete (void)
{
	g_autoptr (GVariant) reply =
		nf_test_call_ok (daemon_, ROOT, MANAGER, "DeletePool", "('" POOL "', @a{sv} {})");
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) gone = NULL;
	g_autofree gchar *ports = NULL;
	g_autofree gchar *xml = NULL;

	watch_memory_during (reply);
	nf_test_job_succeeds (daemon_, reply, 300);
	g_assert_cmpuint (memory_committed (), ==, 0);
	gone = nf_test_call (daemon_, POOL_PATH, POOL_IFACE, "Start", NULL, &error);
	g_assert_null (gone);
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, 0);
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
	/* Only the bridge's own port is left on it. */
	ports = nf_test_run ("ovs-vsctl", "--timeout=5", "list-ports", daemon_->bridge, NULL);
	g_assert_cmpstr (ports, ==, "");
	/* The nodes' addresses went with them; the network stays. */
	xml = nf_test_network_xml (NET);
	g_assert_true (nf_test_xpath_bool (xml, "count(/network/ip/dhcp/host)=0"));
}

/* Node @i's management address, checked against the network's host entry
 * for its management MAC (the first NIC's). */
static gchar *
node_address (guint i, const gchar *xml)
{
	g_autofree gchar *path = g_strdup_printf (ROOT "/node/" POOL "_2d%u", i);
	g_autoptr (GVariant) addresses = nf_test_get_property (daemon_, path, NODE_IFACE, "Addresses");
	g_autoptr (GVariant) macs = nf_test_get_property (daemon_, path, NODE_IFACE, "MACs");
	const gchar *mac = NULL;
	gchar *address = NULL;
	g_autofree gchar *entry = NULL;

	g_assert_cmpuint (g_variant_n_children (addresses), ==, 1);
	g_assert_cmpuint (g_variant_n_children (macs), ==, 2);
	g_variant_get_child (addresses, 0, "s", &address);
	g_variant_get_child (macs, 0, "&s", &mac);
	entry = g_strdup_printf ("count(/network/ip/dhcp/host[@mac='%s'][@ip='%s'][@name='" POOL "-%u'])=1",
				 mac,
				 address,
				 i);
	g_assert_true (nf_test_xpath_bool (xml, entry));
	return address;
}

/* The network made when missing: tagged, isolated, DHCP, started with the
 * host; each node a fixed address, the same across a daemon restart. */
static void
test_addresses (void)
{
	g_autofree gchar *xml = nf_test_network_xml (NET);
	g_autofree gchar *info = nf_test_run ("virsh", "-q", "net-info", NET, NULL);
	g_autoptr (GPtrArray) before = g_ptr_array_new_with_free_func (g_free);
	g_autofree gchar *xml_after = NULL;
	guint n = pool_node_count ();

	g_assert_true (
		nf_test_xpath_bool (xml,
				    "count(/network/metadata/*[local-name()='network'][@instance='" NF_TEST_INSTANCE
				    "'])=1"));
	g_assert_true (nf_test_xpath_bool (xml, "count(/network/forward)=0"));
	g_assert_true (nf_test_xpath_bool (xml, "count(/network/ip/dhcp/range)=1"));
	/* Two nodes left after the scale down: its nodes' entries went. */
	g_assert_cmpuint (n, ==, 2);
	g_assert_true (nf_test_xpath_bool (xml, "count(/network/ip/dhcp/host)=2"));
	g_assert_nonnull (strstr (info, "Active:         yes"));
	g_assert_nonnull (strstr (info, "Autostart:      yes"));
	for (guint i = 1; i <= n; i++) {
		gchar *address = node_address (i, xml);

		g_assert_true (g_str_has_prefix (address, "192.168."));
		for (guint j = 0; j < before->len; j++)
			g_assert_cmpstr (address, !=, g_ptr_array_index (before, j));
		g_ptr_array_add (before, address);
	}
	/* The daemon learns them again from libvirt alone. */
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_start (daemon_);
	xml_after = nf_test_network_xml (NET);
	for (guint i = 1; i <= n; i++) {
		g_autofree gchar *address = node_address (i, xml_after);

		g_assert_cmpstr (address, ==, g_ptr_array_index (before, i - 1));
	}
}

/* A pool's own network must exist: nestfarm makes only its own. */
static void
test_network_option (void)
{
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "CreatePool",
			    "('dnet', uint32 1, {" NF_TEST_SMALL_NODE ", 'network': <'nftest-no-such-net'>})",
			    NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "CreatePool",
			    "('dnet', uint32 1, {" NF_TEST_SMALL_NODE ", 'network': <'a/b'>})",
			    NF_ERR "InvalidArgument");
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/pool/dnet"));
	g_assert_null (nf_test_run ("virsh", "-q", "net-info", "nftest-no-such-net", NULL));
}

/* What the seed ISO of @node holds, read back through libvirt (the volume
 * downloaded) and opened with xorriso: file name -> contents. */
static GHashTable *
read_seed (const gchar *node, gchar **volume_id)
{
	g_autofree gchar *dir = nf_test_make_world_dir ("nf-seed");
	g_autofree gchar *iso = g_build_filename (dir, "seed.iso", NULL);
	g_autofree gchar *out = g_build_filename (dir, "out", NULL);
	g_autofree gchar *volume = g_strdup_printf ("%s.seed.iso", node);
	g_autofree gchar *seeds = g_strdup_printf ("%s-seeds", daemon_->storage_pool);
	g_autofree gchar *pvd = NULL;
	GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	const gchar *names[] = {"meta-data", "user-data", "network-config"};

	nf_test_assert_command_ok ("virsh",
				   "-q",
				   "-c",
				   "qemu:///system",
				   "vol-download",
				   "--pool",
				   seeds,
				   volume,
				   iso,
				   NULL);
	nf_test_assert_command_ok ("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", out, NULL);
	pvd = nf_test_run ("xorriso", "-indev", iso, "-pvd_info", NULL);
	g_assert_nonnull (pvd);
	if ((*volume_id = g_strdup (strstr (pvd, "Volume Id    : "))) != NULL) {
		memmove (*volume_id, *volume_id + 15, strlen (*volume_id + 15) + 1);
		(*volume_id)[strcspn (*volume_id, "\n")] = '\0';
		g_strstrip (*volume_id);
	}
	for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
		g_autofree gchar *path = g_build_filename (out, names[i], NULL);
		gchar *text = NULL;

		g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
		g_hash_table_insert (files, g_strdup (names[i]), text);
	}
	nf_test_rm_rf (dir);
	return files;
}

static gchar *
json_member (const gchar *json, const gchar *member)
{
	g_autoptr (JsonParser) parser = json_parser_new ();

	g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
	return g_strdup (
		json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), member));
}

/* Every node of a profile with a seed gets its own cloud-init NoCloud seed,
 * made through libvirt: the domain's CD-ROM, an ISO labelled cidata that
 * names the node and carries the login user, the key and the pool's
 * user-data. The seed goes with its node. */
static void
test_seed (void)
{
	g_autoptr (GVariant) deleted = NULL;

	nf_test_create_pool (daemon_,
			     "dseed",
			     2,
			     "'start': <false>, 'ssh-user': <'tester'>, "
			     "'ssh-keys': <['" KEY_AS_TEXT "']>, "
			     "'user-data': <'#cloud-config\\nbootcmd: [\"echo dseed-user-data\"]\\n'>");
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *node = g_strdup_printf ("dseed-%u", i);
		g_autofree gchar *seed =
			g_strdup_printf ("%s/.seeds/%s.seed.iso", daemon_->storage_dir, node);
		g_autofree gchar *xml =
			nf_test_run ("virsh", "-q", "-c", "qemu:///system", "dumpxml", node, NULL);
		g_autofree gchar *cdrom =
			g_strdup_printf ("/domain/devices/disk[@device='cdrom']/source/@file = '%s'", seed);
		g_autofree gchar *volume_id = NULL;
		g_autoptr (GHashTable) files = read_seed (node, &volume_id);
		g_autofree gchar *hostname =
			json_member (g_hash_table_lookup (files, "meta-data"), "local-hostname");
		const gchar *user_data = g_hash_table_lookup (files, "user-data");

		g_assert_true (nf_test_xpath_bool (xml, cdrom));
		g_assert_cmpstr (volume_id, ==, "cidata");
		g_assert_cmpstr (hostname, ==, node);
		g_assert_nonnull (strstr (user_data, "tester"));
		g_assert_nonnull (strstr (user_data, "AAAAC3NzaC1lZDI1NTE5AAAAIKR06hbD7CvadRlB1Prpb"));
		g_assert_nonnull (strstr (user_data, "multipart/mixed"));
		g_assert_nonnull (strstr (g_hash_table_lookup (files, "network-config"), "52:54:00"));
	}
	deleted = nf_test_call_ok (daemon_, ROOT, MANAGER, "DeletePool", "('dseed', @a{sv} {})");
	nf_test_job_succeeds (daemon_, deleted, 300);
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *seed =
			g_strdup_printf ("%s/.seeds/dseed-%u.seed.iso", daemon_->storage_dir, i);

		g_assert_false (g_file_test (seed, G_FILE_TEST_EXISTS));
	}
}

/* The network namespace and veth of the DHCP client below. */
#define LEASE_NS   "nftest-dhcp"
#define LEASE_HOST "nftdh0"
#define LEASE_PEER "nftdh1"

static void
lease_client_remove (void)
{
	/* Either may be gone already. */
	g_free (nf_test_run ("ip", "netns", "del", LEASE_NS, NULL));
	g_free (nf_test_run ("ip", "link", "del", LEASE_HOST, NULL));
}

/* The address that NET's dnsmasq leases to a DHCP client with @mac: a
 * real client (busybox udhcpc) on a veth of a network namespace of its
 * own, plugged into the network's bridge, as a node's NIC would be. */
static gchar *
dhcp_lease_for (const gchar *mac)
{
	g_autofree gchar *xml = nf_test_network_xml (NET);
	g_autoptr (GRegex) bridge_re = g_regex_new ("<bridge name='([^']+)'", 0, 0, NULL);
	g_autoptr (GRegex) lease_re = g_regex_new ("lease of ([0-9.]+) obtained", 0, 0, NULL);
	g_autoptr (GMatchInfo) bridge = NULL;
	g_autoptr (GMatchInfo) lease = NULL;
	g_autofree gchar *bridge_name = NULL;
	g_autofree gchar *said = NULL;

	g_assert_true (g_regex_match (bridge_re, xml, 0, &bridge));
	bridge_name = g_match_info_fetch (bridge, 1);
	lease_client_remove ();
	nf_test_assert_command_ok ("ip", "netns", "add", LEASE_NS, NULL);
	nf_test_assert_command_ok ("ip",
				   "link",
				   "add",
				   LEASE_HOST,
				   "type",
				   "veth",
				   "peer",
				   "name",
				   LEASE_PEER,
				   "netns",
				   LEASE_NS,
				   NULL);
	nf_test_assert_command_ok ("ip", "link", "set", LEASE_HOST, "master", bridge_name, "up", NULL);
	nf_test_assert_command_ok ("ip", "-n", LEASE_NS, "link", "set", LEASE_PEER, "address", mac, "up", NULL);
	/* Its script does nothing: the address is only read from its log. */
	said = nf_test_run ("ip",
			    "netns",
			    "exec",
			    LEASE_NS,
			    "sh",
			    "-c",
			    "busybox udhcpc -f -q -n -t 10 -T 1 -s /bin/true -i " LEASE_PEER " 2>&1",
			    NULL);
	lease_client_remove ();
	g_assert_nonnull (said);
	if (!g_regex_match (lease_re, said, 0, &lease))
		g_error ("no DHCP lease for %s on %s: %s", mac, NET, said);
	return g_match_info_fetch (lease, 1);
}

/* Pool @name of one node, not started; the node's management address and
 * MAC. */
static void
one_node_pool (const gchar *name, gchar **address, gchar **mac)
{
	g_autofree gchar *escaped = g_strdup_printf (ROOT "/node/%s_2d1", name);
	g_autoptr (GVariant) addresses = NULL;
	g_autoptr (GVariant) macs = NULL;

	nf_test_create_pool (daemon_, name, 1, "'start': <false>");
	addresses = nf_test_get_property (daemon_, escaped, NODE_IFACE, "Addresses");
	macs = nf_test_get_property (daemon_, escaped, NODE_IFACE, "MACs");
	g_variant_get_child (addresses, 0, "s", address);
	g_variant_get_child (macs, 0, "s", mac);
}

/* A deleted node's DHCP lease outlives its host entry: its address is not
 * given to the next node, which dnsmasq would then send to its dynamic
 * range instead of the address nestfarm shows. Checked with a real DHCP
 * client for each node's MAC. */
static void
test_lease_kept (void)
{
	g_autofree gchar *first = NULL, *first_mac = NULL, *first_lease = NULL;
	g_autofree gchar *next = NULL, *next_mac = NULL, *next_lease = NULL;

	one_node_pool ("dlease", &first, &first_mac);
	first_lease = dhcp_lease_for (first_mac);
	g_assert_cmpstr (first_lease, ==, first);
	nf_test_delete_pool (daemon_, "dlease", FALSE);
	one_node_pool ("dlnext", &next, &next_mac);
	g_assert_cmpstr (next_mac, !=, first_mac);
	g_assert_cmpstr (next, !=, first);
	next_lease = dhcp_lease_for (next_mac);
	g_assert_cmpstr (next_lease, ==, next);
	nf_test_delete_pool (daemon_, "dlnext", FALSE);
}

static void
test_hostile_input (void)
{
	g_autofree gchar *huge = g_strnfill (60 * 1024, 'a');
	g_autofree gchar *huge_args = g_strdup_printf ("('%s', uint32 1, @a{sv} {})", huge);
	g_autofree gchar *huge_image = g_strdup_printf ("('ok', uint32 1, {'image': <'/%s'>})", huge);
	g_autofree gchar *big = g_strnfill (NF_SEED_USER_DATA_MAX, 'a');
	g_autofree gchar *huge_user_data =
		g_strdup_printf ("('ok', uint32 1, {'user-data': <'#cloud-config\\n%s'>})", big);
	struct {
		const gchar *args;
		const gchar *error;
	} create[] = {
		{"('', uint32 1, @a{sv} {})", NF_ERR "InvalidArgument"},
		{"('Bad', uint32 1, @a{sv} {})", NF_ERR "InvalidArgument"},
		{"('ok-', uint32 1, @a{sv} {})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 0, @a{sv} {})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 100000, @a{sv} {})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'vlans': <'0'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'vlans': <'4095'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'vlans': <'4096'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'vlans': <'10-5'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'bogus': <'x'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'vcpus': <'2'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'vcpus': <uint32 0>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'memory-mib': <uint32 1>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'profile': <'../../etc/passwd'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'profile': <'no-such-profile'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'trunk-bridge': <'br/../x'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'image': <'rel/path.qcow2'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'start': <uint32 1>})", NF_ERR "InvalidArgument"},
		{huge_args, NF_ERR "InvalidArgument"},
		{huge_image, NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'ssh-keys': <['" KEY_AS_TEXT "\\nssh-ed25519 AAAA']>})",
		 NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'ssh-keys': <['command=\"x\" " KEY_AS_TEXT "']>})",
		 NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'ssh-keys': <['ssh-ed25519 AAAA!!!!']>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'ssh-keys': <'" KEY_AS_TEXT "'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'ssh-user': <'root'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'ssh-user': <'Bad User'>})", NF_ERR "InvalidArgument"},
		{"('ok', uint32 1, {'user-data': <'hello'>})", NF_ERR "InvalidArgument"},
		{huge_user_data, NF_ERR "InvalidArgument"},
	};
	g_autoptr (GVariant) objects_before = nf_test_call_ok (daemon_,
							       ROOT,
							       "org.freedesktop.DBus.ObjectManager",
							       "GetManagedObjects",
							       NULL);
	g_autoptr (GVariant) objects_after = NULL;
	g_autoptr (GVariant) pools_before = g_variant_get_child_value (objects_before, 0);
	g_autoptr (GVariant) pools_after = NULL;

	for (guint i = 0; i < G_N_ELEMENTS (create); i++)
		nf_test_call_fails (daemon_, ROOT, MANAGER, "CreatePool", create[i].args, create[i].error);
	nf_test_call_fails (daemon_, ROOT, MANAGER, "DeletePool", "('nosuch', @a{sv} {})", NF_ERR "NotFound");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "DeletePool",
			    "('nosuch', {'force': <'yes'>})",
			    NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "DeletePool",
			    "('nosuch', {'shutdown-timeout': <uint32 0>})",
			    NF_ERR "InvalidArgument");
	/* Wrong argument types never reach nestfarm. */
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "CreatePool",
			    "('ok', 1, @a{sv} {})",
			    "org.freedesktop.DBus.Error.InvalidArgs");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "CreatePool",
			    "('ok',)",
			    "org.freedesktop.DBus.Error.InvalidArgs");
	/* Paths that are not the canonical escape of a name do not exist. */
	nf_test_call_fails (daemon_,
			    ROOT "/pool/nosuch",
			    POOL_IFACE,
			    "Start",
			    NULL,
			    "org.freedesktop.DBus.Error.UnknownMethod");
	nf_test_call_fails (daemon_,
			    ROOT "/node/x_2D1",
			    NODE_IFACE,
			    "Start",
			    NULL,
			    "org.freedesktop.DBus.Error.UnknownMethod");
	nf_test_call_fails (daemon_,
			    ROOT "/job/999999",
			    "org.nestfarm.Farm1.Job",
			    "Cancel",
			    NULL,
			    "org.freedesktop.DBus.Error.UnknownMethod");

	/* Nothing changed; the daemon is alive. */
	g_assert_true (nf_test_daemon_alive (daemon_));
	objects_after = nf_test_call_ok (daemon_,
					 ROOT,
					 "org.freedesktop.DBus.ObjectManager",
					 "GetManagedObjects",
					 NULL);
	pools_after = g_variant_get_child_value (objects_after, 0);
	g_assert_cmpuint (g_variant_n_children (pools_after), ==, g_variant_n_children (pools_before));
	g_assert_cmpuint (nf_test_domains_named ("ok-"), ==, 0);
}

/* Runs gdbus as the unprivileged user; returns its stderr (NULL: it worked). */
static gchar *
call_as_nobody (const gchar *path,
		const gchar *method,
		const gchar *arg1,
		const gchar *arg2,
		const gchar *arg3)
{
	const gchar *argv[] = {"setpriv",
			       "--reuid=nftest",
			       "--regid=nftest",
			       "--clear-groups",
			       "gdbus",
			       "call",
			       "--system",
			       "--dest",
			       "org.nestfarm.Farm1",
			       "--object-path",
			       path,
			       "--method",
			       method,
			       arg1,
			       arg2,
			       arg3,
			       NULL};
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	gint status = 0;
	g_autoptr (GError) error = NULL;

	g_assert_true (g_spawn_sync (NULL,
				     (gchar **) argv,
				     NULL,
				     G_SPAWN_SEARCH_PATH,
				     NULL,
				     NULL,
				     &out,
				     &err,
				     &status,
				     &error));
	g_assert_no_error (error);
	if (g_spawn_check_wait_status (status, NULL))
		return NULL;
	return g_steal_pointer (&err);
}

static void
assert_refused (const gchar *err)
{
	g_assert_nonnull (err);
	g_test_message ("refused: %s", err);
	g_assert_true (strstr (err, "NotAuthorized") != NULL || strstr (err, "AccessDenied") != NULL);
}

static void
test_unprivileged (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GVariant) count = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *err = NULL;
	const gchar *pool = ROOT "/pool/dpriv";
	const gchar *node = ROOT "/node/dpriv_2d1";

	nf_test_ensure_user ("nftest");
	nf_test_create_pool (daemon_, "dpriv", 1, "'start': <false>");

	/* Reads are open. */
	err = call_as_nobody (ROOT, "org.freedesktop.DBus.Properties.GetAll", MANAGER, NULL, NULL);
	g_assert_null (err);
	err = call_as_nobody (pool, "org.freedesktop.DBus.Properties.Get", POOL_IFACE, "State", NULL);
	g_assert_null (err);
	err = call_as_nobody (ROOT, MANAGER ".CheckHost", NULL, NULL, NULL);
	g_assert_null (err);

	/* No property is writable, for anyone: Properties.Set is refused. */
	err = call_as_nobody (pool, "org.freedesktop.DBus.Properties.Set", POOL_IFACE, "Count", "<uint32 5>");
	g_assert_nonnull (err);
	g_assert_nonnull (strstr (err, "org.freedesktop.DBus.Error.InvalidArgs"));
	g_clear_pointer (&err, g_free);
	g_assert_null (nf_test_call (daemon_,
				     pool,
				     "org.freedesktop.DBus.Properties",
				     "Set",
				     g_variant_new ("(ssv)", POOL_IFACE, "Count", g_variant_new_uint32 (5)),
				     &error));
	g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
	g_clear_error (&error);
	count = nf_test_get_property (daemon_, pool, POOL_IFACE, "Count");
	g_assert_cmpuint (g_variant_get_uint32 (count), ==, 1);

	/* Every change is refused. */
	assert_refused (err = call_as_nobody (ROOT, MANAGER ".CreatePool", "nobodys", "1", "{}"));
	g_free (err);
	assert_refused (err = call_as_nobody (ROOT, MANAGER ".DeletePool", "dpriv", "{}", NULL));
	g_free (err);
	assert_refused (err = call_as_nobody (pool, POOL_IFACE ".Scale", "3", NULL, NULL));
	g_free (err);
	assert_refused (err = call_as_nobody (pool, POOL_IFACE ".Start", NULL, NULL, NULL));
	g_free (err);
	assert_refused (err = call_as_nobody (pool, POOL_IFACE ".Stop", "{}", NULL, NULL));
	g_free (err);
	assert_refused (err = call_as_nobody (pool, POOL_IFACE ".Delete", "{}", NULL, NULL));
	g_free (err);
	assert_refused (err = call_as_nobody (node, NODE_IFACE ".Start", NULL, NULL, NULL));
	g_free (err);
	assert_refused (err = call_as_nobody (node, NODE_IFACE ".Stop", "{}", NULL, NULL));
	g_free (err);
	assert_refused (err = call_as_nobody (node, NODE_IFACE ".Reset", NULL, NULL, NULL));
	g_free (err);
	err = NULL;

	/* Nothing changed. */
	g_assert_cmpuint (nf_test_domains_named ("dpriv-"), ==, 1);
	g_assert_cmpuint (nf_test_domains_named ("nobodys-"), ==, 0);
	reply = nf_test_call_ok (daemon_, pool, POOL_IFACE, "Delete", "({'force': <true>},)");
	nf_test_job_succeeds (daemon_, reply, 300);
}

static void
test_insufficient_memory (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) total = nf_test_get_property (daemon_, ROOT, MANAGER, "MemoryTotalMiB");
	/* One node fits the host, a thousand never do: admission's numbers. */
	guint32 memory = (guint32) MAX (256, g_variant_get_uint64 (total) / 4);
	g_autoptr (GVariant) reply =
		nf_test_call (daemon_,
			      ROOT,
			      MANAGER,
			      "CreatePool",
			      g_variant_new_parsed ("('dmem', uint32 1000, {'memory-mib': <%u>})", memory),
			      &error);
	g_autofree gchar *remote = NULL;

	g_assert_null (reply);
	remote = g_dbus_error_get_remote_error (error);
	g_assert_cmpstr (remote, ==, NF_ERR "InsufficientResources");
	g_test_message ("%s", error->message);
	for (const gchar *const *word = (const gchar *const[]){"needed",
							       "free for nodes",
							       "total",
							       "reserved",
							       "committed",
							       NULL};
	     *word != NULL;
	     word++)
		g_assert_nonnull (strstr (error->message, *word));
	g_assert_cmpuint (nf_test_domains_named ("dmem-"), ==, 0);
	g_assert_cmpuint (nf_test_domains_named ("dmem"), ==, 0);
}

/* Object paths under @prefix that GetManagedObjects lists. */
static GPtrArray *
managed_paths (const gchar *prefix)
{
	g_autoptr (GVariant) objects = nf_test_call_ok (daemon_,
							ROOT,
							"org.freedesktop.DBus.ObjectManager",
							"GetManagedObjects",
							NULL);
	g_autoptr (GVariant) managed = g_variant_get_child_value (objects, 0);
	GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
	GVariantIter iter;
	const gchar *path;

	g_variant_iter_init (&iter, managed);
	while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL)) {
		if (g_str_has_prefix (path, prefix))
			g_ptr_array_add (paths, g_strdup (path));
	}
	return paths;
}

/* The first path of @after that @before lacks, or NULL. */
static const gchar *
first_new_path (GPtrArray *before, GPtrArray *after)
{
	for (guint i = 0; i < after->len; i++) {
		if (!g_ptr_array_find_with_equal_func (before,
						       g_ptr_array_index (after, i),
						       g_str_equal,
						       NULL))
			return g_ptr_array_index (after, i);
	}
	return NULL;
}

/* What the host can tell about a create is answered at the call, with the
 * named error: nothing exported, no job, the state file untouched. */
static void
test_bad_input_at_call (void)
{
	g_autofree gchar *scratch = nf_test_make_world_dir ("nf-early");
	g_autofree gchar *image = nf_test_require_image ();
	g_autofree gchar *backed = g_build_filename (scratch, "backed.qcow2", NULL);
	g_autofree gchar *state_file = g_build_filename (daemon_->state_dir, "pools.json", NULL);
	g_autofree gchar *state_before = NULL;
	g_autofree gchar *state_after = NULL;
	g_autoptr (GVariant) total = nf_test_get_property (daemon_, ROOT, MANAGER, "MemoryTotalMiB");
	guint32 too_big = (guint32) g_variant_get_uint64 (total) + 1024;
	g_autofree gchar *dir_image = g_strdup_printf ("{'image': <'%s'>}", scratch);
	g_autofree gchar *backed_image = g_strdup_printf ("{'image': <'%s'>}", backed);
	g_autofree gchar *big_stopped =
		g_strdup_printf ("{'memory-mib': <uint32 %u>, 'start': <false>}", too_big);
	g_autofree gchar *big_started = g_strdup_printf ("{'memory-mib': <uint32 %u>}", too_big);
	const struct {
		const gchar *options;
		const gchar *error;
	} cases[] = {
		/* an absolute path and a volume name that are not there */
		{"{'image': <'/var/tmp/nf-early-no-such.qcow2'>}", NF_ERR "NotFound"},
		{"{'image': <'nf-early-no-such.qcow2'>}", NF_ERR "NotFound"},
		/* there, but not a usable base */
		{dir_image, NF_ERR "InvalidArgument"},
		{backed_image, NF_ERR "InvalidArgument"},
		{"{'profile': <'no-such-profile'>, 'start': <false>}", NF_ERR "InvalidArgument"},
		/* nodes that could never start here, started or not */
		{big_stopped, NF_ERR "InsufficientResources"},
		{big_started, NF_ERR "InsufficientResources"},
	};
	g_autoptr (GPtrArray) jobs_before = managed_paths (ROOT "/job/");
	g_autoptr (GPtrArray) jobs_after = NULL;
	g_autoptr (GPtrArray) pools_after = NULL;

	nf_test_assert_command_ok ("qemu-img",
				   "create",
				   "-q",
				   "-f",
				   "qcow2",
				   "-b",
				   image,
				   "-F",
				   "qcow2",
				   backed,
				   NULL);
	g_assert_true (g_file_get_contents (state_file, &state_before, NULL, NULL));
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree gchar *args = g_strdup_printf ("('dearly', uint32 2, %s)", cases[i].options);
		g_autoptr (GError) error = NULL;
		g_autoptr (GVariant) reply = nf_test_call (daemon_,
							   ROOT,
							   MANAGER,
							   "CreatePool",
							   g_variant_new_parsed (args),
							   &error);
		g_autofree gchar *remote = NULL;

		g_assert_null (reply);
		remote = g_dbus_error_get_remote_error (error);
		g_test_message ("%s: %s %s", args, remote, error->message);
		g_assert_cmpstr (remote, ==, cases[i].error);
		g_assert_cmpuint (strlen (error->message), <, 400);
	}

	/* Nothing was made or written. */
	pools_after = managed_paths (ROOT "/pool/dearly");
	g_assert_cmpuint (pools_after->len, ==, 0);
	/* (old jobs may be reaped meanwhile) */
	jobs_after = managed_paths (ROOT "/job/");
	g_assert_cmpstr (first_new_path (jobs_before, jobs_after), ==, NULL);
	g_assert_true (g_file_get_contents (state_file, &state_after, NULL, NULL));
	g_assert_cmpstr (state_after, ==, state_before);
	g_assert_cmpuint (nf_test_domains_named ("dearly-"), ==, 0);
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
	nf_test_rm_rf (scratch);
}

static gboolean
some_node_made (const gchar *pool_path)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = nf_test_call (daemon_,
						   pool_path,
						   "org.freedesktop.DBus.Properties",
						   "Get",
						   g_variant_new ("(ss)", POOL_IFACE, "Nodes"),
						   &error);

	return reply != NULL && nf_test_domains_named ("dkill-") > 0;
}

static void
test_crash_during_create (void)
{
	g_autoptr (GVariant) reply = NULL;
	gint64 deadline;
	g_autoptr (GVariant) objects = NULL;
	g_autoptr (GVariant) managed = NULL;
	GVariantIter iter;
	const gchar *path;
	guint reported = 0;

	reply = nf_test_call_ok (daemon_,
				 ROOT,
				 MANAGER,
				 "CreatePool",
				 "('dkill', uint32 3, {" NF_TEST_SMALL_NODE "})");
	deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
	while (!some_node_made (ROOT "/pool/dkill") && g_get_monotonic_time () < deadline)
		g_usleep (20 * 1000);
	/* A crash in the middle of the create. */
	nf_test_daemon_kill (daemon_);
	g_test_message ("killed with %u dkill domains in libvirt", nf_test_domains_named ("dkill-"));
	nf_test_daemon_start (daemon_);

	/* What the daemon reports is what libvirt has, and the half-made
	 * pool was rolled back as a whole. */
	objects = nf_test_call_ok (daemon_,
				   ROOT,
				   "org.freedesktop.DBus.ObjectManager",
				   "GetManagedObjects",
				   NULL);
	managed = g_variant_get_child_value (objects, 0);
	g_variant_iter_init (&iter, managed);
	while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL)) {
		if (g_str_has_prefix (path, ROOT "/node/dkill"))
			reported++;
	}
	g_assert_cmpuint (reported, ==, nf_test_domains_named ("dkill-"));
	g_assert_cmpuint (nf_test_domains_named ("dkill-"), ==, 0);
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
}

static void
test_clean_exit (void)
{
	/* SIGTERM with nothing running: exit status 0. */
	nf_test_daemon_stop (daemon_);
}

int
main (int argc, char **argv)
{
	const gchar *const pools[] =
		{POOL, "dpriv", "dkill", "dmem", "dearly", "dseed", "dlease", "dlnext", "ok", "nobodys", NULL};
	int rc;

	g_test_init (&argc, &argv, NULL);
	daemon_ = nf_test_daemon_new ("daemon",
				      "ShutdownTimeout=30\nParallelism=4\nManagementNetwork=" NET
				      "\nManagementNetworkMode=isolated\n");
	nf_test_remove_network (NET);
	nf_test_daemon_start (daemon_);
	g_test_add_func ("/daemon/properties", test_properties);
	g_test_add_func ("/daemon/check-host", test_check_host);
	g_test_add_func ("/daemon/create", test_create);
	g_test_add_func ("/daemon/local-host", test_local_host);
	g_test_add_func ("/daemon/scale", test_scale);
	g_test_add_func ("/daemon/stop-start", test_stop_start);
	g_test_add_func ("/daemon/reset", test_reset);
	g_test_add_func ("/daemon/addresses", test_addresses);
	g_test_add_func ("/daemon/network-option", test_network_option);
	g_test_add_func ("/daemon/delete", test_delete);
	g_test_add_func ("/daemon/seed", test_seed);
	g_test_add_func ("/daemon/lease-kept", test_lease_kept);
	g_test_add_func ("/daemon/hostile-input", test_hostile_input);
	g_test_add_func ("/daemon/unprivileged", test_unprivileged);
	g_test_add_func ("/daemon/insufficient-memory", test_insufficient_memory);
	g_test_add_func ("/daemon/bad-input-at-call", test_bad_input_at_call);
	g_test_add_func ("/daemon/crash-during-create", test_crash_during_create);
	g_test_add_func ("/daemon/clean-exit", test_clean_exit);
	rc = g_test_run ();
	nf_test_daemon_free (daemon_, pools);
	nf_test_remove_network (NET);
	return rc;
}
