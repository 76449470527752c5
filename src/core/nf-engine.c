/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-engine"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "nestfarm/nf-engine.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-failpoint.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-ovn.h"
#include "nestfarm/nf-ovs.h"
#include "nestfarm/nf-seed.h"
#include "nestfarm/nf-storage.h"
#include "nf-guest-private.h"
#include "nf-network-private.h"
#include "nf-undo-private.h"

/* The engine: node lifecycles (overlay, define, start, stop, reset, remove) on
 * libvirt, each failed step undoing the ones before it; the host probe, profiles
 * and checked base images it keeps. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)

/* How often the ACPI power button is pressed again while waiting: a guest
 * still booting may not listen yet, and a lost press must not cost the
 * whole timeout. */
#define NF_ACPI_REPEAT_US (3 * G_USEC_PER_SEC)
#define NF_STATE_POLL_US  (100 * 1000)

struct _NfEngine {
	GObject parent_instance;
	NfConnection *connection;
	NfEngineConfig *config;
	NfOvs *ovs;
	NfOvn *ovn;  /* NULL without OvnNorthbound */
	GMutex lock; /* guards host, profiles and bases */
	NfHostInfo *host;
	GHashTable *profiles; /* name -> NfProfile */
	GHashTable *bases;    /* image as given -> CheckedBase */
	/* A remote host's copies of base images: one copied at a time */
	GMutex copy_lock;
	GHashTable *copies; /* "path size mtime" here -> its copy's path there */
};

/* A base image checked once: qemu-img runs again only when the file
 * changed (another inode, size or modification time). */
typedef struct {
	NfBaseImage base;
	dev_t dev;
	ino_t ino;
	goffset size;
	gint64 mtime_ns;
} CheckedBase;

static void
checked_base_free (CheckedBase *checked)
{
	g_free (checked->base.path);
	g_free (checked);
}

G_DEFINE_TYPE (NfEngine, nf_engine, G_TYPE_OBJECT)

NfEngineConfig *
nf_engine_config_new (void)
{
	NfEngineConfig *config = g_new0 (NfEngineConfig, 1);

	config->storage_pool = g_strdup ("nestfarm");
	config->storage_path = g_strdup (NF_STATEDIR "/images");
	config->console_dir = g_strdup ("/var/log/nestfarm/console");
	config->template_dir = g_strdup (NF_TEMPLATEDIR);
	config->datapath = g_strdup ("system");
	config->ovs_timeout_ms = 5000;
	config->mac_aging_seconds = 300;
	config->mac_table_size = 8192;
	config->accel = NF_ACCEL_AUTO;
	return config;
}

NfEngineConfig *
nf_engine_config_copy (const NfEngineConfig *config)
{
	NfEngineConfig *copy = g_new0 (NfEngineConfig, 1);

	*copy = *config;
	copy->storage_pool = g_strdup (config->storage_pool);
	copy->storage_path = g_strdup (config->storage_path);
	copy->console_dir = g_strdup (config->console_dir);
	copy->template_dir = g_strdup (config->template_dir);
	copy->datapath = g_strdup (config->datapath);
	copy->ovs_db = g_strdup (config->ovs_db);
	copy->instance = g_strdup (config->instance);
	copy->mgmt_network = g_strdup (config->mgmt_network);
	copy->ovn_northbound = g_strdup (config->ovn_northbound);
	return copy;
}

void
nf_engine_config_free (NfEngineConfig *config)
{
	if (config == NULL)
		return;
	g_free (config->storage_pool);
	g_free (config->storage_path);
	g_free (config->console_dir);
	g_free (config->template_dir);
	g_free (config->datapath);
	g_free (config->ovs_db);
	g_free (config->instance);
	g_free (config->mgmt_network);
	g_free (config->ovn_northbound);
	g_free (config);
}

void
nf_node_info_free (NfNodeInfo *info)
{
	if (info == NULL)
		return;
	nf_node_spec_free (info->spec);
	g_free (info->name);
	g_free (info->uuid);
	g_strfreev (info->macs);
	g_free (info);
}

NfDomainState
nf_domain_state_from_libvirt (gint state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return NF_DOMAIN_STATE_RUNNING;
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
		return NF_DOMAIN_STATE_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
		/* still running while the guest powers itself off */
		return NF_DOMAIN_STATE_RUNNING;
	case VIR_DOMAIN_SHUTOFF:
		return NF_DOMAIN_STATE_STOPPED;
	case VIR_DOMAIN_CRASHED:
		return NF_DOMAIN_STATE_CRASHED;
	default:
		return NF_DOMAIN_STATE_OTHER;
	}
}

gboolean
nf_domain_state_is_active (NfDomainState state)
{
	/* A crashed domain is gone: the profiles destroy on a crash. */
	return state == NF_DOMAIN_STATE_RUNNING || state == NF_DOMAIN_STATE_PAUSED;
}

static void
nf_engine_finalize (GObject *object)
{
	NfEngine *self = NF_ENGINE (object);

	g_clear_object (&self->connection);
	g_clear_object (&self->ovs);
	g_clear_pointer (&self->ovn, nf_ovn_free);
	nf_engine_config_free (self->config);
	g_clear_pointer (&self->host, nf_host_info_free);
	g_clear_pointer (&self->profiles, g_hash_table_unref);
	g_clear_pointer (&self->bases, g_hash_table_unref);
	g_clear_pointer (&self->copies, g_hash_table_unref);
	g_mutex_clear (&self->lock);
	g_mutex_clear (&self->copy_lock);
	G_OBJECT_CLASS (nf_engine_parent_class)->finalize (object);
}

static void
nf_engine_class_init (NfEngineClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = nf_engine_finalize;
}

static void
nf_engine_init (NfEngine *self)
{
	g_mutex_init (&self->lock);
	g_mutex_init (&self->copy_lock);
	self->copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->profiles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
	self->bases =
		g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) checked_base_free);
}

static gboolean
stat_base (const gchar *path, struct stat *st)
{
	return path != NULL && stat (path, st) == 0 && S_ISREG (st->st_mode);
}

/* On a farm host reached only through its libvirt, @base (checked here)
 * becomes its copy there (nf_storage_base_copy: uploaded once, verified),
 * kept per engine for as long as the file here is the same. */
static gboolean
base_on_host (NfEngine *self, virConnectPtr conn, NfBaseImage *base, GError **error)
{
	g_autofree gchar *key = NULL;
	gchar *copy;
	struct stat st;

	if (!self->config->remote)
		return TRUE;
	if (!stat_base (base->path, &st)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_NOT_FOUND,
			     "The base image %s is gone; give the pool an image that exists.",
			     base->path);
		return FALSE;
	}
	key = g_strdup_printf ("%s %" G_GOFFSET_FORMAT " %" G_GINT64_FORMAT,
			       base->path,
			       (goffset) st.st_size,
			       (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
	g_mutex_lock (&self->copy_lock);
	copy = g_strdup (g_hash_table_lookup (self->copies, key));
	if (copy == NULL) {
		copy = nf_storage_base_copy (conn, self->config->storage_pool, base, error);
		if (copy != NULL)
			g_hash_table_insert (self->copies, g_strdup (key), g_strdup (copy));
	}
	g_mutex_unlock (&self->copy_lock);
	if (copy == NULL)
		return FALSE;
	g_free (base->path);
	base->path = copy;
	return TRUE;
}

/* The overlay of @node over @base, made as this host allows (tagged and
 * moved into place here; made in nestfarm's own pool on a remote host). */
static gchar *
create_overlay (NfEngine *self,
		virConnectPtr conn,
		const gchar *node,
		const NfBaseImage *base,
		guint64 size,
		GError **error)
{
	if (self->config->remote)
		return nf_storage_create_overlay_remote (conn,
							 self->config->storage_pool,
							 node,
							 base,
							 size,
							 error);
	return nf_storage_create_overlay (conn, self->config->storage_pool, node, base, size, error);
}

/* @remote_pool: a remote host's pool of overlays (only what is in it is
 * deleted), NULL here. */
static gboolean
delete_overlay (const gchar *remote_pool,
		virConnectPtr conn,
		const gchar *path,
		const gchar *node,
		GError **error)
{
	if (remote_pool != NULL)
		return nf_storage_delete_overlay_remote (conn, remote_pool, path, node, error);
	return nf_storage_delete_overlay (conn, path, node, error);
}

static const gchar *
remote_pool (NfEngine *self)
{
	return self->config->remote ? self->config->storage_pool : NULL;
}

/* nf_storage_check_base, without a qemu-img run per node of a pool. */
static NfBaseImage *
check_base_cached (NfEngine *self, virConnectPtr conn, const gchar *image, GError **error)
{
	CheckedBase *checked;
	NfBaseImage *base;
	struct stat st;

	g_autofree gchar *resolved = g_path_is_absolute (image) ? realpath (image, NULL) : NULL;

	g_mutex_lock (&self->lock);
	checked = g_hash_table_lookup (self->bases, image);
	/* a path whose symlink now points elsewhere is a new base */
	if (checked != NULL && g_path_is_absolute (image) && g_strcmp0 (resolved, checked->base.path) != 0)
		checked = NULL;
	if (checked != NULL && stat_base (checked->base.path, &st) && st.st_dev == checked->dev &&
	    st.st_ino == checked->ino && st.st_size == checked->size &&
	    (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == checked->mtime_ns) {
		base = g_new0 (NfBaseImage, 1);
		*base = checked->base;
		base->path = g_strdup (checked->base.path);
		g_mutex_unlock (&self->lock);
		return base;
	}
	g_mutex_unlock (&self->lock);

	base = nf_storage_check_base (conn, self->config->storage_pool, image, error);
	if (base == NULL || !stat_base (base->path, &st))
		return base;
	checked = g_new0 (CheckedBase, 1);
	checked->base = *base;
	checked->base.path = g_strdup (base->path);
	checked->dev = st.st_dev;
	checked->ino = st.st_ino;
	checked->size = st.st_size;
	checked->mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	g_mutex_lock (&self->lock);
	g_hash_table_replace (self->bases, g_strdup (image), checked);
	g_mutex_unlock (&self->lock);
	return base;
}

NfEngine *
nf_engine_new (NfConnection *connection, const NfEngineConfig *config)
{
	NfEngine *self;

	g_return_val_if_fail (NF_IS_CONNECTION (connection), NULL);
	g_return_val_if_fail (config != NULL, NULL);

	self = g_object_new (NF_TYPE_ENGINE, NULL);
	self->connection = g_object_ref (connection);
	self->config = nf_engine_config_copy (config);
	self->ovs = nf_ovs_new (config->ovs_db, config->ovs_timeout_ms);
	if (config->ovn_northbound != NULL)
		self->ovn = nf_ovn_new (config->ovn_northbound, config->instance, config->ovs_timeout_ms);
	return self;
}

NfConnection *
nf_engine_get_connection (NfEngine *self)
{
	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);
	return self->connection;
}

const NfEngineConfig *
nf_engine_get_config (NfEngine *self)
{
	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);
	return self->config;
}

