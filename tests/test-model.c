/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-model"

#include "config.h"

#include <glib/gstdio.h>

#include "nestfarm/nf-error.h"
#include "nf-farm-host.h"
#include "nf-moves.h"
#include "nf-node.h"
#include "nf-pacer.h"
#include "nf-scheduler.h"

/* The daemon's model without libvirt: which nodes hold memory, what the
 * model counts as committed and what admission lets through, as libvirt's
 * states and lifecycle events move a node's domain. The connection is never
 * opened; the domain states and events are the test's. Then the boot
 * pacer (nf-pacer.h), which lets starts through as those nodes boot. */

#define NODE_MIB 2048

typedef struct {
	gchar *dir;
	NfConfig *config;
	NfModel *model;
	NfScheduler *scheduler;
	NfPool *pool;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfPoolSpec) spec = nf_pool_spec_new ();
	g_autoptr (GError) error = NULL;

	fx->dir = g_dir_make_tmp ("nf-model-XXXXXX", &error);
	g_assert_no_error (error);
	fx->config = nf_config_new_defaults ();
	g_free (fx->config->state_dir);
	fx->config->state_dir = g_strdup (fx->dir);
	fx->model = nf_model_new (fx->config->state_dir);
	fx->scheduler = nf_scheduler_new (fx->model);
	spec->name = g_strdup ("m");
	spec->count = 2;
	spec->memory_mib = NODE_MIB;
	fx->pool = nf_pool_new (spec);
	nf_model_add_pool (fx->model, fx->pool);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
	g_clear_object (&fx->pool);
	g_clear_pointer (&fx->scheduler, nf_scheduler_free);
	g_clear_object (&fx->model);
	nf_config_free (fx->config);
	g_rmdir (fx->dir);
	g_free (fx->dir);
}

/* A node of the pool whose domain libvirt lists in @state. */
static NfNode *
add_node (Fixture *fx, guint index, NfDomainState state)
{
	g_autoptr (NfNode) node = nf_node_new ("m", index);
	g_autoptr (NfNodeInfo) info = g_new0 (NfNodeInfo, 1);

	info->spec = nf_node_spec_new ();
	info->spec->pool = g_strdup ("m");
	info->spec->index = index;
	info->spec->memory_mib = NODE_MIB;
	info->name = g_strdup (nf_node_get_name (node));
	info->uuid = g_strdup_printf ("00000000-0000-0000-0000-00000000000%u", index);
	info->state = state;
	nf_model_apply_node_info (fx->model, node, info);
	nf_model_add_node (fx->model, fx->pool, node);
	return g_steal_pointer (&node);
}

static void
stopped_event (Fixture *fx, NfNode *node)
{
	nf_model_apply_domain_event (fx->model,
				     nf_node_get_host (node),
				     nf_node_get_name (node),
				     nf_node_get_domain_uuid (node),
				     VIR_DOMAIN_EVENT_STOPPED,
				     VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
}

/* A node holds its memory while its domain is active or while it is being
 * made, whatever else its state says. */
static void
test_node_holds_memory (void)
{
	g_autoptr (NfNode) node = nf_node_new ("m", 1);
	const NfNodeState states[] = {
		NF_NODE_STATE_RUNNING,
		NF_NODE_STATE_PAUSED,
		NF_NODE_STATE_DELETING,
		NF_NODE_STATE_FAILED,
		NF_NODE_STATE_STOPPED,
	};

	g_assert_cmpint (nf_node_get_state (node), ==, NF_NODE_STATE_CREATING);
	g_assert_true (nf_node_holds_memory (node));
	for (guint i = 0; i < G_N_ELEMENTS (states); i++) {
		nf_node_set_state (node, states[i]);
		nf_node_set_domain_active (node, TRUE);
		g_assert_true (nf_node_holds_memory (node));
		nf_node_set_domain_active (node, FALSE);
		g_assert_false (nf_node_holds_memory (node));
	}
}

/* Deleting or failed with its domain still running: the node's memory is
 * committed until libvirt says the domain stopped. */
static void
test_committed_until_off (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfNode) one = add_node (fx, 1, NF_DOMAIN_STATE_RUNNING);
	g_autoptr (NfNode) two = add_node (fx, 2, NF_DOMAIN_STATE_PAUSED);

	g_assert_cmpint (nf_node_get_state (one), ==, NF_NODE_STATE_RUNNING);
	g_assert_cmpint (nf_node_get_state (two), ==, NF_NODE_STATE_PAUSED);
	g_assert_cmpuint (nf_model_get_memory_committed_mib (fx->model), ==, 2 * NODE_MIB);

	/* what a delete's removal and a failed removal do to the model */
	nf_node_set_state (one, NF_NODE_STATE_DELETING);
	nf_node_set_state (two, NF_NODE_STATE_FAILED);
	g_assert_cmpuint (nf_model_get_memory_committed_mib (fx->model), ==, 2 * NODE_MIB);

	stopped_event (fx, one);
	g_assert_false (nf_node_get_domain_active (one));
	g_assert_cmpuint (nf_model_get_memory_committed_mib (fx->model), ==, NODE_MIB);
	stopped_event (fx, two);
	g_assert_cmpuint (nf_model_get_memory_committed_mib (fx->model), ==, 0);

	/* and started again behind nestfarm's back */
	nf_model_apply_domain_event (fx->model,
				     nf_node_get_host (two),
				     nf_node_get_name (two),
				     nf_node_get_domain_uuid (two),
				     VIR_DOMAIN_EVENT_STARTED,
				     VIR_DOMAIN_EVENT_STARTED_BOOTED);
	g_assert_cmpint (nf_node_get_state (two), ==, NF_NODE_STATE_RUNNING);
	g_assert_cmpuint (nf_model_get_memory_committed_mib (fx->model), ==, NODE_MIB);
}

