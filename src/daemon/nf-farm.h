/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-config.h"
#include "nf-baseline.h"
#include "nf-job.h"
#include "nf-model.h"

G_BEGIN_DECLS

/* NfFarm: the farm's hosts besides local, each behind its own libvirt
 * connection and engine: added, brought up at start, followed while they
 * come and go, and removed. */

typedef struct _NfFarm NfFarm;

/* Main thread only. @config outlives the farm. */
NfFarm *nf_farm_new (NfModel *model, const NfConfig *config);
/* CPUMode=baseline: the farm's baseline (the manager's, which outlives
 * the farm), which a host joining while nodes run must be able to run. */
void nf_farm_set_baseline (NfFarm *self, NfBaseline *baseline);
/* Closes every host's connection (blocking briefly: at exit). */
void nf_farm_free (NfFarm *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfFarm, nf_farm_free)

/* The hosts the state file keeps, each put in the model offline and
 * connected in a worker; a host that does not answer is tried again (1 s
 * doubling to 30 s) until it does. Once a host answers it is online, its
 * probe's facts are shown and the nodes its libvirt lists are adopted. */
void nf_farm_start (NfFarm *self);

/* AddHost: refused at the call (NF_ERROR_EXISTS) when the name or the URI
 * is a host's already (the request layer checked their form). */
gboolean nf_farm_check_add_host (NfFarm *self, const gchar *name, const gchar *uri, GError **error);
/* Then, after the check: opens the host in a worker and probes it over its
 * own connection; @job ends when it is in the farm (and the state file),
 * or could not be used (the probe's named error and reason; nothing is
 * kept). */
void nf_farm_add_host (NfFarm *self, const gchar *name, const gchar *uri, const gchar *peer_uri, NfJob *job);
/* RemoveHost: refused at the call for a name that is no host
 * (NF_ERROR_NOT_FOUND), local (NF_ERROR_INVALID_ARGUMENT), a host that
 * nodes are on (NF_ERROR_BUSY, naming them). */
gboolean nf_farm_check_remove_host (NfFarm *self, const gchar *name, GError **error);
/* Then: @job ends once its connection is closed and it is gone from the
 * farm and the state file. */
void nf_farm_remove_host (NfFarm *self, const gchar *name, NfJob *job);

G_END_DECLS
