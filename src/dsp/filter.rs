//! Biquad filters (RBJ cookbook) and the band the pitch analysis looks at.

/// Biquad filter (high- or low-pass), direct form I, state kept across blocks.
#[derive(Debug, Clone)]
pub struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    x1: f32,
    x2: f32,
    y1: f32,
    y2: f32,
}

impl Biquad {
    /// Butterworth high-pass at `cutoff_hz` for `sample_rate_hz`.
    pub fn new(cutoff_hz: f64, sample_rate_hz: f64) -> Self {
        Self::design(cutoff_hz, sample_rate_hz, true)
    }

    /// Butterworth low-pass at `cutoff_hz` for `sample_rate_hz`.
    pub fn low_pass(cutoff_hz: f64, sample_rate_hz: f64) -> Self {
        Self::design(cutoff_hz, sample_rate_hz, false)
    }

    fn design(cutoff_hz: f64, sample_rate_hz: f64, high: bool) -> Self {
        let w0 = 2.0 * std::f64::consts::PI * cutoff_hz / sample_rate_hz;
        let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        let (b0, b1) = if high {
            ((1.0 + cos) / 2.0 / a0, -(1.0 + cos) / a0)
        } else {
            ((1.0 - cos) / 2.0 / a0, (1.0 - cos) / a0)
        };
        Self {
            b0: b0 as f32,
            b1: b1 as f32,
            b2: b0 as f32,
            a1: (-2.0 * cos / a0) as f32,
            a2: ((1.0 - alpha) / a0) as f32,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
        }
    }

    /// Filters one sample. Analysis thread.
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.b1 * self.x1 + self.b2 * self.x2
            - self.a1 * self.y1
            - self.a2 * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        // Flush denormals so silence stays cheap.
        self.y1 = if y.abs() < 1e-30 { 0.0 } else { y };
        y
    }
}

/// The band pitch analysis looks at: 40 Hz-3 kHz (a 2nd-order high-pass and a 4th-order
/// low-pass). Below 40 Hz is rumble; above 3 kHz a breathy or noisy voice carries mostly noise,
/// while the fundamental (up to 1500 Hz) and the strongest harmonics stay in.
#[derive(Debug, Clone)]
pub struct VoiceBand {
    high_pass: Biquad,
    low_pass: [Biquad; 2],
}

impl VoiceBand {
    pub const LOW_HZ: f64 = 40.0;
    pub const HIGH_HZ: f64 = 3000.0;

    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            high_pass: Biquad::new(Self::LOW_HZ, sample_rate_hz),
            low_pass: [
                Biquad::low_pass(Self::HIGH_HZ, sample_rate_hz),
                Biquad::low_pass(Self::HIGH_HZ, sample_rate_hz),
            ],
        }
    }

    /// Filters one sample. Analysis thread.
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.high_pass.process(x);
        let y = self.low_pass[0].process(y);
        self.low_pass[1].process(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain(f_hz: f64) -> f64 {
        let mut hp = Biquad::new(40.0, 16_000.0);
        let mut peak = 0.0f64;
        for n in 0..32_000 {
            let y =
                hp.process((2.0 * std::f64::consts::PI * f_hz * n as f64 / 16_000.0).sin() as f32);
            if n > 16_000 {
                peak = peak.max(f64::from(y).abs());
            }
        }
        peak
    }

    #[test]
    fn passes_voice_and_removes_rumble() {
        assert!(gain(200.0) > 0.97);
        assert!(gain(10.0) < 0.07);
    }

    #[test]
    fn voice_band_keeps_squeals_and_drops_hiss() {
        let band_gain = |f_hz: f64| {
            let mut vb = VoiceBand::new(16_000.0);
            let mut peak = 0.0f64;
            for n in 0..16_000 {
                let y = vb.process(
                    (2.0 * std::f64::consts::PI * f_hz * n as f64 / 16_000.0).sin() as f32,
                );
                if n > 8_000 {
                    peak = peak.max(f64::from(y).abs());
                }
            }
            peak
        };
        assert!(band_gain(1_500.0) > 0.9);
        assert!(band_gain(6_000.0) < 0.1);
    }
}
