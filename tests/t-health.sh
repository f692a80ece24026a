#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Health checks on live traffic: Debian's keepalived (checkers only) drives
# the director with docs/keepalived-health.conf while a client opens a new
# HTTP connection to VIP:80 and VIP:81 every 100 ms. One at a time, each real
# server's service is killed (rs1 under TCP_CHECK, rs2 HTTP_GET, rs3
# MISC_CHECK) and started again; then two at once, so that the quorum is
# lost and the sorry server takes over.
#
# - a dead server leaves VIP:80 (weight 0 on VIP:81, inhibit_on_failure)
#   within the check interval, a check's connect timeout and a second for a
#   starved vCPU (3 s; 2.26 s seen once on a busy host), and is back within 5 s
#   when its service returns;
# - from the moment it is out until its service returns, every connection
#   is answered, and none by it (so none reached it);
# - without the quorum, VIP:80 is the sorry server's alone; VIP:81 is the
#   living server's;
# - the table at every step is the same on rvs.ko as on ip_vs.ko.
source "$(dirname "$0")/lib.sh"

command -v keepalived >/dev/null || { echo "no keepalived: make deps installs it"; exit $ksft_skip; }
OUT=$(mktemp -d /tmp/rvs-health.XXXXXX)
trap 'pkill -x keepalived 2>/dev/null; cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT
SORRY_IP=198.51.100.14

