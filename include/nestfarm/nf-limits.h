/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every limit and shared default of what users may ask for, once: the CLI
 * checks them so a bad value is a usage error naming its argument, the
 * request layer checks D-Bus callers, the config checks nestfarmd.conf and
 * the core checks specs and profiles, all against these. */

/* Names. The pool name's is the interface contract's (an Instance name
 * follows the same rules). */
#define NF_POOL_NAME_MAX    32
#define NF_NODE_INDEX_MAX   9999
#define NF_PROFILE_NAME_MAX 64
/* A bridge is a Linux interface (so are OVS ports): IFNAMSIZ less the NUL,
 * of these characters. */
#define NF_BRIDGE_NAME_MAX   15
#define NF_BRIDGE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
/* libvirt storage pool and network names; volume names (a file's name). */
#define NF_LIBVIRT_NAME_MAX 64
#define NF_VOLUME_NAME_MAX  255
/* A base image: a path (PATH_MAX) or a volume name. */
#define NF_IMAGE_PATH_MAX 4096

/* A pool and its nodes (CreatePool, lab files, profiles). */
#define NF_POOL_COUNT_MAX      1000
#define NF_NODE_VCPUS_MAX      256
#define NF_NODE_MEMORY_MIB_MIN 128
#define NF_NODE_MEMORY_MIB_MAX (4u * 1024 * 1024)
#define NF_NODE_DISK_GIB_MAX   65536

/* A node's cloud-init seed: the ssh-user option (Debian's useradd limit),
 * one public key line (an RSA key of 16384 bits is under 3 KiB), how many
 * keys, and the user-data option. */
#define NF_SSH_USER_MAX       32
#define NF_SSH_KEY_LINE_MAX   (16 * 1024)
#define NF_SSH_KEYS_MAX       64
#define NF_SEED_USER_DATA_MAX (64 * 1024)

/* The graceful wait of a stop or delete (seconds): the ShutdownTimeout
 * setting, the shutdown-timeout option, --timeout. */
#define NF_SHUTDOWN_TIMEOUT_MAX 3600
/* RebalanceInterval: at most a day between passes (seconds). */
#define NF_REBALANCE_INTERVAL_MAX 86400
/* A rebalance's defaults: the most and least used hosts within this many
 * percentage points of memory use, at most this many moves a pass. */
#define NF_REBALANCE_THRESHOLD_DEFAULT 20
#define NF_REBALANCE_MAX_MOVES_DEFAULT 4
#define NF_REBALANCE_MAX_MOVES_MAX     64

/* One ReadConsole answer: the default and the most it gives. */
#define NF_CONSOLE_READ_DEFAULT (64 * 1024)
#define NF_CONSOLE_READ_MAX     (1024 * 1024)

/* A farm host's libvirt URI (AddHost, host add, *.host files). */
#define NF_HOST_URI_MAX 1024

/* Defaults more than one layer falls back on. */
#define NF_DEFAULT_PROFILE     "kvm-compute"
#define NF_DEFAULT_LIBVIRT_URI "qemu:///system"
/* The login user a node's seed makes when the pool names none. */
#define NF_SSH_USER_DEFAULT "lab"
