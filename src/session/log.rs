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
//! is skipped, never fatal.

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
}

/// Reads the practitioner's lines of an `events.jsonl`; analysis events and broken lines are
/// skipped. Any thread (the review loader).
pub fn read_log(path: &Path) -> io::Result<PractitionerLog> {
    let file = std::fs::File::open(path)?;
    let mut log = PractitionerLog::default();
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(t) = value.get("t_s").and_then(serde_json::Value::as_f64) {
            log.last_t_s = log.last_t_s.max(t);
        }
        match serde_json::from_value::<LogLine>(value) {
            Ok(LogLine::Marker { t_s, code, note }) => log.markers.push(Marker { t_s, code, note }),
            Ok(LogLine::PushToTalk { start_s, end_s, .. }) => log.push_to_talk.push(HeldInterval {
                start_secs: start_s,
                end_secs: end_s,
            }),
            Ok(LogLine::WrapUp {
                engagement,
                best_moment,
                ..
            }) => {
                log.wrap_up = Some(WrapUp {
                    engagement,
                    best_moment,
                })
            }
            Err(_) => {}
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
    }
}
