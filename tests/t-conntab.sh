#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The connection table at scale: it grows with its entries and shrinks when
# they go while clients' connections go through it, /proc/net/ip_vs_conn
# and ip_vs_conn_sync list as ip_vs.ko's do and resume exactly after a
# pause across a resize, and namespaces that an unprivileged user creates
# get no table and ip_vs's read-only sysctls.
#
#   client 192.0.2.2 --- director (NAT, VIP 203.0.113.10:8080/8081) --- rs1..rs3
#                           | s0 203.0.113.33
#   peer 203.0.113.34: sends sync messages (tests/tools/syncmsg.py) to the
#   director's backup daemon, the fast way to fill its table with entries
#   of its service VIP:8080.
source "$(dirname "$0")/lib.sh"

SYNCMSG="$RVS_ROOT/tests/tools/syncmsg.py"
OUT=$(mktemp -d /tmp/rvs-conntab.XXXXXX)
trap 'cleanup_ns; unload_all >/dev/null 2>&1; rm -rf "$OUT"' EXIT
BUF=67108864

# conntab_setup IMPL: the topology above on IMPL, the director a sync
# backup whose socket holds a whole replay.
conntab_setup() {
	load_impl "$1"
	lvs_setup
	lvs_service -t nat rr
	sync_peer "$director"
	sysctl -qw net.core.rmem_max=$BUF
	ip netns exec "$director" sysctl -qw net.ipv4.vs.sync_sock_size=$BUF
	ip netns exec "$director" $IPVSADM --start-daemon backup --mcast-interface s0
}

# replay N [ENV...]: N established connections of VIP:8080 over the three
# real servers, synced to the director (ENV: SYNC_TIMEOUT, SYNC_CLIENT).
replay() {
	local n=$1
	shift
	env "$@" python3 "$SYNCMSG" gen "$OUT/stream" "$n" "$VIP:8080" \
		"${RS_IPS[0]}:8080" "${RS_IPS[1]}:8080" "${RS_IPS[2]}:8080"
	ip netns exec "$peer" python3 "$SYNCMSG" replay "$S1" "$OUT/stream" >/dev/null
}

# active: the director's established connections of VIP:8080.
active() {
	ip netns exec "$director" $IPVSADM -L -n -t "$VIP:8080" |
		awk '$1 == "->" && $2 != "RemoteAddress:Port" { n += $5 } END { print n + 0 }'
}
active_is() { [ "$(active)" = "$1" ]; }

# tab KEY: a figure of /proc/net/rvs_conn_tab (entries, buckets, max).
tab() { ip netns exec "$director" awk -v k="$1" '$1 == k { print $2 }' /proc/net/rvs_conn_tab; }
# fits: at most one entry a bucket on average, at least one in eight.
fits() {
	local b e
	b=$(tab buckets)
	e=$(tab entries)
	[ "$b" -ge "$e" ] && [ "$b" -le $((8 * e)) ]
}
shrunk() { [ "$(tab buckets)" -le 16384 ]; }

# client_loop: connections to VIP:8081 in rounds of 50 until $OUT/stop
# exists; a round whose 50 answers are not all real servers' names is
# recorded in $OUT/bad.
client_loop() {
	local k=0
	rm -f "$OUT/stop" "$OUT/bad"
	while [ ! -e "$OUT/stop" ]; do
		k=$((k + 1))
		if ! ip netns exec "$client" python3 "$LVS_PY" names "$VIP" 8081 50 >"$OUT/round" 2>&1 ||
			[ "$(grep -cx 'rs[123]' "$OUT/round")" != 50 ]; then
			{ echo "round $k:"; cat "$OUT/round"; } >>"$OUT/bad"
		fi
		echo "$k" >"$OUT/rounds"
	done
}

