//! `NAME.report.html`: a self-contained session report for practitioners and researchers. One
//! file with inline CSS and inline SVG charts, no script and no external resource of any kind
//! (a Content-Security-Policy forbids loading anything), readable on screen and printable:
//! the key measures, the timeline (who vocalised when, the markers, turns per minute), the
//! response latency distribution for both directions with the chance level, the pitch range
//! of each person, the mirroring score over time, the markers and the wrap-up.
//! Any thread.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{participant_name, xml_escape as esc, ExportContext};
use crate::analysis::speaker::Speaker;
use crate::analysis::stats::quantile;
use crate::analysis::turns::TurnMeasures;
use crate::session::model::SessionModel;

/// Plot width and margins (SVG user units ≈ CSS px).
const W: f64 = 760.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 16.0;

fn colour(s: Speaker) -> &'static str {
    match s {
        Speaker::User | Speaker::A => "#0072B2",
        Speaker::Partner | Speaker::B => "#D55E00",
        Speaker::Unknown => "#7f7f7f",
    }
}

fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "–".to_string()
    }
}

fn opt(x: Option<f64>, digits: usize, unit: &str) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.digits$}{unit}"),
        _ => "–".to_string(),
    }
}

use crate::time::clock;

/// A tick step (s) giving about 6-10 ticks over `span` seconds.
fn tick_step(span: f64) -> f64 {
    [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
    ]
    .into_iter()
    .find(|s| span / s <= 10.0)
    .unwrap_or(3600.0)
}

struct Report<'a> {
    model: &'a SessionModel,
    parties: [Speaker; 2],
    duration: f64,
    x: String,
}

