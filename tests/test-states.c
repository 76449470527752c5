/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-states"

#include "config.h"

#include <glib.h>

#include "nestfarm/nf-states.h"

/* The state tables: each value has the name the interface contract gives it,
 * and each name reads back as its value; nothing else does. */

/* @names in enum order, exactly as the contract spells them. */
#define ASSERT_TABLE(prefix, type, last, ...)                                          \
	do {                                                                           \
		const gchar *names[] = {__VA_ARGS__};                                  \
		type back = last;                                                      \
		G_STATIC_ASSERT (G_N_ELEMENTS (names) == last);                        \
		for (guint i = 0; i < G_N_ELEMENTS (names); i++) {                     \
			g_assert_cmpstr (prefix##_to_string ((type) i), ==, names[i]); \
			g_assert_true (prefix##_from_string (names[i], &back));        \
			g_assert_cmpint (back, ==, i);                                 \
		}                                                                      \
		g_assert_false (prefix##_from_string ("", &back));                     \
		g_assert_false (prefix##_from_string ("Running", &back));              \
		g_assert_false (prefix##_from_string (NULL, &back));                   \
	} while (0)

static void
test_pool_states (void)
{
	ASSERT_TABLE (nf_pool_state,
		      NfPoolState,
		      NF_POOL_STATE_LAST,
		      "creating",
		      "ready",
		      "degraded",
		      "scaling",
		      "stopping",
		      "stopped",
		      "deleting",
		      "failed");
}

static void
test_node_states (void)
{
	ASSERT_TABLE (nf_node_state,
		      NfNodeState,
		      NF_NODE_STATE_LAST,
		      "creating",
		      "running",
		      "stopped",
		      "paused",
		      "crashed",
		      "deleting",
		      "failed",
		      "unknown");
}

static void
test_job_states (void)
{
	ASSERT_TABLE (nf_job_state,
		      NfJobState,
		      NF_JOB_STATE_LAST,
		      "running",
		      "succeeded",
		      "failed",
		      "cancelled");
}

static void
test_check_statuses (void)
{
	ASSERT_TABLE (nf_check_status, NfCheckStatus, NF_CHECK_LAST, "pass", "warn", "fail");
}

static void
test_nestings (void)
{
	ASSERT_TABLE (nf_nesting, NfNesting, NF_NESTING_LAST, "unknown", "verified", "missing");
}

static void
test_host_states (void)
{
	ASSERT_TABLE (nf_host_state,
		      NfHostState,
		      NF_HOST_STATE_LAST,
		      "online",
		      "offline",
		      "draining",
		      "maintenance");
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/states/pool", test_pool_states);
	g_test_add_func ("/states/node", test_node_states);
	g_test_add_func ("/states/job", test_job_states);
	g_test_add_func ("/states/check", test_check_statuses);
	g_test_add_func ("/states/nesting", test_nestings);
	g_test_add_func ("/states/host", test_host_states);
	return g_test_run ();
}