# The director's table without the counters (they depend on timing).
table() {
	ip netns exec "$director" $IPVSADM -L -n | awk '{ print $1, $2, $3, $4 }'
}
# snapshot LABEL: the table, labelled, appended to $OUT/$IMPL.tables.
snapshot() {
	{
		echo "== $1"
		table
	} >>"$OUT/$IMPL.tables"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# in_vs PORT ADDR [WEIGHT]: ADDR:80 is a real server of VIP:PORT (of that
# weight).
in_vs() {
	ip netns exec "$director" $IPVSADM -L -n -t "$VIP:$1" |
		awk -v a="$2:80" -v w="${3:-}" '$2 == a && (w == "" || $4 == w) { f = 1 } END { exit !f }'
}
out_of_vs() { ! in_vs "$@"; }

# serve I: the HTTP server of rs(I+1) (I 3: the sorry server) started.
SERVER_PID=()
serve() {
	local ns=${HOSTS[$1]} name=${NAMES[$1]}
	ip netns exec "$ns" python3 "$LVS_PY" http 80 "$name" </dev/null >/dev/null 2>&1 &
	SERVER_PID[$1]=$!
	wait_for 20 ip netns exec "$ns" sh -c "ss -Htln | grep -q ':80 '" || fail "no HTTP server in $name"
}
# kill_server I: its service dies (the listening socket closes at once).
kill_server() {
	kill -KILL "${SERVER_PID[$1]}"
	wait "${SERVER_PID[$1]}" 2>/dev/null || true
}

# answers FROM TO PORT: the answers to connections to VIP:PORT that began
# in [FROM, TO) ms, one per line.
answers() {
	awk -v f="$1" -v t="$2" -v p="$3" '$1 * 1000 >= f && $1 * 1000 < t && $2 == p { print $3 }' "$OUT/poll"
}
# polled_after MS N: the client began N connections to each port after MS.
polled_after() {
	[ "$(awk -v f="$1" '$1 * 1000 >= f' "$OUT/poll" | wc -l)" -ge $(($2 * 2)) ]
}
# answered_by MS PORT NAME: a connection to VIP:PORT that began after MS was
# answered by NAME.
answered_by() {
	answers "$1" 99999999999999 "$2" | grep -qx "$3"
}

# outage I: rs(I+1)'s service dies and returns; the checks must follow.
outage() {
	local i=$1 name=${NAMES[$1]} ip=${RS_IPS[$1]}
	local t0 t1 t2 t3 ts
	t0=$(now_ms)
	kill_server "$i"
	wait_for 5 out_of_vs 80 "$ip" || fail "$name did not leave VIP:80"
	wait_for 5 in_vs 81 "$ip" 0 || fail "$name did not get weight 0 in VIP:81"
	t1=$(now_ms)
	echo "$IMPL: $name (${CHECKS[$i]}) out after $((t1 - t0)) ms"
	# delay_loop 1 + connect_timeout 1 + 1 s (see the top).
	[ $((t1 - t0)) -le 3000 ] || fail "$name out only after $((t1 - t0)) ms (at most 3000)"
	snapshot "$name down"
	wait_for 10 polled_after "$t1" 10 || fail "the client stopped"
	# Connections that begin from now may reach it again.
	ts=$(now_ms)
	serve "$i"
	t2=$(now_ms)
	wait_for 5 in_vs 80 "$ip" || fail "$name did not come back to VIP:80"
	wait_for 5 in_vs 81 "$ip" 1 || fail "$name did not get weight 1 back in VIP:81"
	t3=$(now_ms)
	echo "$IMPL: $name back after $((t3 - t2)) ms"
	# (keepalived may take two checks to trust a server again.)
	[ $((t3 - t2)) -le 5000 ] || fail "$name back only after $((t3 - t2)) ms (at most 5000)"
	snapshot "$name up"
	local p got
	for p in 80 81; do
		got=$(answers "$t1" "$ts" $p | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
		echo "  VIP:$p while $name was out: $got"
		if answers "$t1" "$ts" $p | grep -q '^fail'; then
			ip netns exec "$director" $IPVSADM -L -n --stats
			awk -v f="$t1" -v t="$ts" '$1 * 1000 >= f && $1 * 1000 < t' "$OUT/poll" | head -n 20
			fail "VIP:$p: a connection failed while $name was out"
		fi
		! answers "$t1" "$ts" $p | grep -qx "$name" || fail "VIP:$p: $name answered while out"
		[ "$(answers "$t1" "$ts" $p | wc -l)" -ge 10 ] || fail "VIP:$p: too few connections while $name was out"
	done
	wait_for 10 answered_by "$t3" 80 "$name" || fail "VIP:80: $name answers no connection once back"
	wait_for 10 answered_by "$t3" 81 "$name" || fail "VIP:81: $name answers no connection once back"
}

only_sorry() {
	[ "$(ip netns exec "$director" $IPVSADM -L -n -t "$VIP:80" | awk '$1 == "->" && $2 != "RemoteAddress:Port"' | wc -l)" = 1 ]
}
balanced_after() {
	[ "$(answers "$1" 99999999999999 80 | sort -u | tr '\n' ' ')" = "rs1 rs2 rs3 " ]
}

# quorum_loss: rs1 and rs2 die, the sorry server takes VIP:80 over; they
# return and it leaves.
quorum_loss() {
	local t0 t1 t2 t3 ts p
	t0=$(now_ms)
	kill_server 0
	kill_server 1
	wait_for 5 in_vs 80 "$SORRY_IP" || fail "the sorry server did not come"
	wait_for 5 only_sorry || fail "VIP:80 has other servers than the sorry server"
	wait_for 5 in_vs 81 "${RS_IPS[0]}" 0 || fail "rs1 not at weight 0 in VIP:81"
	wait_for 5 in_vs 81 "${RS_IPS[1]}" 0 || fail "rs2 not at weight 0 in VIP:81"
	t1=$(now_ms)
	echo "$IMPL: quorum lost, the sorry server in after $((t1 - t0)) ms"
	snapshot "quorum lost"
	wait_for 10 polled_after "$t1" 10 || fail "the client stopped"
	ts=$(now_ms)
	serve 0
	serve 1
	t2=$(now_ms)
	wait_for 5 out_of_vs 80 "$SORRY_IP" || fail "the sorry server did not leave"
	for p in 0 1 2; do
		wait_for 5 in_vs 80 "${RS_IPS[$p]}" || fail "rs$((p + 1)) not back in VIP:80"
		wait_for 5 in_vs 81 "${RS_IPS[$p]}" 1 || fail "rs$((p + 1)) not back in VIP:81"
	done
	t3=$(now_ms)
	echo "$IMPL: quorum back after $((t3 - t2)) ms"
	snapshot "quorum back"
	expect_eq "VIP:80 without the quorum" sorry "$(answers "$t1" "$ts" 80 | sort -u)"
	expect_eq "VIP:81 without the quorum" rs3 "$(answers "$t1" "$ts" 81 | sort -u)"
	wait_for 10 balanced_after "$t3" || fail "VIP:80 not balanced over rs1..rs3 again"
}

health() {
	IMPL=$1
	# Whatever a failed case left.
	pkill -x keepalived || true
	wait_for 10 sh -c '! pgrep -x keepalived'
	unload_all
	load_impl "$IMPL"
	setup_topology
	setup_ns sorry
	lvs_director
	ip link add eth0 netns "$sorry" type veth peer name p3 netns "$director"
	ip -n "$director" link set p3 master br0 up
	ip -n "$sorry" addr add "$SORRY_IP/24" dev eth0
	ip -n "$sorry" link set eth0 up
	ip -n "$sorry" route add default via "$DIR_RS_IP"
	# The client's gateway pinned: a starved one-vCPU VM may answer ARP
	# too late, and the client's connections would fail for that.
	ip -n "$client" neigh replace "$DIR_CLIENT_IP" dev c0 nud permanent \
		lladdr "$(ip -n "$director" -o link show d0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)"
	HOSTS=("$rs1" "$rs2" "$rs3" "$sorry")
	NAMES=(rs1 rs2 rs3 sorry)
	CHECKS=(TCP_CHECK HTTP_GET MISC_CHECK)
	local i
	for i in 0 1 2 3; do serve $i; done
	: >"$OUT/$IMPL.tables"
	ip netns exec "$director" keepalived -n -l -D -C -f "$RVS_ROOT/docs/keepalived-health.conf" \
		-p "$OUT/ka.pid" -c "$OUT/ka-check.pid" </dev/null >"$OUT/ka.log" 2>&1 &
	for i in 0 1 2; do
		wait_for 20 in_vs 80 "${RS_IPS[$i]}" || { cat "$OUT/ka.log"; fail "keepalived did not add rs$((i + 1))"; }
		wait_for 20 in_vs 81 "${RS_IPS[$i]}" 1 || fail "keepalived did not add rs$((i + 1)) to VIP:81"
	done
	table
	snapshot "all up"
	rm -f "$OUT/stop"
	ip netns exec "$client" python3 "$LVS_PY" poll "$VIP" 80,81 "$OUT/stop" >"$OUT/poll" &
	local poller=$!
	wait_for 30 polled_after 0 10 || fail "the client got nothing"
	for i in 0 1 2; do outage $i; done
	quorum_loss
	touch "$OUT/stop"
	wait "$poller"
	echo "$IMPL: $(wc -l <"$OUT/poll") connections"
	pkill -x keepalived || true
	wait_for 10 sh -c '! pgrep -x keepalived'
	# keepalived empties what it made when it stops.
	expect_eq "the table after keepalived stopped" "" "$(ip netns exec "$director" $IPVSADM -S -n)"
	cleanup_ns
	unload_all
}

test_ip_vs() {
	health ip_vs
}

test_rvs() {
	[ -s "$OUT/ip_vs.tables" ] || fail "no tables of ip_vs.ko to compare with"
	health rvs
	expect_eq "the tables at every step, rvs.ko against ip_vs.ko" "$(cat "$OUT/ip_vs.tables")" "$(cat "$OUT/rvs.tables")"
}

tap_case "health checks on ip_vs.ko: TCP_CHECK, HTTP_GET, MISC_CHECK, inhibit_on_failure, quorum and sorry_server under a client's connections" test_ip_vs
tap_case "the same on rvs.ko, with the same table at every step as ip_vs.ko" test_rvs
tap_done
