#!/usr/bin/env python3
"""Make attune's bundled demo session and its exact ground truth.

    python3 assets/make_demo.py            # writes next to this script
    python3 assets/make_demo.py --out DIR  # or into DIR

Writes demo_session.wav (mono, 16-bit PCM, 16 kHz, 40.5 s, peak -3 dBFS) and
demo_session.{f0,partner.f0,onsets,segments}.csv + demo_session.truth.md.

A calm two-party Intensive Interaction session: a child-like "user" voice (hums,
glides, vibrato, squeals, babble, a laugh) and an adult male "partner" voice who
answers some of the user's sounds, half the time by imitating them transposed
down; two long pauses of room noise only, one hand clap and one breath.

Every voice is synthesised with a glottal source-filter model: a Rosenberg
glottal pulse driven by the integrated instantaneous f0 (per-cycle jitter and
shimmer), aspiration noise gated by the glottal opening, plosive bursts, a
cascade of 5 time-varying formant resonators (plus a nasal anti-resonance for
hums), rendered at 64 kHz and decimated to 16 kHz through a Kaiser-windowed
sinc low-pass.  The ground truth is computed from the synthesis parameters
(contours and envelopes), never estimated from the audio.

Needs python 3 and numpy only (wave from the standard library).  Deterministic:
every random stream is seeded from SEED.  Made for the attune project, CC0.
"""
import argparse
import pathlib
import wave
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np

SR = 16_000            # output sample rate (Hz)
OS = 4                 # oversampling factor of the synthesis
FS = SR * OS           # synthesis rate (64 kHz)
DUR_S = 40.5           # length of the recording (s)
HOP_S = 0.010          # f0 truth grid (s)
SEED = 20261124
PEAK_DBFS = -3.0       # peak of the final mix
NOISE_DB = -35.0       # room-noise power relative to the voices' power over their active samples
RT60_S = 0.25          # reverb (voices only)
DRR_DB = 9.0           # direct-to-reverberant energy ratio of the room response
VOICED_FRAC = 0.10     # voiced where voicing envelope >= 10 % (-20 dB) of the vocalisation's peak
SEG_DB = -35.0         # segment boundaries: envelope within 35 dB of the vocalisation's peak
N_FORMANTS = 5


# --------------------------------------------------------------------------- voices

# Reference (adult, female-ish) vowel formants (Hz) and bandwidths (Hz); each voice scales them.
VOWELS = {
    "a": ((850, 1600, 2800, 3800, 4800), (90, 110, 160, 250, 300)),
    "ae": ((900, 2000, 2950, 3950, 4900), (100, 120, 170, 250, 300)),
    "o": ((600, 950, 2650, 3700, 4700), (80, 100, 150, 250, 300)),
    "u": ((380, 950, 2450, 3600, 4600), (70, 100, 150, 250, 300)),
}
# Formant loci at a plosive release (fraction of the reference targets / absolute reference Hz).
LOCI = {"b": (300, 0.70, 0.90), "d": (300, 1800, 2800)}
# Release-burst spectra (one wide resonance, Hz and bandwidth Hz): /b/ diffuse, /d/ high.
BURSTS = {"b": (1800.0, 3500.0), "d": (4200.0, 2500.0)}


@dataclass
class Voice:
    name: str
    formant_scale: float      # vowel formants x this
    bw_scale: float           # bandwidths x this
    hum: tuple                # nasal murmur: formants, bandwidths (Hz)
    nasal_zero: tuple         # nasal anti-resonance (Hz, bandwidth Hz)
    jitter: float             # per-cycle period perturbation (relative s.d.)
    shimmer: float            # per-cycle amplitude perturbation (relative s.d.)
    hpc: tuple = ()           # higher-pole correction: fixed wide resonators above F5 (Hz, bw Hz)

    def formants(self, vowel):
        if vowel == "hum":
            return np.array(self.hum[0], float), np.array(self.hum[1], float)
        f, b = VOWELS[vowel]
        return np.array(f, float) * self.formant_scale, np.array(b, float) * self.bw_scale


USER = Voice("user (child-like)", 1.15, 1.25,
             hum=((300, 1300, 2600, 3600, 4600), (70, 250, 350, 450, 550)),
             nasal_zero=(1050, 150), jitter=0.005, shimmer=0.04, hpc=((6500, 900), (7600, 1100)))
PARTNER = Voice("partner (adult male)", 0.87, 1.0,
                hum=((250, 1100, 2250, 3200, 4200), (60, 220, 300, 400, 500)),
                nasal_zero=(850, 130), jitter=0.006, shimmer=0.05, hpc=((5100, 700), (6100, 800), (7100, 900)))


# --------------------------------------------------------------------------- envelopes and contours

def adsr(t, t0, att, t1, rel):
    """Raised-cosine attack from t0 over att, flat top, raised-cosine release ending at t1."""
    assert att > 0 and rel > 0 and t0 + att <= t1 - rel + 1e-9, (t0, att, t1, rel)
    e = np.zeros_like(t)
    a = (t >= t0) & (t < t0 + att)
    e[a] = 0.5 - 0.5 * np.cos(np.pi * (t[a] - t0) / att)
    e[(t >= t0 + att) & (t < t1 - rel)] = 1.0
    r = (t >= t1 - rel) & (t < t1)
    e[r] = 0.5 + 0.5 * np.cos(np.pi * (t[r] - (t1 - rel)) / rel)
    return e


