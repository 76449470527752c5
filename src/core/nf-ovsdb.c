/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-ovsdb"

#include "config.h"

#include <string.h>

#include "nestfarm/nf-error.h"
#include "nf-ovsdb-private.h"

/* OVSDB's wire encodings (RFC 7047): the message framing and datums. No
 * I/O here, so that all of it is unit-tested. */

static gboolean
set_malformed (GError **error, const gchar *what)
{
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_OPENVSWITCH,
		     "Open vSwitch sent a reply nestfarm cannot read (%s); check that ovsdb-server serves the Open_vSwitch database.",
		     what);
	return FALSE;
}

struct _NfOvsdbReader {
	GByteArray *buffer;
	gsize start;   /* where the message being scanned begins */
	gsize scanned; /* bytes already looked at */
	guint depth;
	gboolean in_string;
	gboolean escaped;
	gsize max_message;
};

NfOvsdbReader *
nf_ovsdb_reader_new (gsize max_message)
{
	NfOvsdbReader *self = g_new0 (NfOvsdbReader, 1);

	self->buffer = g_byte_array_new ();
	self->max_message = max_message;
	return self;
}

void
nf_ovsdb_reader_free (NfOvsdbReader *self)
{
	if (self == NULL)
		return;
	g_byte_array_unref (self->buffer);
	g_free (self);
}

void
nf_ovsdb_reader_feed (NfOvsdbReader *self, const gchar *data, gsize len)
{
	g_return_if_fail (self != NULL);
	g_byte_array_append (self->buffer, (const guint8 *) data, (guint) len);
}

static JsonNode *
reader_take_message (NfOvsdbReader *self, gsize end, GError **error)
{
	g_autoptr (JsonParser) parser = json_parser_new_immutable ();
	g_autoptr (GError) error_local = NULL;
	g_autoptr (JsonNode) root = NULL;
	const gchar *data = (const gchar *) self->buffer->data + self->start;
	gsize len = end - self->start;

	if (!json_parser_load_from_data (parser, data, (gssize) len, &error_local)) {
		g_autofree gchar *why = g_strdup_printf ("not JSON: %s", error_local->message);
		set_malformed (error, why);
		return NULL;
	}
	root = json_parser_steal_root (parser);
	g_byte_array_remove_range (self->buffer, 0, (guint) end);
	self->start = 0;
	self->scanned = 0;
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
		set_malformed (error, "a message that is not a JSON object");
		return NULL;
	}
	return g_steal_pointer (&root);
}

JsonNode *
nf_ovsdb_reader_next (NfOvsdbReader *self, GError **error)
{
	const gchar *data;

	g_return_val_if_fail (self != NULL, NULL);

	data = (const gchar *) self->buffer->data;
	while (self->scanned < self->buffer->len) {
		gchar c = data[self->scanned++];

		if (self->depth == 0) {
			if (g_ascii_isspace (c)) {
				self->start = self->scanned;
				continue;
			}
			if (c != '{') {
				set_malformed (error, "bytes between messages");
				return NULL;
			}
		}
		if (self->in_string) {
			if (self->escaped)
				self->escaped = FALSE;
			else if (c == '\\')
				self->escaped = TRUE;
			else if (c == '"')
				self->in_string = FALSE;
			continue;
		}
		if (c == '"') {
			self->in_string = TRUE;
		} else if (c == '{' || c == '[') {
			self->depth++;
		} else if (c == '}' || c == ']') {
			self->depth--;
			if (self->depth == 0)
				return reader_take_message (self, self->scanned, error);
		}
	}
	if (self->buffer->len - self->start > self->max_message) {
		set_malformed (error, "a message too large");
		return NULL;
	}
	return NULL;
}

JsonNode *
nf_ovsdb_array_node (JsonArray *array)
{
	JsonNode *node = json_node_new (JSON_NODE_ARRAY);

	json_node_take_array (node, array);
	return node;
}

JsonNode *
nf_ovsdb_object_node (JsonObject *object)
{
	JsonNode *node = json_node_new (JSON_NODE_OBJECT);

	json_node_take_object (node, object);
	return node;
}

