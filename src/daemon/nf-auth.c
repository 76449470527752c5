/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-auth"

#include "config.h"

#include <unistd.h>

#include <polkit/polkit.h>

#include "nestfarm/nf-error.h"
#include "nf-auth.h"

/* Authorization: one deny-by-default table from D-Bus method to polkit action;
 * a gate in every skeleton's dispatch that refuses what the table does not
 * list, and the caller's check, asked after the arguments are validated
 * (with --session: the daemon's own user only). */

#define NF_AUTH_REFUSED_HINT "run as root or ask an administrator (polkit action " NF_AUTH_ACTION_MANAGE ")"

/* Deny by default: a method missing here is refused at dispatch, whatever
 * it does and whatever handler it has. tests/test-auth-table.c holds this
 * table to the introspection XML. */
static const NfAuthRule nf_auth_rules[] = {
	{"org.nestfarm.Farm1.Manager", "CreatePool", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Manager", "DeletePool", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Manager", "AddHost", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Manager", "RemoveHost", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Manager", "CheckHost", NULL},
	{"org.nestfarm.Farm1.Pool", "Scale", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Pool", "Start", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Pool", "Stop", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Pool", "Delete", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Pool", "Snapshot", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Pool", "RevertSnapshot", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Pool", "DeleteSnapshot", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Node", "Start", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Node", "Stop", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Node", "Reset", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Node", "Migrate", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Manager", "Rebalance", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Host", "Drain", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Host", "Activate", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Node", "ReadConsole", NF_AUTH_ACTION_MANAGE},
	{"org.nestfarm.Farm1.Job", "Cancel", NF_AUTH_ACTION_MANAGE},
	{NULL, NULL, NULL},
};

struct _NfAuth {
	GObject parent_instance;
	NfAuthMode mode;
	uid_t uid; /* the daemon's own user, for NF_AUTH_SESSION_OWNER */
	PolkitAuthority *authority;
};

G_DEFINE_FINAL_TYPE (NfAuth, nf_auth, G_TYPE_OBJECT)

/* One check in flight; the GTask's data. */
typedef struct {
	GDBusConnection *connection;
	gchar *sender;
	gchar *interface_name;
	gchar *method_name;
	gchar *object_path;
	const gchar *action;
	guint uid;
	/* The polkit check's own: cancelled when the caller leaves the bus,
	 * the connection closes or the task's cancellable fires, so no dialog
	 * outlives the request. */
	GCancellable *polkit_cancellable;
	GCancellable *cancellable;
	gulong cancelled_id;
	/* The caller's watch while polkit decides (watch_caller). */
	gchar *match_rule;
	guint owner_changed_id;
	gulong closed_id;
	gboolean caller_left;
	gboolean bus_lost;
} NfAuthCheck;

