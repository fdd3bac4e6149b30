//! `attune analyze` as a researcher runs it: real files in, the documented files out.

mod common;

use std::path::{Path, PathBuf};

use common::{attune, scene, voice, write_wav};

fn hum(rate: u32, f0: f64, secs: f64) -> Vec<f32> {
    scene(
        rate,
        secs,
        0.0005,
        &[(0.5, voice(rate, 1.0, 0.4, 0.05, 0.05, move |_| f0))],
        1,
    )
}

fn summary(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(format!("{name}.summary.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn writes_the_documented_files_for_each_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    write_wav(&a, 16_000, &[hum(16_000, 220.0, 2.0)]);
    write_wav(&b, 44_100, &[hum(44_100, 330.0, 2.5)]);
    let out = dir.path().join("out");
    let status = attune()
        .args(["analyze", "-q", "--out"])
        .arg(&out)
        .arg(&a)
        .arg(&b)
        .status()
        .unwrap();
    assert!(status.success());
    for (name, secs, f0) in [("a", 2.0, 220.0), ("b", 2.5, 330.0)] {
        let f0_csv = std::fs::read_to_string(out.join(format!("{name}.f0.csv"))).unwrap();
        let mut lines = f0_csv.lines();
        assert_eq!(lines.next(), Some("time_s,f0_hz,confidence"));
        let rows: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows.len(), (secs * 100.0) as usize);
        for (k, r) in rows.iter().enumerate() {
            assert!((r[0] - k as f64 * 0.01).abs() < 1e-9);
            assert!((0.0..=1.0).contains(&r[2]));
        }
        let onsets = std::fs::read_to_string(out.join(format!("{name}.onsets.csv"))).unwrap();
        assert_eq!(onsets.lines().next(), Some("time_s"));
        assert_eq!(onsets.lines().count(), 2, "{onsets}");
        let segments = std::fs::read_to_string(out.join(format!("{name}.segments.csv"))).unwrap();
        assert!(segments.starts_with("start_s,end_s,speaker,"));
        assert_eq!(segments.lines().count(), 2);
        let s = summary(&out, name);
        assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(s["settings"]["f0_min_hz"], 55.0);
        let dur = s["statistics"]["duration_s"].as_f64().unwrap();
        assert!((dur - secs).abs() < secs * 0.01);
        let median = s["statistics"]["f0_median_hz"].as_f64().unwrap();
        assert!(common::cents(median, f0).abs() < 20.0, "{name}: {median}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for ext in ["f0.csv", "onsets.csv", "segments.csv", "summary.json"] {
                let mode = std::fs::metadata(out.join(format!("{name}.{ext}")))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{name}.{ext}");
            }
        }
    }
}

#[test]
fn clipped_and_very_quiet_recordings_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let fine = hum(16_000, 220.0, 2.0);
    let (loud, quiet): (Vec<f32>, Vec<f32>) = fine.iter().map(|&v| (v * 4.0, v * 0.001)).unzip();
    let paths: Vec<PathBuf> = ["fine", "loud", "quiet"]
        .iter()
        .map(|n| dir.path().join(format!("{n}.wav")))
        .collect();
    for (p, x) in paths.iter().zip([fine, loud, quiet]) {
        write_wav(p, 16_000, &[x]);
    }
    let out = dir.path().join("out");
    let run = attune()
        .args(["analyze", "-q", "--out"])
        .arg(&out)
        .args(&paths)
        .output()
        .unwrap();
    assert!(run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("warning: ") && l.contains("loud.wav") && l.contains("clipped")));
    assert!(lines.iter().any(|l| l.starts_with("warning: ")
        && l.contains("quiet.wav")
        && l.contains("very quiet")));
    let stats = |name: &str| summary(&out, name)["statistics"].clone();
    let (fine, loud, quiet) = (stats("fine"), stats("loud"), stats("quiet"));
    // The hum peaks at 0.4 (-8 dBFS); four times louder it clips, a thousandth is -68 dBFS.
    assert_eq!(fine["clipped_samples"], 0);
    assert!(
        (fine["peak_dbfs"].as_f64().unwrap() + 8.0).abs() < 1.0,
        "{fine}"
    );
    assert!(loud["clipped_fraction"].as_f64().unwrap() > 0.05, "{loud}");
    assert!(loud["peak_dbfs"].as_f64().unwrap() > -0.1, "{loud}");
    assert!(
        (quiet["peak_dbfs"].as_f64().unwrap() + 68.0).abs() < 1.5,
        "{quiet}"
    );
}

