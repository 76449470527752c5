/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-base-copy"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-storage.h"
#include "nf-test-util.h"

/* A golden base image copied to farm host h1 through its libvirt
 * (nf_storage_base_copy): uploaded once and read back, found again
 * without an upload, uploaded again when its marker or its image is gone
 * (a crash), the same bytes as the source, and nothing made when it
 * fails. Uses the farm (tools/farm up 2, idempotent; never down, which
 * another test's farm may need) and only its own pool, nfcopytest, in
 * h1's private /var/lib/libvirt. Suite 'farm'. */

#define POOL      "nfcopytest"
#define POOL_PATH "/var/lib/libvirt/images/" POOL

static virConnectPtr h1_;
static gchar *scratch_;

/* tools/farm up 2: the URI of h1, from its "h1 URI" line. */
static gchar *
farm_up_h1 (void)
{
	g_autofree gchar *script = g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "tools", "farm", NULL);
	g_autofree gchar *out = nf_test_run (script, "up", "2", NULL);
	g_auto (GStrv) lines = NULL;

	if (out == NULL)
		g_error ("tools/farm up 2 failed; run it by hand to see why");
	lines = g_strsplit (out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix (lines[i], "h1 "))
			return g_strdup (lines[i] + 3);
	}
	g_error ("tools/farm up 2 printed no h1 line: %s", out);
}

static void
remove_pool (void)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (h1_, POOL);
	virStorageVolPtr *vols = NULL;
	gint n;

	if (pool == NULL) {
		virResetLastError ();
		return;
	}
	if (virStoragePoolIsActive (pool) == 1) {
		virStoragePoolRefresh (pool, 0);
		n = virStoragePoolListAllVolumes (pool, &vols, 0);
		for (gint i = 0; i < n; i++) {
			virStorageVolDelete (vols[i], 0);
			virStorageVolFree (vols[i]);
		}
		free (vols);
		virStoragePoolDestroy (pool);
	}
	virStoragePoolDelete (pool, 0);
	virStoragePoolUndefine (pool);
	virResetLastError ();
}

static void
make_pool (void)
{
	const gchar *xml =
		"<pool type='dir'><name>" POOL "</name><target><path>" POOL_PATH "</path></target></pool>";
	g_autoptr (virStoragePool) pool = NULL;

	remove_pool ();
	pool = virStoragePoolDefineXML (h1_, xml, 0);
	g_assert_nonnull (pool);
	g_assert_cmpint (virStoragePoolBuild (pool, 0), ==, 0);
	g_assert_cmpint (virStoragePoolCreate (pool, 0), ==, 0);
}

static virStorageVolPtr
lookup (const gchar *name)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (h1_, POOL);
	virStorageVolPtr vol;

	g_assert_nonnull (pool);
	vol = virStorageVolLookupByName (pool, name);
	if (vol == NULL)
		virResetLastError ();
	return vol;
}

static gint
count_volumes (void)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (h1_, POOL);

	g_assert_nonnull (pool);
	return virStoragePoolNumOfVolumes (pool);
}

/* What libvirt says of a volume's file: "<key> <mtime> <ctime>". Any
 * write or re-creation changes it (nanoseconds). */
static gchar *
volume_stamp (const gchar *name)
{
	g_autoptr (virStorageVol) vol = lookup (name);
	g_autofree gchar *xml = NULL;
	const gchar *mtime;
	const gchar *ctime;

	g_assert_nonnull (vol);
	xml = virStorageVolGetXMLDesc (vol, 0);
	g_assert_nonnull (xml);
	mtime = strstr (xml, "<mtime>");
	ctime = strstr (xml, "<ctime>");
	g_assert_nonnull (mtime);
	g_assert_nonnull (ctime);
	return g_strdup_printf ("%s %.*s %.*s",
				virStorageVolGetKey (vol),
				(gint) strcspn (mtime, "\n"),
				mtime,
				(gint) strcspn (ctime, "\n"),
				ctime);
}

