/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/* Node disks: checked base images, the libvirt storage pool, and each node's
 * qcow2 overlay, tagged so that nestfarm only ever deletes its own. */

typedef enum {
	NF_IMAGE_FORMAT_RAW,
	NF_IMAGE_FORMAT_QCOW2,
} NfImageFormat;

/* A base image, checked: its format is pinned by nestfarm (magic bytes,
 * then qemu-img with that format given), never probed by QEMU. */
typedef struct {
	gchar *path; /* absolute, symlinks resolved: what overlays name */
	NfImageFormat format;
	guint64 virtual_size; /* bytes */
} NfBaseImage;

void nf_base_image_free (NfBaseImage *base);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfBaseImage, nf_base_image_free)
const gchar *nf_image_format_to_string (NfImageFormat format);

/* The xattr that tags an overlay file as nestfarm's: its value is the node
 * name. A volume without it is never removed. */
#define NF_OVERLAY_XATTR "user.nestfarm.node"

/* All calls block: worker threads only. @conn is a live connection. */

/* Where half-made overlays live, inside the image directory (its own
 * libvirt pool, <pool>-staging). */
#define NF_STORAGE_STAGING_DIR ".staging"

/* Where seeds live, inside the image directory (its own libvirt pool,
 * <pool>-seeds). libvirtd rescans every file of the pool a volume is
 * uploaded to after each upload; beside the overlays, whose qcow2 headers
 * it reads, making N seeds cost N^2 header reads. */
#define NF_STORAGE_SEEDS_DIR ".seeds"
gchar *nf_storage_seeds_pool_name (const gchar *pool_name);

/* Deletes every half-made overlay left in staging by a crash; returns how
 * many. */
guint nf_storage_clear_staging (virConnectPtr conn, const gchar *pool_name, GError **error);

/* The dir-type storage pool @pool_name at @path alone, made as below (a
 * remote host's console logs). */
gboolean nf_storage_ensure_one_pool (virConnectPtr conn,
				     const gchar *pool_name,
				     const gchar *path,
				     GError **error);
/* Makes the dir-type storage pool @pool_name at @path if missing (its
 * directory too), its staging pool <pool>-staging at @path/.staging and
 * its seeds pool <pool>-seeds at @path/.seeds, starts them, and marks them autostart. Idempotent.
 * NF_ERROR_EXISTS if a pool of that name exists elsewhere or is not a
 * directory pool. */
gboolean nf_storage_ensure_pool (virConnectPtr conn,
				 const gchar *pool_name,
				 const gchar *path,
				 GError **error);

/* @image: an absolute path, or the name of a volume in @pool_name. Refuses
 * what is not a regular readable file, not qcow2/raw, a qcow2 that names a
 * backing file or an external data file, or a raw file whose size is not a
 * multiple of 512: NF_ERROR_INVALID_ARGUMENT / NF_ERROR_NOT_FOUND. */
NfBaseImage *nf_storage_check_base (virConnectPtr conn,
				    const gchar *pool_name,
				    const gchar *image,
				    GError **error);

/* Makes volume <node>.qcow2 in @pool_name: qcow2 (compat 1.1) over @base
 * with the backing format given explicitly, virtual size max(base,
 * @size_bytes) rounded up to a KiB, tagged with NF_OVERLAY_XATTR = @node
 * (if tagging fails the volume is deleted again). Returns its path. The
 * base is never written, and the cost does not depend on its size.
 * NF_ERROR_EXISTS if a volume or any file has that name already;
 * NF_ERROR_INVALID_ARGUMENT if @node is not a node name. */
gchar *nf_storage_create_overlay (virConnectPtr conn,
				  const gchar *pool_name,
				  const gchar *node,
				  const NfBaseImage *base,
				  guint64 size_bytes,
				  GError **error);
/* Deletes the overlay at @path, through libvirt, only if it carries the
 * tag for @node; an untagged file or another node's overlay is refused
 * with NF_ERROR_NOT_FOUND and left untouched. Nothing at @path is success:
 * a delete retried after a crash completes. */
