/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-test-fuzz"

#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "nestfarm/nf-names.h"
#include "nf-test-fuzz.h"

/* The generator behind test-dbus-fuzz: seeded random and boundary arguments
 * for each method of nestfarmd's introspection. */

#define ROOT      "/org/nestfarm/Farm1"
#define HUGE_SIZE (1024 * 1024)
/* Well under the system bus's message size limit. */
#define MESSAGE_BUDGET (4 * HUGE_SIZE)
/* Variants in variants, inside an a{sv}: well within the bus's limits. */
#define NEST_MAX 24

static const gchar *const odd_strings[] = {"",
					   "a",
					   "-",
					   "a-",
					   NF_TEST_FUZZ_PREFIX,
					   NF_TEST_FUZZ_PREFIX "-",
					   "kvm-compute",
					   "esxi-host",
					   "all",
					   "100-199,300",
					   "0",
					   "4095",
					   "1-4094",
					   "10-5",
					   "1,1,1",
					   "../../etc/passwd",
					   "/etc/shadow",
					   "/dev/zero",
					   "/proc/self/mem",
					   "/nonexistent.qcow2",
					   "rel/path.qcow2",
					   "%s%s%n%x",
					   "$(reboot)",
					   "`id`",
					   "a;b|c&d",
					   "<x a='&amp;'/>]]>",
					   "\"'\\",
					   "--help",
					   "\t\n\r\v\f",
					   "\x01\x02\x1b[2J\x7f",
					   "\xc3\xbcmlaut",
					   "\xe5\x90\x8d\xe5\x89\x8d",
					   "\xe2\x80\xaertl",
					   "zero\xe2\x80\x8bwidth",
					   "\xf0\x9f\x90\x84",
					   "\xef\xbb\xbf"
					   "bom",
					   "UPPER",
					   "a_b",
					   "a.b",
					   "a b",
					   " " NF_TEST_FUZZ_PREFIX,
					   "0" NF_TEST_FUZZ_PREFIX,
					   NF_TEST_FUZZ_PREFIX "abcdefghijklmnopqrstuvwxyz0123",
					   NF_TEST_FUZZ_PREFIX "abcdefghijklmnopqrstuvwxyz01234",
					   ROOT,
					   "org.nestfarm.Farm1.Pool",
					   "profile",
					   "image",
					   "memory-mib",
					   "trunk-bridge",
					   "shutdown-timeout",
					   "null",
					   "-1",
					   "4294967296"};

static const gchar *const odd_paths[] = {"/",
					 "/org",
					 "/org/nestfarm",
					 "/org/nestfarm/Farm2",
					 "/org/freedesktop/DBus",
					 ROOT,
					 ROOT "/pool",
					 ROOT "/node",
					 ROOT "/job",
					 ROOT "/Pool/" NF_TEST_FUZZ_SEED_POOL,
					 ROOT "/pool/" NF_TEST_FUZZ_SEED_POOL,
					 ROOT "/pool/" NF_TEST_FUZZ_SEED_POOL "/extra",
					 ROOT "/pool/fz_73eed",
					 ROOT "/pool/FZSEED",
					 ROOT "/pool/_66zseed",
					 ROOT "/pool/_",
					 ROOT "/pool/_2",
					 ROOT "/pool/_zz",
					 ROOT "/pool/_00",
					 ROOT "/pool/_2f",
					 ROOT "/pool/_2e_2e",
					 ROOT "/node/" NF_TEST_FUZZ_SEED_POOL "_2d1",
					 ROOT "/node/" NF_TEST_FUZZ_SEED_POOL "_2D1",
					 ROOT "/node/" NF_TEST_FUZZ_SEED_POOL "_2d01",
					 ROOT "/node/" NF_TEST_FUZZ_SEED_POOL "_2d0",
					 ROOT "/node/" NF_TEST_FUZZ_SEED_POOL "_2d10000",
					 ROOT "/node/" NF_TEST_FUZZ_SEED_POOL,
					 ROOT "/job/0",
					 ROOT "/job/01",
					 ROOT "/job/1",
					 ROOT "/job/4294967295",
					 ROOT "/job/4294967296",
					 ROOT "/job/99999999999999999999",
					 ROOT "/job/_31"};

