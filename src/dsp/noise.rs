//! Noise-floor tracking by minimum statistics: the floor is the lowest frame level seen over
//! the last few seconds, so it follows a changing room (a fan switched on, a door opened)
//! without ever being pulled up by the voice itself unless the voice lasts that long.

/// Sub-windows kept; the floor is the minimum over them.
const SUB_WINDOWS: usize = 8;

/// Tracks the noise floor of a stream of frame levels. Allocation-free.
#[derive(Debug, Clone)]
pub struct NoiseFloor {
    frames_per_sub: usize,
    minima: [f32; SUB_WINDOWS],
    head: usize,
    filled: usize,
    current_min: f32,
    in_current: usize,
}

impl NoiseFloor {
    /// A tracker over about `window_frames` frames.
    pub fn new(window_frames: usize) -> Self {
        Self {
            frames_per_sub: (window_frames / SUB_WINDOWS).max(1),
            minima: [f32::INFINITY; SUB_WINDOWS],
            head: 0,
            filled: 0,
            current_min: f32::INFINITY,
            in_current: 0,
        }
    }

    /// Adds one frame level (dB). Analysis thread.
    pub fn push(&mut self, level_db: f32) {
        self.current_min = self.current_min.min(level_db);
        self.in_current += 1;
        if self.in_current == self.frames_per_sub {
            self.minima[self.head] = self.current_min;
            self.head = (self.head + 1) % SUB_WINDOWS;
            self.filled = (self.filled + 1).min(SUB_WINDOWS);
            self.current_min = f32::INFINITY;
            self.in_current = 0;
        }
    }

    /// The current floor (dB); infinity before any frame.
    pub fn floor_db(&self) -> f32 {
        self.minima[..]
            .iter()
            .take(SUB_WINDOWS)
            .fold(self.current_min, |m, &v| m.min(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_rising_floor_and_ignores_short_loud_sounds() {
        let mut nf = NoiseFloor::new(300);
        for i in 0..600 {
            // -60 dB room with a 1 s loud vocalisation in the middle.
            nf.push(if (200..300).contains(&i) {
                -10.0
            } else {
                -60.0
            });
        }
        assert!((nf.floor_db() + 60.0).abs() < 1e-3);
        for _ in 0..400 {
            nf.push(-40.0);
        }
        assert!((nf.floor_db() + 40.0).abs() < 1e-3);
    }
}

/// Level bins of 0.5 dB from [`super::SILENCE_DBFS`] to 0 dB.
const BINS: usize = 240;

/// A running percentile of frame levels over a sliding window: the typical background level
/// even when the background is itself busy (a room full of talk), where the minimum is far
/// below what the ear hears as the background. Allocation-free after `new`.
#[derive(Debug, Clone)]
pub struct LevelPercentile {
    counts: [u32; BINS],
    ring: Vec<u8>,
    head: usize,
    filled: usize,
    quantile: f32,
}

impl LevelPercentile {
    /// Tracks the `quantile` (0-1) of the last `window_frames` levels.
    pub fn new(window_frames: usize, quantile: f32) -> Self {
        Self {
            counts: [0; BINS],
            ring: vec![0; window_frames.max(1)],
            head: 0,
            filled: 0,
            quantile: quantile.clamp(0.0, 1.0),
        }
    }

    /// Adds one frame level (dB). Analysis thread.
    pub fn push(&mut self, level_db: f32) {
        let bin = ((level_db - super::SILENCE_DBFS) * 2.0).clamp(0.0, (BINS - 1) as f32) as usize;
        if self.filled == self.ring.len() {
            let old = usize::from(self.ring[self.head]);
            self.counts[old] -= 1;
        } else {
            self.filled += 1;
        }
        self.ring[self.head] = bin as u8;
        self.counts[bin] += 1;
        self.head = (self.head + 1) % self.ring.len();
    }

    /// The current percentile (dB); [`super::SILENCE_DBFS`] before any frame.
    pub fn level_db(&self) -> f32 {
        let target = (self.quantile * self.filled.saturating_sub(1) as f32).round() as u32;
        let mut seen = 0u32;
        for (bin, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > target {
                return bin as f32 / 2.0 + super::SILENCE_DBFS;
            }
        }
        super::SILENCE_DBFS
    }
}

#[cfg(test)]
mod percentile_tests {
    use super::*;

    #[test]
    fn tracks_the_typical_background_of_a_busy_room() {
        let mut p = LevelPercentile::new(500, 0.3);
        // Background talk fluctuating between -45 and -35 dB, a loud voice 20 % of the time.
        for i in 0..1000 {
            let level = if i % 5 == 0 {
                -10.0
            } else {
                -45.0 + (i % 11) as f32
            };
            p.push(level);
        }
        let bg = p.level_db();
        assert!((-45.0..=-38.0).contains(&bg), "{bg}");
    }
}
