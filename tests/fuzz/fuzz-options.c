/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "fuzz-options"

#include "config.h"

#include "nestfarm/nf-names.h"
#include "nestfarm/nf-vlan.h"
#include "nf-fuzz.h"
#include "nf-request.h"

/* The option dictionaries of CreatePool and of Stop/DeletePool: any bytes
 * as a serialised a{sv}, in the normal form GDBus hands the daemon, through
 * the daemon's own validation. A refusal is one UTF-8 sentence (GDBus
 * cannot send anything else); an acceptance is a pool spec inside every
 * documented limit. */

#define POOL_NAME  "fuzz"
#define POOL_COUNT 3

typedef struct {
	NfConfig *config;
	NfEngine *engine;
} Daemon;

/* What the daemon validates with: its defaults, and an engine that knows
 * the source tree's profiles. It never connects: profiles are only files. */
static const Daemon *
daemon_get (void)
{
	static Daemon nestfarmd;

	if (nestfarmd.engine == NULL) {
		g_autoptr (NfConnection) connection = nf_connection_new ("test:///default");

		nestfarmd.config = nf_config_new_defaults ();
		g_free (nestfarmd.config->engine->template_dir);
		nestfarmd.config->engine->template_dir = g_strdup (NF_FUZZ_TEMPLATE_DIR);
		nestfarmd.config->default_image = g_strdup ("/var/lib/nestfarm/images/base.qcow2");
		nestfarmd.engine = nf_engine_new (connection, nestfarmd.config->engine);
	}
	return &nestfarmd;
}

static void
check_spec (const NfPoolSpec *spec, GVariant *options)
{
	g_autoptr (NfVlanSet) vlans = NULL;
	g_autofree gchar *canonical = NULL;
	const gchar *s;
	gboolean b;

	g_assert_cmpstr (spec->name, ==, POOL_NAME);
	g_assert_cmpuint (spec->count, ==, POOL_COUNT);
	g_assert_true (nf_profile_name_validate (spec->profile, NULL));
	g_assert_true (nf_request_check_image (spec->image, NULL));
	g_assert_true (nf_request_check_bridge (spec->trunk_bridge, NULL));
	g_assert_cmpuint (spec->vcpus, >=, 1);
	g_assert_cmpuint (spec->vcpus, <=, 256);
	g_assert_cmpuint (spec->memory_mib, >=, 128);
	g_assert_cmpuint (spec->memory_mib, <=, 4u * 1024 * 1024);
	g_assert_cmpuint (spec->disk_gib, >=, 1);
	g_assert_cmpuint (spec->disk_gib, <=, 65536);
	/* stored canonical, as the engine and the state file expect */
	vlans = nf_vlan_set_parse (spec->vlans, NULL);
	g_assert_nonnull (vlans);
	canonical = nf_vlan_set_to_string (vlans);
	g_assert_cmpstr (canonical, ==, spec->vlans);
	/* what the caller gave is what is used */
	if (g_variant_lookup (options, "profile", "&s", &s))
		g_assert_cmpstr (spec->profile, ==, s);
	if (g_variant_lookup (options, "image", "&s", &s))
		g_assert_cmpstr (spec->image, ==, s);
	if (g_variant_lookup (options, "trunk-bridge", "&s", &s))
		g_assert_cmpstr (spec->trunk_bridge, ==, s);
	/* where its nodes may go: host names, none twice */
	for (guint i = 0; spec->hosts != NULL && spec->hosts[i] != NULL; i++) {
		g_assert_true (nf_names_validate ("host", spec->hosts[i], NULL));
		g_assert_false (g_strv_contains ((const gchar *const *) spec->hosts + i + 1, spec->hosts[i]));
	}
	g_assert_true (spec->hosts == NULL || spec->hosts[0] != NULL);
	/* a pool starts unless told not to */
	g_assert_cmpint (spec->start, ==, g_variant_lookup (options, "start", "b", &b) ? b : TRUE);
}

static void
check_create (const Daemon *nestfarmd, GVariant *options)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfPoolSpec) spec =
		nf_request_parse_create (nestfarmd->config, POOL_NAME, POOL_COUNT, options, &error);

	/* The profile's part runs in the daemon's worker, after polkit. */
	if (spec == NULL || !nf_request_apply_profile (nestfarmd->engine, spec, &error)) {
		nf_fuzz_assert_refusal (error, TRUE);
		return;
	}
	g_assert_no_error (error);
	check_spec (spec, options);
}

static void
check_stop (const Daemon *nestfarmd, GVariant *options)
{
	g_autoptr (GError) error = NULL;
	gboolean force = TRUE;
	guint timeout_s = 0;
	gboolean b;

	if (!nf_request_parse_stop (nestfarmd->config, options, &force, &timeout_s, &error)) {
		nf_fuzz_assert_refusal (error, TRUE);
		return;
	}
	g_assert_no_error (error);
	g_assert_cmpint (force, ==, g_variant_lookup (options, "force", "b", &b) && b);
	g_assert_cmpuint (timeout_s, >=, 1);
	g_assert_cmpuint (timeout_s, <=, 3600);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	const Daemon *nestfarmd = daemon_get ();
	g_autoptr (GBytes) bytes = g_bytes_new (data, size);
	g_autoptr (GVariant) wire =
		g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
	/* GDBus checks what it reads and builds trusted values from it. */
	g_autoptr (GVariant) options = g_variant_get_normal_form (wire);

	g_assert_true (g_variant_is_normal_form (options));
	check_create (nestfarmd, options);
	check_stop (nestfarmd, options);
	return 0;
}
