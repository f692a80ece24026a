#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""IPVS connection sync messages (net/netfilter/ipvs/ip_vs_sync.c's format),
for the sync tests, run inside the namespaces.

  syncmsg.py record IFADDR FILE [GROUP [PORT]]
                      joins GROUP (224.0.0.81) on the interface of IFADDR and
                      appends every datagram to PORT (8848) to FILE as a hex
                      line, until killed
  syncmsg.py decode FILE...
                      one line per entry of every message (version 1 or 0),
                      field by field; the distinct lines, sorted
  syncmsg.py replay IFADDR FILE [GROUP [PORT]]
                      sends FILE's datagrams to the group out of that
                      interface, in order; prints the clock (ns) when the
                      first went and after the last
  syncmsg.py fuzz IFADDR FILE COUNT SEED [GROUP [PORT]]
                      sends COUNT datagrams: FILE's messages mutated
                      (bytes flipped, cut, grown, counts and sizes lied
                      about), random ones, other versions and sync ids
  syncmsg.py gen FILE N VIP:PORT DEST:PORT...
                      writes (as record does) version 1 messages of sync id
                      0 with N established TCP connections (NAT, 900 s)
                      from distinct clients of 192.0.2.0/24 to VIP:PORT,
                      spread over the DESTs, 40 to a message (1448 bytes)
