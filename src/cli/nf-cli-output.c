/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nf-cli.h"

/* Human output (aligned tables that fit NF_CLI_WIDTH columns, labelled
 * fields) and the JSON documents of the contract. */

typedef struct {
	gchar *header;
	NfTableColumnFlags flags;
	guint width;
	gboolean shown;
} Column;

struct _NfTable {
	GPtrArray *columns; /* Column */
	GPtrArray *rows;    /* GStrv, one cell per column */
};

static void
column_free (Column *column)
{
	g_free (column->header);
	g_free (column);
}

NfTable *
nf_table_new (void)
{
	NfTable *table = g_new0 (NfTable, 1);

	table->columns = g_ptr_array_new_with_free_func ((GDestroyNotify) column_free);
	table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
	return table;
}

void
nf_table_free (NfTable *table)
{
	g_ptr_array_unref (table->columns);
	g_ptr_array_unref (table->rows);
	g_free (table);
}

void
nf_table_add_column (NfTable *table, const gchar *header, NfTableColumnFlags flags)
{
	Column *column = g_new0 (Column, 1);

	column->header = g_strdup (header);
	column->flags = flags;
	column->shown = TRUE;
	g_ptr_array_add (table->columns, column);
}

void
nf_table_add_row (NfTable *table, const gchar *first_cell, ...)
{
	GStrvBuilder *builder = g_strv_builder_new ();
	const gchar *cell = first_cell;
	va_list args;

	va_start (args, first_cell);
	for (guint i = 0; i < table->columns->len; i++) {
		g_strv_builder_add (builder, cell != NULL ? cell : "");
		cell = va_arg (args, const gchar *);
	}
	va_end (args);
	g_ptr_array_add (table->rows, g_strv_builder_end (builder));
	g_strv_builder_unref (builder);
}

static guint
text_width (const gchar *text)
{
	return (guint) g_utf8_strlen (text, -1);
}

static guint
longest_word (const gchar *text)
{
	g_auto (GStrv) words = g_strsplit (text, " ", -1);
	guint longest = 0;

	for (guint i = 0; words[i] != NULL; i++)
		longest = MAX (longest, text_width (words[i]));
	return longest;
}

/* @text in lines of at most @width characters, broken between words */
static GPtrArray *
wrap_words (const gchar *text, guint width)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
	g_auto (GStrv) words = g_strsplit (text, " ", -1);
	g_autoptr (GString) line = g_string_new (NULL);

	for (guint i = 0; words[i] != NULL; i++) {
		if (words[i][0] == '\0')
			continue;
		if (line->len > 0 && text_width (line->str) + 1 + text_width (words[i]) > width) {
			g_ptr_array_add (lines, g_strdup (line->str));
			g_string_truncate (line, 0);
		}
		if (line->len > 0)
			g_string_append_c (line, ' ');
		g_string_append (line, words[i]);
	}
	if (line->len > 0 || lines->len == 0)
		g_ptr_array_add (lines, g_strdup (line->str));
	return lines;
}

static guint
table_width (NfTable *table)
{
	guint total = 0, shown = 0;

	for (guint c = 0; c < table->columns->len; c++) {
		Column *column = g_ptr_array_index (table->columns, c);

		if (!column->shown)
			continue;
		total += column->width;
		shown++;
	}
	return total + (shown > 0 ? 2 * (shown - 1) : 0);
}

static void
fit (NfTable *table, guint width)
{
	for (guint c = 0; c < table->columns->len; c++) {
		Column *column = g_ptr_array_index (table->columns, c);

		column->width = text_width (column->header);
		for (guint r = 0; r < table->rows->len; r++)
			column->width =
				MAX (column->width, text_width (((gchar **) table->rows->pdata[r])[c]));
	}
	/* the optional columns go first, the last one first */
	for (guint c = table->columns->len; c > 0 && table_width (table) > width; c--) {
		Column *column = g_ptr_array_index (table->columns, c - 1);

		if (column->flags & NF_TABLE_COLUMN_OPTIONAL)
			column->shown = FALSE;
	}
	for (guint c = 0; c < table->columns->len && table_width (table) > width; c++) {
		Column *column = g_ptr_array_index (table->columns, c);
		guint others = table_width (table) - column->width;
		guint narrowest = text_width (column->header);

		if (!column->shown || !(column->flags & NF_TABLE_COLUMN_WRAP))
			continue;
		for (guint r = 0; r < table->rows->len; r++)
			narrowest = MAX (narrowest, longest_word (((gchar **) table->rows->pdata[r])[c]));
		column->width = MAX (narrowest, width > others ? width - others : 0);
	}
}

