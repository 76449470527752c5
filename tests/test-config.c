/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-config"

#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nestfarm/nf-config.h"
#include "nestfarm/nf-error.h"

/* nestfarmd.conf: defaults, every key's good and bad values, syntax errors,
 * unknown keys and groups, and the file the project ships. */

/* Every key of [Daemon], as nestfarmd.conf documents them. */
static const gchar *const all_keys[] = {
	"LibvirtURI",       "StateDirectory",        "Instance",          "StoragePool",
	"StorageDirectory", "ConsoleLogDirectory",   "TemplateDirectory", "DefaultImage",
	"DefaultProfile",   "TrunkBridge",           "ManagementNetwork", "Accelerator",
	"Parallelism",      "MemoryReserveMiB",      "Overcommit",        "ShutdownTimeout",
	"Datapath",         "MacAgingTime",          "MacTableSize",      "OvsTimeout",
	"OvsDatabase",      "ManagementNetworkMode", "BootsAtOnce",       "OvnNorthbound",
	"CPUMode",          "RebalanceInterval",
};

/* A temporary config file, removed with its path. */
typedef gchar TmpConfig;

static void
tmp_config_remove (TmpConfig *path)
{
	g_unlink (path);
	g_free (path);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TmpConfig, tmp_config_remove)

static TmpConfig *
tmp_config_new (const gchar *text)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *path = NULL;
	gint fd = g_file_open_tmp ("test-config-XXXXXX.conf", &path, &error);

	g_assert_no_error (error);
	g_close (fd, NULL);
	g_file_set_contents (path, text, -1, &error);
	g_assert_no_error (error);
	return g_steal_pointer (&path);
}

static void
assert_config_equal (const NfConfig *a, const NfConfig *b)
{
	g_assert_cmpstr (a->libvirt_uri, ==, b->libvirt_uri);
	g_assert_cmpstr (a->state_dir, ==, b->state_dir);
	g_assert_cmpstr (a->default_image, ==, b->default_image);
	g_assert_cmpstr (a->default_profile, ==, b->default_profile);
	g_assert_cmpstr (a->trunk_bridge, ==, b->trunk_bridge);
	g_assert_cmpstr (a->mgmt_network, ==, b->mgmt_network);
	g_assert_cmpuint (a->parallelism, ==, b->parallelism);
	g_assert_cmpuint (a->memory_reserve_mib, ==, b->memory_reserve_mib);
	g_assert_cmpfloat (a->overcommit, ==, b->overcommit);
	g_assert_cmpuint (a->shutdown_timeout_s, ==, b->shutdown_timeout_s);
	g_assert_cmpstr (a->engine->storage_pool, ==, b->engine->storage_pool);
	g_assert_cmpstr (a->engine->storage_path, ==, b->engine->storage_path);
	g_assert_cmpstr (a->engine->console_dir, ==, b->engine->console_dir);
	g_assert_cmpstr (a->engine->template_dir, ==, b->engine->template_dir);
	g_assert_cmpstr (a->engine->datapath, ==, b->engine->datapath);
	g_assert_cmpstr (a->engine->ovs_db, ==, b->engine->ovs_db);
	g_assert_cmpstr (a->engine->ovn_northbound, ==, b->engine->ovn_northbound);
	g_assert_cmpint (a->engine->cpu_mode, ==, b->engine->cpu_mode);
	g_assert_cmpuint (a->engine->ovs_timeout_ms, ==, b->engine->ovs_timeout_ms);
	g_assert_cmpuint (a->engine->mac_aging_seconds, ==, b->engine->mac_aging_seconds);
	g_assert_cmpuint (a->engine->mac_table_size, ==, b->engine->mac_table_size);
	g_assert_cmpint (a->engine->accel, ==, b->engine->accel);
}

