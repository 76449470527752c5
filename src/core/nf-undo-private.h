/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An undo stack: what a multi-step change (making a node) has done so far,
 * undone in reverse when a later step fails. */

/* Undoes one step; FALSE with @error when it cannot. */
typedef gboolean (*NfUndoFunc) (gpointer data, GError **error);

typedef struct _NfUndo NfUndo;

NfUndo *nf_undo_new (void);
/* Forgets what is left on the stack (the change went through): nothing is
 * undone. */
void nf_undo_free (NfUndo *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfUndo, nf_undo_free)

/* @func (@data) undoes the step just done; @data_free frees @data once the
 * stack is unwound or freed. */
void nf_undo_push (NfUndo *self, NfUndoFunc func, gpointer data, GDestroyNotify data_free);
/* Undoes every step, last first, and empties the stack. A step that cannot
 * be undone does not stop the others; what it says is added to the
 * message of @error (the failure that caused the rollback) as
 * "...; rollback: <what failed>". */
void nf_undo_unwind (NfUndo *self, GError **error);

G_END_DECLS