NfHostInfo *
nf_engine_probe_host (NfEngine *self, GError **error)
{
	g_autoptr (virConnect) conn = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return NULL;
	if (self->config->remote)
		return nf_host_probe_remote (conn, self->config->accel, error);
	return nf_host_probe (conn, self->config->accel, error);
}

gboolean
nf_engine_prepare (NfEngine *self, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (NfHostInfo) host = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	host = nf_engine_probe_host (self, error);
	if (host == NULL)
		return FALSE;
	g_info ("accelerator %s, nested feature %s: %s",
		nf_accel_to_string (host->accel),
		host->feature,
		host->reason);
	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return FALSE;
	if (!nf_storage_ensure_pool (conn, self->config->storage_pool, self->config->storage_path, error))
		return FALSE;
	if (self->config->remote) {
		/* its virtlogd writes the console logs: the directory is made
		 * there, by libvirt, as a storage pool's */
		g_autofree gchar *console_pool = g_strdup_printf ("%s-console", self->config->storage_pool);

		if (!nf_storage_ensure_one_pool (conn, console_pool, self->config->console_dir, error))
			return FALSE;
	} else if (g_mkdir_with_parents (self->config->console_dir, 0750) != 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot make the console log directory %s: %s.",
			     self->config->console_dir,
			     g_strerror (errno));
		return FALSE;
	}
	g_mutex_lock (&self->lock);
	g_clear_pointer (&self->host, nf_host_info_free);
	self->host = g_steal_pointer (&host);
	g_mutex_unlock (&self->lock);
	return TRUE;
}

/* A console log here: read as a file (it may grow meanwhile). */
static GBytes *
read_local_log (const gchar *path, guint64 offset, guint max, guint64 *size, GError **error)
{
	g_autofree guint8 *buffer = g_malloc (MAX (max, 1));
	struct stat st;
	gssize n = -1;
	gint saved_errno;
	gint fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

	*size = 0;
	if (fd < 0 && errno == ENOENT)
		return g_bytes_new (NULL, 0);
	if (fd >= 0 && fstat (fd, &st) == 0) {
		*size = (guint64) st.st_size;
		n = offset < *size ? pread (fd, buffer, max, (off_t) offset) : 0;
	}
	saved_errno = errno;
	if (fd >= 0)
		g_close (fd, NULL);
	if (n < 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot read the console log %s: %s.",
			     path,
			     g_strerror (saved_errno));
		return NULL;
	}
	return g_bytes_new (buffer, (gsize) n);
}

GBytes *
nf_engine_read_console (NfEngine *self,
			const gchar *path,
			guint64 offset,
			guint max,
			guint64 *size,
			GError **error)
{
	g_autoptr (virConnect) conn = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);
	g_return_val_if_fail (path != NULL && size != NULL, NULL);

	if (!self->config->remote)
		return read_local_log (path, offset, max, size, error);
	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return NULL;
	return nf_storage_read_path (conn, path, offset, max, size, error);
}

NfHostInfo *
nf_engine_dup_host (NfEngine *self)
{
	g_autoptr (GMutexLocker) locker = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	locker = g_mutex_locker_new (&self->lock);
	return self->host != NULL ? nf_host_info_copy (self->host) : NULL;
}

NfProfile *
nf_engine_get_profile (NfEngine *self, const gchar *name, GError **error)
{
	NfProfile *profile;
	g_autoptr (GMutexLocker) locker = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	locker = g_mutex_locker_new (&self->lock);
	profile = g_hash_table_lookup (self->profiles, name);
	if (profile != NULL)
		return profile;
	profile = nf_profile_load (self->config->template_dir, name, error);
	if (profile == NULL)
		return NULL;
	g_hash_table_insert (self->profiles, g_strdup (name), profile);
	return profile;
}

gboolean
nf_engine_check_base (NfEngine *self, const gchar *image, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (NfBaseImage) base = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);
	g_return_val_if_fail (image != NULL, FALSE);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return FALSE;
	base = check_base_cached (self, conn, image, error);
	return base != NULL;
}

gboolean
nf_engine_complete_spec (NfEngine *self, NfNodeSpec *spec, GError **error)
{
	NfProfile *profile;
	g_autofree gchar *name = NULL;
	g_autoptr (NfVlanSet) vlans = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);
	g_return_val_if_fail (spec != NULL, FALSE);

	if (!nf_pool_name_validate (spec->pool, error))
		return FALSE;
	if (spec->index < 1 || spec->index > NF_NODE_INDEX_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The node index %u is out of range; indexes run from 1 to %d.",
			     spec->index,
			     NF_NODE_INDEX_MAX);
		return FALSE;
	}
	if (spec->profile == NULL)
		spec->profile = g_strdup (NF_DEFAULT_PROFILE);
	profile = nf_engine_get_profile (self, spec->profile, error);
	if (profile == NULL)
		return FALSE;
	nf_profile_fill_defaults (profile, &spec->vcpus, &spec->memory_mib, &spec->disk_gib);
	if (spec->vlans == NULL)
		spec->vlans = g_strdup ("all");
	vlans = nf_vlan_set_parse (spec->vlans, error);
	if (vlans == NULL)
		return FALSE;
	g_free (spec->vlans);
	spec->vlans = nf_vlan_set_to_string (vlans);
	if (spec->image == NULL || spec->image[0] == '\0') {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "No base image was given; name a qcow2 or raw image with the 'image' option.");
		return FALSE;
	}
	if (spec->trunk_bridge == NULL || spec->trunk_bridge[0] == '\0') {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "No trunk bridge was given; name an Open vSwitch bridge with 'trunk-bridge'.");
		return FALSE;
	}
	name = nf_node_name_build (spec->pool, spec->index);
	if (spec->console_log == NULL)
		spec->console_log = g_strdup_printf ("%s/%s.log", self->config->console_dir, name);
	if (spec->created == 0)
		spec->created = g_get_real_time () / G_USEC_PER_SEC;
	return TRUE;
}

/* The OVN database, or NF_ERROR_INVALID_ARGUMENT for @pool (an OVN pool
 * while OvnNorthbound is not set). */