/* A member's string, or NULL if it is missing or not a string. */
const gchar *
nf_ovsdb_member_string (JsonObject *object, const gchar *name)
{
	JsonNode *node = json_object_get_member (object, name);

	if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

JsonNode *
nf_ovsdb_string_new (const gchar *value)
{
	return json_node_init_string (json_node_alloc (), value);
}

JsonNode *
nf_ovsdb_int_new (gint64 value)
{
	return json_node_init_int (json_node_alloc (), value);
}

static JsonNode *
pair_new (const gchar *first, JsonNode *second)
{
	JsonArray *array = json_array_sized_new (2);

	json_array_add_string_element (array, first);
	json_array_add_element (array, second);
	return nf_ovsdb_array_node (array);
}

static JsonNode *
tagged_new (const gchar *tag, JsonArray *elements)
{
	return pair_new (tag, nf_ovsdb_array_node (elements));
}

JsonNode *
nf_ovsdb_uuid_new (const gchar *uuid)
{
	return pair_new ("uuid", nf_ovsdb_string_new (uuid));
}

JsonNode *
nf_ovsdb_named_uuid_new (const gchar *name)
{
	return pair_new ("named-uuid", nf_ovsdb_string_new (name));
}

JsonNode *
nf_ovsdb_uuid_set_new (const gchar *const *uuids)
{
	JsonArray *elements = json_array_new ();

	for (guint i = 0; uuids != NULL && uuids[i] != NULL; i++)
		json_array_add_element (elements, nf_ovsdb_uuid_new (uuids[i]));
	return tagged_new ("set", elements);
}

JsonNode *
nf_ovsdb_set_new (JsonArray *elements)
{
	return tagged_new ("set", elements);
}

JsonNode *
nf_ovsdb_string_set_new (const gchar *const *values)
{
	JsonArray *elements = json_array_new ();

	for (guint i = 0; values != NULL && values[i] != NULL; i++)
		json_array_add_string_element (elements, values[i]);
	return tagged_new ("set", elements);
}

JsonNode *
nf_ovsdb_string_map_new (const gchar *const *pairs)
{
	JsonArray *elements = json_array_new ();

	for (guint i = 0; pairs != NULL && pairs[i] != NULL && pairs[i + 1] != NULL; i += 2)
		json_array_add_element (elements, pair_new (pairs[i], nf_ovsdb_string_new (pairs[i + 1])));
	return tagged_new ("map", elements);
}

JsonNode *
nf_ovsdb_condition_new (const gchar *column, const gchar *function, JsonNode *value)
{
	JsonArray *array = json_array_sized_new (3);

	json_array_add_string_element (array, column);
	json_array_add_string_element (array, function);
	json_array_add_element (array, value);
	return nf_ovsdb_array_node (array);
}

/* The tag of a ["set",...], ["map",...] or ["uuid",...] datum, else NULL. */
static const gchar *
datum_tag (JsonNode *datum, JsonNode **payload)
{
	JsonArray *array;
	JsonNode *first;

	if (datum == NULL || !JSON_NODE_HOLDS_ARRAY (datum))
		return NULL;
	array = json_node_get_array (datum);
	if (json_array_get_length (array) != 2)
		return NULL;
	first = json_array_get_element (array, 0);
	if (json_node_get_value_type (first) != G_TYPE_STRING)
		return NULL;
	*payload = json_array_get_element (array, 1);
	return json_node_get_string (first);
}

/* The atoms of a set datum, borrowed: a bare atom is a set of one. */
static GPtrArray *
datum_atoms (JsonNode *datum, GError **error)
{
	g_autoptr (GPtrArray) atoms = g_ptr_array_new ();
	JsonNode *payload = NULL;
	const gchar *tag = datum_tag (datum, &payload);

	if (datum == NULL) {
		set_malformed (error, "a missing column");
		return NULL;
	}
	if (g_strcmp0 (tag, "set") == 0) {
		JsonArray *elements;

		if (!JSON_NODE_HOLDS_ARRAY (payload)) {
			set_malformed (error, "a set that is not an array");
			return NULL;
		}
		elements = json_node_get_array (payload);
		for (guint i = 0; i < json_array_get_length (elements); i++)
			g_ptr_array_add (atoms, json_array_get_element (elements, i));
		return g_steal_pointer (&atoms);
	}
	if (g_strcmp0 (tag, "map") == 0) {
		set_malformed (error, "a map where a set was expected");
		return NULL;
	}
	g_ptr_array_add (atoms, datum);
	return g_steal_pointer (&atoms);
}

gboolean
nf_ovsdb_datum_get_ints (JsonNode *datum, GArray **values, GError **error)
{
	g_autoptr (GPtrArray) atoms = datum_atoms (datum, error);
	g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (gint64));

	if (atoms == NULL)
		return FALSE;
	for (guint i = 0; i < atoms->len; i++) {
		JsonNode *atom = g_ptr_array_index (atoms, i);
		gint64 value;

		if (json_node_get_value_type (atom) != G_TYPE_INT64)
			return set_malformed (error, "a set of integers holding something else");
		value = json_node_get_int (atom);
		g_array_append_val (out, value);
	}
	*values = g_steal_pointer (&out);
	return TRUE;
}

