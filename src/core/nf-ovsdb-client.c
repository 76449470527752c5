/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-ovsdb"

#include "config.h"

#include <string.h>

#include <gio/gunixsocketaddress.h>

#include "nestfarm/nf-error.h"
#include "nf-ovsdb-private.h"

/* A JSON-RPC connection to ovsdb-server with one deadline for everything
 * done on it: the socket never blocks, and every wait is a poll bounded
 * by what is left of the deadline. A stuck server costs the caller the
 * timeout, never a hang. */

/* A Bridge/Port/Interface dump of a large host is well under this. */
#define NF_OVSDB_MESSAGE_MAX (64u * 1024 * 1024)

#define NF_OVSDB_HINT "is ovsdb-server running (systemctl status openvswitch-switch)?"

struct _NfOvsdbClient {
	GSocket *socket;
	NfOvsdbReader *reader;
	gchar *db;
	guint timeout_ms;
	gint64 deadline; /* monotonic, µs */
	gint64 next_id;
};

static gboolean
set_timed_out (NfOvsdbClient *self, const gchar *waiting_for, GError **error)
{
	g_autofree gchar *limit = nf_ovsdb_duration_text (self->timeout_ms);

	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_OPENVSWITCH,
		     "Open vSwitch did not %s within %s on %s; %s",
		     waiting_for,
		     limit,
		     self->db,
		     NF_OVSDB_HINT);
	return FALSE;
}

static gboolean
set_io_failed (NfOvsdbClient *self, const gchar *what, GError *cause, GError **error)
{
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_OPENVSWITCH,
		     "Cannot %s Open vSwitch on %s (%s); %s",
		     what,
		     self->db,
		     cause->message,
		     NF_OVSDB_HINT);
	return FALSE;
}

static GSocketAddress *
address_from_db (const gchar *db, GError **error)
{
	const gchar *colon;
	g_autofree gchar *host = NULL;
	g_autoptr (GInetAddress) inet = NULL;
	guint64 port = 0;

	if (db[0] == '/')
		return g_unix_socket_address_new (db);
	if (g_str_has_prefix (db, "unix:") && db[5] != '\0')
		return g_unix_socket_address_new (db + 5);
	if (g_str_has_prefix (db, "tcp:") && (colon = strrchr (db + 4, ':')) != NULL) {
		host = g_strndup (db + 4, (gsize) (colon - (db + 4)));
		/* tcp:[::1]:6640 */
		if (host[0] == '[' && g_str_has_suffix (host, "]")) {
			memmove (host, host + 1, strlen (host) - 2);
			host[strlen (host) - 2] = '\0';
		}
		inet = g_inet_address_new_from_string (host);
		if (inet != NULL && g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
			return g_inet_socket_address_new (inet, (guint16) port);
	}
	/* A setting of the host, not of the request: an OVS error. */
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_OPENVSWITCH,
		     "The Open vSwitch database address '%s' is not understood; set it to unix:/run/openvswitch/db.sock or tcp:IP:PORT in the configuration.",
		     db);
	return NULL;
}

/* Waits for @condition until the deadline. */
static gboolean
client_wait (NfOvsdbClient *self, GIOCondition condition, const gchar *waiting_for, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	gint64 left = self->deadline - g_get_monotonic_time ();

	if (left <= 0)
		return set_timed_out (self, waiting_for, error);
	if (!g_socket_condition_timed_wait (self->socket, condition, left, NULL, &error_local)) {
		if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			return set_timed_out (self, waiting_for, error);
		return set_io_failed (self, "wait for", error_local, error);
	}
	return TRUE;
}

gboolean
nf_ovsdb_client_pause (NfOvsdbClient *self, guint ms)
{
	gint64 left = self->deadline - g_get_monotonic_time ();

	/* No time for another round after the pause: give up now, so that
	 * the caller, not a request cut short, says what was late. */
	if (left <= (gint64) ms * 1000)
		return FALSE;
	g_usleep ((gulong) ms * 1000);
	return TRUE;
}

