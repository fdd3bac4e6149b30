//! The companion window (eframe): the practitioner's live screen.
//!
//! [`AttuneApp`] owns the [`LivePipeline`], drains its messages into the [`LiveModel`] within a
//! small budget each frame, draws the views, and applies the [`Command`]s the views return.
//! Everything here runs on the UI thread; the pipeline wakes it when there is something new.

pub mod enrol;
mod live_view;
pub mod review;
pub mod sessions_view;
pub mod settings;
mod settings_view;
pub mod state;
mod status_view;
pub mod theme;
mod timeline;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use egui::{Key, RichText};

use crate::analysis::cue::TurnCue;
use crate::audio::capture::ChannelRoute;
use crate::audio::device::{list_inputs, InputDeviceInfo};
use crate::live::{InputChoice, LiveError, LiveOptions, LivePipeline, RecordTo};
use crate::session::log::LogLine;
use settings::{PaletteChoice, Settings, SettingsStore, ThemeChoice};
use state::LiveModel;
use theme::Palette;

/// Keys 1–9: the observation codes.
pub(crate) const DIGIT_KEYS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// At most this many messages are taken from the pipeline per frame (the rest wait).
const MESSAGES_PER_FRAME: usize = 2000;
/// Repaint pace while something moves on screen, and when all is still.
const ACTIVE_REPAINT: Duration = Duration::from_millis(100);
const IDLE_REPAINT: Duration = Duration::from_secs(1);
/// The pipeline asks for a repaint this soon after new voiced frames (0: at once; egui runs
/// one frame for any number of requests that arrive while it draws).
const WAKE_DELAY: Duration = Duration::from_millis(8);

/// What a view asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    OpenSettings,
    CloseSettings,
    /// Apply the settings draft (restarts the input when the device or range changed).
    Apply,
    RefreshDevices,
    ToggleHelp,
    CloseHelp,
    ToggleTheme,
    TogglePalette,
    TextBigger,
    TextSmaller,
    /// Log the observation code with this index (keys 1–9, or a click).
    LogMarker(usize),
    /// End the session: the wrap-up dialog, then a new session.
    EndSession,
    /// Save the wrap-up, finish the recording and start a new session.
    SaveWrapUp,
    CancelWrapUp,
    /// The Sessions screen (ends the session being recorded).
    OpenSessions,
    OpenReview(PathBuf),
    BackToLive,
    /// Record the partner's voice enrolment (10 s of the input).
    RecordVoice,
    ForgetVoice,
}

/// Which screen the window shows.
pub enum Screen {
    Live,
    Sessions(Vec<sessions_view::SessionEntry>),
    Review(Box<review::ReviewState>),
}

/// The wrap-up being filled in at the end of a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrapUpDraft {
    pub engagement: Option<u8>,
    pub best_moment: String,
}

/// How the window starts.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub store: SettingsStore,
    /// Overrides the saved device for this run (`--demo`, `--device`, `--play`).
    pub input: Option<InputChoice>,
    pub route: ChannelRoute,
    /// Sessions from an input device are recorded under this folder (`None`: not recorded).
    pub sessions_dir: Option<PathBuf>,
    /// Also record the demo or a played file (tests; normally only microphones are recorded).
    pub record_playback: bool,
    /// Voice enrolment: the partner's vocalisations are told from the person's by voice.
    pub voices: Option<Arc<crate::live::voices::VoiceModels>>,
}

/// Input devices, listed on a helper thread (ALSA probing can take a second).
struct DeviceList {
    devices: Option<Vec<InputDeviceInfo>>,
    pending: Option<Receiver<Vec<InputDeviceInfo>>>,
}

impl DeviceList {
    fn refresh(&mut self, ctx: &egui::Context) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("device-list".into())
            .spawn(move || {
                let _ = tx.send(list_inputs());
                ctx.request_repaint();
            });
        if spawned.is_ok() {
            self.pending = Some(rx);
        } else {
            self.devices = Some(Vec::new());
        }
    }

    fn poll(&mut self) {
        if let Some(rx) = &self.pending {
            if let Ok(list) = rx.try_recv() {
                self.devices = Some(list);
                self.pending = None;
            }
        }
    }
}

