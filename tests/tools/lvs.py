#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Traffic for the data-plane tests, run inside the namespaces.

  lvs.py serve PORT NAME ADDR...
                                TCP+UDP servers: PORT echoes, PORT+1 answers
                                NAME; UDP on each ADDR
  lvs.py names ADDR PORT N [--udp] [--hold]
                                N connections (or datagrams), one after the
                                other; prints the name each got, one per line.
                                --hold keeps the TCP connections open until
                                the last one is made.
  lvs.py udp ADDR PORT          stdin as one datagram; the reply to stdout
  lvs.py udp-ask ADDR PORT [SECONDS]
                                one datagram; prints "answer", "refused" (an
                                ICMP port unreachable came back) or "timeout"
                                (after SECONDS, 5 by default)
  lvs.py udp-hold ADDR PORT SPORT UNTIL
                                one datagram from SPORT, its answer awaited
                                ("answer"), the socket held until the file
                                UNTIL exists
  lvs.py icmp6-ptb SRC DST MTU QSRC QDST QSPORT QDPORT
                                an ICMPv6 Packet Too Big (MTU) from SRC to DST
                                about a UDP datagram QSRC:QSPORT -> QDST:QDPORT
  lvs.py reuse ADDR PORT N SPORT
                                N TCP connections one after the other, all
                                from source port SPORT, each reset by the
                                client (no TIME_WAIT, so the port is free
                                at once); prints the name each got
  lvs.py fetch ADDR PORT FILE RATE
                                one TCP connection read into FILE (flushed as
                                it comes) at RATE bytes a second at most;
                                prints "closed BYTES" when the server closed
                                it, else "broken BYTES REASON"
  lvs.py stream ADDR PORT SECONDS
                                one TCP connection sending a chunk every 0.1 s
                                and reading the echo; prints "ok BYTES" if every
                                byte came back, else "broken BYTES REASON".
  lvs.py fetch-many ADDR PORT N DIR RATE
                                N TCP connections at once, each read into DIR/I
                                at RATE bytes a second at most; prints "started"
                                once all are connected, then "closed K broken M"
                                and a line "broken I REASON" for each broken one
  lvs.py sctp-serve PORT NAME ADDR...
                                SCTP servers bound to each ADDR alone: PORT
                                echoes, PORT+1 answers NAME and holds the
                                association until the client ends it
  lvs.py sctp-echo ADDR PORT SRC [SPORT]
                                stdin over one SCTP association from SRC and
                                back to stdout, then shut down
  lvs.py sctp-names ADDR PORT N SRC [UNTIL]
                                N SCTP associations from SRC; prints the name
                                each got; held until the file UNTIL exists
  lvs.py sctp-stream ADDR PORT SECONDS SRC
                                stream's traffic over an SCTP association
  lvs.py http PORT NAME         HTTP/1.0 server: every GET answers 200 and NAME
  lvs.py poll ADDR PORT[,PORT..] STOPFILE
                                a new HTTP connection to each PORT in turn every
                                100 ms until STOPFILE exists; prints one line per
                                connection: "BEGAN PORT NAME" (BEGAN in seconds
                                since the epoch), NAME "fail[:ERROR]" if
                                it got no answer within half a second
"""
import errno
import http.server
import os
import selectors
import socket
import socketserver
import struct
import sys
import threading
import time


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        while True:
            b = s.recv(65536)
            if not b:
                break
            s.sendall(b)


class Name(socketserver.BaseRequestHandler):
    """Answers its name, then holds the connection until the client
    closes it (so that held connections stay active)."""

    def handle(self):
        s = self.request
        s.sendall(self.server.name + b"\n")
        while s.recv(100):
            pass


class Bye(socketserver.BaseRequestHandler):
    """Answers its name and closes the connection first."""

    def handle(self):
        self.request.sendall(self.server.name + b"\n")


class UdpEcho(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


class UdpName(socketserver.BaseRequestHandler):
    def handle(self):
        _, sock = self.request
        sock.sendto(self.server.name + b"\n", self.client_address)


class TServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024


class TServer6(TServer):
    """The same on IPv6 (only: the IPv4 one has the port there)."""

    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


class UServer6(socketserver.ThreadingUDPServer):
    address_family = socket.AF_INET6


def family(addr):
    """The address family of a numeric address."""
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def any_addr(addr):
    """The wildcard address of addr's family."""
    return "::" if ":" in addr else "0.0.0.0"


