//! Input devices: listing them (`attune devices`, the window's picker), finding one by name and
//! opening a capture stream on it. Runs on the thread that owns the stream ("capture").

use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig, SupportedStreamConfigRange};
use serde::Serialize;
use thiserror::Error;

use super::capture::{source_rings, CaptureCallback, ChannelRoute, SourceOutput};
use crate::config::ANALYSIS_RATE_HZ;

/// One input device as the user sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputDeviceInfo {
    /// The audio system it belongs to ("ALSA", "JACK", ...).
    pub host: String,
    /// Its name, as given to `--device`.
    pub name: String,
    /// Whether it is the host's default input.
    pub is_default: bool,
    /// Its default configuration, e.g. "48000 Hz, 2 ch, f32"; `None` when it cannot say.
    pub default_config: Option<String>,
}

/// Why capture could not start.
#[derive(Debug, Error)]
pub enum DeviceError {
    #[error("no input device found (no microphone connected, or no audio system running)")]
    NoDevice,
    #[error("input device \"{0}\" not found; `attune devices` lists the ones there are")]
    NotFound(String),
    #[error("the device offers no usable input configuration: {0}")]
    NoConfig(String),
    #[error("the device's sample format {0} is not supported")]
    UnsupportedFormat(String),
    #[error("channel {requested} requested but the device has {available} channel(s)")]
    ChannelOutOfRange { requested: usize, available: usize },
    #[error("cannot open the input stream: {0}")]
    Stream(String),
}

/// Lists the input devices of every available host. Any thread; may take a moment (ALSA
/// probes each device).
pub fn list_inputs() -> Vec<InputDeviceInfo> {
    let mut out = Vec::new();
    for host_id in cpal::available_hosts() {
        let Ok(host) = cpal::host_from_id(host_id) else {
            continue;
        };
        let default_name = host.default_input_device().and_then(|d| device_name(&d));
        let Ok(devices) = host.input_devices() else {
            continue;
        };
        for device in devices {
            let Some(name) = device_name(&device) else {
                continue;
            };
            let default_config = device.default_input_config().ok().map(|c| {
                format!(
                    "{} Hz, {} ch, {}",
                    c.sample_rate(),
                    c.channels(),
                    c.sample_format()
                )
            });
            out.push(InputDeviceInfo {
                host: host_id.name().to_string(),
                is_default: default_name.as_deref() == Some(name.as_str()),
                name,
                default_config,
            });
        }
    }
    out
}

fn device_name(device: &cpal::Device) -> Option<String> {
    device.description().ok().map(|d| d.name().to_string())
}

/// Finds an input device by name (exact, then case-insensitive substring), or the default
/// input when `name` is `None`.
pub fn find_input(name: Option<&str>) -> Result<cpal::Device, DeviceError> {
    let host = cpal::default_host();
    let Some(wanted) = name else {
        return host.default_input_device().ok_or(DeviceError::NoDevice);
    };
    let mut candidates = Vec::new();
    for host_id in cpal::available_hosts() {
        if let Ok(h) = cpal::host_from_id(host_id) {
            if let Ok(devices) = h.input_devices() {
                candidates.extend(devices);
            }
        }
    }
    let lower = wanted.to_lowercase();
    let exact = candidates
        .iter()
        .position(|d| device_name(d).as_deref() == Some(wanted));
    let loose = || {
        candidates
            .iter()
            .position(|d| device_name(d).is_some_and(|n| n.to_lowercase().contains(&lower)))
    };
    match exact.or_else(loose) {
        Some(i) => Ok(candidates.swap_remove(i)),
        None => Err(DeviceError::NotFound(wanted.to_string())),
    }
}

/// An open capture stream and what it delivers.
pub struct OpenInput {
    /// Keep it alive: dropping it stops capture.
    pub stream: cpal::Stream,
    pub output: SourceOutput,
    pub config: StreamConfig,
    pub sample_format: SampleFormat,
}

