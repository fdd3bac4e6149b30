//! Sessions: the offline analysis of a two-party recording (who vocalises, turns, mirroring),
//! the writer thread that records a live session into its folder, and the recovery of a
//! session whose recording was interrupted.

pub mod analysis;
pub mod recovery;
pub mod writer;
