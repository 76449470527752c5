/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-bus"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-names.h"
#include "nf-bus-methods.h"
#include "nf-bus-paths.h"
#include "nf-create-check.h"
#include "nf-request.h"

/* The D-Bus methods that change something (libvirt-dbus' method tables):
 * one row a method, saying how its arguments are read, which manager call
 * it makes and what it answers; one dispatch for all of them: validate,
 * authorize (polkit, asynchronously), act. */

typedef struct _MethodRow MethodRow;

/* One call on its way: what the row read, and who asked. */
typedef struct {
	const MethodRow *row;
	NfManager *manager;
	NfAuth *auth;
	GDBusMethodInvocation *invocation;
	gchar *name; /* the pool or node: the object called, or the name argument */
	guint job_id;
	guint count;
	NfPoolSpec *spec;
	gboolean force;
	guint timeout_s;
	gchar *snapshot; /* the snapshot methods */
	gchar *uri;      /* AddHost */
	gchar *peer_uri; /* AddHost */
	gchar *target;   /* Migrate: the host asked for, NULL: placement's */
	gboolean live;   /* Migrate */
	guint threshold; /* Rebalance */
	guint max_moves;
	gboolean memory;
	guint uid; /* the authorized caller */
} Request;

typedef enum {
	REPLY_JOB,          /* (o job) */
	REPLY_POOL_AND_JOB, /* (o pool, o job) */
	REPLY_NOTHING,      /* () */
} ReplyShape;

struct _MethodRow {
	const gchar *interface_name;
	const gchar *method_name;
	/* Validates the arguments into @req; no I/O, the main loop. */
	gboolean (*parse) (Request *req, GVariant *parameters, GError **error);
	/* CreatePool: the profile, image and node size are checked on the host
	 * first, and answered at the call. */
	gboolean check_on_host;
	/* The manager call: the job that does (for Cancel: did) the work, or
	 * NULL with @error and nothing changed. */
	NfJob *(*call) (Request *req, GError **error);
	ReplyShape reply;
};

