/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-ovs"

#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-ovs.h"
#include "nestfarm/nf-vlan.h"
#include "nf-test-util.h"

/* NfOvs against the host's real Open vSwitch (tools/services start ovs),
 * checked with ovs-vsctl, an independent client. The bridge has the
 * userspace datapath: containers and CI have no openvswitch module. */

#define BRIDGE   "nftovs0"
#define DATAPATH "netdev"
#define PORT_VMS "nftp0"
#define PORT_ALL "nftp1"
#define VM_A     "6f1b0c1e-2d3a-4b5c-8d9e-0a1b2c3d4e5f"
#define VM_B     "0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b"

/* Runs ovs-vsctl with the given arguments; its stdout, stripped, or NULL
 * if it failed. */
static gchar *
vsctl_try (const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autoptr (GError) error = NULL;
	gint status = 0;
	va_list args;

	g_ptr_array_add (argv, (gpointer) "ovs-vsctl");
	g_ptr_array_add (argv, (gpointer) "--timeout=10");
	va_start (args, first);
	for (const gchar *arg = first; arg != NULL; arg = va_arg (args, const gchar *))
		g_ptr_array_add (argv, (gpointer) arg);
	va_end (args);
	g_ptr_array_add (argv, NULL);
	if (!g_spawn_sync (NULL,
			   (gchar **) argv->pdata,
			   NULL,
			   G_SPAWN_SEARCH_PATH,
			   NULL,
			   NULL,
			   &out,
			   &err,
			   &status,
			   &error)) {
		g_test_message ("cannot run ovs-vsctl: %s", error->message);
		return NULL;
	}
	if (!g_spawn_check_wait_status (status, NULL)) {
		g_test_message ("ovs-vsctl failed: %s", err);
		return NULL;
	}
	return g_strstrip (g_steal_pointer (&out));
}

#define vsctl(...) assert_nonnull_out (vsctl_try (__VA_ARGS__, NULL))

static gchar *
assert_nonnull_out (gchar *out)
{
	g_assert_nonnull (out);
	return out;
}

static gboolean
link_exists (const gchar *name)
{
	g_autofree gchar *path = g_build_filename ("/sys/class/net", name, NULL);

	return g_file_test (path, G_FILE_TEST_EXISTS);
}

static NfOvs *
host_ovs (void)
{
	return nf_ovs_new (NULL, 5000);
}

static void
test_ping (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;

	if (!nf_ovs_ping (ovs, &error))
		g_test_message ("Open vSwitch must run for this test: tools/services start ovs");
	g_assert_no_error (error);
}

static void
test_bridge_ensure (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;
	g_autofree gchar *uuid = NULL;
	g_autofree gchar *uuid_again = NULL;
	g_autofree gchar *datapath = NULL;
	g_autofree gchar *aging = NULL;
	g_autofree gchar *size = NULL;
	gboolean exists = TRUE;

	g_assert_true (nf_ovs_bridge_exists (ovs, BRIDGE, &exists, &error));
	g_assert_no_error (error);
	g_assert_false (exists);

	g_assert_true (nf_ovs_ensure_bridge (ovs, BRIDGE, DATAPATH, 300, 8192, &error));
	g_assert_no_error (error);
	g_assert_true (nf_ovs_bridge_exists (ovs, BRIDGE, &exists, &error));
	g_assert_true (exists);
	uuid = vsctl ("get", "Bridge", BRIDGE, "_uuid");
	datapath = vsctl ("get", "Bridge", BRIDGE, "datapath_type");
	g_assert_cmpstr (datapath, ==, DATAPATH);
	aging = vsctl ("get", "Bridge", BRIDGE, "other_config:mac-aging-time");
	g_assert_cmpstr (aging, ==, "\"300\"");
	size = vsctl ("get", "Bridge", BRIDGE, "other_config:mac-table-size");
	g_assert_cmpstr (size, ==, "\"8192\"");
	/* ovs-vswitchd made it, not only the database. */
	g_assert_true (link_exists (BRIDGE));

	/* Idempotent: the same bridge, not a second one. */
	g_assert_true (nf_ovs_ensure_bridge (ovs, BRIDGE, DATAPATH, 300, 8192, &error));
	g_assert_no_error (error);
	uuid_again = vsctl ("get", "Bridge", BRIDGE, "_uuid");
	g_assert_cmpstr (uuid, ==, uuid_again);
}

