/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-test-daemon"

#include "config.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/wait.h>

#include "nestfarm/nf-ovs.h"
#include "nestfarm/nf-storage.h"
#include "nestfarm/nf-names.h"
#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* Test daemons: a private system bus with the project's policy and a polkitd
 * of its own, a real nestfarmd on it, D-Bus call helpers, and the check that
 * the daemon, libvirt and OVS agree. */

#define NF_BUS_NAME "org.nestfarm.Farm1"

static void
copy_if_changed (const gchar *src, const gchar *dst)
{
	g_autofree gchar *a = NULL;
	g_autofree gchar *b = NULL;
	g_autoptr (GError) error = NULL;

	g_assert_true (g_file_get_contents (src, &a, NULL, &error));
	if (g_file_get_contents (dst, &b, NULL, NULL) && g_strcmp0 (a, b) == 0)
		return;
	g_assert_true (g_file_set_contents (dst, a, -1, &error));
	g_assert_no_error (error);
}

/* polkitd reads actions from this one directory only; the file is the
 * one `meson install` puts there, so an installed copy stays as it was. */
void
nf_test_install_policies (void)
{
	const gchar *root = g_getenv ("NF_SOURCE_ROOT");
	g_autofree gchar *polkit_policy =
		g_build_filename (root, "systemd", "org.nestfarm.farm1.policy", NULL);

	g_assert_nonnull (root);
	g_mkdir_with_parents ("/usr/share/polkit-1/actions", 0755);
	copy_if_changed (polkit_policy, "/usr/share/polkit-1/actions/org.nestfarm.farm1.policy");
}

/* --- a private system bus ---
 *
 * Test daemons own org.nestfarm.Farm1 on a dbus-daemon of the test's own,
 * configured as the system bus is (the system's own system.conf, its
 * listen address, includes and user switch taken out) with the project's
 * bus policy, and a polkitd attached to it: an installed nestfarmd, its
 * name and its pools on the real system bus are never touched. Everything
 * in the test process and its children (nestfarmctl, gdbus) reaches it
 * through DBUS_SYSTEM_BUS_ADDRESS. Both die with the test process. */

#define SYSTEM_BUS_CONF "/usr/share/dbus-1/system.conf"
#define POLKIT_BUS_CONF "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf"
#define POLKITD         "/usr/lib/polkit-1/polkitd"

static gchar *private_bus_dir;
static GPid private_bus_pid;
static GPid private_polkit_pid;

/* At a normal exit; after an abort the death signal stops dbus-daemon,
 * and polkitd (which changed its user, so that signal no longer reaches
 * it) exits when its bus goes away. */
static void
private_bus_down (void)
{
	if (private_bus_pid != 0)
		kill (private_bus_pid, SIGTERM);
	nf_test_rm_rf (private_bus_dir);
}

static void
add_text_child (xmlNode *parent, const gchar *name, const gchar *text)
{
	xmlNewTextChild (parent, NULL, (const xmlChar *) name, (const xmlChar *) text);
}

static gchar *
private_bus_config (const gchar *address)
{
	const gchar *root = g_getenv ("NF_SOURCE_ROOT");
	g_autofree gchar *own_policy = g_build_filename (root, "systemd", "org.nestfarm.Farm1.conf", NULL);
	/* What makes it the machine's bus rather than a bus like it. */
	static const gchar *const dropped[] = {
		"user",
		"fork",
		"pidfile",
		"syslog",
		"listen",
		"include",
		"includedir",
		"servicehelper",
		"standard_system_servicedirs",
		"servicedir",
		NULL,
	};
	xmlDocPtr doc = xmlReadFile (SYSTEM_BUS_CONF, NULL, XML_PARSE_NONET);
	xmlNode *busconfig;
	xmlNode *child;
	xmlNode *policy;
	xmlChar *text = NULL;
	gchar *result;
	int len = 0;

	if (doc == NULL)
		g_error ("cannot read %s (package dbus): the private test bus is made from it",
			 SYSTEM_BUS_CONF);
	busconfig = xmlDocGetRootElement (doc);
	child = busconfig->children;
	while (child != NULL) {
		xmlNode *next = child->next;

		if (child->type == XML_ELEMENT_NODE &&
		    g_strv_contains (dropped, (const gchar *) child->name)) {
			xmlUnlinkNode (child);
			xmlFreeNode (child);
		}
		child = next;
	}
	add_text_child (busconfig, "listen", address);
	add_text_child (busconfig, "include", own_policy);
	add_text_child (busconfig, "include", POLKIT_BUS_CONF);
	/* polkitd runs as root here, not as its own user. */
	policy = xmlNewChild (busconfig, NULL, (const xmlChar *) "policy", NULL);
	xmlNewProp (policy, (const xmlChar *) "user", (const xmlChar *) "root");
	child = xmlNewChild (policy, NULL, (const xmlChar *) "allow", NULL);
	xmlNewProp (child, (const xmlChar *) "own", (const xmlChar *) "org.freedesktop.PolicyKit1");
	xmlDocDumpFormatMemory (doc, &text, &len, 1);
	result = g_strndup ((const gchar *) text, len);
	xmlFree (text);
	xmlFreeDoc (doc);
	return result;
}

