# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers of the rvs VM tests (kselftest style): TAP output, module
# handling, network namespaces and the LVS topology. Sourced by each
# tests/t-*.sh; they run as root inside the test VM.
#
#                 client side                   real-server segment
#   +--------+   192.0.2.0/24   +----------+  198.51.100.0/24 (bridge br0)
#   | client |------------------| director |---+---------+---------+
#   +--------+ .2            .1 +----------+ .1|         |         |
#   2001:db8:1::2   2001:db8:1::1   2001:db8:2::1  +-----+   +-----+   +-----+
#                                                 | rs1 |   | rs2 |   | rs3 |
#   VIP: 203.0.113.10, 2001:db8:10::10            +-----+   +-----+   +-----+
#                                                  .11/::11  .12/::12  .13/::13

ksft_skip=4
RVS_ROOT=${RVS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# RVS_KO: the module to test (make bench: one built for the benchmark kernel).
RVS_KO=${RVS_KO:-$RVS_ROOT/rvs.ko}
RVSADM="$RVS_ROOT/tool/target/release/rvsadm"
IPVSADM=${IPVSADM:-ipvsadm}

CLIENT_IP=192.0.2.2
DIR_CLIENT_IP=192.0.2.1
DIR_RS_IP=198.51.100.1
RS_IPS=(198.51.100.11 198.51.100.12 198.51.100.13)
VIP=203.0.113.10
CLIENT_IP6=2001:db8:1::2
DIR_CLIENT_IP6=2001:db8:1::1
DIR_RS_IP6=2001:db8:2::1
RS_IP6S=(2001:db8:2::11 2001:db8:2::12 2001:db8:2::13)
VIP6=2001:db8:10::10

# ---- TAP ------------------------------------------------------------------
tap_n=0
tap_failed=0
tap_log_dir=$(mktemp -d /tmp/rvs-tap.XXXXXX)

# tap_case NAME FUNC [ARGS...]: run FUNC in a subshell with errexit; print
# one TAP line; on failure the case's output follows as TAP comments. FUNC
# returning 4 is a skip.
tap_case() {
	local name=$1
	shift
	# RVS_CASE_FILTER=REGEX runs only the matching cases (development).
	if [ -n "${RVS_CASE_FILTER:-}" ] && ! [[ $name =~ $RVS_CASE_FILTER ]]; then
		return 0
	fi
	tap_n=$((tap_n + 1))
	local log="$tap_log_dir/$tap_n.log"
	local rc t0=$SECONDS
	# Not `( ... ) || rc=$?`: errexit is ignored inside a subshell that is
	# the left side of `||`, and a failing step would go unnoticed.
	(set -eE -o pipefail; "$@") >"$log" 2>&1
	rc=$?
	# A failed case may leave its namespaces (their names are lost with the
	# subshell); they would hold modules and disturb the next case.
	# (Unless the file shares one topology between its cases:
	# RVS_KEEP_NS=1.)
	local ns
	if [ -z "${RVS_KEEP_NS:-}" ]; then
		for ns in $(ip netns list 2>/dev/null | awk '/^rvs-/ {print $1}'); do
			ip netns del "$ns" 2>/dev/null
		done
	fi
	if [ "$rc" = 0 ]; then
		echo "ok $tap_n - $name ($((SECONDS - t0)) s)"
	elif [ "$rc" = "$ksft_skip" ]; then
		echo "ok $tap_n - $name # SKIP $(tail -n1 "$log")"
	else
		echo "not ok $tap_n - $name (exit $rc)"
		sed 's/^/# /' "$log" | tail -n 60
		tap_failed=$((tap_failed + 1))
	fi
	[ -n "${RVS_VERBOSE:-}" ] && sed 's/^/#   /' "$log"
	return 0
}

# tap_done: the plan line and the merged status; call last.
tap_done() {
	echo "1..$tap_n"
	rm -rf "$tap_log_dir"
	[ "$tap_failed" = 0 ]
}

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: expected:" >&2
		printf '%s\n' "$2" | sed 's/^/    |/' >&2
		echo "  got:" >&2
		printf '%s\n' "$3" | sed 's/^/    |/' >&2
		return 1
	fi
}

