/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-names"

#include "config.h"

#include <gio/gio.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"

/* Pool and node names, object path escaping, and NF_ERROR's D-Bus names. */

static void
test_pool_name_good (void)
{
	const gchar *good[] = {
		"a",
		"contrail",
		"k8s-lab",
		"nsx-t-3",
		"a1b2c3",
		"abcdefghijklmnopqrstuvwxyz012345", /* 32 */
	};

	for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
		g_autoptr (GError) error = NULL;

		g_test_message ("good pool name: %s", good[i]);
		g_assert_true (nf_pool_name_validate (good[i], &error));
		g_assert_no_error (error);
	}
}

static void
test_pool_name_bad (void)
{
	const gchar *bad[] = {
		"",
		"-lab",
		"1lab",
		"lab-",
		"Lab",
		"la_b",
		"la b",
		"la.b",
		"lab\n",
		("l\xc3\xa4"
		 "b"),
		"abcdefghijklmnopqrstuvwxyz0123456", /* 33 */
		"../etc",
		"a'b",
		"a<b>",
	};

	g_assert_false (nf_pool_name_validate (NULL, NULL));
	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autoptr (GError) error = NULL;

		g_autofree gchar *shown = g_strescape (bad[i], NULL);

		g_test_message ("bad pool name: %s", shown);
		g_assert_false (nf_pool_name_validate (bad[i], &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull (strstr (error->message, "pool name"));
	}
}

static void
test_pool_name_huge (void)
{
	g_autofree gchar *huge = g_strnfill (60 * 1024, 'a');
	g_autoptr (GError) error = NULL;

	g_assert_false (nf_pool_name_validate (huge, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull (strstr (error->message, "longer than 32"));
}

/* Profiles are file names of up to 64 characters, pools of up to 32: a
 * profile name is never held to the pool-name limit. */
static void
test_profile_name (void)
{
	g_autofree gchar *longest = g_strnfill (NF_PROFILE_NAME_MAX, 'p');
	g_autofree gchar *too_long = g_strnfill (NF_PROFILE_NAME_MAX + 1, 'p');
	const gchar *const bad[] = {"", "../etc/passwd", "Kvm", "a b", "kvm.xml"};
	g_autoptr (GError) error = NULL;

	g_assert_cmpint (NF_PROFILE_NAME_MAX, >, NF_POOL_NAME_MAX);
	g_assert_true (nf_profile_name_validate ("kvm-compute", NULL));
	g_assert_true (nf_profile_name_validate ("9lives", NULL));
	g_assert_true (nf_profile_name_validate (longest, NULL));
	g_assert_false (nf_pool_name_validate (longest, NULL));
	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_assert_false (nf_profile_name_validate (bad[i], &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_clear_error (&error);
	}
	g_assert_false (nf_profile_name_validate (NULL, NULL));
	g_assert_false (nf_profile_name_validate (too_long, &error));
	g_assert_nonnull (strstr (error->message, "64"));
}

static void
test_node_name_roundtrip (void)
{
	struct {
		const gchar *pool;
		guint index;
		const gchar *node;
	} table[] = {
		{"contrail", 1, "contrail-1"},
		{"k8s-lab", 12, "k8s-lab-12"},
		{"a-1", 2, "a-1-2"},
		{"x", 9999, "x-9999"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autofree gchar *built = nf_node_name_build (table[i].pool, table[i].index);
		g_autofree gchar *pool = NULL;
		guint index = 0;
		g_autoptr (GError) error = NULL;

		g_assert_cmpstr (built, ==, table[i].node);
		g_assert_true (nf_node_name_parse (table[i].node, &pool, &index, &error));
		g_assert_no_error (error);
		g_assert_cmpstr (pool, ==, table[i].pool);
		g_assert_cmpuint (index, ==, table[i].index);
	}
}

static void
test_node_name_bad (void)
{
	const gchar *bad[] = {
		"contrail",
		"contrail-",
		"-1",
		"contrail-0",
		"contrail-01",
		"contrail-1x",
		"contrail-10000",
		"contrail-99999999999999999999",
		"Contrail-1",
		"con_trail-1",
		"contrail--1",
		"contrail-\v1", /* found by fuzz-names */
		"contrail- 1",
		"contrail-+1",
	};

	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autoptr (GError) error = NULL;
		g_autofree gchar *pool = NULL;
		guint index = 0;

		g_test_message ("bad node name: %s", bad[i]);
		g_assert_false (nf_node_name_parse (bad[i], &pool, &index, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_null (pool);
		g_assert_cmpuint (index, ==, 0);
	}
}

static void
test_path_escape (void)
{
	struct {
		const gchar *name;
		const gchar *component;
	} table[] = {
		{"contrail", "contrail"},
		{"k8s-lab", "k8s_2dlab"},
		{"k8s-lab-12", "k8s_2dlab_2d12"},
		{"", "_"},
		{"a_b", "a_5fb"},
		{"A.B", "A_2eB"},
		{"\xc3\xa4", "_c3_a4"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autofree gchar *escaped = nf_path_component_escape (table[i].name);
		g_autofree gchar *unescaped = nf_path_component_unescape (table[i].component);
		g_autofree gchar *path = NULL;

		g_assert_cmpstr (escaped, ==, table[i].component);
		g_assert_cmpstr (unescaped, ==, table[i].name);
		path = g_strconcat ("/org/nestfarm/Farm1/pool/", escaped, NULL);
		g_assert_true (g_variant_is_object_path (path));
	}
}

static void
test_path_unescape_not_canonical (void)
{
	const gchar *bad[] = {
		"k8s_2Dlab", /* uppercase hex */
		"_61bc",     /* 'a' escaped although it need not be */
		"abc_",      /* truncated escape */
		"abc_2",     /* truncated escape */
		"abc_zz",    /* not hex */
		"ab-c",      /* not a path character at all */
		"_00",       /* NUL */
		"__",
	};

	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autofree gchar *name = nf_path_component_unescape (bad[i]);

		g_test_message ("non-canonical component: %s", bad[i]);
		g_assert_null (name);
	}
}

static void
test_error_dbus_names (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GError) back = NULL;
	g_autofree gchar *remote = NULL;

	g_assert_cmpstr (nf_error_to_dbus_name (NF_ERROR_INVALID_ARGUMENT),
			 ==,
			 "org.nestfarm.Farm1.Error.InvalidArgument");
	g_assert_cmpstr (nf_error_to_dbus_name (NF_ERROR_OPENVSWITCH),
			 ==,
			 "org.nestfarm.Farm1.Error.OpenvSwitch");
	g_assert_cmpstr (nf_error_to_dbus_name (NF_ERROR_FAILED), ==, "org.nestfarm.Farm1.Error.Failed");

	/* A GError crosses the bus and comes back as the same domain and code. */
	error = g_error_new_literal (NF_ERROR, NF_ERROR_INSUFFICIENT_RESOURCES, "too big");
	remote = g_dbus_error_encode_gerror (error);
	g_assert_cmpstr (remote, ==, "org.nestfarm.Farm1.Error.InsufficientResources");
	back = g_dbus_error_new_for_dbus_error (remote, "too big");
	g_assert_error (back, NF_ERROR, NF_ERROR_INSUFFICIENT_RESOURCES);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/names/pool/good", test_pool_name_good);
	g_test_add_func ("/names/pool/bad", test_pool_name_bad);
	g_test_add_func ("/names/pool/huge", test_pool_name_huge);
	g_test_add_func ("/names/profile", test_profile_name);
	g_test_add_func ("/names/node/roundtrip", test_node_name_roundtrip);
	g_test_add_func ("/names/node/bad", test_node_name_bad);
	g_test_add_func ("/names/path/escape", test_path_escape);
	g_test_add_func ("/names/path/not-canonical", test_path_unescape_not_canonical);
	g_test_add_func ("/names/error/dbus-names", test_error_dbus_names);
	return g_test_run ();
}
