#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make captures` runs this in the VM: the netlink traffic of
# tests/ipvsadm-script.txt, captured through an nlmon device, becomes the
# test vectors of the protocol crate (tool/ipvs/tests/captures/, decoded and
# re-encoded byte for byte by `cargo test`). Every distinct frame is kept
# once, as the wire carried it.
source "$(dirname "$0")/lib.sh"
set -e
dst="$RVS_ROOT/tool/ipvs/tests/captures"
SCRIPT="$RVS_ROOT/tests/ipvsadm-script.txt"
mkdir -p "$dst"

# The sync daemon commands, against ip_vs.ko (tests/t-ctl.sh compares
# rvs.ko's replies with these byte for byte).
daemon_script=$(mktemp)
cat >"$daemon_script" <<'END'
--start-daemon master --mcast-interface cap0 --syncid 7 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 8848 --mcast-ttl 2
--start-daemon backup --mcast-interface cap0 --syncid 9 --mcast-group ff05::1:3
= -L --daemon
--stop-daemon master
--stop-daemon backup
END

# capture IMPL TOOL SCRIPT NAME
capture() {
	load_impl "$1"
	ip link add nlmon0 type nlmon
	ip link set nlmon0 up
	python3 "$RVS_ROOT/tests/tools/nlcap.py" --unique "$dst/$4.txt" -- \
		"$RVS_ROOT/tests/tools/run-script.sh" "$2" "$3" >/dev/null
	ip link del nlmon0
	$IPVSADM -C
}

ip link add cap0 type veth peer name cap1
ip link set cap0 up
ip link set cap1 up
ip addr add 192.0.2.1/24 dev cap0
ip -6 addr add 2001:db8:1::1/64 dev cap0 nodad
capture ip_vs "$IPVSADM" "$SCRIPT" ipvsadm-ip_vs
capture rvs "$IPVSADM" "$SCRIPT" ipvsadm-rvs
capture ip_vs "$RVSADM" "$SCRIPT" rvsadm-ip_vs
capture ip_vs "$IPVSADM" "$daemon_script" daemon-ip_vs
unload_all
wc -l "$dst"/*.txt
