/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-storage"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-storage.h"
#include "nf-storage-private.h"
#include "nf-xml-private.h"

/* The pool and the overlays; base images are checked in nf-base-image.c. */

/* ---- the pool ---------------------------------------------------------- */

/* The directory of a dir-type pool; NULL with an error for other types. */
static gchar *
pool_directory (virStoragePoolPtr pool, GError **error)
{
	g_autofree gchar *xml = virStoragePoolGetXMLDesc (pool, 0);
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (xmlXPathContext) context = NULL;
	g_autofree gchar *type = NULL;
	g_autofree gchar *path = NULL;
	xmlNode *target;

	if (xml == NULL) {
		nf_libvirt_set_error (error, "cannot read storage pool %s", virStoragePoolGetName (pool));
		return NULL;
	}
	doc = nf_xml_parse (xml, strlen (xml), "storage pool description", error);
	if (doc == NULL)
		return NULL;
	context = xmlXPathNewContext (doc);
	type = nf_xml_get_prop (xmlDocGetRootElement (doc), "type");
	target = nf_xml_find (context, NULL, "/pool/target/path");
	if (target != NULL)
		path = nf_xml_get_text (target);
	if (g_strcmp0 (type, "dir") != 0 || path == NULL || path[0] != '/') {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "The libvirt storage pool '%s' exists but is not a directory pool; give nestfarm a pool name of its own.",
			     virStoragePoolGetName (pool));
		return NULL;
	}
	return g_steal_pointer (&path);
}

virStoragePoolPtr
nf_storage_lookup_pool (virConnectPtr conn, const gchar *pool_name, GError **error)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName (conn, pool_name);

	if (pool == NULL)
		nf_libvirt_set_error (error, "cannot find storage pool %s", pool_name);
	return pool;
}

static virStoragePoolPtr
define_pool (virConnectPtr conn, const gchar *pool_name, const gchar *path, GError **error)
{
	g_autofree gchar *xml = NULL;
	g_autoptr (GError) error_local = NULL;
	virStoragePoolPtr pool;

	xml = g_markup_printf_escaped ("<pool type='dir'>\n"
				       "  <name>%s</name>\n"
				       "  <target>\n"
				       "    <path>%s</path>\n"
				       "  </target>\n"
				       "</pool>\n",
				       pool_name,
				       path);
	pool = virStoragePoolDefineXML (conn, xml, 0);
	if (pool != NULL)
		return pool;
	nf_libvirt_set_error (&error_local, "cannot define storage pool %s at %s", pool_name, path);
	/* Another thread may have defined it a moment ago. */
	pool = virStoragePoolLookupByName (conn, pool_name);
	if (pool != NULL)
		return pool;
	virResetLastError ();
	g_propagate_error (error, g_steal_pointer (&error_local));
	return NULL;
}

static gboolean
ensure_one_pool (virConnectPtr conn, const gchar *pool_name, const gchar *path, GError **error)
{
	g_autoptr (virStoragePool) pool = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *wanted = NULL;
	g_autofree gchar *actual = NULL;
	gint active, autostart = 0;

	g_return_val_if_fail (conn != NULL, FALSE);
	g_return_val_if_fail (pool_name != NULL, FALSE);
	g_return_val_if_fail (path != NULL, FALSE);

	if (!g_path_is_absolute (path)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The image directory '%s' is not an absolute path; give one such as /var/lib/nestfarm/images.",
			     path);
		return FALSE;
	}
	wanted = g_canonicalize_filename (path, NULL);

	pool = nf_storage_lookup_pool (conn, pool_name, &error_local);
	if (pool == NULL) {
		if (!g_error_matches (error_local, NF_ERROR, NF_ERROR_NOT_FOUND)) {
			g_propagate_error (error, g_steal_pointer (&error_local));
			return FALSE;
		}
		pool = define_pool (conn, pool_name, wanted, error);
		if (pool == NULL)
			return FALSE;
	}
	actual = pool_directory (pool, error);
	if (actual == NULL)
		return FALSE;
	if (g_strcmp0 (actual, wanted) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "The libvirt storage pool '%s' already uses %s, not %s; configure that directory or another pool name.",
			     pool_name,
			     actual,
			     wanted);
		return FALSE;
	}

	active = virStoragePoolIsActive (pool);
	if (active < 0)
		return nf_libvirt_set_error (error, "cannot query storage pool %s", pool_name);
	/* Building a dir pool makes its directory (and parents) if missing. */
	if (active == 0 && virStoragePoolCreate (pool, VIR_STORAGE_POOL_CREATE_WITH_BUILD) < 0)
		return nf_libvirt_set_error (error, "cannot start storage pool %s at %s", pool_name, wanted);
	if (virStoragePoolGetAutostart (pool, &autostart) < 0)
		return nf_libvirt_set_error (error, "cannot query storage pool %s", pool_name);
	if (!autostart && virStoragePoolSetAutostart (pool, 1) < 0)
		return nf_libvirt_set_error (error,
					     "cannot mark storage pool %s to start at boot",
					     pool_name);
	return TRUE;
}