# wait_for TIMEOUT_S CMD...: poll CMD until it succeeds (bounded).
wait_for() {
	local t=$1
	shift
	local end=$((SECONDS + t))
	until "$@" 2>/dev/null; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# ---- modules --------------------------------------------------------------
module_loaded() { grep -q "^$1 " /proc/modules; }

# unload_all: neither rvs nor ip_vs (nor its schedulers) loaded.
unload_all() {
	local m
	# A table keeps ip_vs's scheduler modules in use: empty it first.
	if module_loaded ip_vs; then
		ipvsadm -C 2>/dev/null || true
		ipvsadm --stop-daemon master 2>/dev/null || true
		ipvsadm --stop-daemon backup 2>/dev/null || true
	fi
	if module_loaded rvs; then rmmod rvs; fi
	for m in $(awk '/^ip_vs/ {print $1}' /proc/modules); do
		[ "$m" = ip_vs ] || rmmod "$m"
	done
	if module_loaded ip_vs; then rmmod ip_vs; fi
	! module_loaded rvs && ! module_loaded ip_vs
}

# load_impl rvs|ip_vs [PARAMS...]: load one implementation of the IPVS
# family, the other one absent.
load_impl() {
	local impl=$1
	shift
	unload_all
	case "$impl" in
	rvs) insmod "$RVS_KO" "$@" ;;
	ip_vs)
		modprobe ip_vs "$@"
		# Its schedulers up front: ip_vs.ko loads one by request_module
		# under __ip_vs_mutex, which deadlocks with a namespace's cleanup
		# (cleanup_net holds pernet_ops_rwsem for reading and waits for
		# the mutex in ip_vs_dst_event; the scheduler's init waits for
		# pernet_ops_rwsem). make test once sat 30 minutes in it
		# (t-ctl, `-s lblc`). rvs.ko's schedulers are built in.
		modprobe -a ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr \
			ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_twos
		;;
	*) fail "unknown implementation $impl" ;;
	esac
}

# ---- kmemleak -------------------------------------------------------------
KMEMLEAK=/sys/kernel/debug/kmemleak

# kmemleak_begin: forget what kmemleak found so far.
# On the KASAN kernel (RVS_KERNEL_VARIANT=kasan, `make test-kasan`), which
# has no kmemleak (the test kernel's runs check leaks), both only say so.
kmemleak_begin() {
	if [ "${RVS_KERNEL_VARIANT:-test}" = kasan ]; then
		echo "kmemleak: not in the KASAN kernel (make test checks leaks)"
		return 0
	fi
	# (tests/run.sh boots the VMs of files that never call kmemleak_check
	# with kmemleak=off: it costs every allocation.)
	[ -w "$KMEMLEAK" ] || fail "no $KMEMLEAK (the test kernel has CONFIG_DEBUG_KMEMLEAK; booted with kmemleak=off?)"
	echo scan=off >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	echo clear >"$KMEMLEAK"
}

# kmemleak_check: fail, printing the reports, if anything allocated since
# kmemleak_begin is now unreferenced (objects must be 5 s old to count).
kmemleak_check() {
	[ "${RVS_KERNEL_VARIANT:-test}" != kasan ] || return 0
	sleep 6
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	local report
	report=$(cat "$KMEMLEAK")
	if [ -n "$report" ]; then
		echo "$report" | head -n 80
		fail "kmemleak reports unreferenced objects"
	fi
	echo "kmemleak: no leak"
}

# ---- UDP sinks, TCP servers (benchmarks) -------------------------------------
# udp_sinks PORT SECS DIR: rvsload's udp-sink on PORT for SECS seconds in
# each real server ($rs1..$rs3, $LOAD set by the caller), started in the
# background; udp_sinks_wait DIR waits for them (in this shell, not in a
# $(...)) and leaves the datagrams they counted in all in SINK_TOTAL.
udp_sinks() {
	local i rss=("$rs1" "$rs2" "$rs3")
	SINK_PIDS=()
	for i in 0 1 2; do
		ip netns exec "${rss[$i]}" "$LOAD" udp-sink "$1" "$2" >"$3/sink$i" &
		SINK_PIDS+=($!)
	done
}
udp_sinks_wait() {
	wait "${SINK_PIDS[@]}"
	SINK_TOTAL=$(($(cat "$1/sink0") + $(cat "$1/sink1") + $(cat "$1/sink2")))
}

