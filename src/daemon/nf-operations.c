/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-operations"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-migrate.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-ovn.h"
#include "nestfarm/nf-snapshot.h"
#include "nf-baseline.h"
#include "nf-operations.h"

/* The jobs. Each operation runs in phases; a phase is a batch of node
 * steps handed to the executor (bounded parallelism) whose results come
 * back on the main context, where the model is updated. Which operation
 * runs when is nf-scheduler.c's. */

typedef void (*NfPhaseDone) (NfOp *op);

struct _NfOp {
	const NfOpContext *context;
	NfJob *job;
	NfOpKind kind;
	gchar *pool;
	NfPoolSpec *spec; /* create: the new pool's spec */
	guint count;      /* scale: wanted count */
	gboolean force;
	guint timeout_s;
	gchar *node;    /* node operations */
	gchar *move_to; /* a move: the target host, its peer URI, QEMU's data URI */
	gchar *peer_uri;
	gchar *data_uri;
	gboolean live;
	gchar *snapshot; /* snapshot operations */
	gboolean memory;
	GArray *held;         /* snapshot: nodes it paused; revert: nodes that ran */
	guint64 size;         /* snapshot: what the nodes' overlays grew by */
	guint64 need;         /* snapshot: room its saved memory may take */
	gint64 taken_at;      /* snapshot: when the nodes were paused */
	GHashTable *reserved; /* host -> guint64 * MiB admitted there */
	gchar *placement;     /* create, scale up: the host of the new nodes */
	GStrv spread;         /* or, one host for each new node in turn (OVN pools) */
	GHashTable *placed;   /* index -> host: where each new node of @spread goes */
	NfIntent *intent;
	/* the running phase */
	guint outstanding;
	NfPhaseDone phase_done;
	GError *error;   /* first failure */
	GArray *made;    /* indexes made by this operation, for rollback */
	GArray *targets; /* indexes of the current phase */
	guint steps_total;
	guint steps_done;
	guint forced;
	gulong cancel_id;
	/* removals libvirt refused (it went away mid-job): retried when it is
	 * back, so a job ends with its nodes gone, not orphaned */
	GArray *unsettled;
	guint removal_rounds;
	gboolean removal_error; /* op->error is a removal's, not a make's */
	NfPhaseDone after_removal;
	/* leaving nodes a snapshot holds: retired after the others' removal */
	GArray *retiring;
	NfPhaseDone after_retire;
	NfPhaseDone after_intent; /* once the intent is on disk */
	/* create: this operation added the pool to the model (a create queued
	 * behind another create of the same name finds it there and fails
	 * with Exists, and must not take the other's pool away) */
	gboolean made_pool;
	gulong connected_id;
	guint retry_source;
	NfOpEnded ended;
	gpointer ended_data;
};

/* One node's step: everything its worker needs is copied in when it is
 * queued (the worker reads nothing else, least of all the model); @op is
 * for the main-context half only. */
typedef struct {
	NfOp *op;
	NfEngine *engine; /* of its host; NULL: that host is not set up */
	gchar *host;
	gchar *pool;
	guint index;
	gchar *name;
	NfNodeSpec *spec;   /* make, prepare */
	gboolean start;     /* make: start it once made */
	guint stop_timeout; /* stop: 0 forces at once; reset: the graceful wait */
	gboolean forced;    /* stop: result, it had to be forced */
	gchar *snapshot;    /* the snapshot steps */
	/* a move: the target's engine (NULL: not set up), name and URIs */
	NfEngine *target_engine;
	gchar *target;
	gchar *peer_uri;
	gchar *data_uri;
	gboolean live;
	gboolean memory;
	gboolean flag; /* pause: it paused the node; revert: the node ran */
	guint64 size;  /* take: what the overlay grew by; space check: the room needed */
	/* A step that boots its node goes through the pacer (nf-pacer.h):
	 * what to submit once it has a slot. */
	gboolean paced;
	NfWorkFunc work;
	GDestroyNotify result_free;
	GCancellable *cancellable;
	gpointer done;
} NodeStep;

static void op_finish (NfOp *op);
static gpointer work_start (gpointer item, GCancellable *cancellable, GError **error);
static gpointer work_make (gpointer item, GCancellable *cancellable, GError **error);
static NfNode *op_node (NfOp *op, guint index);
static void step_unpace (NodeStep *step, const GError *error);

NfOp *
nf_op_new (const NfOpContext *context, NfOpKind kind, const gchar *pool, NfJob *job)
{
	NfOp *op = g_new0 (NfOp, 1);
	g_autofree gchar *object = g_strdup_printf ("pool/%s", pool);

	op->context = context;
	g_object_ref (context->owner);
	op->kind = kind;
	op->pool = g_strdup (pool);
	op->job = g_object_ref (job);
	op->made = g_array_new (FALSE, FALSE, sizeof (guint));
	op->targets = g_array_new (FALSE, FALSE, sizeof (guint));
	op->unsettled = g_array_new (FALSE, FALSE, sizeof (guint));
	op->retiring = g_array_new (FALSE, FALSE, sizeof (guint));
	op->held = g_array_new (FALSE, FALSE, sizeof (guint));
	op->reserved = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	op->placed = g_hash_table_new_full (NULL, NULL, NULL, g_free);
	nf_job_add_object (job, object);
	return op;
}

void
nf_op_free (NfOp *op)
{
	if (op == NULL)
		return;
	g_object_unref (op->job);
	g_object_unref (op->context->owner);
	g_free (op->pool);
	g_hash_table_unref (op->reserved);
	g_hash_table_unref (op->placed);
	g_free (op->placement);
	g_strfreev (op->spread);
	g_free (op->node);
	g_free (op->move_to);
	g_free (op->peer_uri);
	g_free (op->data_uri);
	g_free (op->snapshot);
	g_array_unref (op->held);
	nf_pool_spec_free (op->spec);
	g_clear_error (&op->error);
	g_array_unref (op->made);
	g_array_unref (op->targets);
	g_array_unref (op->unsettled);
	g_array_unref (op->retiring);
	g_free (op);
}

void
nf_op_set_spec (NfOp *op, const NfPoolSpec *spec)
{
	op->spec = nf_pool_spec_copy (spec);
}

void
nf_op_set_count (NfOp *op, guint count)
{
	op->count = count;
}

void
nf_op_set_stop (NfOp *op, gboolean force, guint timeout_s)
{
	op->force = force;
	op->timeout_s = timeout_s;
}

void
nf_op_set_node (NfOp *op, const gchar *node)
{
	g_autofree gchar *object = g_strdup_printf ("node/%s", node);

	op->node = g_strdup (node);
	nf_job_add_object (op->job, object);
}

void
nf_op_set_move (NfOp *op, const gchar *host, const gchar *peer_uri, const gchar *data_uri, gboolean live)
{
	op->move_to = g_strdup (host);
	op->peer_uri = g_strdup (peer_uri);
	op->data_uri = g_strdup (data_uri);
	op->live = live;
}

void
nf_op_set_snapshot (NfOp *op, const gchar *snapshot, gboolean memory)
{
	g_free (op->snapshot);
	op->snapshot = g_strdup (snapshot);
	op->memory = memory;
}

void
nf_op_add_reserved (NfOp *op, const gchar *host, guint64 reserved_mib)
{
	guint64 *mib = g_hash_table_lookup (op->reserved, host);

	if (mib == NULL) {
		mib = g_new0 (guint64, 1);
		g_hash_table_insert (op->reserved, g_strdup (host), mib);
	}
	*mib += reserved_mib;
	nf_model_reserve (op->context->model, host, reserved_mib);
}

void
nf_op_set_placement (NfOp *op, const gchar *host)
{
	g_free (op->placement);
	op->placement = g_strdup (host);
	/* a new pool keeps where it is, for when its host is away */
	if (op->spec != NULL && !g_str_equal (host, NF_HOST_LOCAL)) {
		g_free (op->spec->host);
		op->spec->host = g_strdup (host);
	}
}

void
nf_op_set_spread (NfOp *op, const gchar *const *hosts)
{
	g_return_if_fail (hosts != NULL && hosts[0] != NULL);
	g_strfreev (op->spread);
	op->spread = g_strdupv ((gchar **) hosts);
	/* a new pool's own host (where its retired nodes are looked for):
	 * its first node's; a pool that is there keeps its own */
	if (op->placement == NULL)
		nf_op_set_placement (op, hosts[0]);
}

