//! The live screen: the turn cue, the pitch ribbon with its beats, the mirror card. Each view
//! borrows the model and draws; none changes it. UI thread.

use egui::{Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, Ui, Vec2};

use super::state::{LiveModel, MirrorCard, RIBBON_SECS};
use super::theme::Palette;
use crate::analysis::cue::TurnCue;
use crate::analysis::mirror::MirrorScore;
use crate::dsp::semitones_f64;

/// Level (dBFS) drawn with the thinnest and the thickest ribbon.
const QUIET_DBFS: f32 = -60.0;
const LOUD_DBFS: f32 = -10.0;
const RIBBON_MIN_WIDTH: f32 = 3.0;
const RIBBON_MAX_WIDTH: f32 = 18.0;
/// Frames per drawn piece of the ribbon (its width is their mean loudness).
const RIBBON_PIECE: usize = 6;

/// The big cue at the top: listening, your turn (with the pause timer), quiet.
pub fn turn_cue_ui(ui: &mut Ui, cue: TurnCue, pal: &Palette) {
    let (word, colour, timer) = match cue {
        TurnCue::Waiting => ("Waiting for a sound", pal.muted, None),
        TurnCue::Listening => ("Listening", pal.voice, None),
        TurnCue::YourTurn { pause_secs } => ("Your turn", pal.turn, Some(pause_secs)),
        TurnCue::Quiet { pause_secs } => ("Quiet", pal.muted, Some(pause_secs)),
        TurnCue::Answering => ("You are answering", pal.beat, None),
    };
    ui.horizontal(|ui| {
        let (dot, _) = ui.allocate_exact_size(Vec2::splat(44.0), Sense::hover());
        ui.painter().circle_filled(dot.center(), 18.0, colour);
        ui.label(RichText::new(word).size(52.0).strong().color(colour));
        if let Some(p) = timer {
            ui.add_space(24.0);
            ui.label(
                RichText::new(format!("{p:.1} s"))
                    .size(40.0)
                    .color(pal.muted)
                    .monospace(),
            )
            .on_hover_text("Time since the last sound");
        }
    });
}

fn width_for(level_dbfs: f32) -> f32 {
    let x = ((level_dbfs - QUIET_DBFS) / (LOUD_DBFS - QUIET_DBFS)).clamp(0.0, 1.0);
    RIBBON_MIN_WIDTH + x * (RIBBON_MAX_WIDTH - RIBBON_MIN_WIDTH)
}

