/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The error codes of NF_ERROR, which the engine, the daemon and the CLI share. */

/* One error domain for the whole product; each code travels over D-Bus as
 * org.nestfarm.Farm1.Error.<Name> (see nf-error.c for the table). */
#define NF_ERROR (nf_error_quark ())

typedef enum {
	NF_ERROR_INVALID_ARGUMENT,
	NF_ERROR_NOT_FOUND,
	NF_ERROR_EXISTS,
	NF_ERROR_INSUFFICIENT_RESOURCES,
	NF_ERROR_NOT_AUTHORIZED,
	NF_ERROR_NESTED_UNAVAILABLE,
	NF_ERROR_LIBVIRT,
	NF_ERROR_OPENVSWITCH,
	NF_ERROR_BUSY,
	NF_ERROR_CANCELLED,
	NF_ERROR_FAILED,
	NF_ERROR_LAST /*< skip >*/
} NfError;

GQuark nf_error_quark (void);
const gchar *nf_error_to_dbus_name (NfError code);

G_END_DECLS