/* A listing after a reconnect that misses nodes drops them and leaves the
 * pool degraded; the next one that has them again makes it ready. */
/* Events reach a node from its own host only, and none while it moves:
 * a move's source says stopped and undefined, which must not stop or
 * remove the node that now runs elsewhere. */
static void
test_events_by_host (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfNode) node = add_node (fx, 1, NF_DOMAIN_STATE_RUNNING);
	const gchar *uuid = nf_node_get_domain_uuid (node);
	const gchar *name = nf_node_get_name (node);

	nf_model_apply_domain_event (fx->model,
				     "h9",
				     name,
				     uuid,
				     VIR_DOMAIN_EVENT_STOPPED,
				     VIR_DOMAIN_EVENT_STOPPED_MIGRATED);
	g_assert_cmpint (nf_node_get_state (node), ==, NF_NODE_STATE_RUNNING);

	nf_node_set_moving (node, TRUE);
	nf_model_apply_domain_event (fx->model,
				     nf_node_get_host (node),
				     name,
				     uuid,
				     VIR_DOMAIN_EVENT_STOPPED,
				     VIR_DOMAIN_EVENT_STOPPED_MIGRATED);
	nf_model_apply_domain_event (fx->model,
				     nf_node_get_host (node),
				     name,
				     uuid,
				     VIR_DOMAIN_EVENT_UNDEFINED,
				     VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
	g_assert_cmpint (nf_node_get_state (node), ==, NF_NODE_STATE_RUNNING);
	g_assert_true (nf_model_lookup_node (fx->model, name) == node);

	nf_node_set_moving (node, FALSE);
	stopped_event (fx, node);
	g_assert_cmpint (nf_node_get_state (node), ==, NF_NODE_STATE_STOPPED);
}

static void
test_listing_readopts (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfNode) one = add_node (fx, 1, NF_DOMAIN_STATE_RUNNING);
	g_autoptr (NfNode) two = add_node (fx, 2, NF_DOMAIN_STATE_RUNNING);
	g_autoptr (GPtrArray) none = g_ptr_array_new ();
	g_autoptr (GPtrArray) both = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_node_info_free);

	g_assert_true (nf_model_lookup_node (fx->model, "m-1") == one);
	g_assert_true (nf_model_lookup_node (fx->model, "m-2") == two);
	g_assert_cmpint (nf_pool_get_state (fx->pool), ==, NF_POOL_STATE_READY);
	nf_model_apply_listing (fx->model, NF_HOST_LOCAL, none);
	g_assert_null (nf_model_lookup_node (fx->model, "m-1"));
	g_assert_cmpint (nf_pool_get_state (fx->pool), ==, NF_POOL_STATE_DEGRADED);

	for (guint index = 1; index <= 2; index++) {
		NfNodeInfo *info = g_new0 (NfNodeInfo, 1);

		info->spec = nf_node_spec_new ();
		info->spec->pool = g_strdup ("m");
		info->spec->index = index;
		info->spec->memory_mib = NODE_MIB;
		info->name = g_strdup_printf ("m-%u", index);
		info->uuid = g_strdup_printf ("00000000-0000-0000-0000-00000000000%u", index);
		info->state = NF_DOMAIN_STATE_RUNNING;
		g_ptr_array_add (both, info);
	}
	nf_model_apply_listing (fx->model, NF_HOST_LOCAL, both);
	g_assert_nonnull (nf_model_lookup_node (fx->model, "m-1"));
	g_assert_nonnull (nf_model_lookup_node (fx->model, "m-2"));
	g_assert_cmpint (nf_pool_get_state (fx->pool), ==, NF_POOL_STATE_READY);
}

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
	(*(guint *) user_data)++;
}

