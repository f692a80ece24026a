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


# test_forward IMPL METHOD: TCP (1000 B, 300 kB) and UDP (1000 B, 3000 B:
# fragmented) through the VIP and back, checksum offload on and off.
test_forward() {
	local impl=$1 method=$2
	use "$impl"
	lvs_service -t "$method" rr
	lvs_service -u "$method" rr
	forward_round "$VIP"
	wait_for 10 conns_are 8 || fail "the connections counted add up to $(conns_total), not 8"
	dir $IPVSADM -L -n --stats
	# Every real server saw traffic (rr over 4 TCP and 4 UDP transfers).
	local n
	n=$(dir $IPVSADM -L -n --stats --exact | awk '$1 == "->" && $2 ~ /:8080$/ && $3 > 0 {print $2}' |
		sort -u | wc -l)
	[ "$n" = 3 ] || fail "$n real servers got connections, not 3"
	dir $IPVSADM -C
}

# test_tun_pmtu IMPL: the real servers' segment at MTU 1400, the client's
# at 1500: a large TCP transfer by TUN completes through path MTU discovery
# (the director's "fragmentation needed" with 1380, room for the outer
# header, reaches the client, which sends smaller segments).
test_tun_pmtu() {
	local impl=$1 m
	use "$impl"
	cli ip route flush cache
	! cli ip route get "$VIP" | grep -q mtu || fail "the client has a path MTU already"
	set_mtu 1400
	lvs_service -t tun rr
	transfer tcp 300000
	m=$(cli ip route get "$VIP" | grep -o 'mtu [0-9]*')
	echo "the client's route to the VIP: $m"
	expect_eq "the path MTU the client learnt" "mtu 1380" "$m"
	dir $IPVSADM -C
	set_mtu 1500
}

# test_local_client IMPL: a program on the director itself (from its
# address on the real servers' segment) reaches the VIP by each method:
# rr spreads its connections over the three, a TCP payload comes back.
test_local_client() {
	local impl=$1 m
	use "$impl"
	for m in nat dr tun; do
		lvs_service -t "$m" rr
		lvs_service -u "$m" rr
		dir env LVS_SRC="$DIR_RS_IP" python3 "$LVS_PY" names "$VIP" 8081 6 >"$OUT/local-$m"
		expect_eq "$m: a local client's connections (rr)" "rs1 rs1 rs2 rs2 rs3 rs3" \
			"$(sort "$OUT/local-$m" | tr '\n' ' ' | sed 's/ $//')"
		dir env LVS_SRC="$DIR_RS_IP" python3 "$LVS_PY" names "$VIP" 8081 3 --udp >"$OUT/local-$m-udp"
		expect_eq "$m: a local client's UDP (rr)" "rs1 rs2 rs3" \
			"$(sort "$OUT/local-$m-udp" | tr '\n' ' ' | sed 's/ $//')"
		head -c 200000 /dev/urandom >"$OUT/in"
		dir timeout 60 socat -t 20 - "TCP:$VIP:8080,bind=$DIR_RS_IP" <"$OUT/in" >"$OUT/out"
		cmp "$OUT/in" "$OUT/out" || fail "$m: a local client's 200 kB differ"
		echo "$m: a local client balanced, 200 kB back"
		dir $IPVSADM -C
	done
}

# udp8081_conns_are N: the UDP service on port 8081 counted N connections.
udp8081_conns_are() {
	[ "$(dir $IPVSADM -L -n --stats --exact -u "$VIP:8081" | awk '$1 == "UDP" {print $3}')" = "$1" ]
}

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
	# One-packet scheduling: every datagram of one socket scheduled on
	# its own, no entry kept, each counted as a connection.
	dir $IPVSADM -E -u "$VIP:8081" -s rr -o
	# (ip_vs.ko lists and zeroes the counters of its estimator's last
	# pass, every 2 s: they must have caught up first.)
	wait_for 10 udp8081_conns_are 30 || fail "the 30 datagrams' connections not counted"
	dir $IPVSADM -Z
	local entries
	entries=$(dir $IPVSADM -L -n -c | grep -c UDP)
	picks "$impl" ops cli python3 "$LVS_PY" names "$VIP" 8081 300 --udp --one-socket
	expect_eq "rr -o: 300 datagrams of one socket" "100 100 100" \
		"$(count ops "$impl" rs1) $(count ops "$impl" rs2) $(count ops "$impl" rs3)"
	expect_eq "UDP entries (those of the 30 datagrams before -o)" "$entries" \
		"$(dir $IPVSADM -L -n -c | grep -c UDP)"
	wait_for 10 udp8081_conns_are 300 || fail "connections counted with -o: not 300"
	dir $IPVSADM -L -n --stats --exact -u "$VIP:8081" >"$OUT/ops-stats.$impl"
	cat "$OUT/ops-stats.$impl"
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

# test_icmp IMPL: a real server's ICMP port unreachable reaches the client
# translated (its connected UDP socket is refused), NAT replies leave the
# director from the VIP.
test_icmp() {
	local impl=$1
	use "$impl"
	dir $IPVSADM -A -u "$VIP:9999" -s rr
	dir $IPVSADM -a -u "$VIP:9999" -r "${RS_IPS[0]}:9999" -m
	expect_eq "UDP to a closed port of the real server" refused \
		"$(cli python3 "$LVS_PY" udp-ask "$VIP" 9999)"
	# The reply's source as the client sees it: the VIP.
	lvs_service -u nat rr
	cli socat -T 5 - "UDP:$VIP:8081,sourceport=5555" <<<"?" >/dev/null
	dir $IPVSADM -L -n -c | tee "$OUT/conns.$impl"
	grep -q "192.0.2.2:5555 *$VIP:8081" "$OUT/conns.$impl"
	dir $IPVSADM -C
}

# test_route_change IMPL: the route to a real server changes under a
# flowing connection's feet (a "prohibit" route for its address, then
# gone): the next packet follows, by NAT, DR and TUN (rvs caches the route
# per real server as ip_vs does; a stale one would keep forwarding).
test_route_change() {
	local impl=$1 m rs=${RS_IPS[0]}
	use "$impl"
	for m in nat dr tun; do
		dir $IPVSADM -A -u "$VIP:8081" -s rr
		dir $IPVSADM -a -u "$VIP:8081" -r "$rs:8081" "$(lvs_fwd_flag "$m")"
		expect_eq "$m: before" answer "$(cli python3 "$LVS_PY" udp-ask "$VIP" 8081)"
		dir ip route add prohibit "$rs/32"
		expect_eq "$m: no route to the real server" timeout \
			"$(cli python3 "$LVS_PY" udp-ask "$VIP" 8081 1.5)"
		dir ip route del prohibit "$rs/32"
		expect_eq "$m: the route back" answer "$(cli python3 "$LVS_PY" udp-ask "$VIP" 8081)"
		echo "$m: answer, then none without a route, then answer"
		dir $IPVSADM -C
	done
}

