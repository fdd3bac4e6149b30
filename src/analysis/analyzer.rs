//! The Analyzer: samples in, timestamped events out. The one analysis every part of attune runs.

use thiserror::Error;

use crate::config::{AnalysisConfig, ConfigError, ANALYSIS_RATE_HZ, HOP_LEN};
use crate::dsp::filter::VoiceBand;
use crate::dsp::noise::{LevelPercentile, NoiseFloor};
use crate::dsp::pitch::{FrameFeatures, PitchAnalyzer};
use crate::dsp::resample::{InputStats, ResampleError, StreamResampler};
use crate::dsp::tracker::{PitchTracker, TrackedFrame, TrackerCosts};
use crate::events::{Event, PitchFrame};
use crate::time::SampleTime;

use super::vocal::{FrameInfo, VocalTracker};

/// The background level is this percentile of the frame levels over the last
/// `BACKGROUND_FRAMES` frames (5 s).
const BACKGROUND_QUANTILE: f32 = 0.2;
const BACKGROUND_FRAMES: usize = 500;
/// The background is taken to be at most this far above the noise floor. A percentile higher
/// than that is a voice filling most of the window (a hum in a quiet room), not the room:
/// without the cap the hum's own fading end would fall below its "background" and be unvoiced.
/// Babble and steady noise keep the floor within a few dB of the percentile, so they are not
/// affected.
const MAX_BACKGROUND_ABOVE_FLOOR_DB: f32 = 25.0;
/// The noise floor is the minimum over about this many frames (3 s).
const FLOOR_FRAMES: usize = 300;

/// A run of frames at least this periodic is a voice (or a tonal machine): from its
/// `HOLD_AFTER_FRAMES`th frame (1 s) the noise floor holds, so that a hum longer than the
/// floor's window does not become the floor and vanish, until the run reaches
/// `HOLD_UNTIL_FRAMES` (20 s), longer than any voice holds a sound without a breath.
const HOLD_PERIODICITY: f32 = 0.8;
const HOLD_AFTER_FRAMES: u32 = 100;
const HOLD_UNTIL_FRAMES: u32 = 2_000;

/// Of the frames too quiet to be searched for a period, one in this many teaches the pitch
/// analyser the room's noise spectrum.
const NOISE_FRAME_STRIDE: u64 = 2;

/// A struck object's ring (`Core::is_ring`): a rise of at least this much out of the three
/// frames before...
const RING_RISE_DB: f32 = 15.0;
/// ... then a fall of at least this much in every frame...
const RING_MIN_FALL_DB: f32 = 1.5;
/// ... for this many frames from its peak.
const RING_DECAY_FRAMES: usize = 5;

/// Frames quieter than this are never voiced.
const MIN_VOICED_LEVEL_DBFS: f32 = -80.0;

/// Why an Analyzer could not be built.
#[derive(Debug, Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// Streaming, deterministic analysis of one mono input.
///
/// Feed blocks of any size with [`Analyzer::process`], then call [`Analyzer::finish`] once.
/// Events are appended to the caller's vector in a deterministic order; pitch frames come in
/// time order, every 10 ms, after a fixed delay ([`Analyzer::delay_secs`]). After `new`, neither
/// method allocates as long as the event vector has room.
pub struct Analyzer {
    resampler: StreamResampler,
    core: Core,
}

impl Analyzer {
    /// Builds an Analyzer for input at `input_rate_hz`. Any thread.
    pub fn new(config: &AnalysisConfig, input_rate_hz: u32) -> Result<Self, AnalyzeError> {
        config.validate()?;
        Ok(Self {
            resampler: StreamResampler::new(input_rate_hz)?,
            core: Core::new(config),
        })
    }

    /// Analyses the next block of mono samples at the input rate. Analysis thread.
    pub fn process(&mut self, block: &[f32], events: &mut Vec<Event>) {
        self.process_tapped(block, events, &mut |_| {});
    }

    /// [`Analyzer::process`], and `resampled` sees the block converted to the analysis rate,
    /// as the Analyzer sees it (the driver computes the voice features on it: the input is
    /// resampled once). Analysis thread.
    pub fn process_tapped(
        &mut self,
        block: &[f32],
        events: &mut Vec<Event>,
        resampled: &mut impl FnMut(&[f32]),
    ) {
        let core = &mut self.core;
        self.resampler.process(block, &mut |s| {
            resampled(s);
            core.push_samples(s, events);
        });
    }

