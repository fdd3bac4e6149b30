//! Claiming a session folder for one recorder, exclusively and atomically.
//!
//! A recorder records only into a folder that is its own:
//! - a folder it creates itself (the last component created with a non-recursive `mkdir`, so a
//!   folder that is there already is seen, never shared), or a folder that exists and is
//!   **empty**; a folder holding anything (the user's own `audio.wav`, a recorded session, a
//!   symbolic link) is refused and left exactly as it was, its mode too;
//! - then it creates `DIR/.lock` new (`O_CREAT | O_EXCL`, 0600), holds an advisory lock on it
//!   (`flock`, `File::lock`) for the whole recording and writes its pid into it. The lock goes
//!   with the process: a killed recorder holds nothing. A second recorder on the same folder
//!   finds `.lock` there (or the folder not empty) and is refused with the pid before it writes
//!   anything; `session::recovery` leaves a folder whose lock is held alone (being recorded).
//!   At a clean end the recorder removes `.lock`; a killed recorder's stale, unheld `.lock` is
//!   removed by the repair.
//!
//! New folders under the sessions folder (`YYYYMMDD-HHMMSS-PSEUDONYM`) are numbered `-2`,
//! `-3`... when the name is taken *at creation time* (`mkdir` fails with `AlreadyExists`), so
//! two starts in the same second get two folders. Folders attune creates, the ones above the
//! session folder too, are 0700 whatever the umask.
//!
//! Every function here runs on the thread that calls it (the thread that starts the pipeline,
//! the main thread for the command line, the UI thread for the window); the lock is then held
//! by the "session-writer" thread until the recording ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::output::{create_new_private, create_private_dir, create_private_dir_all};
use crate::session::folder::{LOCK_FILE, SESSION_FILE};

/// How many numbered names (`-2`, `-3`...) a new session folder tries before giving up.
const MAX_NUMBERED_NAMES: u32 = 10_000;
/// How long a refused recorder waits for the winner's pid to appear in `.lock` (ms).
const PID_WAIT_MS: u64 = 200;
/// How often it looks within that time (ms).
const PID_POLL_MS: u64 = 5;

/// Where a session is to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionFolder {
    /// This folder (`--session-dir`): created, or accepted when it exists and is empty.
    Given(PathBuf),
    /// A new folder `YYYYMMDD-HHMMSS-PSEUDONYM` (numbered when taken) under this one.
    NewUnder(PathBuf),
}

/// Why a folder cannot be recorded into. Nothing in the folder was changed.
#[derive(Debug, Error)]
pub enum ClaimError {
    #[error("{dir} is being recorded by another attune ({}); nothing was written", pid_text(*.pid))]
    Busy { dir: PathBuf, pid: Option<u32> },
    #[error("{0} already holds a recorded session; give a new folder (or no --session-dir: a new one is made under the sessions folder)")]
    RecordedSession(PathBuf),
    #[error("{dir} is not empty (it holds {entry}); attune records only into a new or empty folder and replaces nothing")]
    NotEmpty { dir: PathBuf, entry: String },
    #[error("{0} exists and is not a folder")]
    NotAFolder(PathBuf),
    #[error("{0} exists already; attune replaces nothing")]
    FileExists(PathBuf),
    #[error("no free folder name for {0} (-2 ... -{MAX_NUMBERED_NAMES} are taken)")]
    NoFreeName(PathBuf),
    #[error("cannot create the session folder {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn pid_text(pid: Option<u32>) -> String {
    pid.map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}"))
}

