#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Connection sync (ip_vs_sync.c's protocol), rvs.ko against ip_vs.ko:
#
#   client --- director --(s0 203.0.113.33/28)--(s1 .34)-- peer
#                 |  br0                                  (records or
#            rs1 rs2 rs3                                   replays sync)
#
# - the messages a master sends for the same traffic (TCP uploads, UDP
#   flows, a persistent UDP service's templates, an IPv6 UDP flow, an SCTP
#   association by NAT), recorded by the peer and decoded field by field,
#   are the same, for version 1 and version 0 (which has no IPv6 entry);
# - ip_vs.ko's recorded messages replayed into a backup give the same
#   connection table and counters on both modules;
# - two directors (master, backup) and a NAT or DR download: the virtual
#   and gateway addresses moved to the backup mid-transfer, the bytes
#   arrive whole with sync; without the backup daemon the transfer breaks;
# - writes to the sync sysctls: refused (EINVAL) or taken as on ip_vs.ko;
# - 100,000 mutated and random datagrams into an rvs.ko backup: no kernel
#   message, only entries bound to real servers, no leak.
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /tmp/rvs-sync.XXXXXX)
SYNCMSG="$RVS_ROOT/tests/tools/syncmsg.py"
trap 'cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT


# sync_topology: lib.sh's topology, the director set up for NAT, a peer
# on the sync link, the services: TCP VIP:9000 (a sink on each real server),
# UDP VIP:8080 (echo), UDP VIP:8081 persistent (-p 300), UDP [VIP6]:8080
# (echo) and SCTP VIP:8090 (echo on the real servers' 8080), rr, NAT.
sync_topology() {
	setup_topology
	lvs_director
	sync_peer "$director"
	lvs_real_servers
	lvs_servers 8080
	lvs_sctp_servers
	local ns i
	for ns in "$rs1" "$rs2" "$rs3"; do
		ip netns exec "$ns" socat -u TCP-LISTEN:9000,fork,reuseaddr OPEN:/dev/null </dev/null >/dev/null 2>&1 &
	done
	for ns in "$rs1" "$rs2" "$rs3"; do
		wait_for 20 ip netns exec "$ns" sh -c "ss -Htln | grep -q ':9000 '" || fail "no sink in $ns"
	done
	dir $IPVSADM -A -t "$VIP:9000" -s rr
	dir $IPVSADM -A -u "$VIP:8080" -s rr
	dir $IPVSADM -A -u "$VIP:8081" -s rr -p 300
	dir $IPVSADM -A -u "[$VIP6]:8080" -s rr
	dir $IPVSADM --add-service --sctp-service "$VIP:8090" -s rr
	for i in 0 1 2; do
		dir $IPVSADM -a -t "$VIP:9000" -r "${RS_IPS[$i]}:9000" -m
		dir $IPVSADM -a -u "$VIP:8080" -r "${RS_IPS[$i]}:8080" -m
		dir $IPVSADM -a -u "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m
		dir $IPVSADM -a -u "[$VIP6]:8080" -r "[${RS_IP6S[$i]}]:8080" -m
		dir $IPVSADM -a --sctp-service "$VIP:8090" -r "${RS_IPS[$i]}:8080" -m
	done
}

# udp_flow PORT SPORT N [VIP]: N datagrams from SPORT, each answered before
# the next.
udp_flow() {
	cli python3 - "${4:-$VIP}" "$1" "$2" "$3" <<'PY'
import socket, sys
vip, port, sport, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
af = socket.AF_INET6 if ":" in vip else socket.AF_INET
s = socket.socket(af, socket.SOCK_DGRAM)
s.bind(("::" if af == socket.AF_INET6 else "0.0.0.0", sport))
s.settimeout(5)
for i in range(n):
    s.sendto(b"x%d" % i, (vip, port))
    s.recv(100)
PY
}

# traffic: three UDP flows of 5 datagrams, a persistent UDP flow, an IPv6
# UDP flow, an SCTP association (20 kB echoed, closed), then three TCP
# uploads of 300 kB, each from a fixed source port.
traffic() {
	local i
	for i in 1 2 3; do udp_flow 8080 "5000$i" 5; done
	udp_flow 8081 6001 5
	udp_flow 8080 6002 5 "$VIP6"
	sctp_echo "$VIP" 8090 "$CLIENT_IP" 20000 7001
	for i in 1 2 3; do
		head -c 300000 /dev/zero | cli socat -u - "TCP:$VIP:9000,sourceport=4000$i,reuseaddr"
	done
}

