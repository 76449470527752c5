/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-template"

#include "config.h"

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-template.h"
#include "nf-template-private.h"
#include "nf-xml-private.h"

/* Rendering: the checked template is parsed afresh, each per-node value is
 * set through the tree API (text nodes and attributes, escaped on output),
 * and the profile markup is removed. No user string is ever parsed. */

#define NF_DEFAULT_EMULATED_CPU "qemu64"

/* The spec with every value decided: defaults, canonical VLANs, time. */
static NfNodeSpec *
resolve_spec (NfProfile *profile, const NfNodeSpec *spec, GError **error)
{
	g_autoptr (NfNodeSpec) node = NULL;
	g_autoptr (NfVlanSet) vlans = NULL;

	if (!nf_node_spec_validate (spec, error))
		return NULL;
	node = nf_node_spec_copy (spec);
	g_free (node->profile);
	node->profile = g_strdup (nf_profile_get_name (profile));
	if (node->vcpus == 0)
		node->vcpus = nf_profile_get_default_vcpus (profile);
	if (node->memory_mib == 0)
		node->memory_mib = nf_profile_get_default_memory_mib (profile);
	if (node->disk_gib == 0)
		node->disk_gib = nf_profile_get_default_disk_gib (profile);
	vlans = nf_vlan_set_parse (spec->vlans != NULL ? spec->vlans : "all", error);
	if (vlans == NULL)
		return NULL;
	g_free (node->vlans);
	node->vlans = nf_vlan_set_to_string (vlans);
	if (node->created == 0)
		node->created = g_get_real_time () / G_USEC_PER_SEC;
	return g_steal_pointer (&node);
}

/* libvirt's QEMU namespace, and the user alias of a trunk NIC ("ua-"). */
#define NF_QEMU_NS     "http://libvirt.org/schemas/domain/qemu/1.0"
#define NF_TRUNK_ALIAS "ua-trunk"

/* The farm's baseline CPU (CPUMode=baseline) for @doc: a named model every
 * host can run, nested virtualization required (nf_cpu_require_nested, so
 * a description without it still gets it). */
static xmlNode *
build_baseline_cpu (xmlDoc *doc, const NfHostInfo *host, const gchar *baseline, GError **error)
{
	g_autofree gchar *nested = nf_cpu_require_nested (baseline, host->accel, error);
	g_autoptr (xmlDoc) parsed = NULL;
	xmlNode *cpu;

	if (nested == NULL)
		return NULL;
	parsed = nf_xml_parse (nested, strlen (nested), "CPU baseline", error);
	if (parsed == NULL)
		return NULL;
	cpu = xmlDocCopyNode (xmlDocGetRootElement (parsed), doc, 1);
	nf_xml_set_prop (cpu, "mode", "custom");
	nf_xml_set_prop (cpu, "match", "exact");
	/* libvirt checks the model against the host at start and refuses
	 * what it cannot run, rather than starting a different CPU. */
	nf_xml_set_prop (cpu, "check", "partial");
	return cpu;
}

/* The <cpu> element for @host: nested virtualization is required of it;
 * the spec's baseline where the farm has one, else all the host has. */
