//! Per-frame periodicity analysis: the normalised square difference function (a YIN / McLeod
//! hybrid) computed with FFTs planned once, and the pitch candidates it supports.
//!
//! For a frame `x[0..len]` with integration window `w` and maximum lag `tau_max`
//! (`len = w + tau_max`), the periodicity at lag `tau` is
//! `p(tau) = 2 r(tau) / (e(0) + e(tau))` with `r(tau) = Σ_{j<w} x[j] x[j+tau]` and
//! `e(tau) = Σ_{j<w} x[j+tau]²`. It is 1 for a perfectly periodic signal at its period and is
//! insensitive to level. `r` is one cross-correlation: the spectra of the window and of the
//! frame (one complex FFT gives both, unless the window must wait for noise removal) and one
//! inverse FFT. A clearly periodic candidate's f0 is then refined over a short window and taken
//! from the spectrum's harmonic peaks, which a background voice at a nearby pitch does not pull.
//! The best candidates also get a modulation: how much the frame's power swings within one of
//! their periods, which tells a formant harmonic rung by slower glottal pulses from a voice.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::spectral_noise::NoiseSpectrum;

/// Refinement window in periods of the candidate.
const REFINE_PERIODS: f64 = 2.5;
/// Candidates less periodic than this are left as they are (noise, breath).
const REFINE_MIN_STRENGTH: f32 = 0.5;
/// How many of the best candidates are refined.
const REFINED_CANDIDATES: usize = 3;
/// How many lags the refinement may walk beyond the five around the long-window estimate.
const REFINE_MAX_WALK: usize = 1;
/// Shortest refinement window (10 ms at 16 kHz).
const REFINE_MIN_WINDOW: usize = 160;

/// The harmonic f0: measured over a Hann window of this many seconds centred on the frame
/// time, from harmonics up to `HARMONIC_F0_TOP_HZ`, and used when within
/// `HARMONIC_F0_MAX_RATIO` of the refined f0.
const HARMONIC_F0_WINDOW_SECS: f64 = 0.043;
const HARMONIC_F0_TOP_HZ: f32 = 3000.0;
const HARMONIC_F0_MAX_HARMONICS: usize = 16;
const HARMONIC_F0_MAX_RATIO: f32 = 0.06;
/// Below this f0 (in FFT bins) the harmonics are too close for the window to separate.
const HARMONIC_F0_MIN_BINS: f32 = 6.0;

/// A searched frame whose best periodicity stays below this holds no voice: the noise
/// spectrum learns from it.
const NOISE_MAX_STRENGTH: f32 = 0.5;
/// Spectral subtraction: multiples of the noise spectrum removed, and the lowest power gain.
const NOISE_OVERSUBTRACTION: f32 = 1.5;
const NOISE_FLOOR_POWER_GAIN: f32 = 0.03;

/// Harmonics are compared up to this frequency (the voice band's upper edge).
const HARMONICITY_TOP_HZ: f32 = 3000.0;
/// Below this f0 (in FFT bins, about 94 Hz for the default range) a candidate's harmonicity is
/// not measured: its harmonics are too close for the spectrum to separate.
const HARMONICITY_MIN_BINS: f32 = 6.0;

/// The best `HARMONIC_VOICING_CANDIDATES` candidates, when at least this periodic, have their
/// harmonicity measured even when no other candidate is an octave away: the tracker takes a
/// harmonic spectrum as evidence of voice.
const HARMONIC_VOICING_MIN_STRENGTH: f32 = 0.4;
const HARMONIC_VOICING_CANDIDATES: usize = 2;

/// The best `MODULATION_CANDIDATES` candidates, when at least this periodic, have their
/// modulation measured, every `MODULATION_STEP` samples.
const MODULATION_CANDIDATES: usize = 3;
const MODULATION_MIN_STRENGTH: f32 = 0.3;
const MODULATION_STEP: usize = 8;

/// Most candidates kept per frame.
pub const MAX_CANDIDATES: usize = 6;

/// One peak of the periodicity function.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Candidate {
    pub f0_hz: f32,
    /// Periodicity at the peak, 0-1.
    pub strength: f32,
    /// How far the spectrum at the candidate's harmonics stands above the spectrum halfway
    /// between them (dB, geometric means): high for the true f0, lower for its subharmonics
    /// (half their harmonics fall where there is nothing) and near 0 for an octave too high
    /// (the midpoints are harmonics too).
    pub harmonicity_db: f32,
    /// How much the frame's power, averaged over one period of the candidate, swings within
    /// the frame against its average over the longest period (mean absolute difference over
    /// the mean): near 0 for a voice at this f0, high for a formant harmonic rung by slower
    /// glottal pulses. 0 when not measured.
    pub modulation: f32,
}

/// What one frame yields.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameFeatures {
    /// Candidates, strongest (after the small preference for higher f0) first.
    pub candidates: [Candidate; MAX_CANDIDATES],
    pub n_candidates: usize,
    /// RMS level of the central 25 ms (dBFS).
    pub level_db: f32,
}

impl FrameFeatures {
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates[..self.n_candidates]
    }

    /// The highest harmonicity among the frame's candidates (dB), or `None` when none was
    /// measured.
    pub fn best_harmonicity_db(&self) -> Option<f32> {
        self.candidates()
            .iter()
            .map(|c| c.harmonicity_db)
            .filter(|h| h.is_finite())
            .reduce(f32::max)
    }

    /// The strongest periodicity in the frame (0 when there is none).
    pub fn best_strength(&self) -> f32 {
        self.candidates()
            .iter()
            .map(|c| c.strength)
            .fold(0.0, f32::max)
    }
}

