#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (or reuse) the rvs test kernel: Debian's linux-source-6.12 + the
# patch series in qemu/patches + qemu/kernel.config, with LLVM=1 and Debian's
# rustc, in $RVS_CACHE (default ~/.cache/rvs), keyed by a hash of its inputs.
# RVS_KERNEL_VARIANT=bench (or kasan) builds another kernel: the same with
# qemu/kernel-bench.config (kernel-kasan.config) merged last.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$RVS_ROOT/qemu/install-deps.sh"

# The config fragment of this variant: kernel.config, and for another
# variant its lines for the options kernel-VARIANT.config names replaced
# by those.
fragment=$(mktemp)
trap 'rm -f "$fragment"' EXIT
if [ "$RVS_KERNEL_VARIANT" != test ]; then
	extra="$RVS_ROOT/qemu/kernel-$RVS_KERNEL_VARIANT.config"
	opts=$(grep -oE 'CONFIG_[A-Z0-9_]+' "$extra" | sort -u)
	grep -vwF -f <(echo "$opts") "$RVS_ROOT/qemu/kernel.config" >"$fragment"
	cat "$extra" >>"$fragment"
else
	cp "$RVS_ROOT/qemu/kernel.config" "$fragment"
fi

inputs_hash() {
	{
		cat "$fragment" "$RVS_ROOT/qemu/build-kernel.sh"
		cat "$RVS_ROOT"/qemu/patches/*.patch
		dpkg-query -W -f='${Version}\n' linux-source-6.12
		/usr/bin/rustc --version
		"$RVS_CARGO_BIN/bindgen" --version
		clang --version | head -1
	} | sha256sum | cut -c1-16
}

key=$(inputs_hash)
dir="$RVS_CACHE/$RVS_KERNEL_PREFIX-$key"
src="$dir/linux"
logs="$dir/logs"
mkdir -p "$logs"

link_current() {
	ln -sfn "$RVS_KERNEL_PREFIX-$key" "$RVS_CACHE/$RVS_KERNEL_PREFIX.new"
	mv -T "$RVS_CACHE/$RVS_KERNEL_PREFIX.new" "$RVS_CACHE/$RVS_KERNEL_PREFIX"
}

if [ -e "$dir/.done" ]; then
	link_current
	rvs_log "$RVS_KERNEL_VARIANT kernel $key is built: $dir (reused)"
	exit 0
fi

# run STEP CMD...: run a step with its output in logs/STEP.log; while it runs,
# print progress every 30 s; on failure name the step and its log.
run() {
	local step=$1
	shift
	local log="$logs/$step.log"
	local t0=$SECONDS
	rvs_log "kernel: $step (log: $log)"
	"$@" >"$log" 2>&1 &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		for _ in $(seq 30); do
			sleep 1
			kill -0 "$pid" 2>/dev/null || break
		done
		if kill -0 "$pid" 2>/dev/null; then
			rvs_log "kernel: $step ... $((SECONDS - t0)) s: $(tail -n1 "$log" | cut -c1-100)"
		fi
	done
	if ! wait "$pid"; then
		tail -n 30 "$log" >&2
		rvs_die "kernel step '$step' failed; full log: $log"
	fi
	rvs_log "kernel: $step done in $((SECONDS - t0)) s"
}

kmake() {
	env "${RVS_KMAKE_ENV[@]}" make -C "$src" "${RVS_KMAKE_VARS[@]}" "$@"
}

if [ ! -e "$dir/.unpacked" ]; then
	rm -rf "$src" "$dir/tmp"
	mkdir -p "$dir/tmp"
	run unpack tar -xf "$RVS_KSRC_TARBALL" -C "$dir/tmp"
	mv "$dir"/tmp/linux-source-6.12 "$src"
	rmdir "$dir/tmp"
	for p in "$RVS_ROOT"/qemu/patches/*.patch; do
		run "patch-$(basename "$p" .patch)" patch -p1 -d "$src" -i "$p"
	done
	touch "$dir/.unpacked"
fi

if [ ! -e "$dir/.configured" ]; then
	run rustavailable kmake rustavailable
	run tinyconfig kmake tinyconfig
	run merge-config env "${RVS_KMAKE_ENV[@]}" "$src/scripts/kconfig/merge_config.sh" \
		-m -O "$src" "$src/.config" "$fragment"
	run olddefconfig kmake olddefconfig
	# Options whose dependencies are off are dropped silently: refuse that.
	missing=()
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$src/.config" || missing+=("$line") ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			! grep -q "^$opt=" "$src/.config" || missing+=("$line")
			;;
		esac
	done <"$fragment"
	if [ ${#missing[@]} -gt 0 ]; then
		rvs_die "kernel config: not set as asked (a dependency is off): ${missing[*]}"
	fi
	touch "$dir/.configured"
fi

jobs=$(($(nproc) + 1))
run build kmake -j"$jobs" bzImage modules
rm -rf "$dir/modroot"
run modules_install kmake INSTALL_MOD_PATH="$dir/modroot" modules_install
make -s -C "$src" kernelrelease >"$dir/release"
touch "$dir/.done"
link_current
# Older builds of this variant (other inputs) are of no further use (the
# glob's 16 characters are a key: the other variant's names are longer).
for old in "$RVS_CACHE/$RVS_KERNEL_PREFIX"-????????????????; do
	[ "$old" = "$dir" ] || rm -rf "$old"
done
rvs_log "$RVS_KERNEL_VARIANT kernel $key built: $dir"
