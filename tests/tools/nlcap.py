#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Capture generic netlink traffic through an nlmon device while a command
runs, one frame per line:  "u <hex>" (a request, NLM_F_REQUEST set: sent
by a user socket) or "k <hex>" (sent by the kernel).  A frame can hold
several netlink messages (a dump reply does).  The packet socket sees every
nlmon frame as outgoing, so the direction is read from the message flags.

    nlcap.py [--unique] OUT -- COMMAND [ARG...]

With --unique a frame is kept only the first time it is seen with its
sequence numbers and port ids zeroed (test vectors: every distinct message
once, as the wire carried it).

The nlmon device must exist and be up in the caller's network namespace
(nlmon taps are per namespace); its name is taken from $NLMON (nlmon0).
"""
import os
import socket
import subprocess
import sys
import threading
import time

ETH_P_ALL = 0x0003
NETLINK_GENERIC = 16
NLM_F_REQUEST = 0x1


def anonymous(frame):
    """The frame with every sequence number and port id zeroed, in its
    messages' headers and in the request headers echoed by errors."""
    b = bytearray(frame)
    off = 0
    while off + 16 <= len(b):
        n = int.from_bytes(b[off:off + 4], sys.byteorder)
        b[off + 8:off + 16] = bytes(8)
        if int.from_bytes(b[off + 4:off + 6], sys.byteorder) == 2 and n >= 36:
            b[off + 28:off + 36] = bytes(8)
        if n < 16:
            break
        off += (n + 3) & ~3
    return bytes(b)


def main():
    args = sys.argv[1:]
    unique = args[:1] == ["--unique"]
    if unique:
        args = args[1:]
    if len(args) < 3 or args[1] != "--":
        sys.exit(__doc__)
    out, cmd = args[0], args[2:]
    dev = os.environ.get("NLMON", "nlmon0")
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # SO_RCVBUFFORCE (root): a large queue so that nothing is dropped even
    # if the reader falls behind a burst of dump replies.
    sock.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)
    sock.bind((dev, 0))
    frames = []
    done = threading.Event()

    def reader():
        # Until the command has ended and the queue has been quiet for
        # 0.2 s, or 5 s after the end at most (netlink traffic of others,
        # udev's say, must not keep the capture open for ever).
        sock.settimeout(0.2)
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            if deadline is None and done.is_set():
                deadline = time.monotonic() + 5
            try:
                data, addr = sock.recvfrom(1 << 20)
            except socket.timeout:
                if done.is_set():
                    return
                continue
            if addr[1] != NETLINK_GENERIC or len(data) < 16:
                continue
            flags = int.from_bytes(data[6:8], sys.byteorder)
            way = "u" if flags & NLM_F_REQUEST else "k"
            frames.append(way + " " + data.hex())

    t = threading.Thread(target=reader)
    t.start()
    rc = subprocess.call(cmd)
    done.set()
    t.join()
    # PACKET_STATISTICS: frames dropped by the packet socket.
    stats = sock.getsockopt(263, 6, 8)
    drops = int.from_bytes(stats[4:8], sys.byteorder)
    if drops:
        sys.exit(f"nlcap: {drops} frames dropped")
    seen = set()
    kept = 0
    with open(out, "w") as f:
        for line in frames:
            if unique:
                key = anonymous(bytes.fromhex(line[2:]))
                if key in seen:
                    continue
                seen.add(key)
            f.write(line + "\n")
            kept += 1
    print(f"nlcap: {kept} of {len(frames)} frames to {out}", file=sys.stderr)
    sys.exit(rc)


if __name__ == "__main__":
    main()