#[test]
fn folders_are_searched_recursively_and_jobs_can_be_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("in/child/deeper");
    std::fs::create_dir_all(&sub).unwrap();
    write_wav(
        &dir.path().join("in/top.wav"),
        16_000,
        &[hum(16_000, 200.0, 1.6)],
    );
    write_wav(&sub.join("low.wav"), 16_000, &[hum(16_000, 150.0, 1.6)]);
    std::fs::write(dir.path().join("in/notes.txt"), "not audio").unwrap();
    let out = dir.path().join("out");
    let flat = attune()
        .args(["analyze", "-q", "--out"])
        .arg(&out)
        .arg(dir.path().join("in"))
        .status()
        .unwrap();
    assert!(flat.success());
    assert!(out.join("top.summary.json").exists());
    assert!(!out.join("child__deeper__low.summary.json").exists());
    let deep = attune()
        .args(["analyze", "-q", "--recursive", "--jobs", "1", "--out"])
        .arg(&out)
        .arg(dir.path().join("in"))
        .status()
        .unwrap();
    assert!(deep.success());
    assert!(out.join("child__deeper__low.summary.json").exists());
}

#[test]
fn bad_inputs_get_one_line_each_and_the_rest_completes() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_wav(&good, 16_000, &[hum(16_000, 250.0, 2.0)]);
    let out = dir.path().join("out");
    let bad = [
        fixture("empty.wav"),
        fixture("header_only.wav"),
        fixture("not_audio.wav"),
        fixture("zero_rate.wav"),
        fixture("many_channels.wav"),
        fixture("random.bin"),
        dir.path().join("missing.wav"),
    ];
    let output = attune()
        .args(["analyze", "-q", "--out"])
        .arg(&out)
        .arg(&good)
        .args(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(lines.len(), bad.len(), "{stderr}");
    for path in &bad {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            lines.iter().any(|l| l.contains(name.as_ref())),
            "no line for {name}: {stderr}"
        );
    }
    assert!(summary(&out, "good")["statistics"]["vocalisations"].as_u64() == Some(1));
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_truncated_recording_keeps_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = attune()
        .args(["analyze", "-q", "--out"])
        .arg(&out)
        .arg(fixture("truncated.wav"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let dur = summary(&out, "truncated")["statistics"]["duration_s"]
        .as_f64()
        .unwrap();
    assert!((dur - 0.1).abs() < 0.005, "{dur}");
    // And the user is told.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("warning: ") && err.contains("truncated.wav") && err.contains("cut short"),
        "{err}"
    );
}

#[test]
fn samples_that_are_not_numbers_are_read_as_silence_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let (some, all) = (dir.path().join("some.wav"), dir.path().join("all.wav"));
    for (path, every) in [(&some, false), (&all, true)] {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for (i, x) in hum(16_000, 220.0, 1.5).into_iter().enumerate() {
            let bad = every || (8_000..8_100).contains(&i);
            w.write_sample(if bad { f32::NAN } else { x }).unwrap();
        }
        w.finalize().unwrap();
    }
    let out = dir.path().join("out");
    let o = attune()
        .args(["analyze", "-q", "--out"])
        .arg(&out)
        .arg(&some)
        .arg(&all)
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("some.wav: 100 samples are not numbers"),
        "{err}"
    );
    assert!(err.contains("all.wav: no sample is a number"), "{err}");
    assert_eq!(
        summary(&out, "some")["statistics"]["non_finite_samples"],
        100
    );
}

#[test]
fn a_channel_can_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let stereo = dir.path().join("stereo.wav");
    write_wav(
        &stereo,
        48_000,
        &[hum(48_000, 200.0, 2.0), hum(48_000, 300.0, 2.0)],
    );
    let out = dir.path().join("out");
    for (ch, f0) in [("1", 200.0), ("2", 300.0)] {
        let status = attune()
            .args(["analyze", "-q", "--channel", ch, "--out"])
            .arg(&out)
            .arg(&stereo)
            .status()
            .unwrap();
        assert!(status.success());
        let median = summary(&out, "stereo")["statistics"]["f0_median_hz"]
            .as_f64()
            .unwrap();
        assert!(
            common::cents(median, f0).abs() < 20.0,
            "channel {ch}: {median}"
        );
    }
    let output = attune()
        .args(["analyze", "-q", "--channel", "3", "--out"])
        .arg(&out)
        .arg(&stereo)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("channel 3 requested but the file has 2 channel"));
}

#[test]
fn settings_are_checked_and_help_is_given() {
    let output = attune().arg("--help").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("analyze"));
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("x.wav");
    write_wav(&wav, 16_000, &[hum(16_000, 200.0, 1.0)]);
    let output = attune()
        .args(["analyze", "--f0-min", "500", "--f0-max", "400", "--out"])
        .arg(dir.path())
        .arg(&wav)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("pitch range"));
}

