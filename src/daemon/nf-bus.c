/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-bus"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-limits.h"
#include "nf-auth.h"
#include "nf-bus-methods.h"
#include "nf-bus-paths.h"
#include "nf-bus.h"
#include "nf-dbus-generated.h"

/* Maps the state model onto D-Bus: one exported object per host, pool, node
 * and job, properties mirrored from the model's notify signals; each skeleton's
 * methods behind the authorization gate and wired to the method table
 * (nf-bus-methods.c). */

struct _NfBus {
	GObject parent_instance;
	NfManager *manager;
	NfAuth *auth;
	GDBusConnection *connection;
	GDBusObjectManagerServer *server;
	NfDBusManager *manager_iface;
	GHashTable *objects; /* model GObject -> NfDBusObjectSkeleton */
};

G_DEFINE_TYPE (NfBus, nf_bus, G_TYPE_OBJECT)

static gchar *
object_ref_to_path (const gchar *ref)
{
	if (g_str_has_prefix (ref, "pool/"))
		return nf_bus_pool_path (ref + 5);
	if (g_str_has_prefix (ref, "node/"))
		return nf_bus_node_path (ref + 5);
	if (g_str_has_prefix (ref, "host/"))
		return nf_bus_host_path (ref + 5);
	return g_strdup (NF_BUS_ROOT);
}

/* --- skeletons that keep their properties ---
 *
 * GetManagedObjects (and InterfacesAdded) asks every exported interface for
 * all its properties, and the generated skeletons build each set anew from
 * their GValues. These subclasses keep the last set until a property of
 * theirs changes (the generated setters notify only then). The set is kept
 * as GLib built it, not serialized: GDBus writes a message by walking the
 * body child by child, which costs an allocation per child of a serialized
 * value and a reference of a built one (callgrind, 200 idle nodes: 16 M
 * instructions per GetManagedObjects answered instead of 26 M). */

static GQuark
cached_properties_quark (void)
{
	return g_quark_from_static_string ("nf-bus-cached-properties");
}

static void
cached_properties_drop (GObject *iface, GParamSpec *pspec, gpointer user_data)
{
	g_object_set_qdata (iface, cached_properties_quark (), NULL);
}

static GVariant *
cached_properties_get (GDBusInterfaceSkeleton *iface)
{
	GVariant *cached = g_object_get_qdata (G_OBJECT (iface), cached_properties_quark ());
	gsize n;
	g_autofree GVariant **entries = NULL;
	GVariant *fresh;

	if (cached == NULL) {
		GDBusInterfaceSkeletonClass *parent =
			g_type_class_peek_parent (G_DBUS_INTERFACE_SKELETON_GET_CLASS (iface));

		cached = g_variant_ref_sink (parent->get_properties (iface));
		g_object_set_qdata_full (G_OBJECT (iface),
					 cached_properties_quark (),
					 cached,
					 (GDestroyNotify) g_variant_unref);
	}
	/* Floating, as the generated ones are (GDBus sinks it); its entries
	 * are the kept ones, shared. */
	n = g_variant_n_children (cached);
	entries = g_new (GVariant *, MAX (n, 1));
	for (gsize i = 0; i < n; i++)
		entries[i] = g_variant_get_child_value (cached, i);
	fresh = g_variant_new_array (G_VARIANT_TYPE ("{sv}"), entries, n);
	for (gsize i = 0; i < n; i++)
		g_variant_unref (entries[i]);
	return fresh;
}

#define NF_BUS_CACHED_SKELETON(Type, type, ParentType, PARENT_TYPE)                              \
	typedef struct {                                                                         \
		ParentType parent_instance;                                                      \
	} Type;                                                                                  \
	typedef struct {                                                                         \
		ParentType##Class parent_class;                                                  \
	} Type##Class;                                                                           \
	GType type##_get_type (void);                                                            \
	G_DEFINE_TYPE (Type, type, PARENT_TYPE)                                                  \
	static void type##_class_init (Type##Class *klass)                                       \
	{                                                                                        \
		G_DBUS_INTERFACE_SKELETON_CLASS (klass)->get_properties = cached_properties_get; \
	}                                                                                        \
	static void type##_init (Type *self)                                                     \
	{                                                                                        \
		g_signal_connect (self, "notify", G_CALLBACK (cached_properties_drop), NULL);    \
	}

NF_BUS_CACHED_SKELETON (NfBusPoolSkeleton,
			nf_bus_pool_skeleton,
			NfDBusPoolSkeleton,
			NF_DBUS_TYPE_POOL_SKELETON)
