//! The room's noise spectrum, learnt from frames that hold no voice, and the spectral
//! subtraction gain that takes it out of a frame before its periodicity is measured.
//!
//! Steady room noise (fans, traffic, hiss) fills the gaps between a voice's harmonics and drags
//! the periodicity of a quiet vocalisation below the voicing threshold. Removing the noise's
//! share of each frequency bin leaves the harmonics, so a hum at 5 dB SNR looks nearly as
//! periodic as a clean one, while a noise-only frame stays aperiodic. Voiced frames never
//! update the estimate, so a hum held for many seconds is not mistaken for noise.

use rustfft::num_complex::Complex;

/// How much of each new noise frame enters the estimate (time constant ≈ 20 frames, 0.2 s).
const UPDATE_WEIGHT: f32 = 0.05;
/// Noise frames needed before the estimate is used.
const FRAMES_TO_LEARN: u32 = 10;
/// Bins per band for the steadiness measure: wide enough that a steady noise's band power
/// hardly fluctuates from frame to frame.
const BAND_BINS: usize = 16;
/// RMS frame-to-estimate deviation of band log power (natural log units) of a steady noise,
/// and the deviation from which on the noise counts as unsteady (voices, babble) and is left in.
const STEADY_LOG_DEVIATION: f32 = 0.8;
const UNSTEADY_LOG_DEVIATION: f32 = 1.3;

/// Per-bin noise power and the gain that subtracts it. Allocation-free after `new`.
pub struct NoiseSpectrum {
    power: Vec<f32>,
    frames_learnt: u32,
    /// Mean square deviation of the noise frames' band log power from the estimate.
    log_deviation_sq: f32,
    deviations_seen: u32,
    /// Oversubtraction: multiples of the noise estimate removed.
    oversubtraction: f32,
    /// Lowest power gain, so that no bin is removed entirely.
    floor_power_gain: f32,
}

impl NoiseSpectrum {
    /// An estimate over `bins` frequency bins. Any thread.
    pub fn new(bins: usize, oversubtraction: f32, floor_power_gain: f32) -> Self {
        Self {
            power: vec![0.0; bins],
            frames_learnt: 0,
            // Unsteady until shown otherwise.
            log_deviation_sq: UNSTEADY_LOG_DEVIATION * UNSTEADY_LOG_DEVIATION,
            deviations_seen: 0,
            oversubtraction,
            floor_power_gain,
        }
    }

    /// Learns from the power spectrum `frame_power` of a frame that holds no voice. Analysis
    /// thread.
    pub fn learn(&mut self, frame_power: &[f32]) {
        if self.frames_learnt >= FRAMES_TO_LEARN {
            let (mut sum_sq, mut bands) = (0.0f32, 0usize);
            for (frame_band, noise_band) in frame_power
                .chunks_exact(BAND_BINS)
                .zip(self.power.chunks_exact(BAND_BINS))
            {
                let (f, n) = (
                    frame_band.iter().sum::<f32>(),
                    noise_band.iter().sum::<f32>(),
                );
                if f > 0.0 && n > 0.0 {
                    sum_sq += (f / n).ln().powi(2);
                    bands += 1;
                }
            }
            if bands > 0 {
                self.deviations_seen = self.deviations_seen.saturating_add(1);
                let weight = (1.0 / self.deviations_seen as f32).max(UPDATE_WEIGHT);
                self.log_deviation_sq += weight * (sum_sq / bands as f32 - self.log_deviation_sq);
            }
        }
        let weight = if self.frames_learnt < FRAMES_TO_LEARN {
            // A plain mean over the first frames, then an exponential average.
            1.0 / (self.frames_learnt + 1) as f32
        } else {
            UPDATE_WEIGHT
        };
        for (p, &x) in self.power.iter_mut().zip(frame_power) {
            *p += weight * (x - *p);
        }
        self.frames_learnt = self.frames_learnt.saturating_add(1);
    }

    /// Whether enough noise has been heard for [`Self::gain`] to be used.
    pub fn is_ready(&self) -> bool {
        self.frames_learnt >= FRAMES_TO_LEARN
    }

    /// Whether [`Self::gain`] would change anything: the noise is learnt and steady enough.
    pub fn removes_noise(&self) -> bool {
        self.is_ready() && self.steadiness() > 0.0
    }

    /// 1 for a steady noise, falling to 0 for one that changes from frame to frame like the
    /// voices of babble (whose average spectrum says little about the next frame).
    pub fn steadiness(&self) -> f32 {
        ((UNSTEADY_LOG_DEVIATION - self.log_deviation_sq.sqrt())
            / (UNSTEADY_LOG_DEVIATION - STEADY_LOG_DEVIATION))
            .clamp(0.0, 1.0)
    }

    /// The amplitude gain for bin `k` holding power `frame_power`: 1 where the frame stands far
    /// above the noise, down to the floor where it is all noise.
    pub fn gain(&self, k: usize, frame_power: f32) -> f32 {
        let noise = self.power.get(k).copied().unwrap_or(0.0);
        self.gain_with(self.oversubtraction * self.steadiness(), noise, frame_power)
    }

    /// Multiplies each bin of `spectrum` (whose powers are `frame_power`) by its gain.
    /// Analysis thread.
    pub fn remove_from(&self, spectrum: &mut [Complex<f32>], frame_power: &[f32]) {
        let subtraction = self.oversubtraction * self.steadiness();
        for ((b, &p), &noise) in spectrum.iter_mut().zip(frame_power).zip(&self.power) {
            *b *= self.gain_with(subtraction, noise, p);
        }
    }

    fn gain_with(&self, subtraction: f32, noise: f32, frame_power: f32) -> f32 {
        if frame_power <= 0.0 {
            return self.floor_power_gain.sqrt();
        }
        (1.0 - subtraction * noise / frame_power)
            .max(self.floor_power_gain)
            .sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BINS: usize = 4 * BAND_BINS;

    #[test]
    fn a_steady_noise_is_removed_and_the_voice_over_it_kept() {
        let mut n = NoiseSpectrum::new(BINS, 1.5, 0.01);
        assert!(!n.is_ready());
        // A steady hiss: every frame's band powers within a few per cent of each other.
        for i in 0..60 {
            let wobble = 1.0 + 0.05 * ((i % 3) as f32 - 1.0);
            n.learn(&[wobble; BINS]);
        }
        assert!(n.is_ready());
        assert!(n.steadiness() > 0.99, "{}", n.steadiness());
        // A harmonic 30 dB over the noise keeps its level; a bin at the noise level goes to
        // the floor.
        assert!(n.gain(0, 1000.0) > 0.99);
        assert!((n.gain(1, 1.0) - 0.1).abs() < 1e-6);
        assert!((n.gain(2, 0.0) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn an_unsteady_noise_like_babble_is_left_in() {
        let mut n = NoiseSpectrum::new(BINS, 1.5, 0.01);
        // Background voices: the band powers jump by 20 dB from frame to frame.
        for i in 0..60 {
            n.learn(&[if i % 2 == 0 { 0.1 } else { 10.0 }; BINS]);
        }
        assert!(n.is_ready());
        assert_eq!(n.steadiness(), 0.0);
        assert_eq!(n.gain(1, 5.0), 1.0);
    }
}