def knots(x, xs, ys):
    """Smooth (cosine) interpolation through knots (xs, ys), flat slope at each knot; x clipped."""
    x = np.clip(x, xs[0], xs[-1])
    i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    u = (x - xs[i]) / (xs[i + 1] - xs[i])
    w = 0.5 - 0.5 * np.cos(np.pi * u)
    return ys[i] + (ys[i + 1] - ys[i]) * w


def flutter_st(t, phase):
    """Slow natural f0 wander (semitones, about +-8 cents); part of the true contour."""
    return 0.05 * np.sin(2 * np.pi * 1.3 * t + phase) + 0.03 * np.sin(2 * np.pi * 2.9 * t + 2.1 * phase)


@dataclass
class Syl:
    """One voiced unit: a syllable, or the whole of a sustained sound."""
    t_on: float               # onset: attack start, plosive burst or start of the "h"
    v_on: float               # voicing attack starts
    att: float                # voicing attack (s)
    t_end: float              # voicing envelope back to 0
    rel: float                # voicing release (s)
    vowel: str                # a, ae, o, u or hum
    gain: float = 1.0
    slope_db: float = 0.0     # level change over the syllable (dB)
    h: float = 0.0            # "h" aspiration before the voicing (laugh)
    breath: float = 0.08      # aspiration during voicing, gated by the glottal opening
    burst: float = 0.0        # plosive release burst
    locus: Optional[str] = None  # "b" / "d": formant transition from the consonant's locus

    def voicing(self, t):
        e = adsr(t, self.v_on, self.att, self.t_end, self.rel)
        x = np.clip((t - self.v_on) / (self.t_end - self.v_on), 0, 1)
        return self.gain * e * 10 ** (self.slope_db * x / 20)

    def h_env(self, t):
        if self.h <= 0:
            return np.zeros_like(t)
        return self.gain * self.h * adsr(t, self.t_on, 0.012, self.v_on + 0.03, 0.04)

    def burst_env(self, t):
        if self.burst <= 0:
            return np.zeros_like(t)
        d = t - self.t_on
        e = np.where((d >= 0) & (d < 0.025), np.minimum(d / 0.0005, 1.0) * np.exp(-d / 0.004), 0.0)
        return self.gain * self.burst * e


@dataclass
class Voc:
    """One vocalisation (a babble train or a laugh is one vocalisation)."""
    speaker: str              # user | partner
    kind: str
    voice: Voice
    f0: Callable              # smooth f0 contour (Hz) of absolute time, defined everywhere
    syls: List[Syl]
    oq: float = 0.6           # open quotient of the glottal pulse
    tilt_hz: Optional[float] = None  # extra one-pole spectral tilt of the voiced source
    level_db: float = 0.0     # RMS over the active part, relative
    desc: str = ""
    answers: Optional[int] = None  # index of the user vocalisation answered (partner)
    extra: dict = field(default_factory=dict)

    @property
    def onsets(self):
        return [s.t_on for s in self.syls]

    def span(self):
        return min(s.t_on for s in self.syls) - 0.005, max(s.t_end for s in self.syls) + 0.005

    def av(self, t):
        return sum(s.voicing(t) for s in self.syls)

    def breath(self, t):
        return sum(s.breath * s.voicing(t) for s in self.syls)

    def h_env(self, t):
        return sum(s.h_env(t) for s in self.syls)

    def burst_env(self, t):
        return sum(s.burst_env(t) for s in self.syls)

    def env(self, t):
        """Total envelope (voicing + 'h' + burst) for the segment boundaries."""
        return self.av(t) + self.h_env(t) + self.burst_env(t)

    def formants(self, t):
        on = np.array([s.t_on for s in self.syls])
        idx = np.clip(np.searchsorted(on, t, side="right") - 1, 0, len(self.syls) - 1)
        F = np.zeros((N_FORMANTS, len(t)))
        B = np.zeros((N_FORMANTS, len(t)))
        for i, s in enumerate(self.syls):
            m = idx == i
            f, b = self.voice.formants(s.vowel)
            F[:, m] = f[:, None]
            B[:, m] = b[:, None]
            if s.locus:
                # locus -> target over 50 ms after the release (ease-out)
                l1, l2, l3 = LOCI[s.locus]
                sc = self.voice.formant_scale
                loc = f.copy()
                loc[0] = l1 * sc
                loc[1] = l2 * f[1] if l2 < 5 else l2 * sc
                loc[2] = l3 * f[2] if l3 < 5 else l3 * sc
                x = np.clip((t[m] - s.t_on) / 0.05, 0, 1)
                w = 1 - (1 - x) ** 2
                F[:3, m] = loc[:3, None] + (f[:3, None] - loc[:3, None]) * w[None, :]
        return F, B


# --------------------------------------------------------------------------- vocalisation builders
# Every builder takes ratio (f0 x ratio: transposition) and stretch (times x stretch: re-timing),
# so that an imitation is the same call with the partner's voice, a ratio < 1 and a stretch.

