#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The lab under a real systemd (issue 18): a Debian 12 root file system
# (tools/mkrootfs: systemd, D-Bus, polkitd, libvirtd with QEMU, Open
# vSwitch) gets nestfarm installed as a packager would (`meson setup
# --prefix=/usr --sysconfdir=/etc --localstatedir=/var`, `meson install`
# into it as DESTDIR), the test image, a pool file in
# /etc/nestfarm/pools.d/, nestfarmd.service and nestfarm.target enabled;
# then it boots with systemd as PID 1 under systemd-nspawn, in a network
# namespace of its own, and this script checks from outside (nsenter into
# the container) what the units promise: start order, the pool up with its
# nodes running (QEMU TCG), the lab's journal, bus activation, restart on
# failure, reload, one pool's unit, a graceful stop of the target and of
# the whole container, and the pools back at the next boot. tools/services
# runs inside too: where systemd is PID 1 it must work through systemctl.
# TAP output. Usage: systemd-boot.sh MESON
#
# It boots a whole system on the host's two cores: like the test daemons
# and bench/run it takes /run/lock/nestfarm-test.lock first, and holds it
# to the end (meson runs the tests that take it one at a time).
#
# The host has no systemd: nspawn runs with --register=no --keep-unit, its
# console is a pipe into a log (console-getty is masked, agetty cannot run
# on a pipe), and /dev/net/tun is bound in (libvirt's tap devices and the
# netdev datapath's bridge port). The container has no kernel datapath:
# nestfarmd.conf says Datapath=netdev, as the README says for containers.
#
# Functions run through check() look unreachable to shellcheck.
# shellcheck disable=SC2317

set -u
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

meson=${1:?usage: systemd-boot.sh MESON}
src=${NF_SOURCE_ROOT:?}
image=${NF_TEST_IMAGE:-}
readonly MACHINE=nftest-systemd
readonly BOOT_TIMEOUT=120
readonly NODE_TIMEOUT=120
readonly STOP_TIMEOUT=180
readonly POOLS=/etc/nestfarm/pools.d
readonly IMAGES=/var/lib/nestfarm/images
readonly CONSOLE=/var/log/nestfarm/console
# tools/services, copied into the root.
readonly SERVICES=/usr/local/lib/nestfarm-test/services
# nestfarmd.service's exposure in `systemd-analyze security`, as the
# offline check in system-install.sh holds it to.
readonly EXPOSURE_MAX=2.0

for tool in systemd-nspawn nsenter python3 "$src/tools/mkrootfs"; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool not found; run tools/setup"
		exit 1
	fi
done
if [ -z "$image" ] || [ ! -f "$image" ]; then
	echo "Bail out! NF_TEST_IMAGE not set or missing; run tools/mkimage"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "Bail out! runs as root (it boots a container)"
	exit 1
fi

# A directory per run on disk (the root file system is about 1 GB); the
# build of nestfarm is kept beside the test's build so a second run is
# incremental.
tmp=$(mktemp -d /var/tmp/nf-systemd-boot.XXXXXX)
tap_out=$tmp/out
root=$tmp/root
build=${NF_BUILD_ROOT:-$tmp}/systemd-boot-install
nspawn_pid=""
leader=""
boot_began=0

tap_plan 28

# The lock is fd 9, which nothing started here keeps: nspawn and nsenter
# get it closed.
mkdir -p /run/lock
exec 9>/run/lock/nestfarm-test.lock
if ! flock -n 9; then
	note "waiting for another test run (/run/lock/nestfarm-test.lock)"
	flock 9
fi

# inside COMMAND...: run in the container (all its namespaces, a clean
# environment), as `machinectl shell` would on a host with machined.
inside() {
	nsenter -t "$leader" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@" 9>&-
}

# wait_for SECONDS COMMAND...: until the command succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 1
	done
}

# The container's PID 1: nspawn's child in a new PID namespace.
find_leader() {
	local p
	for p in $(pgrep -P "$nspawn_pid"); do
		if [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = 1 ]; then
			leader=$p
			return 0
		fi
	done
	return 1
}

