//! The review timeline: markers, waveform, pitch per person, vocalisations per person, turns
//! with their latency and mirroring score, the time axis and an overview of the whole session.
//! Drawing and hit-testing only; the review screen applies what it returns. UI thread.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2};

use super::review::{Loaded, Selection};
use super::theme::Palette;
use crate::analysis::speaker::Speaker;
use crate::dsp::semitones;

/// Heights of the lanes (points).
const MARKER_H: f32 = 22.0;
const WAVE_H: f32 = 80.0;
const PITCH_H: f32 = 130.0;
const PERSON_H: f32 = 30.0;
const TURN_H: f32 = 34.0;
const AXIS_H: f32 = 18.0;
const OVERVIEW_H: f32 = 16.0;
const GAP: f32 = 6.0;
/// Left margin for the lanes' names (points).
const GUTTER: f32 = 64.0;
/// A click this close to a segment's edge grabs the edge (points).
const EDGE_GRAB: f32 = 5.0;
/// Shortest view (s).
const MIN_SPAN_SECS: f64 = 1.0;

/// Which part of the session is on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineView {
    pub start_secs: f64,
    pub span_secs: f64,
    pub duration_secs: f64,
}

impl Default for TimelineView {
    fn default() -> Self {
        Self::fit(60.0)
    }
}

impl TimelineView {
    /// The whole session.
    pub fn fit(duration_secs: f64) -> Self {
        let d = duration_secs.max(MIN_SPAN_SECS);
        Self {
            start_secs: 0.0,
            span_secs: d,
            duration_secs: d,
        }
    }

    fn clamp(&mut self) {
        self.span_secs = self.span_secs.clamp(MIN_SPAN_SECS, self.duration_secs);
        self.start_secs = self
            .start_secs
            .clamp(0.0, (self.duration_secs - self.span_secs).max(0.0));
    }

    /// Zooms by `factor` (< 1: in) keeping `around_secs` where it is.
    pub fn zoom(&mut self, factor: f64, around_secs: f64) {
        let frac = ((around_secs - self.start_secs) / self.span_secs).clamp(0.0, 1.0);
        self.span_secs *= factor;
        self.clamp();
        self.start_secs = around_secs - frac * self.span_secs;
        self.clamp();
    }

    /// Scrolls so that `t` is on screen.
    pub fn show(&mut self, t: f64) {
        if t < self.start_secs || t > self.start_secs + self.span_secs {
            self.start_secs = t - self.span_secs * 0.25;
            self.clamp();
        }
    }

    /// Keeps a moving playback cursor on screen (pages on).
    pub fn follow(&mut self, t: f64) {
        if t > self.start_secs + self.span_secs * 0.95 || t < self.start_secs {
            self.start_secs = t - self.span_secs * 0.05;
            self.clamp();
        }
    }

    fn x(&self, rect: Rect, t: f64) -> f32 {
        rect.left() + ((t - self.start_secs) / self.span_secs) as f32 * rect.width()
    }

    fn t(&self, rect: Rect, x: f32) -> f64 {
        self.start_secs + f64::from((x - rect.left()) / rect.width().max(1.0)) * self.span_secs
    }
}

/// What a click landed on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hit {
    Segment(usize),
    Turn(usize),
    Marker(usize),
    Time(f64),
}

/// What the user did on the timeline this frame.
#[derive(Debug, Default)]
pub struct TimelineOutput {
    pub clicked: Option<Hit>,
    /// An edge being dragged: (segment, is_start, time under the pointer).
    pub drag: Option<(usize, bool, f64)>,
    pub drag_released: bool,
}

struct Lanes {
    markers: Rect,
    wave: Rect,
    pitch: Rect,
    person: [Rect; 2],
    turns: Rect,
    axis: Rect,
    overview: Rect,
}