static const guint32 odd_u32[] = {0,
				  1,
				  2,
				  3,
				  127,
				  128,
				  255,
				  256,
				  1000,
				  1001,
				  3600,
				  3601,
				  4094,
				  4095,
				  65535,
				  65536,
				  G_MAXINT32,
				  G_MAXUINT32 - 1,
				  G_MAXUINT32};

static const gint64 odd_i64[] = {0, 1, -1, G_MININT32, G_MAXINT32, G_MAXUINT32, G_MAXINT64, G_MININT64};

/* The option keys of CreatePool, DeletePool and Stop, with their types. */
static const struct {
	const gchar *key;
	const gchar *type;
} known_options[] = {{"profile", "s"},
		     {"image", "s"},
		     {"vcpus", "u"},
		     {"memory-mib", "u"},
		     {"disk-gib", "u"},
		     {"trunk-bridge", "s"},
		     {"vlans", "s"},
		     {"start", "b"},
		     {"force", "b"},
		     {"shutdown-timeout", "u"}};

static GVariant *gen_any (NfTestFuzz *self, guint depth);

static guint
pick (NfTestFuzz *self, guint n)
{
	return (guint) g_rand_int_range (self->rand, 0, (gint32) n);
}

static gboolean
chance (NfTestFuzz *self, guint percent)
{
	return pick (self, 100) < percent;
}

#define PICK(array) ((array)[pick (self, G_N_ELEMENTS (array))])

static gchar *
random_chars (NfTestFuzz *self, const gchar *alphabet, guint len)
{
	gsize n = strlen (alphabet);
	gchar *s = g_malloc (len + 1);

	for (guint i = 0; i < len; i++)
		s[i] = alphabet[pick (self, (guint) n)];
	s[len] = '\0';
	return s;
}

static gchar *
random_utf8 (NfTestFuzz *self, guint len)
{
	GString *s = g_string_new (NULL);

	for (guint i = 0; i < len; i++) {
		gunichar c = 1 + pick (self, chance (self, 50) ? 0x7f : 0x10ffff);

		if (g_unichar_validate (c))
			g_string_append_unichar (s, c);
	}
	return g_string_free (s, FALSE);
}

static gboolean
spend (NfTestFuzz *self, gsize bytes)
{
	if (bytes > self->budget)
		return FALSE;
	self->budget -= bytes;
	return TRUE;
}

static gchar *
gen_string (NfTestFuzz *self)
{
	guint r = pick (self, 100);
	guint long_len = 33 + pick (self, 5000);

	if (r < 40)
		return g_strdup (PICK (odd_strings));
	if (r < 50)
		return g_strdup (chance (self, 50) ? NF_TEST_FUZZ_SEED_POOL : NF_TEST_FUZZ_SEED_POOL "-1");
	if (r < 75 || (r >= 90 && !spend (self, r < 97 ? long_len : HUGE_SIZE)))
		return random_chars (self, "abcdefghijklmnopqrstuvwxyz0123456789-", pick (self, 40));
	if (r < 90)
		return random_utf8 (self, pick (self, 64));
	if (r < 97)
		return g_strnfill (long_len, 'a');
	return g_strdup (self->huge);
}

/* Bytes, where invalid UTF-8 and NULs may go. */
static GVariant *
gen_bytes (NfTestFuzz *self)
{
	static const gchar *const odd[] = {"\xc3\x28", "\xff\xfe", "\xed\xa0\x80", "\xc0\xaf", "a\0b", "\x80"};
	g_autoptr (GByteArray) bytes = g_byte_array_new ();
	guint r = pick (self, 10);

	if (r < 4) {
		const gchar *s = PICK (odd);

		g_byte_array_append (bytes, (const guint8 *) s, s[0] == 'a' ? 3 : (guint) strlen (s));
	} else if (r < 9) {
		guint n = pick (self, 64);

		for (guint i = 0; i < n; i++) {
			guint8 b = (guint8) pick (self, 256);

			g_byte_array_append (bytes, &b, 1);
		}
	} else if (spend (self, HUGE_SIZE)) {
		g_byte_array_append (bytes, (const guint8 *) self->huge, HUGE_SIZE);
		bytes->data[HUGE_SIZE / 2] = 0xff;
	}
	return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes->data, bytes->len, 1);
}

