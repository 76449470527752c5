/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-guest-power"

#include "config.h"

#include <gio/gio.h>

#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* How nestfarmd paces and powers off real guests (the tiny image under TCG):
 * paced boots, and a guest that ignores the ACPI power button. Each case
 * waits on guests booting or on a shutdown timeout, so this program is in
 * suite 'guest', which only the default setup runs; the daemon code it
 * drives is the same that the daemon and faults suites run under the
 * sanitizers. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define JOB_IFACE  "org.nestfarm.Farm1.Job"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define POOL       "ppace"
/* The management network the test daemon makes (isolated). */
#define NET "nftest-pnet"
/* nf-pacer.h: NF_PACER_SAMPLE_S, how often a booting node's CPU is read */
#define PACER_SAMPLE_S 3

static NfTestDaemon *daemon_;

/* Paced boots (nestfarmd.conf BootsAtOnce=1): the nodes of a pool start one
 * after the other, the second once the first has booted (the tiny image
 * never turns Ready: its CPU going quiet ends its boot), and the job ends
 * when the last has started. Without pacing (BootsAtOnce=0) the same pool
 * starts all at once. */

/* Creates a pool of @count nodes and notes when each was first seen
 * running in libvirt (seconds from the call) in @first_seen. */
static void
pace_pool (guint count, gdouble *first_seen)
{
	g_autofree gchar *job = nf_test_create_pool_job (daemon_, POOL, count, "'ssh-user': <'tester'>");
	g_autofree gchar *state = NULL;
	gint64 began = g_get_monotonic_time ();
	gdouble took;
	guint seen = 0;

	/* the job object stays for 60 s after it ends: State says when */
	while (TRUE) {
		g_autofree gchar *now = nf_test_prop_string (daemon_, job, JOB_IFACE, "State");
		guint active = nf_test_active_domains_named (POOL "-");
		gdouble at = (gdouble) (g_get_monotonic_time () - began) / G_USEC_PER_SEC;

		for (; seen < active && seen < count; seen++)
			first_seen[seen] = at;
		if (!g_str_equal (now, "running"))
			break;
		g_assert_cmpfloat (at, <, 600);
		g_usleep (G_USEC_PER_SEC / 4);
	}
	took = (gdouble) (g_get_monotonic_time () - began) / G_USEC_PER_SEC;
	state = nf_test_wait_job (daemon_, job, 10, NULL);
	g_assert_cmpstr (state, ==, "succeeded");
	g_assert_cmpuint (nf_test_active_domains_named (POOL "-"), ==, count);
	for (; seen < count; seen++)
		first_seen[seen] = took;
}

static void
restart_with (const gchar *base, const gchar *line)
{
	g_autofree gchar *text = g_strconcat (base, line, NULL);
	g_autoptr (GError) error = NULL;

	nf_test_daemon_stop (daemon_);
	g_assert_true (g_file_set_contents (daemon_->config, text, -1, &error));
	nf_test_daemon_start (daemon_);
}

static void
test_paced_boots (void)
{
	g_autofree gchar *config = NULL;
	g_autoptr (GError) error = NULL;
	gdouble at[2] = {0}, all_at[2] = {0};

	g_assert_true (g_file_get_contents (daemon_->config, &config, NULL, &error));
	restart_with (config, "BootsAtOnce=1\n");
	pace_pool (2, at);
	g_test_message ("paced: the nodes ran at %.1f and %.1f s", at[0], at[1]);
	/* the second started once the first was quiet for a whole reading */
	g_assert_cmpfloat (at[1] - at[0], >=, PACER_SAMPLE_S - 0.5);
	nf_test_delete_pool (daemon_, POOL, FALSE);

	restart_with (config, "BootsAtOnce=0\n");
	pace_pool (2, all_at);
	g_test_message ("all at once: the nodes ran at %.1f and %.1f s", all_at[0], all_at[1]);
	g_assert_cmpfloat (all_at[1] - all_at[0], <, at[1] - at[0]);
	nf_test_delete_pool (daemon_, POOL, FALSE);
}

/* A guest that ignores the power button: a delete waits the whole
 * shutdown timeout, then forces it off, and says so. */
static void
test_acpi_ignored (void)
{
	g_autofree gchar *node = nf_test_node_path ("pacpi", 1);
	g_autofree gchar *path = nf_test_pool_path ("pacpi");
	g_autofree gchar *console = NULL;
	g_autofree gchar *job = NULL;
	g_autofree gchar *step = NULL;
	g_autoptr (GVariant) reply = NULL;
	gint64 start;
	gdouble took;

	nf_test_create_pool (daemon_, "pacpi", 1, "'profile': <'ignore-acpi'>");
	console = nf_test_prop_string (daemon_, node, NODE_IFACE, "ConsoleLog");
	nf_test_wait_for_log_line (console, "NESTFARM-READY hostname=pacpi-1", 180);

	start = g_get_monotonic_time ();
	reply = nf_test_call_ok (daemon_, path, POOL_IFACE, "Delete", "({'shutdown-timeout': <uint32 6>},)");
	job = nf_test_reply_job (reply);
	/* the guest gets the button and ignores it (the log goes with the
	 * node, so look while the daemon waits) */
	nf_test_wait_for_log_line (console, "NESTFARM-ACPI-IGNORED", 5);
	nf_test_job_succeeds (daemon_, reply, 120);
	took = (gdouble) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
	step = nf_test_prop_string (daemon_, job, JOB_IFACE, "Step");
	g_test_message ("delete of a guest that ignores ACPI: %.1f s: %s", took, step);

	/* the daemon waited the whole timeout, then forced it, and says so */
	g_assert_cmpfloat (took, >=, 6.0);
	g_assert_cmpstr (step,
			 ==,
			 "Deleted pool pacpi; 1 node did not power off within 6 s and was forced off.");
	g_assert_cmpuint (nf_test_domains_named ("pacpi-"), ==, 0);
	g_assert_cmpuint (nf_test_assert_consistent (daemon_, "pacpi", 0), ==, 0);
}

int
main (int argc, char **argv)
{
	const gchar *const pools[] = {POOL, "pacpi", NULL};
	int rc;

	g_test_init (&argc, &argv, NULL);
	daemon_ = nf_test_daemon_new ("power",
				      "ShutdownTimeout=30\nParallelism=4\nManagementNetwork=" NET
				      "\nManagementNetworkMode=isolated\n");
	nf_test_daemon_add_ignore_acpi (daemon_);
	nf_test_remove_network (NET);
	nf_test_daemon_start (daemon_);
	g_test_add_func ("/guest-power/acpi-ignored", test_acpi_ignored);
	g_test_add_func ("/guest-power/paced-boots", test_paced_boots);
	rc = g_test_run ();
	nf_test_daemon_free (daemon_, pools);
	nf_test_remove_network (NET);
	return rc;
}
