/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-executor"

#include "config.h"

#include "nf-executor.h"

struct _NfExecutor {
	guint parallelism;
	guint busy;
	GQueue queue; /* of Work, waiting for a worker */
};

typedef struct {
	NfExecutor *executor;
	NfWorkFunc work;
	gpointer item;
	GDestroyNotify result_free;
	GCancellable *cancellable;
	NfWorkDone done;
	gpointer user_data;
} Work;

static void executor_pump (NfExecutor *self);

static void
work_free (Work *w)
{
	g_clear_object (&w->cancellable);
	g_free (w);
}

NfExecutor *
nf_executor_new (guint parallelism)
{
	NfExecutor *self = g_new0 (NfExecutor, 1);

	self->parallelism = MAX (parallelism, 1);
	g_queue_init (&self->queue);
	return self;
}

void
nf_executor_free (NfExecutor *self)
{
	if (self == NULL)
		return;
	g_return_if_fail (self->busy == 0);
	g_queue_clear_full (&self->queue, (GDestroyNotify) work_free);
	g_free (self);
}

guint
nf_executor_get_parallelism (NfExecutor *self)
{
	return self->parallelism;
}

guint
nf_executor_get_busy (NfExecutor *self)
{
	return self->busy + g_queue_get_length (&self->queue);
}

static void
work_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	Work *w = task_data;
	GError *error = NULL;
	gpointer result;

	if (g_cancellable_set_error_if_cancelled (w->cancellable, &error)) {
		g_task_return_error (task, error);
		return;
	}
	result = w->work (w->item, w->cancellable, &error);
	if (error != NULL) {
		if (result != NULL && w->result_free != NULL)
			w->result_free (result);
		g_task_return_error (task, error);
		return;
	}
	g_task_return_pointer (task, result, w->result_free);
}

static void
work_finished (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Work *w = g_task_get_task_data (G_TASK (res));
	NfExecutor *self = w->executor;
	g_autoptr (GError) error = NULL;
	gpointer result = g_task_propagate_pointer (G_TASK (res), &error);

	self->busy--;
	w->done (w->item, result, error, w->user_data);
	if (result != NULL && w->result_free != NULL)
		w->result_free (result);
	executor_pump (self);
}

static void
executor_pump (NfExecutor *self)
{
	while (self->busy < self->parallelism && !g_queue_is_empty (&self->queue)) {
		Work *w = g_queue_pop_head (&self->queue);
		g_autoptr (GTask) task = g_task_new (NULL, NULL, work_finished, NULL);

		self->busy++;
		g_task_set_task_data (task, w, (GDestroyNotify) work_free);
		g_task_run_in_thread (task, work_thread);
	}
}

void
nf_executor_submit (NfExecutor *self,
		    NfWorkFunc work,
		    gpointer item,
		    GDestroyNotify result_free,
		    GCancellable *cancellable,
		    NfWorkDone done,
		    gpointer user_data)
{
	Work *w = g_new0 (Work, 1);

	w->executor = self;
	w->work = work;
	w->item = item;
	w->result_free = result_free;
	w->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
	w->done = done;
	w->user_data = user_data;
	g_queue_push_tail (&self->queue, w);
	executor_pump (self);
}

void
nf_executor_drain (NfExecutor *self, GMainContext *context)
{
	while (nf_executor_get_busy (self) > 0)
		g_main_context_iteration (context, TRUE);
}
