#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Live sync interoperability, run inside the two VMs of tests/interop.sh
# (make test-interop), joined by their eth0 (a QEMU socket network on the
# host's 127.0.0.1):
#
#   VM a: client, rs1..rs3, dirA          VM b: dirB
#     eth0.10  clients' segment  ------------  eth0.10 = dirB's f0
#     eth0.20  real servers'     ------------  eth0.20 = dirB's b0
#     eth0.30  sync link         ------------  eth0.30 = dirB's s0
#     eth0.40  control 203.0.113.49 ---------  203.0.113.50 (an agent that
#                                              runs a's commands in b)
#
# VM a drives both (interop-guest.sh a), VM b sets dirB up and serves the
# agent until told to stop (interop-guest.sh b). For each pair of modules
# (an rvs.ko master with an ip_vs.ko backup, then the reverse), dirA is the
# NAT director and sync master, dirB the backup; a 12 MB download through
# dirA, the gateway addresses moved to dirB once dirB has its connection:
# the download arrives whole (cmp).
source "$(dirname "$0")/lib.sh"

CTL_A=203.0.113.49
CTL_B=203.0.113.50
AGENT_PORT=7000
ENV_B=/tmp/interop-env

# vlans ADDR: eth0 up, its VLANs 10, 20, 30 and 40 (control, ADDR).
vlans() {
	ip link set eth0 up
	local v
	for v in 10 20 30 40; do
		ip link add link eth0 name "eth0.$v" type vlan id "$v"
		ip link set "eth0.$v" up
	done
	ip addr add "$1/28" dev eth0.40
}

