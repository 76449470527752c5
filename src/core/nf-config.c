/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-config"

#include "config.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "nestfarm/nf-config.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-template.h"

/* Reads nestfarmd.conf: every key checked against its documented range, and
 * each refusal one sentence naming the file, line, key and what is accepted. */

#define NF_OVERCOMMIT_MAX 10.0
#define NF_QUOTE_MAX      80 /* characters of a bad value quoted back */

/* What the name keys accept, in the words of a refusal, from nf-limits.h. */
#define NF_UP_TO(max)           "1 to " G_STRINGIFY (max) " characters of "
#define NF_LIBVIRT_NAME_ACCEPTS NF_UP_TO (NF_LIBVIRT_NAME_MAX) "A-Z, a-z, 0-9, '_', '.' and '-'"
#define NF_BRIDGE_NAME_ACCEPTS  NF_UP_TO (NF_BRIDGE_NAME_MAX) "A-Z, a-z, 0-9, '_', '.' and '-'"
#define NF_PROFILE_NAME_ACCEPTS NF_UP_TO (NF_PROFILE_NAME_MAX) "a-z, 0-9 and '-'"
#define NF_POOL_NAME_ACCEPTS    NF_UP_TO (NF_POOL_NAME_MAX) "a-z, 0-9 and '-', starting with a letter"

guint
nf_config_auto_parallelism (void)
{
	guint cpus = g_get_num_processors ();

	return MAX (1, MIN (2 * cpus, NF_CONFIG_PARALLELISM_AUTO_MAX));
}

guint
nf_config_auto_boots_at_once (void)
{
	return MAX (1, MIN (g_get_num_processors (), NF_CONFIG_BOOTS_AT_ONCE_MAX));
}

NfConfig *
nf_config_new_defaults (void)
{
	NfConfig *config = g_new0 (NfConfig, 1);

	config->libvirt_uri = g_strdup (NF_DEFAULT_LIBVIRT_URI);
	config->state_dir = g_strdup (NF_STATEDIR);
	config->default_profile = g_strdup (NF_DEFAULT_PROFILE);
	config->trunk_bridge = g_strdup ("nftrunk0");
	config->parallelism = nf_config_auto_parallelism ();
	config->boots_at_once = 0;
	config->memory_reserve_mib = 2048;
	config->overcommit = 1.0;
	config->shutdown_timeout_s = 30;
	config->engine = nf_engine_config_new ();
	config->mgmt_network = g_strdup (NF_MGMT_NETWORK_DEFAULT);
	config->engine->mgmt_network = g_strdup (NF_MGMT_NETWORK_DEFAULT);
	return config;
}

void
nf_config_free (NfConfig *config)
{
	if (config == NULL)
		return;
	g_free (config->path);
	g_free (config->libvirt_uri);
	g_free (config->state_dir);
	g_free (config->default_image);
	g_free (config->default_profile);
	g_free (config->trunk_bridge);
	g_free (config->mgmt_network);
	nf_engine_config_free (config->engine);
	g_free (config);
}

/* Value checks: each says only whether @value is acceptable. */

static gboolean
parse_uint (const gchar *value, guint64 min, guint64 max, guint64 *out)
{
	return g_ascii_string_to_unsigned (value, 10, min, max, out, NULL);
}

static gboolean
is_absolute_path (const gchar *value)
{
	return g_path_is_absolute (value);
}

/* libvirt pool, network and volume names, and Linux interface names. */
static gboolean
is_simple_name (const gchar *value, gsize max)
{
	gsize len = strlen (value);

	if (len == 0 || len > max || g_str_equal (value, ".") || g_str_equal (value, ".."))
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum (value[i]) && strchr ("_.-", value[i]) == NULL)
			return FALSE;
	}
	return TRUE;
}

/* As the OVSDB client reads it: a socket path, unix:PATH or tcp:IP:PORT. */
static gboolean
is_ovsdb_address (const gchar *value)
{
	const gchar *colon;
	g_autofree gchar *host = NULL;
	g_autoptr (GInetAddress) inet = NULL;
	guint64 port = 0;

	if (g_path_is_absolute (value))
		return TRUE;
	if (g_str_has_prefix (value, "unix:"))
		return g_path_is_absolute (value + 5);
	if (!g_str_has_prefix (value, "tcp:") || (colon = strrchr (value + 4, ':')) == NULL)
		return FALSE;
	host = g_strndup (value + 4, (gsize) (colon - (value + 4)));
	if (host[0] == '[' && g_str_has_suffix (host, "]")) {
		memmove (host, host + 1, strlen (host) - 2);
		host[strlen (host) - 2] = '\0';
	}
	inet = g_inet_address_new_from_string (host);
	return inet != NULL && parse_uint (colon + 1, 1, 65535, &port);
}

