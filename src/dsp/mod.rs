//! Pure signal processing. Everything here is allocation-free after `new` and runs on the
//! thread that owns the [`crate::analysis::Analyzer`].

pub mod filter;
pub mod noise;
pub mod pitch;
pub mod resample;
pub mod spectral_noise;
pub mod tracker;
pub mod voice;

/// The level (dBFS) given to silence, to frames too short to measure and to empty
/// histories: the floor of [`power_to_db`].
pub const SILENCE_DBFS: f32 = -120.0;

/// Power (mean square) to dBFS, floored at [`SILENCE_DBFS`].
pub fn power_to_db(power: f64) -> f32 {
    (10.0 * power.max(1e-12).log10()) as f32
}

/// dB to power.
pub fn db_to_power(db: f32) -> f64 {
    10f64.powf(f64::from(db) / 10.0)
}

/// The pitch `f0_hz` in semitones above `ref_hz` (negative below). Any thread.
pub fn semitones(f0_hz: f32, ref_hz: f32) -> f32 {
    12.0 * (f0_hz / ref_hz).log2()
}

/// [`semitones`] in double precision, for drawing. Any thread.
pub fn semitones_f64(f0_hz: f64, ref_hz: f64) -> f64 {
    12.0 * (f0_hz / ref_hz).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_octave_is_twelve_semitones_and_silence_is_the_db_floor() {
        assert_eq!(semitones(440.0, 220.0), 12.0);
        assert_eq!(semitones_f64(100.0, 200.0), -12.0);
        assert_eq!(power_to_db(0.0), SILENCE_DBFS);
    }
}
