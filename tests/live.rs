//! `attune live --headless` as a researcher runs it without a microphone: the demo session
//! through the real pipeline (player thread → ring → analysis thread → session writer), in real
//! time, and the session folder checked against the demo's ground truth.

mod common;

use std::process::Command;

use common::{
    attune, demo_f0_truth, demo_onsets_truth, json, onset_f_measure, raw_pitch_accuracy, read_csv,
    succeed,
};

#[test]
fn a_headless_demo_session_is_recorded_and_matches_the_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("session");
    let out = attune()
        .args([
            "live",
            "--headless",
            "--demo",
            "--duration",
            "11",
            "--participant",
            "P07",
        ])
        .arg("--session-dir")
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("sound -> pitch latency"), "{stderr}");

    // The audio as captured: a valid WAV of the run's length.
    let wav = hound::WavReader::open(dir.join("audio.wav")).unwrap();
    let secs = wav.duration() as f64 / f64::from(wav.spec().sample_rate);
    assert!((10.0..=11.5).contains(&secs), "{secs} s recorded");

    // Finished cleanly: the marker of a recording in progress is gone.
    assert!(!dir.join("RECORDING").exists());

    // The metadata names the pseudonym, the input and the settings.
    let meta = json(&dir.join("session.json"));
    assert_eq!(meta["participant"], "P07");
    assert_eq!(meta["input"], "demo session");
    // What is recorded is analysed as `attune analyze` would (the screen's pitch has 10 ms).
    assert_eq!(meta["settings"]["lookahead_s"], 0.25);

    // The event log: one JSON object a line, the input status first, pitch every 10 ms.
    let log = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "input_status");
    assert_eq!(lines[0]["status"], "connected");
    let pitch = lines.iter().filter(|l| l["type"] == "pitch").count();
    assert!((1000..=1150).contains(&pitch), "{pitch} pitch frames");
    assert!(lines.iter().any(|l| l["type"] == "vocalisation"));

    // The analysis files of `attune analyze`, made live: the demo's first 10 s are right.
    // The player starts at session time 0, so no alignment is needed.
    let f0 = read_csv(&dir.join("session.f0.csv"));
    let rpa = raw_pitch_accuracy(&demo_f0_truth(), &f0, 0.0, 0.0, 10.0);
    assert!(rpa >= 0.9, "live pitch accuracy {rpa:.3}");
    let onsets: Vec<f64> = read_csv(&dir.join("session.onsets.csv"))
        .iter()
        .map(|r| r[0])
        .collect();
    let f = onset_f_measure(&demo_onsets_truth(), &onsets, 0.0, 0.0, 9.5, 0.05);
    assert!(f >= 0.7, "live onsets F {f:.2}: {onsets:?}");
    let segments = read_csv(&dir.join("session.segments.csv"));
    assert!(segments.len() >= 4, "{segments:?}");

    // The run's own measurements.
    let summary = json(&dir.join("live.summary.json"));
    let lat = &summary["latency_sound_to_pitch_ms"];
    assert!(lat["count"].as_u64().unwrap() >= 800, "{lat}");
    let p95 = lat["p95_ms"].as_f64().unwrap();
    let delay = summary["analysis_delay_ms"].as_f64().unwrap();
    // Never faster than the analysis can be: the measurement is real.
    assert!(p95 >= delay, "p95 {p95} ms < analysis delay {delay} ms");
    assert_eq!(summary["dropped_input_frames"], 0);

    // Owner-only files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
}

