/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-readiness"

#include "config.h"

#include <gio/gio.h>

#include "nf-node.h"
#include "nf-readiness.h"

/* Readiness and nesting of running nodes, probed at a growing pace, and
 * briskly while a node's guest agent is up and its boot is ending (see
 * nf-readiness.h). The probes run in GLib's worker threads on copies (a
 * node's name and address); only their results, on the main context,
 * touch the model. */

struct _NfReadiness {
	GObject parent_instance;
	NfModel *model;
	NfEngine *engine;
	GHashTable *watches; /* NfNode * -> Watch * */
};

G_DEFINE_FINAL_TYPE (NfReadiness, nf_readiness, G_TYPE_OBJECT)

/* One node followed. */
typedef struct {
	NfReadiness *owner; /* unowned: it owns the watch */
	NfNode *node;
	guint timeout_id;
	guint interval_s;
	gint64 agent_since;    /* monotonic µs the guest agent came up; 0: not up */
	GCancellable *probing; /* the probe in flight, or NULL */
} Watch;

/* What a probe works on, and what it reports to. */
typedef struct {
	gchar *name;
	NfNode *node;
	NfEngine *engine; /* its host's */
} Probe;

static void
probe_free (Probe *probe)
{
	g_clear_object (&probe->engine);
	g_free (probe->name);
	g_object_unref (probe->node);
	g_free (probe);
}

static void
watch_stop (Watch *watch)
{
	g_clear_handle_id (&watch->timeout_id, g_source_remove);
	if (watch->probing != NULL) {
		g_cancellable_cancel (watch->probing);
		g_clear_object (&watch->probing);
	}
}

static void
watch_free (Watch *watch)
{
	watch_stop (watch);
	g_signal_handlers_disconnect_by_data (watch->node, watch);
	g_object_unref (watch->node);
	g_free (watch);
}

static gboolean
node_runs (NfNode *node)
{
	return nf_node_get_state (node) == NF_NODE_STATE_RUNNING && nf_node_get_domain_active (node);
}

static void
probe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	Probe *probe = task_data;
	GError *error = NULL;
	NfGuestReport *report = nf_engine_probe_guest (probe->engine, probe->name, &error);

	if (report == NULL)
		g_task_return_error (task, error);
	else
		g_task_return_pointer (task, report, (GDestroyNotify) nf_guest_report_free);
}

static void watch_schedule (Watch *watch);

/* The agent came up (an event, or it answered a probe). */
static void
watch_agent_up (Watch *watch)
{
	if (watch->agent_since == 0)
		watch->agent_since = g_get_monotonic_time ();
}

/* After a probe that found the node not ready: soon while its agent has
 * been up for a short while (the boot is ending), else at a growing pace. */
static guint
watch_next_interval (Watch *watch)
{
	gint64 up_for = g_get_monotonic_time () - watch->agent_since;

	if (watch->agent_since != 0 && up_for < NF_READY_AGENT_BRISK_S * G_USEC_PER_SEC)
		return NF_READY_PROBE_AGENT_S;
	return MIN (watch->interval_s * 2, NF_READY_PROBE_MAX_S);
}

static void
probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
	NfReadiness *self = NF_READINESS (source);
	Probe *probe = g_task_get_task_data (G_TASK (result));
	g_autoptr (GError) error = NULL;
	g_autoptr (NfGuestReport) report = g_task_propagate_pointer (G_TASK (result), &error);
	Watch *watch;

	/* Cancelled: the node stopped or went away meanwhile. */
	if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
		return;
	watch = g_hash_table_lookup (self->watches, probe->node);
	if (watch == NULL)
		return;
	g_clear_object (&watch->probing);
	if (report == NULL) {
		g_debug ("%s: cannot look inside: %s", probe->name, error->message);
	} else {
		const gchar *const addresses[] = {report->address, NULL};

		if (report->agent)
			watch_agent_up (watch);
		/* A leased address (a network nestfarm did not make) shows
		 * once known; a fixed one is there already. */
		if (report->address != NULL)
			nf_node_set_addresses (watch->node, addresses);
		if (report->nesting != NF_NESTING_UNKNOWN)
			nf_node_set_nesting (watch->node, report->nesting);
		nf_node_set_ready (watch->node, report->running && report->seeded && report->ssh);
		if (report->detail != NULL)
			g_debug ("%s: not ready: %s", probe->name, report->detail);
		else
			g_message ("%s: ready (nesting %s)",
				   probe->name,
				   nf_nesting_to_string (nf_node_get_nesting (watch->node)));
	}
	if (!nf_node_get_ready (watch->node) && node_runs (watch->node)) {
		watch->interval_s = watch_next_interval (watch);
		watch_schedule (watch);
	}
}

