#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Netlink fuzzing of rvs.ko's IPVS family: random and mutated messages
# (RVS_FUZZ_COUNT, default 100000) in a namespace of their own. Every
# message is answered, the kernel stays quiet (the VM runner fails on any
# Oops/WARNING), the other namespace's table is intact, the fuzzed table
# still lists the same through ipvsadm and rvsadm, and nothing leaks.
source "$(dirname "$0")/lib.sh"

[ -e "$RVS_KO" ] || { echo "no $RVS_KO: run make"; exit $ksft_skip; }
COUNT=${RVS_FUZZ_COUNT:-100000}

test_fuzz() {
	load_impl rvs
	$IPVSADM -A -t "$VIP:80" -s wrr
	$IPVSADM -a -t "$VIP:80" -r "${RS_IPS[0]}:8080" -m -w 3
	$IPVSADM -A -f 7 -s sh -b sh-port -p
	local before after fz
	before=$($IPVSADM -S -n)
	setup_ns fz
	kmemleak_begin
	local seed=${RVS_FUZZ_SEED:-$RANDOM}
	echo "seed $seed (RVS_FUZZ_SEED=$seed reproduces this run)"
	ip netns exec "$fz" python3 "$RVS_ROOT/tests/tools/nlfuzz.py" "$COUNT" "$seed"
	after=$($IPVSADM -S -n)
	expect_eq "the table of the namespace not fuzzed" "$before" "$after"
	# What the fuzzer left is a table like any other.
	expect_eq "fuzzed table, rvsadm vs ipvsadm" \
		"$(ip netns exec "$fz" $IPVSADM -L -n)" "$(ip netns exec "$fz" "$RVSADM" -L -n)"
	echo "services left by the fuzzer: $(ip netns exec "$fz" $IPVSADM -L -n | grep -cE '^(TCP|UDP|SCTP|FWM)')"
	cleanup_ns
	$IPVSADM -C
	rmmod rvs
	kmemleak_check
}

trap 'cleanup_ns; unload_all >/dev/null 2>&1' EXIT
tap_case "netlink fuzzer: $COUNT random and mutated IPVS messages" test_fuzz
tap_done
