#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scale-out without sync: three active directors behind a router that
# learns the VIP from each by BGP (Debian's bird2 everywhere, ECMP in the
# router's kernel), every director with the same mh service (mh-port, DR)
# and sloppy_tcp. docs/bird-router.conf and docs/bird-director.conf are
# the configurations.
#
#   client 192.0.2.2 --- router (192.0.2.1, 198.51.100.1) --- lan bridge
#                         dir1 .2, dir2 .3, dir3 .4, rs1..rs3 .11-.13 (DR)
#
# - 300 long downloads spread over the three directors; one director's bird
#   stops mid-stream (its BGP session closes, the router drops it): every
#   download completes whole (cmp), the flows it carried continuing
#   through the others; on ip_vs.ko and rvs.ko;
# - the test can fail: without sloppy_tcp the flows that move are reset.
source "$(dirname "$0")/lib.sh"

command -v bird >/dev/null || { echo "no bird: make deps installs bird2"; exit $ksft_skip; }
OUT=$(mktemp -d /tmp/rvs-ecmp.XXXXXX)
trap 'pkill -x bird 2>/dev/null; cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT
RTR_IP=198.51.100.1
DIR_IPS=(198.51.100.2 198.51.100.3 198.51.100.4)
N=300
# The case without sloppy_tcp, which only has to break: fewer.
N_BROKEN=60
# Each download: SIZE bytes at RATE bytes a second (4 s).
SIZE=400000
RATE=100000

# bird_start NS CONF NAME: bird in NS with CONF, its socket in $OUT.
bird_start() {
	ip netns exec "$1" bird -c "$2" -s "$OUT/$3.ctl" -P "$OUT/$3.pid" || fail "bird did not start in $3"
}
# paths: the number of next hops of the router's route to the VIP.
paths() {
	ip -n "$router" route show "$VIP/32" | grep -c 'nexthop via' || true
}
paths_are() { [ "$(paths)" = "$1" ]; }

ecmp_topology() {
	setup_ns client router sw dir1 dir2 dir3 rs1 rs2 rs3
	ip -n "$sw" link add lan type bridge
	ip -n "$sw" link set lan up
	ip link add c0 netns "$client" type veth peer name c0 netns "$router"
	ip -n "$client" addr add "$CLIENT_IP/24" dev c0
	ip -n "$client" link set c0 up
	ip -n "$client" route add default via "$DIR_CLIENT_IP"
	ip -n "$router" addr add "$DIR_CLIENT_IP/24" dev c0
	ip -n "$router" link set c0 up
	ip link add l0 netns "$router" type veth peer name pr netns "$sw"
	ip -n "$sw" link set pr master lan up
	ip -n "$router" addr add "$RTR_IP/24" dev l0
	ip -n "$router" link set l0 up
	ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1
	# Flows spread by addresses and ports (one client has many flows).
	ip netns exec "$router" sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	local i d ns
	DIRS=("$dir1" "$dir2" "$dir3")
	for i in 0 1 2; do
		d=${DIRS[$i]}
		ip link add l0 netns "$d" type veth peer name "pd$i" netns "$sw"
		ip -n "$sw" link set "pd$i" master lan up
		ip -n "$d" addr add "${DIR_IPS[$i]}/24" dev l0
		ip -n "$d" link set l0 up
		ip -n "$d" addr add "$VIP/32" dev lo
		ip -n "$d" route add default via "$RTR_IP"
	done
	rs_file_servers "$sw" lan pr "$RTR_IP" dr "$OUT/payload" ,backlog=512
	bird_start "$router" "$RVS_ROOT/docs/bird-router.conf" router
	for i in 0 1 2; do
		sed "s/@ADDR@/${DIR_IPS[$i]}/g" "$RVS_ROOT/docs/bird-director.conf" >"$OUT/dir$i.conf"
		bird_start "${DIRS[$i]}" "$OUT/dir$i.conf" "dir$i"
	done
}

# directors SLOPPY: the same service on every director.
directors() {
	local d i
	for d in "${DIRS[@]}"; do
		ip netns exec "$d" sysctl -qw net.ipv4.vs.sloppy_tcp="$1"
		ip netns exec "$d" $IPVSADM -A -t "$VIP:9100" -s mh -b mh-port
		for i in 0 1 2; do
			ip netns exec "$d" $IPVSADM -a -t "$VIP:9100" -r "${RS_IPS[$i]}:9100" -g
		done
	done
}

