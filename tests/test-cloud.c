/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-cloud"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "nf-test-cli.h"
#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* Nodes a user can log into (issue 13), end to end on the real Debian 12
 * cloud image (tools/mkimage --cloud) under TCG: a pool of two made with
 * nestfarmctl (a key, a user, user-data, --wait-ready); each node gets its
 * fixed address on the isolated management network nestfarm makes,
 * becomes Ready, shows Nesting verified; SSH (plain, and nestfarmctl node
 * ssh with pinned host keys) reaches it: its name, the user-data ran,
 * sudo, /dev/kvm, kvm_amd with nested paging; Ansible pings both through
 * pool inventory; a reset node comes back Ready at the same address; the
 * delete leaves no seed, overlay, DHCP entry or pinned key. A pool
 * snapshot with memory brings back a deleted file and a killed process,
 * counting on from where it was (issue 14). Slow (each
 * boot is 1 to 3 minutes of CPU): the 'guest' suite, default setup only. */

#define ROOT       "/org/nestfarm/Farm1"
#define MANAGER    "org.nestfarm.Farm1.Manager"
#define POOL_IFACE "org.nestfarm.Farm1.Pool"
#define NODE_IFACE "org.nestfarm.Farm1.Node"
#define POOL       "cloud"
#define POOL_PATH  ROOT "/pool/" POOL
#define NET        "nftest-cloudnet"
#define USER       "lab"
#define NODES      2
/* How long a node may take from its start to Ready, on two busy cores. */
#define READY_TIMEOUT_S 900
/* A stopped guest agent is noticed by libvirt's agent event at once; a
 * generous bound for two busy cores. */
#define AGENT_GONE_TIMEOUT_S 120
/* What the pool's user-data writes into each node. */
#define MARK "nestfarm-user-data-applied"

static NfTestDaemon *daemon_;
static gchar *key_path;
static gchar *cli_binary;

static gchar *
node_path (guint i)
{
	return g_strdup_printf (ROOT "/node/" POOL "_2d%u", i);
}

/* nestfarmctl with @args (NULL-terminated), on the test's bus. */
static NfCliRun *G_GNUC_NULL_TERMINATED
cli (const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	va_list ap;

	g_ptr_array_add (argv, cli_binary);
	va_start (ap, first);
	for (const gchar *arg = first; arg != NULL; arg = va_arg (ap, const gchar *))
		g_ptr_array_add (argv, (gpointer) arg);
	va_end (ap);
	return nf_test_cli_run_argv (argv, NULL);
}

/* The lines of nestfarm's known-hosts file (XDG_STATE_HOME is the
 * test's) for @address. */
