#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make test`: every test of rvs. Host checks (cargo test of tool/ and of
# the module's pure logic, fmt, clippy), the VM runner's own contract, then
# the VM suite in one VM boot. The last line is "N passed, N failed" (with
# ", N skipped" where any); the exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
pass=0 failn=0 skip=0
mkdir -p tests/out
rm -f tests/out/demo.rc tests/out/demo.log tests/out/bench-dp.svg tests/out/bench-dp.txt tests/out/bench-ctl.rc tests/out/bench-dp.rc tests/out/bench-sync.rc tests/out/bench-conntab.rc tests/out/interop.rc tests/out/interop.log \
	tests/out/vm-suite-leak.rc tests/out/vm-suite-side.rc tests/out/bench.log tests/out/bench.secs

result() { # result NAME RC
	if [ "$2" = 0 ]; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1"
		failn=$((failn + 1))
	fi
}

echo "# ---- host: cargo test (tool/ and rust/ pure logic)"
(cd tool && cargo test --release 2>&1) | tee tests/out/cargo-test.log | grep -E '^test |test result|panicked|error' || true
if [ "${PIPESTATUS[0]}" != 0 ]; then
	result "cargo test" 1
fi
while read -r p f; do
	pass=$((pass + p)) failn=$((failn + f))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' tests/out/cargo-test.log)

echo "# ---- host: style"
(cd tool && cargo fmt --check >/dev/null 2>&1)
result "cargo fmt --check (tool/ and the rust/ files it includes)" $?
(cd tool && cargo clippy --quiet --all-targets -- -D warnings 2>&1)
result "cargo clippy -D warnings" $?

python3 tests/tools/deps.py
result "rust/'s dependency graph: no circle, no edge up the layers (tests/tools/deps.py)" $?

ktoml="${RVS_CACHE:-$HOME/.cache/rvs}/kernel/linux/.rustfmt.toml"
rustfmt --check --edition 2021 --config-path "$ktoml" rust/rvs.rs
result "rustfmt --check of rust/ (the kernel's .rustfmt.toml)" $?
# clippy on the module: the kernel's CLIPPY=1 with Debian's clippy of the
# kernel's rustc (rust-web-clippy); then the build that the VM loads.
touch rust/rvs.rs
make -s module CLIPPY=1 >tests/out/module-clippy.log 2>&1
rc=$?
! grep -Eq '^(warning|error)' tests/out/module-clippy.log && [ "$rc" = 0 ]
result "clippy on rvs.ko (CLIPPY=1: the kernel's lints, rust-web-clippy) without a warning" $?
grep -E -A8 '^(warning|error)' tests/out/module-clippy.log | head -n 40
touch rust/rvs.rs
make -s module >tests/out/module-build.log 2>&1
rc=$?
! grep -Ei 'warning|error' tests/out/module-build.log && [ "$rc" = 0 ]
result "rvs.ko builds without a warning (W=1)" $?
cat tests/out/module-build.log | grep -Ei -A5 'warning|error' | head -n 40
nounsafe=$(grep -rlnE --include='*.rs' '\bunsafe\s*(\{|fn|impl|extern)' rust | grep -v '^rust/sys/' || true)
# Host-only test modules (#[cfg(test)], at the end of a file) may panic.
panics=$(for f in $(find rust -name '*.rs'); do
	sed '/#\[cfg(test)\]/,$d' "$f" | grep -nE '\.unwrap\(\)|\.expect\(|panic!\(|unreachable!\(|todo!\(|unimplemented!\(' |
		grep -vE '^[0-9]+:\s*//' | sed "s|^|$f:|"
done)
[ -z "$nounsafe" ] && [ -z "$panics" ]
result "rust/: unsafe only in rust/sys/, no panicking calls" $?
[ -n "$nounsafe$panics" ] && printf '%s\n' $nounsafe "$panics"