# test_hashing IMPL: sh, dh and mh, 200 clients from distinct addresses
# (the client namespace's 192.0.2.10-209), one connection each: the picks
# are saved for the comparison with ip_vs.ko (weights 1:2:3 for sh and
# mh). For sh and mh: rs1 quiesced with sh-fallback (mh-fallback): its
# clients are placed elsewhere and no other client moves; rs3 deleted: its
# clients go elsewhere (how many others move is the scheduler's: sh
# rebuilds its table, mh is consistent; both compared with ip_vs.ko);
# rs3 added back: every client where it was at first. sh-port (mh-port):
# one client's connections from 30 fixed source ports spread.
test_hashing() {
	local impl=$1 srcs s sport
	use "$impl"
	srcs=$(seq -f "192.0.2.%g" 10 209 | tr '\n' ' ')
	printf 'addr replace %s/24 dev c0\n' $srcs 192.0.2.250 | ip -n "$client" -batch -
	for s in sh mh; do
		lvs_service -t nat "$s" 1 2 3
		picks "$impl" "$s" env LVS_SRC="$srcs" ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 200
		[ "$(wc -l <"$OUT/$s.$impl")" = 200 ] || fail "$s: not 200 connections"
		[ "$(sort -u "$OUT/$s.$impl" | wc -l)" = 3 ] || fail "$s: 200 clients, yet not on 3 servers"
		# rs1 quiesced: the table stays (a weight of 0 keeps its place),
		# so rs1's clients get no server without the fallback flag and
		# another with it, and every other client stays where it was.
		dir $IPVSADM -e -t "$VIP:8081" -r "${RS_IPS[0]}:8081" -m -w 0
		dir $IPVSADM -E -t "$VIP:8081" -s "$s" -b "$s-fallback"
		picks "$impl" "$s-fb" env LVS_SRC="$srcs" ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 200
		[ "$(wc -l <"$OUT/$s-fb.$impl")" = 200 ] || fail "$s-fallback: not 200 connections"
		! grep -qx rs1 "$OUT/$s-fb.$impl" || fail "$s-fallback: a client on the quiesced rs1"
		expect_eq "$s-fallback: clients of rs2 and rs3 that moved" "" \
			"$(paste "$OUT/$s.$impl" "$OUT/$s-fb.$impl" | awk '$1 != "rs1" && $1 != $2')"
		# rs3 deleted: its clients go to rs1 and rs2; added back (at the
		# head of the list again, as at first): the very first picks.
		dir $IPVSADM -e -t "$VIP:8081" -r "${RS_IPS[0]}:8081" -m -w 1
		dir $IPVSADM -d -t "$VIP:8081" -r "${RS_IPS[2]}:8081"
		picks "$impl" "$s-del" env LVS_SRC="$srcs" ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 200
		! grep -qx rs3 "$OUT/$s-del.$impl" || fail "$s: a client on the deleted rs3"
		echo "$s: clients of rs1 and rs2 that moved when rs3 went:" \
			"$(paste "$OUT/$s.$impl" "$OUT/$s-del.$impl" | awk '$1 != "rs3" && $1 != $2' | wc -l) of" \
			"$(grep -cvx rs3 "$OUT/$s.$impl")"
		dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[2]}:8081" -m -w 3
		picks "$impl" "$s-back" env LVS_SRC="$srcs" ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 200
		cmp "$OUT/$s.$impl" "$OUT/$s-back.$impl" || fail "$s: rs3 back, yet not the first picks"
		# sh-port (mh-port): one client, 30 source ports (fixed, so both
		# modules see the same ones; a port range per scheduler, so no
		# earlier connection's TIME_WAIT holds one): the port moves it.
		dir $IPVSADM -E -t "$VIP:8081" -s "$s" -b "$s-port"
		sport=31000
		[ "$s" = sh ] || sport=31500
		picks "$impl" "$s-port" env LVS_SRC=192.0.2.250 LVS_SPORT=$sport \
			ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 30
		[ "$(sort -u "$OUT/$s-port.$impl" | wc -l)" -gt 1 ] || fail "$s-port: one client's ports all on one server"
		dir $IPVSADM -C
	done
	lvs_service -t nat dh
	picks "$impl" dh env LVS_SRC="$srcs" ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 20
	[ "$(sort -u "$OUT/dh.$impl" | wc -l)" = 1 ] || fail "dh: one VIP, yet several servers"
	dir $IPVSADM -C
}

