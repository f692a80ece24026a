#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# IPv6 through the director: NAT, DR and TUN (IPv6 in IPv6), TCP and UDP,
# every scheduler's picks for 200 IPv6 clients, persistence by prefix
# (-M 64, -M 128), path MTU through a tunnel, and mixed families by TUN
# (an IPv6 VIP over IPv4 real servers and the reverse): on ip_vs.ko and on
# rvs.ko, the same script, the same answers. The lib.sh topology
# (client - director - rs1..rs3) with its IPv6 addresses:
#
#   client 2001:db8:1::2 (and the test's client addresses)
#   director 2001:db8:1::1 | 2001:db8:2::1, VIP 2001:db8:10::10 on lo
#   rs1..rs3 2001:db8:2::11-13, VIP on lo, t6 (ip6tnl, mode any) and sit1
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /tmp/rvs-v6.XXXXXX)
RVS_KEEP_NS=1
trap 'use ip_vs >/dev/null 2>&1; cleanup_ns; rm -rf "$OUT"; unload_all' EXIT

# record NAME IMPL N: the service table's real servers with their
# connection counts, and the connection entries (protocol, state, virtual
# and real server; the client's port varies), for the comparison, once the
# counts add up to N (ip_vs.ko sums its per-CPU counters every 2 s).
record() {
	wait_for 10 conns_are "$3" ||
		fail "the connections counted add up to $(conns_total), not $3"
	dir $IPVSADM -L -n --stats --exact | awk '$1 == "->" {print $2, $3}' >"$OUT/$1-stats.$2"
	dir $IPVSADM -L -c -n | awk 'NR > 2 {print $1, $3, $5, $6}' | sort | uniq -c >"$OUT/$1-conns.$2"
	cat "$OUT/$1-stats.$2" "$OUT/$1-conns.$2"
}

# test_forward6 IMPL METHOD: TCP (1000 B, 300 kB) and UDP (1000 B, 3000 B:
# fragmented by the client, reassembled on the director, fragmented again
# on the way out) through the IPv6 VIP and back, checksum offload on and
# off; every real server got connections.
test_forward6() {
	local impl=$1 method=$2 n
	use "$impl"
	lvs_service6 -t "$method" rr
	lvs_service6 -u "$method" rr
	forward_round "$VIP6"
	record "fw-$method" "$impl" 8
	n=$(awk '$1 ~ /:8080$/ && $2 > 0 {print $1}' "$OUT/fw-$method-stats.$impl" | sort -u | wc -l)
	[ "$n" = 3 ] || fail "$n real servers got connections, not 3"
	dir $IPVSADM -C
}

# clients6 N FIRST [PREFIX]: N addresses of the client from PREFIX::FIRST
# (hex; PREFIX 2001:db8:1 unless given) on, added to its card; printed
# space-separated.
clients6() {
	local i a=()
	for ((i = $2; i < $2 + $1; i++)); do a+=("$(printf '%s::%x' "${3:-2001:db8:1}" "$i")"); done
	printf 'addr replace %s/64 dev c0 nodad\n' "${a[@]}" | ip -n "$client" -batch -
	echo "${a[*]}"
}

# drop_clients6 ADDR...: the addresses taken off the client again (else
# they would be sources of its later connections).
drop_clients6() {
	printf 'addr del %s/64 dev c0\n' "$@" | ip -n "$client" -batch -
}

# test_sched6 IMPL: every scheduler but twos (random by design) places 200
# IPv6 clients, one connection each, held open until the last is made (so
# that the counts the schedulers weigh do not depend on timing; weights
# 1:2:3); the sequences are compared with ip_vs.ko's. rr, wrr, sh and mh
# spread the clients over the three servers; dh (one VIP) keeps them on
# one.
test_sched6() {
	local impl=$1 srcs s
	use "$impl"
	srcs=$(clients6 200 256)
	for s in rr wrr lc wlc sed nq fo sh mh dh lblc lblcr; do
		lvs_service6 -t nat "$s" 1 2 3
		picks "$impl" "sched-$s" env LVS_SRC="$srcs" ip netns exec "$client" \
			python3 "$LVS_PY" names "$VIP6" 8081 200 --hold
		[ "$(wc -l <"$OUT/sched-$s.$impl")" = 200 ] || fail "$s: not 200 connections"
		case $s in
		sh | mh | rr | wrr) [ "$(sort -u "$OUT/sched-$s.$impl" | wc -l)" = 3 ] ||
			fail "$s: 200 clients, yet not on 3 servers" ;;
		dh) [ "$(sort -u "$OUT/sched-$s.$impl" | wc -l)" = 1 ] ||
			fail "$s: one VIP, yet several servers" ;;
		esac
		dir $IPVSADM -C
	done
	# ovf takes a server's weight in active connections at most: 6 held
	# TCP connections (more would be refused).
	lvs_service6 -t nat ovf 1 2 3
	picks "$impl" sched-ovf env LVS_SRC="$srcs" ip netns exec "$client" \
		python3 "$LVS_PY" names "$VIP6" 8081 6 --hold
	[ "$(wc -l <"$OUT/sched-ovf.$impl")" = 6 ] || fail "ovf: not 6 connections"
	dir $IPVSADM -C
	drop_clients6 $srcs
}

