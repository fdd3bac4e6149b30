//! Pitch tracking over time: a fixed-lag Viterbi search over each frame's candidates plus an
//! "unvoiced" state. It chooses the path that keeps periodicity high while penalising octave
//! jumps and voicing flips, which removes isolated octave errors and voicing blips. Each frame
//! is decided `lag` frames after it arrives, by tracing back from the best current state, so the
//! same code serves live use (short lag) and file analysis (longer lag), and its output does not
//! depend on how the input was split into blocks. A voiced frame's f0 is the median of its own
//! and its two neighbours' on the path, which takes out one-frame wobbles without delay.
//! With a short lag the best path can change its mind about frames already decided; following
//! such a switch would show a jump no path made, so a switch pays (a bounded part of) that jump.
//! A voiced run's ends are hysteretic: a voice fading into (or rising out of) noise keeps its
//! period after its periodicity has dropped below what starts a run, so for a few frames past
//! either end of a run a frame with a candidate that continues the run's pitch stays voiced.
//! Past a run's end the candidate may also sit an octave below the pitch or at one of its
//! first harmonics: as a voice fades, the peak at its own period can drop out of the candidates
//! while the period's repeat, or a harmonic that a formant keeps strong, still stands out. That
//! holds while the level stays within a few dB of the run's last frame: a voice that has
//! stopped falls faster, and only its own pitch rings on.
//! A candidate whose power swings with slower pulses within its own period is a formant
//! harmonic of a lower voice, not a voice of its own, and pays for it where the frame stands
//! clear of the background.

use super::pitch::{is_multiple, FrameFeatures, MAX_CANDIDATES};

const STATES: usize = MAX_CANDIDATES + 1;
const UNVOICED: usize = 0;
/// Most frames a voiced run may be extended by at each end (`TrackerCosts::edge_frames`).
const MAX_EDGE_FRAMES: usize = 4;
/// How a voice's period can show at the frames where it fades out: as a candidate at its f0, or,
/// when the fading fundamental's own peak has dropped out of the candidates, at half its f0
/// (the period's second repeat) or at two, three or four times it (a strong harmonic, the
/// formant's). Candidate f0 / voice f0, with its log2.
const FADING_RATIOS: [(f32, f32); 5] = [
    (1.0, 0.0),
    (0.5, -1.0),
    (2.0, 1.0),
    (3.0, 1.584_962_5),
    (4.0, 2.0),
];
/// How far (dB) below the run's last frame a frame after it may be for `FADING_RATIOS`.
const FADING_MAX_DROP_DB: f32 = 4.0;
/// Where a voice starts, only a candidate at its f0 continues it.
const SAME_PITCH: [(f32, f32); 1] = [(1.0, 0.0)];

/// Costs of the path search (in units of periodicity, 0-1).
#[derive(Debug, Clone, Copy)]
pub struct TrackerCosts {
    /// Score of the unvoiced state at a clean, loud frame.
    pub voicing_threshold: f32,
    /// Extra unvoiced score per dB that the frame is below `snr_target_db` above the floor.
    pub unvoiced_per_db: f32,
    pub snr_target_db: f32,
    /// Cost per octave of f0 change between consecutive frames.
    pub octave_jump: f32,
    /// Cost of a voiced/unvoiced change.
    pub voicing_flip: f32,
    /// Penalty per octave for a candidate below a nearly as periodic higher one.
    pub octave_bonus: f32,
    /// "Nearly as periodic": at least this fraction of the candidate's periodicity.
    pub subharmonic_ratio: f32,
    /// Penalty per dB of harmonicity below the most harmonic of the candidates an octave, a
    /// twelfth or two octaves away (`Candidate::harmonicity_db`), and its cap.
    pub harmonicity_per_db: f32,
    pub max_harmonicity_penalty: f32,
    /// A frame whose most harmonic candidate stands more than `harmonic_voicing_from_db` above
    /// the spectrum between its harmonics is likely voiced even when noise has weakened its
    /// periodicity: the unvoiced score drops by `harmonic_voicing_per_db` per dB above that,
    /// by at most `max_harmonic_voicing`.
    pub harmonic_voicing_from_db: f32,
    pub harmonic_voicing_per_db: f32,
    pub max_harmonic_voicing: f32,
    /// Most that following a path which leaves the frames already decided may cost (see
    /// `PitchTracker::trace`): live hysteresis against brief octave switches.
    pub max_switch_cost: f32,
    /// Edge hysteresis: up to `edge_frames` frames (at most `MAX_EDGE_FRAMES`) before or after
    /// a voiced run stay voiced when they hold a candidate at least `edge_min_strength`
    /// periodic within `edge_max_semitones` of the run's neighbouring f0 (after a run, or of
    /// half, two, three or four times that f0 while the level stays within
    /// `FADING_MAX_DROP_DB` of the run's last frame: `FADING_RATIOS`).
    pub edge_frames: usize,
    pub edge_min_strength: f32,
    pub edge_max_semitones: f32,
    /// A candidate whose power swings within its own period (`Candidate::modulation`) by more
    /// than `modulation_from` is likely a formant harmonic rung by slower glottal pulses (a
    /// low or creaky voice heard across a reverberant room, where its own period has smeared):
    /// it pays `modulation_penalty` per unit above that, at most `max_modulation_penalty`. In
    /// full where the frame stands at least `modulation_clear_from_db +
    /// modulation_clear_width_db` above the background, not at all below
    /// `modulation_clear_from_db`: among other voices their pulses swing the power too.
    pub modulation_from: f32,
    pub modulation_penalty: f32,
    pub max_modulation_penalty: f32,
    pub modulation_clear_from_db: f32,
    pub modulation_clear_width_db: f32,
}

