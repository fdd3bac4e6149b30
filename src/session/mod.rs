//! Sessions: the offline analysis of a two-party recording (who vocalises, turns, mirroring)
//! and the writer thread that records a live session into its folder.

pub mod analysis;
pub mod writer;
