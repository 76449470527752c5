/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "fuzz-names"

#include "config.h"

#include "nestfarm/nf-names.h"
#include "nestfarm/nf-template.h"
#include "nf-fuzz.h"

/* Pool and node names, profile names and D-Bus path components: each
 * parser agrees with a plain reading of the contract, and what is built
 * from a name parses back to it. */

/* The contract: 1 to 32 of a-z, 0-9 and '-', a letter first, no '-' last. */
static gboolean
is_pool_name (const gchar *name)
{
	gsize len = strlen (name);

	if (len < 1 || len > NF_POOL_NAME_MAX || !g_ascii_islower (name[0]) || name[len - 1] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '-')
			return FALSE;
	}
	return TRUE;
}

static gboolean
is_profile_name (const gchar *name)
{
	gsize len = strlen (name);

	if (len < 1 || len > NF_PROFILE_NAME_MAX)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '-')
			return FALSE;
	}
	return TRUE;
}

static void
check_pool_name (const gchar *text, gboolean utf8)
{
	g_autoptr (GError) error = NULL;
	gboolean valid = nf_pool_name_validate (text, &error);

	g_assert_cmpint (valid, ==, is_pool_name (text));
	if (!valid)
		nf_fuzz_assert_refusal (error, utf8);
	else
		g_assert_no_error (error);
}

static void
check_profile_name (const gchar *text, gboolean utf8)
{
	g_autoptr (GError) error = NULL;
	gboolean valid = nf_profile_name_validate (text, &error);

	g_assert_cmpint (valid, ==, is_profile_name (text));
	if (!valid)
		nf_fuzz_assert_refusal (error, utf8);
}

/* Node names are POOL-INDEX with INDEX in canonical decimal, so a node
 * has exactly one name: parse and build are inverses. */
static void
check_node_name (const gchar *text, gboolean utf8)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *pool = NULL;
	g_autofree gchar *rebuilt = NULL;
	guint index = 0;

	if (!nf_node_name_parse (text, &pool, &index, &error)) {
		nf_fuzz_assert_refusal (error, utf8);
		g_assert_null (pool);
		return;
	}
	g_assert_true (is_pool_name (pool));
	g_assert_cmpuint (index, >=, 1);
	g_assert_cmpuint (index, <=, NF_NODE_INDEX_MAX);
	rebuilt = nf_node_name_build (pool, index);
	g_assert_cmpstr (rebuilt, ==, text);
}

static void
check_node_name_build (const gchar *pool, guint index)
{
	g_autofree gchar *name = nf_node_name_build (pool, index);
	g_autofree gchar *parsed_pool = NULL;
	guint parsed_index = 0;

	g_assert_true (nf_node_name_parse (name, &parsed_pool, &parsed_index, NULL));
	g_assert_cmpstr (parsed_pool, ==, pool);
	g_assert_cmpuint (parsed_index, ==, index);
}

static gboolean
is_path_char (gchar c)
{
	return g_ascii_isalnum (c) || c == '_';
}

/* escape(x) is a valid object path element that unescapes to x; unescape
 * takes only what escape makes, so two paths never name one object. */
static void
check_path_component (const gchar *text)
{
	g_autofree gchar *escaped = nf_path_component_escape (text);
	g_autofree gchar *back = nf_path_component_unescape (escaped);
	g_autofree gchar *unescaped = nf_path_component_unescape (text);
	g_autofree gchar *path = g_strconcat ("/org/nestfarm/Farm1/pool/", escaped, NULL);

	g_assert_true (escaped[0] != '\0');
	for (const gchar *p = escaped; *p != '\0'; p++)
		g_assert_true (is_path_char (*p));
	g_assert_true (g_variant_is_object_path (path));
	g_assert_nonnull (back);
	g_assert_cmpstr (back, ==, text);

	if (unescaped != NULL) {
		g_autofree gchar *again = nf_path_component_escape (unescaped);

		g_assert_cmpstr (again, ==, text);
	}
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	/* Names arrive as C strings: they end at the first NUL. */
	g_autofree gchar *text = g_strndup ((const gchar *) data, size);
	gboolean utf8 = g_utf8_validate (text, -1, NULL);

	check_pool_name (text, utf8);
	check_profile_name (text, utf8);
	check_node_name (text, utf8);
	check_path_component (text);
	if (is_pool_name (text)) {
		check_node_name_build (text, 1);
		check_node_name_build (text, NF_NODE_INDEX_MAX);
		check_node_name_build (text, 1 + (guint) (size * 7919u % NF_NODE_INDEX_MAX));
	}
	return 0;
}
