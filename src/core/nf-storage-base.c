/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-storage"

/* A golden base image copied to another libvirt host, once: a volume named
 * for its SHA-256, uploaded and read back through the host's libvirt
 * connection (volumes and streams, never a file call on that host), and
 * counted as there only beside its marker volume, which is made after the
 * read-back matched. An image volume without its marker (a crash during
 * the upload) goes and is uploaded again. Like nf-storage-seed.c, this
 * keeps no state: the engine caches and locks per host. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-storage.h"
#include "nf-storage-private.h"
#include "nf-undo-private.h"

#define CHUNK_BYTES (1024 * 1024)
/* Of the SHA-256's 64 hex digits, the ones a copy's name carries. */
#define NAME_HASH_CHARS 20

/* One copy being made: what every step names in its errors. */
typedef struct {
	virConnectPtr conn;
	virStoragePoolPtr pool;
	const NfBaseImage *base;
	gchar *sha256; /* of the local file, all 64 digits */
	guint64 size;  /* the local file's bytes */
	gchar *name;   /* base-<hash>.<format> */
	gchar *marker; /* base-<hash>.verified */
	gchar *where;  /* "storage pool P at URI" */
} Copy;

static void
copy_clear (Copy *copy)
{
	if (copy->pool != NULL)
		virStoragePoolFree (copy->pool);
	g_free (copy->sha256);
	g_free (copy->name);
	g_free (copy->marker);
	g_free (copy->where);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Copy, copy_clear)

/* The SHA-256 of the file behind @fd, read in 1 MiB chunks from the
 * start, and how many bytes it had. */
static gboolean
hash_fd (gint fd, const gchar *path, gchar **sha256, guint64 *size, GError **error)
{
	g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
	g_autofree guint8 *chunk = g_malloc (CHUNK_BYTES);
	gssize got;

	*size = 0;
	while ((got = read (fd, chunk, CHUNK_BYTES)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "Cannot read the base image %s: %s; check the file and its file system.",
				     path,
				     g_strerror (errno));
			return FALSE;
		}
		g_checksum_update (sum, chunk, got);
		*size += (guint64) got;
	}
	*sha256 = g_strdup (g_checksum_get_string (sum));
	return TRUE;
}

static gint
open_base (const gchar *path, GError **error)
{
	gint fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0)
		g_set_error (error,
			     NF_ERROR,
			     errno == ENOENT ? NF_ERROR_NOT_FOUND : NF_ERROR_FAILED,
			     "Cannot open the base image %s: %s; check that it is there and readable.",
			     path,
			     g_strerror (errno));
	return fd;
}

/* libvirt's volume of that name in the copy's pool, or NULL (no error). */
static virStorageVolPtr
lookup_volume (Copy *copy, const gchar *name)
{
	virStorageVolPtr vol = virStorageVolLookupByName (copy->pool, name);

	if (vol == NULL)
		virResetLastError ();
	return vol;
}

/* Deletes @vol, for an undo or a stale copy. */
static gboolean
delete_volume (Copy *copy, virStorageVolPtr vol, GError **error)
{
	g_autofree gchar *name = g_strdup (virStorageVolGetName (vol));

	if (virStorageVolDelete (vol, 0) == 0)
		return TRUE;
	return nf_libvirt_set_error (error,
				     "cannot delete volume %s of %s; delete it by hand",
				     name,
				     copy->where);
}

/* The image volume as a whole copy: libvirt sees a file of the base's
 * virtual size (its format read from the header after the upload) or, while
 * it still labels it raw, of the file's bytes; never an empty one. */
static gboolean
image_is_whole (virStorageVolPtr vol, const Copy *copy)
{
	virStorageVolInfo info;

	if (virStorageVolGetInfo (vol, &info) < 0) {
		virResetLastError ();
		return FALSE;
	}
	return info.allocation > 0 && info.capacity > 0 &&
	       (info.capacity == copy->base->virtual_size || info.capacity == copy->size);
}

/* The verified copy's volume if it is there; else clears what a crash
 * left (the marker first: an image without it is never taken) and NULL. */
