//! The real window (`AttuneApp`, driven headless by egui_kittest) as a practitioner uses it: the
//! demo session plays through the live pipeline in real time and the cues appear; settings
//! change and are there at the next start; the device picker lists the devices; a missing
//! microphone is said plainly.

mod common;

use std::time::{Duration, Instant};

use attune::app::settings::{DeviceSetting, Settings, SettingsStore, ThemeChoice};
use attune::app::{AppOptions, AttuneApp};
use attune::audio::capture::ChannelRoute;
use attune::live::InputChoice;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn harness(options: AppOptions) -> Harness<'static, AttuneApp> {
    Harness::builder()
        .with_size([1180.0, 720.0])
        .build_eframe(move |cc| AttuneApp::new(&cc.egui_ctx, options))
}

fn options(dir: &std::path::Path, input: Option<InputChoice>) -> AppOptions {
    AppOptions {
        store: SettingsStore::in_dir(dir),
        input,
        route: ChannelRoute::Downmix,
        sessions_dir: None,
        record_playback: false,
        voices: None,
    }
}

/// Steps the window (in real time: the pipeline runs beside it) until `label` is on screen.
fn wait_for(
    h: &mut Harness<'static, AttuneApp>,
    what: impl Fn(&Harness<'static, AttuneApp>) -> bool,
    secs: f64,
    why: &str,
) {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < until {
        h.step();
        if what(h) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("not seen within {secs} s: {why}");
}

fn shows(h: &Harness<'static, AttuneApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn the_demo_session_shows_listening_your_turn_and_the_last_sound() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(options(tmp.path(), Some(InputChoice::Demo)));
    // The demo's first sound is a hum at 0.5-1.8 s; then 0.8 s of silence before the partner.
    wait_for(
        &mut h,
        |h| shows(h, "Listening"),
        6.0,
        "Listening while the hum sounds",
    );
    // "Your turn" once a pause opens: after the hum if the partner waits, else in the demo's
    // first long pause (9.5-15.3 s).
    wait_for(
        &mut h,
        |h| shows(h, "Your turn"),
        14.0,
        "Your turn in a pause",
    );
    // The mirror card has the hum's length (1.3 s in the truth) and the status line the input.
    let card = h.state().model().card.clone().expect("a mirror card");
    assert!(
        card.duration_secs > 0.3 && card.duration_secs < 6.0,
        "{card:?}"
    );
    assert!(
        card.contour.len() > 20,
        "the sound's contour is on the card"
    );
    assert!(shows(&h, "demo session · 16000 Hz"));
    assert!(shows(&h, "dropped 0"));
    assert!(!shows(&h, "clips"), "the demo never clips");
    // The pause timer counts.
    assert!(shows(&h, " s"), "pause timer");
    // Latency is measured and shown.
    wait_for(
        &mut h,
        |h| shows(h, "latency p50"),
        3.0,
        "latency in the status line",
    );
    wait_for(
        &mut h,
        |h| h.state().model().screen_latency().count > 50,
        8.0,
        "frames timed on screen",
    );
    let lat = h.state().model().screen_latency();
    assert!(lat.p50_ms > 0.0, "{lat:?}");
}

#[test]
fn settings_change_with_keys_and_clicks_and_persist() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(options(tmp.path(), Some(InputChoice::Demo)));
    assert_eq!(h.state().settings().theme, ThemeChoice::Dark);
    // Keyboard: S opens the settings; the theme and the pause are changed there.
    h.key_press(egui::Key::S);
    h.step();
    h.step();
    assert!(shows(&h, "Pseudonym"));
    h.get_by_label("Light").click();
    h.step();
    h.get_by_label("Apply").click();
    h.step();
    h.step();
    assert_eq!(h.state().settings().theme, ThemeChoice::Light);
    assert!(!shows(&h, "Pseudonym"), "the window closed");
    // Shortcuts outside the settings: C for colour-blind-safe colours, + for bigger text.
    h.key_press(egui::Key::C);
    h.key_press(egui::Key::Plus);
    h.step();
    let after = h.state().settings().clone();
    assert!((after.text_scale - 1.1).abs() < 1e-4, "{after:?}");
    drop(h);

    // A new start finds them.
    let saved = SettingsStore::in_dir(tmp.path()).load();
    assert_eq!(saved, after);
    let h = harness(options(tmp.path(), Some(InputChoice::Demo)));
    assert_eq!(h.state().settings().theme, ThemeChoice::Light);
}

#[test]
fn the_device_picker_lists_the_devices_and_a_choice_is_remembered() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(options(tmp.path(), Some(InputChoice::Demo)));
    h.key_press(egui::Key::D);
    h.step();
    wait_for(
        &mut h,
        |h| shows(h, "input device(s) found") || shows(h, "No input device found"),
        15.0,
        "device list",
    );
    let devices = attune::audio::device::list_inputs();
    // Open the picker (it shows the current choice).
    h.get_by_value("Default input").click();
    h.step();
    h.step();
    for d in &devices {
        assert!(shows(&h, &d.name), "{} not in the picker", d.name);
    }
    assert!(shows(&h, "Default input"));
    // Choose the demo explicitly and apply: it is saved.
    h.get_by_label("Demo session").click();
    h.step();
    h.get_by_label("Apply").click();
    h.step();
    assert_eq!(
        SettingsStore::in_dir(tmp.path()).load().device,
        DeviceSetting::Demo
    );
}

