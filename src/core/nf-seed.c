/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-seed"

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-seed.h"
#include "nf-seed-private.h"

/* A node's cloud-init seed spec and the checks of everything in it that a
 * pool's creator gives: the ssh user, public key lines and user-data. A
 * refusal says what is wrong and what is accepted. */

/* What an ssh key line may start with: OpenSSH's key types a cloud image's
 * sshd takes (no DSA, no certificates). */
static const gchar *const ssh_key_types[] = {
	"ssh-ed25519",
	"ssh-rsa",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	NULL,
};
#define SSH_KEY_TYPES_SHOWN                                                                     \
	"ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, " \
	"sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com"

/* The first line of a user-data document cloud-init takes as a part, and the
 * part's MIME type. The first line is the word alone or followed by a space. */
static const struct {
	const gchar *first_line;
	const gchar *mime_type;
	gboolean prefix; /* "#!" starts the line; anything may follow */
} user_data_types[] = {
	{"#cloud-config", "text/cloud-config", FALSE},
	{"#!", "text/x-shellscript", TRUE},
	{"#cloud-boothook", "text/cloud-boothook", FALSE},
	{"#include", "text/x-include-url", FALSE},
	{"#cloud-config-archive", "text/cloud-config-archive", FALSE},
	{"#part-handler", "text/part-handler", FALSE},
	{"## template: jinja", "text/jinja2", FALSE},
};
#define USER_DATA_TYPES_SHOWN                                                                    \
	"#cloud-config, #!, #cloud-boothook, #include, #cloud-config-archive, #part-handler or " \
	"## template: jinja"

/* Hostnames (RFC 1123 labels), instance ids. */
#define HOSTNAME_MAX    63
#define INSTANCE_ID_MAX 128

NfSeedSpec *
nf_seed_spec_new (void)
{
	return g_new0 (NfSeedSpec, 1);
}

void
nf_seed_spec_free (NfSeedSpec *spec)
{
	if (spec == NULL)
		return;
	g_free (spec->node_name);
	g_free (spec->instance_id);
	g_free (spec->ssh_user);
	g_strfreev (spec->ssh_keys);
	g_free (spec->user_data);
	g_free (spec->mac);
	g_free (spec->owner);
	g_free (spec);
}

gboolean
nf_seed_set_invalid (GError **error, const gchar *format, ...)
{
	va_list args;
	GError *made;

	va_start (args, format);
	made = g_error_new_valist (NF_ERROR, NF_ERROR_INVALID_ARGUMENT, format, args);
	va_end (args);
	g_propagate_error (error, made);
	return FALSE;
}

/* At most @max bytes of hostile text, escaped, for a message. */
static gchar *
shown (const gchar *text, gsize len, gsize max)
{
	g_autofree gchar *part = g_strndup (text, MIN (len, max));
	g_autofree gchar *escaped = g_strescape (part, NULL);

	return len > max ? g_strconcat (escaped, "...", NULL) : g_steal_pointer (&escaped);
}

gboolean
nf_seed_check_ssh_user (const gchar *user, GError **error)
{
	gsize len = user != NULL ? strnlen (user, NF_SSH_USER_MAX + 1) : 0;
	g_autofree gchar *user_shown = NULL;

	if (len == 0)
		return nf_seed_set_invalid (error,
					    "The ssh user is empty; give a login name: a-z, then a-z, 0-9, '-' or "
					    "'_', at most %d characters.",
					    NF_SSH_USER_MAX);
	if (len > NF_SSH_USER_MAX)
		return nf_seed_set_invalid (error,
					    "The ssh user is longer than %d characters; choose a shorter login name.",
					    NF_SSH_USER_MAX);
	user_shown = shown (user, len, NF_SSH_USER_MAX);
	if (!g_ascii_islower (user[0]) || strspn (user, "abcdefghijklmnopqrstuvwxyz0123456789-_") != len)
		return nf_seed_set_invalid (error,
					    "The ssh user '%s' is not a login name Debian accepts: it must start "
					    "with a-z, then have only a-z, 0-9, '-' and '_'.",
					    user_shown);
	if (strcmp (user, "root") == 0)
		return nf_seed_set_invalid (error,
					    "The ssh user cannot be root: cloud images refuse root logins over SSH. "
					    "Choose another name; that user gets passwordless sudo.");
	return TRUE;
}

static gboolean
is_ssh_key_type (const gchar *word, gsize len)
{
	for (guint i = 0; ssh_key_types[i] != NULL; i++) {
		if (strlen (ssh_key_types[i]) == len && memcmp (ssh_key_types[i], word, len) == 0)
			return TRUE;
	}
	return FALSE;
}

