/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-failpoint"

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "nestfarm/nf-failpoint.h"

/* Fail points: with -Dfail_points=true, NF_FAIL_POINT=<name> kills the process
 * with SIGKILL at that point, as a power cut would; a no-op in other builds. */

void
nf_fail_point (const gchar *name)
{
#ifdef NF_ENABLE_FAIL_POINTS
	const gchar *wanted = g_getenv ("NF_FAIL_POINT");

	if (wanted == NULL || g_strcmp0 (wanted, name) != 0)
		return;
	g_printerr ("nestfarm: fail point %s reached, killing the process\n", name);
	/* SIGKILL, like the OOM killer or a power cut: no cleanup of any kind. */
	kill (getpid (), SIGKILL);
	abort ();
#else
	(void) name;
#endif
}