static void
nf_auth_check_free (NfAuthCheck *check)
{
	g_warn_if_fail (check->match_rule == NULL);
	if (check->cancelled_id != 0)
		g_cancellable_disconnect (check->cancellable, check->cancelled_id);
	g_clear_object (&check->cancellable);
	g_clear_object (&check->polkit_cancellable);
	g_clear_object (&check->connection);
	g_free (check->sender);
	g_free (check->interface_name);
	g_free (check->method_name);
	g_free (check->object_path);
	g_free (check->match_rule);
	g_free (check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfAuthCheck, nf_auth_check_free)

gboolean
nf_auth_rules_lookup (const NfAuthRule *rules,
		      const gchar *interface_name,
		      const gchar *method_name,
		      const gchar **action)
{
	g_return_val_if_fail (rules != NULL, FALSE);
	g_return_val_if_fail (interface_name != NULL, FALSE);
	g_return_val_if_fail (method_name != NULL, FALSE);

	for (const NfAuthRule *rule = rules; rule->interface_name != NULL; rule++) {
		if (g_strcmp0 (rule->interface_name, interface_name) != 0 ||
		    g_strcmp0 (rule->method_name, method_name) != 0)
			continue;
		if (action != NULL)
			*action = rule->action;
		return TRUE;
	}
	return FALSE;
}

gboolean
nf_auth_lookup (const gchar *interface_name, const gchar *method_name, const gchar **action)
{
	return nf_auth_rules_lookup (nf_auth_rules, interface_name, method_name, action);
}

const NfAuthRule *
nf_auth_get_rules (gsize *n_rules)
{
	g_return_val_if_fail (n_rules != NULL, NULL);
	/* Without the closing line of NULLs. */
	*n_rules = G_N_ELEMENTS (nf_auth_rules) - 1;
	return nf_auth_rules;
}

/* Every method of the XML has its line: one without is a bug in nestfarmd,
 * said in the log as well as to the caller. */
static GError *
unlisted_error (const gchar *interface_name, const gchar *method_name)
{
	g_warning ("%s.%s is missing from the authorization table; refused", interface_name, method_name);
	return g_error_new (NF_ERROR,
			    NF_ERROR_NOT_AUTHORIZED,
			    "%s.%s is not in nestfarm's authorization table, so it is refused; this is a bug in nestfarmd.",
			    interface_name,
			    method_name);
}

gboolean
nf_auth_gate_method (GDBusInterfaceSkeleton *skeleton,
		     GDBusMethodInvocation *invocation,
		     const NfAuthRule *rules)
{
	const gchar *interface_name = g_dbus_method_invocation_get_interface_name (invocation);
	const gchar *method_name = g_dbus_method_invocation_get_method_name (invocation);
	g_autoptr (GError) error = NULL;

	/* A worker thread of GDBus's: the constant table is all it may read. */
	if (interface_name == NULL)
		interface_name = "(no interface)";
	if (nf_auth_rules_lookup (rules, interface_name, method_name, NULL))
		return TRUE;
	/* The reply takes the call's reference, as a handler's would. */
	error = unlisted_error (interface_name, method_name);
	g_dbus_method_invocation_return_gerror (invocation, error);
	return FALSE;
}

void
nf_auth_gate_skeleton (GDBusInterfaceSkeleton *skeleton)
{
	g_return_if_fail (G_IS_DBUS_INTERFACE_SKELETON (skeleton));

	g_signal_connect (skeleton,
			  "g-authorize-method",
			  G_CALLBACK (nf_auth_gate_method),
			  (gpointer) nf_auth_rules);
}

static void
return_caller_left (GTask *task)
{
	g_task_return_new_error (task,
				 NF_ERROR,
				 NF_ERROR_NOT_AUTHORIZED,
				 "The caller left the bus before it was authorized, so nothing was done.");
}

static void
return_bus_lost (GTask *task)
{
	g_task_return_new_error (task,
				 NF_ERROR,
				 NF_ERROR_NOT_AUTHORIZED,
				 "nestfarmd lost its bus connection during the authorization check, so nothing was done.");
}

static void
on_caller_still_there (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GError) error = NULL;
	gboolean has_owner = FALSE;

	reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
	if (reply == NULL) {
		g_dbus_error_strip_remote_error (error);
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_NOT_AUTHORIZED,
					 "Could not tell whether the caller is still on the bus (%s), so nothing was done.",
					 error->message);
		return;
	}
	g_variant_get (reply, "(b)", &has_owner);
	if (!has_owner) {
		return_caller_left (task);
		return;
	}
	g_task_return_boolean (task, TRUE);
}

/* Unique names are never reused: once gone, the caller is gone for good. */
static void
check_caller_still_there (GTask *task)
{
	NfAuthCheck *check = g_task_get_task_data (task);

	g_dbus_connection_call (check->connection,
				"org.freedesktop.DBus",
				"/org/freedesktop/DBus",
				"org.freedesktop.DBus",
				"NameHasOwner",
				g_variant_new ("(s)", check->sender),
				G_VARIANT_TYPE ("(b)"),
				G_DBUS_CALL_FLAGS_NONE,
				-1,
				g_task_get_cancellable (task),
				on_caller_still_there,
				task);
}

