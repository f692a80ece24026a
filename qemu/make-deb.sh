#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make deb`: Debian packages for a real director, into tool/target/deb/:
#   linux-image-RELEASE-rvs  the custom kernel as built here (vmlinuz,
#                            config, System.map, its modules); its scripts
#                            run /etc/kernel/postinst.d and postrm.d as
#                            Debian's kernel packages do (initramfs, grub)
#   rvs-modules-RELEASE      rvs.ko for that kernel (lib/modules/RELEASE/extra)
#   rvsadm                   the CLI, its manual page and bash completion
# Made with dpkg-deb from what `make` built (the kernel's own bindeb-pkg
# would build in the shared, cached tree again). Prints the packages' paths.
set -euo pipefail
source "$(dirname "$0")/env.sh"

kdir=$(rvs_kdir)
rel=$(cat "$kdir/include/config/kernel.release")
modroot="$RVS_CACHE/$RVS_KERNEL_PREFIX/modroot"
ver=$(sed -n 's/^version = "\(.*\)"/\1/p' "$RVS_ROOT/tool/Cargo.toml" | head -n1)
[ -n "$ver" ] || rvs_die "no version in tool/Cargo.toml"
out="$RVS_ROOT/tool/target/deb"
rm -rf "$out"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

copyright() { # copyright DIR PACKAGE
	mkdir -p "$1/usr/share/doc/$2"
	cat >"$1/usr/share/doc/$2/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: rvs
Files: *
License: GPL-2
 On Debian systems, the full text of the GNU General Public License
 version 2 can be found in /usr/share/common-licenses/GPL-2.
EOF
}

# control DIR PACKAGE VERSION DEPENDS DESCRIPTION
control() {
	mkdir -p "$1/DEBIAN"
	{
		echo "Package: $2"
		echo "Version: $3"
		echo "Architecture: amd64"
		echo "Maintainer: rvs developers <rvs@localhost>"
		echo "Installed-Size: $(du -sk --exclude=DEBIAN "$1" | cut -f1)"
		[ -z "$4" ] || echo "Depends: $4"
		echo "Section: admin"
		echo "Priority: optional"
		echo "Description: $5"
	} >"$1/DEBIAN/control"
}

# script DIR NAME BODY: a maintainer script.
script() {
	printf '#!/bin/sh\nset -e\n%s\n' "$3" >"$1/DEBIAN/$2"
	chmod 0755 "$1/DEBIAN/$2"
}

build() { dpkg-deb --root-owner-group -Zxz --build "$1" "$out/" >/dev/null; }

# The kernel.
k="$stage/kernel"
mkdir -p "$k/boot" "$k/lib/modules"
install -m 0644 "$kdir/arch/x86/boot/bzImage" "$k/boot/vmlinuz-$rel"
install -m 0644 "$kdir/.config" "$k/boot/config-$rel"
install -m 0644 "$kdir/System.map" "$k/boot/System.map-$rel"
cp -a "$modroot/lib/modules/$rel" "$k/lib/modules/"
rm -f "$k/lib/modules/$rel/build" "$k/lib/modules/$rel/source"
copyright "$k" "linux-image-$rel-rvs"
control "$k" "linux-image-$rel-rvs" "$rel-rvs1" "kmod" \
	"Linux $rel with the rvs patch series (the kernel rvs.ko needs)
 Debian's linux-source-6.12 with rvs's patches (qemu/patches/) and
 configuration (qemu/kernel.config), as built by rvs's make kernel."
hooks='[ -d /etc/kernel/%s.d ] && run-parts --report --exit-on-error --arg='"$rel"' --arg=/boot/vmlinuz-'"$rel"' /etc/kernel/%s.d'
script "$k" postinst "depmod -a $rel
$(printf "$hooks" postinst postinst) || true"
script "$k" postrm "$(printf "$hooks" postrm postrm) || true"
build "$k"

# rvs.ko for it.
m="$stage/module"
install -D -m 0644 "$RVS_ROOT/rvs.ko" "$m/lib/modules/$rel/extra/rvs.ko"
copyright "$m" "rvs-modules-$rel"
control "$m" "rvs-modules-$rel" "$ver-1" "linux-image-$rel-rvs" \
	"rvs.ko: Linux Virtual Server in Rust, for Linux $rel (rvs)
 The IPVS load balancer as a Rust kernel module, a drop-in for ip_vs.ko:
 the same netlink family, /proc files, sysctls and sync messages.
 Load it with 'modprobe rvs' (ip_vs must not be loaded)."
script "$m" postinst "depmod -a $rel"
script "$m" postrm "depmod -a $rel 2>/dev/null || true"
build "$m"

# rvsadm.
a="$stage/rvsadm"
install -D -m 0755 "$RVS_ROOT/tool/target/release/rvsadm" "$a/usr/sbin/rvsadm"
install -D -m 0644 "$RVS_ROOT/tool/rvsadm/rvsadm.8" "$a/usr/share/man/man8/rvsadm.8"
gzip -9n "$a/usr/share/man/man8/rvsadm.8"
install -D -m 0644 "$RVS_ROOT/tool/rvsadm/completion/rvsadm" \
	"$a/usr/share/bash-completion/completions/rvsadm"
copyright "$a" rvsadm
control "$a" rvsadm "$ver-1" "libc6" \
	"administer Linux Virtual Server (rvs.ko or ip_vs.ko)
 ipvsadm's commands, options and formats over the IPVS netlink family,
 with --json, errors in words and Prometheus metrics (rvsadm metrics)."
build "$a"

ls "$out"/*.deb