# ---- b: dirB and the agent ----------------------------------------------------
role_b() {
	vlans "$CTL_B"
	setup_ns dirb
	local v n
	for v in 10:f0 20:b0 30:s0; do
		n=${v#*:}
		ip link set "eth0.${v%%:*}" netns "$dirb"
		ip -n "$dirb" link set "eth0.${v%%:*}" name "$n"
		ip -n "$dirb" link set "$n" up
	done
	ip -n "$dirb" addr add 192.0.2.12/24 dev f0
	ip -n "$dirb" addr add 198.51.100.3/24 dev b0
	ip -n "$dirb" addr add "$S1/28" dev s0
	ip -n "$dirb" addr add "$VIP/32" dev lo
	ip netns exec "$dirb" sysctl -qw net.ipv4.ip_forward=1
	echo "dirb=$dirb" >"$ENV_B"
	# -t: after a's end of input, wait for the command's output as long as it takes.
	socat -t 600 TCP-LISTEN:$AGENT_PORT,bind=$CTL_B,reuseaddr,fork EXEC:"$RVS_ROOT/tests/interop-guest.sh agent" </dev/null >/dev/null 2>&1 &
	local agent=$!
	echo "b: dirB is $dirb; the agent listens"
	# Until a says it is done (at most the VM's own timeout).
	wait_for 900 test -e /tmp/interop-done || echo "b: no word from a"
	kill "$agent" 2>/dev/null || true
	echo "b: what the agent ran:"
	cat /tmp/agent.log 2>/dev/null
	cleanup_ns
	unload_all >/dev/null 2>&1 || true
	echo "b: done"
}

# agent: one connection's commands (stdin, read whole first) run with
# lib.sh and dirB's name; their output, then "rc=STATUS".
role_agent() {
	local script out rc=0
	script=$(cat)
	# shellcheck disable=SC1090
	source "$ENV_B"
	out=$(
		set -eE -o pipefail
		eval "$script"
	) </dev/null 2>&1 || rc=$?
	printf '%s\nrc=%s\n' "$out" "$rc"
	printf '$ %s\n%s\nrc=%s\n' "$script" "$out" "$rc" >>/tmp/agent.log
}

# ---- a: everything else, and the test ------------------------------------------
# remote CMD: CMD run in VM b (dirB's namespace is $dirb there); its output
# is printed, its status returned.
remote() {
	local out rc
	out=$(printf "%s\n" "$*" | timeout 300 socat -t 280 - "TCP:$CTL_B:$AGENT_PORT") || return 1
	rc=$(sed -n 's/^rc=//p' <<<"$out" | tail -n1)
	[ -n "$rc" ] || echo "remote: no status from VM b for: $*" >&2
	sed '/^rc=[0-9]*$/d' <<<"$out"
	return "${rc:-1}"
}
dirb_has_conn() { remote "ip netns exec \$dirb $IPVSADM -L -c -n | grep -q 'ESTABLISHED .*:9100 '" >/dev/null; }

# topology_a PAYLOAD: client, dirA, rs1..rs3 and the switch sw, whose
# bridges take b's VLANs in (lib.sh's ha_topology, dirB being in VM b).
topology_a() {
	setup_ns client sw dira rs1 rs2 rs3
	local br v
	for v in brf:10 brb:20 brs:30; do
		br=${v%%:*}
		ip -n "$sw" link add "$br" type bridge
		ip -n "$sw" link set "$br" up
		# (A VLAN device goes with the namespace: made again each time.)
		ip link add link eth0 name "eth0.${v#*:}" type vlan id "${v#*:}" 2>/dev/null || true
		ip link set "eth0.${v#*:}" netns "$sw"
		ip -n "$sw" link set "eth0.${v#*:}" master "$br" up
	done
	ip link add c0 netns "$client" type veth peer name c0s netns "$sw"
	ip -n "$sw" link set c0s master brf up
	ip -n "$client" addr add "$CLIENT_IP/24" dev c0
	ip -n "$client" link set c0 up
	ip -n "$client" route add default via "$GW"
	ip link add f0 netns "$dira" type veth peer name fa netns "$sw"
	ip link add b0 netns "$dira" type veth peer name ba netns "$sw"
	ip link add s0 netns "$dira" type veth peer name sa netns "$sw"
	ip -n "$sw" link set fa master brf up
	ip -n "$sw" link set ba master brb up
	ip -n "$sw" link set sa master brs up
	ip -n "$dira" addr add 192.0.2.11/24 dev f0
	ip -n "$dira" addr add 198.51.100.2/24 dev b0
	ip -n "$dira" addr add "$S0/28" dev s0
	for v in f0 b0 s0; do ip -n "$dira" link set "$v" up; done
	ip -n "$dira" addr add "$VIP/32" dev lo
	ip netns exec "$dira" sysctl -qw net.ipv4.ip_forward=1
	rs_file_servers "$sw" brb r "$RSGW" nat "$1"
}

# The NAT service on a director ($1: a command prefix).
service_cmds() {
	local i
	echo "$IPVSADM -A -t $VIP:9100 -s rr"
	for i in 0 1 2; do echo "$IPVSADM -a -t $VIP:9100 -r ${RS_IPS[$i]}:9100 -m"; done
}

# pair MASTER BACKUP: dirA runs MASTER (in VM a), dirB BACKUP (in VM b).
pair() {
	local ma=$1 mb=$2 v
	echo "== $ma.ko master (VM a), $mb.ko backup (VM b)"
	unload_all
	load_impl "$ma"
	remote "unload_all; load_impl $mb"
	topology_a "$OUT/payload"
	local cmds
	cmds=$(service_cmds)
	while read -r v; do ip netns exec "$dira" $v; done <<<"$cmds"
	remote "$(sed 's/^/ip netns exec $dirb /' <<<"$cmds")"
	ip -n "$dira" addr add "$GW/24" dev f0
	ip -n "$dira" addr add "$RSGW/24" dev b0
	ip netns exec "$dira" $IPVSADM --start-daemon master --mcast-interface s0
	remote "ip netns exec \$dirb $IPVSADM --start-daemon backup --mcast-interface s0"
	rm -f "$OUT/got"
	ip netns exec "$client" python3 "$LVS_PY" fetch "$VIP" 9100 "$OUT/got" 2e6 >"$OUT/fetch" &
	local pid=$!
	wait_for 30 test -s "$OUT/got" || fail "the download did not start"
	wait_for 30 dirb_has_conn || fail "$mb.ko backup in VM b did not get the connection"
	remote "ip netns exec \$dirb $IPVSADM -L -c -n"
	[ "$(stat -c %s "$OUT/got")" -lt 10000000 ] || fail "the download ended before the failover"
	echo "failover at $(stat -c %s "$OUT/got") bytes"
	# The addresses move to dirB (VRRP's part), the neighbours learn it.
	ip -n "$dira" addr del "$GW/24" dev f0
	ip -n "$dira" addr del "$RSGW/24" dev b0
	remote "ip -n \$dirb addr add $GW/24 dev f0; ip -n \$dirb addr add $RSGW/24 dev b0"
	for v in "$client" "$rs1" "$rs2" "$rs3"; do ip -n "$v" neigh flush all; done
	wait "$pid" || true
	cat "$OUT/fetch"
	cmp "$OUT/payload" "$OUT/got" || fail "$ma.ko master, $mb.ko backup: the download is not whole"
	remote "ip netns exec \$dirb $IPVSADM -L -n --stats"
	# dirB back to its start (its namespace stays).
	remote "ip -n \$dirb addr del $GW/24 dev f0; ip -n \$dirb addr del $RSGW/24 dev b0
ip netns exec \$dirb $IPVSADM --stop-daemon backup; ip netns exec \$dirb $IPVSADM -C"
	ip netns exec "$dira" $IPVSADM --stop-daemon master
	cleanup_ns
}

role_a() {
	OUT=$(mktemp -d /tmp/rvs-interop.XXXXXX)
	trap 'echo touch /tmp/interop-done | timeout 20 socat -t 10 - "TCP:$CTL_B:$AGENT_PORT" >/dev/null 2>&1; cleanup_ns; unload_all >/dev/null 2>&1; rm -rf "$OUT"' EXIT
	vlans "$CTL_A"
	wait_for 60 sh -c "echo true | socat -t 5 - TCP:$CTL_B:$AGENT_PORT,connect-timeout=1 | grep -q rc=0" ||
		{ echo "not ok - VM b's agent not reachable over the link"; return 1; }
	head -c 12000000 /dev/urandom >"$OUT/payload"
	tap_case "live sync, rvs.ko master (VM a) and ip_vs.ko backup (VM b): a download through the failover whole" pair rvs ip_vs
	tap_case "live sync, ip_vs.ko master (VM a) and rvs.ko backup (VM b): a download through the failover whole" pair ip_vs rvs
	tap_done
}

case "${1:-}" in
a) role_a ;;
b) role_b ;;
agent) role_agent ;;
*) echo "usage: $0 a|b|agent" >&2; exit 2 ;;
esac
