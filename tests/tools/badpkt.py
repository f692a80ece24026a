#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed and hostile IPv4 traffic for the bad-traffic test, sent as raw
Ethernet frames (AF_PACKET: the kernel fixes nothing) from the client's
interface to the director.

  badpkt.py IFACE DST_MAC SRC_IP VIP PORT malformed   every malformed kind
  badpkt.py IFACE DST_MAC SRC_IP VIP PORT synflood N  N SYNs from N ports
  badpkt.py IFACE DST_MAC SRC_IP VIP PORT synflood-for SECS
                                                   SYNs for SECS s, from
                                                   SRC_IP and the 99 next
                                                   addresses, every port
"""
import errno
import os
import random
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip(src, dst, proto, payload, ihl=5, tot=None, frag=0, ttl=64, opts=b""):
    tot = 20 + len(opts) + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot & 0xFFFF, random.getrandbits(16),
                    frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(src, dst, sport, dport, flags, doff=5, data=b"", seq=None):
    seq = random.getrandbits(32) if seq is None else seq
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, doff << 4, flags, 65535, 0, 0)
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(h) + len(data))
    c = csum(ph + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def udp(src, dst, sport, dport, data=b"x", length=None):
    length = 8 + len(data) if length is None else length
    return struct.pack("!HHHH", sport, dport, length, 0) + data


def icmp(ty, code, body):
    h = struct.pack("!BBHI", ty, code, 0, 0) + body
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def main():
    iface, dmac, src, vip, port, what = sys.argv[1:7]
    port = int(port)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    smac = open(f"/sys/class/net/{iface}/address").read().strip()
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x08\x00"

    def send(pkt):
        s.send(eth + pkt)

    if what == "synflood":
        n = int(sys.argv[7])
        for i in range(n):
            sp = 10000 + i
            send(ip(src, vip, 6, tcp(src, vip, sp, port, 0x02)))
        print(f"sent {n} SYNs")
        return
    if what == "synflood-for":
        end = time.time() + float(sys.argv[7])
        first = struct.unpack("!I", socket.inet_aton(src))[0]
        n = 0
        while time.time() < end:
            for _ in range(1000):
                a = socket.inet_ntoa(struct.pack("!I", first + (n // 64000) % 100))
                try:
                    send(ip(a, vip, 6, tcp(a, vip, 1024 + n % 64000, port, 0x02)))
                except OSError as e:
                    # The device's queue is full: as fast as it goes.
                    if e.errno != errno.ENOBUFS:
                        raise
                    time.sleep(0.001)
                    continue
                n += 1
        print(f"sent {n} SYNs")
        return
    sent = 0
    t = tcp(src, vip, 40000, port, 0x02)
    u = udp(src, vip, 40001, port)
    kinds = [
        ("ihl 4", ip(src, vip, 6, t, ihl=4)),
        ("ihl 15 beyond the packet", ip(src, vip, 6, t[:4], ihl=15)),
        ("tot_len beyond the frame", ip(src, vip, 6, t, tot=1400)),
        ("tot_len below ihl", ip(src, vip, 6, t, tot=12)),
        ("tot_len cutting the TCP header", ip(src, vip, 6, t, tot=30)),
        ("truncated TCP header", ip(src, vip, 6, t[:10])),
        ("truncated UDP header", ip(src, vip, 17, u[:4])),
        ("TCP data offset 2", ip(src, vip, 6, tcp(src, vip, 40002, port, 0x02, doff=2))),
        ("TCP data offset 15, no options", ip(src, vip, 6, tcp(src, vip, 40003, port, 0x02, doff=15))),
        ("UDP length beyond the packet", ip(src, vip, 17, udp(src, vip, 40004, port, length=900))),
        ("UDP length 0", ip(src, vip, 17, udp(src, vip, 40005, port, length=0))),
        ("first fragment (MF), never completed", ip(src, vip, 6, tcp(src, vip, 40006, port, 0x02), frag=0x2000)),
        ("lone middle fragment", ip(src, vip, 6, os.urandom(64), frag=0x2000 | 100)),
        ("lone last fragment", ip(src, vip, 17, os.urandom(64), frag=200)),
        ("fragment with offset 8191", ip(src, vip, 17, os.urandom(16), frag=0x1FFF)),
        ("IP options, TCP SYN", ip(src, vip, 6, tcp(src, vip, 40007, port, 0x02), ihl=6, opts=b"\x01\x01\x01\x00")),
        ("TTL 0", ip(src, vip, 6, tcp(src, vip, 40008, port, 0x02), ttl=0)),
        ("TTL 1", ip(src, vip, 6, tcp(src, vip, 40009, port, 0x02), ttl=1)),
    ]
    for name, flags in [("SYN+FIN", 0x03), ("SYN+RST", 0x06), ("no flags", 0x00), ("all flags", 0xFF),
                        ("FIN alone", 0x01), ("RST alone", 0x04), ("ACK alone", 0x10), ("SYN+ACK", 0x12),
                        ("URG+PSH+FIN", 0x29)]:
        kinds.append((f"TCP {name}", ip(src, vip, 6, tcp(src, vip, 41000 + flags, port, flags))))
    quoted = ip(vip, src, 6, tcp(vip, src, port, 40010, 0x12))[:28]
    kinds += [
        ("ICMP port unreachable for no connection", ip(src, vip, 1, icmp(3, 3, quoted))),
        ("ICMP frag needed for no connection", ip(src, vip, 1, icmp(3, 4, quoted))),
        ("ICMP error quoting 4 bytes", ip(src, vip, 1, icmp(3, 3, quoted[:4]))),
        ("ICMP error quoting a bad header", ip(src, vip, 1, icmp(11, 0, b"\x4f" + quoted[1:]))),
        ("ICMP error quoting ICMP", ip(src, vip, 1, icmp(3, 3, ip(vip, src, 1, icmp(8, 0, b"ab"))))),
        ("ICMP truncated header", ip(src, vip, 1, b"\x03\x03")),
        ("ICMP bad checksum", ip(src, vip, 1, b"\x03\x03\x00\x00\x00\x00\x00\x00" + quoted)),
        ("protocol 4 (IP in IP) to the VIP", ip(src, vip, 4, ip(src, vip, 6, t))),
        ("protocol 47 (GRE) junk", ip(src, vip, 47, os.urandom(20))),
    ]
    # Random junk after a sound IPv4 header start, and random bytes.
    for i in range(200):
        body = os.urandom(random.randrange(0, 80))
        kinds.append((f"junk {i}", ip(src, vip, random.choice([1, 6, 17]), body)))
        kinds.append((f"random {i}", os.urandom(random.randrange(1, 100))))
    for name, pkt in kinds:
        for _ in range(3):
            send(pkt)
            sent += 1
    print(f"sent {sent} malformed packets of {len(kinds)} kinds")


if __name__ == "__main__":
    main()
