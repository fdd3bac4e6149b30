//! Starting, running and stopping the live pipeline (see the module docs of [`crate::live`]).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use ringbuf::traits::Consumer;
use thiserror::Error;

use super::latency::{LatencyStats, LatencySummary};
use super::voices::{LiveVoices, VoiceModels};
use super::InputStatus;
use crate::analysis::speaker::Speaker;
use crate::analysis::AnalyzeError;
use crate::audio::capture::{CaptureStamp, ChannelRoute, SourceOutput};
use crate::audio::device::{find_input, open_input};
use crate::audio::player::{Player, Recording};
use crate::config::{AnalysisConfig, ANALYSIS_RATE_HZ};
use crate::driver::{Driver, DriverOutput};
use crate::events::Event;
use crate::session::claim::{ClaimError, SessionFolder};
use crate::session::log::LogLine;
use crate::session::writer::{self, SessionInfo, WriterMsg, WriterOutcome};
use crate::time::SampleTime;

/// Messages to the window: a bounded channel of this many (about 10 s of events).
const UI_QUEUE: usize = 4096;
/// Messages to the session writer (about 10 s of audio blocks and events).
const WRITER_QUEUE: usize = 8192;
/// The analysis thread takes at most this many samples from the ring at a time.
const MAX_BLOCK: usize = 4096;
/// How long the analysis thread sleeps when the ring is empty.
const IDLE_SLEEP: Duration = Duration::from_millis(2);
/// A device that has delivered audio is lost when no callback came for this long.
const SILENCE_IS_LOSS: Duration = Duration::from_secs(1);
/// Before its first callback a new stream gets longer (PulseAudio takes 1-2 s to start).
const FIRST_CALLBACK_GRACE: Duration = Duration::from_secs(5);
/// How often a missing device is looked for again.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// Capture stamps kept for latency look-ups.
const STAMPS_KEPT: usize = 512;
/// The first seconds of each stream are left out of the latency figures: a stream starts by
/// delivering what the audio system buffered before it was read (up to ~0.7 s old), which
/// says nothing about the latency once it runs.
pub const LATENCY_WARM_UP_SECS: f64 = 2.0;
/// The latency figures in [`PipelineStats`] are refreshed every this many analysed blocks.
const PUBLISH_EVERY_BATCHES: u32 = 20;

/// Where the audio comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum InputChoice {
    /// A capture device by name, or the default input.
    Device { name: Option<String> },
    /// The bundled demo session, played in real time.
    Demo,
    /// An audio file, played in real time.
    File(PathBuf),
}

/// Where and as whom a session is recorded.
#[derive(Debug, Clone)]
pub struct RecordTo {
    /// The folder (`--session-dir`, new or empty) or where a new one is made; claimed by this
    /// recorder alone (`session::claim`).
    pub folder: SessionFolder,
    pub participant: String,
    pub partner: String,
    /// Also record a recording played as input (the demo): headless runs do, the window not.
    pub record_playback: bool,
    /// Leave no folder behind when nothing was recorded (the window on the demo).
    pub discard_if_empty: bool,
    /// A WAV part is closed and the next begun before it would pass this many bytes
    /// ([`writer::DEFAULT_MAX_PART_BYTES`], 2 GiB).
    pub max_part_bytes: u64,
    /// The partner's voice enrolment, copied into the folder (`partner-voice.wav`) so that
    /// review tells the voices apart the same way.
    pub partner_voice_clip: Option<PathBuf>,
}

/// Everything the pipeline needs to start.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub input: InputChoice,
    pub route: ChannelRoute,
    pub config: AnalysisConfig,
    /// Play the demo session when no input device can be opened (the window's behaviour).
    pub demo_when_no_device: bool,
    /// Start a played recording again when it ends.
    pub loop_playback: bool,
    /// How fast a recording is played (1 = real time).
    pub playback_speed: f64,
    pub record: Option<RecordTo>,
    /// Tell the partner's vocalisations from the person's by voice (one microphone).
    pub voices: Option<Arc<VoiceModels>>,
}

