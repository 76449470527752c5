/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-bench-floor"

#include "config.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>

#include "nestfarm/nf-host.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-template.h"

/* The floor: the same nodes (the same domain XML, rendered by nestfarm's
 * templates) made and removed with the libvirt API alone, one after the
 * other: overlay volume, define, start; then destroy, undefine, delete.
 * No daemon, no D-Bus, no parallelism. Prints "make SECONDS" and
 * "teardown SECONDS".
 *
 * nf-bench-floor POOL COUNT IMAGE STORAGE_POOL BRIDGE CONSOLE_DIR [--no-start] */

static gdouble
now (void)
{
	return g_get_monotonic_time () / 1e6;
}

static void
die (const gchar *what)
{
	g_printerr ("nf-bench-floor: %s: %s\n", what, virGetLastErrorMessage ());
	exit (1);
}

int
main (int argc, char **argv)
{
	const gchar *pool, *image, *storage, *bridge, *console_dir;
	guint count;
	gboolean start = TRUE;
	virConnectPtr conn;
	virStoragePoolPtr spool;
	g_autoptr (NfHostInfo) host = NULL;
	g_autoptr (NfProfile) profile = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) domains = g_ptr_array_new ();
	g_autoptr (GPtrArray) volumes = g_ptr_array_new ();
	gdouble t0, t_make, t_teardown;

	if (argc < 7) {
		g_printerr (
			"usage: nf-bench-floor POOL COUNT IMAGE STORAGE_POOL BRIDGE CONSOLE_DIR [--no-start]\n");
		return 2;
	}
	pool = argv[1];
	count = (guint) atoi (argv[2]);
	image = argv[3];
	storage = argv[4];
	bridge = argv[5];
	console_dir = argv[6];
	if (argc > 7 && g_strcmp0 (argv[7], "--no-start") == 0)
		start = FALSE;

	nf_libvirt_init ();
	conn = virConnectOpen ("qemu:///system");
	if (conn == NULL)
		die ("connect");
	spool = virStoragePoolLookupByName (conn, storage);
	if (spool == NULL)
		die ("storage pool");
	host = nf_host_probe (conn, NF_ACCEL_AUTO, &error);
	if (host == NULL)
		g_error ("%s", error->message);
	profile = nf_profile_load (g_getenv ("NF_TEMPLATE_DIR"), "kvm-compute", &error);
	if (profile == NULL)
		g_error ("%s", error->message);

	t0 = now ();
	for (guint i = 1; i <= count; i++) {
		g_autoptr (NfNodeSpec) spec = nf_node_spec_new ();
		g_autofree gchar *name = g_strdup_printf ("%s-%u", pool, i);
		g_autofree gchar *vol_xml = NULL;
		g_autofree gchar *xml = NULL;
		virStorageVolPtr vol;
		virDomainPtr dom;

		vol_xml =
			g_markup_printf_escaped ("<volume><name>%s.qcow2</name>"
						 "<capacity unit='GiB'>1</capacity>"
						 "<target><format type='qcow2'/><compat>1.1</compat></target>"
						 "<backingStore><path>%s</path><format type='qcow2'/></backingStore>"
						 "</volume>",
						 name,
						 image);
		vol = virStorageVolCreateXML (spool, vol_xml, 0);
		if (vol == NULL)
			die ("create volume");
		spec->pool = g_strdup (pool);
		spec->index = i;
		spec->vcpus = 1;
		spec->memory_mib = 256;
		spec->disk_gib = 1;
		spec->image = g_strdup (image);
		spec->overlay = virStorageVolGetPath (vol);
		spec->trunk_bridge = g_strdup (bridge);
		spec->vlans = g_strdup ("all");
		spec->console_log = g_strdup_printf ("%s/%s.log", console_dir, name);
		xml = nf_profile_render_domain (profile, spec, host, &error);
		if (xml == NULL)
			g_error ("%s", error->message);
		dom = virDomainDefineXML (conn, xml);
		if (dom == NULL)
			die ("define");
		if (start && virDomainCreate (dom) < 0)
			die ("start");
		g_ptr_array_add (domains, dom);
		g_ptr_array_add (volumes, vol);
	}
	t_make = now () - t0;

	t0 = now ();
	for (guint i = 0; i < domains->len; i++) {
		virDomainPtr dom = g_ptr_array_index (domains, i);
		virStorageVolPtr vol = g_ptr_array_index (volumes, i);

		if (virDomainIsActive (dom) == 1 && virDomainDestroy (dom) < 0)
			die ("destroy");
		if (virDomainUndefine (dom) < 0)
			die ("undefine");
		if (virStorageVolDelete (vol, 0) < 0)
			die ("delete volume");
		virDomainFree (dom);
		virStorageVolFree (vol);
	}
	t_teardown = now () - t0;

	printf ("make %.3f\nteardown %.3f\n", t_make, t_teardown);
	virStoragePoolFree (spool);
	virConnectClose (conn);
	return 0;
}
