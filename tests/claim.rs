//! One recorder per session folder (issue 32): two recorders on one folder give one intact
//! recording and one clear refusal; a folder that is not new or empty, or a file planted where
//! the recorder would write, is refused and left exactly as it was; new folders get distinct
//! names within one second; a repair leaves a folder whose lock is held alone.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use attune::audio::InputStatus;
use attune::config::AnalysisConfig;
use attune::session::claim::{ClaimError, SessionClaim, SessionFolder};
use attune::session::writer::{
    create_session_dir, run_writer, SessionInfo, WriterMsg, WriterOptions, WriterOutcome,
    DEFAULT_MAX_PART_BYTES,
};
use common::{attune, headless_demo, interrupted_session};

const RATE_HZ: u32 = 16_000;
/// Blocks of 0.1 s each recorder sends.
const BLOCKS: usize = 5;
const BLOCK_SAMPLES: usize = 1600;

fn info(participant: &str) -> SessionInfo {
    SessionInfo {
        participant: participant.into(),
        partner: "partner".into(),
        started_utc: "2026-01-01T00:00:00Z".into(),
        input: "test".into(),
        settings: AnalysisConfig::live().of_record(),
        tool: "attune",
        version: "test",
    }
}

/// Claims `folder` and records `BLOCKS` blocks of the constant `level` and as many status lines,
/// after `both_tried` (so the two recorders overlap); or the refusal.
fn record(
    folder: &SessionFolder,
    level: f32,
    start: &Barrier,
    both_tried: &Barrier,
) -> Result<WriterOutcome, ClaimError> {
    start.wait();
    let claimed = create_session_dir(folder, &info("P01"));
    both_tried.wait();
    let claim = claimed?;
    let (tx, rx) = crossbeam_channel::bounded(64);
    let options = WriterOptions {
        dir: claim.dir().to_path_buf(),
        input_name: "test".into(),
        config: AnalysisConfig::live().of_record(),
        discard_if_empty: false,
        max_part_bytes: DEFAULT_MAX_PART_BYTES,
    };
    let writer = std::thread::spawn(move || run_writer(options, claim, rx, |_| {}));
    for i in 0..BLOCKS {
        tx.send(WriterMsg::Audio {
            rate_hz: RATE_HZ,
            samples: vec![level; BLOCK_SAMPLES],
        })
        .unwrap();
        tx.send(WriterMsg::Status {
            time: attune::time::SampleTime((i * BLOCK_SAMPLES) as u64),
            status: InputStatus::Connected {
                name: format!("recorder {level}"),
                rate_hz: RATE_HZ,
                channels: 1,
                playback: true,
            },
        })
        .unwrap();
    }
    drop(tx);
    Ok(writer.join().unwrap())
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

/// Every file of a folder with its bytes and mode, and the folder's mode.
fn snapshot(dir: &Path) -> (u32, BTreeMap<String, (Vec<u8>, u32)>) {
    let files = names(dir)
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let bytes = if meta.file_type().is_symlink() {
                std::fs::read_link(&p)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
                    .into_bytes()
            } else {
                std::fs::read(&p).unwrap()
            };
            (n, (bytes, meta.permissions().mode()))
        })
        .collect();
    (
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o7777,
        files,
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn two_recorders_on_one_folder_give_one_intact_recording_and_one_clear_refusal_50_times() {
    let tmp = tempfile::tempdir().unwrap();
    for trial in 0..50 {
        let dir = tmp.path().join(format!("trial-{trial}"));
        if trial % 2 == 1 {
            // An empty folder made beforehand is accepted, as a new one is.
            std::fs::create_dir(&dir).unwrap();
        }
        let folder = SessionFolder::Given(dir.clone());
        let start = Arc::new(Barrier::new(2));
        let both_tried = Arc::new(Barrier::new(2));
        let threads: Vec<_> = [0.25f32, -0.5]
            .into_iter()
            .map(|level| {
                let (folder, start, both_tried) =
                    (folder.clone(), Arc::clone(&start), Arc::clone(&both_tried));
                std::thread::spawn(move || (level, record(&folder, level, &start, &both_tried)))
            })
            .collect();
        let results: Vec<(f32, Result<WriterOutcome, ClaimError>)> =
            threads.into_iter().map(|t| t.join().unwrap()).collect();
        let recorded: Vec<&(f32, Result<_, _>)> = results.iter().filter(|r| r.1.is_ok()).collect();
        let refused: Vec<&ClaimError> = results.iter().filter_map(|r| r.1.as_ref().err()).collect();
        assert_eq!(recorded.len(), 1, "trial {trial}: {results:?}");
        assert_eq!(refused.len(), 1, "trial {trial}: {results:?}");
        let message = refused[0].to_string();
        assert!(
            matches!(refused[0], ClaimError::Busy { pid: Some(p), .. } if *p == std::process::id()),
            "trial {trial}: {message}"
        );
        assert!(
            message.contains(&format!(
                "{} is being recorded by another attune (pid {})",
                dir.display(),
                std::process::id()
            )),
            "{message}"
        );
        let (level, Ok(outcome)) = recorded[0] else {
            unreachable!()
        };
        assert_eq!(outcome.error, None, "trial {trial}");
        // The recording is the winner's alone, whole.
        let mut wav = hound::WavReader::open(dir.join("audio.wav")).unwrap();
        let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
        let expected = (level * 32767.0).round() as i16;
        assert_eq!(samples.len(), BLOCKS * BLOCK_SAMPLES, "trial {trial}");
        assert!(samples.iter().all(|&s| s == expected), "trial {trial}");
        let log = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), BLOCKS, "trial {trial}: {log}");
        assert!(lines
            .iter()
            .all(|l| l["name"] == format!("recorder {level}")));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("session.json")).unwrap())
                .unwrap();
        assert_eq!(meta["participant"], "P01");
        // A clean end: neither the marker nor the lock is left.
        let n = names(&dir);
        assert!(!n.contains(&"RECORDING".to_string()), "{n:?}");
        assert!(!n.contains(&".lock".to_string()), "{n:?}");
        assert!(
            n.iter().all(|f| !f.ends_with(".partial")),
            "trial {trial}: {n:?}"
        );
    }
}