"""
import ipaddress
import os
import random
import socket
import struct
import sys
import time

GROUP = "224.0.0.81"
PORT = 8848


def record(ifaddr, path, group=GROUP, port=PORT):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((group, int(port)))
    mreq = socket.inet_aton(group) + socket.inet_aton(ifaddr)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    with open(path, "a") as f:
        while True:
            b = s.recv(70000)
            f.write(b.hex() + "\n")
            f.flush()


def addr(af, b):
    return str(ipaddress.ip_address(bytes(b)))


def entries(m):
    """The entries of one message as text lines; 'bad ...' for what does
    not parse."""
    out = []
    if len(m) < 4:
        return ["bad short"]
    if m[0] == 0 and len(m) >= 8 and m[5] == 1:
        syncid, size, n = m[1], struct.unpack("!H", m[2:4])[0], m[4]
        p = 8
        for _ in range(n):
            typ, proto, vs = m[p], m[p + 1], struct.unpack("!H", m[p + 2:p + 4])[0]
            flags, state, cport, vport, dport, mark, tmo = struct.unpack("!IHHHHII", m[p + 4:p + 24])
            al = 16 if typ & 1 else 4
            a = p + 24
            c, v, d = (addr(0, m[a + i * al:a + (i + 1) * al]) for i in range(3))
            opts = m[a + 3 * al:p + (vs & 0xfff)].hex()
            out.append(f"v1 id={syncid} type={typ} proto={proto} size={vs & 0xfff} "
                       f"flags={flags:#x} state={state} c={c}:{cport} v={v}:{vport} "
                       f"d={d}:{dport} fwmark={mark} timeout={tmo} opts={opts}")
            p += ((vs & 0xfff) + 3) & ~3
        if p != size:
            out.append(f"bad size {size} != {p}")
    else:
        n, syncid = m[0], m[1]
        p = 4
        for _ in range(n):
            proto, cport, vport, dport = struct.unpack("!xBHHH", m[p:p + 8])
            c, v, d = (addr(0, m[p + 8 + 4 * i:p + 12 + 4 * i]) for i in range(3))
            flags, state = struct.unpack("!HH", m[p + 20:p + 24])
            p += 24 + (24 if flags & 0x600 else 0)
            out.append(f"v0 id={syncid} proto={proto} flags={flags:#x} state={state} "
                       f"c={c}:{cport} v={v}:{vport} d={d}:{dport}")
    return out


def decode(paths):
    lines = set()
    for path in paths:
        with open(path) as f:
            for h in f:
                h = h.strip()
                if h:
                    lines.update(entries(bytes.fromhex(h)))
    for l in sorted(lines):
        print(l)


def sender(ifaddr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
    # SYNC_LOOP=1: the host's own sockets get the datagrams too (a local
    # sender, as any user of the host could be).
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(os.environ.get("SYNC_LOOP", "0")))
    return s


def replay(ifaddr, path, group=GROUP, port=PORT):
    s = sender(ifaddr)
    with open(path) as f:
        msgs = [bytes.fromhex(h.strip()) for h in f if h.strip()]
    # The clock (ns) when the first datagram goes and after the last, for
    # bench-sync.sh (the file read and Python's start not counted).
    t0 = time.time_ns()
    for m in msgs:
        s.sendto(m, (group, int(port)))
    print(t0, time.time_ns())


def mutate(rng, m):
    m = bytearray(m)
    k = rng.randrange(9)
    if k == 0 and m:
        for _ in range(rng.randrange(1, 8)):
            m[rng.randrange(len(m))] = rng.randrange(256)
    elif k == 1:
        m = m[:rng.randrange(len(m) + 1)]
    elif k == 2:
        m += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    elif k == 3 and len(m) >= 4:
        m[2:4] = struct.pack("!H", rng.randrange(65536))
    elif k == 4 and len(m) >= 8:
        m[4] = rng.randrange(256)
    elif k == 5 and len(m) >= 12:
        # An entry's version and size.
        m[10:12] = struct.pack("!H", rng.randrange(65536))
    elif k == 6:
        m = bytearray(rng.randrange(256) for _ in range(rng.randrange(0, 1500)))
        if len(m) >= 4 and rng.randrange(2):
            m[2:4] = struct.pack("!H", len(m))
    elif k == 7 and len(m) >= 2:
        m[1] = rng.randrange(256)
    elif k == 8 and len(m) >= 8:
        m[5] = rng.randrange(3)
        m[0] = rng.randrange(3)
    if len(m) >= 4 and k not in (3, 6) and rng.randrange(2):
        m[2:4] = struct.pack("!H", len(m))
    return bytes(m)


def fuzz(ifaddr, path, count, seed, group=GROUP, port=PORT):
    rng = random.Random(int(seed))
    with open(path) as f:
        base = [bytes.fromhex(h.strip()) for h in f if h.strip()]
    s = sender(ifaddr)
    for i in range(int(count)):
        m = mutate(rng, rng.choice(base))
        try:
            s.sendto(m, (group, int(port)))
        except OSError:
            pass


def gen(path, n, vip, *dests):
    def ap(x):
        a, p = x.rsplit(":", 1)
        return socket.inet_aton(a), int(p)

    v, vport = ap(vip)
    ds = [ap(d) for d in dests]
    # SYNC_TIMEOUT: the entries' timeout in seconds (900); SYNC_CLIENT:
    # the first client address (192.0.2.2), the next one every 60,000.
    timeout = int(os.environ.get("SYNC_TIMEOUT", "900"))
    first = struct.unpack("!I", socket.inet_aton(os.environ.get("SYNC_CLIENT", "192.0.2.2")))[0]
    ents = []
    for i in range(int(n)):
        c = struct.pack("!I", first + i // 60000)
        d, dport = ds[i % len(ds)]
        # type IPv4, TCP, version 0 size 36, flags 0 (NAT), ESTABLISHED.
        ents.append(struct.pack("!BBHIHHHHII", 0, 6, 36, 0, 1, 1024 + i % 60000, vport, dport, 0, timeout)
                    + c + v + d)
    with open(path, "w") as f:
        for k in range(0, len(ents), 40):
            part = ents[k:k + 40]
            body = b"".join(part)
            f.write((struct.pack("!BBHBbH", 0, 0, 8 + len(body), len(part), 1, 0) + body).hex() + "\n")


def main(argv):
    cmd = argv[1]
    if cmd == "record":
        record(*argv[2:])
    elif cmd == "decode":
        decode(argv[2:])
    elif cmd == "replay":
        replay(*argv[2:])
    elif cmd == "fuzz":
        fuzz(*argv[2:])
    elif cmd == "gen":
        gen(*argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
