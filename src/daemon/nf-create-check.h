/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-engine.h"
#include "nf-scheduler.h"
#include "nf-pool.h"

G_BEGIN_DECLS

/* CreatePool's checks that need the host, off the main loop. */

/* The checks of a CreatePool that only the host can answer, run before
 * anything is made: the profile exists (its defaults complete the spec),
 * the base image exists and is a usable base, one node's memory fits
 * within @bound at all, and the management network exists and runs (the
 * ManagementNetwork one is made when missing). In a worker thread, on copies of @spec and @bound;
 * @callback runs on the caller's main context. */
void nf_create_check_async (NfEngine *engine,
			    const NfPoolSpec *spec,
			    const NfMemoryBound *bound,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
/* The completed spec, or NULL with NF_ERROR_INVALID_ARGUMENT,
 * NF_ERROR_NOT_FOUND or NF_ERROR_INSUFFICIENT_RESOURCES (NF_ERROR_LIBVIRT
 * if libvirt cannot be asked). */
NfPoolSpec *nf_create_check_finish (NfEngine *engine, GAsyncResult *result, GError **error);

G_END_DECLS
