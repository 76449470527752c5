/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-undo"

#include "config.h"

#include "nf-undo-private.h"

/* The undo stack: closures run in reverse when a change fails half-way,
 * their own failures reported in the error that caused the rollback
 * rather than logged (the core returns errors; the caller decides). */

typedef struct {
	NfUndoFunc func;
	gpointer data;
	GDestroyNotify data_free;
} NfUndoStep;

struct _NfUndo {
	GArray *steps; /* NfUndoStep, the last done last */
};

static void
step_clear (NfUndoStep *step)
{
	if (step->data_free != NULL)
		step->data_free (step->data);
}

NfUndo *
nf_undo_new (void)
{
	NfUndo *self = g_new0 (NfUndo, 1);

	self->steps = g_array_new (FALSE, FALSE, sizeof (NfUndoStep));
	g_array_set_clear_func (self->steps, (GDestroyNotify) step_clear);
	return self;
}

void
nf_undo_free (NfUndo *self)
{
	if (self == NULL)
		return;
	g_array_unref (self->steps);
	g_free (self);
}

void
nf_undo_push (NfUndo *self, NfUndoFunc func, gpointer data, GDestroyNotify data_free)
{
	NfUndoStep step = {func, data, data_free};

	g_return_if_fail (self != NULL);
	g_return_if_fail (func != NULL);
	g_array_append_val (self->steps, step);
}

/* "@error's message; rollback: @failure's message" */
static void
add_rollback_failure (GError **error, const GError *failure)
{
	gchar *message;

	if (error == NULL || *error == NULL)
		return;
	message = g_strdup_printf ("%s; rollback: %s", (*error)->message, failure->message);
	g_free ((*error)->message);
	(*error)->message = message;
}

void
nf_undo_unwind (NfUndo *self, GError **error)
{
	g_return_if_fail (self != NULL);

	for (guint i = self->steps->len; i > 0; i--) {
		NfUndoStep *step = &g_array_index (self->steps, NfUndoStep, i - 1);
		g_autoptr (GError) failure = NULL;

		if (!step->func (step->data, &failure) && failure != NULL)
			add_rollback_failure (error, failure);
	}
	g_array_set_size (self->steps, 0);
}
