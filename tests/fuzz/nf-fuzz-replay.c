/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-fuzz"

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nf-fuzz.h"

/* A main() for the fuzz targets where libFuzzer is not available (gcc, the
 * default build): it runs every corpus file, then a fixed number of
 * deterministic mutations of them (seeded, so a failure happens again on
 * the next run), through LLVMFuzzerTestOneInput. The time bound only cuts
 * the mutations short; it is never a failure.
 *
 *   fuzz-TARGET [--mutations N] [--seconds S] [--seed N] [--dict FILE] PATH...
 *
 * PATH is a corpus file or directory. A crashing input is written to
 * $NF_FUZZ_ARTIFACT_DIR (else the current directory) as crash-TARGET. */

#define INPUT_MAX   (16 * 1024)
#define STACKED_MAX 5
#define DUMP_MAX    512

typedef struct {
	GPtrArray *inputs; /* of GBytes */
	GPtrArray *tokens; /* of GBytes, from the dictionary */
	guint64 state;
} Replay;

/* What runs now, for the crash handler. */
static const guint8 *current_data;
static gsize current_size;
static gchar current_what[256];
static gchar artifact_path[4096];

static void
write_all (int fd, const void *buf, gsize len)
{
	const guint8 *p = buf;

	while (len > 0) {
		ssize_t n = write (fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= (gsize) n;
	}
}

/* Async-signal-safe: write(2) only. */
static void
on_crash (int sig)
{
	static const gchar hex[] = "0123456789abcdef";
	gchar line[3 * DUMP_MAX + 1];
	gsize n = 0;
	int fd;

	write_all (2, "\nnf-fuzz: crashed on ", 21);
	write_all (2, current_what, strlen (current_what));
	write_all (2, "\nnf-fuzz: input (hex): ", 23);
	for (gsize i = 0; i < current_size && i < DUMP_MAX; i++) {
		line[n++] = hex[current_data[i] >> 4];
		line[n++] = hex[current_data[i] & 0xf];
	}
	write_all (2, line, n);
	write_all (2, "\n", 1);
	fd = open (artifact_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		write_all (fd, current_data, current_size);
		close (fd);
		write_all (2, "nf-fuzz: input written to ", 26);
		write_all (2, artifact_path, strlen (artifact_path));
		write_all (2, "\n", 1);
	}
	signal (sig, SIG_DFL);
	raise (sig);
}

static void
run_one (const guint8 *data, gsize size, const gchar *what)
{
	current_data = data;
	current_size = size;
	g_strlcpy (current_what, what, sizeof current_what);
	LLVMFuzzerTestOneInput (data, size);
	current_data = NULL;
	current_size = 0;
}

/* splitmix64: small, and the same sequence on every machine. */
static guint64
next (Replay *self)
{
	guint64 z = (self->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static gsize
below (Replay *self, gsize n)
{
	return n == 0 ? 0 : (gsize) (next (self) % n);
}

static gboolean
add_input (Replay *self, const gchar *path, GError **error)
{
	gchar *contents = NULL;
	gsize length = 0;

	if (!g_file_get_contents (path, &contents, &length, error))
		return FALSE;
	g_ptr_array_add (self->inputs, g_bytes_new_take (contents, length));
	return TRUE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
	return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

static gboolean
add_path (Replay *self, const gchar *path, GError **error)
{
	g_autoptr (GDir) dir = NULL;
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	const gchar *entry;

	if (!g_file_test (path, G_FILE_TEST_IS_DIR))
		return add_input (self, path, error);
	dir = g_dir_open (path, 0, error);
	if (dir == NULL)
		return FALSE;
	while ((entry = g_dir_read_name (dir)) != NULL)
		g_ptr_array_add (names, g_build_filename (path, entry, NULL));
	/* the same order everywhere, so the mutations are the same too */
	g_ptr_array_sort (names, compare_strings);
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index (names, i);

		if (g_file_test (name, G_FILE_TEST_IS_REGULAR) && !add_input (self, name, error))
			return FALSE;
	}
	return TRUE;
}

/* A libFuzzer dictionary: lines of [name=]"value" with \\, \" and \xHH. */
static gboolean
load_dictionary (Replay *self, const gchar *path, GError **error)
{
	g_autofree gchar *text = NULL;
	g_auto (GStrv) lines = NULL;

	if (!g_file_get_contents (path, &text, NULL, error))
		return FALSE;
	lines = g_strsplit (text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *line = g_strstrip (lines[i]);
		const gchar *p = strchr (line, '"');
		g_autoptr (GByteArray) token = NULL;

		if (line[0] == '#' || p == NULL)
			continue;
		token = g_byte_array_new ();
		for (p++; *p != '\0' && *p != '"'; p++) {
			guint8 c = (guint8) *p;

			if (*p == '\\' && p[1] == 'x' && g_ascii_isxdigit (p[2]) && g_ascii_isxdigit (p[3])) {
				c = (guint8) (g_ascii_xdigit_value (p[2]) << 4 | g_ascii_xdigit_value (p[3]));
				p += 3;
			} else if (*p == '\\' && p[1] != '\0') {
				c = (guint8) * ++p;
			}
			g_byte_array_append (token, &c, 1);
		}
		if (*p != '"') {
			g_set_error (error,
				     G_FILE_ERROR,
				     G_FILE_ERROR_INVAL,
				     "%s line %u: unterminated token",
				     path,
				     i + 1);
			return FALSE;
		}
		g_ptr_array_add (self->tokens, g_byte_array_free_to_bytes (g_steal_pointer (&token)));
	}
	return TRUE;
}

static void
insert_bytes (GByteArray *buf, gsize at, const guint8 *data, gsize len)
{
	if (buf->len + len > INPUT_MAX)
		return;
	g_byte_array_set_size (buf, buf->len + len);
	memmove (buf->data + at + len, buf->data + at, buf->len - len - at);
	memcpy (buf->data + at, data, len);
}

/* The bytes the parsers split on, and numbers at the edges of the ranges. */
static const gchar interesting_chars[] = "\n\r\t =,-[]#\\_/:;.\"'0159az\x7f\x80\xc3\xff";
static const gchar *const interesting_numbers[] = {
	"0",
	"1",
	"2",
	"9",
	"10",
	"15",
	"16",
	"31",
	"32",
	"33",
	"63",
	"64",
	"127",
	"128",
	"255",
	"256",
	"1000",
	"1001",
	"3600",
	"3601",
	"4093",
	"4094",
	"4095",
	"9999",
	"10000",
	"65535",
	"65536",
	"4194304",
	"4194305",
	"2147483647",
	"2147483648",
	"4294967295",
	"4294967296",
	"18446744073709551615",
	"18446744073709551616",
	"-1",
	"+1",
	"00",
	"0x10",
	"1e3",
};

static void
mutate_once (Replay *self, GByteArray *buf)
{
	gsize at = below (self, buf->len + 1);

	switch (below (self, 10)) {
	case 0: /* erase a run */
		if (buf->len > 0) {
			gsize start = below (self, buf->len);

			g_byte_array_remove_range (buf,
						   (guint) start,
						   (guint) (1 + below (self, MIN (buf->len - start, 16))));
		}
		break;
	case 1: { /* insert random bytes */
		guint8 bytes[8];
		gsize n = 1 + below (self, sizeof bytes);

		for (gsize i = 0; i < n; i++)
			bytes[i] = (guint8) next (self);
		insert_bytes (buf, at, bytes, n);
		break;
	}
	case 2: /* flip a bit */
		if (buf->len > 0)
			buf->data[below (self, buf->len)] ^= (guint8) (1u << below (self, 8));
		break;
	case 3: /* set a byte to one the parsers care about */
		if (buf->len > 0)
			buf->data[below (self, buf->len)] =
				(guint8) interesting_chars[below (self, sizeof interesting_chars - 1)];
		break;
	case 4: { /* insert one of those */
		guint8 c = (guint8) interesting_chars[below (self, sizeof interesting_chars - 1)];

		insert_bytes (buf, at, &c, 1);
		break;
	}
	case 5: /* a dictionary token */
		if (self->tokens->len > 0) {
			GBytes *token = g_ptr_array_index (self->tokens, below (self, self->tokens->len));
			gsize len = 0;
			const guint8 *data = g_bytes_get_data (token, &len);

			insert_bytes (buf, at, data, len);
		}
		break;
	case 6: { /* a number at a range's edge, over a run of digits if any */
		const gchar *number = interesting_numbers[below (self, G_N_ELEMENTS (interesting_numbers))];
		gsize start = below (self, buf->len + 1);
		gsize end;

		while (start < buf->len && !g_ascii_isdigit (buf->data[start]))
			start++;
		end = start;
		while (end < buf->len && g_ascii_isdigit (buf->data[end]))
			end++;
		if (end > start)
			g_byte_array_remove_range (buf, (guint) start, (guint) (end - start));
		insert_bytes (buf, MIN (start, buf->len), (const guint8 *) number, strlen (number));
		break;
	}
	case 7: /* copy a run of itself elsewhere */
		if (buf->len > 0) {
			gsize start = below (self, buf->len);
			gsize len = 1 + below (self, MIN (buf->len - start, 64));
			g_autofree guint8 *run = g_memdup2 (buf->data + start, len);

			insert_bytes (buf, below (self, buf->len + 1), run, len);
		}
		break;
	case 8: { /* splice in a run of another input */
		GBytes *other = g_ptr_array_index (self->inputs, below (self, self->inputs->len));
		gsize len = 0;
		const guint8 *data = g_bytes_get_data (other, &len);

		if (len > 0) {
			gsize start = below (self, len);

			insert_bytes (buf, at, data + start, 1 + below (self, MIN (len - start, 128)));
		}
		break;
	}
	default: /* truncate */
		g_byte_array_set_size (buf, (guint) below (self, buf->len + 1));
		break;
	}
}

static GByteArray *
mutate (Replay *self, GBytes *base)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data (base, &len);
	GByteArray *buf = g_byte_array_sized_new ((guint) len + 64);
	gsize n = 1 + below (self, STACKED_MAX);

	g_byte_array_append (buf, data, (guint) len);
	for (gsize i = 0; i < n; i++)
		mutate_once (self, buf);
	return buf;
}

int
main (int argc, char **argv)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GOptionContext) context = g_option_context_new ("PATH... - replay a fuzz target's corpus");
	g_auto (GStrv) paths = NULL;
	g_autofree gchar *dictionary = NULL;
	g_autofree gchar *target = g_path_get_basename (argv[0]);
	const gchar *artifact_dir = g_getenv ("NF_FUZZ_ARTIFACT_DIR");
	gint mutations = 4000;
	gdouble seconds = 10;
	gint64 seed = 0x6e657374;
	const GOptionEntry entries[] = {
		{"mutations", 0, 0, G_OPTION_ARG_INT, &mutations, "Mutated inputs to run (4000)", "N"},
		{"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Stop mutating after this long (10)", "S"},
		{"seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the mutations", "N"},
		{"dict", 0, 0, G_OPTION_ARG_FILENAME, &dictionary, "A libFuzzer dictionary", "FILE"},
		{G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..."},
		{NULL},
	};
	Replay self = {
		.inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref),
		.tokens = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref),
	};
	gint64 start, deadline;
	gint done = 0;
	guint corpus;

	g_option_context_add_main_entries (context, entries, NULL);
	if (!g_option_context_parse (context, &argc, &argv, &error)) {
		g_printerr ("%s: %s\n", target, error->message);
		return 2;
	}
	if (paths == NULL) {
		g_printerr ("%s: give a corpus file or directory\n", target);
		return 2;
	}
	g_snprintf (artifact_path,
		    sizeof artifact_path,
		    "%s/crash-%s",
		    artifact_dir != NULL ? artifact_dir : ".",
		    target);
	signal (SIGABRT, on_crash);
	signal (SIGSEGV, on_crash);
	signal (SIGBUS, on_crash);
	signal (SIGFPE, on_crash);
	signal (SIGILL, on_crash);

	for (guint i = 0; paths[i] != NULL; i++) {
		if (!add_path (&self, paths[i], &error)) {
			g_printerr ("%s: %s\n", target, error->message);
			return 1;
		}
	}
	if (dictionary != NULL && !load_dictionary (&self, dictionary, &error)) {
		g_printerr ("%s: %s\n", target, error->message);
		return 1;
	}
	/* An empty corpus would pass without testing anything. */
	if (self.inputs->len == 0) {
		g_printerr ("%s: the corpus is empty\n", target);
		return 1;
	}
	corpus = self.inputs->len;

	start = g_get_monotonic_time ();
	for (guint i = 0; i < corpus; i++) {
		GBytes *input = g_ptr_array_index (self.inputs, i);
		g_autofree gchar *what = g_strdup_printf ("corpus input %u", i + 1);

		run_one (g_bytes_get_data (input, NULL), g_bytes_get_size (input), what);
	}

	self.state = (guint64) seed;
	deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
	for (; done < mutations && g_get_monotonic_time () < deadline; done++) {
		GBytes *base = g_ptr_array_index (self.inputs, below (&self, corpus));
		g_autoptr (GByteArray) buf = mutate (&self, base);
		g_autofree gchar *what =
			g_strdup_printf ("mutation %d (seed %" G_GINT64_FORMAT ")", done + 1, seed);

		run_one (buf->data, buf->len, what);
	}
	g_print ("%s: %u corpus inputs and %d of %d mutations in %.2f s%s\n",
		 target,
		 corpus,
		 done,
		 mutations,
		 (gdouble) (g_get_monotonic_time () - start) / G_USEC_PER_SEC,
		 done < mutations ? " (time bound reached)" : "");
	g_ptr_array_unref (self.inputs);
	g_ptr_array_unref (self.tokens);
	return 0;
}
