//! A session's analysis from its tracks: who made each vocalisation (two microphones, voice
//! enrolment or two voices), the turns, the mirroring of the answers, the pace, and the
//! report `NAME.summary.json` carries. Pure functions of the tracks and segments: `attune
//! analyze`, review (after every correction) and export all measure a session here.
//!
//! Any thread.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::mirror::{mirror_score, MirrorScore, MirrorWeights, VocalShape};
use crate::analysis::speaker::{
    attribute_one_channel, attribute_two_channels, calibrate, Calibration, Segment, Speaker,
    TwoChannelSettings,
};
use crate::analysis::track::ChannelTrack;
use crate::analysis::turns::{
    find_turns, measure_turns, vocal_activity, ChanceSettings, Turn, TurnMeasures, TurnSettings,
    Utterance, VocalActivity,
};
use crate::analysis::voice_model::VoiceModel;

/// How the speakers are told apart.
#[derive(Debug, Clone)]
pub enum SpeakerMode {
    /// Two microphones (0-based channels).
    Channels { user: usize, partner: usize },
    /// One microphone with the voice models given (none: two voices `A`/`B`).
    Voices {
        partner: Option<Box<VoiceModel>>,
        user: Option<Box<VoiceModel>>,
    },
}

/// One row of `NAME.turns.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnRow {
    pub turn: Turn,
    pub prev_start_secs: f64,
    pub next_end_secs: f64,
    /// Whether chattr's windows admit the turn (every row is a LENA turn).
    pub chattr: bool,
    pub lena: bool,
    /// How closely the answer mirrors the vocalisation it answers.
    pub mirror: Option<MirrorScore>,
}

/// The mirror scores of a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MirrorSummary {
    /// Partner answers scored (user → partner turns, LENA windows).
    pub answers: usize,
    pub mean_score: Option<f64>,
    pub median_score: Option<f64>,
    pub weights: MirrorWeights,
}

/// The session part of `NAME.summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionReport {
    /// "two_channels", "enrolment" or "two_voices".
    pub attribution: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    pub vocalisations_by_speaker: BTreeMap<String, usize>,
    pub vocal_activity: VocalActivity,
    /// Turn measures by model ("chattr", "lena").
    pub turn_models: BTreeMap<String, TurnMeasures>,
    pub chance_settings: ChanceSettings,
    pub mirror: MirrorSummary,
    /// Pace and intensity, described, not judged.
    pub pace: Pace,
}

/// How loud and how quick each person is, and how the person's activity changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pace {
    /// Median of the vocalisations' mean levels, by speaker (dBFS, as heard by the
    /// microphone that attributed them: with two microphones the mic gains differ).
    pub median_level_dbfs_by_speaker: BTreeMap<String, f64>,
    /// The second person's median level minus the first's (partner − user, B − A; dB).
    pub level_difference_db: Option<f64>,
    /// The user's (or A's) vocal seconds per minute over the last 3 minutes and before them.
    #[serde(rename = "first_speaker_vocal_s_per_min_last_3_min")]
    pub first_speaker_vocal_secs_per_min_last_3_min: Option<f64>,
    #[serde(rename = "first_speaker_vocal_s_per_min_before")]
    pub first_speaker_vocal_secs_per_min_before: Option<f64>,
}

fn pace(segments: &[Segment], utterances: &[Utterance], duration_secs: f64) -> Pace {
    let parties = crate::analysis::turns::parties(utterances);
    let mut levels: BTreeMap<String, f64> = BTreeMap::new();
    for who in parties {
        let mut v: Vec<f64> = segments
            .iter()
            .filter(|s| s.speaker == who)
            .map(|s| f64::from(s.vocalisation.mean_level_dbfs))
            .collect();
        v.sort_by(f64::total_cmp);
        if let Some(m) = v.get(v.len() / 2) {
            levels.insert(who.as_str().to_string(), (m * 10.0).round() / 10.0);
        }
    }
    let diff = match (
        levels.get(parties[1].as_str()),
        levels.get(parties[0].as_str()),
    ) {
        (Some(b), Some(a)) => Some(((b - a) * 10.0).round() / 10.0),
        _ => None,
    };
    let split = (duration_secs - 180.0).max(0.0);
    let secs_in = |a: f64, b: f64| -> f64 {
        utterances
            .iter()
            .filter(|u| u.speaker == parties[0])
            .map(|u| (u.end_secs.min(b) - u.start_secs.max(a)).max(0.0))
            .sum()
    };
    let per_min = |a: f64, b: f64| -> Option<f64> {
        (b - a >= 30.0).then(|| ((secs_in(a, b) * 60.0 / (b - a)) * 100.0).round() / 100.0)
    };
    Pace {
        median_level_dbfs_by_speaker: levels,
        level_difference_db: diff,
        first_speaker_vocal_secs_per_min_last_3_min: per_min(split, duration_secs),
        first_speaker_vocal_secs_per_min_before: per_min(0.0, split),
    }
}