static void
test_config_defaults (void)
{
	g_autoptr (NfConfig) config = nf_config_new_defaults ();

	g_assert_null (config->path);
	g_assert_cmpstr (config->libvirt_uri, ==, "qemu:///system");
	g_assert_cmpstr (config->state_dir, ==, NF_STATEDIR);
	g_assert_null (config->default_image);
	g_assert_cmpstr (config->default_profile, ==, "kvm-compute");
	g_assert_cmpstr (config->trunk_bridge, ==, "nftrunk0");
	g_assert_cmpstr (config->mgmt_network, ==, "nestfarm");
	g_assert_cmpstr (config->engine->mgmt_network, ==, "nestfarm");
	g_assert_false (config->engine->mgmt_isolated);
	g_assert_cmpuint (config->parallelism, ==, nf_config_auto_parallelism ());
	g_assert_cmpuint (config->boots_at_once, ==, 0);
	g_assert_cmpuint (config->memory_reserve_mib, ==, 2048);
	g_assert_cmpfloat (config->overcommit, ==, 1.0);
	g_assert_cmpuint (config->shutdown_timeout_s, ==, 30);
	g_assert_cmpstr (config->engine->storage_pool, ==, "nestfarm");
	g_assert_cmpstr (config->engine->storage_path, ==, NF_STATEDIR "/images");
	g_assert_cmpstr (config->engine->console_dir, ==, "/var/log/nestfarm/console");
	g_assert_cmpstr (config->engine->template_dir, ==, NF_TEMPLATEDIR);
	g_assert_cmpstr (config->engine->datapath, ==, "system");
	g_assert_null (config->engine->ovs_db);
	g_assert_null (config->engine->ovn_northbound);
	g_assert_cmpint (config->engine->cpu_mode, ==, NF_CPU_MODE_PASSTHROUGH);
	g_assert_cmpuint (config->engine->ovs_timeout_ms, ==, 5000);
	g_assert_cmpuint (config->engine->mac_aging_seconds, ==, 300);
	g_assert_cmpuint (config->engine->mac_table_size, ==, 8192);
	g_assert_cmpint (config->engine->accel, ==, NF_ACCEL_AUTO);
}

static void
test_config_full (void)
{
	g_autoptr (TmpConfig) path = tmp_config_new ("# every key, none at its default\n"
						     "[Daemon]\n"
						     "LibvirtURI=qemu+ssh://root@lab1/system\n"
						     "StateDirectory=/srv/nf/state\n"
						     "StoragePool=lab_pool.1\n"
						     "StorageDirectory=/srv/nf/images\n"
						     "ConsoleLogDirectory=/srv/nf/console\n"
						     "TemplateDirectory=/srv/nf/templates\n"
						     "DefaultImage=/srv/nf/base.qcow2\n"
						     "DefaultProfile=esxi-host\n"
						     "TrunkBridge=br-trunk.100\n"
						     "ManagementNetwork=default\n"
						     "ManagementNetworkMode=isolated\n"
						     "Accelerator=emulated\n"
						     "Parallelism=7\n"
						     "BootsAtOnce=3\n"
						     "MemoryReserveMiB=512\n"
						     "Overcommit=1.5\n"
						     "ShutdownTimeout=90\n"
						     "\n"
						     "  # Open vSwitch\n"
						     "Datapath = netdev\n"
						     "MacAgingTime=0\n"
						     "MacTableSize=65536\n"
						     "OvsTimeout=12\n"
						     "OvsDatabase=unix:/run/ovs/db.sock\n"
						     "OvnNorthbound=tcp:192.0.2.10:6641\n"
						     "CPUMode=baseline\n");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);

	g_assert_no_error (error);
	g_assert_nonnull (config);
	g_assert_cmpstr (config->path, ==, path);
	g_assert_cmpstr (config->libvirt_uri, ==, "qemu+ssh://root@lab1/system");
	g_assert_cmpstr (config->state_dir, ==, "/srv/nf/state");
	g_assert_cmpstr (config->default_image, ==, "/srv/nf/base.qcow2");
	g_assert_cmpstr (config->default_profile, ==, "esxi-host");
	g_assert_cmpstr (config->trunk_bridge, ==, "br-trunk.100");
	g_assert_cmpstr (config->mgmt_network, ==, "default");
	g_assert_cmpstr (config->engine->mgmt_network, ==, "default");
	g_assert_true (config->engine->mgmt_isolated);
	g_assert_cmpuint (config->parallelism, ==, 7);
	g_assert_cmpuint (config->boots_at_once, ==, 3);
	g_assert_cmpuint (config->memory_reserve_mib, ==, 512);
	g_assert_cmpfloat (config->overcommit, ==, 1.5);
	g_assert_cmpuint (config->shutdown_timeout_s, ==, 90);
	g_assert_cmpstr (config->engine->storage_pool, ==, "lab_pool.1");
	g_assert_cmpstr (config->engine->storage_path, ==, "/srv/nf/images");
	g_assert_cmpstr (config->engine->console_dir, ==, "/srv/nf/console");
	g_assert_cmpstr (config->engine->template_dir, ==, "/srv/nf/templates");
	g_assert_cmpstr (config->engine->datapath, ==, "netdev");
	g_assert_cmpuint (config->engine->mac_aging_seconds, ==, 0);
	g_assert_cmpuint (config->engine->mac_table_size, ==, 65536);
	g_assert_cmpuint (config->engine->ovs_timeout_ms, ==, 12000);
	g_assert_cmpstr (config->engine->ovs_db, ==, "unix:/run/ovs/db.sock");
	g_assert_cmpstr (config->engine->ovn_northbound, ==, "tcp:192.0.2.10:6641");
	g_assert_cmpint (config->engine->cpu_mode, ==, NF_CPU_MODE_BASELINE);
	g_assert_cmpint (config->engine->accel, ==, NF_ACCEL_EMULATED);
}

