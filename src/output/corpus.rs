//! `OUT/corpus.summary.csv`: one row per input of an `attune analyze` run over several inputs
//! (or a folder), built from the per-input summaries the run already made (`NAME.summary.json`).
//! Inputs that failed have no row (their error line was printed).
//!
//! The two people are numbered: `speaker_1` / `speaker_2` say who they are (`user` /
//! `partner`, or `A` / `B`; without speaker options `unknown`, and only the vocalisation count,
//! duration and f0 are filled). Latencies are the medians over LENA turns (the rows of
//! `NAME.turns.csv`); chance levels are the mean and 95th percentile of the turn count over
//! circularly shifted timelines, with the permutation p. Written on the main thread after the
//! workers finish.

use std::io;

use ::csv::{Terminator, WriterBuilder};

use crate::output::Summary;

/// The file's name in the output folder.
pub const FILE_NAME: &str = "corpus.summary.csv";

/// Header of `corpus.summary.csv`.
pub const HEADER: [&str; 28] = [
    "name",
    "path",
    "duration_s",
    "attribution",
    "speaker_1",
    "speaker_2",
    "vocalisations_1",
    "vocalisations_2",
    "turns_chattr",
    "turns_lena",
    "turns_per_min_chattr",
    "turns_per_min_lena",
    "median_latency_1_to_2_s",
    "median_latency_2_to_1_s",
    "chance_turns_chattr_mean",
    "chance_turns_chattr_p95",
    "p_turns_chattr",
    "chance_turns_lena_mean",
    "chance_turns_lena_p95",
    "p_turns_lena",
    "mirror_answers",
    "mirror_mean",
    "vocal_share_1",
    "vocal_share_2",
    "vocal_time_fraction",
    "f0_median_hz",
    "peak_dbfs",
    "clipped_fraction",
];

fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        String::new()
    }
}

/// One row for an input named `name`.
pub fn row(name: &str, s: &Summary) -> Vec<String> {
    let st = &s.statistics;
    let mut r = vec![
        name.to_string(),
        s.input.path.clone(),
        num(st.duration_secs, 3),
    ];
    let Some(rep) = &s.session else {
        r.extend(["none".into(), "unknown".into(), String::new()]);
        r.push(st.vocalisations.to_string());
        r.resize(HEADER.len() - 4, String::new());
        push_tail(&mut r, st);
        return r;
    };
    let by = &rep.vocalisations_by_speaker;
    let (p1, p2) = if by.contains_key("A") || by.contains_key("B") {
        ("A", "B")
    } else {
        ("user", "partner")
    };
    r.push(rep.attribution.clone());
    r.push(p1.into());
    r.push(p2.into());
    r.push(by.get(p1).copied().unwrap_or(0).to_string());
    r.push(by.get(p2).copied().unwrap_or(0).to_string());
    let model = |m: &str| rep.turn_models.get(m);
    for m in ["chattr", "lena"] {
        r.push(model(m).map(|t| t.turns.to_string()).unwrap_or_default());
    }
    for m in ["chattr", "lena"] {
        r.push(
            model(m)
                .map(|t| num(t.turns_per_min, 3))
                .unwrap_or_default(),
        );
    }
    for dir in [format!("{p1}->{p2}"), format!("{p2}->{p1}")] {
        r.push(
            model("lena")
                .and_then(|t| t.latency_by_direction.get(&dir))
                .map(|l| num(l.median_secs, 3))
                .unwrap_or_default(),
        );
    }
    for m in ["chattr", "lena"] {
        let c = model(m).and_then(|t| t.chance.get("turns"));
        r.push(c.map(|c| num(c.chance_mean, 3)).unwrap_or_default());
        r.push(c.map(|c| num(c.chance_p95, 3)).unwrap_or_default());
        r.push(c.map(|c| num(c.p_value, 3)).unwrap_or_default());
    }
    r.push(rep.mirror.answers.to_string());
    r.push(rep.mirror.mean_score.map(|m| num(m, 1)).unwrap_or_default());
    for p in [p1, p2] {
        r.push(
            rep.vocal_activity
                .vocal_share_by_speaker
                .get(p)
                .map(|v| num(*v, 4))
                .unwrap_or_default(),
        );
    }
    push_tail(&mut r, st);
    r
}

/// The columns every row fills: vocal time, f0 and the input's peak and clipping.
fn push_tail(r: &mut Vec<String>, st: &crate::output::FileStatistics) {
    r.push(num(st.vocal_time_fraction, 4));
    r.push(
        st.f0_median_hz
            .map(|f| num(f64::from(f), 2))
            .unwrap_or_default(),
    );
    r.push(st.peak_dbfs.map(|p| num(p, 1)).unwrap_or_default());
    r.push(num(st.clipped_fraction, 5));
}

/// The whole table, one row per `(name, summary)`.
pub fn render(rows: &[(String, Summary)]) -> io::Result<Vec<u8>> {
    let mut w = WriterBuilder::new()
        .terminator(Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(HEADER)?;
    for (name, s) in rows {
        w.write_record(row(name, s))?;
    }
    w.into_inner().map_err(|e| e.into_error())
}
