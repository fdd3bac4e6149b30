//! Who is vocalising: attribution of vocalisations to the user (the person) or the partner
//! (the practitioner), with two microphones (relative level after a per-session gain
//! calibration, plus pitch to see overlaps) or with one (voice models from enrolment clips,
//! or an unsupervised split into two voices `A`/`B`), and the push-to-talk override.
//!
//! Pure functions over [`ChannelTrack`]s: they run on the thread that holds the tracks (the
//! `analyze` worker offline; the live window's analysis consumer later).

use serde::Serialize;

use crate::analysis::room::{above_room_db, MIN_ABOVE_ROOM_DB, MIN_ABOVE_ROOM_FAR_DB};
use crate::analysis::track::{frame_of, ChannelTrack};
use crate::analysis::voice_model::{feature_vector, VoiceModel, VoiceVector};
use crate::config::HOP_SECS;
use crate::events::Vocalisation;
use crate::time::SampleTime;

/// Who vocalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The person (service user).
    User,
    /// The practitioner.
    Partner,
    /// First of two unnamed voices (one microphone, no enrolment).
    A,
    /// Second of two unnamed voices.
    B,
    /// Not attributed.
    Unknown,
}

impl Speaker {
    /// Reads a label as the CSV files write it (`user`, `partner`, `A`, `B`, `unknown`).
    pub fn parse(label: &str) -> Option<Self> {
        [
            Speaker::User,
            Speaker::Partner,
            Speaker::A,
            Speaker::B,
            Speaker::Unknown,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(label.trim()))
    }

    /// The label written to the CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::User => "user",
            Speaker::Partner => "partner",
            Speaker::A => "A",
            Speaker::B => "B",
            Speaker::Unknown => "unknown",
        }
    }
}

/// A vocalisation with the speaker it was attributed to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub vocalisation: Vocalisation,
    pub speaker: Speaker,
    /// The track it was measured on (0 = user's microphone or the only one, 1 = partner's).
    pub track: usize,
    /// How sure the attribution is (the log-likelihood ratio or level margin; ≥ 0).
    pub margin: f32,
}

/// Settings of the two-microphone attribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwoChannelSettings {
    /// Quiet frames inside a part shorter than this do not split it (s).
    #[serde(rename = "max_gap_s")]
    pub max_gap_secs: f64,
    /// Frames dominated by the other talker for at least this long split a vocalisation (s).
    #[serde(rename = "max_foreign_s")]
    pub max_foreign_secs: f64,
    /// Parts shorter than this are dropped (s).
    #[serde(rename = "min_part_s")]
    pub min_part_secs: f64,
    /// Frames more than this below the vocalisation's peak are not judged (dB).
    pub judged_range_db: f32,
    /// Two channels voiced this far apart in pitch (semitones) hear two voices at once.
    pub distinct_f0_semitones: f32,
    /// Parts of one talker less than this apart are one vocalisation (s): the pitch lost for
    /// a moment in babble, or the other talker heard over it for a moment (an overlap), does
    /// not cut it.
    #[serde(rename = "join_gap_s")]
    pub join_gap_secs: f64,
}

impl Default for TwoChannelSettings {
    fn default() -> Self {
        Self {
            max_gap_secs: 0.3,
            max_foreign_secs: 0.08,
            min_part_secs: 0.1,
            judged_range_db: 30.0,
            distinct_f0_semitones: 1.0,
            join_gap_secs: 0.2,
        }
    }
}

/// The per-session gain calibration of two microphones: the level difference (user mic −
/// partner mic, dB) when only the user vocalises, when only the partner does, and the
/// threshold between them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    pub user_mode_db: f32,
    pub partner_mode_db: f32,
    pub threshold_db: f32,
}

