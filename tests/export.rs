//! `attune export`: every format written from a two-voice session folder (the bundled demo
//! with markers and a wrap-up) and opened in a real reader — Praat (praat-parselmouth) for the
//! TextGrid, pympi-ling and ELAN's published schema EAFv3.0.xsd (xmlschema) for the EAF,
//! Python's csv module for the CSV files — a reviewer's correction found again in every
//! export, bad input, and the corpus summary of `attune analyze`.
//!
//! The Python readers live in `target/pyenv` (`scripts/python-env.sh` makes it). Without
//! python3 these tests print a notice and pass, except on CI (`CI` set), where they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::attune;

use attune::analysis::speaker::Speaker;
use attune::session::model::{LoadOptions, SessionModel};

const NOTE: &str = "copied the \"ba\", then laughed,\nthen a long hum";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python with the readers, made once per test run; `None` (with a notice) when
/// Python cannot be had outside CI.
fn python() -> Option<PathBuf> {
    static PY: OnceLock<Option<PathBuf>> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("scripts/python-env.sh"))
            .output();
        let problem = match out {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                if let Some(line) = text.lines().last() {
                    return Some(PathBuf::from(line.trim()));
                }
                "scripts/python-env.sh printed no path".to_string()
            }
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => format!("cannot run bash: {e}"),
        };
        if std::env::var_os("CI").is_some() {
            panic!(
                "the export readers (praat-parselmouth, pympi-ling, xmlschema) are needed on CI: \
                 {problem}"
            );
        }
        eprintln!(
            "NOTICE: skipping the reader checks of tests/export.rs: {problem} \
             (run scripts/install-deps.sh, then scripts/python-env.sh)"
        );
        None
    })
    .clone()
}

/// Runs tests/export_check.py on `out`; panics with its output unless every check passed.
fn check_in_readers(out: &Path, name: &str, expect: &[(String, &str)], markers: &[(&str, &str)]) {
    let Some(py) = python() else { return };
    let mut cmd = Command::new(py);
    cmd.arg(root().join("tests/export_check.py"))
        .arg(out)
        .arg(name)
        .arg(root().join("tests/data/EAFv3.0.xsd"))
        .arg("--note")
        .arg(NOTE);
    for (t, who) in expect {
        cmd.arg("--expect").arg(t).arg(who);
    }
    for (t, code) in markers {
        cmd.arg("--expect-marker").arg(t).arg(code);
    }
    let o = cmd.output().expect("run python");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "reader checks failed:\n{text}");
    eprint!("{text}");
}

