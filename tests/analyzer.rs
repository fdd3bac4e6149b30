//! The Analyzer on signals with known answers, run exactly as `attune analyze` runs it.

mod common;

use attune::analysis::Analyzer;
use attune::config::AnalysisConfig;
use attune::events::{Event, PitchFrame, Vocalisation};
use common::{burst, cents, scene, voice};

fn analyze_blocks(x: &[f32], rate: u32, block: usize, config: &AnalysisConfig) -> Vec<Event> {
    let mut an = Analyzer::new(config, rate).expect("valid settings");
    let mut events = Vec::new();
    for b in x.chunks(block.max(1)) {
        an.process(b, &mut events);
    }
    an.finish(&mut events);
    events
}

fn analyze(x: &[f32], rate: u32) -> Vec<Event> {
    analyze_blocks(x, rate, 4096, &AnalysisConfig::default())
}

fn pitch(events: &[Event]) -> Vec<PitchFrame> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Pitch(p) => Some(*p),
            _ => None,
        })
        .collect()
}

fn onsets(events: &[Event]) -> Vec<f64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Onset { time } => Some(time.secs()),
            _ => None,
        })
        .collect()
}

fn vocalisations(events: &[Event]) -> Vec<Vocalisation> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Vocalisation(v) => Some(*v),
            _ => None,
        })
        .collect()
}

/// Fraction of the frames in [from, to) s whose f0 is within `tol` cents of `truth(t)`.
fn fraction_within(
    frames: &[PitchFrame],
    from: f64,
    to: f64,
    tol: f64,
    truth: impl Fn(f64) -> f64,
) -> f64 {
    let inside: Vec<_> = frames
        .iter()
        .filter(|p| p.time.secs() >= from && p.time.secs() < to)
        .collect();
    let good = inside
        .iter()
        .filter(|p| {
            p.f0_hz
                .is_some_and(|f| cents(f64::from(f), truth(p.time.secs())).abs() < tol)
        })
        .count();
    good as f64 / inside.len().max(1) as f64
}

fn voiced_fraction(frames: &[PitchFrame], from: f64, to: f64) -> f64 {
    let inside: Vec<_> = frames
        .iter()
        .filter(|p| p.time.secs() >= from && p.time.secs() < to)
        .collect();
    inside.iter().filter(|p| p.f0_hz.is_some()).count() as f64 / inside.len().max(1) as f64
}

/// A hum: 1 s at 220 Hz starting at 0.8 s in a 3 s quiet room.
fn hum(rate: u32) -> Vec<f32> {
    scene(
        rate,
        3.0,
        0.0003,
        &[(0.8, voice(rate, 1.0, 0.4, 0.05, 0.05, |_| 220.0))],
        1,
    )
}

#[test]
fn a_steady_hum_is_tracked_and_found_once() {
    let ev = analyze(&hum(16_000), 16_000);
    let frames = pitch(&ev);
    assert!(fraction_within(&frames, 0.95, 1.65, 20.0, |_| 220.0) > 0.95);
    assert!(voiced_fraction(&frames, 0.0, 0.6) < 0.02);
    assert!(voiced_fraction(&frames, 2.1, 3.0) < 0.02);
    let on = onsets(&ev);
    assert_eq!(on.len(), 1, "{on:?}");
    assert!((on[0] - 0.8).abs() < 0.05, "{on:?}");
    let v = vocalisations(&ev);
    assert_eq!(v.len(), 1);
    assert!((v[0].start.secs() - 0.8).abs() < 0.06, "{:?}", v[0]);
    assert!((v[0].end.secs() - 1.8).abs() < 0.1, "{:?}", v[0]);
    assert!(cents(f64::from(v[0].f0_median_hz), 220.0).abs() < 20.0);
    assert_eq!(v[0].syllables, 1);
}

