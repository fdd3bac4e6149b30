//! Live voice attribution with one microphone: who made each vocalisation, told by voice from
//! the partner's enrolment (and the person's, when there is one), as soon as it ends.
//!
//! Runs on the "analysis" thread, beside the Analyzer (outside its allocation-free `process`):
//! the same MFCC features as offline ([`VoiceFeatures`] on the 16 kHz stream), kept for the
//! last [`KEEP_SECS`] only, so memory stays flat however long the session.
//!
//! Every [`ADAPT_EVERY_SECS`] a "voice-model" thread re-attributes the kept minutes the way
//! `attune analyze` does a whole session ([`attribute_one_channel`]: the models refined on the
//! session, close calls settled by turn-taking) and refines both voice models on the result, so
//! the models learn the room and the day's voices; each vocalisation is then judged by both
//! models as it ends ([`classify_vocalisation`]). Before the first adaptation, without the
//! person's enrolment, a vocalisation is the partner's when the partner's model explains it about
//! as well as it explains the enrolment. The push-to-talk key, in the window, still overrides.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver};

use crate::analysis::speaker::{
    attribute_one_channel, classify_vocalisation, vocalisation_features, Segment, Speaker,
};
use crate::analysis::track::{frame_of, ChannelTrack, FrameRecord};
use crate::analysis::voice_model::{VoiceModel, VoiceVector};
use crate::config::ANALYSIS_RATE_HZ;
use crate::dsp::resample::StreamResampler;
use crate::dsp::voice::{Cepstrum, VoiceFeatures};
use crate::events::{Event, Vocalisation};
use crate::time::SampleTime;

/// Samples per 10 ms frame on the session clock.
const HOP_LEN: usize = (ANALYSIS_RATE_HZ / 100) as usize;
/// The stretch of session kept for judging and adapting (about 100 bytes per 10 ms).
pub const KEEP_SECS: f64 = 180.0;
const KEEP_FRAMES: usize = (KEEP_SECS * 100.0) as usize;
/// How often the models are adapted to the session (session seconds).
pub const ADAPT_EVERY_SECS: f64 = 4.0;
/// Vocalisations needed before the first adaptation.
const ADAPT_MIN_VOCALISATIONS: usize = 4;
/// Mean log-likelihood (nats per frame) below the enrolment's own 10th percentile at which a
/// vocalisation is not the partner's, before a model of the person exists.
const PARTNER_MARGIN_NATS: f64 = 2.0;

/// The voices enrolled for a live session.
#[derive(Debug, Clone)]
pub struct VoiceModels {
    pub partner: VoiceModel,
    pub user: Option<VoiceModel>,
}

/// The per-session state of live voice attribution. "analysis" thread.
pub struct LiveVoices {
    models: Arc<VoiceModels>,
    /// Both models refined on the session (partner, user).
    adapted: Option<Arc<(VoiceModel, VoiceModel)>>,
    adapting: Option<Receiver<Option<(VoiceModel, VoiceModel)>>>,
    /// Session time of the last adaptation (s).
    adapted_at_secs: f64,
    /// The vocalisations of the kept stretch (session clock).
    vocalisations: VecDeque<Vocalisation>,
    resampler: Option<StreamResampler>,
    features: VoiceFeatures,
    /// Session frame index of `frames[0]` and `ceps[0]`.
    first_frame: usize,
    frames: VecDeque<FrameRecord>,
    ceps_first: usize,
    ceps: VecDeque<Cepstrum>,
    /// Frame offset of this stream on the session clock (a reconnection continues the clock).
    offset_frames: usize,
    partner_threshold: f64,
    scratch: Vec<f32>,
}

/// The mean partner log-likelihood per frame of `x`.
fn mean_ll(model: &VoiceModel, x: &[VoiceVector]) -> f64 {
    x.iter().map(|v| model.log_likelihood(v)).sum::<f64>() / x.len().max(1) as f64
}

