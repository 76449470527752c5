/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "nestfarm/nf-states.h"

G_BEGIN_DECLS

/* The host probe: can this machine run nested guests (nested KVM, or QEMU
 * emulation), with the checks and fixes `nestfarmctl host check` shows. */

typedef enum {
	NF_CPU_VENDOR_OTHER,
	NF_CPU_VENDOR_INTEL,
	NF_CPU_VENDOR_AMD,
} NfCpuVendor;

typedef enum {
	NF_ACCEL_AUTO,     /* config: decide from the probe */
	NF_ACCEL_KVM,      /* nested KVM: domain type kvm, host-passthrough */
	NF_ACCEL_EMULATED, /* QEMU TCG: domain type qemu, a named model + svm */
} NfAccel;

/* One line of `nestfarmctl host check`. */
typedef struct {
	/* Stable key, in this order: "cpu-vendor", "cpu-flag", "nested-param",
	 * "dev-kvm", "libvirt-kvm", "libvirt-qemu", "host-passthrough",
	 * "accelerator", "memory". A check nested KVM needs is "warn", not
	 * "fail", where nodes run emulated instead (they work, slowly). */
	gchar *id;
	NfCheckStatus status;
	gchar *detail; /* what was found, one sentence */
	gchar *fix;    /* what to do about a warn/fail, or NULL */
} NfHostCheck;

typedef struct {
	NfCpuVendor vendor;
	gboolean cpu_has_vmx;
	gboolean cpu_has_svm;
	gchar *nested_param; /* content of kvm_intel/kvm_amd 'nested', NULL if absent */
	gboolean nested_enabled;
	gboolean dev_kvm_usable;
	gboolean libvirt_kvm;  /* libvirt offers domain type kvm on x86_64 */
	gboolean libvirt_qemu; /* libvirt offers domain type qemu (TCG) */
	gboolean host_passthrough;
	gchar *emulated_cpu_model; /* model used under TCG, e.g. "EPYC" or "qemu64" */
	gchar *cpu_model;          /* the host CPU's model as libvirt names it; "" if unknown */
	/* The CPU libvirt's host-model gives guests of the decided domain
	 * type, as a <cpu mode='custom'> description (what a farm's CPU
	 * baseline is computed from); NULL where libvirt lists none. */
	gchar *host_cpu;
	guint64 memory_total_mib;
	guint64 memory_available_mib;
	NfAccel accel;        /* decided: NF_ACCEL_KVM or NF_ACCEL_EMULATED */
	const gchar *feature; /* "vmx" or "svm" */
	gchar *reason;        /* why this accelerator, one sentence */
	GPtrArray *checks;    /* of NfHostCheck */
} NfHostInfo;

/* A deep copy: each thread works on its own. */
NfHostInfo *nf_host_info_copy (const NfHostInfo *info);
void nf_host_info_free (NfHostInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfHostInfo, nf_host_info_free)

const gchar *nf_accel_to_string (NfAccel accel);
gboolean nf_accel_from_string (const gchar *text, NfAccel *accel, GError **error);

/* The check with @id ("dev-kvm", ...), or NULL. */
const NfHostCheck *nf_host_info_get_check (const NfHostInfo *info, const gchar *id);

/* Whether @path ("/dev/kvm") opens read-write and answers
 * KVM_GET_API_VERSION with 12; if not, @problem (optional) gets one
 * sentence saying what failed. */
gboolean nf_host_dev_kvm_usable (const gchar *path, gchar **problem);

/* The pure decision, from facts gathered elsewhere: unit-testable.
 * @sysroot: "/" normally; tests point it at a fixture tree holding
 * proc/cpuinfo, proc/meminfo, sys/module/kvm_intel/parameters/nested, ...
 * @caps_xml, @domcaps_kvm_xml, @domcaps_qemu_xml: libvirt's capabilities
 * and domain capabilities (NULL where libvirt refused that type).
 * @dev_kvm_problem: NULL where /dev/kvm is usable, else what failed (as
 * nf_host_dev_kvm_usable says it).
 * @forced: NF_ACCEL_AUTO, or what config demands; demanding kvm where it
 * cannot work is NF_ERROR_NESTED_UNAVAILABLE naming the failed check and
 * its fix, as is demanding emulation (or auto) where libvirt has no
 * domain type qemu either. Unreadable or malformed host files are
 * NF_ERROR_FAILED, malformed libvirt XML NF_ERROR_LIBVIRT. */
NfHostInfo *nf_host_probe_from_facts (const gchar *sysroot,
				      const gchar *caps_xml,
				      const gchar *domcaps_kvm_xml,
				      const gchar *domcaps_qemu_xml,
				      const gchar *dev_kvm_problem,
				      NfAccel forced,
				      GError **error);

/* Gathers the facts on this host through @conn (blocking: worker thread). */
NfHostInfo *nf_host_probe (virConnectPtr conn, NfAccel forced, GError **error);
/* The same decision for a host reached only through its libvirt (a farm's
 * other hosts): CPU vendor and flags from its capabilities, memory from
 * its node info and memory stats; nested KVM judged by whether its libvirt
 * offers the kvm domain type and its CPU shows vmx or svm (its module
 * parameter and /dev/kvm cannot be read from here). */
NfHostInfo *nf_host_probe_remote (virConnectPtr conn, NfAccel forced, GError **error);
/* Its pure half, unit-testable (memory in KiB; @expanded_cpu_xml: the host
 * CPU with every feature of its model, as virConnectBaselineCPU expands
 * it, or NULL). */
NfHostInfo *nf_host_probe_remote_from_facts (const gchar *caps_xml,
					     const gchar *expanded_cpu_xml,
					     const gchar *domcaps_kvm_xml,
					     const gchar *domcaps_qemu_xml,
					     guint64 memory_total_kib,
					     guint64 memory_available_kib,
					     NfAccel forced,
					     GError **error);

G_END_DECLS
