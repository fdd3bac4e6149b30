//! The live pipeline: an input (microphone or a recording played in real time) → the
//! "analysis" thread running the same [`crate::analysis::Analyzer`] as `attune analyze` → the
//! window (bounded channel) and the "session-writer" thread (bounded channel).
//!
//! ```text
//! "capture" thread    owns the cpal stream (or the player), watches for device loss, reopens
//!    │ SPSC rings (audio + capture stamps), handed over through a channel on each (re)connect
//!    ▼
//! "analysis" thread   pops samples → Analyzer::process → events, stamped on the session clock
//!    ├──▶ UI channel (bounded, try_send; drops counted)      → LiveMessage
//!    └──▶ writer channel (bounded, try_send; drops counted)  → session folder
//! ```

pub mod latency;
mod pipeline;
pub mod voices;

pub use pipeline::{
    InputChoice, LiveError, LiveMessage, LiveOptions, LivePipeline, LiveReport, PipelineStats,
    RecordTo, LATENCY_WARM_UP_SECS,
};

use serde::Serialize;

/// What the input is doing. Shown in the window and logged in `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InputStatus {
    /// Capturing (or playing a recording in real time).
    Connected {
        name: String,
        rate_hz: u32,
        channels: usize,
        /// A recording played as if live, not a microphone.
        playback: bool,
    },
    /// The device stopped delivering (unplugged, Bluetooth dropped, stream error). What was
    /// recorded is kept; attune keeps trying to reconnect.
    Lost { name: String, reason: String },
    /// No usable device yet; attune keeps trying.
    Waiting { wanted: String, reason: String },
    /// A recording played to its end.
    Ended { name: String },
}
