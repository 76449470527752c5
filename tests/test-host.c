/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-host"

#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-host.h"

/* The host decision on recorded hosts (tests/fixtures/host): the accelerator,
 * each check's pass, warn or fail, and the fixes offered. */

#define P NF_CHECK_PASS
#define W NF_CHECK_WARN

/* Every check, in the order the probe reports them. */
static const gchar *const check_ids[] = {
	"cpu-vendor",
	"cpu-flag",
	"nested-param",
	"dev-kvm",
	"libvirt-kvm",
	"libvirt-qemu",
	"host-passthrough",
	"accelerator",
	"memory",
};

/* The content of fixtures/host/@name/@file, or NULL where it is absent
 * (a domain type libvirt refused). */
static gchar *
read_fixture (const gchar *name, const gchar *file)
{
	g_autofree gchar *path = g_test_build_filename (G_TEST_DIST, "fixtures", "host", name, file, NULL);
	gchar *contents = NULL;

	if (!g_file_test (path, G_FILE_TEST_EXISTS))
		return NULL;
	g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
	return contents;
}

static NfHostInfo *
probe_fixture (const gchar *name, const gchar *dev_kvm_problem, NfAccel forced, GError **error)
{
	g_autofree gchar *sysroot = g_test_build_filename (G_TEST_DIST, "fixtures", "host", name, NULL);
	g_autofree gchar *caps = read_fixture (name, "capabilities.xml");
	g_autofree gchar *domcaps_kvm = read_fixture (name, "domcapabilities-kvm.xml");
	g_autofree gchar *domcaps_qemu = read_fixture (name, "domcapabilities-qemu.xml");

	g_assert_nonnull (caps);
	return nf_host_probe_from_facts (sysroot,
					 caps,
					 domcaps_kvm,
					 domcaps_qemu,
					 dev_kvm_problem,
					 forced,
					 error);
}

static void
assert_checks_well_formed (const NfHostInfo *info)
{
	g_assert_cmpuint (info->checks->len, ==, G_N_ELEMENTS (check_ids));
	for (guint i = 0; i < info->checks->len; i++) {
		const NfHostCheck *check = g_ptr_array_index (info->checks, i);

		g_assert_cmpstr (check->id, ==, check_ids[i]);
		g_assert_nonnull (check->detail);
		g_assert_cmpstr (check->detail, !=, "");
		/* A fix exactly where there is something to fix. */
		if (check->status == NF_CHECK_PASS)
			g_assert_null (check->fix);
		else
			g_assert_nonnull (check->fix);
		g_assert_nonnull (nf_check_status_to_string (check->status));
	}
}

typedef struct {
	const gchar *name;
	const gchar *dev_kvm_problem;
	NfCpuVendor vendor;
	NfAccel accel;
	const gchar *feature;
	const gchar *nested_param;
	guint64 total_mib;
	guint64 available_mib;
	NfCheckStatus statuses[G_N_ELEMENTS (check_ids)];
	const gchar *failed_check; /* what forcing kvm names; NULL: kvm works */
	const gchar *fix_says;     /* in that error */
} HostCase;

static const HostCase host_cases[] = {
	{
		"emulated-here",
		NULL,
		NF_CPU_VENDOR_INTEL,
		NF_ACCEL_EMULATED,
		"svm",
		NULL,
		24105,
		23723,
		{P, W, W, P, P, P, P, W, P},
		"cpu-flag",
		"give it a CPU with vmx",
	},
	{
		"intel-kvm-nested",
		NULL,
		NF_CPU_VENDOR_INTEL,
		NF_ACCEL_KVM,
		"vmx",
		"Y",
		257671,
		232539,
		{P, P, P, P, P, P, P, P, P},
		NULL,
		NULL,
	},
	{
		"intel-kvm-no-nested",
		NULL,
		NF_CPU_VENDOR_INTEL,
		NF_ACCEL_EMULATED,
		"svm",
		"N",
		257671,
		232539,
		{P, P, W, P, P, P, P, W, P},
		"nested-param",
		"echo \"options kvm_intel nested=1\" > /etc/modprobe.d/kvm.conf; modprobe -r kvm_intel; modprobe kvm_intel",
	},
	{
		"amd-kvm-nested",
		NULL,
		NF_CPU_VENDOR_AMD,
		NF_ACCEL_KVM,
		"svm",
		"1",
		128743,
		117632,
		{P, P, P, P, P, P, P, P, P},
		NULL,
		NULL,
	},
	{
		"amd-no-svm-flag",
		"/dev/kvm does not exist: no KVM module is loaded, or the CPU offers no virtualization.",
		NF_CPU_VENDOR_AMD,
		NF_ACCEL_EMULATED,
		"svm",
		NULL,
		64328,
		1024,
		{P, W, W, W, W, P, W, W, W},
		"cpu-flag",
		"SVM Mode (AMD-V)",
	},
};

