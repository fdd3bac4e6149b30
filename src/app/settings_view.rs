//! The settings window and the help overlay. They edit a draft and return what the user asked
//! for as a [`Command`]; the app applies it. UI thread.

use egui::{ComboBox, Context, DragValue, RichText, Slider, Window};

use super::enrol::Enrolment;
use super::settings::{
    DeviceSetting, PaletteChoice, Settings, ThemeChoice, MAX_MARKER_CODES, PAUSE_SECS_RANGE,
    TEXT_SCALE_RANGE,
};
use super::{Command, WrapUpDraft};
use crate::audio::device::InputDeviceInfo;
use crate::session::log::ENGAGEMENT_LEVELS;

/// The settings window over the live screen.
pub fn settings_ui(
    ctx: &Context,
    draft: &mut Settings,
    devices: Option<&[InputDeviceInfo]>,
    save_error: Option<&str>,
    enrolment: &Enrolment,
) -> Option<Command> {
    let mut command = None;
    Window::new("Settings")
        .collapsible(false)
        .resizable(false)
        .default_width(880.0)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            // Two columns, so that the window fits a small laptop screen.
            ui.columns(2, |cols| {
                let ui = &mut cols[0];
                ui.heading("Person");
                egui::Grid::new("person")
                    .num_columns(2)
                    .spacing([16.0, 8.0])
                    .show(ui, |ui| {
                        ui.label("Pseudonym");
                        ui.text_edit_singleline(&mut draft.participant)
                            .on_hover_text(
                                "A name you choose for the person; never their real name",
                            );
                        ui.end_row();
                        ui.label("Lowest pitch (Hz)");
                        ui.add(
                            DragValue::new(&mut draft.f0_min_hz)
                                .range(30.0..=1000.0)
                                .speed(1.0),
                        );
                        ui.end_row();
                        ui.label("Highest pitch (Hz)");
                        ui.add(
                            DragValue::new(&mut draft.f0_max_hz)
                                .range(60.0..=2000.0)
                                .speed(5.0),
                        );
                        ui.end_row();
                        ui.label("Pause before \"your turn\" (s)");
                        ui.add(
                            Slider::new(
                                &mut draft.pause_secs,
                                PAUSE_SECS_RANGE.0..=PAUSE_SECS_RANGE.1,
                            )
                            .step_by(0.1),
                        );
                        ui.end_row();
                    });
                if draft.analysis_config().validate().is_err() {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "The pitch range must span at least an octave, within 30-2000 Hz.",
                    );
                }

                ui.separator();
                ui.heading("Input");
                ui.horizontal(|ui| {
                    ComboBox::from_id_salt("device")
                        .selected_text(draft.device.label())
                        .width(300.0)
                        .show_ui(ui, |ui| {
                            ui.selectable_value(
                                &mut draft.device,
                                DeviceSetting::Default,
                                "Default input",
                            );
                            ui.selectable_value(
                                &mut draft.device,
                                DeviceSetting::Demo,
                                "Demo session",
                            );
                            for d in devices.unwrap_or_default() {
                                let label = match &d.default_config {
                                    Some(c) => format!("{} ({}, {c})", d.name, d.host),
                                    None => format!("{} ({})", d.name, d.host),
                                };
                                ui.selectable_value(
                                    &mut draft.device,
                                    DeviceSetting::Named(d.name.clone()),
                                    label,
                                );
                            }
                        });
                    if ui.button("Refresh").clicked() {
                        command = Some(Command::RefreshDevices);
                    }
                });
                match devices {
                    None => {
                        ui.label("Looking for input devices...");
                    }
                    Some([]) => {
                        ui.label("No input device found: the demo session plays instead.");
                    }
                    Some(list) => {
                        ui.label(format!("{} input device(s) found", list.len()));
                    }
                }

                ui.separator();
                ui.heading("Your voice");
                ui.label(
                "Speak and vocalise alone for 10 s, as you would in a session: attune then tells \
                 your sounds from the person's by voice.",
            );
                ui.horizontal(|ui| {
                    if let Some(left) = enrolment.secs_left() {
                        ui.spinner();
                        ui.label(
                            RichText::new(format!("Recording your voice… {left:.0} s"))
                                .size(18.0)
                                .strong(),
                        );
                    } else if enrolment.learning() {
                        ui.spinner();
                        ui.label("Learning your voice…");
                    } else {
                        let label = if enrolment.enrolled() {
                            "Record my voice again (10 s)"
                        } else {
                            "Record my voice (10 s)"
                        };
                        if ui.button(label).clicked() {
                            command = Some(Command::RecordVoice);
                        }
                        if enrolment.enrolled() && ui.button("Forget my voice").clicked() {
                            command = Some(Command::ForgetVoice);
                        }
                    }
                });
                ui.label(if enrolment.enrolled() {
                    "Enrolled: kept beside the settings, readable by you only."
                } else {
                    "Not enrolled: hold Space while you answer instead."
                });
                if let Some((text, warn)) = &enrolment.notice {
                    let c = if *warn {
                        ui.visuals().warn_fg_color
                    } else {
                        ui.visuals().weak_text_color()
                    };
                    ui.colored_label(c, text);
                }
                let ui = &mut cols[1];
                ui.heading("Observation codes");
                ui.label("Keys 1–9 log these during a session (a tick on the timeline).");
                let mut remove = None;
                egui::Grid::new("codes")
                    .num_columns(3)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        for (i, code) in draft.marker_codes.iter_mut().enumerate() {
                            ui.label(RichText::new(format!("{}", i + 1)).strong().monospace());
                            ui.add_sized([200.0, 20.0], egui::TextEdit::singleline(code));
                            if ui.small_button("Remove").clicked() {
                                remove = Some(i);
                            }
                            ui.end_row();
                        }
                    });
                if let Some(i) = remove {
                    draft.marker_codes.remove(i);
                }
                if draft.marker_codes.len() < MAX_MARKER_CODES && ui.button("Add a code").clicked()
                {
                    draft.marker_codes.push("new code".into());
                }

                ui.separator();
                ui.heading("Display");
                egui::Grid::new("display")
                    .num_columns(2)
                    .spacing([16.0, 8.0])
                    .show(ui, |ui| {
                        ui.label("Text size");
                        ui.add(
                            Slider::new(
                                &mut draft.text_scale,
                                TEXT_SCALE_RANGE.0..=TEXT_SCALE_RANGE.1,
                            )
                            .step_by(0.05),
                        );
                        ui.end_row();
                        ui.label("Theme");
                        ui.horizontal(|ui| {
                            ui.selectable_value(&mut draft.theme, ThemeChoice::Dark, "Dark");
                            ui.selectable_value(&mut draft.theme, ThemeChoice::Light, "Light");
                        });
                        ui.end_row();
                        ui.label("Colours");
                        ui.horizontal(|ui| {
                            ui.selectable_value(&mut draft.palette, PaletteChoice::Calm, "Calm");
                            ui.selectable_value(
                                &mut draft.palette,
                                PaletteChoice::ColourBlindSafe,
                                "Colour-blind safe",
                            );
                        });
                        ui.end_row();
                    });
            });
            if let Some(e) = save_error {
                ui.colored_label(ui.visuals().warn_fg_color, e);
            }
            ui.separator();
            ui.horizontal(|ui| {
                let valid = draft.analysis_config().validate().is_ok();
                if ui
                    .add_enabled(valid, egui::Button::new(RichText::new("Apply").size(18.0)))
                    .clicked()
                {
                    command = Some(Command::Apply);
                }
                if ui.button(RichText::new("Close").size(18.0)).clicked() {
                    command = Some(Command::CloseSettings);
                }
            });
        });
    command
}

