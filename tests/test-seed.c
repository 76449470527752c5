/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "test-seed"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-seed.h"

/* The cloud-init seed: hostile ssh users, keys and user-data refused with
 * their reason, good keys of every type taken (fixed ones and ones
 * ssh-keygen makes), the three documents read back with json-glib and GMime,
 * and the ISO read back with xorriso and nf_seed_iso_owner. */

/* Made with ssh-keygen for this test (public halves only). */
#define KEY_ED25519 \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKR06hbD7CvadRlB1Prpb/aAvCyL0qul5zw2mYzpzowY fixture-ed25519"
#define KEY_ED25519_DATA "AAAAC3NzaC1lZDI1NTE5AAAAIKR06hbD7CvadRlB1Prpb/aAvCyL0qul5zw2mYzpzowY"
#define KEY_RSA                                                                                                                                 \
	"ssh-rsa "                                                                                                                              \
	"AAAAB3NzaC1yc2EAAAADAQABAAABAQDGc1eoNh/nGlzJ7LJYN5/VzZFQAptaLd7PDPrpIQ5rHs6W2b5Cxlx3Li+DviHAG2vlbSj3b4Kl4vfJRAIUiJJxRwTm96eqKWgKc1Bq/" \
	"gUuLRTUzj1n3EjCgqQrkTgNd64qqnwdsJYHGh8uhawAm2P2rjjYrczRjofDnXUJ7S6a+lX214YyK9QjwVppwMAgwLoTO/"                                         \
	"km8ZAk1VotYV1JYg6F6ndSksV5R5TL+aEvi7fUXmN4HgaUBC+NU5BgPKca8I3TFpzlTBTRDHq/hBnN/"                                                       \
	"CYaiAbneTUq6N4VvHUZ4PpfIOe2TI4mkG3zdsWyW/wV0AvaijQ7sh6x6+Iia7NE1Y4X fixture-rsa"
#define KEY_P256                                                                                                                                       \
	"ecdsa-sha2-nistp256 "                                                                                                                         \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKxCSZJsb9bHpQc33aqwaGTQHdlBzt5f7D7uHk0VGkfRGbqaBZHfvCE6wcHL4NEvO4VCvrTwmPirjQjNUqAr3kA=" \
	" fixture-p256"
#define KEY_P384                                                                                            \
	"ecdsa-sha2-nistp384 "                                                                              \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBNXtU+gvGpA3oww9As2zxn0bnVrcoPLIjrv4uqng4jQN+" \
	"OF2uZ1iC0iUaYzHkTbHI6ZCKT3jPCn2PUzamZRWAZneeoAf5WHRV1ZYOiriOWT6eDRcCwkIh0NT7xDcDY8NRw=="
#define KEY_P521                                                                                                                                  \
	"ecdsa-sha2-nistp521 "                                                                                                                    \
	"AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAA95SZU1y+UfYtQpIBwBD9eL0WsMmwas9ce+0XO+"                                           \
	"DbPW3Pe2Nrg91pGiZY8Ie9j1pIjCK99Xs5vQx8sxHZbBTpLBgBCXzJlA2uo0aM/HSyTCXxvS7q1TzGRoBDnILGEcX8SldLTf9D0WkNI2sCVO4HQtstsyerFPPQfSzRM3NbNwu1/" \
	"YQ== fixture-p521"

#define USER_DATA_CONFIG "#cloud-config\nruncmd:\n  - [touch, /tmp/pool-was-here]\n"

/* An input and what is expected of it: a reason in the refusal, a type. */
typedef struct {
	const gchar *input;
	const gchar *expected;
} Case;

static void
assert_refused (GError *error, const gchar *reason)
{
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	if (strstr (error->message, reason) == NULL)
		g_error ("'%s' is not in the refusal: %s", reason, error->message);
}

typedef gboolean (*CheckFunc) (const gchar *input, GError **error);

/* Each input refused by @check with InvalidArgument and its reason. */
static void
assert_all_refused (const Case *cases, guint count, CheckFunc check)
{
	for (guint i = 0; i < count; i++) {
		g_autoptr (GError) error = NULL;
		g_autofree gchar *shown = cases[i].input != NULL ? g_strescape (cases[i].input, NULL) : NULL;

		g_test_message ("refused: %.80s", shown != NULL ? shown : "(null)");
		g_assert_false (check (cases[i].input, &error));
		assert_refused (error, cases[i].expected);
	}
}

static gboolean
check_user_data_text (const gchar *text, GError **error)
{
	return nf_seed_check_user_data (text, strlen (text), error);
}

/* The wire format of a key blob: each field a uint32 length and its bytes. */
static void
append_field (GByteArray *blob, const gchar *field, gsize len)
{
	guint32 be = GUINT32_TO_BE ((guint32) len);

	g_byte_array_append (blob, (const guint8 *) &be, sizeof be);
	g_byte_array_append (blob, (const guint8 *) field, (guint) len);
}

/* A key line of @type whose blob has @fields after its type (security keys,
 * which ssh-keygen cannot make without a token). */
