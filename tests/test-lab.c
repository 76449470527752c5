/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-lab"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "nf-test-cli.h"
#include "nf-test-daemon.h"
#include "nf-test-util.h"

/* Lab files (issue 6): nestfarmctl lab apply|status|stop, the real built
 * binary, against a real nestfarmd on the real system bus (libvirtd,
 * QEMU/TCG, Open vSwitch, polkitd). A directory of pool files is applied,
 * applied again (no domain re-made: the UUIDs libvirt reports stay),
 * edited (scaled up and down), refused when a file is bad (file and line
 * named, nothing changed), stopped and applied again (the lab comes back),
 * and pruned. Tiny nodes: 256 MiB, 1 vCPU, 1 GiB, the harness's
 * DefaultImage. The cases run in order and share one daemon. (lab --help:
 * test-cli.c, with every other verb.) */

#define POOL_A "nflab-a"
#define POOL_B "nflab-b"
#define POOL_C "nflab-c"
#define POOL_X "nflab-x"

static NfTestDaemon *farm;
static gchar *binary;
static gchar *scratch;
static gchar *lab_dir;
static const gchar *const pools[] = {POOL_A, POOL_B, POOL_C, POOL_X, NULL};

/* the lab as it was after the first apply: every later case compares */
static gchar *first_a;
static gchar *first_b;

static NfCliRun *G_GNUC_NULL_TERMINATED
cli (const gchar *first, ...)
{
	g_autoptr (GPtrArray) argv = g_ptr_array_new ();
	va_list ap;

	g_ptr_array_add (argv, binary);
	va_start (ap, first);
	for (const gchar *arg = first; arg != NULL; arg = va_arg (ap, const gchar *))
		g_ptr_array_add (argv, (gpointer) arg);
	va_end (ap);
	return nf_test_cli_run_argv (argv, NULL);
}

static void
assert_says (const gchar *text, const gchar *what)
{
	if (strstr (text, what) == NULL)
		g_error ("'%s' is not in:\n%s", what, text);
}

static JsonNode *
parse_json (const gchar *text)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error = NULL;

	json_parser_load_from_data (parser, text, -1, &error);
	g_assert_no_error (error);
	return json_node_copy (json_parser_get_root (parser));
}

/* --- the lab directory --- */

static gchar *
lab_path (const gchar *dir, const gchar *file)
{
	return g_build_filename (dir != NULL ? dir : lab_dir, file, NULL);
}

/* Writes a pool file with tiny nodes; @extra: more Key=Value lines. */
static void
write_pool (const gchar *dir, const gchar *file, const gchar *name, const gchar *count, const gchar *extra)
{
	g_autofree gchar *path = lab_path (dir, file);
	g_autofree gchar *text = g_strdup_printf ("# a test pool\n"
						  "[Pool]\n"
						  "Name=%s\n"
						  "Count=%s\n"
						  "VCPUs=1\n"
						  "MemoryMiB=256\n"
						  "DiskGiB=1\n"
						  "%s",
						  name,
						  count,
						  extra != NULL ? extra : "");
	g_autoptr (GError) error = NULL;

	g_assert_true (g_file_set_contents (path, text, -1, &error));
	g_assert_no_error (error);
}

/* --- the pools as they are --- */

static gchar *
libvirt_uuid (const gchar *domain)
{
	gchar *out = nf_test_run ("virsh", "-q", "-c", "qemu:///system", "domuuid", domain, NULL);

	if (out == NULL)
		g_error ("libvirt has no domain %s", domain);
	return g_strstrip (out);
}

/* One line per pool and node: name, count, state; each node's state and
 * domain UUID, which is checked against the UUID libvirt has. Equal
 * summaries: nothing was re-made, added, removed, started or stopped. */