test_grow_shrink() {
	conntab_setup rvs
	expect_eq "buckets with the first service (conn_tab_bits 12)" 4096 "$(tab buckets)"
	client_loop &
	local loop=$!
	# The entries live 20 s: longer than the replay takes on the test
	# kernel. The checking kernels (make test-lockdep, test-kasan) run it
	# several times slower, and the first entries would be gone before the
	# last came (a lockdep run found 0 of 300,000): 120 s there.
	local ttl=20
	[ "${RVS_KERNEL_VARIANT:-test}" = test ] || ttl=120
	replay 300000 SYNC_TIMEOUT=$ttl SYNC_CLIENT=203.0.113.100
	wait_for 60 active_is 300000 || fail "$(active) of 300000 entries synced"
	# Grown as they came (at each tick, when they outnumber the buckets).
	wait_for 5 fits || fail "buckets: $(tab buckets) for $(tab entries) entries"
	local listed
	listed=$(ip netns exec "$director" awk '$5 == "1F90" && $8 == "ESTABLISHED"' /proc/net/ip_vs_conn | wc -l)
	expect_eq "synced entries listed" 300000 "$listed"
	# They expire after their timeout; the table shrinks to its entries
	# (the client's, a few thousand at most).
	wait_for $((ttl + 40)) active_is 0 || fail "$(active) synced entries left after their timeout"
	wait_for 5 shrunk || true
	local b e
	b=$(tab buckets)
	e=$(tab entries)
	echo "after expiry: $e entries, $b buckets"
	[ "$b" -le 16384 ] || fail "the table did not shrink: $b buckets for $e entries"
	[ "$b" -ge "$e" ] || fail "$b buckets for $e entries"
	touch "$OUT/stop"
	wait "$loop"
	echo "client rounds of 50 connections: $(cat "$OUT/rounds")"
	[ "$(cat "$OUT/rounds")" -ge 3 ] || fail "the client loop hardly ran"
	if [ -e "$OUT/bad" ]; then
		cat "$OUT/bad"
		fail "client connections failed while the table was resized"
	fi
	cleanup_ns
	unload_all
}

# listing FILE: /proc/net/FILE in the director, the Expires column (the
# last eight characters of a line) masked, lines sorted after the header.
listing() {
	ip netns exec "$director" cat "/proc/net/$1" >"$OUT/raw"
	head -n1 "$OUT/raw"
	tail -n +2 "$OUT/raw" | sed -E 's/.{8}$/ EXPIRE/' | LC_ALL=C sort
}

