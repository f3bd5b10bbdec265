#!/usr/bin/env python3
"""The start check's curves, read from run reports: where each k-means phase stood at
its first P update against what it had to pass, and the largest gain any DEC phase
made from one of its P updates to its end (`engine::pipeline::starts::CATCH_UP` was
chosen from these; docs/steering.md, "The start check's cost").

Each report is `decscope train ... --report R.json` from a run with the start check
(`start: auto` with self-correction, the default on data that is not text); the
report's `start_check` holds both phases' `curve` ([step, modularity] at each P update)
and their outcomes. Usage:

    python3 benches/start_curves.py [--catch-up 0.06] NAME=R.json [NAME=R.json ...]

For each run: the start kept, the spectral outcome's modularity, the k-means phase's
first and last figures, how far its first update lay below the bar (the spectral
outcome plus the margin 0.005), the largest gain of each phase to its end, and where a
rule "end the k-means phase where it lies more than C below the bar" would end it.
Standard library only; labels are not read.
"""

import json
import sys

MARGIN = 0.005


def gain_to_end(curve, end):
    """The largest rise from one P update of a phase to the phase's outcome."""
    return max(end - q for _, q in curve)


def main():
    args = sys.argv[1:]
    catch_up = 0.06
    if args[:1] == ["--catch-up"]:
        catch_up, args = float(args[1]), args[2:]
    if not args:
        sys.exit(__doc__)
    print("run kept spectral km_first km_end below_bar_at_first km_gain sp_gain km_steps ends_at")
    worst, saved, total = 0.0, 0, 0
    for arg in args:
        name, path = arg.split("=", 1)
        c = json.load(open(path)).get("start_check")
        if not c:
            print(f"{name}: no start check in the report")
            continue
        sp, km = c["spectral"], c["kmeans"]
        bar = sp["modularity"] + MARGIN
        km_gain = gain_to_end(km["curve"], km["modularity"])
        sp_gain = gain_to_end(sp["curve"], sp["modularity"])
        worst = max(worst, km_gain, sp_gain)
        ends = next((s for s, q in km["curve"] if q + catch_up < bar), None)
        total += km["steps"]
        if ends is not None:
            saved += km["last_step"] - ends
        print(
            f"{name} {c['kept']} {sp['modularity']:.4f} {km['curve'][0][1]:.4f} "
            f"{km['modularity']:.4f} {bar - km['curve'][0][1]:+.4f} {km_gain:+.4f} "
            f"{sp_gain:+.4f} {km['steps']} {'-' if ends is None else ends}"
        )
    print(f"largest gain of any phase to its end: {worst:.4f}")
    print(f"with C = {catch_up}: {saved} of the k-means phases' {total} steps left out")


if __name__ == "__main__":
    main()
