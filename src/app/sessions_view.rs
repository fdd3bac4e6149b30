//! The Sessions screen: the recorded sessions under the data folder, newest first, each with
//! its participant, date, length and markers; open one to review it. UI thread (the list is
//! read when the screen opens: a few files per session).

use std::path::{Path, PathBuf};

use egui::{RichText, Ui};

use super::theme::Palette;
use crate::session::folder;
use crate::session::log::read_log;
use crate::session::model::SessionMeta;
use crate::time::clock_tenths as clock;

/// One recorded session as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    pub dir: PathBuf,
    pub meta: SessionMeta,
    pub audio_secs: f64,
    pub markers: usize,
    /// The recording was cut off (the app was killed) and not yet repaired.
    pub interrupted: bool,
    pub reviewed: bool,
}

/// Reads the session folders under `root`, newest first.
pub fn list_sessions(root: &Path) -> Vec<SessionEntry> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut out: Vec<SessionEntry> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|d| d.join(folder::SESSION_FILE).is_file())
        .map(|dir| {
            let meta = std::fs::read(dir.join(folder::SESSION_FILE))
                .ok()
                .and_then(|b| serde_json::from_slice::<SessionMeta>(&b).ok())
                .unwrap_or_default();
            let audio_secs = folder::recorded_secs(&dir);
            let markers = read_log(&dir.join(folder::EVENTS_FILE)).map_or(0, |l| l.markers.len());
            SessionEntry {
                interrupted: dir.join(folder::MARKER_FILE).is_file(),
                reviewed: dir.join(folder::REVIEW_FILE).is_file(),
                dir,
                meta,
                audio_secs,
                markers,
            }
        })
        .collect();
    out.sort_by(|a, b| b.dir.cmp(&a.dir));
    out
}

/// What the Sessions screen asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionsCommand {
    Open(PathBuf),
    BackToLive,
    Refresh,
}

/// The list. UI thread.
pub fn sessions_ui(
    ui: &mut Ui,
    root: Option<&Path>,
    sessions: &[SessionEntry],
    pal: &Palette,
) -> Option<SessionsCommand> {
    let mut command = None;
    ui.horizontal(|ui| {
        if ui
            .button(RichText::new("Back to live").size(18.0))
            .clicked()
        {
            command = Some(SessionsCommand::BackToLive);
        }
        if ui.button(RichText::new("Refresh").size(18.0)).clicked() {
            command = Some(SessionsCommand::Refresh);
        }
        ui.label(RichText::new("Recorded sessions").size(24.0));
    });
    if let Some(r) = root {
        ui.label(RichText::new(format!("in {}", r.display())).color(pal.muted));
    }
    ui.add_space(8.0);
    if sessions.is_empty() {
        ui.label(
            RichText::new(
                "No sessions recorded yet. Sessions from a microphone are recorded here.",
            )
            .size(18.0)
            .color(pal.muted),
        );
        return command;
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("sessions")
            .num_columns(6)
            .striped(true)
            .spacing([18.0, 8.0])
            .show(ui, |ui| {
                for h in ["Started", "Participant", "Length", "Markers", "", ""] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for s in sessions {
                    let started = s
                        .meta
                        .started_utc
                        .as_deref()
                        .map(|d| d.replace('T', " ").trim_end_matches('Z').to_string())
                        .unwrap_or_else(|| {
                            s.dir
                                .file_name()
                                .map(|n| n.to_string_lossy().to_string())
                                .unwrap_or_default()
                        });
                    ui.label(started);
                    ui.label(s.meta.participant.clone().unwrap_or_default());
                    ui.label(clock(s.audio_secs));
                    ui.label(s.markers.to_string());
                    ui.label(if s.interrupted {
                        RichText::new("interrupted").color(pal.warning)
                    } else if s.reviewed {
                        RichText::new("reviewed").color(pal.muted)
                    } else {
                        RichText::new("")
                    });
                    if ui.button("Review").clicked() {
                        command = Some(SessionsCommand::Open(s.dir.clone()));
                    }
                    ui.end_row();
                }
            });
    });
    command
}