/// Finds the two modes of the level difference over the frames inside any vocalisation
/// (Otsu's split of their histogram). With one talker only (modes under 4 dB apart) the mics
/// are assumed to have equal gains and a bleed of at least 6 dB.
pub fn calibrate(user: &ChannelTrack, partner: &ChannelTrack) -> Calibration {
    let mut diffs: Vec<f32> = Vec::new();
    for (idx, track) in [user, partner].into_iter().enumerate() {
        for v in &track.vocalisations {
            let (a, b) = (frame_of(v.start), frame_of(v.heard_until()));
            for k in a..b.min(user.frames.len()).min(partner.frames.len()) {
                let (fu, fp) = (user.frames[k], partner.frames[k]);
                let own = if idx == 0 { fu } else { fp };
                if own.level_dbfs > v.peak_level_dbfs - 20.0 {
                    diffs.push(fu.level_dbfs - fp.level_dbfs);
                }
            }
        }
    }
    let fallback = Calibration {
        user_mode_db: 6.0,
        partner_mode_db: -6.0,
        threshold_db: 0.0,
    };
    if diffs.len() < 20 {
        return fallback;
    }
    // Histogram over ±60 dB in 0.5 dB bins; Otsu's threshold.
    const BINS: usize = 240;
    let bin = |d: f32| (((d + 60.0) * 2.0).floor().clamp(0.0, (BINS - 1) as f32)) as usize;
    let mut hist = [0f64; BINS];
    for &d in &diffs {
        hist[bin(d)] += 1.0;
    }
    let centre = |i: usize| i as f64 / 2.0 - 60.0 + 0.25;
    let total: f64 = hist.iter().sum();
    let sum_all: f64 = hist.iter().enumerate().map(|(i, h)| h * centre(i)).sum();
    let (mut w0, mut s0) = (0.0, 0.0);
    let mut best = (f64::MIN, 0usize, 0.0, 0.0);
    for (i, h) in hist.iter().enumerate().take(BINS - 1) {
        w0 += h;
        s0 += h * centre(i);
        let w1 = total - w0;
        if w0 < 1.0 || w1 < 1.0 {
            continue;
        }
        let (m0, m1) = (s0 / w0, (sum_all - s0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best.0 {
            best = (between, i, m0, m1);
        }
    }
    let (_, _, low_mean, high_mean) = best;
    if high_mean - low_mean < 4.0 {
        return fallback;
    }
    Calibration {
        user_mode_db: high_mean as f32,
        partner_mode_db: low_mean as f32,
        threshold_db: ((low_mean + high_mean) / 2.0) as f32,
    }
}

/// The level of every frame of a track (dBFS).
fn levels_db(track: &ChannelTrack) -> Vec<f32> {
    track.frames.iter().map(|f| f.level_dbfs).collect()
}

/// Whether a vocalisation stands at least `min_db` above the room around it (see
/// [`above_room_db`]) as a talker's voice does; the babble of a room's other talkers does not.
/// A vocalisation with no frames in the track is kept.
fn above_room(levels_db: &[f32], v: &Vocalisation, min_db: f32) -> bool {
    above_room_db(levels_db, frame_of(v.start), frame_of(v.end)).is_none_or(|db| db >= min_db)
}

/// Semitones above 100 Hz.
fn semitones(hz: f32) -> f32 {
    crate::dsp::semitones(hz, 100.0)
}

/// Two microphones: each vocalisation found on a channel is kept where that channel's own
/// talker dominates (level difference on the calibrated side, or two different pitches at
/// once while both vocalise), cut at the frames the other talker dominates; the rest is bleed.
/// Track 0 is the user's microphone, track 1 the partner's. Returns the segments in time order.
pub fn attribute_two_channels(
    user: &ChannelTrack,
    partner: &ChannelTrack,
    cal: &Calibration,
    settings: &TwoChannelSettings,
) -> Vec<Segment> {
    let mut out = Vec::new();
    let gap_frames = (settings.max_gap_secs / HOP_SECS).round() as usize;
    let foreign_frames = ((settings.max_foreign_secs / HOP_SECS).round() as usize).max(1);
    let min_frames = (settings.min_part_secs / HOP_SECS).round() as usize;
    for (idx, (own, other)) in [(user, partner), (partner, user)].into_iter().enumerate() {
        let sign = if idx == 0 { 1.0 } else { -1.0 };
        // Level margin of this channel's talker: positive when it dominates.
        let margin = |k: usize| -> Option<f32> {
            let (u, p) = (user.frames.get(k)?, partner.frames.get(k)?);
            Some(sign * (u.level_dbfs - p.level_dbfs - cal.threshold_db))
        };
        // The other talker's own mode, as seen from this channel (positive).
        let other_mode = sign
            * (if idx == 0 {
                cal.partner_mode_db
            } else {
                cal.user_mode_db
            } - cal.threshold_db);
        let own_levels_db = levels_db(own);
        // The end (frame) of this talker's last part.
        let mut prev_end = 0usize;
        for v in own
            .vocalisations
            .iter()
            .filter(|v| above_room(&own_levels_db, v, MIN_ABOVE_ROOM_DB))
        {
            let (a, b) = (frame_of(v.start), frame_of(v.end).min(own.frames.len()));
            if a >= b {
                continue;
            }
            // Some(true) = this talker, Some(false) = the other one, None = too quiet to judge.
            let verdict: Vec<Option<bool>> = (a..b)
                .map(|k| {
                    let f = own.frames[k];
                    let o = other.frames.get(k)?;
                    // Unvoiced frames (closures, breath, noise) are not judged: their level
                    // difference says little.
                    if f.level_dbfs < v.peak_level_dbfs - settings.judged_range_db
                        || (f.f0_hz.is_none() && o.f0_hz.is_none())
                    {
                        return None;
                    }
                    let m = margin(k)?;
                    if m > 0.0 {
                        // Louder here, but only the other microphone hears a pitch: the other
                        // talker's fading sound in the room's babble, not this talker's voice.
                        return f.f0_hz.is_some().then_some(true);
                    }
                    // Both voiced at clearly different pitches, and this channel at least as
                    // loud as the other talker alone would make it: both vocalise at once. (The
                    // other talker's bleed alone would carry its pitch here too; a talker who
                    // answers while the other is loud adds little level but its own pitch.)
                    if let (Some(x), Some(y)) = (f.f0_hz, o.f0_hz) {
                        let d = (semitones(x) - semitones(y)).abs();
                        let octave = (d - 12.0).abs() < 1.0 || (d - 24.0).abs() < 1.0;
                        if d > settings.distinct_f0_semitones && !octave && m > other_mode {
                            return Some(true);
                        }
                    }
                    // The other talker dominates only where it is heard (its channel voiced)
                    // about as it sounds alone. A frame nearer the threshold is the room's
                    // babble or this talker's own fading tail, heard alike by both mics: it
                    // says nothing of who is vocalising.
                    Some(false)
                })
                .collect();
            let mut own_voiced = vec![false; verdict.len()];
            let mut parts: Vec<(usize, usize, f32)> = Vec::new();
            let mut cur: Option<(usize, usize, f32, usize)> = None; // first, last own, margin sum, n
            let (mut foreign, mut quiet) = (0usize, 0usize);
            for (i, &vd) in verdict.iter().enumerate() {
                match vd {
                    Some(true) => {
                        let m = margin(a + i).unwrap_or(0.0).max(0.0);
                        cur = Some(match cur {
                            Some((s, _, ms, n)) => (s, i, ms + m, n + 1),
                            None => (i, i, m, 1),
                        });
                        if own.frames[a + i].f0_hz.is_some() {
                            own_voiced[i] = true;
                        }
                        foreign = 0;
                        quiet = 0;
                    }
                    Some(false) => {
                        foreign += 1;
                        quiet += 1;
                    }
                    None => quiet += 1,
                }
                if foreign >= foreign_frames || quiet >= gap_frames {
                    if let Some((s, e, ms, n)) = cur.take() {
                        parts.push((s, e, ms / n as f32));
                    }
                    foreign = 0;
                    quiet = 0;
                }
            }
            if let Some((s, e, ms, n)) = cur.take() {
                parts.push((s, e, ms / n as f32));
            }
            for (s, e, m) in parts {
                // Extend to the vocalisation's own edges over frames too quiet to judge.
                let s = if verdict[..s].iter().all(Option::is_none) {
                    0
                } else {
                    s
                };
                // The part ends with the last frame its talker is heard in: the release the
                // Analyzer adds is judged by level alone, and the other talker's bleed or the
                // room can hold it up.
                let voiced = own_voiced[s..=e].iter().filter(|v| **v).count();
                if e + 1 - s < min_frames.max(1) || voiced < MIN_OWN_VOICED_FRAMES {
                    continue;
                }
                let voc = if s == 0 && e + 1 == verdict.len() {
                    *v
                } else {
                    let start = if s == 0 { v.start } else { frame_time(a + s) };
                    if e + 1 == verdict.len() {
                        // The last part keeps the vocalisation's tail.
                        Vocalisation {
                            heard_until: v.heard_until,
                            ..own.summarise(start, v.end)
                        }
                    } else {
                        own.summarise(start, frame_time(a + e + 1))
                    }
                };
                let first = sound_start(own, frame_of(voc.start), prev_end, |k| {
                    margin(k).is_some_and(|m| m > 0.0)
                });
                let voc = Vocalisation {
                    start: frame_time(first),
                    ..voc
                };
                prev_end = frame_of(voc.end);
                out.push(Segment {
                    vocalisation: voc,
                    speaker: if idx == 0 {
                        Speaker::User
                    } else {
                        Speaker::Partner
                    },
                    track: idx,
                    margin: m,
                });
            }
        }
    }
    out.sort_by_key(|s| (s.track, s.vocalisation.start));
    let tracks = [user, partner];
    let mut joined: Vec<Segment> = Vec::with_capacity(out.len());
    for seg in out {
        match joined.last_mut() {
            Some(prev)
                if prev.track == seg.track
                    && seg.vocalisation.start.secs() - prev.vocalisation.end.secs()
                        < settings.join_gap_secs =>
            {
                let (first, last) = (prev.vocalisation, seg.vocalisation);
                prev.vocalisation = Vocalisation {
                    heard_until: last.heard_until,
                    ..tracks[seg.track].summarise(first.start, last.end)
                };
                prev.margin = prev.margin.min(seg.margin);
            }
            _ => joined.push(seg),
        }
    }
    joined.sort_by_key(|s| (s.vocalisation.start, s.track));
    joined
}

/// A part needs this many voiced frames of its own talker (50 ms).
const MIN_OWN_VOICED_FRAMES: usize = 5;

/// A part starts where its talker's sound starts, which in babble and reverberation can be
/// well before the pitch is found (a low voice, a breathy attack): its start is moved back
/// from its first frames over the frames just before them whose level stays within
/// `START_RANGE_DB` of theirs and that the talker's own microphone hears louder than the
/// calibration's threshold...
const START_RANGE_DB: f32 = 8.0;
/// ... by at most this many frames (0.5 s), and never into the talker's previous part.
const MAX_START_BACKTRACK_FRAMES: usize = 50;
/// The frames at a part's start whose level sets the range above.
const START_LEVEL_FRAMES: usize = 4;

/// Where the sound of a part starting at frame `first` starts (see [`START_RANGE_DB`]): not
/// before `after`, and only over frames for which `own(k)` says this talker dominates.
fn sound_start(
    track: &ChannelTrack,
    first: usize,
    after: usize,
    own: impl Fn(usize) -> bool,
) -> usize {
    let level = |k: usize| track.frames.get(k).map(|f| f.level_dbfs);
    let run_db = (first..first + START_LEVEL_FRAMES)
        .filter_map(level)
        .fold(f32::MIN, f32::max);
    let lowest = first.saturating_sub(MAX_START_BACKTRACK_FRAMES).max(after);
    let mut k = first;
    while k > lowest && level(k - 1).is_some_and(|l| l >= run_db - START_RANGE_DB) && own(k - 1) {
        k -= 1;
    }
    k
}

fn frame_time(k: usize) -> SampleTime {
    SampleTime((k * crate::config::HOP_LEN) as u64)
}

/// The voice feature vectors of a vocalisation: its voiced frames within 30 dB of its peak.
pub fn vocalisation_features(track: &ChannelTrack, v: &Vocalisation) -> Vec<VoiceVector> {
    indexed_features(track, v)
        .into_iter()
        .map(|(_, x)| x)
        .collect()
}

/// Every voice feature vector of a track's vocalisations (an enrolment clip).
pub fn track_features(track: &ChannelTrack) -> Vec<VoiceVector> {
    track
        .vocalisations
        .iter()
        .flat_map(|v| vocalisation_features(track, v))
        .collect()
}

/// Index of log f0 in a voice vector.
const N_PITCH: usize = crate::analysis::voice_model::DIM - 1;

/// Weight of the spectral envelope against the pitch in the voice comparison.
const SPECTRAL_WEIGHT: f64 = 0.5;

/// Rounds of re-estimating a voice model from the session's own vocalisations.
const ROUNDS: usize = 3;

/// Segment and frame scores of a pair of voice models over a session's vocalisations.
struct Scorer<'a> {
    partner: &'a VoiceModel,
    user: &'a VoiceModel,
    /// Spread of the spectral and the pitch segment scores over the session.
    spread: (f64, f64),
}

impl Scorer<'_> {
    fn frame_parts(&self, x: &VoiceVector) -> (f64, f64) {
        (
            self.partner.log_likelihood(x) - self.user.log_likelihood(x),
            self.partner.pitch_log_likelihood(x) - self.user.pitch_log_likelihood(x),
        )
    }

    fn combine(&self, spec: f64, pitch: f64) -> f64 {
        SPECTRAL_WEIGHT * spec / self.spread.0 + (1.0 - SPECTRAL_WEIGHT) * pitch / self.spread.1
    }

    /// Raw (spectral, pitch) segment scores: trimmed means over the frames.
    fn segment_parts(&self, f: &[VoiceVector]) -> (f64, f64) {
        if f.is_empty() {
            return (0.0, 0.0);
        }
        let (spec, pitch): (Vec<f64>, Vec<f64>) = f.iter().map(|x| self.frame_parts(x)).unzip();
        (robust_mean(spec), robust_mean(pitch))
    }
}

