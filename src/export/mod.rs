//! Exports of a reviewed session: CSV tables for pandas and R, an ELAN `.eaf`, a Praat
//! `.TextGrid`, RTTM, chattr's tab-separated utterance table, Audacity labels and a
//! self-contained HTML report. Everything is built from a [`SessionModel`], so the reviewer's
//! corrections are in every export.
//!
//! Each file is rendered in memory, written under a temporary name readable by its owner only
//! (0600) and renamed into place once it is complete, so a failed export never leaves a
//! half-written file under a final name.
//!
//! Runs on the thread that asks (the CLI's main thread, or the review window's worker): the
//! functions here are pure apart from the final writes.

pub mod audacity;
pub mod chattr;

pub mod csv;
pub mod eaf;
pub mod html;
pub mod rttm;
pub mod textgrid;

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::analysis::speaker::Speaker;
use crate::session::model::{SessionError, SessionModel};

/// One export format of `attune export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// `NAME.{segments,turns,pitch,markers}.csv`.
    Csv,
    /// `NAME.eaf` (ELAN, EAF 3.0).
    Eaf,
    /// `NAME.TextGrid` (Praat, long text format, UTF-8).
    TextGrid,
    /// `NAME.rttm`.
    Rttm,
    /// `NAME.chattr.tsv` (chattr's `elan-basic-txt` table).
    Chattr,
    /// `NAME.audacity.txt` (Audacity labels).
    Audacity,
    /// `NAME.report.html`.
    Html,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 7] = [
        Format::Csv,
        Format::Eaf,
        Format::TextGrid,
        Format::Rttm,
        Format::Chattr,
        Format::Audacity,
        Format::Html,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Eaf => "eaf",
            Format::TextGrid => "textgrid",
            Format::Rttm => "rttm",
            Format::Chattr => "chattr",
            Format::Audacity => "audacity",
            Format::Html => "html",
        }
    }

    /// Reads one format name (case-insensitive; `elan`, `praat` and `report` are accepted too).
    pub fn parse(name: &str) -> Result<Self, ExportError> {
        let n = name.trim().to_ascii_lowercase();
        let alias = match n.as_str() {
            "elan" => "eaf",
            "praat" => "textgrid",
            "report" => "html",
            "labels" => "audacity",
            other => other,
        };
        Format::ALL
            .into_iter()
            .find(|f| f.name() == alias)
            .ok_or_else(|| ExportError::UnknownFormat(name.trim().to_string()))
    }

    /// Reads a comma-separated list (`csv,eaf`; `all` for every format). Duplicates are
    /// dropped; the order is the fixed order of [`Format::ALL`].
    pub fn parse_list(list: &str) -> Result<Vec<Self>, ExportError> {
        let mut out = Vec::new();
        for part in list.split(',').filter(|p| !p.trim().is_empty()) {
            if part.trim().eq_ignore_ascii_case("all") {
                out.extend(Format::ALL);
            } else {
                out.push(Format::parse(part)?);
            }
        }
        if out.is_empty() {
            return Err(ExportError::UnknownFormat(list.to_string()));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// An export could not be made.
#[derive(Debug, Error)]
pub enum ExportError {
    #[error(
        "unknown export format {0:?} (known: csv, eaf, textgrid, rttm, chattr, audacity, html)"
    )]
    UnknownFormat(String),
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Renders one CSV table.
type CsvTable = fn(&SessionModel) -> io::Result<Vec<u8>>;

/// Where and when an export is written.
#[derive(Debug, Clone)]
pub struct ExportContext {
    /// The export folder (the EAF links the audio relative to it).
    pub out_dir: PathBuf,
    /// When the export was made (UTC, RFC 3339), written into the EAF and the report.
    pub generated_utc: String,
}

impl ExportContext {
    /// An export into `out_dir`, stamped now.
    pub fn new(out_dir: &Path) -> Self {
        Self {
            out_dir: out_dir.to_path_buf(),
            generated_utc: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// Writes `formats` of `model` into `out_dir` (created if missing, owner-only files); returns
/// the files written, in order. Runs on the calling thread.
pub fn export_session(
    model: &SessionModel,
    formats: &[Format],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ExportError> {
    crate::output::create_private_dir_all(out_dir).map_err(|source| ExportError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let ctx = ExportContext::new(out_dir);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for f in formats {
        match f {
            Format::Csv => {
                let tables: [(&str, CsvTable); 4] = [
                    (".segments.csv", csv::segments),
                    (".turns.csv", csv::turns),
                    (".pitch.csv", csv::pitch),
                    (".markers.csv", csv::markers),
                ];
                for (suffix, table) in tables {
                    let bytes = table(model).map_err(|source| ExportError::Write {
                        path: out_dir.join(format!("{}{suffix}", model.name)),
                        source,
                    })?;
                    files.push((suffix.into(), bytes));
                }
            }
            Format::Eaf => files.push((".eaf".into(), eaf::render(model, &ctx).into_bytes())),
            Format::TextGrid => {
                files.push((".TextGrid".into(), textgrid::render(model).into_bytes()))
            }
            Format::Rttm => files.push((".rttm".into(), rttm::render(model).into_bytes())),
            Format::Chattr => {
                files.push((".chattr.tsv".into(), chattr::render(model).into_bytes()))
            }
            Format::Audacity => {
                files.push((".audacity.txt".into(), audacity::render(model).into_bytes()))
            }
            Format::Html => files.push((
                ".report.html".into(),
                html::render(model, &ctx).into_bytes(),
            )),
        }
    }
    let mut written = Vec::with_capacity(files.len());
    for (suffix, bytes) in files {
        let path = out_dir.join(format!("{}{suffix}", model.name));
        write_private(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `bytes` to `path` atomically: an owner-only temporary file beside it, synced, then
/// renamed. Any thread.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    crate::output::write_atomic(path, bytes).map_err(|source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Milliseconds of a time in seconds (rounded; negative times become 0).
pub fn ms_of(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs * 1000.0).round() as u64
    } else {
        0
    }
}

/// A time in whole milliseconds written as seconds with three decimals (`12.340`).
pub fn secs_text(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// One vocalisation on the export timeline, in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start_ms: u64,
    pub end_ms: u64,
    pub speaker: Speaker,
    /// Index into `SessionModel::segments`.
    pub segment: usize,
}

/// The segments as whole-millisecond spans, by start (segments shorter than 1 ms are left out).
pub fn spans(model: &SessionModel) -> Vec<Span> {
    let mut out: Vec<Span> = model
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| Span {
            start_ms: ms_of(s.vocalisation.start.secs()),
            end_ms: ms_of(s.vocalisation.end.secs()),
            speaker: s.speaker,
            segment: i,
        })
        .filter(|s| s.end_ms > s.start_ms)
        .collect();
    out.sort_by_key(|s| (s.start_ms, s.end_ms));
    out
}

/// The session's length in whole milliseconds, at least as long as every segment and marker.
pub fn duration_ms(model: &SessionModel) -> u64 {
    let mut d = ms_of(model.duration_secs);
    for s in spans(model) {
        d = d.max(s.end_ms);
    }
    for m in &model.markers {
        d = d.max(ms_of(m.t_s));
    }
    d
}

/// The people a per-person export gives a tier each: the two parties, then any other speaker
/// that has a segment (e.g. `unknown`).
pub fn tier_speakers(model: &SessionModel) -> Vec<Speaker> {
    let mut out: Vec<Speaker> = model.parties().to_vec();
    for s in &model.segments {
        if !out.contains(&s.speaker) {
            out.push(s.speaker);
        }
    }
    out
}

/// The pseudonym `session.json` gives a speaker, if any.
pub fn participant_name(model: &SessionModel, speaker: Speaker) -> Option<&str> {
    match speaker {
        Speaker::User => model.meta.participant.as_deref(),
        Speaker::Partner => model.meta.partner.as_deref(),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty())
}

/// A marker's label in the annotation formats: its code, and its note after a colon.
pub fn marker_label(code: &str, note: &str) -> String {
    let note = note.split_whitespace().collect::<Vec<_>>().join(" ");
    if note.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {note}")
    }
}

/// A label made safe for one-line, whitespace- or tab-separated formats: runs of whitespace
/// (tabs, newlines) become one space, or `_` when `no_spaces`.
pub fn one_line(text: &str, no_spaces: bool) -> String {
    let sep = if no_spaces { "_" } else { " " };
    text.split_whitespace().collect::<Vec<_>>().join(sep)
}

/// Text escaped for XML and HTML attribute values and content; characters XML 1.0 does not
/// allow (control characters other than tab and line breaks) are dropped.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Annotations made to follow one another on one tier (ELAN and Praat tiers do not overlap):
/// sorted by start, each starts no earlier than the previous one ends and lasts at least 1 ms.
pub fn without_overlaps<T>(mut items: Vec<(u64, u64, T)>) -> Vec<(u64, u64, T)> {
    items.sort_by_key(|(a, b, _)| (*a, *b));
    let mut prev_end = 0u64;
    for (a, b, _) in &mut items {
        *a = (*a).max(prev_end);
        *b = (*b).max(*a + 1);
        prev_end = *b;
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_format_lists_parse() {
        assert_eq!(Format::parse_list("all").unwrap(), Format::ALL.to_vec());
        assert_eq!(
            Format::parse_list("html, CSV,csv").unwrap(),
            vec![Format::Csv, Format::Html]
        );
        assert_eq!(Format::parse("praat").unwrap(), Format::TextGrid);
        let e = Format::parse_list("csv,docx").unwrap_err();
        assert!(e.to_string().contains("\"docx\""), "{e}");
        assert!(Format::parse_list(" , ").is_err());
    }

    #[test]
    fn export_times_are_whole_milliseconds() {
        assert_eq!(ms_of(1.2345), 1235);
        assert_eq!(ms_of(-1.0), 0);
        assert_eq!(ms_of(f64::NAN), 0);
        assert_eq!(secs_text(12_034), "12.034");
        assert_eq!(secs_text(5), "0.005");
        assert_eq!(one_line("a\tb\n c", true), "a_b_c");
        assert_eq!(marker_label("smile", " big\nsmile "), "smile: big smile");
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
        let v = without_overlaps(vec![(10, 20, 'b'), (0, 15, 'a'), (20, 20, 'c')]);
        assert_eq!(v, vec![(0, 15, 'a'), (15, 20, 'b'), (20, 21, 'c')]);
    }
}
