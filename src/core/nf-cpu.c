/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cpu"

#include "config.h"

#include <string.h>

#include <libxml/tree.h>

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-string-table.h"
#include "nf-xml-private.h"

/* A farm's CPU baseline (CPUMode=baseline): libvirt's hypervisor baseline
 * over every host's host-model CPU, nested virtualization required again,
 * and libvirt's hypervisor compare before a node moves to a host. */

#define NF_CPU_ARCH "x86_64"

static const gchar *const cpu_modes[] = {
	[NF_CPU_MODE_PASSTHROUGH] = "passthrough",
	[NF_CPU_MODE_BASELINE] = "baseline",
};
NF_DEFINE_STRING_TABLE (nf_cpu_mode, NfCpuMode, cpu_modes, NF_CPU_MODE_LAST)

const gchar *
nf_cpu_virttype (NfAccel accel)
{
	return accel == NF_ACCEL_KVM ? "kvm" : "qemu";
}

static xmlDoc *
parse_cpu (const gchar *cpu_xml, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (GError) error_local = NULL;
	xmlNode *root;

	doc = nf_xml_parse (cpu_xml, strlen (cpu_xml), "CPU description", &error_local);
	if (doc == NULL) {
		g_set_error_literal (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT, error_local->message);
		return NULL;
	}
	root = xmlDocGetRootElement (doc);
	if (!xmlStrEqual (root->name, BAD_CAST "cpu")) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The CPU description is not a <cpu> element.");
		return NULL;
	}
	return g_steal_pointer (&doc);
}

/* The first element child of @cpu called @name, with @attribute equal to
 * @value when @attribute is given. */
static xmlNode *
find_child (xmlNode *cpu, const gchar *name, const gchar *attribute, const gchar *value)
{
	for (xmlNode *child = cpu->children; child != NULL; child = child->next) {
		g_autofree gchar *have = NULL;

		if (child->type != XML_ELEMENT_NODE || !xmlStrEqual (child->name, BAD_CAST name))
			continue;
		if (attribute == NULL)
			return child;
		have = nf_xml_get_prop (child, attribute);
		if (g_strcmp0 (have, value) == 0)
			return child;
	}
	return NULL;
}

static void
require_feature (xmlNode *cpu, const gchar *name)
{
	xmlNode *feature = find_child (cpu, "feature", "name", name);

	if (feature == NULL) {
		feature = xmlNewChild (cpu, NULL, BAD_CAST "feature", NULL);
		nf_xml_set_prop (feature, "policy", "require");
		nf_xml_set_prop (feature, "name", name);
		return;
	}
	nf_xml_set_prop (feature, "policy", "require");
}

gchar *
nf_cpu_require_nested (const gchar *cpu_xml, NfAccel accel, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;
	g_autofree gchar *vendor = NULL;
	xmlNode *cpu;
	xmlNode *element;

	g_return_val_if_fail (cpu_xml != NULL, NULL);

	doc = parse_cpu (cpu_xml, error);
	if (doc == NULL)
		return NULL;
	cpu = xmlDocGetRootElement (doc);
	element = find_child (cpu, "vendor", NULL, NULL);
	if (element != NULL)
		vendor = nf_xml_get_text (element);
	if (accel != NF_ACCEL_KVM) {
		/* TCG emulates SVM and its nested paging, never VMX. */
		require_feature (cpu, "svm");
		require_feature (cpu, "npt");
	} else if (g_strcmp0 (vendor, "Intel") == 0) {
		require_feature (cpu, "vmx");
	} else if (g_strcmp0 (vendor, "AMD") == 0) {
		require_feature (cpu, "svm");
	} else {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The CPU model names vendor '%s', neither Intel nor AMD, so nested KVM (vmx or svm) "
			     "cannot be required of it.",
			     vendor != NULL ? vendor : "");
		return NULL;
	}
	return nf_xml_to_string (doc);
}

