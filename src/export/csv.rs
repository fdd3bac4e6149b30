//! The CSV tables: `NAME.segments.csv`, `NAME.turns.csv`, `NAME.pitch.csv` and
//! `NAME.markers.csv`. One header line, comma-separated, `\n` line ends, UTF-8; fields are
//! quoted as RFC 4180 says (by the `csv` crate) when they hold a comma, a quote or a line
//! break, so pandas (`read_csv`) and R (`read.csv`) read them as they are. A missing value is
//! an empty field (NaN / NA). Times are seconds with millisecond precision. Any thread.

use std::io;

use ::csv::{Terminator, Writer, WriterBuilder};

use super::{ms_of, secs_text};
use crate::session::model::SessionModel;

/// Header of `NAME.segments.csv`: the same columns as `attune analyze` writes, so a reviewed
/// export reads like the analysis it corrects.
pub const SEGMENTS_HEADER: [&str; 15] = [
    "start_s",
    "end_s",
    "speaker",
    "duration_s",
    "peak_dbfs",
    "mean_dbfs",
    "f0_median_hz",
    "f0_p5_hz",
    "f0_p95_hz",
    "voiced_frames",
    "syllables",
    "syllable_rate_hz",
    "mean_ioi_s",
    "regularity",
    "tail_s",
];

fn writer() -> Writer<Vec<u8>> {
    WriterBuilder::new()
        .terminator(Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn finish(w: Writer<Vec<u8>>) -> io::Result<Vec<u8>> {
    w.into_inner().map_err(|e| e.into_error())
}

fn hz(x: f32) -> String {
    if x > 0.0 && x.is_finite() {
        format!("{x:.1}")
    } else {
        String::new()
    }
}

fn db(x: f32) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        String::new()
    }
}

/// `NAME.segments.csv`: one row per vocalisation, by start.
pub fn segments(model: &SessionModel) -> io::Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(SEGMENTS_HEADER)?;
    for span in super::spans(model) {
        let v = &model.segments[span.segment].vocalisation;
        w.write_record([
            secs_text(span.start_ms),
            secs_text(span.end_ms),
            span.speaker.as_str().to_string(),
            secs_text(span.end_ms - span.start_ms),
            db(v.peak_level_dbfs),
            db(v.mean_level_dbfs),
            hz(v.f0_median_hz),
            hz(v.f0_low_hz),
            hz(v.f0_high_hz),
            v.voiced_frames.to_string(),
            v.syllables.to_string(),
            format!("{:.2}", v.syllable_rate_hz),
            format!("{:.3}", v.mean_ioi_secs),
            v.regularity.map(|r| format!("{r:.3}")).unwrap_or_default(),
            format!("{:.3}", v.tail_secs()),
        ])?;
    }
    finish(w)
}

/// `NAME.turns.csv`: one row per LENA turn (chattr's flagged), with the mirror score of the
/// answer and its parts (0-100); the columns of `attune analyze`'s `NAME.turns.csv`
/// ([`crate::output::TURNS_HEADER`]).
pub fn turns(model: &SessionModel) -> io::Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(crate::output::TURNS_HEADER.split(','))?;
    for r in &model.turns {
        w.write_record(crate::output::turn_fields(r))?;
    }
    finish(w)
}

/// `NAME.pitch.csv`: every voiced 10 ms frame inside a segment, with that segment's speaker.
pub fn pitch(model: &SessionModel) -> io::Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(["time_s", "f0_hz", "speaker"])?;
    for (t, f0, who) in model.pitch_by_speaker() {
        w.write_record([
            format!("{t:.3}"),
            format!("{f0:.2}"),
            who.as_str().to_string(),
        ])?;
    }
    finish(w)
}

/// `NAME.markers.csv`: the practitioner's markers, by time.
pub fn markers(model: &SessionModel) -> io::Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(["time_s", "code", "note"])?;
    for m in &model.markers {
        w.write_record([secs_text(ms_of(m.t_s)), m.code.clone(), m.note.clone()])?;
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_csv_quotes_notes_as_rfc_4180() {
        let mut w = writer();
        w.write_record(["1.000", "smile", "said \"hi\", then\nlaughed"])
            .unwrap();
        let text = String::from_utf8(finish(w).unwrap()).unwrap();
        assert_eq!(text, "1.000,smile,\"said \"\"hi\"\", then\nlaughed\"\n");
    }
}
