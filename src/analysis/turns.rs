//! Turn-taking: which vocalisations answer which, under a turn model whose windows are
//! settings (chattr's defaults and LENA's conversational turn side by side), and the measures
//! of a session: turns, exchanges, chains, latencies, overlaps, vocal shares, per minute, each
//! contingency measure with its chance level from circularly shifted timelines.
//!
//! Pure functions over labelled vocalisations: they run on the thread that holds them (the
//! `analyze` worker offline; the live window on its events).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::speaker::Speaker;
use crate::analysis::stats;

/// One vocalisation on the session timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Utterance {
    pub speaker: Speaker,
    pub start_secs: f64,
    pub end_secs: f64,
}

impl Utterance {
    /// A vocalisation of `speaker` from `start_secs` to `end_secs`.
    pub fn new(speaker: Speaker, start_secs: f64, end_secs: f64) -> Self {
        Self {
            speaker,
            start_secs,
            end_secs,
        }
    }
}

/// The windows of a turn model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TurnSettings {
    /// The answer starts at most this long after the previous vocalisation ends (s).
    #[serde(rename = "max_gap_s")]
    pub max_gap_secs: f64,
    /// The answer may start at most this long before the previous vocalisation ends (s);
    /// `None`: any overlap.
    #[serde(rename = "max_overlap_s")]
    pub max_overlap_secs: Option<f64>,
}

impl TurnSettings {
    /// chattr's defaults: a response within 2 s, overlap up to 1 s.
    pub const CHATTR: Self = Self {
        max_gap_secs: 2.0,
        max_overlap_secs: Some(1.0),
    };
    /// LENA's conversational turn: a change of speaker within 5 s (overlaps included).
    pub const LENA: Self = Self {
        max_gap_secs: 5.0,
        max_overlap_secs: None,
    };

    fn admits(&self, latency_secs: f64) -> bool {
        latency_secs < self.max_gap_secs && self.max_overlap_secs.is_none_or(|o| latency_secs >= -o)
    }
}

/// A turn: `next` answers `prev`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Turn {
    /// Indices into the utterances.
    pub prev: usize,
    pub next: usize,
    pub from: Speaker,
    pub to: Speaker,
    pub prev_end_secs: f64,
    pub next_start_secs: f64,
    /// `next_start − prev_end` (negative when the answer overlaps).
    pub latency_secs: f64,
}

impl Turn {
    /// How long the answer overlaps the previous vocalisation (s, ≥ 0).
    pub fn overlap_secs(&self) -> f64 {
        (-self.latency_secs).max(0.0)
    }
    /// "user->partner" and so on.
    pub fn direction(&self) -> String {
        format!("{}->{}", self.from.as_str(), self.to.as_str())
    }
}

fn known(s: Speaker) -> bool {
    !matches!(s, Speaker::Unknown)
}

/// The answer window: the latency (s, `next` start − `prev` end; negative when it overlaps)
/// at which `next` answers `prev` under `settings`, or `None` when it does not answer it: a
/// different speaker, starting no earlier than `prev` and within the model's windows.
/// [`find_turns`] applies it to consecutive vocalisations; the live window to the partner's
/// sound and the person's sound before it. Any thread.
pub fn answer_latency_secs(
    prev: &Utterance,
    next: &Utterance,
    settings: &TurnSettings,
) -> Option<f64> {
    let latency_secs = next.start_secs - prev.end_secs;
    (prev.speaker != next.speaker
        && next.start_secs >= prev.start_secs
        && settings.admits(latency_secs))
    .then_some(latency_secs)
}

/// The turns of a timeline under `settings`: two consecutive vocalisations (by start) of
/// known speakers where the second answers the first ([`answer_latency_secs`]).
/// `utterances` must be sorted by start.
pub fn find_turns(utterances: &[Utterance], settings: &TurnSettings) -> Vec<Turn> {
    let idx: Vec<usize> = (0..utterances.len())
        .filter(|&i| known(utterances[i].speaker))
        .collect();
    idx.windows(2)
        .filter_map(|w| {
            let (p, n) = (&utterances[w[0]], &utterances[w[1]]);
            answer_latency_secs(p, n, settings).map(|latency| Turn {
                prev: w[0],
                next: w[1],
                from: p.speaker,
                to: n.speaker,
                prev_end_secs: p.end_secs,
                next_start_secs: n.start_secs,
                latency_secs: latency,
            })
        })
        .collect()
}

