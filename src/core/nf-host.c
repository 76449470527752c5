/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-host"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-host.h"
#include "nf-host-private.h"

/* The host decision: from the probe's facts, the checks `host check` reports
 * and the accelerator nodes run with (nested KVM, or emulation). */

/* Below this much available memory a pool of even small nodes will not fit. */
#define NF_HOST_LOW_MEMORY_MIB 2048

/* The checks nested KVM needs, in the order a user fixes them. */
static const gchar *const kvm_checks[] =
	{"cpu-vendor", "cpu-flag", "nested-param", "dev-kvm", "libvirt-kvm", "host-passthrough"};

static void
nf_host_check_free (NfHostCheck *check)
{
	g_free (check->id);
	g_free (check->detail);
	g_free (check->fix);
	g_free (check);
}

NfHostInfo *
nf_host_info_copy (const NfHostInfo *info)
{
	NfHostInfo *copy;

	g_return_val_if_fail (info != NULL, NULL);

	copy = g_memdup2 (info, sizeof (NfHostInfo));
	copy->nested_param = g_strdup (info->nested_param);
	copy->emulated_cpu_model = g_strdup (info->emulated_cpu_model);
	copy->cpu_model = g_strdup (info->cpu_model);
	copy->host_cpu = g_strdup (info->host_cpu);
	copy->reason = g_strdup (info->reason);
	copy->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_host_check_free);
	for (guint i = 0; info->checks != NULL && i < info->checks->len; i++) {
		const NfHostCheck *check = g_ptr_array_index (info->checks, i);
		NfHostCheck *dup = g_memdup2 (check, sizeof (NfHostCheck));

		dup->id = g_strdup (check->id);
		dup->detail = g_strdup (check->detail);
		dup->fix = g_strdup (check->fix);
		g_ptr_array_add (copy->checks, dup);
	}
	return copy;
}

void
nf_host_info_free (NfHostInfo *info)
{
	if (info == NULL)
		return;
	g_free (info->nested_param);
	g_free (info->emulated_cpu_model);
	g_free (info->cpu_model);
	g_free (info->host_cpu);
	g_free (info->reason);
	g_clear_pointer (&info->checks, g_ptr_array_unref);
	g_free (info);
}

const gchar *
nf_accel_to_string (NfAccel accel)
{
	switch (accel) {
	case NF_ACCEL_AUTO:
		return "auto";
	case NF_ACCEL_KVM:
		return "kvm";
	case NF_ACCEL_EMULATED:
		return "emulated";
	default:
		return NULL;
	}
}

gboolean
nf_accel_from_string (const gchar *text, NfAccel *accel, GError **error)
{
	g_return_val_if_fail (text != NULL, FALSE);
	g_return_val_if_fail (accel != NULL, FALSE);

	for (NfAccel i = NF_ACCEL_AUTO; i <= NF_ACCEL_EMULATED; i++) {
		if (g_strcmp0 (text, nf_accel_to_string (i)) == 0) {
			*accel = i;
			return TRUE;
		}
	}
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INVALID_ARGUMENT,
		     "Unknown accelerator '%s'; use auto, kvm or emulated.",
		     text);
	return FALSE;
}

static NfHostCheck *
find_check (const NfHostInfo *info, const gchar *id)
{
	for (guint i = 0; i < info->checks->len; i++) {
		NfHostCheck *check = g_ptr_array_index (info->checks, i);

		if (g_strcmp0 (check->id, id) == 0)
			return check;
	}
	return NULL;
}

const NfHostCheck *
nf_host_info_get_check (const NfHostInfo *info, const gchar *id)
{
	g_return_val_if_fail (info != NULL, NULL);
	g_return_val_if_fail (id != NULL, NULL);

	return find_check (info, id);
}

/* Takes @detail and @fix; a passed check has no fix. */
static void
add_check_status (NfHostFacts *facts, const gchar *id, NfCheckStatus status, gchar *detail, gchar *fix)
{
	NfHostCheck *check = g_new0 (NfHostCheck, 1);

	check->id = g_strdup (id);
	check->status = status;
	check->detail = detail;
	if (status == NF_CHECK_PASS)
		g_free (fix);
	else
		check->fix = fix;
	g_ptr_array_add (facts->info->checks, check);
}

static void
add_check (NfHostFacts *facts, const gchar *id, gboolean ok, gchar *detail, gchar *fix)
{
	add_check_status (facts, id, ok ? NF_CHECK_PASS : NF_CHECK_FAIL, detail, fix);
}

