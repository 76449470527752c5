#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The README's system install, into a DESTDIR: `meson setup --prefix=/usr
# --sysconfdir=/etc --localstatedir=/var`, then `meson install`. Checks that
# every file lands where nestfarmd, D-Bus, polkit, systemd and
# systemd-tmpfiles read it, and runs `systemd-analyze verify` on each
# installed unit (TAP output). Usage: system-install.sh MESON
#
# verify checks that every command a unit runs exists, so it runs with
# --root on the DESTDIR: the installed units against the installed
# programs. The DESTDIR also gets a copy of this host's own units
# (sysinit.target, dbus.socket, ...), as on a real system. It needs no
# systemd as PID 1.
#
# Functions run through check() and quiet() look unreachable to shellcheck.
# shellcheck disable=SC2317

set -u
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

meson=${1:?usage: system-install.sh MESON}
src=${NF_SOURCE_ROOT:?}

for tool in systemd-analyze systemd-tmpfiles; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool not found; run tools/setup"
		exit 1
	fi
done

readonly UNITS=(nestfarmd.service nestfarm-lab.service nestfarm-pool@.service nestfarm.target)
readonly BUS_NAME=org.nestfarm.Farm1
# nestfarmd.service's exposure in `systemd-analyze security` (out of 100):
# a change that loosens the sandbox past this fails here.
readonly EXPOSURE_MAX=20

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nf-system-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tap_out=$tmp/out
build=$tmp/build
dest=$tmp/root