/// The claim's error for a failed write at `path`: something already there is refused as
/// such (attune replaces nothing), anything else is an I/O error. Any thread.
pub fn claim_io(path: &Path, source: io::Error) -> ClaimError {
    if source.kind() == io::ErrorKind::AlreadyExists {
        ClaimError::FileExists(path.to_path_buf())
    } else {
        ClaimError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ClaimError + '_ {
    move |source| claim_io(path, source)
}

/// A session folder held by this recorder: the lock on `DIR/.lock` is held while this lives
/// (dropping it releases the lock; [`SessionClaim::finish`] also removes the file).
#[derive(Debug)]
pub struct SessionClaim {
    dir: PathBuf,
    lock: File,
    /// The folder was created by this claim (not an empty folder that was there).
    created: bool,
}

impl SessionClaim {
    /// Claims `folder` for a recording (see the module docs). Any thread.
    pub fn claim(folder: &SessionFolder, participant: &str) -> Result<Self, ClaimError> {
        match folder {
            SessionFolder::Given(dir) => Self::claim_given(dir),
            SessionFolder::NewUnder(base) => Self::claim_new_under(base, participant),
        }
    }

    /// The session folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether this claim created the folder (it may then remove it again when empty).
    pub fn created(&self) -> bool {
        self.created
    }

    /// A given folder: created new, or accepted when it exists and is empty.
    fn claim_given(dir: &Path) -> Result<Self, ClaimError> {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_dirs_private(parent)?;
        }
        let created = match create_private_dir(dir) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !dir.is_dir() {
                    return Err(ClaimError::NotAFolder(dir.to_path_buf()));
                }
                // Refused before anything is written when it holds anything.
                check_empty(dir)?;
                false
            }
            Err(source) => {
                return Err(ClaimError::Io {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        };
        let claim = Self::lock_new(dir, created)?;
        if !created {
            // Someone else's file may have come between the check and the lock.
            if let Err(e) = check_only_lock(dir) {
                claim.abandon();
                return Err(e);
            }
        }
        Ok(claim)
    }

    /// A new folder under `base`, numbered when the name is taken at creation.
    fn claim_new_under(base: &Path, participant: &str) -> Result<Self, ClaimError> {
        create_dirs_private(base)?;
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let first = base.join(format!("{stamp}-{}", folder_safe(participant)));
        for n in 1..=MAX_NUMBERED_NAMES {
            let dir = if n == 1 {
                first.clone()
            } else {
                PathBuf::from(format!("{}-{n}", first.display()))
            };
            match create_private_dir(&dir) {
                Ok(()) => return Self::lock_new(&dir, true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(ClaimError::Io { path: dir, source }),
            }
        }
        Err(ClaimError::NoFreeName(first))
    }

    /// Creates `.lock` new in `dir`, locks it, writes this process's pid into it.
    fn lock_new(dir: &Path, created: bool) -> Result<Self, ClaimError> {
        let path = dir.join(LOCK_FILE);
        let mut lock = match create_new_private(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Another recorder came first (or left something there).
                return Err(refusal(dir));
            }
            Err(source) => return Err(ClaimError::Io { path, source }),
        };
        // Only someone looking (a second recorder, a recovery) can hold it for a moment:
        // this file was created by this call.
        lock.lock().map_err(io_err(&path))?;
        let written = writeln!(lock, "{}", std::process::id()).and_then(|()| lock.sync_all());
        let claim = Self {
            dir: dir.to_path_buf(),
            lock,
            created,
        };
        if let Err(source) = written {
            claim.abandon();
            return Err(ClaimError::Io { path, source });
        }
        crate::session::writer::sync_dir(dir);
        Ok(claim)
    }

    /// Ends the claim at a clean end: removes `.lock` (while still holding it), then releases
    /// it. "session-writer" thread.
    pub fn finish(self) {
        let Self { dir, lock, .. } = self;
        let _ = std::fs::remove_file(dir.join(LOCK_FILE));
        crate::session::writer::sync_dir(&dir);
        drop(lock);
    }

    /// Undoes the claim: removes `.lock`, and the folder when this claim made it and it is
    /// empty. Any thread.
    pub fn abandon(self) {
        let Self { dir, lock, created } = self;
        let _ = std::fs::remove_file(dir.join(LOCK_FILE));
        if created {
            let _ = std::fs::remove_dir(&dir);
        }
        drop(lock);
    }
}

/// Who holds the lock of a session folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// No `.lock` file.
    Absent,
    /// A `.lock` nobody holds (a killed recorder's).
    Free,
    /// A recorder holds it: the session is being recorded.
    Held { pid: Option<u32> },
}