static void
print_line (NfTable *table, GPtrArray *cells)
{
	g_autoptr (GString) line = g_string_new (NULL);

	for (guint c = 0; c < table->columns->len; c++) {
		Column *column = g_ptr_array_index (table->columns, c);
		const gchar *cell = g_ptr_array_index (cells, c);
		guint pad = column->width - MIN (column->width, text_width (cell));

		if (!column->shown)
			continue;
		if (line->len > 0)
			g_string_append (line, "  ");
		if (column->flags & NF_TABLE_COLUMN_RIGHT)
			g_string_append_printf (line, "%*s", (gint) pad, "");
		g_string_append (line, cell);
		if (!(column->flags & NF_TABLE_COLUMN_RIGHT))
			g_string_append_printf (line, "%*s", (gint) pad, "");
	}
	while (line->len > 0 && line->str[line->len - 1] == ' ')
		g_string_truncate (line, line->len - 1);
	printf ("%s\n", line->str);
}

static void
print_row (NfTable *table, gchar **row)
{
	g_autoptr (GPtrArray) wrapped = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
	guint height = 1;

	for (guint c = 0; c < table->columns->len; c++) {
		Column *column = g_ptr_array_index (table->columns, c);
		GPtrArray *lines =
			wrap_words (row[c],
				    (column->flags & NF_TABLE_COLUMN_WRAP) ? column->width : G_MAXUINT);

		height = MAX (height, lines->len);
		g_ptr_array_add (wrapped, lines);
	}
	for (guint l = 0; l < height; l++) {
		g_autoptr (GPtrArray) cells = g_ptr_array_new ();

		for (guint c = 0; c < table->columns->len; c++) {
			GPtrArray *lines = g_ptr_array_index (wrapped, c);

			g_ptr_array_add (cells,
					 l < lines->len ? g_ptr_array_index (lines, l) : (gpointer) "");
		}
		print_line (table, cells);
	}
}

void
nf_table_print (NfTable *table, guint width)
{
	g_autoptr (GPtrArray) headers = g_ptr_array_new ();

	fit (table, width);
	for (guint c = 0; c < table->columns->len; c++)
		g_ptr_array_add (headers, ((Column *) g_ptr_array_index (table->columns, c))->header);
	print_line (table, headers);
	for (guint r = 0; r < table->rows->len; r++)
		print_row (table, g_ptr_array_index (table->rows, r));
}

void
nf_cli_print_wrapped (const gchar *indent_first, const gchar *indent_rest, const gchar *text)
{
	guint room = NF_CLI_WIDTH - 1 - MAX (text_width (indent_first), text_width (indent_rest));
	g_autoptr (GPtrArray) lines = wrap_words (text, room);

	for (guint i = 0; i < lines->len; i++)
		printf ("%s%s\n",
			i == 0 ? indent_first : indent_rest,
			(gchar *) g_ptr_array_index (lines, i));
}

gchar *
nf_cli_format_elapsed (gint64 usec)
{
	gint64 s = usec / G_USEC_PER_SEC;

	if (s >= 3600)
		return g_strdup_printf ("%d:%02d:%02d",
					(gint) (s / 3600),
					(gint) (s / 60 % 60),
					(gint) (s % 60));
	return g_strdup_printf ("%d:%02d", (gint) (s / 60), (gint) (s % 60));
}

gchar *
nf_cli_format_local_time (guint64 unix_seconds, const gchar *format)
{
	g_autoptr (GDateTime) time =
		g_date_time_new_from_unix_local ((gint64) MIN (unix_seconds, G_MAXINT64));
	gchar *text = time != NULL ? g_date_time_format (time, format) : NULL;

	return text != NULL ? text : g_strdup_printf ("%" G_GUINT64_FORMAT, unix_seconds);
}

/* --- JSON: exactly the keys of the contract --- */

void
nf_cli_print_json (JsonNode *root)
{
	g_autoptr (JsonGenerator) generator = json_generator_new ();
	g_autofree gchar *text = NULL;

	json_generator_set_pretty (generator, TRUE);
	json_generator_set_indent (generator, 2);
	json_generator_set_root (generator, root);
	text = json_generator_to_data (generator, NULL);
	printf ("%s\n", text);
	json_node_unref (root);
}

static void
add_string (JsonBuilder *builder, const gchar *key, const gchar *value)
{
	json_builder_set_member_name (builder, key);
	if (value != NULL)
		json_builder_add_string_value (builder, value);
	else
		json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder, const gchar *key, gint64 value)
{
	json_builder_set_member_name (builder, key);
	json_builder_add_int_value (builder, value);
}

static void
add_strings (JsonBuilder *builder, const gchar *key, const gchar *const *values)
{
	json_builder_set_member_name (builder, key);
	json_builder_begin_array (builder);
	for (guint i = 0; values != NULL && values[i] != NULL; i++)
		json_builder_add_string_value (builder, values[i]);
	json_builder_end_array (builder);
}