static void
test_bridge_limits (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;
	g_autofree gchar *uuid = vsctl ("get", "Bridge", BRIDGE, "_uuid");
	g_autofree gchar *uuid_after = NULL;
	g_autofree gchar *aging = NULL;
	g_autofree gchar *aging_kept = NULL;
	g_autofree gchar *size = NULL;
	g_autofree gchar *other = NULL;
	g_autofree gchar *set = NULL;

	/* An administrator's own key survives our changes. */
	set = vsctl ("set", "Bridge", BRIDGE, "other_config:nftest-own=kept");
	g_assert_true (nf_ovs_ensure_bridge (ovs, BRIDGE, DATAPATH, 120, 8192, &error));
	g_assert_no_error (error);
	aging = vsctl ("get", "Bridge", BRIDGE, "other_config:mac-aging-time");
	g_assert_cmpstr (aging, ==, "\"120\"");
	size = vsctl ("get", "Bridge", BRIDGE, "other_config:mac-table-size");
	g_assert_cmpstr (size, ==, "\"8192\"");
	other = vsctl ("get", "Bridge", BRIDGE, "other_config:nftest-own");
	g_assert_cmpstr (other, ==, "kept");
	uuid_after = vsctl ("get", "Bridge", BRIDGE, "_uuid");
	g_assert_cmpstr (uuid, ==, uuid_after);

	/* 0 leaves a limit as it is. */
	g_assert_true (nf_ovs_ensure_bridge (ovs, BRIDGE, DATAPATH, 0, 0, &error));
	g_assert_no_error (error);
	aging_kept = vsctl ("get", "Bridge", BRIDGE, "other_config:mac-aging-time");
	g_assert_cmpstr (aging_kept, ==, "\"120\"");
}

