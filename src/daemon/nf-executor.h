/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Runs blocking work (libvirt, qemu-img, OVS) in worker threads, at most
 * 'parallelism' at a time across the whole daemon, and reports each result
 * back on the main context. The main loop never waits on it. */
typedef struct _NfExecutor NfExecutor;

/* Runs in a worker thread: returns a result (or NULL) and sets @error on
 * failure. */
typedef gpointer (*NfWorkFunc) (gpointer item, GCancellable *cancellable, GError **error);
/* Runs on the main context when the work is done; owns nothing. */
typedef void (*NfWorkDone) (gpointer item, gpointer result, const GError *error, gpointer user_data);

NfExecutor *nf_executor_new (guint parallelism);
void nf_executor_free (NfExecutor *self);
guint nf_executor_get_parallelism (NfExecutor *self);
guint nf_executor_get_busy (NfExecutor *self);
/* Queues @work for @item. Work whose @cancellable is cancelled before it
 * starts completes with G_IO_ERROR_CANCELLED without running. @result_free
 * frees the result after @done. */
void nf_executor_submit (NfExecutor *self,
			 NfWorkFunc work,
			 gpointer item,
			 GDestroyNotify result_free,
			 GCancellable *cancellable,
			 NfWorkDone done,
			 gpointer user_data);
/* Iterates @context until nothing is queued or running (shutdown). */
void nf_executor_drain (NfExecutor *self, GMainContext *context);

G_END_DECLS
