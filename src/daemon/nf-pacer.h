/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nestfarm/nf-engine.h"
#include "nf-model.h"

G_BEGIN_DECLS

/* NfPacer: paced boots. Booting a real guest under emulation takes a core
 * for a minute or more; many at once share the cores and all come up late
 * (a boot storm). The pacer lets at most a set number of nodes boot at
 * once: a start waits for a slot, and a started node holds its slot while
 * it boots: until it is Ready, or its CPU goes quiet (less than
 * NF_PACER_IDLE_SHARE of a core over NF_PACER_SAMPLE_S: an image that
 * never turns Ready, a seedless one, or a fast KVM boot, all let the next
 * start go as soon as their boot is done), or it stops or goes away, or
 * it has held the slot for the hold time at most. The CPU time is read in
 * GLib's worker threads; everything else runs on the main context. */

typedef struct _NfPacer NfPacer;

/* A slot holds for at most this long after its node started (the daemon's
 * choice: a cloud image under emulation is ready in 90 to 120 s). */
#define NF_PACER_HOLD_MAX_S 300
/* A booting node's CPU time is read this often; below this share of one
 * core since the last reading, its boot is over. */
#define NF_PACER_SAMPLE_S   3
#define NF_PACER_IDLE_SHARE 0.25

/* @slots: how many nodes boot at once; 0: no pacing (every start goes at
 * once). @hold_max_s: how long a booting node holds its slot at most.
 * @engine: where CPU times are read; NULL: never (a unit test's model). */
NfPacer *nf_pacer_new (NfModel *model, NfEngine *engine, guint slots, guint hold_max_s);
void nf_pacer_free (NfPacer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NfPacer, nf_pacer_free)

typedef void (*NfPacerGo) (gpointer user_data);

/* Calls @go once a slot is free (from the main loop, never from within
 * this call), and @go then owns the slot: it must hand it back with
 * nf_pacer_booted or nf_pacer_give_back. Cancelling @cancellable lets a
 * waiting @go through at once, with a slot of its own (the start then ends
 * as cancelled and gives it back). */
void nf_pacer_wait (NfPacer *self, GCancellable *cancellable, NfPacerGo go, gpointer user_data);
/* The start of @node went through: its slot is held as said above. */
void nf_pacer_booted (NfPacer *self, NfNode *node);
/* The start did not happen: the slot is free again. */
void nf_pacer_give_back (NfPacer *self);

guint nf_pacer_get_slots (NfPacer *self);
/* Slots held now (booting nodes, and starts under way). */
guint nf_pacer_get_held (NfPacer *self);
/* Starts waiting for a slot. */
guint nf_pacer_get_waiting (NfPacer *self);

G_END_DECLS
