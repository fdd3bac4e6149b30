//! How closely the partner's answer mirrors the person's preceding vocalisation: a score
//! 0-100 with its parts — contour shape (pitch movement in semitones, transposition-invariant,
//! time-warped with DTW), register (median pitch difference), duration ratio, beats (number,
//! tempo and timing of the onsets) and loudness.
//!
//! [`VocalShape`] is a bounded summary of one vocalisation (its contour downsampled to at most
//! [`CONTOUR_POINTS`] points, at most [`MAX_BEATS`] onsets), built from a [`ChannelTrack`] by a
//! consumer of the Analyzer's events, never inside `Analyzer::process`. Pure functions; they
//! run on the thread that holds the shapes (offline: the `analyze` worker).

use serde::Serialize;

use crate::analysis::track::{frame_of, onsets_from, ChannelTrack};
use crate::config::HOP_SECS;
use crate::events::Vocalisation;

/// Most points kept of a contour.
pub const CONTOUR_POINTS: usize = 64;
/// Most onsets kept.
pub const MAX_BEATS: usize = 32;
/// Points both contours are resampled to before warping.
const WARP_POINTS: usize = 32;
/// Sakoe-Chiba band of the warp (fraction of the length).
const WARP_BAND: f64 = 0.25;

/// What the mirror score compares of one vocalisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VocalShape {
    #[serde(rename = "duration_s")]
    pub duration_secs: f32,
    /// Voiced time.
    #[serde(rename = "voiced_s")]
    pub voiced_secs: f32,
    /// Pitch of the voiced frames in semitones re 100 Hz, in time order (unvoiced frames left
    /// out), averaged down to at most `CONTOUR_POINTS` points.
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
        Self::from_parts(v, frames.iter().filter_map(|f| f.f0_hz), onsets)
    }

    /// The shape of `v` from the f0 of its voiced frames (in time order) and its onsets. The
    /// live window builds it from its own history. Any thread.
    pub fn from_parts(
        v: &Vocalisation,
        voiced_f0_hz: impl Iterator<Item = f32>,
        onsets: impl Iterator<Item = crate::time::SampleTime>,
    ) -> Self {
        let voiced: Vec<f32> = voiced_f0_hz
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
    /// Contour shape: time-warped distance of the median-normalised contours, and their range.
    pub contour: f32,
    /// Register: median pitch difference.
    pub register: f32,
    /// Duration ratio (voiced time and total duration).
    pub duration: f32,
    /// Beats: number of onsets, tempo, and where in the vocalisation they fall.
    pub beats: f32,
    /// Loudness: mean level difference.
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
    fn default() -> Self {
        Self {
            contour: 0.5,
            register: 0.1,
            duration: 0.15,
            beats: 0.2,
            loudness: 0.05,
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

/// Mean absolute difference along the best warping path (semitones).
fn dtw_distance(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len();
    let band = ((n as f64 * WARP_BAND).ceil() as usize).max(1);
    let inf = f32::INFINITY;
    // cost and path length
    let mut d = vec![(inf, 0u32); n * n];
    for i in 0..n {
        let lo = i.saturating_sub(band);
        let hi = (i + band).min(n - 1);
        for j in lo..=hi {
            let c = (a[i] - b[j]).abs();
            let best = if i == 0 && j == 0 {
                (0.0, 0)
            } else {
                let mut best = (inf, 0u32);
                for (pi, pj) in [
                    (i.wrapping_sub(1), j),
                    (i, j.wrapping_sub(1)),
                    (i.wrapping_sub(1), j.wrapping_sub(1)),
                ] {
                    if pi < n && pj < n {
                        let cand = d[pi * n + pj];
                        if cand.0 < best.0 {
                            best = cand;
                        }
                    }
                }
                best
            };
            d[i * n + j] = (best.0 + c, best.1 + 1);
        }
    }
    let (cost, len) = d[n * n - 1];
    if len == 0 {
        0.0
    } else {
        cost / len as f32
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

/// The contour part: 0-1.
fn contour_similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < 3 || b.len() < 3 {
        return 0.0;
    }
    let norm = |x: &[f32]| -> Vec<f32> {
        let r = resample(&clean_contour(x), WARP_POINTS);
        let mut s = r.clone();
        s.sort_by(f32::total_cmp);
        let m = s[s.len() / 2];
        r.into_iter().map(|v| v - m).collect()
    };
    let (na, nb) = (norm(a), norm(b));
    let dist = dtw_distance(&na, &nb);
    let (ra, rb) = (spread(&na), spread(&nb));
    let shape = (-dist / 1.5).exp();
    let range = (-(ra - rb).abs() / 3.0).exp();
    0.7 * shape + 0.3 * range
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
}
