//! Vocal onsets and vocalisations from the decided pitch frames.
//!
//! A vocal onset is where a voiced stretch begins (backtracked to where its sound starts
//! rising out of the floor, so a slow hum attack or the "h" of a laugh is dated at its start),
//! where the level dips and rises again inside continuous voicing (a "ma-ma-ma"), or where a
//! sung note changes to another without a dip: a level pitch moves to a new level pitch. Sounds
//! that never become voiced — breaths, claps, knocks — give no onset. A vocalisation is a group
//! of voiced stretches with gaps shorter than `max_gap_in_vocalisation_secs`.

use crate::config::AnalysisConfig;
use crate::events::{Event, Vocalisation};
use crate::time::SampleTime;

use super::histogram::F0Histogram;
use super::room::{RoomDecay, TAIL_LOOKBACK_FRAMES};
use crate::config::HOP_LEN;

/// Frames of history kept for backtracking, release and the room's tail.
const HISTORY: usize = 128;
/// A voiced stretch must last this many frames to count.
const MIN_RUN_FRAMES: u32 = 4;
/// How far back an onset may be moved from the start of voicing (10 ms): the voicing decision
/// lags a sharp attack by up to a frame. Further back, over a slow attack or the consonant
/// before a sung note, is earlier than listeners (and annotators) place the onset.
const MAX_BACKTRACK_FRAMES: u64 = 1;
/// While backtracking an onset over its attack, the level must keep rising by this much per
/// frame: a slow hum attack rises steadily, a consonant or breath before the voice does not.
const ATTACK_RISE_DB: f32 = 1.0;
/// How far the end of a vocalisation may extend past its last voiced frame.
const MAX_RELEASE_FRAMES: u64 = 20;
/// How far the end of a vocalisation may be moved back over the room's tail (0.6 s: the
/// 35 dB that a segment spans at RT60 1 s).
const MAX_TAIL_FRAMES: u64 = 60;
/// A vocalisation's end decay is measured over its last this many voiced frames and what
/// follows them.
const END_DECAY_VOICED_FRAMES: u64 = 10;
/// Frames this close to the floor say nothing about how fast the sound falls.
const OUTPACE_MIN_SNR_DB: f32 = 3.0;
/// A dip of this much below the running peak, then a rise of as much, marks a new syllable.
const DIP_DB: f32 = 6.0;
/// A voicing gap inside a vocalisation is a syllable boundary when its level drops this much.
const GAP_DIP_DB: f32 = 3.0;
/// A dip is a syllable boundary only when brief: from where the level was last `DIP_DB` above
/// the dip's minimum to where it is again at most this many frames (160 ms). Slower swells,
/// e.g. harmonics crossing a formant in a glide, or reverberation, are not syllables.
const MAX_DIP_WIDTH_FRAMES: u64 = 16;
/// A dip onset is dated where the level has risen this much out of the dip's minimum: the
/// start of the new syllable's rise, not the quietest frame of the dip.
const DIP_DATE_RISE_DB: f32 = 2.0;
/// Minimum spacing of onsets.
const MIN_IOI_FRAMES: u64 = 8;

/// Note changes: the pitch before and after a candidate boundary is compared over windows of
/// this many frames each (150 ms).
const NOTE_WINDOW_FRAMES: usize = 15;
/// The medians of the two windows must differ by at least this much (semitones).
const NOTE_MIN_JUMP_ST: f32 = 0.5;
/// ... by at least the sum of the windows' mean absolute deviations (spread), times this.
const NOTE_SPREAD_RATIO: f32 = 1.5;
/// ... and neither window may drift (its linear trend across the window, in semitones) by more
/// than this fraction of the jump: a glide drifts as much as it jumps, a held note does not.
const NOTE_MAX_DRIFT_RATIO: f32 = 0.7;
/// Vibrato guard: the new pitch must be new. Over this many frames before the boundary (0.4 s,
/// at least two cycles of the slowest vibrato)...
const NOTE_LOOKBACK_FRAMES: usize = 40;
/// ... at most this fraction of the voiced frames may lie within half the jump of the new
/// pitch (a vibrato keeps returning to both of its levels).
const NOTE_MAX_REVISIT: f32 = 0.05;

