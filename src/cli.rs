//! Command-line entry points. `attune analyze` runs one worker per input on a rayon pool and
//! shows a progress bar on the main thread's terminal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::analysis::report::SpeakerMode;
use crate::analysis::voice_model::VoiceModel;
use crate::app::settings::SettingsStore;
use crate::app::{run_window, AppOptions};
use crate::audio::capture::ChannelRoute;
use crate::audio::decode::ChannelSelect;
use crate::audio::device::list_inputs;
use crate::config::AnalysisConfig;
use crate::driver::files::load_voice;
use crate::export::{export_session, ExportError, Format};
use crate::live::{InputChoice, LiveOptions};
use crate::offline::{collect_jobs, write_corpus_summary, Batch, JobList};
use crate::session::folder::sessions_dir;
use crate::session::model::{LoadOptions, SessionError, SessionModel};

/// attune: pitch, rhythm and vocalisations for Intensive Interaction.
#[derive(Debug, Parser)]
#[command(name = "attune", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse recordings: pitch every 10 ms, vocal onsets, vocalisations, per-file summary.
    Analyze(AnalyzeArgs),
    /// Export a session (folder or audio file), with the reviewer's corrections, as CSV, ELAN,
    /// Praat, RTTM, chattr and Audacity files and an HTML report.
    Export(ExportArgs),
    /// Listen live: the companion window, or with --headless a recording without a window.
    Live(LiveArgs),
    /// List the audio input devices (names for --device).
    Devices,
    /// Review a recorded session (a session folder) or any audio file: timeline, playback,
    /// corrections, markers, exports.
    Review(ReviewArgs),
    /// Repair sessions whose recording was interrupted (killed, power loss): the sessions
    /// folders or session folders given, by default the sessions under the data folder.
    Recover(RecoverArgs),
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// A session folder (as the window records) or an audio file.
    pub session: PathBuf,
    #[command(flatten)]
    pub speakers: SpeakerArgs,
}

