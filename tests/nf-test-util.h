/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Helpers the integration tests share. Each fails the test (never skips)
 * when the real service or file it needs is missing. */

gchar *nf_test_require_image (void);
gchar *nf_test_make_world_dir (const gchar *prefix);
void nf_test_rm_rf (const gchar *dir);
gchar *nf_test_sha256_file (const gchar *path);
guint64 nf_test_file_inode (const gchar *path);
gboolean nf_test_overlay_has_own_data (const gchar *path);
gchar *nf_test_run (const gchar *first_arg, ...) G_GNUC_NULL_TERMINATED;
/* tools/farm with these arguments (the namespace farm of libvirt hosts);
 * fails the test, with its output, when it fails. Its stdout. */
gchar *nf_test_farm (const gchar *first_arg, ...) G_GNUC_NULL_TERMINATED;
void nf_test_assert_command_ok (const gchar *first_arg, ...) G_GNUC_NULL_TERMINATED;
/* The uid of the unprivileged system user @user, made when missing (each
 * test program that acts as it makes sure of it: none may rely on another
 * having run first). */
guint nf_test_ensure_user (const gchar *user);
gboolean nf_test_xpath_bool (const gchar *xml, const gchar *expr);
void nf_test_qemu_img_backing (const gchar *path, gchar **backing, gchar **format);
void nf_test_wait_for_log_line (const gchar *path, const gchar *line, guint timeout_s);
/* How many lines of the file at @path hold @line. */
guint nf_test_log_count (const gchar *path, const gchar *line);
void nf_test_wait_for_log_count (const gchar *path, const gchar *line, guint count, guint timeout_s);
void nf_test_assert_dir_has_no_overlays (const gchar *dir);
gboolean nf_test_ovs_bridge_exists (const gchar *bridge);
/* The Instance every test daemon and test engine runs as: a domain that
 * carries it is a test's. */
#define NF_TEST_INSTANCE "nftest"
/* The <description> of a domain a test defines to look like a node (an
 * untagged domain with a node's name). */
#define NF_TEST_LOOKALIKE "nestfarm test look-alike"
/* Removes the domains named @pool-* (@pool NULL: all) that a test made
 * (NF_TEST_INSTANCE or NF_TEST_LOOKALIKE; nothing else), and @bridge. */
void nf_test_cleanup_leftovers (const gchar *pool, const gchar *bridge);
void nf_test_remove_storage_pool (const gchar *name);
/* Stops and undefines libvirt network @name, if it is there. */
void nf_test_remove_network (const gchar *name);
/* The persistent XML of libvirt network @name (fails the test without it). */
gchar *nf_test_network_xml (const gchar *name);
/* Tests that use the machine's libvirtd, Open vSwitch or the bus name
 * (and bench/run) run one at a time: each takes this lock for as long as
 * it uses them. Counted per process; taking it first removes what a test
 * that failed or was killed left, and so does the last release. */
#define NF_TEST_LOCK_FILE "/run/lock/nestfarm-test.lock"
void nf_test_lock_take (void);
void nf_test_lock_release (void);

G_END_DECLS
