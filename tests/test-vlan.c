/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-vlan"

#include "config.h"

#include <glib.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-ovn.h"
#include "nestfarm/nf-vlan.h"

/* VLAN lists: what parses, what is refused, and the canonical spelling. */

static void
test_vlan_all (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfVlanSet) set = nf_vlan_set_parse ("all", &error);
	g_autofree gchar *text = NULL;
	g_autoptr (GArray) array = NULL;

	g_assert_no_error (error);
	g_assert_true (nf_vlan_set_is_all (set));
	g_assert_true (nf_vlan_set_contains (set, 1));
	g_assert_true (nf_vlan_set_contains (set, 4094));
	g_assert_false (nf_vlan_set_contains (set, 0));
	g_assert_false (nf_vlan_set_contains (set, 4095));
	g_assert_cmpuint (nf_vlan_set_count (set), ==, 4094);
	text = nf_vlan_set_to_string (set);
	g_assert_cmpstr (text, ==, "all");
	/* 'all' is an untagged trunk: no explicit trunk list. */
	array = nf_vlan_set_to_array (set);
	g_assert_cmpuint (array->len, ==, 0);
}

static void
test_vlan_good (void)
{
	struct {
		const gchar *spec;
		const gchar *canonical;
		guint count;
	} table[] = {
		{"100", "100", 1},
		{"1", "1", 1},
		{"4094", "4094", 1},
		{"100-102,200", "100-102,200", 4},
		{"100-199,300", "100-199,300", 101},
		{"300,100-199", "100-199,300", 101},
		{"5,5,5", "5", 1},
		{"10-20,15-25", "10-25", 16},
		{"10-20,21-30", "10-30", 21},
		{" 7 , 9 - 10 ", "7,9-10", 3},
		{"1-4094", "1-4094", 4094},
		{"42-42", "42", 1},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfVlanSet) set = NULL;
		g_autofree gchar *text = NULL;
		g_autoptr (GArray) array = NULL;

		g_test_message ("good VLAN list: '%s'", table[i].spec);
		set = nf_vlan_set_parse (table[i].spec, &error);
		g_assert_no_error (error);
		g_assert_nonnull (set);
		g_assert_false (nf_vlan_set_is_all (set));
		text = nf_vlan_set_to_string (set);
		g_assert_cmpstr (text, ==, table[i].canonical);
		g_assert_cmpuint (nf_vlan_set_count (set), ==, table[i].count);
		array = nf_vlan_set_to_array (set);
		g_assert_cmpuint (array->len, ==, table[i].count);
		for (guint j = 1; j < array->len; j++)
			g_assert_cmpuint (g_array_index (array, guint, j - 1),
					  <,
					  g_array_index (array, guint, j));
	}
}

static void
test_vlan_bad (void)
{
	struct {
		const gchar *spec;
		const gchar *says;
	} table[] = {
		{"", "empty"},
		{"0", "out of range"},
		{"4095", "out of range"},
		{"4096", "out of range"},
		{"10-5", "backwards"},
		{"10-", "empty entry"},
		{"-10", "empty entry"},
		{"1,,2", "empty entry"},
		{",", "empty entry"},
		{"abc", "not a number"},
		{"ALL", "not a number"},
		{"1.5", "not a number"},
		{"+5", "not a number"},
		{"0x10", "not a number"},
		{"1-2-3", "not a number"},
		{"99999999999999999999999", "not a number"},
		{"100-4095", "out of range"},
		{"\xff\xfe", "not valid text"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfVlanSet) set = NULL;

		g_autofree gchar *shown = g_strescape (table[i].spec, NULL);

		g_test_message ("bad VLAN list: '%s'", shown);
		set = nf_vlan_set_parse (table[i].spec, &error);
		g_assert_null (set);
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull (strstr (error->message, table[i].says));
	}
	g_assert_null (nf_vlan_set_parse (NULL, NULL));
}

static void
test_vlan_huge (void)
{
	g_autoptr (GString) spec = g_string_new (NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfVlanSet) set = NULL;

	/* 60 kB of valid-looking entries is refused by length, not walked. */
	while (spec->len < 60 * 1024)
		g_string_append (spec, "100,");
	g_string_append (spec, "100");
	set = nf_vlan_set_parse (spec->str, &error);
	g_assert_null (set);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull (strstr (error->message, "longer than"));
}

/* An explicit list as the match of the OVN ACL that passes it. */
static void
test_vlan_ovn_match (void)
{
	const struct {
		const gchar *list;
		const gchar *match;
	} table[] = {
		{"100", "vlan.present && (vlan.vid == 100)"},
		{"100,300", "vlan.present && (vlan.vid == {100, 300})"},
		{"100-199", "vlan.present && ((vlan.vid >= 100 && vlan.vid <= 199))"},
		{"1-2,7,10-20,4094",
		 "vlan.present && ((vlan.vid >= 1 && vlan.vid <= 2) || (vlan.vid >= 10 && vlan.vid <= 20) || "
		 "vlan.vid == {7, 4094})"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfVlanSet) set = nf_vlan_set_parse (table[i].list, &error);
		g_autofree gchar *match = NULL;

		g_assert_no_error (error);
		match = nf_ovn_vlan_match (set);
		g_assert_cmpstr (match, ==, table[i].match);
	}
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/vlan/all", test_vlan_all);
	g_test_add_func ("/vlan/good", test_vlan_good);
	g_test_add_func ("/vlan/bad", test_vlan_bad);
	g_test_add_func ("/vlan/huge", test_vlan_huge);
	g_test_add_func ("/vlan/ovn-match", test_vlan_ovn_match);
	return g_test_run ();
}
