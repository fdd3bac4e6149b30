//! What the Analyzer emits. Every event carries its true time on the session clock, even when
//! it is emitted later (the tracker looks ahead).

use serde::{Deserialize, Serialize};

use crate::time::SampleTime;

/// One pitch frame, every 10 ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PitchFrame {
    /// Centre of the frame.
    pub time: SampleTime,
    /// Fundamental frequency; `None` when the frame is unvoiced.
    pub f0_hz: Option<f32>,
    /// Periodicity of the frame's best candidate (0-1): how sure the tracker is that a
    /// periodic voice is there.
    pub confidence: f32,
    /// RMS level of the frame (dBFS).
    pub level_dbfs: f32,
}

/// A finished vocalisation: a stretch of vocal activity with its measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Vocalisation {
    pub start: SampleTime,
    /// Where the voice stopped. In a reverberant room its sound is heard on for a while
    /// after that, as the room's tail (see `heard_until`).
    pub end: SampleTime,
    /// Where its sound was last heard, tail included: past `end` in a reverberant room
    /// (`analysis::room`), else `end` (0 in session logs written before it was recorded;
    /// read it through [`Vocalisation::heard_until`]).
    #[serde(default)]
    pub heard_until: SampleTime,
    /// Loudest 10 ms frame (dBFS).
    pub peak_level_dbfs: f32,
    /// Mean power over the vocalisation, in dBFS.
    pub mean_level_dbfs: f32,
    /// Median f0 over its voiced frames (Hz); 0 when none was voiced.
    pub f0_median_hz: f32,
    /// 5th and 95th percentile of f0 (Hz).
    pub f0_low_hz: f32,
    pub f0_high_hz: f32,
    /// Voiced frames in the vocalisation.
    pub voiced_frames: u32,
    /// Number of syllables (vocal onsets inside it).
    pub syllables: u32,
    /// Syllables per second of vocalisation; 0 for a single syllable.
    pub syllable_rate_hz: f32,
    /// Mean inter-onset interval (s); 0 with fewer than two onsets.
    #[serde(rename = "mean_ioi_s", alias = "mean_ioi_secs")]
    pub mean_ioi_secs: f32,
    /// Rhythmic regularity in 0-1: 1 − the coefficient of variation of the inter-onset
    /// intervals (clamped); `None` with fewer than three onsets.
    pub regularity: Option<f32>,
}

impl Vocalisation {
    /// Where its sound was last heard, the room's tail included; never before `end`.
    pub fn heard_until(&self) -> SampleTime {
        self.heard_until.max(self.end)
    }

    /// How long the room's reverberant tail was heard after the voice stopped (s).
    pub fn tail_secs(&self) -> f64 {
        self.heard_until().secs() - self.end.secs()
    }

    pub fn duration_secs(&self) -> f64 {
        self.end.secs() - self.start.secs()
    }

    /// The same vocalisation moved by `by` samples (see [`Event::shifted`]): its start, end
    /// and tail.
    pub fn shifted(self, by: i64) -> Self {
        let s = |t: SampleTime| SampleTime(t.0.saturating_add_signed(by));
        Self {
            start: s(self.start),
            end: s(self.end),
            heard_until: s(self.heard_until),
            ..self
        }
    }
}

/// Everything the Analyzer reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Pitch(PitchFrame),
    /// A vocal onset: the start of a syllable or of a vocalisation.
    Onset {
        time: SampleTime,
    },
    /// A vocalisation has started (reported as soon as it is certain).
    VocalisationStart {
        time: SampleTime,
    },
    /// A vocalisation ended; its measures.
    Vocalisation(Vocalisation),
}

impl Event {
    /// The time the event refers to: a frame's centre, an onset, a start, a vocalisation's end.
    pub fn time(&self) -> SampleTime {
        match self {
            Event::Pitch(p) => p.time,
            Event::Onset { time } | Event::VocalisationStart { time } => *time,
            Event::Vocalisation(v) => v.end,
        }
    }

    /// The same event moved by `by` samples on the session clock (earlier when negative,
    /// never before 0): every time it holds moves. The one shift of attune: a stream continued
    /// by a new Analyzer, a track cut out of a longer one.
    pub fn shifted(self, by: i64) -> Self {
        let s = |t: SampleTime| SampleTime(t.0.saturating_add_signed(by));
        match self {
            Event::Pitch(p) => Event::Pitch(PitchFrame {
                time: s(p.time),
                ..p
            }),
            Event::Onset { time } => Event::Onset { time: s(time) },
            Event::VocalisationStart { time } => Event::VocalisationStart { time: s(time) },
            Event::Vocalisation(v) => Event::Vocalisation(v.shifted(by)),
        }
    }
}