static guint
pinned_keys (const gchar *address)
{
	g_autofree gchar *path =
		g_build_filename (g_getenv ("XDG_STATE_HOME"), "nestfarm", "known_hosts", NULL);
	g_autofree gchar *text = NULL;
	g_autofree gchar *prefix = g_strdup_printf ("%s ", address);
	g_auto (GStrv) lines = NULL;
	guint n = 0;

	if (!g_file_get_contents (path, &text, NULL, NULL))
		return 0;
	lines = g_strsplit (text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		n += g_str_has_prefix (lines[i], prefix) ? 1 : 0;
	return n;
}

static gboolean
node_ready (guint i)
{
	g_autofree gchar *path = node_path (i);
	g_autoptr (GVariant) ready = nf_test_get_property (daemon_, path, NODE_IFACE, "Ready");

	return g_variant_get_boolean (ready);
}

/* Waits until every node is Ready; the time it took. */
static gdouble
wait_ready (guint first, guint last)
{
	gint64 began = g_get_monotonic_time ();
	gint64 deadline = began + (gint64) READY_TIMEOUT_S * G_USEC_PER_SEC;

	for (guint i = first; i <= last; i++) {
		while (!node_ready (i)) {
			if (g_get_monotonic_time () > deadline) {
				g_autofree gchar *path = node_path (i);
				g_autofree gchar *log =
					nf_test_prop_string (daemon_, path, NODE_IFACE, "ConsoleLog");
				g_autofree gchar *text = NULL;

				g_file_get_contents (log, &text, NULL, NULL);
				g_error ("%s-%u not Ready within %d s; its console ends:\n%s",
					 POOL,
					 i,
					 READY_TIMEOUT_S,
					 text != NULL ? text + MAX ((gssize) strlen (text) - 3000, 0)
						      : "(none)");
			}
			g_usleep (G_USEC_PER_SEC);
		}
	}
	return (g_get_monotonic_time () - began) / (gdouble) G_USEC_PER_SEC;
}

static gchar *
node_address (guint i)
{
	g_autofree gchar *path = node_path (i);
	g_autoptr (GVariant) addresses = nf_test_get_property (daemon_, path, NODE_IFACE, "Addresses");
	gchar *address = NULL;

	g_assert_cmpuint (g_variant_n_children (addresses), ==, 1);
	g_variant_get_child (addresses, 0, "s", &address);
	return address;
}

/* `nestfarmctl node ssh` as a user would: the key in an agent, the host
 * keys pinned from the console. */
static void
assert_node_ssh (guint i)
{
	g_autofree gchar *name = g_strdup_printf (POOL "-%u", i);
	g_autofree gchar *expect = g_strdup_printf ("%s\n", name);
	g_autofree gchar *address = node_address (i);
	g_autoptr (NfCliRun) run = cli ("node", "ssh", name, "--", "hostname", NULL);

	nf_test_cli_assert_status (run, 0);
	g_assert_cmpstr (run->out, ==, expect);
	g_assert_cmpuint (pinned_keys (address), >=, 1);
}

/* @command run on node @i over SSH as the pool's user, with the test's
 * key; its output, NULL if ssh failed. */
static gchar *
ssh_run (guint i, const gchar *command)
{
	g_autofree gchar *address = node_address (i);
	g_autofree gchar *target = g_strdup_printf (USER "@%s", address);

	return nf_test_run ("ssh",
			    "-i",
			    key_path,
			    "-o",
			    "BatchMode=yes",
			    "-o",
			    "IdentitiesOnly=yes",
			    "-o",
			    "StrictHostKeyChecking=no",
			    "-o",
			    "UserKnownHostsFile=/dev/null",
			    "-o",
			    "ConnectTimeout=20",
			    "-o",
			    "LogLevel=ERROR",
			    target,
			    command,
			    NULL);
}

/* ssh_run, tried again for up to a minute: right after a revert, a node
 * takes a few seconds to answer ARP on the management network again (its
 * neighbour entry on the host fails in the meantime, and ssh with it). */
static gchar *
ssh_run_soon (guint i, const gchar *command)
{
	gchar *out = NULL;

	for (guint attempt = 0; attempt < 30 && out == NULL; attempt++) {
		if (attempt > 0)
			g_usleep (2 * G_USEC_PER_SEC);
		out = ssh_run (i, command);
	}
	return out;
}

static void
assert_logs_in (guint i)
{
	g_autofree gchar *out = ssh_run (i,
					 "hostname; cat /run/" MARK
					 "; test -c /dev/kvm && echo kvm; sudo -n true && echo sudo; "
					 "sudo -n dmesg | grep -q 'Nested Paging enabled' && echo npt");
	g_autofree gchar *expect = g_strdup_printf (POOL "-%u\n" MARK "\nkvm\nsudo\nnpt\n", i);

	g_assert_nonnull (out);
	g_assert_cmpstr (out, ==, expect);
}

/* The README's flow: nestfarmctl makes the pool and waits until the nodes
 * are Ready; then each one is logged into. */
static void
test_create_ready (void)
{
	g_autofree gchar *pub_path = g_strdup_printf ("%s.pub", key_path);
	g_autofree gchar *user_data = g_build_filename (daemon_->dir, "user-data", NULL);
	g_autofree gchar *count = g_strdup_printf ("%d", NODES);
	g_autofree gchar *progress = g_strdup_printf ("%d of %d nodes ready", NODES, NODES);
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	g_autoptr (NfCliRun) run = NULL;
	g_autoptr (GError) error = NULL;
	gint64 began = g_get_monotonic_time ();
	const gchar *const args[] = {"pool",
				     "create",
				     POOL,
				     count,
				     "--image",
				     g_getenv ("NF_CLOUD_IMAGE"),
				     "--memory",
				     "1024",
				     "--vcpus",
				     "1",
				     "--disk",
				     "4",
				     "--ssh-key",
				     pub_path,
				     "--ssh-user",
				     USER,
				     "--user-data",
				     user_data,
				     "--wait-ready"};

	g_assert_true (g_file_set_contents (user_data,
					    "#cloud-config\nruncmd:\n  - [sh, -c, \"echo " MARK
					    " > /run/" MARK "\"]\n",
					    -1,
					    &error));
	g_assert_no_error (error);
	g_ptr_array_add (argv, cli_binary);
	for (guint i = 0; i < G_N_ELEMENTS (args); i++)
		g_ptr_array_add (argv, (gpointer) args[i]);
	run = nf_test_cli_run_argv (argv, NULL);
	nf_test_cli_assert_status (run, 0);
	g_assert_nonnull (strstr (run->out, progress));
	g_test_message ("%d cloud nodes Ready %.0f s after `pool create`",
			NODES,
			(g_get_monotonic_time () - began) / (gdouble) G_USEC_PER_SEC);
	for (guint i = 1; i <= NODES; i++) {
		g_autofree gchar *path = node_path (i);
		g_autofree gchar *nesting = nf_test_prop_string (daemon_, path, NODE_IFACE, "Nesting");

		g_assert_true (node_ready (i));
		g_assert_cmpstr (nesting, ==, "verified");
		assert_logs_in (i);
		assert_node_ssh (i);
	}
}

/* `pool inventory` as Ansible reads it, and an Ansible ping of every node
 * through it (the host keys checked against nestfarm's pins). */
static void
test_inventory (void)
{
	g_autofree gchar *path = g_build_filename (daemon_->dir, "inventory.ini", NULL);
	g_autofree gchar *home = g_strdup_printf ("HOME=%s", daemon_->dir);
	g_autoptr (NfCliRun) run = cli ("pool", "inventory", POOL, NULL);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *listed = NULL;
	g_autofree gchar *pinged = NULL;

	nf_test_cli_assert_status (run, 0);
	g_assert_true (g_file_set_contents (path, run->out, -1, &error));
	listed = nf_test_run ("env", home, "ansible-inventory", "-i", path, "--list", NULL);
	g_assert_nonnull (listed);
	for (guint i = 1; i <= NODES; i++) {
		g_autofree gchar *address = node_address (i);
		g_autofree gchar *host = g_strdup_printf ("\"ansible_host\": \"%s\"", address);

		g_assert_nonnull (strstr (listed, host));
	}
	g_assert_nonnull (strstr (listed, "\"ansible_user\": \"" USER "\""));
	pinged = nf_test_run ("env",
			      home,
			      "ANSIBLE_NOCOLOR=1",
			      "ansible",
			      "-i",
			      path,
			      "all",
			      "-m",
			      "ping",
			      "-o",
			      NULL);
	g_assert_nonnull (pinged);
	for (guint i = 1; i <= NODES; i++) {
		g_autofree gchar *line = g_strdup_printf (POOL "-%u | SUCCESS", i);

		g_assert_nonnull (strstr (pinged, line));
	}
}

/* Waits until node @i is not Ready; the time it took. */
static gdouble
wait_not_ready (guint i)
{
	gint64 began = g_get_monotonic_time ();

	while (node_ready (i)) {
		if (g_get_monotonic_time () - began > (gint64) AGENT_GONE_TIMEOUT_S * G_USEC_PER_SEC)
			g_error ("%s-%u still Ready %d s after its guest agent stopped",
				 POOL,
				 i,
				 AGENT_GONE_TIMEOUT_S);
		g_usleep (G_USEC_PER_SEC / 4);
	}
	return (g_get_monotonic_time () - began) / (gdouble) G_USEC_PER_SEC;
}

/* The guest agent is how nestfarm looks inside: a node whose agent stops
 * (a reboot inside, or a user stopping it) is not Ready until the agent
 * is back and a look inside says so again; libvirt's agent events make
 * both known without waiting for the next paced probe. */
static void
test_agent (void)
{
	g_autofree gchar *stopped = ssh_run (2, "sudo -n systemctl stop qemu-guest-agent && echo stopped");
	g_autofree gchar *started = NULL;
	gdouble took;

	g_assert_cmpstr (stopped, ==, "stopped\n");
	took = wait_not_ready (2);
	g_test_message ("not Ready %.1f s after the agent stopped", took);
	started = ssh_run (2, "sudo -n systemctl start qemu-guest-agent && echo started");
	g_assert_cmpstr (started, ==, "started\n");
	took = wait_ready (2, 2);
	g_test_message ("Ready again %.1f s after the agent started", took);
}

static void
test_reset (void)
{
	g_autofree gchar *path = node_path (1);
	g_autofree gchar *before = node_address (1);
	g_autofree gchar *after = NULL;
	g_autoptr (GVariant) reply = nf_test_call_ok (daemon_, path, NODE_IFACE, "Reset", NULL);
	gdouble took;

	nf_test_job_succeeds (daemon_, reply, 600);
	took = wait_ready (1, 1);
	g_test_message ("the reset node Ready %.0f s after its reset", took);
	after = node_address (1);
	g_assert_cmpstr (after, ==, before);
	assert_logs_in (1);
	/* New host keys: pinned anew from the console's latest boot. */
	assert_node_ssh (1);
}

/* The counter each node runs for the snapshot test, and where it counts. */
#define COUNTER_FILE "/dev/shm/nf-counter"
#define COUNTER_PID  "/dev/shm/nf-counter.pid"

/* Parses the lines of @out: each a number. */
static void
parse_numbers (const gchar *out, guint64 *numbers, guint n)
{
	g_auto (GStrv) lines = NULL;

	g_assert_nonnull (out);
	lines = g_strsplit (out, "\n", -1);
	g_assert_cmpuint (g_strv_length (lines), >=, n);
	for (guint i = 0; i < n; i++) {
		g_autoptr (GError) error = NULL;

		g_assert_true (
			g_ascii_string_to_unsigned (lines[i], 10, 0, G_MAXUINT64, &numbers[i], &error));
	}
}

static guint64
read_counter (guint i)
{
	g_autofree gchar *out = ssh_run (i, "cat " COUNTER_FILE);
	guint64 n = 0;

	parse_numbers (out, &n, 1);
	return n;
}

/* A file on disk and a process counting in memory, in node @i; the
 * process's pid. */
static guint64
start_counter (guint i)
{
	g_autofree gchar *out =
		ssh_run (i,
			 "echo kept > ~/kept; sync; "
			 "(setsid sh -c 'echo $$ > " COUNTER_PID
			 "; n=0; while :; do n=$((n+1)); echo $n > " COUNTER_FILE
			 "; sleep 0.2; done' </dev/null >/dev/null 2>&1 &); sleep 1; cat " COUNTER_PID);
	guint64 pid = 0;

	parse_numbers (out, &pid, 1);
	return pid;
}

/* Issue 14's story: a file and a counting process in each node, a
 * snapshot with memory, the file deleted and the process killed, a revert:
 * the file is back and the same process counts on from where it was when
 * the snapshot was taken. The base image is never written. */
static void
test_snapshot (void)
{
	const gchar *base = g_getenv ("NF_CLOUD_IMAGE");
	g_autofree gchar *base_sum = nf_test_sha256_file (base);
	g_autofree gchar *base_after = NULL;
	g_autoptr (NfCliRun) run = NULL;
	g_autoptr (GVariant) list = NULL;
	guint64 pid[NODES + 1] = {0}, before[NODES + 1] = {0}, broken[NODES + 1] = {0};
	gint64 began;

	for (guint i = 1; i <= NODES; i++) {
		pid[i] = start_counter (i);
		before[i] = read_counter (i);
	}
	began = g_get_monotonic_time ();
	run = cli ("snapshot", "create", POOL, "installed", NULL);
	nf_test_cli_assert_status (run, 0);
	g_test_message ("snapshot of %d 1 GiB nodes with memory: %.1f s",
			NODES,
			(g_get_monotonic_time () - began) / (gdouble) G_USEC_PER_SEC);
	g_clear_pointer (&run, nf_cli_run_free);
	/* the nodes ran on after it: break them */
	g_usleep (10 * G_USEC_PER_SEC);
	for (guint i = 1; i <= NODES; i++) {
		g_autofree gchar *out =
			ssh_run (i, "rm ~/kept && kill $(cat " COUNTER_PID "); sleep 1; cat " COUNTER_FILE);

		parse_numbers (out, &broken[i], 1);
		g_assert_cmpuint (broken[i], >, before[i] + 10);
	}

	began = g_get_monotonic_time ();
	run = cli ("snapshot", "revert", POOL, "installed", NULL);
	nf_test_cli_assert_status (run, 0);
	g_test_message ("revert of %d 1 GiB nodes with memory: %.1f s",
			NODES,
			(g_get_monotonic_time () - began) / (gdouble) G_USEC_PER_SEC);
	g_clear_pointer (&run, nf_cli_run_free);
	for (guint i = 1; i <= NODES; i++) {
		g_autofree gchar *out =
			ssh_run_soon (i,
				      "cat ~/kept; kill -0 $(cat " COUNTER_PID ") && cat " COUNTER_PID
				      "; cat " COUNTER_FILE "; sleep 2; cat " COUNTER_FILE);
		g_autofree gchar *expect = g_strdup_printf ("kept\n%" G_GUINT64_FORMAT "\n", pid[i]);
		guint64 counts[2] = {0};

		g_assert_nonnull (out);
		g_test_message ("node %u after the revert: %s", i, out);
		g_assert_true (g_str_has_prefix (out, expect));
		parse_numbers (out + strlen (expect), counts, 2);
		/* on from where it was at the snapshot, and still counting */
		g_assert_cmpuint (counts[0], >=, before[i]);
		g_assert_cmpuint (counts[0], <, broken[i]);
		g_assert_cmpuint (counts[1], >, counts[0]);
	}

	list = nf_test_get_property (daemon_, POOL_PATH, POOL_IFACE, "Snapshots");
	g_assert_cmpuint (g_variant_n_children (list), ==, 1);
	run = cli ("snapshot", "delete", POOL, "installed", NULL);
	nf_test_cli_assert_status (run, 0);
	g_clear_pointer (&list, g_variant_unref);
	list = nf_test_get_property (daemon_, POOL_PATH, POOL_IFACE, "Snapshots");
	g_assert_cmpuint (g_variant_n_children (list), ==, 0);
	base_after = nf_test_sha256_file (base);
	g_assert_cmpstr (base_after, ==, base_sum);
}

static void
test_delete (void)
{
	g_autofree gchar *address1 = node_address (1);
	g_autofree gchar *address2 = node_address (2);
	g_autoptr (NfCliRun) run = cli ("pool", "delete", POOL, "--force", NULL);
	g_autofree gchar *net = NULL;
	g_autofree gchar *vols = NULL;
	g_autofree gchar *seeds = g_strdup_printf ("%s-seeds", daemon_->storage_pool);

	nf_test_cli_assert_status (run, 0);
	g_assert_cmpuint (pinned_keys (address1), ==, 0);
	g_assert_cmpuint (pinned_keys (address2), ==, 0);
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, 0);
	nf_test_assert_dir_has_no_overlays (daemon_->storage_dir);
	vols = nf_test_run ("virsh", "-q", "vol-list", seeds, NULL);
	g_assert_nonnull (vols);
	g_assert_null (strstr (vols, ".seed.iso"));
	net = nf_test_network_xml (NET);
	g_assert_nonnull (net);
	g_assert_true (nf_test_xpath_bool (net, "count(/network/ip/dhcp/host)=0"));
}

