/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-test-util"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "nestfarm/nf-engine.h"
#include "nestfarm/nf-storage.h"
#include "nestfarm/nf-template.h"
#include "nf-test-util.h"

/* Helpers the integration tests share: the test image, scratch directories,
 * commands, waiting for log lines, and removing what earlier runs left behind. */

gchar *
nf_test_require_image (void)
{
	const gchar *image = g_getenv ("NF_TEST_IMAGE");

	if (image == NULL || !g_file_test (image, G_FILE_TEST_IS_REGULAR))
		g_error ("NF_TEST_IMAGE (%s) is not there; run tools/mkimage (tools/test does)",
			 image != NULL ? image : "unset");
	return g_strdup (image);
}

/* A scratch directory that QEMU (user libvirt-qemu) can traverse. */
gchar *
nf_test_make_world_dir (const gchar *prefix)
{
	g_autofree gchar *template = g_strdup_printf ("/var/tmp/%s-XXXXXX", prefix);
	gchar *dir = g_mkdtemp_full (template, 0755);

	if (dir == NULL)
		g_error ("cannot make a scratch directory: %s", g_strerror (errno));
	g_steal_pointer (&template);
	return dir;
}

void
nf_test_rm_rf (const gchar *dir)
{
	g_autofree gchar *out = NULL;

	if (dir == NULL || !g_str_has_prefix (dir, "/var/tmp/"))
		return;
	out = nf_test_run ("rm", "-rf", "--one-file-system", dir, NULL);
}

gchar *
nf_test_sha256_file (const gchar *path)
{
	g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
	g_autoptr (GFile) file = g_file_new_for_path (path);
	g_autoptr (GInputStream) in = NULL;
	g_autoptr (GError) error = NULL;
	guint8 buf[65536];
	gssize n;

	in = G_INPUT_STREAM (g_file_read (file, NULL, &error));
	g_assert_no_error (error);
	while ((n = g_input_stream_read (in, buf, sizeof (buf), NULL, &error)) > 0)
		g_checksum_update (sum, buf, n);
	g_assert_no_error (error);
	return g_strdup (g_checksum_get_string (sum));
}

guint64
nf_test_file_inode (const gchar *path)
{
	GStatBuf st;

	if (g_stat (path, &st) != 0)
		return 0;
	return st.st_ino;
}

/* Does the qcow2 at @path hold data of its own (not from its backing)? */
gboolean
nf_test_overlay_has_own_data (const gchar *path)
{
	g_autofree gchar *out =
		nf_test_run ("qemu-img", "map", "-f", "qcow2", "-U", "--output=json", path, NULL);
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error = NULL;
	JsonArray *map;

	g_assert_nonnull (out);
	g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
	g_assert_no_error (error);
	map = json_node_get_array (json_parser_get_root (parser));
	for (guint i = 0; i < json_array_get_length (map); i++) {
		JsonObject *extent = json_array_get_object_element (map, i);

		if (json_object_get_int_member (extent, "depth") == 0 &&
		    json_object_get_boolean_member (extent, "data"))
			return TRUE;
	}
	return FALSE;
}

static GPtrArray *
collect_argv (const gchar *first_arg, va_list ap)
{
	GPtrArray *argv = g_ptr_array_new ();

	for (const gchar *arg = first_arg; arg != NULL; arg = va_arg (ap, const gchar *))
		g_ptr_array_add (argv, (gpointer) arg);
	g_ptr_array_add (argv, NULL);
	return argv;
}

static gboolean
run_argv (GPtrArray *argv, gchar **out, gchar **err)
{
	gint status = 0;
	g_autoptr (GError) error = NULL;

	if (!g_spawn_sync (NULL,
			   (gchar **) argv->pdata,
			   NULL,
			   G_SPAWN_SEARCH_PATH,
			   NULL,
			   NULL,
			   out,
			   err,
			   &status,
			   &error)) {
		g_test_message ("cannot run %s: %s", (gchar *) argv->pdata[0], error->message);
		return FALSE;
	}
	return g_spawn_check_wait_status (status, NULL);
}

gchar *
nf_test_farm (const gchar *first_arg, ...)
{
	va_list ap;
	g_autoptr (GPtrArray) argv = NULL;
	g_autofree gchar *script = g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "tools", "farm", NULL);
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	va_start (ap, first_arg);
	argv = collect_argv (first_arg, ap);
	va_end (ap);
	g_ptr_array_insert (argv, 0, script);
	if (!run_argv (argv, &out, &err))
		g_error ("tools/farm %s failed:\n%s%s",
			 first_arg,
			 out != NULL ? out : "",
			 err != NULL ? err : "");
	return g_steal_pointer (&out);
}

/* Runs a command; returns its stdout, or NULL if it failed. */
gchar *
nf_test_run (const gchar *first_arg, ...)
{
	va_list ap;
	g_autoptr (GPtrArray) argv = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	va_start (ap, first_arg);
	argv = collect_argv (first_arg, ap);
	va_end (ap);
	if (!run_argv (argv, &out, &err))
		return NULL;
	return g_steal_pointer (&out);
}