def serve(port, name, udp_addrs):
    # UDP answers must come from the address asked (the VIP for DR and
    # TUN): one UDP socket per local address.
    servers = [
        TServer(("0.0.0.0", port), Echo),
        TServer(("0.0.0.0", port + 1), Name),
        TServer(("0.0.0.0", port + 2), Bye),
        TServer6(("::", port), Echo),
        TServer6(("::", port + 1), Name),
        TServer6(("::", port + 2), Bye),
    ]
    for a in udp_addrs:
        udp = UServer6 if ":" in a else socketserver.ThreadingUDPServer
        servers.append(udp((a, port), UdpEcho))
        servers.append(udp((a, port + 1), UdpName))
    for s in servers:
        s.name = name.encode()
        threading.Thread(target=s.serve_forever, daemon=True).start()
    while True:
        time.sleep(3600)


def sctp_socket(addr):
    """A one-to-one SCTP socket of addr's family."""
    return socket.socket(family(addr), socket.SOCK_STREAM, socket.IPPROTO_SCTP)


def sctp_serve(port, name, addrs):
    # One listener per address (bound to it alone, so that the INIT ACK
    # offers no other address of the host: the association keeps to the
    # one the director forwards): echo on port, the name on port + 1 (the
    # association then held until the client ends it).
    def echo(c):
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)

    def named(c):
        with c:
            c.sendall(name.encode() + b"\n")
            while c.recv(100):
                pass

    def accept(ls, handler):
        while True:
            c, _ = ls.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()

    for a in addrs:
        for p, handler in ((port, echo), (port + 1, named)):
            ls = sctp_socket(a)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((a, p))
            ls.listen(128)
            threading.Thread(target=accept, args=(ls, handler), daemon=True).start()
    while True:
        time.sleep(3600)


def sctp_connect(addr, port, src, sport=0):
    s = sctp_socket(addr)
    s.settimeout(20)
    # From the client's one address (else the INIT offers all of them).
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    s.connect((addr, port))
    return s


def sctp_echo(addr, port, src, sport=0):
    # stdin to addr:port and back to stdout, over one association (SCTP
    # has no half-close: the bytes are counted back, then it is shut down).
    data = sys.stdin.buffer.read()
    s = sctp_connect(addr, port, src, sport)
    t = threading.Thread(target=s.sendall, args=(data,))
    t.start()
    got = bytearray()
    while len(got) < len(data):
        b = s.recv(65536)
        if not b:
            break
        got += b
    t.join()
    sys.stdout.buffer.write(got)
    s.close()


def sctp_names(addr, port, n, src, until):
    # n associations, each printing the name it got; held open until the
    # file `until` exists (if given), then all shut down.
    held = []
    for _ in range(n):
        s = sctp_connect(addr, port, src)
        print(read_line(s), flush=True)
        held.append(s)
    while until and not os.path.exists(until):
        time.sleep(0.05)
    for s in held:
        s.close()


def udp_hold(addr, port, sport, until):
    # One datagram from port sport, its answer awaited; the socket then
    # held (so that ICMP errors about the flow find it) until the file
    # `until` exists, 120 s at most.
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((any_addr(addr), sport))
    s.sendto(b"?", (addr, port))
    s.recv(100)
    print("answer", flush=True)
    end = time.monotonic() + 120
    while not os.path.exists(until) and time.monotonic() < end:
        time.sleep(0.05)


def icmp6_ptb(src, dst, mtu, qsrc, qdst, qsport, qdport):
    # An ICMPv6 Packet Too Big from src to dst quoting a 1400-byte UDP
    # datagram qsrc:qsport -> qdst:qdport (the kernel sums it).
    udp = struct.pack("!HHHH", qsport, qdport, 1400 - 40, 0) + bytes(32)
    quoted = struct.pack("!IHBB16s16s", 6 << 28, 1400 - 40, 17, 63,
                         socket.inet_pton(socket.AF_INET6, qsrc),
                         socket.inet_pton(socket.AF_INET6, qdst)) + udp
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.bind((src, 0))
    s.sendto(struct.pack("!BBHI", 2, 0, 0, mtu) + quoted, (dst, 0))


def read_line(s):
    """One line from TCP socket s, stripped (what came before EOF)."""
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(100)
        if not b:
            break
        buf += b
    return buf.decode().strip()


