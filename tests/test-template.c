/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-template"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-ovn.h"
#include "nestfarm/nf-template.h"

/* Profiles and rendering: stable MACs, loading profiles, domain XML against
 * golden files and across hosts, escaping, and node specs through metadata. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)

/* 2024-05-01T12:00:00Z: golden files need a fixed creation time. */
#define CREATED 1714564800

#define MAC_LAB_1_0 "52:54:00:26:a8:3e"

#define NASTY "'\"<>&]]>&amp;<!--"

typedef enum {
	HOST_KVM_INTEL,
	HOST_KVM_AMD,
	HOST_EMULATED,
} HostKind;

static const gchar *host_names[] = {"kvm-intel", "kvm-amd", "emulated"};

/* What nf-host decides on the recorded hosts in tests/fixtures/host. */
static NfHostInfo
host_info (HostKind kind)
{
	NfHostInfo host = {0};

	switch (kind) {
	case HOST_KVM_INTEL:
		host.vendor = NF_CPU_VENDOR_INTEL;
		host.accel = NF_ACCEL_KVM;
		host.feature = "vmx";
		break;
	case HOST_KVM_AMD:
		host.vendor = NF_CPU_VENDOR_AMD;
		host.accel = NF_ACCEL_KVM;
		host.feature = "svm";
		break;
	case HOST_EMULATED:
		host.vendor = NF_CPU_VENDOR_INTEL;
		host.accel = NF_ACCEL_EMULATED;
		host.feature = "svm";
		break;
	default:
		g_assert_not_reached ();
	}
	return host;
}

static const gchar *
template_dir (void)
{
	const gchar *dir = g_getenv ("NF_TEMPLATE_DIR");

	g_assert_nonnull (dir);
	return dir;
}

static NfNodeSpec *
spec_new (const gchar *pool, guint index)
{
	NfNodeSpec *spec = nf_node_spec_new ();

	spec->pool = g_strdup (pool);
	spec->index = index;
	spec->image = g_strdup ("/var/lib/nestfarm/images/base.qcow2");
	spec->overlay = g_strdup_printf ("/var/lib/nestfarm/images/%s-%u.qcow2", pool, index);
	spec->trunk_bridge = g_strdup ("nftrunk0");
	spec->vlans = g_strdup ("all");
	spec->mgmt_network = g_strdup ("default");
	spec->console_log = g_strdup_printf ("/var/log/nestfarm/console/%s-%u.log", pool, index);
	spec->created = CREATED;
	return spec;
}

static gchar *
render (const gchar *profile_name, const NfNodeSpec *spec, const NfHostInfo *host)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) profile = nf_profile_load (template_dir (), profile_name, &error);
	gchar *xml;

	g_assert_no_error (error);
	xml = nf_profile_render_domain (profile, spec, host, &error);
	g_assert_no_error (error);
	g_assert_nonnull (xml);
	return xml;
}

/* libvirt's own RNG schema, through its own tool. */
static void
assert_schema_valid (const gchar *xml)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GSubprocess) validate = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *output = NULL;
	gint fd;

	fd = g_file_open_tmp ("nf-domain-XXXXXX.xml", &path, &error);
	g_assert_no_error (error);
	g_close (fd, NULL);
	g_file_set_contents (path, xml, -1, &error);
	g_assert_no_error (error);
	validate = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
				     &error,
				     "virt-xml-validate",
				     path,
				     "domain",
				     NULL);
	g_assert_no_error (error);
	g_subprocess_communicate_utf8 (validate, NULL, NULL, &output, NULL, &error);
	g_assert_no_error (error);
	if (!g_subprocess_get_if_exited (validate) || g_subprocess_get_exit_status (validate) != 0)
		g_test_message ("virt-xml-validate: %s\n%s", output, xml);
	g_assert_true (g_subprocess_get_if_exited (validate));
	g_assert_cmpint (g_subprocess_get_exit_status (validate), ==, 0);
	g_unlink (path);
}

static xmlDoc *
parse (const gchar *xml)
{
	xmlDoc *doc = xmlReadMemory (xml,
				     (int) strlen (xml),
				     "domain.xml",
				     NULL,
				     XML_PARSE_NONET | XML_PARSE_NOBLANKS);

	g_assert_nonnull (doc);
	return doc;
}

static xmlXPathContext *
xpath_new (xmlDoc *doc)
{
	xmlXPathContext *ctx = xmlXPathNewContext (doc);

	xmlXPathRegisterNs (ctx, (const xmlChar *) "n", (const xmlChar *) NF_METADATA_NS);
	return ctx;
}

static gchar *
xpath_string (xmlXPathContext *ctx, const gchar *expr)
{
	g_autofree gchar *wrapped = g_strdup_printf ("string(%s)", expr);
	g_autoptr (xmlXPathObject) result = xmlXPathEvalExpression ((const xmlChar *) wrapped, ctx);

	g_assert_nonnull (result);
	return g_strdup ((const gchar *) result->stringval);
}

static gdouble
xpath_number (xmlXPathContext *ctx, const gchar *expr)
{
	g_autoptr (xmlXPathObject) result = xmlXPathEvalExpression ((const xmlChar *) expr, ctx);

	g_assert_nonnull (result);
	return xmlXPathCastToNumber (result);
}

#define assert_xpath_str(ctx, expr, expected)                        \
	G_STMT_START                                                 \
	{                                                            \
		g_autofree gchar *_value = xpath_string (ctx, expr); \
		g_assert_cmpstr (_value, ==, expected);              \
	}                                                            \
	G_STMT_END

