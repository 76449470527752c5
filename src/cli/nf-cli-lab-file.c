/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-seed.h"
#include "nestfarm/nf-vlan.h"
#include "nf-cli-lab.h"

/* Lab files (contract, "Lab files"): GKeyFile text with one [Pool] group
 * (NAME.pool) or one [Host] group (NAME.host). GKeyFile decodes the
 * values; a line scan first finds where each key is, so that every
 * complaint names its file and line. */

#define LAB_GROUP  "Pool"
#define HOST_GROUP "Host"

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
#define LAB_KEYS_SHOWN                                                                                 \
	"Name, Count, Profile, Image, VCPUs, MemoryMiB, DiskGiB, TrunkBridge, VLANs, Start, SSHKeys, " \
	"SSHUser, UserData, Network, WaitReady and Hosts"

static const gchar *const host_keys[] = {"Name", "URI", "PeerURI", NULL};

void
nf_lab_pool_free (NfLabPool *pool)
{
	if (pool == NULL)
		return;
	g_free (pool->file);
	g_free (pool->name);
	g_free (pool->profile);
	g_free (pool->image);
	g_free (pool->trunk_bridge);
	g_free (pool->vlans);
	g_strfreev (pool->ssh_key_files);
	g_free (pool->ssh_user);
	g_free (pool->user_data_file);
	g_free (pool->network);
	g_strfreev (pool->hosts);
	g_free (pool);
}

void
nf_lab_host_free (NfLabHost *host)
{
	if (host == NULL)
		return;
	g_free (host->file);
	g_free (host->name);
	g_free (host->uri);
	g_free (host->peer_uri);
	g_free (host);
}

typedef struct {
	const gchar *file;
	GKeyFile *keys;
	GHashTable *lines; /* key -> line number */
	GPtrArray *problems;
	const gchar *group;             /* Pool or Host */
	const gchar *const *known_keys; /* of @group */
	const gchar *keys_shown;
} LabFile;

static void G_GNUC_PRINTF (3, 4) complain (LabFile *lf, guint line, const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	if (line > 0)
		g_ptr_array_add (lf->problems, g_strdup_printf ("%s:%u: %s", lf->file, line, message));
	else
		g_ptr_array_add (lf->problems, g_strdup_printf ("%s: %s", lf->file, message));
}

static gboolean
is_lab_key (LabFile *lf, const gchar *key)
{
	return g_strv_contains (lf->known_keys, key);
}

/* The line scan: groups, keys and their lines; the shapes GKeyFile would
 * accept silently (a second group, a repeated key) are refused too. */
static guint
scan_lines (LabFile *lf, const gchar *text)
{
	g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
	guint group_line = 0;
	gboolean in_other_group = FALSE;

	for (guint n = 0; lines[n] != NULL; n++) {
		gchar *line = g_strstrip (lines[n]);
		guint number = n + 1;
		gchar *equals;
		gpointer seen;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[0] == '[') {
			gsize len = strlen (line);

			in_other_group = TRUE;
			if (line[len - 1] != ']') {
				complain (lf, number, "'%s' is not a group line; write [%s]", line, lf->group);
				continue;
			}
			line[len - 1] = '\0';
			if (!g_str_equal (line + 1, lf->group)) {
				complain (lf,
					  number,
					  "unknown group [%s]; this lab file has one [%s] group",
					  line + 1,
					  lf->group);
				continue;
			}
			if (group_line != 0) {
				complain (lf,
					  number,
					  "a second [%s] group (the first is on line %u); one per file",
					  lf->group,
					  group_line);
				continue;
			}
			group_line = number;
			in_other_group = FALSE;
			continue;
		}
		equals = strchr (line, '=');
		if (equals == NULL) {
			complain (lf, number, "'%s' is not a Key=Value line, a [group] or a # comment", line);
			continue;
		}
		*equals = '\0';
		g_strchomp (line);
		if (group_line == 0 && !in_other_group) {
			complain (lf, number, "%s= comes before the [%s] group", line, lf->group);
			continue;
		}
		if (in_other_group)
			continue;
		if (!is_lab_key (lf, line)) {
			complain (lf,
				  number,
				  "unknown key '%s'; [%s] knows %s",
				  line,
				  lf->group,
				  lf->keys_shown);
			continue;
		}
		seen = g_hash_table_lookup (lf->lines, line);
		if (seen != NULL) {
			complain (lf,
				  number,
				  "%s is set twice (also on line %u)",
				  line,
				  GPOINTER_TO_UINT (seen));
			continue;
		}
		g_hash_table_insert (lf->lines, g_strdup (line), GUINT_TO_POINTER (number));
	}
	return group_line;
}

