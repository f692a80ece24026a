#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, run inside the test VM: a director (rvs.ko, driven by the
# unmodified ipvsadm and by rvsadm) with three real servers, in network
# namespaces: clients' connections spread over them by NAT, then direct
# routing, then IP tunnelling, with the counters and the connection list
# after each.
#
#   client 192.0.2.2 --- director (VIP 203.0.113.10) --- rs1 .11, rs2 .12, rs3 .13
#                                                        (198.51.100.0/24)
set -e
source "$(dirname "$0")/lib.sh"
unload_all
trap 'cleanup_ns; unload_all' EXIT
echo "== insmod rvs.ko (ip_vs.ko is not loaded)"
insmod "$RVS_KO"
dmesg | grep 'rvs:' | tail -n 1
echo "== the hosts: a client, a director, three real servers (each answers its name on :8081)"
lvs_setup

demo() { # demo METHOD FLAG SCHED WEIGHTS...
	local method=$1 flag=$2 sched=$3 i
	shift 3
	echo
	echo "== $method: ipvsadm -A -t $VIP:8081 -s $sched; three real servers $flag"
	dir ipvsadm -A -t "$VIP:8081" -s "$sched"
	for i in 0 1 2; do
		dir "$RVSADM" -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" "$flag" -w "$1"
		shift
	done
	echo "-- 12 client connections, each printing the real server that answered:"
	ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 12 | sort | uniq -c
	echo "-- ipvsadm -L -n --stats"
	dir ipvsadm -L -n --stats
	echo "-- ipvsadm -L -n -c (the connection table)"
	dir ipvsadm -L -n -c | head -n 8
	echo "   ... $(dir ipvsadm -L -n -c | tail -n +3 | wc -l) entries"
	dir ipvsadm -C
}

demo "NAT (masquerading)" -m rr 1 1 1
demo "DR (direct routing)" -g wrr 3 2 1
demo "TUN (IP-in-IP tunnelling)" -i wlc 1 1 1

echo
echo "== a mistake gets an answer in words (and ipvsadm's exit code)"
dir "$RVSADM" -d -t "$VIP:8081" -r "${RS_IPS[0]}:8081" || echo "(exit $?)"
echo
echo "== rvsadm -L -n --json, sysctls"
dir "$RVSADM" -A -t "$VIP:80" -s rr
dir "$RVSADM" -L -n --json
dir sh -c 'cd /proc/sys/net/ipv4/vs && grep . *'
echo
echo "== rmmod rvs"
cleanup_ns
rmmod rvs
echo "done."
