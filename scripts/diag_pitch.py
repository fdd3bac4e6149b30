#!/usr/bin/env python3
"""Per-file pitch diagnostics: where do RPA misses, octave errors and false alarms come from.
usage: diag_pitch.py REF_DIR EST_DIR [--cat CATEGORY]"""
import sys, csv, os, glob
import numpy as np
ref_dir, est_dir = sys.argv[1], sys.argv[2]
cat = sys.argv[4] if len(sys.argv) > 4 else None
man = {}
mp = os.path.join(ref_dir, '..', 'manifest.csv')
if os.path.exists(mp):
    for r in csv.DictReader(open(mp)): man[r['id']] = r
def load(p):
    a = np.genfromtxt(p, delimiter=',', names=True)
    return a[a.dtype.names[0]], a[a.dtype.names[1]]
rows = []
for rp in sorted(glob.glob(os.path.join(ref_dir, '*.f0.csv'))):
    rid = os.path.basename(rp)[:-7]
    if cat and cat not in rid: continue
    ep = os.path.join(est_dir, rid + '.f0.csv')
    if not os.path.exists(ep): continue
    rt, rf = load(rp); et, ef = load(ep)
    ef = np.interp(rt, et, ef) * (np.abs(np.interp(rt, et, (ef > 0).astype(float)) - 1) < 1e-9)
    rv, ev = rf > 0, ef > 0
    both = rv & ev
    cents = np.full(len(rf), np.nan)
    cents[both] = 1200 * np.log2(ef[both] / rf[both])
    miss = (rv & ~ev).sum(); fa = (~rv & ev).sum(); gross = (np.abs(cents) > 315).sum()
    octup = (cents > 900).sum(); octdn = (cents < -900).sum(); fine50 = ((np.abs(cents) > 50) & (np.abs(cents) <= 315)).sum()
    m = man.get(rid, {})
    rows.append((rid, m.get('noise',''), m.get('snr_db',''), m.get('rt60_s',''), rv.sum(), miss, fa, (~rv).sum(), gross, octup, octdn, fine50))
print('id noise snr rt60 ref_voiced miss FA ref_unvoiced gross oct_up oct_dn fine>50')
for r in rows:
    if r[5] + r[6] + r[8] + r[11] > 0: print(*r)
