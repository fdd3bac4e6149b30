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
        let y = self.step(x);
        self.flush_denormals();
        y
    }

    /// Filters one sample without flushing denormals. The last output's term is added last:
    /// it is the one the next sample waits for.
    #[inline]
    fn step(&mut self, x: f32) -> f32 {
        let y = (self.b0 * x + self.b1 * self.x1 + self.b2 * self.x2 - self.a2 * self.y2)
            - self.a1 * self.y1;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }

    /// Sets a decayed state to exact zero so that silence stays cheap (denormals are slow).
    #[inline]
    fn flush_denormals(&mut self) {
        for v in [&mut self.x1, &mut self.x2, &mut self.y1, &mut self.y2] {
            if v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
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

    /// Filters `input` into `output` (the shorter length of the two), as [`Self::process`] does
    /// one sample at a time but faster: the three stages' state stays in registers for the
    /// whole block, and denormals are flushed once at its end. Analysis thread.
    pub fn process_into(&mut self, input: &[f32], output: &mut [f32]) {
        let mut stages = [
            self.high_pass.clone(),
            self.low_pass[0].clone(),
            self.low_pass[1].clone(),
        ];
        for (y, &x) in output.iter_mut().zip(input) {
            let mut v = x;
            for stage in &mut stages {
                v = stage.step(v);
            }
            *y = v;
        }
        // Once per block is enough to keep a decaying state out of the denormal range.
        for stage in &mut stages {
            stage.flush_denormals();
        }
        let [high_pass, low_0, low_1] = stages;
        self.high_pass = high_pass;
        self.low_pass = [low_0, low_1];
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

    #[test]
    fn filtering_a_block_gives_the_samples_one_at_a_time_give() {
        let x: Vec<f32> = (0..2_000)
            .map(|n| ((n as f32 * 0.37).sin() + (n as f32 * 0.011).cos()) * 0.5)
            .collect();
        let mut one = VoiceBand::new(16_000.0);
        let expected: Vec<f32> = x.iter().map(|&v| one.process(v)).collect();
        let mut blocks = VoiceBand::new(16_000.0);
        let mut got = vec![0.0; x.len()];
        for (input, output) in x.chunks(333).zip(got.chunks_mut(333)) {
            blocks.process_into(input, output);
        }
        assert_eq!(got, expected);
    }
}