static xmlNode *
build_cpu (xmlDoc *doc, const NfHostInfo *host, const gchar *baseline, GError **error)
{
	g_autoptr (xmlNode) cpu = xmlNewDocNode (doc, NULL, (const xmlChar *) "cpu", NULL);
	const gchar *feature = host->feature;
	xmlNode *child;

	if (baseline != NULL)
		return build_baseline_cpu (doc, host, baseline, error);
	if (host->accel == NF_ACCEL_KVM) {
		if (feature == NULL && host->vendor == NF_CPU_VENDOR_INTEL)
			feature = "vmx";
		else if (feature == NULL && host->vendor == NF_CPU_VENDOR_AMD)
			feature = "svm";
		if (g_strcmp0 (feature, "vmx") != 0 && g_strcmp0 (feature, "svm") != 0) {
			g_set_error_literal (error,
					     NF_ERROR,
					     NF_ERROR_NESTED_UNAVAILABLE,
					     "The host offers no nested virtualization feature (vmx or svm) to KVM guests; run 'nestfarmctl host check'.");
			return NULL;
		}
		nf_xml_set_prop (cpu, "mode", "host-passthrough");
		nf_xml_set_prop (cpu, "check", "none");
		/* Migratable: the host's CPU less what cannot move with a
		 * guest (invtsc and the like), which QEMU would otherwise
		 * refuse to save (memory snapshots) or migrate. */
		nf_xml_set_prop (cpu, "migratable", "on");
	} else {
		const gchar *model =
			host->emulated_cpu_model != NULL ? host->emulated_cpu_model : NF_DEFAULT_EMULATED_CPU;

		if (model[0] == '\0' || !nf_xml_text_is_safe (model)) {
			g_set_error_literal (error,
					     NF_ERROR,
					     NF_ERROR_FAILED,
					     "The host probe named no usable CPU model for emulation; run 'nestfarmctl host check'.");
			return NULL;
		}
		/* TCG emulates AMD's SVM, never Intel's VMX. */
		feature = "svm";
		nf_xml_set_prop (cpu, "mode", "custom");
		nf_xml_set_prop (cpu, "match", "exact");
		nf_xml_set_prop (cpu, "check", "none");
		child = xmlNewChild (cpu, NULL, (const xmlChar *) "model", NULL);
		nf_xml_set_prop (child, "fallback", "forbid");
		nf_xml_set_text (child, model);
	}
	child = xmlNewChild (cpu, NULL, (const xmlChar *) "feature", NULL);
	nf_xml_set_prop (child, "policy", "require");
	nf_xml_set_prop (child, "name", feature);
	/* TCG emulates SVM's nested paging too: a guest hypervisor then runs
	 * its own guests with NPT ("Nested Paging enabled"), not with shadow
	 * page tables. Under KVM, host-passthrough carries what the host has. */
	if (host->accel != NF_ACCEL_KVM) {
		child = xmlNewChild (cpu, NULL, (const xmlChar *) "feature", NULL);
		nf_xml_set_prop (child, "policy", "require");
		nf_xml_set_prop (child, "name", "npt");
	}
	return g_steal_pointer (&cpu);
}

/* A top-level element of the domain, made after @after when missing. */
static xmlNode *
ensure_after (xmlNode *root, const gchar *name, xmlNode *after)
{
	for (xmlNode *child = root->children; child != NULL; child = child->next) {
		if (child->type == XML_ELEMENT_NODE && child->ns == NULL &&
		    xmlStrEqual (child->name, (const xmlChar *) name))
			return child;
	}
	return xmlAddNextSibling (after, xmlNewDocNode (root->doc, NULL, (const xmlChar *) name, NULL));
}

static void
render_identity (xmlXPathContext *ctx, xmlNode *root, const NfNodeSpec *node, const gchar *node_name)
{
	g_autofree gchar *title = g_strdup_printf ("nestfarm node %s (pool %s)", node_name, node->pool);
	g_autofree gchar *vcpus = g_strdup_printf ("%u", node->vcpus);
	g_autofree gchar *memory = g_strdup_printf ("%u", node->memory_mib);
	xmlNode *name = nf_xml_find (ctx, root, "name");
	xmlNode *current;
	xmlNode *element;

	nf_xml_set_text (name, node_name);
	nf_xml_set_text (ensure_after (root, "title", name), title);
	element = nf_xml_find (ctx, root, "memory");
	nf_xml_set_prop (element, "unit", "MiB");
	nf_xml_set_text (element, memory);
	/* Without it, libvirt makes the current memory the maximum. */
	current = nf_xml_find (ctx, root, "currentMemory");
	if (current != NULL)
		nf_xml_remove (current);
	element = nf_xml_find (ctx, root, "vcpu");
	xmlUnsetProp (element, (const xmlChar *) "current");
	nf_xml_set_text (element, vcpus);
	/* The guest takes its host name from the DMI product serial. */
	element = nf_xml_find (ctx, root, "sysinfo[@type='smbios']/system/entry[@name='serial']");
	nf_xml_set_text (element, node_name);
}

static void
set_mac (xmlNode *interface, const NfNodeSpec *node, guint nic)
{
	g_autofree gchar *mac = nf_node_mac (node->pool, node->index, nic);

	nf_xml_set_prop (nf_xml_ensure_child (interface, "mac"), "address", mac);
}

/* A disk of the file @path in @format, said explicitly, never probed. */
static void
render_file_disk (xmlNode *disk, const gchar *format, const gchar *path)
{
	xmlNode *driver;

	nf_xml_set_prop (disk, "type", "file");
	driver = nf_xml_ensure_child (disk, "driver");
	if (xmlHasProp (driver, (const xmlChar *) "name") == NULL)
		nf_xml_set_prop (driver, "name", "qemu");
	nf_xml_set_prop (driver, "type", format);
	nf_xml_set_prop (nf_xml_ensure_child (disk, "source"), "file", path);
}