/* A call to the bus itself; without @callback, no answer is wanted. */
static void
call_bus (GDBusConnection *connection,
	  const gchar *method,
	  GVariant *parameters,
	  const GVariantType *reply_type,
	  GAsyncReadyCallback callback,
	  gpointer user_data)
{
	g_dbus_connection_call (connection,
				"org.freedesktop.DBus",
				"/org/freedesktop/DBus",
				"org.freedesktop.DBus",
				method,
				parameters,
				reply_type,
				G_DBUS_CALL_FLAGS_NONE,
				-1,
				NULL,
				callback,
				user_data);
}

/* Once: the first of the caller leaving and the connection closing ends
 * polkit's check; nothing counts once the watch is over. */
static void
stop_polkit (NfAuthCheck *check, gboolean bus_lost)
{
	if (check->match_rule == NULL || check->caller_left || check->bus_lost)
		return;
	if (bus_lost)
		g_debug ("the bus connection closed during %s's authorization check", check->sender);
	else
		g_debug ("%s left the bus during its authorization check", check->sender);
	check->caller_left = !bus_lost;
	check->bus_lost = bus_lost;
	g_cancellable_cancel (check->polkit_cancellable);
}

static void
on_owner_changed (GDBusConnection *connection,
		  const gchar *sender_name,
		  const gchar *object_path,
		  const gchar *interface_name,
		  const gchar *signal_name,
		  GVariant *parameters,
		  gpointer user_data)
{
	const gchar *new_owner = NULL;

	if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
		return;
	g_variant_get_child (parameters, 2, "&s", &new_owner);
	if (new_owner[0] == '\0')
		stop_polkit (g_task_get_task_data (G_TASK (user_data)), FALSE);
}

static void
on_connection_closed (GDBusConnection *connection,
		      gboolean remote_peer_vanished,
		      GError *error,
		      gpointer user_data)
{
	stop_polkit (g_task_get_task_data (G_TASK (user_data)), TRUE);
}

static void
on_first_look (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GError) error = NULL;
	gboolean has_owner = TRUE;

	reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
	if (reply != NULL)
		g_variant_get (reply, "(b)", &has_owner);
	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
		stop_polkit (g_task_get_task_data (task), TRUE);
	else if (!has_owner)
		stop_polkit (g_task_get_task_data (task), FALSE);
}

/* The caller's watch, for as long as polkit decides: NameOwnerChanged for
 * its unique name (never reused: a caller gone is gone for good), a first
 * look for one gone already, and the connection's end. The bus has the
 * rule before it answers the first look (it takes a connection's messages
 * in order), so no leaving is missed.
 *
 * Not g_bus_watch_name_on_connection(): a check may start just as GDBus
 * drops the daemon's connection (a message GLib cannot decode), and when
 * the connection closes while the watcher's GetNameOwner is out, GLib's
 * watcher finishes that call on the connection it has let go already
 * (get_name_owner_cb: GLib 2.74, and upstream as of this writing): a
 * GLib-GIO-CRITICAL, fatal under G_DEBUG=fatal-criticals. Nor a
 * subscription that adds its own match rule: its AddMatch on a closed
 * connection is a critical too. The rule's AddMatch and RemoveMatch are
 * calls of ours, which just fail there. */
static void
watch_caller (GTask *task)
{
	NfAuthCheck *check = g_task_get_task_data (task);

	check->match_rule = g_strdup_printf ("type='signal',sender='org.freedesktop.DBus',"
					     "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
					     "path='/org/freedesktop/DBus',arg0='%s'",
					     check->sender);
	check->owner_changed_id = g_dbus_connection_signal_subscribe (check->connection,
								      "org.freedesktop.DBus",
								      "org.freedesktop.DBus",
								      "NameOwnerChanged",
								      "/org/freedesktop/DBus",
								      check->sender,
								      G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE,
								      on_owner_changed,
								      g_object_ref (task),
								      g_object_unref);
	check->closed_id =
		g_signal_connect (check->connection, "closed", G_CALLBACK (on_connection_closed), task);
	call_bus (check->connection, "AddMatch", g_variant_new ("(s)", check->match_rule), NULL, NULL, NULL);
	call_bus (check->connection,
		  "NameHasOwner",
		  g_variant_new ("(s)", check->sender),
		  G_VARIANT_TYPE ("(b)"),
		  on_first_look,
		  g_object_ref (task));
}

