/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-guest"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nf-guest-private.h"

/* A look inside a node: one guest-exec of a POSIX shell script through the
 * guest agent, and the SSH banner at its address (see nf-guest-private.h). */

/* What the script prints, one word a line, for what it found:
 * seeded: cloud-init finished the boot (it writes boot-finished last);
 * cpu:    the virtual CPU shows vmx or svm;
 * kvm:    /dev/kvm opens for reading and writing (the module is loaded and
 *         the CPU feature usable; a subshell, so that a failed redirection
 *         cannot end the script). */
#define NF_GUEST_SCRIPT                                                  \
	"test -e /var/lib/cloud/instance/boot-finished && echo seeded\n" \
	"grep -qwE 'vmx|svm' /proc/cpuinfo && echo cpu\n"                \
	"(exec 3<>/dev/kvm) 2>/dev/null && echo kvm\n"                   \
	"exit 0\n"

/* How often guest-exec-status is asked while the script runs. */
#define NF_GUEST_EXEC_POLL_US (200 * 1000)

/* The "return" member of the agent's answer to @request. */
static JsonNode *
agent_command (virDomainPtr dom, JsonBuilder *request, GError **error)
{
	g_autoptr (JsonNode) root = json_builder_get_root (request);
	g_autofree gchar *text = json_to_string (root, FALSE);
	g_autoptr (JsonParser) parser = json_parser_new ();
	/* Before the call: any libvirt call clears the last error. */
	g_autofree gchar *name = g_strdup (virDomainGetName (dom));
	char *reply = virDomainQemuAgentCommand (dom, text, NF_GUEST_AGENT_TIMEOUT_S, 0);
	JsonNode *answer;
	JsonObject *object;
	gboolean parsed;

	if (reply == NULL) {
		nf_libvirt_set_error (error, "The guest agent of %s did not answer", name);
		return NULL;
	}
	parsed = json_parser_load_from_data (parser, reply, -1, error);
	free (reply);
	if (!parsed)
		return NULL;
	answer = json_parser_get_root (parser);
	object = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
	if (object == NULL || !json_object_has_member (object, "return")) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The guest agent gave an answer without a result.");
		return NULL;
	}
	return json_node_copy (json_object_get_member (object, "return"));
}

static JsonBuilder *
command_begin (const gchar *name)
{
	JsonBuilder *builder = json_builder_new ();

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "execute");
	json_builder_add_string_value (builder, name);
	json_builder_set_member_name (builder, "arguments");
	json_builder_begin_object (builder);
	return builder;
}

static void
command_end (JsonBuilder *builder)
{
	json_builder_end_object (builder);
	json_builder_end_object (builder);
}

/* Starts the script; its process id in the guest, or -1. */
static gint64
exec_start (virDomainPtr dom, GError **error)
{
	g_autoptr (JsonBuilder) builder = command_begin ("guest-exec");
	g_autoptr (JsonNode) answer = NULL;

	json_builder_set_member_name (builder, "path");
	json_builder_add_string_value (builder, "/bin/sh");
	json_builder_set_member_name (builder, "arg");
	json_builder_begin_array (builder);
	json_builder_add_string_value (builder, "-c");
	json_builder_add_string_value (builder, NF_GUEST_SCRIPT);
	json_builder_end_array (builder);
	json_builder_set_member_name (builder, "capture-output");
	json_builder_add_boolean_value (builder, TRUE);
	command_end (builder);
	answer = agent_command (dom, builder, error);
	if (answer == NULL)
		return -1;
	if (!JSON_NODE_HOLDS_OBJECT (answer) ||
	    !json_object_has_member (json_node_get_object (answer), "pid")) {
		g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "The guest agent started no process.");
		return -1;
	}
	return json_object_get_int_member (json_node_get_object (answer), "pid");
}