/* Values at the edges of what each key accepts. */
static void
test_config_good_values (void)
{
	struct {
		const gchar *key;
		const gchar *value;
	} table[] = {
		{"LibvirtURI", "test:///default"},
		{"LibvirtURI", "qemu:///system?socket=/run/libvirt/virtqemud-sock"},
		{"StoragePool", "a"},
		{"DefaultImage", ""},
		{"DefaultImage", "base.qcow2"},
		{"DefaultProfile", "kvm-compute"},
		{"TrunkBridge", "abcdefghijklmno"},
		{"ManagementNetwork", ""},
		{"ManagementNetworkMode", "nat"},
		{"ManagementNetworkMode", "isolated"},
		{"Accelerator", "auto"},
		{"Accelerator", "kvm"},
		{"Parallelism", "0"},
		{"Parallelism", "1"},
		{"Parallelism", "64"},
		{"BootsAtOnce", "auto"},
		{"BootsAtOnce", "0"},
		{"BootsAtOnce", "64"},
		{"MemoryReserveMiB", "0"},
		{"MemoryReserveMiB", "1048576"},
		{"Overcommit", "10"},
		{"Overcommit", "0.01"},
		{"Overcommit", "2"},
		{"ShutdownTimeout", "1"},
		{"ShutdownTimeout", "3600"},
		{"Datapath", "system"},
		{"MacAgingTime", "86400"},
		{"MacTableSize", "0"},
		{"MacTableSize", "1048576"},
		{"OvsTimeout", "1"},
		{"OvsTimeout", "120"},
		{"OvsDatabase", ""},
		{"Instance", ""},
		{"Instance", "nftest-daemon"},
		{"OvsDatabase", "/run/openvswitch/db.sock"},
		{"OvsDatabase", "tcp:127.0.0.1:6640"},
		{"OvsDatabase", "tcp:[::1]:6640"},
		{"OvnNorthbound", ""},
		{"OvnNorthbound", "unix:/run/ovn/ovnnb_db.sock"},
		{"OvnNorthbound", "tcp:192.0.2.10:6641"},
		{"CPUMode", "passthrough"},
		{"CPUMode", "baseline"},
		{"RebalanceInterval", "0"},
		{"RebalanceInterval", "60"},
		{"RebalanceInterval", "86400"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autofree gchar *text = g_strdup_printf ("[Daemon]\n%s=%s\n", table[i].key, table[i].value);
		g_autoptr (TmpConfig) path = tmp_config_new (text);
		g_autoptr (GError) error = NULL;
		g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);

		g_test_message ("%s=%s", table[i].key, table[i].value);
		g_assert_no_error (error);
		g_assert_nonnull (config);
	}
}

