#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A full connection table must degrade the attack, never the clients
# (issue 29). rvs.ko bounds its table (conn_max here, by memory by
# default); ip_vs.ko has no bound and is the reference: the same script
# runs on both.
#
#   client 192.0.2.2 (and spoofed 192.0.2.128/25) --- director --- rs1..rs3
#   peer 203.0.113.34 --- director s0 203.0.113.33 (sync messages)
#
# The spoofed sources never get an answer: the real servers drop their
# packets by their reverse-path check (a blackhole route back to them), so
# every entry they make stays as the attacker left it.
# - lockout: NAT TCP VIP:8080, UDP VIP:8080 and a persistent TCP VIP:8081,
#   rvs.ko's table capped at CAP entries; in turn one-packet UDP flows,
#   SYN-then-ACK pairs (ESTABLISHED without the real server ever
#   answering) and SYNs to the persistent service (a template per source),
#   each phase more than CAP entries; after each, a legitimate client's 20
#   connections: at least 19 served (ip_vs.ko: all), and rvs.ko's counters
#   say which class gave way; the same at rvs.ko's default bound (a
#   quarter of RAM, no conn_max) in a small VM of its own (tests/run.sh
#   runs this file there with RVS_LOCKOUT_DEFAULT=1, that case alone);
# - a table full of held, answered connections to the persistent service
#   (no flood): the least recently used connection gives way;
# - hostile sync: forged messages of ESTABLISHED entries with a timeout of
#   0xffffffff seconds from the sync segment fill the backup's table, then
#   failover: the entries live no longer than the local ESTABLISHED timeout
#   (900 s; on ip_vs.ko ~49 days), and a new client still connects; the
#   same messages from an unprivileged user on the backup itself are
#   dropped (sync_accept_local 0), and taken with sync_accept_local 1;
# - memory cgroup: a namespace's entries charged to its tenant's cgroup;
#   at that cgroup's memory.max entries give way as at the bound;
# - a long chain (issue 29, item 5): one spoofed (address, port) to 10,000
#   ports of a port-0 service puts 10,000 entries in one bucket; the
#   listings stay exact (netlink's while 10,000 more join the chain) and
#   a reader's buffer holds a page, for ip_vs_conn and for ip_vs (200
#   services of 20 real servers); first, a lone IPv4 fragment forwarded:
#   UDP's waits for reassembly, GRE's goes on (item 7), as on ip_vs.ko.
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /tmp/rvs-lockout.XXXXXX)
trap 'cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT
BADPKT="$RVS_ROOT/tests/tools/badpkt.py"
SYNCMSG="$RVS_ROOT/tests/tools/syncmsg.py"
CAP=200
SPOOF=192.0.2.128
SPOOF_NET=192.0.2.128/25

# tab KEY: a figure of rvs.ko's /proc/net/rvs_conn_tab.
tab() { dir awk -v k="$1" '$1 == k { print $2 }' /proc/net/rvs_conn_tab; }

# lockout_setup IMPL: the topology, the three services, the real servers
# deaf to the spoofed range; rvs.ko's table capped at CAP.
lockout_setup() {
	load_impl "$1"
	lvs_setup
	local i ns rss=("$rs1" "$rs2" "$rs3")
	for ns in "${rss[@]}"; do
		ip -n "$ns" route add blackhole "$SPOOF_NET"
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1
	done
	dir $IPVSADM -A -t "$VIP:8080" -s rr
	dir $IPVSADM -A -u "$VIP:8080" -s rr
	dir $IPVSADM -A -t "$VIP:8081" -s rr -p 300
	for i in 0 1 2; do
		dir $IPVSADM -a -t "$VIP:8080" -r "${RS_IPS[$i]}:8080" -m
		dir $IPVSADM -a -u "$VIP:8080" -r "${RS_IPS[$i]}:8080" -m
		dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m
	done
	if [ "$1" = rvs ] && [ "$CAP" != default ]; then
		dir sysctl -qw net.ipv4.vs.conn_max=$CAP
		# The namespace's tick takes the bound within a second.
		wait_for 5 sh -c "[ \"\$(ip netns exec $director awk '\$1 == \"max\" { print \$2 }' /proc/net/rvs_conn_tab)\" = $CAP ]" ||
			fail "conn_max not in force"
	fi
}

