/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-host.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-states.h"
#include "nestfarm/nf-template.h"

G_BEGIN_DECLS

/* The engine: makes, starts, stops, resets and removes nodes on this host
 * through libvirt, storage and OVS, and lists the nodes libvirt has. */

/* What the engine needs to know about this host's set-up (the daemon reads
 * it from nestfarmd.conf; tests build it directly). */
typedef struct {
	gchar *storage_pool; /* libvirt storage pool name, "nestfarm" */
	gchar *storage_path; /* its directory, /var/lib/nestfarm/images */
	gchar *console_dir;  /* serial console logs, /var/log/nestfarm/console */
	gchar *template_dir; /* profiles */
	gchar *datapath;     /* OVS datapath type: "system" or "netdev" */
	gchar *ovs_db;       /* OVSDB socket, NULL: default */
	guint ovs_timeout_ms;
	guint mac_aging_seconds;
	guint mac_table_size;
	NfAccel accel;   /* NF_ACCEL_AUTO: decided by the probe */
	gchar *instance; /* Instance: whose domains these are; NULL: the default */
	/* ManagementNetwork: the libvirt network made when missing (NULL:
	 * none), isolated (no forward) or NAT (ManagementNetworkMode). */
	gchar *mgmt_network;
	gboolean mgmt_isolated;
	/* A farm host other than this machine's: reached only through its
	 * libvirt (the probe asks libvirt alone, directories are made as
	 * storage pools, its OVS is not this machine's). */
	gboolean remote;
	/* OvnNorthbound: OVN's northbound database (an OVSDB remote), where
	 * the trunks of OVN pools are; NULL: none. */
	gchar *ovn_northbound;
	/* CPUMode: passthrough (nodes pinned to their host) or baseline. */
	NfCpuMode cpu_mode;
} NfEngineConfig;

NfEngineConfig *nf_engine_config_new (void);
NfEngineConfig *nf_engine_config_copy (const NfEngineConfig *config);
void nf_engine_config_free (NfEngineConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfEngineConfig, nf_engine_config_free)

/* A node's domain as libvirt has it (the model's NfNodeState adds what
 * nestfarm is doing to it: creating, deleting, failed). */
typedef enum {
	NF_DOMAIN_STATE_RUNNING,
	NF_DOMAIN_STATE_STOPPED,
	NF_DOMAIN_STATE_PAUSED,
	NF_DOMAIN_STATE_CRASHED,
	NF_DOMAIN_STATE_OTHER,
} NfDomainState;

typedef struct {
	NfNodeSpec *spec; /* from the domain's metadata, overlay from its disk */
	gchar *name;
	gchar *uuid;
	NfDomainState state;
	gchar **macs; /* in NIC order */
} NfNodeInfo;

void nf_node_info_free (NfNodeInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfNodeInfo, nf_node_info_free)

/* What a look inside a node found (nf_engine_probe_guest). Ready is
 * running, seeded and ssh together. */
typedef struct {
	gboolean running;  /* its domain runs */
	gboolean agent;    /* its guest agent ran the check */
	gboolean seeded;   /* cloud-init finished booting it from its seed */
	gboolean ssh;      /* its management address answered with SSH */
	NfNesting nesting; /* UNKNOWN unless the agent answered after the boot */
	gchar *address;    /* the management address probed: the fixed one, else
			    * the network's lease or the agent's; NULL: none */
	gchar *detail;     /* what is missing for ready, NULL when ready */
} NfGuestReport;

void nf_guest_report_free (NfGuestReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfGuestReport, nf_guest_report_free)
NfDomainState nf_domain_state_from_libvirt (gint state);
/* Running or paused: its QEMU process is there and holds its memory. */
gboolean nf_domain_state_is_active (NfDomainState state);

/* Steps of making and removing a node, for progress reports and for the
 * fail points the reliability tests inject. */
typedef enum {
	NF_STEP_OVERLAY,
	NF_STEP_DEFINE,
	NF_STEP_START,
	NF_STEP_STOP,
	NF_STEP_UNDEFINE,
	NF_STEP_DELETE_OVERLAY,
} NfStep;

/* How a node's domain is undefined (and the tests' leftovers): with its
 * NVRAM, a managed save, and the metadata of its snapshots (a user's,
 * taken with virsh): internal snapshots live in the overlay, which goes
 * with the node, and libvirt refuses to undefine a domain whose snapshots
 * it still lists. */
#define NF_ENGINE_UNDEFINE_FLAGS                                        \
	(VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | \
	 VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)

#define NF_TYPE_ENGINE (nf_engine_get_type ())
G_DECLARE_FINAL_TYPE (NfEngine, nf_engine, NF, ENGINE, GObject)

/* Every call below blocks on libvirt, qemu-img or OVS: worker threads only.
 * They are safe to call from several threads at once. */
