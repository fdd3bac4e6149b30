//! TEMPORARY minimal decoder (being replaced by the full module).
use std::path::Path;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelSelect {
    #[default]
    Downmix,
    Channel(usize),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AudioInfo {
    pub sample_rate_hz: u32,
    pub channels: usize,
    pub duration_secs: Option<f64>,
    pub codec: String,
    pub bits_per_sample: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{0}")]
    Other(String),
    #[error("no audio")]
    Empty,
}

pub struct Decoder {
    fmt: Box<dyn symphonia::core::formats::FormatReader>,
    dec: Box<dyn symphonia::core::codecs::Decoder>,
    track: u32,
    info: AudioInfo,
    out: Vec<f32>,
    channel: ChannelSelect,
    n: u64,
}

impl Decoder {
    pub fn open(path: &Path, channel: ChannelSelect) -> Result<Decoder, DecodeError> {
        let e = |x: String| DecodeError::Other(x);
        let f = std::fs::File::open(path).map_err(|x| e(x.to_string()))?;
        let mss = MediaSourceStream::new(Box::new(f), Default::default());
        let probed = symphonia::default::get_probe()
            .format(
                &Hint::new(),
                mss,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(|x| e(x.to_string()))?;
        let fmt = probed.format;
        let t = fmt.default_track().ok_or_else(|| e("no track".into()))?;
        let sr = t
            .codec_params
            .sample_rate
            .ok_or_else(|| e("no rate".into()))?;
        let ch = t.codec_params.channels.map(|c| c.count()).unwrap_or(1);
        let dec = symphonia::default::get_codecs()
            .make(&t.codec_params, &DecoderOptions::default())
            .map_err(|x| e(x.to_string()))?;
        let track = t.id;
        Ok(Decoder {
            fmt,
            dec,
            track,
            info: AudioInfo {
                sample_rate_hz: sr,
                channels: ch,
                duration_secs: None,
                codec: String::new(),
                bits_per_sample: None,
            },
            out: Vec::new(),
            channel,
            n: 0,
        })
    }
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, DecodeError> {
        loop {
            let p = match self.fmt.next_packet() {
                Ok(p) => p,
                Err(_) => return Ok(None),
            };
            if p.track_id() != self.track {
                continue;
            }
            let d = self
                .dec
                .decode(&p)
                .map_err(|x| DecodeError::Other(x.to_string()))?;
            let spec = *d.spec();
            let ch = spec.channels.count();
            let mut sb = SampleBuffer::<f32>::new(d.capacity() as u64, spec);
            sb.copy_interleaved_ref(d);
            self.out.clear();
            for fr in sb.samples().chunks(ch) {
                self.out.push(match self.channel {
                    ChannelSelect::Downmix => fr.iter().sum::<f32>() / ch as f32,
                    ChannelSelect::Channel(c) => fr[c.min(ch - 1)],
                });
            }
            self.n += self.out.len() as u64;
            return Ok(Some(&self.out));
        }
    }
    pub fn skipped_packets(&self) -> u64 {
        0
    }
    pub fn samples_read(&self) -> u64 {
        self.n
    }
}
