#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build rvs.ko for another kernel variant (RVS_KERNEL_VARIANT=bench|kasan|lockdep),
# which is built first if need be: the sources are copied to
# $RVS_CACHE/module-VARIANT (the repository's own build is the test
# kernel's). Prints the module's path.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ "$RVS_KERNEL_VARIANT" != test ] || rvs_die "the test kernel's rvs.ko is built by make module"
"$RVS_ROOT/qemu/build-kernel.sh"
out="$RVS_CACHE/module-$RVS_KERNEL_VARIANT"
rm -rf "$out"
mkdir -p "$out"
cp -r "$RVS_ROOT/Kbuild" "$RVS_ROOT/rust" "$out/"
find "$out" \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' -o -name '*.mod*' -o -name '*.rmeta' \) -delete
env "${RVS_KMAKE_ENV[@]}" make -s -C "$(rvs_kdir)" "${RVS_KMAKE_VARS[@]}" M="$out" modules >&2
rvs_log "built $out/rvs.ko for the $RVS_KERNEL_VARIANT kernel"
echo "$out/rvs.ko"
