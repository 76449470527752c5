#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Boots the Debian 12 cloud image (tools/mkimage --cloud) under plain TCG
# as a node would run it, seeded by a NoCloud ISO labelled 'cidata'
# (meta-data, user-data, network-config v2 matching the NIC by MAC), and
# checks from the host: SSH as the seed's user with the seed's key, the
# host name, the user-data's files and commands, passwordless sudo, DHCP
# on the NIC the network-config names, SVM in the guest and kvm_amd giving
# /dev/kvm, the guest agent answering on its virtio-serial channel, SSH
# host keys made at first boot, `cloud-init status --wait` done, a clean
# poweroff; then a second boot of the same disk with a new seed (new
# instance-id and host name) to see it re-seeded. Emits TAP, with the time
# from QEMU's start until SSH answers for each boot.
#
# Usage: cloud-image.sh [IMAGE]   (default $NF_CLOUD_IMAGE, else the
# default output of tools/mkimage --cloud)
#
# The guest's network is QEMU's user mode with restrict=on: it reaches
# nothing but the host's forwarded SSH port on 127.0.0.1. Like the other
# tests that boot a whole system on the host's cores, it takes
# /run/lock/nestfarm-test.lock first and holds it to the end.
#
# Functions run through check() and trap look unreachable to shellcheck.
# shellcheck disable=SC2317

set -u
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

readonly BOOT_TIMEOUT=300
readonly CLOUD_INIT_TIMEOUT=300
readonly POWEROFF_TIMEOUT=120
readonly MAC=52:54:00:4e:46:01
readonly USER_NAME=lab

image=${1:-${NF_CLOUD_IMAGE:-/var/cache/nestfarm/nestfarm-debian12-cloud.qcow2}}
if [ ! -f "$image" ]; then
	echo "Bail out! $image missing; run tools/mkimage --cloud"
	exit 1
fi
for tool in qemu-img qemu-system-x86_64 xorriso ssh ssh-keygen perl python3 \
	sha256sum timeout flock; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool not found; run tools/setup"
		exit 1
	fi
done

tap_plan 18

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nf-cloud-image.XXXXXX")
tap_out=$tmp/out
qemu_pid=""
log=""

mkdir -p /run/lock
exec 9>/run/lock/nestfarm-test.lock
if ! flock -n 9; then
	note "waiting for another test run (/run/lock/nestfarm-test.lock)"
	flock 9
fi

