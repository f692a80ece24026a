#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make test-interop`: live sync interoperability between rvs.ko and ip_vs.ko
# in two VMs (one vCPU each) joined by a QEMU socket network on the host's
# loopback, 127.0.0.1, and nothing else (tests/interop-guest.sh: the
# topology and the test). VM a listens, VM b connects; a's TAP output is
# the result, b's log follows.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mkdir -p tests/out
# A free port on the loopback for the link.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RVS_VM_CPUS=1 RVS_VM_LINK=listen:$port qemu/vm.sh run 'tests/interop-guest.sh a' >tests/out/interop-a.log 2>&1 &
a=$!
for _ in $(seq 300); do
	ss -Htln "sport = :$port" | grep -q "127.0.0.1:$port" && break
	kill -0 "$a" 2>/dev/null || break
	sleep 0.1
done
RVS_VM_CPUS=1 RVS_VM_LINK=connect:$port qemu/vm.sh run 'tests/interop-guest.sh b' >tests/out/interop-b.log 2>&1 &
b=$!
wait "$a"
rca=$?
# b stops when a tells it to; if a could not, b's own wait ends it.
wait "$b"
rcb=$?
cat tests/out/interop-a.log
echo "# ---- VM b (exit $rcb)"
sed 's/^/# /' tests/out/interop-b.log
p=$(grep -c '^ok ' tests/out/interop-a.log)
f=$(grep -c '^not ok ' tests/out/interop-a.log)
# Both VMs must end well, and a's two cases must have run.
if [ "$rca" != 0 ] || [ "$rcb" != 0 ] || [ $((p + f)) != 2 ]; then
	f=$((f + 1))
fi
echo "interop: $p passed, $f failed"
[ "$f" = 0 ]