# test_failover IMPL: fo sends every new connection to the highest weight
# (weights 1:2:3: rs3; rs3 quiesced: rs2); ovf fills the highest weight up
# to weight + 1 active connections, then overflows (held: 4 on rs3, 3 on
# rs2, 2 on rs1); connection thresholds (-x/-y) overload a destination
# and release it; twos spreads by weight.
test_failover() {
	local impl=$1
	use "$impl"
	lvs_service -t nat fo 1 2 3
	picks "$impl" fo cli python3 "$LVS_PY" names "$VIP" 8081 6
	expect_eq "fo: on rs3, the highest weight" 6 "$(count fo "$impl" rs3)"
	dir $IPVSADM -e -t "$VIP:8081" -r "${RS_IPS[2]}:8081" -m -w 0
	picks "$impl" fo-q cli python3 "$LVS_PY" names "$VIP" 8081 6
	expect_eq "fo: rs3 quiesced, on rs2" 6 "$(count fo-q "$impl" rs2)"
	dir $IPVSADM -C
	lvs_service -t nat ovf 1 2 3
	picks "$impl" ovf cli python3 "$LVS_PY" names "$VIP" 8081 9 --hold
	expect_eq "ovf: held connections on rs3, rs2, rs1" "4 3 2" \
		"$(count ovf "$impl" rs3) $(count ovf "$impl" rs2) $(count ovf "$impl" rs1)"
	dir $IPVSADM -C
	# twos draws at random (no comparison with ip_vs.ko's picks): the
	# less loaded of two weighted draws, so 150 connections (closed: their
	# TIME_WAIT entries are the load) spread about 25/50/75 by weights
	# 1:2:3; rs1 quiesced is never drawn.
	lvs_service -t nat twos 1 2 3
	picks "$impl" twos cli python3 "$LVS_PY" names "$VIP" 8081 150
	local rs want got
	for rs in 1 2 3; do
		want=$((25 * rs)) got=$(count twos "$impl" "rs$rs")
		[ "$got" -ge $((want * 6 / 10)) ] && [ "$got" -le $((want * 14 / 10)) ] ||
			fail "twos: $got connections on rs$rs, not about $want"
	done
	dir $IPVSADM -e -t "$VIP:8081" -r "${RS_IPS[0]}:8081" -m -w 0
	picks "$impl" twos-q cli python3 "$LVS_PY" names "$VIP" 8081 20
	expect_eq "twos: connections on the quiesced rs1" 0 "$(count twos-q "$impl" rs1)"
	dir $IPVSADM -C
	# Thresholds: rs3 (the highest weight) with -x 2 -y 1 is overloaded
	# by its second entry (UDP, 2 s): the third goes to rs2; it takes new
	# ones again once its entries have expired (below 1).
	dir $IPVSADM --set 0 0 2
	lvs_service -u nat fo 1 2 3
	dir $IPVSADM -e -u "$VIP:8081" -r "${RS_IPS[2]}:8081" -m -w 3 -x 2 -y 1
	picks "$impl" fo-x cli python3 "$LVS_PY" names "$VIP" 8081 3 --udp
	expect_eq "fo -x 2: two on rs3, then rs2" "rs3 rs3 rs2" "$(echo $(cat "$OUT/fo-x.$impl"))"
	# Uthreshold, Lthreshold, ActiveConn, InActConn of rs3.
	expect_eq "rs3 in --thresholds" "2 1 0 2" "$(dir $IPVSADM -L -n --thresholds -u "$VIP:8081" |
		awk -v rs="${RS_IPS[2]}:8081" '$2 == rs {print $3, $4, $5, $6}')"
	wait_for 20 sh -c "! ip netns exec $director $IPVSADM -L -n -c | grep -q UDP" ||
		fail "the UDP entries did not expire"
	picks "$impl" fo-x2 cli python3 "$LVS_PY" names "$VIP" 8081 3 --udp
	expect_eq "fo -x 2 below -y 1 again: rs3 rs3 rs2" "rs3 rs3 rs2" "$(echo $(cat "$OUT/fo-x2.$impl"))"
	dir $IPVSADM -C
}

# test_reuse IMPL: a client that resets its connection and connects again
# from the same port meets the old entry (CLOSE) with its SYN: with
# conn_reuse_mode 1 (the default) or 2 the connection is scheduled afresh
# at once (rr: the next real server), with 0 it stays on the entry's
# server; no SYN lost on the way in any mode.
test_reuse() {
	local impl=$1 mode before after i
	use "$impl"
	lvs_service -t nat rr
	for mode in 1 0 2; do
		dir sysctl -qw net.ipv4.vs.conn_reuse_mode=$mode
		before=$(cli nstat -asz TcpExtTCPSynRetrans | awk '$1 == "TcpExtTCPSynRetrans" {print $2}')
		# (Ports below the ephemeral range: no earlier connection's
		# TIME_WAIT can hold one.)
		cli python3 "$LVS_PY" reuse "$VIP" 8081 3 $((30123 + 100 * mode)) >"$OUT/reuse$mode.$impl"
		after=$(cli nstat -asz TcpExtTCPSynRetrans | awk '$1 == "TcpExtTCPSynRetrans" {print $2}')
		echo "conn_reuse_mode=$mode, 3 connections from one port: $(tr '\n' ' ' <"$OUT/reuse$mode.$impl")"
		expect_eq "conn_reuse_mode=$mode: SYNs the client sent again" 0 "$((after - before))"
	done
	dir sysctl -qw net.ipv4.vs.conn_reuse_mode=1
	expect_eq "conn_reuse_mode=1: rescheduled each time" "rs1 rs2 rs3" \
		"$(sort "$OUT/reuse1.$impl" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "conn_reuse_mode=0: the entry kept, one server" 1 "$(sort -u "$OUT/reuse0.$impl" | wc -l)"
	expect_eq "conn_reuse_mode=2: rescheduled each time" 3 "$(sort -u "$OUT/reuse2.$impl" | wc -l)"
	dir $IPVSADM -C
	# DR where the director sees only the client's side (rs1 and rs2
	# answer over direct links to the client, as real servers with their
	# own way out do): the server closes first (port 8082), the client's
	# FIN leaves the entry in FIN_WAIT with no output seen; a SYN from
	# the same port then is rescheduled by conn_reuse_mode 2 only.
	local ns rss=("$rs1" "$rs2")
	cli sysctl -qw net.ipv4.conf.all.rp_filter=0
	for i in 1 2; do
		ns=${rss[$((i - 1))]}
		ip link add "dx$i" netns "$client" type veth peer name "dx$i" netns "$ns"
		ip -n "$client" link set "dx$i" up
		cli sysctl -qw "net.ipv4.conf.dx$i.rp_filter=0"
		ip -n "$ns" link set "dx$i" up
		ip -n "$ns" route add "$CLIENT_IP/32" dev "dx$i"
	done
	dir $IPVSADM -A -t "$VIP:8082" -s rr
	for i in 0 1; do dir $IPVSADM -a -t "$VIP:8082" -r "${RS_IPS[$i]}:8082" -g; done
	for mode in 1 0 2; do
		dir sysctl -qw net.ipv4.vs.conn_reuse_mode=$mode
		before=$(cli nstat -asz TcpExtTCPSynRetrans | awk '$1 == "TcpExtTCPSynRetrans" {print $2}')
		cli python3 "$LVS_PY" reuse "$VIP" 8082 3 $((30723 + 100 * mode)) --fin >"$OUT/reuse-fin$mode.$impl"
		after=$(cli nstat -asz TcpExtTCPSynRetrans | awk '$1 == "TcpExtTCPSynRetrans" {print $2}')
		echo "DR, no output, conn_reuse_mode=$mode, 3 connections from one port, each closed by FINs:" \
			"$(tr '\n' ' ' <"$OUT/reuse-fin$mode.$impl")"
		expect_eq "DR, conn_reuse_mode=$mode: SYNs the client sent again" 0 "$((after - before))"
	done
	dir $IPVSADM -L -n -c | awk '$1 == "TCP" && $5 ~ /:8082$/ {print $3}' | sort | uniq -c >"$OUT/reuse-fin-states.$impl"
	cat "$OUT/reuse-fin-states.$impl"
	for i in 1 2; do ip -n "$client" link del "dx$i"; done
	dir sysctl -qw net.ipv4.vs.conn_reuse_mode=1
	grep -q " FIN_WAIT$" "$OUT/reuse-fin-states.$impl" || fail "DR, no output: no entry in FIN_WAIT"
	expect_eq "DR, conn_reuse_mode=1: the FIN_WAIT entry kept, one server" 1 "$(sort -u "$OUT/reuse-fin1.$impl" | wc -l)"
	expect_eq "DR, conn_reuse_mode=0: the entry kept, one server" 1 "$(sort -u "$OUT/reuse-fin0.$impl" | wc -l)"
	expect_eq "DR, conn_reuse_mode=2: rescheduled each time (rr over two)" "rs1 rs2" \
		"$(sort -u "$OUT/reuse-fin2.$impl" | tr '\n' ' ' | sed 's/ $//')"
	dir $IPVSADM -C
}