static gchar *
summary_of_object (JsonObject *pool)
{
	GString *text = g_string_new (NULL);
	JsonArray *nodes = json_object_get_array_member (pool, "nodes");

	g_string_append_printf (text,
				"%s count=%" G_GINT64_FORMAT " state=%s\n",
				json_object_get_string_member (pool, "name"),
				json_object_get_int_member (pool, "count"),
				json_object_get_string_member (pool, "state"));
	for (guint i = 0; i < json_array_get_length (nodes); i++) {
		JsonObject *node = json_array_get_object_element (nodes, i);
		const gchar *name = json_object_get_string_member (node, "name");
		const gchar *uuid = json_object_get_string_member (node, "domain_uuid");
		g_autofree gchar *in_libvirt = libvirt_uuid (name);

		g_assert_cmpstr (uuid, ==, in_libvirt);
		g_string_append_printf (text,
					"  %s %s %s\n",
					name,
					json_object_get_string_member (node, "state"),
					uuid);
	}
	return g_string_free (text, FALSE);
}

static gboolean
pool_exists (const gchar *name)
{
	g_autoptr (NfCliRun) run = cli ("pool", "show", name, NULL);

	return run->status == 0;
}

static gchar *
summary (const gchar *name)
{
	g_autoptr (NfCliRun) run = cli ("pool", "show", name, "--json", NULL);
	g_autoptr (JsonNode) root = NULL;

	nf_test_cli_assert_status (run, 0);
	root = parse_json (run->out);
	return summary_of_object (json_node_get_object (root));
}

/* Every pool the daemon reports, by name, in order. */
static GPtrArray *
pool_names (void)
{
	g_autoptr (NfCliRun) run = cli ("pool", "list", "--json", NULL);
	g_autoptr (JsonNode) root = NULL;
	GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
	JsonArray *array;

	nf_test_cli_assert_status (run, 0);
	root = parse_json (run->out);
	array = json_node_get_array (root);
	for (guint i = 0; i < json_array_get_length (array); i++)
		g_ptr_array_add (names,
				 g_strdup (
					 json_object_get_string_member (json_array_get_object_element (array,
												       i),
									"name")));
	return names;
}

/* The lab as a whole: the pools the daemon reports and each of ours. */
static gchar *
lab_summary (void)
{
	g_autoptr (GPtrArray) names = pool_names ();
	GString *text = g_string_new (NULL);

	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index (names, i);

		if (g_str_has_prefix (name, "nflab-")) {
			g_autofree gchar *one = summary (name);

			g_string_append (text, one);
		} else {
			g_string_append_printf (text, "%s (not this test's)\n", name);
		}
	}
	return g_string_free (text, FALSE);
}

static void
assert_pool (const gchar *name, guint count, const gchar *state)
{
	g_autoptr (NfCliRun) run = cli ("pool", "show", name, "--json", NULL);
	g_autoptr (JsonNode) root = NULL;
	JsonObject *pool;
	JsonArray *nodes;
	/* ready: every node runs; stopped: none does; else: a mix */
	const gchar *node_state = g_str_equal (state, "ready")     ? "running"
				  : g_str_equal (state, "stopped") ? "stopped"
								   : NULL;

	nf_test_cli_assert_status (run, 0);
	root = parse_json (run->out);
	pool = json_node_get_object (root);
	g_assert_cmpint (json_object_get_int_member (pool, "count"), ==, count);
	g_assert_cmpstr (json_object_get_string_member (pool, "state"), ==, state);
	g_assert_cmpint (json_object_get_int_member (pool, "memory_mib"), ==, 256);
	g_assert_cmpint (json_object_get_int_member (pool, "vcpus"), ==, 1);
	nodes = json_object_get_array_member (pool, "nodes");
	g_assert_cmpuint (json_array_get_length (nodes), ==, count);
	for (guint i = 0; i < count; i++) {
		JsonObject *node = json_array_get_object_element (nodes, i);
		g_autofree gchar *node_name = g_strdup_printf ("%s-%u", name, i + 1);

		g_assert_cmpstr (json_object_get_string_member (node, "name"), ==, node_name);
		if (node_state != NULL)
			g_assert_cmpstr (json_object_get_string_member (node, "state"), ==, node_state);
	}
}

/* The node lines of @summary_text for one node, e.g. "  nflab-a-1 ...". */
static gchar *
node_line (const gchar *summary_text, const gchar *node)
{
	g_autofree gchar *start = g_strdup_printf ("  %s ", node);
	const gchar *at = strstr (summary_text, start);
	const gchar *end;

	g_assert_nonnull (at);
	end = strchr (at, '\n');
	return g_strndup (at, end - at);
}

