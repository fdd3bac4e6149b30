//! Runs the pitch detector on one voiced frame many times, for profiling with callgrind:
//! `valgrind --tool=callgrind target/release/examples/pitch_frame_profile`
fn main() {
    let mut pa = attune::dsp::pitch::PitchAnalyzer::new(16_000.0, 55.0, 1500.0);
    let frame: Vec<f32> = (0..pa.frame_len())
        .map(|i| {
            let p = 2.0 * std::f32::consts::PI * 180.0 * i as f32 / 16_000.0;
            (1..10)
                .map(|h| (h as f32 * p).sin() / h as f32)
                .sum::<f32>()
                * 0.3
        })
        .collect();
    let mut n = 0;
    for _ in 0..2000 {
        n += std::hint::black_box(pa.analyze(std::hint::black_box(&frame))).n_candidates;
    }
    println!("{n}");
}
