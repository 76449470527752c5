/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-farm"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <json-glib/json-glib.h>

#include "nestfarm/nf-ovn.h"
#include "nf-test-cli.h"
#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* A farm of libvirt hosts on this machine (tools/farm: network and mount
 * namespaces, each with its own libvirtd, OVS and ovn-controller), driven
 * by a real nestfarmd: hosts added over their own connections and probed,
 * refused with the reason, kept across restarts, offline while their
 * libvirtd is away and online again by themselves, removed. Suite 'farm',
 * which only the default setup runs. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define HOST_IFACE "org.nestfarm.Farm1.Host"
#define NF_ERR     "org.nestfarm.Farm1.Error."
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define H1_PATH    ROOT "/host/h1"
/* the pool made on h1 */
#define POOL "fhost"

/* the pool of the OVN daemon, across h1 and h2 */
#define OVN_POOL   "fovn"
#define OVN_SWITCH "nf-" NF_TEST_INSTANCE "-" OVN_POOL

static NfTestDaemon *daemon_;
static GHashTable *uris_; /* host name -> libvirt URI, as tools/farm printed */
static gchar *nb_db_;     /* --db=OVN's northbound, as tools/farm printed */
static gchar *sb_db_;

/* A farm of two hosts as new (what a failed run left is gone): the "hN
 * URI" lines of `tools/farm up 2`. */
static void
farm_up (void)
{
	g_autofree gchar *out = NULL;
	g_auto (GStrv) lines = NULL;

	g_free (nf_test_farm ("down", NULL));
	out = nf_test_farm ("up", "2", NULL);
	lines = g_strsplit (out, "\n", -1);

	uris_ = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto (GStrv) words = g_strsplit (lines[i], " ", 2);

		if (g_strv_length (words) == 2 && g_str_has_prefix (words[0], "h"))
			g_hash_table_insert (uris_, g_strdup (words[0]), g_strdup (words[1]));
		if (g_strv_length (words) == 2 && g_str_equal (words[0], "ovn-nb"))
			nb_db_ = g_strdup_printf ("--db=%s", words[1]);
		if (g_strv_length (words) == 2 && g_str_equal (words[0], "ovn-sb"))
			sb_db_ = g_strdup_printf ("--db=%s", words[1]);
	}
	g_assert_nonnull (nb_db_);
	g_assert_nonnull (sb_db_);
	g_assert_nonnull (g_hash_table_lookup (uris_, "h1"));
	g_assert_nonnull (g_hash_table_lookup (uris_, "h2"));
}

static const gchar *
uri_of (const gchar *host)
{
	return g_hash_table_lookup (uris_, host);
}

/* AddHost @name at @uri with @options (a GVariant text, NULL: none). */
static gchar *
add_host_with (const gchar *name, const gchar *uri, const gchar *options, gchar **message)
{
	g_autofree gchar *args =
		g_strdup_printf ("('%s', '%s', %s)", name, uri, options != NULL ? options : "@a{sv} {}");
	g_autoptr (GVariant) reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "AddHost", args);
	g_autofree gchar *job = nf_test_reply_job (reply);

	/* a new libvirtd spends seconds probing QEMU on its first call */
	return nf_test_wait_job (daemon_, job, 120, message);
}

static gchar *
add_host (const gchar *name, const gchar *uri, gchar **message)
{
	return add_host_with (name, uri, NULL, message);
}

static guint64
prop_u64 (const gchar *path, const gchar *name)
{
	g_autoptr (GVariant) value = nf_test_get_property (daemon_, path, HOST_IFACE, name);

	return g_variant_get_uint64 (value);
}

/* h1 joins: online, probed over its own connection. */
static void
test_add_host (void)
{
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = add_host ("h1", uri_of ("h1"), &message);
	g_autofree gchar *host_state = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *accel = NULL;
	g_autofree gchar *feature = NULL;
	g_autofree gchar *cpu = NULL;
	g_autoptr (GVariant) nodes = NULL;

	g_assert_cmpstr (message, ==, "");
	g_assert_cmpstr (state, ==, "succeeded");
	host_state = nf_test_prop_string (daemon_, H1_PATH, HOST_IFACE, "State");
	uri = nf_test_prop_string (daemon_, H1_PATH, HOST_IFACE, "URI");
	accel = nf_test_prop_string (daemon_, H1_PATH, HOST_IFACE, "Accelerator");
	feature = nf_test_prop_string (daemon_, H1_PATH, HOST_IFACE, "NestedFeature");
	cpu = nf_test_prop_string (daemon_, H1_PATH, HOST_IFACE, "CPUModel");
	nodes = nf_test_get_property (daemon_, H1_PATH, HOST_IFACE, "Nodes");
	g_assert_cmpstr (host_state, ==, "online");
	g_assert_cmpstr (uri, ==, uri_of ("h1"));
	/* this machine has no usable KVM: every host of it runs nodes emulated */
	g_assert_cmpstr (accel, ==, "emulated");
	g_assert_cmpstr (feature, ==, "svm");
	g_assert_cmpstr (cpu, !=, "");
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryTotalMiB"), >, 1024);
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryCommittedMiB"), ==, 0);
	g_assert_cmpuint (g_variant_n_children (nodes), ==, 0);
	/* the libvirt of h1 now has nestfarm's storage pools, made through it */
	g_free (message);
	message = nf_test_run ("virsh", "-q", "-c", uri_of ("h1"), "pool-list", "--all", "--name", NULL);
	g_assert_nonnull (strstr (message, daemon_->storage_pool));
}

/* Refused at the call, or by the job, and nothing kept. */
static void
test_add_refused (void)
{
	g_autofree gchar *same_uri = g_strdup_printf ("('h9', '%s', @a{sv} {})", uri_of ("h1"));
	g_autofree gchar *option = g_strdup_printf ("('h2', '%s', {'cpu': <'x'>})", uri_of ("h2"));
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = NULL;

	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "AddHost",
			    "('h1', 'qemu:///session', @a{sv} {})",
			    NF_ERR "Exists");
	nf_test_call_fails (daemon_, ROOT, MANAGER, "AddHost", same_uri, NF_ERR "Exists");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "AddHost",
			    "('local', 'qemu:///system', @a{sv} {})",
			    NF_ERR "Exists");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "AddHost",
			    "('H1', 'qemu:///x', @a{sv} {})",
			    NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "AddHost",
			    "('h3', 'not a uri', @a{sv} {})",
			    NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_, ROOT, MANAGER, "AddHost", option, NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "RemoveHost",
			    "('local', @a{sv} {})",
			    NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_, ROOT, MANAGER, "RemoveHost", "('h7', @a{sv} {})", NF_ERR "NotFound");

	/* a libvirt that does not answer: the job says why, nothing is kept */
	state = add_host ("h3", "qemu+unix:///system?socket=/run/nf-farm/none/libvirt-sock", &message);
	g_assert_cmpstr (state, ==, "failed");
	g_test_message ("unreachable host: %s", message);
	g_assert_nonnull (strstr (message, "Host h3"));
	g_assert_nonnull (strstr (message, "cannot be used"));
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/host/h3"));
}

/* Domain names on @host's libvirt (@all: stopped ones too), one a line. */
static gchar *
domains_on (const gchar *host, gboolean all)
{
	return nf_test_run ("virsh",
			    "-q",
			    "-c",
			    uri_of (host),
			    "list",
			    all ? "--all" : "--state-running",
			    "--name",
			    NULL);
}

/* Both nodes of POOL are on h1, as D-Bus, h1's libvirt and the host object
 * say. */
