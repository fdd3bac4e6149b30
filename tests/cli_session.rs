//! `attune analyze` as a session: two microphones with bleed, one microphone with a voice
//! enrolment, the files written, and every bad-input error of the new options.

mod common;

use std::path::{Path, PathBuf};

use common::{attune, write_wav, Noise};

const RATE: u32 = 16_000;

/// A talker: pitch level and two formants shape the harmonics.
#[derive(Clone, Copy)]
struct Talker {
    f0_hz: f64,
    formants_hz: [f64; 2],
}

const USER: Talker = Talker {
    f0_hz: 310.0,
    formants_hz: [950.0, 2600.0],
};
const PARTNER: Talker = Talker {
    f0_hz: 140.0,
    formants_hz: [450.0, 1300.0],
};

/// A vocalisation of `secs` with a gentle glide (`glide` semitones over its length).
fn vocalise(t: Talker, secs: f64, glide: f64, peak: f64) -> Vec<f64> {
    let n = (secs * f64::from(RATE)) as usize;
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            let x = i as f64 / f64::from(RATE);
            let f = t.f0_hz * 2f64.powf(glide * (x / secs - 0.5) / 12.0);
            phase += 2.0 * std::f64::consts::PI * f / f64::from(RATE);
            let env = (x / 0.04).min(1.0).min((secs - x) / 0.06).max(0.0);
            let mut v = 0.0;
            let mut h = 1.0;
            while h * f < 6_000.0 {
                let hf = h * f;
                let gain: f64 = t
                    .formants_hz
                    .iter()
                    .map(|fm| 1.0 / (1.0 + ((hf - fm) / 150.0).powi(2)))
                    .sum::<f64>()
                    + 0.02;
                v += gain * (h * phase).sin() / h.sqrt();
                h += 1.0;
            }
            peak * env * v / 2.0
        })
        .collect()
}

/// Adds `part` (delayed by `delay` samples, scaled by `gain`) into `x` at `start_secs`.
fn add(x: &mut [f64], start_secs: f64, part: &[f64], gain: f64, delay: usize) {
    let s = (start_secs * f64::from(RATE)) as usize + delay;
    for (i, v) in part.iter().enumerate() {
        if let Some(d) = x.get_mut(s + i) {
            *d += gain * v;
        }
    }
}

fn noise(secs: f64, amp: f64, seed: u64) -> Vec<f64> {
    let mut n = Noise::new(seed);
    (0..(secs * f64::from(RATE)) as usize)
        .map(|_| amp * n.next())
        .collect()
}

fn to_f32(x: Vec<f64>) -> Vec<f32> {
    x.into_iter().map(|v| v as f32).collect()
}

/// (start_s, speaker) of each row of a segments.csv.
fn segments(path: &Path) -> Vec<(f64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[2].to_string())
        })
        .collect()
}

fn assert_speakers(got: &[(f64, String)], want: &[(f64, &str)]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((gs, gw), (ws, ww)) in got.iter().zip(want) {
        assert!((gs - ws).abs() < 0.15, "{got:?}");
        assert_eq!(gw, ww, "{got:?}");
    }
}

