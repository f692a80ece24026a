# shellcheck shell=bash
# Shared settings for the kernel build, the module build and the VM runner.
# Sourced, never run.

RVS_CACHE=${RVS_CACHE:-$HOME/.cache/rvs}
RVS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RVS_KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
# The kernel's Rust must be built by Debian's rustc (it has the library
# source); bindgen comes from `cargo install`.
RVS_CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
RVS_KMAKE_ENV=(PATH="/usr/bin:/usr/sbin:/bin:/sbin:$RVS_CARGO_BIN" LLVM=1 ARCH=x86_64)
RVS_KMAKE_VARS=(LLVM=1 ARCH=x86_64 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	BINDGEN="$RVS_CARGO_BIN/bindgen")

rvs_log() { printf '[rvs] %s\n' "$*" >&2; }
rvs_die() { printf '[rvs] error: %s\n' "$*" >&2; exit 1; }

# Which kernel: "test" (qemu/kernel.config, with kmemleak: every test runs
# on it), "lockdep" (the same with lockdep and PROVE_RCU, for
# `make test-lockdep`), "kasan" (KASAN instead of kmemleak, for
# `make test-kasan`) or "bench" (without the debugging options, for
# `make bench`); each is built on first use and cached.
RVS_KERNEL_VARIANT=${RVS_KERNEL_VARIANT:-test}
case "$RVS_KERNEL_VARIANT" in
test) RVS_KERNEL_PREFIX=kernel ;;
bench) RVS_KERNEL_PREFIX=kernel-bench ;;
kasan) RVS_KERNEL_PREFIX=kernel-kasan ;;
lockdep) RVS_KERNEL_PREFIX=kernel-lockdep ;;
*) rvs_die "RVS_KERNEL_VARIANT: test, lockdep, kasan or bench, not $RVS_KERNEL_VARIANT" ;;
esac

# The directory of the current kernel build (qemu/build-kernel.sh keeps the
# `kernel` link pointing at the one matching the committed inputs).
rvs_kdir() { printf '%s/%s/linux' "$RVS_CACHE" "$RVS_KERNEL_PREFIX"; }
