//! attune: a companion for Intensive Interaction.
//!
//! attune listens to the vocalisations of a person with little or no speech and measures their
//! pitch, rhythm and vocalisations, live or from recordings.
//!
//! # Threading contract
//! - [`analysis::Analyzer`] is single-threaded, deterministic and allocation-free after
//!   construction: it runs on whichever thread feeds it (the `analyze` worker threads today, the
//!   live "analysis" thread later). Feeding a recording in blocks of any size gives exactly the
//!   same events as feeding it whole.
//! - [`audio::decode`] runs on the thread that reads a file; it allocates freely.
//! - [`cli`] owns the worker pool (rayon) and the progress bar.
//!
//! # Modules
//! - [`config`]: analysis settings, validated once.
//! - [`time`]: the one sample clock and its conversions.
//! - [`events`]: what the Analyzer emits.
//! - [`audio`]: decoding of audio files into mono blocks.
//! - [`dsp`]: pure signal processing (resampling, pitch, onsets, noise floor).
//! - [`analysis`]: the Analyzer and what it derives (vocalisations, rhythm, statistics).
//! - [`output`]: the files `attune analyze` writes.
//! - [`session`]: offline session analysis (speakers, turns, mirroring).
//! - [`cli`]: the command-line entry points.

pub mod analysis;
pub mod audio;
pub mod cli;
pub mod config;
pub mod dsp;
pub mod events;
pub mod output;
pub mod session;
pub mod time;