static void
request_free (Request *req)
{
	g_object_unref (req->manager);
	g_object_unref (req->auth);
	g_object_unref (req->invocation);
	g_free (req->name);
	g_free (req->snapshot);
	g_free (req->uri);
	g_free (req->peer_uri);
	g_free (req->target);
	nf_pool_spec_free (req->spec);
	g_free (req);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

/* --- reading the arguments --- */

static gboolean
parse_nothing (Request *req, GVariant *parameters, GError **error)
{
	return TRUE;
}

/* (u count) */
static gboolean
parse_count (Request *req, GVariant *parameters, GError **error)
{
	g_variant_get (parameters, "(u)", &req->count);
	return nf_request_check_count (req->count, 0, error);
}

/* (a{sv} options): force, shutdown-timeout */
static gboolean
parse_stop_options (Request *req, GVariant *parameters, GError **error)
{
	g_autoptr (GVariant) options = g_variant_get_child_value (parameters, 0);

	return nf_request_parse_stop (nf_manager_get_config (req->manager),
				      options,
				      &req->force,
				      &req->timeout_s,
				      error);
}

/* (a{sv} options): Manager.Rebalance */
static gboolean
parse_rebalance (Request *req, GVariant *parameters, GError **error)
{
	g_autoptr (GVariant) options = g_variant_get_child_value (parameters, 0);

	return nf_request_parse_rebalance (options, &req->threshold, &req->max_moves, error);
}

/* (a{sv} options): Host.Drain, which takes none */
static gboolean
parse_no_options (Request *req, GVariant *parameters, GError **error)
{
	g_autoptr (GVariant) options = g_variant_get_child_value (parameters, 0);

	return nf_request_check_no_options (options, error);
}

/* (a{sv} options): Node.Migrate */
static gboolean
parse_migrate (Request *req, GVariant *parameters, GError **error)
{
	g_autoptr (GVariant) options = g_variant_get_child_value (parameters, 0);

	return nf_request_parse_migrate (options, &req->target, &req->live, error);
}

/* (s name, a{sv} options): DeletePool */
static gboolean
parse_name_and_stop_options (Request *req, GVariant *parameters, GError **error)
{
	const gchar *name = NULL;
	g_autoptr (GVariant) options = NULL;

	g_variant_get (parameters, "(&s@a{sv})", &name, &options);
	if (!nf_pool_name_validate (name, error))
		return FALSE;
	if (!nf_request_parse_stop (nf_manager_get_config (req->manager),
				    options,
				    &req->force,
				    &req->timeout_s,
				    error))
		return FALSE;
	req->name = g_strdup (name);
	return TRUE;
}

/* (s name, a{sv} options): Snapshot, RevertSnapshot (no options yet) */
static gboolean
parse_snapshot (Request *req, GVariant *parameters, GError **error)
{
	const gchar *name = NULL;
	g_autoptr (GVariant) options = NULL;

	g_variant_get (parameters, "(&s@a{sv})", &name, &options);
	if (!nf_request_parse_snapshot (name, options, &req->memory, error))
		return FALSE;
	req->snapshot = g_strdup (name);
	return TRUE;
}

static gboolean
parse_revert (Request *req, GVariant *parameters, GError **error)
{
	g_autoptr (GVariant) options = g_variant_get_child_value (parameters, 1);

	if (!nf_request_check_no_options (options, error))
		return FALSE;
	return parse_snapshot (req, parameters, error);
}

/* (s name): DeleteSnapshot */
static gboolean
parse_snapshot_name (Request *req, GVariant *parameters, GError **error)
{
	const gchar *name = NULL;

	g_variant_get (parameters, "(&s)", &name);
	if (!nf_request_parse_snapshot (name, NULL, &req->memory, error))
		return FALSE;
	req->snapshot = g_strdup (name);
	return TRUE;
}

/* (s name, s uri, a{sv} options): AddHost */
static gboolean
parse_add_host (Request *req, GVariant *parameters, GError **error)
{
	const gchar *name = NULL, *uri = NULL;
	g_autoptr (GVariant) options = NULL;

	g_variant_get (parameters, "(&s&s@a{sv})", &name, &uri, &options);
	if (!nf_request_parse_host (name, uri, options, &req->peer_uri, error))
		return FALSE;
	req->name = g_strdup (name);
	req->uri = g_strdup (uri);
	return TRUE;
}

/* (s name, a{sv} options): RemoveHost */
static gboolean
parse_remove_host (Request *req, GVariant *parameters, GError **error)
{
	const gchar *name = NULL;
	g_autoptr (GVariant) options = NULL;

	g_variant_get (parameters, "(&s@a{sv})", &name, &options);
	if (!nf_request_parse_host (name, NULL, options, NULL, error))
		return FALSE;
	req->name = g_strdup (name);
	return TRUE;
}

/* (s name, u count, a{sv} options): CreatePool */
static gboolean
parse_create (Request *req, GVariant *parameters, GError **error)
{
	const gchar *name = NULL;
	guint count = 0;
	g_autoptr (GVariant) options = NULL;

	g_variant_get (parameters, "(&su@a{sv})", &name, &count, &options);
	req->spec =
		nf_request_parse_create (nf_manager_get_config (req->manager), name, count, options, error);
	return req->spec != NULL;
}

/* --- the manager calls --- */

static NfJob *
call_create_pool (Request *req, GError **error)
{
	return nf_manager_create_pool (req->manager, req->spec, req->uid, error);
}

static NfJob *
call_delete_pool (Request *req, GError **error)
{
	return nf_manager_delete_pool (req->manager, req->name, req->force, req->timeout_s, req->uid, error);
}

static NfJob *
call_add_host (Request *req, GError **error)
{
	return nf_manager_add_host (req->manager, req->name, req->uri, req->peer_uri, req->uid, error);
}

static NfJob *
call_remove_host (Request *req, GError **error)
{
	return nf_manager_remove_host (req->manager, req->name, req->uid, error);
}

static NfJob *
call_scale_pool (Request *req, GError **error)
{
	return nf_manager_scale_pool (req->manager, req->name, req->count, req->uid, error);
}

static NfJob *
call_start_pool (Request *req, GError **error)
{
	return nf_manager_start_pool (req->manager, req->name, req->uid, error);
}

static NfJob *
call_stop_pool (Request *req, GError **error)
{
	return nf_manager_stop_pool (req->manager, req->name, req->force, req->timeout_s, req->uid, error);
}

static NfJob *
call_start_node (Request *req, GError **error)
{
	return nf_manager_start_node (req->manager, req->name, req->uid, error);
}

static NfJob *
call_stop_node (Request *req, GError **error)
{
	return nf_manager_stop_node (req->manager, req->name, req->force, req->timeout_s, req->uid, error);
}

static NfJob *
call_reset_node (Request *req, GError **error)
{
	return nf_manager_reset_node (req->manager, req->name, req->uid, error);
}

static NfJob *
call_migrate_node (Request *req, GError **error)
{
	return nf_manager_migrate_node (req->manager, req->name, req->target, req->live, req->uid, error);
}

static NfJob *
call_drain_host (Request *req, GError **error)
{
	return nf_manager_drain_host (req->manager, req->name, req->uid, error);
}

static NfJob *
call_activate_host (Request *req, GError **error)
{
	return nf_manager_activate_host (req->manager, req->name, req->uid, error);
}

static NfJob *
call_rebalance (Request *req, GError **error)
{
	return nf_manager_rebalance (req->manager, req->threshold, req->max_moves, req->uid, error);
}

static NfJob *
call_snapshot (Request *req, GError **error)
{
	return nf_manager_snapshot_pool (req->manager, req->name, req->snapshot, req->memory, req->uid, error);
}

static NfJob *
call_revert (Request *req, GError **error)
{
	return nf_manager_revert_pool (req->manager, req->name, req->snapshot, req->uid, error);
}

static NfJob *
call_delete_snapshot (Request *req, GError **error)
{
	return nf_manager_delete_snapshot (req->manager, req->name, req->snapshot, req->uid, error);
}

static NfJob *
call_cancel_job (Request *req, GError **error)
{
	NfJob *job = nf_model_lookup_job (nf_manager_get_model (req->manager), req->job_id);

	if (job == NULL) {
		g_set_error (error, NF_ERROR, NF_ERROR_NOT_FOUND, "The job has ended and is gone.");
		return NULL;
	}
	nf_manager_cancel_job (req->manager, job);
	return job;
}

#define MANAGER_IFACE "org.nestfarm.Farm1.Manager"
#define POOL_IFACE    "org.nestfarm.Farm1.Pool"
#define NODE_IFACE    "org.nestfarm.Farm1.Node"
#define JOB_IFACE     "org.nestfarm.Farm1.Job"
#define HOST_IFACE    "org.nestfarm.Farm1.Host"

/* Who may call each is nf-auth.c's table; CheckHost, a read, is nf-bus.c's. */
static const MethodRow method_rows[] = {
	{MANAGER_IFACE, "CreatePool", parse_create, TRUE, call_create_pool, REPLY_POOL_AND_JOB},
	{MANAGER_IFACE, "DeletePool", parse_name_and_stop_options, FALSE, call_delete_pool, REPLY_JOB},
	{MANAGER_IFACE, "AddHost", parse_add_host, FALSE, call_add_host, REPLY_JOB},
	{MANAGER_IFACE, "RemoveHost", parse_remove_host, FALSE, call_remove_host, REPLY_JOB},
	{MANAGER_IFACE, "Rebalance", parse_rebalance, FALSE, call_rebalance, REPLY_JOB},
	{HOST_IFACE, "Drain", parse_no_options, FALSE, call_drain_host, REPLY_JOB},
	{HOST_IFACE, "Activate", parse_nothing, FALSE, call_activate_host, REPLY_JOB},
	{POOL_IFACE, "Scale", parse_count, FALSE, call_scale_pool, REPLY_JOB},
	{POOL_IFACE, "Start", parse_nothing, FALSE, call_start_pool, REPLY_JOB},
	{POOL_IFACE, "Stop", parse_stop_options, FALSE, call_stop_pool, REPLY_JOB},
	{POOL_IFACE, "Delete", parse_stop_options, FALSE, call_delete_pool, REPLY_JOB},
	{POOL_IFACE, "Snapshot", parse_snapshot, FALSE, call_snapshot, REPLY_JOB},
	{POOL_IFACE, "RevertSnapshot", parse_revert, FALSE, call_revert, REPLY_JOB},
	{POOL_IFACE, "DeleteSnapshot", parse_snapshot_name, FALSE, call_delete_snapshot, REPLY_JOB},
	{NODE_IFACE, "Start", parse_nothing, FALSE, call_start_node, REPLY_JOB},
	{NODE_IFACE, "Stop", parse_stop_options, FALSE, call_stop_node, REPLY_JOB},
	{NODE_IFACE, "Reset", parse_nothing, FALSE, call_reset_node, REPLY_JOB},
	{NODE_IFACE, "Migrate", parse_migrate, FALSE, call_migrate_node, REPLY_JOB},
	{JOB_IFACE, "Cancel", parse_nothing, FALSE, call_cancel_job, REPLY_NOTHING},
};

/* --- one dispatch --- */

static void
request_act (Request *req)
{
	g_autoptr (GError) error = NULL;
	NfJob *job = req->row->call (req, &error);
	g_autofree gchar *job_path = NULL;
	g_autofree gchar *pool_path = NULL;

	if (job == NULL) {
		g_dbus_method_invocation_return_gerror (req->invocation, error);
		return;
	}
	switch (req->row->reply) {
	case REPLY_NOTHING:
		g_dbus_method_invocation_return_value (req->invocation, NULL);
		return;
	case REPLY_JOB:
		job_path = nf_bus_job_path (nf_job_get_id (job));
		g_dbus_method_invocation_return_value (req->invocation, g_variant_new ("(o)", job_path));
		return;
	case REPLY_POOL_AND_JOB:
		job_path = nf_bus_job_path (nf_job_get_id (job));
		pool_path = nf_bus_pool_path (req->spec->name);
		g_dbus_method_invocation_return_value (req->invocation,
						       g_variant_new ("(oo)", pool_path, job_path));
		return;
	}
}

static void
host_checked (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (Request) req = user_data;
	g_autoptr (GError) error = NULL;
	NfPoolSpec *spec = nf_create_check_finish (NF_ENGINE (source), res, &error);

	if (spec == NULL) {
		g_dbus_method_invocation_return_gerror (req->invocation, error);
		return;
	}
	nf_pool_spec_free (req->spec);
	req->spec = spec;
	request_act (req);
}

static void
request_authorized (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (Request) req = user_data;
	g_autoptr (GError) error = NULL;
	NfEngine *engine;
	const NfPoolSpec *spec;
	NfMemoryBound bound;

	if (!nf_auth_check_finish (NF_AUTH (source), res, &req->uid, &error)) {
		const gchar *sender = g_dbus_method_invocation_get_sender (req->invocation);

		/* Nothing was done; a caller that left never sees the reply. */
		g_debug ("refused %s.%s from %s: %s",
			 req->row->interface_name,
			 req->row->method_name,
			 sender != NULL ? sender : "(no bus name)",
			 error->message);
		g_dbus_method_invocation_return_gerror (req->invocation, error);
		return;
	}
	if (!req->row->check_on_host) {
		request_act (req);
		return;
	}
	/* Only an authorized caller gets the host to open files and run
	 * qemu-img. */
	engine = nf_manager_get_engine (req->manager);
	spec = req->spec;
	nf_manager_get_memory_bound (req->manager, NULL, &bound);
	/* Read before the request is handed on. */
	nf_create_check_async (engine, spec, &bound, host_checked, g_steal_pointer (&req));
}

/* A row connected to one skeleton's signal. */
typedef struct {
	GClosure closure;
	const MethodRow *row;
	NfManager *manager;
	NfAuth *auth;
} RowClosure;

static void
dispatch (RowClosure *closure, GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation)
{
	g_autoptr (Request) req = g_new0 (Request, 1);
	g_autoptr (GError) error = NULL;
	NfAuth *auth = closure->auth;

	req->row = closure->row;
	req->manager = g_object_ref (closure->manager);
	req->auth = g_object_ref (closure->auth);
	req->invocation = g_object_ref (invocation);
	req->name = g_strdup (g_object_get_data (G_OBJECT (skeleton), NF_BUS_METHODS_KEY_NAME));
	req->job_id = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (skeleton), NF_BUS_METHODS_KEY_JOB_ID));
	/* The arguments first: a bad call is answered with what is wrong, and
	 * no one is asked to authorize what cannot be done. */
	if (!req->row->parse (req, g_dbus_method_invocation_get_parameters (invocation), &error)) {
		g_dbus_method_invocation_return_gerror (invocation, error);
		return;
	}
	nf_auth_check_async (auth, invocation, NULL, request_authorized, g_steal_pointer (&req));
}

