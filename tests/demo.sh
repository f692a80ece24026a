#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, run inside the test VM: load rvs.ko and show the IPVS
# table through the unmodified ipvsadm and through rvsadm. It grows with
# the data plane.
set -e
source "$(dirname "$0")/lib.sh"
unload_all
echo "== insmod rvs.ko (ip_vs.ko is not loaded)"
insmod "$RVS_KO"
grep -E '^(rvs|ip_vs) ' /proc/modules | cut -d' ' -f1
dmesg | grep -i 'rvs' | tail -n 2
echo
echo "== ipvsadm -L -n (the distribution's ipvsadm, talking to rvs.ko)"
ipvsadm -L -n
echo
echo "== ipvsadm -L --timeout"
ipvsadm -L --timeout
echo
echo "== rvsadm -L -n --json"
"$RVSADM" -L -n --json
echo
echo "== rmmod rvs"
rmmod rvs
echo "done."