/* The script's standard output once it exited, or NULL. */
static gchar *
exec_wait (virDomainPtr dom, gint64 pid, GError **error)
{
	gint64 deadline = g_get_monotonic_time () + NF_GUEST_EXEC_TIMEOUT_S * G_USEC_PER_SEC;

	while (g_get_monotonic_time () < deadline) {
		g_autoptr (JsonBuilder) builder = command_begin ("guest-exec-status");
		g_autoptr (JsonNode) answer = NULL;
		JsonObject *status;
		gsize len = 0;
		g_autofree guchar *out = NULL;

		json_builder_set_member_name (builder, "pid");
		json_builder_add_int_value (builder, pid);
		command_end (builder);
		answer = agent_command (dom, builder, error);
		if (answer == NULL)
			return NULL;
		status = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
		if (status == NULL ||
		    !json_object_get_boolean_member_with_default (status, "exited", FALSE)) {
			g_usleep (NF_GUEST_EXEC_POLL_US);
			continue;
		}
		out = g_base64_decode (json_object_get_string_member_with_default (status, "out-data", ""),
				       &len);
		return g_strndup ((const gchar *) out, len);
	}
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_FAILED,
		     "The check inside the node did not end within %d s.",
		     NF_GUEST_EXEC_TIMEOUT_S);
	return NULL;
}

/* Whether @address answers on port 22 with an SSH identification line. */
static gboolean
ssh_answers (const gchar *address, GError **error)
{
	g_autoptr (GSocketClient) client = g_socket_client_new ();
	g_autoptr (GSocketConnection) connection = NULL;
	gchar banner[64] = {0};
	gssize n;

	g_socket_client_set_timeout (client, NF_GUEST_SSH_TIMEOUT_S);
	/* A node's address is direct: no proxy resolver (and none of the
	 * desktop modules GIO would load for one). */
	g_socket_client_set_enable_proxy (client, FALSE);
	connection = g_socket_client_connect_to_host (client, address, 22, NULL, error);
	if (connection == NULL)
		return FALSE;
	n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
				 banner,
				 sizeof banner - 1,
				 NULL,
				 error);
	if (n < 0)
		return FALSE;
	if (n < 4 || memcmp (banner, "SSH-", 4) != 0) {
		g_set_error (error, NF_ERROR, NF_ERROR_FAILED, "%s:22 answered, but not with SSH.", address);
		return FALSE;
	}
	return TRUE;
}

static gchar *
address_from (virDomainPtr dom, const gchar *mac, guint source)
{
	virDomainInterfacePtr *ifaces = NULL;
	gint n = virDomainInterfaceAddresses (dom, &ifaces, source, 0);
	gchar *address = NULL;

	for (gint i = 0; i < n; i++) {
		for (guint j = 0; address == NULL && ifaces[i]->hwaddr != NULL &&
				  g_ascii_strcasecmp (ifaces[i]->hwaddr, mac) == 0 && j < ifaces[i]->naddrs;
		     j++) {
			if (ifaces[i]->addrs[j].type == VIR_IP_ADDR_TYPE_IPV4)
				address = g_strdup (ifaces[i]->addrs[j].addr);
		}
		virDomainInterfaceFree (ifaces[i]);
	}
	free (ifaces);
	virResetLastError ();
	return address;
}

gchar *
nf_guest_address (virDomainPtr dom, const gchar *mac)
{
	gchar *address;

	g_return_val_if_fail (dom != NULL && mac != NULL, NULL);

	address = address_from (dom, mac, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE);
	if (address == NULL)
		address = address_from (dom, mac, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT);
	return address;
}

static gboolean
has_line (gchar **lines, const gchar *word)
{
	return lines != NULL && g_strv_contains ((const gchar *const *) lines, word);
}

void
nf_guest_probe (virDomainPtr dom, const gchar *address, NfGuestReport *report)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_auto (GStrv) lines = NULL;
	gint64 pid;

	g_return_if_fail (dom != NULL && report != NULL);

	report->nesting = NF_NESTING_UNKNOWN;
	pid = exec_start (dom, &error);
	out = pid >= 0 ? exec_wait (dom, pid, &error) : NULL;
	if (out == NULL) {
		report->detail = g_strdup (error->message);
		return;
	}
	report->agent = TRUE;
	lines = g_strsplit (out, "\n", -1);
	report->seeded = has_line (lines, "seeded");
	/* Before the boot is done the module may not be loaded yet. */
	if (report->seeded)
		report->nesting = has_line (lines, "cpu") && has_line (lines, "kvm") ? NF_NESTING_VERIFIED
										     : NF_NESTING_MISSING;
	if (!report->seeded) {
		report->detail = g_strdup ("cloud-init has not finished booting it");
		return;
	}
	if (address == NULL) {
		report->detail = g_strdup ("its management address is not known");
		return;
	}
	report->ssh = ssh_answers (address, &error);
	if (!report->ssh)
		report->detail = g_strdup_printf ("SSH at %s does not answer: %s", address, error->message);
}