NfEngine *nf_engine_new (NfConnection *connection, const NfEngineConfig *config);
/* Bytes of a node's console log at @path from @offset, at most @max, and
 * the log's length now (*@size): read here, or through a remote host's
 * libvirt (a download from the volume of its console pool). A log not
 * there yet is empty. */
GBytes *nf_engine_read_console (NfEngine *self,
				const gchar *path,
				guint64 offset,
				guint max,
				guint64 *size,
				GError **error);
/* Probes the host (accelerator, CPU feature) and makes the storage pool. */
gboolean nf_engine_prepare (NfEngine *self, GError **error);
/* A copy of the probe's result (NULL before nf_engine_prepare), taken
 * under the engine's lock: a thread keeps its own. */
NfHostInfo *nf_engine_dup_host (NfEngine *self);
/* Re-probes (after a libvirt reconnect, or for `host check`). */
NfHostInfo *nf_engine_probe_host (NfEngine *self, GError **error);
NfConnection *nf_engine_get_connection (NfEngine *self);
const NfEngineConfig *nf_engine_get_config (NfEngine *self);

/* The profile @name, loaded once and kept. */
NfProfile *nf_engine_get_profile (NfEngine *self, const gchar *name, GError **error);
/* Fills the defaults of @spec from its profile and the config (overlay and
 * console log paths), and checks every field: NF_ERROR_INVALID_ARGUMENT. */
gboolean nf_engine_complete_spec (NfEngine *self, NfNodeSpec *spec, GError **error);
/* Checks @image (a path or a volume name) as nodes would use it for a
 * base, the way nf_engine_make_node does: NF_ERROR_NOT_FOUND,
 * NF_ERROR_INVALID_ARGUMENT. The result is kept until the file changes. */
gboolean nf_engine_check_base (NfEngine *self, const gchar *image, GError **error);
/* Makes sure the libvirt network @name runs: the ManagementNetwork one is
 * made when missing (nestfarm's, tagged); any other must exist, else
 * NF_ERROR_INVALID_ARGUMENT. */
gboolean nf_engine_ensure_network (NfEngine *self, const gchar *name, GError **error);
/* Makes the trunk of @spec's pool ready (idempotent): its trunk bridge on
 * this machine's OVS (a remote host's bridge is that host's to have), or,
 * when @spec has a trunk port, the pool's OVN logical switch with the ACLs
 * of its VLAN list (no OvnNorthbound then: NF_ERROR_INVALID_ARGUMENT). */
gboolean nf_engine_prepare_trunk (NfEngine *self, const NfNodeSpec *spec, GError **error);
/* The OVN logical switch of @pool goes (nothing without OvnNorthbound):
 * after its last node, or for a pool that is no more. */
gboolean nf_engine_remove_trunk (NfEngine *self, const gchar *pool, GError **error);
/* The OVN switches of this instance whose pool is not in @pools: what a
 * crash between a pool's end and its switch's left. Returns how many it
 * removed; 0 without OvnNorthbound. */
guint nf_engine_remove_orphan_trunks (NfEngine *self, const gchar *const *pools, GError **error);

/* overlay -> define -> OVN port (when its spec has a trunk port) -> start
 * (when @start). Every failed step undoes the
 * ones before it (an undo stack); what the rollback could not undo is added
 * to the error's message ("...; rollback: ..."). A name already taken is
 * NF_ERROR_EXISTS. */
NfNodeInfo *nf_engine_make_node (NfEngine *self,
				 const NfNodeSpec *spec,
				 gboolean start,
				 GCancellable *cancellable,
				 GError **error);
gboolean nf_engine_start_node (NfEngine *self, const gchar *name, GError **error);
/* ACPI power button, wait up to @timeout_s for the guest to power off,
 * then destroy it (@forced says whether that was needed). @timeout_s 0
 * destroys at once. A stopped node is already done. */
gboolean nf_engine_stop_node (NfEngine *self,
			      const gchar *name,
			      guint timeout_s,
			      gboolean *forced,
			      GCancellable *cancellable,
			      GError **error);
/* Warnings: the calls that take @warnings (a GPtrArray of gchar *, or
 * NULL to drop them) can succeed with something the caller should know of
 * and log; they add one line each to it rather than log it themselves. */

/* Destroys (if running), takes its OVN port away (before the domain,
 * so that no port outlives its node), undefines and deletes the overlay
 * and console log (one it cannot delete: a warning). The OVS port goes
 * with the domain. For a node's name: no such
 * domain is NF_ERROR_NOT_FOUND; a domain of that name this nestfarm did not
 * make (untagged, or another instance's) is NF_ERROR_EXISTS, and is left
 * alone; the same holds for the other calls that take a node's name. */
