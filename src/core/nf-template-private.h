/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libxml/tree.h>

#include "nestfarm/nf-template.h"

G_BEGIN_DECLS

/* What rendering (nf-template-render.c) needs from the profiles
 * (nf-template.c) and the node specs (nf-node-spec.c). */

/* Appends nestfarm's <nestfarm:node> element for @spec (every field filled:
 * defaults resolved, VLANs canonical, creation time set) to @metadata. */
void nf_node_spec_write_metadata (const NfNodeSpec *spec, xmlNode *metadata);

/* The template text of @self, checked at load (nf-template.c). */
const gchar *nf_profile_get_template (NfProfile *self, gsize *len);

G_END_DECLS