#define assert_xpath_count(ctx, expr, expected) \
	g_assert_cmpfloat (xpath_number (ctx, "count(" expr ")"), ==, expected)

/* The parts the issue says every rendered domain has. */
static void
assert_parts (const gchar *xml, const gchar *profile_name, const NfNodeSpec *spec, const NfHostInfo *host)
{
	g_autoptr (xmlDoc) doc = parse (xml);
	g_autoptr (xmlXPathContext) ctx = xpath_new (doc);
	g_autofree gchar *name = g_strdup_printf ("%s-%u", spec->pool, spec->index);
	g_autofree gchar *title = g_strdup_printf ("nestfarm node %s (pool %s)", name, spec->pool);
	g_autofree gchar *mac0 = nf_node_mac (spec->pool, spec->index, 0);
	g_autofree gchar *mac1 = nf_node_mac (spec->pool, spec->index, 1);
	g_autofree gchar *index = g_strdup_printf ("%u", spec->index);
	g_autoptr (NfVlanSet) vlans = nf_vlan_set_parse (spec->vlans, NULL);
	g_autoptr (GArray) tags = nf_vlan_set_to_array (vlans);
	const gchar *trunk = "/domain/devices/interface[@type='bridge']";
	const gchar *mgmt = "/domain/devices/interface[@type='network']";

	assert_xpath_count (ctx, "/domain", 1);
	assert_xpath_count (ctx, "//*[namespace-uri() = '" NF_PROFILE_NS "']", 0);
	assert_xpath_count (ctx, "//@*[namespace-uri() = '" NF_PROFILE_NS "']", 0);
	assert_xpath_count (ctx, "//comment()", 0);
	assert_xpath_str (ctx, "/domain/name", name);
	assert_xpath_str (ctx, "/domain/title", title);
	assert_xpath_str (ctx, "/domain/sysinfo[@type='smbios']/system/entry[@name='serial']", name);
	assert_xpath_str (ctx, "/domain/os/smbios/@mode", "sysinfo");
	if (spec->cpu != NULL) {
		g_autofree gchar *model = nf_cpu_model (spec->cpu);

		/* the farm's baseline, nested virtualization required */
		assert_xpath_str (ctx, "/domain/@type", host->accel == NF_ACCEL_KVM ? "kvm" : "qemu");
		assert_xpath_str (ctx, "/domain/cpu/@mode", "custom");
		assert_xpath_str (ctx, "/domain/cpu/@check", "partial");
		assert_xpath_str (ctx, "/domain/cpu/model[@fallback='forbid']", model);
		assert_xpath_count (ctx, "/domain/cpu/feature[@policy='require'][@name='svm']", 1);
		if (host->accel != NF_ACCEL_KVM)
			assert_xpath_count (ctx, "/domain/cpu/feature[@policy='require'][@name='npt']", 1);
	} else if (host->accel == NF_ACCEL_KVM) {
		assert_xpath_str (ctx, "/domain/@type", "kvm");
		assert_xpath_str (ctx, "/domain/cpu/@mode", "host-passthrough");
		assert_xpath_count (ctx, "/domain/cpu/model", 0);
		assert_xpath_str (ctx, "/domain/cpu/feature[@policy='require']/@name", host->feature);
		assert_xpath_count (ctx, "/domain/cpu/feature", 1);
	} else {
		assert_xpath_str (ctx, "/domain/@type", "qemu");
		assert_xpath_str (ctx, "/domain/cpu/@mode", "custom");
		assert_xpath_str (ctx,
				  "/domain/cpu/model[@fallback='forbid']",
				  host->emulated_cpu_model != NULL ? host->emulated_cpu_model : "qemu64");
		assert_xpath_count (ctx, "/domain/cpu/feature[@policy='require'][@name='svm']", 1);
		/* with SVM's nested paging, which TCG emulates too */
		assert_xpath_count (ctx, "/domain/cpu/feature[@policy='require'][@name='npt']", 1);
		assert_xpath_count (ctx, "/domain/cpu/feature", 2);
	}
	assert_xpath_count (ctx, "/domain/features/acpi", 1);
	assert_xpath_str (ctx, "/domain/on_poweroff", "destroy");
	assert_xpath_str (ctx, "/domain/on_reboot", "restart");
	assert_xpath_str (ctx, "/domain/on_crash", "destroy");

	assert_xpath_count (ctx, "/domain/devices/disk[@device='disk']", 1);
	assert_xpath_str (ctx, "/domain/devices/disk/source/@file", spec->overlay);
	assert_xpath_str (ctx, "/domain/devices/disk/driver/@type", "qcow2");
	assert_xpath_count (ctx, "/domain/devices/disk/backingStore", 0);

	assert_xpath_count (ctx, "/domain/devices/interface[@type='bridge']", 1);
	assert_xpath_str (ctx,
			  "/domain/devices/interface[@type='bridge']/source/@bridge",
			  spec->trunk_bridge);
	assert_xpath_str (ctx, "/domain/devices/interface[@type='bridge']/virtualport/@type", "openvswitch");
	assert_xpath_str (ctx, "/domain/devices/interface[@type='bridge']/mac/@address", mac1);
	if (spec->trunk_port != NULL) {
		/* an OVN port: its name is the OVS iface-id; the VLAN list is OVN's */
		assert_xpath_str (ctx,
				  "/domain/devices/interface[@type='bridge']/virtualport/parameters/@interfaceid",
				  spec->trunk_port);
		assert_xpath_count (ctx, "/domain/devices/interface[@type='bridge']/vlan", 0);
	} else if (tags->len == 0) {
		assert_xpath_count (ctx, "/domain/devices/interface[@type='bridge']/vlan", 0);
		assert_xpath_count (ctx,
				    "/domain/devices/interface[@type='bridge']/virtualport/parameters",
				    0);
	} else {
		g_autofree gchar *tag_expr = g_strdup_printf ("%s/vlan[@trunk='yes']/tag", trunk);
		g_autofree gchar *count_expr = g_strdup_printf ("count(%s)", tag_expr);

		g_assert_cmpfloat (xpath_number (ctx, count_expr), ==, tags->len);
		for (guint i = 0; i < tags->len; i++) {
			g_autofree gchar *expr = g_strdup_printf ("%s[%u]/@id", tag_expr, i + 1);
			g_autofree gchar *id = g_strdup_printf ("%u", g_array_index (tags, guint, i));

			assert_xpath_str (ctx, expr, id);
		}
	}
	if (spec->mgmt_network == NULL) {
		assert_xpath_count (ctx, "/domain/devices/interface", 1);
	} else {
		g_autofree gchar *net = g_strdup_printf ("%s/source/@network", mgmt);
		g_autofree gchar *mac = g_strdup_printf ("%s/mac/@address", mgmt);

		assert_xpath_count (ctx, "/domain/devices/interface", 2);
		assert_xpath_str (ctx, net, spec->mgmt_network);
		assert_xpath_str (ctx, mac, mac0);
	}

	assert_xpath_str (ctx, "/domain/devices/serial/log/@file", spec->console_log);
	assert_xpath_str (ctx, "/domain/devices/serial/log/@append", "on");
	assert_xpath_count (ctx, "/domain/devices/console", 1);
	assert_xpath_count (ctx,
			    "/domain/devices/channel[@type='unix']/target[@type='virtio' and "
			    "@name='org.qemu.guest_agent.0']",
			    1);

	assert_xpath_count (ctx, "/domain/metadata/n:node", 1);
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:pool", spec->pool);
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:index", index);
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:profile", profile_name);
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:created", "2024-05-01T12:00:00Z");
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:image", spec->image);
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:console-log", spec->console_log);
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:trunk-bridge", spec->trunk_bridge);
}

