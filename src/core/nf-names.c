/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-names"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"

/* The contract's rules for pool names and node names (POOL-INDEX), and the
 * escaping of names into D-Bus object path components. */

static gboolean
is_name_char (gchar c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

gboolean
nf_names_validate (const gchar *what, const gchar *name, GError **error)
{
	gsize len;

	if (name == NULL || name[0] == '\0') {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The %s name is empty; give 1 to %d characters of a-z, 0-9 and '-'.",
			     what,
			     NF_POOL_NAME_MAX);
		return FALSE;
	}
	len = strnlen (name, NF_POOL_NAME_MAX + 1);
	if (len > NF_POOL_NAME_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The %s name is longer than %d characters; choose a shorter one.",
			     what,
			     NF_POOL_NAME_MAX);
		return FALSE;
	}
	if (!(name[0] >= 'a' && name[0] <= 'z')) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The %s name must start with a lowercase letter (a-z).",
			     what);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		if (!is_name_char (name[i])) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The %s name has a character that is not allowed at position %" G_GSIZE_FORMAT
				     "; use only a-z, 0-9 and '-'.",
				     what,
				     i + 1);
			return FALSE;
		}
	}
	if (name[len - 1] == '-') {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The %s name must not end with '-'.",
			     what);
		return FALSE;
	}
	return TRUE;
}

gboolean
nf_pool_name_validate (const gchar *name, GError **error)
{
	return nf_names_validate ("pool", name, error);
}

gboolean
nf_profile_name_validate (const gchar *name, GError **error)
{
	gsize len = name != NULL ? strnlen (name, NF_PROFILE_NAME_MAX + 1) : 0;

	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '-')
			len = 0;
	}
	if (len == 0 || len > NF_PROFILE_NAME_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The profile name is not valid; use 1 to %d characters of a-z, 0-9 and '-'.",
			     NF_PROFILE_NAME_MAX);
		return FALSE;
	}
	return TRUE;
}

gchar *
nf_node_name_build (const gchar *pool, guint index)
{
	g_return_val_if_fail (pool != NULL, NULL);
	g_return_val_if_fail (index >= 1, NULL);
	return g_strdup_printf ("%s-%u", pool, index);
}

gboolean
nf_node_name_parse (const gchar *node_name, gchar **pool, guint *index, GError **error)
{
	const gchar *dash;
	g_autofree gchar *pool_part = NULL;
	guint64 value = 0;

	g_return_val_if_fail (node_name != NULL, FALSE);

	dash = strrchr (node_name, '-');
	if (dash == NULL || dash == node_name || dash[1] == '\0') {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "'%s' is not a node name; node names look like POOL-INDEX, for example contrail-1.",
			     node_name);
		return FALSE;
	}
	/* Canonical decimal only, so one node has exactly one name: digits
	 * alone (g_ascii_string_to_unsigned lets a leading '\v' through). */
	if (dash[1] == '0' || strspn (dash + 1, "0123456789") != strlen (dash + 1) ||
	    !g_ascii_string_to_unsigned (dash + 1, 10, 1, NF_NODE_INDEX_MAX, &value, NULL)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "'%s' is not a node name; the index after the last '-' must be a number from 1 to %d.",
			     node_name,
			     NF_NODE_INDEX_MAX);
		return FALSE;
	}
	pool_part = g_strndup (node_name, dash - node_name);
	if (!nf_pool_name_validate (pool_part, error)) {
		g_prefix_error (error, "'%s' is not a node name: ", node_name);
		return FALSE;
	}
	if (pool != NULL)
		*pool = g_steal_pointer (&pool_part);
	if (index != NULL)
		*index = (guint) value;
	return TRUE;
}

/* The D-Bus object path component for a name, as sd_bus_path_encode does:
 * every byte outside [A-Za-z0-9] becomes '_' and two lowercase hex digits. */
gchar *
nf_path_component_escape (const gchar *name)
{
	GString *out;

	g_return_val_if_fail (name != NULL, NULL);

	if (name[0] == '\0')
		return g_strdup ("_");
	out = g_string_sized_new (strlen (name) * 3);
	for (const guchar *p = (const guchar *) name; *p != '\0'; p++) {
		if (g_ascii_isalnum (*p))
			g_string_append_c (out, (gchar) *p);
		else
			g_string_append_printf (out, "_%02x", *p);
	}
	return g_string_free (out, FALSE);
}

/* Returns NULL unless @component is the canonical escape of some name, so a
 * path that merely decodes to a name never aliases the real one. */
gchar *
nf_path_component_unescape (const gchar *component)
{
	g_autoptr (GString) out = NULL;
	g_autofree gchar *again = NULL;

	g_return_val_if_fail (component != NULL, NULL);

	if (g_strcmp0 (component, "_") == 0)
		return g_strdup ("");
	out = g_string_new (NULL);
	for (const gchar *p = component; *p != '\0'; p++) {
		gint hi, lo;

		if (g_ascii_isalnum (*p)) {
			g_string_append_c (out, *p);
			continue;
		}
		if (*p != '_')
			return NULL;
		hi = g_ascii_xdigit_value (p[1]);
		lo = hi < 0 ? -1 : g_ascii_xdigit_value (p[2]);
		if (hi < 0 || lo < 0)
			return NULL;
		if ((hi << 4 | lo) == 0)
			return NULL;
		g_string_append_c (out, (gchar) (hi << 4 | lo));
		p += 2;
	}
	again = nf_path_component_escape (out->str);
	if (g_strcmp0 (again, component) != 0)
		return NULL;
	return g_string_free (g_steal_pointer (&out), FALSE);
}