/// The window's application state.
pub struct AttuneApp {
    options: AppOptions,
    settings: Settings,
    draft: Settings,
    show_settings: bool,
    show_help: bool,
    model: LiveModel,
    pipeline: Option<LivePipeline>,
    /// Why the input could not start, shown instead of the cues.
    start_error: Option<String>,
    save_error: Option<String>,
    recording_to: Option<PathBuf>,
    recording_started: Option<Instant>,
    devices: DeviceList,
    ctx: egui::Context,
    pub screen: Screen,
    pub wrap_up: Option<WrapUpDraft>,
    /// Said once a session is finished ("Session saved …").
    pub session_notice: Option<String>,
    pub enrolment: enrol::Enrolment,
    recovery: Option<Receiver<Vec<String>>>,
    /// What the repair of interrupted sessions did, said until the window closes.
    pub recovery_notice: Option<String>,
}

impl AttuneApp {
    /// Builds the app and starts listening. UI thread.
    pub fn new(ctx: &egui::Context, options: AppOptions) -> Self {
        let settings = options.store.load();
        let mut app = Self {
            draft: settings.clone(),
            settings,
            options,
            show_settings: false,
            show_help: false,
            model: LiveModel::new(),
            pipeline: None,
            start_error: None,
            save_error: None,
            recording_to: None,
            recording_started: None,
            devices: DeviceList {
                devices: None,
                pending: None,
            },
            ctx: ctx.clone(),
            screen: Screen::Live,
            wrap_up: None,
            session_notice: None,
            enrolment: enrol::Enrolment::default(),
            recovery: None,
            recovery_notice: None,
        };
        app.enrolment = enrol::Enrolment::new(app.options.store.path());
        if app.options.voices.is_none() && app.enrolment.enrolled() {
            if let Some(p) = app.enrolment.path.clone() {
                match enrol::learn(&p) {
                    Ok(m) => app.options.voices = Some(Arc::new(m)),
                    Err(e) => {
                        app.enrolment.notice = Some((
                            format!("Your saved voice enrolment cannot be used: {e}"),
                            true,
                        ))
                    }
                }
            }
        }
        app.apply_look();
        app.start_pipeline();
        // Sessions interrupted earlier (killed, power loss) are repaired, and the window says so.
        // Interrupted sessions are repaired on a "recover" thread (re-analysing a long one
        // takes seconds); what it did is said on screen when it is done.
        if let Some(dir) = app.options.sessions_dir.clone() {
            let (tx, rx) = crossbeam_channel::bounded(1);
            let ctx = ctx.clone();
            let spawned = std::thread::Builder::new()
                .name("recover".into())
                .spawn(move || {
                    use crate::session::recovery::{recover_interrupted, sentence};
                    let notices: Vec<String> = recover_interrupted(&dir)
                        .iter()
                        .map(|n| sentence(n))
                        .collect();
                    let _ = tx.send(notices);
                    ctx.request_repaint();
                });
            if spawned.is_ok() {
                app.recovery = Some(rx);
            }
        }
        app
    }

