/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "fuzz-lab-file"

#include "config.h"

#include "nestfarm/nf-names.h"
#include "nestfarm/nf-vlan.h"
#include "nf-cli-lab.h"
#include "nf-fuzz.h"

/* Lab files (nestfarmctl lab): any bytes as a *.pool file. The parser
 * either refuses with FILE:LINE problems or returns a pool whose every
 * field is one nestfarmctl may send. */

#define LAB_FILE "fuzz.pool"

static const gchar *const lab_keys[] = {
	"Name",
	"Count",
	"Profile",
	"Image",
	"VCPUs",
	"MemoryMiB",
	"DiskGiB",
	"TrunkBridge",
	"VLANs",
	"Start",
	"SSHKeys",
	"SSHUser",
	"UserData",
	"Network",
	"WaitReady",
	"Hosts",
	NULL,
};

static void
check_pool (const NfLabPool *pool)
{
	g_assert_cmpstr (pool->file, ==, LAB_FILE);
	g_assert_cmpuint (pool->line, >=, 1);
	g_assert_true (nf_pool_name_validate (pool->name, NULL));
	g_assert_cmpuint (pool->count, >=, 1);
	g_assert_cmpuint (pool->count, <=, NF_POOL_COUNT_MAX);
	/* 0 or NULL: unset, nestfarmd's default */
	g_assert_cmpuint (pool->vcpus, <=, NF_NODE_VCPUS_MAX);
	g_assert_true (pool->memory_mib == 0 || (pool->memory_mib >= NF_NODE_MEMORY_MIB_MIN &&
						 pool->memory_mib <= NF_NODE_MEMORY_MIB_MAX));
	g_assert_cmpuint (pool->disk_gib, <=, NF_NODE_DISK_GIB_MAX);
	if (pool->profile != NULL)
		g_assert_true (nf_profile_name_validate (pool->profile, NULL));
	if (pool->image != NULL) {
		g_assert_true (pool->image[0] != '\0');
		g_assert_true (g_path_is_absolute (pool->image) || strchr (pool->image, '/') == NULL);
		g_assert_true (g_utf8_validate (pool->image, -1, NULL));
	}
	if (pool->trunk_bridge != NULL) {
		gsize len = strlen (pool->trunk_bridge);

		g_assert_cmpuint (len, >=, 1);
		g_assert_cmpuint (len, <=, NF_BRIDGE_NAME_MAX);
		g_assert_cmpuint (strspn (pool->trunk_bridge, NF_BRIDGE_NAME_CHARS), ==, len);
	}
	if (pool->vlans != NULL) {
		g_autoptr (NfVlanSet) set = nf_vlan_set_parse (pool->vlans, NULL);
		g_autofree gchar *canonical = NULL;

		g_assert_nonnull (set);
		canonical = nf_vlan_set_to_string (set);
		g_assert_cmpstr (canonical, ==, pool->vlans);
	}
	if (!pool->start_set)
		g_assert_false (pool->start);
}

static gchar *
keyfile_value (GKeyFile *keys, const gchar *key)
{
	gchar *value = g_key_file_get_string (keys, "Pool", key, NULL);

	return value != NULL ? g_strstrip (value) : NULL;
}

static guint
keyfile_uint (GKeyFile *keys, const gchar *key)
{
	g_autofree gchar *value = keyfile_value (keys, key);

	return value != NULL ? (guint) g_ascii_strtoull (value, NULL, 10) : 0;
}

/* The pool says what GKeyFile reads in the file: no key that GKeyFile
 * sees is lost or misread by the line scan. */