# spoof KIND N ADDRS PORT: N spoofed flows of KIND (badpkt.py's flows, by
# tests/tools/flood.c: a hundred thousand of them in seconds) to VIP:PORT
# from ADDRS addresses of the spoofed range.
spoof() {
	local mac
	mac=$(ip -n "$director" -o link show d0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	cli "$RVS_ROOT/tool/target/flood" c0 "$mac" "$SPOOF" "$VIP" "$4" "$1" "$2" "$3"
}

# legit PORT: the client's 20 connections to VIP:PORT, one at a time (each
# given 3 s), a real server's name read back from each; prints how many.
legit() {
	cli python3 - "$VIP" "$1" <<'EOF'
import socket, sys
ok = 0
for _ in range(20):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        s.settimeout(3)
        if s.recv(100).strip().startswith(b"rs"):
            ok += 1
        s.close()
    except OSError:
        pass
print(ok)
EOF
}

# phase IMPL WHAT KIND N ADDRS PORT CLASS: a flood phase, then the client;
# on rvs.ko the table must have been full (the flood made more than CAP
# entries) and entries of CLASS must have given way.
phase() {
	local impl=$1 what=$2 kind=$3 n=$4 addrs=$5 port=$6 class=$7 before ok
	[ "$impl" = rvs ] && before=$(tab "evicted_$class")
	spoof "$kind" "$n" "$addrs" "$port"
	if [ "$impl" = rvs ]; then
		expect_eq "$what: the table full" "$CAP" "$(tab entries)"
	fi
	# The client's connections to the echo server's name port.
	ok=$(legit 8081)
	echo "$impl: after $what: the client's connections served: $ok of 20"
	if [ "$impl" = rvs ]; then
		dir cat /proc/net/rvs_conn_tab
		[ "$(tab "evicted_$class")" -gt "$before" ] || fail "$what: no $class entry gave way"
		[ "$ok" -ge 19 ] || fail "rvs: after $what: $ok of 20 connections served"
	else
		expect_eq "ip_vs: after $what: connections served" 20 "$ok"
	fi
}

# test_busy IMPL: the table full of what no flood made: 100 clients'
# connections to the persistent service, answered and held open (a
# template controlling each): nothing is half-open, unanswered or an idle
# template, so a new client takes the place of the least recently used
# connection (ip_vs.ko, unbounded: served anyway).
test_busy() {
	local impl=$1 srcs pid before ok
	lockout_setup "$impl"
	srcs=$(seq -f "192.0.2.%g" 10 109 | tr '\n' ' ')
	printf 'addr replace %s/24 dev c0\n' $srcs | ip -n "$client" -batch -
	cli python3 - "$VIP" 8081 $srcs >"$OUT/held" <<-'EOF' &
		import socket, sys, time
		held = []
		for a in sys.argv[3:]:
		    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5, source_address=(a, 0))
		    s.recv(100)
		    held.append(s)
		print(len(held), flush=True)
		time.sleep(120)
	EOF
	pid=$!
	wait_for 60 sh -c "[ \"\$(cat $OUT/held)\" = 100 ]" || fail "the 100 connections not made"
	[ "$impl" = ip_vs ] || expect_eq "the table full" "$CAP" "$(tab entries)"
	[ "$impl" = ip_vs ] || before=$(tab evicted_idle)
	ok=$(legit 8081)
	echo "$impl: the table full of held connections: the client's connections served: $ok of 20"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ "$impl" = rvs ]; then
		dir cat /proc/net/rvs_conn_tab
		[ "$(tab evicted_idle)" -gt "$before" ] || fail "no idle connection gave way"
		[ "$ok" -ge 19 ] || fail "rvs: $ok of 20 connections served"
	else
		expect_eq "ip_vs: connections served" 20 "$ok"
	fi
	cleanup_ns
	unload_all
}

test_busy_both() { test_busy ip_vs; test_busy rvs; }

