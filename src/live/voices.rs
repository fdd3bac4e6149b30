//! Live voice attribution with one microphone: who made each vocalisation, told by voice from
//! the partner's enrolment (and the person's, when there is one), as soon as it ends.
//!
//! Runs on the "analysis" thread, beside the Analyzer (outside its allocation-free `process`):
//! the same MFCC features as offline ([`VoiceFeatures`] on the 16 kHz stream), kept for the
//! last [`KEEP_SECS`] only, so memory stays flat however long the session. Without the person's
//! enrolment, a vocalisation is the partner's when the partner's model explains it about as well
//! as it explains the enrolment; once the session holds enough of the person's voice, a model of
//! it is trained on a "voice-model" thread and every later vocalisation is judged by both models
//! (as [`classify_vocalisation`] does). The push-to-talk key, in the window, still overrides.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver};

use crate::analysis::speaker::{classify_vocalisation, vocalisation_features, Segment, Speaker};
use crate::analysis::track::{frame_of, ChannelTrack, FrameRecord};
use crate::analysis::voice_model::{VoiceModel, VoiceVector};
use crate::config::ANALYSIS_RATE_HZ;
use crate::dsp::resample::StreamResampler;
use crate::dsp::voice::{Cepstrum, VoiceFeatures};
use crate::events::{Event, Vocalisation};
use crate::time::SampleTime;

/// Samples per 10 ms frame on the session clock.
const HOP_LEN: usize = (ANALYSIS_RATE_HZ / 100) as usize;
/// Frames kept for judging a vocalisation (the longest vocalisation judged whole).
pub const KEEP_SECS: f64 = 30.0;
const KEEP_FRAMES: usize = (KEEP_SECS * 100.0) as usize;
/// The person's voice frames kept for their model, and how many are needed to train it.
const USER_FRAMES_KEPT: usize = 6000;
const USER_FRAMES_TO_TRAIN: usize = 300;
/// The person's model is retrained after this many more of their frames.
const RETRAIN_EVERY_FRAMES: usize = 1500;
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
    learned_user: Option<VoiceModel>,
    training: Option<Receiver<Option<VoiceModel>>>,
    resampler: Option<StreamResampler>,
    features: VoiceFeatures,
    /// Session frame index of `frames[0]` and `ceps[0]`.
    first_frame: usize,
    frames: VecDeque<FrameRecord>,
    ceps_first: usize,
    ceps: VecDeque<Cepstrum>,
    /// Frame offset of this stream on the session clock (a reconnection continues the clock).
    offset_frames: usize,
    user_frames: VecDeque<VoiceVector>,
    user_frames_new: usize,
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
            learned_user: None,
            training: None,
            resampler,
            features: VoiceFeatures::new(),
            first_frame: offset_frames,
            frames: VecDeque::with_capacity(KEEP_FRAMES + 1),
            ceps_first: offset_frames,
            ceps: VecDeque::with_capacity(KEEP_FRAMES + 1),
            offset_frames,
            user_frames: VecDeque::with_capacity(USER_FRAMES_KEPT + 1),
            user_frames_new: 0,
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
        self.poll_training();
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
            Event::Vocalisation(v) => Some(self.judge(v)),
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
        let user = self.models.user.as_ref().or(self.learned_user.as_ref());
        let mut seg = match user {
            Some(u) => classify_vocalisation(&track, &local, &self.models.partner, u),
            None => {
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
        if seg.speaker == Speaker::User && self.models.user.is_none() {
            self.learn_user(vocalisation_features(&track, &local));
        }
        seg
    }

    /// Keeps the person's frames and retrains their model on a "voice-model" thread now and
    /// then.
    fn learn_user(&mut self, frames: Vec<VoiceVector>) {
        self.user_frames_new += frames.len();
        self.user_frames.extend(frames);
        while self.user_frames.len() > USER_FRAMES_KEPT {
            self.user_frames.pop_front();
        }
        let due = if self.learned_user.is_none() {
            self.user_frames.len() >= USER_FRAMES_TO_TRAIN
        } else {
            self.user_frames_new >= RETRAIN_EVERY_FRAMES
        };
        if !due || self.training.is_some() {
            return;
        }
        self.user_frames_new = 0;
        let data: Vec<VoiceVector> = self.user_frames.iter().copied().collect();
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("voice-model".into())
            .spawn(move || {
                let _ = tx.send(VoiceModel::train(&data).ok());
            });
        if spawned.is_ok() {
            self.training = Some(rx);
        }
    }

    fn poll_training(&mut self) {
        if let Some(rx) = &self.training {
            if let Ok(model) = rx.try_recv() {
                self.training = None;
                if model.is_some() {
                    self.learned_user = model;
                }
            }
        }
    }

    /// Whether the person's voice has been learned from the session (or was enrolled).
    pub fn knows_user(&self) -> bool {
        self.models.user.is_some() || self.learned_user.is_some()
    }
}
