/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-pacer"

#include "config.h"

#include "nf-node.h"
#include "nf-pacer.h"

/* Paced boots: a queue of starts waiting for a slot, and the nodes holding
 * one until they are ready (see nf-pacer.h). */

struct _NfPacer {
	NfModel *model;
	NfEngine *engine; /* NULL: no CPU readings */
	guint slots;
	guint hold_max_s;
	guint held;        /* slots handed out and not given back */
	GQueue waiting;    /* of Waiter, first come first served */
	GHashTable *holds; /* NfNode * -> Hold * */
	guint pump_id;     /* an idle that lets waiters through */
};

typedef struct {
	NfPacer *owner;
	GCancellable *cancellable;
	gulong cancelled_id;
	NfPacerGo go;
	gpointer user_data;
} Waiter;

/* A booting node holding a slot. */
typedef struct {
	NfPacer *owner;
	NfNode *node;
	guint timeout_id;
	guint sample_id;        /* the next CPU reading */
	GCancellable *sampling; /* the reading in flight */
	gint64 cpu_ns;          /* the last reading; -1: none yet */
	gint64 read_at;         /* when (monotonic µs) */
} Hold;

/* One CPU reading, in a worker thread. */
typedef struct {
	gchar *name;
	guint64 cpu_ns;
	gint64 read_at;
	NfEngine *engine; /* of the node's host */
} Reading;

static void
waiter_free (Waiter *waiter)
{
	if (waiter->cancellable != NULL) {
		g_cancellable_disconnect (waiter->cancellable, waiter->cancelled_id);
		g_object_unref (waiter->cancellable);
	}
	g_free (waiter);
}

static void
reading_free (Reading *reading)
{
	g_clear_object (&reading->engine);
	g_free (reading->name);
	g_free (reading);
}

static void
hold_free (Hold *hold)
{
	g_clear_handle_id (&hold->timeout_id, g_source_remove);
	g_clear_handle_id (&hold->sample_id, g_source_remove);
	if (hold->sampling != NULL) {
		g_cancellable_cancel (hold->sampling);
		g_clear_object (&hold->sampling);
	}
	g_signal_handlers_disconnect_by_data (hold->node, hold);
	g_object_unref (hold->node);
	g_free (hold);
}

static void node_removed (NfModel *model, NfNode *node, NfPacer *self);

static gboolean
pump (gpointer user_data)
{
	NfPacer *self = user_data;
	GList *l = self->waiting.head;

	self->pump_id = 0;
	while (l != NULL) {
		Waiter *waiter = l->data;
		GList *next = l->next;
		gboolean free_slot = self->slots == 0 || self->held < self->slots;

		if (free_slot || g_cancellable_is_cancelled (waiter->cancellable)) {
			NfPacerGo go = waiter->go;
			gpointer data = waiter->user_data;

			g_queue_delete_link (&self->waiting, l);
			waiter_free (waiter);
			self->held++;
			go (data);
		}
		l = next;
	}
	return G_SOURCE_REMOVE;
}

static void
pump_soon (NfPacer *self)
{
	if (self->pump_id == 0)
		self->pump_id = g_idle_add (pump, self);
}

/* May run in the thread that cancels (always the main one here). */
static void
waiter_cancelled (GCancellable *cancellable, gpointer user_data)
{
	Waiter *waiter = user_data;

	pump_soon (waiter->owner);
}

NfPacer *
nf_pacer_new (NfModel *model, NfEngine *engine, guint slots, guint hold_max_s)
{
	NfPacer *self = g_new0 (NfPacer, 1);

	self->engine = engine != NULL ? g_object_ref (engine) : NULL;
	self->hold_max_s = hold_max_s;
	self->model = g_object_ref (model);
	self->slots = slots;
	g_queue_init (&self->waiting);
	self->holds = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) hold_free);
	g_signal_connect (model, "node-removed", G_CALLBACK (node_removed), self);
	return self;
}

void
nf_pacer_free (NfPacer *self)
{
	if (self == NULL)
		return;
	/* Every start has ended by now (the daemon waits for its jobs). */
	g_warn_if_fail (g_queue_is_empty (&self->waiting));
	g_queue_clear_full (&self->waiting, (GDestroyNotify) waiter_free);
	g_clear_handle_id (&self->pump_id, g_source_remove);
	g_signal_handlers_disconnect_by_data (self->model, self);
	g_hash_table_unref (self->holds);
	g_clear_object (&self->engine);
	g_object_unref (self->model);
	g_free (self);
}

void
nf_pacer_wait (NfPacer *self, GCancellable *cancellable, NfPacerGo go, gpointer user_data)
{
	Waiter *waiter = g_new0 (Waiter, 1);

	waiter->owner = self;
	waiter->go = go;
	waiter->user_data = user_data;
	g_queue_push_tail (&self->waiting, waiter);
	if (cancellable != NULL) {
		waiter->cancellable = g_object_ref (cancellable);
		waiter->cancelled_id =
			g_cancellable_connect (cancellable, G_CALLBACK (waiter_cancelled), waiter, NULL);
	}
	pump_soon (self);
}

void
nf_pacer_give_back (NfPacer *self)
{
	g_return_if_fail (self->held > 0);
	self->held--;
	if (!g_queue_is_empty (&self->waiting))
		pump_soon (self);
}

