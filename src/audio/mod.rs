//! Audio input: decoding files, capture devices and the callback that fills the capture ring,
//! and recordings played in real time as if they were a microphone.

pub mod capture;
pub mod decode;
pub mod device;
pub mod output;
pub mod player;

use serde::Serialize;

/// What the input is doing. Shown in the window and logged in `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InputStatus {
    /// Capturing (or playing a recording in real time).
    Connected {
        name: String,
        rate_hz: u32,
        channels: usize,
        /// A recording played as if live, not a microphone.
        playback: bool,
    },
    /// The device stopped delivering (unplugged, Bluetooth dropped, stream error). What was
    /// recorded is kept; attune keeps trying to reconnect.
    Lost { name: String, reason: String },
    /// No usable device yet; attune keeps trying.
    Waiting { wanted: String, reason: String },
    /// A recording played to its end.
    Ended { name: String },
}