static void
assert_pool_on_h1 (void)
{
	g_autofree gchar *running = domains_on ("h1", FALSE);
	g_autoptr (GVariant) nodes = nf_test_get_property (daemon_, H1_PATH, HOST_IFACE, "Nodes");

	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *path = nf_test_node_path (POOL, i);
		g_autofree gchar *host = nf_test_prop_string (daemon_, path, NODE_IFACE, "Host");
		g_autofree gchar *name = g_strdup_printf (POOL "-%u\n", i);

		g_assert_cmpstr (host, ==, H1_PATH);
		g_assert_nonnull (strstr (running, name));
	}
	g_assert_cmpuint (g_variant_n_children (nodes), ==, 2);
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryCommittedMiB"), ==, 2 * 256);
	/* nothing of it on this machine's libvirt */
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, 0);
}

static NfCliRun *nestfarmctl (const gchar *const *args);

/* A node's console on h1, read through h1's libvirt: ReadConsole, and
 * nestfarmctl node console, which uses it for a node of another host. */
static void
check_console_on_h1 (void)
{
	const gchar *node = ROOT "/node/" POOL "_2d1";
	const gchar *console[] = {"node", "console", POOL "-1", "--no-follow", NULL};
	g_autoptr (GVariant) reply =
		nf_test_call_ok (daemon_, node, NODE_IFACE, "ReadConsole", "(uint64 0, uint32 0)");
	g_autoptr (GVariant) data = g_variant_get_child_value (reply, 0);
	g_autoptr (GVariant) past = NULL;
	g_autofree gchar *text = g_strndup (g_variant_get_data (data), g_variant_get_size (data));
	g_autoptr (NfCliRun) run = nestfarmctl (console);
	guint64 size = 0;

	g_variant_get_child (reply, 1, "t", &size);
	g_assert_nonnull (strstr (text, "NESTFARM-READY hostname=" POOL "-1"));
	g_assert_cmpuint (size, >=, g_variant_get_size (data));
	/* past its end: nothing, and its length */
	past = nf_test_call_ok (daemon_, node, NODE_IFACE, "ReadConsole", "(uint64 1000000000, uint32 16)");
	{
		g_autoptr (GVariant) none = g_variant_get_child_value (past, 0);
		guint64 still = 0;

		g_variant_get_child (past, 1, "t", &still);
		g_assert_cmpuint (g_variant_get_size (none), ==, 0);
		/* the same log, or grown a little since */
		g_assert_cmpuint (still, >=, size);
		g_assert_cmpuint (still, <, size + 65536);
	}
	nf_test_call_fails (daemon_,
			    node,
			    NODE_IFACE,
			    "ReadConsole",
			    "(uint64 0, uint32 2000000)",
			    NF_ERR "InvalidArgument");
	nf_test_cli_assert_status (run, 0);
	g_assert_nonnull (strstr (run->out, "NESTFARM-READY hostname=" POOL "-1"));
}

/* A pool made on h1 (the hosts option): its nodes run there, booted from
 * the golden image's copy on h1, made once and verified. */
static void
test_pool_on_host (void)
{
	g_autofree gchar *bridge = NULL;
	g_autofree gchar *volumes = NULL;
	g_autofree gchar *log = NULL;

	/* without OVN a host's trunk is a bridge of its own OVS, made by its
	 * owner: here, h1's */
	bridge = nf_test_farm ("exec",
			       "h1",
			       "ovs-vsctl",
			       "--may-exist",
			       "add-br",
			       daemon_->bridge,
			       "--",
			       "set",
			       "bridge",
			       daemon_->bridge,
			       "datapath_type=netdev",
			       NULL);
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "CreatePool",
			    "('" POOL "', uint32 2, {" NF_TEST_SMALL_NODE ", 'hosts': <['h9']>})",
			    NF_ERR "InvalidArgument");
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/pool/" POOL));
	nf_test_create_pool (daemon_, POOL, 2, "'hosts': <['h1']>");
	assert_pool_on_h1 ();
	log = nf_test_prop_string (daemon_, ROOT "/node/" POOL "_2d1", NODE_IFACE, "ConsoleLog");
	/* the farm's hosts share this machine's /var/tmp: h1's log is seen here */
	nf_test_wait_for_log_line (log, "NESTFARM-READY hostname=" POOL "-1", 180);
	check_console_on_h1 ();
	/* CPUMode=passthrough (this daemon's): nodes have their host's CPU and
	 * stay on it */
	nf_test_call_fails (daemon_,
			    ROOT "/node/" POOL "_2d1",
			    NODE_IFACE,
			    "Migrate",
			    "({'host': <'h2'>},)",
			    NF_ERR "InvalidArgument");
	volumes = nf_test_run ("virsh", "-q", "-c", uri_of ("h1"), "vol-list", daemon_->storage_pool, NULL);
	g_test_message ("h1's volumes:\n%s", volumes);
	g_assert_nonnull (strstr (volumes, ".verified"));
	g_assert_nonnull (strstr (volumes, POOL "-1.qcow2"));
}

/* The state file keeps the host: a restarted daemon has it again, online,
 * with its nodes. */
static void
test_kept_across_restart (void)
{
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_start (daemon_);
	nf_test_wait_prop (daemon_, H1_PATH, HOST_IFACE, "State", "online", 60);
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryTotalMiB"), >, 1024);
	nf_test_wait_prop (daemon_, ROOT "/node/" POOL "_2d2", NODE_IFACE, "State", "running", 60);
	assert_pool_on_h1 ();
}

/* h1's libvirtd goes away: offline; it comes back: online by itself. The
 * same when the daemon starts while it is away. */
static void
test_offline_online (void)
{
	g_free (nf_test_farm ("stop-host", "h1", NULL));
	nf_test_wait_prop (daemon_, H1_PATH, HOST_IFACE, "State", "offline", 60);
	/* its nodes are not lost: there, unknown, their pool degraded */
	g_assert_true (nf_test_object_exists (daemon_, ROOT "/node/" POOL "_2d1"));
	nf_test_wait_prop (daemon_, ROOT "/node/" POOL "_2d1", NODE_IFACE, "State", "unknown", 10);
	nf_test_wait_prop (daemon_, ROOT "/pool/" POOL, POOL_IFACE, "State", "degraded", 10);
	g_free (nf_test_farm ("start-host", "h1", NULL));
	nf_test_wait_prop (daemon_, H1_PATH, HOST_IFACE, "State", "online", 90);
	assert_pool_on_h1 ();

	g_free (nf_test_farm ("stop-host", "h1", NULL));
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_start (daemon_);
	/* a host starts offline: it must stay so while its libvirtd is away
	 * (tried again, in vain), and its pool is left alone meanwhile */
	g_usleep (3 * G_USEC_PER_SEC);
	{
		g_autofree gchar *state = nf_test_prop_string (daemon_, H1_PATH, HOST_IFACE, "State");

		g_assert_cmpstr (state, ==, "offline");
	}
	/* its nodes, as last seen, are there: unknown */
	nf_test_wait_prop (daemon_, ROOT "/node/" POOL "_2d2", NODE_IFACE, "State", "unknown", 10);
	nf_test_call_fails (daemon_, ROOT "/pool/" POOL, POOL_IFACE, "Scale", "(uint32 3,)", NF_ERR "Busy");
	nf_test_call_fails (daemon_, ROOT, MANAGER, "RemoveHost", "('h1', @a{sv} {})", NF_ERR "Busy");
	g_free (nf_test_farm ("start-host", "h1", NULL));
	nf_test_wait_prop (daemon_, H1_PATH, HOST_IFACE, "State", "online", 90);
	/* the nodes it had come back with it */
	nf_test_wait_prop (daemon_, ROOT "/node/" POOL "_2d2", NODE_IFACE, "State", "running", 60);
	assert_pool_on_h1 ();
}

/* A host with nodes is not removed; its pool's delete leaves nothing on
 * it. */