/* The seed's CD-ROM, or none when the node has no seed. */
static void
render_seed (xmlNode *disk, const NfNodeSpec *node)
{
	if (disk == NULL)
		return;
	if (node->seed == NULL) {
		nf_xml_remove (disk);
		return;
	}
	render_file_disk (disk, "raw", node->seed);
	nf_xml_ensure_child (disk, "readonly");
}

static void
render_devices (xmlXPathContext *ctx, xmlNode *devices, const NfNodeSpec *node)
{
	g_autoptr (NfVlanSet) vlans = nf_vlan_set_parse (node->vlans, NULL);
	g_autoptr (GArray) tags = nf_vlan_set_to_array (vlans);
	g_autoptr (GPtrArray) old_vlans = NULL;
	xmlNode *disk = nf_xml_find (ctx, devices, "disk[@p:role='overlay']");
	xmlNode *management = nf_xml_find (ctx, devices, "interface[@p:role='management']");
	xmlNode *trunk = nf_xml_find (ctx, devices, "interface[@p:role='trunk']");
	xmlNode *console = nf_xml_find (ctx, devices, "serial[@p:role='console']");
	xmlNode *element;

	/* The overlay: qcow2 said explicitly, never probed; libvirt reads the
	 * backing chain (its format is fixed in the overlay's header). */
	render_file_disk (disk, "qcow2", node->overlay);

	if (node->mgmt_network == NULL) {
		nf_xml_remove (management);
	} else {
		nf_xml_set_prop (management, "type", "network");
		nf_xml_set_prop (nf_xml_ensure_child (management, "source"), "network", node->mgmt_network);
		set_mac (management, node, NF_NIC_MANAGEMENT);
	}

	nf_xml_set_prop (trunk, "type", "bridge");
	nf_xml_set_prop (nf_xml_ensure_child (trunk, "source"), "bridge", node->trunk_bridge);
	element = nf_xml_ensure_child (trunk, "virtualport");
	nf_xml_set_prop (element, "type", "openvswitch");
	/* an OVN port: ovn-controller binds the OVS port whose iface-id
	 * (libvirt's interfaceid) is its name */
	if (node->trunk_port != NULL)
		nf_xml_set_prop (nf_xml_ensure_child (element, "parameters"),
				 "interfaceid",
				 node->trunk_port);
	set_mac (trunk, node, NF_NIC_TRUNK);
	old_vlans = nf_xml_find_all (ctx, trunk, "vlan");
	for (guint i = 0; i < old_vlans->len; i++)
		nf_xml_remove (g_ptr_array_index (old_vlans, i));
	/* 'all' is a port without a VLAN list: OVS then carries every VLAN;
	 * an OVN port's VLAN list is its switch's ACLs (nf-ovn.h), the port on
	 * br-int none (ovn-controller's flows, not VLAN tags, steer it). */
	if (!nf_vlan_set_is_all (vlans) && node->trunk_port == NULL) {
		xmlNode *vlan = xmlNewChild (trunk, NULL, (const xmlChar *) "vlan", NULL);

		nf_xml_set_prop (vlan, "trunk", "yes");
		for (guint i = 0; i < tags->len; i++) {
			g_autofree gchar *id = g_strdup_printf ("%u", g_array_index (tags, guint, i));

			nf_xml_set_prop (xmlNewChild (vlan, NULL, (const xmlChar *) "tag", NULL), "id", id);
		}
	}

	if (node->cpu != NULL)
		nf_xml_set_prop (nf_xml_ensure_child (trunk, "alias"), "name", NF_TRUNK_ALIAS);

	element = nf_xml_ensure_child (console, "log");
	nf_xml_set_prop (element, "file", node->console_log);
	nf_xml_set_prop (element, "append", "on");
	render_seed (nf_xml_find (ctx, devices, "disk[@p:role='seed']"), node);
}

/* A node that can move (a baseline CPU) has its trunk NIC's VLAN filter
 * off: QEMU 7.2 does not carry virtio-net's VLAN filter table across a
 * migration, so a moved guest would drop every tagged frame on its trunk
 * until it added its VLANs again. With ctrl_vlan off the device passes
 * every tag and the guest's own VLAN devices filter (libvirt's
 * qemu:override of the device's frontend property). */
