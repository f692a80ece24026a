#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""benchsvg.py TABLE SVG: the data-plane table of tests/bench-dp.sh (its
lines "LABEL routing ip_vs rvs rvs/ip_vs rvs/routing") drawn as an SVG
picture: one group of three bars a row (routing, ip_vs.ko, rvs.ko), each
row scaled to its largest figure, the figures written beside the bars and
rvs/ip_vs at the end. Prints the number of rows drawn."""

import re
import sys
import textwrap
from xml.sax.saxutils import escape

ROW = re.compile(r"^(.*\S)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")
COLOURS = (("routing", "#9e9e9e"), ("ip_vs.ko", "#4e79a7"), ("rvs.ko", "#f28e2b"))


def rows(path):
    out = []
    title = ""
    for line in open(path):
        if line.startswith("data plane:"):
            title = line.strip()
        m = ROW.match(line.rstrip("\n"))
        if m:
            label, *vals = m.groups()
            out.append((label, [float(v) for v in vals[:3]], vals[3]))
    return title, out


def svg(title, data):
    label_w, bar_w, bar_h, gap = 260, 420, 13, 12
    width = label_w + bar_w + 150
    group_h = 3 * bar_h + gap
    sub = textwrap.wrap(title, 125) or [""]
    top_y = 50 + 14 * len(sub)
    height = top_y + 20 + group_h * len(data) + 20
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="10" y="18" font-size="12" font-weight="bold">make bench: rvs.ko beside '
         f'ip_vs.ko and plain routing (each row scaled to its largest figure)</text>',
         ] + [f'<text x="10" y="{34 + 14 * i}" fill="#555">{escape(t)}</text>' for i, t in enumerate(sub)]
    for i, (name, colour) in enumerate(COLOURS):
        x = 10 + i * 110
        o.append(f'<rect x="{x}" y="{top_y - 6}" width="12" height="12" fill="{colour}"/>')
        o.append(f'<text x="{x + 16}" y="{top_y + 4}">{name}</text>')
    o.append(f'<text x="{label_w + bar_w + 60}" y="{top_y + 4}" font-weight="bold">rvs/ip_vs</text>')
    y = top_y + 20
    for label, vals, ratio in data:
        top = max(vals) or 1
        o.append(f'<text x="10" y="{y + 1.5 * bar_h + 4}">{escape(label)}</text>')
        for k, (v, (_, colour)) in enumerate(zip(vals, COLOURS)):
            w = max(1, round(bar_w * v / top))
            by = y + k * bar_h
            o.append(f'<rect x="{label_w}" y="{by}" width="{w}" height="{bar_h - 2}" fill="{colour}"/>')
            o.append(f'<text x="{label_w + w + 4}" y="{by + bar_h - 3}" font-size="10">{v:g}</text>')
        o.append(f'<text x="{label_w + bar_w + 60}" y="{y + 1.5 * bar_h + 4}" '
                 f'font-weight="bold">{escape(ratio)}</text>')
        y += group_h
    o.append("</svg>")
    return "\n".join(o) + "\n"


def main(argv):
    title, data = rows(argv[1])
    if not data:
        print(f"benchsvg: no table rows in {argv[1]}", file=sys.stderr)
        return 1
    with open(argv[2], "w") as f:
        f.write(svg(title, data))
    print(len(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
