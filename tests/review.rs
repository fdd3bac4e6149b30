//! The review screen as a researcher uses it: a recording opens on the timeline; relabelling,
//! removing and moving a vocalisation, and adding a marker are saved at once beside the
//! recording, every measure follows, and the corrections are there when it is opened again.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use attune::analysis::speaker::Speaker;
use attune::app::review::{ReviewState, Selection};
use attune::app::settings::{PaletteChoice, ThemeChoice};
use attune::app::theme::Palette;
use attune::session::log::DEFAULT_MARKER_CODES;
use attune::session::model::{LoadOptions, SessionModel};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn demo_copy(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("demo.wav");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo_session.wav"),
        &path,
    )
    .unwrap();
    path
}

fn harness(state: ReviewState) -> Harness<'static, ReviewState> {
    let pal = Palette::new(ThemeChoice::Dark, PaletteChoice::Calm);
    Harness::builder()
        .with_size([1280.0, 760.0])
        .build_ui_state(
            move |ui, state: &mut ReviewState| {
                state.ui(ui, &pal);
            },
            state,
        )
}

fn wait_loaded(h: &mut Harness<'static, ReviewState>) {
    let until = Instant::now() + Duration::from_secs(30);
    while h.state().loaded.is_none() && h.state().error.is_none() {
        assert!(Instant::now() < until, "the session did not load");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
    assert!(h.state().error.is_none(), "{:?}", h.state().error);
}

fn codes() -> Vec<String> {
    DEFAULT_MARKER_CODES.iter().map(|c| c.to_string()).collect()
}

#[test]
fn corrections_are_saved_at_once_every_measure_follows_and_they_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = demo_copy(tmp.path());
    let ctx = egui::Context::default();
    let state = ReviewState::open(&ctx, wav.clone(), LoadOptions::default(), codes());
    let mut h = harness(state);
    wait_loaded(&mut h);
    assert!(h
        .query_all_by_label_contains("turns (chattr)")
        .next()
        .is_some());
    let before = h.state().loaded.as_ref().unwrap().model.clone();
    assert!(before.segments.len() >= 10, "{}", before.segments.len());
    assert!(!before.turns.is_empty());

    // Label every vocalisation of the first voice "the person's" and of the second "the
    // partner's" (U / P on the selected sound), as a reviewer who knows the voices would.
    let [first, _] = before.parties();
    for i in 0..before.segments.len() {
        h.state_mut().selection = Some(Selection::Segment(i));
        h.key_press(if before.segments[i].speaker == first {
            egui::Key::U
        } else {
            egui::Key::P
        });
        h.step();
    }
    let labelled = h.state().loaded.as_ref().unwrap().model.clone();
    assert!(labelled
        .segments
        .iter()
        .all(|s| matches!(s.speaker, Speaker::User | Speaker::Partner)));
    assert_eq!(
        labelled.turns.len(),
        before.turns.len(),
        "relabelling alone keeps the turns"
    );
    assert!(labelled.report.turn_models["chattr"]
        .latency_by_direction
        .contains_key("user->partner"));

    // Remove the first vocalisation (a false detection): the measures follow.
    h.state_mut().selection = Some(Selection::Segment(0));
    h.key_press(egui::Key::Delete);
    h.step();
    let removed = h.state().loaded.as_ref().unwrap().model.clone();
    assert_eq!(removed.segments.len(), before.segments.len() - 1);

    // Move the end of a sound by 50 ms with its button.
    h.state_mut().selection = Some(Selection::Segment(0));
    h.step();
    let end0 = removed.segments[0].vocalisation.end.secs();
    h.get_by_label("end +50 ms").click();
    h.run_steps(2);
    let moved = h.state().loaded.as_ref().unwrap().model.clone();
    assert!(
        (moved.segments[0].vocalisation.end.secs() - end0 - 0.05).abs() < 0.002,
        "{} → {}",
        end0,
        moved.segments[0].vocalisation.end.secs()
    );

    // Key 1 adds a "smile" marker at the cursor.
    h.state_mut().cursor_secs = 12.5;
    h.key_press(egui::Key::Num1);
    h.step();
    assert!(h
        .query_all_by_label_contains("Corrections saved")
        .next()
        .is_some());

    // Opened again (a new run), everything is there.
    let again = SessionModel::load(&wav, &LoadOptions::default()).unwrap();
    assert!(again.corrected);
    assert_eq!(again.segments.len(), moved.segments.len());
    assert_eq!(
        again.segments.iter().map(|s| s.speaker).collect::<Vec<_>>(),
        moved.segments.iter().map(|s| s.speaker).collect::<Vec<_>>()
    );
    assert!((again.segments[0].vocalisation.end.secs() - end0 - 0.05).abs() < 0.002);
    assert_eq!(again.markers.len(), 1);
    assert_eq!(again.markers[0].code, "smile");
    assert!((again.markers[0].t_s - 12.5).abs() < 1e-9);
    assert_eq!(again.turns.len(), moved.turns.len());
}