static void
test_config_bad_values (void)
{
	struct {
		const gchar *key;
		const gchar *value;
		const gchar *accepted; /* part of the "use ..." the message ends with */
	} table[] = {
		{"LibvirtURI", "", "libvirt connection URI"},
		{"LibvirtURI", "system", "libvirt connection URI"},
		{"LibvirtURI", "qemu:///sys tem", "libvirt connection URI"},
		{"StateDirectory", "", "absolute path"},
		{"StateDirectory", "var/lib/nestfarm", "absolute path"},
		{"StoragePool", "", "1 to 64 characters"},
		{"StoragePool", "my pool", "1 to 64 characters"},
		{"StoragePool", "a/b", "1 to 64 characters"},
		{"StoragePool", "..", "1 to 64 characters"},
		{"StoragePool",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "1 to 64"},
		{"StorageDirectory", "images", "absolute path"},
		{"ConsoleLogDirectory", "./console", "absolute path"},
		{"TemplateDirectory", "", "absolute path"},
		{"DefaultImage", "images/base.qcow2", "absolute path, a volume name"},
		{"DefaultImage", "..", "absolute path, a volume name"},
		{"DefaultProfile", "", "a-z, 0-9 and '-'"},
		{"DefaultProfile", "KVM", "a-z, 0-9 and '-'"},
		{"DefaultProfile", "../etc/passwd", "a-z, 0-9 and '-'"},
		{"TrunkBridge", "", "1 to 15 characters"},
		{"TrunkBridge", "abcdefghijklmnop", "1 to 15 characters"},
		{"TrunkBridge", "br 0", "1 to 15 characters"},
		{"TrunkBridge", "br/0", "1 to 15 characters"},
		{"TrunkBridge", ".", "1 to 15 characters"},
		{"Datapath", "", "system or netdev"},
		{"Datapath", "dpdk", "system or netdev"},
		{"Datapath", "System", "system or netdev"},
		{"ManagementNetwork", "my net", "libvirt network name"},
		{"ManagementNetworkMode", "", "nat or isolated"},
		{"ManagementNetworkMode", "route", "nat or isolated"},
		{"Accelerator", "", "auto, kvm or emulated"},
		{"Accelerator", "tcg", "auto, kvm or emulated"},
		{"Accelerator", "KVM", "auto, kvm or emulated"},
		{"Parallelism", "", "1 to 64, or 0"},
		{"Parallelism", "65", "1 to 64, or 0"},
		{"Parallelism", "-1", "1 to 64, or 0"},
		{"Parallelism", "four", "1 to 64, or 0"},
		{"Parallelism", "4.0", "1 to 64, or 0"},
		{"Parallelism", "0x10", "1 to 64, or 0"},
		{"Parallelism", "18446744073709551617", "1 to 64, or 0"},
		{"BootsAtOnce", "", "auto (one per CPU), 1 to 64, or 0"},
		{"BootsAtOnce", "65", "auto (one per CPU), 1 to 64, or 0"},
		{"BootsAtOnce", "Auto", "auto (one per CPU), 1 to 64, or 0"},
		{"BootsAtOnce", "-1", "auto (one per CPU), 1 to 64, or 0"},
		{"MemoryReserveMiB", "1048577", "0 to 1048576"},
		{"MemoryReserveMiB", "2G", "0 to 1048576"},
		{"MemoryReserveMiB", "", "0 to 1048576"},
		{"Overcommit", "", "above 0 and at most 10"},
		{"Overcommit", "0", "above 0 and at most 10"},
		{"Overcommit", "-1", "above 0 and at most 10"},
		{"Overcommit", "10.5", "above 0 and at most 10"},
		{"Overcommit", "1,5", "above 0 and at most 10"},
		{"Overcommit", "nan", "above 0 and at most 10"},
		{"Overcommit", "inf", "above 0 and at most 10"},
		{"Overcommit", "1.5x", "above 0 and at most 10"},
		{"ShutdownTimeout", "0", "1 to 3600"},
		{"ShutdownTimeout", "3601", "1 to 3600"},
		{"ShutdownTimeout", "30s", "1 to 3600"},
		{"MacAgingTime", "86401", "1 to 86400"},
		{"MacAgingTime", "", "1 to 86400"},
		{"MacTableSize", "1048577", "1 to 1048576"},
		{"MacTableSize", "big", "1 to 1048576"},
		{"OvsTimeout", "0", "1 to 120"},
		{"OvsTimeout", "121", "1 to 120"},
		{"OvsDatabase", "db.sock", "unix:PATH, tcp:IP:PORT"},
		{"Instance", "Lab", "a-z, 0-9 and '-'"},
		{"Instance", "lab-", "a-z, 0-9 and '-'"},
		{"Instance", "9lab", "a-z, 0-9 and '-'"},
		{"OvsDatabase", "unix:db.sock", "unix:PATH, tcp:IP:PORT"},
		{"OvsDatabase", "tcp:localhost:6640", "unix:PATH, tcp:IP:PORT"},
		{"OvsDatabase", "tcp:127.0.0.1:0", "unix:PATH, tcp:IP:PORT"},
		{"OvsDatabase", "tcp:127.0.0.1", "unix:PATH, tcp:IP:PORT"},
		{"OvsDatabase", "ssl:127.0.0.1:6640", "unix:PATH, tcp:IP:PORT"},
		{"OvnNorthbound", "ovnnb_db.sock", "unix:PATH or tcp:IP:PORT"},
		{"OvnNorthbound", "tcp:ovn-central:6641", "unix:PATH or tcp:IP:PORT"},
		{"CPUMode",
		 "host-model",
		 "passthrough (nodes get their host's CPU and stay there) or baseline"},
		{"CPUMode", "Baseline", "or baseline (one CPU model every host can run"},
		{"RebalanceInterval", "30", "0 for none, or 60 to 86400"},
		{"RebalanceInterval", "86401", "0 for none, or 60 to 86400"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autofree gchar *text =
			g_strdup_printf ("[Daemon]\n# line 2\n%s=%s\n", table[i].key, table[i].value);
		g_autoptr (TmpConfig) path = tmp_config_new (text);
		g_autoptr (GError) error = NULL;
		g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);
		g_autofree gchar *at = g_strdup_printf ("%s line 3: ", path);
		g_autofree gchar *setting =
			g_strdup_printf ("%s='%s' in [Daemon]", table[i].key, table[i].value);

		g_test_message ("%s=%s: %s",
				table[i].key,
				table[i].value,
				error != NULL ? error->message : "(none)");
		g_assert_null (config);
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_true (g_str_has_prefix (error->message, at));
		g_assert_nonnull (strstr (error->message, setting));
		g_assert_nonnull (strstr (error->message, table[i].accepted));
	}
}