    /// Ends the stream: analyses what is buffered and decides every remaining frame. Analysis
    /// thread.
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        self.finish_tapped(events, &mut |_| {});
    }

    /// [`Analyzer::finish`], `resampled` seeing the last converted samples. Analysis thread.
    pub fn finish_tapped(&mut self, events: &mut Vec<Event>, resampled: &mut impl FnMut(&[f32])) {
        let core = &mut self.core;
        self.resampler.finish(&mut |s| {
            resampled(s);
            core.push_samples(s, events);
        });
        self.core.finish(events);
    }

    /// How long after a sound its pitch frame is emitted (s): the part of the analysis frame
    /// after its centre plus the tracker's lookahead (plus up to one 20 ms resampling chunk
    /// when the input is not at 16 kHz). Onsets are confirmed a few frames later still.
    pub fn delay_secs(&self) -> f64 {
        (self.core.frame_len - self.core.centre_offset + self.core.tracker.lag_frames() * HOP_LEN)
            as f64
            / f64::from(ANALYSIS_RATE_HZ)
    }

    /// Input samples that were NaN or infinite (replaced by silence).
    pub fn non_finite_samples(&self) -> u64 {
        self.input_stats().non_finite
    }

    /// The input seen so far: samples, non-finite and clipped ones, peak.
    pub fn input_stats(&self) -> InputStats {
        self.resampler.input_stats()
    }
}

struct Core {
    config: AnalysisConfig,
    band: VoiceBand,
    pitch: PitchAnalyzer,
    frame_len: usize,
    /// Samples of a frame before its centre.
    centre_offset: usize,
    /// Samples at the analysis rate; `buf[0]` is absolute sample `buf_start`.
    buf: Vec<f32>,
    buf_len: usize,
    buf_start: i64,
    samples_in: u64,
    next_frame: u64,
    /// Set by `finish`: the last frame that holds input (later ones hold only padding).
    last_frame: Option<u64>,
    noise: NoiseFloor,
    /// Consecutive frames with periodicity at least `HOLD_PERIODICITY`.
    periodic_run_frames: u32,
    background: LevelPercentile,
    tracker: PitchTracker,
    /// Level and floor of recent frames, by frame index modulo the length.
    levels_db: Vec<f32>,
    floors_db: Vec<f32>,
    vocal: VocalTracker,
    /// Whether the voiced run the last decided frame belongs to is a struck object's ring
    /// (`Core::is_ring`), which is then not voiced at all; `None` between runs.
    ring_run: Option<bool>,
}

impl Core {
    fn new(config: &AnalysisConfig) -> Self {
        let rate = f64::from(ANALYSIS_RATE_HZ);
        let pitch = PitchAnalyzer::new(rate, config.f0_min_hz, config.f0_max_hz);
        let frame_len = pitch.frame_len();
        let centre_offset = pitch.centre_offset();
        let lag = (config.lookahead_secs * 100.0).round() as usize;
        let ring = 2 * lag + 8;
        let buf = vec![0.0; frame_len + 8 * HOP_LEN];
        Self {
            config: config.clone(),
            band: VoiceBand::new(rate),
            pitch,
            frame_len,
            centre_offset,
            buf,
            // What the first frame needs before time 0 is silence.
            buf_len: centre_offset,
            buf_start: -(centre_offset as i64),
            samples_in: 0,
            next_frame: 0,
            last_frame: None,
            noise: NoiseFloor::new(FLOOR_FRAMES),
            periodic_run_frames: 0,
            background: LevelPercentile::new(BACKGROUND_FRAMES, BACKGROUND_QUANTILE),
            tracker: PitchTracker::new(lag, TrackerCosts::default()),
            levels_db: vec![crate::dsp::SILENCE_DBFS; ring],
            floors_db: vec![crate::dsp::SILENCE_DBFS; ring],
            vocal: VocalTracker::new(config),
            ring_run: None,
        }
    }

