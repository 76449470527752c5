#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The C sources are formatted as the root .clang-format says (TAP output).
set -u
root=${NF_SOURCE_ROOT:?}
cd "$root" || exit 1
echo "1..1"
mapfile -t files < <(find src include tests bench -name '*.[ch]' -not -path '*/fixtures/*' 2>/dev/null | sort)
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -eq 0 ]; then
	echo "ok 1 - ${#files[@]} C files formatted"
else
	for f in "${bad[@]}"; do
		echo "# not formatted: $f (run: clang-format -i $f)"
	done
	echo "not ok 1 - ${#bad[@]} of ${#files[@]} C files not formatted"
	exit 1
fi
