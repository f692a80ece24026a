#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Control-plane benchmark (`make bench`, in the VM): 10,000 services with 10
# destinations each are added (one restore file), listed and flushed, on
# ip_vs.ko and on rvs.ko in the same VM run; prints the time of each phase
# beside ip_vs.ko's, and checks that every phase did all its work (the
# listing is complete, the flush leaves nothing).
#
# RVS_BENCH_SERVICES, RVS_BENCH_DESTS: the sizes (10000, 10).
# RVS_BENCH_TOOLS: the tools that drive both modules, one table each
# ("rvsadm"; `make bench` adds ipvsadm).
# RVS_BENCH_ROUNDS: rounds per tool (3), the modules' order alternating;
# each figure is the median of its rounds (with the host's clock TCG
# moves a single figure by 10-40% between runs; `make bench` counts
# instructions as time instead, see the Makefile, with one round).
source "$(dirname "$0")/lib.sh"
set -e
nsvc=${RVS_BENCH_SERVICES:-10000}
ndst=${RVS_BENCH_DESTS:-10}
rounds=${RVS_BENCH_ROUNDS:-3}

# The table: services 203.0.113.1-100 ports 1000-..., destinations
# 198.51.100.1-... port 8080, masquerading, weights 1-ndst.
rules=$(mktemp)
python3 - "$nsvc" "$ndst" >"$rules" <<'PY'
import sys
nsvc, ndst = int(sys.argv[1]), int(sys.argv[2])
for i in range(nsvc):
    vip = f"203.0.113.{i % 100 + 1}:{1000 + i // 100}"
    print(f"-A -t {vip} -s wlc")
    for d in range(ndst):
        print(f"-a -t {vip} -r 198.51.100.{d + 1}:8080 -m -w {d + 1}")
PY

now() { date +%s%N; }
# ms START: milliseconds since START (from now).
ms() { echo $((($(now) - $1) / 1000000)); }

# median N...: the middle one of the numbers.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# bench TOOLNAME TOOL
bench() {
	local name=$1 tool=$2 impl s svcs dsts p what r order
	local -A t
	for ((r = 1; r <= rounds; r++)); do
		order="ip_vs rvs"
		[ $((r % 2)) = 0 ] && order="rvs ip_vs"
		for impl in $order; do
			load_impl "$impl"
			s=$(now)
			$tool -R <"$rules"
			t[$impl,add]+=" $(ms "$s")"

			s=$(now)
			$tool -L -n >/tmp/bench-list
			t[$impl,list]+=" $(ms "$s")"
			svcs=$(grep -c '^TCP' /tmp/bench-list)
			dsts=$(grep -c '^  -> 198' /tmp/bench-list)
			[ "$svcs" = "$nsvc" ] || fail "$impl: listed $svcs services of $nsvc"
			[ "$dsts" = $((nsvc * ndst)) ] ||
				fail "$impl: listed $dsts destinations of $((nsvc * ndst))"

			s=$(now)
			$tool -S -n >/tmp/bench-save
			t[$impl,save]+=" $(ms "$s")"
			cmp <(sort /tmp/bench-save) <(sort "$rules") ||
				fail "$impl: the saved table is not the one restored"

			s=$(now)
			$tool -C
			t[$impl,flush]+=" $(ms "$s")"
			[ -z "$($tool -S -n)" ] || fail "$impl: flush left entries"
			unload_all
		done
	done
	for impl in ip_vs rvs; do
		for p in add list save flush; do
			echo "$name $impl $p:${t[$impl,$p]}"
			# shellcheck disable=SC2086 # the rounds' figures, one word each
			t[$impl,$p]=$(median ${t[$impl,$p]})
		done
	done

	echo
	echo "control plane: $nsvc services x $ndst destinations, driven by $name (ms, median of $rounds rounds;" \
		"${RVS_VM_ICOUNT:+instructions as time, }rvs/ip_vs < 1: rvs faster)"
	printf '%-34s %10s %10s %10s\n' phase ip_vs.ko rvs.ko rvs/ip_vs
	for p in add list save flush; do
		case $p in
		add) what="add (-R, $((nsvc * (ndst + 1))) commands)" ;;
		list) what="list (-L -n)" ;;
		save) what="save (-S -n)" ;;
		flush) what="flush (-C)" ;;
		esac
		printf '%-34s %10s %10s %10s\n' "$what" "${t[ip_vs,$p]}" "${t[rvs,$p]}" \
			"$(awk -v a="${t[rvs,$p]}" -v b="${t[ip_vs,$p]}" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
	done
}

trap 'unload_all >/dev/null 2>&1' EXIT
for name in ${RVS_BENCH_TOOLS:-rvsadm}; do
	case "$name" in
	rvsadm) bench rvsadm "$RVSADM" ;;
	ipvsadm) bench ipvsadm "$IPVSADM" ;;
	*) fail "RVS_BENCH_TOOLS: rvsadm and/or ipvsadm, not $name" ;;
	esac
done
