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
