/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-network"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nf-network-private.h"
#include "nf-xml-private.h"

/* Management networks: made when missing, DHCP host entries per node, the
 * sweep of entries no node has (see nf-network-private.h). */

/* Layout of a network nestfarm makes: 192.168.X.0/24, the host at .1,
 * fixed node addresses from .2 up to the DHCP range, which serves anything
 * else (a second NIC, a nested guest bridged out) from .200 to .254. */
#define NF_NETWORK_GATEWAY     1
#define NF_NETWORK_RANGE_START 200
#define NF_NETWORK_RANGE_END   254

/* One process's makes, reservations and releases, one at a time: two
 * threads must not pick the same subnet or address. */
static GMutex network_lock;

/* An IPv4 subnet and, for nestfarm's reservations, its DHCP range. */
typedef struct {
	guint32 address; /* of the host's side (the <ip address>) */
	guint prefix;
	guint32 range_start; /* 0: no DHCP range */
	guint32 range_end;
	gint index; /* of its <ip> among the network's */
} Subnet;

static gboolean
parse_ipv4 (const gchar *text, guint32 *out)
{
	g_autoptr (GInetAddress) address = text != NULL ? g_inet_address_new_from_string (text) : NULL;
	const guint8 *bytes;

	if (address == NULL || g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV4)
		return FALSE;
	bytes = g_inet_address_to_bytes (address);
	*out = ((guint32) bytes[0] << 24) | ((guint32) bytes[1] << 16) | ((guint32) bytes[2] << 8) | bytes[3];
	return TRUE;
}

static gchar *
format_ipv4 (guint32 value)
{
	return g_strdup_printf ("%u.%u.%u.%u",
				value >> 24,
				(value >> 16) & 0xff,
				(value >> 8) & 0xff,
				value & 0xff);
}

static guint32
prefix_mask (guint prefix)
{
	return prefix == 0 ? 0 : G_MAXUINT32 << (32 - MIN (prefix, 32));
}

/* The IPv4 subnet of an <ip> element; FALSE for IPv6 or one it cannot read. */
static gboolean
subnet_from_ip (xmlXPathContext *ctx, xmlNode *ip, Subnet *subnet)
{
	g_autofree gchar *family = nf_xml_get_prop (ip, "family");
	g_autofree gchar *address = nf_xml_get_prop (ip, "address");
	g_autofree gchar *prefix = nf_xml_get_prop (ip, "prefix");
	g_autofree gchar *netmask = nf_xml_get_prop (ip, "netmask");
	xmlNode *range = nf_xml_find (ctx, ip, "dhcp/range");
	guint64 bits = 0;
	guint32 mask = 0;

	memset (subnet, 0, sizeof *subnet);
	if ((family != NULL && !g_str_equal (family, "ipv4")) || !parse_ipv4 (address, &subnet->address))
		return FALSE;
	if (prefix != NULL) {
		if (!g_ascii_string_to_unsigned (prefix, 10, 0, 32, &bits, NULL))
			return FALSE;
		subnet->prefix = (guint) bits;
	} else if (netmask != NULL && parse_ipv4 (netmask, &mask)) {
		subnet->prefix = 32 - (guint) g_bit_nth_lsf (mask, -1);
		if (mask == 0)
			subnet->prefix = 0;
	} else {
		/* libvirt's default for an address without either. */
		subnet->prefix = 24;
	}
	if (range != NULL) {
		g_autofree gchar *start = nf_xml_get_prop (range, "start");
		g_autofree gchar *end = nf_xml_get_prop (range, "end");

		if (!parse_ipv4 (start, &subnet->range_start) || !parse_ipv4 (end, &subnet->range_end))
			subnet->range_start = subnet->range_end = 0;
	}
	return TRUE;
}

static gboolean
subnets_overlap (guint32 a, guint a_prefix, guint32 b, guint b_prefix)
{
	guint32 mask = prefix_mask (MIN (a_prefix, b_prefix));

	return (a & mask) == (b & mask);
}

typedef struct {
	xmlDoc *doc;
	xmlXPathContext *ctx;
} NetDoc;

