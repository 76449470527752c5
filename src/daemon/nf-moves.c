/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-moves"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-limits.h"
#include "nf-farm-host.h"
#include "nf-model.h"
#include "nf-moves.h"
#include "nf-node.h"

/* Draining a host and rebalancing the farm: a list of node moves run one
 * after the other under a parent job, each through nf_manager_migrate_node
 * (its own job, its own admission). */

/* One drain or rebalance under way. */
typedef struct {
	NfMoves *moves;
	NfJob *job;        /* the parent */
	gchar *host;       /* a drain's host; NULL: a rebalance */
	GPtrArray *nodes;  /* names of the nodes to move, in order */
	GPtrArray *to;     /* the host for each (NULL: placement's) */
	guint next;        /* the next to move */
	guint moved;       /* how many have */
	GString *failed;   /* "node: why; ..." */
	NfJob *current;    /* the move under way */
	gulong current_id; /* its "completed" handler */
	gboolean stopped;  /* Activate ended a drain */
	guint uid;
} Run;

struct _NfMoves {
	NfModel *model;
	NfMovesMigrateFunc migrate;
	NfMovesLimitFunc limit;
	NfMovesAllowedFunc allowed;
	gpointer owner;
	Run *run;              /* one at a time */
	guint idle_id;         /* its next step, soon */
	GHashTable *last_pass; /* nodes the last rebalance moved */
	guint interval_id;     /* the periodic rebalance */
};

static void run_next (Run *run);

static void
run_next_idle (gpointer user_data)
{
	NfMoves *self = user_data;

	self->idle_id = 0;
	if (self->run != NULL)
		run_next (self->run);
}

/* The next move, from the main loop (not from inside a job's signal). */
static void
run_soon (NfMoves *self)
{
	if (self->idle_id == 0)
		self->idle_id = g_idle_add_once (run_next_idle, self);
}

static void
run_free (Run *run)
{
	if (run->current != NULL) {
		g_clear_signal_handler (&run->current_id, run->current);
		g_object_unref (run->current);
	}
	g_clear_object (&run->job);
	g_free (run->host);
	g_ptr_array_unref (run->nodes);
	g_ptr_array_unref (run->to);
	g_string_free (run->failed, TRUE);
	g_free (run);
}

static Run *
run_new (NfMoves *self, const gchar *host, guint uid)
{
	Run *run = g_new0 (Run, 1);

	run->moves = self;
	run->host = g_strdup (host);
	run->nodes = g_ptr_array_new_with_free_func (g_free);
	run->to = g_ptr_array_new_with_free_func (g_free);
	run->failed = g_string_new (NULL);
	run->uid = uid;
	return run;
}

static void
run_add (Run *run, const gchar *node, const gchar *to)
{
	g_ptr_array_add (run->nodes, g_strdup (node));
	g_ptr_array_add (run->to, g_strdup (to));
}

/* The run's job, naming its host and nodes, and its start. */
static NfJob *
run_start (Run *run, const gchar *operation)
{
	NfMoves *self = run->moves;

	run->job = g_object_ref (nf_model_new_job (self->model, operation, run->uid));
	if (run->host != NULL) {
		g_autofree gchar *object = g_strdup_printf ("host/%s", run->host);

		nf_job_add_object (run->job, object);
	}
	for (guint i = 0; i < run->nodes->len; i++) {
		g_autofree gchar *object =
			g_strdup_printf ("node/%s", (const gchar *) g_ptr_array_index (run->nodes, i));

		nf_job_add_object (run->job, object);
	}
	self->run = run;
	run_soon (self);
	return run->job;
}

static void
run_failed (Run *run, const gchar *node, const gchar *why)
{
	gsize len = strlen (why);

	/* the reasons are sentences; the list is one */
	if (len > 0 && why[len - 1] == '.')
		len--;
	g_string_append_printf (run->failed,
				"%s%s: %.*s",
				run->failed->len > 0 ? "; " : "",
				node,
				(gint) len,
				why);
}

typedef struct {
	NfJob *job;
	NfModel *model;
	GError *error;
} Finish;

static void
finish_saved (GObject *source, GAsyncResult *res, gpointer user_data)
{
	Finish *finish = user_data;
	g_autoptr (GError) error = NULL;

	if (!nf_model_save_finish (finish->model, res, &error) && finish->error == NULL)
		finish->error = g_steal_pointer (&error);
	nf_job_complete (finish->job, finish->error);
	g_clear_error (&finish->error);
	g_object_unref (finish->job);
	g_object_unref (finish->model);
	g_free (finish);
}

