#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rvs.ko, the walking skeleton: loading, per-namespace state, the IPVS
# family's GET_INFO / GET_CONFIG / empty GET_SERVICE dump, compared with
# ip_vs.ko; rvsadm's listing compared with ipvsadm's on both modules.
source "$(dirname "$0")/lib.sh"

[ -e "$RVS_KO" ] || { echo "no $RVS_KO: run make"; exit $ksft_skip; }
[ -x "$RVSADM" ] || { echo "no $RVSADM: run make"; exit $ksft_skip; }

EMPTY_TABLE="IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"

test_empty_table() {
	load_impl rvs
	! module_loaded ip_vs || fail "ip_vs got loaded"
	expect_eq "ipvsadm -L -n on rvs.ko" "$EMPTY_TABLE" "$($IPVSADM -L -n)"
	! module_loaded ip_vs || fail "ip_vs got loaded by ipvsadm"
}

test_rvsadm_equals_ipvsadm_on_rvs() {
	load_impl rvs
	expect_eq "rvsadm -L -n" "$($IPVSADM -L -n)" "$($RVSADM -L -n)"
	expect_eq "rvsadm -Ln (bundled)" "$($IPVSADM -Ln)" "$($RVSADM -Ln)"
	local f
	for f in --stats --rate --thresholds --persistent-conn --exact; do
		expect_eq "rvsadm -L -n $f" "$($IPVSADM -L -n $f)" "$($RVSADM -L -n $f)"
	done
}

test_json() {
	load_impl rvs
	$RVSADM -L -n --json >/tmp/rvs.json
	python3 - /tmp/rvs.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"version": "1.2.1", "conn_tab_size": 4096, "services": []}, d
PY
}

# Same script against both modules: the same answers.
info_and_config() {
	$IPVSADM -L -n
	$IPVSADM -L --timeout
	$RVSADM -L -n
}

test_differential_info() {
	local a b
	load_impl ip_vs
	a=$(info_and_config)
	load_impl rvs
	b=$(info_and_config)
	expect_eq "GET_INFO/GET_CONFIG on rvs.ko vs ip_vs.ko" "$a" "$b"
	expect_eq "timeouts" "Timeout (tcp tcpfin udp): 900 120 300" "$($IPVSADM -L --timeout)"
}

test_conn_tab_bits() {
	local bits a b
	for bits in 10 3 8 15 30 -1; do
		load_impl ip_vs conn_tab_bits=$bits
		a=$($IPVSADM -L -n | head -n1)
		load_impl rvs conn_tab_bits=$bits
		b=$($IPVSADM -L -n | head -n1)
		echo "conn_tab_bits=$bits: ip_vs '$a', rvs '$b'"
		expect_eq "size with conn_tab_bits=$bits" "$a" "$b"
	done
	load_impl rvs conn_tab_bits=10
	grep -qx 10 /sys/module/rvs/parameters/conn_tab_bits
}

test_mutual_exclusion() {
	load_impl ip_vs
	if insmod "$RVS_KO" 2>/tmp/err; then
		fail "rvs.ko loaded beside ip_vs.ko"
	fi
	cat /tmp/err
	grep -q "File exists" /tmp/err
	! module_loaded rvs
	unload_all
}

test_netns_state() {
	local before after
	unload_all
	setup_ns before
	load_impl rvs
	setup_ns after
	local ns
	for ns in "$before" "$after"; do
		expect_eq "table in $ns" "$EMPTY_TABLE" "$(ip netns exec "$ns" $IPVSADM -L -n)"
		expect_eq "timeouts in $ns" "Timeout (tcp tcpfin udp): 900 120 300" \
			"$(ip netns exec "$ns" $IPVSADM -L --timeout)"
	done
	cleanup_ns
	rmmod rvs
}

unpriv() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all "$@"
}