static void
test_delete_pool_on_host (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *left = NULL;
	g_autofree gchar *volumes = NULL;

	nf_test_call_fails (daemon_, ROOT, MANAGER, "RemoveHost", "('h1', @a{sv} {})", NF_ERR "Busy");
	reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "DeletePool", "('" POOL "', {'force': <true>})");
	nf_test_job_succeeds (daemon_, reply, 120);
	left = domains_on ("h1", TRUE);
	g_assert_cmpstr (g_strstrip (left), ==, "");
	volumes = nf_test_run ("virsh", "-q", "-c", uri_of ("h1"), "vol-list", daemon_->storage_pool, NULL);
	g_assert_null (strstr (volumes, POOL "-"));
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryCommittedMiB"), ==, 0);
}

/* RemoveHost: gone, and still gone after a restart. */
static void
test_remove_host (void)
{
	g_autoptr (GVariant) reply =
		nf_test_call_ok (daemon_, ROOT, MANAGER, "RemoveHost", "('h1', @a{sv} {})");

	nf_test_job_succeeds (daemon_, reply, 60);
	g_assert_false (nf_test_object_exists (daemon_, H1_PATH));
	nf_test_daemon_stop (daemon_);
	nf_test_daemon_start (daemon_);
	g_assert_false (nf_test_object_exists (daemon_, H1_PATH));
	g_assert_true (nf_test_object_exists (daemon_, ROOT "/host/local"));
}

static NfCliRun *
nestfarmctl (const gchar *const *args)
{
	g_autofree gchar *binary =
		g_build_filename (g_getenv ("NF_BUILD_ROOT"), "src", "cli", "nestfarmctl", NULL);
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();

	g_ptr_array_add (argv, binary);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) args[i]);
	return nf_test_cli_run_argv (argv, NULL);
}

/* The same through nestfarmctl: host add shows the host, host list has
 * both, host remove says so. */
static void
test_cli (void)
{
	const gchar *add[] = {"host", "add", "h2", uri_of ("h2"), "--peer-uri", uri_of ("h2-peer"), NULL};
	const gchar *list[] = {"host", "list", "--json", NULL};
	const gchar *remove[] = {"host", "remove", "h2", NULL};
	g_autoptr (NfCliRun) added = nestfarmctl (add);
	g_autoptr (NfCliRun) listed = nestfarmctl (list);
	g_autoptr (NfCliRun) removed = NULL;
	g_autoptr (JsonParser) parser = json_parser_new ();
	JsonArray *hosts;

	nf_test_cli_assert_status (added, 0);
	g_assert_nonnull (strstr (added->out, "Host:         h2"));
	g_assert_nonnull (strstr (added->out, "State:        online"));
	nf_test_cli_assert_status (listed, 0);
	g_assert_true (json_parser_load_from_data (parser, listed->out, -1, NULL));
	hosts = json_node_get_array (json_parser_get_root (parser));
	g_assert_cmpuint (json_array_get_length (hosts), ==, 2);
	g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (hosts, 0), "name"),
			 ==,
			 "local");
	g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (hosts, 1), "name"),
			 ==,
			 "h2");
	g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (hosts, 1), "uri"),
			 ==,
			 uri_of ("h2"));
	/* drained (it has no nodes), in maintenance; active again */
	{
		const gchar *drain[] = {"host", "drain", "h2", NULL};
		const gchar *activate[] = {"host", "activate", "h2", NULL};
		const gchar *rebalance[] = {"farm", "rebalance", "--threshold", "5", NULL};
		const gchar *bad[] = {"farm", "rebalance", "--threshold", "0", NULL};
		g_autoptr (NfCliRun) drained = nestfarmctl (drain);
		g_autoptr (NfCliRun) activated = nestfarmctl (activate);
		g_autoptr (NfCliRun) balanced = nestfarmctl (rebalance);
		g_autoptr (NfCliRun) refused = nestfarmctl (bad);

		nf_test_cli_assert_status (drained, 0);
		g_assert_nonnull (strstr (drained->out, "State:        maintenance"));
		nf_test_cli_assert_status (activated, 0);
		g_assert_nonnull (strstr (activated->out, "State:        online"));
		/* this daemon's nodes cannot move (CPUMode=passthrough) */
		nf_test_cli_assert_status (balanced, 1);
		g_assert_nonnull (strstr (balanced->err, "CPUMode is passthrough"));
		nf_test_cli_assert_status (refused, 2);
	}
	removed = nestfarmctl (remove);
	nf_test_cli_assert_status (removed, 0);
	g_assert_nonnull (strstr (removed->out, "Host h2 is no longer in the farm."));
}

/* How many domains of @host's libvirt are named PREFIX-N. */
static guint
domains_named_on (const gchar *host, const gchar *prefix)
{
	g_autofree gchar *all = domains_on (host, TRUE);
	g_auto (GStrv) lines = g_strsplit (all != NULL ? all : "", "\n", -1);
	guint n = 0;

	for (guint i = 0; lines[i] != NULL; i++)
		n += g_str_has_prefix (g_strstrip (lines[i]), prefix);
	return n;
}

/* Waits until @host has no domain named PREFIX-N. */
static void
wait_none_on (const gchar *host, const gchar *prefix, guint timeout_s)
{
	gint64 until = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

	while (domains_named_on (host, prefix) > 0 && g_get_monotonic_time () < until)
		g_usleep (G_USEC_PER_SEC / 2);
	g_assert_cmpuint (domains_named_on (host, prefix), ==, 0);
}

/* A lab directory with a *.host file beside a pool file that names that
 * host: lab apply adds the host first, then makes the pool there; applied
 * again, both match. */
static void
test_lab_host_file (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("nf-farm-lab-XXXXXX", NULL);
	g_autofree gchar *host_file = g_build_filename (dir, "h2.host", NULL);
	g_autofree gchar *pool_file = g_build_filename (dir, "flab.pool", NULL);
	g_autofree gchar *host_text =
		g_strdup_printf ("[Host]\nName=h2\nURI=%s\nPeerURI=%s\n", uri_of ("h2"), uri_of ("h2-peer"));
	const gchar *apply[] = {"lab", "apply", dir, NULL};
	const gchar *dry[] = {"lab", "apply", "--dry-run", dir, NULL};
	g_autoptr (NfCliRun) planned = NULL;
	g_autoptr (NfCliRun) applied = NULL;
	g_autoptr (NfCliRun) again = NULL;
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *node_host = NULL;

	g_assert_nonnull (dir);
	g_assert_true (g_file_set_contents (host_file, host_text, -1, NULL));
	g_assert_true (g_file_set_contents (pool_file,
					    "[Pool]\nName=flab\nCount=1\nMemoryMiB=256\nVCPUs=1\nDiskGiB=1\n"
					    "Start=false\nHosts=h2\n",
					    -1,
					    NULL));
	planned = nestfarmctl (dry);
	nf_test_cli_assert_status (planned, 0);
	g_assert_nonnull (strstr (planned->out, "would add host h2"));
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/host/h2"));
	applied = nestfarmctl (apply);
	nf_test_cli_assert_status (applied, 0);
	g_assert_nonnull (strstr (applied->out, "adding host h2"));
	nf_test_wait_prop (daemon_, ROOT "/host/h2", HOST_IFACE, "State", "online", 60);
	node_host = nf_test_prop_string (daemon_, ROOT "/node/flab_2d1", NODE_IFACE, "Host");
	g_assert_cmpstr (node_host, ==, ROOT "/host/h2");
	g_assert_cmpuint (domains_named_on ("h2", "flab-"), ==, 1);
	again = nestfarmctl (apply);
	nf_test_cli_assert_status (again, 0);
	g_assert_nonnull (strstr (again->out, "host h2 matches"));
	g_assert_nonnull (strstr (again->out, "nothing to do"));
	reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "DeletePool", "('flab', {'force': <true>})");
	nf_test_job_succeeds (daemon_, reply, 120);
	g_assert_cmpuint (domains_named_on ("h2", "flab-"), ==, 0);
	g_unlink (host_file);
	g_unlink (pool_file);
	g_rmdir (dir);
}

/* A command's output, stripped; the test fails when it fails. */
static gchar *
must (gchar *out)
{
	g_assert_nonnull (out);
	return g_strstrip (out);
}

