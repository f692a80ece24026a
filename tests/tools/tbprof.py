#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tbprof.py KALLSYMS BEFORE AFTER [UNITS [TOP [FUNC]]]: the instructions the
guest executed between two tbcount snapshots (tests/tools/tbcount.c), per
kernel function (the /proc/kallsyms of the same boot), most first; per UNIT
(a packet, say) when UNITS is given. Module functions carry their [module].
With FUNC (a regular expression), also the blocks of the functions it
matches: offset in the function, instructions, executions per unit (to
read beside objdump -d)."""
import bisect
import re
import sys


def load_syms(path):
    syms = []
    for line in open(path):
        f = line.split()
        if len(f) < 3 or f[1] not in "tTwW":
            continue
        name = f[2] + (" " + f[3] if len(f) > 3 else "")
        syms.append((int(f[0], 16), name))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def load_snap(path):
    d = {}
    for line in open(path):
        pc, n, c = line.split()
        d[(int(pc, 16), int(n))] = int(c)
    return d


def main():
    addrs, names = load_syms(sys.argv[1])
    a, b = load_snap(sys.argv[2]), load_snap(sys.argv[3])
    units = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    func = re.compile(sys.argv[6]) if len(sys.argv) > 6 else None
    blocks = []
    per = {}
    total = 0
    for (pc, n), c in b.items():
        d = (c - a.get((pc, n), 0)) * n
        if d <= 0:
            continue
        total += d
        if pc == 0:
            name = "(user space)"
        else:
            i = bisect.bisect_right(addrs, pc) - 1
            name = names[i] if i >= 0 else "?"
            if func and i >= 0 and func.search(name):
                blocks.append((name, pc - addrs[i], n, (c - a.get((pc, n), 0)) / units))
        per[name] = per.get(name, 0) + d
    mods = {}
    for name, d in per.items():
        m = name.split(" ", 1)[1] if " " in name else "[kernel]"
        mods[m] = mods.get(m, 0) + d
    print(f"total {total / units:.1f} instructions per unit ({total} over {units:g})")
    for m, d in sorted(mods.items(), key=lambda x: -x[1]):
        print(f"  {d / units:12.1f}  {m}")
    for name, d in sorted(per.items(), key=lambda x: -x[1])[:top]:
        print(f"{d / units:12.1f}  {name}")
    for name, off, n, execs in sorted(blocks):
        print(f"block {name} +0x{off:x}: {n} instructions, {execs:.2f} executions")


main()