/// A two-voice session folder: the demo recording, markers (one with a note that needs CSV
/// quoting), a wrap-up and session.json.
fn make_session(dir: &Path) -> PathBuf {
    let s = dir.join("demo-session");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::copy(root().join("assets/demo_session.wav"), s.join("audio.wav")).unwrap();
    let lines = [
        serde_json::json!({"t_s": 1.2, "type": "marker", "code": "smile"}),
        serde_json::json!({"t_s": 8.5, "type": "marker", "code": "best moment", "note": NOTE}),
        serde_json::json!({"t_s": 8.5, "type": "marker", "code": "eye contact"}),
        serde_json::json!({"t_s": 40.0, "type": "wrap_up", "engagement": 4,
                           "best_moment": "the <long> hum & the laugh"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(s.join("events.jsonl"), text).unwrap();
    std::fs::write(
        s.join("session.json"),
        r#"{"participant":"P-07","partner":"T-2","started_utc":"2026-12-01T10:00:00Z"}"#,
    )
    .unwrap();
    s
}

fn export(session: &Path, out: &Path, extra: &[&str]) -> Output {
    attune()
        .arg("export")
        .arg(session)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run attune export")
}

const ALL_FILES: [&str; 10] = [
    "segments.csv",
    "turns.csv",
    "pitch.csv",
    "markers.csv",
    "eaf",
    "TextGrid",
    "rttm",
    "chattr.tsv",
    "audacity.txt",
    "report.html",
];

#[test]
fn export_all_formats_open_in_their_readers() {
    let dir = tempfile::tempdir().unwrap();
    let session = make_session(dir.path());
    let out = dir.path().join("exports");
    let o = export(&session, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for ext in ALL_FILES {
        let p = out.join(format!("demo-session.{ext}"));
        assert!(p.is_file(), "missing {}", p.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", p.display());
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let segments = std::fs::read_to_string(out.join("demo-session.segments.csv")).unwrap();
    assert!(segments.lines().count() > 8, "{segments}");
    let html = std::fs::read_to_string(out.join("demo-session.report.html")).unwrap();
    assert!(html.contains("P-07") && html.contains("the &lt;long&gt; hum &amp; the laugh"));
    check_in_readers(&out, "demo-session", &[], &[("1.200", "smile")]);

    // Only the formats asked for; a plain audio file works as well as a folder.
    let wav = dir.path().join("plain.wav");
    std::fs::copy(root().join("assets/demo_session.wav"), &wav).unwrap();
    let out2 = dir.path().join("two");
    let o = export(&wav, &out2, &["--format", "rttm,eaf", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&out2)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["plain.eaf", "plain.rttm"]);
    let eaf = std::fs::read_to_string(out2.join("plain.eaf")).unwrap();
    assert!(eaf.contains("RELATIVE_MEDIA_URL=\"../plain.wav\""), "{eaf}");
}

#[test]
fn export_follows_a_correction_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let session = make_session(dir.path());
    let mut model = SessionModel::load(&session, &LoadOptions::default()).unwrap();
    let parties = model.parties();
    assert!(model.segments.len() > 4);
    // Relabel the first vocalisation the other way round.
    let first = model.segments[0];
    let other = if first.speaker == parties[0] {
        parties[1]
    } else {
        parties[0]
    };
    assert_ne!(other, Speaker::Unknown);
    model.set_speaker(0, other);
    model.add_marker(attune::session::log::Marker {
        t_s: 12.345,
        code: "new sound".into(),
        note: "a \"new\" one, in review".into(),
    });
    model.save_corrections().unwrap();
    let start = format!(
        "{:.3}",
        (first.vocalisation.start.secs() * 1000.0).round() / 1000.0
    );

    let out = dir.path().join("exports");
    let o = export(&session, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("reviewed"));
    let segments = std::fs::read_to_string(out.join("demo-session.segments.csv")).unwrap();
    let row = segments
        .lines()
        .find(|l| l.starts_with(&format!("{start},")))
        .unwrap_or_else(|| panic!("no row at {start}:\n{segments}"));
    assert!(row.contains(&format!(",{},", other.as_str())), "{row}");
    let html = std::fs::read_to_string(out.join("demo-session.report.html")).unwrap();
    assert!(html.contains("reviewed and corrected"));
    let markers = std::fs::read_to_string(out.join("demo-session.markers.csv")).unwrap();
    assert!(
        markers.contains("12.345,new sound,\"a \"\"new\"\" one, in review\""),
        "{markers}"
    );
    check_in_readers(
        &out,
        "demo-session",
        &[(start, other.as_str())],
        &[("12.345", "new sound")],
    );
}

fn one_error_line(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
    err
}

#[test]
fn export_bad_input_gives_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let e = one_error_line(&export(&dir.path().join("nowhere"), &out, &[]));
    assert!(e.contains("no such file or folder"), "{e}");

    let session = make_session(dir.path());
    let e = one_error_line(&export(&session, &out, &["--format", "csv,docx"]));
    assert!(e.contains("unknown export format \"docx\""), "{e}");

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let e = one_error_line(&export(&session, &file.join("sub"), &[]));
    assert!(e.contains("a-file"), "{e}");

    let empty = dir.path().join("empty-folder");
    std::fs::create_dir_all(&empty).unwrap();
    let e = one_error_line(&export(&empty, &out, &[]));
    assert!(e.contains("not an attune session folder"), "{e}");

    let e = one_error_line(&export(
        &session,
        &out,
        &["--user-channel", "1", "--partner-channel", "2"],
    ));
    assert!(e.contains("audio.wav"), "{e}");
    assert!(!out.join("demo-session.eaf").exists());
}

#[test]
fn analyze_writes_a_corpus_summary() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::copy(
        root().join("assets/demo_session.wav"),
        inputs.join("one.wav"),
    )
    .unwrap();
    let rate = 16_000;
    let tone = common::voice(rate, 1.0, 0.3, 0.03, 0.05, |_| 220.0);
    let x = common::scene(rate, 6.0, 0.001, &[(1.0, tone.clone()), (3.5, tone)], 7);
    common::write_wav(&inputs.join("two.wav"), rate, &[x]);
    let out = dir.path().join("out");
    let o = attune()
        .args(["analyze", "--two-voices", "--quiet", "--out"])
        .arg(&out)
        .arg(&inputs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let path = out.join("corpus.summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    for col in [
        "name",
        "duration_s",
        "vocalisations_1",
        "turns_chattr",
        "turns_lena",
        "median_latency_1_to_2_s",
        "chance_turns_lena_mean",
        "mirror_mean",
        "vocal_share_1",
        "f0_median_hz",
        "peak_dbfs",
        "clipped_fraction",
    ] {
        assert!(header.iter().any(|h| h == col), "no {col}: {header:?}");
    }
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2, "{text}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("name")], "one");
    assert_eq!(&rows[1][col("name")], "two");
    assert!((rows[0][col("duration_s")].parse::<f64>().unwrap() - 40.5).abs() < 0.05);
    assert!(
        rows[0][col("turns_lena")].parse::<usize>().unwrap() >= 5,
        "{text}"
    );
    assert_eq!(&rows[0][col("speaker_1")], "A");
    // The bundled demo peaks at -3 dBFS and never clips.
    assert_eq!(&rows[0][col("peak_dbfs")], "-3.0", "{text}");
    assert_eq!(
        rows[0][col("clipped_fraction")].parse::<f64>().unwrap(),
        0.0
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // One input: no corpus summary.
    let out1 = dir.path().join("out1");
    let o = attune()
        .args(["analyze", "--quiet", "--out"])
        .arg(&out1)
        .arg(inputs.join("two.wav"))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(!out1.join("corpus.summary.csv").exists());
}

#[test]
fn export_csv_matches_analyze_before_review() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("plain.wav");
    std::fs::copy(root().join("assets/demo_session.wav"), &wav).unwrap();
    let analysed = dir.path().join("analysed");
    let o = attune()
        .args(["analyze", "--two-voices", "--quiet", "--out"])
        .arg(&analysed)
        .arg(&wav)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exported = dir.path().join("exported");
    let o = export(&wav, &exported, &["--format", "csv", "--two-voices", "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for table in ["plain.segments.csv", "plain.turns.csv"] {
        let a = std::fs::read_to_string(analysed.join(table)).unwrap();
        let e = std::fs::read_to_string(exported.join(table)).unwrap();
        assert_eq!(a, e, "{table} differs between analyze and export");
    }
}

#[test]
fn times_in_edited_files_that_are_not_times_are_named_and_skipped() {
    // A marker at 1e300 s in events.jsonl and a segment there in review.json once grew the
    // HTML export past 9 GB and wrote a TextGrid ending at 18446744073709551 s.
    let dir = tempfile::tempdir().unwrap();
    let session = make_session(dir.path());
    let mut events = std::fs::read_to_string(session.join("events.jsonl")).unwrap();
    events.push_str("{\"t_s\":1e300,\"type\":\"marker\",\"code\":\"smile\"}\n");
    events.push_str("{\"t_s\":5000.0,\"type\":\"marker\",\"code\":\"touch\"}\n");
    std::fs::write(session.join("events.jsonl"), events).unwrap();
    let out = dir.path().join("out");
    let o = export(&session, &out, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("line 5") && err.contains("1e300"), "{err}");
    assert!(err.contains("5000"), "{err}");
    // The review of the same session, edited by hand.
    let model = SessionModel::load(&session, &LoadOptions::default()).unwrap();
    let duration_s = model.duration_secs;
    let mut review: serde_json::Value = serde_json::to_value(model.corrections()).unwrap();
    review["segments"][0]["end_s"] = serde_json::json!(1e300);
    review["markers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"t_s": -3.0, "code": "smile"}));
    std::fs::write(
        session.join("review.json"),
        serde_json::to_string(&review).unwrap(),
    )
    .unwrap();
    let o = export(&session, &out, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("review.json: segment 1"), "{err}");
    assert!(err.contains("marker"), "{err}");
    // Every export stays the size of the recording; the TextGrid ends where it does.
    let textgrid = std::fs::read_to_string(out.join("demo-session.TextGrid")).unwrap();
    let xmax: f64 = textgrid
        .lines()
        .find_map(|l| l.trim().strip_prefix("xmax = "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(xmax <= duration_s + 1.0, "{xmax} vs {duration_s}");
    for f in ALL_FILES {
        let len = std::fs::metadata(out.join(format!("demo-session.{f}")))
            .unwrap()
            .len();
        assert!(len < 5_000_000, "{f}: {len} bytes");
    }
}