fn lanes(rect: Rect, pitch_h: f32) -> Lanes {
    let mut y = rect.top();
    let mut take = |h: f32| {
        let r = Rect::from_min_size(Pos2::new(rect.left(), y), Vec2::new(rect.width(), h));
        y += h + GAP;
        r
    };
    Lanes {
        markers: take(MARKER_H),
        wave: take(WAVE_H),
        pitch: take(pitch_h),
        person: [take(PERSON_H), take(PERSON_H)],
        turns: take(TURN_H),
        axis: take(AXIS_H),
        overview: take(OVERVIEW_H),
    }
}

/// Total height of the timeline with a pitch lane `pitch_h` high.
fn height(pitch_h: f32) -> f32 {
    MARKER_H + WAVE_H + pitch_h + 2.0 * PERSON_H + TURN_H + AXIS_H + OVERVIEW_H + 7.0 * GAP
}

/// The colour of a speaker's sounds.
pub fn speaker_colour(s: Speaker, parties: [Speaker; 2], pal: &Palette) -> Color32 {
    if s == parties[0] && s != Speaker::Unknown {
        pal.voice
    } else if s == parties[1] && s != Speaker::Unknown {
        pal.turn
    } else {
        pal.muted
    }
}

fn lane_of(s: Speaker, parties: [Speaker; 2]) -> usize {
    usize::from(s == parties[1] && s != Speaker::Unknown)
}