static NfOvn *
need_ovn (NfEngine *self, const gchar *pool, GError **error)
{
	if (self->ovn == NULL)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The trunk of pool %s is an OVN logical switch, but the OvnNorthbound setting is empty; "
			     "set it to OVN's northbound database.",
			     pool);
	return self->ovn;
}

gboolean
nf_engine_prepare_trunk (NfEngine *self, const NfNodeSpec *spec, GError **error)
{
	g_autoptr (NfVlanSet) vlans = NULL;
	NfOvn *ovn;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);
	if (spec->trunk_port != NULL) {
		ovn = need_ovn (self, spec->pool, error);
		vlans = ovn != NULL ? nf_vlan_set_parse (spec->vlans != NULL ? spec->vlans : "all", error)
				    : NULL;
		return vlans != NULL && nf_ovn_ensure_switch (ovn, spec->pool, vlans, error);
	}
	/* nestfarm's OVSDB is this machine's: another host's bridge is that
	 * host's to have */
	if (self->config->remote)
		return TRUE;
	return nf_ovs_ensure_bridge (self->ovs,
				     spec->trunk_bridge,
				     self->config->datapath,
				     self->config->mac_aging_seconds,
				     self->config->mac_table_size,
				     error);
}

gboolean
nf_engine_remove_trunk (NfEngine *self, const gchar *pool, GError **error)
{
	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);
	return self->ovn == NULL || nf_ovn_remove_switch (self->ovn, pool, error);
}

guint
nf_engine_remove_orphan_trunks (NfEngine *self, const gchar *const *pools, GError **error)
{
	g_autoptr (GPtrArray) switches = NULL;
	g_autoptr (GString) failed = g_string_new (NULL);
	guint removed = 0;

	g_return_val_if_fail (NF_IS_ENGINE (self), 0);
	if (self->ovn == NULL)
		return 0;
	switches = nf_ovn_list_switches (self->ovn, error);
	if (switches == NULL)
		return 0;
	for (guint i = 0; i < switches->len; i++) {
		const gchar *pool = g_ptr_array_index (switches, i);
		g_autoptr (GError) error_local = NULL;

		if (pools != NULL && g_strv_contains (pools, pool))
			continue;
		if (!nf_ovn_remove_switch (self->ovn, pool, &error_local)) {
			g_string_append_printf (failed,
						"%s%s",
						failed->len > 0 ? "; " : "",
						error_local->message);
			continue;
		}
		g_message ("removed the OVN logical switch of pool %s: the pool is no more", pool);
		removed++;
	}
	if (failed->len > 0)
		g_set_error (error, NF_ERROR, NF_ERROR_OPENVSWITCH, "%s", failed->str);
	return removed;
}

/* The facts a node's domain XML carries beyond the metadata. */
static gboolean
parse_domain_facts (const gchar *xml, gchar **overlay, gchar ***macs, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (xmlXPathContext) ctx = NULL;
	g_autoptr (xmlXPathObject) disk = NULL;
	g_autoptr (xmlXPathObject) mac = NULL;
	g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_free);

	doc = xmlReadMemory (xml,
			     (int) strlen (xml),
			     "domain.xml",
			     NULL,
			     XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (doc == NULL) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_LIBVIRT,
				     "libvirt returned a domain XML that does not parse.");
		return FALSE;
	}
	ctx = xmlXPathNewContext (doc);
	disk = xmlXPathEvalExpression ((const xmlChar
						*) "string(/domain/devices/disk[@device='disk'][1]/source/@file)",
				       ctx);
	if (overlay != NULL) {
		const gchar *value = disk != NULL ? (const gchar *) disk->stringval : NULL;

		*overlay = value != NULL && value[0] != '\0' ? g_strdup (value) : NULL;
	}
	mac = xmlXPathEvalExpression ((const xmlChar *) "/domain/devices/interface/mac/@address", ctx);
	if (mac != NULL && mac->nodesetval != NULL) {
		for (gint i = 0; i < mac->nodesetval->nodeNr; i++) {
			xmlChar *address = xmlNodeGetContent (mac->nodesetval->nodeTab[i]);

			g_ptr_array_add (list, g_strdup ((const gchar *) address));
			xmlFree (address);
		}
	}
	g_ptr_array_add (list, NULL);
	if (macs != NULL)
		*macs = (gchar **) g_ptr_array_free (g_steal_pointer (&list), FALSE);
	return TRUE;
}

/* nestfarm touches a domain only if it carries nestfarm's metadata, and
 * this instance's (a second nestfarmd on the same libvirt, such as a test
 * run's, leaves the other's domains alone); @any_instance: any nestfarm's. */
static gboolean
domain_is_ours (virDomainPtr dom, const gchar *instance, gboolean any_instance)
{
	g_autofree gchar *meta = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, NF_METADATA_NS, 0);

	if (meta == NULL) {
		virResetLastError ();
		return FALSE;
	}
	return any_instance || nf_node_metadata_owned_by (meta, instance);
}

static NfNodeInfo *
node_info_from_domain (virDomainPtr dom, GError **error)
{
	g_autoptr (NfNodeInfo) info = g_new0 (NfNodeInfo, 1);
	g_autofree gchar *xml = NULL;
	gchar uuid[VIR_UUID_STRING_BUFLEN] = {0};
	gint state = 0, reason = 0;

	xml = virDomainGetXMLDesc (dom, 0);
	if (xml == NULL) {
		nf_libvirt_set_error (error, "Cannot read the domain of %s", virDomainGetName (dom));
		return NULL;
	}
	info->spec = nf_node_spec_from_domain_xml (xml, error);
	if (info->spec == NULL)
		return NULL;
	g_clear_pointer (&info->spec->overlay, g_free);
	if (!parse_domain_facts (xml, &info->spec->overlay, &info->macs, error))
		return NULL;
	info->name = g_strdup (virDomainGetName (dom));
	if (virDomainGetUUIDString (dom, uuid) == 0)
		info->uuid = g_strdup (uuid);
	if (virDomainGetState (dom, &state, &reason, 0) < 0) {
		nf_libvirt_set_error (error, "Cannot read the state of %s", info->name);
		return NULL;
	}
	info->state = nf_domain_state_from_libvirt (state);
	return g_steal_pointer (&info);
}

/* Looks up @name and refuses a domain that is not nestfarm's. */
static virDomainPtr
lookup_own_domain (virConnectPtr conn, const gchar *name, const gchar *instance, GError **error)
{
	g_autoptr (virDomain) dom = virDomainLookupByName (conn, name);

	if (dom == NULL) {
		nf_libvirt_set_error (error, "There is no node %s", name);
		return NULL;
	}
	if (!domain_is_ours (dom, instance, FALSE)) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "A domain named %s exists but this nestfarm did not make it; it is left alone.",
			     name);
		return NULL;
	}
	return g_steal_pointer (&dom);
}

/* The live connection and nestfarm's own domain @name, for one call. */
static virDomainPtr
open_own_domain (NfEngine *self, const gchar *name, virConnectPtr *conn_out, GError **error)
{
	g_autoptr (virConnect) conn = nf_connection_ref_conn (self->connection, error);
	virDomainPtr dom;

	if (conn == NULL)
		return NULL;
	dom = lookup_own_domain (conn, name, self->config->instance, error);
	if (dom != NULL && conn_out != NULL)
		*conn_out = g_steal_pointer (&conn);
	return dom;
}

gboolean
nf_engine_storage_available (NfEngine *self, guint64 *bytes, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virStoragePool) pool = NULL;
	virStoragePoolInfo info = {0};

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return FALSE;
	pool = virStoragePoolLookupByName (conn, self->config->storage_pool);
	if (pool == NULL)
		return nf_libvirt_set_error (error,
					     "Cannot find storage pool %s",
					     self->config->storage_pool);
	/* libvirt counts the free space when it refreshes a pool */
	if (virStoragePoolRefresh (pool, 0) < 0 || virStoragePoolGetInfo (pool, &info) < 0)
		return nf_libvirt_set_error (error,
					     "Cannot read storage pool %s",
					     self->config->storage_pool);
	*bytes = info.available;
	return TRUE;
}

virDomainPtr
nf_engine_open_domain (NfEngine *self, const gchar *name, virConnectPtr *conn_out, GError **error)
{
	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	return open_own_domain (self, name, conn_out, error);
}

NfNodeInfo *
nf_engine_get_node (NfEngine *self, const gchar *name, GError **error)
{
	g_autoptr (virDomain) dom = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	dom = open_own_domain (self, name, NULL, error);
	if (dom == NULL)
		return NULL;
	return node_info_from_domain (dom, error);
}