/// Scores every vocalisation (> 0: partner or B): the spectral and the pitch log-likelihood
/// ratios, each scaled by its spread over the session's vocalisations, then added.
fn score_all<'a>(
    partner: &'a VoiceModel,
    user: &'a VoiceModel,
    feats: &[Vec<(usize, VoiceVector)>],
) -> (Vec<f64>, Scorer<'a>) {
    let mut scorer = Scorer {
        partner,
        user,
        spread: (1.0, 1.0),
    };
    let parts: Vec<Option<(f64, f64)>> = feats
        .iter()
        .map(|f| {
            let v: Vec<VoiceVector> = f.iter().map(|x| x.1).collect();
            (!v.is_empty()).then(|| scorer.segment_parts(&v))
        })
        .collect();
    let spread = |g: &dyn Fn(&(f64, f64)) -> f64| -> f64 {
        let v: Vec<f64> = parts.iter().flatten().map(g).collect();
        if v.len() < 2 {
            return 1.0;
        }
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64)
            .sqrt()
            .max(1e-6)
    };
    scorer.spread = (spread(&|x| x.0), spread(&|x| x.1));
    let scores = parts
        .iter()
        .map(|p| p.map_or(0.0, |(a, b)| scorer.combine(a, b)))
        .collect();
    (scores, scorer)
}

