#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Metrics for Prometheus, on ip_vs.ko and rvs.ko after the same traffic:
# - Debian's prometheus-node-exporter, its ipvs collector alone, run in the
#   director's namespace (it parses /proc/net/ip_vs and ip_vs_stats):
#   the same node_ipvs_* series on both modules, with the same values but
#   for packets and bytes (how many segments a TCP peer sends moves with
#   timing: 38 to 42 replies for the same 12 connections on one module);
# - `rvsadm metrics` (netlink only): accepted by `promtool check metrics`,
#   the same on both modules (rates, packets and bytes aside), served by
#   `--listen` as printed; its counts are those of `ipvsadm -L -n --stats`.
# (node_exporter and promtool come out of Debian's packages:
# qemu/install-deps.sh.)
source "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d /tmp/rvs-metrics.XXXXXX)
PROM_BIN=${RVS_CACHE:-$HOME/.cache/rvs}/tools/bin
trap 'cleanup_ns; rm -rf "$OUT"; unload_all >/dev/null 2>&1' EXIT

# timeless: samples whose value timing moves (rates; packets and bytes,
# which ip_vs.ko also sums from its CPUs every 2 s) without their value.
timeless() { sed -E 's/^([a-z_]*(_per_second|_packets_total|_bytes_total)(\{.*\})?) [0-9]+$/\1/'; }

# rvs_only_aside: the exposition without the families only rvs.ko gives.
rvs_only_aside() {
	grep -vE '^(# (HELP|TYPE) )?(ipvs_connection_table_(entries|buckets|limit)|ipvs_connection_entries|ipvs_connections_(refused|evicted)_total|ipvs_defense_(setting|active))[ {]'
}

# get URL: the body of an HTTP GET from the director's namespace.
get() {
	dir python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"
}

# services: TCP VIP:8081 by NAT (weights 1 2 3, thresholds on one), UDP
# VIP:8080 by DR, TCP [VIP6]:8081 by NAT, a firewall-mark service by TUN;
# then their traffic.
services_and_traffic() {
	local i
	dir $IPVSADM -A -t "$VIP:8081" -s rr
	dir $IPVSADM -A -u "$VIP:8080" -s wrr
	dir $IPVSADM -A -t "[$VIP6]:8081" -s wlc -p 120
	dir $IPVSADM -A -f 7 -s sh
	for i in 0 1 2; do
		dir $IPVSADM -a -t "$VIP:8081" -r "${RS_IPS[$i]}:8081" -m -w $((i + 1))
		dir $IPVSADM -a -u "$VIP:8080" -r "${RS_IPS[$i]}:8080" -g
		dir $IPVSADM -a -t "[$VIP6]:8081" -r "[${RS_IP6S[$i]}]:8081" -m
	done
	dir $IPVSADM -e -t "$VIP:8081" -r "${RS_IPS[2]}:8081" -m -w 3 -x 100 -y 10
	dir $IPVSADM -a -f 7 -r "${RS_IPS[0]}" -i
	cli python3 "$LVS_PY" names "$VIP" 8081 12 >/dev/null
	cli python3 "$LVS_PY" names "$VIP" 8080 6 --udp >/dev/null
	cli python3 "$LVS_PY" names "$VIP6" 8081 4 >/dev/null
	# 12 + 6 + 4 connections (0x16), and (ip_vs.ko sums its per-CPU counters
	# every 2 s) /proc/net/ip_vs_stats has them too.
	wait_for 20 conns_are 22 || fail "the services counted $(conns_total) connections, not 22"
	wait_for 20 sh -c "ip netns exec $director awk 'NR == 3 { exit !(\$1 == \"16\") }' /proc/net/ip_vs_stats" ||
		fail "/proc/net/ip_vs_stats: $(dir cat /proc/net/ip_vs_stats)"
}

