/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nestfarm/nf-engine.h"
#include "nf-model.h"

G_BEGIN_DECLS

/* NfBaseline: the farm's CPU baseline (CPUMode=baseline), one CPU model
 * every online host can run, computed again whenever the online hosts or
 * what they offer change: libvirt's hypervisor baseline over each host's
 * host-model CPU (nf_cpu_baseline, in a worker thread, through the local
 * host's libvirt), with vmx or svm required. New nodes are made with it;
 * its model name is the Manager's CPUBaseline. */

#define NF_TYPE_BASELINE (nf_baseline_get_type ())
G_DECLARE_FINAL_TYPE (NfBaseline, nf_baseline, NF, BASELINE, GObject)

/* Follows @model's hosts; computes through @engine (the local host's). */
NfBaseline *nf_baseline_new (NfModel *model, NfEngine *engine);
/* The baseline as a <cpu> description; NULL until one is computed (or
 * while the hosts have none: nf_baseline_get_problem says why). */
const gchar *nf_baseline_get_xml (NfBaseline *self);
/* Its model name ("" while there is none): property "model". */
const gchar *nf_baseline_get_model (NfBaseline *self);
/* Why there is no baseline (a sentence), or NULL. */
const gchar *nf_baseline_get_problem (NfBaseline *self);

G_END_DECLS
