/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-snapshot"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-failpoint.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-snapshot.h"
#include "nf-xml-private.h"

/* One node's internal snapshots, through its host's libvirt connection:
 * pause and resume around a pool snapshot, take, revert, delete. Why
 * internal snapshots: HACKING.md ("Snapshots"). */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomainSnapshot, virDomainSnapshotFree)

/* What marks a domain snapshot as a pool snapshot's part. */
#define NF_SNAPSHOT_DESCRIPTION "nestfarm pool snapshot"
/* and, after it, one taken without memory */
#define NF_SNAPSHOT_DISKS_ONLY " (disks only)"

gboolean
nf_snapshot_name_validate (const gchar *name, GError **error)
{
	return nf_names_validate ("snapshot", name, error);
}

/* Node @node's domain, and whether libvirt has it in @state. */
static virDomainPtr
open_in_state (NfEngine *engine, const gchar *node, gint state, gboolean *in_state, GError **error)
{
	g_autoptr (virDomain) dom = nf_engine_open_domain (engine, node, NULL, error);
	gint now = 0, reason = 0;

	if (dom == NULL)
		return NULL;
	if (virDomainGetState (dom, &now, &reason, 0) < 0) {
		nf_libvirt_set_error (error, "Cannot read the state of %s", node);
		return NULL;
	}
	*in_state = now == state;
	return g_steal_pointer (&dom);
}

gboolean
nf_snapshot_check_domain (const gchar *node, const gchar *domain_xml, GError **error)
{
	g_autoptr (xmlDoc) doc = nf_xml_parse (domain_xml, strlen (domain_xml), "the domain XML", error);
	g_autoptr (xmlXPathContext) ctx = NULL;

	if (doc == NULL)
		return FALSE;
	ctx = xmlXPathNewContext (doc);
	if (nf_xml_find (ctx, NULL, "/domain/os/nvram | /domain/os/loader[@type='pflash']") != NULL ||
	    nf_xml_find (ctx, NULL, "/domain/os[@firmware='efi']") != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Node %s boots UEFI firmware with its variables in flash (pflash), which QEMU cannot "
			     "take an internal snapshot of; pools of BIOS profiles can be snapshotted.",
			     node);
		return FALSE;
	}
	return TRUE;
}

gboolean
nf_snapshot_pause (NfEngine *engine, const gchar *node, gboolean *paused, GError **error)
{
	gboolean running = FALSE;
	g_autoptr (virDomain) dom = open_in_state (engine, node, VIR_DOMAIN_RUNNING, &running, error);
	g_autofree gchar *xml = NULL;

	*paused = FALSE;
	if (dom == NULL)
		return FALSE;
	xml = virDomainGetXMLDesc (dom, 0);
	if (xml == NULL)
		return nf_libvirt_set_error (error, "Cannot read the domain of %s", node);
	if (!nf_snapshot_check_domain (node, xml, error))
		return FALSE;
	if (!running)
		return TRUE;
	if (virDomainSuspend (dom) < 0)
		return nf_libvirt_set_error (error, "Cannot pause %s", node);
	*paused = TRUE;
	return TRUE;
}

gboolean
nf_snapshot_resume (NfEngine *engine, const gchar *node, GError **error)
{
	gboolean paused = FALSE;
	g_autoptr (virDomain) dom = open_in_state (engine, node, VIR_DOMAIN_PAUSED, &paused, error);

	if (dom == NULL)
		return FALSE;
	if (paused && virDomainResume (dom) < 0)
		return nf_libvirt_set_error (error, "Cannot resume %s", node);
	return TRUE;
}

/* Node @node's overlay as a volume of its storage pool, whose allocation
 * (the file's allocated blocks; libvirt reads them afresh at each
 * virStorageVolGetInfo) tells what a snapshot added to it. The pool knows
 * the overlay once it was refreshed: the space check before a snapshot
 * does that. */
