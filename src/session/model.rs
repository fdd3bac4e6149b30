//! A session as review and export see it: the audio, who vocalised when, the turns with their
//! mirror scores, the practitioner's markers and wrap-up, with the reviewer's corrections
//! applied. Opens attune's own session folders and any audio file.
//!
//! Corrections are kept beside the recording, never inside it: `DIR/review.json` for a session
//! folder, `FILE.review.json` for an audio file. They hold the reviewed segment list and
//! markers in full; the automatic analysis is redone on every load and replaced by them. Every
//! measure (turns, latencies, mirroring, the summary) is recomputed from the corrected
//! segments, so exports always follow the correction.
//!
//! Loading runs on the thread that asks (the CLI's main thread, or the review window's loader
//! thread); it takes about one second per 10 minutes of audio.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::report::{attribute, measure_session, SessionReport, SpeakerMode, TurnRow};
use crate::analysis::speaker::{apply_push_to_talk, Calibration, HeldInterval, Segment, Speaker};
use crate::analysis::track::ChannelTrack;
use crate::audio::decode::ChannelSelect;
use crate::config::AnalysisConfig;
use crate::driver::files::{analyse_track, load_voice, EnrolError, FileError};
use crate::session::folder::{
    wav_parts, EVENTS_FILE, PARTNER_VOICE_FILE, REVIEW_FILE, SESSION_FILE,
};
use crate::session::log::{read_log, Marker, WrapUp};
use crate::session::writer::write_json;
use crate::time::SampleTime;

/// What was opened.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionSource {
    /// One of attune's session folders (`audio.wav`, `events.jsonl`, `session.json`).
    Folder(PathBuf),
    /// Any audio file.
    File(PathBuf),
}

/// Who and when, from `session.json` (absent for plain audio files).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    #[serde(default)]
    pub participant: Option<String>,
    #[serde(default)]
    pub partner: Option<String>,
    #[serde(default)]
    pub started_utc: Option<String>,
    #[serde(default)]
    pub input: Option<String>,
    /// The analysis settings the session was recorded with (the person's pitch range).
    #[serde(default)]
    pub settings: Option<AnalysisConfig>,
}

/// How to open a session.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// How speakers are told apart; `None`: the folder's enrolment clip if it has one, else
    /// two voices (A/B), named by the push-to-talk key when it was used.
    pub mode: Option<SpeakerMode>,
    /// The analysis settings. Left at the defaults, a session folder is analysed with the
    /// person's pitch range it was recorded with (`session.json`).
    pub config: AnalysisConfig,
}

/// A session could not be opened or saved.
#[derive(Debug, Error)]
pub enum SessionError {
    #[error("{}: no such file or folder", .0.display())]
    NotFound(PathBuf),
    #[error("{}: not an attune session folder (no audio.wav)", .0.display())]
    NoAudio(PathBuf),
    #[error("{}: {reason}", path.display())]
    Audio { path: PathBuf, reason: FileError },
    #[error(transparent)]
    Enrol(#[from] EnrolError),
    #[error("{}: the corrections cannot be read: {reason}", path.display())]
    Corrections { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    Io {
        path: PathBuf,
        reason: std::io::Error,
    },
}

/// How far past the recording's end (s) a time in a file a user can edit may fall (a marker
/// logged as the recording stopped).
const TIME_MARGIN_S: f64 = 1.0;
/// The largest `review.json` read (bytes): a day's recording reviewed in full is a few MB.
const MAX_REVIEW_BYTES: u64 = 64 * 1024 * 1024;

/// One reviewed segment as `review.json` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEdit {
    pub start_s: f64,
    pub end_s: f64,
    pub speaker: String,
    /// The track it is measured on (0: the user's microphone or the only one).
    #[serde(default)]
    pub track: usize,
}

/// `review.json`: the reviewed state of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Corrections {
    pub tool: String,
    pub version: String,
    pub segments: Vec<SegmentEdit>,
    pub markers: Vec<Marker>,
    #[serde(default)]
    pub wrap_up: Option<WrapUp>,
}

