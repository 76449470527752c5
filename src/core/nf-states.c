/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-states"

#include "config.h"

#include "nestfarm/nf-states.h"
#include "nestfarm/nf-string-table.h"

/* The one table of names for each state enum, as the contract spells them.
 * Nothing here may need libvirt: nestfarmctl links this file. */

static const gchar *const pool_states[] = {
	[NF_POOL_STATE_CREATING] = "creating",
	[NF_POOL_STATE_READY] = "ready",
	[NF_POOL_STATE_DEGRADED] = "degraded",
	[NF_POOL_STATE_SCALING] = "scaling",
	[NF_POOL_STATE_STOPPING] = "stopping",
	[NF_POOL_STATE_STOPPED] = "stopped",
	[NF_POOL_STATE_DELETING] = "deleting",
	[NF_POOL_STATE_FAILED] = "failed",
};
NF_DEFINE_STRING_TABLE (nf_pool_state, NfPoolState, pool_states, NF_POOL_STATE_LAST)

static const gchar *const node_states[] = {
	[NF_NODE_STATE_CREATING] = "creating",
	[NF_NODE_STATE_RUNNING] = "running",
	[NF_NODE_STATE_STOPPED] = "stopped",
	[NF_NODE_STATE_PAUSED] = "paused",
	[NF_NODE_STATE_CRASHED] = "crashed",
	[NF_NODE_STATE_DELETING] = "deleting",
	[NF_NODE_STATE_FAILED] = "failed",
	[NF_NODE_STATE_UNKNOWN] = "unknown",
};
NF_DEFINE_STRING_TABLE (nf_node_state, NfNodeState, node_states, NF_NODE_STATE_LAST)

static const gchar *const job_states[] = {
	[NF_JOB_STATE_RUNNING] = "running",
	[NF_JOB_STATE_SUCCEEDED] = "succeeded",
	[NF_JOB_STATE_FAILED] = "failed",
	[NF_JOB_STATE_CANCELLED] = "cancelled",
};
NF_DEFINE_STRING_TABLE (nf_job_state, NfJobState, job_states, NF_JOB_STATE_LAST)

static const gchar *const check_statuses[] = {
	[NF_CHECK_PASS] = "pass",
	[NF_CHECK_WARN] = "warn",
	[NF_CHECK_FAIL] = "fail",
};
NF_DEFINE_STRING_TABLE (nf_check_status, NfCheckStatus, check_statuses, NF_CHECK_LAST)

static const gchar *const nestings[] = {
	[NF_NESTING_UNKNOWN] = "unknown",
	[NF_NESTING_VERIFIED] = "verified",
	[NF_NESTING_MISSING] = "missing",
};
NF_DEFINE_STRING_TABLE (nf_nesting, NfNesting, nestings, NF_NESTING_LAST)

static const gchar *const host_states[] = {
	[NF_HOST_STATE_ONLINE] = "online",
	[NF_HOST_STATE_OFFLINE] = "offline",
	[NF_HOST_STATE_DRAINING] = "draining",
	[NF_HOST_STATE_MAINTENANCE] = "maintenance",
};
NF_DEFINE_STRING_TABLE (nf_host_state, NfHostState, host_states, NF_HOST_STATE_LAST)
