//! The review screen: one recorded session (or any audio file) on a zoomable timeline, with
//! playback, corrections and exports. Shown by `attune review PATH` and from the window's
//! Sessions screen.
//!
//! [`ReviewState`] lives on the UI thread. Loading (analysis of the whole recording) runs on a
//! "review-loader" thread and arrives through a channel; playback runs in the cpal output
//! callback ([`crate::audio::output`]). Every correction is saved at once to `review.json`
//! beside the recording, and every measure follows it ([`SessionModel::remeasure`]).

use crate::time::clock_tenths;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::Receiver;
use egui::{Key, RichText, Ui};

use super::theme::Palette;
use super::timeline::{self, Hit, TimelineView};
use crate::analysis::speaker::Speaker;
use crate::audio::output::Playback;
use crate::session::log::Marker;
use crate::session::model::{LoadOptions, SessionModel};

/// What the review screen asks of its host.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewCommand {
    /// Back to where it was opened from.
    Close,
}

/// An edit chosen in the details panel, applied once the panel is drawn.
type Action = Box<dyn FnOnce(&mut ReviewState)>;

/// What is selected on the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection {
    Segment(usize),
    Turn(usize),
    Marker(usize),
}

/// A session loaded for review.
pub struct Loaded {
    pub model: SessionModel,
    /// The audio at 16 kHz (the session clock).
    pub audio: Arc<[f32]>,
    /// Min and max of every 10 ms of audio, for the waveform.
    pub envelope: Vec<(f32, f32)>,
    /// The voiced frames by speaker (`SessionModel::pitch_by_speaker`), kept until an edit.
    pub pitch: Vec<(f64, f32, Speaker)>,
}

/// Everything the review screen shows and edits. UI thread.
pub struct ReviewState {
    pub path: PathBuf,
    loading: Option<Receiver<Result<Loaded, String>>>,
    pub loaded: Option<Loaded>,
    pub error: Option<String>,
    playback: Option<Playback>,
    pub playback_error: Option<String>,
    pub view: TimelineView,
    pub cursor_secs: f64,
    pub selection: Option<Selection>,
    /// The latest save or export result ("Corrections saved", an error).
    pub notice: Option<(String, bool)>,
    marker_codes: Vec<String>,
    /// A boundary being dragged: (segment, is_start, time).
    pub dragging: Option<(usize, bool, f64)>,
}

fn envelope(audio: &[f32]) -> Vec<(f32, f32)> {
    audio
        .chunks(160)
        .map(|c| {
            c.iter()
                .fold((0f32, 0f32), |(lo, hi), &x| (lo.min(x), hi.max(x)))
        })
        .collect()
}

/// Loads a session: analysis and audio. "review-loader" thread.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, String> {
    let model = SessionModel::load(path, options).map_err(|e| e.to_string())?;
    let audio: Arc<[f32]> = model.read_audio_16k().map_err(|e| e.to_string())?.into();
    let envelope = envelope(&audio);
    let pitch = model.pitch_by_speaker();
    Ok(Loaded {
        model,
        audio,
        envelope,
        pitch,
    })
}