static void
test_config_unknown_key (void)
{
	g_autoptr (TmpConfig) path = tmp_config_new ("[Daemon]\nParallelism=2\n\nParalelism=4\n");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);
	g_autofree gchar *at = g_strdup_printf ("%s line 4: unknown key Paralelism in [Daemon]", path);

	g_assert_null (config);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_true (g_str_has_prefix (error->message, at));
	/* It lists what is accepted. */
	g_assert_nonnull (strstr (error->message, "Parallelism"));
	g_assert_nonnull (strstr (error->message, "OvsDatabase"));
}

static void
test_config_unknown_group (void)
{
	g_autoptr (TmpConfig) path =
		tmp_config_new ("[Daemon]\nParallelism=2\n[OpenvSwitch]\nOvsTimeout=3\n");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);
	g_autofree gchar *at = g_strdup_printf ("%s line 3: unknown group [OpenvSwitch]", path);

	g_assert_null (config);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_true (g_str_has_prefix (error->message, at));
}

static void
test_config_syntax (void)
{
	struct {
		const gchar *text;
		const gchar *line;
	} table[] = {
		{"[Daemon]\nParallelism 4\n", "line 2:"},
		{"# comment\n\nParallelism=4\n[Daemon]\n", "line 3:"},
		{"[Daemon]\n=4\n", "line 2:"},
		{"[Daemon\nParallelism=4\n", "line 1:"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (TmpConfig) path = tmp_config_new (table[i].text);
		g_autoptr (GError) error = NULL;
		g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);
		g_autofree gchar *at = g_strdup_printf ("%s %s", path, table[i].line);

		g_test_message ("%s", error != NULL ? error->message : "(none)");
		g_assert_null (config);
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_true (g_str_has_prefix (error->message, at));
	}
}

