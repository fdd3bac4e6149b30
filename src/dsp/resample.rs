//! Streaming conversion of any input rate to the analysis rate, with rubato.

use rubato::{FftFixedInOut, Resampler};
use thiserror::Error;

use crate::config::ANALYSIS_RATE_HZ;

/// The input rate cannot be resampled.
#[derive(Debug, Error)]
#[error("cannot resample from {rate_hz} Hz: {reason}")]
pub struct ResampleError {
    pub rate_hz: u32,
    pub reason: String,
}

/// A sample this close to full scale (either sign) counts as clipped: 16-bit and wider
/// formats clip at 1.0, 8-bit at 127/128 (0.992).
pub const CLIPPED_LEVEL: f32 = 0.99;

/// What the input samples looked like before conversion: how many, how many were not numbers,
/// how many at full scale, and the loudest.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InputStats {
    pub samples: u64,
    /// NaN or infinite (replaced by silence).
    pub non_finite: u64,
    /// At least [`CLIPPED_LEVEL`] in magnitude.
    pub clipped: u64,
    /// Largest magnitude of the finite samples.
    pub peak_abs: f32,
}

impl InputStats {
    /// Counts a block of input samples. Any thread; allocation-free. It runs on every sample
    /// of every input, so it works in eight independent lanes without branches (the compiler
    /// turns them into vector instructions).
    pub fn observe(&mut self, block: &[f32]) {
        const LANES: usize = 8;
        let mut peak = [0f32; LANES];
        let mut clipped = [0u32; LANES];
        let mut non_finite = [0u32; LANES];
        let mut count = |lane: usize, x: f32| {
            let magnitude = x.abs();
            // NaN compares false, so it counts as not finite, as do both infinities.
            let finite = magnitude < f32::INFINITY;
            let m = if finite { magnitude } else { 0.0 };
            peak[lane] = if m > peak[lane] { m } else { peak[lane] };
            clipped[lane] += u32::from(m >= CLIPPED_LEVEL);
            non_finite[lane] += u32::from(!finite);
        };
        // Blocks are short (u32 lanes cannot overflow below 2^32 samples per call).
        let chunks = block.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for (lane, &x) in c.iter().enumerate() {
                count(lane, x);
            }
        }
        for (lane, &x) in tail.iter().enumerate() {
            count(lane, x);
        }
        self.samples += block.len() as u64;
        self.peak_abs = peak.iter().fold(self.peak_abs, |a, &b| a.max(b));
        self.clipped += clipped.iter().map(|&v| u64::from(v)).sum::<u64>();
        self.non_finite += non_finite.iter().map(|&v| u64::from(v)).sum::<u64>();
    }

    /// Adds the counts of another stretch of input (a further file of the same recording).
    pub fn merge(&mut self, other: &InputStats) {
        self.samples += other.samples;
        self.non_finite += other.non_finite;
        self.clipped += other.clipped;
        self.peak_abs = self.peak_abs.max(other.peak_abs);
    }
}

/// Converts a mono stream at `input_rate_hz` to [`ANALYSIS_RATE_HZ`] in fixed chunks, so the
/// output does not depend on how the input was split into blocks. Non-finite samples become 0
/// and are counted, with the clipped ones and the peak ([`InputStats`]). Allocation-free after
/// `new`.
pub struct StreamResampler {
    inner: Option<FftFixedInOut<f32>>,
    input: Vec<f32>,
    input_len: usize,
    output: Vec<Vec<f32>>,
    /// Output samples still to discard to undo the resampler's delay.
    delay_left: usize,
    input_rate_hz: u32,
    samples_in: u64,
    samples_out: u64,
    stats: InputStats,
}

impl StreamResampler {
    /// Builds the converter for `input_rate_hz` (1 kHz-768 kHz).
    pub fn new(input_rate_hz: u32) -> Result<Self, ResampleError> {
        if !(1_000..=768_000).contains(&input_rate_hz) {
            return Err(ResampleError {
                rate_hz: input_rate_hz,
                reason: "the rate must lie within 1-768 kHz".into(),
            });
        }
        if input_rate_hz == ANALYSIS_RATE_HZ {
            return Ok(Self {
                inner: None,
                input: vec![0.0; 1024],
                input_len: 0,
                output: Vec::new(),
                delay_left: 0,
                input_rate_hz,
                samples_in: 0,
                samples_out: 0,
                stats: InputStats::default(),
            });
        }
        // About 20 ms chunks keep the latency low and the FFTs small.
        let chunk = (input_rate_hz as usize / 50).max(64);
        let inner =
            FftFixedInOut::<f32>::new(input_rate_hz as usize, ANALYSIS_RATE_HZ as usize, chunk, 1)
                .map_err(|e| ResampleError {
                    rate_hz: input_rate_hz,
                    reason: e.to_string(),
                })?;
        let chunk_in = inner.input_frames_next();
        let out_max = inner.output_frames_max();
        let delay_left = inner.output_delay();
        Ok(Self {
            inner: Some(inner),
            input: vec![0.0; chunk_in],
            input_len: 0,
            output: vec![vec![0.0; out_max]],
            delay_left,
            input_rate_hz,
            samples_in: 0,
            samples_out: 0,
            stats: InputStats::default(),
        })
    }

