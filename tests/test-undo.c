/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-undo"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "src/core/nf-undo-private.h"

/* The undo stack: steps undone last first, every one tried, the failures
 * of the rollback added to the error that caused it; a stack freed
 * without unwinding undoes nothing. */

typedef struct {
	GString *log; /* the steps undone, in order */
	guint freed;
} Record;

typedef struct {
	Record *record;
	const gchar *name;
	gboolean fails;
} Step;

static gboolean
undo_step (gpointer data, GError **error)
{
	Step *step = data;

	g_string_append (step->record->log, step->name);
	if (!step->fails)
		return TRUE;
	g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "cannot undo %s", step->name);
	return FALSE;
}

static void
step_free (gpointer data)
{
	Step *step = data;

	step->record->freed++;
	g_free (step);
}

static void
push (NfUndo *undo, Record *record, const gchar *name, gboolean fails)
{
	Step *step = g_new0 (Step, 1);

	step->record = record;
	step->name = name;
	step->fails = fails;
	nf_undo_push (undo, undo_step, step, step_free);
}

static void
test_unwind (void)
{
	g_autoptr (NfUndo) undo = nf_undo_new ();
	g_autoptr (GError) error = g_error_new_literal (NF_ERROR, NF_ERROR_LIBVIRT, "Cannot start n-1");
	Record record = {g_string_new (NULL), 0};

	push (undo, &record, "a", TRUE);
	push (undo, &record, "b", FALSE);
	push (undo, &record, "c", TRUE);
	nf_undo_unwind (undo, &error);
	g_assert_cmpstr (record.log->str, ==, "cba");
	g_assert_cmpuint (record.freed, ==, 3);
	/* the code stays the cause's; the message says what the rollback left */
	g_assert_error (error, NF_ERROR, NF_ERROR_LIBVIRT);
	g_assert_cmpstr (error->message,
			 ==,
			 "Cannot start n-1; rollback: cannot undo c; rollback: cannot undo a");
	/* unwound once: nothing left to undo */
	nf_undo_unwind (undo, NULL);
	g_assert_cmpstr (record.log->str, ==, "cba");
	g_string_free (record.log, TRUE);
}

static void
test_free_undoes_nothing (void)
{
	Record record = {g_string_new (NULL), 0};
	NfUndo *undo = nf_undo_new ();

	push (undo, &record, "a", FALSE);
	push (undo, &record, "b", TRUE);
	nf_undo_free (undo);
	g_assert_cmpstr (record.log->str, ==, "");
	g_assert_cmpuint (record.freed, ==, 2);
	g_string_free (record.log, TRUE);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/undo/unwind", test_unwind);
	g_test_add_func ("/undo/free-undoes-nothing", test_free_undoes_nothing);
	return g_test_run ();
}