def sustained(speaker, kind, voice, t0, dur, f0_hz, st_knots, vowel, att, rel, ratio=1.0, stretch=1.0,
              xs=None, slope_db=-2.0, oq=0.6, tilt_hz=None, level_db=0.0, phase=0.0, desc="",
              vib_hz=0.0, vib_cents=0.0, breath=0.08):
    dur, att, rel = dur * stretch, att * stretch, rel * stretch
    base = f0_hz * ratio
    xs = np.linspace(0, 1, len(st_knots)) if xs is None else np.asarray(xs, float)
    ys = np.asarray(st_knots, float)

    def f0(t):
        x = np.clip((t - t0) / dur, 0, 1)
        st = knots(x, xs, ys) + flutter_st(t, phase)
        if vib_hz > 0:
            ramp = np.clip((t - t0 - 0.1) / 0.3, 0, 1)  # vibrato fades in after 0.1 s, full at 0.4 s
            st = st + ramp * (vib_cents / 100.0) * np.sin(2 * np.pi * vib_hz * (t - t0))
        return base * 2 ** (st / 12)

    syl = Syl(t0, t0, att, t0 + dur, rel, vowel, slope_db=slope_db, breath=breath)
    return Voc(speaker, kind, voice, f0, [syl], oq=oq, tilt_hz=tilt_hz, level_db=level_db, desc=desc,
               extra=dict(ratio=ratio, stretch=stretch))


def syllable_train(speaker, kind, voice, syls, levels_st, falls_st, base_hz, oq, level_db, desc,
                   phase=0.0, tilt_hz=None):
    """f0 of a train: syllable i goes from levels_st[i] to levels_st[i] - falls_st[i] (semitones re
    base) over its voiced part (cosine), held in the gaps."""
    v_on = np.array([s.v_on for s in syls])
    t_end = np.array([s.t_end for s in syls])
    lv = np.asarray(levels_st, float)
    fl = np.asarray(falls_st, float)

    def f0(t):
        i = np.clip(np.searchsorted(v_on, t, side="right") - 1, 0, len(syls) - 1)
        x = np.clip((t - v_on[i]) / (t_end[i] - v_on[i]), 0, 1)
        w = 0.5 - 0.5 * np.cos(np.pi * x)
        return base_hz * 2 ** ((lv[i] - fl[i] * w + flutter_st(t, phase)) / 12)

    return Voc(speaker, kind, voice, f0, syls, oq=oq, tilt_hz=tilt_hz, level_db=level_db, desc=desc)


def babble(speaker, kind, voice, t0, voiced_s, gaps_s, f0_hz, decl_st, consonant, ratio=1.0, stretch=1.0,
           level_db=0.0, desc="", phase=0.0, burst=0.5):
    """'ba ba ba': burst at each syllable start, voicing 6 ms later (20 ms attack), unvoiced closures."""
    syls, t = [], t0
    n = len(voiced_s)
    gains = np.linspace(1.0, 0.8, n)
    for i in range(n):
        v_on = t + 0.006
        t_end = v_on + voiced_s[i] * stretch
        syls.append(Syl(t, v_on, 0.02, t_end, 0.035, "a", gain=float(gains[i]), slope_db=-3.0,
                        breath=0.08, burst=burst, locus=consonant))
        if i < n - 1:
            t = t_end + gaps_s[i] * stretch
    levels = np.linspace(0, -decl_st, n) + 0.6
    v = syllable_train(speaker, kind, voice, syls, levels, np.full(n, 1.2), f0_hz * ratio, 0.6,
                       level_db, desc, phase)
    v.extra = dict(ratio=ratio, stretch=stretch)
    return v


def laugh(speaker, voice, t0, n, period_s, vowel_s, f0_start, f0_end, level_db=0.0, desc="", phase=0.0):
    """'ha ha ha': ~50 ms of breath noise ('h') then a breathy voiced vowel; f0 falling."""
    syls = []
    gains = np.linspace(1.0, 0.6, n)
    for i in range(n):
        t_on = t0 + i * period_s
        v_on = t_on + 0.05
        syls.append(Syl(t_on, v_on, 0.025, v_on + vowel_s, 0.05, "a", gain=float(gains[i]),
                        slope_db=-4.0, h=0.55, breath=0.35))
    st_end = 12 * np.log2(f0_end / f0_start)
    levels = np.linspace(0, st_end, n)
    return syllable_train(speaker, "laugh", voice, syls, levels, np.full(n, 2.0), f0_start, 0.75,
                          level_db, desc, phase)


def mm_mm(speaker, voice, t0, level_db=0.0, desc=""):
    """'mm-mm' (an "mhm" backchannel): a level hum, a 100 ms break, then a rising hum."""
    syls = [Syl(t0, t0, 0.05, t0 + 0.30, 0.06, "hum", slope_db=-2.0),
            Syl(t0 + 0.40, t0 + 0.40, 0.04, t0 + 0.80, 0.14, "hum", breath=0.12)]
    return syllable_train(speaker, "answer", voice, syls, [0.6, -1.5], [0.6, -5.0], 132.0, 0.6,
                          level_db, desc, phase=1.0, tilt_hz=650.0)


# --------------------------------------------------------------------------- the session

def imitation_ratio(level_hz, user_hz):
    return level_hz / user_hz


