/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "nestfarm/nf-seed.h"

G_BEGIN_DECLS

/* What nf-seed.c shares with the seed's renderers (nf-seed-render.c) and its
 * ISO (nf-seed-iso.c). */

/* Sets an InvalidArgument error and returns FALSE. */
gboolean nf_seed_set_invalid (GError **error, const gchar *format, ...) G_GNUC_PRINTF (2, 3);
/* The MIME type of a user-data document cloud-init takes as a part, from its
 * first line ("text/cloud-config", ...), or NULL. */
const gchar *nf_seed_user_data_type (const gchar *text, gsize len);
/* The spec's ssh user, keys and user-data, checked (what nestfarm's
 * user-data is made of). */
gboolean nf_seed_check_user_parts (const NfSeedSpec *spec, GError **error);

G_END_DECLS
