/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where the daemon's objects live on D-Bus: what the bus exports them at
 * and what method replies name. */

#define NF_BUS_ROOT "/org/nestfarm/Farm1"

/* Object paths, with names escaped as sd_bus_path_encode does. */
gchar *nf_bus_pool_path (const gchar *name);
gchar *nf_bus_node_path (const gchar *name);
gchar *nf_bus_host_path (const gchar *name);
gchar *nf_bus_job_path (guint id);

G_END_DECLS
