/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nestfarm/nf-engine.h"
#include "nf-model.h"

G_BEGIN_DECLS

/* NfReadiness: finds out when running nodes become Ready and what their
 * Nesting is, by a paced look inside each (nf_engine_probe_guest in a
 * worker thread), hastened by the connection's guest agent events, and
 * sets both on the model's nodes (main thread). A node that stops, or
 * whose domain goes inactive (a reset), is not ready and is probed again
 * once it runs. */

#define NF_TYPE_READINESS (nf_readiness_get_type ())
G_DECLARE_FINAL_TYPE (NfReadiness, nf_readiness, NF, READINESS, GObject)

/* The first look comes this long after a node starts to run, the next
 * ones twice as long after the last, at most NF_READY_PROBE_MAX_S. */
#define NF_READY_PROBE_FIRST_S 10
#define NF_READY_PROBE_MAX_S   60
/* Once the node's guest agent is up (its "agent-event", or an answer to a
 * probe) the boot is ending: it is looked at every NF_READY_PROBE_AGENT_S
 * for NF_READY_AGENT_BRISK_S, then at the growing pace again (an image
 * whose cloud-init never finishes is not watched briskly for ever). A
 * node whose agent goes away is not ready until a probe says so again. */
#define NF_READY_PROBE_AGENT_S 2
#define NF_READY_AGENT_BRISK_S 300

/* Watches every node @model has and gets. */
NfReadiness *nf_readiness_new (NfModel *model, NfEngine *engine);

G_END_DECLS
