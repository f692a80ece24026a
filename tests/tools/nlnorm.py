#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print the IPVS messages of an nlcap.py capture one per line, normalised
so that captures of the same commands against two implementations compare
with diff:

- sequence numbers and port ids are zeroed, the family id is shown as "F"
  (inside error messages' echoed headers too);
- generic netlink controller traffic (family resolution) is left out;
- error messages keep their code and the echoed request header; extended
  ack TLVs (the words of an error) are shown separately, as text, because
  the implementations may word a refusal differently;
- the entries of one dump are sorted, because ip_vs.ko lists in hash order.

    nlnorm.py CAPTURE
"""
import sys

GENL_ID_CTRL = 0x10
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_MULTI = 0x2
NLMSGERR_ATTR_MSG = 1


def u16(b, o):
    return int.from_bytes(b[o:o + 2], sys.byteorder)


def u32(b, o):
    return int.from_bytes(b[o:o + 4], sys.byteorder)


def messages(frame):
    off = 0
    while off + 16 <= len(frame):
        n = u32(frame, off)
        if n < 16 or off + n > len(frame):
            raise SystemExit(f"nlnorm: truncated message at {off}")
        yield frame[off:off + n]
        off += (n + 3) & ~3


def norm_header(h):
    typ = u16(h, 4)
    t = "F" if typ > GENL_ID_CTRL else str(typ)
    return f"len={u32(h, 0)} type={t} flags={u16(h, 6):#x}"


def extack(payload):
    """The NLMSGERR_ATTR_MSG text among the TLVs after an error."""
    off = 0
    while off + 4 <= len(payload):
        n, typ = u16(payload, off), u16(payload, off + 2) & 0x3FFF
        if n < 4:
            break
        if typ == NLMSGERR_ATTR_MSG:
            return payload[off + 4:off + n].rstrip(b"\0").decode(errors="replace")
        off += (n + 3) & ~3
    return ""


def render(way, m):
    typ = u16(m, 4)
    if typ == NLMSG_ERROR:
        code = int.from_bytes(m[16:20], sys.byteorder, signed=True)
        echoed = m[20:36]
        # With NLM_F_CAPPED (0x100) only the header is echoed; otherwise the
        # whole request follows, then the TLVs (NLM_F_ACK_TLVS, 0x200).
        rest = m[36:] if u16(m, 6) & 0x100 else m[20 + u32(echoed, 0):]
        words = extack(rest) if u16(m, 6) & 0x200 else ""
        line = f"{way} error code={code} of [{norm_header(echoed)}]"
        return line + (f"\n{way}   extack: {words}" if words else "")
    return f"{way} {norm_header(m)} genl={m[16:20].hex()} attrs={m[20:].hex()}"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    dump = []
    for line in open(sys.argv[1]):
        way, hexdata = line.split()
        for m in messages(bytes.fromhex(hexdata)):
            typ = u16(m, 4)
            if typ == GENL_ID_CTRL:
                continue
            if way == "k" and typ != NLMSG_ERROR and u16(m, 6) & NLM_F_MULTI:
                if typ == NLMSG_DONE:
                    print("\n".join(sorted(dump)))
                    dump = []
                    print(render(way, m))
                else:
                    dump.append(render(way, m))
                continue
            print(render(way, m))
    if dump:
        sys.exit("nlnorm: a dump without its end")


if __name__ == "__main__":
    main()