/* --- the cases, in order --- */

static void
test_daemon_start (void)
{
	farm = nf_test_daemon_new ("lab", NULL);
	nf_test_daemon_start (farm);
	lab_dir = g_build_filename (scratch, "pools.d", NULL);
	g_assert_cmpint (g_mkdir_with_parents (lab_dir, 0755), ==, 0);
}

/* A directory of two pool files makes both pools. */
static void
test_apply_creates (void)
{
	g_autoptr (NfCliRun) run = NULL;
	g_autofree gchar *readme = lab_path (NULL, "README");

	g_autofree gchar *keys_dir = lab_path (NULL, "keys");
	g_autofree gchar *key = lab_path (keys_dir, "ops.pub");
	g_autofree gchar *user_data = lab_path (NULL, "user-data.yaml");
	g_autoptr (NfCliRun) show = NULL;
	g_autoptr (JsonNode) shown = NULL;

	write_pool (NULL, "10-a.pool", POOL_A, "1", NULL);
	/* the seed's keys and user-data files named relative to the file */
	write_pool (NULL,
		    "20-b.pool",
		    POOL_B,
		    "1",
		    "Profile=kvm-compute\nVLANs=all\nStart=true\nSSHUser=ops\nSSHKeys=keys/ops.pub\n"
		    "UserData=user-data.yaml\nWaitReady=false\n");
	g_assert_cmpint (g_mkdir_with_parents (keys_dir, 0755), ==, 0);
	g_assert_true (
		g_file_set_contents (key,
				     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKR06hbD7CvadRlB1Prpb/aAvCyL0qul5zw2mYzpzowY "
				     "fixture-ed25519\n",
				     -1,
				     NULL));
	g_assert_true (g_file_set_contents (user_data, "#cloud-config\nruncmd: [[true]]\n", -1, NULL));
	g_assert_true (g_file_set_contents (readme, "not a lab file: no .pool suffix\n", -1, NULL));

	run = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (run, 0);
	show = cli ("pool", "show", POOL_B, "--json", NULL);
	nf_test_cli_assert_status (show, 0);
	shown = parse_json (show->out);
	g_assert_cmpstr (json_object_get_string_member (json_node_get_object (shown), "ssh_user"), ==, "ops");
	assert_says (run->out, "10-a.pool: creating pool " POOL_A " with 1 node");
	assert_says (run->out, "20-b.pool: creating pool " POOL_B " with 1 node");
	/* in name order */
	g_assert_true (strstr (run->out, POOL_A) < strstr (run->out, POOL_B));
	assert_pool (POOL_A, 1, "ready");
	assert_pool (POOL_B, 1, "ready");
	first_a = summary (POOL_A);
	first_b = summary (POOL_B);
}

/* A second apply with the same files changes nothing: same domains, same
 * UUIDs, and it says so. */
static void
test_apply_again (void)
{
	g_autoptr (NfCliRun) again = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	g_autoptr (NfCliRun) json = NULL;
	g_autoptr (NfCliRun) status = NULL;
	g_autoptr (JsonNode) root = NULL;
	g_autofree gchar *a = NULL;
	g_autofree gchar *b = NULL;
	JsonArray *array;

	nf_test_cli_assert_status (again, 0);
	assert_says (again->out, "pool " POOL_A " matches; left as it is");
	assert_says (again->out, "pool " POOL_B " matches; left as it is");
	assert_says (again->out, "Every pool matches its file; nothing to do.");
	g_assert_null (strstr (again->out, "job "));
	a = summary (POOL_A);
	b = summary (POOL_B);
	g_assert_cmpstr (a, ==, first_a);
	g_assert_cmpstr (b, ==, first_b);

	/* --json: the lab's pools on stdout, what it does on stderr */
	json = cli ("--json", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (json, 0);
	assert_says (json->err, "pool " POOL_A " matches");
	root = parse_json (json->out);
	array = json_node_get_array (root);
	g_assert_cmpuint (json_array_get_length (array), ==, 2);
	g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 0), "name"),
			 ==,
			 POOL_A);
	g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 1), "name"),
			 ==,
			 POOL_B);

	/* lab status agrees */
	status = cli ("lab", "status", "--json", lab_dir, NULL);
	nf_test_cli_assert_status (status, 0);
	g_clear_pointer (&root, json_node_unref);
	root = parse_json (status->out);
	array = json_node_get_array (root);
	for (guint i = 0; i < json_array_get_length (array); i++) {
		JsonObject *row = json_array_get_object_element (array, i);

		if (g_str_has_prefix (json_object_get_string_member (row, "name"), "nflab-"))
			g_assert_cmpstr (json_object_get_string_member (row, "status"), ==, "matches");
	}
}