/* The CPU nodes get from each fixture's decided domain type: the kvm
 * host-model where nested KVM works, else TCG's. */
static const struct {
	const gchar *name;
	const gchar *model;
} host_cpu_models[] = {
	{"emulated-here", "EPYC"},
	{"intel-kvm-nested", "Icelake-Server"},
	{"intel-kvm-no-nested", "EPYC"},
	{"amd-kvm-nested", "EPYC-Milan"},
	{"amd-no-svm-flag", "EPYC"},
};

static void
assert_host_cpu (const gchar *name, const NfHostInfo *info)
{
	g_autofree gchar *model = nf_cpu_model (info->host_cpu);

	g_assert_nonnull (info->host_cpu);
	g_assert_true (g_str_has_prefix (info->host_cpu, "<cpu mode=\"custom\" match=\"exact\">"));
	for (guint i = 0; i < G_N_ELEMENTS (host_cpu_models); i++) {
		if (g_str_equal (host_cpu_models[i].name, name)) {
			g_assert_cmpstr (model, ==, host_cpu_models[i].model);
			return;
		}
	}
	g_assert_not_reached ();
}

static void
test_host_fixtures (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (host_cases); i++) {
		const HostCase *c = &host_cases[i];
		g_autoptr (GError) error = NULL;
		g_autoptr (NfHostInfo) info = NULL;
		g_autoptr (NfHostInfo) forced_kvm = NULL;
		g_autoptr (NfHostInfo) forced_emulated = NULL;
		const NfHostCheck *accelerator;

		g_test_message ("host fixture: %s", c->name);
		info = probe_fixture (c->name, c->dev_kvm_problem, NF_ACCEL_AUTO, &error);
		g_assert_no_error (error);
		g_assert_nonnull (info);
		g_assert_cmpint (info->vendor, ==, c->vendor);
		g_assert_cmpint (info->accel, ==, c->accel);
		g_assert_cmpstr (info->feature, ==, c->feature);
		g_assert_cmpstr (info->nested_param, ==, c->nested_param);
		g_assert_cmpuint (info->memory_total_mib, ==, c->total_mib);
		g_assert_cmpuint (info->memory_available_mib, ==, c->available_mib);
		g_assert_nonnull (info->reason);
		g_assert_cmpstr (info->reason, !=, "");
		g_assert_true (info->libvirt_qemu);
		g_assert_cmpstr (info->emulated_cpu_model, ==, "qemu64");
		g_assert_cmpint (info->dev_kvm_usable, ==, c->dev_kvm_problem == NULL);
		assert_host_cpu (c->name, info);
		assert_checks_well_formed (info);
		for (guint j = 0; j < G_N_ELEMENTS (check_ids); j++) {
			const NfHostCheck *check = nf_host_info_get_check (info, check_ids[j]);

			g_test_message ("  %s %s: %s",
					check->id,
					nf_check_status_to_string (check->status),
					check->detail);
			g_assert_cmpint (check->status, ==, c->statuses[j]);
		}
		g_assert_null (nf_host_info_get_check (info, "no-such-check"));

		/* Under emulation the accelerator check points at the first fix. */
		accelerator = nf_host_info_get_check (info, "accelerator");
		if (c->failed_check != NULL) {
			g_assert_nonnull (strstr (accelerator->detail, c->failed_check));
			g_assert_cmpstr (accelerator->fix,
					 ==,
					 nf_host_info_get_check (info, c->failed_check)->fix);
			g_assert_nonnull (strstr (accelerator->fix, c->fix_says));
		}

		forced_kvm = probe_fixture (c->name, c->dev_kvm_problem, NF_ACCEL_KVM, &error);
		if (c->failed_check == NULL) {
			g_assert_no_error (error);
			g_assert_cmpint (forced_kvm->accel, ==, NF_ACCEL_KVM);
			g_assert_cmpstr (forced_kvm->feature, ==, c->feature);
		} else {
			g_assert_null (forced_kvm);
			g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
			g_test_message ("  forced kvm: %s", error->message);
			g_assert_nonnull (strstr (error->message, c->failed_check));
			g_assert_nonnull (strstr (error->message, c->fix_says));
			g_clear_error (&error);
		}

		forced_emulated = probe_fixture (c->name, c->dev_kvm_problem, NF_ACCEL_EMULATED, &error);
		g_assert_no_error (error);
		g_assert_cmpint (forced_emulated->accel, ==, NF_ACCEL_EMULATED);
		g_assert_cmpstr (forced_emulated->feature, ==, "svm");
		g_assert_nonnull (strstr (forced_emulated->reason, "configuration"));
		g_assert_cmpint (nf_host_info_get_check (forced_emulated, "accelerator")->status,
				 ==,
				 NF_CHECK_PASS);
		/* Nested KVM is not needed, so nothing about it fails. */
		for (guint j = 0; j < forced_emulated->checks->len; j++) {
			const NfHostCheck *check = g_ptr_array_index (forced_emulated->checks, j);

			g_assert_cmpint (check->status, !=, NF_CHECK_FAIL);
		}
		assert_checks_well_formed (forced_emulated);
	}
}