static gchar *
gen_path (NfTestFuzz *self)
{
	guint r = pick (self, 100);

	if (r < 50)
		return g_strdup (PICK (odd_paths));
	if (r < 80 && self->paths->len > 0)
		return g_strdup (g_ptr_array_index (self->paths, pick (self, self->paths->len)));
	{
		static const gchar *const kinds[] = {"pool", "node", "job", "Pool", "x"};
		g_autofree gchar *component = random_chars (self,
							    "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_",
							    1 + pick (self, chance (self, 90) ? 40 : 400));

		return g_strdup_printf (ROOT "/%s/%s", PICK (kinds), component);
	}
}

static GVariant *
gen_number (NfTestFuzz *self, const gchar type)
{
	gint64 v = chance (self, 70) ? PICK (odd_i64) : (gint64) g_rand_int (self->rand) << pick (self, 32);

	switch (type) {
	case 'y':
		return g_variant_new_byte ((guint8) v);
	case 'n':
		return g_variant_new_int16 ((gint16) v);
	case 'q':
		return g_variant_new_uint16 ((guint16) v);
	case 'i':
		return g_variant_new_int32 ((gint32) v);
	case 'u':
		return g_variant_new_uint32 (chance (self, 70) ? PICK (odd_u32) : (guint32) v);
	case 'x':
		return g_variant_new_int64 (v);
	case 't':
		return g_variant_new_uint64 (chance (self, 10) ? G_MAXUINT64 : (guint64) v);
	default:
		g_assert_not_reached ();
	}
}

static GVariant *
gen_double (NfTestFuzz *self)
{
	const gdouble odd[] = {0.0, -0.0, 0.5, 1.0, -1.0, NAN, INFINITY, -INFINITY, DBL_MAX, DBL_MIN, 1e-310};

	return g_variant_new_double (PICK (odd));
}

static GVariant *
gen_deep_variant (guint levels)
{
	GVariant *value = g_variant_new_string ("deep");

	for (guint i = 0; i < levels; i++)
		value = g_variant_new_variant (value);
	return value;
}

/* Random types include 'g' (signature): GLib 2.74's GDBus gets some
 * messages with signature-keyed dictionaries (ssa{gy}) wrong and drops
 * the daemon's bus connection, a GLib bug below nestfarm (README,
 * Reliability); the daemon reconnects, which the fuzzer holds it to. */
static gchar *
gen_type_string (NfTestFuzz *self, guint depth)
{
	static const gchar basic[] = "bynqiuxtdsog";
	const guint n_basic = sizeof (basic) - 1;
	guint r = pick (self, depth >= 3 ? n_basic : n_basic + 5);

	if (r < n_basic)
		return g_strndup (basic + r, 1);
	switch (r - n_basic) {
	case 0:
		return g_strdup ("v");
	case 1:
		return g_strdup ("ay");
	case 2: {
		g_autofree gchar *inner = gen_type_string (self, depth + 1);

		return g_strconcat ("a", inner, NULL);
	}
	case 3: {
		g_autofree gchar *inner = gen_type_string (self, depth + 1);

		return g_strdup_printf ("a{%c%s}", basic[pick (self, n_basic)], inner);
	}
	default: {
		GString *s = g_string_new ("(");
		guint n = 1 + pick (self, 3);

		for (guint i = 0; i < n; i++) {
			g_autofree gchar *inner = gen_type_string (self, depth + 1);

			g_string_append (s, inner);
		}
		g_string_append_c (s, ')');
		return g_string_free (s, FALSE);
	}
	}
}

static GVariant *gen_options (NfTestFuzz *self, guint depth);