tw_entries() { python3 "$SYNCMSG" decode "$1" | grep -c ' proto=6 .*state=5 ' || true; }
# (Conditions for wait_for, evaluated at each try.)
tw_all() { [ "$(tw_entries "$1")" -ge 3 ]; }
conns_ge() { [ "$(dir sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l')" -ge "$1" ]; }
size_ge() { [ "$(stat -c %s "$1")" -ge "$2" ]; }

# record IMPL VERSION FILE: the master's messages for `traffic` on IMPL
# with sync_version VERSION, recorded by the peer into FILE.
record() {
	load_impl "$1"
	sync_topology
	dir sysctl -qw net.ipv4.vs.sync_version="$2"
	: >"$3"
	ip netns exec "$peer" python3 "$SYNCMSG" record "$S1" "$3" &
	wait_for 20 ip netns exec "$peer" sh -c "ss -Huln | grep -q ':8848 '"
	dir $IPVSADM --start-daemon master --mcast-interface s0
	traffic
	# Every entry is in order in one stream (one sync port): once the last
	# upload's TIME_WAIT is in, all are (a message waits at most 2 s).
	if ! wait_for 20 tw_all "$3"; then
		python3 "$SYNCMSG" decode "$3"
		dir $IPVSADM -L -c -n
		fail "$1: the master sent no TIME_WAIT for the uploads"
	fi
	kill %1 2>/dev/null || true
	cleanup_ns
	unload_all
}

# compare_messages VERSION: the decoded entries of both masters.
compare_messages() {
	local v=$1
	record ip_vs "$v" "$OUT/ip_vs-v$v.hex"
	record rvs "$v" "$OUT/rvs-v$v.hex"
	python3 "$SYNCMSG" decode "$OUT/ip_vs-v$v.hex" >"$OUT/ip_vs-v$v.txt"
	python3 "$SYNCMSG" decode "$OUT/rvs-v$v.hex" >"$OUT/rvs-v$v.txt"
	cat "$OUT/ip_vs-v$v.txt"
	diff -u "$OUT/ip_vs-v$v.txt" "$OUT/rvs-v$v.txt" ||
		fail "rvs.ko's sync entries differ from ip_vs.ko's (- ip_vs, + rvs)"
	# The traffic must show every kind: TCP states, UDP, templates.
	local t
	for t in ' proto=6 .*state=1 ' ' proto=6 .*state=7 ' ' proto=6 .*state=5 ' ' proto=17 .*:8080 ' \
		' proto=17 .*c=192.0.2.2:0 ' ' proto=132 .*v=203.0.113.10:8090 '; do
		grep -q "$t" "$OUT/rvs-v$v.txt" || fail "no entry matching '$t'"
	done
	# IPv6 entries go in version 1 only (version 0 has no room for them).
	if [ "$v" = 1 ]; then
		grep -q " type=1 proto=17 .*v=$VIP6:8080 " "$OUT/rvs-v$v.txt" || fail "no IPv6 entry"
	fi
}

# distinct FILE: the connections (protocol and addresses) in FILE's
# messages.
distinct() {
	python3 "$SYNCMSG" decode "$1" |
		awk '{ k = ""; for (i = 1; i <= NF; i++) if ($i ~ /^(proto|c|v|d)=/) k = k " " $i; print k }' |
		sort -u | wc -l
}

test_messages_v1() { compare_messages 1; }
test_messages_v0() { compare_messages 0; }

# The table as ipvsadm lists it, expiry aside.
table() {
	dir $IPVSADM -L -c -n | awk 'NR > 2 {print $1, $3, $4, $5, $6}' | sort
	dir $IPVSADM -L -n
}

# replay IMPL FILE: FILE's messages into an IMPL backup; its table.
replay() {
	load_impl "$1"
	sync_topology
	dir $IPVSADM --start-daemon backup --mcast-interface s0
	wait_for 20 dir sh -c "ss -Huln | grep -q ':8848 '" 2>/dev/null || true
	ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$2" >/dev/null
	# 3 uploads, 3 UDP flows, the persistent flow and its template, the
	# SCTP association, the IPv6 flow (version 1).
	local n
	n=$(distinct "$2")
	[ "$n" -ge 9 ] || fail "only $n connections recorded in $2"
	wait_for 20 conns_ge "$n" ||
		fail "the backup did not take the connections"
	table
	cleanup_ns
	unload_all
}

