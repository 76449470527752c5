/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-executor"

#include "config.h"

#include "nestfarm/nf-tsan.h"

#include "nf-executor.h"

/* NfExecutor: worker threads of its own, a bounded lane per kind of work, and
 * each result handed back on the main context. */

typedef struct {
	guint parallelism;
	guint busy;
	GQueue queue; /* of Work, waiting for a worker */
} Lane;

struct _NfExecutor {
	GMainContext *context; /* where results come back */
	/* Threads of our own: GTask's shared pool starts only ten at once and
	 * grows slowly, which would stretch a lane of waiting work. */
	GThreadPool *threads;
	Lane lanes[NF_WORK_N_KINDS];
};

typedef struct {
	NfExecutor *executor;
	NfWorkKind kind;
	NfWorkFunc work;
	gpointer item;
	GDestroyNotify result_free;
	GCancellable *cancellable;
	NfWorkDone done;
	gpointer user_data;
	/* set by the worker thread */
	gpointer result;
	GError *error;
} Work;

static void executor_pump (NfExecutor *self);

static void
work_free (Work *w)
{
	g_clear_object (&w->cancellable);
	g_clear_error (&w->error);
	g_free (w);
}

/* Main context: the result is back. */
static gboolean
work_finished (gpointer data)
{
	Work *w = data;
	NfExecutor *self = w->executor;

	NF_TSAN_ACQUIRE (w);
	self->lanes[w->kind].busy--;
	w->done (w->item, w->result, w->error, w->user_data);
	if (w->result != NULL && w->result_free != NULL)
		w->result_free (w->result);
	work_free (w);
	executor_pump (self);
	return G_SOURCE_REMOVE;
}

/* Worker thread. */
static void
work_run (gpointer data, gpointer user_data)
{
	Work *w = data;
	g_autoptr (GSource) source = g_idle_source_new ();

	NF_TSAN_ACQUIRE (w);
	if (!g_cancellable_set_error_if_cancelled (w->cancellable, &w->error))
		w->result = w->work (w->item, w->cancellable, &w->error);
	if (w->error != NULL && w->result != NULL && w->result_free != NULL)
		g_clear_pointer (&w->result, w->result_free);
	/* Always a source, never a call from this thread; at the priority a
	 * GTask's result would have. */
	g_source_set_priority (source, G_PRIORITY_DEFAULT);
	g_source_set_callback (source, work_finished, w, NULL);
	g_source_set_static_name (source, "[nf-executor] done");
	NF_TSAN_RELEASE (w);
	g_source_attach (source, w->executor->context);
}

NfExecutor *
nf_executor_new (guint busy, guint waiting)
{
	NfExecutor *self = g_new0 (NfExecutor, 1);
	guint threads = 0;

	self->lanes[NF_WORK_BUSY].parallelism = MAX (busy, 1);
	self->lanes[NF_WORK_WAITING].parallelism = MAX (waiting, 1);
	for (guint i = 0; i < NF_WORK_N_KINDS; i++) {
		g_queue_init (&self->lanes[i].queue);
		threads += self->lanes[i].parallelism;
	}
	self->context = g_main_context_ref_thread_default ();
	/* Threads start on demand; the lanes keep within their bounds. */
	self->threads = g_thread_pool_new (work_run, NULL, (gint) threads, FALSE, NULL);
	return self;
}

void
nf_executor_free (NfExecutor *self)
{
	if (self == NULL)
		return;
	g_return_if_fail (nf_executor_get_busy (self) == 0);
	g_thread_pool_free (self->threads, FALSE, TRUE);
	g_main_context_unref (self->context);
	g_free (self);
}

guint
nf_executor_get_parallelism (NfExecutor *self, NfWorkKind kind)
{
	g_return_val_if_fail (kind < NF_WORK_N_KINDS, 0);
	return self->lanes[kind].parallelism;
}

guint
nf_executor_get_busy (NfExecutor *self)
{
	guint busy = 0;

	for (guint i = 0; i < NF_WORK_N_KINDS; i++)
		busy += self->lanes[i].busy + g_queue_get_length (&self->lanes[i].queue);
	return busy;
}

static void
executor_pump (NfExecutor *self)
{
	for (guint i = 0; i < NF_WORK_N_KINDS; i++) {
		Lane *lane = &self->lanes[i];

		while (lane->busy < lane->parallelism && !g_queue_is_empty (&lane->queue)) {
			Work *w = g_queue_pop_head (&lane->queue);

			lane->busy++;
			NF_TSAN_RELEASE (w);
			g_thread_pool_push (self->threads, w, NULL);
		}
	}
}

void
nf_executor_submit (NfExecutor *self,
		    NfWorkKind kind,
		    NfWorkFunc work,
		    gpointer item,
		    GDestroyNotify result_free,
		    GCancellable *cancellable,
		    NfWorkDone done,
		    gpointer user_data)
{
	Work *w;

	g_return_if_fail (kind < NF_WORK_N_KINDS);

	w = g_new0 (Work, 1);
	w->executor = self;
	w->kind = kind;
	w->work = work;
	w->item = item;
	w->result_free = result_free;
	w->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
	w->done = done;
	w->user_data = user_data;
	g_queue_push_tail (&self->lanes[kind].queue, w);
	executor_pump (self);
}

void
nf_executor_drain (NfExecutor *self, GMainContext *context)
{
	while (nf_executor_get_busy (self) > 0)
		g_main_context_iteration (context, TRUE);
}
