/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-error"

#include "config.h"

#include <gio/gio.h>

#include "nestfarm/nf-error.h"

/* Registers NF_ERROR with GDBus, so that each code reaches D-Bus clients as
 * org.nestfarm.Farm1.Error.<Name>. */

static const GDBusErrorEntry nf_error_entries[] = {
	{NF_ERROR_INVALID_ARGUMENT, "org.nestfarm.Farm1.Error.InvalidArgument"},
	{NF_ERROR_NOT_FOUND, "org.nestfarm.Farm1.Error.NotFound"},
	{NF_ERROR_EXISTS, "org.nestfarm.Farm1.Error.Exists"},
	{NF_ERROR_INSUFFICIENT_RESOURCES, "org.nestfarm.Farm1.Error.InsufficientResources"},
	{NF_ERROR_NOT_AUTHORIZED, "org.nestfarm.Farm1.Error.NotAuthorized"},
	{NF_ERROR_NESTED_UNAVAILABLE, "org.nestfarm.Farm1.Error.NestedUnavailable"},
	{NF_ERROR_LIBVIRT, "org.nestfarm.Farm1.Error.Libvirt"},
	{NF_ERROR_OPENVSWITCH, "org.nestfarm.Farm1.Error.OpenvSwitch"},
	{NF_ERROR_BUSY, "org.nestfarm.Farm1.Error.Busy"},
	{NF_ERROR_CANCELLED, "org.nestfarm.Farm1.Error.Cancelled"},
	{NF_ERROR_FAILED, "org.nestfarm.Farm1.Error.Failed"},
};

/* Every code has its bus name, in enum order. */
G_STATIC_ASSERT (G_N_ELEMENTS (nf_error_entries) == NF_ERROR_LAST);

GQuark
nf_error_quark (void)
{
	static gsize quark = 0;

	g_dbus_error_register_error_domain ("nf-error-quark",
					    &quark,
					    nf_error_entries,
					    G_N_ELEMENTS (nf_error_entries));
	return (GQuark) quark;
}

const gchar *
nf_error_to_dbus_name (NfError code)
{
	g_return_val_if_fail (code < NF_ERROR_LAST, NULL);
	g_return_val_if_fail (nf_error_entries[code].error_code == (gint) code, NULL);
	return nf_error_entries[code].dbus_error_name;
}