test_replay() {
	local v
	for v in 1 0; do
		[ -s "$OUT/ip_vs-v$v.hex" ] || fail "no recording of ip_vs's version $v"
		replay ip_vs "$OUT/ip_vs-v$v.hex" >"$OUT/b-ip_vs-v$v"
		replay rvs "$OUT/ip_vs-v$v.hex" >"$OUT/b-rvs-v$v"
		echo "== version $v"
		cat "$OUT/b-ip_vs-v$v"
		diff -u "$OUT/b-ip_vs-v$v" "$OUT/b-rvs-v$v" ||
			fail "an rvs.ko backup's table differs from ip_vs.ko's (version $v; - ip_vs, + rvs)"
	done
}

# ---- failover: two directors (lib.sh's ha_topology) ---------------------------
# download SYNC: a slow download (12 MB at about 2 MB/s) through dirA, the
# addresses moved to dirB once dirB has the connection (with SYNC) or 1 MB
# arrived (without); prints the client's result.
download() {
	ip netns exec "$dira" $IPVSADM --start-daemon master --mcast-interface s0
	if [ "$1" = 1 ]; then
		ip netns exec "$dirb" $IPVSADM --start-daemon backup --mcast-interface s0
	fi
	cli python3 "$LVS_PY" fetch "$VIP" 9100 "$OUT/got" 2e6 &
	local pid=$!
	wait_for 20 test -s "$OUT/got" || fail "the download did not start"
	if [ "$1" = 1 ]; then
		wait_for 20 sh -c "ip netns exec $dirb $IPVSADM -L -c -n | grep -q 'ESTABLISHED .*:9100 '" ||
			fail "the backup did not get the connection"
		ip netns exec "$dirb" $IPVSADM -L -c -n
	else
		wait_for 20 size_ge "$OUT/got" 1000000
	fi
	[ "$(stat -c %s "$OUT/got")" -lt 10000000 ] || fail "the download ended before the failover"
	take_over "$dirb"
	echo "failover at $(stat -c %s "$OUT/got") bytes"
	wait "$pid"
}

# failover IMPL METHOD
failover() {
	local impl=$1 method=$2
	head -c 12000000 /dev/urandom >"$OUT/payload"
	load_impl "$impl"
	ha_topology "$OUT/payload" "$method"
	rm -f "$OUT/got"
	download 1
	cmp "$OUT/payload" "$OUT/got" || fail "$impl: the $method download through the failover is not whole"
	cleanup_ns
	# The test can fail: without the backup daemon the same breaks.
	ha_topology "$OUT/payload" "$method"
	rm -f "$OUT/got"
	download 0 | tee "$OUT/nosync"
	if cmp -s "$OUT/payload" "$OUT/got"; then
		fail "$impl: the $method download survived the failover without sync"
	fi
	grep -q '^broken' "$OUT/nosync" || fail "$impl: without sync the client saw no error"
	cleanup_ns
	unload_all
}

test_failover_nat() {
	failover ip_vs nat
	failover rvs nat
}

test_failover_dr() {
	failover ip_vs dr
	failover rvs dr
}

