/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-seed"

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A seed's ISO 9660 image, made in memory with libisofs (volume id cidata,
 * Rock Ridge and Joliet, the three documents at its root), and its owner tag
 * read back from the primary volume descriptor. */

/* iso_image_create_burn_source hands out a struct burn_source; without
 * libburn, libisofs.h declares it itself. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-seed.h"
#include "nf-seed-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IsoImage, iso_image_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IsoWriteOpts, iso_write_opts_free)

#define SECTOR 2048
/* The primary volume descriptor (ECMA-119 8.4): sector 16; its type, the
 * standard identifier, the version, the volume id and the application id. */
#define PVD_OFFSET         (16 * SECTOR)
#define PVD_VOLUME_ID      40
#define PVD_VOLUME_ID_LEN  32
#define PVD_APP_ID         574
#define PVD_APP_ID_LEN     128
#define ISO_OWNER_CHARS_UP "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:._-"

G_STATIC_ASSERT (NF_SEED_OWNER_BYTES >= PVD_OFFSET + PVD_APP_ID + PVD_APP_ID_LEN);
G_STATIC_ASSERT (NF_SEED_OWNER_MAX <= PVD_APP_ID_LEN);

static gboolean
set_iso_error (GError **error, const gchar *what, int code)
{
	g_set_error (error,
		     NF_ERROR,
		     NF_ERROR_FAILED,
		     "Cannot make the seed ISO: %s: %s (libisofs error %d).",
		     what,
		     iso_error_to_msg (code),
		     code);
	return FALSE;
}

/* libisofs is set up once per process; it never prints (the core returns
 * its errors). The outcome travels in the once value itself (1, or the
 * negative libisofs code as an unsigned), so a thread that finds it set
 * reads nothing that the one-time set-up wrote elsewhere. */
static gboolean
isofs_init_once (GError **error)
{
	static gsize state = 0;
	int result;

	if (g_once_init_enter (&state)) {
		result = iso_init_with_flag (1);
		if (result >= 0)
			iso_set_msgs_severities ((char *) "NEVER", (char *) "NEVER", (char *) "nestfarm");
		g_once_init_leave (&state, result >= 0 ? 1 : (gsize) (guint) result);
	}
	if (state == 1)
		return TRUE;
	return set_iso_error (error, "cannot set up libisofs", (int) (guint) state);
}

static gboolean
add_file (IsoImage *image, const gchar *name, const gchar *text, GError **error)
{
	gsize len = strlen (text);
	unsigned char *copy = malloc (len + 1); /* libisofs free()s it with the stream */
	IsoStream *stream = NULL;
	int result;

	if (copy == NULL)
		return set_iso_error (error, name, ISO_OUT_OF_MEM);
	memcpy (copy, text, len + 1);
	result = iso_memory_stream_new (copy, len, &stream);
	if (result < 0) {
		free (copy);
		return set_iso_error (error, name, result);
	}
	result = iso_image_add_new_file (image, iso_image_get_root (image), name, stream, NULL);
	if (result < 0) {
		iso_stream_unref (stream);
		return set_iso_error (error, name, result);
	}
	return TRUE;
}

static gboolean
add_documents (IsoImage *image, const NfSeedSpec *spec, GError **error)
{
	g_autofree gchar *meta_data = nf_seed_render_meta_data (spec);
	g_autofree gchar *network_config = nf_seed_render_network_config (spec);
	g_autofree gchar *user_data = nf_seed_render_user_data (spec, error);

	if (user_data == NULL)
		return FALSE;
	return add_file (image, "meta-data", meta_data, error) &&
	       add_file (image, "user-data", user_data, error) &&
	       add_file (image, "network-config", network_config, error);
}

/* libisofs writes the image in a thread of its own; this reads it to the
 * end, then frees the source (which waits for that thread). */
