# SPDX-License-Identifier: GPL-2.0
# rvs: Linux Virtual Server in Rust. See README.md.
#
#   make          build the kernel (once, cached), rvs.ko and rvsadm
#   make test     run every test (host cargo test + the VM suite)
#   make demo     boot the VM and show a director at work
#   make vm-run CMD='...'   run a command in the test VM
#   make vm       interactive shell in the test VM
#   make bench    benchmarks: rvs.ko beside ip_vs.ko and routing (own kernel)
#   make test-kasan  the packet-path tests on a KASAN kernel
#   make test-lockdep the packet-path and locking tests on a lockdep kernel
#   make test-stress  the race stress (4 vCPUs) on the lockdep kernel
#   make test-interop live sync between rvs.ko and ip_vs.ko in two VMs
#   make captures regenerate the netlink test vectors of tool/ipvs
#   make install  rvsadm, its manual page and completion, rvs.ko (DESTDIR, PREFIX)
#   make deb      Debian packages: the kernel, rvs.ko for it, rvsadm (tool/target/deb/)

SHELL := /bin/bash
RVS_CACHE ?= $(HOME)/.cache/rvs
export RVS_CACHE
KDIR := $(RVS_CACHE)/kernel/linux
CARGO ?= cargo
KMAKE_VARS := LLVM=1 ARCH=x86_64 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
	BINDGEN=$(HOME)/.cargo/bin/bindgen
KMAKE_PATH := /usr/bin:/usr/sbin:/bin:/sbin:$(HOME)/.cargo/bin

PREFIX ?= /usr/local

.PHONY: deb install prof all deps kernel module tool test test-host test-vm demo vm vm-run clean check captures bench test-kasan test-lockdep test-stress test-interop

all: module tool

deps:
	@qemu/install-deps.sh

kernel: deps
	@qemu/build-kernel.sh

module: kernel
	@env PATH="$(KMAKE_PATH)" $(MAKE) -s -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) modules W=1
	@echo "[rvs] built $(CURDIR)/rvs.ko"

tool: deps
	@cd tool && $(CARGO) build --release --quiet
	@gcc -O2 -Wall -Wextra -o tool/target/flood tests/tools/flood.c
	@echo "[rvs] built $(CURDIR)/tool/target/release/rvsadm"

# rvsadm into PREFIX/sbin, its manual page and bash completion into
# PREFIX/share, rvs.ko into the custom kernel's modules directory
# (lib/modules/RELEASE/extra, then depmod), all under DESTDIR when given.
install: all
	install -D -m 0755 tool/target/release/rvsadm $(DESTDIR)$(PREFIX)/sbin/rvsadm
	install -D -m 0644 tool/rvsadm/rvsadm.8 $(DESTDIR)$(PREFIX)/share/man/man8/rvsadm.8
	install -D -m 0644 tool/rvsadm/completion/rvsadm \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/rvsadm
	@env PATH="$(KMAKE_PATH)" $(MAKE) -s -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra modules_install
	@echo "[rvs] installed rvsadm, rvsadm.8, its completion and rvs.ko under $(DESTDIR)/"

# Debian packages of the custom kernel, of rvs.ko for it and of rvsadm
# (with its manual page and completion), into tool/target/deb/.
deb: all
	@qemu/make-deb.sh

# Host checks of the userspace and of the module's pure logic, and the
# kernel's clippy run over the module (CLIPPY=1).
check: deps kernel
	@cd tool && $(CARGO) fmt --check && $(CARGO) clippy --quiet --all-targets -- -D warnings
	@python3 tests/tools/deps.py >/dev/null || python3 tests/tools/deps.py
	@touch rust/rvs.rs && env PATH="$(KMAKE_PATH)" $(MAKE) -s -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) modules W=1 CLIPPY=1

test: all
	@tests/run.sh

# Benchmarks: tables of rvs.ko beside ip_vs.ko, measured in one VM run, on
# the benchmark kernel (the test kernel without kmemleak and debug checks;
# built on first use, about 12 minutes, and cached) with an rvs.ko built
# for it.
# Under TCG the VM has one vCPU and counts instructions as its time
# (RVS_BENCH_ICOUNT, QEMU's -icount shift: 0, one instruction a
# nanosecond; empty: the host's clock): wall-clock figures moved by 25%
# between two runs of the same module on this machine kind, these by 1%.
# Deterministic, so one round each (RVS_BENCH_ROUNDS); a bulk TCP figure is
# still the median of three streams (RVS_BENCH_BULK), one stream's rate
# being less steady.
# The VM has RVS_BENCH_MEM MiB (6144): tests/bench-conntab.sh fills the
# connection table with 4,000,000 entries on each module.
# The scale benchmark boots once per configuration and leaves its module
# loaded (ip_vs.ko's flush of a million entries takes many minutes).
bench: all
	@ko=$$(RVS_KERNEL_VARIANT=bench qemu/build-module.sh) && \
	export RVS_KERNEL_VARIANT=bench RVS_KO=$$ko RVS_BENCH_TOOLS="$${RVS_BENCH_TOOLS:-rvsadm ipvsadm}" \
	RVS_VM_CPUS=$${RVS_BENCH_CPUS:-1} RVS_VM_ICOUNT=$${RVS_BENCH_ICOUNT-0} \
	RVS_BENCH_ROUNDS=$${RVS_BENCH_ROUNDS:-1} \
		RVS_VM_MEM=$${RVS_BENCH_MEM:-6144} RVS_VM_TIMEOUT=$${RVS_VM_TIMEOUT:-3600} && \
	qemu/vm.sh run 'tests/bench-ctl.sh && tests/bench-dp.sh && tests/bench-sync.sh' && \
	for c in ip_vs 'ip_vs conn_tab_bits=20' rvs; do \
		qemu/vm.sh run "RVS_BENCH_NO_TEARDOWN=1 RVS_BENCH_CONFIGS='$$c' tests/bench-conntab.sh" || exit 1; \
	done && \
	$(MAKE) --no-print-directory prof PROF_SYNC=1 PROF_TOP=$${PROF_TOP:-12}