static virStorageVolPtr
overlay_volume (NfEngine *engine, virDomainPtr dom, const gchar *node, GError **error)
{
	g_autoptr (NfNodeInfo) info = nf_engine_get_node (engine, node, error);
	virStorageVolPtr vol;

	if (info == NULL)
		return NULL;
	if (info->spec->overlay == NULL) {
		g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "The domain of %s has no overlay disk.", node);
		return NULL;
	}
	vol = virStorageVolLookupByPath (virDomainGetConnect (dom), info->spec->overlay);
	if (vol == NULL)
		nf_libvirt_set_error (error, "Cannot find the overlay of %s", node);
	return vol;
}

static gboolean
overlay_allocation (virStorageVolPtr vol, const gchar *node, guint64 *allocation, GError **error)
{
	virStorageVolInfo vol_info = {0};

	if (virStorageVolGetInfo (vol, &vol_info) < 0)
		return nf_libvirt_set_error (error, "Cannot read the overlay of %s", node);
	*allocation = vol_info.allocation;
	return TRUE;
}

static gchar *
snapshot_xml (const gchar *snapshot, gboolean memory)
{
	/* The name is checked (pool-name rules: no markup); libvirt picks
	 * the rest: internal, with memory for an active domain. */
	return g_strdup_printf ("<domainsnapshot><name>%s</name>"
				"<description>%s</description></domainsnapshot>",
				snapshot,
				memory ? NF_SNAPSHOT_DESCRIPTION
				       : NF_SNAPSHOT_DESCRIPTION NF_SNAPSHOT_DISKS_ONLY);
}

gboolean
nf_snapshot_take (NfEngine *engine,
		  const gchar *node,
		  const gchar *snapshot,
		  gboolean memory,
		  guint64 *size,
		  GError **error)
{
	g_autoptr (virDomain) dom = nf_engine_open_domain (engine, node, NULL, error);
	g_autoptr (virDomainSnapshot) snap = NULL;
	g_autoptr (virStorageVol) vol = NULL;
	g_autofree gchar *xml = snapshot_xml (snapshot, memory);
	guint64 before = 0, after = 0;

	*size = 0;
	if (dom == NULL)
		return FALSE;
	snap = virDomainSnapshotLookupByName (dom, snapshot, 0);
	if (snap != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "Node %s has a snapshot named %s already.",
			     node,
			     snapshot);
		return FALSE;
	}
	virResetLastError ();
	vol = overlay_volume (engine, dom, node, error);
	if (vol == NULL || !overlay_allocation (vol, node, &before, error))
		return FALSE;
	snap = virDomainSnapshotCreateXML (dom, xml, 0);
	if (snap == NULL)
		return nf_libvirt_set_error (error, "Cannot snapshot %s", node);
	nf_fail_point ("snapshot:after-take");
	if (!overlay_allocation (vol, node, &after, error))
		return FALSE;
	*size = after > before ? after - before : 0;
	return TRUE;
}

static virDomainSnapshotPtr
lookup_snapshot (virDomainPtr dom, const gchar *node, const gchar *snapshot, GError **error)
{
	virDomainSnapshotPtr snap = virDomainSnapshotLookupByName (dom, snapshot, 0);

	if (snap == NULL)
		nf_libvirt_set_error (error, "Node %s has no snapshot %s", node, snapshot);
	return snap;
}

gboolean
nf_snapshot_revert (NfEngine *engine,
		    const gchar *node,
		    const gchar *snapshot,
		    gboolean memory,
		    gboolean *ran,
		    GError **error)
{
	g_autoptr (virDomain) dom = nf_engine_open_domain (engine, node, NULL, error);
	g_autoptr (virDomainSnapshot) snap = NULL;
	gint state = 0, reason = 0;

	*ran = FALSE;
	if (dom == NULL)
		return FALSE;
	snap = lookup_snapshot (dom, node, snapshot, error);
	if (snap == NULL)
		return FALSE;
	/* Paused, so that the pool's nodes go on together afterwards. */
	if (virDomainRevertToSnapshot (snap, VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED) < 0)
		return nf_libvirt_set_error (error, "Cannot revert %s to %s", node, snapshot);
	nf_fail_point ("snapshot:after-revert");
	if (virDomainGetState (dom, &state, &reason, 0) < 0)
		return nf_libvirt_set_error (error, "Cannot read the state of %s", node);
	*ran = state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_RUNNING;
	if (*ran && !memory && virDomainDestroy (dom) < 0)
		return nf_libvirt_set_error (error,
					     "Cannot switch %s off to boot it from the snapshot's disk",
					     node);
	return TRUE;
}

