//! What the window shows, as plain data (no egui types): bounded histories of the live analysis
//! and the cues derived from them. Updated on the UI thread from [`LiveMessage`]s.

use std::collections::VecDeque;
use std::time::Instant;

use crate::analysis::cue::{self, Heard, TurnCue};
use crate::analysis::mirror::{mirror_score, MirrorScore, MirrorWeights, VocalShape};
use crate::analysis::speaker::{
    held_share, push_to_talk_speaker, HeldInterval, OutsideKey, Speaker,
};
use crate::analysis::stats;
use crate::analysis::track::{onset_belongs, FrameRecord};
use crate::analysis::turns::{answer_latency_secs, TurnSettings, Utterance};
use crate::events::{Event, Vocalisation};
use crate::live::latency::{LatencyStats, LatencySummary};
use crate::live::{InputStatus, LiveMessage, LATENCY_WARM_UP_SECS};
use crate::time::SampleTime;

/// Seconds of history kept for the ribbon (it shows the last [`RIBBON_SECS`]).
pub const HISTORY_SECS: f64 = 15.0;
/// Seconds the pitch ribbon shows.
pub const RIBBON_SECS: f64 = 10.0;
/// The mirror card keeps at most this many contour points.
const CARD_POINTS: usize = 200;
/// Minutes of vocal-activity history kept (one bin per minute).
const ACTIVITY_MINUTES: usize = 240;

/// One pitch frame as the ribbon needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchPoint {
    pub t_secs: f64,
    pub f0_hz: Option<f32>,
    pub level_dbfs: f32,
}

/// The shape of the person's last vocalisation, to echo.
#[derive(Debug, Clone, PartialEq)]
pub struct MirrorCard {
    /// (seconds from its start, f0 Hz) of its voiced frames.
    pub contour: Vec<(f64, f32)>,
    pub duration_secs: f64,
    /// Onset times from its start (s).
    pub beats: Vec<f64>,
    pub f0_median_hz: f32,
    pub syllable_rate_hz: f32,
    pub ended_at_secs: f64,
}

/// Echo scores kept for the session view.
const ECHOES_KEPT: usize = 500;
/// Held-key intervals kept (enough for any answer still being analysed).
const HELD_KEPT: usize = 64;
/// Vocalisations waiting for a voice label, at most; and how long one waits (session s).
const AWAITING_KEPT: usize = 16;
const LABEL_WAIT_SECS: f64 = 2.0;
/// Markers the live screen remembers (ticks on the ribbon, the last one named).
const MARKERS_KEPT: usize = 64;
/// Which partner sound answers the person's: LENA's turn model (a change of speaker within
/// 5 s), under which the session report scores the partner's answers too.
const ANSWER_WINDOW: TurnSettings = TurnSettings::LENA;
/// Response latencies kept for the pace view.
const LATENCIES_KEPT: usize = 200;

/// Whose sound it was, as far as the window knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Not told apart (no push-to-talk in this session yet).
    Unknown,
    Person,
    /// Made while the partner held the push-to-talk key.
    Partner,
}

/// How closely one partner answer mirrored the person's sound before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Echo {
    pub score: MirrorScore,
    /// When the answer ended (s).
    pub at_secs: f64,
    /// From the end of the person's sound to the start of the answer (s; negative: overlap).
    pub latency_secs: f64,
}

/// The pace and intensity of the session, from the labelled sounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pace {
    pub person_vocal_secs: f64,
    pub partner_vocal_secs: f64,
    person_level_sum_db: f64,
    person_n: u32,
    partner_level_sum_db: f64,
    partner_n: u32,
    pub latencies_secs: VecDeque<f64>,
}

impl Pace {
    /// The partner's mean loudness minus the person's (dB).
    pub fn loudness_difference_db(&self) -> Option<f64> {
        (self.person_n > 0 && self.partner_n > 0).then(|| {
            self.partner_level_sum_db / f64::from(self.partner_n)
                - self.person_level_sum_db / f64::from(self.person_n)
        })
    }

    /// The partner's share of all vocal time (0-1).
    pub fn partner_share(&self) -> Option<f64> {
        let total = self.person_vocal_secs + self.partner_vocal_secs;
        (total > 0.0 && self.partner_n > 0).then(|| self.partner_vocal_secs / total)
    }