static void
test_mac_stable (void)
{
	g_autofree gchar *a = nf_node_mac ("lab", 1, 0);
	g_autofree gchar *b = nf_node_mac ("lab", 1, 0);
	g_autofree gchar *c = nf_node_mac ("lab", 1, 1);
	g_autofree gchar *d = nf_node_mac ("lab", 2, 0);
	g_autofree gchar *e = nf_node_mac ("lab2", 1, 0);

	g_assert_cmpstr (a, ==, b);
	g_assert_cmpstr (a, !=, c);
	g_assert_cmpstr (a, !=, d);
	g_assert_cmpstr (a, !=, e);
	/* Pinned: a change of scheme would renumber every existing node. */
	g_assert_cmpstr (a, ==, MAC_LAB_1_0);
}

static void
test_mac_format (void)
{
	for (guint index = 1; index <= 200; index++) {
		for (guint nic = 0; nic < 2; nic++) {
			g_autofree gchar *mac = nf_node_mac ("format", index, nic);
			guint first;

			g_assert_true (g_regex_match_simple ("^52:54:00(:[0-9a-f]{2}){3}$", mac, 0, 0));
			/* Unicast (bit 0 clear) and locally administered (bit 1 set). */
			first = (guint) (g_ascii_xdigit_value (mac[0]) * 16 + g_ascii_xdigit_value (mac[1]));
			g_assert_cmpuint (first & 1, ==, 0);
			g_assert_cmpuint (first & 2, ==, 2);
		}
	}
}

static void
test_mac_distinct (void)
{
	g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	guint collisions = 0;

	/* 24 hash bits: 2000 addresses collide with a chance of about 1 in 8,
	 * so a rare collision is within reason; several would mean a bug. */
	for (guint index = 1; index <= 1000; index++) {
		for (guint nic = 0; nic < 2; nic++) {
			gchar *mac = nf_node_mac ("pool", index, nic);

			if (!g_hash_table_add (seen, mac))
				collisions++;
		}
	}
	g_test_message ("%u collisions among 2000 MACs", collisions);
	g_assert_cmpuint (collisions, <=, 1);
}

static void
test_profile_list (void)
{
	g_autoptr (GError) error = NULL;
	g_auto (GStrv) names = nf_profile_list (template_dir (), &error);

	g_assert_no_error (error);
	g_assert_nonnull (names);
	g_assert_true (g_strv_contains ((const gchar *const *) names, "kvm-compute"));
	g_assert_true (g_strv_contains ((const gchar *const *) names, "esxi-host"));
	for (guint i = 0; names[i] != NULL; i++) {
		g_autoptr (NfProfile) profile = nf_profile_load (template_dir (), names[i], &error);

		g_assert_no_error (error);
		g_assert_cmpstr (nf_profile_get_name (profile), ==, names[i]);
		if (i > 0)
			g_assert_cmpstr (names[i - 1], <, names[i]);
	}
}