echo "# ---- host: the manual page and the bash completion"
man_out=$(MANWIDTH=80 man --warnings -l tool/rvsadm/rvsadm.8 2>&1 >/dev/null)
[ -z "$man_out" ] && MANWIDTH=80 man -l tool/rvsadm/rvsadm.8 2>/dev/null | grep -q '^EXIT STATUS'
result "man --warnings -l rvsadm.8 renders without a warning" $?
[ -n "$man_out" ] && echo "$man_out" | head -n 20
# Every option rvsadm takes is in the manual page and the completion.
missing=$(for o in $(grep -oE '^\s*\(Some\(.[a-zA-Z0-9].\), "[a-z0-9-]+"|^\s*\(None, "[a-z0-9-]+"' tool/rvsadm/src/args.rs | grep -oE '"[a-z0-9-]+"$' | tr -d '"'); do
	grep -qF -- "\-\-${o//-/\\-}" tool/rvsadm/rvsadm.8 || echo "rvsadm.8: --$o"
	grep -qE -- "--$o( |\"|$)" tool/rvsadm/completion/rvsadm || echo "completion: --$o"
done)
[ -z "$missing" ] && [ "$(grep -cE '^\s*\((Some|None)' tool/rvsadm/src/args.rs)" -gt 40 ]
result "every option of rvsadm is in rvsadm.8 and in its bash completion" $?
[ -n "$missing" ] && echo "$missing"
reply=$(bash -c 'source tool/rvsadm/completion/rvsadm; COMP_WORDS=(rvsadm -A -t 192.0.2.1:80 -s w); COMP_CWORD=5; _rvsadm; echo "${COMPREPLY[*]}"')
[ "$reply" = "wrr wlc" ]
result "the bash completion completes -s w to 'wrr wlc'" $?

echo "# ---- make install (into tests/out/install), then in the VM: modprobe rvs from it, its rvsadm lists"
dest=$PWD/tests/out/install
rm -rf "$dest"
installed() {
	make -s install DESTDIR="$dest" >tests/out/install.log 2>&1 || return 1
	local f
	for f in usr/local/sbin/rvsadm usr/local/share/man/man8/rvsadm.8 \
		usr/local/share/bash-completion/completions/rvsadm lib/modules/*/extra/rvs.ko lib/modules/*/modules.dep; do
		[ -s "$dest"/$f ] || { echo "# not installed: $f"; return 1; }
	done
}
installed
result "make install DESTDIR=...: rvsadm, rvsadm.8, the completion, rvs.ko and modules.dep" $?
out=$(qemu/vm.sh run "modprobe -d '$dest' rvs && grep '^rvs ' /proc/modules && '$dest/usr/local/sbin/rvsadm' -L -n" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ "$rc" = 0 ] && grep -q '^rvs ' <<<"$out" && grep -q '^IP Virtual Server version 1.2.1' <<<"$out"
result "the installed rvs.ko loads by modprobe (its modules.dep), the installed rvsadm lists its table" $?