static NfHostCheck *
first_failed_kvm_check (NfHostFacts *facts)
{
	for (guint i = 0; i < G_N_ELEMENTS (kvm_checks); i++) {
		NfHostCheck *check = find_check (facts->info, kvm_checks[i]);

		if (check != NULL && check->status != NF_CHECK_PASS)
			return check;
	}
	return NULL;
}

/* Nested KVM is not needed where the node runs emulated: it works, slowly. */
static void
downgrade_kvm_checks (NfHostFacts *facts)
{
	for (guint i = 0; i < G_N_ELEMENTS (kvm_checks); i++) {
		NfHostCheck *check = find_check (facts->info, kvm_checks[i]);

		if (check != NULL && check->status == NF_CHECK_FAIL)
			check->status = NF_CHECK_WARN;
	}
}

static gchar *
nested_fix (const gchar *module)
{
	return g_strdup_printf ("With every virtual machine stopped, run: echo \"options %s nested=1\" > "
				"/etc/modprobe.d/kvm.conf; modprobe -r %s; modprobe %s",
				module,
				module,
				module);
}

static void
check_cpu (NfHostFacts *facts)
{
	NfHostInfo *info = facts->info;
	const gchar *technology = info->vendor == NF_CPU_VENDOR_INTEL ? "Intel VT-x" : "AMD-V";
	gboolean has_flag = info->vendor == NF_CPU_VENDOR_INTEL ? info->cpu_has_vmx : info->cpu_has_svm;

	if (info->vendor == NF_CPU_VENDOR_OTHER) {
		const gchar *fix =
			"Nested KVM needs an Intel or AMD x86_64 CPU; on this host nodes can only run emulated.";

		add_check (facts,
			   "cpu-vendor",
			   FALSE,
			   g_strdup_printf ("The CPU vendor is '%s', neither Intel nor AMD.",
					    facts->vendor_id),
			   g_strdup (fix));
		add_check (facts,
			   "cpu-flag",
			   FALSE,
			   g_strdup ("There is no vmx or svm flag to look for on this CPU."),
			   g_strdup (fix));
		return;
	}

	add_check (facts,
		   "cpu-vendor",
		   TRUE,
		   g_strdup_printf ("The CPU is %s (%s).",
				    info->vendor == NF_CPU_VENDOR_INTEL ? "an Intel one" : "an AMD one",
				    facts->vendor_id),
		   NULL);
	if (has_flag) {
		add_check (facts,
			   "cpu-flag",
			   TRUE,
			   g_strdup_printf ("The CPU offers %s (%s).", facts->flag, technology),
			   NULL);
	} else if (facts->cpu_is_guest) {
		add_check (facts,
			   "cpu-flag",
			   FALSE,
			   g_strdup_printf ("The CPU offers no %s (%s): this host is a virtual machine without "
					    "nested virtualization.",
					    facts->flag,
					    technology),
			   g_strdup_printf ("On this virtual machine's own host, give it a CPU with %s (for "
					    "example libvirt's host-passthrough) and load %s with nested=1 there.",
					    facts->flag,
					    facts->module));
	} else {
		add_check (facts,
			   "cpu-flag",
			   FALSE,
			   g_strdup_printf ("The CPU offers no %s (%s).", facts->flag, technology),
			   g_strdup_printf ("Enable %s in the firmware (BIOS/UEFI) setup and reboot.",
					    info->vendor == NF_CPU_VENDOR_INTEL
						    ? "Intel Virtualization Technology (VT-x)"
						    : "SVM Mode (AMD-V)"));
	}
}

