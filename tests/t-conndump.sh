#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `rvsadm -L -c` over netlink: rvs.ko's own command of the IPVS family
# (RVS_CMD_GET_CONN) dumps the connection table with filters applied in the
# kernel; on ip_vs.ko, which has no such command, rvsadm reads
# /proc/net/ip_vs_conn and filters it itself.
# - 100,000 synced entries (5,000 on ip_vs.ko, whose /proc reader starts
#   again from its first bucket at every read: at 100,000 ipvsadm's read
#   outlasted the live entries' TIME_WAIT) and live TCP, UDP and IPv6
#   connections: on rvs.ko, rvsadm's listing over netlink is ipvsadm's of
#   /proc, line for line and in the same order (expiry aside); on ip_vs.ko
#   too;
# - each filter (service, real server, client prefix, state, combined)
#   lists exactly the entries of ipvsadm's listing that it names, on both
#   modules, with the same counts of live connections;
# - a filter the kernel cannot take is refused by the command's policy
#   (EINVAL and the core's extack message; rvsadm exits 1, as for a failed
#   listing), one rvsadm can tell wrong by itself with exit 2.
#
#   client --- director (NAT: TCP/UDP VIP:8080/8081, TCP [VIP6]:8080/8081)
#                 | s0 203.0.113.33: a sync backup, fed 100,000 entries by
#   peer 203.0.113.34 (tests/tools/syncmsg.py)
source "$(dirname "$0")/lib.sh"

SYNCMSG="$RVS_ROOT/tests/tools/syncmsg.py"
OUT=$(mktemp -d /tmp/rvs-conndump.XXXXXX)
trap 'cleanup_ns; unload_all >/dev/null 2>&1; rm -rf "$OUT"' EXIT
BUF=67108864

# mask: a -L -c listing without its expiry column.
mask() { awk 'NR > 2 { $2 = ""; print }'; }

# fill IMPL N: the topology on IMPL, its table with N synced entries
# (ESTABLISHED, clients 203.0.113.100 and .101) and live connections
# (TCP in TIME_WAIT, UDP, IPv6).
fill() {
	local N=$2
	load_impl "$1"
	setup_topology
	lvs_director
	lvs_real_servers
	lvs_servers 8080
	lvs_service -t nat rr
	lvs_service -u nat rr
	LVS_V6=1 lvs_service -t nat rr
	sync_peer "$director"
	sysctl -qw net.core.rmem_max=$BUF
	dir sysctl -qw net.ipv4.vs.sync_sock_size=$BUF
	dir $IPVSADM --start-daemon backup --mcast-interface s0
	wait_for 20 dir sh -c "ss -Huln | grep -q ':8848 '" || fail "no backup daemon"
	cli python3 "$LVS_PY" names "$VIP" 8081 12 >/dev/null
	cli python3 "$LVS_PY" names "$VIP" 8080 6 --udp >/dev/null
	cli python3 "$LVS_PY" names "$VIP6" 8081 6 >/dev/null
	SYNC_CLIENT=203.0.113.100 python3 "$SYNCMSG" gen "$OUT/stream" "$N" "$VIP:8080" \
		"${RS_IPS[0]}:8080" "${RS_IPS[1]}:8080" "${RS_IPS[2]}:8080"
	ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$OUT/stream" >/dev/null
	wait_for 60 sh -c "[ \$(ip netns exec $director sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l') -ge $((N + 24)) ]" ||
		fail "$1: $(dir sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l') entries, not $((N + 24))"
}

# check IMPL NAME AWK [RVSADM OPTIONS...]: rvsadm -L -c -n with the
# options lists what AWK (a condition on ipvsadm's columns: $1 protocol,
# $3 state, $4 source, $5 virtual, $6 destination) keeps of ipvsadm's
# listing; records the count of live (not synced) entries in
# $OUT/count.IMPL.
check() {
	local impl=$1 name=$2 cond=$3
	shift 3
	dir "$RVSADM" -L -c -n "$@" | mask | sort >"$OUT/got"
	# (From ipvsadm's listing of the whole table, taken once: nothing
	# comes or goes meanwhile.)
	awk "NR > 2 && ($cond) { \$2 = \"\"; print }" "$OUT/ipvsadm-full" | sort >"$OUT/want"
	local n
	n=$(wc -l <"$OUT/want")
	[ "$n" -gt 0 ] || fail "$impl, $name: the filter names no entry of ipvsadm's listing"
	cmp -s "$OUT/want" "$OUT/got" || {
		diff "$OUT/want" "$OUT/got" | head -n 10
		fail "$impl, $name: rvsadm $* lists other entries than ipvsadm's ($n)"
	}
	echo "$name: $n, live $(grep -cv ' 203\.0\.113\.10[01]:' "$OUT/want")" | tee -a "$OUT/count.$impl"
}