static gchar *
make_key_line (const gchar *line_type,
	       const gchar *blob_type,
	       const gchar *const *fields,
	       const gchar *comment)
{
	g_autoptr (GByteArray) blob = g_byte_array_new ();
	g_autofree gchar *data = NULL;

	append_field (blob, blob_type, strlen (blob_type));
	for (guint i = 0; fields != NULL && fields[i] != NULL; i++)
		append_field (blob, fields[i], strlen (fields[i]));
	data = g_base64_encode (blob->data, blob->len);
	return g_strdup_printf ("%s %s%s%s", line_type, data, comment ? " " : "", comment ? comment : "");
}

static void
test_ssh_user_good (void)
{
	const gchar *good[] = {"nestfarm", "a", "dev-ops_1", "debian", "abcdefghijklmnopqrstuvwxyz012345"};

	for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
		g_autoptr (GError) error = NULL;

		g_test_message ("good ssh user: %s", good[i]);
		g_assert_true (nf_seed_check_ssh_user (good[i], &error));
		g_assert_no_error (error);
	}
}

static void
test_ssh_user_bad (void)
{
	const Case bad[] = {
		{NULL, "is empty"},
		{"", "is empty"},
		{"root", "cannot be root: cloud images refuse root logins"},
		{"Admin", "not a login name Debian accepts"},
		{"1abc", "must start with a-z"},
		{"-abc", "must start with a-z"},
		{"_abc", "must start with a-z"},
		{"a b", "not a login name"},
		{"a.b", "not a login name"},
		{"abc$", "not a login name"},
		{"a:b", "not a login name"},
		{"us\xc3\xa9r", "not a login name"},
		{"abc\n", "not a login name"},
		{"abcdefghijklmnopqrstuvwxyz0123456", "longer than 32"},
	};

	assert_all_refused (bad, G_N_ELEMENTS (bad), nf_seed_check_ssh_user);
}

static void
assert_key_good (const gchar *line)
{
	g_autoptr (GError) error = NULL;

	g_test_message ("good key: %.60s", line);
	if (!nf_seed_check_ssh_key (line, &error))
		g_error ("refused %s: %s", line, error->message);
}

static void
test_ssh_key_fixed (void)
{
	const gchar *good[] = {
		KEY_ED25519,
		"ssh-ed25519 " KEY_ED25519_DATA,
		"ssh-ed25519\t" KEY_ED25519_DATA "  a comment: with \"quotes\", 'x' # and \xc3\xbcn\xc3\xaf"
		"code",
		KEY_RSA,
		KEY_P256,
		KEY_P384,
		KEY_P521,
	};
	const gchar *sk_ed25519[] = {"0123456789abcdef0123456789abcdef", "ssh:", NULL};
	const gchar *sk_ecdsa[] = {"nistp256",
				   "\x04"
				   " sixty-five bytes of a point, more or less",
				   "ssh:",
				   NULL};
	g_autofree gchar *sk1 = make_key_line ("sk-ssh-ed25519@openssh.com",
					       "sk-ssh-ed25519@openssh.com",
					       sk_ed25519,
					       "yubikey");
	g_autofree gchar *sk2 = make_key_line ("sk-ecdsa-sha2-nistp256@openssh.com",
					       "sk-ecdsa-sha2-nistp256@openssh.com",
					       sk_ecdsa,
					       NULL);

	for (guint i = 0; i < G_N_ELEMENTS (good); i++)
		assert_key_good (good[i]);
	assert_key_good (sk1);
	assert_key_good (sk2);
}

static gchar *
run (const gchar *const *argv)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GSubprocess) process = NULL;
	g_autofree gchar *output = NULL;

	process = g_subprocess_newv (argv,
				     G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
				     &error);
	g_assert_no_error (error);
	g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
	g_assert_no_error (error);
	if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
		g_error ("%s failed: %s", argv[0], output);
	return g_steal_pointer (&output);
}

/* Fresh keys of each type from this machine's ssh-keygen (where there is
 * none, the fixed keys above stand in). */
static void
test_ssh_key_generated (void)
{
	const gchar *types[][3] = {
		{"ed25519", "256", "ed"},
		{"rsa", "3072", "rsa"},
		{"ecdsa", "256", "p256"},
		{"ecdsa", "384", "p384"},
		{"ecdsa", "521", "p521"},
	};
	g_autofree gchar *keygen = g_find_program_in_path ("ssh-keygen");
	g_autofree gchar *dir = NULL;

	if (keygen == NULL) {
		g_test_message ("no ssh-keygen here: the fixed keys stand for the generated ones");
		return;
	}
	dir = g_dir_make_tmp ("test-seed-keys-XXXXXX", NULL);
	g_assert_nonnull (dir);
	for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
		g_autofree gchar *path = g_build_filename (dir, types[i][2], NULL);
		g_autofree gchar *pub = g_strconcat (path, ".pub", NULL);
		g_autofree gchar *line = NULL;
		const gchar *argv[] = {keygen,
				       "-q",
				       "-t",
				       types[i][0],
				       "-b",
				       types[i][1],
				       "-N",
				       "",
				       "-C",
				       "made by test-seed",
				       "-f",
				       path,
				       NULL};

		g_free (run (argv));
		g_assert_true (g_file_get_contents (pub, &line, NULL, NULL));
		g_strchomp (line);
		assert_key_good (line);
		g_unlink (path);
		g_unlink (pub);
	}
	g_rmdir (dir);
}

