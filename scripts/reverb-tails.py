#!/usr/bin/env python3
"""How reverberant rooms move voicing ends: false alarms just after the truth's voiced runs,
how late voiced runs end (by the clips' RT60), and how late vocalisations end in the sessions.

    scripts/reverb-tails.py DEV_OUT [SESSIONS_OUT]

DEV_OUT holds `attune analyze`'s NAME.f0.csv for every dev clip (e.g. out/score/dev from
scripts/score-dev.sh); SESSIONS_OUT the two-microphone ID.segments.csv of every dev session
(e.g. out/sessions/stereo from scripts/score-sessions.sh). Needs python3 with numpy.
"""
import csv
import os
import sys
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.environ.get("CORPUS", os.path.join(HERE, "..", "..", "shared", "corpus"))
TAIL_FRAMES = 50  # a false alarm within 0.5 s after a voiced frame of the truth


def runs(voiced):
    """(start, end) frame index pairs of the True runs, end exclusive."""
    out, start = [], None
    for i, v in enumerate(voiced):
        if v and start is None:
            start = i
        if not v and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(voiced)))
    return out


def clips(dev_out):
    manifest = list(csv.DictReader(open(os.path.join(CORPUS, "dev", "manifest.csv"))))
    fa = defaultdict(lambda: [0, 0, 0])  # room?: [false alarms, unvoiced frames, in tails]
    end_late = defaultdict(list)
    start_late = defaultdict(list)
    for row in manifest:
        if row["kind"] != "clip":
            continue
        name = row["id"]
        ref = np.loadtxt(os.path.join(CORPUS, "dev", "clips", name + ".f0.csv"),
                         delimiter=",", skiprows=1, ndmin=2)
        est = np.loadtxt(os.path.join(dev_out, name + ".f0.csv"),
                         delimiter=",", skiprows=1, usecols=(0, 1), ndmin=2)
        n = min(len(ref), len(est))
        rv, ev = ref[:n, 1] > 0, est[:n, 1] > 0
        room = float(row["rt60_s"]) > 0
        voiced_at = np.flatnonzero(rv)
        false = np.flatnonzero(~rv & ev)
        tails = sum(1 for i in false
                    if len(voiced_at[voiced_at < i]) and i - voiced_at[voiced_at < i][-1] <= TAIL_FRAMES)
        fa[room][0] += len(false)
        fa[room][1] += int((~rv).sum())
        fa[room][2] += tails
        if row["category"] == "nonvocal":
            continue
        est_runs = runs(ev)
        for s, e in runs(rv):
            best = max(est_runs, key=lambda r: min(e, r[1]) - max(s, r[0]), default=None)
            if best and min(e, best[1]) - max(s, best[0]) > 0:
                end_late[row["rt60_s"]].append(best[1] - e)
                start_late[row["rt60_s"]].append(best[0] - s)
    for room in (False, True):
        f, u, t = fa[room]
        label = "clips in a room" if room else "dry clips"
        print(f"{label}: false alarms {f} of {u} unvoiced frames ({100 * f / max(u, 1):.1f} %), "
              f"{t} within 0.5 s after a voiced run of the truth")
    for rt in sorted(end_late, key=float):
        e, s = np.array(end_late[rt]), np.array(start_late[rt])
        print(f"RT60 {rt} s: {len(e)} runs, end late by a median {np.median(e):.0f} frames "
              f"(mean {e.mean():.1f}), start by {np.median(s):.0f}")


def sessions(sessions_out):
    folder = os.path.join(CORPUS, "dev", "sessions")
    end_s, start_s = [], []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".segments.csv"):
            continue
        ref = list(csv.DictReader(open(os.path.join(folder, name))))
        est_path = os.path.join(sessions_out, name)
        if not os.path.exists(est_path):
            continue
        est = list(csv.DictReader(open(est_path)))
        for r in ref:
            rs, re_ = float(r["start_s"]), float(r["end_s"])
            best = None
            for e in est:
                es, ee = float(e["start_s"]), float(e["end_s"])
                overlap = min(re_, ee) - max(rs, es)
                if overlap > 0 and e["speaker"] == r["speaker"] and (best is None or overlap > best[0]):
                    best = (overlap, es, ee)
            if best:
                start_s.append(best[1] - rs)
                end_s.append(best[2] - re_)
    if not end_s:
        print("sessions: no matched vocalisations")
        return
    e, s = np.array(end_s), np.array(start_s)
    print(f"sessions: {len(e)} matched vocalisations, ends late by a median {1000 * np.median(e):.0f} ms "
          f"(10th-90th percentile {1000 * np.percentile(e, 10):.0f} to {1000 * np.percentile(e, 90):.0f} ms, "
          f"mean absolute error {1000 * np.abs(e).mean():.0f} ms), "
          f"starts by {1000 * np.median(s):.0f} ms")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    clips(sys.argv[1])
    if len(sys.argv) > 2:
        sessions(sys.argv[2])


if __name__ == "__main__":
    main()
