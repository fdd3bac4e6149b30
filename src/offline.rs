//! `attune analyze` for one input: a recording (one file, or the WAV parts of a session)
//! decoded and analysed through the [`crate::driver`] and written as its files
//! ([`crate::output`]); as a session, with speakers, turns and mirroring
//! ([`crate::analysis::report`]). Recovery remakes a session's analyze files here too.
//!
//! Runs on the calling thread: an `analyze-N` worker, or the thread repairing a session.

use std::path::{Path, PathBuf};

use crate::analysis::report::{analyse_session, SpeakerMode};
use crate::audio::decode::{AudioInfo, ChannelSelect};
use crate::config::AnalysisConfig;
use crate::driver::files::{analyse_track, FileError, Recording};
use crate::output::{AnalysisWriter, InputDescription, Summary};

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