/* Bytes that are not text are refused, and never quoted back raw. */
static void
test_config_not_utf8 (void)
{
	const gchar *texts[] = {
		"[Daemon]\nTrunkBridge=br\xff\n",
		("[Daemon]\nTrunk\xff"
		 "Bridge=br0\n"),
		"[Dae\xffmon]\nTrunkBridge=br0\n",
		"[Daemon]\nbr\xff\n",
	};

	for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
		g_autoptr (TmpConfig) path = tmp_config_new (texts[i]);
		g_autoptr (GError) error = NULL;
		g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);
		g_autofree gchar *at = NULL;

		g_assert_null (config);
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_true (g_utf8_validate (error->message, -1, NULL));
		at = g_strdup_printf ("%s line %u: ", path, i == 2 ? 1 : 2);
		g_assert_true (g_str_has_prefix (error->message, at));
	}
}

/* What only GKeyFile refuses (a control character in a group name) is
 * refused too, its message made UTF-8 (found by fuzz-config). */
static void
test_config_keyfile_error (void)
{
	g_autoptr (TmpConfig) path = tmp_config_new ("[\x06"
						     "Dae\xffmon]\nTrunkBridge=br0\n");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);

	g_assert_null (config);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_true (g_str_has_prefix (error->message, path));
	g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

/* The last of a repeated key wins, as in GKeyFile, and is the one named. */
static void
test_config_repeated_key (void)
{
	g_autoptr (TmpConfig) good = tmp_config_new ("[Daemon]\nParallelism=2\nParallelism=3\n");
	g_autoptr (TmpConfig) bad = tmp_config_new ("[Daemon]\nParallelism=2\nParallelism=99\n");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (good, FALSE, &error);
	g_autoptr (NfConfig) refused = NULL;
	g_autofree gchar *at = g_strdup_printf ("%s line 3: ", bad);

	g_assert_no_error (error);
	g_assert_cmpuint (config->parallelism, ==, 3);
	refused = nf_config_load (bad, FALSE, &error);
	g_assert_null (refused);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_true (g_str_has_prefix (error->message, at));
}

static void
test_config_empty (void)
{
	g_autoptr (TmpConfig) path = tmp_config_new ("# nothing set\n\n[Daemon]\n");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);
	g_autoptr (NfConfig) defaults = nf_config_new_defaults ();

	g_assert_no_error (error);
	g_assert_cmpstr (config->path, ==, path);
	assert_config_equal (config, defaults);
}

