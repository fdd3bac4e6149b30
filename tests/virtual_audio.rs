//! End to end through a real cpal input device, on a machine without a sound card: PulseAudio
//! with a null sink (`../shared/env/virtual-audio.sh`) gives ALSA's `default` input. The demo
//! session is played into it while `attune live --headless` records; what comes out is checked
//! against the demo's ground truth. Then the audio server is killed (the device is lost) and
//! started again (the device returns): the session records the loss, keeps what it had and
//! reconnects.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{demo_f0_truth, demo_onsets_truth, onset_f_measure, raw_pitch_accuracy, read_csv};

fn script() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/env/virtual-audio.sh");
    assert!(
        p.exists(),
        "{} is needed for the end-to-end device test",
        p.display()
    );
    p
}

fn virtual_audio(xdg: &Path, args: &[&str]) {
    let status = Command::new("bash")
        .arg(script())
        .args(args)
        .env("XDG_RUNTIME_DIR", xdg)
        .status()
        .unwrap();
    assert!(status.success(), "virtual-audio.sh {args:?} failed");
}

/// 10 ms RMS levels (dB, floored at -60) of a WAV file's first channel.
fn envelope_db(path: &Path) -> Vec<f64> {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let hop = (spec.sample_rate / 100) as usize;
    let ch = spec.channels as usize;
    let samples: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Int => r
            .samples::<i32>()
            .step_by(ch)
            .map(|s| f64::from(s.unwrap()) / f64::from(1u32 << (spec.bits_per_sample - 1)))
            .collect(),
        hound::SampleFormat::Float => r
            .samples::<f32>()
            .step_by(ch)
            .map(|s| f64::from(s.unwrap()))
            .collect(),
    };
    samples
        .chunks(hop)
        .map(|c| {
            let p = c.iter().map(|x| x * x).sum::<f64>() / c.len() as f64;
            (10.0 * (p + 1e-12).log10()).max(-60.0)
        })
        .collect()
}

/// Where the demo starts in the recording (s): the lag that best correlates the envelopes.
fn demo_offset_secs(recording: &Path) -> f64 {
    let demo = envelope_db(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo_session.wav"));
    let rec = envelope_db(recording);
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
    let (dm, rm) = (mean(&demo), mean(&rec));
    let mut best = (f64::MIN, 0usize);
    for lag in 0..rec.len().saturating_sub(demo.len() / 2) {
        let n = demo.len().min(rec.len() - lag);
        let c: f64 = (0..n)
            .map(|i| (demo[i] - dm) * (rec[lag + i] - rm))
            .sum::<f64>()
            / n as f64;
        if c > best.0 {
            best = (c, lag);
        }
    }
    best.1 as f64 * 0.01
}

/// The tests here share one audio server: one at a time.
static SERVER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn xdg_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-virtual-audio")
}