static void
test_profile_defaults (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) kvm = nf_profile_load (template_dir (), "kvm-compute", &error);
	g_autoptr (NfProfile) esxi = NULL;

	g_assert_no_error (error);
	g_assert_cmpuint (nf_profile_get_default_vcpus (kvm), ==, 2);
	g_assert_cmpuint (nf_profile_get_default_memory_mib (kvm), ==, 4096);
	g_assert_cmpuint (nf_profile_get_default_disk_gib (kvm), ==, 20);
	g_assert_nonnull (nf_profile_get_description (kvm));
	esxi = nf_profile_load (template_dir (), "esxi-host", &error);
	g_assert_no_error (error);
	g_assert_cmpuint (nf_profile_get_default_vcpus (esxi), ==, 4);
	g_assert_cmpuint (nf_profile_get_default_memory_mib (esxi), ==, 8192);
	g_assert_cmpuint (nf_profile_get_default_disk_gib (esxi), ==, 40);
}

static void
test_profile_missing (void)
{
	const gchar *bad_names[] =
		{"", "../kvm-compute", "kvm/compute", "KVM-compute", "kvm_compute", "kvm.xml", NULL};
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) profile = nf_profile_load (template_dir (), "no-such-profile", &error);

	g_assert_null (profile);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_assert_nonnull (strstr (error->message, "no-such-profile"));
	g_assert_nonnull (strstr (error->message, "esxi-host, kvm-compute"));
	for (guint i = 0; bad_names[i] != NULL; i++) {
		g_autoptr (GError) error_bad = NULL;
		g_autoptr (NfProfile) bad = nf_profile_load (template_dir (), bad_names[i], &error_bad);

		g_assert_null (bad);
		g_assert_error (error_bad, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	}
}

/* Broken templates are refused at load, naming what is wrong. */
static void
test_profile_bad_templates (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *good = NULL;
	g_autofree gchar *good_path = g_build_filename (template_dir (), "kvm-compute.xml", NULL);
	g_autofree gchar *dir = g_dir_make_tmp ("nf-templates-XXXXXX", &error);
	struct {
		const gchar *from;
		const gchar *to;
		const gchar *message;
	} table[] = {
		{"<acpi/>", "", "<acpi/>"},
		{"<clock offset=\"utc\"/>", "<cpu mode=\"host-model\"/>", "<cpu>"},
		{"<clock offset=\"utc\"/>", "<uuid>2b6c1a4e-8b1f-4a3e-9a57-1b9e1f0c2d3e</uuid>", "<uuid>"},
		{"<clock offset=\"utc\"/>", "<metadata/>", "<metadata>"},
		{"profile:role=\"trunk\"", "profile:role=\"uplink\"", "role"},
		{"profile:role=\"console\"", "", "console"},
		{"<memballoon model=\"virtio\"/>",
		 "<interface type=\"bridge\" profile:role=\"trunk\"/>",
		 "twice"},
		{"org.qemu.guest_agent.0", "org.example.other", "guest-agent"},
		{"<profile:vcpus>2</profile:vcpus>", "<profile:vcpus>0</profile:vcpus>", "vcpus"},
		{"<profile:memory-mib>4096</profile:memory-mib>", "", "memory-mib"},
		{"<mac/>", "<mac address=\"52:54:00:00:00:01\"/>", "MAC"},
		{"<clock offset=\"utc\"/>", "<profile:stray/>", "profile element"},
		{"profile:profile>", "profile:other>", NULL},
		{"</domain>", "", NULL},
	};

	g_assert_no_error (error);
	g_file_get_contents (good_path, &good, NULL, &error);
	g_assert_no_error (error);
	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (GError) error_load = NULL;
		g_autoptr (GString) text = g_string_new (good);
		g_autofree gchar *path = g_build_filename (dir, "broken.xml", NULL);
		g_autoptr (NfProfile) profile = NULL;

		g_assert_cmpuint (g_string_replace (text, table[i].from, table[i].to, 0), >=, 1);
		g_file_set_contents (path, text->str, -1, &error);
		g_assert_no_error (error);
		profile = nf_profile_load (dir, "broken", &error_load);
		g_test_message ("broken template %u: %s",
				i,
				error_load != NULL ? error_load->message : "(loaded)");
		g_assert_null (profile);
		g_assert_nonnull (error_load);
		g_assert_true (error_load->domain == NF_ERROR);
		if (g_str_equal (table[i].from, "profile:profile>")) {
			/* Not a profile at all (say, a volume template). */
			g_assert_error (error_load, NF_ERROR, NF_ERROR_NOT_FOUND);
		} else {
			g_assert_error (error_load, NF_ERROR, NF_ERROR_FAILED);
		}
		if (table[i].message != NULL)
			g_assert_nonnull (strstr (error_load->message, table[i].message));
		g_unlink (path);
	}
	g_rmdir (dir);
}

static void
check_golden (const gchar *name, const gchar *xml)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *file = g_strconcat (name, ".xml", NULL);
	g_autofree gchar *path = g_test_build_filename (G_TEST_DIST, "fixtures", "golden", file, NULL);
	g_autofree gchar *expected = NULL;

	if (g_strcmp0 (g_getenv ("NF_UPDATE_GOLDEN"), "1") == 0) {
		g_file_set_contents (path, xml, -1, &error);
		g_assert_no_error (error);
		g_test_message ("rewrote %s", path);
		return;
	}
	g_file_get_contents (path, &expected, NULL, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (xml, ==, expected);
}

