//! `NAME.eaf`: an ELAN annotation document, EAF 3.0, valid against ELAN's published schema
//! (`EAFv3.0.xsd`; `tests/export.rs` validates every export against it).
//!
//! Tiers:
//! - one per person (`user`, `partner`, or `A`, `B`), linguistic type `vocalisation`: one
//!   annotation per vocalisation, its value the speaker's label;
//! - under each, `<person> f0` (type `f0-summary`, Symbolic_Association): the vocalisation's
//!   median pitch and 5-95 % range, and its syllables;
//! - `turns` (type `turn`): the transition of each LENA turn, from the end of the vocalisation
//!   to the start of its answer (or the overlap, when the answer starts first), valued
//!   `from->to latency s` with the mirror score of a partner's answer and `chattr` when
//!   chattr's windows admit it;
//! - `markers` (type `marker`): ELAN has no point annotations, so each marker becomes an
//!   annotation of [`MARKER_MS`] from its time (shortened if the next marker comes sooner),
//!   valued `code` or `code: note`.
//!
//! Times are milliseconds (`TIME_ORDER`, one time slot per annotation boundary, in time order).
//! The header links the first audio file: `MEDIA_URL` as an absolute `file://` URL and
//! `RELATIVE_MEDIA_URL` relative to the export folder, so ELAN finds the audio when the folders
//! move together. Text is escaped by [`xml_escape`]. Any thread.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use super::{
    marker_label, ms_of, participant_name, spans, tier_speakers, without_overlaps, xml_escape,
    ExportContext,
};
use crate::session::model::SessionModel;

/// How long a marker's annotation lasts in the EAF (ms).
pub const MARKER_MS: u64 = 500;

const XSD: &str = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd";

struct Annotation {
    id: usize,
    kind: AnnotationKind,
    value: String,
}

enum AnnotationKind {
    /// Time slots (indices into the slot list).
    Aligned(usize, usize),
    /// A reference to a parent annotation id.
    Ref(usize),
}

struct Tier {
    id: String,
    linguistic_type: &'static str,
    participant: Option<String>,
    parent: Option<String>,
    annotations: Vec<Annotation>,
}

#[derive(Default)]
struct Doc {
    /// Time slot values (ms), in creation order.
    slots: Vec<u64>,
    tiers: Vec<Tier>,
    next_id: usize,
}

impl Doc {
    fn slot(&mut self, ms: u64) -> usize {
        self.slots.push(ms);
        self.slots.len() - 1
    }

    fn id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    /// An alignable annotation; returns its id.
    fn aligned(&mut self, tier: usize, start_ms: u64, end_ms: u64, value: String) -> usize {
        let (a, b) = (self.slot(start_ms), self.slot(end_ms));
        let id = self.id();
        self.tiers[tier].annotations.push(Annotation {
            id,
            kind: AnnotationKind::Aligned(a, b),
            value,
        });
        id
    }

    fn reference(&mut self, tier: usize, parent_id: usize, value: String) {
        let id = self.id();
        self.tiers[tier].annotations.push(Annotation {
            id,
            kind: AnnotationKind::Ref(parent_id),
            value,
        });
    }

    fn tier(
        &mut self,
        id: String,
        linguistic_type: &'static str,
        participant: Option<String>,
        parent: Option<String>,
    ) -> usize {
        self.tiers.push(Tier {
            id,
            linguistic_type,
            participant,
            parent,
            annotations: Vec::new(),
        });
        self.tiers.len() - 1
    }
}

fn f0_summary(v: &crate::events::Vocalisation) -> String {
    let syl = match v.syllables {
        1 => "1 syllable".to_string(),
        n => format!("{n} syllables"),
    };
    if v.f0_median_hz > 0.0 {
        format!(
            "f0 {:.0} Hz ({:.0}-{:.0} Hz), {syl}",
            v.f0_median_hz, v.f0_low_hz, v.f0_high_hz
        )
    } else {
        format!("unvoiced, {syl}")
    }
}