# test_states IMPL: the connection list (states) and the counters after a
# known transfer, saved for the comparison; entries expire after the
# --set timeouts.
test_states() {
	local impl=$1
	use "$impl"
	# UDP 12 s: the three datagrams' entries (three client ports, rr: one
	# per real server) are all still there when listed a few seconds on.
	dir $IPVSADM --set 6 5 12
	lvs_service -t nat rr
	lvs_service -u nat rr
	dir $IPVSADM -Z
	# UDP: 3 datagrams of 1000, 2000 and 3000 bytes, echoed.
	local n
	for n in 1000 2000 3000; do transfer udp "$n"; done
	# TCP: one connection held open, one closed.
	cli python3 "$LVS_PY" names "$VIP" 8081 1 >/dev/null
	cli sh -c "sleep 4 | socat - TCP:$VIP:8080" &
	wait_for 10 sh -c "ip netns exec $director $IPVSADM -L -n -c | grep -q ESTABLISHED"
	dir $IPVSADM -L -n -c | awk 'NR > 2 {print $1, $3, $5, $6}' | sort >"$OUT/states.$impl"
	cat "$OUT/states.$impl"
	# ip_vs.ko's counters too are its estimator's last pass (as below):
	# read them once the three datagrams and their echoes are counted.
	wait_for 10 sh -c "ip netns exec $director $IPVSADM -L -n -u $VIP:8080 --stats --exact |
		awk 'NR == 3 { exit !(\$3 == 3 && \$5 == 3) }'" ||
		fail "the UDP service's counters: not 3 connections and 3 replies within 10 s"
	dir $IPVSADM -L -n -u "$VIP:8080" --stats --exact >"$OUT/stats.$impl"
	cat "$OUT/stats.$impl"
	# /proc/net/ip_vs: the services' order is ip_vs's hash order (salted
	# by a pointer), so whole service blocks are sorted; the header and
	# each block (dests newest first, weights, active/inactive) as they are.
	dir cat /proc/net/ip_vs | tee /dev/stderr | awk '
		NR <= 3 { print "0" NR " " $0; next }
		/^[^ ]/ { if (b != "") print "1. " b; b = $0; next }
		{ b = b " |" $0 }
		END { if (b != "") print "1. " b }' | sort | cut -c4- >"$OUT/proc.$impl"
	# /proc/net/ip_vs_stats: headers, the namespace's connection count and
	# the shape of the numbers (packet counts vary with TCP's timing).
	# ip_vs.ko reports its totals as of its estimator's last pass (every
	# 2 s), so wait until the count is there before reading the file.
	wait_for 10 sh -c "ip netns exec $director cat /proc/net/ip_vs_stats |
		awk 'NR == 3 { exit \$1 != \"5\" }'" ||
		fail "/proc/net/ip_vs_stats: the 5 connections not counted within 10 s"
	dir cat /proc/net/ip_vs_stats | tee /dev/stderr | awk '
		NR == 3 { print "conns", $1, "fields", NF; next }
		NR == 6 { print "rates fields", NF; next }
		{ print }' >"$OUT/pstats.$impl"
	grep -qx "conns 5 fields 5" "$OUT/pstats.$impl" || # (hex)
		fail "/proc/net/ip_vs_stats: not 5 connections (3 UDP, 2 TCP)"
	wait
	# Every entry gone within the timeouts (6 s ESTABLISHED, 5 s FIN_WAIT,
	# 12 s UDP, 120 s TIME_WAIT: not waited for) plus the expiry pass.
	dir $IPVSADM --set 900 120 300
	wait_for 25 sh -c "! ip netns exec $director $IPVSADM -L -n -c | grep -q UDP" ||
		fail "UDP entries did not expire"
	dir $IPVSADM -C
}

