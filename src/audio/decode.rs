//! Decoding audio files into mono blocks with symphonia: WAV (integer and float PCM), FLAC,
//! MP3, OGG Vorbis and the AAC track of MP4/M4A files, video files included.
//!
//! Runs on the thread that reads the file and allocates freely. Headers are checked before
//! any buffer is sized from them, and the decoder is never allowed to take the process down: a
//! panic inside symphonia on malformed input becomes [`DecodeError::Corrupt`].

use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use serde::Serialize;
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{Decoder as CodecDecoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::conv::FromSample;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::sample::Sample;
use thiserror::Error;

/// Most channels accepted; more is an absurd header, not a recording.
pub const MAX_CHANNELS: usize = 64;
/// Accepted sample rates.
pub const MIN_RATE_HZ: u32 = 1_000;
pub const MAX_RATE_HZ: u32 = 768_000;
/// Undecodable packets in a row after which a file is called corrupt.
const MAX_BAD_PACKETS_IN_A_ROW: u32 = 200;
/// How much of a file's start is read to check its header before symphonia sees it.
const HEADER_BYTES: usize = 4096;

/// Which channel to analyse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelSelect {
    /// The mean of all channels.
    #[default]
    Downmix,
    /// One channel, 0-based.
    Channel(usize),
}

/// What the file says about its audio.
#[derive(Debug, Clone, Serialize)]
pub struct AudioInfo {
    pub sample_rate_hz: u32,
    pub channels: usize,
    /// From the header when it says; replaced by the decoded duration after analysis.
    #[serde(rename = "duration_s")]
    pub duration_secs: Option<f64>,
    pub codec: String,
    pub bits_per_sample: Option<u32>,
    /// The longer length a WAV header announces when the file holds less (cut short).
    #[serde(skip)]
    pub announced_secs: Option<f64>,
}

/// Why a file could not be decoded. Messages are one short sentence without the file name,
/// which the caller adds.
#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a supported audio file (WAV, FLAC, MP3, OGG, M4A/MP4)")]
    UnsupportedFormat,
    #[error("the file holds no audio track")]
    NoAudioTrack,
    #[error("the audio codec is not supported: {0}")]
    UnsupportedCodec(String),
    #[error("invalid audio header: {0}")]
    InvalidHeader(String),
    #[error("channel {requested} requested but the file has {available} channel(s)")]
    ChannelOutOfRange { requested: usize, available: usize },
    #[error("the audio data is corrupt: {0}")]
    Corrupt(String),
    #[error("the file holds no audio samples")]
    Empty,
}

/// Streams one file's audio as mono f32 blocks at its own sample rate.
pub struct Decoder {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn CodecDecoder>,
    track_id: u32,
    channel: ChannelSelect,
    info: AudioInfo,
    block: Vec<f32>,
    skipped_packets: u64,
    samples_read: u64,
    finished: bool,
}