/// Renders the EAF document.
pub fn render(model: &SessionModel, ctx: &ExportContext) -> String {
    let mut doc = Doc::default();
    let spans = spans(model);
    for who in tier_speakers(model) {
        let label = who.as_str();
        let tier = doc.tier(
            label.to_string(),
            "vocalisation",
            participant_name(model, who).map(str::to_string),
            None,
        );
        let f0_tier = doc.tier(
            format!("{label} f0"),
            "f0-summary",
            participant_name(model, who).map(str::to_string),
            Some(label.to_string()),
        );
        let mine: Vec<(u64, u64, usize)> = spans
            .iter()
            .filter(|s| s.speaker == who)
            .map(|s| (s.start_ms, s.end_ms, s.segment))
            .collect();
        for (a, b, seg) in without_overlaps(mine) {
            let id = doc.aligned(tier, a, b, label.to_string());
            let summary = f0_summary(&model.segments[seg].vocalisation);
            doc.reference(f0_tier, id, summary);
        }
    }

    let answerer = model.parties()[1];
    let turns_tier = doc.tier("turns".into(), "turn", None, None);
    let turns: Vec<(u64, u64, String)> = model
        .turns
        .iter()
        .map(|r| {
            let t = &r.turn;
            let (a, b) = (ms_of(t.prev_end_secs), ms_of(t.next_start_secs));
            let mut value = format!("{} {:.2} s", t.direction(), t.latency_secs);
            if let Some(m) = r.mirror.filter(|_| t.to == answerer) {
                let _ = write!(value, ", mirror {:.0}", m.score);
            }
            if r.chattr {
                value.push_str(", chattr");
            }
            (a.min(b), a.max(b), value)
        })
        .collect();
    for (a, b, value) in without_overlaps(turns) {
        doc.aligned(turns_tier, a, b, value);
    }

    let markers_tier = doc.tier("markers".into(), "marker", None, None);
    let mut markers: Vec<(u64, u64, String)> = model
        .markers
        .iter()
        .map(|m| {
            let a = ms_of(m.t_s);
            (a, a + MARKER_MS, marker_label(&m.code, &m.note))
        })
        .collect();
    markers.sort_by_key(|m| m.0);
    // A marker's annotation ends where the next marker begins.
    for i in 1..markers.len() {
        let next = markers[i].0;
        let cur = &mut markers[i - 1];
        cur.1 = cur.1.min(next).max(cur.0 + 1);
    }
    for (a, b, value) in without_overlaps(markers) {
        doc.aligned(markers_tier, a, b, value);
    }

    write_document(model, ctx, &doc)
}

