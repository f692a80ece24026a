#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Race stress of rvs.ko (issue 29), for the lockdep and KASAN kernels
# (`make test-stress`, 4 vCPUs; `RVS_STRESS_SECS`, 120 by default). At once,
# for that long:
# - bursts of one-packet UDP flows (their timeout 1 s) and of SYNs to a
#   port nobody listens on (reset: CLOSE, 10 s), so that the table, which
#   starts at 256 buckets (conn_tab_bits=8), grows and shrinks again and
#   again (counted: at least 10 times each way);
# - one (address, port) sending SYNs to 30,000 ports of a fwmark service
#   (one bucket's chain 30,000 long), at the start;
# - GET_CONN (rvsadm -L -c -n), GET_TABLE (rvsadm metrics) and an
#   unprivileged reader of /proc/net/ip_vs_conn and /proc/net/ip_vs in
#   4 KB reads, in loops;
# - DEL_DEST/NEW_DEST of a real server every 0.5 s with
#   expire_nodest_conn=1, and conn_max toggled between 2,000 and 0.
# Then, the load stopped, the settled table's netlink listing must equal
# its /proc listing; then `ip netns del` of the director and `rmmod rvs`
# while a flood goes on: no splat, soft lockup or RCU stall (the VM runner
# fails on any), and the entries' slab empty before the module goes.
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /work/rvs-stress.XXXXXX 2>/dev/null || mktemp -d)
trap 'stop_all; cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT
BADPKT="$RVS_ROOT/tests/tools/badpkt.py"
SECS=${RVS_STRESS_SECS:-120}
PIDS=()

stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	pkill -f badpkt.py 2>/dev/null || true
	# Only these: the real servers run in the background too.
	[ ${#PIDS[@]} = 0 ] || wait "${PIDS[@]}" 2>/dev/null || true
	PIDS=()
}

buckets() { dir awk '$1 == "buckets" { print $2 }' /proc/net/rvs_conn_tab; }
slab() { awk -v n="$1" '$1 == n { print $2 }' /proc/slabinfo; }
# Without what changes between two reads (expiry, and for TCP the state).
# (No grep: an empty listing is no failure under pipefail.)
mask() { awk '/^IPVS connection entries/ { next } NR > 2 || $1 != "Pro" { $2 = "-"; print }' | sort; }

# loop SECS CMD...: CMD again and again for SECS seconds.
loop() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 || true; done
}