static void
check_nested_param (NfHostFacts *facts, const gchar *sysroot)
{
	NfHostInfo *info = facts->info;
	g_autofree gchar *relative = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr (GError) error_local = NULL;
	gchar *value = NULL;

	if (facts->module == NULL) {
		add_check (facts,
			   "nested-param",
			   FALSE,
			   g_strdup ("No KVM module offers nested virtualization on this CPU."),
			   g_strdup ("Nested KVM needs kvm_intel or kvm_amd, on an Intel or AMD CPU."));
		return;
	}
	relative = g_build_filename ("sys/module", facts->module, "parameters/nested", NULL);
	path = g_build_filename (sysroot, relative, NULL);
	if (!g_file_get_contents (path, &value, NULL, &error_local)) {
		add_check (facts,
			   "nested-param",
			   FALSE,
			   g_error_matches (error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
				   ? g_strdup_printf ("%s is not loaded, so nested virtualization is off.",
						      facts->module)
				   : g_strdup_printf ("Cannot read %s's nested parameter: %s.",
						      facts->module,
						      error_local->message),
			   nested_fix (facts->module));
		return;
	}
	info->nested_param = g_strstrip (g_utf8_make_valid (value, -1));
	g_free (value);
	value = info->nested_param;
	info->nested_enabled = g_str_equal (value, "Y") || g_str_equal (value, "1");
	if (info->nested_enabled) {
		add_check (facts,
			   "nested-param",
			   TRUE,
			   g_strdup_printf ("%s has nested=%s.", facts->module, value),
			   NULL);
	} else if (g_str_equal (value, "N") || g_str_equal (value, "0")) {
		add_check (facts,
			   "nested-param",
			   FALSE,
			   g_strdup_printf ("%s has nested=%s, so nested virtualization is off.",
					    facts->module,
					    value),
			   nested_fix (facts->module));
	} else {
		add_check (facts,
			   "nested-param",
			   FALSE,
			   g_strdup_printf ("%s has an unexpected nested value '%s'.", facts->module, value),
			   nested_fix (facts->module));
	}
}

static void
check_dev_kvm (NfHostFacts *facts, const gchar *dev_kvm_problem)
{
	const gchar *module = facts->module != NULL ? facts->module : "kvm";

	facts->info->dev_kvm_usable = dev_kvm_problem == NULL;
	add_check (facts,
		   "dev-kvm",
		   facts->info->dev_kvm_usable,
		   g_strdup (dev_kvm_problem != NULL
				     ? dev_kvm_problem
				     : "/dev/kvm opens read-write and speaks KVM API version 12."),
		   g_strdup_printf ("Load %s (modprobe %s) and let the user that runs QEMU open /dev/kvm "
				    "read-write (group kvm, mode 0660).",
				    module,
				    module));
}

static void
check_libvirt (NfHostFacts *facts, gboolean have_domcaps_kvm)
{
	NfHostInfo *info = facts->info;

	add_check (facts,
		   "libvirt-kvm",
		   info->libvirt_kvm,
		   g_strdup_printf ("libvirt offers %s domain type kvm for x86_64.",
				    info->libvirt_kvm ? "the" : "no"),
		   g_strdup ("Install qemu-system-x86 and restart libvirtd once /dev/kvm is usable."));
	add_check (facts,
		   "libvirt-qemu",
		   info->libvirt_qemu,
		   info->libvirt_qemu
			   ? g_strdup_printf ("libvirt offers domain type qemu (emulation) for x86_64, "
					      "with CPU model %s.",
					      info->emulated_cpu_model)
			   : g_strdup ("libvirt offers no domain type qemu (emulation) for x86_64."),
		   g_strdup ("Install qemu-system-x86 (apt install qemu-system-x86) and restart libvirtd."));
	if (!have_domcaps_kvm) {
		add_check (facts,
			   "host-passthrough",
			   FALSE,
			   g_strdup (
				   "libvirt cannot describe domain type kvm, so host-passthrough is unknown."),
			   g_strdup (
				   "Make domain type kvm work (see dev-kvm and libvirt-kvm), then restart libvirtd."));
		return;
	}
	add_check (facts,
		   "host-passthrough",
		   info->host_passthrough,
		   g_strdup_printf ("libvirt %s CPU mode host-passthrough for domain type kvm.",
				    info->host_passthrough ? "supports" : "does not support"),
		   g_strdup (
			   "Update libvirt and QEMU so that domain type kvm supports host-passthrough, then "
			   "restart libvirtd."));
}

static void
check_memory (NfHostFacts *facts)
{
	NfHostInfo *info = facts->info;
	gboolean low = info->memory_available_mib < NF_HOST_LOW_MEMORY_MIB;

	add_check_status (facts,
			  "memory",
			  low ? NF_CHECK_WARN : NF_CHECK_PASS,
			  g_strdup_printf ("%" G_GUINT64_FORMAT " MiB of memory, %" G_GUINT64_FORMAT
					   " MiB available%s.",
					   info->memory_total_mib,
					   info->memory_available_mib,
					   low ? ", which leaves little room for nodes" : ""),
			  g_strdup ("Free memory or add RAM: every node needs its memory-mib."));
}

/* Nested KVM chosen: accel, feature, reason and the accelerator check. */
static void
decide_kvm (NfHostFacts *facts, NfHostCheck *qemu)
{
	NfHostInfo *info = facts->info;

	info->accel = NF_ACCEL_KVM;
	info->feature = info->vendor == NF_CPU_VENDOR_INTEL ? "vmx" : "svm";
	info->reason = g_strdup_printf ("Nested KVM works: the CPU offers %s, %s has nested=%s, /dev/kvm is "
					"usable and libvirt supports host-passthrough.",
					info->feature,
					facts->module,
					info->nested_param);
	add_check (facts,
		   "accelerator",
		   TRUE,
		   g_strdup_printf ("Nodes run with nested KVM and get %s through host-passthrough.",
				    info->feature),
		   NULL);
	/* Emulation is a fallback nobody needs here. */
	if (qemu->status == NF_CHECK_FAIL)
		qemu->status = NF_CHECK_WARN;
}

/* Emulation chosen (forced, or nested KVM @missing): accel, feature,
 * reason and the accelerator check. */
static void
decide_emulated (NfHostFacts *facts, NfAccel forced, NfHostCheck *missing)
{
	NfHostInfo *info = facts->info;

	info->accel = NF_ACCEL_EMULATED;
	info->feature = "svm"; /* TCG emulates SVM, never VMX */
	downgrade_kvm_checks (facts);
	if (forced == NF_ACCEL_EMULATED) {
		info->reason = g_strdup ("Emulated, because the configuration says so.");
		add_check (facts,
			   "accelerator",
			   TRUE,
			   g_strdup_printf ("The configuration forces emulation: nodes run under QEMU TCG on an "
					    "emulated %s CPU with svm.",
					    info->emulated_cpu_model),
			   NULL);
		return;
	}
	info->reason = g_strdup_printf ("Emulated, because nested KVM is unavailable: %s", missing->detail);
	add_check_status (facts,
			  "accelerator",
			  NF_CHECK_WARN,
			  g_strdup_printf ("Nested KVM is unavailable (check %s), so nodes run under QEMU TCG on an "
					   "emulated %s CPU with svm: they work, slowly.",
					   missing->id,
					   info->emulated_cpu_model),
			  g_strdup (missing->fix));
}

/* Sets accel, feature, reason and the accelerator check; FALSE where the
 * wanted accelerator cannot work. */
static gboolean
decide (NfHostFacts *facts, NfAccel forced, GError **error)
{
	NfHostInfo *info = facts->info;
	NfHostCheck *missing = first_failed_kvm_check (facts);
	NfHostCheck *qemu = find_check (info, "libvirt-qemu");

	if (forced == NF_ACCEL_KVM || (forced == NF_ACCEL_AUTO && missing == NULL)) {
		if (missing != NULL) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_NESTED_UNAVAILABLE,
				     "Nested KVM is unavailable (check %s): %s Use the emulated accelerator, or fix "
				     "it: %s",
				     missing->id,
				     missing->detail,
				     missing->fix);
			return FALSE;
		}
		decide_kvm (facts, qemu);
		return TRUE;
	}

	if (!info->libvirt_qemu) {
		if (forced == NF_ACCEL_EMULATED)
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_NESTED_UNAVAILABLE,
				     "Emulation is unavailable (check libvirt-qemu): %s Fix: %s",
				     qemu->detail,
				     qemu->fix);
		else
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_NESTED_UNAVAILABLE,
				     "Neither nested KVM nor emulation is available (checks %s and libvirt-qemu): %s %s "
				     "For emulation: %s For nested KVM: %s",
				     missing->id,
				     missing->detail,
				     qemu->detail,
				     qemu->fix,
				     missing->fix);
		return FALSE;
	}
	decide_emulated (facts, forced, missing);
	return TRUE;
}