impl Report<'_> {
    fn tx(&self, t: f64) -> f64 {
        LEFT + (t / self.duration.max(1e-9)).clamp(0.0, 1.0) * (W - LEFT - RIGHT)
    }

    fn lena(&self) -> Option<&TurnMeasures> {
        self.model.report.turn_models.get("lena")
    }

    fn chattr(&self) -> Option<&TurnMeasures> {
        self.model.report.turn_models.get("chattr")
    }

    fn name(&self, s: Speaker) -> String {
        match participant_name(self.model, s) {
            Some(p) => format!("{} ({})", s.as_str(), p),
            None => s.as_str().to_string(),
        }
    }

    fn time_axis(&mut self, y: f64, top: f64) {
        let step = tick_step(self.duration);
        let mut t = 0.0;
        while t <= self.duration + 1e-9 {
            let px = self.tx(t);
            let _ = write!(
                self.x,
                "<line x1=\"{px:.1}\" y1=\"{top:.1}\" x2=\"{px:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
                 <text x=\"{px:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                y + 14.0,
                clock(t)
            );
            t += step;
        }
    }

    fn header(&mut self, ctx: &ExportContext) {
        let m = self.model;
        let mut facts = Vec::new();
        if let Some(p) = m.meta.participant.as_deref().filter(|p| !p.is_empty()) {
            facts.push(format!("Participant <b>{}</b>", esc(p)));
        }
        if let Some(p) = m.meta.partner.as_deref().filter(|p| !p.is_empty()) {
            facts.push(format!("partner <b>{}</b>", esc(p)));
        }
        if let Some(d) = m.meta.started_utc.as_deref() {
            facts.push(format!("recorded {}", esc(d)));
        }
        facts.push(format!("length {}", clock(m.duration_secs)));
        let how = match m.attribution.as_str() {
            "two_channels" => "two microphones",
            "enrolment" => "voice enrolment",
            "two_voices" => "voice (two voices, A and B)",
            "push_to_talk" => "the push-to-talk key",
            other => other,
        };
        facts.push(format!("speakers told apart by {}", esc(how)));
        if m.corrected {
            facts.push("reviewed and corrected".into());
        }
        let _ = write!(
            self.x,
            "<header><h1>Session {}</h1><p>{}</p><p class=\"small\">Made by attune {} on {}. \
             Measures describe what the microphone heard; they do not judge.</p></header>",
            esc(&m.name),
            facts.join(" · "),
            env!("CARGO_PKG_VERSION"),
            esc(&ctx.generated_utc)
        );
    }

    fn measures(&mut self) {
        let m = self.model;
        let rep = &m.report;
        let [p1, p2] = self.parties;
        let mut rows: Vec<(String, String)> = Vec::new();
        rows.push(("Session length".into(), clock(m.duration_secs)));
        for p in self.parties {
            let n = rep
                .vocalisations_by_speaker
                .get(p.as_str())
                .copied()
                .unwrap_or(0);
            let secs = rep
                .vocal_activity
                .vocal_secs_by_speaker
                .get(p.as_str())
                .copied()
                .unwrap_or(0.0);
            let share = rep
                .vocal_activity
                .vocal_share_by_speaker
                .get(p.as_str())
                .copied()
                .unwrap_or(0.0);
            rows.push((
                format!("Vocalisations: {}", esc(&self.name(p))),
                format!(
                    "{n} · {} s vocal time · {} % of all vocal time",
                    num(secs, 1),
                    num(share * 100.0, 0)
                ),
            ));
        }
        for (label, tm) in [
            ("chattr (≤ 2 s)", self.chattr()),
            ("LENA (≤ 5 s)", self.lena()),
        ] {
            let Some(tm) = tm else { continue };
            let chance = tm
                .chance
                .get("turns")
                .map(|c| {
                    format!(
                        " · chance {} (95th pct {}), p = {}",
                        num(c.chance_mean, 1),
                        num(c.chance_p95, 1),
                        num(c.p_value, 3)
                    )
                })
                .unwrap_or_default();
            rows.push((
                format!("Turns, {label}"),
                format!(
                    "{} · {} per minute · longest chain {}{chance}",
                    tm.turns,
                    num(tm.turns_per_min, 2),
                    tm.longest_chain
                ),
            ));
        }
        if let Some(tm) = self.lena() {
            for (a, b) in [(p1, p2), (p2, p1)] {
                let dir = format!("{}->{}", a.as_str(), b.as_str());
                let lat = tm
                    .latency_by_direction
                    .get(&dir)
                    .map(|l| {
                        format!(
                            "median {} s (IQR {}–{} s, n = {})",
                            num(l.median_secs, 2),
                            num(l.p25_secs, 2),
                            num(l.p75_secs, 2),
                            l.n
                        )
                    })
                    .unwrap_or_else(|| "no turns".into());
                rows.push((
                    format!("Response latency {} → {}", a.as_str(), b.as_str()),
                    lat,
                ));
            }
        }
        // The answers of the second person (the partner, or B), as the chart shows them.
        let mut scores: Vec<f64> = m
            .turns
            .iter()
            .filter(|r| r.turn.to == p2)
            .filter_map(|r| r.mirror.map(|s| f64::from(s.score)))
            .collect();
        scores.sort_by(f64::total_cmp);
        let mean = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
        rows.push((
            format!("Mirroring of {}'s answers", esc(p2.as_str())),
            format!(
                "{} answers scored · mean {} · median {} (0-100)",
                scores.len(),
                opt(mean, 1, ""),
                opt(quantile(&scores, 0.5), 1, "")
            ),
        ));
        let levels: Vec<String> = self
            .parties
            .iter()
            .filter_map(|p| {
                rep.pace
                    .median_level_dbfs_by_speaker
                    .get(p.as_str())
                    .map(|l| format!("{} {} dBFS", p.as_str(), num(*l, 1)))
            })
            .collect();
        if !levels.is_empty() {
            rows.push((
                "Median loudness".into(),
                format!(
                    "{} · difference {}",
                    levels.join(" · "),
                    opt(rep.pace.level_difference_db, 1, " dB")
                ),
            ));
        }
        if let (Some(last), Some(before)) = (
            rep.pace.first_speaker_vocal_secs_per_min_last_3_min,
            rep.pace.first_speaker_vocal_secs_per_min_before,
        ) {
            rows.push((
                format!("{}'s vocal time per minute", p1.as_str()),
                format!(
                    "last 3 minutes {} s · before {} s",
                    num(last, 1),
                    num(before, 1)
                ),
            ));
        }
        self.x
            .push_str("<section><h2>Key measures</h2><table class=\"measures\"><tbody>");
        for (k, v) in rows {
            let _ = write!(self.x, "<tr><th scope=\"row\">{k}</th><td>{v}</td></tr>");
        }
        self.x.push_str("</tbody></table></section>");
    }

    fn timeline(&mut self) {
        let m = self.model;
        let speakers = super::tier_speakers(m);
        let row_h = 22.0;
        let top = 10.0;
        let markers_y = top + row_h * speakers.len() as f64 + 6.0;
        let axis_y = markers_y + 50.0;
        let h = axis_y + 24.0;
        self.x.push_str(
            "<section><h2>Timeline</h2><p class=\"small\">Each bar is a vocalisation; \
             triangles are the practitioner's markers.</p>",
        );
        let _ = write!(
            self.x,
            "<svg viewBox=\"0 0 {W} {h:.0}\" role=\"img\" aria-label=\"Timeline of the vocalisations and markers\">"
        );
        self.time_axis(axis_y, top);
        for (i, who) in speakers.iter().enumerate() {
            let y = top + row_h * i as f64;
            let _ = write!(
                self.x,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">{}</text>",
                LEFT - 6.0,
                y + row_h * 0.65,
                esc(who.as_str())
            );
            for s in m.segments.iter().filter(|s| s.speaker == *who) {
                let (a, b) = (s.vocalisation.start.secs(), s.vocalisation.end.secs());
                let (xa, xb) = (self.tx(a), self.tx(b));
                let _ = write!(
                    self.x,
                    "<rect x=\"{xa:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" rx=\"2\"><title>{} {}–{} s</title></rect>",
                    y + 3.0,
                    (xb - xa).max(1.0),
                    row_h - 6.0,
                    colour(*who),
                    esc(who.as_str()),
                    num(a, 2),
                    num(b, 2)
                );
            }
        }
        let _ = write!(
            self.x,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">markers</text>",
            LEFT - 6.0,
            markers_y + 14.0
        );
        // Labels (the code) on two alternating lines when they would collide; all of them
        // print, the note is in the tooltip and the table below.
        let mut last_x = [f64::NEG_INFINITY; 2];
        for mk in &m.markers {
            let px = self.tx(mk.t_s);
            let _ = write!(
                self.x,
                "<path d=\"M{:.1} {:.1} l5 -9 h-10 z\" class=\"marker\"><title>{} {}</title></path>",
                px,
                markers_y + 18.0,
                clock(mk.t_s),
                esc(&super::marker_label(&mk.code, &mk.note))
            );
            let width = 6.5 * mk.code.chars().count() as f64;
            if let Some(line) = (0..2).find(|&l| px - width / 2.0 > last_x[l] + 4.0) {
                last_x[line] = px + width / 2.0;
                let _ = write!(
                    self.x,
                    "<text x=\"{px:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                    markers_y + 30.0 + 12.0 * line as f64,
                    esc(&mk.code)
                );
            }
        }
        self.x.push_str("</svg></section>");
    }

    fn turns_per_minute(&mut self) {
        let lena = self
            .lena()
            .map(|t| t.turns_per_minute.clone())
            .unwrap_or_default();
        let chattr = self
            .chattr()
            .map(|t| t.turns_per_minute.clone())
            .unwrap_or_default();
        let minutes = lena.len().max(chattr.len()).max(1);
        let max = lena
            .iter()
            .chain(&chattr)
            .copied()
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let (top, ph) = (12.0, 120.0);
        let base = top + ph;
        self.x.push_str(
            "<section><h2>Turns over time</h2><p class=\"small\">Turns per minute of the session \
             (a turn belongs to the minute its answer starts in): <span class=\"key lena\"></span> \
             LENA windows (answer within 5 s), <span class=\"key chattr\"></span> chattr windows \
             (within 2 s, overlap up to 1 s).</p>",
        );
        let _ = write!(
            self.x,
            "<svg viewBox=\"0 0 {W} {:.0}\" role=\"img\" aria-label=\"Turns per minute\">",
            base + 28.0
        );
        let step = ((max / 5.0).ceil()).max(1.0);
        let max = (max / step).ceil() * step;
        let mut v = 0.0;
        while v <= max + 1e-9 {
            let y = base - v / max * ph;
            let _ = write!(
                self.x,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{v:.0}</text>",
                W - RIGHT,
                LEFT - 6.0,
                y + 4.0
            );
            v += step;
        }
        let slot = (W - LEFT - RIGHT) / minutes as f64;
        let bar = (slot * 0.38).min(24.0);
        for k in 0..minutes {
            let x0 = LEFT + slot * k as f64 + slot / 2.0;
            for (j, (vals, class)) in [(&lena, "lena"), (&chattr, "chattr")].iter().enumerate() {
                let n = vals.get(k).copied().unwrap_or(0) as f64;
                let hgt = n / max * ph;
                let _ = write!(
                    self.x,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{hgt:.1}\" class=\"{class}\"><title>minute {}: {n} {class} turns</title></rect>",
                    x0 - bar + j as f64 * bar,
                    base - hgt,
                    k + 1
                );
            }
            if minutes <= 30 || k % 5 == 0 {
                let _ = write!(
                    self.x,
                    "<text x=\"{x0:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                    base + 14.0,
                    k + 1
                );
            }
        }
        let _ = write!(
            self.x,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">minute</text></svg></section>",
            (LEFT + W - RIGHT) / 2.0,
            base + 27.0
        );
    }

    fn latencies(&mut self) {
        let [p1, p2] = self.parties;
        let (lo, hi, bin) = (-1.0f64, 5.0f64, 0.25f64);
        let bins = ((hi - lo) / bin).round() as usize;
        self.x.push_str(
            "<section><h2>Response latency</h2><p class=\"small\">Time from the end of one \
             person's vocalisation to the start of the other's answer (negative: the answer \
             overlapped), LENA turns, in 0.25 s bins. The shaded band is chattr's window. \
             The chance level is the same measure on timelines where one person's sounds are \
             shifted in time, so that any link between the two is broken.</p><div class=\"pair\">",
        );
        for (a, b) in [(p1, p2), (p2, p1)] {
            let mut lat: Vec<f64> = self
                .model
                .turns
                .iter()
                .filter(|r| r.turn.from == a && r.turn.to == b)
                .map(|r| r.turn.latency_secs)
                .collect();
            lat.sort_by(f64::total_cmp);
            let mut counts = vec![0usize; bins];
            for l in &lat {
                let k = (((l - lo) / bin).floor().max(0.0) as usize).min(bins - 1);
                counts[k] += 1;
            }
            let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
            let (w, left, right, top, ph) = (370.0, 34.0, 8.0, 10.0, 110.0);
            let base = top + ph;
            let px = |t: f64| left + (t - lo) / (hi - lo) * (w - left - right);
            let _ = write!(
                self.x,
                "<figure><figcaption>{} → {}</figcaption><svg viewBox=\"0 0 {w} {:.0}\" role=\"img\" aria-label=\"Latency histogram {} to {}\">",
                esc(a.as_str()),
                esc(b.as_str()),
                base + 30.0,
                esc(a.as_str()),
                esc(b.as_str())
            );
            let _ = write!(
                self.x,
                "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{ph}\" class=\"window\"/>",
                px(-1.0),
                px(2.0) - px(-1.0)
            );
            for (k, c) in counts.iter().enumerate() {
                let x0 = px(lo + bin * k as f64);
                let hgt = *c as f64 / max * ph;
                let _ = write!(
                    self.x,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hgt:.1}\" fill=\"{}\"><title>{}–{} s: {c}</title></rect>",
                    x0 + 0.5,
                    base - hgt,
                    (px(bin) - px(0.0) - 1.0).max(0.5),
                    colour(b),
                    num(lo + bin * k as f64, 2),
                    num(lo + bin * (k + 1) as f64, 2)
                );
            }
            for t in [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0] {
                let _ = write!(
                    self.x,
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{t:.0}</text>",
                    px(t),
                    base + 13.0
                );
            }
            let _ = write!(
                self.x,
                "<line x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\" class=\"axis\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">seconds</text>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{max:.0}</text>",
                w - right,
                (left + w - right) / 2.0,
                base + 27.0,
                left - 4.0,
                top + 8.0
            );
            if let Some(med) = quantile(&lat, 0.5) {
                let x = px(med.clamp(lo, hi));
                let _ = write!(
                    self.x,
                    "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{base}\" class=\"median\"/>"
                );
            }
            self.x.push_str("</svg>");
            let key = format!("answered_fraction_{}->{}", a.as_str(), b.as_str());
            let chance = self.lena().and_then(|t| t.chance.get(&key)).copied();
            let _ = write!(
                self.x,
                "<p class=\"small\">{} turns, median {} s. ",
                lat.len(),
                opt(quantile(&lat, 0.5), 2, "")
            );
            match chance {
                Some(c) => {
                    let _ = write!(
                        self.x,
                        "{} answered {} % of {}'s vocalisations; chance level {} % (95th percentile {} %), p = {}.",
                        esc(b.as_str()),
                        num(c.observed * 100.0, 0),
                        esc(a.as_str()),
                        num(c.chance_mean * 100.0, 0),
                        num(c.chance_p95 * 100.0, 0),
                        num(c.p_value, 3)
                    );
                }
                None => self.x.push_str("No chance level (too few vocalisations)."),
            }
            self.x.push_str("</p></figure>");
        }
        self.x.push_str("</div></section>");
    }

    fn pitch(&mut self) {
        let mut by: BTreeMap<&'static str, (Speaker, Vec<f64>)> = BTreeMap::new();
        for (_, f0, who) in self.model.pitch_by_speaker() {
            by.entry(who.as_str())
                .or_insert((who, Vec::new()))
                .1
                .push(f64::from(f0));
        }
        let mut rows: Vec<(Speaker, f64, f64, f64, usize)> = Vec::new();
        for who in super::tier_speakers(self.model) {
            if let Some((_, v)) = by.get_mut(who.as_str()) {
                v.sort_by(f64::total_cmp);
                if let (Some(lo), Some(med), Some(hi)) =
                    (quantile(v, 0.05), quantile(v, 0.5), quantile(v, 0.95))
                {
                    rows.push((who, lo, med, hi, v.len()));
                }
            }
        }
        self.x.push_str(
            "<section><h2>Pitch range</h2><p class=\"small\">Each person's pitch over their \
             voiced 10 ms frames: the bar spans the 5th to 95th percentile, the mark is the \
             median (log scale).</p>",
        );
        if rows.is_empty() {
            self.x
                .push_str("<p>No voiced frames in any vocalisation.</p></section>");
            return;
        }
        let f_lo = rows
            .iter()
            .map(|r| r.1)
            .fold(f64::INFINITY, f64::min)
            .min(80.0);
        let f_hi = rows.iter().map(|r| r.3).fold(0.0, f64::max).max(600.0);
        let (llo, lhi) = (f_lo.log2(), f_hi.log2());
        let px = |f: f64| LEFT + (f.log2() - llo) / (lhi - llo) * (W - LEFT - RIGHT - 200.0);
        let row_h = 28.0;
        let top = 8.0;
        let base = top + row_h * rows.len() as f64;
        let _ = write!(
            self.x,
            "<svg viewBox=\"0 0 {W} {:.0}\" role=\"img\" aria-label=\"Pitch range per person\">",
            base + 30.0
        );
        for f in [50.0, 100.0, 200.0, 400.0, 800.0, 1600.0] {
            if f < f_lo || f > f_hi {
                continue;
            }
            let x = px(f);
            let _ = write!(
                self.x,
                "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{base:.1}\" class=\"grid\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{f:.0} Hz</text>",
                base + 14.0
            );
        }
        for (i, (who, lo, med, hi, n)) in rows.iter().enumerate() {
            let y = top + row_h * i as f64;
            let _ = write!(
                self.x,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">{}</text>\
                 <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" rx=\"6\" fill=\"{}\" opacity=\"0.55\"/>\
                 <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"median\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">median {:.0} Hz, {:.0}–{:.0} Hz<title>{n} voiced frames</title></text>",
                LEFT - 6.0,
                y + 17.0,
                esc(who.as_str()),
                px(*lo),
                y + 7.0,
                (px(*hi) - px(*lo)).max(2.0),
                colour(*who),
                px(*med),
                y + 3.0,
                px(*med),
                y + 23.0,
                W - RIGHT - 192.0,
                y + 17.0,
                med,
                lo,
                hi
            );
        }
        self.x.push_str("</svg></section>");
    }

    fn mirroring(&mut self) {
        let answerer = self.parties[1];
        let points: Vec<(f64, f64)> = self
            .model
            .turns
            .iter()
            .filter(|r| r.turn.to == answerer)
            .filter_map(|r| {
                r.mirror
                    .map(|m| (r.turn.next_start_secs, f64::from(m.score)))
            })
            .collect();
        let _ = write!(
            self.x,
            "<section><h2>Mirroring over time</h2><p class=\"small\">How closely each of {}'s \
             answers echoes the sound before it (0-100: contour shape, beats, length, pitch, \
             loudness); the dashed line is the mean.</p>",
            esc(answerer.as_str())
        );
        if points.is_empty() {
            self.x.push_str("<p>No answers to score.</p></section>");
            return;
        }
        let (top, ph) = (10.0, 130.0);
        let base = top + ph;
        let _ = write!(
            self.x,
            "<svg viewBox=\"0 0 {W} {:.0}\" role=\"img\" aria-label=\"Mirroring score over time\">",
            base + 28.0
        );
        for v in [0.0, 25.0, 50.0, 75.0, 100.0] {
            let y = base - v / 100.0 * ph;
            let _ = write!(
                self.x,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{v:.0}</text>",
                W - RIGHT,
                LEFT - 6.0,
                y + 4.0
            );
        }
        self.time_axis(base, base);
        let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
        let ym = base - mean / 100.0 * ph;
        let _ = write!(
            self.x,
            "<line x1=\"{LEFT}\" y1=\"{ym:.1}\" x2=\"{:.1}\" y2=\"{ym:.1}\" class=\"mean\"/>",
            W - RIGHT
        );
        let path: Vec<String> = points
            .iter()
            .map(|(t, s)| format!("{:.1},{:.1}", self.tx(*t), base - s / 100.0 * ph))
            .collect();
        let _ = write!(
            self.x,
            "<polyline points=\"{}\" class=\"trend\" stroke=\"{}\"/>",
            path.join(" "),
            colour(answerer)
        );
        for (t, s) in &points {
            let _ = write!(
                self.x,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\"><title>{} score {:.0}</title></circle>",
                self.tx(*t),
                base - s / 100.0 * ph,
                colour(answerer),
                clock(*t),
                s
            );
        }
        self.x.push_str("</svg></section>");
    }

    fn markers_and_wrap_up(&mut self) {
        let m = self.model;
        self.x
            .push_str("<section class=\"pair\"><div><h2>Markers</h2>");
        if m.markers.is_empty() {
            self.x.push_str("<p>No markers were logged.</p>");
        } else {
            self.x.push_str(
                "<table class=\"list\"><thead><tr><th>time</th><th>marker</th><th>note</th></tr></thead><tbody>",
            );
            for mk in &m.markers {
                let _ = write!(
                    self.x,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    clock(mk.t_s),
                    esc(&mk.code),
                    esc(&mk.note)
                );
            }
            self.x.push_str("</tbody></table>");
        }
        self.x.push_str("</div><div><h2>Wrap-up</h2>");
        match &m.wrap_up {
            Some(w) => {
                let engagement = w
                    .engagement
                    .map(|e| format!("{e} of 5"))
                    .unwrap_or_else(|| "not given".into());
                let best = if w.best_moment.trim().is_empty() {
                    "–".to_string()
                } else {
                    esc(&w.best_moment)
                };
                let _ = write!(
                    self.x,
                    "<table class=\"list\"><tbody><tr><th scope=\"row\">Engagement</th><td>{engagement}</td></tr>\
                     <tr><th scope=\"row\">Best moment</th><td>{best}</td></tr></tbody></table>"
                );
            }
            None => self.x.push_str("<p>No wrap-up was given.</p>"),
        }
        self.x.push_str("</div></section>");
    }
}

