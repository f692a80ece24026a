#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Second stage of the rvs test VM, run as root in the guest's overlay root.
# Sets up the guest (tmpfs, modules, loopback), then runs the command from
# $out/cmd (or an interactive shell) on the second serial port, and leaves
# its exit status and the kernel log in $out.
set -u
echo "rvs-vm: guest-init: started" >/dev/kmsg
# arg NAME: the value of NAME=... on the kernel command line.
arg() {
	for kv in $(cat /proc/cmdline); do
		case "$kv" in "$1"=*) echo "${kv#*=}" ;; esac
	done
}
repo=$(arg rvs.repo)
out=$(arg rvs.out)
mode=$(arg rvs.mode)
modroot=$(arg rvs.modroot)

# The custom kernel's modules, so `modprobe ip_vs` and the kernel's own
# on-demand loading (ip_vs loads schedulers by name) work. Bound before
# /tmp and /run get their tmpfs: the cache may live there on the host.
rel=$(uname -r)
mkdir -p "/lib/modules/$rel"
mount --bind "$modroot/lib/modules/$rel" "/lib/modules/$rel"

mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm
# Process substitution (<(...)) and /dev/stdin need the usual links.
ln -sf /proc/self/fd /dev/fd 2>/dev/null
ln -sf /proc/self/fd/0 /dev/stdin 2>/dev/null
ln -sf /proc/self/fd/1 /dev/stdout 2>/dev/null
ln -sf /proc/self/fd/2 /dev/stderr 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# The repository at its host path (mounted by the initramfs at /.rvs-repo).
mkdir -p "$repo"
mount --bind /.rvs-repo "$repo"


hostname rvs-vm
ip link set lo up
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export TERM=${TERM:-linux}
[ -f "$out/env" ] && . "$out/env"
cd "$repo" || exit 1

echo "rvs-vm: guest-init: running the command" >/dev/kmsg
tty=/dev/ttyS1
if [ "$mode" = shell ]; then
	stty -F $tty sane
	echo "rvs VM: $(uname -r); repository at $repo; 'exit' powers off." >$tty
	setsid -c bash -i <$tty >$tty 2>&1
	rc=$?
else
	# Raw output: the host sees the command's bytes unchanged.
	stty -F $tty raw -echo
	setsid bash -c "$(cat "$out/cmd")" </dev/null >$tty 2>&1
	rc=$?
fi
dmesg >"$out/dmesg" 2>/dev/null
echo "$rc" >"$out/rc"
sync
exit "$rc"
