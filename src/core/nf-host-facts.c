/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-host"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <linux/kvm.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-host.h"
#include "nestfarm/nf-libvirt.h"
#include "nf-host-private.h"
#include "nf-xml-private.h"

/* The host probe's reading half: /proc/cpuinfo, /proc/meminfo, /dev/kvm and
 * libvirt's capabilities turned into facts, from which nf-host.c decides. */

/* Named models that carry svm under TCG, best first: qemu64 is in every
 * QEMU and is known to run a nested hypervisor with +svm. */
static const gchar *const emulated_models[] = {"qemu64", "Opteron_G3", "Opteron_G2", "phenom", "EPYC"};

void
nf_host_facts_clear (NfHostFacts *facts)
{
	g_clear_pointer (&facts->info, nf_host_info_free);
	g_clear_pointer (&facts->vendor_id, g_free);
	g_clear_pointer (&facts->host_cpu_kvm, g_free);
	g_clear_pointer (&facts->host_cpu_qemu, g_free);
}

static gchar *
read_host_file (const gchar *sysroot, const gchar *relative, GError **error)
{
	g_autofree gchar *path = g_build_filename (sysroot, relative, NULL);
	g_autoptr (GError) error_local = NULL;
	gchar *contents = NULL;

	if (!g_file_get_contents (path, &contents, NULL, &error_local)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot read the host's %s: %s",
			     relative,
			     error_local->message);
		return NULL;
	}
	return contents;
}

static void set_cpu (NfHostFacts *facts, const gchar *const *flags);
static xmlDoc *parse_libvirt_xml (const gchar *xml, const gchar *root_name, const gchar *what, GError **error);
static gchar *xml_string (xmlDoc *doc, const gchar *expression);