fn write_document(model: &SessionModel, ctx: &ExportContext, doc: &Doc) -> String {
    // Time slot ids in time order (ties keep creation order).
    let mut order: Vec<usize> = (0..doc.slots.len()).collect();
    order.sort_by_key(|&i| (doc.slots[i], i));
    let mut slot_id = vec![0usize; doc.slots.len()];
    for (rank, &i) in order.iter().enumerate() {
        slot_id[i] = rank + 1;
    }

    let mut x = String::with_capacity(4096 + doc.slots.len() * 64);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<ANNOTATION_DOCUMENT AUTHOR=\"{}\" DATE=\"{}\" FORMAT=\"3.0\" VERSION=\"3.0\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:noNamespaceSchemaLocation=\"{XSD}\">",
        xml_escape(&format!("attune {}", env!("CARGO_PKG_VERSION"))),
        xml_escape(&ctx.generated_utc),
    );
    x.push_str("    <HEADER MEDIA_FILE=\"\" TIME_UNITS=\"milliseconds\">\n");
    if let Some(audio) = model.audio_files.first() {
        let (abs, rel) = media_urls(audio, &ctx.out_dir);
        let _ = writeln!(
            x,
            "        <MEDIA_DESCRIPTOR MEDIA_URL=\"{}\" MIME_TYPE=\"{}\" RELATIVE_MEDIA_URL=\"{}\"/>",
            xml_escape(&abs),
            mime_type(audio),
            xml_escape(&rel)
        );
    }
    let _ = writeln!(
        x,
        "        <PROPERTY NAME=\"lastUsedAnnotationId\">{}</PROPERTY>",
        doc.next_id
    );
    x.push_str("    </HEADER>\n    <TIME_ORDER>\n");
    for &i in &order {
        let _ = writeln!(
            x,
            "        <TIME_SLOT TIME_SLOT_ID=\"ts{}\" TIME_VALUE=\"{}\"/>",
            slot_id[i], doc.slots[i]
        );
    }
    x.push_str("    </TIME_ORDER>\n");
    for tier in &doc.tiers {
        let _ = write!(
            x,
            "    <TIER LINGUISTIC_TYPE_REF=\"{}\"",
            tier.linguistic_type
        );
        if let Some(p) = &tier.parent {
            let _ = write!(x, " PARENT_REF=\"{}\"", xml_escape(p));
        }
        if let Some(p) = &tier.participant {
            let _ = write!(x, " PARTICIPANT=\"{}\"", xml_escape(p));
        }
        let _ = write!(x, " TIER_ID=\"{}\"", xml_escape(&tier.id));
        if tier.annotations.is_empty() {
            x.push_str("/>\n");
            continue;
        }
        x.push_str(">\n");
        for a in &tier.annotations {
            x.push_str("        <ANNOTATION>\n");
            match a.kind {
                AnnotationKind::Aligned(s1, s2) => {
                    let _ = writeln!(
                        x,
                        "            <ALIGNABLE_ANNOTATION ANNOTATION_ID=\"a{}\" \
                         TIME_SLOT_REF1=\"ts{}\" TIME_SLOT_REF2=\"ts{}\">",
                        a.id, slot_id[s1], slot_id[s2]
                    );
                    let _ = writeln!(
                        x,
                        "                <ANNOTATION_VALUE>{}</ANNOTATION_VALUE>",
                        xml_escape(&a.value)
                    );
                    x.push_str("            </ALIGNABLE_ANNOTATION>\n");
                }
                AnnotationKind::Ref(parent) => {
                    let _ = writeln!(
                        x,
                        "            <REF_ANNOTATION ANNOTATION_ID=\"a{}\" ANNOTATION_REF=\"a{}\">",
                        a.id, parent
                    );
                    let _ = writeln!(
                        x,
                        "                <ANNOTATION_VALUE>{}</ANNOTATION_VALUE>",
                        xml_escape(&a.value)
                    );
                    x.push_str("            </REF_ANNOTATION>\n");
                }
            }
            x.push_str("        </ANNOTATION>\n");
        }
        x.push_str("    </TIER>\n");
    }
    for (id, constraint) in [
        ("default-lt", None),
        ("vocalisation", None),
        ("f0-summary", Some("Symbolic_Association")),
        ("turn", None),
        ("marker", None),
    ] {
        match constraint {
            Some(c) => {
                let _ = writeln!(
                    x,
                    "    <LINGUISTIC_TYPE CONSTRAINTS=\"{c}\" GRAPHIC_REFERENCES=\"false\" \
                     LINGUISTIC_TYPE_ID=\"{id}\" TIME_ALIGNABLE=\"false\"/>"
                );
            }
            None => {
                let _ = writeln!(
                    x,
                    "    <LINGUISTIC_TYPE GRAPHIC_REFERENCES=\"false\" \
                     LINGUISTIC_TYPE_ID=\"{id}\" TIME_ALIGNABLE=\"true\"/>"
                );
            }
        }
    }
    x.push_str(
        "    <LANGUAGE LANG_DEF=\"http://cdb.iso.org/lg/CDB-00130975-001\" LANG_ID=\"und\" \
         LANG_LABEL=\"undetermined (und)\"/>\n",
    );
    for (stereotype, description) in [
        (
            "Time_Subdivision",
            "Time subdivision of parent annotation's time interval, no time gaps allowed within this interval",
        ),
        (
            "Symbolic_Subdivision",
            "Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered",
        ),
        ("Symbolic_Association", "1-1 association with a parent annotation"),
        (
            "Included_In",
            "Time alignable annotations within the parent annotation's time interval, gaps are allowed",
        ),
    ] {
        let _ = writeln!(
            x,
            "    <CONSTRAINT DESCRIPTION=\"{}\" STEREOTYPE=\"{stereotype}\"/>",
            xml_escape(description)
        );
    }
    x.push_str("</ANNOTATION_DOCUMENT>\n");
    x
}

/// The MIME type ELAN expects for an audio file.
fn mime_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("wav" | "wave") => "audio/x-wav",
        Some("mp3") => "audio/mpeg",
        Some("m4a" | "mp4" | "aac") => "audio/mp4",
        _ => "audio/*",
    }
}

/// The audio as an absolute `file://` URL and as a URL relative to `out_dir`.
fn media_urls(audio: &Path, out_dir: &Path) -> (String, String) {
    let full = |p: &Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let (audio, out) = (full(audio), full(out_dir));
    let abs = format!("file://{}", encode_path(&audio));
    let rel = relative_path(&audio, &out);
    let rel = encode_path(&rel);
    let rel = if rel.starts_with("../") {
        rel
    } else {
        format!("./{rel}")
    };
    (abs, rel)
}

/// `target` relative to the folder `base` (both absolute).
fn relative_path(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<Component> = target.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// A path as the path part of a URL: `/` separated, every byte outside the unreserved set
/// percent-encoded.
fn encode_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_eaf_media_urls_are_relative_to_the_export_folder() {
        assert_eq!(
            relative_path(Path::new("/data/s1/audio.wav"), Path::new("/data/out")),
            PathBuf::from("../s1/audio.wav")
        );
        assert_eq!(
            relative_path(Path::new("/data/out/a.wav"), Path::new("/data/out")),
            PathBuf::from("a.wav")
        );
        assert_eq!(
            encode_path(Path::new("/a b/ü.wav")),
            "/a%20b/%C3%BC.wav".to_string()
        );
        assert_eq!(mime_type(Path::new("x.WAV")), "audio/x-wav");
    }
}
