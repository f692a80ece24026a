#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the rvs test kernel under QEMU and run a command in it.
#
#   qemu/vm.sh run 'CMD'   run CMD as root from the repository root; print
#                          its output; exit with its status
#   qemu/vm.sh shell       an interactive shell in the same VM
#
# The VM has no network card (-nic none); the host root is shared read-only
# (with a tmpfs overlay), the repository read-write at its own path, /tmp and
# /run are tmpfs. A guest kernel log showing an Oops, BUG, WARNING, KASAN
# report or panic makes the run fail and is printed.
# Settings: RVS_CACHE, RVS_VM_MEM (MiB, default 2048), RVS_VM_CPUS (2),
# RVS_VM_APPEND (more of the guest kernel's command line),
# RVS_VM_TIMEOUT (seconds, default 3600), RVS_VM_ACCEL (kvm|tcg, default:
# probed once and remembered), RVS_VM_CPU_MODEL (QEMU's -cpu),
# RVS_KERNEL_VARIANT (test|lockdep|kasan|bench: which kernel),
# RVS_VM_ICOUNT (TCG only: QEMU's -icount shift, e.g. 0; the guest's clock
# then counts instructions, 2^shift ns each, so that time measured in the
# guest no longer depends on how fast the host runs it: the benchmarks),
# RVS_VM_KIMG (another kernel image to boot, e.g. the one of make deb's
# package; the modules stay those of RVS_KERNEL_VARIANT's build),
# RVS_VM_TBCOUNT (TCG only: a built tests/tools/tbcount.c, QEMU's plugin
# that counts the guest's instructions; the guest asks it for snapshots in
# /rvs-out: make prof), RVS_VM_CONSOLE (a file that gets the guest's whole
# console log when the VM ends), RVS_VM_LINK (listen:PORT or connect:PORT:
# one virtio card, eth0 in the guest, on a QEMU socket network with
# another VM, over the host's loopback 127.0.0.1 only: make test-interop).
set -euo pipefail
source "$(dirname "$0")/env.sh"

mode=${1:-}
case "$mode" in
run) [ $# -ge 2 ] || rvs_die "usage: $0 run 'CMD'"; cmd=$2 ;;
shell) cmd= ;;
*) rvs_die "usage: $0 run 'CMD' | $0 shell" ;;
esac

kdir="$RVS_CACHE/$RVS_KERNEL_PREFIX"
[ -e "$kdir/.done" ] || rvs_die "no $RVS_KERNEL_VARIANT kernel built in $kdir: run 'make kernel'"
kimg="${RVS_VM_KIMG:-$kdir/linux/arch/x86/boot/bzImage}"
modroot="$(cd "$kdir" && pwd -P)/modroot"

# The initramfs: busybox and our /init, rebuilt when either changes.
initrd_key=$( (sha256sum "$RVS_ROOT/qemu/initramfs-init" /bin/busybox) | sha256sum | cut -c1-16)
initrd="$RVS_CACHE/initramfs-$initrd_key.cpio.gz"
if [ ! -e "$initrd" ]; then
	tmp=$(mktemp -d)
	mkdir -p "$tmp/bin"
	cp /bin/busybox "$tmp/bin/busybox"
	cp "$RVS_ROOT/qemu/initramfs-init" "$tmp/init"
	chmod +x "$tmp/init"
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$tmp"
fi

out=$(mktemp -d /tmp/rvs-vm.XXXXXX)
cleanup() {
	[ -z "${RVS_VM_CONSOLE:-}" ] || cp "$out/console.log" "$RVS_VM_CONSOLE" 2>/dev/null || true
	rm -rf "$out"
}
trap cleanup EXIT
printf '%s\n' "$cmd" >"$out/cmd"
# Pass a few settings through to the command.
{
	for v in RVS_CACHE RVS_TEST_FILTER RVS_TEST_FILES RVS_VERBOSE RVS_FUZZ_COUNT RVS_FUZZ_SEED \
		RVS_BENCH_SERVICES RVS_BENCH_DESTS RVS_BENCH_TOOLS RVS_BENCH_SECS RVS_BENCH_ROUNDS RVS_BENCH_SETTLE RVS_BENCH_CONNS RVS_BENCH_METHODS RVS_BENCH_BULK RVS_BENCH_SYNC \
		RVS_BENCH_LEVELS RVS_BENCH_CONFIGS RVS_BENCH_IDLE RVS_BENCH_NO_TEARDOWN \
		RVS_KO RVS_KERNEL_VARIANT RVS_TEST_TIMEOUT RVS_STRESS_SECS RVS_STRESS_MIN_RESIZES RVS_VM_ICOUNT PROF_METHOD PROF_FLOW PROF_SECS PROF_TOP PROF_FUNC PROF_SYNC; do
		[ -n "${!v:-}" ] && printf '%s=%q\nexport %s\n' "$v" "${!v}" "$v"
	done
} >"$out/env" || true

qemu_base=(qemu-system-x86_64 -nodefaults -no-reboot -nographic -nic none
	-m "${RVS_VM_MEM:-2048}" -smp "${RVS_VM_CPUS:-2}"
	-kernel "$kimg" -initrd "$initrd"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=repo,path=$RVS_ROOT,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=repo,mount_tag=repo
	-fsdev "local,id=out,path=$out,security_model=none"
	-device virtio-9p-pci,fsdev=out,mount_tag=out)
