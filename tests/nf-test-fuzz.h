/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Random and boundary arguments for nestfarmd's D-Bus methods (the
 * test-dbus-fuzz generator): right and wrong types, empty, huge and odd
 * strings, invalid UTF-8 in byte arrays, boundary numbers, deep variants,
 * option dictionaries with unknown, mistyped, duplicated or many keys,
 * non-canonical object paths. Seeded: the same seed gives the same values
 * for the same requests. */

/* Every pool the generated calls may make or touch is named so. */
#define NF_TEST_FUZZ_PREFIX    "fz"
#define NF_TEST_FUZZ_SEED_POOL NF_TEST_FUZZ_PREFIX "seed"

typedef enum {
	NF_TEST_FUZZ_RIGHT_TYPES, /* the method's signature, random values */
	NF_TEST_FUZZ_PLAUSIBLE,   /* what a sensible client sends */
	NF_TEST_FUZZ_TOO_MANY,    /* the right arguments and more */
	NF_TEST_FUZZ_ONE_WRONG,   /* one argument of a random type */
	NF_TEST_FUZZ_RANDOM,      /* a random signature */
} NfTestFuzzMode;

typedef struct {
	GRand *rand;
	/* What the test knows of the daemon, for values that hit something. */
	gchar *bridge;         /* the only trunk bridge a valid create may name */
	GPtrArray *paths;      /* object paths the walk found */
	GPtrArray *interfaces; /* interface names */
	GPtrArray *properties; /* property names */
	GHashTable *pools;     /* names of pools the generated calls made */
	guint pools_now;       /* pools the daemon has */
	guint pools_max;       /* more, and a valid create names one that exists */
	/* private */
	gchar *huge;
	gsize budget;
} NfTestFuzz;

NfTestFuzz *nf_test_fuzz_new (guint32 seed, const gchar *bridge);
void nf_test_fuzz_free (NfTestFuzz *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfTestFuzz, nf_test_fuzz_free)

guint nf_test_fuzz_pick (NfTestFuzz *self, guint n);
gboolean nf_test_fuzz_chance (NfTestFuzz *self, guint percent);
/* A known, odd, non-canonical or random object path; never one of a pool
 * or node the test did not make. */
gchar *nf_test_fuzz_path (NfTestFuzz *self);
/* Arguments for @method: a tuple, a new reference that may be floating
 * (take it with g_variant_take_ref()). Made safe: a valid call makes at
 * most a small, stopped one-node pool named NF_TEST_FUZZ_PREFIX..., scales
 * to two nodes at most, waits a few seconds at most for a shutdown, and
 * names no pool and no bridge the test did not make. */
GVariant *nf_test_fuzz_args (NfTestFuzz *self, GDBusMethodInfo *method, NfTestFuzzMode mode);
/* @n values of random types, as a tuple, made safe for @method. */
GVariant *nf_test_fuzz_random_args (NfTestFuzz *self, const gchar *method, guint n);

G_END_DECLS