/* The host of node @index: where it is, or where this operation makes it. */
static const gchar *
op_host_of (NfOp *op, guint index)
{
	g_autofree gchar *name = nf_node_name_build (op->pool, index);
	NfNode *node = nf_model_lookup_node (op->context->model, name);

	const gchar *placed = g_hash_table_lookup (op->placed, GUINT_TO_POINTER (index));
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);

	if (node != NULL)
		return nf_node_get_host (node);
	if (placed != NULL)
		return placed;
	/* a retired node is where it was retired, or listed */
	if (pool != NULL && nf_pool_is_retired (pool, index))
		return nf_pool_get_retired_host (pool, index);
	return op->placement != NULL ? op->placement : NF_HOST_LOCAL;
}

/* What works on node @index's host; NULL when that host is not in the
 * farm or not set up (the step then fails, naming it: never another
 * host's libvirt). */
static NfEngine *
op_engine_for (NfOp *op, guint index)
{
	NfFarmHost *host = nf_model_lookup_host (op->context->model, op_host_of (op, index));

	if (g_str_equal (op_host_of (op, index), NF_HOST_LOCAL))
		return op->context->engine;
	return host != NULL ? nf_farm_host_get_engine (host) : NULL;
}

void
nf_op_release_reserved (NfOp *op)
{
	GHashTableIter iter;
	gpointer host;
	gpointer mib;

	g_hash_table_iter_init (&iter, op->reserved);
	while (g_hash_table_iter_next (&iter, &host, &mib))
		nf_model_release (op->context->model, host, *(guint64 *) mib);
	g_hash_table_remove_all (op->reserved);
}

NfJob *
nf_op_get_job (NfOp *op)
{
	return op->job;
}

const gchar *
nf_op_get_pool (NfOp *op)
{
	return op->pool;
}

/* --- progress --- */

static void
op_step (NfOp *op, const gchar *what)
{
	op->steps_done++;
	nf_job_set_step (op->job, what);
	if (op->steps_total > 0)
		nf_job_set_progress (op->job, MIN (0.99, (gdouble) op->steps_done / op->steps_total));
}

static void
op_fail (NfOp *op, const GError *error)
{
	if (op->error == NULL)
		op->error = g_error_copy (error);
}

/* --- phases --- */

static NodeStep *
node_step_new (NfOp *op, guint index)
{
	NodeStep *step = g_new0 (NodeStep, 1);

	step->op = op;
	step->engine = op_engine_for (op, index) != NULL ? g_object_ref (op_engine_for (op, index)) : NULL;
	step->host = g_strdup (op_host_of (op, index));
	step->pool = g_strdup (op->pool);
	step->index = index;
	step->name = nf_node_name_build (op->pool, index);
	return step;
}

static void
node_step_free (NodeStep *step)
{
	g_clear_object (&step->engine);
	g_free (step->host);
	g_free (step->pool);
	g_free (step->name);
	g_free (step->snapshot);
	g_clear_object (&step->target_engine);
	g_free (step->target);
	g_free (step->peer_uri);
	g_free (step->data_uri);
	nf_node_spec_free (step->spec);
	g_clear_object (&step->cancellable);
	g_free (step);
}

typedef void (*NodeStepDone) (NodeStep *step, gpointer result, const GError *error);

typedef struct {
	NodeStepDone done;
} PhaseData;

static void
phase_item_done (gpointer item, gpointer result, const GError *error, gpointer user_data)
{
	NodeStep *step = item;
	NfOp *op = step->op;
	NodeStepDone done = (NodeStepDone) user_data;

	done (step, result, error);
	if (step->paced)
		step_unpace (step, error);
	node_step_free (step);
	g_assert (op->outstanding > 0);
	if (--op->outstanding == 0)
		op->phase_done (op);
}

static gpointer work_remove (gpointer item, GCancellable *cancellable, GError **error);
static gpointer work_retire (gpointer item, GCancellable *cancellable, GError **error);
static gpointer work_stop (gpointer item, GCancellable *cancellable, GError **error);
static gpointer work_reset (gpointer item, GCancellable *cancellable, GError **error);
static gpointer work_check_space (gpointer item, GCancellable *cancellable, GError **error);
static gpointer work_unprepare (gpointer item, GCancellable *cancellable, GError **error);

/* Stopping and removing nodes is mostly waiting for QEMU to exit and for
 * libvirt: those steps get the executor's wider bound. */
static NfWorkKind
work_kind (NfWorkFunc work)
{
	return work == work_stop || work == work_remove || work == work_retire ? NF_WORK_WAITING
									       : NF_WORK_BUSY;
}

/* What a make step needs of its pool's spec, copied in (an OVN pool's
 * node: its logical port, named by the instance, pool and index). */
static NfNodeSpec *
step_spec_new (NfOp *op, const NfPoolSpec *ps, guint index)
{
	NfNodeSpec *spec = nf_node_spec_new ();

	spec->pool = g_strdup (ps->name);
	spec->index = index;
	spec->profile = g_strdup (ps->profile);
	spec->vcpus = ps->vcpus;
	spec->memory_mib = ps->memory_mib;
	spec->disk_gib = ps->disk_gib;
	spec->image = g_strdup (ps->image);
	spec->trunk_bridge = g_strdup (ps->trunk_bridge);
	if (ps->ovn)
		spec->trunk_port = nf_ovn_port_name (op->context->config->engine->instance, ps->name, index);
	spec->vlans = g_strdup (ps->vlans);
	spec->mgmt_network = g_strdup (ps->mgmt_network);
	spec->ssh_user = g_strdup (ps->ssh_user);
	spec->ssh_keys = g_strdupv (ps->ssh_keys);
	spec->user_data = g_strdup (ps->user_data);
	if (op->context->baseline != NULL)
		spec->cpu = g_strdup (nf_baseline_get_xml (op->context->baseline));
	return spec;
}

/* The step of a node whose host is not set up (not in the farm, or never
 * reached since the start): it fails, saying so. */
static gpointer
work_no_host (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_BUSY,
		     "Node %s is on host %s, which nestfarmd cannot reach now; try again when it is online.",
		     step->name,
		     step->host);
	return NULL;
}

static void
step_go (gpointer user_data)
{
	NodeStep *step = user_data;

	if (step->engine == NULL)
		step->work = work_no_host;
	nf_executor_submit (step->op->context->executor,
			    work_kind (step->work),
			    step->work,
			    step,
			    step->result_free,
			    step->cancellable,
			    phase_item_done,
			    step->done);
}

/* A paced step is back: its node holds the slot while it boots, or the
 * slot is free again. */
static void
step_unpace (NodeStep *step, const GError *error)
{
	NfPacer *pacer = step->op->context->pacer;
	NfNode *node = op_node (step->op, step->index);

	if (error == NULL && node != NULL)
		nf_pacer_booted (pacer, node);
	else
		nf_pacer_give_back (pacer);
}

/* Queues one node's step: through the pacer if it boots the node. */
static void
step_submit (NodeStep *step)
{
	NfOp *op = step->op;
	NfPacer *pacer = op->context->pacer;
	guint slots = nf_pacer_get_slots (pacer);

	/* without pacing (BootsAtOnce=0) a start goes at once, unwatched */
	step->paced = slots > 0 && (step->work == work_start || step->work == work_reset ||
				    (step->work == work_make && step->start));
	if (!step->paced) {
		step_go (step);
		return;
	}
	if (nf_pacer_get_held (pacer) + nf_pacer_get_waiting (pacer) >= slots) {
		g_autofree gchar *what =
			g_strdup_printf ("%s waits to boot: %u node(s) boot at once, the next when one is ready",
					 step->name,
					 slots);

		nf_job_set_step (op->job, what);
	}
	nf_pacer_wait (pacer, nf_job_get_cancellable (op->job), step_go, step);
}

/* Runs @work for every index in @indexes; @done per node, @phase_done when
 * all are back. An empty phase ends at once (from an idle, so the caller
 * never re-enters). */
static gpointer work_migrate (gpointer item, GCancellable *cancellable, GError **error);
static void step_set_move (NfOp *op, NodeStep *step);