static void
net_doc_clear (NetDoc *net)
{
	g_clear_pointer (&net->ctx, xmlXPathFreeContext);
	g_clear_pointer (&net->doc, xmlFreeDoc);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (NetDoc, net_doc_clear)

/* The persistent XML of @net, parsed, with the tag's namespace as "n". */
static gboolean
net_doc_read (virNetworkPtr net, NetDoc *out, GError **error)
{
	g_autofree gchar *xml = virNetworkGetXMLDesc (net, VIR_NETWORK_XML_INACTIVE);

	if (xml == NULL)
		return nf_libvirt_set_error (error, "Cannot read network %s", virNetworkGetName (net));
	out->doc = nf_xml_parse (xml, strlen (xml), "the network's XML", error);
	if (out->doc == NULL)
		return FALSE;
	out->ctx = xmlXPathNewContext (out->doc);
	xmlXPathRegisterNs (out->ctx, (const xmlChar *) "n", (const xmlChar *) NF_NETWORK_NS);
	return TRUE;
}

/* Whether the network's tag names @instance (NULL: the default one). */
static gboolean
net_doc_is_own (NetDoc *net, const gchar *instance)
{
	xmlNode *tag = nf_xml_find (net->ctx, NULL, "/network/metadata/n:network");
	g_autofree gchar *owner = NULL;

	if (tag == NULL)
		return FALSE;
	owner = nf_xml_get_prop (tag, "instance");
	return g_strcmp0 (owner, instance) == 0;
}

/* The first IPv4 <ip> with a DHCP range, or FALSE. */
static gboolean
net_doc_dhcp_subnet (NetDoc *net, Subnet *subnet, xmlNode **ip_out)
{
	g_autoptr (GPtrArray) ips = nf_xml_find_all (net->ctx, NULL, "/network/ip");

	for (guint i = 0; i < ips->len; i++) {
		xmlNode *ip = g_ptr_array_index (ips, i);

		if (subnet_from_ip (net->ctx, ip, subnet) && subnet->range_start != 0) {
			subnet->index = (gint) i;
			*ip_out = ip;
			return TRUE;
		}
	}
	return FALSE;
}

/* --- making the network --- */

/* The IPv4 subnets (Subnet) every libvirt network of @conn uses, running
 * or not, read once. One that cannot be read is left out: libvirtd's own
 * checks still apply when the new network starts. */
static GArray *
used_subnets (virConnectPtr conn, GError **error)
{
	virNetworkPtr *nets = NULL;
	gint n = virConnectListAllNetworks (conn, &nets, 0);
	GArray *used;

	if (n < 0) {
		nf_libvirt_set_error (error, "Cannot list the libvirt networks");
		return NULL;
	}
	used = g_array_new (FALSE, FALSE, sizeof (Subnet));
	for (gint i = 0; i < n; i++) {
		g_auto (NetDoc) net = {0};
		g_autoptr (GPtrArray) ips = NULL;

		if (net_doc_read (nets[i], &net, NULL)) {
			ips = nf_xml_find_all (net.ctx, NULL, "/network/ip");
			for (guint j = 0; j < ips->len; j++) {
				Subnet subnet;

				if (subnet_from_ip (net.ctx, g_ptr_array_index (ips, j), &subnet))
					g_array_append_val (used, subnet);
			}
		}
		virNetworkFree (nets[i]);
	}
	g_free (nets);
	return used;
}

/* Whether one of @used overlaps 192.168.X.0/24 @candidate. */
static gboolean
subnet_taken (GArray *used, guint32 candidate)
{
	for (guint i = 0; i < used->len; i++) {
		const Subnet *subnet = &g_array_index (used, Subnet, i);

		if (subnets_overlap (subnet->address, subnet->prefix, candidate, 24))
			return TRUE;
	}
	return FALSE;
}

static gchar *
network_xml (const gchar *name, gboolean isolated, const gchar *instance, guint32 subnet)
{
	g_autoptr (xmlDoc) doc = xmlNewDoc ((const xmlChar *) "1.0");
	xmlNode *root = xmlNewNode (NULL, (const xmlChar *) "network");
	xmlNode *tag;
	xmlNode *ip;
	xmlNode *range;
	xmlNs *ns;
	g_autofree gchar *gateway = format_ipv4 (subnet | NF_NETWORK_GATEWAY);
	g_autofree gchar *start = format_ipv4 (subnet | NF_NETWORK_RANGE_START);
	g_autofree gchar *end = format_ipv4 (subnet | NF_NETWORK_RANGE_END);

	xmlDocSetRootElement (doc, root);
	nf_xml_set_text (xmlNewChild (root, NULL, (const xmlChar *) "name", NULL), name);
	tag = xmlNewChild (xmlNewChild (root, NULL, (const xmlChar *) "metadata", NULL),
			   NULL,
			   (const xmlChar *) "network",
			   NULL);
	ns = xmlNewNs (tag, (const xmlChar *) NF_NETWORK_NS, (const xmlChar *) "nestfarm");
	xmlSetNs (tag, ns);
	if (instance != NULL)
		nf_xml_set_prop (tag, "instance", instance);
	/* Isolated: no <forward> at all, the guests reach the host alone. */
	if (!isolated)
		nf_xml_set_prop (xmlNewChild (root, NULL, (const xmlChar *) "forward", NULL), "mode", "nat");
	ip = xmlNewChild (root, NULL, (const xmlChar *) "ip", NULL);
	nf_xml_set_prop (ip, "address", gateway);
	nf_xml_set_prop (ip, "prefix", "24");
	range = xmlNewChild (xmlNewChild (ip, NULL, (const xmlChar *) "dhcp", NULL),
			     NULL,
			     (const xmlChar *) "range",
			     NULL);
	nf_xml_set_prop (range, "start", start);
	nf_xml_set_prop (range, "end", end);
	return nf_xml_to_string (doc);
}

/* Whether libvirtd refused to start it because the host routes its subnet
 * already (libvirt checks the host's routes, local or remote: "Network is
 * already in use by interface ..."). */
static gboolean
start_refused_for_route (const GError *error)
{
	return strstr (error->message, "already in use") != NULL;
}

/* @net looked up as NULL: whether libvirt said it does not exist (then
 * without an error), else FALSE with the error. */
static gboolean
lookup_says_missing (const gchar *name, GError **error)
{
	g_autoptr (GError) error_local = NULL;

	nf_libvirt_set_error (&error_local, "Cannot look up network %s", name);
	if (g_error_matches (error_local, NF_ERROR, NF_ERROR_NOT_FOUND))
		return TRUE;
	g_propagate_error (error, g_steal_pointer (&error_local));
	return FALSE;
}

static gboolean
network_make (virConnectPtr conn, const gchar *name, gboolean isolated, const gchar *instance, GError **error)
{
	g_autoptr (GArray) used = used_subnets (conn, error);
	g_autoptr (GString) refused = g_string_new (NULL);
	gboolean made = FALSE;

	if (used == NULL)
		return FALSE;
	for (guint third = NF_NETWORK_THIRD_OCTET_FIRST; third <= NF_NETWORK_THIRD_OCTET_LAST && !made;
	     third++) {
		guint32 candidate = (192u << 24) | (168u << 16) | (third << 8);
		g_autofree gchar *xml = NULL;
		g_autoptr (virNetwork) net = NULL;
		g_autoptr (GError) error_local = NULL;

		if (subnet_taken (used, candidate))
			continue;
		xml = network_xml (name, isolated, instance, candidate);
		net = virNetworkDefineXML (conn, xml);
		if (net == NULL) {
			nf_libvirt_set_error (error, "Cannot define the management network %s", name);
			break;
		}
		if (virNetworkCreate (net) == 0) {
			/* Only a convenience: nf_network_ensure starts it
			 * whenever nestfarm needs it. */
			if (virNetworkSetAutostart (net, 1) < 0) {
				g_autoptr (GError) no_autostart = NULL;

				nf_libvirt_set_error (&no_autostart,
						      "network %s will not start with libvirtd",
						      name);
				g_debug ("%s", no_autostart->message);
			}
			g_message ("made the management network %s on 192.168.%u.0/24 (%s)",
				   name,
				   third,
				   isolated ? "isolated" : "NAT");
			made = TRUE;
			break;
		}
		nf_libvirt_set_error (&error_local, "Cannot start the management network %s", name);
		virNetworkUndefine (net);
		virResetLastError ();
		if (!start_refused_for_route (error_local)) {
			g_propagate_error (error, g_steal_pointer (&error_local));
			break;
		}
		g_string_append_printf (refused, " 192.168.%u.0/24", third);
	}
	if (!made && (error == NULL || *error == NULL))
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INSUFFICIENT_RESOURCES,
			     "Cannot make the management network %s: every subnet from 192.168.%u.0/24 to "
			     "192.168.%u.0/24 is used by another libvirt network or routed by the host%s%s%s; "
			     "set ManagementNetwork to a network you made.",
			     name,
			     NF_NETWORK_THIRD_OCTET_FIRST,
			     NF_NETWORK_THIRD_OCTET_LAST,
			     refused->len > 0 ? " (routed:" : "",
			     refused->str,
			     refused->len > 0 ? ")" : "");
	return made;
}