    /// Median response latency of the partner (s).
    pub fn median_latency_secs(&self) -> Option<f64> {
        stats::median(self.latencies_secs.iter().copied())
    }
}

/// The input as the status line describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputState {
    pub status: Option<InputStatus>,
    /// The user asked for a device but there was none, so the demo session plays.
    pub demo_fallback: bool,
}

/// Everything the live screen shows.
#[derive(Debug, Default)]
pub struct LiveModel {
    pub pitch: VecDeque<PitchPoint>,
    pub onsets: VecDeque<f64>,
    /// Start of the vocalisation in progress.
    pub vocalising_since: Option<f64>,
    pub last_vocalisation: Option<Vocalisation>,
    pub card: Option<MirrorCard>,
    /// Latest analysed time (s): "now" on the session clock.
    pub now_secs: f64,
    pub input: InputState,
    pub recording_error: Option<String>,
    pub vocalisations: u64,
    /// Seconds of vocalisation per session minute.
    pub activity_per_minute: VecDeque<f64>,
    /// Sound → the drawn frame that shows it (measured here, at the end of the frame).
    pub screen_latency: LatencyStats,
    /// Analysis event → the drawn frame that shows it.
    pub draw_latency: LatencyStats,
    /// When the partner pressed the push-to-talk key (session s), while it is held.
    pub partner_key_since: Option<f64>,
    held: VecDeque<(f64, f64)>,
    /// The voice attribution of the vocalisation about to end (start, end, speaker).
    voice_label: Option<(SampleTime, SampleTime, Speaker)>,
    /// The partner's recent vocalisations (session s), for the ribbon.
    partner_spans: VecDeque<(f64, f64)>,
    /// Whether vocalisations are told apart by voice in this session.
    pub voices_used: bool,
    /// Vocalisations get a voice label a moment after they end: wait for it.
    pub expect_voice_labels: bool,
    /// Ended vocalisations waiting for their label (with their shape and when they ended).
    awaiting: VecDeque<(Vocalisation, VocalShape, f64)>,
    /// Markers logged in this session (session s, code), the latest `MARKERS_KEPT`.
    pub markers: VecDeque<(f64, String)>,
    /// Whether push-to-talk was used in this session (then unlabelled sounds are the person's).
    pub push_to_talk_used: bool,
    /// The person's last sound and its shape, for the next echo.
    last_person: Option<(Vocalisation, VocalShape)>,
    pub echoes: VecDeque<Echo>,
    pub pace: Pace,
    /// (captured at, analysed at) of the pitch events taken since the last drawn frame.
    undrawn: Vec<(Option<Instant>, Instant)>,
    /// Latency is timed from this session time on (the first seconds of a stream deliver
    /// what the audio system buffered before it was read).
    latency_from_secs: f64,
}

