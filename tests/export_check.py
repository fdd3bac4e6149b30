"""Opens every file `attune export` wrote in a real reader and checks it (tests/export.rs).

Praat itself (praat-parselmouth) reads the TextGrid, pympi-ling reads the EAF and xmlschema
validates it against ELAN's EAFv3.0.xsd; the CSV files go through Python's csv module (the
same RFC 4180 dialect pandas and R read). Exits non-zero with a message on the first problem.

usage: export_check.py OUT_DIR NAME XSD [--note TEXT] [--expect START_S SPEAKER]...
                       [--expect-marker TIME_S CODE]...
"""

import argparse
import csv
import os
import sys

import parselmouth
import pympi
import xmlschema
from parselmouth.praat import call


def fail(msg):
    raise SystemExit(f"export check failed: {msg}")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("name")
    ap.add_argument("xsd")
    ap.add_argument("--note", default=None)
    ap.add_argument("--expect", nargs=2, action="append", default=[])
    ap.add_argument("--expect-marker", nargs=2, action="append", default=[])
    a = ap.parse_args()
    base = os.path.join(a.out, a.name)

    # CSV
    segs = read_csv(base + ".segments.csv")
    want = ["start_s", "end_s", "speaker", "duration_s", "peak_dbfs", "mean_dbfs",
            "f0_median_hz", "f0_p5_hz", "f0_p95_hz", "voiced_frames", "syllables",
            "syllable_rate_hz", "mean_ioi_s", "regularity", "tail_s"]
    if not segs or list(segs[0].keys()) != want:
        fail(f"segments.csv header {list(segs[0].keys()) if segs else None}")
    for r in segs:
        s, e = float(r["start_s"]), float(r["end_s"])
        if not e > s or abs(float(r["duration_s"]) - (e - s)) > 0.0015:
            fail(f"segment times {r}")
    by_speaker = {}
    for r in segs:
        by_speaker.setdefault(r["speaker"], []).append(r)
    turns = read_csv(base + ".turns.csv")
    for r in turns:
        float(r["latency_s"]), int(r["chattr"]), int(r["lena"]), float(r["overlap_s"])
        if r["direction"] != f"{r['from']}->{r['to']}":
            fail(f"turn direction {r}")
        if r["mirror_score"]:
            if not 0 <= float(r["mirror_score"]) <= 100:
                fail(f"mirror score {r}")
    pitch = read_csv(base + ".pitch.csv")
    if list(pitch[0].keys()) != ["time_s", "f0_hz", "speaker"]:
        fail("pitch.csv header")
    for r in pitch[:: max(1, len(pitch) // 50)]:
        t = float(r["time_s"])
        if not any(float(s["start_s"]) - 0.011 <= t <= float(s["end_s"]) + 0.011
                   for s in by_speaker.get(r["speaker"], [])):
            fail(f"pitch frame {r} is outside its speaker's segments")
    markers = read_csv(base + ".markers.csv")
    if a.note is not None and a.note not in [m["note"] for m in markers]:
        fail(f"markers.csv notes {[m['note'] for m in markers]!r} lack {a.note!r}")
    print(f"csv: {len(segs)} segments, {len(turns)} turns, {len(pitch)} pitch frames, "
          f"{len(markers)} markers")

    # EAF: the published schema, then ELAN's reader
    eaf_path = base + ".eaf"
    xmlschema.XMLSchema(a.xsd).validate(eaf_path)
    eaf = pympi.Elan.Eaf(eaf_path)
    tiers = eaf.get_tier_names()
    for who, rows in by_speaker.items():
        if who not in tiers:
            fail(f"eaf has no tier {who}: {list(tiers)}")
        anns = eaf.get_annotation_data_for_tier(who)
        if len(anns) != len(rows):
            fail(f"eaf tier {who}: {len(anns)} annotations, segments.csv {len(rows)}")
        starts = sorted(x[0] for x in anns)
        if starts != sorted(round(float(r["start_s"]) * 1000) for r in rows):
            fail(f"eaf tier {who} starts differ from segments.csv")
        f0 = eaf.get_annotation_data_for_tier(f"{who} f0")
        if len(f0) != len(rows):
            fail(f"eaf tier '{who} f0' has {len(f0)} annotations")
    if len(eaf.get_annotation_data_for_tier("turns")) != len(turns):
        fail("eaf turns tier")
    if len(eaf.get_annotation_data_for_tier("markers")) != len(markers):
        fail("eaf markers tier")
    media = eaf.media_descriptors
    if not media:
        fail("eaf has no media descriptor")
    rel = media[0].get("RELATIVE_MEDIA_URL", "")
    from urllib.parse import unquote
    if not os.path.isfile(os.path.join(a.out, unquote(rel))):
        fail(f"RELATIVE_MEDIA_URL {rel!r} does not lead to the audio from {a.out}")
    if not media[0]["MEDIA_URL"].startswith("file:///"):
        fail(f"MEDIA_URL {media[0]['MEDIA_URL']!r}")
    print(f"eaf: valid against {os.path.basename(a.xsd)}; tiers {list(tiers)}")

    # TextGrid: Praat
    tg = parselmouth.read(base + ".TextGrid")
    n = call(tg, "Get number of tiers")
    names = [call(tg, "Get tier name", i) for i in range(1, n + 1)]
    for who, rows in by_speaker.items():
        if who not in names:
            fail(f"TextGrid has no tier {who}: {names}")
        i = names.index(who) + 1
        if not call(tg, "Is interval tier", i):
            fail(f"TextGrid tier {who} is not an interval tier")
        k = call(tg, "Get number of intervals", i)
        labelled = [call(tg, "Get starting point", i, j) for j in range(1, k + 1)
                    if call(tg, "Get label of interval", i, j) != ""]
        if len(labelled) != len(rows):
            fail(f"TextGrid tier {who}: {len(labelled)} intervals, segments.csv {len(rows)}")
    for tier in ["markers", "onsets"]:
        if tier not in names:
            fail(f"TextGrid has no {tier} tier")
    mi = names.index("markers") + 1
    if call(tg, "Get number of points", mi) != len(markers):
        fail("TextGrid markers")
    print(f"TextGrid: Praat reads tiers {names}")

    # RTTM
    with open(base + ".rttm", encoding="utf-8") as f:
        rttm = [line.split() for line in f if line.strip()]
    if len(rttm) != len(segs):
        fail("rttm line count")
    for fields in rttm:
        if len(fields) != 10 or fields[0] != "SPEAKER" or fields[2] != "1":
            fail(f"rttm line {fields}")
        float(fields[3]), float(fields[4])
        if fields[5:7] != ["<NA>", "<NA>"] or fields[8:] != ["<NA>", "<NA>"]:
            fail(f"rttm line {fields}")

    # chattr's elan-basic-txt table
    with open(base + ".chattr.tsv", encoding="utf-8") as f:
        ct = [line.rstrip("\n").split("\t") for line in f]
    if ct[0][0] != "clip" or len(ct) != len(segs) + 1:
        fail("chattr table rows")
    for row in ct:
        if len(row) != 6 or int(row[3]) - int(row[2]) != int(row[4]):
            fail(f"chattr row {row}")

    # Audacity labels
    with open(base + ".audacity.txt", encoding="utf-8") as f:
        labels = [line.rstrip("\n").split("\t") for line in f]
    if len(labels) != len(segs) + len(markers) or any(len(x) != 3 for x in labels):
        fail("audacity labels")
    for s, e, _ in labels:
        if float(e) < float(s):
            fail("audacity label ends before it starts")

    # HTML: self-contained
    with open(base + ".report.html", encoding="utf-8") as f:
        html = f.read()
    for bad in ["<script", " src=", " href=", "url(", "@import", "<link", "<iframe"]:
        if bad in html:
            fail(f"report.html has {bad!r}")
    if html.count("<svg") < 4:
        fail("report.html has too few charts")
    print("rttm, chattr, audacity, html: ok")

    # A corrected label, in every export
    for start, who in a.expect:
        t = float(start)
        if not any(abs(float(r["start_s"]) - t) < 0.0005 and r["speaker"] == who for r in segs):
            fail(f"segments.csv has no {who} segment at {t}")
        if not any(abs(x[0] - t * 1000) < 0.5 for x in eaf.get_annotation_data_for_tier(who)):
            fail(f"eaf tier {who} has no annotation at {t}")
        i = names.index(who) + 1
        j = call(tg, "Get interval at time", i, t + 0.0005)
        if call(tg, "Get label of interval", i, j) != who or \
                abs(call(tg, "Get starting point", i, j) - t) > 0.0005:
            fail(f"TextGrid tier {who} has no interval at {t}")
        if not any(abs(float(x[3]) - t) < 0.0005 and x[7] == who for x in rttm):
            fail(f"rttm has no {who} line at {t}")
        if not any(r[0] == who and int(r[2]) == round(t * 1000) for r in ct):
            fail(f"chattr table has no {who} row at {t}")
        if not any(abs(float(x[0]) - t) < 0.0005 and x[2] == who for x in labels):
            fail(f"audacity has no {who} label at {t}")
        print(f"correction: {who} at {t} s in every export")
    for at, code in a.expect_marker:
        t = float(at)
        if not any(abs(float(m["time_s"]) - t) < 0.0005 and m["code"] == code for m in markers):
            fail(f"markers.csv has no {code} at {t}")
        if not any(abs(x[0] - t * 1000) < 0.5 and x[2].startswith(code)
                   for x in eaf.get_annotation_data_for_tier("markers")):
            fail(f"eaf markers tier has no {code} at {t}")
        k = call(tg, "Get nearest index from time", mi, t)
        if abs(call(tg, "Get time of point", mi, k) - t) > 0.0015 or \
                not call(tg, "Get label of point", mi, k).startswith(code):
            fail(f"TextGrid markers tier has no {code} at {t}")
        if not any(abs(float(x[0]) - t) < 0.0005 and code in x[2] for x in labels):
            fail(f"audacity has no marker {code} at {t}")
        print(f"correction: marker {code} at {t} s in every export")
    print("all exports ok")


if __name__ == "__main__":
    main()