/// How the speakers of a recording are told apart (shared by analyze, review and export).
#[derive(Debug, Args, Clone, Default)]
pub struct SpeakerArgs {
    /// Two microphones: the channel (counted from 1) of the user's (the person's) microphone.
    /// Needs --partner-channel; vocalisations are attributed by which microphone hears them
    /// louder than the session's calibration says the other talker would.
    #[arg(
        long,
        value_parser = clap::value_parser!(u16).range(1..),
        requires = "partner_channel"
    )]
    pub user_channel: Option<u16>,
    /// Two microphones: the channel (counted from 1) of the partner's microphone.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..), requires = "user_channel")]
    pub partner_channel: Option<u16>,
    /// One microphone: an enrolment clip of the partner's voice (about 10 s alone); each
    /// vocalisation is labelled user or partner by voice.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user_channel", "partner_channel"])]
    pub partner_voice: Option<PathBuf>,
    /// One microphone: an enrolment clip of the user's voice (optional, helps).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user_channel", "partner_channel"])]
    pub user_voice: Option<PathBuf>,
    /// One microphone without enrolment: split the vocalisations into two voices, A and B.
    #[arg(long, conflicts_with_all = ["user_channel", "partner_channel", "partner_voice", "user_voice"])]
    pub two_voices: bool,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// Session folders, or folders holding sessions (default: the sessions folder).
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LiveArgs {
    /// No window: record and analyse for --duration seconds into --session-dir.
    #[arg(long)]
    pub headless: bool,
    /// How long a headless run records (s).
    #[arg(long, requires = "headless")]
    pub duration: Option<f64>,
    /// The session folder (default: a new folder DATE-PSEUDONYM under the sessions folder of
    /// the data folder).
    #[arg(long)]
    pub session_dir: Option<PathBuf>,
    /// Headless: close a WAV part and begin the next before it passes this many bytes (tests).
    #[arg(long, hide = true, requires = "headless", default_value_t = crate::session::writer::DEFAULT_MAX_PART_BYTES)]
    pub wav_part_bytes: u64,
    /// Input device by name (see `attune devices`); default: the system's default input.
    #[arg(long, conflicts_with_all = ["demo", "play"])]
    pub device: Option<String>,
    /// Play the bundled demo session in real time instead of listening to a microphone.
    #[arg(long, conflicts_with = "play")]
    pub demo: bool,
    /// Play an audio file in real time as if it were the microphone.
    #[arg(long, value_name = "FILE")]
    pub play: Option<PathBuf>,
    /// Analyse this input channel (counted from 1) instead of the mix of all channels.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub channel: Option<u16>,
    /// Headless: start the demo or --play recording again when it ends.
    #[arg(long = "loop", requires = "headless")]
    pub loop_playback: bool,
    /// Headless: play the demo or --play recording this many times faster than real time
    /// (soak tests: 3 hours in minutes).
    #[arg(long, default_value_t = 1.0, requires = "headless")]
    pub speed: f64,
    /// The participant's pseudonym, written to session.json (never a real name).
    #[arg(long, default_value = "participant")]
    pub participant: String,
    /// An enrolment clip of the partner's voice (about 10 s alone): each vocalisation is
    /// labelled the person's or the partner's by voice as it ends (one microphone).
    #[arg(long, value_name = "FILE")]
    pub partner_voice: Option<PathBuf>,
    /// An enrolment clip of the person's voice (optional, with --partner-voice; helps).
    #[arg(long, value_name = "FILE", requires = "partner_voice")]
    pub user_voice: Option<PathBuf>,
    /// Lowest pitch searched for (Hz).
    #[arg(long, default_value_t = AnalysisConfig::default().f0_min_hz)]
    pub f0_min: f64,
    /// Highest pitch searched for (Hz).
    #[arg(long, default_value_t = AnalysisConfig::default().f0_max_hz)]
    pub f0_max: f64,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// An attune session folder (audio.wav, events.jsonl, session.json) or any audio file.
    pub session: PathBuf,
    /// Formats, comma-separated: csv, eaf, textgrid, rttm, chattr, audacity, html (or all).
    #[arg(long, short, default_value = "all", value_name = "FORMATS")]
    pub format: String,
    /// Folder for the exports (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Lowest pitch searched for (Hz).
    #[arg(long, default_value_t = AnalysisConfig::default().f0_min_hz)]
    pub f0_min: f64,
    /// Highest pitch searched for (Hz).
    #[arg(long, default_value_t = AnalysisConfig::default().f0_max_hz)]
    pub f0_max: f64,
    /// Who is vocalising (default: the folder's partner-voice.wav enrolment if it has one,
    /// else two voices, named by the push-to-talk key when it was used).
    #[command(flatten)]
    pub speakers: SpeakerArgs,
    /// No closing line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Audio files or folders (WAV, FLAC, MP3, OGG, M4A/MP4).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Folder for the results (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Descend into sub-folders of folder inputs.
    #[arg(long, short)]
    pub recursive: bool,
    /// Files analysed at once (default: one per CPU core).
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Analyse this channel (counted from 1) instead of the mix of all channels.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..), conflicts_with = "user_channel")]
    pub channel: Option<u16>,
    /// Lowest pitch searched for (Hz).
    #[arg(long, default_value_t = AnalysisConfig::default().f0_min_hz)]
    pub f0_min: f64,
    /// Highest pitch searched for (Hz).
    #[arg(long, default_value_t = AnalysisConfig::default().f0_max_hz)]
    pub f0_max: f64,
    /// How far the pitch tracker looks ahead before deciding a frame (s). Longer is more
    /// robust; the live window uses 0.01 s.
    #[arg(long, default_value_t = AnalysisConfig::default().lookahead_secs)]
    pub lookahead: f64,
    /// Who is vocalising: two microphones, voice enrolment or two voices.
    #[command(flatten)]
    pub speakers: SpeakerArgs,
    /// No progress bar or closing line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Analyze(args)) => analyze(&args),
        Some(Command::Export(args)) => export(&args),
        Some(Command::Live(args)) if args.headless => headless(&args),
        Some(Command::Live(args)) => window(Some(&args)),
        Some(Command::Devices) => devices(),
        Some(Command::Review(args)) => review(&args),
        Some(Command::Recover(args)) => recover(&args),
        None => window(None),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("attune: {}", error_line(&e));
            ExitCode::from(2)
        }
    }
}

