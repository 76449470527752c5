/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "nestfarm/nf-host.h"

G_BEGIN_DECLS

/* CPU models for nodes that move between hosts (CPUMode=baseline): one
 * CPU every host can run, computed and checked by libvirt's hypervisor
 * CPU calls, with nested virtualization kept. Every call that takes a
 * connection blocks on libvirt: worker threads only. */

/* CPUMode: how nodes get their CPU. */
typedef enum {
	/* host-passthrough under KVM (the emulated model under TCG): all the
	 * host has; nodes are pinned to their host and never moved. */
	NF_CPU_MODE_PASSTHROUGH,
	/* the farm's baseline: one model every online host can run, so
	 * nodes can move between hosts. */
	NF_CPU_MODE_BASELINE,
	NF_CPU_MODE_LAST,
} NfCpuMode;

const gchar *nf_cpu_mode_to_string (NfCpuMode value);
gboolean nf_cpu_mode_from_string (const gchar *text, NfCpuMode *value);

/* The domain type (virttype) nodes get under @accel: "kvm" or "qemu". */
const gchar *nf_cpu_virttype (NfAccel accel);

/* One CPU every host of @host_cpus (their NfHostInfo.host_cpu, NULL
 * terminated) can run, as libvirt's hypervisor baseline on @conn computes
 * it for domain type @accel, migratable (features that cannot move with
 * a guest are left out), with nested virtualization required again
 * (nf_cpu_require_nested). CPUs of different vendors have no common
 * model: NF_ERROR_INVALID_ARGUMENT naming the vendors; a malformed
 * description NF_ERROR_INVALID_ARGUMENT too. */
gchar *nf_cpu_baseline (virConnectPtr conn, NfAccel accel, const gchar *const *host_cpus, GError **error);

/* @cpu_xml (a <cpu mode='custom'> description) with the nested feature
 * required: vmx for an Intel CPU under KVM, svm for AMD, and svm with
 * its nested paging (npt) under emulation (TCG emulates SVM, never VMX).
 * NF_ERROR_INVALID_ARGUMENT when it is not a CPU description or, under
 * KVM, names no vendor. */
gchar *nf_cpu_require_nested (const gchar *cpu_xml, NfAccel accel, GError **error);

/* Whether the host behind @conn can run guests with @cpu_xml (a baseline
 * or a domain's <cpu>) as domain type @accel. FALSE with
 * NF_ERROR_INVALID_ARGUMENT giving libvirt's reason (another vendor, the
 * features the host lacks), NF_ERROR_LIBVIRT when libvirt could not
 * compare at all. */
gboolean nf_cpu_compare (virConnectPtr conn, NfAccel accel, const gchar *cpu_xml, GError **error);

/* The model @cpu_xml names ("" when it names none or is malformed). */
gchar *nf_cpu_model (const gchar *cpu_xml);

G_END_DECLS
