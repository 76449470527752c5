/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nestfarm/nf-limits.h"

G_BEGIN_DECLS

/* Pool, host, profile and node names as the contract accepts them, node names built from a
 * pool and an index, and names escaped into D-Bus object path components. */

/* The pool-name rules (pool and snapshot names), with @what ("pool",
 * "snapshot") naming what is wrong. */
gboolean nf_names_validate (const gchar *what, const gchar *name, GError **error);
gboolean nf_pool_name_validate (const gchar *name, GError **error);
/* The host of the LibvirtURI setting (a single-host install has only it;
 * a node whose metadata names no host is on it). Host names follow the
 * pool-name rules: nf_names_validate ("host", ...). */
#define NF_HOST_LOCAL "local"
/* [a-z0-9-]{1,64}: a profile name is a file name, never a path. */
gboolean nf_profile_name_validate (const gchar *name, GError **error);
gchar *nf_node_name_build (const gchar *pool, guint index);
gboolean nf_node_name_parse (const gchar *node_name, gchar **pool, guint *index, GError **error);

gchar *nf_path_component_escape (const gchar *name);
gchar *nf_path_component_unescape (const gchar *component);

G_END_DECLS