/* Setters: each checks @value and stores it. */

static void
set_string (gchar **field, const gchar *value)
{
	g_free (*field);
	*field = g_strdup (value);
}

/* Empty means "none". */
static void
set_optional_string (gchar **field, const gchar *value)
{
	set_string (field, value[0] != '\0' ? value : NULL);
}

static gboolean
set_path (gchar **field, const gchar *value)
{
	if (!is_absolute_path (value))
		return FALSE;
	set_string (field, value);
	return TRUE;
}

/* GUri lets spaces through; libvirt would not. */
static gboolean
is_libvirt_uri (const gchar *value)
{
	for (const gchar *p = value; *p != '\0'; p++) {
		if (!g_ascii_isgraph (*p))
			return FALSE;
	}
	return g_uri_is_valid (value, G_URI_FLAGS_NONE, NULL);
}

static gboolean
set_libvirt_uri (NfConfig *config, const gchar *value)
{
	if (!is_libvirt_uri (value))
		return FALSE;
	set_string (&config->libvirt_uri, value);
	return TRUE;
}

static gboolean
set_state_dir (NfConfig *config, const gchar *value)
{
	return set_path (&config->state_dir, value);
}

static gboolean
set_storage_pool (NfConfig *config, const gchar *value)
{
	if (!is_simple_name (value, NF_LIBVIRT_NAME_MAX))
		return FALSE;
	set_string (&config->engine->storage_pool, value);
	return TRUE;
}

static gboolean
set_storage_dir (NfConfig *config, const gchar *value)
{
	return set_path (&config->engine->storage_path, value);
}

static gboolean
set_console_dir (NfConfig *config, const gchar *value)
{
	return set_path (&config->engine->console_dir, value);
}

static gboolean
set_template_dir (NfConfig *config, const gchar *value)
{
	return set_path (&config->engine->template_dir, value);
}

static gboolean
set_default_image (NfConfig *config, const gchar *value)
{
	if (value[0] != '\0' && !is_absolute_path (value) && !is_simple_name (value, NF_VOLUME_NAME_MAX))
		return FALSE;
	set_optional_string (&config->default_image, value);
	return TRUE;
}

static gboolean
set_default_profile (NfConfig *config, const gchar *value)
{
	if (!nf_profile_name_validate (value, NULL))
		return FALSE;
	set_string (&config->default_profile, value);
	return TRUE;
}

static gboolean
set_instance (NfConfig *config, const gchar *value)
{
	if (value[0] != '\0' && !nf_pool_name_validate (value, NULL))
		return FALSE;
	set_optional_string (&config->engine->instance, value);
	return TRUE;
}

static gboolean
set_trunk_bridge (NfConfig *config, const gchar *value)
{
	if (!is_simple_name (value, NF_BRIDGE_NAME_MAX))
		return FALSE;
	set_string (&config->trunk_bridge, value);
	return TRUE;
}

static gboolean
set_datapath (NfConfig *config, const gchar *value)
{
	if (!g_str_equal (value, "system") && !g_str_equal (value, "netdev"))
		return FALSE;
	set_string (&config->engine->datapath, value);
	return TRUE;
}

static gboolean
set_mgmt_network (NfConfig *config, const gchar *value)
{
	if (value[0] != '\0' && !is_simple_name (value, NF_LIBVIRT_NAME_MAX))
		return FALSE;
	set_optional_string (&config->mgmt_network, value);
	set_optional_string (&config->engine->mgmt_network, value);
	return TRUE;
}

static gboolean
set_mgmt_network_mode (NfConfig *config, const gchar *value)
{
	if (!g_str_equal (value, "nat") && !g_str_equal (value, "isolated"))
		return FALSE;
	config->engine->mgmt_isolated = g_str_equal (value, "isolated");
	return TRUE;
}

static gboolean
set_accelerator (NfConfig *config, const gchar *value)
{
	return nf_accel_from_string (value, &config->engine->accel, NULL);
}

static gboolean
set_parallelism (NfConfig *config, const gchar *value)
{
	guint64 number = 0;

	if (!parse_uint (value, 0, NF_CONFIG_PARALLELISM_MAX, &number))
		return FALSE;
	config->parallelism = number == 0 ? nf_config_auto_parallelism () : (guint) number;
	return TRUE;
}

