/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-cockpit"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>

#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* nestfarm's Cockpit page (cockpit/) end to end: Debian's chromium,
 * headless, driven by playwright-core (tests/browser/cockpit.mjs, pinned by
 * its package-lock.json), on the page served by a real cockpit-ws
 * (--no-tls --local-session=cockpit-bridge, loopback only) whose bridge
 * talks to a real nestfarmd on the test's private system bus (libvirtd,
 * QEMU/TCG, Open vSwitch, polkitd). A second cockpit-ws runs as an
 * unprivileged user. The page is installed as `meson install` lays it out
 * (DATADIR/cockpit/nestfarm), found through XDG_DATA_DIRS.
 *
 * The browser script does what a user does on the page and checks what
 * the page shows; each case here asks it for one step, then checks on
 * D-Bus and in libvirt that the daemon did it. The cases run in order and
 * share one daemon, one browser and one 256 MiB-node pool. Screenshots of
 * every step are kept in meson-logs/cockpit/. */

#define POOL      "nfck-a"
#define REFUSED   "nfck-x"
#define TEST_USER "nftest"
#define POOL_IF   "org.nestfarm.Farm1.Pool"
#define NODE_IF   "org.nestfarm.Farm1.Node"
#define HOST_IF   "org.nestfarm.Farm1.Host"

static NfTestDaemon *farm;
static gchar *world;
static GSubprocess *ws_root;
static GSubprocess *ws_user;
static GSubprocess *browser;
static GDataInputStream *answers;
static GOutputStream *requests;
static const gchar *const pools[] = {POOL, REFUSED, NULL};

/* --- the world: page, cockpit-ws, browser --- */

/* Copies the page's files where `meson install` puts them, under a data
 * directory that an unprivileged bridge can read too. */
