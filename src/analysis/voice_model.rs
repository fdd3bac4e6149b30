//! A talker's voice model: a small diagonal-covariance Gaussian mixture over the spectral
//! envelope of voiced frames (20 MFCCs) and a Gaussian of their log f0, trained (k-means, then
//! EM) from an enrolment clip or from a session's own vocalisations. Deterministic (no random
//! initialisation).
//!
//! Pure maths; runs on whichever thread trains or scores (offline: the `analyze` worker).

use thiserror::Error;

use crate::dsp::voice::{Cepstrum, N_CEPS};

/// Dimensions of a voice vector: the cepstrum and log f0.
pub const DIM: usize = N_CEPS + 1;
/// One voiced frame's voice vector.
pub type VoiceVector = [f32; DIM];

/// Fewest voiced frames (0.5 s) a model is trained from.
pub const MIN_FRAMES: usize = 50;
/// Most mixture components.
const MAX_COMPONENTS: usize = 8;
/// Frames per component at least.
const FRAMES_PER_COMPONENT: usize = 60;
const EM_ITERATIONS: usize = 25;

/// A voice model could not be trained.
#[derive(Debug, Error, PartialEq)]
pub enum VoiceModelError {
    #[error("too little voice to model ({frames} voiced frames, at least {MIN_FRAMES} needed)")]
    TooLittleVoice { frames: usize },
}

/// Builds a frame's voice vector; `None` when the f0 is not a positive finite number.
pub fn feature_vector(ceps: &Cepstrum, f0_hz: f32) -> Option<VoiceVector> {
    if !(f0_hz.is_finite() && f0_hz > 0.0) {
        return None;
    }
    let mut v = [0f32; DIM];
    v[..N_CEPS].copy_from_slice(ceps);
    // Semitones re 100 Hz, scaled to a spread like the cepstra's.
    v[N_CEPS] = (f0_hz / 100.0).log2();
    Some(v)
}

/// A diagonal Gaussian mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceModel {
    log_weights: Vec<f64>,
    means: Vec<[f64; G]>,
    vars: Vec<[f64; G]>,
    /// Per component: −½ Σ log(2π var).
    log_norms: Vec<f64>,
    /// Pitch: mean and standard deviation of f0 in octaves re 100 Hz.
    pitch_mean: f64,
    pitch_sd: f64,
}

/// Spectral mixture dimensions (the cepstrum; the pitch is modelled on its own).
const G: usize = N_CEPS;