    /// The input seen so far: samples, non-finite ones, clipped ones, peak.
    pub fn input_stats(&self) -> InputStats {
        self.stats
    }

    /// Feeds `block`; `sink` receives the converted samples in order. Analysis thread.
    pub fn process(&mut self, block: &[f32], sink: &mut impl FnMut(&[f32])) {
        self.samples_in += block.len() as u64;
        let mut rest = block;
        while !rest.is_empty() {
            let room = self.input.len() - self.input_len;
            let n = room.min(rest.len());
            self.stats.observe(&rest[..n]);
            for (dst, &src) in self.input[self.input_len..self.input_len + n]
                .iter_mut()
                .zip(&rest[..n])
            {
                *dst = if src.is_finite() {
                    src.clamp(-8.0, 8.0)
                } else {
                    0.0
                };
            }
            self.input_len += n;
            rest = &rest[n..];
            if self.input_len == self.input.len() {
                self.run_chunk(sink, u64::MAX);
            }
        }
        // At the analysis rate nothing needs buffering: pass the block on now (live latency).
        if self.inner.is_none() && self.input_len > 0 {
            self.run_chunk(sink, u64::MAX);
        }
    }

    /// Pushes out what is buffered, so that the output holds exactly as many samples as the
    /// input's duration at the analysis rate. Analysis thread.
    pub fn finish(&mut self, sink: &mut impl FnMut(&[f32])) {
        let wanted = (self.samples_in as u128 * u128::from(ANALYSIS_RATE_HZ)
            / u128::from(self.input_rate_hz)) as u64;
        // Each chunk of zeros pushes out at least one chunk of output; bound the loop.
        for _ in 0..64 {
            if self.samples_out >= wanted {
                break;
            }
            self.input[self.input_len..].fill(0.0);
            self.input_len = self.input.len();
            self.run_chunk(sink, wanted);
        }
    }

    fn run_chunk(&mut self, sink: &mut impl FnMut(&[f32]), limit: u64) {
        let Some(inner) = &mut self.inner else {
            // Same rate: pass the chunk through.
            let n = (self.input_len as u64).min(limit.saturating_sub(self.samples_out)) as usize;
            if n > 0 {
                sink(&self.input[..n]);
                self.samples_out += n as u64;
            }
            self.input_len = 0;
            return;
        };
        let input = [&self.input[..]];
        let produced = match inner.process_into_buffer(&input, &mut self.output, None) {
            Ok((_, n)) => n,
            // Cannot happen with buffers sized by the resampler itself; emit silence rather
            // than lose the clock.
            Err(_) => {
                let n = self.output[0].len().min(inner.output_frames_next());
                self.output[0][..n].fill(0.0);
                n
            }
        };
        self.input_len = 0;
        let skip = self.delay_left.min(produced);
        self.delay_left -= skip;
        let avail = (produced - skip) as u64;
        let n = avail.min(limit.saturating_sub(self.samples_out)) as usize;
        if n > 0 {
            sink(&self.output[0][skip..skip + n]);
            self.samples_out += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rate: u32, secs: f64, f_hz: f64, block: usize) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * f_hz * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect();
        let mut r = StreamResampler::new(rate).unwrap();
        let mut out = Vec::new();
        for b in x.chunks(block) {
            r.process(b, &mut |s| out.extend_from_slice(s));
        }
        r.finish(&mut |s| out.extend_from_slice(s));
        out
    }

    #[test]
    fn input_stats_count_peak_clipping_and_non_numbers() {
        let mut r = StreamResampler::new(48_000).unwrap();
        let x = [
            0.25f32,
            -0.5,
            1.0,
            f32::NAN,
            -0.995,
            0.98,
            f32::INFINITY,
            0.0,
        ];
        r.process(&x, &mut |_| {});
        let mut total = r.input_stats();
        assert_eq!(total.samples, 8);
        assert_eq!(total.non_finite, 2);
        assert_eq!(total.clipped, 2);
        assert_eq!(total.peak_abs, 1.0);
        let mut second = StreamResampler::new(16_000).unwrap();
        second.process(&[0.1, -1.5], &mut |_| {});
        total.merge(&second.input_stats());
        assert_eq!((total.samples, total.clipped, total.peak_abs), (10, 3, 1.5));
    }

    #[test]
    fn output_length_and_alignment_match_the_input() {
        for &rate in &[8_000u32, 16_000, 22_050, 44_100, 48_000, 96_000] {
            let out = run(rate, 1.0, 300.0, 333);
            assert_eq!(out.len(), 16_000, "rate {rate}");
            // A 300 Hz sine stays a 300 Hz sine, in phase with the input clock.
            for (i, &y) in out.iter().enumerate().skip(2000).take(10_000).step_by(97) {
                let want = 0.5 * (2.0 * std::f64::consts::PI * 300.0 * i as f64 / 16_000.0).sin();
                assert!(
                    (f64::from(y) - want).abs() < 0.03,
                    "rate {rate} sample {i}: {y} vs {want}"
                );
            }
        }
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        assert_eq!(run(44_100, 0.5, 440.0, 1), run(44_100, 0.5, 440.0, 100_000));
    }

    #[test]
    fn absurd_rates_are_refused() {
        assert!(StreamResampler::new(0).is_err());
        assert!(StreamResampler::new(10_000_000).is_err());
    }
}