/* Overlays are made in a staging directory that holds nothing but
 * nestfarm's half-made overlays, tagged there, and only then renamed into
 * the image directory: a crash at any moment leaves either a tagged
 * overlay or a file in staging, both of which nestfarm knows are its own. */
static gchar *
staging_pool_name (const gchar *pool_name)
{
	return g_strdup_printf ("%s-staging", pool_name);
}

gchar *
nf_storage_seeds_pool_name (const gchar *pool_name)
{
	return g_strdup_printf ("%s-seeds", pool_name);
}

gboolean
nf_storage_ensure_one_pool (virConnectPtr conn, const gchar *pool_name, const gchar *path, GError **error)
{
	return ensure_one_pool (conn, pool_name, path, error);
}

gboolean
nf_storage_ensure_pool (virConnectPtr conn, const gchar *pool_name, const gchar *path, GError **error)
{
	g_autofree gchar *staging = staging_pool_name (pool_name);
	g_autofree gchar *seeds = nf_storage_seeds_pool_name (pool_name);
	g_autofree gchar *staging_path = NULL;
	g_autofree gchar *seeds_path = NULL;

	if (!ensure_one_pool (conn, pool_name, path, error))
		return FALSE;
	staging_path = g_build_filename (path, NF_STORAGE_STAGING_DIR, NULL);
	seeds_path = g_build_filename (path, NF_STORAGE_SEEDS_DIR, NULL);
	return ensure_one_pool (conn, staging, staging_path, error) &&
	       ensure_one_pool (conn, seeds, seeds_path, error);
}

guint
nf_storage_clear_staging (virConnectPtr conn, const gchar *pool_name, GError **error)
{
	g_autofree gchar *staging = staging_pool_name (pool_name);
	g_autoptr (virStoragePool) pool = nf_storage_lookup_pool (conn, staging, error);
	g_autofree gchar *directory = NULL;
	g_autoptr (GDir) dir = NULL;
	const gchar *entry;
	guint removed = 0;

	if (pool == NULL)
		return 0;
	directory = pool_directory (pool, error);
	if (directory == NULL)
		return 0;
	dir = g_dir_open (directory, 0, error);
	if (dir == NULL)
		return 0;
	while ((entry = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *file = g_build_filename (directory, entry, NULL);
		struct stat st;

		if (lstat (file, &st) != 0 || !S_ISREG (st.st_mode))
			continue;
		if (unlink (file) == 0) {
			g_message ("removed half-made overlay %s", file);
			removed++;
		}
	}
	if (virStoragePoolRefresh (pool, 0) < 0)
		virResetLastError ();
	return removed;
}

/* ---- overlays ---------------------------------------------------------- */

gchar *
nf_storage_overlay_owner (const gchar *path)
{
	gchar value[256];
	gssize length;

	g_return_val_if_fail (path != NULL, NULL);

	/* lgetxattr: a symlink to someone's overlay is not an overlay. */
	length = lgetxattr (path, NF_OVERLAY_XATTR, value, sizeof (value));
	if (length <= 0 || memchr (value, '\0', (gsize) length) != NULL ||
	    !g_utf8_validate (value, length, NULL))
		return NULL;
	return g_strndup (value, (gsize) length);
}

/* Where @node's overlay goes: the pool's directory (@directory), the file
 * (@target, which must not exist yet) and the staging pool it is made in. */
static virStoragePoolPtr
overlay_place (virConnectPtr conn,
	       const gchar *pool_name,
	       const gchar *node,
	       gchar **directory,
	       gchar **target,
	       GError **error)
{
	g_autoptr (virStoragePool) pool = NULL;
	g_autoptr (virStoragePool) staging = NULL;
	g_autofree gchar *staging_name = NULL;
	g_autofree gchar *name = g_strdup_printf ("%s.qcow2", node);
	struct stat st;

	if (!nf_node_name_parse (node, NULL, NULL, error))
		return NULL;
	pool = nf_storage_lookup_pool (conn, pool_name, error);
	if (pool == NULL)
		return NULL;
	*directory = pool_directory (pool, error);
	if (*directory == NULL)
		return NULL;
	staging_name = staging_pool_name (pool_name);
	staging = nf_storage_lookup_pool (conn, staging_name, error);
	if (staging == NULL)
		return NULL;
	/* libvirt would let qemu-img overwrite a file it has not seen yet. */
	*target = g_build_filename (*directory, name, NULL);
	if (lstat (*target, &st) == 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "The overlay %s already exists; delete or reset node %s instead.",
			     *target,
			     node);
		return NULL;
	}
	return g_steal_pointer (&staging);
}