boot() {
	leader=""
	boot_began=$SECONDS
	echo "=== boot $(date +%T)" >>"$tmp/console.log"
	systemd-nspawn --quiet --boot --directory="$root" --machine="$MACHINE" \
		--register=no --keep-unit --private-network --console=pipe \
		--bind=/dev/net/tun \
		</dev/null >>"$tmp/console.log" 2>&1 9>&- &
	nspawn_pid=$!
	wait_for 30 find_leader || return 1
	# `is-system-running --wait` returns once start-up is over, whatever
	# the outcome; its answer is checked by the caller.
	wait_for 30 inside test -S /run/systemd/private || return 1
	timeout "$BOOT_TIMEOUT" nsenter -t "$leader" -a -- \
		systemctl is-system-running --wait >/dev/null 2>&1
	return 0
}

# poweroff: as the host's shutdown would; nspawn exits when PID 1 does.
power_off() {
	local began=$SECONDS
	inside systemctl poweroff --no-block >/dev/null 2>&1 || return 1
	timeout "$STOP_TIMEOUT" tail --pid="$nspawn_pid" -f /dev/null
	if kill -0 "$nspawn_pid" 2>/dev/null; then
		echo "the container did not power off in ${STOP_TIMEOUT}s"
		return 1
	fi
	wait "$nspawn_pid"
	local rc=$?
	nspawn_pid=""
	figure "powered off in $((SECONDS - began))s (nspawn exit $rc)"
	[ "$rc" = 0 ]
}

