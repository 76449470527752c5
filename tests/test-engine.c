/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-engine"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/xattr.h>

#include "nestfarm/nf-engine.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-ovn.h"
#include "nestfarm/nf-ovs.h"
#include "nestfarm/nf-storage.h"
#include "nf-test-util.h"

/* The engine against the real libvirtd, QEMU and Open vSwitch: two
 * emulated nodes from the tiny image, booted, checked, shut down via ACPI
 * and removed without a trace. */

#define POOL   "enginetest"
#define BRIDGE "nftengine0"

typedef struct {
	gchar *dir;
	gchar *image;
	gchar *image_sha;
	NfConnection *connection;
	NfEngine *engine;
	NfOvs *ovs;
} Fixture;

static Fixture fx;

static NfNodeSpec *
make_spec (guint index, const gchar *vlans)
{
	NfNodeSpec *spec = nf_node_spec_new ();

	spec->pool = g_strdup (POOL);
	spec->index = index;
	spec->profile = g_strdup ("kvm-compute");
	spec->vcpus = 1;
	spec->memory_mib = 256;
	spec->disk_gib = 1;
	spec->image = g_strdup (fx.image);
	spec->trunk_bridge = g_strdup (BRIDGE);
	spec->vlans = g_strdup (vlans);
	return spec;
}

static gboolean
domain_exists (const gchar *name)
{
	g_autoptr (virConnect) conn = nf_connection_ref_conn (fx.connection, NULL);
	g_autoptr (virDomain) dom = virDomainLookupByName (conn, name);

	virResetLastError ();
	return dom != NULL;
}

static NfOvsPort *
find_port_of (const gchar *uuid)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) ports = nf_ovs_list_ports (fx.ovs, BRIDGE, &error);

	g_assert_no_error (error);
	for (guint i = 0; i < ports->len; i++) {
		NfOvsPort *port = g_ptr_array_index (ports, i);

		if (g_strcmp0 (port->vm_uuid, uuid) == 0)
			return g_ptr_array_steal_index (ports, i);
	}
	return NULL;
}