/* ovn-nbctl and ovn-sbctl on the farm's databases */
#define NBCTL(...) must (nf_test_run ("ovn-nbctl", nb_db_, __VA_ARGS__, NULL))
#define SBCTL(...) must (nf_test_run ("ovn-sbctl", sb_db_, __VA_ARGS__, NULL))

/* The farm again, now with OvnNorthbound set and CPUMode=baseline: a
 * daemon of its own (the first one's state goes with it), h1 and h2
 * added with the URIs their libvirtds reach each other by. Its CPU
 * baseline is a named model, which every host here can run. */
static void
test_ovn_daemon (void)
{
	const gchar *const pools[] = {POOL, NULL};
	g_autofree gchar *extra =
		g_strdup_printf ("OvnNorthbound=%s\nCPUMode=baseline\n", nb_db_ + strlen ("--db="));
	g_autofree gchar *baseline = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = NULL;

	nf_test_daemon_free (daemon_, pools);
	daemon_ = nf_test_daemon_new ("farmovn", extra);
	nf_test_daemon_start (daemon_);
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *name = g_strdup_printf ("h%u", i);
		g_autofree gchar *peer = g_strdup_printf ("h%u-peer", i);
		g_autofree gchar *options = g_strdup_printf ("{'peer-uri': <'%s'>}", uri_of (peer));

		g_free (state);
		g_free (message);
		state = add_host_with (name, uri_of (name), options, &message);
		g_assert_cmpstr (message, ==, "");
		g_assert_cmpstr (state, ==, "succeeded");
	}
	for (guint i = 0; i < 300; i++) {
		g_free (baseline);
		baseline = nf_test_prop_string (daemon_, ROOT, MANAGER, "CPUBaseline");
		if (baseline[0] != '\0')
			break;
		g_usleep (G_USEC_PER_SEC / 10);
	}
	g_test_message ("the farm's CPU baseline: %s", baseline);
	g_assert_cmpstr (baseline, !=, "");
}

/* The nodes' own program (the tiny image runs a shell-script user-data
 * from its seed): on the trunk NIC, VLANs 100 and 200 (in the pool's
 * list) and 300 (not in it), node N at 10.V.0.N on VLAN V00; 10.9.0.1 is
 * node 1's on VLAN 100 and 10.9.0.4 node 4's on VLAN 200 (ARP answered
 * only on the VLAN an address is on). Node 1 then pings every other node
 * on VLANs 100 and 200 (waiting for them to boot), 10.9.0.4 (another
 * VLAN: never) and node 2 on VLAN 300 (filtered out: never). */
static const gchar trunk_script[] =
	"#!/bin/sh\n"
	"n=$(hostname); n=${n##*-}\n"
	"t=$(ls /sys/class/net | grep '^eth' | tail -n 1)\n"
	"echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore\n"
	"ip link set \"$t\" up\n"
	"for v in 1 2 3; do\n"
	"  ip link add link \"$t\" name \"$t.${v}00\" type vlan id ${v}00\n"
	"  ip addr add 10.$v.0.$n/24 dev \"$t.${v}00\"\n"
	"  ip link set \"$t.${v}00\" up\n"
	"done\n"
	"[ \"$n\" = 1 ] && ip addr add 10.9.0.1/24 dev \"$t.100\"\n"
	"[ \"$n\" = 4 ] && ip addr add 10.9.0.4/24 dev \"$t.200\"\n"
	"echo NESTFARM-VLANS-UP\n"
	"[ \"$n\" = 1 ] || exit 0\n"
	"probe() {\n"
	"  i=0\n"
	"  while [ $i -lt $2 ]; do\n"
	"    ping -c 1 -W 1 $1 >/dev/null 2>&1 && { echo \"NESTFARM-PING $1 ok\"; return; }\n"
	"    i=$((i + 1))\n"
	"  done\n"
	"  echo \"NESTFARM-PING $1 fail\"\n"
	"}\n"
	"for p in 2 3 4; do probe 10.1.0.$p 240; probe 10.2.0.$p 30; done\n"
	"probe 10.9.0.4 5\n"
	"probe 10.3.0.2 5\n"
	"echo NESTFARM-PINGS-DONE\n";

/* Node @index of @pool: its host's name (h1, h2). */
static gchar *
node_host (const gchar *pool, guint index)
{
	g_autofree gchar *path = nf_test_node_path (pool, index);
	g_autofree gchar *host = nf_test_prop_string (daemon_, path, NODE_IFACE, "Host");

	return g_strdup (strrchr (host, '/') + 1);
}

static gchar *
ovn_node_host (guint index)
{
	return node_host (OVN_POOL, index);
}

/* The port @port is bound on the chassis of @host (that host's
 * ovn-controller saw libvirt plug it into its br-int), within 90 s. */
static void
assert_port_bound_on (const gchar *host, const gchar *port)
{
	g_autofree gchar *where = g_strdup_printf ("logical_port=%s", port);
	g_autofree gchar *chassis = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *want = g_strdup_printf ("nf-farm-%s", host);
	gint64 until = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;

	while (g_get_monotonic_time () < until) {
		g_free (chassis);
		g_free (name);
		chassis = SBCTL ("--bare", "--columns=chassis", "find", "Port_Binding", where);
		name = chassis[0] != '\0' ? SBCTL ("--bare", "--columns=name", "list", "Chassis", chassis)
					  : g_strdup ("");
		if (g_str_equal (name, want))
			break;
		g_usleep (G_USEC_PER_SEC / 2);
	}
	g_assert_cmpstr (name, ==, want);
}

/* The port of node @index is bound where the node runs. */
static void
assert_port_bound (guint index, const gchar *port)
{
	g_autofree gchar *host = ovn_node_host (index);

	assert_port_bound_on (host, port);
}

/* A 4-node pool with a VLAN list over h1 and h2: two nodes on each (the
 * spread), one OVN switch carrying tagged frames with the VLAN list as
 * its ACLs, one port per node, accepting any MAC, named by the UUID its
 * domain's trunk NIC carries as interfaceid, bound where the node runs. */
static void
test_ovn_pool (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *passthru = NULL;
	g_autofree gchar *acls = NULL;
	g_autofree gchar *ports = NULL;
	guint on_h1 = 0;

	g_autoptr (GVariant) options = NULL;
	g_autofree gchar *args = NULL;
	g_autofree gchar *printed = NULL;

	options = g_variant_parse (NULL,
				   "{" NF_TEST_SMALL_NODE ", 'hosts': <['h1', 'h2']>, 'vlans': <'100,200'>}",
				   NULL,
				   NULL,
				   NULL);
	g_assert_nonnull (options);
	{
		g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (options);

		g_variant_dict_insert (&dict, "user-data", "s", trunk_script);
		g_clear_pointer (&options, g_variant_unref);
		options = g_variant_ref_sink (g_variant_dict_end (&dict));
	}
	printed = g_variant_print (options, TRUE);
	args = g_strdup_printf ("('" OVN_POOL "', uint32 4, %s)", printed);
	reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "CreatePool", args);
	nf_test_job_succeeds (daemon_, reply, 300);
	passthru = NBCTL ("get", "Logical_Switch", OVN_SWITCH, "other_config:vlan-passthru");
	g_assert_cmpstr (passthru, ==, "\"true\"");
	acls = NBCTL ("acl-list", OVN_SWITCH);
	g_assert_nonnull (strstr (acls, "vlan.vid == {100, 200}"));
	ports = NBCTL ("lsp-list", OVN_SWITCH);
	for (guint i = 1; i <= 4; i++) {
		g_autofree gchar *port = nf_ovn_port_name (NF_TEST_INSTANCE, OVN_POOL, i);
		g_autofree gchar *host = ovn_node_host (i);
		g_autofree gchar *name = g_strdup_printf (OVN_POOL "-%u", i);
		g_autofree gchar *xml = nf_test_run ("virsh", "-c", uri_of (host), "dumpxml", name, NULL);
		g_autofree gchar *xpath =
			g_strdup_printf ("/domain/devices/interface[source/@bridge='br-int']"
					 "/virtualport/parameters/@interfaceid = '%s'",
					 port);
		g_autofree gchar *addresses = NBCTL ("lsp-get-addresses", port);

		g_assert_nonnull (strstr (ports, port));
		g_assert_cmpstr (addresses, ==, "unknown");
		g_assert_nonnull (xml);
		g_assert_true (nf_test_xpath_bool (xml, xpath));
		/* the VLAN list is OVN's: no tags on the br-int port */
		g_assert_false (nf_test_xpath_bool (xml, "count(/domain/devices/interface/vlan) > 0"));
		on_h1 += g_str_equal (host, "h1");
		assert_port_bound (i, port);
	}
	g_assert_cmpuint (on_h1, ==, 2);
	g_assert_cmpuint (prop_u64 (ROOT "/host/h1", "MemoryCommittedMiB"), ==, 2 * 256);
	g_assert_cmpuint (prop_u64 (ROOT "/host/h2", "MemoryCommittedMiB"), ==, 2 * 256);
}