/// The pitch ribbon for the last 10 s on a semitone scale between the person's range, its
/// thickness the loudness; beats (onsets) as dots along the bottom with the syllable rate.
pub fn ribbon_ui(ui: &mut Ui, model: &LiveModel, f0_range_hz: (f64, f64), pal: &Palette) {
    let size = Vec2::new(ui.available_width(), ui.available_height().max(160.0));
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    let beats_h = 36.0;
    let plot = Rect::from_min_max(rect.min, Pos2::new(rect.max.x, rect.max.y - beats_h));
    let (lo_hz, hi_hz) = f0_range_hz;
    let span_st = semitones_f64(hi_hz, lo_hz).max(1.0);
    let now = model.now_secs;
    let x_of = |t: f64| plot.max.x - ((now - t) / RIBBON_SECS) as f32 * plot.width();
    let y_of = |f: f64| {
        let st = semitones_f64(f.clamp(lo_hz, hi_hz), lo_hz);
        plot.max.y - (st / span_st) as f32 * plot.height()
    };

    // Observation markers of the last seconds: faint ticks with their code.
    for (t, code) in model
        .markers
        .iter()
        .rev()
        .take_while(|(t, _)| *t >= now - RIBBON_SECS)
    {
        let x = x_of(*t);
        painter.vline(
            x,
            plot.y_range(),
            Stroke::new(1.0, pal.beat.gamma_multiply(0.6)),
        );
        painter.text(
            Pos2::new(x + 3.0, plot.min.y + 2.0),
            Align2::LEFT_TOP,
            code,
            FontId::proportional(13.0),
            pal.beat,
        );
    }

    // Octave lines, labelled in Hz, faint.
    let mut f = lo_hz;
    while f <= hi_hz * 1.001 {
        let y = y_of(f);
        painter.hline(plot.x_range(), y, Stroke::new(1.0, pal.grid));
        painter.text(
            Pos2::new(plot.min.x + 4.0, y - 2.0),
            Align2::LEFT_BOTTOM,
            format!("{f:.0} Hz"),
            FontId::proportional(13.0),
            pal.muted,
        );
        f *= 2.0;
    }

    // The contour: runs of voiced frames as polylines, a few frames per piece so the width can
    // follow the loudness without a shape per frame; the vocalisation in progress in full colour.
    let current_from = model.vocalising_since.unwrap_or(f64::INFINITY);
    let mut piece: Vec<Pos2> = Vec::with_capacity(RIBBON_PIECE + 1);
    let mut piece_width = 0.0f32;
    // 0: the person's earlier sounds, 1: the sound in progress, 2: the partner's.
    let mut piece_kind = 0u8;
    let mut last_t = f64::NEG_INFINITY;
    let flush = |piece: &mut Vec<Pos2>, width: f32, kind: u8| {
        let n = piece.len();
        if n == 0 {
            return;
        }
        let colour = match kind {
            1 => pal.voice,
            2 => pal.partner_voice,
            _ => pal.voice_past,
        };
        let w = width / n as f32;
        if n == 1 {
            painter.circle_filled(piece[0], w / 2.0, colour);
        } else {
            painter.add(egui::Shape::line(piece.clone(), Stroke::new(w, colour)));
        }
        // The next piece starts where this one ended.
        let last = piece[n - 1];
        piece.clear();
        piece.push(last);
    };
    for p in model.pitch.iter().filter(|p| p.t_secs >= now - RIBBON_SECS) {
        let Some(f0) = p.f0_hz else {
            continue;
        };
        let pos = Pos2::new(x_of(p.t_secs), y_of(f64::from(f0)));
        let kind = if model.partner_at(p.t_secs) {
            2
        } else {
            u8::from(p.t_secs >= current_from)
        };
        let joined = p.t_secs - last_t < 0.035;
        if !joined || kind != piece_kind || piece.len() > RIBBON_PIECE {
            flush(&mut piece, piece_width, piece_kind);
            if !joined {
                piece.clear();
            }
            piece_width = piece.len() as f32 * width_for(p.level_dbfs);
            piece_kind = kind;
        }
        piece.push(pos);
        piece_width += width_for(p.level_dbfs);
        last_t = p.t_secs;
    }
    flush(&mut piece, piece_width, piece_kind);
    // Where "now" is.
    painter.vline(plot.max.x - 1.0, plot.y_range(), Stroke::new(2.0, pal.grid));

    // Beats.
    let beat_y = rect.max.y - beats_h / 2.0;
    for &o in model.onsets.iter().filter(|&&o| o >= now - RIBBON_SECS) {
        painter.circle_filled(Pos2::new(x_of(o), beat_y), 7.0, pal.beat);
    }
    if let Some(rate) = model.syllable_rate_hz() {
        painter.text(
            Pos2::new(plot.max.x - 8.0, plot.min.y + 4.0),
            Align2::RIGHT_TOP,
            format!("{rate:.1} beats/s"),
            FontId::proportional(22.0),
            pal.beat,
        );
    }
}