#[test]
fn a_file_that_is_not_audio_is_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = attune()
        .args(["live", "--headless", "--duration", "1", "--play"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/not_audio.wav"
        ))
        .arg("--session-dir")
        .arg(tmp.path().join("s"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not_audio.wav") && stderr.contains("not a supported audio file"),
        "{stderr}"
    );
    assert!(stderr.contains("no audio was captured"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_missing_device_is_waited_for_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let out = attune()
        .args([
            "live",
            "--headless",
            "--duration",
            "1.5",
            "--device",
            "no such microphone 4711",
        ])
        .arg("--session-dir")
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("waiting for no such microphone 4711"),
        "{stderr}"
    );
    // The wait is in the session's log too.
    let log = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert!(log.contains("\"status\":\"waiting\""), "{log}");
}

#[test]
fn a_session_folder_that_cannot_be_made_is_an_error() {
    let out = common::headless_demo(1.0, 1.0)
        .args(["--session-dir", "/proc/attune-cannot"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot create the session folder /proc/attune-cannot"),
        "{stderr}"
    );
}

#[test]
fn a_full_disk_stops_the_recording_and_keeps_what_was_written() {
    // A file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes the writes fail as a full
    // disk would, once audio.wav reaches about 100-200 KB (`ulimit -f` counts 512- or
    // 1024-byte blocks): 12 s of the demo at 32 000 bytes a second passes it. (A file planted
    // in the folder, such as a link to /dev/full, is refused before anything is recorded.)
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 200 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_attune"))
        .args(common::headless_demo_args(4.0, 3.0))
        .arg("--session-dir")
        .arg(&dir)
        .env("ATTUNE_DATA_DIR", tmp.path().join("data"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("recording stopped") && stderr.contains("File too large"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // What was written before the failure is kept: final, or repaired by `recover`.
    if dir.join("RECORDING").exists() {
        let out = attune().arg("recover").arg(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!dir.join("RECORDING").exists());
    let wav = hound::WavReader::open(dir.join("audio.wav")).unwrap();
    assert!(wav.duration() > 0);
}

/// The demo's truth: (start, end, speaker).
fn demo_segments_truth() -> Vec<(f64, f64, String)> {
    segment_rows(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo_session.segments.csv"
    )))
}

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo_session.wav");

/// The partner's enrolment: their first three answers in the demo, cut out (about 3 s).
fn demo_partner_enrolment(dir: &std::path::Path) -> std::path::PathBuf {
    let mut r = hound::WavReader::open(DEMO).unwrap();
    let rate = r.spec().sample_rate;
    let x: Vec<f32> = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    let mut enrol = Vec::new();
    for (a, b, _) in demo_segments_truth()
        .iter()
        .filter(|t| t.2 == "partner")
        .take(3)
    {
        let (i, j) = ((a * rate as f64) as usize, (b * rate as f64) as usize);
        enrol.extend_from_slice(&x[i..j]);
        enrol.extend(std::iter::repeat_n(0.0, rate as usize / 4));
    }
    let path = dir.join("partner-voice.wav");
    common::write_wav(&path, rate, &[enrol]);
    path
}

/// `attune live --headless --demo` at ten times real time for `secs` with the partner's clip.
fn record_demo_with_partner_clip(clip: &std::path::Path, secs: f64, dir: &std::path::Path) {
    succeed(
        common::headless_demo(10.0, secs)
            .arg("--partner-voice")
            .arg(clip)
            .arg("--session-dir")
            .arg(dir),
    );
}

#[test]
fn with_the_partners_enrolment_each_vocalisation_is_labelled_by_voice_as_it_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let enrol_path = demo_partner_enrolment(tmp.path());
    let truth = demo_segments_truth();

    let dir = tmp.path().join("session");
    record_demo_with_partner_clip(&enrol_path, 5.0, &dir);
    let summary = json(&dir.join("live.summary.json"));
    let by_voice = &summary["vocalisations_by_voice"];
    assert!(by_voice["partner"].as_u64().unwrap_or(0) >= 3, "{summary}");
    assert!(by_voice["user"].as_u64().unwrap_or(0) >= 5, "{summary}");
    // The labels in session.segments.csv, against the truth, by overlap.
    let text = std::fs::read_to_string(dir.join("session.segments.csv")).unwrap();
    let (mut right, mut judged) = (0, 0);
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let (a, b): (f64, f64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let Some(t) = truth
            .iter()
            .find(|t| t.1.min(b) - t.0.max(a) > 0.5 * (b - a))
        else {
            continue;
        };
        judged += 1;
        right += usize::from(t.2 == f[2]);
    }
    assert!(judged >= 12, "{text}");
    assert!(
        right as f64 >= 0.8 * judged as f64,
        "{right} of {judged} labelled right:\n{text}"
    );
}

/// `(start_s, end_s, speaker)` of a segments CSV.
fn segment_rows(path: &std::path::Path) -> Vec<(f64, f64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].to_string(),
            )
        })
        .collect()
}

