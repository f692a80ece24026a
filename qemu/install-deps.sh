#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing rvs needs, where it is missing:
# Debian packages (apt-get) and bindgen (cargo install). Idempotent and quiet
# when everything is there.
set -euo pipefail
source "$(dirname "$0")/env.sh"

packages=(rustc-web rust-web-src rust-web-clippy linux-source-6.12 clang lld llvm libclang-dev
	flex bison bc libelf-dev libssl-dev cpio qemu-system-x86 busybox-static kmod
	iproute2 iputils-ping socat ipvsadm util-linux procps python3 ethtool nftables
	keepalived bird2 debootstrap)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] && sudo= || sudo=sudo
	rvs_log "installing Debian packages: ${missing[*]}"
	log=$(mktemp)
	if ! { $sudo apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
			"${missing[@]}"; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rvs_die "apt-get failed (log: $log)"
	fi
	rm -f "$log"
fi

if ! "$RVS_CARGO_BIN/bindgen" --version 2>/dev/null | grep -q '0\.73\.2'; then
	rvs_log "installing bindgen-cli 0.73.2 (cargo install)"
	cargo install bindgen-cli --version 0.73.2 --locked --quiet
fi

# Prometheus's promtool and node_exporter for tests/t-metrics.sh: the
# binaries only, taken out of Debian's packages into $RVS_CACHE/tools/bin
# (installing the packages would start their services on this machine).
tools="$RVS_CACHE/tools"
if [ ! -x "$tools/bin/promtool" ] || [ ! -x "$tools/bin/prometheus-node-exporter" ]; then
	rvs_log "fetching promtool and prometheus-node-exporter (Debian packages, unpacked into $tools)"
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && apt-get download prometheus prometheus-node-exporter) >"$tmp/log" 2>&1; then
		[ "$(id -u)" = 0 ] && sudo= || sudo=sudo
		$sudo apt-get update -q >>"$tmp/log" 2>&1 || true
		(cd "$tmp" && apt-get download prometheus prometheus-node-exporter) >>"$tmp/log" 2>&1 ||
			{ tail -n 20 "$tmp/log" >&2; rvs_die "apt-get download of prometheus failed"; }
	fi
	mkdir -p "$tools/bin"
	for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$tmp/root"; done
	cp "$tmp/root/usr/bin/promtool" "$tmp/root/usr/bin/prometheus-node-exporter" "$tools/bin/"
	rm -rf "$tmp"
fi