/// The enrolment's own 10th percentile of the mean log-likelihood over half-second stretches,
/// less a margin.
fn partner_threshold(model: &VoiceModel, data: &[VoiceVector]) -> f64 {
    let mut means: Vec<f64> = data.chunks(50).map(|c| mean_ll(model, c)).collect();
    means.sort_by(f64::total_cmp);
    means
        .get(means.len() / 10)
        .copied()
        .unwrap_or(f64::NEG_INFINITY)
        - PARTNER_MARGIN_NATS
}

impl LiveVoices {
    /// Attribution for a stream at `rate_hz` starting `offset` into the session.
    pub fn new(models: Arc<VoiceModels>, rate_hz: u32, offset: SampleTime) -> Option<Self> {
        let resampler = if rate_hz == ANALYSIS_RATE_HZ {
            None
        } else {
            Some(StreamResampler::new(rate_hz).ok()?)
        };
        let threshold = partner_threshold(&models.partner, models.partner.training_data());
        let offset_frames = (offset.0 as usize).div_ceil(HOP_LEN);
        Some(Self {
            models,
            adapted: None,
            adapting: None,
            adapted_at_secs: 0.0,
            vocalisations: VecDeque::new(),
            resampler,
            features: VoiceFeatures::new(),
            first_frame: offset_frames,
            frames: VecDeque::with_capacity(KEEP_FRAMES + 1),
            ceps_first: offset_frames,
            ceps: VecDeque::with_capacity(KEEP_FRAMES + 1),
            offset_frames,
            partner_threshold: threshold,
            scratch: Vec::with_capacity(4096),
        })
    }

    /// Takes the input samples (at the stream's rate).
    pub fn push_samples(&mut self, block: &[f32]) {
        let (ceps, ceps_first, offset) = (&mut self.ceps, &mut self.ceps_first, self.offset_frames);
        let mut sink = |k: u64, c: &Cepstrum| {
            let k = k as usize + offset;
            if ceps.is_empty() {
                *ceps_first = k;
            }
            while *ceps_first + ceps.len() < k {
                ceps.push_back([0.0; crate::dsp::voice::N_CEPS]);
            }
            ceps.push_back(*c);
            while ceps.len() > KEEP_FRAMES {
                ceps.pop_front();
                *ceps_first += 1;
            }
        };
        match &mut self.resampler {
            None => self.features.process(block, &mut sink),
            Some(r) => {
                self.scratch.clear();
                let scratch = &mut self.scratch;
                r.process(block, &mut |s| scratch.extend_from_slice(s));
                self.features.process(&self.scratch, &mut sink);
            }
        }
    }

    /// Takes one of the Analyzer's events (on the session clock); returns the attribution
    /// when it is a vocalisation.
    pub fn push_event(&mut self, event: &Event) -> Option<Segment> {
        self.poll_adaptation();
        match event {
            Event::Pitch(p) => {
                let k = frame_of(p.time);
                if self.frames.is_empty() {
                    self.first_frame = k;
                }
                while self.first_frame + self.frames.len() < k {
                    self.frames.push_back(FrameRecord::default());
                }
                if self.first_frame + self.frames.len() == k {
                    self.frames.push_back(FrameRecord {
                        f0_hz: p.f0_hz,
                        level_dbfs: p.level_dbfs,
                    });
                }
                while self.frames.len() > KEEP_FRAMES {
                    self.frames.pop_front();
                    self.first_frame += 1;
                }
                None
            }
            Event::Vocalisation(v) => {
                let seg = self.judge(v);
                self.vocalisations.push_back(*v);
                while self
                    .vocalisations
                    .front()
                    .is_some_and(|x| frame_of(x.start) < self.first_frame)
                {
                    self.vocalisations.pop_front();
                }
                self.adapt(v.end.secs());
                Some(seg)
            }
            _ => None,
        }
    }

    /// The vocalisation's frames as a small track of their own (frame 0 = `from`).
    fn window(&self, v: &Vocalisation) -> (ChannelTrack, Vocalisation) {
        let from = frame_of(v.start).max(self.first_frame);
        let to = frame_of(v.end) + 1;
        let frames = (from..to)
            .map(|k| {
                self.frames
                    .get(k.wrapping_sub(self.first_frame))
                    .copied()
                    .unwrap_or_default()
            })
            .collect();
        let ceps = (from..to)
            .map_while(|k| {
                k.checked_sub(self.ceps_first)
                    .and_then(|i| self.ceps.get(i))
                    .copied()
            })
            .collect();
        let t = ChannelTrack {
            frames,
            ceps,
            ..ChannelTrack::default()
        };
        let by = (from * HOP_LEN) as u64;
        let local = Vocalisation {
            start: SampleTime(v.start.0.saturating_sub(by)),
            end: SampleTime(v.end.0.saturating_sub(by)),
            ..*v
        };
        (t, local)
    }

