#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs every VM test (tests/t-*.sh, or those matching $RVS_TEST_FILTER, or
# the files listed in $RVS_TEST_FILES) inside the test VM, one after the
# other, and prints the totals as its last line: "vm-suite: N passed, N
# failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
pass=0 failn=0 skip=0

# hang_report: what every process waits on, the stacks of those blocked in
# the kernel, and the kernel log's end: printed when a file times out, so a
# hang seen once in CI can be understood from its log.
hang_report() {
	local p
	echo "# ---- about to time out; processes (pid ppid state wchan elapsed command):"
	ps -eo pid=,ppid=,stat=,wchan:32=,etime=,args= | grep -v ' \[' | sed 's/^/# /'
	for p in $(ps -eo pid=,stat=,args= | awk '$2 ~ /D/ || $3 ~ /ipvsadm|rvsadm|insmod|rmmod|modprobe|ip$|python3/ {print $1}'); do
		echo "# ---- stack of $p ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)):"
		sed 's/^/# /' "/proc/$p/stack" 2>/dev/null
	done
	{ echo w >/proc/sysrq-trigger; } 2>/dev/null
	echo "# ---- kernel log, last 60 lines:"
	dmesg | tail -n 60 | sed 's/^/# /'
}
for t in ${RVS_TEST_FILES:-tests/t-*.sh}; do
	case "$t" in *"${RVS_TEST_FILTER:-}"*) ;; *) continue ;; esac
	echo "# ---- $t"
	t0=$SECONDS
	out=$(mktemp)
	# t-dataplane.sh takes 900-1050 s, more on a busy host.
	limit=${RVS_TEST_TIMEOUT:-1800}
	# The report comes 5 s before the kill, while the hung processes live.
	(sleep $((limit - 5)) && hang_report) &
	watchdog=$!
	# Not a job of this shell: killing it later is not reported.
	disown "$watchdog"
	timeout "$limit" bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	# The watchdog, then its sleep: neither death is reported.
	sleeper=$(pgrep -P "$watchdog" sleep)
	kill -KILL "$watchdog" 2>/dev/null
	[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null
	p=$(grep -cE '^ok [0-9]+ - ' "$out" | head -1)
	s=$(grep -cE '^ok [0-9]+ - .*# SKIP' "$out" | head -1)
	f=$(grep -cE '^not ok [0-9]+ - ' "$out" | head -1)
	p=$((p - s))
	if [ "$rc" = 4 ] && [ $((p + f + s)) = 0 ]; then
		s=1
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $t exited with status $rc"
		f=1
	fi
	pass=$((pass + p)) failn=$((failn + f)) skip=$((skip + s))
	echo "# ---- $t: $((SECONDS - t0)) s"
	rm -f "$out"
done
echo "vm-suite: $pass passed, $failn failed, $skip skipped"
[ "$failn" = 0 ]