JsonNode *
nf_cli_node_to_json (NfCli *cli, NfDBusNode *node)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autofree gchar *pool = nf_cli_name_from_path (nf_dbus_node_get_pool (node));
	g_autofree gchar *host = nf_cli_name_from_path (nf_dbus_node_get_host (node));

	json_builder_begin_object (builder);
	add_string (builder, "name", nf_dbus_node_get_name (node));
	add_string (builder, "pool", pool);
	add_int (builder, "index", nf_dbus_node_get_index (node));
	add_string (builder, "host", host);
	add_string (builder, "state", nf_dbus_node_get_state (node));
	add_string (builder, "domain_uuid", nf_dbus_node_get_domain_uuid (node));
	add_string (builder, "overlay", nf_dbus_node_get_overlay (node));
	add_string (builder, "console_log", nf_dbus_node_get_console_log (node));
	add_strings (builder, "macs", nf_dbus_node_get_macs (node));
	add_strings (builder, "addresses", nf_dbus_node_get_addresses (node));
	json_builder_set_member_name (builder, "ready");
	json_builder_add_boolean_value (builder, nf_dbus_node_get_ready (node));
	add_string (builder, "nesting", nf_dbus_node_get_nesting (node));
	json_builder_end_object (builder);
	return json_builder_get_root (builder);
}

JsonNode *
nf_cli_snapshots_to_json (NfDBusPool *pool)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autoptr (GVariant) snapshots = nf_cli_pool_snapshots (pool);
	GVariantIter iter;
	const gchar *name;
	guint64 created, size;
	gboolean memory;

	json_builder_begin_array (builder);
	g_variant_iter_init (&iter, snapshots);
	while (g_variant_iter_next (&iter, "(&sttb)", &name, &created, &size, &memory)) {
		json_builder_begin_object (builder);
		add_string (builder, "name", name);
		add_int (builder, "created", (gint64) MIN (created, G_MAXINT64));
		add_int (builder, "size", (gint64) MIN (size, G_MAXINT64));
		json_builder_set_member_name (builder, "memory");
		json_builder_add_boolean_value (builder, memory);
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);
	return json_builder_get_root (builder);
}

JsonNode *
nf_cli_pool_to_json (NfCli *cli, NfDBusPool *pool)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autoptr (GPtrArray) nodes = nf_cli_list_nodes (cli, pool);

	json_builder_begin_object (builder);
	add_string (builder, "name", nf_dbus_pool_get_name (pool));
	add_string (builder, "profile", nf_dbus_pool_get_profile (pool));
	add_int (builder, "count", nf_dbus_pool_get_count (pool));
	add_string (builder, "state", nf_dbus_pool_get_state (pool));
	add_int (builder, "vcpus", nf_dbus_pool_get_vcpus (pool));
	add_int (builder, "memory_mib", nf_dbus_pool_get_memory_mib (pool));
	add_string (builder, "image", nf_dbus_pool_get_image (pool));
	add_string (builder, "trunk_bridge", nf_dbus_pool_get_trunk_bridge (pool));
	add_string (builder, "vlans", nf_dbus_pool_get_vlans (pool));
	add_string (builder, "ssh_user", nf_dbus_pool_get_sshuser (pool));
	json_builder_set_member_name (builder, "snapshots");
	json_builder_add_value (builder, nf_cli_snapshots_to_json (pool));
	json_builder_set_member_name (builder, "nodes");
	json_builder_begin_array (builder);
	for (guint i = 0; i < nodes->len; i++)
		json_builder_add_value (builder, nf_cli_node_to_json (cli, g_ptr_array_index (nodes, i)));
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	return json_builder_get_root (builder);
}

/* --- human --- */

static void
print_field (const gchar *label, const gchar *value)
{
	g_autofree gchar *first = g_strdup_printf ("%-14s", label);

	nf_cli_print_wrapped (first, "              ", value != NULL && value[0] != '\0' ? value : "-");
}

static gchar *
join_words (const gchar *const *macs)
{
	if (macs == NULL || macs[0] == NULL)
		return g_strdup ("-");
	return g_strjoinv (" ", (gchar **) macs);
}