/// One line for an error and its causes, each cause said once: a message that already names
/// its cause (`cannot create … : No such file or directory`) is not followed by it again.
fn error_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// The input a `live` command asks for (`None`: the saved or default one).
pub fn live_input(args: &LiveArgs) -> Option<InputChoice> {
    if args.demo {
        Some(InputChoice::Demo)
    } else if let Some(p) = &args.play {
        Some(InputChoice::File(p.clone()))
    } else {
        args.device.as_ref().map(|d| InputChoice::Device {
            name: Some(d.clone()),
        })
    }
}

/// The channel route of a `live` command.
/// The voice models of `attune live --partner-voice/--user-voice` (main thread, before the
/// pipeline starts).
pub fn live_voices(
    args: &LiveArgs,
    config: &AnalysisConfig,
) -> anyhow::Result<Option<std::sync::Arc<crate::live::voices::VoiceModels>>> {
    let Some(p) = &args.partner_voice else {
        return Ok(None);
    };
    let partner = load_voice(p, config).context("cannot use the partner voice enrolment")?;
    let user = args
        .user_voice
        .as_deref()
        .map(|u| load_voice(u, config).context("cannot use the user voice enrolment"))
        .transpose()?;
    Ok(Some(std::sync::Arc::new(
        crate::live::voices::VoiceModels { partner, user },
    )))
}

pub fn live_route(args: &LiveArgs) -> ChannelRoute {
    args.channel.map_or(ChannelRoute::Downmix, |c| {
        ChannelRoute::Channel(usize::from(c) - 1)
    })
}

/// `attune live --headless`. Main thread.
fn headless(args: &LiveArgs) -> anyhow::Result<ExitCode> {
    let duration_secs = args.duration.context("--headless needs --duration SECS")?;
    let config = AnalysisConfig {
        f0_min_hz: args.f0_min,
        f0_max_hz: args.f0_max,
        ..AnalysisConfig::live()
    };
    config.validate().context("invalid settings")?;
    crate::headless::run(crate::headless::HeadlessOptions {
        duration_secs,
        session_dir: args.session_dir.clone(),
        participant: args.participant.clone(),
        live: LiveOptions {
            input: live_input(args).unwrap_or(InputChoice::Device { name: None }),
            route: live_route(args),
            voices: live_voices(args, &config)?,
            config,
            demo_when_no_device: false,
            loop_playback: args.loop_playback,
            playback_speed: args.speed,
            record: None,
        },
        max_part_bytes: args.wav_part_bytes,
        partner_voice_clip: args.partner_voice.clone(),
    })
}

/// `attune review`: the review window on one session. Main thread.
fn review(args: &ReviewArgs) -> anyhow::Result<ExitCode> {
    if !args.session.exists() {
        bail!("{}: no such file or folder", args.session.display());
    }
    let config = AnalysisConfig::default();
    let mode = speaker_mode(&args.speakers, &config)?;
    let options = crate::session::model::LoadOptions { mode, config };
    let codes = SettingsStore::user().load().marker_codes;
    crate::app::run_review_window(args.session.clone(), options, codes)?;
    Ok(ExitCode::SUCCESS)
}

fn window(args: Option<&LiveArgs>) -> anyhow::Result<ExitCode> {
    let options = AppOptions {
        store: SettingsStore::user(),
        input: args.and_then(live_input),
        route: args.map_or(ChannelRoute::Downmix, live_route),
        sessions_dir: args
            .and_then(|a| a.session_dir.clone())
            .or_else(sessions_dir),
        record_playback: false,
        voices: match args {
            Some(a) => live_voices(a, &AnalysisConfig::live())?,
            None => None,
        },
    };
    run_window(options)?;
    Ok(ExitCode::SUCCESS)
}