def names(addr, port, n, udp, hold, one_socket=False):
    # LVS_SRC: the source address to send from (a client on the director),
    # or several, space-separated: connection i from the (i mod k)-th.
    srcs = os.environ.get("LVS_SRC", "").split() or [None]
    held = []
    one = None
    for i in range(n):
        src = srcs[i % len(srcs)]
        if udp and one_socket:
            # Every datagram from one socket (one-packet scheduling): the
            # answer is read whatever its source (a NAT real server's
            # answers to such datagrams are not translated back).
            if one is None:
                one = socket.socket(family(addr), socket.SOCK_DGRAM)
                one.settimeout(5)
                # LVS_SPORT: from that port (one flow across runs).
                one.bind((any_addr(addr), int(os.environ.get("LVS_SPORT", "0"))))
            one.sendto(b"?", (addr, port))
            print(one.recv(100).decode().strip(), flush=True)
            continue
        if udp:
            s = socket.socket(family(addr), socket.SOCK_DGRAM)
            s.settimeout(5)
            if src:
                s.bind((src, 0))
            s.sendto(b"?", (addr, port))
            print(s.recv(100).decode().strip(), flush=True)
            # Kept open to the end: a closed socket's port could be
            # handed to the next one, whose datagram would then belong
            # to the same connection entry (same real server).
            held.append(s)
            continue
        # LVS_SPORT: connection i from source port LVS_SPORT + i.
        sport = int(os.environ.get("LVS_SPORT", "0"))
        sport = sport + i if sport else 0
        s = socket.create_connection(
            (addr, port), timeout=10, source_address=(src or any_addr(addr), sport)
        )
        print(read_line(s), flush=True)
        if sport:
            # Reset, not closed: no TIME_WAIT keeps the port from the
            # next run (the other module's) that uses it.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if hold:
            held.append(s)
        else:
            s.close()


def stream(addr, port, seconds, sctp_src=None):
    # LVS_TIMEOUT: seconds a read may wait (5; longer where the test
    # holds packets back on purpose).
    # LVS_SPORT: from that source port (the test finds its entry by it).
    # sctp_src: over an SCTP association from that address instead.
    timeout = float(os.environ.get("LVS_TIMEOUT", "5"))
    if sctp_src:
        s = sctp_connect(addr, port, sctp_src)
        s.settimeout(timeout)
    else:
        sport = int(os.environ.get("LVS_SPORT", "0"))
        s = socket.create_connection((addr, port), timeout=timeout, source_address=("0.0.0.0", sport))
    total = 0
    end = time.time() + seconds
    chunk = os.urandom(1000)
    try:
        while time.time() < end:
            s.sendall(chunk)
            got = b""
            while len(got) < len(chunk):
                b = s.recv(len(chunk) - len(got))
                if not b:
                    print(f"broken {total} closed", flush=True)
                    return 1
                got += b
            if got != chunk:
                print(f"broken {total} corrupt", flush=True)
                return 1
            total += len(chunk)
            time.sleep(0.1)
    except OSError as e:
        print(f"broken {total} {e.__class__.__name__}", flush=True)
        return 1
    print(f"ok {total}", flush=True)
    return 0


def reuse(addr, port, n, sport, fin=False):
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(10)
        s.bind(("0.0.0.0", sport))
        s.connect((addr, port))
        print(read_line(s), flush=True)
        if fin:
            # The server closed first (Bye): after its FIN the client's
            # own FIN closes the connection without a TIME_WAIT here.
            while s.recv(100):
                pass
        else:
            # Linger 0: close sends a reset.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        time.sleep(0.2)


def udp(addr, port):
    data = sys.stdin.buffer.read()
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((addr, port))
    s.send(data)
    sys.stdout.buffer.write(s.recv(65536))
    return 0


def udp_ask(addr, port, wait=5.0):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(wait)
    s.connect((addr, port))
    s.send(b"?")
    try:
        s.recv(100)
        print("answer")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    return 0


def fetch(addr, port, path, rate):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(20)
    t0, n = time.time(), 0
    with open(path, "wb") as f:
        try:
            s.connect((addr, port))
            while True:
                b = s.recv(32768)
                if not b:
                    break
                f.write(b)
                f.flush()
                n += len(b)
                ahead = n / rate - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            print("closed", n)
        except OSError as e:
            print("broken", n, e)


