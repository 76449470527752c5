/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nestfarm/nf-vlan.h"

G_BEGIN_DECLS

/* OVN's northbound database as nestfarm writes it: a pool's trunk across
 * hosts is a logical switch of its own that carries tagged frames
 * (other_config:vlan-passthru), a node's trunk NIC one of its ports, named
 * by a UUID (libvirt takes an OVS interfaceid only as a UUID) and accepting
 * any MAC (addresses "unknown", no port security: the nested hypervisors'
 * own guests are behind it). Each host's ovn-controller binds a port when
 * libvirt plugs the NIC into its br-int with that interfaceid. Switches and
 * ports carry external_ids nestfarm-instance (the Instance setting, "" for
 * the default) and nestfarm-pool or nestfarm-node; nothing without them is
 * ever changed. Every call is one short connection with a deadline
 * (blocking: worker threads). Failures are NF_ERROR_OPENVSWITCH. */

typedef struct _NfOvn NfOvn;

/* @northbound: an OVSDB remote (unix:PATH, tcp:HOST:PORT). */
NfOvn *nf_ovn_new (const gchar *northbound, const gchar *instance, guint timeout_ms);
void nf_ovn_free (NfOvn *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfOvn, nf_ovn_free)

/* The logical port of node @index of @pool: always the same UUID for the
 * same instance, pool and index (a hash, as a node's MACs are). */
gchar *nf_ovn_port_name (const gchar *instance, const gchar *pool, guint index);

/* The integration bridge ovn-controller makes on each host (its
 * ovn-bridge default): the trunk NICs of an OVN pool are plugged there. */
#define NF_OVN_INTEGRATION_BRIDGE "br-int"

/* The switch of @pool, made when missing (named nf-POOL, or
 * nf-INSTANCE-POOL for another instance), in one transaction with the
 * ACLs of its VLAN list (@vlans NULL or all: none; see
 * nf_ovn_vlan_match). */
gboolean nf_ovn_ensure_switch (NfOvn *self, const gchar *pool, const NfVlanSet *vlans, GError **error);
/* The ACL match of the frames a VLAN list passes, such as "vlan.present &&
 * ((vlan.vid >= 100 && vlan.vid <= 199) || vlan.vid == 300)"; @vlans is
 * an explicit list. Frames not matched (untagged ones too) are dropped in
 * both directions, as an Open vSwitch trunk port with a VLAN list does. */
gchar *nf_ovn_vlan_match (const NfVlanSet *vlans);
/* The pools that have a switch of this instance. */
GPtrArray *nf_ovn_list_switches (NfOvn *self, GError **error);
/* Port @port of node @node on @pool's switch (which must exist): made when
 * missing, left as it is when it is there already (a step done again). */
gboolean nf_ovn_add_port (NfOvn *self,
			  const gchar *pool,
			  const gchar *node,
			  const gchar *port,
			  GError **error);
/* Port @port (ours) leaves its switch, and so the database; none is
 * success. */
gboolean nf_ovn_remove_port (NfOvn *self, const gchar *port, GError **error);
/* @pool's switch and every port left on it go; none is success. */
gboolean nf_ovn_remove_switch (NfOvn *self, const gchar *pool, GError **error);
/* The names of the ports on @pool's switch (empty when it has none or
 * there is no switch). */
GPtrArray *nf_ovn_list_ports (NfOvn *self, const gchar *pool, GError **error);

G_END_DECLS