impl VoiceModel {
    /// Trains a mixture on `data` (farthest-point seeding, k-means, then EM).
    pub fn train(data: &[VoiceVector]) -> Result<Self, VoiceModelError> {
        let n = data.len();
        if n < MIN_FRAMES {
            return Err(VoiceModelError::TooLittleVoice { frames: n });
        }
        let k = (n / FRAMES_PER_COMPONENT).clamp(1, MAX_COMPONENTS);
        let x: Vec<[f64; G]> = data
            .iter()
            .map(|v| std::array::from_fn(|d| f64::from(v[d])))
            .collect();
        let pitch: Vec<f64> = data.iter().map(|v| f64::from(v[N_CEPS])).collect();
        let pitch_mean = pitch.iter().sum::<f64>() / n as f64;
        let pitch_sd = (pitch.iter().map(|p| (p - pitch_mean).powi(2)).sum::<f64>() / n as f64)
            .sqrt()
            .max(0.05);
        let mut mean = [0f64; G];
        for v in &x {
            for d in 0..G {
                mean[d] += v[d] / n as f64;
            }
        }
        let mut var = [0f64; G];
        for v in &x {
            for d in 0..G {
                var[d] += (v[d] - mean[d]).powi(2) / n as f64;
            }
        }
        let floor: [f64; G] = std::array::from_fn(|d| (var[d] * 0.01).max(1e-6));
        let zdist = |a: &[f64; G], b: &[f64; G]| -> f64 {
            (0..G)
                .map(|d| (a[d] - b[d]).powi(2) / var[d].max(1e-9))
                .sum()
        };
        // Farthest-point seeding from the frame nearest the mean.
        let mut centres: Vec<[f64; G]> = Vec::with_capacity(k);
        let first = (0..n)
            .min_by(|&i, &j| zdist(&x[i], &mean).total_cmp(&zdist(&x[j], &mean)))
            .unwrap_or(0);
        centres.push(x[first]);
        let mut nearest: Vec<f64> = x.iter().map(|v| zdist(v, &x[first])).collect();
        while centres.len() < k {
            // The median-distance-weighted farthest point, robust to a few outliers: take the
            // frame at the 95th percentile of distance.
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&i, &j| nearest[i].total_cmp(&nearest[j]));
            let pick = order[(n - 1) * 95 / 100];
            centres.push(x[pick]);
            for (d, v) in nearest.iter_mut().zip(&x) {
                *d = d.min(zdist(v, &x[pick]));
            }
        }
        // k-means.
        let mut assign = vec![0usize; n];
        for _ in 0..10 {
            for (a, v) in assign.iter_mut().zip(&x) {
                *a = (0..k)
                    .min_by(|&i, &j| zdist(v, &centres[i]).total_cmp(&zdist(v, &centres[j])))
                    .unwrap_or(0);
            }
            let mut sums = vec![[0f64; G]; k];
            let mut counts = vec![0usize; k];
            for (a, v) in assign.iter().zip(&x) {
                counts[*a] += 1;
                for d in 0..G {
                    sums[*a][d] += v[d];
                }
            }
            for c in 0..k {
                if counts[c] > 0 {
                    for d in 0..G {
                        centres[c][d] = sums[c][d] / counts[c] as f64;
                    }
                }
            }
        }
        let mut model = Self {
            log_weights: vec![-(k as f64).ln(); k],
            means: centres,
            vars: vec![var; k],
            log_norms: vec![0.0; k],
            pitch_mean,
            pitch_sd,
        };
        model.update_norms();
        // EM.
        let mut resp = vec![0f64; k];
        for _ in 0..EM_ITERATIONS {
            let mut w = vec![0f64; k];
            let mut s1 = vec![[0f64; G]; k];
            let mut s2 = vec![[0f64; G]; k];
            for v in &x {
                let mut best = f64::MIN;
                for (c, r) in resp.iter_mut().enumerate() {
                    *r = model.component_log(c, v);
                    best = best.max(*r);
                }
                let mut total = 0.0;
                for r in resp.iter_mut() {
                    *r = (*r - best).exp();
                    total += *r;
                }
                for c in 0..k {
                    let r = resp[c] / total;
                    w[c] += r;
                    for d in 0..G {
                        s1[c][d] += r * v[d];
                        s2[c][d] += r * v[d] * v[d];
                    }
                }
            }
            for c in 0..k {
                if w[c] < 1e-3 {
                    model.log_weights[c] = f64::MIN / 4.0;
                    continue;
                }
                model.log_weights[c] = (w[c] / n as f64).ln();
                for d in 0..G {
                    let m = s1[c][d] / w[c];
                    model.means[c][d] = m;
                    model.vars[c][d] = (s2[c][d] / w[c] - m * m).max(floor[d]);
                }
            }
            model.update_norms();
        }
        Ok(model)
    }

    fn update_norms(&mut self) {
        for (ln, v) in self.log_norms.iter_mut().zip(&self.vars) {
            *ln = -0.5
                * v.iter()
                    .map(|s| (2.0 * std::f64::consts::PI * s).ln())
                    .sum::<f64>();
        }
    }

    fn component_log(&self, c: usize, v: &[f64; G]) -> f64 {
        let m = &self.means[c];
        let s = &self.vars[c];
        let q: f64 = (0..G).map(|d| (v[d] - m[d]).powi(2) / s[d]).sum();
        self.log_weights[c] + self.log_norms[c] - 0.5 * q
    }

    /// Log-likelihood of a frame's pitch under the talker's pitch distribution.
    pub fn pitch_log_likelihood(&self, x: &VoiceVector) -> f64 {
        let z = (f64::from(x[N_CEPS]) - self.pitch_mean) / self.pitch_sd;
        -0.5 * z * z - self.pitch_sd.ln()
    }

    /// Log-likelihood of a frame's spectral envelope (the cepstrum).
    pub fn log_likelihood(&self, x: &VoiceVector) -> f64 {
        let v: [f64; G] = std::array::from_fn(|d| f64::from(x[d]));
        let mut logs = [f64::MIN; MAX_COMPONENTS];
        let k = self.means.len().min(MAX_COMPONENTS);
        for (c, l) in logs.iter_mut().enumerate().take(k) {
            *l = self.component_log(c, &v);
        }
        let best = logs[..k].iter().copied().fold(f64::MIN, f64::max);
        best + logs[..k].iter().map(|l| (l - best).exp()).sum::<f64>().ln()
    }
}