#[test]
fn two_microphones_attribute_each_voice_and_ignore_the_bleed() {
    let dir = tempfile::tempdir().unwrap();
    let secs = 6.5;
    let (mut mic_u, mut mic_p) = (noise(secs, 0.0005, 1), noise(secs, 0.0005, 2));
    let script: [(f64, Talker, f64, f64); 5] = [
        (0.5, USER, 1.0, 4.0),
        (2.0, PARTNER, 0.9, -3.0),
        (3.4, USER, 1.0, 5.0),
        // Both at once: the partner starts while the user is still vocalising.
        (4.0, PARTNER, 1.2, 2.0),
        (5.6, USER, 0.6, 0.0),
    ];
    for (start, t, len, glide) in script {
        let v = vocalise(t, len, glide, 0.3);
        let own_user = t.f0_hz == USER.f0_hz;
        // Bleed −8 dB / −10 dB, 2-3 ms late; the partner's mic is 6 dB less sensitive.
        if own_user {
            add(&mut mic_u, start, &v, 1.0, 0);
            add(&mut mic_p, start, &v, 0.5 * 0.32, 48);
        } else {
            add(&mut mic_p, start, &v, 0.5, 0);
            add(&mut mic_u, start, &v, 0.4, 32);
        }
    }
    let wav = dir.path().join("pair.wav");
    write_wav(&wav, RATE, &[to_f32(mic_u), to_f32(mic_p)]);
    let out = dir.path().join("out");
    analyze_two_mics(&wav, &out);
    assert_speakers(
        &segments(&out.join("pair.segments.csv")),
        &[
            (0.5, "user"),
            (2.0, "partner"),
            (3.4, "user"),
            (4.0, "partner"),
            (5.6, "user"),
        ],
    );
    let turns = std::fs::read_to_string(out.join("pair.turns.csv")).unwrap();
    let mut lines = turns.lines();
    let header = lines.next().unwrap();
    for col in [
        "from",
        "to",
        "direction",
        "prev_end_s",
        "next_start_s",
        "latency_s",
        "overlap",
        "mirror_score",
        "mirror_contour",
        "mirror_beats",
    ] {
        assert!(header.split(',').any(|c| c == col), "{header}");
    }
    // user→partner, partner→user, user→partner (overlapping), partner→user.
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4, "{turns}");
    assert_eq!(rows[2][2], "user->partner");
    assert_eq!(rows[2][8], "1", "the overlap is marked: {turns}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("pair.summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["session"]["attribution"], "two_channels");
    assert_eq!(s["session"]["turn_models"]["lena"]["turns"], 4);
    assert!(s["session"]["turn_models"]["chattr"]["chance"]["turns"]["chance_mean"].is_number());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("pair.turns.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

fn mono_session(dir: &Path) -> (PathBuf, PathBuf, Vec<(f64, &'static str)>) {
    let secs = 9.0;
    let mut mix = noise(secs, 0.0005, 3);
    let script: [(f64, Talker, f64, f64); 6] = [
        (0.4, USER, 0.9, 3.0),
        (1.8, PARTNER, 0.8, 2.0),
        (3.2, USER, 1.1, -4.0),
        (4.8, PARTNER, 1.0, -2.0),
        (6.3, USER, 0.7, 0.0),
        (7.6, PARTNER, 0.9, 4.0),
    ];
    let mut want = Vec::new();
    for (start, t, len, glide) in script {
        add(&mut mix, start, &vocalise(t, len, glide, 0.3), 1.0, 0);
        want.push((
            start,
            if t.f0_hz == USER.f0_hz {
                "user"
            } else {
                "partner"
            },
        ));
    }
    let wav = dir.join("room.wav");
    write_wav(&wav, RATE, &[to_f32(mix)]);
    // The partner's enrolment: four other vocalisations of the same voice.
    let mut enrol = noise(6.0, 0.0005, 4);
    for (i, glide) in [5.0, -3.0, 0.0, 7.0].into_iter().enumerate() {
        add(
            &mut enrol,
            0.3 + 1.4 * i as f64,
            &vocalise(PARTNER, 1.0, glide, 0.25),
            1.0,
            0,
        );
    }
    let enrol_path = dir.join("partner.wav");
    write_wav(&enrol_path, RATE, &[to_f32(enrol)]);
    (wav, enrol_path, want)
}

#[test]
fn one_microphone_with_an_enrolment_tells_the_voices_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, enrol, want) = mono_session(dir.path());
    let out = dir.path().join("out");
    let status = attune()
        .args(["analyze", "-q", "--partner-voice"])
        .arg(&enrol)
        .arg("--out")
        .arg(&out)
        .arg(&wav)
        .status()
        .unwrap();
    assert!(status.success());
    assert_speakers(&segments(&out.join("room.segments.csv")), &want);
    // Without enrolment: two voices A and B, A the first one's.
    let out2 = dir.path().join("out2");
    let status = attune()
        .args(["analyze", "-q", "--two-voices", "--out"])
        .arg(&out2)
        .arg(&wav)
        .status()
        .unwrap();
    assert!(status.success());
    let ab: Vec<(f64, &str)> = want
        .iter()
        .map(|(s, w)| (*s, if *w == "user" { "A" } else { "B" }))
        .collect();
    assert_speakers(&segments(&out2.join("room.segments.csv")), &ab);
}

