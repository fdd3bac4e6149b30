//! `NAME.rttm`: Rich Transcription Time Marked, one line per vocalisation,
//! `SPEAKER NAME 1 onset_s duration_s <NA> <NA> speaker <NA> <NA>` (NIST's ten fields,
//! space-separated; `NAME` with any whitespace turned into `_`). By start. Any thread.

use std::fmt::Write as _;

use super::{one_line, secs_text, spans};
use crate::session::model::SessionModel;

/// Renders the RTTM lines.
pub fn render(model: &SessionModel) -> String {
    let file_id = one_line(&model.name, true);
    let file_id = if file_id.is_empty() {
        "session".to_string()
    } else {
        file_id
    };
    let mut x = String::new();
    for s in spans(model) {
        let _ = writeln!(
            x,
            "SPEAKER {file_id} 1 {} {} <NA> <NA> {} <NA> <NA>",
            secs_text(s.start_ms),
            secs_text(s.end_ms - s.start_ms),
            s.speaker.as_str()
        );
    }
    x
}
