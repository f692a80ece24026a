#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own IPVS selftest, tools/testing/selftests/net/netfilter/
# ipvs.sh of the kernel the VM runs (DR, NAT and TUN of a TCP stream by
# ipvsadm, the bytes compared with cmp), run against ip_vs.ko and against
# rvs.ko. It runs as the kernel ships it but for its addresses, which are
# moved into the documentation ranges our tests may use (207.175.44.110 ->
# 203.0.113.110, 10.0.0.0/24 -> 192.0.2.0/24, 172.16.0.0/24 ->
# 198.51.100.0/24); its own lib.sh files come with it.
source "$(dirname "$0")/lib.sh"

KST=/lib/modules/$(uname -r)/build/tools/testing/selftests/net

# ipvs_sh_copy DIR: the selftest and its libraries in DIR, addresses moved.
ipvs_sh_copy() {
	local d=$1
	[ -r "$KST/netfilter/ipvs.sh" ] || fail "no $KST/netfilter/ipvs.sh"
	mkdir -p "$d/netfilter"
	cp "$KST/lib.sh" "$d/lib.sh"
	cp "$KST/netfilter/lib.sh" "$d/netfilter/lib.sh"
	sed -e 's/207\.175\.44\.110/203.0.113.110/g' \
		-e 's/10\.0\.0\./192.0.2./g' \
		-e 's/172\.16\.0\./198.51.100./g' \
		"$KST/netfilter/ipvs.sh" >"$d/netfilter/ipvs.sh"
	# Every IPv4 address left in the script is in a documentation range.
	local bad
	bad=$(grep -oE '\b[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\b' "$d/netfilter/ipvs.sh" |
		grep -vE '^(192\.0\.2|198\.51\.100|203\.0\.113)\.' || true)
	[ -z "$bad" ] || fail "addresses outside the documentation ranges: $bad"
	# The three modes are there (a changed upstream script is noticed).
	local m
	for m in test_dr test_nat test_tun; do
		grep -q "^$m()" "$d/netfilter/ipvs.sh" || fail "ipvs.sh has no $m"
	done
}

test_ipvs_sh() {
	local impl=$1 d out rc=0
	load_impl "$impl"
	d=$(mktemp -d)
	ipvs_sh_copy "$d"
	out=$(cd "$d/netfilter" && timeout 120 bash ipvs.sh 2>&1) || rc=$?
	echo "$out"
	rm -rf "$d"
	# 4 is kselftest's "skip": a failure here.
	[ "$rc" = 0 ] || fail "ipvs.sh exited $rc"
	grep -q 'ipvs.sh: .*PASS' <<<"$out" || fail "ipvs.sh did not say PASS"
	for m in DR NAT Tunnel; do
		grep -q "Testing $m mode" <<<"$out" || fail "ipvs.sh did not test $m"
	done
	# Nothing but the implementation under test served the family: with
	# rvs.ko, ip_vs.ko was never loaded on the side.
	if [ "$impl" = rvs ]; then
		module_loaded rvs || fail "rvs.ko not loaded after the run"
		! module_loaded ip_vs || fail "ip_vs.ko got loaded during the rvs run"
	fi
	unload_all
}

for impl in ip_vs rvs; do
	tap_case "$impl: the kernel's selftests/net/netfilter/ipvs.sh passes (DR, NAT, TUN)" test_ipvs_sh "$impl"
done
tap_done
