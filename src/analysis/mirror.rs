//! How closely the partner's answer mirrors the person's preceding vocalisation: a score
//! 0-100 from the two things an imitation keeps — the contour's shape (its pitch movement in
//! semitones, transposition- and tempo-invariant) and its length (voiced time and duration) —
//! with three more parts reported for reading but not weighed: register (an adult answering a
//! child transposes), beats (onsets in a noisy room come and go) and loudness.
//!
//! [`VocalShape`] is a bounded summary of one vocalisation (its contour downsampled to at most
//! [`CONTOUR_POINTS`] points, at most [`MAX_BEATS`] onsets), built from a [`ChannelTrack`] by a
//! consumer of the Analyzer's events, never inside `Analyzer::process`. Pure functions; they
//! run on the thread that holds the shapes (offline: the `analyze` worker).

use serde::Serialize;

use crate::analysis::stats::quantile;
use crate::analysis::track::{frame_of, onsets_from, ChannelTrack, FrameRecord};
use crate::config::HOP_SECS;
use crate::events::Vocalisation;

/// Most points kept of a contour.
pub const CONTOUR_POINTS: usize = 64;
/// Most onsets kept.
pub const MAX_BEATS: usize = 32;
/// Points both contours are resampled to before they are compared.
const COMPARE_POINTS: usize = 32;
/// Frames this far (dB) below a vocalisation's loud part (its 95th-percentile frame level) are
/// left out of its contour and voiced time: in a real room they are the reverberant tail or the
/// babble behind a soft edge, not what a listener follows of the sound.
pub const CONTOUR_FLOOR_DB: f32 = 10.0;
/// A contour whose pitch spans less than this (semitones, 5-95 %) is heard as level.
const LEVEL_SPAN_ST: f32 = 1.5;
/// Width (semitones) of the soft step between level and moving.
const LEVEL_SOFTNESS_ST: f32 = 0.4;

/// What the mirror score compares of one vocalisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VocalShape {
    #[serde(rename = "duration_s")]
    pub duration_secs: f32,
    /// Voiced time of the loud part.
    #[serde(rename = "voiced_s")]
    pub voiced_secs: f32,
    /// Pitch of the voiced frames of the loud part in semitones re 100 Hz, in time order
    /// (unvoiced frames and frames `CONTOUR_FLOOR_DB` below the loud part left out), averaged
    /// down to at most `CONTOUR_POINTS` points.
    pub contour_st: Vec<f32>,
    /// Onset times relative to the start (s).
    #[serde(rename = "beats_s")]
    pub beats_secs: Vec<f32>,
    pub mean_level_dbfs: f32,
}

impl VocalShape {
    /// The shape of `v` as heard on `track`.
    pub fn from_track(track: &ChannelTrack, v: &Vocalisation) -> Self {
        let frames = track.frames_in(frame_of(v.start), frame_of(v.end));
        let onsets = track.onsets_in(onsets_from(v.start), v.end);
        Self::from_parts(v, frames.iter().copied(), onsets)
    }

    /// The shape of `v` from its frames (in time order) and its onsets. The live window builds
    /// it from its own history. Any thread.
    pub fn from_parts(
        v: &Vocalisation,
        frames: impl Iterator<Item = FrameRecord>,
        onsets: impl Iterator<Item = crate::time::SampleTime>,
    ) -> Self {
        let frames: Vec<FrameRecord> = frames.collect();
        let mut levels: Vec<f64> = frames.iter().map(|f| f64::from(f.level_dbfs)).collect();
        levels.sort_by(f64::total_cmp);
        let floor_dbfs =
            quantile(&levels, 0.95).map_or(f32::NEG_INFINITY, |p| p as f32 - CONTOUR_FLOOR_DB);
        let voiced: Vec<f32> = frames
            .iter()
            .filter(|f| f.level_dbfs >= floor_dbfs)
            .filter_map(|f| f.f0_hz)
            .map(|x| crate::dsp::semitones(x, 100.0))
            .collect();
        let contour_st = downsample(&voiced, CONTOUR_POINTS);
        let beats_secs = onsets
            .take(MAX_BEATS)
            .map(|t| (t.secs() - v.start.secs()).max(0.0) as f32)
            .collect();
        Self {
            duration_secs: v.duration_secs() as f32,
            voiced_secs: (voiced.len() as f64 * HOP_SECS) as f32,
            contour_st,
            beats_secs,
            mean_level_dbfs: v.mean_level_dbfs,
        }
    }

