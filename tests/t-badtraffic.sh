#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad traffic against rvs.ko: malformed IPv4/TCP/UDP/SCTP/ICMP and IPv6
# (extension header chains, fragments, ICMPv6), fragments, odd TCP flags,
# SCTP chunks of every length, ICMP errors for unknown connections, a SYN
# flood from 10,000 source ports and an SCTP INIT flood; then rmmod while traffic flows and a namespace deleted with
# its connections. Each must leave no Oops, lockdep or KASAN report (the VM
# runner fails on them), no leak (kmemleak), memory back after expiry, and
# a service that still answers.
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /tmp/rvs-bad.XXXXXX)
trap 'cleanup_ns; rm -rf "$OUT"; unload_all' EXIT
BADPKT="$RVS_ROOT/tests/tools/badpkt.py"

d0_mac() { ip -n "$director" -o link show d0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

# slab NAME: objects in use of a slab cache.
slab() { awk -v n="$1" '$1 == n {print $2}' /proc/slabinfo; }
conns() { dir sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l'; }

answers() {
	head -c 20000 /dev/urandom >"$OUT/in"
	cli timeout 30 socat -t 10 - "TCP:$VIP:8080" <"$OUT/in" >"$OUT/out"
	cmp "$OUT/in" "$OUT/out"
	expect_eq "UDP answer" answer "$(cli python3 "$LVS_PY" udp-ask "$VIP" 8080)"
	cli timeout 30 socat -t 10 - "TCP6:[$VIP6]:8080" <"$OUT/in" >"$OUT/out6"
	cmp "$OUT/in" "$OUT/out6"
	expect_eq "UDP answer (IPv6)" answer "$(cli python3 "$LVS_PY" udp-ask "$VIP6" 8080)"
	sctp_echo "$VIP" 8080 "$CLIENT_IP" 20000
	sctp_echo "$VIP6" 8080 "$CLIENT_IP6" 20000
}

setup() {
	load_impl rvs
	lvs_setup
	lvs_sctp_servers
	for m in -t -u --sctp-service; do lvs_service "$m" nat rr; done
	for m in -t -u --sctp-service; do lvs_service6 "$m" nat rr; done
	lvs_service -t tun rr 2>/dev/null || true
}

test_malformed() {
	setup
	kmemleak_begin
	local mac
	mac=$(d0_mac)
	answers
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP" "$VIP" 8080 malformed
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP" "$VIP" 8081 malformed
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP6" "$VIP6" 8080 malformed6
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP6" "$VIP6" 8081 malformed6
	echo "connection entries after the malformed traffic: $(conns)"
	answers
	echo "the service still answers"
	cleanup_ns
	rmmod rvs
	kmemleak_check
}

test_synflood() {
	setup
	local mac before peak after n
	mac=$(d0_mac)
	before=$(slab rvs_conn)
	[ -n "$before" ] || fail "no rvs_conn cache in /proc/slabinfo"
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP" "$VIP" 8080 synflood 10000
	n=$(conns)
	peak=$(slab rvs_conn)
	echo "after 10,000 SYNs: $n connection entries; rvs_conn slab objects: $before before, $peak now"
	[ "$n" -ge 9000 ] || fail "only $n entries for 10,000 SYNs"
	answers
	echo "the service answers during the flood's aftermath"
	# SYN_RECV entries live 60 s (ip_vs's fixed timeout), then go (those
	# of answers stay: TCP, UDP, SCTP, two each).
	wait_for 120 sh -c "[ \$(ip netns exec $director sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l') -le 6 ]" ||
		fail "entries left: $(conns)"
	# Per-CPU slabs hold freed objects back from the count: flush them.
	sleep 2
	echo 1 >/sys/kernel/slab/rvs_conn/shrink 2>/dev/null || true
	after=$(slab rvs_conn)
	echo "after expiry: $(conns) entries; rvs_conn slab objects: $after (peak $peak)"
	[ "$after" -le $((before + 64)) ] || fail "slab objects not back: $after, $before before"
	answers
	# INITs to a port where the real servers listen not: their entries
	# (INIT1, then REJECTED by the real servers' ABORTs) live 4 s.
	local base r made
	dir $IPVSADM -A --sctp-service "$VIP:8085" -s rr
	for r in "${RS_IPS[@]}"; do
		dir $IPVSADM -a --sctp-service "$VIP:8085" -r "$r:8085" -m
	done
	base=$(conns)
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP" "$VIP" 8085 initflood 5000
	n=$(conns)
	# The entries made, from the service's counter: on a slow machine the
	# first ones expire (4 s) before the last INIT is sent.
	made=$(dir $IPVSADM -L -n --stats --exact --sctp-service "$VIP:8085" | awk '$1 == "SCTP" { print $3 }')
	echo "after 5,000 SCTP INITs: $made entries made, $n live ($base before)"
	[ "${made:-0}" -ge 4500 ] || fail "only ${made:-0} entries made for 5,000 INITs"
	wait_for 60 sh -c "[ \$(ip netns exec $director sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l') -le $base ]" ||
		fail "entries left: $(conns)"
	echo "after expiry: $(conns) entries"
	answers
	cleanup_ns
	rmmod rvs
}

# stop_clients: the client programs started in the background.
stop_clients() {
	kill "$@" 2>/dev/null || true
	pkill -f 'lvs.py (stream|names|udp-ask)' 2>/dev/null || true
	# Only these: the real servers run in the background too.
	wait "$@" 2>/dev/null || true
}

test_rmmod_under_traffic() {
	setup
	kmemleak_begin
	cli python3 "$LVS_PY" stream "$VIP" 8080 20 >/dev/null 2>&1 &
	local p1=$!
	cli python3 "$LVS_PY" names "$VIP" 8081 100000 >/dev/null 2>&1 &
	local p2=$!
	(while :; do cli python3 "$LVS_PY" udp-ask "$VIP" 8080 >/dev/null 2>&1; done) &
	local p3=$!
	wait_for 20 sh -c "[ \$(ip netns exec $director sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l') -ge 20 ]"
	echo "connection entries before rmmod: $(conns)"
	rmmod rvs
	! module_loaded rvs
	echo "rvs.ko unloaded with traffic flowing"
	stop_clients "$p3" "$p1" "$p2"
	cleanup_ns
	kmemleak_check
}

test_netns_exit() {
	setup
	kmemleak_begin
	cli python3 "$LVS_PY" names "$VIP" 8081 20 --hold >/dev/null 2>&1 &
	local p1=$!
	cli python3 "$LVS_PY" stream "$VIP" 8080 10 >/dev/null 2>&1 &
	local p2=$!
	wait_for 20 sh -c "[ \$(ip netns exec $director sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l') -ge 10 ]"
	echo "connection entries: $(conns); deleting the director's namespace"
	ip netns del "$director"
	stop_clients "$p1" "$p2"
	cleanup_ns
	rmmod rvs
	kmemleak_check
}

tap_case "malformed IPv4/TCP/UDP/SCTP/ICMP and IPv6 (extension headers, fragments, ICMPv6), odd flags: no harm, the service answers" \
	test_malformed
tap_case "SYN flood from 10,000 ports, SCTP INIT flood from 5,000: entries expire, slab memory back, the service answers" test_synflood
tap_case "rmmod rvs while traffic flows: clean, kmemleak silent" test_rmmod_under_traffic
tap_case "deleting a namespace with connections: clean, kmemleak silent" test_netns_exit
tap_done
