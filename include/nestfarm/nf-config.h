/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nestfarm/nf-engine.h"

G_BEGIN_DECLS

/* nestfarmd.conf read into NfConfig: the daemon's settings, their built-in
 * defaults, and a strict parser whose refusals name the file, line and key. */

/* `nestfarmd --config FILE` defaults to this (the interface contract). */
#define NF_CONFIG_DEFAULT_PATH "/etc/nestfarm/nestfarmd.conf"
/* The one group of nestfarmd.conf. */
#define NF_CONFIG_GROUP "Daemon"

#define NF_CONFIG_PARALLELISM_MAX      64
#define NF_CONFIG_PARALLELISM_AUTO_MAX 16
#define NF_CONFIG_BOOTS_AT_ONCE_MAX    64

/* nestfarmd's settings, from nestfarmd.conf [Daemon] (see
 * systemd/nestfarmd.conf.in for what each key means). */
/* The management network nestfarm makes when missing, by default. */
#define NF_MGMT_NETWORK_DEFAULT "nestfarm"

typedef struct {
	gchar *path;                /* the file read; NULL: none, built-in defaults */
	gchar *libvirt_uri;         /* LibvirtURI */
	gchar *state_dir;           /* StateDirectory */
	gchar *default_image;       /* DefaultImage: a path or a volume name; NULL: none */
	gchar *default_profile;     /* DefaultProfile */
	gchar *trunk_bridge;        /* TrunkBridge */
	gchar *mgmt_network;        /* ManagementNetwork: a libvirt network; NULL: no management NIC */
	guint parallelism;          /* Parallelism, resolved: never 0 */
	guint boots_at_once;        /* BootsAtOnce, resolved: 0 (the default) is no pacing */
	guint64 memory_reserve_mib; /* MemoryReserveMiB: kept free for the host */
	gdouble overcommit;         /* Overcommit: memory promised per MiB of RAM */
	guint shutdown_timeout_s;   /* ShutdownTimeout */
	guint rebalance_interval_s; /* RebalanceInterval: 0 (the default) is none */
	/* StoragePool, StorageDirectory, ConsoleLogDirectory,
	 * TemplateDirectory, Datapath, Accelerator, MacAgingTime,
	 * MacTableSize, OvsTimeout, OvsDatabase. */
	NfEngineConfig *engine;
} NfConfig;

/* The built-in defaults (what an empty or missing file means). */
NfConfig *nf_config_new_defaults (void);

/* Reads @path. A missing file is the built-in defaults when @missing_ok
 * (the default path), else NF_ERROR_NOT_FOUND (a file the user named).
 * An unreadable file is NF_ERROR_FAILED; a syntax error, an unknown group
 * or key, or a bad value is NF_ERROR_INVALID_ARGUMENT, in one sentence
 * naming the file, line, key, value and what is accepted. */
NfConfig *nf_config_load (const gchar *path, gboolean missing_ok, GError **error);
/* The same for the text of @path already read: @len bytes, with a NUL
 * after them (as g_file_get_contents leaves it). */
NfConfig *nf_config_load_data (const gchar *path, const gchar *text, gsize len, GError **error);

void nf_config_free (NfConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfConfig, nf_config_free)

/* Parallelism=0: twice the CPUs this process may run on, at most 16. */
guint nf_config_auto_parallelism (void);
/* BootsAtOnce=auto: one per CPU this process may run on. */
guint nf_config_auto_boots_at_once (void);

G_END_DECLS
