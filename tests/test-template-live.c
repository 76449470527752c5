/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-template-live"

#include "config.h"

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-template.h"
#include "nf-test-util.h"

/* Rendered domains defined, read back and undefined; never started. Every
 * case is defined with schema validation on libvirt's test driver, which
 * takes any virt type, and on the real libvirtd (qemu:///system) wherever
 * it offers the case's virt type. Where it does not (no /dev/kvm), the test
 * asserts that libvirtd refuses exactly that virt type: a kvm domain is
 * then proven by the schema, the test driver and the golden files
 * (test-template), never skipped. The pool name is this test's own, and
 * only domains tagged as nestfarm's pool 'tmpltest' are ever removed. */

#define URI              "qemu:///system"
#define TEST_URI         "test:///default"
#define POOL             "tmpltest"
#define CONNECT_ATTEMPTS 30

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomain, virDomainFree)

static virConnectPtr system_conn;
static virConnectPtr test_conn;

static void
quiet_libvirt (void *data, virErrorPtr error)
{
	/* Errors are read with virGetLastErrorMessage where they matter. */
}

static const gchar *
template_dir (void)
{
	const gchar *dir = g_getenv ("NF_TEMPLATE_DIR");

	g_assert_nonnull (dir);
	return dir;
}

static NfNodeSpec *
spec_new (guint index)
{
	NfNodeSpec *spec = nf_node_spec_new ();

	spec->pool = g_strdup (POOL);
	spec->index = index;
	spec->image = g_strdup ("/var/lib/nestfarm/images/base.qcow2");
	spec->overlay = g_strdup_printf ("/var/lib/nestfarm/images/%s-%u.qcow2", POOL, index);
	spec->trunk_bridge = g_strdup ("nftrunk0");
	spec->vlans = g_strdup ("100-101,300");
	spec->mgmt_network = g_strdup ("default");
	spec->console_log = g_strdup_printf ("/var/log/nestfarm/console/%s-%u.log", POOL, index);
	return spec;
}

/* A leftover of an interrupted run: removed only if it is ours. */
static void
remove_leftover (virConnectPtr conn, const gchar *name)
{
	g_autoptr (virDomain) dom = virDomainLookupByName (conn, name);
	g_autofree gchar *xml = NULL;
	g_autoptr (NfNodeSpec) spec = NULL;

	if (dom == NULL)
		return;
	xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
	g_assert_nonnull (xml);
	spec = nf_node_spec_from_domain_xml (xml, NULL);
	if (spec == NULL || g_strcmp0 (spec->pool, POOL) != 0)
		g_error ("A domain %s exists that this test did not make; remove it by hand.", name);
	g_test_message ("removing leftover %s", name);
	if (virDomainIsActive (dom) == 1)
		virDomainDestroy (dom);
	g_assert_cmpint (virDomainUndefine (dom), ==, 0);
}

static void
define_and_check (virConnectPtr conn,
		  const gchar *profile_name,
		  const NfHostInfo *host,
		  guint index,
		  const gchar *type)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) profile = nf_profile_load (template_dir (), profile_name, &error);
	g_autoptr (NfNodeSpec) spec = spec_new (index);
	g_autoptr (NfNodeSpec) back = NULL;
	g_autoptr (virDomain) dom = NULL;
	g_autofree gchar *name = g_strdup_printf ("%s-%u", POOL, index);
	g_autofree gchar *xml = NULL;
	g_autofree gchar *live_xml = NULL;
	g_autofree gchar *metadata = NULL;
	g_autofree gchar *mac0 = nf_node_mac (POOL, index, 0);
	g_autofree gchar *mac1 = nf_node_mac (POOL, index, 1);
	g_autofree gchar *type_attr = g_strdup_printf ("<domain type='%s'", type);
	g_autofree gchar *uri = virConnectGetURI (conn);

	g_assert_no_error (error);
	remove_leftover (conn, name);
	xml = nf_profile_render_domain (profile, spec, host, &error);
	g_assert_no_error (error);

	/* VALIDATE: libvirt checks the XML against its schema as well. */
	dom = virDomainDefineXMLFlags (conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (dom == NULL)
		g_error ("%s refused the %s domain: %s\n%s",
			 uri,
			 profile_name,
			 virGetLastErrorMessage (),
			 xml);
	g_test_message ("defined %s on %s (%s, type %s)", name, uri, profile_name, type);

	live_xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
	g_assert_nonnull (live_xml);
	g_assert_nonnull (strstr (live_xml, type_attr));
	metadata = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, NF_METADATA_NS, 0);
	g_assert_nonnull (metadata);
	/* libvirt hands the element back without its prefix. */
	g_assert_nonnull (strstr (metadata, "<pool>" POOL "</pool>"));
	g_assert_nonnull (strstr (live_xml, mac0));
	g_assert_nonnull (strstr (live_xml, mac1));
	g_assert_nonnull (strstr (live_xml, "<virtualport type='openvswitch'"));
	g_assert_nonnull (strstr (live_xml, "<tag id='300'/>"));
	g_assert_nonnull (strstr (live_xml, "org.qemu.guest_agent.0"));
	g_assert_nonnull (strstr (live_xml, "<log file='/var/log/nestfarm/console/"));

	/* What libvirt gives back rebuilds the node. */
	back = nf_node_spec_from_domain_xml (live_xml, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (back->pool, ==, POOL);
	g_assert_cmpuint (back->index, ==, index);
	g_assert_cmpstr (back->profile, ==, profile_name);
	g_assert_cmpstr (back->vlans, ==, "100-101,300");
	g_assert_cmpstr (back->overlay, ==, spec->overlay);
	g_assert_cmpstr (back->mgmt_network, ==, "default");

	g_assert_cmpint (virDomainUndefine (dom), ==, 0);
	g_clear_pointer (&dom, virDomainFree);
	dom = virDomainLookupByName (conn, name);
	g_assert_null (dom);
	virResetLastError ();
}