# Whatever happened, the container goes, and with it every process in it
# (its PID 1 is the one killed last), then the scratch directory.
cleanup() {
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		[ -n "$leader" ] && inside systemctl poweroff --no-block >/dev/null 2>&1
		timeout 120 tail --pid="$nspawn_pid" -f /dev/null
		if kill -0 "$nspawn_pid" 2>/dev/null; then
			[ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
			kill -KILL "$nspawn_pid" 2>/dev/null
		fi
		wait "$nspawn_pid" 2>/dev/null
	fi
	if [ "$failed" != 0 ] && [ -s "$tmp/console.log" ]; then
		note "last lines of the container's console:"
		tail -n 40 "$tmp/console.log" | sed 's/^/#   /'
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the root file system, nestfarm in it ---------------------------------
began=$SECONDS
if tarball=$("$src/tools/mkrootfs" 2>"$tmp/out") && mkdir "$root" &&
	tar -C "$root" -xpf "$tarball" 2>>"$tmp/out"; then
	ok "Debian 12 root file system (tools/mkrootfs, ${tarball##*/}) unpacked in $((SECONDS - began))s"
else
	not_ok "Debian 12 root file system (tools/mkrootfs)"
	echo "Bail out! no root file system"
	exit 1
fi

began=$SECONDS
install_nestfarm() {
	if [ ! -f "$build/build.ninja" ]; then
		"$meson" setup "$build" "$src" --prefix=/usr --sysconfdir=/etc \
			--localstatedir=/var -Dbuildtype=plain || return 1
	fi
	"$meson" compile -C "$build" nestfarmd nestfarmctl &&
		DESTDIR=$root "$meson" install -C "$build" --no-rebuild --quiet
}
if check "meson setup --prefix=/usr --sysconfdir=/etc --localstatedir=/var, meson install into the root" \
	install_nestfarm; then
	note "built and installed in $((SECONDS - began))s"
else
	echo "Bail out! the install failed"
	exit 1
fi

# The lab as an administrator would set it up: the base image in the
# storage pool's directory, one pool file, nestfarmd.conf's one change for
# a host without the kernel datapath, and the units enabled. Two settings
# are the container's, not nestfarm's: nspawn on this cgroup v1 host mounts
# the container's cpu, memory, ... controllers read-only (only name=systemd
# is its own), so libvirt may not put QEMU in cgroups ("Failed to create
# v1 controller cpu for group: Read-only file system"); and console-getty
# is masked, agetty cannot run on the pipe that is the console here.
prepare() {
	install -d -m 0711 "$root$IMAGES" &&
		cp --sparse=always "$image" "$root$IMAGES/nestfarm-tiny.qcow2" &&
		chmod 0644 "$root$IMAGES/nestfarm-tiny.qcow2" &&
		printf '%s\n' '' '# systemd-boot.sh: no kernel datapath in a container' \
			'Datapath=netdev' \
			'# systemd-boot.sh: the lab here is about units, not addresses: no' \
			'# management network (the root has no dnsmasq for one)' \
			'ManagementNetwork=' >>"$root/etc/nestfarm/nestfarmd.conf" &&
		write_pool lab 1 &&
		ln -sf /dev/null "$root/etc/systemd/system/console-getty.service" &&
		install -D -m 0755 "$src/tools/services" "$root$SERVICES" &&
		printf '%s\n' '' '# systemd-boot.sh: the container'"'"'s cgroup v1 controllers are read-only' \
			'cgroup_controllers = [ ]' >>"$root/etc/libvirt/qemu.conf" &&
		systemctl --root="$root" --quiet enable nestfarmd.service nestfarm.target
}
# write_pool NAME COUNT: /etc/nestfarm/pools.d/NAME.pool
write_pool() {
	printf '%s\n' '[Pool]' "Name=$1" "Count=$2" \
		"Image=$IMAGES/nestfarm-tiny.qcow2" 'VCPUs=1' 'MemoryMiB=256' \
		'DiskGiB=1' >"$root$POOLS/$1.pool"
}
check "the image, a pool file in $POOLS, nestfarmd.service and nestfarm.target enabled" prepare

# --- first boot -----------------------------------------------------------
if ! boot; then
	not_ok "the container boots"
	echo "Bail out! no container"
	exit 1
fi
state=$(inside systemctl is-system-running 2>&1)
note "boot to '$state' in $((SECONDS - boot_began))s"
booted() {
	echo "system: $state"
	inside systemctl --failed --no-legend
	[ "$state" = running ]
}
check "systemd boots the container to multi-user.target, no unit failed" booted

# Unit property, from the container's systemd.
prop() { inside systemctl show -P "$2" "$1"; }
# state_is UNIT STATE: the unit's ActiveState is STATE.
state_is() { [ "$(prop "$1" ActiveState)" = "$2" ]; }
settled() { ! state_is "$1" activating; }
# restarted UNIT PID: active again, under a main process other than PID.
restarted() {
	local pid
	state_is "$1" active && pid=$(prop "$1" MainPID) &&
		[ "$pid" != "$2" ] && [ "$pid" != 0 ]
}
# started_after A B: A left 'inactive' after B became active.
started_after() {
	local a b
	a=$(prop "$1" InactiveExitTimestampMonotonic)
	b=$(prop "$2" ActiveEnterTimestampMonotonic)
	echo "$1 started at $a, $2 active at $b"
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$a" -ge "$b" ]
}
in_order() {
	local u
	# nestfarm.target is reached before the lab is applied (the boot does
	# not wait for pools): wait for the lab's oneshot to finish.
	wait_for 60 settled nestfarm-lab.service
	for u in dbus.service libvirtd.service ovs-vswitchd.service nestfarmd.service nestfarm-lab.service; do
		echo "$u: $(prop "$u" ActiveState)"
		[ "$(prop "$u" ActiveState)" = active ] || return 1
	done
	started_after nestfarmd.service libvirtd.service &&
		started_after nestfarmd.service ovs-vswitchd.service &&
		started_after nestfarmd.service dbus.service &&
		started_after nestfarm-lab.service nestfarmd.service
}
check "libvirtd, Open vSwitch, the bus, then nestfarmd, then nestfarm-lab start, in that order" in_order

# org.nestfarm.Farm1 is owned by nestfarmd.service's main process, as
# BusName= says, and D-Bus can activate it.
bus_name() {
	local status pid
	status=$(inside busctl status --no-pager org.nestfarm.Farm1) || return 1
	echo "$status" | grep -E '^(PID|Unit|Comm)='
	pid=$(prop nestfarmd.service MainPID)
	echo "$status" | grep -qx "PID=$pid" &&
		echo "$status" | grep -qx 'Unit=nestfarmd.service' &&
		inside busctl list --activatable --no-pager --no-legend | grep -q '^org\.nestfarm\.Farm1 '
}
check "busctl: org.nestfarm.Farm1 is owned by nestfarmd.service's main process and activatable" bus_name

# pool_json NAME: `nestfarmctl --json pool show NAME`, read on the host.
pool_json() { inside nestfarmctl --json pool show "$1"; }
# nodes_running NAME COUNT: the pool has COUNT nodes, libvirt runs each,
# and each guest said READY on its console since MARK (lines before).
nodes_running() {
	local pool=$1 count=$2 json node
	json=$(pool_json "$pool") || return 1
	echo "$json"
	python3 -c '
import json, sys
p = json.loads(sys.argv[1]); want = int(sys.argv[2])
nodes = p.get("nodes", [])
sys.exit(0 if len(nodes) == want and all(n.get("state") == "running" for n in nodes) else 1)
' "$json" "$count" || return 1
	for node in $(python3 -c 'import json, sys; print(" ".join(n["name"] for n in json.loads(sys.argv[1])["nodes"]))' "$json"); do
		[ "$(inside virsh -c qemu:///system domstate "$node" 2>&1)" = running ] || { echo "$node: not running in libvirt"; return 1; }
		[ "$(ready_count "$node")" -gt "$(mark_of "$node")" ] || { echo "$node: no new READY on its console"; return 1; }
	done
}
# How many times a node's guest said READY / powered off, from its console log.
console_count() {
	local c
	c=$(grep -c "$2" "$root$CONSOLE/$1.log" 2>/dev/null)
	echo "${c:-0}"
}
ready_count() { console_count "$1" NESTFARM-READY; }
poweroff_count() { console_count "$1" NESTFARM-POWEROFF; }
declare -A marks=()
mark_of() { echo "${marks[$1]:-0}"; }
# mark NODE...: remember the console's READY count.
mark() {
	local node
	for node in "$@"; do marks[$node]=$(ready_count "$node"); done
}
node_names() {
	pool_json "$1" | python3 -c 'import json, sys; print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"]))'
}
# NAME's node names into the array nodes.
read_nodes() { read -ra nodes <<<"$(node_names "$1")"; }
wait_nodes() { wait_for "$NODE_TIMEOUT" nodes_running "$@"; }

check "pool 'lab' from lab.pool is up: 1 node running under libvirt, its guest READY" wait_nodes lab 1
emulated() {
	local node
	node=$(node_names lab) || return 1
	inside virsh -c qemu:///system dumpxml "${node%% *}" | grep -E "<domain type=" | tee /dev/stderr | grep -q "type='qemu'"
}
check "the node is emulated (QEMU TCG, domain type qemu)" emulated
lab_journal() {
	local j
	j=$(inside journalctl -b -u nestfarm-lab.service --no-pager -o cat) || return 1
	echo "$j"
	echo "$j" | grep -q "lab" && echo "$j" | grep -Eiq "creat|start" &&
		echo "$j" | grep -q "Finished nestfarm-lab.service\|Finished nestfarm lab"
}
check "journalctl -u nestfarm-lab.service says what was done" lab_journal

# --- tools/services under systemd ------------------------------------------
# Where systemd is PID 1, tools/services must go through systemctl: the
# daemons it reports are the units' main processes, a start of what runs
# changes nothing, a restart is systemd's (a new MainPID), and no daemon of
# its own runs beside the units (its non-systemd branch logs to
# /var/log/nestfarm-services).
declare -A DAEMON_UNITS=([dbus-daemon]=dbus.service [polkitd]=polkit.service
	[virtlogd]=virtlogd.service [libvirtd]=libvirtd.service
	[ovsdb-server]=ovsdb-server.service [ovs-vswitchd]=ovs-vswitchd.service)
# in_units: each daemon's processes are in its unit's cgroup, and one of
# them is the unit's main process.
in_units() {
	local comm unit main pid cg path found
	for comm in "${!DAEMON_UNITS[@]}"; do
		unit=${DAEMON_UNITS[$comm]}
		main=$(prop "$unit" MainPID)
		found=0
		for pid in $(inside pgrep -x "$comm"); do
			cg=$(inside cat "/proc/$pid/cgroup")
			path=$(sed -n 's/^[0-9]*:name=systemd://p' <<<"$cg")
			[ -n "$path" ] || path=$(sed -n 's/^0:://p' <<<"$cg")
			echo "$comm pid $pid in ${path:-?}"
			[[ $path == */"$unit" ]] || { echo "$comm pid $pid is outside $unit"; return 1; }
			[ "$pid" = "$main" ] && found=1
		done
		[ "$found" = 1 ] || { echo "$unit: its MainPID ${main:-?} is no $comm"; return 1; }
	done
	if inside test -e /var/log/nestfarm-services; then
		echo "/var/log/nestfarm-services exists: tools/services started daemons itself"
		return 1
	fi
}
# reports_units OUTPUT: tools/services said each unit's MainPID.
reports_units() {
	local unit
	for unit in "${DAEMON_UNITS[@]}"; do
		grep -q "$unit pid $(prop "$unit" MainPID)\b" <<<"$1" ||
			{ echo "no '$unit pid $(prop "$unit" MainPID)' in its output"; return 1; }
	done
}
services_start() {
	local -A before=()
	local unit out
	for unit in "${DAEMON_UNITS[@]}"; do before[$unit]=$(prop "$unit" MainPID); done
	out=$(inside "$SERVICES" start 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	for unit in "${!before[@]}"; do
		# polkit.service runs on demand: this may be its first need.
		[ "${before[$unit]}" != 0 ] || { echo "$unit: started"; continue; }
		[ "$(prop "$unit" MainPID)" = "${before[$unit]}" ] ||
			{ echo "$unit: MainPID ${before[$unit]} -> $(prop "$unit" MainPID): start restarted it"; return 1; }
	done
	reports_units "$out" && in_units
}
check "tools/services start: systemctl starts what is not running, the running units keep their main process" services_start
services_status() {
	local out
	out=$(inside "$SERVICES" status 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	reports_units "$out" || return 1
	local line
	while IFS= read -r line; do figure "$line"; done <<<"$out"
}
check "tools/services status: every service running, with the main process systemd reports" services_status
# journal_count UNIT TEXT: lines of this boot's journal of UNIT with TEXT.
journal_count() { inside journalctl -b -u "$1" --no-pager -o cat | grep -c "$2"; }
services_restart() {
	local out lv0 lv1 nf0 dom0 dom1 started0 node
	node=$(node_names lab)
	lv0=$(prop libvirtd.service MainPID)
	nf0=$(prop nestfarmd.service MainPID)
	dom0=$(inside virsh -c qemu:///system domid "$node")
	started0=$(journal_count libvirtd.service '^Started libvirtd.service')
	out=$(inside "$SERVICES" restart libvirtd 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	lv1=$(prop libvirtd.service MainPID)
	echo "libvirtd.service MainPID $lv0 -> $lv1"
	[ "$lv1" != "$lv0" ] && [ "$lv1" != 0 ] || return 1
	grep -q "libvirtd: running (libvirtd.service pid $lv1)" <<<"$out" || return 1
	[ "$(journal_count libvirtd.service '^Started libvirtd.service')" -gt "$started0" ] ||
		{ echo "no new 'Started libvirtd.service' in the journal"; return 1; }
	in_units || return 1
	# QEMU outlives libvirtd (KillMode=process) and nestfarmd reconnects.
	dom1=$(inside virsh -c qemu:///system domid "$node")
	echo "domain $node: id $dom0 -> $dom1; nestfarmd MainPID $nf0 -> $(prop nestfarmd.service MainPID)"
	[ "$dom0" = "$dom1" ] && [ "$(prop nestfarmd.service MainPID)" = "$nf0" ] &&
		wait_for 60 nodes_running lab 1 || return 1
	figure "libvirtd.service MainPID $lv0 -> $lv1, domain id $dom0 kept"
}
check "tools/services restart libvirtd: systemd restarts libvirtd.service (new MainPID), the node runs on, nestfarmd reconnects" services_restart
services_keep_bus() {
	local dbus0 out
	dbus0=$(prop dbus.service MainPID)
	if out=$(inside "$SERVICES" restart dbus 2>&1); then
		echo "$out"
		echo "tools/services restart dbus succeeded"
		return 1
	fi
	echo "$out"
	[ "$(prop dbus.service MainPID)" = "$dbus0" ]
}
check "tools/services restart dbus refuses under systemd, and the bus runs on" services_keep_bus

# --- Restart=on-failure ----------------------------------------------------
killed_and_back() {
	local before after pid0 pid1 dom0 dom1 node
	before=$(inside nestfarmctl --json pool list) || return 1
	node=$(node_names lab)
	dom0=$(inside virsh -c qemu:///system domid "$node")
	pid0=$(prop nestfarmd.service MainPID)
	inside systemctl kill --signal=KILL nestfarmd.service || return 1
	# RestartSec=5s, then Type=dbus waits for the name.
	wait_for 60 restarted nestfarmd.service "$pid0" || {
		inside systemctl status --no-pager nestfarmd.service
		return 1
	}
	pid1=$(prop nestfarmd.service MainPID)
	echo "nestfarmd pid $pid0 -> $pid1, NRestarts=$(prop nestfarmd.service NRestarts)"
	[ "$(prop nestfarmd.service NRestarts)" -ge 1 ] || return 1
	after=$(inside nestfarmctl --json pool list) || return 1
	dom1=$(inside virsh -c qemu:///system domid "$node")
	echo "before: $before"
	echo "after:  $after"
	echo "domain $node: id $dom0 -> $dom1"
	[ "$before" = "$after" ] && [ "$dom0" = "$dom1" ]
}
check "SIGKILL of nestfarmd: Restart=on-failure brings it back, the pool and its running node unchanged" killed_and_back

# --- reload after an edit scales ------------------------------------------
reload_scales() {
	# lab-1 runs on (its READY is the first boot's); lab-2 is new.
	write_pool lab 2 &&
		inside systemctl reload-or-restart nestfarm-lab.service &&
		wait_nodes lab 2 || return 1
	inside journalctl -b -u nestfarm-lab.service --no-pager -o cat | tail -n 5
}
check "lab.pool edited to Count=2, systemctl reload-or-restart nestfarm-lab.service: 2 nodes run" reload_scales

# --- one pool's unit ---------------------------------------------------------
pool_unit_start() {
	write_pool solo 1 && inside systemctl start nestfarm-pool@solo.service &&
		wait_nodes solo 1
}
check "systemctl start nestfarm-pool@solo.service brings pool 'solo' up" pool_unit_start
# stopped_gracefully POOL: every node of the pool is off in libvirt and
# its guest powered itself off (the ACPI button: NESTFARM-POWEROFF) more
# often than before.
declare -A offs=()
mark_off() {
	local node
	for node in "$@"; do offs[$node]=$(poweroff_count "$node"); done
}
stopped_gracefully() {
	local node json
	json=$(pool_json "$1") || return 1
	echo "$json"
	for node in $(node_names "$1"); do
		[ "$(inside virsh -c qemu:///system domstate "$node" 2>&1)" = "shut off" ] || { echo "$node: not shut off"; return 1; }
		[ "$(poweroff_count "$node")" -gt "${offs[$node]:-0}" ] || { echo "$node: no NESTFARM-POWEROFF on its console"; return 1; }
	done
}
pool_unit_stop() {
	local -a nodes
	read_nodes solo
	mark_off "${nodes[@]}"
	inside systemctl stop nestfarm-pool@solo.service || return 1
	stopped_gracefully solo || return 1
	# The rest of the test runs on 'lab' alone.
	rm -f "$root$POOLS/solo.pool" && inside nestfarmctl --no-progress pool delete solo
}
check "systemctl stop nestfarm-pool@solo.service shuts that pool's node down by ACPI" pool_unit_stop

# --- stopping the target ---------------------------------------------------
target_stop() {
	local libvirtd nestfarmd
	libvirtd=$(prop libvirtd.service MainPID)
	nestfarmd=$(prop nestfarmd.service MainPID)
	local -a nodes
	read_nodes lab
	mark_off "${nodes[@]}"
	inside systemctl stop nestfarm.target || return 1
	echo "nestfarm-lab.service: $(prop nestfarm-lab.service ActiveState)"
	[ "$(prop nestfarm-lab.service ActiveState)" = inactive ] || return 1
	stopped_gracefully lab || return 1
	echo "libvirtd pid $libvirtd -> $(prop libvirtd.service MainPID), nestfarmd pid $nestfarmd -> $(prop nestfarmd.service MainPID)"
	[ "$(prop libvirtd.service MainPID)" = "$libvirtd" ] && [ "$libvirtd" != 0 ] &&
		[ "$(prop nestfarmd.service MainPID)" = "$nestfarmd" ]
}
check "systemctl stop nestfarm.target: the lab's nodes power off by ACPI while libvirtd and nestfarmd run on" target_stop

# --- D-Bus activation ---------------------------------------------------------
activated() {
	inside systemctl disable --now nestfarmd.service >/dev/null 2>&1 || return 1
	echo "after disable --now: $(prop nestfarmd.service ActiveState), enabled: $(inside systemctl is-enabled nestfarmd.service)"
	[ "$(prop nestfarmd.service ActiveState)" = inactive ] || return 1
	inside nestfarmctl pool list || return 1
	echo "after the first call: $(prop nestfarmd.service ActiveState)"
	[ "$(prop nestfarmd.service ActiveState)" = active ] || return 1
	inside journalctl -b -u dbus.service --no-pager -o cat | grep "org.nestfarm.Farm1" | tail -n 3 |
		tee /dev/stderr | grep -q "Activating via systemd: service name='org.nestfarm.Farm1'.*unit='nestfarmd.service'"
}
check "nestfarmd disabled and stopped: the first D-Bus call activates nestfarmd.service (SystemdService=)" activated
# A change through the activated daemon: polkit, libvirt, OVS and the
# storage pool from inside the sandbox.
activated_works() {
	local -a nodes
	read_nodes lab
	mark "${nodes[@]}"
	inside nestfarmctl --no-progress pool start lab && wait_nodes lab 2
}
check "the activated nestfarmd starts the pool again (polkit, libvirt, OVS, storage from its sandbox)" activated_works

# The lab back under its unit, as before the stop, for the poweroff.
target_started() {
	inside systemctl start nestfarm.target &&
		wait_for 60 state_is nestfarm-lab.service active
}
check "systemctl start nestfarm.target: nestfarm-lab.service active again" target_started

# --- the security score ---------------------------------------------------
security() {
	local out score
	out=$(inside systemd-analyze security --no-pager nestfarmd.service) || true
	echo "$out" | grep -E '✗|Overall'
	score=$(echo "$out" | sed -n 's/.*Overall exposure level for nestfarmd.service: \([0-9.]*\).*/\1/p')
	figure "systemd-analyze security nestfarmd.service: ${score:-no score}"
	[ -n "$score" ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$score" "$EXPOSURE_MAX"
}
check "systemd-analyze security nestfarmd.service on the running system: exposure at most $EXPOSURE_MAX" security

# --- poweroff and the next boot ------------------------------------------
inside systemctl enable --quiet nestfarmd.service
read_nodes lab
lab_nodes=("${nodes[@]}")
mark_off "${lab_nodes[@]}"
check "poweroff of the container with the lab running: systemd stops everything, nspawn exits 0" power_off
graceful_at_poweroff() {
	local node
	for node in "${lab_nodes[@]}"; do
		[ "$(poweroff_count "$node")" -gt "${offs[$node]:-0}" ] || { echo "$node: no NESTFARM-POWEROFF on its console"; return 1; }
	done
}
check "at poweroff every node of the lab powered off by ACPI" graceful_at_poweroff

mark "${lab_nodes[@]}"
if ! boot; then
	not_ok "the container boots again"
	echo "Bail out! no second boot"
	exit 1
fi
note "second boot to '$(inside systemctl is-system-running 2>&1)' in $((SECONDS - boot_began))s"
stop_order() {
	# The previous boot's stop jobs: the lab's pools went down before
	# nestfarmd, nestfarmd before libvirtd (journal is persistent).
	local j lab nf lv
	j=$(inside journalctl -b -1 --no-pager -o short-monotonic \
		-u nestfarm-lab.service -u nestfarmd.service -u libvirtd.service) || return 1
	lab=$(echo "$j" | grep -n 'Stopped nestfarm-lab\.service' | tail -n 1 | cut -d: -f1)
	nf=$(echo "$j" | grep -n 'Stopped nestfarmd\.service' | tail -n 1 | cut -d: -f1)
	lv=$(echo "$j" | grep -n 'Stopped libvirtd\.service' | tail -n 1 | cut -d: -f1)
	echo "$j" | tail -n 30
	echo "stopped: lab at line ${lab:-?}, nestfarmd at ${nf:-?}, libvirtd at ${lv:-?}"
	[ -n "$lab" ] && [ -n "$nf" ] && [ -n "$lv" ] && [ "$lab" -lt "$nf" ] && [ "$nf" -lt "$lv" ] || return 1
	# The lab's ExecStop (not libvirt-guests) stopped each node.
	local node
	for node in "${lab_nodes[@]}"; do
		echo "$j" | grep -q "nestfarmctl.*stopped $node " || { echo "the lab's ExecStop did not stop $node"; return 1; }
	done
}
check "at poweroff nestfarm-lab stopped before nestfarmd, nestfarmd before libvirtd (journal of boot -1)" stop_order
check "the next boot brings pool 'lab' back as lab.pool says: 2 nodes running, READY again" wait_nodes lab 2
check "nestfarm-lab.service is active after the second boot" state_is nestfarm-lab.service active
last_poweroff() { power_off; }
check "the container powers off again cleanly" last_poweroff

tap_done