#[test]
fn a_file_that_is_not_audio_is_said_plainly() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("notes.wav");
    std::fs::write(&bad, b"not audio at all").unwrap();
    let ctx = egui::Context::default();
    let mut h = harness(ReviewState::open(
        &ctx,
        bad,
        LoadOptions::default(),
        codes(),
    ));
    wait_loaded_or_error(&mut h);
    assert!(h
        .query_all_by_label_contains("Cannot open the session")
        .next()
        .is_some());
}

fn wait_loaded_or_error(h: &mut Harness<'static, ReviewState>) {
    let until = Instant::now() + Duration::from_secs(10);
    while h.state().is_loading() {
        assert!(Instant::now() < until);
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
}

#[test]
fn round_trip_record_review_correct_export_and_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("session");
    // Record: the demo through the live pipeline, at 10x, into a session folder.
    let out = common::headless_demo(10.0, 4.0)
        .args(["--f0-min", "70", "--f0-max", "1200"])
        .arg("--session-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("events.jsonl"))
        .and_then(|mut f| {
            use std::io::Write;
            writeln!(
                f,
                "{{\"t_s\":5.0,\"type\":\"marker\",\"code\":\"eye contact\"}}"
            )
        })
        .unwrap();

    // Review: relabel the first vocalisation as the partner's, then Export.
    let ctx = egui::Context::default();
    let mut h = harness(ReviewState::open(
        &ctx,
        dir.clone(),
        LoadOptions::default(),
        codes(),
    ));
    wait_loaded(&mut h);
    let first = h.state().loaded.as_ref().unwrap().model.segments[0];
    let was = first.speaker;
    let to = if was == Speaker::Partner {
        egui::Key::U
    } else {
        egui::Key::P
    };
    let want = if was == Speaker::Partner {
        "user"
    } else {
        "partner"
    };
    h.state_mut().selection = Some(Selection::Segment(0));
    h.key_press(to);
    h.step();
    h.get_by_label("Export").click();
    h.run_steps(2);
    assert!(
        h.query_all_by_label_contains("Exported").next().is_some(),
        "{:?}",
        h.state().notice
    );

    // The exports carry the correction and the marker.
    let exports = dir.join("exports");
    let start = format!("{:.3}", first.vocalisation.start.secs());
    let segments = std::fs::read_to_string(exports.join("session.segments.csv")).unwrap();
    let row = segments
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("{start} not in\n{segments}"));
    assert_eq!(row.split(',').nth(2), Some(want), "{row}");
    let markers = std::fs::read_to_string(exports.join("session.markers.csv")).unwrap();
    assert!(markers.contains("eye contact"), "{markers}");
    let eaf = std::fs::read_to_string(exports.join("session.eaf")).unwrap();
    assert!(eaf.contains("eye contact"));
    let rttm = std::fs::read_to_string(exports.join("session.rttm")).unwrap();
    assert!(rttm.lines().any(|l| l.contains(want)), "{rttm}");

    // Re-import: opened again, the session is the reviewed one.
    let again = SessionModel::load(&dir, &LoadOptions::default()).unwrap();
    assert!(again.corrected);
    assert_eq!(
        (again.config.f0_min_hz, again.config.f0_max_hz),
        (70.0, 1200.0),
        "analysed with the person's range it was recorded with: {}",
        std::fs::read_to_string(dir.join("session.json")).unwrap()
    );
    assert_eq!(again.segments[0].speaker.as_str(), want);
    assert_eq!(again.markers.len(), 1);
}

#[test]
fn a_session_recorded_in_several_parts_is_reviewed_on_the_clock_it_was_recorded_on() {
    // 2 s WAV parts: the demo played at four times real time fills six of them.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("parts");
    common::succeed(
        common::headless_demo(4.0, 3.0)
            .args(["--wav-part-bytes", "64044", "--session-dir"])
            .arg(&dir)
            .env("ATTUNE_DATA_DIR", tmp.path().join("data")),
    );
    assert!(dir.join("audio.part4.wav").is_file(), "too few parts");

    // Review reads the parts as one recording, as they were recorded and analysed: every
    // pitch frame is the one the recording wrote, across the joins too.
    let options = LoadOptions::default();
    let model = SessionModel::load(&dir, &options).unwrap();
    let text = std::fs::read_to_string(dir.join("session.f0.csv")).unwrap();
    let written: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let frames = &model.tracks[0].frames;
    assert!(written.len() > 900, "{} frames written", written.len());
    assert!(
        frames.len().abs_diff(written.len()) <= 1,
        "{} vs {}",
        frames.len(),
        written.len()
    );
    let differ: Vec<usize> = written
        .iter()
        .zip(frames)
        .enumerate()
        .filter(|(_, (w, f))| (f64::from(f.f0_hz.unwrap_or(0.0)) - **w).abs() > 0.006)
        .map(|(k, _)| k)
        .collect();
    assert!(
        differ.is_empty(),
        "frames {differ:?} differ from the recording's"
    );
    let wav_secs: f64 = (1..=8)
        .map(attune::session::folder::part_name)
        .filter_map(|name| hound::WavReader::open(dir.join(name)).ok())
        .map(|r| f64::from(r.duration()) / f64::from(r.spec().sample_rate))
        .sum();
    assert!(
        (model.duration_secs - wav_secs).abs() < 1e-6,
        "{} s",
        model.duration_secs
    );
}