static void
op_run_phase (NfOp *op,
	      GArray *indexes,
	      NfWorkFunc work,
	      NodeStepDone done,
	      GDestroyNotify result_free,
	      gboolean honour_cancel,
	      NfPhaseDone phase_done)
{
	op->phase_done = phase_done;
	op->outstanding = indexes->len;
	if (indexes->len == 0) {
		g_idle_add_once ((GSourceOnceFunc) phase_done, op);
		return;
	}
	for (guint i = 0; i < indexes->len; i++) {
		NodeStep *step = node_step_new (op, g_array_index (indexes, guint, i));
		NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
		const NfPoolSpec *pool_spec = pool != NULL ? nf_pool_get_spec (pool) : NULL;
		const NfPoolSpec *ps = op->spec != NULL ? op->spec : pool_spec;

		if (work == work_reset)
			step->stop_timeout = op->context->config->shutdown_timeout_s;
		else
			step->stop_timeout = op->force ? 0 : op->timeout_s;
		/* a create's nodes start as it says; a scale's as the pool does */
		if (op->kind == NF_OP_SCALE)
			step->start = pool_spec != NULL && pool_spec->start;
		else
			step->start = op->spec != NULL ? op->spec->start : TRUE;
		/* a pool's OVN switch is the farm's: this machine's engine */
		if (work == work_unprepare) {
			g_clear_object (&step->engine);
			step->engine = g_object_ref (op->context->engine);
		}
		if ((op->kind == NF_OP_CREATE || op->kind == NF_OP_SCALE) && ps != NULL) {
			step->spec = step_spec_new (op, ps, step->index);
			step->spec->host = g_strdup (op_host_of (op, step->index));
		}
		step->snapshot = g_strdup (op->snapshot);
		step->memory = op->memory;
		if (work == work_migrate)
			step_set_move (op, step);
		if (work == work_check_space)
			step->size = op->need;
		step->work = work;
		step->result_free = result_free;
		step->done = (gpointer) done;
		if (honour_cancel)
			step->cancellable = g_object_ref (nf_job_get_cancellable (op->job));
		step_submit (step);
	}
}

/* Worker-thread steps. */

static gpointer
work_make (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	return nf_engine_make_node (step->engine, step->spec, step->start, cancellable, error);
}

/* What the engine said besides its result (see nf-engine.h). */
static void
log_warnings (GPtrArray *warnings)
{
	for (guint i = 0; i < warnings->len; i++)
		g_warning ("%s", (const gchar *) g_ptr_array_index (warnings, i));
}

static gpointer
work_remove (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;
	g_autoptr (GError) error_local = NULL;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
	gboolean removed = nf_engine_remove_node (step->engine, step->name, warnings, &error_local);

	log_warnings (warnings);
	if (!removed) {
		/* Already gone is what we wanted (a domain of that name that is
		 * not ours is NF_ERROR_EXISTS, and a failure). */
		if (g_error_matches (error_local, NF_ERROR, NF_ERROR_NOT_FOUND))
			return NULL;
		g_propagate_error (error, g_steal_pointer (&error_local));
	}
	return NULL;
}

static gpointer
work_retire (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);

	nf_engine_retire_node (step->engine, step->name, warnings, error);
	log_warnings (warnings);
	return NULL;
}

static gpointer
work_unretire (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	return nf_engine_unretire_node (step->engine, step->name, error);
}

static gpointer
work_stop (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	if (!nf_engine_stop_node (step->engine,
				  step->name,
				  step->stop_timeout,
				  &step->forced,
				  cancellable,
				  error))
		return NULL;
	return nf_engine_get_node (step->engine, step->name, error);
}

static gpointer
work_start (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	if (!nf_engine_start_node (step->engine, step->name, error))
		return NULL;
	return nf_engine_get_node (step->engine, step->name, error);
}

static gpointer
work_reset (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
	gboolean reset = nf_engine_reset_node (step->engine,
					       step->name,
					       step->stop_timeout,
					       cancellable,
					       warnings,
					       error);

	log_warnings (warnings);
	if (!reset)
		return NULL;
	return nf_engine_get_node (step->engine, step->name, error);
}

/* A move's step: the target, and its node marked moving (the events its
 * domain sends from either host meanwhile are the move's, not news). */
static void
step_set_move (NfOp *op, NodeStep *step)
{
	NfFarmHost *host = nf_model_lookup_host (op->context->model, op->move_to);
	NfEngine *engine = g_str_equal (op->move_to, NF_HOST_LOCAL) ? op->context->engine
			   : host != NULL                           ? nf_farm_host_get_engine (host)
								    : NULL;
	NfNode *node = nf_model_lookup_node (op->context->model, step->name);

	step->target_engine = engine != NULL ? g_object_ref (engine) : NULL;
	step->target = g_strdup (op->move_to);
	step->peer_uri = g_strdup (op->peer_uri);
	step->data_uri = g_strdup (op->data_uri);
	step->live = op->live;
	if (node != NULL)
		nf_node_set_moving (node, TRUE);
}

static gpointer
work_migrate (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;
	g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
	const NfMigrateTarget to = {step->target, step->peer_uri, step->data_uri, step->live};
	NfNodeInfo *info;

	if (step->target_engine == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_BUSY,
			     "Host %s is not reachable now; try again when it is online.",
			     step->target);
		return NULL;
	}
	info = nf_migrate_node (step->engine, step->target_engine, step->name, &to, warnings, error);
	log_warnings (warnings);
	return info;
}

static gpointer
work_prepare (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	if (!nf_engine_prepare_trunk (step->engine, step->spec, error))
		return NULL;
	return GINT_TO_POINTER (1);
}

static gpointer
work_unprepare (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	nf_engine_remove_trunk (step->engine, step->pool, error);
	return NULL;
}

/* Main-context results. */

static NfNode *
op_node (NfOp *op, guint index)
{
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);

	return pool != NULL ? nf_pool_get_node (pool, index) : NULL;
}

static void
made_done (NodeStep *step, gpointer result, const GError *error)
{
	NfOp *op = step->op;
	NfNode *node = op_node (op, step->index);
	g_autofree gchar *what = NULL;

	if (error != NULL) {
		g_autoptr (GError) named = NULL;

		if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			named = g_error_new (error->domain,
					     error->code,
					     "Cannot make node %s: %s",
					     step->name,
					     error->message);
			op_fail (op, named);
		}
		/* The engine undoes a failed make itself, unless libvirt went
		 * away meanwhile: then the rollback removes what is left. */
		if (g_error_matches (error, NF_ERROR, NF_ERROR_LIBVIRT))
			g_array_append_val (op->made, step->index);
		if (node != NULL)
			nf_model_remove_node (op->context->model, node);
		/* The first failure stops the nodes not yet begun. */
		g_cancellable_cancel (nf_job_get_cancellable (op->job));
		return;
	}
	g_array_append_val (op->made, step->index);
	if (node != NULL)
		nf_model_apply_node_info (op->context->model, node, result);
	what = g_strdup_printf ("made %s", step->name);
	op_step (op, what);
}

/* A step's failure, named after its node, fails the operation. */
static void
step_fail (NodeStep *step, const gchar *doing, const GError *error)
{
	g_autoptr (GError) named = g_error_new (error->domain,
						error->code,
						"Cannot %s %s: %s",
						doing,
						step->name,
						error->message);

	op_fail (step->op, named);
}

/* A node is out of its pool: removed, or @retired (kept for a snapshot). */
static void
node_left (NodeStep *step, gboolean retired)
{
	NfOp *op = step->op;
	NfNode *node = op_node (op, step->index);
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	g_autofree gchar *what = NULL;

	if (node != NULL)
		nf_model_remove_node (op->context->model, node);
	if (pool != NULL && retired)
		nf_pool_add_retired (pool, step->index, step->host);
	else if (pool != NULL)
		nf_pool_remove_retired (pool, step->index);
	what = g_strdup_printf (retired ? "retired %s (a snapshot holds it)" : "removed %s", step->name);
	op_step (op, what);
}

