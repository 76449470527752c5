/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-migrate"

#include "config.h"

#include <string.h>

#include <libxml/xpath.h>

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-failpoint.h"
#include "nestfarm/nf-migrate.h"
#include "nestfarm/nf-names.h"
#include "nestfarm/nf-storage.h"
#include "nf-template-private.h"
#include "nf-undo-private.h"
#include "nf-xml-private.h"

/* One node's move between farm hosts: the target made ready through its
 * libvirt (base, overlay, seed, address), then libvirt's peer-to-peer
 * migration with the node's XML rewritten for the target, then the
 * source's leftovers removed. */

/* A seed ISO is a few hundred KiB; anything near this is not one. */
#define NF_MIGRATE_SEED_MAX (64 * 1024 * 1024)

static void
set_all (xmlXPathContext *ctx, const gchar *xpath, const gchar *attribute, const gchar *value)
{
	g_autoptr (GPtrArray) found = nf_xml_find_all (ctx, NULL, xpath);

	for (guint i = 0; i < found->len; i++)
		nf_xml_set_prop (g_ptr_array_index (found, i), attribute, value);
}

/* @there's metadata in place of the domain's own. */
static gboolean
replace_metadata (xmlXPathContext *ctx, const NfNodeSpec *there, GError **error)
{
	xmlNode *metadata = nf_xml_find (ctx, NULL, "/domain/metadata");
	xmlNode *old;

	if (metadata == NULL) {
		g_set_error_literal (error,
				     NF_ERROR,
				     NF_ERROR_INVALID_ARGUMENT,
				     "The node's domain has no <metadata>; it is not a nestfarm node.");
		return FALSE;
	}
	old = nf_xml_find (ctx, metadata, "*[namespace-uri()='" NF_METADATA_NS "']");
	if (old != NULL)
		nf_xml_remove (old);
	nf_node_spec_write_metadata (there, metadata);
	return TRUE;
}

gchar *
nf_migrate_dest_xml (const gchar *xml, const NfNodeSpec *there, GError **error)
{
	g_autoptr (xmlDoc) doc = NULL;
	g_autoptr (xmlXPathContext) ctx = NULL;
	g_autoptr (GPtrArray) chains = NULL;

	g_return_val_if_fail (xml != NULL, NULL);
	g_return_val_if_fail (there != NULL && there->overlay != NULL, NULL);

	doc = nf_xml_parse (xml, strlen (xml), "node's domain XML", error);
	if (doc == NULL)
		return NULL;
	ctx = xmlXPathNewContext (doc);
	set_all (ctx, "/domain/devices/disk[@device='disk']/source", "file", there->overlay);
	if (there->seed != NULL)
		set_all (ctx, "/domain/devices/disk[@device='cdrom']/source", "file", there->seed);
	if (there->console_log != NULL)
		set_all (ctx,
			 "/domain/devices/serial/log | /domain/devices/console/log",
			 "file",
			 there->console_log);
	/* the source's chain names the source's base copy */
	chains = nf_xml_find_all (ctx, NULL, "/domain/devices/disk/backingStore");
	for (guint i = 0; i < chains->len; i++)
		nf_xml_remove (g_ptr_array_index (chains, i));
	if (!replace_metadata (ctx, there, error))
		return NULL;
	return nf_xml_to_string (doc);
}

/* What a move works with. */
typedef struct {
	NfEngine *source;
	NfEngine *target;
	const gchar *name;
	const NfMigrateTarget *to;
	virConnectPtr conn;    /* the source's */
	virDomainPtr dom;      /* on the source */
	NfNodeInfo *info;      /* as the source has it */
	gchar *inactive_xml;   /* its stored definition */
	NfNodeSpec *there;     /* its spec on the target */
	gboolean active;       /* it runs (or is paused) */
	gboolean started_cold; /* started paused here for a cold move */
} Move;

