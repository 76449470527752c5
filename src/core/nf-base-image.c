/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-storage"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-storage.h"
#include "nf-storage-private.h"

/* Base images: the format is pinned by nestfarm from the magic bytes,
 * then checked by qemu-img with that format given; never probed. */

/* qemu-img info reads a header; anything slower is a hung file system. */
#define NF_QEMU_IMG_TIMEOUT_S 60

/* Formats QEMU would recognise if it were left to probe. A base that
 * looks like one of these is refused rather than read as raw. */
static const struct {
	goffset offset;
	const gchar *magic;
	gsize length;
	const gchar *name;
} foreign_formats[] = {
	{0, "KDMV", 4, "VMDK"},
	{0, "COWD", 4, "VMDK"},
	{0, "# Disk DescriptorFile", 21, "VMDK"},
	{0, "vhdxfile", 8, "VHDX"},
	{0, "conectix", 8, "VHD"},
	{0, "QED\0", 4, "QED"},
	{0, "LUKS\xba\xbe", 6, "LUKS"},
	{0, "OOOM", 4, "COW"},
	{0, "Bochs Virtual HD Image", 22, "Bochs"},
	{0, "WithoutFreeSpace", 16, "Parallels"},
	{0, "WithouFreSpacExt", 16, "Parallels"},
	{0x40, "\x7f\x10\xda\xbe", 4, "VDI"},
};

#define QCOW_MAGIC "QFI\xfb"

void
nf_base_image_free (NfBaseImage *base)
{
	if (base == NULL)
		return;
	g_free (base->path);
	g_free (base);
}

const gchar *
nf_image_format_to_string (NfImageFormat format)
{
	switch (format) {
	case NF_IMAGE_FORMAT_RAW:
		return "raw";
	case NF_IMAGE_FORMAT_QCOW2:
		return "qcow2";
	default:
		g_return_val_if_reached (NULL);
	}
}

typedef struct {
	GAsyncResult *result;
	gboolean timed_out;
	GSubprocess *process;
} QemuImgRun;

static void
qemu_img_done (GObject *source, GAsyncResult *result, gpointer data)
{
	QemuImgRun *run = data;

	run->result = g_object_ref (result);
}

static gboolean
qemu_img_timeout (gpointer data)
{
	QemuImgRun *run = data;

	run->timed_out = TRUE;
	g_subprocess_force_exit (run->process);
	return G_SOURCE_REMOVE;
}

/* Runs qemu-img to the end, bounded in time; its stdout, or NULL. Works
 * in any thread: it iterates a private main context. */
static gchar *
qemu_img_run (const gchar *const *argv, GError **error)
{
	g_autoptr (GMainContext) context = g_main_context_new ();
	g_autoptr (GSubprocess) process = NULL;
	g_autoptr (GSource) timeout = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	QemuImgRun run = {NULL, FALSE, NULL};

	process = g_subprocess_newv (argv,
				     G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				     &error_local);
	if (process == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot run qemu-img: %s",
			     error_local->message);
		return NULL;
	}
	run.process = process;

	g_main_context_push_thread_default (context);
	g_subprocess_communicate_utf8_async (process, NULL, NULL, qemu_img_done, &run);
	timeout = g_timeout_source_new_seconds (NF_QEMU_IMG_TIMEOUT_S);
	g_source_set_callback (timeout, qemu_img_timeout, &run, NULL);
	g_source_attach (timeout, context);
	while (run.result == NULL)
		g_main_context_iteration (context, TRUE);
	g_source_destroy (timeout);
	g_main_context_pop_thread_default (context);

	if (!g_subprocess_communicate_utf8_finish (process, run.result, &out, &err, &error_local)) {
		g_object_unref (run.result);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot read from qemu-img: %s",
			     error_local->message);
		return NULL;
	}
	g_object_unref (run.result);
	if (run.timed_out) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "qemu-img did not finish within %d s; check the file system holding the image.",
			     NF_QEMU_IMG_TIMEOUT_S);
		return NULL;
	}
	if (!g_subprocess_get_successful (process)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "%s",
			     err != NULL && err[0] != '\0' ? g_strstrip (err) : "qemu-img failed");
		return NULL;
	}
	return g_steal_pointer (&out);
}

static gboolean
has_magic (const guint8 *header, gsize header_len, goffset offset, const gchar *magic, gsize length)
{
	return (gsize) offset + length <= header_len && memcmp (header + offset, magic, length) == 0;
}