static void
removed_done (NodeStep *step, gpointer result, const GError *error)
{
	NfOp *op = step->op;
	NfNode *node = op_node (op, step->index);

	/* Gone already (a retry after the first attempt got through) is
	 * removed. */
	if (error != NULL && !g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND)) {
		g_autoptr (GError) named = g_error_new (error->domain,
							error->code,
							"Cannot remove node %s: %s",
							step->name,
							error->message);

		if (op->error == NULL)
			op->removal_error = TRUE;
		op_fail (op, named);
		g_array_append_val (op->unsettled, step->index);
		if (node != NULL)
			nf_node_set_state (node, NF_NODE_STATE_FAILED);
		return;
	}
	node_left (step, FALSE);
}

static void
stopped_done (NodeStep *step, gpointer result, const GError *error)
{
	NfOp *op = step->op;
	NfNode *node = op_node (op, step->index);
	g_autofree gchar *what = NULL;

	if (error != NULL) {
		if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_autoptr (GError) named = g_error_new (error->domain,
								error->code,
								"Cannot stop node %s: %s",
								step->name,
								error->message);

			op_fail (op, named);
		}
		return;
	}
	if (step->forced)
		op->forced++;
	if (node != NULL && result != NULL)
		nf_model_apply_node_info (op->context->model, node, result);
	what = g_strdup_printf (step->forced ? "forced %s off" : "stopped %s", step->name);
	op_step (op, what);
}

static void
started_done (NodeStep *step, gpointer result, const GError *error)
{
	NfOp *op = step->op;
	NfNode *node = op_node (op, step->index);
	g_autofree gchar *what = NULL;

	if (error != NULL) {
		if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_autoptr (GError) named =
				g_error_new (error->domain,
					     error->code,
					     "Cannot %s node %s: %s",
					     op->kind == NF_OP_NODE_RESET ? "reset" : "start",
					     step->name,
					     error->message);

			op_fail (op, named);
		}
		return;
	}
	if (node != NULL && result != NULL)
		nf_model_apply_node_info (op->context->model, node, result);
	what = g_strdup_printf (op->kind == NF_OP_NODE_RESET ? "reset %s" : "started %s", step->name);
	op_step (op, what);
}

/* A move is over: the node is where libvirt has it now. */
static void
migrated_done (NodeStep *step, gpointer result, const GError *error)
{
	NfOp *op = step->op;
	NfNode *node = op_node (op, step->index);
	g_autofree gchar *what = NULL;

	if (node != NULL)
		nf_node_set_moving (node, FALSE);
	if (error != NULL) {
		g_autoptr (GError) named = g_error_new (error->domain,
							error->code,
							"Cannot move node %s to host %s: %s",
							step->name,
							step->target,
							error->message);

		op_fail (op, named);
		return;
	}
	if (node != NULL && result != NULL)
		nf_model_apply_node_info (op->context->model, node, result);
	what = g_strdup_printf ("moved %s to %s", step->name, step->target);
	op_step (op, what);
}

static void
retired_done (NodeStep *step, gpointer result, const GError *error)
{
	NfNode *node = op_node (step->op, step->index);

	if (error != NULL) {
		step_fail (step, "retire", error);
		if (node != NULL)
			nf_node_set_state (node, NF_NODE_STATE_FAILED);
		return;
	}
	node_left (step, TRUE);
}

/* A retired node back in its pool, for a revert. */
static void
restored_done (NodeStep *step, gpointer result, const GError *error)
{
	NfOp *op = step->op;
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	g_autoptr (NfNode) node = NULL;
	g_autofree gchar *what = NULL;

	if (error != NULL) {
		step_fail (step, "bring back", error);
		return;
	}
	if (pool == NULL)
		return;
	node = nf_node_new (op->pool, step->index);
	nf_model_apply_node_info (op->context->model, node, result);
	nf_pool_remove_retired (pool, step->index);
	nf_model_add_node (op->context->model, pool, node);
	what = g_strdup_printf ("brought %s back", step->name);
	op_step (op, what);
}

static void
prepared_done (NodeStep *step, gpointer result, const GError *error)
{
	if (error != NULL)
		op_fail (step->op, error);
}

/* --- operation bodies --- */

static GArray *
all_indexes (NfOp *op)
{
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	GArray *indexes = g_array_new (FALSE, FALSE, sizeof (guint));
	GPtrArray *nodes = pool != NULL ? nf_pool_get_nodes (pool) : NULL;

	for (guint i = 0; nodes != NULL && i < nodes->len; i++) {
		guint index = nf_node_get_index (g_ptr_array_index (nodes, i));

		g_array_append_val (indexes, index);
	}
	return indexes;
}

static gboolean
op_cancelled (NfOp *op)
{
	return g_cancellable_is_cancelled (nf_job_get_cancellable (op->job));
}

static void
set_nodes_state (NfOp *op, GArray *indexes, NfNodeState state)
{
	for (guint i = 0; i < indexes->len; i++) {
		NfNode *node = op_node (op, g_array_index (indexes, guint, i));

		if (node != NULL)
			nf_node_set_state (node, state);
	}
}

/* --- removals that outlast a libvirt outage --- */

#define NF_REMOVAL_ROUNDS   5
#define NF_REMOVAL_WAIT_S   30
#define NF_REMOVAL_RETRY_MS 1000

static void removal_phase_done (NfOp *op);

static void
stop_waiting (NfOp *op)
{
	NfConnection *connection = nf_engine_get_connection (op->context->engine);

	g_clear_signal_handler (&op->connected_id, connection);
	g_clear_handle_id (&op->retry_source, g_source_remove);
}

static void
retry_removal (NfOp *op)
{
	g_autoptr (GArray) again = g_array_copy (op->unsettled);

	stop_waiting (op);
	g_array_set_size (op->unsettled, 0);
	set_nodes_state (op, again, NF_NODE_STATE_DELETING);
	op_run_phase (op, again, work_remove, removed_done, NULL, FALSE, removal_phase_done);
}

static gboolean
retry_removal_cb (gpointer user_data)
{
	NfOp *op = user_data;

	op->retry_source = 0;
	retry_removal (op);
	return G_SOURCE_REMOVE;
}

static void
connected_cb (NfConnection *connection, NfOp *op)
{
	retry_removal (op);
}

/* The end of a removal phase: what libvirt refused is tried again when it
 * answers again (bounded: NF_REMOVAL_ROUNDS, each waiting at most
 * NF_REMOVAL_WAIT_S for a reconnect). What is still left then stays in the
 * intent journal for the next start to settle. */
static void
removal_phase_done (NfOp *op)
{
	NfConnection *connection = nf_engine_get_connection (op->context->engine);
	g_autofree gchar *step = NULL;

	if (op->unsettled->len == 0) {
		/* every removal got through in the end */
		if (op->removal_error) {
			g_clear_error (&op->error);
			op->removal_error = FALSE;
		}
		op->after_removal (op);
		return;
	}
	if (op->removal_rounds >= NF_REMOVAL_ROUNDS || op->context->shutting_down) {
		op->after_removal (op);
		return;
	}
	op->removal_rounds++;
	step = g_strdup_printf ("waiting for libvirt to remove %u nodes (attempt %u of %u)",
				op->unsettled->len,
				op->removal_rounds + 1,
				NF_REMOVAL_ROUNDS + 1);
	nf_job_set_step (op->job, step);
	if (nf_connection_is_alive (connection)) {
		op->retry_source = g_timeout_add (NF_REMOVAL_RETRY_MS, retry_removal_cb, op);
		return;
	}
	op->connected_id = g_signal_connect (connection, "connected", G_CALLBACK (connected_cb), op);
	op->retry_source = g_timeout_add_seconds (NF_REMOVAL_WAIT_S, retry_removal_cb, op);
}

static void
remove_phase (NfOp *op, GArray *indexes, NfPhaseDone done)
{
	op->after_removal = done;
	op->removal_rounds = 0;
	op_run_phase (op, indexes, work_remove, removed_done, NULL, FALSE, removal_phase_done);
}

static void
retire_held (NfOp *op)
{
	g_autoptr (GArray) held = g_array_copy (op->retiring);

	g_array_set_size (op->retiring, 0);
	op_run_phase (op, held, work_retire, retired_done, NULL, FALSE, op->after_retire);
}

/* Nodes leaving the pool: removed, but those a snapshot of the pool holds
 * are retired instead (kept, stopped, for a revert to bring back). */
