/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-scheduler"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nf-scheduler.h"

/* Admission (memory: what nodes hold, what is admitted, what the host has)
 * and scheduling (one operation per pool at a time; the next one waits in
 * the pool's queue and runs when the running one has ended). */

/* A pool's operations run one after the other; more than this many waiting
 * is a client gone wrong, and each waiting job holds memory. */
#define NF_POOL_QUEUE_MAX 32

struct _NfScheduler {
	NfModel *model;
	GHashTable *queues; /* pool name -> GQueue of NfOp waiting */
};

gdouble
nf_memory_bound_limit_mib (const NfMemoryBound *bound)
{
	guint64 usable = bound->total_mib > bound->reserve_mib ? bound->total_mib - bound->reserve_mib : 0;

	return (gdouble) usable * bound->overcommit;
}

NfScheduler *
nf_scheduler_new (NfModel *model)
{
	NfScheduler *self = g_new0 (NfScheduler, 1);

	self->model = g_object_ref (model);
	self->queues = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);
	return self;
}

void
nf_scheduler_free (NfScheduler *self)
{
	if (self == NULL)
		return;
	g_hash_table_unref (self->queues);
	g_object_unref (self->model);
	g_free (self);
}

/* What the nodes on @host hold and what is admitted there (@host NULL:
 * everywhere). */
static guint64
committed_on (NfScheduler *self, const gchar *host)
{
	NfFarmHost *farm_host;

	if (host == NULL)
		return nf_model_get_memory_committed_mib (self->model) +
		       nf_model_get_memory_pending_mib (self->model);
	farm_host = nf_model_lookup_host (self->model, host);
	return (farm_host != NULL ? nf_farm_host_get_memory_committed_mib (farm_host) : 0) +
	       nf_model_get_host_memory_pending_mib (self->model, host);
}

guint64
nf_scheduler_free_mib (NfScheduler *self, const NfMemoryBound *bound, const gchar *host)
{
	guint64 committed = committed_on (self, host);
	gdouble limit = nf_memory_bound_limit_mib (bound);

	return limit > (gdouble) committed ? (guint64) (limit - (gdouble) committed) : 0;
}

gboolean
nf_scheduler_admit (NfScheduler *self,
		    const NfMemoryBound *bound,
		    const gchar *host,
		    guint64 need_mib,
		    const gchar *what,
		    GError **error)
{
	guint64 committed = committed_on (self, host);
	gdouble limit = nf_memory_bound_limit_mib (bound);
	guint64 free_mib = nf_scheduler_free_mib (self, bound, host);
	g_autofree gchar *on = NULL;

	if (need_mib == 0 || (gdouble) (need_mib + committed) <= limit)
		return TRUE;
	/* a single host's user hears of no hosts */
	if (host != NULL && !g_str_equal (host, NF_HOST_LOCAL))
		on = g_strdup_printf (" on host %s", host);
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INSUFFICIENT_RESOURCES,
		     "Not enough memory%s for %s: needed %" G_GUINT64_FORMAT
		     " MiB, free for nodes %" G_GUINT64_FORMAT " MiB (total %" G_GUINT64_FORMAT
		     " MiB, reserved %" G_GUINT64_FORMAT " MiB, committed %" G_GUINT64_FORMAT
		     " MiB, overcommit %.2f); use fewer or smaller nodes or stop "
		     "another pool.",
		     on != NULL ? on : "",
		     what,
		     need_mib,
		     free_mib,
		     bound->total_mib,
		     bound->reserve_mib,
		     committed,
		     bound->overcommit);
	return FALSE;
}

gboolean
nf_scheduler_has_room (NfScheduler *self, const gchar *pool, GError **error)
{
	GQueue *queue = g_hash_table_lookup (self->queues, pool);

	if (queue == NULL || g_queue_get_length (queue) < NF_POOL_QUEUE_MAX)
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "Pool '%s' already has %u operations waiting; try again when some have finished.",
		     pool,
		     g_queue_get_length (queue));
	return FALSE;
}

static void run (NfScheduler *self, NfOp *op);

static void
run_next (NfScheduler *self, const gchar *pool)
{
	GQueue *queue = g_hash_table_lookup (self->queues, pool);
	NfOp *next;

	if (queue == NULL)
		return;
	next = g_queue_pop_head (queue);
	/* the table frees an emptied queue */
	if (g_queue_is_empty (queue))
		g_hash_table_remove (self->queues, pool);
	if (next != NULL)
		run (self, next);
}

static void
ended (NfOp *op, gpointer user_data)
{
	NfScheduler *self = user_data;

	/* @op holds its owner, and so this scheduler, until it is freed. */
	run_next (self, nf_op_get_pool (op));
	nf_op_free (op);
}

static void
run (NfScheduler *self, NfOp *op)
{
	nf_model_set_busy (self->model, nf_op_get_pool (op), nf_op_get_job (op));
	nf_op_run (op, ended, self);
}

void
nf_scheduler_submit (NfScheduler *self, NfOp *op)
{
	const gchar *pool = nf_op_get_pool (op);
	NfJob *running = nf_model_get_busy_job (self->model, pool);
	GQueue *queue;

	if (running == NULL) {
		run (self, op);
		return;
	}
	{
		g_autofree gchar *step = g_strdup_printf ("waiting for job %u", nf_job_get_id (running));

		nf_job_set_step (nf_op_get_job (op), step);
	}
	queue = g_hash_table_lookup (self->queues, pool);
	if (queue == NULL) {
		queue = g_queue_new ();
		g_hash_table_insert (self->queues, g_strdup (pool), queue);
	}
	g_queue_push_tail (queue, op);
}

void
nf_scheduler_cancel_queued (NfScheduler *self, NfJob *job)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init (&iter, self->queues);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		GQueue *queue = value;

		for (GList *l = queue->head; l != NULL; l = l->next) {
			NfOp *op = l->data;
			g_autoptr (GError) error = NULL;

			if (nf_op_get_job (op) != job)
				continue;
			g_queue_delete_link (queue, l);
			nf_op_release_reserved (op);
			error = g_error_new_literal (NF_ERROR,
						     NF_ERROR_CANCELLED,
						     "The job was cancelled before it started.");
			nf_job_complete (job, error);
			nf_op_free (op);
			return;
		}
	}
}
