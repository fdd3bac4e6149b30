//! Recorded sessions: the writer thread that records a live session into its folder.

pub mod writer;
