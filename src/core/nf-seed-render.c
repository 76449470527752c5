/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-seed"

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-seed.h"
#include "nf-seed-private.h"

/* A seed's three documents. Each is JSON made with json-glib (JSON is YAML,
 * and what a user gave is escaped, never pasted into YAML); with the pool's
 * own user-data, user-data is a MIME multipart/mixed document made with
 * GMime. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)

/* The guest's management NIC, by its MAC. It keeps the name the guest's
 * kernel and udev give it (no set-name): nestfarm finds the NIC by its MAC,
 * and renaming a NIC at boot is what an image's own network set-up may not
 * expect. "mgmt0" only names this entry of the config. */
#define MANAGEMENT_NIC_ID "mgmt0"

/* nestfarm's cloud-config comes first in a multipart user-data, and says how
 * the documents after it merge into it: their lists (users, runcmd, ...)
 * are appended; keys nestfarm sets (ssh_pwauth, disable_root) stay. */
#define MERGE_LIST "append"
#define MERGE_DICT "no_replace", "recurse_list"

static gchar *
generate (JsonBuilder *builder)
{
	g_autoptr (JsonGenerator) generator = json_generator_new ();
	g_autoptr (JsonNode) root = json_builder_get_root (builder);

	json_generator_set_root (generator, root);
	json_generator_set_pretty (generator, TRUE);
	return json_generator_to_data (generator, NULL);
}

static void
add_string (JsonBuilder *builder, const gchar *member, const gchar *value)
{
	json_builder_set_member_name (builder, member);
	json_builder_add_string_value (builder, value);
}

static void
add_strings (JsonBuilder *builder, const gchar *member, const gchar *const *values)
{
	json_builder_set_member_name (builder, member);
	json_builder_begin_array (builder);
	for (guint i = 0; values != NULL && values[i] != NULL; i++)
		json_builder_add_string_value (builder, values[i]);
	json_builder_end_array (builder);
}

static void
add_boolean (JsonBuilder *builder, const gchar *member, gboolean value)
{
	json_builder_set_member_name (builder, member);
	json_builder_add_boolean_value (builder, value);
}

gchar *
nf_seed_render_meta_data (const NfSeedSpec *spec)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();

	g_return_val_if_fail (spec != NULL, NULL);
	g_return_val_if_fail (spec->instance_id != NULL && spec->node_name != NULL, NULL);

	json_builder_begin_object (builder);
	add_string (builder, "instance-id", spec->instance_id);
	add_string (builder, "local-hostname", spec->node_name);
	json_builder_end_object (builder);
	return generate (builder);
}

gchar *
nf_seed_render_network_config (const NfSeedSpec *spec)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autofree gchar *mac = NULL;

	g_return_val_if_fail (spec != NULL && spec->mac != NULL, NULL);

	mac = g_ascii_strdown (spec->mac, -1);
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "version");
	json_builder_add_int_value (builder, 2);
	json_builder_set_member_name (builder, "ethernets");
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, MANAGEMENT_NIC_ID);
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "match");
	json_builder_begin_object (builder);
	add_string (builder, "macaddress", mac);
	json_builder_end_object (builder);
	add_boolean (builder, "dhcp4", TRUE);
	json_builder_end_object (builder);
	json_builder_end_object (builder);
	json_builder_end_object (builder);
	return generate (builder);
}

static void
add_merge_rule (JsonBuilder *builder, const gchar *name, const gchar *const *settings)
{
	json_builder_begin_object (builder);
	add_string (builder, "name", name);
	add_strings (builder, "settings", settings);
	json_builder_end_object (builder);
}

static void
add_merge_how (JsonBuilder *builder)
{
	static const gchar *const list_settings[] = {MERGE_LIST, NULL};
	static const gchar *const dict_settings[] = {MERGE_DICT, NULL};

	json_builder_set_member_name (builder, "merge_how");
	json_builder_begin_array (builder);
	add_merge_rule (builder, "list", list_settings);
	add_merge_rule (builder, "dict", dict_settings);
	json_builder_end_array (builder);
}