/* The trunk spans the hosts: node 1 (on h1) reaches nodes 2 and 4 (on
 * h2) and 3 (on h1) on both VLANs of the pool's list; an address on
 * another VLAN is never reached, nor is a VLAN the list leaves out. */
static void
test_ovn_trunk_traffic (void)
{
	g_autofree gchar *path = nf_test_node_path (OVN_POOL, 1);
	g_autofree gchar *log = nf_test_prop_string (daemon_, path, NODE_IFACE, "ConsoleLog");
	g_autofree gchar *text = NULL;
	const gchar *reached[] = {"10.1.0.2", "10.2.0.2", "10.1.0.3", "10.2.0.3", "10.1.0.4", "10.2.0.4"};

	nf_test_wait_for_log_line (log, "NESTFARM-PINGS-DONE", 600);
	g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
	g_test_message ("%s", text);
	for (guint i = 0; i < G_N_ELEMENTS (reached); i++) {
		g_autofree gchar *line = g_strdup_printf ("NESTFARM-PING %s ok", reached[i]);

		g_assert_nonnull (strstr (text, line));
	}
	g_assert_nonnull (strstr (text, "NESTFARM-PING 10.9.0.4 fail"));
	g_assert_nonnull (strstr (text, "NESTFARM-PING 10.3.0.2 fail"));
}

/* --- moving nodes (CPUMode=baseline) --- */

#define MOVE_POOL "fmove"

/* Node 1 answers on VLAN 100 at 10.1.0.1; node 2 counts on its console,
 * once a second, whether node 1 answered a ping across the trunk. */
static const gchar move_script[] =
	"#!/bin/sh\n"
	"n=$(hostname); n=${n##*-}\n"
	"t=$(ls /sys/class/net | grep '^eth' | tail -n 1)\n"
	"ip link set \"$t\" up\n"
	"ip link add link \"$t\" name \"$t.100\" type vlan id 100\n"
	"ip addr add 10.1.0.$n/24 dev \"$t.100\"\n"
	"ip link set \"$t.100\" up\n"
	"[ \"$n\" = 2 ] || exit 0\n"
	"i=0\n"
	"while :; do\n"
	"  i=$((i + 1))\n"
	"  if ping -c 1 -W 1 10.1.0.1 >/dev/null 2>&1; then r=ok; else r=lost; fi\n"
	"  echo \"NESTFARM-TICK $i $r\"\n"
	"  sleep 1\n"
	"done\n";

/* The last tick in @text (0: none), and how many of those after @after
 * were lost. */
static guint
last_tick (const gchar *text, guint after, guint *lost)
{
	g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
	guint last = 0;

	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *at = strstr (lines[i], "NESTFARM-TICK ");
		guint64 tick;

		if (at == NULL)
			continue;
		tick = g_ascii_strtoull (at + strlen ("NESTFARM-TICK "), NULL, 10);
		if (tick > after && lost != NULL && strstr (at, " lost") != NULL)
			(*lost)++;
		last = MAX (last, (guint) tick);
	}
	return last;
}

static gchar *
console_of (guint index)
{
	g_autofree gchar *path = nf_test_node_path (MOVE_POOL, index);

	return nf_test_prop_string (daemon_, path, NODE_IFACE, "ConsoleLog");
}

/* Waits until node 2's console shows a tick past @past with node 1
 * answering; the last tick seen. */
static guint
wait_ticks (guint past, guint timeout_s, guint *lost)
{
	g_autofree gchar *log = console_of (2);
	gint64 until = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
	guint last = 0;

	while (g_get_monotonic_time () < until) {
		g_autofree gchar *text = NULL;

		if (lost != NULL)
			*lost = 0;
		if (g_file_get_contents (log, &text, NULL, NULL)) {
			last = last_tick (text, 0, lost);
			/* serial lines end in CR LF */
			if (last > past && strstr (text, " ok\r\n") != NULL)
				return last;
		}
		g_usleep (G_USEC_PER_SEC / 2);
	}
	g_error ("node 2's console %s shows no tick past %u after %u s", log, past, timeout_s);
}

static gchar *
other_host (const gchar *host)
{
	return g_strdup (g_str_equal (host, "h1") ? "h2" : "h1");
}

static gboolean
listed_on (const gchar *host, const gchar *name, const gchar *which)
{
	g_autofree gchar *out =
		nf_test_run ("virsh", "-q", "-c", uri_of (host), "list", which, "--name", NULL);
	g_auto (GStrv) names = g_strsplit (out != NULL ? out : "", "\n", -1);

	return g_strv_contains ((const gchar *const *) names, name);
}

/* A pool of two nodes spread over h1 and h2, with the baseline CPU and
 * node 2 counting pings of node 1 over VLAN 100. */
static void
test_move_pool (void)
{
	g_autoptr (GVariant) options = NULL;
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *printed = NULL;
	g_autofree gchar *args = NULL;
	g_autofree gchar *baseline = nf_test_prop_string (daemon_, ROOT, MANAGER, "CPUBaseline");
	g_autofree gchar *host = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *xpath = NULL;

	options = g_variant_parse (NULL,
				   "{" NF_TEST_SMALL_NODE ", 'hosts': <['h1', 'h2']>, 'vlans': <'100'>}",
				   NULL,
				   NULL,
				   NULL);
	{
		g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (options);

		g_variant_dict_insert (&dict, "user-data", "s", move_script);
		g_clear_pointer (&options, g_variant_unref);
		options = g_variant_ref_sink (g_variant_dict_end (&dict));
	}
	printed = g_variant_print (options, TRUE);
	args = g_strdup_printf ("('" MOVE_POOL "', uint32 2, %s)", printed);
	reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "CreatePool", args);
	nf_test_job_succeeds (daemon_, reply, 300);
	/* the node's CPU is the farm's baseline, svm required, not the host's */
	host = node_host (MOVE_POOL, 2);
	xml = nf_test_run ("virsh", "-c", uri_of (host), "dumpxml", "--inactive", MOVE_POOL "-2", NULL);
	g_assert_nonnull (xml);
	xpath = g_strdup_printf ("/domain/cpu[@mode='custom']/model = '%s'", baseline);
	g_assert_true (nf_test_xpath_bool (xml, xpath));
	g_assert_true (
		nf_test_xpath_bool (xml, "count(/domain/cpu/feature[@name='svm'][@policy='require']) = 1"));
	g_assert_true (
		nf_test_xpath_bool (xml,
				    "/domain/devices/interface[source/@bridge='br-int']/alias/@name = 'ua-trunk'"));
	wait_ticks (2, 600, NULL);
}

/* Node 2 moves live to the other host and keeps counting: its ticks go on
 * with at most a few pings lost, no panic on its console, its MACs and
 * OVN port with it (bound on the new host), persistent there and gone
 * from the old host, overlay and all; the memory moves with it. */
