//! Finding and repairing sessions whose recording was interrupted (the process killed, a power
//! loss, a crash).
//!
//! While a session is recorded its folder holds `RECORDING` (the pid, the start, and what
//! tells this process from a later one with the same pid). The writer removes it after a clean
//! finish, so a folder that holds it while its process is gone was interrupted. The writer
//! syncs the audio and the event log every second, so such a folder lacks about a second at
//! most; [`repair`] makes what is there whole again:
//!
//! 1. every WAV part's RIFF and data chunk sizes are set from the bytes actually present
//!    (whole frames; stray bytes of a frame cut short are truncated); a part killed before its
//!    header was written holds no audio and is removed;
//! 2. a trailing partial line of `events.jsonl` (and any line that is not JSON) is dropped;
//! 3. `*.partial` files (analysis files that were being written) are removed and the analysis
//!    files of `attune analyze` are made again from the audio, with the settings of
//!    `session.json`, reading the parts in order;
//! 4. `session.json` gets a `recovered` object, `events.jsonl` a `recovered` line, and
//!    `RECORDING` is removed.
//!
//! Everything is checked before anything is changed: a session that cannot be repaired is left
//! as it is and the reason is reported. A folder whose lock (`.lock`, `session::claim`) a
//! recorder holds is being recorded: it is neither found nor repaired, whatever its marker
//! says; a repair holds that lock itself while it works. Every function here runs on the thread that calls it
//! (the main thread for the command line, the UI thread for the window).

use crate::time::clock;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audio::decode::ChannelSelect;
use crate::config::AnalysisConfig;
use crate::output::{create_new_private, create_private};
use crate::session::claim::{lock_for_repair, lock_state, remove_stale_lock, LockState};
use crate::session::folder::{ANALYSIS_NAME, EVENTS_FILE, MARKER_FILE, SESSION_FILE};
use crate::session::writer::{sync_dir, write_json};

/// How far into a WAV file its header is looked for.
const HEADER_SEARCH_BYTES: usize = 4096;

/// What `RECORDING` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingMarker {
    /// The recording process.
    pub pid: u32,
    /// When the session started (UTC, RFC 3339).
    pub started_utc: String,
    /// The process's start time (clock ticks after boot, `/proc/PID/stat`), so that a later
    /// process that got the same pid is not taken for the recorder.
    #[serde(default)]
    pub process_start_ticks: Option<u64>,
    /// The boot the process ran in (`/proc/sys/kernel/random/boot_id`): after a power loss
    /// every pid is from another boot.
    #[serde(default)]
    pub boot_id: Option<String>,
}

/// Why a session could not be repaired. Nothing of the session was changed, unless the error
/// says a file could not be written.
#[derive(Debug, Error)]
pub enum RecoveryError {
    #[error("{0} is not a session folder (it has no session.json)")]
    NotASession(PathBuf),
    #[error("{dir} is still being recorded ({}); it is left alone", match pid { Some(p) => format!("process {p}"), None => "process unknown".to_string() })]
    StillRecording { dir: PathBuf, pid: Option<u32> },
    #[error("{path} cannot be read as session metadata: {reason}")]
    Metadata { path: PathBuf, reason: String },
    #[error("{path} is not a WAV file that can be repaired: {reason}")]
    BadWav { path: PathBuf, reason: String },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("cannot repair {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot make the analysis files again: {0}")]
    Analysis(#[from] crate::driver::files::FileError),
    /// The repair had begun (a header rewritten, a partial file removed) when this stopped it.
    #[error("{0}; the repair stopped part-way: run `attune recover` on it again")]
    Unfinished(Box<RecoveryError>),
}