static void
let_go_phase (NfOp *op, GArray *indexes, NfPhaseDone done)
{
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	g_autoptr (GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint));

	g_array_set_size (op->retiring, 0);
	for (guint i = 0; i < indexes->len; i++) {
		guint index = g_array_index (indexes, guint, i);

		if (pool != NULL && nf_pool_find_snapshot_holding (pool, index) != NULL)
			g_array_append_val (op->retiring, index);
		else
			g_array_append_val (gone, index);
	}
	op->after_retire = done;
	remove_phase (op, gone, retire_held);
}

/* Rollback: remove what this operation made, then finish. */
static void
unprepared_done (NodeStep *step, gpointer result, const GError *error)
{
	if (error != NULL)
		op_fail (step->op, error);
}

/* The pool is no more (deleted, or its create rolled back): its OVN
 * switch goes (a failure fails the job; what a crash leaves, the next
 * start removes). */
static void
remove_trunk (NfOp *op)
{
	g_autoptr (GArray) one = g_array_new (FALSE, FALSE, sizeof (guint));
	guint first = 1;
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	const NfPoolSpec *spec = op->spec != NULL ? op->spec : pool != NULL ? nf_pool_get_spec (pool) : NULL;

	/* a plain OVS trunk is its host's bridge, shared: it stays */
	if (spec == NULL || !spec->ovn) {
		op_finish (op);
		return;
	}
	nf_job_set_step (op->job, "removing the trunk");
	g_array_append_val (one, first);
	op_run_phase (op, one, work_unprepare, unprepared_done, NULL, FALSE, op_finish);
}

static void
rolled_back (NfOp *op)
{
	if (op->made_pool && op->unsettled->len == 0) {
		remove_trunk (op);
		return;
	}
	op_finish (op);
}

static void
op_rollback (NfOp *op)
{
	g_autoptr (GArray) made = g_array_copy (op->made);

	nf_job_set_step (op->job, "rolling back");
	set_nodes_state (op, made, NF_NODE_STATE_DELETING);
	g_array_set_size (op->made, 0);
	remove_phase (op, made, rolled_back);
}

static void
made_all (NfOp *op)
{
	if (op->error != NULL || op_cancelled (op)) {
		op_rollback (op);
		return;
	}
	op_finish (op);
}

static void
make_nodes (NfOp *op)
{
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);

	/* nothing made but, perhaps, the trunk */
	if (op->error != NULL || op_cancelled (op)) {
		rolled_back (op);
		return;
	}
	for (guint i = 0; i < op->targets->len; i++) {
		guint index = g_array_index (op->targets, guint, i);
		g_autoptr (NfNode) node = nf_node_new (op->pool, index);
		const NfPoolSpec *spec = nf_pool_get_spec (pool);

		nf_node_set_memory_mib (node, spec->memory_mib);
		nf_node_set_host (node, op_host_of (op, index));
		nf_model_add_node (op->context->model, pool, node);
	}
	op_run_phase (op,
		      op->targets,
		      work_make,
		      made_done,
		      (GDestroyNotify) nf_node_info_free,
		      TRUE,
		      made_all);
}

static void
prepare_then_make (NfOp *op)
{
	g_autoptr (GArray) one = g_array_new (FALSE, FALSE, sizeof (guint));
	guint first = 1;

	g_array_append_val (one, first);
	op_run_phase (op, one, work_prepare, prepared_done, NULL, TRUE, make_nodes);
}

static void
removed_all (NfOp *op)
{
	if (op->kind == NF_OP_DELETE && op->error == NULL) {
		remove_trunk (op);
		return;
	}
	op_finish (op);
}

static void
remove_targets (NfOp *op)
{
	if (op->error != NULL) {
		op_finish (op);
		return;
	}
	set_nodes_state (op, op->targets, NF_NODE_STATE_DELETING);
	if (op->kind == NF_OP_DELETE) {
		/* the retired nodes go with their pool */
		NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
		const GArray *retired = pool != NULL ? nf_pool_get_spec (pool)->retired : NULL;
		g_autoptr (GArray) all = g_array_copy (op->targets);

		if (retired != NULL && retired->len > 0) {
			g_array_append_vals (all, retired->data, retired->len);
			op->steps_total += retired->len;
		}
		remove_phase (op, all, removed_all);
		return;
	}
	let_go_phase (op, op->targets, removed_all);
}

static void
stop_then_remove (NfOp *op)
{
	/* Delete is not cancelled half-way: graceful stop may be cut short,
	 * the removal always finishes. */
	op_run_phase (op,
		      op->targets,
		      work_stop,
		      stopped_done,
		      (GDestroyNotify) nf_node_info_free,
		      FALSE,
		      remove_targets);
}

static void
simple_done (NfOp *op)
{
	op_finish (op);
}

static void
intent_saved (GObject *source, GAsyncResult *res, gpointer user_data)
{
	NfOp *op = user_data;
	g_autoptr (GError) error = NULL;

	if (!nf_model_save_finish (op->context->model, res, &error)) {
		g_prefix_error (&error, "Nothing was done: ");
		op_fail (op, error);
		op_finish (op);
		return;
	}
	op->after_intent (op);
}

/* Journals what the operation is about to do before it touches anything,
 * so a crash at any moment is settled at the next start: @then runs once
 * the journal is on disk. A journal that cannot be written (a full disk)
 * fails the operation with nothing done. */
static void
record_intent (NfOp *op, NfIntentKind kind, NfPhaseDone then)
{
	op->intent = nf_model_add_intent (op->context->model, nf_job_get_id (op->job), kind, op->pool);
	op->intent->snapshot = g_strdup (op->snapshot);
	g_array_append_vals (op->intent->indexes, op->targets->data, op->targets->len);
	/* each node's host: a crash is settled there, when it opens */
	for (guint i = 0; i < op->targets->len; i++) {
		guint index = g_array_index (op->targets, guint, i);

		nf_intent_set_host (op->intent, index, op_host_of (op, index));
	}
	op->after_intent = then;
	nf_model_save_async (op->context->model, intent_saved, op);
}

static void
reset_node (NfOp *op)
{
	op_run_phase (op,
		      op->targets,
		      work_reset,
		      started_done,
		      (GDestroyNotify) nf_node_info_free,
		      FALSE,
		      simple_done);
}

static void
migrate_node (NfOp *op)
{
	op_run_phase (op,
		      op->targets,
		      work_migrate,
		      migrated_done,
		      (GDestroyNotify) nf_node_info_free,
		      FALSE,
		      simple_done);
}

static void
start_targets (NfOp *op)
{
	op_run_phase (op,
		      op->targets,
		      work_start,
		      started_done,
		      (GDestroyNotify) nf_node_info_free,
		      TRUE,
		      simple_done);
}

static void
stop_targets (NfOp *op)
{
	op_run_phase (op,
		      op->targets,
		      work_stop,
		      stopped_done,
		      (GDestroyNotify) nf_node_info_free,
		      TRUE,
		      simple_done);
}

/* --- pool snapshots --- */

static gpointer
work_pause (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	return nf_snapshot_pause (step->engine, step->name, &step->flag, error) ? GINT_TO_POINTER (1) : NULL;
}

static gpointer
work_take (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	return nf_snapshot_take (step->engine, step->name, step->snapshot, step->memory, &step->size, error)
		       ? GINT_TO_POINTER (1)
		       : NULL;
}

static gpointer
work_resume (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	if (!nf_snapshot_resume (step->engine, step->name, error))
		return NULL;
	return nf_engine_get_node (step->engine, step->name, error);
}

static gpointer
work_revert (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	return nf_snapshot_revert (step->engine, step->name, step->snapshot, step->memory, &step->flag, error)
		       ? GINT_TO_POINTER (1)
		       : NULL;
}

static gpointer
work_forget (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;

	return nf_snapshot_delete (step->engine, step->name, step->snapshot, error) ? GINT_TO_POINTER (1)
										    : NULL;
}

static void
paused_done (NodeStep *step, gpointer result, const GError *error)
{
	if (error != NULL)
		step_fail (step, "pause", error);
	else if (step->flag)
		g_array_append_val (step->op->held, step->index);
}

static void
taken_done (NodeStep *step, gpointer result, const GError *error)
{
	g_autofree gchar *what = NULL;

	if (error != NULL) {
		step_fail (step, "snapshot", error);
		return;
	}
	g_array_append_val (step->op->made, step->index);
	step->op->size += step->size;
	what = g_strdup_printf ("took %s of %s", step->snapshot, step->name);
	op_step (step->op, what);
}

