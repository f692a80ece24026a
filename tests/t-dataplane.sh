#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The data plane: traffic through the director by NAT, DR and TUN, TCP and
# UDP, on ip_vs.ko and on rvs.ko (the same script, the same answers). One
# lib.sh topology (client - director - rs1..rs3, the real servers ready for
# all three methods) serves every case; each case loads its module,
# configures the director and empties it again.
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /tmp/rvs-dp.XXXXXX)
RVS_KEEP_NS=1
trap 'use ip_vs >/dev/null 2>&1; cleanup_ns; rm -rf "$OUT"; unload_all' EXIT

dir() { ip netns exec "$director" "$@"; }
cli() { ip netns exec "$client" "$@"; }

# use IMPL: an empty director on implementation IMPL (the previous case's
# table, left by a failure, emptied first: it holds scheduler modules).
use() {
	if module_loaded ip_vs || module_loaded rvs; then
		dir $IPVSADM -C 2>/dev/null || true
	fi
	load_impl "$1"
}

# offload on|off: TX checksum offload of the client's and real servers'
# veths (CHECKSUM_PARTIAL packets through the director, or complete ones).
offload() {
	ip netns exec "$client" ethtool -K c0 tx "$1" >/dev/null
	local ns
	for ns in "$rs1" "$rs2" "$rs3"; do
		ip netns exec "$ns" ethtool -K eth0 tx "$1" >/dev/null
	done
}

# transfer tcp|udp SIZE: SIZE random bytes to VIP:8080 and back, compared.
transfer() {
	head -c "$2" /dev/urandom >"$OUT/in"
	rm -f "$OUT/out"
	if [ "$1" = tcp ]; then
		cli timeout 60 socat -t 20 - "TCP:$VIP:8080" <"$OUT/in" >"$OUT/out"
	else
		cli timeout 20 python3 "$LVS_PY" udp "$VIP" 8080 <"$OUT/in" >"$OUT/out"
	fi
	cmp "$OUT/in" "$OUT/out" || fail "$1 $2 bytes: the echo differs"
	echo "$1 $2 bytes: same bytes back"
}

# test_forward IMPL METHOD: TCP (1000 B, 300 kB) and UDP (1000 B, 3000 B:
# fragmented) through the VIP and back, checksum offload on and off.
test_forward() {
	local impl=$1 method=$2 off
	use "$impl"
	lvs_service -t "$method" rr
	lvs_service -u "$method" rr
	for off in on off; do
		offload "$off"
		transfer tcp 1000
		transfer tcp 300000
		transfer udp 1000
		transfer udp 3000
	done
	dir $IPVSADM -L -n --stats
	# Every real server saw traffic (rr over 4 TCP and 4 UDP transfers).
	local n
	n=$(dir $IPVSADM -L -n --stats --exact | awk '$1 == "->" && $2 ~ /:8080$/ && $3 > 0 {print $2}' |
		sort -u | wc -l)
	[ "$n" = 3 ] || fail "$n real servers got connections, not 3"
	dir $IPVSADM -C
}

# picks IMPL NAME CMD...: the sequence of real servers CMD got, saved for
# the comparison of the two implementations.
picks() {
	local impl=$1 name=$2
	shift 2
	"$@" >"$OUT/$name.$impl"
	echo "$name on $impl: $(sort "$OUT/$name.$impl" | uniq -c | tr -s ' \n' ' ')"
}

# count NAME IMPL RS: how often RS was picked.
count() { grep -cx "$3" "$OUT/$1.$2" || true; }

test_rr_wrr() {
	local impl=$1
	use "$impl"
	lvs_service -t nat rr
	picks "$impl" rr cli python3 "$LVS_PY" names "$VIP" 8081 300
	expect_eq "rr rs1/rs2/rs3" "100 100 100" \
		"$(count rr "$impl" rs1) $(count rr "$impl" rs2) $(count rr "$impl" rs3)"
	dir $IPVSADM -C
	lvs_service -t nat wrr 3 2 1
	picks "$impl" wrr cli python3 "$LVS_PY" names "$VIP" 8081 300
	expect_eq "wrr 3:2:1" "150 100 50" \
		"$(count wrr "$impl" rs1) $(count wrr "$impl" rs2) $(count wrr "$impl" rs3)"
	dir $IPVSADM -C
	lvs_service -u nat rr
	picks "$impl" rr-udp cli python3 "$LVS_PY" names "$VIP" 8081 30 --udp
	expect_eq "rr over UDP" "10 10 10" \
		"$(count rr-udp "$impl" rs1) $(count rr-udp "$impl" rs2) $(count rr-udp "$impl" rs3)"
	dir $IPVSADM -C
}

# test_least IMPL: lc, wlc, sed, nq (weights 1:2:3) with the connections
# held open: each new one goes where the scheduler's counts say.
test_least() {
	local impl=$1 s
	use "$impl"
	for s in lc wlc sed nq; do
		lvs_service -t nat "$s" 1 2 3
		picks "$impl" "$s" cli python3 "$LVS_PY" names "$VIP" 8081 12 --hold
		dir $IPVSADM -C
	done
}

same_picks() {
	local f
	for f in rr wrr rr-udp lc wlc sed nq; do
		[ -s "$OUT/$f.ip_vs" ] && [ -s "$OUT/$f.rvs" ] || fail "$f: no picks recorded"
		expect_eq "$f: the sequence of picks, ip_vs vs rvs" \
			"$(cat "$OUT/$f.ip_vs")" "$(cat "$OUT/$f.rvs")"
	done
}

lvs_setup
for impl in ip_vs rvs; do
	for m in nat dr tun; do
		tap_case "$impl: $m: TCP and UDP payloads come back byte for byte (offload on/off)" \
			test_forward "$impl" "$m"
	done
	tap_case "$impl: rr 100/100/100, wrr 3:2:1 150/100/50 over 300 connections" test_rr_wrr "$impl"
	tap_case "$impl: lc, wlc, sed, nq with held connections" test_least "$impl"
done
tap_case "the same real servers picked by ip_vs.ko and rvs.ko, in the same order" same_picks
tap_done
