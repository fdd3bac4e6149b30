//! Playback for review: the session's 16 kHz audio through the default output device, with a
//! position the timeline's cursor follows.
//!
//! [`Playback`] is created and driven on the UI thread; the cpal callback
//! ([`PlaybackCallback::fill`]) reads the shared samples and atomics only: no allocation, lock,
//! log or I/O. The device's rate is used as offered; the callback interpolates linearly from
//! 16 kHz (plenty for listening back to vocalisations).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};
use thiserror::Error;

use crate::config::ANALYSIS_RATE_HZ;

/// Positions are kept in 1/2^16 of a sample (fixed point), so the step between device frames
/// is exact enough for hours of audio.
const FRAC_BITS: u32 = 16;

/// Why playback is not available.
#[derive(Debug, Error)]
pub enum PlaybackError {
    #[error("no audio output device found: playback is not available")]
    NoDevice,
    #[error("the audio output offers no usable configuration: {0}")]
    NoConfig(String),
    #[error("the audio output's sample format {0} is not supported")]
    UnsupportedFormat(String),
    #[error("cannot open the audio output: {0}")]
    Stream(String),
}

/// What the UI and the callback share.
#[derive(Debug, Default)]
pub struct PlayState {
    /// Position in 16 kHz samples, fixed point (`FRAC_BITS`).
    pos: AtomicU64,
    /// Stop here (16 kHz samples).
    end: AtomicU64,
    playing: AtomicBool,
    /// The device reported an error (unplugged).
    failed: AtomicBool,
}

impl PlayState {
    /// Plays `[from_secs, to_secs)` of `len` samples (`None`: to the end). Any thread.
    pub fn play(&self, from_secs: f64, to_secs: Option<f64>, len: u64) {
        self.playing.store(false, Ordering::Release);
        self.pos.store(pos_of(from_secs), Ordering::Release);
        let end = to_secs.map_or(len, |t| (pos_of(t) >> FRAC_BITS).min(len));
        self.end.store(end, Ordering::Release);
        self.playing.store(true, Ordering::Release);
    }

    pub fn pause(&self) {
        self.playing.store(false, Ordering::Release);
    }

    pub fn is_playing(&self) -> bool {
        self.playing.load(Ordering::Acquire)
    }

    /// Where playback is (s on the session clock).
    pub fn position_secs(&self) -> f64 {
        (self.pos.load(Ordering::Acquire) >> FRAC_BITS) as f64 / f64::from(ANALYSIS_RATE_HZ)
    }
}

/// The body of the output callback. Audio thread.
pub struct PlaybackCallback {
    samples: Arc<[f32]>,
    state: Arc<PlayState>,
    channels: usize,
    /// 16 kHz samples per device frame, fixed point.
    step: u64,
}

impl PlaybackCallback {
    pub fn new(
        samples: Arc<[f32]>,
        state: Arc<PlayState>,
        device_rate_hz: u32,
        channels: usize,
    ) -> Self {
        let step = ((u64::from(ANALYSIS_RATE_HZ) << FRAC_BITS) as f64
            / f64::from(device_rate_hz.max(1)))
        .round() as u64;
        Self {
            samples,
            state,
            channels: channels.max(1),
            step,
        }
    }

    /// Fills one device buffer (interleaved). Audio thread: no allocation, lock or I/O.
    pub fn fill<T: SizedSample + FromSample<f32>>(&mut self, out: &mut [T]) {
        let playing = self.state.playing.load(Ordering::Acquire);
        let mut pos = self.state.pos.load(Ordering::Acquire);
        let end = self
            .state
            .end
            .load(Ordering::Acquire)
            .min(self.samples.len() as u64);
        let mut still = playing;
        for frame in out.chunks_mut(self.channels) {
            let i = (pos >> FRAC_BITS) as usize;
            let x = if still && (i as u64) < end {
                let f = (pos & ((1 << FRAC_BITS) - 1)) as f32 / (1u64 << FRAC_BITS) as f32;
                let a = self.samples[i];
                let b = self.samples.get(i + 1).copied().unwrap_or(a);
                pos += self.step;
                a + (b - a) * f
            } else {
                still = false;
                0.0
            };
            let v = T::from_sample(x);
            for s in frame.iter_mut() {
                *s = v;
            }
        }
        if playing {
            self.state.pos.store(pos, Ordering::Release);
            if !still {
                self.state.playing.store(false, Ordering::Release);
            }
        }
    }
}

/// An open output stream and the audio it plays.
pub struct Playback {
    _stream: cpal::Stream,
    state: Arc<PlayState>,
    len: u64,
    pub device_name: String,
}