static void
test_prepare (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfHostInfo) host = NULL;
	g_autoptr (NfNodeSpec) trunk = nf_node_spec_new ();

	gboolean ok = nf_engine_prepare (fx.engine, &error);

	trunk->pool = g_strdup (POOL);
	trunk->trunk_bridge = g_strdup (BRIDGE);

	g_assert_no_error (error);
	g_assert_true (ok);
	host = nf_engine_dup_host (fx.engine);
	g_assert_nonnull (host);
	/* This machine has no nested KVM: emulation with SVM. */
	g_assert_cmpint (host->accel, ==, NF_ACCEL_EMULATED);
	g_assert_cmpstr (host->feature, ==, "svm");
	g_assert_true (nf_engine_prepare_trunk (fx.engine, trunk, &error));
	g_assert_no_error (error);
	/* idempotent */
	g_assert_true (nf_engine_prepare_trunk (fx.engine, trunk, &error));
	g_assert_no_error (error);
	/* an OVN pool's trunk while OvnNorthbound is empty: named, nothing made */
	trunk->trunk_port = nf_ovn_port_name (NULL, "nfteovn", 1);
	g_assert_false (nf_engine_prepare_trunk (fx.engine, trunk, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull (strstr (error->message, "OvnNorthbound"));
}

static void
assert_node_xml (const NfNodeInfo *info)
{
	g_autoptr (virConnect) conn = nf_connection_ref_conn (fx.connection, NULL);
	g_autoptr (virDomain) dom = virDomainLookupByName (conn, info->name);
	g_autofree gchar *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
	g_autofree gchar *xml_path = g_build_filename (fx.dir, "check.xml", NULL);
	g_autofree gchar *backing = NULL;
	g_autofree gchar *backing_fmt = NULL;
	g_autofree gchar *mac0 = nf_node_mac (POOL, info->spec->index, 0);
	g_autofree gchar *mac1 = nf_node_mac (POOL, info->spec->index, 1);

	g_assert_nonnull (xml);
	/* Schema-valid as libvirt stores it. */
	g_assert_true (g_file_set_contents (xml_path, xml, -1, NULL));
	nf_test_assert_command_ok ("virt-xml-validate", xml_path, "domain", NULL);

	g_assert_true (nf_test_xpath_bool (xml, "/domain[@type='qemu']"));
	g_assert_true (nf_test_xpath_bool (xml, "/domain/cpu/feature[@name='svm'][@policy='require']"));
	g_assert_true (nf_test_xpath_bool (xml, "/domain/features/acpi"));
	g_assert_true (nf_test_xpath_bool (xml, "/domain/metadata/*[local-name()='node']"));
	g_assert_true (
		nf_test_xpath_bool (xml, "/domain/devices/interface/virtualport[@type='openvswitch']"));
	g_assert_true (
		nf_test_xpath_bool (xml, "/domain/devices/channel/target[@name='org.qemu.guest_agent.0']"));

	/* The disk is the overlay; its backing is the base, format pinned. */
	g_assert_nonnull (info->spec->overlay);
	g_assert_true (g_file_test (info->spec->overlay, G_FILE_TEST_IS_REGULAR));
	nf_test_qemu_img_backing (info->spec->overlay, &backing, &backing_fmt);
	g_assert_cmpstr (backing, ==, fx.image);
	g_assert_cmpstr (backing_fmt, ==, "qcow2");
	{
		gchar tag[64] = {0};
		gssize len = getxattr (info->spec->overlay, NF_OVERLAY_XATTR, tag, sizeof (tag) - 1);

		g_assert_cmpint (len, >, 0);
		g_assert_cmpstr (tag, ==, info->name);
	}

	/* Stable MACs, management NIC absent: the trunk NIC alone. */
	g_assert_nonnull (info->macs);
	g_assert_cmpuint (g_strv_length (info->macs), ==, 1);
	g_assert_cmpstr (info->macs[0], ==, mac1);
	g_assert_cmpstr (mac0, !=, mac1);
}

static void
test_make_two_nodes (void)
{
	for (guint i = 1; i <= 2; i++) {
		g_autoptr (NfNodeSpec) spec = make_spec (i, "100-102,200");
		g_autoptr (GError) error = NULL;
		g_autoptr (NfNodeInfo) info = nf_engine_make_node (fx.engine, spec, TRUE, NULL, &error);

		g_assert_no_error (error);
		g_assert_nonnull (info);
		g_assert_cmpint (info->state, ==, NF_DOMAIN_STATE_RUNNING);
		g_assert_cmpstr (info->spec->pool, ==, POOL);
		g_assert_cmpuint (info->spec->index, ==, i);
		assert_node_xml (info);
	}
}

static void
test_nodes_boot (void)
{
	for (guint i = 1; i <= 2; i++) {
		g_autofree gchar *name = g_strdup_printf (POOL "-%u", i);
		g_autoptr (GError) error = NULL;
		g_autoptr (NfNodeInfo) info = nf_engine_get_node (fx.engine, name, &error);
		g_autofree gchar *expect =
			g_strdup_printf ("NESTFARM-READY hostname=%s cpu=svm kvm=yes", name);

		g_assert_no_error (error);
		/* A real nested hypervisor: SVM in the CPU, /dev/kvm inside. */
		nf_test_wait_for_log_line (info->spec->console_log, expect, 120);
	}
}

static void
test_trunk_ports (void)
{
	g_autoptr (GPtrArray) nodes = NULL;
	g_autoptr (GError) error = NULL;

	nodes = nf_engine_list_nodes (fx.engine, NULL, &error);
	g_assert_no_error (error);
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);
		g_autoptr (NfOvsPort) port = NULL;
		const guint want[] = {100, 101, 102, 200};

		if (g_strcmp0 (info->spec->pool, POOL) != 0)
			continue;
		port = find_port_of (info->uuid);
		g_assert_nonnull (port);
		g_assert_cmpstr (port->bridge, ==, BRIDGE);
		g_assert_cmpuint (port->trunks->len, ==, G_N_ELEMENTS (want));
		for (guint j = 0; j < G_N_ELEMENTS (want); j++)
			g_assert_cmpuint (g_array_index (port->trunks, guint, j), ==, want[j]);
		g_assert_cmpstr (port->attached_mac, ==, info->macs[0]);
	}
}

