/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A real nestfarmd against the real libvirtd, QEMU, Open vSwitch and
 * polkitd, on a private system bus of the test's own (never the machine's:
 * an installed nestfarmd is not touched), with its own state, storage and
 * console directories under /var/tmp, its own trunk bridge, and its own
 * Instance: it sees only the domains test daemons made. Tests that use it
 * share libvirt, OVS and two cores: they are not parallel. */

typedef struct {
	gchar *dir;
	gchar *config;
	gchar *state_dir;
	gchar *storage_dir;
	gchar *console_dir;
	gchar *storage_pool;
	gchar *bridge;
	gchar *log;
	GPid pid;
	GDBusConnection *bus;
} NfTestDaemon;

/* Every test daemon (and bench/run) holds this lock from
 * nf_test_daemon_new() to nf_test_daemon_free(): runs started side by side
 * take turns on the bus name instead of failing each other. */

/* Starts the private system bus and its polkitd once per test process and
 * points DBUS_SYSTEM_BUS_ADDRESS at it; call before anything connects to
 * the system bus (nf_test_daemon_new does). */
void nf_test_private_bus_up (void);
/* A connection of the test's own to that bus, which does not end the test
 * when the bus goes away. */
GDBusConnection *nf_test_private_bus_connect (void);

/* @tag names the test's resources (storage pool nftest-TAG, bridge
 * nft-TAG); @extra_config lines are appended to [Daemon]. */
NfTestDaemon *nf_test_daemon_new (const gchar *tag, const gchar *extra_config);
void nf_test_daemon_start (NfTestDaemon *d);
/* SIGTERM and wait for a clean exit; asserts exit status 0. */
void nf_test_daemon_stop (NfTestDaemon *d);
/* SIGKILL, as a crash. */
void nf_test_daemon_kill (NfTestDaemon *d);
gboolean nf_test_daemon_alive (NfTestDaemon *d);
/* Stops the private bus and its polkitd and starts them again (as a
 * dbus-daemon restart would); @d->bus is then a new connection. */
void nf_test_private_bus_restart (NfTestDaemon *d);
/* Waits up to @timeout_s for the daemon to die on its own (a fail point);
 * TRUE if it did. */
gboolean nf_test_daemon_wait_death (NfTestDaemon *d, guint timeout_s);
/* Before nf_test_daemon_start(): the daemon's profiles are the shipped
 * kvm-compute and 'ignore-acpi', a guest that ignores the power button. */
void nf_test_daemon_add_ignore_acpi (NfTestDaemon *d);
/* Removes every domain of the pools named in @pools (NULL-terminated), the
 * storage pool, the bridge and the directories. */
void nf_test_daemon_free (NfTestDaemon *d, const gchar *const *pools);
/* Makes the polkit action the daemon needs visible to polkitd (copies it
 * from the source tree); the bus policy is part of the private bus. */
void nf_test_install_policies (void);

/* Calls a method of org.nestfarm.Farm1 and returns the reply, or NULL with
 * @error. Takes @args, floating or not. */
GVariant *nf_test_call (NfTestDaemon *d,
			const gchar *path,
			const gchar *iface,
			const gchar *method,
			GVariant *args,
			GError **error);
GVariant *nf_test_get_property (NfTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name);
/* Waits (bounded) for the job at @path to end; returns its State and sets
 * @message to its Error. */
gchar *nf_test_wait_job (NfTestDaemon *d, const gchar *path, guint timeout_s, gchar **message);

G_END_DECLS

G_BEGIN_DECLS

/* Shorthands for the daemon tests. @args is GVariant text (NULL: none). */
GVariant *nf_test_call_ok (NfTestDaemon *d,
			   const gchar *path,
			   const gchar *iface,
			   const gchar *method,
			   const gchar *args);
/* Expects the D-Bus error @name. */
void nf_test_call_fails (NfTestDaemon *d,
			 const gchar *path,
			 const gchar *iface,
			 const gchar *method,
			 const gchar *args,
			 const gchar *name);
/* The job path of a CreatePool (oo) or other (o) reply. */
gchar *nf_test_reply_job (GVariant *reply);
/* Waits for the job of @reply and asserts it succeeded. */
void nf_test_job_succeeds (NfTestDaemon *d, GVariant *reply, guint timeout_s);
/* The small node most tests make, as CreatePool option entries. */
#define NF_TEST_SMALL_NODE "'memory-mib': <uint32 256>, 'vcpus': <uint32 1>, 'disk-gib': <uint32 1>"
/* Manager.CreatePool @name with @count small nodes and the further
 * @options (a{sv} entries as GVariant text, or NULL); returns the job. */
gchar *nf_test_create_pool_job (NfTestDaemon *d, const gchar *name, guint count, const gchar *options);
/* The same, waiting (300 s) for the job to succeed; says its error if not. */
void nf_test_create_pool (NfTestDaemon *d, const gchar *name, guint count, const gchar *options);
/* Manager.DeletePool @name (@force: skip the graceful shutdown) and waits
 * for the job to succeed; asserts the pool object and every domain named
 * @name-* are gone and nf_test_assert_consistent() holds. */
void nf_test_delete_pool (NfTestDaemon *d, const gchar *name, gboolean force);
gchar *nf_test_prop_string (NfTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name);
void nf_test_wait_prop (NfTestDaemon *d,
			const gchar *path,
			const gchar *iface,
			const gchar *name,
			const gchar *want,
			guint timeout_s);
gboolean nf_test_object_exists (NfTestDaemon *d, const gchar *path);
/* What the ObjectManager lists: a{oa{sa{sv}}}. */
GVariant *nf_test_managed_objects (NfTestDaemon *d);
/* The object paths of pool @pool and of its node @index. */
gchar *nf_test_pool_path (const gchar *pool);
gchar *nf_test_node_path (const gchar *pool, guint index);
/* How many libvirt domains have names starting with @prefix. */
guint nf_test_domains_named (const gchar *prefix);
/* How many of those libvirt runs (or has paused). */
guint nf_test_active_domains_named (const gchar *prefix);
/* The invariant after any fault: every node the daemon reports for @pool
 * exists in libvirt, every domain named @pool-* but @foreign ones (not
 * nestfarm's) is reported, every overlay nestfarm made in the storage
 * directory belongs to a domain, and no port on the daemon's bridge lacks
 * its domain. Returns how many nodes of @pool the daemon reports. */
guint nf_test_assert_consistent (NfTestDaemon *d, const gchar *pool, guint foreign);
/* The ports on the daemon's bridge that name a domain (an external-ids
 * vm-uuid): port name -> that domain's name, or NULL if it has none. */
GHashTable *nf_test_bridge_port_domains (NfTestDaemon *d);

G_END_DECLS
