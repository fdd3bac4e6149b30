//! The one analysis driver: what every way into attune runs between the samples and the
//! events. The live "analysis" thread, `attune analyze`, review and recovery all feed their
//! samples to a [`Driver`]; it
//!
//! - runs the [`Analyzer`], which resamples once to [`ANALYSIS_RATE_HZ`] (and counts the
//!   input: [`InputStats`]), and the voice features ([`VoiceFeatures`]) on the same resampled
//!   samples when they are asked for,
//! - live, runs a second Analyzer with a short lookahead on the same resampled samples for
//!   the pitch on screen ([`Driver::with_display`]), while the events of record (onsets,
//!   vocalisations, the pitch written to the session) come from the Analyzer with the offline
//!   lookahead: a live session is segmented exactly as `attune analyze` segments the file,
//! - keeps the one session clock across streams: a stream at another rate (a device that came
//!   back at another rate, a WAV part written after it) is analysed by a new Analyzer whose
//!   events are shifted ([`Event::shifted`]) to continue the clock where the last stream ended.
//!
//! [`files`] decodes recordings (one file, or the WAV parts of a session) through it.
//!
//! Runs on the thread that feeds it (an `analyze-N` worker, the live "analysis" thread, the
//! review loader, the thread repairing a session); it allocates only when `out` grows.

pub mod files;

use crate::analysis::{AnalyzeError, Analyzer};
use crate::config::{AnalysisConfig, ANALYSIS_RATE_HZ, HOP_LEN};
use crate::dsp::resample::InputStats;
use crate::dsp::voice::{Cepstrum, VoiceFeatures};
use crate::events::{Event, PitchFrame};
use crate::time::SampleTime;

/// What the driver produced since the caller last cleared it, on the session clock.
#[derive(Debug, Default)]
pub struct DriverOutput {
    /// The Analyzer's events, in its order.
    pub events: Vec<Event>,
    /// Voice features: (session frame index, features); empty unless asked for.
    pub ceps: Vec<(usize, Cepstrum)>,
    /// The display Analyzer's pitch frames (short lookahead); empty without one.
    pub display: Vec<PitchFrame>,
}

impl DriverOutput {
    /// Room for `events` events before the vector grows.
    pub fn with_capacity(events: usize) -> Self {
        Self {
            events: Vec::with_capacity(events),
            ceps: Vec::new(),
            display: Vec::with_capacity(events),
        }
    }

    pub fn clear(&mut self) {
        self.events.clear();
        self.ceps.clear();
        self.display.clear();
    }
}

/// One stream at one input rate.
struct Stream {
    rate_hz: u32,
    analyzer: Analyzer,
    voice: Option<VoiceFeatures>,
    /// The display Analyzer (at the analysis rate: it takes the resampled samples) and the
    /// events it made from the last block.
    display: Option<(Analyzer, Vec<Event>)>,
    /// Where this stream starts on the session clock.
    start: SampleTime,
    /// Input frames (at `rate_hz`) fed so far.
    frames_in: u64,
}

/// Samples of any rate in, events on the session clock out.
pub struct Driver {
    config: AnalysisConfig,
    with_voice: bool,
    /// The display Analyzer's settings (live), if there is one.
    display_config: Option<AnalysisConfig>,
    stream: Option<Stream>,
    /// Where the next stream starts (the end of the last one).
    next_start: SampleTime,
    /// The input of the streams that have ended.
    ended_input: InputStats,
}