/// Periodicity analyser for one frame size. Allocation-free after `new`.
pub struct PitchAnalyzer {
    sample_rate_hz: f64,
    window_len: usize,
    tau_min: usize,
    tau_max: usize,
    fft_len: usize,
    /// Complex FFTs of `fft_len` points. Each forward one transforms two real signals at once
    /// when it can (see [`Self::forward_pair`]); a real signal's spectrum is kept as its
    /// `fft_len / 2 + 1` non-negative frequencies.
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
    /// The FFTs' in-place buffer (`fft_len` points) and their scratch.
    work: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// The current frame with its mean removed.
    centred: Vec<f32>,
    /// The spectra of the frame's window (then the cross-spectrum) and of the whole frame.
    spec_a: Vec<Complex<f32>>,
    spec_b: Vec<Complex<f32>>,
    /// The frame's power spectrum before noise removal.
    frame_power: Vec<f32>,
    /// The searched frame's power spectrum (after noise removal), Hann-smoothed.
    search_power: Vec<f32>,
    /// The room's noise spectrum.
    noise: NoiseSpectrum,
    /// Hann window for the harmonic f0, centred on the frame time, and the power spectrum
    /// of the (denoised) frame through it.
    hann: Vec<f32>,
    hann_start: usize,
    hann_power: Vec<f32>,
    cum_energy: Vec<f64>,
    periodicity: Vec<f32>,
    denominators: Vec<f32>,
    /// A small bonus per octave of higher f0, so that among equal peaks the shortest period wins.
    octave_bonus: f32,
}