# Only ever the QEMU this script started, by PID: asked to quit, then
# killed.
stop_qemu() {
	[ -n "$qemu_pid" ] || return 0
	if kill -0 "$qemu_pid" 2>/dev/null; then
		qmp quit >/dev/null 2>&1
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
	if [ "$failed" != 0 ] && [ -n "$log" ] && [ -s "$log" ]; then
		note "last lines of the serial console ($log):"
		tr -d '\r' <"$log" | tail -n 40 | sed 's/^/#   /'
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# console_tail: for a check's diagnostics.
console_tail() {
	echo "serial console, last lines:"
	tr -d '\r' <"$log" 2>/dev/null | tail -n 25
	sed 's/^/qemu: /' "$tmp/qemu.out" 2>/dev/null
}

# A free TCP port on 127.0.0.1 for the SSH forward.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# qmp COMMAND / qga COMMAND: one JSON command to QEMU's monitor or to the
# guest agent, its reply's "return" printed; bounded by alarm().
# perl-base is Essential in Debian, so this needs no extra package.
json_call() { # socket, greeting (1 for QMP), command
	perl -MIO::Socket::UNIX -e '
		alarm 10;
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1;
		$s->autoflush(1);
		sub reply { while (my $l = <$s>) { if ($l =~ /"return"/) { print $l; return 1; }
			exit 1 if $l =~ /"error"/; } exit 1; }
		if ($ARGV[1]) { <$s>; print $s qq({"execute":"qmp_capabilities"}\n); reply(); }
		print $s qq({"execute":"$ARGV[2]"}\n); reply();
	' "$1" "$2" "$3"
}
qmp() { json_call "$tmp/qmp.sock" 1 "$1"; }
qga() { json_call "$tmp/qga.sock" 0 "$1"; }

# ssh_lab COMMAND...: run in the guest as the seed's user, for at most
# $ssh_timeout seconds.
ssh_timeout=60
ssh_lab() {
	timeout "$ssh_timeout" ssh -i "$tmp/id" -p "$port" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o ConnectTimeout=10 "$USER_NAME@127.0.0.1" "$@" </dev/null
}

# seed INSTANCE-ID HOSTNAME: the NoCloud seed ISO, $tmp/seed.iso.
seed() {
	local dir=$tmp/seed
	rm -rf "$dir" "$tmp/seed.iso"
	mkdir -p "$dir"
	printf '%s\n' "instance-id: $1" "local-hostname: $2" >"$dir/meta-data"
	printf '%s\n' '#cloud-config' 'users:' "  - name: $USER_NAME" \
		'    shell: /bin/bash' '    lock_passwd: true' \
		'    sudo: "ALL=(ALL) NOPASSWD:ALL"' '    ssh_authorized_keys:' \
		"      - $(cat "$tmp/id.pub")" \
		'write_files:' '  - path: /var/lib/nestfarm-test/written' \
		"    content: \"$1\\n\"" \
		'runcmd:' "  - [ sh, -c, 'echo $1 >/var/lib/nestfarm-test/ran' ]" \
		>"$dir/user-data"
	printf '%s\n' 'version: 2' 'ethernets:' '  mgmt:' '    match:' \
		"      macaddress: \"$MAC\"" '    dhcp4: true' >"$dir/network-config"
	# xorriso prints its banner even when told to be quiet.
	xorriso -as genisoimage -quiet -output "$tmp/seed.iso" -volid cidata \
		-joliet -rock "$dir/meta-data" "$dir/user-data" "$dir/network-config" \
		>"$tmp/xorriso.log" 2>&1 || { cat "$tmp/xorriso.log"; return 1; }
}

# boot NAME: QEMU on the overlay and the current seed; sets boot_began.
boot() {
	log=$tmp/$1.console.log
	port=$(free_port) || return 1
	rm -f "$tmp/qmp.sock" "$tmp/qga.sock"
	boot_began=$SECONDS
	qemu-system-x86_64 -machine pc -accel tcg -cpu qemu64,+svm,+npt \
		-m 1024 -smp 1 -nodefaults -display none \
		-serial file:"$log" \
		-drive file="$overlay",format=qcow2,if=virtio \
		-drive file="$tmp/seed.iso",format=raw,if=virtio,readonly=on \
		-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:"$port"-:22 \
		-device virtio-net-pci,netdev=n0,mac="$MAC" \
		-device virtio-serial-pci \
		-chardev socket,id=qga0,path="$tmp/qga.sock",server=on,wait=off \
		-device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
		-qmp unix:"$tmp/qmp.sock",server=on,wait=off \
		</dev/null >"$tmp/qemu.out" 2>&1 9>&- &
	qemu_pid=$!
}

# wait_ssh: until SSH as the seed's user answers; the time it took is a
# figure.
wait_ssh() {
	local deadline=$((boot_began + BOOT_TIMEOUT))
	until ssh_lab true 2>/dev/null; do
		if ! kill -0 "$qemu_pid" 2>/dev/null; then
			echo "QEMU exited"
			console_tail
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "no SSH after ${BOOT_TIMEOUT}s"
			console_tail
			return 1
		fi
		sleep 2
	done
	figure "boot to SSH in $((SECONDS - boot_began))s (QEMU start to the first SSH command)"
}

cloud_init_done() {
	local out ssh_timeout=$((CLOUD_INIT_TIMEOUT + 30))
	out=$(ssh_lab timeout "$CLOUD_INIT_TIMEOUT" cloud-init status --wait --long)
	echo "$out"
	echo "$out" | grep -q '^status: done'
}

hostname_is() {
	local name
	name=$(ssh_lab hostname)
	echo "hostname: $name, want $1"
	[ "$name" = "$1" ]
}

user_data_ran() {
	local written ran
	written=$(ssh_lab cat /var/lib/nestfarm-test/written)
	ran=$(ssh_lab cat /var/lib/nestfarm-test/ran)
	echo "write_files: '$written', runcmd: '$ran', want '$1'"
	[ "$written" = "$1" ] && [ "$ran" = "$1" ]
}

# The NIC with the seed's MAC has the address of QEMU's DHCP server's
# range, through the file cloud-init rendered for systemd-networkd.
nic_configured() {
	local out
	# shellcheck disable=SC2016 # expanded by the guest's shell
	out=$(ssh_lab 'for d in /sys/class/net/*; do [ "$(cat "$d/address")" = '"$MAC"' ] && ip -4 -o addr show dev "${d##*/}"; done; grep -l -i '"$MAC"' /etc/systemd/network/*.network')
	echo "$out"
	echo "$out" | grep -q ' inet 10\.0\.2\.15/' && echo "$out" | grep -q '^/etc/systemd/network/'
}

kvm_in_guest() {
	ssh_lab 'grep -c -w svm /proc/cpuinfo; sudo -n modprobe kvm_amd && ls -l /dev/kvm && test -c /dev/kvm'
}

agent_ping() {
	local deadline=$((SECONDS + 30))
	# The agent starts once its port appears; give it a moment.
	until qga guest-ping; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 1
	done
}

host_key_made_at_boot() {
	local out key_time boot_time
	# shellcheck disable=SC2016 # expanded by the guest's shell
	out=$(ssh_lab 'stat -c %Y /etc/ssh/ssh_host_ed25519_key; date -d "$(uptime -s)" +%s; ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub') ||
		return 1
	echo "$out"
	key_time=$(echo "$out" | sed -n 1p)
	boot_time=$(echo "$out" | sed -n 2p)
	host_key=$(echo "$out" | sed -n 3p | cut -d' ' -f2)
	[ -n "$host_key" ] && [ "$key_time" -ge "$((boot_time - 5))" ]
}

power_off() {
	ssh_lab sudo -n systemctl poweroff >/dev/null 2>&1
	timeout "$POWEROFF_TIMEOUT" tail --pid="$qemu_pid" -f /dev/null
	if kill -0 "$qemu_pid" 2>/dev/null; then
		echo "QEMU still runs ${POWEROFF_TIMEOUT}s after the poweroff"
		console_tail
		return 1
	fi
	wait "$qemu_pid" 2>/dev/null
	qemu_pid=""
	figure "powered off in $((SECONDS - began))s"
}

# --- the disk and the seed ---------------------------------------------------
base_sum=$(sha256sum <"$image" | cut -d' ' -f1)
overlay=$tmp/overlay.qcow2
check "qcow2 overlay over $image ($(du -h "$image" | cut -f1))" \
	qemu-img create -q -f qcow2 -F qcow2 -b "$(readlink -f "$image")" "$overlay"
seed1() { ssh-keygen -q -t ed25519 -N '' -C nestfarm-test -f "$tmp/id" && seed nf-test-1 nf-cloud-one; }
check "NoCloud seed ISO 'cidata' (meta-data, user-data, network-config v2 by MAC)" seed1

# --- first boot ------------------------------------------------------------------
boot first
if ! check "first boot: SSH answers as $USER_NAME with the seed's key within ${BOOT_TIMEOUT}s" wait_ssh; then
	echo "Bail out! the image does not boot to SSH"
	exit 1
fi
check "cloud-init status --wait: done" cloud_init_done
check "hostname is the meta-data's local-hostname" hostname_is nf-cloud-one
check "user-data ran: write_files and runcmd markers" user_data_ran nf-test-1
check "sudo -n true works for $USER_NAME" ssh_lab sudo -n true
check "network-config v2: the NIC with MAC $MAC got DHCP through systemd-networkd" nic_configured
check "svm in /proc/cpuinfo, modprobe kvm_amd gives /dev/kvm" kvm_in_guest
check "qemu-guest-agent answers guest-ping on org.qemu.guest_agent.0" agent_ping
check "SSH host keys were made at first boot" host_key_made_at_boot
first_key=${host_key:-}
began=$SECONDS
check "poweroff from the guest: QEMU exits within ${POWEROFF_TIMEOUT}s" power_off

# --- the same disk, a new seed -------------------------------------------------
check "a new seed: instance-id nf-test-2, local-hostname nf-cloud-two" seed nf-test-2 nf-cloud-two
boot second
if ! check "second boot with a new instance-id: SSH answers within ${BOOT_TIMEOUT}s" wait_ssh; then
	echo "Bail out! the image does not boot again"
	exit 1
fi
check "re-seeded: cloud-init done, hostname is the new local-hostname" \
	eval 'cloud_init_done && hostname_is nf-cloud-two'
check "re-seeded: the new user-data ran" user_data_ran nf-test-2
new_keys() {
	host_key_made_at_boot || return 1
	echo "first boot: $first_key, second boot: $host_key"
	[ "$host_key" != "$first_key" ]
}
check "re-seeded: new SSH host keys for the new instance" new_keys
stop_qemu

check "base image unchanged" test "$(sha256sum <"$image" | cut -d' ' -f1)" = "$base_sum"

tap_done
