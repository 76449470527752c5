/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nf-cli.h"

G_BEGIN_DECLS

/* nestfarmctl lab: *.pool lab files read into NfLabPool (nf-cli-lab-file.c),
 * and what the lab verbs share to compare them with the pools as they are. */

/* One pool of a lab file: [Pool] in NAME.pool. Unset keys are NULL or 0:
 * nestfarmd's defaults apply. */
typedef struct {
	gchar *file;
	guint line; /* of the [Pool] group */
	gchar *name;
	guint count;
	gchar *profile;
	gchar *image;
	guint vcpus;
	guint memory_mib;
	guint disk_gib;
	gchar *trunk_bridge;
	gchar *vlans; /* normalized */
	gboolean start;
	gboolean start_set;
	/* For the nodes' seeds and network, used when the pool is made: key
	 * and user-data files, a relative name in the file made one beside
	 * the lab file; NULL: the defaults, as `pool create`'s. */
	gchar **ssh_key_files;
	gchar *ssh_user;
	gchar *user_data_file;
	gchar *network;
	gboolean wait_ready; /* WaitReady: apply waits until its nodes are Ready */
	gchar **hosts;       /* Hosts: where its nodes may go; NULL: any host */
} NfLabPool;

void nf_lab_pool_free (NfLabPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfLabPool, nf_lab_pool_free)

/* One host of a lab: [Host] in NAME.host, beside the pool files. */
typedef struct {
	gchar *file;
	guint line; /* of the [Host] group */
	gchar *name;
	gchar *uri;
	gchar *peer_uri; /* PeerURI: as the other hosts reach it; NULL: URI */
} NfLabHost;

void nf_lab_host_free (NfLabHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfLabHost, nf_lab_host_free)

/* The *.host files of a directory in name order (or @path itself when it
 * is one), strictly as the pool files are read; none is an empty array.
 * The same host named (or URI given) twice is refused. */
GPtrArray *nf_cli_lab_file_load_hosts (const gchar *path, GError **error);
/* One host file's text, as nf_cli_lab_file_parse reads a pool file's. */
NfLabHost *nf_cli_lab_file_parse_host (const gchar *file, const gchar *text, gsize length, GError **error);

/* Reads a *.pool file, or every *.pool file of a directory in name order
 * (none, when it has *.host files only; a *.host file: none).
 * Strict: any unknown group or key, bad value or missing Name/Count fails
 * the whole load; the message has one "FILE:LINE: what" line per
 * problem. */
GPtrArray *nf_cli_lab_file_load (const gchar *path, GError **error);
/* One lab file's text, as nf_cli_lab_file_load reads each file: @length bytes
 * with a NUL after them; @file names it in the complaints. */
NfLabPool *nf_cli_lab_file_parse (const gchar *file, const gchar *text, gsize length, GError **error);

/* nf-cli-lab.c: nf_cli_lab_file_load for a verb, each problem on its own line,
 * then connected to the daemon; NULL with *exit_code set when a file is
 * refused or the daemon cannot be reached. */
GPtrArray *nf_cli_lab_load (NfCli *cli, const gchar *path, NfExit *exit_code);
/* What differs between @lab and @pool besides Count, one phrase each. */
GPtrArray *nf_cli_lab_differences (const NfLabPool *lab, NfDBusPool *pool);
/* How many of @pool's nodes lab apply starts: its file says Start=true
 * (the default) and the pool is stopped, or idle with some nodes stopped
 * (as after `lab stop` and a reboot). 0: its run state matches. */
guint nf_cli_lab_nodes_to_start (NfCli *cli, const NfLabPool *lab, NfDBusPool *pool);

G_END_DECLS