# tcp_servers PORT: rvsload's tcp-serve (reads and drops what it is sent)
# on PORT in each real server, in the background for the rest of the
# script; returns once all three listen.
tcp_servers() {
	local ns
	for ns in "$rs1" "$rs2" "$rs3"; do
		ip netns exec "$ns" "$LOAD" tcp-serve "$1" </dev/null >/dev/null 2>&1 &
	done
	for ns in "$rs1" "$rs2" "$rs3"; do
		wait_for 20 ip netns exec "$ns" sh -c "ss -Htln | grep -q ':$1 '" ||
			fail "no TCP server on port $1 in $ns"
	done
}

# kmem_kb: the kernel's own memory now (slab, per-CPU, vmalloc, stacks,
# page tables), in kB.
kmem_kb() { awk '$1 ~ /^(Slab|Percpu|VmallocUsed|KernelStack|PageTables):$/ { n += $2 } END { print n }' /proc/meminfo; }

# settle_kernel_mem: waits (20 s at most) until the kernel's own memory
# stops shrinking (by less than 1 MB a second): what was just freed (RCU
# callbacks, work items) does not count against what is measured next.
settle_kernel_mem() {
	local a b i
	for i in $(seq 20); do
		a=$(kmem_kb)
		sleep 1
		b=$(kmem_kb)
		[ $((a - b)) -gt 1024 ] || return 0
	done
}

# dir CMD...: CMD in the director's namespace; cli CMD...: in the client's.
dir() { ip netns exec "$director" "$@"; }
cli() { ip netns exec "$client" "$@"; }

# ---- namespaces -----------------------------------------------------------
RVS_NS=()

# setup_ns VAR...: create namespaces with random names, store the names in
# the variables; they are removed by cleanup_ns.
setup_ns() {
	local v name
	for v in "$@"; do
		name="rvs-$v-$(mktemp -u XXXXXX)"
		ip netns add "$name" || return 1
		ip -n "$name" link set lo up
		RVS_NS+=("$name")
		printf -v "$v" '%s' "$name"
	done
}

cleanup_ns() {
	local ns
	for ns in "${RVS_NS[@]}"; do
		# A test may have deleted one itself.
		ip netns del "$ns" 2>/dev/null || true
	done
	RVS_NS=()
}

# setup_topology: client, director and rs1..rs3 as in the diagram; sets
# $client $director $rs1 $rs2 $rs3.
setup_topology() {
	setup_ns client director rs1 rs2 rs3 || return 1
	ip link add c0 netns "$client" type veth peer name d0 netns "$director"
	ip -n "$client" addr add "$CLIENT_IP/24" dev c0
	ip -n "$client" addr add "$CLIENT_IP6/64" dev c0 nodad
	ip -n "$client" link set c0 up
	ip -n "$client" route add default via "$DIR_CLIENT_IP"
	ip -n "$client" -6 route add default via "$DIR_CLIENT_IP6"
	ip -n "$director" addr add "$DIR_CLIENT_IP/24" dev d0
	ip -n "$director" addr add "$DIR_CLIENT_IP6/64" dev d0 nodad
	ip -n "$director" link set d0 up
	ip -n "$director" link add br0 type bridge
	ip -n "$director" addr add "$DIR_RS_IP/24" dev br0
	ip -n "$director" addr add "$DIR_RS_IP6/64" dev br0 nodad
	ip -n "$director" link set br0 up
	ip netns exec "$director" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$director" sysctl -qw net.ipv6.conf.all.forwarding=1
	local i ns rss=("$rs1" "$rs2" "$rs3")
	for i in 0 1 2; do
		ns=${rss[$i]}
		ip link add eth0 netns "$ns" type veth peer name "p$i" netns "$director"
		ip -n "$director" link set "p$i" master br0 up
		ip -n "$ns" addr add "${RS_IPS[$i]}/24" dev eth0
		ip -n "$ns" addr add "${RS_IP6S[$i]}/64" dev eth0 nodad
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via "$DIR_RS_IP"
		ip -n "$ns" -6 route add default via "$DIR_RS_IP6"
	done
}