static gboolean
set_boots_at_once (NfConfig *config, const gchar *value)
{
	guint64 number = 0;

	if (g_str_equal (value, "auto")) {
		config->boots_at_once = nf_config_auto_boots_at_once ();
		return TRUE;
	}
	if (!parse_uint (value, 0, NF_CONFIG_BOOTS_AT_ONCE_MAX, &number))
		return FALSE;
	config->boots_at_once = (guint) number;
	return TRUE;
}

static gboolean
set_memory_reserve (NfConfig *config, const gchar *value)
{
	return parse_uint (value, 0, 1024 * 1024, &config->memory_reserve_mib);
}

static gboolean
set_overcommit (NfConfig *config, const gchar *value)
{
	gchar *end = NULL;
	gdouble number = g_ascii_strtod (value, &end);

	if (end == value || *end != '\0' || !isfinite (number) || number <= 0 || number > NF_OVERCOMMIT_MAX)
		return FALSE;
	config->overcommit = number;
	return TRUE;
}

static gboolean
set_shutdown_timeout (NfConfig *config, const gchar *value)
{
	guint64 number = 0;

	if (!parse_uint (value, 1, NF_SHUTDOWN_TIMEOUT_MAX, &number))
		return FALSE;
	config->shutdown_timeout_s = (guint) number;
	return TRUE;
}

static gboolean
set_mac_aging_time (NfConfig *config, const gchar *value)
{
	guint64 number = 0;

	if (!parse_uint (value, 0, 86400, &number))
		return FALSE;
	config->engine->mac_aging_seconds = (guint) number;
	return TRUE;
}

static gboolean
set_mac_table_size (NfConfig *config, const gchar *value)
{
	guint64 number = 0;

	if (!parse_uint (value, 0, 1024 * 1024, &number))
		return FALSE;
	config->engine->mac_table_size = (guint) number;
	return TRUE;
}

static gboolean
set_ovs_timeout (NfConfig *config, const gchar *value)
{
	guint64 number = 0;

	if (!parse_uint (value, 1, 120, &number))
		return FALSE;
	config->engine->ovs_timeout_ms = (guint) number * 1000;
	return TRUE;
}

static gboolean
set_ovs_database (NfConfig *config, const gchar *value)
{
	if (value[0] != '\0' && !is_ovsdb_address (value))
		return FALSE;
	set_optional_string (&config->engine->ovs_db, value);
	return TRUE;
}

static gboolean
set_ovn_northbound (NfConfig *config, const gchar *value)
{
	if (value[0] != '\0' && !is_ovsdb_address (value))
		return FALSE;
	set_optional_string (&config->engine->ovn_northbound, value);
	return TRUE;
}

static gboolean
set_rebalance_interval (NfConfig *config, const gchar *value)
{
	guint64 number = 0;

	if (!parse_uint (value, 0, NF_REBALANCE_INTERVAL_MAX, &number) || (number > 0 && number < 60))
		return FALSE;
	config->rebalance_interval_s = (guint) number;
	return TRUE;
}

static gboolean
set_cpu_mode (NfConfig *config, const gchar *value)
{
	return nf_cpu_mode_from_string (value, &config->engine->cpu_mode);
}

typedef struct {
	const gchar *name;
	gboolean (*set) (NfConfig *config, const gchar *value);
	const gchar *accepted; /* ends "...is not valid; use %s." */
} NfConfigKey;