echo "# ---- make deb, then in a VM booted from the packaged kernel: the packages into a clean Debian 12 root"
# The root: debootstrap's minbase of bookworm (and kmod), made once and
# kept in the cache; each run installs into a fresh copy of it, chrooted
# into from the VM (the VM's own root is an overlay on the host's, where
# dpkg's renames fail).
debs() {
	make -s deb >tests/out/deb.log 2>&1 || return 1
	[ "$(ls tool/target/deb/*.deb | wc -l)" = 3 ] || return 1
	rm -rf tests/out/deb-boot tests/out/debroot
	dpkg-deb -x tool/target/deb/linux-image-*.deb tests/out/deb-boot
	local root=${RVS_CACHE:-$HOME/.cache/rvs}/debian12-root
	if [ ! -e "$root/.done" ]; then
		rm -rf "$root"
		debootstrap --variant=minbase --include=kmod bookworm "$root" >tests/out/debootstrap.log 2>&1 ||
			{ tail -n 5 tests/out/debootstrap.log; return 1; }
		touch "$root/.done"
	fi
	cp -a "$root" tests/out/debroot
	mkdir tests/out/debroot/debs
	cp tool/target/deb/*.deb tests/out/debroot/debs/
}
debs
result "make deb: the kernel, rvs.ko and rvsadm packages; a clean Debian 12 root (debootstrap)" $?
out=$(RVS_VM_KIMG=$(ls tests/out/deb-boot/boot/vmlinuz-*) qemu/vm.sh run '
r=$PWD/tests/out/debroot rel=$(uname -r)
for m in proc sys dev; do mount --bind /$m $r/$m; done
chroot $r sh -c "
! command -v rvsadm && [ ! -e /lib/modules/$rel ] || { echo installed before the packages; exit 1; }
dpkg -i /debs/*.deb >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
echo installed: \$(dpkg-query -W -f=\"\\\${Status}\\n\" linux-image-$rel-rvs rvs-modules-$rel rvsadm | grep -c \"install ok installed\")
modprobe rvs && grep \"^rvs \" /proc/modules && rvsadm -A -t 192.0.2.1:80 -s wlc && rvsadm -L -n &&
ls -1 /usr/share/man/man8/rvsadm.8.gz /usr/share/bash-completion/completions/rvsadm &&
rvsadm -C && modprobe -r rvs && dpkg -r rvsadm rvs-modules-$rel >/dev/null &&
[ ! -e /lib/modules/$rel/extra/rvs.ko ] && [ ! -e /usr/sbin/rvsadm ] && echo removed"
rc=$?
for m in proc sys dev; do umount $r/$m; done
exit $rc' 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ "$rc" = 0 ] && grep -q '^installed: 3' <<<"$out" && grep -q '^TCP  192.0.2.1:80 wlc' <<<"$out" &&
	grep -q '^/usr/share/man/man8/rvsadm.8.gz' <<<"$out" && grep -q '^removed' <<<"$out"
result "in a VM booted from the packaged kernel, the packages install into the clean root (dpkg -i): modprobe rvs, rvsadm -L -n, its manual page; then removed" $?
rm -rf tests/out/debroot

echo "# ---- host: the VM runner"
# (One boot for two checks: the output passed, and no network card: a card
# has a device behind it in sysfs; tunnels, dummy and lo do not.)
out=$(qemu/vm.sh run 'echo hello from $(uname -r); echo "cards: $(ls -d /sys/class/net/*/device 2>/dev/null | grep -c .)"; exit 0' 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ "$rc" = 0 ] && grep -q '^hello from ' <<<"$out"
result "vm-run passes a command's output and status 0" $?
qemu/vm.sh run 'exit 3' >/dev/null 2>&1
[ $? = 3 ]
result "vm-run exits with the command's status (3)" $?
qemu/vm.sh run 'echo "WARNING: rvs test warning" >/dev/kmsg; exit 0' >tests/out/warn.log 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q 'WARNING: rvs test warning' tests/out/warn.log
result "vm-run fails and shows the log when the guest kernel warns" $?
qemu/vm.sh run 'echo "BUG: rvs test bug" >/dev/kmsg' >/dev/null 2>&1
[ $? != 0 ]
result "vm-run fails when the guest kernel log has a BUG line" $?
grep -q '^cards: 0' <<<"$(tr -d '\r' <<<"$out")"
result "the VM has no network card besides loopback" $?

# Speed is shown, never asserted; a benchmark fails only if it did not do
# all its work (a listing incomplete, a flush that left entries, traffic
# that did not arrive). Here both run short on the test kernel, to prove
# they work; `make bench` gives the figures (benchmark kernel, full sizes).
# All in one boot, at the end of the second chain (kmemleak off); each
# one's status is written to a file in the guest.
benchmarks() {
	vm1 'RVS_BENCH_SERVICES=2000 RVS_BENCH_ROUNDS=1 tests/bench-ctl.sh 2>&1 | tee tests/out/bench-ctl.log
echo "${PIPESTATUS[0]}" >tests/out/bench-ctl.rc
RVS_BENCH_SECS=1 RVS_BENCH_ROUNDS=1 RVS_BENCH_BULK=1 RVS_BENCH_SETTLE=6 RVS_BENCH_CONNS=10000 tests/bench-dp.sh 2>&1 |
	tee tests/out/bench-dp.log
echo "${PIPESTATUS[0]}" >tests/out/bench-dp.rc
RVS_BENCH_SYNC=20000 tests/bench-sync.sh 2>&1 | tee tests/out/bench-sync.log
echo "${PIPESTATUS[0]}" >tests/out/bench-sync.rc
RVS_BENCH_LEVELS="1000 5000" RVS_BENCH_SECS=1 RVS_BENCH_IDLE=1 tests/bench-conntab.sh 2>&1 | tee tests/out/bench-conntab.log
echo "${PIPESTATUS[0]}" >tests/out/bench-conntab.rc
tests/demo.sh >tests/out/demo.log 2>&1
echo "$?" >tests/out/demo.rc'
}