static GVariant *
gen_value (NfTestFuzz *self, const GVariantType *type, guint depth)
{
	const gchar *s = g_variant_type_peek_string (type);

	if (g_variant_type_equal (type, G_VARIANT_TYPE_VARDICT))
		return gen_options (self, depth);
	if (g_variant_type_equal (type, G_VARIANT_TYPE_BYTESTRING))
		return gen_bytes (self);
	switch (s[0]) {
	case 'b':
		return g_variant_new_boolean (chance (self, 50));
	case 'y':
	case 'n':
	case 'q':
	case 'i':
	case 'u':
	case 'x':
	case 't':
		return gen_number (self, s[0]);
	case 'd':
		return gen_double (self);
	case 's': {
		g_autofree gchar *str = gen_string (self);

		return g_variant_new_string (str);
	}
	case 'o': {
		g_autofree gchar *path = gen_path (self);

		return g_variant_new_object_path (path);
	}
	case 'g': {
		static const gchar *const sigs[] = {"", "s", "a{sv}", "(sua{sv})", "v", "aaaas", "h", "a(ii)"};

		return g_variant_new_signature (PICK (sigs));
	}
	case 'v':
		return g_variant_new_variant (chance (self, 10) ? gen_deep_variant (1 + pick (self, NEST_MAX))
								: gen_any (self, depth + 1));
	case 'a': {
		const GVariantType *element = g_variant_type_element (type);
		GVariantBuilder builder;
		guint n = depth == 0 && chance (self, 5) ? 100 + pick (self, 2000) : pick (self, 5);

		g_variant_builder_init (&builder, type);
		for (guint i = 0; i < n; i++)
			g_variant_builder_add_value (&builder, gen_value (self, element, depth + 1));
		return g_variant_builder_end (&builder);
	}
	case '(':
	case '{': {
		GVariantBuilder builder;

		g_variant_builder_init (&builder, type);
		for (const GVariantType *t = g_variant_type_first (type); t != NULL;
		     t = g_variant_type_next (t))
			g_variant_builder_add_value (&builder, gen_value (self, t, depth + 1));
		return g_variant_builder_end (&builder);
	}
	default:
		g_assert_not_reached ();
	}
}

/* A value of a random type (never a handle, a maybe or an empty tuple,
 * which D-Bus cannot carry). */
static GVariant *
gen_any (NfTestFuzz *self, guint depth)
{
	g_autofree gchar *type = depth > 4 ? g_strdup ("s") : gen_type_string (self, depth);

	return gen_value (self, G_VARIANT_TYPE (type), depth);
}

static GVariant *
gen_option_value (NfTestFuzz *self, const gchar *key, const gchar *type)
{
	const gchar *choices[6] = {NULL};

	if (g_strcmp0 (type, "u") == 0)
		return gen_number (self, 'u');
	if (g_strcmp0 (type, "b") == 0)
		return g_variant_new_boolean (chance (self, 50));
	if (g_strcmp0 (key, "image") == 0) {
		choices[0] = g_getenv ("NF_TEST_IMAGE");
		choices[1] = "/dev/zero";
		choices[2] = "/nonexistent.qcow2";
		choices[3] = "no-such-volume";
	} else if (g_strcmp0 (key, "profile") == 0) {
		choices[0] = "kvm-compute";
		choices[1] = "esxi-host";
		choices[2] = "no-such-profile";
	} else if (g_strcmp0 (key, "vlans") == 0) {
		choices[0] = "all";
		choices[1] = "100-199,300";
		choices[2] = "4094";
		choices[3] = "1-4094";
	} else if (g_strcmp0 (key, "trunk-bridge") == 0) {
		choices[0] = self->bridge;
		choices[1] = "-bad";
		choices[2] = "a-much-too-long-bridge";
	}
	if (choices[0] != NULL && chance (self, 60)) {
		guint n = 0;

		while (n < G_N_ELEMENTS (choices) && choices[n] != NULL)
			n++;
		return g_variant_new_string (choices[pick (self, n)]);
	}
	return gen_value (self, G_VARIANT_TYPE_STRING, 0);
}

