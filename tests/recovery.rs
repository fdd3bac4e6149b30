//! Recording that cannot be lost (issue 5): a live session killed at any moment (SIGKILL, as a
//! power loss or crash would stop it) is found at the next start, repaired and reported; long
//! sessions roll over into WAV parts that are each valid; what is not a session is refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{attune, interrupted_session, json};

/// The demo session's rate: 16-bit mono at 16 kHz is 32 000 bytes a second.
const BYTES_PER_SEC: f64 = 32_000.0;

/// A child that is killed however the test ends.
struct Running(Child);

impl Running {
    /// SIGKILL, then reap it (a zombie would still look like a running recorder).
    fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_recording(args: &[&str], data_dir: &Path) -> Running {
    Running(
        attune()
            .args([
                "live",
                "--headless",
                "--demo",
                "--loop",
                "--duration",
                "120",
            ])
            .args(args)
            .env("ATTUNE_DATA_DIR", data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Polls `what` every 50 ms until it holds; panics after `secs`.
fn wait_until(secs: f64, why: &str, mut what: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < until {
        if what() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("not within {secs} s: {why}");
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Seconds of audio in a part as its length says (44-byte header).
fn secs_on_disk(path: &Path) -> f64 {
    len(path).saturating_sub(44) as f64 / BYTES_PER_SEC
}

/// Seconds of audio in a part as its header says (hound must open it).
fn wav_secs(path: &Path) -> f64 {
    let wav = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    wav.duration() as f64 / f64::from(wav.spec().sample_rate)
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn parts(dir: &Path) -> Vec<PathBuf> {
    let mut v = vec![dir.join("audio.wav")];
    let mut n = 2;
    while dir.join(format!("audio.part{n}.wav")).exists() {
        v.push(dir.join(format!("audio.part{n}.wav")));
        n += 1;
    }
    v
}

fn lines(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

/// Every line of the log parses; returns them.
fn events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

#[cfg(unix)]
fn assert_owner_only(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}: {mode:o}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", entry.path().display());
    }
}

/// The analysis files `attune analyze` writes, covering `secs` of audio.
fn assert_analysis_covers(dir: &Path, secs: f64) {
    for f in ["session.onsets.csv", "session.segments.csv"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let f0 = std::fs::read_to_string(dir.join("session.f0.csv")).unwrap();
    let last: f64 = f0
        .lines()
        .last()
        .and_then(|l| l.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert!((last - secs).abs() < 0.1, "f0 up to {last} s of {secs} s");
    let summary = json(&dir.join("session.summary.json"));
    let d = summary["statistics"]["duration_s"].as_f64().unwrap();
    assert!((d - secs).abs() < 0.01, "summary {d} s, audio {secs} s");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_session_killed_while_recording_is_repaired_and_reported_at_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let mut child = spawn_recording(&["--participant", "P03"], tmp.path());

    // Recording: at least 4 s of audio on disk and events in the log.
    let mut dir = PathBuf::new();
    wait_until(60.0, "4 s of audio and some events", || {
        if let Some(d) = subdirs(&sessions).first() {
            dir = d.clone();
        }
        secs_on_disk(&dir.join("audio.wav")) >= 4.0 && lines(&dir.join("events.jsonl")) > 0
    });
    assert!(
        dir.file_name().unwrap().to_string_lossy().ends_with("-P03"),
        "{}",
        dir.display()
    );
    std::thread::sleep(Duration::from_secs(1));
    let before_secs = secs_on_disk(&dir.join("audio.wav"));
    child.kill();

    // Interrupted: the marker is still there, naming the killed process.
    let marker = json(&dir.join("RECORDING"));
    assert_eq!(marker["pid"].as_u64(), Some(u64::from(child.0.id())));

    // The next start repairs it and says so, then records its own session.
    let out = attune()
        .args(["live", "--headless", "--demo", "--duration", "1"])
        .env("ATTUNE_DATA_DIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let said = format!(
        "attune: recovered the interrupted session {}",
        dir.display()
    );
    assert!(stderr.contains(&said), "{stderr}");
    assert!(stderr.contains(" of audio)"), "{stderr}");
    assert!(!dir.join("RECORDING").exists());

    // At most about a second is lost: the audio is what was on disk at the kill (and what
    // was written in the instant after the measurement), a valid WAV.
    let secs = wav_secs(&dir.join("audio.wav"));
    assert!(
        secs >= before_secs - 0.001 && secs - before_secs <= 1.5,
        "{secs} s recovered, {before_secs} s on disk before the kill"
    );
    // The log parses line by line; it ends with the recovery; its events reach the audio's end
    // within about a second (the analysis delay and the last flush).
    let log = events(&dir);
    let (last, kept) = log.split_last().unwrap();
    assert_eq!(last["type"], "recovered");
    let last_t = kept.last().unwrap()["t_s"].as_f64().unwrap();
    assert!(
        (secs - last_t).abs() <= 1.5,
        "log to {last_t} s, audio {secs} s"
    );
    assert!(kept.iter().any(|l| l["type"] == "pitch"));

    // The analysis files are made from the recovered audio; the metadata says what happened.
    assert_analysis_covers(&dir, secs);
    let meta = json(&dir.join("session.json"));
    assert_eq!(meta["participant"], "P03");
    let rec = &meta["recovered"];
    assert!(
        (rec["audio_s"].as_f64().unwrap() - secs).abs() < 0.01,
        "{rec}"
    );
    assert_eq!(
        rec["events_kept"].as_u64(),
        Some(kept.len() as u64),
        "{rec}"
    );
    assert!(rec["bytes_dropped"].as_u64().is_some(), "{rec}");
    assert!(rec["recovered_utc"].as_str().is_some(), "{rec}");

    // The second run's own session is complete, and everything is the owner's only.
    let all = subdirs(&sessions);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(!all[1].join("RECORDING").exists());
    assert!(wav_secs(&all[1].join("audio.wav")) > 0.5);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sessions).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "sessions folder {mode:o}");
        for d in &all {
            assert_owner_only(d);
        }
    }

    // Nothing is left to recover.
    let out = attune()
        .arg("recover")
        .env("ATTUNE_DATA_DIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("no interrupted sessions"), "{stdout}");
}

#[test]
fn long_sessions_roll_over_into_valid_wav_parts_and_a_kill_across_parts_is_recovered() {
    let tmp = tempfile::tempdir().unwrap();

    // A clean run with 2 s parts (64 000 bytes of audio each): every part a valid WAV, the
    // parts together the whole recording.
    let clean = tmp.path().join("clean");
    let out = attune()
        .args(["live", "--headless", "--demo", "--duration", "5"])
        .args(["--wav-part-bytes", "64044", "--session-dir"])
        .arg(&clean)
        .env("ATTUNE_DATA_DIR", tmp.path().join("data"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let found = parts(&clean);
    assert!(found.len() >= 3, "{found:?}");
    let secs: Vec<f64> = found.iter().map(|p| wav_secs(p)).collect();
    for s in &secs[..secs.len() - 1] {
        assert!((s - 2.0).abs() < 1e-9, "{secs:?}");
    }
    let total: f64 = secs.iter().sum();
    let summary = json(&clean.join("live.summary.json"));
    let recorded = summary["recorded_audio_s"].as_f64().unwrap();
    assert!(
        (total - recorded).abs() < 0.002,
        "{total} s in parts, {recorded} s recorded"
    );
    assert!(!clean.join("RECORDING").exists());

    // Killed with 1 s parts: every part is repaired and the analysis reads them all in order.
    let dir = tmp.path().join("killed");
    let mut child = spawn_recording(
        &[
            "--wav-part-bytes",
            "32044",
            "--session-dir",
            dir.to_str().unwrap(),
        ],
        &tmp.path().join("data"),
    );
    wait_until(60.0, "4 parts and some events", || {
        parts(&dir).len() >= 4 && lines(&dir.join("events.jsonl")) > 0
    });
    std::thread::sleep(Duration::from_secs(1));
    let before: f64 = parts(&dir).iter().map(|p| secs_on_disk(p)).sum();
    child.kill();
    assert!(dir.join("RECORDING").exists());

    let out = attune().arg("recover").arg(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("recovered {}", dir.display())),
        "{stdout}"
    );
    let found = parts(&dir);
    let secs: Vec<f64> = found.iter().map(|p| wav_secs(p)).collect();
    for s in &secs[..secs.len() - 1] {
        assert!((s - 1.0).abs() < 1e-9, "{secs:?}");
    }
    let total: f64 = secs.iter().sum();
    assert!(
        total >= before - 0.001 && total - before <= 1.5,
        "{total} s recovered, {before} s on disk before the kill"
    );
    assert_analysis_covers(&dir, total);
    let meta = json(&dir.join("session.json"));
    assert_eq!(
        meta["recovered"]["audio_parts"].as_u64(),
        Some(found.len() as u64)
    );
    assert!(events(&dir).last().unwrap()["type"] == "recovered");
    assert!(!dir.join("RECORDING").exists());
    #[cfg(unix)]
    assert_owner_only(&dir);
}

#[test]
fn recover_refuses_what_is_not_a_session_and_leaves_a_broken_session_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("photos");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("notes.txt"), "hello").unwrap();
    let out = attune().arg("recover").arg(&plain).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{} is not a session folder", plain.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = attune()
        .arg("recover")
        .arg(tmp.path().join("nowhere"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no such folder"), "{stderr}");

    // An interrupted session (its process gone) whose audio is not a WAV file: reported, and
    // left exactly as it was.
    let broken = tmp.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let marker = format!(
        "{{\"pid\":{},\"started_utc\":\"2026-01-01T00:00:00Z\"}}\n",
        gone.id()
    );
    std::fs::write(broken.join("RECORDING"), &marker).unwrap();
    std::fs::write(broken.join("session.json"), "{\"settings\":{}}\n").unwrap();
    std::fs::write(
        broken.join("audio.wav"),
        "not audio, a text file of some length",
    )
    .unwrap();
    std::fs::write(broken.join("events.jsonl"), "{\"t_s\":0.1}\n{\"t_s\":0.2,").unwrap();
    let out = attune().arg("recover").arg(tmp.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot recover {}", broken.display()))
            && stderr.contains("is not a WAV file that can be repaired")
            && stderr.contains("left as it was"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(broken.join("RECORDING")).unwrap(),
        marker
    );
    assert_eq!(
        std::fs::read_to_string(broken.join("events.jsonl")).unwrap(),
        "{\"t_s\":0.1}\n{\"t_s\":0.2,"
    );
}

/// `recover_interrupted` under `root` repairs the one session `dir` (1.5 s of audio) and says so.
fn assert_recovers_in_plain_words(root: &Path, dir: &Path) {
    let notices = attune::session::recovery::recover_interrupted(root);
    assert_eq!(
        notices,
        vec![format!(
            "recovered the interrupted session {} (0:02 of audio)",
            dir.display()
        )]
    );
}

#[test]
fn recover_interrupted_repairs_a_session_and_says_so_in_plain_words() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("20260101-000000-P09");
    interrupted_session(&dir);
    assert_eq!(
        attune::session::recovery::find_interrupted(tmp.path()),
        vec![dir.clone()]
    );
    assert_recovers_in_plain_words(tmp.path(), &dir);
    assert!((wav_secs(&dir.join("audio.wav")) - 1.5).abs() < 1e-9);
    let log = events(&dir);
    assert_eq!(log.len(), 3);
    assert_eq!(log[2]["type"], "recovered");
    assert_eq!(log[2]["bytes_dropped"].as_u64(), Some(10));
    assert_analysis_covers(&dir, 1.5);
    let meta = json(&dir.join("session.json"));
    assert_eq!(meta["participant"], "P09");
    assert_eq!(meta["recovered"]["events_kept"].as_u64(), Some(2));
    assert!(attune::session::recovery::find_interrupted(tmp.path()).is_empty());
    // A running recorder's session (this test process) is never touched.
    let live = tmp.path().join("live");
    interrupted_session(&live);
    std::fs::write(
        live.join("RECORDING"),
        format!("{{\"pid\":{},\"started_utc\":\"x\"}}", std::process::id()),
    )
    .unwrap();
    assert!(attune::session::recovery::find_interrupted(tmp.path()).is_empty());
}

#[test]
fn the_window_repairs_an_interrupted_session_when_it_opens_and_says_so() {
    use egui_kittest::kittest::Queryable;
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let dir = sessions.join("20260101-000000-P09");
    interrupted_session(&dir);
    let options = attune::app::AppOptions {
        store: attune::app::settings::SettingsStore::in_dir(tmp.path()),
        input: Some(attune::live::InputChoice::Demo),
        route: attune::audio::capture::ChannelRoute::Downmix,
        sessions_dir: Some(sessions.clone()),
        record_playback: false,
        voices: None,
    };
    let mut h = egui_kittest::Harness::builder()
        .with_size([1180.0, 720.0])
        .build_eframe(move |cc| attune::app::AttuneApp::new(&cc.egui_ctx, options));
    // The repair runs on a thread of its own: the window opens at once and says it when done.
    let said = format!("Recovered the interrupted session {}", dir.display());
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.query_all_by_label_contains(&said).next().is_none() {
        assert!(std::time::Instant::now() < until, "no notice: {said}");
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!dir.join("RECORDING").exists());
    assert!(dir.join("session.summary.json").is_file());
}

#[test]
fn a_session_killed_as_it_starts_is_recovered_too_and_a_recorded_folder_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("early");
    let mut child = spawn_recording(&["--session-dir", dir.to_str().unwrap()], tmp.path());
    // Killed the moment the folder is there: maybe before any audio reached the disk.
    wait_until(30.0, "the RECORDING marker", || {
        dir.join("RECORDING").exists()
    });
    child.kill();
    let out = attune().arg("recover").arg(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("recovered"), "{stdout}");
    assert!(!dir.join("RECORDING").exists());
    if dir.join("audio.wav").exists() {
        wav_secs(&dir.join("audio.wav"));
    }
    assert_eq!(events(&dir).last().unwrap()["type"], "recovered");
    assert!(dir.join("session.summary.json").is_file());

    // Recording into that folder again would overwrite it: refused.
    let out = common::headless_demo(1.0, 1.0)
        .arg("--session-dir")
        .arg(&dir)
        .env("ATTUNE_DATA_DIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already holds a recorded session"),
        "{stderr}"
    );
    assert_eq!(events(&dir).last().unwrap()["type"], "recovered");
}

#[test]
fn a_repair_stopped_part_way_does_not_claim_to_have_left_the_session_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("20260101-000000-P09");
    interrupted_session(&dir);
    // A folder where the remade analysis must go: the WAV header is mended, then this stops it.
    std::fs::create_dir_all(dir.join("session.f0.csv")).unwrap();
    let notices = attune::session::recovery::recover_interrupted(tmp.path());
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].contains("stopped part-way") && !notices[0].contains("left as it was"),
        "{}",
        notices[0]
    );
    // What was done is done right: the audio is whole, and a second run finishes the rest.
    assert!((wav_secs(&dir.join("audio.wav")) - 1.5).abs() < 1e-9);
    std::fs::remove_dir(dir.join("session.f0.csv")).unwrap();
    assert_recovers_in_plain_words(tmp.path(), &dir);
    assert_analysis_covers(&dir, 1.5);
}