/// Median and spread of the latencies of the answers (turns) of one direction (s). Not
/// `live::latency::LatencyStats`, the running distribution of processing delays.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnswerLatencies {
    pub n: usize,
    #[serde(rename = "median_s")]
    pub median_secs: f64,
    #[serde(rename = "p25_s")]
    pub p25_secs: f64,
    #[serde(rename = "p75_s")]
    pub p75_secs: f64,
    #[serde(rename = "iqr_s")]
    pub iqr_secs: f64,
}

/// [`stats::quantile`], NaN when empty (as the JSON report writes a missing value).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    stats::quantile(sorted, q).unwrap_or(f64::NAN)
}

fn answer_latencies(mut x: Vec<f64>) -> Option<AnswerLatencies> {
    if x.is_empty() {
        return None;
    }
    x.sort_by(f64::total_cmp);
    let (p25, p75) = (quantile(&x, 0.25), quantile(&x, 0.75));
    Some(AnswerLatencies {
        n: x.len(),
        median_secs: round3(quantile(&x, 0.5)),
        p25_secs: round3(p25),
        p75_secs: round3(p75),
        iqr_secs: round3(p75 - p25),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The contingency measures of one timeline (compared with their chance level).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Contingency {
    pub turns: f64,
    pub turns_per_min: f64,
    /// Fraction of the first speaker's vocalisations answered by the second (and back).
    pub answered_fraction_by_direction: [f64; 2],
    pub longest_chain: f64,
}

/// A contingency measure's chance level: its mean and 95th percentile over circularly shifted
/// timelines, and the fraction of shifts that reach the observed value (a permutation p).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chance {
    pub observed: f64,
    pub chance_mean: f64,
    pub chance_p95: f64,
    pub p_value: f64,
}

/// Everything one turn model gives for a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnMeasures {
    pub settings: TurnSettings,
    pub turns: usize,
    pub turns_per_min: f64,
    /// Exchanges (maximal chains of consecutive turns) by who began them.
    pub exchanges: usize,
    pub exchanges_initiated_by: BTreeMap<String, usize>,
    /// Most turns in one chain.
    pub longest_chain: usize,
    /// Latencies by direction ("user->partner", ...).
    pub latency_by_direction: BTreeMap<String, AnswerLatencies>,
    /// Turns whose answer overlaps the previous vocalisation.
    pub overlaps: usize,
    pub turns_per_minute: Vec<usize>,
    /// The measures minute by minute (a turn belongs to the minute its answer starts in).
    pub per_minute: Vec<MinuteMeasures>,
    /// Chance levels (circular shifts of the second speaker's timeline).
    pub chance: BTreeMap<String, Chance>,
}

/// One minute of a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinuteMeasures {
    /// 0 for the first minute.
    pub minute: usize,
    pub turns: usize,
    pub overlaps: usize,
    /// Exchanges begun in this minute, by who began them.
    pub exchanges_initiated_by: BTreeMap<String, usize>,
    /// Median latency by direction (s).
    #[serde(rename = "median_latency_s_by_direction")]
    pub median_latency_secs_by_direction: BTreeMap<String, f64>,
}

/// Per-session vocal activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VocalActivity {
    #[serde(rename = "vocal_s_by_speaker")]
    pub vocal_secs_by_speaker: BTreeMap<String, f64>,
    /// Each speaker's share of the vocal time of all speakers (0-1).
    pub vocal_share_by_speaker: BTreeMap<String, f64>,
    /// Vocal seconds per minute of the session, by speaker.
    #[serde(rename = "vocal_s_per_minute")]
    pub vocal_secs_per_minute: BTreeMap<String, Vec<f64>>,
    /// Each speaker's share of the vocal time, minute by minute (0 in a silent minute).
    pub vocal_share_per_minute: BTreeMap<String, Vec<f64>>,
}

