/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-ovn"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-ovn.h"
#include "nf-test-util.h"

/* nestfarm's writes to OVN's northbound database, against the real OVN
 * central of the namespace farm (tools/farm): a pool's logical switch made
 * once, carrying tagged frames; node ports named by UUID, accepting any
 * MAC, made once; a port bound by the ovn-controller of the host whose
 * br-int has an interface with its name as iface-id; removals that leave
 * nothing and touch nothing that is not nestfarm's. Suite 'farm'. */

#define INSTANCE "nftest"
#define POOL     "nfovnt"

static gchar *northbound_;
static gchar *southbound_;
static gchar *nb_db_; /* --db=... */
static gchar *sb_db_;

/* A command's output, stripped; the test fails when it fails. */
static gchar *
must (gchar *out)
{
	g_assert_nonnull (out);
	return g_strstrip (out);
}

/* ovn-nbctl and ovn-sbctl on the farm's databases */
#define NBCTL(...) must (nf_test_run ("ovn-nbctl", nb_db_, __VA_ARGS__))
#define SBCTL(...) must (nf_test_run ("ovn-sbctl", sb_db_, __VA_ARGS__))

/* How many lines of non-empty output. */
static guint
lines (const gchar *text)
{
	g_auto (GStrv) split = g_strsplit (text, "\n", -1);
	guint n = 0;

	for (guint i = 0; split[i] != NULL; i++)
		n += g_strstrip (split[i])[0] != '\0';
	return n;
}

static void
test_port_names (void)
{
	g_autofree gchar *a = nf_ovn_port_name (INSTANCE, POOL, 1);
	g_autofree gchar *again = nf_ovn_port_name (INSTANCE, POOL, 1);
	g_autofree gchar *b = nf_ovn_port_name (INSTANCE, POOL, 2);
	g_autofree gchar *other = nf_ovn_port_name (NULL, POOL, 1);

	g_assert_true (g_uuid_string_is_valid (a));
	g_assert_cmpstr (a, ==, again);
	g_assert_cmpstr (a, !=, b);
	g_assert_cmpstr (a, !=, other);
}

