/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-storage"

/* A node's cloud-init seed as a libvirt storage volume: made, read back and
 * removed through the host's libvirt connection (a volume and a stream,
 * never a local file call), so a remote host works the same. The seed ISO
 * carries its owner in its application id (nf_seed_iso_owner); nestfarm
 * removes only a volume whose ISO names the node it removes. */

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-seed.h"
#include "nestfarm/nf-storage.h"
#include "nf-storage-private.h"

gchar *
nf_storage_seed_name (const gchar *node)
{
	return g_strconcat (node, NF_STORAGE_SEED_SUFFIX, NULL);
}

gchar *
nf_storage_seed_owner_tag (const gchar *node)
{
	return g_strconcat (NF_SEED_OWNER_PREFIX, node, NULL);
}

static gboolean
upload (virConnectPtr conn, virStorageVolPtr vol, GBytes *iso, GError **error)
{
	g_autoptr (virStream) stream = virStreamNew (conn, 0);
	gsize len = 0;
	const gchar *data = g_bytes_get_data (iso, &len);

	if (stream == NULL || virStorageVolUpload (vol, stream, 0, len, 0) < 0)
		return nf_libvirt_set_error (error, "cannot upload the seed");
	while (len > 0) {
		gint sent = virStreamSend (stream, data, MIN (len, 256 * 1024));

		if (sent <= 0) {
			virStreamAbort (stream);
			return nf_libvirt_set_error (error, "cannot upload the seed");
		}
		data += sent;
		len -= (gsize) sent;
	}
	if (virStreamFinish (stream) < 0)
		return nf_libvirt_set_error (error, "cannot upload the seed");
	return TRUE;
}

gchar *
nf_storage_seed_read_owner (virConnectPtr conn, virStorageVolPtr vol, GError **error)
{
	g_autoptr (virStream) stream = virStreamNew (conn, 0);
	g_autofree guint8 *head = g_malloc0 (NF_SEED_OWNER_BYTES);
	gsize got = 0;

	if (stream == NULL || virStorageVolDownload (vol, stream, 0, NF_SEED_OWNER_BYTES, 0) < 0) {
		nf_libvirt_set_error (error, "cannot read the seed");
		return NULL;
	}
	for (;;) {
		gint n = virStreamRecv (stream, (gchar *) head + got, NF_SEED_OWNER_BYTES - got);

		if (n < 0) {
			virStreamAbort (stream);
			nf_libvirt_set_error (error, "cannot read the seed");
			return NULL;
		}
		got += (gsize) n;
		if (n == 0 || got == NF_SEED_OWNER_BYTES)
			break;
	}
	if (virStreamFinish (stream) < 0)
		virResetLastError ();
	return nf_seed_iso_owner (head, got, error);
}

/* A volume of that name that is this node's own seed (left by a crash
 * before its domain was defined) goes; any other is left alone. */
static gboolean
clear_old (virConnectPtr conn, virStoragePoolPtr pool, const gchar *name, const gchar *node, GError **error)
{
	g_autoptr (virStorageVol) old = virStorageVolLookupByName (pool, name);
	g_autofree gchar *owner = NULL;
	g_autofree gchar *tag = nf_storage_seed_owner_tag (node);

	if (old == NULL) {
		virResetLastError ();
		return TRUE;
	}
	owner = nf_storage_seed_read_owner (conn, old, NULL);
	if (g_strcmp0 (owner, tag) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "The storage volume %s is there already and is not node %s's seed; nestfarm leaves it alone.",
			     name,
			     node);
		return FALSE;
	}
	if (virStorageVolDelete (old, 0) < 0)
		return nf_libvirt_set_error (error, "cannot replace the old seed %s", name);
	return TRUE;
}

gchar *
nf_storage_seed_put (virConnectPtr conn,
		     const gchar *pool_name,
		     const gchar *node,
		     GBytes *iso,
		     GError **error)
{
	g_autoptr (virStoragePool) pool = NULL;
	g_autoptr (virStorageVol) vol = NULL;
	g_autofree gchar *name = nf_storage_seed_name (node);
	g_autofree gchar *xml = NULL;
	g_autofree gchar *seeds = NULL;
	gchar *path;

	g_return_val_if_fail (conn != NULL && pool_name != NULL && node != NULL && iso != NULL, NULL);

	seeds = nf_storage_seeds_pool_name (pool_name);
	pool = nf_storage_lookup_pool (conn, seeds, error);
	if (pool == NULL || !clear_old (conn, pool, name, node, error))
		return NULL;
	xml = g_markup_printf_escaped ("<volume><name>%s</name>"
				       "<capacity unit='bytes'>%" G_GSIZE_FORMAT "</capacity>"
				       "<allocation unit='bytes'>0</allocation>"
				       "<target><format type='raw'/><permissions><mode>0644</mode></permissions></target>"
				       "</volume>",
				       name,
				       g_bytes_get_size (iso));
	vol = virStorageVolCreateXML (pool, xml, 0);
	if (vol == NULL) {
		nf_libvirt_set_error (error, "cannot make the seed volume of %s", node);
		return NULL;
	}
	if (!upload (conn, vol, iso, error)) {
		g_prefix_error (error, "Node %s: ", node);
		if (virStorageVolDelete (vol, 0) < 0)
			virResetLastError ();
		return NULL;
	}
	path = virStorageVolGetPath (vol);
	if (path == NULL)
		nf_libvirt_set_error (error, "cannot find the path of the seed of %s", node);
	return path;
}

gboolean
nf_storage_seed_delete (virConnectPtr conn, const gchar *path, const gchar *node, GError **error)
{
	g_autoptr (virStorageVol) vol = NULL;
	g_autofree gchar *owner = NULL;
	g_autofree gchar *tag = nf_storage_seed_owner_tag (node);
	g_autoptr (GError) error_local = NULL;

	g_return_val_if_fail (conn != NULL && path != NULL && node != NULL, FALSE);

	vol = virStorageVolLookupByPath (conn, path);
	if (vol == NULL) {
		/* Gone already is done: a removal retried after a crash. */
		virResetLastError ();
		return TRUE;
	}
	owner = nf_storage_seed_read_owner (conn, vol, &error_local);
	if (g_strcmp0 (owner, tag) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "%s is not node %s's seed (%s); nestfarm leaves it alone.",
			     path,
			     node,
			     error_local != NULL ? error_local->message : owner);
		return FALSE;
	}
	if (virStorageVolDelete (vol, 0) < 0)
		return nf_libvirt_set_error (error, "cannot delete the seed %s of node %s", path, node);
	return TRUE;
}