static gsize
word_length (const gchar *text)
{
	return strcspn (text, " \t");
}

static const gchar *
skip_blanks (const gchar *text)
{
	return text + strspn (text, " \t");
}

/* authorized_keys options (from="...", command="...", no-pty, ...) before the
 * type: an option has '=', ',' or '"' in it, or a key type comes later. */
static gboolean
starts_with_options (const gchar *line)
{
	gsize first = word_length (line);

	if (first == 0)
		return FALSE;
	for (gsize i = 0; i < first; i++) {
		if (line[i] == '=' || line[i] == ',' || line[i] == '"')
			return TRUE;
	}
	for (const gchar *p = skip_blanks (line + first); *p != '\0'; p = skip_blanks (p + word_length (p))) {
		if (is_ssh_key_type (p, word_length (p)))
			return TRUE;
	}
	return FALSE;
}

/* Strict base64: whole groups of four, '=' only as padding at the end
 * (g_base64_decode itself skips what is not base64). */
static gboolean
is_base64 (const gchar *text, gsize len)
{
	gsize padding = 0;

	if (len == 0 || len % 4 != 0)
		return FALSE;
	while (padding < 2 && text[len - 1 - padding] == '=')
		padding++;
	for (gsize i = 0; i < len - padding; i++) {
		if (!g_ascii_isalnum (text[i]) && text[i] != '+' && text[i] != '/')
			return FALSE;
	}
	return TRUE;
}

/* The key data is SSH's wire format: a uint32 length and the type string,
 * then the key itself. */
static gboolean
check_key_blob (const gchar *type, const guint8 *blob, gsize blob_len, GError **error)
{
	gsize type_len = strlen (type);
	guint32 named;
	g_autofree gchar *named_shown = NULL;

	if (blob_len < 4)
		return nf_seed_set_invalid (error,
					    "The SSH key's data is too short to be a public key; copy the whole line "
					    "from the .pub file.");
	memcpy (&named, blob, sizeof named);
	named = GUINT32_FROM_BE (named);
	if (named == type_len && blob_len >= 4 + type_len && memcmp (blob + 4, type, type_len) == 0) {
		if (blob_len > 4 + type_len)
			return TRUE;
		return nf_seed_set_invalid (error,
					    "The SSH key's data ends after its type, with no key; copy the whole line "
					    "from the .pub file.");
	}
	if (named > 0 && named <= 64 && named <= blob_len - 4) {
		named_shown = shown ((const gchar *) blob + 4, named, 64);
		return nf_seed_set_invalid (error,
					    "The SSH key's data is of type '%s' but the line says %s; copy the whole "
					    "line from the .pub file.",
					    named_shown,
					    type);
	}
	return nf_seed_set_invalid (error,
				    "The SSH key's data is not an OpenSSH public key of type %s; copy the whole "
				    "line from the .pub file.",
				    type);
}

static gboolean
check_key_data (const gchar *type, const gchar *data, gsize len, GError **error)
{
	g_autofree gchar *text = g_strndup (data, len);
	g_autofree guint8 *blob = NULL;
	gsize blob_len = 0;

	if (len == 0)
		return nf_seed_set_invalid (error,
					    "The SSH key has no key data after its type %s; copy the whole line from "
					    "the .pub file.",
					    type);
	if (!is_base64 (text, len))
		return nf_seed_set_invalid (error,
					    "The SSH key's data is not valid base64; copy the whole line from the .pub "
					    "file.");
	blob = g_base64_decode (text, &blob_len);
	return check_key_blob (type, blob, blob_len, error);
}

static gboolean
check_key_comment (const gchar *comment, GError **error)
{
	const gchar *end = NULL;

	if (!g_utf8_validate (comment, -1, &end))
		return nf_seed_set_invalid (error,
					    "The SSH key's comment is not valid UTF-8 (at byte %" G_GSIZE_FORMAT
					    "); fix or remove the comment after the key data.",
					    (gsize) (end - comment) + 1);
	for (const gchar *p = comment; *p != '\0'; p = g_utf8_next_char (p)) {
		if (!g_unichar_isprint (g_utf8_get_char (p)))
			return nf_seed_set_invalid (error,
						    "The SSH key's comment has a control character or one that is not "
						    "printable (at byte %" G_GSIZE_FORMAT
						    "); fix or remove the comment after the key data.",
						    (gsize) (p - comment) + 1);
	}
	return TRUE;
}

