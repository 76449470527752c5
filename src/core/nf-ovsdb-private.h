/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The OVSDB management protocol (RFC 7047) as NfOvs speaks it: JSON-RPC
 * over one socket with a hard deadline, and the datum encodings. Private
 * to the core; the daemon uses NfOvs. */

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define NF_OVSDB_DATABASE   "Open_vSwitch"
#define NF_OVSDB_DEFAULT_DB "unix:/run/openvswitch/db.sock"

/* Splits the byte stream into messages: OVSDB sends JSON objects back to
 * back, with no delimiter between them. */
typedef struct _NfOvsdbReader NfOvsdbReader;

NfOvsdbReader *nf_ovsdb_reader_new (gsize max_message);
void nf_ovsdb_reader_free (NfOvsdbReader *self);
void nf_ovsdb_reader_feed (NfOvsdbReader *self, const gchar *data, gsize len);
/* The next whole message (a JSON object), or NULL: with @error set on a
 * broken stream, without it when more bytes are needed. */
JsonNode *nf_ovsdb_reader_next (NfOvsdbReader *self, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfOvsdbReader, nf_ovsdb_reader_free)

/* Datums (RFC 7047 section 5.1). A set of one element may come as the bare
 * atom; an empty optional value is ["set",[]]. */
/* Node wrappers that take @array or @object. */
JsonNode *nf_ovsdb_array_node (JsonArray *array);
JsonNode *nf_ovsdb_object_node (JsonObject *object);
const gchar *nf_ovsdb_member_string (JsonObject *object, const gchar *name);

JsonNode *nf_ovsdb_string_new (const gchar *value);
JsonNode *nf_ovsdb_int_new (gint64 value);
JsonNode *nf_ovsdb_uuid_new (const gchar *uuid);
JsonNode *nf_ovsdb_named_uuid_new (const gchar *name);
/* ["set",[...]] of UUIDs. */
JsonNode *nf_ovsdb_uuid_set_new (const gchar *const *uuids);
/* A set of the datum elements of @elements (taken). */
JsonNode *nf_ovsdb_set_new (JsonArray *elements);
/* ["set",[...]] of strings. */
JsonNode *nf_ovsdb_string_set_new (const gchar *const *values);
/* ["map",[[k,v],...]] from a NULL-terminated key, value, key, value list. */
JsonNode *nf_ovsdb_string_map_new (const gchar *const *pairs);
/* [column, function, value]; takes @value. */
JsonNode *nf_ovsdb_condition_new (const gchar *column, const gchar *function, JsonNode *value);

gboolean nf_ovsdb_datum_get_int (JsonNode *datum, gint64 *value, GError **error);
/* Of gint64, in the order given. */
gboolean nf_ovsdb_datum_get_ints (JsonNode *datum, GArray **values, GError **error);
/* NULL for the empty set. */
gboolean nf_ovsdb_datum_get_string (JsonNode *datum, gchar **value, GError **error);
/* Of gchar*. */
gboolean nf_ovsdb_datum_get_uuids (JsonNode *datum, GPtrArray **uuids, GError **error);
/* string -> string. */
gboolean nf_ovsdb_datum_get_map (JsonNode *datum, GHashTable **map, GError **error);

/* Checks a "transact" result against the @n_ops operations sent. On
 * failure @failed_op is the index of the operation OVSDB refused, or
 * @n_ops when the commit itself failed. */
gboolean nf_ovsdb_transact_check (JsonNode *result, guint n_ops, guint *failed_op, GError **error);
/* The rows of select operation @index in a checked result. */
JsonArray *nf_ovsdb_result_rows (JsonNode *result, guint index, GError **error);
/* The "count" of mutate or update operation @index. */
gboolean nf_ovsdb_result_count (JsonNode *result, guint index, gint64 *count, GError **error);
/* The UUID of insert operation @index. */
gchar *nf_ovsdb_result_uuid (JsonNode *result, guint index, GError **error);

/* Transaction building: each call appends one operation to @ops and takes
 * the nodes it is given. A NULL @condition matches every row. */
JsonObject *nf_ovsdb_op_add (JsonArray *ops, const gchar *op, const gchar *table, JsonNode *condition);
void nf_ovsdb_op_add_mutation (JsonObject *op, const gchar *column, const gchar *mutator, JsonNode *value);
/* These return the index of the operation they add. */
guint nf_ovsdb_add_select (JsonArray *ops,
			   const gchar *table,
			   JsonNode *condition,
			   const gchar *const *columns);
/* Aborts the transaction unless the rows matching @condition are exactly
 * one with @column equal to @expected, or none when @expected is NULL. */
guint nf_ovsdb_add_wait (JsonArray *ops,
			 const gchar *table,
			 JsonNode *condition,
			 const gchar *column,
			 JsonNode *expected);
void nf_ovsdb_add_insert (JsonArray *ops, const gchar *table, const gchar *uuid_name, JsonObject *row);
/* Shows in the ovsdb-server log who changed what. */
void nf_ovsdb_add_comment (JsonArray *ops, const gchar *comment);
gchar *nf_ovsdb_row_uuid (JsonObject *row, GError **error);

/* "5 s" or "500 ms", for messages. */
gchar *nf_ovsdb_duration_text (guint ms);

/* One connection, used by one thread for one job, with one deadline. */
typedef struct _NfOvsdbClient NfOvsdbClient;

NfOvsdbClient *nf_ovsdb_client_connect (const gchar *db, guint timeout_ms, GError **error);
void nf_ovsdb_client_free (NfOvsdbClient *self);
/* Waits for the reply to @method; takes @params (an array). */
JsonNode *nf_ovsdb_client_call (NfOvsdbClient *self, const gchar *method, JsonNode *params, GError **error);
/* Runs @ops atomically on Open_vSwitch; the result is checked as
 * nf_ovsdb_transact_check() does. */
JsonNode *nf_ovsdb_client_transact (NfOvsdbClient *self, JsonArray *ops, guint *failed_op, GError **error);
/* The same on another database the server holds (OVN_Northbound). */
JsonNode *nf_ovsdb_client_transact_in (NfOvsdbClient *self,
				       const gchar *database,
				       JsonArray *ops,
				       guint *failed_op,
				       GError **error);
/* Sleeps @ms; FALSE instead when that would leave no time before the
 * deadline. */
gboolean nf_ovsdb_client_pause (NfOvsdbClient *self, guint ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfOvsdbClient, nf_ovsdb_client_free)

G_END_DECLS