static void
move_clear (Move *move)
{
	g_clear_pointer (&move->dom, virDomainFree);
	g_clear_pointer (&move->conn, virConnectClose);
	g_clear_pointer (&move->info, nf_node_info_free);
	g_clear_pointer (&move->inactive_xml, g_free);
	g_clear_pointer (&move->there, nf_node_spec_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Move, move_clear)

/* The node's <cpu> as its stored definition has it. */
static gchar *
domain_cpu (const gchar *xml, gboolean *passthrough, GError **error)
{
	g_autoptr (xmlDoc) doc = nf_xml_parse (xml, strlen (xml), "node's domain XML", error);
	g_autoptr (xmlDoc) out = NULL;
	g_autoptr (xmlXPathContext) ctx = NULL;
	g_autofree gchar *mode = NULL;
	xmlNode *cpu;

	if (doc == NULL)
		return NULL;
	ctx = xmlXPathNewContext (doc);
	cpu = nf_xml_find (ctx, NULL, "/domain/cpu");
	mode = cpu != NULL ? nf_xml_get_prop (cpu, "mode") : NULL;
	*passthrough = cpu == NULL || g_strcmp0 (mode, "custom") != 0;
	if (*passthrough)
		return g_strdup ("");
	out = xmlNewDoc (BAD_CAST "1.0");
	xmlDocSetRootElement (out, xmlDocCopyNode (cpu, out, 1));
	return nf_xml_to_string (out);
}

/* Refusals that need the target's libvirt: a node with its host's own
 * CPU, a CPU the target cannot run, a name the target has already. */
static gboolean
move_check (Move *move, virConnectPtr target_conn, GError **error)
{
	g_autoptr (NfHostInfo) host = nf_engine_dup_host (move->target);
	g_autoptr (virDomain) clash = NULL;
	g_autofree gchar *cpu = NULL;
	gboolean passthrough = FALSE;

	cpu = domain_cpu (move->inactive_xml, &passthrough, error);
	if (cpu == NULL)
		return FALSE;
	if (passthrough) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Node %s has its host's own CPU (made while CPUMode was passthrough), so it cannot "
			     "move; nodes made with CPUMode=baseline can.",
			     move->name);
		return FALSE;
	}
	if (host == NULL || !nf_cpu_compare (target_conn, host->accel, cpu, error)) {
		if (host == NULL)
			g_set_error (error,
				     NF_ERROR,
				     NF_ERROR_FAILED,
				     "Host %s is not probed yet.",
				     move->to->host);
		else
			g_prefix_error (error, "Node %s cannot move to host %s: ", move->name, move->to->host);
		return FALSE;
	}
	clash = virDomainLookupByName (target_conn, move->name);
	if (clash != NULL) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_EXISTS,
			     "Host %s has a domain named %s already; remove it there first.",
			     move->to->host,
			     move->name);
		return FALSE;
	}
	virResetLastError ();
	return TRUE;
}

static gboolean
move_open (Move *move, GError **error)
{
	g_autoptr (virConnect) target_conn = NULL;

	move->dom = nf_engine_open_domain (move->source, move->name, &move->conn, error);
	if (move->dom == NULL)
		return FALSE;
	move->info = nf_engine_get_node (move->source, move->name, error);
	if (move->info == NULL)
		return FALSE;
	move->inactive_xml = virDomainGetXMLDesc (move->dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	if (move->inactive_xml == NULL)
		return nf_libvirt_set_error (error, "Cannot read the domain of %s", move->name);
	move->active = nf_domain_state_is_active (move->info->state);
	if (move->active && !move->to->live) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "Node %s is running and a live move was not asked for; stop it first, or move it live.",
			     move->name);
		return FALSE;
	}
	target_conn = nf_connection_ref_conn (nf_engine_get_connection (move->target), error);
	return target_conn != NULL && move_check (move, target_conn, error);
}

/* The seed's bytes, read from the source through libvirt; NULL without
 * one (and no error). */
static GBytes *
read_seed (Move *move, GError **error)
{
	guint64 size = 0;
	g_autoptr (GBytes) bytes = NULL;

	if (move->info->spec->seed == NULL)
		return NULL;
	bytes = nf_storage_read_path (move->conn,
				      move->info->spec->seed,
				      0,
				      NF_MIGRATE_SEED_MAX,
				      &size,
				      error);
	if (bytes == NULL)
		return NULL;
	if (size == 0 || size > NF_MIGRATE_SEED_MAX) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The seed %s of node %s could not be read (%" G_GUINT64_FORMAT " bytes).",
			     move->info->spec->seed,
			     move->name,
			     size);
		return NULL;
	}
	return g_steal_pointer (&bytes);
}

/* The name of the node's overlay disk (its target dev): the one disk
 * libvirt copies. */
static gchar *
overlay_dev (const gchar *xml)
{
	g_autoptr (xmlDoc) doc = nf_xml_parse (xml, strlen (xml), "node's domain XML", NULL);
	g_autoptr (xmlXPathContext) ctx = NULL;
	xmlNode *target;

	if (doc == NULL)
		return NULL;
	ctx = xmlXPathNewContext (doc);
	target = nf_xml_find (ctx, NULL, "/domain/devices/disk[@device='disk']/target");
	return target != NULL ? nf_xml_get_prop (target, "dev") : NULL;
}

/* libvirt's peer-to-peer migration to the target, with the node's
 * running and stored definitions rewritten for it. */
