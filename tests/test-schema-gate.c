/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-schema-gate"

/* The schema gate on its own, without libvirt: the first validated define
 * of a connection runs alone, a failed one hands the turn on, and a new
 * connection starts cold, and shapes learnt hold for their connection only
 * (test-rng-race drives it against libvirtd). */

#include "config.h"

#include "src/core/nf-schema-gate-private.h"

/* Long enough for a waiter that should be released to be so. */
#define BLOCKED_MS 100

typedef struct {
	NfSchemaGate *gate;
	guint64 generation;
	GThread *thread;
	gint done;
	gboolean alone;
} Waiter;

static gpointer
waiter_run (gpointer data)
{
	Waiter *waiter = data;

	waiter->alone = nf_schema_gate_enter (waiter->gate, waiter->generation);
	g_atomic_int_set (&waiter->done, 1);
	return NULL;
}

static Waiter *
waiter_start (NfSchemaGate *gate, guint64 generation)
{
	Waiter *waiter = g_new0 (Waiter, 1);

	waiter->gate = gate;
	waiter->generation = generation;
	waiter->thread = g_thread_new ("waiter", waiter_run, waiter);
	return waiter;
}

static gboolean
waiter_blocked (Waiter *waiter)
{
	g_usleep (BLOCKED_MS * G_TIME_SPAN_MILLISECOND);
	return !g_atomic_int_get (&waiter->done);
}

/* TRUE when the waiter was granted the warm-up. */
static gboolean
waiter_finish (Waiter *waiter)
{
	gboolean alone;

	g_thread_join (waiter->thread);
	alone = waiter->alone;
	g_free (waiter);
	return alone;
}

static void
test_first_runs_alone (void)
{
	g_autoptr (NfSchemaGate) gate = nf_schema_gate_new ();
	Waiter *waiters[4];

	g_assert_true (nf_schema_gate_enter (gate, 1));
	for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
		waiters[i] = waiter_start (gate, 1);
	for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
		g_assert_true (waiter_blocked (waiters[i]));

	nf_schema_gate_leave (gate, 1, TRUE);
	/* Warm: all go at once, none alone. */
	for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
		g_assert_false (waiter_finish (waiters[i]));
	g_assert_false (nf_schema_gate_enter (gate, 1));
}

static void
test_failed_warm_up_hands_on (void)
{
	g_autoptr (NfSchemaGate) gate = nf_schema_gate_new ();
	Waiter *first;
	Waiter *second;

	g_assert_true (nf_schema_gate_enter (gate, 1));
	first = waiter_start (gate, 1);
	g_assert_true (waiter_blocked (first));

	/* The warm-up failed: libvirtd may still be cold, so one waiter
	 * warms up in turn, alone, while the others keep waiting. */
	nf_schema_gate_leave (gate, 1, FALSE);
	g_assert_true (waiter_finish (first));
	second = waiter_start (gate, 1);
	g_assert_true (waiter_blocked (second));
	nf_schema_gate_leave (gate, 1, TRUE);
	g_assert_false (waiter_finish (second));
}

static void
test_new_connection_starts_cold (void)
{
	g_autoptr (NfSchemaGate) gate = nf_schema_gate_new ();
	Waiter *waiter;

	g_assert_true (nf_schema_gate_enter (gate, 1));
	nf_schema_gate_leave (gate, 1, TRUE);
	g_assert_false (nf_schema_gate_enter (gate, 1));

	/* Reconnected, maybe to a restarted libvirtd: cold again. */
	g_assert_true (nf_schema_gate_enter (gate, 2));
	waiter = waiter_start (gate, 2);
	g_assert_true (waiter_blocked (waiter));

	/* The old connection neither waits nor settles the new one. */
	g_assert_false (nf_schema_gate_enter (gate, 1));
	nf_schema_gate_leave (gate, 1, TRUE);
	g_assert_true (waiter_blocked (waiter));

	/* Lost again mid warm-up: who waited for generation 2 goes on (its
	 * define fails on the dead connection) and 3 warms up alone. */
	g_assert_true (nf_schema_gate_enter (gate, 3));
	g_assert_false (waiter_finish (waiter));
	/* Generation 2's warm-up ends late and settles nothing. */
	nf_schema_gate_leave (gate, 2, TRUE);
	waiter = waiter_start (gate, 3);
	g_assert_true (waiter_blocked (waiter));
	nf_schema_gate_leave (gate, 3, TRUE);
	g_assert_false (waiter_finish (waiter));
}

static void
test_shapes (void)
{
	g_autoptr (NfSchemaGate) gate = nf_schema_gate_new ();

	g_assert_false (nf_schema_gate_knows_shape (gate, 1, "a"));
	nf_schema_gate_learn_shape (gate, 1, "a");
	g_assert_true (nf_schema_gate_knows_shape (gate, 1, "a"));
	g_assert_false (nf_schema_gate_knows_shape (gate, 1, "b"));
	/* Another connection's libvirtd may have another schema. */
	g_assert_false (nf_schema_gate_knows_shape (gate, 2, "a"));
	nf_schema_gate_learn_shape (gate, 2, "b");
	g_assert_true (nf_schema_gate_knows_shape (gate, 2, "b"));
	g_assert_false (nf_schema_gate_knows_shape (gate, 2, "a"));
	g_assert_false (nf_schema_gate_knows_shape (gate, 1, "a"));
	/* A late define on an old connection teaches nothing. */
	nf_schema_gate_learn_shape (gate, 1, "c");
	g_assert_false (nf_schema_gate_knows_shape (gate, 1, "c"));
	g_assert_false (nf_schema_gate_knows_shape (gate, 2, "c"));
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/schema-gate/first-runs-alone", test_first_runs_alone);
	g_test_add_func ("/schema-gate/failed-warm-up-hands-on", test_failed_warm_up_hands_on);
	g_test_add_func ("/schema-gate/new-connection-starts-cold", test_new_connection_starts_cold);
	g_test_add_func ("/schema-gate/shapes", test_shapes);
	return g_test_run ();
}
