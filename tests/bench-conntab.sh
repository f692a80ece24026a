#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The connection table at scale (in the VM, part of `make bench`): the lib.sh
# topology with a NAT service, its table filled with idle UDP entries (one
# a source address and port, rvsload udp-spray from 64 client addresses)
# to each of RVS_BENCH_LEVELS (1,000, 100,000, 1,000,000 and 4,000,000),
# and at each level:
#   - small UDP packets per second of an established flow (one socket's
#     datagrams: a lookup amid the entries), counted by the real servers;
#   - new TCP connections per second (one at a time);
# at 1,000,000 entries (or the largest level below): the CPU time the
# machine spends in 10 s with the entries idle (from /proc/stat; with
# instructions as time, instructions), the time to read
# /proc/net/ip_vs_conn and the kernel memory taken meanwhile; at the
# largest level, the memory an entry costs (the growth of the entries'
# slab cache). For ip_vs.ko at its default
# conn_tab_bits (12) and at 20, and rvs.ko at its default (it resizes).
# Prints tables with each figure's ratio to its value at the first level
# (ip_vs.ko at 4096 buckets stops at 1,000,000 entries).
# Fails only if a measurement saw no traffic or entries are missing.
source "$(dirname "$0")/lib.sh"
set -e
SECS=${RVS_BENCH_SECS:-3}
read -r -a LEVELS <<<"${RVS_BENCH_LEVELS:-1000 100000 1000000 4000000}"
# The level of the idle and listing figures: the largest up to a million.
AT=${LEVELS[0]}
for n in "${LEVELS[@]}"; do [ "$n" -gt 1000000 ] || AT=$n; done
IDLE=${RVS_BENCH_IDLE:-10}
LOAD="$RVS_ROOT/tool/target/release/rvsload"
[ -x "$LOAD" ] || fail "no $LOAD (make tool)"
OUT=$(mktemp -d /tmp/rvs-bench-conntab.XXXXXX)
# RVS_BENCH_NO_TEARDOWN=1 (one configuration a VM boot, as make bench runs
# it): the module is left loaded with its entries, the VM powers off
# (ip_vs.ko's flush of a million entries takes many minutes under TCG).
teardown() { [ -n "${RVS_BENCH_NO_TEARDOWN:-}" ] || { cleanup_ns; unload_all >/dev/null 2>&1; }; }
trap 'teardown; rm -rf "$OUT"' EXIT


setup_topology
lvs_director
lvs_real_servers
# The spray's sources: 192.0.2.10 to .73, 64512 ports each.
for i in $(seq 10 73); do
	ip -n "$client" addr add "192.0.2.$i/24" dev c0
done
tcp_servers 9001
# Each level's thousands of connections wait in TIME_WAIT on the client:
# reused, lest the next level's connections search for free ports.
cli sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65000"

# inact: the UDP entries of the service (its real servers' InActConn).
inact() {
	dir $IPVSADM -L -n -u "$VIP:9000" | awk '$1 == "->" && $2 != "RemoteAddress:Port" { n += $6 } END { print n + 0 }'
}
at_least() { [ "$(inact)" -ge "$1" ]; }
# busy_ticks: the CPU time spent so far, all CPUs, but idle and iowait.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
cache_kb() {
	local d=/sys/kernel/slab/$1 slabs order
	slabs=$(cut -d' ' -f1 "$d/slabs") && order=$(cat "$d/order") || return 1
	echo $((slabs * (4 << order)))
}

