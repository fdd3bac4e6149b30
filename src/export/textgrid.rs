//! `NAME.TextGrid`: a Praat TextGrid in the long text format, UTF-8.
//!
//! Tiers, all spanning the whole session (0 to its duration):
//! - an interval tier per person (`user`, `partner`, or `A`, `B`): each vocalisation is an
//!   interval labelled with the speaker; empty intervals fill the time between them, so the
//!   intervals tile the tier as Praat requires;
//! - `markers`, a point tier: the practitioner's markers (`code` or `code: note`);
//! - `onsets`, a point tier: every vocal onset inside a vocalisation, labelled with its
//!   speaker.
//!
//! Times are seconds with millisecond precision; points on one tier at the same millisecond
//! are moved 1 ms apart (Praat needs them in increasing order). Any thread.

use std::fmt::Write as _;

use super::{duration_ms, marker_label, ms_of, secs_text, spans, tier_speakers, without_overlaps};
use crate::session::model::SessionModel;

enum Tier {
    Intervals(String, Vec<(u64, u64, String)>),
    Points(String, Vec<(u64, String)>),
}

/// Text in Praat's quotes: `"` is doubled.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Intervals tiling `[0, end_ms]`: `labelled` (non-overlapping, sorted) with empty ones between.
fn tile(labelled: Vec<(u64, u64, String)>, end_ms: u64) -> Vec<(u64, u64, String)> {
    let mut out = Vec::with_capacity(labelled.len() * 2 + 1);
    let mut t = 0u64;
    for (a, b, text) in labelled {
        let (a, b) = (a.min(end_ms), b.min(end_ms));
        if b <= a || a < t {
            continue;
        }
        if a > t {
            out.push((t, a, String::new()));
        }
        out.push((a, b, text));
        t = b;
    }
    if t < end_ms || out.is_empty() {
        out.push((t, end_ms.max(t + 1), String::new()));
    }
    out
}

/// Points in strictly increasing order.
fn increasing(mut points: Vec<(u64, String)>) -> Vec<(u64, String)> {
    points.sort_by_key(|p| p.0);
    let mut last: Option<u64> = None;
    for p in &mut points {
        if let Some(l) = last {
            p.0 = p.0.max(l + 1);
        }
        last = Some(p.0);
    }
    points
}

/// Renders the TextGrid.
pub fn render(model: &SessionModel) -> String {
    let spans = spans(model);
    let mut end_ms = duration_ms(model).max(1);
    let mut tiers = Vec::new();
    for who in tier_speakers(model) {
        let mine: Vec<(u64, u64, String)> = spans
            .iter()
            .filter(|s| s.speaker == who)
            .map(|s| (s.start_ms, s.end_ms, who.as_str().to_string()))
            .collect();
        let mine = without_overlaps(mine);
        if let Some(last) = mine.last() {
            end_ms = end_ms.max(last.1);
        }
        tiers.push((who.as_str().to_string(), mine));
    }
    let markers = increasing(
        model
            .markers
            .iter()
            .map(|m| (ms_of(m.t_s), marker_label(&m.code, &m.note)))
            .collect(),
    );
    let mut onsets = Vec::new();
    for s in &model.segments {
        if let Some(track) = model.tracks.get(s.track) {
            for t in track.onsets_in(s.vocalisation.start, s.vocalisation.end) {
                onsets.push((ms_of(t.secs()), s.speaker.as_str().to_string()));
            }
        }
    }
    let onsets = increasing(onsets);
    for p in markers.iter().chain(&onsets) {
        end_ms = end_ms.max(p.0);
    }
    let mut all: Vec<Tier> = tiers
        .into_iter()
        .map(|(name, labelled)| Tier::Intervals(name, tile(labelled, end_ms)))
        .collect();
    all.push(Tier::Points("markers".into(), markers));
    all.push(Tier::Points("onsets".into(), onsets));

    let xmax = secs_text(end_ms);
    let mut x = String::with_capacity(8192);
    x.push_str("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n");
    let _ = writeln!(x, "xmin = 0 \nxmax = {xmax} \ntiers? <exists> ");
    let _ = writeln!(x, "size = {} \nitem []: ", all.len());
    for (i, tier) in all.iter().enumerate() {
        let _ = writeln!(x, "    item [{}]:", i + 1);
        match tier {
            Tier::Intervals(name, intervals) => {
                let _ = writeln!(
                    x,
                    "        class = \"IntervalTier\" \n        name = {} \n        xmin = 0 \n        xmax = {xmax} \n        intervals: size = {} ",
                    quoted(name),
                    intervals.len()
                );
                for (k, (a, b, text)) in intervals.iter().enumerate() {
                    let _ = writeln!(
                        x,
                        "        intervals [{}]:\n            xmin = {} \n            xmax = {} \n            text = {} ",
                        k + 1,
                        secs_text(*a),
                        secs_text(*b),
                        quoted(text)
                    );
                }
            }
            Tier::Points(name, points) => {
                let _ = writeln!(
                    x,
                    "        class = \"TextTier\" \n        name = {} \n        xmin = 0 \n        xmax = {xmax} \n        points: size = {} ",
                    quoted(name),
                    points.len()
                );
                for (k, (t, mark)) in points.iter().enumerate() {
                    let _ = writeln!(
                        x,
                        "        points [{}]:\n            number = {} \n            mark = {} ",
                        k + 1,
                        secs_text(*t),
                        quoted(mark)
                    );
                }
            }
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_textgrid_intervals_tile_the_tier() {
        let t = tile(vec![(100, 200, "a".into()), (200, 300, "b".into())], 500);
        assert_eq!(
            t.iter().map(|i| (i.0, i.1)).collect::<Vec<_>>(),
            vec![(0, 100), (100, 200), (200, 300), (300, 500)]
        );
        assert_eq!(tile(Vec::new(), 0), vec![(0, 1, String::new())]);
        assert_eq!(quoted("say \"a\""), "\"say \"\"a\"\"\"");
        let p = increasing(vec![(5, "x".into()), (5, "y".into()), (2, "z".into())]);
        assert_eq!(p.iter().map(|p| p.0).collect::<Vec<_>>(), vec![2, 5, 6]);
    }
}
