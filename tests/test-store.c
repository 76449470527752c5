/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-store"

#include "config.h"

#include <glib/gstdio.h>

#include "nestfarm/nf-error.h"
#include "nf-store.h"

/* The state file: written whole or not at all, read back exactly. */

static gchar *
scratch_dir (void)
{
	g_autoptr (GError) error = NULL;
	gchar *dir = g_dir_make_tmp ("nf-store-XXXXXX", &error);

	g_assert_no_error (error);
	return dir;
}

static NfPoolSpec *
sample_spec (const gchar *name, guint count)
{
	NfPoolSpec *spec = nf_pool_spec_new ();

	spec->name = g_strdup (name);
	spec->profile = g_strdup ("kvm-compute");
	spec->count = count;
	spec->image = g_strdup ("/var/lib/nestfarm/images/base.qcow2");
	spec->vcpus = 2;
	spec->memory_mib = 4096;
	spec->disk_gib = 20;
	spec->trunk_bridge = g_strdup ("nftrunk0");
	spec->vlans = g_strdup ("100-199,300");
	spec->mgmt_network = g_strdup ("default");
	spec->start = FALSE;
	return spec;
}

static void
test_missing_is_empty (void)
{
	g_autofree gchar *dir = scratch_dir ();
	g_autoptr (NfStore) store = nf_store_new (dir);
	g_autoptr (GPtrArray) pools = NULL;
	g_autoptr (GPtrArray) intents = NULL;
	g_autoptr (GError) error = NULL;
	guint next_job = 0;

	g_assert_true (nf_store_load (store, &pools, &intents, &next_job, &error));
	g_assert_no_error (error);
	g_assert_cmpuint (pools->len, ==, 0);
	g_assert_cmpuint (intents->len, ==, 0);
	g_assert_cmpuint (next_job, ==, 1);
	g_rmdir (dir);
}