# demo_ok: make demo (run in the benchmarks' boot) ended well, and its
# summary shows each method's connections spread as its scheduler and
# weights say (the expected column equal to the counted ones).
demo_ok() {
	[ "$(cat tests/out/demo.rc 2>/dev/null)" = 0 ] || return 1
	[ "$(awk '/^(NAT|DR|TUN) / && NF >= 6 {
		n++; for (i = 0; i < 3; i++) if ($(NF - 5 + i) != $(NF - 2 + i)) bad++
	} END { print n + 0, bad + 0 }' tests/out/demo.log)" = "3 0" ]
}

echo "# ---- VM suite"
# Under TCG every guest is CPU-bound, so the files run in one-vCPU VMs on
# two chains side by side, one per host core, each about half of the work.
# kmemleak costs every allocation (t-ipv6.sh: 145 s with it, 101 s
# without, 2026-12-05): only the files that check leaks (kmemleak_check)
# run in a VM that tracks them; the others boot with kmemleak=off.
#   main chain:   NOLEAK_MAIN (kmemleak off)
#   second chain: the leak-checking files (kmemleak on), then NOLEAK_SIDE
#                 (off), t-lockout.sh's lockout at the default bound in a
#                 LOCKOUT_MEM MB VM, the live sync test (two VMs,
#                 tests/interop.sh), the short benchmarks.
# Every other file goes to the main chain; each file's time is printed.
LEAK_FILES=$(grep -l kmemleak_check tests/t-*.sh | tr '\n' ' ')
NOLEAK_SIDE="tests/t-health.sh tests/t-ecmp.sh tests/t-metrics.sh"
NOLEAK_MAIN=$(for f in tests/t-*.sh; do
	case " $LEAK_FILES $NOLEAK_SIDE " in *" $f "*) ;; *) printf '%s ' "$f" ;; esac
