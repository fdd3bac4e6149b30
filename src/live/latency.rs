//! Latency statistics without storing every measurement: a fixed histogram of 0.25 ms bins.

use std::time::Duration;

use serde::Serialize;

const BIN_MS: f64 = 0.25;
const BINS: usize = 4000; // up to 1 s; slower ones go into the last bin (max is kept exactly)

/// A running distribution of latencies. Allocation-free after `new`.
#[derive(Debug, Clone)]
pub struct LatencyStats {
    bins: Vec<u32>,
    count: u64,
    max_ms: f64,
}

/// The summary shown in the status line and written to the session summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl LatencyStats {
    pub fn new() -> Self {
        Self {
            bins: vec![0; BINS],
            count: 0,
            max_ms: 0.0,
        }
    }

    /// Adds one measurement. Any thread (the owner's).
    pub fn record(&mut self, latency: Duration) {
        let ms = latency.as_secs_f64() * 1000.0;
        let bin = ((ms / BIN_MS) as usize).min(BINS - 1);
        self.bins[bin] = self.bins[bin].saturating_add(1);
        self.count += 1;
        self.max_ms = self.max_ms.max(ms);
    }

    /// The `q` quantile (0-1) in ms, at the upper edge of its bin; `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, &n) in self.bins.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return Some(((i + 1) as f64 * BIN_MS).min(self.max_ms));
            }
        }
        Some(self.max_ms)
    }

    pub fn summary(&self) -> LatencySummary {
        let r = |x: f64| (x * 10.0).round() / 10.0;
        LatencySummary {
            count: self.count,
            p50_ms: r(self.quantile_ms(0.5).unwrap_or(0.0)),
            p95_ms: r(self.quantile_ms(0.95).unwrap_or(0.0)),
            max_ms: r(self.max_ms),
        }
    }
}

impl Default for LatencyStats {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut s = LatencyStats::new();
        assert_eq!(s.quantile_ms(0.5), None);
        for ms in 1..=100 {
            s.record(Duration::from_millis(ms));
        }
        let sum = s.summary();
        assert_eq!(sum.count, 100);
        assert!((sum.p50_ms - 50.0).abs() <= 0.3, "{sum:?}");
        assert!((sum.p95_ms - 95.0).abs() <= 0.3, "{sum:?}");
        assert_eq!(sum.max_ms, 100.0);
        s.record(Duration::from_secs(5));
        assert_eq!(s.summary().max_ms, 5000.0);
    }
}