impl Default for TrackerCosts {
    fn default() -> Self {
        Self {
            voicing_threshold: 0.25,
            unvoiced_per_db: 0.06,
            snr_target_db: 9.0,
            octave_jump: 2.0,
            voicing_flip: 1.2,
            octave_bonus: 0.05,
            subharmonic_ratio: 0.85,
            harmonicity_per_db: 0.01,
            max_harmonicity_penalty: 0.3,
            harmonic_voicing_from_db: 14.0,
            harmonic_voicing_per_db: 0.02,
            max_harmonic_voicing: 0.2,
            max_switch_cost: 0.3,
            edge_frames: 3,
            edge_min_strength: 0.3,
            edge_max_semitones: 1.0,
            modulation_from: 0.4,
            modulation_penalty: 2.0,
            max_modulation_penalty: 0.4,
            modulation_clear_from_db: 6.0,
            modulation_clear_width_db: 3.0,
        }
    }
}

/// A decided frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrackedFrame {
    /// Frame index.
    pub index: u64,
    /// f0 when voiced.
    pub f0_hz: Option<f32>,
    /// Periodicity of the chosen candidate, or the frame's best periodicity when unvoiced.
    pub confidence: f32,
    /// Voiced only by the edge hysteresis: a continuation of a run, not part of the path.
    pub edge: bool,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    f0_hz: [f32; STATES],
    strength: [f32; STATES],
    raw_strength: [f32; STATES],
    log2_f0: [f32; STATES],
    n_states: usize,
    back: [u8; STATES],
    /// The path scores after this frame, relative to the best of them.
    score: [f32; STATES],
    best_strength: f32,
    /// The frame's level above the background (dB), as pushed.
    snr_db: f32,
}

/// Fixed-lag Viterbi pitch tracker. Allocation-free after `new`.
pub struct PitchTracker {
    costs: TrackerCosts,
    lag: usize,
    ring: Vec<Slot>,
    score: [f32; STATES],
    next_score: [f32; STATES],
    /// Frames pushed so far.
    pushed: u64,
    /// Frames decided so far.
    decided: u64,
    /// The last decided frame's f0 on the path, before smoothing.
    last_path_f0_hz: Option<f32>,
    /// The last decided frame's state.
    last_state: Option<usize>,
    /// The last decided frame's f0 as output (after smoothing and edge hysteresis).
    last_output_f0_hz: Option<f32>,
    /// Frames output voiced by the edge hysteresis since the path was last voiced.
    edge_run: usize,
    /// The level above the background (dB) of the last frame voiced on the path.
    last_path_snr_db: f32,
}

impl PitchTracker {
    pub fn new(lag_frames: usize, costs: TrackerCosts) -> Self {
        Self {
            costs,
            lag: lag_frames,
            ring: vec![Slot::default(); lag_frames + 2],
            score: [0.0; STATES],
            next_score: [0.0; STATES],
            pushed: 0,
            decided: 0,
            last_path_f0_hz: None,
            last_state: None,
            last_output_f0_hz: None,
            edge_run: 0,
            last_path_snr_db: 0.0,
        }
    }

