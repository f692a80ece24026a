#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed and hostile IPv4 and IPv6 traffic (TCP, UDP, SCTP, ICMP) for the bad-traffic test,
sent as raw Ethernet frames (AF_PACKET: the kernel fixes nothing) from the
client's interface to the director.

  badpkt.py IFACE DST_MAC SRC_IP VIP PORT malformed   every malformed kind
  badpkt.py IFACE DST_MAC SRC_IP6 VIP6 PORT malformed6
                                                   every malformed IPv6 kind
                                                   (extension header chains,
                                                   fragments, ICMPv6)
  badpkt.py IFACE DST_MAC SRC_IP VIP PORT synflood N  N SYNs from N ports
  badpkt.py IFACE DST_MAC SRC_IP VIP PORT initflood N N SCTP INITs from N ports
  badpkt.py IFACE DST_MAC SRC_IP VIP PORT flows KIND N ADDRS
                                                   N spoofed flows from ADDRS
                                                   addresses from SRC_IP on
                                                   (flow i from address
                                                   i % ADDRS): KIND udp (one
                                                   datagram), synack (a SYN,
                                                   then an ACK), syn
  badpkt.py IFACE DST_MAC SRC_IP VIP PORT ports N FIRST [syn]
                                                   N UDP datagrams (or
                                                   SYNs) from SRC_IP:PORT
                                                   to VIP's ports FIRST on
                                                   (one bucket's chain, N
                                                   long)
  badpkt.py IFACE DST_MAC SRC_IP DST PORT frag1 PROTO
                                                   the first fragment (64
                                                   bytes, more to come) of a
                                                   datagram of protocol
                                                   PROTO to DST, alone
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


def a6(x):
    return socket.inet_pton(socket.AF_INET6, x)


def ip6(src, dst, nh, payload, plen=None, hlim=64):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, plen & 0xFFFF, nh, hlim, a6(src), a6(dst)) + payload


def ext(nh, n8, body=b""):
    """An extension header (hop-by-hop, routing, destination options) of
    (n8 + 1) * 8 bytes, padded."""
    h = struct.pack("!BB", nh, n8) + body
    return h + b"\0" * ((n8 + 1) * 8 - len(h))


def frag6(nh, offset, more, ident=0x1234):
    return struct.pack("!BBHI", nh, 0, (offset << 3) | int(more), ident)


def l4sum6(src, dst, proto, seg):
    ph = a6(src) + a6(dst) + struct.pack("!I3xB", len(seg), proto)
    return csum(ph + seg)


def tcp6(src, dst, sport, dport, flags, doff=5):
    h = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0, doff << 4, flags, 65535, 0, 0)
    return h[:16] + struct.pack("!H", l4sum6(src, dst, 6, h)) + h[18:]


def udp6(src, dst, sport, dport, data=b"x", length=None):
    length = 8 + len(data) if length is None else length
    h = struct.pack("!HHHH", sport, dport, length, 0) + data
    return h[:6] + struct.pack("!H", l4sum6(src, dst, 17, h)) + h[8:]