/* The volume @name over @base, at least @size_bytes. */
static gchar *
overlay_volume_xml (const gchar *name, const NfBaseImage *base, guint64 size_bytes)
{
	/* libvirt hands qemu-img the size in KiB, rounded up: say so here. */
	guint64 capacity = MAX (base->virtual_size, size_bytes);

	capacity = (capacity + 1023) / 1024 * 1024;
	/* compat 1.1: libvirt would make qcow2 v2 (compat 0.10) otherwise. */
	return g_markup_printf_escaped ("<volume>\n"
					"  <name>%s</name>\n"
					"  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
					"  <allocation unit='bytes'>0</allocation>\n"
					"  <target>\n"
					"    <format type='qcow2'/>\n"
					"    <compat>1.1</compat>\n"
					"  </target>\n"
					"  <backingStore>\n"
					"    <path>%s</path>\n"
					"    <format type='%s'/>\n"
					"  </backingStore>\n"
					"</volume>\n",
					name,
					capacity,
					base->path,
					nf_image_format_to_string (base->format));
}

/* The staged volume @vol (file @path) tagged as @node's and moved to
 * @target; deleted again if either fails. */
static gboolean
overlay_settle (virStorageVolPtr vol,
		const gchar *path,
		const gchar *node,
		const gchar *directory,
		const gchar *target,
		GError **error)
{
	gint saved_errno;

	/* Untagged files are never deleted, so an overlay we cannot tag must
	 * not survive. */
	if (lsetxattr (path, NF_OVERLAY_XATTR, node, strlen (node), XATTR_CREATE) < 0) {
		saved_errno = errno;
		if (virStorageVolDelete (vol, 0) < 0)
			virResetLastError ();
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot tag overlay %s: %s; the image directory must be on a file system with user extended attributes.",
			     path,
			     g_strerror (saved_errno));
		return FALSE;
	}
	/* Into place, never over a file that appeared meanwhile. */
	if (renameat2 (AT_FDCWD, path, AT_FDCWD, target, RENAME_NOREPLACE) < 0) {
		g_autofree gchar *name = g_path_get_basename (target);

		saved_errno = errno;
		if (virStorageVolDelete (vol, 0) < 0)
			virResetLastError ();
		g_set_error (error,
			     NF_ERROR,
			     saved_errno == EEXIST ? NF_ERROR_EXISTS : NF_ERROR_FAILED,
			     "Cannot move overlay %s into %s: %s.",
			     name,
			     directory,
			     g_strerror (saved_errno));
		return FALSE;
	}
	return TRUE;
}

/* Volume <node>.qcow2 over @base in @pool: its path (and @vol), or NULL
 * with nothing left. */
static gchar *
overlay_volume_create (virStoragePoolPtr pool,
		       const gchar *node,
		       const NfBaseImage *base,
		       guint64 size_bytes,
		       virStorageVolPtr *vol,
		       GError **error)
{
	g_autofree gchar *name = g_strdup_printf ("%s.qcow2", node);
	g_autofree gchar *xml = overlay_volume_xml (name, base, size_bytes);
	gchar *path;

	*vol = virStorageVolCreateXML (pool, xml, 0);
	if (*vol == NULL) {
		nf_libvirt_set_error (error, "cannot create overlay %s for node %s", name, node);
		return NULL;
	}
	path = virStorageVolGetPath (*vol);
	if (path == NULL) {
		nf_libvirt_set_error (error, "cannot find the file of overlay %s", name);
		if (virStorageVolDelete (*vol, 0) < 0)
			virResetLastError ();
		g_clear_pointer (vol, virStorageVolFree);
	}
	return path;
}