static GBytes *
read_burn_source (struct burn_source *source, GError **error)
{
	g_autoptr (GByteArray) image = g_byte_array_new ();
	guint8 sector[SECTOR];
	int got;

	do {
		got = source->version >= 1 && source->read_xt != NULL
			      ? source->read_xt (source, sector, SECTOR)
			      : source->read (source, sector, SECTOR);
		if (got > 0)
			g_byte_array_append (image, sector, (guint) got);
	} while (got > 0);
	if (got < 0 && source->version >= 1 && source->cancel != NULL)
		source->cancel (source);
	source->free_data (source);
	free (source);
	if (got < 0) {
		set_iso_error (error, "cannot write the image", got);
		return NULL;
	}
	return g_byte_array_free_to_bytes (g_steal_pointer (&image));
}

static GBytes *
write_image (IsoImage *image, GError **error)
{
	g_autoptr (IsoWriteOpts) options = NULL;
	struct burn_source *source = NULL;
	int result;

	/* Profile 2: Rock Ridge and Joliet, files read-only for all. Relaxed
	 * volume attributes keep the volume id lower case, as genisoimage
	 * -V cidata writes it. */
	result = iso_write_opts_new (&options, 2);
	if (result < 0) {
		set_iso_error (error, "cannot set write options", result);
		return NULL;
	}
	iso_write_opts_set_rockridge (options, 1);
	iso_write_opts_set_joliet (options, 1);
	iso_write_opts_set_relaxed_vol_atts (options, 1);
	result = iso_image_create_burn_source (image, options, &source);
	if (result < 0) {
		set_iso_error (error, "cannot start writing", result);
		return NULL;
	}
	return read_burn_source (source, error);
}

GBytes *
nf_seed_build_iso (const NfSeedSpec *spec, GError **error)
{
	g_autoptr (IsoImage) image = NULL;
	int result;

	g_return_val_if_fail (spec != NULL, NULL);

	if (!nf_seed_spec_check (spec, error) || !isofs_init_once (error))
		return NULL;
	result = iso_image_new (NF_SEED_VOLUME_ID, &image);
	if (result < 0) {
		set_iso_error (error, "cannot make an image", result);
		return NULL;
	}
	/* ISO 9660 writes the application id in upper case; the owner tag is
	 * lower case only, so it reads back as it was. */
	iso_image_set_application_id (image, spec->owner);
	if (!add_documents (image, spec, error))
		return NULL;
	return write_image (image, error);
}

/* A fixed-width, space-padded field of the descriptor, without its padding. */
static gchar *
pvd_field (const guint8 *pvd, gsize offset, gsize width)
{
	gsize len = width;

	while (len > 0 && (pvd[offset + len - 1] == ' ' || pvd[offset + len - 1] == '\0'))
		len--;
	return g_strndup ((const gchar *) pvd + offset, len);
}

gchar *
nf_seed_iso_owner (const guint8 *data, gsize len, GError **error)
{
	const guint8 *pvd;
	g_autofree gchar *volume_id = NULL;
	g_autofree gchar *app_id = NULL;

	g_return_val_if_fail (data != NULL || len == 0, NULL);

	pvd = len >= NF_SEED_OWNER_BYTES ? data + PVD_OFFSET : NULL;
	if (pvd == NULL || pvd[0] != 1 || memcmp (pvd + 1, "CD001", 5) != 0 || pvd[6] != 1) {
		nf_seed_set_invalid (error, "This is not a nestfarm seed: it is not an ISO 9660 image.");
		return NULL;
	}
	volume_id = pvd_field (pvd, PVD_VOLUME_ID, PVD_VOLUME_ID_LEN);
	if (g_ascii_strcasecmp (volume_id, NF_SEED_VOLUME_ID) != 0) {
		nf_seed_set_invalid (error,
				     "This is not a nestfarm seed: its volume id is not " NF_SEED_VOLUME_ID
				     ".");
		return NULL;
	}
	app_id = pvd_field (pvd, PVD_APP_ID, PVD_APP_ID_LEN);
	if (g_ascii_strncasecmp (app_id, NF_SEED_OWNER_PREFIX, strlen (NF_SEED_OWNER_PREFIX)) != 0 ||
	    strspn (app_id, ISO_OWNER_CHARS_UP) != strlen (app_id)) {
		nf_seed_set_invalid (error,
				     "This is not a nestfarm seed: a cloud-init seed without nestfarm's owner tag.");
		return NULL;
	}
	return g_ascii_strdown (app_id, -1);
}