# test_quiesce IMPL: a long TCP stream keeps its real server when that
# server's weight becomes 0, new connections go elsewhere; then what
# deleting the real server does to a stream, for each expire_nodest_conn.
test_quiesce() {
	local impl=$1 rs e
	use "$impl"
	lvs_service -t nat rr
	cli python3 "$LVS_PY" stream "$VIP" 8080 6 >"$OUT/stream.$impl" &
	wait_for 10 sh -c "ip netns exec $director $IPVSADM -L -n -c | grep -q 'ESTABLISHED.*:8080'" ||
		fail "the stream did not start"
	rs=$(dir $IPVSADM -L -n -c | awk '/:8080/ && /ESTABLISHED/ {print $NF}' | head -n1)
	echo "the stream is on $rs"
	dir $IPVSADM -e -t "$VIP:8080" -r "$rs" -m -w 0
	dir $IPVSADM -e -t "$VIP:8081" -r "${rs%:*}:8081" -m -w 0
	cli python3 "$LVS_PY" names "$VIP" 8081 6 >"$OUT/after.$impl"
	local ip=${rs%:*}
	local name="rs$((${ip##*.} - 10))"
	echo "new connections after $name was quiesced: $(tr '\n' ' ' <"$OUT/after.$impl")"
	[ "$(wc -l <"$OUT/after.$impl")" = 6 ] || fail "not 6 new connections"
	! grep -qx "$name" "$OUT/after.$impl" || fail "a new connection went to the quiesced $name"
	wait
	cat "$OUT/stream.$impl"
	grep -q '^ok ' "$OUT/stream.$impl" || fail "the stream broke on a quiesced server"
	for e in 0 1; do
		dir sysctl -qw net.ipv4.vs.expire_nodest_conn=$e
		dir $IPVSADM -C
		lvs_service -t nat rr
		# From a port of its own: the previous stream's entry may still
		# be listed (ESTABLISHED, its server gone), and end at any time.
		# Below the ephemeral range (32768 on): the first stream's port,
		# in TIME_WAIT on the client, was once 33001, this one's then.
		local src="$CLIENT_IP:$((30100 + e))"
		LVS_SPORT=$((30100 + e)) cli python3 "$LVS_PY" stream "$VIP" 8080 8 >"$OUT/del$e.$impl" &
		wait_for 10 sh -c "ip netns exec $director $IPVSADM -L -n -c | grep -q 'ESTABLISHED *$src '" ||
			fail "expire_nodest_conn=$e: the stream did not start ($(dir $IPVSADM -L -n -c | tail -n +3 | tr '\n' ';'))"
		rs=$(dir $IPVSADM -L -n -c | awk -v s="$src" '$3 == "ESTABLISHED" && $4 == s {print $NF}')
		[ -n "$rs" ] || fail "expire_nodest_conn=$e: the stream's entry is gone"
		sleep 1
		dir $IPVSADM -d -t "$VIP:8080" -r "$rs"
		wait || true
		echo "expire_nodest_conn=$e, real server deleted: $(cat "$OUT/del$e.$impl")"
		# The outcome without byte counts, for the comparison.
		awk '{print $1, $3}' "$OUT/del$e.$impl" >"$OUT/del$e.$impl.outcome"
	done
	dir sysctl -qw net.ipv4.vs.expire_nodest_conn=0
	dir $IPVSADM -C
	# A UDP flow (one socket, port 32000) stays on its quiesced server as
	# long as it sends (ip_vs.ko); with rvs's expire_quiescent_udp (4 s)
	# its datagrams go elsewhere once that long has passed since the
	# server was quiesced.
	lvs_service -u nat rr
	flow() { LVS_SPORT=32000 cli python3 "$LVS_PY" names "$VIP" 8081 3 --udp --one-socket | sort -u; }
	rs=$(flow)
	[ "$(echo "$rs" | wc -l)" = 1 ] || fail "one UDP flow, several servers: $rs"
	if [ "$impl" = rvs ]; then dir sysctl -qw net.ipv4.vs.expire_quiescent_udp=4; fi
	dir $IPVSADM -e -u "$VIP:8081" -r "${RS_IPS[${rs#rs} - 1]}:8081" -m -w 0
	expect_eq "a UDP flow on its quiesced server" "$rs" "$(flow)"
	sleep 4
	local later
	later=$(flow)
	echo "UDP flow on $rs, quiesced; 4 s later on: $later"
	if [ "$impl" = rvs ]; then
		[ "$(echo "$later" | wc -l)" = 1 ] && [ "$later" != "$rs" ] ||
			fail "expire_quiescent_udp=4: the flow is on '$later', not on one other server"
		dir sysctl -qw net.ipv4.vs.expire_quiescent_udp=0
	else
		expect_eq "ip_vs: the UDP flow still on its quiesced server" "$rs" "$later"
	fi
	dir $IPVSADM -C
}

# test_locality IMPL: lblc and lblcr over 9 held connections to one VIP
# (weights 1): the address keeps its server until that one is
# overloaded (more active connections than its weight while another is
# below half of its own), then the least-connection pick takes over
# (lblc) or joins the address's set (lblcr). Also the namespace's
# sysctls, recorded once lblc and lblcr are in use (ip_vs.ko registers
# lblc_expiration and lblcr_expiration with those modules).
test_locality() {
	local impl=$1 s
	for s in lblc lblcr; do
		# A fresh module for each: ip_vs.ko would otherwise revive the
		# first service's real servers from its trash, with the counts
		# of their closing connections.
		use "$impl"
		lvs_service -t nat $s
		picks "$impl" $s cli python3 "$LVS_PY" names "$VIP" 8081 9 --hold
		[ "$(wc -l <"$OUT/$s.$impl")" = 9 ] || fail "$s: not 9 connections"
		[ "$(head -n 2 "$OUT/$s.$impl" | sort -u | wc -l)" = 1 ] || fail "$s: the address left its server at once"
		[ "$(sort -u "$OUT/$s.$impl" | wc -l)" = 3 ] || fail "$s: the load did not spread to three servers"
		dir $IPVSADM -C
	done
	dir $IPVSADM -A -t "$VIP:9000" -s lblc
	dir $IPVSADM -A -t "$VIP:9001" -s lblcr
	dir sh -c 'cd /proc/sys/net/ipv4/vs && grep . *' | sort >"$OUT/sysctl.$impl"
	dir $IPVSADM -C
}

# test_localnode IMPL: a real server that is the director itself (ip_vs's
# local node) beside a remote one, by NAT (the local server's replies get
# the VIP as source on their way out) and by DR (it answers from the VIP):
# rr alternates between them.
test_localnode() {
	local impl=$1 m pid
	use "$impl"
	ip netns exec "$director" python3 "$LVS_PY" serve 8080 dir </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_for 20 sh -c "ip netns exec $director ss -Htln | grep -q ':8081 '" || fail "no server on the director"
	for m in nat dr; do
		dir $IPVSADM -A -t "$VIP:8081" -s rr
		dir $IPVSADM -a -t "$VIP:8081" -r "$DIR_RS_IP:8081" "$(lvs_fwd_flag $m)"
		dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[0]}:8081" "$(lvs_fwd_flag $m)"
		picks "$impl" local-$m cli python3 "$LVS_PY" names "$VIP" 8081 10
		[ "$(count local-$m "$impl" dir)" = 5 ] && [ "$(count local-$m "$impl" rs1)" = 5 ] ||
			{ kill $pid; fail "$m: not 5 answers from the director and 5 from rs1"; }
		dir $IPVSADM -C
	done
	kill $pid
	wait $pid 2>/dev/null || true
}

