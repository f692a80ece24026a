#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Data-plane benchmark (in the VM): the lib.sh topology (client - director -
# rs1..rs3), measured for plain routing (the client talks to a real server's
# own address, the director only forwards: the limit), then ip_vs.ko and
# rvs.ko by NAT, TUN and DR, in IPv4 and (NAT, DR) IPv6:
#   - small UDP packets per second (18-byte payloads: 64-byte frames),
#     counted by the real servers' sinks;
#   - new TCP connections per second (open, half-close, the server's close,
#     one at a time);
#   - bulk TCP (Mbit/s through one connection);
# and new SCTP associations per second (INIT to SHUTDOWN COMPLETE, one at
# a time) by NAT and DR over IPv4;
# then the memory a connection entry costs with RVS_BENCH_CONNS entries
# (UDP, one per source address and port; the growth of the entries' slab
# cache), IPv4 and IPv6. Prints a table with rvs/ip_vs and rvs/routing ratios. Fails only
# if a measurement saw no traffic or the entries did not all appear.
#
# RVS_BENCH_SECS: seconds per measurement (3); RVS_BENCH_ROUNDS: rounds of
# every measurement (3), each figure the median of its rounds (under TCG
# with the host's clock one measurement moves 10-30% with the host's load;
# `make bench` counts instructions as time instead, see the Makefile,
# and one round is enough); RVS_BENCH_CONNS:
# entries for the memory figure (100000); RVS_BENCH_METHODS: the methods
# measured ("nat tun dr nat6 dr6"; also tun6), RVS_BENCH_SCTP: those of the
# SCTP figure ("nat dr", empty: none); RVS_BENCH_BULK: TCP streams one after the other
# for a bulk figure, the median of their rates (3: one stream's rate moved
# by 4% from run to run even with instructions as time). `make bench` runs
# it on the benchmark kernel (no kmemleak, no debug checks); `make test`
# runs it short on the test kernel, where the debugging options distort the
# ratios.
source "$(dirname "$0")/lib.sh"
set -e
SECS=${RVS_BENCH_SECS:-3}
ROUNDS=${RVS_BENCH_ROUNDS:-3}
NCONNS=${RVS_BENCH_CONNS:-100000}
METHODS=${RVS_BENCH_METHODS:-nat tun dr nat6 dr6}
SCTP=${RVS_BENCH_SCTP-nat dr}
BULK=${RVS_BENCH_BULK:-3}
for m in $METHODS; do
	case $m in nat | tun | dr | nat6 | tun6 | dr6) ;; *) fail "RVS_BENCH_METHODS: nat, tun, dr (6), not $m" ;; esac
done
for m in $SCTP; do
	case $m in nat | tun | dr) ;; *) fail "RVS_BENCH_SCTP: nat, tun or dr, not $m" ;; esac
done
LOAD="$RVS_ROOT/tool/target/release/rvsload"
[ -x "$LOAD" ] || fail "no $LOAD (make tool)"
OUT=$(mktemp -d /tmp/rvs-bench.XXXXXX)
trap 'cleanup_ns; unload_all >/dev/null 2>&1; rm -rf "$OUT"' EXIT


setup_topology
lvs_director
lvs_real_servers
case " $METHODS " in *" tun6 "*) lvs_tunnels6 ;; esac
# A second client address: a source has 64512 ports for the entries.
ip -n "$client" addr add 192.0.2.3/24 dev c0
ip -n "$client" addr add 2001:db8:1::3/64 dev c0 nodad
cli sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
# Every measurement opens ~13,000 connections to the same VIP one after
# the other, and the client keeps each in TIME_WAIT for 60 s: without
# reuse, the fourth measurement to one address searched a full port range
# (2026-12-05: rvs's TUN and IPv6 DR rows, each the fourth, at half rate;
# 1.01 and ip_vs's level when measured earlier in the order).
cli sysctl -qw net.ipv4.tcp_tw_reuse=1
tcp_servers 9001
if [ -n "$SCTP" ]; then
	modprobe sctp
	for ns in "$rs1" "$rs2" "$rs3"; do
		ip netns exec "$ns" "$LOAD" sctp-serve 9002 </dev/null >/dev/null 2>&1 &
	done
	for ns in "$rs1" "$rs2" "$rs3"; do
		wait_for 20 ip netns exec "$ns" sh -c "[ \$(grep -c . /proc/net/sctp/eps) -gt 1 ]" ||
			fail "no SCTP server in $ns"
	done