# templates6 NAME IMPL REGEX: the persistence templates listed (client
# network, VIP, real server) whose line matches REGEX, for the comparison
# (ipvsadm -C leaves earlier templates to expire).
templates6() {
	dir $IPVSADM -L -c -n | awk '$3 == "NONE" || $3 == "ASSURED" {print $1, $3, $4, $5, $6}' |
		grep -E "$3" | sort >"$OUT/$1.$2"
	cat "$OUT/$1.$2"
}

# test_persist6 IMPL: -p with -M 64: the 64 clients of 2001:db8:1::/64 stay
# on one server, the 64 of 2001:db8:1:1::/64 on another (two templates of
# network 2001:db8:1:: and 2001:db8:1:1::); with -M 128 every client has
# its own template and rr spreads them.
test_persist6() {
	local impl=$1 a b i
	use "$impl"
	a=$(clients6 64 512)
	b=$(clients6 64 512 2001:db8:1:1)
	dir ip -6 route replace 2001:db8:1:1::/64 via "$CLIENT_IP6"
	dir $IPVSADM -A -t "[$VIP6]:8081" -s rr -p 30 -M 64
	for i in 0 1 2; do dir $IPVSADM -a -t "[$VIP6]:8081" -r "[${RS_IP6S[$i]}]:8081" -m; done
	picks "$impl" persist64 env LVS_SRC="$a $b" ip netns exec "$client" \
		python3 "$LVS_PY" names "$VIP6" 8081 128
	[ "$(head -n 64 "$OUT/persist64.$impl" | sort -u | wc -l)" = 1 ] ||
		fail "-M 64: 2001:db8:1::/64 on several servers"
	[ "$(tail -n 64 "$OUT/persist64.$impl" | sort -u | wc -l)" = 1 ] ||
		fail "-M 64: 2001:db8:1:1::/64 on several servers"
	[ "$(sort -u "$OUT/persist64.$impl" | wc -l)" = 2 ] || fail "-M 64: two networks, yet not two servers"
	templates6 tpl64 "$impl" .
	[ "$(wc -l <"$OUT/tpl64.$impl")" = 2 ] || fail "-M 64: not two templates"
	grep -q ' \[2001:db8:1::\]:0 ' "$OUT/tpl64.$impl" || fail "-M 64: no template of 2001:db8:1::/64"
	dir $IPVSADM -C
	dir $IPVSADM -A -t "[$VIP6]:8081" -s rr -p 30 -M 128
	for i in 0 1 2; do dir $IPVSADM -a -t "[$VIP6]:8081" -r "[${RS_IP6S[$i]}]:8081" -m; done
	picks "$impl" persist128 env LVS_SRC="$(echo $a | cut -d' ' -f1-30)" ip netns exec "$client" \
		python3 "$LVS_PY" names "$VIP6" 8081 60
	[ "$(sort -u "$OUT/persist128.$impl" | wc -l)" = 3 ] || fail "-M 128: 30 clients, yet not on 3 servers"
	# Each client's two connections on one server.
	[ "$(head -n 30 "$OUT/persist128.$impl")" = "$(tail -n 30 "$OUT/persist128.$impl")" ] ||
		fail "-M 128: a client moved"
	templates6 tpl128 "$impl" '\[2001:db8:1::2[0-9a-f]{2}\]:0 '
	[ "$(wc -l <"$OUT/tpl128.$impl")" = 30 ] || fail "-M 128: not 30 templates"
	dir $IPVSADM -C
	dir ip -6 route del 2001:db8:1:1::/64
	drop_clients6 $a $b
}