/// What the window receives.
#[derive(Debug, Clone)]
pub enum LiveMessage {
    Event {
        event: Event,
        /// When the sound the event describes was captured (`None` when unknown).
        captured_at: Option<Instant>,
        /// When the analysis produced it.
        analysed_at: Instant,
    },
    Status {
        time: SampleTime,
        status: InputStatus,
    },
    /// The input of a voice enrolment asked for with [`LivePipeline::record_enrolment`]:
    /// mono samples at `rate_hz`.
    Enrolment { rate_hz: u32, samples: Vec<f32> },
    /// Who made the vocalisation `[start, end)`, by voice; sent a moment after its
    /// `Event::Vocalisation`.
    Speaker {
        start: SampleTime,
        end: SampleTime,
        speaker: Speaker,
        /// How sure (the log-likelihood margin).
        margin: f32,
    },
    /// The recording stopped (full disk, failing write); what was written is kept.
    RecordingError(String),
}

/// How long the clipping notice stays after the input last clipped (s).
pub const CLIPPING_HOLD_SECS: f64 = 3.0;
/// Samples at full scale within one block that count as the input clipping.
const CLIPPED_SAMPLES_PER_BLOCK: u64 = 3;

/// Counters the window and the headless run read (atomics, updated by the analysis thread).
#[derive(Debug, Default)]
pub struct PipelineStats {
    /// Input frames that did not fit into the capture ring.
    pub dropped_frames: AtomicU64,
    /// Messages the window was too busy to take.
    pub ui_dropped: AtomicU64,
    /// Messages the session writer was too busy to take.
    pub writer_dropped: AtomicU64,
    /// Pitch frames analysed.
    pub frames_analysed: AtomicU64,
    /// Sound → analysis event latency (µs).
    pub latency_p50_us: AtomicU64,
    pub latency_p95_us: AtomicU64,
    pub latency_max_us: AtomicU64,
    pub latency_count: AtomicU64,
    /// Input sample rate now (Hz), 0 before the first input.
    pub input_rate_hz: AtomicU64,
    /// The input clipped (reached full scale) within the last [`CLIPPING_HOLD_SECS`].
    pub clipping: AtomicBool,
}

impl PipelineStats {
    pub fn latency(&self) -> LatencySummary {
        let ms = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1000.0;
        LatencySummary {
            count: self.latency_count.load(Ordering::Relaxed),
            p50_ms: ms(&self.latency_p50_us),
            p95_ms: ms(&self.latency_p95_us),
            max_ms: ms(&self.latency_max_us),
        }
    }
}