/* Vendors of @host_cpus that differ from the first, for the refusal. */
static gchar *
vendors_of (const gchar *const *host_cpus)
{
	g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);

	for (guint i = 0; host_cpus[i] != NULL; i++) {
		g_autoptr (xmlDoc) doc = parse_cpu (host_cpus[i], NULL);
		xmlNode *vendor =
			doc != NULL ? find_child (xmlDocGetRootElement (doc), "vendor", NULL, NULL) : NULL;
		g_autofree gchar *name = vendor != NULL ? nf_xml_get_text (vendor) : g_strdup ("unknown");

		if (!g_ptr_array_find_with_equal_func (seen, name, g_str_equal, NULL))
			g_ptr_array_add (seen, g_steal_pointer (&name));
	}
	g_ptr_array_add (seen, NULL);
	return g_strjoinv (" and ", (gchar **) seen->pdata);
}

gchar *
nf_cpu_baseline (virConnectPtr conn, NfAccel accel, const gchar *const *host_cpus, GError **error)
{
	g_autofree gchar *baseline = NULL;
	g_autofree gchar *vendors = NULL;
	guint count;

	g_return_val_if_fail (conn != NULL, NULL);
	g_return_val_if_fail (host_cpus != NULL, NULL);

	count = g_strv_length ((gchar **) host_cpus);
	if (count == 0) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "No host CPU is known to compute a CPU baseline from.");
		return NULL;
	}
	for (guint i = 0; i < count; i++) {
		g_autoptr (xmlDoc) doc = parse_cpu (host_cpus[i], error);

		if (doc == NULL)
			return NULL;
	}
	vendors = vendors_of (host_cpus);
	if (strstr (vendors, " and ") != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The hosts' CPUs are of different vendors (%s): no CPU model runs on all of them, so "
			     "nodes cannot move between them; use CPUMode=passthrough or hosts of one vendor.",
			     vendors);
		return NULL;
	}
	baseline = virConnectBaselineHypervisorCPU (conn,
						    NULL,
						    NF_CPU_ARCH,
						    NULL,
						    nf_cpu_virttype (accel),
						    (const char **) host_cpus,
						    count,
						    VIR_CONNECT_BASELINE_CPU_MIGRATABLE);
	if (baseline == NULL) {
		nf_libvirt_set_error (error, "libvirt computed no CPU baseline of the hosts");
		return NULL;
	}
	return nf_cpu_require_nested (baseline, accel, error);
}

gboolean
nf_cpu_compare (virConnectPtr conn, NfAccel accel, const gchar *cpu_xml, GError **error)
{
	gint result;

	g_return_val_if_fail (conn != NULL, FALSE);
	g_return_val_if_fail (cpu_xml != NULL, FALSE);

	result = virConnectCompareHypervisorCPU (conn,
						 NULL,
						 NF_CPU_ARCH,
						 NULL,
						 nf_cpu_virttype (accel),
						 cpu_xml,
						 VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE);
	if (result == VIR_CPU_COMPARE_IDENTICAL || result == VIR_CPU_COMPARE_SUPERSET)
		return TRUE;
	if (result == VIR_CPU_COMPARE_INCOMPATIBLE) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "checking the CPU against the host: the host cannot run it (libvirt gave no reason)");
		return FALSE;
	}
	/* libvirt says an incompatible CPU as VIR_ERR_CPU_INCOMPATIBLE
	 * (InvalidArgument), naming the vendor or the features the host
	 * lacks; anything else is libvirt's own failure. */
	return nf_libvirt_set_error (error, "checking the CPU against the host");
}

gchar *
nf_cpu_model (const gchar *cpu_xml)
{
	g_autoptr (xmlDoc) doc = NULL;
	xmlNode *model;

	if (cpu_xml == NULL)
		return g_strdup ("");
	doc = parse_cpu (cpu_xml, NULL);
	if (doc == NULL)
		return g_strdup ("");
	model = find_child (xmlDocGetRootElement (doc), "model", NULL, NULL);
	return model != NULL ? nf_xml_get_text (model) : g_strdup ("");
}
