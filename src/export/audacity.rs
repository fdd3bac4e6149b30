//! `NAME.audacity.txt`: Audacity labels (File > Import > Labels), one label a line,
//! `start_s<TAB>end_s<TAB>label`, by start: each vocalisation labelled with its speaker
//! (`user`, `partner`, or `A`, `B`), each marker a point label (start = end) labelled
//! `marker: code` (and `: note`). Audacity puts one file in one label track, so the speaker is
//! in the label text. Any thread.

use std::fmt::Write as _;

use super::{marker_label, ms_of, one_line, secs_text, spans};
use crate::session::model::SessionModel;

/// Renders the label lines.
pub fn render(model: &SessionModel) -> String {
    let mut labels: Vec<(u64, u64, String)> = spans(model)
        .into_iter()
        .map(|s| (s.start_ms, s.end_ms, s.speaker.as_str().to_string()))
        .collect();
    for m in &model.markers {
        let t = ms_of(m.t_s);
        let text = one_line(&marker_label(&m.code, &m.note), false);
        labels.push((t, t, format!("marker: {text}")));
    }
    labels.sort_by_key(|l| (l.0, l.1));
    let mut x = String::new();
    for (a, b, text) in labels {
        let _ = writeln!(x, "{}\t{}\t{text}", secs_text(a), secs_text(b));
    }
    x
}