test_listing() {
	local impl f
	for impl in ip_vs rvs; do
		conntab_setup "$impl"
		replay 50000 SYNC_CLIENT=203.0.113.100
		wait_for 60 active_is 50000 || fail "$impl: $(active) of 50000 entries synced"
		for f in ip_vs_conn ip_vs_conn_sync; do
			listing "$f" >"$OUT/$impl.$f"
		done
		[ "$impl" = ip_vs ] || break
		cleanup_ns
		unload_all
	done
	for f in ip_vs_conn ip_vs_conn_sync; do
		expect_eq "$f lines" 50001 "$(wc -l <"$OUT/rvs.$f")"
		cmp "$OUT/ip_vs.$f" "$OUT/rvs.$f" || fail "$f differs from ip_vs.ko's"
	done
	head -n3 "$OUT/rvs.ip_vs_conn_sync"

	# A reader that stops halfway while the table grows (from 50,000
	# entries to 150,000) lists each entry there all along once.
	wait_for 5 fits || fail "buckets: $(tab buckets) for $(tab entries) entries"
	local before
	before=$(tab buckets)
	rm -f "$OUT/half" "$OUT/go"
	ip netns exec "$director" python3 - "$OUT" <<'EOF' &
import os, sys, time
out = sys.argv[1]
with open("/proc/net/ip_vs_conn", "rb", buffering=0) as f:
    data = b""
    while len(data) < 2_300_000:
        data += f.read(4096)
    open(os.path.join(out, "half"), "w").close()
    while not os.path.exists(os.path.join(out, "go")):
        time.sleep(0.05)
    while True:
        b = f.read(4096)
        if not b:
            break
        data += b
open(os.path.join(out, "paused"), "wb").write(data)
EOF
	local reader=$!
	wait_for 30 test -e "$OUT/half" || fail "the reader did not get halfway"
	replay 100000 SYNC_CLIENT=203.0.113.150
	wait_for 60 active_is 150000 || fail "$(active) of 150000 entries synced"
	wait_for 5 fits || fail "buckets: $(tab buckets) for $(tab entries) entries"
	echo "buckets while the reader paused: $before, then $(tab buckets)"
	[ "$(tab buckets)" -gt "$before" ] || fail "the table did not grow"
	touch "$OUT/go"
	wait "$reader"
	tail -n +2 "$OUT/paused" | sed -E 's/.{8}$/ EXPIRE/' | LC_ALL=C sort >"$OUT/paused.sorted"
	local dups
	dups=$(uniq -d "$OUT/paused.sorted" | wc -l)
	expect_eq "lines listed twice" 0 "$dups"
	tail -n +2 "$OUT/rvs.ip_vs_conn" | LC_ALL=C comm -23 - "$OUT/paused.sorted" >"$OUT/lost"
	expect_eq "entries of before the pause not listed" 0 "$(wc -l <"$OUT/lost")"
	echo "paused reader: $(wc -l <"$OUT/paused.sorted") lines (50000 before, 150000 after)"
	cleanup_ns
	unload_all
}

# netns_mem IMPL: 1,000 network namespaces made in a user namespace by
# an unprivileged process (uid 65534); prints the kernel memory they took
# (slab, per-CPU, vmalloc, stacks and page tables, in KiB a namespace) and
# how many of them have a connection table (rvs.ko).
netns_mem() {
	[ "$1" = none ] && unload_all || load_impl "$1"
	setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r python3 - "$1" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def kernel_kb():
    kb = 0
    for l in open("/proc/meminfo"):
        k, v = l.split()[:2]
        if k in ("Slab:", "Percpu:", "VmallocUsed:", "KernelStack:", "PageTables:"):
            kb += int(v)
    return kb
fds, before, tables = [], kernel_kb(), 0
for i in range(1000):
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        sys.exit(f"unshare: {os.strerror(ctypes.get_errno())}")
    fds.append(os.open("/proc/self/ns/net", os.O_RDONLY))
    if sys.argv[1] == "rvs":
        for l in open("/proc/self/net/rvs_conn_tab"):
            k, v = l.split()
            if k == "buckets" and v != "0":
                tables += 1
after = kernel_kb()
print(f"{sys.argv[1]} {(after - before) / 1000:.1f} {tables}")
EOF
}


