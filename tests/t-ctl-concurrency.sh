#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Dumps while the table changes: listings run in a loop while another
# process adds and deletes services and destinations. Nothing crashes or
# warns (the VM runner fails on any kernel warning), every listing is well
# formed and within what the table held, and the table is exactly what the
# changes leave. The same on ip_vs.ko and rvs.ko.
source "$(dirname "$0")/lib.sh"

[ -e "$RVS_KO" ] || { echo "no $RVS_KO: run make"; exit $ksft_skip; }

# The standing table: 1000 services with 2 destinations each.
standing() {
	local i vip
	for i in $(seq 0 999); do
		vip="10.0.$((i / 250)).$((i % 250 + 1)):80"
		echo "-A -t $vip -s rr"
		echo "-a -t $vip -r 198.51.100.1:8080 -m -w 1"
		echo "-a -t $vip -r 198.51.100.2:8080 -m -w 2"
	done
}

# churn ROUNDS: add 300 more services with a destination each, give
# the standing services a third destination, then take both away again.
churn() {
	local r i vip
	for r in $(seq 1 "$1"); do
		for i in $(seq 0 299); do
			vip="10.1.$((i / 250)).$((i % 250 + 1)):80"
			echo "-A -t $vip -s wlc"
			echo "-a -t $vip -r 198.51.100.3:8080 -m"
		done | $IPVSADM -R
		for i in $(seq 0 299); do
			echo "-a -t 10.0.$((i / 250)).$((i % 250 + 1)):80 -r 198.51.100.9:8080 -m"
		done | $IPVSADM -R
		for i in $(seq 0 299); do
			echo "-D -t 10.1.$((i / 250)).$((i % 250 + 1)):80"
			echo "-d -t 10.0.$((i / 250)).$((i % 250 + 1)):80 -r 198.51.100.9:8080"
		done | $IPVSADM -R
	done
}

# check_listing FILE: every line is a title, a service or a destination
# line, and the number of services is within what the table held.
check_listing() {
	local n
	if grep -vE '^(IP Virtual Server version|Prot LocalAddress|  -> RemoteAddress|TCP  10\.[01]\.[0-9]+\.[0-9]+:80 (rr|wlc)|  -> 198\.51\.100\.[1239]:8080 +Masq +[12] )' "$1"; then
		fail "malformed lines above in a listing"
	fi
	n=$(grep -c '^TCP' "$1")
	# Entries may be skipped or repeated across a dump's messages when the
	# table changes between them (ip_vs resumes at a position, and so do
	# we), but never beyond the changes made.
	[ "$n" -ge 700 ] && [ "$n" -le 1600 ] || fail "a listing with $n services"
}

test_dump_while_changing() {
	local impl=$1 tool pid listings=0
	load_impl "$impl"
	standing | $IPVSADM -R
	standing | sort >/tmp/conc-want
	if [ "$impl" = rvs ]; then kmemleak_begin; fi
	churn 3 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		for tool in "$IPVSADM" "$RVSADM"; do
			$tool -L -n >/tmp/conc-list || fail "$tool -L -n failed during changes"
			check_listing /tmp/conc-list
			listings=$((listings + 1))
		done
	done
	wait "$pid" || fail "the changes failed"
	echo "$listings listings during the changes"
	[ "$listings" -ge 2 ]
	# Afterwards the table is exactly the standing one.
	$IPVSADM -S -n | sort >/tmp/conc-got
	cmp /tmp/conc-want /tmp/conc-got || fail "the table is not what the changes leave"
	$IPVSADM -C
	if [ "$impl" = rvs ]; then
		rmmod rvs
		kmemleak_check
	fi
	unload_all
}

trap 'unload_all >/dev/null 2>&1' EXIT
tap_case "listings while services and destinations change: ip_vs.ko" test_dump_while_changing ip_vs
tap_case "listings while services and destinations change: rvs.ko" test_dump_while_changing rvs
tap_done