    /// The decision delay in frames.
    pub fn lag_frames(&self) -> usize {
        self.lag
    }

    /// Adds the next frame; `snr_db` is its level above the noise floor. Returns the frame
    /// decided now, if any (the one `lag` frames back). Analysis thread.
    pub fn push(&mut self, feats: &FrameFeatures, snr_db: f32) -> Option<TrackedFrame> {
        let c = self.costs;
        let idx = (self.pushed % self.ring.len() as u64) as usize;
        let mut slot = Slot {
            best_strength: feats.best_strength(),
            snr_db,
            ..Slot::default()
        };
        let deficit = (c.snr_target_db - snr_db).max(0.0);
        let harmonic_voicing = feats.best_harmonicity_db().map_or(0.0, |h| {
            (c.harmonic_voicing_per_db * (h - c.harmonic_voicing_from_db))
                .clamp(0.0, c.max_harmonic_voicing)
        });
        slot.strength[UNVOICED] =
            c.voicing_threshold + c.unvoiced_per_db * deficit - harmonic_voicing;
        slot.n_states = 1;
        // How far the frame stands clear of the background, for the modulation penalty.
        let clear =
            ((snr_db - c.modulation_clear_from_db) / c.modulation_clear_width_db).clamp(0.0, 1.0);
        // A candidate pays per octave below the highest candidate that is nearly as periodic
        // (a subharmonic of it), so that the fundamental wins over its subharmonics.
        let cands = feats.candidates();
        for cand in cands {
            let above = cands
                .iter()
                .filter(|o| {
                    o.f0_hz > cand.f0_hz && o.strength >= c.subharmonic_ratio * cand.strength
                })
                .map(|o| o.f0_hz)
                .fold(cand.f0_hz, f32::max);
            slot.f0_hz[slot.n_states] = cand.f0_hz;
            // Between a candidate and its octaves (or twelfths...), the more harmonic spectrum
            // decides; unrelated candidates do not compete this way.
            let related_best_db = cands
                .iter()
                .filter(|o| o.harmonicity_db.is_finite() && is_multiple(o.f0_hz, cand.f0_hz))
                .map(|o| o.harmonicity_db)
                .fold(f32::NEG_INFINITY, f32::max);
            let harmonic_penalty = if cand.harmonicity_db.is_finite() {
                (c.harmonicity_per_db * (related_best_db - cand.harmonicity_db))
                    .clamp(0.0, c.max_harmonicity_penalty)
            } else {
                0.0
            };
            let modulation_penalty = clear
                * (c.modulation_penalty * (cand.modulation - c.modulation_from))
                    .clamp(0.0, c.max_modulation_penalty);
            slot.strength[slot.n_states] = cand.strength
                - c.octave_bonus * (above / cand.f0_hz).log2()
                - harmonic_penalty
                - modulation_penalty;
            slot.raw_strength[slot.n_states] = cand.strength;
            slot.log2_f0[slot.n_states] = cand.f0_hz.log2();
            slot.n_states += 1;
        }
        if self.pushed == 0 {
            for s in 0..slot.n_states {
                self.score[s] = slot.strength[s];
            }
        } else {
            let prev_idx = ((self.pushed - 1) % self.ring.len() as u64) as usize;
            let prev = self.ring[prev_idx];
            let mut best_total = f32::NEG_INFINITY;
            for j in 0..slot.n_states {
                let mut best = f32::NEG_INFINITY;
                let mut arg = 0u8;
                for i in 0..prev.n_states {
                    let t = self.score[i] - self.transition(&prev, i, &slot, j);
                    if t > best {
                        best = t;
                        arg = i as u8;
                    }
                }
                self.next_score[j] = best + slot.strength[j];
                slot.back[j] = arg;
                best_total = best_total.max(self.next_score[j]);
            }
            // Keep scores near zero so they never lose precision.
            for j in 0..slot.n_states {
                self.score[j] = self.next_score[j] - best_total;
            }
        }
        slot.score = self.score;
        self.ring[idx] = slot;
        self.pushed += 1;
        if self.pushed > self.lag as u64 {
            let target = self.pushed - 1 - self.lag as u64;
            Some(self.trace(target))
        } else {
            None
        }
    }