static void
test_ssh_key_bad (void)
{
	const gchar *key_only[] = {NULL};
	const gchar *short_key[] = {"0123", NULL};
	g_autofree gchar *mismatch = g_strconcat ("ssh-rsa " KEY_ED25519_DATA, NULL);
	g_autofree gchar *type_only = make_key_line ("ssh-ed25519", "ssh-ed25519", key_only, NULL);
	g_autofree gchar *other_blob =
		make_key_line ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", short_key, NULL);
	g_autofree gchar *not_wire =
		g_strconcat ("ssh-ed25519 aGVsbG8gd29ybGQhIHRoaXMgaXMgbm90IGEga2V5", NULL);
	g_autofree gchar *padding = g_strnfill (NF_SSH_KEY_LINE_MAX, 'x');
	g_autofree gchar *huge_line = g_strconcat ("ssh-ed25519 " KEY_ED25519_DATA " ", padding, NULL);
	const Case bad[] = {
		{"", "is empty"},
		{"ssh-ed25519", "no key data"},
		{"ssh-ed25519 ", "no key data"},
		{KEY_ED25519 "\n", "line break"},
		{KEY_ED25519 "\n" KEY_RSA, "line break"},
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\nAAAAIKR06hbD7CvadRlB1Prpb/aAvCyL0qul5zw2mYzpzowY",
		 "line break"},
		{KEY_ED25519 "\r", "line break"},
		{"from=\"10.0.0.1\" " KEY_ED25519, "starts with options"},
		{"command=\"echo hi there\",no-pty " KEY_ED25519, "starts with options"},
		{"no-pty " KEY_ED25519, "starts with options"},
		{"restrict,pty " KEY_ED25519, "starts with options"},
		{"ssh-dss AAAAB3NzaC1kc3MAAACBAP",
		 "does not start with a key type nestfarm accepts ('ssh-dss')"},
		{"ssh-ed25519-cert-v01@openssh.com AAAA", "does not start with a key type"},
		{" " KEY_ED25519, "does not start with a key type"},
		{"SSH-ED25519 " KEY_ED25519_DATA, "does not start with a key type"},
		{"ssh-ed25519 AAAA!!!!", "not valid base64"},
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKR", "not valid base64"},
		{"ssh-ed25519 AA==AAAA", "not valid base64"},
		{"ssh-ed25519 ====", "not valid base64"},
		{mismatch, "is of type 'ssh-ed25519' but the line says ssh-rsa"},
		{other_blob, "is of type 'ecdsa-sha2-nistp384' but the line says ecdsa-sha2-nistp256"},
		{type_only, "ends after its type"},
		{not_wire, "not an OpenSSH public key of type ssh-ed25519"},
		{"ssh-ed25519 AAAA", "too short"},
		{KEY_ED25519 "\x01", "control character"},
		{"ssh-ed25519 " KEY_ED25519_DATA " tab\there", "control character"},
		{"ssh-ed25519 " KEY_ED25519_DATA " del\x7f", "control character"},
		{"ssh-ed25519 " KEY_ED25519_DATA " c1\xc2\x85", "control character"},
		{"ssh-ed25519 " KEY_ED25519_DATA " bad\xff", "not valid UTF-8"},
	};

	assert_all_refused (bad, G_N_ELEMENTS (bad), nf_seed_check_ssh_key);
	{
		g_autoptr (GError) error = NULL;

		g_assert_false (nf_seed_check_ssh_key (huge_line, &error));
		assert_refused (error, "longer than 16384 bytes");
	}
	{
		g_autoptr (GError) error = NULL;
		const gchar with_nul[] = "ssh-ed25519 " KEY_ED25519_DATA "\0 more";

		g_assert_false (nf_seed_check_ssh_key_len (with_nul, sizeof with_nul - 1, &error));
		assert_refused (error, "NUL byte");
	}
}

static void
test_user_data_good (void)
{
	const gchar *good[] = {
		"#cloud-config\n",
		"#cloud-config",
		"#cloud-config  \r\nruncmd: [[ls]]\r\n",
		"#cloud-config # with a comment\n{}",
		"#!/bin/sh\necho hi\n",
		"#!",
		"#cloud-boothook\n#!/bin/sh\necho early\n",
		"#include\nhttp://192.0.2.1/part\n",
		"#cloud-config-archive\n- type: text/cloud-config\n  content: '{}'\n",
		"#part-handler\ndef list_types(): return []\n",
		"## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}\n",
		"#cloud-config\nwrite_files:\n- path: /etc/motd\n  content: \"h\xc3\xa9llo \xe2\x9c\x93\"\n",
	};
	g_autofree gchar *largest = g_strnfill (NF_SEED_USER_DATA_MAX, '#');

	memcpy (largest, "#cloud-config\n", strlen ("#cloud-config\n"));
	for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
		g_autoptr (GError) error = NULL;

		g_assert_true (nf_seed_check_user_data (good[i], strlen (good[i]), &error));
		g_assert_no_error (error);
	}
	g_assert_true (nf_seed_check_user_data (largest, NF_SEED_USER_DATA_MAX, NULL));
}

