# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# TAP for the shell tests (system-policy.sh, system-install.sh,
# image-boot.sh, systemd-boot.sh). Each sources it from beside itself, so
# it is found however the script is run (meson passes an absolute path,
# a person a relative one):
#
#   # shellcheck source-path=SCRIPTDIR source=tap.sh
#   . "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
#   tap_plan N
#   tap_out=$tmp/out     # once the script has its scratch directory
#
# ok DESCRIPTION / not_ok DESCRIPTION: one TAP line. not_ok sets failed=1
#   and shows the last TAP_SHOW (60) lines of $tap_out as diagnostics: what
#   the failing check printed, or what the script wrote there before it.
# check DESCRIPTION COMMAND...: ok when the command succeeds, and returns
#   its status. The command runs in this shell (it may set variables) with
#   its output in $tap_out; lines of it that start with "NOTE: " (figure)
#   are shown after its ok.
# quiet DESCRIPTION COMMAND...: ok when it succeeds and prints nothing
#   (systemd-analyze and systemd-tmpfiles only ever warn).
# figure TEXT: from inside a check, a line to show after its ok.
# note TEXT: a diagnostic line, now.
# tap_done: exit with $failed, and fail when the count is not the plan's.

tap_n=0
tap_planned=0
tap_out=/dev/null
failed=0

tap_plan() {
	tap_planned=$1
	echo "1..$1"
}

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
	tap_forget
}

not_ok() {
	tap_n=$((tap_n + 1))
	failed=1
	echo "not ok $tap_n - $1"
	# Lines that are diagnostics already are not marked twice.
	[ -s "$tap_out" ] && tail -n "${TAP_SHOW:-60}" "$tap_out" | sed '/^#/!s/^/# /'
	tap_forget
}

# What was shown, or belonged to a test that passed, is not shown again
# by a later not_ok.
tap_forget() {
	[ "$tap_out" = /dev/null ] || : >"$tap_out"
}

check() {
	local what=$1 notes
	shift
	if "$@" >"$tap_out" 2>&1; then
		notes=$(sed -n 's/^NOTE: /# /p' "$tap_out")
		ok "$what"
		[ -z "$notes" ] || echo "$notes"
	else
		not_ok "$what"
		return 1
	fi
}

quiet() {
	local what=$1
	shift
	if "$@" >"$tap_out" 2>&1 && [ ! -s "$tap_out" ]; then
		ok "$what"
	else
		not_ok "$what"
	fi
}

figure() { echo "NOTE: $*"; }
note() { echo "# $*"; }

tap_done() {
	if [ "$tap_n" != "$tap_planned" ]; then
		note "ran $tap_n tests, planned $tap_planned"
		failed=1
	fi
	exit "$failed"
}