# The one network a VM may have: a point-to-point link to another VM
# through a TCP socket on 127.0.0.1 (the listening side's card ends in :01).
if [ -n "${RVS_VM_LINK:-}" ]; then
	case "$RVS_VM_LINK" in
	listen:[0-9]*) link=(listen "${RVS_VM_LINK#listen:}" 01) ;;
	connect:[0-9]*) link=(connect "${RVS_VM_LINK#connect:}" 02) ;;
	*) rvs_die "RVS_VM_LINK: listen:PORT or connect:PORT, not $RVS_VM_LINK" ;;
	esac
	qemu_base+=(-netdev "socket,id=link,${link[0]}=127.0.0.1:${link[1]}"
		-device "virtio-net-pci,netdev=link,mac=52:54:00:00:00:${link[2]}")
fi
# In the guest the output directory is /rvs-out (its /tmp is a fresh tmpfs).
# Under TCG on a busy host a vCPU can be starved for seconds: only a stall
# of minutes is a real one.
append="console=ttyS0 ignore_loglevel panic=-1 rcupdate.rcu_cpu_stall_timeout=300 rcupdate.rcu_cpu_stall_suppress_at_boot=1 rvs.repo=$RVS_ROOT rvs.out=/rvs-out rvs.modroot=$modroot"
# The KASAN kernel interprets ACPI's AML so slowly under TCG that the PCI
# interrupt routing methods (_PRT, the link devices) run into ACPICA's 30-s
# loop timeout: boots took 95 s, and when _PRT itself gave up, the first
# virtio-9p device got no interrupt and the mount of the host root waited
# for ever (2026-11-27: "virtio-pci 0000:00:02.0: PCI INT A: no GSI", the
# mount in p9_client_rpc). pci=noacpi routes PCI interrupts by the BIOS's
# table instead: the same kernel boots in about 8 s, every time.
if [ "${RVS_KERNEL_VARIANT:-test}" = kasan ]; then
	append+=" pci=noacpi"
fi
append+="${RVS_VM_APPEND:+ $RVS_VM_APPEND}"

# KVM only where a short boot probe shows that it works (a nested KVM guest
# can hang silently); the answer is remembered per kernel.
accel=${RVS_VM_ACCEL:-}
if [ -z "$accel" ]; then
	probe="$kdir/accel"
	if [ ! -e "$probe" ]; then
		accel=tcg
		if [ -w /dev/kvm ]; then
			printf 'true\n' >"$out/cmd"
			# (A second command keeps bash from reporting QEMU's abort.)
			if (timeout 20 "${qemu_base[@]}" -accel kvm -cpu max -serial null -serial null \
				-append "$append rvs.mode=run"; exit $?) >/dev/null 2>&1 &&
				[ "$(cat "$out/rc" 2>/dev/null)" = 0 ]; then
				accel=kvm
			fi
			rm -f "$out/rc" "$out/dmesg"
			printf '%s\n' "$cmd" >"$out/cmd"
		fi
		echo "$accel" >"$probe"
	fi
	accel=$(cat "$probe")
fi
# Under TCG without XSAVE: the guest then keeps to SSE state (no AVX), which
# QEMU saves and restores faster on every context switch (measured here:
# t-ctl-concurrency and t-topology in one run, 93 s against 104 s with
# all of -cpu max). RVS_VM_CPU_MODEL overrides.
if [ "$accel" = tcg ]; then
	cpu=(-cpu "${RVS_VM_CPU_MODEL:-max,-xsave}")
else
	cpu=(-cpu "${RVS_VM_CPU_MODEL:-max}")
fi

if [ "$accel" = tcg ] && [ -n "${RVS_VM_ICOUNT:-}" ]; then
	cpu+=(-icount "shift=$RVS_VM_ICOUNT,sleep=off")
fi

if [ "$accel" = tcg ] && [ -n "${RVS_VM_TBCOUNT:-}" ]; then
	cpu+=(-plugin "$RVS_VM_TBCOUNT,dir=$out")
fi

console="$out/console.log"
if [ "$mode" = shell ]; then
	"${qemu_base[@]}" -accel "$accel" "${cpu[@]}" -serial "file:$console" -serial mon:stdio \
		-append "$append rvs.mode=shell" || true
	rc=$(cat "$out/rc" 2>/dev/null || echo 1)
else
	set +e
	timeout "${RVS_VM_TIMEOUT:-3600}" "${qemu_base[@]}" -accel "$accel" "${cpu[@]}" \
		-serial "file:$console" -serial stdio -append "$append rvs.mode=run" </dev/null
	qrc=$?
	set -e
	if [ -e "$out/rc" ]; then
		rc=$(cat "$out/rc")
	else
		rvs_log "the VM ended without the command's status (qemu exit $qrc); guest console:"
		tail -n 100 "$console" >&2 || true
		exit 1
	fi
fi

# Fail on any sign of a kernel problem in the guest's log.
bad='(Oops|BUG:|WARNING:|KASAN|UBSAN|Kernel panic|general protection fault|Call Trace:|rcu: INFO|INFO: task .* blocked|refcount_t:|list_(add|del) corruption)'
if grep -Eq "$bad" "$console"; then
	rvs_log "the guest kernel log shows a problem:"
	grep -E -B5 -A40 "$bad" "$console" | head -n 200 >&2
	exit 1
fi
exit "$rc"