#[test]
fn a_real_input_device_records_the_demo_survives_its_loss_and_reconnects() {
    let _server = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let xdg = xdg_dir();
    std::fs::create_dir_all(&xdg).unwrap();
    virtual_audio(&xdg, &["start"]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("session");
    let mut child = Command::new(env!("CARGO_BIN_EXE_attune"))
        .args([
            "live",
            "--headless",
            "--duration",
            "56",
            "--participant",
            "P01",
        ])
        .arg("--session-dir")
        .arg(&dir)
        .env("XDG_RUNTIME_DIR", &xdg)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait for frames to arrive (the first samples come 1-2 s after the stream starts).
    let log = dir.join("events.jsonl");
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("\"type\":\"pitch\"") {
            break;
        }
        assert!(Instant::now() < until, "no frames from the device: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Play the demo into the device (this takes its 40.5 s).
    virtual_audio(
        &xdg,
        &[
            "play",
            concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo_session.wav"),
        ],
    );
    // The device goes away (as an unplugged USB microphone does), then comes back.
    std::thread::sleep(Duration::from_millis(500));
    virtual_audio(&xdg, &["stop"]);
    std::thread::sleep(Duration::from_secs(3));
    virtual_audio(&xdg, &["start"]);

    let stderr = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect::<Vec<_>>()
        .join("\n");
    let status = child.wait().unwrap();
    virtual_audio(&xdg, &["stop"]);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("capturing from"), "{stderr}");
    assert!(stderr.contains("lost"), "the loss is reported: {stderr}");
    assert!(
        stderr.matches("capturing from").count() >= 2,
        "it reconnected: {stderr}"
    );

    // The loss and the return are in the session's log; the recording kept the demo.
    let events = std::fs::read_to_string(&log).unwrap();
    assert!(events.contains("\"status\":\"lost\""));
    let wav = hound::WavReader::open(dir.join("audio.wav")).unwrap();
    let secs = wav.duration() as f64 / f64::from(wav.spec().sample_rate);
    assert!(secs >= 41.0, "{secs} s recorded");

    // What the pipeline heard through the device matches the demo's truth.
    let offset = demo_offset_secs(&dir.join("audio.wav"));
    let f0 = read_csv(&dir.join("session.f0.csv"));
    let rpa = raw_pitch_accuracy(&demo_f0_truth(), &f0, offset, 0.0, 40.5);
    assert!(
        rpa >= 0.85,
        "pitch accuracy through the device {rpa:.3} (offset {offset:.2} s)"
    );
    let onsets: Vec<f64> = read_csv(&dir.join("session.onsets.csv"))
        .iter()
        .map(|r| r[0])
        .collect();
    let f = onset_f_measure(&demo_onsets_truth(), &onsets, offset, 0.0, 40.5, 0.05);
    assert!(
        f >= 0.75,
        "onsets F through the device {f:.2} (offset {offset:.2} s)"
    );

    // Latency was measured from the device's capture time stamps.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("live.summary.json")).unwrap())
            .unwrap();
    let lat = &summary["latency_sound_to_pitch_ms"];
    assert!(lat["count"].as_u64().unwrap() > 3000, "{lat}");
    assert!(lat["p50_ms"].as_f64().unwrap() >= summary["analysis_delay_ms"].as_f64().unwrap());
}

#[test]
fn the_window_shows_a_lost_device_calmly_and_reconnects() {
    use attune::app::settings::SettingsStore;
    use attune::app::{AppOptions, AttuneApp};
    use attune::audio::capture::ChannelRoute;
    use egui_kittest::kittest::Queryable;
    use egui_kittest::Harness;

    let _server = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let xdg = xdg_dir();
    std::fs::create_dir_all(&xdg).unwrap();
    virtual_audio(&xdg, &["start"]);
    // cpal (ALSA's pulse plugin) finds the server through this process's environment.
    std::env::set_var("XDG_RUNTIME_DIR", &xdg);
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let options = AppOptions {
        store: SettingsStore::in_dir(tmp.path()),
        input: None,
        route: ChannelRoute::Downmix,
        sessions_dir: Some(sessions.clone()),
        record_playback: false,
        voices: None,
    };
    let mut h: Harness<'static, AttuneApp> = Harness::builder()
        .with_size([1180.0, 720.0])
        .build_eframe(move |cc| AttuneApp::new(&cc.egui_ctx, options));
    let wait_for = |h: &mut Harness<'static, AttuneApp>, text: &str, secs: u64| {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            h.step();
            if h.query_all_by_label_contains(text).next().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!("{text:?} not shown within {secs} s");
    };
    wait_for(&mut h, "Default Audio Device · 16000 Hz", 15);
    wait_for(&mut h, "REC", 2);
    // Audio arrives 1-2 s after the stream starts: wait for the analysis clock to move.
    let until = Instant::now() + Duration::from_secs(15);
    while h.state().model().now_secs < 2.0 {
        assert!(Instant::now() < until, "no audio from the device");
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    // Unplugged: the window says so, and that the recording is kept.
    virtual_audio(&xdg, &["stop"]);
    wait_for(&mut h, "What was recorded is kept; reconnecting", 10);
    // Back: the notice goes and the device is in the status line again.
    virtual_audio(&xdg, &["start"]);
    wait_for(&mut h, "Default Audio Device · 16000 Hz", 15);
    assert!(h
        .query_all_by_label_contains("reconnecting")
        .next()
        .is_none());
    let dir = h
        .state()
        .recording_to()
        .cloned()
        .expect("recording into a session folder");
    drop(h);
    virtual_audio(&xdg, &["stop"]);
    // The session folder holds the recording and the loss.
    let listing: Vec<_> = walk(&sessions);
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the sessions folder holds {listing:?}",
            dir.display()
        )
    });
    assert!(events.contains("\"status\":\"lost\""), "{events:.300}");
    assert!(
        hound::WavReader::open(dir.join("audio.wav"))
            .unwrap()
            .duration()
            > 0
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

#[test]
fn review_playback_plays_a_vocalisation_through_a_real_output_device() {
    use attune::audio::output::Playback;
    use std::sync::Arc;

    let _server = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let xdg = xdg_dir();
    std::fs::create_dir_all(&xdg).unwrap();
    virtual_audio(&xdg, &["start"]);
    std::env::set_var("XDG_RUNTIME_DIR", &xdg);
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo_session.wav");
    let model = attune::session::model::SessionModel::load(&demo, &Default::default()).unwrap();
    let audio: Arc<[f32]> = model.read_audio_16k().unwrap().into();
    let seg = model.segments[0].vocalisation;
    let (a, b) = (seg.start.secs(), seg.end.secs());
    let playback = Playback::open(audio).expect("the null sink takes playback");
    playback.play(a, Some(b));
    let started = Instant::now();
    let mut seen_inside = false;
    while playback.is_playing() {
        let p = playback.position_secs();
        seen_inside |= p > a + 0.05 && p < b;
        assert!(
            started.elapsed() < Duration::from_secs_f64(b - a + 5.0),
            "playback of {a:.2}-{b:.2} s did not end (at {p:.2} s)"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // In real time: no faster than the sound is long.
    assert!(
        started.elapsed().as_secs_f64() >= (b - a) * 0.8,
        "{:?}",
        started.elapsed()
    );
    assert!(seen_inside, "the cursor moved through the vocalisation");
    assert!(
        (playback.position_secs() - b).abs() < 0.05,
        "stopped at its end"
    );
    assert!(!playback.failed());
}