# round IMPL: the scrapes of IMPL into $OUT/*.IMPL.
round() {
	local impl=$1 pid
	load_impl "$impl"
	services_and_traffic
	dir $IPVSADM -L -n --stats --exact >"$OUT/stats.$impl"
	# node_exporter, the ipvs collector alone, on the director's loopback.
	ip netns exec "$director" "$PROM_BIN/prometheus-node-exporter" --collector.disable-defaults \
		--collector.ipvs --web.listen-address=127.0.0.1:9100 >"$OUT/ne.log.$impl" 2>&1 &
	pid=$!
	wait_for 20 get http://127.0.0.1:9100/metrics >/dev/null || { cat "$OUT/ne.log.$impl"; fail "node_exporter did not answer"; }
	get http://127.0.0.1:9100/metrics >"$OUT/ne-all.$impl"
	kill "$pid"
	grep '^node_ipvs' "$OUT/ne-all.$impl" | sort >"$OUT/ne-full.$impl"
	grep -q '^node_ipvs_incoming_packets_total [1-9]' "$OUT/ne-full.$impl" || fail "$impl: no packet counted"
	timeless <"$OUT/ne-full.$impl" >"$OUT/ne.$impl"
	grep -q '^node_scrape_collector_success{collector="ipvs"} 1' "$OUT/ne-all.$impl" ||
		fail "$impl: node_exporter's ipvs collector failed: $(grep -i ipvs "$OUT/ne.log.$impl")"
	# 3 + 3 + 3 + 1 real servers, each with its weight.
	[ "$(grep -c '^node_ipvs_backend_weight{' "$OUT/ne.$impl")" = 10 ] || fail "$impl: not 10 backends"
	grep -q '^node_ipvs_connections_total 22$' "$OUT/ne.$impl" || fail "$impl: node_ipvs_connections_total is not 22"

	dir "$RVSADM" metrics >"$OUT/rvsadm.$impl"
	"$PROM_BIN/promtool" check metrics <"$OUT/rvsadm.$impl" >"$OUT/promtool.$impl" 2>&1 ||
		{ cat "$OUT/promtool.$impl"; fail "$impl: promtool check metrics refused rvsadm metrics"; }
	[ ! -s "$OUT/promtool.$impl" ] || { cat "$OUT/promtool.$impl"; fail "$impl: promtool had something to say"; }
	# The counts are ipvsadm's.
	local i
	for i in 0 1 2; do
		local conns
		conns=$(awk -v rs="${RS_IPS[$i]}:8081" '$1 == "->" && $2 == rs { print $3; exit }' "$OUT/stats.$impl")
		grep -qx "ipvs_server_connections_total{family=\"inet\",protocol=\"tcp\",address=\"$VIP\",port=\"8081\",fwmark=\"\",server_address=\"${RS_IPS[$i]}\",server_port=\"8081\",forward=\"masq\"} $conns" \
			"$OUT/rvsadm.$impl" || fail "$impl: ${RS_IPS[$i]}:8081 not at $conns connections"
	done
	grep -qx "ipvs_service_connections_total{family=\"inet6\",protocol=\"tcp\",address=\"$VIP6\",port=\"8081\",fwmark=\"\"} 4" \
		"$OUT/rvsadm.$impl" || fail "$impl: the IPv6 service's connections"
	grep -qx 'ipvs_server_threshold_upper{.*server_address="198.51.100.13",server_port="8081",forward="masq"} 100' \
		"$OUT/rvsadm.$impl" || fail "$impl: the upper threshold"
	# rvs.ko's connection-table figures (rvs's own command; ip_vs.ko has
	# none): its entries and their states are /proc/net/ip_vs_conn's.
	if [ "$impl" = rvs ]; then
		local n tw
		n=$(dir tail -n +2 /proc/net/ip_vs_conn | wc -l)
		tw=$(dir grep -c ' TIME_WAIT ' /proc/net/ip_vs_conn)
		grep -qx "ipvs_connection_table_entries $n" "$OUT/rvsadm.$impl" || fail "rvs: not $n entries"
		grep -qx "ipvs_connection_entries{protocol=\"tcp\",state=\"TIME_WAIT\"} $tw" "$OUT/rvsadm.$impl" ||
			fail "rvs: not $tw in TIME_WAIT"
		[ "$(awk '/^ipvs_connection_entries\{/ { s += $2 } END { print s }' "$OUT/rvsadm.$impl")" = "$n" ] ||
			fail "rvs: the entries by state do not add up to $n"
		grep -qx 'ipvs_defense_setting{sysctl="amemthresh"} 1024' "$OUT/rvsadm.$impl" || fail "rvs: amemthresh"
		grep -qx 'ipvs_connections_refused_total{reason="table_full"} 0' "$OUT/rvsadm.$impl" || fail "rvs: refusals"
	else
		! grep -q '^ipvs_connection_table_entries' "$OUT/rvsadm.$impl" || fail "ip_vs: table figures from ip_vs.ko?"
	fi
	# Served over HTTP as printed (the rates may move between two reads).
	ip netns exec "$director" "$RVSADM" metrics --listen 127.0.0.1:9101 2>/dev/null &
	pid=$!
	wait_for 20 get http://127.0.0.1:9101/metrics >"$OUT/http.$impl" || fail "rvsadm metrics --listen did not answer"
	kill "$pid"
	expect_eq "$impl: rvsadm metrics over HTTP" "$(timeless <"$OUT/rvsadm.$impl")" "$(timeless <"$OUT/http.$impl")"
	dir $IPVSADM -C
	unload_all
}

test_metrics() {
	setup_topology
	lvs_director
	lvs_real_servers
	lvs_servers 8080
	round ip_vs
	round rvs
	cat "$OUT/ne.rvs"
	expect_eq "node_exporter's ipvs series, ip_vs.ko against rvs.ko" "$(cat "$OUT/ne.ip_vs")" "$(cat "$OUT/ne.rvs")"
	expect_eq "rvsadm metrics (rates, packets and bytes aside; rvs.ko's table figures aside), ip_vs.ko against rvs.ko" \
		"$(timeless <"$OUT/rvsadm.ip_vs")" "$(timeless <"$OUT/rvsadm.rvs" | rvs_only_aside)"
}

tap_case "node_exporter's ipvs series and rvsadm metrics (promtool-clean, over HTTP too): the same on ip_vs.ko and rvs.ko" test_metrics
tap_done