/// Why the pipeline could not start.
#[derive(Debug, Error)]
pub enum LiveError {
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    /// The session folder is refused (busy, not empty, not ours) or cannot be made; nothing
    /// was written into it.
    #[error(transparent)]
    SessionDir(#[from] ClaimError),
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}

/// What a finished live run measured.
#[derive(Debug, Clone)]
pub struct LiveReport {
    pub latency: LatencySummary,
    pub dropped_frames: u64,
    pub ui_dropped: u64,
    pub writer_dropped: u64,
    pub frames_analysed: u64,
    pub recording: Option<WriterOutcome>,
}

/// A running pipeline. Dropping it stops it (use [`LivePipeline::stop`] for the report).
pub struct LivePipeline {
    messages: Receiver<LiveMessage>,
    stats: Arc<PipelineStats>,
    stop: Arc<AtomicBool>,
    capture: Option<JoinHandle<()>>,
    analysis: Option<JoinHandle<()>>,
    writer: Option<JoinHandle<WriterOutcome>>,
    /// The folder being recorded into (claimed by this pipeline's writer).
    session_dir: Option<PathBuf>,
    /// The practitioner's lines (markers, push-to-talk, wrap-up) to the session writer.
    log_tx: Option<Sender<WriterMsg>>,
    /// Requests to the analysis thread.
    control_tx: Sender<Control>,
}

/// What the window asks of the analysis thread.
#[derive(Debug, Clone, Copy)]
enum Control {
    /// Keep the next `secs` of input for a voice enrolment.
    Enrol { secs: f64 },
}

/// Called by the analysis thread when something new is there to show.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

impl LivePipeline {
    /// Starts the threads. UI or main thread.
    pub fn start(options: LiveOptions, waker: Option<Waker>) -> Result<Self, LiveError> {
        options.config.validate().map_err(AnalyzeError::from)?;
        // What is recorded (onsets, vocalisations, the files) is analysed with the offline
        // lookahead, as `attune analyze` would the recording; the pitch on screen with the
        // short one of `options.config`.
        let record_config = options.config.of_record();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(PipelineStats::default());
        let (ui_tx, ui_rx) = bounded(UI_QUEUE);
        let (source_tx, source_rx) = bounded::<SourceOutput>(4);
        let (status_tx, status_rx) = bounded::<InputStatus>(64);

        let mut writer_handle = None;
        let mut session_dir = None;
        let mut writer_tx = None;
        let mut log_tx = None;
        if let Some(rec) = &options.record {
            let info = SessionInfo {
                participant: rec.participant.clone(),
                partner: rec.partner.clone(),
                started_utc: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                input: describe_input(&options.input),
                settings: record_config.clone(),
                tool: "attune",
                version: env!("CARGO_PKG_VERSION"),
            };
            let claim = writer::create_session_dir(&rec.folder, &info)?;
            let dir = claim.dir().to_path_buf();
            if let Some(clip) = &rec.partner_voice_clip {
                // Without it, review still works (two voices); the recording matters more.
                let _ = copy_private(clip, &dir.join(crate::session::folder::PARTNER_VOICE_FILE));
            }
            let (tx, rx) = bounded(WRITER_QUEUE);
            let writer_options = writer::WriterOptions {
                dir: dir.clone(),
                input_name: info.input.clone(),
                config: record_config.clone(),
                discard_if_empty: rec.discard_if_empty,
                max_part_bytes: rec.max_part_bytes,
            };
            let err_tx = ui_tx.clone();
            let handle = std::thread::Builder::new()
                .name("session-writer".into())
                .spawn(move || {
                    writer::run_writer(writer_options, claim, rx, |msg| {
                        let _ = err_tx.try_send(LiveMessage::RecordingError(msg));
                    })
                })
                .map_err(LiveError::Thread)?;
            if options.voices.is_some() {
                // The labelled rows come a moment after their vocalisations.
                let _ = tx.try_send(WriterMsg::DeferSegments);
            }
            writer_handle = Some(handle);
            session_dir = Some(dir);
            log_tx = Some(tx.clone());
            writer_tx = Some(tx);
        }

        let mut analysis = AnalysisLoop {
            driver: Driver::new(&record_config, options.voices.is_some())?
                .with_display(&options.config)?,
            out: DriverOutput::with_capacity(1024),
            source: None,
            closed_drops: 0,
            ui_tx,
            writer_tx,
            stats: Arc::clone(&stats),
            latency: LatencyStats::new(),
            block: vec![0.0; MAX_BLOCK],
            waker,
            writer_gap: 0,
            batches_since_publish: 0,
            record_playback: options.record.as_ref().is_some_and(|r| r.record_playback),
            voice_models: options.voices.clone(),
            voices: None,
            enrolment: None,
            clipped_seen: 0,
            clipping_hold: 0,
        };
        let (control_tx, control_rx) = bounded::<Control>(4);
        let analysis_stop = Arc::clone(&stop);
        let analysis_handle = std::thread::Builder::new()
            .name("analysis".into())
            .spawn(move || analysis.run(&analysis_stop, &source_rx, &status_rx, &control_rx))
            .map_err(LiveError::Thread)?;

        let capture_stop = Arc::clone(&stop);
        let capture_handle = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || capture_main(&options, &source_tx, &status_tx, &capture_stop))
            .map_err(LiveError::Thread)?;

        Ok(Self {
            messages: ui_rx,
            stats,
            stop,
            capture: Some(capture_handle),
            analysis: Some(analysis_handle),
            writer: writer_handle,
            session_dir,
            log_tx,
            control_tx,
        })
    }

    /// Asks the analysis thread for the next `secs` of input (a voice enrolment); it arrives as
    /// [`LiveMessage::Enrolment`]. UI thread.
    pub fn record_enrolment(&self, secs: f64) -> bool {
        self.control_tx.try_send(Control::Enrol { secs }).is_ok()
    }