/* Pins the format from the first bytes; QEMU is never asked to guess. */
static gboolean
sniff_format (gint fd, const struct stat *st, const gchar *path, NfImageFormat *format, GError **error)
{
	guint8 header[512] = {0};
	guint8 footer[8] = {0};
	gssize header_len;

	header_len = pread (fd, header, sizeof (header), 0);
	if (header_len < 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Cannot read the base image %s: %s.",
			     path,
			     g_strerror (errno));
		return FALSE;
	}
	/* A fixed VHD has its only header at the end, in the last sector. */
	if (st->st_size >= 512 && pread (fd, footer, sizeof (footer), st->st_size - 512) == sizeof (footer) &&
	    memcmp (footer, "conectix", 8) == 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s is a VHD image; nestfarm takes qcow2 or raw (convert it with qemu-img convert -O qcow2).",
			     path);
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS (foreign_formats); i++) {
		if (!has_magic (header,
				(gsize) header_len,
				foreign_formats[i].offset,
				foreign_formats[i].magic,
				foreign_formats[i].length))
			continue;
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s is a %s image; nestfarm takes qcow2 or raw (convert it with qemu-img convert -O qcow2).",
			     path,
			     foreign_formats[i].name);
		return FALSE;
	}
	if (has_magic (header, (gsize) header_len, 0, QCOW_MAGIC, 4)) {
		guint32 version = 0;

		if (header_len >= 8)
			version = ((guint32) header[4] << 24) | ((guint32) header[5] << 16) |
				  ((guint32) header[6] << 8) | header[7];
		if (version != 2 && version != 3) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The base image %s is qcow version %u; nestfarm takes qcow2 (convert it with qemu-img convert -O qcow2).",
				     path,
				     version);
			return FALSE;
		}
		*format = NF_IMAGE_FORMAT_QCOW2;
		return TRUE;
	}
	*format = NF_IMAGE_FORMAT_RAW;
	return TRUE;
}

static JsonObject *
json_member_object (JsonObject *object, const gchar *name)
{
	JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* What qemu-img, with the pinned format, says of @base: its JSON object,
 * kept in @parser. */
static JsonObject *
base_info (NfBaseImage *base, JsonParser *parser, GError **error)
{
	const gchar *format = nf_image_format_to_string (base->format);
	const gchar *argv[] =
		{"qemu-img", "info", "--force-share", "--output=json", "-f", format, base->path, NULL};
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *out = NULL;

	out = qemu_img_run (argv, &error_local);
	if (out == NULL) {
		if (g_error_matches (error_local, NF_ERROR, NF_ERROR_INVALID_ARGUMENT))
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The base image %s does not open as %s: %s",
				     base->path,
				     format,
				     error_local->message);
		else
			g_propagate_error (error, g_steal_pointer (&error_local));
		return NULL;
	}
	if (!json_parser_load_from_data (parser, out, -1, &error_local) ||
	    json_parser_get_root (parser) == NULL ||
	    !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "qemu-img gave unreadable output for %s.",
			     base->path);
		return NULL;
	}
	return json_node_get_object (json_parser_get_root (parser));
}

/* @info opens as @base's format, and stands alone: no backing file, no
 * external data, not encrypted, not marked corrupt. */
static gboolean
check_base_info (NfBaseImage *base, JsonObject *info, GError **error)
{
	const gchar *format = nf_image_format_to_string (base->format);
	JsonObject *specific;

	if (g_strcmp0 (json_object_get_string_member_with_default (info, "format", NULL), format) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s does not open as %s.",
			     base->path,
			     format);
		return FALSE;
	}
	if (json_object_has_member (info, "backing-filename") ||
	    json_object_has_member (info, "full-backing-filename")) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s itself has a backing file; flatten it first (qemu-img convert -O qcow2).",
			     base->path);
		return FALSE;
	}
	specific = json_member_object (json_member_object (info, "format-specific"), "data");
	if (specific != NULL && json_object_has_member (specific, "data-file")) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s keeps its data in an external file; convert it to a self-contained image (qemu-img convert -O qcow2).",
			     base->path);
		return FALSE;
	}
	if (json_object_get_boolean_member_with_default (info, "encrypted", FALSE)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s is encrypted; nestfarm needs an unencrypted image.",
			     base->path);
		return FALSE;
	}
	if (specific != NULL && json_object_get_boolean_member_with_default (specific, "corrupt", FALSE)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s is marked corrupt; repair it with qemu-img check -r all.",
			     base->path);
		return FALSE;
	}
	return TRUE;
}