/* In the order systemd/nestfarmd.conf.in documents them. */
static const NfConfigKey config_keys[] = {
	{"LibvirtURI", set_libvirt_uri, "a libvirt connection URI such as " NF_DEFAULT_LIBVIRT_URI},
	{"StateDirectory", set_state_dir, "an absolute path"},
	{"Instance", set_instance, "nothing for the default, or a name such as lab2: " NF_POOL_NAME_ACCEPTS},
	{"StoragePool", set_storage_pool, "a libvirt storage pool name: " NF_LIBVIRT_NAME_ACCEPTS},
	{"StorageDirectory", set_storage_dir, "an absolute path"},
	{"ConsoleLogDirectory", set_console_dir, "an absolute path"},
	{"TemplateDirectory", set_template_dir, "an absolute path"},
	{"DefaultImage",
	 set_default_image,
	 "an absolute path, a volume name of the storage pool, or nothing for none"},
	{"DefaultProfile",
	 set_default_profile,
	 "a profile name such as " NF_DEFAULT_PROFILE ": " NF_PROFILE_NAME_ACCEPTS},
	{"TrunkBridge", set_trunk_bridge, "a bridge name: " NF_BRIDGE_NAME_ACCEPTS},
	{"ManagementNetwork",
	 set_mgmt_network,
	 "a libvirt network name such as " NF_MGMT_NETWORK_DEFAULT " (made when missing), or nothing for no "
	 "management NIC"},
	{"ManagementNetworkMode", set_mgmt_network_mode, "nat or isolated"},
	{"Accelerator", set_accelerator, "auto, kvm or emulated"},
	{"Parallelism", set_parallelism, "1 to 64, or 0 for automatic (two per CPU, at most 16)"},
	{"BootsAtOnce",
	 set_boots_at_once,
	 "auto (one per CPU), 1 to " G_STRINGIFY (NF_CONFIG_BOOTS_AT_ONCE_MAX) ", or 0 for no pacing"},
	{"MemoryReserveMiB", set_memory_reserve, "0 to 1048576 (MiB)"},
	{"Overcommit", set_overcommit, "a number above 0 and at most 10, such as 1.5"},
	{"ShutdownTimeout", set_shutdown_timeout, "1 to " G_STRINGIFY (NF_SHUTDOWN_TIMEOUT_MAX) " (seconds)"},
	{"Datapath", set_datapath, "system or netdev"},
	{"MacAgingTime", set_mac_aging_time, "1 to 86400 (seconds), or 0 for Open vSwitch's default"},
	{"MacTableSize", set_mac_table_size, "1 to 1048576 (entries), or 0 for Open vSwitch's default"},
	{"OvsTimeout", set_ovs_timeout, "1 to 120 (seconds)"},
	{"OvsDatabase", set_ovs_database, "unix:PATH, tcp:IP:PORT, or nothing for the default socket"},
	{"OvnNorthbound",
	 set_ovn_northbound,
	 "OVN's northbound database as unix:PATH or tcp:IP:PORT, or nothing for none (each host's own trunk bridge)"},
	{"CPUMode",
	 set_cpu_mode,
	 "passthrough (nodes get their host's CPU and stay there) or baseline (one CPU model every host can run, "
	 "so nodes can move)"},
	{"RebalanceInterval",
	 set_rebalance_interval,
	 "0 for none, or 60 to " G_STRINGIFY (
		 NF_REBALANCE_INTERVAL_MAX) " (seconds between rebalance passes)"},
};

static const NfConfigKey *
lookup_key (const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++) {
		if (g_str_equal (config_keys[i].name, name))
			return &config_keys[i];
	}
	return NULL;
}

static gchar *
known_keys (void)
{
	g_autoptr (GString) text = g_string_new (NULL);

	for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++)
		g_string_append_printf (text, "%s%s", i > 0 ? ", " : "", config_keys[i].name);
	return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Text from the file as a message may quote it: UTF-8, not too long. */
static gchar *
quotable (const gchar *text)
{
	g_autofree gchar *valid = g_utf8_make_valid (text, -1);
	g_autofree gchar *head = NULL;

	if (g_utf8_strlen (valid, -1) <= NF_QUOTE_MAX)
		return g_steal_pointer (&valid);
	head = g_utf8_substring (valid, 0, NF_QUOTE_MAX);
	return g_strconcat (head, "...", NULL);
}

/* "FILE line N" (or "FILE" where the line was not found). */
static gchar *
where (const gchar *path, guint line)
{
	if (line == 0)
		return g_strdup (path);
	return g_strdup_printf ("%s line %u", path, line);
}

/* GKeyFile keeps no line numbers, so find them in the text as GKeyFile
 * reads it: the line of [@group] (its first), or of @key in @group (the
 * last, as the last one wins). 0: not found. */
static guint
find_line (const gchar *text, const gchar *group, const gchar *key)
{
	g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
	g_autofree gchar *current = NULL;
	guint found = 0;

	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *line = g_strstrip (lines[i]);
		gchar *end;

		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[0] == '[') {
			end = strchr (line, ']');
			g_clear_pointer (&current, g_free);
			if (end != NULL)
				current = g_strndup (line + 1, (gsize) (end - line - 1));
			if (key == NULL && found == 0 && g_strcmp0 (current, group) == 0)
				found = i + 1;
			continue;
		}
		end = strchr (line, '=');
		if (key == NULL || end == NULL || g_strcmp0 (current, group) != 0)
			continue;
		*end = '\0';
		if (g_str_equal (g_strchomp (line), key))
			found = i + 1;
	}
	return found;
}

/* GKeyFile's own syntax errors carry no line: find the first line that is
 * not a comment, a [Group] or a Key=value, or a key before any group. */