    /// Logs a practitioner's line (a marker, the push-to-talk key, the wrap-up) into the
    /// session's `events.jsonl`. False when the session is not recorded or the writer is too
    /// busy (counted as a writer drop). UI thread.
    pub fn log(&self, line: LogLine) -> bool {
        let Some(tx) = &self.log_tx else {
            return false;
        };
        let sent = tx.try_send(WriterMsg::Log(line)).is_ok();
        if !sent {
            self.stats.writer_dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// The session folder being recorded into, when recording. Any thread.
    pub fn session_dir(&self) -> Option<&std::path::Path> {
        self.session_dir.as_deref()
    }

    /// The window's end of the pipeline.
    pub fn messages(&self) -> &Receiver<LiveMessage> {
        &self.messages
    }

    pub fn stats(&self) -> &Arc<PipelineStats> {
        &self.stats
    }

    /// Stops capture, lets the analysis finish what it has, closes the recording. Any thread.
    pub fn stop(mut self) -> LiveReport {
        self.shutdown()
    }

    fn shutdown(&mut self) -> LiveReport {
        self.stop.store(true, Ordering::Release);
        // The writer ends when every sender is gone.
        self.log_tx = None;
        if let Some(h) = self.capture.take() {
            let _ = h.join();
        }
        if let Some(h) = self.analysis.take() {
            let _ = h.join();
        }
        let recording = self.writer.take().and_then(|h| h.join().ok());
        let s = &self.stats;
        LiveReport {
            latency: s.latency(),
            dropped_frames: s.dropped_frames.load(Ordering::Relaxed),
            ui_dropped: s.ui_dropped.load(Ordering::Relaxed),
            writer_dropped: s.writer_dropped.load(Ordering::Relaxed),
            frames_analysed: s.frames_analysed.load(Ordering::Relaxed),
            recording,
        }
    }
}

impl Drop for LivePipeline {
    fn drop(&mut self) {
        if self.analysis.is_some() {
            self.shutdown();
        }
    }
}

fn describe_input(input: &InputChoice) -> String {
    match input {
        InputChoice::Device { name: Some(n) } => format!("device: {n}"),
        InputChoice::Device { name: None } => "device: default input".into(),
        InputChoice::Demo => "demo session".into(),
        InputChoice::File(p) => format!("file: {}", p.display()),
    }
}

// ---------------------------------------------------------------------------------------------
// The "capture" thread

/// Sleeps up to `d`, waking early when `stop` is set. Returns whether to go on.
fn nap(stop: &AtomicBool, d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::Acquire) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20).min(d));
    }
    !stop.load(Ordering::Acquire)
}

/// Owns the input: opens it, hands its rings to the analysis thread, watches it, reopens it.
/// "capture" thread.
fn capture_main(
    options: &LiveOptions,
    source_tx: &Sender<SourceOutput>,
    status_tx: &Sender<InputStatus>,
    stop: &AtomicBool,
) {
    match &options.input {
        InputChoice::Demo => play(
            Recording::demo().map_err(|e| e.to_string()),
            options.loop_playback,
            options.playback_speed,
            source_tx,
            status_tx,
            stop,
        ),
        InputChoice::File(p) => play(
            Recording::open(p).map_err(|e| format!("{}: {e}", p.display())),
            options.loop_playback,
            options.playback_speed,
            source_tx,
            status_tx,
            stop,
        ),
        InputChoice::Device { name } => {
            device_loop(options, name.as_deref(), source_tx, status_tx, stop)
        }
    }
}