static gchar *
install_page (void)
{
	g_autofree gchar *source = g_build_filename (g_getenv ("NF_SOURCE_ROOT"), "cockpit", NULL);
	g_autofree gchar *target = g_build_filename (world, "share", "cockpit", "nestfarm", NULL);
	g_autoptr (GDir) dir = g_dir_open (source, 0, NULL);
	const gchar *name;

	g_assert_nonnull (dir);
	g_assert_cmpint (g_mkdir_with_parents (target, 0755), ==, 0);
	while ((name = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *from = g_build_filename (source, name, NULL);
		g_autofree gchar *to = g_build_filename (target, name, NULL);
		g_autofree gchar *text = NULL;
		gsize length = 0;

		g_assert_true (g_file_get_contents (from, &text, &length, NULL));
		g_assert_true (g_file_set_contents_full (to,
							 text,
							 (gssize) length,
							 G_FILE_SET_CONTENTS_NONE,
							 0644,
							 NULL));
	}
	return g_build_filename (world, "share", NULL);
}

static guint16
free_port (void)
{
	g_autoptr (GSocketListener) listener = g_socket_listener_new ();
	g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
	g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
	g_autoptr (GSocketAddress) bound = NULL;

	g_assert_true (g_socket_listener_add_address (listener,
						      any,
						      G_SOCKET_TYPE_STREAM,
						      G_SOCKET_PROTOCOL_TCP,
						      NULL,
						      &bound,
						      NULL));
	return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
wait_listening (guint16 port)
{
	g_autoptr (GSocketClient) client = g_socket_client_new ();

	for (guint i = 0; i < 200; i++) {
		g_autoptr (GSocketConnection) connection =
			g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);

		if (connection != NULL)
			return;
		g_usleep (50 * 1000);
	}
	g_error ("cockpit-ws did not listen on 127.0.0.1:%u", port);
}

/* cockpit-ws on loopback with a local session (no login): its bridge
 * inherits the private bus's DBUS_SYSTEM_BUS_ADDRESS. With @user, it runs
 * as that user. Returns the page's address. */
static gchar *
start_cockpit (const gchar *share, const gchar *user, GSubprocess **out)
{
	g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
	g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
	g_autofree gchar *dirs = g_strdup_printf ("%s:/usr/local/share:/usr/share", share);
	g_autofree gchar *home = g_build_filename (world, user != NULL ? user : "root", NULL);
	g_autoptr (GError) error = NULL;
	guint16 port = free_port ();

	g_assert_cmpint (g_mkdir_with_parents (home, 0755), ==, 0);
	/* it dies with the test, even one that aborts (its bridge follows) */
	g_ptr_array_add (argv, g_strdup ("setpriv"));
	g_ptr_array_add (argv, g_strdup ("--pdeathsig=TERM"));
	if (user != NULL) {
		g_autofree gchar *id = g_strdup_printf ("%u", nf_test_ensure_user (user));

		nf_test_assert_command_ok ("chown", id, home, NULL);
		g_ptr_array_add (argv, g_strdup_printf ("--reuid=%s", user));
		g_ptr_array_add (argv, g_strdup_printf ("--regid=%s", user));
		g_ptr_array_add (argv, g_strdup ("--clear-groups"));
	}
	g_ptr_array_add (argv, g_strdup ("--"));
	g_ptr_array_add (argv, g_strdup ("/usr/lib/cockpit/cockpit-ws"));
	g_ptr_array_add (argv, g_strdup ("--no-tls"));
	g_ptr_array_add (argv, g_strdup ("--local-session=cockpit-bridge"));
	g_ptr_array_add (argv, g_strdup ("--address=127.0.0.1"));
	g_ptr_array_add (argv, g_strdup_printf ("--port=%u", port));
	g_ptr_array_add (argv, NULL);
	g_subprocess_launcher_setenv (launcher, "XDG_DATA_DIRS", dirs, TRUE);
	g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
	g_subprocess_launcher_unsetenv (launcher, "XDG_RUNTIME_DIR");
	*out = g_subprocess_launcher_spawnv (launcher, (const gchar *const *) argv->pdata, &error);
	g_assert_no_error (error);
	wait_listening (port);
	return g_strdup_printf ("http://127.0.0.1:%u/cockpit/@localhost/nestfarm/index.html", port);
}

/* The last run's screenshots go: only this run's are kept. */
static void
clear_screenshots (const gchar *shots)
{
	g_autoptr (GDir) dir = g_dir_open (shots, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *path = g_build_filename (shots, name, NULL);

		if (g_str_has_suffix (name, ".png"))
			g_assert_cmpint (g_unlink (path), ==, 0);
	}
}

/* The browser script (and with it chromium) ends when this test does,
 * even one that aborts. */
static void
die_with_parent (gpointer user_data)
{
	prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
start_browser (const gchar *url, const gchar *user_url)
{
	g_autoptr (GSubprocessLauncher) launcher =
		g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autofree gchar *script = g_test_build_filename (G_TEST_DIST, "browser", "cockpit.mjs", NULL);
	g_autofree gchar *modules =
		g_test_build_filename (G_TEST_DIST, "browser", "node_modules", "playwright-core", NULL);
	g_autofree gchar *shots =
		g_build_filename (g_getenv ("NF_BUILD_ROOT"), "meson-logs", "cockpit", NULL);
	g_autoptr (GError) error = NULL;

	if (!g_file_test (modules, G_FILE_TEST_IS_DIR))
		g_error ("%s is missing: tools/setup installs it (npm ci in tests/browser)", modules);
	clear_screenshots (shots);
	g_subprocess_launcher_setenv (launcher, "NF_COCKPIT_URL", url, TRUE);
	g_subprocess_launcher_setenv (launcher, "NF_COCKPIT_USER_URL", user_url, TRUE);
	g_subprocess_launcher_setenv (launcher, "NF_SCREENSHOTS", shots, TRUE);
	g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
	browser = g_subprocess_launcher_spawn (launcher, &error, "node", script, NULL);
	g_assert_no_error (error);
	answers = g_data_input_stream_new (g_subprocess_get_stdout_pipe (browser));
	requests = g_subprocess_get_stdin_pipe (browser);
}

/* Asks the browser for one step (@json_args: the rest of its JSON object,
 * or NULL) and fails the case with the browser's sentence if it failed. */
static void
step (const gchar *name, const gchar *json_args)
{
	g_autofree gchar *request = g_strdup_printf ("{\"step\":\"%s\"%s%s}\n",
						     name,
						     json_args != NULL ? "," : "",
						     json_args != NULL ? json_args : "");
	g_autoptr (GError) error = NULL;

	g_assert_true (g_output_stream_write_all (requests, request, strlen (request), NULL, NULL, &error));
	g_assert_no_error (error);
	for (;;) {
		g_autofree gchar *line = g_data_input_stream_read_line_utf8 (answers, NULL, NULL, &error);

		g_assert_no_error (error);
		if (line == NULL)
			g_error ("the browser script ended during step %s", name);
		if (g_str_equal (line, "@nf ok"))
			return;
		if (g_str_has_prefix (line, "@nf fail "))
			g_error ("browser step %s: %s", name, line + strlen ("@nf fail "));
		g_test_message ("browser: %s", line);
	}
}

/* --- D-Bus and libvirt, as the daemon sees it --- */

static guint
pool_count (void)
{
	g_autofree gchar *path = nf_test_pool_path (POOL);
	g_autoptr (GVariant) count = nf_test_get_property (farm, path, POOL_IF, "Count");

	return g_variant_get_uint32 (count);
}

static void
assert_pool (const gchar *state, guint count, guint running)
{
	g_autofree gchar *path = nf_test_pool_path (POOL);

	nf_test_wait_prop (farm, path, POOL_IF, "State", state, 60);
	g_assert_cmpuint (pool_count (), ==, count);
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, count);
	g_assert_cmpuint (nf_test_active_domains_named (POOL "-"), ==, running);
}

static gboolean
pool_has_snapshot (const gchar *name)
{
	g_autofree gchar *path = nf_test_pool_path (POOL);
	g_autoptr (GVariant) snapshots = nf_test_get_property (farm, path, POOL_IF, "Snapshots");
	GVariantIter iter;
	const gchar *each;

	g_variant_iter_init (&iter, snapshots);
	while (g_variant_iter_next (&iter, "(&sttb)", &each, NULL, NULL, NULL)) {
		if (g_str_equal (each, name))
			return TRUE;
	}
	return FALSE;
}

/* How many jobs of @operation the daemon shows (a job stays 60 s). */
static guint
jobs_of (const gchar *operation)
{
	g_autoptr (GVariant) objects = nf_test_managed_objects (farm);
	GVariantIter iter;
	GVariant *interfaces;
	guint n = 0;

	g_variant_iter_init (&iter, objects);
	while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", NULL, &interfaces)) {
		g_autoptr (GVariant) job =
			g_variant_lookup_value (interfaces, "org.nestfarm.Farm1.Job", NULL);
		const gchar *each = NULL;

		if (job != NULL && g_variant_lookup (job, "Operation", "&s", &each) &&
		    g_str_equal (each, operation))
			n++;
		g_variant_unref (interfaces);
	}
	return n;
}