gboolean
nf_snapshot_delete (NfEngine *engine, const gchar *node, const gchar *snapshot, GError **error)
{
	g_autoptr (virDomain) dom = nf_engine_open_domain (engine, node, NULL, error);
	g_autoptr (virDomainSnapshot) snap = NULL;
	g_autoptr (GError) error_local = NULL;

	if (dom == NULL)
		return FALSE;
	snap = lookup_snapshot (dom, node, snapshot, &error_local);
	if (snap == NULL) {
		if (g_error_matches (error_local, NF_ERROR, NF_ERROR_NOT_FOUND))
			return TRUE;
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	if (virDomainSnapshotDelete (snap, 0) < 0)
		return nf_libvirt_set_error (error, "Cannot delete snapshot %s of %s", snapshot, node);
	nf_fail_point ("snapshot:after-delete");
	return TRUE;
}

void
nf_snapshot_info_free (NfSnapshotInfo *info)
{
	if (info == NULL)
		return;
	g_free (info->name);
	g_free (info);
}

static gchar *
text_at (xmlXPathContext *ctx, const gchar *xpath)
{
	xmlNode *node = nf_xml_find (ctx, NULL, xpath);

	return node != NULL ? nf_xml_get_text (node) : NULL;
}

/* @xml (a domain snapshot's) as a pool snapshot's part, or NULL for one
 * nestfarm did not take. */
static NfSnapshotInfo *
info_from_xml (const gchar *xml)
{
	g_autoptr (xmlDoc) doc = nf_xml_parse (xml, strlen (xml), "a snapshot's XML", NULL);
	g_autoptr (xmlXPathContext) ctx = NULL;
	g_autofree gchar *description = NULL;
	g_autofree gchar *created = NULL;
	g_autofree gchar *state = NULL;
	NfSnapshotInfo *info;

	if (doc == NULL)
		return NULL;
	ctx = xmlXPathNewContext (doc);
	description = text_at (ctx, "/domainsnapshot/description");
	if (g_strcmp0 (description, NF_SNAPSHOT_DESCRIPTION) != 0 &&
	    g_strcmp0 (description, NF_SNAPSHOT_DESCRIPTION NF_SNAPSHOT_DISKS_ONLY) != 0)
		return NULL;
	created = text_at (ctx, "/domainsnapshot/creationTime");
	state = text_at (ctx, "/domainsnapshot/state");
	info = g_new0 (NfSnapshotInfo, 1);
	info->name = text_at (ctx, "/domainsnapshot/name");
	info->created = created != NULL ? g_ascii_strtoll (created, NULL, 10) : 0;
	info->ran = g_strcmp0 (state, "running") == 0 || g_strcmp0 (state, "paused") == 0;
	info->memory = !g_str_has_suffix (description, NF_SNAPSHOT_DISKS_ONLY);
	return info;
}

GPtrArray *
nf_snapshot_list (NfEngine *engine, const gchar *node, GError **error)
{
	g_autoptr (virDomain) dom = nf_engine_open_domain (engine, node, NULL, error);
	g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_snapshot_info_free);
	virDomainSnapshotPtr *snaps = NULL;
	gint n;

	if (dom == NULL)
		return NULL;
	n = virDomainListAllSnapshots (dom, &snaps, 0);
	if (n < 0) {
		nf_libvirt_set_error (error, "Cannot list the snapshots of %s", node);
		return NULL;
	}
	for (gint i = 0; i < n; i++) {
		g_autofree gchar *xml = virDomainSnapshotGetXMLDesc (snaps[i], 0);
		NfSnapshotInfo *info = xml != NULL ? info_from_xml (xml) : NULL;

		if (info != NULL && info->name != NULL)
			g_ptr_array_add (list, info);
		else
			nf_snapshot_info_free (info);
		virDomainSnapshotFree (snaps[i]);
	}
	g_free (snaps);
	return g_steal_pointer (&list);
}