def icmp6(src, dst, ty, code, body, good=True):
    h = struct.pack("!BBHI", ty, code, 0, 0) + body
    c = l4sum6(src, dst, 58, h) if good else 0x1234
    return h[:2] + struct.pack("!H", c) + h[4:]


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC32C = _crc32c_table()


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = CRC32C[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def chunk(ty, body=b"", length=None, flags=0):
    """An SCTP chunk padded to 4 bytes (length: the field, if not the true one)."""
    length = 4 + len(body) if length is None else length
    c = struct.pack("!BBH", ty, flags, length & 0xFFFF) + body
    return c + b"\0" * (-len(c) % 4)


def init_body(tag=None):
    tag = random.getrandbits(32) | 1 if tag is None else tag
    return struct.pack("!IIHHI", tag, 65536, 10, 10, random.getrandbits(32))


def sctp(sport, dport, chunks, vtag=0, good=True):
    """An SCTP packet: common header, chunks, its CRC32c (good or not)."""
    h = struct.pack("!HHII", sport, dport, vtag, 0) + chunks
    c = crc32c(h) if good else 0x12345678
    return h[:8] + struct.pack("<I", c) + h[12:]


def malformed_sctp(mk, port):
    """(name, packet) of every malformed SCTP kind, IP header by mk(proto,
    payload)."""
    sp = lambda i: 42000 + i  # noqa: E731
    init = chunk(1, init_body())
    kinds = [
        ("SCTP header cut at 8 bytes", mk(132, sctp(sp(0), port, init)[:8])),
        ("SCTP common header alone", mk(132, sctp(sp(1), port, b""))),
        ("SCTP chunk header cut at 2 bytes", mk(132, sctp(sp(2), port, b"\x01\x00"))),
        ("SCTP INIT of chunk length 0", mk(132, sctp(sp(3), port, chunk(1, init_body(), length=0)))),
        ("SCTP INIT of chunk length 2", mk(132, sctp(sp(4), port, chunk(1, init_body(), length=2)))),
        ("SCTP INIT longer than the packet", mk(132, sctp(sp(5), port, chunk(1, init_body(), length=4000)))),
        ("SCTP INIT with a bad CRC", mk(132, sctp(sp(6), port, init, good=False))),
        ("SCTP INIT with a tag 0", mk(132, sctp(sp(7), port, chunk(1, init_body(tag=0))))),
        ("SCTP COOKIE ECHO of length 0xffff, an ABORT after", mk(132, sctp(sp(8), port, chunk(10, b"c" * 8, length=0xFFFF) + chunk(6)))),
        ("SCTP COOKIE ECHO of length 3, an ABORT after", mk(132, sctp(sp(9), port, chunk(10, b"", length=3) + chunk(6)))),
        ("SCTP COOKIE ECHO of 600 bytes, an ABORT after", mk(132, sctp(sp(10), port, chunk(10, os.urandom(596)) + chunk(6)))),
        ("SCTP COOKIE ACK, then a chunk cut short", mk(132, sctp(sp(11), port, chunk(11) + b"\x06")),),
        ("SCTP DATA without an association", mk(132, sctp(sp(12), port, chunk(0, os.urandom(20)), vtag=7))),
        ("SCTP ABORT without an association", mk(132, sctp(sp(13), port, chunk(6), vtag=7))),
        ("SCTP SHUTDOWN COMPLETE without an association", mk(132, sctp(sp(14), port, chunk(14), vtag=7))),
        ("SCTP INIT bundled with DATA", mk(132, sctp(sp(15), port, init + chunk(0, b"x" * 16)))),
    ]
    for i in range(60):
        body = b"".join(chunk(random.randrange(256), os.urandom(random.randrange(0, 24)),
                              length=random.choice([None, random.randrange(65536)]))
                        for _ in range(random.randrange(1, 4)))
        kinds.append((f"SCTP junk chunks {i}", mk(132, sctp(sp(16 + i), port, body, vtag=random.getrandbits(32)))))
        kinds.append((f"SCTP junk {i}", mk(132, os.urandom(random.randrange(0, 40)))))
    return kinds


def malformed6(src, vip, port):
    """(name, packet) of every malformed IPv6 kind."""
    t = tcp6(src, vip, 40000, port, 0x02)
    u = udp6(src, vip, 40001, port)
    syn = lambda sp: tcp6(src, vip, sp, port, 0x02)  # noqa: E731
    chain = lambda n, last: b"".join(ext(60 if i + 1 < n else last, 0) for i in range(n))  # noqa: E731
    kinds = [
        ("IPv6 header cut at 20 bytes", ip6(src, vip, 6, t)[:20]),
        ("payload length beyond the frame", ip6(src, vip, 6, t, plen=1400)),
        ("payload length cutting the TCP header", ip6(src, vip, 6, t, plen=10)),
        ("payload length 0 (no jumbo option)", ip6(src, vip, 6, t, plen=0)),
        ("version 4 in an IPv6 frame", b"\x45" + ip6(src, vip, 6, t)[1:]),
        ("truncated TCP header", ip6(src, vip, 6, t[:10])),
        ("truncated UDP header", ip6(src, vip, 17, u[:4])),
        ("TCP data offset 2", ip6(src, vip, 6, tcp6(src, vip, 40002, port, 0x02, doff=2))),
        ("TCP data offset 15, no options", ip6(src, vip, 6, tcp6(src, vip, 40003, port, 0x02, doff=15))),
        ("UDP length beyond the packet", ip6(src, vip, 17, udp6(src, vip, 40004, port, length=900))),
        ("hop-by-hop header longer than the packet", ip6(src, vip, 0, ext(6, 200) [:16] + t)),
        ("hop-by-hop header cut in two", ip6(src, vip, 0, b"\x06")),
        ("destination options, then no next header", ip6(src, vip, 60, ext(59, 0) + t)),
        ("8 destination options, then a SYN", ip6(src, vip, 60, chain(8, 6) + syn(40011))),
        ("9 destination options, then a SYN", ip6(src, vip, 60, chain(9, 6) + syn(40012))),
        ("64 destination options, then a SYN", ip6(src, vip, 60, chain(64, 6) + syn(40013))),
        ("routing header type 0", ip6(src, vip, 43, struct.pack("!BBBB4x", 6, 2, 0, 1) + a6(vip) + syn(40014))),
        ("AH of length 0", ip6(src, vip, 51, struct.pack("!BBH", 6, 0, 0) + t)),
        ("AH longer than the packet", ip6(src, vip, 51, struct.pack("!BBH", 6, 250, 0) + t)),
        ("first fragment (M), never completed", ip6(src, vip, 44, frag6(6, 0, True) + syn(40015))),
        ("lone middle fragment", ip6(src, vip, 44, frag6(6, 100, True) + os.urandom(64))),
        ("lone last fragment", ip6(src, vip, 44, frag6(17, 200, False) + os.urandom(64))),
        ("atomic fragment (offset 0, no more), a SYN", ip6(src, vip, 44, frag6(6, 0, False) + syn(40016))),
        ("fragment header cut short", ip6(src, vip, 44, b"\x06\x00")),
        ("hop limit 0", ip6(src, vip, 6, syn(40017), hlim=0)),
        ("hop limit 1", ip6(src, vip, 6, syn(40018), hlim=1)),
    ]
    for name, flags in [("SYN+FIN", 0x03), ("SYN+RST", 0x06), ("no flags", 0x00), ("all flags", 0xFF),
                        ("FIN alone", 0x01), ("RST alone", 0x04), ("ACK alone", 0x10), ("SYN+ACK", 0x12)]:
        kinds.append((f"TCP {name}", ip6(src, vip, 6, tcp6(src, vip, 41000 + flags, port, flags))))
    quoted = ip6(vip, src, 6, tcp6(vip, src, port, 40010, 0x12))[:48]
    ic = lambda ty, code, body, good=True: ip6(src, vip, 58, icmp6(src, vip, ty, code, body, good))  # noqa: E731
    kinds += [
        ("ICMPv6 port unreachable for no connection", ic(1, 4, quoted)),
        ("ICMPv6 packet too big for no connection", ic(2, 0, quoted)),
        ("ICMPv6 error quoting 4 bytes", ic(1, 4, quoted[:4])),
        ("ICMPv6 error quoting a bad header", ic(3, 0, b"\x4f" + quoted[1:])),
        ("ICMPv6 error quoting a fragment", ic(1, 4, ip6(vip, src, 44, frag6(6, 10, False) + os.urandom(8)))),
        ("ICMPv6 error quoting a long chain", ic(1, 4, ip6(vip, src, 60, chain(12, 6) + tcp6(vip, src, port, 1, 0x12)))),
        ("ICMPv6 bad checksum", ic(1, 4, quoted, good=False)),
        ("ICMPv6 truncated header", ip6(src, vip, 58, b"\x01\x04")),
        ("ICMPv6 echo request to the VIP", ic(128, 0, b"ping")),
        ("protocol 41 (IPv6 in IPv6) to the VIP", ip6(src, vip, 41, ip6(src, vip, 6, t))),
        ("protocol 4 (IPv4 in IPv6) junk", ip6(src, vip, 4, os.urandom(20))),
    ]
    kinds += malformed_sctp(lambda nh, p: ip6(src, vip, nh, p), port)
    quoted_sctp = ip6(vip, src, 132, sctp(port, 42000, chunk(2, init_body())))[:52]
    kinds.append(("ICMPv6 error quoting SCTP, no association", ic(1, 4, quoted_sctp)))
    for i in range(200):
        nh = random.choice([0, 6, 17, 43, 44, 51, 58, 60, 132])
        kinds.append((f"junk6 {i}", ip6(src, vip, nh, os.urandom(random.randrange(0, 120)))))
        kinds.append((f"random6 {i}", b"\x60" + os.urandom(random.randrange(0, 100))))
    return kinds


def main():
    iface, dmac, src, vip, port, what = sys.argv[1:7]
    port = int(port)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    smac = open(f"/sys/class/net/{iface}/address").read().strip()
    ethtype = b"\x86\xdd" if what == "malformed6" else b"\x08\x00"
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + ethtype

    def send(pkt):
        s.send(eth + pkt)

    if what == "malformed6":
        kinds = malformed6(src, vip, port)
        for name, pkt in kinds:
            for _ in range(3):
                send(pkt)
        print(f"sent {3 * len(kinds)} malformed IPv6 packets of {len(kinds)} kinds")
        return

    if what == "synflood":
        n = int(sys.argv[7])
        for i in range(n):
            sp = 10000 + i
            send(ip(src, vip, 6, tcp(src, vip, sp, port, 0x02)))
        print(f"sent {n} SYNs")
        return
    if what == "flows":
        kind, n, addrs = sys.argv[7], int(sys.argv[8]), int(sys.argv[9])
        first = struct.unpack("!I", socket.inet_aton(src))[0]
        for i in range(n):
            a = socket.inet_ntoa(struct.pack("!I", first + i % addrs))
            sp = 1024 + i // addrs
            if kind == "udp":
                send(ip(a, vip, 17, udp(a, vip, sp, port)))
            elif kind == "synack":
                seq = random.getrandbits(32)
                send(ip(a, vip, 6, tcp(a, vip, sp, port, 0x02, seq=seq)))
                send(ip(a, vip, 6, tcp(a, vip, sp, port, 0x10, seq=(seq + 1) & 0xFFFFFFFF)))
            elif kind == "syn":
                send(ip(a, vip, 6, tcp(a, vip, sp, port, 0x02)))
            else:
                sys.exit(f"badpkt.py: no flow kind {kind}")
        print(f"sent {n} {kind} flows from {addrs} addresses")
        return
    if what == "ports":
        n, first = int(sys.argv[7]), int(sys.argv[8])
        syn = sys.argv[9:] == ["syn"]
        for i in range(n):
            if syn:
                send(ip(src, vip, 6, tcp(src, vip, port, first + i, 0x02)))
            else:
                send(ip(src, vip, 17, udp(src, vip, port, first + i)))
        what = "SYNs" if syn else "datagrams"
        print(f"sent {n} {what} from port {port} to ports {first}-{first + n - 1}")
        return
    if what == "frag1":
        proto = int(sys.argv[7])
        send(ip(src, vip, proto, os.urandom(64), frag=0x2000))
        print(f"sent the first fragment of a protocol {proto} datagram")
        return
    if what == "initflood":
        n = int(sys.argv[7])
        for i in range(n):
            send(ip(src, vip, 132, sctp(10000 + i, port, chunk(1, init_body()))))
        print(f"sent {n} INITs")
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
    kinds += malformed_sctp(lambda proto, p: ip(src, vip, proto, p), port)
    quoted_sctp = ip(vip, src, 132, sctp(port, 42000, chunk(2, init_body())))[:28]
    kinds.append(("ICMP error quoting SCTP, no association", ip(src, vip, 1, icmp(3, 3, quoted_sctp))))
    # Random junk after a sound IPv4 header start, and random bytes.
    for i in range(200):
        body = os.urandom(random.randrange(0, 80))
        kinds.append((f"junk {i}", ip(src, vip, random.choice([1, 6, 17, 132]), body)))
        kinds.append((f"random {i}", os.urandom(random.randrange(1, 100))))
    for name, pkt in kinds:
        for _ in range(3):
            send(pkt)
            sent += 1
    print(f"sent {sent} malformed packets of {len(kinds)} kinds")


if __name__ == "__main__":
    main()