/* --- the cases --- */

static void
test_open (void)
{
	step ("open", NULL);
}

static void
test_create (void)
{
	g_autofree gchar *args = g_strdup_printf ("\"pool\":\"%s\",\"count\":2,\"image\":\"%s\",\"vcpus\":1,"
						  "\"memory\":256,\"disk\":1,\"vlans\":\"100-101,300\"",
						  POOL,
						  g_getenv ("NF_TEST_IMAGE"));
	g_autofree gchar *path = nf_test_pool_path (POOL);
	g_autofree gchar *vlans = NULL;

	/* pasted into the step's JSON as it is */
	g_assert_nonnull (g_getenv ("NF_TEST_IMAGE"));
	g_assert_null (strpbrk (g_getenv ("NF_TEST_IMAGE"), "\"\\"));
	step ("create", args); /* double-clicked: one pool, one job */
	assert_pool ("ready", 2, 2);
	g_assert_cmpuint (jobs_of ("create-pool"), ==, 1);
	vlans = nf_test_prop_string (farm, path, POOL_IF, "Vlans");
	g_assert_cmpstr (vlans, ==, "100-101,300");
}

static void
test_refused (void)
{
	g_autofree gchar *path = nf_test_pool_path (REFUSED);

	step ("refused", "\"pool\":\"" REFUSED "\",\"image\":\"/var/tmp/nfck-no-such-image.qcow2\"");
	g_assert_false (nf_test_object_exists (farm, path));
	g_assert_cmpuint (nf_test_domains_named (REFUSED "-"), ==, 0);
}

