/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-template"

#include "config.h"

#include <errno.h>
#include <libxml/parser.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-template.h"
#include "nf-template-private.h"
#include "nf-xml-private.h"

/* Profiles: a domain template loaded from the template directory, its format
 * checked once and its defaults read; and the list of profiles there is. */

#define NF_GUEST_AGENT_CHANNEL "org.qemu.guest_agent.0"

struct _NfProfile {
	GObject parent_instance;
	gchar *name;
	gchar *path;
	gchar *description;
	gchar *text; /* the template, checked; parsed afresh for each render */
	gsize text_len;
	guint vcpus;
	guint memory_mib;
	guint disk_gib;
	gboolean seed; /* it has a <disk profile:role='seed'> */
};

G_DEFINE_FINAL_TYPE (NfProfile, nf_profile, G_TYPE_OBJECT)

static void
nf_profile_finalize (GObject *object)
{
	NfProfile *self = NF_PROFILE (object);

	g_free (self->name);
	g_free (self->path);
	g_free (self->description);
	g_free (self->text);
	G_OBJECT_CLASS (nf_profile_parent_class)->finalize (object);
}

static void
nf_profile_class_init (NfProfileClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = nf_profile_finalize;
}

static void
nf_profile_init (NfProfile *self)
{
}

static xmlXPathContext *
profile_xpath_new (xmlDoc *doc)
{
	xmlXPathContext *ctx = xmlXPathNewContext (doc);

	if (ctx == NULL)
		g_error ("out of memory");
	xmlXPathRegisterNs (ctx, (const xmlChar *) "p", (const xmlChar *) NF_PROFILE_NS);
	return ctx;
}

static gboolean
node_in_profile_ns (xmlNode *node)
{
	return node->ns != NULL && xmlStrEqual (node->ns->href, (const xmlChar *) NF_PROFILE_NS);
}

/* A domain with a <profile:profile> child: what tells a profile from the
 * other templates in the directory. */
static xmlNode *
find_profile_element (xmlDoc *doc)
{
	xmlNode *root = xmlDocGetRootElement (doc);

	if (root->ns != NULL || !xmlStrEqual (root->name, (const xmlChar *) "domain"))
		return NULL;
	for (xmlNode *child = root->children; child != NULL; child = child->next) {
		if (child->type == XML_ELEMENT_NODE && node_in_profile_ns (child) &&
		    xmlStrEqual (child->name, (const xmlChar *) "profile"))
			return child;
	}
	return NULL;
}

static gboolean
file_is_profile (const gchar *path)
{
	g_autofree gchar *text = NULL;
	g_autoptr (xmlDoc) doc = NULL;
	gsize len = 0;

	if (!g_file_get_contents (path, &text, &len, NULL))
		return FALSE;
	doc = nf_xml_parse (text, len, "template", NULL);
	return doc != NULL && find_profile_element (doc) != NULL;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

GStrv
nf_profile_list (const gchar *template_dir, GError **error)
{
	const gchar *dir_path = template_dir != NULL ? template_dir : NF_TEMPLATEDIR;
	g_autoptr (GDir) dir = NULL;
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GError) error_local = NULL;
	const gchar *entry;

	dir = g_dir_open (dir_path, 0, &error_local);
	if (dir == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot read the profile directory: %s; check the installation.",
			     error_local->message);
		return NULL;
	}
	while ((entry = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *name = NULL;
		g_autofree gchar *path = NULL;

		if (!g_str_has_suffix (entry, ".xml"))
			continue;
		name = g_strndup (entry, strlen (entry) - strlen (".xml"));
		path = g_build_filename (dir_path, entry, NULL);
		if (!nf_profile_name_validate (name, NULL) || !file_is_profile (path))
			continue;
		g_ptr_array_add (names, g_steal_pointer (&name));
	}
	g_ptr_array_sort (names, compare_names);
	g_ptr_array_add (names, NULL);
	return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

static void
set_not_found (const gchar *template_dir, const gchar *name, GError **error)
{
	g_auto (GStrv) available = nf_profile_list (template_dir, NULL);
	g_autofree gchar *list = NULL;

	list = available != NULL && available[0] != NULL ? g_strjoinv (", ", available) : g_strdup ("none");
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_NOT_FOUND,
		     "There is no profile '%s'; the available profiles are: %s.",
		     name,
		     list);
}

/* What every profile must hold: the parts rendering fills, and the devices
 * every node has whatever its profile (console, guest agent, ACPI). */
