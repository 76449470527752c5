/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-node-spec"

#include "config.h"

#include <limits.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-seed.h"
#include "nestfarm/nf-template.h"
#include "nf-template-private.h"
#include "nf-xml-private.h"

/* NfNodeSpec, a node's description: copied, validated, written into its
 * domain's nestfarm metadata and read back from it; and the node's stable MACs. */

NfNodeSpec *
nf_node_spec_new (void)
{
	return g_new0 (NfNodeSpec, 1);
}

NfNodeSpec *
nf_node_spec_copy (const NfNodeSpec *spec)
{
	NfNodeSpec *copy;

	g_return_val_if_fail (spec != NULL, NULL);

	copy = g_memdup2 (spec, sizeof (NfNodeSpec));
	copy->pool = g_strdup (spec->pool);
	copy->profile = g_strdup (spec->profile);
	copy->image = g_strdup (spec->image);
	copy->overlay = g_strdup (spec->overlay);
	copy->trunk_bridge = g_strdup (spec->trunk_bridge);
	copy->trunk_port = g_strdup (spec->trunk_port);
	copy->vlans = g_strdup (spec->vlans);
	copy->mgmt_network = g_strdup (spec->mgmt_network);
	copy->console_log = g_strdup (spec->console_log);
	copy->instance = g_strdup (spec->instance);
	copy->address = g_strdup (spec->address);
	copy->host = g_strdup (spec->host);
	copy->cpu = g_strdup (spec->cpu);
	copy->seed = g_strdup (spec->seed);
	copy->ssh_user = g_strdup (spec->ssh_user);
	copy->ssh_keys = g_strdupv (spec->ssh_keys);
	copy->user_data = g_strdup (spec->user_data);
	return copy;
}

void
nf_node_spec_free (NfNodeSpec *spec)
{
	if (spec == NULL)
		return;
	g_free (spec->pool);
	g_free (spec->profile);
	g_free (spec->image);
	g_free (spec->overlay);
	g_free (spec->trunk_bridge);
	g_free (spec->trunk_port);
	g_free (spec->vlans);
	g_free (spec->mgmt_network);
	g_free (spec->console_log);
	g_free (spec->instance);
	g_free (spec->address);
	g_free (spec->host);
	g_free (spec->cpu);
	g_free (spec->seed);
	g_free (spec->ssh_user);
	g_strfreev (spec->ssh_keys);
	g_free (spec->user_data);
	g_free (spec);
}

/* Linux's rule for interface names (IFNAMSIZ, no '/', ':' or blanks),
 * narrowed to what libvirt's schema accepts for a bridge. */
static gboolean
bridge_name_is_valid (const gchar *name)
{
	gsize len = strnlen (name, NF_BRIDGE_NAME_MAX + 1);

	if (len == 0 || len > NF_BRIDGE_NAME_MAX || g_str_equal (name, ".") || g_str_equal (name, ".."))
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum (name[i]) && strchr ("_.-", name[i]) == NULL)
			return FALSE;
	}
	return TRUE;
}

static gboolean
validate_path (const gchar *path, const gchar *what, GError **error)
{
	if (path == NULL || path[0] == '\0') {
		g_set_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT, "The %s is not given.", what);
		return FALSE;
	}
	if (!nf_xml_text_is_safe (path) || strnlen (path, PATH_MAX) >= PATH_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The %s is not valid UTF-8 without control characters, or too long.",
			     what);
		return FALSE;
	}
	if (!g_path_is_absolute (path)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The %s '%s' is not an absolute path; give one starting with '/'.",
			     what,
			     path);
		return FALSE;
	}
	return TRUE;
}

static gboolean
validate_range (guint value, guint min, guint max, const gchar *what, GError **error)
{
	/* 0 asks for the profile's default. */
	if (value == 0 || (value >= min && value <= max))
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INVALID_ARGUMENT,
		     "%s %u is out of range; give %u to %u.",
		     what,
		     value,
		     min,
		     max);
	return FALSE;
}