static void
test_stop_graceful (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeInfo) info = NULL;
	gboolean forced = TRUE;

	g_assert_true (nf_engine_stop_node (fx.engine, POOL "-1", 60, &forced, NULL, &error));
	g_assert_no_error (error);
	g_assert_false (forced);
	info = nf_engine_get_node (fx.engine, POOL "-1", &error);
	g_assert_no_error (error);
	g_assert_cmpint (info->state, ==, NF_DOMAIN_STATE_STOPPED);
	/* The guest saw the ACPI power button and powered itself off. */
	nf_test_wait_for_log_line (info->spec->console_log, "NESTFARM-POWEROFF", 5);
	/* Stopping a stopped node is done already. */
	g_assert_true (nf_engine_stop_node (fx.engine, POOL "-1", 60, &forced, NULL, &error));
	g_assert_no_error (error);
	g_assert_false (forced);
}

static void
test_remake_keeps_macs (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeInfo) before = nf_engine_get_node (fx.engine, POOL "-1", &error);
	g_autoptr (NfNodeInfo) after = NULL;
	g_autoptr (NfNodeSpec) spec = make_spec (1, "100-102,200");

	g_assert_no_error (error);
	g_assert_true (nf_engine_remove_node (fx.engine, POOL "-1", NULL, &error));
	g_assert_no_error (error);
	g_assert_false (domain_exists (POOL "-1"));
	g_assert_false (g_file_test (before->spec->overlay, G_FILE_TEST_EXISTS));
	after = nf_engine_make_node (fx.engine, spec, FALSE, NULL, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (after->macs[0], ==, before->macs[0]);
	g_assert_cmpstr (after->spec->overlay, ==, before->spec->overlay);
	g_assert_cmpint (after->state, ==, NF_DOMAIN_STATE_STOPPED);
}

static void
test_reset (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeInfo) info = nf_engine_get_node (fx.engine, POOL "-2", &error);
	g_autoptr (NfNodeInfo) after = NULL;
	g_autofree gchar *backing = NULL;
	g_autofree gchar *backing_fmt = NULL;
	g_autofree gchar *out = NULL;

	g_assert_no_error (error);
	/* Write into the node's disk while it is off, as a guest would. */
	g_assert_true (nf_engine_stop_node (fx.engine, POOL "-2", 0, NULL, NULL, &error));
	g_assert_no_error (error);
	out = nf_test_run ("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", info->spec->overlay, NULL);
	g_assert_nonnull (out);
	g_assert_true (nf_test_overlay_has_own_data (info->spec->overlay));

	g_assert_true (nf_engine_reset_node (fx.engine, POOL "-2", 30, NULL, NULL, &error));
	g_assert_no_error (error);
	after = nf_engine_get_node (fx.engine, POOL "-2", &error);
	g_assert_no_error (error);
	g_assert_cmpint (after->state, ==, NF_DOMAIN_STATE_RUNNING);
	g_assert_cmpstr (after->macs[0], ==, info->macs[0]);
	g_assert_cmpstr (after->uuid, ==, info->uuid);
	g_assert_cmpstr (after->spec->overlay, ==, info->spec->overlay);
	/* A new, empty overlay over the base, pinned format; the node boots again. */
	g_assert_false (nf_test_overlay_has_own_data (after->spec->overlay));
	nf_test_qemu_img_backing (after->spec->overlay, &backing, &backing_fmt);
	g_assert_cmpstr (backing, ==, fx.image);
	g_assert_cmpstr (backing_fmt, ==, "qcow2");
	nf_test_wait_for_log_count (after->spec->console_log, "NESTFARM-READY hostname=" POOL "-2", 2, 120);
}