test_unprivileged() {
	local impl out
	declare -A said
	for impl in ip_vs rvs; do
		load_impl "$impl"
		out=$(unpriv $IPVSADM -L -n 2>&1) && fail "$impl: unprivileged ipvsadm succeeded"
		echo "$impl ipvsadm: $out"
		# ipvsadm then tries `modprobe ip_vs` itself: that line depends on
		# whether ip_vs is loaded, not on how the family answered.
		said[$impl]=$(grep -v '^modprobe:' <<<"$out")
		out=$(unpriv "$RVSADM" -L -n 2>&1) && fail "$impl: unprivileged rvsadm succeeded"
		echo "$impl rvsadm: $out"
		grep -q "Operation not permitted" <<<"$out"
		# Scripts check the status: both tools give ipvsadm's.
		local cmd rc_i rc_r
		for cmd in "-L -n" "-A -t 192.0.2.1:80" "-C"; do
			rc_i=0 rc_r=0
			unpriv $IPVSADM $cmd >/dev/null 2>&1 || rc_i=$?
			unpriv "$RVSADM" $cmd >/dev/null 2>&1 || rc_r=$?
			expect_eq "$impl: exit status of unprivileged '$cmd', ipvsadm vs rvsadm" "$rc_i" "$rc_r"
		done
	done
	expect_eq "unprivileged ipvsadm, rvs.ko vs ip_vs.ko" "${said[ip_vs]}" "${said[rvs]}"
}

test_load_unload_100() {
	unload_all
	kmemleak_begin
	local i
	for i in $(seq 100); do
		insmod "$RVS_KO"
		if [ $((i % 10)) = 0 ]; then
			expect_eq "table after $i loads" "$EMPTY_TABLE" "$($IPVSADM -L -n)"
		fi
		rmmod rvs
	done
	! module_loaded rvs
	kmemleak_check
}