static void
test_move_live (void)
{
	g_autofree gchar *path = nf_test_node_path (MOVE_POOL, 2);
	g_autofree gchar *from = node_host (MOVE_POOL, 2);
	g_autofree gchar *to = other_host (from);
	g_autofree gchar *args = g_strdup_printf ("({'host': <'%s'>},)", to);
	g_autofree gchar *from_path = g_strdup_printf (ROOT "/host/%s", from);
	g_autofree gchar *to_path = g_strdup_printf (ROOT "/host/%s", to);
	g_autofree gchar *port = nf_ovn_port_name (NF_TEST_INSTANCE, MOVE_POOL, 2);
	g_autoptr (GVariant) macs_before = nf_test_get_property (daemon_, path, NODE_IFACE, "MACs");
	g_autoptr (GVariant) macs_after = NULL;
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *old_log = console_of (2);
	g_autofree gchar *new_log = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *volumes = NULL;
	guint64 from_mib = prop_u64 (from_path, "MemoryCommittedMiB");
	guint64 to_mib = prop_u64 (to_path, "MemoryCommittedMiB");
	guint before = wait_ticks (3, 120, NULL);
	guint after;
	guint lost = 0;
	gint64 started = g_get_monotonic_time ();

	reply = nf_test_call_ok (daemon_, path, NODE_IFACE, "Migrate", args);
	nf_test_job_succeeds (daemon_, reply, 300);
	g_test_message ("moved %s -> %s live in %.1f s", from, to, (g_get_monotonic_time () - started) / 1e6);
	nf_test_wait_prop (daemon_, path, NODE_IFACE, "Host", to_path, 5);
	g_assert_true (listed_on (to, MOVE_POOL "-2", "--state-running"));
	g_assert_true (listed_on (to, MOVE_POOL "-2", "--persistent"));
	g_assert_false (listed_on (from, MOVE_POOL "-2", "--all"));
	macs_after = nf_test_get_property (daemon_, path, NODE_IFACE, "MACs");
	g_assert_true (g_variant_equal (macs_before, macs_after));
	assert_port_bound_on (to, port);
	g_assert_cmpuint (prop_u64 (from_path, "MemoryCommittedMiB"), ==, from_mib - 256);
	g_assert_cmpuint (prop_u64 (to_path, "MemoryCommittedMiB"), ==, to_mib + 256);
	/* its console log is the new host's now, and the old one is gone */
	new_log = console_of (2);
	g_assert_cmpstr (new_log, !=, old_log);
	g_assert_false (g_file_test (old_log, G_FILE_TEST_EXISTS));
	after = wait_ticks (before + 10, 120, &lost);
	g_assert_true (g_file_get_contents (new_log, &text, NULL, NULL));
	g_test_message ("ticks %u before the move, %u after; %u lost on the new host", before, after, lost);
	g_assert_cmpuint (last_tick (text, 0, NULL), >, before);
	g_assert_cmpuint (lost, <=, 3);
	g_assert_null (strstr (text, "Kernel panic"));
	g_assert_null (strstr (text, "Oops"));
	volumes = nf_test_run ("virsh", "-q", "-c", uri_of (from), "vol-list", daemon_->storage_pool, NULL);
	g_assert_null (strstr (volumes, MOVE_POOL "-2.qcow2"));
}

/* Stopped, node 2 moves back cold: defined there, off, gone here; started,
 * it boots from its own seed and overlay and counts again. */
static void
test_move_cold (void)
{
	g_autofree gchar *path = nf_test_node_path (MOVE_POOL, 2);
	g_autofree gchar *from = node_host (MOVE_POOL, 2);
	g_autofree gchar *to = other_host (from);
	g_autofree gchar *to_path = g_strdup_printf (ROOT "/host/%s", to);
	g_autoptr (GVariant) reply = NULL;

	reply = nf_test_call_ok (daemon_, path, NODE_IFACE, "Stop", "(@a{sv} {},)");
	nf_test_job_succeeds (daemon_, reply, 120);
	g_clear_pointer (&reply, g_variant_unref);
	/* no host named: placement picks the other one */
	reply = nf_test_call_ok (daemon_, path, NODE_IFACE, "Migrate", "(@a{sv} {},)");
	nf_test_job_succeeds (daemon_, reply, 300);
	g_clear_pointer (&reply, g_variant_unref);
	nf_test_wait_prop (daemon_, path, NODE_IFACE, "Host", to_path, 5);
	nf_test_wait_prop (daemon_, path, NODE_IFACE, "State", "stopped", 5);
	g_assert_true (listed_on (to, MOVE_POOL "-2", "--inactive"));
	g_assert_false (listed_on (from, MOVE_POOL "-2", "--all"));
	reply = nf_test_call_ok (daemon_, path, NODE_IFACE, "Start", "()");
	nf_test_job_succeeds (daemon_, reply, 120);
	wait_ticks (2, 600, NULL);
}

/* Refused at the call, and the node stays where it is. */
static void
test_move_refused (void)
{
	g_autofree gchar *path = nf_test_node_path (MOVE_POOL, 2);
	g_autofree gchar *here = node_host (MOVE_POOL, 2);
	g_autofree gchar *there = other_host (here);
	g_autofree gchar *there_path = g_strdup_printf (ROOT "/host/%s", there);
	g_autofree gchar *same = g_strdup_printf ("({'host': <'%s'>},)", here);
	g_autofree gchar *other = g_strdup_printf ("({'host': <'%s'>},)", there);
	g_autofree gchar *cold = g_strdup_printf ("({'host': <'%s'>, 'live': <false>},)", there);

	nf_test_call_fails (daemon_,
			    path,
			    NODE_IFACE,
			    "Migrate",
			    "({'host': <'h9'>},)",
			    NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_, path, NODE_IFACE, "Migrate", same, NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_, path, NODE_IFACE, "Migrate", cold, NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_,
			    path,
			    NODE_IFACE,
			    "Migrate",
			    "({'live': <'yes'>},)",
			    NF_ERR "InvalidArgument");
	nf_test_call_fails (daemon_,
			    path,
			    NODE_IFACE,
			    "Migrate",
			    "({'host': <'H 1'>},)",
			    NF_ERR "InvalidArgument");
	/* the target offline */
	g_free (nf_test_farm ("stop-host", there, NULL));
	nf_test_wait_prop (daemon_, there_path, HOST_IFACE, "State", "offline", 60);
	nf_test_call_fails (daemon_, path, NODE_IFACE, "Migrate", other, NF_ERR "Busy");
	g_free (nf_test_farm ("start-host", there, NULL));
	nf_test_wait_prop (daemon_, there_path, HOST_IFACE, "State", "online", 90);
	g_assert_cmpstr (node_host (MOVE_POOL, 2), ==, here);
	g_assert_true (listed_on (here, MOVE_POOL "-2", "--state-running"));
}

static gchar *
host_state (const gchar *host)
{
	g_autofree gchar *path = g_strdup_printf (ROOT "/host/%s", host);

	return nf_test_prop_string (daemon_, path, HOST_IFACE, "State");
}

/* Calls @method (Drain, Activate) on @host; the job's state and message. */
static gchar *
host_call (const gchar *host, const gchar *method, const gchar *args, gchar **message)
{
	g_autofree gchar *path = g_strdup_printf (ROOT "/host/%s", host);
	g_autoptr (GVariant) reply = nf_test_call_ok (daemon_, path, HOST_IFACE, method, args);
	g_autofree gchar *job = nf_test_reply_job (reply);

	return nf_test_wait_job (daemon_, job, 600, message);
}

/* Drain empties a host: its nodes move (live) to the other, it is in
 * maintenance with none, and new nodes do not land on it. */