static virStorageVolPtr
find_verified (Copy *copy, GError **error)
{
	g_autoptr (virStorageVol) image = lookup_volume (copy, copy->name);
	g_autoptr (virStorageVol) marker = lookup_volume (copy, copy->marker);

	if (image != NULL && marker != NULL && image_is_whole (image, copy))
		return g_steal_pointer (&image);
	if (marker != NULL && !delete_volume (copy, marker, error))
		return NULL;
	if (image != NULL)
		delete_volume (copy, image, error);
	return NULL;
}

static virStorageVolPtr
create_volume (Copy *copy, const gchar *name, guint64 capacity, GError **error)
{
	g_autofree gchar *xml = NULL;
	virStorageVolPtr vol;

	/* raw: libvirt only makes the file; it reads a qcow2's header after
	 * the upload. 0644: QEMU of any user reads a backing file. */
	xml = g_markup_printf_escaped ("<volume><name>%s</name>"
				       "<capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>"
				       "<allocation unit='bytes'>0</allocation>"
				       "<target><format type='raw'/><permissions><mode>0644</mode></permissions></target>"
				       "</volume>",
				       name,
				       capacity);
	vol = virStorageVolCreateXML (copy->pool, xml, 0);
	if (vol == NULL)
		nf_libvirt_set_error (error, "cannot make volume %s in %s", name, copy->where);
	return vol;
}

static gint
send_chunk (virStreamPtr stream, gchar *data, size_t nbytes, void *opaque)
{
	gint fd = *(gint *) opaque;
	gssize got;

	do
		got = read (fd, data, MIN (nbytes, CHUNK_BYTES));
	while (got < 0 && errno == EINTR);
	return (gint) got;
}

/* The local file, from its start, into @vol through a stream. */
static gboolean
upload (Copy *copy, virStorageVolPtr vol, gint fd, GError **error)
{
	g_autoptr (virStream) stream = virStreamNew (copy->conn, 0);

	if (lseek (fd, 0, SEEK_SET) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot read the base image %s again: %s.",
			     copy->base->path,
			     g_strerror (errno));
		return FALSE;
	}
	/* SendAll aborts the stream itself when it fails. */
	if (stream == NULL || virStorageVolUpload (vol, stream, 0, copy->size, 0) < 0 ||
	    virStreamSendAll (stream, send_chunk, &fd) < 0 || virStreamFinish (stream) < 0)
		return nf_libvirt_set_error (error,
					     "cannot upload %s to volume %s of %s",
					     copy->base->path,
					     copy->name,
					     copy->where);
	return TRUE;
}

typedef struct {
	GChecksum *sum;
	guint64 bytes;
} ReadBack;

static gint
receive_chunk (virStreamPtr stream, const gchar *data, size_t nbytes, void *opaque)
{
	ReadBack *read_back = opaque;

	g_checksum_update (read_back->sum, (const guchar *) data, nbytes);
	read_back->bytes += nbytes;
	return (gint) nbytes;
}

/* Reads @vol back through a stream: its bytes must hash as the local file's. */
static gboolean
verify (Copy *copy, virStorageVolPtr vol, GError **error)
{
	g_autoptr (virStream) stream = virStreamNew (copy->conn, 0);
	g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
	ReadBack read_back = {sum, 0};

	/* RecvAll aborts the stream itself when it fails. */
	if (stream == NULL || virStorageVolDownload (vol, stream, 0, 0, 0) < 0 ||
	    virStreamRecvAll (stream, receive_chunk, &read_back) < 0 || virStreamFinish (stream) < 0)
		return nf_libvirt_set_error (error,
					     "cannot read back volume %s of %s",
					     copy->name,
					     copy->where);
	if (read_back.bytes != copy->size || g_strcmp0 (g_checksum_get_string (sum), copy->sha256) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The copy of %s in volume %s of %s read back differently (%" G_GUINT64_FORMAT
			     " bytes, SHA-256 %s; expected %" G_GUINT64_FORMAT
			     ", %s); the copy goes; check the host's disk and try again.",
			     copy->base->path,
			     copy->name,
			     copy->where,
			     read_back.bytes,
			     g_checksum_get_string (sum),
			     copy->size,
			     copy->sha256);
		return FALSE;
	}
	return TRUE;
}

