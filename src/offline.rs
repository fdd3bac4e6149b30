//! `attune analyze` for one input: a recording (one file, or the WAV parts of a session)
//! decoded and analysed through the [`crate::driver`] and written as its files
//! ([`crate::output`]); as a session, with speakers, turns and mirroring
//! ([`crate::analysis::report`]). Recovery remakes a session's analyze files here too.
//!
//! [`Batch`] runs many inputs on a pool of `analyze-N` worker threads; one input runs on the
//! calling thread (a worker, or the thread repairing a session).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analysis::report::{analyse_session, SpeakerMode};
use crate::audio::decode::{AudioInfo, ChannelSelect};
use crate::config::AnalysisConfig;
use crate::driver::files::{analyse_track, FileError, Recording};
use crate::output::{write_atomic, AnalysisWriter, InputDescription, Summary};

/// Decodes, analyses and writes one input.
pub fn analyze_file(
    path: &Path,
    name: &str,
    out_dir: &Path,
    config: &AnalysisConfig,
    channel: ChannelSelect,
) -> Result<Summary, FileError> {
    analyze_parts(&[path.to_path_buf()], name, out_dir, config, channel)
}

/// Decodes, analyses and writes recordings that follow one another (the WAV parts of a live
/// session) as one input, on one session clock.
pub fn analyze_parts(
    parts: &[PathBuf],
    name: &str,
    out_dir: &Path,
    config: &AnalysisConfig,
    channel: ChannelSelect,
) -> Result<Summary, FileError> {
    let recording = Recording::open(parts, channel)?;
    let mut writer = AnalysisWriter::create(out_dir, name, config)?;
    match recording.analyse(config, false, &mut |out| writer.write_events(&out.events)) {
        Ok(decoded) => {
            let input = describe(parts, decoded.info, channel);
            Ok(writer.finish(input, config, &decoded.input, decoded.skipped_packets)?)
        }
        Err(e) => {
            writer.discard();
            Err(e)
        }
    }
}

/// Analyses one recording as a session: attributes the vocalisations, finds the turns and
/// scores the mirroring, and writes the files of [`analyze_file`] plus `NAME.turns.csv`. With
/// two microphones `NAME.f0.csv` / `NAME.onsets.csv` are the user's channel's; with one, the
/// `channel` asked for.
pub fn analyze_session_file(
    path: &Path,
    name: &str,
    out_dir: &Path,
    config: &AnalysisConfig,
    channel: ChannelSelect,
    mode: &SpeakerMode,
) -> Result<Summary, FileError> {
    let (primary, second, with_voice) = match mode {
        SpeakerMode::Channels { user, partner } => (
            ChannelSelect::Channel(*user),
            Some(ChannelSelect::Channel(*partner)),
            false,
        ),
        SpeakerMode::Voices { .. } => (channel, None, true),
    };
    let parts = [path.to_path_buf()];
    // Check the second channel exists before any work.
    if let Some(c) = second {
        Recording::open(&parts, c)?;
    }
    let mut writer = AnalysisWriter::create(out_dir, name, config)?;
    writer.defer_segments();
    let outcome = (|| {
        let first = analyse_track(&parts, primary, config, with_voice, &mut |out| {
            writer.write_events(&out.events)
        })?;
        let mut tracks = vec![first.track];
        let mut decoded = first.decoded;
        if let Some(c) = second {
            let t = analyse_track(&parts, c, config, false, &mut |_| Ok(()))?;
            decoded.skipped_packets += t.decoded.skipped_packets;
            decoded.input.merge(&t.decoded.input);
            tracks.push(t.track);
        }
        let (segments, rows, report) = analyse_session(&tracks, mode, decoded.duration_secs());
        for s in &segments {
            writer.write_segment(&s.vocalisation, s.speaker.as_str())?;
        }
        Ok::<_, FileError>((decoded, report, rows))
    })();
    match outcome {
        Ok((decoded, report, rows)) => {
            let input = describe(&parts, decoded.info, primary);
            Ok(writer.finish_session(
                input,
                config,
                &decoded.input,
                decoded.skipped_packets,
                report,
                &rows,
            )?)
        }
        Err(e) => {
            writer.discard();
            Err(e)
        }
    }
}

/// How `summary.json` names the input: its parts, their format and the channel analysed.
fn describe(parts: &[PathBuf], audio: AudioInfo, channel: ChannelSelect) -> InputDescription {
    InputDescription {
        path: parts
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" + "),
        audio,
        channel: match channel {
            ChannelSelect::Downmix => "downmix".into(),
            ChannelSelect::Channel(c) => (c + 1).to_string(),
        },
    }
}

/// Audio file extensions picked up from folders.
const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "mov", "aac",
];

