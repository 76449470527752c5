/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-vlan"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-vlan.h"

/* VLAN lists parsed into a set, and a set spelled back in its one canonical
 * form. */

/* A user's list rarely names more than a few ranges; this bound keeps a
 * hostile 60 kB string from being walked element by element forever. */
#define NF_VLAN_SPEC_MAX 4096
/* A message quotes at most this much of the list, not all 4 kB of it. */
#define NF_VLAN_QUOTE_MAX 64

struct _NfVlanSet {
	gboolean all;
	guint8 bits[(NF_VLAN_MAX + 1 + 7) / 8];
};

static void
vlan_set_add (NfVlanSet *self, guint vlan)
{
	self->bits[vlan / 8] |= (guint8) (1u << (vlan % 8));
}

gboolean
nf_vlan_set_contains (const NfVlanSet *self, guint vlan)
{
	g_return_val_if_fail (self != NULL, FALSE);
	if (vlan < NF_VLAN_MIN || vlan > NF_VLAN_MAX)
		return FALSE;
	if (self->all)
		return TRUE;
	return (self->bits[vlan / 8] & (1u << (vlan % 8))) != 0;
}

static gchar *
quote (const gchar *text)
{
	return g_utf8_make_valid (text, MIN (strlen (text), NF_VLAN_QUOTE_MAX));
}

static gboolean
parse_vlan_id (const gchar *text, const gchar *spec, guint *out, GError **error)
{
	guint64 value = 0;
	g_autoptr (GError) error_local = NULL;

	if (text[0] == '\0') {
		g_autofree gchar *shown = quote (spec);

		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The VLAN list '%s' has an empty entry; write ids or ranges such as 100-199,300.",
			     shown);
		return FALSE;
	}
	if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, &error_local)) {
		g_autofree gchar *shown = quote (text);

		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "'%s' in the VLAN list is not a number; VLAN ids are 1 to 4094.",
			     shown);
		return FALSE;
	}
	if (value < NF_VLAN_MIN || value > NF_VLAN_MAX) {
		/* Leading zeros make even a number long. */
		g_autofree gchar *shown = quote (text);

		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "VLAN %s is out of range; VLAN ids are 1 to 4094 (use 'all' for every VLAN).",
			     shown);
		return FALSE;
	}
	*out = (guint) value;
	return TRUE;
}

static gboolean
parse_element (NfVlanSet *self, gchar *element, const gchar *spec, GError **error)
{
	gchar *dash;
	guint first = 0, last = 0;

	g_strstrip (element);
	dash = strchr (element, '-');
	if (dash == NULL) {
		if (!parse_vlan_id (element, spec, &first, error))
			return FALSE;
		vlan_set_add (self, first);
		return TRUE;
	}
	*dash = '\0';
	g_strstrip (element);
	g_strstrip (dash + 1);
	if (!parse_vlan_id (element, spec, &first, error))
		return FALSE;
	if (!parse_vlan_id (dash + 1, spec, &last, error))
		return FALSE;
	if (first > last) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The VLAN range %u-%u runs backwards; write the lower id first (%u-%u).",
			     first,
			     last,
			     last,
			     first);
		return FALSE;
	}
	for (guint v = first; v <= last; v++)
		vlan_set_add (self, v);
	return TRUE;
}

NfVlanSet *
nf_vlan_set_parse (const gchar *spec, GError **error)
{
	g_autoptr (NfVlanSet) self = g_new0 (NfVlanSet, 1);
	g_auto (GStrv) elements = NULL;

	if (spec == NULL || spec[0] == '\0') {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The VLAN list is empty; use 'all' or ids and ranges such as 100-199,300.");
		return NULL;
	}
	if (strnlen (spec, NF_VLAN_SPEC_MAX + 1) > NF_VLAN_SPEC_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The VLAN list is longer than %d characters; use ranges such as 100-199.",
			     NF_VLAN_SPEC_MAX);
		return NULL;
	}
	if (g_strcmp0 (spec, "all") == 0) {
		self->all = TRUE;
		return g_steal_pointer (&self);
	}
	if (!g_utf8_validate (spec, -1, NULL)) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The VLAN list is not valid text; use 'all' or ids and ranges such as 100-199,300.");
		return NULL;
	}
	elements = g_strsplit (spec, ",", -1);
	for (guint i = 0; elements[i] != NULL; i++) {
		if (!parse_element (self, elements[i], spec, error))
			return NULL;
	}
	return g_steal_pointer (&self);
}

void
nf_vlan_set_free (NfVlanSet *self)
{
	g_free (self);
}

gboolean
nf_vlan_set_is_all (const NfVlanSet *self)
{
	g_return_val_if_fail (self != NULL, FALSE);
	return self->all;
}

guint
nf_vlan_set_count (const NfVlanSet *self)
{
	guint n = 0;

	g_return_val_if_fail (self != NULL, 0);
	if (self->all)
		return NF_VLAN_MAX - NF_VLAN_MIN + 1;
	for (guint v = NF_VLAN_MIN; v <= NF_VLAN_MAX; v++)
		n += nf_vlan_set_contains (self, v) ? 1 : 0;
	return n;
}

/* Canonical form: ascending, overlapping and adjacent ranges merged. */
gchar *
nf_vlan_set_to_string (const NfVlanSet *self)
{
	g_autoptr (GString) out = g_string_new (NULL);

	g_return_val_if_fail (self != NULL, NULL);

	if (self->all)
		return g_strdup ("all");
	for (guint v = NF_VLAN_MIN; v <= NF_VLAN_MAX; v++) {
		guint end = v;

		if (!nf_vlan_set_contains (self, v))
			continue;
		while (end < NF_VLAN_MAX && nf_vlan_set_contains (self, end + 1))
			end++;
		if (out->len > 0)
			g_string_append_c (out, ',');
		if (end == v)
			g_string_append_printf (out, "%u", v);
		else
			g_string_append_printf (out, "%u-%u", v, end);
		v = end;
	}
	return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Every VLAN id in the set, ascending; empty for 'all' (an untagged trunk). */
GArray *
nf_vlan_set_to_array (const NfVlanSet *self)
{
	GArray *array = g_array_new (FALSE, FALSE, sizeof (guint));

	g_return_val_if_fail (self != NULL, array);
	if (self->all)
		return array;
	for (guint v = NF_VLAN_MIN; v <= NF_VLAN_MAX; v++) {
		if (nf_vlan_set_contains (self, v))
			g_array_append_val (array, v);
	}
	return array;
}
