/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Running the real nestfarmctl from the tests: exit status and output. */

typedef struct {
	gint status;
	gchar *out;
	gchar *err;
} NfCliRun;

void nf_cli_run_free (NfCliRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfCliRun, nf_cli_run_free)

/* Runs @argv (not NULL-terminated; this adds it); @bus_address replaces
 * DBUS_SYSTEM_BUS_ADDRESS if given. */
NfCliRun *nf_test_cli_run_argv (GPtrArray *argv, const gchar *bus_address);
/* Fails the test, showing both outputs, unless the exit status is @status. */
void nf_test_cli_assert_status (NfCliRun *run, gint status);

G_END_DECLS
