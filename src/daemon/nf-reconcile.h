/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nf-manager.h"

G_BEGIN_DECLS

/* Bringing the model in line with libvirt: at start, and after libvirt comes
 * back. */

/* Makes the model match libvirt at start: adopts tagged domains, finishes
 * or rolls back what a crashed daemon left half-done (the intents in the
 * state file), removes overlays nestfarm made that no domain uses, and
 * logs what it did. Never touches what is not nestfarm's. */
void nf_reconcile_async (NfManager *self,
			 GCancellable *cancellable,
			 GAsyncReadyCallback cb,
			 gpointer user_data);
gboolean nf_reconcile_finish (NfManager *self, GAsyncResult *res, GError **error);

/* After libvirt came back: re-reads the nodes of every idle pool. */
void nf_reconcile_after_reconnect (NfManager *self);

G_END_DECLS
