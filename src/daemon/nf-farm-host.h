/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nestfarm/nf-engine.h"
#include "nestfarm/nf-states.h"
#include "nf-node.h"

G_BEGIN_DECLS

/* NfFarmHost: one libvirt host of the farm, as the model holds it. */

#define NF_TYPE_FARM_HOST (nf_farm_host_get_type ())
G_DECLARE_FINAL_TYPE (NfFarmHost, nf_farm_host, NF, FARM_HOST, GObject)

/* What the host's own libvirt said of it when it was last probed (its
 * accelerator, CPU and memory), its state, and the nodes on it with the
 * memory they hold. Properties, notified on change: "name", "uri",
 * "state" (its name), "accelerator", "nested-feature", "cpu-model",
 * "memory-total-mib", "memory-committed-mib", "nodes" (a sorted GPtrArray
 * of NfNode, read with nf_farm_host_get_nodes). */
NfFarmHost *nf_farm_host_new (const gchar *name, const gchar *uri);
const gchar *nf_farm_host_get_name (NfFarmHost *self);
const gchar *nf_farm_host_get_uri (NfFarmHost *self);
/* What it shows: offline while its connection does not answer, else its
 * admin state (online, draining, maintenance). Only an online host takes
 * new nodes; the nodes of a draining or maintenance host can be worked on. */
NfHostState nf_farm_host_get_state (NfFarmHost *self);
/* Whether its connection answers. */
void nf_farm_host_set_reachable (NfFarmHost *self, gboolean reachable);
gboolean nf_farm_host_get_reachable (NfFarmHost *self);
/* A user's state for it (Drain, Activate): NF_HOST_STATE_ONLINE (in
 * service), _DRAINING or _MAINTENANCE; kept across a loss of its
 * connection. */
void nf_farm_host_set_admin (NfFarmHost *self, NfHostState admin);
NfHostState nf_farm_host_get_admin (NfFarmHost *self);
const gchar *nf_farm_host_get_accelerator (NfFarmHost *self);
const gchar *nf_farm_host_get_nested_feature (NfFarmHost *self);
const gchar *nf_farm_host_get_cpu_model (NfFarmHost *self);
/* The host's libvirt as the other hosts' libvirtds reach it, for
 * peer-to-peer migration (AddHost's peer-uri option); NULL: its URI. */
void nf_farm_host_set_peer_uri (NfFarmHost *self, const gchar *peer_uri);
const gchar *nf_farm_host_get_peer_uri (NfFarmHost *self);
/* Its host-model CPU as a <cpu> description (what the farm's baseline is
 * computed from); NULL until it is probed. */
const gchar *nf_farm_host_get_host_cpu (NfFarmHost *self);
guint64 nf_farm_host_get_memory_total_mib (NfFarmHost *self);
/* What the host's probe found: accelerator, nested feature, CPU model,
 * memory. */
void nf_farm_host_set_facts (NfFarmHost *self, const NfHostInfo *info);
/* The memory its nodes hold (nf_node_holds_memory), recounted by
 * nf_farm_host_refresh_memory when one of them changes. */
guint64 nf_farm_host_get_memory_committed_mib (NfFarmHost *self);
void nf_farm_host_refresh_memory (NfFarmHost *self);
GPtrArray *nf_farm_host_get_nodes (NfFarmHost *self);
void nf_farm_host_add_node (NfFarmHost *self, NfNode *node);
void nf_farm_host_remove_node (NfFarmHost *self, NfNode *node);
/* The engine that works on the host through its own libvirt connection
 * (a worker takes a reference of it when it is queued, as of the local
 * one); NULL until the host was set up. */
NfEngine *nf_farm_host_get_engine (NfFarmHost *self);
void nf_farm_host_set_engine (NfFarmHost *self, NfEngine *engine);

G_END_DECLS