#[test]
fn a_missing_microphone_is_said_plainly_and_the_demo_plays() {
    let tmp = tempfile::tempdir().unwrap();
    let saved = Settings {
        device: DeviceSetting::Named("no such microphone 4711".into()),
        ..Settings::default()
    };
    SettingsStore::in_dir(tmp.path()).save(&saved).unwrap();
    let mut h = harness(options(tmp.path(), None));
    wait_for(
        &mut h,
        |h| shows(h, "No microphone found"),
        10.0,
        "the missing-device notice",
    );
    wait_for(&mut h, |h| shows(h, "Listening"), 6.0, "the demo's cues");
}

#[test]
fn holding_space_while_answering_scores_the_echo_against_the_persons_sound() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(options(tmp.path(), Some(InputChoice::Demo)));
    // The person's hum (0.5-1.8 s) ends; the partner holds Space and imitates it (2.6-4.0 s).
    wait_for(
        &mut h,
        |h| h.state().model().card.is_some(),
        8.0,
        "the person's hum",
    );
    assert!(shows(&h, "Hold Space while you answer"));
    h.key_down(egui::Key::Space);
    wait_for(
        &mut h,
        |h| shows(h, "You are answering"),
        2.0,
        "the answering cue",
    );
    wait_for(
        &mut h,
        |h| !h.state().model().echoes.is_empty(),
        8.0,
        "an echo score",
    );
    h.key_up(egui::Key::Space);
    h.step();
    let echo = h.state().model().echoes[0];
    // An imitation of the hum (same steady contour, an octave lower, a little slower).
    assert!(echo.score.score >= 60.0, "{echo:?}");
    assert!((echo.latency_secs - 0.82).abs() < 0.25, "{echo:?}");
    assert!(shows(&h, "Echo match"));
    assert!(shows(&h, &format!("{:.0}", echo.score.score)));
    // Its parts are the two the score weighs.
    assert!(shows(&h, &format!("shape {:.0}", echo.score.contour)));
    assert!(shows(&h, &format!("length {:.0}", echo.score.duration)));
    assert!(shows(&h, "You answer after"));
    // The mirror card still shows the person's sound, not the answer.
    let card = h.state().model().card.clone().unwrap();
    assert!(card.f0_median_hz > 250.0, "{card:?}");
}

#[test]
fn a_session_that_cannot_be_recorded_still_listens_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AppOptions {
        sessions_dir: Some("/proc/attune-cannot-record".into()),
        ..options(tmp.path(), Some(InputChoice::Device { name: None }))
    };
    let mut h = harness(opts);
    wait_for(
        &mut h,
        |h| shows(h, "Not recording: cannot create the session folder"),
        5.0,
        "the notice",
    );
    assert!(h.state().recording_to().is_none());
    assert!(!shows(&h, "Cannot listen"));
}

/// The `events.jsonl` lines of `dir` whose type is `kind`.
fn log_lines(dir: &std::path::Path, kind: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == kind)
        .collect()
}