static void
check_against_keyfile (const NfLabPool *pool, const gchar *text, gsize size)
{
	g_autoptr (GKeyFile) keys = g_key_file_new ();
	g_auto (GStrv) groups = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *profile = NULL;
	g_autofree gchar *image = NULL;
	g_autofree gchar *bridge = NULL;
	g_autofree gchar *vlans = NULL;
	g_autofree gchar *start = NULL;
	g_autofree gchar *user = NULL;
	g_autofree gchar *network = NULL;
	g_autofree gchar *user_data = NULL;
	g_auto (GStrv) names = NULL;

	g_assert_true (g_key_file_load_from_data (keys, text, size, G_KEY_FILE_NONE, NULL));
	groups = g_key_file_get_groups (keys, NULL);
	g_assert_cmpuint (g_strv_length (groups), ==, 1);
	g_assert_cmpstr (groups[0], ==, "Pool");
	names = g_key_file_get_keys (keys, "Pool", NULL, NULL);
	for (guint i = 0; names[i] != NULL; i++)
		g_assert_true (g_strv_contains (lab_keys, names[i]));
	name = keyfile_value (keys, "Name");
	g_assert_cmpstr (name, ==, pool->name);
	g_assert_cmpuint (keyfile_uint (keys, "Count"), ==, pool->count);
	profile = keyfile_value (keys, "Profile");
	g_assert_cmpstr (profile, ==, pool->profile);
	image = keyfile_value (keys, "Image");
	g_assert_cmpstr (image, ==, pool->image);
	g_assert_cmpuint (keyfile_uint (keys, "VCPUs"), ==, pool->vcpus);
	g_assert_cmpuint (keyfile_uint (keys, "MemoryMiB"), ==, pool->memory_mib);
	g_assert_cmpuint (keyfile_uint (keys, "DiskGiB"), ==, pool->disk_gib);
	bridge = keyfile_value (keys, "TrunkBridge");
	g_assert_cmpstr (bridge, ==, pool->trunk_bridge);
	vlans = keyfile_value (keys, "VLANs");
	g_assert_cmpint (vlans != NULL, ==, pool->vlans != NULL);
	start = keyfile_value (keys, "Start");
	g_assert_cmpint (start != NULL, ==, pool->start_set);
	user = keyfile_value (keys, "SSHUser");
	g_assert_cmpstr (user, ==, pool->ssh_user);
	network = keyfile_value (keys, "Network");
	g_assert_cmpstr (network, ==, pool->network);
	/* files are made absolute: beside the lab file when relative */
	user_data = keyfile_value (keys, "UserData");
	g_assert_cmpint (user_data != NULL, ==, pool->user_data_file != NULL);
	g_assert_true (pool->user_data_file == NULL || g_path_is_absolute (pool->user_data_file) ||
		       g_str_has_suffix (pool->user_data_file, user_data));
	for (guint i = 0; pool->ssh_key_files != NULL && pool->ssh_key_files[i] != NULL; i++)
		g_assert_cmpstr (pool->ssh_key_files[i], !=, "");
	g_assert_cmpint (g_key_file_has_key (keys, "Pool", "Hosts", NULL), ==, pool->hosts != NULL);
	for (guint i = 0; pool->hosts != NULL && pool->hosts[i] != NULL; i++)
		g_assert_cmpstr (pool->hosts[i], !=, "");
}

/* Every problem is a line of its own that says which file it is about. */
static void
check_problems (const GError *error, gboolean utf8)
{
	g_auto (GStrv) lines = NULL;

	nf_fuzz_assert_refusal (error, utf8);
	lines = g_strsplit (error->message, "\n", -1);
	g_assert_true (g_str_has_prefix (lines[0], LAB_FILE ":"));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	g_autofree gchar *text = nf_fuzz_text (data, size);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfLabPool) pool = nf_cli_lab_file_parse (LAB_FILE, text, size, &error);
	g_autoptr (NfLabHost) host = NULL;

	if (pool == NULL) {
		check_problems (error, TRUE);
	} else {
		g_assert_no_error (error);
		check_pool (pool);
		check_against_keyfile (pool, text, size);
	}
	/* the same text as a host file: a host with a valid name and a URI,
	 * or a refusal naming the file */
	g_clear_error (&error);
	host = nf_cli_lab_file_parse_host (LAB_FILE, text, size, &error);
	if (host == NULL) {
		check_problems (error, TRUE);
		return 0;
	}
	g_assert_no_error (error);
	g_assert_true (nf_names_validate ("host", host->name, NULL));
	g_assert_nonnull (host->uri);
	g_assert_cmpstr (host->uri, !=, "");
	return 0;
}