impl Decoder {
    /// Opens `path`, probes its container by content (the extension is only a hint), picks the
    /// first audio track and checks its header. File-reading thread.
    pub fn open(path: &Path, channel: ChannelSelect) -> Result<Self, DecodeError> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(DecodeError::Io(std::io::Error::other("it is a folder")));
        }
        if meta.len() == 0 {
            return Err(DecodeError::Empty);
        }
        let mut head = Vec::with_capacity(HEADER_BYTES);
        (&mut file)
            .take(HEADER_BYTES as u64)
            .read_to_end(&mut head)?;
        check_head(&head)?;
        file.seek(SeekFrom::Start(0))?;
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let stream = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let mut decoder = Self::from_stream(stream, &hint, channel)?;
        decoder.info.announced_secs = wav_announced_secs(&head, meta.len());
        Ok(decoder)
    }

    /// Decodes audio held in memory (tests, fuzzing). File-reading thread.
    pub fn from_bytes(
        bytes: Vec<u8>,
        extension: Option<&str>,
        channel: ChannelSelect,
    ) -> Result<Self, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        check_head(&bytes[..bytes.len().min(HEADER_BYTES)])?;
        let announced_secs =
            wav_announced_secs(&bytes[..bytes.len().min(HEADER_BYTES)], bytes.len() as u64);
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(ext);
        }
        let stream = MediaSourceStream::new(
            Box::new(std::io::Cursor::new(bytes)),
            MediaSourceStreamOptions::default(),
        );
        let mut decoder = Self::from_stream(stream, &hint, channel)?;
        decoder.info.announced_secs = announced_secs;
        Ok(decoder)
    }

    fn from_stream(
        stream: MediaSourceStream,
        hint: &Hint,
        channel: ChannelSelect,
    ) -> Result<Self, DecodeError> {
        let probed = guard(|| {
            symphonia::default::get_probe().format(
                hint,
                stream,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
        })?
        .map_err(|e| match e {
            SymphoniaError::IoError(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                DecodeError::Io(e)
            }
            SymphoniaError::Unsupported(_) | SymphoniaError::IoError(_) => {
                DecodeError::UnsupportedFormat
            }
            other => DecodeError::Corrupt(other.to_string()),
        })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| {
                t.codec_params.codec != CODEC_TYPE_NULL && t.codec_params.sample_rate.is_some()
            })
            .or_else(|| {
                format
                    .tracks()
                    .iter()
                    .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            })
            .ok_or(DecodeError::NoAudioTrack)?;
        let params = track.codec_params.clone();
        let track_id = track.id;

        let sample_rate_hz = params
            .sample_rate
            .ok_or_else(|| DecodeError::InvalidHeader("no sample rate".into()))?;
        if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&sample_rate_hz) {
            return Err(DecodeError::InvalidHeader(format!(
                "sample rate {sample_rate_hz} Hz (accepted: {MIN_RATE_HZ}-{MAX_RATE_HZ} Hz)"
            )));
        }
        let channels = params.channels.map(|c| c.count());
        if let Some(n) = channels {
            if n == 0 || n > MAX_CHANNELS {
                return Err(DecodeError::InvalidHeader(format!(
                    "{n} channels (accepted: 1-{MAX_CHANNELS})"
                )));
            }
            if let ChannelSelect::Channel(c) = channel {
                if c >= n {
                    return Err(DecodeError::ChannelOutOfRange {
                        requested: c + 1,
                        available: n,
                    });
                }
            }
        }
        let codec = symphonia::default::get_codecs()
            .get_codec(params.codec)
            .map_or_else(|| format!("{}", params.codec), |d| d.short_name.to_string());
        let decoder =
            guard(|| symphonia::default::get_codecs().make(&params, &DecoderOptions::default()))?
                .map_err(|e| DecodeError::UnsupportedCodec(format!("{codec} ({e})")))?;
        let duration_secs = params
            .n_frames
            .map(|n| n as f64 / f64::from(sample_rate_hz))
            .filter(|d| d.is_finite());
        Ok(Self {
            format,
            decoder,
            track_id,
            channel,
            info: AudioInfo {
                sample_rate_hz,
                channels: channels.unwrap_or(1),
                duration_secs,
                codec,
                bits_per_sample: params.bits_per_sample,
                announced_secs: None,
            },
            block: Vec::new(),
            skipped_packets: 0,
            samples_read: 0,
            finished: false,
        })
    }

    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Packets that could not be decoded and were skipped.
    pub fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }

    /// Mono samples returned so far.
    pub fn samples_read(&self) -> u64 {
        self.samples_read
    }

    /// The next block of mono samples, `Ok(None)` at the end. A file that ends early (a
    /// truncated recording) ends cleanly where its data stops. File-reading thread.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, DecodeError> {
        if self.finished {
            return Ok(None);
        }
        let mut bad_in_a_row = 0u32;
        loop {
            let packet = match guard(|| self.format.next_packet())? {
                Ok(p) => p,
                // The end of the stream, or of what a truncated file holds.
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return self.end();
                }
                Err(SymphoniaError::ResetRequired) => return self.end(),
                Err(SymphoniaError::IoError(e)) => return Err(DecodeError::Io(e)),
                Err(e) => {
                    if self.samples_read > 0 {
                        // Damage after good audio: keep what was read.
                        self.skipped_packets += 1;
                        return self.end();
                    }
                    return Err(DecodeError::Corrupt(e.to_string()));
                }
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let channel = self.channel;
            let block = &mut self.block;
            let decoded = guard(|| match self.decoder.decode(&packet) {
                Ok(buf) => {
                    let channels = buf.spec().channels.count();
                    let frames = buf.frames();
                    if frames > 0 && usable(channel, channels) {
                        block.clear();
                        to_mono(&buf, channel, block);
                    }
                    Ok(Some((channels, frames)))
                }
                Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => Ok(None),
                Err(SymphoniaError::ResetRequired) => {
                    self.decoder.reset();
                    Ok(None)
                }
                Err(e) => Err(e),
            })?
            .map_err(|e| DecodeError::UnsupportedCodec(e.to_string()))?;
            let Some((channels, frames)) = decoded else {
                self.skipped_packets += 1;
                bad_in_a_row += 1;
                if bad_in_a_row >= MAX_BAD_PACKETS_IN_A_ROW && self.samples_read == 0 {
                    return Err(DecodeError::Corrupt("no packet could be decoded".into()));
                }
                continue;
            };
            if frames == 0 || channels == 0 {
                continue;
            }
            if channels > MAX_CHANNELS {
                return Err(DecodeError::InvalidHeader(format!("{channels} channels")));
            }
            if let ChannelSelect::Channel(c) = self.channel {
                if c >= channels {
                    return Err(DecodeError::ChannelOutOfRange {
                        requested: c + 1,
                        available: channels,
                    });
                }
            }
            self.samples_read += self.block.len() as u64;
            return Ok(Some(&self.block));
        }
    }

    fn end(&mut self) -> Result<Option<&[f32]>, DecodeError> {
        self.finished = true;
        if self.samples_read == 0 {
            Err(DecodeError::Empty)
        } else {
            Ok(None)
        }
    }
}

