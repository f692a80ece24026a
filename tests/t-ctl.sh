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


# ipvsadm's commands-versus-options table, its tunnel-type table, repeated
# and missing options: every command with every option through ipvsadm and
# rvsadm, against ip_vs.ko; the same exit codes, and for a refused command
# line (exit 2) the same words.
test_option_matrix() {
	load_impl ip_vs
	# Each in a namespace of its own, both at once (two vCPUs).
	"$RVS_ROOT/tests/tools/option-matrix.sh" "$IPVSADM" >/tmp/matrix-ipvsadm &
	"$RVS_ROOT/tests/tools/option-matrix.sh" "$RVSADM" >/tmp/matrix-rvsadm
	wait $!
	unload_all
	# Exit codes everywhere; messages where the command line is refused.
	local norm='s/^(.*) \| ([0-9]+) \| (rvsadm: )?(.*)$/\1 | \2 | \4/; s/ \(try .rvsadm -h.\)$//'
	sed -E "$norm" /tmp/matrix-ipvsadm | awk -F' [|] ' '{ print $1 " | " $2 " | " $3 ($3 == 2 ? " | " $4 : "") }' >/tmp/matrix-a
	sed -E "$norm" /tmp/matrix-rvsadm | awk -F' [|] ' '{ print $1 " | " $2 " | " $3 ($3 == 2 ? " | " $4 : "") }' >/tmp/matrix-b
	diff -u /tmp/matrix-a /tmp/matrix-b || fail "rvsadm takes options differently from ipvsadm (- ipvsadm, + rvsadm)"
	# The table must be exercised: hundreds of refusals, and accepted lines.
	[ "$(grep -c ' | 2 | Illegal' /tmp/matrix-a)" -ge 400 ]
	[ "$(grep -c ' | 0$' /tmp/matrix-a)" -ge 20 ]
	wc -l /tmp/matrix-a
}

# Sync daemons: the script of daemon commands (start, stop, list, bad
# options and states) through ipvsadm and rvsadm on both modules: ipvsadm
# gets the same answers from rvs.ko as from ip_vs.ko (errnos, listings),
# and rvsadm's exit codes and listings are ipvsadm's.
test_daemon_options() {
	local impl tool
	for impl in ip_vs rvs; do
		load_impl "$impl"
		ip link add cap0 type veth peer name cap1
		ip link set cap0 up
		ip link set cap1 up
		ip addr add 192.0.2.1/24 dev cap0
		ip link add nlmon0 type nlmon
		ip link set nlmon0 up
		python3 "$RVS_ROOT/tests/tools/nlcap.py" "/tmp/daemon-$impl.cap" -- \
			"$RVS_ROOT/tests/tools/run-script.sh" "$IPVSADM" "$RVS_ROOT/tests/daemon-script.txt" \
			>"/tmp/daemon-$impl-ipvsadm"
		ip link del nlmon0
		"$RVS_ROOT/tests/tools/run-script.sh" "$RVSADM" "$RVS_ROOT/tests/daemon-script.txt" \
			>"/tmp/daemon-$impl-rvsadm"
		# The module unloads with both daemons running (rvs.ko stops
		# them itself).
		$IPVSADM --start-daemon master --mcast-interface cap0
		$IPVSADM --start-daemon backup --mcast-interface cap0 --mcast-group ff05::1:3
		[ "$($IPVSADM -L --daemon | wc -l)" = 2 ]
		unload_all
		ip link del cap0
	done
	cat /tmp/daemon-rvs-ipvsadm
	diff -u /tmp/daemon-ip_vs-ipvsadm /tmp/daemon-rvs-ipvsadm ||
		fail "ipvsadm gets other answers from rvs.ko (- ip_vs, + rvs)"
	# The netlink replies, byte for byte (the daemon dumps included).
	for impl in ip_vs rvs; do
		python3 "$RVS_ROOT/tests/tools/nlnorm.py" "/tmp/daemon-$impl.cap" >"/tmp/daemon-$impl.norm"
	done
	diff -u /tmp/daemon-ip_vs.norm /tmp/daemon-rvs.norm || fail "rvs.ko's daemon replies differ from ip_vs.ko's bytes"
	grep -q '^k .*flags=0x2 ' /tmp/daemon-rvs.norm
	for impl in ip_vs rvs; do
		diff -u <(codes_only </tmp/daemon-$impl-ipvsadm) <(codes_only </tmp/daemon-$impl-rvsadm) ||
			fail "rvsadm differs from ipvsadm on $impl (- ipvsadm, + rvsadm)"
	done
	grep -q 'master sync daemon (mcast=cap0, syncid=7, maxlen=1400, group=239.1.2.3, port=8848, ttl=2)' /tmp/daemon-rvs-rvsadm
	grep -q 'backup sync daemon (mcast=cap0, syncid=9, maxlen=1452, group=ff05::1:3, port=8848, ttl=1)' /tmp/daemon-rvs-ipvsadm
	# Failures too: already running, none running, no such interface.
	[ "$(grep -c 'exit 255' /tmp/daemon-rvs-ipvsadm)" -ge 4 ]
}