/* The CPU nodes get from the decided domain type's host-model. */
static void
take_host_cpu (NfHostFacts *facts)
{
	gchar **own = facts->info->accel == NF_ACCEL_KVM ? &facts->host_cpu_kvm : &facts->host_cpu_qemu;

	facts->info->host_cpu = g_steal_pointer (own);
}

NfHostInfo *
nf_host_probe_from_facts (const gchar *sysroot,
			  const gchar *caps_xml,
			  const gchar *domcaps_kvm_xml,
			  const gchar *domcaps_qemu_xml,
			  const gchar *dev_kvm_problem,
			  NfAccel forced,
			  GError **error)
{
	g_auto (NfHostFacts) facts = {NULL};

	g_return_val_if_fail (sysroot != NULL, NULL);
	g_return_val_if_fail (caps_xml != NULL, NULL);
	g_return_val_if_fail (forced <= NF_ACCEL_EMULATED, NULL);

	facts.info = g_new0 (NfHostInfo, 1);
	facts.info->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_host_check_free);
	if (!nf_host_facts_read_cpuinfo (&facts, sysroot, error) ||
	    !nf_host_facts_read_meminfo (&facts, sysroot, error) ||
	    !nf_host_facts_read_capabilities (&facts, caps_xml, error) ||
	    !nf_host_facts_read_domcaps_kvm (&facts, domcaps_kvm_xml, error) ||
	    !nf_host_facts_read_domcaps_qemu (&facts, domcaps_qemu_xml, error))
		return NULL;

	check_cpu (&facts);
	check_nested_param (&facts, sysroot);
	check_dev_kvm (&facts, dev_kvm_problem);
	check_libvirt (&facts, domcaps_kvm_xml != NULL);
	if (!decide (&facts, forced, error))
		return NULL;
	take_host_cpu (&facts);
	check_memory (&facts);
	return g_steal_pointer (&facts.info);
}

