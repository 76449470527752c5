/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nestfarmctl"

/* What `pool create` puts in the nodes' cloud-init seeds: the caller's
 * public key files (by default the .pub files in their ~/.ssh), the login user and
 * a user-data file, read here, on the caller's side, and checked as
 * nestfarmd checks them, so a bad line is named with its file and line. */

#include "config.h"

#include <string.h>

#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-seed.h"
#include "nf-cli.h"

/* Each key line of @path (blank lines and # comments skipped) into @keys. */
static gboolean
read_key_file (const NfCliVerb *verb, const gchar *path, GPtrArray *keys, NfExit *code)
{
	g_autofree gchar *text = NULL;
	g_auto (GStrv) lines = NULL;
	g_autoptr (GError) error = NULL;

	if (!g_file_get_contents (path, &text, NULL, &error)) {
		*code = nf_cli_usage_error (verb, "--ssh-key: %s", error->message);
		return FALSE;
	}
	lines = g_strsplit (text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *line = g_strstrip (lines[i]);

		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (!nf_seed_check_ssh_key (line, &error)) {
			*code = nf_cli_usage_error (verb,
						    "--ssh-key %s, line %u: %s",
						    path,
						    i + 1,
						    error->message);
			return FALSE;
		}
		g_ptr_array_add (keys, g_strdup (line));
	}
	return TRUE;
}

/* The caller's own public keys: the .pub files in ~/.ssh. */
static GPtrArray *
default_key_files (void)
{
	g_autofree gchar *dir_path = g_build_filename (g_get_home_dir (), ".ssh", NULL);
	g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
	GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
	const gchar *entry;

	while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL) {
		if (g_str_has_suffix (entry, ".pub"))
			g_ptr_array_add (files, g_build_filename (dir_path, entry, NULL));
	}
	return files;
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

static gboolean
add_keys (const NfCliVerb *verb, gchar **key_files, GVariantBuilder *options, NfExit *code)
{
	g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) files = NULL;

	if (key_files != NULL) {
		files = g_ptr_array_new_with_free_func (g_free);
		for (guint i = 0; key_files[i] != NULL; i++)
			g_ptr_array_add (files, g_strdup (key_files[i]));
	} else {
		files = default_key_files ();
		g_ptr_array_sort (files, compare_paths);
	}
	for (guint i = 0; i < files->len; i++) {
		if (!read_key_file (verb, g_ptr_array_index (files, i), keys, code))
			return FALSE;
	}
	if (keys->len > NF_SSH_KEYS_MAX) {
		*code = nf_cli_usage_error (verb,
					    "--ssh-key: %u keys are too many; give at most %d.",
					    keys->len,
					    NF_SSH_KEYS_MAX);
		return FALSE;
	}
	if (keys->len == 0)
		return TRUE;
	g_ptr_array_add (keys, NULL);
	g_variant_builder_add (options,
			       "{sv}",
			       "ssh-keys",
			       g_variant_new_strv ((const gchar *const *) keys->pdata, -1));
	return TRUE;
}

gboolean
nf_cli_seed_options (const NfCliVerb *verb,
		     gchar **key_files,
		     const gchar *ssh_user,
		     const gchar *user_data_file,
		     GVariantBuilder *options,
		     NfExit *code)
{
	g_autoptr (GError) error = NULL;

	if (!add_keys (verb, key_files, options, code))
		return FALSE;
	if (ssh_user != NULL) {
		if (!nf_seed_check_ssh_user (ssh_user, &error)) {
			*code = nf_cli_usage_error (verb, "--ssh-user: %s", error->message);
			return FALSE;
		}
		g_variant_builder_add (options, "{sv}", "ssh-user", g_variant_new_string (ssh_user));
	}
	if (user_data_file != NULL) {
		g_autofree gchar *text = NULL;
		gsize len = 0;

		if (!g_file_get_contents (user_data_file, &text, &len, &error) ||
		    !nf_seed_check_user_data (text, len, &error)) {
			*code = nf_cli_usage_error (verb,
						    "--user-data %s: %s",
						    user_data_file,
						    error->message);
			return FALSE;
		}
		g_variant_builder_add (options, "{sv}", "user-data", g_variant_new_string (text));
	}
	return TRUE;
}