def session():
    """The timeline. Returns the list of vocalisations (user and partner) in time order."""
    V = []
    U, P = USER, PARTNER
    # U1: steady hum, slow attack
    u1 = dict(kind="hum_steady", f0_hz=285.0, st_knots=[0.0, 0.5, 0.2, -0.3], vowel="hum",
              att=0.09, rel=0.16, tilt_hz=600.0, level_db=-3.0, dur=1.30)
    V.append(sustained("user", voice=U, t0=0.50, phase=0.3, desc="steady hum 'mmm' ~285 Hz", **u1))
    # P1: imitation of U1, an octave and a bit lower, a little slower
    V.append(sustained("partner", voice=P, t0=2.60, phase=1.1, ratio=imitation_ratio(130.0, 285.0),
                       stretch=1.08, desc="imitates the hum ~130 Hz", **{**u1, "kind": "imitation",
                                                                           "level_db": -2.0}))
    # U2: rising hum glide, +5 st
    V.append(sustained("user", "hum_glide", U, 4.70, 1.10, 265.0, [0.0, 5.0], "hum", 0.07, 0.14,
                       xs=[0.15, 0.85], tilt_hz=600.0, level_db=-2.0, phase=2.0,
                       desc="rising hum 265->354 Hz (+5 st)"))
    # U3: babble "ba ba ba ba"
    u3 = dict(voiced_s=[0.20, 0.18, 0.19, 0.22], gaps_s=[0.07, 0.06, 0.07], f0_hz=300.0, decl_st=2.0,
              consonant="b")
    V.append(babble("user", "babble", U, 6.40, desc="babble 'ba ba ba ba' (4 syll)", phase=0.7, **u3))
    # P2: imitation of the babble
    V.append(babble("partner", "imitation", P, 8.40, ratio=imitation_ratio(135.0, 300.0), stretch=1.08,
                    desc="imitates 'ba ba ba ba' ~135 Hz", phase=2.5, level_db=-1.0, **u3))
    # ---- long pause (room noise only)
    # U4: open-vowel rise-fall glide: +7 st then down to -3 st
    V.append(sustained("user", "vowel_glide", U, 15.30, 1.40, 290.0, [0.0, 7.0, -3.0], "a", 0.05, 0.15,
                       xs=[0.1, 0.45, 0.9], phase=0.9, desc="'aah' rise-fall 290->434->244 Hz"))
    # P3: answer "oh!" (falling, not an imitation)
    V.append(sustained("partner", "answer", P, 17.40, 0.55, 175.0, [0.0, -7.5], "o", 0.03, 0.12,
                       xs=[0.1, 0.9], phase=0.2, level_db=0.0, desc="answers 'oh!' 175->113 Hz"))
    # U5: squeal 1
    V.append(sustained("user", "squeal", U, 18.60, 0.45, 480.0, [0.0, 12 * np.log2(880 / 480),
                                                                   12 * np.log2(560 / 480)], "ae",
                       0.03, 0.07, xs=[0.0, 0.4, 1.0], slope_db=-1.0, oq=0.55, level_db=1.0, phase=1.7,
                       desc="squeal 480->880->560 Hz"))
    # ---- hand clap at 19.75 s (not vocal)
    # U6: vowel with vibrato 5.5 Hz +-80 cents
    V.append(sustained("user", "vibrato", U, 20.40, 1.50, 310.0, [0.0, 0.0, -0.5], "a", 0.06, 0.18,
                       vib_hz=5.5, vib_cents=80.0, phase=0.4,
                       desc="'aah' with vibrato 5.5 Hz, +-80 cents, ~310 Hz"))
    # P4: answer "aah" (warm rise-fall, no vibrato: not an imitation)
    V.append(sustained("partner", "answer", P, 22.70, 0.95, 120.0, [0.0, 3.5, -0.5], "a", 0.06, 0.2,
                       xs=[0.1, 0.5, 0.95], phase=2.9, level_db=-1.0,
                       desc="answers 'aah' rise-fall 120->147->117 Hz"))
    # ---- breath at 24.75 s (not vocal)
    # U7: laugh, 4 "ha"
    V.append(laugh("user", U, 25.80, 4, 0.25, 0.13, 420.0, 340.0, level_db=-1.0, phase=0.5,
                   desc="laugh 'ha ha ha ha' 420->340 Hz, each 'ha' falling 2 st"))
    # P5: answer "mm-mm" (mhm)
    V.append(mm_mm("partner", P, 27.80, level_db=-2.0, desc="answers 'mm-mm' (mhm) ~135 Hz, then rising"))
    # U8: falling "ooo" glide, -7 st
    u8 = dict(kind="hum_glide", f0_hz=330.0, st_knots=[0.0, -7.0], vowel="u", att=0.08, rel=0.15,
              xs=[0.1, 0.85], level_db=-2.0, dur=1.10)
    V.append(sustained("user", voice=U, t0=29.20, phase=1.3, desc="falling 'ooo' 330->220 Hz (-7 st)",
                       **u8))
    # P6: imitation of U8
    V.append(sustained("partner", voice=P, t0=31.00, phase=0.6, ratio=imitation_ratio(165.0, 330.0),
                       stretch=1.1, desc="imitates the falling 'ooo' 165->110 Hz",
                       **{**u8, "kind": "imitation", "level_db": -1.0}))
    # U9: squeal 2
    V.append(sustained("user", "squeal", U, 32.80, 0.35, 520.0, [0.0, 12 * np.log2(980 / 520),
                                                                   12 * np.log2(640 / 520)], "ae",
                       0.03, 0.06, xs=[0.0, 0.45, 1.0], slope_db=-1.0, oq=0.55, level_db=1.0, phase=2.2,
                       desc="squeal 520->980->640 Hz"))
    # ---- long pause (room noise only)
    # U10: babble "da da da da da"
    V.append(babble("user", "babble", U, 38.50, [0.19, 0.18, 0.20, 0.19, 0.22], [0.07, 0.06, 0.07, 0.07],
                    320.0, 3.0, "d", phase=1.9, burst=0.7, desc="babble 'da da da da da' (5 syll)"))
    for i, v in enumerate(V):  # every partner vocalisation answers the user vocalisation before it
        if v.speaker == "partner":
            v.answers = max(j for j in range(i) if V[j].speaker == "user")
    return V