static void
test_user_data_bad (void)
{
	const Case bad[] = {
		{"", "is empty"},
		{"users:\n- name: x\n", "starts with 'users:', which cloud-init does not take as a part"},
		{" #cloud-config\n", "does not take as a part"},
		{"#Cloud-Config\n", "does not take as a part"},
		{"#cloud-configX\n", "does not take as a part"},
		{"#cloud-config-jsonp\n", "does not take as a part"},
		{"#include-once\nhttp://x\n", "does not take as a part"},
		{"## template: jinja2\n", "does not take as a part"},
		{"\n#cloud-config\n", "does not take as a part"},
		{"#cloud-config\n\xff\xfe", "not valid UTF-8 (at byte 15)"},
		{"#cloud-config\n\xc3", "not valid UTF-8"},
		{"#!/bin/sh\necho \xed\xa0\x80\n", "not valid UTF-8"},
	};

	g_autoptr (GError) error = NULL;

	assert_all_refused (bad, G_N_ELEMENTS (bad), check_user_data_text);
	g_assert_false (check_user_data_text ("users: []\n", &error));
	assert_refused (error,
			"start it with #cloud-config, #!, #cloud-boothook, #include, #cloud-config-archive, "
			"#part-handler or ## template: jinja.");
}

static void
test_user_data_limits (void)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *over = g_strnfill (NF_SEED_USER_DATA_MAX + 1, '#');
	const gchar with_nul[] = "#cloud-config\nruncmd: [[ls]]\0\n";

	memcpy (over, "#cloud-config\n", strlen ("#cloud-config\n"));
	g_assert_false (nf_seed_check_user_data (over, NF_SEED_USER_DATA_MAX + 1, &error));
	assert_refused (error, "65537 bytes, more than 65536 (64 KiB)");
	g_clear_error (&error);
	g_assert_false (nf_seed_check_user_data (with_nul, sizeof with_nul - 1, &error));
	assert_refused (error, "NUL byte (at byte 29)");
}

static void
assert_refused_or_taken (gboolean taken, GError *error)
{
	if (taken)
		g_assert_no_error (error);
	else
		g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
}

/* Random bytes, and good inputs with random bytes changed, never crash the
 * checks: each is taken or refused with InvalidArgument. */
static void
test_fuzz (void)
{
	const gchar *seeds[] = {KEY_ED25519, KEY_RSA, KEY_P521, USER_DATA_CONFIG, "#!/bin/sh\necho hi\n"};

	for (guint round = 0; round < 4000; round++) {
		g_autoptr (GError) key_error = NULL;
		g_autoptr (GError) data_error = NULL;
		g_autoptr (GByteArray) input = g_byte_array_new ();
		gboolean taken;

		if (round % 2 == 0) {
			guint len = (guint) g_test_rand_int_range (0, round % 10 == 0 ? 20000 : 300);

			for (guint i = 0; i < len; i++)
				g_byte_array_append (input,
						     (guint8[]){(guint8) g_test_rand_int_range (0, 256)},
						     1);
		} else {
			const gchar *seed = seeds[g_test_rand_int_range (0, G_N_ELEMENTS (seeds))];

			g_byte_array_append (input, (const guint8 *) seed, (guint) strlen (seed));
			for (gint flips = g_test_rand_int_range (1, 4); flips > 0; flips--)
				input->data[g_test_rand_int_range (0, (gint32) input->len)] =
					(guint8) g_test_rand_int_range (0, 256);
		}
		taken = nf_seed_check_ssh_key_len ((const gchar *) input->data, input->len, &key_error);
		assert_refused_or_taken (taken, key_error);
		taken = nf_seed_check_user_data ((const gchar *) input->data, input->len, &data_error);
		assert_refused_or_taken (taken, data_error);
		g_byte_array_append (input, (const guint8 *) "", 1);
		g_clear_error (&key_error);
		taken = nf_seed_check_ssh_key ((const gchar *) input->data, &key_error);
		assert_refused_or_taken (taken, key_error);
	}
}

/* A comment a user may well have: quotes, colons, a hash, a backslash. */
#define ODD_COMMENT "me@host: \"work\" key, 'old' # {not: yaml} \\ [x] & *y !z \xc3\xa9"

static NfSeedSpec *
make_spec (const gchar *user_data)
{
	NfSeedSpec *spec = nf_seed_spec_new ();
	const gchar *keys[] = {"ssh-ed25519 " KEY_ED25519_DATA " " ODD_COMMENT, KEY_RSA, NULL};

	spec->node_name = g_strdup ("lab-1");
	spec->instance_id = g_strdup ("nestfarm-lab-1-1f2e3d");
	spec->ssh_user = g_strdup ("labuser");
	spec->ssh_keys = g_strdupv ((gchar **) keys);
	spec->user_data = g_strdup (user_data);
	spec->mac = g_strdup ("52:54:00:AB:cd:01");
	spec->owner = g_strdup ("nestfarm:nftest:lab-1");
	return spec;
}

static JsonObject *
parse_object (const gchar *text)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) node = json_from_string (text, &error);

	g_assert_no_error (error);
	g_assert_nonnull (node);
	g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
	return json_object_ref (json_node_get_object (node));
}

static void
test_meta_data (void)
{
	g_autoptr (NfSeedSpec) spec = make_spec (NULL);
	g_autofree gchar *text = NULL;
	g_autoptr (JsonObject) meta = NULL;
	const gchar *odd = "i-\"q\": {x} 'y' # z \\ w: - [a]";

	g_free (spec->instance_id);
	spec->instance_id = g_strdup (odd);
	text = nf_seed_render_meta_data (spec);
	meta = parse_object (text);
	g_assert_cmpuint (json_object_get_size (meta), ==, 2);
	g_assert_cmpstr (json_object_get_string_member (meta, "instance-id"), ==, odd);
	g_assert_cmpstr (json_object_get_string_member (meta, "local-hostname"), ==, "lab-1");
}