#[test]
fn inputs_with_one_name_get_results_of_their_own() {
    // a/x.wav, b/x.wav and c/x-2.wav: three results, each describing its own input, and the
    // renaming said; with two jobs at once as with one.
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (sub, name, secs) in [("a", "x", 1.5), ("b", "x", 2.0), ("c", "x-2", 2.5)] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        let path = dir.path().join(sub).join(format!("{name}.wav"));
        write_wav(&path, 16_000, &[hum(16_000, 220.0, secs)]);
        inputs.push(path);
    }
    for jobs in ["1", "2"] {
        let out = dir.path().join(format!("out-{jobs}"));
        let o = attune()
            .args(["analyze", "-q", "--jobs", jobs, "--out"])
            .arg(&out)
            .args(&inputs)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("x-2"), "the renaming is said: {err}");
        let mut described = Vec::new();
        for entry in std::fs::read_dir(&out).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".summary.json") {
                if stem == "corpus" {
                    continue;
                }
                let s = summary(&out, stem);
                let path = s["input"]["path"].as_str().unwrap().to_string();
                let secs = s["input"]["duration_s"].as_f64().unwrap();
                // The f0 track beside it belongs to the same input.
                let f0 = std::fs::read_to_string(out.join(format!("{stem}.f0.csv"))).unwrap();
                let frames = f0.lines().count() - 1;
                assert!(
                    (frames as f64 * 0.01 - secs).abs() < 0.05,
                    "{stem}: {frames} frames for {secs} s"
                );
                described.push(path);
            }
        }
        described.sort();
        let mut want: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        want.sort();
        assert_eq!(described, want);
    }
}

#[cfg(unix)]
#[test]
fn links_planted_beside_the_results_are_not_written_through_and_modes_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.wav");
    write_wav(&input, 16_000, &[hum(16_000, 220.0, 1.5)]);
    let out = dir.path().join("made").join("out");
    std::fs::create_dir_all(dir.path().join("planted")).unwrap();
    let planted = dir.path().join("planted").join("out");
    std::fs::create_dir_all(&planted).unwrap();
    // A victim file, a link to it where a temporary file used to be made, and a world-writable
    // file at another such name.
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "mine").unwrap();
    std::os::unix::fs::symlink(&victim, planted.join("x.segments.csv.partial")).unwrap();
    std::fs::write(planted.join("x.f0.csv.partial"), "old").unwrap();
    std::fs::set_permissions(
        planted.join("x.f0.csv.partial"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    for out in [&out, &planted] {
        // umask 000: what attune makes must still be owner-only.
        let status = std::process::Command::new("bash")
            .arg("-c")
            .arg(r#"umask 000 && exec "$0" analyze -q --out "$1" "$2""#)
            .arg(env!("CARGO_BIN_EXE_attune"))
            .arg(out)
            .arg(&input)
            .status()
            .unwrap();
        assert!(status.success());
        for ext in ["f0.csv", "onsets.csv", "segments.csv", "summary.json"] {
            let meta = std::fs::symlink_metadata(out.join(format!("x.{ext}"))).unwrap();
            assert!(meta.is_file(), "{ext}");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{ext}");
        }
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
    for d in [dir.path().join("made"), out.clone()] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", d.display());
    }
}

#[cfg(unix)]
#[test]
fn a_link_loop_in_a_folder_ends_and_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("corpus");
    std::fs::create_dir_all(top.join("child")).unwrap();
    write_wav(
        &top.join("child").join("a.wav"),
        16_000,
        &[hum(16_000, 220.0, 1.0)],
    );
    // A link back to the folder above it: followed, it would never end.
    std::os::unix::fs::symlink(&top, top.join("child").join("loop")).unwrap();
    let out = dir.path().join("out");
    let o = attune()
        .args(["analyze", "-q", "--recursive", "--out"])
        .arg(&out)
        .arg(&top)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("loop") && err.contains("not followed"),
        "{err}"
    );
    let results: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_suffix(".summary.json").map(str::to_string)
        })
        .collect();
    assert_eq!(results, ["child__a"]);
}

#[test]
fn an_os_error_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let input = dir.path().join("x.wav");
    write_wav(&input, 16_000, &[hum(16_000, 220.0, 1.0)]);
    let runs = [
        attune()
            .args(["analyze", "-q", "--out"])
            .arg(file.join("out"))
            .arg(&input)
            .output()
            .unwrap(),
        common::headless_demo(1.0, 1.0)
            .arg("--session-dir")
            .arg(file.join("session"))
            .output()
            .unwrap(),
    ];
    for o in runs {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{err}");
        assert_eq!(err.matches("os error").count(), 1, "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