static void
test_config_missing (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("test-config-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename (dir, "nestfarmd.conf", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = NULL;
	g_autoptr (NfConfig) defaults = nf_config_new_defaults ();

	/* Named by the user: an error. */
	config = nf_config_load (path, FALSE, &error);
	g_assert_null (config);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_assert_nonnull (strstr (error->message, path));
	g_clear_error (&error);

	/* The default path: the defaults. */
	config = nf_config_load (path, TRUE, &error);
	g_assert_no_error (error);
	g_assert_nonnull (config);
	g_assert_null (config->path);
	assert_config_equal (config, defaults);
	g_rmdir (dir);
}

static void
test_config_unreadable (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("test-config-XXXXXX", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (dir, TRUE, &error);

	/* Existing but not a file: never taken for missing. */
	g_assert_null (config);
	g_assert_error (error, NF_ERROR, NF_ERROR_FAILED);
	g_assert_nonnull (strstr (error->message, dir));
	g_rmdir (dir);
}

static void
test_config_parallelism_auto (void)
{
	g_autoptr (TmpConfig) path = tmp_config_new ("[Daemon]\nParallelism=0\n");
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) config = nf_config_load (path, FALSE, &error);
	guint expected = MIN (2 * g_get_num_processors (), NF_CONFIG_PARALLELISM_AUTO_MAX);

	g_assert_no_error (error);
	g_assert_cmpuint (config->parallelism, >=, 1);
	g_assert_cmpuint (config->parallelism, <=, NF_CONFIG_PARALLELISM_AUTO_MAX);
	g_assert_cmpuint (config->parallelism, ==, expected);
}

/* The installed nestfarmd.conf: as shipped, and with every setting
 * uncommented, it is exactly the defaults, and it documents every key. */
static void
test_config_shipped (void)
{
	const gchar *build_root = g_getenv ("NF_BUILD_ROOT");
	g_autofree gchar *shipped = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr (GString) uncommented = g_string_new (NULL);
	g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_auto (GStrv) lines = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (NfConfig) as_shipped = NULL;
	g_autoptr (NfConfig) as_uncommented = NULL;
	g_autoptr (NfConfig) defaults = nf_config_new_defaults ();
	g_autoptr (TmpConfig) path = NULL;

	/* Set by meson test; a skip would hide a broken shipped file. */
	g_assert_nonnull (build_root);
	shipped = g_build_filename (build_root, "systemd", "nestfarmd.conf", NULL);
	as_shipped = nf_config_load (shipped, FALSE, &error);
	g_assert_no_error (error);
	assert_config_equal (as_shipped, defaults);

	g_file_get_contents (shipped, &text, NULL, &error);
	g_assert_no_error (error);
	g_assert_null (strstr (text, "@"));
	lines = g_strsplit (text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *line = lines[i];
		const gchar *eq = strchr (line, '=');

		/* "#Key=value" is a setting, "# ..." its description. */
		if (line[0] == '#' && g_ascii_isalpha (line[1]) && eq != NULL) {
			g_autofree gchar *key = g_strndup (line + 1, (gsize) (eq - line - 1));

			g_assert_false (g_hash_table_contains (seen, key));
			g_hash_table_add (seen, g_steal_pointer (&key));
			line++;
		}
		g_string_append_printf (uncommented, "%s\n", line);
	}
	for (guint i = 0; i < G_N_ELEMENTS (all_keys); i++) {
		g_test_message ("%s", all_keys[i]);
		g_assert_true (g_hash_table_contains (seen, all_keys[i]));
	}
	g_assert_cmpuint (g_hash_table_size (seen), ==, G_N_ELEMENTS (all_keys));

	path = tmp_config_new (uncommented->str);
	as_uncommented = nf_config_load (path, FALSE, &error);
	g_assert_no_error (error);
	assert_config_equal (as_uncommented, defaults);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/config/defaults", test_config_defaults);
	g_test_add_func ("/config/full", test_config_full);
	g_test_add_func ("/config/good-values", test_config_good_values);
	g_test_add_func ("/config/bad-values", test_config_bad_values);
	g_test_add_func ("/config/unknown-key", test_config_unknown_key);
	g_test_add_func ("/config/unknown-group", test_config_unknown_group);
	g_test_add_func ("/config/syntax", test_config_syntax);
	g_test_add_func ("/config/not-utf8", test_config_not_utf8);
	g_test_add_func ("/config/keyfile-error", test_config_keyfile_error);
	g_test_add_func ("/config/repeated-key", test_config_repeated_key);
	g_test_add_func ("/config/empty", test_config_empty);
	g_test_add_func ("/config/missing", test_config_missing);
	g_test_add_func ("/config/unreadable", test_config_unreadable);
	g_test_add_func ("/config/parallelism-auto", test_config_parallelism_auto);
	g_test_add_func ("/config/shipped", test_config_shipped);
	return g_test_run ();
}