impl ReviewState {
    /// Starts loading `path` on a loader thread. UI thread.
    pub fn open(
        ctx: &egui::Context,
        path: PathBuf,
        options: LoadOptions,
        marker_codes: Vec<String>,
    ) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let ctx2 = ctx.clone();
        let p = path.clone();
        let spawned = std::thread::Builder::new()
            .name("review-loader".into())
            .spawn(move || {
                let _ = tx.send(load(&p, &options));
                ctx2.request_repaint();
            });
        let mut state = Self::empty(path, marker_codes);
        match spawned {
            Ok(_) => state.loading = Some(rx),
            Err(e) => state.error = Some(format!("cannot start loading: {e}")),
        }
        state
    }

    fn empty(path: PathBuf, marker_codes: Vec<String>) -> Self {
        Self {
            path,
            loading: None,
            loaded: None,
            error: None,
            playback: None,
            playback_error: None,
            view: TimelineView::default(),
            cursor_secs: 0.0,
            selection: None,
            notice: None,
            marker_codes,
            dragging: None,
        }
    }

    fn take_loaded(&mut self, loaded: Loaded) {
        self.view = TimelineView::fit(loaded.model.duration_secs);
        // What was skipped of the session's edited files, said on screen.
        if let Some(first) = loaded.model.notices.first() {
            let more = loaded.model.notices.len() - 1;
            let text = if more == 0 {
                first.clone()
            } else {
                format!("{first} (and {more} more)")
            };
            self.notice = Some((text, true));
        }
        self.loaded = Some(loaded);
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    fn poll(&mut self) {
        if let Some(rx) = &self.loading {
            if let Ok(result) = rx.try_recv() {
                self.loading = None;
                match result {
                    Ok(l) => self.take_loaded(l),
                    Err(e) => self.error = Some(e),
                }
            }
        }
    }

    /// Opens the audio output on first use. UI thread.
    fn playback(&mut self) -> Option<&Playback> {
        if self.playback.is_none() && self.playback_error.is_none() {
            let audio = self.loaded.as_ref().map(|l| Arc::clone(&l.audio))?;
            match Playback::open(audio) {
                Ok(p) => self.playback = Some(p),
                Err(e) => self.playback_error = Some(e.to_string()),
            }
        }
        self.playback.as_ref()
    }

    /// Plays `[from, to)` (`None`: on to the end) and moves the cursor along.
    pub fn play(&mut self, from_secs: f64, to_secs: Option<f64>) {
        self.cursor_secs = from_secs;
        if let Some(p) = self.playback() {
            p.play(from_secs, to_secs);
        }
    }

    pub fn is_playing(&self) -> bool {
        self.playback.as_ref().is_some_and(Playback::is_playing)
    }

    fn toggle_play(&mut self) {
        if self.is_playing() {
            if let Some(p) = &self.playback {
                p.pause();
            }
        } else {
            self.play(self.cursor_secs, None);
        }
    }

    /// Saves the corrections and says so.
    fn saved(&mut self) {
        let Some(l) = &self.loaded else { return };
        self.notice = Some(match l.model.save_corrections() {
            Ok(()) => (
                format!("Corrections saved to {}", l.model.review_path.display()),
                false,
            ),
            Err(e) => (format!("Corrections not saved: {e}"), true),
        });
    }

    /// Applies an edit to the model, then saves.
    pub fn edit(&mut self, f: impl FnOnce(&mut SessionModel) -> Option<Selection>) {
        let Some(l) = &mut self.loaded else { return };
        let sel = f(&mut l.model);
        l.pitch = l.model.pitch_by_speaker();
        self.selection = sel;
        self.saved();
    }

    /// Adds a marker with code `code` at the cursor.
    pub fn add_marker(&mut self, code: &str) {
        let t_s = self.cursor_secs;
        let code = code.to_string();
        self.edit(|m| {
            Some(Selection::Marker(m.add_marker(Marker {
                t_s,
                code,
                note: String::new(),
            })))
        });
    }

    /// Exports every format into `DIR/exports` (folder) or beside the file.
    fn export(&mut self) {
        let Some(l) = &self.loaded else { return };
        let out = export_dir(&l.model);
        let formats = crate::export::Format::ALL;
        self.notice = Some(
            match crate::export::export_session(&l.model, &formats, &out) {
                Ok(files) => (
                    format!("Exported {} files to {}", files.len(), out.display()),
                    false,
                ),
                Err(e) => (format!("Export failed: {e}"), true),
            },
        );
    }

    fn keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let (space, plus, minus, left, right, del, esc, user, partner, digit) = ctx.input(|i| {
            let digit = (0..9).find(|d| i.key_pressed(super::DIGIT_KEYS[*d]));
            (
                i.key_pressed(Key::Space),
                i.key_pressed(Key::Plus) || i.key_pressed(Key::Equals),
                i.key_pressed(Key::Minus),
                i.key_pressed(Key::ArrowLeft),
                i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::Delete) || i.key_pressed(Key::Backspace),
                i.key_pressed(Key::Escape),
                i.key_pressed(Key::U),
                i.key_pressed(Key::P),
                digit,
            )
        });
        if space {
            self.toggle_play();
        }
        if plus {
            self.view.zoom(0.5, self.cursor_secs);
        }
        if minus {
            self.view.zoom(2.0, self.cursor_secs);
        }
        if left || right {
            let step = self.view.span_secs / 10.0;
            self.cursor_secs = (self.cursor_secs + if left { -step } else { step }).max(0.0);
            self.view.show(self.cursor_secs);
        }
        if esc {
            self.selection = None;
        }
        if let Some(Selection::Segment(i)) = self.selection {
            if user || partner {
                let who = if user {
                    Speaker::User
                } else {
                    Speaker::Partner
                };
                self.edit(|m| {
                    m.set_speaker(i, who);
                    Some(Selection::Segment(i))
                });
            }
            if del {
                self.edit(|m| {
                    m.delete_segment(i);
                    None
                });
            }
        } else if let Some(Selection::Marker(i)) = self.selection {
            if del {
                self.edit(|m| {
                    m.delete_marker(i);
                    None
                });
            }
        }
        if let Some(d) = digit {
            if let Some(code) = self.marker_codes.get(d).cloned() {
                self.add_marker(&code);
            }
        }
    }

    /// The whole review screen. UI thread.
    pub fn ui(&mut self, ui: &mut Ui, pal: &Palette) -> Option<ReviewCommand> {
        self.poll();
        let ctx = ui.ctx().clone();
        let mut command = None;
        egui::Panel::top("review-bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui.button(RichText::new("Back").size(16.0)).clicked() {
                    command = Some(ReviewCommand::Close);
                }
                ui.separator();
                let title = match &self.loaded {
                    Some(l) => title(&l.model),
                    None => self.path.display().to_string(),
                };
                ui.label(RichText::new(title).size(18.0).strong());
                if self.loaded.is_some() {
                    ui.separator();
                    let label = if self.is_playing() { "Pause" } else { "Play" };
                    if ui.button(RichText::new(label).size(16.0)).clicked() {
                        self.toggle_play();
                    }
                    if ui.button("Zoom in").clicked() {
                        self.view.zoom(0.5, self.cursor_secs);
                    }
                    if ui.button("Zoom out").clicked() {
                        self.view.zoom(2.0, self.cursor_secs);
                    }
                    if ui.button("Whole session").clicked() {
                        if let Some(l) = &self.loaded {
                            self.view = TimelineView::fit(l.model.duration_secs);
                        }
                    }
                    ui.separator();
                    if ui.button(RichText::new("Export").size(16.0)).clicked() {
                        self.export();
                    }
                }
            });
            if let Some((text, warn)) = &self.notice {
                let c = if *warn { pal.warning } else { pal.muted };
                ui.label(RichText::new(text).color(c));
            }
            if let Some(e) = &self.playback_error {
                ui.label(RichText::new(e).color(pal.warning));
            }
        });
        if let Some(e) = &self.error {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label(
                    RichText::new(format!("Cannot open the session: {e}"))
                        .size(20.0)
                        .color(pal.warning),
                );
            });
            return command;
        }
        if self.loaded.is_none() {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(RichText::new("Analysing the session…").size(20.0));
                });
            });
            return command;
        }
        self.keys(&ctx);
        if self.playback.as_ref().is_some_and(Playback::failed) {
            // Reopened at the next Play.
            self.playback = None;
            self.notice = Some((
                "The audio output was lost; Play tries it again".into(),
                true,
            ));
        }
        if let Some(p) = &self.playback {
            if p.is_playing() {
                self.cursor_secs = p.position_secs();
                self.view.follow(self.cursor_secs);
                ctx.request_repaint_after(std::time::Duration::from_millis(30));
            }
        }
        egui::Panel::right("review-details")
            .exact_size((ui.available_width() * 0.3).max(260.0))
            .resizable(false)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.details_ui(ui, pal));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            let Some(l) = &self.loaded else { return };
            let out = timeline::timeline_ui(
                ui,
                l,
                &mut self.view,
                self.cursor_secs,
                self.selection,
                self.dragging,
                pal,
            );
            ui.add_space(6.0);
            ui.label(
                RichText::new(
                    "Click a sound or a turn to hear it · drag a sound's edge to move it · \
                     U / P: the person's / the partner's · Delete: not a vocalisation · \
                     1–9: a marker at the cursor · Space: play · +/-: zoom · Ctrl+wheel: zoom",
                )
                .color(pal.muted),
            );
            self.timeline_input(out);
        });
        command
    }

    fn timeline_input(&mut self, out: timeline::TimelineOutput) {
        if let Some((seg, is_start, t)) = out.drag {
            self.dragging = Some((seg, is_start, t));
        }
        if out.drag_released {
            if let Some((i, is_start, t)) = self.dragging.take() {
                self.edit(|m| {
                    let s = m.segments.get(i)?;
                    let (a, b) = (s.vocalisation.start.secs(), s.vocalisation.end.secs());
                    let (a, b) = if is_start {
                        (t.min(b - 0.02), b)
                    } else {
                        (a, t.max(a + 0.02))
                    };
                    m.set_bounds(i, a, b).map(Selection::Segment)
                });
            }
        }
        let Some(hit) = out.clicked else { return };
        let Some(l) = &self.loaded else { return };
        match hit {
            Hit::Segment(i) => {
                self.selection = Some(Selection::Segment(i));
                if let Some(s) = l.model.segments.get(i) {
                    let (a, b) = (s.vocalisation.start.secs(), s.vocalisation.end.secs());
                    self.play(a, Some(b));
                }
            }
            Hit::Turn(i) => {
                self.selection = Some(Selection::Turn(i));
                if let Some(t) = l.model.turns.get(i) {
                    let (a, b) = (t.prev_start_secs, t.next_end_secs);
                    self.play(a, Some(b));
                }
            }
            Hit::Marker(i) => {
                self.selection = Some(Selection::Marker(i));
                if let Some(m) = l.model.markers.get(i) {
                    self.cursor_secs = m.t_s;
                }
            }
            Hit::Time(t) => {
                self.selection = None;
                let playing = self.is_playing();
                self.cursor_secs = t;
                if playing {
                    self.play(t, None);
                }
            }
        }
    }

    fn details_ui(&mut self, ui: &mut Ui, pal: &Palette) {
        let Some(l) = &self.loaded else { return };
        let m = &l.model;
        let mut action: Option<Action> = None;
        match self.selection {
            Some(Selection::Segment(i)) => {
                if let Some(s) = m.segments.get(i) {
                    let v = &s.vocalisation;
                    ui.heading("Vocalisation");
                    ui.label(format!(
                        "{} – {}  ({:.2} s)",
                        clock_tenths(v.start.secs()),
                        clock_tenths(v.end.secs()),
                        v.duration_secs()
                    ));
                    if v.f0_median_hz > 0.0 {
                        ui.label(format!(
                            "pitch {:.0} Hz ({:.0}–{:.0})",
                            v.f0_median_hz, v.f0_low_hz, v.f0_high_hz
                        ));
                    }
                    ui.label(format!(
                        "{} syllable(s) · {:.0} dBFS",
                        v.syllables, v.mean_level_dbfs
                    ));
                    ui.label(RichText::new("Who made it?").strong());
                    ui.horizontal_wrapped(|ui| {
                        for who in [Speaker::User, Speaker::Partner, Speaker::A, Speaker::B] {
                            if ui
                                .selectable_label(s.speaker == who, speaker_name(who))
                                .clicked()
                                && s.speaker != who
                            {
                                action = Some(Box::new(move |r: &mut ReviewState| {
                                    r.edit(|m| {
                                        m.set_speaker(i, who);
                                        Some(Selection::Segment(i))
                                    })
                                }));
                            }
                        }
                    });
                    ui.horizontal_wrapped(|ui| {
                        let nudge = |d0: f64, d1: f64| -> Action {
                            Box::new(move |r: &mut ReviewState| {
                                r.edit(|m| {
                                    let s = m.segments.get(i)?;
                                    let (a, b) =
                                        (s.vocalisation.start.secs(), s.vocalisation.end.secs());
                                    m.set_bounds(i, a + d0, b + d1).map(Selection::Segment)
                                })
                            })
                        };
                        if ui.button("start −50 ms").clicked() {
                            action = Some(nudge(-0.05, 0.0));
                        }
                        if ui.button("start +50 ms").clicked() {
                            action = Some(nudge(0.05, 0.0));
                        }
                        if ui.button("end −50 ms").clicked() {
                            action = Some(nudge(0.0, -0.05));
                        }
                        if ui.button("end +50 ms").clicked() {
                            action = Some(nudge(0.0, 0.05));
                        }
                    });
                    if ui.button("Not a vocalisation (remove)").clicked() {
                        action = Some(Box::new(move |r: &mut ReviewState| {
                            r.edit(|m| {
                                m.delete_segment(i);
                                None
                            })
                        }));
                    }
                    ui.separator();
                }
            }
            Some(Selection::Turn(i)) => {
                if let Some(t) = m.turns.get(i) {
                    ui.heading("Turn");
                    ui.label(format!(
                        "{} → {}",
                        speaker_name(t.turn.from),
                        speaker_name(t.turn.to)
                    ));
                    ui.label(if t.turn.latency_secs >= 0.0 {
                        format!("answered after {:.2} s", t.turn.latency_secs)
                    } else {
                        format!("overlapped by {:.2} s", -t.turn.latency_secs)
                    });
                    ui.label(if t.chattr {
                        "a turn by chattr's and LENA's windows"
                    } else {
                        "a turn by LENA's window only"
                    });
                    if let Some(ms) = &t.mirror {
                        ui.label(
                            RichText::new(format!("mirroring {:.0} / 100", ms.score)).strong(),
                        );
                        ui.label(format!(
                            "shape {:.0} · length {:.0}",
                            ms.contour, ms.duration
                        ));
                        ui.label(
                            RichText::new(format!(
                                "not counted: register {:.0} · beats {:.0} · loudness {:.0}",
                                ms.register, ms.beats, ms.loudness
                            ))
                            .weak(),
                        );
                    }
                    ui.separator();
                }
            }
            Some(Selection::Marker(i)) => {
                if let Some(mk) = m.markers.get(i).cloned() {
                    ui.heading("Marker");
                    ui.label(clock_tenths(mk.t_s));
                    let mut edited = mk.clone();
                    egui::ComboBox::from_label("code")
                        .selected_text(edited.code.clone())
                        .show_ui(ui, |ui| {
                            for c in &self.marker_codes {
                                ui.selectable_value(&mut edited.code, c.clone(), c);
                            }
                        });
                    ui.label("Note");
                    ui.text_edit_singleline(&mut edited.note);
                    ui.horizontal(|ui| {
                        if ui.button("Move to cursor").clicked() {
                            edited.t_s = self.cursor_secs;
                        }
                        if ui.button("Remove").clicked() {
                            action = Some(Box::new(move |r: &mut ReviewState| {
                                r.edit(|m| {
                                    m.delete_marker(i);
                                    None
                                })
                            }));
                        }
                    });
                    if edited != mk && action.is_none() {
                        action = Some(Box::new(move |r: &mut ReviewState| {
                            r.edit(|m| m.edit_marker(i, edited).map(Selection::Marker))
                        }));
                    }
                    ui.separator();
                }
            }
            None => {}
        }
        ui.heading("Add a marker at the cursor");
        ui.horizontal_wrapped(|ui| {
            for (k, c) in self.marker_codes.iter().enumerate() {
                if ui.button(format!("{} {c}", k + 1)).clicked() {
                    let c = c.clone();
                    action = Some(Box::new(move |r: &mut ReviewState| r.add_marker(&c)));
                }
            }
        });
        ui.separator();
        measures_ui(ui, m, pal);
        if let Some(a) = action {
            a(self);
        }
    }
}