static void
test_remove_all (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) nodes = nf_engine_list_nodes (fx.engine, NULL, &error);
	g_autofree gchar *sha = NULL;

	g_assert_no_error (error);
	for (guint i = 0; i < nodes->len; i++) {
		NfNodeInfo *info = g_ptr_array_index (nodes, i);
		g_autoptr (NfOvsPort) port = NULL;

		if (g_strcmp0 (info->spec->pool, POOL) != 0)
			continue;
		/* A snapshot a user took with virsh does not keep the node. */
		if (i == 0) {
			g_assert_true (nf_engine_stop_node (fx.engine, info->name, 0, NULL, NULL, &error));
			g_assert_no_error (error);
			nf_test_assert_command_ok ("virsh",
						   "-q",
						   "-c",
						   "qemu:///system",
						   "snapshot-create-as",
						   info->name,
						   "by-hand",
						   NULL);
		}
		g_assert_true (nf_engine_remove_node (fx.engine, info->name, NULL, &error));
		g_assert_no_error (error);
		g_assert_false (domain_exists (info->name));
		g_assert_false (g_file_test (info->spec->overlay, G_FILE_TEST_EXISTS));
		g_assert_false (g_file_test (info->spec->console_log, G_FILE_TEST_EXISTS));
		port = find_port_of (info->uuid);
		g_assert_null (port);
	}
	nf_test_assert_dir_has_no_overlays (fx.dir);
	sha = nf_test_sha256_file (fx.image);
	g_assert_cmpstr (sha, ==, fx.image_sha);
}

static void
test_missing_base (void)
{
	g_autoptr (NfNodeSpec) spec = make_spec (7, "all");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeInfo) info = NULL;

	g_free (spec->image);
	spec->image = g_build_filename (fx.dir, "no-such-base.qcow2", NULL);
	info = nf_engine_make_node (fx.engine, spec, TRUE, NULL, &error);
	g_assert_null (info);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_assert_nonnull (strstr (error->message, "no-such-base.qcow2"));
	g_assert_false (domain_exists (POOL "-7"));
	nf_test_assert_dir_has_no_overlays (fx.dir);
}