    fn median_st(&self) -> Option<f32> {
        if self.contour_st.is_empty() {
            return None;
        }
        let mut s = self.contour_st.clone();
        s.sort_by(f32::total_cmp);
        Some(s[s.len() / 2])
    }
}

/// Averages `x` down to at most `n` points (bins of equal length).
fn downsample(x: &[f32], n: usize) -> Vec<f32> {
    if x.len() <= n {
        return x.to_vec();
    }
    (0..n)
        .map(|i| {
            let (a, b) = (
                i * x.len() / n,
                ((i + 1) * x.len() / n).max(i * x.len() / n + 1),
            );
            x[a..b].iter().sum::<f32>() / (b - a) as f32
        })
        .collect()
}

/// Linear resampling to `n` points.
fn resample(x: &[f32], n: usize) -> Vec<f32> {
    if x.len() == 1 {
        return vec![x[0]; n];
    }
    (0..n)
        .map(|i| {
            let pos = i as f64 * (x.len() - 1) as f64 / (n - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            let f = (pos - lo as f64) as f32;
            x[lo] * (1.0 - f) + x[hi] * f
        })
        .collect()
}

/// A mirror score and its parts, each 0-100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MirrorScore {
    pub score: f32,
    /// Contour shape: both level, or both moving the same way (the correlation of the
    /// time-normalised contours).
    pub contour: f32,
    /// Register: median pitch difference (not weighed by default).
    pub register: f32,
    /// Duration ratio (voiced time and total duration).
    pub duration: f32,
    /// Beats: number of onsets, tempo, and where in the vocalisation they fall (not weighed by
    /// default).
    pub beats: f32,
    /// Loudness: mean level difference (not weighed by default).
    pub loudness: f32,
}

/// Weights of the parts in the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MirrorWeights {
    pub contour: f32,
    pub register: f32,
    pub duration: f32,
    pub beats: f32,
    pub loudness: f32,
}

impl Default for MirrorWeights {
    /// What an imitation keeps: the shape and the length. Register, beats and loudness are
    /// left out: an adult imitating a child transposes and answers at their own level, and
    /// onsets in babble and reverberation come and go (on `hard/` each of the three told
    /// imitations from the partner's other vocalisations no better than AUC 0.54-0.67, and
    /// weighing them lowered the score's; docs/accuracy.md).
    fn default() -> Self {
        Self {
            contour: 0.5,
            register: 0.0,
            duration: 0.5,
            beats: 0.0,
            loudness: 0.0,
        }
    }
}

fn ratio(a: f32, b: f32) -> f32 {
    let (lo, hi) = (a.min(b), a.max(b));
    if hi <= 0.0 {
        1.0
    } else {
        (lo / hi).max(0.0)
    }
}

fn spread(x: &[f32]) -> f32 {
    let mut s = x.to_vec();
    s.sort_by(f32::total_cmp);
    let q = |p: f32| s[((s.len() - 1) as f32 * p).round() as usize];
    q(0.95) - q(0.05)
}

/// A pitch jump this far (semitones) from the contour's median is an octave error of the
/// tracker (babble, the other talker's bleed), folded back by an octave.
const OCTAVE_FOLD_ST: f32 = 9.0;
/// Points of the median filter that removes single-frame pitch errors from a contour.
const CONTOUR_MEDIAN_POINTS: usize = 5;