# ---- the data plane ---------------------------------------------------------
# lvs_director: the director answers for the VIP (on its loopback), and
# takes replies whose source is the VIP (DR and TUN real servers answer from
# it through the director, their only router here).
lvs_director() {
	ip -n "$director" addr add "$VIP/32" dev lo
	ip -n "$director" addr add "$VIP6/128" dev lo
	ip netns exec "$director" sysctl -qw net.ipv4.conf.all.accept_local=1
	ip netns exec "$director" sysctl -qw net.ipv4.conf.br0.accept_local=1
	ip netns exec "$director" sysctl -qw net.ipv4.conf.all.rp_filter=0
	ip netns exec "$director" sysctl -qw net.ipv4.conf.br0.rp_filter=0
}

# lvs_real_servers: the real servers set up for the three methods at once,
# in both families. NAT needs nothing more (their default route is the
# director); DR needs the VIP on a non-ARPing loopback (an address on lo
# gets no IPv6 neighbour advertisement on eth0); TUN the ipip device tunl0
# up, which then decapsulates packets for the VIP (IPv6 tunnels:
# lvs_tunnels6).
lvs_real_servers() {
	local i ns rss=("$rs1" "$rs2" "$rs3")
	for i in 0 1 2; do
		ns=${rss[$i]}
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_announce=2
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
		ip -n "$ns" addr add "$VIP/32" dev lo
		ip -n "$ns" addr add "$VIP6/128" dev lo
		ip -n "$ns" link add tunl0 type ipip 2>/dev/null || true
		ip -n "$ns" link set tunl0 up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.tunl0.rp_filter=0
	done
}

# lvs_tunnels6: on the real servers, the ends of the director's IPv6
# tunnels: an ip6tnl device t6 of mode "any" (IPv6 or IPv4 inside IPv6)
# and a sit device sit1 (IPv6 inside IPv4), both from the director. (Only
# where a test uses them: a tunnel device sends the link's own IPv6
# traffic, and logs when its local address goes.)
lvs_tunnels6() {
	local i ns rss=("$rs1" "$rs2" "$rs3")
	for i in 0 1 2; do
		ns=${rss[$i]}
		ip -n "$ns" link add t6 type ip6tnl mode any local "${RS_IP6S[$i]}" remote "$DIR_RS_IP6"
		ip -n "$ns" link set t6 up
		ip -n "$ns" link add sit1 type sit local "${RS_IPS[$i]}" remote "$DIR_RS_IP"
		ip -n "$ns" link set sit1 up
	done
}

# rs_servers CMD PORT READY: on every real server rsN, tests/tools/lvs.py
# CMD PORT rsN with its addresses and the VIPs; returns once the shell
# test READY holds in each of them.
LVS_PY="$RVS_ROOT/tests/tools/lvs.py"
rs_servers() {
	local i ns rss=("$rs1" "$rs2" "$rs3")
	for i in 0 1 2; do
		ip netns exec "${rss[$i]}" python3 "$LVS_PY" "$1" "$2" "rs$((i + 1))" \
			"${RS_IPS[$i]}" "$VIP" "${RS_IP6S[$i]}" "$VIP6" </dev/null >/dev/null 2>&1 &
	done
	for ns in "${rss[@]}"; do
		wait_for 20 ip netns exec "$ns" sh -c "$3" || fail "no $1 in $ns"
	done
}

# lvs_servers PORT: on every real server rsN, TCP and UDP echo servers on
# PORT and servers answering "rsN" on PORT+1.
lvs_servers() { rs_servers serve "$1" "ss -Htln | grep -q ':$(($1 + 1)) '"; }

# lvs_sctp_servers: on rsN, SCTP servers echoing on 8080 and answering
# "rsN" on 8081, one for each of its addresses and the VIPs (each bound
# to its address alone, so that an association keeps to the path the
# director forwards).
lvs_sctp_servers() {
	modprobe sctp
	rs_servers sctp-serve 8080 "[ \$(grep -c . /proc/net/sctp/eps) -gt 8 ]"
}