/// A hum that fills most of the room's recent past must not become the room: all of it is
/// voiced, and its fading end stays voiced down to where it is quiet.
#[test]
fn a_long_hum_is_voiced_to_its_fading_end() {
    let x = scene(
        16_000,
        7.0,
        0.0003,
        &[(0.5, voice(16_000, 6.0, 0.4, 0.05, 0.3, |_| 180.0))],
        3,
    );
    let ev = analyze(&x, 16_000);
    let frames = pitch(&ev);
    // Held far longer than the room's 3 s noise-floor window, the hum never becomes the floor.
    assert!(fraction_within(&frames, 0.6, 6.2, 20.0, |_| 180.0) > 0.98);
    // The last 0.3 s fall linearly to silence; down to a sixth of the peak (-16 dB) the hum is
    // still plainly there.
    assert!(fraction_within(&frames, 6.2, 6.45, 20.0, |_| 180.0) > 0.95);
    assert!(voiced_fraction(&frames, 6.6, 7.0) < 0.02);
    let v = vocalisations(&ev);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!((v[0].start.secs() - 0.5).abs() < 0.06, "{:?}", v[0]);
    assert!((v[0].end.secs() - 6.5).abs() < 0.1, "{:?}", v[0]);
}

/// A tone that never stops (a fan, a fridge) is the room: after a while it is no longer voiced.
#[test]
fn a_tone_that_never_stops_becomes_the_room() {
    let x = scene(
        16_000,
        40.0,
        0.0003,
        &[(1.0, voice(16_000, 39.0, 0.2, 0.05, 0.05, |_| 150.0))],
        4,
    );
    let frames = pitch(&analyze(&x, 16_000));
    assert!(voiced_fraction(&frames, 1.2, 15.0) > 0.98);
    assert!(voiced_fraction(&frames, 30.0, 40.0) < 0.02);
}

#[test]
fn mains_hum_from_the_first_frame_is_the_room() {
    // A 60 Hz hum with its harmonics (a mains buzz, 26 dB below the voice) from the very first
    // sample, and one 1 s vocalisation at 2 s. The hum is in the pitch range, and steady.
    let hum = voice(16_000, 4.0, 0.01, 0.001, 0.001, |_| 60.0);
    let hum_voice = voice(16_000, 1.0, 0.2, 0.05, 0.05, |_| 220.0);
    let x = scene(16_000, 4.0, 0.0003, &[(0.0, hum), (2.0, hum_voice)], 5);
    let events = analyze(&x, 16_000);
    let frames = pitch(&events);
    assert!(voiced_fraction(&frames, 0.0, 1.9) < 0.02);
    assert!(voiced_fraction(&frames, 2.1, 2.9) > 0.95);
    let vocs = vocalisations(&events);
    assert_eq!(vocs.len(), 1, "{vocs:?}");
    assert!((vocs[0].start.secs() - 2.0).abs() < 0.1, "{vocs:?}");
}

#[test]
fn a_wide_glide_is_followed() {
    let truth = |t: f64| 200.0 * 2f64.powf(((t - 0.5) / 1.0).clamp(0.0, 1.0));
    let x = scene(
        16_000,
        2.0,
        0.0003,
        &[(
            0.5,
            voice(16_000, 1.0, 0.4, 0.05, 0.05, |t| 200.0 * 2f64.powf(t)),
        )],
        2,
    );
    let frames = pitch(&analyze(&x, 16_000));
    assert!(fraction_within(&frames, 0.6, 1.4, 50.0, truth) > 0.95);
}