/* Resumed or booted again: the model takes what libvirt says. */
static void
resumed_done (NodeStep *step, gpointer result, const GError *error)
{
	NfNode *node = op_node (step->op, step->index);

	if (error != NULL)
		step_fail (step,
			   step->memory || step->op->kind == NF_OP_SNAPSHOT ? "resume" : "start",
			   error);
	else if (node != NULL && result != NULL)
		nf_model_apply_node_info (step->op->context->model, node, result);
}

static void
reverted_done (NodeStep *step, gpointer result, const GError *error)
{
	g_autofree gchar *what = NULL;

	if (error != NULL) {
		step_fail (step, "revert", error);
		return;
	}
	if (step->flag)
		g_array_append_val (step->op->held, step->index);
	what = g_strdup_printf ("reverted %s to %s", step->name, step->snapshot);
	op_step (step->op, what);
}

static void
forgotten_done (NodeStep *step, gpointer result, const GError *error)
{
	g_autofree gchar *what = NULL;

	/* a node without its domain has nothing left to delete */
	if (error != NULL && !g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND)) {
		step_fail (step, "delete the snapshot of", error);
		return;
	}
	what = g_strdup_printf ("deleted %s of %s", step->snapshot, step->name);
	op_step (step->op, what);
}

/* A snapshot that failed on a node is deleted from the others: whole or
 * gone. What cannot be deleted is said in the job's error. */
static void
unmade_done (NodeStep *step, gpointer result, const GError *error)
{
	NfOp *op = step->op;

	gchar *message;

	if (error == NULL || g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND))
		return;
	message = g_strdup_printf ("%s; rollback: cannot delete it from %s: %s",
				   op->error->message,
				   step->name,
				   error->message);
	g_free (op->error->message);
	op->error->message = message;
}

static void
snapshot_taken (NfOp *op)
{
	g_autoptr (GArray) made = NULL;

	/* taken on every node: it stays, even if a node did not resume */
	if (op->error == NULL || op->made->len == op->targets->len) {
		op_finish (op);
		return;
	}
	made = g_array_copy (op->made);
	g_array_set_size (op->made, 0);
	nf_job_set_step (op->job, "rolling back");
	op_run_phase (op, made, work_forget, unmade_done, NULL, FALSE, simple_done);
}

/* The nodes run on as soon as every snapshot is taken (or failed). */
static void
snapshot_resume (NfOp *op)
{
	op_run_phase (op,
		      op->held,
		      work_resume,
		      resumed_done,
		      (GDestroyNotify) nf_node_info_free,
		      FALSE,
		      snapshot_taken);
}

static void
snapshot_take (NfOp *op)
{
	if (op->error != NULL) {
		snapshot_resume (op);
		return;
	}
	nf_job_set_step (op->job, "saving the nodes");
	op_run_phase (op, op->targets, work_take, taken_done, NULL, FALSE, snapshot_resume);
}

/* Room for the saved memory of the nodes that run: at most their RAM. */
static gpointer
work_check_space (gpointer item, GCancellable *cancellable, GError **error)
{
	NodeStep *step = item;
	guint64 available = 0;

	if (!nf_engine_storage_available (step->engine, &available, error))
		return NULL;
	if (available < step->size) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INSUFFICIENT_RESOURCES,
			     "Not enough free space for the saved memory of the running nodes: up to %" G_GUINT64_FORMAT
			     " MiB needed, %" G_GUINT64_FORMAT
			     " MiB free in storage pool %s; free some, or take "
			     "the snapshot with the nodes stopped.",
			     step->size / (1024 * 1024),
			     available / (1024 * 1024),
			     nf_engine_get_config (step->engine)->storage_pool);
		return NULL;
	}
	return GINT_TO_POINTER (1);
}

static void
space_checked (NodeStep *step, gpointer result, const GError *error)
{
	g_autoptr (GError) named = NULL;

	if (error == NULL)
		return;
	named = g_error_new (error->domain,
			     error->code,
			     "Cannot snapshot pool %s: %s",
			     step->op->pool,
			     error->message);
	op_fail (step->op, named);
}

static void snapshot_pause (NfOp *op);

/* What the running nodes' memory needs on disk, checked first. */
static void
snapshot_check (NfOp *op)
{
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	GPtrArray *nodes = nf_pool_get_nodes (pool);
	g_autoptr (GArray) one = g_array_new (FALSE, FALSE, sizeof (guint));
	guint64 need = 0;

	if (op->targets->len == 0) {
		g_autoptr (GError) error = g_error_new (NF_ERROR,
							NF_ERROR_INVALID_ARGUMENT,
							"Pool %s has no nodes to snapshot.",
							op->pool);

		op_fail (op, error);
		op_finish (op);
		return;
	}
	for (guint i = 0; i < nodes->len; i++) {
		NfNode *node = g_ptr_array_index (nodes, i);

		if (nf_node_holds_memory (node))
			need += (guint64) nf_node_get_memory_mib (node) * 1024 * 1024;
	}
	op->need = need;
	g_array_append_val (one, g_array_index (op->targets, guint, 0));
	op_run_phase (op, one, work_check_space, space_checked, NULL, FALSE, snapshot_pause);
}

/* All paused first, so that every node's snapshot is of one moment. */
static void
snapshot_pause (NfOp *op)
{
	if (op->error != NULL) {
		op_finish (op);
		return;
	}
	op->taken_at = g_get_real_time () / G_USEC_PER_SEC;
	nf_job_set_step (op->job, "pausing the nodes");
	op_run_phase (op, op->targets, work_pause, paused_done, NULL, FALSE, snapshot_take);
}

/* After a revert, the nodes that ran at the snapshot run again, together:
 * resumed where they were, or (a snapshot without memory) booted. */
static void
revert_resume (NfOp *op)
{
	nf_job_set_step (op->job, op->memory ? "resuming the nodes" : "booting the nodes");
	op_run_phase (op,
		      op->held,
		      op->memory ? work_resume : work_start,
		      resumed_done,
		      (GDestroyNotify) nf_node_info_free,
		      FALSE,
		      simple_done);
}

static void
revert_nodes (NfOp *op)
{
	if (op->error != NULL) {
		op_finish (op);
		return;
	}
	nf_job_set_step (op->job, "reverting the nodes");
	op_run_phase (op, op->targets, work_revert, reverted_done, NULL, FALSE, revert_resume);
}

/* Then the nodes the snapshot holds that left since (retired) come back
 * into the pool, in libvirt (the mark cleared) and in the model at once:
 * a revert that fails after this leaves them members on both sides. */
static void
revert_restore (NfOp *op)
{
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	g_autoptr (GArray) back = g_array_new (FALSE, FALSE, sizeof (guint));

	if (op->error != NULL || pool == NULL) {
		op_finish (op);
		return;
	}
	for (guint i = 0; i < op->targets->len; i++)
		if (nf_pool_is_retired (pool, g_array_index (op->targets, guint, i)))
			g_array_append_val (back, g_array_index (op->targets, guint, i));
	op->steps_total += back->len;
	op_run_phase (op,
		      back,
		      work_unretire,
		      restored_done,
		      (GDestroyNotify) nf_node_info_free,
		      FALSE,
		      revert_nodes);
}

/* The nodes made since the snapshot go first. */
static void
revert_remove_added (NfOp *op)
{
	g_autoptr (GArray) all = all_indexes (op);
	g_autoptr (GArray) added = g_array_new (FALSE, FALSE, sizeof (guint));
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	NfPoolSnapshot *snapshot = nf_pool_find_snapshot (pool, op->snapshot);

	for (guint i = 0; i < all->len; i++)
		if (!nf_pool_snapshot_holds (snapshot, g_array_index (all, guint, i)))
			g_array_append_val (added, g_array_index (all, guint, i));
	op->steps_total += added->len;
	set_nodes_state (op, added, NF_NODE_STATE_DELETING);
	let_go_phase (op, added, revert_restore);
}

