//! Synthetic signals with known answers, shared by the integration tests.
#![allow(dead_code)]

use std::f64::consts::PI;

/// A deterministic xorshift noise source (no rand crate needed).
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// A voice-like tone: harmonics with 1/h amplitudes up to 7 kHz, following `f0_hz(t)` (t in s
/// from the tone start), with linear attack and release, at `peak` amplitude.
pub fn voice(
    rate: u32,
    secs: f64,
    peak: f64,
    attack: f64,
    release: f64,
    f0_hz: impl Fn(f64) -> f64,
) -> Vec<f64> {
    let n = (secs * f64::from(rate)) as usize;
    let mut phase = 0.0f64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let f = f0_hz(t);
        phase += 2.0 * PI * f / f64::from(rate);
        let env = (t / attack).min(1.0).min((secs - t) / release).max(0.0);
        let mut v = 0.0;
        let mut h = 1.0;
        while h * f < 7_000.0_f64.min(0.45 * f64::from(rate)) && h <= 15.0 {
            v += (h * phase).sin() / h;
            h += 1.0;
        }
        out.push(peak * env * v / 1.6);
    }
    out
}

/// A recording: background noise at `floor` amplitude with `parts` added at their start times.
pub fn scene(rate: u32, secs: f64, floor: f64, parts: &[(f64, Vec<f64>)], seed: u64) -> Vec<f32> {
    let n = (secs * f64::from(rate)) as usize;
    let mut noise = Noise::new(seed);
    let mut x: Vec<f64> = (0..n).map(|_| floor * noise.next()).collect();
    for (start, part) in parts {
        let s = (start * f64::from(rate)) as usize;
        for (i, v) in part.iter().enumerate() {
            if let Some(d) = x.get_mut(s + i) {
                *d += v;
            }
        }
    }
    x.into_iter().map(|v| v as f32).collect()
}

/// A noise burst (a breath: `decay` long, or a clap/knock when short) at `peak` amplitude.
pub fn burst(rate: u32, secs: f64, peak: f64, decay: f64, seed: u64) -> Vec<f64> {
    let mut noise = Noise::new(seed);
    let n = (secs * f64::from(rate)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            peak * (-t / decay).exp() * noise.next()
        })
        .collect()
}

/// Semitone distance in cents.
pub fn cents(a: f64, b: f64) -> f64 {
    1200.0 * (a / b).log2()
}
