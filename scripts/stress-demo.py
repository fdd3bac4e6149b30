#!/usr/bin/env python3
"""Robustness checks on the bundled demo: the demo session made harder in the ways real
recordings are (mains hum, a fan switched on or off, a DC offset, clipping, a very quiet or
late start, other sample rates), each analysed with `attune analyze` and scored against the
demo's own ground truth with the corpus scorer.

    scripts/stress-demo.py [--bin target/release/attune] [--out out/stress]

Needs python3 with numpy and mir_eval, and ../shared/corpus/score/score.py. The variants are
made here, deterministically (seeded), from assets/demo_session.wav; the reference is the
demo's ground truth of both voices (assets/demo_session.f0.csv, and
demo_session.partner.f0.csv where the person is silent). Compare a row with `demo`: where the
two voices overlap the reference follows the person, the analysis the louder voice.
"""
import argparse
import csv
import json
import pathlib
import subprocess
import sys

import numpy as np

from signals import pink, read_wav, write_wav

HERE = pathlib.Path(__file__).resolve().parent.parent
SCORE = HERE.parent / "shared" / "corpus" / "score" / "score.py"


def mains(t, f_hz):
    """A mains hum: the fundamental and six harmonics, each half the one below, unit RMS."""
    y = sum(0.5**k * np.sin(2 * np.pi * f_hz * k * t + k) for k in range(1, 8))
    return y / np.std(y)


def resample(x, rate, new_rate):
    """Band-limited resampling through the spectrum (exact for a periodic extension)."""
    n = int(round(len(x) * new_rate / rate))
    spec = np.fft.rfft(x)
    out = np.zeros(n // 2 + 1, complex)
    m = min(len(spec), len(out))
    out[:m] = spec[:m]
    return np.fft.irfft(out, n) * n / len(x)


def variants(x, rate):
    """(name, what it is, samples, rate, seconds of silence added in front)."""
    rng = np.random.default_rng(20261202)
    t = np.arange(len(x)) / rate
    rms = np.sqrt(np.mean(x**2))
    after_15s = (t > 15.0).astype(np.float64)
    yield "demo", "as bundled", x, rate, 0.0
    for f_hz in (50, 60):
        for db in (10, 20, 30):
            hum = x + mains(t, f_hz) * rms * 10 ** (-db / 20)
            yield f"mains{f_hz}_{db}", f"{f_hz} Hz mains hum {db} dB below the voices", hum, rate, 0.0
    fan = pink(len(x), rng) * rms * 10 ** (-12 / 20)
    yield "fan_on", "pink noise 12 dB below the voices from 15 s on", x + fan * after_15s, rate, 0.0
    yield "fan_off", "pink noise 12 dB below the voices until 15 s", x + fan * (1 - after_15s), rate, 0.0
    yield "dc", "a DC offset of 0.2 (-14 dBFS)", x + 0.2, rate, 0.0
    yield "clipped", "12 dB too loud, clipped at full scale", np.clip(x * 4, -1.0, 1.0), rate, 0.0
    yield "quiet40", "40 dB quieter (peak -43 dBFS)", x * 10 ** (-40 / 20), rate, 0.0
    yield "quiet55", "55 dB quieter (peak -58 dBFS)", x * 10 ** (-55 / 20), rate, 0.0
    yield "late", "20 s of digital silence first", np.concatenate([np.zeros(20 * rate), x]), rate, 20.0
    for new_rate in (8000, 44100, 48000):
        yield f"sr{new_rate}", f"resampled to {new_rate} Hz", resample(x, rate, new_rate), new_rate, 0.0


def both_voices():
    """The demo's f0 truth, 10 ms frames: the person's, else the partner's (Hz, 0 = unvoiced)."""
    def read(name):
        return [(float(r["time_s"]), float(r["f0_hz"]))
                for r in csv.DictReader(open(HERE / "assets" / name))]
    user, partner = read("demo_session.f0.csv"), read("demo_session.partner.f0.csv")
    if [t for t, _ in user] != [t for t, _ in partner]:
        sys.exit("stress-demo: the two truth files are not on the same frames")
    return [(t, u if u > 0 else p) for (t, u), (_, p) in zip(user, partner)]


def write_truth(truth, dst, shift_secs):
    with open(dst, "w") as f:
        f.write("time_s,f0_hz\n")
        for i in range(int(round(shift_secs * 100))):
            f.write(f"{i / 100:.2f},0\n")
        for t, f0_hz in truth:
            f.write(f"{t + shift_secs:.2f},{f0_hz}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=str(HERE / "target" / "release" / "attune"))
    ap.add_argument("--out", default=str(HERE / "out" / "stress"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    (out / "est").mkdir(parents=True, exist_ok=True)
    x, rate = read_wav(HERE / "assets" / "demo_session.wav")
    truth = both_voices()
    rows = []
    for name, what, y, r, shift in variants(x, rate):
        write_wav(out / f"{name}.wav", y, r)
        write_truth(truth, out / f"{name}.f0.csv", shift)
        rows.append((name, what))
    wavs = [str(out / f"{name}.wav") for name, _ in rows]
    subprocess.run([args.bin, "analyze", *wavs, "--out", str(out / "est"), "-q"], check=True)
    print("| variant | what | RPA | GPE | VFA |")
    print("|---|---|---|---|---|")
    for name, what in rows:
        scores = out / f"{name}.score.json"
        subprocess.run(
            [sys.executable, str(SCORE), "pitch", str(out / f"{name}.f0.csv"),
             str(out / "est" / f"{name}.f0.csv"), "--json", str(scores)],
            check=True, capture_output=True)
        g = json.load(open(scores))["groups"]["ALL"]
        print(f"| {name} | {what} | {100 * g['RPA']:.1f} % | {100 * g['GPE']:.1f} % "
              f"| {100 * g['VFA']:.1f} % |")


if __name__ == "__main__":
    main()
