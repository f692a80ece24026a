#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test VM and tests/lib.sh: module autoloading for the custom kernel
# and the LVS topology that later tests build on.
source "$(dirname "$0")/lib.sh"

test_modprobe() {
	unload_all
	modprobe ip_vs
	module_loaded ip_vs
	# ip_vs loads a scheduler module on demand through the kernel's
	# modprobe path.
	ipvsadm -A -t 203.0.113.10:80 -s lblcr
	module_loaded ip_vs_lblcr
	ipvsadm -C
	unload_all
}

test_topology() {
	setup_topology
	ip netns exec "$client" ping -c1 -W2 "$DIR_CLIENT_IP"
	ip netns exec "$client" ping -c1 -W2 "$DIR_CLIENT_IP6"
	local ip
	for ip in "${RS_IPS[@]}" "${RS_IP6S[@]}"; do
		ip netns exec "$director" ping -c1 -W2 "$ip"
	done
	# Routed through the director: the client reaches a real server.
	ip netns exec "$client" ping -c1 -W2 "${RS_IPS[0]}"
	ip netns exec "$client" ping -c1 -W2 "${RS_IP6S[2]}"
	cleanup_ns
}

trap 'cleanup_ns' EXIT
tap_case "modprobe ip_vs and on-demand scheduler loading work in the VM" test_modprobe
tap_case "lib.sh topology: client, director, three real servers (IPv4+IPv6)" test_topology
tap_done
