/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define NF_TYPE_OVS (nf_ovs_get_type ())
G_DECLARE_FINAL_TYPE (NfOvs, nf_ovs, NF, OVS, GObject)

/* One port on a bridge, as OVSDB has it. */
typedef struct {
	gchar *name;
	gchar *bridge;
	guint tag;        /* 0: none */
	GArray *trunks;   /* of guint; empty: every VLAN */
	gchar *vm_uuid;   /* external_ids:vm-id, set by libvirt; NULL if none */
	gchar *attached_mac;
} NfOvsPort;

void nf_ovs_port_free (NfOvsPort *port);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfOvsPort, nf_ovs_port_free)

/* @db: the OVSDB socket ("unix:/run/openvswitch/db.sock" style), NULL for
 * the default. @timeout_ms bounds every OVS request: a stuck OVS is
 * NF_ERROR_OPENVSWITCH after it, never a hang. All calls block: worker
 * threads only. */
NfOvs *nf_ovs_new (const gchar *db, guint timeout_ms);

/* Makes @bridge if missing (datapath_type @datapath: "system" or "netdev")
 * and sets its MAC learning limits (other_config:mac-aging-time and
 * mac-table-size; 0 leaves one as OVS has it). Idempotent. */
gboolean nf_ovs_ensure_bridge (NfOvs *self,
			       const gchar *bridge,
			       const gchar *datapath,
			       guint mac_aging_seconds,
			       guint mac_table_size,
			       GError **error);
gboolean nf_ovs_bridge_exists (NfOvs *self, const gchar *bridge, gboolean *exists, GError **error);
/* Every port on @bridge (NULL: on every bridge), of NfOvsPort. */
GPtrArray *nf_ovs_list_ports (NfOvs *self, const gchar *bridge, GError **error);
/* Removes @port only if its external_ids:vm-id is @vm_uuid (a port that is
 * not that domain's is never touched: NF_ERROR_NOT_FOUND). */
gboolean nf_ovs_remove_port (NfOvs *self, const gchar *port, const gchar *vm_uuid, GError **error);
/* Answers within the timeout? */
gboolean nf_ovs_ping (NfOvs *self, GError **error);

G_END_DECLS
