#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sync benchmark (in the VM, part of `make bench`): how many synced
# connections a backup director takes per second. A peer sends a stream of
# version 1 messages (tests/tools/syncmsg.py gen: RVS_BENCH_SYNC entries,
# established TCP connections of one NAT service over three real servers,
# 40 to a message) as fast as it can to a backup daemon, once on ip_vs.ko
# and once on rvs.ko; the time is from the first datagram sent (the
# sender's clock, the VM's) until the
# backup's table holds every entry (its real servers' active connection
# counters, polled every 50 ms). The backup's socket buffer holds the
# whole stream (sync_sock_size), so that nothing is dropped while the
# backup catches up. Prints a table with the rvs/ip_vs ratio; fails only if
# a backup did not get every entry within 120 s.
source "$(dirname "$0")/lib.sh"
set -e
N=${RVS_BENCH_SYNC:-200000}
SYNCMSG="$RVS_ROOT/tests/tools/syncmsg.py"
OUT=$(mktemp -d /tmp/rvs-bench-sync.XXXXXX)
trap 'cleanup_ns; unload_all >/dev/null 2>&1; rm -rf "$OUT"' EXIT
BUF=67108864

python3 "$SYNCMSG" gen "$OUT/stream" "$N" "$VIP:80" "${RS_IPS[0]}:80" "${RS_IPS[1]}:80" "${RS_IPS[2]}:80"
msgs=$(wc -l <"$OUT/stream")
# Socket buffers are capped by net.core.rmem_max (the initial namespace's).
sysctl -qw net.core.rmem_max=$BUF

# active: the backup's established entries (all its real servers').
active() {
	ip netns exec "$backup" $IPVSADM -L -n -t "$VIP:80" | awk '$1 == "->" && $2 != "RemoteAddress:Port" { n += $5 } END { print n + 0 }'
}
all_in() { [ "$(active)" = "$N" ]; }

declare -A RATE
for impl in ip_vs rvs; do
	load_impl "$impl"
	setup_ns backup
	sync_peer "$backup"
	ip netns exec "$backup" sysctl -qw net.ipv4.vs.sync_sock_size=$BUF
	ip netns exec "$backup" $IPVSADM -A -t "$VIP:80" -s rr
	for i in 0 1 2; do
		ip netns exec "$backup" $IPVSADM -a -t "$VIP:80" -r "${RS_IPS[$i]}:80" -m
	done
	ip netns exec "$backup" $IPVSADM --start-daemon backup --mcast-interface s0
	# The daemon's socket is bound once the command returns.
	read -r t0 t1 < <(ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$OUT/stream")
	if ! wait_for 120 all_in; then
		fail "$impl: the backup has $(active) of the $N entries after 120 s"
	fi
	t2=$(date +%s%N)
	RATE[$impl]=$((N * 1000000000 / (t2 - t0)))
	echo "$impl: $msgs messages sent in $(((t1 - t0) / 1000000)) ms; $N entries in the table after $(((t2 - t0) / 1000000)) ms"
	ip netns exec "$backup" $IPVSADM --stop-daemon backup
	cleanup_ns
	unload_all
done

echo
echo "| sync backup, $N connections replayed | ip_vs.ko | rvs.ko | rvs/ip_vs |"
echo "|---|---|---|---|"
awk -v a="${RATE[ip_vs]}" -v b="${RATE[rvs]}" \
	'BEGIN { printf "| connections taken per second | %d | %d | %.2f |\n", a, b, b / a }'