/// The voice vectors of a vocalisation with their frame indices, over all the frames its
/// sound is heard in (a reverberant room's tail of a voice is the same voice).
fn indexed_features(track: &ChannelTrack, v: &Vocalisation) -> Vec<(usize, VoiceVector)> {
    let (a, b) = (frame_of(v.start), frame_of(v.heard_until()));
    (a..b.min(track.frames.len()).min(track.ceps.len()))
        .filter_map(|k| {
            let f = track.frames[k];
            if f.level_dbfs < v.peak_level_dbfs - 30.0 {
                return None;
            }
            Some((k, feature_vector(&track.ceps[k], f.f0_hz?)?))
        })
        .collect()
}

/// Each side of a speaker change inside a vocalisation needs this many voiced frames.
const MIN_SPLIT_SIDE_FRAMES: usize = 15;
/// A speaker change inside a vocalisation is accepted at this t statistic of the frame scores.
const SPLIT_T: f64 = 16.0;

/// Where inside a vocalisation the voice changes, if it does: the frame index the second
/// part starts at. The best split of the frame scores into two runs of opposite sign, when the
/// difference of their means is significant.
fn change_point(scorer: &Scorer<'_>, f: &[(usize, VoiceVector)]) -> Option<usize> {
    let n = f.len();
    if n < 2 * MIN_SPLIT_SIDE_FRAMES {
        return None;
    }
    let x: Vec<f64> = f
        .iter()
        .map(|(_, v)| {
            let (a, b) = scorer.frame_parts(v);
            scorer.combine(a, b).clamp(-10.0, 10.0)
        })
        .collect();
    let total: f64 = x.iter().sum();
    let total_sq: f64 = x.iter().map(|v| v * v).sum();
    let mut left = 0.0;
    let mut left_sq = 0.0;
    let mut best: Option<(f64, usize)> = None;
    for (i, &xi) in x.iter().enumerate().take(n - 1) {
        left += xi;
        left_sq += xi * xi;
        let (nl, nr) = ((i + 1) as f64, (n - i - 1) as f64);
        if (i + 1) < MIN_SPLIT_SIDE_FRAMES || (n - i - 1) < MIN_SPLIT_SIDE_FRAMES {
            continue;
        }
        let (ml, mr) = (left / nl, (total - left) / nr);
        if ml * mr >= 0.0 {
            continue;
        }
        let var =
            ((left_sq - nl * ml * ml) + ((total_sq - left_sq) - nr * mr * mr)) / (n as f64 - 2.0);
        let t = (ml - mr).abs() / (var.max(1e-9) * (1.0 / nl + 1.0 / nr)).sqrt();
        if t > SPLIT_T && best.is_none_or(|b| t > b.0) {
            best = Some((t, i + 1));
        }
    }
    best.map(|(_, i)| f[i].0)
}

/// A pause inside a vocalisation at least this long (frames without voice features) is where
/// two voices may meet: the Analyzer joins vocalisations over shorter silences.
const GAP_FRAMES: usize = 12;
/// Each side of a pause needs this many voiced frames to be judged on its own.
const GAP_SIDE_FRAMES: usize = 8;
/// The two sides of a pause must differ in voice score by at least this (in units of the
/// session's spread of vocalisation scores); each side is then labelled on its own.
const GAP_SPLIT_MARGIN: f64 = 1.5;

/// Where to cut a vocalisation at an inner pause whose two sides sound clearly different (the
/// largest difference): (end frame of the first part, exclusive; first frame of the second).
fn gap_split(scorer: &Scorer<'_>, f: &[(usize, VoiceVector)]) -> Option<(usize, usize)> {
    let side = |x: &[(usize, VoiceVector)]| -> f64 {
        let v: Vec<VoiceVector> = x.iter().map(|p| p.1).collect();
        let (a, b) = scorer.segment_parts(&v);
        scorer.combine(a, b)
    };
    let mut best: Option<(f64, usize, usize)> = None;
    for j in GAP_SIDE_FRAMES..f.len().saturating_sub(GAP_SIDE_FRAMES - 1) {
        if f[j].0 - f[j - 1].0 < GAP_FRAMES {
            continue;
        }
        let (l, r) = (side(&f[..j]), side(&f[j..]));
        let strength = (l - r).abs();
        if strength > GAP_SPLIT_MARGIN && best.is_none_or(|b| strength > b.0) {
            best = Some((strength, f[j - 1].0 + 1, f[j].0));
        }
    }
    best.map(|(_, e, s)| (e, s))
}