/* The SHA-256 of a volume's bytes as h1's libvirt streams them. */
static gchar *
volume_sha256 (const gchar *name)
{
	g_autoptr (virStorageVol) vol = lookup (name);
	g_autoptr (virStream) stream = virStreamNew (h1_, 0);
	g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
	g_autofree gchar *chunk = g_malloc (1024 * 1024);
	gint got;

	g_assert_nonnull (vol);
	g_assert_cmpint (virStorageVolDownload (vol, stream, 0, 0, 0), ==, 0);
	while ((got = virStreamRecv (stream, chunk, 1024 * 1024)) > 0)
		g_checksum_update (sum, (const guchar *) chunk, got);
	g_assert_cmpint (got, ==, 0);
	g_assert_cmpint (virStreamFinish (stream), ==, 0);
	return g_strdup (g_checksum_get_string (sum));
}

static NfBaseImage *
check_base (const gchar *path)
{
	g_autoptr (GError) error = NULL;
	NfBaseImage *base = nf_storage_check_base (h1_, POOL, path, &error);

	g_assert_no_error (error);
	return base;
}

/* The copy's image and marker names for the file at @path. */
static void
copy_names (const NfBaseImage *base, gchar **image, gchar **marker)
{
	g_autofree gchar *sha256 = nf_test_sha256_file (base->path);

	*image = g_strdup_printf ("base-%.20s.%s", sha256, nf_image_format_to_string (base->format));
	*marker = g_strdup_printf ("base-%.20s.verified", sha256);
}

static gchar *
copy_ok (const NfBaseImage *base)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GTimer) timer = g_timer_new ();
	gchar *path = nf_storage_base_copy (h1_, POOL, base, &error);

	g_assert_no_error (error);
	g_assert_nonnull (path);
	g_test_message ("nf_storage_base_copy: %.3f s", g_timer_elapsed (timer, NULL));
	return path;
}

/* qemu-img inside h1 sees the copy as the source's format and size. */
static void
assert_image_on_h1 (const NfBaseImage *base, const gchar *path)
{
	g_autofree gchar *script = g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "tools", "farm", NULL);
	g_autofree gchar *info = nf_test_run (script, "exec", "h1", "qemu-img", "info", "-U", path, NULL);
	g_autofree gchar *format =
		g_strdup_printf ("file format: %s\n", nf_image_format_to_string (base->format));
	g_autofree gchar *size = g_strdup_printf ("(%" G_GUINT64_FORMAT " bytes)", base->virtual_size);

	g_assert_nonnull (info);
	g_assert_nonnull (strstr (info, format));
	g_assert_nonnull (strstr (info, size));
}

/* Copied, found again without an upload, copied again after a crash. */
static void
test_copy_once (gconstpointer data)
{
	const gchar *source = data;
	g_autoptr (NfBaseImage) base = check_base (source);
	g_autofree gchar *image = NULL;
	g_autofree gchar *marker = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *again = NULL;
	g_autofree gchar *stamp = NULL;
	g_autofree gchar *marker_stamp = NULL;
	g_autofree gchar *stamp_later = NULL;
	g_autofree gchar *source_sha = nf_test_sha256_file (source);
	g_autofree gchar *copy_sha = NULL;
	g_autoptr (GTimer) timer = NULL;
	g_autoptr (virStorageVol) vol = NULL;

	make_pool ();
	copy_names (base, &image, &marker);
	path = copy_ok (base);
	g_assert_true (g_str_has_prefix (path, POOL_PATH "/base-"));
	g_assert_true (g_str_has_suffix (path, image));
	g_assert_cmpint (count_volumes (), ==, 2);
	vol = lookup (marker);
	g_assert_nonnull (vol);
	timer = g_timer_new ();
	copy_sha = volume_sha256 (image);
	g_test_message ("a read back of %s: %.3f s", image, g_timer_elapsed (timer, NULL));
	g_assert_cmpstr (copy_sha, ==, source_sha);
	assert_image_on_h1 (base, path);

	/* There: not uploaded again, not even touched. */
	stamp = volume_stamp (image);
	marker_stamp = volume_stamp (marker);
	again = copy_ok (base);
	g_assert_cmpstr (again, ==, path);
	stamp_later = volume_stamp (image);
	g_assert_cmpstr (stamp_later, ==, stamp);
	g_free (stamp_later);
	stamp_later = volume_stamp (marker);
	g_assert_cmpstr (stamp_later, ==, marker_stamp);

	/* A crash before the marker: the image goes and comes again. */
	g_assert_cmpint (virStorageVolDelete (vol, 0), ==, 0);
	g_clear_pointer (&again, g_free);
	again = copy_ok (base);
	g_assert_cmpstr (again, ==, path);
	g_free (stamp_later);
	stamp_later = volume_stamp (image);
	g_assert_cmpstr (stamp_later, !=, stamp);
	g_assert_cmpint (count_volumes (), ==, 2);
	g_free (copy_sha);
	copy_sha = volume_sha256 (image);
	g_assert_cmpstr (copy_sha, ==, source_sha);

	/* The image gone under its marker: uploaded again, marker and all. */
	g_clear_pointer (&vol, virStorageVolFree);
	vol = lookup (image);
	g_assert_cmpint (virStorageVolDelete (vol, 0), ==, 0);
	g_clear_pointer (&again, g_free);
	again = copy_ok (base);
	g_assert_cmpstr (again, ==, path);
	g_assert_cmpint (count_volumes (), ==, 2);
	g_free (copy_sha);
	copy_sha = volume_sha256 (image);
	g_assert_cmpstr (copy_sha, ==, source_sha);
	remove_pool ();
}

