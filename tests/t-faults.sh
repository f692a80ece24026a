#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every error path of the sync daemons' start releases what it took
# (issue 29), by fault injection: CONFIG_FAILSLAB and
# /proc/thread-self/fail-nth make the Nth slab allocation of the request
# fail (tests/tools/failnth.py), swept over N = 1, 2, ... until a request
# makes fewer than N allocations, for a backup and for a master with two
# sync ports. After each failure: no sync socket left (no port 8848 or
# 8849 in /proc/net/udp), no group joined (224.0.0.81 in /proc/net/igmp,
# where the kernel has CONFIG_IP_MULTICAST), the daemon not running; after each success the daemon stops cleanly.
# Then kmemleak finds nothing, and once rvs.ko is unloaded, datagrams to
# the old group and ports cause nothing (a socket left with rvs's callback
# would jump into freed module text).
#
#   director s0 203.0.113.33 --- peer s1 203.0.113.34
source "$(dirname "$0")/lib.sh"

FAILSLAB=/sys/kernel/debug/failslab
[ -d "$FAILSLAB" ] || { echo "no $FAILSLAB (CONFIG_FAILSLAB)"; exit $ksft_skip; }
OUT=$(mktemp -d /tmp/rvs-faults.XXXXXX)
trap 'echo Y >$FAILSLAB/ignore-gfp-wait; cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT
FAILNTH="$RVS_ROOT/tests/tools/failnth.py"
SYNCMSG="$RVS_ROOT/tests/tools/syncmsg.py"

# leftovers: what a daemon that is not running must not leave in the
# director's namespace: UDP sockets on 8848/8849, the group 224.0.0.81.
leftovers() {
	# A backup's are bound to the ports, a master's connected to them.
	# (With MASTER_RUNS set, a master's are not counted.)
	dir awk -v m="${MASTER_RUNS:-}" 'NR > 1 { split($2, a, ":"); split($3, b, ":")
		if (a[2] ~ /^229[01]$/ || (m == "" && b[2] ~ /^229[01]$/)) print "udp socket " $2 " " $3 }' /proc/net/udp
	# (The test kernel has no CONFIG_IP_MULTICAST, so no /proc/net/igmp:
	# there a group is held by its socket alone, which the check above
	# finds.)
	[ ! -e /proc/net/igmp ] ||
		dir awk '$1 == "510000E0" { print "group 224.0.0.81" }' /proc/net/igmp
}

# daemon_runs STATE: the director lists a daemon of STATE.
daemon_runs() { dir $IPVSADM -L --daemon | grep -q "$1"; }

# sweep STATE: the sweep for a daemon of STATE; prints how many
# allocations its start makes.
sweep() {
	local state=$1 n=1 code injected left fails=0
	while [ $n -le 1000 ]; do
		read -r code injected < <(dir python3 "$FAILNTH" "$state" s0 "$n")
		# The answer's own allocation may be the one: the daemon runs,
		# its acknowledgement lost (ENOBUFS on the socket, or none).
		if [ "$code" != 0 ] && daemon_runs "$state"; then
			case $code in
			-105 | none) echo "$state, allocation $n: started, its answer lost ($code)" ;;
			*) fail "$state, allocation $n failed ($code): yet the daemon runs" ;;
			esac
			code=0
		fi
		if [ "$code" = 0 ]; then
			daemon_runs "$state" || fail "$state, allocation $n: started but not listed"
			# What the check below looks for is there while it runs
			# (a backup's sockets and group, a master's sockets).
			left=$(leftovers)
			[[ $left == *"udp socket"* ]] || fail "$state: running, yet no socket seen: $left"
			[ "$state" = master ] || [ ! -e /proc/net/igmp ] || [[ $left == *group* ]] ||
				fail "backup: running, yet no group seen: $left"
			dir $IPVSADM --stop-daemon "$state"
		else
			fails=$((fails + 1))
			! daemon_runs "$state" || fail "$state, allocation $n failed ($code): yet the daemon runs"
		fi
		left=$(leftovers)
		[ -z "$left" ] || fail "$state, allocation $n failed ($code): left behind: $left"
		if [ "$injected" = 0 ]; then
			[ "$code" = 0 ] || fail "$state: no fault injected, yet the start failed ($code)"
			echo "$state: $((n - 1)) allocations, each failed in turn: $fails refused, nothing left behind"
			return 0
		fi
		n=$((n + 1))
	done
	fail "$state: more than 1000 allocations"
}

test_daemon_faults() {
	load_impl rvs
	setup_ns director
	sync_peer "$director"
	dir sysctl -qw net.ipv4.vs.sync_ports=2
	echo N >$FAILSLAB/ignore-gfp-wait
	echo 0 >$FAILSLAB/verbose
	kmemleak_begin
	sweep backup
	sweep master
	# A backup and a master together, each start failing in turn.
	dir $IPVSADM --start-daemon master --mcast-interface s0
	MASTER_RUNS=1 sweep backup
	dir $IPVSADM --stop-daemon master
	[ -z "$(leftovers)" ] || fail "left behind: $(leftovers)"
	echo Y >$FAILSLAB/ignore-gfp-wait
	kmemleak_check
	# The module gone, datagrams to the group and both ports: a socket
	# left by a failed start would still call into rvs's freed text.
	rmmod rvs
	python3 "$SYNCMSG" gen "$OUT/stream" 40 "$VIP:8080" "${RS_IPS[0]}:8080"
	ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$OUT/stream" >/dev/null
	ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$OUT/stream" 224.0.0.81 8849 >/dev/null
	[ -z "$(leftovers)" ] || fail "after rmmod, left behind: $(leftovers)"
	echo "datagrams to 224.0.0.81:8848 and 8849 after rmmod: nothing answered them"
	cleanup_ns
}

tap_case "fault injection over every allocation of --start-daemon backup and master (sync_ports 2): no socket, group or memory left after any failure, nothing after rmmod" test_daemon_faults
tap_done