static void
test_golden (void)
{
	struct {
		const gchar *golden;
		HostKind host;
		const gchar *profile;
		const gchar *vlans;
		const gchar *baseline; /* a file of fixtures/cpu, NULL: passthrough */
	} table[] = {
		{"kvm-intel-kvm-compute", HOST_KVM_INTEL, "kvm-compute", "100-102,300", NULL},
		{"kvm-amd-kvm-compute", HOST_KVM_AMD, "kvm-compute", "all", NULL},
		{"emulated-kvm-compute", HOST_EMULATED, "kvm-compute", "all", NULL},
		{"kvm-intel-esxi-host", HOST_KVM_INTEL, "esxi-host", "10,20", NULL},
		/* CPUMode=baseline: libvirt's baseline of EPYC-Rome and
		 * EPYC-Milan, which leaves svm out; rendering requires it (and
		 * npt under emulation) again. */
		{"baseline-kvm-amd-kvm-compute",
		 HOST_KVM_AMD,
		 "kvm-compute",
		 "all",
		 "baseline-amd-rome-milan.xml"},
		{"baseline-emulated-kvm-compute",
		 HOST_EMULATED,
		 "kvm-compute",
		 "all",
		 "baseline-amd-rome-milan.xml"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (NfNodeSpec) spec = spec_new ("lab", 3);
		NfHostInfo host = host_info (table[i].host);
		g_autofree gchar *xml = NULL;

		g_test_message ("golden %s", table[i].golden);
		g_free (spec->vlans);
		spec->vlans = g_strdup (table[i].vlans);
		if (table[i].baseline != NULL) {
			g_autofree gchar *path = g_test_build_filename (G_TEST_DIST,
									"fixtures",
									"cpu",
									table[i].baseline,
									NULL);
			g_autoptr (GError) error = NULL;

			g_file_get_contents (path, &spec->cpu, NULL, &error);
			g_assert_no_error (error);
		}
		xml = render (table[i].profile, spec, &host);
		assert_schema_valid (xml);
		assert_parts (xml, table[i].profile, spec, &host);
		check_golden (table[i].golden, xml);
	}
}

/* Every host, every profile in xml-templates (a new template file is
 * checked with no new code), management choice and VLAN form: schema-valid,
 * with every required part. */
static void
test_matrix (void)
{
	g_autoptr (GError) error = NULL;
	g_auto (GStrv) profiles = nf_profile_list (template_dir (), &error);
	const gchar *networks[] = {"default", NULL};
	const gchar *vlan_lists[] = {"all", "100-199,300", "7"};

	g_assert_no_error (error);
	g_assert_cmpuint (g_strv_length (profiles), >=, 2);
	for (guint h = 0; h < G_N_ELEMENTS (host_names); h++) {
		for (guint p = 0; profiles[p] != NULL; p++) {
			for (guint n = 0; n < G_N_ELEMENTS (networks); n++) {
				for (guint v = 0; v < G_N_ELEMENTS (vlan_lists); v++) {
					g_autoptr (NfNodeSpec) spec = spec_new ("matrix", 1 + v);
					NfHostInfo host = host_info (h);
					g_autofree gchar *xml = NULL;

					g_test_message ("%s %s mgmt=%s vlans=%s",
							host_names[h],
							profiles[p],
							networks[n],
							vlan_lists[v]);
					g_free (spec->vlans);
					spec->vlans = g_strdup (vlan_lists[v]);
					g_clear_pointer (&spec->mgmt_network, g_free);
					spec->mgmt_network = g_strdup (networks[n]);
					xml = render (profiles[p], spec, &host);
					assert_schema_valid (xml);
					assert_parts (xml, profiles[p], spec, &host);
					/* the same node on an OVN trunk */
					g_free (xml);
					spec->trunk_port = nf_ovn_port_name (NULL, "matrix", 1 + v);
					xml = render (profiles[p], spec, &host);
					assert_schema_valid (xml);
					assert_parts (xml, profiles[p], spec, &host);
				}
			}
		}
	}
}

static void
test_sizes (void)
{
	g_autoptr (NfNodeSpec) spec = spec_new ("sizes", 1);
	NfHostInfo host = host_info (HOST_KVM_INTEL);
	g_autofree gchar *defaults = render ("esxi-host", spec, &host);
	g_autofree gchar *custom = NULL;
	g_autoptr (xmlDoc) doc = parse (defaults);
	g_autoptr (xmlXPathContext) ctx = xpath_new (doc);
	g_autoptr (xmlDoc) doc_custom = NULL;
	g_autoptr (xmlXPathContext) ctx_custom = NULL;

	assert_xpath_str (ctx, "/domain/vcpu", "4");
	assert_xpath_str (ctx, "/domain/memory", "8192");
	assert_xpath_str (ctx, "/domain/memory/@unit", "MiB");
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:disk-gib", "40");
	assert_xpath_str (ctx, "/domain/devices/disk/target/@bus", "sata");
	assert_xpath_str (ctx, "/domain/devices/interface[@type='bridge']/model/@type", "vmxnet3");
	spec->vcpus = 6;
	spec->memory_mib = 12288;
	spec->disk_gib = 64;
	custom = render ("esxi-host", spec, &host);
	doc_custom = parse (custom);
	ctx_custom = xpath_new (doc_custom);
	assert_xpath_str (ctx_custom, "/domain/vcpu", "6");
	assert_xpath_str (ctx_custom, "/domain/memory", "12288");
	assert_xpath_str (ctx_custom, "/domain/metadata/n:node/n:vcpus", "6");
	assert_xpath_str (ctx_custom, "/domain/metadata/n:node/n:memory-mib", "12288");
	assert_xpath_str (ctx_custom, "/domain/metadata/n:node/n:disk-gib", "64");
}

static void
test_emulated_model (void)
{
	g_autoptr (NfNodeSpec) spec = spec_new ("tcg", 1);
	NfHostInfo host = host_info (HOST_EMULATED);
	g_autofree gchar *model = g_strdup ("EPYC");
	g_autofree gchar *xml = NULL;

	host.emulated_cpu_model = model;
	xml = render ("kvm-compute", spec, &host);
	assert_schema_valid (xml);
	assert_parts (xml, "kvm-compute", spec, &host);
}

static void
test_kvm_without_feature (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeSpec) spec = spec_new ("nofeat", 1);
	g_autoptr (NfProfile) profile = nf_profile_load (template_dir (), "kvm-compute", &error);
	NfHostInfo host = host_info (HOST_KVM_AMD);
	g_autofree gchar *xml = NULL;

	g_assert_no_error (error);
	/* The vendor alone says which feature. */
	host.feature = NULL;
	xml = nf_profile_render_domain (profile, spec, &host, &error);
	g_assert_no_error (error);
	g_assert_nonnull (strstr (xml, "<feature policy=\"require\" name=\"svm\"/>"));
	g_clear_pointer (&xml, g_free);
	host.vendor = NF_CPU_VENDOR_OTHER;
	xml = nf_profile_render_domain (profile, spec, &host, &error);
	g_assert_null (xml);
	g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
}