static void
test_round_trip (void)
{
	g_autofree gchar *dir = scratch_dir ();
	g_autoptr (NfStore) store = nf_store_new (dir);
	g_autoptr (GPtrArray) pools = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_spec_free);
	g_autoptr (GPtrArray) intents = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	g_autoptr (GPtrArray) pools_back = NULL;
	g_autoptr (GPtrArray) intents_back = NULL;
	g_autoptr (GError) error = NULL;
	NfIntent *intent = nf_intent_new (7, NF_INTENT_KIND_SCALE_UP, "contrail");
	const guint indexes[] = {5, 6};
	NfPoolSpec *back;
	NfIntent *intent_back;
	guint next_job = 0;

	g_autoptr (GPtrArray) hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_store_host_free);
	g_autoptr (GPtrArray) hosts_back = NULL;
	const gchar *const where[] = {"rack2", NULL};

	g_ptr_array_add (pools, sample_spec ("contrail", 4));
	g_ptr_array_add (pools, sample_spec ("k8s", 1));
	((NfPoolSpec *) g_ptr_array_index (pools, 0))->hosts = g_strdupv ((gchar **) where);
	((NfPoolSpec *) g_ptr_array_index (pools, 0))->ovn = TRUE;
	g_hash_table_insert (((NfPoolSpec *) g_ptr_array_index (pools, 0))->remote_nodes,
			     GUINT_TO_POINTER (3),
			     g_strdup ("rack2"));
	g_array_append_vals (intent->indexes, indexes, G_N_ELEMENTS (indexes));
	/* the second node is on rack2: settled there */
	nf_intent_set_host (intent, indexes[1], "rack2");
	g_ptr_array_add (intents, intent);
	g_ptr_array_add (hosts,
			 nf_store_host_new ("rack2",
					    "qemu+ssh://root@rack2/system",
					    "qemu+tcp://10.0.0.2/system"));
	nf_store_set_hosts (store, hosts);
	g_assert_true (nf_store_save (store, pools, intents, 42, &error));
	g_assert_no_error (error);
	/* what a load reads, not what was set */
	g_ptr_array_set_size (hosts, 0);
	nf_store_set_hosts (store, hosts);

	g_assert_true (nf_store_load (store, &pools_back, &intents_back, &next_job, &error));
	g_assert_no_error (error);
	g_assert_cmpuint (next_job, ==, 42);
	g_assert_cmpuint (pools_back->len, ==, 2);
	back = g_ptr_array_index (pools_back, 0);
	g_assert_cmpstr (back->name, ==, "contrail");
	g_assert_true (g_strv_equal ((const gchar *const *) back->hosts, where));
	g_assert_null (((NfPoolSpec *) g_ptr_array_index (pools_back, 1))->hosts);
	/* an OVN pool stays one; the other was never one */
	g_assert_true (back->ovn);
	g_assert_cmpuint (g_hash_table_size (back->remote_nodes), ==, 1);
	g_assert_cmpstr (g_hash_table_lookup (back->remote_nodes, GUINT_TO_POINTER (3)), ==, "rack2");
	g_assert_false (((NfPoolSpec *) g_ptr_array_index (pools_back, 1))->ovn);
	hosts_back = nf_store_dup_hosts (store);
	g_assert_cmpuint (hosts_back->len, ==, 1);
	g_assert_cmpstr (((NfStoreHost *) g_ptr_array_index (hosts_back, 0))->name, ==, "rack2");
	g_assert_cmpstr (((NfStoreHost *) g_ptr_array_index (hosts_back, 0))->uri,
			 ==,
			 "qemu+ssh://root@rack2/system");
	g_assert_cmpuint (back->count, ==, 4);
	g_assert_cmpstr (back->vlans, ==, "100-199,300");
	g_assert_cmpstr (back->mgmt_network, ==, "default");
	g_assert_cmpuint (back->memory_mib, ==, 4096);
	g_assert_false (back->start);
	g_assert_cmpuint (intents_back->len, ==, 1);
	intent_back = g_ptr_array_index (intents_back, 0);
	g_assert_cmpuint (intent_back->job, ==, 7);
	g_assert_cmpint (intent_back->kind, ==, NF_INTENT_KIND_SCALE_UP);
	g_assert_cmpuint (intent_back->indexes->len, ==, 2);
	g_assert_cmpuint (g_array_index (intent_back->indexes, guint, 1), ==, 6);
	g_assert_cmpstr (nf_intent_get_host (intent_back, 6), ==, "rack2");
	g_assert_cmpstr (nf_intent_get_host (intent_back, g_array_index (intent_back->indexes, guint, 0)),
			 ==,
			 "local");
	g_unlink (nf_store_get_path (store));
	g_rmdir (dir);
}