/// A frequency in semitones (relative to 1 Hz).
/// The rhythm of a vocalisation from its inter-onset intervals (their count, sum and sum of
/// squares, s and s²): the mean interval (s; 0 without one) and the regularity, 1 − their
/// coefficient of variation clamped to 0-1 (`None` with fewer than two intervals). Any thread.
pub fn rhythm(ioi_count: f64, ioi_sum_s: f64, ioi_sq_sum_s2: f64) -> (f64, Option<f32>) {
    if ioi_count < 1.0 {
        return (0.0, None);
    }
    let mean_s = ioi_sum_s / ioi_count;
    let regularity = (ioi_count >= 2.0).then(|| {
        let var = (ioi_sq_sum_s2 / ioi_count - mean_s * mean_s).max(0.0);
        (1.0 - var.sqrt() / mean_s.max(1e-9)).clamp(0.0, 1.0) as f32
    });
    (mean_s, regularity)
}

/// Syllables per second from the mean inter-onset interval (s); 0 for a single syllable.
pub fn syllable_rate_hz(mean_ioi_s: f64) -> f32 {
    if mean_ioi_s > 0.0 {
        (1.0 / mean_ioi_s) as f32
    } else {
        0.0
    }
}

fn semitones(f0_hz: f32) -> f32 {
    crate::dsp::semitones(f0_hz.max(f32::MIN_POSITIVE), 1.0)
}

/// Median, mean absolute deviation from the median, and drift (the least-squares linear
/// trend times the window length) of a window of pitches in semitones.
fn window_stats(x: &[f32; NOTE_WINDOW_FRAMES]) -> (f32, f32, f32) {
    let n = NOTE_WINDOW_FRAMES;
    let mut sorted = *x;
    sorted.sort_unstable_by(f32::total_cmp);
    let median = if n.is_multiple_of(2) {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    } else {
        sorted[n / 2]
    };
    let spread = x.iter().map(|v| (v - median).abs()).sum::<f32>() / n as f32;
    let mean = x.iter().sum::<f32>() / n as f32;
    let centre = (n as f32 - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0f32, 0.0f32);
    for (k, v) in x.iter().enumerate() {
        let t = k as f32 - centre;
        sxy += t * (v - mean);
        sxx += t * t;
    }
    (median, spread, sxy / sxx * n as f32)
}

/// One decided frame as the vocal tracker sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameInfo {
    pub index: u64,
    pub f0_hz: Option<f32>,
    pub level_db: f32,
    pub floor_db: f32,
}

/// Running measures of the open vocalisation.
#[derive(Debug, Clone)]
struct OpenVocalisation {
    start: u64,
    last_voiced: u64,
    /// Frames up to `committed` are in the level sums.
    committed: u64,
    power_sum: f64,
    frames: u64,
    peak_db: f32,
    voiced: u32,
    onsets: u32,
    first_onset: u64,
    last_onset: u64,
    ioi_sum: f64,
    ioi_sq_sum: f64,
}

/// Finds onsets and vocalisations in a stream of decided frames. Allocation-free after `new`.
pub struct VocalTracker {
    max_gap_frames: u64,
    min_len_frames: u64,
    history: [FrameInfo; HISTORY],
    /// Start of the current voiced run and its length.
    run_start: Option<u64>,
    run_len: u32,
    last_onset: Option<u64>,
    /// Dip tracking inside continuous voicing.
    peak_since_onset_db: f32,
    dip: Option<(u64, f32)>,
    /// The strongest note-change boundary in the current stretch of frames that qualify:
    /// (frame, jump in semitones). Emitted when the stretch ends.
    note_change: Option<(u64, f32)>,
    open: Option<OpenVocalisation>,
    f0: F0Histogram,
    room: RoomDecay,
}

