#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The dependency graph of the module's Rust code (rust/), from its paths.

  deps.py [--graph] [RUST_DIR]

Every `crate::a::b` path (in `use` lines, grouped or not, and in code) and
every `super::` path of a file is resolved to the deepest module file it
names (rust/a/b.rs or rust/a/b/mod.rs). The files are grouped into units
(a directory under rust/, or a file at its top), and the units into layers,
lowest first (docs/design.md, "The module's layers"):

  sys, abi -> proto -> sched -> svc -> conn -> xmit -> sync -> tables
      -> procfs -> netstate -> datapath -> ctl -> rvs

A unit may use its own files and any unit of a lower layer. The script
prints each edge that runs up (or sideways, between two units of one
layer) and each circle among files, and exits 1 if there is any; with
--graph it prints the unit graph first.
"""
import os
import re
import sys

LAYERS = [
    ["sys", "abi"],
    ["proto"],
    ["sched"],
    ["svc"],
    ["conn"],
    ["xmit"],
    ["sync"],
    ["tables"],
    ["procfs"],
    ["netstate"],
    ["datapath"],
    ["ctl"],
    ["rvs"],
]
LAYER = {u: i for i, units in enumerate(LAYERS) for u in units}

# `crate::` or `super::` followed by a path, or a `use crate::{...}` group.
PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP = re.compile(r"\buse\s+crate::\{([^;]*)\};", re.S)


def module_of(root, rel):
    """The module path (a list of names) of file `rel` under `root`."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts == ["rvs"]:
        return []
    return parts


def file_of(root, mods, names):
    """The deepest module file that `names` (a module path) reaches."""
    for n in range(len(names), -1, -1):
        key = tuple(names[:n])
        if key in mods:
            return mods[key]
    return None


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def group_paths(body):
    """`a::b, c::{d, e}` of a `use crate::{...}` group, as paths."""
    out, depth, cur = [], 0, ""
    for ch in body + ",":
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            cur = cur.strip()
            if cur:
                head = cur.split("{")[0].rstrip(":").strip()
                out.append(head)
            cur = ""
        else:
            cur += ch
    return [p for p in out if p and p != "self"]


def unit(rel):
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def main(argv):
    graph = "--graph" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "..", "rust")
    root = os.path.normpath(root)
    files = []
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".rs"):
                files.append(os.path.relpath(os.path.join(d, n), root))
    mods = {tuple(module_of(root, f)): f for f in files}
    edges = {}
    for f in sorted(files):
        me = module_of(root, f)
        # A file's `super` is its module's parent (mod.rs: the directory's).
        parent = me[:-1]
        with open(os.path.join(root, f)) as fh:
            text = strip_comments(fh.read())
        targets = set()
        for m in GROUP.finditer(text):
            for p in group_paths(m.group(1)):
                t = file_of(root, mods, p.split("::"))
                if t:
                    targets.add(t)
        for m in PATH.finditer(text):
            names = [x for x in m.group(2).split("::") if x]
            base = [] if m.group(1) == "crate" else list(parent)
            t = file_of(root, mods, base + names)
            if t:
                targets.add(t)
        targets.discard(f)
        # The crate root and a module's own mod.rs (declarations) are not
        # dependencies.
        targets.discard("rvs.rs")
        edges[f] = sorted(targets)
    bad = []
    ugraph = {}
    for f, ts in edges.items():
        for t in ts:
            a, b = unit(f), unit(t)
            if a == b:
                continue
            ugraph.setdefault(a, set()).add(b)
            la, lb = LAYER.get(a), LAYER.get(b)
            if la is None or lb is None:
                bad.append(f"unit not in a layer: {a if la is None else b} ({f} -> {t})")
            elif lb >= la:
                how = "sideways" if lb == la else "up"
                bad.append(f"{how}: {f} ({a}) -> {t} ({b})")
    if graph:
        for a in sorted(ugraph, key=lambda u: (LAYER.get(u, 99), u)):
            print(f"{a}: {' '.join(sorted(ugraph[a], key=lambda u: (LAYER.get(u, 99), u)))}")
    # Circles among files (Tarjan's strongly connected components).
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, []):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    for c in sccs:
        bad.append("circle: " + " <-> ".join(c))
    for b in bad:
        print(b)
    n = sum(len(t) for t in edges.values())
    print(f"{len(files)} files, {n} edges between them: {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