    /// At the end of the stream: decides the next frame not yet decided, with the full path up
    /// to the last frame; `None` when every frame is decided.
    pub fn flush_one(&mut self) -> Option<TrackedFrame> {
        (self.decided < self.pushed).then(|| self.trace(self.decided))
    }

    fn transition(&self, prev: &Slot, i: usize, cur: &Slot, j: usize) -> f32 {
        match (i == UNVOICED, j == UNVOICED) {
            (true, true) => 0.0,
            (false, false) => self.costs.octave_jump * (cur.log2_f0[j] - prev.log2_f0[i]).abs(),
            _ => self.costs.voicing_flip,
        }
    }

    /// Follows the path that ends in `state` at the newest frame back to frame `target`: its
    /// state there, and its f0 at the `MAX_EDGE_FRAMES` frames after (0 where unvoiced or not
    /// yet pushed).
    fn walk(&self, mut state: usize, target: u64) -> (usize, [f32; MAX_EDGE_FRAMES]) {
        let len = self.ring.len();
        let mut t = self.pushed - 1;
        // The ring slot of frame `t`, stepped back with `t` (a division per frame is slow).
        let mut k = (t % len as u64) as usize;
        let mut ahead = [0.0; MAX_EDGE_FRAMES];
        while t > target {
            let slot = &self.ring[k];
            let s = state.min(slot.n_states - 1);
            let d = (t - target - 1) as usize;
            if d < MAX_EDGE_FRAMES && s != UNVOICED {
                ahead[d] = slot.f0_hz[s];
            }
            state = usize::from(slot.back[s]);
            t -= 1;
            k = k.checked_sub(1).unwrap_or(len - 1);
        }
        (state, ahead)
    }

    /// The strongest candidate of `slot` that is at least `edge_min_strength` periodic and,
    /// divided by one of `ratios` (candidate f0 / voice f0, and its log2), lies within
    /// `edge_max_semitones` of `near_hz`: (that f0, the candidate's periodicity).
    fn continuation(&self, slot: &Slot, near_hz: f32, ratios: &[(f32, f32)]) -> Option<(f32, f32)> {
        let c = &self.costs;
        let max_octaves = c.edge_max_semitones / 12.0;
        let near = near_hz.log2();
        let mut found: Option<(f32, f32)> = None;
        for s in 1..slot.n_states {
            let strength = slot.raw_strength[s];
            if strength < c.edge_min_strength || found.is_some_and(|(_, best)| best > strength) {
                continue;
            }
            if let Some(&(ratio, _)) = ratios.iter().find(|&&(_, log2_ratio)| {
                (slot.log2_f0[s] - log2_ratio - near).abs() <= max_octaves
            }) {
                found = Some((slot.f0_hz[s] / ratio, strength));
            }
        }
        found
    }

    /// Edge hysteresis for frame `target`, unvoiced on the path, whose path f0 over the next
    /// frames is `ahead`: voiced as the continuation of the frame output before it, or of the
    /// run the path starts within `edge_frames` after it (every frame in between continuing
    /// it too).
    fn edge(&self, target: u64, ahead: &[f32; MAX_EDGE_FRAMES]) -> Option<(f32, f32)> {
        let frames = self.costs.edge_frames.min(MAX_EDGE_FRAMES);
        let len = self.ring.len() as u64;
        let slot = |t: u64| &self.ring[(t % len) as usize];
        if let Some(prev_hz) = self.last_output_f0_hz.filter(|_| self.edge_run < frames) {
            // A voice fading into noise keeps near its level; one that has stopped falls fast,
            // and what rings on after it is only the same pitch.
            let fading = slot(target).snr_db >= self.last_path_snr_db - FADING_MAX_DROP_DB;
            let ratios: &[(f32, f32)] = if fading { &FADING_RATIOS } else { &SAME_PITCH };
            if let Some(found) = self.continuation(slot(target), prev_hz, ratios) {
                return Some(found);
            }
        }
        let onset = ahead[..frames].iter().position(|&f| f > 0.0)?;
        let mut near_hz = ahead[onset];
        for t in (target + 1..=target + onset as u64).rev() {
            near_hz = self.continuation(slot(t), near_hz, &SAME_PITCH)?.0;
        }
        self.continuation(slot(target), near_hz, &SAME_PITCH)
    }