static void
add_login_user (JsonBuilder *builder, const NfSeedSpec *spec)
{
	json_builder_set_member_name (builder, "users");
	json_builder_begin_array (builder);
	json_builder_begin_object (builder);
	add_string (builder, "name", spec->ssh_user);
	add_string (builder, "sudo", "ALL=(ALL) NOPASSWD:ALL");
	add_string (builder, "shell", "/bin/bash");
	add_boolean (builder, "lock_passwd", TRUE);
	add_strings (builder, "ssh_authorized_keys", (const gchar *const *) spec->ssh_keys);
	json_builder_end_object (builder);
	json_builder_end_array (builder);
}

/* nestfarm's own #cloud-config: the login user, no passwords, no root, and
 * the guest agent running (readiness asks it; guests have no internet, so
 * nothing is installed). */
static gchar *
render_cloud_config (const NfSeedSpec *spec, gboolean with_merge_how)
{
	static const gchar *const agent[] = {"systemctl", "enable", "--now", "qemu-guest-agent", NULL};
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autofree gchar *json = NULL;

	json_builder_begin_object (builder);
	if (with_merge_how)
		add_merge_how (builder);
	add_login_user (builder, spec);
	add_boolean (builder, "ssh_pwauth", FALSE);
	add_boolean (builder, "disable_root", TRUE);
	json_builder_set_member_name (builder, "runcmd");
	json_builder_begin_array (builder);
	json_builder_begin_array (builder);
	for (guint i = 0; agent[i] != NULL; i++)
		json_builder_add_string_value (builder, agent[i]);
	json_builder_end_array (builder);
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	json = generate (builder);
	return g_strconcat ("#cloud-config\n", json, "\n", NULL);
}

static void
mime_init_once (void)
{
	static gsize done = 0;

	if (g_once_init_enter (&done)) {
		g_mime_init ();
		g_once_init_leave (&done, 1);
	}
}

/* A text part of @mime_type holding @text: base64 when @exact (the pool's
 * document comes back byte for byte, whatever its line ends), else 7-bit
 * text as it is where it can be. Never 8-bit: cloud-init reads a part
 * without a transfer encoding as ASCII, and garbles UTF-8 in it. */
static GMimePart *
make_text_part (const gchar *mime_type, const gchar *text, gboolean exact)
{
	g_auto (GStrv) type = g_strsplit (mime_type, "/", 2);
	g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
	g_autoptr (GMimeDataWrapper) content =
		g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
	GMimePart *part = g_mime_part_new_with_type (type[0], type[1]);

	g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "utf-8");
	g_mime_part_set_content (part, content);
	g_mime_part_set_content_encoding (part,
					  exact ? GMIME_CONTENT_ENCODING_BASE64
						: g_mime_part_get_best_content_encoding (part,
											 GMIME_ENCODING_CONSTRAINT_7BIT));
	return part;
}

static gchar *
render_multipart (const gchar *cloud_config, const gchar *user_data)
{
	g_autoptr (GMimeMultipart) multipart = NULL;
	g_autoptr (GMimePart) own = NULL;
	g_autoptr (GMimePart) pool = NULL;

	mime_init_once ();
	multipart = g_mime_multipart_new_with_subtype ("mixed");
	g_mime_object_set_header (GMIME_OBJECT (multipart), "MIME-Version", "1.0", NULL);
	own = make_text_part ("text/cloud-config", cloud_config, FALSE);
	pool = make_text_part (nf_seed_user_data_type (user_data, strlen (user_data)), user_data, TRUE);
	g_mime_multipart_add (multipart, GMIME_OBJECT (own));
	g_mime_multipart_add (multipart, GMIME_OBJECT (pool));
	return g_mime_object_to_string (GMIME_OBJECT (multipart), NULL);
}

gchar *
nf_seed_render_user_data (const NfSeedSpec *spec, GError **error)
{
	g_autofree gchar *cloud_config = NULL;

	g_return_val_if_fail (spec != NULL, NULL);

	if (!nf_seed_check_user_parts (spec, error))
		return NULL;
	cloud_config = render_cloud_config (spec, spec->user_data != NULL);
	if (spec->user_data == NULL)
		return g_steal_pointer (&cloud_config);
	return render_multipart (cloud_config, spec->user_data);
}
