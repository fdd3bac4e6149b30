//! Sessions: the offline analysis of a two-party recording (who vocalises, turns, mirroring),
//! the writer thread that records a live session into its folder, the recovery of a session
//! whose recording was interrupted, the practitioner's log (markers, push-to-talk, wrap-up) and
//! the reviewable session model that review and export use.

pub mod analysis;
pub mod log;
pub mod model;
pub mod recovery;
pub mod writer;
