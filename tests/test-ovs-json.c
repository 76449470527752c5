/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-ovs-json"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "src/core/nf-ovsdb-private.h"

/* OVSDB's wire encodings (nf-ovsdb.c) without a server: message framing,
 * datums, transactions and their results. */

static gchar *
to_text (JsonNode *node)
{
	return json_to_string (node, FALSE);
}

static JsonNode *
from_text (const gchar *text)
{
	g_autoptr (GError) error = NULL;
	JsonNode *node = json_from_string (text, &error);

	g_assert_no_error (error);
	return node;
}

static gint64
message_id (JsonNode *message)
{
	return json_object_get_int_member (json_node_get_object (message), "id");
}

static void
test_reader_split (void)
{
	const gchar *stream =
		"{\"id\":1,\"result\":[\"}{\\\"[\"]}\n {\"id\":2,\"result\":{}}\t{\"id\":3,\"result\":null}";
	gsize len = strlen (stream);

	/* Every way of cutting the stream in two gives the same three messages. */
	for (gsize cut = 0; cut <= len; cut++) {
		g_autoptr (NfOvsdbReader) reader = nf_ovsdb_reader_new (4096);
		g_autoptr (GError) error = NULL;
		gint64 expected = 1;

		nf_ovsdb_reader_feed (reader, stream, cut);
		for (;;) {
			g_autoptr (JsonNode) message = nf_ovsdb_reader_next (reader, &error);

			g_assert_no_error (error);
			if (message == NULL)
				break;
			g_assert_cmpint (message_id (message), ==, expected++);
		}
		nf_ovsdb_reader_feed (reader, stream + cut, len - cut);
		for (;;) {
			g_autoptr (JsonNode) message = nf_ovsdb_reader_next (reader, &error);

			g_assert_no_error (error);
			if (message == NULL)
				break;
			g_assert_cmpint (message_id (message), ==, expected++);
		}
		g_assert_cmpint (expected, ==, 4);
	}
}

static void
test_reader_bytewise (void)
{
	const gchar *stream = "{\"id\":7,\"params\":[\"a\\\\\",\"{\",\"\\u00e9\"]}{\"id\":8}";
	g_autoptr (NfOvsdbReader) reader = nf_ovsdb_reader_new (4096);
	g_autoptr (GError) error = NULL;
	guint seen = 0;

	for (gsize i = 0; stream[i] != '\0'; i++) {
		g_autoptr (JsonNode) message = NULL;

		nf_ovsdb_reader_feed (reader, stream + i, 1);
		message = nf_ovsdb_reader_next (reader, &error);
		g_assert_no_error (error);
		if (message != NULL) {
			seen++;
			g_assert_cmpint (message_id (message), ==, seen == 1 ? 7 : 8);
		}
	}
	g_assert_cmpuint (seen, ==, 2);
}

static void
test_reader_bad (void)
{
	struct {
		const gchar *stream;
		const gchar *says;
	} table[] = {
		{"[1,2]", "between messages"},
		{"{\"id\":1} x", "between messages"},
		{"{\"id\":}", "not JSON"},
		{"{\"id\":1]", "not JSON"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (NfOvsdbReader) reader = nf_ovsdb_reader_new (4096);
		g_autoptr (GError) error = NULL;
		g_autoptr (JsonNode) message = NULL;

		g_test_message ("bad stream: %s", table[i].stream);
		nf_ovsdb_reader_feed (reader, table[i].stream, strlen (table[i].stream));
		do {
			g_clear_pointer (&message, json_node_unref);
			message = nf_ovsdb_reader_next (reader, &error);
		} while (message != NULL);
		g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
		g_assert_nonnull (strstr (error->message, table[i].says));
	}
}

static void
test_reader_too_large (void)
{
	g_autoptr (NfOvsdbReader) reader = nf_ovsdb_reader_new (64);
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) message = NULL;
	g_autofree gchar *big = g_strnfill (100, 'x');

	nf_ovsdb_reader_feed (reader, "{\"a\":\"", 6);
	nf_ovsdb_reader_feed (reader, big, strlen (big));
	message = nf_ovsdb_reader_next (reader, &error);
	g_assert_null (message);
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_assert_nonnull (strstr (error->message, "too large"));
}