/// Settings of the chance level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChanceSettings {
    pub shifts: usize,
    /// Shifts are drawn uniformly from `[min_shift, duration − min_shift]` (s); sessions
    /// shorter than four times this use a quarter of their length.
    #[serde(rename = "min_shift_s")]
    pub min_shift_secs: f64,
    pub seed: u64,
}

impl Default for ChanceSettings {
    fn default() -> Self {
        Self {
            shifts: 500,
            min_shift_secs: 5.0,
            seed: 0x5eed_a77e,
        }
    }
}

/// The two speakers of a timeline, in a fixed order (user, partner) or (A, B).
pub fn parties(utterances: &[Utterance]) -> [Speaker; 2] {
    if utterances
        .iter()
        .any(|u| matches!(u.speaker, Speaker::A | Speaker::B))
    {
        [Speaker::A, Speaker::B]
    } else {
        [Speaker::User, Speaker::Partner]
    }
}

/// Chains of consecutive turns: (first turn index, number of turns).
fn chains(turns: &[Turn]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, t) in turns.iter().enumerate() {
        match out.last_mut() {
            Some((first, n)) if turns[*first + *n - 1].next == t.prev => *n += 1,
            _ => out.push((i, 1)),
        }
    }
    out
}

fn contingency(
    utterances: &[Utterance],
    settings: &TurnSettings,
    duration_secs: f64,
) -> Contingency {
    let turns = find_turns(utterances, settings);
    let p = parties(utterances);
    let mut frac = [0.0; 2];
    for (d, (a, b)) in [(p[0], p[1]), (p[1], p[0])].into_iter().enumerate() {
        let n_a = utterances.iter().filter(|u| u.speaker == a).count();
        let answered = turns.iter().filter(|t| t.from == a && t.to == b).count();
        frac[d] = if n_a > 0 {
            answered as f64 / n_a as f64
        } else {
            0.0
        };
    }
    Contingency {
        turns: turns.len() as f64,
        turns_per_min: turns.len() as f64 * 60.0 / duration_secs.max(1e-9),
        answered_fraction_by_direction: frac,
        longest_chain: chains(&turns).iter().map(|c| c.1).max().unwrap_or(0) as f64,
    }
}

/// Shifts the second speaker's timeline circularly by `shift_secs` and re-sorts it.
fn shifted(
    utterances: &[Utterance],
    second: Speaker,
    shift_secs: f64,
    duration_secs: f64,
) -> Vec<Utterance> {
    let mut out: Vec<Utterance> = utterances
        .iter()
        .map(|u| {
            if u.speaker == second {
                let s = (u.start_secs + shift_secs).rem_euclid(duration_secs);
                Utterance {
                    speaker: u.speaker,
                    start_secs: s,
                    end_secs: s + (u.end_secs - u.start_secs),
                }
            } else {
                *u
            }
        })
        .collect();
    out.sort_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
    out
}

