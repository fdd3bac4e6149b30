//! attune: a companion for Intensive Interaction.
//!
//! attune listens to the vocalisations of a person with little or no speech and measures their
//! pitch, rhythm and vocalisations, live or from recordings.
//!
//! # Threading contract
//! - [`analysis::Analyzer`] is single-threaded, deterministic and allocation-free after
//!   construction: it runs on whichever thread feeds it (the `analyze` worker threads, the live
//!   "analysis" thread). Feeding a recording in blocks of any size gives exactly the same
//!   events as feeding it whole.
//! - [`audio::capture::CaptureCallback::process`] runs on the audio system's callback thread:
//!   it only converts and moves samples into a lock-free ring (no allocation, lock, log, I/O).
//! - [`live`] runs the "capture", "analysis" and "session-writer" threads; every queue between
//!   them is bounded and every drop counted. [`app`] runs on the UI thread.
//! - [`audio::decode`] runs on the thread that reads a file; it allocates freely.
//! - [`cli`] owns the worker pool (rayon) and the progress bar.
//!
//! # Modules
//! - [`config`]: analysis settings, validated once.
//! - [`time`]: the one sample clock and its conversions.
//! - [`events`]: what the Analyzer emits.
//! - [`audio`]: decoding files, capture devices and their callback, real-time playback.
//! - [`dsp`]: pure signal processing (resampling, pitch, onsets, noise floor).
//! - [`analysis`]: the Analyzer and what it derives (vocalisations, rhythm, statistics).
//! - [`output`]: the files `attune analyze` writes.
//! - [`export`]: `attune export`: a reviewed session as CSV, ELAN, Praat, RTTM, chattr,
//!   Audacity labels and an HTML report; the corpus summary of `attune analyze`.
//! - [`session`]: offline session analysis (speakers, turns, mirroring), the live session
//!   writer, the recovery of interrupted recordings, the practitioner's log and the session
//!   model that review and export share.
//! - [`live`]: the live pipeline (capture, analysis thread, session writer).
//! - [`app`]: the companion window; [`headless`]: `attune live --headless`.
//! - [`cli`]: the command-line entry points.

pub mod analysis;
pub mod app;
pub mod audio;
pub mod cli;
pub mod config;
pub mod driver;
pub mod dsp;
pub mod events;
pub mod export;
pub mod headless;
pub mod live;
pub mod offline;
pub mod output;
pub mod session;
pub mod time;