/* What the node's seed is made of, as nf-seed checks it. */
static gboolean
validate_seed (const NfNodeSpec *spec, GError **error)
{
	if (spec->seed != NULL && !validate_path (spec->seed, "seed path", error))
		return FALSE;
	if (spec->ssh_user != NULL && !nf_seed_check_ssh_user (spec->ssh_user, error))
		return FALSE;
	for (guint i = 0; spec->ssh_keys != NULL && spec->ssh_keys[i] != NULL; i++) {
		if (!nf_seed_check_ssh_key (spec->ssh_keys[i], error))
			return FALSE;
	}
	if (spec->ssh_keys != NULL && g_strv_length (spec->ssh_keys) > NF_SSH_KEYS_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "%u SSH keys are too many; give at most %d.",
			     g_strv_length (spec->ssh_keys),
			     NF_SSH_KEYS_MAX);
		return FALSE;
	}
	return spec->user_data == NULL ||
	       nf_seed_check_user_data (spec->user_data, strlen (spec->user_data), error);
}

gboolean
nf_node_spec_validate (const NfNodeSpec *spec, GError **error)
{
	g_autoptr (NfVlanSet) vlans = NULL;

	g_return_val_if_fail (spec != NULL, FALSE);

	if (!nf_pool_name_validate (spec->pool, error))
		return FALSE;
	if (spec->index < 1 || spec->index > NF_NODE_INDEX_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The node index %u is out of range; nodes are numbered 1 to %d.",
			     spec->index,
			     NF_NODE_INDEX_MAX);
		return FALSE;
	}
	if (spec->profile != NULL && !nf_profile_name_validate (spec->profile, error))
		return FALSE;
	if (spec->host != NULL && !nf_names_validate ("host", spec->host, error))
		return FALSE;
	if (!validate_range (spec->vcpus, 1, NF_NODE_VCPUS_MAX, "The vCPU count", error))
		return FALSE;
	if (!validate_range (spec->memory_mib,
			     NF_NODE_MEMORY_MIB_MIN,
			     NF_NODE_MEMORY_MIB_MAX,
			     "The memory size (MiB)",
			     error))
		return FALSE;
	if (!validate_range (spec->disk_gib, 1, NF_NODE_DISK_GIB_MAX, "The disk size (GiB)", error))
		return FALSE;
	if (spec->image == NULL || spec->image[0] == '\0' || !nf_xml_text_is_safe (spec->image) ||
	    strnlen (spec->image, PATH_MAX) >= PATH_MAX) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The base image is missing or not valid text; give a path or a volume name.");
		return FALSE;
	}
	if (!validate_path (spec->overlay, "overlay path", error))
		return FALSE;
	if (!validate_path (spec->console_log, "console log path", error))
		return FALSE;
	if (spec->trunk_bridge == NULL || !bridge_name_is_valid (spec->trunk_bridge)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The trunk bridge name is not valid; use 1 to %d characters of A-Z, a-z, 0-9, '_', '.' and '-'.",
			     NF_BRIDGE_NAME_MAX);
		return FALSE;
	}
	if (spec->trunk_port != NULL && !g_uuid_string_is_valid (spec->trunk_port)) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The trunk port is not valid; an OVN logical port of a node is named by a UUID.");
		return FALSE;
	}
	vlans = nf_vlan_set_parse (spec->vlans != NULL ? spec->vlans : "all", error);
	if (vlans == NULL)
		return FALSE;
	if (spec->mgmt_network != NULL &&
	    (spec->mgmt_network[0] == '\0' || !nf_xml_text_is_safe (spec->mgmt_network) ||
	     strchr (spec->mgmt_network, '/') != NULL)) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The management network name is not valid; give a libvirt network name (no '/').");
		return FALSE;
	}
	return validate_seed (spec, error);
}

