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

/// A time in seconds as people read it: `M:SS`, or `H:MM:SS` from an hour on. Any thread.
pub fn clock(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `M:SS.s`: a moment on a timeline, to a tenth of a second. Any thread.
pub fn clock_tenths(secs: f64) -> String {
    let secs = secs.max(0.0);
    let m = (secs / 60.0).floor();
    format!("{}:{:04.1}", m as u64, secs - m * 60.0)
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