# test_lockout IMPL...: the three phases on each module. At the default
# bound (CAP=default, rvs.ko alone: ip_vs.ko has none) the bound is what
# the table says, and each phase makes a quarter more entries than it.
test_lockout() {
	local impl n cap=$CAP
	for impl in "$@"; do
		CAP=$cap
		lockout_setup "$impl"
		n=$((3 * CAP))
		if [ "$CAP" = default ]; then
			CAP=$(tab max)
			n=$((CAP + CAP / 4))
			echo "rvs: the default bound in $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MB: $CAP entries; $n per phase"
		fi
		# One datagram each from 128 addresses: never answered (UDP, 300 s).
		phase "$impl" "one-packet UDP flows" udp "$n" 128 8080 unanswered
		# ESTABLISHED by the client's ACK alone (NAT, secure_tcp 0: 900 s).
		phase "$impl" "SYN-then-ACK pairs" synack "$n" 128 8080 unanswered
		# Every source leaves a template, each SYN a half-open entry.
		phase "$impl" "SYNs to the persistent service" syn "$n" 128 8081 half_open
		[ "$impl" = ip_vs ] || dir $RVSADM metrics | grep '^ipvs_connections_evicted_total'
		cleanup_ns
	done
	CAP=$cap
	unload_all
}

# forged_stream FILE CLIENT N: N ESTABLISHED TCP entries of VIP:8080 (NAT,
# from the spoofed address CLIENT), each with a timeout of 0xffffffff s.
forged_stream() {
	SYNC_TIMEOUT=4294967295 SYNC_CLIENT=$2 python3 "$SYNCMSG" gen "$1" "$3" "$VIP:8080" \
		"${RS_IPS[0]}:8080" "${RS_IPS[1]}:8080" "${RS_IPS[2]}:8080"
}
LOCAL_CLIENT=192.0.2.250

# as_local_user: the forged messages of LOCAL_CLIENT sent by an
# unprivileged user (nobody) on the director itself, looped back to its
# own sockets.
as_local_user() {
	install -m 0644 "$OUT/local" "$OUT.local"
	dir env SYNC_LOOP=1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		/usr/bin/python3 "$SYNCMSG" replay "$S0" "$OUT.local" >/dev/null
	rm -f "$OUT.local"
}

# from ADDR: the director's entries of client ADDR.
from() { dir $IPVSADM -L -c -n | awk -v p="$1:" 'index($4, p) == 1 { n++ } END { print n + 0 }'; }
from_at_least() { [ "$(from "$1")" -ge "$2" ]; }
# longest: the longest time left of an entry, in seconds (ipvsadm's mm:ss).
longest() {
	dir $IPVSADM -L -c -n | awk 'NR > 2 { split($2, t, ":"); s = t[1] * 60 + t[2]; if (s > m) m = s } END { print m + 0 }'
}

test_hostile_sync() {
	local impl ok n want
	forged_stream "$OUT/forged" "$SPOOF" 300
	forged_stream "$OUT/local" "$LOCAL_CLIENT" 50
	for impl in ip_vs rvs; do
		lockout_setup "$impl"
		sync_peer "$director"
		dir $IPVSADM --start-daemon backup --mcast-interface s0
		# From an unprivileged user on the backup itself (multicast
		# loopback reaches the backup's socket), then from the sync
		# segment: once the segment's are in, the local user's were
		# looked at (one socket, in order).
		as_local_user
		ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$OUT/forged" >/dev/null
		want=300
		[ "$impl" = ip_vs ] || want=$((CAP - 50))
		wait_for 20 from_at_least "$SPOOF" "$want" ||
			fail "$impl: the forged entries not taken ($(from "$SPOOF"))"
		n=$(from "$LOCAL_CLIENT")
		echo "$impl: forged entries taken from the segment: $(from "$SPOOF"), from a local user: $n; the longest lives $(longest) s"
		if [ "$impl" = rvs ]; then
			expect_eq "rvs: forged entries from a local user (sync_accept_local 0)" 0 "$n"
			expect_eq "rvs: the table full of forged entries" "$CAP" "$(tab entries)"
			[ "$(longest)" -le 900 ] || fail "rvs: a synced entry lives $(longest) s, beyond ESTABLISHED's 900"
			# The sysctl that lets them in (the test can fail).
			dir sysctl -qw net.ipv4.vs.sync_accept_local=1
			as_local_user
			wait_for 20 from_at_least "$LOCAL_CLIENT" 40 ||
				fail "rvs: sync_accept_local 1: the local user's messages not taken ($(from "$LOCAL_CLIENT"))"
			echo "rvs: with sync_accept_local 1: $(from "$LOCAL_CLIENT") taken"
			dir sysctl -qw net.ipv4.vs.sync_accept_local=0
		fi
		# Failover: the backup becomes the director.
		dir $IPVSADM --stop-daemon backup
		ok=$(legit 8081)
		echo "$impl: after failover: the client's connections served: $ok of 20"
		if [ "$impl" = rvs ]; then
			[ "$ok" -ge 19 ] || fail "rvs: after failover: $ok of 20 connections served"
		else
			expect_eq "ip_vs: after failover: connections served" 20 "$ok"
		fi
		cleanup_ns
	done
	unload_all
}