gchar *
nf_storage_create_overlay (virConnectPtr conn,
			   const gchar *pool_name,
			   const gchar *node,
			   const NfBaseImage *base,
			   guint64 size_bytes,
			   GError **error)
{
	g_autoptr (virStoragePool) staging = NULL;
	g_autoptr (virStorageVol) vol = NULL;
	g_autofree gchar *directory = NULL;
	g_autofree gchar *target = NULL;
	g_autofree gchar *path = NULL;

	g_return_val_if_fail (conn != NULL, NULL);
	g_return_val_if_fail (pool_name != NULL, NULL);
	g_return_val_if_fail (node != NULL, NULL);
	g_return_val_if_fail (base != NULL && base->path != NULL, NULL);

	staging = overlay_place (conn, pool_name, node, &directory, &target, error);
	if (staging == NULL)
		return NULL;
	path = overlay_volume_create (staging, node, base, size_bytes, &vol, error);
	if (path == NULL)
		return NULL;
	if (!overlay_settle (vol, path, node, directory, target, error))
		return NULL;
	/* libvirt still lists the staged volume: forget it. */
	if (virStoragePoolRefresh (staging, 0) < 0)
		virResetLastError ();
	return g_steal_pointer (&target);
}

/* The volume at @path in the active pool holding its directory, that
 * pool refreshed when libvirt has not seen the file yet: *@vol, or NULL
 * when the pool has no such file. No active pool holding the directory,
 * a refresh that fails, or (with @pool_name) a pool of another name is an
 * error: nothing there is then known. */
static gboolean
volume_in_pool (virConnectPtr conn,
		const gchar *path,
		const gchar *pool_name,
		virStorageVolPtr *vol,
		GError **error)
{
	g_autoptr (virStoragePool) pool = NULL;
	g_autofree gchar *directory = g_path_get_dirname (path);

	*vol = NULL;
	pool = virStoragePoolLookupByTargetPath (conn, directory);
	if (pool == NULL || virStoragePoolIsActive (pool) != 1)
		return nf_libvirt_set_error (error, "No active libvirt storage pool holds %s", directory);
	if (pool_name != NULL && g_strcmp0 (virStoragePoolGetName (pool), pool_name) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "%s is in storage pool %s, not in nestfarm's %s; nestfarm leaves it alone.",
			     path,
			     virStoragePoolGetName (pool),
			     pool_name);
		return FALSE;
	}
	*vol = virStorageVolLookupByPath (conn, path);
	if (*vol != NULL)
		return TRUE;
	virResetLastError ();
	if (virStoragePoolRefresh (pool, 0) < 0)
		return nf_libvirt_set_error (error, "Cannot refresh the storage pool of %s", directory);
	*vol = virStorageVolLookupByPath (conn, path);
	if (*vol == NULL)
		virResetLastError ();
	return TRUE;
}

/* The volume at @path, its pool refreshed when libvirt has not seen it
 * yet; NULL (no error) when there is none. */
static virStorageVolPtr
volume_at (virConnectPtr conn, const gchar *path)
{
	g_autoptr (GError) error = NULL;
	virStorageVolPtr vol = NULL;

	volume_in_pool (conn, path, NULL, &vol, &error);
	return vol;
}

/* By path, refreshing the pool that holds the directory if libvirt has
 * not seen the file yet. */
static virStorageVolPtr
lookup_overlay (virConnectPtr conn, const gchar *path, GError **error)
{
	virStorageVolPtr vol = volume_at (conn, path);

	if (vol == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_LIBVIRT,
			     "The overlay %s is in no active libvirt storage pool; start the pool of its directory.",
			     path);
	return vol;
}

gboolean
nf_storage_delete_overlay (virConnectPtr conn, const gchar *path, const gchar *node, GError **error)
{
	g_autoptr (virStorageVol) vol = NULL;
	g_autofree gchar *owner = NULL;
	struct stat st;

	g_return_val_if_fail (conn != NULL, FALSE);
	g_return_val_if_fail (path != NULL, FALSE);
	g_return_val_if_fail (node != NULL, FALSE);

	/* Already gone is done: a delete retried after a crash succeeds. */
	if (lstat (path, &st) < 0 && errno == ENOENT)
		return TRUE;
	owner = nf_storage_overlay_owner (path);
	if (owner == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "%s is not a nestfarm overlay (it has no %s tag); nestfarm leaves it alone.",
			     path,
			     NF_OVERLAY_XATTR);
		return FALSE;
	}
	if (g_strcmp0 (owner, node) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "%s is the overlay of node %s, not of %s; nestfarm leaves it alone.",
			     path,
			     owner,
			     node);
		return FALSE;
	}
	vol = lookup_overlay (conn, path, error);
	if (vol == NULL)
		return FALSE;
	if (virStorageVolDelete (vol, 0) < 0)
		return nf_libvirt_set_error (error, "cannot delete overlay %s of node %s", path, node);
	return TRUE;
}

