#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-script.sh TOOL SCRIPT: every line of SCRIPT (tests/ipvsadm-script.txt
# format) through TOOL (ipvsadm or rvsadm): a line starting with "=" is a
# listing printed whole; any other is a command printed with its exit code
# and message. The module is whatever is loaded.
tool=$1 script=$2
n=0
while IFS= read -r line; do
	case "$line" in '#'* | '') continue ;; esac
	n=$((n + 1))
	if [ "${line:0:1}" = "=" ]; then
		echo "== $line"
		# shellcheck disable=SC2086
		$tool ${line:1} 2>&1
	else
		rc=0
		# shellcheck disable=SC2086
		out=$($tool $line 2>&1) || rc=$?
		echo "$n: $line -> exit $rc $out"
	fi
done <"$script"