gboolean
nf_engine_get_cpu_time (NfEngine *self, const gchar *name, guint64 *cpu_ns, guint *vcpus, GError **error)
{
	g_autoptr (virDomain) dom = NULL;
	virDomainInfo info = {0};

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	dom = open_own_domain (self, name, NULL, error);
	if (dom == NULL)
		return FALSE;
	if (virDomainGetInfo (dom, &info) < 0) {
		nf_libvirt_set_error (error, "Cannot read the CPU time of %s", name);
		return FALSE;
	}
	*cpu_ns = info.cpuTime;
	*vcpus = info.nrVirtCpu;
	return TRUE;
}

void
nf_guest_report_free (NfGuestReport *report)
{
	if (report == NULL)
		return;
	g_free (report->address);
	g_free (report->detail);
	g_free (report);
}

/* The address the guest has on its management NIC, by its DHCP lease or
 * its guest agent; NULL when neither says. */
static gchar *
address_seen (virDomainPtr dom, const NfNodeSpec *spec)
{
	g_autofree gchar *mac = nf_node_mac (spec->pool, spec->index, NF_NIC_MANAGEMENT);

	return nf_guest_address (dom, mac);
}

/* A node with a fixed address that does not answer there: if the guest
 * has another address, that is the reason to give. */
static void
say_other_address (virDomainPtr dom, const NfNodeSpec *spec, NfGuestReport *report)
{
	g_autofree gchar *actual = address_seen (dom, spec);

	if (actual == NULL || g_str_equal (actual, spec->address))
		return;
	g_free (report->detail);
	report->detail = g_strdup_printf ("it has the address %s, not its reserved %s "
					  "(did the DHCP server give that one to another client?)",
					  actual,
					  spec->address);
}

NfGuestReport *
nf_engine_probe_guest (NfEngine *self, const gchar *name, GError **error)
{
	g_autoptr (virDomain) dom = NULL;
	g_autoptr (NfNodeInfo) info = NULL;
	g_autoptr (NfGuestReport) report = g_new0 (NfGuestReport, 1);

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);
	g_return_val_if_fail (name != NULL, NULL);

	dom = open_own_domain (self, name, NULL, error);
	if (dom == NULL)
		return NULL;
	info = node_info_from_domain (dom, error);
	if (info == NULL)
		return NULL;
	report->running = info->state == NF_DOMAIN_STATE_RUNNING;
	if (!report->running) {
		report->detail = g_strdup ("it does not run");
		return g_steal_pointer (&report);
	}
	report->address = g_strdup (info->spec->address);
	if (report->address == NULL && info->spec->mgmt_network != NULL)
		report->address = address_seen (dom, info->spec);
	nf_guest_probe (dom, report->address, report);
	if (report->seeded && !report->ssh && info->spec->address != NULL)
		say_other_address (dom, info->spec, report);
	return g_steal_pointer (&report);
}

static gint
node_info_compare (gconstpointer a, gconstpointer b)
{
	const NfNodeInfo *na = *(const NfNodeInfo **) a;
	const NfNodeInfo *nb = *(const NfNodeInfo **) b;
	gint cmp = g_strcmp0 (na->spec->pool, nb->spec->pool);

	if (cmp != 0)
		return cmp;
	return na->spec->index < nb->spec->index ? -1 : na->spec->index > nb->spec->index;
}

/* A line for the caller to warn about (see nf-engine.h), when it wants them. */
static void G_GNUC_PRINTF (2, 3) add_warning (GPtrArray *warnings, const gchar *format, ...)
{
	va_list args;

	if (warnings == NULL)
		return;
	va_start (args, format);
	g_ptr_array_add (warnings, g_strdup_vprintf (format, args));
	va_end (args);
}

GPtrArray *
nf_engine_list_nodes (NfEngine *self, GPtrArray *warnings, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	virDomainPtr *domains = NULL;
	gint n;
	g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) nf_node_info_free);

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return NULL;
	n = virConnectListAllDomains (conn, &domains, 0);
	if (n < 0) {
		nf_libvirt_set_error (error, "Cannot list the domains");
		return NULL;
	}
	for (gint i = 0; i < n; i++) {
		g_autoptr (virDomain) dom = domains[i];
		g_autoptr (GError) error_local = NULL;
		NfNodeInfo *info;

		if (!domain_is_ours (dom, self->config->instance, FALSE))
			continue;
		info = node_info_from_domain (dom, &error_local);
		if (info == NULL) {
			/* A domain removed meanwhile is simply gone. */
			if (!g_error_matches (error_local, NF_ERROR, NF_ERROR_NOT_FOUND))
				add_warning (warnings,
					     "skipping domain %s: %s",
					     virDomainGetName (dom),
					     error_local->message);
			continue;
		}
		g_ptr_array_add (nodes, info);
	}
	free (domains);
	/* A connection lost half-way makes every later read fail, and those
	 * domains look not ours or unreadable: such a listing is not the
	 * truth (nodes would be taken for vanished), so it fails. */
	if (virConnectIsAlive (conn) != 1) {
		virResetLastError ();
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_LIBVIRT,
			     "The connection to libvirt at %s was lost while listing the domains.",
			     nf_connection_get_uri (self->connection));
		return NULL;
	}
	g_ptr_array_sort (nodes, node_info_compare);
	return g_steal_pointer (&nodes);
}

/* --- making a node: overlay, define, start; each step done pushes its
 * undo, and a failure unwinds them --- */

/* What a make works with, once its spec is complete. */
typedef struct {
	virConnectPtr conn;
	NfNodeSpec *spec;
	NfProfile *profile;
	NfHostInfo *host;
	NfBaseImage *base;
	gchar *name;
} Make;

static void
make_clear (Make *make)
{
	g_clear_pointer (&make->conn, virConnectClose);
	g_clear_pointer (&make->spec, nf_node_spec_free);
	g_clear_pointer (&make->host, nf_host_info_free);
	g_clear_pointer (&make->base, nf_base_image_free);
	g_clear_pointer (&make->name, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Make, make_clear)

/* The make's spec completed, its profile, its connection and its checked
 * base; a domain of its name must not exist yet. */
static gboolean
make_prepare (NfEngine *self, const NfNodeSpec *spec_in, Make *make, GError **error)
{
	g_autoptr (virDomain) existing = NULL;

	make->spec = nf_node_spec_copy (spec_in);
	make->host = nf_engine_dup_host (self);
	g_return_val_if_fail (make->host != NULL, FALSE);
	if (!nf_engine_complete_spec (self, make->spec, error))
		return FALSE;
	g_free (make->spec->instance);
	make->spec->instance = g_strdup (self->config->instance);
	make->name = nf_node_name_build (make->spec->pool, make->spec->index);
	make->profile = nf_engine_get_profile (self, make->spec->profile, error);
	if (make->profile == NULL)
		return FALSE;
	make->conn = nf_connection_ref_conn (self->connection, error);
	if (make->conn == NULL)
		return FALSE;
	existing = virDomainLookupByName (make->conn, make->name);
	if (existing != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "A domain named %s exists already; remove it or choose another pool name.",
			     make->name);
		return FALSE;
	}
	virResetLastError ();
	make->base = check_base_cached (self, make->conn, make->spec->image, error);
	return make->base != NULL && base_on_host (self, make->conn, make->base, error);
}

typedef struct {
	virConnectPtr conn;
	gchar *path;
	gchar *name;
	gchar *remote_pool; /* the overlay is in this pool of a remote host */
} UndoOverlay;

static void
undo_overlay_free (UndoOverlay *undo)
{
	virConnectClose (undo->conn);
	g_free (undo->path);
	g_free (undo->name);
	g_free (undo->remote_pool);
	g_free (undo);
}

static gboolean
undo_overlay (gpointer data, GError **error)
{
	UndoOverlay *undo = data;

	if (delete_overlay (undo->remote_pool, undo->conn, undo->path, undo->name, error))
		return TRUE;
	g_prefix_error (error, "cannot delete overlay %s: ", undo->path);
	return FALSE;
}

/* Step 1: the overlay, tagged as this node's. */
static gboolean
make_overlay (NfEngine *self, Make *make, NfUndo *undo, GError **error)
{
	UndoOverlay *undone;

	make->spec->overlay = create_overlay (self,
					      make->conn,
					      make->name,
					      make->base,
					      (guint64) make->spec->disk_gib * 1024 * 1024 * 1024,
					      error);
	if (make->spec->overlay == NULL)
		return FALSE;
	undone = g_new0 (UndoOverlay, 1);
	virConnectRef (make->conn);
	undone->conn = make->conn;
	undone->path = g_strdup (make->spec->overlay);
	undone->name = g_strdup (make->name);
	undone->remote_pool = g_strdup (remote_pool (self));
	nf_undo_push (undo, undo_overlay, undone, (GDestroyNotify) undo_overlay_free);
	nf_fail_point ("make:after-overlay");
	return TRUE;
}