gboolean
nf_ovsdb_datum_get_int (JsonNode *datum, gint64 *value, GError **error)
{
	g_autoptr (GArray) values = NULL;

	if (!nf_ovsdb_datum_get_ints (datum, &values, error))
		return FALSE;
	if (values->len != 1)
		return set_malformed (error, "an integer column without exactly one value");
	*value = g_array_index (values, gint64, 0);
	return TRUE;
}

gboolean
nf_ovsdb_datum_get_string (JsonNode *datum, gchar **value, GError **error)
{
	g_autoptr (GPtrArray) atoms = datum_atoms (datum, error);
	JsonNode *atom;

	if (atoms == NULL)
		return FALSE;
	if (atoms->len == 0) {
		*value = NULL;
		return TRUE;
	}
	atom = g_ptr_array_index (atoms, 0);
	if (atoms->len > 1 || json_node_get_value_type (atom) != G_TYPE_STRING)
		return set_malformed (error, "a string column holding something else");
	*value = g_strdup (json_node_get_string (atom));
	return TRUE;
}

gboolean
nf_ovsdb_datum_get_uuids (JsonNode *datum, GPtrArray **uuids, GError **error)
{
	g_autoptr (GPtrArray) atoms = datum_atoms (datum, error);
	g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

	if (atoms == NULL)
		return FALSE;
	for (guint i = 0; i < atoms->len; i++) {
		JsonNode *payload = NULL;

		if (g_strcmp0 (datum_tag (g_ptr_array_index (atoms, i), &payload), "uuid") != 0 ||
		    json_node_get_value_type (payload) != G_TYPE_STRING)
			return set_malformed (error, "a set of UUIDs holding something else");
		g_ptr_array_add (out, g_strdup (json_node_get_string (payload)));
	}
	*uuids = g_steal_pointer (&out);
	return TRUE;
}

gboolean
nf_ovsdb_datum_get_map (JsonNode *datum, GHashTable **map, GError **error)
{
	g_autoptr (GHashTable) out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	JsonNode *payload = NULL;
	JsonArray *pairs;

	if (g_strcmp0 (datum_tag (datum, &payload), "map") != 0 || !JSON_NODE_HOLDS_ARRAY (payload))
		return set_malformed (error, "a map column holding something else");
	pairs = json_node_get_array (payload);
	for (guint i = 0; i < json_array_get_length (pairs); i++) {
		JsonNode *pair = json_array_get_element (pairs, i);
		JsonArray *kv;

		if (!JSON_NODE_HOLDS_ARRAY (pair) || json_array_get_length (json_node_get_array (pair)) != 2)
			return set_malformed (error, "a map entry that is not a pair");
		kv = json_node_get_array (pair);
		if (json_node_get_value_type (json_array_get_element (kv, 0)) != G_TYPE_STRING ||
		    json_node_get_value_type (json_array_get_element (kv, 1)) != G_TYPE_STRING)
			return set_malformed (error, "a map of strings holding something else");
		g_hash_table_replace (out,
				      g_strdup (json_array_get_string_element (kv, 0)),
				      g_strdup (json_array_get_string_element (kv, 1)));
	}
	*map = g_steal_pointer (&out);
	return TRUE;
}

