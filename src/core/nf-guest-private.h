/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "nestfarm/nf-engine.h"

G_BEGIN_DECLS

/* Looking inside a running node (core-private): through its QEMU guest
 * agent, over the host's libvirt connection (virDomainQemuAgentCommand:
 * guest-exec of one shell script), and at its SSH port. Blocking: worker
 * threads only. */

/* How long the agent may take to answer one command, and the script to
 * run, in seconds. */
#define NF_GUEST_AGENT_TIMEOUT_S 5
#define NF_GUEST_EXEC_TIMEOUT_S  15
/* How long the SSH port may take to connect and send its banner. */
#define NF_GUEST_SSH_TIMEOUT_S 5

/* The IPv4 address of @dom's NIC with MAC @mac, as its network's DHCP
 * leases (libvirt's network driver) or else its guest agent say; NULL
 * when neither knows one. */
gchar *nf_guest_address (virDomainPtr dom, const gchar *mac);

/* Fills @report (running already set) for the running domain @dom whose
 * management address is @address (NULL: unknown, no SSH check). */
void nf_guest_probe (virDomainPtr dom, const gchar *address, NfGuestReport *report);

G_END_DECLS
