/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-libvirt"

/* The schema gate: the first validated define on a connection runs alone.
 *
 * libvirtd checks a validated define against its RelaxNG schema with
 * libxml2, whose datatype library (2.9, Debian 12) is set up lazily, on
 * first use, without a lock. Two defines that reach it at once on a
 * libvirtd that has not yet done one can fail with "Error type
 * 'unsignedLong' is not exported by type library". Once one validated define has gone
 * through, the library is set up for the life of that libvirtd. Every new
 * connection may be to a new libvirtd (a restart is what drops it), so
 * each one starts cold.
 *
 * The gate also remembers the shapes of domain XML that passed libvirtd's
 * schema check on the current generation (see nf_connection_define_domain):
 * libvirtd reads its whole RelaxNG schema again for every validated define,
 * which costs more than the define itself, and nodes of one pool differ only
 * in values the schema takes whatever nestfarm puts there. */

/* Distinct shapes kept before the set starts over (a shape is a pool's
 * kind of node; hundreds of live kinds would only cost extra checks). */
#define NF_SCHEMA_MAX_SHAPES 256

#include "config.h"

#include "nf-schema-gate-private.h"

typedef enum {
	NF_SCHEMA_COLD,    /* nobody has warmed this generation up yet */
	NF_SCHEMA_WARMING, /* one caller defines alone; the others wait */
	NF_SCHEMA_WARM,    /* all go ahead in parallel */
} NfSchemaState;

struct _NfSchemaGate {
	GMutex lock;
	GCond changed;
	guint64 generation;
	NfSchemaState state;
	guint64 shapes_generation;
	GHashTable *shapes; /* set of shape keys validated on it */
};

NfSchemaGate *
nf_schema_gate_new (void)
{
	NfSchemaGate *gate = g_new0 (NfSchemaGate, 1);

	g_mutex_init (&gate->lock);
	g_cond_init (&gate->changed);
	gate->state = NF_SCHEMA_COLD;
	gate->shapes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	return gate;
}

void
nf_schema_gate_free (NfSchemaGate *gate)
{
	if (gate == NULL)
		return;
	g_mutex_clear (&gate->lock);
	g_cond_clear (&gate->changed);
	g_hash_table_unref (gate->shapes);
	g_free (gate);
}

gboolean
nf_schema_gate_enter (NfSchemaGate *gate, guint64 generation)
{
	g_autoptr (GMutexLocker) locker = NULL;

	g_return_val_if_fail (gate != NULL, FALSE);
	g_return_val_if_fail (generation != 0, FALSE);

	locker = g_mutex_locker_new (&gate->lock);
	for (;;) {
		if (generation > gate->generation) {
			/* A new connection: whoever still waits for the old
			 * one's warm-up goes on (and fails on it). */
			gate->generation = generation;
			gate->state = NF_SCHEMA_COLD;
			g_cond_broadcast (&gate->changed);
		}
		if (generation < gate->generation || gate->state == NF_SCHEMA_WARM)
			return FALSE;
		if (gate->state == NF_SCHEMA_COLD) {
			gate->state = NF_SCHEMA_WARMING;
			return TRUE;
		}
		g_cond_wait (&gate->changed, &gate->lock);
	}
}

void
nf_schema_gate_leave (NfSchemaGate *gate, guint64 generation, gboolean warmed)
{
	g_autoptr (GMutexLocker) locker = NULL;

	g_return_if_fail (gate != NULL);

	locker = g_mutex_locker_new (&gate->lock);
	if (generation != gate->generation || gate->state != NF_SCHEMA_WARMING)
		return;
	gate->state = warmed ? NF_SCHEMA_WARM : NF_SCHEMA_COLD;
	g_cond_broadcast (&gate->changed);
}

gboolean
nf_schema_gate_knows_shape (NfSchemaGate *gate, guint64 generation, const gchar *shape)
{
	g_autoptr (GMutexLocker) locker = NULL;

	g_return_val_if_fail (gate != NULL, FALSE);
	g_return_val_if_fail (shape != NULL, FALSE);

	locker = g_mutex_locker_new (&gate->lock);
	return generation == gate->shapes_generation && g_hash_table_contains (gate->shapes, shape);
}

void
nf_schema_gate_learn_shape (NfSchemaGate *gate, guint64 generation, const gchar *shape)
{
	g_autoptr (GMutexLocker) locker = NULL;

	g_return_if_fail (gate != NULL);
	g_return_if_fail (shape != NULL);

	locker = g_mutex_locker_new (&gate->lock);
	if (generation < gate->shapes_generation)
		return;
	/* A new libvirtd may ship another schema: what the old one passed
	 * says nothing about it. */
	if (generation > gate->shapes_generation ||
	    g_hash_table_size (gate->shapes) >= NF_SCHEMA_MAX_SHAPES) {
		g_hash_table_remove_all (gate->shapes);
		gate->shapes_generation = generation;
	}
	g_hash_table_add (gate->shapes, g_strdup (shape));
}