static void
unwatch_caller (NfAuthCheck *check)
{
	if (check->match_rule == NULL)
		return;
	g_dbus_connection_signal_unsubscribe (check->connection, check->owner_changed_id);
	check->owner_changed_id = 0;
	g_clear_signal_handler (&check->closed_id, check->connection);
	call_bus (check->connection,
		  "RemoveMatch",
		  g_variant_new ("(s)", check->match_rule),
		  NULL,
		  NULL,
		  NULL);
	g_clear_pointer (&check->match_rule, g_free);
}

static void
on_polkit_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	NfAuthCheck *check = g_task_get_task_data (task);
	g_autoptr (PolkitAuthorizationResult) authorization = NULL;
	g_autoptr (GError) error = NULL;

	unwatch_caller (check);
	authorization =
		polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), result, &error);
	if (check->caller_left) {
		return_caller_left (task);
		return;
	}
	if (check->bus_lost) {
		return_bus_lost (task);
		return;
	}
	if (authorization == NULL) {
		if (g_cancellable_is_cancelled (g_task_get_cancellable (task))) {
			g_task_return_error (task, g_steal_pointer (&error));
			return;
		}
		g_dbus_error_strip_remote_error (error);
		g_message ("polkit could not check %s for %s: %s",
			   check->action,
			   check->sender,
			   error->message);
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_NOT_AUTHORIZED,
					 "Could not check your authorization with polkit (%s); make sure polkitd runs and the action %s is installed.",
					 error->message,
					 check->action);
		return;
	}
	if (polkit_authorization_result_get_is_challenge (authorization)) {
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_NOT_AUTHORIZED,
					 "Changing nestfarm pools or nodes needs authentication and no polkit agent could ask for it; %s.",
					 NF_AUTH_REFUSED_HINT);
		return;
	}
	if (!polkit_authorization_result_get_is_authorized (authorization)) {
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_NOT_AUTHORIZED,
					 "You are not allowed to change nestfarm pools or nodes; %s.",
					 NF_AUTH_REFUSED_HINT);
		return;
	}
	/* polkit may have waited for a password: make sure someone still asks. */
	check_caller_still_there (g_steal_pointer (&task));
}

static void
on_task_cancelled (GCancellable *cancellable, gpointer user_data)
{
	g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
check_with_polkit (NfAuth *self, GTask *task)
{
	NfAuthCheck *check = g_task_get_task_data (task);
	g_autoptr (PolkitSubject) subject = polkit_system_bus_name_new (check->sender);
	g_autoptr (PolkitDetails) details = polkit_details_new ();

	/* For rules that tell the methods apart (action.lookup ("method")). */
	polkit_details_insert (details, "interface", check->interface_name);
	polkit_details_insert (details, "method", check->method_name);
	polkit_details_insert (details, "path", check->object_path);

	if (self->authority == NULL) {
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_NOT_AUTHORIZED,
					 "polkit cannot be reached right now (the system bus restarted); try again in a moment.");
		g_object_unref (task);
		return;
	}
	/* Closed already: a cancel would reach polkitd after its answer. */
	if (g_dbus_connection_is_closed (check->connection)) {
		return_bus_lost (task);
		g_object_unref (task);
		return;
	}
	check->polkit_cancellable = g_cancellable_new ();
	if (g_task_get_cancellable (task) != NULL) {
		check->cancellable = g_object_ref (g_task_get_cancellable (task));
		check->cancelled_id = g_cancellable_connect (check->cancellable,
							     G_CALLBACK (on_task_cancelled),
							     g_object_ref (check->polkit_cancellable),
							     g_object_unref);
	}
	watch_caller (task);
	polkit_authority_check_authorization (self->authority,
					      subject,
					      check->action,
					      details,
					      POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION,
					      check->polkit_cancellable,
					      on_polkit_checked,
					      task);
}