/* Retired nodes that no other snapshot holds go for good. */
static void
release_retired (NfOp *op)
{
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	const NfPoolSpec *spec = pool != NULL ? nf_pool_get_spec (pool) : NULL;
	g_autoptr (GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint));

	if (op->error != NULL || spec == NULL) {
		op_finish (op);
		return;
	}
	/* gone from every node: gone from the pool, whatever the removals do */
	nf_pool_remove_snapshot (pool, op->snapshot);
	for (guint i = 0; i < spec->retired->len; i++) {
		guint index = g_array_index (spec->retired, guint, i);

		if (nf_pool_find_snapshot_holding (pool, index) == NULL)
			g_array_append_val (gone, index);
	}
	op->steps_total += gone->len;
	remove_phase (op, gone, simple_done);
}

static void
delete_snapshot (NfOp *op)
{
	op_run_phase (op, op->targets, work_forget, forgotten_done, NULL, FALSE, release_retired);
}

/* --- which nodes an operation works on --- */

/* create: the new pool's nodes */
static void
targets_new (NfOp *op, NfPool *pool)
{
	for (guint index = 1; index <= op->spec->count; index++)
		g_array_append_val (op->targets, index);
}

static void
targets_all (NfOp *op, NfPool *pool)
{
	g_autoptr (GArray) indexes = all_indexes (op);

	g_array_append_vals (op->targets, indexes->data, indexes->len);
}

/* scale up: new indexes above the highest there is */
static void
targets_added (NfOp *op, NfPool *pool)
{
	guint have = nf_pool_get_nodes (pool)->len;
	const GArray *retired = nf_pool_get_spec (pool)->retired;
	guint next = nf_pool_get_highest_index (pool);

	/* a retired node keeps its name for a revert */
	if (retired->len > 0)
		next = MAX (next, g_array_index (retired, guint, retired->len - 1));

	for (guint i = have; i < op->count; i++) {
		next++;
		g_array_append_val (op->targets, next);
	}
}

/* scale down: the highest indexes go */
static void
targets_highest (NfOp *op, NfPool *pool)
{
	g_autoptr (GArray) indexes = all_indexes (op);

	for (guint i = op->count; i < indexes->len; i++)
		g_array_append_val (op->targets, g_array_index (indexes, guint, i));
}

/* the nodes the snapshot holds; a revert takes its memory flag */
static void
targets_snapshot (NfOp *op, NfPool *pool)
{
	NfPoolSnapshot *snapshot = nf_pool_find_snapshot (pool, op->snapshot);

	g_array_append_vals (op->targets, snapshot->indexes->data, snapshot->indexes->len);
	op->memory = snapshot->memory;
}

static void
targets_node (NfOp *op, NfPool *pool)
{
	guint index = nf_node_get_index (nf_model_lookup_node (op->context->model, op->node));

	g_array_append_val (op->targets, index);
}

/* --- the operations: what differs between them, one row each --- */

#define NF_OP_NO_INTENT NF_INTENT_KIND_LAST
#define NF_OP_NO_STATE  NF_POOL_STATE_LAST

typedef struct {
	gboolean makes_pool;    /* the pool must not exist: the operation makes it */
	NfPoolState pool_state; /* what the pool shows meanwhile (NO_STATE: what its nodes do) */
	void (*targets) (NfOp *op, NfPool *pool);
	guint steps_per_target;  /* 2: stopped, then removed */
	NfIntentKind intent;     /* journaled before anything changes (NO_INTENT: not) */
	NfPhaseDone first_phase; /* once the journal is on disk */
} OpRow;

static const OpRow op_rows[] = {
	[NF_OP_CREATE] =
		{TRUE, NF_POOL_STATE_CREATING, targets_new, 1, NF_INTENT_KIND_CREATE, prepare_then_make},
	[NF_OP_DELETE] =
		{FALSE, NF_POOL_STATE_DELETING, targets_all, 2, NF_INTENT_KIND_DELETE, stop_then_remove},
	[NF_OP_SCALE] =
		{FALSE, NF_POOL_STATE_SCALING, targets_added, 1, NF_INTENT_KIND_SCALE_UP, prepare_then_make},
	[NF_OP_START] = {FALSE, NF_OP_NO_STATE, targets_all, 1, NF_OP_NO_INTENT, start_targets},
	[NF_OP_STOP] = {FALSE, NF_POOL_STATE_STOPPING, targets_all, 1, NF_OP_NO_INTENT, stop_targets},
	[NF_OP_NODE_START] = {FALSE, NF_OP_NO_STATE, targets_node, 1, NF_OP_NO_INTENT, start_targets},
	[NF_OP_NODE_STOP] = {FALSE, NF_OP_NO_STATE, targets_node, 1, NF_OP_NO_INTENT, stop_targets},
	[NF_OP_NODE_RESET] = {FALSE, NF_OP_NO_STATE, targets_node, 1, NF_INTENT_KIND_RESET, reset_node},
	[NF_OP_SNAPSHOT] = {FALSE, NF_OP_NO_STATE, targets_all, 1, NF_INTENT_KIND_SNAPSHOT, snapshot_check},
	[NF_OP_REVERT] =
		{FALSE, NF_OP_NO_STATE, targets_snapshot, 1, NF_INTENT_KIND_REVERT, revert_remove_added},
	[NF_OP_DELETE_SNAPSHOT] =
		{FALSE, NF_OP_NO_STATE, targets_snapshot, 1, NF_INTENT_KIND_DELETE_SNAPSHOT, delete_snapshot},
	[NF_OP_NODE_MIGRATE] = {FALSE, NF_OP_NO_STATE, targets_node, 1, NF_OP_NO_INTENT, migrate_node},
};
G_STATIC_ASSERT (G_N_ELEMENTS (op_rows) == NF_OP_NODE_MIGRATE + 1);

/* A scale to as many nodes as there are, or fewer. */
static const OpRow scale_down_row =
	{FALSE, NF_POOL_STATE_SCALING, targets_highest, 2, NF_INTENT_KIND_SCALE_DOWN, stop_then_remove};

/* @op ends, failed with @code, from an idle (its caller never re-enters). */
static void G_GNUC_PRINTF (3, 4) op_fail_soon (NfOp *op, gint code, const gchar *format, ...)
{
	g_autoptr (GError) error = NULL;
	va_list args;

	va_start (args, format);
	error = g_error_new_valist (NF_ERROR, code, format, args);
	va_end (args);
	op_fail (op, error);
	g_idle_add_once ((GSourceOnceFunc) op_finish, op);
}

/* What the operation works on is still (or, for a create, not yet) there:
 * it may have gone while the operation waited. */
static gboolean
op_check (NfOp *op, const OpRow *row, NfPool *pool)
{
	if (row->makes_pool && pool != NULL) {
		op_fail_soon (op,
			      NF_ERROR_EXISTS,
			      "The pool '%s' exists already; scale it, or delete it first.",
			      op->pool);
		return FALSE;
	}
	if (!row->makes_pool && pool == NULL) {
		op_fail_soon (op, NF_ERROR_NOT_FOUND, "The pool '%s' was removed meanwhile.", op->pool);
		return FALSE;
	}
	if (op->kind == NF_OP_SNAPSHOT && nf_pool_find_snapshot (pool, op->snapshot) != NULL) {
		op_fail_soon (op,
			      NF_ERROR_EXISTS,
			      "Pool %s has a snapshot named %s already.",
			      op->pool,
			      op->snapshot);
		return FALSE;
	}
	if ((op->kind == NF_OP_REVERT || op->kind == NF_OP_DELETE_SNAPSHOT) &&
	    nf_pool_find_snapshot (pool, op->snapshot) == NULL) {
		op_fail_soon (op,
			      NF_ERROR_NOT_FOUND,
			      "Pool %s has no snapshot %s (deleted meanwhile).",
			      op->pool,
			      op->snapshot);
		return FALSE;
	}
	if (op->node != NULL && nf_model_lookup_node (op->context->model, op->node) == NULL) {
		op_fail_soon (op, NF_ERROR_NOT_FOUND, "The node '%s' was removed meanwhile.", op->node);
		return FALSE;
	}
	return TRUE;
}