impl PitchAnalyzer {
    /// Plans the FFTs for a search over `f0_min_hz..=f0_max_hz` at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64, f0_min_hz: f64, f0_max_hz: f64) -> Self {
        let tau_max = (sample_rate_hz / f0_min_hz).ceil() as usize + 2;
        let tau_min = ((sample_rate_hz / f0_max_hz).floor() as usize).max(2);
        // Two periods of the lowest f0, and at least 20 ms.
        let window_len = ((2.0 * sample_rate_hz / f0_min_hz).ceil() as usize)
            .max((0.02 * sample_rate_hz) as usize);
        let fft_len = (window_len + tau_max).next_power_of_two();
        let mut planner = FftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(fft_len);
        let inverse = planner.plan_fft_inverse(fft_len);
        let scratch_len = forward
            .get_inplace_scratch_len()
            .max(inverse.get_inplace_scratch_len());
        let half_spectrum = || vec![Complex::default(); fft_len / 2 + 1];
        let centre = centre_offset(sample_rate_hz, window_len, tau_min, tau_max);
        let hann_len = ((HARMONIC_F0_WINDOW_SECS * sample_rate_hz) as usize)
            .min(2 * centre)
            .max(2);
        let hann: Vec<f32> = (0..hann_len)
            .map(|i| {
                let x = std::f64::consts::PI * (i as f64 + 0.5) / hann_len as f64;
                (x.sin() * x.sin()) as f32
            })
            .collect();
        Self {
            hann_start: centre - hann_len / 2,
            hann,
            hann_power: vec![0.0; fft_len / 2 + 1],
            sample_rate_hz,
            window_len,
            tau_min,
            tau_max,
            fft_len,
            centred: vec![0.0; window_len + tau_max],
            spec_a: half_spectrum(),
            spec_b: half_spectrum(),
            frame_power: vec![0.0; fft_len / 2 + 1],
            search_power: vec![0.0; fft_len / 2 + 1],
            noise: NoiseSpectrum::new(
                fft_len / 2 + 1,
                NOISE_OVERSUBTRACTION,
                NOISE_FLOOR_POWER_GAIN,
            ),
            forward,
            inverse,
            work: vec![Complex::default(); fft_len],
            scratch: vec![Complex::default(); scratch_len],
            cum_energy: vec![0.0; window_len + tau_max + 1],
            periodicity: vec![0.0; tau_max + 2],
            denominators: vec![0.0; tau_max + 2],
            octave_bonus: 0.01,
        }
    }

    /// Samples one frame needs: the window plus the longest lag.
    pub fn frame_len(&self) -> usize {
        self.window_len + self.tau_max
    }

    /// Samples of the frame before its centre. The difference function at lag `tau` spans
    /// `window + tau` samples from the frame start, so the frame is placed to centre that span
    /// for a typical voice (150 Hz); the centring error stays under half the lag difference.
    pub fn centre_offset(&self) -> usize {
        centre_offset(
            self.sample_rate_hz,
            self.window_len,
            self.tau_min,
            self.tau_max,
        )
    }

    /// Samples on each side of the frame centre that [`Self::level_db`] measures (12.5 ms).
    pub fn level_half_len(&self) -> usize {
        (0.0125 * self.sample_rate_hz) as usize
    }

    /// RMS level (dBFS) of the 25 ms around the centre of `frame` (laid out as for
    /// [`Self::analyze`]). Cheap: the caller uses it to skip frames that cannot be voiced.
    pub fn level_db(&self, frame: &[f32]) -> f32 {
        let half = self.level_half_len();
        let mid = self.centre_offset();
        let (lo, hi) = (mid.saturating_sub(half), (mid + half).min(frame.len()));
        if hi <= lo {
            return super::SILENCE_DBFS;
        }
        let power = sum_sq_f64(&frame[lo..hi]) / (hi - lo) as f64;
        super::power_to_db(power)
    }

    /// Analyses `frame` ([`Self::frame_len`] samples whose sample [`Self::centre_offset`] is at
    /// the frame time), with the room's noise spectrum taken out first.
    /// Analysis thread; allocation-free.
    pub fn analyze(&mut self, frame: &[f32]) -> FrameFeatures {
        let level_db = self.level_db(frame);
        self.analyze_at_level(frame, level_db)
    }

    /// [`Self::analyze`] for a caller that has already measured the frame's
    /// [`Self::level_db`]. Analysis thread; allocation-free.
    pub fn analyze_at_level(&mut self, frame: &[f32], level_db: f32) -> FrameFeatures {
        let mut out = self.run(frame, true);
        if frame.len() >= self.frame_len() {
            out.level_db = level_db;
        }
        out
    }

    /// Learns the room's noise from a frame the caller already knows holds no voice (too
    /// quiet to be voiced), without searching it for a period. Analysis thread;
    /// allocation-free.
    pub fn observe_noise(&mut self, frame: &[f32]) {
        self.run(frame, false);
    }

    fn run(&mut self, frame: &[f32], search: bool) -> FrameFeatures {
        let len = self.frame_len();
        let mut out = FrameFeatures::default();
        if frame.len() < len {
            out.level_db = super::SILENCE_DBFS;
            return out;
        }
        let frame = &frame[..len];
        // Remove the frame's mean: a DC offset would look periodic at every lag.
        let mean = sum_f32(frame) / len as f32;
        for (&v, c) in frame.iter().zip(self.centred.iter_mut()) {
            *c = v - mean;
        }
        if dot(&self.centred, &self.centred) < 1e-10 {
            return out;
        }
        // A searched frame with no noise to remove needs the spectra of the frame and of its
        // window, which one complex FFT gives; otherwise the window waits for the denoising.
        let paired = search && !self.noise.removes_noise();
        if paired {
            self.forward_pair();
        } else {
            self.forward_real(self.centred.len());
            let bins = self.spec_b.len();
            self.spec_b.copy_from_slice(&self.work[..bins]);
        }
        for (p, b) in self.frame_power.iter_mut().zip(&self.spec_b) {
            *p = b.norm_sqr();
        }
        if !search {
            self.noise.learn(&self.frame_power);
            return out;
        }
        if self.noise.removes_noise() {
            self.denoise();
        }
        prefix_energy(&self.centred, &mut self.cum_energy);
        let e0 = self.cum_energy[self.window_len];
        if e0 < 1e-10 {
            return out;
        }
        // Without the pairing the window's spectrum waits for the denoised frame; the Hann
        // spectrum of the harmonic f0 comes with it from the same FFT.
        let mut hann_ready = !paired;
        if !paired {
            self.forward_window_and_hann();
        }
        for (a, b) in self.spec_a.iter_mut().zip(&self.spec_b) {
            *a = a.conj() * b;
        }
        // The cross-correlation, in the real part of `work`.
        Self::inverse_real(
            self.inverse.as_ref(),
            &self.spec_a,
            &mut self.work,
            &mut self.scratch,
        );
        let scale = 2.0 / self.fft_len as f32;
        let w = self.window_len;
        let (lo, hi) = (
            self.tau_min - 1,
            self.tau_max.min(self.periodicity.len() - 1),
        );
        // Denominators first (a cheap pass over the prefix sums), then one division per lag in
        // a loop the compiler can vectorise.
        for ((d, &end), &start) in self.denominators[lo..=hi]
            .iter_mut()
            .zip(&self.cum_energy[lo + w..=hi + w])
            .zip(&self.cum_energy[lo..=hi])
        {
            *d = (e0 + end - start) as f32;
        }
        for ((p, r), &d) in self.periodicity[lo..=hi]
            .iter_mut()
            .zip(&self.work[lo..=hi])
            .zip(&self.denominators[lo..=hi])
        {
            // Divide unconditionally (by a safe value) and select, so the loop has no branch.
            let q = r.re * scale / d.max(1e-12);
            *p = if d > 1e-12 { q } else { 0.0 };
        }
        self.pick_candidates(&mut out);
        // The best few clearly periodic candidates are the ones the tracker ends up choosing.
        for i in 0..out.n_candidates.min(REFINED_CANDIDATES) {
            let c = out.candidates[i];
            if c.strength >= REFINE_MIN_STRENGTH {
                let refined = self.refine(c.f0_hz);
                out.candidates[i].f0_hz = refined;
                let bin_hz = self.sample_rate_hz as f32 / self.fft_len as f32;
                if refined >= HARMONIC_F0_MIN_BINS * bin_hz {
                    if !hann_ready {
                        self.fill_hann_power();
                        hann_ready = true;
                    }
                    if let Some(f) = self.harmonic_f0(refined) {
                        if (f / refined - 1.0).abs() <= HARMONIC_F0_MAX_RATIO {
                            out.candidates[i].f0_hz = f;
                        }
                    }
                }
            }
        }
        // Candidates an octave (or twelfth...) apart compete on harmonicity, and a harmonic
        // spectrum under a fairly periodic candidate is evidence of voice.
        let mut measured = [false; MAX_CANDIDATES];
        for (i, c) in out.candidates().iter().enumerate() {
            measured[i] = (i < HARMONIC_VOICING_CANDIDATES
                && c.strength >= HARMONIC_VOICING_MIN_STRENGTH)
                || out
                    .candidates()
                    .iter()
                    .any(|o| is_multiple(o.f0_hz, c.f0_hz));
        }
        if measured.contains(&true) {
            self.fill_search_power();
        }
        for (c, &m) in out.candidates[..out.n_candidates].iter_mut().zip(&measured) {
            c.harmonicity_db = if m {
                self.harmonicity_db(c.f0_hz)
            } else {
                f32::NAN
            };
        }
        for c in out.candidates[..out.n_candidates.min(MODULATION_CANDIDATES)].iter_mut() {
            if c.strength >= MODULATION_MIN_STRENGTH {
                c.modulation = self.modulation(c.f0_hz);
            }
        }
        if out.best_strength() < NOISE_MAX_STRENGTH {
            self.noise.learn(&self.frame_power);
        }
        out
    }

    /// See [`Candidate::modulation`]: the frame's power averaged over one period of `f0_hz`
    /// (rounded to whole samples: the ripple that leaves is a few hundredths at most) against
    /// its average over `tau_max` samples (a period of the lowest voice) centred on the same
    /// sample, at every `MODULATION_STEP`-th sample of the searched frame, from its prefix
    /// sums. A steady or steadily changing level gives 0; an f0 too low to fit twice into
    /// `tau_max` is not measured (0). Analysis thread; allocation-free.
    fn modulation(&self, f0_hz: f32) -> f32 {
        let tau = (self.sample_rate_hz / f64::from(f0_hz)).round() as usize;
        let long = self.tau_max;
        if tau == 0 || 2 * tau > long {
            return 0.0;
        }
        let cum = &self.cum_energy;
        let offset = (long - tau) / 2;
        let (inv_tau, inv_long) = (1.0 / tau as f64, 1.0 / long as f64);
        let (mut diff, mut total) = (0.0, 0.0);
        for n in (0..cum.len() - long).step_by(MODULATION_STEP) {
            let slow = (cum[n + long] - cum[n]) * inv_long;
            let fast = (cum[n + offset + tau] - cum[n + offset]) * inv_tau;
            diff += (fast - slow).abs();
            total += slow;
        }
        if total > 0.0 {
            (diff / total) as f32
        } else {
            0.0
        }
    }

    /// The spectra of the whole frame (into `spec_b`) and of its first `window_len` samples
    /// (into `spec_a`), both zero-padded, from one complex FFT of `frame + i·window`: the
    /// spectrum of a real signal is conjugate-symmetric, so bin `k` and bin `N - k` of the
    /// sum tell the two apart. That costs about what one real FFT costs, where two real FFTs
    /// would cost twice that. Analysis thread; allocation-free.
    fn forward_pair(&mut self) {
        let (w, len, n) = (self.window_len, self.centred.len(), self.fft_len);
        for (z, &x) in self.work[..w].iter_mut().zip(&self.centred[..w]) {
            *z = Complex::new(x, x);
        }
        for (z, &x) in self.work[w..len].iter_mut().zip(&self.centred[w..]) {
            *z = Complex::new(x, 0.0);
        }
        self.work[len..].fill(Complex::default());
        self.forward
            .process_with_scratch(&mut self.work, &mut self.scratch);
        let half = n / 2;
        // DC and Nyquist: the frame's bin is the real part, the window's the imaginary one.
        for k in [0, half] {
            let z = self.work[k];
            self.spec_b[k] = Complex::new(z.re, 0.0);
            self.spec_a[k] = Complex::new(z.im, 0.0);
        }
        let (low, high) = self.work.split_at(half + 1);
        for (((b, a), &z), &zr) in self.spec_b[1..half]
            .iter_mut()
            .zip(&mut self.spec_a[1..half])
            .zip(&low[1..half])
            .zip(high.iter().rev())
        {
            (*b, *a) = unpack_pair(z, zr);
        }
    }

    /// The spectra of the frame's window (into `spec_a`) and of the frame through the harmonic
    /// f0's Hann window (its power into `hann_power`), both from `centred` and zero-padded,
    /// from one complex FFT as in [`Self::forward_pair`]. Analysis thread; allocation-free.
    fn forward_window_and_hann(&mut self) {
        let (w, s, n) = (self.window_len, self.hann_start, self.hann.len());
        for (z, &x) in self.work[..w].iter_mut().zip(&self.centred[..w]) {
            *z = Complex::new(x, 0.0);
        }
        self.work[w..].fill(Complex::default());
        for ((z, &x), &h) in self.work[s..s + n]
            .iter_mut()
            .zip(&self.centred[s..s + n])
            .zip(&self.hann)
        {
            z.im = x * h;
        }
        self.forward
            .process_with_scratch(&mut self.work, &mut self.scratch);
        let half = self.fft_len / 2;
        for k in [0, half] {
            let z = self.work[k];
            self.spec_a[k] = Complex::new(z.re, 0.0);
            self.hann_power[k] = z.im * z.im;
        }
        let (low, high) = self.work.split_at(half + 1);
        for (((a, p), &z), &zr) in self.spec_a[1..half]
            .iter_mut()
            .zip(&mut self.hann_power[1..half])
            .zip(&low[1..half])
            .zip(high.iter().rev())
        {
            let (window, hann) = unpack_pair(z, zr);
            *a = window;
            *p = hann.norm_sqr();
        }
    }

    /// The spectrum of `centred[..n]`, zero-padded, in `work[..=fft_len / 2]`. Analysis
    /// thread; allocation-free.
    fn forward_real(&mut self, n: usize) {
        for (z, &x) in self.work[..n].iter_mut().zip(&self.centred[..n]) {
            *z = Complex::new(x, 0.0);
        }
        self.work[n..].fill(Complex::default());
        self.forward
            .process_with_scratch(&mut self.work, &mut self.scratch);
    }

    /// The real signal (times `fft_len`) whose non-negative frequencies are `half`, in the
    /// real parts of `work`. Analysis thread; allocation-free.
    fn inverse_real(
        inverse: &dyn Fft<f32>,
        half: &[Complex<f32>],
        work: &mut [Complex<f32>],
        scratch: &mut [Complex<f32>],
    ) {
        let n = work.len();
        let (low, high) = work.split_at_mut(half.len());
        low.copy_from_slice(half);
        // A real signal's spectrum is conjugate-symmetric: bin N - k is bin k conjugated. DC
        // and Nyquist are real, up to rounding.
        for (z, h) in high.iter_mut().rev().zip(&half[1..n / 2]) {
            *z = h.conj();
        }
        low[0].im = 0.0;
        low[n / 2].im = 0.0;
        inverse.process_with_scratch(work, scratch);
    }

    /// The power spectrum of the searched frame as seen through a Hann window (three-point
    /// smoothing of the spectrum), so that a strong harmonic does not leak into its neighbours.
    fn fill_search_power(&mut self) {
        let b = &self.spec_b;
        let n = b.len();
        let smoothed = |prev: Complex<f32>, k: Complex<f32>, next: Complex<f32>| -> f32 {
            (k * 0.5 - (prev + next) * 0.25).norm_sqr()
        };
        // The spectrum of a real frame is conjugate-symmetric about DC and Nyquist.
        self.search_power[0] = smoothed(b[1].conj(), b[0], b[1]);
        for (p, w) in self.search_power[1..n - 1].iter_mut().zip(b.windows(3)) {
            *p = smoothed(w[0], w[1], w[2]);
        }
        self.search_power[n - 1] = smoothed(b[n - 2], b[n - 1], b[n - 2].conj());
    }

    /// The power spectrum of the frame (as kept in `centred`) through the Hann window centred
    /// on the frame time, into `hann_power`. Analysis thread; allocation-free.
    fn fill_hann_power(&mut self) {
        let s = self.hann_start;
        let n = self.hann.len();
        for ((z, &x), &w) in self.work[..n]
            .iter_mut()
            .zip(&self.centred[s..s + n])
            .zip(&self.hann)
        {
            *z = Complex::new(x * w, 0.0);
        }
        self.work[n..].fill(Complex::default());
        self.forward
            .process_with_scratch(&mut self.work, &mut self.scratch);
        for (p, z) in self.hann_power.iter_mut().zip(&self.work) {
            *p = z.norm_sqr();
        }
    }

    /// The f0 the spectrum's harmonic peaks near `f0_hz` give (each peak's frequency,
    /// interpolated, over its harmonic number; the median weighted by amplitude), or `None`
    /// when fewer than two harmonics show a peak. A background voice at a nearby pitch pulls
    /// the periodicity peak, but separates from the voice's harmonics a few harmonics up.
    fn harmonic_f0(&self, f0_hz: f32) -> Option<f32> {
        let bin_hz = self.sample_rate_hz as f32 / self.fft_len as f32;
        let p = &self.hann_power;
        let top = p.len() - 2;
        let mut est = [(0f32, 0f32); HARMONIC_F0_MAX_HARMONICS];
        let mut n = 0;
        let mut harmonic = 1.0f32;
        while n < HARMONIC_F0_MAX_HARMONICS && harmonic * f0_hz <= HARMONIC_F0_TOP_HZ {
            let h = harmonic;
            harmonic += 1.0;
            // The highest bin within 3 % of where the harmonic should be, if a local maximum.
            let x = h * f0_hz / bin_hz;
            let reach = (0.03 * x).max(1.0);
            let lo = ((x - reach).round() as usize).max(1);
            let hi = ((x + reach).round() as usize).min(top);
            let mut k = lo;
            for j in lo..=hi {
                if p[j] > p[k] {
                    k = j;
                }
            }
            if p[k] < p[k - 1] || p[k] < p[k + 1] || p[k] <= 0.0 {
                continue;
            }
            let (a, b, c) = (
                fast_log2(p[k - 1].max(1e-20)),
                fast_log2(p[k]),
                fast_log2(p[k + 1].max(1e-20)),
            );
            let den = a - 2.0 * b + c;
            let shift = if den < -1e-6 {
                (0.5 * (a - c) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            est[n] = ((k as f32 + shift) * bin_hz / h, p[k].sqrt());
            n += 1;
        }
        if n < 2 {
            return None;
        }
        let est = &mut est[..n];
        est.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let half = 0.5 * est.iter().map(|e| e.1).sum::<f32>();
        let mut acc = 0.0;
        for e in est.iter() {
            acc += e.1;
            if acc >= half {
                return Some(e.0);
            }
        }
        est.last().map(|e| e.0)
    }

    /// See [`Candidate::harmonicity_db`]: harmonics of `f0_hz` up to the voice band's 3 kHz.
    fn harmonicity_db(&self, f0_hz: f32) -> f32 {
        let bin_hz = self.sample_rate_hz as f32 / self.fft_len as f32;
        // Harmonics closer than a few bins blur into each other through the window.
        if f0_hz < HARMONICITY_MIN_BINS * bin_hz {
            return f32::NAN;
        }
        let top = self.search_power.len() - 2;
        let power_at = |hz: f32| -> f32 {
            let x = hz / bin_hz;
            // `x` is positive: adding a half and truncating rounds it (without a libm call).
            let k = ((x + 0.5) as usize).min(top);
            // The highest of the nearest bins: harmonics rarely sit on a bin centre.
            let p = self.search_power[k]
                .max(self.search_power[(k + 1).min(top)])
                .max(self.search_power[k.saturating_sub(1)]);
            fast_log2(p.max(1e-20))
        };
        let (mut on, mut off, mut n) = (0f32, 0f32, 0u32);
        let mut h = 1.0f32;
        while (h + 0.5) * f0_hz <= HARMONICITY_TOP_HZ && n < 64 {
            on += power_at(h * f0_hz);
            off += power_at((h + 0.5) * f0_hz);
            n += 1;
            h += 1.0;
        }
        if n == 0 {
            return 0.0;
        }
        // log2 to dB: 10 log10(2) per unit.
        3.0103 * (on - off) / n as f32
    }

    /// Takes the noise spectrum out of `spec_b` and puts the denoised frame in `centred`.
    fn denoise(&mut self) {
        self.noise.remove_from(&mut self.spec_b, &self.frame_power);
        Self::inverse_real(
            self.inverse.as_ref(),
            &self.spec_b,
            &mut self.work,
            &mut self.scratch,
        );
        let scale = 1.0 / self.fft_len as f32;
        for (c, z) in self.centred.iter_mut().zip(&self.work) {
            *c = z.re * scale;
        }
    }

    /// Re-estimates a candidate's f0 over a short window (2.5 periods) centred on the frame:
    /// the long window the lowest voices need smears fast glides and squeals, and is centred
    /// exactly only for one lag. Uses the frame kept in `centred`.
    fn refine(&self, f0_hz: f32) -> f32 {
        let tau = self.sample_rate_hz / f64::from(f0_hz);
        let len = self.frame_len();
        let mid = self.centre_offset();
        let win = ((REFINE_PERIODS * tau) as usize).max(REFINE_MIN_WINDOW);
        let t0 = tau.round() as usize;
        // Normalised difference at lag `t`, the span centred on `mid`.
        let diff = |t: usize| -> Option<f64> {
            let span = win + t;
            if t < 2 || mid < span / 2 || mid - span / 2 + span > len {
                return None;
            }
            let start = mid - span / 2;
            // Σ(x - y)² = Σx² + Σy² - 2Σxy; the energies come from the prefix sums.
            let energy = (self.cum_energy[start + win] - self.cum_energy[start])
                + (self.cum_energy[start + t + win] - self.cum_energy[start + t]);
            let cross = f64::from(dot(
                &self.centred[start..start + win],
                &self.centred[start + t..start + t + win],
            ));
            Some(if energy > 0.0 {
                ((energy - 2.0 * cross) / energy).max(0.0)
            } else {
                1.0
            })
        };
        // Five lags around the estimate, `d[k]` at lag `first + k`.
        let Some(mut first) = t0.checked_sub(2) else {
            return f0_hz;
        };
        let mut d = [0f64; 5];
        for (k, dk) in d.iter_mut().enumerate() {
            match diff(first + k) {
                Some(v) => *dk = v,
                None => return f0_hz,
            }
        }
        // When the pitch moves fast the long window's estimate lags behind: follow the
        // difference downhill, one lag at a time, while its minimum is at an end of the five.
        for _ in 0..REFINE_MAX_WALK {
            let lowest = (0..5).fold(0, |best, k| if d[k] < d[best] { k } else { best });
            if lowest == 0 && first > 2 {
                let Some(v) = diff(first - 1) else { break };
                d.copy_within(0..4, 1);
                d[0] = v;
                first -= 1;
            } else if lowest == 4 {
                let Some(v) = diff(first + 5) else { break };
                d.copy_within(1..5, 0);
                d[4] = v;
                first += 1;
            } else {
                break;
            }
        }
        // The deepest of the three inner lags, refined by a parabola through its neighbours.
        let k = (1..4).fold(2, |best, k| if d[k] < d[best] { k } else { best });
        let (a, b, c) = (d[k - 1], d[k], d[k + 1]);
        let den = a - 2.0 * b + c;
        let shift = if den > 1e-12 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let refined = (first + k) as f64 + shift;
        // Keep the long-window value if the short window disagrees by more than a semitone.
        if (refined / tau - 1.0).abs() > 0.06 {
            return f0_hz;
        }
        (self.sample_rate_hz / refined) as f32
    }

    /// One candidate per positive lobe of the periodicity function (its highest peak, refined
    /// by parabolic interpolation), the best `MAX_CANDIDATES` kept.
    fn pick_candidates(&self, out: &mut FrameFeatures) {
        let p = &self.periodicity;
        let mut ranks = [0f32; MAX_CANDIDATES];
        let mut lobe_best: Option<(f32, f32)> = None; // (tau, strength)
        let mut tau = self.tau_min;
        let last = self.tau_max - 1;
        // Skip the lobe that starts at lag 0: it is not a period.
        while tau <= last && p[tau] > 0.0 && p[tau] <= p[tau - 1] {
            tau += 1;
        }
        while tau <= last {
            if p[tau] <= 0.0 {
                if let Some(c) = lobe_best.take() {
                    self.push_candidate(out, &mut ranks, c);
                }
            } else if p[tau] >= p[tau - 1] && p[tau] > p[tau + 1] {
                let (a, b, c) = (p[tau - 1], p[tau], p[tau + 1]);
                let den = a - 2.0 * b + c;
                let shift = if den.abs() > 1e-9 {
                    0.5 * (a - c) / den
                } else {
                    0.0
                };
                let shift = shift.clamp(-0.5, 0.5);
                let peak = (b - 0.25 * (a - c) * shift).min(1.0);
                let t = tau as f32 + shift;
                if lobe_best.is_none_or(|(_, s)| peak > s) {
                    lobe_best = Some((t, peak));
                }
            }
            tau += 1;
        }
        if let Some(c) = lobe_best {
            self.push_candidate(out, &mut ranks, c);
        }
    }

    /// Adds a lobe's peak to the candidates if it ranks among the best `MAX_CANDIDATES`,
    /// keeping them ordered best first. `ranks[i]` is candidate `i`'s rank: its strength plus
    /// the small preference for higher f0.
    fn push_candidate(
        &self,
        out: &mut FrameFeatures,
        ranks: &mut [f32; MAX_CANDIDATES],
        (tau, strength): (f32, f32),
    ) {
        if strength < 0.2 || tau <= 0.0 {
            return;
        }
        let f0_hz = (self.sample_rate_hz / f64::from(tau)) as f32;
        let rank = strength + self.octave_bonus * f0_hz.log2();
        let n = out.n_candidates;
        // Where it goes: after every candidate that ranks at least as high.
        let pos = ranks[..n].iter().take_while(|&&r| r >= rank).count();
        if pos >= MAX_CANDIDATES {
            return;
        }
        let last = n.min(MAX_CANDIDATES - 1);
        out.candidates.copy_within(pos..last, pos + 1);
        ranks.copy_within(pos..last, pos + 1);
        out.candidates[pos] = Candidate {
            f0_hz,
            strength,
            harmonicity_db: 0.0,
            modulation: 0.0,
        };
        ranks[pos] = rank;
        out.n_candidates = (n + 1).min(MAX_CANDIDATES);
    }
}

/// Bin `k` of the two real signals `x` and `y` whose sum `x + i·y` has bins `z` = Z[k] and
/// `zr` = Z[N-k]: X[k] = (Z[k] + conj(Z[N-k])) / 2 and Y[k] = (Z[k] - conj(Z[N-k])) / 2i.
#[inline(always)]
fn unpack_pair(z: Complex<f32>, zr: Complex<f32>) -> (Complex<f32>, Complex<f32>) {
    let (sum_re, sum_im) = (z.re + zr.re, z.im - zr.im);
    let (diff_re, diff_im) = (z.re - zr.re, z.im + zr.im);
    (
        Complex::new(0.5 * sum_re, 0.5 * sum_im),
        Complex::new(0.5 * diff_im, -0.5 * diff_re),
    )
}

/// See [`PitchAnalyzer::centre_offset`].
fn centre_offset(sample_rate_hz: f64, window_len: usize, tau_min: usize, tau_max: usize) -> usize {
    let typical_lag = ((sample_rate_hz / 150.0) as usize).clamp(tau_min, tau_max);
    (window_len + typical_lag) / 2
}

/// Sum in eight independent lanes (a single running sum waits on each addition), which the
/// compiler turns into SIMD.
fn sum_f32(x: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..8 {
            lanes[k] += c[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Sum of squares in four independent f64 lanes.
fn sum_sq_f64(x: &[f32]) -> f64 {
    let mut lanes = [0f64; 4];
    let chunks = x.chunks_exact(4);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum();
    for c in chunks {
        for k in 0..4 {
            lanes[k] += f64::from(c[k]) * f64::from(c[k]);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// `cum[i]` = energy of `x[..i]` (`cum` has `x.len() + 1` entries). Four quarters run as
/// independent chains (a single running sum waits on each addition), then each quarter is
/// offset by the totals before it.
fn prefix_energy(x: &[f32], cum: &mut [f64]) {
    let n = x.len();
    let part = n / 4;
    cum[0] = 0.0;
    let (x0, rest) = x.split_at(part);
    let (x1, rest) = rest.split_at(part);
    let (x2, x3) = rest.split_at(part);
    let (c0, rest) = cum[1..=n].split_at_mut(part);
    let (c1, rest) = rest.split_at_mut(part);
    let (c2, c3) = rest.split_at_mut(part);
    let sq = |v: f32| f64::from(v) * f64::from(v);
    let (mut s0, mut s1, mut s2, mut s3) = (0f64, 0f64, 0f64, 0f64);
    for i in 0..part {
        s0 += sq(x0[i]);
        c0[i] = s0;
        s1 += sq(x1[i]);
        c1[i] = s1;
        s2 += sq(x2[i]);
        c2[i] = s2;
        s3 += sq(x3[i]);
        c3[i] = s3;
    }
    // The last quarter also holds the samples left over.
    for (c, &v) in c3[part..].iter_mut().zip(&x3[part..]) {
        s3 += sq(v);
        *c = s3;
    }
    let mut offset = s0;
    for (chain, total) in [(c1, s1), (c2, s2), (c3, s3)] {
        for c in chain.iter_mut() {
            *c += offset;
        }
        offset += total;
    }
}

/// Whether one f0 is 2, 3 or 4 times the other (within 4 %).
pub fn is_multiple(a_hz: f32, b_hz: f32) -> bool {
    let ratio = a_hz.max(b_hz) / a_hz.min(b_hz);
    let nearest = ratio.round();
    (2.0..=4.0).contains(&nearest) && (ratio / nearest - 1.0).abs() < 0.04
}

/// log2 of a positive, normal `x` to within 0.01 (a 0.03 dB error): the exponent plus a
/// quadratic in the mantissa. Spectra need many logs per frame.
fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    exponent as f32 + (-0.344_848_43 * mantissa + 2.024_665_8) * mantissa - 1.674_877_6
}

/// Dot product in eight independent lanes, so the compiler can use SIMD.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f_hz: f64, harmonics: usize, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                // Only harmonics below Nyquist, as in any band-limited recording.
                (1..=harmonics)
                    .filter(|&h| f_hz * h as f64 <= 7_500.0)
                    .map(|h| (2.0 * std::f64::consts::PI * f_hz * h as f64 * t).sin() / h as f64)
                    .sum::<f64>() as f32
                    * 0.3
            })
            .collect()
    }

    #[test]
    fn best_candidate_is_the_fundamental_across_the_range() {
        let mut pa = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
        for &f in &[
            60.0, 82.0, 110.0, 220.0, 330.0, 440.0, 800.0, 1200.0, 1450.0,
        ] {
            let x = tone(f, 8, pa.frame_len());
            let feats = pa.analyze(&x);
            // The fundamental is a strong candidate (the tracker then prefers it over its
            // equally periodic subharmonics).
            let found = feats
                .candidates()
                .iter()
                .find(|c| (1200.0 * (f64::from(c.f0_hz) / f).log2()).abs() < 20.0);
            assert!(
                found.is_some_and(|c| c.strength > 0.9),
                "{f} Hz: {:?}",
                feats.candidates()
            );
            // No candidate above the fundamental.
            assert!(feats
                .candidates()
                .iter()
                .all(|c| f64::from(c.f0_hz) < f * 1.1));
        }
    }

    /// Glottal pulses at `f0_hz` through one formant resonance at `formant_hz` (60 Hz wide).
    fn rung_formant(f0_hz: f64, formant_hz: f64, n: usize) -> Vec<f32> {
        let r = (-std::f64::consts::PI * 60.0 / 16_000.0).exp();
        let c = 2.0 * r * (2.0 * std::f64::consts::PI * formant_hz / 16_000.0).cos();
        let period = 16_000.0 / f0_hz;
        let (mut y1, mut y2, mut next_pulse) = (0.0, 0.0, 0.0);
        (0..n)
            .map(|i| {
                let pulse = if i as f64 >= next_pulse {
                    next_pulse += period;
                    1.0
                } else {
                    0.0
                };
                let y = pulse + c * y1 - r * r * y2;
                (y2, y1) = (y1, y);
                (0.02 * y) as f32
            })
            .collect()
    }

    #[test]
    fn a_formant_harmonic_swings_with_the_pulses_and_the_voice_does_not() {
        let mut pa = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
        pa.analyze(&rung_formant(110.0, 770.0, pa.frame_len()));
        let (harmonic, voice) = (pa.modulation(770.0), pa.modulation(110.0));
        assert!(harmonic > 0.5, "the 7th harmonic: {harmonic}");
        assert!(voice < 0.1, "the voice's own f0: {voice}");
        // A squeal at 770 Hz is steady over its own period.
        pa.analyze(&tone(770.0, 4, pa.frame_len()));
        let squeal = pa.modulation(770.0);
        assert!(squeal < 0.1, "a squeal: {squeal}");
        // Too low to fit twice into the longest period: not measured.
        assert_eq!(pa.modulation(100.0), 0.0);
    }

    #[test]
    fn a_background_voice_a_semitone_away_does_not_pull_the_f0() {
        // A dark hum at 207 Hz (4-6 harmonics) and a quieter, brighter background voice about a
        // semitone below or above it (10-12 harmonics, 3-6 dB down), as a talker in babble.
        let cases = [
            (192.0, 0.5, 4, 12),
            (192.0, 0.7, 4, 12),
            (192.0, 0.5, 6, 12),
            (192.0, 0.7, 6, 12),
            (225.0, 0.5, 4, 12),
            (225.0, 0.7, 6, 12),
            (196.0, 0.6, 5, 10),
            (220.0, 0.6, 5, 10),
        ];
        let mut errors = Vec::new();
        for &(other_hz, gain, hum_harmonics, other_harmonics) in &cases {
            let mut pa = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
            let n = pa.frame_len();
            let (hum, other) = (
                tone(207.0, hum_harmonics, n),
                tone(other_hz, other_harmonics, n),
            );
            let x: Vec<f32> = hum
                .iter()
                .zip(&other)
                .map(|(&h, &o)| h + gain * o)
                .collect();
            let feats = pa.analyze(&x);
            let best = feats.candidates()[0];
            errors.push((1200.0 * (f64::from(best.f0_hz) / 207.0).log2()).abs());
        }
        // The periodicity peak alone lies between the voices: 18 cents off on average here,
        // 33 at worst.
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        let worst = errors.iter().copied().fold(0.0, f64::max);
        assert!(mean < 10.0 && worst < 25.0, "cents off: {errors:.0?}");
    }

    /// Uniform noise in -0.5..0.5 from a fixed seed.
    fn white_noise(seed: &mut u64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect()
    }

    #[test]
    fn a_hum_in_steady_noise_is_more_periodic_once_the_noise_is_learnt() {
        let mut fresh = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
        let mut learnt = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
        let len = fresh.frame_len();
        let mut seed = 7u64;
        for _ in 0..80 {
            learnt.observe_noise(&white_noise(&mut seed, len));
        }
        // A 200 Hz hum about as loud as the white noise under it (0 dB SNR).
        let hum = tone(200.0, 4, len);
        let noisy: Vec<f32> = hum
            .iter()
            .zip(white_noise(&mut seed, len))
            .map(|(&h, n)| h + 0.45 * n)
            .collect();
        let at_200 = |f: &FrameFeatures| {
            f.candidates()
                .iter()
                .filter(|c| (c.f0_hz / 200.0 - 1.0).abs() < 0.03)
                .map(|c| c.strength)
                .fold(0.0, f32::max)
        };
        let (before, after) = (
            at_200(&fresh.analyze(&noisy)),
            at_200(&learnt.analyze(&noisy)),
        );
        assert!(after > before + 0.1, "{before} -> {after}");
        // The noise alone stays aperiodic after its removal.
        assert!(learnt.analyze(&white_noise(&mut seed, len)).best_strength() < 0.5);
    }

    #[test]
    fn the_true_f0_is_more_harmonic_than_its_octaves_either_side() {
        let mut pa = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
        let x = tone(220.0, 8, pa.frame_len());
        pa.analyze(&x);
        let (sub, f0, octave_up) = (
            pa.harmonicity_db(110.0),
            pa.harmonicity_db(220.0),
            pa.harmonicity_db(440.0),
        );
        assert!(
            f0 > sub + 6.0 && f0 > octave_up + 6.0,
            "{sub} {f0} {octave_up}"
        );
        // Too close to separate at this resolution: not measured.
        assert!(pa.harmonicity_db(60.0).is_nan());
    }

    #[test]
    fn noise_and_silence_are_not_periodic() {
        let mut pa = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
        let silence = vec![0.0f32; pa.frame_len()];
        assert_eq!(pa.analyze(&silence).n_candidates, 0);
        let mut seed = 12345u64;
        let noise: Vec<f32> = (0..pa.frame_len())
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect();
        assert!(pa.analyze(&noise).best_strength() < 0.5);
    }

    #[test]
    fn prefix_energy_is_the_running_energy_for_any_length() {
        for n in [0usize, 1, 3, 4, 5, 7, 8, 13, 875] {
            let x: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.1).collect();
            let mut cum = vec![f64::NAN; n + 1];
            prefix_energy(&x, &mut cum);
            let mut running = 0.0f64;
            for i in 0..=n {
                assert!((cum[i] - running).abs() < 1e-9, "n {n}, i {i}");
                if i < n {
                    running += f64::from(x[i]) * f64::from(x[i]);
                }
            }
        }
    }
}