/* "TYPE BASE64 [comment]" of a NUL-terminated line without line breaks. */
static gboolean
check_key_fields (const gchar *line, GError **error)
{
	gsize type_len = word_length (line);
	g_autofree gchar *type = g_strndup (line, type_len);
	g_autofree gchar *type_shown = NULL;
	const gchar *data = skip_blanks (line + type_len);
	gsize data_len = word_length (data);

	if (!is_ssh_key_type (line, type_len)) {
		if (starts_with_options (line))
			return nf_seed_set_invalid (error,
						    "The SSH key line starts with options (from=, command=, no-pty, ...); "
						    "give the key alone: TYPE BASE64 [comment].");
		type_shown = shown (line, type_len, 40);
		return nf_seed_set_invalid (error,
					    "The SSH key line does not start with a key type nestfarm accepts ('%s'); "
					    "give TYPE BASE64 [comment] with TYPE one of " SSH_KEY_TYPES_SHOWN
					    ".",
					    type_shown);
	}
	if (!check_key_data (type, data, data_len, error))
		return FALSE;
	return check_key_comment (skip_blanks (data + data_len), error);
}

gboolean
nf_seed_check_ssh_key_len (const gchar *line, gsize len, GError **error)
{
	g_autofree gchar *text = NULL;

	g_return_val_if_fail (line != NULL || len == 0, FALSE);

	if (len == 0)
		return nf_seed_set_invalid (error,
					    "The SSH key is empty; give a public key line, such as the contents of "
					    "~/.ssh/id_ed25519.pub.");
	if (len > NF_SSH_KEY_LINE_MAX)
		return nf_seed_set_invalid (error,
					    "The SSH key line is longer than %d bytes; give one public key line from a "
					    ".pub file.",
					    NF_SSH_KEY_LINE_MAX);
	if (memchr (line, '\0', len) != NULL)
		return nf_seed_set_invalid (error,
					    "The SSH key has a NUL byte; give the text of a .pub file.");
	if (memchr (line, '\n', len) != NULL || memchr (line, '\r', len) != NULL)
		return nf_seed_set_invalid (error,
					    "The SSH key has a line break; give each key as one line, without its "
					    "newline.");
	text = g_strndup (line, len);
	return check_key_fields (text, error);
}

gboolean
nf_seed_check_ssh_key (const gchar *line, GError **error)
{
	g_return_val_if_fail (line != NULL, FALSE);

	return nf_seed_check_ssh_key_len (line, strnlen (line, NF_SSH_KEY_LINE_MAX + 1), error);
}

const gchar *
nf_seed_user_data_type (const gchar *text, gsize len)
{
	gsize line_len = 0;

	while (line_len < len && text[line_len] != '\n')
		line_len++;
	while (line_len > 0 && g_ascii_isspace (text[line_len - 1]))
		line_len--;
	for (guint i = 0; i < G_N_ELEMENTS (user_data_types); i++) {
		gsize word = strlen (user_data_types[i].first_line);

		if (line_len < word || memcmp (text, user_data_types[i].first_line, word) != 0)
			continue;
		if (user_data_types[i].prefix || line_len == word || text[word] == ' ' || text[word] == '\t')
			return user_data_types[i].mime_type;
	}
	return NULL;
}

gboolean
nf_seed_check_user_data (const gchar *text, gsize len, GError **error)
{
	const gchar *nul, *line_end, *end = NULL;
	g_autofree gchar *first_shown = NULL;

	g_return_val_if_fail (text != NULL || len == 0, FALSE);

	if (len == 0)
		return nf_seed_set_invalid (error,
					    "The user-data is empty; give a cloud-init document that starts with " USER_DATA_TYPES_SHOWN
					    ".");
	if (len > NF_SEED_USER_DATA_MAX)
		return nf_seed_set_invalid (error,
					    "The user-data is %" G_GSIZE_FORMAT
					    " bytes, more than %d (64 KiB); make it "
					    "smaller.",
					    len,
					    NF_SEED_USER_DATA_MAX);
	nul = memchr (text, '\0', len);
	if (nul != NULL)
		return nf_seed_set_invalid (error,
					    "The user-data has a NUL byte (at byte %" G_GSIZE_FORMAT
					    "); give a text document.",
					    (gsize) (nul - text) + 1);
	if (!g_utf8_validate_len (text, len, &end))
		return nf_seed_set_invalid (error,
					    "The user-data is not valid UTF-8 (at byte %" G_GSIZE_FORMAT
					    "); save it as UTF-8 text.",
					    (gsize) (end - text) + 1);
	if (nf_seed_user_data_type (text, len) != NULL)
		return TRUE;
	line_end = memchr (text, '\n', len);
	first_shown = shown (text, line_end != NULL ? (gsize) (line_end - text) : len, 40);
	return nf_seed_set_invalid (error,
				    "The user-data starts with '%s', which cloud-init does not take as a part; start "
				    "it with " USER_DATA_TYPES_SHOWN ".",
				    first_shown);
}

