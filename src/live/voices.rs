//! Live voice attribution with one microphone: who made each vocalisation, told by voice from
//! the partner's enrolment (and the person's, when there is one), a moment after it ends.
//!
//! Runs on the "analysis" thread, beside the driver (outside the Analyzer's allocation-free
//! `process`): it keeps the driver's voice features (the same MFCCs as offline) and pitch
//! frames for the last [`KEEP_SECS`] only, so memory stays flat however long the session.
//!
//! When a vocalisation ends it waits for a "voice-model" thread, which attributes the kept
//! minutes exactly as `attune analyze` attributes a whole session ([`attribute_one_channel`]:
//! a voice without a clip estimated from the session, the voice changes inside a
//! vocalisation, close calls settled by turn-taking), but from the past only, and labels the
//! vocalisations that were waiting. One job runs at a time; vocalisations that end meanwhile
//! wait for the next. The labels arrive a fraction of a second late (the window waits for
//! them); the push-to-talk key, in the window, still overrides.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver};

use crate::analysis::speaker::{attribute_one_channel, Segment, Speaker};
use crate::analysis::track::{frame_of, ChannelTrack, FrameRecord};
use crate::analysis::voice_model::VoiceModel;
use crate::config::HOP_LEN;
use crate::dsp::voice::Cepstrum;
use crate::events::{Event, Vocalisation};
use crate::time::SampleTime;
/// The stretch of session kept for attribution (about 100 bytes per 10 ms).
pub const KEEP_SECS: f64 = 180.0;
const KEEP_FRAMES: usize = (KEEP_SECS * 100.0) as usize;
/// At the end of a stream, how long to wait for the last labels.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The voices enrolled for a live session.
#[derive(Debug, Clone)]
pub struct VoiceModels {
    pub partner: VoiceModel,
    pub user: Option<VoiceModel>,
}

/// One attribution job's answer: the vocalisations it was given, labelled.
type Labels = Vec<Segment>;

/// The per-stream state of live voice attribution. "analysis" thread.
pub struct LiveVoices {
    models: Arc<VoiceModels>,
    /// Session frame index of `frames[0]`, and of `ceps[0]`.
    first_frame: usize,
    frames: VecDeque<FrameRecord>,
    ceps_first: usize,
    ceps: VecDeque<Cepstrum>,
    /// The vocalisations of the kept stretch (session clock).
    vocalisations: VecDeque<Vocalisation>,
    /// Ended, not yet labelled.
    waiting: Vec<Vocalisation>,
    job: Option<Receiver<Labels>>,
}

impl LiveVoices {
    /// Attribution for a stream starting `start` into the session.
    pub fn new(models: Arc<VoiceModels>, start: SampleTime) -> Self {
        let first_frame = start.0 as usize / HOP_LEN;
        Self {
            models,
            first_frame,
            frames: VecDeque::with_capacity(KEEP_FRAMES + 1),
            ceps_first: first_frame,
            ceps: VecDeque::with_capacity(KEEP_FRAMES + 1),
            vocalisations: VecDeque::new(),
            waiting: Vec::new(),
            job: None,
        }
    }

    /// Takes the driver's voice features (session frame index, features), in order.
    pub fn push_ceps(&mut self, ceps: &[(usize, Cepstrum)]) {
        for &(k, c) in ceps {
            if self.ceps.is_empty() {
                self.ceps_first = k;
            }
            while self.ceps_first + self.ceps.len() < k {
                self.ceps.push_back([0.0; crate::dsp::voice::N_CEPS]);
            }
            self.ceps.push_back(c);
            while self.ceps.len() > KEEP_FRAMES {
                self.ceps.pop_front();
                self.ceps_first += 1;
            }
        }
    }

    /// Takes one of the Analyzer's events (on the session clock). A vocalisation waits for its
    /// label ([`LiveVoices::poll`]).
    pub fn push_event(&mut self, event: &Event) {
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
            }
            Event::Vocalisation(v) => {
                self.vocalisations.push_back(*v);
                while self
                    .vocalisations
                    .front()
                    .is_some_and(|x| frame_of(x.start) < self.first_frame)
                {
                    self.vocalisations.pop_front();
                }
                self.waiting.push(*v);
            }
            _ => {}
        }
    }

    /// The labels that are ready (in the order the vocalisations ended); starts the next job
    /// when vocalisations wait. Call it often.
    pub fn poll(&mut self) -> Labels {
        let mut out = Vec::new();
        if let Some(rx) = &self.job {
            match rx.try_recv() {
                Ok(labels) => {
                    self.job = None;
                    out = labels;
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => self.job = None,
                Err(crossbeam_channel::TryRecvError::Empty) => {}
            }
        }
        if self.job.is_none() && !self.waiting.is_empty() {
            self.start_job();
        }
        out
    }

    /// Waits (up to a few seconds) for every waiting vocalisation's label: the stream ended.
    pub fn drain(&mut self) -> Labels {
        let mut out = Vec::new();
        for _ in 0..2 {
            if self.job.is_none() && !self.waiting.is_empty() {
                self.start_job();
            }
            if let Some(rx) = self.job.take() {
                if let Ok(labels) = rx.recv_timeout(DRAIN_TIMEOUT) {
                    out.extend(labels);
                }
            }
        }
        out
    }

    /// The kept stretch as a track of its own (frame 0 = the first frame kept with both its
    /// pitch and its cepstrum) and how far it is shifted (samples).
    fn kept_track(&self) -> (ChannelTrack, u64) {
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
                .map(|v| v.shifted(-(by as i64)))
                .collect(),
        };
        (track, by)
    }

    fn start_job(&mut self) {
        let (track, by) = self.kept_track();
        let waiting = std::mem::take(&mut self.waiting);
        let models = Arc::clone(&self.models);
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("voice-model".into())
            .spawn(move || {
                let _ = tx.send(label(&track, by, &waiting, &models));
            });
        match spawned {
            Ok(_) => self.job = Some(rx),
            Err(_) => {
                // No thread: these vocalisations stay unlabelled rather than stall the analysis.
                self.job = None;
            }
        }
    }
}

/// Attributes `track` as `attune analyze` does a session and gives each of `waiting` (session
/// clock; `track` starts `by` samples in) the speaker of the part that overlaps it most.
/// "voice-model" thread.
fn label(track: &ChannelTrack, by: u64, waiting: &[Vocalisation], models: &VoiceModels) -> Labels {
    let segments = attribute_one_channel(track, Some(&models.partner), models.user.as_ref());
    waiting
        .iter()
        .map(|v| {
            let local = v.shifted(-(by as i64));
            let overlap = |s: &Segment| {
                s.vocalisation.end.0.min(local.end.0) as i64
                    - s.vocalisation.start.0.max(local.start.0) as i64
            };
            let best = segments
                .iter()
                .filter(|s| overlap(s) > 0)
                .max_by_key(|s| overlap(s));
            Segment {
                vocalisation: *v,
                speaker: best.map_or(Speaker::Unknown, |s| s.speaker),
                track: 0,
                margin: best.map_or(0.0, |s| s.margin),
            }
        })
        .collect()
}
