/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nf-pool.h"

G_BEGIN_DECLS

/* The daemon's state file, and the intents it records around work that
 * changes libvirt. */

/* What an intent records; pools.json names each kind as the table in
 * nf-store.c does ("create", "scale-up", "scale-down", "delete", "reset",
 * "snapshot", "revert", "delete-snapshot"). */
typedef enum {
	NF_INTENT_KIND_CREATE,
	NF_INTENT_KIND_SCALE_UP,
	NF_INTENT_KIND_SCALE_DOWN,
	NF_INTENT_KIND_DELETE,
	NF_INTENT_KIND_RESET,
	NF_INTENT_KIND_SNAPSHOT,
	NF_INTENT_KIND_REVERT,
	NF_INTENT_KIND_DELETE_SNAPSHOT,
	NF_INTENT_KIND_LAST /*< skip >*/
} NfIntentKind;

const gchar *nf_intent_kind_to_string (NfIntentKind kind);
gboolean nf_intent_kind_from_string (const gchar *text, NfIntentKind *kind);

/* An operation that changes libvirt, recorded before it starts and cleared
 * when it ends, so a daemon that died in the middle finishes or rolls it
 * back at the next start. */
typedef struct {
	guint job;
	NfIntentKind kind;
	gchar *pool;
	GArray *indexes; /* of guint: the nodes it touches */
	gchar *snapshot; /* the snapshot kinds: its name */
	/* index -> host name (gchar *) of the nodes on another host than
	 * local: what of it that host's libvirt must settle */
	GHashTable *hosts;
	/* left by an earlier start for other hosts to settle (nothing of it
	 * is local, and its pool-wide part was done then) */
	gboolean deferred;
} NfIntent;

NfIntent *nf_intent_new (guint job, NfIntentKind kind, const gchar *pool);
/* Node @index is on @host (NF_HOST_LOCAL: the default, nothing kept). */
void nf_intent_set_host (NfIntent *intent, guint index, const gchar *host);
/* The host of node @index: NF_HOST_LOCAL unless set. */
const gchar *nf_intent_get_host (const NfIntent *intent, guint index);
void nf_intent_free (NfIntent *intent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfIntent, nf_intent_free)

/* The state file: STATE_DIR/pools.json, written atomically (temporary
 * file, fsync, rename), never truncated in place. */
typedef struct _NfStore NfStore;

NfStore *nf_store_new (const gchar *state_dir);
void nf_store_free (NfStore *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfStore, nf_store_free)
const gchar *nf_store_get_path (NfStore *self);

/* A host of the farm besides local, as the state file keeps it. */
typedef struct {
	gchar *name;
	gchar *uri;
	gchar *peer_uri; /* NULL: none given */
} NfStoreHost;

NfStoreHost *nf_store_host_new (const gchar *name, const gchar *uri, const gchar *peer_uri);
void nf_store_host_free (NfStoreHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfStoreHost, nf_store_host_free)
/* The hosts (NfStoreHost) the file keeps with the pools: a load reads
 * them (none in a file from before farms), each save writes what the last
 * nf_store_set_hosts set (a copy is kept). */
void nf_store_set_hosts (NfStore *self, GPtrArray *hosts);
/* What a user made of each host (Drain, Activate): draining or
 * maintenance is kept ("host-states", local too); online forgets it. */
void nf_store_set_host_state (NfStore *self, const gchar *host, NfHostState state);
NfHostState nf_store_get_host_state (NfStore *self, const gchar *host);
GPtrArray *nf_store_dup_hosts (NfStore *self);
/* A missing file is an empty state. A file that does not parse is an error
 * (the caller keeps it aside and rebuilds from libvirt). */
/* @next_job: the next job number, kept so job paths never repeat across
 * restarts (a client may still hold an old one). */
gboolean nf_store_load (NfStore *self,
			GPtrArray **pools,
			GPtrArray **intents,
			guint *next_job,
			GError **error);
gboolean nf_store_save (NfStore *self, GPtrArray *pools, GPtrArray *intents, guint next_job, GError **error);
/* The same in a writer thread of the store's own: the text is made before
 * this returns (@pools and @intents may change at once), the files are
 * written one at a time in the order asked, and @callback runs on the
 * caller's thread-default main context once the file is on disk. */
void nf_store_save_async (NfStore *self,
			  GPtrArray *pools,
			  GPtrArray *intents,
			  guint next_job,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
gboolean nf_store_save_finish (NfStore *self, GAsyncResult *result, GError **error);

G_END_DECLS
