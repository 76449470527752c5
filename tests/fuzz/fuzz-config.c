/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "fuzz-config"

#include "config.h"

#include "nestfarm/nf-config.h"
#include "nf-fuzz.h"

/* nestfarmd.conf: any bytes as the file. nestfarmd either refuses it in
 * one UTF-8 sentence or starts with settings inside their documented
 * ranges. */

#define CONFIG_FILE "/etc/nestfarm/fuzz.conf"

static void
assert_simple_name (const gchar *name, gsize max)
{
	gsize len = strlen (name);

	g_assert_cmpuint (len, >=, 1);
	g_assert_cmpuint (len, <=, max);
	for (gsize i = 0; i < len; i++)
		g_assert_true (g_ascii_isalnum (name[i]) || strchr ("_.-", name[i]) != NULL);
}

static void
check_config (const NfConfig *config)
{
	const NfEngineConfig *engine = config->engine;

	g_assert_cmpstr (config->path, ==, CONFIG_FILE);
	g_assert_true (g_utf8_validate (config->libvirt_uri, -1, NULL));
	for (const gchar *p = config->libvirt_uri; *p != '\0'; p++)
		g_assert_true (g_ascii_isgraph (*p));
	g_assert_true (g_path_is_absolute (config->state_dir));
	g_assert_true (nf_profile_name_validate (config->default_profile, NULL));
	assert_simple_name (config->trunk_bridge, 15);
	if (config->default_image != NULL)
		g_assert_true (config->default_image[0] != '\0');
	if (config->mgmt_network != NULL)
		assert_simple_name (config->mgmt_network, 64);
	g_assert_cmpuint (config->parallelism, >=, 1);
	g_assert_cmpuint (config->parallelism, <=, NF_CONFIG_PARALLELISM_MAX);
	g_assert_cmpuint (config->memory_reserve_mib, <=, 1024 * 1024);
	g_assert_true (config->overcommit > 0 && config->overcommit <= 10.0);
	g_assert_cmpuint (config->shutdown_timeout_s, >=, 1);
	g_assert_cmpuint (config->shutdown_timeout_s, <=, 3600);

	assert_simple_name (engine->storage_pool, 64);
	g_assert_true (g_path_is_absolute (engine->storage_path));
	g_assert_true (g_path_is_absolute (engine->console_dir));
	if (engine->template_dir != NULL)
		g_assert_true (g_path_is_absolute (engine->template_dir));
	g_assert_true (g_strcmp0 (engine->datapath, "system") == 0 ||
		       g_strcmp0 (engine->datapath, "netdev") == 0);
	if (engine->ovs_db != NULL)
		g_assert_true (engine->ovs_db[0] != '\0');
	g_assert_cmpuint (engine->ovs_timeout_ms, >=, 1000);
	g_assert_cmpuint (engine->ovs_timeout_ms, <=, 120 * 1000);
	g_assert_cmpuint (engine->mac_aging_seconds, <=, 86400);
	g_assert_cmpuint (engine->mac_table_size, <=, 1024 * 1024);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	g_autofree gchar *text = nf_fuzz_text (data, size);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load_data (CONFIG_FILE, text, size, &error);

	if (config == NULL) {
		/* nestfarmd prints it to the journal as it is */
		nf_fuzz_assert_refusal (error, TRUE);
		g_assert_true (g_str_has_prefix (error->message, CONFIG_FILE));
		return 0;
	}
	g_assert_no_error (error);
	check_config (config);
	return 0;
}
