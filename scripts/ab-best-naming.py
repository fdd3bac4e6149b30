#!/usr/bin/env python3
"""Names the two voices of `attune analyze --two-voices` (speakers A and B) user / partner by
the naming that agrees with the reference on more 10 ms frames, one session at a time ("best
naming"), so that score.py segments can score them.

  scripts/ab-best-naming.py REF_SESSIONS_DIR IN_DIR OUT_DIR

IN_DIR holds ID.segments.csv with speaker A/B (other columns kept); OUT_DIR gets the same files
with A/B renamed. Numbers only: no numpy needed."""
import csv, glob, os, sys

HOP_S = 0.01

def frames(rows, who):
    out = set()
    for r in rows:
        if r['speaker'] == who:
            a, b = int(float(r['start_s']) / HOP_S), int(float(r['end_s']) / HOP_S)
            out.update(range(a, b))
    return out

def main():
    ref_dir, in_dir, out_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(in_dir, '*.segments.csv'))):
        name = os.path.basename(path)
        with open(path, newline='') as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames, list(reader)
        with open(os.path.join(ref_dir, name), newline='') as f:
            ref = list(csv.DictReader(f))
        ru, rp = frames(ref, 'user'), frames(ref, 'partner')
        a, b = frames(rows, 'A'), frames(rows, 'B')
        a_is_user = len(a & ru) + len(b & rp) >= len(a & rp) + len(b & ru)
        names = {'A': 'user' if a_is_user else 'partner', 'B': 'partner' if a_is_user else 'user'}
        for r in rows:
            r['speaker'] = names.get(r['speaker'], r['speaker'])
        with open(os.path.join(out_dir, name), 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        print(f'{name}: A = {names["A"]}', file=sys.stderr)

if __name__ == '__main__':
    main()