/// xorshift64*: a deterministic source for the shifts.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The chance level of every contingency measure under `settings`.
pub fn chance_levels(
    utterances: &[Utterance],
    settings: &TurnSettings,
    duration_secs: f64,
    chance: &ChanceSettings,
) -> BTreeMap<String, Chance> {
    let p = parties(utterances);
    let observed = contingency(utterances, settings, duration_secs);
    // Short sessions shift by at least a quarter of their length.
    let min_shift = chance.min_shift_secs.min(duration_secs / 4.0);
    let span = duration_secs - 2.0 * min_shift;
    let mut samples: Vec<Contingency> = Vec::with_capacity(chance.shifts);
    if span > 0.0 {
        let mut rng = Rng(chance.seed.max(1));
        for _ in 0..chance.shifts {
            let shift = min_shift + span * rng.next_f64();
            samples.push(contingency(
                &shifted(utterances, p[1], shift, duration_secs),
                settings,
                duration_secs,
            ));
        }
    }
    let names = [
        "turns".to_string(),
        "turns_per_min".to_string(),
        format!("answered_fraction_{}->{}", p[0].as_str(), p[1].as_str()),
        format!("answered_fraction_{}->{}", p[1].as_str(), p[0].as_str()),
        "longest_chain".to_string(),
    ];
    let get = |c: &Contingency, i: usize| match i {
        0 => c.turns,
        1 => c.turns_per_min,
        2 => c.answered_fraction_by_direction[0],
        3 => c.answered_fraction_by_direction[1],
        _ => c.longest_chain,
    };
    let mut out = BTreeMap::new();
    for (i, name) in names.into_iter().enumerate() {
        let obs = get(&observed, i);
        let mut xs: Vec<f64> = samples.iter().map(|c| get(c, i)).collect();
        xs.sort_by(f64::total_cmp);
        let (mean, p95, pv) = if xs.is_empty() {
            (f64::NAN, f64::NAN, f64::NAN)
        } else {
            (
                xs.iter().sum::<f64>() / xs.len() as f64,
                quantile(&xs, 0.95),
                xs.iter().filter(|&&x| x >= obs).count() as f64 / xs.len() as f64,
            )
        };
        out.insert(
            name,
            Chance {
                observed: round3(obs),
                chance_mean: round3(mean),
                chance_p95: round3(p95),
                p_value: round3(pv),
            },
        );
    }
    out
}

/// The measures of one turn model over a session of `duration_secs`.
pub fn measure_turns(
    utterances: &[Utterance],
    settings: &TurnSettings,
    duration_secs: f64,
    chance: &ChanceSettings,
) -> TurnMeasures {
    let turns = find_turns(utterances, settings);
    let ch = chains(&turns);
    let mut initiated: BTreeMap<String, usize> = BTreeMap::new();
    for s in parties(utterances) {
        initiated.insert(s.as_str().to_string(), 0);
    }
    for (first, _) in &ch {
        *initiated
            .entry(turns[*first].from.as_str().to_string())
            .or_insert(0) += 1;
    }
    let mut by_dir: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for t in &turns {
        by_dir
            .entry(t.direction())
            .or_default()
            .push(t.latency_secs);
    }
    let minutes = (duration_secs / 60.0).ceil().max(1.0) as usize;
    let mut per_min = vec![0usize; minutes];
    for t in &turns {
        let m = ((t.next_start_secs / 60.0).floor().max(0.0) as usize).min(minutes - 1);
        per_min[m] += 1;
    }
    let minute_of =
        |t: &Turn| ((t.next_start_secs / 60.0).floor().max(0.0) as usize).min(minutes - 1);
    let per_minute = (0..minutes)
        .map(|m| {
            let in_m: Vec<&Turn> = turns.iter().filter(|t| minute_of(t) == m).collect();
            let mut started: BTreeMap<String, usize> = BTreeMap::new();
            for (first, _) in &ch {
                if minute_of(&turns[*first]) == m {
                    *started
                        .entry(turns[*first].from.as_str().to_string())
                        .or_insert(0) += 1;
                }
            }
            let mut lat: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for t in &in_m {
                lat.entry(t.direction()).or_default().push(t.latency_secs);
            }
            MinuteMeasures {
                minute: m,
                turns: in_m.len(),
                overlaps: in_m.iter().filter(|t| t.latency_secs < 0.0).count(),
                exchanges_initiated_by: started,
                median_latency_secs_by_direction: lat
                    .into_iter()
                    .filter_map(|(k, v)| answer_latencies(v).map(|s| (k, s.median_secs)))
                    .collect(),
            }
        })
        .collect();
    TurnMeasures {
        settings: *settings,
        per_minute,
        turns: turns.len(),
        turns_per_min: round3(turns.len() as f64 * 60.0 / duration_secs.max(1e-9)),
        exchanges: ch.len(),
        exchanges_initiated_by: initiated,
        longest_chain: ch.iter().map(|c| c.1).max().unwrap_or(0),
        latency_by_direction: by_dir
            .into_iter()
            .filter_map(|(k, v)| answer_latencies(v).map(|s| (k, s)))
            .collect(),
        overlaps: turns.iter().filter(|t| t.latency_secs < 0.0).count(),
        turns_per_minute: per_min,
        chance: chance_levels(utterances, settings, duration_secs, chance),
    }
}

