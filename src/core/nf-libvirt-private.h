/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What nf-libvirt.c needs from nf-libvirt-events.c. */

/* Registers nestfarm's libvirt event loop (a private GMainContext run by
 * its own thread) with virEventRegisterImpl. Once per process, before any
 * virConnectOpen; later calls do nothing. */
void nf_libvirt_events_start (void);

G_END_DECLS