NONVOCAL = [  # (kind, time s, description)
    ("clap", 19.75, "one hand clap"),
    ("breath", 24.75, "an audible in-breath (0.55 s)"),
]


# --------------------------------------------------------------------------- DSP

def onepole(x, p, block=256):
    """y[n] = p[n] y[n-1] + x[n] (complex p, |p| < 1), vectorised per block of samples:
    y[n] = P[n] (y[b-1] + sum_{k=b..n} x[k] / P[k]) with P[n] = prod_{k=b..n} p[k]."""
    x = np.asarray(x, complex)
    p = np.broadcast_to(np.asarray(p, complex), x.shape)
    y = np.empty_like(x)
    state = 0j
    for i in range(0, len(x), block):
        P = np.exp(np.cumsum(np.log(p[i:i + block])))
        yb = P * (state + np.cumsum(x[i:i + block] / P))
        y[i:i + block] = yb
        state = yb[-1]
    return y


def resonator(x, f_hz, bw_hz, fs=FS):
    """Second-order (two-pole) resonator with unit gain at DC; f and bw may vary per sample.
    Computed as 2 Re(A * one-pole(x, p)), A = p / (p - p*) (partial fractions)."""
    r = np.exp(-np.pi * np.asarray(bw_hz, float) / fs)
    th = 2 * np.pi * np.asarray(f_hz, float) / fs
    p = r * np.exp(1j * th)
    gain = 1 - 2 * r * np.cos(th) + r * r
    A = p / (p - np.conj(p))
    return 2 * np.real(A * onepole(x * gain, p))


def antiresonator(x, f_hz, bw_hz, fs=FS):
    """Second-order zero pair (nasal anti-formant), unit gain at DC."""
    r = np.exp(-np.pi * bw_hz / fs)
    c1, c2 = -2 * r * np.cos(2 * np.pi * f_hz / fs), r * r
    y = x.copy()
    y[1:] += c1 * x[:-1]
    y[2:] += c2 * x[:-2]
    return y / (1 + c1 + c2)


def lowpass1(x, fc_hz, fs=FS):
    p = np.exp(-2 * np.pi * fc_hz / fs)
    return (1 - p) * np.real(onepole(x, p))


def fftconvolve(x, h):
    n = len(x) + len(h) - 1
    nfft = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(h, nfft), nfft)[:n]


def decimator_taps(numtaps=769, cutoff_hz=7400.0, beta=9.0):
    """Kaiser-windowed sinc low-pass at FS: passband to ~7.15 kHz, > 85 dB down from ~7.65 kHz."""
    m = np.arange(numtaps) - (numtaps - 1) / 2
    fc = cutoff_hz / FS
    h = 2 * fc * np.sinc(2 * fc * m) * np.kaiser(numtaps, beta)
    return h / h.sum()


def decimate(x):
    h = decimator_taps()
    d = (len(h) - 1) // 2
    return fftconvolve(x, h)[d:d + len(x)][::OS]


def rosenberg(theta, oq, sq=2.0):
    """Rosenberg glottal flow over one cycle (theta in [0, 1)): open quotient oq, speed quotient sq."""
    tp, tn = oq * sq / (1 + sq), oq / (1 + sq)
    g = np.zeros_like(theta)
    a = theta < tp
    g[a] = 0.5 - 0.5 * np.cos(np.pi * theta[a] / tp)
    b = (theta >= tp) & (theta < tp + tn)
    g[b] = np.cos(0.5 * np.pi * (theta[b] - tp) / tn)
    return g


def pulse_rms(oq):
    th = (np.arange(100_000) + 0.5) / 100_000
    return np.sqrt(np.mean(np.diff(rosenberg(th, oq)) ** 2)) * 100_000


