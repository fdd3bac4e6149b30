//! Pure signal processing. Everything here is allocation-free after `new` and runs on the
//! thread that owns the [`crate::analysis::Analyzer`].

pub mod filter;
pub mod noise;
pub mod pitch;
pub mod resample;
pub mod spectral_noise;
pub mod tracker;
pub mod voice;

/// Power (mean square) to dBFS, floored at -120 dB.
pub fn power_to_db(power: f64) -> f32 {
    (10.0 * power.max(1e-12).log10()) as f32
}

/// dB to power.
pub fn db_to_power(db: f32) -> f64 {
    10f64.powf(f64::from(db) / 10.0)
}
