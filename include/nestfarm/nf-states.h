/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The states of pools, nodes, jobs and hosts, and their names: the State
 * properties of the interface contract, which the daemon shows and the CLI
 * reads back (and the status of each CheckHost check). Each name comes
 * from one table (nf-states.c). */

typedef enum {
	NF_POOL_STATE_CREATING,
	NF_POOL_STATE_READY,
	NF_POOL_STATE_DEGRADED,
	NF_POOL_STATE_SCALING,
	NF_POOL_STATE_STOPPING,
	NF_POOL_STATE_STOPPED,
	NF_POOL_STATE_DELETING,
	NF_POOL_STATE_FAILED,
	NF_POOL_STATE_LAST /*< skip >*/
} NfPoolState;

typedef enum {
	NF_NODE_STATE_CREATING,
	NF_NODE_STATE_RUNNING,
	NF_NODE_STATE_STOPPED,
	NF_NODE_STATE_PAUSED,
	NF_NODE_STATE_CRASHED,
	NF_NODE_STATE_DELETING,
	NF_NODE_STATE_FAILED,
	/* its host (another than local) is offline: nothing of it is known
	 * until that host is back */
	NF_NODE_STATE_UNKNOWN,
	NF_NODE_STATE_LAST /*< skip >*/
} NfNodeState;

typedef enum {
	NF_JOB_STATE_RUNNING,
	NF_JOB_STATE_SUCCEEDED,
	NF_JOB_STATE_FAILED,
	NF_JOB_STATE_CANCELLED,
	NF_JOB_STATE_LAST /*< skip >*/
} NfJobState;

/* One check of the host probe (nf-host.h), as CheckHost reports it. */
typedef enum {
	NF_CHECK_PASS,
	NF_CHECK_WARN,
	NF_CHECK_FAIL,
	NF_CHECK_LAST /*< skip >*/
} NfCheckStatus;

/* What was seen inside a running node (the Node's Nesting): vmx or svm and
 * a working /dev/kvm, a node that cannot run KVM itself, or nothing inside
 * answered (no guest agent, or not asked yet). */
typedef enum {
	NF_NESTING_UNKNOWN,
	NF_NESTING_VERIFIED,
	NF_NESTING_MISSING,
	NF_NESTING_LAST /*< skip >*/
} NfNesting;

/* A host of the farm (the Host's State): its libvirt answers; its
 * connection is lost (its nodes are shown as they were last seen, not as
 * gone, and it comes back by itself); its nodes are being moved away; or it
 * takes no nodes until activated. */
typedef enum {
	NF_HOST_STATE_ONLINE,
	NF_HOST_STATE_OFFLINE,
	NF_HOST_STATE_DRAINING,
	NF_HOST_STATE_MAINTENANCE,
	NF_HOST_STATE_LAST /*< skip >*/
} NfHostState;

/* The contract's name of a state; NULL for a value out of range. */
const gchar *nf_pool_state_to_string (NfPoolState state);
const gchar *nf_node_state_to_string (NfNodeState state);
const gchar *nf_job_state_to_string (NfJobState state);
const gchar *nf_check_status_to_string (NfCheckStatus status);
const gchar *nf_nesting_to_string (NfNesting nesting);
const gchar *nf_host_state_to_string (NfHostState state);
/* The state a name stands for; FALSE for a name that is none (a newer or
 * older daemon's, or no state at all). */
gboolean nf_pool_state_from_string (const gchar *text, NfPoolState *state);
gboolean nf_node_state_from_string (const gchar *text, NfNodeState *state);
gboolean nf_job_state_from_string (const gchar *text, NfJobState *state);
gboolean nf_check_status_from_string (const gchar *text, NfCheckStatus *status);
gboolean nf_nesting_from_string (const gchar *text, NfNesting *nesting);
gboolean nf_host_state_from_string (const gchar *text, NfHostState *state);

G_END_DECLS