static void
on_caller_uid (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	NfAuth *self = g_task_get_source_object (task);
	NfAuthCheck *check = g_task_get_task_data (task);
	g_autoptr (GVariant) reply = NULL;
	g_autoptr (GError) error = NULL;

	reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
	if (reply == NULL) {
		if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
			return_caller_left (task);
			return;
		}
		if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_task_return_error (task, g_steal_pointer (&error));
			return;
		}
		g_dbus_error_strip_remote_error (error);
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_NOT_AUTHORIZED,
					 "Could not identify the caller on the bus (%s), so the request is refused.",
					 error->message);
		return;
	}
	g_variant_get (reply, "(u)", &check->uid);

	if (self->mode == NF_AUTH_SESSION_OWNER) {
		if (check->uid != (guint) self->uid) {
			g_task_return_new_error (task,
						 NF_ERROR,
						 NF_ERROR_NOT_AUTHORIZED,
						 "You are not allowed to change this nestfarm: it runs with --session for uid %u only.",
						 (guint) self->uid);
			return;
		}
		g_task_return_boolean (task, TRUE);
		return;
	}
	check_with_polkit (self, g_steal_pointer (&task));
}

void
nf_auth_check_async (NfAuth *self,
		     GDBusMethodInvocation *invocation,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data)
{
	g_autoptr (GTask) task = NULL;
	g_autoptr (NfAuthCheck) check = NULL;
	const gchar *interface_name;
	const gchar *method_name;
	const gchar *sender;

	g_return_if_fail (NF_IS_AUTH (self));
	g_return_if_fail (G_IS_DBUS_METHOD_INVOCATION (invocation));
	g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

	interface_name = g_dbus_method_invocation_get_interface_name (invocation);
	method_name = g_dbus_method_invocation_get_method_name (invocation);
	sender = g_dbus_method_invocation_get_sender (invocation);
	check = g_new0 (NfAuthCheck, 1);
	task = g_task_new (self, cancellable, callback, user_data);
	g_task_set_source_tag (task, nf_auth_check_async);
	check->connection = g_object_ref (g_dbus_method_invocation_get_connection (invocation));
	check->sender = g_strdup (sender);
	check->interface_name = g_strdup (interface_name);
	check->method_name = g_strdup (method_name);
	check->object_path = g_strdup (g_dbus_method_invocation_get_object_path (invocation));
	check->uid = NF_AUTH_UID_UNKNOWN;

	/* D-Bus lets a call leave out its interface; such a call is refused too. */
	if (interface_name == NULL)
		interface_name = "(no interface)";
	/* The gate refused an unlisted method already; a caller that has no
	 * gate (tests/test-auth.c) gets the same answer. */
	if (!nf_auth_lookup (interface_name, method_name, &check->action)) {
		g_task_return_error (task, unlisted_error (interface_name, method_name));
		return;
	}
	if (check->action == NULL) {
		g_task_return_boolean (task, TRUE);
		return;
	}
	/* Only a message bus names the caller; a peer connection has no one to ask. */
	if (sender == NULL) {
		g_task_return_new_error (task,
					 NF_ERROR,
					 NF_ERROR_NOT_AUTHORIZED,
					 "The call came without a bus name, so its caller cannot be authorized.");
		return;
	}
	g_task_set_task_data (task, g_steal_pointer (&check), (GDestroyNotify) nf_auth_check_free);
	g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
				"org.freedesktop.DBus",
				"/org/freedesktop/DBus",
				"org.freedesktop.DBus",
				"GetConnectionUnixUser",
				g_variant_new ("(s)", sender),
				G_VARIANT_TYPE ("(u)"),
				G_DBUS_CALL_FLAGS_NONE,
				-1,
				cancellable,
				on_caller_uid,
				g_steal_pointer (&task));
}

