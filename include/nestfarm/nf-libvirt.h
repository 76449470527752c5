/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

G_BEGIN_DECLS

/* libvirt for the rest of nestfarm: its errors as GErrors, its event loop, and
 * NfConnection, the connection that keeps itself alive and reports domain events. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStorageVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virNetwork, virNetworkFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStream, virStreamFree)

/* The one place where libvirt's last error becomes a GError, with the
 * message "<what>: <libvirt's message>", and is then reset. The code is
 * NF_ERROR_LIBVIRT, or a more precise one where libvirt's says so:
 * NO_DOMAIN/NO_STORAGE_VOL/NO_STORAGE_POOL/NO_NETWORK -> NOT_FOUND,
 * DOM_EXIST/STORAGE_VOL_EXIST/NETWORK_EXIST -> EXISTS, OPERATION_TIMEOUT
 * ("cannot acquire state change lock") -> BUSY, CPU_INCOMPATIBLE ->
 * INVALID_ARGUMENT. @what says what was being
 * done, in user words; @error may be NULL.
 * Always returns FALSE so callers can `return nf_libvirt_set_error (...)`. */
gboolean nf_libvirt_set_error (GError **error, const gchar *what, ...) G_GNUC_PRINTF (2, 3);

/* Makes libvirt log nothing to stderr by itself (errors reach us through
 * nf_libvirt_set_error only), ignores SIGPIPE in the whole process (as
 * libvirt asks of its users: a peer that left must fail a call, not kill
 * the process) and registers nestfarm's libvirt event loop:
 * a private GMainContext in a thread of its own, never GLib's default
 * context (which libvirt's default implementation would iterate). Call
 * before any virConnectOpen of the process; later calls do nothing.
 * nf_connection_open calls it too. */
void nf_libvirt_init (void);

#define NF_TYPE_CONNECTION (nf_connection_get_type ())
G_DECLARE_FINAL_TYPE (NfConnection, nf_connection, NF, CONNECTION, GObject)

/* Lifecycle event of a domain, delivered on the GMainContext that was the
 * thread-default when the NfConnection was made ("domain-event" signal):
 *   void (*domain_event) (NfConnection *, const gchar *name,
 *                         const gchar *uuid, gint event, gint detail)
 * where event/detail are virDomainEventType and its detail enum.
 * "agent-event": a domain's guest agent connected or went away:
 *   void (*agent_event) (NfConnection *, const gchar *name,
 *                        const gchar *uuid, gboolean connected)
 * Other signals: "connected" and "disconnected" (no arguments), emitted on
 * the same context, in order. "connected" follows every successful
 * connection, the first open included; "disconnected" follows a lost
 * connection (libvirtd gone, keepalive 5 s x 3 unanswered) and an
 * explicit close. After a loss the object reconnects by itself in its own
 * thread (0.5 s doubling to 30 s between attempts) and subscribes to
 * events again; after "connected" the owner re-reads state (reconcile),
 * since events during the gap are lost. Signals still queued when the
 * object is finalised are dropped. */

/* @uri: NULL for qemu:///system. Nothing is opened yet. */
NfConnection *nf_connection_new (const gchar *uri);
const gchar *nf_connection_get_uri (NfConnection *self);
/* Opens the connection (blocking: call from a worker thread, or at start).
 * A failure here is returned, not retried; once open, losses are retried
 * until nf_connection_close. Opening an open connection does nothing. */
gboolean nf_connection_open (NfConnection *self, GError **error);
gboolean nf_connection_is_alive (NfConnection *self);
/* A new reference to a live virConnect, for one piece of work in any
 * thread; NF_ERROR_LIBVIRT "not connected" while reconnecting. Where a
 * libvirtd serves the URI, calls are spread over the main connection and
 * up to three spares (opened in the background after each connect; a
 * lost spare is reopened), since libvirtd serves only five calls of one
 * client connection at once: each call gets the next one in turn. Domain
 * events come from the main connection only. Never blocks on libvirt. */
virConnectPtr nf_connection_ref_conn (NfConnection *self, GError **error);
/* How many connections calls are spread over now: 0 while not connected,
 * 1 on an in-process driver or until the spares are open, at most 4. */
guint nf_connection_count_open (NfConnection *self);
/* Defines the domain @xml, named @name, on @conn (a reference from
 * nf_connection_ref_conn) with libvirt's schema validation. The first such
 * define on each connection runs alone and the others wait for it (one
 * define's time): libvirtd's libxml2 sets its schema types up lazily and
 * not thread-safely, so validated defines at once on a libvirtd that has
 * not done one yet can fail. @shape (nullable): a key for the form of
 * @xml, equal for XML that differs only in values any schema-valid XML may
 * carry there (names, paths, addresses nestfarm made and checked): once
 * XML of a shape passed the schema check on this connection, later ones of
 * that shape skip it (libvirtd reads its whole schema again for each check)
 * and get libvirt's parsing and semantic checks alone. NULL: always checked.
 * Blocking: worker threads only. On failure NULL and "libvirt refused the
 * domain of <name>: <libvirt's reason>". */
virDomainPtr nf_connection_define_domain (NfConnection *self,
					  virConnectPtr conn,
					  const gchar *xml,
					  const gchar *name,
					  const gchar *shape,
					  GError **error);
/* Stops reconnecting, deregisters the callbacks and closes the connection
 * (references from nf_connection_ref_conn stay valid until unreffed).
 * It may be opened again. Disposing the object does the same. */
void nf_connection_close (NfConnection *self);

G_END_DECLS