# test_pmtu6 IMPL: the real servers' segment at MTU 1400, the client's at
# 1500. NAT: a 1450-byte UDP datagram gets the client the director's Packet
# Too Big with 1400 and no answer; the next one (sent in fragments) comes
# back; a Packet Too Big from beyond the director about a flow reaches the
# client translated (its path MTU to the VIP 1280). TUN: a 300 kB TCP transfer completes through path MTU discovery
# (1360: room for the outer IPv6 header; TCP's MSS does not know it).
test_pmtu6() {
	local impl=$1
	use "$impl"
	set_mtu 1400
	cli ip -6 route flush cache
	lvs_service6 -u nat rr
	head -c 1402 /dev/urandom >"$OUT/in"
	! cli timeout 20 python3 "$LVS_PY" udp "$VIP6" 8080 <"$OUT/in" >/dev/null 2>&1 ||
		fail "nat: a datagram bigger than the path came back"
	expect_eq "nat: the path MTU the client learnt" "mtu 1400" \
		"$(cli ip -6 route get "$VIP6" | grep -o 'mtu [0-9]*')"
	transfer udp 1402 "$VIP6"
	# A Packet Too Big from beyond the director (sent by the real server
	# as a router there would) about the datagram it forwarded to it:
	# translated, it reaches the client's socket, whose path MTU to the
	# VIP becomes 1280 (untranslated, it would name the real server).
	cli ip -6 route flush cache
	rm -f "$OUT/ptb-release"
	cli python3 "$LVS_PY" udp-hold "$VIP6" 8080 40500 "$OUT/ptb-release" >"$OUT/ptb-hold" &
	# (A case that fails below releases the holder, which ends within 120 s
	# anyway: the next case binds the same port.)
	trap 'touch "$OUT/ptb-release"' EXIT
	wait_for 30 grep -q answer "$OUT/ptb-hold" || fail "nat: no answer to the held flow"
	local rs i rss=("$rs1" "$rs2" "$rs3")
	rs=$(dir $IPVSADM -L -c -n | awk '$1 == "UDP" && $4 ~ /:40500$/ {print $6}' | sed 's/^\[\(.*\)\]:.*/\1/')
	for i in 0 1 2; do [ "${RS_IP6S[$i]}" = "$rs" ] && break; done
	[ "${RS_IP6S[$i]}" = "$rs" ] || fail "nat: no entry of the held flow ($rs)"
	ip netns exec "${rss[$i]}" python3 "$LVS_PY" icmp6-ptb "$rs" "$CLIENT_IP6" 1280 \
		"$CLIENT_IP6" "$rs" 40500 8080
	wait_for 10 sh -c "ip netns exec $client ip -6 route get $VIP6 | grep -q 'mtu 1280'" ||
		fail "nat: the Packet Too Big did not reach the client's flow: $(cli ip -6 route get "$VIP6")"
	cli ip -6 route get "$VIP6" | grep -o 'mtu [0-9]*' >"$OUT/ptb-path.$impl"
	echo "nat: a Packet Too Big from beyond: the client's path to the VIP: $(cat "$OUT/ptb-path.$impl")"
	touch "$OUT/ptb-release"
	wait
	trap - EXIT
	dir $IPVSADM -C
	cli ip -6 route flush cache
	lvs_service6 -t tun rr
	transfer tcp 300000 "$VIP6"
	expect_eq "tun: the path MTU the client learnt" "mtu 1360" \
		"$(cli ip -6 route get "$VIP6" | grep -o 'mtu [0-9]*')"
	dir $IPVSADM -C
	set_mtu 1500
}