    pub fn model(&self) -> &LiveModel {
        &self.model
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The session folder being recorded into, if any.
    pub fn recording_to(&self) -> Option<&PathBuf> {
        self.recording_to.as_ref()
    }

    fn input_choice(&self) -> InputChoice {
        self.options
            .input
            .clone()
            .unwrap_or_else(|| self.settings.device.to_input())
    }

    fn start_pipeline(&mut self) {
        self.stop_pipeline();
        self.model = LiveModel::new();
        self.model.expect_voice_labels = self.options.voices.is_some();
        let input = self.input_choice();
        let record_this =
            self.options.record_playback || matches!(input, InputChoice::Device { .. });
        let record = match &self.options.sessions_dir {
            Some(base) if record_this => {
                // A new folder every time (numbered when a session began in the same second):
                // a recorded session is never written over.
                Some(RecordTo {
                    folder: crate::session::claim::SessionFolder::NewUnder(base.clone()),
                    participant: self.settings.participant.clone(),
                    partner: "partner".into(),
                    record_playback: self.options.record_playback,
                    discard_if_empty: true,
                    max_part_bytes: crate::session::writer::DEFAULT_MAX_PART_BYTES,
                    partner_voice_clip: self
                        .options
                        .voices
                        .as_ref()
                        .and(self.enrolment.path.clone())
                        .filter(|p| p.is_file()),
                })
            }
            _ => None,
        };
        let options = LiveOptions {
            input,
            route: self.options.route,
            config: self.settings.analysis_config(),
            demo_when_no_device: true,
            loop_playback: true,
            playback_speed: 1.0,
            record,
            voices: self.options.voices.clone(),
        };
        let ctx = self.ctx.clone();
        let waker = Arc::new(move || ctx.request_repaint_after(WAKE_DELAY));
        let mut started = LivePipeline::start(options.clone(), Some(waker.clone()));
        if let Err(LiveError::SessionDir(_)) = &started {
            // The cues matter even when the session cannot be recorded: listen, and say so.
            let reason = started.as_ref().err().map(ToString::to_string);
            started = LivePipeline::start(
                LiveOptions {
                    record: None,
                    ..options
                },
                Some(waker),
            );
            if let (Ok(_), Some(r)) = (&started, reason) {
                self.model.recording_error = Some(format!("Not recording: {r}"));
            }
        }
        match started {
            Ok(p) => {
                self.recording_to = p.session_dir().map(std::path::Path::to_path_buf);
                self.pipeline = Some(p);
                self.start_error = None;
                self.recording_started = Some(Instant::now());
            }
            Err(e) => {
                self.start_error = Some(e.to_string());
                self.recording_to = None;
            }
        }
    }

    fn stop_pipeline(&mut self) {
        if let Some(p) = self.pipeline.take() {
            let _ = p.stop();
        }
    }

    fn apply_look(&self) {
        self.ctx.set_theme(match self.settings.theme {
            ThemeChoice::Dark => egui::Theme::Dark,
            ThemeChoice::Light => egui::Theme::Light,
        });
        self.ctx.set_zoom_factor(self.settings.text_scale);
    }

    fn save_settings(&mut self) {
        self.save_error = self
            .options
            .store
            .save(&self.settings)
            .err()
            .map(|e| format!("Settings could not be saved: {e}"));
    }

    /// Applies one command. UI thread.
    pub fn apply(&mut self, command: Command) {
        match command {
            Command::OpenSettings => {
                self.draft = self.settings.clone();
                self.show_settings = true;
                if self.devices.devices.is_none() && self.devices.pending.is_none() {
                    self.devices.refresh(&self.ctx);
                }
            }
            Command::CloseSettings => self.show_settings = false,
            Command::Apply => {
                let new = self.draft.clone().sanitised();
                let restart = new.device != self.settings.device
                    || new.f0_min_hz != self.settings.f0_min_hz
                    || new.f0_max_hz != self.settings.f0_max_hz
                    || new.participant != self.settings.participant;
                self.settings = new;
                if restart {
                    // A device chosen by hand replaces the command line's for this run.
                    self.options.input = None;
                }
                self.save_settings();
                self.apply_look();
                if restart {
                    self.start_pipeline();
                }
                self.show_settings = false;
            }
            Command::RefreshDevices => self.devices.refresh(&self.ctx),
            Command::ToggleHelp => self.show_help = !self.show_help,
            Command::CloseHelp => self.show_help = false,
            Command::ToggleTheme => {
                self.settings.theme = match self.settings.theme {
                    ThemeChoice::Dark => ThemeChoice::Light,
                    ThemeChoice::Light => ThemeChoice::Dark,
                };
                self.after_quick_change();
            }
            Command::TogglePalette => {
                self.settings.palette = match self.settings.palette {
                    PaletteChoice::Calm => PaletteChoice::ColourBlindSafe,
                    PaletteChoice::ColourBlindSafe => PaletteChoice::Calm,
                };
                self.after_quick_change();
            }
            Command::LogMarker(i) => self.log_marker(i),
            Command::EndSession => {
                self.wrap_up = Some(WrapUpDraft::default());
            }
            Command::CancelWrapUp => self.wrap_up = None,
            Command::SaveWrapUp => {
                if let Some(w) = self.wrap_up.take() {
                    if let Some(p) = &self.pipeline {
                        p.log(LogLine::WrapUp {
                            t_s: self.model.now_secs,
                            engagement: w.engagement,
                            best_moment: w.best_moment,
                        });
                    }
                }
                self.finish_session();
                self.start_pipeline();
            }
            Command::OpenSessions => {
                self.finish_session();
                self.screen = Screen::Sessions(self.list_sessions());
            }
            Command::OpenReview(dir) => {
                let state = review::ReviewState::open(
                    &self.ctx,
                    dir,
                    crate::session::model::LoadOptions::default(),
                    self.settings.marker_codes.clone(),
                );
                self.screen = Screen::Review(Box::new(state));
            }
            Command::RecordVoice => {
                if let Some(p) = &self.pipeline {
                    if p.record_enrolment(enrol::ENROL_SECS) {
                        self.enrolment.recording_since = Some(Instant::now());
                        self.enrolment.notice = None;
                    }
                }
            }
            Command::ForgetVoice => {
                self.enrolment.forget();
                self.options.voices = None;
                self.start_pipeline();
            }
            Command::BackToLive => {
                self.screen = Screen::Live;
                if self.pipeline.is_none() {
                    self.start_pipeline();
                }
            }
            Command::TextBigger | Command::TextSmaller => {
                let step = if command == Command::TextBigger {
                    0.1
                } else {
                    -0.1
                };
                self.settings.text_scale += step;
                self.settings = self.settings.clone().sanitised();
                self.after_quick_change();
            }
        }
    }

    /// Logs observation code `i` now: a tick on the ribbon and a line in `events.jsonl`.
    fn log_marker(&mut self, i: usize) {
        let Some(code) = self.settings.marker_codes.get(i).cloned() else {
            return;
        };
        let t_s = self.model.add_marker(&code);
        if let Some(p) = &self.pipeline {
            p.log(LogLine::Marker {
                t_s,
                code,
                note: String::new(),
            });
        }
    }

    /// Stops listening and closes the recording; says where it was saved.
    fn finish_session(&mut self) {
        let recorded = self
            .recording_to
            .take()
            .filter(|_| !self.model.input.demo_fallback);
        if let Some(p) = self.pipeline.take() {
            let report = p.stop();
            self.session_notice = match (recorded, report.recording) {
                (Some(dir), Some(r)) if r.audio_secs > 0.0 => Some(format!(
                    "Session saved: {} ({})",
                    dir.display(),
                    crate::time::clock_tenths(r.audio_secs)
                )),
                _ => None,
            };
        }
        self.recording_started = None;
    }

    fn list_sessions(&self) -> Vec<sessions_view::SessionEntry> {
        self.options
            .sessions_dir
            .as_deref()
            .map(sessions_view::list_sessions)
            .unwrap_or_default()
    }

    fn after_quick_change(&mut self) {
        self.draft.theme = self.settings.theme;
        self.draft.palette = self.settings.palette;
        self.draft.text_scale = self.settings.text_scale;
        self.save_settings();
        self.apply_look();
    }

    fn shortcuts(&self, ctx: &egui::Context) -> Vec<Command> {
        if ctx.egui_wants_keyboard_input() {
            return Vec::new();
        }
        ctx.input(|i| {
            let mut out = Vec::new();
            let pressed = |k: Key| i.key_pressed(k);
            if pressed(Key::S) {
                out.push(if self.show_settings {
                    Command::CloseSettings
                } else {
                    Command::OpenSettings
                });
            }
            if pressed(Key::D) && !self.show_settings {
                out.push(Command::OpenSettings);
            }
            if pressed(Key::H) || pressed(Key::F1) {
                out.push(Command::ToggleHelp);
            }
            if pressed(Key::T) {
                out.push(Command::ToggleTheme);
            }
            if pressed(Key::C) {
                out.push(Command::TogglePalette);
            }
            if pressed(Key::Plus) || pressed(Key::Equals) {
                out.push(Command::TextBigger);
            }
            if pressed(Key::Minus) {
                out.push(Command::TextSmaller);
            }
            if pressed(Key::Escape) {
                out.push(Command::CloseSettings);
                out.push(Command::CloseHelp);
                out.push(Command::CancelWrapUp);
            }
            let live = !self.show_settings && self.wrap_up.is_none();
            if live {
                for (k, key) in DIGIT_KEYS.iter().enumerate() {
                    if pressed(*key) {
                        out.push(Command::LogMarker(k));
                    }
                }
                if pressed(Key::E) {
                    out.push(Command::EndSession);
                }
                if pressed(Key::R) {
                    out.push(Command::OpenSessions);
                }
            }
            out
        })
    }

    fn drain_messages(&mut self) {
        let Some(p) = &self.pipeline else {
            return;
        };
        for _ in 0..MESSAGES_PER_FRAME {
            match p.messages().try_recv() {
                Ok(crate::live::LiveMessage::Enrolment { rate_hz, samples }) => {
                    self.enrolment.take_input(rate_hz, samples, &self.ctx)
                }
                Ok(m) => self.model.apply(m),
                Err(_) => break,
            }
        }
        if let Some(models) = self.enrolment.poll() {
            // Listen again with the voice told apart (a session being recorded ends here).
            self.options.voices = Some(models);
            self.finish_session();
            self.start_pipeline();
        }
        if self.enrolment.recording_since.is_some() || self.enrolment.learning() {
            self.ctx.request_repaint_after(ACTIVE_REPAINT);
        }
    }

    /// The whole screen. UI thread.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if let Some(notices) = self.recovery.as_ref().and_then(|r| r.try_recv().ok()) {
            self.recovery = None;
            self.recovery_notice = (!notices.is_empty()).then(|| notices.join("\n"));
        }
        let pal = Palette::new(self.settings.theme, self.settings.palette);
        match &mut self.screen {
            Screen::Live => {}
            Screen::Sessions(list) => {
                let root = self.options.sessions_dir.clone();
                let mut command = None;
                egui::CentralPanel::default()
                    .frame(egui::Frame::new().inner_margin(20.0))
                    .show(ui, |ui| {
                        if let Some(n) = &self.session_notice {
                            ui.label(RichText::new(n).size(16.0).color(pal.muted));
                        }
                        command = sessions_view::sessions_ui(ui, root.as_deref(), list, &pal);
                    });
                match command {
                    Some(sessions_view::SessionsCommand::Open(d)) => {
                        self.apply(Command::OpenReview(d))
                    }
                    Some(sessions_view::SessionsCommand::BackToLive) => {
                        self.apply(Command::BackToLive)
                    }
                    Some(sessions_view::SessionsCommand::Refresh) => {
                        self.screen = Screen::Sessions(self.list_sessions());
                    }
                    None => {}
                }
                return;
            }
            Screen::Review(state) => {
                if state.ui(ui, &pal) == Some(review::ReviewCommand::Close) {
                    self.screen = Screen::Sessions(self.list_sessions());
                }
                return;
            }
        }
        let ctx = ui.ctx().clone();
        self.devices.poll();
        self.drain_messages();
        self.model.settle_awaiting();
        let mut commands = self.shortcuts(&ctx);
        // On the live screen no widget keeps the keyboard focus, so Space never presses a
        // button there: every action has its key.
        if !self.show_settings && !self.show_help && self.wrap_up.is_none() {
            ctx.memory_mut(|m| {
                if let Some(id) = m.focused() {
                    m.surrender_focus(id);
                }
            });
        }
        // Push-to-talk: the partner holds Space (or a foot pedal typing it) while answering.
        let key_held = !ctx.egui_wants_keyboard_input() && ctx.input(|i| i.key_down(Key::Space));
        if let Some((start_s, end_s)) = self.model.set_partner_key(key_held) {
            if let Some(p) = &self.pipeline {
                p.log(LogLine::PushToTalk {
                    t_s: end_s,
                    start_s,
                    end_s,
                });
            }
        }
        let cue = self.model.turn_cue(self.settings.pause_secs);