/// Picks the configuration: the analysis rate (16 kHz) when the device offers it, so no
/// resampling delay is added, else the device's default rate; small buffers for low latency.
fn choose_config(device: &cpal::Device) -> Result<(StreamConfig, SampleFormat), DeviceError> {
    let default = device
        .default_input_config()
        .map_err(|e| DeviceError::NoConfig(e.to_string()))?;
    let ranges: Vec<SupportedStreamConfigRange> = device
        .supported_input_configs()
        .map(|r| r.collect())
        .unwrap_or_default();
    let at_analysis_rate = ranges.iter().find(|r| {
        r.channels() == default.channels()
            && r.sample_format() == default.sample_format()
            && r.contains_rate(ANALYSIS_RATE_HZ)
    });
    let mut config: StreamConfig = default.config();
    let mut buffer_range = default.buffer_size();
    if let Some(r) = at_analysis_rate {
        config.sample_rate = ANALYSIS_RATE_HZ;
        buffer_range = r.buffer_size();
    }
    // About 5 ms per callback when the device lets us choose.
    let want = (config.sample_rate / 200).max(64);
    if let cpal::SupportedBufferSize::Range { min, max } = *buffer_range {
        if min <= max {
            config.buffer_size = cpal::BufferSize::Fixed(want.clamp(min, max));
        }
    }
    Ok((config, default.sample_format()))
}

/// Opens `device` for capture into a new pair of rings and starts it. Capture thread.
pub fn open_input(device: &cpal::Device, route: ChannelRoute) -> Result<OpenInput, DeviceError> {
    let (config, format) = choose_config(device)?;
    let channels = usize::from(config.channels);
    if let ChannelRoute::Channel(c) = route {
        if c >= channels {
            return Err(DeviceError::ChannelOutOfRange {
                requested: c + 1,
                available: channels,
            });
        }
    }
    let name = device_name(device).unwrap_or_else(|| "input device".into());
    match try_open(device, config, format, route, &name) {
        Ok(open) => Ok(open),
        // Some devices refuse a fixed buffer size: fall back to their default.
        Err(_) if config.buffer_size != cpal::BufferSize::Default => {
            let config = StreamConfig {
                buffer_size: cpal::BufferSize::Default,
                ..config
            };
            try_open(device, config, format, route, &name)
        }
        Err(e) => Err(e),
    }
}

fn try_open(
    device: &cpal::Device,
    config: StreamConfig,
    format: SampleFormat,
    route: ChannelRoute,
    name: &str,
) -> Result<OpenInput, DeviceError> {
    let channels = usize::from(config.channels);
    let (input, output) = source_rings(config.sample_rate, name.to_string(), channels);
    let callback = CaptureCallback::new(input, channels, route);
    let stream = match format {
        SampleFormat::I8 => build::<i8>(device, config, callback),
        SampleFormat::I16 => build::<i16>(device, config, callback),
        SampleFormat::I24 => build::<cpal::I24>(device, config, callback),
        SampleFormat::I32 => build::<i32>(device, config, callback),
        SampleFormat::I64 => build::<i64>(device, config, callback),
        SampleFormat::U8 => build::<u8>(device, config, callback),
        SampleFormat::U16 => build::<u16>(device, config, callback),
        SampleFormat::U24 => build::<cpal::U24>(device, config, callback),
        SampleFormat::U32 => build::<u32>(device, config, callback),
        SampleFormat::U64 => build::<u64>(device, config, callback),
        SampleFormat::F32 => build::<f32>(device, config, callback),
        SampleFormat::F64 => build::<f64>(device, config, callback),
        other => return Err(DeviceError::UnsupportedFormat(other.to_string())),
    }?;
    stream
        .play()
        .map_err(|e| DeviceError::Stream(e.to_string()))?;
    Ok(OpenInput {
        stream,
        output,
        config,
        sample_format: format,
    })
}

fn build<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut callback: CaptureCallback,
) -> Result<cpal::Stream, DeviceError>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
{
    let counters = callback.counters();
    device
        .build_input_stream::<T, _, _>(
            config,
            move |data: &[T], info: &cpal::InputCallbackInfo| {
                let ts = info.timestamp();
                let age = ts.callback.saturating_duration_since(ts.capture);
                callback.process(data, age);
            },
            move |err: cpal::Error| {
                // Xruns are not fatal; everything else means the stream is gone.
                if err.kind() != cpal::ErrorKind::Xrun {
                    counters
                        .stream_failed
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
            },
            Some(Duration::from_secs(2)),
        )
        .map_err(|e| DeviceError::Stream(e.to_string()))
}