tap_plan $((19 + ${#UNITS[@]}))

same_file() { cmp "$1" "$2"; }
is_executable() {
	[ -f "$1" ] && [ -x "$1" ] && return 0
	echo "$1: missing or not executable"
	return 1
}

install_into_destdir() {
	"$meson" setup "$build" "$src" --prefix=/usr --sysconfdir=/etc \
		--localstatedir=/var -Dbuildtype=plain &&
		"$meson" compile -C "$build" &&
		DESTDIR=$dest "$meson" install -C "$build" --no-rebuild
}
if ! check "meson setup --prefix=/usr --sysconfdir=/etc --localstatedir=/var, compile, install into DESTDIR" \
	install_into_destdir; then
	echo "Bail out! the install failed"
	exit 1
fi

# --- the programs and their data ---
check "nestfarmd in /usr/sbin" is_executable "$dest/usr/sbin/nestfarmd"
check "nestfarmctl in /usr/bin" is_executable "$dest/usr/bin/nestfarmctl"
templates_installed() {
	local t count=0
	for t in "$src"/xml-templates/*.xml; do
		same_file "$t" "$dest/usr/share/nestfarm/templates/${t##*/}" || return 1
		count=$((count + 1))
	done
	[ "$count" -gt 0 ]
}
check "every profile template in /usr/share/nestfarm/templates" templates_installed

# The path nestfarmd reads without --config (the contract's default).
conf_path=$(sed -n 's/^#define NF_CONFIG_DEFAULT_PATH "\(.*\)"$/\1/p' "$src/include/nestfarm/nf-config.h")
conf_installed() {
	[ "$conf_path" = /etc/nestfarm/nestfarmd.conf ] || { echo "nestfarmd reads '$conf_path'"; return 1; }
	same_file "$dest$conf_path" "$dest/usr/share/nestfarm/nestfarmd.conf.example" &&
		grep -qx '\[Daemon\]' "$dest$conf_path" &&
		grep -qx '#StateDirectory=/var/lib/nestfarm' "$dest$conf_path"
}
check "nestfarmd.conf in /etc/nestfarm, where nestfarmd reads it, with /var/lib/nestfarm" conf_installed
check "/etc/nestfarm/pools.d is made" test -d "$dest/etc/nestfarm/pools.d"

# --- D-Bus and polkit ---
# dbus-daemon's system.conf includes system.d next to it and reads the
# standard system service directories; polkitd reads its actions dir.
check "bus policy in /usr/share/dbus-1/system.d" \
	same_file "$src/systemd/$BUS_NAME.conf" "$dest/usr/share/dbus-1/system.d/$BUS_NAME.conf"
check "D-Bus activation file in /usr/share/dbus-1/system-services" \
	same_file "$src/systemd/$BUS_NAME.service" "$dest/usr/share/dbus-1/system-services/$BUS_NAME.service"
check "polkit action in /usr/share/polkit-1/actions" \
	same_file "$src/systemd/org.nestfarm.farm1.policy" "$dest/usr/share/polkit-1/actions/org.nestfarm.farm1.policy"

# --- Cockpit ---
# cockpit-bridge finds pages in DATADIR/cockpit/NAME (its manifest.json).
page_installed() {
	local f
	for f in "$src"/cockpit/*; do
		same_file "$f" "$dest/usr/share/cockpit/nestfarm/${f##*/}" || return 1
	done
}
check "the Cockpit page in /usr/share/cockpit/nestfarm" page_installed

# --- systemd ---
unitdir=""
for d in $(systemd-analyze unit-paths 2>/dev/null); do
	if [ -f "$dest$d/nestfarmd.service" ]; then
		unitdir=$d
		break
	fi
done
units_installed() {
	local u
	[ -n "$unitdir" ] || { echo "nestfarmd.service is in none of: $(systemd-analyze unit-paths | tr '\n' ' ')"; return 1; }
	for u in "${UNITS[@]}"; do
		[ -f "$dest$unitdir/$u" ] || { echo "$unitdir/$u missing"; return 1; }
	done
}
check "units in ${unitdir:-a directory systemd reads}" units_installed

tmpfiles=""
for d in /usr/lib/tmpfiles.d /lib/tmpfiles.d; do
	[ -f "$dest$d/nestfarm.conf" ] && tmpfiles=$d/nestfarm.conf
done
check "tmpfiles.d snippet in ${tmpfiles%/*}" test -n "$tmpfiles"
tmpfiles_made() {
	local want path mode
	systemd-tmpfiles --root="$dest" --create nestfarm.conf || return 1
	for want in /var/lib/nestfarm:755 /var/lib/nestfarm/images:711 /etc/nestfarm/pools.d:755; do
		path=${want%:*}
		mode=$(stat -c %a "$dest$path") || return 1
		[ "$mode" = "${want#*:}" ] || { echo "$path is $mode, not ${want#*:}"; return 1; }
	done
}
quiet "systemd-tmpfiles makes /var/lib/nestfarm, its images/ (0711) and pools.d" tmpfiles_made

# BusName= (what systemd waits for), the activation file's names and the
# bus policy's owner all agree.
names_agree() {
	local busname activates
	busname=$(sed -n 's/^BusName=//p' "$dest$unitdir/nestfarmd.service")
	activates=$(sed -n 's/^SystemdService=//p' "$dest/usr/share/dbus-1/system-services/$BUS_NAME.service")
	[ "$busname" = "$BUS_NAME" ] && [ -f "$dest$unitdir/$activates" ] &&
		grep -qF "own=\"$busname\"" "$dest/usr/share/dbus-1/system.d/$BUS_NAME.conf" && return 0
	echo "BusName=$busname, SystemdService=$activates"
	return 1
}
check "BusName=, the activation file and the bus policy name the same service" names_agree

# The commands the units run: installed, and each nestfarmctl verb known.
exec_lines() { sed -n 's/^Exec[A-Za-z]*=[-@:+!]*//p' "${UNITS[@]/#/$dest$unitdir/}"; }
commands_installed() {
	local cmd _
	while read -r cmd _; do
		is_executable "$dest$cmd" || return 1
	done < <(exec_lines)
}
check "every command the units run is installed" commands_installed
verbs_known() {
	local cmd words i argv
	while read -r cmd words; do
		[ "${cmd##*/}" = nestfarmctl ] || continue
		read -ra argv <<<"$words"
		i=0
		while [ "${argv[$i]:0:2}" = "--" ]; do i=$((i + 1)); done
		"$dest$cmd" "${argv[$i]}" "${argv[$((i + 1))]}" --help >/dev/null ||
			{ echo "nestfarmctl has no verb '${argv[$i]} ${argv[$((i + 1))]}'"; return 1; }
	done < <(exec_lines)
}
check "nestfarmctl knows every verb the units run" verbs_known

# The host's own vendor units, so that dependencies load as they would here.
host_units() {
	local d
	for d in $(systemd-analyze unit-paths); do
		case $d in /usr/lib/* | /lib/*) ;; *) continue ;; esac
		[ -d "$d" ] || continue
		mkdir -p "$dest$d"
		find "$d" -mindepth 1 -maxdepth 1 ! -name 'nestfarm*' -exec cp -an {} "$dest$d/" \; || return 1
	done
	[ -f "$dest/usr/lib/systemd/system/sysinit.target" ] || [ -f "$dest/lib/systemd/system/sysinit.target" ]
}
check "the host's systemd units copied into the DESTDIR" host_units
for u in "${UNITS[@]}"; do
	# A template is verified through an instance, as systemd would run it.
	name=${u/@./@demo.}
	quiet "systemd-analyze verify $name" \
		systemd-analyze verify --man=no --generators=no --root="$dest" "$name"
done
# exposure UNIT: within EXPOSURE_MAX; on failure, what is exposed.
exposure() {
	systemd-analyze security --offline=yes --no-pager --root="$dest" --threshold="$EXPOSURE_MAX" "$1" >"$tmp/security" 2>&1
	local rc=$?
	grep -E '✗|Overall|rror' "$tmp/security"
	return "$rc"
}
for u in nestfarmd.service nestfarm-lab.service; do
	check "$u exposure at most $((EXPOSURE_MAX / 10)).$((EXPOSURE_MAX % 10)) (systemd-analyze security)" exposure "$u"
done

tap_done