/* The first CPU block of /proc/cpuinfo: vendor and flags. */
gboolean
nf_host_facts_read_cpuinfo (NfHostFacts *facts, const gchar *sysroot, GError **error)
{
	g_autofree gchar *contents = read_host_file (sysroot, "proc/cpuinfo", error);
	g_auto (GStrv) lines = NULL;
	g_auto (GStrv) flags = NULL;

	if (contents == NULL)
		return FALSE;
	lines = g_strsplit (contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
		gchar *colon = strchr (lines[i], ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		g_strstrip (lines[i]);
		/* It goes into messages and over D-Bus: valid UTF-8 only. */
		if (g_str_equal (lines[i], "vendor_id") && facts->vendor_id == NULL)
			facts->vendor_id = g_strstrip (g_utf8_make_valid (colon + 1, -1));
		else if (g_str_equal (lines[i], "flags") && flags == NULL)
			flags = g_strsplit_set (g_strstrip (colon + 1), " \t", -1);
	}
	if (facts->vendor_id == NULL || facts->vendor_id[0] == '\0' || flags == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The host's proc/cpuinfo names no CPU vendor or flags; nestfarm needs an x86_64 host.");
		return FALSE;
	}
	set_cpu (facts, (const gchar *const *) flags);
	return TRUE;
}

/* The names @xpath selects in @doc, added to @flags. */
static void
add_feature_names (xmlDoc *doc, const gchar *xpath, GPtrArray *flags)
{
	g_autoptr (xmlXPathContext) context = xmlXPathNewContext (doc);
	g_autoptr (GPtrArray) found = context != NULL ? nf_xml_find_all (context, NULL, xpath) : NULL;

	for (guint i = 0; found != NULL && i < found->len; i++) {
		xmlChar *name = xmlNodeGetContent (g_ptr_array_index (found, i));

		g_ptr_array_add (flags, g_strdup ((const gchar *) name));
		xmlFree (name);
	}
}

/* Another host's CPU as its libvirt describes it: <vendor> (Intel, AMD,
 * Hygon) and its features: those its capabilities add to the CPU's model
 * and, when given, every feature of that model too (@expanded_xml: the
 * host CPU as virConnectBaselineCPU expands it; EPYC models carry svm in
 * the model, so the capabilities alone do not list it). */
gboolean
nf_host_facts_read_libvirt_cpu (NfHostFacts *facts,
				const gchar *caps_xml,
				const gchar *expanded_xml,
				GError **error)
{
	g_autoptr (xmlDoc) doc =
		parse_libvirt_xml (caps_xml, "capabilities", "libvirt capabilities document", error);
	g_autoptr (xmlDoc) expanded = NULL;
	g_autoptr (GPtrArray) flags = g_ptr_array_new_with_free_func (g_free);
	g_autofree gchar *vendor = NULL;

	if (doc == NULL)
		return FALSE;
	if (expanded_xml != NULL) {
		expanded = parse_libvirt_xml (expanded_xml, "cpu", "expanded host CPU", error);
		if (expanded == NULL)
			return FALSE;
		add_feature_names (expanded, "/cpu/feature[not(@policy) or @policy='require']/@name", flags);
	}
	vendor = xml_string (doc, "string(/capabilities/host/cpu/vendor)");
	add_feature_names (doc, "/capabilities/host/cpu/feature/@name", flags);
	g_ptr_array_add (flags, NULL);
	/* libvirt's short names, as /proc/cpuinfo spells them */
	if (g_str_equal (vendor, "Intel"))
		facts->vendor_id = g_strdup ("GenuineIntel");
	else if (g_str_equal (vendor, "AMD"))
		facts->vendor_id = g_strdup ("AuthenticAMD");
	else if (g_str_equal (vendor, "Hygon"))
		facts->vendor_id = g_strdup ("HygonGenuine");
	else
		facts->vendor_id = g_utf8_make_valid (vendor[0] != '\0' ? vendor : "unknown", -1);
	set_cpu (facts, (const gchar *const *) flags->pdata);
	return TRUE;
}

/* The vendor's module and flag, and the CPU's flags, from @flags. */
static void
set_cpu (NfHostFacts *facts, const gchar *const *flags)
{
	if (g_str_equal (facts->vendor_id, "GenuineIntel")) {
		facts->info->vendor = NF_CPU_VENDOR_INTEL;
		facts->module = "kvm_intel";
		facts->flag = "vmx";
	} else if (g_str_equal (facts->vendor_id, "AuthenticAMD") ||
		   g_str_equal (facts->vendor_id, "HygonGenuine")) {
		/* Hygon Dhyana is a Zen licence: svm and kvm_amd. */
		facts->info->vendor = NF_CPU_VENDOR_AMD;
		facts->module = "kvm_amd";
		facts->flag = "svm";
	} else {
		facts->info->vendor = NF_CPU_VENDOR_OTHER;
	}
	facts->info->cpu_has_vmx = g_strv_contains (flags, "vmx");
	facts->info->cpu_has_svm = g_strv_contains (flags, "svm");
	facts->cpu_is_guest = g_strv_contains (flags, "hypervisor");
}

static gboolean
parse_meminfo_kib (const gchar *text, guint64 *kib)
{
	g_autofree gchar *number = g_strstrip (g_strdup (text));

	if (g_str_has_suffix (number, " kB"))
		number[strlen (number) - 3] = '\0';
	return g_ascii_string_to_unsigned (number, 10, 0, G_MAXUINT64, kib, NULL);
}

gboolean
nf_host_facts_read_meminfo (NfHostFacts *facts, const gchar *sysroot, GError **error)
{
	g_autofree gchar *contents = read_host_file (sysroot, "proc/meminfo", error);
	g_auto (GStrv) lines = NULL;
	guint64 total = 0, available = 0, free_kib = 0;
	gboolean have_total = FALSE, have_available = FALSE, have_free = FALSE;

	if (contents == NULL)
		return FALSE;
	lines = g_strsplit (contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *colon = strchr (lines[i], ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		if (g_str_equal (lines[i], "MemTotal"))
			have_total = parse_meminfo_kib (colon + 1, &total);
		else if (g_str_equal (lines[i], "MemAvailable"))
			have_available = parse_meminfo_kib (colon + 1, &available);
		else if (g_str_equal (lines[i], "MemFree"))
			have_free = parse_meminfo_kib (colon + 1, &free_kib);
	}
	/* Kernels before 3.14 have no MemAvailable; MemFree is the floor. */
	if (!have_available && have_free) {
		available = free_kib;
		have_available = TRUE;
	}
	if (!have_total || !have_available) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The host's proc/meminfo has no readable MemTotal or MemAvailable.");
		return FALSE;
	}
	facts->info->memory_total_mib = total / 1024;
	facts->info->memory_available_mib = available / 1024;
	return TRUE;
}

/* What libvirt sends is libvirt's to get right: NF_ERROR_LIBVIRT. */
static xmlDoc *
parse_libvirt_xml (const gchar *xml, const gchar *root_name, const gchar *what, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (GError) error_local = NULL;
	xmlNode *root;

	doc = nf_xml_parse (xml, strlen (xml), what, &error_local);
	if (doc == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_LIBVIRT,
			     "%s Check libvirtd's logs.",
			     error_local->message);
		return NULL;
	}
	root = xmlDocGetRootElement (doc);
	if (!xmlStrEqual (root->name, BAD_CAST root_name)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_LIBVIRT,
			     "The %s is not a <%s> document; check libvirtd's logs.",
			     what,
			     root_name);
		return NULL;
	}
	return g_steal_pointer (&doc);
}

