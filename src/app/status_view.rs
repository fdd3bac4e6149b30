//! The status line (input, rate, drops, latency, recording) and the input notice. UI thread.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use egui::{RichText, Ui};

use super::state::LiveModel;
use super::theme::Palette;
use super::Command;
use crate::live::{InputStatus, PipelineStats};

/// A notice about the input, shown above the cue.
pub struct InputNotice {
    pub text: String,
    pub warning: bool,
}

/// What to say about the input, when there is something to say.
pub fn input_notice(model: &LiveModel) -> Option<InputNotice> {
    let status = model.input.status.as_ref()?;
    let notice = match status {
        InputStatus::Connected {
            playback: true,
            name,
            ..
        } if model.input.demo_fallback => InputNotice {
            text: format!("No microphone found: playing the {name} instead"),
            warning: false,
        },
        InputStatus::Connected { .. } => return None,
        InputStatus::Lost { name, reason } => InputNotice {
            text: format!("{name} stopped ({reason}). What was recorded is kept; reconnecting..."),
            warning: true,
        },
        InputStatus::Waiting { wanted, reason } => InputNotice {
            text: format!("Waiting for {wanted}: {reason}"),
            warning: true,
        },
        InputStatus::Ended { name } => InputNotice {
            text: format!("The {name} has ended"),
            warning: false,
        },
    };
    Some(notice)
}

/// What to say while the input clips (within the last few seconds, and still connected): the
/// sounds are distorted and their levels read low, and only the input gain can mend it.
pub fn clipping_notice(model: &LiveModel, stats: Option<&PipelineStats>) -> Option<&'static str> {
    let connected = matches!(model.input.status, Some(InputStatus::Connected { .. }));
    (connected && stats.is_some_and(|s| s.clipping.load(Ordering::Relaxed)))
        .then_some("The microphone is too loud and clips: turn its input gain down")
}

/// The status line at the bottom. Returns a command when one of its buttons was pressed.
pub fn status_ui(
    ui: &mut Ui,
    model: &LiveModel,
    stats: Option<&PipelineStats>,
    recording: Option<(&PathBuf, Instant)>,
    pal: &Palette,
) -> Option<Command> {
    let mut command = None;
    ui.horizontal_wrapped(|ui| {
        let small = |s: String| RichText::new(s).size(14.0).color(pal.muted);
        match &model.input.status {
            Some(InputStatus::Connected {
                name,
                rate_hz,
                channels,
                ..
            }) => {
                dot(ui, pal.voice);
                ui.label(small(format!("{name} · {rate_hz} Hz · {channels} ch")));
            }
            Some(InputStatus::Lost { name, .. }) => {
                dot(ui, pal.warning);
                ui.label(small(format!("{name}: lost")));
            }
            Some(InputStatus::Waiting { wanted, .. }) => {
                dot(ui, pal.warning);
                ui.label(small(format!("{wanted}: waiting")));
            }
            Some(InputStatus::Ended { name }) => {
                ui.label(small(format!("{name}: ended")));
            }
            None => {
                ui.label(small("starting...".into()));
            }
        }
        if let Some(s) = stats {
            let dropped = s.dropped_frames.load(Ordering::Relaxed)
                + s.ui_dropped.load(Ordering::Relaxed)
                + s.writer_dropped.load(Ordering::Relaxed);
            ui.label(small(format!("· dropped {dropped}")))
                .on_hover_text("Samples (and messages) the program could not keep up with");
            let l = s.latency();
            if l.count > 0 {
                let screen = model.screen_latency();
                let draw = model.draw_latency();
                ui.label(small(format!(
                    "· latency p50 {:.0} / p95 {:.0} ms · on screen p95 {:.0} ms (+{:.0} drawing)",
                    l.p50_ms, l.p95_ms, screen.p95_ms, draw.p95_ms
                )))
                .on_hover_text(
                    "Sound captured → its pitch frame analysed (p50 / p95); sound → the frame that \
                     drew it (p95), of which the drawing part after the analysis",
                );
            }
        }
        if let Some((dir, since)) = recording {
            let secs = since.elapsed().as_secs();
            dot(ui, pal.warning);
            ui.label(RichText::new("REC").size(14.0).color(pal.warning))
                .on_hover_text(dir.display().to_string());
            ui.label(small(format!("{:02}:{:02}", secs / 60, secs % 60)));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Help (H)").clicked() {
                command = Some(Command::ToggleHelp);
            }
            if ui.button("Settings (S)").clicked() {
                command = Some(Command::OpenSettings);
            }
        });
    });
    command
}

/// A small coloured dot (drawn, so no font needs the glyph).
fn dot(ui: &mut Ui, colour: egui::Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::Vec2::splat(14.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 5.0, colour);
}