/// A session, ready to review and export.
#[derive(Debug, Clone)]
pub struct SessionModel {
    pub source: SessionSource,
    /// Base name for exported files (the folder's or the file's name).
    pub name: String,
    /// The audio, in clock order (a session folder may hold several parts).
    pub audio_files: Vec<PathBuf>,
    pub meta: SessionMeta,
    pub duration_secs: f64,
    pub config: AnalysisConfig,
    /// Per-channel analysis (frames every 10 ms, onsets, vocalisations).
    pub tracks: Vec<ChannelTrack>,
    /// "two_channels", "enrolment", "two_voices", "push_to_talk" or "none".
    pub attribution: String,
    pub calibration: Option<Calibration>,
    /// The vocalisations and who made them, sorted by start (corrections applied).
    pub segments: Vec<Segment>,
    /// LENA turns (chattr's flagged), with mirror scores; follow `segments`.
    pub turns: Vec<TurnRow>,
    pub report: SessionReport,
    pub markers: Vec<Marker>,
    pub wrap_up: Option<WrapUp>,
    pub push_to_talk: Vec<HeldInterval>,
    /// Where corrections are saved.
    pub review_path: PathBuf,
    /// What was skipped of the files a user can edit (`events.jsonl`, `review.json`) and why,
    /// "FILE: line N: why": shown in review and printed by export.
    pub notices: Vec<String>,
    /// Whether the segments or markers differ from what was recorded and analysed.
    pub corrected: bool,
}

