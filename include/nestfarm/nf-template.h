/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "nestfarm/nf-host.h"
#include "nestfarm/nf-vlan.h"

G_BEGIN_DECLS

/* The XML namespace of nestfarm's <metadata> element (contract). */
#define NF_METADATA_NS	   "http://nestfarm.org/xmlns/node/1"
#define NF_METADATA_PREFIX "nestfarm"

/* Everything that makes one node: the pool's spec plus the node's place. */
typedef struct {
	gchar *pool;
	guint index;
	gchar *profile;
	guint vcpus;       /* 0: the profile's default */
	guint memory_mib;  /* 0: the profile's default */
	guint disk_gib;    /* 0: the profile's default */
	gchar *image;      /* base image as the user gave it (path or volume) */
	gchar *overlay;    /* path of this node's overlay (qcow2) */
	gchar *trunk_bridge;
	gchar *vlans;      /* canonical VLAN list: "all" or "100-199,300" */
	gchar *mgmt_network; /* libvirt network for the management NIC, NULL: none */
	gchar *console_log;  /* serial console log file */
	gint64 created;      /* creation time, unix seconds */
} NfNodeSpec;

NfNodeSpec *nf_node_spec_new (void);
NfNodeSpec *nf_node_spec_copy (const NfNodeSpec *spec);
void nf_node_spec_free (NfNodeSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfNodeSpec, nf_node_spec_free)

/* Stable MACs: the same pool, index and NIC always give the same address
 * (52:54:00 prefix, the rest from a hash). @nic: 0 management, 1 trunk. */
gchar *nf_node_mac (const gchar *pool, guint index, guint nic);

#define NF_TYPE_PROFILE (nf_profile_get_type ())
G_DECLARE_FINAL_TYPE (NfProfile, nf_profile, NF, PROFILE, GObject)

/* A profile is one template file, xml-templates/<name>.xml: a libvirt
 * domain with placeholders that rendering fills through the libxml2 tree
 * API (see xml-templates/README.md for the format). Defaults (vcpus,
 * memory, disk) come from the template's own nestfarm:profile element. */
NfProfile *nf_profile_load (const gchar *template_dir, const gchar *name, GError **error);
const gchar *nf_profile_get_name (NfProfile *self);
guint nf_profile_get_default_vcpus (NfProfile *self);
guint nf_profile_get_default_memory_mib (NfProfile *self);
guint nf_profile_get_default_disk_gib (NfProfile *self);
/* Names of every profile in @template_dir, sorted. */
GStrv nf_profile_list (const gchar *template_dir, GError **error);

/* The domain XML for @spec on a host like @host (accelerator, feature,
 * emulated CPU model). */
gchar *nf_profile_render_domain (NfProfile *self, const NfNodeSpec *spec, const NfHostInfo *host, GError **error);

/* Reads nestfarm's metadata element back out of a domain's XML: NULL with
 * NF_ERROR_NOT_FOUND when the domain is not tagged as nestfarm's. */
NfNodeSpec *nf_node_spec_from_domain_xml (const gchar *domain_xml, GError **error);

G_END_DECLS