/* MemoryCommittedMiB follows: a change of a domain's activity alone is
 * announced. */
static void
test_committed_notifies (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfNode) one = add_node (fx, 1, NF_DOMAIN_STATE_RUNNING);
	guint notified = 0;

	nf_node_set_state (one, NF_NODE_STATE_FAILED);
	g_signal_connect (fx->model, "notify::memory-committed-mib", G_CALLBACK (count_notify), &notified);
	nf_node_set_domain_active (one, FALSE);
	g_assert_cmpuint (notified, ==, 1);
	g_signal_handlers_disconnect_by_data (fx->model, &notified);
}

/* Admission counts a node being deleted as long as it runs. */
static void
test_admission (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfNode) one = add_node (fx, 1, NF_DOMAIN_STATE_RUNNING);
	g_autoptr (NfNode) two = add_node (fx, 2, NF_DOMAIN_STATE_RUNNING);
	g_autoptr (GError) error = NULL;
	/* The host's memory: room for three nodes beside the reserve. */
	const NfMemoryBound bound = {
		.total_mib = fx->config->memory_reserve_mib + 3 * NODE_MIB,
		.reserve_mib = fx->config->memory_reserve_mib,
		.overcommit = 1.0,
	};

	/* both run; only one of them is being deleted */
	g_assert_true (nf_node_holds_memory (two));

	nf_node_set_state (one, NF_NODE_STATE_DELETING);
	g_assert_false (nf_scheduler_admit (fx->scheduler, &bound, NULL, 2 * NODE_MIB, "two nodes", &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INSUFFICIENT_RESOURCES);
	g_clear_error (&error);
	g_assert_true (nf_scheduler_admit (fx->scheduler, &bound, NULL, NODE_MIB, "one node", &error));
	g_assert_no_error (error);

	stopped_event (fx, one);
	g_assert_true (nf_scheduler_admit (fx->scheduler, &bound, NULL, 2 * NODE_MIB, "two nodes", &error));
	g_assert_no_error (error);
}

/* --- the boot pacer --- */

typedef struct {
	guint went; /* how many waiting starts were let through */
} Gone;

static void
count_go (gpointer user_data)
{
	Gone *gone = user_data;

	gone->went++;
}

static void
settle (void)
{
	while (g_main_context_iteration (NULL, FALSE))
		;
}

/* Two slots: two starts go, the third waits until a booting node is
 * ready; a failed start gives its slot back; a stop ends a boot. (The CPU
 * going quiet is the daemon tests' to show: it needs a real guest.) */
static void
test_pacer_slots (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfPacer) pacer = nf_pacer_new (fx->model, NULL, 2, 600);
	g_autoptr (NfNode) one = add_node (fx, 1, NF_DOMAIN_STATE_RUNNING);
	g_autoptr (NfNode) two = add_node (fx, 2, NF_DOMAIN_STATE_RUNNING);
	Gone gone = {0};

	for (guint i = 0; i < 4; i++)
		nf_pacer_wait (pacer, NULL, count_go, &gone);
	/* never from within the call */
	g_assert_cmpuint (gone.went, ==, 0);
	settle ();
	g_assert_cmpuint (gone.went, ==, 2);
	g_assert_cmpuint (nf_pacer_get_waiting (pacer), ==, 2);
	nf_pacer_booted (pacer, one);
	nf_pacer_booted (pacer, two);
	settle ();
	g_assert_cmpuint (gone.went, ==, 2);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 2);

	nf_node_set_ready (one, TRUE);
	settle ();
	g_assert_cmpuint (gone.went, ==, 3);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 2);
	/* the third start failed: its slot lets the fourth through */
	nf_pacer_give_back (pacer);
	settle ();
	g_assert_cmpuint (gone.went, ==, 4);
	g_assert_cmpuint (nf_pacer_get_waiting (pacer), ==, 0);
	/* the fourth boots one again (a reset): it holds until ready */
	nf_node_set_ready (one, FALSE);
	nf_pacer_booted (pacer, one);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 2);
	nf_node_set_ready (one, TRUE);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 1);
	/* two stops, then is removed: its slot is given back once */
	stopped_event (fx, two);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 0);
	nf_model_remove_node (fx->model, two);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 0);
	nf_model_remove_node (fx->model, one);
}