impl VocalTracker {
    pub fn new(config: &AnalysisConfig) -> Self {
        Self {
            max_gap_frames: (config.max_gap_in_vocalisation_secs * 100.0).round() as u64,
            min_len_frames: (config.min_vocalisation_secs * 100.0).round() as u64,
            history: [FrameInfo::default(); HISTORY],
            run_start: None,
            run_len: 0,
            last_onset: None,
            peak_since_onset_db: f32::MIN,
            dip: None,
            note_change: None,
            open: None,
            f0: F0Histogram::new(config.f0_min_hz, config.f0_max_hz),
            room: RoomDecay::default(),
        }
    }

    fn at(&self, index: u64) -> &FrameInfo {
        &self.history[(index % HISTORY as u64) as usize]
    }

    /// Takes the next decided frame (frames arrive in order). Analysis thread.
    pub fn push_frame(&mut self, frame: FrameInfo, events: &mut Vec<Event>) {
        let j = frame.index;
        self.history[(j % HISTORY as u64) as usize] = frame;
        if frame.f0_hz.is_none() {
            self.run_start = None;
            self.run_len = 0;
            self.note_change = None;
            if let Some(open) = &self.open {
                if j >= open.last_voiced + self.max_gap_frames {
                    self.close(events);
                }
            }
            return;
        }
        if self.run_start.is_none() {
            self.run_start = Some(j);
        }
        self.run_len += 1;
        let run_start = self.run_start.unwrap_or(j);
        if self.run_len < MIN_RUN_FRAMES {
            return;
        }
        if self.run_len == MIN_RUN_FRAMES {
            self.confirm_run(run_start, events);
        } else {
            self.commit_through(j);
            self.track_dips(&frame, events);
            self.track_note_changes(j, run_start, events);
        }
    }

    /// A voiced run has lasted long enough: decide whether it starts a syllable and a
    /// vocalisation.
    fn confirm_run(&mut self, run_start: u64, events: &mut Vec<Event>) {
        let prev_voiced = self.open.as_ref().map(|o| o.last_voiced);
        let gap = prev_voiced.map_or(u64::MAX, |p| run_start.saturating_sub(p + 1));
        let new_vocalisation = self.open.is_none() || gap >= self.max_gap_frames;
        if new_vocalisation && self.open.is_some() {
            self.close(events);
        }
        let onset = if new_vocalisation || gap >= 10 {
            true
        } else {
            // A short gap is a syllable boundary when the level really dropped in it.
            let p = prev_voiced.unwrap_or(run_start);
            let gap_min = (p + 1..run_start)
                .map(|i| self.at(i).level_db)
                .fold(f32::MAX, f32::min);
            let around = self.at(p).level_db.min(self.at(run_start + 1).level_db);
            gap_min < around - GAP_DIP_DB
        };
        let limit = prev_voiced.map_or(0, |p| p + 1);
        let onset_frame = if onset {
            self.backtrack(run_start, limit)
        } else {
            run_start
        };
        if new_vocalisation {
            events.push(Event::VocalisationStart {
                time: SampleTime(onset_frame * HOP_LEN as u64),
            });
            self.f0.clear();
            self.open = Some(OpenVocalisation {
                start: onset_frame,
                last_voiced: run_start,
                committed: onset_frame,
                power_sum: 0.0,
                frames: 0,
                peak_db: f32::MIN,
                voiced: 0,
                onsets: 0,
                first_onset: onset_frame,
                last_onset: onset_frame,
                ioi_sum: 0.0,
                ioi_sq_sum: 0.0,
            });
        }
        if onset {
            self.emit_onset(onset_frame, events);
        }
        let end = run_start + u64::from(MIN_RUN_FRAMES) - 1;
        self.commit_through(end);
        self.peak_since_onset_db = (run_start..=end)
            .map(|i| self.at(i).level_db)
            .fold(f32::MIN, f32::max);
        self.dip = None;
        self.note_change = None;
    }