static void
test_scale (void)
{
	step ("scale", "\"pool\":\"" POOL "\",\"count\":3"); /* double-clicked */
	assert_pool ("ready", 3, 3);
	g_assert_cmpuint (jobs_of ("scale-pool"), ==, 1);
}

static void
test_pool_stop_start (void)
{
	step ("poolAction",
	      "\"pool\":\"" POOL "\",\"action\":\"stop\",\"state\":\"stopped\",\"nodeState\":\"stopped\"");
	assert_pool ("stopped", 3, 0);
	step ("poolAction",
	      "\"pool\":\"" POOL "\",\"action\":\"start\",\"state\":\"ready\",\"nodeState\":\"running\"");
	assert_pool ("ready", 3, 3);
}

static void
test_node_stop_start (void)
{
	g_autofree gchar *node = nf_test_node_path (POOL, 1);

	step ("nodeAction", "\"node\":\"" POOL "-1\",\"action\":\"stop\",\"state\":\"stopped\"");
	nf_test_wait_prop (farm, node, NODE_IF, "State", "stopped", 30);
	g_assert_cmpuint (nf_test_active_domains_named (POOL "-"), ==, 2);
	step ("nodeAction", "\"node\":\"" POOL "-1\",\"action\":\"start\",\"state\":\"running\"");
	nf_test_wait_prop (farm, node, NODE_IF, "State", "running", 30);
	g_assert_cmpuint (nf_test_active_domains_named (POOL "-"), ==, 3);
}

/* Reset from the page (confirmed): one reset-node job, the node running
 * with the same MACs, and a new boot on its console. */
static void
test_node_reset (void)
{
	g_autofree gchar *node = nf_test_node_path (POOL, 3);
	g_autofree gchar *log = nf_test_prop_string (farm, node, NODE_IF, "ConsoleLog");
	g_autoptr (GVariant) macs_before = nf_test_get_property (farm, node, NODE_IF, "MACs");
	g_autoptr (GVariant) macs_after = NULL;
	guint boots;

	nf_test_wait_for_log_count (log, "NESTFARM-READY hostname=" POOL "-3", 1, 120);
	boots = nf_test_log_count (log, "NESTFARM-READY hostname=" POOL "-3");
	step ("nodeReset", "\"node\":\"" POOL "-3\"");
	g_assert_cmpuint (jobs_of ("reset-node"), ==, 1);
	nf_test_wait_prop (farm, node, NODE_IF, "State", "running", 30);
	macs_after = nf_test_get_property (farm, node, NODE_IF, "MACs");
	g_assert_true (g_variant_equal (macs_before, macs_after));
	nf_test_wait_for_log_count (log, "NESTFARM-READY hostname=" POOL "-3", boots + 1, 120);
	g_assert_cmpuint (nf_test_active_domains_named (POOL "-"), ==, 3);
}

/* The console of a node, followed while the node restarts (over D-Bus:
 * the dialog stays open). */
static void
test_console (void)
{
	g_autofree gchar *node = nf_test_node_path (POOL, 2);
	g_autoptr (GVariant) stop = NULL;
	g_autoptr (GVariant) start = NULL;

	/* the tiny guest says so on its console when it is up */
	step ("console", "\"node\":\"" POOL "-2\",\"expect\":\"NESTFARM-READY\"");
	stop = nf_test_call_ok (farm, node, NODE_IF, "Stop", "({'force': <true>},)");
	nf_test_job_succeeds (farm, stop, 60);
	start = nf_test_call_ok (farm, node, NODE_IF, "Start", NULL);
	nf_test_job_succeeds (farm, start, 60);
	step ("consoleFollow", "\"expect\":\"NESTFARM-READY\"");
}