# sctp_echo ADDR PORT SRC SIZE [SPORT]: SIZE random bytes over one SCTP
# association from the client's address SRC (port SPORT, else any) to
# ADDR:PORT and back, compared ($OUT: the test's directory).
sctp_echo() {
	head -c "$4" /dev/urandom >"$OUT/in"
	rm -f "$OUT/out"
	cli timeout 60 python3 "$LVS_PY" sctp-echo "$1" "$2" "$3" ${5:+"$5"} <"$OUT/in" >"$OUT/out"
	cmp "$OUT/in" "$OUT/out" || fail "SCTP $4 bytes to $1 port $2: the echo differs"
	echo "SCTP $4 bytes to $1 port $2: same bytes back"
}

# conns_total: the connections the director's service table counted, all
# real servers together; conns_are N: they are N (ip_vs.ko sums its
# per-CPU counters every 2 s: wait_for them).
conns_total() { dir $IPVSADM -L -n --stats --exact | awk '$1 == "->" { n += $3 } END { print n + 0 }'; }
conns_are() { [ "$(conns_total)" = "$1" ]; }

# lvs_service PROTO METHOD SCHED [WEIGHTS...]: on the director, the
# service PROTO (-t|-u) VIP:8080 and VIP:8081 with the three real servers
# (port 8080/8081) by METHOD (nat|dr|tun), weights 1 unless given.
lvs_service() {
	local proto=$1 method=$2 sched=$3
	shift 3
	local w=("${@:-1}") i port vip=$VIP rss=("${RS_IPS[@]}")
	if [ -n "${LVS_V6:-}" ]; then
		vip="[$VIP6]"
		rss=("[${RS_IP6S[0]}]" "[${RS_IP6S[1]}]" "[${RS_IP6S[2]}]")
	fi
	for port in 8080 8081; do
		ip netns exec "$director" $IPVSADM -A "$proto" "$vip:$port" -s "$sched"
		for i in 0 1 2; do
			ip netns exec "$director" $IPVSADM -a "$proto" "$vip:$port" \
				-r "${rss[$i]}:$port" "$(lvs_fwd_flag "$method")" -w "${w[$i]:-1}"
		done
	done
}

# use IMPL: an empty director on implementation IMPL (the previous case's
# table, left by a failure, emptied first: it holds scheduler modules).
use() {
	set_mtu 1500
	if module_loaded ip_vs || module_loaded rvs; then
		dir $IPVSADM -C 2>/dev/null || true
	fi
	load_impl "$1"
}

# set_mtu N: the MTU of the real servers' segment (the director's bridge
# and its ports, the real servers' links).
set_mtu() {
	ip -n "$director" link set br0 mtu "$1"
	local i ns rss=("$rs1" "$rs2" "$rs3")
	for i in 0 1 2; do
		ip -n "$director" link set "p$i" mtu "$1"
		ip -n "${rss[$i]}" link set eth0 mtu "$1"
	done
}

# offload on|off: TX checksum offload of the client's and real servers'
# veths (CHECKSUM_PARTIAL packets through the director, or complete ones).
offload() {
	ip netns exec "$client" ethtool -K c0 tx "$1" >/dev/null
	local ns
	for ns in "$rs1" "$rs2" "$rs3"; do
		ip netns exec "$ns" ethtool -K eth0 tx "$1" >/dev/null
	done
}

# picks IMPL NAME CMD...: the sequence of real servers CMD got, saved for
# the comparison of the two implementations.
picks() {
	local impl=$1 name=$2
	shift 2
	"$@" >"$OUT/$name.$impl"
	echo "$name on $impl: $(sort "$OUT/$name.$impl" | uniq -c | tr -s ' \n' ' ')"
}

# count NAME IMPL RS: how often RS was picked.
count() { grep -cx "$3" "$OUT/$1.$2" || true; }

# lvs_service6 PROTO METHOD SCHED [WEIGHTS...]: lvs_service on the IPv6
# VIP and the real servers' IPv6 addresses.
lvs_service6() { LVS_V6=1 lvs_service "$@"; }