fn play(
    recording: Result<Recording, String>,
    looped: bool,
    speed: f64,
    source_tx: &Sender<SourceOutput>,
    status_tx: &Sender<InputStatus>,
    stop: &AtomicBool,
) {
    let recording = match recording {
        Ok(r) => r,
        Err(reason) => {
            let _ = status_tx.send(InputStatus::Waiting {
                wanted: "recording".into(),
                reason,
            });
            return;
        }
    };
    let name = recording.name.clone();
    let rate_hz = recording.rate_hz;
    let (player, output) = match Player::start(recording, looped, speed) {
        Ok(p) => p,
        Err(e) => {
            let _ = status_tx.send(InputStatus::Waiting {
                wanted: name,
                reason: format!("cannot start the player: {e}"),
            });
            return;
        }
    };
    let _ = status_tx.send(InputStatus::Connected {
        name: name.clone(),
        rate_hz,
        channels: 1,
        playback: true,
    });
    if source_tx.send(output).is_err() {
        return;
    }
    let mut ended = false;
    while nap(stop, Duration::from_millis(50)) {
        if !ended && player.is_finished() {
            ended = true;
            let _ = status_tx.send(InputStatus::Ended { name: name.clone() });
        }
    }
    drop(player);
}

fn device_loop(
    options: &LiveOptions,
    name: Option<&str>,
    source_tx: &Sender<SourceOutput>,
    status_tx: &Sender<InputStatus>,
    stop: &AtomicBool,
) {
    let wanted = name.unwrap_or("default input").to_string();
    let mut first_attempt = true;
    let mut last_reason: Option<String> = None;
    while !stop.load(Ordering::Acquire) {
        let opened = find_input(name).and_then(|d| open_input(&d, options.route));
        match opened {
            Ok(open) => {
                last_reason = None;
                first_attempt = false;
                let counters = Arc::clone(&open.output.counters);
                let device_name = open.output.name.clone();
                let _ = status_tx.send(InputStatus::Connected {
                    name: device_name.clone(),
                    rate_hz: open.config.sample_rate,
                    channels: usize::from(open.config.channels),
                    playback: false,
                });
                let stream = open.stream;
                if source_tx.send(open.output).is_err() {
                    release(stream);
                    return;
                }
                let lost_reason = loop {
                    if !nap(stop, Duration::from_millis(50)) {
                        release(stream);
                        return;
                    }
                    let limit = if counters.callbacks.load(Ordering::Relaxed) > 0 {
                        SILENCE_IS_LOSS
                    } else {
                        FIRST_CALLBACK_GRACE
                    };
                    if counters.stream_failed.load(Ordering::Relaxed) {
                        break "the device reported an error".to_string();
                    }
                    let silent = counters.since_last_callback();
                    if silent > limit {
                        break format!("no audio for {:.1} s", silent.as_secs_f64());
                    }
                };
                let _ = status_tx.send(InputStatus::Lost {
                    name: device_name,
                    reason: lost_reason,
                });
                release(stream);
            }
            Err(e) => {
                let reason = e.to_string();
                if first_attempt && options.demo_when_no_device {
                    let _ = status_tx.send(InputStatus::Waiting { wanted, reason });
                    play(
                        Recording::demo().map_err(|e| e.to_string()),
                        true,
                        1.0,
                        source_tx,
                        status_tx,
                        stop,
                    );
                    return;
                }
                first_attempt = false;
                if last_reason.as_deref() != Some(reason.as_str()) {
                    let _ = status_tx.send(InputStatus::Waiting {
                        wanted: wanted.clone(),
                        reason: reason.clone(),
                    });
                    last_reason = Some(reason);
                }
            }
        }
        if !nap(stop, RETRY_INTERVAL) {
            return;
        }
    }
}

/// Copies `from` to `to`, readable by the owner only.
fn copy_private(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    let mut src = std::fs::File::open(from)?;
    let mut dst = crate::output::create_new_private(to)?;
    std::io::copy(&mut src, &mut dst)?;
    Ok(())
}

/// Stops a stream on a thread of its own: closing a device that has gone away can block inside
/// the audio system for a long time, and must hold up neither reconnecting nor quitting.
fn release(stream: cpal::Stream) {
    // The thread is not joined: if closing never returns, only that thread waits.
    let _ = std::thread::Builder::new()
        .name("stream-release".into())
        .spawn(move || drop(stream));
}

// ---------------------------------------------------------------------------------------------
// The "analysis" thread

struct ActiveSource {
    output: SourceOutput,
    /// Frames fed to the current Analyzer before this source began.
    base_frames: u64,
    stamps: VecDeque<CaptureStamp>,
}