/// Draws the timeline and reports clicks and drags. UI thread.
pub fn timeline_ui(
    ui: &mut Ui,
    loaded: &Loaded,
    view: &mut TimelineView,
    cursor_secs: f64,
    selection: Option<Selection>,
    dragging: Option<(usize, bool, f64)>,
    pal: &Palette,
) -> TimelineOutput {
    let model = &loaded.model;
    view.duration_secs = model.duration_secs.max(MIN_SPAN_SECS);
    let v = *view;
    let width = ui.available_width();
    // The pitch lane takes the room left over (the rest is fixed), keeping a line for the hint.
    let pitch_h = (ui.available_height() - height(0.0) - 40.0).max(PITCH_H);
    let (full, response) =
        ui.allocate_exact_size(Vec2::new(width, height(pitch_h)), Sense::click_and_drag());
    let painter = ui.painter_at(full);
    let rect = Rect::from_min_max(full.min + Vec2::new(GUTTER, 0.0), full.max);
    let l = lanes(rect, pitch_h);
    let gutter_label = |r: Rect, text: &str| {
        painter.text(
            Pos2::new(full.left() + 2.0, r.center().y),
            Align2::LEFT_CENTER,
            text,
            FontId::proportional(12.0),
            pal.muted,
        );
    };
    gutter_label(l.markers, "markers");
    gutter_label(l.wave, "sound");
    gutter_label(l.pitch, "pitch");
    gutter_label(l.turns, "turns");
    let parties = model.parties();
    let visible = |a: f64, b: f64| b >= v.start_secs && a <= v.start_secs + v.span_secs;
    let small = FontId::proportional(12.0);

    // Waveform: min/max of the 10 ms blocks under each pixel column.
    painter.rect_filled(l.wave, 4.0, pal.card_bg);
    let mid = l.wave.center().y;
    let cols = l.wave.width().max(1.0) as usize;
    let env = &loaded.envelope;
    for c in 0..cols {
        let t0 = v.t(l.wave, l.wave.left() + c as f32);
        let t1 = v.t(l.wave, l.wave.left() + c as f32 + 1.0);
        let (a, b) = (
            (t0 * 100.0).max(0.0) as usize,
            ((t1 * 100.0).ceil() as usize).max((t0 * 100.0) as usize + 1),
        );
        let (lo, hi) = env
            .get(a.min(env.len())..b.min(env.len()))
            .unwrap_or(&[])
            .iter()
            .fold((0f32, 0f32), |(lo, hi), &(x, y)| (lo.min(x), hi.max(y)));
        if hi > lo {
            let x = l.wave.left() + c as f32 + 0.5;
            let h = l.wave.height() * 0.5;
            painter.line_segment(
                [
                    Pos2::new(x, mid - hi.min(1.0) * h),
                    Pos2::new(x, mid - lo.max(-1.0) * h),
                ],
                Stroke::new(1.0, pal.muted),
            );
        }
    }

    // Pitch per person on a semitone scale over the session's range.
    painter.rect_filled(l.pitch, 4.0, pal.card_bg);
    let pitch = &loaded.pitch;
    let (mut lo, mut hi) = (f32::INFINITY, 0f32);
    for (_, f0, _) in pitch {
        lo = lo.min(*f0);
        hi = hi.max(*f0);
    }
    if hi > lo {
        let (st_lo, st_hi) = (semitones(lo / 0.97, 1.0), semitones(hi * 1.03, 1.0));
        let y_of = |f0: f32| {
            let st = semitones(f0, 1.0);
            l.pitch.bottom() - (st - st_lo) / (st_hi - st_lo).max(1.0) * l.pitch.height()
        };
        for (text, f) in [(format!("{lo:.0} Hz"), lo), (format!("{hi:.0} Hz"), hi)] {
            painter.text(
                Pos2::new(l.pitch.left() + 4.0, y_of(f)),
                Align2::LEFT_CENTER,
                text,
                small.clone(),
                pal.muted,
            );
        }
        let step = (pitch.len() / 20_000).max(1);
        for (t, f0, who) in pitch.iter().step_by(step) {
            if visible(*t, *t) {
                painter.circle_filled(
                    Pos2::new(v.x(l.pitch, *t), y_of(*f0)),
                    1.6,
                    speaker_colour(*who, parties, pal),
                );
            }
        }
    }

    // Vocalisations, one lane per person.
    for (k, r) in l.person.iter().enumerate() {
        painter.rect_filled(*r, 4.0, pal.card_bg);
        gutter_label(*r, super::review::speaker_name(parties[k]));
    }
    let seg_rect = |i: usize| -> Option<Rect> {
        let s = model.segments.get(i)?;
        let (mut a, mut b) = (s.vocalisation.start.secs(), s.vocalisation.end.secs());
        if let Some((d, is_start, t)) = dragging {
            if d == i {
                if is_start {
                    a = t.min(b - 0.02);
                } else {
                    b = t.max(a + 0.02);
                }
            }
        }
        let lane = l.person[lane_of(s.speaker, parties)];
        let (x0, x1) = (v.x(lane, a), v.x(lane, b).max(v.x(lane, a) + 2.0));
        Some(Rect::from_x_y_ranges(
            x0..=x1,
            lane.shrink2(Vec2::new(0.0, 4.0)).y_range(),
        ))
    };
    for (i, s) in model.segments.iter().enumerate() {
        if !visible(s.vocalisation.start.secs(), s.vocalisation.end.secs()) {
            continue;
        }
        let Some(r) = seg_rect(i) else { continue };
        painter.rect_filled(r, 3.0, speaker_colour(s.speaker, parties, pal));
        if selection == Some(Selection::Segment(i)) {
            painter.rect_stroke(
                r.expand(2.0),
                3.0,
                Stroke::new(2.0, pal.text),
                StrokeKind::Outside,
            );
        }
    }

    // Turns: a bar from the end of a sound to the start of its answer.
    let turn_rect = |i: usize| -> Option<Rect> {
        let t = model.turns.get(i)?;
        let (a, b) = (
            t.turn.prev_end_secs.min(t.turn.next_start_secs),
            t.turn.prev_end_secs.max(t.turn.next_start_secs),
        );
        let (x0, x1) = (v.x(l.turns, a), v.x(l.turns, b));
        let (x0, x1) = (x0.min(x1 - 4.0), x1.max(x0 + 4.0));
        Some(Rect::from_x_y_ranges(
            x0..=x1,
            (l.turns.top() + 4.0)..=(l.turns.top() + 14.0),
        ))
    };
    for (i, t) in model.turns.iter().enumerate() {
        if !visible(t.turn.prev_end_secs - 1.0, t.turn.next_start_secs + 1.0) {
            continue;
        }
        let Some(r) = turn_rect(i) else { continue };
        let c = speaker_colour(t.turn.to, parties, pal);
        let fill = if t.chattr { c } else { c.gamma_multiply(0.4) };
        painter.rect_filled(r, 2.0, fill);
        if selection == Some(Selection::Turn(i)) {
            painter.rect_stroke(
                r.expand(2.0),
                2.0,
                Stroke::new(2.0, pal.text),
                StrokeKind::Outside,
            );
        }
        let label = match &t.mirror {
            Some(m) if t.turn.to == parties[1] => {
                format!("{:.1}s · {:.0}", t.turn.latency_secs, m.score)
            }
            _ => format!("{:.1}s", t.turn.latency_secs),
        };
        let px_per_sec = rect.width() as f64 / v.span_secs;
        if px_per_sec > 25.0 {
            painter.text(
                Pos2::new(r.center().x, l.turns.top() + 16.0),
                Align2::CENTER_TOP,
                label,
                small.clone(),
                pal.muted,
            );
        }
    }

    // Markers: ticks across the timeline with their code.
    let marker_x = |i: usize| model.markers.get(i).map(|m| v.x(l.markers, m.t_s));
    for (i, m) in model.markers.iter().enumerate() {
        if !visible(m.t_s, m.t_s) {
            continue;
        }
        let x = v.x(l.markers, m.t_s);
        let selected = selection == Some(Selection::Marker(i));
        let c = if selected { pal.text } else { pal.beat };
        painter.line_segment(
            [
                Pos2::new(x, l.markers.top()),
                Pos2::new(x, l.turns.bottom()),
            ],
            Stroke::new(if selected { 2.0 } else { 1.0 }, c.gamma_multiply(0.7)),
        );
        painter.text(
            Pos2::new(x + 3.0, l.markers.center().y),
            Align2::LEFT_CENTER,
            &m.code,
            small.clone(),
            c,
        );
    }

    // Time axis.
    let tick = nice_step(v.span_secs / 8.0);
    let mut t = (v.start_secs / tick).ceil() * tick;
    while t <= v.start_secs + v.span_secs {
        let x = v.x(l.axis, t);
        painter.line_segment(
            [Pos2::new(x, l.axis.top()), Pos2::new(x, l.axis.top() + 4.0)],
            Stroke::new(1.0, pal.muted),
        );
        painter.text(
            Pos2::new(x, l.axis.top() + 4.0),
            Align2::CENTER_TOP,
            crate::time::clock_tenths(t),
            small.clone(),
            pal.muted,
        );
        t += tick;
    }

    // Overview: the whole session, the part on screen, the markers.
    painter.rect_filled(l.overview, 3.0, pal.card_bg);
    let whole = TimelineView::fit(v.duration_secs);
    let (v0, v1) = (
        whole.x(l.overview, v.start_secs),
        whole.x(l.overview, v.start_secs + v.span_secs),
    );
    painter.rect_filled(
        Rect::from_x_y_ranges(v0..=v1.max(v0 + 3.0), l.overview.y_range()),
        3.0,
        pal.grid,
    );
    for m in &model.markers {
        let x = whole.x(l.overview, m.t_s);
        painter.line_segment(
            [
                Pos2::new(x, l.overview.top()),
                Pos2::new(x, l.overview.bottom()),
            ],
            Stroke::new(1.0, pal.beat),
        );
    }

    // Cursor.
    let cx = v.x(rect, cursor_secs);
    if rect.x_range().contains(cx) {
        painter.line_segment(
            [Pos2::new(cx, rect.top()), Pos2::new(cx, l.axis.top())],
            Stroke::new(2.0, pal.text),
        );
    }

    // Input.
    let mut out = TimelineOutput::default();
    let pointer = response.interact_pointer_pos().or(response.hover_pos());
    let zoom = ui.input(|i| i.zoom_delta());
    let scroll = ui.input(|i| i.smooth_scroll_delta);
    if response.hovered() {
        if let Some(p) = pointer {
            if (zoom - 1.0).abs() > 1e-3 {
                view.zoom(1.0 / f64::from(zoom), view.t(rect, p.x));
            } else if scroll.x.abs() + scroll.y.abs() > 0.0 {
                let d = if scroll.x.abs() > scroll.y.abs() {
                    scroll.x
                } else {
                    scroll.y
                };
                view.start_secs -= f64::from(d / rect.width()) * view.span_secs;
                view.clamp();
            }
        }
    }
    if response.drag_started() {
        if let Some(p) = response.interact_pointer_pos() {
            if l.overview.contains(p) {
                // handled below as a jump
            } else if let Some((i, is_start)) = edge_at(model, &seg_rect, p) {
                out.drag = Some((i, is_start, view.t(rect, p.x)));
            }
        }
    }
    if response.dragged() {
        if let Some(p) = response.interact_pointer_pos() {
            if let Some((i, is_start, _)) = dragging {
                out.drag = Some((
                    i,
                    is_start,
                    view.t(rect, p.x).clamp(0.0, view.duration_secs),
                ));
            } else if l.overview.contains(p) {
                view.start_secs = whole.t(l.overview, p.x) - view.span_secs / 2.0;
                view.clamp();
            } else {
                view.start_secs -=
                    f64::from(response.drag_delta().x / rect.width()) * view.span_secs;
                view.clamp();
            }
        }
    }
    if response.drag_stopped() && dragging.is_some() {
        out.drag_released = true;
    }
    if response.clicked() {
        if let Some(p) = response.interact_pointer_pos() {
            out.clicked = Some(if l.overview.contains(p) {
                view.start_secs = whole.t(l.overview, p.x) - view.span_secs / 2.0;
                view.clamp();
                Hit::Time(whole.t(l.overview, p.x))
            } else if l.markers.contains(p) {
                (0..model.markers.len())
                    .filter_map(|i| marker_x(i).map(|x| (i, (x - p.x).abs())))
                    .filter(|(_, d)| *d < 8.0)
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map_or(Hit::Time(view.t(rect, p.x)), |(i, _)| Hit::Marker(i))
            } else if let Some(i) = (0..model.segments.len())
                .find(|&i| seg_rect(i).is_some_and(|r| r.expand(2.0).contains(p)))
            {
                Hit::Segment(i)
            } else if let Some(i) = (0..model.turns.len())
                .find(|&i| turn_rect(i).is_some_and(|r| r.expand(3.0).contains(p)))
            {
                Hit::Turn(i)
            } else {
                Hit::Time(view.t(rect, p.x).clamp(0.0, view.duration_secs))
            });
        }
    }
    out
}