static void
test_taken_name (void)
{
	g_autoptr (virConnect) conn = nf_connection_ref_conn (fx.connection, NULL);
	g_autoptr (virDomain) foreign = NULL;
	g_autoptr (NfNodeSpec) spec = make_spec (5, "all");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeInfo) info = NULL;
	const gchar *xml = "<domain type='qemu'><name>" POOL "-5</name><description>" NF_TEST_LOOKALIKE
			   "</description><memory unit='MiB'>64</memory>"
			   "<os><type arch='x86_64'>hvm</type></os></domain>";

	/* Someone else's domain that happens to have a node's name. */
	foreign = virDomainDefineXML (conn, xml);
	g_assert_nonnull (foreign);
	info = nf_engine_make_node (fx.engine, spec, TRUE, NULL, &error);
	g_assert_null (info);
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_clear_error (&error);
	nf_test_assert_dir_has_no_overlays (fx.dir);

	/* The engine never touches it: the name is taken (Exists), which a
	 * removal must not take for "already gone" (NotFound). */
	g_assert_false (nf_engine_remove_node (fx.engine, POOL "-5", NULL, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_clear_error (&error);
	g_assert_false (nf_engine_stop_node (fx.engine, POOL "-5", 0, NULL, NULL, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_assert_true (domain_exists (POOL "-5"));
	g_assert_cmpint (virDomainUndefine (foreign), ==, 0);
}

static void
test_failing_start (void)
{
	g_autoptr (NfNodeSpec) spec = make_spec (8, "all");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeInfo) info = NULL;

	/* No such bridge: libvirt cannot plug the trunk port, start fails. */
	g_free (spec->trunk_bridge);
	spec->trunk_bridge = g_strdup ("nftnosuchbr");
	info = nf_engine_make_node (fx.engine, spec, TRUE, NULL, &error);
	g_assert_null (info);
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_assert_nonnull (strstr (error->message, POOL "-8"));
	g_assert_false (domain_exists (POOL "-8"));
	nf_test_assert_dir_has_no_overlays (fx.dir);
}

static void
test_unreachable_ovs (void)
{
	g_autoptr (NfEngineConfig) config = nf_engine_config_new ();
	g_autoptr (NfEngine) engine = NULL;
	g_autoptr (GError) error = NULL;

	g_free (config->ovs_db);
	config->ovs_db = g_strdup_printf ("unix:%s/no-ovsdb.sock", fx.dir);
	config->ovs_timeout_ms = 1000;
	engine = nf_engine_new (fx.connection, config);
	g_autoptr (NfNodeSpec) trunk = nf_node_spec_new ();

	trunk->pool = g_strdup ("nfteovs");
	trunk->trunk_bridge = g_strdup ("nftengine9");
	g_assert_false (nf_engine_prepare_trunk (engine, trunk, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_assert_false (nf_test_ovs_bridge_exists ("nftengine9"));
}

static void
fixture_setup (void)
{
	g_autoptr (NfEngineConfig) config = nf_engine_config_new ();
	g_autoptr (GError) error = NULL;

	fx.image = nf_test_require_image ();
	fx.image_sha = nf_test_sha256_file (fx.image);
	fx.dir = nf_test_make_world_dir ("nf-engine");
	nf_test_cleanup_leftovers (POOL, BRIDGE);
	nf_test_remove_storage_pool ("nftest-engine");

	fx.connection = nf_connection_new ("qemu:///system");
	g_assert_true (nf_connection_open (fx.connection, &error));
	g_assert_no_error (error);

	g_free (config->storage_pool);
	config->storage_pool = g_strdup ("nftest-engine");
	g_free (config->storage_path);
	config->storage_path = g_strdup (fx.dir);
	g_free (config->console_dir);
	config->console_dir = g_build_filename (fx.dir, "console", NULL);
	g_free (config->template_dir);
	config->template_dir = g_strdup (g_getenv ("NF_TEMPLATE_DIR"));
	g_free (config->datapath);
	config->datapath = g_strdup ("netdev");
	config->instance = g_strdup (NF_TEST_INSTANCE);
	fx.engine = nf_engine_new (fx.connection, config);
	fx.ovs = nf_ovs_new (NULL, 5000);
}

static void
fixture_teardown (void)
{
	nf_test_cleanup_leftovers (POOL, BRIDGE);
	nf_test_remove_storage_pool ("nftest-engine");
	g_clear_object (&fx.engine);
	g_clear_object (&fx.ovs);
	if (fx.connection != NULL)
		nf_connection_close (fx.connection);
	g_clear_object (&fx.connection);
	nf_test_rm_rf (fx.dir);
	g_free (fx.dir);
	g_free (fx.image);
	g_free (fx.image_sha);
}

int
main (int argc, char **argv)
{
	int rc;

	g_test_init (&argc, &argv, NULL);
	nf_test_lock_take ();
	nf_libvirt_init ();
	fixture_setup ();
	g_test_add_func ("/engine/prepare", test_prepare);
	g_test_add_func ("/engine/make-two-nodes", test_make_two_nodes);
	g_test_add_func ("/engine/nodes-boot", test_nodes_boot);
	g_test_add_func ("/engine/trunk-ports", test_trunk_ports);
	g_test_add_func ("/engine/stop-graceful", test_stop_graceful);
	g_test_add_func ("/engine/remake-keeps-macs", test_remake_keeps_macs);
	g_test_add_func ("/engine/reset", test_reset);
	g_test_add_func ("/engine/fail/missing-base", test_missing_base);
	g_test_add_func ("/engine/fail/taken-name", test_taken_name);
	g_test_add_func ("/engine/fail/failing-start", test_failing_start);
	g_test_add_func ("/engine/fail/unreachable-ovs", test_unreachable_ovs);
	g_test_add_func ("/engine/remove-all", test_remove_all);
	rc = g_test_run ();
	nf_test_lock_release ();
	fixture_teardown ();
	return rc;
}
