/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-xml"

#include "config.h"

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "nestfarm/nf-error.h"
#include "nf-xml-private.h"

/* The core's libxml2 helpers: parsing bounded in size, without network or
 * entities; XPath lookups; text and attributes always escaped. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlParserCtxt, xmlFreeParserCtxt)

/* Generous for a domain, small enough that a hostile string cannot make us
 * hold gigabytes in a tree. */
#define NF_XML_MAX_BYTES (16 * 1024 * 1024)

xmlDoc *
nf_xml_parse (const gchar *text, gsize len, const gchar *what, GError **error)
{
	g_autoptr (xmlParserCtxt) ctxt = NULL;
	xmlDoc *doc;

	g_return_val_if_fail (text != NULL, NULL);

	if (len > NF_XML_MAX_BYTES) {
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The %s is too large to be XML nestfarm reads.",
			     what);
		return NULL;
	}
	ctxt = xmlNewParserCtxt ();
	if (ctxt == NULL)
		g_error ("out of memory");
	/* No DTD loading, no entity substitution, no network: what is read is
	 * exactly what is in the text. */
	doc = xmlCtxtReadMemory (ctxt,
				 text,
				 (int) len,
				 NULL,
				 "UTF-8",
				 XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
					 XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL || !ctxt->wellFormed) {
		g_autofree gchar *message = g_strdup (ctxt->lastError.message);

		if (doc != NULL)
			xmlFreeDoc (doc);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The %s is not well-formed (line %d: %s).",
			     what,
			     ctxt->lastError.line,
			     message != NULL ? g_strstrip (message) : "unknown error");
		return NULL;
	}
	/* A document type declaration can define entities; nothing nestfarm
	 * reads needs one. */
	if (doc->intSubset != NULL || xmlDocGetRootElement (doc) == NULL) {
		xmlFreeDoc (doc);
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_FAILED,
			     "The %s has a document type declaration or no root element.",
			     what);
		return NULL;
	}
	return doc;
}

GPtrArray *
nf_xml_find_all (xmlXPathContext *ctx, xmlNode *from, const gchar *xpath)
{
	g_autoptr (xmlXPathObject) result = NULL;
	GPtrArray *nodes = g_ptr_array_new ();

	g_return_val_if_fail (ctx != NULL, nodes);
	g_return_val_if_fail (xpath != NULL, nodes);

	ctx->node = from != NULL ? from : (xmlNode *) ctx->doc;
	result = xmlXPathEvalExpression ((const xmlChar *) xpath, ctx);
	/* Our expressions are constants: a syntax error is a bug. */
	g_return_val_if_fail (result != NULL, nodes);
	if (result->type != XPATH_NODESET || result->nodesetval == NULL)
		return nodes;
	for (int i = 0; i < result->nodesetval->nodeNr; i++)
		g_ptr_array_add (nodes, result->nodesetval->nodeTab[i]);
	return nodes;
}

xmlNode *
nf_xml_find (xmlXPathContext *ctx, xmlNode *from, const gchar *xpath)
{
	g_autoptr (GPtrArray) nodes = nf_xml_find_all (ctx, from, xpath);

	return nodes->len > 0 ? g_ptr_array_index (nodes, 0) : NULL;
}

xmlNode *
nf_xml_ensure_child (xmlNode *parent, const gchar *name)
{
	g_return_val_if_fail (parent != NULL, NULL);

	for (xmlNode *child = parent->children; child != NULL; child = child->next) {
		if (child->type == XML_ELEMENT_NODE && child->ns == NULL &&
		    xmlStrEqual (child->name, (const xmlChar *) name))
			return child;
	}
	return xmlNewChild (parent, NULL, (const xmlChar *) name, NULL);
}

void
nf_xml_set_text (xmlNode *node, const gchar *text)
{
	g_return_if_fail (node != NULL);
	g_return_if_fail (text != NULL);

	/* xmlNodeSetContent would parse entity references in @text; a text
	 * node built with xmlNewDocText holds it literally. */
	while (node->children != NULL)
		nf_xml_remove (node->children);
	xmlAddChild (node, xmlNewDocText (node->doc, (const xmlChar *) text));
}

void
nf_xml_set_prop (xmlNode *node, const gchar *name, const gchar *value)
{
	g_return_if_fail (node != NULL);
	g_return_if_fail (value != NULL);

	/* xmlSetProp stores @value as a literal text node: no parsing. */
	xmlSetProp (node, (const xmlChar *) name, (const xmlChar *) value);
}

static gchar *
take_xml_string (xmlChar *value)
{
	gchar *copy;

	if (value == NULL)
		return NULL;
	copy = g_strdup ((const gchar *) value);
	xmlFree (value);
	return copy;
}

gchar *
nf_xml_get_text (xmlNode *node)
{
	g_return_val_if_fail (node != NULL, NULL);
	return take_xml_string (xmlNodeGetContent (node));
}

gchar *
nf_xml_get_prop (xmlNode *node, const gchar *name)
{
	g_return_val_if_fail (node != NULL, NULL);
	return take_xml_string (xmlGetNoNsProp (node, (const xmlChar *) name));
}

void
nf_xml_remove (xmlNode *node)
{
	g_return_if_fail (node != NULL);
	xmlUnlinkNode (node);
	xmlFreeNode (node);
}

gchar *
nf_xml_to_string (xmlDoc *doc)
{
	xmlBuffer *buffer;
	xmlSaveCtxt *save;
	gchar *text;

	g_return_val_if_fail (doc != NULL, NULL);

	buffer = xmlBufferCreate ();
	save = xmlSaveToBuffer (buffer, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
	if (buffer == NULL || save == NULL)
		g_error ("out of memory");
	xmlSaveDoc (save, doc);
	xmlSaveClose (save);
	text = g_strndup ((const gchar *) xmlBufferContent (buffer), (gsize) xmlBufferLength (buffer));
	xmlBufferFree (buffer);
	return text;
}

gboolean
nf_xml_text_is_safe (const gchar *text)
{
	if (text == NULL || !g_utf8_validate (text, -1, NULL))
		return FALSE;
	for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
		gunichar c = g_utf8_get_char (p);

		/* C0 and C1 controls and the non-characters XML 1.0 forbids. */
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfffe || c == 0xffff)
			return FALSE;
	}
	return TRUE;
}