static void
render_vlan_filter_off (xmlNode *root)
{
	xmlNs *ns = xmlNewNs (root, BAD_CAST NF_QEMU_NS, BAD_CAST "qemu");
	xmlNode *override = xmlNewChild (root, ns, BAD_CAST "override", NULL);
	xmlNode *device = xmlNewChild (override, ns, BAD_CAST "device", NULL);
	xmlNode *frontend = xmlNewChild (device, ns, BAD_CAST "frontend", NULL);
	xmlNode *property = xmlNewChild (frontend, ns, BAD_CAST "property", NULL);

	nf_xml_set_prop (device, "alias", NF_TRUNK_ALIAS);
	nf_xml_set_prop (property, "name", "ctrl_vlan");
	nf_xml_set_prop (property, "type", "bool");
	nf_xml_set_prop (property, "value", "false");
}

/* Removes comments and every trace of the profile namespace below @node
 * (the load check guarantees it is only in the profile element and the
 * role attributes). Children first, so the namespace goes last. */
static void
strip_profile (xmlNode *node)
{
	xmlNode *child = node->children;
	xmlAttr *attr = node->type == XML_ELEMENT_NODE ? node->properties : NULL;
	xmlNs **link = node->type == XML_ELEMENT_NODE ? &node->nsDef : NULL;

	while (child != NULL) {
		xmlNode *next = child->next;

		if (child->type == XML_COMMENT_NODE ||
		    (child->type == XML_ELEMENT_NODE && child->ns != NULL &&
		     xmlStrEqual (child->ns->href, (const xmlChar *) NF_PROFILE_NS)))
			nf_xml_remove (child);
		else if (child->type == XML_ELEMENT_NODE)
			strip_profile (child);
		child = next;
	}
	while (attr != NULL) {
		xmlAttr *next = attr->next;

		if (attr->ns != NULL && xmlStrEqual (attr->ns->href, (const xmlChar *) NF_PROFILE_NS))
			xmlRemoveProp (attr);
		attr = next;
	}
	while (link != NULL && *link != NULL) {
		xmlNs *ns = *link;

		if (xmlStrEqual (ns->href, (const xmlChar *) NF_PROFILE_NS)) {
			*link = ns->next;
			ns->next = NULL;
			xmlFreeNs (ns);
		} else {
			link = &ns->next;
		}
	}
}

gchar *
nf_profile_render_domain (NfProfile *self, const NfNodeSpec *spec, const NfHostInfo *host, GError **error)
{
	g_autoptr (NfNodeSpec) node = NULL;
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (xmlXPathContext) ctx = NULL;
	g_autofree gchar *node_name = NULL;
	const gchar *template;
	gsize template_len = 0;
	xmlNode *root;
	xmlNode *cpu;
	xmlNode *metadata;

	g_return_val_if_fail (NF_IS_PROFILE (self), NULL);
	g_return_val_if_fail (spec != NULL, NULL);
	g_return_val_if_fail (host != NULL, NULL);
	g_return_val_if_fail (host->accel == NF_ACCEL_KVM || host->accel == NF_ACCEL_EMULATED, NULL);

	node = resolve_spec (self, spec, error);
	if (node == NULL)
		return NULL;
	node_name = nf_node_name_build (node->pool, node->index);
	template = nf_profile_get_template (self, &template_len);
	doc = nf_xml_parse (template, template_len, "profile template", error);
	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement (doc);
	ctx = xmlXPathNewContext (doc);
	xmlXPathRegisterNs (ctx, (const xmlChar *) "p", (const xmlChar *) NF_PROFILE_NS);

	cpu = build_cpu (doc, host, node->cpu, error);
	if (cpu == NULL)
		return NULL;
	nf_xml_set_prop (root, "type", host->accel == NF_ACCEL_KVM ? "kvm" : "qemu");
	render_identity (ctx, root, node, node_name);
	xmlAddNextSibling (nf_xml_find (ctx, root, "features"), cpu);
	render_devices (ctx, nf_xml_find (ctx, root, "devices"), node);
	metadata = ensure_after (root, "metadata", nf_xml_find (ctx, root, "title"));
	nf_node_spec_write_metadata (node, metadata);
	if (node->cpu != NULL)
		render_vlan_filter_off (root);

	for (xmlNode *child = doc->children; child != NULL;) {
		xmlNode *next = child->next;

		if (child->type == XML_COMMENT_NODE)
			nf_xml_remove (child);
		child = next;
	}
	strip_profile (root);
	return nf_xml_to_string (doc);
}
