#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, run inside the test VM: a director (rvs.ko, driven by the
# unmodified ipvsadm and by rvsadm) with three real servers, in network
# namespaces: clients' connections spread over them by NAT, then direct
# routing, then IP tunnelling. Each method has a virtual service of its
# own (VIP .10, .11, .12), so its counters and connections are its own;
# a summary of the three ends it.
#
#   client 192.0.2.2 --- director (VIPs 203.0.113.10-12) --- rs1 .11, rs2 .12, rs3 .13
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
# The other two virtual addresses: the director's, and (for DR and TUN)
# the real servers' non-ARPing loopback.
for ns in "$director" "$rs1" "$rs2" "$rs3"; do
	ip -n "$ns" addr add 203.0.113.11/32 dev lo
	ip -n "$ns" addr add 203.0.113.12/32 dev lo
done

summary=()
demo() { # demo METHOD VIP FLAG SCHED EXPECT WEIGHTS...
	local method=$1 vip=$2 flag=$3 sched=$4 expect=$5 i
	shift 5
	echo
	echo "== $method: ipvsadm -A -t $vip:8081 -s $sched; rvsadm -a ... $flag -w $*"
	echo "   (expected: $expect)"
	dir ipvsadm -A -t "$vip:8081" -s "$sched"
	for i in 0 1 2; do
		dir "$RVSADM" -a -t "$vip:8081" -r "${RS_IPS[$i]}:8081" "$flag" -w "$1"
		shift
	done
	echo "-- 12 client connections, each printing the real server that answered:"
	ip netns exec "$client" python3 "$LVS_PY" names "$vip" 8081 12 | sort | uniq -c
	echo "-- ipvsadm -L -n --stats -t $vip:8081 (this service's counters)"
	dir ipvsadm -L -n --stats -t "$vip:8081"
	echo "-- ipvsadm -L -n -c (this service's entries in the connection table)"
	dir ipvsadm -L -n -c | sed -n 2p
	dir ipvsadm -L -n -c | grep -F " $vip:8081 " | head -n 6
	echo "   ... $(dir ipvsadm -L -n -c | grep -cF " $vip:8081 ") entries"
	summary+=("$(printf '%-26s %-5s %-8s' "$method" "$sched" "$expect")$(dir ipvsadm -L -n --stats --exact -t "$vip:8081" |
		awk '$1 == "->" && $3 ~ /^[0-9]+$/ { printf " %4s", $3 }')")
}

demo "NAT (masquerading)" 203.0.113.10 -m rr "4 4 4" 1 1 1
demo "DR (direct routing)" 203.0.113.11 -g wrr "6 4 2" 3 2 1
demo "TUN (IP-in-IP)" 203.0.113.12 -i wlc "4 4 4" 1 1 1

echo
echo "== summary: connections per real server, as each service counted them"
printf '%-26s %-5s %-8s %4s %4s %4s\n' method sched expected rs1 rs2 rs3
printf '%s\n' "${summary[@]}"
echo "-- ipvsadm -L -n (the whole table)"
dir ipvsadm -L -n
dir ipvsadm -C
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
