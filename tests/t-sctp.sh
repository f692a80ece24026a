#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# SCTP through the director: associations by NAT (also to another port of
# the real server, so that the director must compute the CRC32c afresh),
# DR and TUN, over IPv4 and IPv6, on ip_vs.ko and on rvs.ko, the same
# script, the same answers:
#
# - 200 kB echoed over one association come back byte for byte (cmp),
#   checksum offload on and off (off: every packet carries a CRC its
#   receiver checks);
# - six held associations are spread 2/2/2 by rr and listed ESTABLISHED;
#   once shut down, every entry is listed CLOSED;
# - the real servers' and the client's SCTP stacks counted no checksum
#   error;
# - /proc/net/ip_vs_stats_percpu counts every association;
# - the states, spread and counters are the same on both modules.
#
# The lib.sh topology; the SCTP servers (tests/tools/lvs.py sctp-serve)
# are bound to the real server's own address (NAT) and to the VIP (DR,
# TUN), each alone, so that no association takes another path.
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /tmp/rvs-sctp.XXXXXX)
RVS_KEEP_NS=1
trap 'use ip_vs >/dev/null 2>&1; cleanup_ns; rm -rf "$OUT"; unload_all' EXIT


# csum_errors: the SCTP checksum errors the client and the real servers
# counted, all together.
csum_errors() {
	local ns n=0
	for ns in "$client" "$rs1" "$rs2" "$rs3"; do
		n=$((n + $(ip netns exec "$ns" awk '$1 == "SctpChecksumErrors" { print $2 }' /proc/net/sctp/snmp)))
	done
	echo "$n"
}

# entries [PORT]: the SCTP entries of the round's VIP ($vip, as ipvsadm
# lists it) listed (state, virtual service, real server), of the service
# port PORT if given.
entries() {
	dir $IPVSADM -L -c -n | awk -v v="$vip" -v p="${1:-}" \
		'$1 == "SCTP" && index($5, v ":") == 1 && (p == "" || $5 == v ":" p) {print $3, $5, $6}' | sort
}
all_closed() { [ -z "$(entries | awk '$1 != "CLOSED"')" ]; }
n_established() { [ "$(entries "$1" | awk '$1 == "ESTABLISHED"' | wc -l)" = "$2" ]; }

# test_sctp IMPL METHOD: the round above by METHOD over both families.
test_sctp() {
	local impl=$1 m=$2 fam vip src rss off before
	use "$impl"
	before=$(csum_errors)
	for fam in 4 6; do
		if [ $fam = 4 ]; then
			vip=$VIP src=$CLIENT_IP rss=("${RS_IPS[@]}")
		else
			vip="[$VIP6]" src=$CLIENT_IP6 rss=("[${RS_IP6S[0]}]" "[${RS_IP6S[1]}]" "[${RS_IP6S[2]}]")
		fi
		LVS_V6=$([ $fam = 6 ] && echo 1) lvs_service --sctp-service "$m" rr
		if [ "$m" = nat ]; then
			# Another port on the real server: the CRC32c is redone.
			dir $IPVSADM -A --sctp-service "$vip:8090" -s rr
			for r in "${rss[@]}"; do
				dir $IPVSADM -a --sctp-service "$vip:8090" -r "$r:8080" -m
			done
		fi
		for off in on off; do
			offload "$off"
			sctp_echo "${vip//[\[\]]/}" 8080 "$src" 200000
			[ "$m" != nat ] || sctp_echo "${vip//[\[\]]/}" 8090 "$src" 200000
		done
		rm -f "$OUT/release"
		cli python3 "$LVS_PY" sctp-names "${vip//[\[\]]/}" 8081 6 "$src" "$OUT/release" >"$OUT/names" &
		wait_for 30 sh -c "[ \$(wc -l <'$OUT/names') = 6 ]" || fail "not 6 associations"
		wait_for 10 n_established 8081 6 || fail "not 6 ESTABLISHED entries: $(entries 8081)"
		echo "IPv$fam $m, held: $(sort "$OUT/names" | uniq -c | tr -s ' \n' ' ')"
		entries 8081 | awk '{print $1}' | uniq -c
		entries 8081 | awk '{print $1, $3}' | sort | uniq -c >"$OUT/held$fam-$m.$impl"
		[ "$(sort "$OUT/names" | uniq -c | awk '{print $1}' | tr -d '\n')" = 222 ] ||
			fail "not 2/2/2 over the three servers"
		touch "$OUT/release"
		wait
		wait_for 20 all_closed || fail "entries not CLOSED: $(entries | awk '$1 != "CLOSED"')"
		entries | uniq -c >"$OUT/closed$fam-$m.$impl"
		cat "$OUT/closed$fam-$m.$impl"
		# (ip_vs.ko sums its per-CPU counters every 2 s.)
		wait_for 10 conns_are $([ "$m" = nat ] && echo 10 || echo 8) ||
			fail "the associations counted add up to $(conns_total)"
		dir $IPVSADM -L -n --stats --exact | awk '$1 == "->" {print $2, $3}' >"$OUT/stats$fam-$m.$impl"
		cat "$OUT/stats$fam-$m.$impl"
		dir $IPVSADM -C
	done
	offload on
	expect_eq "SCTP checksum errors counted" "$before" "$(csum_errors)"
	# ip_vs's per-CPU view of the totals: its headers, each CPU's and the
	# total connections (packets depend on timing).
	dir cat /proc/net/ip_vs_stats_percpu
	dir cat /proc/net/ip_vs_stats_percpu | awk '{print $1, $2} $1 == "~" {exit}' >"$OUT/percpu-$m.$impl"
	[ "$(awk '$1 == "~" {print $2}' "$OUT/percpu-$m.$impl")" = "$(printf %X $([ "$m" = nat ] && echo 20 || echo 16))" ] ||
		fail "the per-CPU file's total is not every association"
}