# test_memcg: a namespace's entries are charged to the memory cgroup of
# whoever gave it its first service, even when a packet makes them (in
# softirq, where the task interrupted is anyone's); at that cgroup's
# memory.max a new connection makes room as at the table's bound.
test_memcg() {
	local cg=/sys/fs/cgroup t=/sys/fs/cgroup/rvs-tenant before after size n=5000
	mountpoint -q "$cg" || mount -t cgroup2 none "$cg"
	echo +memory >"$cg/cgroup.subtree_control"
	mkdir -p "$t"
	load_impl rvs
	lvs_setup
	# The tenant's administrator: a shell in the tenant's cgroup.
	sh -c "echo \$\$ >$t/cgroup.procs && exec ip netns exec $director $IPVSADM -A -u $VIP:8080 -s rr"
	for i in 0 1 2; do
		dir $IPVSADM -a -u "$VIP:8080" -r "${RS_IPS[$i]}:8080" -m
	done
	size=$(awk '$1 == "rvs_conn" { print $4 }' /proc/slabinfo)
	before=$(cat "$t/memory.current")
	spoof udp $n 128 8080
	expect_eq "entries" "$n" "$(tab entries)"
	after=$(cat "$t/memory.current")
	echo "the tenant's cgroup: $before -> $after bytes for $n entries of $size bytes"
	[ $((after - before)) -ge $((n * size * 8 / 10)) ] ||
		fail "the tenant's cgroup was charged $((after - before)) bytes for $n entries of $size"
	# The cgroup's memory.max reached before the table's bound (room for
	# about 2,000 more entries), by 20,000 more one-packet flows: entries
	# give way as at the bound, and a client is served.
	dir $IPVSADM -A -t "$VIP:8081" -s rr
	for i in 0 1 2; do
		dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m
	done
	echo $(($(cat "$t/memory.current") + 2000 * size)) >"$t/memory.max"
	before=$(tab evicted_unanswered)
	spoof udp 20000 128 8080
	n=$(tab entries)
	[ "$n" -lt 20000 ] || fail "memory.max did not bound the table: $n entries"
	ok=$(legit 8081)
	echo "at the cgroup's memory.max ($n entries): the client's connections served: $ok of 20"
	dir cat /proc/net/rvs_conn_tab
	[ "$(tab evicted_unanswered)" -gt "$before" ] || fail "at memory.max: no entry gave way"
	[ "$ok" -ge 19 ] || fail "at memory.max: $ok of 20 connections served"
	echo max >"$t/memory.max"
	cleanup_ns
	unload_all
	rmdir "$t"
}

# reader_peak FILE: the most memory a reader of FILE in 4 KB reads (dd, in
# the director's namespace) made its own memory cgroup use: seq_file's
# buffer, which holds the longest record read, is charged to it.
reader_peak() {
	local cg=/sys/fs/cgroup/rvs-reader peak
	mkdir "$cg"
	sh -c "echo \$\$ >$cg/cgroup.procs && exec ip netns exec $director dd if=$1 of=/dev/null bs=4096 status=none"
	peak=$(cat "$cg/memory.peak")
	rmdir "$cg"
	echo "$peak"
}

# record_bytes FILE: what a reader of FILE in 4 KB reads takes above one of
# /proc/net/ip_vs_stats (a few lines): the buffer of its longest record.
record_bytes() {
	local base peak
	base=$(reader_peak /proc/net/ip_vs_stats)
	peak=$(reader_peak "$1")
	echo $((peak - base))
}