fn pos_of(secs: f64) -> u64 {
    ((secs.max(0.0) * f64::from(ANALYSIS_RATE_HZ)) as u64) << FRAC_BITS
}

impl Playback {
    /// Opens the default output device for `samples` (mono, 16 kHz), paused. UI thread.
    pub fn open(samples: Arc<[f32]>) -> Result<Self, PlaybackError> {
        let host = cpal::default_host();
        let device = host
            .default_output_device()
            .ok_or(PlaybackError::NoDevice)?;
        let default = device
            .default_output_config()
            .map_err(|e| PlaybackError::NoConfig(e.to_string()))?;
        let config: StreamConfig = default.config();
        let state = Arc::new(PlayState::default());
        let len = samples.len() as u64;
        let cb = PlaybackCallback::new(
            samples,
            Arc::clone(&state),
            config.sample_rate,
            usize::from(config.channels),
        );
        let stream = match default.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, &config, cb, &state),
            SampleFormat::I16 => build::<i16>(&device, &config, cb, &state),
            SampleFormat::I32 => build::<i32>(&device, &config, cb, &state),
            SampleFormat::U16 => build::<u16>(&device, &config, cb, &state),
            SampleFormat::F64 => build::<f64>(&device, &config, cb, &state),
            SampleFormat::U8 => build::<u8>(&device, &config, cb, &state),
            SampleFormat::I8 => build::<i8>(&device, &config, cb, &state),
            other => Err(PlaybackError::UnsupportedFormat(other.to_string())),
        }?;
        stream
            .play()
            .map_err(|e| PlaybackError::Stream(e.to_string()))?;
        let device_name = device
            .description()
            .ok()
            .map(|d| d.name().to_string())
            .unwrap_or_else(|| "audio output".into());
        Ok(Self {
            _stream: stream,
            state,
            len,
            device_name,
        })
    }

    /// Plays `[from_secs, to_secs)` (`None`: to the end).
    pub fn play(&self, from_secs: f64, to_secs: Option<f64>) {
        self.state.play(from_secs, to_secs, self.len);
    }

    pub fn pause(&self) {
        self.state.pause();
    }

    pub fn is_playing(&self) -> bool {
        self.state.is_playing()
    }

    /// Where playback is (s on the session clock).
    pub fn position_secs(&self) -> f64 {
        self.state.position_secs()
    }

    /// Whether the device failed (unplugged) since it was opened.
    pub fn failed(&self) -> bool {
        self.state.failed.load(Ordering::Relaxed)
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    mut cb: PlaybackCallback,
    state: &Arc<PlayState>,
) -> Result<cpal::Stream, PlaybackError>
where
    T: SizedSample + FromSample<f32> + Send + 'static,
{
    let state = Arc::clone(state);
    device
        .build_output_stream::<T, _, _>(
            *config,
            move |data: &mut [T], _: &cpal::OutputCallbackInfo| cb.fill(data),
            move |err: cpal::Error| {
                // Underruns and the ALSA pulse plugin's passing I/O errors do not stop
                // playback; a vanished device does.
                if err.kind() == cpal::ErrorKind::DeviceNotAvailable {
                    state.failed.store(true, Ordering::Relaxed);
                }
            },
            Some(Duration::from_secs(2)),
        )
        .map_err(|e| PlaybackError::Stream(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_the_range_then_stops_and_interpolates_to_the_device_rate() {
        let samples: Arc<[f32]> = (0..1600).map(|i| i as f32 / 1600.0).collect();
        let state = Arc::new(PlayState::default());
        // 48 kHz stereo: three device frames per 16 kHz sample.
        let mut cb = PlaybackCallback::new(Arc::clone(&samples), Arc::clone(&state), 48_000, 2);
        state.play(0.01, Some(170.0 / 16_000.0), 1600); // samples 160-170
        let mut out = vec![0f32; 2 * 60];
        cb.fill(&mut out);
        assert!((out[0] - 160.0 / 1600.0).abs() < 1e-6);
        assert!(
            (out[2] - (160.0 + 1.0 / 3.0) / 1600.0).abs() < 1e-4,
            "{}",
            out[2]
        );
        assert_eq!(out[0], out[1], "both channels carry the sound");
        // 10 samples = 30 device frames, then silence and stopped.
        assert!(out[2 * 29] > 0.0);
        assert_eq!(out[2 * 31], 0.0);
        assert!(!state.playing.load(Ordering::Acquire));
        let mut more = vec![1f32; 8];
        cb.fill(&mut more);
        assert!(more.iter().all(|&x| x == 0.0), "paused output is silent");
    }
}
