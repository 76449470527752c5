/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-request"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-ovn.h"
#include "nestfarm/nf-seed.h"
#include "nestfarm/nf-template.h"
#include "nestfarm/nf-vlan.h"
#include "nestfarm/nf-snapshot.h"
#include "nf-request.h"

/* Validation of what callers send, before anyone is asked for permission
 * and before anything changes. Every refusal says what to fix. What only
 * the host can answer (profile, image, memory) is nf-create-check.c's. */

typedef struct {
	const gchar *key;
	const gchar *type;
} OptionRule;

static const OptionRule create_options[] = {
	{"profile", "s"},
	{"image", "s"},
	{"vcpus", "u"},
	{"memory-mib", "u"},
	{"disk-gib", "u"},
	{"trunk-bridge", "s"},
	{"vlans", "s"},
	{"start", "b"},
	{"ssh-user", "s"},
	{"ssh-keys", "as"},
	{"user-data", "s"},
	{"network", "s"},
	{"hosts", "as"},
};

static const OptionRule stop_options[] = {
	{"force", "b"},
	{"shutdown-timeout", "u"},
};

static const OptionRule snapshot_options[] = {
	{"memory", "b"},
};

static gboolean
check_options (GVariant *options, const OptionRule *rules, gsize n_rules, GError **error)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	if (options == NULL)
		return TRUE;
	g_variant_iter_init (&iter, options);
	while (g_variant_iter_loop (&iter, "{&sv}", &key, &value)) {
		gboolean known = FALSE;

		for (gsize i = 0; i < n_rules; i++) {
			if (g_strcmp0 (key, rules[i].key) != 0)
				continue;
			known = TRUE;
			if (!g_variant_is_of_type (value, G_VARIANT_TYPE (rules[i].type))) {
				g_set_error (error,
					     NF_ERROR,
					     NF_ERROR_INVALID_ARGUMENT,
					     "The option '%s' must be of type '%s', not '%s'.",
					     key,
					     rules[i].type,
					     g_variant_get_type_string (value));
				g_variant_unref (value);
				return FALSE;
			}
		}
		if (!known) {
			g_autoptr (GString) valid = g_string_new (NULL);
			g_autofree gchar *shown = g_utf8_make_valid (key, MIN (strlen (key), 64));

			for (gsize i = 0; i < n_rules; i++)
				g_string_append_printf (valid, "%s%s", i > 0 ? ", " : "", rules[i].key);
			if (n_rules == 0)
				g_set_error (error,
					     NF_ERROR,
					     NF_ERROR_INVALID_ARGUMENT,
					     "Unknown option '%s'; this call takes none.",
					     shown);
			else
				g_set_error (error,
					     NF_ERROR,
					     NF_ERROR_INVALID_ARGUMENT,
					     "Unknown option '%s'; the options are: %s.",
					     shown,
					     valid->str);
			g_variant_unref (value);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
check_range (const gchar *what, guint value, guint min, guint max, const gchar *unit, GError **error)
{
	if (value >= min && value <= max)
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INVALID_ARGUMENT,
		     "%s must be from %u to %u%s, not %u.",
		     what,
		     min,
		     max,
		     unit,
		     value);
	return FALSE;
}

gboolean
nf_request_check_count (guint count, guint min, GError **error)
{
	return check_range ("The node count", count, min, NF_POOL_COUNT_MAX, "", error);
}

gboolean
nf_request_check_image (const gchar *image, GError **error)
{
	gsize len = strnlen (image, NF_IMAGE_PATH_MAX + 1);

	if (len == 0) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "No base image was given and none is configured; pass an image (a qcow2 or raw file, or a "
				     "volume name) or set DefaultImage in nestfarmd.conf.");
		return FALSE;
	}
	if (len > NF_IMAGE_PATH_MAX || !g_utf8_validate (image, -1, NULL)) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The image name is not a usable path; give an absolute path or a volume name.");
		return FALSE;
	}
	for (const gchar *p = image; *p != '\0'; p++) {
		if (g_ascii_iscntrl (*p)) {
			g_set_error_literal (error,
					     NF_ERROR,
					     NF_ERROR_INVALID_ARGUMENT,
					     "The image path has a control character; give a plain absolute path.");
			return FALSE;
		}
	}
	if (image[0] != '/' && strchr (image, '/') != NULL) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The image must be an absolute path or the name of a volume in nestfarm's storage pool.");
		return FALSE;
	}
	return TRUE;
}