/* The hosts' states are saved, then @job completes (with @error, taken). */
static void
save_then_complete (NfModel *model, NfJob *job, GError *error)
{
	Finish *finish = g_new0 (Finish, 1);

	finish->job = g_object_ref (job);
	finish->model = g_object_ref (model);
	finish->error = error;
	nf_model_save_async (model, finish_saved, finish);
}

/* The end of a drain: all gone, the host is in maintenance; else it stays
 * draining and the job names what is left. */
static GError *
drain_result (Run *run, NfFarmHost *host)
{
	if (run->stopped || host == NULL || nf_farm_host_get_admin (host) != NF_HOST_STATE_DRAINING)
		return g_error_new (NF_ERROR,
				    NF_ERROR_CANCELLED,
				    "The drain of host %s ended before it was empty (activated or removed); %u %s moved.",
				    run->host,
				    run->moved,
				    run->moved == 1 ? "node was" : "nodes were");
	if (run->failed->len > 0)
		return g_error_new (NF_ERROR,
				    NF_ERROR_INSUFFICIENT_RESOURCES,
				    "Host %s is still draining (it takes no new nodes until 'nestfarmctl host activate %s'): "
				    "%u %s moved, but not %s.",
				    run->host,
				    run->host,
				    run->moved,
				    run->moved == 1 ? "node was" : "nodes were",
				    run->failed->str);
	nf_farm_host_set_admin (host, NF_HOST_STATE_MAINTENANCE);
	g_message ("host %s is in maintenance: %u nodes moved away", run->host, run->moved);
	return NULL;
}

static GError *
rebalance_result (Run *run)
{
	if (run->failed->len > 0)
		return g_error_new (NF_ERROR,
				    NF_ERROR_FAILED,
				    "The rebalance moved %u of %u nodes; not %s.",
				    run->moved,
				    run->nodes->len,
				    run->failed->str);
	return NULL;
}

static void
run_finish (Run *run)
{
	NfMoves *self = run->moves;
	GError *error;

	if (run->host != NULL) {
		error = drain_result (run, nf_model_lookup_host (self->model, run->host));
	} else {
		error = rebalance_result (run);
	}
	nf_job_set_step (run->job, error == NULL ? "done" : "stopped");
	self->run = NULL;
	save_then_complete (self->model, run->job, error);
	run_free (run);
}

static void
move_completed (NfJob *job, gboolean success, const gchar *message, gpointer user_data)
{
	Run *run = user_data;
	const gchar *node = g_ptr_array_index (run->nodes, run->next - 1);

	if (success) {
		run->moved++;
		if (run->host == NULL)
			g_hash_table_add (run->moves->last_pass, g_strdup (node));
	} else {
		run_failed (run, node, message);
	}
	g_clear_signal_handler (&run->current_id, run->current);
	g_clear_object (&run->current);
	run_soon (run->moves);
}

/* Whether node @name is still to move: it is there, and (a drain) still
 * on the host. */
static gboolean
still_to_move (Run *run, const gchar *name)
{
	NfNode *node = nf_model_lookup_node (run->moves->model, name);

	return node != NULL && (run->host == NULL || g_str_equal (nf_node_get_host (node), run->host));
}

static void
run_next (Run *run)
{
	while (run->next < run->nodes->len && !run->stopped &&
	       !g_cancellable_is_cancelled (nf_job_get_cancellable (run->job))) {
		const gchar *name = g_ptr_array_index (run->nodes, run->next);
		const gchar *to = g_ptr_array_index (run->to, run->next);
		g_autoptr (GError) error = NULL;
		g_autofree gchar *step = NULL;
		NfJob *job;

		nf_job_set_progress (run->job, (gdouble) run->next / run->nodes->len);
		run->next++;
		if (!still_to_move (run, name))
			continue;
		step = g_strdup_printf ("moving %s (%u of %u)", name, run->next, run->nodes->len);
		nf_job_set_step (run->job, step);
		job = run->moves->migrate (run->moves->owner, name, to, run->uid, &error);
		if (job == NULL) {
			run_failed (run, name, error->message);
			continue;
		}
		run->current = g_object_ref (job);
		run->current_id = g_signal_connect (job, "completed", G_CALLBACK (move_completed), run);
		/* one that ended at the call (refused by its operation) */
		if (nf_job_is_done (job))
			move_completed (job,
					nf_job_get_state (job) == NF_JOB_STATE_SUCCEEDED,
					nf_job_get_error (job),
					run);
		return;
	}
	if (g_cancellable_is_cancelled (nf_job_get_cancellable (run->job)))
		run->stopped = TRUE;
	run_finish (run);
}