#[test]
fn keys_log_markers_and_the_wrap_up_ends_the_session_which_can_then_be_reviewed() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let opts = AppOptions {
        sessions_dir: Some(sessions.clone()),
        record_playback: true,
        ..options(tmp.path(), Some(InputChoice::Demo))
    };
    let mut h = harness(opts);
    wait_for(&mut h, |h| shows(h, "Listening"), 6.0, "the demo plays");
    let dir = h.state().recording_to().cloned().expect("recording");
    // Key 1 is "smile", key 8 "best moment"; a click on a code logs it too.
    h.key_press(egui::Key::Num1);
    h.step();
    wait_for(
        &mut h,
        |h| shows(h, "logged smile"),
        2.0,
        "the marker is confirmed",
    );
    h.key_press(egui::Key::Num8);
    h.step();
    h.get_by_label("2 eye contact").click();
    h.step();
    // Push-to-talk is logged when the key is released.
    h.key_down(egui::Key::Space);
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.key_up(egui::Key::Space);
    h.step();

    // E ends the session with the wrap-up.
    h.key_press(egui::Key::E);
    wait_for(
        &mut h,
        |h| shows(h, "Overall engagement"),
        2.0,
        "the wrap-up",
    );
    h.get_by_label("4").click();
    h.step();
    h.get_by_role(egui::accesskit::Role::MultilineTextInput)
        .click();
    h.step();
    h.get_by_role(egui::accesskit::Role::MultilineTextInput)
        .type_text("copied the long hum");
    h.step();
    h.get_by_label("Save and end the session").click();
    wait_for(
        &mut h,
        |h| shows(h, "Session saved"),
        10.0,
        "the saved notice",
    );
    assert_ne!(
        h.state().recording_to(),
        Some(&dir),
        "a new session has begun"
    );

    let markers: Vec<String> = log_lines(&dir, "marker")
        .iter()
        .map(|m| m["code"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(markers, ["smile", "best moment", "eye contact"]);
    assert_eq!(log_lines(&dir, "push_to_talk").len(), 1);
    let wrap = log_lines(&dir, "wrap_up");
    assert_eq!(wrap.len(), 1, "{wrap:?}");
    assert_eq!(wrap[0]["engagement"], 4);
    assert_eq!(wrap[0]["best_moment"], "copied the long hum");

    // R: the Sessions screen lists it; Review opens it with its markers on the timeline.
    h.key_press(egui::Key::R);
    wait_for(&mut h, |h| shows(h, "Recorded sessions"), 5.0, "the list");
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    assert!(attune::app::sessions_view::list_sessions(&sessions)
        .iter()
        .any(|s| s.dir.ends_with(&name) && s.markers == 3));
    h.get_all_by_label("Review").last().unwrap().click();
    wait_for(&mut h, |h| shows(h, "Measures"), 20.0, "the review screen");
    assert!(shows(&h, "engagement 4 / 5"), "the wrap-up is shown");
    assert!(shows(&h, "markers"));
}

#[test]
fn the_partner_records_their_voice_in_the_settings_and_it_is_used_from_then_on() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(options(tmp.path(), Some(InputChoice::Demo)));
    wait_for(&mut h, |h| shows(h, "Listening"), 6.0, "the demo plays");
    h.key_press(egui::Key::S);
    h.run_steps(3);
    h.get_by_label("Record my voice (10 s)").click();
    wait_for(
        &mut h,
        |h| shows(h, "Recording your voice"),
        2.0,
        "the countdown",
    );
    wait_for(
        &mut h,
        |h| shows(h, "Your voice is enrolled"),
        25.0,
        "the voice learned",
    );
    let clip = tmp.path().join("partner-voice.wav");
    let r = hound::WavReader::open(&clip).expect("the clip is kept beside the settings");
    let secs = f64::from(r.duration()) / f64::from(r.spec().sample_rate);
    assert!((secs - 10.0).abs() < 0.1, "{secs} s");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&clip).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    h.key_press(egui::Key::Escape);
    wait_for(
        &mut h,
        |h| shows(h, "Voices are told apart by your enrolment"),
        5.0,
        "the live screen says voices are told apart",
    );
    // The next start uses it too; Forget removes it.
    drop(h);
    let mut h = harness(options(tmp.path(), Some(InputChoice::Demo)));
    wait_for(
        &mut h,
        |h| shows(h, "Voices are told apart by your enrolment"),
        5.0,
        "the enrolment is used at the next start",
    );
    h.key_press(egui::Key::S);
    h.run_steps(3);
    h.get_by_label("Forget my voice").click();
    h.run_steps(2);
    assert!(!clip.exists());
}

#[test]
fn a_clipping_input_is_said_until_it_stops_clipping() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("too-loud.wav");
    // A 1.5 s hum four times too loud (clipped at full scale) at 0.5 s, then a quiet room.
    let loud = common::voice(16_000, 1.5, 1.6, 0.05, 0.05, |_| 220.0);
    let x = common::scene(16_000, 7.0, 0.001, &[(0.5, loud)], 3);
    common::write_wav(&wav, 16_000, &[x]);
    let mut h = harness(options(tmp.path(), Some(InputChoice::File(wav))));
    wait_for(
        &mut h,
        |h| shows(h, "too loud and clips"),
        6.0,
        "the clipping notice while the hum clips",
    );
    // It goes about 3 s after the last clipped block (the hum ends at 2 s; the file at 7 s).
    wait_for(
        &mut h,
        |h| !shows(h, "too loud and clips"),
        6.0,
        "the notice gone once the input stops clipping",
    );
    assert!(
        shows(&h, "too-loud"),
        "still playing the file: {:?}",
        h.state().model().input.status
    );
}