const STYLE: &str = "
:root{--ink:#222;--soft:#5b6470;--line:#d9dde3;--bg:#fbfaf7}
*{box-sizing:border-box}
body{margin:0 auto;max-width:820px;padding:24px 20px 48px;font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--ink);background:var(--bg)}
h1{font-size:1.6em;margin:0 0 .2em;font-weight:600}
h2{font-size:1.15em;margin:1.6em 0 .4em;font-weight:600}
header p{margin:.2em 0}
.small{color:var(--soft);font-size:.9em}
svg{width:100%;height:auto;display:block;background:#fff;border:1px solid var(--line);border-radius:6px}
.grid{stroke:#eceff2;stroke-width:1}
.axis{stroke:#9aa3ad;stroke-width:1}
.tick{font-size:11px;fill:var(--soft)}
.label{font-size:12px;fill:var(--ink)}
.marker{fill:#009E73}
.lena{fill:#9ecae1}
.chattr{fill:#08519c}
.window{fill:#f2f0e6}
.median{stroke:#222;stroke-width:2}
.mean{stroke:#555;stroke-width:1.5;stroke-dasharray:5 4}
.trend{fill:none;stroke-width:1.5;opacity:.5}
.key{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;border-radius:2px}
.key.lena{background:#9ecae1}.key.chattr{background:#08519c}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
table.measures th{width:38%;font-weight:500;color:var(--soft)}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}
figure{margin:0}
figcaption{font-weight:600;margin-bottom:4px}
@media (max-width:640px){.pair{grid-template-columns:1fr}}
@media print{body{background:#fff;max-width:none;padding:0;font-size:11pt}section{break-inside:avoid}svg{border-color:#bbb}}
";

/// Renders the report.
pub fn render(model: &SessionModel, ctx: &ExportContext) -> String {
    let mut r = Report {
        model,
        parties: model.parties(),
        duration: super::duration_ms(model).max(1) as f64 / 1000.0,
        x: String::with_capacity(64 * 1024),
    };
    let _ = write!(
        r.x,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>attune report: {}</title><style>{STYLE}</style></head><body>",
        esc(&model.name)
    );
    r.header(ctx);
    r.measures();
    r.timeline();
    r.turns_per_minute();
    r.latencies();
    r.pitch();
    r.mirroring();
    r.markers_and_wrap_up();
    let name = esc(&model.name);
    let _ = writeln!(
        r.x,
        "<footer><p class=\"small\">Turns: a change of speaker whose answer starts within the \
         model's window after the previous vocalisation ends. Chance levels: {} circular \
         shifts of the second person's timeline. The numbers behind this report are in \
         {name}.segments.csv, {name}.turns.csv, {name}.pitch.csv and {name}.markers.csv.</p>\
         </footer></body></html>",
        model.report.chance_settings.shifts
    );
    r.x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_html_helpers() {
        assert_eq!(clock(75.4), "1:15");
        assert_eq!(tick_step(40.0), 5.0);
        assert_eq!(tick_step(3600.0), 600.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 0.5), Some(2.0));
        assert_eq!(num(f64::NAN, 1), "–");
    }
}