int
main (int argc, char **argv)
{
	const gchar *const pools[] = {POOL, NULL};
	const gchar *image = g_getenv ("NF_CLOUD_IMAGE");
	g_autoptr (GSubprocess) agent = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *agent_socket = NULL;
	g_autofree gchar *state_home = NULL;
	int rc;

	g_test_init (&argc, &argv, NULL);
	if (image == NULL || !g_file_test (image, G_FILE_TEST_IS_REGULAR))
		g_error ("NF_CLOUD_IMAGE (%s) is not an image: run tools/mkimage --cloud", image);
	daemon_ = nf_test_daemon_new ("cloud", "ManagementNetwork=" NET "\nManagementNetworkMode=isolated\n");
	nf_test_remove_network (NET);
	key_path = g_build_filename (daemon_->dir, "id_ed25519", NULL);
	nf_test_assert_command_ok ("ssh-keygen",
				   "-q",
				   "-t",
				   "ed25519",
				   "-N",
				   "",
				   "-C",
				   "nestfarm-test",
				   "-f",
				   key_path,
				   NULL);
	/* The user's key in an agent, nestfarm's pins in the test's dir. */
	agent_socket = g_build_filename (daemon_->dir, "agent.sock", NULL);
	state_home = g_build_filename (daemon_->dir, "state-home", NULL);
	g_setenv ("XDG_STATE_HOME", state_home, TRUE);
	g_setenv ("SSH_AUTH_SOCK", agent_socket, TRUE);
	/* Its stdout (the shell lines it prints) is not for the TAP stream,
	 * and it holds none of the test's output pipes: a test that aborts
	 * leaves it running, and meson would wait for it until the timeout.
	 * It goes when the test does (setpriv --pdeathsig). */
	agent = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
				  &error,
				  "setpriv",
				  "--pdeathsig",
				  "TERM",
				  "--",
				  "ssh-agent",
				  "-D",
				  "-a",
				  agent_socket,
				  NULL);
	g_assert_no_error (error);
	for (guint i = 0; i < 100 && !g_file_test (agent_socket, G_FILE_TEST_EXISTS); i++)
		g_usleep (50 * 1000);
	nf_test_assert_command_ok ("ssh-add", "-q", key_path, NULL);
	cli_binary = g_build_filename (g_getenv ("NF_BUILD_ROOT"), "src", "cli", "nestfarmctl", NULL);
	nf_test_daemon_start (daemon_);
	g_test_add_func ("/cloud/create-ready", test_create_ready);
	g_test_add_func ("/cloud/inventory", test_inventory);
	g_test_add_func ("/cloud/agent", test_agent);
	g_test_add_func ("/cloud/reset", test_reset);
	g_test_add_func ("/cloud/snapshot", test_snapshot);
	g_test_add_func ("/cloud/delete", test_delete);
	rc = g_test_run ();
	g_subprocess_force_exit (agent);
	nf_test_daemon_free (daemon_, pools);
	nf_test_remove_network (NET);
	g_free (key_path);
	g_free (cli_binary);
	return rc;
}