gboolean
nf_network_ensure (virConnectPtr conn,
		   const gchar *name,
		   gboolean make,
		   gboolean isolated,
		   const gchar *instance,
		   GError **error)
{
	g_autoptr (GMutexLocker) locker = NULL;
	g_autoptr (virNetwork) net = NULL;

	g_return_val_if_fail (conn != NULL, FALSE);
	g_return_val_if_fail (name != NULL, FALSE);

	locker = g_mutex_locker_new (&network_lock);
	net = virNetworkLookupByName (conn, name);
	if (net == NULL) {
		if (!lookup_says_missing (name, error))
			return FALSE;
		if (make)
			return network_make (conn, name, isolated, instance, error);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INVALID_ARGUMENT,
			     "The host has no libvirt network %s; name one of `virsh net-list --all`, or leave "
			     "the network out for the management network nestfarm makes.",
			     name);
		return FALSE;
	}
	if (virNetworkIsActive (net) == 1)
		return TRUE;
	if (virNetworkCreate (net) < 0 && virNetworkIsActive (net) != 1)
		return nf_libvirt_set_error (error, "Cannot start network %s", name);
	virResetLastError ();
	return TRUE;
}

/* --- fixed addresses --- */

static gboolean
same_mac (const gchar *a, const gchar *b)
{
	return a != NULL && b != NULL && g_ascii_strcasecmp (a, b) == 0;
}

