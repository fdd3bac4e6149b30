//! Known answers for the session analysis: turns on hand-made timelines, the mirror score on
//! constructed contours, push-to-talk, and speaker attribution on synthetic voices.

mod common;

use attune::analysis::mirror::{mirror_score, MirrorWeights, VocalShape};
use attune::analysis::speaker::{apply_push_to_talk, HeldInterval, Segment, Speaker};
use attune::analysis::turns::{
    find_turns, measure_turns, vocal_activity, ChanceSettings, TurnSettings, Utterance,
};
use attune::events::Vocalisation;
use attune::time::SampleTime;

fn u(speaker: Speaker, start_secs: f64, end_secs: f64) -> Utterance {
    Utterance::new(speaker, start_secs, end_secs)
}

use Speaker::{Partner as P, User as U};

#[test]
fn turns_counts_latencies_and_overlaps_are_exact() {
    let t = vec![
        u(U, 0.0, 1.0),
        u(P, 1.5, 2.0),   // latency 0.5
        u(U, 1.8, 3.0),   // overlaps by 0.2
        u(U, 4.0, 5.0),   // same speaker: no turn
        u(P, 8.0, 9.0),   // 3 s: LENA only
        u(U, 20.0, 21.0), // 11 s: no turn
        u(P, 19.5, 22.5), // starts later than... sorted below
    ];
    let mut t = t;
    t.sort_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
    let lena = find_turns(&t, &TurnSettings::LENA);
    let chattr = find_turns(&t, &TurnSettings::CHATTR);
    let lat: Vec<f64> = lena
        .iter()
        .map(|x| (x.latency_secs * 1000.0).round() / 1000.0)
        .collect();
    assert_eq!(lat, vec![0.5, -0.2, 3.0, -2.5]);
    assert_eq!(lena[0].direction(), "user->partner");
    assert_eq!(lena[1].direction(), "partner->user");
    // chattr: within 2 s, overlap up to 1 s.
    let lat_c: Vec<f64> = chattr
        .iter()
        .map(|x| (x.latency_secs * 1000.0).round() / 1000.0)
        .collect();
    assert_eq!(lat_c, vec![0.5, -0.2]);
    let m = measure_turns(
        &t,
        &TurnSettings::LENA,
        60.0,
        &ChanceSettings {
            shifts: 50,
            ..Default::default()
        },
    );
    assert_eq!(m.turns, 4);
    assert_eq!(m.overlaps, 2);
    assert_eq!(m.exchanges, 3);
    assert_eq!(m.longest_chain, 2);
    assert_eq!(m.exchanges_initiated_by["user"], 2);
    assert_eq!(m.exchanges_initiated_by["partner"], 1);
    assert_eq!(m.latency_by_direction["user->partner"].n, 2);
    assert!((m.latency_by_direction["user->partner"].median_secs - 1.75).abs() < 1e-9);
    assert!((m.turns_per_min - 4.0).abs() < 1e-9);
    let va = vocal_activity(&t, 60.0);
    assert!((va.vocal_secs_by_speaker["user"] - 4.2).abs() < 1e-9);
    assert!((va.vocal_secs_by_speaker["partner"] - 4.5).abs() < 1e-9);
}

#[test]
fn a_contingent_timeline_beats_its_circularly_shifted_chance() {
    // The user vocalises at irregular times; the partner answers each 0.4 s after it ends.
    let mut t = Vec::new();
    let mut s = 1.0;
    for i in 0..20 {
        t.push(u(U, s, s + 0.8));
        t.push(u(P, s + 1.2, s + 1.8));
        s += 6.0 + (i * 7 % 5) as f64 * 1.7;
    }
    let dur = s + 5.0;
    let chance = ChanceSettings::default();
    let m = measure_turns(&t, &TurnSettings::CHATTR, dur, &chance);
    let c = &m.chance["turns"];
    assert_eq!(c.observed, 20.0);
    assert!(c.chance_mean < 0.75 * c.observed, "{c:?}");
    assert!(c.p_value < 0.05, "{c:?}");
    let a = &m.chance["answered_fraction_user->partner"];
    assert_eq!(a.observed, 1.0);
    assert!(a.chance_mean < 0.5);
    // Deterministic.
    let again = measure_turns(&t, &TurnSettings::CHATTR, dur, &chance);
    assert_eq!(m, again);
}

