/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-test-cli"

#include "config.h"

#include "nf-test-cli.h"

/* Runs the built nestfarmctl for the CLI tests, and checks its exit status. */

void
nf_cli_run_free (NfCliRun *run)
{
	g_free (run->out);
	g_free (run->err);
	g_free (run);
}

/* Runs @argv; @bus_address replaces DBUS_SYSTEM_BUS_ADDRESS if given. */
NfCliRun *
nf_test_cli_run_argv (GPtrArray *argv, const gchar *bus_address)
{
	g_autoptr (GSubprocessLauncher) launcher =
		g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr (GSubprocess) process = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *joined = NULL;
	NfCliRun *run = g_new0 (NfCliRun, 1);

	g_ptr_array_add (argv, NULL);
	joined = g_strjoinv (" ", (gchar **) argv->pdata);
	if (bus_address != NULL)
		g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", bus_address, TRUE);
	g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
	process = g_subprocess_launcher_spawnv (launcher, (const gchar *const *) argv->pdata, &error);
	g_assert_no_error (error);
	g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error));
	g_assert_no_error (error);
	if (g_subprocess_get_if_exited (process))
		run->status = g_subprocess_get_exit_status (process);
	else
		run->status = 128 + g_subprocess_get_term_sig (process);
	g_test_message ("$ %s\n-> %d\n%s%s", joined, run->status, run->out, run->err);
	return run;
}

void
nf_test_cli_assert_status (NfCliRun *run, gint status)
{
	if (run->status != status)
		g_error ("exit status %d, wanted %d\nstdout:\n%s\nstderr:\n%s",
			 run->status,
			 status,
			 run->out,
			 run->err);
}
