//! Speed of the analysis: the pitch detector per frame, the Analyzer per 10 ms block, and a
//! whole-file run (decode + pitch + onsets + vocalisations) on the bundled demo session.
//! `cargo bench --bench analysis`; throughput is in audio samples per second (16 kHz: divide by
//! 16 000 for "x real time").

use std::f64::consts::PI;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use attune::analysis::Analyzer;
use attune::audio::decode::{ChannelSelect, Decoder};
use attune::config::AnalysisConfig;
use attune::dsp::pitch::PitchAnalyzer;
use attune::events::Event;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Syllables of a gliding voice-like tone over a quiet noise floor, `secs` long at 16 kHz.
fn vocal_signal(secs: f64) -> Vec<f32> {
    let n = (secs * 16_000.0) as usize;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / 16_000.0;
            let cycle = t % 1.5;
            let f0 = 200.0 + 120.0 * (cycle / 1.5);
            phase += 2.0 * PI * f0 / 16_000.0;
            let env = if cycle < 0.9 {
                (cycle / 0.05).min(1.0).min((0.9 - cycle) / 0.05)
            } else {
                0.0
            };
            let voice: f64 = (1..12).map(|h| (h as f64 * phase).sin() / h as f64).sum();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            (0.3 * env * voice + 0.002 * noise) as f32
        })
        .collect()
}

/// One voiced frame, with the room's steady noise learnt first (as in a session), so that the
/// noise removal runs too.
fn pitch_frame(c: &mut Criterion) {
    let mut pa = PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
    let x = vocal_signal(1.5);
    let len = pa.frame_len();
    // 0.95-1.45 s of the signal is the noise floor between syllables.
    for start in (15_200..23_000 - len).step_by(160) {
        pa.observe_noise(&x[start..start + len]);
    }
    let frame = &x[4000..4000 + len];
    c.bench_function("pitch_frame", |b| {
        b.iter(|| black_box(pa.analyze(black_box(frame))))
    });
}

fn analyzer_block_10ms(c: &mut Criterion) {
    let x = vocal_signal(30.0);
    let mut an = Analyzer::new(&AnalysisConfig::default(), 16_000).expect("valid settings");
    let mut events: Vec<Event> = Vec::with_capacity(1024);
    an.process(&x[..32_000], &mut events);
    let mut pos = 32_000;
    let mut group = c.benchmark_group("analyzer_block_10ms");
    group.throughput(Throughput::Elements(160));
    group.bench_function("16kHz", |b| {
        b.iter(|| {
            if pos + 160 > x.len() {
                pos = 32_000;
            }
            an.process(black_box(&x[pos..pos + 160]), &mut events);
            pos += 160;
            events.clear();
        })
    });
    group.finish();
}

fn whole_file(c: &mut Criterion) {
    let x = vocal_signal(60.0);
    let mut group = c.benchmark_group("whole_file");
    group.throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("synthetic_60s", |b| {
        b.iter(|| {
            let mut an = Analyzer::new(&AnalysisConfig::default(), 16_000).expect("valid settings");
            let mut events = Vec::with_capacity(8192);
            let mut n = 0;
            for block in x.chunks(4096) {
                an.process(block, &mut events);
                n += events.len();
                events.clear();
            }
            an.finish(&mut events);
            black_box(n + events.len())
        })
    });
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo_session.wav");
    let samples = {
        let mut d = Decoder::open(&demo, ChannelSelect::Downmix).expect("demo session");
        let mut n = 0u64;
        while let Ok(Some(b)) = d.next_block() {
            n += b.len() as u64;
        }
        n
    };
    group.throughput(Throughput::Elements(samples));
    group.bench_function("demo_session_decode_and_analyze", |b| {
        b.iter(|| {
            let mut d = Decoder::open(&demo, ChannelSelect::Downmix).expect("demo session");
            let mut an = Analyzer::new(&AnalysisConfig::default(), d.info().sample_rate_hz)
                .expect("valid settings");
            let mut events = Vec::with_capacity(8192);
            let mut n = 0;
            while let Ok(Some(block)) = d.next_block() {
                an.process(block, &mut events);
                n += events.len();
                events.clear();
            }
            an.finish(&mut events);
            black_box(n + events.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = pitch_frame, analyzer_block_10ms, whole_file
}
criterion_main!(benches);