        egui::Panel::bottom("status").show(ui, |ui| {
            let stats = self.pipeline.as_ref().map(|p| p.stats().as_ref());
            let recording = self
                .recording_to
                .as_ref()
                .filter(|_| !self.model.input.demo_fallback)
                .zip(self.recording_started);
            if let Some(c) = status_view::status_ui(ui, &self.model, stats, recording, &pal) {
                commands.push(c);
            }
        });
        egui::Panel::right("card")
            .exact_size(ui.available_width() * 0.3)
            .resizable(false)
            .frame(egui::Frame::new().inner_margin(16.0))
            .show(ui, |ui| {
                live_view::mirror_card_ui(ui, self.model.card.as_ref(), &pal);
                ui.add_space(12.0);
                live_view::echo_ui(ui, &self.model, &pal);
                live_view::pace_ui(ui, &self.model, &pal);
            });
        egui::CentralPanel::default()
            .frame(egui::Frame::new().inner_margin(20.0))
            .show(ui, |ui| {
                if let Some(e) = &self.start_error {
                    live_view::notice_ui(ui, &format!("Cannot listen: {e}"), pal.warning);
                }
                if let Some(n) = status_view::input_notice(&self.model) {
                    live_view::notice_ui(
                        ui,
                        &n.text,
                        if n.warning { pal.warning } else { pal.muted },
                    );
                }
                let stats = self.pipeline.as_ref().map(|p| p.stats().as_ref());
                if let Some(text) = status_view::clipping_notice(&self.model, stats) {
                    live_view::notice_ui(ui, text, pal.warning);
                }
                if let Some(e) = &self.model.recording_error {
                    live_view::notice_ui(ui, e, pal.warning);
                }
                if let Some(n) = &self.session_notice {
                    ui.label(RichText::new(n).size(15.0).color(pal.muted));
                }
                if let Some(n) = &self.recovery_notice {
                    ui.label(RichText::new(n).size(15.0).color(pal.muted));
                }
                live_view::turn_cue_ui(ui, cue, &pal);
                let voices = if self.options.voices.is_some() {
                    "Voices are told apart by your enrolment; hold Space while you answer to be sure"
                } else if self.model.push_to_talk_used {
                    "Your sounds are those made while you hold Space"
                } else {
                    "Voices are not told apart yet: every voice counts. Hold Space while you answer"
                };
                ui.label(RichText::new(voices).size(15.0).color(pal.muted));
                if let Some(i) =
                    live_view::marker_bar_ui(ui, &self.settings.marker_codes, &self.model, &pal)
                {
                    commands.push(Command::LogMarker(i));
                }
                ui.add_space(8.0);
                live_view::ribbon_ui(
                    ui,
                    &self.model,
                    (self.settings.f0_min_hz, self.settings.f0_max_hz),
                    &pal,
                );
            });