# test_sloppy IMPL: an SCTP stream by DR (one real server) whose entry is
# lost (the module reloaded while the director drops the stream's
# packets, the client retransmitting): with sloppy_sctp=1 its next DATA,
# no INIT, makes a new entry and the stream goes on; with 0 the director's
# own SCTP stack aborts the association.
test_sloppy() {
	local impl=$1 s
	for s in 0 1; do
		use "$impl"
		dir sysctl -qw net.ipv4.vs.sloppy_sctp=$s
		dir $IPVSADM -A --sctp-service "$VIP:8080" -s rr
		dir $IPVSADM -a --sctp-service "$VIP:8080" -r "${RS_IPS[0]}:8080" -g
		LVS_TIMEOUT=15 cli python3 "$LVS_PY" sctp-stream "$VIP" 8080 6 "$CLIENT_IP" >"$OUT/sloppy$s" &
		wait_for 10 sh -c "ip netns exec $director $IPVSADM -L -n -c | grep -q 'SCTP.*ESTABLISHED'" ||
			fail "sloppy_sctp=$s: the stream did not start"
		dir nft -f - <<-EOF
			table ip rvs_hold {
				chain pre {
					type filter hook prerouting priority raw; policy accept;
					ip daddr $VIP sctp dport 8080 drop
				}
			}
		EOF
		use "$impl"
		dir sysctl -qw net.ipv4.vs.sloppy_sctp=$s
		dir $IPVSADM -A --sctp-service "$VIP:8080" -s rr
		dir $IPVSADM -a --sctp-service "$VIP:8080" -r "${RS_IPS[0]}:8080" -g
		dir nft delete table ip rvs_hold
		wait
		echo "sloppy_sctp=$s: $(cat "$OUT/sloppy$s")"
		dir $IPVSADM -L -n -c | awk '$1 == "SCTP"'
	done
	grep -q '^broken' "$OUT/sloppy0" || fail "sloppy_sctp=0: the stream went on"
	grep -q '^ok' "$OUT/sloppy1" || fail "sloppy_sctp=1: the stream broke"
	dir $IPVSADM -C
}

# same_answers: the records of both modules compared.
same_answers() {
	local f
	for f in "$OUT"/*.ip_vs; do
		f=$(basename "$f" .ip_vs)
		[ -s "$OUT/$f.ip_vs" ] && [ -s "$OUT/$f.rvs" ] || fail "$f: nothing recorded"
		expect_eq "$f: ip_vs vs rvs" "$(cat "$OUT/$f.ip_vs")" "$(cat "$OUT/$f.rvs")"
	done
	[ "$(ls "$OUT"/*.rvs | wc -l)" = 21 ] || fail "not 21 records"
}

setup_topology
lvs_director
lvs_real_servers
lvs_tunnels6
lvs_sctp_servers
for impl in ip_vs rvs; do
	for m in nat dr tun; do
		tap_case "$impl: SCTP $m over IPv4 and IPv6: 200 kB echoed (offload on/off), 6 associations 2/2/2 ESTABLISHED then CLOSED, no checksum error" \
			test_sctp "$impl" "$m"
	done
	tap_case "$impl: sloppy_sctp 0/1: a DR association whose entry was lost breaks or goes on" test_sloppy "$impl"
done
tap_case "the same states, spread and counters on ip_vs.ko and rvs.ko" same_answers
tap_done