/* Does the real libvirtd offer domains of virt @type on x86_64? */
static gboolean
system_offers (const gchar *type)
{
	g_autofree gchar *caps = virConnectGetDomainCapabilities (system_conn, NULL, "x86_64", NULL, type, 0);

	virResetLastError ();
	return caps != NULL;
}

/* On libvirtd where it offers @type, else the refusal of just that type. */
static void
define_on_system (const gchar *profile_name, const NfHostInfo *host, guint index, const gchar *type)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) profile = NULL;
	g_autoptr (NfNodeSpec) spec = NULL;
	g_autoptr (virDomain) dom = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *wanted = NULL;
	virErrorPtr err;

	if (system_offers (type)) {
		define_and_check (system_conn, profile_name, host, index, type);
		return;
	}
	profile = nf_profile_load (template_dir (), profile_name, &error);
	g_assert_no_error (error);
	spec = spec_new (index);
	xml = nf_profile_render_domain (profile, spec, host, &error);
	g_assert_no_error (error);
	dom = virDomainDefineXMLFlags (system_conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	g_assert_null (dom);
	err = virGetLastError ();
	g_assert_nonnull (err);
	wanted = g_strdup_printf ("virt type '%s'", type);
	g_test_message ("%s offers no %s domains here (no usable /dev/kvm) and refuses it: %s",
			URI,
			type,
			err->message);
	g_assert_cmpint (err->code, ==, VIR_ERR_CONFIG_UNSUPPORTED);
	g_assert_nonnull (strstr (err->message, wanted));
	virResetLastError ();
}

static void
define_everywhere (const gchar *profile_name, const NfHostInfo *host, guint index, const gchar *type)
{
	define_and_check (test_conn, profile_name, host, index, type);
	define_on_system (profile_name, host, index, type);
}

static void
test_define_kvm_intel (void)
{
	NfHostInfo host = {.vendor = NF_CPU_VENDOR_INTEL, .accel = NF_ACCEL_KVM, .feature = "vmx"};

	define_everywhere ("kvm-compute", &host, 1, "kvm");
}

static void
test_define_kvm_amd (void)
{
	NfHostInfo host = {.vendor = NF_CPU_VENDOR_AMD, .accel = NF_ACCEL_KVM, .feature = "svm"};

	define_everywhere ("kvm-compute", &host, 2, "kvm");
}

static void
test_define_emulated (void)
{
	NfHostInfo host = {.vendor = NF_CPU_VENDOR_INTEL, .accel = NF_ACCEL_EMULATED, .feature = "svm"};

	/* Emulated nodes are what runs here: libvirtd must always take them. */
	g_assert_true (system_offers ("qemu"));
	define_everywhere ("kvm-compute", &host, 3, "qemu");
}

static void
test_define_esxi (void)
{
	NfHostInfo host = {.vendor = NF_CPU_VENDOR_INTEL, .accel = NF_ACCEL_KVM, .feature = "vmx"};

	define_everywhere ("esxi-host", &host, 4, "kvm");
}

/* libvirtd may still be starting (tools/services): wait, then fail. */
static virConnectPtr
connect_libvirt (void)
{
	for (guint attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt++) {
		virConnectPtr c = virConnectOpen (URI);

		if (c != NULL)
			return c;
		g_printerr ("# %s not reachable (%s), attempt %u of %u\n",
			    URI,
			    virGetLastErrorMessage (),
			    attempt,
			    CONNECT_ATTEMPTS);
		g_usleep (G_USEC_PER_SEC);
	}
	return NULL;
}

int
main (int argc, char **argv)
{
	gint rc;
	g_autoptr (virConnect) connection = NULL;
	g_autoptr (virConnect) test_connection = NULL;

	g_test_init (&argc, &argv, NULL);
	nf_test_lock_take ();
	virSetErrorFunc (NULL, quiet_libvirt);
	connection = connect_libvirt ();
	if (connection == NULL) {
		/* A skip would hide a missing service: this is a failure. */
		g_print ("Bail out! libvirtd (%s) is not running; start it with tools/services\n", URI);
		return 1;
	}
	system_conn = connection;
	test_connection = virConnectOpen (TEST_URI);
	g_assert_nonnull (test_connection);
	test_conn = test_connection;
	g_test_add_func ("/template-live/define/kvm-intel", test_define_kvm_intel);
	g_test_add_func ("/template-live/define/kvm-amd", test_define_kvm_amd);
	g_test_add_func ("/template-live/define/emulated", test_define_emulated);
	g_test_add_func ("/template-live/define/esxi-host", test_define_esxi);
	rc = g_test_run ();
	nf_test_lock_release ();
	return rc;
}