# transfer tcp|udp SIZE [ADDR]: SIZE random bytes to ADDR (the VIP unless
# given; IPv4 or IPv6) port 8080 and back, compared ($OUT: the test's
# directory).
transfer() {
	local addr=${3:-$VIP}
	head -c "$2" /dev/urandom >"$OUT/in"
	rm -f "$OUT/out"
	if [ "$1" = tcp ]; then
		if [[ $addr == *:* ]]; then
			cli timeout 60 socat -t 20 - "TCP6:[$addr]:8080" <"$OUT/in" >"$OUT/out"
		else
			cli timeout 60 socat -t 20 - "TCP:$addr:8080" <"$OUT/in" >"$OUT/out"
		fi
	else
		cli timeout 20 python3 "$LVS_PY" udp "$addr" 8080 <"$OUT/in" >"$OUT/out"
	fi
	cmp "$OUT/in" "$OUT/out" || fail "$1 $2 bytes to $addr: the echo differs"
	echo "$1 $2 bytes to $addr: same bytes back"
}

# forward_round ADDR: TCP (1000 B, 300 kB) and UDP (1000 B, 3000 B:
# fragmented) to ADDR:8080 and back, checksum offload on and off.
forward_round() {
	local off
	for off in on off; do
		offload "$off"
		transfer tcp 1000 "$1"
		transfer tcp 300000 "$1"
		transfer udp 1000 "$1"
		transfer udp 3000 "$1"
	done
}

# tunnel_round ip|ip6 OPT [OFFLOADS]: TCP and UDP services on port 8080 of
# the VIP of that family over the real servers' addresses of that family
# by TUN with --tun-type OPT; 100 kB by TCP and 1000 B by UDP come back
# whole, with checksum offload in each of OFFLOADS ("on off" unless given),
# and OPT's kind of encapsulation reached the real servers (encap_count).
# The services are deleted again.
tunnel_round() {
	local p i off before vip=$VIP rss=("${RS_IPS[@]}")
	if [ "$1" = ip6 ]; then
		vip="[$VIP6]"
		rss=("[${RS_IP6S[0]}]" "[${RS_IP6S[1]}]" "[${RS_IP6S[2]}]")
	fi
	for p in -t -u; do
		dir $IPVSADM -A $p "$vip:8080" -s rr
		for i in 0 1 2; do
			# shellcheck disable=SC2086
			dir $IPVSADM -a $p "$vip:8080" -r "${rss[$i]}:8080" -i --tun-type $2
		done
	done
	before=$(encap_count "$1")
	for off in ${3:-on off}; do
		offload $off
		transfer tcp 100000 "${vip//[\[\]]/}"
		transfer udp 1000 "${vip//[\[\]]/}"
	done
	encap_grew "$2" "$before" "$(encap_count "$1")"
	dir $IPVSADM -C
}

# gre_csum_dev ip|ip6 add|del: on each real server a GRE (ip6gre) device
# of that family expecting checksums (icsum), or none. GRE with checksums
# is taken by such a tunnel (the fallback gre0/ip6gre0 drops them), and
# only by it.
gre_csum_dev() {
	local i rss=("$rs1" "$rs2" "$rs3") type=gre ips=("${RS_IPS[@]}")
	if [ "$1" = ip6 ]; then
		type=ip6gre
		ips=("${RS_IP6S[@]}")
	fi
	for i in 0 1 2; do
		ip -n "${rss[$i]}" link del grecsum 2>/dev/null || true
		[ "$2" = add ] || continue
		ip -n "${rss[$i]}" link add grecsum type "$type" local "${ips[$i]}" icsum
		ip -n "${rss[$i]}" link set grecsum up
		[ "$1" = ip6 ] || ip netns exec "${rss[$i]}" sysctl -qw net.ipv4.conf.grecsum.rp_filter=0
	done
}

# encap_receivers ip|ip6 on|off: on the real servers, the GUE port 6080
# (fou) and the fallback GRE device of that family, and an nft table
# rvs_encap counting what comes in by them (encap_count); off: all that
# removed again.
encap_receivers() {
	local ns fou6=() gre=gre0
	if [ "$1" = ip6 ]; then
		fou6=(-6)
		gre=ip6gre0
	fi
	for ns in "$rs1" "$rs2" "$rs3"; do
		if [ "$2" = off ]; then
			ip netns exec "$ns" nft delete table "$1" rvs_encap
			ip netns exec "$ns" ip fou del port 6080 "${fou6[@]}"
			ip -n "$ns" link set "$gre" down
			continue
		fi
		ip netns exec "$ns" ip fou add port 6080 gue "${fou6[@]}" 2>/dev/null || true
		ip -n "$ns" link set "$gre" up
		[ "$1" = ip6 ] || ip netns exec "$ns" sysctl -qw net.ipv4.conf.gre0.rp_filter=0
		ip netns exec "$ns" nft -f - <<-EOF
			table $1 rvs_encap {
				chain in {
					type filter hook input priority 0; policy accept;
					udp dport 6080 counter
					meta l4proto gre counter comment "gre"
				}
			}
		EOF
	done
}