# -L -c: the connection table of /proc/net/ip_vs_conn, as ipvsadm prints it.
# Real entries made by traffic through ip_vs.ko (IPv4 and IPv6, TCP and
# UDP), plus lines with a persistence engine's data, in a snapshot
# given to both tools in place of /proc, so that both read the same text.
test_connection_listing() {
	load_impl ip_vs
	setup_topology
	local d="ip netns exec $director"
	$d ip addr add "$VIP/32" dev lo
	$d ip -6 addr add "$VIP6/128" dev lo
	$d ipvsadm -A -t "$VIP:80" -s rr
	$d ipvsadm -A -u "$VIP:53" -s rr
	$d ipvsadm -A -u "[$VIP6]:53" -s rr
	local ip
	for ip in "${RS_IPS[@]}"; do
		$d ipvsadm -a -t "$VIP:80" -r "$ip:8080" -m
		$d ipvsadm -a -u "$VIP:53" -r "$ip" -m
	done
	$d ipvsadm -a -u "[$VIP6]:53" -r "[${RS_IP6S[0]}]:53" -m
	local i
	for i in 1 2 3; do
		ip netns exec "$client" socat -u OPEN:/dev/null "TCP:$VIP:80,connect-timeout=1" 2>/dev/null || true
		echo x | ip netns exec "$client" socat -u - "UDP:$VIP:53,sourceport=$((4000 + i))"
	done
	echo x | ip netns exec "$client" socat -u - "UDP6:[$VIP6]:53"
	$d cat /proc/net/ip_vs_conn >/tmp/conn-snapshot
	printf '%s\n' \
		"UDP C0000202 13C4 CB00710A 13C4 C633640B 13C4 UDP             155 sip 3a1f8c" \
		"UDP 2001:0db8:0001:0000:0000:0000:0000:0002 13C4 2001:0db8:0010:0000:0000:0000:0000:0010 13C4 2001:0db8:0002:0000:0000:0000:0000:0011 13C4 UDP              95 sip call-id-1" \
		>>/tmp/conn-snapshot
	cat /tmp/conn-snapshot
	# /proc/net is /proc/self/net, a different directory for each process:
	# a /proc of a file alone, in a mount namespace of their own, is what
	# both tools see.
	mkdir -p /tmp/fakeproc/net
	cp /tmp/conn-snapshot /tmp/fakeproc/net/ip_vs_conn
	[ "$(grep -c '^TCP' /tmp/conn-snapshot)" -ge 1 ]
	[ "$(grep -c '^UDP' /tmp/conn-snapshot)" -ge 5 ]
	local opts tool
	for opts in "-L -c -n" "-L -c" "-L -c -n --persistent-conn" "-L -n -c --persistent-conn --sort"; do
		for tool in "$IPVSADM" "$RVSADM"; do
			# shellcheck disable=SC2086
			$d unshare -m sh -c "mount --bind /tmp/fakeproc /proc && $tool $opts" \
				>"/tmp/conn-$(basename "$tool")"
		done
		echo "== $opts"
		cat /tmp/conn-ipvsadm
		diff -u /tmp/conn-ipvsadm /tmp/conn-rvsadm || fail "rvsadm $opts differs from ipvsadm (- ipvsadm, + rvsadm)"
	done
	cleanup_ns
	unload_all
	# rvs.ko's own (empty) connection table: both print the same.
	load_impl rvs
	local rc1=0 rc2=0 out1 out2
	out1=$($IPVSADM -L -c -n) || rc1=$?
	out2=$($RVSADM -L -c -n) || rc2=$?
	expect_eq "exit code of -L -c -n on rvs.ko" "$rc1" "$rc2"
	expect_eq "-L -c -n on rvs.ko" "$out1" "$out2"
	unload_all
}

