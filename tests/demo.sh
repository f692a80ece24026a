#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, run inside the test VM: load rvs.ko, configure a director
# (a virtual service with three real servers) through the unmodified
# ipvsadm and through rvsadm, and show the table. Traffic is balanced once
# the data plane lands; until then the demo shows the control plane.
set -e
source "$(dirname "$0")/lib.sh"
unload_all
echo "== insmod rvs.ko (ip_vs.ko is not loaded)"
insmod "$RVS_KO"
grep -E '^(rvs|ip_vs) ' /proc/modules | cut -d' ' -f1
dmesg | grep 'rvs:' | tail -n 1
echo
echo "== ipvsadm (the distribution's, unmodified) adds a NAT service, VIP $VIP:80"
set -x
ipvsadm -A -t "$VIP:80" -s wrr
ipvsadm -a -t "$VIP:80" -r "${RS_IPS[0]}:8080" -m -w 3
ipvsadm -a -t "$VIP:80" -r "${RS_IPS[1]}:8080" -m -w 2
"$RVSADM" -a -t "$VIP:80" -r "${RS_IPS[2]}:8080" -m -w 1
"$RVSADM" -A -t "[$VIP6]:443" -s mh -b mh-port -p 300 -M 64
"$RVSADM" -a -t "[$VIP6]:443" -r "[${RS_IP6S[0]}]:443" -m
ipvsadm -L -n
"$RVSADM" -L -n --stats
"$RVSADM" -S -n
set +x
echo
echo "== a mistake gets an answer in words (and ipvsadm's exit code)"
"$RVSADM" -a -t "$VIP:80" -r "${RS_IPS[0]}:8080" -m || echo "(exit $?)"
echo
echo "== rvsadm -L -n --json"
"$RVSADM" -L -n --json
"$RVSADM" -C
echo
echo "== rmmod rvs"
rmmod rvs
echo "done."
