/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-storage"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-storage.h"
#include "nf-test-util.h"

/* Against the host's real libvirtd (qemu:///system), in a pool of its own
 * in a temporary directory; everything made is removed at the end. */

#define POOL_PREFIX "nf-test-storage-"
#define GIB         (G_GUINT64_CONSTANT (1) << 30)

static struct {
	NfConnection *connection;
	virConnectPtr conn;
	gchar *tmpdir;
	gchar *pool_name;
	gchar *pool_dir;
	gchar *image; /* NF_TEST_IMAGE */
} fx;

static gchar *
tmp_path (const gchar *name)
{
	return g_build_filename (fx.tmpdir, name, NULL);
}

static void
run (const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	g_autoptr (GError) error = NULL;
	g_autofree gchar *err = NULL;
	gint status = 0;
	va_list args;

	va_start (args, first);
	for (const gchar *arg = first; arg != NULL; arg = va_arg (args, const gchar *))
		g_ptr_array_add (argv, (gpointer) arg);
	va_end (args);
	g_ptr_array_add (argv, NULL);
	g_spawn_sync (NULL,
		      (gchar **) argv->pdata,
		      NULL,
		      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
		      NULL,
		      NULL,
		      NULL,
		      &err,
		      &status,
		      &error);
	g_assert_no_error (error);
	if (!g_spawn_check_wait_status (status, NULL))
		g_error ("%s failed: %s", first, err);
}

static JsonObject *
qemu_img_info (JsonParser *parser, const gchar *path)
{
	const gchar *argv[] = {"qemu-img", "info", "-U", "--output=json", path, NULL};
	g_autoptr (GError) error = NULL;
	g_autofree gchar *out = NULL;
	gint status = 0;

	g_spawn_sync (NULL,
		      (gchar **) argv,
		      NULL,
		      G_SPAWN_SEARCH_PATH,
		      NULL,
		      NULL,
		      &out,
		      NULL,
		      &status,
		      &error);
	g_assert_no_error (error);
	g_assert_true (g_spawn_check_wait_status (status, NULL));
	g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
	g_assert_no_error (error);
	return json_node_get_object (json_parser_get_root (parser));
}

static gchar *
sha256_of (const gchar *path)
{
	g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
	g_autoptr (GMappedFile) mapped = NULL;
	g_autoptr (GError) error = NULL;

	mapped = g_mapped_file_new (path, FALSE, &error);
	g_assert_no_error (error);
	g_checksum_update (checksum,
			   (const guchar *) g_mapped_file_get_contents (mapped),
			   g_mapped_file_get_length (mapped));
	return g_strdup (g_checksum_get_string (checksum));
}

static gchar *
make_sparse_raw (const gchar *name, guint64 size)
{
	gchar *path = tmp_path (name);
	g_autofree gchar *size_text = g_strdup_printf ("%" G_GUINT64_FORMAT, size);

	run ("truncate", "-s", size_text, path, NULL);
	return path;
}

static gchar *
tag_of (const gchar *path)
{
	gchar value[256];
	gssize length = lgetxattr (path, NF_OVERLAY_XATTR, value, sizeof (value));

	return length > 0 ? g_strndup (value, (gsize) length) : NULL;
}

static void
refresh_pool (void)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (fx.conn, fx.pool_name);

	g_assert_nonnull (pool);
	g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
}

/* ---- pool -------------------------------------------------------------- */