/* An RFC 1123 label: what local-hostname sets. */
static gboolean
check_hostname (const gchar *name, GError **error)
{
	gsize len = name != NULL ? strnlen (name, HOSTNAME_MAX + 1) : 0;

	if (len == 0 || len > HOSTNAME_MAX || strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-") != len ||
	    name[0] == '-' || name[len - 1] == '-')
		return nf_seed_set_invalid (error,
					    "The seed's host name is not a host name: give 1 to %d characters of a-z, "
					    "0-9 and '-', not starting or ending with '-'.",
					    HOSTNAME_MAX);
	return TRUE;
}

static gboolean
check_instance_id (const gchar *id, GError **error)
{
	gsize len = id != NULL ? strnlen (id, INSTANCE_ID_MAX + 1) : 0;

	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isgraph (id[i]))
			len = 0;
	}
	if (len == 0 || len > INSTANCE_ID_MAX)
		return nf_seed_set_invalid (error,
					    "The seed's instance id is not valid: give 1 to %d printable ASCII "
					    "characters without spaces.",
					    INSTANCE_ID_MAX);
	return TRUE;
}

static gboolean
check_mac (const gchar *mac, GError **error)
{
	gboolean good = mac != NULL && strlen (mac) == 17;

	for (guint i = 0; good && i < 17; i++)
		good = i % 3 == 2 ? mac[i] == ':' : g_ascii_isxdigit (mac[i]);
	if (!good)
		return nf_seed_set_invalid (error,
					    "The seed's MAC address is not valid: give six hex pairs joined by ':', "
					    "such as 52:54:00:12:34:56.");
	return TRUE;
}

static gboolean
check_owner (const gchar *owner, GError **error)
{
	gsize len = owner != NULL ? strnlen (owner, NF_SEED_OWNER_MAX + 1) : 0;

	if (owner == NULL || len > NF_SEED_OWNER_MAX || strspn (owner, NF_SEED_OWNER_CHARS) != len ||
	    !g_str_has_prefix (owner, NF_SEED_OWNER_PREFIX))
		return nf_seed_set_invalid (error,
					    "The seed's owner tag is not valid: give " NF_SEED_OWNER_PREFIX
					    " and more, at most %d characters of a-z, 0-9, ':', '.', '_' and '-'.",
					    NF_SEED_OWNER_MAX);
	return TRUE;
}

static gboolean
check_ssh_keys (const gchar *const *keys, GError **error)
{
	guint count = keys != NULL ? g_strv_length ((gchar **) keys) : 0;

	if (count > NF_SSH_KEYS_MAX)
		return nf_seed_set_invalid (error,
					    "There are %u SSH keys, more than %d; give fewer keys.",
					    count,
					    NF_SSH_KEYS_MAX);
	for (guint i = 0; i < count; i++) {
		if (!nf_seed_check_ssh_key (keys[i], error)) {
			g_prefix_error (error, "SSH key %u of %u: ", i + 1, count);
			return FALSE;
		}
	}
	return TRUE;
}

/* What nestfarm's user-data is made of: the user, the keys and the pool's
 * own document. */
gboolean
nf_seed_check_user_parts (const NfSeedSpec *spec, GError **error)
{
	g_return_val_if_fail (spec != NULL, FALSE);

	if (!nf_seed_check_ssh_user (spec->ssh_user, error))
		return FALSE;
	if (!check_ssh_keys ((const gchar *const *) spec->ssh_keys, error))
		return FALSE;
	if (spec->user_data != NULL &&
	    !nf_seed_check_user_data (spec->user_data, strlen (spec->user_data), error))
		return FALSE;
	return TRUE;
}

gboolean
nf_seed_spec_check (const NfSeedSpec *spec, GError **error)
{
	g_return_val_if_fail (spec != NULL, FALSE);

	return check_hostname (spec->node_name, error) && check_instance_id (spec->instance_id, error) &&
	       check_mac (spec->mac, error) && check_owner (spec->owner, error) &&
	       nf_seed_check_user_parts (spec, error);
}