impl RecoveryError {
    /// Whether the session is as it was before the repair was tried (nothing was changed).
    pub fn left_as_it_was(&self) -> bool {
        !matches!(self, RecoveryError::Unfinished(_))
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RecoveryError + '_ {
    move |source| RecoveryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryReport {
    pub dir: PathBuf,
    /// Audio kept, all parts together (s).
    pub audio_secs: f64,
    /// WAV parts kept.
    pub audio_parts: usize,
    /// Lines of `events.jsonl` kept (the `recovered` line not counted).
    pub events_kept: u64,
    /// Bytes dropped: the end of a frame cut short, empty parts, a partial last event line.
    pub bytes_dropped: u64,
    /// The `t_s` of the last event kept, if any.
    pub last_event_t_s: Option<f64>,
    /// The process that was recording, when the marker says.
    pub interrupted_pid: Option<u32>,
}

/// The `recovered` object added to `session.json`.
#[derive(Debug, Serialize)]
struct RecoveredInfo {
    recovered_utc: String,
    #[serde(rename = "audio_s")]
    audio_secs: f64,
    audio_parts: usize,
    events_kept: u64,
    bytes_dropped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted_pid: Option<u32>,
}

/// The `recovered` line appended to `events.jsonl`.
#[derive(Debug, Serialize)]
struct RecoveredLine<'a> {
    t_s: f64,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    info: &'a RecoveredInfo,
}

// ---------------------------------------------------------------------------------------------
// The marker

/// Writes `DIR/RECORDING` for this process (owner-only, created new, synced). Called by the thread that
/// creates the session folder.
pub fn write_marker(dir: &Path, started_utc: &str) -> io::Result<()> {
    let marker = RecordingMarker {
        pid: std::process::id(),
        started_utc: started_utc.to_string(),
        process_start_ticks: process_start_ticks(std::process::id()),
        boot_id: boot_id(),
    };
    let path = dir.join(MARKER_FILE);
    let mut file = create_new_private(&path)?;
    serde_json::to_writer(&mut file, &marker).map_err(io::Error::other)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Removes `DIR/RECORDING` (the session is complete) and syncs the folder; best effort.
/// "session-writer" thread or whoever repaired the session.
pub fn remove_marker(dir: &Path) {
    if std::fs::remove_file(dir.join(MARKER_FILE)).is_ok() {
        sync_dir(dir);
    }
}

/// Reads `DIR/RECORDING`: `None` when there is none, `Some(None)` when it cannot be read as a
/// marker (cut short by a power loss, say).
pub fn read_marker(dir: &Path) -> Option<Option<RecordingMarker>> {
    let path = dir.join(MARKER_FILE);
    if !path.is_file() {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok();
    Some(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// The boot id of the running system, where the system says.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `/proc/PID/stat`: the state letter and the start time (clock ticks after boot).
fn proc_stat(pid: u32) -> Option<(char, Option<u64>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold anything: split after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Field 3 is the state (index 0 here); field 22, the start time, is index 19.
    let start = fields.get(19).and_then(|f| f.parse().ok());
    Some((state, start))
}

fn process_start_ticks(pid: u32) -> Option<u64> {
    proc_stat(pid).and_then(|(_, start)| start)
}

/// Whether the process that wrote `marker` is still running (then its session is being
/// recorded, by this process or another one). Without `/proc` (not Linux) every marker counts
/// as running: nothing is repaired behind a recorder's back.
pub fn recorder_is_running(marker: &RecordingMarker) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return true;
    }
    if let (Some(then), Some(now)) = (&marker.boot_id, boot_id()) {
        if *then != now {
            return false; // the machine was restarted since
        }
    }
    match proc_stat(marker.pid) {
        None => false,
        // A zombie (killed, not yet reaped) or dead process records nothing.
        Some(('Z' | 'X' | 'x', _)) => false,
        Some((_, start)) => match (marker.process_start_ticks, start) {
            (Some(then), Some(now)) => then == now,
            _ => true,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Finding interrupted sessions

/// Whether `dir` holds a `RECORDING` marker whose process is gone and no recorder holds its
/// lock (`.lock`, `session::claim`). A marker that cannot be read
/// counts when the folder is a session (`session.json` beside it).
fn is_interrupted(dir: &Path) -> bool {
    if matches!(lock_state(dir), LockState::Held { .. }) {
        return false; // a recorder holds it: being recorded
    }
    match read_marker(dir) {
        None => false,
        Some(Some(marker)) => !recorder_is_running(&marker),
        Some(None) => dir.join(SESSION_FILE).is_file(),
    }
}

/// The interrupted sessions in `root` and its sub-folders (one level), sorted: folders holding
/// `RECORDING` whose process is not running. A session this or another running process is
/// recording is skipped. A folder that cannot be listed gives none.
pub fn find_interrupted(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if is_interrupted(root) {
        found.push(root.to_path_buf());
    }
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) && is_interrupted(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Repairs every interrupted session under `root` ([`find_interrupted`]) and returns one
/// human-readable notice per session, repaired or not. Runs on the calling thread (the UI
/// thread when the window starts; it takes about 1 s per 20 min of audio, in the analysis).
pub fn recover_interrupted(root: &Path) -> Vec<String> {
    find_interrupted(root)
        .into_iter()
        .map(|dir| match repair(&dir) {
            Ok(report) => format!(
                "recovered the interrupted session {} ({} of audio)",
                dir.display(),
                clock(report.audio_secs)
            ),
            Err(e) => format!(
                "could not recover the interrupted session {}: {e}{}",
                dir.display(),
                if e.left_as_it_was() {
                    "; it is left as it was"
                } else {
                    ""
                }
            ),
        })
        .collect()
}

/// A notice as a sentence on its own: its first letter capitalised. Any thread.
pub fn sentence(notice: &str) -> String {
    let mut chars = notice.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

// ---------------------------------------------------------------------------------------------
// WAV header repair

/// What [`plan_wav`] found in one part.
#[derive(Debug, Clone, PartialEq)]
pub struct WavRepair {
    pub path: PathBuf,
    /// Offset of the first audio byte (after the data chunk header).
    pub data_offset: u64,
    /// Whole-frame audio bytes present, to be kept.
    pub data_bytes: u64,
    /// Bytes after the last whole frame, to be truncated.
    pub stray_bytes: u64,
    pub rate_hz: u32,
    /// Bytes per frame (all channels).
    pub block_align: u16,
    /// Killed before its header was written: no audio, the file is to be removed.
    pub empty: bool,
}

impl WavRepair {
    /// Seconds of audio kept.
    pub fn secs(&self) -> f64 {
        if self.empty || self.rate_hz == 0 || self.block_align == 0 {
            return 0.0;
        }
        (self.data_bytes / u64::from(self.block_align)) as f64 / f64::from(self.rate_hz)
    }
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn regular_file(path: &Path) -> Result<u64, RecoveryError> {
    let meta = std::fs::symlink_metadata(path).map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(RecoveryError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    Ok(meta.len())
}

/// Reads a WAV part's header and works out its repair, changing nothing: walks the RIFF chunks
/// to the `fmt ` and `data` chunks; the data chunk (the last one, as the writer makes it)
/// holds every byte after its header, in whole frames.
pub fn plan_wav(path: &Path) -> Result<WavRepair, RecoveryError> {
    let len = regular_file(path)?;
    let mut head = Vec::with_capacity(HEADER_SEARCH_BYTES);
    File::open(path)
        .map_err(io_err(path))?
        .take(HEADER_SEARCH_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(io_err(path))?;
    let bad = |reason: &str| RecoveryError::BadWav {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let empty = WavRepair {
        path: path.to_path_buf(),
        data_offset: 0,
        data_bytes: 0,
        stray_bytes: len,
        rate_hz: 0,
        block_align: 0,
        empty: true,
    };
    // Killed before the header reached the disk: nothing, or the first bytes of a header.
    let riff_prefix = head.iter().zip(b"RIFF").all(|(a, b)| a == b);
    if head.len() < 12 {
        return if riff_prefix {
            Ok(empty)
        } else {
            Err(bad("it does not start with RIFF"))
        };
    }
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(bad("it does not start with RIFF....WAVE"));
    }
    let mut pos = 12usize;
    let mut format: Option<(u32, u16)> = None;
    loop {
        let (Some(id), Some(size)) = (head.get(pos..pos + 4), le_u32(&head, pos + 4)) else {
            // The header stops before the data chunk: cut short while it was being written.
            return if len < 128 && format.is_none() {
                Ok(empty)
            } else {
                Err(bad("no data chunk in its header"))
            };
        };
        let body = pos + 8;
        if id == b"fmt " {
            let rate = le_u32(&head, body + 4);
            let align = le_u16(&head, body + 12);
            match (rate, align) {
                (Some(r), Some(a)) if size >= 16 && r > 0 && a > 0 => format = Some((r, a)),
                (None, _) | (_, None) if len < 128 => return Ok(empty),
                _ => return Err(bad("its fmt chunk is invalid")),
            }
        } else if id == b"data" {
            let Some((rate_hz, block_align)) = format else {
                return Err(bad("its data chunk comes before a fmt chunk"));
            };
            let data_offset = body as u64;
            let present = len.saturating_sub(data_offset);
            let stray_bytes = present % u64::from(block_align);
            let data_bytes = present - stray_bytes;
            if data_offset + data_bytes - 8 > u64::from(u32::MAX) {
                return Err(bad("it holds more than a WAV file can (4 GiB)"));
            }
            return Ok(WavRepair {
                path: path.to_path_buf(),
                data_offset,
                data_bytes,
                stray_bytes,
                rate_hz,
                block_align,
                empty: false,
            });
        }
        // Chunks are padded to an even length.
        pos = body + size as usize + (size as usize & 1);
    }
}

/// Applies a [`plan_wav`] repair: truncates the stray bytes and writes the RIFF and data chunk
/// sizes (or removes an empty part), then syncs.
pub fn apply_wav(plan: &WavRepair) -> Result<(), RecoveryError> {
    let path = &plan.path;
    if plan.empty {
        return std::fs::remove_file(path).map_err(io_err(path));
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let end = plan.data_offset + plan.data_bytes;
    let to_u32 = |v: u64| {
        u32::try_from(v).map_err(|_| RecoveryError::BadWav {
            path: path.clone(),
            reason: "it holds more than a WAV file can (4 GiB)".into(),
        })
    };
    let riff_size = to_u32(end - 8)?;
    let data_size = to_u32(plan.data_bytes)?;
    let write = |file: &mut File| -> io::Result<()> {
        if plan.stray_bytes > 0 {
            file.set_len(end)?;
        }
        file.seek(SeekFrom::Start(4))?;
        file.write_all(&riff_size.to_le_bytes())?;
        file.seek(SeekFrom::Start(plan.data_offset - 4))?;
        file.write_all(&data_size.to_le_bytes())?;
        file.sync_all()
    };
    write(&mut file).map_err(io_err(path))
}

/// Repairs one WAV file's header in place from the bytes present ([`plan_wav`] then
/// [`apply_wav`]).
pub fn repair_wav(path: &Path) -> Result<WavRepair, RecoveryError> {
    let plan = plan_wav(path)?;
    apply_wav(&plan)?;
    Ok(plan)
}

/// The WAV parts of a session folder in recording order.
fn wav_parts(dir: &Path) -> Result<Vec<PathBuf>, RecoveryError> {
    crate::session::folder::wav_parts(dir).map_err(io_err(dir))
}

// ---------------------------------------------------------------------------------------------
// The event log

/// What the event log needs.
#[derive(Debug, Default)]
struct EventsPlan {
    exists: bool,
    /// Lines that parse, kept.
    kept: u64,
    /// Bytes of lines dropped (a partial last line, lines that are not JSON).
    dropped_bytes: u64,
    /// Length of the good start of the file, when only its end is to be cut.
    good_len: u64,
    /// A bad line sits between good ones: the file is written again without it.
    rewrite: bool,
    last_t_s: Option<f64>,
}

#[derive(Deserialize)]
struct AnyLine {
    #[serde(default)]
    t_s: Option<f64>,
}

/// Reads the event log line by line, changing nothing.
fn plan_events(path: &Path) -> Result<EventsPlan, RecoveryError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(EventsPlan::default());
    }
    regular_file(path)?;
    let mut plan = EventsPlan {
        exists: true,
        ..EventsPlan::default()
    };
    let mut reader = BufReader::new(File::open(path).map_err(io_err(path))?);
    let mut line = Vec::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        let whole = line.last() == Some(&b'\n');
        let parsed = whole
            .then(|| serde_json::from_slice::<AnyLine>(&line).ok())
            .flatten();
        match parsed {
            Some(l) => {
                if plan.dropped_bytes > 0 {
                    plan.rewrite = true;
                }
                plan.kept += 1;
                plan.good_len = offset;
                if l.t_s.is_some() {
                    plan.last_t_s = l.t_s;
                }
            }
            None => plan.dropped_bytes += n as u64,
        }
    }
    Ok(plan)
}

/// Cuts the bad end of the log, or writes it again without its bad lines.
fn apply_events(path: &Path, plan: &EventsPlan) -> Result<(), RecoveryError> {
    if !plan.exists || plan.dropped_bytes == 0 {
        return Ok(());
    }
    if !plan.rewrite {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.set_len(plan.good_len).map_err(io_err(path))?;
        return file.sync_all().map_err(io_err(path));
    }
    let tmp = path.with_extension("jsonl.partial");
    let copy = || -> io::Result<()> {
        let mut reader = BufReader::new(File::open(path)?);
        let mut out = BufWriter::new(create_private(&tmp)?);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            if line.last() == Some(&b'\n') && serde_json::from_slice::<AnyLine>(&line).is_ok() {
                out.write_all(&line)?;
            }
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    copy().map_err(io_err(path))
}

// ---------------------------------------------------------------------------------------------
// The repair

/// Repairs one interrupted session folder (see the module docs) and reports what it kept.
/// Checks everything first: a session that cannot be repaired is left as it is.
pub fn repair(dir: &Path) -> Result<RecoveryReport, RecoveryError> {
    // 1. Check, change nothing.
    let session_path = dir.join(SESSION_FILE);
    if !session_path.is_file() {
        return Err(RecoveryError::NotASession(dir.to_path_buf()));
    }
    // Held for the whole repair: a recorder holding it is recording (nothing is touched), and
    // no second repair runs at once.
    let lock = lock_for_repair(dir).map_err(|pid| RecoveryError::StillRecording {
        dir: dir.to_path_buf(),
        pid,
    })?;
    let marker = read_marker(dir).flatten();
    if let Some(m) = &marker {
        if recorder_is_running(m) {
            return Err(RecoveryError::StillRecording {
                dir: dir.to_path_buf(),
                pid: Some(m.pid),
            });
        }
    }
    let metadata_error = |reason: String| RecoveryError::Metadata {
        path: session_path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&session_path).map_err(io_err(&session_path))?;
    let mut meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| metadata_error(e.to_string()))?;
    let settings = meta
        .get("settings")
        .ok_or_else(|| metadata_error("it has no settings".into()))?;
    let config: AnalysisConfig = serde_json::from_value(settings.clone())
        .map_err(|e| metadata_error(format!("its settings: {e}")))?;
    config
        .validate()
        .map_err(|e| metadata_error(format!("its settings: {e}")))?;
    if !meta.is_object() {
        return Err(metadata_error("it is not a JSON object".into()));
    }
    let plans = wav_parts(dir)?
        .iter()
        .map(|p| plan_wav(p))
        .collect::<Result<Vec<_>, _>>()?;
    let events_path = dir.join(EVENTS_FILE);
    let events = plan_events(&events_path)?;

    // 2. Repair: from here on, an error leaves the session part-way.
    let unfinished = |e: RecoveryError| RecoveryError::Unfinished(Box::new(e));
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "partial") && path.is_file() {
            std::fs::remove_file(&path)
                .map_err(io_err(&path))
                .map_err(unfinished)?;
        }
    }
    for plan in &plans {
        apply_wav(plan).map_err(unfinished)?;
    }
    apply_events(&events_path, &events).map_err(unfinished)?;
    let kept: Vec<PathBuf> = plans
        .iter()
        .filter(|p| !p.empty)
        .map(|p| p.path.clone())
        .collect();
    let audio_secs: f64 = plans.iter().map(WavRepair::secs).sum();
    remake_analysis(dir, &kept, &config, &meta).map_err(unfinished)?;

    let info = RecoveredInfo {
        recovered_utc: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        audio_secs: (audio_secs * 1000.0).round() / 1000.0,
        audio_parts: kept.len(),
        events_kept: events.kept,
        bytes_dropped: plans.iter().map(|p| p.stray_bytes).sum::<u64>() + events.dropped_bytes,
        interrupted_pid: marker.as_ref().map(|m| m.pid),
    };
    if let Some(obj) = meta.as_object_mut() {
        let value = serde_json::to_value(&info)
            .map_err(|e| metadata_error(e.to_string()))
            .map_err(unfinished)?;
        obj.insert("recovered".into(), value);
    }
    write_json(&session_path, &meta)
        .map_err(io_err(&session_path))
        .map_err(unfinished)?;
    let line = RecoveredLine {
        t_s: info.audio_secs,
        kind: "recovered",
        info: &info,
    };
    let append = || -> io::Result<()> {
        let mut opts = OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&events_path)?;
        let mut text = serde_json::to_vec(&line).map_err(io::Error::other)?;
        text.push(b'\n');
        file.write_all(&text)?;
        file.sync_all()
    };
    append().map_err(io_err(&events_path)).map_err(unfinished)?;
    remove_marker(dir);
    if lock.is_some() {
        remove_stale_lock(dir);
    }
    drop(lock);
    Ok(RecoveryReport {
        dir: dir.to_path_buf(),
        audio_secs,
        audio_parts: info.audio_parts,
        events_kept: events.kept,
        bytes_dropped: info.bytes_dropped,
        last_event_t_s: events.last_t_s,
        interrupted_pid: info.interrupted_pid,
    })
}

/// Makes `session.{f0,onsets,segments}.csv` and `session.summary.json` again from the parts,
/// with the analysis `attune analyze` runs.
fn remake_analysis(
    dir: &Path,
    parts: &[PathBuf],
    config: &AnalysisConfig,
    meta: &serde_json::Value,
) -> Result<(), RecoveryError> {
    let input = meta
        .get("input")
        .and_then(|v| v.as_str())
        .unwrap_or("live capture");
    if parts.is_empty() {
        // No audio was recorded: empty analysis files, as a session of no length.
        let writer = crate::output::AnalysisWriter::create(dir, ANALYSIS_NAME, config)
            .map_err(io_err(dir))?;
        let desc = crate::output::InputDescription {
            path: input.to_string(),
            audio: crate::audio::decode::AudioInfo {
                sample_rate_hz: crate::config::ANALYSIS_RATE_HZ,
                channels: 1,
                duration_secs: Some(0.0),
                codec: "none (no audio was recorded)".into(),
                bits_per_sample: Some(16),
                announced_secs: None,
            },
            channel: "live".into(),
        };
        writer
            .finish(
                desc,
                config,
                &crate::dsp::resample::InputStats::default(),
                0,
            )
            .map_err(io_err(dir))?;
        return Ok(());
    }
    crate::offline::analyze_parts(parts, ANALYSIS_NAME, dir, config, ChannelSelect::Downmix)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn a_wav_cut_mid_frame_with_a_stale_header_is_repaired_to_its_whole_frames() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("audio.wav");
        let samples: Vec<i16> = (0..16_000).map(|i| (i % 1000) as i16).collect();
        write_wav(&path, 16_000, &samples);
        // As a killed writer leaves it: the header says 0.5 s (its last flush), the file holds
        // 0.9 s and one stray byte of a frame cut in the middle.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(44 + 2 * 14_400 + 1);
        bytes[4..8].copy_from_slice(&(36u32 + 16_000).to_le_bytes());
        bytes[40..44].copy_from_slice(&16_000u32.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();

        let plan = repair_wav(&path).unwrap();
        assert_eq!(plan.data_offset, 44);
        assert_eq!(plan.data_bytes, 2 * 14_400);
        assert_eq!(plan.stray_bytes, 1);
        assert!((plan.secs() - 0.9).abs() < 1e-9);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 44 + 2 * 14_400);
        let mut reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.duration(), 14_400);
        let back: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(back, samples[..14_400]);
        // Repairing again changes nothing.
        let again = repair_wav(&path).unwrap();
        assert_eq!(again.stray_bytes, 0);
        assert_eq!(again.data_bytes, 2 * 14_400);
    }

    #[test]
    fn a_part_killed_before_its_header_is_empty_and_a_foreign_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("audio.part2.wav");
        std::fs::write(&empty, b"RIF").unwrap();
        assert!(plan_wav(&empty).unwrap().empty);
        std::fs::write(&empty, b"").unwrap();
        assert!(plan_wav(&empty).unwrap().empty);
        let text = tmp.path().join("audio.wav");
        std::fs::write(&text, b"this is not audio at all, it is a text file").unwrap();
        let err = plan_wav(&text).unwrap_err();
        assert!(err.to_string().contains("not a WAV file"), "{err}");
    }

    #[test]
    fn the_event_log_loses_only_its_partial_last_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("events.jsonl");
        std::fs::write(
            &path,
            b"{\"t_s\":0.1,\"type\":\"onset\"}\n{\"t_s\":0.2}\n{\"t_s\":0.3,\"ty",
        )
        .unwrap();
        let plan = plan_events(&path).unwrap();
        assert_eq!(plan.kept, 2);
        assert_eq!(plan.dropped_bytes, 14);
        assert!(!plan.rewrite);
        assert_eq!(plan.last_t_s, Some(0.2));
        apply_events(&path, &plan).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("{\"t_s\":0.2}\n"), "{text}");
    }

    #[test]
    fn clock_reads_minutes_and_hours() {
        assert_eq!(clock(4.4), "0:04");
        assert_eq!(clock(75.0), "1:15");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
