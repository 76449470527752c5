/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nf-auth.h"
#include "nf-manager.h"

G_BEGIN_DECLS

/* The daemon on D-Bus: the model exported through the generated skeletons,
 * and method calls turned into manager operations. */

#define NF_TYPE_BUS (nf_bus_get_type ())
G_DECLARE_FINAL_TYPE (NfBus, nf_bus, NF, BUS, GObject)

NfBus *nf_bus_new (NfManager *manager, NfAuth *auth);
/* Exports the Manager, the ObjectManager and every pool, node and job at
 * /org/nestfarm/Farm1 on @connection, and keeps them in step. */
gboolean nf_bus_export (NfBus *self, GDBusConnection *connection, GError **error);

G_END_DECLS