static void
test_broken_file (void)
{
	g_autofree gchar *dir = scratch_dir ();
	g_autoptr (NfStore) store = nf_store_new (dir);
	g_autoptr (GPtrArray) pools = NULL;
	g_autoptr (GPtrArray) intents = NULL;
	g_autoptr (GError) error = NULL;
	guint next_job = 0;
	const gchar *broken[] = {
		"{\"pools\": [",
		"[]",
		"{\"pools\": [{\"name\": 3}]}",
		"{\"pools\": [{\"name\": \"a\"}]}",
		"{\"operations\": [{\"job\": -1}]}",
	};

	for (guint i = 0; i < G_N_ELEMENTS (broken); i++) {
		g_assert_true (g_file_set_contents (nf_store_get_path (store), broken[i], -1, NULL));
		g_assert_false (nf_store_load (store, &pools, &intents, &next_job, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_FAILED);
		g_assert_nonnull (strstr (error->message, nf_store_get_path (store)));
		g_clear_error (&error);
	}
	g_unlink (nf_store_get_path (store));
	g_rmdir (dir);
}

/* Operations as pools.json has always named their kinds still load (the
 * kinds are an enum now, the file is not); one of a kind this daemon does
 * not know is left alone, and the rest of the file loads. */
/* A pool's snapshots and a snapshot intent come back as they were saved. */
static void
test_snapshots_round_trip (void)
{
	g_autofree gchar *dir = scratch_dir ();
	g_autoptr (NfStore) store = nf_store_new (dir);
	g_autoptr (GPtrArray) pools = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_spec_free);
	g_autoptr (GPtrArray) intents = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_intent_free);
	g_autoptr (GPtrArray) pools_back = NULL;
	g_autoptr (GPtrArray) intents_back = NULL;
	g_autoptr (GError) error = NULL;
	NfPoolSpec *spec = sample_spec ("lab", 3);
	NfPoolSnapshot *snapshot = nf_pool_snapshot_new ("installed");
	NfIntent *intent = nf_intent_new (8, NF_INTENT_KIND_REVERT, "lab");
	const guint held[] = {1, 2, 3}, ran[] = {1, 3};
	const NfPoolSnapshot *back;
	const NfIntent *intent_back;
	guint next_job = 0;

	snapshot->created = 1796314801;
	snapshot->size = G_GUINT64_CONSTANT (5368709120);
	snapshot->memory = TRUE;
	g_array_append_vals (snapshot->indexes, held, G_N_ELEMENTS (held));
	g_array_append_vals (snapshot->running, ran, G_N_ELEMENTS (ran));
	g_ptr_array_add (spec->snapshots, snapshot);
	g_ptr_array_add (pools, spec);
	intent->snapshot = g_strdup ("installed");
	g_ptr_array_add (intents, intent);
	g_assert_true (nf_store_save (store, pools, intents, 9, &error));
	g_assert_no_error (error);
	g_assert_true (nf_store_load (store, &pools_back, &intents_back, &next_job, &error));
	g_assert_no_error (error);

	spec = g_ptr_array_index (pools_back, 0);
	g_assert_cmpuint (spec->snapshots->len, ==, 1);
	back = g_ptr_array_index (spec->snapshots, 0);
	g_assert_cmpstr (back->name, ==, "installed");
	g_assert_cmpint (back->created, ==, 1796314801);
	g_assert_cmpuint (back->size, ==, G_GUINT64_CONSTANT (5368709120));
	g_assert_true (back->memory);
	g_assert_cmpuint (back->indexes->len, ==, 3);
	g_assert_cmpuint (back->running->len, ==, 2);
	g_assert_cmpuint (g_array_index (back->running, guint, 1), ==, 3);
	intent_back = g_ptr_array_index (intents_back, 0);
	g_assert_cmpint (intent_back->kind, ==, NF_INTENT_KIND_REVERT);
	g_assert_cmpstr (intent_back->snapshot, ==, "installed");
	g_unlink (nf_store_get_path (store));
	g_rmdir (dir);
}