static guint
update_flags (virNetworkPtr net)
{
	return VIR_NETWORK_UPDATE_AFFECT_CONFIG |
	       (virNetworkIsActive (net) == 1 ? VIR_NETWORK_UPDATE_AFFECT_LIVE : 0);
}

static void
take_address (GHashTable *taken, const gchar *text)
{
	guint32 value;

	if (parse_ipv4 (text, &value))
		g_hash_table_add (taken, GUINT_TO_POINTER (value));
}

/* The addresses no new node may get: those of @hosts, and those dnsmasq
 * still has leased to another MAC than @mac. A deleted node's lease
 * outlives its host entry (until it expires, an hour by default): dnsmasq
 * will not give that address to another MAC meanwhile, and the new node
 * would boot with an address from the range instead of its own. */
static GHashTable *
taken_addresses (virNetworkPtr net, GPtrArray *hosts, const gchar *mac)
{
	GHashTable *taken = g_hash_table_new (g_direct_hash, g_direct_equal);
	virNetworkDHCPLeasePtr *leases = NULL;
	gint n;

	for (guint i = 0; i < hosts->len; i++) {
		g_autofree gchar *ip = nf_xml_get_prop (g_ptr_array_index (hosts, i), "ip");

		take_address (taken, ip);
	}
	n = virNetworkGetDHCPLeases (net, NULL, &leases, 0);
	/* No leases to read (a driver without them): the host entries. */
	if (n < 0)
		virResetLastError ();
	for (gint i = 0; i < n; i++) {
		if (leases[i]->type == VIR_IP_ADDR_TYPE_IPV4 && !same_mac (leases[i]->mac, mac))
			take_address (taken, leases[i]->ipaddr);
		virNetworkDHCPLeaseFree (leases[i]);
	}
	free (leases);
	return taken;
}

/* The lowest address of @subnet that is not the host's, not in the DHCP
 * range and not @taken; 0 when none is left. */
static guint32
free_address (const Subnet *subnet, GHashTable *taken)
{
	guint32 mask = prefix_mask (subnet->prefix);
	guint32 first = (subnet->address & mask) + 1;
	guint32 last = (subnet->address | ~mask) - 1;

	for (guint32 candidate = first; candidate <= last && candidate != 0; candidate++) {
		if (candidate != subnet->address &&
		    (candidate < subnet->range_start || candidate > subnet->range_end) &&
		    !g_hash_table_contains (taken, GUINT_TO_POINTER (candidate)))
			return candidate;
	}
	return 0;
}