/* Hostile strings either come out as the very same text, escaped, or are
 * refused: never markup. */
static void
test_injection_escaped (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeSpec) spec = spec_new ("inject", 1);
	g_autoptr (NfNodeSpec) back = NULL;
	NfHostInfo host = host_info (HOST_KVM_INTEL);
	g_autofree gchar *xml = NULL;
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (xmlXPathContext) ctx = NULL;

	g_free (spec->console_log);
	spec->console_log = g_strdup ("/var/log/n\u00e9st/" NASTY "</log><domain>.log");
	g_free (spec->mgmt_network);
	spec->mgmt_network = g_strdup ("net" NASTY "<interface type='bridge'>");
	g_free (spec->image);
	spec->image = g_strdup ("image" NASTY "</nestfarm:image>");
	g_free (spec->overlay);
	spec->overlay = g_strdup ("/srv/" NASTY "'/><disk>.qcow2");
	xml = render ("kvm-compute", spec, &host);
	g_assert_null (strstr (xml, "<!--"));
	g_assert_null (strstr (xml, "]]>"));
	assert_schema_valid (xml);
	assert_parts (xml, "kvm-compute", spec, &host);
	doc = parse (xml);
	ctx = xpath_new (doc);
	assert_xpath_count (ctx, "//domain", 1);
	assert_xpath_count (ctx, "//disk", 1);
	assert_xpath_count (ctx, "//log", 1);
	assert_xpath_str (ctx, "/domain/metadata/n:node/n:image", spec->image);
	back = nf_node_spec_from_domain_xml (xml, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (back->console_log, ==, spec->console_log);
	g_assert_cmpstr (back->mgmt_network, ==, spec->mgmt_network);
	g_assert_cmpstr (back->image, ==, spec->image);
	g_assert_cmpstr (back->overlay, ==, spec->overlay);
}

