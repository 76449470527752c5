/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-snapshot-check"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-snapshot.h"

/* What is checked before a pool snapshot touches a node: the snapshot's
 * name (the pool-name rules, in its own words) and the node's firmware
 * (UEFI variables in flash cannot have internal snapshots). */

#define BIOS                                                                                                 \
	"<domain type='kvm'><name>a-1</name><os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/>" \
	"</os></domain>"

static void
assert_refused (const gchar *xml)
{
	g_autoptr (GError) error = NULL;

	g_assert_false (nf_snapshot_check_domain ("a-1", xml, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull (strstr (error->message, "a-1"));
	g_assert_nonnull (strstr (error->message, "UEFI"));
}

static void
test_firmware (void)
{
	g_autoptr (GError) error = NULL;

	g_assert_true (nf_snapshot_check_domain ("a-1", BIOS, &error));
	g_assert_no_error (error);
	assert_refused ("<domain><name>a-1</name><os><type>hvm</type>"
			"<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"
			"<nvram>/var/lib/libvirt/qemu/nvram/a-1_VARS.fd</nvram></os></domain>");
	assert_refused ("<domain><name>a-1</name><os firmware='efi'><type>hvm</type></os></domain>");
	assert_refused (
		"<domain><name>a-1</name><os><type>hvm</type><loader type='pflash'>x</loader></os></domain>");
	g_assert_false (nf_snapshot_check_domain ("a-1", "<domain", &error));
	g_assert_nonnull (error);
}

static void
test_names (void)
{
	const gchar *const good[] = {"a", "installed", "before-upgrade-2", NULL};
	const gchar *const bad[] = {"", "Installed", "1st", "x-", "a b", "a/b", "<x>", NULL};

	for (guint i = 0; good[i] != NULL; i++) {
		g_autoptr (GError) error = NULL;

		g_assert_true (nf_snapshot_name_validate (good[i], &error));
		g_assert_no_error (error);
	}
	for (guint i = 0; bad[i] != NULL; i++) {
		g_autoptr (GError) error = NULL;

		g_assert_false (nf_snapshot_name_validate (bad[i], &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull (strstr (error->message, "snapshot name"));
	}
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/snapshot-check/firmware", test_firmware);
	g_test_add_func ("/snapshot-check/names", test_names);
	return g_test_run ();
}