/// Whether `dir` is being recorded by a recorder that holds its lock. Any thread.
pub fn lock_state(dir: &Path) -> LockState {
    let path = dir.join(LOCK_FILE);
    let Ok(file) = File::open(&path) else {
        return if std::fs::symlink_metadata(&path).is_ok() {
            // There but unreadable: take it as held, touch nothing.
            LockState::Held { pid: None }
        } else {
            LockState::Absent
        };
    };
    match file.try_lock_shared() {
        Ok(()) => LockState::Free,
        Err(TryLockError::WouldBlock) => LockState::Held {
            pid: read_pid(&path),
        },
        Err(TryLockError::Error(_)) => LockState::Held { pid: None },
    }
}

/// The lock of a folder taken for a repair: held until dropped. `Err(pid)` when a recorder
/// holds it. `Ok(None)` when the folder has no `.lock` (recorded before there was one). Any
/// thread.
pub fn lock_for_repair(dir: &Path) -> Result<Option<File>, Option<u32>> {
    let path = dir.join(LOCK_FILE);
    let file = match OpenOptions::new().read(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err(None),
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Err(read_pid(&path)),
        Err(TryLockError::Error(_)) => Err(None),
    }
}

/// Removes a stale `.lock` after a repair (the repair holds it). Any thread.
pub fn remove_stale_lock(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(LOCK_FILE));
}

/// The pid a `.lock` holds, if written yet.
fn read_pid(path: &Path) -> Option<u32> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Why a folder whose `.lock` exists already is refused: another recorder holds it (its pid,
/// waiting a moment for the pid to be written), or it is a leftover.
fn refusal(dir: &Path) -> ClaimError {
    let polls = PID_WAIT_MS / PID_POLL_MS;
    let mut held = false;
    for _ in 0..polls {
        match lock_state(dir) {
            LockState::Held { pid: Some(pid) } => {
                return ClaimError::Busy {
                    dir: dir.to_path_buf(),
                    pid: Some(pid),
                }
            }
            LockState::Held { pid: None } => held = true,
            // The winner is between creating the file and locking it, or it is stale.
            LockState::Free | LockState::Absent => {}
        }
        std::thread::sleep(Duration::from_millis(PID_POLL_MS));
    }
    if held {
        ClaimError::Busy {
            dir: dir.to_path_buf(),
            pid: None,
        }
    } else {
        ClaimError::NotEmpty {
            dir: dir.to_path_buf(),
            entry: LOCK_FILE.to_string(),
        }
    }
}

/// Refuses a folder that holds anything: being recorded, a recorded session, anything else.
fn check_empty(dir: &Path) -> Result<(), ClaimError> {
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    entries.sort();
    match lock_state(dir) {
        LockState::Held { pid: Some(pid) } => {
            return Err(ClaimError::Busy {
                dir: dir.to_path_buf(),
                pid: Some(pid),
            })
        }
        // Held, its pid not written yet: wait a moment for it.
        LockState::Held { pid: None } => return Err(refusal(dir)),
        LockState::Free | LockState::Absent => {}
    }
    if entries.iter().any(|e| e == SESSION_FILE) {
        return Err(ClaimError::RecordedSession(dir.to_path_buf()));
    }
    if entries == [LOCK_FILE] {
        // Another recorder is between creating `.lock` and locking it.
        return Err(refusal(dir));
    }
    let entry = entries
        .iter()
        .find(|e| e.as_str() != LOCK_FILE)
        .cloned()
        .unwrap_or_default();
    Err(ClaimError::NotEmpty {
        dir: dir.to_path_buf(),
        entry,
    })
}

/// After the claim: refuses a folder that holds anything but its `.lock`.
fn check_only_lock(dir: &Path) -> Result<(), ClaimError> {
    let other = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|name| name != LOCK_FILE);
    match other {
        None => Ok(()),
        Some(entry) => Err(ClaimError::NotEmpty {
            dir: dir.to_path_buf(),
            entry,
        }),
    }
}

/// Creates `dir` and the folders above it that are missing, each 0700.
fn create_dirs_private(dir: &Path) -> Result<(), ClaimError> {
    create_private_dir_all(dir).map_err(|source| ClaimError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Keeps a pseudonym usable as part of a folder name. Any thread.
pub fn folder_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() {
        "participant".into()
    } else {
        s
    }
}