def render(voc, rng):
    """Render one vocalisation at FS. Returns (first sample index at FS, signal, active mask)."""
    a, b = voc.span()
    n0, n1 = int(np.floor(a * FS)), int(np.ceil(b * FS)) + 1
    t = np.arange(n0, n1) / FS
    f0 = voc.f0(t)
    inc = f0 / FS
    cyc = np.floor(np.cumsum(inc)).astype(int)
    jit = rng.normal(0.0, voc.voice.jitter, cyc[-1] + 50)
    shim = rng.normal(0.0, voc.voice.shimmer, cyc[-1] + 50)
    inc_j = inc * (1 + jit[cyc])                    # per-cycle jitter around the smooth contour
    phi = np.cumsum(inc_j)
    g = rosenberg(phi % 1.0, voc.oq)                # glottal flow
    src = np.diff(g, prepend=0.0) / inc_j / pulse_rms(voc.oq)   # flow derivative per unit phase
    src *= 1 + shim[np.floor(phi).astype(int)]      # per-cycle shimmer
    voiced = src * voc.av(t)
    if voc.tilt_hz:
        voiced = lowpass1(voiced, voc.tilt_hz) * 2.0
    asp = (voc.h_env(t) + voc.breath(t) * (0.3 + 0.7 * g)) * rng.standard_normal(len(t))
    burst_noise = rng.standard_normal(len(t))
    x = voiced + 0.5 * asp
    F, B = voc.formants(t)
    if all(s.vowel == "hum" for s in voc.syls):
        x = antiresonator(x, *voc.voice.nasal_zero)
    for k in range(N_FORMANTS):
        x = resonator(x, F[k], B[k])
    for f, bw in voc.voice.hpc:   # the tract's higher resonances, so the spectrum does not end at F5
        x = resonator(x, f, bw)
    env = voc.env(t)
    active = env >= VOICED_FRAC * env.max()
    x /= np.sqrt(np.mean(x[active] ** 2))
    consonants = {s.locus for s in voc.syls if s.burst > 0}
    for c in consonants:   # release bursts: a parallel path (excited at the lips / alveolar ridge)
        b = resonator(burst_noise, *BURSTS[c])
        b *= voc.burst_env(t) / np.std(b)   # burst envelope = peak RMS relative to the vocalisation's RMS
        x += b
    x *= 10 ** (voc.level_db / 20)
    return n0, x, active


def render_nonvocal(kind, t0, rng):
    if kind == "clap":
        n = int(0.08 * FS)
        d = np.arange(n) / FS
        env = np.minimum(d / 0.0008, 1) * np.exp(-d / 0.009)
        x = rng.standard_normal(n) * env
        x = resonator(x, 1300.0, 900.0) * 0.6 + resonator(x, 3000.0, 2000.0) * 0.4
        x -= np.convolve(x, np.ones(64) / 64, "same")        # no DC/LF thump
        x *= 2.2 / np.max(np.abs(x))                           # peak relative to the voices' RMS
    elif kind == "breath":
        n = int(0.55 * FS)
        d = np.arange(n) / FS
        env = adsr(d, 0.0, 0.25, 0.55, 0.2) * (1 - 0.3 * d / 0.55)
        x = rng.standard_normal(n)
        x = resonator(x, 1100.0, 900.0) + 0.6 * resonator(x, 2600.0, 1200.0) + 0.3 * resonator(x, 4200.0, 1500.0)
        x = x * env
        x *= 10 ** (-24 / 20) / np.sqrt(np.mean(x[env > 0.5] ** 2))
    else:
        raise ValueError(kind)
    return int(round(t0 * FS)), x


def pink_noise(n, rng):
    X = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    shape = np.where(f >= 30, 1 / np.sqrt(np.maximum(f, 30)), 0.0)
    y = np.fft.irfft(X * shape, n)
    return y / y.std()


def room_ir(rng):
    n = int(0.4 * SR)
    t = np.arange(n) / SR
    tail = rng.standard_normal(n) * np.exp(-3 * np.log(10) * t / RT60_S)   # -60 dB at RT60
    tail[: int(0.004 * SR)] = 0.0
    tail = lowpass1(tail, 5000.0, fs=SR)                                    # duller reflections
    tail *= np.sqrt(10 ** (-DRR_DB / 10) / np.sum(tail ** 2))
    tail[0] += 1.0
    return tail


# --------------------------------------------------------------------------- truth

def fmt(x):
    return f"{x:.3f}"


def truth(V):
    """f0 tracks on the 10 ms grid, onsets, and each vocalisation's segment (v.seg), all from the
    synthesis contours and envelopes."""
    frames = np.arange(int(round(DUR_S / HOP_S)) + 1) * HOP_S
    f0_tracks = {"user": np.zeros(len(frames)), "partner": np.zeros(len(frames))}
    for v in V:
        a, b = v.span()
        t = np.arange(int(np.floor(a * FS)), int(np.ceil(b * FS)) + 1) / FS
        av = v.av(t)
        m = (frames >= a) & (frames <= b)
        voiced = v.av(frames[m]) >= VOICED_FRAC * av.max()
        tr = f0_tracks[v.speaker]
        assert not np.any(tr[m][voiced] > 0), "a speaker's vocalisations overlap"
        tr[np.flatnonzero(m)[voiced]] = v.f0(frames[m][voiced])
        env = v.env(t)
        on = np.flatnonzero(env >= 10 ** (SEG_DB / 20) * env.max())
        v.seg = (t[on[0]], t[on[-1]])
    onsets = sorted(o for v in V for o in v.onsets)
    return frames, f0_tracks, onsets