static void
volume_free (gpointer vol)
{
	virStorageVolFree (vol);
}

static gboolean
undo_volume (gpointer data, GError **error)
{
	virStorageVolPtr vol = data;

	if (virStorageVolDelete (vol, 0) == 0)
		return TRUE;
	return nf_libvirt_set_error (error,
				     "cannot delete volume %s; delete it with virsh vol-delete",
				     virStorageVolGetName (vol));
}

static gboolean
check_whole (Copy *copy, virStorageVolPtr vol, GError **error)
{
	if (image_is_whole (vol, copy))
		return TRUE;
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_FAILED,
		     "libvirt does not see volume %s of %s as an image of %" G_GUINT64_FORMAT
		     " bytes; check the host's storage pool.",
		     copy->name,
		     copy->where,
		     copy->base->virtual_size);
	return FALSE;
}

/* Uploads, reads back, checks, then marks: the image volume, or NULL and
 * nothing left. */
static virStorageVolPtr
upload_verified (Copy *copy, gint fd, GError **error)
{
	g_autoptr (NfUndo) undo = nf_undo_new ();
	g_autoptr (virStorageVol) image = NULL;
	g_autoptr (virStorageVol) marker = NULL;

	image = create_volume (copy, copy->name, copy->size, error);
	if (image == NULL)
		return NULL;
	virStorageVolRef (image);
	nf_undo_push (undo, undo_volume, image, volume_free);
	if (upload (copy, image, fd, error) && verify (copy, image, error) &&
	    check_whole (copy, image, error))
		marker = create_volume (copy, copy->marker, 0, error);
	if (marker == NULL) {
		nf_undo_unwind (undo, error);
		return NULL;
	}
	return g_steal_pointer (&image);
}

static gboolean
copy_init (Copy *copy, virConnectPtr conn, const gchar *pool_name, gint fd, GError **error)
{
	const gchar *format = nf_image_format_to_string (copy->base->format);
	g_autofree gchar *uri = NULL;
	g_autofree gchar *prefix = NULL;

	copy->conn = conn;
	uri = virConnectGetURI (conn);
	if (uri == NULL)
		virResetLastError ();
	copy->where = g_strdup_printf ("storage pool %s at %s", pool_name, uri != NULL ? uri : "the host");
	if (!hash_fd (fd, copy->base->path, &copy->sha256, &copy->size, error))
		return FALSE;
	prefix = g_strdup_printf ("base-%.*s", NAME_HASH_CHARS, copy->sha256);
	copy->name = g_strconcat (prefix, ".", format, NULL);
	copy->marker = g_strconcat (prefix, ".verified", NULL);
	copy->pool = nf_storage_lookup_pool (conn, pool_name, error);
	if (copy->pool == NULL)
		g_prefix_error (error, "Host %s: ", uri != NULL ? uri : "?");
	return copy->pool != NULL;
}

gchar *
nf_storage_base_copy (virConnectPtr conn, const gchar *pool_name, const NfBaseImage *base, GError **error)
{
	g_auto (Copy) copy = {.base = base};
	g_autoptr (virStorageVol) image = NULL;
	g_autoptr (GError) error_local = NULL;
	gint fd;
	gchar *path;

	g_return_val_if_fail (conn != NULL && pool_name != NULL && base != NULL && base->path != NULL, NULL);

	fd = open_base (base->path, error);
	if (fd < 0)
		return NULL;
	if (copy_init (&copy, conn, pool_name, fd, error)) {
		image = find_verified (&copy, &error_local);
		if (image == NULL && error_local == NULL)
			image = upload_verified (&copy, fd, &error_local);
		if (error_local != NULL)
			g_propagate_error (error, g_steal_pointer (&error_local));
	}
	g_close (fd, NULL);
	if (image == NULL)
		return NULL;
	path = virStorageVolGetPath (image);
	if (path == NULL)
		nf_libvirt_set_error (error, "cannot find the path of volume %s of %s", copy.name, copy.where);
	return path;
}