static void
test_network_config (void)
{
	g_autoptr (NfSeedSpec) spec = make_spec (NULL);
	g_autofree gchar *text = nf_seed_render_network_config (spec);
	g_autoptr (JsonObject) config = parse_object (text);
	JsonObject *ethernets, *nic;

	g_assert_cmpint (json_object_get_int_member (config, "version"), ==, 2);
	ethernets = json_object_get_object_member (config, "ethernets");
	g_assert_cmpuint (json_object_get_size (ethernets), ==, 1);
	nic = json_object_get_object_member (ethernets, "mgmt0");
	g_assert_nonnull (nic);
	g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (nic, "match"),
							"macaddress"),
			 ==,
			 "52:54:00:ab:cd:01");
	g_assert_true (json_object_get_boolean_member (nic, "dhcp4"));
	/* The NIC keeps the guest's own name for it. */
	g_assert_false (json_object_has_member (nic, "set-name"));
}

/* nestfarm's #cloud-config, read back: the user, the keys exactly, no
 * passwords, no root, the guest agent. */
static void
assert_cloud_config (const gchar *text, const NfSeedSpec *spec, gboolean merges)
{
	g_autoptr (JsonObject) config = NULL;
	JsonObject *user;
	JsonArray *keys, *runcmd, *agent;

	g_assert_true (g_str_has_prefix (text, "#cloud-config\n"));
	config = parse_object (text + strlen ("#cloud-config\n"));
	g_assert_cmpuint (json_object_get_array_member (config, "users") != NULL, ==, 1);
	g_assert_cmpuint (json_array_get_length (json_object_get_array_member (config, "users")), ==, 1);
	user = json_array_get_object_element (json_object_get_array_member (config, "users"), 0);
	g_assert_cmpstr (json_object_get_string_member (user, "name"), ==, spec->ssh_user);
	g_assert_cmpstr (json_object_get_string_member (user, "sudo"), ==, "ALL=(ALL) NOPASSWD:ALL");
	g_assert_cmpstr (json_object_get_string_member (user, "shell"), ==, "/bin/bash");
	g_assert_true (json_object_get_boolean_member (user, "lock_passwd"));
	keys = json_object_get_array_member (user, "ssh_authorized_keys");
	g_assert_cmpuint (json_array_get_length (keys), ==, g_strv_length (spec->ssh_keys));
	for (guint i = 0; spec->ssh_keys[i] != NULL; i++)
		g_assert_cmpstr (json_array_get_string_element (keys, i), ==, spec->ssh_keys[i]);
	g_assert_false (json_object_get_boolean_member (config, "ssh_pwauth"));
	g_assert_true (json_object_get_boolean_member (config, "disable_root"));
	runcmd = json_object_get_array_member (config, "runcmd");
	g_assert_cmpuint (json_array_get_length (runcmd), ==, 1);
	agent = json_array_get_array_element (runcmd, 0);
	g_assert_cmpuint (json_array_get_length (agent), ==, 4);
	g_assert_cmpstr (json_array_get_string_element (agent, 3), ==, "qemu-guest-agent");
	g_assert_cmpuint (json_object_has_member (config, "merge_how"), ==, merges);
	if (merges) {
		g_autoptr (JsonGenerator) generator = json_generator_new ();
		g_autofree gchar *merge_how = NULL;

		json_generator_set_root (generator, json_object_get_member (config, "merge_how"));
		merge_how = json_generator_to_data (generator, NULL);
		g_assert_cmpstr (merge_how,
				 ==,
				 "[{\"name\":\"list\",\"settings\":[\"append\"]},"
				 "{\"name\":\"dict\",\"settings\":[\"no_replace\",\"recurse_list\"]}]");
	}
}

static void
test_user_data_plain (void)
{
	g_autoptr (NfSeedSpec) spec = make_spec (NULL);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *text = nf_seed_render_user_data (spec, &error);

	g_assert_no_error (error);
	assert_cloud_config (text, spec, FALSE);
	g_assert_null (strstr (text, "Content-Type"));
}

static void
test_user_data_refused (void)
{
	const gchar *bad_key[] = {KEY_ED25519, "no-pty " KEY_RSA, NULL};
	g_autoptr (NfSeedSpec) spec = make_spec ("users: []\n");
	g_autoptr (GError) error = NULL;
	g_autofree gchar *text = nf_seed_render_user_data (spec, &error);

	g_assert_null (text);
	assert_refused (error, "does not take as a part");
	g_clear_error (&error);
	g_clear_pointer (&spec->user_data, g_free);
	g_strfreev (spec->ssh_keys);
	spec->ssh_keys = g_strdupv ((gchar **) bad_key);
	g_assert_null (nf_seed_render_user_data (spec, &error));
	assert_refused (error, "SSH key 2 of 2: The SSH key line starts with options");
	g_clear_error (&error);
	g_free (spec->ssh_user);
	spec->ssh_user = g_strdup ("root");
	g_assert_null (nf_seed_render_user_data (spec, &error));
	assert_refused (error, "cannot be root");
}