declare -A R
# RVS_BENCH_CONFIGS: the modules and parameters measured, ';'-separated.
IFS=';' read -r -a CONFIGS <<<"${RVS_BENCH_CONFIGS:-ip_vs;ip_vs conn_tab_bits=20;rvs}"
for cfg in "${CONFIGS[@]}"; do
	read -r impl param <<<"$cfg"
	name=${impl}${param:+-20}
	load_impl "$impl" $param
	for p in "-u $VIP:9000" "-t $VIP:9001"; do
		for i in 0 1 2; do
			[ "$i" != 0 ] || dir $IPVSADM -A $p -s rr
			dir $IPVSADM -a $p -r "${RS_IPS[$i]}" -m
		done
	done
	# UDP entries live an hour: none leaves during the run.
	dir $IPVSADM --set 0 0 3600
	cache=${impl/ip_vs/ip_vs_conn}
	cache=${cache/rvs/rvs_conn}
	sync
	echo 3 >/proc/sys/vm/drop_caches
	c0=$(cache_kb "$cache")
	have=0
	src=10
	for n in "${LEVELS[@]}"; do
		# ip_vs's 4096 buckets: chains of a thousand past a million
		# entries make filling the table outlast the benchmark.
		if [ "$name" = ip_vs ] && [ "$n" -gt 1000000 ]; then
			R[$name,udp,$n]=-
			R[$name,cps,$n]=-
			continue
		fi
		t0=$(date +%s%N)
		while [ "$have" -lt "$n" ]; do
			k=$((n - have < 64512 ? n - have : 64512))
			cli "$LOAD" udp-spray "$VIP" 9000 "$k" "192.0.2.$src" >/dev/null
			have=$((have + k))
			src=$((src + 1))
		done
		wait_for 300 at_least "$n" || fail "$name: $(inact) of $n entries"
		echo "# $name: $n entries made in $((($(date +%s%N) - t0) / 1000000)) ms"
		udp_sinks 9000 $((SECS + 2)) "$OUT"
		sleep 0.5
		sent=$(cli "$LOAD" udp-flood "$VIP" 9000 "$SECS" 18)
		udp_sinks_wait "$OUT"
		[ "$SINK_TOTAL" -gt 0 ] || fail "$name: no UDP packet arrived ($sent sent)"
		R[$name,udp,$n]=$((SINK_TOTAL / SECS))
		R[$name,cps,$n]=$(cli "$LOAD" tcp-conns "$VIP" 9001 "$SECS")
		[ "${R[$name,cps,$n]}" -gt 0 ] || fail "$name: no TCP connection"
		echo "# $name, $n entries: ${R[$name,udp,$n]} packets/s, ${R[$name,cps,$n]} connections/s"
		if [ "$n" = "$AT" ]; then
			# Idle cost and listing.
			a=$(busy_ticks)
			sleep "$IDLE"
			b=$(busy_ticks)
			R[$name,idle]="$((b - a)) ($n)"
			# ip_vs's reader counts its way from the first bucket at
			# every read(): given 60 s at most.
			t0=$(date +%s%N)
			lines=$(dir timeout 60 cat /proc/net/ip_vs_conn | wc -l)
			ms=$((($(date +%s%N) - t0) / 1000000))
			[ "$ms" -lt 60000 ] || ms=">60000"
			# Read again for the kernel memory it takes meanwhile (the
			# sampler, on the same vCPU, would slow the timed read).
			k0=$(kmem_kb)
			(while :; do kmem_kb; sleep 0.2; done) >"$OUT/kmem" &
			sp=$!
			dir timeout 60 cat /proc/net/ip_vs_conn >/dev/null || true
			kill "$sp"
			wait "$sp" 2>/dev/null || true
			peak=$(sort -n "$OUT/kmem" | tail -n1)
			R[$name,list]="$ms ($((lines - 1)) lines)"
			R[$name,listmem]=$((${peak:-$k0} - k0))
			# The tools' listings: ipvsadm reads /proc; rvsadm asks
			# rvs.ko over netlink (RVS_CMD_GET_CONN), ip_vs.ko's /proc.
			for tool in ipvsadm rvsadm; do
				bin=$IPVSADM
				[ "$tool" = ipvsadm ] || bin=$RVSADM
				t0=$(date +%s%N)
				lines=$(dir timeout 60 "$bin" -L -c -n | wc -l)
				ms=$((($(date +%s%N) - t0) / 1000000))
				[ "$ms" -lt 60000 ] || ms=">60000"
				R[$name,$tool]="$ms ($((lines > 2 ? lines - 2 : 0)) entries)"
			done
		fi
	done
	c1=$(cache_kb "$cache")
	R[$name,mem]=$(((c1 - c0) * 1024 / have))
	[ "$impl" != rvs ] || R[$name,buckets]=$(dir awk '$1 == "buckets" { print $2 }' /proc/net/rvs_conn_tab)
	if [ -z "${RVS_BENCH_NO_TEARDOWN:-}" ]; then
		dir $IPVSADM -C
		unload_all
	fi
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
clock="the host's clock"
[ -z "${RVS_VM_ICOUNT:-}" ] || clock="instructions as time (QEMU -icount shift=$RVS_VM_ICOUNT)"
echo
echo "connection table at scale: $(nproc) vCPU, $clock, ${RVS_KERNEL_VARIANT:-test} kernel; idle UDP entries of one NAT service"
for f in udp cps; do
	case $f in
	udp) what="UDP 64 B packets/s of an established flow" ;;
	cps) what="new TCP connections/s" ;;
	esac
	echo
	echo "| $what | $(printf '%s | ' "${LEVELS[@]}")at the largest / at ${LEVELS[0]} |"
	echo "|---|$(printf -- '---|%.0s' "${LEVELS[@]}")---|"
	for cfg in "${CONFIGS[@]}"; do
		read -r impl param <<<"$cfg"
		name=${impl}${param:+-20}
		row="| $impl${param:+ ($param)} |"
		for n in "${LEVELS[@]}"; do
			row+=" ${R[$name,$f,$n]} |"
		done
		last=${LEVELS[-1]}
		[ "${R[$name,$f,$last]}" != - ] || last=1000000
		row+=" $(ratio "${R[$name,$f,$last]}" "${R[$name,$f,${LEVELS[0]}]}") |"
		echo "$row"
	done
done
echo
echo "| | ip_vs.ko | ip_vs.ko (conn_tab_bits=20) | rvs.ko |"
echo "|---|---|---|---|"
echo "| CPU ticks (1/HZ) busy in $IDLE s, entries idle (entries) | ${R[ip_vs,idle]} | ${R[ip_vs-20,idle]} | ${R[rvs,idle]} |"
echo "| ms to read /proc/net/ip_vs_conn (lines) | ${R[ip_vs,list]} | ${R[ip_vs-20,list]} | ${R[rvs,list]} |"
echo "| kB of kernel memory at most above before, reading it | ${R[ip_vs,listmem]} | ${R[ip_vs-20,listmem]} | ${R[rvs,listmem]} |"
echo "| ms to list them: ipvsadm -L -c -n (/proc) | ${R[ip_vs,ipvsadm]} | ${R[ip_vs-20,ipvsadm]} | ${R[rvs,ipvsadm]} |"
echo "| ms to list them: rvsadm -L -c -n (rvs.ko: netlink) | ${R[ip_vs,rvsadm]} | ${R[ip_vs-20,rvsadm]} | ${R[rvs,rvsadm]} |"
echo "| bytes per entry (slab growth) | ${R[ip_vs,mem]} | ${R[ip_vs-20,mem]} | ${R[rvs,mem]} |"
echo "| buckets at ${LEVELS[-1]} entries | 4096 | 1048576 | ${R[rvs,buckets]} |"
