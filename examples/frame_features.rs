//! Prints the per-frame features the pitch tracker sees, for tuning and diagnosis:
//! `cargo run --release --example frame_features -- FILE.wav > frames.csv`
//! Columns: time_s, level_db, floor_db, then up to six candidates as f0_hz/strength pairs.

use attune::audio::decode::{ChannelSelect, Decoder};
use attune::config::ANALYSIS_RATE_HZ;
use attune::dsp::filter::VoiceBand;
use attune::dsp::noise::NoiseFloor;
use attune::dsp::pitch::PitchAnalyzer;
use attune::dsp::resample::StreamResampler;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: frame_features FILE"))?;
    let mut dec = Decoder::open(std::path::Path::new(&path), ChannelSelect::Downmix)?;
    let mut rs = StreamResampler::new(dec.info().sample_rate_hz)?;
    let mut x = Vec::new();
    while let Some(b) = dec.next_block()? {
        rs.process(b, &mut |s| x.extend_from_slice(s));
    }
    rs.finish(&mut |s| x.extend_from_slice(s));
    let rate = f64::from(ANALYSIS_RATE_HZ);
    let mut band = VoiceBand::new(rate);
    let x: Vec<f32> = x.iter().map(|&v| band.process(v)).collect();
    let mut pa = PitchAnalyzer::new(rate, 55.0, 1500.0);
    let (len, off) = (pa.frame_len(), pa.centre_offset());
    let mut padded = vec![0.0f32; off];
    padded.extend_from_slice(&x);
    padded.resize(padded.len() + len, 0.0);
    let mut nf = NoiseFloor::new(300);
    println!("time_s,level_db,floor_db,c1_hz,c1_s,c2_hz,c2_s,c3_hz,c3_s,c4_hz,c4_s,c5_hz,c5_s,c6_hz,c6_s");
    let frames = x.len().div_ceil(160);
    for k in 0..frames {
        let f = pa.analyze(&padded[k * 160..k * 160 + len]);
        nf.push(f.level_db);
        let mut line = format!(
            "{:.2},{:.2},{:.2}",
            k as f64 / 100.0,
            f.level_db,
            nf.floor_db()
        );
        for i in 0..6 {
            let c = f.candidates.get(i).filter(|_| i < f.n_candidates);
            match c {
                Some(c) => line += &format!(",{:.1},{:.3}", c.f0_hz, c.strength),
                None => line += ",0,0",
            }
        }
        println!("{line}");
    }
    Ok(())
}