static void
test_storage_ensure_pool (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (virStoragePool) pool = NULL;
	g_autofree gchar *elsewhere = tmp_path ("elsewhere");
	gint autostart = 0;

	/* Made (with its missing directory), then found as it is. */
	for (guint i = 0; i < 2; i++) {
		g_assert_true (nf_storage_ensure_pool (fx.conn, fx.pool_name, fx.pool_dir, &error));
		g_assert_no_error (error);
	}
	g_assert_true (g_file_test (fx.pool_dir, G_FILE_TEST_IS_DIR));
	pool = virStoragePoolLookupByName (fx.conn, fx.pool_name);
	g_assert_nonnull (pool);
	g_assert_cmpint (virStoragePoolIsActive (pool), ==, 1);
	g_assert_cmpint (virStoragePoolIsPersistent (pool), ==, 1);
	g_assert_cmpint (virStoragePoolGetAutostart (pool, &autostart), ==, 0);
	g_assert_cmpint (autostart, ==, 1);

	/* Stopped pools are started again. */
	g_assert_cmpint (virStoragePoolDestroy (pool), ==, 0);
	g_assert_true (nf_storage_ensure_pool (fx.conn, fx.pool_name, fx.pool_dir, &error));
	g_assert_no_error (error);
	g_assert_cmpint (virStoragePoolIsActive (pool), ==, 1);

	/* The same name elsewhere is somebody else's pool. */
	g_assert_false (nf_storage_ensure_pool (fx.conn, fx.pool_name, elsewhere, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_test_message ("%s", error->message);
	g_assert_false (g_file_test (elsewhere, G_FILE_TEST_EXISTS));
	g_clear_error (&error);

	g_assert_false (nf_storage_ensure_pool (fx.conn, fx.pool_name, "images", &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
}

/* ---- base images ------------------------------------------------------- */

static void
test_storage_base_qcow2 (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfBaseImage) base = NULL;
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autofree gchar *real = realpath (fx.image, NULL);
	JsonObject *info;

	base = nf_storage_check_base (fx.conn, fx.pool_name, fx.image, &error);
	g_assert_no_error (error);
	g_assert_nonnull (base);
	g_assert_cmpint (base->format, ==, NF_IMAGE_FORMAT_QCOW2);
	g_assert_cmpstr (base->path, ==, real);
	info = qemu_img_info (parser, fx.image);
	g_assert_cmpuint (base->virtual_size,
			  ==,
			  (guint64) json_object_get_int_member (info, "virtual-size"));
}

static void
test_storage_base_raw (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfBaseImage) base = NULL;
	g_autoptr (NfBaseImage) by_name = NULL;
	g_autofree gchar *path = make_sparse_raw ("disk.raw", 8 * 1024 * 1024);
	g_autofree gchar *in_pool = g_build_filename (fx.pool_dir, "base-volume.img", NULL);
	g_autofree gchar *link = tmp_path ("link-to-disk.raw");

	base = nf_storage_check_base (fx.conn, fx.pool_name, path, &error);
	g_assert_no_error (error);
	g_assert_cmpint (base->format, ==, NF_IMAGE_FORMAT_RAW);
	g_assert_cmpuint (base->virtual_size, ==, 8 * 1024 * 1024);
	g_clear_pointer (&base, nf_base_image_free);

	/* A symlink is pinned to the file it names. */
	g_assert_cmpint (symlink (path, link), ==, 0);
	base = nf_storage_check_base (fx.conn, fx.pool_name, link, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (base->path, ==, path);
	g_assert_cmpint (g_unlink (link), ==, 0);

	/* A volume of the pool, by name. */
	run ("truncate", "-s", "1M", in_pool, NULL);
	refresh_pool ();
	by_name = nf_storage_check_base (fx.conn, fx.pool_name, "base-volume.img", &error);
	g_assert_no_error (error);
	g_assert_cmpstr (by_name->path, ==, in_pool);
	g_assert_cmpint (by_name->format, ==, NF_IMAGE_FORMAT_RAW);
	g_assert_cmpint (g_unlink (in_pool), ==, 0);
	refresh_pool ();
	g_assert_cmpint (g_unlink (path), ==, 0);
}

static void
test_storage_base_refused (void)
{
	g_autofree gchar *missing = tmp_path ("missing.qcow2");
	g_autofree gchar *backed = tmp_path ("backed.qcow2");
	g_autofree gchar *backing = make_sparse_raw ("backing.raw", 1024 * 1024);
	g_autofree gchar *with_data = tmp_path ("with-data.qcow2");
	g_autofree gchar *data_file = tmp_path ("with-data.data");
	g_autofree gchar *data_option = g_strdup_printf ("data_file=%s", data_file);
	g_autofree gchar *vmdk = tmp_path ("disk.vmdk");
	g_autofree gchar *vhdx = tmp_path ("disk.vhdx");
	g_autofree gchar *vpc = tmp_path ("disk.vpc");
	g_autofree gchar *qed = tmp_path ("disk.qed");
	g_autofree gchar *odd = make_sparse_raw ("odd.raw", 1000);
	g_autofree gchar *empty = make_sparse_raw ("empty.raw", 0);
	g_autofree gchar *fifo = tmp_path ("fifo");
	struct {
		const gchar *image;
		gint code;
		const gchar *says;
	} table[] = {
		{missing, NF_ERROR_NOT_FOUND, "No such file"},
		{fx.tmpdir, NF_ERROR_INVALID_ARGUMENT, "not a regular file"},
		{fifo, NF_ERROR_INVALID_ARGUMENT, "not a regular file"},
		{backed, NF_ERROR_INVALID_ARGUMENT, "backing file"},
		{with_data, NF_ERROR_INVALID_ARGUMENT, "external file"},
		{vmdk, NF_ERROR_INVALID_ARGUMENT, "VMDK"},
		{vhdx, NF_ERROR_INVALID_ARGUMENT, "VHDX"},
		{vpc, NF_ERROR_INVALID_ARGUMENT, "VHD image"},
		{qed, NF_ERROR_INVALID_ARGUMENT, "QED"},
		{odd, NF_ERROR_INVALID_ARGUMENT, "512-byte sectors"},
		{empty, NF_ERROR_INVALID_ARGUMENT, "is empty"},
		{"images/base.qcow2", NF_ERROR_INVALID_ARGUMENT, "relative path"},
		{"", NF_ERROR_INVALID_ARGUMENT, "No base image"},
		{"no-such-volume.qcow2", NF_ERROR_NOT_FOUND, "no-such-volume.qcow2"},
	};

	run ("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", "raw", backed, NULL);
	run ("qemu-img", "create", "-q", "-f", "qcow2", "-o", data_option, with_data, "1M", NULL);
	run ("qemu-img", "create", "-q", "-f", "vmdk", vmdk, "1M", NULL);
	run ("qemu-img", "create", "-q", "-f", "vhdx", vhdx, "1M", NULL);
	run ("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", vpc, "1M", NULL);
	run ("qemu-img", "create", "-q", "-f", "qed", qed, "1M", NULL);
	g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfBaseImage) base = NULL;

		base = nf_storage_check_base (fx.conn, fx.pool_name, table[i].image, &error);
		g_assert_null (base);
		g_assert_nonnull (error);
		g_test_message ("%s: %s", table[i].image, error->message);
		g_assert_error (error, NF_ERROR, table[i].code);
		g_assert_nonnull (strstr (error->message, table[i].says));
	}
}

/* ---- overlays ---------------------------------------------------------- */

/* The overlay's chain as libvirt and qemu-img see it: backed by @base
 * with its format given, never probed. */
static virStorageVolPtr
lookup_refreshed (const gchar *path)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (fx.conn, fx.pool_name);

	/* Overlays are renamed into the pool from staging: libvirt lists them
	 * from its next refresh on. */
	g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
	return virStorageVolLookupByPath (fx.conn, path);
}

