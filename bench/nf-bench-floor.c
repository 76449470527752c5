/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-bench-floor"

#include "config.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>

#include "nestfarm/nf-host.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-seed.h"
#include "nestfarm/nf-storage.h"
#include "nestfarm/nf-template.h"

/* The floor: the same nodes (the same domain XML, rendered by nestfarm's
 * templates) made and removed with the libvirt API alone, one after the
 * other: overlay volume, cloud-init seed volume (the same ISO nestfarm
 * builds, uploaded into the same seeds pool), define, start; then
 * destroy, undefine, delete both volumes. No daemon, no D-Bus, no
 * parallelism, none of nestfarm's checks (tags, owners). Prints
 * "make SECONDS" and "teardown SECONDS".
 *
 * nf-bench-floor POOL COUNT IMAGE STORAGE_POOL BRIDGE CONSOLE_DIR [--no-start]
 *
 * NF_BENCH_URI names another libvirt than qemu:///system (a host of the
 * farm: probed as nestfarm probes a remote host, through libvirt alone). */

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

/* The seed nestfarm would give node @name: built as nestfarm builds it,
 * then a raw volume in @seeds and an upload, as libvirt users do. */
static virStorageVolPtr
make_seed (virConnectPtr conn, virStoragePoolPtr seeds, const gchar *pool, guint index, const gchar *name)
{
	g_autoptr (NfSeedSpec) seed = nf_seed_spec_new ();
	g_autoptr (GBytes) iso = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *xml = NULL;
	virStreamPtr stream;
	virStorageVolPtr vol;
	const gchar *data;
	gsize len;

	seed->node_name = g_strdup (name);
	seed->instance_id = g_strdup_printf ("%s-floor", name);
	seed->ssh_user = g_strdup (NF_SSH_USER_DEFAULT);
	seed->mac = nf_node_mac (pool, index, NF_NIC_MANAGEMENT);
	seed->owner = nf_storage_seed_owner_tag (name);
	iso = nf_seed_build_iso (seed, &error);
	if (iso == NULL)
		g_error ("%s", error->message);
	data = g_bytes_get_data (iso, &len);
	xml = g_markup_printf_escaped ("<volume><name>%s-seed.iso</name>"
				       "<capacity unit='bytes'>%" G_GSIZE_FORMAT "</capacity>"
				       "<allocation unit='bytes'>0</allocation>"
				       "<target><format type='raw'/></target></volume>",
				       name,
				       len);
	vol = virStorageVolCreateXML (seeds, xml, 0);
	stream = virStreamNew (conn, 0);
	if (vol == NULL || stream == NULL || virStorageVolUpload (vol, stream, 0, len, 0) < 0)
		die ("upload seed");
	while (len > 0) {
		gint sent = virStreamSend (stream, data, MIN (len, 256 * 1024));

		if (sent <= 0)
			die ("upload seed");
		data += sent;
		len -= (gsize) sent;
	}
	if (virStreamFinish (stream) < 0)
		die ("upload seed");
	virStreamFree (stream);
	return vol;
}

int
main (int argc, char **argv)
{
	const gchar *pool, *image, *storage, *bridge, *console_dir, *uri;
	guint count;
	gboolean start = TRUE;
	virConnectPtr conn;
	virStoragePoolPtr spool, seeds;
	g_autoptr (NfHostInfo) host = NULL;
	g_autoptr (NfProfile) profile = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) domains = g_ptr_array_new ();
	g_autoptr (GPtrArray) volumes = g_ptr_array_new ();
	g_autoptr (GPtrArray) seed_volumes = g_ptr_array_new ();
	g_autofree gchar *seeds_name = NULL;
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
	uri = g_getenv ("NF_BENCH_URI");
	conn = virConnectOpen (uri != NULL ? uri : "qemu:///system");
	if (conn == NULL)
		die ("connect");
	spool = virStoragePoolLookupByName (conn, storage);
	if (spool == NULL)
		die ("storage pool");
	/* nestfarmd made it (bench/run starts the daemon first) */
	seeds_name = nf_storage_seeds_pool_name (storage);
	seeds = virStoragePoolLookupByName (conn, seeds_name);
	if (seeds == NULL)
		die ("seeds storage pool");
	host = uri != NULL ? nf_host_probe_remote (conn, NF_ACCEL_AUTO, &error)
			   : nf_host_probe (conn, NF_ACCEL_AUTO, &error);
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
		virStorageVolPtr vol, seed;
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
		if (nf_profile_takes_seed (profile)) {
			seed = make_seed (conn, seeds, pool, i, name);
			spec->seed = virStorageVolGetPath (seed);
			g_ptr_array_add (seed_volumes, seed);
		}
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
		if (i < seed_volumes->len) {
			virStorageVolPtr seed = g_ptr_array_index (seed_volumes, i);

			if (virStorageVolDelete (seed, 0) < 0)
				die ("delete seed");
			virStorageVolFree (seed);
		}
		virDomainFree (dom);
		virStorageVolFree (vol);
	}
	t_teardown = now () - t0;

	printf ("make %.3f\nteardown %.3f\n", t_make, t_teardown);
	virStoragePoolFree (spool);
	virStoragePoolFree (seeds);
	virConnectClose (conn);
	return 0;
}