/// Vocal time of each speaker, in total, as a share and per minute.
pub fn vocal_activity(utterances: &[Utterance], duration_secs: f64) -> VocalActivity {
    let minutes = (duration_secs / 60.0).ceil().max(1.0) as usize;
    let mut secs: BTreeMap<String, f64> = BTreeMap::new();
    let mut per_min: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in parties(utterances) {
        secs.insert(s.as_str().into(), 0.0);
        per_min.insert(s.as_str().into(), vec![0.0; minutes]);
    }
    for u in utterances.iter().filter(|u| known(u.speaker)) {
        let name = u.speaker.as_str().to_string();
        *secs.entry(name.clone()).or_insert(0.0) += u.end_secs - u.start_secs;
        let pm = per_min.entry(name).or_insert_with(|| vec![0.0; minutes]);
        for (m, slot) in pm.iter_mut().enumerate() {
            let (a, b) = (m as f64 * 60.0, (m + 1) as f64 * 60.0);
            *slot += (u.end_secs.min(b) - u.start_secs.max(a)).max(0.0);
        }
    }
    let total: f64 = secs.values().sum();
    let minute_totals: Vec<f64> = (0..minutes)
        .map(|m| per_min.values().map(|v| v[m]).sum())
        .collect();
    let share_per_min = per_min
        .iter()
        .map(|(k, v)| {
            let shares = v
                .iter()
                .zip(&minute_totals)
                .map(|(x, t)| if *t > 0.0 { round3(x / t) } else { 0.0 })
                .collect();
            (k.clone(), shares)
        })
        .collect();
    VocalActivity {
        vocal_share_per_minute: share_per_min,
        vocal_share_by_speaker: secs
            .iter()
            .map(|(k, v)| (k.clone(), if total > 0.0 { round3(v / total) } else { 0.0 }))
            .collect(),
        vocal_secs_by_speaker: secs.into_iter().map(|(k, v)| (k, round3(v))).collect(),
        vocal_secs_per_minute: per_min
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(round3).collect()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(speaker: Speaker, start_secs: f64, end_secs: f64) -> Utterance {
        Utterance::new(speaker, start_secs, end_secs)
    }

    #[test]
    fn the_answer_window_is_the_turn_models() {
        let person = u(Speaker::User, 0.5, 1.5);
        let answer = |start_secs: f64| u(Speaker::Partner, start_secs, start_secs + 1.0);
        let lena = TurnSettings::LENA;
        // An answer 0.8 s after the sound, and one overlapping it, are answers under LENA.
        let latency = answer_latency_secs(&person, &answer(2.3), &lena);
        assert!(
            latency.is_some_and(|l| (l - 0.8).abs() < 1e-12),
            "{latency:?}"
        );
        assert_eq!(
            answer_latency_secs(&person, &answer(1.0), &lena),
            Some(-0.5)
        );
        // 5 s after it is too late; a sound begun before the person's answers nothing.
        assert_eq!(answer_latency_secs(&person, &answer(6.5), &lena), None);
        assert_eq!(answer_latency_secs(&person, &answer(0.4), &lena), None);
        // chattr's windows are narrower.
        let chattr = TurnSettings::CHATTR;
        assert_eq!(answer_latency_secs(&person, &answer(4.0), &chattr), None);
        assert_eq!(
            answer_latency_secs(&person, &answer(2.0), &chattr),
            Some(0.5)
        );
        // The same speaker does not answer themself.
        assert_eq!(
            answer_latency_secs(&person, &u(Speaker::User, 2.0, 3.0), &lena),
            None
        );
        // find_turns finds exactly these answers between consecutive sounds.
        let t = find_turns(&[person, answer(2.3)], &lena);
        assert_eq!(t.len(), 1);
        assert!((t[0].latency_secs - 0.8).abs() < 1e-12);
    }
}