static gchar *
without_qemu (const gchar *caps)
{
	g_autoptr (GString) text = g_string_new (caps);

	g_assert_cmpuint (g_string_replace (text, "<domain type='qemu'/>", "", 0), >, 0);
	return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_host_no_qemu (void)
{
	g_autofree gchar *sysroot =
		g_test_build_filename (G_TEST_DIST, "fixtures", "host", "intel-kvm-nested", NULL);
	g_autofree gchar *here =
		g_test_build_filename (G_TEST_DIST, "fixtures", "host", "emulated-here", NULL);
	g_autofree gchar *caps_kvm = read_fixture ("intel-kvm-nested", "capabilities.xml");
	g_autofree gchar *caps_here = read_fixture ("emulated-here", "capabilities.xml");
	g_autofree gchar *no_qemu_kvm = without_qemu (caps_kvm);
	g_autofree gchar *no_qemu_here = without_qemu (caps_here);
	g_autofree gchar *domcaps_kvm = read_fixture ("intel-kvm-nested", "domcapabilities-kvm.xml");
	g_autoptr (NfHostInfo) info = NULL;
	g_autoptr (GError) error = NULL;

	/* Nested KVM works: a missing emulation fallback is only a warning. */
	info = nf_host_probe_from_facts (sysroot, no_qemu_kvm, domcaps_kvm, NULL, NULL, NF_ACCEL_AUTO, &error);
	g_assert_no_error (error);
	g_assert_cmpint (info->accel, ==, NF_ACCEL_KVM);
	g_assert_false (info->libvirt_qemu);
	g_assert_null (info->emulated_cpu_model);
	g_assert_cmpint (nf_host_info_get_check (info, "libvirt-qemu")->status, ==, NF_CHECK_WARN);
	assert_checks_well_formed (info);

	/* Forcing emulation without domain type qemu cannot work. */
	g_assert_null (nf_host_probe_from_facts (sysroot,
						 no_qemu_kvm,
						 domcaps_kvm,
						 NULL,
						 NULL,
						 NF_ACCEL_EMULATED,
						 &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
	g_assert_nonnull (strstr (error->message, "libvirt-qemu"));
	g_assert_nonnull (strstr (error->message, "qemu-system-x86"));
	g_clear_error (&error);

	/* Neither: both checks are named. */
	g_assert_null (
		nf_host_probe_from_facts (here, no_qemu_here, NULL, NULL, NULL, NF_ACCEL_AUTO, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
	g_assert_nonnull (strstr (error->message, "cpu-flag"));
	g_assert_nonnull (strstr (error->message, "libvirt-qemu"));
}

static void
test_host_host_passthrough (void)
{
	g_autofree gchar *sysroot =
		g_test_build_filename (G_TEST_DIST, "fixtures", "host", "amd-kvm-nested", NULL);
	g_autofree gchar *caps = read_fixture ("amd-kvm-nested", "capabilities.xml");
	g_autofree gchar *domcaps_qemu = read_fixture ("amd-kvm-nested", "domcapabilities-qemu.xml");
	g_autoptr (NfHostInfo) no_domcaps = NULL;
	g_autoptr (NfHostInfo) unsupported = NULL;
	g_autoptr (GError) error = NULL;

	/* libvirt refused the kvm domain capabilities. */
	no_domcaps =
		nf_host_probe_from_facts (sysroot, caps, NULL, domcaps_qemu, NULL, NF_ACCEL_AUTO, &error);
	g_assert_no_error (error);
	g_assert_cmpint (no_domcaps->accel, ==, NF_ACCEL_EMULATED);
	g_assert_false (no_domcaps->host_passthrough);
	g_assert_cmpint (nf_host_info_get_check (no_domcaps, "host-passthrough")->status, ==, NF_CHECK_WARN);

	/* The qemu domain capabilities say host-passthrough='no'. */
	unsupported = nf_host_probe_from_facts (sysroot,
						caps,
						domcaps_qemu,
						domcaps_qemu,
						NULL,
						NF_ACCEL_AUTO,
						&error);
	g_assert_no_error (error);
	g_assert_cmpint (unsupported->accel, ==, NF_ACCEL_EMULATED);
	g_assert_false (unsupported->host_passthrough);
	g_assert_nonnull (strstr (unsupported->reason, "host-passthrough"));

	g_assert_null (
		nf_host_probe_from_facts (sysroot, caps, NULL, domcaps_qemu, NULL, NF_ACCEL_KVM, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
	g_assert_nonnull (strstr (error->message, "host-passthrough"));
}

static void
test_host_emulated_model (void)
{
	struct {
		const gchar *models;
		const gchar *chosen;
	} table[] = {
		{"<model usable='yes'>qemu64</model><model usable='yes'>EPYC</model>", "qemu64"},
		{"<model usable='no'>qemu64</model><model usable='yes'>Opteron_G3</model>", "Opteron_G3"},
		{"<model usable='no'>EPYC</model><model usable='yes'>phenom</model>", "phenom"},
		{"<model usable='no'>EPYC</model><model usable='no'>qemu64</model>", "qemu64"},
		{"<model usable='no'>EPYC</model><model usable='yes'>Broadwell</model>", "EPYC"},
		{"<model usable='yes'>Broadwell</model>", "qemu64"},
		{"", "qemu64"},
	};
	g_autofree gchar *sysroot =
		g_test_build_filename (G_TEST_DIST, "fixtures", "host", "emulated-here", NULL);
	g_autofree gchar *caps = read_fixture ("emulated-here", "capabilities.xml");

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autofree gchar *domcaps = g_strdup_printf ("<domainCapabilities><domain>qemu</domain><cpu>"
							     "<mode name='custom' supported='yes'>%s</mode>"
							     "</cpu></domainCapabilities>",
							     table[i].models);
		g_autoptr (NfHostInfo) info = NULL;
		g_autoptr (GError) error = NULL;

		g_test_message ("emulated models: %s", table[i].models);
		info = nf_host_probe_from_facts (sysroot, caps, NULL, domcaps, NULL, NF_ACCEL_AUTO, &error);
		g_assert_no_error (error);
		g_assert_cmpstr (info->emulated_cpu_model, ==, table[i].chosen);
		g_assert_nonnull (
			strstr (nf_host_info_get_check (info, "libvirt-qemu")->detail, table[i].chosen));
	}

	/* No qemu domain capabilities at all: every x86 QEMU has qemu64. */
	{
		g_autoptr (NfHostInfo) info = NULL;
		g_autoptr (GError) error = NULL;

		info = nf_host_probe_from_facts (sysroot, caps, NULL, NULL, NULL, NF_ACCEL_AUTO, &error);
		g_assert_no_error (error);
		g_assert_cmpstr (info->emulated_cpu_model, ==, "qemu64");
	}
}

/* A scratch sysroot; @files alternates relative path and contents. */
static gchar *
make_sysroot (const gchar *const *files)
{
	g_autoptr (GError) error = NULL;
	gchar *root = g_dir_make_tmp ("nf-test-host-XXXXXX", &error);

	g_assert_no_error (error);
	for (guint i = 0; files[i] != NULL; i += 2) {
		g_autofree gchar *path = g_build_filename (root, files[i], NULL);
		g_autofree gchar *dir = g_path_get_dirname (path);

		g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
		g_assert_true (g_file_set_contents (path, files[i + 1], -1, &error));
		g_assert_no_error (error);
	}
	return root;
}

static void
remove_tree (const gchar *path)
{
	if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
		g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
		const gchar *name;

		while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
			g_autofree gchar *child = g_build_filename (path, name, NULL);

			remove_tree (child);
		}
	}
	g_assert_cmpint (g_remove (path), ==, 0);
}

static const gchar intel_cpuinfo[] = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx lm\n\n"
				     "processor\t: 1\nvendor_id\t: Other\n";
static const gchar good_meminfo[] =
	"MemTotal:        4194304 kB\nMemFree:  1024 kB\nMemAvailable:    3145728 kB\n";

static void
test_host_malformed (void)
{
	struct {
		const gchar *cpuinfo;
		const gchar *meminfo;
		gint code;
		const gchar *says;
	} host_files[] = {
		{NULL, good_meminfo, NF_ERROR_FAILED, "proc/cpuinfo"},
		{"", good_meminfo, NF_ERROR_FAILED, "no CPU vendor"},
		{"processor : 0\nflags : vmx\n", good_meminfo, NF_ERROR_FAILED, "no CPU vendor"},
		{"processor : 0\nvendor_id : GenuineIntel\n",
		 good_meminfo,
		 NF_ERROR_FAILED,
		 "no CPU vendor or flags"},
		{"vendor_id :\nflags : vmx\n", good_meminfo, NF_ERROR_FAILED, "no CPU vendor"},
		/* The vendor must be in the first block, not a later one. */
		{"processor : 0\n\nvendor_id : GenuineIntel\nflags : vmx\n",
		 good_meminfo,
		 NF_ERROR_FAILED,
		 "no CPU"},
		{"\xff\xfe\x01:\x02\n", good_meminfo, NF_ERROR_FAILED, "no CPU vendor"},
		{intel_cpuinfo, NULL, NF_ERROR_FAILED, "proc/meminfo"},
		{intel_cpuinfo, "", NF_ERROR_FAILED, "MemTotal"},
		{intel_cpuinfo, "MemTotal: lots kB\nMemAvailable: 1 kB\n", NF_ERROR_FAILED, "MemTotal"},
		{intel_cpuinfo, "MemTotal: 1 kB\n", NF_ERROR_FAILED, "MemAvailable"},
		{intel_cpuinfo, "MemTotal: -5 kB\nMemAvailable: 1 kB\n", NF_ERROR_FAILED, "MemTotal"},
		{intel_cpuinfo,
		 "MemTotal: 99999999999999999999999 kB\nMemAvailable: 1 kB\n",
		 NF_ERROR_FAILED,
		 "MemTotal"},
	};
	struct {
		const gchar *caps;
		const gchar *domcaps_kvm;
		const gchar *domcaps_qemu;
		const gchar *says;
	} xml[] = {
		{"", NULL, NULL, "capabilities document is not well-formed"},
		{"<capabilities><guest>", NULL, NULL, "capabilities document is not well-formed"},
		{"not xml at all", NULL, NULL, "not well-formed"},
		{"<domainCapabilities/>", NULL, NULL, "not a <capabilities> document"},
		{"<!DOCTYPE capabilities [<!ENTITY x 'y'>]><capabilities>&x;</capabilities>",
		 NULL,
		 NULL,
		 "document type declaration"},
		{"<capabilities/>",
		 "<domainCapabilities>",
		 NULL,
		 "kvm domain capabilities document is not well-formed"},
		{"<capabilities/>", "<capabilities/>", NULL, "not a <domainCapabilities> document"},
		{"<capabilities><guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/></arch></guest>"
		 "</capabilities>",
		 NULL,
		 "<domainCapabilities><cpu>",
		 "qemu domain capabilities document is not well-formed"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (host_files); i++) {
		const gchar *files[] = {"proc/cpuinfo",
					host_files[i].cpuinfo,
					"proc/meminfo",
					host_files[i].meminfo,
					NULL,
					NULL};
		const gchar *only_meminfo[] = {"proc/meminfo", host_files[i].meminfo, NULL};
		g_autofree gchar *sysroot = NULL;
		g_autoptr (GError) error = NULL;
		g_autoptr (NfHostInfo) info = NULL;

		g_test_message ("malformed host files %u: %s", i, host_files[i].says);
		if (host_files[i].cpuinfo == NULL)
			sysroot = make_sysroot (only_meminfo);
		else if (host_files[i].meminfo == NULL)
			sysroot =
				make_sysroot ((const gchar *[]){"proc/cpuinfo", host_files[i].cpuinfo, NULL});
		else
			sysroot = make_sysroot (files);
		info = nf_host_probe_from_facts (sysroot,
						 "<capabilities/>",
						 NULL,
						 NULL,
						 NULL,
						 NF_ACCEL_AUTO,
						 &error);
		g_assert_null (info);
		g_assert_error (error, NF_ERROR, host_files[i].code);
		g_test_message ("  %s", error->message);
		g_assert_nonnull (strstr (error->message, host_files[i].says));
		remove_tree (sysroot);
	}

	for (guint i = 0; i < G_N_ELEMENTS (xml); i++) {
		const gchar *files[] = {"proc/cpuinfo", intel_cpuinfo, "proc/meminfo", good_meminfo, NULL};
		g_autofree gchar *sysroot = make_sysroot (files);
		g_autoptr (GError) error = NULL;
		g_autoptr (NfHostInfo) info = NULL;

		g_test_message ("malformed libvirt XML %u: %s", i, xml[i].says);
		info = nf_host_probe_from_facts (sysroot,
						 xml[i].caps,
						 xml[i].domcaps_kvm,
						 xml[i].domcaps_qemu,
						 NULL,
						 NF_ACCEL_AUTO,
						 &error);
		g_assert_null (info);
		g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
		g_assert_nonnull (strstr (error->message, xml[i].says));
		remove_tree (sysroot);
	}

	/* A sysroot that is not there at all. */
	{
		g_autoptr (GError) error = NULL;

		g_assert_null (nf_host_probe_from_facts ("/nonexistent/nestfarm-sysroot",
							 "<capabilities/>",
							 NULL,
							 NULL,
							 NULL,
							 NF_ACCEL_AUTO,
							 &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_FAILED);
	}
}

static void
test_host_nested_values (void)
{
	struct {
		const gchar *value;
		gboolean enabled;
		const gchar *param;
	} table[] = {
		{"Y\n", TRUE, "Y"},
		{"1\n", TRUE, "1"},
		{"Y", TRUE, "Y"},
		{"N\n", FALSE, "N"},
		{"0\n", FALSE, "0"},
		{"maybe\n", FALSE, "maybe"},
		{"", FALSE, ""},
	};
	g_autofree gchar *caps = read_fixture ("intel-kvm-nested", "capabilities.xml");
	g_autofree gchar *domcaps_kvm = read_fixture ("intel-kvm-nested", "domcapabilities-kvm.xml");

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		const gchar *files[] = {"proc/cpuinfo",
					intel_cpuinfo,
					"proc/meminfo",
					good_meminfo,
					"sys/module/kvm_intel/parameters/nested",
					table[i].value,
					NULL};
		g_autofree gchar *sysroot = make_sysroot (files);
		g_autoptr (GError) error = NULL;
		g_autoptr (NfHostInfo) info = NULL;

		g_test_message ("kvm_intel nested='%s'", table[i].param);
		info = nf_host_probe_from_facts (sysroot,
						 caps,
						 domcaps_kvm,
						 NULL,
						 NULL,
						 NF_ACCEL_AUTO,
						 &error);
		g_assert_no_error (error);
		g_assert_cmpstr (info->nested_param, ==, table[i].param);
		g_assert_cmpint (info->nested_enabled, ==, table[i].enabled);
		g_assert_cmpint (info->accel, ==, table[i].enabled ? NF_ACCEL_KVM : NF_ACCEL_EMULATED);
		g_assert_cmpstr (info->feature, ==, table[i].enabled ? "vmx" : "svm");
		g_assert_cmpuint (info->memory_total_mib, ==, 4096);
		g_assert_cmpuint (info->memory_available_mib, ==, 3072);
		assert_checks_well_formed (info);
		remove_tree (sysroot);
	}
}

static void
test_host_vendor_other (void)
{
	const gchar *files[] = {"proc/cpuinfo",
				"processor\t: 0\nvendor_id\t: CentaurHauls\nflags\t\t: fpu vmx lm\n",
				"proc/meminfo",
				"MemTotal: 2048 kB\nMemFree: 1024 kB\n",
				NULL};
	g_autofree gchar *sysroot = make_sysroot (files);
	g_autofree gchar *caps = read_fixture ("emulated-here", "capabilities.xml");
	g_autofree gchar *domcaps_kvm = read_fixture ("emulated-here", "domcapabilities-kvm.xml");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfHostInfo) info = NULL;

	info = nf_host_probe_from_facts (sysroot, caps, domcaps_kvm, NULL, NULL, NF_ACCEL_AUTO, &error);
	g_assert_no_error (error);
	g_assert_cmpint (info->vendor, ==, NF_CPU_VENDOR_OTHER);
	g_assert_cmpint (info->accel, ==, NF_ACCEL_EMULATED);
	g_assert_cmpstr (info->feature, ==, "svm");
	g_assert_nonnull (strstr (info->reason, "CentaurHauls"));
	g_assert_cmpint (nf_host_info_get_check (info, "cpu-vendor")->status, ==, NF_CHECK_WARN);
	/* MemFree stands in where the kernel has no MemAvailable. */
	g_assert_cmpuint (info->memory_total_mib, ==, 2);
	g_assert_cmpuint (info->memory_available_mib, ==, 1);
	g_assert_cmpint (nf_host_info_get_check (info, "memory")->status, ==, NF_CHECK_WARN);
	assert_checks_well_formed (info);

	g_assert_null (
		nf_host_probe_from_facts (sysroot, caps, domcaps_kvm, NULL, NULL, NF_ACCEL_KVM, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
	g_assert_nonnull (strstr (error->message, "cpu-vendor"));
	remove_tree (sysroot);
}

static void
test_host_dev_kvm (void)
{
	g_autofree gchar *problem = NULL;

	g_assert_false (nf_host_dev_kvm_usable ("/nonexistent/kvm", &problem));
	g_assert_nonnull (strstr (problem, "/nonexistent/kvm does not exist"));
	g_clear_pointer (&problem, g_free);

	/* Opens read-write, but is no KVM device. */
	g_assert_false (nf_host_dev_kvm_usable ("/dev/null", &problem));
	g_assert_nonnull (strstr (problem, "not a KVM device"));

	g_assert_false (nf_host_dev_kvm_usable ("/nonexistent/kvm", NULL));
}

static void
test_host_strings (void)
{
	for (NfAccel accel = NF_ACCEL_AUTO; accel <= NF_ACCEL_EMULATED; accel++) {
		NfAccel parsed = NF_ACCEL_AUTO;
		g_autoptr (GError) error = NULL;

		g_assert_true (nf_accel_from_string (nf_accel_to_string (accel), &parsed, &error));
		g_assert_no_error (error);
		g_assert_cmpint (parsed, ==, accel);
	}
	g_assert_cmpstr (nf_accel_to_string (NF_ACCEL_KVM), ==, "kvm");
	g_assert_cmpstr (nf_accel_to_string (NF_ACCEL_EMULATED), ==, "emulated");
	for (const gchar *const *bad = (const gchar *const[]){"", "KVM", "tcg", "qemu", " kvm", NULL};
	     *bad != NULL;
	     bad++) {
		NfAccel parsed = NF_ACCEL_KVM;
		g_autoptr (GError) error = NULL;

		g_assert_false (nf_accel_from_string (*bad, &parsed, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_cmpint (parsed, ==, NF_ACCEL_KVM);
	}
	g_assert_cmpstr (nf_check_status_to_string (NF_CHECK_PASS), ==, "pass");
	g_assert_cmpstr (nf_check_status_to_string (NF_CHECK_WARN), ==, "warn");
	g_assert_cmpstr (nf_check_status_to_string (NF_CHECK_FAIL), ==, "fail");
}

/* A farm's other host, probed only through its libvirt: the same
 * decision from its capabilities, its CPU model named, its memory as its
 * libvirt counts it. A kvm_intel with nested=N is told by the host-model CPU
 * KVM offers, which then lacks vmx. */
static void
test_host_remote (void)
{
	static const struct {
		const gchar *name;
		NfAccel accel;
		const gchar *feature;
		const gchar *cpu_model;
	} cases[] = {
		{"intel-kvm-nested", NF_ACCEL_KVM, "vmx", "Icelake-Server"},
		{"amd-kvm-nested", NF_ACCEL_KVM, "svm", "EPYC-Milan"},
		{"emulated-here", NF_ACCEL_EMULATED, "svm", "Broadwell"},
		{"amd-no-svm-flag", NF_ACCEL_EMULATED, "svm", "EPYC-Milan"},
	};
	static const gchar host_model_without_vmx[] =
		"<domainCapabilities><cpu><mode name='host-passthrough' supported='yes'/>"
		"<mode name='host-model' supported='yes'><model>Icelake-Server</model>"
		"<feature policy='require' name='ss'/></mode></cpu></domainCapabilities>";

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree gchar *caps = read_fixture (cases[i].name, "capabilities.xml");
		g_autofree gchar *kvm = read_fixture (cases[i].name, "domcapabilities-kvm.xml");
		g_autofree gchar *qemu = read_fixture (cases[i].name, "domcapabilities-qemu.xml");
		g_autoptr (GError) error = NULL;
		g_autoptr (NfHostInfo) info = NULL;

		g_test_message ("remote host fixture: %s", cases[i].name);
		info = nf_host_probe_remote_from_facts (caps,
							NULL,
							kvm,
							qemu,
							8 << 20,
							6 << 20,
							NF_ACCEL_AUTO,
							&error);
		g_assert_no_error (error);
		g_assert_cmpint (info->accel, ==, cases[i].accel);
		g_assert_cmpstr (info->feature, ==, cases[i].feature);
		g_assert_cmpstr (info->cpu_model, ==, cases[i].cpu_model);
		g_assert_cmpuint (info->memory_total_mib, ==, 8192);
		g_assert_cmpuint (info->memory_available_mib, ==, 6144);
		assert_checks_well_formed (info);
	}
	{
		g_autofree gchar *caps = read_fixture ("intel-kvm-no-nested", "capabilities.xml");
		g_autofree gchar *qemu = read_fixture ("intel-kvm-no-nested", "domcapabilities-qemu.xml");
		g_autoptr (GError) error = NULL;
		g_autoptr (NfHostInfo) info = nf_host_probe_remote_from_facts (caps,
									       NULL,
									       host_model_without_vmx,
									       qemu,
									       8 << 20,
									       6 << 20,
									       NF_ACCEL_AUTO,
									       &error);
		g_autoptr (NfHostInfo) forced = NULL;

		g_assert_no_error (error);
		g_assert_cmpint (info->accel, ==, NF_ACCEL_EMULATED);
		g_assert_cmpint (nf_host_info_get_check (info, "nested-param")->status, !=, NF_CHECK_PASS);
		forced = nf_host_probe_remote_from_facts (caps,
							  NULL,
							  host_model_without_vmx,
							  qemu,
							  8 << 20,
							  6 << 20,
							  NF_ACCEL_KVM,
							  &error);
		g_assert_null (forced);
		g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
		g_assert_nonnull (strstr (error->message, "nested-param"));
	}
}

/* An EPYC host as libvirt really shows it: svm is part of the model, so
 * its capabilities list no svm; the model expanded (virConnectBaselineCPU)
 * has it. */
static void
test_host_remote_epyc (void)
{
	g_autofree gchar *caps = read_fixture ("amd-kvm-nested", "capabilities.xml");
	g_autofree gchar *kvm = read_fixture ("amd-kvm-nested", "domcapabilities-kvm.xml");
	g_autofree gchar *qemu = read_fixture ("amd-kvm-nested", "domcapabilities-qemu.xml");
	static const gchar expanded[] =
		"<cpu mode='custom' match='exact'><model>EPYC-Milan</model><vendor>AMD</vendor>"
		"<feature policy='require' name='svm'/><feature policy='require' name='npt'/></cpu>";
	g_autoptr (GString) real = g_string_new (caps);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfHostInfo) info = NULL;
	g_autoptr (NfHostInfo) unexpanded = NULL;

	g_assert_cmpuint (g_string_replace (real, "<feature name='svm'/>", "", 0), ==, 1);
	info = nf_host_probe_remote_from_facts (real->str,
						expanded,
						kvm,
						qemu,
						8 << 20,
						6 << 20,
						NF_ACCEL_AUTO,
						&error);
	g_assert_no_error (error);
	g_assert_cmpint (info->accel, ==, NF_ACCEL_KVM);
	g_assert_cmpstr (info->feature, ==, "svm");
	g_assert_true (info->cpu_has_svm);
	/* without the expansion there is no telling: emulated, and why */
	unexpanded = nf_host_probe_remote_from_facts (real->str,
						      NULL,
						      kvm,
						      qemu,
						      8 << 20,
						      6 << 20,
						      NF_ACCEL_AUTO,
						      &error);
	g_assert_no_error (error);
	g_assert_cmpint (unexpanded->accel, ==, NF_ACCEL_EMULATED);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/host/fixtures", test_host_fixtures);
	g_test_add_func ("/host/no-qemu", test_host_no_qemu);
	g_test_add_func ("/host/host-passthrough", test_host_host_passthrough);
	g_test_add_func ("/host/emulated-model", test_host_emulated_model);
	g_test_add_func ("/host/malformed", test_host_malformed);
	g_test_add_func ("/host/nested-values", test_host_nested_values);
	g_test_add_func ("/host/vendor-other", test_host_vendor_other);
	g_test_add_func ("/host/dev-kvm", test_host_dev_kvm);
	g_test_add_func ("/host/strings", test_host_strings);
	g_test_add_func ("/host/remote", test_host_remote);
	g_test_add_func ("/host/remote-epyc", test_host_remote_epyc);
	return g_test_run ();
}
