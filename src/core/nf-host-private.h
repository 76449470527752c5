/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nestfarm/nf-host.h"

G_BEGIN_DECLS

/* What the host probe's two halves share: nf-host.c decides, nf-host-facts.c
 * reads. */

/* What the host probe learns, beyond NfHostInfo, for its details and fixes
 * (core-private: nf-host.c decides, nf-host-facts.c reads). */
typedef struct {
	NfHostInfo *info;
	gchar *vendor_id;      /* as /proc/cpuinfo spells it */
	gboolean cpu_is_guest; /* "hypervisor" flag: this host is a VM itself */
	const gchar *module;   /* kvm_intel, kvm_amd, or NULL */
	const gchar *flag;     /* vmx, svm, or NULL */
	/* The kvm domain capabilities' host-model CPU: whether it lists its
	 * features, and whether vmx or svm is among them (KVM leaves the flag
	 * out where its module has nesting off). */
	gboolean host_model_listed;
	gboolean host_model_vmx;
	gboolean host_model_svm;
	/* The host-model CPU of each domain type as a <cpu> description
	 * (NULL: none); the decided accelerator's becomes info->host_cpu. */
	gchar *host_cpu_kvm;
	gchar *host_cpu_qemu;
} NfHostFacts;

void nf_host_facts_clear (NfHostFacts *facts);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (NfHostFacts, nf_host_facts_clear)

/* Each fills its part of @facts; unreadable or malformed host files are
 * NF_ERROR_FAILED, malformed libvirt XML NF_ERROR_LIBVIRT. */
gboolean nf_host_facts_read_cpuinfo (NfHostFacts *facts, const gchar *sysroot, GError **error);
gboolean nf_host_facts_read_meminfo (NfHostFacts *facts, const gchar *sysroot, GError **error);
/* The vendor and flags of another host's CPU from its libvirt capabilities. */
gboolean nf_host_facts_read_libvirt_cpu (NfHostFacts *facts,
					 const gchar *caps_xml,
					 const gchar *expanded_xml,
					 GError **error);
gboolean nf_host_facts_read_capabilities (NfHostFacts *facts, const gchar *caps_xml, GError **error);
/* @domcaps_xml may be NULL: libvirt refused that domain type. */
gboolean nf_host_facts_read_domcaps_kvm (NfHostFacts *facts, const gchar *domcaps_xml, GError **error);
/* After nf_host_facts_read_capabilities: picks the emulated CPU model. */
gboolean nf_host_facts_read_domcaps_qemu (NfHostFacts *facts, const gchar *domcaps_xml, GError **error);

G_END_DECLS