# test_tunnels IMPL: --tun-type gue (without checksum, with one, with
# remote checksum offload) and gre (without and with a checksum): TCP and
# UDP payloads through the VIP come back byte for byte (offload on and
# off), decapsulated by the real servers' fou port and gre0; their input
# counters show the packets came in that encapsulation.
test_tunnels() {
	local impl=$1 opt
	use "$impl"
	encap_receivers ip on
	for opt in "gue --tun-port 6080 --tun-nocsum" "gue --tun-port 6080 --tun-csum" \
		"gue --tun-port 6080 --tun-remcsum" "gre --tun-nocsum" "gre --tun-csum"; do
		# GRE with checksums is taken by a tunnel that expects them (the
		# fallback gre0 drops them), and only by it.
		gre_csum_dev ip "$([ "$opt" = "gre --tun-csum" ] && echo add || echo del)"
		tunnel_round ip "$opt"
	done
	offload on
	gre_csum_dev ip del
	encap_receivers ip off
}

# test_trash IMPL: ipvsadm -C and the service added back (a restore, a
# keepalived reload): a persistent client stays on its real server, as
# ip_vs.ko revives real servers from its trash with their templates and
# connections (rvs.ko keeps them likewise). The servers are added in the
# other order the second time, so that a fresh rr would pick another.
test_trash() {
	local impl=$1 i rs
	use "$impl"
	dir $IPVSADM -A -t "$VIP:8081" -s rr -p 120
	for i in 2 1 0; do dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m; done
	picks "$impl" trash cli python3 "$LVS_PY" names "$VIP" 8081 3
	rs=$(head -n 1 "$OUT/trash.$impl")
	[ "$(sort -u "$OUT/trash.$impl")" = "$rs" ] || fail "-p: one client on several servers"
	dir $IPVSADM -C
	dir $IPVSADM -A -t "$VIP:8081" -s rr -p 120
	for i in 0 1 2; do dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m; done
	picks "$impl" trash2 cli python3 "$LVS_PY" names "$VIP" 8081 3
	if [ "$(sort -u "$OUT/trash2.$impl")" != "$rs" ]; then
		# (CI saw this once on rvs.ko, not reproduced: what it held.)
		dir $IPVSADM -L -n -c | sed 's/^/# /'
		dir $IPVSADM -L -n --persistent-conn | sed 's/^/# /'
		[ "$impl" != rvs ] || dir cat /proc/net/rvs_conn_tab | sed 's/^/# /'
		fail "restored: the client left $rs"
	fi
	dir $IPVSADM -L -n --persistent-conn | awk '$1 == "->" {print $2, $3, $4}' >"$OUT/trash-pconn.$impl"
	cat "$OUT/trash-pconn.$impl"
	dir $IPVSADM -C
}

# test_sloppy IMPL: a TCP stream by DR whose connection entry expires
# while the director drops its packets (--set 1: ESTABLISHED for 1 s; 4 s
# dropped, the client retransmitting): with sloppy_tcp=1 its next packet,
# no SYN, makes a new entry and the stream goes on; with 0 the director's
# own stack answers it and the stream breaks.
test_sloppy() {
	local impl=$1 s
	use "$impl"
	dir $IPVSADM --set 1 0 0
	dir $IPVSADM -A -t "$VIP:8080" -s rr
	dir $IPVSADM -a -t "$VIP:8080" -r "${RS_IPS[0]}:8080" -g
	for s in 0 1; do
		dir sysctl -qw net.ipv4.vs.sloppy_tcp=$s
		LVS_TIMEOUT=15 cli python3 "$LVS_PY" stream "$VIP" 8080 6 >"$OUT/sloppy$s.$impl" &
		wait_for 10 sh -c "ip netns exec $director $IPVSADM -L -n -c | grep -q ESTABLISHED" ||
			fail "sloppy_tcp=$s: the stream did not start"
		dir nft -f - <<-EOF
			table ip rvs_hold {
				chain pre {
					type filter hook prerouting priority raw; policy accept;
					ip daddr $VIP tcp dport 8080 drop
				}
			}
		EOF
		wait_for 10 sh -c "! ip netns exec $director $IPVSADM -L -n -c | grep -q ':8080 '" ||
			fail "sloppy_tcp=$s: the entry did not expire"
		sleep 1
		dir nft delete table ip rvs_hold
		wait
		echo "sloppy_tcp=$s: $(cat "$OUT/sloppy$s.$impl")"
	done
	grep -q '^broken' "$OUT/sloppy0.$impl" || fail "sloppy_tcp=0: the stream went on"
	grep -q '^ok' "$OUT/sloppy1.$impl" || fail "sloppy_tcp=1: the stream broke"
	dir $IPVSADM --set 900 120 300
	dir $IPVSADM -C
}

# templates NAME IMPL [REGEX]: the persistence templates of -L -c (client
# port 0; those matching REGEX) without their time left, sorted, saved for
# the comparison. (Entries outlive ipvsadm -C: the case's earlier ones
# are still listed.)
templates() {
	dir $IPVSADM -L -c -n | awk '$4 ~ /:0$/ {print $1, $3, $4, $5, $6}' |
		grep -E "${3:-.}" | sort >"$OUT/$1.$2"
	sed "s/^/$1 on $2: /" "$OUT/$1.$2"
}