/// The shape of the person's last sound, big enough to echo: its contour normalised to its own
/// range, its length, its beats.
pub fn mirror_card_ui(ui: &mut Ui, card: Option<&MirrorCard>, pal: &Palette) {
    egui::Frame::new()
        .fill(pal.card_bg)
        .corner_radius(12.0)
        .inner_margin(14.0)
        .show(ui, |ui| {
            ui.label(RichText::new("Last sound").size(22.0).color(pal.muted));
            let Some(card) = card else {
                ui.add_space(8.0);
                ui.label(RichText::new("No sound yet").size(18.0).color(pal.muted));
                return;
            };
            let size = Vec2::new(ui.available_width(), 150.0);
            let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
            draw_card_contour(ui, rect, card, pal);
            ui.add_space(6.0);
            let mut line = format!("{:.1} s", card.duration_secs);
            if card.f0_median_hz > 0.0 {
                line.push_str(&format!("  ·  {:.0} Hz", card.f0_median_hz));
            }
            if card.beats.len() > 1 {
                line.push_str(&format!("  ·  {} beats", card.beats.len()));
            }
            ui.label(RichText::new(line).size(24.0).color(pal.text));
        });
}

fn draw_card_contour(ui: &Ui, rect: Rect, card: &MirrorCard, pal: &Palette) {
    let painter = ui.painter_at(rect);
    let dur = card.duration_secs.max(0.05);
    let x_of = |t: f64| rect.min.x + (t / dur) as f32 * rect.width();
    let beat_y = rect.max.y - 8.0;
    for &b in &card.beats {
        painter.circle_filled(Pos2::new(x_of(b), beat_y), 6.0, pal.beat);
    }
    if card.contour.is_empty() {
        return;
    }
    let raw: Vec<f64> = card
        .contour
        .iter()
        .map(|&(_, f)| semitones_f64(f64::from(f), 1.0))
        .collect();
    // A median of three steadies single-frame jumps, so the shape reads at a glance.
    let st: Vec<f64> = (0..raw.len())
        .map(|i| {
            let mut w = [
                raw[i.saturating_sub(1)],
                raw[i],
                raw[(i + 1).min(raw.len() - 1)],
            ];
            w.sort_by(f64::total_cmp);
            w[1]
        })
        .collect();
    let lo = st.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = st.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // At least 6 semitones tall, so a steady hum looks steady, not jagged.
    let mid = (lo + hi) / 2.0;
    let half = ((hi - lo) / 2.0).max(3.0);
    let plot_h = rect.height() - 24.0;
    let y_of = |s: f64| rect.min.y + 4.0 + ((mid + half - s) / (2.0 * half)) as f32 * plot_h;
    let points: Vec<Pos2> = card
        .contour
        .iter()
        .zip(&st)
        .map(|(&(t, _), &s)| Pos2::new(x_of(t), y_of(s)))
        .collect();
    let stroke = Stroke::new(8.0, pal.voice);
    let mut run: Vec<Pos2> = Vec::new();
    let mut last_t = f64::NEG_INFINITY;
    for (p, &(t, _)) in points.iter().zip(&card.contour) {
        if t - last_t > 0.06 && !run.is_empty() {
            draw_run(&painter, &run, stroke);
            run.clear();
        }
        run.push(*p);
        last_t = t;
    }
    draw_run(&painter, &run, stroke);
}

fn draw_run(painter: &egui::Painter, run: &[Pos2], stroke: Stroke) {
    match run.len() {
        0 => {}
        1 => {
            painter.circle_filled(run[0], stroke.width / 2.0, stroke.color);
        }
        _ => {
            painter.add(egui::Shape::line(run.to_vec(), stroke));
        }
    }
}

/// A one-line notice, calm but visible.
pub fn notice_ui(ui: &mut Ui, text: &str, colour: Color32) {
    ui.label(RichText::new(text).size(20.0).color(colour));
}