test_unpriv() {
	local impl line
	declare -A kib
	for impl in none ip_vs rvs; do
		# The namespaces of the previous round are freed in the
		# background: measure once that is over.
		settle_kernel_mem
		line=$(netns_mem "$impl")
		echo "$line"
		read -r _ kib[$impl] tables <<<"$line"
		[ "$impl" != rvs ] || expect_eq "namespaces with a connection table" 0 "$tables"
	done
	echo "| 1,000 netns of an unprivileged user | none | ip_vs.ko | rvs.ko |"
	echo "|---|---|---|---|"
	echo "| KiB a namespace | ${kib[none]} | ${kib[ip_vs]} | ${kib[rvs]} |"
	# Beside ip_vs.ko's, less than the 32 KiB table every namespace had
	# before.
	awk -v a="${kib[rvs]}" -v i="${kib[ip_vs]}" 'BEGIN { exit !(a - i < 32) }' ||
		fail "rvs.ko takes $(awk -v a="${kib[rvs]}" -v i="${kib[ip_vs]}" 'BEGIN { print a - i }') KiB a namespace more than ip_vs.ko"

	# The sysctls writable there: the same on both modules (ip_vs makes
	# sync_qlen_max, sync_sock_size and run_estimation read-only, and its
	# lblc and lblcr schedulers, loaded by load_impl, show theirs only in
	# namespaces of the machine's owner).
	for impl in ip_vs rvs; do
		load_impl "$impl"
		ls /proc/sys/net/ipv4/vs | LC_ALL=C sort >"$OUT/names.$impl"
		unshare -U -r -n sh -c '
			cd /proc/sys/net/ipv4/vs
			for f in *; do
				v=$(cat "$f")
				if (echo "$v" >"$f") 2>/dev/null; then echo "$f rw"; else echo "$f ro"; fi
			done' >"$OUT/unpriv.$impl"
	done
	# Compared on the names both have (rvs has fewer, and one of its own).
	LC_ALL=C comm -12 "$OUT/names.ip_vs" "$OUT/names.rvs" >"$OUT/names.common"
	for impl in ip_vs rvs; do
		awk 'NR == FNR { n[$1] = 1; next } $1 in n' "$OUT/names.common" "$OUT/unpriv.$impl" \
			>"$OUT/unpriv.$impl.common"
	done
	cat "$OUT/unpriv.rvs.common"
	expect_eq "sysctls compared" 24 "$(wc -l <"$OUT/unpriv.rvs.common")"
	cmp "$OUT/unpriv.ip_vs.common" "$OUT/unpriv.rvs.common" || fail "writable sysctls differ from ip_vs.ko's"
	grep -qx "sync_qlen_max ro" "$OUT/unpriv.rvs"
	for impl in ip_vs rvs; do
		grep -qx lblc_expiration "$OUT/names.$impl" || fail "$impl: no lblc_expiration"
		! grep -q '^lblcr\?_expiration ' "$OUT/unpriv.$impl" ||
			fail "$impl: lblc(r)_expiration in an unprivileged user's namespace"
	done
	grep -qx "sloppy_tcp rw" "$OUT/unpriv.rvs"
	# In the initial namespace all are writable.
	echo 0 >/proc/sys/net/ipv4/vs/run_estimation
	echo 1 >/proc/sys/net/ipv4/vs/run_estimation
	unload_all
}

# legit_loop SECS: a client connecting to VIP:8081 one connection at a
# time for SECS s (each given 2 s); prints "OK TRIED".
legit_loop() {
	ip netns exec "$client" python3 - "$VIP" "$1" <<'EOF'
import socket, sys, time
end, ok, tried = time.time() + float(sys.argv[2]), 0, 0
while time.time() < end:
    tried += 1
    try:
        s = socket.create_connection((sys.argv[1], 8081), timeout=2)
        s.settimeout(2)
        if s.recv(100).strip().startswith(b"rs"):
            ok += 1
        s.close()
    except OSError:
        time.sleep(0.05)
print(ok, tried)
EOF
}