# sysctl_writes: each write to a sync sysctl in a new namespace, its
# result (the error as the shell words it) and the value read after it.
sysctl_writes() {
	local ns w name val err
	setup_ns sc
	ns=$sc
	for w in sync_version=2 sync_version=-1 sync_version=0 sync_version=1 \
		sync_ports=3 sync_ports=0 sync_ports=-4 sync_ports=4 sync_ports=1 \
		sync_retries=4 sync_retries=-1 sync_retries=3 \
		"sync_threshold=5 5" "sync_threshold=6 5" "sync_threshold=-1 50" "sync_threshold=3 -1" \
		"sync_threshold=7 0" "sync_threshold=2 9" "sync_threshold=4" \
		sync_persist_mode=1 sync_refresh_period=7 sync_sock_size=65536 backup_only=1; do
		name=${w%%=*} val=${w#*=}
		# (dd words the errno; the shell's echo says "I/O error" for any.)
		err=$(printf '%s\n' "$val" | ip netns exec "$ns" dd of="/proc/sys/net/ipv4/vs/$name" status=none 2>&1) || true
		printf '%s: %s-> %s\n' "$w" "${err##*: }${err:+ }" \
			"$(ip netns exec "$ns" cat "/proc/sys/net/ipv4/vs/$name" | tr '\t' ' ')"
	done
	cleanup_ns
}

test_sysctls() {
	local impl
	for impl in ip_vs rvs; do
		load_impl "$impl"
		sysctl_writes >"$OUT/sysctl.$impl"
		unload_all
	done
	cat "$OUT/sysctl.ip_vs"
	grep -q 'Invalid argument' "$OUT/sysctl.ip_vs" || fail "ip_vs.ko refused nothing"
	expect_eq "sync sysctl writes, rvs.ko against ip_vs.ko" "$(cat "$OUT/sysctl.ip_vs")" "$(cat "$OUT/sysctl.rvs")"
}

# ---- bad input ---------------------------------------------------------------
slab() { awk -v n="$1" '$1 == n {print $2}' /proc/slabinfo; }

test_fuzz() {
	[ -s "$OUT/ip_vs-v1.hex" ] || fail "no recording to mutate"
	cat "$OUT/ip_vs-v1.hex" "$OUT/ip_vs-v0.hex" >"$OUT/base.hex"
	kmemleak_begin
	load_impl rvs
	sync_topology
	dir $IPVSADM --start-daemon backup --mcast-interface s0
	wait_for 20 dir sh -c "ss -Huln | grep -q ':8848 '" 2>/dev/null || true
	local before
	before=$(dmesg | wc -l)
	ip netns exec "$peer" python3 "$SYNCMSG" fuzz "$S1" "$OUT/base.hex" "${RVS_SYNC_FUZZ:-100000}" 7
	# Then the genuine messages: still believed.
	ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$OUT/ip_vs-v1.hex" >/dev/null
	wait_for 20 sh -c "ip netns exec $director $IPVSADM -L -c -n | grep -q '192.0.2.2:40003 .*$VIP:9000'" ||
		fail "the genuine messages after the fuzz were not taken"
	# Every entry is bound to one of the real servers (rvs keeps no other),
	# as /proc/net/ip_vs_conn writes their addresses.
	local bad rs
	rs=$(python3 -c 'import ipaddress, sys
for a in sys.argv[1:]:
    a = ipaddress.ip_address(a)
    print(a.exploded if a.version == 6 else "%08X" % int(a))' "${RS_IPS[@]}" "${RS_IP6S[@]}")
	bad=$(dir tail -n +2 /proc/net/ip_vs_conn | awk -v rs="$rs" 'BEGIN { split(rs, a, "\n"); for (i in a) ok[a[i]] = 1 } !($6 in ok)')
	[ -z "$bad" ] || fail "entries not bound to a real server: $bad"
	dir tail -n +2 /proc/net/ip_vs_conn | wc -l
	dmesg | tail -n +"$((before + 1))" | { grep -v 'sync thread' || true; } | tee "$OUT/dmesg"
	[ ! -s "$OUT/dmesg" ] || fail "the fuzz made kernel messages"
	dir $IPVSADM --stop-daemon backup
	cleanup_ns
	unload_all
	[ "$(slab rvs_conn)" = "" ] || [ "$(slab rvs_conn)" = 0 ] || fail "connection entries left: $(slab rvs_conn)"
	kmemleak_check
}

tap_case "sync messages, version 1: rvs.ko sends ip_vs.ko's entries" test_messages_v1
tap_case "sync messages, version 0: rvs.ko sends ip_vs.ko's entries" test_messages_v0
tap_case "ip_vs.ko's messages into a backup: rvs.ko's table is ip_vs.ko's" test_replay
tap_case "failover mid-download (NAT): whole with sync, broken without" test_failover_nat
tap_case "failover mid-download (DR): whole with sync, broken without" test_failover_dr
tap_case "sync sysctls: the values ip_vs.ko refuses refused with its errno, the others taken (both modules)" test_sysctls
tap_case "100,000 mutated and random sync datagrams: nothing believed but entries of real servers" test_fuzz
tap_done
