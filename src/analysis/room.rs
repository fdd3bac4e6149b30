//! The room's decay, learnt from the ends of vocalisations, so that a vocalisation ends where
//! the voice stops rather than where the room's reverberation of it dies away.
//!
//! Once a voice stops, what a microphone hears of it decays at the room's rate (60 dB per
//! RT60): nothing in the recording falls faster than that. A dry recording's sounds end
//! steeply (a voice's own release, then the noise floor); a reverberant room's all end along
//! the same slope. So the typical decay at clear vocalisation ends, when slow enough to be a
//! room's, is the room's, and the frames at a vocalisation's end whose level is no higher than
//! that decay from a few frames before predicts hold no new sound: they are the room's tail.
//! The pitch track still reports their f0 (the pitch is audible); only the vocalisation's end
//! moves.

/// End decays kept (the most recent).
const MEASURES: usize = 15;
/// Decays measured before the room's is trusted.
const MIN_MEASURES: usize = 2;
/// A decay slower than this (dB per 10 ms frame) is a room's: RT60 ≥ 0.22 s. Dry recordings'
/// sounds end faster, bounded only by the 25 ms level window and the noise floor.
const MAX_ROOM_DECAY_DB_PER_FRAME: f32 = 2.75;
/// An end is measured only when its level stands this far above the noise floor, so that the
/// floor does not cut the decay short.
const MIN_END_SNR_DB: f32 = 25.0;
/// The decay is timed from this far below the end's peak level...
const DECAY_FROM_DB: f32 = 3.0;
/// ... to this far below it.
const DECAY_TO_DB: f32 = 15.0;
/// A frame is the room's tail when its level is less than this far above the room's decay
/// from the frames `TAIL_LOOKBACK_FRAMES` before it.
const TAIL_MARGIN_DB: f32 = 2.0;
/// A frame this much below the room's decay from a frame before it shows that the earlier
/// frame still held the voice: the room alone cannot fall faster than its decay.
const OUTPACE_MARGIN_DB: f32 = 5.0;
/// The frames the decay is projected from: 3-8 frames back (the 25 ms level windows of
/// nearer frames overlap the frame's own).
pub const TAIL_LOOKBACK_FRAMES: std::ops::RangeInclusive<u64> = 3..=8;

/// The room's decay as measured so far. Allocation-free; analysis thread.
#[derive(Debug, Clone, Default)]
pub struct RoomDecay {
    /// Recent end decays, dB per frame (a ring of `MEASURES`).
    slopes_db_per_frame: [f32; MEASURES],
    /// Measures taken so far.
    count: usize,
    /// The room's decay from them (see `decay_db_per_frame`), updated with each measure.
    decay_db_per_frame: Option<f32>,
}

impl RoomDecay {
    /// Measures the decay after a vocalisation's end. `levels_db` runs from the vocalisation's
    /// last few voiced frames (the first `voiced_frames` of it) through the frames after its
    /// end; `floor_db` is the noise floor there.
    pub fn measure_end(
        &mut self,
        levels_db: impl Iterator<Item = f32>,
        voiced_frames: usize,
        floor_db: f32,
    ) {
        let mut peak_db = f32::MIN;
        let (mut from, mut to) = (None, None);
        for (k, level_db) in levels_db.enumerate() {
            if k < voiced_frames && level_db > peak_db {
                peak_db = level_db;
                from = None;
            }
            if from.is_none() && level_db < peak_db - DECAY_FROM_DB {
                from = Some(k);
            }
            if from.is_some() && level_db < peak_db - DECAY_TO_DB {
                to = Some(k);
                break;
            }
        }
        let (Some(from), Some(to)) = (from, to) else {
            return;
        };
        if peak_db - floor_db < MIN_END_SNR_DB {
            return;
        }
        let frames = (to - from).max(1) as f32;
        self.slopes_db_per_frame[self.count % MEASURES] = (DECAY_TO_DB - DECAY_FROM_DB) / frames;
        self.count += 1;
        self.decay_db_per_frame = self.median_decay();
    }