    fn judge(&mut self, v: &Vocalisation) -> Segment {
        let (track, local) = self.window(v);
        let mut seg = match (&self.adapted, &self.models.user) {
            (Some(m), _) => classify_vocalisation(&track, &local, &m.0, &m.1),
            (None, Some(u)) => classify_vocalisation(&track, &local, &self.models.partner, u),
            (None, None) => {
                let f = vocalisation_features(&track, &local);
                let ll = mean_ll(&self.models.partner, &f);
                Segment {
                    vocalisation: local,
                    speaker: if f.is_empty() {
                        Speaker::Unknown
                    } else if ll >= self.partner_threshold {
                        Speaker::Partner
                    } else {
                        Speaker::User
                    },
                    track: 0,
                    margin: (ll - self.partner_threshold).abs() as f32,
                }
            }
        };
        seg.vocalisation = *v;
        seg
    }

    /// Starts an adaptation on a "voice-model" thread when one is due.
    fn adapt(&mut self, now_secs: f64) {
        if self.adapting.is_some()
            || now_secs - self.adapted_at_secs < ADAPT_EVERY_SECS
            || self.vocalisations.len() < ADAPT_MIN_VOCALISATIONS
        {
            return;
        }
        self.adapted_at_secs = now_secs;
        // The kept stretch as a track of its own: frame 0 = the first frame kept with both its
        // pitch and its cepstrum.
        let start = self.first_frame.max(self.ceps_first);
        let by = (start * HOP_LEN) as u64;
        let track = ChannelTrack {
            frames: self
                .frames
                .iter()
                .skip(start - self.first_frame)
                .copied()
                .collect(),
            ceps: self
                .ceps
                .iter()
                .skip(start - self.ceps_first)
                .copied()
                .collect(),
            onsets: Vec::new(),
            vocalisations: self
                .vocalisations
                .iter()
                .filter(|v| frame_of(v.start) >= start)
                .map(|v| Vocalisation {
                    start: SampleTime(v.start.0 - by),
                    end: SampleTime(v.end.0.saturating_sub(by)),
                    ..*v
                })
                .collect(),
        };
        let models = Arc::clone(&self.models);
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("voice-model".into())
            .spawn(move || {
                let _ = tx.send(adapted_models(&track, &models));
            });
        if spawned.is_ok() {
            self.adapting = Some(rx);
        }
    }

    fn poll_adaptation(&mut self) {
        if let Some(rx) = &self.adapting {
            if let Ok(result) = rx.try_recv() {
                self.adapting = None;
                if let Some(m) = result {
                    self.adapted = Some(Arc::new(m));
                }
            }
        }
    }

    /// Whether the models have been adapted to this session yet.
    pub fn adapted(&self) -> bool {
        self.adapted.is_some()
    }
}

/// Re-attributes `track` as a whole session and refines both models on the result (the
/// person's is trained from the session alone when not enrolled). "voice-model" thread.
fn adapted_models(track: &ChannelTrack, models: &VoiceModels) -> Option<(VoiceModel, VoiceModel)> {
    let segments = attribute_one_channel(track, Some(&models.partner), models.user.as_ref());
    let (mut partner_x, mut user_x) = (Vec::new(), Vec::new());
    for s in &segments {
        let f = vocalisation_features(track, &s.vocalisation);
        match s.speaker {
            Speaker::Partner => partner_x.extend(f),
            Speaker::User => user_x.extend(f),
            _ => {}
        }
    }
    let partner = models.partner.refined(&partner_x).ok()?;
    let user = match &models.user {
        Some(u) => u.refined(&user_x).ok()?,
        None => VoiceModel::train(&user_x).ok()?,
    };
    Some((partner, user))
}