/// Runs attune with `args`; returns (exit code, stderr).
fn run(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let o = attune().args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bad_session_options_give_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, _, _) = mono_session(dir.path());
    let out = dir.path().join("out");
    let silent = dir.path().join("silent.wav");
    write_wav(&silent, RATE, &[to_f32(noise(3.0, 0.0005, 9))]);
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.path().join("nope.wav");
    let os = |s: &str| std::ffi::OsString::from(s);
    let analyze = |extra: &[std::ffi::OsString]| {
        let mut a = vec![
            os("analyze"),
            os("-q"),
            os("--out"),
            out.clone().into(),
            wav.clone().into(),
        ];
        a.extend_from_slice(extra);
        let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
        run(&refs)
    };
    for (file, why) in [
        (&missing, "cannot read the file"),
        (&empty, "no audio samples"),
        (&silent, "too little voice"),
    ] {
        let (code, err) = analyze(&[os("--partner-voice"), file.clone().into()]);
        assert_ne!(code, 0);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("partner voice enrolment"), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(!err.contains("panick"), "{err}");
    }
    // A channel the file does not have: that input fails with one line, exit code 1.
    let (code, err) = analyze(&[
        os("--user-channel"),
        os("1"),
        os("--partner-channel"),
        os("3"),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("channel 2 requested") || err.contains("channel 3 requested"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Options that do not go together.
    for extra in [
        vec![os("--user-channel"), os("1")],
        vec![
            os("--user-channel"),
            os("1"),
            os("--partner-channel"),
            os("1"),
        ],
        vec![
            os("--user-channel"),
            os("1"),
            os("--partner-channel"),
            os("2"),
            os("--partner-voice"),
            wav.clone().into(),
        ],
    ] {
        let (code, err) = analyze(&extra);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(!err.contains("panick"), "{err}");
    }
}

#[test]
fn live_each_vocalisation_is_labelled_by_the_partners_enrolment_soon_after_it_ends() {
    use attune::config::AnalysisConfig;
    use attune::driver::files::load_voice;
    use attune::driver::{Driver, DriverOutput};
    use attune::live::voices::{LiveVoices, VoiceModels};
    use attune::time::SampleTime;
    let dir = tempfile::tempdir().unwrap();
    let (wav, partner_clip, want) = mono_session(dir.path());
    let config = AnalysisConfig::live();
    let models = std::sync::Arc::new(VoiceModels {
        partner: load_voice(&partner_clip, &config).unwrap(),
        user: None,
    });
    let mut reader = hound::WavReader::open(&wav).unwrap();
    let rate = reader.spec().sample_rate;
    let x: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    // As the analysis thread does: 5 ms blocks through the driver, its events and voice
    // features to the attribution, labels polled.
    let mut driver = Driver::new(&config, true).unwrap();
    let mut out = DriverOutput::default();
    driver.set_rate(rate, &mut out).unwrap();
    let mut voices = LiveVoices::new(models, SampleTime(0));
    let mut labels = Vec::new();
    let hand_on = |out: &mut DriverOutput, voices: &mut LiveVoices| {
        voices.push_ceps(&out.ceps);
        for e in &out.events {
            voices.push_event(e);
        }
        out.clear();
    };
    for block in x.chunks(rate as usize / 200) {
        driver.process(block, &mut out);
        hand_on(&mut out, &mut voices);
        labels.extend(voices.poll());
    }
    driver.finish(&mut out);
    hand_on(&mut out, &mut voices);
    labels.extend(voices.drain());
    assert_eq!(labels.len(), want.len(), "{labels:?}");
    let right = labels
        .iter()
        .zip(&want)
        .filter(|(s, (_, who))| s.speaker.as_str() == *who)
        .count();
    assert!(
        right == want.len(),
        "{right} of {} right: {:?}",
        want.len(),
        labels
            .iter()
            .map(|s| s.speaker.as_str())
            .collect::<Vec<_>>()
    );
}

#[test]
fn one_talker_on_two_microphones_is_not_doubled_by_the_bleed() {
    let dir = tempfile::tempdir().unwrap();
    let secs = 5.0;
    let (mut mic_u, mut mic_p) = (noise(secs, 0.0005, 6), noise(secs, 0.0005, 7));
    for (start, glide) in [(0.4, 3.0), (1.9, -4.0), (3.4, 0.0)] {
        let v = vocalise(USER, 1.0, glide, 0.3);
        add(&mut mic_u, start, &v, 1.0, 0);
        add(&mut mic_p, start, &v, 0.5, 40); // −6 dB bleed, 2.5 ms late
    }
    let wav = dir.path().join("solo.wav");
    write_wav(&wav, RATE, &[to_f32(mic_u), to_f32(mic_p)]);
    let out = dir.path().join("out");
    analyze_two_mics(&wav, &out);
    assert_speakers(
        &segments(&out.join("solo.segments.csv")),
        &[(0.4, "user"), (1.9, "user"), (3.4, "user")],
    );
    let turns = std::fs::read_to_string(out.join("solo.turns.csv")).unwrap();
    assert_eq!(turns.lines().count(), 1, "{turns}");
}

/// `attune analyze --user-channel 1 --partner-channel 2`, which must succeed.
fn analyze_two_mics(wav: &Path, out: &Path) {
    common::succeed(
        attune()
            .args([
                "analyze",
                "-q",
                "--user-channel",
                "1",
                "--partner-channel",
                "2",
                "--out",
            ])
            .arg(out)
            .arg(wav),
    );
}