static gboolean
xml_test (xmlDoc *doc, const gchar *expression)
{
	g_autoptr (xmlXPathContext) context = xmlXPathNewContext (doc);
	g_autoptr (xmlXPathObject) result = NULL;

	if (context == NULL)
		return FALSE;
	result = xmlXPathEvalExpression (BAD_CAST expression, context);
	return result != NULL && xmlXPathCastToBoolean (result);
}

static gchar *
xml_string (xmlDoc *doc, const gchar *expression)
{
	g_autoptr (xmlXPathContext) context = xmlXPathNewContext (doc);
	g_autoptr (xmlXPathObject) result = NULL;
	xmlChar *text;
	gchar *copy;

	if (context == NULL)
		return g_strdup ("");
	result = xmlXPathEvalExpression (BAD_CAST expression, context);
	if (result == NULL)
		return g_strdup ("");
	text = xmlXPathCastToString (result);
	copy = g_strdup ((const gchar *) text);
	xmlFree (text);
	return copy;
}

gboolean
nf_host_facts_read_capabilities (NfHostFacts *facts, const gchar *caps_xml, GError **error)
{
	g_autoptr (xmlDoc) doc =
		parse_libvirt_xml (caps_xml, "capabilities", "libvirt capabilities document", error);

	if (doc == NULL)
		return FALSE;
	facts->info->cpu_model = xml_string (doc, "string(/capabilities/host/cpu/model)");
	facts->info->libvirt_kvm =
		xml_test (doc,
			  "boolean(/capabilities/guest[os_type='hvm']/arch[@name='x86_64']/domain[@type='kvm'])");
	facts->info->libvirt_qemu =
		xml_test (doc,
			  "boolean(/capabilities/guest[os_type='hvm']/arch[@name='x86_64']/domain[@type='qemu'])");
	return TRUE;
}

/* The host-model CPU of a domain capabilities document as a CPU
 * description libvirt's baseline and compare calls take (<cpu
 * mode='custom' match='exact'> with its model, vendor and features);
 * NULL where libvirt offers no host-model CPU there. */
static gchar *
host_model_cpu (xmlDoc *doc)
{
	g_autoptr (xmlXPathContext) context = xmlXPathNewContext (doc);
	g_autoptr (xmlXPathObject) found = NULL;
	g_autoptr (xmlDoc) out = NULL;
	xmlNode *mode;
	xmlNode *cpu;

	if (context == NULL)
		return NULL;
	found = xmlXPathEvalExpression (BAD_CAST
					"/domainCapabilities/cpu/mode[@name='host-model'][@supported='yes']",
					context);
	if (found == NULL || found->nodesetval == NULL || found->nodesetval->nodeNr == 0)
		return NULL;
	mode = found->nodesetval->nodeTab[0];
	out = xmlNewDoc (BAD_CAST "1.0");
	cpu = xmlNewDocNode (out, NULL, BAD_CAST "cpu", NULL);
	xmlDocSetRootElement (out, cpu);
	nf_xml_set_prop (cpu, "mode", "custom");
	nf_xml_set_prop (cpu, "match", "exact");
	for (xmlNode *child = mode->children; child != NULL; child = child->next) {
		if (child->type == XML_ELEMENT_NODE)
			xmlAddChild (cpu, xmlDocCopyNode (child, out, 1));
	}
	if (cpu->children == NULL)
		return NULL;
	return nf_xml_to_string (out);
}