struct AnalysisLoop {
    /// Resampling, the Analyzer, the voice features and the session clock across streams.
    driver: Driver,
    /// What the driver produced from the last block.
    out: DriverOutput,
    source: Option<ActiveSource>,
    /// Frames dropped by sources that are gone.
    closed_drops: u64,
    ui_tx: Sender<LiveMessage>,
    writer_tx: Option<Sender<WriterMsg>>,
    stats: Arc<PipelineStats>,
    latency: LatencyStats,
    block: Vec<f32>,
    waker: Option<Waker>,
    /// Writer messages dropped since the last gap note.
    writer_gap: u64,
    batches_since_publish: u32,
    record_playback: bool,
    voice_models: Option<Arc<VoiceModels>>,
    /// Voice attribution for the current stream.
    voices: Option<LiveVoices>,
    /// A voice enrolment being kept: (rate, samples, samples wanted).
    enrolment: Option<(u32, Vec<f32>, usize)>,
    /// Clipped input samples the driver had counted at the last block.
    clipped_seen: u64,
    /// Input samples for which [`PipelineStats::clipping`] stays set.
    clipping_hold: u64,
}

impl AnalysisLoop {
    /// "analysis" thread.
    fn run(
        &mut self,
        stop: &AtomicBool,
        sources: &Receiver<SourceOutput>,
        statuses: &Receiver<InputStatus>,
        control: &Receiver<Control>,
    ) {
        loop {
            let stopping = stop.load(Ordering::Acquire);
            while let Ok(Control::Enrol { secs }) = control.try_recv() {
                let rate = self
                    .source
                    .as_ref()
                    .map_or(ANALYSIS_RATE_HZ, |s| s.output.rate_hz);
                let n = (secs.clamp(1.0, 60.0) * f64::from(rate)) as usize;
                self.enrolment = Some((rate, Vec::with_capacity(n), n));
            }
            while let Ok(status) = statuses.try_recv() {
                self.send_status(status);
            }
            while let Ok(src) = sources.try_recv() {
                self.switch_source(src);
            }
            self.poll_voices();
            let n = self.pop_audio();
            if n > 0 {
                self.analyse(n);
            } else if stopping {
                break;
            } else {
                std::thread::sleep(IDLE_SLEEP);
            }
        }
        while let Ok(status) = statuses.try_recv() {
            self.send_status(status);
        }
        self.finish_stream();
        self.publish_stats();
    }

    /// Session time now: where the next input sample will be.
    fn now(&self) -> SampleTime {
        self.driver.now()
    }

    fn send_status(&mut self, status: InputStatus) {
        let time = self.now();
        if let InputStatus::Connected { rate_hz, .. } = &status {
            self.stats
                .input_rate_hz
                .store(u64::from(*rate_hz), Ordering::Relaxed);
        }
        self.send_to_writer(WriterMsg::Status {
            time,
            status: status.clone(),
        });
        self.send_to_ui(LiveMessage::Status { time, status });
        self.wake();
    }

    fn switch_source(&mut self, output: SourceOutput) {
        if let Some(old) = self.source.take() {
            self.closed_drops += old.output.counters.dropped_frames.load(Ordering::Relaxed);
        }
        if self
            .driver
            .rate_hz()
            .is_some_and(|rate| rate != output.rate_hz)
        {
            // Another rate: the driver goes on with a new stream where this one ended.
            self.finish_stream();
        }
        self.source = Some(ActiveSource {
            output,
            base_frames: self
                .driver
                .stream_position()
                .map_or(0, |(_, frames)| frames),
            stamps: VecDeque::with_capacity(STAMPS_KEPT),
        });
    }

    fn pop_audio(&mut self) -> usize {
        let Some(src) = &mut self.source else {
            return 0;
        };
        while let Some(stamp) = src.output.stamps.try_pop() {
            if src.stamps.len() == STAMPS_KEPT {
                src.stamps.pop_front();
            }
            src.stamps.push_back(stamp);
        }
        src.output.audio.pop_slice(&mut self.block)
    }