/// How the vocalisations were attributed, as `summary.json` names it.
pub struct Attribution {
    pub segments: Vec<Segment>,
    pub calibration: Option<Calibration>,
    /// "two_channels", "enrolment", "two_voices" or "none".
    pub method: &'static str,
}

/// Attributes the vocalisations of `tracks` (`tracks[0]` is the user's microphone or the only
/// one, `tracks[1]` the partner's). Any thread.
pub fn attribute(tracks: &[ChannelTrack], mode: &SpeakerMode) -> Attribution {
    let (segments, calibration, method) = match (mode, tracks) {
        (SpeakerMode::Channels { .. }, [u, p, ..]) => {
            let cal = calibrate(u, p);
            (
                attribute_two_channels(u, p, &cal, &TwoChannelSettings::default()),
                Some(cal),
                "two_channels",
            )
        }
        (SpeakerMode::Voices { partner, user }, [t, ..]) => (
            attribute_one_channel(t, partner.as_deref(), user.as_deref()),
            None,
            if partner.is_some() || user.is_some() {
                "enrolment"
            } else {
                "two_voices"
            },
        ),
        _ => (Vec::new(), None, "none"),
    };
    Attribution {
        segments,
        calibration,
        method,
    }
}

/// Attributes the vocalisations, finds the turns and scores the answers. `tracks[0]` is the
/// user's microphone (or the only one), `tracks[1]` the partner's. Any thread.
pub fn analyse_session(
    tracks: &[ChannelTrack],
    mode: &SpeakerMode,
    duration_secs: f64,
) -> (Vec<Segment>, Vec<TurnRow>, SessionReport) {
    let a = attribute(tracks, mode);
    let (rows, report) =
        measure_session(tracks, &a.segments, a.method, a.calibration, duration_secs);
    (a.segments, rows, report)
}

/// Finds the turns of attributed `segments` (sorted by start), scores the answers and measures
/// the session. Reruns whenever a reviewer corrects a label or a boundary. Any thread.
pub fn measure_session(
    tracks: &[ChannelTrack],
    segments: &[Segment],
    attribution: &str,
    calibration: Option<Calibration>,
    duration_secs: f64,
) -> (Vec<TurnRow>, SessionReport) {
    let utterances: Vec<Utterance> = segments
        .iter()
        .map(|s| Utterance {
            speaker: s.speaker,
            start_secs: s.vocalisation.start.secs(),
            end_secs: s.vocalisation.end.secs(),
        })
        .collect();
    let shapes: Vec<VocalShape> = segments
        .iter()
        .map(|s| match tracks.get(s.track).or(tracks.last()) {
            Some(t) => VocalShape::from_track(t, &s.vocalisation),
            None => VocalShape::from_parts(&s.vocalisation, std::iter::empty(), std::iter::empty()),
        })
        .collect();
    let weights = MirrorWeights::default();
    let lena = find_turns(&utterances, &TurnSettings::LENA);
    let chattr = find_turns(&utterances, &TurnSettings::CHATTR);
    let rows: Vec<TurnRow> = lena
        .iter()
        .map(|t| TurnRow {
            turn: *t,
            prev_start_secs: utterances[t.prev].start_secs,
            next_end_secs: utterances[t.next].end_secs,
            chattr: chattr.iter().any(|c| c.next == t.next && c.prev == t.prev),
            lena: true,
            mirror: Some(mirror_score(&shapes[t.prev], &shapes[t.next], &weights)),
        })
        .collect();
    let mut answer_scores: Vec<f64> = rows
        .iter()
        .filter(|r| r.turn.to == Speaker::Partner)
        .filter_map(|r| r.mirror.map(|m| f64::from(m.score)))
        .collect();
    answer_scores.sort_by(f64::total_cmp);
    let chance = ChanceSettings::default();
    let mut turn_models = BTreeMap::new();
    for (name, settings) in [
        ("chattr", TurnSettings::CHATTR),
        ("lena", TurnSettings::LENA),
    ] {
        turn_models.insert(
            name.to_string(),
            measure_turns(&utterances, &settings, duration_secs, &chance),
        );
    }
    let mut by_speaker = BTreeMap::new();
    for s in segments {
        *by_speaker
            .entry(s.speaker.as_str().to_string())
            .or_insert(0) += 1;
    }
    let r1 = |x: f64| (x * 10.0).round() / 10.0;
    let report = SessionReport {
        attribution: attribution.into(),
        calibration,
        vocalisations_by_speaker: by_speaker,
        vocal_activity: vocal_activity(&utterances, duration_secs),
        turn_models,
        chance_settings: chance,
        mirror: MirrorSummary {
            answers: answer_scores.len(),
            mean_score: (!answer_scores.is_empty())
                .then(|| r1(answer_scores.iter().sum::<f64>() / answer_scores.len() as f64)),
            median_score: answer_scores.get(answer_scores.len() / 2).copied().map(r1),
            weights,
        },
        pace: pace(segments, &utterances, duration_secs),
    };
    (rows, report)
}
