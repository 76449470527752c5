/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nestfarm/nf-host.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-vlan.h"

G_BEGIN_DECLS

/* What a node is made of: NfNodeSpec, recorded in its domain's metadata, and
 * the profiles, domain XML templates that render a spec for this host. */

/* The XML namespace of nestfarm's <metadata> element (contract). */
#define NF_METADATA_NS     "http://nestfarm.org/xmlns/node/1"
#define NF_METADATA_PREFIX "nestfarm"
/* The XML namespace of the profile parts of a template (never rendered). */
#define NF_PROFILE_NS "http://nestfarm.org/xmlns/profile/1"

/* Everything that makes one node: the pool's spec plus the node's place. */
typedef struct {
	gchar *pool;
	guint index;
	gchar *profile;   /* rendering records the profile it renders with */
	guint vcpus;      /* 0: the profile's default */
	guint memory_mib; /* 0: the profile's default */
	guint disk_gib;   /* 0: the profile's default */
	gchar *image;     /* base image as the user gave it (path or volume) */
	gchar *overlay;   /* path of this node's overlay (qcow2) */
	gchar *trunk_bridge;
	/* The OVN logical switch port of its trunk NIC (a UUID, the
	 * interfaceid libvirt gives the OVS port on @trunk_bridge, the host's
	 * integration bridge); NULL: a plain OVS trunk port. */
	gchar *trunk_port;
	gchar *vlans;        /* "all" (also NULL) or a list such as "100-199,300" */
	gchar *mgmt_network; /* libvirt network for the management NIC, NULL: none */
	gchar *console_log;  /* serial console log file */
	gint64 created;      /* creation time, unix seconds; 0: now */
	gchar *instance;     /* the nestfarmd instance that owns it; NULL: the default one */
	/* The cloud-init seed (a profile with a <disk profile:role='seed'>):
	 * its volume's path, NULL when the node has none; the login user, the
	 * public key lines and the pool's own user-data document it carries. */
	gchar *seed;
	gchar *ssh_user;
	GStrv ssh_keys;
	gchar *user_data;
	/* The fixed IPv4 address of the management NIC (a DHCP host entry on
	 * a network nestfarm made), NULL when it has none. */
	gchar *address;
	/* When the node left its pool while a pool snapshot still held it
	 * (unix seconds): its domain is kept, stopped, for a revert to bring
	 * back; 0: a member of its pool. */
	gint64 retired;
	/* The farm host it was made on (its metadata names it; a listing
	 * takes the host whose libvirt lists it); NULL: NF_HOST_LOCAL. */
	gchar *host;
	/* The farm's CPU baseline it is made with (CPUMode=baseline, a <cpu>
	 * description from nf_cpu_baseline); NULL: its host's own CPU
	 * (host-passthrough, or the emulated model). Not in its metadata:
	 * its domain's <cpu> is the record. */
	gchar *cpu;
} NfNodeSpec;

NfNodeSpec *nf_node_spec_new (void);
NfNodeSpec *nf_node_spec_copy (const NfNodeSpec *spec);
void nf_node_spec_free (NfNodeSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfNodeSpec, nf_node_spec_free)

/* Every check rendering makes on @spec's values, without a profile or a
 * host: NF_ERROR_INVALID_ARGUMENT saying which value and why. Pool name,
 * host (NULL or the pool-name rules), index 1..9999, vcpus/memory/disk (0 or in range), image given, overlay
 * and console log absolute paths, trunk bridge a valid interface name
 * (1..15 of [A-Za-z0-9_.-]), trunk port (NULL or a UUID), VLAN list, management network (NULL or a
 * name without '/'), seed an absolute path, ssh user, keys and user-data
 * as nf_seed_check_* accepts them. Strings must be UTF-8 without control
 * characters. */
gboolean nf_node_spec_validate (const NfNodeSpec *spec, GError **error);

/* Does the nestfarm metadata element @metadata, as virDomainGetMetadata
 * gives it for nestfarm's namespace (<node> with its children, the
 * namespace stripped), name @instance as its owner? A domain that names none belongs
 * to the default instance (@instance NULL). Other instances' domains,
 * like foreign ones, are never touched. */
gboolean nf_node_metadata_owned_by (const gchar *metadata, const gchar *instance);

/* Stable MACs: the same pool, index and NIC always give the same address
 * (52:54:00 prefix, the rest from a hash). @nic: NF_NIC_*. */
#define NF_NIC_MANAGEMENT 0
#define NF_NIC_TRUNK      1
gchar *nf_node_mac (const gchar *pool, guint index, guint nic);

/* A profile is one template file, xml-templates/<name>.xml: a libvirt
 * domain with placeholders that rendering fills through the libxml2 tree
 * API (see xml-templates/README.md for the format). Defaults (vcpus,
 * memory, disk) come from the template's own <profile:profile> element. */
#define NF_TYPE_PROFILE (nf_profile_get_type ())
G_DECLARE_FINAL_TYPE (NfProfile, nf_profile, NF, PROFILE, GObject)

/* @template_dir: NULL for the installed templates. A missing profile is
 * NF_ERROR_NOT_FOUND naming the available ones; a template that breaks the
 * format is NF_ERROR_FAILED naming what is wrong. The result is immutable:
 * several threads may render with it at once. */
NfProfile *nf_profile_load (const gchar *template_dir, const gchar *name, GError **error);
const gchar *nf_profile_get_name (NfProfile *self);
/* One line for people, from the template, or NULL. */
const gchar *nf_profile_get_description (NfProfile *self);
guint nf_profile_get_default_vcpus (NfProfile *self);
guint nf_profile_get_default_memory_mib (NfProfile *self);
guint nf_profile_get_default_disk_gib (NfProfile *self);
/* Does a node of this profile get a cloud-init seed (the template has a
 * <disk profile:role='seed'>, a CD-ROM rendering points at it)? */
gboolean nf_profile_takes_seed (NfProfile *self);
/* Sets each of the sizes that is 0 (not asked for) to the profile's default. */
void nf_profile_fill_defaults (NfProfile *self, guint *vcpus, guint *memory_mib, guint *disk_gib);
/* Names of every profile in @template_dir (NULL: installed), sorted; other
 * XML templates in the directory are not profiles and are left out. */
GStrv nf_profile_list (const gchar *template_dir, GError **error);

/* The domain XML for @spec on a host like @host (accelerator, feature,
 * emulated CPU model). @spec is checked with nf_node_spec_validate; its
 * zero values take the profile's defaults, and the metadata records the
 * values actually used. @host->accel is NF_ACCEL_KVM or NF_ACCEL_EMULATED. */
gchar *nf_profile_render_domain (NfProfile *self,
				 const NfNodeSpec *spec,
				 const NfHostInfo *host,
				 GError **error);

/* Reads nestfarm's metadata element back out of a domain's XML: NULL with
 * NF_ERROR_NOT_FOUND when the domain is not tagged as nestfarm's, and
 * NF_ERROR_FAILED naming the field when the element is partial or bad. */
NfNodeSpec *nf_node_spec_from_domain_xml (const gchar *domain_xml, GError **error);
/* nestfarm's metadata element for @spec alone, as virDomainSetMetadata
 * takes it: the element nf_profile_render_domain writes, without its
 * namespace, which libvirt adds. */
gchar *nf_node_spec_metadata_xml (const NfNodeSpec *spec);

G_END_DECLS