static gboolean
undo_seed (gpointer data, GError **error)
{
	UndoOverlay *undo = data;

	if (nf_storage_seed_delete (undo->conn, undo->path, undo->name, error))
		return TRUE;
	g_prefix_error (error, "cannot delete seed %s: ", undo->path);
	return FALSE;
}

/* What the node's seed says: its name, a new instance (so cloud-init runs
 * on this make), the login, the pool's user-data, and the MAC of its
 * management NIC. */
static NfSeedSpec *
seed_spec_for (const Make *make)
{
	NfSeedSpec *seed = nf_seed_spec_new ();
	g_autofree gchar *nonce = g_uuid_string_random ();

	seed->node_name = g_strdup (make->name);
	seed->instance_id = g_strdup_printf ("%s-%.8s", make->name, nonce);
	seed->ssh_user = g_strdup (make->spec->ssh_user != NULL ? make->spec->ssh_user : NF_SSH_USER_DEFAULT);
	seed->ssh_keys = g_strdupv (make->spec->ssh_keys);
	seed->user_data = g_strdup (make->spec->user_data);
	seed->mac = nf_node_mac (make->spec->pool, make->spec->index, NF_NIC_MANAGEMENT);
	seed->owner = nf_storage_seed_owner_tag (make->name);
	return seed;
}

/* The seed volume of @make's node from @iso, its undo pushed. */
static gboolean
put_seed (NfEngine *self, Make *make, GBytes *iso, NfUndo *undo, GError **error)
{
	UndoOverlay *undone;

	make->spec->seed =
		nf_storage_seed_put (make->conn, self->config->storage_pool, make->name, iso, error);
	if (make->spec->seed == NULL)
		return FALSE;
	undone = g_new0 (UndoOverlay, 1);
	virConnectRef (make->conn);
	undone->conn = make->conn;
	undone->path = g_strdup (make->spec->seed);
	undone->name = g_strdup (make->name);
	nf_undo_push (undo, undo_seed, undone, (GDestroyNotify) undo_overlay_free);
	return TRUE;
}

/* Step 1b: the cloud-init seed, for a profile that takes one. */
static gboolean
make_seed (NfEngine *self, Make *make, NfUndo *undo, GError **error)
{
	g_autoptr (NfSeedSpec) seed = NULL;
	g_autoptr (GBytes) iso = NULL;

	if (!nf_profile_takes_seed (make->profile))
		return TRUE;
	seed = seed_spec_for (make);
	iso = nf_seed_build_iso (seed, error);
	if (iso == NULL)
		return FALSE;
	if (!put_seed (self, make, iso, undo, error))
		return FALSE;
	g_free (make->spec->ssh_user);
	make->spec->ssh_user = g_strdup (seed->ssh_user);
	nf_fail_point ("make:after-seed");
	return TRUE;
}

/* Off (if it runs) and undefined; both are tried. */
static gboolean
undo_define (gpointer data, GError **error)
{
	virDomainPtr dom = data;
	g_autoptr (GError) destroy_error = NULL;
	g_autoptr (GError) undefine_error = NULL;

	/* A domain that went off meanwhile (libvirtd may stop one it failed
	 * to reconnect to) makes the destroy fail: it is off all the same. */
	if (virDomainIsActive (dom) == 1 && virDomainDestroy (dom) < 0) {
		nf_libvirt_set_error (&destroy_error, "cannot destroy the domain");
		if (virDomainIsActive (dom) == 0)
			g_clear_error (&destroy_error);
	}
	if (virDomainUndefineFlags (dom, NF_ENGINE_UNDEFINE_FLAGS) < 0)
		nf_libvirt_set_error (&undefine_error, "cannot undefine the domain");
	if (undefine_error != NULL) {
		if (destroy_error != NULL)
			g_prefix_error (&undefine_error, "%s; ", destroy_error->message);
		g_propagate_error (error, g_steal_pointer (&undefine_error));
		return FALSE;
	}
	if (destroy_error != NULL) {
		g_propagate_error (error, g_steal_pointer (&destroy_error));
		return FALSE;
	}
	return TRUE;
}

static void
undo_define_free (gpointer data)
{
	virDomainFree (data);
}

typedef struct {
	virConnectPtr conn;
	gchar *network;
	gchar *instance;
	gchar *mac;
} UndoAddress;

static void
undo_address_free (UndoAddress *undo)
{
	virConnectClose (undo->conn);
	g_free (undo->network);
	g_free (undo->instance);
	g_free (undo->mac);
	g_free (undo);
}

static gboolean
undo_address (gpointer data, GError **error)
{
	UndoAddress *undo = data;

	return nf_network_release (undo->conn, undo->network, undo->instance, undo->mac, error);
}

gboolean
nf_engine_ensure_network (NfEngine *self, const gchar *name, GError **error)
{
	g_autoptr (virConnect) conn = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);
	g_return_val_if_fail (name != NULL, FALSE);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return FALSE;
	return nf_network_ensure (conn,
				  name,
				  g_strcmp0 (name, self->config->mgmt_network) == 0,
				  self->config->mgmt_isolated,
				  self->config->instance,
				  error);
}

/* Step 1c: the management network running, and the node's fixed address
 * on it when nestfarm made it (a DHCP host entry for its MAC). */
static gboolean
make_address (NfEngine *self, Make *make, NfUndo *undo, GError **error)
{
	const gchar *network = make->spec->mgmt_network;
	g_autofree gchar *mac = NULL;
	UndoAddress *undone;

	if (network == NULL)
		return TRUE;
	if (!nf_network_ensure (make->conn,
				network,
				g_strcmp0 (network, self->config->mgmt_network) == 0,
				self->config->mgmt_isolated,
				self->config->instance,
				error))
		return FALSE;
	mac = nf_node_mac (make->spec->pool, make->spec->index, NF_NIC_MANAGEMENT);
	g_clear_pointer (&make->spec->address, g_free);
	make->spec->address =
		nf_network_reserve (make->conn, network, self->config->instance, mac, make->name, error);
	if (make->spec->address == NULL)
		return error == NULL || *error == NULL;
	undone = g_new0 (UndoAddress, 1);
	virConnectRef (make->conn);
	undone->conn = make->conn;
	undone->network = g_strdup (network);
	undone->instance = g_strdup (self->config->instance);
	undone->mac = g_steal_pointer (&mac);
	nf_undo_push (undo, undo_address, undone, (GDestroyNotify) undo_address_free);
	nf_fail_point ("make:after-address");
	return TRUE;
}

/* The shape of @make's domain XML (see nf_connection_define_domain): the
 * XML its spec renders as node 1 of its pool, with fixed file names and
 * time. Every node of a pool has the same; what differs from node to node
 * (name, serial, MAC, overlay, seed and log paths, creation time) is made
 * and checked by nestfarm and valid in any of them. */
static gchar *
make_shape (const Make *make)
{
	g_autoptr (NfNodeSpec) shape = nf_node_spec_copy (make->spec);

	shape->index = 1;
	shape->created = 1;
	g_free (shape->overlay);
	shape->overlay = g_strdup ("/nestfarm-shape/overlay.qcow2");
	if (shape->console_log != NULL) {
		g_free (shape->console_log);
		shape->console_log = g_strdup ("/nestfarm-shape/console.log");
	}
	if (shape->seed != NULL) {
		g_free (shape->seed);
		shape->seed = g_strdup ("/nestfarm-shape/seed.iso");
	}
	if (shape->address != NULL) {
		g_free (shape->address);
		shape->address = g_strdup ("192.0.2.1");
	}
	return nf_profile_render_domain (make->profile, shape, make->host, NULL);
}

