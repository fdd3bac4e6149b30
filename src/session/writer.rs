//! The "session-writer" thread: records a live session as it happens into its own folder.
//!
//! ```text
//! DIR/RECORDING           present while the session is being recorded (the pid and the
//!                         start): a folder that still holds it after its process is gone
//!                         was interrupted, and `session::recovery` repairs it
//! DIR/audio.wav           the audio as captured (mono, 16-bit PCM at the device rate); its
//!                         header is rewritten every second so the file is always valid; a new
//!                         part (audio.part2.wav, ...) starts when the rate changes or before a
//!                         part would pass `max_part_bytes` (2 GiB: sessions of any length)
//! DIR/events.jsonl        one JSON object per line: every analysis event, device status and
//!                         gap, flushed every second
//! DIR/session.json        participant pseudonym, date, device, settings, app version; at the
//!                         end also the session's live statistics (latency, drops)
//! DIR/session.*.csv, session.summary.json   the same analysis files `attune analyze` writes
//! ```
//! Every second the WAV header is rewritten and the audio and the event log are flushed and
//! `sync_data`ed, so a killed process or a power loss loses about one second at most.
//! A failing write (a full disk) stops the recording cleanly: what was written stays, the error
//! is reported once, and the rest of the pipeline carries on.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde::Serialize;

use crate::audio::decode::AudioInfo;
use crate::audio::InputStatus;
use crate::config::AnalysisConfig;
use crate::dsp::resample::InputStats;
use crate::events::Event;
use crate::output::{create_new_private, write_new_atomic, AnalysisWriter, InputDescription};
use crate::session::claim::{claim_io, ClaimError, SessionClaim, SessionFolder};
use crate::session::folder::{part_name, ANALYSIS_NAME, EVENTS_FILE, MARKER_FILE, SESSION_FILE};
use crate::session::log::LogLine;
use crate::session::recovery;
use crate::time::SampleTime;

/// How often the WAV header and the event log are flushed to disk (and synced).
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// A WAV part is closed and the next begun before it would grow past this (2 GiB; a RIFF
/// file cannot pass 4 GiB).
pub const DEFAULT_MAX_PART_BYTES: u64 = 2 << 30;
/// The smallest part size accepted (tests force rollover with tiny parts).
pub const MIN_PART_BYTES: u64 = 1024;
/// The largest part size accepted: the RIFF size fields are 32 bits.
pub const MAX_PART_BYTES: u64 = u32::MAX as u64 - 1024;
/// The header hound writes for mono 16-bit PCM (RIFF, fmt, data chunk headers).
const WAV_HEADER_BYTES: u64 = 44;
/// Bytes per mono 16-bit frame.
const FRAME_BYTES: u64 = 2;

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
    /// Vocalisations are attributed live: `session.segments.csv` gets the `Segment` rows, not
    /// the unattributed rows of the `Vocalisation` events.
    DeferSegments,
    /// Who made a vocalisation (live voice attribution), a moment after its event.
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

/// Claims the session folder ([`SessionClaim`]: a new folder, or an empty one, locked by this
/// recorder), then writes `session.json` and the `RECORDING` marker, both created new (nothing
/// is replaced). Called on the thread that starts the pipeline, before the writer thread
/// starts, so that a bad or busy folder is refused at once, before anything is written; the
/// claim is then handed to [`run_writer`], which holds it until the recording ends. When
/// writing fails after the claim, what was created is removed again.
pub fn create_session_dir(
    folder: &SessionFolder,
    info: &SessionInfo,
) -> Result<SessionClaim, ClaimError> {
    let claim = SessionClaim::claim(folder, &info.participant)?;
    let dir = claim.dir().to_path_buf();
    let session_path = dir.join(SESSION_FILE);
    let fail = |claim: SessionClaim, e: ClaimError| {
        claim.abandon();
        Err(e)
    };
    let mut bytes = match serde_json::to_vec_pretty(info) {
        Ok(b) => b,
        Err(e) => return fail(claim, claim_io(&session_path, io::Error::other(e))),
    };
    bytes.push(b'\n');
    if let Err(e) = write_new_atomic(&session_path, &bytes) {
        return fail(claim, claim_io(&session_path, e));
    }
    if let Err(e) = recovery::write_marker(&dir, &info.started_utc) {
        let _ = std::fs::remove_file(&session_path);
        if e.kind() != io::ErrorKind::AlreadyExists {
            recovery::remove_marker(&dir);
        }
        return fail(claim, claim_io(&dir.join(MARKER_FILE), e));
    }
    sync_dir(&dir);
    Ok(claim)
}