static GVariant *
gen_plausible_option (NfTestFuzz *self, const gchar *key, const gchar *type)
{
	if (g_str_equal (key, "memory-mib"))
		return g_variant_new_uint32 (chance (self, 50) ? 128 : 256);
	if (g_str_equal (type, "u"))
		return g_variant_new_uint32 (1 + pick (self, 2));
	if (g_str_equal (type, "s") && !g_str_equal (key, "trunk-bridge"))
		return gen_option_value (self, key, type);
	if (g_str_equal (type, "s"))
		return g_variant_new_string (self->bridge);
	return g_variant_new_boolean (chance (self, 50));
}

/* What a sensible client sends: known keys, reasonable values. */
static GVariant *
gen_plausible_options (NfTestFuzz *self)
{
	GVariantBuilder builder;
	guint n = pick (self, 4);

	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	for (guint i = 0; i < n; i++) {
		guint k = pick (self, G_N_ELEMENTS (known_options));

		g_variant_builder_add (&builder,
				       "{sv}",
				       known_options[k].key,
				       gen_plausible_option (self,
							     known_options[k].key,
							     known_options[k].type));
	}
	return g_variant_builder_end (&builder);
}

static GVariant *
gen_options (NfTestFuzz *self, guint depth)
{
	GVariantBuilder builder;
	guint r = pick (self, 20);
	guint n = r < 4 ? 0 : r < 5 && depth == 0 ? 2000 + pick (self, 20000) : 1 + pick (self, 6);

	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	for (guint i = 0; i < n; i++) {
		guint k = pick (self, G_N_ELEMENTS (known_options));
		const gchar *key = known_options[k].key;
		const gchar *type = known_options[k].type;

		if (n > 100) {
			/* A huge dictionary: mostly unknown keys. */
			g_autofree gchar *unknown = g_strdup_printf ("k%u", i);

			g_variant_builder_add (&builder,
					       "{sv}",
					       i % 100 == 0 ? key : unknown,
					       g_variant_new_uint32 (i));
			continue;
		}
		switch (pick (self, 6)) {
		case 0:
		case 1:
			g_variant_builder_add (&builder, "{sv}", key, gen_option_value (self, key, type));
			break;
		case 2:
			g_variant_builder_add (&builder, "{sv}", key, gen_any (self, 1));
			break;
		case 3: {
			g_autofree gchar *unknown = gen_string (self);

			g_variant_builder_add (&builder, "{sv}", unknown, gen_any (self, 1));
			break;
		}
		case 4:
			/* The same key twice, both of the right type. */
			g_variant_builder_add (&builder, "{sv}", key, gen_option_value (self, key, type));
			g_variant_builder_add (&builder, "{sv}", key, gen_option_value (self, key, type));
			break;
		default:
			g_variant_builder_add (&builder,
					       "{sv}",
					       key,
					       gen_deep_variant (1 + pick (self, NEST_MAX)));
			break;
		}
	}
	return g_variant_builder_end (&builder);
}

/* --- keeping random valid calls cheap and within the test's own pools --- */

/* A valid pool name the test may use: NF_TEST_FUZZ_PREFIX in front of any other. */
static gchar *
own_pool_name (const gchar *name)
{
	gchar *own;
	gsize len;

	if (!nf_pool_name_validate (name, NULL) || g_str_has_prefix (name, NF_TEST_FUZZ_PREFIX))
		return g_strdup (name);
	own = g_strdup_printf (NF_TEST_FUZZ_PREFIX "%.30s", name);
	len = strlen (own);
	if (own[len - 1] == '-')
		own[len - 1] = 'z';
	return own;
}

static gboolean
bridge_name_valid (const gchar *name)
{
	gsize len = strlen (name);

	if (len < 1 || len > 15 || name[0] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum (name[i]) && strchr ("-_.", name[i]) == NULL)
			return FALSE;
	}
	return TRUE;
}

/* A valid create starts nothing, makes one small node and uses the test's
 * bridge; the options stay as random as that allows (the first of a
 * duplicated key is the one that counts). */
