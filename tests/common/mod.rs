//! Synthetic signals with known answers, shared by the integration tests.
#![allow(dead_code)]

use std::f64::consts::PI;
use std::path::Path;
use std::process::Command;

/// The attune binary built for these tests.
pub fn attune() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attune"))
}

/// Reads and parses a JSON file, naming it when that fails.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A deterministic xorshift noise source (no rand crate needed).
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// A voice-like tone: harmonics with 1/h amplitudes up to 7 kHz, following `f0_hz(t)` (t in s
/// from the tone start), with linear attack and release, at `peak` amplitude.
pub fn voice(
    rate: u32,
    secs: f64,
    peak: f64,
    attack: f64,
    release: f64,
    f0_hz: impl Fn(f64) -> f64,
) -> Vec<f64> {
    let n = (secs * f64::from(rate)) as usize;
    let mut phase = 0.0f64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let f = f0_hz(t);
        phase += 2.0 * PI * f / f64::from(rate);
        let env = (t / attack).min(1.0).min((secs - t) / release).max(0.0);
        let mut v = 0.0;
        let mut h = 1.0;
        while h * f < 7_000.0_f64.min(0.45 * f64::from(rate)) && h <= 15.0 {
            v += (h * phase).sin() / h;
            h += 1.0;
        }
        out.push(peak * env * v / 1.6);
    }
    out
}

/// A recording: background noise at `floor` amplitude with `parts` added at their start times.
pub fn scene(rate: u32, secs: f64, floor: f64, parts: &[(f64, Vec<f64>)], seed: u64) -> Vec<f32> {
    let n = (secs * f64::from(rate)) as usize;
    let mut noise = Noise::new(seed);
    let mut x: Vec<f64> = (0..n).map(|_| floor * noise.next()).collect();
    for (start, part) in parts {
        let s = (start * f64::from(rate)) as usize;
        for (i, v) in part.iter().enumerate() {
            if let Some(d) = x.get_mut(s + i) {
                *d += v;
            }
        }
    }
    x.into_iter().map(|v| v as f32).collect()
}

/// A noise burst (a breath: `decay` long, or a clap/knock when short) at `peak` amplitude.
pub fn burst(rate: u32, secs: f64, peak: f64, decay: f64, seed: u64) -> Vec<f64> {
    let mut noise = Noise::new(seed);
    let n = (secs * f64::from(rate)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            peak * (-t / decay).exp() * noise.next()
        })
        .collect()
}

/// Semitone distance in cents.
pub fn cents(a: f64, b: f64) -> f64 {
    1200.0 * (a / b).log2()
}

/// A CSV file's numeric columns (header skipped).
pub fn read_csv(path: &std::path::Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|x| x.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect()
}

/// The demo session's true f0 every 10 ms, both voices (0 = unvoiced).
pub fn demo_f0_truth() -> Vec<f64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let user = read_csv(&dir.join("demo_session.f0.csv"));
    let partner = read_csv(&dir.join("demo_session.partner.f0.csv"));
    user.iter()
        .zip(&partner)
        .map(|(u, p)| u[1].max(p[1]))
        .collect()
}

/// The demo session's true onsets (s).
pub fn demo_onsets_truth() -> Vec<f64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    read_csv(&dir.join("demo_session.onsets.csv"))
        .iter()
        .map(|r| r[0])
        .collect()
}

/// Raw pitch accuracy: of the truth's voiced frames in `[from_s, to_s)`, the fraction whose
/// estimate (`time_s,f0_hz` rows; the truth's time t is looked up at t + `offset_s`) is voiced
/// and within 50 cents.
pub fn raw_pitch_accuracy(
    truth: &[f64],
    est: &[Vec<f64>],
    offset_s: f64,
    from_s: f64,
    to_s: f64,
) -> f64 {
    let (mut voiced, mut hit) = (0usize, 0usize);
    for (i, &f) in truth.iter().enumerate() {
        let t = i as f64 * 0.01;
        if f <= 0.0 || t < from_s || t >= to_s {
            continue;
        }
        voiced += 1;
        let j = ((t + offset_s) / 0.01).round();
        if j < 0.0 {
            continue;
        }
        if let Some(row) = est.get(j as usize) {
            if row[1] > 0.0 && cents(row[1], f).abs() <= 50.0 {
                hit += 1;
            }
        }
    }
    hit as f64 / voiced.max(1) as f64
}

