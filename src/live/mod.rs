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

pub use crate::audio::InputStatus;
