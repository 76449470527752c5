#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Boots the tiny nestfarm guest image (tools/mkimage) under plain TCG and
# checks the contract the rest of nestfarm relies on: one READY line with
# host name, CPU virtualization flag and /dev/kvm, and a clean power-off on
# the ACPI power button. Emits TAP. The image comes from NF_TEST_IMAGE.
#
# TCG, not KVM, so the result does not depend on the host CPU and the
# guest really runs kvm_amd on an emulated SVM CPU.
#
# Functions run through check() and trap look unreachable to shellcheck.
# shellcheck disable=SC2317

set -u
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

readonly READY_TIMEOUT=30
readonly POWEROFF_TIMEOUT=20

image=${NF_TEST_IMAGE:-}
if [ -z "$image" ] || [ ! -f "$image" ]; then
	echo "Bail out! NF_TEST_IMAGE not set or missing; run tools/mkimage"
	exit 1
fi
for tool in qemu-img qemu-system-x86_64 sha256sum perl; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool not found; run tools/setup"
		exit 1
	fi
done

tap_plan 10

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nf-image-boot.XXXXXX")
tap_out=$tmp/out
qemu_pid=""

# Only ever kill the QEMU this script started, by PID.
stop_qemu() {
	[ -n "$qemu_pid" ] || return 0
	if kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$qemu_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$qemu_pid" 2>/dev/null
	fi
	wait "$qemu_pid" 2>/dev/null
	qemu_pid=""
}
cleanup() {
	stop_qemu
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

diag_log() {
	echo "# last console lines of $1:"
	tr -d '\r' <"$1" 2>/dev/null | tail -n 15 | sed 's/^/#   /'
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# Sends one QMP command over the monitor socket; bounded by alarm().
# perl-base is Essential in Debian, so this needs no extra package.
qmp() { # socket, command
	perl -MIO::Socket::UNIX -e '
		alarm 10;
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1;
		sub reply { while (my $l = <$s>) { return 1 if $l =~ /"return"/;
			exit 1 if $l =~ /"error"/; } exit 1; }
		<$s>;    # greeting
		print $s qq({"execute":"qmp_capabilities"}\n); reply();
		print $s qq({"execute":"$ARGV[1]"}\n); reply();
	' "$1" "$2"
}

# Starts QEMU on a fresh overlay-backed disk: name, extra args...
start_qemu() {
	run=$1
	shift
	log=$tmp/$run.log
	sock=$tmp/$run.qmp
	: >"$log"
	boot_start=$(now_ms)
	qemu-system-x86_64 -accel tcg -m 256 -nodefaults -nographic \
		-drive file="$overlay",format=qcow2,if=virtio \
		-serial file:"$log" \
		-qmp unix:"$sock",server=on,wait=off \
		-no-reboot "$@" </dev/null >"$tmp/$run.qemu.out" 2>&1 &
	qemu_pid=$!
}

# Waits for the READY line; sets ready_line and boot_ms.
# The console's whole lines: a line QEMU is still writing (the serial port
# sends a character at a time) is not read half-way.
whole_lines() {
	if [ -n "$(tail -c 1 "$1")" ]; then
		tr -d '\r' <"$1" | sed '$d'
	else
		tr -d '\r' <"$1"
	fi
}

wait_ready() {
	local deadline=$(($(now_ms) + READY_TIMEOUT * 1000))
	ready_line=""
	while [ "$(now_ms)" -lt "$deadline" ]; do
		ready_line=$(whole_lines "$log" | grep -a '^NESTFARM-READY' | head -n 1)
		if [ -n "$ready_line" ]; then
			boot_ms=$(($(now_ms) - boot_start))
			return 0
		fi
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	diag_log "$log"
	sed 's/^/# qemu: /' "$tmp/$run.qemu.out" 2>/dev/null
	return 1
}

# Exactly one READY line with the expected fields.
ready_is() { # expected line
	local count
	count=$(whole_lines "$log" | grep -ac 'NESTFARM-READY')
	[ "$count" = 1 ] && [ "$ready_line" = "$1" ] && return 0
	echo "# expected: $1"
	echo "# got:      $ready_line ($count READY lines)"
	return 1
}

wait_poweroff_line() {
	for _ in $(seq $((POWEROFF_TIMEOUT * 10))); do
		whole_lines "$log" | grep -aq '^NESTFARM-POWEROFF$' && return 0
		sleep 0.1
	done
	diag_log "$log"
	return 1
}

wait_qemu_exit() {
	local deadline=$(($(now_ms) + POWEROFF_TIMEOUT * 1000))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		if ! kill -0 "$qemu_pid" 2>/dev/null; then
			wait "$qemu_pid" 2>/dev/null
			qemu_pid=""
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# --- 1: overlay ---------------------------------------------------------------
base_sum=$(sha256sum <"$image" | cut -d' ' -f1)
overlay=$tmp/overlay.qcow2
check "qcow2 overlay created over $image" \
	qemu-img create -q -f qcow2 -F qcow2 -b "$(readlink -f "$image")" "$overlay"

# --- 2-3: boot with SVM, host name from SMBIOS serial -----------------------
start_qemu svm -cpu qemu64,+svm -smbios type=1,serial=imgtest-1
if wait_ready; then
	ok "svm guest prints READY within ${READY_TIMEOUT}s"
	echo "# boot to READY (svm): $((boot_ms / 1000)).$(printf %03d $((boot_ms % 1000)))s"
else
	not_ok "svm guest prints READY within ${READY_TIMEOUT}s"
fi
check "READY says hostname=imgtest-1 cpu=svm kvm=yes" \
	ready_is "NESTFARM-READY hostname=imgtest-1 cpu=svm kvm=yes"

# --- 4-6: ACPI power button ---------------------------------------------------
if [ -n "$ready_line" ]; then
	check "system_powerdown accepted by QEMU" qmp "$sock" system_powerdown
	check "guest prints NESTFARM-POWEROFF" wait_poweroff_line
	check "QEMU exits on its own within ${POWEROFF_TIMEOUT}s" wait_qemu_exit
else
	# Failing, not skipping: waiting for a guest that never came up would
	# only burn the time limits.
	not_ok "system_powerdown accepted by QEMU (guest never READY)"
	not_ok "guest prints NESTFARM-POWEROFF (guest never READY)"
	not_ok "QEMU exits on its own within ${POWEROFF_TIMEOUT}s (guest never READY)"
fi
stop_qemu

# --- 7-8: boot without SVM and without a serial number ---------------------
start_qemu nosvm -cpu qemu64,-svm
if wait_ready; then
	ok "non-svm guest prints READY within ${READY_TIMEOUT}s"
	echo "# boot to READY (no svm): $((boot_ms / 1000)).$(printf %03d $((boot_ms % 1000)))s"
else
	not_ok "non-svm guest prints READY within ${READY_TIMEOUT}s"
fi
check "READY says hostname=nestfarm-node cpu=none kvm=no" \
	ready_is "NESTFARM-READY hostname=nestfarm-node cpu=none kvm=no"
check "QMP quit stops the guest" qmp "$sock" quit
stop_qemu

# --- 10: base image untouched ------------------------------------------------
check "base image checksum unchanged" \
	test "$(sha256sum <"$image" | cut -d' ' -f1)" = "$base_sum"

tap_done