/// Every keyboard shortcut.
pub const SHORTCUTS: &[(&str, &str)] = &[
    (
        "Space (hold)",
        "you are answering: push-to-talk (a foot pedal typing Space works too)",
    ),
    (
        "1 – 9",
        "log an observation (the codes are in the settings)",
    ),
    ("E", "end the session: a short wrap-up, then a new session"),
    ("R", "recorded sessions: review, export"),
    ("S", "settings"),
    ("D", "choose the input device"),
    ("T", "light / dark"),
    ("C", "colour-blind-safe colours on / off"),
    ("+ / -", "bigger / smaller"),
    ("H or F1", "this help"),
    ("Esc", "close a window"),
];

/// The help overlay: the shortcuts.
pub fn help_ui(ctx: &Context) -> Option<Command> {
    let mut command = None;
    Window::new("Keyboard shortcuts")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            egui::Grid::new("keys")
                .num_columns(2)
                .spacing([24.0, 6.0])
                .show(ui, |ui| {
                    for (key, what) in SHORTCUTS {
                        ui.label(RichText::new(*key).strong().monospace());
                        ui.label(*what);
                        ui.end_row();
                    }
                });
            if ui.button("Close").clicked() {
                command = Some(Command::CloseHelp);
            }
        });
    command
}

/// The wrap-up at the end of a session: overall engagement and the best moment, a few seconds.
pub fn wrap_up_ui(ctx: &Context, draft: &mut WrapUpDraft) -> Option<Command> {
    let mut command = None;
    Window::new("End of the session")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            ui.label(RichText::new("Overall engagement").size(18.0));
            ui.horizontal(|ui| {
                ui.label("low");
                for level in ENGAGEMENT_LEVELS {
                    let on = draft.engagement == Some(level);
                    if ui
                        .selectable_label(on, RichText::new(level.to_string()).size(22.0))
                        .clicked()
                    {
                        draft.engagement = if on { None } else { Some(level) };
                    }
                }
                ui.label("high");
            });
            ui.add_space(8.0);
            ui.label(RichText::new("The best moment (a few words)").size(18.0));
            ui.add(
                egui::TextEdit::multiline(&mut draft.best_moment)
                    .desired_rows(2)
                    .desired_width(360.0),
            );
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui
                    .button(RichText::new("Save and end the session").size(18.0))
                    .clicked()
                {
                    command = Some(Command::SaveWrapUp);
                }
                if ui
                    .button(RichText::new("Go on recording").size(18.0))
                    .clicked()
                {
                    command = Some(Command::CancelWrapUp);
                }
            });
        });
    command
}