static void
test_datum_ints (void)
{
	struct {
		const gchar *json;
		const gchar *values;
	} table[] = {
		{"100", "100"},
		{"[\"set\",[]]", ""},
		{"[\"set\",[100,101,102,200]]", "100,101,102,200"},
		{"[\"set\",[4095]]", "4095"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
		g_autoptr (JsonNode) datum = from_text (table[i].json);
		g_autoptr (GArray) values = NULL;
		g_autoptr (GError) error = NULL;
		g_autoptr (GString) text = g_string_new (NULL);

		g_assert_true (nf_ovsdb_datum_get_ints (datum, &values, &error));
		g_assert_no_error (error);
		for (guint j = 0; j < values->len; j++)
			g_string_append_printf (text,
						"%s%" G_GINT64_FORMAT,
						j > 0 ? "," : "",
						g_array_index (values, gint64, j));
		g_assert_cmpstr (text->str, ==, table[i].values);
	}
}

static void
test_datum_bad (void)
{
	const gchar *not_ints[] =
		{"\"100\"", "[\"map\",[]]", "[\"set\",[\"a\"]]", "[\"set\",{}]", "null", "1.5"};
	const gchar *not_maps[] = {"[\"set\",[]]", "[\"map\",[[\"a\"]]]", "[\"map\",[[\"a\",1]]]", "{}"};
	const gchar *not_strings[] = {"7", "[\"set\",[\"a\",\"b\"]]", "[\"uuid\",\"x\"]"};
	const gchar *not_uuids[] = {"\"x\"", "[\"set\",[\"x\"]]", "[\"named-uuid\",\"x\"]"};

	for (guint i = 0; i < G_N_ELEMENTS (not_ints); i++) {
		g_autoptr (JsonNode) datum = from_text (not_ints[i]);
		g_autoptr (GArray) values = NULL;
		g_autoptr (GError) error = NULL;

		g_test_message ("not integers: %s", not_ints[i]);
		g_assert_false (nf_ovsdb_datum_get_ints (datum, &values, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
		g_assert_null (values);
	}
	for (guint i = 0; i < G_N_ELEMENTS (not_maps); i++) {
		g_autoptr (JsonNode) datum = from_text (not_maps[i]);
		g_autoptr (GHashTable) map = NULL;
		g_autoptr (GError) error = NULL;

		g_test_message ("not a map: %s", not_maps[i]);
		g_assert_false (nf_ovsdb_datum_get_map (datum, &map, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	}
	for (guint i = 0; i < G_N_ELEMENTS (not_strings); i++) {
		g_autoptr (JsonNode) datum = from_text (not_strings[i]);
		g_autofree gchar *value = NULL;
		g_autoptr (GError) error = NULL;

		g_test_message ("not a string: %s", not_strings[i]);
		g_assert_false (nf_ovsdb_datum_get_string (datum, &value, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	}
	for (guint i = 0; i < G_N_ELEMENTS (not_uuids); i++) {
		g_autoptr (JsonNode) datum = from_text (not_uuids[i]);
		g_autoptr (GPtrArray) uuids = NULL;
		g_autoptr (GError) error = NULL;

		g_test_message ("not UUIDs: %s", not_uuids[i]);
		g_assert_false (nf_ovsdb_datum_get_uuids (datum, &uuids, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	}
	/* A missing column is an error too, not a crash. */
	{
		g_autoptr (GArray) values = NULL;
		g_autoptr (GError) error = NULL;

		g_assert_false (nf_ovsdb_datum_get_ints (NULL, &values, &error));
		g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	}
}

static void
test_datum_strings (void)
{
	g_autoptr (JsonNode) bare = from_text ("\"netdev\"");
	g_autoptr (JsonNode) empty = from_text ("[\"set\",[]]");
	g_autoptr (JsonNode) one = from_text ("[\"set\",[\"secure\"]]");
	g_autoptr (JsonNode) map =
		from_text ("[\"map\",[[\"vm-id\",\"6f1b\"],[\"attached-mac\",\"52:54:00:00:00:01\"]]]");
	g_autoptr (JsonNode) uuids = from_text ("[\"set\",[[\"uuid\",\"a\"],[\"uuid\",\"b\"]]]");
	g_autoptr (JsonNode) uuid = from_text ("[\"uuid\",\"c\"]");
	g_autoptr (GHashTable) table = NULL;
	g_autoptr (GPtrArray) list = NULL;
	g_autoptr (GPtrArray) single = NULL;
	g_autofree gchar *a = NULL;
	g_autofree gchar *b = NULL;
	g_autofree gchar *c = NULL;

	g_assert_true (nf_ovsdb_datum_get_string (bare, &a, NULL));
	g_assert_cmpstr (a, ==, "netdev");
	g_assert_true (nf_ovsdb_datum_get_string (empty, &b, NULL));
	g_assert_null (b);
	g_assert_true (nf_ovsdb_datum_get_string (one, &c, NULL));
	g_assert_cmpstr (c, ==, "secure");
	g_assert_true (nf_ovsdb_datum_get_map (map, &table, NULL));
	g_assert_cmpuint (g_hash_table_size (table), ==, 2);
	g_assert_cmpstr (g_hash_table_lookup (table, "vm-id"), ==, "6f1b");
	g_assert_cmpstr (g_hash_table_lookup (table, "attached-mac"), ==, "52:54:00:00:00:01");
	g_assert_true (nf_ovsdb_datum_get_uuids (uuids, &list, NULL));
	g_assert_cmpuint (list->len, ==, 2);
	g_assert_cmpstr (g_ptr_array_index (list, 1), ==, "b");
	g_assert_true (nf_ovsdb_datum_get_uuids (uuid, &single, NULL));
	g_assert_cmpuint (single->len, ==, 1);
	g_assert_cmpstr (g_ptr_array_index (single, 0), ==, "c");
}

static void
test_build (void)
{
	const gchar *pairs[] = {"mac-aging-time", "300", "mac-table-size", "8192", NULL};
	const gchar *keys[] = {"mac-aging-time", NULL};
	const gchar *uuids[] = {"u1", "u2", NULL};
	const gchar *columns[] = {"name", NULL};
	g_autoptr (JsonArray) ops = json_array_new ();
	g_autoptr (JsonNode) map = nf_ovsdb_string_map_new (pairs);
	g_autoptr (JsonNode) set = nf_ovsdb_string_set_new (keys);
	g_autoptr (JsonNode) uuid_set = nf_ovsdb_uuid_set_new (uuids);
	g_autoptr (JsonNode) named = nf_ovsdb_named_uuid_new ("nf_port");
	g_autoptr (JsonNode) ops_node = NULL;
	g_autofree gchar *map_text = to_text (map);
	g_autofree gchar *set_text = to_text (set);
	g_autofree gchar *uuid_set_text = to_text (uuid_set);
	g_autofree gchar *named_text = to_text (named);
	g_autofree gchar *ops_text = NULL;
	JsonObject *op;

	g_assert_cmpstr (map_text,
			 ==,
			 "[\"map\",[[\"mac-aging-time\",\"300\"],[\"mac-table-size\",\"8192\"]]]");
	g_assert_cmpstr (set_text, ==, "[\"set\",[\"mac-aging-time\"]]");
	g_assert_cmpstr (uuid_set_text, ==, "[\"set\",[[\"uuid\",\"u1\"],[\"uuid\",\"u2\"]]]");
	g_assert_cmpstr (named_text, ==, "[\"named-uuid\",\"nf_port\"]");

	nf_ovsdb_add_wait (ops,
			   "Bridge",
			   nf_ovsdb_condition_new ("name", "==", nf_ovsdb_string_new ("br0")),
			   "name",
			   NULL);
	op = nf_ovsdb_op_add (ops, "mutate", "Open_vSwitch", NULL);
	nf_ovsdb_op_add_mutation (op, "next_cfg", "+=", nf_ovsdb_int_new (1));
	g_assert_cmpuint (nf_ovsdb_add_select (ops, "Port", NULL, columns), ==, 2);
	nf_ovsdb_add_comment (ops, "hi");
	ops_node = nf_ovsdb_array_node (json_array_ref (ops));
	ops_text = to_text (ops_node);
	g_assert_cmpstr (ops_text,
			 ==,
			 "[{\"op\":\"wait\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"br0\"]],"
			 "\"columns\":[\"name\"],\"rows\":[],\"until\":\"==\",\"timeout\":0},"
			 "{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],"
			 "\"mutations\":[[\"next_cfg\",\"+=\",1]]},"
			 "{\"op\":\"select\",\"table\":\"Port\",\"where\":[],\"columns\":[\"name\"]},"
			 "{\"op\":\"comment\",\"comment\":\"hi\"}]");
}

static void
test_transact_result (void)
{
	g_autoptr (JsonNode) good = from_text ("[{\"uuid\":[\"uuid\",\"1234\"]},{\"count\":1},"
					       "{\"rows\":[{\"next_cfg\":7}]},{}]");
	g_autoptr (JsonNode) op_failed =
		from_text ("[{},{\"error\":\"timed out\",\"details\":\"\\\"wait\\\" timed out\"},null]");
	g_autoptr (JsonNode) commit_failed = from_text ("[{},{},{\"error\":\"constraint violation\","
							"\"details\":\"duplicate name\"}]");
	g_autoptr (JsonNode) short_result = from_text ("[{}]");
	g_autoptr (GError) error = NULL;
	g_autofree gchar *uuid = NULL;
	JsonArray *rows;
	guint failed = 0;
	gint64 count = 0;

	g_assert_true (nf_ovsdb_transact_check (good, 4, &failed, &error));
	g_assert_no_error (error);
	g_assert_cmpuint (failed, ==, G_MAXUINT);
	uuid = nf_ovsdb_result_uuid (good, 0, &error);
	g_assert_cmpstr (uuid, ==, "1234");
	g_assert_true (nf_ovsdb_result_count (good, 1, &count, &error));
	g_assert_cmpint (count, ==, 1);
	rows = nf_ovsdb_result_rows (good, 2, &error);
	g_assert_no_error (error);
	g_assert_cmpuint (json_array_get_length (rows), ==, 1);
	g_assert_null (nf_ovsdb_result_rows (good, 1, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_clear_error (&error);
	g_assert_null (nf_ovsdb_result_rows (good, 9, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_clear_error (&error);

	g_assert_false (nf_ovsdb_transact_check (op_failed, 3, &failed, &error));
	g_assert_cmpuint (failed, ==, 1);
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
	g_assert_nonnull (strstr (error->message, "timed out"));
	g_clear_error (&error);

	g_assert_false (nf_ovsdb_transact_check (commit_failed, 2, &failed, &error));
	g_assert_cmpuint (failed, ==, 2);
	g_assert_nonnull (strstr (error->message, "constraint violation: duplicate name"));
	g_clear_error (&error);

	g_assert_false (nf_ovsdb_transact_check (short_result, 2, &failed, &error));
	g_assert_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH);
}

static void
test_duration (void)
{
	g_autofree gchar *seconds = nf_ovsdb_duration_text (5000);
	g_autofree gchar *millis = nf_ovsdb_duration_text (500);

	g_assert_cmpstr (seconds, ==, "5 s");
	g_assert_cmpstr (millis, ==, "500 ms");
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/ovs-json/reader/split", test_reader_split);
	g_test_add_func ("/ovs-json/reader/bytewise", test_reader_bytewise);
	g_test_add_func ("/ovs-json/reader/bad", test_reader_bad);
	g_test_add_func ("/ovs-json/reader/too-large", test_reader_too_large);
	g_test_add_func ("/ovs-json/datum/ints", test_datum_ints);
	g_test_add_func ("/ovs-json/datum/strings", test_datum_strings);
	g_test_add_func ("/ovs-json/datum/bad", test_datum_bad);
	g_test_add_func ("/ovs-json/build", test_build);
	g_test_add_func ("/ovs-json/transact-result", test_transact_result);
	g_test_add_func ("/ovs-json/duration", test_duration);
	return g_test_run ();
}