static void
assert_overlay (const gchar *path, const gchar *node, const NfBaseImage *base, guint64 at_least)
{
	g_autoptr (virStorageVol) vol = lookup_refreshed (path);
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autofree gchar *xml = NULL;
	g_autofree gchar *tag = tag_of (path);
	g_autofree gchar *owner = nf_storage_overlay_owner (path);
	g_autofree gchar *want_path = NULL;
	g_autofree gchar *want_format = NULL;
	const gchar *format = nf_image_format_to_string (base->format);
	JsonObject *info, *specific;
	struct stat st;

	g_assert_nonnull (vol);
	xml = virStorageVolGetXMLDesc (vol, 0);
	g_assert_nonnull (xml);
	want_path = g_markup_printf_escaped ("<backingStore>\n    <path>%s</path>\n    <format type='%s'/>",
					     base->path,
					     format);
	if (strstr (xml, want_path) == NULL)
		g_error ("overlay XML lacks %s:\n%s", want_path, xml);
	want_format = g_strdup_printf ("<target>\n    <path>%s</path>\n    <format type='qcow2'/>", path);
	g_assert_nonnull (strstr (xml, want_format));

	info = qemu_img_info (parser, path);
	g_assert_cmpstr (json_object_get_string_member (info, "format"), ==, "qcow2");
	specific = json_object_get_object_member (json_object_get_object_member (info, "format-specific"),
						  "data");
	g_assert_cmpstr (json_object_get_string_member (specific, "compat"), ==, "1.1");
	g_assert_cmpstr (json_object_get_string_member (info, "backing-filename"), ==, base->path);
	g_assert_cmpstr (json_object_get_string_member (info, "backing-filename-format"), ==, format);
	g_assert_cmpuint ((guint64) json_object_get_int_member (info, "virtual-size"),
			  >=,
			  base->virtual_size);
	g_assert_cmpuint ((guint64) json_object_get_int_member (info, "virtual-size"), >=, at_least);

	g_assert_cmpstr (tag, ==, node);
	g_assert_cmpstr (owner, ==, node);
	/* Only metadata: no data of the base was copied. */
	g_assert_cmpint (lstat (path, &st), ==, 0);
	g_assert_true (S_ISREG (st.st_mode));
	g_assert_cmpint (st.st_size, <, 1024 * 1024);
	g_assert_cmpint (st.st_blocks * 512, <, 1024 * 1024);
}