gboolean
nf_auth_check_finish (NfAuth *self, GAsyncResult *result, guint *caller_uid, GError **error)
{
	NfAuthCheck *check;

	g_return_val_if_fail (NF_IS_AUTH (self), FALSE);
	g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
	g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nf_auth_check_async, FALSE);

	if (!g_task_propagate_boolean (G_TASK (result), error))
		return FALSE;
	check = g_task_get_task_data (G_TASK (result));
	if (caller_uid != NULL)
		*caller_uid = check != NULL ? check->uid : NF_AUTH_UID_UNKNOWN;
	return TRUE;
}

/* polkit talks over GLib's shared system bus connection, which by default
 * ends the process (SIGTERM) when the bus goes away: the daemon reconnects
 * instead. The connection exists once the authority does. */
static void
keep_process_on_bus_loss (void)
{
	g_autoptr (GDBusConnection) shared = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);

	if (shared != NULL)
		g_dbus_connection_set_exit_on_close (shared, FALSE);
}

void
nf_auth_forget_polkit (NfAuth *self)
{
	g_return_if_fail (NF_IS_AUTH (self));
	g_clear_object (&self->authority);
}

static void
on_polkit_reached (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr (GTask) task = G_TASK (user_data);
	NfAuth *self = g_task_get_source_object (task);
	g_autoptr (GError) error = NULL;
	PolkitAuthority *authority = polkit_authority_get_finish (result, &error);

	if (authority == NULL) {
		g_prefix_error (&error, "Cannot reach polkit to authorize callers: ");
		g_task_return_error (task, g_steal_pointer (&error));
		return;
	}
	g_clear_object (&self->authority);
	self->authority = authority;
	keep_process_on_bus_loss ();
	g_task_return_boolean (task, TRUE);
}

void
nf_auth_reach_polkit_async (NfAuth *self, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr (GTask) task = NULL;

	g_return_if_fail (NF_IS_AUTH (self));

	task = g_task_new (self, NULL, callback, user_data);
	g_task_set_source_tag (task, nf_auth_reach_polkit_async);
	if (self->mode != NF_AUTH_POLKIT || self->authority != NULL) {
		g_task_return_boolean (task, TRUE);
		return;
	}
	polkit_authority_get_async (NULL, on_polkit_reached, g_steal_pointer (&task));
}

gboolean
nf_auth_reach_polkit_finish (NfAuth *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
	return g_task_propagate_boolean (G_TASK (result), error);
}

NfAuthMode
nf_auth_get_mode (NfAuth *self)
{
	g_return_val_if_fail (NF_IS_AUTH (self), NF_AUTH_POLKIT);
	return self->mode;
}

static void
nf_auth_finalize (GObject *object)
{
	NfAuth *self = NF_AUTH (object);

	g_clear_object (&self->authority);
	G_OBJECT_CLASS (nf_auth_parent_class)->finalize (object);
}

static void
nf_auth_class_init (NfAuthClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = nf_auth_finalize;
}

static void
nf_auth_init (NfAuth *self)
{
	self->uid = getuid ();
}

NfAuth *
nf_auth_new (NfAuthMode mode, GError **error)
{
	g_autoptr (NfAuth) self = NULL;

	g_return_val_if_fail (mode == NF_AUTH_POLKIT || mode == NF_AUTH_SESSION_OWNER, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	self = g_object_new (NF_TYPE_AUTH, NULL);
	self->mode = mode;
	if (mode == NF_AUTH_POLKIT) {
		/* Once, at start-up, before the daemon serves any call. */
		self->authority = polkit_authority_get_sync (NULL, error);
		if (self->authority == NULL) {
			g_prefix_error (error, "Cannot reach polkit to authorize callers: ");
			return NULL;
		}
		keep_process_on_bus_loss ();
	}
	return g_steal_pointer (&self);
}