/// Whether a packet of `channels` channels can give the selected channel (the caller reports why
/// not).
fn usable(channel: ChannelSelect, channels: usize) -> bool {
    (1..=MAX_CHANNELS).contains(&channels)
        && match channel {
            ChannelSelect::Downmix => true,
            ChannelSelect::Channel(c) => c < channels,
        }
}

/// Appends a decoded packet to `out` as mono f32: the selected channel, or the mean of all.
fn to_mono(buf: &AudioBufferRef<'_>, channel: ChannelSelect, out: &mut Vec<f32>) {
    match buf {
        AudioBufferRef::U8(b) => mono_from(b, channel, out),
        AudioBufferRef::U16(b) => mono_from(b, channel, out),
        AudioBufferRef::U24(b) => mono_from(b, channel, out),
        AudioBufferRef::U32(b) => mono_from(b, channel, out),
        AudioBufferRef::S8(b) => mono_from(b, channel, out),
        AudioBufferRef::S16(b) => mono_from(b, channel, out),
        AudioBufferRef::S24(b) => mono_from(b, channel, out),
        AudioBufferRef::S32(b) => mono_from(b, channel, out),
        AudioBufferRef::F32(b) => mono_from(b, channel, out),
        AudioBufferRef::F64(b) => mono_from(b, channel, out),
    }
}

fn mono_from<S: Sample>(buf: &AudioBuffer<S>, channel: ChannelSelect, out: &mut Vec<f32>)
where
    f32: FromSample<S>,
{
    let channels = buf.spec().channels.count();
    match channel {
        ChannelSelect::Channel(c) => out.extend(buf.chan(c).iter().map(|&x| f32::from_sample(x))),
        ChannelSelect::Downmix if channels == 1 => {
            out.extend(buf.chan(0).iter().map(|&x| f32::from_sample(x)))
        }
        ChannelSelect::Downmix => {
            let start = out.len();
            out.resize(start + buf.frames(), 0.0);
            let mixed = &mut out[start..];
            for c in 0..channels {
                for (m, &x) in mixed.iter_mut().zip(buf.chan(c)) {
                    *m += f32::from_sample(x);
                }
            }
            let scale = 1.0 / channels as f32;
            for m in mixed {
                *m *= scale;
            }
        }
    }
}

