/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "nestfarm/nf-error.h"

G_BEGIN_DECLS

/* What the fuzz targets share: the libFuzzer entry point, bytes made into a
 * parser's input, and what a refusal must look like. */

/* The libFuzzer entry point: each target defines it; libFuzzer's main (clang)
 * or nf-fuzz-replay.c's (any compiler) calls it. */
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* @data as a string the way a parser gets it from a file: all @size bytes
 * (NULs too), with a NUL after them. */
static inline gchar *
nf_fuzz_text (const uint8_t *data, size_t size)
{
	gchar *text = g_malloc (size + 1);

	if (size > 0)
		memcpy (text, data, size);
	text[size] = '\0';
	return text;
}

/* A refusal is NF_ERROR_INVALID_ARGUMENT with a message that says
 * something and, for UTF-8 input, can travel: D-Bus strings are UTF-8 and
 * GDBus will not send an error whose message is not. */
static inline void
nf_fuzz_assert_refusal (const GError *error, gboolean input_is_utf8)
{
	g_assert_error (error, NF_ERROR, NF_ERROR_INVALID_ARGUMENT);
	g_assert_true (error->message[0] != '\0');
	if (input_is_utf8)
		g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

G_END_DECLS