/// Onsets inside one breath: a new note gives one, a glide or vibrato does not.
#[test]
fn sung_note_changes_are_onsets_but_glides_and_vibrato_are_not() {
    let sing = |f0: fn(f64) -> f64| {
        scene(
            16_000,
            2.6,
            0.0003,
            &[(0.5, voice(16_000, 1.6, 0.4, 0.05, 0.05, f0))],
            4,
        )
    };
    // Three notes, 0.5 s each, two and three semitones apart, joined by 40 ms transitions.
    let melody = |t: f64| {
        let step = |t: f64, at: f64| ((t - at) / 0.04).clamp(0.0, 1.0);
        250.0 * 2f64.powf((2.0 * step(t, 0.5) - 3.0 * step(t, 1.05)) / 12.0)
    };
    let on = onsets(&analyze(&sing(melody), 16_000));
    assert_eq!(on.len(), 3, "{on:?}");
    for (got, want) in on.iter().zip([0.5, 1.02, 1.57]) {
        assert!((got - want).abs() < 0.05, "{on:?}");
    }
    let glide = |t: f64| 200.0 * 2f64.powf(t / 1.6);
    let vibrato =
        |t: f64| 250.0 * 2f64.powf(1.5 / 12.0 * (2.0 * std::f64::consts::PI * 5.5 * t).sin());
    for (name, f0) in [("glide", glide as fn(f64) -> f64), ("vibrato", vibrato)] {
        let on = onsets(&analyze(&sing(f0), 16_000));
        assert_eq!(on.len(), 1, "{name}: {on:?}");
    }
}

#[test]
fn the_whole_range_from_creak_to_squeal_without_octave_errors() {
    for &f in &[60.0, 100.0, 440.0, 900.0, 1400.0] {
        let x = scene(
            16_000,
            1.4,
            0.0003,
            &[(0.4, voice(16_000, 0.6, 0.4, 0.04, 0.04, move |_| f))],
            3,
        );
        let frames = pitch(&analyze(&x, 16_000));
        let share = fraction_within(&frames, 0.5, 0.9, 50.0, |_| f);
        assert!(share > 0.95, "{f} Hz: {share}");
    }
}

/// A low voice (110 Hz, 150 cents of vibrato) whose first formant (700 Hz) rings strongly after
/// each glottal pulse, heard from across a reverberant room (RT60 0.6 s, the reverberation
/// 3.5 dB above the direct sound). The room smears the low harmonics as the vibrato moves
/// them, and the formant's harmonic, near-sinusoidal between pulses, becomes as periodic as
/// the voice itself: a periodicity tracker is tempted to report about 700 Hz. Within each of
/// that harmonic's periods the power swings with the pulses; over the voice's own period it
/// averages out.
fn formant_voice_in_a_room(f0_hz: impl Fn(f64) -> f64) -> Vec<f32> {
    let rate = 16_000.0;
    let n: usize = 48_000;
    // Glottal pulses from 0.5 s to 2.5 s, integrated (a sawtooth, harmonics 1/h) and high-passed
    // by taking out their moving average over 12.5 ms: a weak fundamental, as in a far voice.
    let mut phase = 0.0f64;
    let pulses: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let before = phase;
            phase += f0_hz(t) / rate;
            f64::from((0.5..2.5).contains(&t) && phase.floor() > before.floor())
        })
        .collect();
    let mean = pulses.iter().sum::<f64>() / n as f64;
    let ramp: Vec<f64> = pulses
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p - mean;
            Some(*acc)
        })
        .collect();
    let source: Vec<f64> = (0..n)
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(100), (i + 100).min(n));
            ramp[i] - ramp[lo..hi].iter().sum::<f64>() / 200.0
        })
        .collect();
    // Two formants in cascade: 700 Hz (60 Hz wide) and 1700 Hz (120 Hz wide).
    let resonate = |x: &[f64], f: f64, bw: f64| -> Vec<f64> {
        let r = (-std::f64::consts::PI * bw / rate).exp();
        let c = 2.0 * r * (2.0 * std::f64::consts::PI * f / rate).cos();
        let (mut y1, mut y2) = (0.0, 0.0);
        x.iter()
            .map(|&v| {
                let y = v + c * y1 - r * r * y2;
                y2 = y1;
                y1 = y;
                y
            })
            .collect()
    };
    let dry = resonate(&resonate(&source, 700.0, 60.0), 1700.0, 120.0);
    // Schroeder's reverberator: four parallel combs (RT60 0.6 s) and two all-passes.
    let mut wet = vec![0.0f64; n];
    for d in [1116usize, 1188, 1277, 1356] {
        let g = 10f64.powf(-3.0 * d as f64 / (0.6 * rate));
        let mut y = dry.clone();
        for i in d..n {
            y[i] += g * y[i - d];
        }
        for (w, v) in wet.iter_mut().zip(&y) {
            *w += v;
        }
    }
    for (d, g) in [(225usize, 0.5), (556, 0.5)] {
        let x = wet.clone();
        for i in 0..n {
            let (xd, yd) = if i >= d {
                (x[i - d], wet[i - d])
            } else {
                (0.0, 0.0)
            };
            wet[i] = -g * x[i] + xd + g * yd;
        }
    }
    let energy = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>();
    let wet_gain = 1.5 * (energy(&dry) / energy(&wet)).sqrt();
    let mixed: Vec<f64> = dry
        .iter()
        .zip(&wet)
        .map(|(d, w)| d + wet_gain * w)
        .collect();
    let peak = mixed.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    mixed.iter().map(|v| (0.5 * v / peak) as f32).collect()
}

