/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What nf-ovs.c shares with nf-ovs-ports.c. */

#include "nestfarm/nf-ovs.h"
#include "nf-ovsdb-private.h"

G_BEGIN_DECLS

/* A connection with the deadline of one call. */
NfOvsdbClient *nf_ovs_connect (NfOvs *self, GError **error);
/* Bridge and port names become Linux interface names. */
gboolean nf_ovs_validate_ifname (const gchar *name, const gchar *what, GError **error);
JsonNode *nf_ovs_name_is (const gchar *name);
JsonNode *nf_ovs_uuid_is (const gchar *uuid);
/* Asks ovs-vswitchd to tell when it has applied the transaction; returns
 * the index of the select that reads the new next_cfg. */
guint nf_ovs_add_next_cfg (JsonArray *ops);
/* @column of the Open_vSwitch row in @rows. */
gboolean nf_ovs_read_root_int (JsonArray *rows, const gchar *column, gint64 *value, GError **error);
/* Waits until ovs-vswitchd has applied configuration @next_cfg. */
gboolean nf_ovs_wait_applied (NfOvs *self,
			      NfOvsdbClient *client,
			      gint64 next_cfg,
			      const gchar *what,
			      GError **error);

G_END_DECLS
