/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-migrate"

#include "config.h"

#include <glib.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-migrate.h"
#include "nestfarm/nf-template.h"

/* The domain XML a moving node gets on its target (nf_migrate_dest_xml),
 * from a rendered node (a golden file): the target's paths, no backing
 * chain of the source's, and metadata naming the target that reads back
 * as the node's. The move itself is tested on the farm (test-farm.c). */

static gchar *
golden (const gchar *name)
{
	g_autofree gchar *file = g_strconcat (name, ".xml", NULL);
	g_autofree gchar *path = g_test_build_filename (G_TEST_DIST, "fixtures", "golden", file, NULL);
	g_autoptr (GError) error = NULL;
	gchar *text = NULL;

	g_file_get_contents (path, &text, NULL, &error);
	g_assert_no_error (error);
	return text;
}

static void
test_migrate_dest_xml (void)
{
	g_autofree gchar *source = golden ("baseline-emulated-kvm-compute");
	g_autoptr (NfNodeSpec) here = NULL;
	g_autoptr (NfNodeSpec) there = NULL;
	g_autoptr (NfNodeSpec) back = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *dest = NULL;
	g_autofree gchar *with_chain = NULL;

	here = nf_node_spec_from_domain_xml (source, &error);
	g_assert_no_error (error);
	there = nf_node_spec_copy (here);
	g_free (there->overlay);
	there->overlay = g_strdup ("/var/lib/nestfarm/images/hosts/h2/lab-3.qcow2");
	g_free (there->console_log);
	there->console_log = g_strdup ("/var/log/nestfarm/console/hosts/h2/lab-3.log");
	g_free (there->host);
	there->host = g_strdup ("h2");
	/* the running XML of the source names its chain */
	{
		GString *text = g_string_new (source);

		g_assert_cmpuint (g_string_replace (text,
						    "<source file=\"/var/lib/nestfarm/images/lab-3.qcow2\"/>",
						    "<source file=\"/var/lib/nestfarm/images/lab-3.qcow2\"/>"
						    "<backingStore type=\"file\"><format type=\"qcow2\"/>"
						    "<source file=\"/var/lib/nestfarm/images/base.qcow2\"/></backingStore>",
						    1),
				  ==,
				  1);
		with_chain = g_string_free (text, FALSE);
	}
	dest = nf_migrate_dest_xml (with_chain, there, &error);
	g_assert_no_error (error);
	g_assert_nonnull (strstr (dest, "<source file=\"/var/lib/nestfarm/images/hosts/h2/lab-3.qcow2\"/>"));
	g_assert_nonnull (strstr (dest, "file=\"/var/log/nestfarm/console/hosts/h2/lab-3.log\""));
	g_assert_null (strstr (dest, "backingStore"));
	g_assert_null (strstr (dest, "/var/lib/nestfarm/images/lab-3.qcow2"));
	/* what the target's libvirt keeps reads back as the node, there */
	back = nf_node_spec_from_domain_xml (dest, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (back->host, ==, "h2");
	g_assert_cmpstr (back->pool, ==, here->pool);
	g_assert_cmpuint (back->index, ==, here->index);
	g_assert_cmpstr (back->trunk_port, ==, here->trunk_port);
	g_assert_cmpstr (back->console_log, ==, there->console_log);
	/* the CPU, the NICs and the VLAN filter override go as they were */
	g_assert_nonnull (strstr (dest, "<model fallback=\"forbid\">EPYC-IBPB</model>"));
	g_assert_nonnull (strstr (dest, "ctrl_vlan"));
}

static void
test_migrate_dest_xml_refused (void)
{
	g_autoptr (NfNodeSpec) there = nf_node_spec_new ();
	g_autoptr (GError) error = NULL;
	g_autofree gchar *dest = NULL;

	there->overlay = g_strdup ("/x.qcow2");
	dest = nf_migrate_dest_xml ("<domain><name>x</name></domain>", there, &error);
	g_assert_null (dest);
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_clear_error (&error);
	dest = nf_migrate_dest_xml ("<domain>", there, &error);
	g_assert_null (dest);
	g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/migrate/dest-xml", test_migrate_dest_xml);
	g_test_add_func ("/migrate/dest-xml-refused", test_migrate_dest_xml_refused);
	return g_test_run ();
}
