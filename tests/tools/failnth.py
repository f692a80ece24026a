#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Starts a sync daemon of the IPVS family with the Nth slab allocation
of the request failing (the kernel's fault injection: CONFIG_FAILSLAB and
/proc/thread-self/fail-nth, written just before the request is sent and
read back after its answer).

usage: failnth.py master|backup IFNAME N

Prints "ERRNO INJECTED": the request's answer (0 or a negative errno) and
whether the Nth allocation came (1: it failed as asked; 0: the request
made fewer than N allocations, so a larger N injects nothing more).
The message is built and the socket opened before fail-nth is written, so
that the count starts at the request itself. Run as root in a test VM.
"""
import socket
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from nlfuzz import NLM_F_ACK, NLM_F_REQUEST, NETLINK_GENERIC, answers, family, msg, nla  # noqa: E402

IPVS_CMD_NEW_DAEMON = 9
IPVS_CMD_ATTR_DAEMON = 3
IPVS_DAEMON_ATTR_STATE = 1
IPVS_DAEMON_ATTR_MCAST_IFN = 2
IPVS_DAEMON_ATTR_SYNC_ID = 3
STATES = {"master": 1, "backup": 2}


def main():
    state, ifname, n = STATES[sys.argv[1]], sys.argv[2].encode(), int(sys.argv[3])
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.bind((0, 0))
    fam = family(sock)
    daemon = (nla(IPVS_DAEMON_ATTR_STATE, struct.pack("I", state))
              + nla(IPVS_DAEMON_ATTR_MCAST_IFN, ifname + b"\0")
              + nla(IPVS_DAEMON_ATTR_SYNC_ID, struct.pack("I", 0)))
    req = msg(fam, NLM_F_REQUEST | NLM_F_ACK, 7, IPVS_CMD_NEW_DAEMON,
              nla(IPVS_CMD_ATTR_DAEMON, daemon))
    # An allocation of the answer may be the one that fails: no answer.
    sock.settimeout(3)
    # Both ends opened first (an open allocates); the file does not seek.
    wr = open("/proc/thread-self/fail-nth", "wb", buffering=0)
    rd = open("/proc/thread-self/fail-nth", "rb", buffering=0)
    wr.write(b"%d" % n)
    try:
        sock.send(req)
        code = answers(sock, 7)
    except socket.timeout:
        code = ["none"]
    except OSError as e:
        # The request's own buffer was the one.
        code = [-e.errno]
    # What is left of the count: 0 once the Nth allocation failed.
    left = int(rd.read().strip() or b"0")
    wr.write(b"0")
    print(code[-1] if code else "none", int(left == 0))


if __name__ == "__main__":
    main()
