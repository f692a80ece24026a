#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Instruction profile of the packet path (in the VM, `make prof`): traffic
# from the client to a VIP balanced by PROF_METHOD (nat, tun or dr; default
# nat) over three real servers, once through ip_vs.ko and once through
# rvs.ko, with QEMU's tbcount plugin (tests/tools/tbcount.c) counting every
# instruction the guest executes. PROF_FLOW: udp (default), a flood of
# small UDP packets, counted per packet delivered; bulk, one TCP stream,
# counted per MB the client sent. Prints, per module, the instructions per
# unit: in all, by kernel module, and by function (PROF_TOP lines).
# PROF_SYNC=1: with a master sync daemon running on the director (its
# messages multicast to a peer on a link of their own), the packet path's
# cost with connection sync; `make bench` runs it so.
# Deterministic, unlike a sampling profiler under TCG: where rvs spends more
# than ip_vs shows.
source "$(dirname "$0")/lib.sh"
set -e
LOAD="$RVS_ROOT/tool/target/release/rvsload"
[ -x "$LOAD" ] || fail "no $LOAD (make tool)"
[ -d /rvs-out ] || fail "no /rvs-out (run by qemu/vm.sh)"
M=${PROF_METHOD:-nat}
FLOW=${PROF_FLOW:-udp}
case $FLOW in udp | bulk) ;; *) fail "PROF_FLOW: udp or bulk, not $FLOW" ;; esac
SECS=${PROF_SECS:-3}
SYNC=${PROF_SYNC:-0}
OUT=$(mktemp -d /tmp/rvs-prof.XXXXXX)
trap 'cleanup_ns; unload_all >/dev/null 2>&1; rm -rf "$OUT"' EXIT

# snap NAME: the plugin's counters now, in $OUT/snap.NAME.
snap() {
	: >"/rvs-out/tbreq.$1"
	wait_for 20 test -e "/rvs-out/tbsnap.$1" ||
		fail "no snapshot from the plugin (qemu/vm.sh with RVS_VM_TBCOUNT)"
	mv "/rvs-out/tbsnap.$1" "$OUT/snap.$1"
}

setup_topology
lvs_director
lvs_real_servers
with=""
if [ "$SYNC" = 1 ]; then
	sync_peer "$director"
	with=", with a sync master"
fi
echo 0 >/proc/sys/kernel/kptr_restrict
unload_all
[ "$FLOW" = udp ] || tcp_servers 9001
for impl in ip_vs rvs; do
	load_impl "$impl"
	svc="-u $VIP:9000"
	[ "$FLOW" = udp ] || svc="-t $VIP:9001"
	# shellcheck disable=SC2086
	dir $IPVSADM -A $svc -s rr
	for i in 0 1 2; do
		# shellcheck disable=SC2086
		dir $IPVSADM -a $svc -r "${RS_IPS[$i]}" "$(lvs_fwd_flag "$M")"
	done
	[ "$SYNC" = 1 ] && dir $IPVSADM --start-daemon master --mcast-interface s0
	# Module addresses differ from load to load.
	cat /proc/kallsyms >"$OUT/kallsyms.$impl"
	# The sinks start after the first snapshot: under -icount the guest's
	# clock leaps while it idles waiting for the plugin, and a sink's
	# time would run out before the flood. (Their start is counted: a few
	# million instructions of billions, the same for both modules.)
	if [ "$FLOW" = udp ]; then
		snap "$impl-a"
		udp_sinks 9000 $((SECS + 2)) "$OUT"
		sleep 0.5
		sent=$(cli "$LOAD" udp-flood "$VIP" 9000 "$SECS" 18)
		snap "$impl-b"
		udp_sinks_wait "$OUT"
		units=$SINK_TOTAL
		[ "$units" -gt 0 ] || fail "$impl: no packet arrived ($sent sent)"
		echo "== $impl, ${M^^}$with: $sent UDP packets sent, $units delivered; instructions per packet delivered:"
	else
		snap "$impl-a"
		rate=$(cli "$LOAD" tcp-bulk "$VIP" 9001 "$SECS")
		snap "$impl-b"
		units=$(awk -v r="$rate" -v s="$SECS" 'BEGIN { printf "%.3f", r * s / 8 }')
		echo "== $impl, ${M^^}$with: one TCP stream, $rate Mbit/s, about $units MB; instructions per MB:"
	fi
	python3 "$RVS_ROOT/tests/tools/tbprof.py" "$OUT/kallsyms.$impl" "$OUT/snap.$impl-a" \
		"$OUT/snap.$impl-b" "$units" "${PROF_TOP:-30}" ${PROF_FUNC:+"$PROF_FUNC"} | c++filt 2>/dev/null || true
	[ "$SYNC" = 1 ] && dir $IPVSADM --stop-daemon master
	dir $IPVSADM -C
	unload_all
done