/// What is checked in a file's first `HEADER_BYTES` before symphonia sees it: a WAV header's
/// rate and channels, and FLAC metadata lengths. File-reading thread.
fn check_head(head: &[u8]) -> Result<(), DecodeError> {
    check_wav_header(head)?;
    check_flac_metadata(head)
}

/// The sample rate and channel count of a WAV file's format chunk, checked against what is
/// accepted, for files that start with a RIFF (or RF64) WAVE header within `head`: symphonia
/// fails on a 0 Hz rate without saying why, and the user should read the header's actual fault.
/// Other files, and WAV headers that do not fit in `head`, pass (symphonia checks them).
/// File-reading thread.
fn check_wav_header(head: &[u8]) -> Result<(), DecodeError> {
    let Some(fmt) = wav_chunks(head).find(|c| &c.id == b"fmt ") else {
        return Ok(());
    };
    let (Some(channels), Some(rate_hz)) = (u16_at(head, fmt.at + 10), u32_at(head, fmt.at + 12))
    else {
        return Ok(());
    };
    if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&rate_hz) {
        return Err(DecodeError::InvalidHeader(format!(
            "sample rate {rate_hz} Hz (accepted: {MIN_RATE_HZ}-{MAX_RATE_HZ} Hz)"
        )));
    }
    if channels == 0 || usize::from(channels) > MAX_CHANNELS {
        return Err(DecodeError::InvalidHeader(format!(
            "{channels} channels (accepted: 1-{MAX_CHANNELS})"
        )));
    }
    Ok(())
}

/// The length (s) a WAV header announces for its samples when the file holds fewer (a
/// recording cut short; symphonia reads what is there and reports that length), from the
/// format and data chunks within `head` and the file's length. `None` for other files, for a
/// header that announces no length (0, or the streaming placeholder 0xFFFFFFFF) and for a
/// complete file. File-reading thread.
fn wav_announced_secs(head: &[u8], file_bytes: u64) -> Option<f64> {
    let fmt = wav_chunks(head).find(|c| &c.id == b"fmt ")?;
    let data = wav_chunks(head).find(|c| &c.id == b"data")?;
    let rate_hz = u32_at(head, fmt.at + 12)?;
    let block_bytes = u16_at(head, fmt.at + 20).filter(|&b| b > 0)?;
    if data.size == 0 || data.size == u32::MAX || rate_hz == 0 {
        return None;
    }
    let data_start = data.at as u64 + 8;
    let held = file_bytes.saturating_sub(data_start);
    (u64::from(data.size) > held + u64::from(block_bytes))
        .then(|| u64::from(data.size) as f64 / f64::from(block_bytes) / f64::from(rate_hz))
}