done)
vm1() { RVS_VM_CPUS=1 qemu/vm.sh run "$@"; }
LOCKOUT_MEM=128
export RVS_VM_APPEND=kmemleak=off
(
	RVS_VM_APPEND= vm1 "RVS_TEST_FILES='$LEAK_FILES' tests/vm-suite.sh" >tests/out/vm-suite-leak.log 2>&1
	echo $? >tests/out/vm-suite-leak.rc
	vm1 "RVS_TEST_FILES='$NOLEAK_SIDE' tests/vm-suite.sh" >tests/out/vm-suite-side.log 2>&1
	echo $? >tests/out/vm-suite-side.rc
	# The lockout at rvs.ko's default bound (a quarter of RAM), in a VM
	# small enough for the floods to pass it.
	RVS_VM_MEM=$LOCKOUT_MEM vm1 "RVS_LOCKOUT_DEFAULT=1 RVS_TEST_FILES=tests/t-lockout.sh tests/vm-suite.sh" \
		>tests/out/vm-suite-small.log 2>&1
	echo $? >tests/out/vm-suite-small.rc
	t0=$SECONDS
	tests/interop.sh >tests/out/interop.log 2>&1
	echo "$? $((SECONDS - t0))" >tests/out/interop.rc
	t0=$SECONDS
	benchmarks >tests/out/bench.log 2>&1
	echo "$((SECONDS - t0))" >tests/out/bench.secs
) &
side=$!
vm1 "RVS_TEST_FILES='$NOLEAK_MAIN' tests/vm-suite.sh" 2>&1 | tee tests/out/vm-suite.log
vrc=${PIPESTATUS[0]}
wait "$side"
echo "# ---- VM suite, second chain: kmemleak on ($LEAK_FILES)"
cat tests/out/vm-suite-leak.log
echo "# ---- VM suite, second chain: kmemleak off ($NOLEAK_SIDE)"
cat tests/out/vm-suite-side.log
echo "# ---- VM suite, second chain: a $LOCKOUT_MEM MB VM (t-lockout.sh at the default bound)"
cat tests/out/vm-suite-small.log
summary() { # summary LOG RC
	local line p f s
	line=$(grep -E '^vm-suite: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$1" | tail -n1)
	if [ -n "$line" ]; then
		read -r p f s < <(sed 's/vm-suite: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped/\1 \2 \3/' <<<"$line")
		pass=$((pass + p)) failn=$((failn + f)) skip=$((skip + s))
		if [ "$2" != 0 ] && [ "$f" = 0 ]; then
			result "VM suite run $1 (exit $2)" 1
		fi
	else
		result "VM suite run $1 (no summary; exit $2)" 1
	fi
}
summary tests/out/vm-suite.log "$vrc"
summary tests/out/vm-suite-leak.log "$(cat tests/out/vm-suite-leak.rc 2>/dev/null || echo 1)"
summary tests/out/vm-suite-side.log "$(cat tests/out/vm-suite-side.rc 2>/dev/null || echo 1)"
summary tests/out/vm-suite-small.log "$(cat tests/out/vm-suite-small.rc 2>/dev/null || echo 1)"
echo "# ---- live sync between two VMs (tests/interop.sh, $(cut -d' ' -f2 tests/out/interop.rc 2>/dev/null) s)"
cat tests/out/interop.log
line=$(grep -E '^interop: [0-9]+ passed, [0-9]+ failed' tests/out/interop.log | tail -n1)
if [ -n "$line" ]; then
	read -r p f < <(sed 's/interop: \([0-9]*\) passed, \([0-9]*\) failed/\1 \2/' <<<"$line")
	pass=$((pass + p)) failn=$((failn + f))
else
	result "live sync between two VMs (no summary)" 1
fi

echo "# ---- benchmarks, short (make bench: full sizes on the benchmark kernel; $(cat tests/out/bench.secs 2>/dev/null) s)"
grep -v '^\[rvs\]' tests/out/bench.log
result "control-plane benchmark: 2,000 services x 10 destinations added, listed completely, flushed, on both modules" \
	"$(cat tests/out/bench-ctl.rc 2>/dev/null || echo 1)"
result "data-plane benchmark: traffic by routing, ip_vs.ko and rvs.ko (NAT, TUN, DR), 10,000 entries each" \
	"$(cat tests/out/bench-dp.rc 2>/dev/null || echo 1)"
result "sync benchmark: 20,000 connections replayed into an ip_vs.ko and an rvs.ko backup, every one taken" \
	"$(cat tests/out/bench-sync.rc 2>/dev/null || echo 1)"
# The picture of the data-plane table: one bar group of three a row.
svg_rows() {
	python3 - tests/out/bench-dp.svg tests/out/bench-dp.txt <<'PY'
import sys, xml.dom.minidom
bars = [r for r in xml.dom.minidom.parse(sys.argv[1]).getElementsByTagName("rect") if r.getAttribute("height") != "12"]
num = lambda w: w.replace(".", "", 1).isdigit()
rows = sum(1 for l in open(sys.argv[2]) if len(l.split()) >= 6 and all(map(num, l.split()[-5:])) and not num(l.split()[-6]))
sys.exit(0 if rows >= 9 and len(bars) - 1 == 3 * rows else 1)
PY
}
svg_rows
result "data-plane benchmark: its table drawn in tests/out/bench-dp.svg (three bars a row)" $?
result "scale benchmark: 1,000 and 5,000 entries in ip_vs.ko (4096 and 2^20 buckets) and rvs.ko, traffic through each" \
	"$(cat tests/out/bench-conntab.rc 2>/dev/null || echo 1)"
echo "# ---- make demo (in the same boot)"
sed -n '/^== summary/,/^-- /p' tests/out/demo.log 2>/dev/null | sed '$d'
demo_ok
result "make demo: NAT, DR and TUN each spread 12 connections as its scheduler says (4 4 4, 6 4 2, 4 4 4)" $?

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $failn failed, $skip skipped"
else
	echo "$pass passed, $failn failed"
fi
[ "$failn" = 0 ]
