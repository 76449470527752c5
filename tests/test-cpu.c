/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-cpu"

#include "config.h"

#include <glib.h>
#include <string.h>

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-host.h"
#include "nestfarm/nf-libvirt.h"

/* A farm's CPU baseline (CPUMode=baseline) computed and checked by this
 * machine's real libvirtd, on recorded host-model CPUs of two Intel and
 * two AMD generations (tests/fixtures/cpu) and on this machine's own.
 * libvirt here offers only the qemu domain type (no /dev/kvm, or one no
 * guest starts on), so the baselines are TCG's; the nested feature under
 * KVM is checked on the descriptions themselves. */

#define LIVE_URI "qemu:///system"

static virConnectPtr conn;

static gchar *
read_cpu (const gchar *name)
{
	g_autofree gchar *file = g_strconcat (name, ".xml", NULL);
	g_autofree gchar *path = g_test_build_filename (G_TEST_DIST, "fixtures", "cpu", file, NULL);
	g_autoptr (GError) error = NULL;
	gchar *text = NULL;

	g_file_get_contents (path, &text, NULL, &error);
	g_assert_no_error (error);
	return text;
}

/* Whether @cpu_xml has a feature @name with @policy. */
static gboolean
has_feature (const gchar *cpu_xml, const gchar *name, const gchar *policy)
{
	g_autofree gchar *single = g_strdup_printf ("<feature policy='%s' name='%s'/>", policy, name);
	g_autofree gchar *dbl = g_strdup_printf ("<feature policy=\"%s\" name=\"%s\"/>", policy, name);

	return strstr (cpu_xml, single) != NULL || strstr (cpu_xml, dbl) != NULL;
}

static gchar *
baseline_of (const gchar *first, const gchar *second, GError **error)
{
	g_autofree gchar *a = read_cpu (first);
	g_autofree gchar *b = read_cpu (second);
	const gchar *const cpus[] = {a, b, NULL};

	return nf_cpu_baseline (conn, NF_ACCEL_EMULATED, cpus, error);
}

/* Skylake-SP and Ice Lake-SP: an Intel model both run, below Ice Lake,
 * without what only Ice Lake has. */
static void
test_cpu_baseline_intel (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *baseline = baseline_of ("intel-skylake-server", "intel-icelake-server", &error);
	g_autofree gchar *model = NULL;

	g_assert_no_error (error);
	model = nf_cpu_model (baseline);
	g_test_message ("baseline of Skylake-Server-IBRS and Icelake-Server: %s", model);
	g_assert_cmpstr (model, !=, "");
	g_assert_cmpstr (model, !=, "Icelake-Server");
	g_assert_nonnull (strstr (baseline, "<vendor>Intel</vendor>"));
	g_assert_false (has_feature (baseline, "avx512ifma", "require"));
	g_assert_false (has_feature (baseline, "sha-ni", "require"));
	/* under emulation nodes get TCG's SVM, whatever the vendor */
	g_assert_true (has_feature (baseline, "svm", "require"));
	g_assert_true (has_feature (baseline, "npt", "require"));
}

/* EPYC Rome and Milan: an AMD model without Milan's vaes, with svm
 * required again (libvirt's migratable baseline leaves it out). */
static void
test_cpu_baseline_amd (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *baseline = baseline_of ("amd-epyc-rome", "amd-epyc-milan", &error);
	g_autofree gchar *model = NULL;

	g_assert_no_error (error);
	model = nf_cpu_model (baseline);
	g_test_message ("baseline of EPYC-Rome and EPYC-Milan: %s", model);
	g_assert_true (g_str_has_prefix (model, "EPYC"));
	g_assert_cmpstr (model, !=, "EPYC-Milan");
	g_assert_nonnull (strstr (baseline, "<vendor>AMD</vendor>"));
	g_assert_false (has_feature (baseline, "vaes", "require"));
	g_assert_true (has_feature (baseline, "svm", "require"));
}

/* Intel and AMD have no common model: refused, naming both. */
static void
test_cpu_baseline_mixed (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *baseline = baseline_of ("intel-skylake-server", "amd-epyc-milan", &error);

	g_assert_null (baseline);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_test_message ("%s", error->message);
	g_assert_nonnull (strstr (error->message, "Intel and AMD"));
	g_assert_nonnull (strstr (error->message, "CPUMode=passthrough"));
}