test_stress() {
	local mac end resizes last b
	local grows=0 shrinks=0
	load_impl rvs conn_tab_bits=8
	lvs_setup
	dir sysctl -qw net.ipv4.vs.expire_nodest_conn=1
	dir $IPVSADM --set 0 0 1
	dir $IPVSADM -A -t "$VIP:8080" -s rr
	dir $IPVSADM -A -u "$VIP:8080" -s rr
	dir $IPVSADM -A -t "$VIP:8090" -s rr
	for i in 0 1 2; do
		dir $IPVSADM -a -t "$VIP:8080" -r "${RS_IPS[$i]}:8080" -m
		dir $IPVSADM -a -t "$VIP:8090" -r "${RS_IPS[$i]}:8090" -m
		dir $IPVSADM -a -u "$VIP:8080" -r "${RS_IPS[$i]}:8080" -m
	done
	dir nft -f - <<-EOF
		table ip rvs_mark {
			chain pre {
				type filter hook prerouting priority mangle; policy accept;
				ip daddr $VIP tcp dport 10000-40000 meta mark set 1
			}
		}
	EOF
	dir $IPVSADM -A -f 1 -s rr
	for i in 0 1 2; do dir $IPVSADM -a -f 1 -r "${RS_IPS[$i]}" -m; done
	mac=$(ip -n "$director" -o link show d0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	# The long chain (SYNs; the real servers' resets leave them CLOSE,
	# 10 s), while the rest begins. (Kept alive all along, or sent again,
	# it would hold the table large: fewer resizes.)
	cli "$RVS_ROOT/tool/target/flood" c0 "$mac" 192.0.2.200 "$VIP" 10000 chain 30000 1 &
	PIDS+=($!)
	# Bursts past the table's 256 buckets: 1,200 UDP flows (1 s), every
	# third time with 300 SYNs (reset: CLOSE, 10 s), then until the table
	# is below an eighth of its starting size, where it shrinks back to it.
	(
		end=$((SECONDS + SECS)) round=0
		while [ $SECONDS -lt $end ]; do
			cli "$RVS_ROOT/tool/target/flood" c0 "$mac" 192.0.2.100 "$VIP" 8080 udp 1200 50 >/dev/null
			[ $((round++ % 3)) != 0 ] ||
				cli "$RVS_ROOT/tool/target/flood" c0 "$mac" 192.0.2.100 "$VIP" 8090 syn 300 50 >/dev/null
			wait_for 40 sh -c "[ \$(ip netns exec $director awk '\$1 == \"entries\" { print \$2 }' /proc/net/rvs_conn_tab) -lt 24 ]" || true
		done
	) &
	PIDS+=($!)
	(loop "$SECS" dir "$RVSADM" -L -c -n) &
	PIDS+=($!)
	(loop "$SECS" dir "$RVSADM" metrics) &
	PIDS+=($!)
	(loop "$SECS" dir setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
		'dd if=/proc/net/ip_vs_conn bs=4096 of=/dev/null status=none; dd if=/proc/net/ip_vs bs=4096 of=/dev/null status=none') &
	PIDS+=($!)
	(
		end=$((SECONDS + SECS))
		while [ $SECONDS -lt $end ]; do
			dir $IPVSADM -d -u "$VIP:8080" -r "${RS_IPS[1]}:8080" || true
			sleep 0.5
			dir $IPVSADM -a -u "$VIP:8080" -r "${RS_IPS[1]}:8080" -m || true
			sleep 0.5
		done
	) &
	PIDS+=($!)
	(
		end=$((SECONDS + SECS))
		while [ $SECONDS -lt $end ]; do
			dir sysctl -qw net.ipv4.vs.conn_max=2000
			sleep 2
			dir sysctl -qw net.ipv4.vs.conn_max=0
			sleep 2
		done
	) &
	PIDS+=($!)
	# Count the resizes meanwhile.
	last=$(buckets)
	end=$((SECONDS + SECS))
	while [ $SECONDS -lt $end ]; do
		sleep 1
		b=$(buckets)
		if [ -n "$b" ] && [ "$b" != "$last" ]; then
			if [ "$b" -gt "$last" ]; then grows=$((grows + 1)); else shrinks=$((shrinks + 1)); fi
			last=$b
		fi
	done
	stop_all
	echo "the table grew $grows times and shrank $shrinks times in $SECS s (last: $last buckets)"
	# (RVS_STRESS_MIN_RESIZES: fewer, to reach the rest on a slow kernel.)
	resizes=${RVS_STRESS_MIN_RESIZES:-10}
	[ "$grows" -ge "$resizes" ] && [ "$shrinks" -ge "$resizes" ] ||
		fail "grew $grows and shrank $shrinks times ($resizes each way wanted)"
	# Settled: nothing sends; the listings of the same table agree.
	dir sysctl -qw net.ipv4.vs.conn_max=0
	dir "$RVSADM" -L -c -n | mask >"$OUT/nl"
	dir $IPVSADM -L -c -n | mask >"$OUT/proc"
	echo "settled: $(wc -l <"$OUT/nl") entries over netlink, $(wc -l <"$OUT/proc") in /proc"
	if ! cmp -s "$OUT/nl" "$OUT/proc"; then
		{ diff "$OUT/nl" "$OUT/proc" || true; } | head -n 20
		# Entries may expire between the two reads: only those differ.
		[ "$(diff "$OUT/nl" "$OUT/proc" | grep -c '^>')" = 0 ] ||
			fail "/proc lists entries that the netlink listing lacks"
	fi
	# The flood again, then the namespace goes, then the module.
	(loop 30 cli python3 "$BADPKT" c0 "$mac" 192.0.2.100 "$VIP" 8080 synflood-for 5) &
	PIDS+=($!)
	sleep 3
	ip netns del "$director"
	# /proc/slabinfo counts the free objects of per-CPU slabs as in use:
	# a few slabs' worth may stay. The module's exit destroys the cache,
	# which reports (a BUG line: the VM run fails) any object left.
	wait_for 60 sh -c '[ "$(awk '\''$1 == "rvs_conn" { print $2 }'\'' /proc/slabinfo)" -le 256 ]' ||
		fail "rvs_conn objects left after the namespace went: $(slab rvs_conn)"
	echo "the namespace gone: rvs_conn objects $(slab rvs_conn) (free ones of per-CPU slabs included)"
	rmmod rvs || fail "rmmod rvs after the namespace went: $?"
	echo "rvs.ko unloaded under the flood"
	stop_all
	cleanup_ns
}

tap_case "race stress for $SECS s: resizes, a 30,000-entry chain, listings, DEL/NEW_DEST, conn_max toggled; then netns del and rmmod under a flood" test_stress
tap_done