def check_design(V):
    """The brief's constraints, asserted so that an edit that breaks them fails loudly."""
    segs = sorted((v.seg[0], v.seg[1], v) for v in V)
    for (s0, e0, a), (s1, e1, b) in zip(segs, segs[1:]):
        assert s1 > e0 + 0.3, f"vocalisations too close: {a.desc} / {b.desc}"
    gaps = [s1 - e0 for (s0, e0, _), (s1, e1, _) in zip(segs, segs[1:])]
    assert sum(5.0 <= g <= 8.0 for g in gaps) == 2, gaps
    for v in V:
        if v.answers is not None:
            u = V[v.answers]
            lat = v.seg[0] - u.seg[1]
            assert u.speaker == "user" and 0.5 <= lat <= 2.0, (v.desc, lat)
        if v.kind == "babble":
            for s, nxt in zip(v.syls, v.syls[1:] + [None]):
                assert 0.12 <= s.t_end - s.v_on <= 0.25
                if nxt is not None:
                    assert 0.04 <= nxt.v_on - s.t_end - 0.006 <= 0.08
            ioi = np.diff(v.onsets)
            assert 2.5 <= 1 / ioi.mean() <= 4.0 and 3 <= len(v.syls) <= 6
        if v.kind in ("hum_steady", "hum_glide"):
            assert 0.04 <= v.syls[0].att <= 0.12
    for kind, t0, _ in NONVOCAL:
        assert all(abs(t0 - o) > 0.4 for v in V for o in v.onsets), kind


# --------------------------------------------------------------------------- main

def write_wav(path, y):
    pcm = np.round(y * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parent)
    out = ap.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    V = session()
    n_hi = int(round(DUR_S * FS))
    n_out = n_hi // OS
    voices = {"user": np.zeros(n_hi), "partner": np.zeros(n_hi)}
    active_hi = np.zeros(n_hi, bool)
    for i, v in enumerate(V):
        n0, x, act = render(v, np.random.default_rng([SEED, 1, i]))
        voices[v.speaker][n0:n0 + len(x)] += x
        active_hi[n0:n0 + len(x)] |= act
    other = np.zeros(n_hi)
    for j, (kind, t0, _) in enumerate(NONVOCAL):
        n0, x = render_nonvocal(kind, t0, np.random.default_rng([SEED, 2, j]))
        other[n0:n0 + len(x)] += x

    ir = room_ir(np.random.default_rng([SEED, 3]))
    dry = {k: decimate(x) for k, x in voices.items()}
    wet = {k: fftconvolve(x, ir)[:n_out] for k, x in dry.items()}
    voice_mix = wet["user"] + wet["partner"]
    active = active_hi[::OS]
    p_voice = np.mean(voice_mix[active] ** 2)
    noise = pink_noise(n_out, np.random.default_rng([SEED, 4])) * np.sqrt(p_voice * 10 ** (NOISE_DB / 10))
    mix = voice_mix + decimate(other) + noise
    mix *= 10 ** (PEAK_DBFS / 20) / np.max(np.abs(mix))

    frames, f0s, onsets = truth(V)
    check_design(V)

    stem = out / "demo_session"
    write_wav(stem.with_suffix(".wav"), mix)
    for who, suffix in (("user", ".f0.csv"), ("partner", ".partner.f0.csv")):
        with open(str(stem) + suffix, "w") as f:
            f.write("time_s,f0_hz\n")
            f.writelines(f"{fmt(t)},{fmt(h)}\n" for t, h in zip(frames, f0s[who]))
    with open(str(stem) + ".onsets.csv", "w") as f:
        f.write("time_s\n")
        f.writelines(f"{fmt(o)}\n" for o in onsets)
    with open(str(stem) + ".segments.csv", "w") as f:
        f.write("start_s,end_s,speaker,kind\n")
        f.writelines(f"{fmt(v.seg[0])},{fmt(v.seg[1])},{v.speaker},{v.kind}\n"
                     for v in sorted(V, key=lambda v: v.seg[0]))
    with open(str(stem) + ".truth.md", "w") as f:
        f.write(truth_md(V, onsets, f0s, frames))
    print(f"wrote {stem}.wav ({n_out / SR:.1f} s) and its truth: {len(V)} vocalisations, "
          f"{len(onsets)} onsets, {int((f0s['user'] > 0).sum())} user / "
          f"{int((f0s['partner'] > 0).sum())} partner voiced frames")