/* Adds the host entry @mac -> @address (@host_name) to <ip> number @index. */
static gboolean
add_entry (virNetworkPtr net,
	   gint index,
	   const gchar *mac,
	   const gchar *host_name,
	   const gchar *address,
	   GError **error)
{
	g_autoptr (xmlDoc) entry_doc = xmlNewDoc ((const xmlChar *) "1.0");
	xmlNode *host = xmlNewNode (NULL, (const xmlChar *) "host");
	g_autofree gchar *entry = NULL;

	xmlDocSetRootElement (entry_doc, host);
	nf_xml_set_prop (host, "mac", mac);
	nf_xml_set_prop (host, "name", host_name);
	nf_xml_set_prop (host, "ip", address);
	entry = nf_xml_to_string (entry_doc);
	if (virNetworkUpdate (net,
			      VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
			      VIR_NETWORK_SECTION_IP_DHCP_HOST,
			      index,
			      entry,
			      update_flags (net)) < 0)
		return nf_libvirt_set_error (error,
					     "Cannot reserve %s for %s on network %s",
					     address,
					     host_name,
					     virNetworkGetName (net));
	return TRUE;
}

/* The DHCP host entries of @net's subnet when the network is @instance's
 * own and has one; else NULL (with @error set only when its XML could not
 * be read). @doc and @subnet are filled for the caller. */
static GPtrArray *
own_dhcp_hosts (virNetworkPtr net, const gchar *instance, NetDoc *doc, Subnet *subnet, GError **error)
{
	xmlNode *ip = NULL;

	if (!net_doc_read (net, doc, error))
		return NULL;
	if (!net_doc_is_own (doc, instance) || !net_doc_dhcp_subnet (doc, subnet, &ip))
		return NULL;
	return nf_xml_find_all (doc->ctx, ip, "dhcp/host");
}

gchar *
nf_network_reserve (virConnectPtr conn,
		    const gchar *network,
		    const gchar *instance,
		    const gchar *mac,
		    const gchar *host_name,
		    GError **error)
{
	g_autoptr (GMutexLocker) locker = NULL;
	g_autoptr (virNetwork) net = NULL;
	g_auto (NetDoc) doc = {0};
	g_autoptr (GPtrArray) hosts = NULL;
	g_autoptr (GHashTable) taken = NULL;
	g_autofree gchar *address = NULL;
	Subnet subnet;
	guint32 chosen;

	g_return_val_if_fail (conn != NULL && network != NULL && mac != NULL && host_name != NULL, NULL);

	locker = g_mutex_locker_new (&network_lock);
	net = virNetworkLookupByName (conn, network);
	if (net == NULL) {
		nf_libvirt_set_error (error, "Cannot reserve an address on network %s", network);
		return NULL;
	}
	hosts = own_dhcp_hosts (net, instance, &doc, &subnet, error);
	if (hosts == NULL)
		return NULL;
	for (guint i = 0; i < hosts->len; i++) {
		g_autofree gchar *host_mac = nf_xml_get_prop (g_ptr_array_index (hosts, i), "mac");

		/* Made before a crash, or by this node's earlier life. */
		if (same_mac (host_mac, mac))
			return nf_xml_get_prop (g_ptr_array_index (hosts, i), "ip");
	}
	taken = taken_addresses (net, hosts, mac);
	chosen = free_address (&subnet, taken);
	if (chosen == 0) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_INSUFFICIENT_RESOURCES,
			     "Network %s has no free address left for %s (%u nodes have one).",
			     network,
			     host_name,
			     hosts->len);
		return NULL;
	}
	address = format_ipv4 (chosen);
	if (!add_entry (net, subnet.index, mac, host_name, address, error))
		return NULL;
	return g_steal_pointer (&address);
}