# test_mixed IMPL: an IPv6 VIP over IPv4 real servers (IPv6 in IPv4, sit)
# and an IPv4 VIP over IPv6 real servers (IPv4 in IPv6, ip6tnl) by TUN,
# TCP and UDP bytes compared; NAT and DR across families refused as
# ip_vs.ko refuses them (the same message).
test_mixed() {
	local impl=$1 i m
	use "$impl"
	dir $IPVSADM -A -t "[$VIP6]:8080" -s rr
	dir $IPVSADM -A -u "[$VIP6]:8080" -s rr
	dir $IPVSADM -A -t "$VIP:8080" -s rr
	dir $IPVSADM -A -u "$VIP:8080" -s rr
	for i in 0 1 2; do
		dir $IPVSADM -a -t "[$VIP6]:8080" -r "${RS_IPS[$i]}:8080" -i
		dir $IPVSADM -a -u "[$VIP6]:8080" -r "${RS_IPS[$i]}:8080" -i
		dir $IPVSADM -a -t "$VIP:8080" -r "[${RS_IP6S[$i]}]:8080" -i
		dir $IPVSADM -a -u "$VIP:8080" -r "[${RS_IP6S[$i]}]:8080" -i
	done
	for i in 1 2 3; do
		transfer tcp 100000 "$VIP6"
		transfer udp 1000 "$VIP6"
		transfer tcp 100000 "$VIP"
		transfer udp 1000 "$VIP"
	done
	record mixed "$impl" 12
	[ "$(awk '$2 == 1' "$OUT/mixed-stats.$impl" | wc -l)" = 12 ] ||
		fail "not 1 connection on every real server of the four services"
	for m in nat dr; do
		dir $IPVSADM -a -t "[$VIP6]:8080" -r "${RS_IPS[0]}:8081" "$(lvs_fwd_flag "$m")" \
			>>"$OUT/mixed-refused.$impl" 2>&1 && fail "$m across families accepted"
		dir $IPVSADM -a -t "$VIP:8080" -r "[${RS_IP6S[0]}]:8081" "$(lvs_fwd_flag "$m")" \
			>>"$OUT/mixed-refused.$impl" 2>&1 && fail "$m across families accepted"
	done
	cat "$OUT/mixed-refused.$impl"
	dir $IPVSADM -C
}

# test_tunnels6 IMPL: --tun-type gue (without and with a checksum, remote
# checksum offload) and gre (without and with a checksum) over IPv6: TCP and UDP
# payloads through the IPv6 VIP come back byte for byte (offload on and
# off), decapsulated by the real servers' IPv6 fou port (into t6) and
# ip6gre0; their input counters show the packets came in that
# encapsulation.
test_tunnels6() {
	local impl=$1 opt
	use "$impl"
	encap_receivers ip6 on
	for opt in "gue --tun-port 6080 --tun-nocsum" "gue --tun-port 6080 --tun-csum" \
		"gue --tun-port 6080 --tun-remcsum" "gre --tun-nocsum" "gre --tun-csum"; do
		gre_csum_dev ip6 "$([ "$opt" = "gre --tun-csum" ] && echo add || echo del)"
		# Offload on only: the IPv4 tunnels' test and the IPv6 forwarding
		# cases cover complete checksums.
		tunnel_round ip6 "$opt" on
	done
	offload on
	gre_csum_dev ip6 del
	encap_receivers ip6 off
}

# same IMPL-independent: the records of both modules compared.
same_answers() {
	local f
	for f in fw-nat-stats fw-nat-conns fw-dr-stats fw-dr-conns fw-tun-stats fw-tun-conns \
		sched-rr sched-wrr sched-lc sched-wlc sched-sed sched-nq sched-fo sched-ovf sched-sh \
		sched-mh sched-dh sched-lblc sched-lblcr persist64 tpl64 persist128 mixed-stats \
		mixed-conns mixed-refused ptb-path; do
		[ -s "$OUT/$f.ip_vs" ] && [ -s "$OUT/$f.rvs" ] || fail "$f: nothing recorded"
		expect_eq "$f: ip_vs vs rvs" "$(cat "$OUT/$f.ip_vs")" "$(cat "$OUT/$f.rvs")"
	done
	# The templates of -M 128 name each client: the same set.
	expect_eq "tpl128: ip_vs vs rvs" "$(cat "$OUT/tpl128.ip_vs")" "$(cat "$OUT/tpl128.rvs")"
}

lvs_setup
lvs_tunnels6
for impl in ip_vs rvs; do
	for m in nat dr tun; do
		tap_case "$impl: IPv6 $m: TCP and UDP payloads come back byte for byte (offload on/off)" \
			test_forward6 "$impl" "$m"
	done
	tap_case "$impl: IPv6: every scheduler's picks for 200 clients" test_sched6 "$impl"
	tap_case "$impl: IPv6 persistence by prefix (-M 64, -M 128)" test_persist6 "$impl"
	tap_case "$impl: IPv6 path MTU over a 1400-byte segment: Packet Too Big by NAT and from beyond it, 300 kB by TUN" \
		test_pmtu6 "$impl"
	tap_case "$impl: IPv6 GUE and GRE tunnels (checksum options): payloads back byte for byte" \
		test_tunnels6 "$impl"
	tap_case "$impl: mixed families by TUN (IPv6 VIP, IPv4 servers and the reverse); NAT/DR refused" \
		test_mixed "$impl"
done
tap_case "the same spread, states, picks, templates and refusals on ip_vs.ko and rvs.ko" same_answers
tap_done