gboolean
nf_request_check_bridge (const gchar *bridge, GError **error)
{
	gsize len = strnlen (bridge, NF_BRIDGE_NAME_MAX + 1);
	gboolean ok = len >= 1 && len <= NF_BRIDGE_NAME_MAX && bridge[0] != '-';

	for (gsize i = 0; ok && i < len; i++) {
		gchar c = bridge[i];

		ok = g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.';
	}
	if (!ok)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The trunk bridge name must be 1 to %d characters of A-Z, a-z, 0-9, '-', '_' and '.'.",
			     NF_BRIDGE_NAME_MAX);
	return ok;
}

/* A libvirt network name as libvirt takes one and nestfarm can put into
 * XML and metadata unchanged: printable, no '/', at most 64 bytes. */
static gboolean
check_network (const gchar *network, GError **error)
{
	gsize len = strnlen (network, NF_LIBVIRT_NAME_MAX + 1);
	gboolean ok = len >= 1 && len <= NF_LIBVIRT_NAME_MAX && g_utf8_validate (network, -1, NULL);

	for (gsize i = 0; ok && i < len; i++)
		ok = g_ascii_isgraph (network[i]) && network[i] != '/';
	if (!ok)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The network must be a libvirt network name: 1 to %d printable ASCII characters, no "
			     "space or '/'.",
			     NF_LIBVIRT_NAME_MAX);
	return ok;
}

/* What the nodes' cloud-init seeds carry, checked as nf-seed checks it:
 * each refusal names the bad value and why. */
static gboolean
parse_seed (GVariant *options, NfPoolSpec *spec, GError **error)
{
	const gchar *s;
	g_autofree const gchar **keys = NULL;

	if (g_variant_lookup (options, "ssh-user", "&s", &s)) {
		if (!nf_seed_check_ssh_user (s, error))
			return FALSE;
		spec->ssh_user = g_strdup (s);
	}
	if (g_variant_lookup (options, "ssh-keys", "^a&s", &keys)) {
		if (g_strv_length ((gchar **) keys) > NF_SSH_KEYS_MAX) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "ssh-keys: %u keys are too many; give at most %d.",
				     g_strv_length ((gchar **) keys),
				     NF_SSH_KEYS_MAX);
			return FALSE;
		}
		for (guint i = 0; keys[i] != NULL; i++) {
			if (!nf_seed_check_ssh_key (keys[i], error)) {
				g_prefix_error (error, "ssh-keys[%u]: ", i);
				return FALSE;
			}
		}
		spec->ssh_keys = g_strdupv ((gchar **) keys);
	}
	if (g_variant_lookup (options, "user-data", "&s", &s)) {
		if (!nf_seed_check_user_data (s, strlen (s), error))
			return FALSE;
		spec->user_data = g_strdup (s);
	}
	return TRUE;
}

/* hosts: names of the pool-name rules, at least one, no repeats (whether
 * they are the farm's is the manager's to say). */
static gboolean
parse_hosts (GVariant *options, NfPoolSpec *spec, GError **error)
{
	g_autofree const gchar **hosts = NULL;

	if (!g_variant_lookup (options, "hosts", "^a&s", &hosts))
		return TRUE;
	if (hosts[0] == NULL) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "hosts: the list is empty; name at least one host, or leave the option out.");
		return FALSE;
	}
	for (guint i = 0; hosts[i] != NULL; i++) {
		if (!nf_names_validate ("host", hosts[i], error)) {
			g_prefix_error (error, "hosts[%u]: ", i);
			return FALSE;
		}
		if (g_strv_contains (hosts + i + 1, hosts[i])) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "hosts: '%s' is named twice.",
				     hosts[i]);
			return FALSE;
		}
	}
	spec->hosts = g_strdupv ((gchar **) hosts);
	return TRUE;
}