    /// Moves an onset back from the start of voicing to where the sound starts rising.
    fn backtrack(&self, run_start: u64, limit: u64) -> u64 {
        let mut t = run_start;
        let lowest = run_start.saturating_sub(MAX_BACKTRACK_FRAMES).max(limit);
        while t > lowest {
            let (prev, cur) = (self.at(t - 1), self.at(t));
            if prev.level_db < cur.level_db - ATTACK_RISE_DB && prev.level_db > prev.floor_db + 6.0
            {
                t -= 1;
            } else {
                break;
            }
        }
        if let Some(last) = self.last_onset {
            t = t.max(last + MIN_IOI_FRAMES).min(run_start.max(last + 1));
        }
        t
    }

    fn emit_onset(&mut self, frame: u64, events: &mut Vec<Event>) {
        if self
            .last_onset
            .is_some_and(|last| frame < last + MIN_IOI_FRAMES)
        {
            return;
        }
        events.push(Event::Onset {
            time: SampleTime(frame * HOP_LEN as u64),
        });
        if let Some(open) = &mut self.open {
            if open.onsets > 0 {
                let ioi = (frame - open.last_onset) as f64 * crate::config::HOP_SECS;
                open.ioi_sum += ioi;
                open.ioi_sq_sum += ioi * ioi;
            } else {
                open.first_onset = frame;
            }
            open.onsets += 1;
            open.last_onset = frame;
        }
        self.last_onset = Some(frame);
    }

    /// A new syllable inside continuous voicing: a dip of `DIP_DB` and a rise of as much.
    fn track_dips(&mut self, frame: &FrameInfo, events: &mut Vec<Event>) {
        let level = frame.level_db;
        match self.dip {
            None => {
                if level < self.peak_since_onset_db - DIP_DB {
                    self.dip = Some((frame.index, level));
                } else {
                    self.peak_since_onset_db = self.peak_since_onset_db.max(level);
                }
            }
            Some((dip_frame, dip_db)) => {
                if level < dip_db {
                    self.dip = Some((frame.index, level));
                } else if level > dip_db + DIP_DB {
                    // Date it where the rise out of the dip starts (frames older than the
                    // history are skipped).
                    let oldest = frame.index.saturating_sub(HISTORY as u64 - 1);
                    let mut onset = dip_frame.max(oldest);
                    while onset < frame.index && self.at(onset).level_db < dip_db + DIP_DATE_RISE_DB
                    {
                        onset += 1;
                    }
                    let mut fall = dip_frame.max(oldest);
                    while fall > oldest && self.at(fall).level_db < dip_db + DIP_DB {
                        fall -= 1;
                    }
                    if frame.index - fall <= MAX_DIP_WIDTH_FRAMES {
                        self.emit_onset(onset, events);
                    }
                    self.peak_since_onset_db = level;
                    self.dip = None;
                }
            }
        }
    }

    /// A new note inside continuous voicing: the pitch holds one level over
    /// `NOTE_WINDOW_FRAMES`, then another at least `NOTE_MIN_JUMP_ST` away, each window flat
    /// (little spread and drift, so glides and vibrato do not qualify) and the new level not
    /// visited in the last `NOTE_LOOKBACK_FRAMES`. Of consecutive qualifying boundaries the one
    /// with the largest jump is the onset, emitted when the run of qualifying boundaries ends.
    fn track_note_changes(&mut self, j: u64, run_start: u64, events: &mut Vec<Event>) {
        let w = NOTE_WINDOW_FRAMES as u64;
        let boundary = (j + 1).checked_sub(w);
        let jump = boundary
            .filter(|&c| c >= run_start + w)
            .and_then(|c| self.note_jump(c, run_start));
        match (jump, self.note_change) {
            (Some(jump), Some((_, best))) if jump <= best => {}
            (Some(jump), _) => self.note_change = boundary.map(|c| (c, jump)),
            (None, Some((c, _))) => {
                self.note_change = None;
                self.emit_onset(c, events);
            }
            (None, None) => {}
        }
    }

