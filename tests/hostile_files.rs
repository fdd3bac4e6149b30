//! The files of a session folder a user can edit (`events.jsonl`, `session.json`,
//! `review.json`), written at random and adversarially: review and export open the session
//! with a clear message or a correct result, never a panic, and what they write stays the size
//! of the recording, whatever numbers the files hold.

mod common;

use std::path::Path;

use attune::export::{export_session, Format};
use attune::session::model::{LoadOptions, SessionModel};
use common::{scene, voice, write_wav};
use proptest::prelude::*;

/// Numbers as a hand-edited file may hold them (JSON text).
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-10.0f64..30.0).prop_map(|x| format!("{x}")),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        Just("1e300".to_string()),
        Just("-1e300".to_string()),
        Just("1e999".to_string()),
        Just("NaN".to_string()),
        Just("null".to_string()),
        Just("\"12\"".to_string()),
        Just("18446744073709551615".to_string()),
        Just("-0.0".to_string()),
    ]
}

/// A short text, sometimes hostile (quotes, markup, control characters, very long).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        Just("<b>&\"'</b>\t\u{0}".to_string()),
        Just("x".repeat(70_000)),
        ".{0,20}",
    ]
    .prop_map(|s| serde_json::to_string(&s).unwrap_or_default())
}

fn event_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (number(), text())
            .prop_map(|(t, c)| format!(r#"{{"t_s":{t},"type":"marker","code":{c}}}"#)),
        (number(), number(), number()).prop_map(|(t, a, b)| format!(
            r#"{{"t_s":{t},"type":"push_to_talk","start_s":{a},"end_s":{b}}}"#
        )),
        (number(), number(), text()).prop_map(|(t, e, b)| format!(
            r#"{{"t_s":{t},"type":"wrap_up","engagement":{e},"best_moment":{b}}}"#
        )),
        ".{0,40}",
        prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn review() -> impl Strategy<Value = String> {
    let segment = (number(), number(), text(), 0usize..4).prop_map(|(a, b, who, track)| {
        format!(r#"{{"start_s":{a},"end_s":{b},"speaker":{who},"track":{track}}}"#)
    });
    let segment = prop_oneof![
        segment,
        (
            0.0f64..9.0,
            0.05f64..1.0,
            prop_oneof![Just("user"), Just("partner")]
        )
            .prop_map(|(a, d, who)| format!(
                r#"{{"start_s":{a},"end_s":{},"speaker":"{who}"}}"#,
                a + d
            )),
    ];
    let marker = (number(), text()).prop_map(|(t, c)| format!(r#"{{"t_s":{t},"code":{c}}}"#));
    prop_oneof![
        (
            prop::collection::vec(segment, 0..6),
            prop::collection::vec(marker, 0..4)
        )
            .prop_map(|(s, m)| format!(
                r#"{{"tool":"attune","version":"0","segments":[{}],"markers":[{}]}}"#,
                s.join(","),
                m.join(",")
            )),
        ".{0,30}",
    ]
}

fn session_json() -> impl Strategy<Value = String> {
    let settings =
        serde_json::to_string(&attune::config::AnalysisConfig::live()).unwrap_or_default();
    prop_oneof![
        text().prop_map(move |p| format!(r#"{{"participant":{p},"settings":{settings}}}"#)),
        (text(), number(), number()).prop_map(|(p, lo, hi)| format!(
            r#"{{"participant":{p},"started_utc":"2026-12-01T10:00:00Z","settings":{{"f0_min_hz":{lo},"f0_max_hz":{hi}}}}}"#
        )),
        ".{0,30}",
    ]
}

/// A 10 s two-voice recording, written once.
fn recording(dir: &Path) -> std::path::PathBuf {
    let rate = 16_000;
    let wav = dir.join("recording.wav");
    let a = voice(rate, 1.2, 0.4, 0.05, 0.1, |_| 300.0);
    let b = voice(rate, 1.0, 0.3, 0.05, 0.1, |t| 150.0 - 20.0 * t);
    write_wav(
        &wav,
        rate,
        &[scene(
            rate,
            10.0,
            0.001,
            &[(1.0, a.clone()), (3.0, b), (6.0, a)],
            3,
        )],
    );
    wav
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn edited_session_files_open_with_a_message_or_a_result_and_exports_stay_bounded(
        events in prop::collection::vec(event_line(), 0..12),
        review in prop::option::of(review()),
        session in prop::option::of(session_json()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("session");
        std::fs::create_dir_all(&folder).unwrap();
        let wav = recording(dir.path());
        std::fs::copy(&wav, folder.join("audio.wav")).unwrap();
        std::fs::write(folder.join("events.jsonl"), events.join("\n")).unwrap();
        if let Some(r) = &review {
            std::fs::write(folder.join("review.json"), r).unwrap();
        }
        if let Some(s) = &session {
            std::fs::write(folder.join("session.json"), s).unwrap();
        }
        match SessionModel::load(&folder, &LoadOptions::default()) {
            Err(e) => {
                // A clear message that names the file.
                let msg = e.to_string();
                prop_assert!(msg.contains("review.json") || msg.contains("events.jsonl"), "{msg}");
            }
            Ok(model) => {
                let end_s = model.duration_secs + 1.0;
                prop_assert!(model.markers.iter().all(|m| (0.0..=end_s).contains(&m.t_s)));
                prop_assert!(model.segments.iter().all(|s| s.vocalisation.end.secs() <= end_s));
                let out = dir.path().join("out");
                let files = export_session(&model, &Format::ALL, &out).unwrap();
                let total: u64 = files
                    .iter()
                    .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
                    .sum();
                // Ten seconds of recording: a few hundred kB at most, whatever the files said.
                prop_assert!(total < 3_000_000, "{total} bytes");
            }
        }
    }
}

/// A recorder killed mid-recording: a WAV whose header still says 0 bytes, and the marker of a
/// process that has ended.
fn interrupted(folder: &Path, wav: &Path) {
    let mut bytes = std::fs::read(wav).unwrap();
    bytes[4..8].copy_from_slice(&36u32.to_le_bytes());
    bytes[40..44].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(folder.join("audio.wav"), bytes).unwrap();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    std::fs::write(
        folder.join("RECORDING"),
        format!(
            r#"{{"pid":{},"started_utc":"2026-01-01T00:00:00Z"}}"#,
            gone.id()
        ),
    )
    .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn an_interrupted_session_with_edited_files_is_repaired_or_refused_with_a_message(
        events in prop::collection::vec(event_line(), 0..12),
        session in session_json(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("session");
        std::fs::create_dir_all(&folder).unwrap();
        let wav = recording(dir.path());
        interrupted(&folder, &wav);
        std::fs::write(folder.join("events.jsonl"), events.join("\n")).unwrap();
        std::fs::write(folder.join("session.json"), &session).unwrap();
        match attune::session::recovery::repair(&folder) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("session.json") || msg.contains("settings"), "{msg}");
            }
            Ok(report) => {
                prop_assert!((report.audio_secs - 10.0).abs() < 0.01, "{report:?}");
                // The repaired session opens.
                let model = SessionModel::load(&folder, &LoadOptions::default());
                prop_assert!(model.is_ok(), "{:?}", model.err());
            }
        }
    }
}