impl Driver {
    /// A driver with no stream yet; `with_voice` also computes the voice features. Any thread.
    pub fn new(config: &AnalysisConfig, with_voice: bool) -> Result<Self, AnalyzeError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            with_voice,
            display_config: None,
            stream: None,
            next_start: SampleTime(0),
            ended_input: InputStats::default(),
        })
    }

    /// Also runs a display Analyzer with `display_config` (the live window's short lookahead)
    /// on the same resampled samples: its pitch frames go to [`DriverOutput::display`]. Any
    /// thread, before the first stream.
    pub fn with_display(mut self, display_config: &AnalysisConfig) -> Result<Self, AnalyzeError> {
        display_config.validate()?;
        self.display_config = Some(display_config.clone());
        Ok(self)
    }

    /// The input that follows is at `rate_hz`. A rate other than the current stream's ends
    /// that stream (its last events go to `out`) and starts a new one where it ended; the same
    /// rate goes on as one stream. Feeding thread.
    pub fn set_rate(&mut self, rate_hz: u32, out: &mut DriverOutput) -> Result<(), AnalyzeError> {
        if self.stream.as_ref().is_some_and(|s| s.rate_hz == rate_hz) {
            return Ok(());
        }
        self.finish(out);
        let analyzer = Analyzer::new(&self.config, rate_hz)?;
        let display = match &self.display_config {
            Some(c) => Some((Analyzer::new(c, ANALYSIS_RATE_HZ)?, Vec::with_capacity(256))),
            None => None,
        };
        self.stream = Some(Stream {
            rate_hz,
            analyzer,
            voice: self.with_voice.then(VoiceFeatures::new),
            display,
            start: self.next_start,
            frames_in: 0,
        });
        Ok(())
    }

    /// Analyses the next block of mono samples at the current stream's rate (nothing before
    /// the first [`Driver::set_rate`]). Feeding thread.
    pub fn process(&mut self, block: &[f32], out: &mut DriverOutput) {
        let Some(s) = &mut self.stream else {
            return;
        };
        s.frames_in += block.len() as u64;
        let (first_event, first_ceps) = (out.events.len(), out.ceps.len());
        let (voice, display, ceps) = (&mut s.voice, &mut s.display, &mut out.ceps);
        s.analyzer.process_tapped(block, &mut out.events, &mut |x| {
            if let Some(v) = voice.as_mut() {
                v.process(x, &mut |k, c| ceps.push((k as usize, *c)));
            }
            if let Some((d, events)) = display.as_mut() {
                d.process(x, events);
            }
        });
        Self::to_session_clock(s.start, out, first_event, first_ceps);
        Self::take_display(s, out);
    }

    /// Ends the current stream: analyses what is buffered and decides its remaining frames.
    /// The next stream (after [`Driver::set_rate`]) starts where it ended. Feeding thread.
    pub fn finish(&mut self, out: &mut DriverOutput) {
        let Some(mut s) = self.stream.take() else {
            return;
        };
        let (first_event, first_ceps) = (out.events.len(), out.ceps.len());
        let (voice, display, ceps) = (&mut s.voice, &mut s.display, &mut out.ceps);
        s.analyzer.finish_tapped(&mut out.events, &mut |x| {
            if let Some(v) = voice.as_mut() {
                v.process(x, &mut |k, c| ceps.push((k as usize, *c)));
            }
            if let Some((d, events)) = display.as_mut() {
                d.process(x, events);
            }
        });
        if let Some(v) = voice.as_mut() {
            v.finish(&mut |k, c| ceps.push((k as usize, *c)));
        }
        if let Some((d, events)) = display.as_mut() {
            d.finish(events);
        }
        Self::to_session_clock(s.start, out, first_event, first_ceps);
        Self::take_display(&mut s, out);
        self.next_start = stream_end(&s);
        self.ended_input.merge(&s.analyzer.input_stats());
    }

    /// Moves what a stream produced from its own clock onto the session clock.
    fn to_session_clock(
        start: SampleTime,
        out: &mut DriverOutput,
        first_event: usize,
        first_ceps: usize,
    ) {
        if start.0 == 0 {
            return;
        }
        for e in &mut out.events[first_event..] {
            *e = e.shifted(start.0 as i64);
        }
        // Frame k of the stream lies in the session frame of its centre.
        let by_frames = start.0 as usize / HOP_LEN;
        for (k, _) in &mut out.ceps[first_ceps..] {
            *k += by_frames;
        }
    }

    /// Moves the display Analyzer's pitch frames onto the session clock, into `out`.
    fn take_display(s: &mut Stream, out: &mut DriverOutput) {
        let Some((_, events)) = &mut s.display else {
            return;
        };
        let by = s.start.0 as i64;
        for e in events.drain(..) {
            if let Event::Pitch(p) = e.shifted(by) {
                out.display.push(p);
            }
        }
    }

    /// Session time now: where the next input sample will be.
    pub fn now(&self) -> SampleTime {
        self.stream.as_ref().map_or(self.next_start, stream_end)
    }

    /// The current stream's rate, `None` between streams.
    pub fn rate_hz(&self) -> Option<u32> {
        self.stream.as_ref().map(|s| s.rate_hz)
    }

    /// Where the current stream started on the session clock, and how many input frames it
    /// has been fed (live latency: which input frame a session time is).
    pub fn stream_position(&self) -> Option<(SampleTime, u64)> {
        self.stream.as_ref().map(|s| (s.start, s.frames_in))
    }

    /// Every input sample so far: how many, non-finite and clipped ones, peak.
    pub fn input_stats(&self) -> InputStats {
        let mut all = self.ended_input;
        if let Some(s) = &self.stream {
            all.merge(&s.analyzer.input_stats());
        }
        all
    }
}