/* Step 2: the domain, carrying nestfarm's metadata. */
static virDomainPtr
make_define (NfEngine *self, Make *make, NfUndo *undo, GCancellable *cancellable, GError **error)
{
	g_autofree gchar *xml = nf_profile_render_domain (make->profile, make->spec, make->host, error);
	g_autofree gchar *shape = NULL;
	virDomainPtr dom;

	if (xml == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
		return NULL;
	shape = make_shape (make);
	dom = nf_connection_define_domain (self->connection, make->conn, xml, make->name, shape, error);
	if (dom == NULL)
		return NULL;
	virDomainRef (dom);
	nf_undo_push (undo, undo_define, dom, undo_define_free);
	nf_fail_point ("make:after-define");
	return dom;
}

typedef struct {
	NfOvn *ovn;
	gchar *port;
} UndoPort;

static void
undo_port_free (UndoPort *undo)
{
	g_free (undo->port);
	g_free (undo);
}

static gboolean
undo_port (gpointer data, GError **error)
{
	UndoPort *undo = data;

	return nf_ovn_remove_port (undo->ovn, undo->port, error);
}

/* Step 2b: the OVN port of its trunk NIC, after the domain (a crash in
 * between leaves a domain, which the intent's settling removes with its
 * port, never a port without a node). */
static gboolean
make_port (NfEngine *self, Make *make, NfUndo *undo, GError **error)
{
	NfOvn *ovn;
	UndoPort *undone;

	if (make->spec->trunk_port == NULL)
		return TRUE;
	ovn = need_ovn (self, make->spec->pool, error);
	if (ovn == NULL)
		return FALSE;
	/* undone even when the call seems to fail: its transaction may have
	 * committed with the answer lost (a removal of none is success) */
	undone = g_new0 (UndoPort, 1);
	undone->ovn = ovn; /* the engine outlives its makes */
	undone->port = g_strdup (make->spec->trunk_port);
	nf_undo_push (undo, undo_port, undone, (GDestroyNotify) undo_port_free);
	if (!nf_ovn_add_port (ovn, make->spec->pool, make->name, make->spec->trunk_port, error))
		return FALSE;
	nf_fail_point ("make:after-port");
	return TRUE;
}

/* Step 3: power on. */
static gboolean
make_start (virDomainPtr dom, const gchar *name, GCancellable *cancellable, GError **error)
{
	if (g_cancellable_set_error_if_cancelled (cancellable, error))
		return FALSE;
	if (virDomainCreate (dom) < 0)
		return nf_libvirt_set_error (error, "Cannot start %s", name);
	nf_fail_point ("make:after-start");
	return TRUE;
}

static NfNodeInfo *
make_steps (NfEngine *self,
	    Make *make,
	    gboolean start,
	    NfUndo *undo,
	    GCancellable *cancellable,
	    GError **error)
{
	g_autoptr (virDomain) dom = NULL;

	if (g_cancellable_set_error_if_cancelled (cancellable, error))
		return NULL;
	if (!make_overlay (self, make, undo, error) || !make_seed (self, make, undo, error) ||
	    !make_address (self, make, undo, error))
		return NULL;
	dom = make_define (self, make, undo, cancellable, error);
	if (dom == NULL || !make_port (self, make, undo, error))
		return NULL;
	if (start && !make_start (dom, make->name, cancellable, error))
		return NULL;
	return node_info_from_domain (dom, error);
}

NfNodeInfo *
nf_engine_make_node (NfEngine *self,
		     const NfNodeSpec *spec_in,
		     gboolean start,
		     GCancellable *cancellable,
		     GError **error)
{
	g_auto (Make) make = {0};
	g_autoptr (NfUndo) undo = nf_undo_new ();
	NfNodeInfo *info;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	if (!make_prepare (self, spec_in, &make, error))
		return NULL;
	info = make_steps (self, &make, start, undo, cancellable, error);
	if (info == NULL)
		nf_undo_unwind (undo, error);
	return info;
}

gboolean
nf_engine_start_node (NfEngine *self, const gchar *name, GError **error)
{
	g_autoptr (virDomain) dom = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	dom = open_own_domain (self, name, NULL, error);
	if (dom == NULL)
		return FALSE;
	if (virDomainIsActive (dom) == 1)
		return TRUE;
	if (virDomainCreate (dom) < 0)
		return nf_libvirt_set_error (error, "Cannot start %s", name);
	return TRUE;
}

static gboolean
domain_wait_shutoff (virDomainPtr dom, gint64 deadline, gboolean press_button, GCancellable *cancellable)
{
	gint64 next_press = 0;

	for (;;) {
		gint state = 0, reason = 0;
		gint64 now = g_get_monotonic_time ();

		if (virDomainGetState (dom, &state, &reason, 0) < 0) {
			virResetLastError ();
			return FALSE;
		}
		if (state == VIR_DOMAIN_SHUTOFF)
			return TRUE;
		if (now >= deadline || g_cancellable_is_cancelled (cancellable))
			return FALSE;
		if (press_button && now >= next_press) {
			if (virDomainShutdownFlags (dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0)
				virResetLastError ();
			next_press = now + NF_ACPI_REPEAT_US;
		}
		g_usleep (MIN (NF_STATE_POLL_US, MAX (deadline - now, 1)));
	}
}

static gboolean
stop_domain (virDomainPtr dom,
	     const gchar *name,
	     guint timeout_s,
	     gboolean *forced,
	     GCancellable *cancellable,
	     GError **error)
{
	if (forced != NULL)
		*forced = FALSE;
	if (virDomainIsActive (dom) != 1)
		return TRUE;
	if (timeout_s > 0) {
		gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

		if (domain_wait_shutoff (dom, deadline, TRUE, cancellable))
			return TRUE;
		if (g_cancellable_set_error_if_cancelled (cancellable, error))
			return FALSE;
		g_info ("%s did not power off within %u s; forcing it off", name, timeout_s);
	}
	if (virDomainDestroy (dom) < 0) {
		/* It may have powered off just now. */
		if (virDomainIsActive (dom) == 0) {
			virResetLastError ();
			return TRUE;
		}
		return nf_libvirt_set_error (error, "Cannot force %s off", name);
	}
	if (forced != NULL)
		*forced = TRUE;
	return TRUE;
}

gboolean
nf_engine_stop_node (NfEngine *self,
		     const gchar *name,
		     guint timeout_s,
		     gboolean *forced,
		     GCancellable *cancellable,
		     GError **error)
{
	g_autoptr (virDomain) dom = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	dom = open_own_domain (self, name, NULL, error);
	if (dom == NULL)
		return FALSE;
	return stop_domain (dom, name, timeout_s, forced, cancellable, error);
}

/* Whether @port is one libvirt left for a node of @instance that does not
 * run. */
static gboolean
port_is_stale (virConnectPtr conn, const NfOvsPort *port, const gchar *instance)
{
	g_autoptr (virDomain) dom = NULL;

	if (port->vm_uuid == NULL)
		return FALSE;
	dom = virDomainLookupByUUIDString (conn, port->vm_uuid);
	if (dom == NULL) {
		virResetLastError ();
		return FALSE;
	}
	return domain_is_ours (dom, instance, FALSE) && virDomainIsActive (dom) == 0;
}

/* The sweep of nf_engine_remove_stale_ports, of one node's ports when
 * @uuid is given. Failures to remove are collected in @failed. */
static guint
remove_stale_ports (NfEngine *self, virConnectPtr conn, const gchar *uuid, GString *failed, GError **error)
{
	g_autoptr (GPtrArray) ports = NULL;
	guint removed = 0;

	/* this machine's OVS holds no port of another host's domains */
	if (self->config->remote)
		return 0;
	ports = nf_ovs_list_ports (self->ovs, NULL, error);
	if (ports == NULL)
		return 0;
	for (guint i = 0; i < ports->len; i++) {
		const NfOvsPort *port = g_ptr_array_index (ports, i);
		g_autoptr (GError) error_local = NULL;

		if (uuid != NULL && (port->vm_uuid == NULL || g_ascii_strcasecmp (uuid, port->vm_uuid) != 0))
			continue;
		if (!port_is_stale (conn, port, self->config->instance))
			continue;
		if (!nf_ovs_remove_port (self->ovs, port->name, port->vm_uuid, &error_local)) {
			g_string_append_printf (failed,
						"%s%s",
						failed->len > 0 ? "; " : "",
						error_local->message);
			continue;
		}
		g_message ("removed port %s from %s: its node (domain %s) does not run",
			   port->name,
			   port->bridge,
			   port->vm_uuid);
		removed++;
	}
	return removed;
}

/* A node that does not run may still have ports libvirt left (see
 * nf_engine_remove_stale_ports); they go with it, or are named in
 * @warnings. A running node's go when libvirt stops it. */
static void
remove_ports_left (NfEngine *self, virConnectPtr conn, const gchar *uuid, GPtrArray *warnings)
{
	g_autoptr (GString) failed = g_string_new (NULL);
	g_autoptr (GError) error = NULL;

	remove_stale_ports (self, conn, uuid, failed, &error);
	if (error != NULL)
		add_warning (warnings, "cannot look for ports left on the trunk: %s", error->message);
	if (failed->len > 0)
		add_warning (warnings, "cannot remove ports left on the trunk: %s", failed->str);
}

/* The node's DHCP host entry, when it has one on a network nestfarm made. */
static gboolean
release_address (NfEngine *self, virConnectPtr conn, const NfNodeSpec *spec, GError **error)
{
	g_autofree gchar *mac = nf_node_mac (spec->pool, spec->index, NF_NIC_MANAGEMENT);

	return nf_network_release (conn, spec->mgmt_network, self->config->instance, mac, error);
}

/* A removed node's console log: a file here, a volume of the console pool
 * on a remote host; what cannot go is a warning (it is only a log). */
static void
remove_console_log (NfEngine *self, virConnectPtr conn, const gchar *path, GPtrArray *warnings)
{
	g_autoptr (GError) error = NULL;

	if (path == NULL)
		return;
	if (self->config->remote) {
		g_autofree gchar *console_pool = g_strdup_printf ("%s-console", self->config->storage_pool);

		if (!nf_storage_delete_path (conn, console_pool, path, &error))
			add_warning (warnings, "cannot remove console log %s: %s", path, error->message);
		return;
	}
	if (g_unlink (path) != 0 && errno != ENOENT)
		add_warning (warnings, "cannot remove console log %s: %s", path, g_strerror (errno));
}

/* A leaving node's OVN port, before its domain. Without OvnNorthbound
 * (cleared since the node was made) it cannot be reached: a warning. */
static gboolean
remove_port (NfEngine *self, const NfNodeSpec *spec, GPtrArray *warnings, GError **error)
{
	if (spec->trunk_port == NULL)
		return TRUE;
	if (self->ovn == NULL) {
		add_warning (warnings,
			     "cannot remove OVN port %s of pool %s: the OvnNorthbound setting is empty",
			     spec->trunk_port,
			     spec->pool);
		return TRUE;
	}
	return nf_ovn_remove_port (self->ovn, spec->trunk_port, error);
}

/* What a node leaves on its host besides its domain: overlay, seed,
 * address and console log. */
static gboolean
remove_storage (NfEngine *self,
		virConnectPtr conn,
		const NfNodeSpec *spec,
		const gchar *name,
		GPtrArray *warnings,
		GError **error)
{
	if (spec->overlay != NULL && !delete_overlay (remote_pool (self), conn, spec->overlay, name, error))
		return FALSE;
	if (spec->seed != NULL && !nf_storage_seed_delete (conn, spec->seed, name, error))
		return FALSE;
	if (spec->mgmt_network != NULL && !release_address (self, conn, spec, error))
		return FALSE;
	remove_console_log (self, conn, spec->console_log, warnings);
	return TRUE;
}

/* The first steps of a node's leaving: its domain (ours), what it is, and
 * forced off (a stopped one's ports libvirt left go too). */
static virDomainPtr
take_down (NfEngine *self,
	   const gchar *name,
	   virConnectPtr *conn,
	   NfNodeInfo **info,
	   GPtrArray *warnings,
	   GError **error)
{
	g_autoptr (virDomain) dom = open_own_domain (self, name, conn, error);

	if (dom == NULL)
		return NULL;
	*info = node_info_from_domain (dom, error);
	if (*info == NULL)
		return NULL;
	if (virDomainIsActive (dom) == 0)
		remove_ports_left (self, *conn, (*info)->uuid, warnings);
	if (!stop_domain (dom, name, 0, NULL, NULL, error))
		return NULL;
	return g_steal_pointer (&dom);
}

gboolean
nf_engine_remove_node (NfEngine *self, const gchar *name, GPtrArray *warnings, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) dom = NULL;
	g_autoptr (NfNodeInfo) info = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	dom = take_down (self, name, &conn, &info, warnings, error);
	if (dom == NULL)
		return FALSE;
	nf_fail_point ("remove:after-destroy");
	if (!remove_port (self, info->spec, warnings, error))
		return FALSE;
	if (virDomainUndefineFlags (dom, NF_ENGINE_UNDEFINE_FLAGS) < 0)
		return nf_libvirt_set_error (error, "Cannot undefine %s", name);
	nf_fail_point ("remove:after-undefine");
	return remove_storage (self, conn, info->spec, name, warnings, error);
}

/* Sets (@retired, unix seconds) or clears (0) the retired mark in the
 * stored definition's metadata, which is read back as it is stored (not
 * from the running definition, whose disk paths libvirt may have filled
 * in). */
static gboolean
mark_retired (virDomainPtr dom, const gchar *name, gint64 retired, GError **error)
{
	g_autofree gchar *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
	g_autoptr (NfNodeSpec) spec = NULL;
	g_autofree gchar *metadata = NULL;

	if (xml == NULL)
		return nf_libvirt_set_error (error, "Cannot read the domain of %s", name);
	spec = nf_node_spec_from_domain_xml (xml, error);
	if (spec == NULL)
		return FALSE;
	if ((spec->retired != 0) == (retired != 0))
		return TRUE;
	spec->retired = retired;
	metadata = nf_node_spec_metadata_xml (spec);
	if (virDomainSetMetadata (dom,
				  VIR_DOMAIN_METADATA_ELEMENT,
				  metadata,
				  NF_METADATA_PREFIX,
				  NF_METADATA_NS,
				  VIR_DOMAIN_AFFECT_CONFIG) < 0)
		return nf_libvirt_set_error (error,
					     "Cannot mark %s as %s",
					     name,
					     retired != 0 ? "retired" : "back in its pool");
	return TRUE;
}

gboolean
nf_engine_retire_node (NfEngine *self, const gchar *name, GPtrArray *warnings, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) dom = NULL;
	g_autoptr (NfNodeInfo) info = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	dom = take_down (self, name, &conn, &info, warnings, error);
	if (dom == NULL)
		return FALSE;
	nf_fail_point ("retire:after-destroy");
	return mark_retired (dom, name, g_get_real_time () / G_USEC_PER_SEC, error);
}