    /// The room's decay in dB per frame, when the recording so far shows a reverberant room.
    pub fn decay_db_per_frame(&self) -> Option<f32> {
        self.decay_db_per_frame
    }

    /// The median of the measured decays, when there are enough and it is a room's.
    fn median_decay(&self) -> Option<f32> {
        let n = self.count.min(MEASURES);
        if n < MIN_MEASURES {
            return None;
        }
        let mut sorted = self.slopes_db_per_frame;
        let sorted = &mut sorted[..n];
        sorted.sort_unstable_by(f32::total_cmp);
        let median = if n.is_multiple_of(2) {
            0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
        } else {
            sorted[n / 2]
        };
        (median < MAX_ROOM_DECAY_DB_PER_FRAME).then_some(median)
    }

    /// Whether a frame at `level_db` is the room's tail: no higher than the room's decay
    /// from the frames before it predicts (`before_db(j)` is the level `j` frames earlier,
    /// `None` before the vocalisation). `false` when no room has been measured.
    pub fn is_tail(&self, level_db: f32, before_db: impl Fn(u64) -> Option<f32>) -> bool {
        let Some(slope) = self.decay_db_per_frame() else {
            return false;
        };
        let predicted_db = TAIL_LOOKBACK_FRAMES
            .filter_map(|j| before_db(j).map(|l| l - slope * j as f32))
            .fold(f32::MIN, f32::max);
        predicted_db > f32::MIN && level_db < predicted_db + TAIL_MARGIN_DB
    }

    /// How many frames before a frame at `level_db` (3-8) the voice was still sounding, as
    /// shown by a fall from there faster than the room's decay; the nearest such frame.
    /// `None` when the fall is no faster than the room's, or no room has been measured.
    pub fn voice_held_before(
        &self,
        level_db: f32,
        before_db: impl Fn(u64) -> Option<f32>,
    ) -> Option<u64> {
        let slope = self.decay_db_per_frame()?;
        TAIL_LOOKBACK_FRAMES.into_iter().find(|&j| {
            before_db(j).is_some_and(|l| level_db < l - slope * j as f32 - OUTPACE_MARGIN_DB)
        })
    }
}

/// The room's level around a vocalisation is this percentile of a channel's frame levels...
const ROOM_LEVEL_QUANTILE: f32 = 0.2;
/// ... over this many frames (5 s) on either side of it.
const ROOM_WINDOW_FRAMES: usize = 500;
/// A vocalisation's loud frames are its frames at this percentile of its levels.
const LOUD_QUANTILE: f32 = 0.9;
/// A voice near its microphone stands at least this far above the room around it (dB): a
/// talker 10 dB above babble in power puts its loud frames 15-20 dB above the babble's quieter
/// frames, while the babble's own voiced bits (a distant talker, heard alike by every
/// microphone) reach 5-9 dB above them.
pub const MIN_ABOVE_ROOM_DB: f32 = 9.5;
/// One microphone in the room hears both talkers from further away, and they stand less far
/// above the babble: the least a vocalisation must stand above the room there (dB). (On the
/// hard sessions' mono mix 6 / 7 / 8 / 9.5 dB gave detection F1 0.69 / 0.72 / 0.75 / 0.70 with
/// enrolment; dev is unchanged by any of them.)
pub const MIN_ABOVE_ROOM_FAR_DB: f32 = 8.0;

/// The `q` quantile (0-1) of `values` (sorted in place); `None` when empty.
fn quantile(values: &mut [f32], q: f32) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f32::total_cmp);
    let k = ((values.len() - 1) as f32 * q).round() as usize;
    values.get(k).copied()
}