void
nf_test_assert_command_ok (const gchar *first_arg, ...)
{
	va_list ap;
	g_autoptr (GPtrArray) argv = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *joined = NULL;

	va_start (ap, first_arg);
	argv = collect_argv (first_arg, ap);
	va_end (ap);
	if (run_argv (argv, &out, &err))
		return;
	joined = g_strjoinv (" ", (gchar **) argv->pdata);
	g_error ("command failed: %s\nstdout: %s\nstderr: %s",
		 joined,
		 out != NULL ? g_strstrip (out) : "",
		 err != NULL ? g_strstrip (err) : "");
}

gboolean
nf_test_xpath_bool (const gchar *xml, const gchar *expr)
{
	xmlDocPtr doc = xmlReadMemory (xml, (int) strlen (xml), "t.xml", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;
	g_autofree gchar *wrapped = g_strdup_printf ("boolean(%s)", expr);
	gboolean result;

	g_assert_nonnull (doc);
	ctx = xmlXPathNewContext (doc);
	obj = xmlXPathEvalExpression ((const xmlChar *) wrapped, ctx);
	g_assert_nonnull (obj);
	result = obj->boolval != 0;
	if (!result)
		g_test_message ("XPath %s is false", expr);
	xmlXPathFreeObject (obj);
	xmlXPathFreeContext (ctx);
	xmlFreeDoc (doc);
	return result;
}

/* The backing file and its format as qemu-img reads the overlay's header. */
void
nf_test_qemu_img_backing (const gchar *path, gchar **backing, gchar **format)
{
	g_autofree gchar *out =
		nf_test_run ("qemu-img", "info", "-f", "qcow2", "--force-share", "--output=json", path, NULL);
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error = NULL;
	JsonObject *obj;

	g_assert_nonnull (out);
	g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
	g_assert_no_error (error);
	obj = json_node_get_object (json_parser_get_root (parser));
	*backing = g_strdup (json_object_get_string_member_with_default (obj, "backing-filename", NULL));
	*format =
		g_strdup (json_object_get_string_member_with_default (obj, "backing-filename-format", NULL));
}

static guint
count_lines (const gchar *path, const gchar *line)
{
	g_autofree gchar *text = NULL;
	g_auto (GStrv) lines = NULL;
	guint n = 0;

	if (!g_file_get_contents (path, &text, NULL, NULL))
		return 0;
	lines = g_strsplit (text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (strstr (lines[i], line) != NULL)
			n++;
	}
	return n;
}

guint
nf_test_log_count (const gchar *path, const gchar *line)
{
	return count_lines (path, line);
}

void
nf_test_wait_for_log_count (const gchar *path, const gchar *line, guint count, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
	g_autofree gchar *text = NULL;

	while (g_get_monotonic_time () < deadline) {
		if (count_lines (path, line) >= count)
			return;
		g_usleep (200 * 1000);
	}
	g_file_get_contents (path, &text, NULL, NULL);
	g_test_message ("console log %s:\n%s", path, text != NULL ? text : "(missing)");
	g_error ("'%s' did not appear %u times in %s within %u s", line, count, path, timeout_s);
}

void
nf_test_wait_for_log_line (const gchar *path, const gchar *line, guint timeout_s)
{
	nf_test_wait_for_log_count (path, line, 1, timeout_s);
}

void
nf_test_assert_dir_has_no_overlays (const gchar *dir)
{
	g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
	const gchar *name;

	g_assert_nonnull (d);
	while ((name = g_dir_read_name (d)) != NULL) {
		if (g_str_has_suffix (name, ".qcow2"))
			g_error ("leftover overlay %s/%s", dir, name);
		if (g_str_has_suffix (name, ".seed.iso"))
			g_error ("leftover seed %s/%s", dir, name);
	}
	/* and seeds in the seeds pool's directory */
	if (!g_str_has_suffix (dir, "/" NF_STORAGE_SEEDS_DIR)) {
		g_autofree gchar *seeds = g_build_filename (dir, NF_STORAGE_SEEDS_DIR, NULL);

		if (g_file_test (seeds, G_FILE_TEST_IS_DIR))
			nf_test_assert_dir_has_no_overlays (seeds);
	}
}

gboolean
nf_test_ovs_bridge_exists (const gchar *bridge)
{
	g_autofree gchar *out = nf_test_run ("ovs-vsctl", "--timeout=5", "br-exists", bridge, NULL);

	return out != NULL;
}

/* qemu:///system, waiting out a libvirtd that another test restarts. */
static virConnectPtr
connect_system (void)
{
	for (guint attempt = 0; attempt < 60; attempt++) {
		virConnectPtr conn = virConnectOpen ("qemu:///system");

		if (conn != NULL)
			return conn;
		g_usleep (G_USEC_PER_SEC / 2);
	}
	g_error ("qemu:///system cannot be reached: %s", virGetLastErrorMessage ());
	return NULL;
}

/* Was @dom made by a test: by a test daemon or engine (nestfarm metadata
 * naming NF_TEST_INSTANCE), or as a look-alike? Nothing else is removed:
 * a user's domains, an installed nestfarmd's among them, stay. */
static gboolean
domain_is_a_tests (virDomainPtr dom)
{
	g_autofree gchar *meta = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, NF_METADATA_NS, 0);
	g_autofree gchar *description = NULL;

	virResetLastError ();
	description = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_DESCRIPTION, NULL, 0);
	virResetLastError ();
	if (g_strcmp0 (description, NF_TEST_LOOKALIKE) == 0)
		return TRUE;
	return meta != NULL && nf_node_metadata_owned_by (meta, NF_TEST_INSTANCE);
}

