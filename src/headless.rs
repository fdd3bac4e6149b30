//! `attune live --headless`: the live pipeline without a window. It first repairs any session
//! whose recording was interrupted (in the sessions folder, and beside `--session-dir`), then
//! records the session into `--session-dir` or a new folder under the sessions folder (audio,
//! events, the analysis files of `attune analyze`) and writes `live.summary.json` with what the
//! run measured (latency, drops). Main thread.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde::Serialize;

use crate::config::AnalysisConfig;
use crate::live::latency::LatencySummary;
use crate::live::{InputChoice, InputStatus, LiveMessage, LiveOptions, LivePipeline, RecordTo};
use crate::session::claim::SessionFolder;
use crate::session::folder::{sessions_dir, LIVE_SUMMARY_FILE};
use crate::session::recovery::recover_interrupted;
use crate::session::writer::write_json;

/// What a headless run is asked to do (from `attune live --headless`).
pub struct HeadlessOptions {
    /// How long to record (s).
    pub duration_secs: f64,
    /// The session folder; `None`: a new one under the sessions folder.
    pub session_dir: Option<PathBuf>,
    /// The participant's pseudonym.
    pub participant: String,
    /// The pipeline (input, analysis settings, voices); where it records is set here.
    pub live: LiveOptions,
    /// A WAV part is closed before it passes this many bytes.
    pub max_part_bytes: u64,
    /// The partner's enrolment clip, kept in the folder.
    pub partner_voice_clip: Option<PathBuf>,
}

/// `DIR/live.summary.json`.
#[derive(Debug, Serialize)]
struct LiveSummary {
    tool: &'static str,
    version: &'static str,
    input: String,
    #[serde(rename = "requested_s")]
    requested_secs: f64,
    #[serde(rename = "recorded_audio_s")]
    recorded_audio_secs: f64,
    /// From the capture time stamp of a sound to the pitch frame that holds it.
    latency_sound_to_pitch_ms: LatencySummary,
    /// How long after a sound its pitch frame can exist at all (frame half + lookahead).
    analysis_delay_ms: f64,
    pitch_frames: u64,
    dropped_input_frames: u64,
    dropped_ui_messages: u64,
    dropped_writer_messages: u64,
    input_events: Vec<String>,
    recording_error: Option<String>,
    /// Vocalisations labelled by voice as they ended (with --partner-voice).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    vocalisations_by_voice: std::collections::BTreeMap<String, u64>,
}