/// One microphone: labels each vocalisation of `track` by the voice models' log-likelihood
/// ratios (spectral envelope and pitch). A missing model is estimated from the session itself
/// (the vocalisations the other model explains worst) and re-estimated over a few rounds; an
/// enrolled model is kept as enrolled; a vocalisation in which the voice changes is cut in two;
/// the turn-taking prior settles close calls. With no model at all the vocalisations are split
/// into two voices `A`/`B` (`A` is the voice of the first vocalisation).
pub fn attribute_one_channel(
    track: &ChannelTrack,
    partner: Option<&VoiceModel>,
    user: Option<&VoiceModel>,
) -> Vec<Segment> {
    let track_levels_db = levels_db(track);
    let mut vocs: Vec<Vocalisation> = track
        .vocalisations
        .iter()
        .filter(|v| above_room(&track_levels_db, v, MIN_ABOVE_ROOM_FAR_DB))
        .copied()
        .collect();
    let mut feats: Vec<Vec<(usize, VoiceVector)>> =
        vocs.iter().map(|v| indexed_features(track, v)).collect();
    let plain = |feats: &[Vec<(usize, VoiceVector)>]| -> Vec<Vec<VoiceVector>> {
        feats
            .iter()
            .map(|f| f.iter().map(|x| x.1).collect())
            .collect()
    };
    let all: Vec<VoiceVector> = feats.iter().flatten().map(|x| x.1).collect();
    let labelled = partner.is_some() || user.is_some();
    let mut scores: Vec<f64> = vec![0.0; feats.len()];
    // Initial scores.
    match (partner, user) {
        (Some(p), Some(u)) => scores = score_all(p, u, &feats).0,
        (Some(fixed), None) | (None, Some(fixed)) => {
            // Against the model of the whole session, split where the scores part in two.
            let sign = if partner.is_some() { 1.0 } else { -1.0 };
            if let Ok(session) = VoiceModel::train(&all) {
                scores = score_all(fixed, &session, &feats)
                    .0
                    .into_iter()
                    .map(|s| sign * s)
                    .collect();
                let with: Vec<(f64, usize)> = scores
                    .iter()
                    .zip(&feats)
                    .filter(|(_, f)| !f.is_empty())
                    .map(|(s, f)| (*s, f.len()))
                    .collect();
                let t = split_point(&with);
                scores.iter_mut().for_each(|s| *s -= t);
            }
        }
        (None, None) => {
            // Start from the two pitch registers (median log f0 of each vocalisation, split
            // where the values part best), then let both cues refine it.
            let medians: Vec<(f64, usize)> = plain(&feats)
                .iter()
                .map(|f| {
                    let mut p: Vec<f64> = f.iter().map(|x| f64::from(x[N_PITCH])).collect();
                    p.sort_by(f64::total_cmp);
                    (p.get(p.len() / 2).copied().unwrap_or(f64::NAN), f.len())
                })
                .collect();
            let valid: Vec<(f64, usize)> = medians
                .iter()
                .copied()
                .filter(|m| m.0.is_finite())
                .collect();
            let t = split_point(&valid);
            for (s, m) in scores.iter_mut().zip(&medians) {
                *s = if m.0.is_finite() { m.0 - t } else { 0.0 };
            }
        }
    }
    // Re-estimate a voice without enrolment from the session's own vocalisations. An enrolled
    // voice stays as enrolled: adding the session's frames to it let a few early mistakes
    // (a user's babble taken for the partner) pull it towards the other voice.
    let mut models: Option<(VoiceModel, VoiceModel)> = None;
    // With both voices enrolled there is nothing to re-estimate: one pass sets the models.
    let rounds = if partner.is_some() && user.is_some() {
        0
    } else {
        ROUNDS
    };
    for round in 0..=rounds {
        let is_partner: Vec<bool> = scores.iter().map(|s| *s > 0.0).collect();
        let gather = |want: bool| -> Vec<VoiceVector> {
            feats
                .iter()
                .zip(&is_partner)
                .filter(|(_, &p)| p == want)
                .flat_map(|(f, _)| f.iter().map(|x| x.1))
                .collect()
        };
        // The session's frames are gathered only for a voice that has no clip.
        let estimate = |base: Option<&VoiceModel>, want: bool| match base {
            Some(m) => Some(m.clone()),
            None => VoiceModel::train(&gather(want)).ok(),
        };
        let (Some(p), Some(u)) = (estimate(partner, true), estimate(user, false)) else {
            break;
        };
        let next = score_all(&p, &u, &feats).0;
        let changed = next
            .iter()
            .zip(&scores)
            .any(|(a, b)| (*a > 0.0) != (*b > 0.0));
        scores = next;
        models = Some((p, u));
        if !changed && round > 0 {
            break;
        }
    }
    // Cut vocalisations in which the voice changes (an answer that follows without a pause).
    if let Some((p, u)) = &models {
        let (_, scorer) = score_all(p, u, &feats);
        let mut cut = false;
        let mut next_vocs = Vec::with_capacity(vocs.len());
        for (v, f) in vocs.iter().zip(&feats) {
            // The second part keeps the vocalisation's tail.
            let last_part = |start: SampleTime| Vocalisation {
                heard_until: v.heard_until,
                ..track.summarise(start, v.end)
            };
            if let Some((end, start)) = gap_split(&scorer, f) {
                next_vocs.push(track.summarise(v.start, frame_time(end)));
                next_vocs.push(last_part(frame_time(start)));
                cut = true;
                continue;
            }
            match change_point(&scorer, f) {
                Some(k) => {
                    let at = frame_time(k);
                    next_vocs.push(track.summarise(v.start, at));
                    next_vocs.push(last_part(at));
                    cut = true;
                }
                None => next_vocs.push(*v),
            }
        }
        if cut {
            vocs = next_vocs;
            feats = vocs.iter().map(|v| indexed_features(track, v)).collect();
            scores = score_all(p, u, &feats).0;
        }
    }
    let plain_feats = plain(&feats);
    let mut scores = turn_taking_smooth(&vocs, &scores, &plain_feats);
    if !labelled {
        // A is the voice of the first vocalisation with features.
        if let Some(first) = feats.iter().position(|f| !f.is_empty()) {
            if scores[first] > 0.0 {
                scores.iter_mut().for_each(|s| *s = -*s);
            }
        }
    }
    vocs.iter()
        .zip(&scores)
        .zip(&feats)
        .map(|((v, &s), f)| Segment {
            vocalisation: *v,
            speaker: match (labelled, f.is_empty(), s > 0.0) {
                (_, true, _) if s == 0.0 => Speaker::Unknown,
                (true, _, true) => Speaker::Partner,
                (true, _, false) => Speaker::User,
                (false, _, true) => Speaker::B,
                (false, _, false) => Speaker::A,
            },
            track: 0,
            margin: s.abs() as f32,
        })
        .collect()
}

/// The threshold that best splits weighted 1-D values in two groups (Otsu).
fn split_point(values: &[(f64, usize)]) -> f64 {
    let mut v: Vec<(f64, f64)> = values.iter().map(|(x, w)| (*x, *w as f64)).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    if v.len() < 2 {
        return 0.0;
    }
    let total_w: f64 = v.iter().map(|x| x.1).sum();
    let total_s: f64 = v.iter().map(|x| x.0 * x.1).sum();
    let (mut w0, mut s0) = (0.0, 0.0);
    let mut best = (f64::MIN, 0.0);
    for i in 0..v.len() - 1 {
        w0 += v[i].1;
        s0 += v[i].0 * v[i].1;
        let w1 = total_w - w0;
        let (m0, m1) = (s0 / w0, (total_s - s0) / w1);
        let between = w0 * w1 * (m1 - m0).powi(2);
        if between > best.0 {
            best = (between, 0.5 * (v[i].0 + v[i + 1].0));
        }
    }
    best.1
}

/// A stretch of time (s) during which the partner held the push-to-talk key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldInterval {
    pub start_secs: f64,
    pub end_secs: f64,
}

/// A vocalisation lying at least this share (0-1) inside the key-held intervals is the
/// partner's.
pub const PARTNER_HELD_SHARE: f64 = 0.5;

/// What the push-to-talk key says about the vocalisations outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideKey {
    /// They keep their guess (the partner uses the key now and then).
    KeepGuess,
    /// Those with no guess ([`Speaker::Unknown`]) are the user's, the others keep theirs: the
    /// live window, once the key has been used in the session.
    UnknownIsUser,
    /// All are the user's (the partner uses the key for every vocalisation of theirs).
    User,
}