static const struct {
	const gchar *xpath;
	const gchar *what;
} required_parts[] = {
	{"/domain/name", "a <name> element"},
	{"/domain/memory", "a <memory> element"},
	{"/domain/vcpu", "a <vcpu> element"},
	{"/domain/os/smbios[@mode='sysinfo']", "<os><smbios mode='sysinfo'/>"},
	{"/domain/sysinfo[@type='smbios']/system/entry[@name='serial']",
	 "<sysinfo type='smbios'><system><entry name='serial'/>"},
	{"/domain/features/acpi", "<features><acpi/>"},
	{"/domain/devices/disk[@p:role='overlay']", "a <disk profile:role='overlay'>"},
	{"/domain/devices/interface[@p:role='management']", "an <interface profile:role='management'>"},
	{"/domain/devices/interface[@p:role='trunk']", "an <interface profile:role='trunk'>"},
	{"/domain/devices/serial[@p:role='console']", "a <serial profile:role='console'>"},
	{"/domain/devices/console", "a <console> device"},
	{"/domain/devices/channel[target/@type='virtio' and target/@name='" NF_GUEST_AGENT_CHANNEL "']",
	 "the qemu-guest-agent <channel>"},
};

/* What rendering owns, so a template must leave it out. */
static const struct {
	const gchar *xpath;
	const gchar *what;
} forbidden_parts[] = {
	{"/domain/cpu", "a <cpu> element (nestfarm writes it from the host probe)"},
	{"/domain/uuid", "a <uuid> (libvirt gives each node its own)"},
	{"/domain/metadata", "a <metadata> element (nestfarm writes it)"},
	{"/domain/devices/interface/mac[@address]", "a fixed MAC address (every node would share it)"},
	{"/domain/devices/*[@p:role and @p:role = preceding-sibling::*/@p:role]",
	 "a profile:role given twice"},
};

/* Which element each role may mark. */
static const struct {
	const gchar *role;
	const gchar *element;
} roles[] = {
	{"overlay", "disk"},
	{"management", "interface"},
	{"trunk", "interface"},
	{"console", "serial"},
	{"seed", "disk"},
};

static gboolean
role_is_known (xmlAttr *attr)
{
	g_autofree gchar *value = NULL;
	xmlChar *raw;

	if (!xmlStrEqual (attr->name, (const xmlChar *) "role"))
		return FALSE;
	raw = xmlNodeGetContent ((xmlNode *) attr);
	value = g_strdup ((const gchar *) raw);
	xmlFree (raw);
	/* Roles mark devices: rendering looks for them under <devices> only. */
	if (attr->parent->parent == NULL || attr->parent->parent->type != XML_ELEMENT_NODE ||
	    !xmlStrEqual (attr->parent->parent->name, (const xmlChar *) "devices"))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS (roles); i++) {
		if (g_strcmp0 (value, roles[i].role) == 0)
			return xmlStrEqual (attr->parent->name, (const xmlChar *) roles[i].element);
	}
	return FALSE;
}

static gboolean
read_default (NfProfile *self,
	      xmlXPathContext *ctx,
	      xmlNode *profile,
	      const gchar *name,
	      guint min,
	      guint max,
	      guint *out,
	      GError **error)
{
	g_autofree gchar *xpath = g_strconcat ("p:", name, NULL);
	xmlNode *node = nf_xml_find (ctx, profile, xpath);
	g_autofree gchar *text = node != NULL ? nf_xml_get_text (node) : NULL;
	guint64 value = 0;

	if (text == NULL || !g_ascii_string_to_unsigned (g_strstrip (text), 10, min, max, &value, NULL)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The profile template %s has no valid <profile:%s> (%u to %u); see README.md.",
			     self->path,
			     name,
			     min,
			     max);
		return FALSE;
	}
	*out = (guint) value;
	return TRUE;
}