static GVariant *
safe_create_options (NfTestFuzz *self, GVariant *options)
{
	GVariantBuilder builder;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add (&builder, "{sv}", "start", g_variant_new_boolean (FALSE));
	if (chance (self, 75)) {
		g_variant_builder_add (&builder, "{sv}", "memory-mib", g_variant_new_uint32 (128));
		g_variant_builder_add (&builder, "{sv}", "vcpus", g_variant_new_uint32 (1));
		g_variant_builder_add (&builder, "{sv}", "disk-gib", g_variant_new_uint32 (1));
	}
	g_variant_iter_init (&iter, options);
	while (g_variant_iter_loop (&iter, "{&sv}", &key, &value)) {
		if (g_str_equal (key, "start") && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
			continue;
		if (g_str_equal (key, "trunk-bridge") &&
		    g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) &&
		    bridge_name_valid (g_variant_get_string (value, NULL)) &&
		    g_strcmp0 (g_variant_get_string (value, NULL), self->bridge) != 0)
			continue;
		g_variant_builder_add (&builder, "{sv}", key, value);
	}
	return g_variant_builder_end (&builder);
}

/* A valid shutdown timeout is a few seconds at most. */
static GVariant *
safe_stop_options (GVariant *options)
{
	GVariantBuilder builder;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init (&iter, options);
	while (g_variant_iter_loop (&iter, "{&sv}", &key, &value)) {
		if (g_str_equal (key, "shutdown-timeout") &&
		    g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32) &&
		    g_variant_get_uint32 (value) <= 3600) {
			g_variant_builder_add (&builder,
					       "{sv}",
					       key,
					       g_variant_new_uint32 (g_variant_get_uint32 (value) % 4));
			continue;
		}
		g_variant_builder_add (&builder, "{sv}", key, value);
	}
	return g_variant_builder_end (&builder);
}

/* Takes @args; returns what may be sent instead. By method name and
 * signature only: whatever the interface, even none. */
static GVariant *
make_safe (NfTestFuzz *self, const gchar *method, GVariant *args)
{
	g_autoptr (GVariant) owned = g_variant_take_ref (args);

	if (g_str_equal (method, "CreatePool") &&
	    g_variant_is_of_type (owned, G_VARIANT_TYPE ("(sua{sv})"))) {
		const gchar *name;
		guint32 count;
		g_autoptr (GVariant) options = NULL;
		g_autofree gchar *own = NULL;

		g_variant_get (owned, "(&su@a{sv})", &name, &count, &options);
		own = own_pool_name (name);
		if (nf_pool_name_validate (own, NULL)) {
			if (count >= 1 && count <= 1000)
				count = 1;
			/* Enough pools: this one will be told it exists. */
			if (self->pools_now >= self->pools_max) {
				g_free (own);
				own = g_strdup (NF_TEST_FUZZ_SEED_POOL);
			}
		}
		return g_variant_new ("(su@a{sv})", own, count, safe_create_options (self, options));
	}
	if (g_str_equal (method, "DeletePool") && g_variant_is_of_type (owned, G_VARIANT_TYPE ("(sa{sv})"))) {
		const gchar *name;
		g_autoptr (GVariant) options = NULL;
		g_autofree gchar *own = NULL;

		g_variant_get (owned, "(&s@a{sv})", &name, &options);
		own = own_pool_name (name);
		return g_variant_new ("(s@a{sv})", own, safe_stop_options (options));
	}
	if (g_strv_contains ((const gchar *const[]){"Stop", "Delete", NULL}, method) &&
	    g_variant_is_of_type (owned, G_VARIANT_TYPE ("(a{sv})"))) {
		g_autoptr (GVariant) options = g_variant_get_child_value (owned, 0);

		return g_variant_new ("(@a{sv})", safe_stop_options (options));
	}
	if (g_str_equal (method, "Scale") && g_variant_is_of_type (owned, G_VARIANT_TYPE ("(u)"))) {
		guint32 count;

		g_variant_get (owned, "(u)", &count);
		return g_variant_new ("(u)", count <= 1000 ? count % 3 : count);
	}
	return g_steal_pointer (&owned);
}