# flood NAME: a SYN flood to VIP:8080 from 100 spoofed addresses (nobody
# answers for them: entries stay in SYN_RECV) while a client connects in a
# loop; records the client's share of connections served in SHARE[NAME].
flood() {
	local mac res ok tried
	mac=$(ip -n "$director" -o link show d0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip netns exec "$client" python3 "$RVS_ROOT/tests/tools/badpkt.py" c0 "$mac" 192.0.2.100 "$VIP" 8080 \
		synflood-for 22 >"$OUT/flood" &
	local f=$!
	sleep 2
	res=$(legit_loop 15)
	wait "$f"
	read -r ok tried <<<"$res"
	SHARE[$1]=$(awk -v a="$ok" -v b="$tried" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
	echo "$1: $(cat "$OUT/flood"); the client: $ok of $tried connections served (${SHARE[$1]}%)"
	[ "${1%%-*}" != rvs ] || ip netns exec "$director" cat /proc/net/rvs_conn_tab
}

test_flood() {
	declare -gA SHARE
	local impl def mem
	mem=$(awk '/^MemAvailable:/ { print int($2 / 4) }' /proc/meminfo)
	for impl in ip_vs rvs; do
		for def in off on; do
			load_impl "$impl"
			lvs_setup
			lvs_service -t nat rr
			# The modes are 0 to 3 on both: 4 is refused (EINVAL).
			local m err
			for m in drop_entry drop_packet; do
				err=$(ip netns exec "$director" sysctl -w "net.ipv4.vs.$m=4" 2>&1) &&
					fail "$impl: $m=4 taken"
				[[ $err == *"Invalid argument"* ]] || fail "$impl: $m=4: $err"
				expect_eq "$impl: $m after 4" 0 "$(ip netns exec "$director" cat /proc/sys/net/ipv4/vs/$m)"
			done
			case $impl-$def in
			# ip_vs's defences, memory short for them (amemthresh
			# above what is available): drop_entry, drop_packet.
			ip_vs-on)
				ip netns exec "$director" sysctl -qw net.ipv4.vs.amemthresh=$((mem * 2)) \
					net.ipv4.vs.drop_entry=1 net.ipv4.vs.drop_packet=1 ;;
			# rvs: the table capped at 2,000 entries; with its
			# defence, a new connection takes an embryonic one's place.
			rvs-off)
				ip netns exec "$director" sysctl -qw net.ipv4.vs.conn_max=2000 \
					net.ipv4.vs.evict_on_full=0 ;;
			rvs-on)
				ip netns exec "$director" sysctl -qw net.ipv4.vs.conn_max=2000 ;;
			esac
			# The namespace's tick takes the settings within a second.
			sleep 1.2
			flood "$impl-$def"
			cleanup_ns
			unload_all
		done
	done
	echo "| SYN flood, a client connecting meanwhile | defences off | on |"
	echo "|---|---|---|"
	echo "| ip_vs.ko (no bound on its table; on: drop_entry, drop_packet, memory short) | ${SHARE[ip_vs-off]}% | ${SHARE[ip_vs-on]}% |"
	echo "| rvs.ko (conn_max 2000; on: evict_on_full) | ${SHARE[rvs-off]}% | ${SHARE[rvs-on]}% |"
	awk -v r="${SHARE[rvs-on]}" -v i="${SHARE[ip_vs-on]}" 'BEGIN { exit !(r >= 99 && r >= i) }' ||
		fail "rvs.ko with its defence served ${SHARE[rvs-on]}% of the client's connections"
	# Without it the flood locks the client out: the test can fail.
	awk -v r="${SHARE[rvs-off]}" 'BEGIN { exit !(r < 50) }' ||
		fail "rvs.ko without its defence served ${SHARE[rvs-off]}%: the flood did not fill the table"
}

# handshake: a NAT connection to VIP:8080 (the echo server) held open;
# prints the director's state for it after the client's ACK, then after a
# byte echoed back (each awaited up to 5 s as the states of ip_vs's tables
# have it: HS, then EST).
handshake() {
	ip netns exec "$client" python3 - "$VIP" "$director" "$1" "$2" <<'EOF2'
import socket, subprocess, sys, time
vip, ns, hs, est = sys.argv[1:5]
def state(port, want):
    end, st = time.time() + 5, "none"
    while True:
        out = subprocess.run(["ip", "netns", "exec", ns, "ipvsadm", "-L", "-c", "-n"],
                             capture_output=True, text=True).stdout
        st = next((l.split()[2] for l in out.splitlines()
                   if len(l.split()) > 3 and l.split()[3] == "192.0.2.2:%d" % port), "none")
        if st == want or time.time() > end:
            return st
        time.sleep(0.05)
s = socket.create_connection((vip, 8080), timeout=5)
port = s.getsockname()[1]
a = state(port, hs)
s.sendall(b"x")
s.recv(1)
print(a, state(port, est))
s.close()
EOF2
}

