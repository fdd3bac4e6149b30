//! What a session analysis keeps of one channel: the Analyzer's events gathered into a
//! compact per-frame track (f0, level, optional voice features), the onsets and the
//! vocalisations. A consumer of the events, outside the allocation-free
//! [`crate::analysis::Analyzer::process`]: it runs on the thread that reads the file (offline)
//! or the thread that receives the events (live). About 16 bytes per 10 ms frame (64 more with
//! voice features).

use crate::analysis::vocal::{rhythm, syllable_rate_hz};
use crate::config::{ANALYSIS_RATE_HZ, HOP_LEN};
use crate::dsp::voice::Cepstrum;
use crate::events::{Event, Vocalisation};
use crate::time::SampleTime;

/// An onset up to this long before a vocalisation's start still belongs to it (30 ms, in
/// samples at the analysis rate): the onset detector fires on the attack, a little before the
/// vocalisation tracker opens.
pub const ONSET_SLACK_SAMPLES: u64 = ANALYSIS_RATE_HZ as u64 * 30 / 1000;

/// Whether an onset at `onset` belongs to the vocalisation `[start, end)`: from
/// [`ONSET_SLACK_SAMPLES`] before its start to its end. The one rule for the offline shapes
/// and parts and the live window's card and shape. Any thread.
pub fn onset_belongs(onset: SampleTime, start: SampleTime, end: SampleTime) -> bool {
    onset >= onsets_from(start) && onset < end
}

/// The earliest time an onset of a vocalisation starting at `start` may have. Any thread.
pub fn onsets_from(start: SampleTime) -> SampleTime {
    SampleTime(start.0.saturating_sub(ONSET_SLACK_SAMPLES))
}

/// One 10 ms frame of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FrameRecord {
    /// Fundamental frequency; `None` when unvoiced.
    pub f0_hz: Option<f32>,
    /// RMS level (dBFS).
    pub level_dbfs: f32,
}

/// One channel's analysis, frame by frame.
#[derive(Debug, Clone, Default)]
pub struct ChannelTrack {
    /// Frame `k` is centred on `k · 10 ms`.
    pub frames: Vec<FrameRecord>,
    /// Voice features per frame (empty when not computed).
    pub ceps: Vec<Cepstrum>,
    pub onsets: Vec<SampleTime>,
    pub vocalisations: Vec<Vocalisation>,
}

/// Frame index of a time on the session clock.
pub fn frame_of(t: SampleTime) -> usize {
    (t.0 / HOP_LEN as u64) as usize
}

impl ChannelTrack {
    /// Adds a batch of the Analyzer's events.
    pub fn push_events(&mut self, events: &[Event]) {
        for ev in events {
            match ev {
                Event::Pitch(p) => {
                    let k = frame_of(p.time);
                    if self.frames.len() <= k {
                        self.frames.resize(k + 1, FrameRecord::default());
                    }
                    self.frames[k] = FrameRecord {
                        f0_hz: p.f0_hz,
                        level_dbfs: p.level_dbfs,
                    };
                }
                Event::Onset { time } => self.onsets.push(*time),
                Event::VocalisationStart { .. } => {}
                Event::Vocalisation(v) => self.vocalisations.push(*v),
            }
        }
    }

    /// Stores the voice features of frame `k`.
    pub fn push_ceps(&mut self, k: usize, c: &Cepstrum) {
        if self.ceps.len() <= k {
            self.ceps.resize(k + 1, [0.0; crate::dsp::voice::N_CEPS]);
        }
        self.ceps[k] = *c;
    }

    /// Frames `[a, b)` (clamped to the track).
    pub fn frames_in(&self, a: usize, b: usize) -> &[FrameRecord] {
        let b = b.min(self.frames.len());
        &self.frames[a.min(b)..b]
    }

    /// Onsets within `[start, end)`.
    pub fn onsets_in(
        &self,
        start: SampleTime,
        end: SampleTime,
    ) -> impl Iterator<Item = SampleTime> + '_ {
        let lo = self.onsets.partition_point(|t| *t < start);
        self.onsets[lo..]
            .iter()
            .copied()
            .take_while(move |t| *t < end)
    }

    /// The measures of the stretch `[start, end)` of this channel, as the Analyzer reports a
    /// vocalisation (used when attribution cuts a vocalisation into parts).
    pub fn summarise(&self, start: SampleTime, end: SampleTime) -> Vocalisation {
        let frames = self.frames_in(frame_of(start), frame_of(end));
        let mut peak = crate::dsp::SILENCE_DBFS;
        let mut power = 0f64;
        let mut f0s: Vec<f32> = Vec::new();
        for f in frames {
            peak = peak.max(f.level_dbfs);
            power += crate::dsp::db_to_power(f.level_dbfs);
            if let Some(x) = f.f0_hz {
                f0s.push(x);
            }
        }
        f0s.sort_by(f32::total_cmp);
        let q = |p: f64| -> f32 {
            if f0s.is_empty() {
                0.0
            } else {
                f0s[((f0s.len() - 1) as f64 * p).round() as usize]
            }
        };
        // An onset a little before the cut still belongs to the part.
        let onsets: Vec<f64> = self
            .onsets_in(onsets_from(start), end)
            .map(SampleTime::secs)
            .collect();
        let iois: Vec<f64> = onsets.windows(2).map(|w| w[1] - w[0]).collect();
        let (mean_ioi, regularity) = rhythm(
            iois.len() as f64,
            iois.iter().sum(),
            iois.iter().map(|x| x * x).sum(),
        );
        Vocalisation {
            start,
            end,
            heard_until: end,
            peak_level_dbfs: peak,
            mean_level_dbfs: crate::dsp::power_to_db(power / frames.len().max(1) as f64),
            f0_median_hz: q(0.5),
            f0_low_hz: q(0.05),
            f0_high_hz: q(0.95),
            voiced_frames: f0s.len() as u32,
            syllables: onsets.len().max(1) as u32,
            syllable_rate_hz: syllable_rate_hz(mean_ioi),
            mean_ioi_secs: mean_ioi as f32,
            regularity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_onset_just_before_a_vocalisation_belongs_to_it() {
        let (start, end) = (SampleTime::from_secs(1.0), SampleTime::from_secs(2.0));
        assert_eq!(ONSET_SLACK_SAMPLES, 480, "30 ms at 16 kHz");
        assert!(onset_belongs(SampleTime::from_secs(0.98), start, end));
        assert!(!onset_belongs(SampleTime::from_secs(0.96), start, end));
        assert!(onset_belongs(SampleTime::from_secs(1.5), start, end));
        assert!(
            !onset_belongs(end, start, end),
            "the end is the next sound's"
        );
        assert!(onset_belongs(SampleTime(0), SampleTime(100), end));
    }
}