static void
test_switch_and_ports (void)
{
	g_autoptr (NfOvn) ovn = nf_ovn_new (northbound_, INSTANCE, 5000);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *port = nf_ovn_port_name (INSTANCE, POOL, 1);
	g_autoptr (GPtrArray) listed = NULL;
	g_autofree gchar *switches = NULL;
	g_autofree gchar *config = NULL;
	g_autofree gchar *addresses = NULL;
	g_autofree gchar *ports_before = NULL;

	/* no switch yet: no port */
	g_assert_false (nf_ovn_add_port (ovn, POOL, POOL "-1", port, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_test_message ("%s", error->message);
	g_clear_error (&error);
	ports_before = NBCTL ("--bare", "--columns=name", "list", "Logical_Switch_Port", NULL);
	g_assert_null (strstr (ports_before, port));

	nf_ovn_ensure_switch (ovn, POOL, NULL, &error);
	g_assert_no_error (error);
	g_assert_true (nf_ovn_ensure_switch (ovn, POOL, NULL, &error));
	g_assert_no_error (error);
	switches = NBCTL ("--bare",
			  "--columns=name",
			  "find",
			  "Logical_Switch",
			  "external_ids:nestfarm-pool=" POOL,
			  NULL);
	g_assert_cmpstr (switches, ==, "nf-" INSTANCE "-" POOL);
	config = NBCTL ("get", "Logical_Switch", "nf-" INSTANCE "-" POOL, "other_config:vlan-passthru", NULL);
	g_assert_cmpstr (config, ==, "\"true\"");

	g_assert_true (nf_ovn_add_port (ovn, POOL, POOL "-1", port, &error));
	g_assert_true (nf_ovn_add_port (ovn, POOL, POOL "-1", port, &error));
	g_assert_no_error (error);
	addresses = NBCTL ("lsp-get-addresses", port, NULL);
	g_assert_cmpstr (addresses, ==, "unknown");
	listed = nf_ovn_list_ports (ovn, POOL, &error);
	g_assert_no_error (error);
	g_assert_cmpuint (listed->len, ==, 1);
	g_assert_cmpstr (g_ptr_array_index (listed, 0), ==, port);
}

/* h1's br-int gets an interface with the port's name as iface-id: h1's
 * ovn-controller binds the port there, and the northbound says it is up. */
static void
test_binding (void)
{
	g_autofree gchar *port = nf_ovn_port_name (INSTANCE, POOL, 1);
	g_autofree gchar *iface_id = g_strdup_printf ("external_ids:iface-id=%s", port);
	g_autofree gchar *where = g_strdup_printf ("logical_port=%s", port);
	g_autofree gchar *chassis = NULL;
	gint64 until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

	g_free (nf_test_farm ("exec",
			      "h1",
			      "ovs-vsctl",
			      "--may-exist",
			      "add-port",
			      "br-int",
			      "nfovnt0",
			      "--",
			      "set",
			      "Interface",
			      "nfovnt0",
			      "type=internal",
			      iface_id,
			      NULL));
	while (g_get_monotonic_time () < until) {
		g_autofree gchar *up = NULL;

		g_free (chassis);
		chassis = SBCTL ("--bare", "--columns=chassis", "find", "Port_Binding", where, NULL);
		up = NBCTL ("get", "Logical_Switch_Port", port, "up", NULL);
		if (chassis[0] != '\0' && g_str_equal (up, "true"))
			break;
		g_usleep (G_USEC_PER_SEC / 5);
	}
	g_assert_cmpstr (chassis, !=, "");
	g_free (chassis);
	chassis = SBCTL ("--bare", "--columns=name", "find", "Chassis", "name=nf-farm-h1", NULL);
	g_assert_cmpstr (chassis, ==, "nf-farm-h1");
	g_free (nf_test_farm ("exec", "h1", "ovs-vsctl", "--if-exists", "del-port", "br-int", "nfovnt0", NULL));
}

/* Removals: the port, then the switch; a look-alike that is not ours (no
 * tags, another instance's) stays. */
static void
test_removals (void)
{
	g_autoptr (NfOvn) ovn = nf_ovn_new (northbound_, INSTANCE, 5000);
	g_autoptr (NfOvn) other = nf_ovn_new (northbound_, "nftest2", 5000);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *port = nf_ovn_port_name (INSTANCE, POOL, 1);
	g_autofree gchar *left = NULL;
	g_autofree gchar *foreign = NULL;
	g_autofree gchar *gone = NULL;

	g_free (NBCTL ("--may-exist", "ls-add", "nf-" POOL, NULL));
	g_assert_true (nf_ovn_ensure_switch (other, POOL, NULL, &error));
	g_assert_true (nf_ovn_remove_port (ovn, port, &error));
	g_assert_true (nf_ovn_remove_port (ovn, port, &error));
	g_assert_no_error (error);
	left = NBCTL ("--bare", "--columns=name", "find", "Logical_Switch_Port", NULL);
	g_assert_null (strstr (left, port));
	g_assert_true (nf_ovn_remove_switch (ovn, POOL, &error));
	g_assert_true (nf_ovn_remove_switch (ovn, POOL, &error));
	g_assert_no_error (error);
	foreign = NBCTL ("--bare", "--columns=name", "list", "Logical_Switch", NULL);
	g_assert_null (strstr (foreign, "nf-" INSTANCE "-" POOL));
	/* the untagged one and the other instance's are still there */
	g_assert_nonnull (strstr (foreign, "nf-" POOL));
	g_assert_nonnull (strstr (foreign, "nf-nftest2-" POOL));
	g_assert_true (nf_ovn_remove_switch (other, POOL, &error));
	g_free (NBCTL ("--if-exists", "ls-del", "nf-" POOL, NULL));
	gone = NBCTL ("--bare",
		      "--columns=name",
		      "find",
		      "Logical_Switch",
		      "external_ids:nestfarm-pool=" POOL,
		      NULL);
	g_assert_cmpuint (lines (gone), ==, 0);
}

/* A VLAN list is the switch's ACLs, made with it: tagged frames of those
 * VLANs pass, statelessly, in both directions; anything else is dropped.
 * ovn-northd turns them into logical flows (the southbound shows the
 * match), and the switch takes them away with it; the orphan sweep finds
 * switches by their pool tag. */
static void
test_vlan_filter (void)
{
	g_autoptr (NfOvn) ovn = nf_ovn_new (northbound_, INSTANCE, 5000);
	g_autoptr (GError) error = NULL;
	g_autoptr (NfVlanSet) vlans = nf_vlan_set_parse ("100,200-202", &error);
	g_autoptr (GPtrArray) pools = NULL;
	g_autofree gchar *acls = NULL;
	g_autofree gchar *flows = NULL;
	g_autofree gchar *left = NULL;
	gint64 until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

	g_assert_true (nf_ovn_ensure_switch (ovn, POOL "v", vlans, &error));
	g_assert_no_error (error);
	acls = NBCTL ("acl-list", "nf-" INSTANCE "-" POOL "v", NULL);
	g_test_message ("%s", acls);
	g_assert_cmpuint (lines (acls), ==, 4);
	g_assert_nonnull (
		strstr (acls,
			"from-lport  1001 (vlan.present && ((vlan.vid >= 200 && vlan.vid <= 202) || "
			"vlan.vid == 100)) allow-stateless"));
	g_assert_nonnull (strstr (acls, "to-lport  1000 (1) drop"));
	pools = nf_ovn_list_switches (ovn, &error);
	g_assert_no_error (error);
	g_assert_true (g_ptr_array_find_with_equal_func (pools, POOL "v", g_str_equal, NULL));
	/* northd compiles them: a match of ours reaches the southbound */
	while (g_get_monotonic_time () < until) {
		g_free (flows);
		flows = SBCTL ("--bare", "--columns=match", "list", "Logical_Flow", NULL);
		if (strstr (flows, "vlan.vid >= 200") != NULL)
			break;
		g_usleep (G_USEC_PER_SEC / 5);
	}
	g_assert_nonnull (strstr (flows, "vlan.vid >= 200"));
	g_assert_true (nf_ovn_remove_switch (ovn, POOL "v", &error));
	/* none of this pool's ACLs is left (another test's are not ours to judge) */
	left = NBCTL ("--bare",
		      "--columns=match",
		      "find",
		      "ACL",
		      "external_ids:nestfarm-pool=" POOL "v",
		      NULL);
	g_assert_cmpstr (g_strstrip (left), ==, "");
}

int
main (int argc, char **argv)
{
	g_autofree gchar *out = NULL;
	g_auto (GStrv) split = NULL;
	int rc;

	g_test_init (&argc, &argv, NULL);
	/* idempotent: a farm that is up stays as it is */
	out = nf_test_farm ("up", "2", NULL);
	split = g_strsplit (out, "\n", -1);
	for (guint i = 0; split[i] != NULL; i++) {
		if (g_str_has_prefix (split[i], "ovn-nb "))
			northbound_ = g_strdup (split[i] + 7);
		if (g_str_has_prefix (split[i], "ovn-sb "))
			southbound_ = g_strdup (split[i] + 7);
	}
	g_assert_nonnull (northbound_);
	g_assert_nonnull (southbound_);
	nb_db_ = g_strdup_printf ("--db=%s", northbound_);
	sb_db_ = g_strdup_printf ("--db=%s", southbound_);
	g_test_add_func ("/ovn/port-names", test_port_names);
	g_test_add_func ("/ovn/switch-and-ports", test_switch_and_ports);
	g_test_add_func ("/ovn/binding", test_binding);
	g_test_add_func ("/ovn/removals", test_removals);
	g_test_add_func ("/ovn/vlan-filter", test_vlan_filter);
	rc = g_test_run ();
	g_free (northbound_);
	g_free (southbound_);
	g_free (nb_db_);
	g_free (sb_db_);
	return rc;
}