#[test]
fn a_low_voice_in_a_reverberant_room_is_not_taken_for_its_formant_harmonic() {
    let f0_hz =
        |t: f64| 110.0 * 2f64.powf(1.5 / 12.0 * (2.0 * std::f64::consts::PI * 5.5 * t).sin());
    let frames = pitch(&analyze(&formant_voice_in_a_room(f0_hz), 16_000));
    let voiced: Vec<_> = frames
        .iter()
        .filter(|p| (0.6..2.4).contains(&p.time.secs()))
        .filter_map(|p| p.f0_hz.map(|f| (f64::from(f), f0_hz(p.time.secs()))))
        .collect();
    let at_a_harmonic = voiced.iter().filter(|(f, truth)| f / truth > 1.8).count();
    assert!(voiced.len() > 160, "{} of 180 frames voiced", voiced.len());
    assert!(
        at_a_harmonic * 20 < voiced.len(),
        "{at_a_harmonic} of {} voiced frames at a harmonic of the voice",
        voiced.len()
    );
    assert!(fraction_within(&frames, 0.6, 2.4, 50.0, f0_hz) > 0.6);
}

#[test]
fn every_input_rate_gives_the_same_answers() {
    let reference = analyze(&hum(16_000), 16_000);
    let ref_frames = pitch(&reference);
    for &rate in &[8_000u32, 44_100, 48_000] {
        let ev = analyze(&hum(rate), rate);
        let frames = pitch(&ev);
        assert_eq!(frames.len(), ref_frames.len(), "{rate} Hz");
        for (a, b) in frames.iter().zip(&ref_frames) {
            if let (Some(fa), Some(fb)) = (a.f0_hz, b.f0_hz) {
                if a.time.secs() > 0.95 && a.time.secs() < 1.65 {
                    assert!(
                        cents(f64::from(fa), f64::from(fb)).abs() < 20.0,
                        "{rate} Hz at {}",
                        a.time.secs()
                    );
                }
            }
        }
        let (on, ref_on) = (onsets(&ev), onsets(&reference));
        assert_eq!(on.len(), ref_on.len(), "{rate} Hz");
        for (a, b) in on.iter().zip(&ref_on) {
            assert!((a - b).abs() <= 0.02, "{rate} Hz: onset {a} vs {b}");
        }
    }
}