static gboolean
client_connect (NfOvsdbClient *self, GSocketAddress *address, GError **error)
{
	for (;;) {
		g_autoptr (GError) error_local = NULL;

		if (g_socket_connect (self->socket, address, NULL, &error_local))
			return TRUE;
		if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_PENDING)) {
			g_clear_error (&error_local);
			if (!client_wait (self, G_IO_OUT, "accept the connection", error))
				return FALSE;
			if (!g_socket_check_connect_result (self->socket, &error_local))
				return set_io_failed (self, "connect to", error_local, error);
			return TRUE;
		}
		/* A unix socket whose listen queue is full: the server is
		 * not accepting. Try again until the deadline. */
		if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			if (!nf_ovsdb_client_pause (self, 10))
				return set_timed_out (self, "accept the connection", error);
			continue;
		}
		return set_io_failed (self, "connect to", error_local, error);
	}
}

NfOvsdbClient *
nf_ovsdb_client_connect (const gchar *db, guint timeout_ms, GError **error)
{
	g_autoptr (NfOvsdbClient) self = g_new0 (NfOvsdbClient, 1);
	g_autoptr (GSocketAddress) address = NULL;
	g_autoptr (GError) error_local = NULL;

	g_return_val_if_fail (db != NULL, NULL);

	self->db = g_strdup (db);
	self->timeout_ms = timeout_ms;
	self->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
	self->reader = nf_ovsdb_reader_new (NF_OVSDB_MESSAGE_MAX);
	address = address_from_db (db, error);
	if (address == NULL)
		return NULL;
	self->socket = g_socket_new (g_socket_address_get_family (address),
				     G_SOCKET_TYPE_STREAM,
				     G_SOCKET_PROTOCOL_DEFAULT,
				     &error_local);
	if (self->socket == NULL) {
		set_io_failed (self, "make a socket for", error_local, error);
		return NULL;
	}
	g_socket_set_blocking (self->socket, FALSE);
	if (!client_connect (self, address, error))
		return NULL;
	return g_steal_pointer (&self);
}

void
nf_ovsdb_client_free (NfOvsdbClient *self)
{
	if (self == NULL)
		return;
	if (self->socket != NULL)
		g_socket_close (self->socket, NULL);
	g_clear_object (&self->socket);
	nf_ovsdb_reader_free (self->reader);
	g_free (self->db);
	g_free (self);
}

static gboolean
client_send (NfOvsdbClient *self, JsonNode *message, GError **error)
{
	g_autoptr (JsonGenerator) generator = json_generator_new ();
	g_autofree gchar *text = NULL;
	gsize len = 0;
	gsize sent = 0;

	json_generator_set_root (generator, message);
	text = json_generator_to_data (generator, &len);
	while (sent < len) {
		g_autoptr (GError) error_local = NULL;
		gssize n;

		/* GSocket sends with MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE. */
		n = g_socket_send (self->socket, text + sent, len - sent, NULL, &error_local);
		if (n < 0) {
			if (!g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
				return set_io_failed (self, "send to", error_local, error);
			if (!client_wait (self, G_IO_OUT, "take the request", error))
				return FALSE;
			continue;
		}
		sent += (gsize) n;
	}
	return TRUE;
}

/* The next message from the server, waiting for it until the deadline. */
static JsonNode *
client_receive (NfOvsdbClient *self, GError **error)
{
	for (;;) {
		g_autoptr (GError) error_local = NULL;
		gchar buffer[16384];
		JsonNode *message;
		gssize n;

		message = nf_ovsdb_reader_next (self->reader, &error_local);
		if (message != NULL)
			return message;
		if (error_local != NULL) {
			g_propagate_error (error, g_steal_pointer (&error_local));
			return NULL;
		}
		if (!client_wait (self, G_IO_IN, "answer", error))
			return NULL;
		n = g_socket_receive (self->socket, buffer, sizeof (buffer), NULL, &error_local);
		if (n < 0) {
			if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
				continue;
			set_io_failed (self, "read from", error_local, error);
			return NULL;
		}
		if (n == 0) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_OPENVSWITCH,
				     "Open vSwitch closed the connection on %s before answering; %s",
				     self->db,
				     NF_OVSDB_HINT);
			return NULL;
		}
		nf_ovsdb_reader_feed (self->reader, buffer, (gsize) n);
	}
}