/* --- on a host reached only through its libvirt --- */

gchar *
nf_storage_create_overlay_remote (virConnectPtr conn,
				  const gchar *pool_name,
				  const gchar *node,
				  const NfBaseImage *base,
				  guint64 size_bytes,
				  GError **error)
{
	g_autoptr (virStoragePool) pool = NULL;
	g_autoptr (virStorageVol) vol = NULL;

	g_return_val_if_fail (conn != NULL && pool_name != NULL && base != NULL, NULL);

	if (!nf_node_name_parse (node, NULL, NULL, error))
		return NULL;
	pool = nf_storage_lookup_pool (conn, pool_name, error);
	if (pool == NULL)
		return NULL;
	/* libvirt refuses a name its pool has; refresh so it has them all */
	if (virStoragePoolRefresh (pool, 0) < 0)
		virResetLastError ();
	return overlay_volume_create (pool, node, base, size_bytes, &vol, error);
}

gboolean
nf_storage_delete_overlay_remote (virConnectPtr conn,
				  const gchar *pool_name,
				  const gchar *path,
				  const gchar *node,
				  GError **error)
{
	g_autofree gchar *name = g_path_get_basename (path);
	g_autofree gchar *expected = g_strdup_printf ("%s.qcow2", node);

	g_return_val_if_fail (conn != NULL && path != NULL && node != NULL, FALSE);

	if (!g_str_equal (name, expected)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "%s is not the overlay of node %s; nestfarm leaves it alone.",
			     path,
			     node);
		return FALSE;
	}
	return nf_storage_delete_path (conn, pool_name, path, error);
}

gboolean
nf_storage_delete_path (virConnectPtr conn, const gchar *pool_name, const gchar *path, GError **error)
{
	g_autoptr (virStorageVol) vol = NULL;

	if (!volume_in_pool (conn, path, pool_name, &vol, error))
		return FALSE;
	/* already gone: a delete retried after a crash is done */
	if (vol == NULL)
		return TRUE;
	if (virStorageVolDelete (vol, 0) < 0)
		return nf_libvirt_set_error (error, "cannot delete %s", path);
	return TRUE;
}

static gint
append_chunk (virStreamPtr stream, const gchar *data, size_t nbytes, void *opaque)
{
	g_byte_array_append (opaque, (const guint8 *) data, (guint) nbytes);
	return (gint) nbytes;
}

GBytes *
nf_storage_read_path (virConnectPtr conn,
		      const gchar *path,
		      guint64 offset,
		      guint max,
		      guint64 *size,
		      GError **error)
{
	g_autoptr (virStorageVol) vol = volume_at (conn, path);
	g_autoptr (virStream) stream = NULL;
	g_autoptr (GByteArray) bytes = g_byte_array_new ();
	virStorageVolInfo info;
	guint64 length;

	*size = 0;
	if (vol == NULL)
		return g_bytes_new (NULL, 0);
	/* libvirt looks at the file again for its info */
	if (virStorageVolGetInfo (vol, &info) < 0) {
		nf_libvirt_set_error (error, "cannot read the size of %s", path);
		return NULL;
	}
	*size = info.capacity;
	if (offset >= info.capacity || max == 0)
		return g_bytes_new (NULL, 0);
	length = MIN ((guint64) max, info.capacity - offset);
	stream = virStreamNew (conn, 0);
	/* RecvAll aborts the stream itself when it fails */
	if (stream == NULL || virStorageVolDownload (vol, stream, offset, length, 0) < 0 ||
	    virStreamRecvAll (stream, append_chunk, bytes) < 0 || virStreamFinish (stream) < 0) {
		nf_libvirt_set_error (error, "cannot read %s", path);
		return NULL;
	}
	if (bytes->len > length)
		g_byte_array_set_size (bytes, (guint) length);
	return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}