    /// What following a path whose state at frame `target` is `x` costs beyond its own score,
    /// when that path does not pass through the state decided for the frame before: the
    /// output would go from the decided state straight to the path's state at `target`, a
    /// jump the path never paid, while the path's own (better) history there is no longer on
    /// offer. At most `max_switch_cost`, so that a real change of mind still goes through.
    fn switch_cost(&self, x: usize, target: u64) -> f32 {
        let Some(decided) = self.last_state.filter(|&d| d != UNVOICED && target > 0) else {
            return 0.0;
        };
        let len = self.ring.len() as u64;
        let slot = &self.ring[(target % len) as usize];
        let x = x.min(slot.n_states - 1);
        let own = usize::from(slot.back[x]);
        if own == decided || own == UNVOICED || x == UNVOICED {
            return 0.0;
        }
        let prev = &self.ring[((target - 1) % len) as usize];
        let (own, decided) = (own.min(prev.n_states - 1), decided.min(prev.n_states - 1));
        let extra = (prev.score[own] - prev.score[decided])
            + self.transition(prev, decided, slot, x)
            - self.transition(prev, own, slot, x);
        extra.clamp(0.0, self.costs.max_switch_cost)
    }

    /// Traces back from the best state of the newest frame to frame `target`.
    ///
    /// "Best" counts the cost of leaving what is already decided (`switch_cost`); it is only
    /// looked at when the best path leaves it, which with the offline lag almost never happens.
    ///
    /// A voiced frame between two voiced neighbours on the path (the one decided before it,
    /// and the next one as the path now stands) gets the median of the three f0 values: a
    /// single frame off to one side of both neighbours is an estimation error (another voice
    /// in babble, a frame straddling a fast change), while a monotonic glide keeps every value.
    /// The next frame is known from the lookahead, so this adds no delay (with no lookahead
    /// there is nothing to smooth with).
    fn trace(&mut self, target: u64) -> TrackedFrame {
        let len = self.ring.len() as u64;
        let newest = self.pushed - 1;
        let newest_slot = &self.ring[(newest % len) as usize];
        let best = (0..newest_slot.n_states)
            .max_by(|&a, &b| self.score[a].total_cmp(&self.score[b]))
            .unwrap_or(UNVOICED);
        let (mut state, mut ahead) = self.walk(best, target);
        if self.switch_cost(state, target) > 0.0 {
            let mut best_key = f32::NEG_INFINITY;
            let mut chosen = best;
            for s in 0..newest_slot.n_states {
                let (x, _) = self.walk(s, target);
                let key = self.score[s] - self.switch_cost(x, target);
                if key > best_key {
                    best_key = key;
                    chosen = s;
                }
            }
            (state, ahead) = self.walk(chosen, target);
        }
        let next_f0_hz = Some(ahead[0]).filter(|&f| f > 0.0);
        let slot = &self.ring[(target % len) as usize];
        self.decided = target + 1;
        let path_f0_hz = (state != UNVOICED && state < slot.n_states).then(|| slot.f0_hz[state]);
        self.last_state = Some(state.min(slot.n_states - 1));
        let prev_f0_hz = std::mem::replace(&mut self.last_path_f0_hz, path_f0_hz);
        let decided = match path_f0_hz {
            None => match self.edge(target, &ahead) {
                Some((f0_hz, strength)) => {
                    self.edge_run += 1;
                    TrackedFrame {
                        index: target,
                        f0_hz: Some(f0_hz),
                        confidence: strength,
                        edge: true,
                    }
                }
                None => TrackedFrame {
                    index: target,
                    f0_hz: None,
                    confidence: slot.best_strength,
                    edge: false,
                },
            },
            Some(f0_hz) => {
                self.edge_run = 0;
                self.last_path_snr_db = slot.snr_db;
                TrackedFrame {
                    index: target,
                    f0_hz: Some(match (prev_f0_hz, next_f0_hz) {
                        (Some(a), Some(c)) => median_of_three(a, f0_hz, c),
                        _ => f0_hz,
                    }),
                    confidence: slot.raw_strength[state],
                    edge: false,
                }
            }
        };
        self.last_output_f0_hz = decided.f0_hz;
        decided
    }
}

fn median_of_three(a: f32, b: f32, c: f32) -> f32 {
    a.min(b).max(a.max(b).min(c))
}