gchar *
nf_node_mac (const gchar *pool, guint index, guint nic)
{
	g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
	g_autofree gchar *input = NULL;
	guint8 digest[32];
	gsize len = sizeof (digest);

	g_return_val_if_fail (pool != NULL, NULL);

	/* Versioned input: a change of scheme must be deliberate, since it
	 * would give every existing node new addresses. */
	input = g_strdup_printf ("nestfarm-mac/1\n%s\n%u\n%u", pool, index, nic);
	g_checksum_update (checksum, (const guchar *) input, -1);
	g_checksum_get_digest (checksum, digest, &len);
	/* 52:54:00 is QEMU's locally administered, unicast prefix. */
	return g_strdup_printf ("52:54:00:%02x:%02x:%02x", digest[0], digest[1], digest[2]);
}

typedef enum {
	FIELD_STRING,
	FIELD_UINT,
	FIELD_TIME,
	FIELD_LINES,  /* a GStrv, one line each */
	FIELD_BASE64, /* a document of any text, base64 in the XML */
} FieldKind;

/* The metadata's children, in document order; one table for writing and
 * reading so the two cannot drift apart. */
static const struct {
	const gchar *name;
	FieldKind kind;
	gsize offset;
	gboolean optional;
} fields[] = {
	{"pool", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, pool), FALSE},
	{"index", FIELD_UINT, G_STRUCT_OFFSET (NfNodeSpec, index), FALSE},
	{"profile", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, profile), FALSE},
	{"created", FIELD_TIME, G_STRUCT_OFFSET (NfNodeSpec, created), FALSE},
	{"image", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, image), FALSE},
	{"overlay", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, overlay), FALSE},
	{"vcpus", FIELD_UINT, G_STRUCT_OFFSET (NfNodeSpec, vcpus), FALSE},
	{"memory-mib", FIELD_UINT, G_STRUCT_OFFSET (NfNodeSpec, memory_mib), FALSE},
	{"disk-gib", FIELD_UINT, G_STRUCT_OFFSET (NfNodeSpec, disk_gib), FALSE},
	{"trunk-bridge", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, trunk_bridge), FALSE},
	{"vlans", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, vlans), FALSE},
	/* Only where set: a node on a plain OVS trunk has none. */
	{"trunk-port", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, trunk_port), TRUE},
	{"management-network", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, mgmt_network), TRUE},
	{"console-log", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, console_log), FALSE},
	{"seed", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, seed), TRUE},
	{"ssh-user", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, ssh_user), TRUE},
	{"ssh-keys", FIELD_LINES, G_STRUCT_OFFSET (NfNodeSpec, ssh_keys), TRUE},
	{"user-data", FIELD_BASE64, G_STRUCT_OFFSET (NfNodeSpec, user_data), TRUE},
	{"address", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, address), TRUE},
	/* Only where set: a node made before there were hosts is local. */
	{"host", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, host), TRUE},
	/* Only where set, as below. */
	{"retired", FIELD_TIME, G_STRUCT_OFFSET (NfNodeSpec, retired), TRUE},
	/* Last and only where set: the default instance's XML is as before. */
	{"instance", FIELD_STRING, G_STRUCT_OFFSET (NfNodeSpec, instance), TRUE},
};

/* @with_ns: in nestfarm's namespace (the domain XML); without it, as
 * virDomainSetMetadata takes the element (it puts it in the namespace). */
