//! The band the pitch analysis looks at: a cascade of second-order Butterworth sections (RBJ
//! cookbook).

/// One second-order Butterworth section, `y = gain (x ± 2 x1 + x2) - a1 y1 - a2 y2` (`+` for a
/// low-pass, `-` for a high-pass): its numerator is a gain times `1 ± 2 z⁻¹ + z⁻²`.
#[derive(Debug, Clone, Copy)]
struct Section {
    gain: f32,
    a1: f32,
    a2: f32,
}

impl Section {
    fn design(cutoff_hz: f64, sample_rate_hz: f64, high: bool) -> Self {
        let w0 = 2.0 * std::f64::consts::PI * cutoff_hz / sample_rate_hz;
        let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        let gain = if high { 1.0 + cos } else { 1.0 - cos } / 2.0 / a0;
        Self {
            gain: gain as f32,
            a1: (-2.0 * cos / a0) as f32,
            a2: ((1.0 - alpha) / a0) as f32,
        }
    }

    /// The section's output for the numerator sum `num` and its last two outputs, newest
    /// first. The last output's term is subtracted last: it is the one the next sample waits
    /// for.
    #[inline(always)]
    fn output(&self, num: f32, y1: f32, y2: f32) -> f32 {
        (self.gain * num - self.a2 * y2) - self.a1 * y1
    }
}

/// The band pitch analysis looks at: 40 Hz-3 kHz (a 2nd-order high-pass and a 4th-order
/// low-pass). Below 40 Hz is rumble; above 3 kHz a breathy or noisy voice carries mostly noise,
/// while the fundamental (up to 1500 Hz) and the strongest harmonics stay in.
#[derive(Debug, Clone)]
pub struct VoiceBand {
    high_pass: Section,
    /// Both low-pass stages are this section.
    low_pass: Section,
    /// The last two input samples, newest first.
    x: [f32; 2],
    /// The last two outputs of each stage (high-pass, low-pass, low-pass), newest first. A
    /// stage's input is the stage before's output, so these are also the next stage's past
    /// inputs.
    y: [[f32; 2]; 3],
}

impl VoiceBand {
    pub const LOW_HZ: f64 = 40.0;
    pub const HIGH_HZ: f64 = 3000.0;

    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            high_pass: Section::design(Self::LOW_HZ, sample_rate_hz, true),
            low_pass: Section::design(Self::HIGH_HZ, sample_rate_hz, false),
            x: [0.0; 2],
            y: [[0.0; 2]; 3],
        }
    }

    /// Filters one sample. Analysis thread.
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let mut out = 0.0;
        self.process_into(&[x], std::slice::from_mut(&mut out));
        out
    }

    /// Filters `input` into `output` (the shorter length of the two). The state stays in
    /// registers for the whole block, and denormals are flushed once at its end. Analysis
    /// thread.
    pub fn process_into(&mut self, input: &[f32], output: &mut [f32]) {
        let (hp, lp) = (self.high_pass, self.low_pass);
        // The state as plain scalars the compiler keeps in registers (`u` the high-pass's
        // outputs, `v` and `w` the low-passes'). The numerators are sums first and one
        // multiplication after: two multiplications fewer per section than a general biquad.
        let [mut x1, mut x2] = self.x;
        let [[mut u1, mut u2], [mut v1, mut v2], [mut w1, mut w2]] = self.y;
        for (out, &x) in output.iter_mut().zip(input) {
            let u = hp.output((x + x2) - (x1 + x1), u1, u2);
            let v = lp.output((u + u2) + (u1 + u1), v1, v2);
            let w = lp.output((v + v2) + (v1 + v1), w1, w2);
            (x2, x1) = (x1, x);
            (u2, u1) = (u1, u);
            (v2, v1) = (v1, v);
            (w2, w1) = (w1, w);
            *out = w;
        }
        // Sets a decayed state to exact zero so that silence stays cheap (denormals are slow):
        // once per block is enough to keep it out of the denormal range.
        let flush = |v: [f32; 2]| v.map(|s| if s.abs() < 1e-30 { 0.0 } else { s });
        self.x = flush([x1, x2]);
        self.y = [flush([u1, u2]), flush([v1, v2]), flush([w1, w2])];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peak output for a unit sine at `f_hz`, once the filter has settled.
    fn band_gain(f_hz: f64) -> f64 {
        let mut vb = VoiceBand::new(16_000.0);
        let mut peak = 0.0f64;
        for n in 0..16_000 {
            let y =
                vb.process((2.0 * std::f64::consts::PI * f_hz * n as f64 / 16_000.0).sin() as f32);
            if n > 8_000 {
                peak = peak.max(f64::from(y).abs());
            }
        }
        peak
    }

    #[test]
    fn passes_voice_and_removes_rumble() {
        assert!(band_gain(200.0) > 0.97);
        assert!(band_gain(10.0) < 0.07);
    }

    #[test]
    fn voice_band_keeps_squeals_and_drops_hiss() {
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