/* lab status: what apply would do, and the settings it cannot change in
 * place, within 80 columns. Nothing is applied. */
static void
test_status (void)
{
	g_autofree gchar *dir = g_build_filename (scratch, "edited", NULL);
	g_autofree gchar *b_file = lab_path (dir, "20-b.pool");
	g_autoptr (NfCliRun) run = NULL;
	g_auto (GStrv) lines = NULL;

	g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
	write_pool (dir, "10-a.pool", POOL_A, "3", NULL);
	g_assert_true (g_file_set_contents (b_file,
					    "[Pool]\nName=" POOL_B "\nCount=1\nMemoryMiB=512\nSSHUser=dev\n",
					    -1,
					    NULL));
	write_pool (dir, "30-x.pool", POOL_X, "1", NULL);
	run = cli ("lab", "status", dir, NULL);
	nf_test_cli_assert_status (run, 0);
	assert_says (run->out, "lab apply scales it to 3");
	assert_says (run->out, "missing: lab apply creates it");
	assert_says (run->out, "MemoryMiB is 512 in the file, 256 in the pool");
	assert_says (run->out, "SSHUser is dev in the file, ops in the pool");
	lines = g_strsplit (run->out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		g_assert_cmpuint (g_utf8_strlen (lines[i], -1), <=, 80);
	g_assert_false (pool_exists (POOL_X));
	nf_test_rm_rf (dir);
}

/* A changed Count scales that pool, up then down, and leaves the other
 * alone; the nodes that stay are the same domains. */
static void
test_apply_scales (void)
{
	g_autoptr (NfCliRun) up = NULL;
	g_autoptr (NfCliRun) down = NULL;
	g_autofree gchar *a_up = NULL;
	g_autofree gchar *a_down = NULL;
	g_autofree gchar *b = NULL;
	g_autofree gchar *first_node = node_line (first_a, POOL_A "-1");
	g_autofree gchar *node = NULL;

	write_pool (NULL, "10-a.pool", POOL_A, "2", NULL);
	up = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (up, 0);
	assert_says (up->out, "10-a.pool: scaling pool " POOL_A " from 1 to 2 nodes");
	assert_says (up->out, "pool " POOL_B " matches; left as it is");
	assert_pool (POOL_A, 2, "ready");
	a_up = summary (POOL_A);
	node = node_line (a_up, POOL_A "-1");
	g_assert_cmpstr (node, ==, first_node);
	b = summary (POOL_B);
	g_assert_cmpstr (b, ==, first_b);

	/* one node of two stopped: apply starts it, re-makes nothing */
	{
		g_autoptr (NfCliRun) stop = cli ("node", "stop", POOL_A "-1", "--force", NULL);
		g_autoptr (NfCliRun) apply = NULL;
		g_autofree gchar *a_started = NULL;

		nf_test_cli_assert_status (stop, 0);
		assert_pool (POOL_A, 2, "degraded");
		apply = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
		nf_test_cli_assert_status (apply, 0);
		assert_says (apply->out, "10-a.pool: starting pool " POOL_A " (1 of its nodes is stopped)");
		assert_says (apply->out, "pool " POOL_B " matches; left as it is");
		assert_pool (POOL_A, 2, "ready");
		a_started = summary (POOL_A);
		g_assert_cmpstr (a_started, ==, a_up);
	}

	write_pool (NULL, "10-a.pool", POOL_A, "1", NULL);
	down = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (down, 0);
	assert_says (down->out, "10-a.pool: scaling pool " POOL_A " from 2 to 1 nodes");
	assert_pool (POOL_A, 1, "ready");
	g_assert_cmpuint (nf_test_domains_named (POOL_A "-"), ==, 1);
	a_down = summary (POOL_A);
	g_assert_cmpstr (a_down, ==, first_a);
	g_clear_pointer (&b, g_free);
	b = summary (POOL_B);
	g_assert_cmpstr (b, ==, first_b);
}

/* A directory with one bad file applies nothing at all: not the good files
 * before it (a new pool, a changed Count), not the bad one. */
static void
test_apply_refuses (void)
{
	static const struct {
		const gchar *text;
		const gchar *complaint; /* after "FILE:LINE: " */
		guint line;
	} bad[] = {
		{"[Pool]\nName=" POOL_X "\nColour=red\nCount=1\n", "unknown key 'Colour'", 3},
		{"[Pool]\nName=" POOL_X "\nCount=1\n\nVLANs=4095\n", "VLANs '4095'", 5},
		{"# three\n[Pool]\nName=" POOL_X "\nCount=abc\n", "Count must be a whole number", 4},
		{"[Pool]\nName=" POOL_X "\nCount=1\nSSHUser=root\n", "SSHUser: ", 4},
		{"[Pool]\nName=" POOL_X "\nCount=1\nNetwork=a/b\n", "Network 'a/b'", 4},
		{"[Pool]\nName=" POOL_X "\nCount=1\nWaitReady=soon\n", "WaitReady must be true or false", 4},
		{"[Pool]\nName=" POOL_X "\nCount=1\nSSHKeys=\n", "SSHKeys names no file", 4},
	};
	g_autofree gchar *dir = g_build_filename (scratch, "bad", NULL);
	g_autofree gchar *bad_file = lab_path (dir, "30-bad.pool");
	g_autofree gchar *before = lab_summary ();

	g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
	/* good files that would change things */
	write_pool (dir, "10-a.pool", POOL_A, "2", NULL);
	write_pool (dir, "20-b.pool", POOL_B, "1", NULL);
	write_pool (dir, "25-c.pool", POOL_C, "1", NULL);
	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autofree gchar *where =
			g_strdup_printf ("%s:%u: %s", bad_file, bad[i].line, bad[i].complaint);
		g_autoptr (NfCliRun) run = NULL;
		g_autoptr (NfCliRun) single = NULL;
		g_autofree gchar *after = NULL;

		g_assert_true (g_file_set_contents (bad_file, bad[i].text, -1, NULL));
		run = cli ("--no-progress", "lab", "apply", dir, NULL);
		g_assert_cmpint (run->status, !=, 0);
		nf_test_cli_assert_status (run, 1);
		assert_says (run->err, where);
		assert_says (run->err, "nothing was applied");
		g_assert_cmpstr (run->out, ==, "");
		/* the file alone too */
		single = cli ("--no-progress", "lab", "apply", bad_file, NULL);
		nf_test_cli_assert_status (single, 1);
		assert_says (single->err, where);

		g_assert_false (pool_exists (POOL_C));
		g_assert_false (pool_exists (POOL_X));
		after = lab_summary ();
		g_assert_cmpstr (after, ==, before);
	}
	{
		g_autoptr (NfCliRun) missing = cli ("lab", "apply", "/nonexistent/lab", NULL);

		nf_test_cli_assert_status (missing, 1);
		assert_says (missing->err, "/nonexistent/lab");
	}
	nf_test_rm_rf (dir);
	/* host files: strict too; a directory of hosts alone is no licence
	 * for --prune to delete every pool */
	{
		g_autofree gchar *hosts = g_build_filename (scratch, "hosts", NULL);
		g_autofree gchar *host_file = lab_path (hosts, "rack2.host");
		g_autoptr (NfCliRun) bad_host = NULL;
		g_autoptr (NfCliRun) pruned = NULL;
		g_autoptr (NfCliRun) empty = NULL;
		g_autofree gchar *where = g_strdup_printf ("%s:3: unknown key 'Colour'", host_file);
		g_autofree gchar *after = NULL;

		g_assert_cmpint (g_mkdir_with_parents (hosts, 0755), ==, 0);
		g_assert_true (g_file_set_contents (host_file,
						    "[Host]\nName=rack2\nColour=red\nURI=qemu:///x\n",
						    -1,
						    NULL));
		bad_host = cli ("--no-progress", "lab", "apply", hosts, NULL);
		nf_test_cli_assert_status (bad_host, 1);
		assert_says (bad_host->err, where);
		assert_says (bad_host->err, "[Host] knows Name and URI");
		g_assert_true (g_file_set_contents (host_file,
						    "[Host]\nName=rack2\nURI=qemu+ssh://root@rack2/system\n",
						    -1,
						    NULL));
		pruned = cli ("--no-progress", "lab", "apply", "--prune", hosts, NULL);
		nf_test_cli_assert_status (pruned, 2);
		assert_says (pruned->err, "--prune would delete every pool");
		g_unlink (host_file);
		empty = cli ("--no-progress", "lab", "apply", hosts, NULL);
		nf_test_cli_assert_status (empty, 1);
		assert_says (empty->err, "has no *.pool or *.host files");
		after = lab_summary ();
		g_assert_cmpstr (after, ==, before);
		nf_test_rm_rf (hosts);
	}
}