/// The share (0-1) of the vocalisation `[start_secs, end_secs]` during which the key was held
/// (an interval still open ends at infinity). Any thread.
pub fn held_share(
    start_secs: f64,
    end_secs: f64,
    held: impl IntoIterator<Item = HeldInterval>,
) -> f64 {
    let covered: f64 = held
        .into_iter()
        .map(|h| (end_secs.min(h.end_secs) - start_secs.max(h.start_secs)).max(0.0))
        .sum();
    covered / (end_secs - start_secs).max(1e-9)
}

/// One vocalisation's speaker under the push-to-talk key, from the share of it the key was
/// held ([`held_share`]) and the speaker it was guessed to be otherwise (a voice label, or
/// `Unknown`): the partner's from [`PARTNER_HELD_SHARE`] on, else as `outside` says. The one
/// rule for a whole session ([`apply_push_to_talk`]) and for the live window, which labels
/// each vocalisation as it ends. Any thread.
pub fn push_to_talk_speaker(held_share: f64, guess: Speaker, outside: OutsideKey) -> Speaker {
    if held_share >= PARTNER_HELD_SHARE {
        return Speaker::Partner;
    }
    match outside {
        OutsideKey::User => Speaker::User,
        OutsideKey::UnknownIsUser if guess == Speaker::Unknown => Speaker::User,
        OutsideKey::UnknownIsUser | OutsideKey::KeepGuess => guess,
    }
}

/// Overrides the guessed speakers with the partner's push-to-talk key
/// ([`push_to_talk_speaker`]): a segment that lies at least half inside the key-held intervals
/// is the partner's; when `exclusive` (the partner uses the key for every vocalisation of
/// theirs), every other segment is the user's. Without `exclusive`, segments outside the
/// intervals keep their guess (`A`/`B` guesses become `user`/`partner` by whichever of them
/// the key matched more).
pub fn apply_push_to_talk(segments: &mut [Segment], held: &[HeldInterval], exclusive: bool) {
    let inside = |v: &Vocalisation| held_share(v.start.secs(), v.end.secs(), held.iter().copied());
    // Which unnamed voice does the key point at?
    let (mut a_held, mut b_held) = (0usize, 0usize);
    for s in segments.iter() {
        if inside(&s.vocalisation) >= PARTNER_HELD_SHARE {
            match s.speaker {
                Speaker::A => a_held += 1,
                Speaker::B => b_held += 1,
                _ => {}
            }
        }
    }
    let partner_voice = if b_held >= a_held {
        Speaker::B
    } else {
        Speaker::A
    };
    let outside = if exclusive {
        OutsideKey::User
    } else {
        OutsideKey::KeepGuess
    };
    for s in segments.iter_mut() {
        let guess = match s.speaker {
            Speaker::A | Speaker::B if a_held + b_held > 0 => {
                if s.speaker == partner_voice {
                    Speaker::Partner
                } else {
                    Speaker::User
                }
            }
            other => other,
        };
        s.speaker = push_to_talk_speaker(inside(&s.vocalisation), guess, outside);
    }
}

/// The mean of the middle half of the values (robust to a few frames of the other voice or of
/// noise inside a vocalisation).
fn robust_mean(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let trim = 0.25;
    let (a, b) = (
        (v.len() as f64 * trim) as usize,
        v.len() - (v.len() as f64 * trim) as usize,
    );
    let mid = &v[a..b.max(a + 1)];
    mid.iter().sum::<f64>() / mid.len() as f64
}

/// Probability that the next vocalisation within [`SWITCH_WINDOW_SECS`] is by the other
/// person: turn-taking is what a session is made of.
pub const SWITCH_PRIOR: f64 = 0.75;
/// How many nats of evidence one unit of the (spread-scaled) voice score of a vocalisation of
/// [`EVIDENCE_REF_FRAMES`] voiced frames is worth against the turn-taking prior.
pub const VOICE_SCORE_SCALE: f64 = 2.0;
/// Vocalisations further apart than this carry no turn-taking information (s).
pub const SWITCH_WINDOW_SECS: f64 = 5.0;

/// Voiced frames whose voice score counts once against the turn-taking prior.
const EVIDENCE_REF_FRAMES: f64 = 60.0;
/// The most a long vocalisation's voice score counts (times its own value).
const EVIDENCE_MAX_WEIGHT: f64 = 2.0;

/// How much a vocalisation's voice score counts against the turn-taking prior: a long sound
/// says more about its voice than a short one, growing as the square root of its voiced
/// frames (neighbouring frames are far from independent), 1 at [`EVIDENCE_REF_FRAMES`] and at
/// most [`EVIDENCE_MAX_WEIGHT`].
fn evidence_weight(voiced_frames: usize) -> f64 {
    (voiced_frames as f64 / EVIDENCE_REF_FRAMES)
        .sqrt()
        .min(EVIDENCE_MAX_WEIGHT)
}