/* qemu-img with the pinned format: the image must open as that format,
 * and a qcow2 must stand alone (no backing file, no external data). */
static gboolean
inspect_base (NfBaseImage *base, GError **error)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	JsonObject *info = base_info (base, parser, error);
	gint64 virtual_size;

	if (info == NULL || !check_base_info (base, info, error))
		return FALSE;
	virtual_size = json_object_get_int_member_with_default (info, "virtual-size", 0);
	if (virtual_size <= 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s has no size.",
			     base->path);
		return FALSE;
	}
	base->virtual_size = (guint64) virtual_size;
	return TRUE;
}

/* An absolute path as it is, a volume name through the pool. */
static gchar *
resolve_image (virConnectPtr conn, const gchar *pool_name, const gchar *image, GError **error)
{
	g_autoptr (virStoragePool) pool = NULL;
	g_autoptr (virStorageVol) vol = NULL;
	g_autofree gchar *path = NULL;
	char resolved[PATH_MAX];

	if (image == NULL || image[0] == '\0') {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "No base image given; give the path of a qcow2 or raw image.");
		return NULL;
	}
	if (g_path_is_absolute (image)) {
		path = g_strdup (image);
	} else if (strchr (image, '/') != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image '%s' is a relative path; give an absolute path or the name of a volume in pool %s.",
			     image,
			     pool_name);
		return NULL;
	} else {
		pool = nf_storage_lookup_pool (conn, pool_name, error);
		if (pool == NULL)
			return NULL;
		vol = virStorageVolLookupByName (pool, image);
		if (vol == NULL) {
			nf_libvirt_set_error (error,
					      "There is no base image '%s' in storage pool %s",
					      image,
					      pool_name);
			return NULL;
		}
		path = virStorageVolGetPath (vol);
		if (path == NULL) {
			nf_libvirt_set_error (error, "cannot find the file of volume %s", image);
			return NULL;
		}
	}
	/* Pinned to the real file: a symlink retargeted later must not change
	 * what the overlays read. */
	if (realpath (path, resolved) == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     errno == ENOENT ? NF_ERROR_NOT_FOUND : NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s cannot be used: %s; give the path of a qcow2 or raw image file, or "
			     "the name of a volume in storage pool %s.",
			     path,
			     g_strerror (errno),
			     pool_name);
		return NULL;
	}
	return g_strdup (resolved);
}

NfBaseImage *
nf_storage_check_base (virConnectPtr conn, const gchar *pool_name, const gchar *image, GError **error)
{
	g_autoptr (NfBaseImage) base = g_new0 (NfBaseImage, 1);
	struct stat st;
	gint fd;
	gboolean sniffed;

	g_return_val_if_fail (conn != NULL, NULL);
	g_return_val_if_fail (pool_name != NULL, NULL);

	base->path = resolve_image (conn, pool_name, image, error);
	if (base->path == NULL)
		return NULL;
	/* O_NONBLOCK: a FIFO must not hang the open. */
	fd = open (base->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		g_set_error (error,
			     NF_ERROR,
			     errno == ENOENT ? NF_ERROR_NOT_FOUND : NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s cannot be read: %s.",
			     base->path,
			     g_strerror (errno));
		return NULL;
	}
	if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)) {
		close (fd);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s is not a regular file; give a qcow2 or raw image file.",
			     base->path);
		return NULL;
	}
	sniffed = sniff_format (fd, &st, base->path, &base->format, error);
	close (fd);
	if (!sniffed)
		return NULL;
	if (st.st_size == 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s is empty; give a qcow2 or raw image with an operating system.",
			     base->path);
		return NULL;
	}
	if (base->format == NF_IMAGE_FORMAT_RAW && st.st_size % 512 != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The base image %s is not qcow2 and, as raw, its size (%" G_GINT64_FORMAT
			     " bytes) is not a whole number of 512-byte sectors.",
			     base->path,
			     (gint64) st.st_size);
		return NULL;
	}
	if (!inspect_base (base, error))
		return NULL;
	return g_steal_pointer (&base);
}