/* A node removed while it boots, and one that never gets ready: both give
 * their slot back (the second after the hold time). */
static void
test_pacer_hold_ends (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfPacer) pacer = nf_pacer_new (fx->model, NULL, 1, 1);
	g_autoptr (NfNode) one = add_node (fx, 1, NF_DOMAIN_STATE_RUNNING);
	g_autoptr (NfNode) two = add_node (fx, 2, NF_DOMAIN_STATE_RUNNING);
	Gone gone = {0};
	gint64 began;

	for (guint i = 0; i < 3; i++)
		nf_pacer_wait (pacer, NULL, count_go, &gone);
	settle ();
	g_assert_cmpuint (gone.went, ==, 1);
	nf_pacer_booted (pacer, one);
	nf_model_remove_node (fx->model, one);
	settle ();
	g_assert_cmpuint (gone.went, ==, 2);
	nf_pacer_booted (pacer, two);
	began = g_get_monotonic_time ();
	while (gone.went < 3)
		g_main_context_iteration (NULL, TRUE);
	g_assert_cmpint (g_get_monotonic_time () - began, >=, G_USEC_PER_SEC / 2);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 1);
	nf_pacer_give_back (pacer);
	nf_model_remove_node (fx->model, two);
}

/* A cancelled start goes through at once, whatever the slots say; no
 * pacing (0 slots) lets every start through. */
static void
test_pacer_cancel_and_off (Fixture *fx, gconstpointer data)
{
	g_autoptr (NfPacer) pacer = nf_pacer_new (fx->model, NULL, 1, 600);
	g_autoptr (NfPacer) off = nf_pacer_new (fx->model, NULL, 0, 600);
	g_autoptr (GCancellable) cancellable = g_cancellable_new ();
	Gone gone = {0};
	Gone all = {0};

	nf_pacer_wait (pacer, NULL, count_go, &gone);
	nf_pacer_wait (pacer, cancellable, count_go, &gone);
	nf_pacer_wait (pacer, NULL, count_go, &gone);
	settle ();
	g_assert_cmpuint (gone.went, ==, 1);
	g_cancellable_cancel (cancellable);
	settle ();
	g_assert_cmpuint (gone.went, ==, 2);
	g_assert_cmpuint (nf_pacer_get_held (pacer), ==, 2);
	nf_pacer_give_back (pacer);
	nf_pacer_give_back (pacer);
	settle ();
	g_assert_cmpuint (gone.went, ==, 3);
	nf_pacer_give_back (pacer);

	for (guint i = 0; i < 5; i++)
		nf_pacer_wait (off, NULL, count_go, &all);
	settle ();
	g_assert_cmpuint (all.went, ==, 5);
	for (guint i = 0; i < 5; i++)
		nf_pacer_give_back (off);
}

/* --- rebalancing (nf-moves.c), with the manager's calls stood in --- */

typedef struct {
	NfModel *model;
	GPtrArray *moved; /* "node>host" of each move asked for */
} Mover;

/* The manager's migrate: recorded, its job done at once. */
static NfJob *
fake_migrate (gpointer owner, const gchar *node, const gchar *host, guint uid, GError **error)
{
	Mover *mover = owner;
	NfJob *job = nf_model_new_job (mover->model, "migrate-node", uid);

	g_ptr_array_add (mover->moved, g_strdup_printf ("%s>%s", node, host != NULL ? host : "-"));
	nf_job_complete (job, NULL);
	return job;
}

static gdouble
fake_limit (gpointer owner, const gchar *host)
{
	return 10000;
}

static gboolean
fake_allowed (gpointer owner, const gchar *node, const gchar *host)
{
	return !g_str_equal (host, "local");
}