gboolean nf_engine_remove_node (NfEngine *self, const gchar *name, GPtrArray *warnings, GError **error);
/* A node that leaves its pool while a pool snapshot still holds it: forced
 * off and kept, overlay (with its snapshots) and seed included, marked
 * retired in its metadata (NfNodeSpec.retired), for a revert to bring back
 * (a revert puts the snapshot's definition back, unmarked) or a removal
 * once no snapshot holds it. Retiring a retired node does nothing. */
gboolean nf_engine_retire_node (NfEngine *self, const gchar *name, GPtrArray *warnings, GError **error);
/* A retired node back in its pool (the mark cleared), before a revert
 * puts it back as the snapshot has it; returns what it is now. */
NfNodeInfo *nf_engine_unretire_node (NfEngine *self, const gchar *name, GError **error);
/* stop, recreate the overlay empty over the base, start (an overlay made
 * at another path than the old one: a warning). */
gboolean nf_engine_reset_node (NfEngine *self,
			       const gchar *name,
			       guint timeout_s,
			       GCancellable *cancellable,
			       GPtrArray *warnings,
			       GError **error);
NfNodeInfo *nf_engine_get_node (NfEngine *self, const gchar *name, GError **error);
/* The free bytes of the storage pool the overlays are in, as libvirt
 * counts them (after a refresh of that pool). */
gboolean nf_engine_storage_available (NfEngine *self, guint64 *bytes, GError **error);
/* Node @name's domain (refused as nf_engine_get_node does), and, when
 * @conn_out is given, a reference on the live connection it came from:
 * for the calls of other core files on one node (nf-snapshot.c). */
virDomainPtr nf_engine_open_domain (NfEngine *self,
				    const gchar *name,
				    virConnectPtr *conn_out,
				    GError **error);
/* The CPU time node @name's domain has used so far (ns, all its vCPUs and
 * QEMU's own threads) and its vCPU count: how busy its boot still is. */
gboolean nf_engine_get_cpu_time (NfEngine *self,
				 const gchar *name,
				 guint64 *cpu_ns,
				 guint *vcpus,
				 GError **error);
/* Looks inside node @name through its guest agent (cloud-init done, vmx or
 * svm, a working /dev/kvm) and at its management address's SSH port (its
 * fixed address; on a network nestfarm did not make, what the network's
 * leases or the guest agent say). NULL with an error only when the node
 * cannot be found; a node that does not answer is a report saying why. */
NfGuestReport *nf_engine_probe_guest (NfEngine *self, const gchar *name, GError **error);
/* Every domain tagged as nestfarm's, of NfNodeInfo, sorted by name. One
 * that cannot be read is left out, with a warning. */
GPtrArray *nf_engine_list_nodes (NfEngine *self, GPtrArray *warnings, GError **error);
/* Deletes overlays in the storage directory that carry nestfarm's tag but
 * that no node of that name uses (a crash between making the overlay and
 * defining the domain). Files without the tag are never touched. Returns
 * how many it deleted; one it cannot delete does not stop the sweep, and
 * those are named in @error at the end. */
guint nf_engine_remove_orphan_overlays (NfEngine *self, GError **error);
/* Takes off their bridges the ports libvirt left for this instance's nodes
 * that do not run: QEMU went away without libvirt seeing it (the host lost
 * power, libvirtd was killed during a start), so the ports stayed, with no
 * device behind them. A port of a running node, of another instance's or
 * of a domain that is not nestfarm's is never touched. Returns how many it
 * removed; one it cannot remove does not stop the sweep, and those are
 * named in @error at the end, as is Open vSwitch not answering. */
guint nf_engine_remove_stale_ports (NfEngine *self, GError **error);
/* For a node an interrupted create or scale named, that has no domain:
 * removes its seed volume, even one whose upload the crash cut short (no
 * tag yet: the intent is what says it was this instance's to make). A
 * volume tagged for another node is left alone. */
gboolean nf_engine_remove_unfinished_seed (NfEngine *self, const gchar *name, GError **error);

/* Moving a node between hosts (nf-migrate.h drives these). The target
 * half: on this host, @spec's node gets its base, an empty overlay over it
 * (of the same size), its seed volume from @seed_iso (NULL: none) and its
 * management address; what is made is undone by @undo (an NfUndo of
 * nf-undo-private.h) when the move fails. A domain of the node's name here
 * is NF_ERROR_EXISTS; an overlay and seed of it without one (an earlier
 * move cut short) are replaced. Returns the node's spec here (@host, and its
 * overlay, seed and console log paths here). */
struct _NfUndo;
NfNodeSpec *nf_engine_receive_node (NfEngine *self,
				    const NfNodeSpec *spec,
				    const gchar *host,
				    GBytes *seed_iso,
				    struct _NfUndo *undo,
				    GError **error);
/* The source half once the node runs elsewhere: its overlay, seed,
 * address and console log here go (its domain is gone already). */
gboolean nf_engine_release_node (NfEngine *self, const NfNodeSpec *spec, GPtrArray *warnings, GError **error);

G_END_DECLS