static void
test_cpu_baseline_bad_input (void)
{
	const gchar *const none[] = {NULL};
	const gchar *const garbage[] = {"<domain/>", NULL};
	const gchar *const broken[] = {"<cpu><model>", NULL};
	g_autoptr (GError) error = NULL;

	g_assert_null (nf_cpu_baseline (conn, NF_ACCEL_EMULATED, none, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_clear_error (&error);
	g_assert_null (nf_cpu_baseline (conn, NF_ACCEL_EMULATED, garbage, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_clear_error (&error);
	g_assert_null (nf_cpu_baseline (conn, NF_ACCEL_EMULATED, broken, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
}

/* This machine's own host-model (from its probe): the baseline of one host
 * under emulation is a named model with svm, which this host runs. */
static void
test_cpu_here (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfHostInfo) info = nf_host_probe (conn, NF_ACCEL_EMULATED, &error);
	g_autofree gchar *baseline = NULL;
	g_autofree gchar *model = NULL;
	g_autofree gchar *intel = NULL;
	g_autofree gchar *milan = NULL;

	g_assert_no_error (error);
	g_assert_nonnull (info->host_cpu);
	{
		const gchar *const cpus[] = {info->host_cpu, info->host_cpu, NULL};

		baseline = nf_cpu_baseline (conn, NF_ACCEL_EMULATED, cpus, &error);
	}
	g_assert_no_error (error);
	model = nf_cpu_model (baseline);
	g_test_message ("baseline here: %s", model);
	g_assert_cmpstr (model, !=, "");
	g_assert_true (has_feature (baseline, "svm", "require"));
	g_assert_true (nf_cpu_compare (conn, NF_ACCEL_EMULATED, baseline, &error));
	g_assert_no_error (error);

	/* An Intel baseline is not what TCG here (an AMD model) offers, nor
	 * is EPYC-Milan: the compare says why (vendor, missing features). */
	intel = baseline_of ("intel-skylake-server", "intel-icelake-server", &error);
	g_assert_no_error (error);
	g_assert_false (nf_cpu_compare (conn, NF_ACCEL_EMULATED, intel, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_test_message ("%s", error->message);
	g_assert_nonnull (strstr (error->message, "incompatible with host CPU"));
	g_assert_nonnull (strstr (error->message, "vendor"));
	g_clear_error (&error);
	milan = read_cpu ("amd-epyc-milan");
	g_assert_false (nf_cpu_compare (conn, NF_ACCEL_EMULATED, milan, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_test_message ("%s", error->message);
	g_assert_nonnull (strstr (error->message, "required features: "));
	g_assert_nonnull (strstr (error->message, "sha-ni"));
}

/* Under KVM the vendor's own feature is required: vmx for Intel, svm for
 * AMD; a CPU of another vendor cannot nest. */
static void
test_cpu_require_nested (void)
{
	g_autofree gchar *skylake = read_cpu ("intel-skylake-server");
	g_autofree gchar *amd = read_cpu ("baseline-amd-rome-milan");
	g_autofree gchar *intel_kvm = NULL;
	g_autofree gchar *amd_kvm = NULL;
	g_autofree gchar *via = NULL;
	g_autoptr (GError) error = NULL;

	g_assert_false (has_feature (amd, "svm", "require"));
	intel_kvm = nf_cpu_require_nested (skylake, NF_ACCEL_KVM, &error);
	g_assert_no_error (error);
	g_assert_true (has_feature (intel_kvm, "vmx", "require"));
	g_assert_false (has_feature (intel_kvm, "svm", "require"));
	amd_kvm = nf_cpu_require_nested (amd, NF_ACCEL_KVM, &error);
	g_assert_no_error (error);
	g_assert_true (has_feature (amd_kvm, "svm", "require"));
	g_assert_false (has_feature (amd_kvm, "vmx", "require"));

	via = nf_cpu_require_nested ("<cpu><model>Nano</model><vendor>VIA</vendor></cpu>",
				     NF_ACCEL_KVM,
				     &error);
	g_assert_null (via);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull (strstr (error->message, "VIA"));
}

int
main (int argc, char **argv)
{
	int status;

	g_test_init (&argc, &argv, NULL);
	nf_libvirt_init ();
	for (guint attempt = 0; attempt < 20 && conn == NULL; attempt++) {
		conn = virConnectOpen (LIVE_URI);
		if (conn == NULL)
			g_usleep (G_USEC_PER_SEC / 2);
	}
	if (conn == NULL)
		g_error ("cannot connect to %s; start libvirtd (tools/services)", LIVE_URI);

	g_test_add_func ("/cpu/baseline/intel", test_cpu_baseline_intel);
	g_test_add_func ("/cpu/baseline/amd", test_cpu_baseline_amd);
	g_test_add_func ("/cpu/baseline/mixed", test_cpu_baseline_mixed);
	g_test_add_func ("/cpu/baseline/bad-input", test_cpu_baseline_bad_input);
	g_test_add_func ("/cpu/here", test_cpu_here);
	g_test_add_func ("/cpu/require-nested", test_cpu_require_nested);
	status = g_test_run ();
	virConnectClose (conn);
	return status;
}
