/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/* Management networks, through a host's libvirt connection (core-private).
 *
 * nestfarm makes the network its ManagementNetwork setting names when it
 * is missing: NAT (or isolated, no forward), on the first private IPv4 /24
 * that no libvirt network of the host uses and that libvirtd accepts (it
 * refuses a subnet the host already routes), with DHCP, started and set to
 * autostart, and tagged in its <metadata> as the instance's. On a network
 * so tagged each node gets a DHCP host entry for its management MAC (its
 * fixed address, known before it boots); networks nestfarm did not make
 * are never changed. Blocking: worker threads only; one process's calls
 * are serialized. */

/* The XML namespace of the tag in a network's <metadata>. */
#define NF_NETWORK_NS "http://nestfarm.org/xmlns/network/1"

/* The subnets tried, in order: 192.168.<first>.0/24 to <last>. */
#define NF_NETWORK_THIRD_OCTET_FIRST 100
#define NF_NETWORK_THIRD_OCTET_LAST  254

/* Makes sure network @name exists and runs. Missing and @make: defines it
 * as above (@isolated: no forward) and starts it. Missing and not @make:
 * NF_ERROR_INVALID_ARGUMENT naming it. An inactive network is started.
 * @instance: the tag's instance (NULL: the default one). */
gboolean nf_network_ensure (virConnectPtr conn,
			    const gchar *name,
			    gboolean make,
			    gboolean isolated,
			    const gchar *instance,
			    GError **error);
/* The fixed address of @mac on @network: the host entry it has, or a new
 * one (the lowest free address outside the DHCP range) named @host_name.
 * NULL without an error when @network is not one nestfarm made for
 * @instance, or has no IPv4 DHCP. */
gchar *nf_network_reserve (virConnectPtr conn,
			   const gchar *network,
			   const gchar *instance,
			   const gchar *mac,
			   const gchar *host_name,
			   GError **error);
/* Removes @mac's host entry from @network (made for @instance); nothing to
 * remove (no network, no entry, not nestfarm's) is success. */
gboolean nf_network_release (virConnectPtr conn,
			     const gchar *network,
			     const gchar *instance,
			     const gchar *mac,
			     GError **error);
/* The host entries on @instance's networks that name no domain of the
 * host (a crash between the entry and the define, or after the undefine)
 * are removed; failures are appended to @failed. Returns how many. */
guint nf_network_remove_orphan_entries (virConnectPtr conn, const gchar *instance, GString *failed);

G_END_DECLS
