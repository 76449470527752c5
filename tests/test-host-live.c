/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-host-live"

#include "config.h"

#include <glib.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-host.h"
#include "nestfarm/nf-libvirt.h"

/* The host probe on this machine, against its real libvirtd. */

#define LIVE_URI "qemu:///system"

/* libvirtd may still be starting (tools/services): a few seconds of grace. */
static virConnectPtr
connect_system (void)
{
	for (guint attempt = 0; attempt < 20; attempt++) {
		virConnectPtr conn = virConnectOpen (LIVE_URI);

		if (conn != NULL)
			return conn;
		g_test_message ("cannot connect to %s yet: %s", LIVE_URI, virGetLastErrorMessage ());
		virResetLastError ();
		g_usleep (G_USEC_PER_SEC / 2);
	}
	return NULL;
}

/* The probe on this very machine, through the real libvirtd. */
static void
test_host_live_probe (void)
{
	g_autoptr (virConnect) conn = connect_system ();
	g_autoptr (NfHostInfo) info = NULL;
	g_autoptr (NfHostInfo) emulated = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *dev_kvm_problem = NULL;
	const NfHostCheck *cpu_flag;
	const NfHostCheck *dev_kvm;

	if (conn == NULL) {
		g_test_fail_printf ("cannot connect to %s; start libvirtd (tools/services)", LIVE_URI);
		return;
	}
	info = nf_host_probe (conn, NF_ACCEL_AUTO, &error);
	g_assert_no_error (error);
	g_assert_nonnull (info);

	g_test_message ("accelerator %s, feature %s, emulated CPU model %s",
			nf_accel_to_string (info->accel),
			info->feature,
			info->emulated_cpu_model);
	g_test_message ("reason: %s", info->reason);
	for (guint i = 0; i < info->checks->len; i++) {
		const NfHostCheck *check = g_ptr_array_index (info->checks, i);

		g_test_message ("%-16s %s  %s%s%s",
				check->id,
				nf_check_status_to_string (check->status),
				check->detail,
				check->fix != NULL ? "  fix: " : "",
				check->fix != NULL ? check->fix : "");
		g_assert_cmpint (check->status, !=, NF_CHECK_FAIL);
	}

	g_assert_true (info->libvirt_qemu);
	g_assert_nonnull (info->emulated_cpu_model);
	g_assert_cmpuint (info->memory_total_mib, >, 0);
	g_assert_cmpuint (info->memory_available_mib, >, 0);
	g_assert_cmpuint (info->memory_available_mib, <=, info->memory_total_mib);
	g_assert_nonnull (info->reason);

	/* The probe's /dev/kvm verdict is the device's own. */
	dev_kvm = nf_host_info_get_check (info, "dev-kvm");
	g_assert_nonnull (dev_kvm);
	g_assert_cmpint (nf_host_dev_kvm_usable ("/dev/kvm", &dev_kvm_problem), ==, info->dev_kvm_usable);
	g_assert_cmpint (dev_kvm->status == NF_CHECK_PASS, ==, info->dev_kvm_usable);

	/* Here the CPU has no vmx (paravirtual KVM): nested KVM cannot work,
	 * so it must fall back to TCG, which emulates svm. */
	cpu_flag = nf_host_info_get_check (info, "cpu-flag");
	g_assert_nonnull (cpu_flag);
	if (cpu_flag->status != NF_CHECK_PASS) {
		g_autoptr (NfHostInfo) forced = NULL;

		g_assert_cmpint (info->accel, ==, NF_ACCEL_EMULATED);
		g_assert_cmpstr (info->feature, ==, "svm");
		g_assert_cmpint (nf_host_info_get_check (info, "accelerator")->status, ==, NF_CHECK_WARN);

		forced = nf_host_probe (conn, NF_ACCEL_KVM, &error);
		g_assert_null (forced);
		g_assert_error (error, NF_ERROR, NF_ERROR_NESTED_UNAVAILABLE);
		g_test_message ("forced kvm: %s", error->message);
		g_assert_nonnull (strstr (error->message, "cpu-flag"));
		g_assert_nonnull (strstr (error->message, cpu_flag->fix));
		g_clear_error (&error);
	} else if (info->accel == NF_ACCEL_KVM) {
		g_assert_true (info->host_passthrough);
		g_assert_cmpstr (info->feature, ==, info->vendor == NF_CPU_VENDOR_INTEL ? "vmx" : "svm");
	}

	emulated = nf_host_probe (conn, NF_ACCEL_EMULATED, &error);
	g_assert_no_error (error);
	g_assert_cmpint (emulated->accel, ==, NF_ACCEL_EMULATED);
	g_assert_cmpstr (emulated->feature, ==, "svm");
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	nf_libvirt_init ();
	g_test_add_func ("/host-live/probe", test_host_live_probe);
	return g_test_run ();
}