static void
test_snapshots (void)
{
	step ("snapshot", "\"pool\":\"" POOL "\",\"name\":\"base\"");
	g_assert_true (pool_has_snapshot ("base"));
	step ("screenshot", "\"name\":\"overview\"");
	step ("revert", "\"pool\":\"" POOL "\",\"name\":\"base\"");
	assert_pool ("ready", 3, 3);
	step ("deleteSnapshot", "\"pool\":\"" POOL "\",\"name\":\"base\"");
	g_assert_false (pool_has_snapshot ("base"));
}

static void
test_unprivileged (void)
{
	step ("unprivileged", "\"pool\":\"" POOL "\"");
	assert_pool ("ready", 3, 3);
}

/* A drain of the only host fails (nowhere to move the nodes): the page
 * shows the job's sentence; Activate brings the host back. */
static void
test_host_drain_fails (void)
{
	g_autofree gchar *host = g_strdup ("/org/nestfarm/Farm1/host/local");

	step ("hostAction",
	      "\"host\":\"local\",\"action\":\"drain\",\"state\":\"draining\",\"fails\":\"" POOL "-1\"");
	nf_test_wait_prop (farm, host, HOST_IF, "State", "draining", 10);
	step ("hostAction", "\"host\":\"local\",\"action\":\"activate\",\"state\":\"online\"");
	nf_test_wait_prop (farm, host, HOST_IF, "State", "online", 10);
	assert_pool ("ready", 3, 3);
}

static void
test_daemon_restart (void)
{
	nf_test_daemon_stop (farm);
	step ("waitDown", NULL);
	nf_test_daemon_start (farm);
	step ("waitUp", "\"pool\":\"" POOL "\",\"nodes\":3");
	assert_pool ("ready", 3, 3);
}

static void
test_delete (void)
{
	g_autofree gchar *path = nf_test_pool_path (POOL);

	step ("deletePool", "\"pool\":\"" POOL "\"");
	for (guint i = 0; i < 100 && nf_test_object_exists (farm, path); i++)
		g_usleep (100 * 1000);
	g_assert_false (nf_test_object_exists (farm, path));
	g_assert_cmpuint (nf_test_domains_named (POOL "-"), ==, 0);
}

static void
stop_child (GSubprocess **child)
{
	if (*child == NULL)
		return;
	g_subprocess_send_signal (*child, SIGTERM);
	g_subprocess_wait (*child, NULL, NULL);
	g_clear_object (child);
}

int
main (int argc, char **argv)
{
	g_autofree gchar *share = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *user_url = NULL;
	gint status;

	g_test_init (&argc, &argv, NULL);
	world = nf_test_make_world_dir ("nf-cockpit");
	g_assert_cmpint (g_chmod (world, 0755), ==, 0);
	farm = nf_test_daemon_new ("ckp", NULL);
	nf_test_daemon_start (farm);
	share = install_page ();
	url = start_cockpit (share, NULL, &ws_root);
	user_url = start_cockpit (share, TEST_USER, &ws_user);
	start_browser (url, user_url);
	g_test_add_func ("/cockpit/open", test_open);
	g_test_add_func ("/cockpit/create-refused", test_refused);
	g_test_add_func ("/cockpit/create", test_create);
	g_test_add_func ("/cockpit/scale", test_scale);
	g_test_add_func ("/cockpit/pool-stop-start", test_pool_stop_start);
	g_test_add_func ("/cockpit/node-stop-start", test_node_stop_start);
	g_test_add_func ("/cockpit/node-reset", test_node_reset);
	g_test_add_func ("/cockpit/console", test_console);
	g_test_add_func ("/cockpit/snapshots", test_snapshots);
	g_test_add_func ("/cockpit/unprivileged", test_unprivileged);
	g_test_add_func ("/cockpit/host-drain-fails", test_host_drain_fails);
	g_test_add_func ("/cockpit/daemon-restart", test_daemon_restart);
	g_test_add_func ("/cockpit/delete", test_delete);
	status = g_test_run ();
	g_output_stream_close (requests, NULL, NULL);
	g_subprocess_wait (browser, NULL, NULL);
	g_clear_object (&answers);
	g_clear_object (&browser);
	stop_child (&ws_user);
	stop_child (&ws_root);
	nf_test_daemon_free (farm, pools);
	nf_test_rm_rf (world);
	g_free (world);
	return status;
}