fn u16_at(head: &[u8], i: usize) -> Option<u16> {
    head.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(head: &[u8], i: usize) -> Option<u32> {
    head.get(i..i + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// A chunk of a RIFF WAVE file: its id, where its 8-byte header starts and its stated size.
struct WavChunk {
    id: [u8; 4],
    at: usize,
    size: u32,
}

/// The chunks of a RIFF (or RF64) WAVE file whose headers lie within `head`; none for other
/// files. Chunks follow the 12-byte RIFF header: id, little-endian size, data padded to even.
fn wav_chunks(head: &[u8]) -> impl Iterator<Item = WavChunk> + '_ {
    let riff = head.get(..4).is_some_and(|m| m == b"RIFF" || m == b"RF64")
        && head.get(8..12) == Some(b"WAVE");
    let mut at = if riff { Some(12) } else { None };
    std::iter::from_fn(move || {
        let here = at?;
        let (Some(id), Some(size)) = (head.get(here..here + 4), u32_at(head, here + 4)) else {
            at = None;
            return None;
        };
        let mut chunk_id = [0u8; 4];
        chunk_id.copy_from_slice(id);
        at = usize::try_from(size)
            .ok()
            .and_then(|n| here.checked_add(8)?.checked_add(n)?.checked_add(n % 2));
        Some(WavChunk {
            id: chunk_id,
            at: here,
            size,
        })
    })
}

/// FLAC metadata whose inner lengths run past their block, for every `fLaC` marker in `head`
/// (symphonia's probe finds the marker wherever it is): symphonia allocates a Vorbis comment's
/// or a picture's stated length (up to 4 GiB) before reading it, and where that much memory
/// cannot be had the process aborts, taking the other files of the run with it. Only the parts
/// of the blocks inside `head` are checked. File-reading thread.
fn check_flac_metadata(head: &[u8]) -> Result<(), DecodeError> {
    let mut from = 0;
    while let Some(found) = head[from..].windows(4).position(|w| w == b"fLaC") {
        let mut at = from + found + 4;
        from = at;
        // Metadata blocks: a byte of last-block flag and type, a 24-bit big-endian length.
        while let Some(h) = head.get(at..at + 4) {
            let (last, kind) = (h[0] & 0x80 != 0, h[0] & 0x7f);
            let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            let block = &head[at + 4..(at + 4 + len).min(head.len())];
            if flac_block_overruns(kind, block, len) == Some(true) {
                return Err(DecodeError::Corrupt(
                    "a FLAC metadata field is longer than its block".into(),
                ));
            }
            if last {
                break;
            }
            at += 4 + len;
        }
    }
    Ok(())
}

/// Whether a length field of a FLAC Vorbis comment (type 4) or picture (type 6) block of `len`
/// bytes, of which `block` holds the first ones, runs past the block's end; `None` when the
/// fields run past `block` first, or for other blocks. File-reading thread.
fn flac_block_overruns(kind: u8, block: &[u8], len: usize) -> Option<bool> {
    let u32_at = |pos: usize, big_endian: bool| -> Option<usize> {
        let b: [u8; 4] = block.get(pos..pos + 4)?.try_into().ok()?;
        let n = if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        usize::try_from(n).ok()
    };
    // Skips a length field and the bytes it counts: the position after them, or `Err` when
    // they run past the block.
    let skip = |pos: usize, big_endian: bool| -> Option<Result<usize, ()>> {
        let n = u32_at(pos, big_endian)?;
        let after = pos + 4;
        Some(if n > len.saturating_sub(after) {
            Err(())
        } else {
            Ok(after + n)
        })
    };
    match kind {
        // Vendor string, comment count, then each comment after its length (little-endian).
        4 => {
            let Ok(mut pos) = skip(0, false)? else {
                return Some(true);
            };
            let count = u32_at(pos, false)?;
            pos += 4;
            for _ in 0..count {
                match skip(pos, false)? {
                    Ok(next) => pos = next,
                    Err(()) => return Some(true),
                }
            }
            Some(false)
        }
        // Picture type, media type, description, four sizes, then the data (big-endian).
        6 => {
            let mut pos = 4;
            for sized_fields_after in [0, 16, 0] {
                match skip(pos, true)? {
                    Ok(next) => pos = next + sized_fields_after,
                    Err(()) => return Some(true),
                }
            }
            Some(false)
        }
        _ => None,
    }
}

thread_local! {
    /// Set while this thread runs a guarded symphonia call.
    static IN_DECODER: Cell<bool> = const { Cell::new(false) };
}
static QUIET_HOOK: Once = Once::new();

/// Runs a symphonia call, turning a panic on malformed input into an error. Such a panic is
/// expected and reported as one error line, so the panic hook is told to stay silent for it
/// (every other panic is printed as before).
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, DecodeError> {
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_DECODER.with(Cell::get) {
                previous(info);
            }
        }));
    });
    IN_DECODER.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    IN_DECODER.with(|c| c.set(false));
    result.map_err(|_| DecodeError::Corrupt("the decoder failed on malformed data".into()))
}