    /// The jump (semitones) at boundary `c` if it is a note change, else `None`. The windows
    /// `c - W .. c` and `c .. c + W` are voiced (they lie in the run starting at `run_start`).
    fn note_jump(&self, c: u64, run_start: u64) -> Option<f32> {
        let before = self.window_semitones(c - NOTE_WINDOW_FRAMES as u64)?;
        let after = self.window_semitones(c)?;
        let (median_b, spread_b, drift_b) = window_stats(&before);
        let (median_a, spread_a, drift_a) = window_stats(&after);
        let jump = (median_a - median_b).abs();
        let flat = jump >= NOTE_MIN_JUMP_ST
            && jump >= NOTE_SPREAD_RATIO * (spread_b + spread_a)
            && drift_b.abs().max(drift_a.abs()) <= NOTE_MAX_DRIFT_RATIO * jump;
        if !flat {
            return None;
        }
        let from = c.saturating_sub(NOTE_LOOKBACK_FRAMES as u64).max(run_start);
        let (mut near, mut n) = (0u32, 0u32);
        for i in from..c {
            if let Some(f0) = self.at(i).f0_hz {
                n += 1;
                if (semitones(f0) - median_a).abs() < 0.5 * jump {
                    near += 1;
                }
            }
        }
        (n == 0 || near as f32 <= NOTE_MAX_REVISIT * n as f32).then_some(jump)
    }

    /// The pitch (semitones) of the `NOTE_WINDOW_FRAMES` frames from `first`, if all voiced.
    fn window_semitones(&self, first: u64) -> Option<[f32; NOTE_WINDOW_FRAMES]> {
        let mut out = [0.0; NOTE_WINDOW_FRAMES];
        for (k, v) in out.iter_mut().enumerate() {
            *v = semitones(self.at(first + k as u64).f0_hz?);
        }
        Some(out)
    }

    /// Adds frames up to `index` (inclusive) to the open vocalisation's measures.
    fn commit_through(&mut self, index: u64) {
        let Some(mut open) = self.open.take() else {
            return;
        };
        for i in open.committed..=index {
            // Frames older than the history cannot be read back (only after a long gap).
            if i + HISTORY as u64 <= index {
                continue;
            }
            let f = *self.at(i);
            open.power_sum += crate::dsp::db_to_power(f.level_db);
            open.frames += 1;
            open.peak_db = open.peak_db.max(f.level_db);
            if let Some(f0) = f.f0_hz {
                open.voiced += 1;
                self.f0.add(f0);
            }
        }
        open.committed = index + 1;
        open.last_voiced = open.last_voiced.max(index);
        self.open = Some(open);
    }

