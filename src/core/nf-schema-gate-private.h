/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The schema gate (core-private): see nf-schema-gate.c for why. */

/* Lets the first validated define on each connection to libvirtd run
 * alone, and every later one in parallel. A connection is a generation:
 * a number that grows with each (re)connect, and a newer one starts cold. */
typedef struct _NfSchemaGate NfSchemaGate;

NfSchemaGate *nf_schema_gate_new (void);
void nf_schema_gate_free (NfSchemaGate *gate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfSchemaGate, nf_schema_gate_free)

/* Blocks while another caller warms @generation up. TRUE: the caller is
 * now the one that warms it up, alone, and must call
 * nf_schema_gate_leave when its define is done. FALSE: go ahead in
 * parallel (@generation is warm, or older than the gate's: a lost
 * connection, where the define fails anyway). @generation is never 0. */
gboolean nf_schema_gate_enter (NfSchemaGate *gate, guint64 generation);
/* Ends the warm-up that nf_schema_gate_enter granted. @warmed: the define
 * succeeded, so libvirtd has its schema ready; otherwise the next caller
 * warms up, alone, in turn. */
void nf_schema_gate_leave (NfSchemaGate *gate, guint64 generation, gboolean warmed);
/* Whether XML of the shape @shape (an opaque key) passed libvirtd's schema
 * check on connection @generation; nf_schema_gate_learn_shape records it. A
 * newer generation forgets every shape learnt before it. */
gboolean nf_schema_gate_knows_shape (NfSchemaGate *gate, guint64 generation, const gchar *shape);
void nf_schema_gate_learn_shape (NfSchemaGate *gate, guint64 generation, const gchar *shape);

G_END_DECLS