/// Where the review screen exports: `DIR/exports` for a session folder, `FILE-exports`
/// beside an audio file.
pub fn export_dir(model: &SessionModel) -> PathBuf {
    match &model.source {
        crate::session::model::SessionSource::Folder(d) => d.join("exports"),
        crate::session::model::SessionSource::File(f) => {
            let mut s = f.as_os_str().to_owned();
            s.push("-exports");
            PathBuf::from(s)
        }
    }
}

/// "person", "partner", "voice A"…
pub fn speaker_name(s: Speaker) -> &'static str {
    match s {
        Speaker::User => "person",
        Speaker::Partner => "partner",
        Speaker::A => "voice A",
        Speaker::B => "voice B",
        Speaker::Unknown => "unknown",
    }
}

fn title(m: &SessionModel) -> String {
    let mut t = m.name.clone();
    if let Some(p) = &m.meta.participant {
        t.push_str(&format!(" · {p}"));
    }
    if let Some(d) = &m.meta.started_utc {
        t.push_str(&format!(" · {}", d.replace('T', " ").trim_end_matches('Z')));
    }
    t.push_str(&format!(" · {}", clock_tenths(m.duration_secs)));
    if m.corrected {
        t.push_str(" · reviewed");
    }
    t
}

/// The session's measures, described, not judged.
fn measures_ui(ui: &mut Ui, m: &SessionModel, pal: &Palette) {
    ui.heading("Measures");
    let r = &m.report;
    let [a, b] = m.parties();
    egui::Grid::new("measures")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for (name, t) in &r.turn_models {
                ui.label(format!("turns ({name})"));
                ui.label(format!("{} · {:.1}/min", t.turns, t.turns_per_min));
                ui.end_row();
            }
            if let Some(t) = r.turn_models.get("chattr") {
                for (dir, lat) in &t.latency_by_direction {
                    ui.label(format!("latency {dir}"));
                    ui.label(format!("median {:.2} s (n {})", lat.median_secs, lat.n));
                    ui.end_row();
                }
            }
            for (who, n) in &r.vocalisations_by_speaker {
                let who =
                    Speaker::parse(who).map_or_else(|| who.clone(), |s| speaker_name(s).into());
                ui.label(format!("vocalisations, {who}"));
                ui.label(n.to_string());
                ui.end_row();
            }
            if let Some(mean) = r.mirror.mean_score {
                ui.label("mirroring, mean");
                ui.label(format!("{mean:.0} / 100 ({} answers)", r.mirror.answers));
                ui.end_row();
            }
            ui.label("markers");
            ui.label(m.markers.len().to_string());
            ui.end_row();
        });
    ui.label(
        RichText::new(format!(
            "{} and {} · attribution: {}",
            speaker_name(a),
            speaker_name(b),
            m.attribution
        ))
        .color(pal.muted),
    );
    if let Some(w) = &m.wrap_up {
        ui.separator();
        ui.heading("Wrap-up");
        if let Some(e) = w.engagement {
            ui.label(format!("engagement {e} / 5"));
        }
        if !w.best_moment.is_empty() {
            ui.label(format!("best moment: {}", w.best_moment));
        }
    }
}