/* An operation's result object, or NULL when it has an "error". */
static JsonObject *
result_object (JsonNode *result, guint index, GError **error)
{
	JsonArray *array;
	JsonNode *node;

	if (result == NULL || !JSON_NODE_HOLDS_ARRAY (result)) {
		set_malformed (error, "a transaction result that is not an array");
		return NULL;
	}
	array = json_node_get_array (result);
	if (index >= json_array_get_length (array)) {
		set_malformed (error, "a transaction result with too few entries");
		return NULL;
	}
	node = json_array_get_element (array, index);
	if (!JSON_NODE_HOLDS_OBJECT (node)) {
		set_malformed (error, "a transaction result entry that is not an object");
		return NULL;
	}
	return json_node_get_object (node);
}

gboolean
nf_ovsdb_transact_check (JsonNode *result, guint n_ops, guint *failed_op, GError **error)
{
	JsonArray *array;
	guint len;

	if (failed_op != NULL)
		*failed_op = G_MAXUINT;
	if (result == NULL || !JSON_NODE_HOLDS_ARRAY (result))
		return set_malformed (error, "a transaction result that is not an array");
	array = json_node_get_array (result);
	len = json_array_get_length (array);
	if (len < n_ops)
		return set_malformed (error, "a transaction result with too few entries");
	/* n_ops + 1 entries: the last says why the commit failed. */
	for (guint i = 0; i < len; i++) {
		JsonNode *node = json_array_get_element (array, i);
		JsonObject *object;
		const gchar *name;
		const gchar *details;

		if (!JSON_NODE_HOLDS_OBJECT (node))
			continue;
		object = json_node_get_object (node);
		if (!json_object_has_member (object, "error") ||
		    json_object_get_null_member (object, "error"))
			continue;
		name = nf_ovsdb_member_string (object, "error");
		details = nf_ovsdb_member_string (object, "details");
		if (failed_op != NULL)
			*failed_op = MIN (i, n_ops);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_OPENVSWITCH,
			     "Open vSwitch refused the change: %s%s%s; see the ovsdb-server log (/var/log/openvswitch/ovsdb-server.log).",
			     name != NULL ? name : "unknown error",
			     details != NULL ? ": " : "",
			     details != NULL ? details : "");
		return FALSE;
	}
	return TRUE;
}

JsonArray *
nf_ovsdb_result_rows (JsonNode *result, guint index, GError **error)
{
	JsonObject *object = result_object (result, index, error);
	JsonNode *rows;

	if (object == NULL)
		return NULL;
	rows = json_object_get_member (object, "rows");
	if (rows == NULL || !JSON_NODE_HOLDS_ARRAY (rows)) {
		set_malformed (error, "a select result without rows");
		return NULL;
	}
	return json_node_get_array (rows);
}

gboolean
nf_ovsdb_result_count (JsonNode *result, guint index, gint64 *count, GError **error)
{
	JsonObject *object = result_object (result, index, error);
	JsonNode *node;

	if (object == NULL)
		return FALSE;
	node = json_object_get_member (object, "count");
	if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
		return set_malformed (error, "a mutate result without a count");
	*count = json_node_get_int (node);
	return TRUE;
}

gchar *
nf_ovsdb_result_uuid (JsonNode *result, guint index, GError **error)
{
	JsonObject *object = result_object (result, index, error);
	g_autoptr (GPtrArray) uuids = NULL;

	if (object == NULL)
		return NULL;
	if (!nf_ovsdb_datum_get_uuids (json_object_get_member (object, "uuid"), &uuids, error))
		return NULL;
	if (uuids->len != 1) {
		set_malformed (error, "an insert result without a UUID");
		return NULL;
	}
	return g_strdup (g_ptr_array_index (uuids, 0));
}