# test_unknown_fwd: a real server whose forwarding method ipvsadm cannot
# name (5, sent as raw netlink): both modules take it, list it, and let its
# service's packets go on to the director's own stack (ip_vs has no
# transmitter for it), where nothing listens: the client is refused.
test_unknown_fwd() {
	local impl out=()
	for impl in ip_vs rvs; do
		load_impl "$impl"
		lvs_setup
		dir $IPVSADM -A -t "$VIP:8081" -s rr
		dir python3 - "$RVS_ROOT/tests/tools" "$VIP" "${RS_IPS[0]}" <<'EOF2'
import socket, struct, sys
sys.path.insert(0, sys.argv[1])
from nlfuzz import nla, msg, answers, family, NLM_F_REQUEST, NLM_F_ACK, NETLINK_GENERIC
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
s.bind((0, 0))
s.settimeout(10)
fam = family(s)
svc = nla(1, struct.pack("H", 2)) + nla(2, struct.pack("H", 6)) + \
    nla(3, socket.inet_aton(sys.argv[2]) + b"\0" * 12) + nla(4, struct.pack(">H", 8081))
dest = nla(1, socket.inet_aton(sys.argv[3]) + b"\0" * 12) + nla(2, struct.pack(">H", 8081)) + \
    nla(3, struct.pack("I", 5)) + nla(4, struct.pack("i", 1)) + \
    nla(5, struct.pack("I", 0)) + nla(6, struct.pack("I", 0))
s.send(msg(fam, NLM_F_REQUEST | NLM_F_ACK, 2, 5, nla(1, svc) + nla(2, dest)))
codes = answers(s, 2)
assert codes == [0], codes
EOF2
		out+=("$impl: $(dir $IPVSADM -L -n -t "$VIP:8081" | tail -n +2 | tr -s ' ' | tr '\n' ';')")
		out+=("$impl: $(cli python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 8081), timeout=3).close()
    print("connected")
except OSError as e:
    print(type(e).__name__)
' "$VIP")")
		cleanup_ns
		unload_all
	done
	printf '%s\n' "${out[@]}"
	expect_eq "a real server of method 5: listing, and a client's connection, rvs vs ip_vs" \
		"$(printf '%s\n' "${out[@]}" | sed -n 's/^ip_vs: //p')" "$(printf '%s\n' "${out[@]}" | sed -n 's/^rvs: //p')"
	[[ ${out[1]} == *ConnectionRefusedError* ]] || fail "ip_vs: ${out[1]}"
}

trap 'ip link del nlmon0 2>/dev/null; ip link del cap0 2>/dev/null; cleanup_ns; unload_all >/dev/null 2>&1' EXIT
tap_case "ipvsadm script: rvs.ko answers exactly as ip_vs.ko" test_differential_ipvsadm
tap_case "its netlink replies: byte for byte those of ip_vs.ko" test_differential_bytes
tap_case "the same script through rvsadm: ipvsadm's exit codes and listings, both modules" test_differential_rvsadm
tap_case "every command with every option: rvsadm refuses what ipvsadm refuses" test_option_matrix
tap_case "sync daemons: rvs.ko answers as ip_vs.ko, rvsadm as ipvsadm" test_daemon_options
tap_case "connection listing (-L -c): rvsadm as ipvsadm, IPv4, IPv6, persistence data" test_connection_listing
tap_case "each namespace has its own table, freed with it" test_netns_isolation
tap_case "an unprivileged caller changes nothing, on both modules" test_unprivileged_changes_nothing
tap_case "2000 services list completely across dump messages" test_many_services_dump
tap_case "a real server of a method ipvsadm cannot name (5): taken, listed, its packets to the local stack, as ip_vs.ko" test_unknown_fwd
tap_done