/// The echo score: how closely the partner's last answer mirrored the person's sound, its
/// parts, and the session so far.
pub fn echo_ui(ui: &mut Ui, model: &LiveModel, pal: &Palette) {
    egui::Frame::new()
        .fill(pal.card_bg)
        .corner_radius(12.0)
        .inner_margin(14.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new("Echo match").size(22.0).color(pal.muted));
            let Some(last) = model.echoes.back() else {
                let hint = if model.push_to_talk_used {
                    "No answer scored yet"
                } else {
                    "Hold Space while you answer to see how closely you mirrored"
                };
                ui.label(RichText::new(hint).size(16.0).color(pal.muted));
                return;
            };
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!("{:.0}", last.score.score))
                        .size(56.0)
                        .strong()
                        .color(pal.turn),
                );
                ui.vertical(|ui| parts_ui(ui, &last.score, pal));
            });
            // The session: one bar per answer, the latest on the right.
            let n = model.echoes.len();
            let mean = model
                .echoes
                .iter()
                .map(|e| f64::from(e.score.score))
                .sum::<f64>()
                / n as f64;
            let (rect, _) =
                ui.allocate_exact_size(Vec2::new(ui.available_width(), 40.0), Sense::hover());
            let painter = ui.painter_at(rect);
            let shown = n.min(40);
            let bar_w = rect.width() / 40.0;
            for (i, e) in model.echoes.iter().skip(n - shown).enumerate() {
                let h = rect.height() * e.score.score / 100.0;
                let x = rect.max.x - (shown - i) as f32 * bar_w;
                painter.rect_filled(
                    Rect::from_min_max(
                        Pos2::new(x + 1.0, rect.max.y - h),
                        Pos2::new(x + bar_w - 1.0, rect.max.y),
                    ),
                    2.0,
                    pal.voice_past,
                );
            }
            ui.label(
                RichText::new(format!("{n} answer(s) this session, mean {mean:.0}"))
                    .size(15.0)
                    .color(pal.muted),
            );
        });
}

fn parts_ui(ui: &mut Ui, s: &MirrorScore, pal: &Palette) {
    // The two parts the score weighs (analysis::mirror::MirrorWeights).
    for (name, x) in [("shape", s.contour), ("length", s.duration)] {
        ui.label(
            RichText::new(format!("{name} {x:.0}"))
                .size(15.0)
                .color(pal.text),
        );
    }
}

/// Pace and intensity: what is measured, in plain words; no judgement.
pub fn pace_ui(ui: &mut Ui, model: &LiveModel, pal: &Palette) {
    let mut lines = Vec::new();
    let pace = &model.pace;
    if let Some(d) = pace.loudness_difference_db() {
        let how = if d >= 0.0 { "louder" } else { "softer" };
        lines.push(format!("Your voice: {:.0} dB {how} than theirs", d.abs()));
    }
    if let Some(share) = pace.partner_share() {
        lines.push(format!("Your share of the sound: {:.0} %", share * 100.0));
    }
    if let Some(l) = pace.median_latency_secs() {
        lines.push(format!("You answer after {l:.1} s (median)"));
    }
    if let Some((recent, earlier)) = model.recent_activity(2) {
        lines.push(format!(
            "Their sound: {recent:.0} s/min in the last 2 min, {earlier:.0} s/min before"
        ));
    }
    if lines.is_empty() {
        return;
    }
    ui.add_space(10.0);
    ui.label(RichText::new("Pace").size(18.0).color(pal.muted));
    for l in lines {
        ui.label(RichText::new(l).size(15.0).color(pal.text));
    }
}

/// The observation codes as small buttons (keys 1–9), and the last one logged. Returns the
/// index of a code clicked.
pub fn marker_bar_ui(
    ui: &mut Ui,
    codes: &[String],
    model: &LiveModel,
    pal: &Palette,
) -> Option<usize> {
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Log:").color(pal.muted));
        for (i, c) in codes.iter().enumerate() {
            if ui
                .button(RichText::new(format!("{} {c}", i + 1)).color(pal.muted))
                .clicked()
            {
                clicked = Some(i);
            }
        }
        if let Some((t, code)) = model.markers.back() {
            ui.label(
                RichText::new(format!(
                    "· logged {code} at {}",
                    crate::time::clock_tenths(*t)
                ))
                .color(pal.beat),
            );
        }
    });
    clicked
}