static GBytes *
part_content (GMimeObject *part)
{
	GMimeStream *out = g_mime_stream_mem_new ();
	GByteArray *bytes;
	GBytes *content;

	g_assert_true (GMIME_IS_PART (part));
	g_assert_cmpint (g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (part)),
							      out),
			 >=,
			 0);
	bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
	content = g_bytes_new (bytes->data, bytes->len);
	g_object_unref (out);
	return content;
}

static gchar *
mime_type_of (GMimeObject *object)
{
	return g_mime_content_type_get_mime_type (g_mime_object_get_content_type (object));
}

/* A multipart user-data read back with GMime: nestfarm's part, then the
 * pool's, byte for byte. */
static void
assert_multipart (const gchar *text, const NfSeedSpec *spec, const gchar *pool_type)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
	GMimeParser *parser = g_mime_parser_new_with_stream (stream);
	GMimeObject *top = g_mime_parser_construct_part (parser, NULL);
	g_autofree gchar *top_type = NULL;
	g_autofree gchar *own_type = NULL;
	g_autofree gchar *pool_part_type = NULL;
	g_autoptr (GBytes) own = NULL;
	g_autoptr (GBytes) pool = NULL;
	g_autofree gchar *own_text = NULL;

	g_autofree gchar *headers = g_strndup (text, strstr (text, "\n\n") - text + 1);

	/* cloud-init takes user-data as MIME only with this header. */
	g_assert_nonnull (strstr (headers, "MIME-Version: 1.0\n"));
	g_assert_nonnull (strstr (headers, "Content-Type: multipart/mixed;"));
	g_assert_nonnull (top);
	g_assert_true (GMIME_IS_MULTIPART (top));
	top_type = mime_type_of (top);
	g_assert_cmpstr (top_type, ==, "multipart/mixed");
	g_assert_cmpint (g_mime_multipart_get_count (GMIME_MULTIPART (top)), ==, 2);
	own_type = mime_type_of (g_mime_multipart_get_part (GMIME_MULTIPART (top), 0));
	pool_part_type = mime_type_of (g_mime_multipart_get_part (GMIME_MULTIPART (top), 1));
	g_assert_cmpstr (own_type, ==, "text/cloud-config");
	g_assert_cmpstr (pool_part_type, ==, pool_type);
	own = part_content (g_mime_multipart_get_part (GMIME_MULTIPART (top), 0));
	own_text = g_strndup (g_bytes_get_data (own, NULL), g_bytes_get_size (own));
	assert_cloud_config (own_text, spec, TRUE);
	pool = part_content (g_mime_multipart_get_part (GMIME_MULTIPART (top), 1));
	g_assert_cmpmem (g_bytes_get_data (pool, NULL),
			 g_bytes_get_size (pool),
			 spec->user_data,
			 strlen (spec->user_data));
	g_object_unref (top);
	g_object_unref (parser);
	g_object_unref (stream);
}