gboolean
nf_host_facts_read_domcaps_kvm (NfHostFacts *facts, const gchar *domcaps_xml, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;

	if (domcaps_xml == NULL)
		return TRUE;
	doc = parse_libvirt_xml (domcaps_xml,
				 "domainCapabilities",
				 "libvirt kvm domain capabilities document",
				 error);
	if (doc == NULL)
		return FALSE;
	facts->info->host_passthrough =
		xml_test (doc,
			  "boolean(/domainCapabilities/cpu/mode[@name='host-passthrough'][@supported='yes'])");
	facts->host_model_listed =
		xml_test (doc, "boolean(/domainCapabilities/cpu/mode[@name='host-model']/feature)");
	facts->host_model_vmx =
		xml_test (doc,
			  "boolean(/domainCapabilities/cpu/mode[@name='host-model']/feature[@name='vmx'][@policy='require'])");
	facts->host_model_svm =
		xml_test (doc,
			  "boolean(/domainCapabilities/cpu/mode[@name='host-model']/feature[@name='svm'][@policy='require'])");
	facts->host_cpu_kvm = host_model_cpu (doc);
	return TRUE;
}

/* The first preferred model QEMU calls usable under TCG, else the first it
 * lists at all, else qemu64 (every x86 QEMU has it). */
gboolean
nf_host_facts_read_domcaps_qemu (NfHostFacts *facts, const gchar *domcaps_xml, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;
	const gchar *model = NULL;

	if (!facts->info->libvirt_qemu)
		return TRUE;
	if (domcaps_xml != NULL) {
		doc = parse_libvirt_xml (domcaps_xml,
					 "domainCapabilities",
					 "libvirt qemu domain capabilities document",
					 error);
		if (doc == NULL)
			return FALSE;
	}
	for (guint pass = 0; doc != NULL && pass < 2 && model == NULL; pass++) {
		for (guint i = 0; i < G_N_ELEMENTS (emulated_models) && model == NULL; i++) {
			g_autofree gchar *expression =
				g_strdup_printf ("boolean(/domainCapabilities/cpu/mode[@name='custom'][@supported='yes']/model[.='%s']%s)",
						 emulated_models[i],
						 pass == 0 ? "[@usable='yes']" : "");

			if (xml_test (doc, expression))
				model = emulated_models[i];
		}
	}
	facts->info->emulated_cpu_model = g_strdup (model != NULL ? model : emulated_models[0]);
	if (doc != NULL)
		facts->host_cpu_qemu = host_model_cpu (doc);
	return TRUE;
}

