/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/* What nf-storage.c shares with nf-base-image.c and nf-storage-seed.c. */

/* The storage pool @pool_name; NF_ERROR_NOT_FOUND if libvirt has none. */
virStoragePoolPtr nf_storage_lookup_pool (virConnectPtr conn, const gchar *pool_name, GError **error);

G_END_DECLS
