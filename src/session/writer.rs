//! The "session-writer" thread: records a live session as it happens into its own folder.
//!
//! ```text
//! DIR/audio.wav           the audio as captured (mono, 16-bit PCM at the device rate); its
//!                         header is rewritten every second so the file is always valid
//! DIR/events.jsonl        one JSON object per line: every analysis event, device status and
//!                         gap, flushed every second
//! DIR/session.json        participant pseudonym, date, device, settings, app version; at the
//!                         end also the session's live statistics (latency, drops)
//! DIR/session.*.csv, session.summary.json   the same analysis files `attune analyze` writes
//! ```
//! A failing write (a full disk) stops the recording cleanly: what was written stays, the error
//! is reported once, and the rest of the pipeline carries on.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde::Serialize;

use crate::audio::decode::AudioInfo;
use crate::config::AnalysisConfig;
use crate::events::Event;
use crate::live::InputStatus;
use crate::output::{create_private, AnalysisWriter, InputDescription};
use crate::session::log::LogLine;
use crate::time::SampleTime;

/// How often the WAV header and the event log are flushed to disk.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// What the writer is told, in session order.
#[derive(Debug)]
pub enum WriterMsg {
    /// Mono samples as captured at `rate_hz`.
    Audio {
        rate_hz: u32,
        samples: Vec<f32>,
    },
    Event(Event),
    Status {
        time: SampleTime,
        status: InputStatus,
    },
    /// A practitioner's line: a marker, the push-to-talk key, the wrap-up.
    Log(LogLine),
    /// Who made a vocalisation (live voice attribution); sent just before its event, and
    /// then written to `session.segments.csv` in place of the unattributed row.
    Segment {
        vocalisation: crate::events::Vocalisation,
        speaker: crate::analysis::speaker::Speaker,
    },
    /// The pipeline could not keep up and dropped this many messages to the writer.
    Gap {
        time: SampleTime,
        dropped_messages: u64,
    },
}

/// Who and what the session is about; written to `session.json`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    /// The participant's pseudonym (never a real name: the user chooses it).
    pub participant: String,
    /// The partner's (practitioner's) pseudonym or role.
    pub partner: String,
    /// Start, wall-clock time (UTC, RFC 3339): the only wall-clock time in a session.
    pub started_utc: String,
    pub input: String,
    pub settings: AnalysisConfig,
    pub tool: &'static str,
    pub version: &'static str,
}

/// What the writer reports when it ends.
#[derive(Debug, Clone, Default)]
pub struct WriterOutcome {
    pub dir: PathBuf,
    pub audio_secs: f64,
    pub events_written: u64,
    /// The first write error, when recording stopped early.
    pub error: Option<String>,
}

/// One line of `events.jsonl`.
#[derive(Serialize)]
struct EventLine<'a> {
    t_s: f64,
    #[serde(flatten)]
    event: &'a Event,
}

#[derive(Serialize)]
struct StatusLine<'a> {
    t_s: f64,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    status: &'a InputStatus,
}

#[derive(Serialize)]
struct GapLine {
    t_s: f64,
    #[serde(rename = "type")]
    kind: &'static str,
    dropped_messages: u64,
}

/// Creates the session folder (owner-only) and writes `session.json`. Called before the
/// thread starts so that a bad folder is reported at once.
pub fn create_session_dir(dir: &Path, info: &SessionInfo) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    write_json(&dir.join("session.json"), info)
}