    /// Ends the open vocalisation: moves its end back over the room's reverberant tail, or
    /// extends it over its release, and reports it.
    fn close(&mut self, events: &mut Vec<Event>) {
        let Some(mut open) = self.open.take() else {
            return;
        };
        let newest = self.history.iter().map(|f| f.index).max().unwrap_or(0);
        let oldest = (newest + 1).saturating_sub(HISTORY as u64);
        let in_history = |i: u64| i >= oldest && i <= newest;
        // Learn the room from this end: its last voiced frames and what follows them.
        let decay_from = open
            .last_voiced
            .saturating_sub(END_DECAY_VOICED_FRAMES - 1)
            .max(open.start)
            .max(oldest);
        if decay_from <= open.last_voiced {
            let floor_db = self.at(open.last_voiced).floor_db;
            let voiced = (open.last_voiced + 1 - decay_from) as usize;
            let history = &self.history;
            let levels =
                (decay_from..=newest).map(|i| history[(i % HISTORY as u64) as usize].level_db);
            self.room.measure_end(levels, voiced, floor_db);
        }
        let is_tail = |this: &Self, i: u64| {
            this.room.is_tail(this.at(i).level_db, |j| {
                i.checked_sub(j)
                    .filter(|&b| b >= open.start && in_history(b))
                    .map(|b| this.at(b).level_db)
            })
        };
        // Where the sound was last heard: the release, frames after the last voiced one that
        // are still clearly above the floor.
        let mut heard = open.last_voiced;
        while heard < newest
            && heard < open.last_voiced + MAX_RELEASE_FRAMES
            && in_history(heard + 1)
            && self.at(heard + 1).level_db > self.at(heard + 1).floor_db + 6.0
            && self.at(heard + 1).level_db > open.peak_db - 35.0
        {
            heard += 1;
        }
        // The room's tail: trailing frames no louder than the room's decay predicts.
        let mut end = open.last_voiced;
        let lowest = (open.start + u64::from(MIN_RUN_FRAMES))
            .max(open.last_voiced.saturating_sub(MAX_TAIL_FRAMES))
            .max(oldest + TAIL_LOOKBACK_FRAMES.end());
        while end > lowest && is_tail(self, end) {
            end -= 1;
        }
        // The voice's own release, where it is heard above the room's tail.
        if end == open.last_voiced {
            while end < heard && !is_tail(self, end + 1) {
                end += 1;
            }
        }
        // A fall faster than the room's decay, later on, shows that the voice was still
        // sounding in the frame it fell from: the end is at least there.
        let reach = (open.last_voiced + MAX_RELEASE_FRAMES).min(newest);
        let mut k = end + 1;
        while k <= reach + TAIL_LOOKBACK_FRAMES.end() && k <= newest && in_history(k) {
            let f = *self.at(k);
            if f.level_db <= f.floor_db + OUTPACE_MIN_SNR_DB {
                break;
            }
            let before = |j: u64| {
                k.checked_sub(j)
                    .filter(|&b| b > end && b >= open.start && in_history(b))
                    .map(|b| self.at(b).level_db)
            };
            if let Some(j) = self.room.voice_held_before(f.level_db, before) {
                end = (k - j).min(reach);
            }
            k += 1;
        }
        // The tail's frames are taken back out of the vocalisation's measures.
        for i in end + 1..=open.last_voiced {
            let f = *self.at(i);
            open.power_sum -= crate::dsp::db_to_power(f.level_db);
            open.frames = open.frames.saturating_sub(1);
            if let Some(f0) = f.f0_hz {
                open.voiced = open.voiced.saturating_sub(1);
                self.f0.remove(f0);
            }
        }
        let len_frames = end + 1 - open.start;
        if len_frames < self.min_len_frames || open.voiced < MIN_RUN_FRAMES {
            return;
        }
        let (mean_ioi, regularity) = rhythm(
            f64::from(open.onsets.saturating_sub(1)),
            open.ioi_sum,
            open.ioi_sq_sum,
        );
        let voc = Vocalisation {
            start: SampleTime(open.start * HOP_LEN as u64),
            end: SampleTime((end + 1) * HOP_LEN as u64),
            heard_until: SampleTime((heard.max(end) + 1) * HOP_LEN as u64),
            peak_level_dbfs: open.peak_db,
            mean_level_dbfs: crate::dsp::power_to_db(open.power_sum / open.frames.max(1) as f64),
            f0_median_hz: self.f0.quantile(0.5).unwrap_or(0.0),
            f0_low_hz: self.f0.quantile(0.05).unwrap_or(0.0),
            f0_high_hz: self.f0.quantile(0.95).unwrap_or(0.0),
            voiced_frames: open.voiced,
            syllables: open.onsets,
            syllable_rate_hz: syllable_rate_hz(mean_ioi),
            mean_ioi_secs: mean_ioi as f32,
            regularity,
        };
        events.push(Event::Vocalisation(voc));
    }

