/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "nestfarm/nf-engine.h"

G_BEGIN_DECLS

/* One node's part of a pool snapshot: an internal snapshot of its domain
 * (libvirt 9.0 reverts internal snapshots only; they live in the node's
 * qcow2 overlay, never in the base image), named as the pool snapshot is.
 * The daemon pauses every node first, snapshots each, then resumes them,
 * so that the nodes' snapshots are of one moment. Every call blocks on
 * libvirt: worker threads only. A node that is not this nestfarm's is
 * refused as nf_engine_get_node refuses it. */

/* A snapshot name: the pool-name rules (NF_ERROR_INVALID_ARGUMENT). */
gboolean nf_snapshot_name_validate (const gchar *name, GError **error);

/* Whether a domain of @domain_xml can have internal snapshots: not with
 * UEFI variables in flash (pflash), which QEMU cannot snapshot
 * (NF_ERROR_INVALID_ARGUMENT naming @node). */
gboolean nf_snapshot_check_domain (const gchar *node, const gchar *domain_xml, GError **error);
/* Pauses node @node if it runs (after nf_snapshot_check_domain); @paused says whether this call paused it
 * (a node that is off, or paused already, is left as it is). */
gboolean nf_snapshot_pause (NfEngine *engine, const gchar *node, gboolean *paused, GError **error);
/* Resumes node @node if it is paused. */
gboolean nf_snapshot_resume (NfEngine *engine, const gchar *node, GError **error);
/* Takes snapshot @snapshot of @node: its disk, and its running state when
 * the domain is active (libvirt cannot take an internal snapshot of a
 * running domain without it; without @memory the snapshot says so, for a
 * revert to drop it). @size: the bytes its overlay grew by. A name the
 * domain has already is NF_ERROR_EXISTS. */
gboolean nf_snapshot_take (NfEngine *engine,
			   const gchar *node,
			   const gchar *snapshot,
			   gboolean memory,
			   guint64 *size,
			   GError **error);
/* Puts @node back to @snapshot, paused if it ran then (off if it did not).
 * Without @memory a node that ran is switched off after the revert, to
 * boot from the snapshot's disk. @ran says whether it ran at the snapshot.
 * An unknown snapshot is NF_ERROR_NOT_FOUND. */
gboolean nf_snapshot_revert (NfEngine *engine,
			     const gchar *node,
			     const gchar *snapshot,
			     gboolean memory,
			     gboolean *ran,
			     GError **error);
/* Deletes @snapshot of @node, freeing its space in the overlay; one the
 * node does not have is done already. */
gboolean nf_snapshot_delete (NfEngine *engine, const gchar *node, const gchar *snapshot, GError **error);
/* A pool snapshot's part in one node, as libvirt describes it. */
typedef struct {
	gchar *name;
	gint64 created;  /* Unix seconds */
	gboolean ran;    /* the node ran (its memory is in it) */
	gboolean memory; /* taken with memory: a revert resumes what ran */
} NfSnapshotInfo;

void nf_snapshot_info_free (NfSnapshotInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfSnapshotInfo, nf_snapshot_info_free)
/* The pool snapshots node @node has (NfSnapshotInfo, not the ones a user
 * took with virsh): what rebuilds a pool's list when the state file is
 * lost. */
GPtrArray *nf_snapshot_list (NfEngine *engine, const gchar *node, GError **error);

G_END_DECLS