    fn push_samples(&mut self, mut samples: &[f32], events: &mut Vec<Event>) {
        self.samples_in += samples.len() as u64;
        while !samples.is_empty() {
            let room = self.buf.len() - self.buf_len;
            let n = room.min(samples.len());
            self.band
                .process_into(&samples[..n], &mut self.buf[self.buf_len..self.buf_len + n]);
            self.buf_len += n;
            samples = &samples[n..];
            self.run_frames(events);
        }
    }

    /// Analyses every frame the buffer holds, then drops samples no later frame needs.
    fn run_frames(&mut self, events: &mut Vec<Event>) {
        let half = self.centre_offset as i64;
        loop {
            let start = self.next_frame as i64 * HOP_LEN as i64 - half;
            let off = (start - self.buf_start) as usize;
            if off + self.frame_len > self.buf_len {
                break;
            }
            let frame = &self.buf[off..off + self.frame_len];
            let level_db = self.pitch.level_db(frame);
            // A long, clearly periodic sound is a voice, not the room: after its first second
            // the floor does not take it in, until it has lasted so long that it must be the
            // room after all (a fan's tone, a fridge). The run is counted up to the previous
            // frame, as this frame's periodicity needs the floor. (The background percentile
            // does take it in, and is capped instead: holding it too changed which voice the
            // one-microphone sessions' overlapping sounds were given to, for the worse.)
            let room_frame =
                !(HOLD_AFTER_FRAMES..HOLD_UNTIL_FRAMES).contains(&self.periodic_run_frames);
            // The first frames' level windows reach back before the recording into the silence
            // it is padded with: their lower level is not the room's. (Taken in, it held the
            // floor a few dB low for its first 3 s, and a steady tone such as mains hum then
            // stood far enough above it to be searched, and voiced.)
            let padded = self.next_frame * (HOP_LEN as u64) < self.pitch.level_half_len() as u64;
            if room_frame && !padded {
                self.noise.push(level_db);
            }
            let floor_db = self.noise.floor_db().min(level_db);
            // A frame the level gates will call unvoiced anyway is not searched for a period.
            let feats = if self.can_be_voiced(level_db, floor_db) {
                self.pitch.analyze_at_level(frame, level_db)
            } else {
                // Consecutive frames overlap by four fifths: every second one is enough to
                // learn the room's noise from.
                if level_db > MIN_VOICED_LEVEL_DBFS
                    && self.next_frame.is_multiple_of(NOISE_FRAME_STRIDE)
                {
                    self.pitch.observe_noise(frame);
                }
                FrameFeatures {
                    level_db,
                    ..FrameFeatures::default()
                }
            };
            if feats.best_strength() >= HOLD_PERIODICITY {
                self.periodic_run_frames = self.periodic_run_frames.saturating_add(1);
            } else {
                self.periodic_run_frames = 0;
            }
            let slot = (self.next_frame % self.levels_db.len() as u64) as usize;
            self.levels_db[slot] = feats.level_db;
            self.floors_db[slot] = floor_db;
            self.background.push(feats.level_db);
            // The tracker weighs periodicity against how far the frame stands out of the
            // background: the typical level of the room, or its floor when that is higher, but
            // never more than `MAX_BACKGROUND_ABOVE_FLOOR_DB` above the floor.
            let background_db = self
                .background
                .level_db()
                .min(floor_db + MAX_BACKGROUND_ABOVE_FLOOR_DB)
                .max(floor_db);
            let decided = self.tracker.push(&feats, feats.level_db - background_db);
            self.next_frame += 1;
            if let Some(d) = decided {
                self.finalize(d, events);
            }
        }
        let keep_from = self.next_frame as i64 * HOP_LEN as i64 - half;
        let drop = (keep_from - self.buf_start).clamp(0, self.buf_len as i64) as usize;
        if drop > 0 {
            self.buf.copy_within(drop..self.buf_len, 0);
            self.buf_len -= drop;
            self.buf_start += drop as i64;
        }
    }

    /// The absolute level gates: clearly above the noise floor and not near digital silence.
    fn can_be_voiced(&self, level_db: f32, floor_db: f32) -> bool {
        level_db - floor_db >= self.config.min_snr_db as f32 && level_db > MIN_VOICED_LEVEL_DBFS
    }