void
nf_cli_print_node_table (NfCli *cli, GPtrArray *nodes)
{
	g_autoptr (NfTable) table = nf_table_new ();

	nf_table_add_column (table, "NODE", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "STATE", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "HOST", NF_TABLE_COLUMN_DEFAULT);
	nf_table_add_column (table, "ADDRESSES", NF_TABLE_COLUMN_WRAP);
	nf_table_add_column (table, "MACS", NF_TABLE_COLUMN_WRAP);
	nf_table_add_column (table, "DOMAIN UUID", NF_TABLE_COLUMN_OPTIONAL);
	for (guint i = 0; i < nodes->len; i++) {
		NfDBusNode *node = g_ptr_array_index (nodes, i);
		g_autofree gchar *macs = join_words (nf_dbus_node_get_macs (node));
		g_autofree gchar *addresses = join_words (nf_dbus_node_get_addresses (node));
		g_autofree gchar *host = nf_cli_name_from_path (nf_dbus_node_get_host (node));

		nf_table_add_row (table,
				  nf_dbus_node_get_name (node),
				  nf_dbus_node_get_state (node),
				  host,
				  addresses,
				  macs,
				  nf_dbus_node_get_domain_uuid (node),
				  NULL);
	}
	nf_table_print (table, NF_CLI_WIDTH);
}

/* One line a snapshot, "just-installed (2026-12-03 16:20, 1.1 GiB,
 * memory)", or "none". */
static void
print_snapshots (NfDBusPool *pool)
{
	g_autoptr (GVariant) snapshots = nf_cli_pool_snapshots (pool);
	GVariantIter iter;
	const gchar *name;
	guint64 created, size;
	gboolean memory;
	const gchar *label = "Snapshots:";

	g_variant_iter_init (&iter, snapshots);
	while (g_variant_iter_next (&iter, "(&sttb)", &name, &created, &size, &memory)) {
		g_autofree gchar *when = nf_cli_format_local_time (created, "%Y-%m-%d %H:%M");
		g_autofree gchar *bytes = g_format_size_full (size, G_FORMAT_SIZE_IEC_UNITS);
		g_autofree gchar *line = g_strdup_printf ("%s (%s, %s, %s)",
							  name,
							  when,
							  bytes,
							  memory ? "memory" : "disks only");

		print_field (label, line);
		label = "";
	}
	if (g_variant_n_children (snapshots) == 0)
		print_field (label, "none");
}

void
nf_cli_print_pool (NfCli *cli, NfDBusPool *pool)
{
	g_autoptr (GPtrArray) nodes = nf_cli_list_nodes (cli, pool);
	g_autofree gchar *count = g_strdup_printf ("%u of %u", nodes->len, nf_dbus_pool_get_count (pool));
	g_autofree gchar *vcpus = g_strdup_printf ("%u", nf_dbus_pool_get_vcpus (pool));
	g_autofree gchar *memory = g_strdup_printf ("%u MiB", nf_dbus_pool_get_memory_mib (pool));

	print_field ("Pool:", nf_dbus_pool_get_name (pool));
	print_field ("State:", nf_dbus_pool_get_state (pool));
	print_field ("Nodes:", count);
	print_field ("Profile:", nf_dbus_pool_get_profile (pool));
	print_field ("VCPUs:", vcpus);
	print_field ("Memory:", memory);
	print_field ("Image:", nf_dbus_pool_get_image (pool));
	print_field ("Trunk bridge:", nf_dbus_pool_get_trunk_bridge (pool));
	print_field ("SSH user:", nf_dbus_pool_get_sshuser (pool));
	print_field ("VLANs:", nf_dbus_pool_get_vlans (pool));
	print_snapshots (pool);
	if (nodes->len == 0)
		return;
	printf ("\n");
	nf_cli_print_node_table (cli, nodes);
}

void
nf_cli_print_node (NfCli *cli, NfDBusNode *node)
{
	g_autofree gchar *pool = nf_cli_name_from_path (nf_dbus_node_get_pool (node));
	g_autofree gchar *index = g_strdup_printf ("%u", nf_dbus_node_get_index (node));
	g_autofree gchar *host = nf_cli_name_from_path (nf_dbus_node_get_host (node));
	g_autofree gchar *macs = join_words (nf_dbus_node_get_macs (node));
	g_autofree gchar *addresses = join_words (nf_dbus_node_get_addresses (node));

	print_field ("Node:", nf_dbus_node_get_name (node));
	print_field ("State:", nf_dbus_node_get_state (node));
	print_field ("Pool:", pool);
	print_field ("Index:", index);
	print_field ("Host:", host);
	print_field ("Addresses:", addresses);
	print_field ("Ready:", nf_dbus_node_get_ready (node) ? "yes" : "no");
	print_field ("Nesting:",
		     g_strcmp0 (nf_dbus_node_get_nesting (node), "missing") == 0
			     ? "missing: it cannot run KVM itself (see `nestfarmctl host check` for the fix)"
			     : nf_dbus_node_get_nesting (node));
	print_field ("MACs:", macs);
	print_field ("Domain UUID:", nf_dbus_node_get_domain_uuid (node));
	print_field ("Overlay:", nf_dbus_node_get_overlay (node));
	print_field ("Console log:", nf_dbus_node_get_console_log (node));
}
