/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* VLAN lists such as "100-199,300" or "all": the VLANs a pool's trunk port
 * carries. */

#define NF_VLAN_MIN 1
#define NF_VLAN_MAX 4094

/* The VLANs a trunk port carries: every VLAN, or an explicit set. */
typedef struct _NfVlanSet NfVlanSet;

NfVlanSet *nf_vlan_set_parse (const gchar *spec, GError **error);
void nf_vlan_set_free (NfVlanSet *self);
gboolean nf_vlan_set_is_all (const NfVlanSet *self);
gboolean nf_vlan_set_contains (const NfVlanSet *self, guint vlan);
guint nf_vlan_set_count (const NfVlanSet *self);
gchar *nf_vlan_set_to_string (const NfVlanSet *self);
GArray *nf_vlan_set_to_array (const NfVlanSet *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfVlanSet, nf_vlan_set_free)

G_END_DECLS