static void
test_user_data_multipart (void)
{
	const Case pools[] = {
		{USER_DATA_CONFIG, "text/cloud-config"},
		{"#!/bin/sh\r\necho \"a: b\" > /tmp/x\r\nexit 0", "text/x-shellscript"},
		{"#cloud-boothook\n#!/bin/sh\necho early\n\n\n", "text/cloud-boothook"},
		{"#include\nhttp://192.0.2.1/part\n", "text/x-include-url"},
		{"#cloud-config-archive\n- type: text/cloud-config\n  content: '{}'\n",
		 "text/cloud-config-archive"},
		{"#part-handler\ndef list_types(): return []\n", "text/part-handler"},
		{"## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}\n", "text/jinja2"},
		{"#!/bin/sh\n--=-boundary-looking\n--\nFrom me\n.\n" ODD_COMMENT "\n \t\n",
		 "text/x-shellscript"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (pools); i++) {
		g_autoptr (NfSeedSpec) spec = make_spec (pools[i].input);
		g_autoptr (GError) error = NULL;
		g_autofree gchar *text = nf_seed_render_user_data (spec, &error);

		g_test_message ("pool user-data of type %s", pools[i].expected);
		g_assert_no_error (error);
		assert_multipart (text, spec, pools[i].expected);
	}
}

static void
remove_tree (const gchar *path)
{
	g_autoptr (GDir) dir = NULL;
	const gchar *name;

	/* What xorriso extracts is read-only, its directories too. */
	g_chmod (path, 0700);
	dir = g_dir_open (path, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *child = g_build_filename (path, name, NULL);

		if (g_file_test (child, G_FILE_TEST_IS_DIR))
			remove_tree (child);
		else
			g_assert_cmpint (g_unlink (child), ==, 0);
	}
	g_assert_cmpint (g_rmdir (path), ==, 0);
}

static gchar *
write_iso (const gchar *dir, const gchar *name, GBytes *iso)
{
	g_autoptr (GError) error = NULL;
	gchar *path = g_build_filename (dir, name, NULL);

	g_file_set_contents (path, g_bytes_get_data (iso, NULL), (gssize) g_bytes_get_size (iso), &error);
	g_assert_no_error (error);
	return path;
}

static void
assert_file_is (const gchar *path, const gchar *expected)
{
	g_autofree gchar *content = NULL;
	gsize len = 0;

	g_assert_true (g_file_get_contents (path, &content, &len, NULL));
	g_assert_cmpmem (content, len, expected, strlen (expected));
}

static void
assert_extracted (const gchar *out, const NfSeedSpec *spec)
{
	g_autofree gchar *meta_data = nf_seed_render_meta_data (spec);
	g_autofree gchar *network_config = nf_seed_render_network_config (spec);
	g_autofree gchar *user_data = nf_seed_render_user_data (spec, NULL);
	g_autofree gchar *meta_path = g_build_filename (out, "meta-data", NULL);
	g_autofree gchar *network_path = g_build_filename (out, "network-config", NULL);
	g_autofree gchar *user_path = g_build_filename (out, "user-data", NULL);
	g_autofree gchar *user_text = NULL;
	g_autoptr (GDir) dir = g_dir_open (out, 0, NULL);
	guint count = 0;

	while (g_dir_read_name (dir) != NULL)
		count++;
	g_assert_cmpuint (count, ==, 3);
	assert_file_is (meta_path, meta_data);
	assert_file_is (network_path, network_config);
	if (spec->user_data == NULL) {
		assert_file_is (user_path, user_data);
		return;
	}
	/* Each rendering has a boundary of its own: read the parts back. */
	g_assert_true (g_file_get_contents (user_path, &user_text, NULL, NULL));
	assert_multipart (user_text, spec, "text/cloud-config");
}

/* The ISO as the real tools read it: xorriso's descriptor, its Rock Ridge
 * and Joliet trees, and the three files extracted byte for byte. */
static void
check_iso (const gchar *user_data)
{
	g_autoptr (NfSeedSpec) spec = make_spec (user_data);
	g_autoptr (GError) error = NULL;
	g_autoptr (GBytes) iso = nf_seed_build_iso (spec, &error);
	g_autofree gchar *dir = g_dir_make_tmp ("test-seed-iso-XXXXXX", NULL);
	g_autofree gchar *path = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *pvd = NULL;
	g_autofree gchar *toc = NULL;
	g_autofree gchar *owner = NULL;

	g_assert_no_error (error);
	g_assert_nonnull (iso);
	g_assert_cmpuint (g_bytes_get_size (iso) % 2048, ==, 0);
	path = write_iso (dir, "seed.iso", iso);
	out = g_build_filename (dir, "out", NULL);
	pvd = run ((const gchar *[]){"xorriso", "-indev", path, "-pvd_info", NULL});
	g_assert_nonnull (strstr (pvd, "\nVolume Id    : cidata\n"));
	g_assert_nonnull (strstr (pvd, "\nApp Id       : NESTFARM:NFTEST:LAB-1\n"));
	toc = run ((const gchar *[]){"xorriso", "-indev", path, "-toc", NULL});
	g_assert_nonnull (strstr (toc, "ISO offers   : Rock_Ridge Joliet"));
	g_free (run (
		(const gchar *[]){"xorriso", "-osirrox", "on", "-indev", path, "-extract", "/", out, NULL}));
	assert_extracted (out, spec);
	owner = nf_seed_iso_owner (g_bytes_get_data (iso, NULL), NF_SEED_OWNER_BYTES, &error);
	g_assert_no_error (error);
	g_assert_cmpstr (owner, ==, "nestfarm:nftest:lab-1");
	remove_tree (dir);
}

static void
test_iso (void)
{
	check_iso (NULL);
	check_iso (USER_DATA_CONFIG);
}

static void
assert_not_seed (const guint8 *data, gsize len, const gchar *reason)
{
	g_autoptr (GError) error = NULL;

	g_assert_null (nf_seed_iso_owner (data, len, &error));
	assert_refused (error, reason);
}

/* ISOs that are not nestfarm's seeds, some made by xorriso itself. */
static void
test_iso_owner_refused (void)
{
	g_autoptr (NfSeedSpec) spec = make_spec (NULL);
	g_autoptr (GBytes) iso = nf_seed_build_iso (spec, NULL);
	g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (iso, NULL), NF_SEED_OWNER_BYTES);
	g_autofree guint8 *noise = g_malloc (NF_SEED_OWNER_BYTES);
	g_autofree gchar *dir = g_dir_make_tmp ("test-seed-other-XXXXXX", NULL);
	g_autofree gchar *content = g_build_filename (dir, "content", NULL);
	g_autofree gchar *other_volume = g_build_filename (dir, "other-volume.iso", NULL);
	g_autofree gchar *other_tool = g_build_filename (dir, "other-tool.iso", NULL);
	g_autofree gchar *data = NULL;
	gsize len = 0;

	for (gsize i = 0; i < NF_SEED_OWNER_BYTES; i++)
		noise[i] = (guint8) g_test_rand_int_range (0, 256);
	assert_not_seed (noise, NF_SEED_OWNER_BYTES, "not an ISO 9660 image");
	assert_not_seed (g_bytes_get_data (iso, NULL), NF_SEED_OWNER_BYTES - 1, "not an ISO 9660 image");
	assert_not_seed (NULL, 0, "not an ISO 9660 image");
	memcpy (copy + 16 * 2048 + 40, "CIDATA2 ", 8);
	assert_not_seed (copy, NF_SEED_OWNER_BYTES, "volume id is not cidata");
	memcpy (copy + 16 * 2048 + 40, "CIDATA  ", 8);
	memcpy (copy + 16 * 2048 + 574, "NESTFARM:X Y", 12);
	assert_not_seed (copy, NF_SEED_OWNER_BYTES, "without nestfarm's owner tag");

	g_assert_true (g_mkdir (content, 0700) == 0);
	g_free (run ((const gchar *[]){"xorriso",
				       "-as",
				       "mkisofs",
				       "-quiet",
				       "-V",
				       "other",
				       "-A",
				       "nestfarm:nftest:lab-1",
				       "-R",
				       "-J",
				       "-o",
				       other_volume,
				       content,
				       NULL}));
	g_assert_true (g_file_get_contents (other_volume, &data, &len, NULL));
	assert_not_seed ((const guint8 *) data, len, "volume id is not cidata");
	g_clear_pointer (&data, g_free);
	g_free (run ((const gchar *[]){"xorriso",
				       "-as",
				       "mkisofs",
				       "-quiet",
				       "-V",
				       "cidata",
				       "-A",
				       "cloud-localds",
				       "-R",
				       "-J",
				       "-o",
				       other_tool,
				       content,
				       NULL}));
	g_assert_true (g_file_get_contents (other_tool, &data, &len, NULL));
	assert_not_seed ((const guint8 *) data, len, "without nestfarm's owner tag");
	remove_tree (dir);
}

