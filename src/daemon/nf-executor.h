/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Runs blocking work (libvirt, qemu-img, OVS) in worker threads of its
 * own and reports each result back on the main context. The main loop
 * never waits on it. Each kind of work has its own bound across the whole
 * daemon, so a removal never queues behind a make, nor a make behind a
 * removal. */

typedef struct _NfExecutor NfExecutor;

typedef enum {
	NF_WORK_BUSY,    /* makes, starts, resets: QEMU start-up, qemu-img, disk */
	NF_WORK_WAITING, /* stops, removals: mostly waiting for QEMU and libvirt */
	NF_WORK_N_KINDS,
} NfWorkKind;

/* Runs in a worker thread: returns a result (or NULL) and sets @error on
 * failure. */
typedef gpointer (*NfWorkFunc) (gpointer item, GCancellable *cancellable, GError **error);
/* Runs on the main context when the work is done; owns nothing. */
typedef void (*NfWorkDone) (gpointer item, gpointer result, const GError *error, gpointer user_data);

/* At most @busy NF_WORK_BUSY and @waiting NF_WORK_WAITING at a time (each
 * at least 1); results come back on the thread-default main context of
 * the caller. */
NfExecutor *nf_executor_new (guint busy, guint waiting);
void nf_executor_free (NfExecutor *self);
guint nf_executor_get_parallelism (NfExecutor *self, NfWorkKind kind);
guint nf_executor_get_busy (NfExecutor *self);
/* Queues @work for @item. Work whose @cancellable is cancelled before it
 * starts completes with G_IO_ERROR_CANCELLED without running. @result_free
 * frees the result after @done. */
void nf_executor_submit (NfExecutor *self,
			 NfWorkKind kind,
			 NfWorkFunc work,
			 gpointer item,
			 GDestroyNotify result_free,
			 GCancellable *cancellable,
			 NfWorkDone done,
			 gpointer user_data);
/* Iterates @context until nothing is queued or running (shutdown). */
void nf_executor_drain (NfExecutor *self, GMainContext *context);

G_END_DECLS