#[cfg(test)]
mod tests {
    use super::super::pitch::Candidate;
    use super::*;

    fn frame(cands: &[(f32, f32)]) -> FrameFeatures {
        let mut f = FrameFeatures::default();
        for (i, &(f0_hz, strength)) in cands.iter().enumerate() {
            f.candidates[i] = Candidate {
                f0_hz,
                strength,
                ..Candidate::default()
            };
        }
        f.n_candidates = cands.len();
        f
    }

    #[test]
    fn an_isolated_octave_error_is_smoothed_away() {
        let mut tr = PitchTracker::new(5, TrackerCosts::default());
        let mut out = Vec::new();
        for i in 0..30 {
            let f = if i == 15 {
                frame(&[(400.0, 0.95), (200.0, 0.93)])
            } else {
                frame(&[(200.0, 0.95), (100.0, 0.94)])
            };
            if let Some(d) = tr.push(&f, 30.0) {
                out.push(d);
            }
        }
        while let Some(d) = tr.flush_one() {
            out.push(d);
        }
        assert_eq!(out.len(), 30);
        assert!(out.iter().all(|d| d.f0_hz == Some(200.0)), "{out:?}");
        assert_eq!(
            out.iter().map(|d| d.index).collect::<Vec<_>>(),
            (0..30).collect::<Vec<_>>()
        );
    }

    /// Lag 1 (live): the octave above is the better path for `lead_frames` (a fast rise smears
    /// the fundamental's period more than the half period), then the fundamental again.
    fn octave_lead(costs: TrackerCosts, lead_frames: usize) -> Vec<Option<f32>> {
        let mut tr = PitchTracker::new(1, costs);
        let mut out = Vec::new();
        for i in 0..12 {
            let f = match i {
                0 => frame(&[(300.0, 0.9), (600.0, 0.65)]),
                i if i <= lead_frames => frame(&[(600.0, 0.9), (300.0, 0.85)]),
                _ => frame(&[(300.0, 0.9), (600.0, 0.5)]),
            };
            out.extend(tr.push(&f, 30.0).map(|d| d.f0_hz));
        }
        while let Some(d) = tr.flush_one() {
            out.push(d.f0_hz);
        }
        out
    }

    #[test]
    fn live_decisions_do_not_follow_a_brief_octave_lead() {
        let free = TrackerCosts {
            max_switch_cost: 0.0,
            ..TrackerCosts::default()
        };
        // Without the switch cost the output shows the octave for two frames.
        let jumped = octave_lead(free, 4);
        assert_eq!(
            jumped.iter().filter(|f| **f == Some(600.0)).count(),
            2,
            "{jumped:?}"
        );
        let held = octave_lead(TrackerCosts::default(), 4);
        assert!(held.iter().all(|f| *f == Some(300.0)), "{held:?}");
        // A lead that lasts is followed, a little later.
        let lasting = octave_lead(TrackerCosts::default(), 11);
        assert_eq!(lasting[0], Some(300.0));
        assert!(
            lasting[6..].iter().all(|f| *f == Some(600.0)),
            "{lasting:?}"
        );
    }

    /// 40 frames of a low voice at 110 Hz whose formant harmonic at 770 Hz is a little more
    /// periodic and swings with the glottal pulses by `modulation`, `snr_db` above the
    /// background: the f0 the path takes through the middle of them.
    fn formant_harmonic(modulation: f32, snr_db: f32) -> Vec<Option<f32>> {
        let mut tr = PitchTracker::new(25, TrackerCosts::default());
        let mut out = Vec::new();
        for _ in 0..40 {
            let mut f = frame(&[(770.0, 0.62), (110.0, 0.55)]);
            f.candidates[0].modulation = modulation;
            out.extend(tr.push(&f, snr_db).map(|d| d.f0_hz));
        }
        while let Some(d) = tr.flush_one() {
            out.push(d.f0_hz);
        }
        out[5..35].to_vec()
    }

    #[test]
    fn a_formant_harmonic_swinging_with_the_pulses_loses_to_the_voice() {
        // Unmodulated, the more periodic candidate wins, as a squeal must over a background
        // voice below it.
        assert!(formant_harmonic(0.1, 20.0)
            .iter()
            .all(|f| *f == Some(770.0)));
        // Swinging with slower pulses, it is a harmonic of the voice that rings them.
        assert!(formant_harmonic(0.6, 20.0)
            .iter()
            .all(|f| *f == Some(110.0)));
        // Where the frame hardly stands out of a background of other voices, their pulses
        // swing its power too: that is no evidence against the candidate.
        assert!(formant_harmonic(0.6, 4.0).iter().all(|f| *f == Some(770.0)));
    }