fn shape(contour: Vec<f32>, duration_secs: f32, beats: Vec<f32>, level: f32) -> VocalShape {
    VocalShape {
        duration_secs,
        voiced_secs: duration_secs * 0.9,
        contour_st: contour,
        beats_secs: beats,
        mean_level_dbfs: level,
    }
}

#[test]
fn an_imitation_scores_higher_than_an_unrelated_answer() {
    // User: a rise-fall over 1 s with 3 beats, around 300 Hz (19 st re 100 Hz).
    let n = 60;
    let rise_fall = |i: usize, len: usize, base: f32| {
        let x = i as f32 / (len - 1) as f32;
        base + 6.0 * (std::f32::consts::PI * x).sin()
    };
    let user = shape(
        (0..n).map(|i| rise_fall(i, n, 19.0)).collect(),
        1.0,
        vec![0.0, 0.33, 0.66],
        -20.0,
    );
    // Imitation: the same shape 7 semitones lower, 30 % slower, its beats stretched with it.
    let m = 78;
    let imitation = shape(
        (0..m).map(|i| rise_fall(i, m, 12.0)).collect(),
        1.3,
        vec![0.0, 0.43, 0.86],
        -24.0,
    );
    // Unrelated: a steady fall, one beat, same register and length.
    let unrelated = shape(
        (0..n)
            .map(|i| 19.0 + 3.0 - 6.0 * i as f32 / n as f32)
            .collect(),
        1.0,
        vec![0.0],
        -20.0,
    );
    let w = MirrorWeights::default();
    let a = mirror_score(&user, &imitation, &w);
    let b = mirror_score(&user, &unrelated, &w);
    assert!(a.score > b.score + 15.0, "{a:?} vs {b:?}");
    assert!(a.contour > b.contour, "{a:?} vs {b:?}");
    assert!(a.beats > b.beats);
    // The score compares the two: the same answer scores differently against another user.
    let c = mirror_score(&unrelated, &imitation, &w);
    assert!(c.score < a.score);
    for s in [a, b, c] {
        assert!((0.0..=100.0).contains(&s.score));
    }
}

fn seg(start: f64, end: f64, speaker: Speaker) -> Segment {
    Segment {
        vocalisation: Vocalisation {
            start: SampleTime::from_secs(start),
            end: SampleTime::from_secs(end),
            heard_until: SampleTime::from_secs(end),
            peak_level_dbfs: -20.0,
            mean_level_dbfs: -25.0,
            f0_median_hz: 200.0,
            f0_low_hz: 190.0,
            f0_high_hz: 210.0,
            voiced_frames: 50,
            syllables: 1,
            syllable_rate_hz: 0.0,
            mean_ioi_secs: 0.0,
            regularity: None,
        },
        speaker,
        track: 0,
        margin: 1.0,
    }
}

#[test]
fn push_to_talk_overrides_the_guess() {
    let held = [HeldInterval {
        start_secs: 1.9,
        end_secs: 3.1,
    }];
    // Labelled guesses: only the held one changes unless exclusive.
    let mut s = vec![seg(0.0, 1.0, U), seg(2.0, 3.0, U), seg(4.0, 5.0, P)];
    apply_push_to_talk(&mut s, &held, false);
    let got: Vec<Speaker> = s.iter().map(|x| x.speaker).collect();
    assert_eq!(got, vec![U, P, P]);
    apply_push_to_talk(&mut s, &held, true);
    let got: Vec<Speaker> = s.iter().map(|x| x.speaker).collect();
    assert_eq!(got, vec![U, P, U]);
    // Unnamed voices are named by the one the key points at.
    let mut s = vec![
        seg(0.0, 1.0, Speaker::A),
        seg(2.0, 3.0, Speaker::B),
        seg(4.0, 5.0, Speaker::B),
    ];
    apply_push_to_talk(&mut s, &held, false);
    let got: Vec<Speaker> = s.iter().map(|x| x.speaker).collect();
    assert_eq!(got, vec![U, P, P]);
    // No key held: nothing changes.
    let mut s = vec![seg(0.0, 1.0, Speaker::A)];
    apply_push_to_talk(&mut s, &[], false);
    assert_eq!(s[0].speaker, Speaker::A);
}