# chain_entries FILE: the lines of a listing (ipvsadm -L -c -n's) of the
# chain's entries: from $SPOOF:5000 to the ports 10000-19999.
chain_entries() {
	awk -v s="$SPOOF:5000" '$4 == s { split($5, v, ":"); if (v[2] >= 10000 && v[2] < 20000) print $4, $5 }' "$1"
}

# test_long_chain IMPL: first `frags`; then one spoofed (address, port)
# sends to 10,000 ports of a port-0 persistent UDP service: 10,000
# entries in one bucket (an
# entry's bucket is its client's address and port, as in ip_vs). Each is
# linked and unlinked in O(1) (no timed check here: make bench); the
# listings stay exact and in records of a page: /proc/net/ip_vs_conn's
# lines each once, and its reader's buffer small; the netlink listing
# (GET_CONN, rvs.ko) of the chain while 10,000 more entries join it: each
# of the 10,000 once. /proc/net/ip_vs with 200 services of 20 real servers
# each, read a service at a time: the same small buffer.
test_long_chain() {
	local impl=$1 n=10000 mac bytes bg dup i
	load_impl "$impl"
	lvs_setup
	local ns rss=("$rs1" "$rs2" "$rs3")
	for ns in "${rss[@]}"; do
		ip -n "$ns" route add blackhole "$SPOOF_NET"
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1
	done
	local cg=/sys/fs/cgroup
	mountpoint -q "$cg" || mount -t cgroup2 none "$cg"
	echo +memory >"$cg/cgroup.subtree_control"
	dir $IPVSADM -A -u "$VIP:0" -s rr -p 600
	for i in 0 1 2; do
		dir $IPVSADM -a -u "$VIP:0" -r "${RS_IPS[$i]}" -m
	done
	frags "$impl"
	mac=$(ip -n "$director" -o link show d0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	cli python3 "$BADPKT" c0 "$mac" "$SPOOF" "$VIP" 5000 ports $n 10000
	dir $IPVSADM -L -c -n >"$OUT/chain.proc"
	expect_eq "$impl: /proc/net/ip_vs_conn: the chain's entries, each once" $n \
		"$(chain_entries "$OUT/chain.proc" | sort -u | wc -l)"
	expect_eq "$impl: /proc/net/ip_vs_conn: no line twice" "" "$(chain_entries "$OUT/chain.proc" | sort | uniq -d | head -n 3)"
	bytes=$(record_bytes /proc/net/ip_vs_conn)
	echo "$impl: a reader of /proc/net/ip_vs_conn at $n entries in one bucket: $bytes bytes of buffer"
	[ "$bytes" -le 65536 ] || fail "$impl: /proc/net/ip_vs_conn: a $bytes-byte record"
	# The listing while the chain grows (the new ones at its head).
	cli python3 "$BADPKT" c0 "$mac" "$SPOOF" "$VIP" 5000 ports 10000 20000 >/dev/null &
	bg=$!
	wait_for 60 sh -c "[ \$(ip netns exec $director grep -c ' 1388 ' /proc/net/ip_vs_conn) -gt $((n + 300)) ]" ||
		fail "$impl: the chain does not grow"
	dir "$RVSADM" -L -c -n >"$OUT/chain.nl"
	wait "$bg"
	dup=$(chain_entries "$OUT/chain.nl" | sort | uniq -d | wc -l)
	echo "$impl: rvsadm -L -c -n while the chain grew: $(chain_entries "$OUT/chain.nl" | sort -u | wc -l) of the $n, $dup listed twice; $(grep -c " $SPOOF:5000 " "$OUT/chain.nl") of the chain in all"
	if [ "$impl" = rvs ]; then
		expect_eq "rvs: GET_CONN while the chain grew: the $n entries there all along" $n \
			"$(chain_entries "$OUT/chain.nl" | sort -u | wc -l)"
		expect_eq "rvs: GET_CONN while the chain grew: entries listed twice" 0 "$dup"
	fi
	# /proc/net/ip_vs: 200 services of 20 real servers (about 250 kB).
	dir $IPVSADM -C
	for i in $(seq 1 200); do
		echo "-A -t 203.0.113.$((i % 250 + 1)):$((1000 + i)) -s wlc"
		for r in $(seq 1 20); do
			echo "-a -t 203.0.113.$((i % 250 + 1)):$((1000 + i)) -r 198.51.100.$r:80 -m -w $r"
		done
	done | dir $IPVSADM -R
	expect_eq "$impl: /proc/net/ip_vs: services" 200 "$(dir grep -c '^TCP' /proc/net/ip_vs)"
	bytes=$(record_bytes /proc/net/ip_vs)
	echo "$impl: a reader of /proc/net/ip_vs (200 services x 20): $bytes bytes of buffer"
	[ "$bytes" -le 65536 ] || fail "$impl: /proc/net/ip_vs: a $bytes-byte record"
	dir $IPVSADM -C
	cleanup_ns
	unload_all
}

# frag_counts: rs1's counts of the fragments of GRE and of UDP that
# reached it from the director.
frag_counts() {
	ip netns exec "$rs1" nft list table ip rvs_frag |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) } END { print "" }'
}