# conns D: the connections director D made (its service's counter).
conns() {
	ip netns exec "$1" $IPVSADM -L -n --stats -t "$VIP:9100" | awk '$1 == "TCP" { print $3 }'
}

# scale_out IMPL SLOPPY: the downloads with dir1 leaving mid-stream; leaves
# the client's output in $OUT/fetch, its status in FETCH_RC, the whole
# transfers' count in WHOLE and the flows the others took over in MOVED.
scale_out() {
	load_impl "$1"
	ecmp_topology
	directors "$2"
	wait_for 30 paths_are 3 || {
		ip -n "$router" route
		fail "the router has no route over the three directors"
	}
	ip -n "$router" route show "$VIP/32"
	rm -rf "$OUT/got"
	mkdir "$OUT/got"
	ip netns exec "$client" python3 "$LVS_PY" fetch-many "$VIP" 9100 "$N" "$OUT/got" "$RATE" >"$OUT/fetch" &
	local pid=$!
	wait_for 60 grep -q started "$OUT/fetch" || fail "the downloads did not start"
	local before=() i
	for i in 0 1 2; do before[$i]=$(conns "${DIRS[$i]}"); done
	echo "connections made by the directors: ${before[*]}"
	for i in 0 1 2; do
		[ "${before[$i]}" -ge $((N / 10)) ] || fail "director $((i + 1)) has only ${before[$i]} of the $N flows"
	done
	# dir1 leaves: its bird stops (the session closes with a notification).
	kill -TERM "$(cat "$OUT/dir0.pid")"
	wait_for 10 paths_are 2 || fail "the router kept dir1"
	echo "dir1 left, $(du -sk "$OUT/got" | cut -f1) KB received"
	ip -n "$router" route show "$VIP/32"
	FETCH_RC=0
	wait "$pid" || FETCH_RC=$?
	head -n 5 "$OUT/fetch"
	local after=()
	for i in 0 1 2; do after[$i]=$(conns "${DIRS[$i]}"); done
	echo "connections made by the directors at the end: ${after[*]}"
	WHOLE=0
	for i in $(seq 0 $((N - 1))); do
		cmp -s "$OUT/payload" "$OUT/got/$i" && WHOLE=$((WHOLE + 1))
	done
	echo "$1 (sloppy_tcp=$2): $WHOLE of $N downloads whole"
	# The flows dir1 carried were picked up mid-stream by the others.
	MOVED=$((after[1] + after[2] - before[1] - before[2]))
	echo "flows taken over by dir2 and dir3: $MOVED"
	pkill -x bird || true
	cleanup_ns
	unload_all
}

setup_payload() {
	[ -s "$OUT/payload" ] || head -c "$SIZE" /dev/urandom >"$OUT/payload"
}

both() {
	setup_payload
	scale_out "$1" 1
	[ "$FETCH_RC" = 0 ] || fail "$1: a download broke"
	[ "$WHOLE" = "$N" ] || fail "$1: only $WHOLE of $N downloads whole"
	[ "$MOVED" -gt 0 ] || fail "$1: no flow moved to another director"
}

test_ip_vs() { both ip_vs; }
test_rvs() { both rvs; }

test_no_sloppy() {
	setup_payload
	N=$N_BROKEN
	scale_out rvs 0
	[ "$FETCH_RC" != 0 ] || fail "without sloppy_tcp no download broke"
	[ "$WHOLE" -lt "$N" ] || fail "without sloppy_tcp every download is whole"
	grep -m 3 "^broken" "$OUT/fetch"
}

tap_case "ECMP over three ip_vs.ko directors (bird2, mh, sloppy_tcp): 300 downloads whole when one leaves" test_ip_vs
tap_case "ECMP over three rvs.ko directors (bird2, mh, sloppy_tcp): 300 downloads whole when one leaves" test_rvs
tap_case "without sloppy_tcp the flows of the director that left break (rvs.ko)" test_no_sloppy
tap_done