static void
kill_with_parent (gpointer user_data)
{
	prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static GPid
spawn_logged (const gchar *const *argv, const gchar *log)
{
	g_autoptr (GError) error = NULL;
	gint log_fd = g_open (log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	GPid pid = 0;

	g_assert_cmpint (log_fd, >=, 0);
	/* DO_NOT_REAP_CHILD: without it GLib forks twice, and the parent
	 * that the death signal watches would be the short-lived middle one. */
	g_spawn_async_with_fds (NULL,
				(gchar **) argv,
				NULL,
				G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
				kill_with_parent,
				NULL,
				&pid,
				-1,
				log_fd,
				log_fd,
				&error);
	close (log_fd);
	g_assert_no_error (error);
	return pid;
}

static gboolean
bus_name_owned (GDBusConnection *bus, const gchar *name)
{
	g_autoptr (GVariant) reply = g_dbus_connection_call_sync (bus,
								  "org.freedesktop.DBus",
								  "/org/freedesktop/DBus",
								  "org.freedesktop.DBus",
								  "NameHasOwner",
								  g_variant_new ("(s)", name),
								  G_VARIANT_TYPE ("(b)"),
								  G_DBUS_CALL_FLAGS_NONE,
								  5000,
								  NULL,
								  NULL);
	gboolean owned = FALSE;

	if (reply != NULL)
		g_variant_get (reply, "(b)", &owned);
	return owned;
}

static void
fail_with_log (const gchar *what, const gchar *log)
{
	g_autofree gchar *text = NULL;

	g_file_get_contents (log, &text, NULL, NULL);
	g_error ("%s; its log %s:\n%s", what, log, text != NULL ? text : "(none)");
}

static GDBusConnection *
connect_private_bus (const gchar *address, gint64 deadline, const gchar *bus_log)
{
	GDBusConnection *bus;

	while ((bus = g_dbus_connection_new_for_address_sync (address,
							      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							      NULL,
							      NULL,
							      NULL)) == NULL) {
		if (g_get_monotonic_time () > deadline)
			fail_with_log ("the private test bus did not answer within 20 s", bus_log);
		g_usleep (20 * 1000);
	}
	/* A test outlives a bus it restarts on purpose. */
	g_dbus_connection_set_exit_on_close (bus, FALSE);
	return bus;
}

/* dbus-daemon, then polkitd on it; returns a connection of the test's own. */
static GDBusConnection *
private_bus_spawn (void)
{
	g_autofree gchar *address = g_strdup_printf ("unix:path=%s/system_bus_socket", private_bus_dir);
	g_autofree gchar *socket = g_build_filename (private_bus_dir, "system_bus_socket", NULL);
	g_autofree gchar *config_path = g_build_filename (private_bus_dir, "system.conf", NULL);
	g_autofree gchar *config_arg = g_strdup_printf ("--config-file=%s", config_path);
	g_autofree gchar *bus_log = g_build_filename (private_bus_dir, "dbus-daemon.log", NULL);
	g_autofree gchar *polkit_log = g_build_filename (private_bus_dir, "polkitd.log", NULL);
	const gchar *bus_argv[] = {"dbus-daemon", config_arg, "--nofork", "--nopidfile", "--nosyslog", NULL};
	const gchar *polkit_argv[] = {POLKITD, "--no-debug", NULL};
	GDBusConnection *bus;
	gint64 deadline;

	g_unlink (socket);
	private_bus_pid = spawn_logged (bus_argv, bus_log);
	bus = connect_private_bus (address, g_get_monotonic_time () + 20 * G_USEC_PER_SEC, bus_log);
	/* From here on the test and its children use it as the system bus. */
	if (g_strcmp0 (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"), address) != 0)
		g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
	private_polkit_pid = spawn_logged (polkit_argv, polkit_log);
	deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
	while (!bus_name_owned (bus, "org.freedesktop.PolicyKit1")) {
		if (g_get_monotonic_time () > deadline)
			fail_with_log ("polkitd did not join the private test bus within 30 s", polkit_log);
		g_usleep (20 * 1000);
	}
	g_test_message ("private system bus %s with polkitd", address);
	return bus;
}

void
nf_test_private_bus_up (void)
{
	g_autofree gchar *address = NULL;
	g_autofree gchar *config = NULL;
	g_autofree gchar *config_path = NULL;
	g_autoptr (GDBusConnection) bus = NULL;

	if (private_bus_dir != NULL)
		return;
	/* World-readable: unprivileged test callers connect to it too. */
	private_bus_dir = nf_test_make_world_dir ("nf-bus");
	atexit (private_bus_down);
	address = g_strdup_printf ("unix:path=%s/system_bus_socket", private_bus_dir);
	config = private_bus_config (address);
	config_path = g_build_filename (private_bus_dir, "system.conf", NULL);
	g_assert_true (g_file_set_contents (config_path, config, -1, NULL));
	bus = private_bus_spawn ();
}

GDBusConnection *
nf_test_private_bus_connect (void)
{
	g_autofree gchar *bus_log = g_build_filename (private_bus_dir, "dbus-daemon.log", NULL);

	g_assert_nonnull (private_bus_dir);
	return connect_private_bus (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"),
				    g_get_monotonic_time () + 20 * G_USEC_PER_SEC,
				    bus_log);
}

void
nf_test_private_bus_restart (NfTestDaemon *d)
{
	gint status;

	g_assert_cmpint (private_bus_pid, >, 0);
	kill (private_bus_pid, SIGTERM);
	g_assert_cmpint (waitpid (private_bus_pid, &status, 0), ==, private_bus_pid);
	private_bus_pid = 0;
	/* The old polkitd goes with its bus: not a death to report. */
	kill (private_polkit_pid, SIGTERM);
	waitpid (private_polkit_pid, &status, 0);
	private_polkit_pid = 0;
	/* The old polkitd leaves with its bus; the new one starts fresh. */
	g_clear_object (&d->bus);
	g_object_unref (private_bus_spawn ());
	d->bus = nf_test_private_bus_connect ();
}

NfTestDaemon *
nf_test_daemon_new (const gchar *tag, const gchar *extra_config)
{
	NfTestDaemon *d = g_new0 (NfTestDaemon, 1);
	g_autofree gchar *text = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *image = nf_test_require_image ();

	nf_test_lock_take ();
	nf_test_install_policies ();
	nf_test_private_bus_up ();
	d->dir = nf_test_make_world_dir ("nf-daemon");
	d->config = g_build_filename (d->dir, "nestfarmd.conf", NULL);
	d->state_dir = g_build_filename (d->dir, "state", NULL);
	d->storage_dir = g_build_filename (d->dir, "images", NULL);
	d->console_dir = g_build_filename (d->dir, "console", NULL);
	d->log = g_build_filename (d->dir, "nestfarmd.log", NULL);
	d->storage_pool = g_strdup_printf ("nftest-%s", tag);
	d->bridge = g_strdup_printf ("nft-%s", tag);
	g_assert_cmpuint (strlen (d->bridge), <=, 15);
	g_mkdir_with_parents (d->storage_dir, 0755);
	/* what a run of this test that failed halfway left */
	nf_test_remove_storage_pool (d->storage_pool);
	g_free (nf_test_run ("ovs-vsctl", "--timeout=5", "--if-exists", "del-br", d->bridge, NULL));
	text = g_strdup_printf ("[Daemon]\n"
				"StateDirectory=%s\n"
				"StoragePool=%s\n"
				"StorageDirectory=%s\n"
				"ConsoleLogDirectory=%s\n"
				"TemplateDirectory=%s\n"
				"DefaultImage=%s\n"
				"TrunkBridge=%s\n"
				"Datapath=netdev\n"
				"Instance=" NF_TEST_INSTANCE "\n"
				"%s"
				"%s",
				d->state_dir,
				d->storage_pool,
				d->storage_dir,
				d->console_dir,
				g_getenv ("NF_TEMPLATE_DIR"),
				image,
				d->bridge,
				/* Never the installed daemon's network: a test
				 * that wants one names its own. */
				extra_config != NULL && strstr (extra_config, "ManagementNetwork=") != NULL
					? ""
					: "ManagementNetwork=\n",
				extra_config != NULL ? extra_config : "");
	g_assert_true (g_file_set_contents (d->config, text, -1, &error));
	d->bus = nf_test_private_bus_connect ();
	return d;
}

static gboolean
name_has_owner (GDBusConnection *bus)
{
	return bus_name_owned (bus, NF_BUS_NAME);
}

/* A test that dies takes its daemon with it. */
static void
child_setup (gpointer user_data)
{
	prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* A failing assertion aborts (or traps, for g_error) before any cleanup
 * could print the daemon's log: a handler shows its tail on stderr, which
 * meson prints with the failure. Only async-signal-safe calls. */
static gchar failure_log[4096];

static void
write_all (gint fd, const gchar *buf, gssize len)
{
	while (len > 0) {
		gssize n = write (fd, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static void
write_number (gint fd, gint value)
{
	gchar digits[16];
	gsize at = sizeof (digits);

	do {
		digits[--at] = (gchar) ('0' + value % 10);
		value /= 10;
	} while (value > 0 && at > 0);
	write_all (fd, digits + at, sizeof (digits) - at);
}

/* Whether the private bus's polkitd still runs, and if not how it ended:
 * a test that is refused by "PolicyKit1 was not provided" says why. */
static void
show_polkit_state (void)
{
	static const gchar head[] = "\n--- the private bus's polkitd (pid ";
	gint status = 0;
	pid_t got;

	if (private_polkit_pid <= 0)
		return;
	write_all (STDERR_FILENO, head, sizeof (head) - 1);
	write_number (STDERR_FILENO, private_polkit_pid);
	got = waitpid (private_polkit_pid, &status, WNOHANG);
	if (got == 0) {
		write_all (STDERR_FILENO, ") runs\n", 7);
	} else if (got == private_polkit_pid && WIFSIGNALED (status)) {
		write_all (STDERR_FILENO, ") was killed by signal ", 23);
		write_number (STDERR_FILENO, WTERMSIG (status));
		write_all (STDERR_FILENO, "\n", 1);
	} else if (got == private_polkit_pid && WIFEXITED (status)) {
		write_all (STDERR_FILENO, ") exited with status ", 21);
		write_number (STDERR_FILENO, WEXITSTATUS (status));
		write_all (STDERR_FILENO, "\n", 1);
	} else {
		write_all (STDERR_FILENO, ") is gone\n", 10);
	}
}

static void
show_daemon_log (gint sig)
{
	static const gchar head[] = "\n--- the last 64 KiB of the test daemon's log ---\n";
	gchar buf[4096];
	gint fd = failure_log[0] != '\0' ? open (failure_log, O_RDONLY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		off_t size = lseek (fd, 0, SEEK_END);
		gssize n;

		lseek (fd, size > 65536 ? size - 65536 : 0, SEEK_SET);
		write_all (STDERR_FILENO, head, sizeof (head) - 1);
		while ((n = read (fd, buf, sizeof (buf))) > 0)
			write_all (STDERR_FILENO, buf, n);
		close (fd);
	}
	show_polkit_state ();
	signal (sig, SIG_DFL);
	raise (sig);
}

static void
show_log_on_failure (const gchar *log)
{
	static gboolean installed;

	g_strlcpy (failure_log, log, sizeof (failure_log));
	if (installed)
		return;
	installed = TRUE;
	signal (SIGABRT, show_daemon_log);
	signal (SIGTRAP, show_daemon_log);
}

void
nf_test_daemon_start (NfTestDaemon *d)
{
	g_autofree gchar *binary =
		g_build_filename (g_getenv ("NF_BUILD_ROOT"), "src", "daemon", "nestfarmd", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	const gchar *wrapper = g_getenv ("NF_DAEMON_WRAPPER");
	g_auto (GStrv) wrapper_argv = NULL;
	gint log_fd;
	gint64 deadline;

	/* An earlier test's daemon must be gone first. */
	deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
	while (name_has_owner (d->bus) && g_get_monotonic_time () < deadline)
		g_usleep (100 * 1000);
	g_assert_false (name_has_owner (d->bus));
	show_log_on_failure (d->log);

	if (wrapper != NULL && wrapper[0] != '\0') {
		g_assert_true (g_shell_parse_argv (wrapper, NULL, &wrapper_argv, &error));
		for (guint i = 0; wrapper_argv[i] != NULL; i++)
			g_ptr_array_add (argv, wrapper_argv[i]);
	}
	g_ptr_array_add (argv, binary);
	g_ptr_array_add (argv, (gpointer) "--verbose");
	g_ptr_array_add (argv, (gpointer) "--config");
	g_ptr_array_add (argv, d->config);
	g_ptr_array_add (argv, NULL);
	log_fd = g_open (d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	g_assert_cmpint (log_fd, >=, 0);
	g_assert_true (g_spawn_async_with_fds (NULL,
					       (gchar **) argv->pdata,
					       NULL,
					       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
					       child_setup,
					       NULL,
					       &d->pid,
					       -1,
					       log_fd,
					       log_fd,
					       &error));
	g_assert_no_error (error);
	close (log_fd);
	deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
	while (!name_has_owner (d->bus)) {
		gint status;

		if (waitpid (d->pid, &status, WNOHANG) == d->pid) {
			g_autofree gchar *log = NULL;

			g_file_get_contents (d->log, &log, NULL, NULL);
			g_error ("nestfarmd exited at start:\n%s", log);
		}
		if (g_get_monotonic_time () > deadline)
			g_error ("nestfarmd did not own %s within 120 s", NF_BUS_NAME);
		g_usleep (50 * 1000);
	}
}

static gint
wait_exit (GPid pid, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
	gint status = 0;

	while (waitpid (pid, &status, WNOHANG) != pid) {
		if (g_get_monotonic_time () > deadline)
			g_error ("nestfarmd did not exit within %u s", timeout_s);
		g_usleep (50 * 1000);
	}
	return status;
}

void
nf_test_daemon_stop (NfTestDaemon *d)
{
	gint status;

	if (d->pid == 0)
		return;
	kill (d->pid, SIGTERM);
	status = wait_exit (d->pid, 180);
	g_spawn_close_pid (d->pid);
	d->pid = 0;
	g_assert_true (WIFEXITED (status));
	g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

void
nf_test_daemon_kill (NfTestDaemon *d)
{
	if (d->pid == 0)
		return;
	kill (d->pid, SIGKILL);
	wait_exit (d->pid, 30);
	g_spawn_close_pid (d->pid);
	d->pid = 0;
}

gboolean
nf_test_daemon_wait_death (NfTestDaemon *d, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
	gint status = 0;

	while (g_get_monotonic_time () < deadline) {
		if (waitpid (d->pid, &status, WNOHANG) == d->pid) {
			g_spawn_close_pid (d->pid);
			d->pid = 0;
			return TRUE;
		}
		g_usleep (50 * 1000);
	}
	return FALSE;
}

gboolean
nf_test_daemon_alive (NfTestDaemon *d)
{
	return d->pid != 0 && kill (d->pid, 0) == 0 && name_has_owner (d->bus);
}

void
nf_test_daemon_free (NfTestDaemon *d, const gchar *const *pools)
{
	g_autofree gchar *log = NULL;

	if (d == NULL)
		return;
	if (d->pid != 0)
		nf_test_daemon_kill (d);
	if (g_file_get_contents (d->log, &log, NULL, NULL))
		g_test_message ("nestfarmd log:\n%s", log);
	for (guint i = 0; pools != NULL && pools[i] != NULL; i++)
		nf_test_cleanup_leftovers (pools[i], NULL);
	nf_test_cleanup_leftovers ("nftest-never", d->bridge);
	nf_test_remove_storage_pool (d->storage_pool);
	nf_test_rm_rf (d->dir);
	g_clear_object (&d->bus);
	g_free (d->dir);
	g_free (d->config);
	g_free (d->state_dir);
	g_free (d->storage_dir);
	g_free (d->console_dir);
	g_free (d->storage_pool);
	g_free (d->bridge);
	g_free (d->log);
	g_free (d);
	nf_test_lock_release ();
}

GVariant *
nf_test_call (NfTestDaemon *d,
	      const gchar *path,
	      const gchar *iface,
	      const gchar *method,
	      GVariant *args,
	      GError **error)
{
	/* Owns @args whether floating (consumed by the call) or not
	 * (g_variant_parse's result). */
	g_autoptr (GVariant) owned = args != NULL ? g_variant_take_ref (args) : NULL;

	return g_dbus_connection_call_sync (d->bus,
					    NF_BUS_NAME,
					    path,
					    iface,
					    method,
					    owned,
					    NULL,
					    G_DBUS_CALL_FLAGS_NONE,
					    30000,
					    NULL,
					    error);
}

GVariant *
nf_test_get_property (NfTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = nf_test_call (d,
						   path,
						   "org.freedesktop.DBus.Properties",
						   "Get",
						   g_variant_new ("(ss)", iface, name),
						   &error);
	GVariant *value = NULL;

	g_assert_no_error (error);
	g_variant_get (reply, "(v)", &value);
	return value;
}

gchar *
nf_test_wait_job (NfTestDaemon *d, const gchar *path, guint timeout_s, gchar **message)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

	for (;;) {
		g_autoptr (GVariant) state =
			nf_test_get_property (d, path, "org.nestfarm.Farm1.Job", "State");

		if (g_strcmp0 (g_variant_get_string (state, NULL), "running") != 0) {
			if (message != NULL) {
				g_autoptr (GVariant) err =
					nf_test_get_property (d, path, "org.nestfarm.Farm1.Job", "Error");

				*message = g_variant_dup_string (err, NULL);
			}
			return g_variant_dup_string (state, NULL);
		}
		if (g_get_monotonic_time () > deadline)
			g_error ("job %s still running after %u s", path, timeout_s);
		g_usleep (100 * 1000);
	}
}

static GVariant *
parse_args (const gchar *args)
{
	g_autoptr (GError) error = NULL;
	GVariant *value;

	if (args == NULL)
		return NULL;
	value = g_variant_parse (NULL, args, NULL, NULL, &error);
	g_assert_no_error (error);
	return value;
}

GVariant *
nf_test_call_ok (NfTestDaemon *d,
		 const gchar *path,
		 const gchar *iface,
		 const gchar *method,
		 const gchar *args)
{
	g_autoptr (GError) error = NULL;
	GVariant *reply = nf_test_call (d, path, iface, method, parse_args (args), &error);

	g_assert_no_error (error);
	g_assert_nonnull (reply);
	return reply;
}

void
nf_test_call_fails (NfTestDaemon *d,
		    const gchar *path,
		    const gchar *iface,
		    const gchar *method,
		    const gchar *args,
		    const gchar *name)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GVariant) reply = nf_test_call (d, path, iface, method, parse_args (args), &error);
	g_autofree gchar *remote = NULL;

	g_assert_null (reply);
	g_assert_nonnull (error);
	remote = g_dbus_error_get_remote_error (error);
	g_test_message ("%s.%s -> %s: %s", iface, method, remote, error->message);
	g_assert_cmpstr (remote, ==, name);
}

gchar *
nf_test_reply_job (GVariant *reply)
{
	const gchar *job = NULL;

	if (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(oo)")))
		g_variant_get (reply, "(&o&o)", NULL, &job);
	else
		g_variant_get (reply, "(&o)", &job);
	return g_strdup (job);
}

void
nf_test_job_succeeds (NfTestDaemon *d, GVariant *reply, guint timeout_s)
{
	g_autofree gchar *job = nf_test_reply_job (reply);
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = nf_test_wait_job (d, job, timeout_s, &message);

	if (g_strcmp0 (state, "succeeded") != 0)
		g_test_message ("job %s %s: %s", job, state, message);
	g_assert_cmpstr (state, ==, "succeeded");
}

gchar *
nf_test_create_pool_job (NfTestDaemon *d, const gchar *name, guint count, const gchar *options)
{
	g_autofree gchar *args = g_strdup_printf ("('%s', uint32 %u, {" NF_TEST_SMALL_NODE "%s%s})",
						  name,
						  count,
						  options != NULL ? ", " : "",
						  options != NULL ? options : "");
	g_autoptr (GVariant) reply =
		nf_test_call_ok (d, "/org/nestfarm/Farm1", "org.nestfarm.Farm1.Manager", "CreatePool", args);

	return nf_test_reply_job (reply);
}

void
nf_test_create_pool (NfTestDaemon *d, const gchar *name, guint count, const gchar *options)
{
	g_autofree gchar *job = nf_test_create_pool_job (d, name, count, options);
	g_autofree gchar *message = NULL;
	g_autofree gchar *state = nf_test_wait_job (d, job, 300, &message);

	if (g_strcmp0 (state, "succeeded") != 0)
		g_test_message ("creating pool %s: job %s %s: %s", name, job, state, message);
	g_assert_cmpstr (state, ==, "succeeded");
}

void
nf_test_delete_pool (NfTestDaemon *d, const gchar *name, gboolean force)
{
	g_autofree gchar *path = nf_test_pool_path (name);
	g_autofree gchar *prefix = g_strdup_printf ("%s-", name);
	g_autofree gchar *args = g_strdup_printf ("('%s', {'force': <%s>})", name, force ? "true" : "false");
	g_autoptr (GVariant) reply =
		nf_test_call_ok (d, "/org/nestfarm/Farm1", "org.nestfarm.Farm1.Manager", "DeletePool", args);

	nf_test_job_succeeds (d, reply, 300);
	g_assert_false (nf_test_object_exists (d, path));
	g_assert_cmpuint (nf_test_domains_named (prefix), ==, 0);
	g_assert_cmpuint (nf_test_assert_consistent (d, name, 0), ==, 0);
}

gchar *
nf_test_prop_string (NfTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr (GVariant) value = nf_test_get_property (d, path, iface, name);

	return g_variant_dup_string (value, NULL);
}

void
nf_test_wait_prop (NfTestDaemon *d,
		   const gchar *path,
		   const gchar *iface,
		   const gchar *name,
		   const gchar *want,
		   guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

	for (;;) {
		g_autofree gchar *value = nf_test_prop_string (d, path, iface, name);

		if (g_strcmp0 (value, want) == 0)
			return;
		if (g_get_monotonic_time () > deadline)
			g_error ("%s %s stayed '%s', not '%s', for %u s", path, name, value, want, timeout_s);
		g_usleep (100 * 1000);
	}
}

GVariant *
nf_test_managed_objects (NfTestDaemon *d)
{
	g_autoptr (GVariant) reply = nf_test_call_ok (d,
						      "/org/nestfarm/Farm1",
						      "org.freedesktop.DBus.ObjectManager",
						      "GetManagedObjects",
						      NULL);

	return g_variant_get_child_value (reply, 0);
}

gboolean
nf_test_object_exists (NfTestDaemon *d, const gchar *path)
{
	g_autoptr (GVariant) managed = nf_test_managed_objects (d);
	g_autoptr (GVariant) entry = g_variant_lookup_value (managed, path, NULL);

	return entry != NULL;
}

static guint
count_domains (const gchar *prefix, gboolean inactive_too)
{
	/* without --all, virsh lists the active ones (running or paused) */
	g_autofree gchar *out =
		inactive_too
			? nf_test_run ("virsh", "-q", "-c", "qemu:///system", "list", "--name", "--all", NULL)
			: nf_test_run ("virsh", "-q", "-c", "qemu:///system", "list", "--name", NULL);
	g_auto (GStrv) lines = NULL;
	guint n = 0;

	g_assert_nonnull (out);
	lines = g_strsplit (out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix (g_strstrip (lines[i]), prefix))
			n++;
	}
	return n;
}

guint
nf_test_domains_named (const gchar *prefix)
{
	return count_domains (prefix, TRUE);
}

guint
nf_test_active_domains_named (const gchar *prefix)
{
	return count_domains (prefix, FALSE);
}

static gchar *
domain_uuid (const gchar *name)
{
	g_autofree gchar *out = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domuuid", name, NULL);

	return out != NULL ? g_strdup (g_strstrip (out)) : NULL;
}

GHashTable *
nf_test_bridge_port_domains (NfTestDaemon *d)
{
	g_autoptr (NfOvs) ovs = nf_ovs_new (NULL, 5000);
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) ports = nf_ovs_list_ports (ovs, d->bridge, &error);
	GHashTable *domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

	g_assert_no_error (error);
	for (guint i = 0; i < ports->len; i++) {
		NfOvsPort *port = g_ptr_array_index (ports, i);
		gchar *name;

		if (port->vm_uuid == NULL)
			continue;
		name = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domname", port->vm_uuid, NULL);
		g_hash_table_insert (domains,
				     g_strdup (port->name),
				     name != NULL ? g_strdup (g_strstrip (name)) : NULL);
		g_free (name);
	}
	return domains;
}

guint
nf_test_assert_consistent (NfTestDaemon *d, const gchar *pool, guint foreign)
{
	g_autoptr (GVariant) managed = nf_test_managed_objects (d);
	g_autofree gchar *prefix = g_strdup_printf ("%s-", pool);
	g_autofree gchar *path_prefix = g_strdup_printf ("/org/nestfarm/Farm1/node/%s_2d", pool);
	g_autoptr (GDir) dir = g_dir_open (d->storage_dir, 0, NULL);
	g_autoptr (GHashTable) ports = NULL;
	GHashTableIter port_iter;
	gpointer port, domain;
	GVariantIter iter;
	const gchar *path;
	const gchar *entry;
	guint reported = 0;

	/* every reported node exists in libvirt */
	g_variant_iter_init (&iter, managed);
	while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL)) {
		g_autofree gchar *name = NULL;
		g_autofree gchar *uuid = NULL;

		if (!g_str_has_prefix (path, path_prefix))
			continue;
		reported++;
		name = g_strdup_printf ("%s-%s", pool, path + strlen (path_prefix));
		uuid = domain_uuid (name);
		if (uuid == NULL)
			g_error ("node %s is reported but libvirt has no such domain", name);
	}
	/* every tagged domain of the pool is reported */
	g_assert_cmpuint (reported, ==, nf_test_domains_named (prefix) - foreign);
	/* every overlay nestfarm made belongs to a domain */
	g_assert_nonnull (dir);
	while ((entry = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *file = g_build_filename (d->storage_dir, entry, NULL);
		g_autofree gchar *owner = nf_storage_overlay_owner (file);
		g_autofree gchar *uuid = NULL;

		if (owner == NULL)
			continue;
		uuid = domain_uuid (owner);
		if (uuid == NULL)
			g_error ("overlay %s of %s has no domain", file, owner);
	}
	/* no OVS port without a domain */
	ports = nf_test_bridge_port_domains (d);
	g_hash_table_iter_init (&port_iter, ports);
	while (g_hash_table_iter_next (&port_iter, &port, &domain)) {
		if (domain == NULL)
			g_error ("port %s belongs to no domain", (const gchar *) port);
	}
	return reported;
}

gchar *
nf_test_pool_path (const gchar *pool)
{
	g_autofree gchar *escaped = nf_path_component_escape (pool);

	return g_strdup_printf ("/org/nestfarm/Farm1/pool/%s", escaped);
}

gchar *
nf_test_node_path (const gchar *pool, guint index)
{
	g_autofree gchar *name = nf_node_name_build (pool, index);
	g_autofree gchar *escaped = nf_path_component_escape (name);

	return g_strdup_printf ("/org/nestfarm/Farm1/node/%s", escaped);
}

/* The shipped kvm-compute profile and 'ignore-acpi', a copy with the SMBIOS
 * family that makes the test image's acpid ignore the power button
 * (tools/mkimage), in a template directory under @parent. */
static gchar *
ignore_acpi_template_dir (const gchar *parent)
{
	const gchar *shipped = g_getenv ("NF_TEMPLATE_DIR");
	g_autofree gchar *dir = g_build_filename (parent, "templates", NULL);
	g_autofree gchar *compute = g_build_filename (shipped, "kvm-compute.xml", NULL);
	g_autofree gchar *text = NULL;
	g_autofree gchar *copy = g_build_filename (dir, "kvm-compute.xml", NULL);
	g_autofree gchar *ignore = g_build_filename (dir, "ignore-acpi.xml", NULL);
	g_autoptr (GString) changed = NULL;
	g_autoptr (GError) error = NULL;

	g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
	g_assert_true (g_file_get_contents (compute, &text, NULL, &error));
	g_assert_true (g_file_set_contents (copy, text, -1, &error));
	changed = g_string_new (text);
	g_assert_cmpuint (g_string_replace (changed,
					    "<entry name=\"serial\"/>",
					    "<entry name=\"serial\"/><entry name=\"family\">nestfarm-ignore-acpi</entry>",
					    1),
			  ==,
			  1);
	g_assert_true (g_file_set_contents (ignore, changed->str, -1, &error));
	g_assert_no_error (error);
	return g_steal_pointer (&dir);
}

void
nf_test_daemon_add_ignore_acpi (NfTestDaemon *d)
{
	g_autofree gchar *templates = ignore_acpi_template_dir (d->dir);
	g_autofree gchar *text = NULL;
	g_autofree gchar *line = g_strdup_printf ("TemplateDirectory=%s\n", g_getenv ("NF_TEMPLATE_DIR"));
	g_autofree gchar *mine = g_strdup_printf ("TemplateDirectory=%s\n", templates);
	g_autoptr (GString) config = NULL;

	g_assert_true (g_file_get_contents (d->config, &text, NULL, NULL));
	config = g_string_new (text);
	g_assert_cmpuint (g_string_replace (config, line, mine, 1), ==, 1);
	g_assert_true (g_file_set_contents (d->config, config->str, -1, NULL));
}
