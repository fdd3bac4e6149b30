//! Microphone capture: the cpal input callback and the rings it fills.
//!
//! The callback only moves samples: it converts the device's frames (any sample format, any
//! channel count) to mono f32 in a preallocated scratch buffer, pushes them into a lock-free SPSC
//! ring and notes when they were captured. It never allocates, locks, logs or does I/O; samples
//! that do not fit into the ring are counted, not waited for.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cpal::{FromSample, Sample};
use ringbuf::traits::{Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

/// Seconds of audio the capture ring holds (the analysis thread drains it every few ms).
pub const RING_SECS: f64 = 2.0;
/// Frames the callback converts at a time (larger callbacks are converted in pieces).
const SCRATCH_FRAMES: usize = 4096;
/// Capture time stamps kept in flight (one per callback).
const STAMP_RING: usize = 1024;

/// Which channel of a multichannel input is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelRoute {
    /// The mean of all channels.
    #[default]
    Downmix,
    /// One channel, 0-based.
    Channel(usize),
}

/// When the first frame of one callback's data was captured.
#[derive(Debug, Clone, Copy)]
pub struct CaptureStamp {
    /// Index of the frame in this source's stream (frames since the source started).
    pub first_frame: u64,
    /// When that frame was captured, on the monotonic clock.
    pub captured_at: Instant,
}

/// Counters shared between the callback and the rest of the program (atomics only).
#[derive(Debug)]
pub struct CaptureCounters {
    /// Frames delivered by the device.
    pub frames_captured: AtomicU64,
    /// Frames that did not fit into the ring and were dropped.
    pub dropped_frames: AtomicU64,
    /// Capture stamps that did not fit into their ring (latency is then measured less often).
    pub dropped_stamps: AtomicU64,
    /// Callbacks so far.
    pub callbacks: AtomicU64,
    /// Nanoseconds since `epoch` at the last callback, for the device-loss watchdog.
    pub last_callback_ns: AtomicU64,
    /// Set by the stream's error callback when the device reports a fatal error.
    pub stream_failed: AtomicBool,
    epoch: Instant,
}

impl CaptureCounters {
    pub fn new() -> Self {
        Self {
            frames_captured: AtomicU64::new(0),
            dropped_frames: AtomicU64::new(0),
            dropped_stamps: AtomicU64::new(0),
            callbacks: AtomicU64::new(0),
            last_callback_ns: AtomicU64::new(0),
            stream_failed: AtomicBool::new(false),
            epoch: Instant::now(),
        }
    }

