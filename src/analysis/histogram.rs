//! A fixed-size f0 histogram on a 10-cent grid: medians and percentiles without storing frames.

/// Bins of 10 cents between the configured f0 limits. Allocation-free after `new`.
#[derive(Debug, Clone)]
pub struct F0Histogram {
    min_hz: f64,
    counts: Vec<u32>,
    total: u64,
}

const BINS_PER_OCTAVE: f64 = 120.0;

impl F0Histogram {
    pub fn new(min_hz: f64, max_hz: f64) -> Self {
        let bins = ((max_hz / min_hz).log2() * BINS_PER_OCTAVE).ceil() as usize + 1;
        Self {
            min_hz,
            counts: vec![0; bins.max(1)],
            total: 0,
        }
    }

    pub fn clear(&mut self) {
        if self.total > 0 {
            self.counts.fill(0);
            self.total = 0;
        }
    }

    /// The bin of `f0_hz` (values outside the limits go to the end bins).
    fn bin(&self, f0_hz: f32) -> Option<usize> {
        let pos = (f64::from(f0_hz) / self.min_hz).log2() * BINS_PER_OCTAVE;
        pos.is_finite()
            .then(|| (pos.round().max(0.0) as usize).min(self.counts.len() - 1))
    }

    pub fn add(&mut self, f0_hz: f32) {
        if let Some(bin) = self.bin(f0_hz) {
            self.counts[bin] += 1;
            self.total += 1;
        }
    }

    /// Takes back one value given to `add`.
    pub fn remove(&mut self, f0_hz: f32) {
        if let Some(bin) = self.bin(f0_hz).filter(|&b| self.counts[b] > 0) {
            self.counts[bin] -= 1;
            self.total -= 1;
        }
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The f0 below which `q` (0-1) of the values lie; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f32> {
        if self.total == 0 {
            return None;
        }
        let target = (q.clamp(0.0, 1.0) * (self.total - 1) as f64).round() as u64;
        let mut seen = 0u64;
        for (bin, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen > target {
                return Some((self.min_hz * (bin as f64 / BINS_PER_OCTAVE).exp2()) as f32);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range_within_ten_cents() {
        let mut h = F0Histogram::new(55.0, 1500.0);
        assert_eq!(h.quantile(0.5), None);
        for f in [200.0f32, 210.0, 220.0, 230.0, 240.0] {
            h.add(f);
        }
        let cents = |a: f32, b: f32| (1200.0 * (a / b).log2()).abs();
        assert!(cents(h.quantile(0.5).unwrap(), 220.0) < 6.0);
        assert!(cents(h.quantile(0.0).unwrap(), 200.0) < 6.0);
        assert!(cents(h.quantile(1.0).unwrap(), 240.0) < 6.0);
        h.clear();
        assert_eq!(h.count(), 0);
    }
}