fi

declare -A R

# measure NAME ADDR ROUND: the three figures for traffic to ADDR, in
# R[NAME,*,ROUND].
measure() {
	local name=$1 addr=$2 r=$3 sent recv i bulk=()
	udp_sinks 9000 $((SECS + 2)) "$OUT"
	sleep 0.5
	sent=$(cli "$LOAD" udp-flood "$addr" 9000 "$SECS" 18)
	udp_sinks_wait "$OUT"
	recv=$SINK_TOTAL
	[ "$recv" -gt 0 ] || fail "$name: no UDP packet arrived ($sent sent)"
	R[$name,udp,$r]=$((recv / SECS))
	R[$name,cps,$r]=$(cli "$LOAD" tcp-conns "$addr" 9001 "$SECS")
	for i in $(seq "$BULK"); do
		bulk+=("$(cli "$LOAD" tcp-bulk "$addr" 9001 "$SECS")")
	done
	R[$name,bulk,$r]=$(printf '%s\n' "${bulk[@]}" | mid)
	[ "${R[$name,cps,$r]}" -gt 0 ] || fail "$name: no TCP connection"
	echo "# round $r, $name: UDP $sent sent, $recv received;" \
		"${R[$name,cps,$r]} conn/s; ${bulk[*]} Mbit/s"
}

# measure_sctp NAME ADDR ROUND: SCTP associations per second to ADDR, in
# R[NAME,sctp,ROUND].
measure_sctp() {
	R[$1,sctp,$3]=$(cli "$LOAD" sctp-conns "$2" 9002 "$SECS")
	[ "${R[$1,sctp,$3]}" -gt 0 ] || fail "$1: no SCTP association"
	echo "# round $3, $1: ${R[$1,sctp,$3]} SCTP associations/s"
}

# mid: the median of the numbers on stdin, one a line.
mid() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median NAME FIGURE: the median of the rounds' figures, in R[NAME,FIGURE].
median() {
	local r
	R[$1,$2]=$(for r in $(seq "$ROUNDS"); do echo "${R[$1,$2,$r]}"; done | mid)
}

# service METHOD: UDP VIP:9000, TCP VIP:9001 and SCTP VIP:9002 on the
# three real servers (METHOD nat6, tun6, dr6: the IPv6 VIP and addresses).
service() {
	local p i vip=$VIP rss=("${RS_IPS[@]}")
	if [[ $1 == *6 ]]; then
		vip="[$VIP6]" rss=("[${RS_IP6S[0]}]" "[${RS_IP6S[1]}]" "[${RS_IP6S[2]}]")
	fi
	for p in "-u 9000" "-t 9001" "--sctp-service 9002"; do
		set -- "${1}" ${p}
		dir $IPVSADM -A "$2" "$vip:$3" -s rr
		for i in 0 1 2; do
			dir $IPVSADM -a "$2" "$vip:$3" -r "${rss[$i]}:$3" "$(lvs_fwd_flag "${1%6}")"
		done
	done
}
# vip METHOD: the VIP of METHOD's family.
vip() { if [[ $1 == *6 ]]; then echo "$VIP6"; else echo "$VIP"; fi; }