static void
test_validation (void)
{
	NfHostInfo host = host_info (HOST_KVM_INTEL);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) profile = nf_profile_load (template_dir (), "kvm-compute", &error);
	struct {
		const gchar *what;
		guint field;
		const gchar *text;
		guint number;
	} table[] = {
		{"pool with markup", 0, "lab<x>", 0},
		{"pool uppercase", 0, "Lab", 0},
		{"pool missing", 0, NULL, 0},
		{"index 0", 1, NULL, 0},
		{"index too big", 1, NULL, 10000},
		{"vcpus too many", 2, NULL, 257},
		{"memory too small", 3, NULL, 64},
		{"disk too big", 4, NULL, 70000},
		{"overlay relative", 5, "lab-1.qcow2", 0},
		{"overlay missing", 5, NULL, 0},
		{"console relative", 6, "console.log", 0},
		{"console with newline", 6, "/var/log/a\nb.log", 0},
		{"console with control char", 6, "/var/log/a\x01.log", 0},
		{"console not UTF-8", 6, "/var/log/\xff.log", 0},
		{"bridge too long", 7, "nftrunk0123456789", 0},
		{"bridge with slash", 7, "nf/trunk", 0},
		{"bridge with blank", 7, "nf trunk", 0},
		{"bridge with markup", 7, "br'\"<>&", 0},
		{"bridge dot-dot", 7, "..", 0},
		{"bridge missing", 7, NULL, 0},
		{"vlan out of range", 8, "5000", 0},
		{"vlan garbage", 8, "100,abc", 0},
		{"network with slash", 9, "net/x", 0},
		{"network empty", 9, "", 0},
		{"network with newline", 9, "net\nx", 0},
		{"image missing", 10, NULL, 0},
		{"image with control char", 10, "base\x7f", 0},
		{"profile traversal", 11, "../../etc/passwd", 0},
		{"trunk port not a UUID", 12, "port-1", 0},
		{"trunk port with markup", 12, "'/><x", 0},
	};

	g_assert_no_error (error);
	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (GError) error_render = NULL;
		g_autoptr (NfNodeSpec) spec = spec_new ("lab", 1);
		g_autofree gchar *xml = NULL;
		gchar **field = NULL;

		g_test_message ("refused: %s", table[i].what);
		switch (table[i].field) {
		case 0:
			field = &spec->pool;
			break;
		case 1:
			spec->index = table[i].number;
			break;
		case 2:
			spec->vcpus = table[i].number;
			break;
		case 3:
			spec->memory_mib = table[i].number;
			break;
		case 4:
			spec->disk_gib = table[i].number;
			break;
		case 5:
			field = &spec->overlay;
			break;
		case 6:
			field = &spec->console_log;
			break;
		case 7:
			field = &spec->trunk_bridge;
			break;
		case 8:
			field = &spec->vlans;
			break;
		case 9:
			field = &spec->mgmt_network;
			break;
		case 10:
			field = &spec->image;
			break;
		case 11:
			field = &spec->profile;
			break;
		case 12:
			field = &spec->trunk_port;
			break;
		default:
			g_assert_not_reached ();
		}
		if (field != NULL) {
			g_free (*field);
			*field = g_strdup (table[i].text);
		}
		xml = nf_profile_render_domain (profile, spec, &host, &error_render);
		g_assert_null (xml);
		g_assert_error (error_render, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_test_message ("  %s", error_render->message);
		g_clear_error (&error_render);
		g_assert_false (nf_node_spec_validate (spec, &error_render));
		g_assert_error (error_render, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_round_trip (void)
{
	const gchar *networks[] = {"default", NULL};

	for (guint n = 0; n < G_N_ELEMENTS (networks); n++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfNodeSpec) spec = spec_new ("trip", 42);
		g_autoptr (NfNodeSpec) back = NULL;
		NfHostInfo host = host_info (HOST_KVM_AMD);
		g_autofree gchar *xml = NULL;

		g_free (spec->mgmt_network);
		spec->mgmt_network = g_strdup (networks[n]);
		g_free (spec->vlans);
		spec->vlans = g_strdup ("300, 100-199");
		spec->memory_mib = 2048;
		/* an OVN port, once */
		if (n == 0)
			spec->trunk_port = nf_ovn_port_name (NULL, "trip", 42);
		xml = render ("kvm-compute", spec, &host);
		back = nf_node_spec_from_domain_xml (xml, &error);
		g_assert_no_error (error);
		g_assert_cmpstr (back->pool, ==, "trip");
		g_assert_cmpuint (back->index, ==, 42);
		g_assert_cmpstr (back->profile, ==, "kvm-compute");
		g_assert_cmpuint (back->vcpus, ==, 2);
		g_assert_cmpuint (back->memory_mib, ==, 2048);
		g_assert_cmpuint (back->disk_gib, ==, 20);
		g_assert_cmpstr (back->image, ==, spec->image);
		g_assert_cmpstr (back->overlay, ==, spec->overlay);
		g_assert_cmpstr (back->trunk_bridge, ==, spec->trunk_bridge);
		g_assert_cmpstr (back->trunk_port, ==, spec->trunk_port);
		g_assert_cmpstr (back->vlans, ==, "100-199,300");
		g_assert_cmpstr (back->mgmt_network, ==, networks[n]);
		g_assert_cmpstr (back->console_log, ==, spec->console_log);
		g_assert_cmpint (back->created, ==, CREATED);
	}
}

static void
test_created_now (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeSpec) spec = spec_new ("now", 1);
	g_autoptr (NfNodeSpec) back = NULL;
	NfHostInfo host = host_info (HOST_EMULATED);
	gint64 before = g_get_real_time () / G_USEC_PER_SEC;
	g_autofree gchar *xml = NULL;

	spec->created = 0;
	xml = render ("kvm-compute", spec, &host);
	back = nf_node_spec_from_domain_xml (xml, &error);
	g_assert_no_error (error);
	g_assert_cmpint (back->created, >=, before);
	g_assert_cmpint (back->created, <=, g_get_real_time () / G_USEC_PER_SEC);
}

/* The owning instance travels in the metadata; the default writes none,
 * so its domains read as before. */
static void
test_instance (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfNodeSpec) spec = spec_new ("own", 1);
	g_autoptr (NfNodeSpec) back = NULL;
	g_autoptr (NfNodeSpec) back_default = NULL;
	NfHostInfo host = host_info (HOST_EMULATED);
	g_autofree gchar *xml_default = render ("kvm-compute", spec, &host);
	g_autofree gchar *xml = NULL;
	/* As virDomainGetMetadata gives them: the namespace stripped. */
	const gchar *meta = "<node>\n  <pool>own</pool>\n  <instance>nftest</instance>\n</node>";
	const gchar *meta_default = "<node>\n  <pool>own</pool>\n</node>";
	const gchar *meta_empty = "<node><pool>own</pool><instance></instance></node>";

	g_assert_null (strstr (xml_default, "instance"));
	back_default = nf_node_spec_from_domain_xml (xml_default, &error);
	g_assert_no_error (error);
	g_assert_null (back_default->instance);

	spec->instance = g_strdup ("nftest");
	xml = render ("kvm-compute", spec, &host);
	back = nf_node_spec_from_domain_xml (xml, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (back->instance, ==, "nftest");

	g_assert_true (nf_node_metadata_owned_by (meta, "nftest"));
	g_assert_false (nf_node_metadata_owned_by (meta, NULL));
	g_assert_false (nf_node_metadata_owned_by (meta, "nftest2"));
	g_assert_true (nf_node_metadata_owned_by (meta_default, NULL));
	g_assert_false (nf_node_metadata_owned_by (meta_default, "nftest"));
	g_assert_true (nf_node_metadata_owned_by (meta_empty, NULL));
	g_assert_false (nf_node_metadata_owned_by ("<not xml", NULL));
}

