/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-config.h"
#include "nestfarm/nf-engine.h"
#include "nf-pool.h"

G_BEGIN_DECLS

/* Checks what D-Bus callers send, before authorization: CreatePool's
 * arguments as a pool spec, the options of Stop and DeletePool. */

gboolean nf_request_check_count (guint count, guint min, GError **error);
gboolean nf_request_check_image (const gchar *image, GError **error);
gboolean nf_request_check_bridge (const gchar *bridge, GError **error);

/* CreatePool's arguments as a pool spec (defaults from the config; vcpus,
 * memory and disk 0 where the profile's are wanted), or
 * NF_ERROR_INVALID_ARGUMENT saying what to fix. No I/O: the main loop. */
NfPoolSpec *nf_request_parse_create (const NfConfig *config,
				     const gchar *name,
				     guint count,
				     GVariant *options,
				     GError **error);
/* Loads the profile @spec names and fills the sizes left 0 from its
 * defaults; NF_ERROR_INVALID_ARGUMENT if it cannot be used. Reads files:
 * worker threads only. */
gboolean nf_request_apply_profile (NfEngine *engine, NfPoolSpec *spec, GError **error);
/* The options of DeletePool and Stop: force (b), shutdown-timeout (u). */
gboolean nf_request_parse_stop (const NfConfig *config,
				GVariant *options,
				gboolean *force,
				guint *timeout_s,
				GError **error);
/* Options for a call that takes none yet (RevertSnapshot): any is
 * refused, its name shown cut short. */
gboolean nf_request_check_no_options (GVariant *options, GError **error);
/* AddHost (@uri: a libvirt URI of printable characters) and RemoveHost
 * (@uri NULL): a host name (the pool-name rules) and no options yet. */
/* Manager.Rebalance's options: threshold (u, percentage points, 1 to
 * 100) and max-moves (u, 1 to 64), each with its default. */
gboolean nf_request_parse_rebalance (GVariant *options, guint *threshold, guint *max_moves, GError **error);
/* Node.Migrate's options: host (s, a host name; NULL: placement
 * chooses) and live (b, default TRUE). */
gboolean nf_request_parse_migrate (GVariant *options, gchar **host, gboolean *live, GError **error);
/* AddHost (@uri given: option peer-uri, a libvirt URI, into @peer_uri)
 * and RemoveHost (@uri NULL: no options). */
gboolean nf_request_parse_host (const gchar *name,
				const gchar *uri,
				GVariant *options,
				gchar **peer_uri,
				GError **error);
/* A snapshot's name (the pool-name rules) and the options of Snapshot:
 * memory (b, default TRUE). @options NULL: a call that takes none
 * (DeleteSnapshot). */
gboolean nf_request_parse_snapshot (const gchar *name, GVariant *options, gboolean *memory, GError **error);

G_END_DECLS