/// How an error names a recording: its one audio file, or the folder of its WAV parts.
fn recording_name(path: &Path, audio_files: &[PathBuf]) -> PathBuf {
    match audio_files {
        [one] => one.clone(),
        _ => path.to_path_buf(),
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SessionError + '_ {
    move |reason| SessionError::Io {
        path: path.to_path_buf(),
        reason,
    }
}

impl SessionModel {
    /// Opens a session folder or an audio file, analyses it and applies the saved corrections.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self, SessionError> {
        if !path.exists() {
            return Err(SessionError::NotFound(path.to_path_buf()));
        }
        let mut notices = Vec::new();
        let (source, audio_files, meta, log, review_path) = if path.is_dir() {
            let files = wav_parts(path).map_err(io_err(path))?;
            if files.is_empty() {
                return Err(SessionError::NoAudio(path.to_path_buf()));
            }
            let meta = std::fs::read(path.join(SESSION_FILE))
                .ok()
                .and_then(|b| serde_json::from_slice::<SessionMeta>(&b).ok())
                .unwrap_or_default();
            let events = path.join(EVENTS_FILE);
            let log = if events.is_file() {
                let log = read_log(&events).map_err(io_err(&events))?;
                notices.extend(
                    log.skipped
                        .iter()
                        .map(|why| format!("{}: {why}, skipped", events.display())),
                );
                log
            } else {
                Default::default()
            };
            (
                SessionSource::Folder(path.to_path_buf()),
                files,
                meta,
                log,
                path.join(REVIEW_FILE),
            )
        } else {
            let mut review = path.as_os_str().to_owned();
            review.push(".review.json");
            (
                SessionSource::File(path.to_path_buf()),
                vec![path.to_path_buf()],
                SessionMeta::default(),
                Default::default(),
                PathBuf::from(review),
            )
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "session".into());
        let config = match &meta.settings {
            Some(recorded) if options.config == AnalysisConfig::default() => {
                let c = AnalysisConfig {
                    f0_min_hz: recorded.f0_min_hz,
                    f0_max_hz: recorded.f0_max_hz,
                    ..options.config.clone()
                };
                if c.validate().is_ok() {
                    c
                } else {
                    options.config.clone()
                }
            }
            _ => options.config.clone(),
        };
        let mode = match (&options.mode, &source) {
            (Some(m), _) => m.clone(),
            (None, SessionSource::Folder(dir)) if dir.join(PARTNER_VOICE_FILE).is_file() => {
                SpeakerMode::Voices {
                    partner: Some(Box::new(load_voice(
                        &dir.join(PARTNER_VOICE_FILE),
                        &config,
                    )?)),
                    user: None,
                }
            }
            (None, _) => SpeakerMode::Voices {
                partner: None,
                user: None,
            },
        };
        let channels: Vec<ChannelSelect> = match &mode {
            SpeakerMode::Channels { user, partner } => {
                vec![
                    ChannelSelect::Channel(*user),
                    ChannelSelect::Channel(*partner),
                ]
            }
            SpeakerMode::Voices { .. } => vec![ChannelSelect::Downmix],
        };
        let with_voice = matches!(mode, SpeakerMode::Voices { .. });
        // Every channel through the driver across the WAV parts, as `attune analyze` reads
        // them: one session clock.
        let mut tracks = Vec::new();
        let mut duration_secs = 0.0;
        for (c, channel) in channels.iter().enumerate() {
            let t = analyse_track(
                &audio_files,
                *channel,
                &config,
                with_voice && c == 0,
                &mut |_| Ok(()),
            )
            .map_err(|reason| SessionError::Audio {
                path: recording_name(path, &audio_files),
                reason,
            })?;
            duration_secs = t.decoded.duration_secs();
            tracks.push(t.track);
        }
        // The log's times must fall within the recording (a hand-edited file can say anything).
        let mut log = log;
        let latest_s = duration_secs + TIME_MARGIN_S;
        let events_file = path.join(EVENTS_FILE);
        let events_name = events_file.display();
        log.markers.retain(|m| {
            let keep = m.t_s <= latest_s;
            if !keep {
                notices.push(format!(
                    "{events_name}: a marker at {:?} s is after the recording's end ({duration_secs:.1} s), skipped",
                    m.t_s
                ));
            }
            keep
        });
        log.push_to_talk.retain(|h| {
            let keep = h.end_secs <= latest_s;
            if !keep {
                notices.push(format!(
                    "{events_name}: a push-to-talk at {:?}-{:?} s is after the recording's end ({duration_secs:.1} s), skipped",
                    h.start_secs, h.end_secs
                ));
            }
            keep
        });
        let a = attribute(&tracks, &mode);
        let mut segments = a.segments;
        let mut attribution = a.method.to_string();
        if !log.push_to_talk.is_empty() {
            apply_push_to_talk(&mut segments, &log.push_to_talk, false);
            if attribution == "two_voices" {
                attribution = "push_to_talk".into();
            }
        }
        let mut model = Self {
            source,
            name,
            audio_files,
            meta,
            duration_secs,
            config,
            tracks,
            attribution,
            calibration: a.calibration,
            segments,
            turns: Vec::new(),
            report: measure_session(&[], &[], "none", None, duration_secs).1,
            markers: log.markers,
            wrap_up: log.wrap_up,
            push_to_talk: log.push_to_talk,
            review_path,
            notices,
            corrected: false,
        };
        if model.review_path.is_file() {
            model.apply_corrections()?;
        }
        model.remeasure();
        Ok(model)
    }

    fn apply_corrections(&mut self) -> Result<(), SessionError> {
        let bad = |reason: String| SessionError::Corrections {
            path: self.review_path.clone(),
            reason,
        };
        let size = std::fs::metadata(&self.review_path)
            .map_err(|e| bad(e.to_string()))?
            .len();
        if size > MAX_REVIEW_BYTES {
            return Err(bad(format!(
                "{size} bytes, more than any review of a recording ({MAX_REVIEW_BYTES})"
            )));
        }
        let bytes = std::fs::read(&self.review_path).map_err(|e| bad(e.to_string()))?;
        let c: Corrections = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let file = self.review_path.display().to_string();
        let latest_s = self.duration_secs + TIME_MARGIN_S;
        let is_time = |t: f64| t.is_finite() && (0.0..=latest_s).contains(&t);
        let mut segments = Vec::with_capacity(c.segments.len());
        for (n, e) in c.segments.iter().enumerate() {
            let speaker = Speaker::parse(&e.speaker)
                .ok_or_else(|| bad(format!("unknown speaker {:?}", e.speaker)))?;
            // A span that starts within the recording (its end is cut at the recording's).
            if !(is_time(e.start_s)
                && is_time(e.end_s)
                && e.start_s < e.end_s
                && e.start_s < self.duration_secs)
            {
                self.notices.push(format!(
                    "{file}: segment {} ({:?}-{:?} s) is not a time span within the recording ({:.1} s), skipped",
                    n + 1,
                    e.start_s,
                    e.end_s,
                    self.duration_secs
                ));
                continue;
            }
            segments.push(self.segment(
                e.track,
                e.start_s,
                e.end_s.min(self.duration_secs),
                speaker,
            ));
        }
        let mut markers = Vec::with_capacity(c.markers.len());
        for (n, m) in c.markers.into_iter().enumerate() {
            if is_time(m.t_s) {
                markers.push(m);
            } else {
                self.notices.push(format!(
                    "{file}: marker {} at {:?} s is not a time within the recording ({:.1} s), skipped",
                    n + 1,
                    m.t_s,
                    self.duration_secs
                ));
            }
        }
        markers.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        self.segments = segments;
        self.markers = markers;
        self.wrap_up = c.wrap_up;
        self.corrected = true;
        Ok(())
    }

    /// A segment `[start_s, end_s)` of `track`, measured afresh.
    fn segment(&self, track: usize, start_s: f64, end_s: f64, speaker: Speaker) -> Segment {
        let track = track.min(self.tracks.len().saturating_sub(1));
        let (a, b) = (SampleTime::from_secs(start_s), SampleTime::from_secs(end_s));
        let vocalisation = match self.tracks.get(track) {
            Some(t) => t.summarise(a, b),
            None => crate::analysis::track::ChannelTrack::default().summarise(a, b),
        };
        Segment {
            vocalisation,
            speaker,
            track,
            margin: 0.0,
        }
    }

    /// Recomputes the turns, mirror scores and measures from the segments. Any thread.
    pub fn remeasure(&mut self) {
        self.segments
            .sort_by_key(|s| (s.vocalisation.start, s.vocalisation.end));
        let (turns, report) = measure_session(
            &self.tracks,
            &self.segments,
            &self.attribution,
            self.calibration,
            self.duration_secs,
        );
        self.turns = turns;
        self.report = report;
    }

    /// Relabels segment `i`.
    pub fn set_speaker(&mut self, i: usize, speaker: Speaker) {
        if let Some(s) = self.segments.get_mut(i) {
            if s.speaker != speaker {
                s.speaker = speaker;
                self.corrected = true;
                self.remeasure();
            }
        }
    }

    /// Moves the boundaries of segment `i` (clamped to the session; at least 20 ms long).
    /// Returns the segment's new index (the list stays sorted by start).
    pub fn set_bounds(&mut self, i: usize, start_s: f64, end_s: f64) -> Option<usize> {
        let old = *self.segments.get(i)?;
        let start_s = start_s.clamp(0.0, self.duration_secs);
        let end_s = end_s.clamp(start_s + 0.02, self.duration_secs.max(start_s + 0.02));
        let new = self.segment(old.track, start_s, end_s, old.speaker);
        self.segments[i] = new;
        self.corrected = true;
        self.remeasure();
        self.segments.iter().position(|s| *s == new)
    }

    /// Removes segment `i` (a false detection: a cough, a door).
    pub fn delete_segment(&mut self, i: usize) {
        if i < self.segments.len() {
            self.segments.remove(i);
            self.corrected = true;
            self.remeasure();
        }
    }

    /// Adds a marker; returns its index (markers stay sorted by time).
    pub fn add_marker(&mut self, marker: Marker) -> usize {
        let at = self.markers.partition_point(|m| m.t_s <= marker.t_s);
        self.markers.insert(at, marker);
        self.corrected = true;
        at
    }

    /// Replaces marker `i`; returns its new index.
    pub fn edit_marker(&mut self, i: usize, marker: Marker) -> Option<usize> {
        if i >= self.markers.len() {
            return None;
        }
        self.markers.remove(i);
        Some(self.add_marker(marker))
    }

    pub fn delete_marker(&mut self, i: usize) {
        if i < self.markers.len() {
            self.markers.remove(i);
            self.corrected = true;
        }
    }

    /// The reviewed state as `review.json` keeps it.
    pub fn corrections(&self) -> Corrections {
        Corrections {
            tool: "attune".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            segments: self
                .segments
                .iter()
                .map(|s| SegmentEdit {
                    start_s: s.vocalisation.start.secs(),
                    end_s: s.vocalisation.end.secs(),
                    speaker: s.speaker.as_str().into(),
                    track: s.track,
                })
                .collect(),
            markers: self.markers.clone(),
            wrap_up: self.wrap_up.clone(),
        }
    }

    /// Saves the corrections beside the recording (owner-only, atomically).
    pub fn save_corrections(&self) -> Result<(), SessionError> {
        write_json(&self.review_path, &self.corrections()).map_err(io_err(&self.review_path))
    }

    /// The voiced pitch of each segment's speaker: `(time_s, f0_hz, speaker)` for every voiced
    /// 10 ms frame inside a segment, in time order (frames outside any segment are left out).
    pub fn pitch_by_speaker(&self) -> Vec<(f64, f32, Speaker)> {
        let mut out = Vec::new();
        for s in &self.segments {
            let Some(track) = self.tracks.get(s.track) else {
                continue;
            };
            let a = crate::analysis::track::frame_of(s.vocalisation.start);
            let b = crate::analysis::track::frame_of(s.vocalisation.end);
            for (k, f) in track.frames_in(a, b).iter().enumerate() {
                if let Some(f0) = f.f0_hz {
                    out.push(((a + k) as f64 * crate::config::HOP_SECS, f0, s.speaker));
                }
            }
        }
        out.sort_by(|x, y| x.0.total_cmp(&y.0));
        out
    }

    /// The two people of the session, in display order (user/partner, or A/B).
    pub fn parties(&self) -> [Speaker; 2] {
        let utterances: Vec<crate::analysis::turns::Utterance> = self
            .segments
            .iter()
            .map(|s| crate::analysis::turns::Utterance {
                speaker: s.speaker,
                start_secs: s.vocalisation.start.secs(),
                end_secs: s.vocalisation.end.secs(),
            })
            .collect();
        crate::analysis::turns::parties(&utterances)
    }

    /// The session's audio as one mono stream at 16 kHz (the analysis clock), for the waveform
    /// and playback. About 230 MB an hour.
    pub fn read_audio_16k(&self) -> Result<Vec<f32>, SessionError> {
        crate::driver::files::read_16k(&self.audio_files).map_err(|reason| SessionError::Audio {
            path: match &self.source {
                SessionSource::Folder(p) | SessionSource::File(p) => {
                    recording_name(p, &self.audio_files)
                }
            },
            reason,
        })
    }
}