#[test]
fn a_syllable_train_gives_its_beats_rate_and_regularity() {
    // "ba ba ba ba ba": 180 ms syllables at 3 per second.
    let starts: Vec<f64> = (0..5).map(|k| 0.6 + k as f64 / 3.0).collect();
    let parts: Vec<(f64, Vec<f64>)> = starts
        .iter()
        .map(|&s| {
            (
                s,
                voice(16_000, 0.18, 0.4, 0.015, 0.03, |t| 250.0 - 40.0 * t),
            )
        })
        .collect();
    let x = scene(16_000, 3.0, 0.0003, &parts, 4);
    let ev = analyze(&x, 16_000);
    let on = onsets(&ev);
    assert_eq!(on.len(), 5, "{on:?}");
    for (o, s) in on.iter().zip(&starts) {
        assert!((o - s).abs() < 0.05, "{on:?}");
    }
    let v = vocalisations(&ev);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].syllables, 5);
    assert!(
        (f64::from(v[0].syllable_rate_hz) - 3.0).abs() < 0.3,
        "{:?}",
        v[0]
    );
    assert!(v[0].regularity.is_some_and(|r| r > 0.8), "{:?}", v[0]);
}

#[test]
fn breaths_claps_and_knocks_are_not_vocal() {
    let parts = vec![
        (0.5, burst(16_000, 0.4, 0.3, 0.15, 5)),   // a breath
        (1.5, burst(16_000, 0.05, 0.6, 0.004, 6)), // a clap
        (2.2, burst(16_000, 0.08, 0.5, 0.01, 7)),  // a knock
    ];
    let x = scene(16_000, 3.0, 0.001, &parts, 8);
    let ev = analyze(&x, 16_000);
    assert!(onsets(&ev).is_empty(), "{:?}", onsets(&ev));
    assert!(vocalisations(&ev).is_empty());
    assert!(voiced_fraction(&pitch(&ev), 0.0, 3.0) <= 0.02);
}

/// What a knock on a table or a spoon on a cup leaves: a click, then the object's modes ringing
/// down, 60 dB in `t60` s (a 380 Hz mode with an inharmonic one above it).
fn ring(rate: u32, peak: f64, t60: f64) -> Vec<f64> {
    let n = (4.0 * t60 * f64::from(rate)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let decay = (-6.91 * t / t60).exp();
            let modes = (2.0 * std::f64::consts::PI * 380.0 * t).sin()
                + 0.4 * (2.0 * std::f64::consts::PI * 1_037.0 * t).sin();
            peak * decay * modes + if i < 8 { 0.5 * peak } else { 0.0 }
        })
        .collect()
}

#[test]
fn a_struck_objects_ring_is_not_a_voice_and_a_sharp_vocal_start_still_is() {
    let parts = vec![
        (0.5, ring(16_000, 0.5, 0.14)),
        (1.5, ring(16_000, 0.3, 0.2)),
        // A syllable that starts about as sharply, then holds.
        (2.5, voice(16_000, 0.3, 0.4, 0.01, 0.05, |_| 380.0)),
    ];
    let x = scene(16_000, 3.5, 0.0005, &parts, 11);
    let ev = analyze(&x, 16_000);
    let frames = pitch(&ev);
    let voiced: Vec<f64> = frames
        .iter()
        .filter(|p| p.f0_hz.is_some() && p.time.secs() < 2.4)
        .map(|p| p.time.secs())
        .collect();
    assert!(voiced.is_empty(), "rings voiced at {voiced:?}");
    assert!(fraction_within(&frames, 2.55, 2.75, 50.0, |_| 380.0) > 0.9);
    let onsets = onsets(&ev);
    assert!(
        onsets.len() == 1 && (onsets[0] - 2.5).abs() < 0.05,
        "{onsets:?}"
    );
    assert_eq!(vocalisations(&ev).len(), 1);
}