static JsonNode *
request_new (const gchar *method, JsonNode *params, JsonNode *id)
{
	JsonObject *object = json_object_new ();

	json_object_set_string_member (object, "method", method);
	json_object_set_member (object, "params", params);
	json_object_set_member (object, "id", id);
	return nf_ovsdb_object_node (object);
}

/* The server may probe us with "echo" while we wait; answer it. */
static gboolean
client_answer_echo (NfOvsdbClient *self, JsonObject *request, GError **error)
{
	g_autoptr (JsonNode) reply = NULL;
	JsonObject *object = json_object_new ();
	JsonNode *params;

	json_object_set_member (object, "id", json_node_copy (json_object_get_member (request, "id")));
	params = json_object_get_member (request, "params");
	json_object_set_member (object,
				"result",
				params != NULL ? json_node_copy (params)
					       : nf_ovsdb_array_node (json_array_new ()));
	json_object_set_null_member (object, "error");
	reply = nf_ovsdb_object_node (object);
	return client_send (self, reply, error);
}

JsonNode *
nf_ovsdb_client_call (NfOvsdbClient *self, const gchar *method, JsonNode *params, GError **error)
{
	g_autoptr (JsonNode) request = NULL;
	gint64 id;

	g_return_val_if_fail (self != NULL, NULL);

	id = self->next_id++;
	request = request_new (method, params, nf_ovsdb_int_new (id));
	if (!client_send (self, request, error))
		return NULL;
	for (;;) {
		g_autoptr (JsonNode) message = client_receive (self, error);
		JsonObject *object;
		JsonNode *member;

		if (message == NULL)
			return NULL;
		object = json_node_get_object (message);
		if (g_strcmp0 (nf_ovsdb_member_string (object, "method"), "echo") == 0 &&
		    json_object_has_member (object, "id")) {
			if (!client_answer_echo (self, object, error))
				return NULL;
			continue;
		}
		/* Notifications and stale replies are not ours. */
		member = json_object_get_member (object, "id");
		if (member == NULL || json_node_get_value_type (member) != G_TYPE_INT64 ||
		    json_node_get_int (member) != id || json_object_has_member (object, "method"))
			continue;
		member = json_object_get_member (object, "error");
		if (member != NULL && !JSON_NODE_HOLDS_NULL (member)) {
			g_autoptr (JsonGenerator) generator = json_generator_new ();
			g_autofree gchar *text = NULL;

			json_generator_set_root (generator, member);
			text = json_generator_to_data (generator, NULL);
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_OPENVSWITCH,
				     "Open vSwitch on %s refused the '%s' request (%s); check that it serves the Open_vSwitch database.",
				     self->db,
				     method,
				     text);
			return NULL;
		}
		member = json_object_get_member (object, "result");
		if (member == NULL) {
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_OPENVSWITCH,
				     "Open vSwitch on %s answered '%s' without a result; check that it is ovsdb-server.",
				     self->db,
				     method);
			return NULL;
		}
		return json_node_copy (member);
	}
}

JsonNode *
nf_ovsdb_client_transact (NfOvsdbClient *self, JsonArray *ops, guint *failed_op, GError **error)
{
	return nf_ovsdb_client_transact_in (self, NF_OVSDB_DATABASE, ops, failed_op, error);
}

JsonNode *
nf_ovsdb_client_transact_in (NfOvsdbClient *self,
			     const gchar *database,
			     JsonArray *ops,
			     guint *failed_op,
			     GError **error)
{
	JsonArray *params = json_array_new ();
	g_autoptr (JsonNode) result = NULL;
	guint n_ops = json_array_get_length (ops);

	if (failed_op != NULL)
		*failed_op = G_MAXUINT;
	json_array_add_string_element (params, database);
	for (guint i = 0; i < n_ops; i++)
		json_array_add_element (params, json_node_copy (json_array_get_element (ops, i)));
	result = nf_ovsdb_client_call (self, "transact", nf_ovsdb_array_node (params), error);
	if (result == NULL)
		return NULL;
	if (!nf_ovsdb_transact_check (result, n_ops, failed_op, error))
		return NULL;
	return g_steal_pointer (&result);
}
