#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The D-Bus bus policy, the polkit action and the D-Bus activation file in
# systemd/, checked as their readers read them (TAP output).
#
# The bus policy is parsed by dbus-daemon itself: its busconfig.dtd is
# decades behind what dbus-daemon accepts (no send_destination, no
# send_interface), so no policy in use validates against it. The polkit
# action is validated against polkit's DTD, offline through the XML
# catalog that polkitd installs.
set -u
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

root=${NF_SOURCE_ROOT:?}
policy=$root/systemd/org.nestfarm.Farm1.conf
action=$root/systemd/org.nestfarm.farm1.policy
activation=$root/systemd/org.nestfarm.Farm1.service
api=$root/src/dbus/org.nestfarm.Farm1.xml
readonly BUS_NAME=org.nestfarm.Farm1
readonly ACTION_ID=org.nestfarm.farm1.manage

for tool in xmllint dbus-run-session; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool not found; run tools/setup"
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nf-system-policy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tap_out=$tmp/out

# The interfaces nestfarmd exports, from the single source of the API.
mapfile -t interfaces < <(xmllint --nonet --xpath '//interface/@name' "$api" | sed -n 's/.*name="\([^"]*\)".*/\1/p')
standard=(org.freedesktop.DBus.Properties org.freedesktop.DBus.Introspectable
	org.freedesktop.DBus.Peer org.freedesktop.DBus.ObjectManager)

tap_plan $((17 + ${#interfaces[@]} + ${#standard[@]}))

# xpath_is DESCRIPTION FILE EXPRESSION EXPECTED
xpath_is() {
	local got
	got=$(xmllint --nonet --xpath "$3" "$2" 2>"$tmp/out")
	if [ "$got" = "$4" ]; then
		ok "$1"
	else
		echo "expected '$4', got '$got' for $3" >>"$tmp/out"
		not_ok "$1"
	fi
}

# --- the bus policy ---
check "bus policy is well-formed XML" xmllint --noout --nonet "$policy"

# A private bus whose configuration includes the policy: dbus-daemon
# refuses to start on any element or attribute it does not accept.
cat >"$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <include>$policy</include>
</busconfig>
EOF
check "dbus-daemon accepts the bus policy" dbus-run-session --config-file="$tmp/bus.conf" -- true

xpath_is "root may own $BUS_NAME" "$policy" \
	"count(/busconfig/policy[@user='root']/allow[@own='$BUS_NAME'])" 1
xpath_is "no one else may own a name" "$policy" \
	"count(//allow[@own or @own_prefix]) - count(/busconfig/policy[@user='root']/allow[@own='$BUS_NAME'])" 0
xpath_is "the default context allows only sends to $BUS_NAME, each naming an interface" "$policy" \
	"count(/busconfig/policy[@context='default']/*[not(self::allow and @send_destination='$BUS_NAME' and @send_interface and count(@*)=2)])" 0
if [ ${#interfaces[@]} -ge 4 ]; then
	ok "the API declares ${#interfaces[@]} interfaces"
else
	echo "only '${interfaces[*]}' in $api" >"$tmp/out"
	not_ok "the API declares its interfaces"
fi
for iface in "${interfaces[@]}" "${standard[@]}"; do
	xpath_is "the default context may call $iface" "$policy" \
		"count(/busconfig/policy[@context='default']/allow[@send_destination='$BUS_NAME' and @send_interface='$iface'])" 1
done

# --- the polkit action ---
check "polkit policy is valid against its DTD (offline)" xmllint --noout --nonet --valid "$action"
xpath_is "the policy declares exactly the action $ACTION_ID" "$action" \
	"concat(count(//action), ' ', //action/@id)" "1 $ACTION_ID"
xpath_is "$ACTION_ID: allow_any is no" "$action" \
	"string(//action[@id='$ACTION_ID']/defaults/allow_any)" no
xpath_is "$ACTION_ID: allow_inactive is no" "$action" \
	"string(//action[@id='$ACTION_ID']/defaults/allow_inactive)" no
xpath_is "$ACTION_ID: allow_active is auth_admin_keep" "$action" \
	"string(//action[@id='$ACTION_ID']/defaults/allow_active)" auth_admin_keep
if grep -rqF "\"$ACTION_ID\"" "$root/src/daemon"; then
	ok "nestfarmd checks $ACTION_ID"
else
	: >"$tmp/out"
	not_ok "nestfarmd checks $ACTION_ID"
fi

# --- the D-Bus activation file ---
value() { sed -n "s/^$1=//p" "$activation"; }
if [ "$(sed -n '/^\[/p' "$activation")" = "[D-BUS Service]" ]; then
	ok "activation file has the one group [D-BUS Service]"
else
	: >"$tmp/out"
	not_ok "activation file has the one group [D-BUS Service]"
fi
for pair in "Name=$BUS_NAME" "Exec=/bin/false" "User=root" "SystemdService=nestfarmd.service"; do
	if [ "$(value "${pair%%=*}")" = "${pair#*=}" ]; then
		ok "activation file: $pair"
	else
		echo "got ${pair%%=*}=$(value "${pair%%=*}")" >"$tmp/out"
		not_ok "activation file: $pair"
	fi
done

tap_done