NfNodeInfo *
nf_engine_unretire_node (NfEngine *self, const gchar *name, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) dom = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);

	dom = open_own_domain (self, name, &conn, error);
	if (dom == NULL || !mark_retired (dom, name, 0, error))
		return NULL;
	return node_info_from_domain (dom, error);
}

gboolean
nf_engine_reset_node (NfEngine *self,
		      const gchar *name,
		      guint timeout_s,
		      GCancellable *cancellable,
		      GPtrArray *warnings,
		      GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) dom = NULL;
	g_autoptr (NfNodeInfo) info = NULL;
	g_autoptr (NfBaseImage) base = NULL;
	g_autofree gchar *overlay = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	dom = open_own_domain (self, name, &conn, error);
	if (dom == NULL)
		return FALSE;
	info = node_info_from_domain (dom, error);
	if (info == NULL)
		return FALSE;
	if (info->spec->overlay == NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The domain of %s has no overlay disk to reset.",
			     name);
		return FALSE;
	}
	/* Check the base before anything is stopped or deleted. */
	base = check_base_cached (self, conn, info->spec->image, error);
	if (base == NULL || !base_on_host (self, conn, base, error))
		return FALSE;
	if (!stop_domain (dom, name, timeout_s, NULL, cancellable, error))
		return FALSE;
	if (!delete_overlay (remote_pool (self), conn, info->spec->overlay, name, error))
		return FALSE;
	nf_fail_point ("reset:after-delete-overlay");
	overlay = create_overlay (self,
				  conn,
				  name,
				  base,
				  (guint64) info->spec->disk_gib * 1024 * 1024 * 1024,
				  error);
	if (overlay == NULL)
		return FALSE;
	if (g_strcmp0 (overlay, info->spec->overlay) != 0)
		add_warning (warnings,
			     "overlay of %s moved from %s to %s",
			     name,
			     info->spec->overlay,
			     overlay);
	nf_fail_point ("reset:after-overlay");
	if (virDomainCreate (dom) < 0)
		return nf_libvirt_set_error (error, "Cannot start %s after its reset", name);
	return TRUE;
}

/* Whether a domain (of any instance) has @path, the overlay tagged as
 * @owner's, as its disk. */
static gboolean
overlay_in_use (virConnectPtr conn, const gchar *path, const gchar *owner)
{
	g_autoptr (virDomain) dom = virDomainLookupByName (conn, owner);
	g_autofree gchar *xml = NULL;
	g_autofree gchar *disk = NULL;

	if (dom == NULL || !domain_is_ours (dom, NULL, TRUE))
		return FALSE;
	xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
	return xml != NULL && parse_domain_facts (xml, &disk, NULL, NULL) && g_strcmp0 (disk, path) == 0;
}

/* The storage pools seeds may be in: the seeds pool, and the storage pool
 * itself, where earlier builds put them. */
static GStrv
seed_pools (NfEngine *self)
{
	GStrv pools = g_new0 (gchar *, 3);

	pools[0] = nf_storage_seeds_pool_name (self->config->storage_pool);
	pools[1] = g_strdup (self->config->storage_pool);
	return pools;
}