# The unreclaimable slab (without the page cache's inodes and dentries,
# 9p's, which come and go while the entries are made).
slab_kb() { awk '/^SUnreclaim:/ {print $2}' /proc/meminfo; }
# settle: wait (RVS_BENCH_SETTLE seconds at most, 30) until the slab stops
# shrinking: what the previous module freed (RCU, timers) must not count
# against the next.
settle() {
	local a b i
	for i in $(seq $((${RVS_BENCH_SETTLE:-30} / 2))); do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		a=$(slab_kb)
		sleep 2
		b=$(slab_kb)
		[ $((a - b)) -gt 256 ] || return 0
	done
}
entries() { dir sh -c 'tail -n +2 /proc/net/ip_vs_conn | wc -l'; }
all_entries() { [ "$(entries)" -ge "$NCONNS" ]; }

# cache_kb CACHE: the memory of a slab cache's slabs, in kB (SLUB's sysfs:
# slabs times the pages of one, 2^order).
cache_kb() {
	local d=/sys/kernel/slab/$1 slabs order
	slabs=$(cut -d' ' -f1 "$d/slabs") && order=$(cat "$d/order") || return 1
	echo $((slabs * (4 << order)))
}

# memory IMPL [6]: bytes per connection entry with NCONNS entries (6: of
# IPv6 clients): the growth of the entries' own slab cache (rvs_conn,
# ip_vs_conn), slab pages included. The unreclaimable slab as a whole (SUnreclaim) is printed
# beside it but is no measure: the previous module's connections leave
# conntrack entries and other memory that the kernel frees meanwhile.
memory() {
	local impl=$1 v6=${2:-} before after n c0 c1
	local cache=${impl/ip_vs/ip_vs_conn}
	cache=${cache/rvs/rvs_conn}
	load_impl "$impl"
	service "nat$v6"
	settle
	before=$(slab_kb)
	c0=$(cache_kb "$cache") || fail "$impl: no /sys/kernel/slab/$cache"
	if [ -n "$v6" ]; then
		cli "$LOAD" udp-spray "$VIP6" 9000 "$NCONNS" "$CLIENT_IP6" 2001:db8:1::3 >/dev/null
	else
		cli "$LOAD" udp-spray "$VIP" 9000 "$NCONNS" 192.0.2.2 192.0.2.3 >/dev/null
	fi
	wait_for 120 all_entries || fail "$impl: $(entries) entries of $NCONNS"
	c1=$(cache_kb "$cache")
	after=$(slab_kb)
	n=$(entries)
	R[$impl,mem$v6]=$(((c1 - c0) * 1024 / n))
	echo "# $impl${v6:+ (IPv6)}: $n entries; $cache ($(cat "/sys/kernel/slab/$cache/slab_size") bytes an object)" \
		"$c0 -> $c1 kB; SUnreclaim $before -> $after kB"
	dir $IPVSADM -C
	unload_all
}

unload_all
# Rounds of everything; in each, the two modules alternate method by
# method, which goes first swapping from round to round: a drift of the
# machine's speed touches both alike.
for r in $(seq "$ROUNDS"); do
	measure routing "${RS_IPS[0]}" "$r"
	[[ " $METHODS " != *6\ * ]] || measure routing6 "${RS_IP6S[0]}" "$r"
	[ -z "$SCTP" ] || measure_sctp routing "${RS_IPS[0]}" "$r"
	order="ip_vs rvs"
	[ $((r % 2)) = 1 ] || order="rvs ip_vs"
	for m in $METHODS; do
		for impl in $order; do
			load_impl "$impl"
			service "$m"
			measure "$impl-$m" "$(vip "$m")" "$r"
			dir $IPVSADM -C
			unload_all
		done
	done
	for m in $SCTP; do
		for impl in $order; do
			load_impl "$impl"
			service "$m"
			measure_sctp "$impl-$m" "$VIP" "$r"
			dir $IPVSADM -C
			unload_all
		done
	done