round() {
	local impl=$1 N=$2 out rc
	fill "$impl" "$N"
	# The whole table, in the same order (rvs.ko's dump and /proc walk the
	# buckets alike).
	dir "$RVSADM" -L -c -n | mask >"$OUT/rvsadm"
	dir $IPVSADM -L -c -n >"$OUT/ipvsadm-full"
	mask <"$OUT/ipvsadm-full" >"$OUT/ipvsadm"
	[ "$(wc -l <"$OUT/ipvsadm")" -ge $((N + 24)) ] || fail "$impl: ipvsadm lists $(wc -l <"$OUT/ipvsadm") entries"
	cmp "$OUT/ipvsadm" "$OUT/rvsadm" || fail "$impl: rvsadm -L -c -n is not ipvsadm's listing"
	echo "$impl: rvsadm -L -c -n = ipvsadm -L -c -n ($(wc -l <"$OUT/rvsadm") entries)"
	: >"$OUT/count.$impl"
	check "$impl" service '$1 == "TCP" && $5 == "'"$VIP:8080"'"' -t "$VIP:8080"
	check "$impl" server '$1 == "TCP" && $5 == "'"$VIP:8080"'" && $6 == "'"${RS_IPS[1]}:8080"'"' \
		-t "$VIP:8080" --server "${RS_IPS[1]}"
	check "$impl" client '$4 ~ /^203\.0\.113\.100:/' --client 203.0.113.100
	check "$impl" "client prefix and state" '$4 ~ /^192\.0\.2\./ && $3 == "TIME_WAIT"' \
		--client 192.0.2.0/24 --state TIME_WAIT
	check "$impl" "UDP service" '$1 == "UDP" && $5 == "'"$VIP:8080"'"' -u "$VIP:8080" --state UDP
	check "$impl" "IPv6 service" '$5 == "['"$VIP6"']:8081"' -t "[$VIP6]:8081"
	check "$impl" "IPv6 clients" '$4 ~ /^\[2001:db8:1::/' --client 2001:db8:1::/64
	# Refusals: the kernel's (rvs.ko: a state name longer than any), and
	# rvsadm's own.
	if [ "$impl" = rvs ]; then
		rc=0
		out=$(dir "$RVSADM" -L -c -n --state ABCDEFGHIJKLMNOPQRSTU 2>&1) || rc=$?
		echo "$out (exit $rc)"
		# (A listing that fails exits 1, as ipvsadm's.)
		[ "$rc" = 1 ] && grep -q 'Invalid argument: Attribute failed policy validation' <<<"$out" ||
			fail "rvs: a too long state name not refused"
	fi
	rc=0
	out=$(dir "$RVSADM" -L -c -n --client 192.0.2.0/40 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" = 2 ] && grep -q 'prefix length' <<<"$out" || fail "$impl: a /40 IPv4 prefix not refused"
	rc=0
	out=$(dir "$RVSADM" -L -n --state ESTABLISHED 2>&1) || rc=$?
	[ "$rc" = 2 ] || fail "$impl: --state without -c taken"
	cleanup_ns
	unload_all
}

test_conndump() {
	round ip_vs 5000
	round rvs 100000
	expect_eq "the filters' counts of live connections, ip_vs.ko against rvs.ko" \
		"$(sed 's/: [0-9]*, / /' "$OUT/count.ip_vs")" "$(sed 's/: [0-9]*, / /' "$OUT/count.rvs")"
}

tap_case "rvsadm -L -c over netlink at 100,000 entries: ipvsadm's listing; service, server, client prefix and state filters in the kernel; both modules" test_conndump
tap_done