static gboolean
check_syntax (const gchar *path, const gchar *text, GError **error)
{
	g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
	gboolean in_group = FALSE;

	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *line = g_strstrip (lines[i]);
		g_autofree gchar *shown = NULL;

		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[0] == '[' && strchr (line, ']') != NULL) {
			in_group = TRUE;
			continue;
		}
		shown = quotable (line);
		if (line[0] == '=' || strchr (line, '=') == NULL) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "%s line %u: '%s' is neither a [Group], a Key=value nor a # comment.",
				     path,
				     i + 1,
				     shown);
			return FALSE;
		}
		if (!in_group) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "%s line %u: '%s' comes before any group; put it under [%s].",
				     path,
				     i + 1,
				     shown,
				     NF_CONFIG_GROUP);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
apply_key_file (NfConfig *config, GKeyFile *keyfile, const gchar *path, const gchar *text, GError **error)
{
	g_auto (GStrv) groups = g_key_file_get_groups (keyfile, NULL);
	g_auto (GStrv) keys = NULL;

	for (guint i = 0; groups[i] != NULL; i++) {
		g_autofree gchar *at = NULL;
		g_autofree gchar *name = NULL;

		if (g_str_equal (groups[i], NF_CONFIG_GROUP))
			continue;
		at = where (path, find_line (text, groups[i], NULL));
		name = quotable (groups[i]);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "%s: unknown group [%s]; every setting goes under [%s].",
			     at,
			     name,
			     NF_CONFIG_GROUP);
		return FALSE;
	}

	keys = g_key_file_get_keys (keyfile, NF_CONFIG_GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const NfConfigKey *key = lookup_key (keys[i]);
		g_autofree gchar *at = where (path, find_line (text, NF_CONFIG_GROUP, keys[i]));
		g_autofree gchar *value = NULL;
		g_autoptr (GError) error_local = NULL;

		if (key == NULL) {
			g_autofree gchar *names = known_keys ();
			g_autofree gchar *name = quotable (keys[i]);

			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "%s: unknown key %s in [%s]; the keys are %s.",
				     at,
				     name,
				     NF_CONFIG_GROUP,
				     names);
			return FALSE;
		}
		value = g_key_file_get_string (keyfile, NF_CONFIG_GROUP, keys[i], &error_local);
		if (value == NULL) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "%s: %s in [%s] is not UTF-8 text or has a bad escape; use %s.",
				     at,
				     key->name,
				     NF_CONFIG_GROUP,
				     key->accepted);
			return FALSE;
		}
		g_strstrip (value);
		if (!key->set (config, value)) {
			g_autofree gchar *shown = quotable (value);

			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "%s: %s='%s' in [%s] is not valid; use %s.",
				     at,
				     key->name,
				     shown,
				     NF_CONFIG_GROUP,
				     key->accepted);
			return FALSE;
		}
	}
	return TRUE;
}

NfConfig *
nf_config_load (const gchar *path, gboolean missing_ok, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *text = NULL;
	gsize len = 0;

	g_return_val_if_fail (path != NULL, NULL);

	if (!g_file_get_contents (path, &text, &len, &error_local)) {
		if (g_error_matches (error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			if (missing_ok)
				return nf_config_new_defaults ();
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_NOT_FOUND,
				     "The configuration file %s does not exist; give an existing file or leave --config out.",
				     path);
			return NULL;
		}
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot read the configuration file: %s.",
			     error_local->message);
		return NULL;
	}
	return nf_config_load_data (path, text, len, error);
}

NfConfig *
nf_config_load_data (const gchar *path, const gchar *text, gsize len, GError **error)
{
	g_autoptr (NfConfig) config = nf_config_new_defaults ();
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (GError) error_local = NULL;

	g_return_val_if_fail (path != NULL, NULL);
	g_return_val_if_fail (text != NULL, NULL);
	g_return_val_if_fail (text[len] == '\0', NULL);

	if (!check_syntax (path, text, error))
		return NULL;
	if (!g_key_file_load_from_data (keyfile, text, len, G_KEY_FILE_NONE, &error_local)) {
		/* GKeyFile quotes the offending text raw: never quote bytes back */
		g_autofree gchar *reason = g_utf8_make_valid (error_local->message, -1);

		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "%s is not a valid configuration file: %s.",
			     path,
			     reason);
		return NULL;
	}
	if (!apply_key_file (config, keyfile, path, text, error))
		return NULL;
	config->path = g_strdup (path);
	return g_steal_pointer (&config);
}
