#!/usr/bin/env python3
"""The two six-topic Reuters stand-ins of docs/accuracy.md ("Sublinear tf on smaller topics"),
built from the shared R8 CSV (research-only licence: never commit the outputs).

    python3 benches/make_r6.py ../shared/datasets/reuters21578/reuters21578-r8.csv.gz OUT_DIR

writes OUT_DIR/r6.csv (every article of crude, trade, money-fx, interest, ship and
sugar, in the file's order) and OUT_DIR/r6b.csv (120 of each topic, drawn with
Python's random.seed(0) and random.sample, topic by topic in that order).
Standard library only.
"""

import csv
import gzip
import os
import random
import sys

TOPICS = ["crude", "trade", "money-fx", "interest", "ship", "sugar"]


def main():
    src, out = sys.argv[1], sys.argv[2]
    with gzip.open(src, "rt", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["topic"] in TOPICS]
    os.makedirs(out, exist_ok=True)
    fields = ["id", "topic", "title", "text"]
    with open(os.path.join(out, "r6.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    random.seed(0)
    small = []
    for t in TOPICS:
        small += random.sample([r for r in rows if r["topic"] == t], 120)
    with open(os.path.join(out, "r6b.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(small)


if __name__ == "__main__":
    main()