/* --- arguments --- */

static GVariant *
gen_named_string (NfTestFuzz *self, const gchar *arg_name)
{
	if (chance (self, 30))
		return gen_value (self, G_VARIANT_TYPE_STRING, 0);
	if (strstr (arg_name, "interface") != NULL) {
		if (chance (self, 20) || self->interfaces->len == 0)
			return g_variant_new_string ("org.nestfarm.Farm1.Bogus");
		return g_variant_new_string (
			g_ptr_array_index (self->interfaces, pick (self, self->interfaces->len)));
	}
	if (strstr (arg_name, "property") != NULL && self->properties->len > 0)
		return g_variant_new_string (
			g_ptr_array_index (self->properties, pick (self, self->properties->len)));
	return gen_value (self, G_VARIANT_TYPE_STRING, 0);
}

static GVariant *
gen_plausible_pool_name (NfTestFuzz *self)
{
	g_autofree gchar *random = NULL;

	if (chance (self, 50) && g_hash_table_size (self->pools) > 0) {
		g_autoptr (GList) names = g_hash_table_get_keys (self->pools);

		return g_variant_new_string (g_list_nth_data (names, pick (self, g_list_length (names))));
	}
	if (chance (self, 30))
		return g_variant_new_string (NF_TEST_FUZZ_SEED_POOL);
	random = random_chars (self, "abcdefghijklmnopqrstuvwxyz0123456789", 1 + pick (self, 8));
	return g_variant_new_take_string (g_strconcat (NF_TEST_FUZZ_PREFIX, random, NULL));
}

static GVariant *
gen_plausible_args (NfTestFuzz *self, GDBusMethodInfo *method)
{
	g_autoptr (GPtrArray) children = g_ptr_array_new ();

	for (guint i = 0; method->in_args != NULL && method->in_args[i] != NULL; i++) {
		GDBusArgInfo *arg = method->in_args[i];

		if (g_str_equal (arg->signature, "s") && g_str_equal (arg->name, "name"))
			g_ptr_array_add (children, gen_plausible_pool_name (self));
		else if (g_str_equal (arg->signature, "s"))
			g_ptr_array_add (children, gen_named_string (self, arg->name));
		else if (g_str_equal (arg->signature, "u"))
			g_ptr_array_add (children, g_variant_new_uint32 (pick (self, 4)));
		else if (g_str_equal (arg->signature, "a{sv}"))
			g_ptr_array_add (children, gen_plausible_options (self));
		else
			g_ptr_array_add (children, gen_value (self, G_VARIANT_TYPE (arg->signature), 0));
	}
	return g_variant_new_tuple ((GVariant **) children->pdata, children->len);
}

static GVariant *
gen_args (NfTestFuzz *self, GDBusMethodInfo *method, gboolean wrong_one)
{
	g_autoptr (GPtrArray) children = g_ptr_array_new ();
	guint n = 0;
	guint wrong;

	while (method->in_args != NULL && method->in_args[n] != NULL)
		n++;
	wrong = n > 0 ? pick (self, n) : 0;
	for (guint i = 0; i < n; i++) {
		GDBusArgInfo *arg = method->in_args[i];

		if (wrong_one && i == wrong)
			g_ptr_array_add (children, gen_any (self, 1));
		else if (g_str_equal (arg->signature, "s"))
			g_ptr_array_add (children, gen_named_string (self, arg->name));
		else
			g_ptr_array_add (children, gen_value (self, G_VARIANT_TYPE (arg->signature), 0));
	}
	return g_variant_new_tuple ((GVariant **) children->pdata, children->len);
}

static GVariant *
gen_random_args (NfTestFuzz *self, guint n)
{
	g_autoptr (GPtrArray) children = g_ptr_array_new ();

	for (guint i = 0; i < n; i++)
		g_ptr_array_add (children, gen_any (self, 0));
	return g_variant_new_tuple ((GVariant **) children->pdata, children->len);
}