static gboolean
probe_due (gpointer user_data)
{
	Watch *watch = user_data;
	NfReadiness *self = watch->owner;
	g_autoptr (GTask) task = NULL;
	Probe *probe = g_new0 (Probe, 1);
	NfEngine *engine;

	watch->timeout_id = 0;
	probe->name = g_strdup (nf_node_get_name (watch->node));
	probe->node = g_object_ref (watch->node);
	engine = nf_model_get_node_engine (self->model, watch->node, self->engine);
	if (engine == NULL) {
		/* its host is away: look again later */
		probe_free (probe);
		watch->interval_s = watch_next_interval (watch);
		watch_schedule (watch);
		return G_SOURCE_REMOVE;
	}
	probe->engine = g_object_ref (engine);
	watch->probing = g_cancellable_new ();
	task = g_task_new (self, watch->probing, probe_done, NULL);
	g_task_set_source_tag (task, probe_due);
	g_task_set_task_data (task, probe, (GDestroyNotify) probe_free);
	/* A cancelled probe still reports, to free what it holds. */
	g_task_set_return_on_cancel (task, FALSE);
	g_task_run_in_thread (task, probe_thread);
	return G_SOURCE_REMOVE;
}

static void
watch_schedule (Watch *watch)
{
	if (watch->timeout_id != 0 || watch->probing != NULL)
		return;
	watch->timeout_id = g_timeout_add_seconds (watch->interval_s, probe_due, watch);
}

/* Follows the node's life: running and not ready, probed; anything else,
 * not ready and not probed. */
static void
node_changed (NfNode *node, GParamSpec *pspec, Watch *watch)
{
	if (!node_runs (node)) {
		watch_stop (watch);
		watch->interval_s = NF_READY_PROBE_FIRST_S;
		watch->agent_since = 0;
		nf_node_set_ready (node, FALSE);
		return;
	}
	if (!nf_node_get_ready (node))
		watch_schedule (watch);
}

static void
node_added (NfModel *model, NfNode *node, NfReadiness *self)
{
	Watch *watch;

	if (g_hash_table_contains (self->watches, node))
		return;
	watch = g_new0 (Watch, 1);
	watch->owner = self;
	watch->node = g_object_ref (node);
	watch->interval_s = NF_READY_PROBE_FIRST_S;
	g_hash_table_insert (self->watches, node, watch);
	g_signal_connect (node, "notify::state", G_CALLBACK (node_changed), watch);
	g_signal_connect (node, "notify::domain-active", G_CALLBACK (node_changed), watch);
	node_changed (node, NULL, watch);
}

/* A node's guest agent connected: its boot is well on, so look soon and
 * then briskly. It went away: the guest is rebooting or lost its agent,
 * and is not ready until a probe says so again. */
static void
agent_event (NfConnection *connection,
	     const gchar *name,
	     const gchar *uuid,
	     gboolean connected,
	     NfReadiness *self)
{
	NfNode *node = nf_model_lookup_node (self->model, name);
	Watch *watch = node != NULL ? g_hash_table_lookup (self->watches, node) : NULL;

	if (watch == NULL || g_strcmp0 (nf_node_get_domain_uuid (node), uuid) != 0 || !node_runs (node))
		return;
	g_debug ("%s: guest agent %s", name, connected ? "connected" : "gone");
	if (!connected) {
		/* A look begun before it went must not make it ready. */
		watch_stop (watch);
		watch->agent_since = 0;
		watch->interval_s = NF_READY_PROBE_FIRST_S;
		nf_node_set_ready (node, FALSE);
		watch_schedule (watch);
		return;
	}
	watch_agent_up (watch);
	if (nf_node_get_ready (node) || watch->probing != NULL)
		return;
	g_clear_handle_id (&watch->timeout_id, g_source_remove);
	watch->interval_s = NF_READY_PROBE_AGENT_S;
	watch_schedule (watch);
}

static void
node_removed (NfModel *model, NfNode *node, NfReadiness *self)
{
	g_hash_table_remove (self->watches, node);
}

static void
nf_readiness_dispose (GObject *object)
{
	NfReadiness *self = NF_READINESS (object);

	if (self->model != NULL)
		g_signal_handlers_disconnect_by_data (self->model, self);
	g_hash_table_remove_all (self->watches);
	g_clear_object (&self->model);
	g_clear_object (&self->engine);
	G_OBJECT_CLASS (nf_readiness_parent_class)->dispose (object);
}

static void
nf_readiness_finalize (GObject *object)
{
	NfReadiness *self = NF_READINESS (object);

	g_hash_table_unref (self->watches);
	G_OBJECT_CLASS (nf_readiness_parent_class)->finalize (object);
}

static void
nf_readiness_class_init (NfReadinessClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->dispose = nf_readiness_dispose;
	object_class->finalize = nf_readiness_finalize;
}

static void
nf_readiness_init (NfReadiness *self)
{
	self->watches =
		g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) watch_free);
}

NfReadiness *
nf_readiness_new (NfModel *model, NfEngine *engine)
{
	NfReadiness *self;

	g_return_val_if_fail (NF_IS_MODEL (model), NULL);
	g_return_val_if_fail (NF_IS_ENGINE (engine), NULL);

	self = g_object_new (NF_TYPE_READINESS, NULL);
	self->model = g_object_ref (model);
	self->engine = g_object_ref (engine);
	g_signal_connect (model, "node-added", G_CALLBACK (node_added), self);
	g_signal_connect (model, "node-removed", G_CALLBACK (node_removed), self);
	g_signal_connect_object (nf_engine_get_connection (engine),
				 "agent-event",
				 G_CALLBACK (agent_event),
				 self,
				 0);
	return self;
}