NF_BUS_CACHED_SKELETON (NfBusNodeSkeleton,
			nf_bus_node_skeleton,
			NfDBusNodeSkeleton,
			NF_DBUS_TYPE_NODE_SKELETON)
NF_BUS_CACHED_SKELETON (NfBusHostSkeleton,
			nf_bus_host_skeleton,
			NfDBusHostSkeleton,
			NF_DBUS_TYPE_HOST_SKELETON)
NF_BUS_CACHED_SKELETON (NfBusJobSkeleton, nf_bus_job_skeleton, NfDBusJobSkeleton, NF_DBUS_TYPE_JOB_SKELETON)

/* --- property mirrors --- */

static void
sync_manager (NfManager *manager, GParamSpec *pspec, NfBus *self)
{
	g_autofree gchar *version = NULL;
	g_autofree gchar *accelerator = NULL;
	g_autofree gchar *feature = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *baseline = NULL;
	guint64 total = 0, committed = 0;

	g_object_get (manager,
		      "version",
		      &version,
		      "accelerator",
		      &accelerator,
		      "nested-feature",
		      &feature,
		      "libvirt-uri",
		      &uri,
		      "memory-total-mib",
		      &total,
		      "memory-committed-mib",
		      &committed,
		      "cpu-baseline",
		      &baseline,
		      NULL);
	nf_dbus_manager_set_cpu_baseline (self->manager_iface, baseline);
	nf_dbus_manager_set_version (self->manager_iface, version);
	nf_dbus_manager_set_accelerator (self->manager_iface, accelerator);
	nf_dbus_manager_set_nested_feature (self->manager_iface, feature);
	nf_dbus_manager_set_libvirt_uri (self->manager_iface, uri);
	nf_dbus_manager_set_memory_total_mib (self->manager_iface, total);
	nf_dbus_manager_set_memory_committed_mib (self->manager_iface, committed);
}

static void
sync_pool_nodes (NfPool *pool, NfDBusPool *iface)
{
	GPtrArray *nodes = nf_pool_get_nodes (pool);
	g_autoptr (GPtrArray) paths = g_ptr_array_new_full (nodes->len + 1, g_free);

	for (guint i = 0; i < nodes->len; i++)
		g_ptr_array_add (paths, nf_bus_node_path (nf_node_get_name (g_ptr_array_index (nodes, i))));
	g_ptr_array_add (paths, NULL);
	nf_dbus_pool_set_nodes (iface, (const gchar *const *) paths->pdata);
}

/* Snapshots a(sttb): name, created, size, memory. */
static GVariant *
snapshots_variant (const NfPoolSpec *spec)
{
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sttb)"));
	for (guint i = 0; i < spec->snapshots->len; i++) {
		const NfPoolSnapshot *snapshot = g_ptr_array_index (spec->snapshots, i);

		g_variant_builder_add (&builder,
				       "(sttb)",
				       snapshot->name,
				       (guint64) MAX (snapshot->created, 0),
				       snapshot->size,
				       snapshot->memory);
	}
	return g_variant_builder_end (&builder);
}

static void
sync_pool (NfPool *pool, GParamSpec *pspec, NfDBusPool *iface)
{
	const NfPoolSpec *spec = nf_pool_get_spec (pool);

	/* The node list is the one property whose making grows with the
	 * pool: only when it changed. */
	if (pspec == NULL || g_str_equal (pspec->name, "nodes"))
		sync_pool_nodes (pool, iface);
	nf_dbus_pool_set_name (iface, spec->name);
	nf_dbus_pool_set_profile (iface, spec->profile);
	nf_dbus_pool_set_count (iface, spec->count);
	nf_dbus_pool_set_state (iface, nf_pool_state_to_string (nf_pool_get_state (pool)));
	nf_dbus_pool_set_vcpus (iface, spec->vcpus);
	nf_dbus_pool_set_memory_mib (iface, spec->memory_mib);
	nf_dbus_pool_set_image (iface, spec->image);
	nf_dbus_pool_set_trunk_bridge (iface, spec->trunk_bridge);
	nf_dbus_pool_set_sshuser (iface, spec->ssh_user != NULL ? spec->ssh_user : "");
	nf_dbus_pool_set_vlans (iface, spec->vlans);
	nf_dbus_pool_set_snapshots (iface, snapshots_variant (spec));
}