static void
test_bridge_other_datapath (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;
	g_autofree gchar *datapath = NULL;

	/* An existing bridge is never switched to another datapath. */
	g_assert_false (nf_ovs_ensure_bridge (ovs, BRIDGE, "system", 300, 8192, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_test_message ("%s", error->message);
	datapath = vsctl ("get", "Bridge", BRIDGE, "datapath_type");
	g_assert_cmpstr (datapath, ==, DATAPATH);
}

/* Without the openvswitch kernel module a 'system' bridge cannot come up:
 * that is an error, and the half-made bridge is taken away again. */
static void
test_bridge_system_datapath (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;
	gboolean exists = TRUE;

	if (g_file_test ("/sys/module/openvswitch", G_FILE_TEST_IS_DIR)) {
		g_autofree gchar *gone = NULL;

		g_assert_true (nf_ovs_ensure_bridge (ovs, "nftovs1", "system", 300, 8192, &error));
		g_assert_no_error (error);
		gone = vsctl ("del-br", "nftovs1");
		return;
	}
	g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs1", "system", 300, 8192, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_test_message ("%s", error->message);
	g_assert_nonnull (strstr (error->message, "netdev"));
	g_clear_error (&error);
	g_assert_true (nf_ovs_bridge_exists (ovs, "nftovs1", &exists, &error));
	g_assert_no_error (error);
	g_assert_false (exists);
}

static const NfOvsPort *
find_port (GPtrArray *ports, const gchar *name)
{
	for (guint i = 0; i < ports->len; i++) {
		const NfOvsPort *port = g_ptr_array_index (ports, i);

		if (g_strcmp0 (port->name, name) == 0)
			return port;
	}
	return NULL;
}

/* g_error, unlike a test assertion, does not return: no NULL below. */
static const NfOvsPort *
get_port (GPtrArray *ports, const gchar *name)
{
	const NfOvsPort *port = find_port (ports, name);

	if (port == NULL)
		g_error ("port %s is not listed", name);
	return port;
}

static void
test_ports_list (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) ports = NULL;
	g_autoptr (GPtrArray) every = NULL;
	g_autoptr (GPtrArray) none = NULL;
	g_autoptr (NfVlanSet) vlans = nf_vlan_set_parse ("100-102,200", NULL);
	g_autoptr (GArray) wanted = nf_vlan_set_to_array (vlans);
	g_autofree gchar *added = NULL;
	g_autofree gchar *added_all = NULL;
	const NfOvsPort *port;

	/* As libvirt adds a node's port, with a VLAN list... */
	added = vsctl ("add-port",
		       BRIDGE,
		       PORT_VMS,
		       "--",
		       "set",
		       "Interface",
		       PORT_VMS,
		       "type=internal",
		       "external_ids:vm-id=" VM_A,
		       "external_ids:attached-mac=52:54:00:00:00:0a",
		       "external_ids:iface-id=" VM_A,
		       "--",
		       "set",
		       "Port",
		       PORT_VMS,
		       "trunks=100,101,102,200");
	/* ...and with 'all' (no tag, no trunks). */
	added_all = vsctl ("add-port",
			   BRIDGE,
			   PORT_ALL,
			   "--",
			   "set",
			   "Interface",
			   PORT_ALL,
			   "type=internal",
			   "external_ids:vm-id=" VM_B);

	ports = nf_ovs_list_ports (ovs, BRIDGE, &error);
	g_assert_no_error (error);
	g_assert_nonnull (ports);
	/* The two and the bridge's own port. */
	g_assert_cmpuint (ports->len, ==, 3);

	port = get_port (ports, PORT_VMS);
	g_assert_cmpstr (port->bridge, ==, BRIDGE);
	g_assert_cmpuint (port->tag, ==, 0);
	g_assert_cmpuint (port->trunks->len, ==, wanted->len);
	for (guint i = 0; i < wanted->len; i++)
		g_assert_cmpuint (g_array_index (port->trunks, guint, i),
				  ==,
				  g_array_index (wanted, guint, i));
	g_assert_cmpstr (port->vm_uuid, ==, VM_A);
	g_assert_cmpstr (port->attached_mac, ==, "52:54:00:00:00:0a");

	port = get_port (ports, PORT_ALL);
	g_assert_cmpuint (port->tag, ==, 0);
	g_assert_cmpuint (port->trunks->len, ==, 0);
	g_assert_cmpstr (port->vm_uuid, ==, VM_B);
	g_assert_null (port->attached_mac);

	port = get_port (ports, BRIDGE);
	g_assert_null (port->vm_uuid);

	/* Every bridge: ours are among them. */
	every = nf_ovs_list_ports (ovs, NULL, &error);
	g_assert_no_error (error);
	g_assert_nonnull (find_port (every, PORT_VMS));
	g_assert_nonnull (find_port (every, PORT_ALL));

	none = nf_ovs_list_ports (ovs, "nftnone0", &error);
	g_assert_null (none);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
}

static void
test_ports_remove (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *still = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *vm_upper = g_ascii_strup (VM_A, -1);

	/* Another domain's port is never touched. */
	g_assert_false (nf_ovs_remove_port (ovs, PORT_VMS, VM_B, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_test_message ("%s", error->message);
	g_clear_error (&error);
	before = vsctl ("port-to-br", PORT_VMS);
	g_assert_cmpstr (before, ==, BRIDGE);

	/* Nor a port that no domain owns. */
	g_assert_false (nf_ovs_remove_port (ovs, BRIDGE, VM_A, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_clear_error (&error);
	/* (port-to-br hides a bridge's own port.) */
	still = vsctl ("get", "Port", BRIDGE, "name");
	g_assert_cmpstr (still, ==, BRIDGE);

	/* Its own domain's goes, however the UUID is written. */
	g_assert_true (nf_ovs_remove_port (ovs, PORT_VMS, vm_upper, &error));
	g_assert_no_error (error);
	after = vsctl_try ("get", "Port", PORT_VMS, "name", NULL);
	g_assert_null (after);

	g_assert_false (nf_ovs_remove_port (ovs, PORT_VMS, VM_A, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_clear_error (&error);

	g_assert_false (nf_ovs_remove_port (ovs, "bad port", VM_A, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_clear_error (&error);
	g_assert_false (nf_ovs_remove_port (ovs, PORT_ALL, "not-a-uuid", &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_clear_error (&error);

	g_assert_true (nf_ovs_remove_port (ovs, PORT_ALL, VM_B, &error));
	g_assert_no_error (error);
}

static void
test_invalid (void)
{
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autofree gchar *before = vsctl ("list-br");
	g_autofree gchar *after = NULL;
	const gchar *bad_names[] = {
		"",
		"nftovs0123456789",
		"-nftovs",
		"nft ovs",
		"nft/ovs",
		"nft:ovs",
		"nftövs",
		"..",
	};
	const gchar *bad_datapaths[] = {"", "System", "dpdk", "netdev "};

	for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GPtrArray) ports = NULL;
		gboolean exists = FALSE;

		g_test_message ("bad bridge name '%s'", bad_names[i]);
		g_assert_false (nf_ovs_ensure_bridge (ovs, bad_names[i], DATAPATH, 300, 8192, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_clear_error (&error);
		g_assert_false (nf_ovs_bridge_exists (ovs, bad_names[i], &exists, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_clear_error (&error);
		ports = nf_ovs_list_ports (ovs, bad_names[i], &error);
		g_assert_null (ports);
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	}
	for (guint i = 0; i < G_N_ELEMENTS (bad_datapaths); i++) {
		g_autoptr (GError) error = NULL;

		g_test_message ("bad datapath '%s'", bad_datapaths[i]);
		g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs2", bad_datapaths[i], 300, 8192, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	}
	{
		g_autoptr (GError) error = NULL;

		g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs2", NULL, 300, 8192, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_clear_error (&error);
		/* Outside what ovs-vswitchd honours (it would clamp silently). */
		g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs2", DATAPATH, 5, 8192, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_clear_error (&error);
		g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs2", DATAPATH, 3601, 8192, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_clear_error (&error);
		g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs2", DATAPATH, 300, 9, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_clear_error (&error);
		g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs2", DATAPATH, 300, 1000001, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	}
	after = vsctl ("list-br");
	g_assert_cmpstr (before, ==, after);
}

/* Every call of @ovs fails as Open vSwitch being unreachable. */
static void
assert_all_fail (NfOvs *ovs, gint code)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) ports = NULL;
	gboolean exists = FALSE;
	gint64 start = g_get_monotonic_time ();

	g_assert_false (nf_ovs_ping (ovs, &error));
	g_assert_error (error, NF_ERROR, code);
	g_test_message ("%s (after %" G_GINT64_FORMAT " ms)",
			error->message,
			(g_get_monotonic_time () - start) / 1000);
	g_clear_error (&error);
	g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs3", DATAPATH, 300, 8192, &error));
	g_assert_error (error, NF_ERROR, code);
	g_clear_error (&error);
	g_assert_false (nf_ovs_bridge_exists (ovs, "nftovs3", &exists, &error));
	g_assert_error (error, NF_ERROR, code);
	g_clear_error (&error);
	ports = nf_ovs_list_ports (ovs, NULL, &error);
	g_assert_null (ports);
	g_assert_error (error, NF_ERROR, code);
	g_clear_error (&error);
	g_assert_false (nf_ovs_remove_port (ovs, "nftp3", VM_A, &error));
	g_assert_error (error, NF_ERROR, code);
}

static void
test_unreachable (void)
{
	g_autoptr (NfOvs) missing = nf_ovs_new ("unix:/nonexistent/nestfarm-test/db.sock", 500);
	g_autoptr (NfOvs) refused = nf_ovs_new ("tcp:127.0.0.1:1", 500);
	g_autoptr (NfOvs) nonsense = nf_ovs_new ("carrier-pigeon:coop", 500);

	assert_all_fail (missing, NF_ERROR_OPENVSWITCH);
	assert_all_fail (refused, NF_ERROR_OPENVSWITCH);
	assert_all_fail (nonsense, NF_ERROR_OPENVSWITCH);
}

/* A socket that takes connections into its queue and never answers: a
 * hung ovsdb-server. Every call returns after the timeout. */
static void
test_stuck (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp ("nftovs-XXXXXX", &error);
	g_autofree gchar *path = NULL;
	g_autofree gchar *db = NULL;
	g_autoptr (GSocket) listener = NULL;
	g_autoptr (GSocketAddress) address = NULL;
	g_autoptr (NfOvs) ovs = NULL;
	gboolean exists = TRUE;

	g_assert_no_error (error);
	path = g_build_filename (dir, "db.sock", NULL);
	db = g_strconcat ("unix:", path, NULL);
	listener =
		g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
	g_assert_no_error (error);
	address = g_unix_socket_address_new (path);
	g_socket_set_listen_backlog (listener, 1);
	g_assert_true (g_socket_bind (listener, address, TRUE, &error));
	g_assert_true (g_socket_listen (listener, &error));
	g_assert_no_error (error);

	ovs = nf_ovs_new (db, 500);
	assert_all_fail (ovs, NF_ERROR_OPENVSWITCH);
	/* Its queue is full by now: connecting is what hangs. */
	for (guint i = 0; i < 4; i++) {
		g_autoptr (GError) error_full = NULL;

		g_assert_false (nf_ovs_ping (ovs, &error_full));
		g_assert_error (error_full, NF_ERROR, NF_ERROR_OPENVSWITCH);
		g_test_message ("%s", error_full->message);
	}

	/* Nothing was made on the real one meanwhile. */
	{
		g_autoptr (NfOvs) host = host_ovs ();

		g_assert_true (nf_ovs_bridge_exists (host, "nftovs3", &exists, &error));
		g_assert_no_error (error);
		g_assert_false (exists);
	}
	g_socket_close (listener, NULL);
	g_unlink (path);
	g_rmdir (dir);
}

/* The server goes with the test, however the test ends. */
static void
die_with_parent (gpointer data)
{
	prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* A real ovsdb-server of our own with no ovs-vswitchd behind it: first
 * with an empty database, then initialised. */
static void
test_no_vswitchd (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp ("nftovs-XXXXXX", &error);
	g_autofree gchar *file = NULL;
	g_autofree gchar *sock = NULL;
	g_autofree gchar *remote = NULL;
	g_autofree gchar *db = NULL;
	g_autofree gchar *db_option = NULL;
	g_autofree gchar *init = NULL;
	g_autofree gchar *bridges = NULL;
	g_autoptr (NfOvs) ovs = NULL;
	const gchar *schema = "/usr/share/openvswitch/vswitch.ovsschema";
	GPid pid = 0;
	gint status = 0;

	g_assert_no_error (error);
	file = g_build_filename (dir, "conf.db", NULL);
	sock = g_build_filename (dir, "db.sock", NULL);
	remote = g_strconcat ("--remote=punix:", sock, NULL);
	db = g_strconcat ("unix:", sock, NULL);
	db_option = g_strconcat ("--db=", db, NULL);
	{
		const gchar *create[] = {"ovsdb-tool", "create", file, schema, NULL};

		g_assert_true (g_spawn_sync (NULL,
					     (gchar **) create,
					     NULL,
					     G_SPAWN_SEARCH_PATH,
					     NULL,
					     NULL,
					     NULL,
					     NULL,
					     &status,
					     &error));
		g_assert_no_error (error);
		g_assert_true (g_spawn_check_wait_status (status, NULL));
	}
	{
		const gchar *server[] = {"ovsdb-server", file, remote, "--no-chdir", "-vconsole:off", NULL};

		g_assert_true (g_spawn_async (NULL,
					      (gchar **) server,
					      NULL,
					      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
					      die_with_parent,
					      NULL,
					      &pid,
					      &error));
		g_assert_no_error (error);
	}
	for (guint i = 0; i < 500 && !g_file_test (sock, G_FILE_TEST_EXISTS); i++)
		g_usleep (10000);
	g_assert_true (g_file_test (sock, G_FILE_TEST_EXISTS));

	/* long enough for a loaded ovsdb-server to answer (ASan, two busy
	 * cores), so what times out is only the missing ovs-vswitchd */
	ovs = nf_ovs_new (db, 3000);
	g_assert_false (nf_ovs_ping (ovs, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_assert_nonnull (strstr (error->message, "ovs-vsctl init"));
	g_clear_error (&error);

	init = vsctl (db_option, "--no-wait", "init");
	g_assert_true (nf_ovs_ping (ovs, &error));
	g_assert_no_error (error);
	g_assert_false (nf_ovs_ensure_bridge (ovs, "nftovs4", DATAPATH, 300, 8192, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_test_message ("%s", error->message);
	g_assert_nonnull (strstr (error->message, "ovs-vswitchd"));
	/* The database has the bridge; ovs-vswitchd makes it once it runs. */
	bridges = vsctl (db_option, "list-br");
	g_assert_cmpstr (bridges, ==, "nftovs4");

	kill (pid, SIGTERM);
	waitpid (pid, &status, 0);
	g_spawn_close_pid (pid);
	g_unlink (sock);
	g_unlink (file);
	{
		g_autofree gchar *lock = g_build_filename (dir, ".conf.db.~lock~", NULL);

		g_unlink (lock);
	}
	g_rmdir (dir);
}

static void
remove_test_bridges (void)
{
	g_free (vsctl_try ("--if-exists", "del-br", BRIDGE, "--", "--if-exists", "del-br", "nftovs1", NULL));
}

static void
test_cleanup (void)
{
	gboolean exists = TRUE;
	g_autoptr (NfOvs) ovs = host_ovs ();
	g_autoptr (GError) error = NULL;

	remove_test_bridges ();
	g_assert_true (nf_ovs_bridge_exists (ovs, BRIDGE, &exists, &error));
	g_assert_false (exists);
}

int
main (int argc, char **argv)
{
	gint rc;
	g_test_init (&argc, &argv, NULL);
	nf_test_lock_take ();
	/* One flat suite: GLib runs a suite's own cases in the order added,
	 * and these build on each other. */
	/* Left behind by a run that failed half-way. */
	remove_test_bridges ();
	g_test_add_func ("/ovs/ping", test_ping);
	g_test_add_func ("/ovs/bridge-ensure", test_bridge_ensure);
	g_test_add_func ("/ovs/bridge-limits", test_bridge_limits);
	g_test_add_func ("/ovs/bridge-other-datapath", test_bridge_other_datapath);
	g_test_add_func ("/ovs/bridge-system-datapath", test_bridge_system_datapath);
	g_test_add_func ("/ovs/ports-list", test_ports_list);
	g_test_add_func ("/ovs/ports-remove", test_ports_remove);
	g_test_add_func ("/ovs/invalid", test_invalid);
	g_test_add_func ("/ovs/unreachable", test_unreachable);
	g_test_add_func ("/ovs/stuck", test_stuck);
	g_test_add_func ("/ovs/no-vswitchd", test_no_vswitchd);
	g_test_add_func ("/ovs/cleanup", test_cleanup);
	rc = g_test_run ();
	nf_test_lock_release ();
	return rc;
}
