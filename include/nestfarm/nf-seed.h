/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nestfarm/nf-limits.h"

G_BEGIN_DECLS

/* A node's cloud-init NoCloud seed: the checks of what a pool gives for it
 * (ssh user, public keys, user-data), its three documents (meta-data,
 * user-data, network-config) and the ISO 9660 image that carries them, with
 * the owner tag that says whose seed an ISO is. */

typedef struct {
	gchar *node_name;   /* meta-data local-hostname */
	gchar *instance_id; /* meta-data instance-id; a new one makes cloud-init run again */
	gchar *ssh_user;    /* the login user nestfarm makes, passwordless sudo */
	GStrv ssh_keys;     /* OpenSSH public key lines */
	gchar *user_data;   /* the pool's own user-data document, or NULL */
	gchar *mac;         /* the management NIC's MAC: network-config matches it (DHCP v4) */
	gchar *owner;       /* the ISO's application id, e.g. "nestfarm:<instance>:<node>" */
} NfSeedSpec;

/* How many bytes of an ISO nf_seed_iso_owner reads: up to the end of the
 * primary volume descriptor (sector 16 of 2048 bytes). */
#define NF_SEED_OWNER_BYTES (16 * 2048 + 2048)
/* The volume id cloud-init's NoCloud looks for. */
#define NF_SEED_VOLUME_ID "cidata"
/* The owner tag, the ISO's application id: it starts with "nestfarm:", and
 * ISO 9660 writes it in upper case, so it is lower case only and read back
 * lower case. */
#define NF_SEED_OWNER_PREFIX "nestfarm:"
#define NF_SEED_OWNER_MAX    128
#define NF_SEED_OWNER_CHARS  "abcdefghijklmnopqrstuvwxyz0123456789:._-"

NfSeedSpec *nf_seed_spec_new (void);
void nf_seed_spec_free (NfSeedSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfSeedSpec, nf_seed_spec_free)

/* Debian's default NAME_REGEX ^[a-z][-a-z0-9_]*$, at most NF_SSH_USER_MAX
 * characters; not root (cloud images refuse root logins). */
gboolean nf_seed_check_ssh_user (const gchar *user, GError **error);
/* One OpenSSH public key line, "TYPE BASE64 [comment]", whose key data is of
 * TYPE; no options before it, no line break. */
gboolean nf_seed_check_ssh_key (const gchar *line, GError **error);
/* The same for @len bytes that need not end in a NUL (a NUL among them is
 * refused). */
gboolean nf_seed_check_ssh_key_len (const gchar *line, gsize len, GError **error);
/* At most NF_SEED_USER_DATA_MAX bytes of UTF-8 without NUL, of a kind
 * cloud-init takes as a part (#cloud-config, #!, ...). */
gboolean nf_seed_check_user_data (const gchar *text, gsize len, GError **error);
/* Everything nf_seed_build_iso needs, checked: the above, a host name, an
 * instance id, a MAC address and an owner tag. */
gboolean nf_seed_spec_check (const NfSeedSpec *spec, GError **error);

/* JSON, which cloud-init reads as the YAML it asks for. */
gchar *nf_seed_render_meta_data (const NfSeedSpec *spec);
gchar *nf_seed_render_network_config (const NfSeedSpec *spec);
/* nestfarm's #cloud-config alone, or with the pool's user-data a MIME
 * multipart/mixed document of both. */
gchar *nf_seed_render_user_data (const NfSeedSpec *spec, GError **error);

/* The whole ISO image (volume id cidata; meta-data, user-data and
 * network-config at its root; Rock Ridge and Joliet), made in memory. */
GBytes *nf_seed_build_iso (const NfSeedSpec *spec, GError **error);
/* The owner tag of the ISO whose first @len bytes (NF_SEED_OWNER_BYTES are
 * enough) are @data; NULL and an error unless it is a nestfarm seed. */
gchar *nf_seed_iso_owner (const guint8 *data, gsize len, GError **error);

G_END_DECLS