/// Writes `value` as pretty JSON to `path` atomically (temporary name, then rename).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let tmp = path.with_extension("json.partial");
    let mut out = BufWriter::new(create_private(&tmp)?);
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::other)?;
    writeln!(out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

struct Recorder {
    dir: PathBuf,
    wav: Option<(hound::WavWriter<BufWriter<File>>, u32)>,
    wav_parts: u32,
    events: BufWriter<File>,
    analysis: Option<AnalysisWriter>,
    audio_samples: u64,
    audio_secs: f64,
    events_written: u64,
}

impl Recorder {
    fn new(dir: &Path, config: &AnalysisConfig) -> io::Result<Self> {
        Ok(Self {
            dir: dir.to_path_buf(),
            wav: None,
            wav_parts: 0,
            events: BufWriter::with_capacity(64 * 1024, create_private(&dir.join("events.jsonl"))?),
            analysis: Some(AnalysisWriter::create(dir, "session", config)?),
            audio_samples: 0,
            audio_secs: 0.0,
            events_written: 0,
        })
    }

    fn audio(&mut self, rate_hz: u32, samples: &[f32]) -> io::Result<()> {
        if self.wav.as_ref().is_some_and(|(_, r)| *r != rate_hz) {
            // The device came back at another rate: the recording goes on in a new part.
            self.finish_wav()?;
        }
        if self.wav.is_none() {
            self.wav_parts += 1;
            let name = if self.wav_parts == 1 {
                "audio.wav".to_string()
            } else {
                format!("audio.part{}.wav", self.wav_parts)
            };
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: rate_hz,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let file = BufWriter::new(create_private(&self.dir.join(name))?);
            let w = hound::WavWriter::new(file, spec).map_err(hound_io)?;
            self.wav = Some((w, rate_hz));
        }
        if let Some((w, _)) = &mut self.wav {
            for &x in samples {
                let s = (x.clamp(-1.0, 1.0) * 32767.0).round() as i16;
                w.write_sample(s).map_err(hound_io)?;
            }
        }
        self.audio_samples += samples.len() as u64;
        self.audio_secs += samples.len() as f64 / f64::from(rate_hz);
        Ok(())
    }

    fn finish_wav(&mut self) -> io::Result<()> {
        if let Some((w, _)) = self.wav.take() {
            w.finalize().map_err(hound_io)?;
        }
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let t_s = event.time().secs();
        serde_json::to_writer(&mut self.events, &EventLine { t_s, event })
            .map_err(io::Error::other)?;
        self.events.write_all(b"\n")?;
        self.events_written += 1;
        if let Some(a) = &mut self.analysis {
            a.write_events(std::slice::from_ref(event))?;
        }
        Ok(())
    }

    fn status(&mut self, time: SampleTime, status: &InputStatus) -> io::Result<()> {
        let line = StatusLine {
            t_s: time.secs(),
            kind: "input_status",
            status,
        };
        serde_json::to_writer(&mut self.events, &line).map_err(io::Error::other)?;
        self.events.write_all(b"\n")?;
        self.events_written += 1;
        Ok(())
    }

    fn segment(&mut self, v: &crate::events::Vocalisation, speaker: &str) -> io::Result<()> {
        match &mut self.analysis {
            Some(a) => {
                a.defer_segments();
                a.write_segment(v, speaker)
            }
            None => Ok(()),
        }
    }

    fn log(&mut self, line: &LogLine) -> io::Result<()> {
        serde_json::to_writer(&mut self.events, line).map_err(io::Error::other)?;
        self.events.write_all(b"\n")?;
        self.events_written += 1;
        Ok(())
    }

    fn gap(&mut self, time: SampleTime, dropped_messages: u64) -> io::Result<()> {
        let line = GapLine {
            t_s: time.secs(),
            kind: "gap",
            dropped_messages,
        };
        serde_json::to_writer(&mut self.events, &line).map_err(io::Error::other)?;
        self.events.write_all(b"\n")?;
        Ok(())
    }

    /// Makes everything written so far durable and the WAV header valid.
    fn flush(&mut self) -> io::Result<()> {
        if let Some((w, _)) = &mut self.wav {
            w.flush().map_err(hound_io)?;
        }
        self.events.flush()
    }

    /// Removes what this recorder created (nothing was recorded), and the folder if empty.
    fn discard(mut self) {
        if let Some(a) = self.analysis.take() {
            a.discard();
        }
        let _ = std::fs::remove_file(self.dir.join("events.jsonl"));
        let _ = std::fs::remove_file(self.dir.join("session.json"));
        let _ = std::fs::remove_dir(&self.dir);
    }

    fn finish(&mut self, input: &str, config: &AnalysisConfig, rate_hz: u32) -> io::Result<()> {
        self.finish_wav()?;
        self.events.flush()?;
        self.events.get_ref().sync_all()?;
        if let Some(a) = self.analysis.take() {
            let info = AudioInfo {
                sample_rate_hz: rate_hz,
                channels: 1,
                duration_secs: Some(self.audio_secs),
                codec: "live capture".into(),
                bits_per_sample: Some(16),
            };
            let desc = InputDescription {
                path: input.to_string(),
                audio: info,
                channel: "live".into(),
            };
            a.finish(desc, config, 0, 0)?;
        }
        Ok(())
    }
}

fn hound_io(e: hound::Error) -> io::Error {
    match e {
        hound::Error::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// Runs the writer until the channel closes. "session-writer" thread.
pub fn run_writer(
    dir: PathBuf,
    input_name: String,
    config: AnalysisConfig,
    messages: Receiver<WriterMsg>,
    discard_if_empty: bool,
    on_error: impl Fn(String),
) -> WriterOutcome {
    let mut outcome = WriterOutcome {
        dir: dir.clone(),
        ..WriterOutcome::default()
    };
    let mut recorder = match Recorder::new(&dir, &config) {
        Ok(r) => Some(r),
        Err(e) => {
            let msg = format!("cannot record into {}: {e}", dir.display());
            on_error(msg.clone());
            outcome.error = Some(msg);
            None
        }
    };
    let mut last_flush = Instant::now();
    let mut rate_hz = 0u32;
    loop {
        let msg = match messages.recv_timeout(FLUSH_INTERVAL / 4) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let Some(rec) = recorder.as_mut() else {
            continue; // keep draining so the pipeline never blocks
        };
        let result = match &msg {
            Some(WriterMsg::Audio {
                rate_hz: r,
                samples,
            }) => {
                rate_hz = *r;
                rec.audio(*r, samples)
            }
            Some(WriterMsg::Event(e)) => rec.event(e),
            Some(WriterMsg::Status { time, status }) => rec.status(*time, status),
            Some(WriterMsg::Log(line)) => rec.log(line),
            Some(WriterMsg::Segment {
                vocalisation,
                speaker,
            }) => rec.segment(vocalisation, speaker.as_str()),
            Some(WriterMsg::Gap {
                time,
                dropped_messages,
            }) => rec.gap(*time, *dropped_messages),
            None => Ok(()),
        };
        let result = result.and_then(|()| {
            if last_flush.elapsed() >= FLUSH_INTERVAL {
                last_flush = Instant::now();
                rec.flush()
            } else {
                Ok(())
            }
        });
        if let Err(e) = result {
            let msg = format!(
                "recording stopped: cannot write to {}: {e}; what was recorded until now is kept",
                dir.display()
            );
            // Keep what is there: a valid WAV header and the events written so far.
            let _ = rec.flush();
            let _ = rec.finish_wav();
            outcome.audio_secs = rec.audio_secs;
            outcome.events_written = rec.events_written;
            on_error(msg.clone());
            outcome.error = Some(msg);
            recorder = None;
        }
    }
    if let Some(mut rec) = recorder {
        if discard_if_empty && rec.audio_samples == 0 {
            rec.discard();
            return outcome;
        }
        outcome.audio_secs = rec.audio_secs;
        outcome.events_written = rec.events_written;
        if let Err(e) = rec.finish(&input_name, &config, rate_hz.max(1)) {
            let msg = format!("cannot finish the recording in {}: {e}", dir.display());
            on_error(msg.clone());
            outcome.error = Some(msg);
        }
    }
    outcome
}