/* lab stop (as at shutdown), then lab apply (as at boot): the pools run
 * again, the same domains. Start=false keeps apply from starting a pool. */
static void
test_stop_then_apply (void)
{
	g_autoptr (NfCliRun) stop = cli ("--no-progress", "lab", "stop", "--force", lab_dir, NULL);
	g_autoptr (NfCliRun) status = NULL;
	g_autoptr (NfCliRun) dry = NULL;
	g_autoptr (NfCliRun) held = NULL;
	g_autoptr (NfCliRun) apply = NULL;
	g_autoptr (NfCliRun) again = NULL;
	g_autofree gchar *a = NULL;
	g_autofree gchar *b = NULL;

	nf_test_cli_assert_status (stop, 0);
	assert_pool (POOL_A, 1, "stopped");
	assert_pool (POOL_B, 1, "stopped");

	status = cli ("lab", "status", lab_dir, NULL);
	nf_test_cli_assert_status (status, 0);
	assert_says (status->out, "stopped: lab apply starts it");
	dry = cli ("lab", "apply", "--dry-run", lab_dir, NULL);
	nf_test_cli_assert_status (dry, 0);
	assert_says (dry->out, "10-a.pool: would start pool " POOL_A " (1 of its nodes is stopped)");
	assert_pool (POOL_A, 1, "stopped");

	/* Start=false: b stays as it is, stopped */
	write_pool (NULL, "20-b.pool", POOL_B, "1", "Start=false\n");
	held = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (held, 0);
	assert_says (held->out, "10-a.pool: starting pool " POOL_A " (1 of its nodes is stopped)");
	assert_says (held->out, "pool " POOL_B " matches; left as it is");
	assert_pool (POOL_A, 1, "ready");
	assert_pool (POOL_B, 1, "stopped");

	/* Start unset (true): b starts too */
	write_pool (NULL, "20-b.pool", POOL_B, "1", NULL);
	apply = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (apply, 0);
	assert_says (apply->out, "pool " POOL_A " matches; left as it is");
	assert_says (apply->out, "20-b.pool: starting pool " POOL_B " (1 of its nodes is stopped)");
	assert_pool (POOL_B, 1, "ready");
	a = summary (POOL_A);
	b = summary (POOL_B);
	g_assert_cmpstr (a, ==, first_a);
	g_assert_cmpstr (b, ==, first_b);

	again = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (again, 0);
	assert_says (again->out, "Every pool matches its file; nothing to do.");
}