static gboolean
remove_unfinished_seed_in (virConnectPtr conn, const gchar *pool_name, const gchar *name, GError **error)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (conn, pool_name);
	g_autoptr (virStorageVol) vol = NULL;
	g_autofree gchar *volume = nf_storage_seed_name (name);
	g_autofree gchar *owner = NULL;
	g_autofree gchar *tag = nf_storage_seed_owner_tag (name);

	vol = pool != NULL ? virStorageVolLookupByName (pool, volume) : NULL;
	virResetLastError ();
	if (vol == NULL)
		return TRUE;
	owner = nf_storage_seed_read_owner (conn, vol, NULL);
	if (owner != NULL && g_strcmp0 (owner, tag) != 0)
		return TRUE;
	if (virStorageVolDelete (vol, 0) < 0)
		return nf_libvirt_set_error (error, "cannot delete the unfinished seed %s", volume);
	g_message ("removed the seed %s of %s, which a restart interrupted", volume, name);
	return TRUE;
}

gboolean
nf_engine_remove_unfinished_seed (NfEngine *self, const gchar *name, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) dom = NULL;
	g_auto (GStrv) pools = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return FALSE;
	/* A node with a domain has its seed removed with it. */
	if ((dom = virDomainLookupByName (conn, name)) != NULL)
		return TRUE;
	virResetLastError ();
	pools = seed_pools (self);
	for (guint i = 0; pools[i] != NULL; i++) {
		if (!remove_unfinished_seed_in (conn, pools[i], name, error))
			return FALSE;
	}
	return TRUE;
}

guint
nf_engine_remove_stale_ports (NfEngine *self, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (GString) failed = g_string_new (NULL);
	guint removed;

	g_return_val_if_fail (NF_IS_ENGINE (self), 0);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return 0;
	removed = remove_stale_ports (self, conn, NULL, failed, error);
	if (failed->len > 0 && (error == NULL || *error == NULL))
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_OPENVSWITCH,
			     "Cannot remove stale ports (%u others removed): %s",
			     removed,
			     failed->str);
	return removed;
}

/* Whether a domain (of any instance) named @node has @path as its seed. */
static gboolean
seed_in_use (virConnectPtr conn, const gchar *path, const gchar *node)
{
	g_autoptr (virDomain) dom = virDomainLookupByName (conn, node);
	g_autofree gchar *xml = NULL;
	g_autoptr (NfNodeSpec) spec = NULL;

	if (dom == NULL) {
		virResetLastError ();
		return FALSE;
	}
	xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
	spec = xml != NULL ? nf_node_spec_from_domain_xml (xml, NULL) : NULL;
	/* A domain that cannot be read keeps its seed: never guess. */
	return spec == NULL || g_strcmp0 (spec->seed, path) == 0;
}

/* The seeds in the storage pool that name a node no domain has (a crash
 * between the seed and the define); others are never touched. */
static guint
remove_orphan_seeds_in (virConnectPtr conn, const gchar *pool_name, GString *failed)
{
	g_autoptr (virStoragePool) pool = virStoragePoolLookupByName (conn, pool_name);
	virStorageVolPtr *vols = NULL;
	gint n = pool != NULL ? virStoragePoolListAllVolumes (pool, &vols, 0) : -1;
	guint removed = 0;

	for (gint i = 0; i < n; i++) {
		g_autoptr (virStorageVol) vol = vols[i];
		g_autofree gchar *owner = NULL;
		g_autofree gchar *path = NULL;
		const gchar *node;
		g_autoptr (GError) error = NULL;

		if (!g_str_has_suffix (virStorageVolGetName (vol), NF_STORAGE_SEED_SUFFIX) ||
		    (owner = nf_storage_seed_read_owner (conn, vol, NULL)) == NULL ||
		    (path = virStorageVolGetPath (vol)) == NULL)
			continue;
		node = owner + strlen (NF_SEED_OWNER_PREFIX);
		if (seed_in_use (conn, path, node))
			continue;
		if (!nf_storage_seed_delete (conn, path, node, &error)) {
			g_string_append_printf (failed,
						"%s%s: %s",
						failed->len > 0 ? "; " : "",
						path,
						error->message);
			continue;
		}
		g_message ("removed seed %s: no node %s uses it", path, node);
		removed++;
	}
	g_free (vols);
	virResetLastError ();
	return removed;
}

static guint
remove_orphan_seeds (NfEngine *self, virConnectPtr conn, GString *failed)
{
	g_auto (GStrv) pools = seed_pools (self);
	guint removed = 0;

	for (guint i = 0; pools[i] != NULL; i++)
		removed += remove_orphan_seeds_in (conn, pools[i], failed);
	return removed;
}

guint
nf_engine_remove_orphan_overlays (NfEngine *self, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (GDir) dir = NULL;
	g_autoptr (GString) failed = NULL;
	const gchar *entry;
	guint removed = 0;
	guint n_failed = 0;

	g_return_val_if_fail (NF_IS_ENGINE (self), 0);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return 0;
	removed = nf_storage_clear_staging (conn, self->config->storage_pool, error);
	if (error != NULL && *error != NULL)
		return removed;
	dir = g_dir_open (self->config->storage_path, 0, error);
	if (dir == NULL)
		return removed;
	while ((entry = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *path = g_build_filename (self->config->storage_path, entry, NULL);
		g_autofree gchar *owner = NULL;
		g_autoptr (GError) error_local = NULL;

		if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
			continue;
		owner = nf_storage_overlay_owner (path);
		/* Whichever instance's domain uses it, it is in use. */
		if (owner == NULL || overlay_in_use (conn, path, owner))
			continue;
		virResetLastError ();
		if (!nf_storage_delete_overlay (conn, path, owner, &error_local)) {
			/* The sweep goes on; what is left is said at the end. */
			failed = failed != NULL ? g_string_append (failed, "; ") : g_string_new (NULL);
			g_string_append_printf (failed, "%s: %s", path, error_local->message);
			n_failed++;
			continue;
		}
		g_message ("removed overlay %s: no node %s uses it", path, owner);
		removed++;
	}
	if (failed == NULL)
		failed = g_string_new (NULL);
	removed += remove_orphan_seeds (self, conn, failed);
	removed += nf_network_remove_orphan_entries (conn, self->config->instance, failed);
	if (failed->len > 0)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "Cannot remove %u orphan overlays or seeds (%u others removed): %s",
			     n_failed,
			     removed,
			     failed->str);
	return removed;
}

/* --- moving a node (nf-migrate.c drives it) --- */

/* What a move cut short left here: the overlay of a node that has no
 * domain here (make_prepare checked), from a move that crashed after the
 * target was made, or from a move away whose source was not yet cleaned.
 * One operation per pool at a time: nothing else is making this node. */
static gboolean
remove_stale_overlay (NfEngine *self, Make *make, GError **error)
{
	g_autofree gchar *file = g_strconcat (make->name, ".qcow2", NULL);
	g_autofree gchar *path = g_build_filename (self->config->storage_path, file, NULL);

	if (delete_overlay (remote_pool (self), make->conn, path, make->name, error))
		return TRUE;
	g_prefix_error (error, "cannot remove what an interrupted move of %s left: ", make->name);
	return FALSE;
}

NfNodeSpec *
nf_engine_receive_node (NfEngine *self,
			const NfNodeSpec *spec,
			const gchar *host,
			GBytes *seed_iso,
			NfUndo *undo,
			GError **error)
{
	g_auto (Make) make = {0};
	g_autoptr (NfNodeSpec) wanted = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), NULL);
	g_return_val_if_fail (spec != NULL, NULL);

	wanted = nf_node_spec_copy (spec);
	g_clear_pointer (&wanted->overlay, g_free);
	g_clear_pointer (&wanted->console_log, g_free);
	g_clear_pointer (&wanted->seed, g_free);
	g_clear_pointer (&wanted->address, g_free);
	g_free (wanted->host);
	wanted->host = g_strdup (host);
	if (!make_prepare (self, wanted, &make, error) || !remove_stale_overlay (self, &make, error) ||
	    !make_overlay (self, &make, undo, error))
		return NULL;
	if (seed_iso != NULL && !put_seed (self, &make, seed_iso, undo, error))
		return NULL;
	if (!make_address (self, &make, undo, error))
		return NULL;
	return g_steal_pointer (&make.spec);
}

gboolean
nf_engine_release_node (NfEngine *self, const NfNodeSpec *spec, GPtrArray *warnings, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autofree gchar *name = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (self), FALSE);

	conn = nf_connection_ref_conn (self->connection, error);
	if (conn == NULL)
		return FALSE;
	name = nf_node_name_build (spec->pool, spec->index);
	return remove_storage (self, conn, spec, name, warnings, error);
}