#[test]
fn block_size_never_changes_the_output() {
    for &rate in &[16_000u32, 44_100] {
        let parts = vec![
            (
                0.3,
                voice(rate, 0.8, 0.4, 0.08, 0.05, |t| 300.0 + 100.0 * t),
            ),
            (1.3, burst(rate, 0.05, 0.5, 0.004, 9)),
            (
                1.7,
                voice(rate, 0.9, 0.3, 0.02, 0.05, |t| {
                    180.0 * (1.0 + 0.03 * (30.0 * t).sin())
                }),
            ),
        ];
        let x = scene(rate, 3.0, 0.0005, &parts, 10);
        let config = AnalysisConfig::default();
        let whole = analyze_blocks(&x, rate, x.len(), &config);
        assert!(!onsets(&whole).is_empty());
        for &block in &[1usize, 7, 160, 441, 4096] {
            assert_eq!(
                analyze_blocks(&x, rate, block, &config),
                whole,
                "{rate} Hz in blocks of {block}"
            );
        }
    }
}

#[test]
fn one_pitch_frame_every_10_ms_in_time_order() {
    let x = hum(16_000);
    let frames = pitch(&analyze(&x, 16_000));
    let expected = (x.len() - 1) / 160 + 1;
    assert_eq!(frames.len(), expected);
    for (k, p) in frames.iter().enumerate() {
        assert_eq!(p.time.0, k as u64 * 160);
    }
}

#[test]
fn bad_samples_and_silence_do_not_break_it() {
    // Nothing at all.
    assert!(analyze(&[], 16_000).is_empty());
    // NaN, infinities and absurd values in the middle of a hum.
    let mut x = hum(16_000);
    for (i, v) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30]
        .iter()
        .enumerate()
    {
        x[20_000 + 100 * i] = *v;
    }
    let mut an = Analyzer::new(&AnalysisConfig::default(), 16_000).unwrap();
    let mut ev = Vec::new();
    an.process(&x, &mut ev);
    an.finish(&mut ev);
    assert_eq!(an.non_finite_samples(), 3);
    assert!(fraction_within(&pitch(&ev), 1.4, 1.65, 20.0, |_| 220.0) > 0.9);
    // DC only, and a clipped square wave.
    let dc = vec![0.5f32; 32_000];
    assert!(voiced_fraction(&pitch(&analyze(&dc, 16_000)), 0.0, 2.0) < 0.02);
    let square: Vec<f32> = (0..32_000)
        .map(|i| if (i / 40) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let frames = pitch(&analyze(&square, 16_000));
    assert_eq!(frames.len(), 200);
}

#[test]
fn the_pitch_range_is_a_setting() {
    let x = scene(
        16_000,
        2.0,
        0.0003,
        &[(0.5, voice(16_000, 1.0, 0.4, 0.05, 0.05, |_| 100.0))],
        11,
    );
    let narrow = AnalysisConfig {
        f0_min_hz: 150.0,
        f0_max_hz: 600.0,
        ..AnalysisConfig::default()
    };
    let frames = pitch(&analyze_blocks(&x, 16_000, 4096, &narrow));
    assert!(frames.iter().all(|p| p.f0_hz.is_none_or(|f| f >= 140.0)));
    let inverted = AnalysisConfig {
        f0_min_hz: 500.0,
        f0_max_hz: 400.0,
        ..AnalysisConfig::default()
    };
    assert!(Analyzer::new(&inverted, 16_000).is_err());
}

#[test]
fn the_bundled_demo_matches_its_ground_truth() {
    // The demo's truth: 16 vocalisations (user and partner); every one is found.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo_session.wav");
    let mut dec = attune::audio::decode::Decoder::open(path.as_ref(), Default::default()).unwrap();
    let mut an = Analyzer::new(&AnalysisConfig::default(), dec.info().sample_rate_hz).unwrap();
    let mut ev = Vec::new();
    while let Some(b) = dec.next_block().unwrap() {
        an.process(b, &mut ev);
    }
    an.finish(&mut ev);
    let truth = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo_session.segments.csv"
    ))
    .unwrap();
    let starts: Vec<f64> = truth
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let found = vocalisations(&ev);
    assert_eq!(found.len(), starts.len(), "{found:?}");
    for s in &starts {
        assert!(
            found.iter().any(|v| (v.start.secs() - s).abs() < 0.2),
            "no vocalisation near {s}"
        );
    }
}