#[test]
fn two_headless_recorders_on_one_folder_one_records_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for trial in 0..2 {
        let dir = tmp.path().join(format!("together-{trial}"));
        let spawn = || {
            headless_demo(4.0, 1.5)
                .arg("--session-dir")
                .arg(&dir)
                .env("ATTUNE_DATA_DIR", tmp.path().join("data"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let ok: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
        let refused: Vec<_> = outs.iter().filter(|o| !o.status.success()).collect();
        let said = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(
            ok.len(),
            1,
            "{:?}",
            outs.iter().map(said).collect::<Vec<_>>()
        );
        assert_eq!(refused.len(), 1);
        let stderr = said(refused[0]);
        assert_eq!(refused[0].status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("is being recorded by another attune (pid "),
            "{stderr}"
        );
        // Said once, nothing else written.
        assert_eq!(stderr.matches("being recorded").count(), 1, "{stderr}");
        let summary = common::json(&dir.join("live.summary.json"));
        assert_eq!(summary["recording_error"], serde_json::Value::Null);
        let mut wav = hound::WavReader::open(dir.join("audio.wav")).unwrap();
        let n = wav.samples::<i16>().count();
        assert!(n > 0);
        assert_eq!(u64::from(wav.duration()), n as u64);
        for line in std::fs::read_to_string(dir.join("events.jsonl"))
            .unwrap()
            .lines()
        {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}

/// `attune live --headless --session-dir DIR` for a moment; its output.
fn record_into(dir: &Path, data: &Path) -> std::process::Output {
    headless_demo(4.0, 1.0)
        .arg("--session-dir")
        .arg(dir)
        .env("ATTUNE_DATA_DIR", data)
        .output()
        .unwrap()
}

#[test]
fn a_folder_holding_the_users_own_audio_is_refused_and_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("audio.wav"), b"RIFF my own recording").unwrap();
    std::fs::set_permissions(
        dir.join("audio.wav"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let before = snapshot(&dir);
    let out = record_into(&dir, &tmp.path().join("data"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} is not empty (it holds audio.wav); attune records only into a new or empty folder",
            dir.display()
        )),
        "{stderr}"
    );
    assert_eq!(snapshot(&dir), before, "{stderr}");
    assert_eq!(mode(&dir), 0o755);
}

#[test]
fn audio_wav_planted_as_a_symbolic_link_is_refused_and_its_target_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("precious.wav");
    std::fs::write(&target, b"not to be overwritten").unwrap();
    let dir = tmp.path().join("planted");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("audio.wav")).unwrap();
    let before = snapshot(&dir);
    let out = record_into(&dir, &tmp.path().join("data"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not empty (it holds audio.wav)"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"not to be overwritten");
    assert_eq!(snapshot(&dir), before);
    // And a file the recorder creates never follows a link, even a dangling one.
    let dangling = tmp.path().join("link");
    let nowhere = tmp.path().join("nowhere");
    std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();
    for link in [&dangling, &dir.join("audio.wav")] {
        let err = attune::output::create_new_private(link).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    }
    assert!(!nowhere.exists());
    assert_eq!(std::fs::read(&target).unwrap(), b"not to be overwritten");
}

#[test]
fn new_session_folders_started_in_the_same_second_get_distinct_names_and_are_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    // Folders attune makes are 0700 whatever the umask (the test's umask is the usual 022).
    let base = tmp.path().join("data").join("sessions");
    for round in 0..10 {
        let start = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (base, start) = (base.clone(), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    SessionClaim::claim(&SessionFolder::NewUnder(base), "P 01").unwrap()
                })
            })
            .collect();
        let claims: Vec<SessionClaim> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let mut dirs: Vec<PathBuf> = claims.iter().map(|c| c.dir().to_path_buf()).collect();
        dirs.sort();
        dirs.dedup();
        assert_eq!(dirs.len(), 3, "round {round}: {dirs:?}");
        for d in &dirs {
            let name = d.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.contains("-P_01"), "{name}");
            assert_eq!(mode(d), 0o700, "{}", d.display());
            assert!(d.join(".lock").is_file());
        }
        for c in claims {
            c.abandon();
        }
        assert!(std::fs::read_dir(&base).unwrap().next().is_none());
    }
    assert_eq!(mode(&base), 0o700);
    assert_eq!(mode(base.parent().unwrap()), 0o700);
    // A given folder attune makes is 0700 too; one that was there keeps its mode.
    let given = tmp.path().join("a").join("b");
    let claim = create_session_dir(&SessionFolder::Given(given.clone()), &info("P01")).unwrap();
    assert_eq!(mode(&given), 0o700);
    assert_eq!(mode(given.parent().unwrap()), 0o700);
    assert_eq!(mode(&given.join("session.json")), 0o600);
    assert_eq!(mode(&given.join(".lock")), 0o600);
    assert_eq!(mode(&given.join("RECORDING")), 0o600);
    // A second claim on it, by this or any recorder, is refused while the first holds it.
    let again = create_session_dir(&SessionFolder::Given(given.clone()), &info("P01"));
    assert!(matches!(again, Err(ClaimError::Busy { pid: Some(p), .. }) if p == std::process::id()));
    drop(claim);
    let existing = tmp.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o750)).unwrap();
    let claim = SessionClaim::claim(&SessionFolder::Given(existing.clone()), "P01").unwrap();
    assert!(!claim.created());
    assert_eq!(mode(&existing), 0o750);
    claim.abandon();
    assert!(
        existing.is_dir(),
        "a folder that was there is never removed"
    );
}