static void
add_host (Fixture *fx, const gchar *name)
{
	g_autoptr (NfFarmHost) host = nf_farm_host_new (name, "test:///default");

	nf_farm_host_set_reachable (host, TRUE);
	nf_model_add_host (fx->model, host);
}

/* A node of the pool on @host, running. */
static void
add_node_on (Fixture *fx, guint index, const gchar *host)
{
	g_autoptr (NfNode) node = nf_node_new ("m", index);
	g_autoptr (NfNodeInfo) info = g_new0 (NfNodeInfo, 1);

	info->spec = nf_node_spec_new ();
	info->spec->pool = g_strdup ("m");
	info->spec->index = index;
	info->spec->memory_mib = NODE_MIB;
	info->spec->host = g_strdup (host);
	info->name = g_strdup (nf_node_get_name (node));
	info->uuid = g_strdup_printf ("00000000-0000-0000-0000-00000000001%u", index);
	info->state = NF_DOMAIN_STATE_RUNNING;
	nf_model_apply_node_info (fx->model, node, info);
	nf_model_add_node (fx->model, fx->pool, node);
}

/* Node m-@index as a listing shows it on @host. */
static GPtrArray *
listing_of (guint index, const gchar *host)
{
	GPtrArray *nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_node_info_free);
	NfNodeInfo *info = g_new0 (NfNodeInfo, 1);

	info->spec = nf_node_spec_new ();
	info->spec->pool = g_strdup ("m");
	info->spec->index = index;
	info->spec->memory_mib = NODE_MIB;
	info->spec->host = g_strdup (host);
	info->name = g_strdup_printf ("m-%u", index);
	info->uuid = g_strdup_printf ("00000000-0000-0000-0000-00000000001%u", index);
	info->state = NF_DOMAIN_STATE_RUNNING;
	g_ptr_array_add (nodes, info);
	return nodes;
}

/* A node missing from its host's listing while another host has not
 * listed yet (a move a crash cut short: it may be there) stays, unknown,
 * and is the same node when that host shows it; one no host shows leaves
 * once every host has listed. */
static void
test_vanished_waits (Fixture *fx, gconstpointer data)
{
	g_autoptr (GPtrArray) none = g_ptr_array_new ();
	g_autoptr (GPtrArray) on_h1 = listing_of (1, "h1");
	NfNode *node;

	add_host (fx, NF_HOST_LOCAL);
	add_host (fx, "h1");
	add_host (fx, "h2");
	nf_model_set_host_listed (fx->model, NF_HOST_LOCAL);
	add_node_on (fx, 1, "h2");
	add_node_on (fx, 2, "h2");
	node = nf_model_lookup_node (fx->model, "m-1");

	nf_model_apply_listing (fx->model, "h2", none);
	g_assert_true (nf_model_lookup_node (fx->model, "m-1") == node);
	g_assert_cmpint (nf_node_get_state (node), ==, NF_NODE_STATE_UNKNOWN);
	g_assert_nonnull (nf_model_lookup_node (fx->model, "m-2"));

	nf_model_apply_listing (fx->model, "h1", on_h1);
	g_assert_true (nf_model_lookup_node (fx->model, "m-1") == node);
	g_assert_cmpstr (nf_node_get_host (node), ==, "h1");
	g_assert_cmpint (nf_node_get_state (node), ==, NF_NODE_STATE_RUNNING);
	g_assert_null (nf_model_lookup_node (fx->model, "m-2"));

	/* one that waited, then was removed and made again, is the new one */
	nf_model_set_host_unknown (fx->model, "h1");
	nf_model_apply_listing (fx->model, "h1", none);
	nf_model_set_host_unknown (fx->model, "h2");
	g_assert_null (nf_model_lookup_node (fx->model, "m-1"));
	add_node_on (fx, 3, "h1");
	nf_model_apply_listing (fx->model, "h1", none);
	g_assert_cmpint (nf_node_get_state (nf_model_lookup_node (fx->model, "m-3")),
			 ==,
			 NF_NODE_STATE_UNKNOWN);
	nf_model_remove_node (fx->model, nf_model_lookup_node (fx->model, "m-3"));
	add_node_on (fx, 3, "h1");
	nf_model_apply_listing (fx->model, "h2", none);
	g_assert_nonnull (nf_model_lookup_node (fx->model, "m-3"));
	g_assert_cmpint (nf_node_get_state (nf_model_lookup_node (fx->model, "m-3")),
			 ==,
			 NF_NODE_STATE_RUNNING);
}