/* The kvm module's nested parameter, judged from afar: a host whose
 * libvirt offers the kvm domain type with its vendor's flag in the host-model
 * CPU that KVM can give a guest runs nested guests (KVM leaves the flag out
 * where its module has nesting off). Where libvirt lists no host-model
 * features, the host CPU's own flag stands in. */
static void
check_nested_remote (NfHostFacts *facts)
{
	gboolean vmx = facts->flag != NULL && g_str_equal (facts->flag, "vmx");
	gboolean flag = facts->flag != NULL && (vmx ? facts->info->cpu_has_vmx : facts->info->cpu_has_svm);

	if (flag && facts->host_model_listed)
		flag = vmx ? facts->host_model_vmx : facts->host_model_svm;

	facts->info->nested_enabled = flag && facts->info->libvirt_kvm;
	add_check (facts,
		   "nested-param",
		   facts->info->nested_enabled,
		   facts->info->nested_enabled
			   ? g_strdup_printf ("%s is loaded with its CPU's %s (seen through libvirt).",
					      facts->module,
					      facts->flag)
			   : g_strdup (
				     "The host's libvirt offers no kvm domain type with vmx or svm, so nested "
				     "virtualization is off there."),
		   facts->module != NULL
			   ? nested_fix (facts->module)
			   : g_strdup ("Nested KVM needs kvm_intel or kvm_amd, on an Intel or AMD CPU."));
}

NfHostInfo *
nf_host_probe_remote_from_facts (const gchar *caps_xml,
				 const gchar *expanded_cpu_xml,
				 const gchar *domcaps_kvm_xml,
				 const gchar *domcaps_qemu_xml,
				 guint64 memory_total_kib,
				 guint64 memory_available_kib,
				 NfAccel forced,
				 GError **error)
{
	g_auto (NfHostFacts) facts = {NULL};

	g_return_val_if_fail (caps_xml != NULL, NULL);
	g_return_val_if_fail (forced <= NF_ACCEL_EMULATED, NULL);

	facts.info = g_new0 (NfHostInfo, 1);
	facts.info->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_host_check_free);
	facts.info->memory_total_mib = memory_total_kib / 1024;
	facts.info->memory_available_mib = memory_available_kib / 1024;
	if (!nf_host_facts_read_libvirt_cpu (&facts, caps_xml, expanded_cpu_xml, error) ||
	    !nf_host_facts_read_capabilities (&facts, caps_xml, error) ||
	    !nf_host_facts_read_domcaps_kvm (&facts, domcaps_kvm_xml, error) ||
	    !nf_host_facts_read_domcaps_qemu (&facts, domcaps_qemu_xml, error))
		return NULL;

	check_cpu (&facts);
	check_nested_remote (&facts);
	/* libvirt offers kvm only where its /dev/kvm opens */
	check_dev_kvm (&facts,
		       facts.info->libvirt_kvm
			       ? NULL
			       : "The host's libvirt offers no kvm domain type: its /dev/kvm is "
				 "missing or not usable.");
	check_libvirt (&facts, domcaps_kvm_xml != NULL);
	if (!decide (&facts, forced, error))
		return NULL;
	take_host_cpu (&facts);
	check_memory (&facts);
	return g_steal_pointer (&facts.info);
}
