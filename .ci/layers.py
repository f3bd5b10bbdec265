#!/usr/bin/env python3
"""Checks that src/ has no import circles: within every folder, the files and subfolders
it holds (each subfolder counted as one node) must use each other without a cycle.

A use of `crate::engine::dec::soft_assign` from `src/engine/constraints.rs` is an edge
constraints -> dec in the folder `engine`; a use from `src/engine/pipeline/cluster.rs`
of `crate::engine::report::Report` is an edge pipeline -> report in `engine`. A use of a
folder's own `mod.rs` items by its children is not an edge (mod.rs is the folder's
front door), and an item a `mod.rs` re-exports (`pub use dec::Dec`) counts as a use of
the file that defines it. Test modules count like the rest of a file.

Run `python3 .ci/layers.py` from the repository root; it prints every circle it finds
and exits 1 if there is one, and with `--graph` prints each folder's edges.
"""
import os
import re
import sys

ROOTS = {"src/lib.rs": ("decscope",), "src/main.rs": ("bin",)}


def module_files():
    """Module path (tuple) -> file, for the library and the binary crate."""
    mods = {}
    for top, base in ROOTS.items():
        mods[base] = top
    for dirpath, _, files in os.walk("src"):
        for f in files:
            if not f.endswith(".rs") or os.path.join(dirpath, f) in ROOTS:
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), "src")[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            crate = ("bin",) if rel[0] == "cli" else ("decscope",)
            mods[crate + tuple(rel)] = os.path.join(dirpath, f)
    return mods


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [re.sub(r"as\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p:
            out += [prefix + q for q in expand_use(p)]
    return out


def paths_in(text):
    """Every path a file names: its use trees expanded, and inline crate::/super:: paths.
    Each comes with whether it sits inside an inline `mod x { .. }` (tests)."""
    found = []
    inline_at = None
    m = re.search(r"\n\s*(pub\s+)?mod\s+\w+\s*\{", text)
    if m:
        inline_at = m.start()
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        inner = inline_at is not None and m.start() > inline_at
        for p in expand_use(m.group(1)):
            found.append((p, inner))
    body = re.sub(r"\buse\s+[^;]+;", "", text)
    for m in re.finditer(r"\b((?:crate|super|decscope)(?:::\w+)+)", body):
        inner = inline_at is not None and m.start() > inline_at
        found.append((m.group(1), inner))
    return found


def reexports(mods, texts):
    """(module, item) -> module that defines it, for `pub use` in mod.rs / lib.rs."""
    out = {}
    for mod, path in mods.items():
        if not (path.endswith("mod.rs") or path in ROOTS):
            continue
        for m in re.finditer(r"\bpub\s+use\s+([^;]+);", texts[path]):
            for p in expand_use(m.group(1)):
                segs = p.split("::")
                target = resolve_segments(mod, segs, mods, False)
                if target is not None:
                    out[(mod, segs[-1])] = target
    return out


def resolve_segments(mod, segs, mods, inner, alias=None):
    if segs[0] == "crate":
        base, rest = (mod[0],), segs[1:]
    elif segs[0] == "decscope":
        base, rest = ("decscope",), segs[1:]
    elif segs[0] in ("super", "self"):
        base, rest = mod, segs
        if inner:
            if rest[0] == "super":
                rest = rest[1:]
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    else:
        # a path relative to this module: a child module, or another crate
        if mod + (segs[0],) in mods:
            base, rest = mod, segs
        else:
            return None
    cur = base
    for i, s in enumerate(rest):
        if cur + (s,) in mods:
            cur = cur + (s,)
            continue
        if alias is not None and (cur, s) in alias:
            return alias[(cur, s)]
        break
    return cur


def main():
    mods = module_files()
    texts = {p: strip_comments(open(p).read()) for p in mods.values()}
    alias = reexports(mods, texts)
    edges = {}
    for mod, path in mods.items():
        for p, inner in paths_in(texts[path]):
            t = resolve_segments(mod, p.split("::"), mods, inner, alias)
            if t is None or t[0] != mod[0] and not (mod[0] == "bin" and t[0] == "decscope"):
                continue
            if mod[0] == "bin" and t[0] == "decscope":
                src = ("decscope", "cli") + mod[1:] if len(mod) > 1 else ("decscope", "main")
                mod_, t_ = src, t
            else:
                mod_, t_ = mod, t
            n = 0
            while n < min(len(mod_), len(t_)) and mod_[n] == t_[n]:
                n += 1
            if n == len(mod_) or n == len(t_):
                continue  # a module and its own folder's front door or its children
            folder = mod_[:n]
            edges.setdefault(folder, {}).setdefault(mod_[n], {}).setdefault(t_[n], set()).add(
                f"{mods[mod]} -> {'::'.join(t)}"
            )
    circles = 0
    for folder in sorted(edges):
        g = edges[folder]
        if "--graph" in sys.argv:
            for a in sorted(g):
                print(f"{'/'.join(folder[1:]) or 'src'}: {a} -> {', '.join(sorted(g[a]))}")
        for scc in sccs(g):
            if len(scc) > 1:
                circles += 1
                print(f"circle in {'/'.join(folder[1:]) or 'src'}: {' <-> '.join(sorted(scc))}")
                for a in sorted(scc):
                    for b in sorted(g.get(a, {})):
                        if b in scc:
                            for why in sorted(g[a][b])[:3]:
                                print(f"    {why}")
    print(f"layers: {circles} import circle(s) in src/")
    return 1 if circles else 0


def sccs(g):
    index, low, stack, on, out = {}, {}, [], set(), []
    nodes = set(g) | {b for a in g for b in g[a]}

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
