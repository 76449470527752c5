/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nestfarm/nf-engine.h"

G_BEGIN_DECLS

/* Moving a node from one farm host to another with libvirt's own
 * migration: peer to peer (the source's libvirtd talks to the target's),
 * persistent on the target and undefined on the source, copying only the
 * node's overlay (its base is on the target already; the target overlay
 * is made first, so libvirt mirrors the top layer alone). Blocking:
 * worker threads only. */

typedef struct {
	const gchar *host;     /* the target's name in the farm */
	const gchar *peer_uri; /* the target's libvirt as the source's libvirtd reaches it */
	/* where QEMU sends memory and disk, "tcp://ADDRESS"; NULL: what the
	 * target's libvirtd offers (its hostname) */
	const gchar *data_uri;
	/* a running node moves live; FALSE: a running node is refused (stop
	 * it first), a stopped one moves cold either way */
	gboolean live;
} NfMigrateTarget;

/* Moves node @name from @source's host to @target's. A running (or
 * paused) node moves live and keeps running there; a stopped node moves
 * cold (started paused for the copy, never run, and off again on the
 * target). Its name, MACs, trunk port and seed go with it; its overlay,
 * seed volume and console log are the target's own paths (its metadata
 * names the target host). Refused before anything is made: a node with
 * its host's own CPU (host-passthrough: CPUMode=passthrough) and a CPU the
 * target cannot run (libvirt's compare: which features it lacks), both
 * NF_ERROR_INVALID_ARGUMENT. On failure the node is where it was, as it
 * was, and nothing of it is left on the target. Afterwards what it left on
 * the source goes; what cannot is added to @warnings. Returns the node as
 * the target's libvirt has it. */
NfNodeInfo *nf_migrate_node (NfEngine *source,
			     NfEngine *target,
			     const gchar *name,
			     const NfMigrateTarget *to,
			     GPtrArray *warnings,
			     GError **error);

/* The domain XML of a node for its target (pure, for tests too): @xml with
 * its disk, seed and console log at @there's paths, no backing chain (the
 * target's libvirt reads it from the overlay there), and @there's
 * metadata. */
gchar *nf_migrate_dest_xml (const gchar *xml, const NfNodeSpec *there, GError **error);

G_END_DECLS
