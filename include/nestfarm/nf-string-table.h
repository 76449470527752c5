/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One string table per enum (systemd's DEFINE_STRING_TABLE_LOOKUP): a state
 * or kind is an enum in the code, and its name comes from one table, so no
 * code compares names. */

/* Defines name_to_string (NULL for a value out of range) and
 * name_from_string (FALSE for a name the table lacks) for the enum @type,
 * whose names are @table, indexed by value. The static assertion holds the
 * table to one name per value below @last; declare both functions in a
 * header. */
#define NF_DEFINE_STRING_TABLE(name, type, table, last)                            \
	G_STATIC_ASSERT (G_N_ELEMENTS (table) == (last));                          \
	const gchar *name##_to_string (type value)                                 \
	{                                                                          \
		g_return_val_if_fail ((guint) value < G_N_ELEMENTS (table), NULL); \
		return table[value];                                               \
	}                                                                          \
	gboolean name##_from_string (const gchar *text, type *value)               \
	{                                                                          \
		for (guint i = 0; text != NULL && i < G_N_ELEMENTS (table); i++) { \
			if (g_str_equal (table[i], text)) {                        \
				*value = (type) i;                                 \
				return TRUE;                                       \
			}                                                          \
		}                                                                  \
		return FALSE;                                                      \
	}

G_END_DECLS
