/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nestfarm/nf-states.h"
#include "nf-cli.h"

/* Following a job to its end: its properties and Completed signal drive a
 * progress bar redrawn in place on a terminal, or one plain line per step
 * elsewhere. Ctrl-C once warns, twice cancels the job and waits for its
 * rollback, a third time stops waiting. */

#define BAR_CELLS 20

typedef struct {
	NfCli *cli;
	NfDBusJob *job;
	GMainLoop *loop;
	gchar *label; /* "job 7" */
	guint node_count;
	gint64 started;
	gchar *last_step;
	gchar *message; /* from Completed */
	FILE *out;
	gboolean bar;
	gboolean plain;
	gboolean drawn;
	guint interrupts;
	gboolean ended;
	NfExit code;
} Follow;

static gchar *
elapsed (Follow *f)
{
	return nf_cli_format_elapsed (g_get_monotonic_time () - f->started);
}

static void
clear_bar (Follow *f)
{
	if (!f->drawn)
		return;
	fputs ("\r\033[K", f->out);
	fflush (f->out);
	f->drawn = FALSE;
}

static gchar *
nodes_done (Follow *f)
{
	gdouble progress = CLAMP (nf_dbus_job_get_progress (f->job), 0.0, 1.0);

	if (f->node_count == 0)
		return g_strdup_printf ("%3u%%", (guint) (progress * 100));
	return g_strdup_printf ("%u/%u node%s",
				MIN (f->node_count, (guint) (progress * f->node_count + 1e-6)),
				f->node_count,
				f->node_count == 1 ? "" : "s");
}

static void
draw_bar (Follow *f)
{
	gdouble progress = CLAMP (nf_dbus_job_get_progress (f->job), 0.0, 1.0);
	guint filled = (guint) (progress * BAR_CELLS);
	g_autofree gchar *time = elapsed (f);
	g_autofree gchar *done = nodes_done (f);
	const gchar *step = nf_dbus_job_get_step (f->job);
	g_autoptr (GString) line = g_string_new ("[");
	glong room;

	for (guint i = 0; i < BAR_CELLS; i++)
		g_string_append_c (line, i < filled ? '#' : '-');
	g_string_append_printf (line, "] %s  %s  %s", done, time, step != NULL ? step : "");
	/* one line, never wrapped: a wrapped line cannot be redrawn */
	room = NF_CLI_WIDTH - 1;
	if (g_utf8_strlen (line->str, -1) > room)
		g_string_truncate (line, g_utf8_offset_to_pointer (line->str, room) - line->str);
	fprintf (f->out, "\r%s\033[K", line->str);
	fflush (f->out);
	f->drawn = TRUE;
}

/* The job's State, FALSE while it has none (gone, or not yet read); a state
 * this nestfarmctl does not know counts as failed. */
static gboolean
job_state (Follow *f, NfJobState *state)
{
	const gchar *name = nf_dbus_job_get_state (f->job);

	if (name == NULL)
		return FALSE;
	if (!nf_job_state_from_string (name, state))
		*state = NF_JOB_STATE_FAILED;
	return TRUE;
}

static void
show_step (Follow *f)
{
	const gchar *step = nf_dbus_job_get_step (f->job);
	NfJobState state;

	if (f->bar) {
		draw_bar (f);
		return;
	}
	if (!f->plain || step == NULL || step[0] == '\0' || g_strcmp0 (step, f->last_step) == 0)
		return;
	/* the last step is the job's summary: check_done prints it */
	if (!job_state (f, &state) || state != NF_JOB_STATE_RUNNING)
		return;
	g_free (f->last_step);
	f->last_step = g_strdup (step);
	{
		g_autofree gchar *time = elapsed (f);
		g_autofree gchar *done = nodes_done (f);

		fprintf (f->out, "%s: %s (%s, %s)\n", f->label, step, g_strstrip (done), time);
		fflush (f->out);
	}
}

static void
end (Follow *f, NfExit code)
{
	if (f->ended)
		return;
	f->ended = TRUE;
	f->code = code;
	clear_bar (f);
	g_main_loop_quit (f->loop);
}

static void
check_done (Follow *f)
{
	NfJobState state;
	const gchar *error = nf_dbus_job_get_error (f->job);
	g_autofree gchar *time = NULL;

	if (f->ended || !job_state (f, &state) || state == NF_JOB_STATE_RUNNING)
		return;
	time = elapsed (f);
	if (error == NULL || error[0] == '\0')
		error = f->message;
	if (state == NF_JOB_STATE_SUCCEEDED) {
		const gchar *step = nf_dbus_job_get_step (f->job);

		end (f, NF_EXIT_OK);
		if (!f->cli->quiet)
			fprintf (f->out,
				 "%s done in %s%s%s\n",
				 f->label,
				 time,
				 step != NULL && step[0] != '\0' ? ": " : "",
				 step != NULL ? step : "");
		return;
	}
	end (f, NF_EXIT_FAILED);
	if (state == NF_JOB_STATE_CANCELLED)
		fprintf (stderr,
			 "nestfarmctl: %s was cancelled after %s%s%s\n",
			 f->label,
			 time,
			 error != NULL && error[0] != '\0' ? ": " : "",
			 error != NULL ? error : "");
	else
		fprintf (stderr,
			 "nestfarmctl: %s failed after %s: %s\n",
			 f->label,
			 time,
			 error != NULL && error[0] != '\0' ? error : "nestfarmd gave no reason");
}