static void
sync_node (NfNode *node, GParamSpec *pspec, NfDBusNode *iface)
{
	g_autofree gchar *pool_path = nf_bus_pool_path (nf_node_get_pool (node));
	g_autofree gchar *host_path = nf_bus_host_path (nf_node_get_host (node));

	nf_dbus_node_set_name (iface, nf_node_get_name (node));
	nf_dbus_node_set_pool (iface, pool_path);
	nf_dbus_node_set_index (iface, nf_node_get_index (node));
	nf_dbus_node_set_host (iface, host_path);
	nf_dbus_node_set_state (iface, nf_node_state_to_string (nf_node_get_state (node)));
	nf_dbus_node_set_domain_uuid (iface, nf_node_get_domain_uuid (node));
	nf_dbus_node_set_overlay (iface, nf_node_get_overlay (node));
	nf_dbus_node_set_console_log (iface, nf_node_get_console_log (node));
	nf_dbus_node_set_macs (iface, nf_node_get_macs (node));
	nf_dbus_node_set_addresses (iface, nf_node_get_addresses (node));
	nf_dbus_node_set_ready (iface, nf_node_get_ready (node));
	nf_dbus_node_set_nesting (iface, nf_nesting_to_string (nf_node_get_nesting (node)));
}

static void
sync_job (NfJob *job, GParamSpec *pspec, NfDBusJob *iface)
{
	const gchar *const *objects = nf_job_get_objects (job);
	g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

	for (guint i = 0; objects[i] != NULL; i++)
		g_ptr_array_add (paths, object_ref_to_path (objects[i]));
	g_ptr_array_add (paths, NULL);
	nf_dbus_job_set_operation (iface, nf_job_get_operation (job));
	nf_dbus_job_set_objects (iface, (const gchar *const *) paths->pdata);
	nf_dbus_job_set_progress (iface, nf_job_get_progress (job));
	nf_dbus_job_set_state (iface, nf_job_state_to_string (nf_job_get_state (job)));
	nf_dbus_job_set_error (iface, nf_job_get_error (job));
	nf_dbus_job_set_error_name (iface, nf_job_get_error_name (job));
	nf_dbus_job_set_started_by_uid (iface, nf_job_get_uid (job));
	nf_dbus_job_set_step (iface, nf_job_get_step (job));
}

static void
job_completed (NfJob *job, gboolean success, const gchar *message, NfDBusJob *iface)
{
	/* Properties first, so a client that reacts to the signal reads the
	 * final state. */
	sync_job (job, NULL, iface);
	g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (iface));
	nf_dbus_job_emit_completed (iface, success, message);
}

/* --- CheckHost: a read, open to every caller --- */

