#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs every VM test (tests/t-*.sh, or those matching $RVS_TEST_FILTER, or
# the files listed in $RVS_TEST_FILES) inside the test VM, one after the
# other, and prints the totals as its last line: "vm-suite: N passed, N
# failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
pass=0 failn=0 skip=0
for t in ${RVS_TEST_FILES:-tests/t-*.sh}; do
	case "$t" in *"${RVS_TEST_FILTER:-}"*) ;; *) continue ;; esac
	echo "# ---- $t"
	t0=$SECONDS
	out=$(mktemp)
	timeout "${RVS_TEST_TIMEOUT:-1200}" bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
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