static gboolean
move_domain (Move *move, GError **error)
{
	g_autofree gchar *live_xml = NULL;
	g_autofree gchar *dest = NULL;
	g_autofree gchar *persist = NULL;
	g_autofree gchar *dev = overlay_dev (move->inactive_xml);
	virTypedParameterPtr params = NULL;
	gint nparams = 0;
	gint maxparams = 0;
	guint flags = VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE |
		      VIR_MIGRATE_NON_SHARED_INC;
	gint status;

	live_xml = virDomainGetXMLDesc (move->dom, VIR_DOMAIN_XML_MIGRATABLE | VIR_DOMAIN_XML_SECURE);
	if (live_xml == NULL)
		return nf_libvirt_set_error (error, "Cannot read the running domain of %s", move->name);
	dest = nf_migrate_dest_xml (live_xml, move->there, error);
	persist = dest != NULL ? nf_migrate_dest_xml (move->inactive_xml, move->there, error) : NULL;
	if (persist == NULL)
		return FALSE;
	if (move->active)
		flags |= VIR_MIGRATE_LIVE;
	if (virTypedParamsAddString (&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_DEST_XML, dest) < 0 ||
	    virTypedParamsAddString (&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_PERSIST_XML, persist) <
		    0 ||
	    (move->to->data_uri != NULL && virTypedParamsAddString (&params,
								    &nparams,
								    &maxparams,
								    VIR_MIGRATE_PARAM_URI,
								    move->to->data_uri) < 0) ||
	    (dev != NULL &&
	     virTypedParamsAddString (&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_MIGRATE_DISKS, dev) <
		     0)) {
		virTypedParamsFree (params, nparams);
		return nf_libvirt_set_error (error, "Cannot describe the move of %s", move->name);
	}
	nf_fail_point ("migrate:before-migrate");
	status = virDomainMigrateToURI3 (move->dom, move->to->peer_uri, params, nparams, flags);
	virTypedParamsFree (params, nparams);
	if (status < 0)
		return nf_libvirt_set_error (error,
					     "libvirt could not move %s to host %s",
					     move->name,
					     move->to->host);
	nf_fail_point ("migrate:after-migrate");
	return TRUE;
}

/* A stopped node moves as a paused one that never ran: libvirt copies
 * the disks of running domains only. */
static gboolean
start_cold (Move *move, GError **error)
{
	if (move->active)
		return TRUE;
	if (virDomainCreateWithFlags (move->dom, VIR_DOMAIN_START_PAUSED) < 0)
		return nf_libvirt_set_error (error, "Cannot start %s paused for its move", move->name);
	move->started_cold = TRUE;
	return TRUE;
}

/* The cold move's paused domain off again, on whichever host has it. */
static gboolean
stop_cold (Move *move, gboolean moved, GError **error)
{
	g_autoptr (virConnect) conn = NULL;
	g_autoptr (virDomain) dom = NULL;

	if (!move->started_cold)
		return TRUE;
	if (!moved) {
		if (virDomainDestroy (move->dom) < 0 && virDomainIsActive (move->dom) != 0)
			return nf_libvirt_set_error (error, "Cannot stop %s again", move->name);
		virResetLastError ();
		return TRUE;
	}
	dom = nf_engine_open_domain (move->target, move->name, &conn, error);
	if (dom == NULL)
		return FALSE;
	if (virDomainDestroy (dom) < 0 && virDomainIsActive (dom) != 0)
		return nf_libvirt_set_error (error, "Cannot stop %s on host %s", move->name, move->to->host);
	virResetLastError ();
	return TRUE;
}

static gboolean
move_steps (Move *move, NfUndo *undo, GError **error)
{
	g_autoptr (GBytes) seed = NULL;
	g_autoptr (GError) seed_error = NULL;

	seed = read_seed (move, &seed_error);
	if (seed_error != NULL) {
		g_propagate_error (error, g_steal_pointer (&seed_error));
		return FALSE;
	}
	move->there =
		nf_engine_receive_node (move->target, move->info->spec, move->to->host, seed, undo, error);
	if (move->there == NULL)
		return FALSE;
	nf_fail_point ("migrate:after-receive");
	if (!start_cold (move, error))
		return FALSE;
	if (!move_domain (move, error)) {
		g_autoptr (GError) stop_error = NULL;

		if (!stop_cold (move, FALSE, &stop_error))
			g_prefix_error (error, "%s; ", stop_error->message);
		return FALSE;
	}
	return stop_cold (move, TRUE, error);
}

NfNodeInfo *
nf_migrate_node (NfEngine *source,
		 NfEngine *target,
		 const gchar *name,
		 const NfMigrateTarget *to,
		 GPtrArray *warnings,
		 GError **error)
{
	g_auto (Move) move = {0};
	g_autoptr (NfUndo) undo = nf_undo_new ();
	g_autoptr (GError) release_error = NULL;

	g_return_val_if_fail (NF_IS_ENGINE (source) && NF_IS_ENGINE (target), NULL);
	g_return_val_if_fail (name != NULL && to != NULL && to->host != NULL && to->peer_uri != NULL, NULL);

	move.source = source;
	move.target = target;
	move.name = name;
	move.to = to;
	if (!move_open (&move, error))
		return NULL;
	if (!move_steps (&move, undo, error)) {
		nf_undo_unwind (undo, error);
		return NULL;
	}
	g_clear_pointer (&undo, nf_undo_free);
	/* It runs there now: what it left here is only storage. */
	if (!nf_engine_release_node (source, move.info->spec, warnings, &release_error))
		g_ptr_array_add (warnings,
				 g_strdup_printf ("node %s moved, but what it left on its old host stays: %s",
						  name,
						  release_error->message));
	return nf_engine_get_node (target, name, error);
}