# secure_in_force IMPL 0|1: rvs.ko takes a mode at its next tick (within a
# second; /proc/net/rvs_conn_tab shows it), ip_vs.ko at the write.
secure_in_force() {
	[ "$1" = ip_vs ] ||
		wait_for 5 sh -c "ip netns exec $director awk '\$1 == \"secure_tcp\" { exit \$2 != $2 }' /proc/net/rvs_conn_tab" ||
		fail "rvs: secure_tcp not $2 in force"
}

test_secure_tcp() {
	local impl mem r
	mem=$(awk '/^MemAvailable:/ { print int($2 / 4) }' /proc/meminfo)
	for impl in ip_vs rvs; do
		load_impl "$impl"
		lvs_setup
		lvs_service -t nat rr
		r=$(handshake ESTABLISHED ESTABLISHED)
		expect_eq "$impl: secure_tcp 0: after the handshake, after an answer" "ESTABLISHED ESTABLISHED" "$r"
		# 3: the client's ACK leaves it half-open (SYNACK) until the
		# real server sends.
		dir sysctl -qw net.ipv4.vs.secure_tcp=3
		secure_in_force "$impl" 1
		r=$(handshake SYNACK ESTABLISHED)
		expect_eq "$impl: secure_tcp 3" "SYNACK ESTABLISHED" "$r"
		# 1 with memory short (amemthresh above what is available):
		# in force, the mode reads 2; back to 1 when memory is plenty.
		dir sysctl -qw net.ipv4.vs.secure_tcp=0
		secure_in_force "$impl" 0
		dir sysctl -qw net.ipv4.vs.amemthresh=$((mem * 2)) net.ipv4.vs.secure_tcp=1
		wait_for 5 sh -c "[ \$(ip netns exec $director cat /proc/sys/net/ipv4/vs/secure_tcp) = 2 ]" ||
			fail "$impl: secure_tcp 1 with memory short does not read 2"
		secure_in_force "$impl" 1
		r=$(handshake SYNACK ESTABLISHED)
		expect_eq "$impl: secure_tcp 1, memory short" "SYNACK ESTABLISHED" "$r"
		dir sysctl -qw net.ipv4.vs.amemthresh=1024
		wait_for 5 sh -c "[ \$(ip netns exec $director cat /proc/sys/net/ipv4/vs/secure_tcp) = 1 ]" ||
			fail "$impl: secure_tcp 2 with memory plenty does not read 1"
		secure_in_force "$impl" 0
		r=$(handshake ESTABLISHED ESTABLISHED)
		expect_eq "$impl: secure_tcp back to 1" "ESTABLISHED ESTABLISHED" "$r"
		# 4 is refused.
		dir sysctl -qw net.ipv4.vs.secure_tcp=4 2>/dev/null && fail "$impl: secure_tcp=4 taken"
		expect_eq "$impl: secure_tcp after 4" 1 "$(dir cat /proc/sys/net/ipv4/vs/secure_tcp)"
		cleanup_ns
		unload_all
	done
}

tap_case "the table grows with 300,000 synced entries (at most one a bucket) and shrinks when they expire; 50-connection rounds meanwhile all served" test_grow_shrink
tap_case "ip_vs_conn and ip_vs_conn_sync at 50,000 entries: ip_vs.ko's lines; a reader paused across a resize lists each entry once" test_listing
tap_case "a SYN flood into a full table (conn_max 2000): a client connecting meanwhile is served (evict_on_full), not without; ip_vs.ko beside" test_flood
tap_case "secure_tcp 0, 3 and 1 (memory short and plenty): a NAT handshake's states, ip_vs.ko's and rvs.ko's" test_secure_tcp
tap_case "1,000 namespaces of an unprivileged user: no connection table, ip_vs's read-only sysctls" test_unpriv
tap_done