static gboolean
check_template (NfProfile *self, xmlDoc *doc, xmlNode *profile, GError **error)
{
	g_autoptr (xmlXPathContext) ctx = profile_xpath_new (doc);
	g_autoptr (GPtrArray) attrs = NULL;
	g_autoptr (GPtrArray) elements = NULL;
	xmlNode *description;

	/* Profile markup lives in one element and the role attributes, so
	 * rendering can remove all of it. */
	elements = nf_xml_find_all (ctx, NULL, "//p:*[not(ancestor-or-self::p:profile[parent::domain])]");
	attrs = nf_xml_find_all (ctx, NULL, "//@p:*");
	if (elements->len > 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The profile template %s has a profile element out of place; see README.md.",
			     self->path);
		return FALSE;
	}
	for (guint i = 0; i < attrs->len; i++) {
		if (!role_is_known (g_ptr_array_index (attrs, i))) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "The profile template %s has an unknown profile attribute or role, or a role on the wrong element; see README.md.",
				     self->path);
			return FALSE;
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS (required_parts); i++) {
		if (nf_xml_find (ctx, NULL, required_parts[i].xpath) == NULL) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "The profile template %s lacks %s; see README.md.",
				     self->path,
				     required_parts[i].what);
			return FALSE;
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS (forbidden_parts); i++) {
		if (nf_xml_find (ctx, NULL, forbidden_parts[i].xpath) != NULL) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "The profile template %s must not have %s; see README.md.",
				     self->path,
				     forbidden_parts[i].what);
			return FALSE;
		}
	}
	if (!read_default (self, ctx, profile, "vcpus", 1, NF_NODE_VCPUS_MAX, &self->vcpus, error) ||
	    !read_default (self,
			   ctx,
			   profile,
			   "memory-mib",
			   NF_NODE_MEMORY_MIB_MIN,
			   NF_NODE_MEMORY_MIB_MAX,
			   &self->memory_mib,
			   error) ||
	    !read_default (self, ctx, profile, "disk-gib", 1, NF_NODE_DISK_GIB_MAX, &self->disk_gib, error))
		return FALSE;
	description = nf_xml_find (ctx, profile, "p:description");
	if (description != NULL)
		self->description = g_strstrip (nf_xml_get_text (description));
	self->seed = nf_xml_find (ctx, NULL, "/domain/devices/disk[@p:role='seed']") != NULL;
	return TRUE;
}

NfProfile *
nf_profile_load (const gchar *template_dir, const gchar *name, GError **error)
{
	const gchar *dir_path = template_dir != NULL ? template_dir : NF_TEMPLATEDIR;
	g_autoptr (NfProfile) self = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autoptr (xmlDoc) doc = NULL;
	g_autofree gchar *file = NULL;
	g_autofree gchar *what = NULL;
	xmlNode *profile;

	if (!nf_profile_name_validate (name, error))
		return NULL;
	/* Once, before any thread parses. */
	xmlInitParser ();

	self = g_object_new (NF_TYPE_PROFILE, NULL);
	self->name = g_strdup (name);
	file = g_strconcat (name, ".xml", NULL);
	self->path = g_build_filename (dir_path, file, NULL);
	if (!g_file_get_contents (self->path, &self->text, &self->text_len, &error_local)) {
		if (g_error_matches (error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			set_not_found (template_dir, name, error);
			return NULL;
		}
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot read the profile template: %s.",
			     error_local->message);
		return NULL;
	}
	what = g_strdup_printf ("profile template %s", self->path);
	doc = nf_xml_parse (self->text, self->text_len, what, error);
	if (doc == NULL)
		return NULL;
	profile = find_profile_element (doc);
	if (profile == NULL) {
		/* Another kind of template (a volume, a network): not a profile. */
		set_not_found (template_dir, name, error);
		return NULL;
	}
	if (!check_template (self, doc, profile, error))
		return NULL;
	return g_steal_pointer (&self);
}

const gchar *
nf_profile_get_name (NfProfile *self)
{
	g_return_val_if_fail (NF_IS_PROFILE (self), NULL);
	return self->name;
}

const gchar *
nf_profile_get_description (NfProfile *self)
{
	g_return_val_if_fail (NF_IS_PROFILE (self), NULL);
	return self->description;
}

guint
nf_profile_get_default_vcpus (NfProfile *self)
{
	g_return_val_if_fail (NF_IS_PROFILE (self), 0);
	return self->vcpus;
}

guint
nf_profile_get_default_memory_mib (NfProfile *self)
{
	g_return_val_if_fail (NF_IS_PROFILE (self), 0);
	return self->memory_mib;
}

guint
nf_profile_get_default_disk_gib (NfProfile *self)
{
	g_return_val_if_fail (NF_IS_PROFILE (self), 0);
	return self->disk_gib;
}

gboolean
nf_profile_takes_seed (NfProfile *self)
{
	g_return_val_if_fail (NF_IS_PROFILE (self), FALSE);
	return self->seed;
}

void
nf_profile_fill_defaults (NfProfile *self, guint *vcpus, guint *memory_mib, guint *disk_gib)
{
	g_return_if_fail (NF_IS_PROFILE (self));

	if (*vcpus == 0)
		*vcpus = self->vcpus;
	if (*memory_mib == 0)
		*memory_mib = self->memory_mib;
	if (*disk_gib == 0)
		*disk_gib = self->disk_gib;
}

const gchar *
nf_profile_get_template (NfProfile *self, gsize *len)
{
	g_return_val_if_fail (NF_IS_PROFILE (self), NULL);
	*len = self->text_len;
	return self->text;
}