static void
hold_end (Hold *hold, const gchar *why)
{
	NfPacer *self = hold->owner;

	g_debug ("%s: boot slot free (%s)", nf_node_get_name (hold->node), why);
	/* frees @hold */
	g_hash_table_remove (self->holds, hold->node);
	nf_pacer_give_back (self);
}

static void
hold_node_changed (NfNode *node, GParamSpec *pspec, Hold *hold)
{
	if (nf_node_get_ready (node))
		hold_end (hold, "ready");
	else if (nf_node_get_state (node) != NF_NODE_STATE_RUNNING || !nf_node_get_domain_active (node))
		hold_end (hold, "not running");
}

static gboolean
hold_timed_out (gpointer user_data)
{
	Hold *hold = user_data;

	hold->timeout_id = 0;
	hold_end (hold, "not ready in time");
	return G_SOURCE_REMOVE;
}

static void
node_removed (NfModel *model, NfNode *node, NfPacer *self)
{
	Hold *hold = g_hash_table_lookup (self->holds, node);

	if (hold != NULL)
		hold_end (hold, "removed");
}

static void
read_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	Reading *reading = task_data;
	NfEngine *engine = reading->engine;
	GError *error = NULL;
	guint vcpus = 0;

	if (!nf_engine_get_cpu_time (engine, reading->name, &reading->cpu_ns, &vcpus, &error)) {
		g_task_return_error (task, error);
		return;
	}
	reading->read_at = g_get_monotonic_time ();
	g_task_return_boolean (task, TRUE);
}

static void hold_sample_later (Hold *hold);

static void
read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
	NfPacer *self = user_data;
	Reading *reading = g_task_get_task_data (G_TASK (result));
	g_autoptr (GError) error = NULL;
	gboolean read = g_task_propagate_boolean (G_TASK (result), &error);
	NfNode *node;
	Hold *hold;
	gdouble share;

	/* Cancelled: the hold ended meanwhile, perhaps with the pacer. */
	if (g_task_had_error (G_TASK (result)) &&
	    g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
		return;
	node = nf_model_lookup_node (self->model, reading->name);
	hold = node != NULL ? g_hash_table_lookup (self->holds, node) : NULL;
	if (hold == NULL)
		return;
	g_clear_object (&hold->sampling);
	if (!read) {
		/* Gone or unreadable: its state change ends the hold, else the
		 * hold time does. */
		g_debug ("%s: %s", reading->name, error->message);
		return;
	}
	if (hold->cpu_ns >= 0 && reading->read_at > hold->read_at) {
		share = (gdouble) ((gint64) reading->cpu_ns - hold->cpu_ns) /
			((gdouble) (reading->read_at - hold->read_at) * 1000.0);
		if (share < NF_PACER_IDLE_SHARE) {
			hold_end (hold, "its CPU went quiet");
			return;
		}
	}
	hold->cpu_ns = (gint64) reading->cpu_ns;
	hold->read_at = reading->read_at;
	hold_sample_later (hold);
}

static gboolean
hold_sample (gpointer user_data)
{
	Hold *hold = user_data;
	NfPacer *self = hold->owner;
	g_autoptr (GTask) task = NULL;
	Reading *reading = g_new0 (Reading, 1);
	NfEngine *engine;

	hold->sample_id = 0;
	reading->name = g_strdup (nf_node_get_name (hold->node));
	engine = nf_model_get_node_engine (self->model, hold->node, self->engine);
	if (engine == NULL) {
		/* its host is away: its hold time ends the hold */
		reading_free (reading);
		return G_SOURCE_REMOVE;
	}
	reading->engine = g_object_ref (engine);
	hold->sampling = g_cancellable_new ();
	task = g_task_new (self->engine, hold->sampling, read_done, self);
	g_task_set_source_tag (task, hold_sample);
	g_task_set_task_data (task, reading, (GDestroyNotify) reading_free);
	g_task_run_in_thread (task, read_thread);
	return G_SOURCE_REMOVE;
}

static void
hold_sample_later (Hold *hold)
{
	hold->sample_id = g_timeout_add_seconds (NF_PACER_SAMPLE_S, hold_sample, hold);
}

void
nf_pacer_booted (NfPacer *self, NfNode *node)
{
	Hold *hold;

	g_return_if_fail (self->held > 0);
	if (g_hash_table_contains (self->holds, node)) {
		nf_pacer_give_back (self);
		return;
	}
	hold = g_new0 (Hold, 1);
	hold->owner = self;
	hold->node = g_object_ref (node);
	hold->cpu_ns = -1;
	g_hash_table_insert (self->holds, node, hold);
	g_signal_connect (node, "notify::ready", G_CALLBACK (hold_node_changed), hold);
	g_signal_connect (node, "notify::state", G_CALLBACK (hold_node_changed), hold);
	g_signal_connect (node, "notify::domain-active", G_CALLBACK (hold_node_changed), hold);
	hold->timeout_id = g_timeout_add_seconds (self->hold_max_s, hold_timed_out, hold);
	/* the first reading at once: the one its quiet is measured from */
	if (self->engine != NULL)
		hold_sample (hold);
	/* Already past booting (or never got there). */
	hold_node_changed (node, NULL, hold);
}

guint
nf_pacer_get_slots (NfPacer *self)
{
	return self->slots;
}

guint
nf_pacer_get_held (NfPacer *self)
{
	return self->held;
}

guint
nf_pacer_get_waiting (NfPacer *self)
{
	return g_queue_get_length (&self->waiting);
}