/// Records and analyses for the time asked, then writes `live.summary.json`. Main thread.
pub fn run(args: HeadlessOptions) -> anyhow::Result<ExitCode> {
    let duration = args.duration_secs;
    if !(duration.is_finite() && duration > 0.0) {
        bail!("--duration must be a positive number of seconds");
    }
    let speed = args.live.playback_speed;
    if !(speed.is_finite() && (0.1..=1000.0).contains(&speed)) {
        bail!("--speed must lie within 0.1-1000");
    }
    // Interrupted sessions are repaired before a new one starts.
    let sessions = sessions_dir();
    let mut roots: Vec<PathBuf> = sessions.iter().cloned().collect();
    if let Some(parent) = args.session_dir.as_deref().and_then(|d| d.parent()) {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if sessions.as_deref() != Some(parent) {
            roots.push(parent.to_path_buf());
        }
    }
    for root in &roots {
        for notice in recover_interrupted(root) {
            eprintln!("attune: {notice}");
        }
    }
    // The folder is claimed when the pipeline starts: a folder that is not new or empty, or
    // that another recorder holds, is refused there before anything is written.
    let folder = match (&args.session_dir, &sessions) {
        (Some(d), _) => SessionFolder::Given(d.clone()),
        (None, Some(base)) => SessionFolder::NewUnder(base.clone()),
        (None, None) => bail!("no data folder to record into: give --session-dir DIR"),
    };
    // The settings were checked by the caller, and again when the pipeline starts.
    let config = args.live.config.clone();
    let input = args.live.input.clone();
    let options = LiveOptions {
        demo_when_no_device: false,
        record: Some(RecordTo {
            folder,
            participant: args.participant.clone(),
            partner: "partner".into(),
            record_playback: true,
            discard_if_empty: false,
            max_part_bytes: args.max_part_bytes,
            partner_voice_clip: args.partner_voice_clip.clone(),
        }),
        ..args.live
    };
    let pipeline = LivePipeline::start(options, None)?;
    let Some(dir) = pipeline.session_dir().map(Path::to_path_buf) else {
        bail!("the pipeline started without a session folder");
    };
    let deadline = Instant::now() + Duration::from_secs_f64(duration);
    let mut input_events = Vec::new();
    let mut recording_error = None;
    let mut by_voice: std::collections::BTreeMap<String, u64> = Default::default();
    while Instant::now() < deadline {
        match pipeline.messages().recv_timeout(Duration::from_millis(50)) {
            Ok(LiveMessage::Status { time, status }) => {
                let line = describe(&status);
                eprintln!("attune: {:.1} s: {line}", time.secs());
                input_events.push(format!("{:.3} s: {line}", time.secs()));
            }
            Ok(LiveMessage::RecordingError(e)) => {
                eprintln!("attune: {e}");
                recording_error = Some(e);
            }
            Ok(LiveMessage::Speaker { speaker, .. }) => {
                *by_voice.entry(speaker.as_str().to_string()).or_insert(0) += 1;
            }
            Ok(LiveMessage::Event { .. } | LiveMessage::Enrolment { .. }) | Err(_) => {}
        }
    }
    let report = pipeline.stop();
    let recording = report.recording.clone().unwrap_or_default();
    if recording_error.is_none() {
        recording_error = recording.error.clone();
    }
    let summary = LiveSummary {
        tool: "attune",
        version: env!("CARGO_PKG_VERSION"),
        input: match &input {
            InputChoice::Device { name } => name.clone().unwrap_or_else(|| "default input".into()),
            InputChoice::Demo => "demo session".into(),
            InputChoice::File(p) => p.display().to_string(),
        },
        requested_secs: duration,
        recorded_audio_secs: (recording.audio_secs * 1000.0).round() / 1000.0,
        latency_sound_to_pitch_ms: report.latency,
        analysis_delay_ms: (analysis_delay_secs(&config) * 10_000.0).round() / 10.0,
        pitch_frames: report.frames_analysed,
        dropped_input_frames: report.dropped_frames,
        dropped_ui_messages: report.ui_dropped,
        dropped_writer_messages: report.writer_dropped,
        input_events,
        recording_error: recording_error.clone(),
        vocalisations_by_voice: by_voice,
    };
    let path: PathBuf = dir.join(LIVE_SUMMARY_FILE);
    if let Err(e) = write_json(&path, &summary) {
        eprintln!("attune: cannot write {}: {e}", path.display());
    }
    let l = report.latency;
    eprintln!(
        "attune: recorded {:.1} s into {}; sound -> pitch latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} frames); dropped {} input frames",
        recording.audio_secs,
        dir.display(),
        l.p50_ms,
        l.p95_ms,
        l.max_ms,
        l.count,
        report.dropped_frames
    );
    if recording_error.is_some() {
        return Ok(ExitCode::FAILURE);
    }
    if recording.audio_secs == 0.0 {
        eprintln!("attune: no audio was captured");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(status: &InputStatus) -> String {
    match status {
        InputStatus::Connected {
            name,
            rate_hz,
            channels,
            playback,
        } => format!(
            "{} {name} ({rate_hz} Hz, {channels} ch)",
            if *playback {
                "playing"
            } else {
                "capturing from"
            }
        ),
        InputStatus::Lost { name, reason } => format!("lost {name}: {reason}; reconnecting"),
        InputStatus::Waiting { wanted, reason } => format!("waiting for {wanted}: {reason}"),
        InputStatus::Ended { name } => format!("{name} ended"),
    }
}

/// The Analyzer's delay for these settings at the analysis rate.
fn analysis_delay_secs(config: &AnalysisConfig) -> f64 {
    crate::analysis::Analyzer::new(config, crate::config::ANALYSIS_RATE_HZ)
        .map(|a| a.delay_secs())
        .unwrap_or(0.0)
}