static void
test_move_drain (void)
{
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = host_call ("h1", "Drain", "(@a{sv} {},)", &message);
	g_autofree gchar *h1_state = host_state ("h1");
	g_autoptr (GVariant) nodes = nf_test_get_property (daemon_, H1_PATH, HOST_IFACE, "Nodes");

	g_assert_cmpstr (message, ==, "");
	g_assert_cmpstr (state, ==, "succeeded");
	g_assert_cmpstr (h1_state, ==, "maintenance");
	g_assert_cmpuint (g_variant_n_children (nodes), ==, 0);
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryCommittedMiB"), ==, 0);
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *host = node_host (MOVE_POOL, i);

		g_assert_cmpstr (host, ==, "h2");
	}
	g_assert_true (listed_on ("h2", MOVE_POOL "-1", "--state-running"));
	g_assert_false (listed_on ("h1", MOVE_POOL "-1", "--all"));
	/* node 2 still counts pings of node 1 over the trunk */
	wait_ticks (wait_ticks (0, 60, NULL) + 3, 120, NULL);
	/* nothing new lands on a host in maintenance */
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "CreatePool",
			    "('fnone', uint32 1, {" NF_TEST_SMALL_NODE
			    ", 'hosts': <['h1']>, 'start': <false>})",
			    NF_ERR "InsufficientResources");
	nf_test_call_fails (daemon_,
			    ROOT "/node/" MOVE_POOL "_2d1",
			    NODE_IFACE,
			    "Migrate",
			    "({'host': <'h1'>},)",
			    NF_ERR "Busy");
}

/* A drain with nowhere to go (the other host in maintenance) names each
 * node and why, moves nothing, and leaves the host draining; Activate
 * brings both back. */
static void
test_move_drain_blocked (void)
{
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = host_call ("h2", "Drain", "(@a{sv} {},)", &message);
	g_autofree gchar *h2_state = host_state ("h2");
	g_autofree gchar *h1_state = NULL;
	g_autofree gchar *h2_after = NULL;

	g_test_message ("%s", message);
	g_assert_cmpstr (state, ==, "failed");
	g_assert_nonnull (strstr (message, MOVE_POOL "-1: "));
	g_assert_nonnull (strstr (message, MOVE_POOL "-2: "));
	g_assert_nonnull (strstr (message, "host activate h2"));
	g_assert_cmpstr (h2_state, ==, "draining");
	g_assert_true (listed_on ("h2", MOVE_POOL "-1", "--state-running"));
	g_assert_true (listed_on ("h2", MOVE_POOL "-2", "--state-running"));
	g_free (state);
	g_free (message);
	state = host_call ("h2", "Activate", "()", &message);
	g_assert_cmpstr (state, ==, "succeeded");
	g_free (state);
	g_free (message);
	state = host_call ("h1", "Activate", "()", &message);
	g_assert_cmpstr (state, ==, "succeeded");
	h1_state = host_state ("h1");
	h2_after = host_state ("h2");
	g_assert_cmpstr (h1_state, ==, "online");
	g_assert_cmpstr (h2_after, ==, "online");
	nf_test_call_fails (daemon_,
			    H1_PATH,
			    HOST_IFACE,
			    "Drain",
			    "({'now': <true>},)",
			    NF_ERR "InvalidArgument");
}

/* Both nodes on h2 and none on h1: a rebalance within one percentage
 * point moves one of them to h1, live; the next pass has nothing to do. */
static void
test_move_rebalance (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *job = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = NULL;

	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "Rebalance",
			    "({'threshold': <uint32 0>},)",
			    NF_ERR "InvalidArgument");
	reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "Rebalance", "({'threshold': <uint32 1>},)");
	job = nf_test_reply_job (reply);
	state = nf_test_wait_job (daemon_, job, 600, &message);
	g_assert_cmpstr (message, ==, "");
	g_assert_cmpstr (state, ==, "succeeded");
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryCommittedMiB"), ==, 256);
	g_assert_cmpuint (prop_u64 (ROOT "/host/h2", "MemoryCommittedMiB"), ==, 256);
	g_clear_pointer (&reply, g_variant_unref);
	g_free (job);
	g_free (state);
	g_free (message);
	reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "Rebalance", "({'threshold': <uint32 1>},)");
	job = nf_test_reply_job (reply);
	state = nf_test_wait_job (daemon_, job, 120, &message);
	g_assert_cmpstr (state, ==, "succeeded");
	g_assert_cmpuint (prop_u64 (H1_PATH, "MemoryCommittedMiB"), ==, 256);
}

/* The daemon killed at @point of a move of node 2, started again: the
 * node runs on exactly one host (@moved: the target), and is reported
 * there; a move afterwards succeeds over what the cut-short one left. */
static void
crash_in_move (const gchar *point, gboolean moved)
{
	g_autofree gchar *path = nf_test_node_path (MOVE_POOL, 2);
	g_autofree gchar *from = node_host (MOVE_POOL, 2);
	g_autofree gchar *to = other_host (from);
	g_autofree gchar *args = g_strdup_printf ("({'host': <'%s'>},)", to);
	g_autofree gchar *back = g_strdup_printf ("({'host': <'%s'>},)", from);
	g_autofree gchar *where = g_strdup (moved ? to : from);
	g_autofree gchar *where_path = g_strdup_printf (ROOT "/host/%s", where);
	g_autofree gchar *elsewhere = other_host (where);
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GVariant) again = NULL;

	nf_test_daemon_stop (daemon_);
	g_setenv ("NF_FAIL_POINT", point, TRUE);
	nf_test_daemon_start (daemon_);
	g_unsetenv ("NF_FAIL_POINT");
	nf_test_wait_prop (daemon_, ROOT "/host/h1", HOST_IFACE, "State", "online", 90);
	nf_test_wait_prop (daemon_, ROOT "/host/h2", HOST_IFACE, "State", "online", 90);
	reply = nf_test_call_ok (daemon_, path, NODE_IFACE, "Migrate", args);
	g_assert_true (nf_test_daemon_wait_death (daemon_, 300));
	nf_test_daemon_start (daemon_);
	nf_test_wait_prop (daemon_, ROOT "/host/h1", HOST_IFACE, "State", "online", 90);
	nf_test_wait_prop (daemon_, ROOT "/host/h2", HOST_IFACE, "State", "online", 90);
	nf_test_wait_prop (daemon_, path, NODE_IFACE, "Host", where_path, 60);
	nf_test_wait_prop (daemon_, path, NODE_IFACE, "State", "running", 60);
	g_assert_true (listed_on (where, MOVE_POOL "-2", "--state-running"));
	g_assert_false (listed_on (elsewhere, MOVE_POOL "-2", "--all"));
	/* what it left is no obstacle to the next move */
	again = nf_test_call_ok (daemon_, path, NODE_IFACE, "Migrate", moved ? back : args);
	nf_test_job_succeeds (daemon_, again, 300);
	g_assert_true (listed_on (elsewhere, MOVE_POOL "-2", "--state-running"));
	g_assert_false (listed_on (where, MOVE_POOL "-2", "--all"));
}

static void
test_move_crash (void)
{
	/* the target made, the move not begun: the node stays */
	crash_in_move ("migrate:after-receive", FALSE);
	/* moved, the source not yet cleaned */
	crash_in_move ("migrate:after-migrate", TRUE);
}

static void
test_move_delete (void)
{
	g_autoptr (GVariant) reply =
		nf_test_call_ok (daemon_, ROOT "/pool/" MOVE_POOL, POOL_IFACE, "Delete", "(@a{sv} {},)");

	nf_test_job_succeeds (daemon_, reply, 300);
	g_assert_false (listed_on ("h1", MOVE_POOL "-1", "--all") ||
			listed_on ("h2", MOVE_POOL "-1", "--all"));
	g_assert_false (listed_on ("h1", MOVE_POOL "-2", "--all") ||
			listed_on ("h2", MOVE_POOL "-2", "--all"));
}