impl LiveModel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one message from the pipeline. UI thread.
    pub fn apply(&mut self, msg: LiveMessage) {
        match msg {
            LiveMessage::Event {
                event,
                captured_at,
                analysed_at,
            } => {
                // Voiced frames are what the ribbon draws: their way to the screen is timed.
                let voiced = matches!(event, Event::Pitch(p)
                    if p.f0_hz.is_some() && p.time.secs() >= self.latency_from_secs);
                if voiced && self.undrawn.len() < 4096 {
                    self.undrawn.push((captured_at, analysed_at));
                }
                self.apply_event(&event);
            }
            LiveMessage::Status { status, .. } => {
                if let InputStatus::Waiting { .. } = status {
                    self.input.demo_fallback = false;
                }
                if matches!(status, InputStatus::Connected { .. }) {
                    self.latency_from_secs = self.now_secs + LATENCY_WARM_UP_SECS;
                }
                if let (
                    Some(InputStatus::Waiting { .. }),
                    InputStatus::Connected { playback, .. },
                ) = (&self.input.status, &status)
                {
                    self.input.demo_fallback = *playback;
                }
                self.input.status = Some(status);
            }
            LiveMessage::RecordingError(e) => self.recording_error = Some(e),
            // Taken by the app before the model sees it.
            LiveMessage::Enrolment { .. } => {}
            LiveMessage::Speaker {
                start,
                end,
                speaker,
                ..
            } => {
                self.voices_used = true;
                self.voice_label = Some((start, end, speaker));
                // Labels come in order: those before it will get none now; this one is settled.
                while let Some((v, shape, _)) = self.awaiting.pop_front() {
                    let this = v.start == start && v.end == end;
                    self.finish_vocalisation(v, shape);
                    if this {
                        break;
                    }
                }
            }
        }
    }

    fn apply_event(&mut self, event: &Event) {
        match *event {
            Event::Pitch(p) => {
                let t = p.time.secs();
                self.now_secs = self.now_secs.max(t);
                self.pitch.push_back(PitchPoint {
                    t_secs: t,
                    f0_hz: p.f0_hz,
                    level_dbfs: p.level_dbfs,
                });
                while self
                    .pitch
                    .front()
                    .is_some_and(|f| f.t_secs < t - HISTORY_SECS)
                {
                    self.pitch.pop_front();
                }
            }
            Event::Onset { time } => {
                self.onsets.push_back(time.secs());
                let cut = self.now_secs - HISTORY_SECS;
                while self.onsets.front().is_some_and(|&o| o < cut) {
                    self.onsets.pop_front();
                }
            }
            Event::VocalisationStart { time } => {
                if self.partner_key_since.is_none() {
                    self.vocalising_since = Some(time.secs());
                }
            }
            Event::Vocalisation(v) => {
                self.vocalising_since = None;
                self.vocalisations += 1;
                let shape = VocalShape::from_parts(
                    &v,
                    self.pitch
                        .iter()
                        .filter(|p| p.t_secs >= v.start.secs() && p.t_secs <= v.end.secs())
                        .map(|p| FrameRecord {
                            f0_hz: p.f0_hz,
                            level_dbfs: p.level_dbfs,
                        }),
                    self.onsets
                        .iter()
                        .map(|&o| SampleTime::from_secs(o))
                        .filter(|&o| onset_belongs(o, v.start, v.end)),
                );
                if self.expect_voice_labels {
                    // Its label comes a moment later (LiveMessage::Speaker).
                    if self.awaiting.len() == AWAITING_KEPT {
                        if let Some((v, shape, _)) = self.awaiting.pop_front() {
                            self.finish_vocalisation(v, shape);
                        }
                    }
                    self.awaiting.push_back((v, shape, self.now_secs));
                } else {
                    self.finish_vocalisation(v, shape);
                }
            }
        }
    }

    /// The partner's push-to-talk key is down (or up). Returns the held interval (session s)
    /// when the key was just released. UI thread, every frame.
    pub fn set_partner_key(&mut self, down: bool) -> Option<(f64, f64)> {
        match (down, self.partner_key_since) {
            (true, None) => {
                self.partner_key_since = Some(self.now_secs);
                self.push_to_talk_used = true;
                self.vocalising_since = None;
            }
            (false, Some(since)) => {
                self.partner_key_since = None;
                if self.held.len() == HELD_KEPT {
                    self.held.pop_front();
                }
                self.held.push_back((since, self.now_secs));
                return Some((since, self.now_secs));
            }
            _ => {}
        }
        None
    }

    /// Notes a marker logged now (shown as a tick on the ribbon); returns its time (s).
    pub fn add_marker(&mut self, code: &str) -> f64 {
        if self.markers.len() == MARKERS_KEPT {
            self.markers.pop_front();
        }
        self.markers.push_back((self.now_secs, code.to_string()));
        self.now_secs
    }

    /// A vocalisation is over and its speaker known (or no label will come): the card, the
    /// echo score, the pace.
    fn finish_vocalisation(&mut self, v: Vocalisation, shape: VocalShape) {
        match self.who(&v) {
            Who::Partner => self.partner_sound(&v, &shape),
            who => {
                if who == Who::Person {
                    self.pace.person_vocal_secs += v.duration_secs();
                    self.pace.person_level_sum_db += f64::from(v.mean_level_dbfs);
                    self.pace.person_n += 1;
                }
                self.add_activity(&v);
                self.card = Some(self.card_for(&v));
                self.last_vocalisation = Some(v);
                // An unattributed sound too: it was labelled as it ended, perhaps before the
                // key was first used, and may be the sound the partner answers.
                self.last_person = Some((v, shape));
            }
        }
    }

    /// Vocalisations whose voice label did not come within `LABEL_WAIT_SECS` are taken as they
    /// are. UI thread, every frame.
    pub fn settle_awaiting(&mut self) {
        while self
            .awaiting
            .front()
            .is_some_and(|(_, _, at)| self.now_secs - at > LABEL_WAIT_SECS)
        {
            if let Some((v, shape, _)) = self.awaiting.pop_front() {
                self.finish_vocalisation(v, shape);
            }
        }
    }

    /// Whether the sound at `t_secs` is the partner's (the key is or was held then, or the
    /// vocalisation it belongs to was the partner's). The ribbon draws it in the partner's colour.
    pub fn partner_at(&self, t_secs: f64) -> bool {
        self.partner_key_since.is_some_and(|s| t_secs >= s)
            || self
                .partner_spans
                .iter()
                .chain(self.held.iter())
                .any(|&(a, b)| t_secs >= a && t_secs <= b)
    }

    /// Whose sound `v` was, by [`push_to_talk_speaker`]: the partner's when the key was held
    /// over most of it, else its voice label; once the key has been used, an unlabelled sound
    /// is the person's. UI thread.
    pub fn who(&self, v: &Vocalisation) -> Who {
        let open = self.partner_key_since.map(|start_secs| HeldInterval {
            start_secs,
            end_secs: f64::INFINITY,
        });
        let held = self
            .held
            .iter()
            .map(|&(start_secs, end_secs)| HeldInterval {
                start_secs,
                end_secs,
            })
            .chain(open);
        let share = held_share(v.start.secs(), v.end.secs(), held);
        let guess = match self.voice_label {
            Some((s, e, who @ (Speaker::User | Speaker::Partner)))
                if s == v.start && e == v.end =>
            {
                who
            }
            _ => Speaker::Unknown,
        };
        let outside = if self.push_to_talk_used {
            OutsideKey::UnknownIsUser
        } else {
            OutsideKey::KeepGuess
        };
        match push_to_talk_speaker(share, guess, outside) {
            Speaker::Partner => Who::Partner,
            Speaker::User => Who::Person,
            Speaker::A | Speaker::B | Speaker::Unknown => Who::Unknown,
        }
    }

    fn partner_sound(&mut self, v: &Vocalisation, shape: &VocalShape) {
        if self.partner_spans.len() == HELD_KEPT {
            self.partner_spans.pop_front();
        }
        self.partner_spans.push_back((v.start.secs(), v.end.secs()));
        self.pace.partner_vocal_secs += v.duration_secs();
        self.pace.partner_level_sum_db += f64::from(v.mean_level_dbfs);
        self.pace.partner_n += 1;
        let Some((person, person_shape)) = &self.last_person else {
            return;
        };
        let utterance = |speaker, v: &Vocalisation| Utterance {
            speaker,
            start_secs: v.start.secs(),
            end_secs: v.end.secs(),
        };
        let Some(latency_secs) = answer_latency_secs(
            &utterance(Speaker::User, person),
            &utterance(Speaker::Partner, v),
            &ANSWER_WINDOW,
        ) else {
            return;
        };
        let score = mirror_score(person_shape, shape, &MirrorWeights::default());
        if self.echoes.len() == ECHOES_KEPT {
            self.echoes.pop_front();
        }
        self.echoes.push_back(Echo {
            score,
            at_secs: v.end.secs(),
            latency_secs,
        });
        if self.pace.latencies_secs.len() == LATENCIES_KEPT {
            self.pace.latencies_secs.pop_front();
        }
        self.pace.latencies_secs.push_back(latency_secs);
        // One answer per sound of the person.
        self.last_person = None;
    }

    fn add_activity(&mut self, v: &Vocalisation) {
        let minute = (v.start.secs() / 60.0) as usize;
        while self.activity_per_minute.len() <= minute {
            self.activity_per_minute.push_back(0.0);
        }
        if let Some(m) = self.activity_per_minute.get_mut(minute) {
            *m += v.duration_secs();
        }
        while self.activity_per_minute.len() > ACTIVITY_MINUTES {
            self.activity_per_minute.pop_front();
        }
    }

    fn card_for(&self, v: &Vocalisation) -> MirrorCard {
        let (start, end) = (v.start.secs(), v.end.secs());
        let voiced: Vec<(f64, f32)> = self
            .pitch
            .iter()
            .filter(|p| p.t_secs >= start && p.t_secs <= end)
            .filter_map(|p| p.f0_hz.map(|f| (p.t_secs - start, f)))
            .collect();
        let step = voiced.len().div_ceil(CARD_POINTS).max(1);
        MirrorCard {
            contour: voiced.into_iter().step_by(step).collect(),
            duration_secs: end - start,
            beats: self
                .onsets
                .iter()
                .filter(|&&o| onset_belongs(SampleTime::from_secs(o), v.start, v.end))
                .map(|&o| (o - start).max(0.0))
                .collect(),
            f0_median_hz: v.f0_median_hz,
            syllable_rate_hz: v.syllable_rate_hz,
            ended_at_secs: end,
        }
    }

    /// The cue to show now ([`cue::turn_cue`]), with `pause_threshold_secs` the pause that
    /// opens the partner's turn. UI thread.
    pub fn turn_cue(&self, pause_threshold_secs: f64) -> TurnCue {
        let heard = Heard {
            now_secs: self.now_secs,
            partner_answering: self.partner_key_since.is_some(),
            vocalising: self.vocalising_since.is_some(),
            last_end_secs: self.last_vocalisation.map(|v| v.end.secs()),
        };
        cue::turn_cue(&heard, pause_threshold_secs)
    }

    /// Syllables per second now: of the vocalisation in progress (its onsets so far), else of
    /// the last one.
    pub fn syllable_rate_hz(&self) -> Option<f32> {
        if let Some(start) = self.vocalising_since {
            let beats: Vec<f64> = self
                .onsets
                .iter()
                .copied()
                .filter(|&o| o >= start)
                .collect();
            if beats.len() >= 2 {
                let span = beats[beats.len() - 1] - beats[0];
                if span > 0.0 {
                    return Some(((beats.len() - 1) as f64 / span) as f32);
                }
            }
            return None;
        }
        self.last_vocalisation
            .map(|v| v.syllable_rate_hz)
            .filter(|&r| r > 0.0)
    }

    /// Vocal time (s) in the last `minutes` full minutes against the mean of the minutes
    /// before them; `None` until there is an earlier part to compare with.
    pub fn recent_activity(&self, minutes: usize) -> Option<(f64, f64)> {
        let n = self.activity_per_minute.len();
        if n <= minutes + 1 {
            return None;
        }
        // The last bin is the minute in progress: leave it out.
        let done = &self
            .activity_per_minute
            .range(..n - 1)
            .copied()
            .collect::<Vec<_>>();
        let (earlier, recent) = done.split_at(done.len() - minutes);
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
        Some((mean(recent), mean(earlier)))
    }

    /// Call after a frame was drawn: the events taken before it are now on screen.
    pub fn frame_drawn(&mut self, at: Instant) {
        for (captured, analysed) in self.undrawn.drain(..) {
            if let Some(c) = captured {
                self.screen_latency.record(at.saturating_duration_since(c));
            }
            self.draw_latency
                .record(at.saturating_duration_since(analysed));
        }
    }

    pub fn screen_latency(&self) -> LatencySummary {
        self.screen_latency.summary()
    }

    pub fn draw_latency(&self) -> LatencySummary {
        self.draw_latency.summary()
    }

    /// Whether anything on the ribbon is still moving (voiced frames in view).
    pub fn ribbon_active(&self) -> bool {
        self.pitch
            .iter()
            .rev()
            .take_while(|p| p.t_secs >= self.now_secs - RIBBON_SECS)
            .any(|p| p.f0_hz.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::PitchFrame;

    fn pitch(t: f64, f0: Option<f32>) -> LiveMessage {
        LiveMessage::Event {
            event: Event::Pitch(PitchFrame {
                time: SampleTime::from_secs(t),
                f0_hz: f0,
                confidence: 0.9,
                level_dbfs: -20.0,
            }),
            captured_at: None,
            analysed_at: Instant::now(),
        }
    }

    #[test]
    fn a_sound_then_a_pause_gives_your_turn_then_quiet() {
        let mut m = LiveModel::new();
        assert_eq!(m.turn_cue(1.0), TurnCue::Waiting);
        m.apply(LiveMessage::Event {
            event: Event::VocalisationStart {
                time: SampleTime::from_secs(0.5),
            },
            captured_at: None,
            analysed_at: Instant::now(),
        });
        for i in 50..150 {
            m.apply(pitch(i as f64 * 0.01, Some(200.0 + i as f32)));
        }
        assert_eq!(m.turn_cue(1.0), TurnCue::Listening);
        let v = Vocalisation {
            start: SampleTime::from_secs(0.5),
            end: SampleTime::from_secs(1.5),
            heard_until: SampleTime::from_secs(1.5),
            peak_level_dbfs: -12.0,
            mean_level_dbfs: -18.0,
            f0_median_hz: 300.0,
            f0_low_hz: 255.0,
            f0_high_hz: 345.0,
            voiced_frames: 100,
            syllables: 1,
            syllable_rate_hz: 0.0,
            mean_ioi_secs: 0.0,
            regularity: None,
        };
        m.apply(LiveMessage::Event {
            event: Event::Vocalisation(v),
            captured_at: None,
            analysed_at: Instant::now(),
        });
        m.apply(pitch(2.0, None));
        assert_eq!(
            m.turn_cue(1.0),
            TurnCue::Listening,
            "0.5 s is not a pause yet"
        );
        m.apply(pitch(3.0, None));
        assert!(
            matches!(m.turn_cue(1.0), TurnCue::YourTurn { pause_secs } if (pause_secs - 1.5).abs() < 1e-6)
        );
        m.apply(pitch(30.0, None));
        assert!(matches!(m.turn_cue(1.0), TurnCue::Quiet { .. }));
        let card = m.card.as_ref().expect("card");
        assert!((card.duration_secs - 1.0).abs() < 1e-9);
        assert_eq!(card.contour.len(), 100);
        assert!(
            card.contour[0].1 < card.contour[99].1,
            "rising contour kept in order"
        );
    }

    fn vocalisation(a: f64, b: f64) -> Vocalisation {
        Vocalisation {
            start: SampleTime::from_secs(a),
            end: SampleTime::from_secs(b),
            heard_until: SampleTime::from_secs(b),
            peak_level_dbfs: -12.0,
            mean_level_dbfs: -18.0,
            f0_median_hz: 300.0,
            f0_low_hz: 255.0,
            f0_high_hz: 345.0,
            voiced_frames: 50,
            syllables: 1,
            syllable_rate_hz: 0.0,
            mean_ioi_secs: 0.0,
            regularity: None,
        }
    }

    #[test]
    fn a_voice_label_arriving_after_the_sound_makes_it_the_partners_answer() {
        let mut m = LiveModel::new();
        m.expect_voice_labels = true;
        let event = |v: Vocalisation| LiveMessage::Event {
            event: Event::Vocalisation(v),
            captured_at: None,
            analysed_at: Instant::now(),
        };
        let label = |v: Vocalisation, speaker: Speaker| LiveMessage::Speaker {
            start: v.start,
            end: v.end,
            speaker,
            margin: 1.0,
        };
        for i in 0..100 {
            m.apply(pitch(0.5 + i as f64 * 0.01, Some(300.0)));
        }
        let person = vocalisation(0.5, 1.5);
        m.apply(event(person));
        assert!(m.card.is_none(), "the sound waits for its label");
        m.apply(label(person, Speaker::User));
        assert!(m.card.is_some(), "the person's sound is on the card");
        for i in 0..80 {
            m.apply(pitch(2.0 + i as f64 * 0.01, Some(300.0)));
        }
        let answer = vocalisation(2.0, 2.8);
        m.apply(event(answer));
        m.apply(label(answer, Speaker::Partner));
        assert_eq!(
            m.echoes.len(),
            1,
            "the answer is scored against the person's sound"
        );
        assert!(
            m.partner_at(2.4) && !m.partner_at(1.0),
            "the ribbon colours the answer"
        );
        // A label that never comes: the sound is taken as it is after 2 s.
        let lone = vocalisation(3.0, 3.5);
        m.apply(event(lone));
        m.apply(pitch(6.0, None));
        m.settle_awaiting();
        assert_eq!(m.card.as_ref().map(|c| c.duration_secs), Some(0.5));
    }
}
