//! Spectral voice features: mel-frequency cepstral coefficients every 10 ms, on the same frame
//! grid as the Analyzer's pitch frames (frame `k` is centred on sample `k · 160` at 16 kHz).
//!
//! Runs on the thread that reads a file (offline session analysis) or on the live analysis
//! thread; allocation-free after `new`.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::{ANALYSIS_RATE_HZ, HOP_LEN};

/// Cepstral coefficients per frame (c1..c20; c0, the level, is left out so the features do
/// not depend on how loud a talker is).
pub const N_CEPS: usize = 20;
/// Analysis window (25 ms at 16 kHz).
const WIN_LEN: usize = 400;
const FFT_LEN: usize = 512;
const N_MEL: usize = 40;
const MEL_LOW_HZ: f64 = 80.0;
const MEL_HIGH_HZ: f64 = 7_000.0;

/// One frame's features.
pub type Cepstrum = [f32; N_CEPS];

fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// Streaming MFCC extractor over 16 kHz samples.
pub struct VoiceFeatures {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// The last `WIN_LEN` samples, circular; starts as silence (frames before the start).
    ring: Vec<f32>,
    ring_pos: usize,
    prev_sample: f32,
    samples_in: u64,
    next_frame: u64,
    /// Triangular mel filters: first FFT bin and weights.
    filters: Vec<(usize, Vec<f32>)>,
    /// DCT-II rows for c1..c20.
    dct: Vec<[f32; N_MEL]>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl Default for VoiceFeatures {
    fn default() -> Self {
        Self::new()
    }
}

impl VoiceFeatures {
    /// Plans the FFT and the filterbank. Any thread.
    pub fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(FFT_LEN);
        let window = (0..WIN_LEN)
            .map(|i| {
                let x = std::f64::consts::PI * 2.0 * i as f64 / (WIN_LEN - 1) as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        let rate = f64::from(ANALYSIS_RATE_HZ);
        let bin_hz = rate / FFT_LEN as f64;
        let (lo, hi) = (hz_to_mel(MEL_LOW_HZ), hz_to_mel(MEL_HIGH_HZ));
        let edges: Vec<f64> = (0..N_MEL + 2)
            .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (N_MEL + 1) as f64))
            .collect();
        let filters = (0..N_MEL)
            .map(|m| {
                let (a, b, c) = (edges[m], edges[m + 1], edges[m + 2]);
                let first = (a / bin_hz).ceil() as usize;
                let last = ((c / bin_hz).floor() as usize).min(FFT_LEN / 2);
                let weights = (first..=last)
                    .map(|k| {
                        let f = k as f64 * bin_hz;
                        let w = if f <= b {
                            (f - a) / (b - a)
                        } else {
                            (c - f) / (c - b)
                        };
                        w.max(0.0) as f32
                    })
                    .collect();
                (first, weights)
            })
            .collect();
        let dct = (1..=N_CEPS)
            .map(|q| {
                let mut row = [0f32; N_MEL];
                for (m, r) in row.iter_mut().enumerate() {
                    *r = (std::f64::consts::PI * q as f64 * (m as f64 + 0.5) / N_MEL as f64).cos()
                        as f32;
                }
                row
            })
            .collect();
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            fft,
            window,
            ring: vec![0.0; WIN_LEN],
            ring_pos: 0,
            prev_sample: 0.0,
            samples_in: 0,
            next_frame: 0,
            filters,
            dct,
            frame: vec![0.0; FFT_LEN],
            spectrum,
            scratch,
        }
    }

    /// Feeds 16 kHz samples; `sink` gets `(frame index, features)` for every frame whose window
    /// is complete, in order.
    pub fn process(&mut self, samples: &[f32], sink: &mut impl FnMut(u64, &Cepstrum)) {
        for &s in samples {
            let s = if s.is_finite() { s } else { 0.0 };
            // Pre-emphasis flattens the voice's spectral tilt.
            self.ring[self.ring_pos] = s - 0.97 * self.prev_sample;
            self.prev_sample = s;
            self.ring_pos = (self.ring_pos + 1) % WIN_LEN;
            self.samples_in += 1;
            while self.next_frame * HOP_LEN as u64 + (WIN_LEN / 2) as u64 <= self.samples_in {
                let c = self.compute();
                sink(self.next_frame, &c);
                self.next_frame += 1;
            }
        }
    }

    /// Pads with silence so that every frame centred inside the input is emitted.
    pub fn finish(&mut self, sink: &mut impl FnMut(u64, &Cepstrum)) {
        let frames = self.samples_in.div_ceil(HOP_LEN as u64);
        let zeros = [0f32; HOP_LEN];
        while self.next_frame < frames {
            let before = self.next_frame;
            self.process(&zeros, sink);
            if self.next_frame == before {
                break;
            }
        }
    }

    fn compute(&mut self) -> Cepstrum {
        for i in 0..WIN_LEN {
            self.frame[i] = self.ring[(self.ring_pos + i) % WIN_LEN] * self.window[i];
        }
        self.frame[WIN_LEN..].fill(0.0);
        let mut out = [0f32; N_CEPS];
        if self
            .fft
            .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .is_err()
        {
            return out;
        }
        let mut log_mel = [0f32; N_MEL];
        for (lm, (first, weights)) in log_mel.iter_mut().zip(&self.filters) {
            let e: f32 = weights
                .iter()
                .zip(&self.spectrum[*first..])
                .map(|(w, c)| w * c.norm_sqr())
                .sum();
            *lm = (e + 1e-10).ln();
        }
        for (o, row) in out.iter_mut().zip(&self.dct) {
            *o = row.iter().zip(&log_mel).map(|(a, b)| a * b).sum::<f32>() / N_MEL as f32;
        }
        out
    }
}
