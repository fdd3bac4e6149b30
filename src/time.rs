//! The one clock of a session: samples since it started, at the analysis rate.

use serde::{Deserialize, Serialize};

use crate::config::ANALYSIS_RATE_HZ;

/// A position in a recording, in samples at [`ANALYSIS_RATE_HZ`] since its start. Seconds are
/// derived from it only for display and export.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct SampleTime(pub u64);

impl SampleTime {
    /// Seconds since the start of the recording.
    pub fn secs(self) -> f64 {
        self.0 as f64 / f64::from(ANALYSIS_RATE_HZ)
    }

    /// The sample time nearest to `secs` (negative times clamp to 0).
    pub fn from_secs(secs: f64) -> Self {
        Self((secs.max(0.0) * f64::from(ANALYSIS_RATE_HZ)).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip() {
        let t = SampleTime::from_secs(1.25);
        assert_eq!(t, SampleTime(20_000));
        assert!((t.secs() - 1.25).abs() < 1e-12);
        assert_eq!(SampleTime::from_secs(-3.0), SampleTime(0));
    }
}
