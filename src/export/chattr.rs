//! `NAME.chattr.tsv`: the utterance table of the R package chattr (Casillas & Scaff), in its
//! `elan-basic-txt` input format, which is ELAN's tab-delimited text export: no header, one row
//! per annotation, six tab-separated columns
//!
//! | column | chattr's name | here |
//! |---|---|---|
//! | 1 | `tier` | the speaker (`user`, `partner`, `A`, `B`), or `clip` |
//! | 2 | `speaker` | the same |
//! | 3 | `start.ms` | onset (ms, integer) |
//! | 4 | `stop.ms` | offset (ms, integer) |
//! | 5 | `duration` | stop − start (ms) |
//! | 6 | `value` | `vocalisation`, or `session` on the clip row |
//!
//! chattr reads the tier as the speaker and needs a clip tier marking the annotated stretch:
//! the first row is a `clip` annotation over the whole session. In R:
//!
//! ```r
//! spch <- read_spchtbl("NAME.chattr.tsv", tbltype = "elan-basic-txt",
//!                      cliptier = "clip", lxonly = "vocalisation")
//! ```
//!
//! Any thread.

use std::fmt::Write as _;

use super::{duration_ms, spans};
use crate::session::model::SessionModel;

/// The tier chattr reads as the annotated region.
pub const CLIP_TIER: &str = "clip";

/// Renders the table.
pub fn render(model: &SessionModel) -> String {
    let mut x = String::new();
    let end = duration_ms(model);
    let _ = writeln!(x, "{CLIP_TIER}\t{CLIP_TIER}\t0\t{end}\t{end}\tsession");
    for s in spans(model) {
        let who = s.speaker.as_str();
        let _ = writeln!(
            x,
            "{who}\t{who}\t{}\t{}\t{}\tvocalisation",
            s.start_ms,
            s.end_ms,
            s.end_ms - s.start_ms
        );
    }
    x
}