        if self.show_settings {
            let devices = self.devices.devices.as_deref();
            if let Some(c) = settings_view::settings_ui(
                &ctx,
                &mut self.draft,
                devices,
                self.save_error.as_deref(),
                &self.enrolment,
            ) {
                commands.push(c);
            }
        }
        if self.show_help {
            if let Some(c) = settings_view::help_ui(&ctx) {
                commands.push(c);
            }
        }
        if let Some(draft) = &mut self.wrap_up {
            if let Some(c) = settings_view::wrap_up_ui(&ctx, draft) {
                commands.push(c);
            }
        }
        for c in commands {
            self.apply(c);
        }

        self.model.frame_drawn(Instant::now());
        let moving = self.model.ribbon_active()
            || matches!(
                cue,
                TurnCue::Listening | TurnCue::YourTurn { .. } | TurnCue::Answering
            );
        ctx.request_repaint_after(if moving { ACTIVE_REPAINT } else { IDLE_REPAINT });
    }
}

impl eframe::App for AttuneApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.stop_pipeline();
    }
}

impl Drop for AttuneApp {
    fn drop(&mut self) {
        self.stop_pipeline();
    }
}

/// Opens the window and runs it until it is closed. Main thread.
pub fn run_window(options: AppOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("attune")
            .with_inner_size([1180.0, 720.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    eframe::run_native(
        "attune",
        native,
        Box::new(move |cc| Ok(Box::new(AttuneApp::new(&cc.egui_ctx, options)))),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open the window: {e}. Without a display, `attune live --headless --demo --duration 60 --session-dir DIR` runs the same pipeline"
        )
    })
}