/* The generated handle-* signals pass each method's arguments unpacked, a
 * signature a method; the dispatch reads them from the invocation instead,
 * so one marshaller serves every row: the skeleton and the invocation are
 * always the first two values. */
static void
row_closure_marshal (GClosure *closure,
		     GValue *return_value,
		     guint n_param_values,
		     const GValue *param_values,
		     gpointer invocation_hint,
		     gpointer marshal_data)
{
	g_return_if_fail (n_param_values >= 2);

	dispatch ((RowClosure *) closure,
		  g_value_get_object (&param_values[0]),
		  g_value_get_object (&param_values[1]));
	/* Handled: the call is answered, now or once it is authorized. */
	g_value_set_boolean (return_value, TRUE);
}

static void
row_closure_finalize (gpointer data, GClosure *closure)
{
	RowClosure *self = (RowClosure *) closure;

	g_clear_object (&self->manager);
	g_clear_object (&self->auth);
}

/* gdbus-codegen's signal for a method: CreatePool -> handle-create-pool. */
static gchar *
handle_signal_name (const gchar *method_name)
{
	GString *name = g_string_new ("handle");

	for (const gchar *c = method_name; *c != '\0'; c++) {
		if (g_ascii_isupper (*c))
			g_string_append_c (name, '-');
		g_string_append_c (name, g_ascii_tolower (*c));
	}
	return g_string_free (name, FALSE);
}

