/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nf-job.h"
#include "nf-model.h"

G_BEGIN_DECLS

/* Moves of many nodes under one job: draining a host (Host.Drain) and
 * rebalancing the farm (Manager.Rebalance, and its periodic pass). Each
 * node moves through the manager's migrate call, one at a time (each move is
 * admitted when it starts, so the ones before it count), as a job of its
 * own that the parent job follows: its progress is the share of moves
 * done, its step the move under way. Main thread only. */

typedef struct _NfMoves NfMoves;

/* What the moves ask of their owner (the manager): move @node to @host
 * (NULL: placement's choice), as Node.Migrate; and the memory @host can
 * give nodes at most (MiB). */
typedef NfJob *(*NfMovesMigrateFunc) (gpointer owner,
				      const gchar *node,
				      const gchar *host,
				      guint uid,
				      GError **error);
typedef gdouble (*NfMovesLimitFunc) (gpointer owner, const gchar *host);
/* Whether @node (NULL: any node) may move to @host: its pool allows it
 * and the other hosts' libvirtd can reach it. */
typedef gboolean (*NfMovesAllowedFunc) (gpointer owner, const gchar *node, const gchar *host);

/* The moves of @model's farm. @interval_s: a rebalance pass every so
 * many seconds (RebalanceInterval; 0: none). */
NfMoves *nf_moves_new (NfModel *model,
		       NfMovesMigrateFunc migrate,
		       NfMovesLimitFunc limit,
		       NfMovesAllowedFunc allowed,
		       gpointer owner,
		       guint interval_s);
void nf_moves_free (NfMoves *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfMoves, nf_moves_free)

/* Host.Drain: the host is draining at once (no new nodes land on it),
 * then each of its nodes moves away (live if it runs, cold if not) to the
 * host placement chooses; when all are gone it is in maintenance. A node
 * that cannot move is named with the reason in the job's error, the rest
 * still move, and the host stays draining (Activate ends that). Refused
 * at the call: no such host (NotFound), offline or being drained (Busy). */
NfJob *nf_moves_drain (NfMoves *self, const gchar *host, guint uid, GError **error);
/* Host.Activate: the host takes nodes again (from maintenance or
 * draining; a running drain ends after its current move). A job that
 * completes at once. NotFound for no such host. */
NfJob *nf_moves_activate (NfMoves *self, const gchar *host, guint uid, GError **error);

/* The rebalance's knobs (Manager.Rebalance options). */
typedef struct {
	guint threshold; /* percent: the most and least used hosts may differ by this much */
	guint max_moves; /* moves in one pass at most */
} NfRebalanceOptions;

/* Manager.Rebalance: while the memory use (held over what it can give)
 * of the most and the least used online hosts differs by more than the
 * threshold, the node whose move narrows it most moves from the first to
 * the second, at most max_moves of them; a node moved by the pass before
 * does not move again. Refused (Busy) while a drain or rebalance runs;
 * a farm already within the threshold gets a job that says so. */
NfJob *nf_moves_rebalance (NfMoves *self, const NfRebalanceOptions *options, guint uid, GError **error);

G_END_DECLS