done
for f in udp cps bulk; do
	median routing "$f"
	[[ " $METHODS " != *6\ * ]] || median routing6 "$f"
	for m in $METHODS; do
		median "ip_vs-$m" "$f"
		median "rvs-$m" "$f"
	done
done
if [ -n "$SCTP" ]; then
	median routing sctp
	for m in $SCTP; do
		median "ip_vs-$m" sctp
		median "rvs-$m" sctp
	done
fi
for impl in ip_vs rvs; do
	memory "$impl"
	memory "$impl" 6
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
case ${RVS_KERNEL_VARIANT:-test} in
bench) kind="benchmark kernel (no lockdep, kmemleak)" ;;
*) kind="${RVS_KERNEL_VARIANT:-test} kernel: its debugging options distort the ratios; make bench uses the benchmark kernel" ;;
esac
# table: the data-plane table and the memory table.
table() {
	echo
	clock="the host's clock"
	[ -z "${RVS_VM_ICOUNT:-}" ] || clock="instructions as time (QEMU -icount shift=$RVS_VM_ICOUNT)"
	echo "data plane: median of $ROUNDS rounds of $SECS s per figure (bulk: of $BULK streams a round)," \
		"$(nproc) vCPUs, $clock, $kind"
	printf '%-30s %10s %10s %10s %10s %12s\n' "" routing ip_vs.ko rvs.ko rvs/ip_vs rvs/routing
	# row LABEL METHOD FIGURE ROUTING: one line of the table.
	row() {
		printf '%-30s %10s %10s %10s %10s %12s\n' "$1" "${R[$4,$3]}" \
			"${R[ip_vs-$2,$3]}" "${R[rvs-$2,$3]}" \
			"$(ratio "${R[rvs-$2,$3]}" "${R[ip_vs-$2,$3]}")" \
			"$(ratio "${R[rvs-$2,$3]}" "${R[$4,$3]}")"
	}
	for m in $METHODS; do
		base=routing fam=
		if [[ $m == *6 ]]; then base=routing6 fam=" IPv6"; fi
		for f in udp cps bulk; do
			case $f in
			udp) what="UDP 64 B (packets/s)" ;;
			cps) what="TCP (connections/s)" ;;
			bulk) what="TCP bulk (Mbit/s)" ;;
			esac
			# (IPv6's small datagrams make 84-byte frames.)
			[ -z "$fam" ] || what=${what/64 B/small}
			lab=${m%6}
			row "${lab^^}$fam $what" "$m" "$f" "$base"
		done
	done
	for m in $SCTP; do
		row "${m^^} SCTP (associations/s)" "$m" sctp routing
	done
	echo
	echo "memory per connection entry ($NCONNS UDP entries; the growth of their slab cache)"
	printf '%-30s %10s %10s %10s\n' "" ip_vs.ko rvs.ko rvs/ip_vs
	printf '%-30s %10s %10s %10s\n' "bytes per IPv4 entry" "${R[ip_vs,mem]}" "${R[rvs,mem]}" \
		"$(ratio "${R[rvs,mem]}" "${R[ip_vs,mem]}")"
	printf '%-30s %10s %10s %10s\n' "bytes per IPv6 entry" "${R[ip_vs,mem6]}" "${R[rvs,mem6]}" \
		"$(ratio "${R[rvs,mem6]}" "${R[ip_vs,mem6]}")"
}
# The table, kept in tests/out/bench-dp.txt, and drawn as a picture beside
# it (tests/out/bench-dp.svg: a group of bars a row, rvs.ko beside ip_vs.ko
# and routing).
mkdir -p "$RVS_ROOT/tests/out"
table | tee "$RVS_ROOT/tests/out/bench-dp.txt"
rows=$(python3 "$RVS_ROOT/tests/tools/benchsvg.py" "$RVS_ROOT/tests/out/bench-dp.txt" "$RVS_ROOT/tests/out/bench-dp.svg")
echo
echo "(drawn: tests/out/bench-dp.svg, $rows rows)"