/* Deletes the host entry @host of <ip> number @index from @net. */
static gboolean
delete_entry (virNetworkPtr net, gint index, xmlNode *host, GError **error)
{
	g_autoptr (xmlDoc) doc = xmlNewDoc ((const xmlChar *) "1.0");
	g_autofree gchar *entry = NULL;

	xmlDocSetRootElement (doc, xmlCopyNode (host, 1));
	entry = nf_xml_to_string (doc);
	if (virNetworkUpdate (net,
			      VIR_NETWORK_UPDATE_COMMAND_DELETE,
			      VIR_NETWORK_SECTION_IP_DHCP_HOST,
			      index,
			      entry,
			      update_flags (net)) < 0)
		return nf_libvirt_set_error (error,
					     "Cannot remove a host entry of network %s",
					     virNetworkGetName (net));
	return TRUE;
}

gboolean
nf_network_release (virConnectPtr conn,
		    const gchar *network,
		    const gchar *instance,
		    const gchar *mac,
		    GError **error)
{
	g_autoptr (GMutexLocker) locker = NULL;
	g_autoptr (virNetwork) net = NULL;
	g_auto (NetDoc) doc = {0};
	g_autoptr (GPtrArray) hosts = NULL;
	GError *read_error = NULL;
	Subnet subnet;

	g_return_val_if_fail (conn != NULL && network != NULL && mac != NULL, FALSE);

	locker = g_mutex_locker_new (&network_lock);
	net = virNetworkLookupByName (conn, network);
	if (net == NULL)
		return lookup_says_missing (network, error);
	hosts = own_dhcp_hosts (net, instance, &doc, &subnet, &read_error);
	if (read_error != NULL) {
		g_propagate_error (error, read_error);
		return FALSE;
	}
	/* Not nestfarm's network, or no DHCP: nothing of ours there. */
	if (hosts == NULL)
		return TRUE;
	for (guint i = 0; i < hosts->len; i++) {
		xmlNode *host = g_ptr_array_index (hosts, i);
		g_autofree gchar *host_mac = nf_xml_get_prop (host, "mac");

		if (same_mac (host_mac, mac) && !delete_entry (net, subnet.index, host, error))
			return FALSE;
	}
	return TRUE;
}

/* Whether a domain named @name exists (an unreadable answer keeps it). */
static gboolean
domain_exists (virConnectPtr conn, const gchar *name)
{
	g_autoptr (virDomain) dom = virDomainLookupByName (conn, name);
	g_autoptr (GError) error = NULL;

	if (dom != NULL)
		return TRUE;
	nf_libvirt_set_error (&error, "Cannot look up %s", name);
	return !g_error_matches (error, NF_ERROR, NF_ERROR_NOT_FOUND);
}

static guint
remove_orphans_of (virConnectPtr conn, virNetworkPtr net, const gchar *instance, GString *failed)
{
	g_auto (NetDoc) doc = {0};
	Subnet subnet;
	g_autoptr (GPtrArray) hosts = own_dhcp_hosts (net, instance, &doc, &subnet, NULL);
	guint removed = 0;

	if (hosts == NULL)
		return 0;
	for (guint i = 0; i < hosts->len; i++) {
		xmlNode *host = g_ptr_array_index (hosts, i);
		g_autofree gchar *name = nf_xml_get_prop (host, "name");
		g_autofree gchar *address = nf_xml_get_prop (host, "ip");
		g_autoptr (GError) error = NULL;

		if (name == NULL || domain_exists (conn, name))
			continue;
		if (!delete_entry (net, subnet.index, host, &error)) {
			g_string_append_printf (failed, "%s%s", failed->len > 0 ? "; " : "", error->message);
			continue;
		}
		g_message ("removed the address %s of %s from network %s: no such node",
			   address != NULL ? address : "?",
			   name,
			   virNetworkGetName (net));
		removed++;
	}
	return removed;
}

guint
nf_network_remove_orphan_entries (virConnectPtr conn, const gchar *instance, GString *failed)
{
	g_autoptr (GMutexLocker) locker = NULL;
	virNetworkPtr *nets = NULL;
	gint n;
	guint removed = 0;

	g_return_val_if_fail (conn != NULL && failed != NULL, 0);

	locker = g_mutex_locker_new (&network_lock);
	n = virConnectListAllNetworks (conn, &nets, 0);
	for (gint i = 0; i < n; i++) {
		removed += remove_orphans_of (conn, nets[i], instance, failed);
		virNetworkFree (nets[i]);
	}
	g_free (nets);
	virResetLastError ();
	return removed;
}