# encap_count ip|ip6: the GUE (UDP port 6080) and GRE packets the real
# servers took in, all three together, as counted by their nft table
# rvs_encap of that family ("gue G gre R").
encap_count() {
	local ns
	for ns in "$rs1" "$rs2" "$rs3"; do
		ip netns exec "$ns" nft list table "$1" rvs_encap
	done | awk '/dport 6080/ { for (i = 1; i <= NF; i++) if ($i == "packets") g += $(i + 1) }
		    /"gre"/ { for (i = 1; i <= NF; i++) if ($i == "packets") r += $(i + 1) }
		    END { print "gue", g + 0, "gre", r + 0 }'
}

# encap_grew OPT BEFORE AFTER: the real servers' count of OPT's kind of
# encapsulation (gue or gre; BEFORE and AFTER lines "gue G gre R") grew,
# else the test fails.
encap_grew() {
	local kind=${1%% *}
	echo "$1: real servers' input before $2, after $3"
	[ "$(echo "$3" | awk -v k="$kind" '{ print (k == "gue" ? $2 : $4) }')" -gt \
		"$(echo "$2" | awk -v k="$kind" '{ print (k == "gue" ? $2 : $4) }')" ] ||
		fail "$1: no $kind packet reached the real servers"
}

# lvs_setup: topology, director and real servers for every method, the
# servers started.
lvs_setup() {
	setup_topology
	lvs_director
	lvs_real_servers
	lvs_servers 8080
}

# ---- two directors, for failover ---------------------------------------------
#
#   client 192.0.2.2 --- brf ---+-- dirA .11 / dirB .12 (the active one holds
#                               |   192.0.2.1, the client's gateway, and
#                               |   198.51.100.1, the real servers')
#   rs1..rs3 198.51.100.1x --- brb ---+-- dirA .2 / dirB .3
#   dirA s0 203.0.113.33 --- dirB s0 203.0.113.34 (the sync link)
# The sync link's addresses.
S0=203.0.113.33
S1=203.0.113.34
GW=192.0.2.1
RSGW=198.51.100.1

# sync_peer NS: a namespace $peer joined to NS by the sync link (NS's s0
# $S0, $peer's s1 $S1), to record or send sync messages.
sync_peer() {
	setup_ns peer
	ip link add s0 netns "$1" type veth peer name s1 netns "$peer"
	ip -n "$1" addr add "$S0/28" dev s0
	ip -n "$peer" addr add "$S1/28" dev s1
	ip -n "$1" link set s0 up
	ip -n "$peer" link set s1 up
}

# ha_topology PAYLOAD [METHOD]: the two directors above (namespaces
# $client $sw $dira $dirb $rs1..$rs3), each with the service VIP:9100 over
# the three real servers by METHOD (nat, the default, or dr), which serve
# the file PAYLOAD on port 9100; dirA holds the gateway addresses. (DR real
# servers answer from the VIP through the active director, their router.)
# rs_file_servers SW BR PFX GW METHOD FILE [OPTS]: the real servers rs1..rs3
# (RS_IPS, default route GW) on bridge BR of namespace SW, by ports PFX0..2;
# for METHOD dr they hold the VIP on lo and answer no ARP for it; each
# serves FILE on TCP 9100 (socat, OPTS added to its listen options).
# Returns once all three listen. (Their card is e0: eth0 is the VM's.)
rs_file_servers() {
	local sw=$1 br=$2 pfx=$3 gw=$4 method=$5 file=$6 opts=${7:-}
	local i ns rss=("$rs1" "$rs2" "$rs3")
	for i in 0 1 2; do
		ns=${rss[$i]}
		ip link add e0 netns "$ns" type veth peer name "$pfx$i" netns "$sw"
		ip -n "$sw" link set "$pfx$i" master "$br" up
		ip -n "$ns" addr add "${RS_IPS[$i]}/24" dev e0
		ip -n "$ns" link set e0 up
		ip -n "$ns" route add default via "$gw"
		if [ "$method" = dr ]; then
			ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1
			ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_announce=2
			ip -n "$ns" addr add "$VIP/32" dev lo
		fi
		ip netns exec "$ns" socat -U "TCP-LISTEN:9100,fork,reuseaddr$opts" OPEN:"$file",rdonly \
			</dev/null >/dev/null 2>&1 &
	done
	for ns in "${rss[@]}"; do
		wait_for 20 ip netns exec "$ns" sh -c "ss -Htln | grep -q ':9100 '" || fail "no server in $ns"
	done
}