# test_unload_while_read: rvs.ko unloads while its /proc/net files are
# read in a loop and while a reader holds each open halfway through, in a
# namespace with a service and in the initial one; the paused readers'
# next read fails with EIO (the files are gone), no oops (vm.sh checks the
# kernel log).
test_unload_while_read() {
	load_impl rvs
	setup_ns ns
	local i pids=() files="ip_vs ip_vs_conn ip_vs_conn_sync ip_vs_stats rvs_conn_tab"
	ip netns exec "$ns" $IPVSADM -A -t 192.0.2.1:80 -s rr
	for i in $(seq 10 40); do
		ip netns exec "$ns" $IPVSADM -a -t 192.0.2.1:80 -r "198.51.100.$i:80" -m
	done
	for n in "" "$ns"; do
		# shellcheck disable=SC2086
		${n:+ip netns exec "$n"} bash -c "while :; do for f in $files; do cat /proc/net/\$f >/dev/null 2>&1; done; done" &
		pids+=($!)
	done
	coproc PAUSED { ip netns exec "$ns" python3 -u -c '
import os, sys
fds = {f: os.open("/proc/net/" + f, os.O_RDONLY) for f in sys.argv[1:]}
for f, fd in fds.items():
    assert len(os.read(fd, 16)) == 16, f
print("paused", flush=True)
sys.stdin.readline()
for f, fd in fds.items():
    try:
        os.read(fd, 4096)
        print(f, "read")
    except OSError as e:
        print(f, os.strerror(e.errno))
' $files; }
	local line
	read -r line <&"${PAUSED[0]}"
	expect_eq "readers paused halfway" paused "$line"
	rmmod rvs
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
	echo >&"${PAUSED[1]}"
	local out
	out=$(cat <&"${PAUSED[0]}")
	expect_eq "the paused readers after the unload" \
		"$(for f in $files; do echo "$f Input/output error"; done)" "$out"
	! module_loaded rvs
	cleanup_ns
}

test_netns_churn() {
	load_impl rvs
	kmemleak_begin
	local i ns first
	first=${EMPTY_TABLE%%$'\n'*}
	for i in $(seq 100); do
		setup_ns ns
		[ "$(ip netns exec "$ns" $IPVSADM -L -n | head -n1)" = "$first" ]
		cleanup_ns
	done
	# Namespaces are freed by a work item; unloading waits for it.
	rmmod rvs
	kmemleak_check
}

test_rvsadm_without_family() {
	unload_all
	# Like ipvsadm, rvsadm gets ip_vs.ko loaded by the kernel's genetlink
	# family autoloading when no IPVS family is registered...
	$RVSADM -L -n >/dev/null
	module_loaded ip_vs
	unload_all
	# ...and where that is impossible, it says so in words.
	local saved out rc=0
	saved=$(cat /proc/sys/kernel/modprobe)
	echo >/proc/sys/kernel/modprobe
	out=$($RVSADM -L -n 2>&1) || rc=$?
	echo "$saved" >/proc/sys/kernel/modprobe
	echo "$out (exit $rc)"
	[ "$rc" != 0 ]
	grep -q "IPVS netlink family is not available" <<<"$out"
	! module_loaded ip_vs
}

# ipvsadm's option parser gives up on an unknown option with exit 255, and
# refuses a bad value with exit 2; rvsadm says so in words, with the same
# codes.
test_rvsadm_usage_errors() {
	local out rc=0 rc_ref=0
	out=$($RVSADM -L --bogus 2>&1) || rc=$?
	$IPVSADM -L --bogus 2>/dev/null || rc_ref=$?
	echo "$out (exit $rc; ipvsadm: $rc_ref)"
	[ "$rc" = 255 ] && [ "$rc_ref" = 255 ] && grep -q -- "--bogus: unknown option" <<<"$out"
	rc=0
	out=$($RVSADM -A -t 203.0.113.10:80 -s rr -w 3 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" = 2 ] && grep -q "Illegal 'weight' option with the 'add-service' command" <<<"$out"
}

# rvsadm reads ip_vs.ko's tables exactly like ipvsadm: services of every
# kind, added with ipvsadm.
test_rvsadm_equals_ipvsadm_on_ip_vs() {
	load_impl ip_vs
	$IPVSADM -A -t 203.0.113.10:80 -s rr
	$IPVSADM -a -t 203.0.113.10:80 -r 198.51.100.11:8080 -m -w 3
	$IPVSADM -a -t 203.0.113.10:80 -r 198.51.100.12:80 -g -w 0
	$IPVSADM -a -t 203.0.113.10:80 -r 198.51.100.13 -i -x 100 -y 10
	$IPVSADM -A -u 203.0.113.10:53 -s wlc -p 600 -M 255.255.255.0
	$IPVSADM -a -u 203.0.113.10:53 -r 198.51.100.11:53 -m
	$IPVSADM -A -t 198.51.100.200:443 -s sh -b sh-fallback,sh-port
	$IPVSADM -A -t 10.0.0.1:22 -s mh -b mh-port
	$IPVSADM -A -u 200.0.0.1:22 -s lc -o
	$IPVSADM -A -f 42 -s wrr -p
	$IPVSADM -a -f 42 -r 198.51.100.12 -g -w 5
	$IPVSADM -A -t "[$VIP6]:80" -s sed -p 30 -M 64
	$IPVSADM -a -t "[$VIP6]:80" -r "[2001:db8:2::11]:80" -m
	$IPVSADM -a -t "[$VIP6]:80" -r "[2001:db8:2::12]:8080" -m -w 2
	$IPVSADM -A --sctp-service 203.0.113.10:9 -s nq
	$IPVSADM -A -t 203.0.113.11:80 -s rr -b flag-1,flag-3
	local f
	for f in "" --stats --rate --thresholds --persistent-conn --exact "--stats --exact" --nosort; do
		expect_eq "rvsadm -L -n $f on ip_vs.ko" "$($IPVSADM -L -n $f)" "$($RVSADM -L -n $f)"
	done
	expect_eq "rvsadm -L (names) on ip_vs.ko" "$($IPVSADM -L)" "$($RVSADM -L)"
	$IPVSADM -L -n
	$RVSADM -L -n --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d["services"]) == 9, len(d["services"])
dests = sum(len(s["destinations"]) for s in d["services"])
assert dests == 7, dests
'
	$IPVSADM -C
	unload_all
}

# --json's document restores the table it lists (-R --json), on both
# modules: every kind of service and server option; flags are names.
json_table() {
	$RVSADM -S -n
	$RVSADM -L -n --thresholds
	$RVSADM -L -n --tun-info
	$RVSADM -L -n --persistent-conn
}
test_json_roundtrip() {
	local impl
	for impl in ip_vs rvs; do
		load_impl "$impl"
		$RVSADM -A -t 203.0.113.10:80 -s wlc -p 300 -M 255.255.255.0
		$RVSADM -a -t 203.0.113.10:80 -r 198.51.100.11:8080 -m -w 3 -x 100 -y 10
		$RVSADM -a -t 203.0.113.10:80 -r 198.51.100.12 -i --tun-type gue --tun-port 6080 --tun-remcsum
		$RVSADM -a -t 203.0.113.10:80 -r 198.51.100.13 -i --tun-type gre --tun-csum -w 0
		$RVSADM -A -u 203.0.113.10:5060 -s rr -p 60 -o
		$RVSADM -a -u 203.0.113.10:5060 -r 198.51.100.11 -g
		$RVSADM -A -f 42 -6 -s sh -b sh-fallback,sh-port
		$RVSADM -a -f 42 -6 -r 2001:db8:2::11 -g -w 5
		$RVSADM -A --sctp-service "[$VIP6]:9" -s mh -b mh-port -p 30 -M 64
		$RVSADM -a --sctp-service "[$VIP6]:9" -r "[2001:db8:2::12]:9" -i
		json_table >"/tmp/before.$impl"
		$RVSADM -L -n --json >"/tmp/table.$impl.json"
		python3 - "/tmp/table.$impl.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["services"]:
    assert all(isinstance(f, str) for f in s["flags"]), s["flags"]
    for r in s["destinations"]:
        assert r["tun_type"] in (None, "ipip", "gue", "gre"), r
        assert r["tun_csum"] in (None, "nocsum", "csum", "remcsum"), r
assert [s["flags"] for s in d["services"]][0] == ["persistent", "hashed"], d["services"][0]["flags"]
PY
		# -S --json is the same document.
		expect_eq "$impl: -S --json is -L --json" "$(cat "/tmp/table.$impl.json")" "$($RVSADM -S -n --json)"
		$RVSADM -C
		[ -z "$($RVSADM -S -n)" ] || fail "$impl: the table was not cleared"
		$RVSADM -R --json <"/tmp/table.$impl.json"
		json_table >"/tmp/after.$impl"
		cat "/tmp/after.$impl"
		expect_eq "$impl: the table restored from --json" "$(cat "/tmp/before.$impl")" "$(cat "/tmp/after.$impl")"
		# A bad document is refused in words, nothing applied.
		local out rc=0
		$RVSADM -C
		out=$(echo '{"services": [{"protocol": "ICMP", "address": "192.0.2.1", "port": 1}]}' | $RVSADM -R --json 2>&1) || rc=$?
		echo "$out (exit $rc)"
		[ "$rc" = 2 ] && grep -q 'unknown protocol "ICMP"' <<<"$out" || fail "$impl: a bad document was not refused"
		[ -z "$($RVSADM -S -n)" ] || fail "$impl: a refused document changed the table"
		$RVSADM -C
	done
	expect_eq "the restored tables of ip_vs.ko and rvs.ko" "$(cat /tmp/after.ip_vs)" "$(cat /tmp/after.rvs)"
	unload_all
}

trap 'cleanup_ns; unload_all >/dev/null 2>&1' EXIT
tap_case "rvs.ko loads with ip_vs absent; ipvsadm -L -n prints the empty table" test_empty_table
tap_case "rvsadm -L -n prints what ipvsadm prints, on rvs.ko" test_rvsadm_equals_ipvsadm_on_rvs
tap_case "rvsadm -L -n --json on rvs.ko" test_json
tap_case "rvsadm -R --json restores what -L --json lists (both modules); flags as names" test_json_roundtrip
tap_case "GET_INFO and GET_CONFIG answer as ip_vs.ko's do" test_differential_info
tap_case "conn_tab_bits sizes the table as ip_vs.ko's does" test_conn_tab_bits
tap_case "rvs.ko refuses to load beside ip_vs.ko (family exists)" test_mutual_exclusion
tap_case "per-namespace state for namespaces made before and after loading" test_netns_state
tap_case "an unprivileged caller is refused, as by ip_vs.ko" test_unprivileged
tap_case "rvs.ko loads and unloads 100 times without a leak" test_load_unload_100
tap_case "100 namespaces come and go with rvs.ko loaded" test_netns_churn
tap_case "rvs.ko unloads while its /proc/net files are read and held open halfway: EIO after, no oops" test_unload_while_read
tap_case "rvsadm without the IPVS family: an error in words, non-zero exit" test_rvsadm_without_family
tap_case "rvsadm refuses bad command lines with ipvsadm's exit codes and words" test_rvsadm_usage_errors
tap_case "rvsadm lists ip_vs.ko's tables exactly as ipvsadm does" test_rvsadm_equals_ipvsadm_on_ip_vs
tap_done
