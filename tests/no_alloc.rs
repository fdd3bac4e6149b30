//! After construction and warm-up, `Analyzer::process` allocates nothing, so it can run next to
//! the audio callback. Runs in the (debug) test profile, where `assert_no_alloc` is active.

mod common;

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use attune::analysis::Analyzer;
use attune::config::AnalysisConfig;
use attune::events::Event;
use common::{burst, scene, voice};

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

fn varied_signal(rate: u32, secs: f64, seed: u64) -> Vec<f32> {
    let mut parts = Vec::new();
    let mut t = 0.2;
    let mut k = 0u64;
    while t + 1.2 < secs {
        parts.push((
            t,
            voice(rate, 0.6, 0.4, 0.05, 0.05, move |s| {
                180.0 + 60.0 * k as f64 + 150.0 * s
            }),
        ));
        parts.push((t + 0.7, burst(rate, 0.1, 0.3, 0.02, seed + k)));
        t += 1.2;
        k = (k + 1) % 5;
    }
    let mut x = scene(rate, secs, 0.001, &parts, seed);
    // Silence and invalid samples too.
    let n = x.len();
    x[n / 2..n / 2 + rate as usize / 4].fill(0.0);
    x[n / 3] = f32::NAN;
    x[n / 3 + 10] = f32::INFINITY;
    x
}

#[test]
fn process_allocates_nothing_after_warm_up() {
    for &rate in &[16_000u32, 48_000, 44_100] {
        let mut an = Analyzer::new(&AnalysisConfig::default(), rate).unwrap();
        let mut events: Vec<Event> = Vec::with_capacity(10_000);
        let warm_up = varied_signal(rate, 2.0, 1);
        an.process(&warm_up, &mut events);
        events.clear();
        let signal = varied_signal(rate, 5.0, 2);
        let mut produced = 0usize;
        reset_violation_count();
        assert_no_alloc(|| {
            for block in signal.chunks(480) {
                an.process(block, &mut events);
                produced += events.len();
                events.clear();
            }
            for block in signal[..rate as usize].chunks(1) {
                an.process(block, &mut events);
                produced += events.len();
                events.clear();
            }
        });
        assert_eq!(
            violation_count(),
            0,
            "{rate} Hz: allocations in Analyzer::process"
        );
        // It really ran: 6 s of audio gives 600 pitch frames and more.
        assert!(produced >= 600, "{rate} Hz: {produced} events");
    }
}

#[test]
fn the_checker_does_see_allocations() {
    // The control for the test above: the same harness reports an allocation when there is one.
    reset_violation_count();
    let v = assert_no_alloc(|| vec![1u8; 64]);
    assert_eq!(v.len(), 64);
    assert!(violation_count() > 0);
}

#[test]
fn the_capture_callback_and_a_warm_analyzer_allocate_nothing() {
    use attune::audio::capture::{source_rings, CaptureCallback, ChannelRoute};
    use ringbuf::traits::Consumer;
    use std::time::Duration;

    // What the cpal callback does, for the sample formats devices deliver, then what the
    // analysis thread does with the samples: all under the allocation checker.
    let rate = 48_000u32;
    let (input, mut output) = source_rings(rate, "test device".into(), 2);
    let mut callback = CaptureCallback::new(input, 2, ChannelRoute::Downmix);
    let mut an = Analyzer::new(&AnalysisConfig::live(), rate).unwrap();
    let mut events: Vec<Event> = Vec::with_capacity(10_000);
    let signal = varied_signal(rate, 4.0, 3);
    let stereo_f32: Vec<f32> = signal.iter().flat_map(|&x| [x, x * 0.5]).collect();
    let stereo_i16: Vec<i16> = stereo_f32
        .iter()
        .map(|&x| (x.clamp(-1.0, 1.0) * 32767.0) as i16)
        .collect();
    let mut block = vec![0.0f32; 4096];
    // Warm-up outside the checker.
    callback.process::<f32>(&stereo_f32[..9600], Duration::from_millis(3));
    loop {
        let n = output.audio.pop_slice(&mut block);
        if n == 0 {
            break;
        }
        an.process(&block[..n], &mut events);
    }
    events.clear();

    let mut produced = 0usize;
    let mut popped = 0usize;
    reset_violation_count();
    assert_no_alloc(|| {
        for (f, i) in stereo_f32.chunks(480).zip(stereo_i16.chunks(480)) {
            callback.process::<f32>(f, Duration::from_millis(3));
            callback.process::<i16>(i, Duration::from_millis(3));
            while output.stamps.try_pop().is_some() {}
            loop {
                let n = output.audio.pop_slice(&mut block);
                if n == 0 {
                    break;
                }
                popped += n;
                an.process(&block[..n], &mut events);
                produced += events.len();
                events.clear();
            }
        }
    });
    assert_eq!(
        violation_count(),
        0,
        "allocations in the callback or the Analyzer"
    );
    // Both formats went through: 2 x 4 s at 48 kHz, and the analysis kept up.
    assert_eq!(popped, 2 * signal.len());
    assert!(produced >= 700, "{produced} events");
}

#[test]
fn the_playback_callback_allocates_nothing() {
    use attune::audio::output::{PlayState, PlaybackCallback};
    use std::sync::Arc;
    let samples: Arc<[f32]> = varied_signal(16_000, 3.0, 3).into();
    let state = Arc::new(PlayState::default());
    let mut f32_cb = PlaybackCallback::new(Arc::clone(&samples), Arc::clone(&state), 48_000, 2);
    let mut i16_cb = PlaybackCallback::new(Arc::clone(&samples), Arc::clone(&state), 44_100, 1);
    let mut out_f32 = vec![0f32; 2 * 480];
    let mut out_i16 = vec![0i16; 441];
    state.play(0.5, Some(2.5), samples.len() as u64);
    reset_violation_count();
    assert_no_alloc(|| {
        for _ in 0..100 {
            f32_cb.fill(&mut out_f32);
            i16_cb.fill(&mut out_i16);
        }
    });
    assert_eq!(violation_count(), 0, "the output callback allocated");
    assert!(state.position_secs() > 0.5, "playback moved on");
}
