//! The Analyzer and what it derives from the pitch track: onsets, vocalisations, rhythm.

mod analyzer;
pub mod histogram;
pub mod vocal;

pub use analyzer::{AnalyzeError, Analyzer};