static gboolean set_problem (gchar **problem, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
set_problem (gchar **problem, const gchar *format, ...)
{
	va_list args;

	if (problem != NULL) {
		va_start (args, format);
		*problem = g_strdup_vprintf (format, args);
		va_end (args);
	}
	return FALSE;
}

gboolean
nf_host_dev_kvm_usable (const gchar *path, gchar **problem)
{
	int fd;
	int version;
	int saved_errno;

	g_return_val_if_fail (path != NULL, FALSE);

	fd = open (path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		saved_errno = errno;
		if (saved_errno == ENOENT)
			return set_problem (problem,
					    "%s does not exist: no KVM module is loaded, or the CPU offers no "
					    "virtualization.",
					    path);
		return set_problem (problem,
				    "%s cannot be opened read-write: %s.",
				    path,
				    g_strerror (saved_errno));
	}
	version = ioctl (fd, KVM_GET_API_VERSION, 0);
	saved_errno = errno;
	g_close (fd, NULL);
	if (version < 0)
		return set_problem (problem,
				    "%s does not answer KVM_GET_API_VERSION (%s): it is not a KVM device.",
				    path,
				    g_strerror (saved_errno));
	if (version != KVM_API_VERSION)
		return set_problem (problem,
				    "%s speaks KVM API version %d, not %d.",
				    path,
				    version,
				    KVM_API_VERSION);
	return TRUE;
}

static gchar *
get_domain_capabilities (virConnectPtr conn, const gchar *virttype)
{
	gchar *xml = virConnectGetDomainCapabilities (conn, NULL, "x86_64", NULL, virttype, 0);

	if (xml == NULL) {
		/* A virt type libvirt refuses is a fact, not a failure. */
		g_debug ("libvirt has no domain capabilities for %s: %s",
			 virttype,
			 virGetLastErrorMessage ());
		virResetLastError ();
	}
	return xml;
}

/* Memory in KiB as libvirt counts it on its host: all of it, and what is
 * free, buffers and cache (what /proc/meminfo calls available, near
 * enough). */
static gboolean
libvirt_memory (virConnectPtr conn, guint64 *total_kib, guint64 *available_kib, GError **error)
{
	virNodeInfo info;
	gint n = 0;
	g_autofree virNodeMemoryStatsPtr stats = NULL;

	if (virNodeGetInfo (conn, &info) < 0)
		return nf_libvirt_set_error (error, "Cannot read the host's memory through libvirt");
	*total_kib = info.memory;
	*available_kib = 0;
	if (virNodeGetMemoryStats (conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) < 0 || n <= 0)
		return nf_libvirt_set_error (error, "Cannot read the host's free memory through libvirt");
	stats = g_new0 (virNodeMemoryStats, n);
	if (virNodeGetMemoryStats (conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats, &n, 0) < 0)
		return nf_libvirt_set_error (error, "Cannot read the host's free memory through libvirt");
	for (gint i = 0; i < n; i++)
		if (g_str_equal (stats[i].field, VIR_NODE_MEMORY_STATS_FREE) ||
		    g_str_equal (stats[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) ||
		    g_str_equal (stats[i].field, VIR_NODE_MEMORY_STATS_CACHED))
			*available_kib += stats[i].value;
	return TRUE;
}

/* The host CPU of @caps_xml with every feature of its model listed
 * (virConnectBaselineCPU, EXPAND_FEATURES), or NULL when libvirt cannot
 * say (then the capabilities' own list is all there is). */
static gchar *
expand_host_cpu (virConnectPtr conn, const gchar *caps_xml)
{
	g_autoptr (xmlDoc) doc =
		parse_libvirt_xml (caps_xml, "capabilities", "libvirt capabilities document", NULL);
	g_autoptr (xmlXPathContext) context = doc != NULL ? xmlXPathNewContext (doc) : NULL;
	xmlNode *cpu = context != NULL ? nf_xml_find (context, NULL, "/capabilities/host/cpu") : NULL;
	xmlBufferPtr buffer;
	const gchar *cpus[1];
	gchar *expanded = NULL;

	if (cpu == NULL)
		return NULL;
	buffer = xmlBufferCreate ();
	if (xmlNodeDump (buffer, doc, cpu, 0, 0) >= 0) {
		cpus[0] = (const gchar *) xmlBufferContent (buffer);
		expanded = virConnectBaselineCPU (conn, cpus, 1, VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES);
	}
	xmlBufferFree (buffer);
	if (expanded == NULL) {
		g_debug ("libvirt cannot expand the host CPU: %s", virGetLastErrorMessage ());
		virResetLastError ();
	}
	return expanded;
}

NfHostInfo *
nf_host_probe_remote (virConnectPtr conn, NfAccel forced, GError **error)
{
	g_autofree gchar *caps_xml = NULL;
	g_autofree gchar *domcaps_kvm_xml = NULL;
	g_autofree gchar *domcaps_qemu_xml = NULL;
	g_autofree gchar *expanded_xml = NULL;
	guint64 total_kib = 0, available_kib = 0;

	g_return_val_if_fail (conn != NULL, NULL);

	caps_xml = virConnectGetCapabilities (conn);
	if (caps_xml == NULL) {
		nf_libvirt_set_error (error, "Cannot read libvirt's host capabilities");
		return NULL;
	}
	if (!libvirt_memory (conn, &total_kib, &available_kib, error))
		return NULL;
	domcaps_kvm_xml = get_domain_capabilities (conn, "kvm");
	domcaps_qemu_xml = get_domain_capabilities (conn, "qemu");
	expanded_xml = expand_host_cpu (conn, caps_xml);
	return nf_host_probe_remote_from_facts (caps_xml,
						expanded_xml,
						domcaps_kvm_xml,
						domcaps_qemu_xml,
						total_kib,
						available_kib,
						forced,
						error);
}

NfHostInfo *
nf_host_probe (virConnectPtr conn, NfAccel forced, GError **error)
{
	g_autofree gchar *caps_xml = NULL;
	g_autofree gchar *domcaps_kvm_xml = NULL;
	g_autofree gchar *domcaps_qemu_xml = NULL;
	g_autofree gchar *dev_kvm_problem = NULL;

	g_return_val_if_fail (conn != NULL, NULL);

	caps_xml = virConnectGetCapabilities (conn);
	if (caps_xml == NULL) {
		nf_libvirt_set_error (error, "Cannot read libvirt's host capabilities");
		return NULL;
	}
	domcaps_kvm_xml = get_domain_capabilities (conn, "kvm");
	domcaps_qemu_xml = get_domain_capabilities (conn, "qemu");
	nf_host_dev_kvm_usable ("/dev/kvm", &dev_kvm_problem);
	return nf_host_probe_from_facts ("/",
					 caps_xml,
					 domcaps_kvm_xml,
					 domcaps_qemu_xml,
					 dev_kvm_problem,
					 forced,
					 error);
}
