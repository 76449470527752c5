/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fail points: places where a test build crashes on demand, for the
 * reliability tests. */

/* Crash here if the environment asks for it: NF_FAIL_POINT=<name> makes
 * the process abort when it reaches the fail point <name>, so tests can
 * prove that a crash at that step loses nothing. Compiled in only with
 * -Dfail_points=true (test builds); a no-op otherwise. */
void nf_fail_point (const gchar *name);

G_END_DECLS