JsonObject *
nf_ovsdb_op_add (JsonArray *ops, const gchar *op, const gchar *table, JsonNode *condition)
{
	JsonObject *object = json_object_new ();

	json_object_set_string_member (object, "op", op);
	json_object_set_string_member (object, "table", table);
	if (g_strcmp0 (op, "insert") != 0) {
		JsonArray *where = json_array_new ();

		if (condition != NULL)
			json_array_add_element (where, condition);
		json_object_set_array_member (object, "where", where);
	}
	json_array_add_object_element (ops, object);
	return object;
}

static void
op_set_columns (JsonObject *op, const gchar *const *columns)
{
	JsonArray *array = json_array_new ();

	for (guint i = 0; columns[i] != NULL; i++)
		json_array_add_string_element (array, columns[i]);
	json_object_set_array_member (op, "columns", array);
}

guint
nf_ovsdb_add_select (JsonArray *ops, const gchar *table, JsonNode *condition, const gchar *const *columns)
{
	op_set_columns (nf_ovsdb_op_add (ops, "select", table, condition), columns);
	return json_array_get_length (ops) - 1;
}

guint
nf_ovsdb_add_wait (JsonArray *ops,
		   const gchar *table,
		   JsonNode *condition,
		   const gchar *column,
		   JsonNode *expected)
{
	JsonObject *op = nf_ovsdb_op_add (ops, "wait", table, condition);
	const gchar *columns[] = {column, NULL};
	JsonArray *rows = json_array_new ();

	op_set_columns (op, columns);
	if (expected != NULL) {
		JsonObject *row = json_object_new ();

		json_object_set_member (row, column, expected);
		json_array_add_object_element (rows, row);
	}
	json_object_set_array_member (op, "rows", rows);
	json_object_set_string_member (op, "until", "==");
	json_object_set_int_member (op, "timeout", 0);
	return json_array_get_length (ops) - 1;
}

void
nf_ovsdb_op_add_mutation (JsonObject *op, const gchar *column, const gchar *mutator, JsonNode *value)
{
	JsonArray *mutations;

	if (!json_object_has_member (op, "mutations"))
		json_object_set_array_member (op, "mutations", json_array_new ());
	mutations = json_object_get_array_member (op, "mutations");
	json_array_add_element (mutations, nf_ovsdb_condition_new (column, mutator, value));
}

void
nf_ovsdb_add_insert (JsonArray *ops, const gchar *table, const gchar *uuid_name, JsonObject *row)
{
	JsonObject *op = nf_ovsdb_op_add (ops, "insert", table, NULL);

	json_object_set_string_member (op, "uuid-name", uuid_name);
	json_object_set_object_member (op, "row", row);
}

void
nf_ovsdb_add_comment (JsonArray *ops, const gchar *comment)
{
	JsonObject *object = json_object_new ();

	json_object_set_string_member (object, "op", "comment");
	json_object_set_string_member (object, "comment", comment);
	json_array_add_object_element (ops, object);
}

gchar *
nf_ovsdb_row_uuid (JsonObject *row, GError **error)
{
	g_autoptr (GPtrArray) uuids = NULL;

	if (!nf_ovsdb_datum_get_uuids (json_object_get_member (row, "_uuid"), &uuids, error))
		return NULL;
	if (uuids->len != 1) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_OPENVSWITCH,
				     "Open vSwitch sent a row without its UUID; check that ovsdb-server serves the Open_vSwitch database.");
		return NULL;
	}
	return g_strdup (g_ptr_array_index (uuids, 0));
}

gchar *
nf_ovsdb_duration_text (guint ms)
{
	if (ms % 1000 == 0)
		return g_strdup_printf ("%u s", ms / 1000);
	return g_strdup_printf ("%u ms", ms);
}