static void
test_intent_kinds (void)
{
	g_autofree gchar *dir = scratch_dir ();
	g_autoptr (NfStore) store = nf_store_new (dir);
	g_autoptr (GPtrArray) pools = NULL;
	g_autoptr (GPtrArray) intents = NULL;
	g_autoptr (GPtrArray) pools_again = NULL;
	g_autoptr (GPtrArray) again = NULL;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *text = NULL;
	guint next_job = 0;
	const gchar *file = "{\"version\": 1, \"next-job\": 9, \"pools\": [], \"operations\": ["
			    "{\"job\": 1, \"kind\": \"create\", \"pool\": \"a\", \"nodes\": [1, 2]},"
			    "{\"job\": 2, \"kind\": \"scale-up\", \"pool\": \"b\", \"nodes\": [3]},"
			    "{\"job\": 3, \"kind\": \"scale-down\", \"pool\": \"c\", \"nodes\": [2]},"
			    "{\"job\": 4, \"kind\": \"delete\", \"pool\": \"d\", \"nodes\": []},"
			    "{\"job\": 5, \"kind\": \"migrate\", \"pool\": \"e\", \"nodes\": [1]},"
			    "{\"job\": 6, \"kind\": \"reset\", \"pool\": \"f\", \"nodes\": [1]}]}";
	const NfIntentKind kinds[] = {
		NF_INTENT_KIND_CREATE,
		NF_INTENT_KIND_SCALE_UP,
		NF_INTENT_KIND_SCALE_DOWN,
		NF_INTENT_KIND_DELETE,
		NF_INTENT_KIND_RESET,
	};

	g_assert_true (g_file_set_contents (nf_store_get_path (store), file, -1, NULL));
	g_test_expect_message ("nf-store", G_LOG_LEVEL_WARNING, "*unknown kind 'migrate'*");
	g_assert_true (nf_store_load (store, &pools, &intents, &next_job, &error));
	g_test_assert_expected_messages ();
	g_assert_no_error (error);
	g_assert_cmpuint (intents->len, ==, G_N_ELEMENTS (kinds));
	for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
		g_assert_cmpint (((NfIntent *) g_ptr_array_index (intents, i))->kind, ==, kinds[i]);

	/* Written back with the same names. */
	g_assert_true (nf_store_save (store, pools, intents, next_job, &error));
	g_assert_no_error (error);
	g_assert_true (g_file_get_contents (nf_store_get_path (store), &text, NULL, NULL));
	for (guint i = 0; i < G_N_ELEMENTS (kinds); i++) {
		g_autofree gchar *member =
			g_strdup_printf ("\"kind\" : \"%s\"", nf_intent_kind_to_string (kinds[i]));

		g_assert_nonnull (strstr (text, member));
	}
	g_assert_true (nf_store_load (store, &pools_again, &again, &next_job, &error));
	g_assert_cmpuint (again->len, ==, G_N_ELEMENTS (kinds));
	g_unlink (nf_store_get_path (store));
	g_rmdir (dir);
}

/* Each save replaces the whole file through a temporary one, and leaves
 * nothing else behind. */
static void
test_save_replaces_whole (void)
{
	g_autofree gchar *dir = scratch_dir ();
	g_autoptr (NfStore) store = nf_store_new (dir);
	g_autoptr (GPtrArray) pools = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_pool_spec_free);
	g_autoptr (GPtrArray) back = NULL;
	g_autoptr (GPtrArray) intents = NULL;
	g_autoptr (GDir) listing = NULL;
	g_autoptr (GError) error = NULL;
	guint next_job = 0;
	guint files = 0;

	for (guint i = 0; i < 50; i++) {
		g_autofree gchar *name = g_strdup_printf ("pool%u", i);

		g_ptr_array_add (pools, sample_spec (name, i + 1));
		g_assert_true (nf_store_save (store, pools, NULL, i + 1, &error));
		g_assert_no_error (error);
	}
	g_ptr_array_set_size (pools, 1);
	g_assert_true (nf_store_save (store, pools, NULL, 99, &error));
	g_assert_true (nf_store_load (store, &back, &intents, &next_job, &error));
	g_assert_no_error (error);
	g_assert_cmpuint (back->len, ==, 1);
	g_assert_cmpuint (next_job, ==, 99);
	listing = g_dir_open (dir, 0, NULL);
	while (g_dir_read_name (listing) != NULL)
		files++;
	g_assert_cmpuint (files, ==, 1);
	g_unlink (nf_store_get_path (store));
	g_rmdir (dir);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/store/missing-is-empty", test_missing_is_empty);
	g_test_add_func ("/store/round-trip", test_round_trip);
	g_test_add_func ("/store/snapshots-round-trip", test_snapshots_round_trip);
	g_test_add_func ("/store/broken-file", test_broken_file);
	g_test_add_func ("/store/intent-kinds", test_intent_kinds);
	g_test_add_func ("/store/save-replaces-whole", test_save_replaces_whole);
	return g_test_run ();
}