/// How far (dB) the loud frames of the stretch `start..end` (frame indices) of `levels_db`
/// stand above the room around it: the `ROOM_LEVEL_QUANTILE` level of the
/// `ROOM_WINDOW_FRAMES` frames on each side and the stretch itself. `None` for an empty stretch.
/// Runs on the thread that holds the track (the `analyze` worker; the live analysis consumer).
pub fn above_room_db(levels_db: &[f32], start: usize, end: usize) -> Option<f32> {
    let end = end.min(levels_db.len());
    let mut own: Vec<f32> = levels_db.get(start..end)?.to_vec();
    let loud_db = quantile(&mut own, LOUD_QUANTILE)?;
    let from = start.saturating_sub(ROOM_WINDOW_FRAMES);
    let to = (end + ROOM_WINDOW_FRAMES).min(levels_db.len());
    let mut around: Vec<f32> = levels_db[from..to].to_vec();
    let room_db = quantile(&mut around, ROOM_LEVEL_QUANTILE)?;
    Some(loud_db - room_db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Levels of a vocalisation end: 10 frames at 0 dB, then a fall of `db_per_frame` to a
    /// floor at -60 dB.
    fn end(db_per_frame: f32) -> Vec<f32> {
        let mut v = vec![0.0; 10];
        v.extend((1..40).map(|k| (-db_per_frame * k as f32).max(-60.0)));
        v
    }

    #[test]
    fn a_reverberant_rooms_decay_is_learnt_and_a_dry_one_is_not() {
        let mut room = RoomDecay::default();
        room.measure_end(end(2.0).into_iter(), 10, -60.0);
        assert_eq!(room.decay_db_per_frame(), None, "one end is not enough");
        room.measure_end(end(2.0).into_iter(), 10, -60.0);
        let slope = room.decay_db_per_frame().expect("a room");
        assert!((slope - 2.0).abs() < 0.2, "{slope}");

        let mut dry = RoomDecay::default();
        for _ in 0..3 {
            dry.measure_end(end(8.0).into_iter(), 10, -60.0);
        }
        assert_eq!(dry.decay_db_per_frame(), None);
    }

    #[test]
    fn a_voice_stands_out_of_the_room_and_the_babbles_bits_do_not() {
        // 10 s of babble fluctuating between -40 and -32 dB, with a voice at -15 dB in the
        // middle and a voiced bit of the babble at -30 dB.
        let mut levels: Vec<f32> = (0..1000)
            .map(|k| -36.0 + 4.0 * (k as f32 * 0.7).sin())
            .collect();
        levels[500..560].iter_mut().for_each(|l| *l = -15.0);
        levels[200..220].iter_mut().for_each(|l| *l = -30.0);
        let voice = above_room_db(&levels, 500, 560).expect("frames");
        let babble = above_room_db(&levels, 200, 220).expect("frames");
        assert!(voice >= MIN_ABOVE_ROOM_DB, "{voice}");
        assert!(babble < MIN_ABOVE_ROOM_DB, "{babble}");
        assert_eq!(above_room_db(&levels, 1000, 1010), None);
    }

    #[test]
    fn ends_near_the_floor_are_not_measured() {
        let mut room = RoomDecay::default();
        for _ in 0..3 {
            room.measure_end(end(2.0).into_iter(), 10, -20.0);
        }
        assert_eq!(room.decay_db_per_frame(), None);
    }

    #[test]
    fn the_tail_follows_the_rooms_decay_and_a_held_voice_does_not() {
        let mut room = RoomDecay::default();
        for _ in 0..2 {
            room.measure_end(end(2.0).into_iter(), 10, -60.0);
        }
        let levels = end(2.0);
        let levels = &levels;
        let before = |k: usize| move |j: u64| k.checked_sub(j as usize).map(|i| levels[i]);
        assert!(
            !room.is_tail(levels[9], before(9)),
            "the voice held at 0 dB"
        );
        assert!(
            room.is_tail(levels[16], before(16)),
            "falling at the room's rate"
        );
        assert!(
            !RoomDecay::default().is_tail(levels[16], before(16)),
            "no room measured"
        );
    }
}
