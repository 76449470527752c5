/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

G_BEGIN_DECLS

/* libxml2 for the core: safe parsing, XPath lookups, and tree edits that
 * escape whatever they write. */

/* libxml2 handles, freed the GLib way (core-private: only src/core). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlNode, xmlFreeNode)

/* Parses @text without network access or entity expansion; errors become
 * NF_ERROR_FAILED naming @what. */
xmlDoc *nf_xml_parse (const gchar *text, gsize len, const gchar *what, GError **error);

/* The nodes @xpath selects below @from (NULL: the document), in order. */
GPtrArray *nf_xml_find_all (xmlXPathContext *ctx, xmlNode *from, const gchar *xpath);
/* The first node @xpath selects, or NULL. */
xmlNode *nf_xml_find (xmlXPathContext *ctx, xmlNode *from, const gchar *xpath);

/* The first child element of @parent called @name (no namespace); made and
 * appended if there is none. */
xmlNode *nf_xml_ensure_child (xmlNode *parent, const gchar *name);
/* Replaces the content of @node with the literal @text: no entity or markup
 * in @text is interpreted, so any string comes out escaped. */
void nf_xml_set_text (xmlNode *node, const gchar *text);
void nf_xml_set_prop (xmlNode *node, const gchar *name, const gchar *value);
/* Newly allocated text content / attribute value, or NULL. */
gchar *nf_xml_get_text (xmlNode *node);
gchar *nf_xml_get_prop (xmlNode *node, const gchar *name);
/* Unlinks and frees @node. */
void nf_xml_remove (xmlNode *node);

/* The document, indented, without the XML declaration. */
gchar *nf_xml_to_string (xmlDoc *doc);

/* TRUE if @text is valid UTF-8 holding no control characters: what can go
 * into a domain XML attribute or element and come back unchanged. */
gboolean nf_xml_text_is_safe (const gchar *text);

G_END_DECLS