NfPoolSpec *
nf_request_parse_create (const NfConfig *config,
			 const gchar *name,
			 guint count,
			 GVariant *options,
			 GError **error)
{
	g_autoptr (NfPoolSpec) spec = nf_pool_spec_new ();
	g_autoptr (NfVlanSet) vlans = NULL;
	const gchar *s;
	guint u;
	gboolean b;

	if (!nf_pool_name_validate (name, error))
		return NULL;
	if (!nf_request_check_count (count, 1, error))
		return NULL;
	if (!check_options (options, create_options, G_N_ELEMENTS (create_options), error))
		return NULL;

	spec->name = g_strdup (name);
	spec->count = count;
	spec->profile =
		g_strdup (g_variant_lookup (options, "profile", "&s", &s) ? s : config->default_profile);
	if (!nf_profile_name_validate (spec->profile, NULL)) {
		/* Quote the start of it, not a megabyte of it. */
		g_autofree gchar *shown =
			g_utf8_make_valid (spec->profile, MIN (strlen (spec->profile), NF_PROFILE_NAME_MAX));

		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "'%s' is not a profile name; 'nestfarmctl host check' lists the profiles.",
			     shown);
		return NULL;
	}
	spec->image = g_strdup (g_variant_lookup (options, "image", "&s", &s) ? s : config->default_image);
	if (spec->image == NULL)
		spec->image = g_strdup ("");
	if (!nf_request_check_image (spec->image, error))
		return NULL;

	/* 0 leaves a size to the profile: nf_request_apply_profile. */
	if (g_variant_lookup (options, "vcpus", "u", &u)) {
		if (!check_range ("vcpus", u, 1, NF_NODE_VCPUS_MAX, "", error))
			return NULL;
		spec->vcpus = u;
	}
	if (g_variant_lookup (options, "memory-mib", "u", &u)) {
		if (!check_range ("memory-mib",
				  u,
				  NF_NODE_MEMORY_MIB_MIN,
				  NF_NODE_MEMORY_MIB_MAX,
				  " MiB",
				  error))
			return NULL;
		spec->memory_mib = u;
	}
	if (g_variant_lookup (options, "disk-gib", "u", &u)) {
		if (!check_range ("disk-gib", u, 1, NF_NODE_DISK_GIB_MAX, " GiB", error))
			return NULL;
		spec->disk_gib = u;
	}
	/* with OVN the trunk is the farm's: each host's integration bridge */
	spec->ovn = config->engine->ovn_northbound != NULL;
	if (g_variant_lookup (options, "trunk-bridge", "&s", &s))
		spec->trunk_bridge = g_strdup (s);
	else
		spec->trunk_bridge = g_strdup (spec->ovn ? NF_OVN_INTEGRATION_BRIDGE : config->trunk_bridge);
	if (!nf_request_check_bridge (spec->trunk_bridge, error))
		return NULL;
	vlans = nf_vlan_set_parse (g_variant_lookup (options, "vlans", "&s", &s) ? s : "all", error);
	if (vlans == NULL)
		return NULL;
	spec->vlans = nf_vlan_set_to_string (vlans);
	if (g_variant_lookup (options, "start", "b", &b))
		spec->start = b;
	if (g_variant_lookup (options, "network", "&s", &s)) {
		if (!check_network (s, error))
			return NULL;
		spec->mgmt_network = g_strdup (s);
	} else {
		spec->mgmt_network = g_strdup (config->mgmt_network);
	}
	if (!parse_seed (options, spec, error) || !parse_hosts (options, spec, error))
		return NULL;
	return g_steal_pointer (&spec);
}

gboolean
nf_request_apply_profile (NfEngine *engine, NfPoolSpec *spec, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	NfProfile *profile = nf_engine_get_profile (engine, spec->profile, &error_local);

	if (profile == NULL) {
		/* The caller named it: a missing or unusable profile is their
		 * argument to fix, whatever the engine calls it. */
		g_set_error_literal (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT, error_local->message);
		return FALSE;
	}
	nf_profile_fill_defaults (profile, &spec->vcpus, &spec->memory_mib, &spec->disk_gib);
	/* The login user the seeds make; a profile without seeds has none. */
	if (!nf_profile_takes_seed (profile))
		g_clear_pointer (&spec->ssh_user, g_free);
	else if (spec->ssh_user == NULL)
		spec->ssh_user = g_strdup (NF_SSH_USER_DEFAULT);
	return TRUE;
}

gboolean
nf_request_parse_stop (const NfConfig *config,
		       GVariant *options,
		       gboolean *force,
		       guint *timeout_s,
		       GError **error)
{
	guint u;
	gboolean b;

	if (!check_options (options, stop_options, G_N_ELEMENTS (stop_options), error))
		return FALSE;
	*force = g_variant_lookup (options, "force", "b", &b) ? b : FALSE;
	*timeout_s = config->shutdown_timeout_s;
	if (g_variant_lookup (options, "shutdown-timeout", "u", &u)) {
		if (!check_range ("shutdown-timeout", u, 1, NF_SHUTDOWN_TIMEOUT_MAX, " s", error))
			return FALSE;
		*timeout_s = u;
	}
	return TRUE;
}

