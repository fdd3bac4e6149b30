#!/usr/bin/env python3
"""Why output segments do not match the reference: each output segment whose start is not
within ±200 ms of an unmatched reference start is classed as a piece of a reference
vocalisation of the same speaker ("split"), inside one of the other speaker ("bleed" when the
speaker differs), after a reference end within 1 s ("tail"), or elsewhere ("noise"); each
missed reference segment as covered by an output segment that started earlier ("merged") or
not ("missed").

  scripts/segment-errors.py REF_SESSIONS_DIR EST_DIR [-v]"""
import csv, glob, os, sys
from collections import Counter

def read(path):
    with open(path, newline='') as f:
        return [(float(r['start_s']), float(r['end_s']), r['speaker']) for r in csv.DictReader(f)]

def main():
    ref_dir, est_dir = sys.argv[1:3]
    verbose = '-v' in sys.argv
    total = Counter()
    for path in sorted(glob.glob(os.path.join(est_dir, '*.segments.csv'))):
        name = os.path.basename(path)
        ref, est = read(os.path.join(ref_dir, name)), read(path)
        used, matched_est = set(), set()
        # Greedy one-to-one matching by onset distance (as score.py, near enough).
        pairs = sorted((abs(e[0] - r[0]), i, j) for i, r in enumerate(ref)
                       for j, e in enumerate(est) if abs(e[0] - r[0]) <= 0.2)
        for _, i, j in pairs:
            if i not in used and j not in matched_est:
                used.add(i); matched_est.add(j)
        c = Counter()
        for j, (s, e, who) in enumerate(est):
            if j in matched_est:
                continue
            inside = [r for r in ref if r[0] - 0.2 <= s <= r[1]]
            if any(r[2] == who for r in inside):
                kind = 'split'
            elif inside:
                kind = 'bleed'
            elif any(0 <= s - r[1] <= 1.0 for r in ref):
                kind = 'tail'
            else:
                kind = 'noise'
            c['extra_' + kind] += 1
            if verbose:
                print(f'{name} extra {kind}: {s:.2f}-{e:.2f} {who}  ref: {inside}')
        for i, (s, e, who) in enumerate(ref):
            if i in used:
                continue
            cover = [x for x in est if x[0] < s - 0.2 and x[1] > s]
            kind = 'merged' if cover else 'missed'
            c['miss_' + kind] += 1
            if verbose:
                print(f'{name} miss {kind}: {s:.2f}-{e:.2f} {who} covered by {cover}')
        print(name, dict(sorted(c.items())))
        total.update(c)
    print('TOTAL', dict(sorted(total.items())))

if __name__ == '__main__':
    main()