/* --prune removes only the pool that lost its file. */
static void
test_prune (void)
{
	g_autofree gchar *c_file = lab_path (NULL, "30-c.pool");
	g_autoptr (NfCliRun) make = NULL;
	g_autoptr (NfCliRun) dry = NULL;
	g_autoptr (NfCliRun) prune = NULL;
	g_autoptr (NfCliRun) again = NULL;
	g_autoptr (GPtrArray) names = NULL;
	g_autofree gchar *a = NULL;
	g_autofree gchar *b = NULL;

	write_pool (NULL, "30-c.pool", POOL_C, "1", NULL);
	make = cli ("--no-progress", "lab", "apply", lab_dir, NULL);
	nf_test_cli_assert_status (make, 0);
	assert_says (make->out, "30-c.pool: creating pool " POOL_C);
	assert_pool (POOL_C, 1, "ready");

	/* --prune deletes every pool no file names: the daemon must have only
	 * ours (it adopts every nestfarm domain on the host) */
	names = pool_names ();
	if (names->len != 3 || !g_str_equal (g_ptr_array_index (names, 0), POOL_A) ||
	    !g_str_equal (g_ptr_array_index (names, 1), POOL_B) ||
	    !g_str_equal (g_ptr_array_index (names, 2), POOL_C)) {
		g_autofree gchar *all = NULL;

		g_ptr_array_add (names, NULL);
		all = g_strjoinv (", ", (gchar **) names->pdata);
		g_error ("the daemon reports the pools %s, not just " POOL_A ", " POOL_B " and " POOL_C
			 ": the others are not this test's (another test or somebody left them on this "
			 "host); --prune would delete them, so the test stops here",
			 all);
	}

	g_assert_cmpint (g_unlink (c_file), ==, 0);
	dry = cli ("lab", "apply", "--prune", "--dry-run", lab_dir, NULL);
	nf_test_cli_assert_status (dry, 0);
	assert_says (dry->out, "would delete pool " POOL_C ": no lab file names it");
	g_assert_null (strstr (dry->out, "would delete pool " POOL_A));
	g_assert_null (strstr (dry->out, "would delete pool " POOL_B));
	assert_pool (POOL_C, 1, "ready");

	prune = cli ("--no-progress", "lab", "apply", "--prune", lab_dir, NULL);
	nf_test_cli_assert_status (prune, 0);
	assert_says (prune->out, "deleting pool " POOL_C ": no lab file names it");
	g_assert_false (pool_exists (POOL_C));
	g_assert_cmpuint (nf_test_domains_named (POOL_C "-"), ==, 0);
	a = summary (POOL_A);
	b = summary (POOL_B);
	g_assert_cmpstr (a, ==, first_a);
	g_assert_cmpstr (b, ==, first_b);

	again = cli ("--no-progress", "lab", "apply", "--prune", lab_dir, NULL);
	nf_test_cli_assert_status (again, 0);
	assert_says (again->out, "Every pool matches its file; nothing to do.");
}

