#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Director failover with Debian's keepalived (lib.sh's ha_topology: two
# NAT directors, a client, three real servers), on ip_vs.ko and rvs.ko:
# a vrrp_sync_group moves the client's gateway and the real servers'
# gateway together, lvs_sync_daemon runs the sync daemons (master on the
# VRRP master, backup on the other), virtual_server/real_server configure
# both directors. The configuration is docs/keepalived.conf's.
#
# - new connections are served again within 3 s of the master's keepalived
#   stopping, and the addresses come back when it starts again;
# - a download through the master goes on through the backup when the
#   master's links die (cmp).
source "$(dirname "$0")/lib.sh"

command -v keepalived >/dev/null || { echo "no keepalived: make deps installs it"; exit $ksft_skip; }
OUT=$(mktemp -d /tmp/rvs-ka.XXXXXX)
trap 'pkill -x keepalived 2>/dev/null; cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT
CONF="$RVS_ROOT/docs/keepalived.conf"

# ka_start DIR NAME PRIORITY: keepalived in DIR's namespace with the
# documented configuration, its router id and priority filled in.
ka_start() {
	sed -e "s/@ROUTER_ID@/$2/" -e "s/@PRIORITY@/$3/" "$CONF" >"$OUT/$2.conf"
	ip netns exec "$1" keepalived -n -l -D -f "$OUT/$2.conf" -p "$OUT/$2.pid" \
		-r "$OUT/$2-vrrp.pid" -c "$OUT/$2-check.pid" </dev/null >"$OUT/$2.log" 2>&1 &
	eval "KA_$2=\$!"
}

has_gw() { ip -n "$1" -o addr show dev f0 | grep -q " $GW/"; }
daemon_is() { ip netns exec "$1" $IPVSADM -L --daemon | grep -q "^$2 sync daemon"; }

# ka_stop: no keepalived left (a failed case's too).
ka_stop() {
	pkill -x keepalived || true
	wait_for 10 sh -c '! pgrep -x keepalived'
}

# ka_pair IMPL: both directors under keepalived, dirA the VRRP master.
ka_pair() {
	ka_stop
	cleanup_ns
	load_impl "$1"
	head -c 24000000 /dev/urandom >"$OUT/payload"
	ha_topology "$OUT/payload"
	# keepalived configures the services itself.
	local d
	for d in "$dira" "$dirb"; do
		ip netns exec "$d" $IPVSADM -C
		ip -n "$d" addr del "$GW/24" dev f0 2>/dev/null || true
		ip -n "$d" addr del "$RSGW/24" dev b0 2>/dev/null || true
	done
	ka_start "$dira" dira 150
	ka_start "$dirb" dirb 100
	wait_for 20 has_gw "$dira" || { cat "$OUT/dira.log"; fail "dirA did not become the VRRP master"; }
	if ! wait_for 20 daemon_is "$dira" master; then
		cat "$OUT/dira.log"
		fail "keepalived started no master sync daemon on dirA"
	fi
	wait_for 20 daemon_is "$dirb" backup || fail "keepalived started no backup sync daemon on dirB"
	wait_for 20 sh -c "ip netns exec $dira $IPVSADM -L -n | grep -c 'Masq' | grep -qx 3" ||
		fail "keepalived did not add the real servers"
	ip netns exec "$dira" $IPVSADM -L -n
	ip netns exec "$dira" $IPVSADM -L --daemon
	ip netns exec "$dirb" $IPVSADM -L --daemon
}

# connects: a new connection gets the first 100 bytes of the payload
# within a second (a lost SYN is not waited for: the next try is a new
# connection, so the takeover is measured to about half a second).
connects() {
	[ "$(cli timeout 1 socat -u "TCP:$VIP:9100,connect-timeout=0.5" - 2>/dev/null | head -c 100 | wc -c)" = 100 ]
}
served_by_b() { ! has_gw "$dira" && has_gw "$dirb" && connects; }

vrrp_failover() {
	ka_pair "$1"
	connects || fail "no connection through dirA"
	kill -TERM "$KA_dira"
	local t0 t1
	t0=$(date +%s%N)
	# Served by dirB: dirA has let the addresses go (a connection made
	# while it still held them would stop the clock too early).
	wait_for 10 served_by_b || fail "$1: no new connection through dirB within 10 s of the master's keepalived stopping"
	t1=$(date +%s%N)
	local ms=$(((t1 - t0) / 1000000))
	echo "$1: served again after $ms ms"
	# keepalived's part is the same for both modules (priority 0 sent on
	# stopping, the backup takes over after its skew time).
	[ "$ms" -le 3000 ] || fail "$1: new connections served again only after $ms ms (at most 3000)"
	daemon_is "$dirb" master || fail "dirB did not become the sync master"
	ka_start "$dira" dira 150
	wait_for 20 has_gw "$dira" || fail "$1: the addresses did not come back to dirA"
	connects || fail "$1: no connection through dirA again"
	ka_stop
	cleanup_ns
	unload_all
}

download_failover() {
	ka_pair "$1"
	cli python3 "$LVS_PY" fetch "$VIP" 9100 "$OUT/got" 2e6 >"$OUT/fetch" &
	local pid=$!
	wait_for 20 test -s "$OUT/got" || fail "the download did not start"
	wait_for 20 sh -c "ip netns exec $dirb $IPVSADM -L -c -n | grep -q 'ESTABLISHED .*:9100 '" ||
		fail "$1: the backup did not get the connection"
	[ "$(stat -c %s "$OUT/got")" -lt 20000000 ] || fail "the download ended before the failover"
	# dirA's links die (its keepalived, stopped instead, would first
	# remove the services it made, and replies on their way through dirA
	# would leave it without NAT: the client would reset them).
	echo "$1: dirA's links down at $(stat -c %s "$OUT/got") bytes"
	ip -n "$dira" link set f0 down
	ip -n "$dira" link set b0 down
	wait "$pid"
	cat "$OUT/fetch"
	cmp "$OUT/payload" "$OUT/got" || fail "$1: the download through the failover is not whole"
	has_gw "$dirb" || fail "the gateway did not move to dirB"
	ka_stop
	cleanup_ns
	unload_all
}

test_vrrp() {
	vrrp_failover ip_vs
	vrrp_failover rvs
}

test_download() {
	download_failover ip_vs
	download_failover rvs
}

tap_case "VRRP: served again within 3 s of the master's keepalived stopping, back when it starts (both modules)" test_vrrp
tap_case "keepalived failover with lvs_sync_daemon, the master's links down: a download continues whole (NAT, both modules)" test_download
tap_done