gboolean nf_storage_delete_overlay (virConnectPtr conn, const gchar *path, const gchar *node, GError **error);
/* The same on a farm host reached only through its libvirt: the volume
 * <node>.qcow2 made in @pool_name itself (its directory is nestfarm's own,
 * hosts/NAME under the storage directory: what is in it is nestfarm's, so
 * no tag), NF_ERROR_EXISTS where there is one. Its path there. */
gchar *nf_storage_create_overlay_remote (virConnectPtr conn,
					 const gchar *pool_name,
					 const gchar *node,
					 const NfBaseImage *base,
					 guint64 size_bytes,
					 GError **error);
/* Deletes @node's overlay at @path there: only a file named <node>.qcow2
 * in @pool_name (NF_ERROR_NOT_FOUND otherwise); nothing there is success. */
gboolean nf_storage_delete_overlay_remote (virConnectPtr conn,
					   const gchar *pool_name,
					   const gchar *path,
					   const gchar *node,
					   GError **error);
/* Bytes of the file at @path from @offset (at most @max), downloaded
 * through the libvirt storage pool that holds it, and its length now
 * (*@size); no such file (or no pool holding its directory) is empty. */
GBytes *nf_storage_read_path (virConnectPtr conn,
			      const gchar *path,
			      guint64 offset,
			      guint max,
			      guint64 *size,
			      GError **error);
/* Deletes the file at @path through the active libvirt storage pool that
 * holds its directory, which must be @pool_name (refreshed if it has not
 * seen the file yet); nothing there is success, no such pool an error. */
gboolean nf_storage_delete_path (virConnectPtr conn,
				 const gchar *pool_name,
				 const gchar *path,
				 GError **error);
/* The node an overlay file is tagged for, or NULL if untagged. */
gchar *nf_storage_overlay_owner (const gchar *path);

/* Seeds (nf-storage-seed.c): volume <node>.seed.iso in the seeds pool of
 * the node's storage pool (earlier builds put them in the storage pool
 * itself: removals look in both), tagged by the ISO's owner tag "nestfarm:<node>". */
#define NF_STORAGE_SEED_SUFFIX ".seed.iso"
gchar *nf_storage_seed_name (const gchar *node);
gchar *nf_storage_seed_owner_tag (const gchar *node);
/* Makes the seed volume of @node from the ISO @iso (uploaded through a
 * libvirt stream) and returns its path. A volume of that name that is
 * @node's own seed (left by a crash) is replaced; any other is
 * NF_ERROR_EXISTS and left alone. Nothing is left when it fails. */
gchar *nf_storage_seed_put (virConnectPtr conn,
			    const gchar *pool_name,
			    const gchar *node,
			    GBytes *iso,
			    GError **error);
/* The owner tag of the seed ISO in @vol (read through a stream), or NULL
 * and an error when it is not a nestfarm seed. */
gchar *nf_storage_seed_read_owner (virConnectPtr conn, virStorageVolPtr vol, GError **error);
/* Deletes the seed volume at @path only if its ISO names @node; another
 * volume is NF_ERROR_NOT_FOUND and left alone; no volume there is
 * success. */
gboolean nf_storage_seed_delete (virConnectPtr conn, const gchar *path, const gchar *node, GError **error);

/* Base images on another host (nf-storage-base.c). The copy of the base
 * image @base (checked on this machine: nf_storage_check_base) in storage
 * pool @pool_name of the host behind @conn: its path there, which overlays
 * on that host name as their backing file (with @base's format). The copy
 * is volume base-<first 20 hex digits of the file's SHA-256>.<qcow2|raw>,
 * uploaded through a libvirt stream, read back through another and
 * compared with the local file's hash, then marked by the empty volume
 * base-<hash>.verified; only the two together are a copy, so one that is
 * there is never uploaded again, and an image without its marker (a crash
 * during the upload) is deleted and uploaded again. Nothing is left when
 * it fails (a mismatch read back is NF_ERROR_FAILED naming host, pool and
 * volume; no pool @pool_name is NF_ERROR_NOT_FOUND). The copy is mode 0644
 * and is never written: nodes write only their overlays over it. Reads
 * the whole file twice and the copy once; keeps no state (callers cache
 * per host and keep two calls for one host and image apart). */
gchar *nf_storage_base_copy (virConnectPtr conn,
			     const gchar *pool_name,
			     const NfBaseImage *base,
			     GError **error);

G_END_DECLS