/* A pool or node path that names a pool the test did not make (one the
 * daemon adopted from libvirt, some other test's). */
static gboolean
foreign_path (const gchar *path)
{
	g_autofree gchar *name = NULL;
	const gchar *component;

	if (g_str_has_prefix (path, ROOT "/pool/"))
		component = path + strlen (ROOT "/pool/");
	else if (g_str_has_prefix (path, ROOT "/node/"))
		component = path + strlen (ROOT "/node/");
	else
		return FALSE;
	name = nf_path_component_unescape (component);
	return name != NULL && name[0] != '\0' && !g_str_has_prefix (name, NF_TEST_FUZZ_PREFIX) &&
	       strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen (name);
}

static GVariant *
gen_too_many_args (NfTestFuzz *self, GDBusMethodInfo *method)
{
	g_autoptr (GVariant) right = g_variant_ref_sink (gen_args (self, method, FALSE));
	g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
	guint extra = 1 + pick (self, 3);

	for (gsize i = 0; i < g_variant_n_children (right); i++)
		g_ptr_array_add (children, g_variant_get_child_value (right, i));
	for (guint i = 0; i < extra; i++)
		g_ptr_array_add (children, g_variant_ref_sink (gen_any (self, 0)));
	return g_variant_new_tuple ((GVariant **) children->pdata, children->len);
}

/* --- the API --- */

NfTestFuzz *
nf_test_fuzz_new (guint32 seed, const gchar *bridge)
{
	NfTestFuzz *self = g_new0 (NfTestFuzz, 1);

	self->rand = g_rand_new_with_seed (seed);
	self->bridge = g_strdup (bridge);
	self->paths = g_ptr_array_new_with_free_func (g_free);
	self->interfaces = g_ptr_array_new_with_free_func (g_free);
	self->properties = g_ptr_array_new_with_free_func (g_free);
	self->pools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->pools_max = G_MAXUINT;
	self->huge = g_strnfill (HUGE_SIZE, 'x');
	return self;
}

void
nf_test_fuzz_free (NfTestFuzz *self)
{
	if (self == NULL)
		return;
	g_rand_free (self->rand);
	g_free (self->bridge);
	g_ptr_array_unref (self->paths);
	g_ptr_array_unref (self->interfaces);
	g_ptr_array_unref (self->properties);
	g_hash_table_unref (self->pools);
	g_free (self->huge);
	g_free (self);
}

guint
nf_test_fuzz_pick (NfTestFuzz *self, guint n)
{
	return pick (self, n);
}

gboolean
nf_test_fuzz_chance (NfTestFuzz *self, guint percent)
{
	return chance (self, percent);
}

gchar *
nf_test_fuzz_path (NfTestFuzz *self)
{
	for (;;) {
		g_autofree gchar *path = gen_path (self);

		if (!foreign_path (path))
			return g_steal_pointer (&path);
	}
}

GVariant *
nf_test_fuzz_args (NfTestFuzz *self, GDBusMethodInfo *method, NfTestFuzzMode mode)
{
	GVariant *args;

	self->budget = MESSAGE_BUDGET;
	switch (mode) {
	case NF_TEST_FUZZ_RIGHT_TYPES:
		args = gen_args (self, method, FALSE);
		break;
	case NF_TEST_FUZZ_PLAUSIBLE:
		args = gen_plausible_args (self, method);
		break;
	case NF_TEST_FUZZ_TOO_MANY:
		args = gen_too_many_args (self, method);
		break;
	case NF_TEST_FUZZ_ONE_WRONG:
		args = gen_args (self, method, TRUE);
		break;
	case NF_TEST_FUZZ_RANDOM:
	default:
		args = gen_random_args (self, pick (self, 5));
		break;
	}
	return make_safe (self, method->name, args);
}

GVariant *
nf_test_fuzz_random_args (NfTestFuzz *self, const gchar *method, guint n)
{
	self->budget = MESSAGE_BUDGET;
	return make_safe (self, method, gen_random_args (self, n));
}