static void
write_metadata (const NfNodeSpec *spec, xmlNode *metadata, gboolean with_ns)
{
	xmlNode *node;
	xmlNs *ns = NULL;

	node = xmlNewChild (metadata, NULL, (const xmlChar *) "node", NULL);
	if (with_ns) {
		ns = xmlNewNs (node, (const xmlChar *) NF_METADATA_NS, (const xmlChar *) NF_METADATA_PREFIX);
		xmlSetNs (node, ns);
	}
	for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
		g_autofree gchar *value = NULL;
		xmlNode *child;

		switch (fields[i].kind) {
		case FIELD_STRING:
			value = g_strdup (G_STRUCT_MEMBER (const gchar *, spec, fields[i].offset));
			break;
		case FIELD_UINT:
			value = g_strdup_printf ("%u", G_STRUCT_MEMBER (guint, spec, fields[i].offset));
			break;
		case FIELD_TIME: {
			gint64 seconds = G_STRUCT_MEMBER (gint64, spec, fields[i].offset);
			g_autoptr (GDateTime) time = NULL;

			/* an optional time is unset at 0 */
			if (seconds == 0 && fields[i].optional)
				continue;
			time = g_date_time_new_from_unix_utc (seconds);
			value = time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ") : NULL;
			break;
		}
		case FIELD_LINES: {
			GStrv lines = G_STRUCT_MEMBER (GStrv, spec, fields[i].offset);

			value = lines != NULL && lines[0] != NULL ? g_strjoinv ("\n", lines) : NULL;
			break;
		}
		case FIELD_BASE64: {
			const gchar *text = G_STRUCT_MEMBER (const gchar *, spec, fields[i].offset);

			value = text != NULL ? g_base64_encode ((const guchar *) text, strlen (text)) : NULL;
			break;
		}
		default:
			g_assert_not_reached ();
		}
		if (value == NULL) {
			/* Only optional strings may be unset; render fills the rest. */
			g_return_if_fail (fields[i].optional);
			continue;
		}
		child = xmlNewChild (node, ns, (const xmlChar *) fields[i].name, NULL);
		nf_xml_set_text (child, value);
	}
}

void
nf_node_spec_write_metadata (const NfNodeSpec *spec, xmlNode *metadata)
{
	g_return_if_fail (spec != NULL);
	g_return_if_fail (metadata != NULL);

	write_metadata (spec, metadata, TRUE);
}

gchar *
nf_node_spec_metadata_xml (const NfNodeSpec *spec)
{
	g_autoptr (xmlDoc) doc = NULL;
	xmlNode *parent;
	xmlBuffer *buffer;
	gchar *xml;

	g_return_val_if_fail (spec != NULL, NULL);

	doc = xmlNewDoc ((const xmlChar *) "1.0");
	parent = xmlNewNode (NULL, (const xmlChar *) "metadata");
	xmlDocSetRootElement (doc, parent);
	write_metadata (spec, parent, FALSE);
	buffer = xmlBufferCreate ();
	xmlNodeDump (buffer, doc, parent->children, 0, 0);
	xml = g_strdup ((const gchar *) xmlBufferContent (buffer));
	xmlBufferFree (buffer);
	return xml;
}

gboolean
nf_node_metadata_owned_by (const gchar *metadata, const gchar *instance)
{
	g_autoptr (xmlDoc) doc = NULL;
	g_autofree gchar *owner = NULL;
	xmlNode *root;
	xmlNode *field;

	g_return_val_if_fail (metadata != NULL, FALSE);

	doc = nf_xml_parse (metadata, strlen (metadata), "nestfarm metadata", NULL);
	if (doc == NULL || (root = xmlDocGetRootElement (doc)) == NULL)
		return FALSE;
	if (!xmlStrEqual (root->name, (const xmlChar *) "node"))
		return FALSE;
	/* libvirt hands the element back without its namespace. */
	for (field = root->children; field != NULL; field = field->next) {
		if (field->type == XML_ELEMENT_NODE &&
		    xmlStrEqual (field->name, (const xmlChar *) "instance")) {
			owner = nf_xml_get_text (field);
			break;
		}
	}
	if (owner != NULL && owner[0] == '\0')
		g_clear_pointer (&owner, g_free);
	return g_strcmp0 (owner, instance) == 0;
}

static xmlNode *
find_field (xmlNode *node, const gchar *name)
{
	for (xmlNode *child = node->children; child != NULL; child = child->next) {
		if (child->type == XML_ELEMENT_NODE && child->ns != NULL &&
		    xmlStrEqual (child->ns->href, (const xmlChar *) NF_METADATA_NS) &&
		    xmlStrEqual (child->name, (const xmlChar *) name))
			return child;
	}
	return NULL;
}