/// `attune recover [DIR]...`: repairs the interrupted sessions in each folder, one line per
/// session; exit code 1 when a repair failed or a folder holds no session. Main thread.
fn recover(args: &RecoverArgs) -> anyhow::Result<ExitCode> {
    use crate::session::claim::{lock_state, LockState};
    use crate::session::folder::is_session_dir;
    use crate::session::recovery::{self, find_interrupted, read_marker};
    let defaulted = args.dirs.is_empty();
    let dirs = if defaulted {
        vec![sessions_dir().context("no data folder: give the session folder")?]
    } else {
        args.dirs.clone()
    };
    let mut failed = false;
    for dir in &dirs {
        if !dir.is_dir() {
            if defaulted {
                println!("no sessions in {} yet", dir.display());
            } else {
                eprintln!("attune: {}: no such folder", dir.display());
                failed = true;
            }
            continue;
        }
        let found = find_interrupted(dir);
        if found.is_empty() {
            if let LockState::Held { pid } = lock_state(dir) {
                println!(
                    "{}: being recorded ({}); left alone",
                    dir.display(),
                    pid.map_or_else(|| "process unknown".to_string(), |p| format!("process {p}"))
                );
            } else if is_session_dir(dir) {
                match read_marker(dir).flatten() {
                    Some(m) => println!(
                        "{}: being recorded (process {}); left alone",
                        dir.display(),
                        m.pid
                    ),
                    None => println!("{}: complete, nothing to recover", dir.display()),
                }
            } else if defaulted || holds_sessions(dir) {
                println!("no interrupted sessions in {}", dir.display());
            } else {
                eprintln!(
                    "attune: {} is not a session folder (no session.json or RECORDING) and holds none",
                    dir.display()
                );
                failed = true;
            }
            continue;
        }
        for session in found {
            match recovery::repair(&session) {
                Ok(r) => println!(
                    "recovered {}: {} of audio in {} part(s), {} events kept, {} bytes dropped",
                    session.display(),
                    crate::time::clock(r.audio_secs),
                    r.audio_parts,
                    r.events_kept,
                    r.bytes_dropped
                ),
                Err(e) => {
                    let left = if e.left_as_it_was() {
                        "; it is left as it was"
                    } else {
                        ""
                    };
                    eprintln!("attune: cannot recover {}: {e}{left}", session.display());
                    failed = true;
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether a sub-folder of `dir` is a session folder.
fn holds_sessions(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| crate::session::folder::is_session_dir(&e.path()))
    })
}

fn devices() -> anyhow::Result<ExitCode> {
    let list = list_inputs();
    if list.is_empty() {
        println!("No input devices found. `attune live --demo` plays the bundled demo session.");
        return Ok(ExitCode::SUCCESS);
    }
    for d in &list {
        let default = if d.is_default { " (default)" } else { "" };
        let config = d
            .default_config
            .as_deref()
            .unwrap_or("configuration unknown");
        println!("{}{default}\t{}\t{config}", d.name, d.host);
    }
    Ok(ExitCode::SUCCESS)
}

fn analyze(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let config = AnalysisConfig {
        f0_min_hz: args.f0_min,
        f0_max_hz: args.f0_max,
        lookahead_secs: args.lookahead,
        ..AnalysisConfig::default()
    };
    config.validate().context("invalid settings")?;
    let channel = args.channel.map_or(ChannelSelect::Downmix, |c| {
        ChannelSelect::Channel(usize::from(c) - 1)
    });
    let mode = speaker_mode(&args.speakers, &config)?;
    let JobList {
        jobs,
        errors: listing_errors,
        notices: listing_notices,
    } = collect_jobs(&args.inputs, args.recursive);
    if jobs.is_empty() && listing_errors.is_empty() {
        bail!("no audio files found in the inputs given");
    }
    crate::output::create_private_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    let threads = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new(jobs.len() as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} files {msg}",
        ) {
            pb.set_style(style);
        }
        pb
    };
    for msg in &listing_errors {
        progress.suspend(|| eprintln!("error: {msg}"));
    }
    for msg in &listing_notices {
        progress.suspend(|| eprintln!("note: {msg}"));
    }
    let audio_millis = AtomicU64::new(0);
    let started = Instant::now();
    let batch = Batch {
        out_dir: &args.out,
        config: &config,
        channel,
        mode: mode.as_ref(),
        threads,
    };
    let results = batch
        .run(&jobs, &|job, r| {
            match r {
                Ok(s) => {
                    let ms = (s.statistics.duration_secs * 1000.0) as u64;
                    audio_millis.fetch_add(ms, Ordering::Relaxed);
                    for w in s.input_warnings() {
                        progress.suspend(|| eprintln!("warning: {}: {w}", job.path.display()));
                    }
                }
                Err(e) => progress.suspend(|| eprintln!("error: {}: {e}", job.path.display())),
            }
            progress.inc(1);
        })
        .context("cannot start the worker threads")?;
    progress.finish_and_clear();
    let mut summary_failed = false;
    if jobs.len() > 1 || args.inputs.iter().any(|p| p.is_dir()) {
        if let Err(e) = write_corpus_summary(&args.out, &jobs, &results) {
            eprintln!("error: {e}");
            summary_failed = true;
        }
    }
    let failed = results.iter().filter(|r| r.is_err()).count()
        + listing_errors.len()
        + usize::from(summary_failed);
    let done = results.len() - results.iter().filter(|r| r.is_err()).count();
    if !args.quiet {
        let wall = started.elapsed().as_secs_f64();
        let audio = audio_millis.load(Ordering::Relaxed) as f64 / 1000.0;
        eprintln!(
            "analysed {done} of {} file(s): {audio:.1} s of audio in {wall:.2} s ({:.0}x real time) -> {}",
            done + failed,
            audio / wall.max(1e-9),
            args.out.display()
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `attune export`: opens the session (folder or audio file) with the reviewer's corrections
/// and writes the formats asked for. Main thread.
fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let formats = Format::parse_list(&args.format)?;
    let config = AnalysisConfig {
        f0_min_hz: args.f0_min,
        f0_max_hz: args.f0_max,
        ..AnalysisConfig::default()
    };
    config.validate().context("invalid settings")?;
    if !args.session.exists() {
        return Err(SessionError::NotFound(args.session.clone()).into());
    }
    // An export folder that cannot be written fails before the analysis, not after it.
    check_writable(&args.out)?;
    let mode = speaker_mode(&args.speakers, &config)?;
    let model = SessionModel::load(&args.session, &LoadOptions { mode, config })?;
    for notice in &model.notices {
        eprintln!("warning: {notice}");
    }
    let files = export_session(&model, &formats, &args.out)?;
    if !args.quiet {
        eprintln!(
            "exported {} ({} vocalisations, {} turns{}) as {} file(s) -> {}",
            model.name,
            model.segments.len(),
            model.turns.len(),
            if model.corrected { ", reviewed" } else { "" },
            files.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `dir` if missing and checks that a file can be made in it.
fn check_writable(dir: &Path) -> Result<(), ExportError> {
    let err = |source| ExportError::Write {
        path: dir.to_path_buf(),
        source,
    };
    crate::output::create_private_dir_all(dir).map_err(err)?;
    // A fresh, randomly named probe, removed as it closes: nothing planted is written through.
    tempfile::Builder::new()
        .prefix(".attune-export-")
        .tempfile_in(dir)
        .map_err(err)?;
    Ok(())
}

/// The speaker attribution the options ask for; trains the voice models of the enrolment clips
/// (main thread, before the workers start).
pub fn speaker_mode(
    args: &SpeakerArgs,
    config: &AnalysisConfig,
) -> anyhow::Result<Option<SpeakerMode>> {
    if let (Some(u), Some(p)) = (args.user_channel, args.partner_channel) {
        if u == p {
            bail!("--user-channel and --partner-channel must be different channels");
        }
        return Ok(Some(SpeakerMode::Channels {
            user: usize::from(u) - 1,
            partner: usize::from(p) - 1,
        }));
    }
    if args.partner_voice.is_none() && args.user_voice.is_none() && !args.two_voices {
        return Ok(None);
    }
    let load = |p: &Option<PathBuf>, who: &str| -> anyhow::Result<Option<Box<VoiceModel>>> {
        p.as_deref()
            .map(|path| {
                load_voice(path, config)
                    .map(Box::new)
                    .with_context(|| format!("cannot use the {who} voice enrolment"))
            })
            .transpose()
    };
    Ok(Some(SpeakerMode::Voices {
        partner: load(&args.partner_voice, "partner")?,
        user: load(&args.user_voice, "user")?,
    }))
}