static guint
line_of (LabFile *lf, const gchar *key)
{
	return GPOINTER_TO_UINT (g_hash_table_lookup (lf->lines, key));
}

/* The value of @key, stripped; NULL where the file does not set it. */
static gchar *
get_value (LabFile *lf, const gchar *key)
{
	g_autoptr (GError) error = NULL;
	gchar *value;

	if (line_of (lf, key) == 0)
		return NULL;
	value = g_key_file_get_string (lf->keys, lf->group, key, &error);
	if (value == NULL) {
		complain (lf, line_of (lf, key), "%s: %s", key, error->message);
		return NULL;
	}
	return g_strstrip (value);
}

static gboolean
get_uint (LabFile *lf, const gchar *key, guint min, guint max, guint *out)
{
	g_autofree gchar *value = get_value (lf, key);
	guint64 parsed = 0;

	if (value == NULL)
		return FALSE;
	if (!g_ascii_string_to_unsigned (value, 10, min, max, &parsed, NULL)) {
		complain (lf,
			  line_of (lf, key),
			  "%s must be a whole number from %u to %u, not '%s'",
			  key,
			  min,
			  max,
			  value);
		return FALSE;
	}
	*out = (guint) parsed;
	return TRUE;
}

static void
read_values (LabFile *lf, NfLabPool *pool)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *start = NULL;
	g_autofree gchar *vlans = NULL;

	pool->name = get_value (lf, "Name");
	if (pool->name == NULL && line_of (lf, "Name") == 0)
		complain (lf, pool->line, "[Pool] has no Name; Name and Count are required");
	else if (pool->name != NULL && !nf_pool_name_validate (pool->name, &error))
		complain (lf, line_of (lf, "Name"), "Name '%s': %s", pool->name, error->message);
	g_clear_error (&error);
	if (line_of (lf, "Count") == 0)
		complain (lf, pool->line, "[Pool] has no Count; Name and Count are required");
	else
		get_uint (lf, "Count", 1, NF_POOL_COUNT_MAX, &pool->count);

	pool->profile = get_value (lf, "Profile");
	if (pool->profile != NULL && !nf_profile_name_validate (pool->profile, NULL))
		complain (lf, line_of (lf, "Profile"), "Profile '%s' is not a profile name", pool->profile);
	pool->image = get_value (lf, "Image");
	if (pool->image != NULL && (pool->image[0] == '\0' ||
				    (!g_path_is_absolute (pool->image) && strchr (pool->image, '/') != NULL)))
		complain (lf,
			  line_of (lf, "Image"),
			  "Image '%s' must be an absolute path or a volume name",
			  pool->image);
	get_uint (lf, "VCPUs", 1, NF_NODE_VCPUS_MAX, &pool->vcpus);
	get_uint (lf, "MemoryMiB", NF_NODE_MEMORY_MIB_MIN, NF_NODE_MEMORY_MIB_MAX, &pool->memory_mib);
	get_uint (lf, "DiskGiB", 1, NF_NODE_DISK_GIB_MAX, &pool->disk_gib);
	pool->trunk_bridge = get_value (lf, "TrunkBridge");
	if (pool->trunk_bridge != NULL &&
	    (pool->trunk_bridge[0] == '\0' || strlen (pool->trunk_bridge) > NF_BRIDGE_NAME_MAX ||
	     strspn (pool->trunk_bridge, NF_BRIDGE_NAME_CHARS) != strlen (pool->trunk_bridge)))
		complain (lf,
			  line_of (lf, "TrunkBridge"),
			  "TrunkBridge '%s' is not a bridge name: use 1 to %d characters of A-Z, a-z, 0-9, '_', '.' and '-'",
			  pool->trunk_bridge,
			  NF_BRIDGE_NAME_MAX);
	vlans = get_value (lf, "VLANs");
	if (vlans != NULL) {
		g_autoptr (NfVlanSet) set = nf_vlan_set_parse (vlans, &error);

		if (set == NULL)
			complain (lf, line_of (lf, "VLANs"), "VLANs '%s': %s", vlans, error->message);
		else
			pool->vlans = nf_vlan_set_to_string (set);
	}
	start = get_value (lf, "Start");
	if (start != NULL) {
		pool->start_set = TRUE;
		if (g_str_equal (start, "true") || g_str_equal (start, "1"))
			pool->start = TRUE;
		else if (!g_str_equal (start, "false") && !g_str_equal (start, "0"))
			complain (lf, line_of (lf, "Start"), "Start must be true or false, not '%s'", start);
	}
}