class Http(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.name + b"\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def http_serve(port, name):
    s = http.server.ThreadingHTTPServer(("0.0.0.0", port), Http)
    s.daemon_threads = True
    s.name = name.encode()
    s.serve_forever()


def http_get(addr, port, timeout):
    """The body of GET / from addr:port, or "fail"."""
    try:
        with socket.create_connection((addr, port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            buf = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                buf += b
        head, _, body = buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200"):
            return "fail"
        return body.decode().strip() or "fail"
    except OSError as e:
        # The errno's name where there is one (EHOSTUNREACH is a bare
        # OSError).
        code = errno.errorcode.get(e.errno) if e.errno else None
        return "fail:" + (code or e.__class__.__name__)


def poll(addr, ports, stopfile):
    while not os.path.exists(stopfile):
        for port in ports:
            t = time.time()
            name = http_get(addr, port, 0.5)
            print(f"{t:.3f} {port} {name}", flush=True)
        time.sleep(0.1)


def fetch_many(addr, port, n, outdir, rate):
    socks, files = [], []
    for i in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(10)
        s.connect((addr, port))
        s.setblocking(False)
        socks.append(s)
        files.append(open(os.path.join(outdir, str(i)), "wb"))
    print("started", flush=True)
    # Every tick, each connection reads what its rate allows (a stalled
    # one is broken after 20 s without a byte).
    tick = 0.05
    per = max(1, int(rate * tick))
    sel = selectors.DefaultSelector()
    last = {}
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
        last[i] = time.time()
    broken = {}
    closed = 0
    while last:
        t = time.time()
        for key, _ in sel.select(timeout=tick):
            i = key.data
            try:
                b = key.fileobj.recv(per)
            except BlockingIOError:
                continue
            except OSError as e:
                broken[i] = e.__class__.__name__
                b = None
            if b:
                files[i].write(b)
                last[i] = t
                continue
            if b is not None:
                closed += 1
            sel.unregister(key.fileobj)
            key.fileobj.close()
            files[i].close()
            del last[i]
        for i, seen in list(last.items()):
            if t - seen > 20:
                broken[i] = "stalled"
                sel.unregister(socks[i])
                socks[i].close()
                files[i].close()
                del last[i]
        rest = tick - (time.time() - t)
        if rest > 0:
            time.sleep(rest)
    print(f"closed {closed} broken {len(broken)}", flush=True)
    for i, why in sorted(broken.items()):
        print(f"broken {i} {why}", flush=True)
    return 0 if not broken else 1


def main(argv):
    cmd = argv[1]
    if cmd == "serve":
        serve(int(argv[2]), argv[3], argv[4:])
    elif cmd == "names":
        names(argv[2], int(argv[3]), int(argv[4]), "--udp" in argv, "--hold" in argv,
              "--one-socket" in argv)
    elif cmd == "sctp-serve":
        sctp_serve(int(argv[2]), argv[3], argv[4:])
    elif cmd == "sctp-echo":
        sctp_echo(argv[2], int(argv[3]), argv[4], int(argv[5]) if len(argv) > 5 else 0)
    elif cmd == "sctp-names":
        sctp_names(argv[2], int(argv[3]), int(argv[4]), argv[5], argv[6] if len(argv) > 6 else "")
    elif cmd == "udp-hold":
        udp_hold(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif cmd == "icmp6-ptb":
        icmp6_ptb(argv[2], argv[3], int(argv[4]), argv[5], argv[6], int(argv[7]), int(argv[8]))
    elif cmd == "reuse":
        reuse(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), "--fin" in argv)
    elif cmd == "udp":
        return udp(argv[2], int(argv[3]))
    elif cmd == "udp-ask":
        return udp_ask(argv[2], int(argv[3]), *map(float, argv[4:5]))
    elif cmd == "stream":
        return stream(argv[2], int(argv[3]), float(argv[4]))
    elif cmd == "sctp-stream":
        return stream(argv[2], int(argv[3]), float(argv[4]), argv[5])
    elif cmd == "fetch":
        return fetch(argv[2], int(argv[3]), argv[4], float(argv[5]))
    elif cmd == "fetch-many":
        return fetch_many(argv[2], int(argv[3]), int(argv[4]), argv[5], float(argv[6]))
    elif cmd == "http":
        http_serve(int(argv[2]), argv[3])
    elif cmd == "poll":
        poll(argv[2], [int(p) for p in argv[3].split(",")], argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
