//! Recordings through the driver: one audio file, or the WAV parts of a session in order, one
//! channel of them (or the mix), decoded and analysed as one stream on the session clock. The
//! same parts give the same events whoever reads them: `attune analyze`, review, export,
//! recovery and voice enrolment.
//!
//! Runs on the thread that reads the files (an `analyze-N` worker, the review loader, the
//! thread repairing a session, the main thread for enrolment clips).

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{Driver, DriverOutput};
use crate::analysis::track::ChannelTrack;
use crate::analysis::voice_model::{VoiceModel, VoiceModelError};
use crate::analysis::AnalyzeError;
use crate::audio::decode::{AudioInfo, ChannelSelect, DecodeError, Decoder};
use crate::config::AnalysisConfig;
use crate::dsp::resample::{InputStats, StreamResampler};

/// Why one input could not be analysed.
#[derive(Debug, Error)]
pub enum FileError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    #[error("cannot write the results: {0}")]
    Write(#[from] std::io::Error),
    #[error("no recording to analyse")]
    NoRecording,
}

/// What decoding a recording gave, besides its events.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The first part's format; its duration is the one decoded across every part.
    pub info: AudioInfo,
    /// The input samples: how many, non-finite and clipped ones, peak.
    pub input: InputStats,
    /// Packets the decoder could not read and skipped.
    pub skipped_packets: u64,
}

impl Decoded {
    /// Seconds of audio decoded.
    pub fn duration_secs(&self) -> f64 {
        self.info.duration_secs.unwrap_or(0.0)
    }
}

/// A recording opened for analysis. Opening reads the first part's header, so a file that
/// cannot be read fails before anything is written.
pub struct Recording {
    decoder: Decoder,
    rest: Vec<PathBuf>,
    channel: ChannelSelect,
}

impl Recording {
    /// Opens `parts` (at least one), to be read in order as one recording.
    pub fn open(parts: &[PathBuf], channel: ChannelSelect) -> Result<Self, FileError> {
        let Some(first) = parts.first() else {
            return Err(FileError::NoRecording);
        };
        Ok(Self {
            decoder: Decoder::open(first, channel)?,
            rest: parts[1..].to_vec(),
            channel,
        })
    }

    /// Decodes every part through one [`Driver`]; `sink` sees each batch of its output (and
    /// stops the analysis with its error).
    pub fn analyse(
        mut self,
        config: &AnalysisConfig,
        with_voice: bool,
        sink: &mut dyn FnMut(&DriverOutput) -> std::io::Result<()>,
    ) -> Result<Decoded, FileError> {
        let mut info = self.decoder.info().clone();
        let mut driver = Driver::new(config, with_voice)?;
        let mut out = DriverOutput::with_capacity(4096);
        let (mut secs, mut skipped) = (0.0, 0u64);
        let mut rest = std::mem::take(&mut self.rest).into_iter();
        loop {
            let rate_hz = self.decoder.info().sample_rate_hz;
            driver.set_rate(rate_hz, &mut out)?;
            sink(&out)?;
            out.clear();
            while let Some(block) = self.decoder.next_block()? {
                driver.process(block, &mut out);
                sink(&out)?;
                out.clear();
            }
            skipped += self.decoder.skipped_packets();
            secs += self.decoder.samples_read() as f64 / f64::from(rate_hz);
            let Some(path) = rest.next() else { break };
            self.decoder = Decoder::open(&path, self.channel)?;
        }
        driver.finish(&mut out);
        sink(&out)?;
        // The duration actually decoded, not what the header claimed.
        info.duration_secs = Some(secs);
        Ok(Decoded {
            info,
            input: driver.input_stats(),
            skipped_packets: skipped,
        })
    }
}

/// One channel of a recording, analysed and gathered into a track.
pub struct AnalysedTrack {
    pub track: ChannelTrack,
    pub decoded: Decoded,
}

/// Decodes `channel` of the recording `parts`, analyses it and gathers the track (with voice
/// features when `with_voice`); `sink` sees every batch of events (the writer of the primary
/// channel).
pub fn analyse_track(
    parts: &[PathBuf],
    channel: ChannelSelect,
    config: &AnalysisConfig,
    with_voice: bool,
    sink: &mut dyn FnMut(&DriverOutput) -> std::io::Result<()>,
) -> Result<AnalysedTrack, FileError> {
    let mut track = ChannelTrack::default();
    let decoded = Recording::open(parts, channel)?.analyse(config, with_voice, &mut |out| {
        track.push_events(&out.events);
        for (k, c) in &out.ceps {
            track.push_ceps(*k, c);
        }
        sink(out)
    })?;
    Ok(AnalysedTrack { track, decoded })
}

/// The recording `parts` (their mix) as one mono stream at the analysis rate, on the session
/// clock the driver keeps: parts of one rate run on as one stream, a part at another rate
/// starts where the last ended. For the waveform and playback: about 230 MB an hour.
pub fn read_16k(parts: &[PathBuf]) -> Result<Vec<f32>, FileError> {
    let mut out: Vec<f32> = Vec::new();
    let mut stream: Option<(u32, StreamResampler)> = None;
    for part in parts {
        let mut decoder = Decoder::open(part, ChannelSelect::Downmix)?;
        let rate_hz = decoder.info().sample_rate_hz;
        if stream.as_ref().is_none_or(|(r, _)| *r != rate_hz) {
            if let Some((_, mut ended)) = stream.take() {
                ended.finish(&mut |s| out.extend_from_slice(s));
            }
            let resampler = StreamResampler::new(rate_hz).map_err(AnalyzeError::from)?;
            stream = Some((rate_hz, resampler));
        }
        if let Some((_, resampler)) = &mut stream {
            while let Some(block) = decoder.next_block()? {
                resampler.process(block, &mut |s| out.extend_from_slice(s));
            }
        }
    }
    if let Some((_, mut ended)) = stream.take() {
        ended.finish(&mut |s| out.extend_from_slice(s));
    }
    Ok(out)
}

/// A voice enrolment clip could not be used.
#[derive(Debug, Error)]
pub enum EnrolError {
    #[error("{}: {reason}", path.display())]
    Read { path: PathBuf, reason: FileError },
    #[error("{}: {reason}", path.display())]
    Voice {
        path: PathBuf,
        reason: VoiceModelError,
    },
}

/// Trains a voice model from an enrolment clip (the mix of its channels). Main thread.
pub fn load_voice(path: &Path, config: &AnalysisConfig) -> Result<VoiceModel, EnrolError> {
    let parts = [path.to_path_buf()];
    let t = analyse_track(
        &parts,
        ChannelSelect::Downmix,
        config,
        true,
        &mut |_| Ok(()),
    )
    .map_err(|reason| EnrolError::Read {
        path: path.to_path_buf(),
        reason,
    })?;
    VoiceModel::train(&crate::analysis::speaker::track_features(&t.track)).map_err(|reason| {
        EnrolError::Voice {
            path: path.to_path_buf(),
            reason,
        }
    })
}
