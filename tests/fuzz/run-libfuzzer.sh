#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs a libFuzzer target over a copy of its seed corpus, so that what it
# finds never lands in the source tree; a crashing input is kept in
# ARTIFACT_DIR (the build directory).
#
#   run-libfuzzer.sh FUZZER CORPUS_DIR ARTIFACT_DIR [LIBFUZZER_ARGS...]
set -euo pipefail

fuzzer=$(realpath "$1") corpus=$(realpath "$2") artifacts=$(realpath -m "$3")
shift 3

work=$(mktemp -d "${TMPDIR:-/tmp}/nf-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
cp -R "$corpus/." "$work/corpus/"
cd "$work"

name=$(basename "$fuzzer")
echo "$name: $(find "$work/corpus" -type f | wc -l) seed inputs from $corpus"
rc=0
"$fuzzer" -artifact_prefix="$artifacts/$name-" "$@" "$work/corpus" || rc=$?
echo "$name: corpus grew to $(find "$work/corpus" -type f | wc -l) inputs; exit status $rc"
# 77 is libFuzzer's default for a crash, and a skip to meson: never a skip.
[ "$rc" -ne 77 ] || rc=1
exit $rc