static void
iterate_until (gboolean (*done) (gpointer), gpointer data, guint timeout_s)
{
	gint64 until = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

	while (!done (data) && g_get_monotonic_time () < until)
		g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
	g_assert_true (done (data));
}

static gboolean
job_done (gpointer job)
{
	return nf_job_is_done (job);
}

static gboolean
two_moved (gpointer mover)
{
	return ((Mover *) mover)->moved->len >= 2;
}

/* Three nodes (61%) on h1 and none on h2, the hosts within 20 points:
 * one move, to h2 (a second would not narrow the gap), never to local
 * (nothing can move there); a pass with nothing to plan makes no job;
 * the periodic pass moves another node, not the one the last pass moved. */
static void
test_rebalance (Fixture *fx, gconstpointer data)
{
	Mover mover = {fx->model, g_ptr_array_new_with_free_func (g_free)};
	const NfRebalanceOptions options = {20, 4};
	g_autoptr (NfMoves) moves = NULL;
	g_autoptr (GError) error = NULL;
	NfJob *job;

	add_host (fx, NF_HOST_LOCAL);
	add_host (fx, "h1");
	add_host (fx, "h2");
	for (guint i = 1; i <= 3; i++)
		add_node_on (fx, i, "h1");
	moves = nf_moves_new (fx->model, fake_migrate, fake_limit, fake_allowed, &mover, 1);
	job = nf_moves_rebalance (moves, &options, 0, &error);
	g_assert_no_error (error);
	g_assert_nonnull (job);
	g_object_ref (job);
	/* one at a time: a second is Busy until the first is done */
	g_assert_null (nf_moves_rebalance (moves, &options, 0, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_BUSY);
	iterate_until (job_done, job, 10);
	g_assert_cmpint (nf_job_get_state (job), ==, NF_JOB_STATE_SUCCEEDED);
	g_assert_cmpuint (mover.moved->len, ==, 1);
	g_assert_true (g_str_has_suffix (g_ptr_array_index (mover.moved, 0), ">h2"));
	g_object_unref (job);
	/* nothing really moved here: the periodic pass (every second) plans
	 * again, and takes another node than the one moved last */
	iterate_until (two_moved, &mover, 10);
	g_assert_cmpstr (g_ptr_array_index (mover.moved, 1), !=, g_ptr_array_index (mover.moved, 0));
	g_assert_true (g_str_has_suffix (g_ptr_array_index (mover.moved, 1), ">h2"));
	g_clear_pointer (&moves, nf_moves_free);
	g_ptr_array_unref (mover.moved);
	g_unlink (nf_store_get_path (nf_model_get_store (fx->model)));
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/model/node-holds-memory", test_node_holds_memory);
	g_test_add ("/model/committed-until-off",
		    Fixture,
		    NULL,
		    fixture_set_up,
		    test_committed_until_off,
		    fixture_tear_down);
	g_test_add ("/model/committed-notifies",
		    Fixture,
		    NULL,
		    fixture_set_up,
		    test_committed_notifies,
		    fixture_tear_down);
	g_test_add ("/model/listing-readopts",
		    Fixture,
		    NULL,
		    fixture_set_up,
		    test_listing_readopts,
		    fixture_tear_down);
	g_test_add ("/model/events-by-host",
		    Fixture,
		    NULL,
		    fixture_set_up,
		    test_events_by_host,
		    fixture_tear_down);
	g_test_add ("/model/vanished-waits",
		    Fixture,
		    NULL,
		    fixture_set_up,
		    test_vanished_waits,
		    fixture_tear_down);
	g_test_add ("/model/admission", Fixture, NULL, fixture_set_up, test_admission, fixture_tear_down);
	g_test_add ("/pacer/slots", Fixture, NULL, fixture_set_up, test_pacer_slots, fixture_tear_down);
	g_test_add ("/pacer/hold-ends",
		    Fixture,
		    NULL,
		    fixture_set_up,
		    test_pacer_hold_ends,
		    fixture_tear_down);
	g_test_add ("/moves/rebalance", Fixture, NULL, fixture_set_up, test_rebalance, fixture_tear_down);
	g_test_add ("/pacer/cancel-and-off",
		    Fixture,
		    NULL,
		    fixture_set_up,
		    test_pacer_cancel_and_off,
		    fixture_tear_down);
	return g_test_run ();
}
