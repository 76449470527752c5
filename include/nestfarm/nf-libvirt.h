/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStorageVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virNetwork, virNetworkFree)

/* The one place where libvirt's last error becomes a GError
 * (NF_ERROR_LIBVIRT, or a more precise code where libvirt's says so:
 * NO_DOMAIN/NO_STORAGE_VOL -> NOT_FOUND, DOM_EXIST -> EXISTS,
 * OPERATION_TIMEOUT ...). @what says what was being done, in user words.
 * Always returns FALSE so callers can `return nf_libvirt_set_error (...)`. */
gboolean nf_libvirt_set_error (GError **error, const gchar *what, ...) G_GNUC_PRINTF (2, 3);

/* Makes libvirt log nothing to stderr by itself; errors reach us through
 * nf_libvirt_set_error only. Call once per process before any connection. */
void nf_libvirt_init (void);

#define NF_TYPE_CONNECTION (nf_connection_get_type ())
G_DECLARE_FINAL_TYPE (NfConnection, nf_connection, NF, CONNECTION, GObject)

/* Lifecycle event of a domain, delivered on the GMainContext that was the
 * thread-default when the NfConnection was made ("domain-event" signal):
 *   void (*domain_event) (NfConnection *, const gchar *name,
 *                         const gchar *uuid, gint event, gint detail)
 * where event/detail are virDomainEventType and its detail enum.
 * Other signals: "connected" and "disconnected" (no arguments), emitted on
 * the same context; after "connected" following a reconnect the owner
 * re-reads state (reconcile). */

NfConnection *nf_connection_new (const gchar *uri);
const gchar *nf_connection_get_uri (NfConnection *self);
/* Opens the connection (blocking: call from a worker thread, or at start). */
gboolean nf_connection_open (NfConnection *self, GError **error);
gboolean nf_connection_is_alive (NfConnection *self);
/* A new reference to the live virConnect, for one piece of work in any
 * thread; NF_ERROR_LIBVIRT "not connected" while reconnecting. */
virConnectPtr nf_connection_ref_conn (NfConnection *self, GError **error);
void nf_connection_close (NfConnection *self);

G_END_DECLS