void
nf_bus_methods_connect (GDBusInterfaceSkeleton *skeleton, NfManager *manager, NfAuth *auth)
{
	const gchar *interface_name;

	g_return_if_fail (G_IS_DBUS_INTERFACE_SKELETON (skeleton));
	g_return_if_fail (NF_IS_MANAGER (manager));
	g_return_if_fail (NF_IS_AUTH (auth));

	/* The gate first: no method of this skeleton is reachable without it. */
	nf_auth_gate_skeleton (skeleton);
	interface_name = g_dbus_interface_skeleton_get_info (skeleton)->name;
	for (gsize i = 0; i < G_N_ELEMENTS (method_rows); i++) {
		g_autofree gchar *signal = NULL;
		RowClosure *closure;

		if (g_strcmp0 (method_rows[i].interface_name, interface_name) != 0)
			continue;
		signal = handle_signal_name (method_rows[i].method_name);
		if (g_signal_lookup (signal, G_OBJECT_TYPE (skeleton)) == 0) {
			g_critical ("%s has no signal %s for its row %s",
				    G_OBJECT_TYPE_NAME (skeleton),
				    signal,
				    method_rows[i].method_name);
			continue;
		}
		closure = (RowClosure *) g_closure_new_simple (sizeof (RowClosure), NULL);
		closure->row = &method_rows[i];
		closure->manager = g_object_ref (manager);
		closure->auth = g_object_ref (auth);
		g_closure_add_finalize_notifier (&closure->closure, NULL, row_closure_finalize);
		g_closure_set_marshal (&closure->closure, row_closure_marshal);
		g_signal_connect_closure (skeleton, signal, &closure->closure, FALSE);
	}
}