# Where the packet path's instructions go: a UDP flood (or with
# PROF_FLOW=bulk one TCP stream) by PROF_METHOD (nat, tun, dr) through
# ip_vs.ko and through rvs.ko on the benchmark kernel, every guest
# instruction counted by a QEMU plugin (tests/tools/tbcount.c, built here),
# printed per packet (per MB) and per kernel function.
prof: all
	@ko=$$(RVS_KERNEL_VARIANT=bench qemu/build-module.sh) && \
	gcc -O2 -Wall -shared -fPIC -o tool/target/tbcount.so tests/tools/tbcount.c -lpthread && \
	RVS_KERNEL_VARIANT=bench RVS_KO=$$ko RVS_VM_CPUS=1 RVS_VM_ICOUNT=0 RVS_VM_TBCOUNT=$(CURDIR)/tool/target/tbcount.so \
		qemu/vm.sh run tests/prof.sh

# Live sync interoperability: an rvs.ko master with an ip_vs.ko backup and
# the reverse, in two VMs joined by a QEMU socket network on 127.0.0.1
# (tests/interop.sh). make test runs it too.
test-interop: all
	@tests/interop.sh

# The packet-path tests (t-dataplane, t-ipv6, t-sctp, t-badtraffic, t-conntab:
# the table growing and shrinking under traffic and expiry) on the KASAN kernel
# (generic KASAN, outline; built on first use and cached), with an rvs.ko
# built for it. Too slow under TCG for make test: see docs/testing.md.
test-kasan: all
	@ko=$$(RVS_KERNEL_VARIANT=kasan qemu/build-module.sh) && \
	RVS_KERNEL_VARIANT=kasan RVS_KO=$$ko RVS_VM_TIMEOUT=$${RVS_VM_TIMEOUT:-7200} \
		RVS_TEST_TIMEOUT=$${RVS_TEST_TIMEOUT:-3600} \
		qemu/vm.sh run 'RVS_TEST_FILES="tests/t-dataplane.sh tests/t-ipv6.sh tests/t-sctp.sh tests/t-badtraffic.sh tests/t-conntab.sh" tests/vm-suite.sh'

# The tests of the packet path, of concurrent control and of namespaces on
# the lockdep kernel (lockdep and PROVE_RCU; built on first use and cached),
# with an rvs.ko built for it. Nearly twice as slow under TCG as the test
# kernel, so not in make test: see docs/testing.md.
test-lockdep: all
	@ko=$$(RVS_KERNEL_VARIANT=lockdep qemu/build-module.sh) && \
	RVS_KERNEL_VARIANT=lockdep RVS_KO=$$ko RVS_VM_TIMEOUT=$${RVS_VM_TIMEOUT:-5400} \
		RVS_TEST_TIMEOUT=$${RVS_TEST_TIMEOUT:-2400} \
		RVS_TEST_FILES="tests/t-dataplane.sh tests/t-ipv6.sh tests/t-sctp.sh tests/t-badtraffic.sh tests/t-conntab.sh tests/t-sync.sh tests/t-ctl-concurrency.sh tests/t-topology.sh" \
		qemu/vm.sh run tests/vm-suite.sh

# The race stress of tests/stress-race.sh (resizes, a long chain, listings,
# real servers removed and added, conn_max toggled, then netns del and
# rmmod under a flood) in a 4-vCPU VM, on the lockdep kernel by default
# (RVS_STRESS_KERNEL=kasan for the KASAN one, =test for the test kernel).
test-stress: all
	@v=$${RVS_STRESS_KERNEL:-lockdep}; \
	if [ "$$v" = test ]; then ko=$(CURDIR)/rvs.ko; else ko=$$(RVS_KERNEL_VARIANT=$$v qemu/build-module.sh) || exit 1; fi; \
	RVS_KERNEL_VARIANT=$$v RVS_KO=$$ko RVS_VM_CPUS=4 RVS_VM_TIMEOUT=$${RVS_VM_TIMEOUT:-3600} \
		RVS_TEST_TIMEOUT=$${RVS_TEST_TIMEOUT:-2400} RVS_TEST_FILES=tests/stress-race.sh \
		qemu/vm.sh run tests/vm-suite.sh

# Regenerate the protocol crate's test vectors (tool/ipvs/tests/captures/)
# from ipvsadm/rvsadm traffic with ip_vs.ko and rvs.ko, captured in the VM.
captures: all
	@qemu/vm.sh run 'tests/capture.sh'

demo: all
	@qemu/vm.sh run 'tests/demo.sh'

# CMD reaches the VM verbatim: `$` is not make's (CMD='echo $$HOME' is not
# needed, CMD='echo $HOME' works), quotes are the shell's.
vm-run: export RVS_VM_CMD = $(value CMD)
vm-run: all
	@qemu/vm.sh run "$$RVS_VM_CMD"


vm: all
	@qemu/vm.sh shell

clean:
	-@env PATH="$(KMAKE_PATH)" $(MAKE) -s -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) clean 2>/dev/null
	@cd tool && $(CARGO) clean