static void
check_host_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (GDBusMethodInvocation) invocation = user_data;
	g_autoptr (GError) error = NULL;
	g_autoptr (NfHostInfo) host = nf_manager_check_host_finish (NF_MANAGER (source), res, &error);
	GVariantBuilder report, checks;

	if (host == NULL) {
		g_dbus_method_invocation_return_gerror (invocation, error);
		return;
	}
	g_variant_builder_init (&checks, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < host->checks->len; i++) {
		NfHostCheck *check = g_ptr_array_index (host->checks, i);
		GVariantBuilder one;

		g_variant_builder_init (&one, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add (&one, "{sv}", "id", g_variant_new_string (check->id));
		g_variant_builder_add (&one,
				       "{sv}",
				       "status",
				       g_variant_new_string (nf_check_status_to_string (check->status)));
		g_variant_builder_add (&one, "{sv}", "detail", g_variant_new_string (check->detail));
		if (check->fix != NULL)
			g_variant_builder_add (&one, "{sv}", "fix", g_variant_new_string (check->fix));
		g_variant_builder_add_value (&checks, g_variant_builder_end (&one));
	}
	g_variant_builder_init (&report, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add (&report,
			       "{sv}",
			       "accelerator",
			       g_variant_new_string (nf_accel_to_string (host->accel)));
	g_variant_builder_add (&report, "{sv}", "nested-feature", g_variant_new_string (host->feature));
	g_variant_builder_add (&report,
			       "{sv}",
			       "reason",
			       g_variant_new_string (host->reason != NULL ? host->reason : ""));
	g_variant_builder_add (&report,
			       "{sv}",
			       "memory-total-mib",
			       g_variant_new_uint64 (host->memory_total_mib));
	g_variant_builder_add (&report,
			       "{sv}",
			       "memory-available-mib",
			       g_variant_new_uint64 (host->memory_available_mib));
	g_variant_builder_add (&report, "{sv}", "checks", g_variant_builder_end (&checks));
	g_dbus_method_invocation_return_value (invocation,
					       g_variant_new ("(@a{sv})", g_variant_builder_end (&report)));
}

static gboolean
handle_check_host (NfDBusManager *iface, GDBusMethodInvocation *invocation, NfBus *self)
{
	nf_manager_check_host_async (self->manager, check_host_done, g_object_ref (invocation));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* --- ReadConsole: checked, authorized as a change, read in a worker --- */

typedef struct {
	NfBus *bus;
	GDBusMethodInvocation *invocation;
	gchar *node;
	guint64 offset;
	guint max;
} ConsoleCall;

static void
console_call_free (ConsoleCall *call)
{
	g_object_unref (call->bus);
	g_object_unref (call->invocation);
	g_free (call->node);
	g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsoleCall, console_call_free)

static void
console_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (ConsoleCall) call = user_data;
	g_autoptr (GError) error = NULL;
	guint64 size = 0;
	g_autoptr (GBytes) bytes = nf_manager_read_console_finish (NF_MANAGER (source), res, &size, &error);
	GVariant *data;

	if (bytes == NULL) {
		g_dbus_method_invocation_return_gerror (call->invocation, error);
		return;
	}
	data = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
	g_dbus_method_invocation_return_value (call->invocation, g_variant_new ("(@ayt)", data, size));
}

static void
console_authorized (GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr (ConsoleCall) call = user_data;
	g_autoptr (GError) error = NULL;
	ConsoleCall *reading;

	if (!nf_auth_check_finish (NF_AUTH (source), res, NULL, &error)) {
		g_dbus_method_invocation_return_gerror (call->invocation, error);
		return;
	}
	reading = g_steal_pointer (&call);

	nf_manager_read_console_async (reading->bus->manager,
				       reading->node,
				       reading->offset,
				       reading->max,
				       console_read,
				       reading);
}

static gboolean
handle_read_console (NfDBusNode *iface,
		     GDBusMethodInvocation *invocation,
		     guint64 offset,
		     guint max_bytes,
		     NfBus *self)
{
	ConsoleCall *call;

	if (max_bytes > NF_CONSOLE_READ_MAX) {
		g_dbus_method_invocation_return_error (invocation,
						       NF_ERROR,
						       NF_ERROR_INVALID_ARGUMENT,
						       "max_bytes %u is more than one answer gives (%d); read on from where it ends.",
						       max_bytes,
						       NF_CONSOLE_READ_MAX);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	call = g_new0 (ConsoleCall, 1);
	call->bus = g_object_ref (self);
	call->invocation = g_object_ref (invocation);
	call->node = g_strdup (g_object_get_data (G_OBJECT (iface), NF_BUS_METHODS_KEY_NAME));
	call->offset = offset;
	call->max = max_bytes > 0 ? max_bytes : NF_CONSOLE_READ_DEFAULT;
	nf_auth_check_async (self->auth, invocation, NULL, console_authorized, call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* --- exporting model objects --- */

static void
export_object (NfBus *self, GObject *model, const gchar *path, GDBusInterfaceSkeleton *iface)
{
	g_autoptr (NfDBusObjectSkeleton) object = nf_dbus_object_skeleton_new (path);

	g_dbus_object_skeleton_add_interface (G_DBUS_OBJECT_SKELETON (object), iface);
	g_dbus_object_manager_server_export (self->server, G_DBUS_OBJECT_SKELETON (object));
	g_hash_table_insert (self->objects, model, g_object_ref (object));
}

static void
unexport_object (NfBus *self, GObject *model)
{
	NfDBusObjectSkeleton *object = g_hash_table_lookup (self->objects, model);

	if (object == NULL)
		return;
	g_signal_handlers_disconnect_by_data (model, NULL);
	g_dbus_object_manager_server_unexport (self->server,
					       g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));
	g_hash_table_remove (self->objects, model);
}

static void
pool_added (NfModel *from, NfPool *pool, NfBus *self)
{
	g_autoptr (NfDBusPool) iface = g_object_new (nf_bus_pool_skeleton_get_type (), NULL);
	g_autofree gchar *path = nf_bus_pool_path (nf_pool_get_name (pool));

	g_object_set_data_full (G_OBJECT (iface),
				NF_BUS_METHODS_KEY_NAME,
				g_strdup (nf_pool_get_name (pool)),
				g_free);
	sync_pool (pool, NULL, iface);
	g_signal_connect_object (pool, "notify", G_CALLBACK (sync_pool), iface, 0);
	nf_bus_methods_connect (G_DBUS_INTERFACE_SKELETON (iface), self->manager, self->auth);
	export_object (self, G_OBJECT (pool), path, G_DBUS_INTERFACE_SKELETON (iface));
}

static void
node_added (NfModel *from, NfNode *node, NfBus *self)
{
	g_autoptr (NfDBusNode) iface = g_object_new (nf_bus_node_skeleton_get_type (), NULL);
	g_autofree gchar *path = nf_bus_node_path (nf_node_get_name (node));

	g_object_set_data_full (G_OBJECT (iface),
				NF_BUS_METHODS_KEY_NAME,
				g_strdup (nf_node_get_name (node)),
				g_free);
	sync_node (node, NULL, iface);
	g_signal_connect_object (node, "notify", G_CALLBACK (sync_node), iface, 0);
	nf_bus_methods_connect (G_DBUS_INTERFACE_SKELETON (iface), self->manager, self->auth);
	g_signal_connect_object (iface, "handle-read-console", G_CALLBACK (handle_read_console), self, 0);
	export_object (self, G_OBJECT (node), path, G_DBUS_INTERFACE_SKELETON (iface));
}

static void
sync_host_nodes (NfFarmHost *host, NfDBusHost *iface)
{
	GPtrArray *nodes = nf_farm_host_get_nodes (host);
	g_autoptr (GPtrArray) paths = g_ptr_array_new_full (nodes->len + 1, g_free);

	for (guint i = 0; i < nodes->len; i++)
		g_ptr_array_add (paths, nf_bus_node_path (nf_node_get_name (g_ptr_array_index (nodes, i))));
	g_ptr_array_add (paths, NULL);
	nf_dbus_host_set_nodes (iface, (const gchar *const *) paths->pdata);
}

static void
sync_host (NfFarmHost *host, GParamSpec *pspec, NfDBusHost *iface)
{
	/* as for pools: the node list only when it changed */
	if (pspec == NULL || g_str_equal (pspec->name, "nodes"))
		sync_host_nodes (host, iface);
	if (pspec != NULL && g_str_equal (pspec->name, "nodes"))
		return;
	nf_dbus_host_set_name (iface, nf_farm_host_get_name (host));
	nf_dbus_host_set_uri (iface, nf_farm_host_get_uri (host));
	nf_dbus_host_set_state (iface, nf_host_state_to_string (nf_farm_host_get_state (host)));
	nf_dbus_host_set_accelerator (iface, nf_farm_host_get_accelerator (host));
	nf_dbus_host_set_nested_feature (iface, nf_farm_host_get_nested_feature (host));
	nf_dbus_host_set_cpu_model (iface, nf_farm_host_get_cpu_model (host));
	nf_dbus_host_set_memory_total_mib (iface, nf_farm_host_get_memory_total_mib (host));
	nf_dbus_host_set_memory_committed_mib (iface, nf_farm_host_get_memory_committed_mib (host));
}

static void
host_added (NfModel *from, NfFarmHost *host, NfBus *self)
{
	g_autoptr (NfDBusHost) iface = g_object_new (nf_bus_host_skeleton_get_type (), NULL);
	g_autofree gchar *path = nf_bus_host_path (nf_farm_host_get_name (host));

	g_object_set_data_full (G_OBJECT (iface),
				NF_BUS_METHODS_KEY_NAME,
				g_strdup (nf_farm_host_get_name (host)),
				g_free);
	sync_host (host, NULL, iface);
	g_signal_connect_object (host, "notify", G_CALLBACK (sync_host), iface, 0);
	nf_bus_methods_connect (G_DBUS_INTERFACE_SKELETON (iface), self->manager, self->auth);
	export_object (self, G_OBJECT (host), path, G_DBUS_INTERFACE_SKELETON (iface));
}

static void
job_added (NfModel *from, NfJob *job, NfBus *self)
{
	g_autoptr (NfDBusJob) iface = g_object_new (nf_bus_job_skeleton_get_type (), NULL);
	g_autofree gchar *path = nf_bus_job_path (nf_job_get_id (job));

	g_object_set_data (G_OBJECT (iface),
			   NF_BUS_METHODS_KEY_JOB_ID,
			   GUINT_TO_POINTER (nf_job_get_id (job)));
	sync_job (job, NULL, iface);
	g_signal_connect_object (job, "notify", G_CALLBACK (sync_job), iface, 0);
	g_signal_connect_object (job, "completed", G_CALLBACK (job_completed), iface, 0);
	nf_bus_methods_connect (G_DBUS_INTERFACE_SKELETON (iface), self->manager, self->auth);
	export_object (self, G_OBJECT (job), path, G_DBUS_INTERFACE_SKELETON (iface));
}

static void
model_removed (NfModel *from, GObject *model, NfBus *self)
{
	unexport_object (self, model);
}

static void
nf_bus_dispose (GObject *object)
{
	NfBus *self = NF_BUS (object);

	if (self->manager != NULL) {
		g_signal_handlers_disconnect_by_data (self->manager, self);
		g_signal_handlers_disconnect_by_data (nf_manager_get_model (self->manager), self);
	}
	if (self->manager_iface != NULL)
		g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->manager_iface));
	g_clear_pointer (&self->objects, g_hash_table_unref);
	if (self->server != NULL)
		g_dbus_object_manager_server_set_connection (self->server, NULL);
	g_clear_object (&self->server);
	g_clear_object (&self->manager_iface);
	g_clear_object (&self->connection);
	g_clear_object (&self->auth);
	g_clear_object (&self->manager);
	G_OBJECT_CLASS (nf_bus_parent_class)->dispose (object);
}

static void
nf_bus_class_init (NfBusClass *klass)
{
	G_OBJECT_CLASS (klass)->dispose = nf_bus_dispose;
}

static void
nf_bus_init (NfBus *self)
{
	self->objects = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_object_unref);
}