/// The review window on its own (`attune review PATH`). Main thread.
struct ReviewApp {
    state: review::ReviewState,
    settings: Settings,
}

impl eframe::App for ReviewApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let pal = Palette::new(self.settings.theme, self.settings.palette);
        if self.state.ui(ui, &pal) == Some(review::ReviewCommand::Close) {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}

/// Opens the review window on `path` and runs it until it is closed. Main thread.
pub fn run_review_window(
    path: PathBuf,
    options: crate::session::model::LoadOptions,
    marker_codes: Vec<String>,
) -> anyhow::Result<()> {
    let settings = SettingsStore::user().load();
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("attune review")
            .with_inner_size([1280.0, 760.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    eframe::run_native(
        "attune review",
        native,
        Box::new(move |cc| {
            cc.egui_ctx.set_theme(match settings.theme {
                ThemeChoice::Dark => egui::Theme::Dark,
                ThemeChoice::Light => egui::Theme::Light,
            });
            cc.egui_ctx.set_zoom_factor(settings.text_scale);
            let state = review::ReviewState::open(&cc.egui_ctx, path, options, marker_codes);
            Ok(Box::new(ReviewApp { state, settings }))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open the window: {e}. Without a display, `attune export SESSION --out DIR` writes the same results"
        )
    })
}
