//! The practitioner's lines of `events.jsonl`: observation markers, the push-to-talk key and
//! the wrap-up at the end of a session, and reading them back. Every line is one JSON object
//! with `t_s` (seconds on the session clock) and `type`:
//!
//! ```text
//! {"t_s":12.34,"type":"marker","code":"smile"}
//! {"t_s":20.5,"type":"marker","code":"best moment","note":"copied the glide"}
//! {"t_s":31.0,"type":"push_to_talk","start_s":29.8,"end_s":31.0}
//! {"t_s":600.0,"type":"wrap_up","engagement":4,"best_moment":"the long hum duet"}
//! ```
//!
//! Reading is tolerant: an unknown or broken line (the last line of a session killed mid-write)
//! is skipped, never fatal. The file can be edited by hand, so nothing in it is trusted: a
//! practitioner's line with a time that is not a time (not finite, negative, beyond
//! [`MAX_LOG_TIME_S`], a push-to-talk that ends before it starts) or longer than
//! [`MAX_LINE_BYTES`] is skipped and named in [`PractitionerLog::skipped`].

use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::speaker::HeldInterval;

/// The marker codes a new installation offers (keys 1–8 in the window).
pub const DEFAULT_MARKER_CODES: [&str; 8] = [
    "smile",
    "eye contact",
    "touch",
    "copied action",
    "new sound",
    "distress",
    "needs a rest",
    "best moment",
];

/// The latest time a line may name (s): a week, longer than any recording. The reader of a
/// session checks times against its recording's length as well.
pub const MAX_LOG_TIME_S: f64 = 7.0 * 24.0 * 3600.0;
/// The longest line read (bytes); a longer one is skipped without being held in memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Engagement levels of the wrap-up, 1 (low) to 5 (high).
pub const ENGAGEMENT_LEVELS: std::ops::RangeInclusive<u8> = 1..=5;

/// An observation logged during a session (or added in review).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// When, on the session clock (s).
    pub t_s: f64,
    /// One of the practitioner's codes ("smile", "eye contact", …).
    pub code: String,
    /// An optional free-text note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The few seconds' wrap-up at the end of a session.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WrapUp {
    /// Overall engagement, 1–5 (`None`: not given).
    pub engagement: Option<u8>,
    /// A note about the best moment.
    #[serde(default)]
    pub best_moment: String,
}

/// A line the practitioner's actions add to `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogLine {
    Marker {
        t_s: f64,
        code: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// The partner held the push-to-talk key over `[start_s, end_s]` (logged on release).
    PushToTalk { t_s: f64, start_s: f64, end_s: f64 },
    WrapUp {
        t_s: f64,
        engagement: Option<u8>,
        #[serde(default)]
        best_moment: String,
    },
}

impl LogLine {
    /// The time the line refers to (s).
    pub fn t_s(&self) -> f64 {
        match self {
            LogLine::Marker { t_s, .. }
            | LogLine::PushToTalk { t_s, .. }
            | LogLine::WrapUp { t_s, .. } => *t_s,
        }
    }
}

/// What a session's `events.jsonl` says the practitioner did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PractitionerLog {
    pub markers: Vec<Marker>,
    pub push_to_talk: Vec<HeldInterval>,
    pub wrap_up: Option<WrapUp>,
    /// The latest time any line mentions (s): how far the log reaches.
    pub last_t_s: f64,
    /// The practitioner's lines skipped as not valid: "line N: why".
    pub skipped: Vec<String>,
}

/// Whether `t` (s) can be a time on a session's clock.
pub fn is_log_time(t: f64) -> bool {
    t.is_finite() && (0.0..=MAX_LOG_TIME_S).contains(&t)
}

/// Why a practitioner's line cannot be used, if it cannot.
fn invalid(line: &LogLine) -> Option<String> {
    let t_s = line.t_s();
    if !is_log_time(t_s) {
        return Some(format!("t_s {t_s:?} is not a time on the session clock"));
    }
    if let LogLine::PushToTalk { start_s, end_s, .. } = line {
        if !(is_log_time(*start_s) && is_log_time(*end_s) && start_s <= end_s) {
            return Some(format!(
                "push_to_talk {start_s:?}-{end_s:?} s is not a time span"
            ));
        }
    }
    if let LogLine::WrapUp {
        engagement: Some(e),
        ..
    } = line
    {
        if !ENGAGEMENT_LEVELS.contains(e) {
            return Some(format!("engagement {e} is not 1-5"));
        }
    }
    None
}