static void
test_cleanup (void)
{
	const gchar *const ours[] = {POOL_A, POOL_B};

	for (guint i = 0; i < G_N_ELEMENTS (ours); i++) {
		g_autoptr (NfCliRun) run = cli ("--no-progress", "pool", "delete", ours[i], "--force", NULL);

		nf_test_cli_assert_status (run, 0);
		g_assert_cmpuint (nf_test_domains_named (ours[i]), ==, 0);
	}
	nf_test_daemon_stop (farm);
}

int
main (int argc, char **argv)
{
	gint status;

	g_test_init (&argc, &argv, NULL);
	binary = g_build_filename (g_getenv ("NF_BUILD_ROOT"), "src", "cli", "nestfarmctl", NULL);
	g_assert_true (g_file_test (binary, G_FILE_TEST_IS_EXECUTABLE));
	scratch = nf_test_make_world_dir ("nf-lab");
	g_test_add_func ("/lab/daemon-start", test_daemon_start);
	g_test_add_func ("/lab/apply-creates", test_apply_creates);
	g_test_add_func ("/lab/apply-again", test_apply_again);
	g_test_add_func ("/lab/status", test_status);
	g_test_add_func ("/lab/apply-scales", test_apply_scales);
	g_test_add_func ("/lab/apply-refuses", test_apply_refuses);
	g_test_add_func ("/lab/stop-then-apply", test_stop_then_apply);
	g_test_add_func ("/lab/prune", test_prune);
	g_test_add_func ("/lab/cleanup", test_cleanup);
	status = g_test_run ();
	nf_test_daemon_free (farm, pools);
	nf_test_rm_rf (scratch);
	g_free (scratch);
	g_free (lab_dir);
	g_free (first_a);
	g_free (first_b);
	g_free (binary);
	return status;
}