fn edge_at(
    model: &crate::session::model::SessionModel,
    seg_rect: &dyn Fn(usize) -> Option<Rect>,
    p: Pos2,
) -> Option<(usize, bool)> {
    (0..model.segments.len()).find_map(|i| {
        let r = seg_rect(i)?;
        if !r.y_range().contains(p.y) {
            return None;
        }
        if (p.x - r.left()).abs() <= EDGE_GRAB {
            Some((i, true))
        } else if (p.x - r.right()).abs() <= EDGE_GRAB {
            Some((i, false))
        } else {
            None
        }
    })
}

/// A round tick step near `raw` seconds.
fn nice_step(raw: f64) -> f64 {
    const STEPS: [f64; 12] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0,
    ];
    STEPS.iter().copied().find(|s| *s >= raw).unwrap_or(600.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_point_under_the_pointer_and_stays_in_the_session() {
        let mut v = TimelineView::fit(100.0);
        v.zoom(0.1, 50.0);
        assert!((v.span_secs - 10.0).abs() < 1e-9);
        assert!((v.start_secs - 45.0).abs() < 1e-9);
        v.zoom(100.0, 50.0);
        assert_eq!((v.start_secs, v.span_secs), (0.0, 100.0));
        v.zoom(0.001, 99.9);
        assert_eq!(v.span_secs, MIN_SPAN_SECS);
        assert!(v.start_secs + v.span_secs <= 100.0);
    }
}
