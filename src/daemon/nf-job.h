/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-states.h"

G_BEGIN_DECLS

/* NfJob: one long operation (create, scale, stop, ...) as clients follow it. */

#define NF_TYPE_JOB (nf_job_get_type ())
G_DECLARE_FINAL_TYPE (NfJob, nf_job, NF, JOB, GObject)

/* A long operation. Objects are named "pool/NAME" or "node/NAME"; the bus
 * layer turns them into object paths. Signal "completed" (gboolean success,
 * const gchar *message) fires once, on the main context. */
NfJob *nf_job_new (guint id, const gchar *operation, guint uid);
guint nf_job_get_id (NfJob *self);
const gchar *nf_job_get_operation (NfJob *self);
const gchar *const *nf_job_get_objects (NfJob *self);
void nf_job_add_object (NfJob *self, const gchar *object);
gdouble nf_job_get_progress (NfJob *self);
void nf_job_set_progress (NfJob *self, gdouble progress);
const gchar *nf_job_get_step (NfJob *self);
void nf_job_set_step (NfJob *self, const gchar *step);
NfJobState nf_job_get_state (NfJob *self);
const gchar *nf_job_get_error (NfJob *self);
const gchar *nf_job_get_error_name (NfJob *self);
guint nf_job_get_uid (NfJob *self);
GCancellable *nf_job_get_cancellable (NfJob *self);
/* Asks the job to stop; its work rolls back and it completes 'cancelled'. */
void nf_job_cancel (NfJob *self);
gboolean nf_job_is_done (NfJob *self);
/* @error NULL: succeeded; NF_ERROR_CANCELLED: cancelled; else failed. */
void nf_job_complete (NfJob *self, const GError *error);
gint64 nf_job_get_completed_at (NfJob *self);

G_END_DECLS
