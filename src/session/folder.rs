//! A session folder, the one place that knows its layout: the name of every file in it, the
//! WAV parts and their order, and where sessions are kept. The writer, recovery, the session
//! model, the Sessions screen and `attune live --headless` all ask here.
//!
//! ```text
//! DATE-PSEUDONYM/            0700
//!   session.json             who and when, the settings (written when the folder is made)
//!   audio.wav                the recording, 16-bit mono; audio.part2.wav, audio.part3.wav...
//!                            follow it on a rate change or before 2 GiB
//!   events.jsonl             every analysis event and the practitioner's lines, one a line
//!   RECORDING                while it is being recorded: the process (removed at a clean end)
//!   .lock                    made first, locked by the recorder for the whole recording (its
//!                            pid; removed at a clean end): see session::claim
//!   session.f0.csv ...       the files of `attune analyze` (name "session")
//!   partner-voice.wav        the partner's voice enrolment, when one was used
//!   review.json              a reviewer's corrections
//!   live.summary.json        what a headless run measured
//! ```
//!
//! Any thread.

use std::path::{Path, PathBuf};

/// The metadata of a session.
pub const SESSION_FILE: &str = "session.json";
/// The event log.
pub const EVENTS_FILE: &str = "events.jsonl";
/// The marker file of a session being recorded.
pub const MARKER_FILE: &str = "RECORDING";
/// The lock file a recorder holds while it records (`session::claim`).
pub const LOCK_FILE: &str = ".lock";
/// A reviewer's corrections.
pub const REVIEW_FILE: &str = "review.json";
/// An enrolment clip of the partner's voice kept with the session.
pub const PARTNER_VOICE_FILE: &str = "partner-voice.wav";
/// What `attune live --headless` measured.
pub const LIVE_SUMMARY_FILE: &str = "live.summary.json";
/// The name the analyze files of a session folder carry (`session.f0.csv`...).
pub const ANALYSIS_NAME: &str = "session";
/// The first WAV part.
const FIRST_PART: &str = "audio.wav";

/// The file name of WAV part `n` (counted from 1): `audio.wav`, `audio.part2.wav`...
pub fn part_name(n: u32) -> String {
    if n <= 1 {
        FIRST_PART.to_string()
    } else {
        format!("audio.part{n}.wav")
    }
}

/// The part number of a file name, if it is a WAV part.
fn part_number(name: &str) -> Option<u32> {
    if name == FIRST_PART {
        return Some(1);
    }
    name.strip_prefix("audio.part")
        .and_then(|r| r.strip_suffix(".wav"))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n >= 2)
}

/// The WAV parts of a session folder in recording order (an unreadable folder is an error).
pub fn wav_parts(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut parts: Vec<(u32, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(n) = name.to_str().and_then(part_number) else {
            continue;
        };
        parts.push((n, entry.path()));
    }
    parts.sort();
    Ok(parts.into_iter().map(|(_, p)| p).collect())
}

/// Seconds of audio in a session folder's WAV parts, from their headers (0 when unreadable).
pub fn recorded_secs(dir: &Path) -> f64 {
    wav_parts(dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| hound::WavReader::open(p).ok())
        .map(|r| f64::from(r.duration()) / f64::from(r.spec().sample_rate.max(1)))
        .sum()
}

/// Whether `dir` is a session folder: it has its metadata or is being recorded.
pub fn is_session_dir(dir: &Path) -> bool {
    dir.join(SESSION_FILE).is_file() || dir.join(MARKER_FILE).is_file()
}

/// Where sessions are kept: `$ATTUNE_DATA_DIR/sessions`, else the user's data folder.
pub fn sessions_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("ATTUNE_DATA_DIR") {
        return Some(PathBuf::from(d).join("sessions"));
    }
    directories::ProjectDirs::from("", "", "attune").map(|d| d.data_dir().join("sessions"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_listed_in_recording_order_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in [
            "audio.part10.wav",
            "audio.wav",
            "audio.part2.wav",
            "audio.part1.wav",
            "audio.partx.wav",
            "audio.wav.partial",
            "partner-voice.wav",
        ] {
            std::fs::write(dir.path().join(name), b"").expect("write");
        }
        let names: Vec<String> = wav_parts(dir.path())
            .expect("list")
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, ["audio.wav", "audio.part2.wav", "audio.part10.wav"]);
        assert_eq!(part_name(1), "audio.wav");
        assert_eq!(part_name(3), "audio.part3.wav");
    }
}