/// A contour with octave errors folded back towards its median and isolated errors removed
/// by a running median: what a listener follows of a pitch heard in babble.
fn clean_contour(x: &[f32]) -> Vec<f32> {
    let mut sorted = x.to_vec();
    sorted.sort_by(f32::total_cmp);
    let Some(&median) = sorted.get(sorted.len() / 2) else {
        return Vec::new();
    };
    let folded: Vec<f32> = x
        .iter()
        .map(|&v| {
            if v - median > OCTAVE_FOLD_ST {
                v - 12.0
            } else if median - v > OCTAVE_FOLD_ST {
                v + 12.0
            } else {
                v
            }
        })
        .collect();
    let half = CONTOUR_MEDIAN_POINTS / 2;
    (0..folded.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(half), (i + half + 1).min(folded.len()));
            let mut w = folded[a..b].to_vec();
            w.sort_by(f32::total_cmp);
            w[w.len() / 2]
        })
        .collect()
}

/// Pearson correlation of two equally long series; 0 when either is flat.
fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len()) as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut ab, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    if aa <= f32::EPSILON || bb <= f32::EPSILON {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

/// The contour part, 0-1: high when both contours are level, or both move and rise and fall
/// together (their correlation once each is stretched to one length, which a re-timed and
/// transposed imitation keeps); low when one is level and the other moves, or their movements
/// are unrelated or opposite.
fn contour_similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < 3 || b.len() < 3 {
        return 0.0;
    }
    let (na, nb) = (
        resample(&clean_contour(a), COMPARE_POINTS),
        resample(&clean_contour(b), COMPARE_POINTS),
    );
    let (span_a, span_b) = (spread(&na), spread(&nb));
    let step = |x: f32| 1.0 / (1.0 + (-x / LEVEL_SOFTNESS_ST).exp());
    let both_moving = step(span_a.min(span_b) - LEVEL_SPAN_ST);
    let both_level = step(LEVEL_SPAN_ST - span_a.max(span_b));
    both_moving * correlation(&na, &nb).max(0.0) + both_level
}

/// The beats part: 0-1.
fn beat_similarity(a: &VocalShape, b: &VocalShape) -> f32 {
    let (na, nb) = (a.beats_secs.len().max(1), b.beats_secs.len().max(1));
    let count = ratio(na as f32, nb as f32);
    // Tempo: onsets per second of vocalisation.
    let tempo = ratio(
        na as f32 / a.duration_secs.max(0.05),
        nb as f32 / b.duration_secs.max(0.05),
    );
    // Timing: each relative onset position against the nearest of the other's.
    let rel = |s: &VocalShape| -> Vec<f32> {
        s.beats_secs
            .iter()
            .map(|t| t / s.duration_secs.max(0.05))
            .collect()
    };
    let (ra, rb) = (rel(a), rel(b));
    let timing = if ra.is_empty() || rb.is_empty() {
        0.5
    } else {
        let near = |x: &[f32], y: &[f32]| -> f32 {
            x.iter()
                .map(|p| y.iter().map(|q| (p - q).abs()).fold(1.0, f32::min))
                .sum::<f32>()
                / x.len() as f32
        };
        (1.0 - 2.0 * 0.5 * (near(&ra, &rb) + near(&rb, &ra))).clamp(0.0, 1.0)
    };
    0.45 * count + 0.3 * tempo + 0.25 * timing
}