static void
test_from_xml_untagged (void)
{
	const gchar *untagged[] = {
		"<domain type='kvm'><name>other</name></domain>",
		"<domain type='kvm'><name>other</name><metadata/></domain>",
		("<domain type='kvm'><name>other</name><metadata><x:node xmlns:x='http://example.com/node/1'>"
		 "<x:pool>a</x:pool><x:index>1</x:index></x:node></metadata></domain>"),
		/* Right element name, no namespace: not nestfarm's. */
		"<domain type='kvm'><name>other</name><metadata><node><pool>a</pool></node></metadata></domain>",
	};

	for (guint i = 0; i < G_N_ELEMENTS (untagged); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfNodeSpec) spec = nf_node_spec_from_domain_xml (untagged[i], &error);

		g_assert_null (spec);
		g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	}
}

static void
test_from_xml_partial (void)
{
	g_autoptr (NfNodeSpec) spec = spec_new ("part", 1);
	NfHostInfo host = host_info (HOST_KVM_INTEL);
	g_autofree gchar *xml = render ("kvm-compute", spec, &host);
	struct {
		const gchar *from;
		const gchar *to;
		const gchar *message;
	} table[] = {
		{"<nestfarm:index>1</nestfarm:index>", "", "<index>"},
		{"<nestfarm:pool>part</nestfarm:pool>", "", "<pool>"},
		{"nestfarm:overlay>", "nestfarm:overlay-path>", "<overlay>"},
		{"<nestfarm:index>1</nestfarm:index>", "<nestfarm:index>one</nestfarm:index>", "<index>"},
		{"<nestfarm:vcpus>2</nestfarm:vcpus>", "<nestfarm:vcpus>-2</nestfarm:vcpus>", "<vcpus>"},
		{"<nestfarm:created>2024-05-01T12:00:00Z</nestfarm:created>",
		 "<nestfarm:created>yesterday</nestfarm:created>",
		 "<created>"},
		{"<nestfarm:pool>part</nestfarm:pool>", "<nestfarm:pool>Part!</nestfarm:pool>", "pool"},
		{"<nestfarm:index>1</nestfarm:index>", "<nestfarm:index>10000</nestfarm:index>", "index"},
		{"</domain>", "", "not well-formed"},
		{"<domain", "<!DOCTYPE domain [<!ENTITY x 'y'>]><domain", "document type"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GString) text = g_string_new (xml);
		g_autoptr (NfNodeSpec) back = NULL;

		g_assert_cmpuint (g_string_replace (text, table[i].from, table[i].to, 0), >=, 1);
		back = nf_node_spec_from_domain_xml (text->str, &error);
		g_test_message ("partial %u: %s", i, error != NULL ? error->message : "(parsed)");
		g_assert_null (back);
		g_assert_error (error, NF_ERROR, NF_ERROR_FAILED);
		g_assert_nonnull (strstr (error->message, table[i].message));
	}
}

static void
test_spec_copy (void)
{
	g_autoptr (NfNodeSpec) spec = spec_new ("copy", 7);
	g_autoptr (NfNodeSpec) copy = nf_node_spec_copy (spec);

	g_assert_true (copy->pool != spec->pool);
	g_assert_cmpstr (copy->pool, ==, "copy");
	g_assert_cmpuint (copy->index, ==, 7);
	g_assert_cmpstr (copy->overlay, ==, spec->overlay);
	g_assert_cmpstr (copy->console_log, ==, spec->console_log);
	g_assert_cmpint (copy->created, ==, CREATED);
}

/* One profile, several threads rendering at once (the engine does). */
static gpointer
render_thread (gpointer data)
{
	NfProfile *profile = data;
	NfHostInfo host = host_info (HOST_KVM_INTEL);

	for (guint i = 1; i <= 50; i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfNodeSpec) spec = spec_new ("threads", i);
		g_autofree gchar *xml = nf_profile_render_domain (profile, spec, &host, &error);

		g_assert_no_error (error);
		g_assert_nonnull (strstr (xml, "<name>threads-"));
	}
	return NULL;
}

static void
test_threads (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfProfile) profile = nf_profile_load (template_dir (), "kvm-compute", &error);
	GThread *threads[4];

	g_assert_no_error (error);
	for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
		threads[i] = g_thread_new ("render", render_thread, profile);
	for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
		g_thread_join (threads[i]);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/template/mac/stable", test_mac_stable);
	g_test_add_func ("/template/mac/format", test_mac_format);
	g_test_add_func ("/template/mac/distinct", test_mac_distinct);
	g_test_add_func ("/template/profile/list", test_profile_list);
	g_test_add_func ("/template/profile/defaults", test_profile_defaults);
	g_test_add_func ("/template/profile/missing", test_profile_missing);
	g_test_add_func ("/template/profile/bad-templates", test_profile_bad_templates);
	g_test_add_func ("/template/render/golden", test_golden);
	g_test_add_func ("/template/render/matrix", test_matrix);
	g_test_add_func ("/template/render/sizes", test_sizes);
	g_test_add_func ("/template/render/emulated-model", test_emulated_model);
	g_test_add_func ("/template/render/kvm-without-feature", test_kvm_without_feature);
	g_test_add_func ("/template/render/injection-escaped", test_injection_escaped);
	g_test_add_func ("/template/render/validation", test_validation);
	g_test_add_func ("/template/render/threads", test_threads);
	g_test_add_func ("/template/spec/copy", test_spec_copy);
	g_test_add_func ("/template/spec/round-trip", test_round_trip);
	g_test_add_func ("/template/spec/created-now", test_created_now);
	g_test_add_func ("/template/spec/instance", test_instance);
	g_test_add_func ("/template/spec/untagged", test_from_xml_untagged);
	g_test_add_func ("/template/spec/partial", test_from_xml_partial);
	return g_test_run ();
}