/* No such pool, no such file: an error, and nothing made. */
static void
test_refused (void)
{
	g_autofree gchar *source = nf_test_require_image ();
	g_autoptr (NfBaseImage) base = check_base (source);
	g_autoptr (NfBaseImage) gone = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *missing = g_build_filename (scratch_, "gone.qcow2", NULL);
	g_autoptr (virStoragePool) pool = NULL;

	make_pool ();
	path = nf_storage_base_copy (h1_, POOL "-none", base, &error);
	g_assert_null (path);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_test_message ("%s", error->message);
	g_assert_nonnull (strstr (error->message, POOL "-none"));
	pool = virStoragePoolLookupByName (h1_, POOL "-none");
	g_assert_null (pool);
	virResetLastError ();
	g_clear_error (&error);

	/* A base that went after it was checked. */
	gone = g_new0 (NfBaseImage, 1);
	gone->path = g_strdup (missing);
	gone->format = NF_IMAGE_FORMAT_QCOW2;
	gone->virtual_size = base->virtual_size;
	path = nf_storage_base_copy (h1_, POOL, gone, &error);
	g_assert_null (path);
	g_assert_error (error, NF_ERROR, NF_ERROR_NOT_FOUND);
	g_test_message ("%s", error->message);
	g_assert_cmpint (count_volumes (), ==, 0);
	remove_pool ();
}

int
main (int argc, char **argv)
{
	g_autofree gchar *uri = NULL;
	g_autofree gchar *image = NULL;
	g_autofree gchar *raw = NULL;
	g_autofree gchar *big = NULL;
	int rc;

	g_test_init (&argc, &argv, NULL);
	nf_libvirt_init ();
	image = nf_test_require_image ();
	uri = farm_up_h1 ();
	h1_ = virConnectOpen (uri);
	g_assert_nonnull (h1_);
	scratch_ = nf_test_make_world_dir ("nfcopytest");
	raw = g_build_filename (scratch_, "tiny.raw", NULL);
	nf_test_assert_command_ok ("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image, raw, NULL);

	g_test_add_data_func ("/base-copy/qcow2", image, test_copy_once);
	g_test_add_data_func ("/base-copy/raw", raw, test_copy_once);
	/* NF_TEST_BIG_IMAGE: a larger image to time by hand; not in the suite. */
	big = g_strdup (g_getenv ("NF_TEST_BIG_IMAGE"));
	if (big != NULL)
		g_test_add_data_func ("/base-copy/big", big, test_copy_once);
	g_test_add_func ("/base-copy/refused", test_refused);
	rc = g_test_run ();
	remove_pool ();
	virConnectClose (h1_);
	nf_test_rm_rf (scratch_);
	g_free (scratch_);
	return rc;
}