    /// End of stream: reports the open vocalisation. Analysis thread.
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        self.close(events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vocalisations found in 0.5 s of voice, `silence_frames` unvoiced frames, and 0.5 s more.
    fn vocalisations_around(silence_frames: u64) -> usize {
        let config = AnalysisConfig::default();
        let mut tracker = VocalTracker::new(&config);
        let mut events = Vec::new();
        let voiced = |index| FrameInfo {
            index,
            f0_hz: Some(220.0),
            level_db: -20.0,
            floor_db: -60.0,
        };
        let silent = |index| FrameInfo {
            index,
            f0_hz: None,
            level_db: -60.0,
            floor_db: -60.0,
        };
        let mut j = 0;
        for _ in 0..50 {
            tracker.push_frame(voiced(j), &mut events);
            j += 1;
        }
        for _ in 0..silence_frames {
            tracker.push_frame(silent(j), &mut events);
            j += 1;
        }
        for _ in 0..50 {
            tracker.push_frame(voiced(j), &mut events);
            j += 1;
        }
        tracker.finish(&mut events);
        events
            .iter()
            .filter(|e| matches!(e, Event::Vocalisation(_)))
            .count()
    }

    #[test]
    fn a_silence_as_long_as_the_setting_splits_a_vocalisation() {
        // The setting is 0.3 s: 30 frames of silence split, 29 do not.
        assert_eq!(vocalisations_around(29), 1);
        assert_eq!(vocalisations_around(30), 2);
        assert_eq!(vocalisations_around(31), 2);
        assert_eq!(vocalisations_around(5), 1);
    }

    /// Four sounds, each 50 frames of voice at -20 dB that stops at once, after which the
    /// level falls by `decay_db_per_frame` to a floor at -70 dB (the room's tail; the pitch is
    /// still heard while the tail is above -45 dB), then silence. Returns each vocalisation
    /// with the frame its voice stopped at.
    fn sounds_with_tails(decay_db_per_frame: f32) -> Vec<(Vocalisation, u64)> {
        let config = AnalysisConfig::default();
        let mut tracker = VocalTracker::new(&config);
        let mut events = Vec::new();
        let mut stops = Vec::new();
        let mut j = 0u64;
        for _ in 0..4 {
            for _ in 0..50 {
                let f = FrameInfo {
                    index: j,
                    f0_hz: Some(220.0),
                    level_db: -20.0,
                    floor_db: -70.0,
                };
                tracker.push_frame(f, &mut events);
                j += 1;
            }
            stops.push(j);
            for i in 0..80 {
                let level_db = (-20.0 - decay_db_per_frame * (i + 1) as f32).max(-70.0);
                let f = FrameInfo {
                    index: j,
                    f0_hz: (level_db >= -45.0).then_some(220.0),
                    level_db,
                    floor_db: -70.0,
                };
                tracker.push_frame(f, &mut events);
                j += 1;
            }
        }
        tracker.finish(&mut events);
        let vocs: Vec<Vocalisation> = events
            .iter()
            .filter_map(|e| match e {
                Event::Vocalisation(v) => Some(*v),
                _ => None,
            })
            .collect();
        assert_eq!(vocs.len(), 4);
        vocs.into_iter().zip(stops).collect()
    }

    #[test]
    fn in_a_reverberant_room_a_vocalisation_ends_where_the_voice_stops() {
        // RT60 0.3 s: 2 dB per frame.
        let vocs = sounds_with_tails(2.0);
        let secs = |frame: u64| frame as f64 * crate::config::HOP_SECS;
        // The first end teaches the room; from the second on, the tail is known.
        let (first, stop) = vocs[0];
        assert!(first.end.secs() - secs(stop) > 0.1, "{first:?}");
        for (v, stop) in &vocs[2..] {
            let late_secs = v.end.secs() - secs(*stop);
            assert!(
                (0.0..=0.03).contains(&late_secs),
                "ends {late_secs} s late: {v:?}"
            );
            assert!(v.tail_secs() > 0.1, "the tail is still reported: {v:?}");
            let frames = ((v.end.secs() - v.start.secs()) / crate::config::HOP_SECS).round();
            assert_eq!(
                f64::from(v.voiced_frames),
                frames,
                "the tail's voiced frames are not the voice's"
            );
            assert!((v.f0_median_hz - 220.0).abs() < 1.0);
        }
    }

    #[test]
    fn in_a_dry_room_a_vocalisation_keeps_its_release() {
        let vocs = sounds_with_tails(10.0);
        for (v, stop) in &vocs {
            let late_frames = (v.end.secs() / crate::config::HOP_SECS).round() as u64 - stop;
            assert_eq!(
                late_frames, 3,
                "voiced for 2 frames more, then 1 of release: {v:?}"
            );
            assert_eq!(v.tail_secs(), 0.0);
        }
    }
}