NfBus *
nf_bus_new (NfManager *manager, NfAuth *auth)
{
	NfBus *self = g_object_new (NF_TYPE_BUS, NULL);

	self->manager = g_object_ref (manager);
	self->auth = g_object_ref (auth);
	return self;
}

gboolean
nf_bus_export (NfBus *self, GDBusConnection *connection, GError **error)
{
	g_autoptr (GList) hosts = NULL;
	g_autoptr (GList) pools = NULL;
	NfModel *model = nf_manager_get_model (self->manager);
	g_autoptr (GList) jobs = NULL;

	g_return_val_if_fail (NF_IS_BUS (self), FALSE);

	self->connection = g_object_ref (connection);
	self->server = g_dbus_object_manager_server_new (NF_BUS_ROOT);
	self->manager_iface = nf_dbus_manager_skeleton_new ();
	sync_manager (self->manager, NULL, self);
	g_signal_connect_object (self->manager, "notify", G_CALLBACK (sync_manager), self, 0);
	nf_bus_methods_connect (G_DBUS_INTERFACE_SKELETON (self->manager_iface), self->manager, self->auth);
	g_signal_connect_object (self->manager_iface,
				 "handle-check-host",
				 G_CALLBACK (handle_check_host),
				 self,
				 0);
	if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->manager_iface),
					       connection,
					       NF_BUS_ROOT,
					       error))
		return FALSE;

	/* What the model has already, then whatever comes. */
	hosts = nf_model_get_hosts (model);
	for (GList *l = hosts; l != NULL; l = l->next)
		host_added (model, l->data, self);
	pools = nf_model_get_pools (model);
	for (GList *l = pools; l != NULL; l = l->next) {
		GPtrArray *nodes = nf_pool_get_nodes (l->data);

		pool_added (model, l->data, self);
		for (guint i = 0; i < nodes->len; i++)
			node_added (model, g_ptr_array_index (nodes, i), self);
	}
	/* Jobs too: after a reconnect the running ones carry on. */
	jobs = nf_model_get_jobs (model);
	for (GList *l = jobs; l != NULL; l = l->next)
		job_added (model, l->data, self);
	g_signal_connect_object (model, "host-added", G_CALLBACK (host_added), self, 0);
	g_signal_connect_object (model, "host-removed", G_CALLBACK (model_removed), self, 0);
	g_signal_connect_object (model, "pool-added", G_CALLBACK (pool_added), self, 0);
	g_signal_connect_object (model, "node-added", G_CALLBACK (node_added), self, 0);
	g_signal_connect_object (model, "job-added", G_CALLBACK (job_added), self, 0);
	g_signal_connect_object (model, "pool-removed", G_CALLBACK (model_removed), self, 0);
	g_signal_connect_object (model, "node-removed", G_CALLBACK (model_removed), self, 0);
	g_signal_connect_object (model, "job-removed", G_CALLBACK (model_removed), self, 0);
	g_dbus_object_manager_server_set_connection (self->server, connection);
	return TRUE;
}
