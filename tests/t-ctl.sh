#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The control plane: the same script of valid and invalid ipvsadm commands
# against ip_vs.ko and rvs.ko gives identical exit codes, messages and
# listings.
source "$(dirname "$0")/lib.sh"

[ -e "$RVS_KO" ] || { echo "no $RVS_KO: run make"; exit $ksft_skip; }
SCRIPT="$RVS_ROOT/tests/ipvsadm-script.txt"

# run_script TOOL IMPL [CAPTURE]: every line of the script through TOOL
# (ipvsadm or rvsadm) against IMPL (ip_vs or rvs), with exit codes, messages
# and listings; with CAPTURE, the netlink traffic goes to that file too
# (tests/tools/nlcap.py through an nlmon device).
run_script() {
	local run=("$RVS_ROOT/tests/tools/run-script.sh" "$1" "$SCRIPT")
	load_impl "$2"
	if [ -n "${3:-}" ]; then
		ip link add nlmon0 type nlmon
		ip link set nlmon0 up
		run=(python3 "$RVS_ROOT/tests/tools/nlcap.py" "$3" -- "${run[@]}")
	fi
	"${run[@]}"
	if [ -n "${3:-}" ]; then ip link del nlmon0; fi
	$IPVSADM -C
	unload_all
}

# Messages are rvsadm's own words; exit codes and listings must match.
codes_only() { sed -E 's/^([0-9]+: .* -> exit [0-9]+).*/\1/'; }

test_differential_ipvsadm() {
	run_script "$IPVSADM" ip_vs /tmp/ctl-ip_vs.cap >/tmp/ctl-ip_vs.out
	run_script "$IPVSADM" rvs /tmp/ctl-rvs.cap >/tmp/ctl-rvs.out
	if ! diff -u /tmp/ctl-ip_vs.out /tmp/ctl-rvs.out; then
		fail "rvs.ko answers differently from ip_vs.ko (diff above: - ip_vs, + rvs)"
	fi
	cat /tmp/ctl-rvs.out
	# The script must exercise failures too, or it proves little.
	grep -q 'exit 0' /tmp/ctl-rvs.out
	[ "$(grep -c 'exit [1-9]' /tmp/ctl-rvs.out)" -ge 15 ]
}

# The netlink traffic of that script, captured on both modules: every reply
# of rvs.ko carries the same bytes as ip_vs.ko's (sequence numbers, port ids
# and the family id aside; the entries of a dump compared as a set, as
# ip_vs.ko dumps in hash order).
test_differential_bytes() {
	local impl
	for impl in ip_vs rvs; do
		[ -s /tmp/ctl-$impl.cap ] || fail "no capture from the script case"
		python3 "$RVS_ROOT/tests/tools/nlnorm.py" /tmp/ctl-$impl.cap >/tmp/ctl-$impl.norm
	done
	diff -u /tmp/ctl-ip_vs.norm /tmp/ctl-rvs.norm | head -n 80 || true
	cmp /tmp/ctl-ip_vs.norm /tmp/ctl-rvs.norm ||
		fail "rvs.ko's messages differ from ip_vs.ko's (diff above: - ip_vs, + rvs)"
	# Enough traffic to prove something: requests, dumps, errors.
	[ "$(grep -c '^u ' /tmp/ctl-rvs.norm)" -ge 200 ]
	[ "$(grep -c '^k .*flags=0x2 ' /tmp/ctl-rvs.norm)" -ge 100 ]
	[ "$(grep -c '^k error code=-' /tmp/ctl-rvs.norm)" -ge 10 ]
	wc -l /tmp/ctl-ip_vs.norm /tmp/ctl-rvs.norm
}

# The same script with rvsadm in place of ipvsadm, on both modules: the
# same exit codes and listings as ipvsadm on ip_vs.ko.
test_differential_rvsadm() {
	local impl
	run_script "$IPVSADM" ip_vs | codes_only >/tmp/ctl-ref.out
	for impl in ip_vs rvs; do
		run_script "$RVSADM" "$impl" >/tmp/ctl-rvsadm-$impl.full
		codes_only </tmp/ctl-rvsadm-$impl.full >/tmp/ctl-rvsadm-$impl.out
		if ! diff -u /tmp/ctl-ref.out /tmp/ctl-rvsadm-$impl.out; then
			fail "rvsadm on $impl.ko differs from ipvsadm on ip_vs.ko (- ipvsadm, + rvsadm)"
		fi
	done
	grep 'exit [1-9]' /tmp/ctl-rvsadm-rvs.full
}

test_netns_isolation() {
	load_impl rvs
	local a b
	setup_ns a b
	ip netns exec "$a" $IPVSADM -A -t 203.0.113.10:80 -s rr
	ip netns exec "$b" $IPVSADM -A -u 203.0.113.10:53 -s wlc
	[ "$(ip netns exec "$a" $IPVSADM -S -n)" = "-A -t 203.0.113.10:80 -s rr" ]
	[ "$(ip netns exec "$b" $IPVSADM -S -n)" = "-A -u 203.0.113.10:53 -s wlc" ]
	[ -z "$($IPVSADM -S -n)" ]
	# Tearing a namespace down frees its table (kmemleak would say if not).
	kmemleak_begin
	cleanup_ns
	rmmod rvs
	kmemleak_check
}

test_unprivileged_changes_nothing() {
	local impl out
	for impl in ip_vs rvs; do
		load_impl "$impl"
		$IPVSADM -A -t 203.0.113.10:80 -s rr
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			--bounding-set=-all $IPVSADM -D -t 203.0.113.10:80 2>&1) &&
			fail "$impl: unprivileged delete succeeded"
		echo "$impl: $out"
		[ "$($IPVSADM -S -n)" = "-A -t 203.0.113.10:80 -s rr" ]
		$IPVSADM -C
	done
	unload_all
}

test_many_services_dump() {
	load_impl rvs
	local i
	for i in $(seq 0 1999); do
		echo "-A -t 10.$((i / 250)).$((i % 250)).1:80 -s rr"
	done | $IPVSADM -R
	[ "$($IPVSADM -L -n | grep -c '^TCP')" = 2000 ]
	[ "$($RVSADM -L -n | grep -c '^TCP')" = 2000 ]
	$IPVSADM -C
	[ "$($IPVSADM -L -n | grep -c '^TCP')" = 0 ]
	unload_all
}

test_daemon_refused() {
	load_impl rvs
	local out rc=0
	out=$($IPVSADM --start-daemon master --mcast-interface lo 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" != 0 ]
	# Nothing runs, so nothing is listed.
	[ -z "$($IPVSADM -L --daemon)" ]
	unload_all
}

trap 'ip link del nlmon0 2>/dev/null; cleanup_ns; unload_all >/dev/null 2>&1' EXIT
tap_case "ipvsadm script: rvs.ko answers exactly as ip_vs.ko" test_differential_ipvsadm
tap_case "its netlink replies: byte for byte those of ip_vs.ko" test_differential_bytes
tap_case "the same script through rvsadm: ipvsadm's exit codes and listings, both modules" test_differential_rvsadm
tap_case "each namespace has its own table, freed with it" test_netns_isolation
tap_case "an unprivileged caller changes nothing, on both modules" test_unprivileged_changes_nothing
tap_case "2000 services list completely across dump messages" test_many_services_dump
tap_case "sync daemons are refused (EOPNOTSUPP), not faked" test_daemon_refused
tap_done