    #[test]
    fn a_more_periodic_subharmonic_loses_to_the_more_harmonic_fundamental() {
        let mut tr = PitchTracker::new(5, TrackerCosts::default());
        let mut out = Vec::new();
        for _ in 0..20 {
            // Background voices make the subharmonic lag a little more periodic, but half of
            // its harmonics are missing from the spectrum.
            let mut f = frame(&[(110.0, 0.80), (220.0, 0.74)]);
            f.candidates[0].harmonicity_db = 8.0;
            f.candidates[1].harmonicity_db = 20.0;
            if let Some(d) = tr.push(&f, 30.0) {
                out.push(d);
            }
        }
        while let Some(d) = tr.flush_one() {
            out.push(d);
        }
        assert!(out.iter().all(|d| d.f0_hz == Some(220.0)), "{out:?}");
    }

    /// Noise at 5 dB SNR weakens a syllable's periodicity to 0.45; a clearly harmonic spectrum
    /// keeps it voiced, a flat one does not.
    #[test]
    fn a_harmonic_spectrum_keeps_a_noisy_syllable_voiced() {
        let run = |harmonicity_db: f32| -> Vec<Option<f32>> {
            let mut tr = PitchTracker::new(5, TrackerCosts::default());
            let mut out = Vec::new();
            for i in 0..40 {
                let (mut f, snr) = if (10..30).contains(&i) {
                    (frame(&[(560.0, 0.45), (187.0, 0.4)]), 5.0)
                } else {
                    (frame(&[(150.0, 0.2)]), 0.0)
                };
                f.candidates[0].harmonicity_db = harmonicity_db;
                if let Some(d) = tr.push(&f, snr) {
                    out.push(d.f0_hz);
                }
            }
            while let Some(d) = tr.flush_one() {
                out.push(d.f0_hz);
            }
            out
        };
        let harmonic = run(24.0);
        assert!(
            harmonic[12..28].iter().all(|f| *f == Some(560.0)),
            "{harmonic:?}"
        );
        assert!(harmonic[..8].iter().all(Option::is_none), "{harmonic:?}");
        let flat = run(3.0);
        assert!(flat.iter().all(Option::is_none), "{flat:?}");
    }

    /// A 220 Hz hum at frames 10..30 of 40, `hum_snr_db` above the background, the frames
    /// around it noise `noise_snr_db` above it with one weak (0.32) candidate at `noise_hz`:
    /// each decided frame's (f0, edge).
    fn hum_in_noise(noise_hz: f32, hum_snr_db: f32, noise_snr_db: f32) -> Vec<(Option<f32>, bool)> {
        let mut tr = PitchTracker::new(5, TrackerCosts::default());
        let mut out = Vec::new();
        for i in 0..40 {
            let (f, snr) = if (10..30).contains(&i) {
                (frame(&[(220.0, 0.9)]), hum_snr_db)
            } else {
                (frame(&[(noise_hz, 0.32)]), noise_snr_db)
            };
            out.extend(tr.push(&f, snr).map(|d| (d.f0_hz, d.edge)));
        }
        while let Some(d) = tr.flush_one() {
            out.push((d.f0_hz, d.edge));
        }
        out
    }

    /// A hum rising out of noise and fading back into it: its first and last frames are too
    /// weak against the noise to start a run, but while they hold the run's period they stay
    /// voiced, for `edge_frames` frames at each end. A different pitch there does not.
    #[test]
    fn a_run_keeps_its_pitch_a_few_frames_past_either_end() {
        let fading = hum_in_noise(222.0, 30.0, 0.0);
        assert_eq!(fading.len(), 40);
        for (i, &(f0_hz, edge)) in fading.iter().enumerate() {
            let on_path = (10..30).contains(&i);
            let kept = (7..10).contains(&i) || (30..33).contains(&i);
            let want = if on_path {
                Some(220.0)
            } else {
                kept.then_some(222.0)
            };
            assert_eq!((f0_hz, edge), (want, kept), "frame {i}: {fading:?}");
        }
        let other = hum_in_noise(300.0, 30.0, 0.0);
        for (i, &(f0_hz, edge)) in other.iter().enumerate() {
            assert_eq!(
                f0_hz.is_some(),
                (10..30).contains(&i),
                "frame {i}: {other:?}"
            );
            assert!(!edge);
        }
    }