/// Onset F-measure with ±`tol_s`, each truth onset matched at most once; truth onsets in
/// `[from_s, to_s)` only, estimates shifted back by `offset_s`.
pub fn onset_f_measure(
    truth: &[f64],
    est: &[f64],
    offset_s: f64,
    from_s: f64,
    to_s: f64,
    tol_s: f64,
) -> f64 {
    let truth: Vec<f64> = truth
        .iter()
        .copied()
        .filter(|&t| t >= from_s && t < to_s)
        .collect();
    let est: Vec<f64> = est
        .iter()
        .map(|&e| e - offset_s)
        .filter(|&e| e >= from_s - tol_s && e < to_s)
        .collect();
    let mut used = vec![false; est.len()];
    let mut matched = 0usize;
    for &t in &truth {
        if let Some(k) = (0..est.len()).find(|&k| !used[k] && (est[k] - t).abs() <= tol_s) {
            used[k] = true;
            matched += 1;
        }
    }
    let p = matched as f64 / est.len().max(1) as f64;
    let r = matched as f64 / truth.len().max(1) as f64;
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Writes 16-bit PCM WAV with one channel per vector.
pub fn write_wav(path: &std::path::Path, rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for ch in channels {
            w.write_sample((ch[i].clamp(-1.0, 1.0) * 32767.0) as i16)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Runs an attune command to its end; fails the test with its error output unless it succeeds.
pub fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A small interrupted session as a killed recorder leaves it: 1.5 s of a tone in audio.wav
/// whose header still says 0 bytes, a log cut mid-line, the marker of a finished process.
pub fn interrupted_session(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(dir.join("audio.wav"), spec).unwrap();
    for i in 0..24_000 {
        let t = f64::from(i) / 16_000.0;
        w.write_sample((8000.0 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
    let mut bytes = std::fs::read(dir.join("audio.wav")).unwrap();
    bytes[4..8].copy_from_slice(&36u32.to_le_bytes());
    bytes[40..44].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(dir.join("audio.wav"), bytes).unwrap();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    std::fs::write(
        dir.join("RECORDING"),
        format!(
            "{{\"pid\":{},\"started_utc\":\"2026-01-01T00:00:00Z\"}}",
            gone.id()
        ),
    )
    .unwrap();
    let settings = serde_json::to_string(&attune::config::AnalysisConfig::live()).unwrap();
    std::fs::write(
        dir.join("session.json"),
        format!("{{\"participant\":\"P09\",\"settings\":{settings}}}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("events.jsonl"),
        "{\"t_s\":0.0,\"type\":\"input_status\"}\n{\"t_s\":0.5,\"type\":\"onset\"}\n{\"t_s\":0.6",
    )
    .unwrap();
    std::fs::write(dir.join("session.f0.csv.partial"), "time_s,f0").unwrap();
}

/// The arguments of `attune live --headless --demo` played `speed` times faster than real time
/// for `duration_s` seconds (a `--session-dir` or other options follow).
pub fn headless_demo_args(speed: f64, duration_s: f64) -> Vec<String> {
    ["live", "--headless", "--demo", "--speed"]
        .iter()
        .map(|s| s.to_string())
        .chain([
            speed.to_string(),
            "--duration".into(),
            duration_s.to_string(),
        ])
        .collect()
}

/// `attune live --headless --demo` (see [`headless_demo_args`]).
pub fn headless_demo(speed: f64, duration_s: f64) -> Command {
    let mut cmd = attune();
    cmd.args(headless_demo_args(speed, duration_s));
    cmd
}
