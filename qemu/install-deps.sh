#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing rvs needs, where it is missing:
# Debian packages (apt-get) and bindgen (cargo install). Idempotent and quiet
# when everything is there.
set -euo pipefail
source "$(dirname "$0")/env.sh"

packages=(rustc-web rust-web-src linux-source-6.12 clang lld llvm libclang-dev
	flex bison bc libelf-dev libssl-dev cpio qemu-system-x86 busybox-static kmod
	iproute2 iputils-ping socat ipvsadm util-linux procps python3 ethtool nftables
	keepalived bird2)

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