/// Reads the next line of `reader` into `line` (without its newline), keeping at most
/// `MAX_LINE_BYTES`; returns `None` at the end, `Some(false)` for a line that was too long
/// (its rest is read past, not kept).
fn next_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<bool>> {
    line.clear();
    let mut fits = true;
    let mut any = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then_some(fits));
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if fits && line.len() + chunk.len() <= MAX_LINE_BYTES {
            line.extend_from_slice(chunk);
        } else {
            fits = false;
            line.clear();
        }
        let used = done.unwrap_or(buf.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(fits));
        }
    }
}

/// Reads the practitioner's lines of an `events.jsonl`; analysis events and broken lines are
/// skipped. Any thread (the review loader).
pub fn read_log(path: &Path) -> io::Result<PractitionerLog> {
    let mut reader = BufReader::new(std::fs::File::open(path)?);
    let mut log = PractitionerLog::default();
    let mut line = Vec::new();
    let mut number = 0usize;
    while let Some(fits) = next_line(&mut reader, &mut line)? {
        number += 1;
        if !fits {
            log.skipped
                .push(format!("line {number}: longer than {MAX_LINE_BYTES} bytes"));
            continue;
        }
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(t) = value
            .get("t_s")
            .and_then(serde_json::Value::as_f64)
            .filter(|&t| is_log_time(t))
        {
            log.last_t_s = log.last_t_s.max(t);
        }
        let Ok(entry) = serde_json::from_value::<LogLine>(value) else {
            // An analysis event, or a line of another kind.
            continue;
        };
        if let Some(why) = invalid(&entry) {
            log.skipped.push(format!("line {number}: {why}"));
            continue;
        }
        match entry {
            LogLine::Marker { t_s, code, note } => log.markers.push(Marker { t_s, code, note }),
            LogLine::PushToTalk { start_s, end_s, .. } => log.push_to_talk.push(HeldInterval {
                start_secs: start_s,
                end_secs: end_s,
            }),
            LogLine::WrapUp {
                engagement,
                best_moment,
                ..
            } => {
                log.wrap_up = Some(WrapUp {
                    engagement,
                    best_moment,
                })
            }
        }
    }
    log.markers.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_broken_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let lines = [
            LogLine::Marker {
                t_s: 2.0,
                code: "smile".into(),
                note: String::new(),
            },
            LogLine::PushToTalk {
                t_s: 4.0,
                start_s: 3.0,
                end_s: 4.0,
            },
            LogLine::WrapUp {
                t_s: 9.0,
                engagement: Some(4),
                best_moment: "the hum".into(),
            },
        ];
        let mut text = String::from("{\"t_s\":1.0,\"type\":\"onset\",\"time\":16000}\n");
        for l in &lines {
            text.push_str(&serde_json::to_string(l).unwrap());
            text.push('\n');
        }
        text.push_str("{\"t_s\":9.5,\"type\":\"mar"); // killed mid-line
        std::fs::write(&path, text).unwrap();
        let log = read_log(&path).unwrap();
        assert_eq!(log.markers.len(), 1);
        assert_eq!(log.markers[0].code, "smile");
        assert_eq!(log.push_to_talk.len(), 1);
        assert_eq!(log.wrap_up.as_ref().and_then(|w| w.engagement), Some(4));
        assert_eq!(log.last_t_s, 9.0);
        assert!(log.skipped.is_empty());
    }

    #[test]
    fn times_that_are_not_times_are_skipped_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let long_note = "x".repeat(MAX_LINE_BYTES + 10);
        let text = [
            r#"{"t_s":2.0,"type":"marker","code":"smile"}"#.to_string(),
            r#"{"t_s":1e300,"type":"marker","code":"smile"}"#.to_string(),
            r#"{"t_s":-4.0,"type":"marker","code":"touch"}"#.to_string(),
            r#"{"t_s":5.0,"type":"push_to_talk","start_s":5.0,"end_s":3.0}"#.to_string(),
            r#"{"t_s":6.0,"type":"wrap_up","engagement":9}"#.to_string(),
            format!(r#"{{"t_s":7.0,"type":"marker","code":"smile","note":"{long_note}"}}"#),
            r#"{"t_s":8.0,"type":"marker","code":"touch"}"#.to_string(),
        ]
        .join("\n");
        std::fs::write(&path, text).unwrap();
        let log = read_log(&path).unwrap();
        let times: Vec<f64> = log.markers.iter().map(|m| m.t_s).collect();
        assert_eq!(times, vec![2.0, 8.0]);
        assert!(log.push_to_talk.is_empty());
        assert_eq!(log.wrap_up, None);
        assert_eq!(log.last_t_s, 8.0);
        let lines: Vec<&str> = log
            .skipped
            .iter()
            .map(|s| s.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(lines, ["line 2", "line 3", "line 4", "line 5", "line 6"]);
    }
}