    /// Time since the last callback, or since the counters were made when none came yet.
    pub fn since_last_callback(&self) -> Duration {
        let last = Duration::from_nanos(self.last_callback_ns.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }

    fn note_callback(&self, now: Instant) {
        let ns = now.saturating_duration_since(self.epoch).as_nanos() as u64;
        self.last_callback_ns.store(ns, Ordering::Relaxed);
        self.callbacks.fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for CaptureCounters {
    fn default() -> Self {
        Self::new()
    }
}

/// The consumer side of one source: mono samples at `rate_hz` and their capture stamps.
pub struct SourceOutput {
    pub audio: HeapCons<f32>,
    pub stamps: HeapCons<CaptureStamp>,
    pub counters: Arc<CaptureCounters>,
    pub rate_hz: u32,
    /// What the user sees: the device name, or "demo session".
    pub name: String,
    /// Channels the device delivers (before routing to mono).
    pub device_channels: usize,
    /// A recording played as if live, not a microphone.
    pub playback: bool,
}

/// The producer side of one source: what a callback (or the demo player) writes into.
pub struct SourceInput {
    audio: HeapProd<f32>,
    stamps: HeapProd<CaptureStamp>,
    counters: Arc<CaptureCounters>,
    frames_total: u64,
    nanos_per_frame: f64,
}

/// Makes the rings of one source, as a pair. Any thread.
pub fn source_rings(
    rate_hz: u32,
    name: String,
    device_channels: usize,
) -> (SourceInput, SourceOutput) {
    let capacity = ((f64::from(rate_hz) * RING_SECS) as usize).max(SCRATCH_FRAMES);
    let (audio_tx, audio_rx) = HeapRb::<f32>::new(capacity).split();
    let (stamps_tx, stamps_rx) = HeapRb::<CaptureStamp>::new(STAMP_RING).split();
    let counters = Arc::new(CaptureCounters::new());
    (
        SourceInput {
            audio: audio_tx,
            stamps: stamps_tx,
            counters: Arc::clone(&counters),
            frames_total: 0,
            nanos_per_frame: 1e9 / f64::from(rate_hz.max(1)),
        },
        SourceOutput {
            audio: audio_rx,
            stamps: stamps_rx,
            counters,
            rate_hz,
            name,
            device_channels,
            playback: false,
        },
    )
}

impl SourceInput {
    /// Pushes mono frames captured at `captured_at`. Audio callback or demo-player thread;
    /// allocation-free.
    pub fn push_mono(&mut self, frames: &[f32], captured_at: Instant) {
        if frames.is_empty() {
            return;
        }
        let stamp = CaptureStamp {
            first_frame: self.frames_total,
            captured_at,
        };
        if self.stamps.try_push(stamp).is_err() {
            self.counters.dropped_stamps.fetch_add(1, Ordering::Relaxed);
        }
        let pushed = self.audio.push_slice(frames);
        let dropped = frames.len() - pushed;
        if dropped > 0 {
            self.counters
                .dropped_frames
                .fetch_add(dropped as u64, Ordering::Relaxed);
        }
        self.frames_total += frames.len() as u64;
        self.counters
            .frames_captured
            .fetch_add(frames.len() as u64, Ordering::Relaxed);
    }
}

/// The body of the cpal input callback: interleaved frames of any sample type in, mono f32
/// frames into the source ring. Owns its scratch buffer; allocation-free after `new`.
pub struct CaptureCallback {
    input: SourceInput,
    channels: usize,
    route: ChannelRoute,
    scratch: Vec<f32>,
}

impl CaptureCallback {
    /// `channels` is the device's channel count; a routed channel beyond it falls back to the
    /// downmix (the caller checks the route before building the stream). Any thread.
    pub fn new(input: SourceInput, channels: usize, route: ChannelRoute) -> Self {
        let channels = channels.max(1);
        let route = match route {
            ChannelRoute::Channel(c) if c >= channels => ChannelRoute::Downmix,
            r => r,
        };
        Self {
            input,
            channels,
            route,
            scratch: vec![0.0; SCRATCH_FRAMES],
        }
    }

    /// Handles one callback's data: `data` holds interleaved frames, the first captured
    /// `capture_age` before now. Audio callback thread: no allocation, lock, log or I/O (it
    /// reads the monotonic clock once and updates atomics).
    pub fn process<T>(&mut self, data: &[T], capture_age: Duration)
    where
        T: Sample,
        f32: FromSample<T>,
    {
        let now = Instant::now();
        self.input.counters.note_callback(now);
        let first_at = now.checked_sub(capture_age).unwrap_or(now);
        let nanos_per_frame = self.input.nanos_per_frame;
        let mut offset_frames = 0usize;
        for chunk in data.chunks(SCRATCH_FRAMES * self.channels) {
            let frames = chunk.len() / self.channels;
            let out = &mut self.scratch[..frames];
            match self.route {
                ChannelRoute::Channel(c) => {
                    for (o, frame) in out.iter_mut().zip(chunk.chunks_exact(self.channels)) {
                        *o = f32::from_sample(frame[c]);
                    }
                }
                ChannelRoute::Downmix => {
                    let scale = 1.0 / self.channels as f32;
                    for (o, frame) in out.iter_mut().zip(chunk.chunks_exact(self.channels)) {
                        *o = frame.iter().map(|&s| f32::from_sample(s)).sum::<f32>() * scale;
                    }
                }
            }
            let at =
                first_at + Duration::from_nanos((offset_frames as f64 * nanos_per_frame) as u64);
            self.input.push_mono(&self.scratch[..frames], at);
            offset_frames += frames;
        }
    }

    /// The counters this callback updates (the watchdog and the error callback use them).
    pub fn counters(&self) -> Arc<CaptureCounters> {
        Arc::clone(&self.input.counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringbuf::traits::{Consumer, Observer};

    #[test]
    fn stereo_i16_is_mixed_or_routed() {
        let (tx, mut rx) = source_rings(16_000, "test".into(), 2);
        let mut cb = CaptureCallback::new(tx, 2, ChannelRoute::Downmix);
        cb.process::<i16>(&[i16::MAX, 0, 0, i16::MIN], Duration::ZERO);
        let mut out = [0.0f32; 4];
        assert_eq!(rx.audio.pop_slice(&mut out), 2);
        assert!((out[0] - 0.5).abs() < 1e-3 && (out[1] + 0.5).abs() < 1e-3);

        let (tx, mut rx) = source_rings(16_000, "test".into(), 2);
        let mut cb = CaptureCallback::new(tx, 2, ChannelRoute::Channel(1));
        cb.process::<f32>(&[0.1, 0.7, 0.2, -0.3], Duration::ZERO);
        assert_eq!(rx.audio.pop_slice(&mut out), 2);
        assert_eq!(&out[..2], &[0.7, -0.3]);
        assert_eq!(rx.stamps.occupied_len(), 1);
    }

    #[test]
    fn a_full_ring_counts_what_it_drops() {
        let (tx, rx) = source_rings(1_000, "test".into(), 1);
        let capacity = rx.audio.capacity().get();
        let mut cb = CaptureCallback::new(tx, 1, ChannelRoute::Downmix);
        let block = vec![0.25f32; capacity + 100];
        cb.process::<f32>(&block, Duration::ZERO);
        assert_eq!(rx.counters.dropped_frames.load(Ordering::Relaxed), 100);
        assert_eq!(
            rx.counters.frames_captured.load(Ordering::Relaxed),
            capacity as u64 + 100
        );
    }
}
