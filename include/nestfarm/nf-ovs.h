/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Open vSwitch through its database: the trunk bridges nodes plug into, and
 * the ports libvirt puts on them. */

#define NF_TYPE_OVS (nf_ovs_get_type ())
G_DECLARE_FINAL_TYPE (NfOvs, nf_ovs, NF, OVS, GObject)

/* One port on a bridge, as OVSDB has it. */
typedef struct {
	gchar *name;
	gchar *bridge;
	guint tag;      /* 0: none */
	GArray *trunks; /* of guint; empty: every VLAN */
	gchar *vm_uuid; /* external_ids:vm-id, set by libvirt; NULL if none */
	gchar *attached_mac;
} NfOvsPort;

void nf_ovs_port_free (NfOvsPort *port);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfOvsPort, nf_ovs_port_free)

/* @db: where ovsdb-server listens: "unix:PATH" (or a bare absolute path)
 * or "tcp:IP:PORT"; NULL or "" for unix:/run/openvswitch/db.sock. Anything
 * else makes every call fail with NF_ERROR_OPENVSWITCH (a host setting,
 * not the caller's argument).
 * @timeout_ms bounds each call as a whole (connect, requests, waiting for
 * ovs-vswitchd): a stuck OVS is NF_ERROR_OPENVSWITCH after it, never a
 * hang; 0 for 5000. Each call uses a connection of its own, so calls may
 * run in several threads at once. All calls block: worker threads only. */
NfOvs *nf_ovs_new (const gchar *db, guint timeout_ms);

/* Makes @bridge if missing (datapath_type @datapath: "system" or "netdev")
 * and sets its MAC learning limits (other_config:mac-aging-time, 15 to
 * 3600 s, and mac-table-size, 10 to 1000000: what ovs-vswitchd honours;
 * 0 leaves one as OVS has it; other other_config keys are kept).
 * Idempotent: an existing bridge is kept (same row), only its limits are
 * set, and only if they differ. Returns once ovs-vswitchd has applied the
 * change and the bridge is up; a bridge it made that ovs-vswitchd could
 * not bring up (datapath "system" without the kernel module) is removed
 * again. Errors: a bad name, datapath or limit NF_ERROR_INVALID_ARGUMENT
 * (nothing touched); an existing bridge with another datapath
 * NF_ERROR_EXISTS (it is never switched); another writer changing the
 * bridge throughout NF_ERROR_BUSY; OVS trouble
 * NF_ERROR_OPENVSWITCH (on an ovs-vswitchd timeout the database keeps
 * the bridge, which ovs-vswitchd makes once it runs). */
gboolean nf_ovs_ensure_bridge (NfOvs *self,
			       const gchar *bridge,
			       const gchar *datapath,
			       guint mac_aging_seconds,
			       guint mac_table_size,
			       GError **error);
gboolean nf_ovs_bridge_exists (NfOvs *self, const gchar *bridge, gboolean *exists, GError **error);
/* Every port on @bridge (NULL: on every bridge), of NfOvsPort, sorted by
 * bridge and name; a bridge's own internal port is among them. trunks
 * ascending. A missing @bridge is NF_ERROR_NOT_FOUND. */
GPtrArray *nf_ovs_list_ports (NfOvs *self, const gchar *bridge, GError **error);
/* Removes @port only if its external_ids:vm-id is @vm_uuid (compared
 * without regard to case); a port that is not that domain's, or no longer
 * there, is never touched: NF_ERROR_NOT_FOUND. The check and the removal
 * are one transaction, so a vnetN name libvirt has meanwhile given to
 * another domain is safe. */
gboolean nf_ovs_remove_port (NfOvs *self, const gchar *port, const gchar *vm_uuid, GError **error);
/* Does ovsdb-server answer within the timeout, with an initialised
 * Open_vSwitch database? (Says nothing of ovs-vswitchd.) */
gboolean nf_ovs_ping (NfOvs *self, GError **error);

G_END_DECLS
