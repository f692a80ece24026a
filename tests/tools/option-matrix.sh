#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# option-matrix.sh TOOL: every command of ipvsadm with every option once,
# through TOOL (ipvsadm or rvsadm), against whatever module is loaded, in a
# namespace of its own; prints "command | option | exit code | message".
# Which options a command takes (ipvsadm's commands-versus-options table)
# shows as the exit code 2 and its message.
tool=$1
cmds=("-A -t 203.0.113.1:80" "-E -t 203.0.113.1:80" "-D -t 203.0.113.1:80" "-C" "-R" "-S"
	"-a -t 203.0.113.1:80 -r 198.51.100.2" "-e -t 203.0.113.1:80 -r 198.51.100.2"
	"-d -t 203.0.113.1:80 -r 198.51.100.2" "-L" "-Z" "--set 1 2 3"
	"--start-daemon master" "--stop-daemon master" "-h")
opts=("-n" "-c" "-t 203.0.113.9:80" "-s rr" "-p 30" "-M 255.255.255.0" "-r 198.51.100.3"
	"-m" "-w 2" "-x 5" "-y 2" "--mcast-interface lo" "--timeout" "--daemon" "--stats"
	"--rate" "--thresholds" "--persistent-conn" "--sort" "--syncid 3" "--exact" "-o"
	"--pe sip" "-b sh-port" "-6" "--tun-type gue" "--tun-port 5" "--tun-nocsum"
	"--tun-csum" "--tun-remcsum" "--mcast-group 239.1.1.1" "--mcast-port 5"
	"--mcast-ttl 3" "--sync-maxlen 1000" "--tun-info" "--nosort" "-g" "-i" "-f 5"
	"-u 203.0.113.9:53" "-b flag-1" "-s sh -b sh-port" "-6 -f 7")
# Lines that are not a command and one option: missing required options,
# repeated options, conflicting ones.
extra=("-A" "-E" "-D" "-a -t 203.0.113.1:80" "-a -r 198.51.100.2" "-e -t 203.0.113.1:80"
	"-d -r 198.51.100.2" "-A -t 203.0.113.1:80 -s rr -s wlc" "-a -t 203.0.113.1:80 -r 198.51.100.2 -m -g"
	"-a -t 203.0.113.1:80 -r 198.51.100.2 -w 1 -w 2" "-L -n -n" "-L --stats --rate"
	"-a -t 203.0.113.1:80 -r 198.51.100.2 -i --tun-type gre --tun-port 5"
	"-a -t 203.0.113.1:80 -r 198.51.100.2 -i --tun-type gue"
	"-a -t 203.0.113.1:80 -r 198.51.100.2 -i --tun-csum --tun-nocsum"
	"-a -t 203.0.113.1:80 -r 198.51.100.2 -i --tun-type ipip --tun-csum"
	"-a -t 203.0.113.1:80 -r 198.51.100.2 -i --tun-type gre --tun-remcsum"
	"-A -u 203.0.113.1:53 -o" "-A -f 9 -o" "-L -c -n" "-n -L" "--start-daemon master --mcast-interface lo --mcast-group 239.1.1.1 --mcast-group 239.1.1.2"
	"-L -t 203.0.113.1:80 -u 203.0.113.1:80" "-Z -f 0" "-L -x" "-L -X")
# The loop runs inside the namespace (this script again, with --in): one
# `ip netns exec` instead of one per command line.
if [ "${2:-}" != --in ]; then
	ns=matrix$$
	ip netns add "$ns"
	rc=0
	ip netns exec "$ns" bash "$0" "$tool" --in || rc=$?
	ip netns del "$ns"
	exit "$rc"
fi
for c in "${cmds[@]}"; do
	for o in "${opts[@]}"; do
		rc=0
		# shellcheck disable=SC2086
		out=$("$tool" $c $o </dev/null 2>&1) || rc=$?
		echo "$c | $o | $rc | ${out%%$'\n'*}"
	done
done
for c in "${extra[@]}"; do
	rc=0
	# shellcheck disable=SC2086
	out=$("$tool" $c </dev/null 2>&1) || rc=$?
	echo "$c | - | $rc | ${out%%$'\n'*}"
done
