/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-bus-paths"

#include "config.h"

#include "nestfarm/nf-names.h"
#include "nf-bus-paths.h"

/* The object paths of pools, nodes and jobs: one place that both the bus
 * (exporting) and the method table (replying) read. */

gchar *
nf_bus_pool_path (const gchar *name)
{
	g_autofree gchar *escaped = nf_path_component_escape (name);

	return g_strdup_printf (NF_BUS_ROOT "/pool/%s", escaped);
}

gchar *
nf_bus_node_path (const gchar *name)
{
	g_autofree gchar *escaped = nf_path_component_escape (name);

	return g_strdup_printf (NF_BUS_ROOT "/node/%s", escaped);
}

gchar *
nf_bus_host_path (const gchar *name)
{
	g_autofree gchar *escaped = nf_path_component_escape (name);

	return g_strdup_printf (NF_BUS_ROOT "/host/%s", escaped);
}

gchar *
nf_bus_job_path (guint id)
{
	return g_strdup_printf (NF_BUS_ROOT "/job/%u", id);
}
