/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-create-check"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nf-create-check.h"
#include "nf-request.h"

/* Bad input answered at the call, not by a failed job: what a create names
 * on the host is checked before a pool is exported or an intent written.
 * These checks read files and run qemu-img, so they run in a worker that
 * owns copies of what it needs and never looks at the daemon's model. */

/* A refusal quotes the start of a long image path, not 4 kB of it. */
#define NF_REFUSAL_MAX 400
#define NF_IMAGE_SHOWN 64

typedef struct {
	NfPoolSpec *spec;
	NfMemoryBound bound;
} CreateCheck;

static void
create_check_free (CreateCheck *check)
{
	nf_pool_spec_free (check->spec);
	g_free (check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CreateCheck, create_check_free)

/* Admission measures a pool against what is free when it starts; a node
 * bigger than everything the host can ever give would fail there later,
 * or never start at all when made with start=false. */
static gboolean
check_node_fits (const NfPoolSpec *spec, const NfMemoryBound *bound, GError **error)
{
	gdouble limit = nf_memory_bound_limit_mib (bound);

	if ((gdouble) spec->memory_mib <= limit)
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_INSUFFICIENT_RESOURCES,
		     "Not enough memory for even one node: needed %u MiB, but this host can give nodes at most %" G_GUINT64_FORMAT
		     " MiB (total %" G_GUINT64_FORMAT " MiB, reserved %" G_GUINT64_FORMAT
		     " MiB, overcommit %.2f); give each node less memory.",
		     spec->memory_mib,
		     (guint64) limit,
		     bound->total_mib,
		     bound->reserve_mib,
		     bound->overcommit);
	return FALSE;
}

static gboolean
check_image (NfEngine *engine, const gchar *image, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *shown = NULL;

	if (nf_engine_check_base (engine, image, &error_local))
		return TRUE;
	if (strlen (error_local->message) <= NF_REFUSAL_MAX) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	/* The engine's reasons quote the path whole. */
	shown = g_utf8_substring (image, 0, MIN (g_utf8_strlen (image, -1), NF_IMAGE_SHOWN));
	g_set_error (error,
		     error_local->domain,
		     error_local->code,
		     "The base image %s... cannot be used; give a qcow2 or raw image file with no backing file, "
		     "or a volume name.",
		     shown);
	return FALSE;
}

static void
create_check_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	NfEngine *engine = NF_ENGINE (source);
	CreateCheck *check = task_data;
	GError *error = NULL;

	/* The profile first: its defaults decide a node's memory. The image
	 * last: it may run qemu-img. */
	if (!nf_request_apply_profile (engine, check->spec, &error) ||
	    !check_node_fits (check->spec, &check->bound, &error) ||
	    !check_image (engine, check->spec->image, &error) ||
	    (check->spec->mgmt_network != NULL &&
	     !nf_engine_ensure_network (engine, check->spec->mgmt_network, &error))) {
		g_task_return_error (task, error);
		return;
	}
	g_task_return_pointer (task, g_steal_pointer (&check->spec), (GDestroyNotify) nf_pool_spec_free);
}

void
nf_create_check_async (NfEngine *engine,
		       const NfPoolSpec *spec,
		       const NfMemoryBound *bound,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_autoptr (GTask) task = NULL;
	g_autoptr (CreateCheck) check = NULL;

	g_return_if_fail (NF_IS_ENGINE (engine));
	g_return_if_fail (spec != NULL && bound != NULL);

	check = g_new0 (CreateCheck, 1);
	check->spec = nf_pool_spec_copy (spec);
	check->bound = *bound;
	task = g_task_new (engine, NULL, callback, user_data);
	g_task_set_source_tag (task, nf_create_check_async);
	g_task_set_task_data (task, g_steal_pointer (&check), (GDestroyNotify) create_check_free);
	g_task_run_in_thread (task, create_check_thread);
}

NfPoolSpec *
nf_create_check_finish (NfEngine *engine, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, engine), NULL);

	return g_task_propagate_pointer (G_TASK (result), error);
}