# frags IMPL: the first fragment of a datagram, alone, forwarded through
# the director (to a real server's own address, not a service): one of a
# protocol that ip_vs balances (UDP) waits there for the rest, to be
# reassembled and looked up, as ip_vs does (ip_vs_out_hook,
# IP_DEFRAG_VS_FWD); one of any other protocol (GRE) goes on at once, as
# on ip_vs.ko. (A datagram reassembled is fragmented again on its way
# out, as it came: what reaches the real server looks the same.)
frags() {
	local impl=$1 mac
	# Before rs1's own reassembly (conntrack's, at -400), if any.
	ip netns exec "$rs1" nft -f - <<-EOF
	table ip rvs_frag {
		chain pre {
			type filter hook prerouting priority -500;
			ip frag-off & 0x3fff != 0 ip protocol gre counter
			ip frag-off & 0x3fff != 0 ip protocol udp counter
		}
	}
	EOF
	mac=$(ip -n "$director" -o link show d0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	# UDP first: by the time GRE's is there, UDP's would be too.
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP" "${RS_IPS[0]}" 0 frag1 17
	cli python3 "$BADPKT" c0 "$mac" "$CLIENT_IP" "${RS_IPS[0]}" 0 frag1 47
	wait_for 10 sh -c "[ \"\$(ip netns exec $rs1 nft list table ip rvs_frag | grep -c 'packets [1-9]')\" -ge 1 ]" || true
	expect_eq "$impl: at rs1: fragments of GRE, of UDP" "1 0 " "$(frag_counts)"
	ip netns exec "$rs1" nft delete table ip rvs_frag
}

# RVS_LOCKOUT_DEFAULT=1 (tests/run.sh, in a VM of RVS_VM_MEM=LOCKOUT_MEM
# MB): the lockout at rvs.ko's default bound alone.
if [ "${RVS_LOCKOUT_DEFAULT:-0}" = 1 ]; then
	CAP=default
	tap_case "a table at its default bound (a quarter of RAM): after floods of one-packet UDP flows, SYN-then-ACK pairs and SYNs to a persistent service, each a quarter more than the bound, a client is served (>= 19 of 20)" test_lockout rvs
	tap_done
	exit
fi
tap_case "a table capped at $CAP: after floods of one-packet UDP flows, SYN-then-ACK pairs and SYNs to a persistent service, a client is served (>= 19 of 20; ip_vs.ko beside: 20)" test_lockout ip_vs rvs
tap_case "a table capped at $CAP full of held connections to a persistent service (templates that control them): the least recently used gives way, a client is served (ip_vs.ko beside)" test_busy_both
tap_case "forged sync entries (ESTABLISHED, timeout 0xffffffff s): bounded by the local timeouts, evictable after failover, refused from a local user" test_hostile_sync
tap_case "a namespace's entries charged to its memory cgroup (made in softirq by packets); at its memory.max entries give way, a client is served" test_memcg
tap_case "ip_vs: a lone IPv4 fragment forwarded: UDP's held, GRE's passed on; 10,000 entries in one bucket: /proc/net/ip_vs_conn and ip_vs exact, read in records of at most a page" test_long_chain ip_vs
tap_case "rvs: a lone IPv4 fragment forwarded: UDP's held, GRE's passed on; 10,000 entries in one bucket: /proc and GET_CONN exact (GET_CONN while 10,000 join the chain), records of at most a page" test_long_chain rvs
tap_done