/// One input file and the name its results get.
#[derive(Debug, Clone)]
pub struct Job {
    pub path: PathBuf,
    pub name: String,
}

/// The inputs of a run, expanded: the jobs, the inputs that could not be listed (errors) and
/// what the user should know of the listing (notices: renamed results, links not followed).
#[derive(Debug, Default)]
pub struct JobList {
    pub jobs: Vec<Job>,
    pub errors: Vec<String>,
    pub notices: Vec<String>,
}

/// Expands folders into their audio files and names every result uniquely. With `recursive`,
/// sub-folders are walked but links to folders are not followed (a link can lead back into
/// its own folder); each is named in a notice. Main thread.
pub fn collect_jobs(inputs: &[PathBuf], recursive: bool) -> JobList {
    let mut list = JobList::default();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(input, recursive, &mut found, &mut list.notices) {
                list.errors
                    .push(format!("{}: cannot list the folder: {e}", input.display()));
            }
            found.sort();
            for path in found {
                let rel = path.strip_prefix(input).unwrap_or(&path).with_extension("");
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("__");
                list.jobs.push(Job { path, name });
            }
        } else {
            let name = input
                .file_stem()
                .map_or_else(|| "input".to_string(), |s| s.to_string_lossy().into_owned());
            list.jobs.push(Job {
                path: input.clone(),
                name,
            });
        }
    }
    // No two results share a name, so none overwrites or mixes with another: a name already
    // taken (compared without case, as some file systems do) gets the first free `-2`, `-3`...
    let mut taken: HashSet<String> = HashSet::new();
    for job in &mut list.jobs {
        let wanted = job.name.clone();
        let mut n = 1;
        while !taken.insert(job.name.to_lowercase()) {
            n += 1;
            job.name = format!("{wanted}-{n}");
        }
        if n > 1 {
            list.notices.push(format!(
                "{}: its results are named {} (another input's are named {wanted})",
                job.path.display(),
                job.name
            ));
        }
    }
    list
}

/// Adds the audio files of `dir` to `found` (and of its sub-folders with `recursive`); a link
/// to a folder is named in `notices`, not followed.
fn walk(
    dir: &Path,
    recursive: bool,
    found: &mut Vec<PathBuf>,
    notices: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // The entry itself, not what a link points to.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if recursive {
                walk(&path, recursive, found, notices)?;
            }
        } else if kind.is_symlink() && path.is_dir() {
            if recursive {
                notices.push(format!(
                    "{}: a link to a folder, not followed",
                    path.display()
                ));
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// What a run of `attune analyze` over many inputs shares.
pub struct Batch<'a> {
    pub out_dir: &'a Path,
    pub config: &'a AnalysisConfig,
    pub channel: ChannelSelect,
    /// How the speakers are told apart; `None`: not at all.
    pub mode: Option<&'a SpeakerMode>,
    /// Inputs analysed at once.
    pub threads: usize,
}

impl Batch<'_> {
    /// Analyses every job on `threads` `analyze-N` workers; `done` hears of each as it ends (on
    /// its worker). The results are in the jobs' order. Main thread.
    pub fn run(
        &self,
        jobs: &[Job],
        done: &(dyn Fn(&Job, &Result<Summary, FileError>) + Sync),
    ) -> Result<Vec<Result<Summary, FileError>>, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .thread_name(|i| format!("analyze-{i}"))
            .build()?;
        Ok(pool.install(|| {
            jobs.par_iter()
                .map(|job| {
                    let r = match self.mode {
                        None => analyze_file(
                            &job.path,
                            &job.name,
                            self.out_dir,
                            self.config,
                            self.channel,
                        ),
                        Some(m) => analyze_session_file(
                            &job.path,
                            &job.name,
                            self.out_dir,
                            self.config,
                            self.channel,
                            m,
                        ),
                    };
                    done(job, &r);
                    r
                })
                .collect()
        }))
    }
}

/// Writes `OUT/corpus.summary.csv` from the summaries of the inputs that succeeded (in input
/// order). Main thread, after the workers.
pub fn write_corpus_summary(
    out: &Path,
    jobs: &[Job],
    results: &[Result<Summary, FileError>],
) -> std::io::Result<()> {
    let rows: Vec<(String, Summary)> = jobs
        .iter()
        .zip(results)
        .filter_map(|(j, r)| r.as_ref().ok().map(|s| (j.name.clone(), s.clone())))
        .collect();
    let path = out.join(crate::output::corpus::FILE_NAME);
    let bytes = crate::output::corpus::render(&rows)?;
    write_atomic(&path, &bytes).map_err(|e| {
        std::io::Error::new(e.kind(), format!("{}: cannot write: {e}", path.display()))
    })
}
