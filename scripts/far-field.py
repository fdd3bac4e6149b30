#!/usr/bin/env python3
"""The dev clips as a laptop across a reverberant room would hear them, scored like the clips.

    scripts/far-field.py [--bin target/release/attune] [--out out/far-field] [--praat] [--crepe]

Makes three variants of every clip in ../shared/corpus/dev/clips, deterministically (seeded),
each with the clip's own ground truth (a room's tail is not voiced in the truth, as in the
corpus):
  room        convolved with a room response: RT60 0.6 s, as much reverberant as direct energy
              (0 dB direct-to-reverberant ratio, about 1.5-2 m from the person in a classroom);
  noise       pink noise added 6 dB below the voice (the voice's power over the truth's voiced
              frames);
  room_noise  both.
Each variant is analysed with `attune analyze` and scored with the corpus scorer by category.
With --praat, Praat's autocorrelation pitch (the recipe of ANCHORS.md: praat-parselmouth,
to_pitch_ac(time_step=0.01, pitch_floor=60, pitch_ceiling=1100)) is scored beside it; with
--crepe, CREPE tiny (the recipe of ANCHORS.md: torchcrepe, 50-1100 Hz, 10 ms hop, Viterbi,
periodicity median-filtered over 3 frames, voiced at 0.21 and above -60 dB), the best anchor
tool on the dev steady hums.
Needs python3 with numpy and mir_eval (praat-parselmouth for --praat; torch and torchcrepe for
--crepe, which takes a few minutes per variant on a CPU).
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np

from signals import pink, read_wav, write_wav

HERE = pathlib.Path(__file__).resolve().parent.parent
CORPUS = HERE.parent / "shared" / "corpus"
CLIPS = CORPUS / "dev" / "clips"
SCORE = CORPUS / "score" / "score.py"
RT60_S = 0.6
DIRECT_TO_REVERBERANT_DB = 0.0
NOISE_BELOW_VOICE_DB = 6.0


def room_response(rate, rng):
    """A direct path and an exponentially decaying noise tail from 3 ms on."""
    n = int(1.2 * RT60_S * rate)
    t = np.arange(n) / rate
    h = rng.standard_normal(n) * np.exp(-6.91 * t / RT60_S)
    h[: int(0.003 * rate)] = 0.0
    h *= np.sqrt(10 ** (-DIRECT_TO_REVERBERANT_DB / 10) / np.sum(h**2))
    h[0] = 1.0
    return h


def make(out):
    rng = np.random.default_rng(7)
    variants = ["room", "noise", "room_noise"]
    for v in variants:
        (out / v).mkdir(parents=True, exist_ok=True)
    for wav in sorted(CLIPS.glob("*.wav")):
        x, rate = read_wav(wav)
        f0 = np.genfromtxt(wav.with_suffix(".f0.csv"), delimiter=",", names=True)["f0_hz"]
        voiced = np.zeros(len(x), dtype=bool)
        frames = np.repeat(f0 > 0, rate // 100)[: len(x)]
        voiced[: len(frames)] = frames
        voice_power = np.mean(x[voiced] ** 2) if voiced.any() else np.mean(x**2)
        noise = pink(len(x), rng) * np.sqrt(voice_power / 10 ** (NOISE_BELOW_VOICE_DB / 10))
        room = np.convolve(x, room_response(rate, rng))[: len(x)]
        room *= np.sqrt(np.mean(x**2) / np.mean(room**2))
        for v, y in [("room", room), ("noise", x + noise), ("room_noise", room + noise)]:
            write_wav(out / v / wav.name, 0.8 * y, rate)
            for truth in [".f0.csv", ".onsets.csv"]:
                shutil.copy(wav.with_suffix(truth), out / v)
    # The scorer groups by category from the manifest beside the clips.
    shutil.copy(CORPUS / "dev" / "manifest.csv", out / "manifest.csv")
    return variants


def write_f0(path, rows):
    """An f0 track as the scorer reads it: (time in s, f0 in Hz, 0 = unvoiced) rows."""
    path.write_text("time_s,f0_hz\n" + "".join(f"{t:.4f},{f:.3f}\n" for t, f in rows))


def praat(clips, est):
    import parselmouth

    est.mkdir(parents=True, exist_ok=True)
    for wav in sorted(clips.glob("*.wav")):
        p = parselmouth.Sound(str(wav)).to_pitch_ac(
            time_step=0.01, pitch_floor=60, pitch_ceiling=1100
        )
        write_f0(est / (wav.stem + ".f0.csv"), zip(p.xs(), p.selected_array["frequency"]))


def crepe(clips, est):
    import torch
    import torchcrepe

    est.mkdir(parents=True, exist_ok=True)
    for wav in sorted(clips.glob("*.wav")):
        x, rate = read_wav(wav)
        audio = torch.tensor(np.asarray(x, dtype=np.float32))[None]
        hop = rate // 100
        f0, periodicity = torchcrepe.predict(
            audio, rate, hop, 50, 1100, "tiny", decoder=torchcrepe.decode.viterbi,
            return_periodicity=True, batch_size=512, device="cpu",
        )
        periodicity = torchcrepe.filter.median(periodicity, 3)
        periodicity = torchcrepe.threshold.Silence(-60.0)(periodicity, audio, rate, hop)
        f0 = np.nan_to_num(torchcrepe.threshold.At(0.21)(f0, periodicity)[0].numpy(), nan=0.0)
        write_f0(est / (wav.stem + ".f0.csv"), ((i * 0.01, f) for i, f in enumerate(f0)))


def score(clips, est, json_path):
    subprocess.run(
        [sys.executable, SCORE, "pitch", clips, est, "--by", "category", "--json", json_path],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads(json_path.read_text())["groups"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(HERE / "target" / "release" / "attune"))
    ap.add_argument("--out", default=str(HERE / "out" / "far-field"))
    ap.add_argument("--praat", action="store_true")
    ap.add_argument("--crepe", action="store_true")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    for v in make(out):
        clips, est = out / v, out / (v + ".attune")
        subprocess.run([a.bin, "analyze", clips, "--out", est, "-q"], check=True,
                       stderr=subprocess.DEVNULL)
        tools = [("attune", score(clips, est, out / (v + ".attune.json")))]
        if a.praat:
            praat(clips, out / (v + ".praat"))
            tools.append(("praat_ac", score(clips, out / (v + ".praat"), out / (v + ".praat.json"))))
        if a.crepe:
            crepe(clips, out / (v + ".crepe"))
            tools.append(("crepe_tiny", score(clips, out / (v + ".crepe"), out / (v + ".crepe.json"))))
        for tool, groups in tools:
            print(f"## {v}, {tool}")
            print("| group | RPA % | GPE % | VFA % |\n|---|---|---|---|")
            for g, s in groups.items():
                cells = [s["RPA"], s["GPE"], s["VFA"]]
                print(f"| {g} | " + " | ".join("–" if c != c else f"{100 * c:.1f}" for c in cells) + " |")
            print()


if __name__ == "__main__":
    main()
