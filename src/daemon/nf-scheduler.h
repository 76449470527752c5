/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "nf-model.h"
#include "nf-operations.h"

G_BEGIN_DECLS

/* Admission and scheduling: whether the host has the memory for an
 * operation, and the order operations run in (one at a time per pool, the
 * others queued behind it). */

/* What the host can give nodes at all: its memory less MemoryReserveMiB,
 * times Overcommit. A copy, for checks that run in worker threads. */
typedef struct {
	guint64 total_mib;
	guint64 reserve_mib;
	gdouble overcommit;
} NfMemoryBound;

gdouble nf_memory_bound_limit_mib (const NfMemoryBound *bound);

typedef struct _NfScheduler NfScheduler;

NfScheduler *nf_scheduler_new (NfModel *model);
void nf_scheduler_free (NfScheduler *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfScheduler, nf_scheduler_free)

/* TRUE when @need_mib more fits in @bound (the memory of @host) beside
 * what the nodes on @host hold and what is admitted there already; else an
 * InsufficientResources error about @what, with every number. @host NULL:
 * the whole farm's holdings (a single host). */
gboolean nf_scheduler_admit (NfScheduler *self,
			     const NfMemoryBound *bound,
			     const gchar *host,
			     guint64 need_mib,
			     const gchar *what,
			     GError **error);
/* How much more fits on @host (@bound its memory): 0 when nothing does. */
guint64 nf_scheduler_free_mib (NfScheduler *self, const NfMemoryBound *bound, const gchar *host);
/* TRUE when @pool's queue has room for one more operation; else Busy. */
gboolean nf_scheduler_has_room (NfScheduler *self, const gchar *pool, GError **error);
/* Queues @op behind its pool's running operation, or runs it. */
void nf_scheduler_submit (NfScheduler *self, NfOp *op);
/* Ends @job's operation if it is still queued (cancelled). */
void nf_scheduler_cancel_queued (NfScheduler *self, NfJob *job);

G_END_DECLS