/// Makes the folder's entries (new files, renames, removals) durable; best effort.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `value` as pretty JSON to `path` atomically (temporary name, then rename).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    crate::output::write_atomic(path, &bytes)
}

/// The WAV part being written.
struct WavPart {
    writer: hound::WavWriter<BufWriter<File>>,
    /// A second handle on the same file, to `sync_data` it (hound owns the first).
    file: File,
    rate_hz: u32,
    /// Audio bytes in this part (after its header).
    data_bytes: u64,
}

struct Recorder {
    dir: PathBuf,
    wav: Option<WavPart>,
    wav_parts: u32,
    max_part_bytes: u64,
    events: BufWriter<File>,
    analysis: Option<AnalysisWriter>,
    audio_samples: u64,
    audio_secs: f64,
    /// The recorded samples' clipping and peak, for the summary.
    input: InputStats,
    events_written: u64,
}

impl Recorder {
    fn new(dir: &Path, config: &AnalysisConfig, max_part_bytes: u64) -> io::Result<Self> {
        Ok(Self {
            dir: dir.to_path_buf(),
            wav: None,
            wav_parts: 0,
            max_part_bytes: max_part_bytes.clamp(MIN_PART_BYTES, MAX_PART_BYTES),
            events: BufWriter::with_capacity(
                64 * 1024,
                create_new_private(&dir.join(EVENTS_FILE))?,
            ),
            analysis: Some(AnalysisWriter::create(dir, ANALYSIS_NAME, config)?),
            audio_samples: 0,
            audio_secs: 0.0,
            input: InputStats::default(),
            events_written: 0,
        })
    }

    fn audio(&mut self, rate_hz: u32, samples: &[f32]) -> io::Result<()> {
        if self.wav.as_ref().is_some_and(|w| w.rate_hz != rate_hz) {
            // The device came back at another rate: the recording goes on in a new part.
            self.finish_wav()?;
        }
        let mut rest = samples;
        while !rest.is_empty() {
            if self.wav.is_none() {
                let part = self.new_part(rate_hz)?;
                self.wav = Some(part);
            }
            let Some(w) = self.wav.as_mut() else {
                return Err(io::Error::other("no WAV part open"));
            };
            let room_frames =
                (self.max_part_bytes - WAV_HEADER_BYTES).saturating_sub(w.data_bytes) / FRAME_BYTES;
            if room_frames == 0 {
                // This part is full: the recording goes on in the next one.
                self.finish_wav()?;
                continue;
            }
            let n = rest
                .len()
                .min(usize::try_from(room_frames).unwrap_or(usize::MAX));
            self.input.observe(&rest[..n]);
            for &x in &rest[..n] {
                let s = (x.clamp(-1.0, 1.0) * 32767.0).round() as i16;
                w.writer.write_sample(s).map_err(hound_io)?;
            }
            w.data_bytes += n as u64 * FRAME_BYTES;
            rest = &rest[n..];
        }
        self.audio_samples += samples.len() as u64;
        self.audio_secs += samples.len() as f64 / f64::from(rate_hz);
        Ok(())
    }

    /// Opens the next part: `audio.wav`, then `audio.part2.wav`, `audio.part3.wav`...
    fn new_part(&mut self, rate_hz: u32) -> io::Result<WavPart> {
        self.wav_parts += 1;
        let name = part_name(self.wav_parts);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate_hz,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let file = create_new_private(&self.dir.join(name))?;
        let sync_handle = file.try_clone()?;
        let writer = hound::WavWriter::new(BufWriter::new(file), spec).map_err(hound_io)?;
        sync_dir(&self.dir);
        Ok(WavPart {
            writer,
            file: sync_handle,
            rate_hz,
            data_bytes: 0,
        })
    }