/* A document of text, or FALSE when @text is not one in base64. */
static gboolean
read_base64 (NfNodeSpec *spec, guint i, const gchar *text)
{
	gsize len = 0;
	g_autofree guchar *bytes = g_base64_decode (text, &len);

	if (len == 0 || memchr (bytes, '\0', len) != NULL ||
	    !g_utf8_validate ((const gchar *) bytes, len, NULL))
		return FALSE;
	G_STRUCT_MEMBER (gchar *, spec, fields[i].offset) = g_strndup ((const gchar *) bytes, len);
	return TRUE;
}

static gboolean
read_field (NfNodeSpec *spec, guint i, const gchar *text, const gchar *domain, GError **error)
{
	switch (fields[i].kind) {
	case FIELD_STRING:
		if (text[0] == '\0')
			break;
		G_STRUCT_MEMBER (gchar *, spec, fields[i].offset) = g_strdup (text);
		return TRUE;
	case FIELD_UINT: {
		guint64 value = 0;

		if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT, &value, NULL))
			break;
		G_STRUCT_MEMBER (guint, spec, fields[i].offset) = (guint) value;
		return TRUE;
	}
	case FIELD_TIME: {
		g_autoptr (GDateTime) time = g_date_time_new_from_iso8601 (text, NULL);

		if (time == NULL)
			break;
		G_STRUCT_MEMBER (gint64, spec, fields[i].offset) = g_date_time_to_unix (time);
		return TRUE;
	}
	case FIELD_LINES:
		G_STRUCT_MEMBER (GStrv, spec, fields[i].offset) = g_strsplit (text, "\n", -1);
		return TRUE;
	case FIELD_BASE64:
		if (read_base64 (spec, i, text))
			return TRUE;
		break;
	default:
		g_assert_not_reached ();
	}
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_FAILED,
		     "The nestfarm metadata of domain '%s' has a bad <%s> value; the domain cannot be rebuilt from it.",
		     domain,
		     fields[i].name);
	return FALSE;
}

NfNodeSpec *
nf_node_spec_from_domain_xml (const gchar *domain_xml, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (xmlXPathContext) ctx = NULL;
	g_autoptr (NfNodeSpec) spec = nf_node_spec_new ();
	g_autofree gchar *domain = NULL;
	xmlNode *name;
	xmlNode *node;

	g_return_val_if_fail (domain_xml != NULL, NULL);

	doc = nf_xml_parse (domain_xml, strlen (domain_xml), "domain XML", error);
	if (doc == NULL)
		return NULL;
	ctx = xmlXPathNewContext (doc);
	xmlXPathRegisterNs (ctx, (const xmlChar *) "n", (const xmlChar *) NF_METADATA_NS);
	name = nf_xml_find (ctx, NULL, "/domain/name");
	domain = name != NULL ? nf_xml_get_text (name) : g_strdup ("(unnamed)");
	node = nf_xml_find (ctx, NULL, "/domain/metadata/n:node");
	if (node == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "The domain '%s' carries no nestfarm metadata; nestfarm did not make it.",
			     domain);
		return NULL;
	}
	for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
		xmlNode *child = find_field (node, fields[i].name);
		g_autofree gchar *text = NULL;

		if (child == NULL) {
			if (fields[i].optional)
				continue;
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "The nestfarm metadata of domain '%s' has no <%s>; the domain cannot be rebuilt from it.",
				     domain,
				     fields[i].name);
			return NULL;
		}
		text = nf_xml_get_text (child);
		if (!read_field (spec, i, text != NULL ? text : "", domain, error))
			return NULL;
	}
	if (!nf_pool_name_validate (spec->pool, NULL) || spec->index > NF_NODE_INDEX_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The nestfarm metadata of domain '%s' names no valid pool and index.",
			     domain);
		return NULL;
	}
	return g_steal_pointer (&spec);
}