/* true/false (or 1/0) of @key into @value; FALSE when absent. */
static gboolean
get_bool (LabFile *lf, const gchar *key, gboolean *value)
{
	g_autofree gchar *text = get_value (lf, key);

	if (text == NULL)
		return FALSE;
	if (g_str_equal (text, "true") || g_str_equal (text, "1"))
		*value = TRUE;
	else if (g_str_equal (text, "false") || g_str_equal (text, "0"))
		*value = FALSE;
	else
		complain (lf, line_of (lf, key), "%s must be true or false, not '%s'", key, text);
	return TRUE;
}

/* @path as given, or beside the lab file when relative. */
static gchar *
beside_file (LabFile *lf, const gchar *path)
{
	g_autofree gchar *dir = NULL;

	if (g_path_is_absolute (path))
		return g_strdup (path);
	dir = g_path_get_dirname (lf->file);
	return g_build_filename (dir, path, NULL);
}

/* Hosts=h1;h2: the hosts its nodes may go on (CreatePool's hosts). */
static void
read_hosts (LabFile *lf, NfLabPool *pool)
{
	g_auto (GStrv) hosts = NULL;
	gsize n = 0;

	if (line_of (lf, "Hosts") == 0)
		return;
	hosts = g_key_file_get_string_list (lf->keys, lf->group, "Hosts", &n, NULL);
	if (hosts == NULL || n == 0) {
		complain (lf, line_of (lf, "Hosts"), "Hosts names no host; give host names, ';' between");
		return;
	}
	for (gsize i = 0; i < n; i++) {
		g_autoptr (GError) error = NULL;

		g_strstrip (hosts[i]);
		if (!nf_names_validate ("host", hosts[i], &error))
			complain (lf, line_of (lf, "Hosts"), "Hosts '%s': %s", hosts[i], error->message);
	}
	pool->hosts = g_steal_pointer (&hosts);
}

/* What the nodes' seeds and management NIC get; the files are read (and
 * their contents checked) when the pool is made. */
static void
read_node_values (LabFile *lf, NfLabPool *pool)
{
	g_autoptr (GError) error = NULL;
	g_auto (GStrv) keys = NULL;
	g_autofree gchar *user_data = get_value (lf, "UserData");
	gsize n = 0;

	if (line_of (lf, "SSHKeys") > 0) {
		keys = g_key_file_get_string_list (lf->keys, lf->group, "SSHKeys", &n, NULL);
		if (keys == NULL || n == 0)
			complain (lf,
				  line_of (lf, "SSHKeys"),
				  "SSHKeys names no file; give public key files, ';' between");
		for (gsize i = 0; keys != NULL && i < n; i++) {
			g_autofree gchar *path = keys[i];

			keys[i] = beside_file (lf, g_strstrip (path));
		}
		pool->ssh_key_files = g_steal_pointer (&keys);
	}
	pool->ssh_user = get_value (lf, "SSHUser");
	if (pool->ssh_user != NULL && !nf_seed_check_ssh_user (pool->ssh_user, &error))
		complain (lf, line_of (lf, "SSHUser"), "SSHUser: %s", error->message);
	if (user_data != NULL && user_data[0] == '\0')
		complain (lf, line_of (lf, "UserData"), "UserData names no file");
	else if (user_data != NULL)
		pool->user_data_file = beside_file (lf, user_data);
	pool->network = get_value (lf, "Network");
	if (pool->network != NULL &&
	    (pool->network[0] == '\0' || strlen (pool->network) > NF_LIBVIRT_NAME_MAX ||
	     strpbrk (pool->network, " /\t") != NULL))
		complain (lf,
			  line_of (lf, "Network"),
			  "Network '%s' is not a libvirt network name (1 to %d characters, no space or '/')",
			  pool->network,
			  NF_LIBVIRT_NAME_MAX);
	get_bool (lf, "WaitReady", &pool->wait_ready);
	read_hosts (lf, pool);
}

/* The line scan and GKeyFile's read of @text (@length bytes): the line of
 * its group, 0 when it cannot be used (said in the problems). */
static guint
load_text (LabFile *lf, const gchar *text, gsize length, const gchar *at_least)
{
	g_autoptr (GError) error = NULL;
	guint before = lf->problems->len;
	guint line;

	if (!g_utf8_validate_len (text, length, NULL)) {
		complain (lf, 0, "not UTF-8 text");
		return 0;
	}
	line = scan_lines (lf, text);
	if (line == 0) {
		if (lf->problems->len == before)
			complain (lf, 0, "no [%s] group; a lab file has one, with %s", lf->group, at_least);
		return 0;
	}
	/* the values too, so that one run shows every problem */
	if (!g_key_file_load_from_data (lf->keys, text, length, G_KEY_FILE_NONE, &error)) {
		/* the line scan has said where, as a rule */
		if (lf->problems->len == before)
			complain (lf, 0, "%s", error->message);
		return 0;
	}
	return line;
}

