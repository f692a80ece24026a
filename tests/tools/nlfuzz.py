#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A netlink fuzzer for the IPVS generic netlink family.

Sends COUNT messages (random commands with random, nested and mutated
attributes, and mutations of valid requests: bit flips, truncations,
length lies) to the "IPVS" family and reads every answer. Prints a summary
and exits non-zero if a message got no answer. Run as root in a test VM
only; the caller checks the kernel log and the table afterwards.

usage: nlfuzz.py COUNT SEED
"""
import os
import random
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3


def nla(t, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def msg(fam, flags, seq, cmd, attrs, version=1):
    body = struct.pack("BBH", cmd, version, 0) + attrs
    return struct.pack("IHHII", 16 + len(body), fam, flags, seq, 0) + body


def answers(sock, seq):
    """Reads until the ack/error/done of `seq`; returns the error codes seen."""
    codes = []
    while True:
        data = sock.recv(1 << 16)
        off = 0
        while off + 16 <= len(data):
            ln, typ, _, s, _ = struct.unpack_from("IHHII", data, off)
            if ln < 16:
                return codes + ["bad"]
            if s == seq:
                if typ == NLMSG_ERROR:
                    codes.append(struct.unpack_from("i", data, off + 16)[0])
                    return codes
                if typ == NLMSG_DONE:
                    codes.append(0)
                    return codes
            off += (ln + 3) & ~3


def family(sock):
    sock.send(msg(GENL_ID_CTRL, NLM_F_REQUEST, 1, CTRL_CMD_GETFAMILY,
                  nla(CTRL_ATTR_FAMILY_NAME, b"IPVS\0"), version=2))
    data = sock.recv(65536)
    off = 20
    while off < len(data):
        ln, t = struct.unpack_from("HH", data, off)
        if t == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("H", data, off + 4)[0]
        off += (ln + 3) & ~3
    sys.exit("no IPVS family")


def rand_payload(r):
    k = r.random()
    if k < 0.3:
        return struct.pack("H", r.getrandbits(16))
    if k < 0.6:
        return struct.pack("I", r.getrandbits(32))
    if k < 0.7:
        return b""
    if k < 0.8:
        return r.choice([b"rr\0", b"wlc\0", b"none\0", b"x" * 40, b"sh\0\0\0", b"\0"])
    return os.urandom(r.randrange(0, 40))


def rand_nest(r, depth=0):
    out = b""
    for _ in range(r.randrange(0, 12)):
        t = r.randrange(0, 18) | (0x8000 if r.random() < 0.05 else 0)
        if depth < 2 and r.random() < 0.15:
            out += nla(t, rand_nest(r, depth + 1))
        else:
            out += nla(t, rand_payload(r))
    return out


def valid_service(r):
    af = r.choice([2, 10])
    addr = os.urandom(4 if af == 2 else 16) + (b"\0" * 12 if af == 2 else b"")
    s = nla(1, struct.pack("H", af))
    if r.random() < 0.3:
        s += nla(5, struct.pack("I", r.randrange(1, 100)))
    else:
        s += nla(2, struct.pack("H", r.choice([6, 17, 132])))
        s += nla(3, addr) + nla(4, struct.pack(">H", r.randrange(0, 65536)))
    s += nla(6, r.choice([b"rr\0", b"wlc\0", b"mh\0", b"bogus\0"]))
    s += nla(7, struct.pack("II", r.getrandbits(32), r.getrandbits(32)))
    s += nla(8, struct.pack("I", r.randrange(0, 1000)))
    s += nla(9, struct.pack("I", r.choice([0xffffffff, 64, 128, 0, 200])))
    return s


def valid_dest(r):
    d = nla(1, os.urandom(16)) + nla(2, struct.pack(">H", r.randrange(0, 65536)))
    d += nla(3, struct.pack("I", r.randrange(0, 8)))
    d += nla(4, struct.pack("i", r.randrange(-2, 100)))
    d += nla(5, struct.pack("I", r.getrandbits(32))) + nla(6, struct.pack("I", r.getrandbits(32)))
    if r.random() < 0.3:
        d += nla(11, struct.pack("H", r.choice([0, 2, 10, 99])))
    if r.random() < 0.3:
        d += nla(13, bytes([r.randrange(0, 4)])) + nla(14, struct.pack(">H", r.randrange(0, 3)))
    return d


def mutate(r, b):
    b = bytearray(b)
    for _ in range(r.randrange(1, 6)):
        k = r.random()
        if k < 0.5 and len(b) > 20:
            i = r.randrange(20, len(b))
            b[i] ^= 1 << r.randrange(8)
        elif k < 0.7 and len(b) > 24:
            del b[r.randrange(20, len(b)):]
        elif len(b) > 24:
            i = r.randrange(20, len(b) - 2)
            struct.pack_into("H", b, i, r.getrandbits(16))
    return bytes(b)


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    r = random.Random(seed)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.bind((0, 0))
    sock.settimeout(10)
    fam = family(sock)
    stats = {"ok": 0, "refused": 0, "noanswer": 0}
    errnos = {}
    for seq in range(2, count + 2):
        # One message in seven is rvs's connection dump (RVS_CMD_GET_CONN,
        # 0x80: strictly validated filters) with random filters.
        cmd = 0x80 if r.random() < 1 / 7 else r.randrange(0, 20)
        k = r.random()
        if cmd == 0x80:
            attrs = b""
            for _ in range(r.randrange(0, 5)):
                t = r.randrange(0, 9)
                if t == 1:
                    attrs += nla(1 | 0x8000, valid_service(r))
                elif t == 2:
                    attrs += nla(2 | 0x8000, valid_dest(r))
                else:
                    attrs += nla(t, os.urandom(r.choice((0, 1, 2, 4, 16, 17, 40))))
        elif k < 0.4:
            attrs = rand_nest(r)
        else:
            attrs = nla(1, valid_service(r))
            if r.random() < 0.5:
                attrs += nla(2, valid_dest(r))
            if r.random() < 0.2:
                attrs += nla(4, struct.pack("I", r.getrandbits(32)))
        dumps = 0.8 if cmd == 0x80 else 0.2
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if r.random() < dumps else 0)
        m = msg(fam, flags, seq, cmd, attrs)
        if r.random() < 0.5:
            m = mutate(r, m)
            # keep the header's length honest so the message is delivered
            m = struct.pack("I", len(m)) + m[4:]
        try:
            sock.send(m)
            codes = answers(sock, seq)
        except socket.timeout:
            stats["noanswer"] += 1
            continue
        except OSError as e:
            errnos[e.errno] = errnos.get(e.errno, 0) + 1
            stats["refused"] += 1
            continue
        if codes and codes[-1] < 0:
            stats["refused"] += 1
            errnos[-codes[-1]] = errnos.get(-codes[-1], 0) + 1
        else:
            stats["ok"] += 1
    print("nlfuzz: %d messages: %d accepted, %d refused, %d unanswered" %
          (count, stats["ok"], stats["refused"], stats["noanswer"]))
    print("nlfuzz: errnos: " + ", ".join("%d x%d" % kv for kv in sorted(errnos.items())))
    sys.exit(1 if stats["noanswer"] else 0)


if __name__ == "__main__":
    main()