    /// A vowel fading out whose last frames show its period only as the octave below (the
    /// period's repeat) or as its fourth harmonic, 3 dB down: it stays voiced at its own pitch
    /// for `edge_frames` frames after the run. Before the run, where the voice has not yet been
    /// heard, such a candidate starts nothing; nor does one at an unrelated ratio (3/2). After
    /// a voice that stops (10 dB down at once), only the same pitch continues it.
    #[test]
    fn a_fading_run_is_continued_by_its_octave_below_or_a_harmonic() {
        let voiced = |out: &[(Option<f32>, bool)]| -> Vec<usize> {
            (0..out.len()).filter(|&i| out[i].0.is_some()).collect()
        };
        for noise_hz in [110.0, 880.0] {
            let out = hum_in_noise(noise_hz, 10.0, 7.0);
            for (i, &(f0_hz, _)) in out.iter().enumerate() {
                let want = ((10..33).contains(&i)).then_some(220.0);
                assert_eq!(f0_hz, want, "{noise_hz} Hz, frame {i}: {out:?}");
            }
            let stopped = hum_in_noise(noise_hz, 10.0, 0.0);
            assert_eq!(
                voiced(&stopped),
                (10..30).collect::<Vec<_>>(),
                "{stopped:?}"
            );
        }
        let unrelated = hum_in_noise(330.0, 10.0, 7.0);
        assert_eq!(
            voiced(&unrelated),
            (10..30).collect::<Vec<_>>(),
            "{unrelated:?}"
        );
        let same_pitch = hum_in_noise(222.0, 10.0, 0.0);
        assert_eq!(
            voiced(&same_pitch),
            (7..33).collect::<Vec<_>>(),
            "{same_pitch:?}"
        );
    }

    #[test]
    fn weak_or_quiet_frames_are_unvoiced() {
        let mut tr = PitchTracker::new(3, TrackerCosts::default());
        let mut out = Vec::new();
        for i in 0..20 {
            let (f, snr) = if i < 10 {
                // Barely periodic, however loud.
                (frame(&[(150.0, 0.15)]), 30.0)
            } else {
                // Periodic but well below the background level.
                (frame(&[(150.0, 0.95)]), -10.0)
            };
            if let Some(d) = tr.push(&f, snr) {
                out.push(d);
            }
        }
        while let Some(d) = tr.flush_one() {
            out.push(d);
        }
        assert!(out.iter().all(|d| d.f0_hz.is_none()));
    }

    /// f0 of each decided frame for one-candidate frames at `f0s_hz`, with lag `lag`.
    fn track(f0s_hz: &[f32], lag: usize) -> Vec<Option<f32>> {
        let mut tr = PitchTracker::new(lag, TrackerCosts::default());
        let mut out = Vec::new();
        for &f0_hz in f0s_hz {
            if let Some(d) = tr.push(&frame(&[(f0_hz, 0.9)]), 30.0) {
                out.push(d.f0_hz);
            }
        }
        while let Some(d) = tr.flush_one() {
            out.push(d.f0_hz);
        }
        out
    }

    #[test]
    fn a_one_frame_wobble_takes_its_neighbours_value_and_a_glide_keeps_every_value() {
        // A steady hum with one frame pulled 70 cents up.
        let mut hum = vec![220.0f32; 12];
        hum[6] = 229.0;
        for lag in [1, 5] {
            let out = track(&hum, lag);
            assert!(out.iter().all(|f| *f == Some(220.0)), "lag {lag}: {out:?}");
        }
        // A fast rising glide (40 cents a frame) is left exactly as estimated.
        let glide: Vec<f32> = (0..12)
            .map(|i| 300.0 * 2f32.powf(i as f32 * 0.4 / 12.0))
            .collect();
        let out = track(&glide, 1);
        assert_eq!(out, glide.iter().map(|&f| Some(f)).collect::<Vec<_>>());
        // Without lookahead there is no next frame to compare with: nothing changes.
        assert_eq!(track(&hum, 0)[6], Some(229.0));
    }
}
