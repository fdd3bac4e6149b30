//! The Analyzer and what it derives from the pitch track: onsets, vocalisations, rhythm.

mod analyzer;
pub mod cue;
pub mod histogram;
pub mod mirror;
pub mod report;
pub mod room;
pub mod speaker;
pub mod stats;
pub mod track;
pub mod turns;
pub mod vocal;
pub mod voice_model;

pub use analyzer::{AnalyzeError, Analyzer};