    /// Finalises the current part (header, flush, sync).
    fn finish_wav(&mut self) -> io::Result<()> {
        if let Some(w) = self.wav.take() {
            w.writer.finalize().map_err(hound_io)?;
            w.file.sync_all()?;
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
            Some(a) => a.write_segment(v, speaker),
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

    /// Makes everything written so far durable (on disk, not only in the page cache) and the
    /// WAV header valid.
    fn flush(&mut self) -> io::Result<()> {
        if let Some(w) = &mut self.wav {
            w.writer.flush().map_err(hound_io)?;
            w.file.sync_data()?;
        }
        self.events.flush()?;
        self.events.get_ref().sync_data()
    }

    /// Removes what this recorder created (nothing was recorded); the claim removes the folder.
    fn discard(mut self) {
        if let Some(a) = self.analysis.take() {
            a.discard();
        }
        let _ = std::fs::remove_file(self.dir.join(EVENTS_FILE));
        let _ = std::fs::remove_file(self.dir.join(SESSION_FILE));
        recovery::remove_marker(&self.dir);
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
                announced_secs: None,
            };
            let desc = InputDescription {
                path: input.to_string(),
                audio: info,
                channel: "live".into(),
            };
            a.finish(desc, config, &self.input, 0)?;
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

/// How the writer records.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    pub dir: PathBuf,
    /// The input's description (the `path` of `session.summary.json`).
    pub input_name: String,
    pub config: AnalysisConfig,
    /// Remove the folder again when no audio came (the window on the demo).
    pub discard_if_empty: bool,
    /// A WAV part is closed before it would pass this size (bytes).
    pub max_part_bytes: u64,
}

/// Runs the writer until the channel closes, holding the folder's claim (its lock) until the
/// recording ends. "session-writer" thread.
pub fn run_writer(
    options: WriterOptions,
    claim: SessionClaim,
    messages: Receiver<WriterMsg>,
    on_error: impl Fn(String),
) -> WriterOutcome {
    let WriterOptions {
        dir,
        input_name,
        config,
        discard_if_empty,
        max_part_bytes,
    } = options;
    let mut outcome = WriterOutcome {
        dir: dir.clone(),
        ..WriterOutcome::default()
    };
    let mut recorder = match Recorder::new(&dir, &config, max_part_bytes) {
        Ok(r) => Some(r),
        Err(e) => {
            let msg = format!("cannot record into {}: {e}", dir.display());
            on_error(msg.clone());
            outcome.error = Some(msg);
            // Nothing will be recorded, so there is nothing to recover either.
            recovery::remove_marker(&dir);
            None
        }
    };
    let mut last_flush = Instant::now();
    let mut rate_hz = 0u32;
    loop {
        // Wake in time for the next flush even when no message comes.
        let wait = FLUSH_INTERVAL
            .saturating_sub(last_flush.elapsed())
            .clamp(Duration::from_millis(1), FLUSH_INTERVAL / 4);
        let msg = match messages.recv_timeout(wait) {
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
            Some(WriterMsg::DeferSegments) => {
                if let Some(a) = &mut rec.analysis {
                    a.defer_segments();
                }
                Ok(())
            }
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
            let wav_final = rec.finish_wav().is_ok();
            if let Some(a) = rec.analysis.take() {
                a.discard(); // unfinished analysis files; frees space too
            }
            if wav_final {
                // What was written is final: nothing for a recovery to do.
                recovery::remove_marker(&dir);
            }
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
            // Removes the folder too when the claim made it and it is empty now.
            claim.abandon();
            return outcome;
        }
        outcome.audio_secs = rec.audio_secs;
        outcome.events_written = rec.events_written;
        match rec.finish(&input_name, &config, rate_hz.max(1)) {
            // A clean finish: the session is complete.
            Ok(()) => recovery::remove_marker(&dir),
            Err(e) => {
                // The marker stays: the next start repairs what this run could not finish.
                let msg = format!("cannot finish the recording in {}: {e}", dir.display());
                on_error(msg.clone());
                outcome.error = Some(msg);
            }
        }
    }
    if dir.join(MARKER_FILE).exists() {
        // Left for the repair (which removes the lock file too); the lock goes with `claim`.
        drop(claim);
    } else {
        claim.finish();
    }
    outcome
}