def truth_md(V, onsets, f0s, frames):
    def f0_range(v):
        tr = f0s[v.speaker]
        m = (frames >= v.seg[0]) & (frames <= v.seg[1]) & (tr > 0)
        return f"{tr[m].min():.0f}-{tr[m].max():.0f}"

    events = []
    for v in V:
        note = ""
        if v.answers is not None:
            u = V[v.answers]
            note = f"{v.seg[0] - u.seg[1]:.2f} s after the user's {u.kind}"
            if v.kind == "imitation":
                note += f", transposed {12 * np.log2(v.extra['ratio']):+.1f} st, re-timed x{v.extra['stretch']:.2f}"
        events.append((v.seg[0], v.seg[1], v.speaker, v.kind, v.desc, f0_range(v), len(v.onsets), note))
    events += [(t0, None, "-", kind, desc, "", 0, "not vocal: not an onset, not a segment")
               for kind, t0, desc in NONVOCAL]
    segs = sorted(v.seg for v in V)
    for (s0, e0), (s1, e1) in zip(segs, segs[1:]):
        if s1 - e0 >= 5.0:
            events.append((e0, s1, "-", "pause", f"{s1 - e0:.1f} s of room noise only", "", 0, ""))
    events.sort(key=lambda e: e[0])
    tbl = ["| start s | end s | who | kind | what | f0 Hz (truth) | onsets | note |",
           "|---|---|---|---|---|---|---|---|"]
    for s, e, who, kind, desc, fr, n, note in events:
        tbl.append(f"| {s:.3f} | {'' if e is None else f'{e:.3f}'} | {who} | {kind} | {desc} | {fr} | {n} | {note} |")
    partner = [v for v in V if v.speaker == "partner"]
    lats = [v.seg[0] - V[v.answers].seg[1] for v in partner]
    n_imit = sum(v.kind == "imitation" for v in partner)
    pf0 = f0s["partner"][f0s["partner"] > 0]
    n_user = sum(v.speaker == "user" for v in V)
    closures = [nxt.t_on - s.t_end for v in V if any(x.burst > 0 for x in v.syls)
                for s, nxt in zip(v.syls, v.syls[1:])]
    lines = []
    lines.append(f"""# demo_session: a synthetic Intensive Interaction session with exact ground truth

`demo_session.wav`: mono, 16-bit PCM, {SR} Hz, {DUR_S} s, peak {PEAK_DBFS:.0f} dBFS. A calm two-party
session: a child-like **user** voice (f0 base 265-330 Hz) and an adult male **partner** voice
(f0 {pf0.min():.0f}-{pf0.max():.0f} Hz) who answers {len(partner)} of the user's {n_user} vocalisations
{min(lats):.2f}-{max(lats):.2f} s after they end, {n_imit} times by imitating the user's contour
transposed down (12-14 semitones) and slowed 8-10 %, {len(partner) - n_imit} times with a sound of his
own. Two long pauses of room noise only, one hand clap and one breath (distractors: not vocal,
not onsets, not segments).

## Timeline

{chr(10).join(tbl)}

## Files

| file | content |
|---|---|
| `demo_session.f0.csv` | `time_s,f0_hz` every 10 ms from 0.000 to {DUR_S:.3f}: the **user's** f0, 0 = unvoiced (partner frames are 0) |
| `demo_session.partner.f0.csv` | the same for the partner (user frames are 0) |
| `demo_session.onsets.csv` | `time_s`: vocal onsets of both people ({len(onsets)}) |
| `demo_session.segments.csv` | `start_s,end_s,speaker,kind`: one row per vocalisation ({len(V)}) |

Conventions (those of the project's evaluation corpus):
- f0 is the smooth contour that drives the pulse train (including the slow drift, vibrato and
  the tiny "flutter" that are part of the contour), without the per-cycle jitter. A 10 ms frame
  is voiced where the voicing amplitude envelope of the vocalisation, evaluated at the frame
  time, is >= 10 % (-20 dB) of that vocalisation's peak. Reverb tails are not voiced.
- Onsets: the start of each syllable (plosive burst of "ba"/"da", the "h" of each "ha", each
  hum of "mm-mm") or of a sustained vocalisation's attack (the instant the envelope starts
  to rise; the user's hums have slow 70-100 ms attacks on purpose). The clap and the breath are not onsets.
- Segments: from where the vocalisation's envelope (voicing + "h" + burst) first reaches
  -35 dB re its peak to where it last is; a babble train or a laugh is one vocalisation. `kind`
  is hum_steady, hum_glide, vowel_glide, vibrato, squeal, babble or laugh for the user,
  imitation or answer for the partner.
- All times in seconds with 3 decimals.

## How it was made

`make_demo.py` (python 3 + numpy only, seeded, deterministic): glottal source-filter
synthesis. Source: a Rosenberg glottal pulse (open quotient 0.55-0.75) driven by the integrated
instantaneous f0, with per-cycle jitter (0.5 % user, 0.6 % partner) and shimmer (4-5 %); its
derivative (lip radiation) is used. Aspiration noise is gated by the glottal opening (breathy
laugh vowels, "h"). Filter: a cascade of 5 second-order formant resonators (vowel formants
scaled +15 % for the child, -13 % for the man; e.g. the child's /a/ 978/1840/3220 Hz), followed
by 2-3 fixed wide resonators above F5 (higher-pole correction); hums have a strong low formant
(300 / 250 Hz), weak wide higher ones, a nasal anti-resonance and extra spectral tilt.
"ba"/"da" syllables start with a short noise burst (parallel path, 4 ms decay: diffuse for /b/,
high for /d/), then voicing 6 ms later with a 50 ms formant transition from the consonant's
locus; syllables are separated by {min(closures) * 1000:.0f}-{max(closures) * 1000:.0f} ms unvoiced closures. Rendered at {FS // 1000} kHz and decimated by {OS}
(769-tap Kaiser-windowed sinc low-pass, cut-off 7.4 kHz). Voices get a mild room response
(exponentially decaying noise, RT60 {RT60_S} s, direct-to-reverberant {DRR_DB:.0f} dB); pink room
noise is added {-NOISE_DB:.0f} dB below the voices' power over their active samples; the clap and
breath are added dry. The mix is scaled to a {PEAK_DBFS:.0f} dBFS peak.

Regenerate (from the repository root): `python3 assets/make_demo.py` (or `--out DIR`). The
output is byte-for-byte the same for the same numpy version (random streams seeded from
{SEED}); the truth files depend only on the parameters in the script, not on the random
streams.

## Licence

Made for the attune project; the recording, its truth files and `make_demo.py` are dedicated
to the public domain under CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/).
""")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