ha_topology() {
	local method=${2:-nat}
	setup_ns client sw dira dirb rs1 rs2 rs3
	ip -n "$sw" link add brf type bridge
	ip -n "$sw" link add brb type bridge
	ip -n "$sw" link set brf up
	ip -n "$sw" link set brb up
	ip link add c0 netns "$client" type veth peer name c0s netns "$sw"
	ip -n "$sw" link set c0s master brf up
	ip -n "$client" addr add "$CLIENT_IP/24" dev c0
	ip -n "$client" link set c0 up
	ip -n "$client" route add default via "$GW"
	local d n=1 ns i
	for d in "$dira" "$dirb"; do
		n=$((n + 1))
		ip link add f0 netns "$d" type veth peer name "f$n" netns "$sw"
		ip link add b0 netns "$d" type veth peer name "b$n" netns "$sw"
		ip -n "$sw" link set "f$n" master brf up
		ip -n "$sw" link set "b$n" master brb up
		ip -n "$d" addr add "192.0.2.1$((n - 1))/24" dev f0
		ip -n "$d" addr add "198.51.100.$n/24" dev b0
		ip -n "$d" link set f0 up
		ip -n "$d" link set b0 up
		ip -n "$d" addr add "$VIP/32" dev lo
		ip netns exec "$d" sysctl -qw net.ipv4.ip_forward=1
		if [ "$method" = dr ]; then
			# Forward the real servers' replies from the VIP, a local address.
			ip netns exec "$d" sysctl -qw net.ipv4.conf.all.accept_local=1
			ip netns exec "$d" sysctl -qw net.ipv4.conf.b0.accept_local=1
			ip netns exec "$d" sysctl -qw net.ipv4.conf.all.rp_filter=0
			ip netns exec "$d" sysctl -qw net.ipv4.conf.b0.rp_filter=0
		fi
	done
	ip link add s0 netns "$dira" type veth peer name s0 netns "$dirb"
	ip -n "$dira" addr add "$S0/28" dev s0
	ip -n "$dirb" addr add "$S1/28" dev s0
	ip -n "$dira" link set s0 up
	ip -n "$dirb" link set s0 up
	rs_file_servers "$sw" brb r "$RSGW" "$method" "$1"
	for d in "$dira" "$dirb"; do
		ip netns exec "$d" $IPVSADM -A -t "$VIP:9100" -s rr
		for i in 0 1 2; do
			ip netns exec "$d" $IPVSADM -a -t "$VIP:9100" -r "${RS_IPS[$i]}:9100" "$(lvs_fwd_flag "$method")"
		done
	done
	take_over "$dira"
}

# take_over DIR: DIR holds the gateway addresses (as VRRP would move them)
# and the neighbours learn it (their caches flushed, as a gratuitous ARP
# does).
take_over() {
	local d
	for d in "$dira" "$dirb"; do
		ip -n "$d" addr del "$GW/24" dev f0 2>/dev/null || true
		ip -n "$d" addr del "$RSGW/24" dev b0 2>/dev/null || true
	done
	ip -n "$1" addr add "$GW/24" dev f0
	ip -n "$1" addr add "$RSGW/24" dev b0
	for d in "$client" "$rs1" "$rs2" "$rs3"; do
		ip -n "$d" neigh flush all
	done
}

# lvs_fwd_flag nat|dr|tun: ipvsadm's option for the method.
lvs_fwd_flag() {
	case "$1" in nat) echo -m ;; dr) echo -g ;; tun) echo -i ;; esac
}