static void
assert_gone (const gchar *path)
{
	virStorageVolPtr vol = virStorageVolLookupByPath (fx.conn, path);
	g_autoptr (GError) error = NULL;

	g_assert_null (vol);
	nf_libvirt_set_error (&error, "lookup");
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_storage_overlay_qcow2 (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfBaseImage) base = NULL;
	g_autofree gchar *before = sha256_of (fx.image);
	g_autofree gchar *after = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *bigger = NULL;
	g_autofree gchar *again = NULL;
	g_autofree gchar *expected = g_build_filename (fx.pool_dir, "nftest-1.qcow2", NULL);
	struct stat base_before, base_after;

	g_assert_cmpint (stat (fx.image, &base_before), ==, 0);
	base = nf_storage_check_base (fx.conn, fx.pool_name, fx.image, &error);
	g_assert_no_error (error);

	path = nf_storage_create_overlay (fx.conn, fx.pool_name, "nftest-1", base, 0, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (path, ==, expected);
	assert_overlay (path, "nftest-1", base, 0);

	/* Once only. */
	again = nf_storage_create_overlay (fx.conn, fx.pool_name, "nftest-1", base, 0, &error);
	g_assert_null (again);
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_test_message ("%s", error->message);
	g_clear_error (&error);

	/* Larger than the base when asked. */
	bigger = nf_storage_create_overlay (fx.conn,
					    fx.pool_name,
					    "nftest-2",
					    base,
					    base->virtual_size + GIB,
					    &error);
	g_assert_no_error (error);
	assert_overlay (bigger, "nftest-2", base, base->virtual_size + GIB);

	g_assert_true (nf_storage_delete_overlay (fx.conn, path, "nftest-1", &error));
	g_assert_no_error (error);
	assert_gone (path);
	/* Deleting what is gone is done already. */
	g_assert_true (nf_storage_delete_overlay (fx.conn, path, "nftest-1", &error));
	g_assert_no_error (error);
	g_assert_true (nf_storage_delete_overlay (fx.conn, bigger, "nftest-2", &error));
	g_assert_no_error (error);
	assert_gone (bigger);

	/* The base was never written. */
	after = sha256_of (fx.image);
	g_assert_cmpstr (after, ==, before);
	g_assert_cmpint (stat (fx.image, &base_after), ==, 0);
	g_assert_cmpint (base_after.st_mtim.tv_sec, ==, base_before.st_mtim.tv_sec);
	g_assert_cmpint (base_after.st_mtim.tv_nsec, ==, base_before.st_mtim.tv_nsec);
}

/* A 100 GiB base costs what a 1 GiB base does: the overlay holds only
 * metadata. Sizes are asserted, not times. */
static void
test_storage_overlay_sparse_sizes (void)
{
	const struct {
		const gchar *file;
		const gchar *node;
		guint64 size;
	} bases[] = {
		{"base-1g.raw", "nftest-3", GIB},
		{"base-100g.raw", "nftest-4", 100 * GIB},
	};

	for (guint i = 0; i < G_N_ELEMENTS (bases); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (NfBaseImage) base = NULL;
		g_autofree gchar *file = make_sparse_raw (bases[i].file, bases[i].size);
		g_autofree gchar *path = NULL;
		gint64 started;

		base = nf_storage_check_base (fx.conn, fx.pool_name, file, &error);
		g_assert_no_error (error);
		g_assert_cmpint (base->format, ==, NF_IMAGE_FORMAT_RAW);
		g_assert_cmpuint (base->virtual_size, ==, bases[i].size);
		started = g_get_monotonic_time ();
		path = nf_storage_create_overlay (fx.conn, fx.pool_name, bases[i].node, base, 0, &error);
		g_assert_no_error (error);
		g_test_message ("overlay over %" G_GUINT64_FORMAT " GiB made in %.3f s",
				bases[i].size / GIB,
				(g_get_monotonic_time () - started) / (gdouble) G_USEC_PER_SEC);
		assert_overlay (path, bases[i].node, base, bases[i].size);
		g_assert_true (nf_storage_delete_overlay (fx.conn, path, bases[i].node, &error));
		g_assert_no_error (error);
		assert_gone (path);
		g_assert_cmpint (g_unlink (file), ==, 0);
	}
}

/* Nothing nestfarm did not tag is ever deleted. */
static void
test_storage_overlay_untagged (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (NfBaseImage) base = NULL;
	g_autofree gchar *foreign = g_build_filename (fx.pool_dir, "nftest-5.qcow2", NULL);
	g_autofree gchar *made = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *raw = make_sparse_raw ("small.raw", 1024 * 1024);

	base = nf_storage_check_base (fx.conn, fx.pool_name, raw, &error);
	g_assert_no_error (error);

	/* Someone's file with the name nestfarm would use. */
	run ("qemu-img", "create", "-q", "-f", "qcow2", foreign, "1M", NULL);
	g_assert_null (nf_storage_overlay_owner (foreign));
	g_assert_false (nf_storage_delete_overlay (fx.conn, foreign, "nftest-5", &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_test_message ("%s", error->message);
	g_assert_nonnull (strstr (error->message, "not a nestfarm overlay"));
	g_assert_true (g_file_test (foreign, G_FILE_TEST_IS_REGULAR));
	g_clear_error (&error);

	/* Not overwritten either, even before libvirt has seen it. */
	made = nf_storage_create_overlay (fx.conn, fx.pool_name, "nftest-5", base, 0, &error);
	g_assert_null (made);
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_assert_null (nf_storage_overlay_owner (foreign));
	g_clear_error (&error);
	refresh_pool ();
	made = nf_storage_create_overlay (fx.conn, fx.pool_name, "nftest-5", base, 0, &error);
	g_assert_null (made);
	g_assert_error (error, NF_ERROR, NF_ERROR_EXISTS);
	g_clear_error (&error);
	g_assert_cmpint (g_unlink (foreign), ==, 0);
	refresh_pool ();

	/* Another node's overlay is not this node's. */
	path = nf_storage_create_overlay (fx.conn, fx.pool_name, "nftest-6", base, 0, &error);
	g_assert_no_error (error);
	g_assert_false (nf_storage_delete_overlay (fx.conn, path, "nftest-7", &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
	g_clear_error (&error);
	g_assert_true (nf_storage_delete_overlay (fx.conn, path, "nftest-6", &error));
	g_assert_no_error (error);

	/* Not a node name. */
	g_assert_null (nf_storage_create_overlay (fx.conn, fx.pool_name, "../escape", base, 0, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_clear_error (&error);
	g_assert_cmpint (g_unlink (raw), ==, 0);
}

/* ---- set-up ------------------------------------------------------------ */

static void
remove_pool (const gchar *name)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (fx.conn, name);
	virStorageVolPtr *vols = NULL;
	gint n;

	if (pool == NULL) {
		virResetLastError ();
		return;
	}
	n = virStoragePoolListAllVolumes (pool, &vols, 0);
	for (gint i = 0; i < n; i++) {
		g_autofree gchar *path = virStorageVolGetPath (vols[i]);

		g_test_message ("removing leftover %s", path);
		virStorageVolDelete (vols[i], 0);
		virStorageVolFree (vols[i]);
	}
	free (vols);
	virStoragePoolDestroy (pool);
	virStoragePoolUndefine (pool);
	virResetLastError ();
}

/* Pools a crashed run left behind: ours by name, their process gone. */
static void
remove_stale_pools (void)
{
	virStoragePoolPtr *pools = NULL;
	gint n = virConnectListAllStoragePools (fx.conn, &pools, 0);

	for (gint i = 0; i < n; i++) {
		const gchar *name = virStoragePoolGetName (pools[i]);
		guint64 pid = 0;

		g_autofree gchar *base = g_strdup (name);

		/* the staging and seeds pools go with their pool */
		if (g_str_has_suffix (base, "-staging"))
			base[strlen (base) - strlen ("-staging")] = '\0';
		if (g_str_has_suffix (base, "-seeds"))
			base[strlen (base) - strlen ("-seeds")] = '\0';
		if (g_str_has_prefix (base, POOL_PREFIX) &&
		    g_ascii_string_to_unsigned (base + strlen (POOL_PREFIX), 10, 1, G_MAXINT, &pid, NULL) &&
		    kill ((pid_t) pid, 0) < 0 && errno == ESRCH)
			remove_pool (name);
		virStoragePoolFree (pools[i]);
	}
	free (pools);
}

static gboolean
remove_tree (const gchar *path)
{
	g_autoptr (GError) error = NULL;
	const gchar *argv[] = {"rm", "-rf", "--one-file-system", path, NULL};
	gint status = 0;

	return g_spawn_sync (NULL,
			     (gchar **) argv,
			     NULL,
			     G_SPAWN_SEARCH_PATH,
			     NULL,
			     NULL,
			     NULL,
			     NULL,
			     &status,
			     &error) &&
	       g_spawn_check_wait_status (status, NULL);
}

int
main (int argc, char **argv)
{
	g_autoptr (GError) error = NULL;
	gint status;

	g_test_init (&argc, &argv, NULL);
	nf_test_lock_take ();
	nf_libvirt_init ();

	fx.image = g_strdup (g_getenv ("NF_TEST_IMAGE"));
	if (fx.image == NULL || !g_file_test (fx.image, G_FILE_TEST_IS_REGULAR))
		g_error ("NF_TEST_IMAGE (%s) is not there; make it with tools/mkimage", fx.image);
	fx.connection = nf_connection_new ("qemu:///system");
	if (!nf_connection_open (fx.connection, &error))
		g_error ("%s (is libvirtd running? tools/services start)", error->message);
	fx.conn = nf_connection_ref_conn (fx.connection, &error);
	g_assert_no_error (error);
	remove_stale_pools ();

	fx.tmpdir = g_dir_make_tmp ("nf-storage-XXXXXX", &error);
	g_assert_no_error (error);
	fx.pool_name = g_strdup_printf (POOL_PREFIX "%d", (gint) getpid ());
	fx.pool_dir = g_build_filename (fx.tmpdir, "images", "pool", NULL);

	g_test_add_func ("/storage/ensure-pool", test_storage_ensure_pool);
	g_test_add_func ("/storage/base/qcow2", test_storage_base_qcow2);
	g_test_add_func ("/storage/base/raw", test_storage_base_raw);
	g_test_add_func ("/storage/base/refused", test_storage_base_refused);
	g_test_add_func ("/storage/overlay/qcow2", test_storage_overlay_qcow2);
	g_test_add_func ("/storage/overlay/sparse-sizes", test_storage_overlay_sparse_sizes);
	g_test_add_func ("/storage/overlay/untagged", test_storage_overlay_untagged);
	status = g_test_run ();
	nf_test_lock_release ();

	remove_pool (fx.pool_name);
	{
		g_autofree gchar *staging = g_strdup_printf ("%s-staging", fx.pool_name);
		g_autofree gchar *seeds = g_strdup_printf ("%s-seeds", fx.pool_name);

		remove_pool (staging);
		remove_pool (seeds);
	}
	if (!remove_tree (fx.tmpdir))
		g_warning ("cannot remove %s", fx.tmpdir);
	virConnectClose (fx.conn);
	g_clear_object (&fx.connection);
	g_free (fx.tmpdir);
	g_free (fx.pool_name);
	g_free (fx.pool_dir);
	g_free (fx.image);
	return status;
}