gboolean
nf_request_check_no_options (GVariant *options, GError **error)
{
	return check_options (options, NULL, 0, error);
}

gboolean
nf_request_parse_snapshot (const gchar *name, GVariant *options, gboolean *memory, GError **error)
{
	gboolean b;

	if (!nf_snapshot_name_validate (name, error))
		return FALSE;
	if (options == NULL) {
		*memory = FALSE;
		return TRUE;
	}
	if (!check_options (options, snapshot_options, G_N_ELEMENTS (snapshot_options), error))
		return FALSE;
	*memory = g_variant_lookup (options, "memory", "b", &b) ? b : TRUE;
	return TRUE;
}

/* A libvirt URI as a request may give one (@what: "URI", "peer-uri"). */
static gboolean
check_uri (const gchar *what, const gchar *uri, GError **error)
{
	gboolean printable = uri[0] != '\0' && strlen (uri) <= NF_HOST_URI_MAX;

	for (const gchar *p = uri; printable && *p != '\0'; p++)
		printable = g_ascii_isgraph (*p);
	if (printable && g_uri_is_valid (uri, G_URI_FLAGS_NONE, NULL))
		return TRUE;
	{
		/* quote the start of it, not a megabyte of it */
		g_autofree gchar *shown = g_utf8_make_valid (uri, MIN (strlen (uri), 64));

		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The %s '%s%s' is not a libvirt URI of at most %d printable characters; give one such as "
			     "qemu+ssh://root@host2/system, qemu+tls://host2/system or "
			     "qemu+unix:///system?socket=/path/to/libvirt-sock.",
			     what,
			     shown,
			     strlen (uri) > 64 ? "..." : "",
			     NF_HOST_URI_MAX);
	}
	return FALSE;
}

static const OptionRule add_host_options[] = {
	{"peer-uri", "s"},
};

gboolean
nf_request_parse_host (const gchar *name,
		       const gchar *uri,
		       GVariant *options,
		       gchar **peer_uri,
		       GError **error)
{
	const gchar *peer = NULL;

	if (!nf_names_validate ("host", name, error))
		return FALSE;
	if (uri == NULL)
		return nf_request_check_no_options (options, error);
	if (!check_uri ("URI", uri, error) ||
	    !check_options (options, add_host_options, G_N_ELEMENTS (add_host_options), error))
		return FALSE;
	if (options != NULL && g_variant_lookup (options, "peer-uri", "&s", &peer) &&
	    !check_uri ("peer-uri", peer, error))
		return FALSE;
	*peer_uri = g_strdup (peer);
	return TRUE;
}

static const OptionRule rebalance_options[] = {
	{"threshold", "u"},
	{"max-moves", "u"},
};

gboolean
nf_request_parse_rebalance (GVariant *options, guint *threshold, guint *max_moves, GError **error)
{
	if (!check_options (options, rebalance_options, G_N_ELEMENTS (rebalance_options), error))
		return FALSE;
	*threshold = NF_REBALANCE_THRESHOLD_DEFAULT;
	*max_moves = NF_REBALANCE_MAX_MOVES_DEFAULT;
	if (options == NULL)
		return TRUE;
	if (g_variant_lookup (options, "threshold", "u", threshold) &&
	    !check_range ("threshold", *threshold, 1, 100, " percentage points", error))
		return FALSE;
	if (g_variant_lookup (options, "max-moves", "u", max_moves) &&
	    !check_range ("max-moves", *max_moves, 1, NF_REBALANCE_MAX_MOVES_MAX, "", error))
		return FALSE;
	return TRUE;
}

static const OptionRule migrate_options[] = {
	{"host", "s"},
	{"live", "b"},
};

gboolean
nf_request_parse_migrate (GVariant *options, gchar **host, gboolean *live, GError **error)
{
	const gchar *name = NULL;
	gboolean b;

	if (!check_options (options, migrate_options, G_N_ELEMENTS (migrate_options), error))
		return FALSE;
	if (options != NULL && g_variant_lookup (options, "host", "&s", &name) &&
	    !nf_names_validate ("host", name, error))
		return FALSE;
	*host = g_strdup (name);
	*live = options != NULL && g_variant_lookup (options, "live", "b", &b) ? b : TRUE;
	return TRUE;
}
