/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "fuzz-vlan"

#include "config.h"

#include "nestfarm/nf-vlan.h"
#include "nf-fuzz.h"

/* VLAN lists: a list that parses has one canonical spelling, which parses
 * to the same set and spells itself again; nothing crashes or takes long. */

/* The canonical form: "all", or ascending ids and ranges "A-B" (A < B) of
 * 1 to 4094 in canonical decimal, with a gap between any two. */
static void
assert_canonical (const gchar *text)
{
	guint previous_end = 0;
	const gchar *p = text;

	if (g_str_equal (text, "all"))
		return;
	g_assert_true (text[0] != '\0');
	while (TRUE) {
		guint64 first, last;
		gchar *end = NULL;

		g_assert_true (g_ascii_isdigit (*p) && *p != '0');
		first = g_ascii_strtoull (p, &end, 10);
		p = end;
		last = first;
		if (*p == '-') {
			p++;
			g_assert_true (g_ascii_isdigit (*p) && *p != '0');
			last = g_ascii_strtoull (p, &end, 10);
			p = end;
			g_assert_cmpuint (first, <, last);
		}
		g_assert_cmpuint (first, >=, NF_VLAN_MIN);
		g_assert_cmpuint (last, <=, NF_VLAN_MAX);
		/* merged: neither overlapping nor adjacent */
		if (previous_end != 0)
			g_assert_cmpuint (first, >, previous_end + 1);
		previous_end = (guint) last;
		if (*p == '\0')
			return;
		g_assert_cmpint (*p, ==, ',');
		p++;
	}
}

static void
assert_same_set (const NfVlanSet *a, const NfVlanSet *b)
{
	g_assert_cmpint (nf_vlan_set_is_all (a), ==, nf_vlan_set_is_all (b));
	g_assert_cmpuint (nf_vlan_set_count (a), ==, nf_vlan_set_count (b));
	for (guint v = 0; v <= NF_VLAN_MAX + 1; v++)
		g_assert_cmpint (nf_vlan_set_contains (a, v), ==, nf_vlan_set_contains (b, v));
}

static void
check_set (const NfVlanSet *set)
{
	g_autofree gchar *text = nf_vlan_set_to_string (set);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfVlanSet) again = NULL;
	g_autofree gchar *text_again = NULL;
	g_autoptr (GArray) array = nf_vlan_set_to_array (set);
	guint count = nf_vlan_set_count (set);

	assert_canonical (text);
	g_assert_false (nf_vlan_set_contains (set, 0));
	g_assert_false (nf_vlan_set_contains (set, NF_VLAN_MAX + 1));
	g_assert_cmpuint (count, >=, 1);
	g_assert_cmpuint (count, <=, NF_VLAN_MAX);

	/* 'all' is an untagged trunk: no explicit list */
	if (nf_vlan_set_is_all (set)) {
		g_assert_cmpuint (array->len, ==, 0);
	} else {
		g_assert_cmpuint (array->len, ==, count);
		for (guint i = 0; i < array->len; i++) {
			guint v = g_array_index (array, guint, i);

			g_assert_true (nf_vlan_set_contains (set, v));
			if (i > 0)
				g_assert_cmpuint (g_array_index (array, guint, i - 1), <, v);
		}
	}

	/* The canonical text is itself a list nestfarm accepts (it is stored
	 * in the state file and the domain metadata, and read back). */
	again = nf_vlan_set_parse (text, &error);
	g_assert_no_error (error);
	g_assert_nonnull (again);
	assert_same_set (set, again);
	text_again = nf_vlan_set_to_string (again);
	g_assert_cmpstr (text_again, ==, text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	/* A list arrives as a C string: it ends at the first NUL. */
	g_autofree gchar *spec = g_strndup ((const gchar *) data, size);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfVlanSet) set = nf_vlan_set_parse (spec, &error);

	if (set == NULL) {
		nf_fuzz_assert_refusal (error, g_utf8_validate (spec, -1, NULL));
		return 0;
	}
	g_assert_no_error (error);
	/* only text is ever accepted */
	g_assert_true (g_utf8_validate (spec, -1, NULL));
	check_set (set);
	return 0;
}