static void
test_iso_spec_refused (void)
{
	const struct {
		gsize field; /* offset of a gchar * in NfSeedSpec */
		const gchar *value;
		const gchar *reason;
	} bad[] = {
		{G_STRUCT_OFFSET (NfSeedSpec, node_name), "Lab_1", "not a host name"},
		{G_STRUCT_OFFSET (NfSeedSpec, node_name), NULL, "not a host name"},
		{G_STRUCT_OFFSET (NfSeedSpec, node_name), "lab-", "not a host name"},
		{G_STRUCT_OFFSET (NfSeedSpec, instance_id), "", "instance id is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, instance_id), "a b", "instance id is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, mac), "52:54:00:ab:cd", "MAC address is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, mac), "52:54:00:ab:cd:zz", "MAC address is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, mac), "52-54-00-ab-cd-01", "MAC address is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, owner), NULL, "owner tag is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, owner), "other:lab-1", "owner tag is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, owner), "nestfarm:Lab-1", "owner tag is not valid"},
		{G_STRUCT_OFFSET (NfSeedSpec, ssh_user), "root", "cannot be root"},
		{G_STRUCT_OFFSET (NfSeedSpec, user_data), "", "user-data is empty"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autoptr (NfSeedSpec) spec = make_spec (NULL);
		g_autoptr (GError) error = NULL;
		gchar **field = G_STRUCT_MEMBER_P (spec, bad[i].field);

		g_free (*field);
		*field = g_strdup (bad[i].value);
		g_assert_null (nf_seed_build_iso (spec, &error));
		assert_refused (error, bad[i].reason);
	}
}

static void
test_too_many_keys (void)
{
	g_autoptr (NfSeedSpec) spec = make_spec (NULL);
	g_autoptr (GError) error = NULL;

	g_strfreev (spec->ssh_keys);
	spec->ssh_keys = g_new0 (gchar *, NF_SSH_KEYS_MAX + 2);
	for (guint i = 0; i <= NF_SSH_KEYS_MAX; i++)
		spec->ssh_keys[i] = g_strdup (KEY_ED25519);
	g_assert_null (nf_seed_render_user_data (spec, &error));
	assert_refused (error, "65 SSH keys, more than 64");
	g_clear_error (&error);
	g_clear_pointer (&spec->ssh_keys[NF_SSH_KEYS_MAX], g_free);
	g_free (nf_seed_render_user_data (spec, &error));
	g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_mime_init ();
	g_test_add_func ("/seed/ssh-user/good", test_ssh_user_good);
	g_test_add_func ("/seed/ssh-user/bad", test_ssh_user_bad);
	g_test_add_func ("/seed/ssh-key/fixed", test_ssh_key_fixed);
	g_test_add_func ("/seed/ssh-key/generated", test_ssh_key_generated);
	g_test_add_func ("/seed/ssh-key/bad", test_ssh_key_bad);
	g_test_add_func ("/seed/user-data/good", test_user_data_good);
	g_test_add_func ("/seed/user-data/bad", test_user_data_bad);
	g_test_add_func ("/seed/user-data/limits", test_user_data_limits);
	g_test_add_func ("/seed/fuzz", test_fuzz);
	g_test_add_func ("/seed/render/meta-data", test_meta_data);
	g_test_add_func ("/seed/render/network-config", test_network_config);
	g_test_add_func ("/seed/render/user-data", test_user_data_plain);
	g_test_add_func ("/seed/render/user-data-refused", test_user_data_refused);
	g_test_add_func ("/seed/render/user-data-multipart", test_user_data_multipart);
	g_test_add_func ("/seed/render/too-many-keys", test_too_many_keys);
	g_test_add_func ("/seed/iso/build", test_iso);
	g_test_add_func ("/seed/iso/owner-refused", test_iso_owner_refused);
	g_test_add_func ("/seed/iso/spec-refused", test_iso_spec_refused);
	return g_test_run ();
}