static void
on_properties_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, Follow *f)
{
	if (f->ended)
		return;
	show_step (f);
	check_done (f);
}

static void
on_completed (NfDBusJob *job, gboolean success, const gchar *message, Follow *f)
{
	g_free (f->message);
	f->message = g_strdup (message);
	check_done (f);
	/* the properties should have said so first; trust the signal anyway */
	if (!f->ended) {
		end (f, success ? NF_EXIT_OK : NF_EXIT_FAILED);
		if (!success)
			fprintf (stderr, "nestfarmctl: %s failed: %s\n", f->label, message);
	}
}

static void
on_name_owner (GObject *proxy, GParamSpec *pspec, Follow *f)
{
	g_autofree gchar *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

	if (owner != NULL || f->ended)
		return;
	end (f, NF_EXIT_UNREACHABLE);
	fprintf (stderr,
		 "nestfarmctl: nestfarmd went away while %s was running; 'nestfarmctl pool list' shows what is left "
		 "once it is back.\n",
		 f->label);
}

static gboolean
on_tick (gpointer user_data)
{
	Follow *f = user_data;

	if (f->drawn)
		draw_bar (f);
	return G_SOURCE_CONTINUE;
}

static void
follow_clear (Follow *f)
{
	g_clear_object (&f->job);
	g_clear_pointer (&f->loop, g_main_loop_unref);
	g_free (f->label);
	g_free (f->last_step);
	g_free (f->message);
}

static void
follow_unref (Follow *f)
{
	g_rc_box_release_full (f, (GDestroyNotify) follow_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Follow, follow_unref)

static void
cancel_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (Follow) f = user_data;
	g_autoptr (GError) error = NULL;

	if (nf_dbus_job_call_cancel_finish (NF_DBUS_JOB (source), res, &error) || f->ended)
		return;
	clear_bar (f);
	g_dbus_error_strip_remote_error (error);
	fprintf (stderr, "nestfarmctl: cannot cancel %s: %s\n", f->label, error->message);
	if (nf_cli_error_exit (error) == NF_EXIT_NOT_AUTHORIZED) {
		end (f, NF_EXIT_NOT_AUTHORIZED);
		return;
	}
	show_step (f);
}

static gboolean
on_interrupt (gpointer user_data)
{
	Follow *f = user_data;

	f->interrupts++;
	clear_bar (f);
	if (f->interrupts == 1) {
		fprintf (stderr,
			 "\nnestfarmctl: press Ctrl-C again to cancel %s (it goes on in nestfarmd if you wait)\n",
			 f->label);
	} else if (f->interrupts == 2) {
		fprintf (stderr,
			 "nestfarmctl: cancelling %s; waiting for it to roll back (Ctrl-C: stop waiting)\n",
			 f->label);
		nf_dbus_job_call_cancel (f->job, NULL, cancel_done, g_rc_box_acquire (f));
	} else {
		fprintf (stderr,
			 "nestfarmctl: no longer waiting; %s goes on being cancelled in nestfarmd\n",
			 f->label);
		end (f, NF_EXIT_FAILED);
		return G_SOURCE_REMOVE;
	}
	show_step (f);
	return G_SOURCE_CONTINUE;
}

NfExit
nf_cli_follow_job (NfCli *cli, const gchar *job_path, guint node_count)
{
	g_autoptr (Follow) f = g_rc_box_new0 (Follow);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *number = nf_cli_name_from_path (job_path);
	guint tick_id = 0, interrupt_id;

	f->cli = cli;
	f->node_count = node_count;
	f->started = g_get_monotonic_time ();
	f->out = cli->json ? stderr : stdout;
	f->bar = !cli->quiet && !cli->no_progress && isatty (fileno (f->out));
	f->plain = !cli->quiet && !f->bar;
	f->label = g_strdup_printf ("job %s", number);
	f->job = nf_dbus_job_proxy_new_sync (cli->bus,
					     G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
					     NF_CLI_BUS_NAME,
					     job_path,
					     NULL,
					     &error);
	if (f->job == NULL)
		return nf_cli_fail (error);
	nf_cli_proxy_allow_slow_auth (f->job);
	f->loop = g_main_loop_new (NULL, FALSE);
	g_signal_connect (f->job, "g-properties-changed", G_CALLBACK (on_properties_changed), f);
	g_signal_connect (f->job, "completed", G_CALLBACK (on_completed), f);
	g_signal_connect (f->job, "notify::g-name-owner", G_CALLBACK (on_name_owner), f);
	interrupt_id = g_unix_signal_add (SIGINT, on_interrupt, f);
	if (f->bar)
		tick_id = g_timeout_add_seconds (1, on_tick, f);

	if (nf_dbus_job_get_state (f->job) == NULL) {
		end (f, NF_EXIT_FAILED);
		fprintf (stderr, "nestfarmctl: %s is gone before it could be followed\n", f->label);
	} else {
		const gchar *operation = nf_dbus_job_get_operation (f->job);

		if (f->plain)
			fprintf (f->out,
				 "%s: %s started\n",
				 f->label,
				 operation != NULL ? operation : "operation");
		show_step (f);
		check_done (f);
	}
	if (!f->ended)
		g_main_loop_run (f->loop);

	if (f->interrupts < 3)
		g_source_remove (interrupt_id);
	if (tick_id != 0)
		g_source_remove (tick_id);
	g_signal_handlers_disconnect_by_data (f->job, f);
	return f->code;
}