/// Scores `answer` as a mirror of `user` (the person's preceding vocalisation).
pub fn mirror_score(user: &VocalShape, answer: &VocalShape, w: &MirrorWeights) -> MirrorScore {
    let contour = contour_similarity(&user.contour_st, &answer.contour_st);
    let register = match (user.median_st(), answer.median_st()) {
        (Some(a), Some(b)) => (-(a - b).abs() / 6.0).exp(),
        _ => 0.0,
    };
    let duration = 0.5 * ratio(user.voiced_secs, answer.voiced_secs)
        + 0.5 * ratio(user.duration_secs, answer.duration_secs);
    let beats = beat_similarity(user, answer);
    let loudness = (-(user.mean_level_dbfs - answer.mean_level_dbfs).abs() / 10.0).exp();
    let total = w.contour + w.register + w.duration + w.beats + w.loudness;
    let score = (w.contour * contour
        + w.register * register
        + w.duration * duration
        + w.beats * beats
        + w.loudness * loudness)
        / total.max(1e-9);
    let pct = |x: f32| (100.0 * x).clamp(0.0, 100.0);
    MirrorScore {
        score: pct(score),
        contour: pct(contour),
        register: pct(register),
        duration: pct(duration),
        beats: pct(beats),
        loudness: pct(loudness),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rise-fall glide of 6 semitones over `n` points, transposed by `shift_st`.
    fn glide(n: usize, shift_st: f32) -> Vec<f32> {
        (0..n)
            .map(|i| shift_st + 6.0 * (std::f32::consts::PI * i as f32 / (n - 1) as f32).sin())
            .collect()
    }

    #[test]
    fn an_imitation_heard_with_octave_errors_still_mirrors_the_contour() {
        let user = glide(48, 0.0);
        let clean = glide(40, 5.0);
        // The same answer as the tracker hears it in babble: three octave errors.
        let mut heard = clean.clone();
        for k in [5, 20, 33] {
            heard[k] += 12.0;
        }
        let level = vec![5.0f32; 40];
        let (with_errors, exact) = (
            contour_similarity(&user, &heard),
            contour_similarity(&user, &clean),
        );
        assert!(with_errors > 0.9 * exact, "{with_errors} vs {exact}");
        // A level answer stays far from a glide, errors or not.
        assert!(contour_similarity(&user, &level) < 0.6 * with_errors);
    }

    fn frames(f0_hz: &[f32], level_dbfs: f32) -> Vec<FrameRecord> {
        f0_hz
            .iter()
            .map(|&f| FrameRecord {
                f0_hz: Some(f),
                level_dbfs,
            })
            .collect()
    }

    fn vocalisation(duration_s: f64) -> Vocalisation {
        let t = |s: f64| crate::time::SampleTime::from_secs(s);
        Vocalisation {
            start: t(1.0),
            end: t(1.0 + duration_s),
            heard_until: t(1.0 + duration_s),
            peak_level_dbfs: -20.0,
            mean_level_dbfs: -25.0,
            f0_median_hz: 300.0,
            f0_low_hz: 250.0,
            f0_high_hz: 400.0,
            voiced_frames: 0,
            syllables: 1,
            syllable_rate_hz: 0.0,
            mean_ioi_secs: 0.0,
            regularity: None,
        }
    }

    #[test]
    fn the_rooms_tail_is_not_part_of_the_sound() {
        // A rise-fall glide around 300 Hz, then 0.4 s of its echo: the last pitch held,
        // 25 dB down.
        let hz = |st: f32| 100.0 * 2f32.powf(st / 12.0);
        let glide_hz: Vec<f32> = glide(50, 19.0).into_iter().map(hz).collect();
        let mut heard = frames(&glide_hz, -20.0);
        heard.extend(frames(&[glide_hz[49]; 40], -45.0));
        let user =
            VocalShape::from_parts(&vocalisation(0.9), heard.into_iter(), std::iter::empty());
        assert_eq!(user.voiced_secs, 0.5, "the tail is not voiced time");
        // The partner's imitation, transposed down and without a tail, mirrors it closely; a
        // level hum of the same length does not.
        let imitation: Vec<f32> = glide(55, 12.0).into_iter().map(hz).collect();
        let answer = VocalShape::from_parts(
            &vocalisation(0.55),
            frames(&imitation, -22.0).into_iter(),
            std::iter::empty(),
        );
        let hum = VocalShape::from_parts(
            &vocalisation(0.55),
            frames(&[hz(12.0); 55], -22.0).into_iter(),
            std::iter::empty(),
        );
        let w = MirrorWeights::default();
        let (good, bad) = (
            mirror_score(&user, &answer, &w),
            mirror_score(&user, &hum, &w),
        );
        assert!(good.contour > 90.0, "{good:?}");
        assert!(bad.contour < 10.0, "{bad:?}");
        assert!(good.score > bad.score + 40.0, "{good:?} vs {bad:?}");
    }
}
