#!/usr/bin/env python3
"""What self-correction found, set beside the failures the labels show.

Reads `decscope train --self-correct --report R.json` reports of labelled runs and
prints one row per run: the failures by the labels in DEC's outcome before the first
round (a cluster holding two classes above 30% each; a class spread over two clusters
above 30% each), what the first round flagged (its pair as one class cut in two, its
split cluster as two classes in one), which flags were right (precision) and which
failures were flagged (recall), ACC and NMI before and after, and the DEC steps the
rounds added. A run without a round flagged nothing: its failures are read from its
final confusion matrix. The labels only score; nothing here feeds back into a run.

Usage:

    python3 benches/failures.py [NAME=]REPORT.json ...

Standard library only.
"""

import json
import sys

SHARE = 0.3


def failures(counts):
    """Mixed clusters {c: (t1, t2)} and split classes {t: (a, b)} of a confusion matrix
    (clusters x classes), each pair above SHARE of its cluster or class."""
    mixed, split = {}, {}
    for c, row in enumerate(counts):
        n = sum(row)
        big = [t for t, v in enumerate(row) if n and v / n > SHARE]
        if len(big) >= 2:
            mixed[c] = tuple(big)
    n_labels = len(counts[0]) if counts else 0
    for t in range(n_labels):
        col = [row[t] for row in counts]
        n = sum(col)
        big = [c for c, v in enumerate(col) if n and v / n > SHARE]
        if len(big) >= 2:
            split[t] = tuple(big)
    return mixed, split


def judge(report):
    """The row of one report: failures, flags, hits, scores, steps."""
    rounds = report.get("self_correct", [])
    first = rounds[0] if rounds else None
    if first and not first.get("confusion_before"):
        return None
    before = first["confusion_before"]["counts"] if first and first.get("confusion_before") else None
    after = report["confusion"]["counts"]
    mixed, split = failures(before or after)
    flags, hits, caught = [], 0, set()
    if first:
        a, b = first["merge"]
        pair = {a, b}
        cut = [t for t, cl in split.items() if set(cl) == pair]
        flags.append(f"cut {a}+{b}")
        if cut:
            hits += 1
            caught.update(("split", t) for t in cut)
        c = first["split"]
        flags.append(f"mixed {c}")
        if c in mixed:
            hits += 1
            caught.add(("mixed", c))
    n_fail = len(mixed) + len(split)
    final = report["final"]
    steps_added = final["iterations"] - first["step"] if first else 0
    return {
        "failures": [f"mixed {c} {t}" for c, t in mixed.items()]
        + [f"class {t} over {cl}" for t, cl in split.items()],
        "flags": flags,
        "hits": hits,
        "n_flags": len(flags),
        "n_fail": n_fail,
        "caught": len(caught),
        "acc_before": first["acc_before"] if first else final["acc"],
        "acc_after": final["acc"],
        "nmi_after": final["nmi"],
        "rounds": len(rounds),
        "taken_back": sum(1 for r in rounds if r.get("taken_back")),
        "steps_added": steps_added,
        "steps": final["iterations"],
        "left": sum(len(x) for x in failures(after)),
    }


def main():
    rows = []
    for arg in sys.argv[1:]:
        name, _, path = arg.rpartition("=")
        with open(path) as f:
            r = judge(json.load(f))
        if r is None:
            print(f"{path}: a round without confusion_before (a report from before it existed): rerun", file=sys.stderr)
            continue
        rows.append((name or path, r))
    print("| run | failures by the labels (before) | flagged | precision | recall | ACC before → after | rounds | DEC steps added | failures left |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        prec = f"{r['hits']}/{r['n_flags']}" if r["n_flags"] else "–"
        rec = f"{r['caught']}/{r['n_fail']}" if r["n_fail"] else "–"
        rounds = f"{r['rounds']}" + (f" ({r['taken_back']} taken back)" if r["taken_back"] else "")
        print(
            f"| {name} | {'; '.join(r['failures']) or 'none'} | {', '.join(r['flags']) or 'nothing'} | {prec} | {rec} "
            f"| {r['acc_before']:.4f} → {r['acc_after']:.4f} | {rounds} | {r['steps_added']} of {r['steps']} | {r['left']} |"
        )
    flags = sum(r["n_flags"] for _, r in rows)
    fails = sum(r["n_fail"] for _, r in rows)
    print(
        f"\nall runs: precision {sum(r['hits'] for _, r in rows)}/{flags}, "
        f"recall {sum(r['caught'] for _, r in rows)}/{fails}"
    )


if __name__ == "__main__":
    main()