    fn analyse(&mut self, n: usize) {
        let Some(src) = &mut self.source else {
            return;
        };
        let rate = src.output.rate_hz;
        if self.driver.rate_hz().is_none() {
            if let Err(e) = self.driver.set_rate(rate, &mut self.out) {
                let status = InputStatus::Waiting {
                    wanted: src.output.name.clone(),
                    reason: format!("cannot analyse this input: {e}"),
                };
                self.source = None;
                self.send_status(status);
                return;
            }
            self.voices = self
                .voice_models
                .as_ref()
                .map(|m| LiveVoices::new(Arc::clone(m), self.driver.now()));
        }
        let recording = !src.output.playback || self.record_playback;
        if let Some(tx) = self.writer_tx.as_ref().filter(|_| recording) {
            let msg = WriterMsg::Audio {
                rate_hz: rate,
                samples: self.block[..n].to_vec(),
            };
            if tx.try_send(msg).is_err() {
                self.writer_gap += 1;
                self.stats.writer_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.driver.process(&self.block[..n], &mut self.out);
        // A few samples at full scale in one block is a clipping input, not a lone peak.
        let clipped = self.driver.input_stats().clipped;
        if clipped.saturating_sub(self.clipped_seen) >= CLIPPED_SAMPLES_PER_BLOCK {
            self.clipping_hold = (CLIPPING_HOLD_SECS * f64::from(rate)) as u64;
        } else {
            self.clipping_hold = self.clipping_hold.saturating_sub(n as u64);
        }
        self.clipped_seen = clipped;
        self.stats
            .clipping
            .store(self.clipping_hold > 0, Ordering::Relaxed);
        if let Some((rate_hz, kept, wanted)) = &mut self.enrolment {
            if *rate_hz == rate {
                let take = (*wanted - kept.len()).min(n);
                kept.extend_from_slice(&self.block[..take]);
            }
            if kept.len() >= *wanted || *rate_hz != rate {
                if let Some((rate_hz, samples, _)) = self.enrolment.take() {
                    self.send_to_ui(LiveMessage::Enrolment { rate_hz, samples });
                    self.wake();
                }
            }
        }
        self.deliver_events();
        let drops = src_drops(self.source.as_ref());
        self.stats
            .dropped_frames
            .store(self.closed_drops + drops, Ordering::Relaxed);
    }

    /// Sends the voice labels that are ready on: to the window and into session.segments.csv.
    fn poll_voices(&mut self) {
        if let Some(v) = &mut self.voices {
            let labels = v.poll();
            self.deliver_labels(labels);
        }
    }

    fn deliver_labels(&mut self, labels: Vec<crate::analysis::speaker::Segment>) {
        for seg in labels {
            // A vocalisation the attribution gives to no one (the room's babble, a tail) has no
            // row, as in `attune analyze`'s segments; its event stays in events.jsonl.
            if self.recording_source() && seg.speaker != Speaker::Unknown {
                self.send_to_writer(WriterMsg::Segment {
                    vocalisation: seg.vocalisation,
                    speaker: seg.speaker,
                });
            }
            self.send_to_ui(LiveMessage::Speaker {
                start: seg.vocalisation.start,
                end: seg.vocalisation.end,
                speaker: seg.speaker,
                margin: seg.margin,
            });
            self.wake();
        }
    }

    /// Ends the driver's stream: its last events, and the labels still waiting.
    fn finish_stream(&mut self) {
        self.driver.finish(&mut self.out);
        self.deliver_events();
        if let Some(mut v) = self.voices.take() {
            let labels = v.drain();
            self.deliver_labels(labels);
        }
    }

    /// Sends the driver's last output on: the display pitch to the window (with its latency),
    /// the events of record to the writer, the voices and (but for their pitch) the window.
    fn deliver_events(&mut self) {
        let analysed_at = Instant::now();
        let mut visible = false;
        let out = std::mem::take(&mut self.out);
        if let Some(v) = &mut self.voices {
            v.push_ceps(&out.ceps);
        }
        for &p in &out.display {
            self.stats.frames_analysed.fetch_add(1, Ordering::Relaxed);
            let captured_at = self.captured_at(p.time);
            if let (Some(c), true) = (captured_at, self.past_warm_up(p.time)) {
                self.latency
                    .record(analysed_at.saturating_duration_since(c));
            }
            visible |= p.f0_hz.is_some();
            self.send_to_ui(LiveMessage::Event {
                event: Event::Pitch(p),
                captured_at,
                analysed_at,
            });
        }
        for &event in &out.events {
            if let Some(v) = &mut self.voices {
                v.push_event(&event);
            }
            if self.recording_source() {
                self.send_to_writer(WriterMsg::Event(event));
            }
            if !matches!(event, Event::Pitch(_)) {
                visible = true;
                self.send_to_ui(LiveMessage::Event {
                    event,
                    captured_at: None,
                    analysed_at,
                });
            }
        }
        self.out = out;
        self.out.clear();
        self.batches_since_publish += 1;
        if self.batches_since_publish >= PUBLISH_EVERY_BATCHES {
            self.batches_since_publish = 0;
            self.publish_stats();
        }
        if visible {
            self.wake();
        }
    }

    /// Whether session time `t` lies past the warm-up of the current source.
    fn past_warm_up(&self, t: SampleTime) -> bool {
        let (Some(src), Some(rate), Some((stream_start, _))) = (
            &self.source,
            self.driver.rate_hz(),
            self.driver.stream_position(),
        ) else {
            return false;
        };
        let start =
            stream_start.0 + src.base_frames * u64::from(ANALYSIS_RATE_HZ) / u64::from(rate);
        t.secs() >= SampleTime(start).secs() + LATENCY_WARM_UP_SECS
    }

    /// When the input sample at session time `t` was captured, from the capture stamps.
    fn captured_at(&self, t: SampleTime) -> Option<Instant> {
        let src = self.source.as_ref()?;
        let rate = self.driver.rate_hz()?;
        let (stream_start, _) = self.driver.stream_position()?;
        let local = t.0.checked_sub(stream_start.0)?;
        let frame = local * u64::from(rate) / u64::from(ANALYSIS_RATE_HZ);
        let frame = frame.checked_sub(src.base_frames)?;
        let idx = src.stamps.partition_point(|s| s.first_frame <= frame);
        let stamp = src.stamps.get(idx.checked_sub(1)?)?;
        let offset = Duration::from_secs_f64((frame - stamp.first_frame) as f64 / f64::from(rate));
        Some(stamp.captured_at + offset)
    }

    fn publish_stats(&self) {
        let s = self.latency.summary();
        let us = |ms: f64| (ms * 1000.0) as u64;
        self.stats
            .latency_p50_us
            .store(us(s.p50_ms), Ordering::Relaxed);
        self.stats
            .latency_p95_us
            .store(us(s.p95_ms), Ordering::Relaxed);
        self.stats
            .latency_max_us
            .store(us(s.max_ms), Ordering::Relaxed);
        self.stats.latency_count.store(s.count, Ordering::Relaxed);
    }

    fn send_to_ui(&self, msg: LiveMessage) {
        if let Err(TrySendError::Full(_)) = self.ui_tx.try_send(msg) {
            self.stats.ui_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether what the current source delivers is recorded.
    fn recording_source(&self) -> bool {
        self.source
            .as_ref()
            .is_none_or(|s| !s.output.playback || self.record_playback)
    }

    fn send_to_writer(&mut self, msg: WriterMsg) {
        let Some(tx) = &self.writer_tx else {
            return;
        };
        if self.writer_gap > 0 {
            let gap = WriterMsg::Gap {
                time: self.now(),
                dropped_messages: self.writer_gap,
            };
            if tx.try_send(gap).is_ok() {
                self.writer_gap = 0;
            }
        }
        if tx.try_send(msg).is_err() {
            self.writer_gap += 1;
            self.stats.writer_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn wake(&self) {
        if let Some(w) = &self.waker {
            w();
        }
    }
}

fn src_drops(src: Option<&ActiveSource>) -> u64 {
    src.map_or(0, |s| {
        s.output.counters.dropped_frames.load(Ordering::Relaxed)
    })
}