/// The turns (LENA windows) between the rows' speakers, as `attune analyze` counts them.
fn turns(rows: &[(f64, f64, String)]) -> usize {
    use attune::analysis::speaker::Speaker;
    use attune::analysis::turns::{find_turns, TurnSettings, Utterance};
    let utterances: Vec<Utterance> = rows
        .iter()
        .map(|(a, b, who)| Utterance {
            speaker: Speaker::parse(who).unwrap(),
            start_secs: *a,
            end_secs: *b,
        })
        .collect();
    find_turns(&utterances, &TurnSettings::LENA).len()
}

#[test]
fn the_live_path_and_attune_analyze_find_the_same_vocalisations_speakers_and_turns() {
    // One recording two ways: played through the live pipeline (player → ring → analysis
    // thread → writer, ten times real time) and analysed as a file: the live session records
    // what `attune analyze` finds (the window's pitch alone has the short lookahead).
    let tmp = tempfile::tempdir().unwrap();
    let enrol = demo_partner_enrolment(tmp.path());
    let live = tmp.path().join("live");
    record_demo_with_partner_clip(&enrol, 6.0, &live);
    let offline = tmp.path().join("offline");
    succeed(
        attune()
            .args(["analyze", "-q", "--partner-voice"])
            .arg(&enrol)
            .arg("--out")
            .arg(&offline)
            .arg(DEMO),
    );

    // The same pitch track and onsets, to the byte: one driver, one Analyzer, one clock.
    for kind in ["f0", "onsets"] {
        let a = std::fs::read_to_string(live.join(format!("session.{kind}.csv"))).unwrap();
        let b = std::fs::read_to_string(offline.join(format!("demo_session.{kind}.csv"))).unwrap();
        assert!(a.lines().count() > 10, "{kind}: {a}");
        assert!(a == b, "live and offline {kind} differ");
    }
    // The same vocalisations. Live labels each as it ends, from the past only; offline may
    // cut one where the voice changes inside it, so its parts cover the live vocalisation.
    let live_rows = segment_rows(&live.join("session.segments.csv"));
    let offline_rows = segment_rows(&offline.join("demo_session.segments.csv"));
    assert!(live_rows.len() >= 12, "{live_rows:?}");
    let mut agree = 0;
    for (a, b, who) in &live_rows {
        let parts: Vec<_> = offline_rows
            .iter()
            .filter(|r| r.0 >= a - 1e-6 && r.1 <= b + 1e-6)
            .collect();
        let covered: f64 = parts.iter().map(|r| r.1 - r.0).sum();
        assert!(
            (covered - (b - a)).abs() < 0.011,
            "{a}-{b} s: offline {parts:?}"
        );
        let longest = parts
            .iter()
            .max_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)));
        agree += usize::from(longest.is_some_and(|r| &r.2 == who));
    }
    // Speakers: within what labelling from the past only costs (see docs/accuracy.md).
    assert!(
        agree * 10 >= live_rows.len() * 8,
        "{agree} of {} speakers agree:\nlive {live_rows:?}\noffline {offline_rows:?}",
        live_rows.len()
    );
    let (t_live, t_offline) = (turns(&live_rows), turns(&offline_rows));
    assert!(t_offline >= 6, "{t_offline} turns");
    assert!(
        t_live.abs_diff(t_offline) <= 2,
        "turns: live {t_live}, offline {t_offline}"
    );
}