/// Combines the voice scores (log-odds-like, > 0 partner) with the turn-taking prior by a
/// two-state Viterbi over the vocalisations in time order; returns scores whose sign is the
/// decision and whose size is the voice score's.
fn turn_taking_smooth(
    vocs: &[Vocalisation],
    scores: &[f64],
    feats: &[Vec<VoiceVector>],
) -> Vec<f64> {
    let n = scores.len();
    if n < 2 {
        return scores.to_vec();
    }
    let (lambda, prior) = (VOICE_SCORE_SCALE, SWITCH_PRIOR);
    // Emission log-probabilities of state 0 (user) and 1 (partner).
    let emit = |i: usize| -> [f64; 2] {
        if feats[i].is_empty() {
            return [0.0, 0.0];
        }
        let e = (lambda * evidence_weight(feats[i].len()) * scores[i]).clamp(-8.0, 8.0);
        [-0.5 * e, 0.5 * e]
    };
    let mut cost = vec![[0f64; 2]; n];
    let mut back = vec![[0usize; 2]; n];
    cost[0] = emit(0);
    for i in 1..n {
        let gap = vocs[i].start.secs() - vocs[i - 1].end.secs();
        let p = if gap < SWITCH_WINDOW_SECS { prior } else { 0.5 };
        let (sw, st) = (p.ln(), (1.0 - p).ln());
        let e = emit(i);
        for s in 0..2 {
            let from_same = cost[i - 1][s] + st;
            let from_other = cost[i - 1][1 - s] + sw;
            if from_same >= from_other {
                cost[i][s] = from_same + e[s];
                back[i][s] = s;
            } else {
                cost[i][s] = from_other + e[s];
                back[i][s] = 1 - s;
            }
        }
    }
    let mut state = if cost[n - 1][1] > cost[n - 1][0] {
        1
    } else {
        0
    };
    let mut out = vec![0f64; n];
    for i in (0..n).rev() {
        let mag = scores[i].abs().max(1e-3);
        out[i] = if state == 1 { mag } else { -mag };
        state = back[i][state];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::voice_model::DIM;

    fn vocalisation(start_secs: f64, end_secs: f64) -> Vocalisation {
        Vocalisation {
            start: SampleTime::from_secs(start_secs),
            end: SampleTime::from_secs(end_secs),
            heard_until: SampleTime::from_secs(end_secs),
            peak_level_dbfs: -20.0,
            mean_level_dbfs: -26.0,
            f0_median_hz: 200.0,
            f0_low_hz: 180.0,
            f0_high_hz: 220.0,
            voiced_frames: 0,
            syllables: 1,
            syllable_rate_hz: 0.0,
            mean_ioi_secs: 0.0,
            regularity: None,
        }
    }

    /// The partner's talker three times in a row, 1 s apart, the middle sound leaning to the
    /// partner by the same voice score whether 0.15 s or 2.4 s of it is voiced.
    fn decide_middle(middle_frames: usize) -> f64 {
        let vocs = [
            vocalisation(0.0, 0.6),
            vocalisation(1.6, 4.0),
            vocalisation(5.0, 5.6),
        ];
        let frames = |n: usize| vec![[0f32; DIM]; n];
        let feats = [frames(60), frames(middle_frames), frames(60)];
        turn_taking_smooth(&vocs, &[1.0, 0.6, 1.0], &feats)[1]
    }

    /// Two microphones over `secs` of a room with babble (unvoiced, -42 to -38 dB on both),
    /// calibrated at ±9 dB (each talker 9 dB louder on its own microphone).
    struct Room {
        user: ChannelTrack,
        partner: ChannelTrack,
    }

    impl Room {
        fn new(secs: f64) -> Self {
            let n = (secs * 100.0).round() as usize;
            let babble = |k: usize| crate::analysis::track::FrameRecord {
                f0_hz: None,
                level_dbfs: -40.0 + 2.0 * (k as f32 * 0.9).sin(),
            };
            let frames: Vec<_> = (0..n).map(babble).collect();
            let track = ChannelTrack {
                frames,
                ..ChannelTrack::default()
            };
            Self {
                user: track.clone(),
                partner: track,
            }
        }

        /// Sets the frames `from_secs..to_secs` of one microphone (0 = the user's).
        fn set(&mut self, mic: usize, from_secs: f64, to_secs: f64, f0_hz: Option<f32>, db: f32) {
            let track = if mic == 0 {
                &mut self.user
            } else {
                &mut self.partner
            };
            let (a, b) = (
                (from_secs * 100.0).round() as usize,
                (to_secs * 100.0).round(),
            );
            for f in &mut track.frames[a..b as usize] {
                *f = crate::analysis::track::FrameRecord {
                    f0_hz,
                    level_dbfs: db,
                };
            }
        }

        /// A vocalisation found on one microphone (as the Analyzer would report it).
        fn found(&mut self, mic: usize, start_secs: f64, end_secs: f64) {
            let track = if mic == 0 {
                &mut self.user
            } else {
                &mut self.partner
            };
            let v = track.summarise(
                SampleTime::from_secs(start_secs),
                SampleTime::from_secs(end_secs),
            );
            track.vocalisations.push(v);
        }

        fn segments(&self) -> Vec<(Speaker, f64, f64)> {
            let cal = Calibration {
                user_mode_db: 9.0,
                partner_mode_db: -9.0,
                threshold_db: 0.0,
            };
            attribute_two_channels(
                &self.user,
                &self.partner,
                &cal,
                &TwoChannelSettings::default(),
            )
            .iter()
            .map(|s| {
                let v = s.vocalisation;
                (s.speaker, v.start.secs(), v.end.secs())
            })
            .collect()
        }
    }

    #[test]
    fn the_babbles_voiced_bits_are_no_ones_vocalisation() {
        let mut room = Room::new(10.0);
        // A distant talker of the babble, heard alike by both microphones, 5 dB above the room.
        room.set(0, 3.0, 3.3, Some(150.0), -35.0);
        room.set(1, 3.0, 3.3, Some(150.0), -35.5);
        room.found(0, 3.0, 3.3);
        room.found(1, 3.0, 3.3);
        // The user, near the microphone.
        room.set(0, 6.0, 7.0, Some(250.0), -15.0);
        room.set(1, 6.0, 7.0, Some(250.0), -24.0);
        room.found(0, 6.0, 7.0);
        room.found(1, 6.0, 7.0);
        let segments = room.segments();
        assert_eq!(segments.len(), 1, "{segments:?}");
        assert_eq!(segments[0].0, Speaker::User);
        assert!((segments[0].1 - 6.0).abs() < 0.02, "{segments:?}");
    }

    #[test]
    fn one_microphone_hears_the_babbles_voiced_bits_as_no_ones_vocalisation() {
        let mut room = Room::new(10.0);
        room.set(0, 3.0, 3.3, Some(150.0), -35.0);
        room.found(0, 3.0, 3.3);
        room.set(0, 6.0, 7.0, Some(250.0), -25.0);
        room.found(0, 6.0, 7.0);
        let segments = attribute_one_channel(&room.user, None, None);
        assert_eq!(segments.len(), 1, "{segments:?}");
        assert!((segments[0].vocalisation.start.secs() - 6.0).abs() < 0.02);
    }

    #[test]
    fn a_vocalisation_starts_where_its_sound_starts_not_where_its_pitch_is_found() {
        let mut room = Room::new(10.0);
        // 0.3 s of the user's voice whose pitch the babble hides, then 0.7 s with pitch.
        room.set(0, 4.0, 4.3, None, -18.0);
        room.set(1, 4.0, 4.3, None, -27.0);
        room.set(0, 4.3, 5.0, Some(250.0), -16.0);
        room.set(1, 4.3, 5.0, Some(250.0), -25.0);
        // The pitch tracker found it from 4.3 s on.
        room.found(0, 4.3, 5.0);
        room.found(1, 4.3, 5.0);
        let segments = room.segments();
        assert_eq!(segments.len(), 1, "{segments:?}");
        assert!((segments[0].1 - 4.0).abs() < 0.02, "{segments:?}");
    }

    #[test]
    fn an_answer_overlapping_the_other_talker_is_its_own_vocalisation_from_its_start() {
        let mut room = Room::new(10.0);
        // The user from 1 s to 3 s; the partner answers at 2.5 s, over the user's end, until 4 s.
        room.set(0, 1.0, 3.0, Some(250.0), -15.0);
        room.set(1, 1.0, 2.5, Some(250.0), -24.0);
        // While both vocalise the partner adds little level to its microphone (the user's
        // bleed is as loud) but its own pitch.
        room.set(1, 2.5, 3.0, Some(150.0), -23.5);
        room.set(1, 3.0, 4.0, Some(150.0), -15.0);
        room.set(0, 3.0, 4.0, Some(150.0), -24.0);
        // Each microphone's tracker hears one continuous sound.
        room.found(0, 1.0, 4.0);
        room.found(1, 1.0, 4.0);
        let segments = room.segments();
        assert_eq!(segments.len(), 2, "{segments:?}");
        let (user, partner) = (segments[0], segments[1]);
        assert_eq!((user.0, partner.0), (Speaker::User, Speaker::Partner));
        assert!((user.1 - 1.0).abs() < 0.02, "{segments:?}");
        assert!(user.2 <= 3.05, "the answer is not the user's: {segments:?}");
        assert!((partner.1 - 2.5).abs() < 0.02, "{segments:?}");
    }

    #[test]
    fn a_vocalisation_with_a_babble_dip_inside_stays_one() {
        let mut room = Room::new(10.0);
        room.set(0, 1.0, 3.0, Some(250.0), -15.0);
        room.set(1, 1.0, 3.0, Some(250.0), -24.0);
        // For 0.1 s the user's voice dips into the babble: its pitch is lost, and the
        // partner's microphone hears a babble talker a little louder.
        room.set(0, 2.0, 2.1, None, -36.0);
        room.set(1, 2.0, 2.1, Some(150.0), -34.0);
        room.found(0, 1.0, 3.0);
        let segments = room.segments();
        assert_eq!(segments.len(), 1, "{segments:?}");
        assert_eq!(segments[0].0, Speaker::User);
        assert!((segments[0].1 - 1.0).abs() < 0.02 && (segments[0].2 - 3.0).abs() < 0.02);
    }

    #[test]
    fn a_quick_answer_by_the_other_talker_stays_its_own_vocalisation() {
        let mut room = Room::new(10.0);
        room.set(0, 1.0, 2.0, Some(250.0), -15.0);
        room.set(1, 1.0, 2.0, Some(250.0), -24.0);
        // The partner answers 0.1 s after the user stops.
        room.set(1, 2.1, 3.0, Some(150.0), -15.0);
        room.set(0, 2.1, 3.0, Some(150.0), -24.0);
        room.found(0, 1.0, 3.0);
        room.found(1, 1.0, 3.0);
        let segments = room.segments();
        let who: Vec<Speaker> = segments.iter().map(|s| s.0).collect();
        assert_eq!(who, [Speaker::User, Speaker::Partner], "{segments:?}");
        assert!((segments[1].1 - 2.1).abs() < 0.02, "{segments:?}");
        assert!(segments[0].2 <= 2.05, "{segments:?}");
    }

    #[test]
    fn the_other_talkers_fading_pitch_does_not_start_an_answer() {
        let mut room = Room::new(10.0);
        // The user from 1 s to 2 s; its pitch is heard on in the room's tail until 2.6 s, just
        // under the babble that the partner's microphone hears a little louder.
        room.set(0, 1.0, 2.0, Some(250.0), -15.0);
        room.set(1, 1.0, 2.0, Some(250.0), -24.0);
        room.set(0, 2.0, 2.6, Some(250.0), -31.0);
        room.set(1, 2.0, 2.6, None, -30.0);
        // The partner answers at 2.6 s.
        room.set(1, 2.6, 3.6, Some(120.0), -15.0);
        room.set(0, 2.6, 3.6, Some(120.0), -24.0);
        room.found(0, 1.0, 3.6);
        room.found(1, 1.0, 3.6);
        let segments = room.segments();
        assert_eq!(segments.len(), 2, "{segments:?}");
        assert_eq!(segments[1].0, Speaker::Partner);
        assert!((segments[1].1 - 2.6).abs() < 0.02, "{segments:?}");
    }

    #[test]
    fn the_key_names_a_sound_as_it_ends_as_it_names_a_session() {
        let held = [HeldInterval {
            start_secs: 1.9,
            end_secs: 3.1,
        }];
        let share = |a: f64, b: f64| held_share(a, b, held.iter().copied());
        // Held over the whole sound: the partner's, whatever the voice said.
        assert_eq!(
            push_to_talk_speaker(share(2.0, 3.0), Speaker::User, OutsideKey::KeepGuess),
            Speaker::Partner
        );
        // Held over less than half of it: its voice label stands.
        assert!(share(2.8, 4.0) < PARTNER_HELD_SHARE);
        assert_eq!(
            push_to_talk_speaker(share(2.8, 4.0), Speaker::Partner, OutsideKey::UnknownIsUser),
            Speaker::Partner
        );
        // Once the key is in use live, an unlabelled sound outside it is the user's.
        assert_eq!(
            push_to_talk_speaker(share(4.0, 5.0), Speaker::Unknown, OutsideKey::UnknownIsUser),
            Speaker::User
        );
        assert_eq!(
            push_to_talk_speaker(share(4.0, 5.0), Speaker::Unknown, OutsideKey::KeepGuess),
            Speaker::Unknown
        );
        // A key still held (open interval) covers the sound going on.
        let open = HeldInterval {
            start_secs: 6.0,
            end_secs: f64::INFINITY,
        };
        assert_eq!(held_share(6.5, 7.0, [open]), 1.0);
        // The session rule agrees with the per-sound one.
        let mut segs = [Segment {
            vocalisation: vocalisation(2.0, 3.0),
            speaker: Speaker::User,
            track: 0,
            margin: 1.0,
        }];
        apply_push_to_talk(&mut segs, &held, false);
        assert_eq!(segs[0].speaker, Speaker::Partner);
    }

    #[test]
    fn a_long_sound_outweighs_the_turn_taking_prior_where_a_short_one_does_not() {
        // 2.4 s of voice: its voice says partner, whatever the turn-taking prior expects.
        assert!(decide_middle(240) > 0.0);
        // 0.15 s: too little to go against the prior that the other person spoke between.
        assert!(decide_middle(15) < 0.0);
    }
}