#[test]
fn recover_leaves_a_folder_whose_lock_is_held_alone_and_says_it_is_being_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("20260101-000000-P09");
    interrupted_session(&dir);
    // A recorder holds the lock (this process), whatever the marker says.
    std::fs::write(dir.join(".lock"), format!("{}\n", std::process::id())).unwrap();
    let lock = File::open(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    let before = snapshot(&dir);
    let out = attune().arg("recover").arg(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout.trim(),
        format!(
            "{}: being recorded (process {}); left alone",
            dir.display(),
            std::process::id()
        )
    );
    let out = attune().arg("recover").arg(tmp.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("no interrupted sessions"), "{stdout}");
    assert!(attune::session::recovery::find_interrupted(tmp.path()).is_empty());
    let err = attune::session::recovery::repair(&dir).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "is still being recorded (process {})",
            std::process::id()
        )),
        "{err}"
    );
    assert_eq!(snapshot(&dir), before);
    // Once the recorder is gone, the session is repaired and the stale lock removed.
    drop(lock);
    assert_eq!(
        attune::session::recovery::find_interrupted(tmp.path()),
        vec![dir.clone()]
    );
    attune::session::recovery::repair(&dir).unwrap();
    assert!(!dir.join(".lock").exists());
    assert!(!dir.join("RECORDING").exists());
}