void
nf_test_cleanup_leftovers (const gchar *pool, const gchar *bridge)
{
	virConnectPtr conn = connect_system ();
	virDomainPtr *domains = NULL;
	g_autofree gchar *prefix = pool != NULL ? g_strdup_printf ("%s-", pool) : NULL;
	g_autofree gchar *out = NULL;
	gint n;

	g_assert_nonnull (conn);
	n = virConnectListAllDomains (conn, &domains, 0);
	for (gint i = 0; i < n; i++) {
		const gchar *name = virDomainGetName (domains[i]);

		if (prefix == NULL || g_str_has_prefix (name, prefix)) {
			if (domain_is_a_tests (domains[i])) {
				g_test_message ("removing leftover domain %s", name);
				if (virDomainIsActive (domains[i]) == 1)
					virDomainDestroy (domains[i]);
				virDomainUndefineFlags (domains[i], NF_ENGINE_UNDEFINE_FLAGS);
			} else if (prefix != NULL) {
				g_test_message ("leaving %s alone: no test made it", name);
			}
		}
		virDomainFree (domains[i]);
	}
	free (domains);
	virResetLastError ();
	virConnectClose (conn);
	if (bridge != NULL)
		out = nf_test_run ("ovs-vsctl", "--timeout=5", "--if-exists", "del-br", bridge, NULL);
}

static void
remove_one_pool (virConnectPtr conn, const gchar *name)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName (conn, name);

	if (pool != NULL) {
		if (virStoragePoolIsActive (pool) == 1)
			virStoragePoolDestroy (pool);
		virStoragePoolUndefine (pool);
		virStoragePoolFree (pool);
	}
	virResetLastError ();
}

void
nf_test_remove_network (const gchar *name)
{
	g_free (nf_test_run ("virsh", "-q", "net-destroy", name, NULL));
	g_free (nf_test_run ("virsh", "-q", "net-undefine", name, NULL));
}

gchar *
nf_test_network_xml (const gchar *name)
{
	gchar *xml = nf_test_run ("virsh", "-q", "net-dumpxml", name, "--inactive", NULL);

	g_assert_nonnull (xml);
	return xml;
}

/* The pool, its staging pool and its seeds pool. */
void
nf_test_remove_storage_pool (const gchar *name)
{
	virConnectPtr conn = connect_system ();
	g_autofree gchar *staging = g_strdup_printf ("%s-staging", name);
	g_autofree gchar *seeds = g_strdup_printf ("%s-seeds", name);

	g_assert_nonnull (conn);
	remove_one_pool (conn, name);
	remove_one_pool (conn, staging);
	remove_one_pool (conn, seeds);
	virConnectClose (conn);
}

/* One hold per process, counted: a test may run two daemons one after the
 * other, or keep one while it makes another. */
static gint test_lock_fd = -1;
static guint test_lock_holds;

void
nf_test_lock_take (void)
{
	if (test_lock_holds++ > 0)
		return;
	g_mkdir_with_parents ("/run/lock", 01777);
	test_lock_fd = g_open (NF_TEST_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	g_assert_cmpint (test_lock_fd, >=, 0);
	if (flock (test_lock_fd, LOCK_EX | LOCK_NB) != 0) {
		g_test_message ("waiting for another test (%s)", NF_TEST_LOCK_FILE);
		g_assert_cmpint (flock (test_lock_fd, LOCK_EX), ==, 0);
	}
	/* Whoever held it before is done: what its instance left is a
	 * leftover of a test that failed or was killed. */
	nf_test_cleanup_leftovers (NULL, NULL);
}

void
nf_test_lock_release (void)
{
	g_assert_cmpuint (test_lock_holds, >, 0);
	if (--test_lock_holds > 0)
		return;
	/* A test that failed halfway leaves nothing for the next one. */
	nf_test_cleanup_leftovers (NULL, NULL);
	close (test_lock_fd);
	test_lock_fd = -1;
}

guint
nf_test_ensure_user (const gchar *user)
{
	g_autofree gchar *id = nf_test_run ("id", "-u", user, NULL);

	if (id == NULL) {
		nf_test_assert_command_ok ("useradd",
					   "--system",
					   "--no-create-home",
					   "--shell",
					   "/usr/sbin/nologin",
					   user,
					   NULL);
		id = nf_test_run ("id", "-u", user, NULL);
	}
	if (id == NULL)
		g_error ("useradd did not make the user %s", user);
	return (guint) g_ascii_strtoull (id, NULL, 10);
}