    /// Applies the level gates to a decided frame and passes it on.
    fn finalize(&mut self, d: TrackedFrame, events: &mut Vec<Event>) {
        let j = d.index;
        if self.last_frame.is_some_and(|last| j > last) {
            return;
        }
        let ring = self.levels_db.len() as u64;
        let lag = self.tracker.lag_frames() as u64;
        let level_db = self.levels_db[(j % ring) as usize];
        let floor_db = self.floors_db[(j % ring) as usize];
        let lo = j.saturating_sub(lag);
        let hi = (j + lag).min(self.next_frame.saturating_sub(1));
        // Frames `lo..=hi` in the ring: from `lo`'s slot to the end, then from the start.
        let start = (lo % ring) as usize;
        let local_max_db = self.levels_db[start..]
            .iter()
            .chain(&self.levels_db[..start])
            .take((hi + 1).saturating_sub(lo) as usize)
            .fold(f32::MIN, |m, &v| m.max(v));
        let loud_enough = level_db >= local_max_db - self.config.relative_level_gate_db as f32
            && self.can_be_voiced(level_db, floor_db);
        // A run is judged once, at its first frame.
        self.ring_run = match (d.f0_hz, self.ring_run) {
            (None, _) => None,
            (Some(_), Some(ring)) => Some(ring),
            (Some(_), None) => Some(self.is_ring(j)),
        };
        let f0_hz = d
            .f0_hz
            .filter(|_| loud_enough && self.ring_run != Some(true));
        let time = SampleTime(j * HOP_LEN as u64);
        events.push(Event::Pitch(PitchFrame {
            time,
            f0_hz,
            confidence: d.confidence.clamp(0.0, 1.0),
            level_dbfs: level_db,
        }));
        // Vocalisations and onsets follow the path's voicing: a run's hysteretic edges lengthen
        // its pitch contour, not the sound (they would merge sounds a short pause apart).
        self.vocal.push_frame(
            FrameInfo {
                index: j,
                f0_hz: f0_hz.filter(|_| !d.edge),
                level_db,
                floor_db,
            },
            events,
        );
    }

    /// Whether the voiced run that starts at frame `start` is the ring of something struck (a
    /// knock, a clap, a spoon on a cup): its level leaps out of the background within two
    /// frames and, from a peak in its first three frames, falls at least `RING_MIN_FALL_DB`
    /// in every one of the next `RING_DECAY_FRAMES` frames. A voice takes longer to rise, or
    /// holds its level a while, or both. Needs the levels of the frames after `start`: with a
    /// shorter lookahead (live) nothing is a ring. Analysis thread.
    fn is_ring(&self, start: u64) -> bool {
        let ring = self.levels_db.len() as u64;
        // Frames `start - 3 ..= last` must all be in the ring of levels.
        let last = start + 2 + RING_DECAY_FRAMES as u64;
        if start < 3 || last >= self.next_frame || start + ring < self.next_frame + 3 {
            return false;
        }
        let level = |k: u64| self.levels_db[(k % ring) as usize];
        let before_db = (start - 3..start).map(level).fold(f32::MAX, f32::min);
        if level(start).max(level(start + 1)) - before_db < RING_RISE_DB {
            return false;
        }
        let peak = (start..=start + 2).fold(start, |p, k| if level(k) > level(p) { k } else { p });
        (peak..peak + RING_DECAY_FRAMES as u64).all(|k| level(k + 1) <= level(k) - RING_MIN_FALL_DB)
    }

    fn finish(&mut self, events: &mut Vec<Event>) {
        if self.samples_in > 0 {
            let last_frame = (self.samples_in - 1) / HOP_LEN as u64;
            self.last_frame = Some(last_frame);
            // Pad with silence until every frame up to the last sample is analysed.
            while self.next_frame <= last_frame {
                let room = self.buf.len() - self.buf_len;
                self.buf[self.buf_len..].fill(0.0);
                self.buf_len += room;
                let before = self.next_frame;
                self.run_frames(events);
                if self.next_frame == before {
                    break;
                }
            }
            // Frames analysed past the end (from the padding) are not reported.
            while let Some(d) = self.tracker.flush_one() {
                self.finalize(d, events);
            }
        }
        self.vocal.finish(events);
    }
}