# test_persist IMPL: persistence (-p): one client's connections on one
# real server, a template in -L -c and --persistent-conn; a quiesced
# server keeps its clients unless expire_quiescent_template; -M: clients
# of one network share a server; after the timeout a client moves.
test_persist() {
	local impl=$1 srcs i
	use "$impl"
	srcs=$(seq -f "192.0.2.%g" 100 159 | tr '\n' ' ')
	printf 'addr replace %s/24 dev c0\n' $srcs | ip -n "$client" -batch -
	dir $IPVSADM -A -t "$VIP:8081" -s rr -p 30
	for i in 0 1 2; do dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m; done
	picks "$impl" persist cli python3 "$LVS_PY" names "$VIP" 8081 50
	[ "$(wc -l <"$OUT/persist.$impl")" = 50 ] || fail "-p: not 50 connections"
	[ "$(sort -u "$OUT/persist.$impl" | wc -l)" = 1 ] || fail "-p: one client on several servers"
	templates tpl "$impl"
	[ "$(wc -l <"$OUT/tpl.$impl")" = 1 ] || fail "-p: not one template in -L -c"
	dir $IPVSADM -L -n --persistent-conn | awk '$1 == "->" {print $2, $3, $4}' >"$OUT/pconn.$impl"
	cat "$OUT/pconn.$impl"
	[ "$(awk '$3 == 1' "$OUT/pconn.$impl" | wc -l)" = 1 ] || fail "--persistent-conn: not 1 on one server"
	# The client's server quiesced: it stays (expire_quiescent_template
	# 0, the default); with 1 its template is dropped and it moves.
	local rs=$(head -n 1 "$OUT/persist.$impl") n
	n=${rs#rs}
	dir $IPVSADM -e -t "$VIP:8081" -r "${RS_IPS[$((n - 1))]}:8081" -m -w 0
	picks "$impl" persist-q cli python3 "$LVS_PY" names "$VIP" 8081 5
	[ "$(sort -u "$OUT/persist-q.$impl")" = "$rs" ] || fail "quiesced: the client left $rs"
	dir sysctl -qw net.ipv4.vs.expire_quiescent_template=1
	picks "$impl" persist-qx cli python3 "$LVS_PY" names "$VIP" 8081 5
	[ "$(sort -u "$OUT/persist-qx.$impl" | wc -l)" = 1 ] || fail "expire_quiescent_template: several servers"
	! grep -qx "$rs" "$OUT/persist-qx.$impl" || fail "expire_quiescent_template: still on $rs"
	templates tpl-qx "$impl"
	dir sysctl -qw net.ipv4.vs.expire_quiescent_template=0
	dir $IPVSADM -C
	# -M 255.255.255.128: clients .100-.127 and .128-.159 are two networks.
	dir $IPVSADM -A -t "$VIP:8081" -s rr -p 30 -M 255.255.255.128
	for i in 0 1 2; do dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m; done
	picks "$impl" persist-m env LVS_SRC="$srcs" ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 60
	[ "$(head -n 28 "$OUT/persist-m.$impl" | sort -u | wc -l)" = 1 ] || fail "-M: 192.0.2.100-127 on several servers"
	[ "$(tail -n 32 "$OUT/persist-m.$impl" | sort -u | wc -l)" = 1 ] || fail "-M: 192.0.2.128-159 on several servers"
	[ "$(sort -u "$OUT/persist-m.$impl" | wc -l)" = 2 ] || fail "-M: two networks, yet not two servers"
	templates tpl-m "$impl" ' 192\.0\.2\.(0|128):0 '
	dir $IPVSADM -C
	# UDP, -p 5 and 2 s entries: once the datagrams' entries and then
	# the template expired, the client's next datagrams go to the next
	# server.
	dir $IPVSADM --set 0 0 2
	dir $IPVSADM -A -u "$VIP:8081" -s rr -p 5
	for i in 0 1 2; do dir $IPVSADM -a -u "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m; done
	cli python3 "$LVS_PY" names "$VIP" 8081 3 --udp >"$OUT/persist-exp.$impl"
	templates tpl-udp "$impl" '^UDP '
	wait_for 20 sh -c "! ip netns exec $director $IPVSADM -L -c -n | grep -q ^UDP" ||
		fail "-p 5: the template did not expire"
	cli python3 "$LVS_PY" names "$VIP" 8081 3 --udp >>"$OUT/persist-exp.$impl"
	echo "persist-exp on $impl: $(tr '\n' ' ' <"$OUT/persist-exp.$impl")"
	[ "$(head -n 3 "$OUT/persist-exp.$impl" | sort -u | wc -l)" = 1 ] &&
		[ "$(tail -n 3 "$OUT/persist-exp.$impl" | sort -u | wc -l)" = 1 ] ||
		fail "-p UDP: one client's datagrams on several servers"
	[ "$(head -n 1 "$OUT/persist-exp.$impl")" != "$(tail -n 1 "$OUT/persist-exp.$impl")" ] ||
		fail "-p UDP: the template expired, yet the client stayed"
	dir $IPVSADM --set 900 120 300
	dir $IPVSADM -C
}

# test_fwmark IMPL: a firewall-mark service (-f): TCP 8080 and 8081 and
# UDP 8081 to the VIP marked 1 in the director's PREROUTING; rr over
# marked connections; with -p, one client's TCP and UDP on one server.
test_fwmark() {
	local impl=$1 i rs n
	use "$impl"
	dir nft -f - <<-EOF
		table ip rvs_mark {
			chain pre {
				type filter hook prerouting priority mangle; policy accept;
				ip daddr $VIP tcp dport { 8080, 8081 } meta mark set 1
				ip daddr $VIP udp dport 8081 meta mark set 1
			}
		}
	EOF
	dir $IPVSADM -A -f 1 -s rr
	for i in 0 1 2; do dir $IPVSADM -a -f 1 -r "${RS_IPS[$i]}" -m; done
	picks "$impl" fwm cli python3 "$LVS_PY" names "$VIP" 8081 30
	for rs in rs1 rs2 rs3; do
		[ "$(count fwm "$impl" $rs)" = 10 ] || fail "fwmark rr: $rs got $(count fwm "$impl" $rs), not 10"
	done
	dir $IPVSADM -E -f 1 -s rr -p 30
	picks "$impl" fwm-p sh -c "ip netns exec $client python3 $LVS_PY names $VIP 8081 5 &&
		ip netns exec $client python3 $LVS_PY names $VIP 8081 5 --udp"
	rs=$(head -n 1 "$OUT/fwm-p.$impl")
	[ "$(sort -u "$OUT/fwm-p.$impl")" = "$rs" ] || fail "fwmark -p: TCP and UDP of one client on several servers"
	transfer tcp 1000
	n=${rs#rs}
	dir $IPVSADM -L -c -n | awk '$5 ~ /:8080$/ {print $6}' | sort -u >"$OUT/fwm-8080.$impl"
	expect_eq "fwmark -p: the server of the TCP 8080 connection" "${RS_IPS[$((n - 1))]}:8080" \
		"$(cat "$OUT/fwm-8080.$impl")"
	templates tpl-fwm "$impl" '^IP '
	grep -q "^IP .* 0.0.0.1:0 ${RS_IPS[$((n - 1))]}:0$" "$OUT/tpl-fwm.$impl" ||
		fail "fwmark -p: no template of mark 1 to $rs"
	dir nft delete table ip rvs_mark
	dir $IPVSADM -C
}

same_states() {
	local f
	for f in states stats proc pstats del0 del1; do
		[ -s "$OUT/$f.ip_vs" ] && [ -s "$OUT/$f.rvs" ] || fail "$f: nothing recorded"
	done
	expect_eq "connection states, ip_vs vs rvs" "$(cat "$OUT/states.ip_vs")" "$(cat "$OUT/states.rvs")"
	expect_eq "UDP counters after the same transfer" "$(cat "$OUT/stats.ip_vs")" "$(cat "$OUT/stats.rvs")"
	expect_eq "/proc/net/ip_vs" "$(cat "$OUT/proc.ip_vs")" "$(cat "$OUT/proc.rvs")"
	expect_eq "/proc/net/ip_vs_stats" "$(cat "$OUT/pstats.ip_vs")" "$(cat "$OUT/pstats.rvs")"
	expect_eq "deleting a real server, expire_nodest_conn=0" \
		"$(cat "$OUT/del0.ip_vs.outcome")" "$(cat "$OUT/del0.rvs.outcome")"
	expect_eq "deleting a real server, expire_nodest_conn=1" \
		"$(cat "$OUT/del1.ip_vs.outcome")" "$(cat "$OUT/del1.rvs.outcome")"
}

same_picks() {
	local f
	for f in rr wrr rr-udp lc wlc sed nq sh sh-fb sh-del sh-back sh-port dh fo fo-q ovf fo-x fo-x2 ops mh mh-fb mh-del mh-back mh-port reuse0 reuse1 reuse2 reuse-fin0 reuse-fin1 reuse-fin2 \
		persist persist-q persist-qx persist-m persist-exp fwm fwm-p lblc lblcr local-nat local-dr trash trash2; do
		[ -s "$OUT/$f.ip_vs" ] && [ -s "$OUT/$f.rvs" ] || fail "$f: no picks recorded"
		expect_eq "$f: the sequence of picks, ip_vs vs rvs" \
			"$(cat "$OUT/$f.ip_vs")" "$(cat "$OUT/$f.rvs")"
	done
	expect_eq "counters of one-packet scheduling" \
		"$(cat "$OUT/ops-stats.ip_vs")" "$(cat "$OUT/ops-stats.rvs")"
	for f in tpl tpl-qx tpl-m tpl-udp tpl-fwm pconn fwm-8080 trash-pconn; do
		[ -s "$OUT/$f.ip_vs" ] && [ -s "$OUT/$f.rvs" ] || fail "$f: nothing recorded"
		expect_eq "$f: templates and persistent connections, ip_vs vs rvs" \
			"$(cat "$OUT/$f.ip_vs")" "$(cat "$OUT/$f.rvs")"
	done
	# Every sysctl of rvs.ko but its own (expire_quiescent_udp,
	# evict_on_full, conn_max, sync_accept_local) is ip_vs's, with ip_vs's
	# default.
	[ -s "$OUT/sysctl.ip_vs" ] && [ -s "$OUT/sysctl.rvs" ] || fail "sysctls: nothing recorded"
	expect_eq "sysctls and their defaults, rvs vs ip_vs" \
		"$(grep -Ev '^(expire_quiescent_udp|evict_on_full|conn_max|sync_accept_local):' "$OUT/sysctl.rvs")" \
		"$(awk -F: 'NR == FNR { n[$1]; next } $1 in n' "$OUT/sysctl.rvs" "$OUT/sysctl.ip_vs")"
	echo "sysctls of rvs.ko, all ip_vs's but four: $(cut -d: -f1 "$OUT/sysctl.rvs" | tr '\n' ' ')"
}

lvs_setup
for impl in ip_vs rvs; do
	for m in nat dr tun; do
		tap_case "$impl: $m: TCP and UDP payloads come back byte for byte (offload on/off)" \
			test_forward "$impl" "$m"
	done
	tap_case "$impl: tun: a 300 kB TCP transfer over a 1400-byte MTU (path MTU discovery)" \
		test_tun_pmtu "$impl"
	tap_case "$impl: a client on the director (LOCAL_OUT) by NAT, DR, TUN" test_local_client "$impl"
	tap_case "$impl: rr 100/100/100, wrr 3:2:1 150/100/50 over 300 connections, rr -o per datagram" test_rr_wrr "$impl"
	tap_case "$impl: lc, wlc, sed, nq with held connections" test_least "$impl"
	tap_case "$impl: ICMP port unreachable from a real server reaches the client" test_icmp "$impl"
	tap_case "$impl: a route change is seen by the next packet (NAT, DR, TUN)" test_route_change "$impl"
	tap_case "$impl: sh, mh (weights, fallback, port, a server gone and back) and dh over 200 clients" test_hashing "$impl"
	tap_case "$impl: fo (highest weight, quiesced, thresholds -x/-y), ovf (overflow by weight), twos" test_failover "$impl"
	tap_case "$impl: a port reused after a reset (NAT) or FINs (DR, FIN_WAIT): conn_reuse_mode 0/1/2, no SYN lost" \
		test_reuse "$impl"
	tap_case "$impl: connection states, counters, expiry after --set timeouts" test_states "$impl"
	tap_case "$impl: persistence (-p, -M, templates, expire_quiescent_template, expiry)" test_persist "$impl"
	tap_case "$impl: a firewall-mark service (-f), rr and persistent across TCP and UDP" test_fwmark "$impl"
	tap_case "$impl: lblc and lblcr: an address keeps its server(s) until overloaded" test_locality "$impl"
	tap_case "$impl: a real server on the director itself (local node) by NAT and DR" test_localnode "$impl"
	tap_case "$impl: GUE and GRE tunnels (checksum options): payloads back byte for byte" test_tunnels "$impl"
	tap_case "$impl: ipvsadm -C and a restore: a persistent client keeps its server (trash)" test_trash "$impl"
	tap_case "$impl: sloppy_tcp 0/1: a DR stream whose entry expired breaks or goes on" test_sloppy "$impl"
	tap_case "$impl: weight 0 keeps a stream (TCP; UDP until expire_quiescent_udp), deleting its server (expire_nodest_conn 0/1)" \
		test_quiesce "$impl"
done
tap_case "the same states, counters and deletion outcomes on ip_vs.ko and rvs.ko" same_states
tap_case "the same real servers picked by ip_vs.ko and rvs.ko, in the same order" same_picks
tap_done