/// Where a stream ends on the session clock: its start plus its input's duration.
fn stream_end(s: &Stream) -> SampleTime {
    SampleTime(s.start.0 + s.frames_in * u64::from(ANALYSIS_RATE_HZ) / u64::from(s.rate_hz))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Vocalisation;

    /// A harmonic voice at `f0_hz` from `on_s` to `off_s` in `secs` of quiet noise.
    fn voice(rate_hz: u32, secs: f64, on_s: f64, off_s: f64, f0_hz: f64) -> Vec<f32> {
        let mut seed = 0x2545_f491_u64;
        (0..(secs * f64::from(rate_hz)) as usize)
            .map(|i| {
                let t = i as f64 / f64::from(rate_hz);
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let noise = (seed % 2001) as f64 / 1000.0 - 1.0;
                let on = (on_s..off_s).contains(&t);
                let v: f64 = (1..6)
                    .map(|h| (std::f64::consts::TAU * f0_hz * h as f64 * t).sin() / h as f64)
                    .sum();
                (0.001 * noise + if on { 0.2 * v } else { 0.0 }) as f32
            })
            .collect()
    }

    fn run(streams: &[(u32, &[f32])]) -> Vec<Event> {
        let mut d = Driver::new(&AnalysisConfig::default(), false).unwrap();
        let mut out = DriverOutput::default();
        for (rate_hz, x) in streams {
            d.set_rate(*rate_hz, &mut out).unwrap();
            for block in x.chunks(777) {
                d.process(block, &mut out);
            }
        }
        d.finish(&mut out);
        out.events
    }

    #[test]
    fn a_new_rate_continues_the_clock_and_moves_every_time_of_its_events() {
        let first = voice(16_000, 2.0, 0.5, 1.2, 220.0);
        let second = voice(48_000, 2.5, 0.7, 1.9, 180.0);
        let both = run(&[(16_000, &first), (48_000, &second)]);
        let alone = run(&[(48_000, &second)]);
        // The second stream starts where the first ended: 2 s on the session clock.
        let by = 32_000;
        let later: Vec<Event> = both.iter().copied().filter(|e| e.time().0 >= by).collect();
        let moved: Vec<Event> = alone.iter().map(|e| e.shifted(by as i64)).collect();
        assert_eq!(later, moved);
        let v: Vec<&Vocalisation> = later
            .iter()
            .filter_map(|e| match e {
                Event::Vocalisation(v) => Some(v),
                _ => None,
            })
            .collect();
        assert_eq!(v.len(), 1, "{v:?}");
        assert!((v[0].start.secs() - 2.7).abs() < 0.05, "{:?}", v[0]);
        assert!(v[0].heard_until >= v[0].end, "{:?}", v[0]);
    }

    #[test]
    fn a_shifted_vocalisation_keeps_its_room_tail() {
        let v = Vocalisation {
            start: SampleTime(16_000),
            end: SampleTime(32_000),
            heard_until: SampleTime(35_200),
            peak_level_dbfs: -10.0,
            mean_level_dbfs: -20.0,
            f0_median_hz: 200.0,
            f0_low_hz: 180.0,
            f0_high_hz: 220.0,
            voiced_frames: 100,
            syllables: 1,
            syllable_rate_hz: 0.0,
            mean_ioi_secs: 0.0,
            regularity: None,
        };
        let Event::Vocalisation(later) = Event::Vocalisation(v).shifted(48_000) else {
            panic!("not a vocalisation");
        };
        assert_eq!(later.start, SampleTime(64_000));
        assert!((later.tail_secs() - 0.2).abs() < 1e-9, "{later:?}");
        assert_eq!(later.shifted(-48_000), v);
    }
}
