"""Shared by the robustness scripts (stress-demo.py, far-field.py): 16-bit mono WAV in and out,
and seeded pink noise. Needs numpy."""
import wave

import numpy as np


def read_wav(path):
    """The samples of a 16-bit WAV as floats in [-1, 1), and its rate."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64) / 32768
    return x, rate


def write_wav(path, x, rate):
    """Writes `x` as 16-bit mono PCM, clipped at full scale."""
    x = np.clip(x, -1.0, 1.0 - 1.0 / 32768)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.round(x * 32767)).astype(np.int16).tobytes())


def pink(n, rng):
    """`n` samples of pink (1/f power) noise with unit RMS from the generator `rng`."""
    spec = np.fft.rfft(rng.standard_normal(n))
    k = np.arange(len(spec), dtype=np.float64)
    k[0] = 1.0
    y = np.fft.irfft(spec / np.sqrt(k), n)
    return y / np.std(y)