/* --- Drain and Activate --- */

static NfFarmHost *
require_host (NfMoves *self, const gchar *name, GError **error)
{
	NfFarmHost *host = nf_model_lookup_host (self->model, name);

	if (host == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "There is no host '%s'; 'nestfarmctl host list' shows the hosts.",
			     name);
	return host;
}

static gboolean
refuse_if_running (NfMoves *self, GError **error)
{
	if (self->run == NULL)
		return FALSE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "%s %s runs (job %u); wait for it, or cancel it.",
		     self->run->host != NULL ? "A drain of host" : "A rebalance",
		     self->run->host != NULL ? self->run->host : "of the farm",
		     nf_job_get_id (self->run->job));
	return TRUE;
}

NfJob *
nf_moves_drain (NfMoves *self, const gchar *name, guint uid, GError **error)
{
	NfFarmHost *host = require_host (self, name, error);
	GPtrArray *nodes;
	Run *run;

	if (host == NULL || refuse_if_running (self, error))
		return NULL;
	if (!nf_farm_host_get_reachable (host)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_BUSY,
			     "Host %s is offline: its nodes cannot move until it is back.",
			     name);
		return NULL;
	}
	nf_farm_host_set_admin (host, NF_HOST_STATE_DRAINING);
	run = run_new (self, name, uid);
	nodes = nf_farm_host_get_nodes (host);
	for (guint i = 0; i < nodes->len; i++)
		run_add (run, nf_node_get_name (g_ptr_array_index (nodes, i)), NULL);
	g_message ("draining host %s: %u nodes to move", name, run->nodes->len);
	return run_start (run, "drain-host");
}

NfJob *
nf_moves_activate (NfMoves *self, const gchar *name, guint uid, GError **error)
{
	NfFarmHost *host = require_host (self, name, error);
	NfJob *job;

	if (host == NULL)
		return NULL;
	job = nf_model_new_job (self->model, "activate-host", uid);
	{
		g_autofree gchar *object = g_strdup_printf ("host/%s", name);

		nf_job_add_object (job, object);
	}
	if (self->run != NULL && g_strcmp0 (self->run->host, name) == 0)
		self->run->stopped = TRUE;
	nf_farm_host_set_admin (host, NF_HOST_STATE_ONLINE);
	g_message ("host %s takes nodes again", name);
	save_then_complete (self->model, job, NULL);
	return job;
}

/* --- Rebalance --- */

/* A host's share of what it can give that its nodes hold, simulated. */
typedef struct {
	const gchar *name;
	gdouble held;  /* MiB */
	gdouble limit; /* MiB */
} Load;

static gdouble
load_percent (const Load *load)
{
	return load->limit > 0 ? 100.0 * load->held / load->limit : 100.0;
}

static GArray *
loads_now (NfMoves *self)
{
	GArray *loads = g_array_new (FALSE, TRUE, sizeof (Load));
	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);

	for (GList *l = hosts; l != NULL; l = l->next) {
		Load load = {0};

		/* what no node can move to does not count */
		if (nf_farm_host_get_state (l->data) != NF_HOST_STATE_ONLINE ||
		    !self->allowed (self->owner, NULL, nf_farm_host_get_name (l->data)))
			continue;
		load.name = nf_farm_host_get_name (l->data);
		load.held = nf_farm_host_get_memory_committed_mib (l->data);
		load.limit = self->limit (self->owner, load.name);
		g_array_append_val (loads, load);
	}
	return loads;
}

/* The most and the least used of @loads. */
static void
extremes (GArray *loads, Load **most, Load **least)
{
	*most = *least = NULL;
	for (guint i = 0; i < loads->len; i++) {
		Load *load = &g_array_index (loads, Load, i);

		if (*most == NULL || load_percent (load) > load_percent (*most))
			*most = load;
		if (*least == NULL || load_percent (load) < load_percent (*least))
			*least = load;
	}
}

/* Whether @node of @from may go in a pass: running, not moved by the last
 * pass nor planned in this one. */
static gboolean
may_move (NfMoves *self, NfNode *node, GHashTable *planned)
{
	return nf_node_holds_memory (node) && nf_node_get_state (node) == NF_NODE_STATE_RUNNING &&
	       !g_hash_table_contains (self->last_pass, nf_node_get_name (node)) &&
	       !g_hash_table_contains (planned, nf_node_get_name (node));
}