/* Delete leaves nothing on either host or in OVN. */
static void
test_ovn_delete (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *switches = NULL;
	g_autofree gchar *ports = NULL;

	reply = nf_test_call_ok (daemon_, ROOT, MANAGER, "DeletePool", "('" OVN_POOL "', {'force': <true>})");
	nf_test_job_succeeds (daemon_, reply, 180);
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *host = g_strdup_printf ("h%u", i);
		g_autofree gchar *left = domains_on (host, TRUE);

		g_assert_cmpstr (g_strstrip (left), ==, "");
	}
	switches = NBCTL ("--bare",
			  "--columns=name",
			  "find",
			  "Logical_Switch",
			  "external_ids:nestfarm-pool=" OVN_POOL);
	g_assert_cmpstr (switches, ==, "");
	ports = NBCTL ("--bare", "--columns=name", "list", "Logical_Switch_Port");
	for (guint i = 1; i <= 4; i++) {
		g_autofree gchar *port = nf_ovn_port_name (NF_TEST_INSTANCE, OVN_POOL, i);

		g_assert_null (strstr (ports, port));
	}
}

/* The daemon killed mid-create of a pool across h1 and h2 (a node's OVN
 * port just made), then started again while h2's libvirtd is away: h1's
 * part is rolled back when it opens, h2's is kept in the state file and
 * rolled back when h2 comes back; then nothing of the pool is left on
 * either host, in OVN or in the state file. */
static void
test_ovn_crash_create (void)
{
	g_autoptr (GVariant) reply = NULL;
	g_autofree gchar *state_file = g_build_filename (daemon_->state_dir, "pools.json", NULL);
	g_autofree gchar *state = NULL;
	g_autofree gchar *switches = NULL;

	nf_test_daemon_stop (daemon_);
	g_setenv ("NF_FAIL_POINT", "make:after-port", TRUE);
	nf_test_daemon_start (daemon_);
	g_unsetenv ("NF_FAIL_POINT");
	reply = nf_test_call_ok (daemon_,
				 ROOT,
				 MANAGER,
				 "CreatePool",
				 "('fcrash', uint32 4, {" NF_TEST_SMALL_NODE
				 ", 'hosts': <['h1', 'h2']>, 'start': <false>})");
	g_assert_true (nf_test_daemon_wait_death (daemon_, 120));
	g_test_message ("after the crash: h1 has %u of its nodes, h2 %u",
			domains_named_on ("h1", "fcrash-"),
			domains_named_on ("h2", "fcrash-"));
	g_free (nf_test_farm ("stop-host", "h2", NULL));
	nf_test_daemon_start (daemon_);
	nf_test_wait_prop (daemon_, ROOT "/host/h1", HOST_IFACE, "State", "online", 90);
	wait_none_on ("h1", "fcrash-", 60);
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/pool/fcrash"));
	/* its name is not free while h2 holds what is left of it */
	nf_test_call_fails (daemon_,
			    ROOT,
			    MANAGER,
			    "CreatePool",
			    "('fcrash', uint32 1, {" NF_TEST_SMALL_NODE ", 'start': <false>})",
			    NF_ERR "Busy");
	g_free (nf_test_farm ("start-host", "h2", NULL));
	nf_test_wait_prop (daemon_, ROOT "/host/h2", HOST_IFACE, "State", "online", 90);
	wait_none_on ("h2", "fcrash-", 60);
	g_assert_false (nf_test_object_exists (daemon_, ROOT "/pool/fcrash"));
	/* the state file keeps nothing of it once both are settled (saved
	 * just after) */
	for (guint i = 0; i < 50; i++) {
		g_free (state);
		g_assert_true (g_file_get_contents (state_file, &state, NULL, NULL));
		if (strstr (state, "fcrash") == NULL)
			break;
		g_usleep (G_USEC_PER_SEC / 5);
	}
	g_test_message ("%s", state);
	g_assert_null (strstr (state, "fcrash"));
	switches = NBCTL ("--bare",
			  "--columns=name",
			  "find",
			  "Logical_Switch",
			  "external_ids:nestfarm-pool=fcrash");
	g_assert_cmpstr (switches, ==, "");
}

/* What a crash between a pool's end and its switch's leaves: a switch of
 * this instance whose pool is no more goes at the next start; one that is
 * not nestfarm's stays. */
static void
test_ovn_orphan_switch (void)
{
	g_autofree gchar *left = NULL;
	gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

	nf_test_daemon_stop (daemon_);
	g_free (NBCTL ("ls-add",
		       "nf-" NF_TEST_INSTANCE "-fgone",
		       "--",
		       "set",
		       "Logical_Switch",
		       "nf-" NF_TEST_INSTANCE "-fgone",
		       "external_ids:nestfarm-instance=" NF_TEST_INSTANCE,
		       "external_ids:nestfarm-pool=fgone"));
	g_free (NBCTL ("--may-exist", "ls-add", "nf-" NF_TEST_INSTANCE "-fkeep"));
	nf_test_daemon_start (daemon_);
	while (g_get_monotonic_time () < until) {
		g_free (left);
		left = NBCTL ("--bare", "--columns=name", "list", "Logical_Switch");
		if (strstr (left, "-fgone") == NULL)
			break;
		g_usleep (G_USEC_PER_SEC / 5);
	}
	g_assert_null (strstr (left, "nf-" NF_TEST_INSTANCE "-fgone"));
	g_assert_nonnull (strstr (left, "nf-" NF_TEST_INSTANCE "-fkeep"));
	g_free (NBCTL ("ls-del", "nf-" NF_TEST_INSTANCE "-fkeep"));
}

int
main (int argc, char **argv)
{
	const gchar *const pools[] = {POOL, OVN_POOL, "fcrash", "flab", MOVE_POOL, NULL};
	int rc;

	g_test_init (&argc, &argv, NULL);
	farm_up ();
	daemon_ = nf_test_daemon_new ("farm", NULL);
	nf_test_daemon_start (daemon_);
	g_test_add_func ("/farm/add-host", test_add_host);
	g_test_add_func ("/farm/add-refused", test_add_refused);
	g_test_add_func ("/farm/pool-on-host", test_pool_on_host);
	g_test_add_func ("/farm/kept-across-restart", test_kept_across_restart);
	g_test_add_func ("/farm/offline-online", test_offline_online);
	g_test_add_func ("/farm/delete-pool-on-host", test_delete_pool_on_host);
	g_test_add_func ("/farm/remove-host", test_remove_host);
	g_test_add_func ("/farm/cli", test_cli);
	g_test_add_func ("/farm/lab-host-file", test_lab_host_file);
	g_test_add_func ("/farm/ovn/daemon", test_ovn_daemon);
	g_test_add_func ("/farm/ovn/pool", test_ovn_pool);
	g_test_add_func ("/farm/ovn/trunk-traffic", test_ovn_trunk_traffic);
	g_test_add_func ("/farm/move/pool", test_move_pool);
	g_test_add_func ("/farm/move/live", test_move_live);
	g_test_add_func ("/farm/move/refused", test_move_refused);
	g_test_add_func ("/farm/move/cold", test_move_cold);
	g_test_add_func ("/farm/move/drain", test_move_drain);
	g_test_add_func ("/farm/move/drain-blocked", test_move_drain_blocked);
	g_test_add_func ("/farm/move/rebalance", test_move_rebalance);
	g_test_add_func ("/farm/move/crash", test_move_crash);
	g_test_add_func ("/farm/move/delete", test_move_delete);
	g_test_add_func ("/farm/ovn/delete", test_ovn_delete);
	g_test_add_func ("/farm/ovn/crash-create", test_ovn_crash_create);
	g_test_add_func ("/farm/ovn/orphan-switch", test_ovn_orphan_switch);
	rc = g_test_run ();
	nf_test_daemon_free (daemon_, pools);
	g_free (nb_db_);
	g_free (sb_db_);
	g_free (nf_test_farm ("down", NULL));
	g_hash_table_unref (uris_);
	return rc;
}