void
nf_op_run (NfOp *op, NfOpEnded ended, gpointer user_data)
{
	const OpRow *row = &op_rows[op->kind];
	NfPool *pool = nf_model_lookup_pool (op->context->model, op->pool);
	g_autoptr (NfPool) made = NULL;

	op->ended = ended;
	op->ended_data = user_data;
	nf_job_set_step (op->job, "starting");
	if (!op_check (op, row, pool))
		return;
	if (row->makes_pool)
		pool = made = nf_pool_new (op->spec);
	else if (op->kind == NF_OP_SCALE && op->count <= nf_pool_get_nodes (pool)->len)
		row = &scale_down_row;
	if (row->pool_state != NF_OP_NO_STATE)
		nf_pool_set_state (pool, row->pool_state);
	if (made != NULL) {
		nf_model_add_pool (op->context->model, made);
		op->made_pool = TRUE;
	}
	row->targets (op, pool);
	/* spread: the i-th new node on the i-th host the placement chose */
	for (guint i = 0; op->spread != NULL && i < op->targets->len && op->spread[i] != NULL; i++)
		g_hash_table_replace (op->placed,
				      GUINT_TO_POINTER (g_array_index (op->targets, guint, i)),
				      g_strdup (op->spread[i]));
	op->steps_total = op->targets->len * row->steps_per_target;
	if (row->intent != NF_OP_NO_INTENT)
		record_intent (op, row->intent, row->first_phase);
	else
		row->first_phase (op);
}

static const gchar *
nodes (guint n)
{
	return n == 1 ? "node" : "nodes";
}

static gchar *
op_summary (NfOp *op)
{
	switch (op->kind) {
	case NF_OP_CREATE:
		return g_strdup_printf ("Made pool %s with %u %s.",
					op->pool,
					op->spec->count,
					nodes (op->spec->count));
	case NF_OP_DELETE:
		if (op->forced > 0 && op->force)
			return g_strdup_printf ("Deleted pool %s; %u running %s forced off, as asked.",
						op->pool,
						op->forced,
						op->forced == 1 ? "node was" : "nodes were");
		if (op->forced > 0)
			return g_strdup_printf ("Deleted pool %s; %u %s not power off within %u s and %s forced off.",
						op->pool,
						op->forced,
						op->forced == 1 ? "node did" : "nodes did",
						op->timeout_s,
						op->forced == 1 ? "was" : "were");
		return g_strdup_printf ("Deleted pool %s.", op->pool);
	case NF_OP_SCALE:
		return g_strdup_printf ("Pool %s has %u %s.", op->pool, op->count, nodes (op->count));
	case NF_OP_START:
		return g_strdup_printf ("Started pool %s.", op->pool);
	case NF_OP_STOP:
		if (op->forced > 0)
			return g_strdup_printf ("Stopped pool %s; %u %s forced off.",
						op->pool,
						op->forced,
						op->forced == 1 ? "node was" : "nodes were");
		return g_strdup_printf ("Stopped pool %s.", op->pool);
	case NF_OP_NODE_START:
		return g_strdup_printf ("Started node %s.", op->node);
	case NF_OP_NODE_STOP:
		return g_strdup_printf (op->forced > 0 ? "Node %s was forced off." : "Stopped node %s.",
					op->node);
	case NF_OP_NODE_RESET:
		return g_strdup_printf ("Reset node %s.", op->node);
	case NF_OP_SNAPSHOT:
		return g_strdup_printf ("Took snapshot %s of pool %s (%u %s, %s).",
					op->snapshot,
					op->pool,
					op->targets->len,
					nodes (op->targets->len),
					op->memory && op->held->len > 0 ? "with their running state"
									: "disks only");
	case NF_OP_REVERT:
		return g_strdup_printf ("Reverted pool %s to snapshot %s.", op->pool, op->snapshot);
	case NF_OP_DELETE_SNAPSHOT:
		return g_strdup_printf ("Deleted snapshot %s of pool %s.", op->snapshot, op->pool);
	case NF_OP_NODE_MIGRATE:
		return g_strdup_printf ("Moved node %s to host %s.", op->node, op->move_to);
	default:
		g_assert_not_reached ();
	}
}

static void op_saved (GObject *source, GAsyncResult *res, gpointer user_data);

/* What a snapshot operation changes in the pool, once it is done. */
static void
snapshot_finish (NfOp *op, NfPool *pool)
{
	NfPoolSnapshot *snapshot;

	switch (op->kind) {
	case NF_OP_SNAPSHOT:
		snapshot = nf_pool_snapshot_new (op->snapshot);
		snapshot->created = op->taken_at;
		snapshot->size = op->size;
		/* running state was saved only for nodes that ran */
		snapshot->memory = op->memory && op->held->len > 0;
		g_array_append_vals (snapshot->indexes, op->targets->data, op->targets->len);
		g_array_append_vals (snapshot->running, op->held->data, op->held->len);
		nf_pool_add_snapshot (pool, snapshot);
		break;
	case NF_OP_REVERT:
		nf_pool_set_count (pool, op->targets->len);
		break;
	case NF_OP_DELETE_SNAPSHOT:
		nf_pool_remove_snapshot (pool, op->snapshot);
		break;
	case NF_OP_CREATE:
	case NF_OP_DELETE:
	case NF_OP_SCALE:
	case NF_OP_START:
	case NF_OP_STOP:
	case NF_OP_NODE_START:
	case NF_OP_NODE_STOP:
	case NF_OP_NODE_RESET:
	case NF_OP_NODE_MIGRATE:
	default:
		break;
	}
}

static void
op_finish (NfOp *op)
{
	NfModel *self = op->context->model;
	NfPool *pool = nf_model_lookup_pool (self, op->pool);
	gboolean cancelled = op->error == NULL && op_cancelled (op);
	gboolean failed = op->error != NULL || cancelled;

	if (cancelled)
		op->error = g_error_new_literal (NF_ERROR,
						 NF_ERROR_CANCELLED,
						 "The job was cancelled; what it made was removed.");

	if (pool != NULL) {
		/* create is all or nothing; delete and scale take effect when done */
		if (op->kind == NF_OP_CREATE && failed && op->made_pool && op->unsettled->len == 0)
			nf_model_remove_pool (self, pool);
		else if (op->kind == NF_OP_DELETE && !failed)
			nf_model_remove_pool (self, pool);
		else if (op->kind == NF_OP_SCALE && !failed)
			nf_pool_set_count (pool, op->count);
		else if (!failed || (op->kind == NF_OP_SNAPSHOT && op->made->len == op->targets->len))
			snapshot_finish (op, pool);
	}
	if (op->intent != NULL && op->unsettled->len > 0) {
		/* Left for the next start to settle: only what is still there. */
		g_array_set_size (op->intent->indexes, 0);
		g_array_append_vals (op->intent->indexes, op->unsettled->data, op->unsettled->len);
		g_warning ("job %u: %u nodes of pool %s could not be removed; the next start of nestfarmd removes them",
			   nf_job_get_id (op->job),
			   op->unsettled->len,
			   op->pool);
		op->intent = NULL;
	} else if (op->intent != NULL) {
		nf_model_drop_intent (self, op->intent);
		op->intent = NULL;
	}
	/* The job ends once its outcome is on disk. */
	nf_model_save_async (self, op_saved, op);
}

static void
op_saved (GObject *source, GAsyncResult *res, gpointer user_data)
{
	NfOp *op = user_data;
	NfModel *self = op->context->model;
	gboolean failed = op->error != NULL;
	NfPool *pool;
	g_autoptr (GError) error = NULL;

	if (!nf_model_save_finish (self, res, &error))
		g_warning ("%s", error->message);
	nf_model_set_idle (self, op->pool);
	nf_op_release_reserved (op);
	pool = nf_model_lookup_pool (self, op->pool);
	if (pool != NULL) {
		nf_model_refresh_pool_state (self, pool);
		if (failed && (op->kind != NF_OP_CREATE || op->unsettled->len > 0) &&
		    nf_pool_get_state (pool) != NF_POOL_STATE_READY)
			nf_pool_set_state (pool, NF_POOL_STATE_FAILED);
	}

	if (op->error != NULL) {
		g_info ("job %u (%s) ended: %s",
			nf_job_get_id (op->job),
			nf_job_get_operation (op->job),
			op->error->message);
		nf_job_complete (op->job, op->error);
	} else {
		g_autofree gchar *summary = op_summary (op);

		g_info ("job %u (%s): %s", nf_job_get_id (op->job), nf_job_get_operation (op->job), summary);
		nf_job_set_step (op->job, summary);
		nf_job_complete (op->job, NULL);
	}
	op->ended (op, op->ended_data);
}