/* The move off @from that narrows the gap most: a node of it that may
 * move, to a host of @loads that may take it and has room, where the two
 * end closer than they were (NULL: none does). */
static NfNode *
best_move (NfMoves *self, Load *from, GArray *loads, GHashTable *planned, Load **to)
{
	GPtrArray *nodes = nf_farm_host_get_nodes (nf_model_lookup_host (self->model, from->name));
	gdouble best_gap = G_MAXDOUBLE;
	NfNode *best = NULL;

	for (guint i = 0; i < nodes->len; i++) {
		NfNode *node = g_ptr_array_index (nodes, i);
		gdouble mib = nf_node_get_memory_mib (node);

		for (guint j = 0; may_move (self, node, planned) && j < loads->len; j++) {
			Load *target = &g_array_index (loads, Load, j);
			Load a = *from, b = *target;
			gdouble after;

			if (target == from || b.held + mib > b.limit ||
			    !self->allowed (self->owner, nf_node_get_name (node), target->name))
				continue;
			a.held -= mib;
			b.held += mib;
			after = ABS (load_percent (&a) - load_percent (&b));
			if (after < load_percent (from) - load_percent (target) && after < best_gap) {
				best_gap = after;
				best = node;
				*to = target;
			}
		}
	}
	return best;
}

/* The pass's moves, planned on the hosts' numbers now. */
static void
plan_rebalance (NfMoves *self, Run *run, const NfRebalanceOptions *options)
{
	g_autoptr (GArray) loads = loads_now (self);
	g_autoptr (GHashTable) planned = g_hash_table_new (g_str_hash, g_str_equal);

	while (run->nodes->len < options->max_moves) {
		Load *most, *least, *to = NULL;
		NfNode *node;

		extremes (loads, &most, &least);
		if (most == NULL || most == least ||
		    load_percent (most) - load_percent (least) <= options->threshold)
			break;
		node = best_move (self, most, loads, planned, &to);
		if (node == NULL)
			break;
		g_hash_table_add (planned, (gpointer) nf_node_get_name (node));
		run_add (run, nf_node_get_name (node), to->name);
		most->held -= nf_node_get_memory_mib (node);
		to->held += nf_node_get_memory_mib (node);
	}
}

static NfJob *
rebalance (NfMoves *self,
	   const NfRebalanceOptions *options,
	   gboolean only_if_needed,
	   guint uid,
	   GError **error)
{
	Run *run;

	if (refuse_if_running (self, error))
		return NULL;
	run = run_new (self, NULL, uid);
	plan_rebalance (self, run, options);
	if (only_if_needed && run->nodes->len == 0) {
		run_free (run);
		return NULL;
	}
	/* the next pass may move what this one did not */
	g_hash_table_remove_all (self->last_pass);
	g_message ("rebalance: %u moves planned", run->nodes->len);
	return run_start (run, "rebalance");
}

NfJob *
nf_moves_rebalance (NfMoves *self, const NfRebalanceOptions *options, guint uid, GError **error)
{
	return rebalance (self, options, FALSE, uid, error);
}

static gboolean
periodic_pass (gpointer user_data)
{
	NfMoves *self = user_data;
	const NfRebalanceOptions options = {NF_REBALANCE_THRESHOLD_DEFAULT, NF_REBALANCE_MAX_MOVES_DEFAULT};

	/* a drain or a pass still running: this one is skipped */
	if (self->run == NULL)
		rebalance (self, &options, TRUE, 0, NULL);
	return G_SOURCE_CONTINUE;
}

NfMoves *
nf_moves_new (NfModel *model,
	      NfMovesMigrateFunc migrate,
	      NfMovesLimitFunc limit,
	      NfMovesAllowedFunc allowed,
	      gpointer owner,
	      guint interval_s)
{
	NfMoves *self = g_new0 (NfMoves, 1);

	self->model = model;
	self->migrate = migrate;
	self->limit = limit;
	self->allowed = allowed;
	self->owner = owner;
	self->last_pass = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	if (interval_s > 0)
		self->interval_id = g_timeout_add_seconds (interval_s, periodic_pass, self);
	return self;
}

void
nf_moves_free (NfMoves *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->interval_id, g_source_remove);
	g_clear_handle_id (&self->idle_id, g_source_remove);
	if (self->run != NULL) {
		self->run->stopped = TRUE;
		run_free (self->run);
	}
	g_hash_table_unref (self->last_pass);
	g_free (self);
}
