//! Sessions: the folder a session is recorded into and its layout ([`folder`]), claimed by
//! one recorder at a time ([`claim`]), the writer
//! thread that records a live session ([`writer`]), the recovery of a session whose recording
//! was interrupted ([`recovery`]), the practitioner's log of markers, push-to-talk and wrap-up
//! ([`log`]), and the reviewable session model that review and export use ([`model`]).

pub mod claim;
pub mod folder;
pub mod log;
pub mod model;
pub mod recovery;
pub mod writer;