/* One host file's text, as parse_text's. */
static NfLabHost *
parse_host_text (const gchar *file, const gchar *text, gsize length, GPtrArray *problems)
{
	g_autoptr (NfLabHost) host = g_new0 (NfLabHost, 1);
	g_autoptr (GKeyFile) keys = g_key_file_new ();
	g_autoptr (GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr (GError) error = NULL;
	LabFile lf = {file, keys, lines, problems, HOST_GROUP, host_keys, "Name and URI"};
	guint before = problems->len;

	host->file = g_strdup (file);
	host->line = load_text (&lf, text, length, "Name and URI");
	if (host->line == 0)
		return NULL;
	host->name = get_value (&lf, "Name");
	host->uri = get_value (&lf, "URI");
	host->peer_uri = get_value (&lf, "PeerURI");
	if (line_of (&lf, "Name") == 0 || line_of (&lf, "URI") == 0)
		complain (&lf, host->line, "[Host] needs both Name and URI");
	if (host->name != NULL && !nf_names_validate ("host", host->name, &error))
		complain (&lf, line_of (&lf, "Name"), "Name '%s': %s", host->name, error->message);
	if (host->uri != NULL && (host->uri[0] == '\0' || strpbrk (host->uri, " \t") != NULL))
		complain (&lf, line_of (&lf, "URI"), "URI '%s' is not a libvirt URI", host->uri);
	if (host->peer_uri != NULL && (host->peer_uri[0] == '\0' || strpbrk (host->peer_uri, " \t") != NULL))
		complain (&lf, line_of (&lf, "PeerURI"), "PeerURI '%s' is not a libvirt URI", host->peer_uri);
	if (problems->len > before)
		return NULL;
	return g_steal_pointer (&host);
}

/* One file's text: @length bytes, NUL-terminated after them. */
static NfLabPool *
parse_text (const gchar *file, const gchar *text, gsize length, GPtrArray *problems)
{
	g_autoptr (NfLabPool) pool = g_new0 (NfLabPool, 1);
	g_autoptr (GKeyFile) keys = g_key_file_new ();
	g_autoptr (GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	LabFile lf = {file, keys, lines, problems, LAB_GROUP, lab_keys, LAB_KEYS_SHOWN};
	guint before = problems->len;

	pool->file = g_strdup (file);
	pool->line = load_text (&lf, text, length, "at least Name and Count");
	if (pool->line == 0)
		return NULL;
	read_values (&lf, pool);
	read_node_values (&lf, pool);
	if (problems->len > before)
		return NULL;
	return g_steal_pointer (&pool);
}

/* @file's text (NUL after its @length bytes), or NULL with the problem. */
static gchar *
read_text (const gchar *file, gsize *length, GPtrArray *problems)
{
	g_autoptr (GError) error = NULL;
	gchar *text = NULL;

	if (!g_file_get_contents (file, &text, length, &error))
		g_ptr_array_add (problems, g_strdup_printf ("%s: %s", file, error->message));
	return text;
}

static NfLabPool *
load_file (const gchar *file, GPtrArray *problems)
{
	gsize length = 0;
	g_autofree gchar *text = read_text (file, &length, problems);

	return text != NULL ? parse_text (file, text, length, problems) : NULL;
}

/* Every problem, one per line, as one NF_ERROR_INVALID_ARGUMENT. */
static void
set_problems_error (GPtrArray *problems, GError **error)
{
	g_autofree gchar *all = NULL;

	g_ptr_array_add (problems, NULL);
	all = g_strjoinv ("\n", (gchar **) problems->pdata);
	g_ptr_array_remove_index (problems, problems->len - 1);
	g_set_error_literal (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT, all);
}

NfLabPool *
nf_cli_lab_file_parse (const gchar *file, const gchar *text, gsize length, GError **error)
{
	g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
	NfLabPool *pool;

	g_return_val_if_fail (file != NULL, NULL);
	g_return_val_if_fail (text != NULL && text[length] == '\0', NULL);

	pool = parse_text (file, text, length, problems);
	if (pool == NULL)
		set_problems_error (problems, error);
	return pool;
}

NfLabHost *
nf_cli_lab_file_parse_host (const gchar *file, const gchar *text, gsize length, GError **error)
{
	g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
	NfLabHost *host;

	g_return_val_if_fail (file != NULL, NULL);
	g_return_val_if_fail (text != NULL && text[length] == '\0', NULL);

	host = parse_host_text (file, text, length, problems);
	if (host == NULL)
		set_problems_error (problems, error);
	return host;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
	return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* The files of @path ending in @suffix: @path itself when it is a file
 * named so (another file is a pool file), or those of the directory in
 * name order (maybe none). */
static GPtrArray *
list_files (const gchar *path, const gchar *suffix, GError **error)
{
	g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GDir) dir = NULL;
	const gchar *entry;

	if (!g_file_test (path, G_FILE_TEST_IS_DIR)) {
		if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_NOT_FOUND,
				     "%s: no such file or directory",
				     path);
			return NULL;
		}
		if (g_str_has_suffix (path, ".host") == g_str_equal (suffix, ".host"))
			g_ptr_array_add (files, g_strdup (path));
		return g_steal_pointer (&files);
	}
	dir = g_dir_open (path, 0, error);
	if (dir == NULL)
		return NULL;
	while ((entry = g_dir_read_name (dir)) != NULL) {
		if (g_str_has_suffix (entry, suffix))
			g_ptr_array_add (files, g_strdup (entry));
	}
	g_ptr_array_sort (files, compare_names);
	for (guint i = 0; i < files->len; i++) {
		gchar *full = g_build_filename (path, files->pdata[i], NULL);

		g_free (files->pdata[i]);
		files->pdata[i] = full;
	}
	return g_steal_pointer (&files);
}

