//! Recordings played in real time as if they were a microphone: the bundled demo session (when
//! there is no microphone, or with `--demo`) or any audio file (`--play FILE`). The player fills
//! the same rings as the capture callback, so everything after it is the live pipeline.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::capture::{source_rings, SourceOutput};
use super::decode::{ChannelSelect, DecodeError, Decoder};

/// The bundled demo session (synthesised by `assets/make_demo.py`; ground truth beside it).
pub static DEMO_SESSION_WAV: &[u8] = include_bytes!("../../assets/demo_session.wav");

/// Samples per push: 5 ms, the buffer size the capture asks devices for.
const BLOCK_SECS: f64 = 0.005;
/// Silence between two passes of a looped recording.
const LOOP_GAP_SECS: f64 = 3.0;

/// A whole recording in memory, mono at its own rate.
#[derive(Clone)]
pub struct Recording {
    pub samples: Arc<[f32]>,
    pub rate_hz: u32,
    pub name: String,
}

impl Recording {
    /// The bundled demo session.
    pub fn demo() -> Result<Self, DecodeError> {
        let decoder = Decoder::from_bytes(
            DEMO_SESSION_WAV.to_vec(),
            Some("wav"),
            ChannelSelect::Downmix,
        )?;
        Self::read(decoder, "demo session".into())
    }

    /// Any audio file attune can decode.
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let decoder = Decoder::open(path, ChannelSelect::Downmix)?;
        let name = path
            .file_name()
            .map_or_else(|| "recording".into(), |n| n.to_string_lossy().into_owned());
        Self::read(decoder, name)
    }

    fn read(mut decoder: Decoder, name: String) -> Result<Self, DecodeError> {
        let rate_hz = decoder.info().sample_rate_hz;
        let mut samples = Vec::new();
        while let Some(block) = decoder.next_block()? {
            samples.extend_from_slice(block);
        }
        if samples.is_empty() {
            return Err(DecodeError::Empty);
        }
        Ok(Self {
            samples: samples.into(),
            rate_hz,
            name,
        })
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate_hz)
    }
}

/// A running player thread.
pub struct Player {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Player {
    /// Starts playing `recording` in real time into a new pair of rings ("player" thread).
    /// With `looped` it starts again after a short silence; otherwise it ends with the
    /// recording and then delivers nothing, as a device would that fell silent. `speed` > 1
    /// plays faster than real time (soak tests of hours in minutes).
    pub fn start(
        recording: Recording,
        looped: bool,
        speed: f64,
    ) -> std::io::Result<(Self, SourceOutput)> {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        let (mut input, mut output) = source_rings(recording.rate_hz, recording.name.clone(), 1);
        output.playback = true;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("player".into())
            .spawn(move || {
                let rate = f64::from(recording.rate_hz);
                let block_len = (rate * BLOCK_SECS).round().max(1.0) as usize;
                let block_dur = Duration::from_secs_f64(block_len as f64 / rate / speed);
                let gap = vec![0.0f32; block_len];
                let gap_blocks = (LOOP_GAP_SECS / BLOCK_SECS) as usize;
                let started = Instant::now();
                let mut pushed_blocks: u32 = 0;
                let mut pos = 0usize;
                let mut gap_left = 0usize;
                while !stop_flag.load(Ordering::Relaxed) {
                    // Deliver each block when its last sample "has been heard".
                    let due = started + block_dur * (pushed_blocks + 1);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let captured_at = Instant::now().checked_sub(block_dur).unwrap_or(started);
                    if gap_left > 0 {
                        input.push_mono(&gap, captured_at);
                        gap_left -= 1;
                    } else if pos < recording.samples.len() {
                        let end = (pos + block_len).min(recording.samples.len());
                        input.push_mono(&recording.samples[pos..end], captured_at);
                        pos = end;
                        if pos == recording.samples.len() && looped {
                            pos = 0;
                            gap_left = gap_blocks;
                        }
                    } else {
                        // Played to the end: silence from now on, like a quiet room.
                        break;
                    }
                    pushed_blocks = pushed_blocks.wrapping_add(1);
                }
            })?;
        Ok((
            Self {
                stop,
                thread: Some(thread),
            },
            output,
        ))
    }
}

impl Player {
    /// Whether a recording that does not loop has played to its end.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_session_is_bundled() {
        let demo = Recording::demo().expect("demo decodes");
        assert_eq!(demo.rate_hz, 16_000);
        assert!((demo.duration_secs() - 40.5).abs() < 0.01);
    }
}