static NfLabHost *
load_host_file (const gchar *file, GPtrArray *problems)
{
	gsize length = 0;
	g_autofree gchar *text = read_text (file, &length, problems);

	return text != NULL ? parse_host_text (file, text, length, problems) : NULL;
}

GPtrArray *
nf_cli_lab_file_load_hosts (const gchar *path, GError **error)
{
	g_autoptr (GPtrArray) files = list_files (path, ".host", error);
	g_autoptr (GPtrArray) hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_lab_host_free);
	g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);

	if (files == NULL)
		return NULL;
	for (guint i = 0; i < files->len; i++) {
		NfLabHost *host = load_host_file (g_ptr_array_index (files, i), problems);

		for (guint j = 0; host != NULL && j < hosts->len; j++) {
			NfLabHost *twin = g_ptr_array_index (hosts, j);

			if (!g_str_equal (twin->name, host->name) && !g_str_equal (twin->uri, host->uri))
				continue;
			g_ptr_array_add (problems,
					 g_strdup_printf ("%s:%u: host '%s' (%s) is also defined in %s",
							  host->file,
							  host->line,
							  host->name,
							  host->uri,
							  twin->file));
			g_clear_pointer (&host, nf_lab_host_free);
		}
		if (host != NULL)
			g_ptr_array_add (hosts, host);
	}
	if (problems->len > 0) {
		set_problems_error (problems, error);
		return NULL;
	}
	return g_steal_pointer (&hosts);
}

GPtrArray *
nf_cli_lab_file_load (const gchar *path, GError **error)
{
	g_autoptr (GPtrArray) files = list_files (path, ".pool", error);
	g_autoptr (GPtrArray) pools = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_lab_pool_free);
	g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

	if (files == NULL)
		return NULL;
	if (files->len == 0 && g_file_test (path, G_FILE_TEST_IS_DIR)) {
		g_autoptr (GPtrArray) host_files = list_files (path, ".host", NULL);

		if (host_files == NULL || host_files->len == 0) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_NOT_FOUND,
				     "%s has no *.pool or *.host files",
				     path);
			return NULL;
		}
	}
	for (guint i = 0; i < files->len; i++) {
		NfLabPool *pool = load_file (g_ptr_array_index (files, i), problems);
		NfLabPool *twin;

		if (pool == NULL)
			continue;
		twin = g_hash_table_lookup (names, pool->name);
		if (twin != NULL) {
			g_ptr_array_add (problems,
					 g_strdup_printf ("%s:%u: pool '%s' is also defined in %s",
							  pool->file,
							  pool->line,
							  pool->name,
							  twin->file));
			nf_lab_pool_free (pool);
			continue;
		}
		g_hash_table_insert (names, pool->name, pool);
		g_ptr_array_add (pools, pool);
	}
	if (problems->len > 0) {
		set_problems_error (problems, error);
		return NULL;
	}
	return g_steal_pointer (&pools);
}
